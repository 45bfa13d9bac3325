/* tests/unit/test_cx_shopee: the Shopee connector byte for byte — every operation's request
 * (method, URL with query, headers, body) against expected strings, and every documented answer
 * and error shape parsed into the right outcome. No network, no database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "connectors/connector.h"
#include "connectors/registry.h"
#include "core/mem.h"
#include "tests/support/tmarket.h"

#define NOW_MS 1655714431000LL
#define TS "1655714431"
#define PID TM_SHOPEE_PARTNER_ID_TEXT /* the partner id the simulator accepts too */
#define TOKEN "59777174636562737266615546704c6d"
#define SHOP "14701711"

static const cx_market mp = {
    .code = "shopee",
    .base_url = "https://partner.test",
    .auth_url = "",
    .app_id = PID,
    .secret = "partner-key",
    .redirect_url = "https://choso.test/v1/oauth/shopee/callback",
    .push_url = "https://choso.test/v1/webhooks/shopee",
    .public_domain = "shopee.vn",
    .logistic_id = "50011",
    .warehouse_id = "",
};
static const cx_account acct = {SHOP, TOKEN, "refresh-1"};
static const cx_category cat = {"100629", "Gia vị",
                                "{\"brand\":{\"brand_id\":0,\"original_brand_name\":\"NoBrand\"}}"};
static const char *const imgs[] = {"img-a", "img-b"};
static cx_listing listing(void)
{
    cx_listing l = {.listing_id = 42,
                    .name = "Mắm tôm Hậu Lộc",
                    .description = "Mắm tôm truyền thống",
                    .price_vnd = 45000,
                    .stock = 12,
                    .weight_g = 500,
                    .length_mm = 100,
                    .width_mm = 80,
                    .height_mm = 115,
                    .category_code = "condiment",
                    .category = &cat,
                    .image_ids = imgs,
                    .nimages = 2};
    return l;
}
static cx_input input(void)
{
    cx_input in = {.mp = &mp, .account = &acct, .now_ms = NOW_MS};
    return in;
}

/* Expected Shopee sign over the documented base string. */
static void sign_of(const char *base, char out[65])
{
    tm_shopee_mac("partner-key", base, out);
}

static void build_ok(cx_op op, const cx_input *in, cx_request *r)
{
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(r);
    int rc = cx_shopee.build(op, in, r, &err);
    if (rc) fprintf(stderr, "build failed: %s %s\n", cs_code_name(err.code), err.detail);
    assert_int_equal(rc, 0);
}

static void test_authorize_link(void **state)
{
    (void)state;
    cx_input in = input();
    in.account = NULL;
    in.oauth_state = "st4te_ABC";
    cx_request r;
    build_ok(CX_OP_AUTHORIZE_LINK, &in, &r);
    char sign[65], url[512];
    sign_of(PID "/api/v2/shop/auth_partner" TS, sign);
    snprintf(url, sizeof url,
             "https://partner.test/api/v2/shop/auth_partner?partner_id=" PID "&timestamp=" TS
             "&sign=%s&redirect=https%%3A%%2F%%2Fchoso.test%%2Fv1%%2Foauth%%2Fshopee%%2Fcallback%%"
             "3Fstate%%3Dst4te_ABC",
             sign);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, url);
    assert_null(r.body);
    cx_request_free(&r);
}

