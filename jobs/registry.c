/* jobs/registry: which handler runs which job kind. Filled at start-up before worker threads
 * exist and only read afterwards, so it takes no lock; it must not know any kind itself. */
#include "core/config.h"
#include "jobs/job.h"
#include "jobs/jobs_int.h"
#include <stdio.h>
#include <string.h>

#define KINDS_MAX 64

static struct kind {
    char name[JOB_KIND_MAX + 1];
    job_handler fn;
    job_kind_opts opts;
} kinds[KINDS_MAX];
static size_t nkinds;

int job_kind_valid(const char *kind)
{
    if (!kind || !*kind) return 0;
    size_t n = 0;
    for (const char *p = kind; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n <= JOB_KIND_MAX;
}

int job_register(const char *kind, job_handler fn, const job_kind_opts *opts, cs_error *err)
{
    if (!job_kind_valid(kind))
        return cs_error_field(err, "kind", CS_F_FORMAT, "1..40 of a-z 0-9 . _ -");
    if (!fn) return cs_error_field(err, "handler", CS_F_REQUIRED, NULL);
    for (size_t i = 0; i < nkinds; i++)
        if (!strcmp(kinds[i].name, kind))
            return cs_error_set(err, CS_E_CONFLICT, "job kind %s registered twice", kind);
    if (nkinds == KINDS_MAX) return cs_error_set(err, CS_E_INTERNAL, "job kind registry full");
    struct kind *k = &kinds[nkinds++];
    snprintf(k->name, sizeof k->name, "%s", kind);
    k->fn = fn;
    if (opts)
        k->opts = *opts;
    else
        memset(&k->opts, 0, sizeof k->opts);
    return 0;
}

job_handler job_handler_for(const char *kind, job_kind_opts *opts_out)
{
    for (size_t i = 0; i < nkinds; i++) {
        if (strcmp(kinds[i].name, kind)) continue;
        if (opts_out) {
            *opts_out = kinds[i].opts;
            if (!opts_out->lease_s)
                opts_out->lease_s = (unsigned)cs_cfg_int("worker.lease_seconds");
            if (!opts_out->timeout_s)
                opts_out->timeout_s = (unsigned)cs_cfg_int("jobs.timeout_seconds");
        }
        return kinds[i].fn;
    }
    return NULL;
}

unsigned job_kind_lease(const char *kind)
{
    job_kind_opts o;
    if (job_handler_for(kind, &o)) return o.lease_s;
    return (unsigned)cs_cfg_int("worker.lease_seconds");
}

int job_registered_kinds(char *buf, size_t n)
{
    size_t used = 0;
    if (!n) return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < nkinds; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? "," : "", kinds[i].name);
        if (w < 0 || (size_t)w >= n - used) return -1;
        used += (size_t)w;
    }
    return 0;
}

void job_registry_reset(void)
{
    nkinds = 0;
    job_sched_reset();
}
