/* jobs/queue: the durable queue in the `jobs` table — enqueue, claim, finish, lease, reap, cancel,
 * retry by hand. It runs no handler and knows no job kind; times come from the database clock. */
#include "jobs/queue.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/jobs_int.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RETRY_AFTER_MS ((int64_t)7 * 24 * 3600 * 1000)
#define PAYLOAD_MAX ((size_t)16 * 1024 * 1024 - 1) /* MEDIUMTEXT */

#define BUG(...)                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: choso bug: ", __FILE__, __LINE__);                                 \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

/* ------------------------------------------------------------------ small helpers ------- */

int64_t job_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void job_sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void now_iso(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}

/* Length of the UTF-8 sequence at p (1..4) when well-formed (no overlong forms, surrogates or
 * code points above U+10FFFF), 0 otherwise. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

size_t job_clip_text(const char *in, size_t max_chars, char *out, size_t n)
{
    size_t o = 0, chars = 0;
    if (!n) return 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    while (*p && chars < max_chars) {
        size_t len = utf8_seq(p);
        if (len == 0 || (len == 1 && ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F))) {
            if (o + 1 >= n) break;
            out[o++] = '?';
            p++;
        } else {
            if (o + len >= n) break;
            memcpy(out + o, p, len);
            o += len;
            p += len;
        }
        chars++;
    }
    out[o] = '\0';
    return o;
}

char *job_history_append(const char *history, const char *at_iso, int attempt, const char *error)
{
    json_t *arr = history ? json_loads(history, 0, NULL) : NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        arr = json_array();
        if (!arr) return NULL;
    }
    json_t *e = json_pack("{s:s, s:i, s:s}", "at", at_iso ? at_iso : "", "attempt", attempt,
                          "error", error ? error : "");
    if (!e) e = json_pack("{s:s, s:i, s:s}", "at", "", "attempt", attempt, "error", "?");
    if (!e || json_array_append_new(arr, e)) {
        json_decref(arr);
        return NULL;
    }
    while (json_array_size(arr) > JOB_HISTORY_MAX)
        json_array_remove(arr, 0);
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!s) return NULL;
    char *copy = cs_strdup(s);
    free(s); /* jansson allocates with malloc */
    return copy;
}

int64_t job_backoff_ms(int attempt, long base_s, long cap_s, double r01)
{
    if (attempt < 1) attempt = 1;
    if (base_s < 1) base_s = 1;
    if (cap_s < base_s) cap_s = base_s;
    if (r01 < 0) r01 = 0;
    if (r01 >= 1) r01 = 0.999999;
    double hi = (double)base_s;
    for (int i = 1; i < attempt && hi < (double)cap_s; i++)
        hi *= 2;
    if (hi > (double)cap_s) hi = (double)cap_s;
    double d = (double)base_s + (hi - (double)base_s) * r01;
    return (int64_t)(d * 1000.0);
}

static double rand01(void)
{
    return (double)arc4random() / 4294967296.0;
}

static int64_t backoff_now_ms(int attempt)
{
    return job_backoff_ms(attempt, cs_cfg_int("jobs.backoff_base"), cs_cfg_int("jobs.backoff_cap"),
                          rand01());
}

/* "YYYY-MM-DD HH:MM:SS[.f{1,6}]" with ' ' or 'T', optional trailing 'Z'; normalised into out. */
static int parse_run_at(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    if (len && s[len - 1] == 'Z') len--;
    if (len < 19 || len > 26 || len + 1 > n) return -1;
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    for (size_t i = 0; i < 19; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9')
            : i == 10       ? (c != ' ' && c != 'T')
                            : c != shape[i])
            return -1;
    }
    if (len > 19) {
        if (s[19] != '.' || len == 20) return -1;
        for (size_t i = 20; i < len; i++)
            if (s[i] < '0' || s[i] > '9') return -1;
    }
    memcpy(out, s, len);
    out[10] = ' ';
    out[len] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ enqueue ------------- */

