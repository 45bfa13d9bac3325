/* core/pin: the owner's PIN — issuing a new one, and the throttled sign-in check (per household
 * and per client address, scrypt bounded in parallel, recent successes cached in memory).
 * Knows nothing of HTTP; never stores or logs a PIN in clear. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

// clang-format off
static const char SQL_NEW_PIN[] =
    "UPDATE households"
    " SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL"
    " WHERE code = ? AND status <> 'erased'";
/* the household's PIN state, locked for the check */
enum { PH_ID, PH_HASH, PH_FAILURES, PH_LOCK_LEFT };
static const char SQL_PIN_HOUSEHOLD[] =
    "SELECT id, pin_hash, pin_failures,"
    "  GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), pin_locked_until))"
    " FROM households"
    " WHERE code = ?"
    " FOR UPDATE";
/* the client address's failures in the current window */
enum { PT_FAILURES, PT_WINDOW_AGE, PT_LOCK_LEFT };
static const char SQL_PIN_CLIENT[] =
    "SELECT failures, TIMESTAMPDIFF(SECOND, window_start, UTC_TIMESTAMP()),"
    "  GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), locked_until))"
    " FROM pin_throttle"
    " WHERE client = ?"
    " FOR UPDATE";
static const char SQL_PIN_FORGET[] =
    "UPDATE households"
    " SET pin_failures = 0"
    " WHERE id = ?";
static const char SQL_PIN_FAILED[] =
    "UPDATE households"
    " SET pin_failures = ?,"
    "  pin_locked_until = IF(?, UTC_TIMESTAMP() + INTERVAL ? SECOND, NULL)"
    " WHERE id = ?";
static const char SQL_PIN_CLIENT_FAILED[] =
    "INSERT INTO pin_throttle (client, failures, window_start, locked_until)"
    " VALUES (?, ?, UTC_TIMESTAMP(), IF(?, UTC_TIMESTAMP() + INTERVAL ? SECOND, NULL))"
    " ON DUPLICATE KEY UPDATE failures = VALUES(failures),"
    "  window_start = IF(? = 1, UTC_TIMESTAMP(), window_start),"
    "  locked_until = VALUES(locked_until)";
/* the fast path's one plain read: both states at once, nothing locked */
enum { PF_ID, PF_HASH, PF_FAILURES, PF_LOCK_LEFT, PF_CLIENT_LOCK_LEFT };
static const char SQL_PIN_FAST[] =
    "SELECT h.id, h.pin_hash, h.pin_failures,"
    "  GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), h.pin_locked_until)),"
    "  (SELECT GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), t.locked_until))"
    "   FROM pin_throttle t WHERE t.client = ?)"
    " FROM households h"
    " WHERE h.code = ?";
// clang-format on

struct pin_ctx {
    const cs_actor *a;
    const char *code;
    char *pin;
};

static int new_pin_tx(cs_db *db, void *arg, cs_error *err)
{
    struct pin_ctx *p = arg;
    char hash[160];
    if (cs_random_pin(p->pin, 6) || cs_pin_hash(p->pin, hash, sizeof hash))
        return cs_error_set(err, CS_E_CRYPTO, "pin");
    int64_t n = cs_db_exec(db, SQL_NEW_PIN, "ss", hash, p->code, err);
    if (n < 0) return -1;
    if (n == 0) return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    return cs_audit(db, p->a, "household.pin_reissued", "household", p->code, NULL, err);
}

int cs_household_new_pin(cs_db *db, const cs_actor *a, const char *code, char pin_out[8],
                         cs_error *err)
{
    struct pin_ctx p = {a, code, pin_out};
    int rc = cs_db_tx(db, new_pin_tx, &p, err);
    if (rc) memset(pin_out, 0, 8);
    return rc;
}

struct check_ctx {
    const char *code, *pin, *client, *request_id;
    int64_t id;
    cs_code verdict;
    unsigned retry_after;
};

/* Correct PINs recently verified, so an owner reloading the page does not pay scrypt (tens of
 * milliseconds and 16 MiB each) every time. An entry is a keyed hash of (code, stored PIN hash,
 * PIN): a re-issued PIN has a new stored hash, so the old one never matches; wrong PINs are
 * never cached and always cost the full hash; locks are checked before the cache. Memory only. */
#define PIN_CACHE_SLOTS 1024
static struct {
    unsigned char tag[32];
    time_t until;
} pin_cache[PIN_CACHE_SLOTS];
static pthread_mutex_t pin_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int pin_tag(const char *code, const char *stored, const char *pin, unsigned char out[32])
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s\x1f%s\x1f%s", code, stored, pin);
    int rc = n < 0 || (size_t)n >= sizeof buf ? -1 : cs_blind_index("pin-verified", buf, out);
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* The verified-PIN cache expires on the monotonic clock: a wall clock stepped back must not
 * keep a verification valid for longer than pin.cache_seconds. */
