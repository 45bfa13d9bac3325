/* service/metrics: the Prometheus registry of the service. Request counters and latency
 * histograms are kept here; any room may register its own gauges, counters or a collector
 * (from a start-up hook in service/routes.c). Rendering runs the callbacks: keep them cheap. */
#ifndef SVC_METRICS_H
#define SVC_METRICS_H
#include "core/buf.h"
#include "service/router.h"

/* Count one finished request: route pattern (NULL = matched no route), method, status, and
 * its duration. Thread-safe. */
void svc_metrics_observe(const svc_route *route, const char *method, int status, double seconds);

/* Value callbacks: return the current value. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* and be
 * unique; name and help are copied. Returns 0, or -1 (bad or duplicate name, out of memory). */
typedef double (*svc_metric_fn)(void *arg);
int svc_metrics_register_gauge(const char *name, const char *help, svc_metric_fn fn, void *arg);
int svc_metrics_register_counter(const char *name, const char *help, svc_metric_fn fn, void *arg);
/* For labelled series: the callback appends whole families (# HELP, # TYPE and samples) in the
 * text exposition format to `out`. Returns 0 or -1. */
typedef void (*svc_metric_collector)(cs_buf *out, void *arg);
int svc_metrics_register_collector(const char *name, svc_metric_collector fn, void *arg);

/* The whole exposition (text format 0.0.4) into out. Returns 0 or -1 (buffer cap). */
int svc_metrics_render(cs_buf *out);
/* Forget every series and registration (tests). */
void svc_metrics_reset(void);
/* Append `s` escaped as a label value (\\, \" and \n). */
void svc_metrics_label(cs_buf *out, const char *s);
#endif
