/* service/status_cache: nginx-style microcaching of the owner status answer, in this process's
 * memory only. It never checks a PIN, never touches the database and never stores a PIN.
 *
 * Why: every status request otherwise runs the PIN check and the view (three statements), and
 * owners reload the page; the answer changes rarely and may be a second or two old.
 *
 * How it stays safe:
 * - An entry is made only after the full check (core/households: locks, throttle, audit)
 *   accepted (code, PIN) from this client. It holds a keyed MAC (cs_blind_index, own domain) of
 *   (code, PIN, client address), never the PIN: another PIN, a wrong PIN, or the right PIN from
 *   another address does not match and takes the normal, throttled path. A client locked out
 *   can therefore not tell a right guess from a wrong one through the cache.
 * - Wrong PINs never create entries; a flood of unknown codes leaves the table empty.
 * - Invalidation by generation counters: one for everything, one per household code slot, one
 *   per client address slot (hashed into fixed arrays; two codes sharing a slot only cost each
 *   other a miss). A drop bumps the counter and frees the entries; a stored entry remembers the
 *   counters of the ticket taken before its database work and is served only while they are
 *   unchanged, so a write that commits during a miss's check is never hidden.
 * - Across processes (a second `choso serve`, the worker changing listings) nothing is
 *   signalled: a change there shows here at most status.cache_ms later. Locks set by another
 *   process likewise reach a client's cached answer only when it expires.
 *
 * Bounded: a fixed table of status.cache_entries slots, direct-mapped by (code, language) — a
 * new entry evicts whatever shares its slot — and at most status.cache_bytes of answers (the
 * check and the add are not one atomic step across stripes, so concurrent puts may pass it by a
 * few answers). 16 striped mutexes; no lock is held during database work or while replying. */
#include "service/status_cache.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/mem.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SC_STRIPES 16
#define SC_GENS 4096
#define SC_CODE_MAX 24

struct svc_sc_blob {
    atomic_uint refs;
    size_t len;
    char data[];
};

typedef struct sc_entry {
    svc_sc_blob *body; /* NULL: free slot */
    char code[SC_CODE_MAX];
    unsigned char lang;
    unsigned char mac[32];
    unsigned client_slot;
    svc_sc_ticket gen;
    uint64_t made_ms, until_ms;
} sc_entry;

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stripe_mu[SC_STRIPES] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};
static _Atomic(sc_entry *) table;
static size_t nslots; /* written under init_mu before table is published */
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;
static uint64_t seed; /* set once, before any hash: slots an outsider cannot aim at */
static atomic_size_t n_entries, n_bytes;
static atomic_uint_fast64_t gen_all, gen_code[SC_GENS], gen_client[SC_GENS];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void seed_init(void)
{
    if (cs_random(&seed, sizeof seed)) seed = now_ms() * 0x9E3779B97F4A7C15ull;
}

/* FNV-1a over the seed, a tag byte and the string. */
static uint64_t hash(unsigned char tag, const char *s)
{
    pthread_once(&seed_once, seed_init);
    uint64_t h = 1469598103934665603ull ^ seed;
    h = (h ^ tag) * 1099511628211ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static unsigned code_gen_slot(const char *code)
{
    return (unsigned)(hash(0xC0, code) % SC_GENS);
}
static unsigned client_gen_slot(const char *client)
{
    return (unsigned)(hash(0xC1, client) % SC_GENS);
}

/* The table, made on first use with the sizes configured then; NULL when out of memory. */
static sc_entry *table_get(int create)
{
    sc_entry *t = atomic_load_explicit(&table, memory_order_acquire);
    if (t || !create) return t;
    pthread_mutex_lock(&init_mu);
    t = atomic_load_explicit(&table, memory_order_relaxed);
    if (!t) {
        long n = cs_cfg_int("status.cache_entries");
        t = cs_calloc((size_t)(n > 0 ? n : 1), sizeof *t);
        if (t) {
            nslots = (size_t)(n > 0 ? n : 1);
            atomic_store_explicit(&table, t, memory_order_release);
        }
    }
    pthread_mutex_unlock(&init_mu);
    return t;
}

static size_t slot_of(const char *code, cs_lang lang)
{
    return (size_t)(hash(lang == CS_LANG_EN ? 0xE1 : 0xE0, code) % nslots);
}

/* MAC of (code, PIN, client), length-prefixed so no two triples share an input. 0 or -1 (too
 * long to be a real request, or no keys): the caller then neither reads nor stores. */
static int mac_of(const char *code, const char *pin, const char *client, unsigned char out[32])
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%zu:%s|%zu:%s|%zu:%s", strlen(code), code, strlen(pin), pin,
                     strlen(client), client);
    int rc = n < 0 || (size_t)n >= sizeof buf ? -1 : cs_blind_index("status-cache", buf, out);
    explicit_bzero(buf, sizeof buf);
    return rc;
}