static void test_token_exchange_and_refresh(void **state)
{
    (void)state;
    cx_input in = input();
    in.auth_code = "code-123";
    cx_request r;
    build_ok(CX_OP_TOKEN_EXCHANGE, &in, &r);
    char sign[65], url[512];
    sign_of(PID "/api/v2/auth/token/get" TS, sign);
    snprintf(url, sizeof url,
             "https://partner.test/api/v2/auth/token/get?partner_id=" PID "&timestamp=" TS
             "&sign=%s",
             sign);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, url);
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.body,
                        "{\"code\":\"code-123\",\"shop_id\":14701711,\"partner_id\":2001887}");
    assert_int_equal(r.body_len, strlen(r.body));
    cx_request_free(&r);

    build_ok(CX_OP_TOKEN_REFRESH, &in, &r);
    sign_of(PID "/api/v2/auth/access_token/get" TS, sign);
    snprintf(url, sizeof url,
             "https://partner.test/api/v2/auth/access_token/get?partner_id=" PID "&timestamp=" TS
             "&sign=%s",
             sign);
    assert_string_equal(r.url, url);
    assert_string_equal(
        r.body, "{\"refresh_token\":\"refresh-1\",\"shop_id\":14701711,\"partner_id\":2001887}");
    cx_request_free(&r);
}

static void test_image_upload_multipart(void **state)
{
    (void)state;
    static const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 1, 2};
    cx_image im = {jpg, sizeof jpg, "a1b2.jpg", "image/jpeg", NULL};
    cx_input in = input();
    in.image = &im;
    cx_request r;
    build_ok(CX_OP_IMAGE_UPLOAD, &in, &r);
    char sign[65], url[512];
    sign_of(PID "/api/v2/media_space/upload_image" TS, sign);
    snprintf(url, sizeof url,
             "https://partner.test/api/v2/media_space/upload_image?partner_id=" PID "&timestamp=" TS
             "&sign=%s",
             sign);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, url);
    assert_null(r.body);
    assert_int_equal(r.nparts, 1);
    assert_string_equal(r.parts[0].name, "image");
    assert_string_equal(r.parts[0].filename, "a1b2.jpg");
    assert_string_equal(r.parts[0].content_type, "image/jpeg");
    assert_int_equal(r.parts[0].len, sizeof jpg);
    assert_memory_equal(r.parts[0].data, jpg, sizeof jpg);
    cx_request_free(&r);
}

static const char *shop_url(const char *path, char *buf, size_t n, const char *extra)
{
    tm_shopee_url(buf, n, "https://partner.test", path, "partner-key", TM_SHOPEE_PARTNER_ID,
                  NOW_MS / 1000, TOKEN, SHOP, extra);
    return buf;
}

static void test_create_item_golden(void **state)
{
    (void)state;
    cx_listing l = listing();
    cx_input in = input();
    in.listing = &l;
    cx_request r;
    char url[512];
    build_ok(CX_OP_CREATE_ITEM, &in, &r);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, shop_url("/api/v2/product/add_item", url, sizeof url, ""));
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(
        r.body, "{\"item_name\":\"Mắm tôm Hậu Lộc\",\"description\":\"Mắm tôm truyền thống\","
                "\"original_price\":45000,\"seller_stock\":[{\"stock\":12}],\"weight\":0.5,"
                "\"dimension\":{\"package_length\":10,\"package_width\":8,\"package_height\":12},"
                "\"category_id\":100629,\"image\":{\"image_id_list\":[\"img-a\",\"img-b\"]},"
                "\"logistic_info\":[{\"logistic_id\":50011,\"enabled\":true}],"
                "\"item_sku\":\"CS-42\",\"item_status\":\"NORMAL\",\"condition\":\"NEW\","
                "\"brand\":{\"brand_id\":0,\"original_brand_name\":\"NoBrand\"}}");
    assert_int_equal(r.nheaders, 0);
    cx_request_free(&r);
}

static void test_update_item_golden(void **state)
{
    (void)state;
    cx_listing l = listing();
    l.item_id = "800123";
    l.length_mm = 0; /* unknown size: no dimension object */
    cx_input in = input();
    in.listing = &l;
    cx_request r;
    char url[512];
    build_ok(CX_OP_UPDATE_ITEM, &in, &r);
    assert_string_equal(r.url, shop_url("/api/v2/product/update_item", url, sizeof url, ""));
    assert_string_equal(
        r.body, "{\"item_id\":800123,\"item_name\":\"Mắm tôm Hậu Lộc\",\"description\":\"Mắm tôm "
                "truyền thống\",\"weight\":0.5,\"category_id\":100629,\"image\":{\"image_id_list\":"
                "[\"img-a\",\"img-b\"]},\"item_sku\":\"CS-42\",\"brand\":{\"brand_id\":0,"
                "\"original_brand_name\":\"NoBrand\"}}");
    cx_request_free(&r);
}

