/* tests/unit/test_cx_orders: the order operations of the Shopee, Lazada and TikTok connectors
 * byte for byte — each request (method, URL with query and sign, body) against expected strings
 * computed from the documented signing recipes, and each answer parsed into lines: states, our
 * SKU, quantity and amount in đồng; bad input (unknown status, no SKU, a price that is not a
 * number, a malformed page) skipped or retried, never a line; buyer fields never read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "connectors/orders.h"
#include "core/mem.h"
#include "tests/support/tmarket.h"

#define NOW_MS 1700000000000LL
#define FROM 1699000000LL
#define TO 1699500000LL

static const cx_market shopee = {.code = "shopee",
                                 .base_url = "https://partner.test",
                                 .app_id = "2001887",
                                 .secret = "partner-key"};
static const cx_market lazada = {.code = "lazada",
                                 .base_url = "https://api.lazada.test/rest",
                                 .auth_url = "https://auth.lazada.test/rest",
                                 .app_id = "123456",
                                 .secret = "helloworld"};
static const cx_market tiktok = {.code = "tiktok",
                                 .base_url = "https://open-api.tiktok.test",
                                 .app_id = "29a39d",
                                 .secret = "e59af819cc"};
static const cx_account acct = {"14701711", "tok", "ref"};

static cx_input input(const cx_market *mp)
{
    cx_input in = {.mp = mp, .account = &acct, .now_ms = NOW_MS};
    return in;
}

static void build_ok(const cx_order_ops *o, cx_orders_step st, const cx_input *in,
                     const cx_orders_query *q, cx_request *r)
{
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(r);
    assert_int_equal(o->build(st, in, q, r, &err), 0);
}

static void parse(const cx_order_ops *o, cx_orders_step st, const cx_input *in,
                  const cx_orders_query *q, long status, const char *body, cx_outcome *out,
                  cx_orders_page *p)
{
    cx_response resp = {CX_T_OK, status, body, body ? strlen(body) : 0, NULL, NULL};
    o->parse(st, in, q, &resp, out, p);
}

static void test_lookup_and_states(void **state)
{
    (void)state;
    assert_ptr_equal(cx_orders_for("shopee"), &cx_shopee_orders);
    assert_ptr_equal(cx_orders_for("lazada"), &cx_lazada_orders);
    assert_ptr_equal(cx_orders_for("tiktok"), &cx_tiktok_orders);
    assert_null(cx_orders_for("postmart"));
    assert_null(cx_orders_for(NULL));
    assert_string_equal(cx_order_state_name(CX_OS_DELIVERED), "delivered");
}

static void test_money_and_time(void **state)
{
    (void)state;
    json_t *v;
    v = json_string("45000");
    assert_int_equal(cx_orders_vnd(v), 45000);
    json_decref(v);
    v = json_real(45000.0);
    assert_int_equal(cx_orders_vnd(v), 45000);
    json_decref(v);
    v = json_real(45000.5);
    assert_int_equal(cx_orders_vnd(v), -1);
    json_decref(v);
    v = json_string("45,000");
    assert_int_equal(cx_orders_vnd(v), -1);
    json_decref(v);
    v = json_string("abc");
    assert_int_equal(cx_orders_vnd(v), -1);
    json_decref(v);
    v = json_integer(-5);
    assert_int_equal(cx_orders_vnd(v), -1);
    json_decref(v);
    assert_int_equal(cx_orders_vnd(NULL), -1);
    /* 2023-11-14 22:13:20 UTC = 1700000000 */
    assert_int_equal(cx_orders_time("2023-11-14T22:13:20Z"), 1700000000LL);
    assert_int_equal(cx_orders_time("2023-11-15T05:13:20+07:00"), 1700000000LL);
    assert_int_equal(cx_orders_time("2023-11-15 05:13:20 +0700"), 1700000000LL);
    assert_int_equal(cx_orders_time("2023-11-15 05:13:20"), -1);
    assert_int_equal(cx_orders_time("2023-13-15T05:13:20Z"), -1);
    assert_int_equal(cx_orders_time(NULL), -1);
    char iso[32];
    cx_orders_iso(1700000000LL, iso);
    assert_string_equal(iso, "2023-11-15T05:13:20+07:00");
}