struct enq {
    const char *kind, *payload, *key;
    int64_t priority, delay_us, max_attempts;
    const char *run_at; /* normalised or NULL */
    int64_t id;
    int existed;
};

// clang-format off
static const char SQL_ENQUEUE[] =
    "INSERT INTO jobs (kind, payload, priority, run_at, max_attempts, unique_key, dedupe_key)"
    " VALUES (?, ?, ?, IFNULL(CAST(? AS DATETIME(3)), NOW(3) + INTERVAL ? MICROSECOND), ?, ?, ?)";
/* A locking read sees the latest committed row even inside an older snapshot. */
static const char SQL_KEY_HOLDER[] =
    "SELECT id"
    " FROM jobs"
    " WHERE unique_key = ?"
    " LOCK IN SHARE MODE";
// clang-format on

static int enqueue_tx(cs_db *db, void *arg, cs_error *err)
{
    struct enq *q = arg;
    q->existed = 0;
    /* A keyed job that ends between our failed INSERT and the SELECT frees its key: try again. */
    for (int round = 0; round < 5; round++) {
        int64_t n = cs_db_exec(db, SQL_ENQUEUE, "ssisiiss", q->kind, q->payload, q->priority,
                               q->run_at, q->delay_us, q->max_attempts, q->key, q->key, err);
        if (n == 1) {
            q->id = (int64_t)cs_db_insert_id(db);
            return 0;
        }
        if (n >= 0)
            return cs_error_set(err, CS_E_DB, "job insert affected %lld rows", (long long)n);
        if (err->code != CS_E_CONFLICT || !q->key) return -1;
        cs_error_clear(err);
        int rc = cs_db_scalar_i64(db, &q->id, SQL_KEY_HOLDER, "s", q->key, err);
        if (rc < 0) return -1;
        if (rc == 0) {
            q->existed = 1;
            return 0;
        }
    }
    return cs_error_set(err, CS_E_DB_SOFT, "unique key %s kept changing hands", q->key);
}

int job_enqueue(cs_db *db, const char *kind, const char *payload, const job_opts *opts, int64_t *id,
                cs_error *err)
{
    static const job_opts none;
    const job_opts *o = opts ? opts : &none;
    char run_at[32];
    struct enq q = {0};

    if (!job_kind_valid(kind)) cs_error_field(err, "kind", CS_F_FORMAT, "1..40 of a-z 0-9 . _ -");
    if (!payload) payload = "{}";
    size_t plen = strlen(payload);
    if (plen > PAYLOAD_MAX) {
        cs_error_field(err, "payload", CS_F_TOO_LONG, "16 MiB at most");
    } else {
        json_t *j = json_loadb(payload, plen, 0, NULL);
        if (!json_is_object(j)) cs_error_field(err, "payload", CS_F_TYPE, "a JSON object");
        json_decref(j);
    }
    if (o->unique_key) {
        size_t n = strlen(o->unique_key);
        int ok = n >= 1 && n <= JOB_KEY_MAX;
        for (const char *p = o->unique_key; ok && *p; p++)
            ok = *p >= 0x20 && *p <= 0x7e;
        if (!ok)
            cs_error_field(err, "unique_key", CS_F_FORMAT, "1..190 printable ASCII characters");
    }
    if (o->priority < -32768 || o->priority > 32767)
        cs_error_field(err, "priority", CS_F_RANGE, "-32768..32767");
    if (o->max_attempts < 0 || o->max_attempts > 1000000)
        cs_error_field(err, "max_attempts", CS_F_RANGE, "1..1000000 (0 = default)");
    if (o->delay_ms < 0 || o->delay_ms > (int64_t)3650 * 86400 * 1000)
        cs_error_field(err, "delay_ms", CS_F_RANGE, "0..10 years");
    if (o->run_at && o->delay_ms)
        cs_error_field(err, "run_at", CS_E_BAD_REQUEST, "give run_at or delay, not both");
    if (o->run_at && parse_run_at(o->run_at, run_at, sizeof run_at))
        cs_error_field(err, "run_at", CS_F_FORMAT, "YYYY-MM-DD HH:MM:SS[.fff] UTC");
    if (cs_error_failed(err)) return -1;

    q.kind = kind;
    q.payload = payload;
    q.key = o->unique_key;
    q.priority = o->priority;
    q.delay_us = o->delay_ms * 1000;
    q.max_attempts = o->max_attempts ? o->max_attempts : cs_cfg_int("jobs.max_attempts");
    q.run_at = o->run_at ? run_at : NULL;
    int rc = cs_db_in_tx(db) ? enqueue_tx(db, &q, err) : cs_db_tx(db, enqueue_tx, &q, err);
    if (rc) return -1;
    if (id) *id = q.id;
    return q.existed;
}