static void test_lookup_and_status_golden(void **state)
{
    (void)state;
    cx_listing l = listing();
    l.item_id = "800123";
    cx_input in = input();
    in.listing = &l;
    cx_request r;
    char url[512];
    build_ok(CX_OP_GET_ITEM_BY_SKU, &in, &r);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, shop_url("/api/v2/product/search_item", url, sizeof url,
                                        "&offset=0&page_size=50&item_sku=CS-42"));
    assert_null(r.body);
    cx_request_free(&r);
    build_ok(CX_OP_GET_STATUS, &in, &r);
    assert_string_equal(r.url, shop_url("/api/v2/product/get_item_base_info", url, sizeof url,
                                        "&item_id_list=800123"));
    cx_request_free(&r);
}

static void test_build_errors_before_any_call(void **state)
{
    (void)state;
    cs_error err;
    cx_request r;
    cx_listing l = listing();
    l.category = NULL; /* product without a mapping */
    cx_input in = input();
    in.listing = &l;
    cs_error_clear(&err);
    cx_request_init(&r);
    assert_int_equal(cx_shopee.build(CX_OP_CREATE_ITEM, &in, &r, &err), -1);
    assert_int_equal(err.code, CS_E_VALIDATION);
    assert_string_equal(err.fields[0].field, "category");
    assert_int_equal(err.fields[0].code, CS_F_CATEGORY_UNMAPPED);
    assert_string_equal(err.fields[0].detail, "condiment");
    assert_null(r.url);

    /* no partner key configured */
    cx_market m2 = mp;
    m2.secret = "";
    l = listing();
    in.mp = &m2;
    cs_error_clear(&err);
    assert_int_equal(cx_shopee.build(CX_OP_CREATE_ITEM, &in, &r, &err), -1);
    assert_int_equal(err.code, CS_E_MP_NOT_CONFIGURED);
    assert_non_null(strstr(err.detail, "shopee.partner_key"));

    /* no logistics channel configured */
    m2 = mp;
    m2.logistic_id = "";
    cs_error_clear(&err);
    assert_int_equal(cx_shopee.build(CX_OP_CREATE_ITEM, &in, &r, &err), -1);
    assert_int_equal(err.code, CS_E_MP_NOT_CONFIGURED);
    cx_request_free(&r);

    /* no access token: reauthorise */
    cx_account none = {SHOP, NULL, NULL};
    in.mp = &mp;
    in.account = &none;
    cs_error_clear(&err);
    assert_int_equal(cx_shopee.build(CX_OP_CREATE_ITEM, &in, &r, &err), -1);
    assert_int_equal(err.code, CS_E_MP_REAUTHORIZE);

    /* not an HTTP operation */
    cs_error_clear(&err);
    assert_int_equal(cx_shopee.build(CX_OP_LINK_CHECK, &in, &r, &err), -1);
    cx_request_free(&r);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static cx_outcome parse(cx_op op, long status, const char *body, const char *retry_after)
{
    cx_listing l = listing();
    l.item_id = "800123";
    cx_input in = input();
    in.listing = &l;
    cx_response resp = {CX_T_OK, status, body, body ? strlen(body) : 0, retry_after, NULL};
    cx_outcome o;
    cx_shopee.parse(op, &in, &resp, &o);
    return o;
}

static void test_parse_tokens(void **state)
{
    (void)state;
    cx_outcome o = parse(CX_OP_TOKEN_EXCHANGE, 200,
                         "{\"refresh_token\":\"r-new\",\"access_token\":\"a-new\",\"expire_in\":"
                         "14400,\"request_id\":\"rq1\",\"error\":\"\",\"message\":\"\"}",
                         NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.access_token, "a-new");
    assert_string_equal(o.refresh_token, "r-new");
    assert_int_equal(o.access_expires_at, 1655714431LL + 14400);
    assert_int_equal(o.refresh_expires_at, 1655714431LL + 30 * 86400);
    assert_string_equal(o.shop_id, SHOP);
    assert_string_equal(o.request_id, "rq1");
    cx_outcome_wipe(&o);
    assert_int_equal(o.access_token[0], 0);

    /* a used or expired code: authorise again (not a product problem) */
    o = parse(CX_OP_TOKEN_EXCHANGE, 403,
              "{\"error\":\"error_param\",\"message\":\"Invalid code\",\"request_id\":\"x\"}",
              NULL);
    assert_int_equal(o.result, CX_REAUTHORIZE);
    assert_int_equal(o.nreasons, 0);
    o = parse(
        CX_OP_TOKEN_REFRESH, 403,
        "{\"error\":\"error_auth\",\"message\":\"Invalid refresh_token\",\"request_id\":\"x\"}",
        NULL);
    assert_int_equal(o.result, CX_REAUTHORIZE);
    /* tokens missing from a 200: unknown, retry */
    o = parse(CX_OP_TOKEN_REFRESH, 200, "{\"error\":\"\",\"request_id\":\"x\"}", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);
}

static void test_parse_success_shapes(void **state)
{
    (void)state;
    cx_outcome o =
        parse(CX_OP_IMAGE_UPLOAD, 200,
              "{\"request_id\":\"a\",\"error\":\"\",\"message\":\"\",\"response\":{"
              "\"image_info\":{\"image_id\":\"sg-11134201-xyz\",\"image_url_list\":[]}}}",
              NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.image_id, "sg-11134201-xyz");

    o = parse(CX_OP_CREATE_ITEM, 200,
              "{\"error\":\"\",\"message\":\"\",\"warning\":\"\",\"request_id\":\"b\",\"response\":"
              "{\"item_id\":800123,\"item_status\":\"NORMAL\",\"item_name\":\"x\"}}",
              NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "800123");
    assert_int_equal(o.state, CX_ITEM_LIVE);
    o = parse(CX_OP_CREATE_ITEM, 200,
              "{\"error\":\"\",\"response\":{\"item_id\":800124,\"item_status\":\"REVIEWING\"}}",
              NULL);
    assert_int_equal(o.state, CX_ITEM_PENDING);
    assert_string_equal(o.item_id, "800124");

    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"error\":\"\",\"response\":{\"item_id_list\":[800123],\"total_count\":1}}", NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "800123");
    assert_int_equal(o.confirm, 1); /* search_item is a substring match: confirm first */
    assert_string_equal(o.candidates, "800123");
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"error\":\"\",\"response\":{\"item_id_list\":[800420,\"800042\"],"
              "\"total_count\":2}}",
              NULL);
    assert_string_equal(o.candidates, "800420,800042");
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"error\":\"\",\"response\":{\"item_id_list\":[],\"total_count\":0}}", NULL);
    assert_int_equal(o.result, CX_NOT_FOUND);
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200, "{\"error\":\"\",\"response\":{\"total_count\":0}}",
              NULL);
    assert_int_equal(o.result, CX_NOT_FOUND);

    static const struct {
        const char *status;
        cx_result res;
        cx_item_state st;
    } cases[] = {{"NORMAL", CX_OK, CX_ITEM_LIVE},
                 {"REVIEWING", CX_OK, CX_ITEM_PENDING},
                 {"BANNED", CX_REJECTED, CX_ITEM_REJECTED},
                 {"UNLIST", CX_OK, CX_ITEM_DELISTED},
                 {"SELLER_DELETE", CX_OK, CX_ITEM_DELISTED},
                 {"SHOPEE_DELETE", CX_OK, CX_ITEM_DELISTED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"error\":\"\",\"response\":{\"item_list\":[{\"item_id\":800123,"
                 "\"item_sku\":\"CS-42\",\"item_status\":\"%s\"}]}}",
                 cases[i].status);
        o = parse(CX_OP_GET_STATUS, 200, body, NULL);
        assert_int_equal(o.result, cases[i].res);
        assert_int_equal(o.state, cases[i].st);
        assert_string_equal(o.sku, "CS-42");
    }
    o = parse(CX_OP_GET_STATUS, 200, "{\"error\":\"\",\"response\":{\"item_list\":[]}}", NULL);
    assert_int_equal(o.result, CX_NOT_FOUND);
    o = parse(CX_OP_GET_STATUS, 200,
              "{\"error\":\"\",\"response\":{\"item_list\":[{\"item_id\":1,\"item_status\":"
              "\"WEIRD\"}]}}",
              NULL);
    assert_int_equal(o.result, CX_RETRY);
}

