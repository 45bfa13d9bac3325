/* connectors/transport: the only place connectors' requests touch the network (libcurl multi).
 * Knows nothing of any marketplace's protocol: it moves cx_requests and hands back responses.
 * Scheduling: per lane a FIFO queue, a token bucket and a cap on requests in flight. */
#include "connectors/transport.h"
#include "connectors/cxutil.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/mem.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_LANES 32
#define DEFAULT_CONCURRENCY 8

typedef struct job job;
typedef struct lane {
    char name[32];
    double rate; /* tokens per second, <= 0 = unlimited */
    double burst;
    double tokens;
    long long refill_ms; /* when tokens were last topped up */
    int concurrency;
    int starved;      /* the last start attempt waited for a token */
    job *head, *tail; /* queued, FIFO */
    size_t queued;
    cx_lane_stats st;
} lane;

struct job {
    job *next;
    job *aprev, *anext; /* in-flight list */
    lane *ln;
    const cx_request *req;
    cx_done_fn done;
    void *arg;
    CURL *easy;
    struct curl_slist *hdrs;
    curl_mime *mime;
    cs_buf body;
    char retry_after[64];
    char location[512];
    int refused;
};

struct cx_transport {
    CURLM *multi;
    cx_transport_cfg cfg;
    char *ca_file;
    lane lanes[MAX_LANES];
    size_t nlanes;
    size_t pending;    /* queued + in flight */
    job *refused_head; /* refused at submit, finished on the next run */
    job *active;       /* in flight (curl 7.88 has no curl_multi_get_handles) */
};

static void active_add(cx_transport *t, job *j)
{
    j->aprev = NULL;
    j->anext = t->active;
    if (t->active) t->active->aprev = j;
    t->active = j;
}