static time_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static size_t pin_slot(const unsigned char tag[32])
{
    return ((size_t)tag[0] | (size_t)tag[1] << 8) % PIN_CACHE_SLOTS;
}

static int pin_cache_hit(const unsigned char tag[32])
{
    size_t i = pin_slot(tag);
    pthread_mutex_lock(&pin_cache_mu);
    int hit = pin_cache[i].until > mono_s() && cs_ct_equal(pin_cache[i].tag, tag, 32);
    pthread_mutex_unlock(&pin_cache_mu);
    return hit;
}

static void pin_cache_put(const unsigned char tag[32])
{
    long ttl = cs_cfg_int("pin.cache_seconds");
    if (ttl <= 0) return;
    size_t i = pin_slot(tag);
    pthread_mutex_lock(&pin_cache_mu);
    memcpy(pin_cache[i].tag, tag, 32);
    pin_cache[i].until = mono_s() + ttl;
    pthread_mutex_unlock(&pin_cache_mu);
}

/* A fixed hash to verify against when the code is unknown, so both answers take as long.
 * Made once, whichever request thread comes first. */
static char dummy_hash_buf[160];
static int dummy_hash_ready;
static pthread_once_t dummy_hash_once = PTHREAD_ONCE_INIT;

static void dummy_hash_make(void)
{
    dummy_hash_ready = cs_pin_hash("000000", dummy_hash_buf, sizeof dummy_hash_buf) == 0;
}

static const char *dummy_hash(void)
{
    pthread_once(&dummy_hash_once, dummy_hash_make);
    return dummy_hash_ready ? dummy_hash_buf : NULL;
}

/* Each scrypt check takes ~16 MiB and ~50 ms of one CPU: a flood of wrong PINs from many
 * addresses must not run an unbounded number at once. At most pin.max_parallel run in the
 * process; a check that cannot start within 5 s is answered "busy, retry" and counts as no
 * failure (the caller never guessed). */
static sem_t pin_slots;
static pthread_once_t pin_slots_once = PTHREAD_ONCE_INIT;

static void pin_slots_init(void)
{
    sem_init(&pin_slots, 0, (unsigned)cs_cfg_int("pin.max_parallel"));
}

/* 1 verified, 0 not, -1 no slot in time. */
static int pin_verify_bounded(const char *pin, const char *stored)
{
    pthread_once(&pin_slots_once, pin_slots_init);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 5;
    int r;
    while ((r = sem_clockwait(&pin_slots, CLOCK_MONOTONIC, &until)) == -1 && errno == EINTR) {
    }
    if (r == -1) return -1;
    int ok = stored && cs_pin_verify(pin, stored) == 1;
    sem_post(&pin_slots);
    return ok;
}

