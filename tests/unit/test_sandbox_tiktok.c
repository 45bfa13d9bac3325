/* tests/unit/test_sandbox_tiktok: the TikTok Shop simulator in-process on a random loopback port,
 * driven over HTTP with signatures made by connectors/sign (no database). */
#include "tests/unit/sandbox_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define APP_KEY TM_TIKTOK_APP_KEY
#define SECRET TM_TIKTOK_APP_SECRET

static sbx_sandbox *sb;
static char base[64];

typedef struct shop {
    char access[80], refresh[80], code[80], cipher[64];
} shop;

/* A signed 202309 call. q: extra query params (shop_cipher, page_size…); body may be NULL. */
static json_t *call(const char *method, const char *path, const char *token, const cx_param *q,
                    size_t nq, const char *body, long long ts_off, int bad, sbt_resp *r)
{
    char ts[32], sign[65], enc[512];
    snprintf(ts, sizeof ts, "%lld", sbt_now() + ts_off);
    cx_param all[12];
    size_t n = 0;
    all[n++] = (cx_param){"app_key", APP_KEY};
    all[n++] = (cx_param){"timestamp", ts};
    for (size_t i = 0; i < nq; i++)
        all[n++] = q[i];
    assert_int_equal(cx_tiktok_sign(SECRET, path, all, n, body, body ? strlen(body) : 0, sign), 0);
    if (bad) sign[0] = sign[0] == 'a' ? 'b' : 'a';
    cs_buf u;
    cs_buf_init(&u, 1 << 16);
    cs_buf_printf(&u, "%s%s?", base, path);
    for (size_t i = 0; i < n; i++) {
        sbt_escape(all[i].value, enc, sizeof enc);
        cs_buf_printf(&u, "%s=%s&", all[i].key, enc);
    }
    cs_buf_printf(&u, "sign=%s", sign);
    char hdr[128];
    snprintf(hdr, sizeof hdr, "x-tts-access-token: %s", token ? token : "");
    const char *headers[] = {hdr, NULL};
    json_t *j = sbt_req(method, u.data, body ? "application/json" : NULL, body,
                        body ? strlen(body) : 0, token ? headers : NULL, NULL, 0, r);
    cs_buf_free(&u);
    return j;
}

static long long code_of(json_t *j)
{
    return json_integer_value(json_object_get(j, "code"));
}

static void authorise(const char *state, shop *s)
{
    char url[1024], enc[256];
    sbt_escape("http://127.0.0.1:9/v1/oauth/tiktok/callback", enc, sizeof enc);
    snprintf(url, sizeof url, "%s/oauth/authorize?app_key=%s&state=%s&redirect_uri=%s", base,
             APP_KEY, state, enc);
    sbt_resp r;
    sbt_get(url, &r);
    assert_int_equal(r.status, 302);
    assert_int_equal(sbt_url_param(r.location, "code", s->code, sizeof s->code), 0);
    sbt_free(&r);
    snprintf(url, sizeof url,
             "%s/api/v2/token/get?app_key=%s&app_secret=%s&auth_code=%s&grant_type=authorized_code",
             base, APP_KEY, SECRET, s->code);
    json_t *j = sbt_get(url, &r);
    assert_int_equal(code_of(j), 0);
    json_t *d = json_object_get(j, "data");
    snprintf(s->access, sizeof s->access, "%s", sbt_str(d, "access_token"));
    snprintf(s->refresh, sizeof s->refresh, "%s", sbt_str(d, "refresh_token"));
    assert_true(json_integer_value(json_object_get(d, "access_token_expire_in")) >
                sbt_now() + 6 * 86400);
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/authorization/202309/shops", s->access, NULL, 0, NULL, 0, 0, &r);
    assert_int_equal(code_of(j), 0);
    snprintf(
        s->cipher, sizeof s->cipher, "%s",
        sbt_str(json_array_get(json_object_get(json_object_get(j, "data"), "shops"), 0), "cipher"));
    assert_int_equal(strncmp(s->cipher, "GCP_", 4), 0);
    json_decref(j);
    sbt_free(&r);
}