/* CS-42 must never adopt CS-420: candidates are confirmed by exact SKU */
static void test_lookup_confirmation(void **state)
{
    (void)state;
    cx_listing l = listing();
    l.item_id = "800420,800042";
    l.confirm_sku = 1;
    cx_input in = input();
    in.listing = &l;
    cx_request r;
    char url[512];
    build_ok(CX_OP_GET_STATUS, &in, &r);
    assert_string_equal(r.url, shop_url("/api/v2/product/get_item_base_info", url, sizeof url,
                                        "&item_id_list=800420%2C800042"));
    cx_request_free(&r);
    const char *both = "{\"error\":\"\",\"response\":{\"item_list\":[{\"item_id\":800420,"
                       "\"item_sku\":\"CS-420\",\"item_status\":\"NORMAL\"},{\"item_id\":800042,"
                       "\"item_sku\":\"CS-42\",\"item_status\":\"REVIEWING\"}]}}";
    cx_response resp = {CX_T_OK, 200, both, strlen(both), NULL, NULL};
    cx_outcome o;
    cx_shopee.parse(CX_OP_GET_STATUS, &in, &resp, &o);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "800042");
    assert_int_equal(o.state, CX_ITEM_PENDING);
    const char *other = "{\"error\":\"\",\"response\":{\"item_list\":[{\"item_id\":800420,"
                        "\"item_sku\":\"CS-420\",\"item_status\":\"NORMAL\"}]}}";
    resp.body = other;
    resp.body_len = strlen(other);
    l.item_id = "800420";
    cx_shopee.parse(CX_OP_GET_STATUS, &in, &resp, &o);
    assert_int_equal(o.result, CX_NOT_FOUND);
    /* a plain status poll of our own item is not second-guessed */
    l.confirm_sku = 0;
    cx_shopee.parse(CX_OP_GET_STATUS, &in, &resp, &o);
    assert_int_equal(o.result, CX_OK);
    /* ids must be digits and commas */
    l.item_id = "1;drop";
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(&r);
    assert_int_equal(cx_shopee.build(CX_OP_GET_STATUS, &in, &r, &err), -1);
}

