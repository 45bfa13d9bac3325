/* tests/unit/test_cx_tiktok: the TikTok Shop connector byte for byte — 202309 signature with the
 * body appended, x-tts-access-token header, token endpoints, 429 / 36009002 throttling and the
 * documented answers. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "connectors/connector.h"
#include "connectors/registry.h"
#include "connectors/sign.h"
#include "core/mem.h"
#include "tests/support/tmarket.h"

#define NOW_MS 1623812664000LL
#define TS "1623812664"
#define SECRET "e59af819cc"

static const cx_market mp = {
    .code = "tiktok",
    .base_url = "https://open-api.tiktok.test",
    .auth_url = "https://auth.tiktok.test",
    .app_id = "29a39d",
    .secret = SECRET,
    .redirect_url = "https://choso.test/v1/oauth/tiktok/callback",
    .push_url = "",
    .public_domain = "tiktok.com",
    .logistic_id = "",
    .warehouse_id = "7068517275539719942",
};
static const cx_account acct = {"GCP_cipher1", "ROW_tok", "ROW_ref"};
static const cx_category cat = {"600001", "Gia vị",
                                "{\"product_attributes\":[{\"id\":\"100107\",\"values\":[{"
                                "\"name\":\"Việt Nam\"}]}]}"};
static const char *const imgs[] = {"tos-maliva-i-o3syd03w52-us/abc"};

static cx_listing listing(void)
{
    cx_listing l = {.listing_id = 9,
                    .name = "Chè lam Phủ Quảng",
                    .description = "Bánh truyền thống",
                    .price_vnd = 35000,
                    .stock = 50,
                    .weight_g = 250,
                    .length_mm = 150,
                    .width_mm = 100,
                    .height_mm = 40,
                    .category_code = "cake_confectionery",
                    .category = &cat,
                    .image_ids = imgs,
                    .nimages = 1};
    return l;
}
static cx_input input(void)
{
    cx_input in = {.mp = &mp, .account = &acct, .now_ms = NOW_MS};
    return in;
}
static void build_ok(cx_op op, const cx_input *in, cx_request *r)
{
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(r);
    int rc = cx_tiktok.build(op, in, r, &err);
    if (rc) fprintf(stderr, "build failed: %s %s\n", cs_code_name(err.code), err.detail);
    assert_int_equal(rc, 0);
}
static void wrapped_mac(const char *s, char out[65])
{
    tm_tiktok_mac(SECRET, s, out);
}

static void test_get_shops_matches_official_vector(void **state)
{
    (void)state;
    cx_input in = input();
    cx_request r;
    build_ok(CX_OP_GET_SHOP, &in, &r);
    /* the published example: same app_key, timestamp and path */
    assert_string_equal(r.url, "https://open-api.tiktok.test/authorization/202309/shops?app_key="
                               "29a39d&timestamp=1623812664&sign=b596b73e0cc6de07ac26f036364178ab"
                               "16b0a907af13d43f0a0cd2345f582dc8");
    assert_string_equal(r.method, "GET");
    assert_string_equal(cx_request_header(&r, "x-tts-access-token"), "ROW_tok");
    cx_request_free(&r);
}

static void test_auth_and_tokens(void **state)
{
    (void)state;
    cx_input in = input();
    in.oauth_state = "s1";
    cx_request r;
    build_ok(CX_OP_AUTHORIZE_LINK, &in, &r);
    assert_string_equal(r.url, "https://auth.tiktok.test/oauth/authorize?app_key=29a39d&state=s1");
    cx_request_free(&r);
    in.auth_code = "TTP_code";
    build_ok(CX_OP_TOKEN_EXCHANGE, &in, &r);
    assert_string_equal(r.url, "https://auth.tiktok.test/api/v2/token/get?app_key=29a39d&app_"
                               "secret=e59af819cc&auth_code=TTP_code&grant_type=authorized_code");
    assert_null(cx_request_header(&r, "x-tts-access-token"));
    cx_request_free(&r);
    build_ok(CX_OP_TOKEN_REFRESH, &in, &r);
    assert_string_equal(r.url, "https://auth.tiktok.test/api/v2/token/refresh?app_key=29a39d&app_"
                               "secret=e59af819cc&refresh_token=ROW_ref&grant_type=refresh_token");
    cx_request_free(&r);
}

