/* tests/unit/test_sandbox_lazada: the Lazada simulator in-process on a random loopback port,
 * driven over HTTP with signatures made by connectors/sign (no database). */
#include "tests/unit/sandbox_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ctype.h>

#define APP_KEY TM_LAZADA_APP_KEY
#define SECRET TM_LAZADA_APP_SECRET

static sbx_sandbox *sb;
static char gw[64], auth_host[64];

enum { SIGN_OK, SIGN_BAD, SIGN_LOWER };

/* A signed call: system params and sign in the query, business params form-encoded (POST) or
 * in the query (GET), the way the Lazada SDK sends them. */
static json_t *call(const char *method, const char *api, const char *token, const cx_param *biz,
                    size_t nbiz, long long ts_off_ms, int mode, sbt_resp *r)
{
    char ts[32], sign[65];
    snprintf(ts, sizeof ts, "%lld", sbt_now_ms() + ts_off_ms);
    cx_param all[16];
    size_t n = 0;
    all[n++] = (cx_param){"app_key", APP_KEY};
    all[n++] = (cx_param){"timestamp", ts};
    all[n++] = (cx_param){"sign_method", "sha256"};
    if (token) all[n++] = (cx_param){"access_token", token};
    for (size_t i = 0; i < nbiz; i++)
        all[n++] = biz[i];
    assert_int_equal(cx_lazada_sign(SECRET, api, all, n, sign), 0);
    if (mode == SIGN_BAD) sign[3] = sign[3] == 'A' ? 'B' : 'A';
    if (mode == SIGN_LOWER)
        for (char *p = sign; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    cs_buf q, body;
    cs_buf_init(&q, 1 << 20);
    cs_buf_init(&body, 1 << 20);
    char enc[8192];
    cs_buf_printf(&q, "%s%s?", gw, api);
    size_t sys = token ? 4 : 3;
    for (size_t i = 0; i < n; i++) {
        cs_buf *dst = i < sys || !strcmp(method, "GET") ? &q : &body;
        sbt_escape(all[i].value, enc, sizeof enc);
        if (dst->len && dst->data[dst->len - 1] != '?') cs_buf_putc(dst, '&');
        cs_buf_printf(dst, "%s=%s", all[i].key, enc);
    }
    cs_buf_printf(&q, "&sign=%s", sign);
    json_t *j = sbt_req(method, q.data, body.len ? "application/x-www-form-urlencoded" : NULL,
                        body.len ? body.data : NULL, body.len, NULL, NULL, 0, r);
    cs_buf_free(&q);
    cs_buf_free(&body);
    return j;
}

typedef struct shop {
    char seller[32], access[80], refresh[80], code[80];
} shop;

static void authorise(const char *state, shop *s)
{
    char url[1024], enc[256];
    sbt_escape("http://127.0.0.1:9/v1/oauth/lazada/callback", enc, sizeof enc);
    snprintf(url, sizeof url,
             "%s/oauth/authorize?response_type=code&force_auth=true&redirect_uri=%s&client_id=%s"
             "&state=%s",
             auth_host, enc, APP_KEY, state);
    sbt_resp r;
    sbt_get(url, &r);
    assert_int_equal(r.status, 302);
    char st[64];
    assert_int_equal(sbt_url_param(r.location, "state", st, sizeof st), 0);
    assert_string_equal(st, state);
    assert_int_equal(sbt_url_param(r.location, "code", s->code, sizeof s->code), 0);
    sbt_free(&r);
    cx_param p = {"code", s->code};
    json_t *j = call("POST", "/auth/token/create", NULL, &p, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    assert_int_equal(json_integer_value(json_object_get(j, "expires_in")), 30 * 86400);
    snprintf(s->access, sizeof s->access, "%s", sbt_str(j, "access_token"));
    snprintf(s->refresh, sizeof s->refresh, "%s", sbt_str(j, "refresh_token"));
    snprintf(s->seller, sizeof s->seller, "%s",
             sbt_str(json_array_get(json_object_get(j, "country_user_info"), 0), "seller_id"));
    assert_true(s->seller[0] != '\0');
    json_decref(j);
    sbt_free(&r);
}

static void assert_error(json_t *j, const sbt_resp *r, const char *code)
{
    assert_int_equal(r->status, 200);
    assert_non_null(j);
    assert_string_equal(sbt_str(j, "code"), code);
    assert_non_null(sbt_str(j, "type"));
    assert_non_null(sbt_str(j, "message"));
    assert_non_null(sbt_str(j, "request_id"));
}

static int reset(void **state)
{
    (void)state;
    json_decref(sbt_admin(auth_host, "reset", "{}"));
    json_decref(sbt_admin(auth_host, "config", "{\"rate\":0,\"lazada_push_url\":\"\"}"));
    return 0;
}

static void test_signature_and_timestamp(void **state)
{
    (void)state;
    shop s;
    authorise("hh1", &s);
    sbt_resp r;
    cx_param p = {"seller_sku", "CS-1"};
    json_t *j = call("GET", "/product/item/get", s.access, &p, 1, 0, SIGN_BAD, &r);
    assert_error(j, &r, "IncompleteSignature");
    assert_string_equal(sbt_str(j, "type"), "ISV");
    assert_int_equal(json_object_size(j), 4); /* exactly type, code, message, request_id */
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/product/item/get", s.access, &p, 1, 0, SIGN_LOWER, &r);
    assert_error(j, &r, "IncompleteSignature");
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/product/item/get", s.access, &p, 1, -3 * 3600 * 1000LL, SIGN_OK, &r);
    assert_error(j, &r, "InvalidTimestamp");
    json_decref(j);
    sbt_free(&r);
    /* correctly signed: the call passes the gateway (and finds nothing) */
    j = call("GET", "/product/item/get", s.access, &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "208");
    json_decref(j);
    sbt_free(&r);
    /* signed POST with business parameters in the form body */
    j = call("POST", "/product/item/get", s.access, &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "208");
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/product/item/get", "not-a-token", &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "IllegalAccessToken");
    json_decref(j);
    sbt_free(&r);
}

static void test_code_and_refresh_single_use(void **state)
{
    (void)state;
    shop s;
    authorise("hh2", &s);
    sbt_resp r;
    cx_param p = {"code", s.code};
    json_t *j = call("POST", "/auth/token/create", NULL, &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "InvalidCode");
    json_decref(j);
    sbt_free(&r);
    cx_param q = {"refresh_token", s.refresh};
    j = call("POST", "/auth/token/refresh", NULL, &q, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    assert_string_not_equal(sbt_str(j, "refresh_token"), s.refresh);
    json_decref(j);
    sbt_free(&r);
    j = call("POST", "/auth/token/refresh", NULL, &q, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "IllegalRefreshToken");
    json_decref(j);
    sbt_free(&r);
    /* same state → same seller on re-authorisation */
    shop again;
    authorise("hh2", &again);
    assert_string_equal(again.seller, s.seller);
    /* expired tokens are refused with the auth error */
    json_decref(sbt_admin(auth_host, "expire-tokens", "{\"marketplace\":\"lazada\"}"));
    cx_param k = {"seller_sku", "x"};
    j = call("GET", "/product/item/get", again.access, &k, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "IllegalAccessToken");
    json_decref(j);
    sbt_free(&r);
}

static char hosted[256];

static void migrate(const shop *s)
{
    sbt_resp r;
    cx_param p = {"payload", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Request><Image><Url>"
                             "https://choso.example/media/ab.jpg</Url></Image></Request>"};
    json_t *j = call("POST", "/image/migrate", s->access, &p, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    const char *u = sbt_str(json_object_get(json_object_get(j, "data"), "image"), "url");
    assert_non_null(u);
    snprintf(hosted, sizeof hosted, "%s", u);
    json_decref(j);
    sbt_free(&r);
}

static json_t *create(const shop *s, const char *cat, const char *name, const char *sku,
                      const char *extra_attrs, const char *image, sbt_resp *r)
{
    char payload[2048];
    snprintf(
        payload, sizeof payload,
        "{\"Request\":{\"Product\":{\"PrimaryCategory\":\"%s\",\"Images\":{\"Image\":[\"%s\"]},"
        "\"Attributes\":{\"name\":\"%s\",\"description\":\"Đặc sản Thanh Hóa\"%s},"
        "\"Skus\":{\"Sku\":[{\"SellerSku\":\"%s\",\"price\":\"85000\",\"quantity\":20,"
        "\"package_weight\":\"0.5\",\"package_length\":\"20\",\"package_width\":\"10\","
        "\"package_height\":\"5\"}]}}}}",
        cat, image, name, extra_attrs, sku);
    cx_param p = {"payload", payload};
    return call("POST", "/product/create", s->access, &p, 1, 0, SIGN_OK, r);
}

static void test_create_validation(void **state)
{
    (void)state;
    shop s;
    authorise("hh3", &s);
    migrate(&s);
    sbt_resp r;
    json_t *j =
        create(&s, "999", "Nem chua Thanh Hóa", "CS-1", ",\"brand\":\"No Brand\"", hosted, &r);
    assert_error(j, &r, "E201");
    assert_string_equal(sbt_str(json_array_get(json_object_get(j, "detail"), 0), "field"),
                        "PrimaryCategory");
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "10003451", "Nem chua Thanh Hóa", "CS-1", "", hosted, &r);
    assert_error(j, &r, "E001");
    assert_string_equal(sbt_str(json_array_get(json_object_get(j, "detail"), 0), "field"), "brand");
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "10003451", "Nem chua Thanh Hóa", "", ",\"brand\":\"No Brand\"", hosted, &r);
    assert_error(j, &r, "E001");
    assert_string_equal(sbt_str(json_array_get(json_object_get(j, "detail"), 0), "field"),
                        "SellerSku");
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "10003451", "Nem chua Thanh Hóa", "CS-1", ",\"brand\":\"No Brand\"",
               "https://elsewhere.example/a.jpg", &r);
    assert_error(j, &r, "E005");
    json_decref(j);
    sbt_free(&r);
    cx_param bad = {"payload", "<Request><Product/></Request>"};
    j = call("POST", "/product/create", s.access, &bad, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "E005");
    json_decref(j);
    sbt_free(&r);
    json_t *st = sbx_stats(sb);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "lazada"), "items_total")), 0);
    json_decref(st);
}

