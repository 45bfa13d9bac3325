/* tests/unit/test_sandbox_shopee: the Shopee simulator in-process on a random loopback port,
 * driven over HTTP, signed by the documented recipe (tests/support/tmarket; no database). */
#include "tests/unit/sandbox_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define PID TM_SHOPEE_PARTNER_ID
#define KEY TM_SHOPEE_PARTNER_KEY

static sbx_sandbox *sb;
static char base[64];

/* Signed Shopee URL: token NULL = public call. ts_off shifts the timestamp; bad spoils the sign. */
static void url_of(char *out, size_t n, const char *path, const char *token, const char *shop_id,
                   long long ts_off, const char *extra, int bad)
{
    tm_shopee_url(out, n, base, path, KEY, PID, sbt_now() + ts_off, token, shop_id, extra);
    if (bad) {
        char *sign = strstr(out, "&sign=") + 6;
        sign[0] = sign[0] == '0' ? '1' : '0';
    }
}

typedef struct shop {
    char id[32], code[80], access[80], refresh[80];
} shop;

/* Authorise (auto-approve) and exchange the code: a shop with tokens. */
static void authorise(const char *state, shop *s)
{
    char url[2048], red[256], enc[512], extra[600];
    snprintf(red, sizeof red, "http://127.0.0.1:9/v1/oauth/shopee/callback?state=%s", state);
    sbt_escape(red, enc, sizeof enc);
    snprintf(extra, sizeof extra, "&redirect=%s", enc);
    url_of(url, sizeof url, "/api/v2/shop/auth_partner", NULL, NULL, 0, extra, 0);
    sbt_resp r;
    json_decref(sbt_get(url, &r));
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.location, "/v1/oauth/shopee/callback?state="));
    assert_int_equal(sbt_url_param(r.location, "code", s->code, sizeof s->code), 0);
    assert_int_equal(sbt_url_param(r.location, "shop_id", s->id, sizeof s->id), 0);
    sbt_free(&r);
    char body[256];
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"shop_id\":%s,\"partner_id\":%lld}", s->code,
             s->id, PID);
    url_of(url, sizeof url, "/api/v2/auth/token/get", NULL, NULL, 0, NULL, 0);
    json_t *j = sbt_post_json(url, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(sbt_str(j, "error"), "");
    assert_true(json_integer_value(json_object_get(j, "expire_in")) == 4 * 3600);
    snprintf(s->access, sizeof s->access, "%s", sbt_str(j, "access_token"));
    snprintf(s->refresh, sizeof s->refresh, "%s", sbt_str(j, "refresh_token"));
    json_decref(j);
    sbt_free(&r);
}

static char image_id[80];

static void upload(void)
{
    char url[1024];
    unsigned char png[TM_PNG_LEN];
    size_t n = tm_png(png);
    url_of(url, sizeof url, "/api/v2/media_space/upload_image", NULL, NULL, 0, NULL, 0);
    CURL *c = curl_easy_init();
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "image");
    curl_mime_filename(p, "a.png");
    curl_mime_data(p, (const char *)png, n);
    sbt_resp r;
    json_t *j = sbt_req("POST", url, NULL, NULL, 0, NULL, m, 0, &r);
    assert_int_equal(r.status, 200);
    const char *id =
        sbt_str(json_object_get(json_object_get(j, "response"), "image_info"), "image_id");
    assert_non_null(id);
    snprintf(image_id, sizeof image_id, "%s", id);
    json_decref(j);
    sbt_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
}

/* add_item with the given name, sku, category and attribute list (JSON array text). */
static json_t *add_item(const shop *s, const char *name, const char *sku, long cat,
                        const char *attrs, const char *img, int logistics, sbt_resp *r)
{
    char url[1024], body[2048];
    url_of(url, sizeof url, "/api/v2/product/add_item", s->access, s->id, 0, NULL, 0);
    snprintf(body, sizeof body,
             "{\"item_name\":\"%s\",\"original_price\":85000,\"description\":\"Đặc sản Thanh "
             "Hóa, đóng gói hút chân không\",\"weight\":0.5,\"category_id\":%ld,"
             "\"image\":{\"image_id_list\":[\"%s\"]},\"logistic_info\":[%s],"
             "\"item_sku\":\"%s\",\"attribute_list\":%s,\"seller_stock\":[{\"stock\":20}]}",
             name, cat, img, logistics ? "{\"logistic_id\":50021,\"enabled\":true}" : "", sku,
             attrs);
    return sbt_post_json(url, body, r);
}

