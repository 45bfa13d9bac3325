/* jobs/retention: the queue's own housekeeping (job kind "jobs.prune", hourly). */
#ifndef JOB_RETENTION_H
#define JOB_RETENTION_H
#include "core/db.h"
#include <stdint.h>

/* Delete jobs that ended `done` or `cancelled` more than `days` days ago, scheduler tick rows
 * as old, and web sessions that have expired, in batches of 5,000 rows (each its own short
 * statement, so no long lock is held). Dead jobs are kept: they wait for a person.
 * *deleted (may be NULL) receives the number of rows removed. 0 or -1. */
int job_prune(cs_db *db, int days, int64_t *deleted, cs_error *err);
/* Register "jobs.prune" and its hourly schedule. 0 or -1. */
int job_retention_register(cs_error *err);
#endif