static const char *product_json =
    "{\"title\":\"Chè lam Phủ Quảng\",\"description\":\"Bánh truyền thống\",\"category_id\":"
    "\"600001\",\"main_images\":[{\"uri\":\"tos-maliva-i-o3syd03w52-us/abc\"}],\"skus\":[{"
    "\"seller_sku\":\"CS-9\",\"price\":{\"amount\":\"35000\",\"currency\":\"VND\"},\"inventory\":"
    "[{\"warehouse_id\":\"7068517275539719942\",\"quantity\":50}]}],\"package_weight\":{\"value\":"
    "\"0.250\",\"unit\":\"KILOGRAM\"},\"package_dimensions\":{\"length\":\"15\",\"width\":\"10\","
    "\"height\":\"4\",\"unit\":\"CENTIMETER\"},\"product_attributes\":[{\"id\":\"100107\","
    "\"values\":[{\"name\":\"Việt Nam\"}]}]}";

static void test_create_update_golden(void **state)
{
    (void)state;
    cx_listing l = listing();
    cx_input in = input();
    in.listing = &l;
    cx_request r;
    char s[4096], sign[65], url[512];
    build_ok(CX_OP_CREATE_ITEM, &in, &r);
    snprintf(s, sizeof s,
             "/product/202309/productsapp_key29a39dshop_cipherGCP_cipher1timestamp" TS "%s",
             product_json);
    wrapped_mac(s, sign);
    snprintf(url, sizeof url,
             "https://open-api.tiktok.test/product/202309/products?app_key=29a39d&shop_cipher="
             "GCP_cipher1&timestamp=" TS "&sign=%s",
             sign);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, url);
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.body, product_json);
    assert_string_equal(cx_request_header(&r, "x-tts-access-token"), "ROW_tok");
    cx_request_free(&r);

    l.item_id = "1729592969712207008";
    build_ok(CX_OP_UPDATE_ITEM, &in, &r);
    snprintf(s, sizeof s,
             "/product/202309/products/1729592969712207008app_key29a39dshop_cipherGCP_cipher1"
             "timestamp" TS "%s",
             product_json);
    wrapped_mac(s, sign);
    snprintf(url, sizeof url,
             "https://open-api.tiktok.test/product/202309/products/1729592969712207008?app_key="
             "29a39d&shop_cipher=GCP_cipher1&timestamp=" TS "&sign=%s",
             sign);
    assert_string_equal(r.method, "PUT");
    assert_string_equal(r.url, url);
    cx_request_free(&r);
}

static void test_search_status_upload_golden(void **state)
{
    (void)state;
    cx_listing l = listing();
    l.item_id = "1729";
    cx_input in = input();
    in.listing = &l;
    cx_request r;
    char sign[65], url[512];
    build_ok(CX_OP_GET_ITEM_BY_SKU, &in, &r);
    wrapped_mac("/product/202309/products/searchapp_key29a39dpage_size10shop_cipherGCP_cipher1"
                "timestamp" TS "{\"seller_skus\":[\"CS-9\"]}",
                sign);
    snprintf(url, sizeof url,
             "https://open-api.tiktok.test/product/202309/products/search?app_key=29a39d&shop_"
             "cipher=GCP_cipher1&timestamp=" TS "&page_size=10&sign=%s",
             sign);
    assert_string_equal(r.url, url);
    assert_string_equal(r.body, "{\"seller_skus\":[\"CS-9\"]}");
    cx_request_free(&r);

    build_ok(CX_OP_GET_STATUS, &in, &r);
    wrapped_mac("/product/202309/products/1729app_key29a39dshop_cipherGCP_cipher1timestamp" TS,
                sign);
    snprintf(url, sizeof url,
             "https://open-api.tiktok.test/product/202309/products/1729?app_key=29a39d&shop_"
             "cipher=GCP_cipher1&timestamp=" TS "&sign=%s",
             sign);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, url);
    cx_request_free(&r);

    static const unsigned char png[] = {0x89, 'P', 'N', 'G'};
    cx_image im = {png, 4, "x.png", "image/png", NULL};
    in.image = &im;
    build_ok(CX_OP_IMAGE_UPLOAD, &in, &r);
    /* multipart: the body is not signed */
    wrapped_mac("/product/202309/images/uploadapp_key29a39dtimestamp" TS, sign);
    snprintf(
        url, sizeof url,
        "https://open-api.tiktok.test/product/202309/images/upload?app_key=29a39d&timestamp=" TS
        "&sign=%s",
        sign);
    assert_string_equal(r.url, url);
    assert_int_equal(r.nparts, 2);
    assert_string_equal(r.parts[0].name, "data");
    assert_string_equal(r.parts[0].filename, "x.png");
    assert_string_equal(r.parts[1].name, "use_case");
    assert_null(r.parts[1].filename);
    assert_memory_equal(r.parts[1].data, "MAIN_IMAGE", 10);
    cx_request_free(&r);
}

