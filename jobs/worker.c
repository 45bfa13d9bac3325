/* jobs/worker: `choso worker` — N handler threads, each with its own connection, claiming and
 * running jobs; a housekeeping thread keeps the running jobs' leases alive (heartbeats, which
 * also bring cancel requests), reaps expired leases and runs the scheduler; SIGTERM and SIGINT
 * drain gracefully. It knows no job kind (they come from the registry). */
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/flows.h"
#include "jobs/jobs_int.h"
#include "jobs/members.h"
#include "jobs/queue.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOUSEKEEPING_MS 1000
#define FINISH_TRIES 6

struct wthread {
    pthread_t tid;
    unsigned idx;
    char owner[JOB_OWNER_MAX + 1];
    int idle;        /* the last claim found nothing (guarded by W.mu) */
    int exited;      /* guarded by W.mu */
    job_ctx *cur;    /* the running job, or NULL (guarded by W.mu) */
    int64_t beat_ms; /* when cur's lease was last extended (guarded by W.mu) */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Idle handler threads: one polls the queue every poll_ms, the others sleep on idle_cv
     * until a claim succeeds (there may be more) — 30 threads polling every 20 ms were
     * 1,500 empty claim transactions a second, more database work than the jobs themselves. */
    pthread_cond_t idle_cv;
    int poller; /* an idle thread is polling (guarded by mu) */
    atomic_int stopping;
    atomic_int stop_requested;
    int once, drained;
    int sched_in_thread; /* the housekeeping thread also runs the scheduler */
    unsigned n, nidle, nexited;
    unsigned poll_ms;
    char kinds[64 * (JOB_KIND_MAX + 1) + 1]; /* the whole registry fits */
    struct wthread *t;
    char member[96]; /* this process's row in `workers` */
    unsigned live;   /* live workers at the last heartbeat */
    int member_on;   /* this worker's kinds call marketplaces: it takes a share */
} W = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER,
       .idle_cv = PTHREAD_COND_INITIALIZER};

/* Waits run on the monotonic clock (set up in job_worker_run before any thread starts): a wall
 * clock stepped back must not stretch a poll interval into hours, nor a step forward make the
 * worker spin. */
static clockid_t wait_clock = CLOCK_REALTIME;
static pthread_once_t wait_once = PTHREAD_ONCE_INIT;
static void wait_clock_init(void)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a)) return;
    if (!pthread_condattr_setclock(&a, CLOCK_MONOTONIC) && !pthread_cond_init(&W.cv, &a) &&
        !pthread_cond_init(&W.idle_cv, &a))
        wait_clock = CLOCK_MONOTONIC;
    pthread_condattr_destroy(&a);
}

void job_worker_request_stop(void)
{
    atomic_store(&W.stop_requested, 1);
    pthread_mutex_lock(&W.mu);
    pthread_cond_broadcast(&W.cv);
    pthread_cond_broadcast(&W.idle_cv);
    pthread_mutex_unlock(&W.mu);
}