// clang-format off
/* ON DUPLICATE KEY leaves a held key's job alone (affected rows 0 for it) */
static const char SQL_ENQUEUE_IDS[] =
    "INSERT INTO jobs (kind, payload, max_attempts, unique_key, dedupe_key)"
    " SELECT ?, CONCAT('{\"', ?, '\":', j.id, '}'), ?, CONCAT(?, j.id), CONCAT(?, j.id)"
    " FROM " CS_DB_IDS_TABLE
    " ON DUPLICATE KEY UPDATE jobs.id = jobs.id";
// clang-format on

struct enq_ids {
    const char *kind, *field, *prefix, *ids;
    int64_t n;
};

static int enqueue_ids_tx(cs_db *db, void *arg, cs_error *err)
{
    struct enq_ids *q = arg;
    q->n = cs_db_exec(db, SQL_ENQUEUE_IDS, "ssisss", q->kind, q->field,
                      (int64_t)cs_cfg_int("jobs.max_attempts"), q->prefix, q->prefix, q->ids, err);
    return q->n < 0 ? -1 : 0;
}

int64_t job_enqueue_ids(cs_db *db, const char *kind, const char *field, const char *key_prefix,
                        const char *ids_json, cs_error *err)
{
    if (!job_kind_valid(kind))
        return cs_error_field(err, "kind", CS_F_FORMAT, "1..40 of a-z 0-9 . _ -");
    struct enq_ids q = {kind, field, key_prefix, ids_json, 0};
    int rc = cs_db_in_tx(db) ? enqueue_ids_tx(db, &q, err) : cs_db_tx(db, enqueue_ids_tx, &q, err);
    return rc ? -1 : q.n;
}

/* ------------------------------------------------------------------ claim --------------- */

struct claim {
    const char *owner, *kinds;
    unsigned n, lease_override;
    job_claimed *out;
    unsigned got;
};

void job_claimed_free(job_claimed *c)
{
    if (!c) return;
    cs_free(c->payload);
    c->payload = NULL;
}

/* The index idx_jobs_ready (state, priority DESC, run_at) gives this order, so the scan stops
 * after n ready rows; SKIP LOCKED passes over rows another worker is claiming right now. */
// clang-format off
static const char SQL_CLAIM_READY[] =
    "SELECT id, kind, attempts, max_attempts, payload"
    " FROM jobs"
    " WHERE state = 'queued' AND run_at <= NOW(3) AND (? = '' OR FIND_IN_SET(kind, ?))"
    " ORDER BY priority DESC, run_at"
    " LIMIT ?"
    " FOR UPDATE SKIP LOCKED";
static const char SQL_CLAIM_TAKE[] =
    "UPDATE jobs"
    " SET state = 'running', lease_owner = ?, lease_expires_at = NOW(3) + INTERVAL ? SECOND,"
    "     attempts = attempts + 1, started_at = NOW(3)"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_CLAIM_READY */
enum { CR_ID, CR_KIND, CR_ATTEMPTS, CR_MAX_ATTEMPTS, CR_PAYLOAD };