static cx_outcome parse(cx_op op, long status, const char *body, const char *ra)
{
    cx_listing l = listing();
    l.item_id = "1729";
    cx_input in = input();
    in.listing = &l;
    cx_response resp = {CX_T_OK, status, body, body ? strlen(body) : 0, ra, NULL};
    cx_outcome o;
    cx_tiktok.parse(op, &in, &resp, &o);
    return o;
}

static void test_parse_answers(void **state)
{
    (void)state;
    cx_outcome o = parse(CX_OP_TOKEN_EXCHANGE, 200,
                         "{\"code\":0,\"message\":\"success\",\"data\":{\"access_token\":\"ROW_"
                         "a\",\"access_token_expire_in\":1624417464,\"refresh_token\":\"ROW_r\","
                         "\"refresh_token_expire_in\":1631588664,\"open_id\":\"o\",\"seller_name\":"
                         "\"Cô Lan\",\"seller_base_region\":\"VN\",\"user_type\":0},\"request_id\":"
                         "\"2021\"}",
                         NULL);
    assert_int_equal(o.result, CX_OK);
    assert_int_equal(o.access_expires_at, 1624417464LL);
    assert_int_equal(o.refresh_expires_at, 1631588664LL);
    assert_string_equal(o.shop_name, "Cô Lan");
    o = parse(CX_OP_GET_SHOP, 200,
              "{\"code\":0,\"data\":{\"shops\":[{\"cipher\":\"GCP_x\",\"code\":\"VNLC\",\"id\":"
              "\"7\",\"name\":\"Shop\",\"region\":\"VN\",\"seller_type\":\"LOCAL\"}]}}",
              NULL);
    assert_string_equal(o.shop_id, "GCP_x");
    assert_string_equal(o.shop_ref, "7"); /* the id TikTok's webhooks name the shop by */
    o = parse(CX_OP_IMAGE_UPLOAD, 200,
              "{\"code\":0,\"data\":{\"uri\":\"tos-x/abc\",\"url\":\"https://p16/x\",\"width\":"
              "800,\"height\":800,\"use_case\":\"MAIN_IMAGE\"}}",
              NULL);
    assert_string_equal(o.image_id, "tos-x/abc");
    o = parse(CX_OP_CREATE_ITEM, 200,
              "{\"code\":0,\"data\":{\"product_id\":\"1729\",\"skus\":[{\"id\":\"1\",\"seller_"
              "sku\":\"CS-9\"}]},\"message\":\"Success\",\"request_id\":\"q\"}",
              NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "1729");
    assert_int_equal(o.state, CX_ITEM_PENDING);
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"code\":0,\"data\":{\"products\":[{\"id\":\"1729\",\"status\":\"ACTIVATE\","
              "\"skus\":[{\"seller_sku\":\"CS-9\"}]}],\"total_count\":1}}",
              NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "1729");
    assert_string_equal(o.sku, "CS-9");
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"code\":0,\"data\":{\"products\":[{\"id\":\"1\",\"skus\":[{\"seller_sku\":"
              "\"CS-90\"}]},{\"id\":\"2\",\"status\":\"PENDING\",\"skus\":[{\"seller_sku\":"
              "\"CS-9\"}]}],\"total_count\":2}}",
              NULL);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "2");
    assert_int_equal(o.state, CX_ITEM_PENDING);
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"code\":0,\"data\":{\"products\":[{\"id\":\"1\",\"skus\":[{\"seller_sku\":"
              "\"CS-90\"}]}],\"total_count\":1}}",
              NULL);
    assert_int_equal(o.result, CX_NOT_FOUND);
    o = parse(CX_OP_GET_ITEM_BY_SKU, 200,
              "{\"code\":0,\"data\":{\"products\":[],\"total_count\":0}}", NULL);
    assert_int_equal(o.result, CX_NOT_FOUND);
    o = parse(CX_OP_GET_STATUS, 200,
              "{\"code\":0,\"data\":{\"id\":\"1729\",\"status\":\"ACTIVATE\"}}", NULL);
    assert_int_equal(o.state, CX_ITEM_LIVE);
    o = parse(CX_OP_GET_STATUS, 200,
              "{\"code\":0,\"data\":{\"id\":\"1729\",\"status\":\"FAILED\",\"audit_failed_"
              "reasons\":[{\"position\":\"product title\",\"reasons\":[\"Contains a prohibited "
              "word\"],\"suggestions\":[\"Remove it\"]}]}}",
              NULL);
    assert_int_equal(o.result, CX_REJECTED);
    assert_int_equal(o.state, CX_ITEM_REJECTED);
    assert_string_equal(o.reasons[0].field, "name");
    assert_non_null(strstr(o.reasons[0].vi, "Tên sản phẩm"));
    assert_non_null(strstr(o.reasons[0].vi, "Remove it"));
    o = parse(CX_OP_GET_STATUS, 200,
              "{\"code\":0,\"data\":{\"id\":\"1729\",\"status\":\"PLATFORM_DEACTIVATED\"}}", NULL);
    /* taken down by TikTok: the seller must act (a live listing becomes suspended) */
    assert_int_equal(o.result, CX_OK);
    assert_int_equal(o.state, CX_ITEM_REJECTED);
    assert_string_equal(o.reasons[0].code, "PLATFORM_DEACTIVATED");
    assert_non_null(strstr(o.reasons[0].vi, "TikTok Shop đã gỡ"));
    o = parse(CX_OP_GET_STATUS, 200,
              "{\"code\":0,\"data\":{\"id\":\"1729\",\"status\":\"SELLER_DEACTIVATED\"}}", NULL);
    assert_int_equal(o.state, CX_ITEM_DELISTED);
}

