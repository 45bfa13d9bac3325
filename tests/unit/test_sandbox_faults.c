/* tests/unit/test_sandbox_faults: faults on demand, counters, reset, the item cap and the
 * assisted marketplaces' public pages, against simulators started in-process (no database). */
#include "tests/unit/sandbox_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static sbx_sandbox *sb;
static char shopee[64], lazada[64], tiktok[64], assisted[64];

static int reset(void **state)
{
    (void)state;
    json_decref(sbt_admin(shopee, "reset", "{}"));
    json_decref(sbt_admin(shopee, "config", "{\"max_items\":20000}"));
    return 0;
}

static void faults(const char *base, const char *json)
{
    json_t *j = sbt_admin(base, "faults", json);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
}

static void test_5xx_and_throttle_shapes(void **state)
{
    (void)state;
    char url[256];
    sbt_resp r;
    faults(shopee, "{\"next\":[\"5xx\",\"429\"]}");
    snprintf(url, sizeof url, "%s/api/v2/shop/get_shop_info", shopee);
    json_t *j = sbt_get(url, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(sbt_str(j, "error"), "error_server");
    json_decref(j);
    sbt_free(&r);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(sbt_str(j, "error"), "error_system_busy");
    json_decref(j);
    sbt_free(&r);
    /* the queue is spent: the next call reaches the handler (which wants a signature) */
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(sbt_str(j, "error"), "error_param");
    json_decref(j);
    sbt_free(&r);

    faults(shopee, "{\"marketplace\":\"lazada\",\"next\":[\"5xx\",\"429\"]}");
    snprintf(url, sizeof url, "%s/product/item/get", lazada);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(sbt_str(j, "type"), "SYSTEM");
    assert_string_equal(sbt_str(j, "code"), "ServiceUnavailable");
    json_decref(j);
    sbt_free(&r);
    j = sbt_get(url, &r);
    assert_string_equal(sbt_str(j, "code"), "ApiCallLimit");
    json_decref(j);
    sbt_free(&r);

    faults(tiktok, "{\"next\":[\"5xx\",\"429\"]}");
    snprintf(url, sizeof url, "%s/product/202309/products/1", tiktok);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 500);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 36009003);
    json_decref(j);
    sbt_free(&r);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 429);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 36009002);
    json_decref(j);
    sbt_free(&r);

    faults(assisted, "{\"next\":[\"5xx\"]}");
    snprintf(url, sizeof url, "%s/voso/shop/1", assisted);
    sbt_get(url, &r);
    assert_int_equal(r.status, 503);
    sbt_free(&r);

    json_t *st = sbx_stats(sb);
    json_t *inj = json_object_get(json_object_get(st, "tiktok"), "faults_injected");
    assert_int_equal(json_integer_value(json_object_get(inj, "5xx")), 1);
    assert_int_equal(json_integer_value(json_object_get(inj, "429")), 1);
    json_t *reqs = json_object_get(json_object_get(st, "tiktok"), "requests");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(reqs, "/product/202309/products/{id}"), "500")),
                     1);
    json_decref(st);
}

static void test_drop_malformed_timeout(void **state)
{
    (void)state;
    char url[256];
    sbt_resp r;
    snprintf(url, sizeof url, "%s/api/v2/shop/get_shop_info", shopee);
    faults(shopee, "{\"next\":[\"drop\",\"malformed\",\"timeout\"],\"hang_ms\":60000}");
    json_t *j = sbt_get(url, &r);
    assert_null(j);
    assert_int_equal(r.rc, CURLE_GOT_NOTHING);
    sbt_free(&r);
    j = sbt_get(url, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_true(r.body.len > 0);
    assert_null(j); /* not JSON */
    sbt_free(&r);
    j = sbt_req("GET", url, NULL, NULL, 0, NULL, NULL, 300, &r);
    assert_null(j);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    sbt_free(&r);
    json_t *st = sbx_stats(sb);
    json_t *p = json_object_get(json_object_get(json_object_get(st, "shopee"), "requests"),
                                "/api/v2/shop/get_shop_info");
    assert_int_equal(json_integer_value(json_object_get(p, "drop")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "timeout")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "200")), 1);
    json_decref(st);
    faults(shopee, "{\"hang_ms\":30000}");
}

