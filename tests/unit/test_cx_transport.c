/* tests/unit/test_cx_transport: the curl-multi transport against a tiny HTTP server started
 * in-process (libmicrohttpd) on a random loopback port: bodies and headers both ways,
 * multipart, the concurrency cap, the token bucket, timeouts → retry, Retry-After, response
 * caps, and refusal of plain http off loopback. Assertions on time are bounds that a slow
 * machine cannot break (the limiter can only be slower, never faster). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "connectors/registry.h"
#include "connectors/transport.h"
#include "core/buf.h"
#include "core/mem.h"

/* ---- the test server ---------------------------------------------------------------------- */

static struct MHD_Daemon *daemon_;
static int port_;
static atomic_int concurrent, max_concurrent, requests, stopping;

struct conn {
    cs_buf body;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             size_t len, const char *retry_after)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct conn *k = *con_cls;
    if (!k) {
        k = calloc(1, sizeof *k);
        cs_buf_init(&k->body, (size_t)8 << 20);
        *con_cls = k;
        return MHD_YES;
    }
    if (*size) {
        cs_buf_append(&k->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&requests, 1);
    if (!strcmp(url, "/echo")) {
        cs_buf out;
        cs_buf_init(&out, 0);
        const char *xt = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
        cs_buf_printf(&out, "%s|%s|%s|%s|", method, xt ? xt : "-", ct ? ct : "-", q ? q : "-");
        cs_buf_append(&out, k->body.data ? k->body.data : "", k->body.len);
        enum MHD_Result rc = reply(c, 200, out.data, out.len, NULL);
        cs_buf_free(&out);
        return rc;
    }
    if (!strcmp(url, "/slow")) {
        const char *ms = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ms");
        long total = ms ? strtol(ms, NULL, 10) : 100;
        int now = atomic_fetch_add(&concurrent, 1) + 1;
        int prev = atomic_load(&max_concurrent);
        while (now > prev && !atomic_compare_exchange_weak(&max_concurrent, &prev, now)) {
        }
        for (long t = 0; t < total && !atomic_load(&stopping); t += 10)
            sleep_ms(10);
        atomic_fetch_sub(&concurrent, 1);
        return reply(c, 200, "{\"slow\":true}", 13, NULL);
    }
    if (!strcmp(url, "/429")) return reply(c, 429, "{\"error\":\"error_system_busy\"}", 29, "7");
    if (!strcmp(url, "/big")) {
        size_t n = (size_t)2 << 20;
        char *b = malloc(n);
        memset(b, 'x', n);
        struct MHD_Response *r = MHD_create_response_from_buffer(n, b, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result rc = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return rc;
    }
    return reply(c, 200, "{\"ok\":true}", 11, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn *k = *con_cls;
    if (k) {
        cs_buf_free(&k->body);
        free(k);
        *con_cls = NULL;
    }
}

static int server_up(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                               NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                               MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                               MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!daemon_) return -1;
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
    return cx_transport_global_init();
}

static int server_down(void **state)
{
    (void)state;
    atomic_store(&stopping, 1);
    MHD_stop_daemon(daemon_);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct result {
    int called;
    cx_transport_error te;
    long status;
    char body[512];
    size_t body_len;
    char retry_after[32];
} result;

static void on_done(void *arg, const cx_request *req, const cx_response *resp)
{
    (void)req;
    result *r = arg;
    r->called++;
    r->te = resp->transport;
    r->status = resp->status;
    r->body_len = resp->body_len;
    size_t n = resp->body_len < sizeof r->body - 1 ? resp->body_len : sizeof r->body - 1;
    if (resp->body) memcpy(r->body, resp->body, n);
    r->body[n] = '\0';
    snprintf(r->retry_after, sizeof r->retry_after, "%s",
             resp->retry_after ? resp->retry_after : "");
}

static cx_transport *new_transport(long total_ms, size_t max_response)
{
    cx_transport_cfg cfg = {2000, total_ms, NULL, max_response};
    cs_error err;
    cs_error_clear(&err);
    cx_transport *t = cx_transport_new(&cfg, &err);
    assert_non_null(t);
    return t;
}

static void make_req(cx_request *r, const char *method, const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port_, path);
    cx_request_init(r);
    snprintf(r->method, sizeof r->method, "%s", method);
    r->op = CX_OP_CREATE_ITEM;
    r->url = cs_strdup(url);
}

static void submit(cx_transport *t, const char *lane, cx_request *r, result *res)
{
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_transport_submit(t, lane, r, on_done, res, &err), 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_bodies_and_headers(void **state)
{
    (void)state;
    cx_transport *t = new_transport(5000, 0);
    cx_request get, post, put;
    result rg = {0}, rp = {0}, ru = {0};
    make_req(&get, "GET", "/echo?q=m%E1%BA%AFm");
    get.headers[0].name = cs_strdup("X-Test");
    get.headers[0].value = cs_strdup("xin chào");
    get.nheaders = 1;
    make_req(&post, "POST", "/echo");
    post.content_type = cs_strdup("application/json");
    post.body = cs_strdup("{\"a\":\"Thanh Hóa\"}");
    post.body_len = strlen(post.body);
    make_req(&put, "PUT", "/echo");
    put.content_type = cs_strdup("application/x-www-form-urlencoded");
    put.body = cs_strdup("k=v");
    put.body_len = 3;
    submit(t, "shopee", &get, &rg);
    submit(t, "shopee", &post, &rp);
    submit(t, "lazada", &put, &ru);
    assert_int_equal(cx_transport_pending(t), 3);
    assert_int_equal(cx_transport_run(t, 0), 3);
    assert_int_equal(cx_transport_pending(t), 0);
    assert_int_equal(rg.te, CX_T_OK);
    assert_int_equal(rg.status, 200);
    assert_string_equal(rg.body, "GET|xin chào|-|mắm|");
    assert_string_equal(rp.body, "POST|-|application/json|-|{\"a\":\"Thanh Hóa\"}");
    assert_string_equal(ru.body, "PUT|-|application/x-www-form-urlencoded|-|k=v");
    cx_lane_stats st;
    assert_int_equal(cx_transport_stats(t, "shopee", &st), 0);
    assert_int_equal(st.started, 2);
    assert_int_equal(st.completed, 2);
    assert_int_equal(cx_transport_stats(t, "nope", &st), -1);
    cx_transport_free(t);
    cx_request_free(&get);
    cx_request_free(&post);
    cx_request_free(&put);
}

static void test_multipart(void **state)
{
    (void)state;
    cx_transport *t = new_transport(5000, 0);
    cx_request r;
    result res = {0};
    static const char img[] = "\x89PNG-fake-bytes";
    make_req(&r, "POST", "/echo");
    r.parts[0].name = cs_strdup("image");
    r.parts[0].filename = cs_strdup("a.png");
    r.parts[0].content_type = cs_strdup("image/png");
    r.parts[0].data = img;
    r.parts[0].len = sizeof img - 1;
    r.nparts = 1;
    submit(t, "shopee", &r, &res);
    cx_transport_run(t, 0);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, "POST|-|multipart/form-data; boundary="));
    assert_non_null(strstr(res.body, "name=\"image\"; filename=\"a.png\""));
    assert_non_null(strstr(res.body, "Content-Type: image/png"));
    assert_non_null(strstr(res.body, "PNG-fake-bytes"));
    cx_transport_free(t);
    cx_request_free(&r);
}

