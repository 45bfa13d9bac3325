/* Integration tests of the job queue against the real MariaDB: exactly-once effects with four
 * worker threads, SKIP LOCKED claims, unique keys, backoff to dead with the error history, the
 * reaper, cancel, manual retry, scheduler ticks and the read-only views. Times are read from the
 * database; no test waits for a backoff to pass (run_at is moved instead). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/mem.h"
#include "jobs/job.h"
#include "jobs/queue.h"
#include "tests/support/tsup.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char tag[32]; /* distinguishes this run's kinds and keys */

static void kind_name(char *out, size_t n, const char *what)
{
    snprintf(out, n, "tq-%s-%s", tag, what);
}

static int64_t enq(cs_db *db, const char *kind, const char *payload, const job_opts *o)
{
    cs_error e;
    cs_error_clear(&e);
    int64_t id = 0;
    int rc = job_enqueue(db, kind, payload, o, &id, &e);
    if (rc < 0) fail_msg("enqueue %s: %s %s", kind, cs_code_name(e.code), e.detail);
    return id;
}

/* Claim exactly one job of kind (fails the test if none is ready). */
static job_claimed claim1(cs_db *db, const char *owner, const char *kind, unsigned lease)
{
    job_claimed c;
    unsigned got = 0;
    cs_error e;
    cs_error_clear(&e);
    if (job_claim(db, owner, kind, 1, lease, &c, &got, &e))
        fail_msg("claim: %s %s", cs_code_name(e.code), e.detail);
    if (got != 1) fail_msg("nothing to claim for %s", kind);
    return c;
}

static int finish(cs_db *db, const job_claimed *c, const char *owner, job_outcome o, int64_t delay,
                  const char *msg)
{
    cs_error e;
    cs_error_clear(&e);
    int rc = job_finish(db, c->id, owner, c->attempt, o, delay, msg, &e);
    if (rc < 0) fail_msg("finish: %s %s", cs_code_name(e.code), e.detail);
    return rc;
}

static char *state_of(cs_db *db, int64_t id, char *out, size_t n)
{
    cs_rows *r = NULL;
    cs_error e;
    cs_error_clear(&e);
    out[0] = '\0';
    if (cs_db_query(db, &r, "SELECT state FROM jobs WHERE id = ?", "i", id, &e) == 0) {
        if (cs_rows_count(r)) snprintf(out, n, "%s", cs_rows_str(r, 0, 0));
        cs_rows_free(r);
    }
    return out;
}

/* ---------------------------------------------------------------- exactly once ---------- */

struct bulk {
    const char *prefix;
    int from, to;
    int64_t first, last;
};

static int enqueue_many_tx(cs_db *db, void *arg, cs_error *err)
{
    struct bulk *b = arg;
    for (int i = b->from; i < b->to; i++) {
        char payload[160];
        snprintf(payload, sizeof payload, "{\"key\":\"%s-%d\"}", b->prefix, i % 8000);
        int64_t id;
        if (job_enqueue(db, "test.effect", payload, NULL, &id, err) < 0) return -1;
        if (i == b->from) b->first = id;
        b->last = id;
    }
    return 0;
}

static void test_four_threads_effect_exactly_once(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "eff-%s", tag);
    /* 8,000 jobs (2,000 per thread), enqueued inside a caller's transactions, plus 500 more jobs
     * repeating keys already used: the handler's own check must keep those effects single. */
    struct bulk b = {prefix, 0, 4000, 0, 0};
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(db, enqueue_many_tx, &b, &e), 0);
    int64_t first = b.first;
    b.from = 4000, b.to = 8500;
    assert_int_equal(cs_db_tx(db, enqueue_many_tx, &b, &e), 0);
    int64_t last = b.last;
    assert_int_equal(last - first + 1, 8500);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    job_worker_opts o = {.concurrency = 4, .kinds_csv = "test.effect", .once = 1, .poll_ms = 20};
    assert_int_equal(job_worker_run(&o, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# 4 threads ran 8500 jobs in %.2f s (%.0f jobs/s)\n", secs, 8500 / secs);

    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE id BETWEEN ? AND ? AND state = 'done'", "ii",
                 first, last),
        8500);
    char like[80];
    snprintf(like, sizeof like, "%s-%%", prefix);
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM job_test_effects WHERE effect_key LIKE ?", "s", like),
        8000);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(DISTINCT effect_key) FROM job_test_effects WHERE effect_key LIKE ?",
                 "s", like),
        8000);
    /* No job ran twice: claims never overlapped. */
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM job_test_runs WHERE job_id BETWEEN ? AND ?",
                              "ii", first, last),
                     8500);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT COUNT(*) FROM (SELECT job_id FROM job_test_runs WHERE job_id BETWEEN ? AND ? "
            "GROUP BY job_id HAVING COUNT(*) > 1) d",
            "ii", first, last),
        0);
    /* All four threads took part. */
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT COUNT(DISTINCT lease_owner) FROM job_test_runs WHERE job_id BETWEEN ? AND ?",
            "ii", first, last),
        4);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- heartbeats ----------- */