static int reset(void **state)
{
    (void)state;
    json_decref(sbt_admin(base, "reset", "{}"));
    json_decref(sbt_admin(base, "config", "{\"rate\":0}"));
    return 0;
}

static void test_tokens_single_use(void **state)
{
    (void)state;
    shop s;
    authorise("t1", &s);
    char url[1024];
    sbt_resp r;
    snprintf(url, sizeof url,
             "%s/api/v2/token/get?app_key=%s&app_secret=%s&auth_code=%s&grant_type=authorized_code",
             base, APP_KEY, SECRET, s.code);
    json_t *j = sbt_get(url, &r);
    assert_int_equal(code_of(j), 36009004);
    json_decref(j);
    sbt_free(&r);
    snprintf(url, sizeof url,
             "%s/api/v2/token/refresh?app_key=%s&app_secret=%s&refresh_token=%s&grant_type="
             "refresh_token",
             base, APP_KEY, SECRET, s.refresh);
    j = sbt_get(url, &r);
    assert_int_equal(code_of(j), 0);
    assert_string_not_equal(sbt_str(json_object_get(j, "data"), "refresh_token"), s.refresh);
    json_decref(j);
    sbt_free(&r);
    j = sbt_get(url, &r);
    assert_int_equal(code_of(j), 36009004);
    json_decref(j);
    sbt_free(&r);
}

static void test_gateway_errors(void **state)
{
    (void)state;
    shop s;
    authorise("t2", &s);
    sbt_resp r;
    json_t *j = call("GET", "/authorization/202309/shops", s.access, NULL, 0, NULL, 0, 1, &r);
    assert_int_equal(r.status, 401);
    assert_int_equal(code_of(j), 106001);
    assert_non_null(sbt_str(j, "request_id"));
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/authorization/202309/shops", s.access, NULL, 0, NULL, -600, 0, &r);
    assert_int_equal(code_of(j), 36009004);
    json_decref(j);
    sbt_free(&r);
    /* a product call without the shop cipher */
    j = call("POST", "/product/202309/products/search", s.access, (cx_param[]){{"page_size", "10"}},
             1, "{}", 0, 0, &r);
    assert_int_equal(code_of(j), 36009004);
    json_decref(j);
    sbt_free(&r);
    /* the JSON body is signed: sending another body than the signed one fails */
    char ts[32], sign[65], url[1024], hdr[128];
    snprintf(ts, sizeof ts, "%lld", sbt_now());
    cx_param p[4] = {
        {"app_key", APP_KEY}, {"timestamp", ts}, {"page_size", "10"}, {"shop_cipher", s.cipher}};
    cx_tiktok_sign(SECRET, "/product/202309/products/search", p, 4, "{}", 2, sign);
    snprintf(url, sizeof url,
             "%s/product/202309/products/search?app_key=%s&timestamp=%s&page_size=10&"
             "shop_cipher=%s&sign=%s",
             base, APP_KEY, ts, s.cipher, sign);
    snprintf(hdr, sizeof hdr, "x-tts-access-token: %s", s.access);
    const char *headers[] = {hdr, NULL};
    j = sbt_req("POST", url, "application/json", "{}", 2, headers, NULL, 0, &r);
    assert_int_equal(code_of(j), 0);
    json_decref(j);
    sbt_free(&r);
    j = sbt_req("POST", url, "application/json", "{ }", 3, headers, NULL, 0, &r);
    assert_int_equal(code_of(j), 106001);
    json_decref(j);
    sbt_free(&r);
    json_decref(sbt_admin(base, "expire-tokens", "{\"marketplace\":\"tiktok\"}"));
    j = call("GET", "/authorization/202309/shops", s.access, NULL, 0, NULL, 0, 0, &r);
    assert_int_equal(r.status, 401);
    assert_int_equal(code_of(j), 105002);
    json_decref(j);
    sbt_free(&r);
}

static char uri[96];

