/* jobs/scheduler: periodic jobs. One worker at a time (the holder of the "jobs.scheduler" lease
 * row) enqueues the current tick of each schedule; the job_ticks ledger, written in the same
 * transaction as the job, makes a tick impossible to enqueue twice even across leader changes.
 * It runs no handler. */
#include "core/config.h"
#include "core/lease.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/jobs_int.h"
#include "jobs/queue.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHED_MAX 32
#define LOCK_NAME "jobs.scheduler"
#define LEASE_TTL_S 3
/* Ledger rows older than the current tick guard nothing (only the current tick is ever
 * enqueued), but keep a margin for clock differences between database nodes. */
#define TICK_KEEP_S (7 * 86400)

static struct sched {
    char kind[JOB_KIND_MAX + 1];
    unsigned period_s;
    json_t *payload; /* an object */
} scheds[SCHED_MAX];
static size_t nsched;

int job_schedule_every(const char *kind, unsigned period_s, const char *payload, cs_error *err)
{
    if (!job_kind_valid(kind))
        return cs_error_field(err, "kind", CS_F_FORMAT, "1..40 of a-z 0-9 . _ -");
    if (period_s == 0 || period_s > 366u * 86400u)
        return cs_error_field(err, "period_s", CS_F_RANGE, "1 s .. 366 days");
    for (size_t i = 0; i < nsched; i++)
        if (!strcmp(scheds[i].kind, kind))
            return cs_error_set(err, CS_E_CONFLICT, "job kind %s scheduled twice", kind);
    if (nsched == SCHED_MAX) return cs_error_set(err, CS_E_INTERNAL, "schedule table full");
    json_t *p = json_loads(payload ? payload : "{}", 0, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        return cs_error_field(err, "payload", CS_F_TYPE, "a JSON object");
    }
    struct sched *s = &scheds[nsched++];
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    s->period_s = period_s;
    s->payload = p;
    return 0;
}

void job_sched_reset(void)
{
    for (size_t i = 0; i < nsched; i++)
        json_decref(scheds[i].payload);
    nsched = 0;
}

size_t job_sched_count(void)
{
    return nsched;
}

struct tick {
    const char *kind, *payload;
    int64_t tick, id;
    int already;
    char key[JOB_KEY_MAX + 1];
};

// clang-format off
static const char SQL_TICK_ADD[] =
    "INSERT INTO job_ticks (kind, tick)"
    " VALUES (?, ?)";
static const char SQL_TICK_JOB[] =
    "UPDATE job_ticks"
    " SET job_id = ?"
    " WHERE kind = ? AND tick = ?";
static const char SQL_TICK_SEEN[] =
    "SELECT 1"
    " FROM job_ticks"
    " WHERE kind = ? AND tick = ?";
static const char SQL_TICK_FORGET[] =
    "DELETE FROM job_ticks"
    " WHERE kind = ? AND tick < ?"
    " LIMIT 1000";
// clang-format on

static int tick_tx(cs_db *db, void *arg, cs_error *err)
{
    struct tick *t = arg;
    t->already = 0;
    if (cs_db_exec(db, SQL_TICK_ADD, "si", t->kind, t->tick, err) < 0) {
        if (err->code != CS_E_CONFLICT) return -1;
        cs_error_clear(err);
        t->already = 1;
        return 0;
    }
    job_opts o = {.unique_key = t->key};
    if (job_enqueue(db, t->kind, t->payload, &o, &t->id, err) < 0) return -1;
    return cs_db_exec(db, SQL_TICK_JOB, "isi", t->id, t->kind, t->tick, err) < 0 ? -1 : 0;
}

int job_sched_enqueue_tick(cs_db *db, const char *kind, int64_t tick, const char *payload,
                           int64_t *id, cs_error *err)
{
    json_t *p = json_loads(payload ? payload : "{}", 0, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        return cs_error_field(err, "payload", CS_F_TYPE, "a JSON object");
    }
    json_object_set_new(p, "tick", json_integer(tick));
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text) return cs_error_set(err, CS_E_NOMEM, "tick payload");
    struct tick t = {.kind = kind, .payload = text, .tick = tick};
    snprintf(t.key, sizeof t.key, "%s@%lld", kind, (long long)tick);
    int rc = cs_db_in_tx(db) ? tick_tx(db, &t, err) : cs_db_tx(db, tick_tx, &t, err);
    free(text); /* from jansson */
    if (rc) return -1;
    if (t.already) return 1;
    if (id) *id = t.id;
    return 0;
}

/* 1 when this connection holds the scheduler lease (taking it if free or expired, renewing
 * it when ours), 0 when another worker does. A lease row, not GET_LOCK: on Galera a named
 * lock only excludes on one node. A leader that stops renewing (crashed, cut off) loses it
 * after LEASE_TTL_S; ticks are unique-keyed, so a brief overlap cannot enqueue twice. */
static int lead(cs_db *db, cs_error *err)
{
    char holder[96];
    int before = cs_lease_holder(db, LOCK_NAME, holder, sizeof holder, err);
    if (before < 0) return -1;
    char me[96];
    cs_lease_self(db, me);
    int was_mine = before == 1 && !strcmp(holder, me);
    int rc = cs_lease_take(db, LOCK_NAME, LEASE_TTL_S, NULL, err);
    if (rc == 1 && !was_mine)
        cs_info("job_scheduler_leader", "this worker now enqueues scheduled jobs");
    return rc;
}

int job_sched_pass(cs_db *db, int *leader, cs_error *err)
{
    if (leader) *leader = 0;
    if (!nsched) return 0;
    int rc = lead(db, err);
    if (rc <= 0) return rc;
    if (leader) *leader = 1;
    int64_t now = 0;
    if (cs_db_scalar_i64(db, &now, "SELECT UNIX_TIMESTAMP()", "", err) != 0) {
        if (!cs_error_failed(err)) cs_error_set(err, CS_E_DB, "no database time");
        return -1;
    }
    int enqueued = 0;
    for (size_t i = 0; i < nsched; i++) {
        struct sched *s = &scheds[i];
        int64_t tick = now - now % s->period_s, one;
        int seen = cs_db_scalar_i64(db, &one, SQL_TICK_SEEN, "si", s->kind, tick, err);
        if (seen < 0) return -1;
        if (seen == 0) continue;
        char *payload = json_dumps(s->payload, JSON_COMPACT);
        if (!payload) return cs_error_set(err, CS_E_NOMEM, "schedule payload");
        int64_t id = 0;
        int r = job_sched_enqueue_tick(db, s->kind, tick, payload, &id, err);
        free(payload);
        if (r < 0) return -1;
        if (r == 0) {
            enqueued++;
            cs_info("job_tick", "%s tick %lld enqueued as job %lld", s->kind, (long long)tick,
                    (long long)id);
            int64_t keep =
                (int64_t)s->period_s * 2 > TICK_KEEP_S ? (int64_t)s->period_s * 2 : TICK_KEEP_S;
            if (cs_db_exec(db, SQL_TICK_FORGET, "si", s->kind, tick - keep, err) < 0) return -1;
        }
    }
    return enqueued;
}

void job_sched_resign(cs_db *db)
{
    cs_error err;
    cs_error_clear(&err);
    cs_lease_release(db, LOCK_NAME, &err);
}
