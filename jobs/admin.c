/* jobs/admin: read-only views of the queue for the API and /metrics (one job, lists, depth).
 * It changes nothing; state changes by hand live in jobs/queue.c. */
#include "core/mem.h"
#include "jobs/job.h"
#include "jobs/jobs_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// clang-format off
/* ISO 8601 UTC with milliseconds (the session time zone is UTC). */
#define ISO(c) \
    "IF(" c " IS NULL, NULL, CONCAT(LEFT(DATE_FORMAT(" c ", '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'))"

/* The columns row_json reads, in the order of enum J_* below. */
#define JOB_COLS \
    "id, kind, state, priority, " ISO("run_at") ", attempts, max_attempts," \
    " IFNULL(unique_key, dedupe_key), lease_owner, " ISO("lease_expires_at") "," \
    " cancel_requested, last_error, " ISO("created_at") ", " ISO("started_at") "," \
    " " ISO("finished_at")

static const char SQL_JOB_GET[] =
    "SELECT " JOB_COLS ", payload, error_history"
    " FROM jobs"
    " WHERE id = ?";
/* One more row than asked tells whether another page exists. */
static const char SQL_JOB_LIST[] =
    "SELECT " JOB_COLS
    " FROM jobs"
    " WHERE (? IS NULL OR state = ?) AND (? IS NULL OR kind = ?) AND (? = 0 OR id < ?)"
    " ORDER BY id DESC"
    " LIMIT ?";
// clang-format on
/* columns of JOB_COLS, then the two SQL_JOB_GET adds */
enum {
    J_ID,
    J_KIND,
    J_STATE,
    J_PRIORITY,
    J_RUN_AT,
    J_ATTEMPTS,
    J_MAX_ATTEMPTS,
    J_UNIQUE_KEY,
    J_LEASE_OWNER,
    J_LEASE_EXPIRES,
    J_CANCEL,
    J_LAST_ERROR,
    J_CREATED,
    J_STARTED,
    J_FINISHED,
    J_PAYLOAD,
    J_HISTORY
};

static json_t *str_or_null(const cs_rows *r, size_t i, unsigned c)
{
    const char *s = cs_rows_strn(r, i, c);
    return s ? json_string(s) : json_null();
}

static json_t *row_json(const cs_rows *r, size_t i)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "id", json_integer(cs_rows_i64(r, i, J_ID)));
    json_object_set_new(o, "kind", json_string(cs_rows_str(r, i, J_KIND)));
    json_object_set_new(o, "state", json_string(cs_rows_str(r, i, J_STATE)));
    json_object_set_new(o, "priority", json_integer(cs_rows_i64(r, i, J_PRIORITY)));
    json_object_set_new(o, "run_at", str_or_null(r, i, J_RUN_AT));
    json_object_set_new(o, "attempts", json_integer(cs_rows_i64(r, i, J_ATTEMPTS)));
    json_object_set_new(o, "max_attempts", json_integer(cs_rows_i64(r, i, J_MAX_ATTEMPTS)));
    json_object_set_new(o, "unique_key", str_or_null(r, i, J_UNIQUE_KEY));
    json_object_set_new(o, "lease_owner", str_or_null(r, i, J_LEASE_OWNER));
    json_object_set_new(o, "lease_expires_at", str_or_null(r, i, J_LEASE_EXPIRES));
    json_object_set_new(o, "cancel_requested", json_boolean(cs_rows_i64(r, i, J_CANCEL) != 0));
    json_object_set_new(o, "last_error", str_or_null(r, i, J_LAST_ERROR));
    json_object_set_new(o, "created_at", str_or_null(r, i, J_CREATED));
    json_object_set_new(o, "started_at", str_or_null(r, i, J_STARTED));
    json_object_set_new(o, "finished_at", str_or_null(r, i, J_FINISHED));
    return o;
}

int job_get_json(cs_db *db, int64_t id, json_t **out, cs_error *err)
{
    cs_rows *r = NULL;
    *out = NULL;
    if (cs_db_query(db, &r, SQL_JOB_GET, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "job %lld", (long long)id);
    }
    json_t *o = row_json(r, 0);
    if (!o) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOMEM, "job json");
    }
    json_t *p = json_loads(cs_rows_str(r, 0, J_PAYLOAD), 0, NULL);
    json_object_set_new(o, "payload", p ? p : json_object());
    const char *h = cs_rows_strn(r, 0, J_HISTORY);
    json_t *hist = h ? json_loads(h, 0, NULL) : NULL;
    json_object_set_new(o, "error_history",
                        json_is_array(hist) ? hist : (json_decref(hist), json_array()));
    cs_rows_free(r);
    *out = o;
    return 0;
}

