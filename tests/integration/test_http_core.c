/* Integration tests of the HTTP framework (service/server, request, auth, idem, metrics): a
 * server started in this process on a random port with test-only routes, the real MariaDB of
 * scripts/run-tests, libcurl as the client. Skips (77) without CHOSO_DB_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "service/auth.h"
#include "service/metrics.h"
#include "service/router.h"
#include "service/server.h"
#include "tests/support/tsup.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static svc_server *server;
static unsigned port;
static char commune_a[8], commune_b[8];
static char tok_admin[64], tok_monitor[64], tok_vol_a[64], tok_revoked[64], tok_expired[64];
static int64_t id_admin;
static atomic_int echo_runs, flaky_runs, slowpost_runs;

/* ---- test-only routes ------------------------------------------------------------------ */

static int h_echo(svc_req *r)
{
    const char *name = NULL;
    int64_t n = 0;
    const cs_jfield spec[] = {
        {.name = "name", .type = CS_J_STRING, .flags = CS_JF_REQUIRED, .max_len = 20, .out = &name},
        {.name = "n", .type = CS_J_INT, .out = &n},
        {.name = NULL},
    };
    cs_error e;
    cs_error_clear(&e);
    if (cs_json_check(r->json, spec, &e)) return svc_reply_problem(r, &e);
    int run = atomic_fetch_add(&echo_runs, 1) + 1;
    svc_add_header(r, "Location", "/t/echo/1");
    return svc_reply_json(
        r, 201, json_pack("{s:s, s:I, s:i}", "name", name, "n", (json_int_t)n, "run", run));
}

static int h_whoami(svc_req *r)
{
    return svc_reply_json(r, 200,
                          json_pack("{s:s, s:s, s:s?, s:s}", "actor", r->actor.id, "client",
                                    r->client, "role", svc_role_name(r->actor.role), "lang",
                                    r->lang == CS_LANG_EN ? "en" : "vi"));
}

static int h_commune(svc_req *r)
{
    const char *c = svc_param(r, "code");
    return svc_reply_json(r, 200,
                          json_pack("{s:b, s:b, s:b}", "read", svc_can_read_commune(r, c), "write",
                                    svc_can_write_commune(r, c), "personal",
                                    svc_can_see_personal(r, c)));
}

static int h_slow(svc_req *r)
{
    usleep(1200 * 1000);
    return svc_reply_json(r, 200, json_pack("{s:s}", "slow", "done"));
}

static int h_slowpost(svc_req *r)
{
    atomic_fetch_add(&slowpost_runs, 1);
    usleep(800 * 1000);
    return svc_reply_json(r, 201, json_pack("{s:s}", "slow", "done"));
}

static int h_flaky(svc_req *r)
{
    if (atomic_fetch_add(&flaky_runs, 1) == 0) return svc_reply_error(r, CS_E_DB_SOFT, NULL);
    return svc_reply_json(r, 201, json_pack("{s:i}", "runs", atomic_load(&flaky_runs)));
}

static int h_noreply(svc_req *r)
{
    (void)r;
    return 0;
}

static int h_raw(svc_req *r)
{
    return svc_reply_json(r, 200,
                          json_pack("{s:I, s:s?}", "len", (json_int_t)r->body_len, "ctype",
                                    svc_header(r, "Content-Type")));
}

static int h_form(svc_req *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nparts; i++)
        json_array_append_new(a,
                              json_pack("{s:s, s:s?, s:I}", "name", r->parts[i].name, "filename",
                                        r->parts[i].filename, "len", (json_int_t)r->parts[i].len));
    return svc_reply_json(r, 200, json_pack("{s:o}", "parts", a));
}

static int h_query(svc_req *r)
{
    int64_t limit;
    cs_error e;
    cs_error_clear(&e);
    if (svc_query_int(r, "limit", 50, 1, 200, &limit, &e)) return svc_reply_problem(r, &e);
    return svc_reply_json(
        r, 200, json_pack("{s:I, s:s?}", "limit", (json_int_t)limit, "q", svc_query(r, "q")));
}