#define ORIGIN TM_SHOPEE_ORIGIN_ATTRS

static int reset(void **state)
{
    (void)state;
    json_decref(sbt_admin(base, "reset", "{}"));
    json_decref(sbt_admin(base, "config", "{\"rate\":0,\"auto_approve\":true}"));
    return 0;
}

static void test_public_sign_and_errors(void **state)
{
    (void)state;
    char url[2048], extra[300], enc[256];
    sbt_escape("http://127.0.0.1:9/cb", enc, sizeof enc);
    snprintf(extra, sizeof extra, "&redirect=%s", enc);
    sbt_resp r;
    /* wrong sign → Shopee's own error shape */
    url_of(url, sizeof url, "/api/v2/shop/auth_partner", NULL, NULL, 0, extra, 1);
    json_t *j = sbt_get(url, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(sbt_str(j, "error"), "error_sign");
    assert_string_equal(sbt_str(j, "message"), "Wrong sign.");
    assert_int_equal(strlen(sbt_str(j, "request_id")), 32);
    json_decref(j);
    sbt_free(&r);
    /* a timestamp 10 minutes old is refused even when correctly signed */
    url_of(url, sizeof url, "/api/v2/shop/auth_partner", NULL, NULL, -600, extra, 0);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(sbt_str(j, "error"), "error_param");
    assert_string_equal(sbt_str(j, "message"), "Invalid timestamp");
    json_decref(j);
    sbt_free(&r);
    /* another partner */
    snprintf(url, sizeof url, "%s/api/v2/shop/auth_partner?partner_id=1&timestamp=%lld&sign=x",
             base, sbt_now());
    j = sbt_get(url, &r);
    assert_string_equal(sbt_str(j, "message"), "Invalid partner_id.");
    json_decref(j);
    sbt_free(&r);
    /* correctly signed → redirect with code and shop_id */
    url_of(url, sizeof url, "/api/v2/shop/auth_partner", NULL, NULL, 0, extra, 0);
    json_decref(sbt_get(url, &r));
    assert_int_equal(r.status, 302);
    assert_int_equal(strncmp(r.location, "http://127.0.0.1:9/cb?code=", 27), 0);
    assert_non_null(strstr(r.location, "&shop_id="));
    sbt_free(&r);
}

static void test_approve_page_when_not_auto(void **state)
{
    (void)state;
    json_decref(sbt_admin(base, "config", "{\"auto_approve\":false}"));
    char url[2048], extra[300], enc[256];
    sbt_escape("http://127.0.0.1:9/cb?state=x", enc, sizeof enc);
    snprintf(extra, sizeof extra, "&redirect=%s", enc);
    url_of(url, sizeof url, "/api/v2/shop/auth_partner", NULL, NULL, 0, extra, 0);
    sbt_resp r;
    sbt_get(url, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "Đồng ý cấp quyền"));
    assert_non_null(strstr(r.body.data, "http://127.0.0.1:9/cb?state=x"));
    sbt_free(&r);
    /* the form's approve button */
    char form[512], u2[256];
    snprintf(form, sizeof form, "redirect=%s&decision=approve&shop_id=777", enc);
    snprintf(u2, sizeof u2, "%s/api/v2/shop/auth_partner/approve", base);
    sbt_req("POST", u2, "application/x-www-form-urlencoded", form, strlen(form), NULL, NULL, 0, &r);
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.location, "&shop_id=777"));
    assert_non_null(strstr(r.location, "?state=x&code="));
    sbt_free(&r);
}