static void test_concurrency_cap(void **state)
{
    (void)state;
    cx_transport *t = new_transport(10000, 0);
    assert_int_equal(cx_transport_lane(t, "lazada", 0, 1, 3), 0);
    enum { N = 9 };
    cx_request r[N];
    result res[N];
    memset(res, 0, sizeof res);
    atomic_store(&max_concurrent, 0);
    for (int i = 0; i < N; i++) {
        make_req(&r[i], "GET", "/slow?ms=150");
        submit(t, "lazada", &r[i], &res[i]);
    }
    assert_int_equal(cx_transport_run(t, 0), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(res[i].te, CX_T_OK);
        assert_int_equal(res[i].status, 200);
        cx_request_free(&r[i]);
    }
    cx_lane_stats st;
    cx_transport_stats(t, "lazada", &st);
    assert_int_equal(st.max_in_flight, 3);
    assert_int_equal(st.started, N);
    assert_int_equal(st.in_flight, 0);
    assert_true(atomic_load(&max_concurrent) <= 3);
    assert_true(atomic_load(&max_concurrent) >= 1);
    cx_transport_free(t);
}

static void test_token_bucket(void **state)
{
    (void)state;
    cx_transport *t = new_transport(10000, 0);
    assert_int_equal(cx_transport_lane(t, "tiktok", 20.0, 1, 8), 0);
    enum { N = 10 };
    cx_request r[N];
    result res[N];
    memset(res, 0, sizeof res);
    int before = atomic_load(&requests);
    for (int i = 0; i < N; i++) {
        make_req(&r[i], "GET", "/json");
        submit(t, "tiktok", &r[i], &res[i]);
    }
    /* in the first 200 ms at most 1 (burst) + 200 ms × 20/s = 5 more may start */
    long long t0 = cx_transport_now_ms();
    cx_transport_run(t, t0 + 200);
    cx_lane_stats st;
    cx_transport_stats(t, "tiktok", &st);
    assert_true(st.started >= 1);
    assert_true(st.started <= 6);
    assert_true(cx_transport_pending(t) >= N - 6);
    cx_transport_run(t, 0);
    cx_transport_stats(t, "tiktok", &st);
    assert_int_equal(st.started, N);
    assert_int_equal(st.completed, N);
    assert_int_equal(atomic_load(&requests) - before, N);
    /* 10 starts at 20/s with a burst of 1 span at least 9 token intervals of 50 ms */
    assert_true(st.last_start_ms - st.first_start_ms >= 9 * 50 - 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal(res[i].status, 200);
        cx_request_free(&r[i]);
    }
    assert_int_equal(cx_transport_lane(t, "x", 1, 0, 1), -1);
    assert_int_equal(cx_transport_lane(t, "x", 1, 1, 0), -1);
    cx_transport_free(t);
}