static const svc_route test_routes[] = {
    {"POST", "/t/echo", h_echo, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_JSON},
    {"GET", "/t/whoami", h_whoami, SVC_PUBLIC, SVC_R_INTERNAL},
    {"GET", "/t/admin", h_whoami, SVC_ROLE_ADMIN, SVC_R_INTERNAL},
    {"GET", "/t/staff", h_whoami, SVC_ROLE_ADMIN | SVC_ROLE_MONITOR, SVC_R_INTERNAL},
    {"GET", "/t/commune/{code}", h_commune, SVC_ROLES_ALL, SVC_R_INTERNAL},
    {"GET", "/t/slow", h_slow, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_NOAUTH},
    {"POST", "/t/slowpost", h_slowpost, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_JSON},
    {"POST", "/t/flaky", h_flaky, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_JSON_OPT},
    {"GET", "/t/noreply", h_noreply, SVC_PUBLIC, SVC_R_INTERNAL},
    {"POST", "/t/raw", h_raw, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_RAW},
    {"POST", "/t/form", h_form, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_FORM},
    {"GET", "/t/query", h_query, SVC_PUBLIC, SVC_R_INTERNAL},
};

/* ---- client ----------------------------------------------------------------------------- */

typedef struct resp {
    long status;
    cs_buf body;
    cs_buf head;
    json_t *json;
} resp;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    cs_buf_append(ud, p, size * n);
    return size * n;
}

static void resp_free(resp *r)
{
    cs_buf_free(&r->body);
    cs_buf_free(&r->head);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Value of response header `name` (last occurrence) into a static buffer, NULL if absent. */
static const char *hdr(const resp *r, const char *name)
{
    static char out[512];
    const char *found = NULL;
    size_t nl = strlen(name);
    for (const char *line = r->head.data; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol) break;
        if ((size_t)(eol - line) > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, sizeof out, "%.*s", (int)(eol - v), v);
            found = out;
        }
        line = eol + 2;
    }
    return found;
}

struct chunked {
    size_t left;
};

static size_t read_chunked(char *buf, size_t size, size_t n, void *ud)
{
    struct chunked *c = ud;
    size_t k = size * n < c->left ? size * n : c->left;
    memset(buf, '{', k);
    c->left -= k;
    return k;
}

/* One request. headers: NULL-terminated "Name: value" strings. body NULL = none; chunked > 0
 * sends that many bytes with Transfer-Encoding: chunked instead. */
static void request_ex(resp *out, const char *method, const char *path, const char *const *headers,
                       const char *body, size_t blen, size_t chunked, unsigned use_port)
{
    memset(out, 0, sizeof *out);
    cs_buf_init(&out->body, 0);
    cs_buf_init(&out->head, 0);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", use_port, path);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    struct chunked ch = {chunked};
    if (chunked) {
        hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_chunked);
        curl_easy_setopt(c, CURLOPT_READDATA, &ch);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    else
        out->status = -(long)rc;
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (out->body.len) out->json = json_loadb(out->body.data, out->body.len, 0, NULL);
}

static void request(resp *out, const char *method, const char *path, const char *const *headers,
                    const char *body)
{
    request_ex(out, method, path, headers, body, body ? strlen(body) : 0, 0, port);
}

static const char *jstr(const resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

/* A problem+json answer with the given status and code, shaped as RFC 9457 says. */
static void assert_problem(const resp *r, long status, const char *code)
{
    if (r->status != status)
        fprintf(stderr, "expected %ld %s, got %ld: %s\n", status, code, r->status,
                r->body.data ? r->body.data : "");
    assert_int_equal(r->status, status);
    assert_non_null(hdr(r, "Content-Type"));
    assert_string_equal(hdr(r, "Content-Type"), "application/problem+json");
    assert_non_null(r->json);
    assert_string_equal(jstr(r, "code"), code);
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_non_null(jstr(r, "type"));
    assert_non_null(jstr(r, "title"));
    assert_non_null(jstr(r, "detail"));
    assert_non_null(hdr(r, "X-Request-Id"));
    assert_string_equal(jstr(r, "request_id"), hdr(r, "X-Request-Id"));
}

static const char *first_field(const resp *r, const char *what)
{
    json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);
    return json_string_value(json_object_get(e, what));
}

/* ---- set-up ------------------------------------------------------------------------------ */

static void make_token(cs_db *db, char *out, const char *role, const char *commune,
                       const char *extra_sql, int64_t *id)
{
    char raw[44];
    assert_int_equal(cs_random_token(raw), 0);
    snprintf(out, 64, "choso_%s", raw);
    unsigned char h[32];
    cs_token_hash(out, h);
    tsup_exec(db,
              "INSERT INTO tokens (name, role, token_hash, created_at) VALUES ('test', ?, ?, "
              "UTC_TIMESTAMP())",
              "sb", role, h, sizeof h);
    int64_t tid = (int64_t)cs_db_insert_id(db);
    if (commune)
        tsup_exec(db, "INSERT INTO token_communes (token_id, commune_code) VALUES (?, ?)", "is",
                  tid, commune);
    if (extra_sql) tsup_exec(db, extra_sql, "i", tid);
    if (id) *id = tid;
}

