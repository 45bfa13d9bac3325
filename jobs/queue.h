/* jobs/queue: the queue's machinery, used by the worker, the scheduler and tests. Handlers use
 * jobs/job.h only. Nothing here runs a handler. */
#ifndef JOB_QUEUE_H
#define JOB_QUEUE_H
#include "jobs/job.h"
#include <stddef.h>
#include <stdint.h>

/* A claimed job. payload is owned (cs_free). */
typedef struct job_claimed {
    int64_t id;
    char kind[JOB_KIND_MAX + 1];
    int attempt;
    int max_attempts;
    unsigned lease_s;
    char *payload;
} job_claimed;

/* Claim up to n ready jobs (state queued, run_at <= now) in one transaction: SELECT … FOR UPDATE
 * SKIP LOCKED, then each becomes running with lease_owner = owner, attempts + 1 and a lease of its
 * kind's lease seconds (lease_override_s when > 0). kinds_csv limits the kinds ("a,b"; NULL or ""
 * = any kind). *got receives how many; out[0..got) owns payloads (job_claimed_free).
 * Returns 0 or -1. */
int job_claim(cs_db *db, const char *owner, const char *kinds_csv, unsigned n,
              unsigned lease_override_s, job_claimed *out, unsigned *got, cs_error *err);
void job_claimed_free(job_claimed *c);

/* Record how a run ended. Applies only while the job is still ours (running, lease_owner and
 * attempts unchanged). outcome JOB_RETRY with delay_ms < 0 means backoff; error may be NULL.
 * When a cancel was requested and the outcome is not JOB_OK the job ends 'cancelled'.
 * Returns 0 applied, 1 when the job was no longer ours (nothing changed), -1 on error. */
int job_finish(cs_db *db, int64_t id, const char *owner, int attempt, job_outcome outcome,
               int64_t delay_ms, const char *error, cs_error *err);

/* Extend a lease: 0 extended, 1 not ours anymore, -1 error. *cancel_requested (may be NULL)
 * receives the cancel flag. */
int job_extend_lease(cs_db *db, int64_t id, const char *owner, int attempt, unsigned lease_s,
                     int *cancel_requested, cs_error *err);

/* Give a claimed job back without counting the attempt (worker shutdown): state queued,
 * attempts - 1, run now. Returns 0 released, 1 not ours anymore, -1 error. */
int job_release(cs_db *db, int64_t id, const char *owner, int attempt, cs_error *err);

/* Reaper: jobs whose lease expired go back to queued (attempt counted, "lease expired" in the
 * history), or dead when their attempts are spent. At most `limit` per call; *reaped (may be
 * NULL) receives how many. Returns 0 or -1. */
int job_reap(cs_db *db, unsigned limit, unsigned *reaped, cs_error *err);

/* Retry delay for attempt number `attempt` (1 = after the first failed run): full jitter,
 * uniform in [base, min(cap, base·2^(attempt-1))] seconds, in ms. r01 is uniform in [0, 1). */
int64_t job_backoff_ms(int attempt, long base_s, long cap_s, double r01);

/* Copy `in` into out (size n) as valid UTF-8 of at most max_chars characters: invalid bytes
 * and control characters other than \n and \t become '?'. Returns the bytes written. */
size_t job_clip_text(const char *in, size_t max_chars, char *out, size_t n);

/* error_history with one more entry {at, attempt, error}, oldest dropped past
 * JOB_HISTORY_MAX. `history` may be NULL or malformed (starts afresh). Returns a new string
 * (cs_free) or NULL on out-of-memory. */
char *job_history_append(const char *history, const char *at_iso, int attempt, const char *error);

/* Scheduler. Enqueue tick `tick` of scheduled kind `kind` unless it was enqueued before (by
 * any worker, ever): inserts (kind, tick) into job_ticks and the job in one transaction.
 * Returns 0 enqueued (*id set), 1 already enqueued, -1 error. */
int job_sched_enqueue_tick(cs_db *db, const char *kind, int64_t tick, const char *payload,
                           int64_t *id, cs_error *err);
/* One scheduler pass on db (a connection that stays with the caller): take or keep the
 * scheduler lock; when held, enqueue the current tick of each schedule not enqueued yet.
 * *leader (may be NULL) receives 1 when this connection holds the lock. Returns the number of
 * ticks enqueued, or -1. */
int job_sched_pass(cs_db *db, int *leader, cs_error *err);
/* Give the scheduler lock up (shutdown). */
void job_sched_resign(cs_db *db);
/* Number of schedules. */
size_t job_sched_count(void);

/* Tables of the test kinds (CHOSO_TEST_JOBS=1): job_test_runs (one row per run of test.effect
 * or test.tick) and job_test_effects (one row per applied effect). Created if missing. */
int job_test_tables(cs_db *db, cs_error *err);

/* The worker. Runs until stop (set by a signal handler thread or a test) or, with once, until
 * no ready job is left. */
typedef struct job_worker_opts {
    unsigned concurrency;  /* handler threads; 0 = worker.concurrency */
    const char *kinds_csv; /* only these kinds; NULL = every registered kind */
    int once;              /* drain what is ready, then return */
    int handle_signals;    /* SIGTERM/SIGINT start a graceful stop (choso worker) */
    unsigned poll_ms;      /* idle pause between empty claims; 0 = worker.poll_ms */
} job_worker_opts;
/* Returns 0 (clean stop), or -1 with err set (could not start). When handlers outlive the
 * grace period after a signal, their leases are released and the process exits 0 at once. */
int job_worker_run(const job_worker_opts *o, cs_error *err);
/* Ask a running job_worker_run to stop as if signalled (tests, other threads). */
void job_worker_request_stop(void);
/* Claims this process's handler threads made that found nothing ready (tests: an idle worker
 * polls with one thread, not all of them). */
unsigned long job_worker_empty_claims(void);
#endif