static void test_timeout_is_retry(void **state)
{
    (void)state;
    cx_transport *t = new_transport(300, 0);
    cx_request r;
    result res = {0};
    make_req(&r, "POST", "/slow?ms=3000");
    r.body = cs_strdup("{}");
    r.body_len = 2;
    submit(t, "shopee", &r, &res);
    cx_transport_run(t, 0);
    assert_int_equal(res.called, 1);
    assert_int_equal(res.te, CX_T_TIMEOUT);
    /* the connector turns it into "retry, outcome unknown": look the SKU up before creating */
    cx_market m = {.code = "shopee"};
    cx_input in = {.mp = &m, .now_ms = 1};
    cx_response resp = {res.te, 0, NULL, 0, NULL, NULL};
    cx_outcome o;
    cx_shopee.parse(CX_OP_CREATE_ITEM, &in, &resp, &o);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);
    cx_transport_free(t);
    cx_request_free(&r);
}

static void test_retry_after_and_cap(void **state)
{
    (void)state;
    cx_transport *t = new_transport(5000, (size_t)1 << 20);
    cx_request a, b;
    result ra = {0}, rb = {0};
    make_req(&a, "GET", "/429");
    make_req(&b, "GET", "/big");
    submit(t, "shopee", &a, &ra);
    submit(t, "shopee", &b, &rb);
    cx_transport_run(t, 0);
    assert_int_equal(ra.status, 429);
    assert_string_equal(ra.retry_after, "7");
    assert_int_equal(rb.te, CX_T_OTHER); /* 2 MiB over a 1 MiB cap */
    cx_transport_free(t);
    cx_request_free(&a);
    cx_request_free(&b);
}

static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    socklen_t l = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &l);
    close(s);
    return ntohs(sa.sin_port);
}

static void test_policy_and_connect_failures(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int ok;
    } cases[] = {
        {"https://partner.shopeemobile.com/api", 1},
        {"http://127.0.0.1:8080/x", 1},
        {"http://127.3.4.5/x", 1},
        {"http://localhost:1/x", 1},
        {"http://[::1]:9/x", 1},
        {"http://partner.shopeemobile.com/api", 0},
        {"http://192.0.2.1/x", 0},
        {"http://127.0.0.1.evil.com/x", 0},
        {"http://user@127.0.0.1/x", 0},
        {"ftp://127.0.0.1/x", 0},
        {"file:///etc/passwd", 0},
        {"http://10.0.0.1/x", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(cx_transport_url_allowed(cases[i].url), cases[i].ok);

    cx_transport *t = new_transport(2000, 0);
    cx_request r1, r2, r3;
    result a = {0}, b = {0}, c = {0};
    int before = atomic_load(&requests);
    cx_request_init(&r1);
    r1.url = cs_strdup("http://192.0.2.1/never");
    snprintf(r1.method, sizeof r1.method, "GET");
    r1.op = CX_OP_LINK_CHECK;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/json", closed_port());
    cx_request_init(&r2);
    r2.url = cs_strdup(url);
    snprintf(r2.method, sizeof r2.method, "GET");
    r2.op = CX_OP_LINK_CHECK;
    /* TLS to a plain-HTTP server: the handshake fails, nothing was sent */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/json", port_);
    cx_request_init(&r3);
    r3.url = cs_strdup(url);
    snprintf(r3.method, sizeof r3.method, "GET");
    r3.op = CX_OP_LINK_CHECK;
    submit(t, "voso", &r1, &a);
    submit(t, "voso", &r2, &b);
    submit(t, "voso", &r3, &c);
    cx_transport_run(t, 0);
    assert_int_equal(a.te, CX_T_REFUSED);
    assert_int_equal(b.te, CX_T_CONNECT);
    assert_int_equal(c.te, CX_T_CONNECT);
    cx_lane_stats st;
    cx_transport_stats(t, "voso", &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.completed, 3);
    assert_int_equal(atomic_load(&requests), before); /* the refused one never left */
    /* an authorisation link is for the owner's browser, never sent */
    cx_request link;
    cx_request_init(&link);
    link.op = CX_OP_AUTHORIZE_LINK;
    link.url = cs_strdup("https://partner.test/api/v2/shop/auth_partner");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_transport_submit(t, "shopee", &link, on_done, &a, &err), -1);
    cx_request_free(&link);
    cx_transport_free(t);
    cx_request_free(&r1);
    cx_request_free(&r2);
    cx_request_free(&r3);
}