static void ticket_now(unsigned cslot, unsigned clslot, svc_sc_ticket *t)
{
    t->all = atomic_load(&gen_all);
    t->code = atomic_load(&gen_code[cslot]);
    t->client = atomic_load(&gen_client[clslot]);
}

static int ticket_live(const svc_sc_ticket *t, unsigned cslot, unsigned clslot)
{
    return t->all == atomic_load(&gen_all) && t->code == atomic_load(&gen_code[cslot]) &&
           t->client == atomic_load(&gen_client[clslot]);
}

void svc_sc_blob_release(svc_sc_blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) cs_free(b);
}

const char *svc_sc_blob_data(const svc_sc_blob *b, size_t *len)
{
    *len = b->len;
    return b->data;
}

/* Empty slot e (its stripe locked); returns the body for the caller to release unlocked. */
static svc_sc_blob *detach(sc_entry *e)
{
    svc_sc_blob *b = e->body;
    if (!b) return NULL;
    atomic_fetch_sub(&n_bytes, sizeof *b + b->len);
    atomic_fetch_sub(&n_entries, 1);
    memset(e, 0, sizeof *e);
    return b;
}

svc_sc_blob *svc_status_cache_get(const char *code, cs_lang lang, const char *pin,
                                  const char *client, unsigned *age_s)
{
    *age_s = 0;
    long ms = cs_cfg_int("status.cache_ms");
    if (!code || !pin || !client || strlen(code) >= SC_CODE_MAX || ms <= 0) return NULL;
    sc_entry *t = table_get(0);
    if (!t) return NULL;
    unsigned char mac[32];
    if (mac_of(code, pin, client, mac)) return NULL;
    size_t i = slot_of(code, lang);
    unsigned cslot = code_gen_slot(code);
    uint64_t now = now_ms();
    svc_sc_blob *hit = NULL, *stale = NULL;
    pthread_mutex_lock(&stripe_mu[i % SC_STRIPES]);
    sc_entry *e = &t[i];
    if (e->body && e->lang == (unsigned char)lang && !strcmp(e->code, code)) {
        /* the lifetime is the one configured now, should it have been shortened since */
        if (now >= e->until_ms || now - e->made_ms >= (uint64_t)ms ||
            !ticket_live(&e->gen, cslot, e->client_slot)) {
            stale = detach(e);
        } else if (cs_ct_equal(e->mac, mac, sizeof mac)) {
            hit = e->body;
            atomic_fetch_add(&hit->refs, 1);
            *age_s = (unsigned)((now - e->made_ms) / 1000u);
        }
    }
    pthread_mutex_unlock(&stripe_mu[i % SC_STRIPES]);
    svc_sc_blob_release(stale);
    explicit_bzero(mac, sizeof mac);
    return hit;
}

void svc_status_cache_ticket(const char *code, const char *client, svc_sc_ticket *t)
{
    ticket_now(code_gen_slot(code ? code : ""), client_gen_slot(client ? client : ""), t);
}