static int claim_tx(cs_db *db, void *arg, cs_error *err)
{
    struct claim *c = arg;
    for (unsigned i = 0; i < c->got; i++)
        job_claimed_free(&c->out[i]); /* a re-run starts over */
    c->got = 0;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_CLAIM_READY, "ssi", c->kinds, c->kinds, (int64_t)c->n, err))
        return -1;
    size_t rows = cs_rows_count(r);
    for (size_t i = 0; i < rows && c->got < c->n; i++) {
        job_claimed *j = &c->out[c->got];
        memset(j, 0, sizeof *j);
        j->id = cs_rows_i64(r, i, CR_ID);
        snprintf(j->kind, sizeof j->kind, "%s", cs_rows_str(r, i, CR_KIND));
        j->attempt = (int)cs_rows_i64(r, i, CR_ATTEMPTS) + 1;
        j->max_attempts = (int)cs_rows_i64(r, i, CR_MAX_ATTEMPTS);
        j->lease_s = c->lease_override ? c->lease_override : job_kind_lease(j->kind);
        j->payload = cs_strdup(cs_rows_str(r, i, CR_PAYLOAD));
        if (!j->payload) {
            cs_rows_free(r);
            return cs_error_set(err, CS_E_NOMEM, "claim payload");
        }
        c->got++;
        if (cs_db_exec(db, SQL_CLAIM_TAKE, "sii", c->owner, (int64_t)j->lease_s, j->id, err) != 1) {
            cs_rows_free(r);
            if (!cs_error_failed(err))
                cs_error_set(err, CS_E_DB, "claimed job %lld vanished", (long long)j->id);
            return -1;
        }
    }
    cs_rows_free(r);
    return 0;
}

int job_claim(cs_db *db, const char *owner, const char *kinds_csv, unsigned n,
              unsigned lease_override_s, job_claimed *out, unsigned *got, cs_error *err)
{
    struct claim c = {owner, kinds_csv ? kinds_csv : "", n, lease_override_s, out, 0};
    *got = 0;
    if (!owner || !*owner || strlen(owner) > JOB_OWNER_MAX) BUG("bad lease owner");
    if (!n) return 0;
    if (cs_db_tx(db, claim_tx, &c, err)) {
        for (unsigned i = 0; i < c.got; i++)
            job_claimed_free(&out[i]);
        return -1;
    }
    *got = c.got;
    return 0;
}

/* ------------------------------------------------------------------ ending a run -------- */

/* The end state for an outcome, shared by finish and the reaper. */
struct end {
    int64_t id;
    job_outcome outcome;
    int64_t delay_ms;  /* retry: < 0 = backoff; snooze: pause */
    const char *error; /* may be NULL */
    int attempts, max_attempts, cancel_requested;
    const char *history;
    const char *result; /* out: "done", "queued", "dead", "cancelled" */
};

// clang-format off
static const char SQL_END_DONE[] =
    "UPDATE jobs"
    " SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, unique_key = NULL,"
    "     finished_at = NOW(3)"
    " WHERE id = ?";
static const char SQL_END_SNOOZE[] =
    "UPDATE jobs"
    " SET state = 'queued', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,"
    "     lease_expires_at = NULL, run_at = NOW(3) + INTERVAL ? MICROSECOND"
    " WHERE id = ?";
/* A retry goes one step up in priority: when its backoff is over it runs before the jobs of its
 * old priority that never started, instead of behind the whole backlog queued after it (a
 * publish run's retried publishes all finished in its last seconds, ~75 s after queueing). */
static const char SQL_END_REQUEUE[] =
    "UPDATE jobs"
    " SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, last_error = ?,"
    "     error_history = ?, run_at = NOW(3) + INTERVAL ? MICROSECOND,"
    "     priority = LEAST(priority + 1, 32767)"
    " WHERE id = ?";
static const char SQL_END_FINAL[] =
    "UPDATE jobs"
    " SET state = ?, lease_owner = NULL, lease_expires_at = NULL, last_error = ?,"
    "     error_history = ?, unique_key = NULL, finished_at = NOW(3)"
    " WHERE id = ?";