/* Wait on cv up to ms unless the worker is stopping. Called with W.mu held. */
static void cv_wait_locked(pthread_cond_t *cv, int64_t ms)
{
    struct timespec ts;
    clock_gettime(wait_clock, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    while (!atomic_load(&W.stopping) && !atomic_load(&W.stop_requested)) {
        if (pthread_cond_timedwait(cv, &W.mu, &ts) == ETIMEDOUT) break;
        if (cv == &W.idle_cv) break; /* signalled: a claim succeeded */
    }
}

static void idle_wait_locked(int64_t ms)
{
    cv_wait_locked(&W.cv, ms);
}

static void idle_wait(int64_t ms)
{
    pthread_mutex_lock(&W.mu);
    idle_wait_locked(ms);
    pthread_mutex_unlock(&W.mu);
}

static void set_idle(struct wthread *t, int idle)
{
    pthread_mutex_lock(&W.mu);
    if (idle && !t->idle) W.nidle++;
    if (!idle && t->idle) W.nidle--;
    t->idle = idle;
    if (W.once && W.nidle == W.n && !W.drained) {
        W.drained = 1;
        pthread_cond_broadcast(&W.cv);
        pthread_cond_broadcast(&W.idle_cv);
    }
    pthread_mutex_unlock(&W.mu);
}

static atomic_ulong empty_claims;

unsigned long job_worker_empty_claims(void)
{
    return atomic_load(&empty_claims);
}

static const char *outcome_name(job_outcome o)
{
    switch (o) {
    case JOB_OK:
        return "ok";
    case JOB_RETRY:
        return "retry";
    case JOB_SNOOZE:
        return "snooze";
    case JOB_FAIL:
        return "fail";
    }
    return "?";
}

/* Run one claimed job and record its end. */
static void run_one(struct wthread *t, cs_db *db, job_claimed *c)
{
    job_ctx *ctx = cs_calloc(1, sizeof *ctx);
    if (!ctx) {
        /* Nothing ran: hand the job back so another worker (or we, later) can take it. */
        cs_error e;
        cs_error_clear(&e);
        job_release(db, c->id, t->owner, c->attempt, &e);
        job_sleep_ms(100);
        return;
    }
    char logid[48];
    snprintf(logid, sizeof logid, "job-%lld", (long long)c->id);
    cs_log_set_context(logid);
    ctx->id = c->id;
    ctx->kind = c->kind;
    ctx->attempt = c->attempt;
    ctx->max_attempts = c->max_attempts;
    ctx->payload = c->payload;
    ctx->db = db;
    ctx->lease_s = c->lease_s;
    ctx->delay_ms = -1;
    snprintf(ctx->lease_owner, sizeof ctx->lease_owner, "%s", t->owner);
    atomic_init(&ctx->stop, 0);

    job_kind_opts ko;
    job_handler fn = job_handler_for(c->kind, &ko);
    if (fn) ctx->deadline_ms = job_mono_ms() + (int64_t)ko.timeout_s * 1000;
    ctx->args = json_loads(c->payload, 0, NULL);

    pthread_mutex_lock(&W.mu);
    t->cur = ctx;
    t->beat_ms = job_mono_ms(); /* the claim set a fresh lease */
    if (atomic_load(&W.stopping)) atomic_fetch_or(&ctx->stop, JOB_STOP_SHUTDOWN);
    pthread_mutex_unlock(&W.mu);

    int64_t t0 = job_mono_ms();
    job_outcome out;
    if (!fn)
        out = job_fail(ctx, "no handler for job kind %s in this worker", c->kind);
    else if (!json_is_object(ctx->args))
        out = job_fail(ctx, "payload is not a JSON object");
    else
        out = fn(ctx);
    if (cs_db_in_tx(db)) {
        fprintf(stderr, "choso bug: handler of %s returned inside a transaction\n", c->kind);
        abort();
    }
    if (out < JOB_OK || out > JOB_FAIL)
        out = job_fail(ctx, "handler returned an unknown outcome %d", (int)out);
    int64_t ms = job_mono_ms() - t0;

    /* The end must reach the database; if it cannot, the lease runs out and the job runs again,
     * which the handler contract allows. */
    int rc = -1;
    cs_error err;
    for (int i = 0; i < FINISH_TRIES && rc < 0; i++) {
        cs_error_clear(&err);
        rc = job_finish(db, c->id, t->owner, c->attempt, out, ctx->delay_ms, ctx->error, &err);
        if (rc < 0) job_sleep_ms((int64_t)100 << i);
    }
    json_t *f =
        json_pack("{s:I, s:s, s:i, s:s, s:I}", "job", (json_int_t)c->id, "kind", c->kind, "attempt",
                  c->attempt, "outcome", outcome_name(out), "ms", (json_int_t)ms);
    if (f && out != JOB_OK && ctx->error[0])
        json_object_set_new(f, "error", json_string(ctx->error));
    if (rc < 0) {
        if (f) json_object_set_new(f, "finish_error", json_string(cs_code_name(err.code)));
        cs_log_json(CS_LOG_ERROR, "job_end_unrecorded", f);
    } else if (rc == 1) {
        cs_log_json(CS_LOG_WARN, "job_lease_lost", f);
    } else {
        cs_log_json(out == JOB_OK || out == JOB_SNOOZE ? CS_LOG_INFO : CS_LOG_WARN, "job_end", f);
    }

    pthread_mutex_lock(&W.mu);
    t->cur = NULL;
    pthread_mutex_unlock(&W.mu);
    json_decref(ctx->args);
    cs_free(ctx);
    cs_log_set_context(NULL);
}

static void *handler_main(void *arg)
{
    struct wthread *t = arg;
    cs_db *db = NULL;
    cs_error err;
    int64_t pause = W.poll_ms;
    while (!atomic_load(&W.stopping)) {
        cs_error_clear(&err);
        if (!db && !(db = cs_db_acquire(&err))) {
            cs_warn("worker_db", "thread %u: no database connection: %s", t->idx,
                    cs_code_name(err.code));
            idle_wait(pause);
            pause = pause < 30000 ? pause * 2 : pause;
            continue;
        }
        job_claimed c;
        unsigned got = 0;
        if (W.kinds[0] && job_claim(db, t->owner, W.kinds, 1, 0, &c, &got, &err)) {
            cs_warn("worker_claim", "thread %u: claim failed: %s %s", t->idx,
                    cs_code_name(err.code), err.detail);
            idle_wait(pause);
            pause = pause < 30000 ? pause * 2 : pause;
            continue;
        }
        pause = W.poll_ms;
        if (!got) {
            atomic_fetch_add(&empty_claims, 1);
            set_idle(t, 1);
            pthread_mutex_lock(&W.mu);
            if (!W.drained && !W.poller) {
                W.poller = 1;
                idle_wait_locked(W.poll_ms);
                W.poller = 0;
            } else if (!W.drained) {
                /* woken by a claim that succeeded; the bound only guards against a lost wake */
                cv_wait_locked(&W.idle_cv, 10000);
            }
            int drained = W.once && W.drained;
            pthread_mutex_unlock(&W.mu);
            if (drained) break;
            continue;
        }
        set_idle(t, 0);
        pthread_mutex_lock(&W.mu);
        pthread_cond_signal(&W.idle_cv); /* one more idle thread looks: there may be more */
        pthread_mutex_unlock(&W.mu);
        run_one(t, db, &c);
        job_claimed_free(&c);
    }
    if (db) cs_db_release(db);
    pthread_mutex_lock(&W.mu);
    t->exited = 1;
    W.nexited++;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
    return NULL;
}

/* Extend the lease of every running job about every lease/3 s, until its timeout; pass cancel
 * requests and lost leases on to the handler through its stop bits. */
static void heartbeats(cs_db *db)
{
    for (unsigned i = 0; i < W.n; i++) {
        struct wthread *t = &W.t[i];
        int64_t id = 0, now = job_mono_ms();
        int attempt = 0, due = 0;
        unsigned lease = 0;
        pthread_mutex_lock(&W.mu);
        job_ctx *ctx = t->cur;
        if (ctx) {
            id = ctx->id, attempt = ctx->attempt, lease = ctx->lease_s;
            if (ctx->deadline_ms && now > ctx->deadline_ms)
                atomic_fetch_or(&ctx->stop, JOB_STOP_TIMEOUT);
            else
                due = now - t->beat_ms >= (int64_t)lease * 1000 / 3;
        }
        pthread_mutex_unlock(&W.mu);
        if (!due) continue;
        cs_error err;
        cs_error_clear(&err);
        int cancel = 0;
        int rc = job_extend_lease(db, id, t->owner, attempt, lease, &cancel, &err);
        if (rc < 0)
            cs_warn("job_heartbeat", "job %lld: lease not extended: %s", (long long)id,
                    cs_code_name(err.code));
        pthread_mutex_lock(&W.mu);
        /* The run may have ended meanwhile: touch only the same job's context. */
        if (t->cur == ctx && ctx->id == id && ctx->attempt == attempt) {
            if (rc == 0) t->beat_ms = now;
            if (rc == 1) atomic_fetch_or(&ctx->stop, JOB_STOP_LEASE);
            if (cancel) atomic_fetch_or(&ctx->stop, JOB_STOP_CANCEL);
        }
        pthread_mutex_unlock(&W.mu);
    }
}

/* One round of housekeeping on db: expired leases back to the queue, then the scheduler. */
static void housekeeping(cs_db *db, int scheduler)
{
    cs_error err;
    cs_error_clear(&err);
    unsigned reaped = 0;
    do {
        if (job_reap(db, 100, &reaped, &err)) {
            cs_warn("worker_reap", "reaper failed: %s %s", cs_code_name(err.code), err.detail);
            break;
        }
    } while (reaped == 100);
    cs_error_clear(&err);
    if (scheduler && job_sched_pass(db, NULL, &err) < 0)
        cs_warn("worker_scheduler", "scheduler pass failed: %s %s", cs_code_name(err.code),
                err.detail);
}

/* The cluster's budget: a worker counts itself in `workers` every housekeeping pass and
 * paces each marketplace at rate ÷ live workers. A newcomer sends nothing for MEMBER_HOLD_MS,
 * long enough for every other worker to count it at its next beat, so the sum of the shares
 * never exceeds the rate while workers come; one whose beat fails for MEMBER_TTL_S / 2 stops
 * sending before the others may count it dead and take its share. */
#define MEMBER_TTL_S 5
#define MEMBER_HOLD_MS 2500

static void member_beat(cs_db *db, int first)
{
    cs_error err;
    cs_error_clear(&err);
    unsigned live = 1;
    if (job_members_beat(db, W.member, MEMBER_TTL_S, &live, &err)) {
        cs_warn("worker_member", "heartbeat failed: %s", cs_code_name(err.code));
        return;
    }
    job_flows_share(live, first && live > 1 ? MEMBER_HOLD_MS : 0, MEMBER_TTL_S * 1000 / 2);
    if (live != W.live)
        cs_info("worker_share", "%u live worker(s): each marketplace's rate is shared %u ways",
                live, live);
    W.live = live;
}

static atomic_int hk_stop;

static void *housekeeping_main(void *arg)
{
    (void)arg;
    cs_db *db = NULL;
    cs_error err;
    while (!atomic_load(&hk_stop)) {
        cs_error_clear(&err);
        if (!db) db = cs_db_acquire(&err);
        if (db) {
            if (W.member_on) member_beat(db, 0);
            heartbeats(db);
            housekeeping(db, W.sched_in_thread);
        } else
            cs_warn("worker_db", "housekeeping: no database connection: %s",
                    cs_code_name(err.code));
        pthread_mutex_lock(&W.mu);
        struct timespec ts;
        clock_gettime(wait_clock, &ts);
        ts.tv_sec += HOUSEKEEPING_MS / 1000;
        while (!atomic_load(&hk_stop) && pthread_cond_timedwait(&W.cv, &W.mu, &ts) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&W.mu);
    }
    if (db) {
        job_sched_resign(db);
        cs_db_release(db);
    }
    return NULL;
}

static void make_owner(char *out, size_t n, unsigned idx)
{
    char host[64] = "host";
    if (gethostname(host, sizeof host) == 0) host[sizeof host - 1] = '\0';
    host[40] = '\0';
    for (char *p = host; *p; p++)
        if (*p < 0x21 || *p > 0x7e) *p = '_';
    snprintf(out, n, "%s:%ld:%u", host, (long)getpid(), idx);
}

/* After the grace period: give back the jobs still running so others can take them at once. */
static void release_running(void)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    pthread_mutex_lock(&W.mu);
    for (unsigned i = 0; i < W.n; i++) {
        job_ctx *ctx = W.t[i].cur;
        if (!ctx) continue;
        atomic_fetch_or(&ctx->stop, JOB_STOP_SHUTDOWN);
        int rc = db ? job_release(db, ctx->id, ctx->lease_owner, ctx->attempt, &err) : -1;
        cs_warn("job_released", "job %lld (%s) still running after the grace period: %s",
                (long long)ctx->id, ctx->kind,
                rc == 0   ? "lease released, back on the queue"
                : rc == 1 ? "already ended"
                          : "release failed; the reaper will take it back");
    }
    pthread_mutex_unlock(&W.mu);
    if (db) cs_db_close(db);
}