static atomic_int coop_seen; /* stop bits the cooperative handler saw */

/* Works until asked to stop (checking the free flag only), then says why. */
static job_outcome h_coop(job_ctx *ctx)
{
    for (int i = 0; i < 400 && !job_should_stop(ctx); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int bits = atomic_load(&ctx->stop);
    atomic_store(&coop_seen, bits);
    return job_retry(ctx, 0, "stopped: %s",
                     bits & JOB_STOP_TIMEOUT  ? "timeout"
                     : bits & JOB_STOP_CANCEL ? "cancel"
                                              : "other");
}

static void *worker_thread(void *arg)
{
    const char *kinds = arg;
    cs_error e;
    cs_error_clear(&e);
    job_worker_opts o = {.concurrency = 1, .kinds_csv = kinds, .once = 1, .poll_ms = 20};
    if (job_worker_run(&o, &e)) fprintf(stderr, "worker: %s %s\n", cs_code_name(e.code), e.detail);
    return NULL;
}

/* ---------------------------------------------------------------- idle polling ---------- */

static atomic_int together_running, together_seen;

/* Runs until every job of the batch runs at the same time (up to 5 s): all seen = the idle
 * threads were woken to claim the rest, not left to their own (long) timeout. */
static job_outcome h_together(job_ctx *ctx)
{
    int n = atomic_fetch_add(&together_running, 1) + 1;
    for (int i = 0; i < 100 && n < 4; i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        n = atomic_load(&together_running);
    }
    if (n >= 4) atomic_fetch_add(&together_seen, 1);
    (void)ctx;
    return JOB_OK;
}

static void *idle_worker_thread(void *arg)
{
    const char *kinds = arg;
    cs_error e;
    cs_error_clear(&e);
    job_worker_opts o = {.concurrency = 8, .kinds_csv = kinds, .poll_ms = 20};
    if (job_worker_run(&o, &e)) fprintf(stderr, "worker: %s %s\n", cs_code_name(e.code), e.detail);
    return NULL;
}

static void test_idle_worker_polls_with_one_thread(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char k[48];
    kind_name(k, sizeof k, "together");
    assert_int_equal(job_register(k, h_together, &(job_kind_opts){.lease_s = 30}, &e), 0);
    atomic_store(&together_running, 0);
    atomic_store(&together_seen, 0);
    /* idle: 8 threads, a 20 ms poll, 1.5 s — all polling would be about 600 empty claims */
    unsigned long before = job_worker_empty_claims();
    pthread_t th;
    pthread_create(&th, NULL, idle_worker_thread, k);
    sleep(1);
    unsigned long idle = job_worker_empty_claims() - before;
    printf("# an idle worker of 8 threads made %lu empty claims in about 1 s\n", idle);
    assert_true(idle <= 8 + 75);
    /* work arrives: the poller takes one job and wakes another thread for the next, so the
     * four run together */
    int64_t ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = enq(db, k, NULL, NULL);
    char st[16];
    for (int i = 0; i < 200 && strcmp(state_of(db, ids[3], st, sizeof st), "done"); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    job_worker_request_stop();
    pthread_join(th, NULL);
    for (int i = 0; i < 4; i++)
        assert_string_equal(state_of(db, ids[i], st, sizeof st), "done");
    assert_int_equal(atomic_load(&together_seen), 4);
    cs_db_close(db);
}

static void test_worker_heartbeats_carry_cancel_and_timeout(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kc[48], kt[48];
    kind_name(kc, sizeof kc, "coop-cancel");
    kind_name(kt, sizeof kt, "coop-timeout");
    /* A 3 s lease: the worker must extend it about every second for a 5 s run to survive. */
    assert_int_equal(job_register(kc, h_coop, &(job_kind_opts){.lease_s = 3, .timeout_s = 60}, &e),
                     0);
    assert_int_equal(job_register(kt, h_coop, &(job_kind_opts){.lease_s = 3, .timeout_s = 2}, &e),
                     0);

    int64_t id = enq(db, kc, NULL, NULL);
    atomic_store(&coop_seen, 0);
    pthread_t th;
    pthread_create(&th, NULL, worker_thread, kc);
    char st[16];
    for (int i = 0; i < 200 && strcmp(state_of(db, id, st, sizeof st), "running"); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(st, "running");
    sleep(5);
    /* Still ours after more than a lease: the heartbeats kept it (the reaper runs in there too). */
    assert_int_equal(tsup_i64(db,
                              "SELECT state = 'running' AND attempts = 1 AND lease_expires_at > "
                              "NOW(3) FROM jobs WHERE id = ?",
                              "i", id),
                     1);
    assert_int_equal(job_cancel(db, id, NULL, &e), 1);
    pthread_join(th, NULL);
    assert_true(atomic_load(&coop_seen) & JOB_STOP_CANCEL);
    assert_string_equal(state_of(db, id, st, sizeof st), "cancelled");
    assert_int_equal(
        tsup_i64(db, "SELECT last_error = 'stopped: cancel' FROM jobs WHERE id = ?", "i", id), 1);

    /* Past its 2 s timeout the worker stops extending and tells the handler. */
    id = enq(db, kt, NULL, NULL);
    atomic_store(&coop_seen, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    worker_thread(kt);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(atomic_load(&coop_seen) & JOB_STOP_TIMEOUT);
    assert_true(secs >= 2.0 && secs < 10.0);
    assert_int_equal(tsup_i64(db,
                              "SELECT state = 'queued' AND attempts = 1 AND last_error = 'stopped: "
                              "timeout' FROM jobs WHERE id = ?",
                              "i", id),
                     1);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- SKIP LOCKED ----------- */

struct overlap {
    const char *kind;
    int64_t locked_id;
    int64_t got_while_locked;
    unsigned got;
};

/* Runs on connection A with a lock on the first job; claims on connection B meanwhile. */
static int hold_lock_tx(cs_db *a, void *arg, cs_error *err)
{
    struct overlap *ov = arg;
    int64_t id;
    if (cs_db_scalar_i64(a, &id, "SELECT id FROM jobs WHERE id = ? FOR UPDATE", "i", ov->locked_id,
                         err))
        return -1;
    cs_db *b = cs_db_connect(err);
    if (!b) return -1;
    job_claimed c[3];
    unsigned got = 0;
    int rc = job_claim(b, "owner-b", ov->kind, 3, 0, c, &got, err);
    ov->got = got;
    ov->got_while_locked = got ? c[0].id : 0;
    for (unsigned i = 0; i < got; i++) {
        if (c[i].id == ov->locked_id) ov->got_while_locked = -1; /* claimed a locked row: wrong */
        job_claimed_free(&c[i]);
    }
    cs_db_close(b);
    return rc;
}

static void test_skip_locked_claims_do_not_overlap(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char kind[48];
    kind_name(kind, sizeof kind, "skip");
    int64_t ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = enq(db, kind, NULL, &(job_opts){.priority = (int)(10 - i)});
    /* A holds the highest-priority job; B's claim of 3 skips it without waiting. */
    struct overlap ov = {kind, ids[0], 0, 0};
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(db, hold_lock_tx, &ov, &e), 0);
    assert_int_equal(ov.got, 3);
    assert_int_equal(ov.got_while_locked, ids[1]);
    /* Once A let go, the skipped job is there for the next claim, and nothing else is. */
    job_claimed c = claim1(db, "owner-a", kind, 0);
    assert_int_equal(c.id, ids[0]);
    assert_int_equal(c.attempt, 1);
    job_claimed_free(&c);
    unsigned got = 9;
    job_claimed more[2];
    assert_int_equal(job_claim(db, "owner-a", kind, 2, 0, more, &got, &e), 0);
    assert_int_equal(got, 0);
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = 'running'", "s", kind),
        4);
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND lease_owner = 'owner-b'", "s",
                 kind),
        3);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- unique keys ----------- */

struct race {
    const char *kind, *key;
    int64_t id;
    int rc;
};

static void *enqueue_race(void *arg)
{
    struct race *r = arg;
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = cs_db_connect(&e);
    if (!db) {
        r->rc = -2;
        return NULL;
    }
    job_opts o = {.unique_key = r->key};
    r->rc = job_enqueue(db, r->kind, "{\"race\":true}", &o, &r->id, &e);
    cs_db_close(db);
    return NULL;
}

static void test_unique_key_returns_existing_job(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char kind[48], key[96];
    kind_name(kind, sizeof kind, "uniq");
    snprintf(key, sizeof key, "listing.publish:%s:42", tag);
    cs_error e;
    cs_error_clear(&e);
    job_opts o = {.unique_key = key};
    int64_t id1 = 0, id2 = 0, id3 = 0;
    assert_int_equal(job_enqueue(db, kind, "{\"n\":1}", &o, &id1, &e), 0);
    assert_int_equal(job_enqueue(db, kind, "{\"n\":2}", &o, &id2, &e), 1);
    assert_int_equal(id2, id1);
    /* While it runs the key still holds. */
    job_claimed c = claim1(db, "owner-u", kind, 0);
    assert_int_equal(c.id, id1);
    assert_int_equal(job_enqueue(db, kind, "{\"n\":3}", &o, &id3, &e), 1);
    assert_int_equal(id3, id1);
    assert_int_equal(finish(db, &c, "owner-u", JOB_OK, 0, NULL), 0);
    job_claimed_free(&c);
    /* Ended: the key is free again, and remembered on the old job. */
    assert_int_equal(job_enqueue(db, kind, "{\"n\":4}", &o, &id3, &e), 0);
    assert_true(id3 != id1);
    assert_int_equal(tsup_i64(db,
                              "SELECT unique_key IS NULL AND dedupe_key = ? FROM jobs WHERE id = ?",
                              "si", key, id1),
                     1);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE dedupe_key = ?", "s", key), 2);

    /* Eight connections racing for one new key: one job, one id for all. */
    char key2[96];
    snprintf(key2, sizeof key2, "race:%s", tag);
    pthread_t th[8];
    struct race rs[8];
    for (int i = 0; i < 8; i++) {
        rs[i] = (struct race){kind, key2, 0, -3};
        pthread_create(&th[i], NULL, enqueue_race, &rs[i]);
    }
    int created = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_true(rs[i].rc == 0 || rs[i].rc == 1);
        created += rs[i].rc == 0;
        assert_int_equal(rs[i].id, rs[0].id);
    }
    assert_int_equal(created, 1);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE dedupe_key = ?", "s", key2), 1);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- backoff -------------- */

#define NB 40
#define BACKOFF_ATTEMPTS 6

static void test_retries_back_off_then_dead_with_history(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("jobs.backoff_base", "10", &e), 0);
    assert_int_equal(cs_config_set("jobs.backoff_cap", "60", &e), 0);
    char kind[48];
    kind_name(kind, sizeof kind, "backoff");
    int64_t ids[NB];
    for (int i = 0; i < NB; i++)
        ids[i] = enq(db, kind, NULL, &(job_opts){.max_attempts = BACKOFF_ATTEMPTS});

    double mean[BACKOFF_ATTEMPTS + 1] = {0}, maxd[BACKOFF_ATTEMPTS + 1] = {0};
    for (int k = 1; k <= BACKOFF_ATTEMPTS; k++) {
        for (int i = 0; i < NB; i++) {
            job_claimed c = claim1(db, "owner-bo", kind, 0);
            assert_int_equal(c.attempt, k);
            char msg[32];
            snprintf(msg, sizeof msg, "sàn trả 503 (lần %d)", k);
            assert_int_equal(finish(db, &c, "owner-bo", JOB_RETRY, -1, msg), 0);
            job_claimed_free(&c);
        }
        if (k == BACKOFF_ATTEMPTS) break;
        for (int i = 0; i < NB; i++) {
            /* Delay from the database clock, in ms, then made due at once for the next round. */
            double d = (double)tsup_i64(
                           db,
                           "SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), run_at) DIV 1000 FROM jobs "
                           "WHERE id = ? AND state = 'queued'",
                           "i", ids[i]) /
                       1000.0;
            double hi = 10.0 * (double)(1 << (k - 1));
            if (hi > 60) hi = 60;
            if (d < 10.0 - 0.5 || d > hi + 0.05)
                fail_msg("attempt %d: delay %.3f s outside [10, %.0f]", k, d, hi);
            mean[k] += d / NB;
            if (d > maxd[k]) maxd[k] = d;
        }
        tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) WHERE kind = ? AND state = 'queued'", "s",
                  kind);
    }
    printf("# mean backoff by attempt: %.1f %.1f %.1f %.1f %.1f s (cap 60)\n", mean[1], mean[2],
           mean[3], mean[4], mean[5]);
    /* Uniform in [10, 10·2^(k-1)] capped at 60: means 10, 15, 25, 35, 35. */
    assert_true(mean[1] < 10.6);
    assert_true(mean[2] > mean[1] + 2 && mean[3] > mean[2] + 4 && mean[4] > mean[3] + 4);
    assert_true(maxd[5] <= 60.05 && maxd[5] > 45);
    for (int i = 0; i < NB; i++) {
        char st[16];
        assert_string_equal(state_of(db, ids[i], st, sizeof st), "dead");
    }
    json_t *j = NULL;
    assert_int_equal(job_get_json(db, ids[7], &j, &e), 0);
    assert_string_equal(json_string_value(json_object_get(j, "last_error")), "sàn trả 503 (lần 6)");
    json_t *h = json_object_get(j, "error_history");
    assert_int_equal(json_array_size(h), BACKOFF_ATTEMPTS);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "attempt")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "error")),
                        "sàn trả 503 (lần 1)");
    assert_int_equal(json_integer_value(json_object_get(j, "attempts")), BACKOFF_ATTEMPTS);
    assert_true(json_is_string(json_object_get(j, "finished_at")));
    json_decref(j);
    cs_config_set("jobs.backoff_base", "5", &e);
    cs_config_set("jobs.backoff_cap", "3600", &e);
    cs_db_close(db);
}