static void test_code_and_refresh_single_use(void **state)
{
    (void)state;
    shop s;
    authorise("h1", &s);
    char url[1024], body[256];
    sbt_resp r;
    /* the code was spent by authorise() */
    snprintf(body, sizeof body, "{\"code\":\"%s\",\"shop_id\":%s,\"partner_id\":%lld}", s.code,
             s.id, PID);
    url_of(url, sizeof url, "/api/v2/auth/token/get", NULL, NULL, 0, NULL, 0);
    json_t *j = sbt_post_json(url, body, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(sbt_str(j, "error"), "error_auth");
    json_decref(j);
    sbt_free(&r);
    /* refresh: new pair; the old refresh token is then refused */
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\",\"shop_id\":%s,\"partner_id\":%lld}",
             s.refresh, s.id, PID);
    url_of(url, sizeof url, "/api/v2/auth/access_token/get", NULL, NULL, 0, NULL, 0);
    j = sbt_post_json(url, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_not_equal(sbt_str(j, "refresh_token"), s.refresh);
    assert_string_not_equal(sbt_str(j, "access_token"), s.access);
    assert_int_equal(json_integer_value(json_object_get(j, "shop_id")), strtoll(s.id, NULL, 10));
    char next_access[80];
    snprintf(next_access, sizeof next_access, "%s", sbt_str(j, "access_token"));
    json_decref(j);
    sbt_free(&r);
    j = sbt_post_json(url, body, &r);
    assert_string_equal(sbt_str(j, "error"), "error_auth");
    assert_string_equal(sbt_str(j, "message"), "Invalid refresh_token.");
    json_decref(j);
    sbt_free(&r);
    /* the new access token works */
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", next_access, s.id, 0, NULL, 0);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(sbt_str(j, "region"), "VN");
    json_decref(j);
    sbt_free(&r);
    /* re-authorising with the same redirect finds the same shop */
    shop again;
    authorise("h1", &again);
    assert_string_equal(again.id, s.id);
}

static void test_token_expiry_and_revoke(void **state)
{
    (void)state;
    shop s;
    authorise("h2", &s);
    char url[1024], body[128];
    sbt_resp r;
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", s.access, s.id, 0, NULL, 0);
    json_t *j = sbt_get(url, &r);
    assert_int_equal(r.status, 200);
    json_decref(j);
    sbt_free(&r);
    /* a wrongly signed shop call */
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", s.access, s.id, 0, NULL, 1);
    j = sbt_get(url, &r);
    assert_string_equal(sbt_str(j, "error"), "error_sign");
    json_decref(j);
    sbt_free(&r);
    j = sbt_admin(base, "expire-tokens", "{\"marketplace\":\"shopee\"}");
    assert_true(json_integer_value(json_object_get(j, "expired")) >= 1);
    json_decref(j);
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", s.access, s.id, 0, NULL, 0);
    j = sbt_get(url, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(sbt_str(j, "error"), "error_auth");
    assert_string_equal(sbt_str(j, "message"), "Invalid access_token.");
    json_decref(j);
    sbt_free(&r);
    /* refresh still works after expiry, then revocation stops everything */
    shop t;
    authorise("h3", &t);
    snprintf(body, sizeof body, "{\"shop_id\":\"%s\"}", t.id);
    j = sbt_admin(base, "revoke", body);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", t.access, t.id, 0, NULL, 0);
    j = sbt_get(url, &r);
    assert_string_equal(sbt_str(j, "error"), "error_auth");
    json_decref(j);
    sbt_free(&r);
    char rb[256];
    snprintf(rb, sizeof rb, "{\"refresh_token\":\"%s\",\"shop_id\":%s,\"partner_id\":%lld}",
             t.refresh, t.id, PID);
    url_of(url, sizeof url, "/api/v2/auth/access_token/get", NULL, NULL, 0, NULL, 0);
    j = sbt_post_json(url, rb, &r);
    assert_string_equal(sbt_str(j, "error"), "error_auth");
    json_decref(j);
    sbt_free(&r);
}

static void test_upload_rejects_non_images(void **state)
{
    (void)state;
    char url[1024];
    url_of(url, sizeof url, "/api/v2/media_space/upload_image", NULL, NULL, 0, NULL, 0);
    CURL *c = curl_easy_init();
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "image");
    curl_mime_filename(p, "a.gif");
    curl_mime_data(p, "GIF89a....", 10);
    sbt_resp r;
    json_t *j = sbt_req("POST", url, NULL, NULL, 0, NULL, m, 0, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(sbt_str(j, "error"), "error_param");
    json_decref(j);
    sbt_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
}

static void test_add_item_validation(void **state)
{
    (void)state;
    shop s;
    authorise("h4", &s);
    upload();
    sbt_resp r;
    struct {
        const char *name;
        long cat;
        const char *attrs, *img;
        int logi;
        const char *error;
    } cases[] = {
        {"Nem chua", 100780, ORIGIN, image_id, 1, "error_item_name_is_too_short"},
        {"Nem chua Thanh Hóa loại 1", 999, ORIGIN, image_id, 1, "error_invalid_category"},
        {"Nem chua Thanh Hóa loại 1", 100780, "[]", image_id, 1, "error_less_required_attribute"},
        {"Nem chua Thanh Hóa loại 1", 100780, ORIGIN, "vn-nope", 1, "error_image_unavailable"},
        {"Nem chua Thanh Hóa loại 1", 100780, ORIGIN, image_id, 0, "error_invalid_logistic_info"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = add_item(&s, cases[i].name, "CS-1", cases[i].cat, cases[i].attrs, cases[i].img,
                             cases[i].logi, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(sbt_str(j, "error"), cases[i].error);
        assert_null(json_object_get(j, "response"));
        json_decref(j);
        sbt_free(&r);
    }
    json_t *st = sbx_stats(sb);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "shopee"), "items_total")), 0);
    json_decref(st);
}

