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
/* a new PIN starts its household's count afresh (and the waits of every address) */
static const char SQL_NEW_PIN_DAY[] =
    "DELETE FROM pin_day"
    " WHERE code = ?";
static const char SQL_NEW_PIN_PAIRS[] =
    "UPDATE pin_pair"
    " SET failures = 0, window_start = NULL, wait_until = NULL"
    " WHERE code = ?";
/* the household, locked so concurrent guesses at one household are counted one by one */
enum { PH_ID, PH_HASH };
static const char SQL_PIN_HOUSEHOLD[] =
    "SELECT id, pin_hash"
    " FROM households"
    " WHERE code = ?"
    " FOR UPDATE";
/* this address's state for this code: failures in the current 24 h window, the window's age,
 * the wait left, whether the household signed in from here within pin.known_days */
enum { PP_FAILURES, PP_WINDOW_AGE, PP_WAIT_LEFT, PP_KNOWN };
static const char SQL_PIN_PAIR[] =
    "SELECT failures,"
    "  COALESCE(TIMESTAMPDIFF(SECOND, window_start, UTC_TIMESTAMP()), 0),"
    "  GREATEST(0, COALESCE(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), wait_until), 0)),"
    "  COALESCE(last_success >= UTC_TIMESTAMP() - INTERVAL ? DAY, 0)"
    " FROM pin_pair"
    " WHERE code = ? AND client = ?"
    " FOR UPDATE";
/* the household code's wrong PINs today (UTC) from every address */
enum { PD_FAILURES };
static const char SQL_PIN_DAY[] =
    "SELECT failures"
    " FROM pin_day"
    " WHERE code = ? AND day = UTC_DATE()"
    " FOR UPDATE";
/* the client address's failures in the current 24 h window, across all codes */
enum { PT_FAILURES, PT_WINDOW_AGE };
static const char SQL_PIN_CLIENT[] =
    "SELECT failures, TIMESTAMPDIFF(SECOND, window_start, UTC_TIMESTAMP())"
    " FROM pin_throttle"
    " WHERE client = ?"
    " FOR UPDATE";
static const char SQL_PAIR_FAILED[] =
    "INSERT INTO pin_pair (code, client, failures, window_start, wait_until)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL ? SECOND)"
    " ON DUPLICATE KEY UPDATE failures = VALUES(failures),"
    "  window_start = IF(? = 1, UTC_TIMESTAMP(), window_start),"
    "  wait_until = VALUES(wait_until)";
static const char SQL_PAIR_SUCCESS[] =
    "INSERT INTO pin_pair (code, client, failures, last_success)"
    " VALUES (?, ?, 0, UTC_TIMESTAMP())"
    " ON DUPLICATE KEY UPDATE failures = 0, window_start = NULL, wait_until = NULL,"
    "  last_success = UTC_TIMESTAMP()";
static const char SQL_DAY_FAILED[] =
    "INSERT INTO pin_day (code, day, failures)"
    " VALUES (?, UTC_DATE(), 1)"
    " ON DUPLICATE KEY UPDATE failures = failures + 1";
static const char SQL_CLIENT_FAILED[] =
    "INSERT INTO pin_throttle (client, failures, window_start, locked_until)"
    " VALUES (?, ?, UTC_TIMESTAMP(), NULL)"
    " ON DUPLICATE KEY UPDATE failures = VALUES(failures),"
    "  window_start = IF(? = 1, UTC_TIMESTAMP(), window_start)";
/* old counters are forgotten a little at a time, by the failures that make new ones */
static const char SQL_DAY_PRUNE[] =
    "DELETE FROM pin_day"
    " WHERE day < UTC_DATE() - INTERVAL 2 DAY"
    " LIMIT 50";
static const char SQL_PAIR_PRUNE[] =
    "DELETE FROM pin_pair"
    " WHERE window_start < UTC_TIMESTAMP() - INTERVAL 2 DAY"
    "  AND (last_success IS NULL OR last_success < UTC_TIMESTAMP() - INTERVAL ? DAY)"
    " LIMIT 50";