static void test_retry_after_snooze_fail_and_long_errors(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char kind[48];
    kind_name(kind, sizeof kind, "outcomes");
    int64_t id = enq(db, kind, NULL, &(job_opts){.max_attempts = 25});
    /* Retry-After: exactly that long, attempt counted. */
    job_claimed c = claim1(db, "o", kind, 0);
    assert_int_equal(finish(db, &c, "o", JOB_RETRY, 120000, "429 Retry-After: 120"), 0);
    job_claimed_free(&c);
    int64_t d = tsup_i64(
        db, "SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), run_at) DIV 1000 FROM jobs WHERE id = ?",
        "i", id);
    assert_true(d > 119000 && d <= 120000);
    assert_int_equal(tsup_i64(db, "SELECT attempts FROM jobs WHERE id = ?", "i", id), 1);
    /* Snooze: later, attempt given back, nothing recorded. */
    tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) WHERE id = ?", "i", id);
    c = claim1(db, "o", kind, 0);
    assert_int_equal(c.attempt, 2);
    assert_int_equal(finish(db, &c, "o", JOB_SNOOZE, 30000, NULL), 0);
    job_claimed_free(&c);
    assert_int_equal(tsup_i64(db, "SELECT attempts FROM jobs WHERE id = ?", "i", id), 1);
    assert_int_equal(
        tsup_i64(db, "SELECT JSON_LENGTH(error_history) FROM jobs WHERE id = ?", "i", id), 1);
    d = tsup_i64(
        db, "SELECT TIMESTAMPDIFF(MICROSECOND, NOW(3), run_at) DIV 1000 FROM jobs WHERE id = ?",
        "i", id);
    assert_true(d > 29000 && d <= 30000);
    /* 23 more failures with a 3,000-character Vietnamese error: kept at 1,000 characters and the
     * history at the newest 20. */
    char *big = cs_malloc(3 * 3000 + 1);
    size_t o = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(big + o, "ệ", 3);
        o += 3;
    }
    big[o] = '\0';
    for (int k = 2; k <= 24; k++) {
        tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) WHERE id = ?", "i", id);
        c = claim1(db, "o", kind, 0);
        assert_int_equal(c.attempt, k);
        assert_int_equal(finish(db, &c, "o", JOB_RETRY, -1, big), 0);
        job_claimed_free(&c);
    }
    cs_free(big);
    assert_int_equal(tsup_i64(db, "SELECT CHAR_LENGTH(last_error) FROM jobs WHERE id = ?", "i", id),
                     1000);
    assert_int_equal(
        tsup_i64(db, "SELECT JSON_LENGTH(error_history) FROM jobs WHERE id = ?", "i", id), 20);
    assert_int_equal(
        tsup_i64(db, "SELECT JSON_VALUE(error_history, '$[0].attempt') FROM jobs WHERE id = ?", "i",
                 id),
        5);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT CHAR_LENGTH(JSON_VALUE(error_history, '$[19].error')) FROM jobs WHERE id = ?",
            "i", id),
        1000);
    /* Fail: dead at once with the reason, even with attempts left. */
    tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) WHERE id = ?", "i", id);
    c = claim1(db, "o", kind, 0);
    assert_int_equal(finish(db, &c, "o", JOB_FAIL, 0, "sản phẩm không còn tồn tại"), 0);
    job_claimed_free(&c);
    char st[16];
    assert_string_equal(state_of(db, id, st, sizeof st), "dead");
    assert_int_equal(tsup_i64(db, "SELECT attempts FROM jobs WHERE id = ?", "i", id), 25);
    assert_int_equal(
        tsup_i64(db, "SELECT last_error = 'sản phẩm không còn tồn tại' FROM jobs WHERE id = ?", "i",
                 id),
        1);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- reaper --------------- */