static long long item_of(json_t *j)
{
    return json_integer_value(json_object_get(json_object_get(j, "response"), "item_id"));
}

static const char *base_status(const shop *s, long long id, char *buf, size_t n)
{
    char url[1024], extra[64];
    snprintf(extra, sizeof extra, "&item_id_list=%lld", id);
    url_of(url, sizeof url, "/api/v2/product/get_item_base_info", s->access, s->id, 0, extra, 0);
    sbt_resp r;
    json_t *j = sbt_get(url, &r);
    json_t *item = json_array_get(json_object_get(json_object_get(j, "response"), "item_list"), 0);
    snprintf(buf, n, "%s", item ? sbt_str(item, "item_status") : "(none)");
    json_decref(j);
    sbt_free(&r);
    return buf;
}

static void test_create_lookup_review(void **state)
{
    (void)state;
    shop s;
    authorise("h5", &s);
    upload();
    sbt_resp r;
    json_t *j = add_item(&s, "Nem chua Thanh Hóa loại 1", "CS-42", 100780, ORIGIN, image_id, 1, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(sbt_str(j, "error"), "");
    json_t *resp = json_object_get(j, "response");
    assert_string_equal(sbt_str(resp, "item_status"), "REVIEWING");
    assert_string_equal(sbt_str(resp, "item_sku"), "CS-42");
    long long good = item_of(j);
    json_decref(j);
    sbt_free(&r);
    j = add_item(&s, "Nem chua hàng giả giá rẻ", "CS-43", 100780, ORIGIN, image_id, 1, &r);
    long long bad = item_of(j);
    json_decref(j);
    sbt_free(&r);
    /* search by SKU keyword (Shopee matches substrings: CS-4 finds both) */
    char url[1024];
    url_of(url, sizeof url, "/api/v2/product/search_item", s.access, s.id, 0,
           "&offset=0&page_size=10&item_sku=CS-42", 0);
    j = sbt_get(url, &r);
    json_t *ids = json_object_get(json_object_get(j, "response"), "item_id_list");
    assert_int_equal(json_array_size(ids), 1);
    assert_int_equal(json_integer_value(json_array_get(ids, 0)), good);
    json_decref(j);
    sbt_free(&r);
    url_of(url, sizeof url, "/api/v2/product/search_item", s.access, s.id, 0,
           "&offset=0&page_size=10&item_sku=CS-4", 0);
    j = sbt_get(url, &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "response"), "total_count")), 2);
    json_decref(j);
    sbt_free(&r);
    /* the documented simple look-up: get_item_base_info?item_sku= (exact) */
    url_of(url, sizeof url, "/api/v2/product/get_item_base_info", s.access, s.id, 0,
           "&item_sku=CS-43", 0);
    j = sbt_get(url, &r);
    json_t *list = json_object_get(json_object_get(j, "response"), "item_list");
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "item_id")), bad);
    json_decref(j);
    sbt_free(&r);
    /* still in review until the delay passes (an hour here); then NORMAL and BANNED */
    char st[32];
    assert_string_equal(base_status(&s, good, st, sizeof st), "REVIEWING");
    j = sbt_admin(base, "review", "{\"marketplace\":\"shopee\"}");
    assert_int_equal(json_integer_value(json_object_get(j, "reviewed")), 2);
    json_decref(j);
    assert_string_equal(base_status(&s, good, st, sizeof st), "NORMAL");
    assert_string_equal(base_status(&s, bad, st, sizeof st), "BANNED");
    /* get_item_list filtered by status and by the simple item_sku param */
    url_of(url, sizeof url, "/api/v2/product/get_item_list", s.access, s.id, 0,
           "&offset=0&page_size=10&item_status=BANNED", 0);
    j = sbt_get(url, &r);
    json_t *items = json_object_get(json_object_get(j, "response"), "item");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "item_id")), bad);
    json_decref(j);
    sbt_free(&r);
    /* a fixed name goes back to review and then live */
    char body[512];
    url_of(url, sizeof url, "/api/v2/product/update_item", s.access, s.id, 0, NULL, 0);
    snprintf(body, sizeof body, "{\"item_id\":%lld,\"item_name\":\"Nem chua Thanh Hóa loại 2\"}",
             bad);
    j = sbt_post_json(url, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(sbt_str(json_object_get(j, "response"), "item_status"), "REVIEWING");
    json_decref(j);
    sbt_free(&r);
    json_decref(sbt_admin(base, "review", "{}"));
    assert_string_equal(base_status(&s, bad, st, sizeof st), "NORMAL");
}

