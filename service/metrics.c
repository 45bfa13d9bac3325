/* service/metrics: request counters, latency histograms and registered gauges, rendered in the
 * Prometheus text format. No I/O besides reading /proc/self/statm; never labels with raw paths
 * (personal data) — only route patterns from the table. */
#include "service/metrics.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CHOSO_VERSION
#define CHOSO_VERSION "0.1.0"
#endif

static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1,     2.5,  5,     10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

/* Methods are a closed list so a client cannot grow the label set. */
static const char *methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                "PATCH", "DELETE", "OPTIONS", "OTHER"};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* Series are keyed by the route's pattern pointer (stable: the table and the extras live as
 * long as the process), so no string is copied per request. Open addressing, fixed size: the
 * key space is routes × methods × statuses, a few hundred. */
#define NCOUNT 4096
#define NHIST 512
static struct count_slot {
    const char *pattern; /* NULL = free */
    unsigned method;
    int status;
    uint64_t n;
} counts[NCOUNT];
static struct hist_slot {
    const char *pattern;
    uint64_t bucket[NBOUNDS + 1];
    uint64_t n;
    double sum;
} hists[NHIST];
static uint64_t dropped;
static const char UNMATCHED[] = "(unmatched)";
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct reg {
    char *name;
    char *help;
    int kind; /* 0 gauge, 1 counter, 2 collector */
    svc_metric_fn fn;
    svc_metric_collector coll;
    void *arg;
    struct reg *next;
} reg;
static reg *regs;

static unsigned method_index(const char *m)
{
    for (unsigned i = 0; m && i < NMETHODS - 1; i++)
        if (!strcmp(methods[i], m)) return i;
    return NMETHODS - 1;
}

static size_t hash_ptr(const void *p, unsigned a, int b)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)a * 0xBF58476D1CE4E5B9ull + (uint64_t)(unsigned)b * 0x94D049BB133111EBull;
    return (size_t)(h ^ (h >> 29));
}

void svc_metrics_observe(const svc_route *route, const char *method, int status, double seconds)
{
    const char *pat = route ? route->pattern : UNMATCHED;
    unsigned mi = method_index(method);
    pthread_mutex_lock(&lock);
    size_t h = hash_ptr(pat, mi, status) % NCOUNT;
    struct count_slot *cs = NULL;
    for (size_t i = 0; i < NCOUNT; i++) {
        struct count_slot *s = &counts[(h + i) % NCOUNT];
        if (!s->pattern || (s->pattern == pat && s->method == mi && s->status == status)) {
            cs = s;
            break;
        }
    }
    if (cs) {
        cs->pattern = pat, cs->method = mi, cs->status = status;
        cs->n++;
    } else {
        dropped++;
    }
    h = hash_ptr(pat, 0, 0) % NHIST;
    for (size_t i = 0; i < NHIST; i++) {
        struct hist_slot *s = &hists[(h + i) % NHIST];
        if (s->pattern && s->pattern != pat) continue;
        s->pattern = pat;
        size_t b = 0;
        while (b < NBOUNDS && seconds > bounds[b])
            b++;
        s->bucket[b]++;
        s->n++;
        s->sum += seconds;
        break;
    }
    pthread_mutex_unlock(&lock);
}

static int valid_name(const char *n)
{
    if (!n || !*n || isdigit((unsigned char)*n)) return 0;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && *n != '_' && *n != ':') return 0;
    return 1;
}

static int add_reg(const char *name, const char *help, int kind, svc_metric_fn fn,
                   svc_metric_collector coll, void *arg)
{
    if (!valid_name(name)) return -1;
    pthread_mutex_lock(&lock);
    for (reg *r = regs; r; r = r->next)
        if (!strcmp(r->name, name)) {
            /* Registering again (a restarted server in one process) replaces the callback. */
            r->fn = fn, r->coll = coll, r->arg = arg, r->kind = kind;
            pthread_mutex_unlock(&lock);
            return 0;
        }
    reg *r = cs_calloc(1, sizeof *r);
    if (r) {
        r->name = cs_strdup(name);
        r->help = cs_strdup(help ? help : "");
    }
    if (!r || !r->name || !r->help) {
        if (r) cs_free(r->name), cs_free(r->help);
        cs_free(r);
        pthread_mutex_unlock(&lock);
        return -1;
    }
    r->kind = kind, r->fn = fn, r->coll = coll, r->arg = arg;
    /* Keep registration order in the output. */
    reg **tail = &regs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    pthread_mutex_unlock(&lock);
    return 0;
}

int svc_metrics_register_gauge(const char *name, const char *help, svc_metric_fn fn, void *arg)
{
    return fn ? add_reg(name, help, 0, fn, NULL, arg) : -1;
}

int svc_metrics_register_counter(const char *name, const char *help, svc_metric_fn fn, void *arg)
{
    return fn ? add_reg(name, help, 1, fn, NULL, arg) : -1;
}

int svc_metrics_register_collector(const char *name, svc_metric_collector fn, void *arg)
{
    return fn ? add_reg(name, "", 2, NULL, fn, arg) : -1;
}