static void test_reaper_takes_back_expired_leases(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kind[48];
    kind_name(kind, sizeof kind, "reap");
    int64_t id = enq(db, kind, NULL, &(job_opts){.max_attempts = 2});
    job_claimed c = claim1(db, "owner-gone", kind, 0);
    int64_t lease = tsup_i64(
        db, "SELECT TIMESTAMPDIFF(SECOND, NOW(3), lease_expires_at) FROM jobs WHERE id = ?", "i",
        id);
    assert_true(lease >= cs_cfg_int("worker.lease_seconds") - 2 &&
                lease <= cs_cfg_int("worker.lease_seconds"));
    /* A live lease is left alone. */
    unsigned reaped = 9;
    assert_int_equal(job_reap(db, 100, &reaped, &e), 0);
    char st[16];
    assert_string_equal(state_of(db, id, st, sizeof st), "running");
    /* The worker went silent: its lease ran out. */
    tsup_exec(db, "UPDATE jobs SET lease_expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id = ?", "i",
              id);
    assert_int_equal(job_reap(db, 100, &reaped, &e), 0);
    assert_true(reaped >= 1);
    assert_string_equal(state_of(db, id, st, sizeof st), "queued");
    assert_int_equal(tsup_i64(db,
                              "SELECT lease_owner IS NULL AND attempts = 1 AND run_at > NOW(3) "
                              "FROM jobs WHERE id = ?",
                              "i", id),
                     1);
    assert_int_equal(
        tsup_i64(db, "SELECT last_error LIKE 'lease expired%owner-gone%' FROM jobs WHERE id = ?",
                 "i", id),
        1);
    /* The silent worker comes back: its heartbeat and its finish find the job no longer theirs. */
    assert_int_equal(job_extend_lease(db, id, "owner-gone", 1, 60, NULL, &e), 1);
    assert_int_equal(finish(db, &c, "owner-gone", JOB_OK, 0, NULL), 1);
    job_claimed_free(&c);
    assert_string_equal(state_of(db, id, st, sizeof st), "queued");
    /* Second claim, second silence: attempts are spent, so dead. */
    tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) WHERE id = ?", "i", id);
    c = claim1(db, "owner-gone-2", kind, 0);
    assert_int_equal(c.attempt, 2);
    job_claimed_free(&c);
    tsup_exec(db, "UPDATE jobs SET lease_expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id = ?", "i",
              id);
    assert_int_equal(job_reap(db, 100, &reaped, &e), 0);
    assert_string_equal(state_of(db, id, st, sizeof st), "dead");
    assert_int_equal(
        tsup_i64(db, "SELECT JSON_LENGTH(error_history) FROM jobs WHERE id = ?", "i", id), 2);
    cs_db_close(db);
}

