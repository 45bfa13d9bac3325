/* service/h_jobs: /v1/jobs — the job queue for administrators: list (filter by state and kind),
 * one job with its error history, retry a dead or cancelled job, cancel a queued or running one.
 * It runs no job and writes only through jobs/job.h (which audits the changes). */
#include "jobs/job.h"
#include "service/api.h"
#include "service/handlers.h"
#include "service/metrics.h"
#include "core/mem.h"
#include <stdio.h>
#include <string.h>

int svc_jobs_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t after;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    static const char *const states[] = {"queued", "running", "done", "dead", "cancelled", NULL};
    const char *state = NULL, *kind = NULL;
    svc_api_query_enum(r, "state", states, &state, &err);
    svc_api_query_token(r, "kind", "abcdefghijklmnopqrstuvwxyz0123456789._-", JOB_KIND_MAX, &kind,
                        &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *items = NULL;
    int64_t next = 0;
    /* Newest first: the cursor is the id the next page starts below. */
    if (job_list_json(db, state, kind, after, (unsigned)limit, &items, &next, &err))
        return svc_reply_problem(r, &err);
    return svc_api_reply_page(r, items, next);
}

/* The job named by {id} as JSON, or a reply already sent (404) and NULL. */
static json_t *load(svc_req *r, cs_db *db, int64_t id)
{
    cs_error err;
    cs_error_clear(&err);
    json_t *j = NULL;
    if (id <= 0) {
        svc_reply_error(r, CS_E_NOT_FOUND, "no job with this id");
        return NULL;
    }
    if (job_get_json(db, id, &j, &err)) {
        svc_reply_problem(r, &err);
        return NULL;
    }
    return j;
}

int svc_jobs_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *j = load(r, db, svc_api_param_id(r, "id"));
    return j ? svc_reply_json(r, 200, j) : 0;
}

int svc_jobs_retry(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t id = svc_api_param_id(r, "id");
    if (id <= 0) return svc_reply_error(r, CS_E_NOT_FOUND, "no job with this id");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor by = svc_audit_actor(r);
    if (job_retry_dead(db, id, &by, &err)) return svc_reply_problem(r, &err);
    json_t *j = load(r, db, id);
    return j ? svc_reply_json(r, 200, j) : 0;
}

int svc_jobs_cancel(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t id = svc_api_param_id(r, "id");
    if (id <= 0) return svc_reply_error(r, CS_E_NOT_FOUND, "no job with this id");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor by = svc_audit_actor(r);
    int rc = job_cancel(db, id, &by, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    json_t *j = load(r, db, id);
    /* 202: a running job was only asked to stop; its handler sees the request at its next
     * heartbeat and the job ends 'cancelled' (or 'done' if its work was already complete). */
    return j ? svc_reply_json(r, rc == 1 ? 202 : 200, j) : 0;
}

/* /metrics: queue depth by kind and state, attempts spent, the oldest ready job's wait, and
 * dead jobs. Runs at scrape time on this thread's connection: two indexed range queries. */
static void jobs_collect(cs_buf *o, void *arg)
{
    (void)arg;
    cs_error err;
    cs_error_clear(&err);
    job_depth *d = NULL;
    size_t n = 0;
    int64_t dead = 0;
    double oldest = 0;
    cs_db *db = cs_db_acquire(&err);
    int ok = db && job_metrics(db, &d, &n, &err) == 0 &&
             job_metrics_summary(db, &dead, &oldest, &err) == 0;
    if (db) cs_db_release(db);
    cs_buf_puts(
        o,
        "# HELP choso_jobs_scrape_ok 1 when the job figures below could be read from the database\n"
        "# TYPE choso_jobs_scrape_ok gauge\n");
    cs_buf_printf(o, "choso_jobs_scrape_ok %d\n", ok);
    if (!ok) {
        cs_free(d);
        return;
    }
    cs_buf_puts(o, "# HELP choso_jobs Jobs by kind and pending state (queued, running, dead)\n"
                   "# TYPE choso_jobs gauge\n");
    for (size_t i = 0; i < n; i++) {
        cs_buf_puts(o, "choso_jobs{kind=\"");
        svc_metrics_label(o, d[i].kind);
        cs_buf_printf(o, "\",state=\"%s\"} %lld\n", d[i].state, (long long)d[i].count);
    }
    cs_buf_puts(
        o, "# HELP choso_jobs_attempts Attempts spent by the jobs of each kind and pending state\n"
           "# TYPE choso_jobs_attempts gauge\n");
    for (size_t i = 0; i < n; i++) {
        cs_buf_puts(o, "choso_jobs_attempts{kind=\"");
        svc_metrics_label(o, d[i].kind);
        cs_buf_printf(o, "\",state=\"%s\"} %lld\n", d[i].state, (long long)d[i].attempts);
    }
    cs_buf_puts(o, "# HELP choso_jobs_oldest_ready_seconds How long the longest-waiting ready job "
                   "of a kind has waited\n"
                   "# TYPE choso_jobs_oldest_ready_seconds gauge\n");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].state, "queued")) continue;
        cs_buf_puts(o, "choso_jobs_oldest_ready_seconds{kind=\"");
        svc_metrics_label(o, d[i].kind);
        cs_buf_printf(o, "\"} %.3f\n", d[i].oldest_ready_s);
    }
    cs_buf_printf(o,
                  "# HELP choso_jobs_dead Dead jobs waiting for a person (retry by hand or leave)\n"
                  "# TYPE choso_jobs_dead gauge\nchoso_jobs_dead %lld\n"
                  "# HELP choso_jobs_oldest_ready_all_seconds How long the longest-waiting ready "
                  "job of any kind has waited\n"
                  "# TYPE choso_jobs_oldest_ready_all_seconds "
                  "gauge\nchoso_jobs_oldest_ready_all_seconds %.3f\n",
                  (long long)dead, oldest);
    cs_free(d);
}

int svc_jobs_metrics_init(cs_error *err)
{
    if (svc_metrics_register_collector("choso_jobs", jobs_collect, NULL))
        return cs_error_set(err, CS_E_INTERNAL, "cannot register the job metrics");
    return 0;
}