static void test_parse_documented_errors(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        long http;
        cx_result res;
        const char *field;
    } cases[] = {
        {"error_auth", 403, CX_REAUTHORIZE, NULL},
        {"invalid_acceess_token", 403, CX_REAUTHORIZE, NULL},
        {"error_permission", 403, CX_REAUTHORIZE, NULL},
        {"error_sign", 403, CX_RETRY, NULL},
        {"error_server", 500, CX_RETRY, NULL},
        {"error_system_busy", 200, CX_RETRY, NULL},
        {"error_invalid_category", 200, CX_REJECTED, "category"},
        {"error_item_name_is_too_short", 200, CX_REJECTED, "name"},
        {"error_image_unavailable", 200, CX_REJECTED, "images"},
        {"error_invalid_logistic_info", 200, CX_REJECTED, "logistics"},
        {"error_less_required_attribute", 200, CX_REJECTED, "attributes"},
        {"error_item_not_found", 200, CX_NOT_FOUND, NULL},
        {"error_something_new", 400, CX_REJECTED, ""},
        {"error_something_new", 502, CX_RETRY, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"request_id\":\"r%zu\",\"error\":\"%s\",\"message\":\"something\","
                 "\"response\":{}}",
                 i, cases[i].code);
        cx_outcome o = parse(CX_OP_CREATE_ITEM, cases[i].http, body, NULL);
        assert_int_equal(o.result, cases[i].res);
        assert_string_equal(o.error_code, cases[i].code);
        if (cases[i].field) {
            assert_int_equal(o.nreasons, 1);
            assert_string_equal(o.reasons[0].field, cases[i].field);
            assert_string_equal(o.reasons[0].code, cases[i].code);
            assert_true(strlen(o.reasons[0].vi) > 20);
            assert_true(strlen(o.reasons[0].en) > 5);
        }
    }
    /* error_param names the field from the message, in Vietnamese */
    cx_outcome o = parse(CX_OP_CREATE_ITEM, 200,
                         "{\"error\":\"error_param\",\"message\":\"original_price should be "
                         "larger than 0\",\"request_id\":\"z\"}",
                         NULL);
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.reasons[0].field, "price_vnd");
    assert_non_null(strstr(o.reasons[0].vi, "Giá bán"));
    o = parse(CX_OP_CREATE_ITEM, 200,
              "{\"error\":\"error_item_name_is_too_short\",\"message\":\"Item name is too short\","
              "\"request_id\":\"z\"}",
              NULL);
    assert_non_null(strstr(o.reasons[0].vi, "Tên sản phẩm"));
    /* busy: retry not unknown; server error: unknown (may have been created) */
    o = parse(CX_OP_CREATE_ITEM, 200, "{\"error\":\"error_system_busy\",\"message\":\"busy\"}",
              NULL);
    assert_int_equal(o.unknown, 0);
    o = parse(CX_OP_CREATE_ITEM, 500, "{\"error\":\"error_server\",\"message\":\"oops\"}", NULL);
    assert_int_equal(o.unknown, 1);
    assert_true(o.retry_after >= 1);
    o = parse(CX_OP_CREATE_ITEM, 200, "{\"error\":\"error_sign\",\"message\":\"Wrong sign\"}",
              NULL);
    assert_int_equal(o.retry_after, 300);
}