static int check_tx(cs_db *db, void *arg, cs_error *err)
{
    struct check_ctx *c = arg;
    long maxf = cs_cfg_int("pin.max_failures"), lock = cs_cfg_int("pin.lock_seconds");
    c->verdict = CS_OK;
    c->retry_after = 0;
    cs_rows *h = NULL, *t = NULL;
    int rc = -1;
    if (cs_db_query(db, &h, SQL_PIN_HOUSEHOLD, "s", c->code, err) ||
        cs_db_query(db, &t, SQL_PIN_CLIENT, "s", c->client, err))
        goto out;
    int known = cs_rows_count(h) > 0;
    int64_t hh_lock =
        known && !cs_rows_isnull(h, 0, PH_LOCK_LEFT) ? cs_rows_i64(h, 0, PH_LOCK_LEFT) : 0;
    int64_t cl_lock = cs_rows_count(t) && !cs_rows_isnull(t, 0, PT_LOCK_LEFT)
                          ? cs_rows_i64(t, 0, PT_LOCK_LEFT)
                          : 0;
    if (hh_lock > 0 || cl_lock > 0) {
        c->verdict = CS_E_PIN_LOCKED;
        c->retry_after = (unsigned)(hh_lock > cl_lock ? hh_lock : cl_lock);
        rc = 0;
        goto out;
    }
    const char *stored = known ? cs_rows_strn(h, 0, PH_HASH) : NULL;
    unsigned char tag[32];
    int tagged = stored && !pin_tag(c->code, stored, c->pin, tag);
    int ok = tagged && pin_cache_hit(tag);
    if (!ok) {
        int v = pin_verify_bounded(c->pin, stored ? stored : dummy_hash());
        if (v < 0) {
            c->verdict = CS_E_RATE_LIMITED;
            c->retry_after = 1;
            rc = 0;
            goto out;
        }
        ok = v == 1 && stored;
        if (ok && tagged) pin_cache_put(tag);
    }
    cs_actor owner;
    memset(&owner, 0, sizeof owner);
    owner.kind = CS_ACTOR_OWNER;
    snprintf(owner.id, sizeof owner.id, "%s", known ? c->code : "unknown");
    snprintf(owner.request_id, sizeof owner.request_id, "%s", c->request_id ? c->request_id : "");
    snprintf(owner.client, sizeof owner.client, "%s", c->client);
    if (ok) {
        c->id = cs_rows_i64(h, 0, PH_ID);
        /* a page view writes nothing unless there were failures to forget */
        rc = cs_rows_i64(h, 0, PH_FAILURES) == 0 ||
                     cs_db_exec(db, SQL_PIN_FORGET, "i", c->id, err) >= 0
                 ? 0
                 : -1;
        goto out;
    }
    c->verdict = CS_E_PIN_WRONG;
    int locked = 0;
    if (known) {
        int64_t f = cs_rows_i64(h, 0, PH_FAILURES) + 1;
        if (f >= maxf) locked = 1;
        if (cs_db_exec(db, SQL_PIN_FAILED, "iiii", locked ? (int64_t)0 : f, (int64_t)locked,
                       (int64_t)lock, cs_rows_i64(h, 0, PH_ID), err) < 0)
            goto out;
    }
    /* per client address: failures within a window of lock seconds */
    int64_t cf = 1;
    if (cs_rows_count(t) && cs_rows_i64(t, 0, PT_WINDOW_AGE) < lock)
        cf = cs_rows_i64(t, 0, PT_FAILURES) + 1;
    int clocked = cf >= maxf;
    if (cs_db_exec(db, SQL_PIN_CLIENT_FAILED, "siiii", c->client, clocked ? (int64_t)0 : cf,
                   (int64_t)clocked, (int64_t)lock, cf, err) < 0)
        goto out;
    if (locked || clocked) {
        c->verdict = CS_E_PIN_LOCKED;
        c->retry_after = (unsigned)lock;
    }
    rc =
        cs_audit(db, &owner, locked || clocked ? "owner.pin_locked" : "owner.pin_failed",
                 "household", known ? c->code : NULL,
                 json_pack("{s:b,s:b}", "household_locked", locked, "client_locked", clocked), err);
out:
    cs_rows_free(h);
    cs_rows_free(t);
    return rc;
}

/* The common case — a correct PIN verified a moment ago, nothing locked, no failures to forget —
 * needs no transaction and no row lock: one plain read. Returns 1 (done, *id set), 0 (take the
 * full path) or -1. */
static int check_fast(cs_db *db, const struct check_ctx *c, int64_t *id, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_PIN_FAST, "ss", c->client, c->code, err)) return -1;
    int done = 0;
    unsigned char tag[32];
    const char *stored = cs_rows_count(r) ? cs_rows_strn(r, 0, PF_HASH) : NULL;
    if (stored && cs_rows_i64(r, 0, PF_FAILURES) == 0 &&
        (cs_rows_isnull(r, 0, PF_LOCK_LEFT) || cs_rows_i64(r, 0, PF_LOCK_LEFT) == 0) &&
        (cs_rows_isnull(r, 0, PF_CLIENT_LOCK_LEFT) ||
         cs_rows_i64(r, 0, PF_CLIENT_LOCK_LEFT) == 0) &&
        !pin_tag(c->code, stored, c->pin, tag) && pin_cache_hit(tag)) {
        *id = cs_rows_i64(r, 0, PF_ID);
        done = 1;
    }
    cs_rows_free(r);
    return done;
}

int cs_household_check_pin(cs_db *db, const char *code, const char *pin, const char *client,
                           const char *request_id, int64_t *id, cs_error *err)
{
    struct check_ctx c = {code, pin ? pin : "", client ? client : "", request_id, 0, CS_OK, 0};
    int fast = check_fast(db, &c, id, err);
    if (fast) return fast < 0 ? -1 : 0;
    if (cs_db_tx(db, check_tx, &c, err)) return -1;
    if (c.verdict != CS_OK) {
        cs_error_set(err, c.verdict, NULL);
        err->retry_after = c.retry_after;
        return -1;
    }
    *id = c.id;
    return 0;
}