static double test_gauge(void *arg)
{
    (void)arg;
    return 42;
}

static int setup(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    /* Small caps so the limits are cheap to reach. */
    cs_config_set("http.port", "0", &e);
    cs_config_set("http.max_body", "4096", &e);
    cs_config_set("http.max_upload", "65536", &e);
    cs_config_set("http.max_url", "512", &e);
    cs_config_set("http.threads", "4", &e);
    if (cs_error_failed(&e)) return -1;
    if (cs_crypto_init(cs_cfg_str("crypto.key_file"), &e) || cs_db_pool_init(&e)) {
        fprintf(stderr, "setup: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    cs_db *db = tsup_connect();
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, "SELECT code FROM admin_units ORDER BY code LIMIT 2", "", &e) ||
        cs_rows_count(rows) != 2)
        return -1;
    snprintf(commune_a, sizeof commune_a, "%s", cs_rows_str(rows, 0, 0));
    snprintf(commune_b, sizeof commune_b, "%s", cs_rows_str(rows, 1, 0));
    cs_rows_free(rows);
    make_token(db, tok_admin, "admin", NULL, NULL, &id_admin);
    make_token(db, tok_monitor, "monitor", NULL, NULL, NULL);
    make_token(db, tok_vol_a, "volunteer", commune_a, NULL, NULL);
    make_token(db, tok_revoked, "admin", NULL,
               "UPDATE tokens SET revoked_at = UTC_TIMESTAMP() WHERE id = ?", NULL);
    make_token(db, tok_expired, "admin", NULL,
               "UPDATE tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 MINUTE WHERE id = ?",
               NULL);
    cs_db_close(db);

    for (size_t i = 0; i < sizeof test_routes / sizeof test_routes[0]; i++)
        if (svc_router_add(&test_routes[i])) return -1;
    if (svc_metrics_register_gauge("choso_test_gauge", "a gauge registered by the test", test_gauge,
                                   NULL))
        return -1;
    server = svc_server_start(&e);
    if (!server) {
        fprintf(stderr, "server: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    port = svc_server_port(server);
    return port ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (server) svc_server_stop(server, 5);
    server = NULL;
    svc_router_clear_extra();
    cs_db_pool_shutdown();
    cs_crypto_shutdown();
    return 0;
}

static char auth_hdr[96];
static const char *bearer(const char *tok)
{
    snprintf(auth_hdr, sizeof auth_hdr, "Authorization: Bearer %s", tok);
    return auth_hdr;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_probes_and_headers(void **state)
{
    (void)state;
    resp r;
    request(&r, "GET", "/healthz", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "status"), "ok");
    assert_string_equal(hdr(&r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(hdr(&r, "Referrer-Policy"), "no-referrer");
    assert_string_equal(hdr(&r, "X-Frame-Options"), "DENY");
    assert_non_null(strstr(hdr(&r, "Content-Security-Policy"), "default-src 'self'"));
    assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
    resp_free(&r);

    request(&r, "GET", "/readyz", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "status"), "ready");
    resp_free(&r);

    request(&r, "HEAD", "/healthz", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    resp_free(&r);
}

static void test_404_405(void **state)
{
    (void)state;
    resp r;
    request(&r, "GET", "/no/such/route", NULL, NULL);
    assert_problem(&r, 404, "route_not_found");
    assert_non_null(strstr(hdr(&r, "Content-Security-Policy"), "default-src 'self'"));
    resp_free(&r);

    request(&r, "DELETE", "/healthz", NULL, NULL);
    assert_problem(&r, 405, "method_not_allowed");
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    resp_free(&r);

    request(&r, "GET", "/t/echo", NULL, NULL);
    assert_problem(&r, 405, "method_not_allowed");
    assert_string_equal(hdr(&r, "Allow"), "POST");
    resp_free(&r);
}

static void test_problem_language(void **state)
{
    (void)state;
    resp r;
    request(&r, "GET", "/nope", NULL, NULL);
    assert_problem(&r, 404, "route_not_found");
    assert_string_equal(jstr(&r, "title"), cs_code_message(CS_E_ROUTE_NOT_FOUND, CS_LANG_VI));
    resp_free(&r);
    const char *en[] = {"Accept-Language: en-GB,en;q=0.8", NULL};
    request(&r, "GET", "/nope", en, NULL);
    assert_problem(&r, 404, "route_not_found");
    assert_string_equal(jstr(&r, "title"), "No such route");
    resp_free(&r);
    /* field messages follow the language too */
    const char *ct_en[] = {"Content-Type: application/json", "Accept-Language: en", NULL};
    request(&r, "POST", "/t/echo", ct_en, "{\"name\":1}");
    assert_problem(&r, 422, "validation_failed");
    assert_string_equal(first_field(&r, "field"), "name");
    assert_string_equal(first_field(&r, "code"), "wrong_type");
    assert_non_null(strstr(first_field(&r, "message"), "Wrong type"));
    resp_free(&r);
    const char *ct_vi[] = {"Content-Type: application/json", NULL};
    request(&r, "POST", "/t/echo", ct_vi, "{\"name\":1}");
    assert_non_null(strstr(first_field(&r, "message"), "Sai kiểu dữ liệu"));
    resp_free(&r);
}

static void test_request_id(void **state)
{
    (void)state;
    resp r;
    const char *good[] = {"X-Request-Id: abc.DEF_123-xyz", NULL};
    request(&r, "GET", "/healthz", good, NULL);
    assert_string_equal(hdr(&r, "X-Request-Id"), "abc.DEF_123-xyz");
    resp_free(&r);
    const char *bads[] = {
        "X-Request-Id: short", "X-Request-Id: has space inside it",
        "X-Request-Id: semi;colon;not;allowed",
        "X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const char *h[] = {bads[i], NULL};
        request(&r, "GET", "/nope", h, NULL);
        const char *id = hdr(&r, "X-Request-Id");
        assert_non_null(id);
        assert_int_equal(strlen(id), 24);
        assert_null(strstr(bads[i], id));
        assert_string_equal(jstr(&r, "request_id"), id);
        resp_free(&r);
    }
    /* two requests, two ids */
    char first[80];
    request(&r, "GET", "/healthz", NULL, NULL);
    snprintf(first, sizeof first, "%s", hdr(&r, "X-Request-Id"));
    resp_free(&r);
    request(&r, "GET", "/healthz", NULL, NULL);
    assert_string_not_equal(first, hdr(&r, "X-Request-Id"));
    resp_free(&r);
}

static void test_limits(void **state)
{
    (void)state;
    resp r;
    const char *json[] = {"Content-Type: application/json", NULL};
    /* 414: the URL cap counts the query string too */
    char path[700];
    snprintf(path, sizeof path, "/healthz?pad=");
    memset(path + strlen(path), 'a', 600);
    path[13 + 600] = '\0'; /* "/healthz?pad=" and 600 a's; the rest was never written */
    request(&r, "GET", path, NULL, NULL);
    assert_problem(&r, 414, "uri_too_long");
    resp_free(&r);

    /* 413 from Content-Length, before reading the body */
    size_t big = 5000;
    char *body = cs_malloc(big + 1);
    memset(body, ' ', big);
    body[0] = '{', body[big - 1] = '}', body[big] = '\0';
    request(&r, "POST", "/t/echo", json, body);
    assert_problem(&r, 413, "body_too_large");
    resp_free(&r);
    cs_free(body);

    /* 413 while reading a chunked body (no Content-Length) */
    request_ex(&r, "POST", "/t/echo", json, NULL, 0, 9000, port);
    assert_problem(&r, 413, "body_too_large");
    resp_free(&r);
    /* a chunked body under the cap is read */
    request_ex(&r, "POST", "/t/raw",
               (const char *[]){"Content-Type: application/octet-stream", NULL}, NULL, 0, 3000,
               port);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "len")), 3000);
    resp_free(&r);

    /* 415 */
    const char *text[] = {"Content-Type: text/plain", NULL};
    request(&r, "POST", "/t/echo", text, "{\"name\":\"a\"}");
    assert_problem(&r, 415, "unsupported_media_type");
    resp_free(&r);
    const char *latin[] = {"Content-Type: application/json; charset=iso-8859-1", NULL};
    request(&r, "POST", "/t/echo", latin, "{\"name\":\"a\"}");
    assert_problem(&r, 415, "unsupported_media_type");
    resp_free(&r);
    const char *utf8[] = {"Content-Type: Application/JSON; charset=UTF-8", NULL};
    request(&r, "POST", "/t/echo", utf8, "{\"name\":\"a\"}");
    assert_int_equal(r.status, 201);
    resp_free(&r);

    /* huge header (over http.conn_memory, 256 KiB): refused by MHD's per-connection memory,
     * never a 5xx */
    size_t hn = 400000;
    char *hv = cs_malloc(hn + 16);
    snprintf(hv, 16, "X-Huge: ");
    memset(hv + 8, 'h', hn);
    hv[8 + hn] = '\0';
    const char *huge[] = {hv, NULL};
    request(&r, "GET", "/healthz", huge, NULL);
    assert_true(r.status >= 400 && r.status < 500);
    resp_free(&r);
    cs_free(hv);

    /* the server is still fine */
    request(&r, "GET", "/healthz", NULL, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

/* Issue 10 point 5: ~1,000 empty query arguments or ~2,000 cookies get an answer, and the
 * in-flight count comes back down (it used to grow by one for each, leaking the request record
 * made before MHD gave up, and SIGTERM then waited out its whole grace period). */
static void test_many_args_and_cookies(void **state)
{
    (void)state;
    resp r;
    static const size_t nargs[] = {300, 1000, 3000};
    for (size_t k = 0; k < sizeof nargs / sizeof nargs[0]; k++) {
        char *path = cs_malloc(nargs[k] + 16);
        snprintf(path, 16, "/healthz?");
        memset(path + 9, '&', nargs[k]);
        path[9 + nargs[k]] = '\0';
        request(&r, "GET", path, NULL, NULL);
        assert_problem(&r, 414, "uri_too_long");
        resp_free(&r);
        cs_free(path);
    }
    size_t n = 2000, len = 16 + n * 12; /* "c1999=1; " is 9 bytes */
    char *cookie = cs_malloc(len);
    size_t o = (size_t)snprintf(cookie, len, "Cookie: ");
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(cookie + o, len - o, "c%zu=1; ", i);
        assert_true(o < len);
    }
    const char *h[] = {cookie, NULL};
    request(&r, "GET", "/healthz", h, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    cs_free(cookie);
    for (int i = 0; i < 100 && svc_server_in_flight(server); i++)
        usleep(10000);
    assert_int_equal(svc_server_in_flight(server), 0);
}

static void test_json_input(void **state)
{
    (void)state;
    resp r;
    const char *json[] = {"Content-Type: application/json", NULL};
    request(&r, "POST", "/t/echo", json, "{\"name\": \"a\",");
    assert_problem(&r, 400, "malformed_json");
    assert_non_null(strstr(jstr(&r, "detail"), "line 1"));
    resp_free(&r);

    request(&r, "POST", "/t/echo", json, NULL);
    assert_problem(&r, 400, "malformed_json");
    resp_free(&r);

    request(&r, "POST", "/t/echo", json, "{\"name\":\"a\",\"sneaky\":true}");
    assert_problem(&r, 422, "validation_failed");
    assert_string_equal(first_field(&r, "field"), "sneaky");
    assert_string_equal(first_field(&r, "code"), "unknown_field");
    resp_free(&r);

    request(&r, "POST", "/t/echo", json, "{}");
    assert_problem(&r, 422, "validation_failed");
    assert_string_equal(first_field(&r, "field"), "name");
    assert_string_equal(first_field(&r, "code"), "required");
    resp_free(&r);

    const char bad[] = "{\"name\":\"Ho\xE0\xA0\"}";
    request(&r, "POST", "/t/echo", json, bad);
    assert_problem(&r, 400, "body_invalid_utf8");
    assert_string_equal(first_field(&r, "field"), "name");
    assert_string_equal(first_field(&r, "code"), "invalid_utf8");
    resp_free(&r);

    request(&r, "POST", "/t/echo", json, "{\"name\":\"Nguyễn Thị Hoa\",\"n\":7}");
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(&r, "name"), "Nguyễn Thị Hoa");
    assert_string_equal(hdr(&r, "Location"), "/t/echo/1");
    resp_free(&r);

    /* query parameters */
    request(&r, "GET", "/t/query?limit=7&q=ph%E1%BB%9F", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "limit")), 7);
    assert_string_equal(jstr(&r, "q"), "phở");
    resp_free(&r);
    request(&r, "GET", "/t/query?limit=999", NULL, NULL);
    assert_problem(&r, 422, "validation_failed");
    assert_string_equal(first_field(&r, "field"), "limit");
    assert_string_equal(first_field(&r, "code"), "out_of_range");
    resp_free(&r);
}