// clang-format on

static int apply_end(cs_db *db, struct end *e, cs_error *err)
{
    char clipped[JOB_ERROR_MAX_CHARS * 4 + 1];
    char at[40];
    char *hist = NULL;
    int64_t n;

    if (e->outcome == JOB_OK) {
        e->result = "done";
        n = cs_db_exec(db, SQL_END_DONE, "i", e->id, err);
        return n < 0 ? -1 : 0;
    }
    if (e->outcome == JOB_SNOOZE && !e->cancel_requested) {
        e->result = "queued";
        int64_t us =
            (e->delay_ms > 0 ? (e->delay_ms > MAX_RETRY_AFTER_MS ? MAX_RETRY_AFTER_MS : e->delay_ms)
                             : 0) *
            1000;
        n = cs_db_exec(db, SQL_END_SNOOZE, "ii", us, e->id, err);
        return n < 0 ? -1 : 0;
    }

    /* Every other end records what went wrong. */
    const char *msg = e->error && *e->error      ? e->error
                      : e->outcome == JOB_SNOOZE ? "cancelled while snoozing"
                      : e->outcome == JOB_RETRY  ? "handler asked for a retry"
                                                 : "handler failed";
    job_clip_text(msg, JOB_ERROR_MAX_CHARS, clipped, sizeof clipped);
    now_iso(at, sizeof at);
    hist = job_history_append(e->history, at, e->attempts, clipped);
    if (!hist) return cs_error_set(err, CS_E_NOMEM, "error history");

    const char *state;
    int64_t delay_us = 0;
    if (e->cancel_requested)
        state = "cancelled";
    else if (e->outcome == JOB_FAIL || e->attempts >= e->max_attempts)
        state = "dead";
    else {
        state = "queued";
        int64_t ms = e->delay_ms < 0 ? backoff_now_ms(e->attempts) : e->delay_ms;
        if (ms > MAX_RETRY_AFTER_MS) ms = MAX_RETRY_AFTER_MS;
        delay_us = ms * 1000;
    }
    e->result = state;
    if (!strcmp(state, "queued"))
        n = cs_db_exec(db, SQL_END_REQUEUE, "ssii", clipped, hist, delay_us, e->id, err);
    else
        n = cs_db_exec(db, SQL_END_FINAL, "sssi", state, clipped, hist, e->id, err);
    cs_free(hist);
    return n < 0 ? -1 : 0;
}

struct fin {
    int64_t id;
    const char *owner;
    int attempt;
    job_outcome outcome;
    int64_t delay_ms;
    const char *error;
    int lost;
    const char *result;
};

// clang-format off
static const char SQL_FINISH_LOCK[] =
    "SELECT attempts, max_attempts, cancel_requested, error_history"
    " FROM jobs"
    " WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?"
    " FOR UPDATE";
// clang-format on
/* columns of SQL_FINISH_LOCK */
enum { FL_ATTEMPTS, FL_MAX_ATTEMPTS, FL_CANCEL, FL_HISTORY };

static int finish_tx(cs_db *db, void *arg, cs_error *err)
{
    struct fin *f = arg;
    cs_rows *r = NULL;
    f->lost = 0;
    if (cs_db_query(db, &r, SQL_FINISH_LOCK, "isi", f->id, f->owner, (int64_t)f->attempt, err))
        return -1;
    if (cs_rows_count(r) == 0) {
        cs_rows_free(r);
        f->lost = 1;
        return 0;
    }
    struct end e = {.id = f->id,
                    .outcome = f->outcome,
                    .delay_ms = f->delay_ms,
                    .error = f->error,
                    .attempts = (int)cs_rows_i64(r, 0, FL_ATTEMPTS),
                    .max_attempts = (int)cs_rows_i64(r, 0, FL_MAX_ATTEMPTS),
                    .cancel_requested = cs_rows_i64(r, 0, FL_CANCEL) != 0,
                    .history = cs_rows_strn(r, 0, FL_HISTORY)};
    int rc = apply_end(db, &e, err);
    f->result = e.result;
    cs_rows_free(r);
    return rc;
}