static void upload(const shop *s)
{
    char ts[32], sign[65], url[1024];
    snprintf(ts, sizeof ts, "%lld", sbt_now());
    cx_param p[2] = {{"app_key", APP_KEY}, {"timestamp", ts}};
    cx_tiktok_sign(SECRET, "/product/202309/images/upload", p, 2, NULL, 0, sign);
    snprintf(url, sizeof url, "%s/product/202309/images/upload?app_key=%s&timestamp=%s&sign=%s",
             base, APP_KEY, ts, sign);
    unsigned char png[TM_PNG_LEN];
    size_t n = tm_png(png);
    CURL *c = curl_easy_init();
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, "data");
    curl_mime_filename(part, "a.png");
    curl_mime_data(part, (const char *)png, n);
    part = curl_mime_addpart(m);
    curl_mime_name(part, "use_case");
    curl_mime_data(part, "MAIN_IMAGE", CURL_ZERO_TERMINATED);
    char hdr[128];
    snprintf(hdr, sizeof hdr, "x-tts-access-token: %s", s->access);
    const char *headers[] = {hdr, NULL};
    sbt_resp r;
    json_t *j = sbt_req("POST", url, NULL, NULL, 0, headers, m, 0, &r);
    assert_int_equal(code_of(j), 0);
    json_t *d = json_object_get(j, "data");
    snprintf(uri, sizeof uri, "%s", sbt_str(d, "uri"));
    assert_int_equal(json_integer_value(json_object_get(d, "width")), 64);
    json_decref(j);
    sbt_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
}

static json_t *create(const shop *s, const char *cat, const char *title, const char *sku,
                      const char *attrs, const char *image, sbt_resp *r)
{
    char body[2048];
    snprintf(
        body, sizeof body,
        "{\"title\":\"%s\",\"description\":\"<p>Đặc sản Thanh Hóa</p>\",\"category_id\":\"%s\","
        "\"main_images\":[{\"uri\":\"%s\"}],\"skus\":[{\"seller_sku\":\"%s\",\"price\":"
        "{\"amount\":\"85000\",\"currency\":\"VND\"},\"inventory\":[{\"quantity\":20}]}],"
        "\"package_weight\":{\"value\":\"0.5\",\"unit\":\"KILOGRAM\"},"
        "\"product_attributes\":%s}",
        title, cat, image, sku, attrs);
    return call("POST", "/product/202309/products", s->access,
                (cx_param[]){{"shop_cipher", s->cipher}}, 1, body, 0, 0, r);
}

#define ORIGIN TM_TIKTOK_ORIGIN_ATTRS

static const char *status_of(const shop *s, const char *id)
{
    static char st[32];
    char path[128];
    snprintf(path, sizeof path, "/product/202309/products/%s", id);
    sbt_resp r;
    json_t *j =
        call("GET", path, s->access, (cx_param[]){{"shop_cipher", s->cipher}}, 1, NULL, 0, 0, &r);
    snprintf(st, sizeof st, "%s",
             code_of(j) ? "(error)" : sbt_str(json_object_get(j, "data"), "status"));
    json_decref(j);
    sbt_free(&r);
    return st;
}