static void test_form_and_raw(void **state)
{
    (void)state;
    resp r;
    const char *mp[] = {"Content-Type: multipart/form-data; boundary=XyZ", NULL};
    const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"order\"\r\n\r\n3\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nDATA\r\n--XyZ--\r\n";
    request_ex(&r, "POST", "/t/form", mp, body, sizeof body - 1, 0, port);
    assert_int_equal(r.status, 200);
    json_t *parts = json_object_get(r.json, "parts");
    assert_int_equal(json_array_size(parts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(parts, 0), "name")),
                        "order");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(parts, 0), "len")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(parts, 1), "filename")),
                        "a.png");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(parts, 1), "len")), 12);
    resp_free(&r);

    const char *json[] = {"Content-Type: application/json", NULL};
    request(&r, "POST", "/t/form", json, "{}");
    assert_problem(&r, 415, "unsupported_media_type");
    resp_free(&r);
}

static void test_roles(void **state)
{
    (void)state;
    resp r;
    request(&r, "GET", "/t/admin", NULL, NULL);
    assert_problem(&r, 401, "unauthenticated");
    assert_non_null(strstr(hdr(&r, "WWW-Authenticate"), "Bearer"));
    resp_free(&r);

    const char *bad_tokens[] = {"choso_notarealtokenatallnotarealtokenatall12", tok_revoked,
                                tok_expired};
    for (size_t i = 0; i < 3; i++) {
        const char *h[] = {bearer(bad_tokens[i]), NULL};
        request(&r, "GET", "/t/admin", h, NULL);
        assert_problem(&r, 401, "token_invalid");
        assert_non_null(strstr(hdr(&r, "WWW-Authenticate"), "invalid_token"));
        resp_free(&r);
    }
    const char *malformed[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
    request(&r, "GET", "/t/admin", malformed, NULL);
    assert_problem(&r, 401, "token_invalid");
    resp_free(&r);
    /* a bad token on a public route is still refused: the client should know */
    const char *h_bad[] = {bearer("choso_nope"), NULL};
    request(&r, "GET", "/t/whoami", h_bad, NULL);
    assert_problem(&r, 401, "token_invalid");
    resp_free(&r);

    struct {
        const char *tok;
        long admin, staff;
        const char *role;
    } m[] = {
        {tok_admin, 200, 200, "admin"},
        {tok_monitor, 403, 200, "monitor"},
        {tok_vol_a, 403, 403, "volunteer"},
    };
    for (size_t i = 0; i < 3; i++) {
        const char *h[] = {bearer(m[i].tok), NULL};
        request(&r, "GET", "/t/admin", h, NULL);
        if (m[i].admin == 200) {
            assert_int_equal(r.status, 200);
            assert_string_equal(jstr(&r, "role"), m[i].role);
        } else {
            assert_problem(&r, 403, "forbidden");
        }
        resp_free(&r);
        h[0] = bearer(m[i].tok);
        request(&r, "GET", "/t/staff", h, NULL);
        assert_int_equal(r.status, m[i].staff);
        resp_free(&r);
    }

    /* commune scope: {read, write, personal} */
    struct {
        const char *tok;
        const char *commune;
        int read, write, personal;
    } s[] = {
        {tok_admin, commune_b, 1, 1, 1},
        {tok_monitor, commune_a, 1, 0, 0},
        {tok_vol_a, commune_a, 1, 1, 1},
        {tok_vol_a, commune_b, 0, 0, 0},
    };
    for (size_t i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "/t/commune/%s", s[i].commune);
        const char *h[] = {bearer(s[i].tok), NULL};
        request(&r, "GET", path, h, NULL);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_is_true(json_object_get(r.json, "read")), s[i].read);
        assert_int_equal(json_is_true(json_object_get(r.json, "write")), s[i].write);
        assert_int_equal(json_is_true(json_object_get(r.json, "personal")), s[i].personal);
        resp_free(&r);
    }
}