int job_finish(cs_db *db, int64_t id, const char *owner, int attempt, job_outcome outcome,
               int64_t delay_ms, const char *error, cs_error *err)
{
    if (outcome < JOB_OK || outcome > JOB_FAIL)
        BUG("job %lld: outcome %d", (long long)id, (int)outcome);
    struct fin f = {id, owner, attempt, outcome, delay_ms, error, 0, NULL};
    if (cs_db_tx(db, finish_tx, &f, err)) return -1;
    return f.lost;
}

// clang-format off
static const char SQL_LEASE_EXTEND[] =
    "UPDATE jobs"
    " SET lease_expires_at = NOW(3) + INTERVAL ? SECOND"
    " WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?";
static const char SQL_LEASE_CANCEL[] =
    "SELECT cancel_requested"
    " FROM jobs"
    " WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?";
/* Assignments run left to right and none reads a column changed before it. */
static const char SQL_RELEASE[] =
    "UPDATE jobs"
    " SET unique_key = IF(cancel_requested, NULL, unique_key),"
    "     finished_at = IF(cancel_requested, NOW(3), NULL),"
    "     state = IF(cancel_requested, 'cancelled', 'queued'),"
    "     attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, lease_expires_at = NULL,"
    "     run_at = NOW(3)"
    " WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?";
// clang-format on

int job_extend_lease(cs_db *db, int64_t id, const char *owner, int attempt, unsigned lease_s,
                     int *cancel_requested, cs_error *err)
{
    if (cs_db_exec(db, SQL_LEASE_EXTEND, "iisi", (int64_t)lease_s, id, owner, (int64_t)attempt,
                   err) < 0)
        return -1;
    /* Affected rows cannot tell "not ours" from "same value": ask. */
    int64_t cancel = 0;
    int rc =
        cs_db_scalar_i64(db, &cancel, SQL_LEASE_CANCEL, "isi", id, owner, (int64_t)attempt, err);
    if (rc < 0) return -1;
    if (cancel_requested) *cancel_requested = rc == 0 && cancel;
    return rc == 1 ? 1 : 0;
}

int job_release(cs_db *db, int64_t id, const char *owner, int attempt, cs_error *err)
{
    int64_t n = cs_db_exec(db, SQL_RELEASE, "isi", id, owner, (int64_t)attempt, err);
    if (n < 0) return -1;
    return n == 1 ? 0 : 1;
}

/* ------------------------------------------------------------------ reaper -------------- */

struct reap {
    unsigned limit, reaped;
};

// clang-format off
static const char SQL_REAP_EXPIRED[] =
    "SELECT id, attempts, max_attempts, cancel_requested, error_history, lease_owner"
    " FROM jobs"
    " WHERE state = 'running' AND lease_expires_at < NOW(3)"
    " ORDER BY lease_expires_at"
    " LIMIT ?"
    " FOR UPDATE SKIP LOCKED";
// clang-format on
/* columns of SQL_REAP_EXPIRED */
enum { RE_ID, RE_ATTEMPTS, RE_MAX_ATTEMPTS, RE_CANCEL, RE_HISTORY, RE_OWNER };