static void test_latency(void **state)
{
    (void)state;
    faults(assisted, "{\"latency_ms\":120}");
    char url[256];
    snprintf(url, sizeof url, "%s/postmart/shop/x", assisted);
    long long t0 = sbt_now_ms();
    sbt_resp r;
    sbt_get(url, &r);
    assert_int_equal(r.status, 404);
    assert_true(sbt_now_ms() - t0 >= 120);
    sbt_free(&r);
}

static void test_faults_endpoint_validates(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"rate_5xx\":2}",    "{\"rate_500\":0.1}",           "{\"next\":[\"boom\"]}",
        "{\"latency_ms\":-1}", "{\"marketplace\":\"amazon\"}", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char url[256];
        sbt_resp r;
        snprintf(url, sizeof url, "%s/__sandbox/faults", shopee);
        json_t *j = sbt_post_json(url, bad[i], &r);
        assert_int_equal(r.status, 400);
        assert_non_null(sbt_str(j, "error"));
        json_decref(j);
        sbt_free(&r);
    }
    faults(shopee, "{\"marketplace\":\"all\",\"rate_drop\":0.25,\"next\":[\"none\",\"5xx\"]}");
    json_t *j = sbt_admin(shopee, "faults", NULL);
    json_t *lz = json_object_get(j, "lazada");
    assert_true(json_real_value(json_object_get(lz, "rate_drop")) == 0.25);
    assert_int_equal(json_array_size(json_object_get(lz, "next")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(lz, "next"), 1)), "5xx");
    json_decref(j);
    json_decref(sbt_admin(shopee, "reset", "{}"));
    j = sbt_admin(shopee, "faults", NULL);
    assert_true(json_real_value(json_object_get(json_object_get(j, "lazada"), "rate_drop")) == 0);
    json_decref(j);
}

/* Status codes of n requests to the assisted pages under a 50 % 5xx rate. */
static void pattern(char *out, int n)
{
    char url[256];
    snprintf(url, sizeof url, "%s/postmart/shop/x", assisted);
    for (int i = 0; i < n; i++) {
        sbt_resp r;
        sbt_get(url, &r);
        out[i] = r.status == 503 ? 'F' : r.status == 404 ? '.' : '?';
        sbt_free(&r);
    }
    out[n] = '\0';
}

static void test_random_faults_replay_with_seed(void **state)
{
    (void)state;
    char a[41], b[41];
    faults(assisted, "{\"rate_5xx\":0.5}");
    pattern(a, 40);
    json_decref(sbt_admin(shopee, "reset", "{}")); /* reseeds the PRNG */
    faults(assisted, "{\"rate_5xx\":0.5}");
    pattern(b, 40);
    assert_string_equal(a, b);
    int f = 0;
    for (int i = 0; i < 40; i++) {
        assert_true(a[i] == 'F' || a[i] == '.');
        f += a[i] == 'F';
    }
    assert_true(f >= 8 && f <= 32);
}

/* ---- created but response lost: the item exists, the caller saw nothing ---- */
typedef struct shop {
    char id[32], access[80];
} shop;

static void url_of(char *out, size_t n, const char *path, const shop *s, const char *extra)
{
    tm_shopee_url(out, n, shopee, path, TM_SHOPEE_PARTNER_KEY, TM_SHOPEE_PARTNER_ID, sbt_now(),
                  s ? s->access : NULL, s ? s->id : NULL, extra);
}

static void shop_with_token(shop *s)
{
    json_t *a = sbt_admin(shopee, "authorize", "{\"marketplace\":\"shopee\"}");
    snprintf(s->id, sizeof s->id, "%s", sbt_str(a, "shop_id"));
    char body[256], url[1024];
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"shop_id\":%s,\"partner_id\":%lld}",
             sbt_str(a, "code"), s->id, TM_SHOPEE_PARTNER_ID);
    json_decref(a);
    url_of(url, sizeof url, "/api/v2/auth/token/get", NULL, NULL);
    sbt_resp r;
    json_t *j = sbt_post_json(url, body, &r);
    assert_string_equal(sbt_str(j, "error"), "");
    snprintf(s->access, sizeof s->access, "%s", sbt_str(j, "access_token"));
    json_decref(j);
    sbt_free(&r);
}

