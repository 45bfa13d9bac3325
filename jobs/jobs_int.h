/* jobs/jobs_int: helpers shared by the files of jobs/ only; nothing outside jobs/ includes it. */
#ifndef JOBS_INT_H
#define JOBS_INT_H
#include "core/db.h"
#include <stdint.h>

/* 1 when kind is 1..40 of [a-z0-9._-]. */
int job_kind_valid(const char *kind);
/* Lease seconds of a kind (registered or worker.lease_seconds). */
unsigned job_kind_lease(const char *kind);
/* Forget every schedule (job_registry_reset). */
void job_sched_reset(void);
/* Monotonic clock in ms. */
int64_t job_mono_ms(void);
/* Sleep ms milliseconds (restarts on EINTR). */
void job_sleep_ms(int64_t ms);
#endif