static int reap_tx(cs_db *db, void *arg, cs_error *err)
{
    struct reap *rp = arg;
    cs_rows *r = NULL;
    rp->reaped = 0;
    if (cs_db_query(db, &r, SQL_REAP_EXPIRED, "i", (int64_t)rp->limit, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        char msg[160];
        snprintf(msg, sizeof msg, "lease expired (worker %s stopped answering)",
                 cs_rows_str(r, i, RE_OWNER));
        struct end e = {.id = cs_rows_i64(r, i, RE_ID),
                        .outcome = JOB_RETRY,
                        .delay_ms = -1,
                        .error = msg,
                        .attempts = (int)cs_rows_i64(r, i, RE_ATTEMPTS),
                        .max_attempts = (int)cs_rows_i64(r, i, RE_MAX_ATTEMPTS),
                        .cancel_requested = cs_rows_i64(r, i, RE_CANCEL) != 0,
                        .history = cs_rows_strn(r, i, RE_HISTORY)};
        if (apply_end(db, &e, err)) {
            cs_rows_free(r);
            return -1;
        }
        rp->reaped++;
    }
    cs_rows_free(r);
    return 0;
}

int job_reap(cs_db *db, unsigned limit, unsigned *reaped, cs_error *err)
{
    struct reap rp = {limit ? limit : 100, 0};
    if (reaped) *reaped = 0;
    if (cs_db_tx(db, reap_tx, &rp, err)) return -1;
    if (rp.reaped) cs_warn("job_reaped", "%u job(s) with an expired lease taken back", rp.reaped);
    if (reaped) *reaped = rp.reaped;
    return 0;
}

/* ------------------------------------------------------------------ by hand ------------- */

struct manual {
    int64_t id;
    const cs_actor *by;
    int result;
};

static int audit_manual(cs_db *db, const struct manual *m, const char *action,
                        const char *from_state, cs_error *err)
{
    if (!m->by) return 0;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)m->id);
    return cs_audit(db, m->by, action, "job", id, json_pack("{s:s}", "from_state", from_state),
                    err);
}

// clang-format off
static const char SQL_CANCEL_LOCK[] =
    "SELECT state"
    " FROM jobs"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_CANCEL_QUEUED[] =
    "UPDATE jobs"
    " SET state = 'cancelled', unique_key = NULL, finished_at = NOW(3)"
    " WHERE id = ?";
static const char SQL_CANCEL_RUNNING[] =
    "UPDATE jobs"
    " SET cancel_requested = TRUE"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_CANCEL_LOCK */
enum { CL_STATE };

static int cancel_tx(cs_db *db, void *arg, cs_error *err)
{
    struct manual *m = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_CANCEL_LOCK, "i", m->id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "job %lld", (long long)m->id);
    }
    char state[16];
    snprintf(state, sizeof state, "%s", cs_rows_str(r, 0, CL_STATE));
    cs_rows_free(r);
    if (!strcmp(state, "queued")) {
        m->result = 0;
        if (cs_db_exec(db, SQL_CANCEL_QUEUED, "i", m->id, err) < 0) return -1;
        return audit_manual(db, m, "job.cancel", state, err);
    }
    if (!strcmp(state, "running")) {
        m->result = 1;
        if (cs_db_exec(db, SQL_CANCEL_RUNNING, "i", m->id, err) < 0) return -1;
        return audit_manual(db, m, "job.cancel_request", state, err);
    }
    return cs_error_set(err, CS_E_STATE_TRANSITION, "job %lld is %s", (long long)m->id, state);
}

int job_cancel(cs_db *db, int64_t id, const cs_actor *by, cs_error *err)
{
    struct manual m = {id, by, 0};
    if (cs_db_tx(db, cancel_tx, &m, err)) return -1;
    cs_info("job_cancel", "job %lld %s", (long long)id,
            m.result ? "cancel requested" : "cancelled");
    return m.result;
}

// clang-format off
static const char SQL_RETRY_LOCK[] =
    "SELECT state, dedupe_key"
    " FROM jobs"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_RETRY_REQUEUE[] =
    "UPDATE jobs"
    " SET state = 'queued', attempts = 0, run_at = NOW(3), started_at = NULL,"
    "     finished_at = NULL, cancel_requested = FALSE, lease_owner = NULL,"
    "     lease_expires_at = NULL, unique_key = dedupe_key"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_RETRY_LOCK */
enum { RL_STATE, RL_KEY };