void svc_metrics_label(cs_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            cs_buf_puts(out, "\\\\");
        else if (*s == '"')
            cs_buf_puts(out, "\\\"");
        else if (*s == '\n')
            cs_buf_puts(out, "\\n");
        else
            cs_buf_putc(out, *s);
    }
}

static void family(cs_buf *o, const char *name, const char *type, const char *help)
{
    cs_buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

int svc_metrics_render(cs_buf *o)
{
    /* Copy under the lock, format outside it: a scrape never stalls requests for long. */
    struct count_slot *cc = cs_malloc(sizeof counts);
    struct hist_slot *hc = cs_malloc(sizeof hists);
    if (!cc || !hc) {
        cs_free(cc), cs_free(hc);
        return -1;
    }
    pthread_mutex_lock(&lock);
    memcpy(cc, counts, sizeof counts);
    memcpy(hc, hists, sizeof hists);
    uint64_t drop = dropped;
    pthread_mutex_unlock(&lock);

    family(o, "choso_http_requests_total", "counter",
           "HTTP requests by route pattern, method and status");
    for (size_t i = 0; i < NCOUNT; i++) {
        if (!cc[i].pattern) continue;
        cs_buf_puts(o, "choso_http_requests_total{route=\"");
        svc_metrics_label(o, cc[i].pattern);
        cs_buf_printf(o, "\",method=\"%s\",status=\"%d\"} %llu\n", methods[cc[i].method],
                      cc[i].status, (unsigned long long)cc[i].n);
    }
    family(o, "choso_http_series_dropped_total", "counter",
           "requests not counted because the series table was full");
    cs_buf_printf(o, "choso_http_series_dropped_total %llu\n", (unsigned long long)drop);
    family(o, "choso_http_request_duration_seconds", "histogram",
           "time from request line to response completed, by route pattern");
    for (size_t i = 0; i < NHIST; i++) {
        if (!hc[i].pattern) continue;
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBOUNDS; b++) {
            cum += hc[i].bucket[b];
            cs_buf_puts(o, "choso_http_request_duration_seconds_bucket{route=\"");
            svc_metrics_label(o, hc[i].pattern);
            if (b < NBOUNDS)
                cs_buf_printf(o, "\",le=\"%g\"} %llu\n", bounds[b], (unsigned long long)cum);
            else
                cs_buf_printf(o, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        cs_buf_puts(o, "choso_http_request_duration_seconds_sum{route=\"");
        svc_metrics_label(o, hc[i].pattern);
        cs_buf_printf(o, "\"} %.6f\n", hc[i].sum);
        cs_buf_puts(o, "choso_http_request_duration_seconds_count{route=\"");
        svc_metrics_label(o, hc[i].pattern);
        cs_buf_printf(o, "\"} %llu\n", (unsigned long long)hc[i].n);
    }
    cs_free(cc);
    cs_free(hc);

    unsigned open = 0, in_use = 0, max = 0;
    cs_db_pool_stats(&open, &in_use, &max);
    family(o, "choso_db_pool_open", "gauge", "database connections open");
    cs_buf_printf(o, "choso_db_pool_open %u\n", open);
    family(o, "choso_db_pool_in_use", "gauge", "database connections handed out");
    cs_buf_printf(o, "choso_db_pool_in_use %u\n", in_use);
    family(o, "choso_db_pool_max", "gauge", "most database connections the pool keeps");
    cs_buf_printf(o, "choso_db_pool_max %u\n", max);
    family(o, "choso_build_info", "gauge", "version of the running binary");
    cs_buf_puts(o, "choso_build_info{version=\"");
    svc_metrics_label(o, CHOSO_VERSION);
    cs_buf_puts(o, "\"} 1\n");
    family(o, "process_resident_memory_bytes", "gauge", "resident set size");
    cs_buf_printf(o, "process_resident_memory_bytes %ld\n", rss_bytes());

    /* Registered metrics: snapshot the list, run the callbacks without the lock (a collector
     * may query the database; requests finishing must not wait for it). */
    pthread_mutex_lock(&lock);
    size_t nr = 0;
    for (reg *r = regs; r; r = r->next)
        nr++;
    reg *snap = nr ? cs_malloc(nr * sizeof *snap) : NULL;
    if (nr && !snap) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    nr = 0;
    for (reg *r = regs; r; r = r->next)
        snap[nr++] = *r;
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < nr; i++) {
        reg *r = &snap[i];
        if (r->kind == 2) {
            r->coll(o, r->arg);
            continue;
        }
        family(o, r->name, r->kind ? "counter" : "gauge", r->help);
        cs_buf_printf(o, "%s %.17g\n", r->name, r->fn(r->arg));
    }
    cs_free(snap);
    /* cs_buf fails sticky at its cap; report that rather than a truncated exposition. */
    return o->len + 1 >= o->max ? -1 : 0;
}

void svc_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(counts, 0, sizeof counts);
    memset(hists, 0, sizeof hists);
    dropped = 0;
    while (regs) {
        reg *n = regs->next;
        cs_free(regs->name);
        cs_free(regs->help);
        cs_free(regs);
        regs = n;
    }
    pthread_mutex_unlock(&lock);
}