static void test_last_used_once_a_minute(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    resp r;
    const char *h[] = {bearer(tok_admin), NULL};
    tsup_exec(db,
              "UPDATE tokens SET last_used_at = UTC_TIMESTAMP() - INTERVAL 30 SECOND WHERE id = ?",
              "i", id_admin);
    request(&r, "GET", "/t/admin", h, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT last_used_at < UTC_TIMESTAMP() - INTERVAL 20 SECOND FROM tokens WHERE id = ?",
            "i", id_admin),
        1); /* touched 30 s ago: left alone */
    tsup_exec(db,
              "UPDATE tokens SET last_used_at = UTC_TIMESTAMP() - INTERVAL 2 MINUTE WHERE id = ?",
              "i", id_admin);
    h[0] = bearer(tok_admin);
    request(&r, "GET", "/t/admin", h, NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT last_used_at > UTC_TIMESTAMP() - INTERVAL 20 SECOND FROM tokens WHERE id = ?",
            "i", id_admin),
        1);
    cs_db_close(db);
}

static void test_client_address(void **state)
{
    (void)state;
    resp r;
    const char *xff[] = {"X-Forwarded-For: 203.0.113.9", NULL};
    request(&r, "GET", "/t/whoami", xff, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(&r, "client"), "127.0.0.1"); /* not a trusted proxy: ignored */
    resp_free(&r);

    /* a second server that trusts its proxy takes the last X-Forwarded-For entry */
    cs_error e;
    cs_error_clear(&e);
    cs_config_set("http.trusted_proxy", "1", &e);
    svc_server *s2 = svc_server_start(&e);
    cs_config_set("http.trusted_proxy", "0", &e);
    assert_non_null(s2);
    const char *xff2[] = {"X-Forwarded-For: 198.51.100.7, 203.0.113.9", NULL};
    request_ex(&r, "GET", "/t/whoami", xff2, NULL, 0, 0, svc_server_port(s2));
    assert_string_equal(jstr(&r, "client"), "203.0.113.9");
    resp_free(&r);
    const char *junk[] = {"X-Forwarded-For: 10.0.0.1, not-an-ip", NULL};
    request_ex(&r, "GET", "/t/whoami", junk, NULL, 0, 0, svc_server_port(s2));
    assert_string_equal(jstr(&r, "client"), "127.0.0.1");
    resp_free(&r);
    assert_int_equal(svc_server_stop(s2, 5), 0);
}