static void test_create_search_review(void **state)
{
    (void)state;
    shop s;
    authorise("t3", &s);
    upload(&s);
    sbt_resp r;
    json_t *j = create(&s, "123", "Nem chua Thanh Hóa", "CS-5", ORIGIN, uri, &r);
    assert_int_equal(code_of(j), 12052023);
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "700645", "Nem chua Thanh Hóa", "CS-5", "[]", uri, &r);
    assert_int_equal(code_of(j), 12052104);
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "700645", "Nem chua Thanh Hóa", "CS-5", ORIGIN, "tos-unknown", &r);
    assert_int_equal(code_of(j), 12052300);
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "700645", "Nem chua Thanh Hóa", "CS-5", ORIGIN, uri, &r);
    assert_int_equal(code_of(j), 0);
    char good[32], bad[32];
    snprintf(good, sizeof good, "%s", sbt_str(json_object_get(j, "data"), "product_id"));
    json_decref(j);
    sbt_free(&r);
    j = create(&s, "700662", "Bánh gai replica", "CS-6", "[]", uri, &r);
    snprintf(bad, sizeof bad, "%s", sbt_str(json_object_get(j, "data"), "product_id"));
    json_decref(j);
    sbt_free(&r);
    /* search by seller SKU */
    j = call("POST", "/product/202309/products/search", s.access,
             (cx_param[]){{"page_size", "10"}, {"shop_cipher", s.cipher}}, 2,
             "{\"seller_skus\":[\"CS-5\"]}", 0, 0, &r);
    json_t *prods = json_object_get(json_object_get(j, "data"), "products");
    assert_int_equal(json_array_size(prods), 1);
    assert_string_equal(sbt_str(json_array_get(prods, 0), "id"), good);
    json_decref(j);
    sbt_free(&r);
    assert_string_equal(status_of(&s, good), "PENDING");
    json_decref(sbt_admin(base, "review", "{\"marketplace\":\"tiktok\"}"));
    assert_string_equal(status_of(&s, good), "ACTIVATE");
    assert_string_equal(status_of(&s, bad), "FAILED");
    assert_string_equal(status_of(&s, "1729000000000999999"), "(error)");
}

static void test_rate_limit_429(void **state)
{
    (void)state;
    shop s;
    authorise("t4", &s);
    json_decref(sbt_admin(base, "config", "{\"rate\":0.0003}"));
    sbt_resp r;
    json_t *j = call("GET", "/authorization/202309/shops", s.access, NULL, 0, NULL, 0, 0, &r);
    assert_int_equal(code_of(j), 0);
    json_decref(j);
    sbt_free(&r);
    j = call("GET", "/authorization/202309/shops", s.access, NULL, 0, NULL, 0, 0, &r);
    assert_int_equal(r.status, 429);
    assert_int_equal(code_of(j), 36009002);
    json_decref(j);
    sbt_free(&r);
}

/* ---- issue 16: categories, attributes, prices, inventory, deactivate, delete ---- */
static json_t *shop_call(const shop *s, const char *method, const char *path, const char *body,
                         sbt_resp *r)
{
    return call(method, path, s->access, (cx_param[]){{"shop_cipher", s->cipher}}, 1, body, 0, 0,
                r);
}

static void test_categories_and_attributes(void **state)
{
    (void)state;
    shop s;
    authorise("t16", &s);
    sbt_resp r;
    json_t *j = shop_call(&s, "GET", "/product/202309/categories", NULL, &r);
    assert_int_equal(code_of(j), 0);
    json_t *cats = json_object_get(json_object_get(j, "data"), "categories");
    int leaf = 0;
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        assert_non_null(sbt_str(c, "local_name"));
        assert_non_null(sbt_str(c, "parent_id"));
        if (!strcmp(sbt_str(c, "id"), "700645")) leaf = json_is_true(json_object_get(c, "is_leaf"));
    }
    assert_true(leaf);
    json_decref(j);
    sbt_free(&r);
    j = shop_call(&s, "GET", "/product/202309/categories/700645/attributes", NULL, &r);
    assert_int_equal(code_of(j), 0);
    json_t *origin = json_array_get(json_object_get(json_object_get(j, "data"), "attributes"), 0);
    assert_string_equal(sbt_str(origin, "id"), "100107");
    assert_string_equal(sbt_str(origin, "name"), "Xuất xứ");
    assert_true(json_is_true(json_object_get(origin, "is_requried")));
    assert_string_equal(sbt_str(json_array_get(json_object_get(origin, "values"), 0), "name"),
                        "Việt Nam");
    json_decref(j);
    sbt_free(&r);
    j = shop_call(&s, "GET", "/product/202309/categories/1/attributes", NULL, &r);
    assert_int_equal(r.status, 400);
    assert_int_equal(code_of(j), 12052004);
    json_decref(j);
    sbt_free(&r);
}