static char img[80];

static void upload(void)
{
    char url[1024];
    unsigned char png[TM_PNG_LEN];
    size_t n = tm_png(png);
    url_of(url, sizeof url, "/api/v2/media_space/upload_image", NULL, NULL);
    CURL *c = curl_easy_init();
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "image");
    curl_mime_filename(p, "a.png");
    curl_mime_data(p, (const char *)png, n);
    sbt_resp r;
    json_t *j = sbt_req("POST", url, NULL, NULL, 0, NULL, m, 0, &r);
    snprintf(img, sizeof img, "%s",
             sbt_str(json_object_get(json_object_get(j, "response"), "image_info"), "image_id"));
    json_decref(j);
    sbt_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
}

static json_t *add(const shop *s, const char *sku, long timeout_ms, sbt_resp *r)
{
    char url[1024], body[1024];
    url_of(url, sizeof url, "/api/v2/product/add_item", s, NULL);
    snprintf(body, sizeof body,
             "{\"item_name\":\"Chè lam Phủ Quảng hộp 500g\",\"original_price\":60000,"
             "\"description\":\"Bánh truyền thống\",\"weight\":0.5,\"category_id\":100791,"
             "\"image\":{\"image_id_list\":[\"%s\"]},\"logistic_info\":[{\"logistic_id\":1,"
             "\"enabled\":true}],\"item_sku\":\"%s\"}",
             img, sku);
    return sbt_req("POST", url, "application/json", body, strlen(body), NULL, NULL, timeout_ms, r);
}

static long long count_sku(const shop *s, const char *sku)
{
    char url[1024], extra[128];
    snprintf(extra, sizeof extra, "&offset=0&page_size=10&item_sku=%s", sku);
    url_of(url, sizeof url, "/api/v2/product/search_item", s, extra);
    sbt_resp r;
    json_t *j = sbt_get(url, &r);
    long long n =
        json_integer_value(json_object_get(json_object_get(j, "response"), "total_count"));
    json_decref(j);
    sbt_free(&r);
    return n;
}