static void test_release_gives_the_attempt_back(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kind[48];
    kind_name(kind, sizeof kind, "release");
    int64_t id = enq(db, kind, NULL, NULL);
    job_claimed c = claim1(db, "w1", kind, 0);
    assert_int_equal(job_release(db, id, "w2", 1, &e), 1); /* not w2's */
    assert_int_equal(job_release(db, id, "w1", 1, &e), 0);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT state = 'queued' AND attempts = 0 AND lease_owner IS NULL AND run_at <= NOW(3) "
            "FROM jobs WHERE id = ?",
            "i", id),
        1);
    assert_int_equal(finish(db, &c, "w1", JOB_OK, 0, NULL), 1);
    job_claimed_free(&c);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- cancel / by hand ------ */

static void test_cancel_queued_and_running(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kind[48], key[64];
    kind_name(kind, sizeof kind, "cancel");
    snprintf(key, sizeof key, "cancel:%s", tag);
    int64_t q = enq(db, kind, NULL, &(job_opts){.unique_key = key});
    assert_int_equal(job_cancel(db, q, NULL, &e), 0);
    char st[16];
    assert_string_equal(state_of(db, q, st, sizeof st), "cancelled");
    assert_int_equal(
        tsup_i64(db, "SELECT unique_key IS NULL AND finished_at IS NOT NULL FROM jobs WHERE id = ?",
                 "i", q),
        1);
    assert_int_equal(job_cancel(db, q, NULL, &e), -1);
    assert_int_equal(e.code, CS_E_STATE_TRANSITION);
    cs_error_clear(&e);
    assert_int_equal(job_cancel(db, 999999999, NULL, &e), -1);
    assert_int_equal(e.code, CS_E_NOT_FOUND);
    cs_error_clear(&e);

    /* Running: a request the handler sees at its next heartbeat; a non-OK end → cancelled. */
    int64_t r = enq(db, kind, NULL, NULL);
    job_claimed c = claim1(db, "w-c", kind, 0);
    assert_int_equal(c.id, r);
    assert_int_equal(job_cancel(db, r, NULL, &e), 1);
    assert_string_equal(state_of(db, r, st, sizeof st), "running");
    job_ctx *ctx = cs_calloc(1, sizeof *ctx);
    ctx->id = r;
    ctx->kind = kind;
    ctx->attempt = c.attempt;
    ctx->db = db;
    ctx->lease_s = 30;
    snprintf(ctx->lease_owner, sizeof ctx->lease_owner, "w-c");
    assert_int_equal(job_heartbeat(ctx), 1);
    assert_true(atomic_load(&ctx->stop) & JOB_STOP_CANCEL);
    assert_int_equal(finish(db, &c, "w-c", JOB_RETRY, -1, "stopped: cancelled"), 0);
    job_claimed_free(&c);
    assert_string_equal(state_of(db, r, st, sizeof st), "cancelled");

    /* A handler that finished its work anyway ends done: the effect happened. */
    int64_t d = enq(db, kind, NULL, NULL);
    c = claim1(db, "w-d", kind, 0);
    assert_int_equal(job_cancel(db, d, NULL, &e), 1);
    assert_int_equal(finish(db, &c, "w-d", JOB_OK, 0, NULL), 0);
    job_claimed_free(&c);
    assert_string_equal(state_of(db, d, st, sizeof st), "done");

    /* Timeout: past the deadline a heartbeat stops extending and says stop. */
    int64_t t = enq(db, kind, NULL, NULL);
    c = claim1(db, "w-t", kind, 0);
    ctx->id = t;
    ctx->attempt = c.attempt;
    atomic_store(&ctx->stop, 0);
    snprintf(ctx->lease_owner, sizeof ctx->lease_owner, "w-t");
    assert_int_equal(job_heartbeat(ctx), 0);
    ctx->deadline_ms = 1; /* long past on the monotonic clock */
    int64_t before = tsup_i64(
        db, "SELECT CAST(UNIX_TIMESTAMP(lease_expires_at) * 1000 AS SIGNED) FROM jobs WHERE id = ?",
        "i", t);
    assert_int_equal(job_heartbeat(ctx), 1);
    assert_true(atomic_load(&ctx->stop) & JOB_STOP_TIMEOUT);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT CAST(UNIX_TIMESTAMP(lease_expires_at) * 1000 AS SIGNED) FROM jobs WHERE id = ?",
            "i", t),
        before);
    job_claimed_free(&c);
    cs_free(ctx);
    cs_db_close(db);
}