/* A webhook as TikTok sends it: Authorization = hex HMAC-SHA256(app_secret, app_key + body). */
static cx_outcome push(const char *body, const char *auth_override)
{
    char sig[65];
    size_t kl = strlen(mp.app_id), bl = strlen(body);
    char msg[2048];
    assert_true(kl + bl < sizeof msg);
    memcpy(msg, mp.app_id, kl);
    memcpy(msg + kl, body, bl);
    cx_hmac_sha256_hex(SECRET, strlen(SECRET), msg, kl + bl, 0, sig);
    cx_input in = input();
    in.push_body = body;
    in.push_len = bl;
    in.push_authorization = auth_override ? (*auth_override ? auth_override : NULL) : sig;
    cx_outcome o;
    cx_tiktok.verify_push(&in, &o);
    return o;
}

static void test_verify_push(void **state)
{
    (void)state;
    const char *order = "{\"type\":1,\"tts_notification_id\":\"73\",\"shop_id\":\"7494\","
                        "\"timestamp\":1644412885,\"data\":{\"order_id\":\"5761\","
                        "\"order_status\":\"AWAITING_SHIPMENT\",\"update_time\":1644412885}}";
    cx_outcome o = push(order, NULL);
    assert_int_equal(o.result, CX_OK);
    assert_int_equal(o.push_code, 1);
    assert_string_equal(o.shop_id, "7494");
    assert_string_equal(o.item_id, ""); /* not about a product */
    assert_int_equal(o.state, CX_ITEM_UNKNOWN);
    /* forged (one digit), someone else's key, missing: refused before the body is read */
    char forged[65];
    cx_hmac_sha256_hex("other", 5, order, strlen(order), 0, forged);
    o = push(order, forged);
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.reasons[0].code, "push_signature_invalid");
    assert_int_equal(o.push_code, 0);
    o = push(order, "");
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.reasons[0].code, "push_signature_invalid");
    static const struct {
        const char *status;
        cx_item_state state;
        int reasons;
    } cases[] = {{"PLATFORM_DEACTIVATED", CX_ITEM_REJECTED, 1},
                 {"FREEZE", CX_ITEM_REJECTED, 1},
                 {"SELLER_DEACTIVATED", CX_ITEM_DELISTED, 0},
                 {"DELETED", CX_ITEM_DELISTED, 0},
                 {"ACTIVATE", CX_ITEM_LIVE, 0},
                 {"SOMETHING_NEW", CX_ITEM_UNKNOWN, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[400];
        snprintf(body, sizeof body,
                 "{\"type\":5,\"tts_notification_id\":\"74\",\"shop_id\":\"7494\","
                 "\"timestamp\":1644412885,\"data\":{\"product_id\":\"1729592969712207008\","
                 "\"status\":\"%s\",\"suspended_reason\":\"Prohibited\",\"update_time\":"
                 "1644412885}}",
                 cases[i].status);
        o = push(body, NULL);
        assert_int_equal(o.result, CX_OK);
        assert_int_equal(o.push_code, 5);
        assert_string_equal(o.item_id, "1729592969712207008");
        assert_int_equal(o.state, cases[i].state);
        assert_int_equal(o.nreasons, (size_t)cases[i].reasons);
        if (cases[i].reasons) assert_non_null(strstr(o.reasons[0].vi, "Prohibited"));
    }
    /* signed but not JSON: refused as malformed */
    o = push("not json", NULL);
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.reasons[0].code, "push_malformed");
}