static void test_review_delay_elapses(void **state)
{
    (void)state;
    /* With no delay the review is due at once: the answer says REVIEWING, the next look says
     * NORMAL without any forcing. */
    json_decref(sbt_admin(base, "config", "{\"review_delay_ms\":0}"));
    shop s;
    authorise("h8", &s);
    upload();
    sbt_resp r;
    json_t *j = add_item(&s, "Chè lam Phủ Quảng hộp 500g", "CS-88", 100791, "[]", image_id, 1, &r);
    assert_string_equal(sbt_str(json_object_get(j, "response"), "item_status"), "REVIEWING");
    long long id = item_of(j);
    json_decref(j);
    sbt_free(&r);
    char st[32];
    assert_string_equal(base_status(&s, id, st, sizeof st), "NORMAL");
    json_decref(sbt_admin(base, "config", "{\"review_delay_ms\":3600000}"));
}

static void test_rate_limit(void **state)
{
    (void)state;
    shop s;
    authorise("h6", &s);
    /* a bucket of one request refilled once an hour: the second call is throttled */
    json_decref(sbt_admin(base, "config", "{\"rate\":0.0003}"));
    char url[1024];
    sbt_resp r;
    url_of(url, sizeof url, "/api/v2/shop/get_shop_info", s.access, s.id, 0, NULL, 0);
    json_decref(sbt_get(url, &r));
    assert_int_equal(r.status, 200);
    sbt_free(&r);
    json_t *j = sbt_get(url, &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(sbt_str(j, "error"), "error_system_busy");
    json_decref(j);
    sbt_free(&r);
    json_t *st = sbx_stats(sb);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "shopee"), "throttled")), 1);
    json_decref(st);
}

static void test_push_on_ban_is_signed(void **state)
{
    (void)state;
    unsigned port = 0;
    struct MHD_Daemon *d = sbt_push_start(&port);
    assert_non_null(d);
    char hook[128], cfg[256];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%u/v1/webhooks/shopee", port);
    snprintf(cfg, sizeof cfg, "{\"shopee_push_url\":\"%s\"}", hook);
    json_decref(sbt_admin(base, "config", cfg));
    shop s;
    authorise("h7", &s);
    upload();
    sbt_resp r;
    json_t *j = add_item(&s, "Bánh gai FAKE Tứ Trụ", "CS-77", 100780, ORIGIN, image_id, 1, &r);
    long long id = item_of(j);
    json_decref(j);
    sbt_free(&r);
    json_decref(sbt_admin(base, "review", "{}"));
    /* Delivery is asynchronous: wait (bounded) for the ban notification, code 6. */
    char body[4096], auth[128];
    assert_int_equal(sbt_push_wait("\"code\":6", body, sizeof body, auth, sizeof auth), 0);
    assert_int_equal(cx_shopee_push_verify(KEY, hook, body, strlen(body), auth), 1);
    char want[65];
    tm_shopee_push_auth(KEY, hook, body, want);
    assert_string_equal(auth, want);
    assert_int_equal(cx_shopee_push_verify(KEY, "http://other/", body, strlen(body), auth), 0);
    json_error_t je;
    j = json_loads(body, 0, &je);
    assert_int_equal(json_integer_value(json_object_get(j, "shop_id")), strtoll(s.id, NULL, 10));
    json_t *data = json_object_get(j, "data");
    assert_int_equal(json_integer_value(json_object_get(data, "item_id")), id);
    assert_string_equal(sbt_str(data, "item_status"), "BANNED");
    assert_non_null(strstr(sbt_str(data, "reason"), "fake"));
    json_decref(j);
    json_decref(sbt_admin(base, "config", "{\"shopee_push_url\":\"\"}"));
    MHD_stop_daemon(d);
}