static void test_manual_retry_of_dead_and_cancelled(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kind[48], key[64];
    kind_name(kind, sizeof kind, "manual");
    snprintf(key, sizeof key, "manual:%s", tag);
    int64_t id = enq(db, kind, "{\"p\":1}", &(job_opts){.unique_key = key, .max_attempts = 3});
    job_claimed c = claim1(db, "w", kind, 0);
    assert_int_equal(finish(db, &c, "w", JOB_FAIL, 0, "hết hạn ủy quyền"), 0);
    job_claimed_free(&c);
    cs_actor by = cs_actor_system("test-jobs");
    assert_int_equal(job_retry_dead(db, id, &by, &e), 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND entity_id = "
                              "? AND action = 'job.retry'",
                              "s", ids),
                     1);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT state = 'queued' AND attempts = 0 AND unique_key = ? AND finished_at IS NULL "
            "AND last_error IS NOT NULL FROM jobs WHERE id = ?",
            "si", key, id),
        1);
    /* Only dead or cancelled jobs can be retried by hand. */
    assert_int_equal(job_retry_dead(db, id, NULL, &e), -1);
    assert_int_equal(e.code, CS_E_STATE_TRANSITION);
    cs_error_clear(&e);
    /* Runs to done after the retry. */
    c = claim1(db, "w", kind, 0);
    assert_int_equal(c.id, id);
    assert_int_equal(c.attempt, 1);
    assert_int_equal(finish(db, &c, "w", JOB_OK, 0, NULL), 0);
    job_claimed_free(&c);
    /* A cancelled job whose key someone else now holds cannot come back: 409 with the holder. */
    int64_t a = enq(db, kind, NULL, &(job_opts){.unique_key = key});
    assert_int_equal(job_cancel(db, a, NULL, &e), 0);
    int64_t b = enq(db, kind, NULL, &(job_opts){.unique_key = key});
    assert_true(b != a);
    assert_int_equal(job_retry_dead(db, a, NULL, &e), -1);
    assert_int_equal(e.code, CS_E_CONFLICT);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)b);
    assert_string_equal(e.existing, want);
    cs_error_clear(&e);
    assert_int_equal(job_cancel(db, b, NULL, &e), 0);
    assert_int_equal(job_retry_dead(db, a, NULL, &e), 0);
    cs_db_close(db);
}