int job_worker_run(const job_worker_opts *o, cs_error *err)
{
    pthread_once(&wait_once, wait_clock_init);
    /* on Galera, every worker's claims on one node, where SKIP LOCKED keeps them apart: spread
     * over three nodes, two claims of the queue's head certified against each other and one
     * was thrown away — tens of thousands of aborted claims in a run of 3,000 listings */
    cs_db_nodes_in_order();
    unsigned n = o->concurrency ? o->concurrency : (unsigned)cs_cfg_int("worker.concurrency");
    if (o->kinds_csv && *o->kinds_csv) {
        if (strlen(o->kinds_csv) >= sizeof W.kinds)
            return cs_error_set(err, CS_E_USAGE, "--kinds too long");
        snprintf(W.kinds, sizeof W.kinds, "%s", o->kinds_csv);
    } else if (job_registered_kinds(W.kinds, sizeof W.kinds)) {
        return cs_error_set(err, CS_E_INTERNAL, "registered kinds do not fit the claim filter");
    }
    /* With no kind registered the handler threads claim nothing (an empty filter would mean
     * "any kind"), but the reaper and the scheduler still run. */
    if (!W.kinds[0])
        cs_warn("worker_no_kinds",
                "no job kind is registered in this build: only housekeeping runs");
    W.n = n;
    W.once = o->once;
    W.drained = 0;
    W.nidle = W.nexited = 0;
    W.poller = 0;
    W.poll_ms = o->poll_ms ? o->poll_ms : (unsigned)cs_cfg_int("worker.poll_ms");
    atomic_store(&W.stopping, 0);
    atomic_store(&W.stop_requested, 0);
    atomic_store(&hk_stop, 0);
    W.t = cs_calloc(n, sizeof *W.t);
    if (!W.t) return cs_error_set(err, CS_E_NOMEM, "worker threads");

    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    if (o->handle_signals) pthread_sigmask(SIG_BLOCK, &sigs, &old); /* threads inherit the mask */

    /* --once: one housekeeping round (reaper and scheduler) here, before draining, so the
     * jobs it frees count as ready; its thread then only heartbeats and reaps. */
    if (o->once) {
        cs_db *db = cs_db_acquire(err);
        if (!db) goto fail;
        housekeeping(db, 1);
        job_sched_resign(db);
        cs_db_release(db);
    }
    W.sched_in_thread = !o->once;
    /* counted among the live workers before any handler may call a marketplace */
    make_owner(W.member, sizeof W.member, 0);
    {
        unsigned char r[4] = {0};
        cs_random(r, sizeof r);
        size_t l = strlen(W.member);
        snprintf(W.member + l, sizeof W.member - l, ":%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    }
    W.live = 0;
    /* only a worker that may call marketplaces takes a share (one running only imports would
     * otherwise thin everyone's budget for nothing) */
    W.member_on = job_flows_kinds_call_marketplaces(W.kinds);
    if (W.member_on) {
        job_flows_share(1, 0, 0);
        cs_db *db = cs_db_acquire(err);
        if (!db) goto fail;
        member_beat(db, 1);
        cs_db_release(db);
    }
    unsigned started = 0;
    for (unsigned i = 0; i < n; i++) {
        W.t[i].idx = i;
        make_owner(W.t[i].owner, sizeof W.t[i].owner, i);
        if (pthread_create(&W.t[i].tid, NULL, handler_main, &W.t[i])) break;
        started++;
    }
    pthread_mutex_lock(&W.mu);
    W.n = started;
    if (W.once && started && W.nidle == W.n) W.drained = 1;
    pthread_mutex_unlock(&W.mu);
    pthread_t hk;
    int hk_started = 0;
    if (!started) {
        cs_error_set(err, CS_E_INTERNAL, "cannot start handler threads");
        goto join_hk;
    }
    /* Started after the handler threads: it walks W.t[0..W.n). Without it leases would run out
     * under long handlers, so failing to start it stops the worker. */
    if (pthread_create(&hk, NULL, housekeeping_main, NULL)) {
        cs_error_set(err, CS_E_INTERNAL, "cannot start the housekeeping thread");
        job_worker_request_stop();
        started = 0;
    } else {
        hk_started = 1;
    }
    cs_info("worker_start", "%u handler thread(s), kinds %s%s", started, W.kinds,
            o->once ? ", once" : "");

    /* Wait for a signal, a stop request, or (once) a drained queue. */
    for (;;) {
        if (o->handle_signals) {
            struct timespec ts = {0, 100 * 1000000L};
            int s = sigtimedwait(&sigs, NULL, &ts);
            if (s == SIGTERM || s == SIGINT) {
                cs_info("worker_stop", "signal %d: no new jobs; running ones get %ld s", s,
                        cs_cfg_int("worker.grace_seconds"));
                break;
            }
        } else {
            job_sleep_ms(50);
        }
        if (atomic_load(&W.stop_requested)) break;
        pthread_mutex_lock(&W.mu);
        int done = W.once && (W.drained || W.nexited == W.n);
        pthread_mutex_unlock(&W.mu);
        if (done) break;
    }

    /* Stop claiming; tell running handlers (they may finish or snooze early). */
    pthread_mutex_lock(&W.mu);
    atomic_store(&W.stopping, 1);
    for (unsigned i = 0; i < W.n; i++)
        if (W.t[i].cur) atomic_fetch_or(&W.t[i].cur->stop, JOB_STOP_SHUTDOWN);
    pthread_cond_broadcast(&W.cv);
    pthread_cond_broadcast(&W.idle_cv);
    pthread_mutex_unlock(&W.mu);

    int64_t deadline = job_mono_ms() + cs_cfg_int("worker.grace_seconds") * 1000;
    int all_out = 0;
    while (!all_out) {
        pthread_mutex_lock(&W.mu);
        all_out = W.nexited == W.n;
        pthread_mutex_unlock(&W.mu);
        if (all_out || job_mono_ms() >= deadline) break;
        if (o->handle_signals) {
            struct timespec ts = {0, 50 * 1000000L};
            int s = sigtimedwait(&sigs, NULL, &ts);
            if (s == SIGTERM || s == SIGINT) {
                cs_info("worker_stop", "second signal: giving running jobs back now");
                break;
            }
        } else {
            job_sleep_ms(20);
        }
    }
    if (!all_out) {
        release_running();
        if (o->handle_signals) {
            /* Handlers that ignore the stop request cannot be interrupted safely; their jobs are
             * already back on the queue, so leave now without running exit handlers under them. */
            cs_info("worker_exit",
                    "exiting with handlers still running (their jobs were released)");
            fflush(NULL);
            _exit(0);
        }
    }
    for (unsigned i = 0; i < W.n; i++)
        pthread_join(W.t[i].tid, NULL);
    atomic_store(&hk_stop, 1);
    pthread_mutex_lock(&W.mu);
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
join_hk:
    if (hk_started) pthread_join(hk, NULL);
    {
        /* leave at once: the others take this share at their next beat, not after the TTL */
        cs_error lerr;
        cs_error_clear(&lerr);
        cs_db *db = W.member_on ? cs_db_acquire(&lerr) : NULL;
        if (db) {
            job_members_leave(db, W.member, &lerr);
            cs_db_release(db);
        }
        if (W.member_on) job_flows_share(1, 0, -1);
    }
    if (o->handle_signals) pthread_sigmask(SIG_SETMASK, &old, NULL);
    cs_free(W.t);
    W.t = NULL;
    if (started) cs_info("worker_exit", "stopped cleanly");
    return started ? 0 : -1;
fail:
    if (o->handle_signals) pthread_sigmask(SIG_SETMASK, &old, NULL);
    cs_free(W.t);
    W.t = NULL;
    return -1;
}
