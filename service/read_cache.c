/* service/read_cache: database-backed answers kept while the read generation stays the same
 * (service/read_cache.h). No SQL here (core/readgen reads the generation); nothing decides
 * access: a key carries the role and scope its answer was built for. */
#include "service/read_cache.h"
#include "core/config.h"
#include "core/mem.h"
#include "core/readgen.h"
#include "core/vn.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the generation, one query in flight ------------------------------------------------ */

static pthread_mutex_t gen_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gen_cv = PTHREAD_COND_INITIALIZER;
static uint64_t gen_started, gen_done, gen_failed; /* query numbers */
static int gen_in_flight;
static int64_t gen_value; /* what query gen_done read */

int svc_read_generation(cs_db *db, int64_t *gen, cs_error *err)
{
    pthread_mutex_lock(&gen_mu);
    /* a query numbered above every one started so far begins after this call did */
    uint64_t want = gen_started + 1;
    while (gen_done < want && gen_failed < want) {
        if (gen_in_flight) {
            pthread_cond_wait(&gen_cv, &gen_mu);
            continue;
        }
        gen_in_flight = 1;
        uint64_t n = ++gen_started;
        pthread_mutex_unlock(&gen_mu);
        int64_t g = 0;
        cs_error e;
        cs_error_clear(&e);
        int rc = cs_readgen_get(db, &g, &e);
        pthread_mutex_lock(&gen_mu);
        gen_in_flight = 0;
        if (rc) {
            gen_failed = n;
            *err = e;
        } else {
            gen_done = n;
            gen_value = g;
        }
        pthread_cond_broadcast(&gen_cv);
    }
    int ok = gen_done >= want;
    if (ok) *gen = gen_value;
    pthread_mutex_unlock(&gen_mu);
    if (!ok && err->code == CS_OK) cs_error_set(err, CS_E_DB, "read generation");
    return ok ? 0 : -1;
}

int svc_read_generation_req(svc_req *r, cs_db *db, int64_t *gen)
{
    if (r->read_gen1) {
        *gen = r->read_gen1 - 1;
        return 0;
    }
    cs_error e;
    cs_error_clear(&e);
    if (svc_read_generation(db, gen, &e)) return -1;
    r->read_gen1 = *gen + 1;
    return 0;
}

int svc_read_cache_on(void)
{
    return cs_cfg_int("http.read_cache_bytes") > 0;
}

/* ---- the answers --------------------------------------------------------------------------- */

#define RC_BUCKETS 256
#define RC_ENTRIES_MAX 1024
#define RC_ETAG_LEN 24

typedef struct rc_blob {
    atomic_uint refs;
    size_t len;
    char etag[RC_ETAG_LEN];
    char data[]; /* len bytes */
} rc_blob;

typedef struct rc_ent {
    char *key;
    uint64_t hash;
    int64_t gen;
    uint64_t used; /* tick of the last hit: the least recently used goes first */
    rc_blob *blob;
    struct rc_ent *next;
} rc_ent;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static rc_ent *buckets[RC_BUCKETS];
static size_t nentries, nbytes;
static uint64_t tick;
static atomic_uint_fast64_t hits, misses;

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void blob_release(rc_blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) cs_free(b);
}

static void ent_free(rc_ent *e)
{
    nbytes -= e->blob->len + strlen(e->key);
    nentries--;
    blob_release(e->blob);
    cs_free(e->key);
    cs_free(e);
}

/* unlink and free the entry for key (mu held) */
static void drop_key(const char *key, uint64_t h)
{
    for (rc_ent **pp = &buckets[h % RC_BUCKETS]; *pp; pp = &(*pp)->next) {
        rc_ent *e = *pp;
        if (e->hash == h && !strcmp(e->key, key)) {
            *pp = e->next;
            ent_free(e);
            return;
        }
    }
}

/* drop the least recently used entry (mu held) */
static void drop_oldest(void)
{
    rc_ent **victim = NULL;
    for (size_t b = 0; b < RC_BUCKETS; b++)
        for (rc_ent **pp = &buckets[b]; *pp; pp = &(*pp)->next)
            if (!victim || (*pp)->used < (*victim)->used) victim = pp;
    if (!victim) return;
    rc_ent *e = *victim;
    *victim = e->next;
    ent_free(e);
}

static size_t limit_bytes(void)
{
    long v = cs_cfg_int("http.read_cache_bytes");
    return v > 0 ? (size_t)v : 0;
}