/* ---------------------------------------------------------------- scheduler ------------ */

struct tickrace {
    const char *kind;
    int64_t tick;
    int rc;
};

static void *tick_race(void *arg)
{
    struct tickrace *t = arg;
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = cs_db_connect(&e);
    int64_t id;
    t->rc = db ? job_sched_enqueue_tick(db, t->kind, t->tick, "{\"a\":1}", &id, &e) : -2;
    if (db) cs_db_close(db);
    return NULL;
}

static void test_scheduler_ticks_once(void **state)
{
    (void)state;
    cs_db *a = tsup_connect(), *b = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kind[48];
    kind_name(kind, sizeof kind, "tick");
    /* The same tick from six connections at once: one job. */
    pthread_t th[6];
    struct tickrace tr[6];
    for (int i = 0; i < 6; i++) {
        tr[i] = (struct tickrace){kind, 1700000000, -3};
        pthread_create(&th[i], NULL, tick_race, &tr[i]);
    }
    int made = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_true(tr[i].rc == 0 || tr[i].rc == 1);
        made += tr[i].rc == 0;
    }
    assert_int_equal(made, 1);
    assert_int_equal(tsup_i64(a, "SELECT COUNT(*) FROM jobs WHERE kind = ?", "s", kind), 1);
    assert_int_equal(
        tsup_i64(a, "SELECT JSON_VALUE(payload, '$.tick') FROM jobs WHERE kind = ?", "s", kind),
        1700000000);
    /* Even after that job ended and its unique key was freed, the tick stays taken. */
    job_claimed c = claim1(a, "w", kind, 0);
    assert_int_equal(finish(a, &c, "w", JOB_OK, 0, NULL), 0);
    job_claimed_free(&c);
    int64_t id;
    assert_int_equal(job_sched_enqueue_tick(b, kind, 1700000000, NULL, &id, &e), 1);

    /* Leadership: a takes the lock and enqueues the current tick; b is not leader; after a
     * resigns, b leads but finds the tick already enqueued. */
    job_registry_reset();
    assert_int_equal(job_schedule_every(kind, 3600, "{\"snapshot\":\"targets\"}", &e), 0);
    int leader = -1;
    assert_int_equal(job_sched_pass(a, &leader, &e), 1);
    assert_int_equal(leader, 1);
    assert_int_equal(job_sched_pass(b, &leader, &e), 0);
    assert_int_equal(leader, 0);
    assert_int_equal(job_sched_pass(a, &leader, &e), 0);
    assert_int_equal(leader, 1);
    job_sched_resign(a);
    assert_int_equal(job_sched_pass(b, &leader, &e), 0);
    assert_int_equal(leader, 1);
    int64_t now = tsup_i64(a, "SELECT UNIX_TIMESTAMP()", "");
    int64_t tick = now - now % 3600;
    char key[80];
    snprintf(key, sizeof key, "%s@%lld", kind, (long long)tick);
    assert_int_equal(tsup_i64(a,
                              "SELECT COUNT(*) FROM jobs WHERE unique_key = ? AND "
                              "JSON_VALUE(payload, '$.snapshot') = 'targets'",
                              "s", key),
                     1);
    job_sched_resign(b);
    job_registry_reset();
    cs_db_close(a);
    cs_db_close(b);
}