/* ---- Shopee ---- */
static void test_shopee_list_golden(void **state)
{
    (void)state;
    cx_input in = input(&shopee);
    cx_orders_query q = {.from_s = FROM, .to_s = TO, .cursor = "c42"};
    cx_request r;
    build_ok(&cx_shopee_orders, CX_ORD_LIST, &in, &q, &r);
    char url[1024];
    tm_shopee_url(url, sizeof url, "https://partner.test", "/api/v2/order/get_order_list",
                  "partner-key", 2001887, NOW_MS / 1000, "tok", "14701711",
                  "&time_range_field=update_time&time_from=1699000000&time_to=1699500000"
                  "&page_size=100&cursor=c42&response_optional_fields=order_status");
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, url);
    assert_null(r.body);
    cx_request_free(&r);
    /* a window over 15 days is refused before any call */
    q.to_s = q.from_s + 15 * 86400 + 1;
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(&r);
    assert_int_equal(cx_shopee_orders.build(CX_ORD_LIST, &in, &q, &r, &err), -1);
    cx_request_free(&r);
    q.to_s = q.from_s + 15 * 86400;
    build_ok(&cx_shopee_orders, CX_ORD_LIST, &in, &q, &r);
    cx_request_free(&r);
}

static void test_shopee_detail_golden(void **state)
{
    (void)state;
    cx_input in = input(&shopee);
    const char *ids[] = {"2311A", "2311B"};
    cx_orders_query q = {.ids = ids, .nids = 2};
    cx_request r;
    build_ok(&cx_shopee_orders, CX_ORD_LINES, &in, &q, &r);
    char url[1024];
    tm_shopee_url(url, sizeof url, "https://partner.test", "/api/v2/order/get_order_detail",
                  "partner-key", 2001887, NOW_MS / 1000, "tok", "14701711",
                  "&order_sn_list=2311A%2C2311B&response_optional_fields=item_list");
    assert_string_equal(r.url, url);
    cx_request_free(&r);
    cs_error err;
    q.nids = 0;
    cx_request_init(&r);
    assert_int_equal(cx_shopee_orders.build(CX_ORD_LINES, &in, &q, &r, &err), -1);
    q.nids = 51;
    assert_int_equal(cx_shopee_orders.build(CX_ORD_LINES, &in, &q, &r, &err), -1);
    cx_request_free(&r);
}