static void test_parse_errors(void **state)
{
    (void)state;
    cx_outcome o =
        parse(CX_OP_CREATE_ITEM, 429, "{\"code\":36009002,\"message\":\"too many\"}", "2");
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.retry_after, 2);
    assert_string_equal(o.error_code, "36009002");
    o = parse(CX_OP_CREATE_ITEM, 200, "{\"code\":36009002,\"message\":\"too many\"}", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 0);
    o = parse(CX_OP_CREATE_ITEM, 429, "", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_string_equal(o.error_code, "http_429");
    o = parse(CX_OP_CREATE_ITEM, 401, "{\"code\":105002,\"message\":\"access token expired\"}",
              NULL);
    assert_int_equal(o.result, CX_REAUTHORIZE);
    o = parse(CX_OP_CREATE_ITEM, 200,
              "{\"code\":12052004,\"message\":\"The product weight is invalid\"}", NULL);
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.reasons[0].field, "weight_g");
    o = parse(CX_OP_CREATE_ITEM, 500, "{\"code\":36009003,\"message\":\"internal\"}", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 1);
    o = parse(CX_OP_TOKEN_REFRESH, 200, "{\"code\":36004004,\"message\":\"invalid refresh\"}",
              NULL);
    assert_int_equal(o.result, CX_REAUTHORIZE);
    o = parse(CX_OP_CREATE_ITEM, 200, "not json", NULL);
    assert_string_equal(o.error_code, "malformed_response");
    assert_int_equal(o.unknown, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_shops_matches_official_vector),
        cmocka_unit_test(test_auth_and_tokens),
        cmocka_unit_test(test_create_update_golden),
        cmocka_unit_test(test_search_status_upload_golden),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_verify_push),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
