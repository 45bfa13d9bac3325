/* jobs/members: which `choso worker` processes are alive on the whole cluster — one row each
 * in `workers`, renewed by heartbeats — so that each marketplace's request budget is divided
 * among the live ones. Jobs room; the queue's own table; no HTTP, no marketplace calls. */
#ifndef JOB_MEMBERS_H
#define JOB_MEMBERS_H
#include "core/db.h"
#include "core/errors.h"

/* Renew (or create) this worker's row for ttl_s seconds and count the live workers (this one
 * included) into *live. Returns 0 or -1. */
int job_members_beat(cs_db *db, const char *id, int ttl_s, unsigned *live, cs_error *err);
/* Remove this worker's row (clean exit: the others take its share at their next beat).
 * Returns 0 or -1. */
int job_members_leave(cs_db *db, const char *id, cs_error *err);
/* Live workers now (for /metrics and tests). Returns the count or -1. */
long job_members_live(cs_db *db, cs_error *err);
#endif