static void active_del(cx_transport *t, job *j)
{
    if (j->aprev)
        j->aprev->anext = j->anext;
    else
        t->active = j->anext;
    if (j->anext) j->anext->aprev = j->aprev;
    j->aprev = j->anext = NULL;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = -1;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int cx_transport_global_init(void)
{
    pthread_once(&global_once, global_init);
    return global_rc;
}

long long cx_transport_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cx_transport_cfg_from_config(cx_transport_cfg *out)
{
    out->connect_timeout_ms = cs_cfg_int("cx.connect_timeout_ms");
    out->total_timeout_ms = cs_cfg_int("cx.total_timeout_ms");
    out->ca_file = cs_cfg_str("cx.ca_file");
    out->max_response = (size_t)cs_cfg_int("cx.max_response");
}

int cx_transport_url_allowed(const char *url)
{
    char scheme[8], host[256];
    int port;
    size_t at;
    if (cx_url_split(url, scheme, sizeof scheme, host, sizeof host, &port, &at)) return 0;
    if (!strcmp(scheme, "https")) return 1;
    return !strcmp(scheme, "http") && cx_host_is_loopback(host);
}

cx_transport *cx_transport_new(const cx_transport_cfg *cfg, cs_error *err)
{
    if (cx_transport_global_init()) {
        cs_error_set(err, CS_E_INTERNAL, "curl_global_init failed");
        return NULL;
    }
    cx_transport *t = cs_calloc(1, sizeof *t);
    if (!t) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    t->cfg = *cfg;
    if (cfg->ca_file && *cfg->ca_file && !(t->ca_file = cs_strdup(cfg->ca_file))) goto oom;
    t->cfg.ca_file = t->ca_file;
    if (!t->cfg.max_response) t->cfg.max_response = (size_t)4 << 20;
    t->multi = curl_multi_init();
    if (!t->multi) goto oom;
    /* HTTP/2 multiplexing where the server offers it. */
    curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return t;
oom:
    cs_free(t->ca_file);
    cs_free(t);
    cs_error_set(err, CS_E_NOMEM, NULL);
    return NULL;
}

static lane *find_lane(const cx_transport *t, const char *name)
{
    for (size_t i = 0; i < t->nlanes; i++)
        if (!strcmp(t->lanes[i].name, name)) return (lane *)&t->lanes[i];
    return NULL;
}

static lane *get_lane(cx_transport *t, const char *name)
{
    lane *l = find_lane(t, name);
    if (l) return l;
    if (t->nlanes >= MAX_LANES || strlen(name) >= sizeof l->name) return NULL;
    l = &t->lanes[t->nlanes++];
    memset(l, 0, sizeof *l);
    memcpy(l->name, name, strlen(name) + 1);
    l->rate = 0;
    l->burst = 1;
    l->tokens = 1;
    l->concurrency = DEFAULT_CONCURRENCY;
    return l;
}

int cx_transport_lane(cx_transport *t, const char *name, double rate, int burst, int concurrency)
{
    if (!name || burst < 1 || concurrency < 1 || isnan(rate)) return -1;
    lane *l = get_lane(t, name);
    if (!l) return -1;
    l->rate = rate;
    l->burst = burst;
    l->tokens = burst; /* a fresh lane may start `burst` requests at once */
    l->refill_ms = cx_transport_now_ms();
    l->concurrency = concurrency;
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    job *j = ud;
    size_t k = size * n;
    return cs_buf_append(&j->body, p, k) ? 0 : k; /* 0 aborts: over the cap or OOM */
}

/* The value of header `name` ("retry-after:") when line p is that header, into out. */
static void header_value(const char *p, size_t k, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    if (k <= nl || strncasecmp(p, name, nl)) return;
    size_t a = nl;
    while (a < k && (p[a] == ' ' || p[a] == '\t'))
        a++;
    size_t e = k;
    while (e > a && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
        e--;
    cx_copy(out, outsz, "");
    if (e - a < outsz) {
        memcpy(out, p + a, e - a);
        out[e - a] = '\0';
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    job *j = ud;
    size_t k = size * n;
    header_value(p, k, "retry-after:", j->retry_after, sizeof j->retry_after);
    header_value(p, k, "location:", j->location, sizeof j->location);
    return k;
}

static void job_free(job *j)
{
    if (j->easy) curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    curl_mime_free(j->mime);
    if (j->body.data) explicit_bzero(j->body.data, j->body.len);
    cs_buf_free(&j->body);
    cs_free(j);
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value,
                                     int *bad)
{
    cs_buf b;
    cs_buf_init(&b, 16384);
    struct curl_slist *n = NULL;
    if (cs_buf_printf(&b, "%s: %s", name, value) == 0) n = curl_slist_append(h, b.data);
    if (b.data) explicit_bzero(b.data, b.len);
    cs_buf_free(&b);
    if (!n) {
        *bad = 1;
        return h;
    }
    return n;
}

/* Prepare the curl handle for j. Returns 0 or -1 (OOM). */
static int job_setup(cx_transport *t, job *j)
{
    const cx_request *r = j->req;
    CURL *e = curl_easy_init();
    int bad = 0;
    if (!e) return -1;
    j->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->cfg.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->cfg.total_timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* TLS verification is always on; only the CA bundle is configurable. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (t->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
    /* libcurl sends a request again, on its own, when a re-used keep-alive connection turns out
     * closed before any answer came — also after the peer had acted on it (created the item,
     * then dropped the connection). A create must never be sent twice: it gets a connection of
     * its own, on which libcurl never retries; closed after its answer, or every create would
     * leave one more idle keep-alive connection in the cache (hundreds per worker, past what a
     * marketplace — or the simulator, 512 — accepts at once). */
    if (r->op == CX_OP_CREATE_ITEM) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, "choso/1 (+https://github.com/choso)");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    /* No redirect is followed here: a link check follows Location by hand (jobs/flows_assisted.c)
     * so that every hop is checked to be on the marketplace's own hosts before it is fetched. */
    for (size_t i = 0; i < r->nheaders; i++)
        j->hdrs = add_header(j->hdrs, r->headers[i].name, r->headers[i].value, &bad);
    j->hdrs = add_header(j->hdrs, "Expect", "", &bad); /* no 100-continue round trip */
    if (r->nparts) {
        j->mime = curl_mime_init(e);
        if (!j->mime) return -1;
        for (size_t i = 0; i < r->nparts; i++) {
            const cx_part *p = &r->parts[i];
            curl_mimepart *mp = curl_mime_addpart(j->mime);
            if (!mp || curl_mime_name(mp, p->name) || curl_mime_data(mp, p->data, p->len) ||
                (p->filename && curl_mime_filename(mp, p->filename)) ||
                (p->content_type && curl_mime_type(mp, p->content_type)))
                return -1;
        }
        curl_easy_setopt(e, CURLOPT_MIMEPOST, j->mime);
        if (strcmp(r->method, "POST")) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (r->body) {
        j->hdrs = add_header(j->hdrs, "Content-Type",
                             r->content_type ? r->content_type : "application/octet-stream", &bad);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        if (strcmp(r->method, "POST")) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (!strcmp(r->method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    } else if (strcmp(r->method, "GET")) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (bad) return -1;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
    return 0;
}

int cx_transport_submit(cx_transport *t, const char *lane_name, const cx_request *req,
                        cx_done_fn done, void *arg, cs_error *err)
{
    if (!req || !req->url || !done)
        return cs_error_set(err, CS_E_INTERNAL, "transport: incomplete request");
    if (req->op == CX_OP_AUTHORIZE_LINK)
        return cs_error_set(err, CS_E_INTERNAL, "an authorisation link is opened by the owner");
    lane *l = get_lane(t, lane_name ? lane_name : "default");
    if (!l) return cs_error_set(err, CS_E_INTERNAL, "transport: too many lanes");
    job *j = cs_calloc(1, sizeof *j);
    if (!j) return cs_error_set(err, CS_E_NOMEM, NULL);
    cs_buf_init(&j->body, t->cfg.max_response);
    j->ln = l;
    j->req = req;
    j->done = done;
    j->arg = arg;
    t->pending++;
    if (!cx_transport_url_allowed(req->url)) {
        j->refused = 1;
        j->next = t->refused_head;
        t->refused_head = j;
        return 0;
    }
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->queued++;
    return 0;
}

static void finish(cx_transport *t, job *j, const cx_response *resp)
{
    lane *l = j->ln;
    t->pending--;
    l->st.completed++;
    j->done(j->arg, j->req, resp);
    job_free(j);
}

static void finish_simple(cx_transport *t, job *j, cx_transport_error te)
{
    cx_response resp = {te, 0, NULL, 0, NULL, NULL};
    if (te == CX_T_REFUSED) j->ln->st.refused++;
    finish(t, j, &resp);
}

/* Top up a lane's bucket. While the lane was waiting for a token, tokens earned by waking up
 * late are kept (cap: burst + the larger of 1 token and 10 ms of tokens), so millisecond timer
 * granularity does not erode the rate: a backlogged lane runs at the configured rate (measured
 * 0.99-1.0 R at 50-1000/s), at the price of at most that many extra in a burst. */
static void refill(lane *l, long long now)
{
    if (l->rate <= 0) return;
    if (now > l->refill_ms) {
        double late = l->rate / 100.0 > 1.0 ? l->rate / 100.0 : 1.0; /* 10 ms of tokens */
        double cap = l->burst + (l->starved ? late : 0.0);
        l->tokens += (double)(now - l->refill_ms) * l->rate / 1000.0;
        if (l->tokens > cap) l->tokens = cap;
        l->refill_ms = now;
    }
}

/* Start every queued job its lane allows now. *wait_ms: how long until a token-starved lane
 * may start its next one (-1 when none is waiting on tokens). */
static void start_ready(cx_transport *t, long long now, long *wait_ms)
{
    *wait_ms = -1;
    for (size_t i = 0; i < t->nlanes; i++) {
        lane *l = &t->lanes[i];
        refill(l, now);
        l->starved = 0;
        while (l->head && l->st.in_flight < l->concurrency) {
            if (l->rate > 0 && l->tokens < 1.0) {
                l->starved = 1;
                long w = (long)ceil((1.0 - l->tokens) * 1000.0 / l->rate);
                if (w < 1) w = 1;
                if (*wait_ms < 0 || w < *wait_ms) *wait_ms = w;
                break;
            }
            job *j = l->head;
            l->head = j->next;
            if (!l->head) l->tail = NULL;
            l->queued--;
            j->next = NULL;
            if (job_setup(t, j) || curl_multi_add_handle(t->multi, j->easy) != CURLM_OK) {
                finish_simple(t, j, CX_T_CONNECT); /* never sent */
                continue;
            }
            if (l->rate > 0) l->tokens -= 1.0;
            active_add(t, j);
            l->st.started++;
            l->st.in_flight++;
            if (l->st.in_flight > l->st.max_in_flight) l->st.max_in_flight = l->st.in_flight;
            if (!l->st.first_start_ms) l->st.first_start_ms = now;
            l->st.last_start_ms = now;
        }
    }
}

static cx_transport_error classify(CURL *e, CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return CX_T_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return CX_T_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: {
        /* Timed out before the request could be sent: nothing reached the marketplace. */
        curl_off_t pre = 0;
        curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
        return pre > 0 ? CX_T_TIMEOUT : CX_T_CONNECT;
    }
    default:
        return CX_T_OTHER;
    }
}

static long drain(cx_transport *t)
{
    long done = 0;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(t->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        job *j = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
        curl_multi_remove_handle(t->multi, e);
        active_del(t, j);
        j->ln->st.in_flight--;
        cx_response resp = {classify(e, rc), 0, NULL, 0, NULL, NULL};
        if (resp.transport == CX_T_OK) {
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
            resp.body = j->body.data ? j->body.data : "";
            resp.body_len = j->body.len;
            resp.retry_after = j->retry_after[0] ? j->retry_after : NULL;
            resp.location = j->location[0] ? j->location : NULL;
        }
        finish(t, j, &resp);
        done++;
    }
    return done;
}

long cx_transport_run(cx_transport *t, long long deadline_ms)
{
    long done = 0;
    while (t->refused_head) {
        job *j = t->refused_head;
        t->refused_head = j->next;
        finish_simple(t, j, CX_T_REFUSED);
        done++;
    }
    while (t->pending) {
        long long now = cx_transport_now_ms();
        if (deadline_ms && now >= deadline_ms) break;
        long wait_ms;
        start_ready(t, now, &wait_ms);
        int running = 0;
        curl_multi_perform(t->multi, &running);
        done += drain(t);
        while (t->refused_head) { /* submitted by a callback */
            job *j = t->refused_head;
            t->refused_head = j->next;
            finish_simple(t, j, CX_T_REFUSED);
            done++;
        }
        if (!t->pending) break;
        long timeout = 1000;
        if (wait_ms >= 0 && wait_ms < timeout) timeout = wait_ms;
        if (running) {
            long ct = -1;
            curl_multi_timeout(t->multi, &ct);
            if (ct >= 0 && ct < timeout) timeout = ct;
        }
        if (deadline_ms) {
            long long left = deadline_ms - cx_transport_now_ms();
            if (left < timeout) timeout = left > 0 ? (long)left : 0;
        }
        /* Start newly possible work at once; otherwise sleep in curl until I/O or timeout. */
        int can_start = 0;
        for (size_t i = 0; i < t->nlanes && !can_start; i++) {
            lane *l = &t->lanes[i];
            can_start =
                l->head && l->st.in_flight < l->concurrency && (l->rate <= 0 || l->tokens >= 1.0);
        }
        if (!can_start && timeout > 0) curl_multi_poll(t->multi, NULL, 0, (int)timeout, NULL);
    }
    return done;
}

size_t cx_transport_pending(const cx_transport *t)
{
    return t->pending;
}

int cx_transport_stats(const cx_transport *t, const char *name, cx_lane_stats *out)
{
    const lane *l = find_lane(t, name);
    if (!l) return -1;
    *out = l->st;
    return 0;
}

void cx_transport_free(cx_transport *t)
{
    if (!t) return;
    while (t->refused_head) {
        job *j = t->refused_head;
        t->refused_head = j->next;
        finish_simple(t, j, CX_T_REFUSED);
    }
    for (size_t i = 0; i < t->nlanes; i++) {
        lane *l = &t->lanes[i];
        while (l->head) {
            job *j = l->head;
            l->head = j->next;
            l->queued--;
            finish_simple(t, j, CX_T_CONNECT);
        }
    }
    /* in flight: abandon (the marketplace may or may not have received them) */
    while (t->active) {
        job *j = t->active;
        active_del(t, j);
        curl_multi_remove_handle(t->multi, j->easy);
        j->ln->st.in_flight--;
        finish_simple(t, j, CX_T_OTHER);
    }
    curl_multi_cleanup(t->multi);
    cs_free(t->ca_file);
    cs_free(t);
}
