/* jobs/job: the contract between the durable queue and the code that does slow work.
 * It must not know any job kind: kinds register themselves through job_register().
 *
 * THE CONTRACT — read before writing a handler
 * --------------------------------------------
 * Delivery is AT LEAST ONCE. A job runs again when its worker is killed, loses its database
 * connection, overruns its lease, or is shut down before the handler returns; the same job can
 * even run on two machines at once for a moment (a lease that expired while its handler was
 * still busy). The EFFECT must nevertheless happen EXACTLY ONCE. A handler achieves that by
 * being idempotent, in one of these ways:
 *   1. check-then-act inside ONE database transaction (cs_db_tx on ctx->db): read the state
 *      with a locking read (SELECT … FOR UPDATE), act only if the effect is not there yet, and
 *      write the effect in the same transaction — e.g. "listing state is still 'queued'";
 *   2. a unique key that makes the second write a no-op (INSERT … ON DUPLICATE KEY, INSERT
 *      IGNORE, a row keyed by the job's business key, never by the job id alone);
 *   3. for effects outside our database (a marketplace): look the object up by our own
 *      reference first (e.g. the listing id sent as seller SKU) and adopt it if it exists,
 *      create it only if it does not; record the external id in our database afterwards.
 * A handler must not assume ctx->attempt == 1 means "first time"; a retry after a crash may
 * see attempt 1 again (a lease released on shutdown gives its attempt back).
 *
 * Outcomes: a handler returns JOB_OK, or one made by job_retry() (counts an attempt; backs
 * off exponentially with full jitter between jobs.backoff_base and jobs.backoff_cap, or
 * waits exactly the seconds given, e.g. a marketplace's Retry-After), job_snooze() (comes back
 * later without counting an attempt: "not ready yet"), or job_fail() (dead at once: retrying
 * cannot help, e.g. the payload names a product that no longer exists). A retry on the last
 * attempt makes the job dead too. Error text is stored truncated to 1000 characters in
 * last_error and appended to error_history (JSON array of {at, attempt, error}, newest last,
 * at most 20 entries). Dead jobs stay visible and can be retried by hand (job_retry_dead).
 *
 * Leases: a claimed job belongs to its worker for lease seconds (job_kind_opts.lease_s,
 * default worker.lease_seconds). While the handler runs, the worker process extends the lease
 * about every lease/3 seconds, until the kind's timeout (job_kind_opts.timeout_s, default
 * jobs.timeout_seconds) has passed since the run started; after that the lease runs out and the
 * reaper gives the job to another worker, so a hung handler cannot hold a job for ever. A
 * dead process (kill -9, lost machine) stops extending at once. The same heartbeat brings cancel
 * requests: long handlers check job_should_stop(ctx) between steps (free, no database), or call
 * job_heartbeat(ctx) to extend and check right now. They should stop when the job was cancelled
 * (POST /v1/jobs/{id}/cancel), the timeout passed, the lease was lost, or the worker is
 * shutting down. A handler that stops early for shutdown returns job_snooze(ctx, 0) after
 * saving its progress; one that was cancelled may return anything but JOB_OK, and the job ends
 * 'cancelled'.
 *
 * A handler runs on a worker thread with that thread's own connection (ctx->db), outside any
 * transaction, and must return outside any transaction. It must not keep pointers from ctx
 * after it returns.
 *
 * Example:
 *   static job_outcome h_refresh(job_ctx *ctx)
 *   {
 *       json_int_t acc = json_integer_value(json_object_get(ctx->args, "account_id"));
 *       if (acc <= 0) return job_fail(ctx, "payload.account_id missing");
 *       cs_error err;
 *       if (cs_db_tx(ctx->db, refresh_tx, &acc, &err))   // check-then-act in one transaction
 *           return job_retry(ctx, err.retry_after, "refresh: %s", cs_code_name(err.code));
 *       return JOB_OK;
 *   }
 *   // at start-up: job_register("account.refresh", h_refresh, &(job_kind_opts){.lease_s = 120});
 */
#ifndef JOB_H
#define JOB_H
#include "core/audit.h"
#include "core/db.h"
#include "core/errors.h"
#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#define JOB_KIND_MAX 40          /* jobs.kind VARCHAR(40), ascii [a-z0-9._-] */
#define JOB_KEY_MAX 190          /* jobs.unique_key VARCHAR(190), printable ascii */
#define JOB_ERROR_MAX_CHARS 1000 /* last_error VARCHAR(1000): characters, not bytes */
#define JOB_HISTORY_MAX 20       /* entries kept in error_history */
#define JOB_OWNER_MAX 80         /* lease_owner VARCHAR(80) */