/* 200 with the bytes and their ETag, or 304 when the client holds them already */
static int reply_blob(svc_req *r, const rc_blob *b)
{
    const char *inm = svc_header(r, "If-None-Match");
    if (inm && (strstr(inm, b->etag) || !strcmp(inm, "*"))) {
        if (svc_reply_empty(r, 304)) return -1;
        return svc_add_header(r, "ETag", b->etag);
    }
    const char *hdr[] = {"ETag", b->etag, NULL};
    return svc_reply_bytes(r, 200, "application/json", b->data, b->len, hdr);
}

int svc_read_cache_key(const svc_req *r, char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= n) return -1;
    size_t o = (size_t)w;
    vn_date d = vn_today();
    w = snprintf(out + o, n - o, "|role=%u|lang=%d|day=%04d-%02d-%02d|communes=", r->actor.role,
                 (int)r->lang, d.y, d.m, d.d);
    if (w < 0 || (size_t)w >= n - o) return -1;
    o += (size_t)w;
    for (size_t i = 0; i < r->actor.ncommunes; i++) {
        w = snprintf(out + o, n - o, "%s,", r->actor.communes[i]);
        if (w < 0 || (size_t)w >= n - o) return -1;
        o += (size_t)w;
    }
    return 0;
}

int svc_read_cache_reply(svc_req *r, cs_db *db, const char *key, int64_t *gen)
{
    *gen = -1;
    if (!limit_bytes()) return 0;
    if (svc_read_generation_req(r, db, gen)) {
        *gen = -1;
        return 0;
    }
    uint64_t h = fnv(key, strlen(key));
    rc_blob *b = NULL;
    pthread_mutex_lock(&mu);
    for (rc_ent *x = buckets[h % RC_BUCKETS]; x; x = x->next)
        if (x->hash == h && !strcmp(x->key, key)) {
            if (x->gen == *gen) {
                b = x->blob;
                atomic_fetch_add(&b->refs, 1);
                x->used = ++tick;
            } else {
                drop_key(key, h); /* built before a write: never good again */
            }
            break;
        }
    pthread_mutex_unlock(&mu);
    if (!b) {
        atomic_fetch_add(&misses, 1);
        return 0;
    }
    atomic_fetch_add(&hits, 1);
    int rc = reply_blob(r, b);
    blob_release(b);
    return rc ? -1 : 1;
}

int svc_read_cache_put_reply(svc_req *r, const char *key, int64_t gen, json_t *body)
{
    /* the same text svc_reply_json sends */
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text) return -1;
    size_t len = strlen(text);
    rc_blob *b = cs_malloc(sizeof *b + len);
    if (!b) {
        free(text);
        return -1;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    memcpy(b->data, text, len);
    free(text);
    /* the ETag names the bytes: the same answer after an unrelated write keeps its tag */
    snprintf(b->etag, sizeof b->etag, "\"%016llx\"", (unsigned long long)fnv(b->data, len));
    size_t lim = limit_bytes(), klen = strlen(key);
    if (gen >= 0 && lim && len + klen <= lim / 4) {
        rc_ent *e = cs_calloc(1, sizeof *e);
        char *k = cs_strdup(key);
        if (e && k) {
            uint64_t h = fnv(key, klen);
            e->key = k;
            e->hash = h;
            e->gen = gen;
            e->blob = b;
            atomic_fetch_add(&b->refs, 1);
            pthread_mutex_lock(&mu);
            drop_key(key, h);
            while (nentries && (nentries >= RC_ENTRIES_MAX || nbytes + len + klen > lim))
                drop_oldest();
            e->used = ++tick;
            e->next = buckets[h % RC_BUCKETS];
            buckets[h % RC_BUCKETS] = e;
            nentries++;
            nbytes += len + klen;
            pthread_mutex_unlock(&mu);
        } else {
            cs_free(e);
            cs_free(k);
        }
    }
    int rc = reply_blob(r, b);
    blob_release(b);
    return rc;
}

size_t svc_read_cache_count(void)
{
    pthread_mutex_lock(&mu);
    size_t n = nentries;
    pthread_mutex_unlock(&mu);
    return n;
}

void svc_read_cache_stats(uint64_t *h, uint64_t *m)
{
    *h = atomic_load(&hits);
    *m = atomic_load(&misses);
}

void svc_read_cache_free(void)
{
    pthread_mutex_lock(&mu);
    for (size_t b = 0; b < RC_BUCKETS; b++)
        while (buckets[b]) {
            rc_ent *e = buckets[b];
            buckets[b] = e->next;
            ent_free(e);
        }
    tick = 0;
    pthread_mutex_unlock(&mu);
}