static void test_parse_http_and_transport(void **state)
{
    (void)state;
    cx_outcome o = parse(CX_OP_CREATE_ITEM, 429, "", "7");
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.retry_after, 7);
    assert_int_equal(o.unknown, 0);
    o = parse(CX_OP_CREATE_ITEM, 429, "{\"error\":\"error_system_busy\",\"message\":\"too many\"}",
              "3");
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.retry_after, 3);
    /* HTTP-date form of Retry-After, 90 s after now */
    o = parse(CX_OP_CREATE_ITEM, 429, NULL, "Mon, 20 Jun 2022 08:42:01 GMT");
    assert_int_equal(o.retry_after, 90);
    o = parse(CX_OP_CREATE_ITEM, 503, "<html>Service Unavailable</html>", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);
    assert_string_equal(o.error_code, "http_503");
    o = parse(CX_OP_CREATE_ITEM, 200, "{\"error\":\"\",\"response\":{\"item_id\":", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);
    assert_string_equal(o.error_code, "malformed_response");
    o = parse(CX_OP_CREATE_ITEM, 200, "[1,2]", NULL);
    assert_string_equal(o.error_code, "malformed_response");
    o = parse(CX_OP_CREATE_ITEM, 200, "{\"error\":\"\",\"response\":{}}", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);

    cx_listing l = listing();
    cx_input in = input();
    in.listing = &l;
    cx_response t = {CX_T_TIMEOUT, 0, NULL, 0, NULL, NULL};
    cx_shopee.parse(CX_OP_CREATE_ITEM, &in, &t, &o);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);
    assert_string_equal(o.error_code, "timeout");
    t.transport = CX_T_CONNECT;
    cx_shopee.parse(CX_OP_CREATE_ITEM, &in, &t, &o);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 0);
    t.transport = CX_T_OTHER;
    cx_shopee.parse(CX_OP_CREATE_ITEM, &in, &t, &o);
    assert_int_equal(o.unknown, 1);
}