typedef enum job_outcome { JOB_OK = 0, JOB_RETRY, JOB_SNOOZE, JOB_FAIL } job_outcome;

/* Why a handler is asked to stop (bits of job_ctx.stop). */
enum {
    JOB_STOP_CANCEL = 1,   /* someone cancelled the job */
    JOB_STOP_TIMEOUT = 2,  /* the kind's timeout passed; heartbeats no longer extend the lease */
    JOB_STOP_LEASE = 4,    /* the lease is no longer ours (expired and reaped, or released) */
    JOB_STOP_SHUTDOWN = 8, /* the worker got SIGTERM/SIGINT */
};

typedef struct job_ctx {
    /* read-only for the handler */
    int64_t id;
    const char *kind;
    int attempt; /* attempts counted so far, this run included (1 on the first run) */
    int max_attempts;
    const char *payload; /* JSON text as enqueued */
    json_t *args;        /* the payload parsed (an object); borrowed, valid during the run */
    cs_db *db;           /* this worker thread's connection */
    atomic_int stop;     /* JOB_STOP_* bits; also set from other threads */
    /* owned by the queue; handlers use the functions below */
    char lease_owner[JOB_OWNER_MAX + 1];
    unsigned lease_s;
    int64_t deadline_ms; /* monotonic ms after which heartbeats stop extending (0 = none) */
    int64_t delay_ms;    /* JOB_RETRY: -1 = backoff; JOB_SNOOZE: the pause */
    char error[JOB_ERROR_MAX_CHARS * 4 + 1];
} job_ctx;

typedef job_outcome (*job_handler)(job_ctx *ctx);

/* Outcome builders: set ctx's delay and error text, return the outcome to `return`. */
/* Retry, counting this attempt: after_s 0 = exponential backoff, otherwise exactly after_s
 * seconds (capped at 7 days); the job's priority goes up by one, so once due it runs before
 * the jobs of its old priority that never started. The message is what went wrong, without
 * personal data. */