static void test_idempotency(void **state)
{
    (void)state;
    resp r;
    char key[80];
    tsup_unique("Idempotency-Key: k", key, sizeof key);
    const char *h[] = {"Content-Type: application/json", key, bearer(tok_admin), NULL};
    int before = atomic_load(&echo_runs);
    request(&r, "POST", "/t/echo", h, "{\"name\":\"once\",\"n\":1}");
    assert_int_equal(r.status, 201);
    assert_null(hdr(&r, "Idempotent-Replayed"));
    char first[256];
    snprintf(first, sizeof first, "%s", r.body.data);
    resp_free(&r);
    assert_int_equal(atomic_load(&echo_runs), before + 1);

    h[2] = bearer(tok_admin);
    request(&r, "POST", "/t/echo", h, "{\"name\":\"once\",\"n\":1}");
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body.data, first); /* the stored reply, byte for byte */
    assert_string_equal(hdr(&r, "Idempotent-Replayed"), "true");
    assert_string_equal(hdr(&r, "Location"), "/t/echo/1");
    assert_string_equal(hdr(&r, "Content-Type"), "application/json");
    resp_free(&r);
    assert_int_equal(atomic_load(&echo_runs), before + 1); /* the handler did not run again */

    h[2] = bearer(tok_admin);
    request(&r, "POST", "/t/echo", h, "{\"name\":\"other\",\"n\":1}");
    assert_problem(&r, 422, "idempotency_key_reused");
    resp_free(&r);

    /* another actor with the same key is another request */
    h[2] = bearer(tok_monitor);
    request(&r, "POST", "/t/echo", h, "{\"name\":\"once\",\"n\":1}");
    assert_int_equal(r.status, 201);
    assert_null(hdr(&r, "Idempotent-Replayed"));
    resp_free(&r);
    assert_int_equal(atomic_load(&echo_runs), before + 2);

    /* the body is sealed at rest */
    cs_db *db = tsup_connect();
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = ? AND state = 'done'"
                 " AND LOCATE('once', body) = 0",
                 "s", key + strlen("Idempotency-Key: ")),
        2);
    cs_db_close(db);

    /* a malformed key */
    const char *hb[] = {"Content-Type: application/json", "Idempotency-Key: has spaces in it",
                        NULL};
    request(&r, "POST", "/t/echo", hb, "{\"name\":\"x\"}");
    assert_problem(&r, 400, "bad_request");
    assert_string_equal(first_field(&r, "field"), "Idempotency-Key");
    resp_free(&r);
}