static const char *status_of(const shop *s, const char *sku, char *reason, size_t n)
{
    static char st[32];
    sbt_resp r;
    cx_param p = {"seller_sku", sku};
    json_t *j = call("GET", "/product/item/get", s->access, &p, 1, 0, SIGN_OK, &r);
    json_t *d = json_object_get(j, "data");
    snprintf(st, sizeof st, "%s", d ? sbt_str(d, "status") : sbt_str(j, "code"));
    if (reason) snprintf(reason, n, "%s", d ? sbt_str(d, "reject_reason") : "");
    json_decref(j);
    sbt_free(&r);
    return st;
}

static void test_create_lookup_qc_push(void **state)
{
    (void)state;
    unsigned port = 0;
    struct MHD_Daemon *d = sbt_push_start(&port);
    assert_non_null(d);
    char cfg[200];
    snprintf(cfg, sizeof cfg, "{\"lazada_push_url\":\"http://127.0.0.1:%u/v1/webhooks/lazada\"}",
             port);
    json_decref(sbt_admin(auth_host, "config", cfg));
    shop s;
    authorise("hh4", &s);
    migrate(&s);
    sbt_resp r;
    json_t *j = create(&s, "10003451", "Nem chua Thanh Hóa", "CS-10", ",\"brand\":\"No Brand\"",
                       hosted, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_t *data = json_object_get(j, "data");
    long long item = json_integer_value(json_object_get(data, "item_id"));
    assert_true(item > 0);
    assert_string_equal(sbt_str(json_array_get(json_object_get(data, "sku_list"), 0), "seller_sku"),
                        "CS-10");
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "10003470", "Bánh gai hàng nhái", "CS-11", "", hosted, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_decref(j);
    sbt_free(&r);
    assert_string_equal(status_of(&s, "CS-10", NULL, 0), "Pending QC");
    json_decref(sbt_admin(auth_host, "review", "{\"marketplace\":\"lazada\"}"));
    assert_string_equal(status_of(&s, "CS-10", NULL, 0), "Active");
    char reason[256];
    assert_string_equal(status_of(&s, "CS-11", reason, sizeof reason), "Rejected");
    assert_non_null(strstr(reason, "hàng nhái"));
    /* products/get with sku_seller_list finds exactly the listed SKUs */
    cx_param p[2] = {{"filter", "live"}, {"sku_seller_list", "[\"CS-10\",\"CS-11\"]"}};
    j = call("GET", "/products/get", s.access, p, 2, 0, SIGN_OK, &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "data"), "total_products")), 1);
    json_decref(j);
    sbt_free(&r);
    /* QC pushes: signed with HMAC(app_secret, app_key + body) */
    char body[4096], auth[128];
    assert_int_equal(sbt_push_wait("\"REJECTED\"", body, sizeof body, auth, sizeof auth), 0);
    assert_int_equal(cx_lazada_push_verify(SECRET, APP_KEY, body, strlen(body), auth), 1);
    char want[65];
    tm_lazada_push_auth(APP_KEY, SECRET, body, want);
    assert_string_equal(auth, want);
    assert_int_equal(cx_lazada_push_verify(SECRET, "other", body, strlen(body), auth), 0);
    json_error_t je;
    j = json_loads(body, 0, &je);
    assert_int_equal(json_integer_value(json_object_get(j, "message_type")), 1);
    assert_string_equal(sbt_str(j, "seller_id"), s.seller);
    assert_string_equal(sbt_str(j, "site"), "lazada_vn");
    json_decref(j);
    assert_int_equal(sbt_push_wait("\"APPROVED\"", body, sizeof body, auth, sizeof auth), 0);
    j = json_loads(body, 0, &je);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "data"), "itemId")),
                     item);
    json_decref(j);
    MHD_stop_daemon(d);
}