/* ---- issue 16: categories, attribute trees, price, stock, unlist, delete ---- */
static json_t *shop_get(const shop *s, const char *path, const char *extra, sbt_resp *r)
{
    char url[1024];
    url_of(url, sizeof url, path, s->access, s->id, 0, extra, 0);
    return sbt_get(url, r);
}

static json_t *shop_post(const shop *s, const char *path, const char *body, sbt_resp *r)
{
    char url[1024];
    url_of(url, sizeof url, path, s->access, s->id, 0, NULL, 0);
    return sbt_post_json(url, body, r);
}

static void test_category_and_attribute_tree(void **state)
{
    (void)state;
    shop s;
    authorise("h16", &s);
    sbt_resp r;
    json_t *j = shop_get(&s, "/api/v2/product/get_category", "&language=vi", &r);
    assert_int_equal(r.status, 200);
    json_t *list = json_object_get(json_object_get(j, "response"), "category_list");
    assert_true(json_array_size(list) >= 2);
    int leaf = 0;
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        assert_non_null(sbt_str(c, "display_category_name"));
        assert_true(json_is_integer(json_object_get(c, "parent_category_id")));
        if (json_integer_value(json_object_get(c, "category_id")) == 100780)
            leaf = json_is_false(json_object_get(c, "has_children"));
    }
    assert_true(leaf);
    json_decref(j);
    sbt_free(&r);
    j = shop_get(&s, "/api/v2/product/get_attribute_tree", "&category_id_list=100780&language=vi",
                 &r);
    assert_int_equal(r.status, 200);
    json_t *one = json_array_get(json_object_get(json_object_get(j, "response"), "list"), 0);
    assert_int_equal(json_integer_value(json_object_get(one, "category_id")), 100780);
    json_t *origin = json_array_get(json_object_get(one, "attribute_tree"), 0);
    assert_int_equal(json_integer_value(json_object_get(origin, "attribute_id")), 100037);
    assert_true(json_is_true(json_object_get(origin, "mandatory")));
    assert_string_equal(sbt_str(origin, "name"), "Xuất xứ");
    assert_string_equal(
        sbt_str(json_array_get(json_object_get(origin, "attribute_value_list"), 0), "name"),
        "Việt Nam");
    json_decref(j);
    sbt_free(&r);
    j = shop_get(&s, "/api/v2/product/get_attribute_tree", "&category_id_list=424242", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(sbt_str(j, "error"), "error_invalid_category");
    json_decref(j);
    sbt_free(&r);
    j = shop_get(&s, "/api/v2/product/get_attribute_tree", "", &r);
    assert_string_equal(sbt_str(j, "error"), "error_param");
    json_decref(j);
    sbt_free(&r);
}