static int state_valid(const char *s)
{
    static const char *const states[] = {"queued", "running", "done", "dead", "cancelled"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (!strcmp(s, states[i])) return 1;
    return 0;
}

int job_list_json(cs_db *db, const char *state, const char *kind, int64_t before_id, unsigned limit,
                  json_t **out, int64_t *next_before, cs_error *err)
{
    *out = NULL;
    *next_before = 0;
    if (state && !state_valid(state))
        cs_error_field(err, "state", CS_F_ENUM, "queued, running, done, dead, cancelled");
    if (kind && !job_kind_valid(kind))
        cs_error_field(err, "kind", CS_F_FORMAT, "1..40 of a-z 0-9 . _ -");
    if (limit < 1 || limit > 500) cs_error_field(err, "limit", CS_F_RANGE, "1..500");
    if (before_id < 0) cs_error_field(err, "before", CS_F_RANGE, "a job id");
    if (cs_error_failed(err)) return -1;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_JOB_LIST, "ssssiii", state, state, kind, kind, before_id, before_id,
                    (int64_t)limit + 1, err))
        return -1;
    json_t *arr = json_array();
    if (!arr) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOMEM, "job list");
    }
    size_t n = cs_rows_count(r);
    for (size_t i = 0; i < n && i < limit; i++) {
        json_t *o = row_json(r, i);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            cs_rows_free(r);
            return cs_error_set(err, CS_E_NOMEM, "job list");
        }
    }
    if (n > limit) *next_before = cs_rows_i64(r, limit - 1, J_ID);
    cs_rows_free(r);
    *out = arr;
    return 0;
}

/* Pending states only: done and cancelled rows are history, and counting them would scan a
 * table that only grows. The state prefix of idx_jobs_lease / idx_jobs_ready keeps it a range. */
// clang-format off
static const char SQL_METRICS[] =
    "SELECT kind, state, COUNT(*), SUM(attempts),"
    "       IFNULL(TIMESTAMPDIFF(MICROSECOND,"
    "                            MIN(IF(state = 'queued' AND run_at <= NOW(3), run_at, NULL)),"
    "                            NOW(3)), 0)"
    " FROM jobs"
    " WHERE state IN ('queued', 'running', 'dead')"
    " GROUP BY kind, state"
    " ORDER BY kind, state";
// clang-format on
/* columns of SQL_METRICS */
enum { M_KIND, M_STATE, M_COUNT, M_ATTEMPTS, M_OLDEST_US };

int job_metrics(cs_db *db, job_depth **out, size_t *n, cs_error *err)
{
    cs_rows *r = NULL;
    *out = NULL;
    *n = 0;
    if (cs_db_query(db, &r, SQL_METRICS, "", err)) return -1;
    size_t rows = cs_rows_count(r);
    job_depth *d = rows ? cs_calloc(rows, sizeof *d) : NULL;
    if (rows && !d) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOMEM, "job metrics");
    }
    for (size_t i = 0; i < rows; i++) {
        snprintf(d[i].kind, sizeof d[i].kind, "%s", cs_rows_str(r, i, M_KIND));
        snprintf(d[i].state, sizeof d[i].state, "%s", cs_rows_str(r, i, M_STATE));
        d[i].count = cs_rows_i64(r, i, M_COUNT);
        d[i].attempts = cs_rows_i64(r, i, M_ATTEMPTS);
        d[i].oldest_ready_s = cs_rows_double(r, i, M_OLDEST_US) / 1e6;
    }
    cs_rows_free(r);
    *out = d;
    *n = rows;
    return 0;
}

// clang-format off
static const char SQL_METRICS_SUMMARY[] =
    "SELECT (SELECT COUNT(*)"
    "        FROM jobs"
    "        WHERE state = 'dead'),"
    "       IFNULL((SELECT TIMESTAMPDIFF(MICROSECOND, MIN(run_at), NOW(3))"
    "               FROM jobs"
    "               WHERE state = 'queued' AND run_at <= NOW(3)), 0)";
// clang-format on
/* columns of SQL_METRICS_SUMMARY */
enum { MS_DEAD, MS_OLDEST_US };

int job_metrics_summary(cs_db *db, int64_t *dead, double *oldest_ready_s, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_METRICS_SUMMARY, "", err)) return -1;
    *dead = cs_rows_i64(r, 0, MS_DEAD);
    *oldest_ready_s = cs_rows_double(r, 0, MS_OLDEST_US) / 1e6;
    cs_rows_free(r);
    return 0;
}
