/* tests/unit/test_cx_sign: marketplace signatures against the official vectors in
 * MARKETPLACES.md (Lazada and TikTok reproduce exactly; Shopee's key is unpublished, so its
 * base string is checked and the HMAC is checked against RFC 4231). No network, no database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "connectors/sign.h"
#include "core/mem.h"

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    /* RFC 4231 test case 2. */
    char out[65];
    const char *msg = "what do ya want for nothing?";
    cx_hmac_sha256_hex("Jefe", 4, msg, strlen(msg), 0, out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    cx_hmac_sha256_hex("Jefe", 4, msg, strlen(msg), 1, out);
    assert_string_equal(out, "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
}

static void test_shopee_base_string_official(void **state)
{
    (void)state;
    char base[256];
    assert_int_equal(cx_shopee_base_string(2001887, "/api/v2/shop/get_shop_info", 1655714431,
                                           "59777174636562737266615546704c6d", 14701711, base,
                                           sizeof base),
                     0);
    assert_string_equal(
        base,
        "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711");
}

static void test_shopee_public_base_string(void **state)
{
    (void)state;
    char base[256];
    assert_int_equal(cx_shopee_base_string(2001887, "/api/v2/shop/auth_partner", 1655714431, NULL,
                                           0, base, sizeof base),
                     0);
    assert_string_equal(base, "2001887/api/v2/shop/auth_partner1655714431");
    /* too small: -1 and an empty string, never a truncated base */
    char tiny[10];
    assert_int_equal(cx_shopee_base_string(2001887, "/api/v2/shop/auth_partner", 1655714431, NULL,
                                           0, tiny, sizeof tiny),
                     -1);
    assert_string_equal(tiny, "");
}

static void test_shopee_sign_is_hmac_of_base(void **state)
{
    (void)state;
    char sign[65], expect[65];
    const char *base =
        "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711";
    cx_shopee_sign("partner-key-xyz", 2001887, "/api/v2/shop/get_shop_info", 1655714431,
                   "59777174636562737266615546704c6d", 14701711, sign);
    cx_hmac_sha256_hex("partner-key-xyz", 15, base, strlen(base), 0, expect);
    assert_string_equal(sign, expect);
    assert_int_equal(strlen(sign), 64);
    /* public and shop signatures differ */
    char pub[65];
    cx_shopee_sign("partner-key-xyz", 2001887, "/api/v2/shop/get_shop_info", 1655714431, NULL, 0,
                   pub);
    assert_string_not_equal(pub, sign);
}

static void test_lazada_official_vector(void **state)
{
    (void)state;
    /* deliberately unsorted, and a "sign" that must be ignored */
    cx_param p[] = {{"timestamp", "1517820392000"}, {"app_key", "123456"},
                    {"sign", "SHOULD-BE-IGNORED"},  {"sign_method", "sha256"},
                    {"order_id", "1234"},           {"access_token", "test"}};
    char out[65];
    assert_int_equal(cx_lazada_sign("helloworld", "/order/get", p, 6, out), 0);
    assert_string_equal(out, "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A");
    /* the documented string to sign gives the same MAC */
    const char *s =
        "/order/"
        "getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000";
    char direct[65];
    cx_hmac_sha256_hex("helloworld", 10, s, strlen(s), 1, direct);
    assert_string_equal(out, direct);
}

static void test_lazada_sort_is_byte_order(void **state)
{
    (void)state;
    /* ASCII order puts "Z" before "a" and "a" before "a_b" */
    cx_param p[] = {{"a_b", "1"}, {"a", "2"}, {"Z", "3"}};
    char out[65], expect[65];
    const char *s = "/xZ3a2a_b1";
    assert_int_equal(cx_lazada_sign("k", "/x", p, 3, out), 0);
    cx_hmac_sha256_hex("k", 1, s, strlen(s), 1, expect);
    assert_string_equal(out, expect);
}

static void test_tiktok_official_vector(void **state)
{
    (void)state;
    cx_param p[] = {{"timestamp", "1623812664"},
                    {"access_token", "ignored-token"},
                    {"sign", "ignored"},
                    {"app_key", "29a39d"}};
    char out[65];
    assert_int_equal(
        cx_tiktok_sign("e59af819cc", "/authorization/202309/shops", p, 4, NULL, 0, out), 0);
    assert_string_equal(out, "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8");
}

static void test_tiktok_body_appended(void **state)
{
    (void)state;
    cx_param p[] = {{"app_key", "k1"}, {"timestamp", "5"}};
    const char *body = "{\"a\":1}";
    char out[65], expect[65], multipart[65];
    const char *s = "sec/p/xapp_keyk1timestamp5{\"a\":1}sec";
    assert_int_equal(cx_tiktok_sign("sec", "/p/x", p, 2, body, strlen(body), out), 0);
    cx_hmac_sha256_hex("sec", 3, s, strlen(s), 0, expect);
    assert_string_equal(out, expect);
    /* multipart: body not signed */
    assert_int_equal(cx_tiktok_sign("sec", "/p/x", p, 2, NULL, 0, multipart), 0);
    const char *s2 = "sec/p/xapp_keyk1timestamp5sec";
    cx_hmac_sha256_hex("sec", 3, s2, strlen(s2), 0, expect);
    assert_string_equal(multipart, expect);
}

static void test_shopee_push(void **state)
{
    (void)state;
    const char *url = "https://choso.example/v1/webhooks/shopee";
    const char *body = "{\"code\":1,\"shop_id\":14701711}";
    char msg[256], mac[65];
    snprintf(msg, sizeof msg, "%s|%s", url, body);
    cx_hmac_sha256_hex("pk", 2, msg, strlen(msg), 0, mac);
    assert_int_equal(cx_shopee_push_verify("pk", url, body, strlen(body), mac), 1);
    /* upper-case hex is accepted */
    char upper[65];
    cx_hmac_sha256_hex("pk", 2, msg, strlen(msg), 1, upper);
    assert_int_equal(cx_shopee_push_verify("pk", url, body, strlen(body), upper), 1);
    /* tampered body, wrong key, wrong url, truncated, missing */
    assert_int_equal(cx_shopee_push_verify("pk", url, body, strlen(body) - 1, mac), 0);
    assert_int_equal(cx_shopee_push_verify("pK", url, body, strlen(body), mac), 0);
    assert_int_equal(cx_shopee_push_verify("pk", "https://other/", body, strlen(body), mac), 0);
    mac[63] = '\0';
    assert_int_equal(cx_shopee_push_verify("pk", url, body, strlen(body), mac), 0);
    assert_int_equal(cx_shopee_push_verify("pk", url, body, strlen(body), NULL), 0);
}

static void test_lazada_push(void **state)
{
    (void)state;
    const char *body = "{\"seller_id\":\"1\",\"message_type\":0}";
    char msg[256], mac[65];
    snprintf(msg, sizeof msg, "%s%s", "appkey1", body);
    cx_hmac_sha256_hex("secret", 6, msg, strlen(msg), 0, mac);
    assert_int_equal(cx_lazada_push_verify("secret", "appkey1", body, strlen(body), mac), 1);
    assert_int_equal(cx_lazada_push_verify("secret", "appkey2", body, strlen(body), mac), 0);
    assert_int_equal(cx_lazada_push_verify("secreT", "appkey1", body, strlen(body), mac), 0);
    mac[0] = mac[0] == 'a' ? 'b' : 'a';
    assert_int_equal(cx_lazada_push_verify("secret", "appkey1", body, strlen(body), mac), 0);
}

static void test_oom_paths(void **state)
{
    (void)state;
    cx_param p[] = {{"app_key", "123456"}};
    char out[65];
    cs_mem_fail_at(1);
    assert_int_equal(cx_lazada_sign("s", "/x", p, 1, out), -1);
    cs_mem_fail_at(2); /* the string succeeds, the sort vector fails */
    assert_int_equal(cx_tiktok_sign("s", "/x", p, 1, NULL, 0, out), -1);
    cs_mem_fail_at(1);
    assert_int_equal(cx_lazada_push_verify("s", "k", "b", 1, "00"), 0);
    cs_mem_fail_at(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_shopee_base_string_official),
        cmocka_unit_test(test_shopee_public_base_string),
        cmocka_unit_test(test_shopee_sign_is_hmac_of_base),
        cmocka_unit_test(test_lazada_official_vector),
        cmocka_unit_test(test_lazada_sort_is_byte_order),
        cmocka_unit_test(test_tiktok_official_vector),
        cmocka_unit_test(test_tiktok_body_appended),
        cmocka_unit_test(test_shopee_push),
        cmocka_unit_test(test_lazada_push),
        cmocka_unit_test(test_oom_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
