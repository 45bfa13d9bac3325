/* connectors/transport: executes connector requests over HTTP(S) with the curl multi interface —
 * many requests in flight, a token bucket (rate, burst) and a concurrency cap per marketplace
 * ("lane"), connect/total timeouts, HTTP/2 where offered, TLS verification always on. Plain http
 * is allowed to loopback only (the simulators); anything else is refused before a socket opens.
 *
 * Threads: a cx_transport belongs to one thread (typically one per worker thread); nothing in
 * it is shared, so no locks. Call cx_transport_global_init() once before starting threads. */
#ifndef CX_TRANSPORT_H
#define CX_TRANSPORT_H
#include "connectors/connector.h"

typedef struct cx_transport cx_transport;

typedef struct cx_transport_cfg {
    long connect_timeout_ms; /* cx.connect_timeout_ms */
    long total_timeout_ms;   /* cx.total_timeout_ms (whole request, per attempt) */
    const char *ca_file;     /* cx.ca_file; NULL or "" = the system store */
    size_t max_response;     /* cx.max_response: bigger bodies fail with CX_T_OTHER */
} cx_transport_cfg;

/* curl_global_init, once per process (thread-safe via pthread_once). 0 or -1. */
int cx_transport_global_init(void);
/* The cx.* settings. */
void cx_transport_cfg_from_config(cx_transport_cfg *out);

/* New transport (copies cfg; ca_file copied). NULL with err on failure. */
cx_transport *cx_transport_new(const cx_transport_cfg *cfg, cs_error *err);
/* Finish every queued (CX_T_CONNECT: never sent) and in-flight (CX_T_OTHER) request through
 * its callback, then free. */
void cx_transport_free(cx_transport *t);

/* Set the limits of a lane (created on first use; a lane never set is unlimited with
 * concurrency 8). rate_per_sec <= 0 = no rate limit; burst >= 1 tokens; concurrency >= 1.
 * Returns 0 or -1 (OOM, bad values, more than 32 lanes). */
int cx_transport_lane(cx_transport *t, const char *lane, double rate_per_sec, int burst,
                      int concurrency);

/* Called once per submitted request, from cx_transport_run (or _free). resp and its body are
 * valid only during the call; the callback may submit more requests. */
typedef void (*cx_done_fn)(void *arg, const cx_request *req, const cx_response *resp);

/* Queue req on a lane. req is borrowed: keep it alive until its callback ran. Policy refusals
 * (plain http off loopback, other schemes) are not errors here: the callback gets
 * CX_T_REFUSED on the next run. Returns 0, or -1 (OOM; CS_E_INTERNAL for an authorisation
 * link, which is never sent). */
int cx_transport_submit(cx_transport *t, const char *lane, const cx_request *req, cx_done_fn done,
                        void *arg, cs_error *err);

/* Run until nothing is queued or in flight, or until deadline_ms (CLOCK_MONOTONIC
 * milliseconds, cx_transport_now_ms; 0 = no deadline). Returns the number of callbacks run. */
long cx_transport_run(cx_transport *t, long long deadline_ms);
size_t cx_transport_pending(const cx_transport *t); /* queued + in flight */
long long cx_transport_now_ms(void);                /* CLOCK_MONOTONIC in ms */

/* Per-lane counters (for tests, the benchmark and /metrics). */
typedef struct cx_lane_stats {
    unsigned long started;   /* handed to curl */
    unsigned long completed; /* callbacks run, refusals included */
    unsigned long refused;   /* policy refusals */
    int in_flight;
    int max_in_flight;
    long long first_start_ms; /* monotonic ms of the first and the latest start */
    long long last_start_ms;
} cx_lane_stats;
/* 0, or -1 when the lane does not exist. */
int cx_transport_stats(const cx_transport *t, const char *lane, cx_lane_stats *out);

/* 1 when the transport policy lets url be fetched: https anywhere, http only to 127.0.0.0/8,
 * ::1 or localhost. */
int cx_transport_url_allowed(const char *url);
#endif