static int retry_tx(cs_db *db, void *arg, cs_error *err)
{
    struct manual *m = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_RETRY_LOCK, "i", m->id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "job %lld", (long long)m->id);
    }
    char state[16], key[JOB_KEY_MAX + 1];
    snprintf(state, sizeof state, "%s", cs_rows_str(r, 0, RL_STATE));
    snprintf(key, sizeof key, "%s", cs_rows_str(r, 0, RL_KEY));
    int has_key = !cs_rows_isnull(r, 0, RL_KEY);
    cs_rows_free(r);
    if (strcmp(state, "dead") && strcmp(state, "cancelled"))
        return cs_error_set(err, CS_E_STATE_TRANSITION, "job %lld is %s", (long long)m->id, state);
    int64_t n = cs_db_exec(db, SQL_RETRY_REQUEUE, "i", m->id, err);
    if (n >= 0) return audit_manual(db, m, "job.retry", state, err);
    if (err->code != CS_E_CONFLICT || !has_key) return -1;
    int64_t other = 0;
    cs_error e2;
    cs_error_clear(&e2);
    if (cs_db_scalar_i64(db, &other, SQL_KEY_HOLDER, "s", key, &e2) == 0)
        snprintf(err->existing, sizeof err->existing, "%lld", (long long)other);
    cs_error_set(err, CS_E_CONFLICT, "job %s already holds this job's unique key", err->existing);
    return -1;
}

int job_retry_dead(cs_db *db, int64_t id, const cs_actor *by, cs_error *err)
{
    struct manual m = {id, by, 0};
    if (cs_db_tx(db, retry_tx, &m, err)) return -1;
    cs_info("job_retry_dead", "job %lld queued again by hand", (long long)id);
    return 0;
}

/* ------------------------------------------------------------------ handler side -------- */

static void set_error(job_ctx *ctx, const char *fmt, va_list ap)
{
    char tmp[sizeof ctx->error];
    if (!fmt) {
        ctx->error[0] = '\0';
        return;
    }
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    job_clip_text(tmp, JOB_ERROR_MAX_CHARS, ctx->error, sizeof ctx->error);
}

job_outcome job_retry(job_ctx *ctx, unsigned after_s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(ctx, fmt, ap);
    va_end(ap);
    ctx->delay_ms = after_s ? (int64_t)after_s * 1000 : -1;
    return JOB_RETRY;
}

job_outcome job_snooze(job_ctx *ctx, unsigned after_s)
{
    ctx->delay_ms = (int64_t)after_s * 1000;
    ctx->error[0] = '\0';
    return JOB_SNOOZE;
}

job_outcome job_fail(job_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(ctx, fmt, ap);
    va_end(ap);
    return JOB_FAIL;
}

int job_should_stop(const job_ctx *ctx)
{
    return atomic_load(&((job_ctx *)ctx)->stop) != 0;
}

int job_heartbeat(job_ctx *ctx)
{
    if (cs_db_in_tx(ctx->db))
        BUG("job_heartbeat inside a transaction (job %lld)", (long long)ctx->id);
    if (ctx->deadline_ms && job_mono_ms() > ctx->deadline_ms) {
        atomic_fetch_or(&ctx->stop, JOB_STOP_TIMEOUT);
        return 1;
    }
    cs_error err;
    cs_error_clear(&err);
    int cancel = 0;
    int rc = job_extend_lease(ctx->db, ctx->id, ctx->lease_owner, ctx->attempt, ctx->lease_s,
                              &cancel, &err);
    if (rc < 0) {
        cs_warn("job_heartbeat", "job %lld: lease not extended: %s", (long long)ctx->id,
                cs_code_name(err.code));
        return -1;
    }
    if (rc == 1) atomic_fetch_or(&ctx->stop, JOB_STOP_LEASE);
    if (cancel) atomic_fetch_or(&ctx->stop, JOB_STOP_CANCEL);
    return atomic_load(&ctx->stop) ? 1 : 0;
}