static void test_created_but_lost_and_duplicates(void **state)
{
    (void)state;
    shop s;
    shop_with_token(&s);
    upload();
    sbt_resp r;
    faults(shopee, "{\"next\":[\"created_lost\",\"created_lost_malformed\",\"created_lost_hang\"],"
                   "\"hang_ms\":100}");
    /* queued created_lost faults wait for a create call: this look-up is answered */
    assert_int_equal(count_sku(&s, "CS-900"), 0);
    json_t *j = add(&s, "CS-900", 0, &r);
    assert_null(j);
    assert_int_equal(r.rc, CURLE_GOT_NOTHING);
    sbt_free(&r);
    assert_int_equal(count_sku(&s, "CS-900"), 1); /* created: a careful client adopts it */
    j = add(&s, "CS-901", 0, &r);
    assert_null(j);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "\"request_id\"")); /* the start of the real answer */
    sbt_free(&r);
    assert_int_equal(count_sku(&s, "CS-901"), 1);
    j = add(&s, "CS-902", 0, &r);
    assert_null(j);
    assert_int_equal(r.rc, CURLE_GOT_NOTHING);
    sbt_free(&r);
    assert_int_equal(count_sku(&s, "CS-902"), 1);
    /* a careless retry of CS-900 duplicates it, and the counters say so */
    j = add(&s, "CS-900", 0, &r);
    assert_string_equal(sbt_str(j, "error"), "");
    json_decref(j);
    sbt_free(&r);
    json_t *st = sbt_admin(shopee, "stats", NULL);
    json_t *sh = json_object_get(st, "shopee");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sh, "items_created"), "CS-900")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sh, "items_created"), "CS-901")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sh, "duplicates"), "CS-900")), 2);
    assert_int_equal(json_object_size(json_object_get(sh, "duplicates")), 1);
    assert_int_equal(json_integer_value(json_object_get(sh, "duplicate_skus")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "duplicate_skus")), 1);
    assert_int_equal(json_integer_value(json_object_get(sh, "items_total")), 4);
    assert_int_equal(json_integer_value(json_object_get(sh, "tokens_issued")), 1);
    json_t *created = json_object_get(
        json_object_get(json_object_get(sh, "requests"), "/api/v2/product/add_item"), "drop");
    assert_int_equal(json_integer_value(created), 1);
    json_decref(st);
    /* random created_lost applies to create calls only */
    faults(shopee, "{\"rate_created_lost\":1,\"hang_ms\":50}");
    char url[1024];
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", &s, NULL);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 200);
    json_decref(j);
    sbt_free(&r);
    j = add(&s, "CS-903", 0, &r);
    assert_null(j);
    sbt_free(&r);
    assert_int_equal(count_sku(&s, "CS-903"), 1);
    faults(shopee, "{\"rate_created_lost\":0,\"hang_ms\":30000}");
    /* the item cap answers with Shopee's limit error and keeps memory bounded */
    json_decref(sbt_admin(shopee, "config", "{\"max_items\":6}"));
    j = add(&s, "CS-904", 0, &r);
    assert_string_equal(sbt_str(j, "error"), "");
    json_decref(j);
    sbt_free(&r);
    j = add(&s, "CS-905", 0, &r);
    assert_string_equal(sbt_str(j, "error"), "error_reach_shop_item_limit");
    json_decref(j);
    sbt_free(&r);
    /* reset forgets everything */
    json_decref(sbt_admin(shopee, "reset", "{}"));
    st = sbx_stats(sb);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "shopee"), "items_total")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "duplicate_skus")), 0);
    json_decref(st);
}

static void test_assisted_pages(void **state)
{
    (void)state;
    char url[256];
    sbt_resp r;
    json_t *j = sbt_admin(tiktok, "pages",
                          "{\"marketplace\":\"posmart\",\"kind\":\"product\",\"id\":\"p-17\","
                          "\"state\":\"published\",\"title\":\"Nem chua Thanh Hóa\"}");
    char purl[256];
    snprintf(purl, sizeof purl, "%s", sbt_str(j, "url"));
    json_decref(j);
    snprintf(url, sizeof url, "%s/postmart/product/p-17", assisted);
    assert_string_equal(purl, url);
    sbt_get(purl, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "Nem chua Thanh Hóa"));
    sbt_free(&r);
    /* bare path; the Host header picks the marketplace */
    snprintf(url, sizeof url, "%s/product/p-17", assisted);
    const char *host_voso[] = {"Host: voso.vn", NULL}, *host_pm[] = {"Host: postmart.vn", NULL};
    sbt_req("GET", url, NULL, NULL, 0, host_voso, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    sbt_free(&r);
    sbt_req("GET", url, NULL, NULL, 0, host_pm, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    sbt_free(&r);
    json_decref(sbt_admin(shopee, "pages",
                          "{\"marketplace\":\"postmart\",\"kind\":\"product\",\"id\":\"p-17\","
                          "\"state\":\"removed\"}"));
    sbt_get(purl, &r);
    assert_int_equal(r.status, 404);
    sbt_free(&r);
    json_decref(sbt_admin(shopee, "pages",
                          "{\"marketplace\":\"postmart\",\"kind\":\"product\",\"id\":\"p-17\","
                          "\"state\":\"gone\"}"));
    sbt_get(purl, &r);
    assert_int_equal(r.status, 410);
    sbt_free(&r);
    json_decref(
        sbt_admin(shopee, "pages", "{\"marketplace\":\"voso\",\"kind\":\"shop\",\"id\":\"s-1\"}"));
    snprintf(url, sizeof url, "%s/voso/shop/s-1", assisted);
    sbt_get(url, &r);
    assert_int_equal(r.status, 200);
    sbt_free(&r);
    snprintf(url, sizeof url, "%s/postmart/shop/s-1", assisted);
    sbt_get(url, &r);
    assert_int_equal(r.status, 404);
    sbt_free(&r);
    snprintf(url, sizeof url, "%s/__sandbox/pages", shopee);
    j = sbt_post_json(url, "{\"marketplace\":\"tiki\",\"kind\":\"shop\",\"id\":\"a\"}", &r);
    assert_int_equal(r.status, 400);
    json_decref(j);
    sbt_free(&r);
    json_t *st = sbx_stats(sb);
    json_t *as = json_object_get(st, "assisted");
    assert_int_equal(json_integer_value(json_object_get(as, "pages")), 2);
    json_t *p = json_object_get(json_object_get(as, "requests"), "/postmart/product/{id}");
    assert_int_equal(json_integer_value(json_object_get(p, "200")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "404")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "410")), 1);
    json_decref(st);
}