/* ---------------------------------------------------------------- views --------------- */

static void test_list_get_and_metrics(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error e;
    cs_error_clear(&e);
    char kind[48];
    kind_name(kind, sizeof kind, "views");
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = enq(db, kind, "{\"household\":\"TH-2026-00001\"}", NULL);
    tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) - INTERVAL 5 SECOND WHERE id = ?", "i", ids[0]);
    job_claimed c = claim1(db, "w", kind, 0);
    assert_int_equal(c.id, ids[0]);
    assert_int_equal(finish(db, &c, "w", JOB_FAIL, 0, "bad"), 0);
    job_claimed_free(&c);

    json_t *list = NULL;
    int64_t next = -1;
    assert_int_equal(job_list_json(db, "queued", kind, 0, 1, &list, &next, &e), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), ids[2]);
    assert_int_equal(next, ids[2]);
    json_decref(list);
    assert_int_equal(job_list_json(db, "queued", kind, next, 5, &list, &next, &e), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), ids[1]);
    assert_int_equal(next, 0);
    json_decref(list);
    assert_int_equal(job_list_json(db, "dead", kind, 0, 10, &list, &next, &e), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "last_error")),
                        "bad");
    json_decref(list);
    assert_int_equal(job_list_json(db, "sleeping", NULL, 0, 10, &list, &next, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    cs_error_clear(&e);

    json_t *j = NULL;
    assert_int_equal(job_get_json(db, ids[1], &j, &e), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "payload"), "household")),
        "TH-2026-00001");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "queued");
    const char *run_at = json_string_value(json_object_get(j, "run_at"));
    assert_non_null(run_at);
    assert_int_equal(strlen(run_at), 24); /* 2026-01-02T03:04:05.678Z */
    assert_int_equal(run_at[23], 'Z');
    assert_true(json_is_null(json_object_get(j, "finished_at")));
    json_decref(j);
    assert_int_equal(job_get_json(db, 999999999, &j, &e), -1);
    assert_int_equal(e.code, CS_E_NOT_FOUND);
    cs_error_clear(&e);

    tsup_exec(db, "UPDATE jobs SET run_at = NOW(3) - INTERVAL 90 SECOND WHERE id = ?", "i", ids[1]);
    job_depth *d = NULL;
    size_t n = 0;
    assert_int_equal(job_metrics(db, &d, &n, &e), 0);
    int seen_q = 0, seen_dead = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].kind, kind)) continue;
        if (!strcmp(d[i].state, "queued")) {
            seen_q = 1;
            assert_int_equal(d[i].count, 2);
            assert_true(d[i].oldest_ready_s >= 90 && d[i].oldest_ready_s < 120);
        }
        if (!strcmp(d[i].state, "dead")) {
            seen_dead = 1;
            assert_int_equal(d[i].count, 1);
            assert_int_equal(d[i].attempts, 1);
        }
    }
    cs_free(d);
    assert_true(seen_q && seen_dead);
    int64_t dead = 0;
    double oldest = 0;
    assert_int_equal(job_metrics_summary(db, &dead, &oldest, &e), 0);
    assert_true(dead >= 1 && oldest >= 90);
    cs_db_close(db);
}

int main(void)
{
    tsup_require_db();
    snprintf(tag, sizeof tag, "%ld", (long)getpid());
    setenv("CHOSO_TEST_JOBS", "1", 1);
    cs_error e;
    cs_error_clear(&e);
    if (cs_db_pool_init(&e)) {
        fprintf(stderr, "pool: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    cs_db *db = cs_db_connect(&e);
    if (!db || job_test_tables(db, &e) || job_register_all(&e)) {
        fprintf(stderr, "setup: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    cs_db_close(db);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_threads_effect_exactly_once),
        cmocka_unit_test(test_worker_heartbeats_carry_cancel_and_timeout),
        cmocka_unit_test(test_idle_worker_polls_with_one_thread),
        cmocka_unit_test(test_skip_locked_claims_do_not_overlap),
        cmocka_unit_test(test_unique_key_returns_existing_job),
        cmocka_unit_test(test_retries_back_off_then_dead_with_history),
        cmocka_unit_test(test_retry_after_snooze_fail_and_long_errors),
        cmocka_unit_test(test_reaper_takes_back_expired_leases),
        cmocka_unit_test(test_release_gives_the_attempt_back),
        cmocka_unit_test(test_cancel_queued_and_running),
        cmocka_unit_test(test_manual_retry_of_dead_and_cancelled),
        cmocka_unit_test(test_scheduler_ticks_once),
        cmocka_unit_test(test_list_get_and_metrics),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    job_registry_reset();
    cs_db_pool_shutdown();
    return rc;
}