static void test_price_stock_unlist_delete(void **state)
{
    (void)state;
    shop s;
    authorise("h17", &s);
    upload();
    sbt_resp r;
    json_t *j = add_item(&s, "Nem chua Thanh Hóa", "CS-90", 100780, ORIGIN, image_id, 1, &r);
    long long id = item_of(j);
    json_decref(j);
    sbt_free(&r);
    json_decref(sbt_admin(base, "review", "{\"marketplace\":\"shopee\"}"));
    char body[256], buf[64];
    snprintf(body, sizeof body,
             "{\"item_id\":%lld,\"price_list\":[{\"model_id\":0,\"original_price\":91000}]}", id);
    j = shop_post(&s, "/api/v2/product/update_price", body, &r);
    assert_string_equal(sbt_str(j, "error"), "");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(j, "response"), "success_list")), 1);
    json_decref(j);
    sbt_free(&r);
    snprintf(body, sizeof body,
             "{\"item_id\":%lld,\"stock_list\":[{\"model_id\":0,\"seller_stock\":[{\"stock\":"
             "7}]}]}",
             id);
    j = shop_post(&s, "/api/v2/product/update_stock", body, &r);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(j, "response"), "success_list")), 1);
    json_decref(j);
    sbt_free(&r);
    snprintf(body, sizeof body,
             "{\"item_id\":%lld,\"stock_list\":[{\"model_id\":0,\"seller_stock\":[{\"stock\":"
             "-1}]}]}",
             id);
    j = shop_post(&s, "/api/v2/product/update_stock", body, &r);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(j, "response"), "failure_list")), 1);
    json_decref(j);
    sbt_free(&r);
    /* the read shows the new price and the description sent at creation */
    snprintf(buf, sizeof buf, "&item_id_list=%lld", id);
    j = shop_get(&s, "/api/v2/product/get_item_base_info", buf, &r);
    json_t *it = json_array_get(json_object_get(json_object_get(j, "response"), "item_list"), 0);
    assert_true(
        json_number_value(json_object_get(json_array_get(json_object_get(it, "price_info"), 0),
                                          "original_price")) == 91000.0);
    assert_non_null(strstr(sbt_str(it, "description"), "Đặc sản Thanh Hóa"));
    assert_string_equal(sbt_str(it, "item_status"), "NORMAL");
    json_decref(j);
    sbt_free(&r);
    /* unlist, then list again, then delete */
    snprintf(body, sizeof body, "{\"item_list\":[{\"item_id\":%lld,\"unlist\":true}]}", id);
    j = shop_post(&s, "/api/v2/product/unlist_item", body, &r);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(j, "response"), "success_list")), 1);
    json_decref(j);
    sbt_free(&r);
    assert_string_equal(base_status(&s, id, buf, sizeof buf), "UNLIST");
    j = shop_get(&s, "/api/v2/product/get_item_list", "&offset=0&page_size=10&item_status=UNLIST",
                 &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "response"), "total_count")), 1);
    json_decref(j);
    sbt_free(&r);
    snprintf(body, sizeof body, "{\"item_id\":%lld}", id);
    j = shop_post(&s, "/api/v2/product/delete_item", body, &r);
    assert_string_equal(sbt_str(j, "error"), "");
    json_decref(j);
    sbt_free(&r);
    assert_string_equal(base_status(&s, id, buf, sizeof buf), "SELLER_DELETE");
    j = shop_post(&s, "/api/v2/product/delete_item", body, &r);
    assert_string_equal(sbt_str(j, "error"), "error_item_not_found");
    json_decref(j);
    sbt_free(&r);
    snprintf(body, sizeof body,
             "{\"item_id\":%lld,\"price_list\":[{\"model_id\":0,\"original_price\":1}]}", id);
    j = shop_post(&s, "/api/v2/product/update_price", body, &r);
    assert_string_equal(sbt_str(j, "error"), "error_item_not_found");
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
    sbx_url(sb, SBX_SHOPEE, base, sizeof base);
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
        cmocka_unit_test_setup(test_public_sign_and_errors, reset),
        cmocka_unit_test_setup(test_approve_page_when_not_auto, reset),
        cmocka_unit_test_setup(test_code_and_refresh_single_use, reset),
        cmocka_unit_test_setup(test_token_expiry_and_revoke, reset),
        cmocka_unit_test_setup(test_upload_rejects_non_images, reset),
        cmocka_unit_test_setup(test_add_item_validation, reset),
        cmocka_unit_test_setup(test_create_lookup_review, reset),
        cmocka_unit_test_setup(test_review_delay_elapses, reset),
        cmocka_unit_test_setup(test_rate_limit, reset),
        cmocka_unit_test_setup(test_push_on_ban_is_signed, reset),
        cmocka_unit_test_setup(test_category_and_attribute_tree, reset),
        cmocka_unit_test_setup(test_price_stock_unlist_delete, reset),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