static void test_price_inventory_deactivate_delete(void **state)
{
    (void)state;
    shop s;
    authorise("t17", &s);
    upload(&s);
    sbt_resp r;
    json_t *j = create(&s, "700645", "Nem chua Thanh Hóa", "CS-95", ORIGIN, uri, &r);
    char pid[32], path[160], body[256];
    snprintf(pid, sizeof pid, "%s", sbt_str(json_object_get(j, "data"), "product_id"));
    json_decref(j);
    sbt_free(&r);
    json_decref(sbt_admin(base, "review", "{\"marketplace\":\"tiktok\"}"));
    snprintf(path, sizeof path, "/product/202309/products/%s", pid);
    j = shop_call(&s, "GET", path, NULL, &r);
    json_t *d = json_object_get(j, "data");
    char skuid[32];
    snprintf(skuid, sizeof skuid, "%s",
             sbt_str(json_array_get(json_object_get(d, "skus"), 0), "id"));
    assert_string_equal(sbt_str(d, "description"), "<p>Đặc sản Thanh Hóa</p>");
    json_decref(j);
    sbt_free(&r);
    snprintf(path, sizeof path, "/product/202309/products/%s/prices/update", pid);
    snprintf(body, sizeof body,
             "{\"skus\":[{\"id\":\"%s\",\"price\":{\"amount\":\"92000\",\"currency\":\"VND\"}}]}",
             skuid);
    j = shop_call(&s, "POST", path, body, &r);
    assert_int_equal(code_of(j), 0);
    json_decref(j);
    sbt_free(&r);
    j = shop_call(&s, "POST", path, "{\"skus\":[{\"id\":\"1\",\"price\":{\"amount\":\"5\"}}]}", &r);
    assert_int_equal(code_of(j), 12052217);
    json_decref(j);
    sbt_free(&r);
    snprintf(path, sizeof path, "/product/202309/products/%s/inventory/update", pid);
    snprintf(body, sizeof body, "{\"skus\":[{\"id\":\"%s\",\"inventory\":[{\"quantity\":3}]}]}",
             skuid);
    j = shop_call(&s, "POST", path, body, &r);
    assert_int_equal(code_of(j), 0);
    json_decref(j);
    sbt_free(&r);
    snprintf(path, sizeof path, "/product/202309/products/%s", pid);
    j = shop_call(&s, "GET", path, NULL, &r);
    json_t *sku = json_array_get(json_object_get(json_object_get(j, "data"), "skus"), 0);
    assert_string_equal(sbt_str(json_object_get(sku, "price"), "amount"), "92000");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(sku, "inventory"), 0), "quantity")),
                     3);
    json_decref(j);
    sbt_free(&r);
    snprintf(body, sizeof body, "{\"product_ids\":[\"%s\",\"17\"]}", pid);
    j = shop_call(&s, "POST", "/product/202309/products/deactivate", body, &r);
    assert_int_equal(code_of(j), 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "data"), "errors")), 1);
    json_decref(j);
    sbt_free(&r);
    assert_string_equal(status_of(&s, pid), "SELLER_DEACTIVATED");
    j = shop_call(&s, "DELETE", "/product/202309/products", body, &r);
    assert_int_equal(code_of(j), 0);
    json_decref(j);
    sbt_free(&r);
    assert_string_equal(status_of(&s, pid), "(error)");
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sbx_options o;
    sbt_options(&o);
    sb = sbt_start(&o);
    if (!sb) return -1;
    sbx_url(sb, SBX_TIKTOK, base, sizeof base);
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
        cmocka_unit_test_setup(test_tokens_single_use, reset),
        cmocka_unit_test_setup(test_gateway_errors, reset),
        cmocka_unit_test_setup(test_create_search_review, reset),
        cmocka_unit_test_setup(test_rate_limit_429, reset),
        cmocka_unit_test_setup(test_categories_and_attributes, reset),
        cmocka_unit_test_setup(test_price_inventory_deactivate_delete, reset),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