void svc_status_cache_put(const char *code, cs_lang lang, const char *pin, const char *client,
                          const svc_sc_ticket *tk, const char *body, size_t len)
{
    long ms = cs_cfg_int("status.cache_ms");
    size_t cap = (size_t)cs_cfg_int("status.cache_bytes");
    if (!code || !pin || !client || !body || ms <= 0 || strlen(code) >= SC_CODE_MAX ||
        len > cap - sizeof(svc_sc_blob))
        return;
    sc_entry *t = table_get(1);
    unsigned char mac[32];
    if (!t || mac_of(code, pin, client, mac)) return;
    svc_sc_blob *b = cs_malloc(sizeof *b + len);
    if (!b) return;
    atomic_init(&b->refs, 1);
    b->len = len;
    memcpy(b->data, body, len);
    size_t i = slot_of(code, lang);
    unsigned cslot = code_gen_slot(code), clslot = client_gen_slot(client);
    uint64_t now = now_ms();
    svc_sc_blob *old = NULL;
    pthread_mutex_lock(&stripe_mu[i % SC_STRIPES]);
    sc_entry *e = &t[i];
    size_t old_size = e->body ? sizeof *e->body + e->body->len : 0;
    if (ticket_live(tk, cslot, clslot) &&
        atomic_load(&n_bytes) - old_size + sizeof *b + len <= cap) {
        old = detach(e);
        e->body = b;
        b = NULL;
        memcpy(e->code, code, strlen(code) + 1);
        e->lang = (unsigned char)lang;
        memcpy(e->mac, mac, sizeof mac);
        e->client_slot = clslot;
        e->gen = *tk;
        e->made_ms = now;
        e->until_ms = now + (uint64_t)ms;
        atomic_fetch_add(&n_bytes, sizeof *e->body + len);
        atomic_fetch_add(&n_entries, 1);
    }
    pthread_mutex_unlock(&stripe_mu[i % SC_STRIPES]);
    svc_sc_blob_release(old);
    if (b) cs_free(b);
    explicit_bzero(mac, sizeof mac);
}

/* Free the entries of `code` in both languages (its generation already bumped). */
static void drop_entries(const char *code)
{
    sc_entry *t = table_get(0);
    if (!t || strlen(code) >= SC_CODE_MAX) return;
    const cs_lang langs[] = {CS_LANG_VI, CS_LANG_EN};
    for (size_t k = 0; k < sizeof langs / sizeof langs[0]; k++) {
        size_t i = slot_of(code, langs[k]);
        svc_sc_blob *old = NULL;
        pthread_mutex_lock(&stripe_mu[i % SC_STRIPES]);
        if (t[i].body && !strcmp(t[i].code, code)) old = detach(&t[i]);
        pthread_mutex_unlock(&stripe_mu[i % SC_STRIPES]);
        svc_sc_blob_release(old);
    }
}

void svc_status_cache_drop(const char *code)
{
    if (!code) return;
    atomic_fetch_add(&gen_code[code_gen_slot(code)], 1);
    drop_entries(code);
}

void svc_status_cache_failed(const char *code, const char *client)
{
    /* the client's other entries are not searched for: their stored client generation no
       longer matches, so the next look-up frees them */
    if (client) atomic_fetch_add(&gen_client[client_gen_slot(client)], 1);
    svc_status_cache_drop(code);
}

/* Free every entry; with `all` bumped first when invalidating. */
static void free_all(void)
{
    sc_entry *t = table_get(0);
    if (!t) return;
    for (size_t i = 0; i < nslots; i++) {
        pthread_mutex_lock(&stripe_mu[i % SC_STRIPES]);
        svc_sc_blob *old = detach(&t[i]);
        pthread_mutex_unlock(&stripe_mu[i % SC_STRIPES]);
        svc_sc_blob_release(old);
    }
}

void svc_status_cache_clear(void)
{
    atomic_fetch_add(&gen_all, 1);
    free_all();
}

size_t svc_status_cache_count(void)
{
    return atomic_load(&n_entries);
}

void svc_status_cache_free(void)
{
    pthread_mutex_lock(&init_mu);
    atomic_fetch_add(&gen_all, 1);
    free_all();
    sc_entry *t = atomic_exchange(&table, NULL);
    nslots = 0;
    pthread_mutex_unlock(&init_mu);
    cs_free(t);
}
