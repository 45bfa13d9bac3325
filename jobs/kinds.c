/* jobs/kinds: the list of job kinds this build registers, and the kinds used by tests and
 * operators ("noop", "test.effect", "test.tick"), registered only when CHOSO_TEST_JOBS=1 so no
 * production path can reach them. Real handlers live in their own files. */
#include "core/log.h"
#include "core/mem.h"
#include "jobs/import.h"
#include "jobs/flows.h"
#include "jobs/orders.h"
#include "jobs/jobs_int.h"
#include "jobs/queue.h"
#include "jobs/retention.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// clang-format off
static const char SQL_TEST_RUNS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS job_test_runs ("
    "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  job_id BIGINT NOT NULL,"
    "  kind VARCHAR(40) CHARACTER SET ascii NOT NULL,"
    "  attempt INT NOT NULL,"
    "  lease_owner VARCHAR(80) CHARACTER SET ascii NOT NULL,"
    "  effect_key VARCHAR(190) CHARACTER SET ascii NULL,"
    "  at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
    "  KEY (job_id),"
    "  KEY (effect_key)"
    ") ENGINE=InnoDB";
/* No unique key on effect_key on purpose: duplicates must be possible, so that counting rows
 * per key measures whether the handler's own check kept the effect to one. */
static const char SQL_TEST_EFFECTS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS job_test_effects ("
    "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    "  effect_key VARCHAR(190) CHARACTER SET ascii NOT NULL,"
    "  job_id BIGINT NOT NULL,"
    "  at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
    "  KEY (effect_key)"
    ") ENGINE=InnoDB";
static const char SQL_EFFECT_COUNT[] =
    "SELECT COUNT(*)"
    " FROM job_test_effects"
    " WHERE effect_key = ?"
    " FOR UPDATE";
static const char SQL_EFFECT_ADD[] =
    "INSERT INTO job_test_effects (effect_key, job_id)"
    " VALUES (?, ?)";
static const char SQL_RUN_ADD[] =
    "INSERT INTO job_test_runs (job_id, kind, attempt, lease_owner, effect_key)"
    " VALUES (?, ?, ?, ?, ?)";
static const char SQL_RUN_COUNT[] =
    "SELECT COUNT(*)"
    " FROM job_test_runs"
    " WHERE job_id = ?";
// clang-format on

int job_test_tables(cs_db *db, cs_error *err)
{
    if (cs_db_exec(db, SQL_TEST_RUNS_TABLE, "", err) < 0) return -1;
    if (cs_db_exec(db, SQL_TEST_EFFECTS_TABLE, "", err) < 0) return -1;
    return 0;
}

static job_outcome h_noop(job_ctx *ctx)
{
    (void)ctx;
    return JOB_OK;
}

static int64_t arg_int(const job_ctx *ctx, const char *name)
{
    json_t *v = json_object_get(ctx->args, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static const char *arg_str(const job_ctx *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->args, name));
}

/* Sleep ms, heartbeating every second when asked to; returns 1 if the job should stop. */
static int nap(job_ctx *ctx, int64_t ms, int heartbeat)
{
    int64_t end = job_mono_ms() + ms;
    while (job_mono_ms() < end) {
        int64_t left = end - job_mono_ms();
        job_sleep_ms(left < 1000 ? left : 1000);
        if (heartbeat && job_heartbeat(ctx) == 1 && (atomic_load(&ctx->stop) & ~JOB_STOP_SHUTDOWN))
            return 1;
    }
    return 0;
}

struct effect {
    const char *key;
    int64_t job_id;
    int unsafe, applied;
};

/* Check-then-act in one transaction: the locking read of the key serialises two runs. */
static int effect_tx(cs_db *db, void *arg, cs_error *err)
{
    struct effect *e = arg;
    int64_t n = 0;
    e->applied = 0;
    if (!e->unsafe && cs_db_scalar_i64(db, &n, SQL_EFFECT_COUNT, "s", e->key, err) < 0) return -1;
    if (n > 0) return 0;
    if (cs_db_exec(db, SQL_EFFECT_ADD, "si", e->key, e->job_id, err) < 0) return -1;
    e->applied = 1;
    return 0;
}

static int record_run(job_ctx *ctx, const char *key, cs_error *err)
{
    return cs_db_exec(ctx->db, SQL_RUN_ADD, "isiss", ctx->id, ctx->kind, (int64_t)ctx->attempt,
                      ctx->lease_owner, key, err) < 0
               ? -1
               : 0;
}

/* Payload: {"key": effect key (required), "sleep_before_ms", "sleep_after_ms", "heartbeat": 1
 * (heartbeat while sleeping), "fail_times": n (retry while attempt <= n), "retry_after": s,
 * "fail": "msg" (dead at once), "snooze_runs": n (snooze the first n runs), "unsafe": 1 (skip
 * the check: shows that a double run would double the effect)}. Every run is recorded in
 * job_test_runs before anything else. */
static job_outcome h_effect(job_ctx *ctx)
{
    const char *key = arg_str(ctx, "key");
    if (!key || !*key) return job_fail(ctx, "payload.key missing");
    cs_error err;
    cs_error_clear(&err);
    if (record_run(ctx, key, &err))
        return job_retry(ctx, 0, "record run: %s", cs_code_name(err.code));
    int hb = arg_int(ctx, "heartbeat") != 0;
    if (nap(ctx, arg_int(ctx, "sleep_before_ms"), hb))
        return job_retry(ctx, 0, "stopped while sleeping");
    const char *fail = arg_str(ctx, "fail");
    if (fail) return job_fail(ctx, "%s", fail);
    if (ctx->attempt <= arg_int(ctx, "fail_times"))
        return job_retry(ctx, (unsigned)arg_int(ctx, "retry_after"), "test failure %d of %lld",
                         ctx->attempt, (long long)arg_int(ctx, "fail_times"));
    int64_t snooze = arg_int(ctx, "snooze_runs");
    if (snooze > 0) {
        int64_t runs = 0;
        if (cs_db_scalar_i64(ctx->db, &runs, SQL_RUN_COUNT, "i", ctx->id, &err) < 0)
            return job_retry(ctx, 0, "count runs: %s", cs_code_name(err.code));
        if (runs <= snooze) return job_snooze(ctx, 0);
    }
    struct effect e = {key, ctx->id, arg_int(ctx, "unsafe") != 0, 0};
    if (cs_db_tx(ctx->db, effect_tx, &e, &err))
        return job_retry(ctx, 0, "effect: %s", cs_code_name(err.code));
    if (nap(ctx, arg_int(ctx, "sleep_after_ms"), hb))
        return job_retry(ctx, 0, "stopped while sleeping");
    return JOB_OK;
}

/* The scheduled test kind: records its run keyed by its tick. */
static job_outcome h_tick(job_ctx *ctx)
{
    char key[64];
    snprintf(key, sizeof key, "tick@%lld", (long long)arg_int(ctx, "tick"));
    cs_error err;
    cs_error_clear(&err);
    if (record_run(ctx, key, &err))
        return job_retry(ctx, 0, "record run: %s", cs_code_name(err.code));
    return JOB_OK;
}

static int env_is(const char *name, const char *value)
{
    const char *v = getenv(name);
    return v && !strcmp(v, value);
}

static int register_test_kinds(cs_error *err)
{
    if (job_register("noop", h_noop, NULL, err) ||
        job_register("test.effect", h_effect, NULL, err) ||
        job_register("test.tick", h_tick, NULL, err))
        return -1;
    const char *period = getenv("CHOSO_TEST_TICK_SECONDS");
    if (period && *period) {
        char *end;
        errno = 0;
        long p = strtol(period, &end, 10);
        if (errno || *end || p < 1 || p > 86400)
            return cs_error_set(err, CS_E_CONFIG, "CHOSO_TEST_TICK_SECONDS: 1..86400");
        if (job_schedule_every("test.tick", (unsigned)p, "{\"test\":true}", err)) return -1;
    }
    return 0;
}

int job_register_all(cs_error *err)
{
    job_registry_reset();
    /* Each room that owns job kinds adds one call here to its registration function, which calls
     * job_register() for its kinds and job_schedule_every() for its periodic ones. */
    if (job_retention_register(err)) return -1; /* jobs/retention.c: the queue's housekeeping */
    if (job_import_register(err)) return -1;
    if (job_flows_register(err)) return -1; /* jobs/flows*.c: marketplace onboarding and listings */
    if (job_orders_register(err)) return -1; /* jobs/orders.c: orders.sync (the sold target) */
    if (env_is("CHOSO_TEST_JOBS", "1") && register_test_kinds(err)) return -1;
    return 0;
}