/* the fast path's one plain read: the household and every count that could make it wait */
enum { PF_ID, PF_HASH, PF_PAIR_FAILURES, PF_PAIR_WAIT, PF_KNOWN, PF_CLIENT };
static const char SQL_PIN_FAST[] =
    "SELECT h.id, h.pin_hash,"
    "  (SELECT p.failures FROM pin_pair p WHERE p.code = h.code AND p.client = ?),"
    "  (SELECT GREATEST(0, COALESCE(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), p.wait_until), 0))"
    "   FROM pin_pair p WHERE p.code = h.code AND p.client = ?),"
    "  (SELECT COALESCE(p.last_success >= UTC_TIMESTAMP() - INTERVAL ? DAY, 0)"
    "   FROM pin_pair p WHERE p.code = h.code AND p.client = ?),"
    "  (SELECT t.failures FROM pin_throttle t"
    "   WHERE t.client = ? AND t.window_start > UTC_TIMESTAMP() - INTERVAL 1 DAY)"
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
    if (cs_db_exec(db, SQL_NEW_PIN_DAY, "s", p->code, err) < 0 ||
        cs_db_exec(db, SQL_NEW_PIN_PAIRS, "s", p->code, err) < 0)
        return -1;
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

/* The first PIN of a household that has none (imported households): the guarded UPDATE makes
 * a retry, or two volunteers at once, issue it once — the loser sees a PIN already set. */
// clang-format off
static const char SQL_FIRST_PIN[] =
    "UPDATE households"
    " SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL"
    " WHERE code = ? AND status <> 'erased' AND pin_hash IS NULL";
// clang-format on

struct first_ctx {
    const cs_actor *a;
    const char *code;
    char *pin;
    int had;
};

static int first_pin_tx(cs_db *db, void *arg, cs_error *err)
{
    struct first_ctx *p = arg;
    char hash[160];
    if (cs_random_pin(p->pin, 6) || cs_pin_hash(p->pin, hash, sizeof hash))
        return cs_error_set(err, CS_E_CRYPTO, "pin");
    int64_t n = cs_db_exec(db, SQL_FIRST_PIN, "ss", hash, p->code, err);
    explicit_bzero(hash, sizeof hash);
    if (n < 0) return -1;
    if (n == 0) {
        p->had = 1;
        return 0;
    }
    if (cs_db_exec(db, SQL_NEW_PIN_DAY, "s", p->code, err) < 0 ||
        cs_db_exec(db, SQL_NEW_PIN_PAIRS, "s", p->code, err) < 0)
        return -1;
    return cs_audit(db, p->a, "household.pin_issued", "household", p->code,
                    json_pack("{s:b}", "batch", 1), err);
}

int cs_household_first_pin(cs_db *db, const cs_actor *a, const char *code, char pin_out[8],
                           cs_error *err)
{
    struct first_ctx p = {a, code, pin_out, 0};
    int rc = cs_db_tx(db, first_pin_tx, &p, err);
    if (rc || p.had) memset(pin_out, 0, 8);
    return rc ? -1 : p.had;
}