static void test_push(void **state)
{
    (void)state;
    const char *body = "{\"shop_id\":14701711,\"code\":6,\"timestamp\":1655714431,\"data\":{"
                       "\"item_id\":800123,\"item_status\":\"BANNED\"}}";
    char mac[65];
    tm_shopee_push_auth("partner-key", mp.push_url, body, mac);
    cx_input in = input();
    in.push_body = body;
    in.push_len = strlen(body);
    in.push_authorization = mac;
    cx_outcome o;
    cx_shopee.verify_push(&in, &o);
    assert_int_equal(o.result, CX_OK);
    assert_int_equal(o.push_code, 6);
    assert_string_equal(o.shop_id, SHOP);
    assert_string_equal(o.item_id, "800123");
    assert_int_equal(o.state, CX_ITEM_REJECTED);
    in.push_len--; /* tampered */
    cx_shopee.verify_push(&in, &o);
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.error_code, "push_signature_invalid");
}

static void test_oom_every_allocation(void **state)
{
    (void)state;
    /* Fail the 1st, 2nd, … allocation of a create build: a clean -1 every time, never a crash
     * or a half-built request left behind (ASan/valgrind catch leaks). */
    cx_listing l = listing();
    cx_input in = input();
    in.listing = &l;
    cx_request ref;
    build_ok(CX_OP_CREATE_ITEM, &in, &ref);
    int clean = 0;
    for (unsigned long n = 1; n < 200 && !clean; n++) {
        cs_error err;
        cs_error_clear(&err);
        cx_request r;
        cx_request_init(&r);
        cs_mem_fail_at(n);
        int rc = cx_shopee.build(CX_OP_CREATE_ITEM, &in, &r, &err);
        unsigned long used = cs_mem_count();
        cs_mem_fail_at(0);
        clean = used < n;
        if (clean) { /* the failure never reached: the request a plain build makes */
            assert_int_equal(rc, 0);
            assert_string_equal(r.url, ref.url);
            assert_int_equal(r.body_len, ref.body_len);
            if (ref.body_len) assert_memory_equal(r.body, ref.body, ref.body_len);
        } else {
            assert_int_equal(err.code, CS_E_NOMEM);
        }
        cx_request_free(&r);
    }
    assert_true(clean);
    cx_request_free(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authorize_link),
        cmocka_unit_test(test_token_exchange_and_refresh),
        cmocka_unit_test(test_image_upload_multipart),
        cmocka_unit_test(test_create_item_golden),
        cmocka_unit_test(test_update_item_golden),
        cmocka_unit_test(test_lookup_and_status_golden),
        cmocka_unit_test(test_build_errors_before_any_call),
        cmocka_unit_test(test_parse_tokens),
        cmocka_unit_test(test_parse_success_shapes),
        cmocka_unit_test(test_lookup_confirmation),
        cmocka_unit_test(test_parse_documented_errors),
        cmocka_unit_test(test_parse_http_and_transport),
        cmocka_unit_test(test_push),
        cmocka_unit_test(test_oom_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