static void test_idempotency_5xx_not_stored(void **state)
{
    (void)state;
    resp r;
    char key[80];
    tsup_unique("Idempotency-Key: f", key, sizeof key);
    const char *h[] = {key, NULL};
    request(&r, "POST", "/t/flaky", h, NULL);
    assert_problem(&r, 503, "database_retry");
    resp_free(&r);
    request(&r, "POST", "/t/flaky", h, NULL);
    assert_int_equal(r.status, 201); /* the failed attempt gave the key up: this one ran */
    assert_int_equal(atomic_load(&flaky_runs), 2);
    resp_free(&r);
    request(&r, "POST", "/t/flaky", h, NULL);
    assert_int_equal(r.status, 201);
    assert_string_equal(hdr(&r, "Idempotent-Replayed"), "true");
    assert_int_equal(atomic_load(&flaky_runs), 2);
    resp_free(&r);
}

struct bg {
    const char *method, *path;
    const char *const *headers;
    const char *body;
    resp r;
};

static void *bg_request(void *arg)
{
    struct bg *b = arg;
    request(&b->r, b->method, b->path, b->headers, b->body);
    return NULL;
}

static void test_idempotency_in_progress(void **state)
{
    (void)state;
    char key[80];
    tsup_unique("Idempotency-Key: p", key, sizeof key);
    const char *h[] = {"Content-Type: application/json", key, NULL};
    struct bg b = {"POST", "/t/slowpost", h, "{}", {0}};
    pthread_t t;
    pthread_create(&t, NULL, bg_request, &b);
    usleep(300 * 1000);
    resp r;
    request(&r, "POST", "/t/slowpost", h, "{}");
    assert_problem(&r, 409, "idempotency_in_progress");
    resp_free(&r);
    pthread_join(t, NULL);
    assert_int_equal(b.r.status, 201);
    resp_free(&b.r);
    assert_int_equal(atomic_load(&slowpost_runs), 1);
}