static void test_free_with_queued_work(void **state)
{
    (void)state;
    cx_transport *t = new_transport(2000, 0);
    cx_request r[3];
    result res[3];
    memset(res, 0, sizeof res);
    for (int i = 0; i < 3; i++) {
        make_req(&r[i], "GET", "/json");
        submit(t, "postmart", &r[i], &res[i]);
    }
    cx_transport_free(t); /* never run: each callback still runs once, "never sent" */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(res[i].called, 1);
        assert_int_equal(res[i].te, CX_T_CONNECT);
        cx_request_free(&r[i]);
    }
}

/* Callbacks may queue follow-up work (e.g. look the SKU up after a timeout). */
static cx_transport *chain_t;
static cx_request chain_req2;
static result chain_res2;
static void on_first(void *arg, const cx_request *req, const cx_response *resp)
{
    on_done(arg, req, resp);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(
        cx_transport_submit(chain_t, "shopee", &chain_req2, on_done, &chain_res2, &err), 0);
}

/* A create gets a connection of its own and closes it after its answer: ten creates in a row
 * leave no idle connections behind (they used to stay in libcurl's cache). */
static void test_creates_leave_no_idle_connections(void **state)
{
    (void)state;
    /* connections earlier tests left on the server (a client that gave up on /slow) */
    const union MHD_DaemonInfo *d0 =
        MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    unsigned before = d0 ? d0->num_connections : 0;
    cx_transport *t = new_transport(5000, 0);
    for (int i = 0; i < 10; i++) {
        cx_request r;
        result res = {0};
        make_req(&r, "POST", "/echo"); /* op CX_OP_CREATE_ITEM */
        submit(t, "lazada", &r, &res);
        assert_int_equal(cx_transport_run(t, 0), 1);
        assert_int_equal(res.status, 200);
        cx_request_free(&r);
    }
    unsigned open = 99;
    for (int i = 0; i < 100; i++) {
        const union MHD_DaemonInfo *di =
            MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        open = di ? di->num_connections : 99;
        if (open <= before) break;
        sleep_ms(20);
    }
    assert_true(open <= before);
    cx_transport_free(t);
}

static void test_chained_submit(void **state)
{
    (void)state;
    chain_t = new_transport(5000, 0);
    cx_request r1;
    result res1 = {0};
    make_req(&r1, "GET", "/json");
    make_req(&chain_req2, "GET", "/echo");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_transport_submit(chain_t, "shopee", &r1, on_first, &res1, &err), 0);
    assert_int_equal(cx_transport_run(chain_t, 0), 2);
    assert_int_equal(res1.status, 200);
    assert_int_equal(chain_res2.status, 200);
    assert_string_equal(chain_res2.body, "GET|-|-|-|");
    cx_transport_free(chain_t);
    cx_request_free(&r1);
    cx_request_free(&chain_req2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies_and_headers),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_concurrency_cap),
        cmocka_unit_test(test_token_bucket),
        cmocka_unit_test(test_timeout_is_retry),
        cmocka_unit_test(test_retry_after_and_cap),
        cmocka_unit_test(test_policy_and_connect_failures),
        cmocka_unit_test(test_free_with_queued_work),
        cmocka_unit_test(test_chained_submit),
        cmocka_unit_test(test_creates_leave_no_idle_connections),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