job_outcome job_retry(job_ctx *ctx, unsigned after_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Come back after after_s seconds (0 = as soon as a worker is free) without counting an
 * attempt. Nothing is recorded in the error history. */
job_outcome job_snooze(job_ctx *ctx, unsigned after_s);
/* Dead at once with the reason. */
job_outcome job_fail(job_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Extend the lease by the kind's lease seconds and pick up a cancel request. Call it outside
 * a transaction (inside one is our bug: it aborts). Returns 0 to carry on, 1 when the handler
 * should stop (ctx->stop says why), -1 when the database could not be reached (the lease is
 * unchanged; carrying on is allowed while it lasts). */
int job_heartbeat(job_ctx *ctx);
/* The stop bits without a database round-trip (the worker's heartbeats keep them current). */
int job_should_stop(const job_ctx *ctx);

/* Registry of kinds: filled at start-up before any worker thread starts, read-only after. */
typedef struct job_kind_opts {
    unsigned lease_s;   /* lease per claim and per heartbeat; 0 = worker.lease_seconds */
    unsigned timeout_s; /* longest a run may take; 0 = jobs.timeout_seconds */
} job_kind_opts;
/* Returns 0, or -1 with err set (bad or duplicate kind name, registry full). opts may be NULL. */
int job_register(const char *kind, job_handler fn, const job_kind_opts *opts, cs_error *err);
/* Handler of a kind, or NULL. */
job_handler job_handler_for(const char *kind, job_kind_opts *opts_out);
/* Comma-separated registered kinds into buf (for claims); returns 0, -1 if it does not fit. */
int job_registered_kinds(char *buf, size_t n);
/* Drop every registration and schedule (tests). */
void job_registry_reset(void);
/* Register every kind the build knows (later rooms add their registration here); the test
 * kinds "noop" and "test.effect" only when CHOSO_TEST_JOBS=1. Returns 0 or -1. */
int job_register_all(cs_error *err);

/* Enqueue. */
typedef struct job_opts {
    int priority;           /* higher runs first; -32768..32767 */
    int64_t delay_ms;       /* run no earlier than now + delay (database clock) */
    const char *run_at;     /* or at this UTC time "YYYY-MM-DD HH:MM:SS[.fff]"; not both */
    int max_attempts;       /* 0 = jobs.max_attempts */
    const char *unique_key; /* NULL = none */
} job_opts;

/* Put a job of `kind` with `payload` (a JSON object as text; NULL = "{}") on the queue. opts may
 * be NULL. With a unique_key while a job with that key is queued or running, nothing is added
 * and *id receives that job's id. Runs in the caller's transaction if one is open on db (so a
 * row and its job commit together), otherwise in its own. Returns 0 when a job was created, 1
 * when an existing one was returned, -1 with err set (CS_E_VALIDATION naming the field, or a
 * database error). */
int job_enqueue(cs_db *db, const char *kind, const char *payload, const job_opts *opts, int64_t *id,
                cs_error *err);

/* One job of `kind` for each id of ids_json (a JSON array of ids, as text) in one statement:
 * payload {"<field>": id}, unique key "<key_prefix><id>", default priority and attempts, to run
 * now. An id whose key is held by a queued or running job gets none (that job does the work).
 * field is a fixed name of the caller's (not JSON-escaped). Runs in the caller's transaction
 * if one is open. Returns how many jobs were created, or -1 with err. */
int64_t job_enqueue_ids(cs_db *db, const char *kind, const char *field, const char *key_prefix,
                        const char *ids_json, cs_error *err);

/* By hand (API, operators). With `by` (may be NULL) an audit row ("job.cancel",
 * "job.cancel_request" or "job.retry", entity "job") is written in the same transaction. */
/* Cancel: a queued job becomes 'cancelled' (returns 0); a running one gets a cancel request its
 * handler sees at the next heartbeat (returns 1). Other states: -1, CS_E_STATE_TRANSITION;
 * unknown id: -1, CS_E_NOT_FOUND. */
int job_cancel(cs_db *db, int64_t id, const cs_actor *by, cs_error *err);
/* Put a dead or cancelled job back on the queue now with its attempts reset, restoring its
 * unique key. Returns 0; -1 with CS_E_STATE_TRANSITION for other states, CS_E_CONFLICT when
 * another pending job holds the key (err->existing has its id), CS_E_NOT_FOUND. */
int job_retry_dead(cs_db *db, int64_t id, const cs_actor *by, cs_error *err);
/* One job as a JSON object (caller owns *out): id, kind, state, payload (parsed), priority,
 * run_at, attempts, max_attempts, unique_key, lease_owner, lease_expires_at, cancel_requested,
 * last_error, error_history (parsed), created_at, started_at, finished_at. Times are ISO 8601
 * UTC. Returns 0, or -1 (CS_E_NOT_FOUND). */
int job_get_json(cs_db *db, int64_t id, json_t **out, cs_error *err);
/* Jobs newest first, filtered by state and/or kind (NULL = any), ids below `before_id` (0 =
 * from the newest), at most `limit` (1..500). *out is an array of the objects above without
 * payload and history; *next_before is the cursor for the next page (0 when none). */
int job_list_json(cs_db *db, const char *state, const char *kind, int64_t before_id, unsigned limit,
                  json_t **out, int64_t *next_before, cs_error *err);

/* Metrics for /metrics. */
typedef struct job_depth {
    char kind[JOB_KIND_MAX + 1];
    char state[12];
    int64_t count;
    int64_t attempts;      /* sum of attempts of these jobs */
    double oldest_ready_s; /* queued only: age of the longest-waiting ready job (run_at <= now),
                              else 0 */
} job_depth;
/* Fills *out (caller frees with cs_free) with one row per (kind, state) that has jobs, for the
 * pending states queued, running and dead (done and cancelled rows are history, not depth).
 * Returns 0 or -1. */
int job_metrics(cs_db *db, job_depth **out, size_t *n, cs_error *err);
/* Totals: dead jobs, and the age in seconds of the oldest ready queued job of any kind. */
int job_metrics_summary(cs_db *db, int64_t *dead, double *oldest_ready_s, cs_error *err);

/* Periodic jobs. Registered at start-up (like kinds). Every period_s seconds (aligned to the
 * epoch, so every worker computes the same ticks) exactly one job `kind` is enqueued by the one
 * worker holding the scheduler lock, with payload = `payload` plus {"tick": epoch seconds} and
 * unique key "<kind>@<tick>". Missed ticks are not made up: only the current one is enqueued.
 * Returns 0 or -1 (bad kind, period 0, payload not an object, already scheduled, full). */
int job_schedule_every(const char *kind, unsigned period_s, const char *payload, cs_error *err);
#endif