static void test_handler_without_reply(void **state)
{
    (void)state;
    resp r;
    request(&r, "GET", "/t/noreply", NULL, NULL);
    assert_problem(&r, 500, "internal");
    resp_free(&r);
}

static void test_metrics(void **state)
{
    (void)state;
    resp r;
    request(&r, "GET", "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(hdr(&r, "Content-Type"), "text/plain"));
    const char *b = r.body.data;
    assert_non_null(
        strstr(b, "choso_http_requests_total{route=\"/t/echo\",method=\"POST\",status=\"201\"}"));
    assert_non_null(strstr(
        b, "choso_http_requests_total{route=\"(unmatched)\",method=\"GET\",status=\"404\"}"));
    assert_non_null(
        strstr(b, "choso_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"));
    assert_non_null(strstr(b, "choso_db_pool_max "));
    assert_non_null(strstr(b, "choso_build_info{version=\""));
    assert_non_null(strstr(b, "choso_test_gauge 42\n"));
    assert_non_null(strstr(b, "choso_http_in_flight 1\n")); /* this very request */
    /* raw paths never become labels */
    assert_null(strstr(b, "/no/such/route"));
    resp_free(&r);
}

static void test_graceful_shutdown(void **state)
{
    (void)state;
    struct bg b = {"GET", "/t/slow", NULL, NULL, {0}};
    pthread_t t;
    pthread_create(&t, NULL, bg_request, &b);
    usleep(300 * 1000);
    assert_int_equal(svc_server_in_flight(server), 1);
    unsigned cut = svc_server_stop(server, 10);
    server = NULL;
    pthread_join(t, NULL);
    assert_int_equal(cut, 0);
    assert_int_equal(b.r.status, 200); /* the running request finished */
    assert_string_equal(jstr(&b.r, "slow"), "done");
    resp_free(&b.r);
    resp r;
    request(&r, "GET", "/healthz", NULL, NULL);
    assert_true(r.status < 0); /* nobody listens any more */
    resp_free(&r);
}

int main(void)
{
    tsup_require_db();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probes_and_headers),
        cmocka_unit_test(test_404_405),
        cmocka_unit_test(test_problem_language),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_many_args_and_cookies),
        cmocka_unit_test(test_json_input),
        cmocka_unit_test(test_form_and_raw),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_last_used_once_a_minute),
        cmocka_unit_test(test_client_address),
        cmocka_unit_test(test_idempotency),
        cmocka_unit_test(test_idempotency_5xx_not_stored),
        cmocka_unit_test(test_idempotency_in_progress),
        cmocka_unit_test(test_handler_without_reply),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_graceful_shutdown), /* last: it stops the server */
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