static void test_body_cap(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof url, "%s/api/v2/product/add_item", shopee);
    size_t n = 3u << 20;
    char *big = cs_malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    sbt_resp r;
    json_t *j = sbt_req("POST", url, "application/json", big, n, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 413);
    json_decref(j);
    sbt_free(&r);
    cs_free(big);
}

/* The admin routing table answers each endpoint on its own method only, on every listener. */
static void test_admin_routes(void **state)
{
    (void)state;
    static const struct {
        const char *method, *ep;
        long status;
    } cases[] = {
        {"GET", "stats", 200},    {"GET", "faults", 200},  {"GET", "items", 200},
        {"GET", "config", 200},   {"GET", "pages", 200},   {"POST", "reset", 200},
        {"GET", "reset", 404},    {"POST", "stats", 404},  {"PUT", "faults", 404},
        {"DELETE", "pages", 404}, {"GET", "nothing", 404}, {"POST", "review", 200},
    };
    for (int m = 0; m < SBX_NMARKETS; m++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char url[256];
            snprintf(url, sizeof url, "http://127.0.0.1:%u/__sandbox/%s", sbx_port(sb, m),
                     cases[i].ep);
            sbt_resp r;
            json_t *j =
                sbt_req(cases[i].method, url, "application/json", "{}", 2, NULL, NULL, 0, &r);
            if (r.status != cases[i].status)
                fail_msg("%s %s → %ld", cases[i].method, url, r.status);
            if (cases[i].status == 404)
                assert_string_equal(sbt_str(j, "error"), "unknown admin endpoint or method");
            json_decref(j);
            sbt_free(&r);
        }
    /* a body that is not a JSON object is refused before anything changes */
    char url[256];
    snprintf(url, sizeof url, "%s/__sandbox/config", shopee);
    sbt_resp r;
    json_decref(sbt_req("POST", url, "application/json", "[1]", 3, NULL, NULL, 0, &r));
    assert_int_equal(r.status, 400);
    sbt_free(&r);
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sbx_options o;
    sbt_options(&o);
    o.seed = 20260101;
    sb = sbt_start(&o);
    if (!sb) return -1;
    sbx_url(sb, SBX_SHOPEE, shopee, sizeof shopee);
    snprintf(lazada, sizeof lazada, "http://127.0.0.1:%u/rest", sbx_port(sb, SBX_LAZADA));
    sbx_url(sb, SBX_TIKTOK, tiktok, sizeof tiktok);
    sbx_url(sb, SBX_ASSISTED, assisted, sizeof assisted);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sbx_stop(sb); /* also ends the request left hanging by the timeout test */
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_5xx_and_throttle_shapes, reset),
        cmocka_unit_test_setup(test_drop_malformed_timeout, reset),
        cmocka_unit_test_setup(test_latency, reset),
        cmocka_unit_test_setup(test_faults_endpoint_validates, reset),
        cmocka_unit_test_setup(test_random_faults_replay_with_seed, reset),
        cmocka_unit_test_setup(test_created_but_lost_and_duplicates, reset),
        cmocka_unit_test_setup(test_assisted_pages, reset),
        cmocka_unit_test_setup(test_body_cap, reset),
        cmocka_unit_test_setup(test_admin_routes, reset),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