struct check_ctx {
    const char *code, *pin, *client, *request_id;
    int64_t id;
    cs_code verdict;
    unsigned retry_after, attempts_left;
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

/* The wait after f wrong PINs in a row from one address for one code: none within the free
 * tries, then pin.delay_base_seconds doubling with each further one, at most
 * pin.delay_max_seconds. */
static int64_t pair_wait(int64_t f)
{
    int64_t free_tries = cs_cfg_int("pin.free_tries"), base = cs_cfg_int("pin.delay_base_seconds"),
            max = cs_cfg_int("pin.delay_max_seconds");
    if (f < free_tries) return 0;
    int64_t w = base;
    for (int64_t i = free_tries; i < f && w < max; i++)
        w *= 2;
    return w < max ? w : max;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void refuse(struct check_ctx *c, cs_code why, int64_t wait)
{
    c->verdict = why;
    c->retry_after = (unsigned)(wait > 0 ? wait : 1);
    c->attempts_left = 0;
}

/* The full check, in one transaction. Refusals that come before any PIN is checked (a wait not
 * over, a ceiling reached) count nothing and reveal nothing: the PIN is not even looked at. A
 * wrong PIN adds one to this address's count for the code, to the code's count for the day and
 * to the address's count for the day; the answer says how many tries are left before a wait. */
static int check_tx(cs_db *db, void *arg, cs_error *err)
{
    struct check_ctx *c = arg;
    int64_t daily = cs_cfg_int("pin.daily_max"), client_max = cs_cfg_int("pin.client_daily_max"),
            known_days = cs_cfg_int("pin.known_days"), free_tries = cs_cfg_int("pin.free_tries");
    c->verdict = CS_OK;
    c->retry_after = 0;
    c->attempts_left = 0;
    cs_rows *h = NULL, *pp = NULL, *d = NULL, *t = NULL;
    int rc = -1;
    if (cs_db_query(db, &h, SQL_PIN_HOUSEHOLD, "s", c->code, err) ||
        cs_db_query(db, &pp, SQL_PIN_PAIR, "iss", known_days, c->code, c->client, err) ||
        cs_db_query(db, &d, SQL_PIN_DAY, "s", c->code, err) ||
        cs_db_query(db, &t, SQL_PIN_CLIENT, "s", c->client, err))
        goto out;
    int known = cs_rows_count(h) > 0;
    int has_pair = cs_rows_count(pp) > 0;
    int64_t pair_age = has_pair ? cs_rows_i64(pp, 0, PP_WINDOW_AGE) : 0;
    int64_t pf = has_pair && pair_age < 86400 ? cs_rows_i64(pp, 0, PP_FAILURES) : 0;
    int64_t wait = has_pair ? cs_rows_i64(pp, 0, PP_WAIT_LEFT) : 0;
    int home = has_pair && cs_rows_i64(pp, 0, PP_KNOWN) != 0;
    int64_t df = cs_rows_count(d) ? cs_rows_i64(d, 0, PD_FAILURES) : 0;
    int64_t client_age = cs_rows_count(t) ? cs_rows_i64(t, 0, PT_WINDOW_AGE) : 0;
    int64_t cf = cs_rows_count(t) && client_age < 86400 ? cs_rows_i64(t, 0, PT_FAILURES) : 0;
    int64_t to_midnight = 86400 - (int64_t)(time(NULL) % 86400);
    if (wait > 0) {
        refuse(c, CS_E_PIN_LOCKED, wait);
        rc = 0;
        goto out;
    }
    if (pf >= daily || (!home && df >= daily)) {
        refuse(c, CS_E_PIN_DAILY, pf >= daily ? 86400 - pair_age : to_midnight);
        rc = 0;
        goto out;
    }
    if (cf >= client_max) {
        refuse(c, CS_E_PIN_LOCKED, 86400 - client_age);
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
        /* remembered as this household's address (spared the daily count of strangers); an
         * address already known with nothing stored to forget (even an expired count would
         * keep the fast path away) writes nothing */
        rc = (home && (!has_pair || cs_rows_i64(pp, 0, PP_FAILURES) == 0)) ||
                     cs_db_exec(db, SQL_PAIR_SUCCESS, "ss", c->code, c->client, err) >= 0
                 ? 0
                 : -1;
        goto out;
    }
    int64_t nwait = pair_wait(pf + 1);
    if (cs_db_exec(db, SQL_PAIR_FAILED, "ssiii", c->code, c->client, pf + 1, nwait,
                   (int64_t)(pf == 0), err) < 0 ||
        cs_db_exec(db, SQL_DAY_FAILED, "s", c->code, err) < 0 ||
        cs_db_exec(db, SQL_CLIENT_FAILED, "sii", c->client, cf + 1, (int64_t)(cf == 0), err) < 0 ||
        cs_db_exec(db, SQL_DAY_PRUNE, "", err) < 0 ||
        cs_db_exec(db, SQL_PAIR_PRUNE, "i", known_days, err) < 0)
        goto out;
    int64_t left = min64(free_tries - (pf + 1), daily - (pf + 1));
    if (!home) left = min64(left, daily - (df + 1));
    if (pf + 1 >= daily || (!home && df + 1 >= daily))
        refuse(c, CS_E_PIN_DAILY, pf + 1 >= daily ? 86400 : to_midnight);
    else if (nwait > 0)
        refuse(c, CS_E_PIN_LOCKED, nwait);
    else {
        c->verdict = CS_E_PIN_WRONG;
        c->attempts_left = (unsigned)(left > 0 ? left : 0);
    }
    rc = cs_audit(db, &owner, c->verdict == CS_E_PIN_WRONG ? "owner.pin_failed" : "owner.pin_wait",
                  "household", known ? c->code : NULL,
                  json_pack("{s:I,s:b}", "wait_seconds", (json_int_t)c->retry_after,
                            "daily_ceiling", c->verdict == CS_E_PIN_DAILY),
                  err);
out:
    cs_rows_free(h);
    cs_rows_free(pp);
    cs_rows_free(d);
    cs_rows_free(t);
    return rc;
}

/* The common case — a correct PIN verified a moment ago, nothing to wait for, no failures to
 * forget — needs no transaction and no row lock: one plain read. Every count that could make
 * the full path refuse is read too, so a cached PIN is never an oracle during a wait. Returns 1
 * (done, *id set), 0 (take the full path) or -1. */
static int check_fast(cs_db *db, const struct check_ctx *c, int64_t *id, cs_error *err)
{
    cs_rows *r = NULL;
    int64_t known_days = cs_cfg_int("pin.known_days");
    if (cs_db_query(db, &r, SQL_PIN_FAST, "ssisss", c->client, c->client, known_days, c->client,
                    c->client, c->code, err))
        return -1;
    int done = 0;
    unsigned char tag[32];
    const char *stored = cs_rows_count(r) ? cs_rows_strn(r, 0, PF_HASH) : NULL;
#define ZERO_OR_NULL(col) (cs_rows_isnull(r, 0, col) || cs_rows_i64(r, 0, col) == 0)
    if (stored && ZERO_OR_NULL(PF_PAIR_FAILURES) && ZERO_OR_NULL(PF_PAIR_WAIT) &&
        !ZERO_OR_NULL(PF_KNOWN) &&
        (cs_rows_isnull(r, 0, PF_CLIENT) ||
         cs_rows_i64(r, 0, PF_CLIENT) < cs_cfg_int("pin.client_daily_max")) &&
        !pin_tag(c->code, stored, c->pin, tag) && pin_cache_hit(tag)) {
        *id = cs_rows_i64(r, 0, PF_ID);
        done = 1;
    }
#undef ZERO_OR_NULL
    cs_rows_free(r);
    return done;
}

int cs_household_code_normalize(const char *in, char out[24])
{
    /* letters and digits only, whatever separators were typed (space, dash, dot, slash) */
    char k[24];
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        char ch = *p;
        if (ch == ' ' || ch == '-' || ch == '.' || ch == '/' || ch == '_' || ch == '\t') continue;
        if (ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) || n + 1 >= sizeof k) return -1;
        k[n++] = ch;
    }
    k[n] = 0;
    /* TH + 4-digit year + 5..7-digit number (the sequence is printed with at least 5) */
    if (n < 11 || n > 13 || k[0] != 'T' || k[1] != 'H') return -1;
    for (size_t i = 2; i < n; i++)
        if (k[i] < '0' || k[i] > '9') return -1;
    snprintf(out, 24, "TH-%.4s-%s", k + 2, k + 6);
    return 0;
}

