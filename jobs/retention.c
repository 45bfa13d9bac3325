/* jobs/retention: deletes what the queue no longer needs, so the jobs table does not grow
 * without end (status polls and ticks alone add thousands of rows a day). Knows no job kind
 * but its own. */
#include "jobs/retention.h"
#include "core/config.h"
#include "core/log.h"
#include "jobs/job.h"

#define PRUNE_BATCH 5000

/* Run one DELETE … LIMIT batch until it removes less than a full batch. */
static int drain(cs_db *db, const char *sql, int days, int64_t *total, cs_error *err)
{
    for (;;) {
        int64_t n = days >= 0 ? cs_db_exec(db, sql, "ii", (int64_t)days, (int64_t)PRUNE_BATCH, err)
                              : cs_db_exec(db, sql, "i", (int64_t)PRUNE_BATCH, err);
        if (n < 0) return -1;
        *total += n;
        if (n < PRUNE_BATCH) return 0;
    }
}

// clang-format off
static const char SQL_PRUNE_JOBS[] =
    "DELETE FROM jobs"
    " WHERE state IN ('done', 'cancelled') AND finished_at < UTC_TIMESTAMP(3) - INTERVAL ? DAY"
    " LIMIT ?";
static const char SQL_PRUNE_TICKS[] =
    "DELETE FROM job_ticks"
    " WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ? DAY"
    " LIMIT ?";
static const char SQL_PRUNE_SESSIONS[] =
    "DELETE FROM sessions"
    " WHERE expires_at < UTC_TIMESTAMP()"
    " LIMIT ?";
// clang-format on

int job_prune(cs_db *db, int days, int64_t *deleted, cs_error *err)
{
    int64_t total = 0;
    int rc = drain(db, SQL_PRUNE_JOBS, days, &total, err);
    if (!rc) rc = drain(db, SQL_PRUNE_TICKS, days, &total, err);
    if (!rc) rc = drain(db, SQL_PRUNE_SESSIONS, -1, &total, err);
    if (deleted) *deleted = total;
    return rc;
}

static job_outcome h_prune(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t n = 0;
    if (job_prune(ctx->db, (int)cs_cfg_int("jobs.retention_days"), &n, &err))
        return job_retry(ctx, 0, "prune: %s", cs_code_name(err.code));
    if (n) cs_info("jobs.pruned", "%lld old rows deleted", (long long)n);
    return JOB_OK;
}

int job_retention_register(cs_error *err)
{
    if (job_register("jobs.prune", h_prune, NULL, err)) return -1;
    return job_schedule_every("jobs.prune", 3600, "{}", err);
}