static void test_shopee_parse(void **state)
{
    (void)state;
    cx_input in = input(&shopee);
    cx_outcome out;
    cx_orders_page p;
    parse(&cx_shopee_orders, CX_ORD_LIST, &in, NULL, 200,
          "{\"error\":\"\",\"message\":\"\",\"request_id\":\"r1\",\"response\":{\"more\":true,"
          "\"next_cursor\":\"20\",\"order_list\":[{\"order_sn\":\"A1\",\"order_status\":"
          "\"COMPLETED\"},{\"order_sn\":\"A2\"},{\"x\":1}]}}",
          &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_int_equal(p.nids, 2);
    assert_string_equal(p.ids[1], "A2");
    assert_int_equal(p.more, 1);
    assert_string_equal(p.next_cursor, "20");
    assert_int_equal(p.nbad, 1);
    cx_orders_page_free(&p);

    parse(&cx_shopee_orders, CX_ORD_LINES, &in, NULL, 200,
          "{\"error\":\"\",\"response\":{\"order_list\":[{\"order_sn\":\"A1\",\"order_status\":"
          "\"COMPLETED\",\"create_time\":1699000100,\"update_time\":1699000200,"
          "\"recipient_address\":{\"name\":\"Nguyễn Văn A\",\"phone\":\"0912345678\"},"
          "\"item_list\":[{\"item_id\":9001,\"item_sku\":\"CS-42\",\"model_id\":0,\"model_sku\":"
          "\"\",\"model_quantity_purchased\":2,\"model_discounted_price\":45000.0},"
          "{\"item_id\":9002,\"item_sku\":\"\",\"model_id\":7,\"model_sku\":\"OWN-1\","
          "\"model_quantity_purchased\":1,\"model_discounted_price\":\"12000\"},"
          "{\"item_id\":9003,\"item_sku\":\"CS-43\",\"model_quantity_purchased\":1,"
          "\"model_discounted_price\":\"free\"}]},"
          "{\"order_sn\":\"A2\",\"order_status\":\"LOST_IN_SPACE\",\"update_time\":1,"
          "\"item_list\":[]},"
          "{\"order_sn\":\"A3\",\"order_status\":\"CANCELLED\",\"update_time\":1699000300,"
          "\"item_list\":[{\"item_id\":9001,\"item_sku\":\"CS-42\",\"model_id\":0,"
          "\"model_quantity_purchased\":1,\"model_discounted_price\":45000}]}]}}",
          &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_int_equal(p.nlines, 3);
    assert_string_equal(p.lines[0].order_id, "A1");
    assert_string_equal(p.lines[0].line_id, "9001:0");
    assert_string_equal(p.lines[0].sku, "CS-42");
    assert_int_equal(p.lines[0].qty, 2);
    assert_int_equal(p.lines[0].amount_vnd, 90000);
    assert_int_equal(p.lines[0].state, CX_OS_DELIVERED);
    assert_int_equal(p.lines[0].updated_s, 1699000200);
    assert_string_equal(p.lines[1].sku, "OWN-1"); /* model SKU wins: not ours, kept aside later */
    assert_string_equal(p.lines[1].line_id, "9002:7");
    assert_int_equal(p.lines[2].state, CX_OS_CANCELLED);
    assert_int_equal(p.nbad, 2); /* the "free" price and the unknown status */
    /* nothing of the buyer is kept anywhere in a line */
    for (size_t i = 0; i < p.nlines; i++)
        assert_null(memmem(&p.lines[i], sizeof p.lines[i], "0912345678", 10));
    cx_orders_page_free(&p);

    /* errors: throttled → retry, token → reauthorise, malformed → retry unknown */
    parse(&cx_shopee_orders, CX_ORD_LIST, &in, NULL, 429,
          "{\"error\":\"error_system_busy\",\"message\":\"busy\"}", &out, &p);
    assert_int_equal(out.result, CX_RETRY);
    assert_int_equal(p.nids, 0);
    parse(&cx_shopee_orders, CX_ORD_LIST, &in, NULL, 403,
          "{\"error\":\"error_auth\",\"message\":\"Invalid access_token.\"}", &out, &p);
    assert_int_equal(out.result, CX_REAUTHORIZE);
    parse(&cx_shopee_orders, CX_ORD_LIST, &in, NULL, 200, "{\"error\":\"\",\"resp", &out, &p);
    assert_int_equal(out.result, CX_RETRY);
    assert_int_equal(out.unknown, 1);
    parse(&cx_shopee_orders, CX_ORD_LIST, &in, NULL, 200,
          "{\"error\":\"\",\"response\":{\"more\":true,\"order_list\":[]}}", &out, &p);
    assert_int_equal(out.result, CX_RETRY); /* more without a cursor would loop for ever */
}

/* ---- Lazada ---- */
static void test_lazada_golden(void **state)
{
    (void)state;
    cx_input in = input(&lazada);
    cx_orders_query q = {.from_s = FROM, .to_s = TO, .offset = 200};
    cx_request r;
    build_ok(&cx_lazada_orders, CX_ORD_LIST, &in, &q, &r);
    /* update_after 2023-11-03T15:26:40+07:00, update_before 2023-11-09T10:20:00+07:00 */
    char sign[65], url[1024];
    tm_lazada_mac("helloworld",
                  "/orders/getaccess_tokentokapp_key123456limit100offset200sign_methodsha256"
                  "sort_byupdated_atsort_directionASCtimestamp1700000000000"
                  "update_after2023-11-03T15:26:40+07:00update_before2023-11-09T10:20:00+07:00",
                  sign);
    snprintf(
        url, sizeof url,
        "https://api.lazada.test/rest/orders/get?app_key=123456&timestamp=1700000000000"
        "&sign_method=sha256&access_token=tok&update_after=2023-11-03T15%%3A26%%3A40%%2B07%%3A00"
        "&update_before=2023-11-09T10%%3A20%%3A00%%2B07%%3A00&sort_by=updated_at"
        "&sort_direction=ASC&offset=200&limit=100&sign=%s",
        sign);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, url);
    cx_request_free(&r);

    const char *ids[] = {"301", "302"};
    cx_orders_query qi = {.ids = ids, .nids = 2};
    build_ok(&cx_lazada_orders, CX_ORD_LINES, &in, &qi, &r);
    tm_lazada_mac("helloworld",
                  "/orders/items/getaccess_tokentokapp_key123456order_ids[301,302]"
                  "sign_methodsha256timestamp1700000000000",
                  sign);
    snprintf(url, sizeof url,
             "https://api.lazada.test/rest/orders/items/get?app_key=123456&timestamp=1700000000000"
             "&sign_method=sha256&access_token=tok&order_ids=%%5B301%%2C302%%5D&sign=%s",
             sign);
    assert_string_equal(r.url, url);
    cx_request_free(&r);
}

static void test_lazada_parse(void **state)
{
    (void)state;
    cx_input in = input(&lazada);
    cx_orders_query q = {.offset = 100};
    cx_outcome out;
    cx_orders_page p;
    parse(&cx_lazada_orders, CX_ORD_LIST, &in, &q, 200,
          "{\"code\":\"0\",\"data\":{\"count\":2,\"countTotal\":103,\"orders\":[{\"order_id\":301,"
          "\"statuses\":[\"delivered\"]},{\"order_id\":\"302\"}]},\"request_id\":\"x\"}",
          &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_int_equal(p.nids, 2);
    assert_string_equal(p.ids[0], "301");
    assert_int_equal(p.next_offset, 102);
    assert_int_equal(p.more, 1);
    cx_orders_page_free(&p);
    q.offset = 101;
    parse(&cx_lazada_orders, CX_ORD_LIST, &in, &q, 200,
          "{\"code\":\"0\",\"data\":{\"count\":2,\"countTotal\":103,\"orders\":[{\"order_id\":1},"
          "{\"order_id\":2}]}}",
          &out, &p);
    assert_int_equal(p.more, 0);
    cx_orders_page_free(&p);

    parse(&cx_lazada_orders, CX_ORD_LINES, &in, &q, 200,
          "{\"code\":\"0\",\"data\":[{\"order_id\":301,\"order_items\":[{\"order_item_id\":5001,"
          "\"sku\":\"CS-7\",\"shop_sku\":\"77_VNAMZ\",\"status\":\"delivered\",\"item_price\":"
          "\"120000.00\",\"paid_price\":\"110000\",\"created_at\":\"2023-11-10 09:00:00 +0700\","
          "\"updated_at\":\"2023-11-12 09:00:00 +0700\"},{\"order_item_id\":5002,\"sku\":\"CS-7\","
          "\"status\":\"weird\",\"item_price\":1,\"updated_at\":\"2023-11-12 09:00:00 +0700\"},"
          "{\"order_item_id\":5003,\"sku\":\"CS-7\",\"status\":\"canceled\",\"item_price\":\"x\","
          "\"updated_at\":\"2023-11-12 09:00:00 +0700\"}]}]}",
          &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_int_equal(p.nlines, 1);
    assert_string_equal(p.lines[0].line_id, "5001");
    assert_string_equal(p.lines[0].order_id, "301");
    assert_int_equal(p.lines[0].amount_vnd, 120000);
    assert_int_equal(p.lines[0].qty, 1);
    assert_int_equal(p.lines[0].state, CX_OS_DELIVERED);
    assert_int_equal(p.lines[0].updated_s, cx_orders_time("2023-11-12T02:00:00Z"));
    assert_int_equal(p.nbad, 2);
    cx_orders_page_free(&p);

    parse(&cx_lazada_orders, CX_ORD_LIST, &in, &q, 200,
          "{\"type\":\"ISV\",\"code\":\"ApiCallLimit\",\"message\":\"slow down\"}", &out, &p);
    assert_int_equal(out.result, CX_RETRY);
    parse(&cx_lazada_orders, CX_ORD_LIST, &in, &q, 200,
          "{\"type\":\"ISV\",\"code\":\"IllegalAccessToken\",\"message\":\"bad\"}", &out, &p);
    assert_int_equal(out.result, CX_REAUTHORIZE);
    parse(&cx_lazada_orders, CX_ORD_LINES, &in, &q, 200, "{\"code\":\"0\",\"data\":{}}", &out, &p);
    assert_int_equal(out.result, CX_RETRY);
}

/* ---- TikTok ---- */
static void test_tiktok_golden(void **state)
{
    (void)state;
    cx_input in = input(&tiktok);
    cx_orders_query q = {.from_s = FROM, .to_s = TO, .cursor = "tok2"};
    cx_request r;
    build_ok(&cx_tiktok_orders, CX_ORD_LIST, &in, &q, &r);
    const char *body = "{\"update_time_ge\":1699000000,\"update_time_lt\":1699500000}";
    char s[512], sign[65], url[1024];
    snprintf(s, sizeof s,
             "/order/202309/orders/searchapp_key29a39dpage_size100page_tokentok2shop_cipher"
             "14701711timestamp1700000000%s",
             body);
    tm_tiktok_mac("e59af819cc", s, sign);
    snprintf(url, sizeof url,
             "https://open-api.tiktok.test/order/202309/orders/search?app_key=29a39d&shop_cipher="
             "14701711&timestamp=1700000000&page_size=100&page_token=tok2&sign=%s",
             sign);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, url);
    assert_string_equal(r.body, body);
    assert_string_equal(cx_request_header(&r, "x-tts-access-token"), "tok");
    cx_request_free(&r);
    cs_error err;
    cx_request_init(&r);
    assert_int_equal(cx_tiktok_orders.build(CX_ORD_LINES, &in, &q, &r, &err), -1);
    cx_request_free(&r);
}

static void test_tiktok_parse(void **state)
{
    (void)state;
    cx_input in = input(&tiktok);
    cx_outcome out;
    cx_orders_page p;
    parse(&cx_tiktok_orders, CX_ORD_LIST, &in, NULL, 200,
          "{\"code\":0,\"message\":\"Success\",\"data\":{\"next_page_token\":\"n2\",\"total_count\""
          ":3,\"orders\":[{\"id\":\"576\",\"status\":\"DELIVERED\",\"create_time\":1699000000,"
          "\"update_time\":1699000500,\"recipient_address\":{\"phone_number\":\"0912345678\"},"
          "\"line_items\":[{\"id\":\"L1\",\"product_id\":\"P9\",\"sku_id\":\"S9\",\"seller_sku\":"
          "\"CS-9\",\"sale_price\":\"30000\"},{\"id\":\"L2\",\"seller_sku\":\"CS-9\","
          "\"sale_price\":\"30000\"},{\"id\":\"L3\",\"seller_sku\":\"\",\"sale_price\":\"bad\"}]},"
          "{\"id\":\"577\",\"status\":\"NOPE\",\"update_time\":1,\"line_items\":[]}]}}",
          &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_int_equal(p.nlines, 2);
    assert_string_equal(p.lines[1].line_id, "L2");
    assert_string_equal(p.lines[0].sku, "CS-9");
    assert_string_equal(p.lines[0].item_id, "P9");
    assert_int_equal(p.lines[0].amount_vnd, 30000);
    assert_int_equal(p.nbad, 2);
    assert_int_equal(p.more, 1);
    assert_string_equal(p.next_cursor, "n2");
    cx_orders_page_free(&p);
    parse(&cx_tiktok_orders, CX_ORD_LIST, &in, NULL, 200, "{\"code\":0,\"data\":{\"orders\":[]}}",
          &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_int_equal(p.more, 0);
    cx_orders_page_free(&p);
    parse(&cx_tiktok_orders, CX_ORD_LIST, &in, NULL, 429, "{\"code\":36009002}", &out, &p);
    assert_int_equal(out.result, CX_RETRY);
    parse(&cx_tiktok_orders, CX_ORD_LIST, &in, NULL, 200, "[]", &out, &p);
    assert_int_equal(out.result, CX_RETRY);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_lookup_and_states),  cmocka_unit_test(test_money_and_time),
        cmocka_unit_test(test_shopee_list_golden), cmocka_unit_test(test_shopee_detail_golden),
        cmocka_unit_test(test_shopee_parse),       cmocka_unit_test(test_lazada_golden),
        cmocka_unit_test(test_lazada_parse),       cmocka_unit_test(test_tiktok_golden),
        cmocka_unit_test(test_tiktok_parse),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