int cs_household_check_pin(cs_db *db, const char *code, const char *pin, const char *client,
                           const char *request_id, int64_t *id, cs_error *err)
{
    char norm[24];
    /* a code that cannot be one is a typing slip, not a guess: said so, and counted nowhere */
    if (cs_household_code_normalize(code, norm)) {
        cs_error_field(err, "household_code", CS_E_HOUSEHOLD_CODE_FORMAT, NULL);
        return cs_error_set(err, CS_E_HOUSEHOLD_CODE_FORMAT, NULL);
    }
    struct check_ctx c = {norm, pin ? pin : "", client ? client : "", request_id, 0, CS_OK, 0, 0};
    int fast = check_fast(db, &c, id, err);
    if (fast) return fast < 0 ? -1 : 0;
    if (cs_db_tx(db, check_tx, &c, err)) return -1;
    if (c.verdict != CS_OK) {
        cs_error_set(err, c.verdict, NULL);
        err->retry_after = c.retry_after;
        if (c.verdict == CS_E_PIN_WRONG || c.verdict == CS_E_PIN_LOCKED ||
            c.verdict == CS_E_PIN_DAILY) {
            err->has_attempts = 1;
            err->attempts_left = c.attempts_left;
        }
        return -1;
    }
    *id = c.id;
    return 0;
}