static void test_api_call_limit(void **state)
{
    (void)state;
    shop s;
    authorise("hh5", &s);
    json_decref(sbt_admin(auth_host, "config", "{\"rate\":0.0003}"));
    sbt_resp r;
    cx_param p = {"seller_sku", "CS-1"};
    json_t *j = call("GET", "/product/item/get", s.access, &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "208");
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/product/item/get", s.access, &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "ApiCallLimit");
    json_decref(j);
    sbt_free(&r);
}

/* ---- issue 16: what real clients call — categories, brands, price/stock, images, removal,
 * and products/get's filters, search and descriptions ---- */
static json_t *data_of(json_t *j)
{
    return json_object_get(j, "data");
}

static void test_catalog_without_token(void **state)
{
    (void)state;
    sbt_resp r;
    /* The tree and attributes are public calls: no access_token, as the Lazada SDK sends them. */
    json_t *j = call("GET", "/category/tree/get", NULL, NULL, 0, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_t *tree = data_of(j);
    assert_true(json_array_size(tree) >= 2);
    int found = 0;
    size_t i;
    json_t *c;
    json_array_foreach(tree, i, c)
    {
        assert_non_null(sbt_str(c, "name"));
        if (json_integer_value(json_object_get(c, "category_id")) == 10003451) {
            found = 1;
            assert_true(json_is_true(json_object_get(c, "leaf")));
        }
    }
    assert_true(found);
    json_decref(j);
    sbt_free(&r);
    cx_param p = {"primary_category_id", "10003451"};
    j = call("GET", "/category/attributes/get", NULL, &p, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_t *brand = NULL, *name = NULL;
    json_array_foreach(data_of(j), i, c)
    {
        if (!strcmp(sbt_str(c, "name"), "brand")) brand = c;
        if (!strcmp(sbt_str(c, "name"), "name")) name = c;
    }
    assert_non_null(brand);
    assert_non_null(name);
    assert_int_equal(json_integer_value(json_object_get(brand, "is_mandatory")), 1);
    assert_string_equal(sbt_str(brand, "label"), "Thương hiệu");
    assert_string_equal(sbt_str(brand, "input_type"), "singleSelect");
    assert_string_equal(sbt_str(json_array_get(json_object_get(brand, "options"), 0), "name"),
                        "No Brand");
    json_decref(j);
    sbt_free(&r);
    p.value = "999";
    j = call("GET", "/category/attributes/get", NULL, &p, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "E201");
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/category/attributes/get", NULL, NULL, 0, 0, SIGN_OK, &r);
    assert_error(j, &r, "E001");
    json_decref(j);
    sbt_free(&r);
    /* Brands: the current paged query and the older /brands/get. */
    cx_param bq[2] = {{"startRow", "0"}, {"pageSize", "2"}};
    j = call("GET", "/category/brands/query", NULL, bq, 2, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    assert_int_equal(json_array_size(json_object_get(data_of(j), "module")), 2);
    assert_true(json_integer_value(json_object_get(data_of(j), "total_record")) > 2);
    json_decref(j);
    sbt_free(&r);
    cx_param bg[2] = {{"offset", "0"}, {"limit", "3"}};
    j = call("GET", "/brands/get", NULL, bg, 2, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    assert_int_equal(json_array_size(data_of(j)), 3);
    assert_string_equal(sbt_str(json_array_get(data_of(j), 0), "name"), "No Brand");
    json_decref(j);
    sbt_free(&r);
    /* A path Lazada does not have still answers InvalidApiPath. */
    j = call("GET", "/category/nothing", NULL, NULL, 0, 0, SIGN_OK, &r);
    assert_error(j, &r, "InvalidApiPath");
    json_decref(j);
    sbt_free(&r);
}

static long long total_of(const shop *s, const cx_param *p, size_t n, json_t **first)
{
    sbt_resp r;
    json_t *j = call("GET", "/products/get", s->access, p, n, 0, SIGN_OK, &r);
    if (!data_of(j)) fprintf(stderr, "products/get: %.*s\n", (int)r.body.len, r.body.data);
    long long t = json_integer_value(json_object_get(data_of(j), "total_products"));
    if (first) *first = json_incref(json_array_get(json_object_get(data_of(j), "products"), 0));
    json_decref(j);
    sbt_free(&r);
    return t;
}

static void test_live_changes_and_lists(void **state)
{
    (void)state;
    shop s;
    authorise("hh16", &s);
    migrate(&s);
    sbt_resp r;
    json_t *j = create(&s, "10003451", "Nem chua Thanh Hóa", "CS-70", ",\"brand\":\"No Brand\"",
                       hosted, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "10003470", "Bánh gai Tứ Trụ", "CS-71", "", hosted, &r);
    json_decref(j);
    sbt_free(&r);
    json_decref(sbt_admin(auth_host, "review", "{\"marketplace\":\"lazada\"}"));
    /* search matches the name (or SKU), case-insensitively; the description comes back */
    cx_param q[2] = {{"filter", "live"}, {"search", "NEM CHUA"}};
    json_t *first = NULL;
    assert_int_equal(total_of(&s, q, 2, &first), 1);
    assert_string_equal(sbt_str(json_object_get(first, "attributes"), "description"),
                        "Đặc sản Thanh Hóa");
    json_decref(first);
    q[1] = (cx_param){"search", "CS-71"};
    assert_int_equal(total_of(&s, q, 2, NULL), 1);
    q[0] = (cx_param){"filter", "pending"};
    assert_int_equal(total_of(&s, q, 1, NULL), 0);
    q[0] = (cx_param){"filter", "bogus"};
    j = call("GET", "/products/get", s.access, q, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "E005");
    json_decref(j);
    sbt_free(&r);
    /* update_after with a local offset: everything was updated after 2020 */
    q[0] = (cx_param){"filter", "all"};
    q[1] = (cx_param){"update_after", "2020-01-01T07:00:00+07:00"};
    assert_int_equal(total_of(&s, q, 2, NULL), 2);
    q[1] = (cx_param){"update_after", "2999-01-01T00:00:00+0700"};
    assert_int_equal(total_of(&s, q, 2, NULL), 0);
    /* price and stock of a live item: no new review */
    cx_param pq = {"payload", "{\"Request\":{\"Product\":{\"Skus\":{\"Sku\":[{\"SellerSku\":"
                              "\"CS-70\",\"Price\":\"90000\",\"Quantity\":\"5\"}]}}}}"};
    j = call("POST", "/product/price_quantity/update", s.access, &pq, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_decref(j);
    sbt_free(&r);
    cx_param g = {"seller_sku", "CS-70"};
    j = call("GET", "/product/item/get", s.access, &g, 1, 0, SIGN_OK, &r);
    json_t *sku = json_array_get(json_object_get(data_of(j), "skus"), 0);
    assert_true(json_number_value(json_object_get(sku, "price")) == 90000.0);
    assert_int_equal(json_integer_value(json_object_get(sku, "quantity")), 5);
    assert_string_equal(sbt_str(data_of(j), "status"), "Active");
    json_decref(j);
    sbt_free(&r);
    /* an unknown SKU and a bad price are reported per SKU */
    pq.value = "{\"Request\":{\"Product\":{\"Skus\":{\"Sku\":[{\"SellerSku\":\"CS-404\","
               "\"Price\":\"1\"},{\"SellerSku\":\"CS-70\",\"Price\":\"-3\"}]}}}}";
    j = call("POST", "/product/price_quantity/update", s.access, &pq, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "501");
    assert_int_equal(json_array_size(json_object_get(j, "detail")), 2);
    json_decref(j);
    sbt_free(&r);
    /* images/set needs Lazada-hosted URLs */
    char payload[600];
    snprintf(payload, sizeof payload,
             "{\"Request\":{\"Product\":{\"Skus\":{\"Sku\":[{\"SellerSku\":\"CS-70\","
             "\"Images\":{\"Image\":[\"%s\"]}}]}}}}",
             hosted);
    cx_param im = {"payload", payload};
    j = call("POST", "/images/set", s.access, &im, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_decref(j);
    sbt_free(&r);
    im.value = "{\"Request\":{\"Product\":{\"Skus\":{\"Sku\":[{\"SellerSku\":\"CS-70\","
               "\"Images\":{\"Image\":[\"https://elsewhere.example/a.jpg\"]}}]}}}}";
    j = call("POST", "/images/set", s.access, &im, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "501");
    json_decref(j);
    sbt_free(&r);
    /* deactivation keeps the item, off sale */
    j = call("GET", "/product/item/get", s.access, &g, 1, 0, SIGN_OK, &r);
    char dp[128];
    snprintf(dp, sizeof dp, "{\"Request\":{\"Product\":{\"ItemId\":\"%lld\"}}}",
             (long long)json_integer_value(json_object_get(data_of(j), "item_id")));
    json_decref(j);
    sbt_free(&r);
    cx_param de = {"payload", dp};
    j = call("POST", "/product/deactivate", s.access, &de, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_decref(j);
    sbt_free(&r);
    q[0] = (cx_param){"filter", "inactive"};
    assert_int_equal(total_of(&s, q, 1, NULL), 1);
    q[0] = (cx_param){"filter", "live"};
    assert_int_equal(total_of(&s, q, 1, NULL), 1);
    /* removal: gone from "all", listed under "deleted", a second removal finds nothing */
    cx_param rm = {"seller_sku_list", "[\"CS-70\",\"CS-71\"]"};
    j = call("POST", "/product/remove", s.access, &rm, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(j, "code"), "0");
    json_decref(j);
    sbt_free(&r);
    q[0] = (cx_param){"filter", "all"};
    assert_int_equal(total_of(&s, q, 1, NULL), 0);
    q[0] = (cx_param){"filter", "deleted"};
    assert_int_equal(total_of(&s, q, 1, NULL), 2);
    j = call("POST", "/product/remove", s.access, &rm, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "501");
    json_decref(j);
    sbt_free(&r);
    rm.value = "not json";
    j = call("POST", "/product/remove", s.access, &rm, 1, 0, SIGN_OK, &r);
    assert_error(j, &r, "E005");
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/product/item/get", s.access, &g, 1, 0, SIGN_OK, &r);
    assert_string_equal(sbt_str(data_of(j), "status"), "Deleted");
    json_decref(j);
    sbt_free(&r);
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sbx_options o;
    sbt_options(&o);
    sb = sbt_start(&o);
    if (!sb) return -1;
    sbx_url(sb, SBX_LAZADA, gw, sizeof gw);
    snprintf(auth_host, sizeof auth_host, "http://127.0.0.1:%u", sbx_port(sb, SBX_LAZADA));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sbx_stop(sb);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_signature_and_timestamp, reset),
        cmocka_unit_test_setup(test_code_and_refresh_single_use, reset),
        cmocka_unit_test_setup(test_create_validation, reset),
        cmocka_unit_test_setup(test_create_lookup_qc_push, reset),
        cmocka_unit_test_setup(test_api_call_limit, reset),
        cmocka_unit_test_setup(test_catalog_without_token, reset),
        cmocka_unit_test_setup(test_live_changes_and_lists, reset),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
