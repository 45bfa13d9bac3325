/* The owner's status page: code + PIN (header or POST body; a PIN in the URL is ignored) opens
 * a plain-Vietnamese view of the shops and listings with what to do next and why a listing was
 * refused, and nothing personal. Wrong PINs are throttled per household and per client address
 * (growing waits, a daily ceiling: 429 with Retry-After) and audited. Also: the raw tables and the
 * log hold no plaintext citizen ID, phone or PIN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/log.h"
#include "tests/support/tapi.h"
#include "tests/support/tcontract.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE "14797"
static char tok_admin[44], tok_vol[44];
static char logpath[4096];
static FILE *log_file;

struct hh {
    char code[24], pin[8], cccd[13], phone[11];
};
static struct hh H;
static int64_t P1, P2;
/* every citizen ID and phone this test made, to look for in tables and logs; PINs (six
 * digits, which a log line's numbers may hold by chance) are looked for in the tables only */
static char secrets[64][16], pins[16][8];
static int nsecrets, npins;

static void remember(const char *s)
{
    if (nsecrets < 64) snprintf(secrets[nsecrets++], sizeof secrets[0], "%s", s);
}

static void remember_pin(const char *s)
{
    if (npins < 16) snprintf(pins[npins++], sizeof pins[0], "%s", s);
}

static void make_household(struct hh *h)
{
    char *b = tapi_household_body(27, COMMUNE, h->cccd, h->phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    snprintf(h->code, sizeof h->code, "%s", json_string_value(json_object_get(r.json, "code")));
    snprintf(h->pin, sizeof h->pin, "%s", json_string_value(json_object_get(r.json, "pin")));
    remember(h->cccd);
    remember(h->phone);
    remember_pin(h->pin);
    tapi_free(&r);
}

static int64_t make_product(const char *code, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", code);
    char *b = tapi_product_body(name);
    tapi_resp r = tapi_call("POST", path, tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
    return id;
}

/* Forget every wrong-PIN counter (tests of the throttle start from zero). */
static void reset_throttle(void)
{
    tsup_exec(tapi_db(), "DELETE FROM pin_throttle", "");
    tsup_exec(tapi_db(), "DELETE FROM pin_pair", "");
    tsup_exec(tapi_db(), "DELETE FROM pin_day", "");
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    /* everything the service logs during this test goes to a file we read at the end */
    const char *tmp = getenv("CHOSO_TEST_TMP");
    snprintf(logpath, sizeof logpath, "%s/status-log.jsonl", tmp ? tmp : "/tmp");
    log_file = fopen(logpath, "w+");
    assert_non_null(log_file);
    cs_log_set_stream(log_file);
    const char *c[] = {COMMUNE, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", c, tok_vol);
    make_household(&H);
    P1 = make_product(H.code, "Nem chua Thanh Hóa");
    P2 = make_product(H.code, "Chè lam Phủ Quảng");
    cs_db *db = tapi_db();
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state, auth_link)"
              " SELECT id, 'shopee', 'awaiting_owner', "
              "'https://partner.shopeemobile.com/api/v2/shop/auth_partner?state=abc'"
              " FROM households WHERE code = ?",
              "s", H.code);
    int64_t shopee = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(
        db,
        "INSERT INTO seller_accounts (household_id, marketplace_code, state, shop_url, "
        "activated_at)"
        " SELECT id, 'lazada', 'active', 'https://www.lazada.vn/shop/hoa-nem', UTC_TIMESTAMP()"
        " FROM households WHERE code = ?",
        "s", H.code);
    int64_t lazada = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state, "
              "last_error_code, last_error_message)"
              " SELECT id, 'postmart', 'rejected', 'papers', 'Thiếu ảnh giấy đăng ký kinh doanh'"
              " FROM households WHERE code = ?",
              "s", H.code);
    tsup_exec(
        db,
        "INSERT INTO listings (product_id, marketplace_code, account_id, state, last_error_code,"
        " last_error_message, error_fields) VALUES (?, 'shopee', ?, 'rejected', 'image_small',"
        " 'Ảnh sản phẩm quá nhỏ', '[{\"field\":\"images\",\"code\":\"too_small\",\"message\":\"Ảnh "
        "phải từ 500×500 điểm ảnh\"}]')",
        "ii", P1, shopee);
    tsup_exec(
        db,
        "INSERT INTO listings (product_id, marketplace_code, account_id, state, listing_url, "
        "live_at, first_live_at)"
        " VALUES (?, 'lazada', ?, 'live', 'https://www.lazada.vn/products/che-lam-i123.html', "
        "UTC_TIMESTAMP(), UTC_TIMESTAMP())",
        "ii", P2, lazada);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tcontract_free();
    tapi_stop();
    cs_log_set_stream(NULL);
    if (log_file) fclose(log_file);
    return 0;
}

static json_t *find(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *v = json_string_value(json_object_get(o, key));
        if (v && !strcmp(v, value)) return o;
    }
    return NULL;
}

static tapi_resp status_get(const char *code, const char *pin, const char *lang)
{
    char path[64], ph[64], lh[48];
    snprintf(path, sizeof path, "/v1/status/%s", code);
    snprintf(ph, sizeof ph, "X-Owner-Pin: %s", pin);
    snprintf(lh, sizeof lh, "Accept-Language: %s", lang ? lang : "vi");
    const char *h[] = {ph, lh, NULL};
    return tapi_req("GET", path, NULL, pin ? h : h + 1, NULL, NULL, 0);
}

static void check_view(const tapi_resp *r, const char *method)
{
    assert_int_equal(r->status, 200);
    char ct[96], cerr[600];
    if (tcontract_check(method, "/v1/status/{household_code}", r->status,
                        tapi_header(r, "Content-Type", ct, sizeof ct), r->body, r->len, cerr,
                        sizeof cerr))
        fail_msg("%s", cerr);
    json_t *v = r->json;
    assert_string_equal(json_string_value(json_object_get(v, "household_code")), H.code);
    assert_string_equal(json_string_value(json_object_get(v, "business_name")),
                        "Hộ kinh doanh Hoa Nem");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "commune"), "name")),
                        "Phường Hạc Thành");
    json_t *shops = json_object_get(v, "seller_accounts");
    json_t *s = find(shops, "marketplace", "shopee");
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "state")), "awaiting_owner");
    assert_string_equal(json_string_value(json_object_get(s, "next_step")),
                        "Mở liên kết này để cho phép Chợ Số đăng sản phẩm lên Shopee.");
    assert_string_equal(json_string_value(json_object_get(s, "auth_link")),
                        "https://partner.shopeemobile.com/api/v2/shop/auth_partner?state=abc");
    s = find(shops, "marketplace", "lazada");
    assert_string_equal(json_string_value(json_object_get(s, "state")), "active");
    assert_string_equal(json_string_value(json_object_get(s, "shop_url")),
                        "https://www.lazada.vn/shop/hoa-nem");
    assert_true(json_is_null(json_object_get(s, "auth_link")));
    s = find(shops, "marketplace", "postmart");
    assert_non_null(strstr(json_string_value(json_object_get(s, "next_step")),
                           "Thiếu ảnh giấy đăng ký kinh doanh"));
    s = find(shops, "marketplace", "voso");
    assert_string_equal(json_string_value(json_object_get(s, "state")), "not_started");
    assert_true(json_string_length(json_object_get(s, "next_step")) > 10);
    json_t *prods = json_object_get(v, "products");
    assert_int_equal(json_array_size(prods), 2);
    json_t *p1 = find(prods, "name", "Nem chua Thanh Hóa"),
           *p2 = find(prods, "name", "Chè lam Phủ Quảng");
    json_t *l1 = json_array_get(json_object_get(p1, "listings"), 0);
    assert_string_equal(json_string_value(json_object_get(l1, "state")), "rejected");
    assert_string_equal(json_string_value(json_object_get(l1, "reason")), "Ảnh sản phẩm quá nhỏ");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(l1, "problems"), 0), "message")),
                        "Ảnh phải từ 500×500 điểm ảnh");
    assert_string_equal(json_string_value(json_object_get(l1, "state_text")), "Bị sàn từ chối");
    json_t *l2 = json_array_get(json_object_get(p2, "listings"), 0);
    assert_string_equal(json_string_value(json_object_get(l2, "state")), "live");
    assert_string_equal(json_string_value(json_object_get(l2, "listing_url")),
                        "https://www.lazada.vn/products/che-lam-i123.html");
    /* nothing personal, not even the owner's name */
    assert_null(strstr(r->body, H.cccd));
    assert_null(strstr(r->body, H.phone));
    assert_null(strstr(r->body, "Lê Thị Hoa"));
    assert_null(strstr(r->body, "Thôn Đông"));
    assert_null(strstr(r->body, H.pin));
    static const char *keys[] = {"\"cccd\"",    "\"phone\"",      "\"birth_date\"",
                                 "\"address\"", "\"owner_name\"", NULL};
    for (int k = 0; keys[k]; k++)
        assert_null(strstr(r->body, keys[k]));
    char cc[64];
    assert_non_null(tapi_header(r, "Cache-Control", cc, sizeof cc));
    assert_non_null(strstr(cc, "no-store"));
}

static void test_view_by_header_and_body(void **state)
{
    (void)state;
    reset_throttle();
    tapi_resp r = status_get(H.code, H.pin, NULL);
    check_view(&r, "GET");
    tapi_free(&r);
    char path[64], body[48];
    snprintf(path, sizeof path, "/v1/status/%s", H.code);
    snprintf(body, sizeof body, "{\"pin\":\"%s\"}", H.pin);
    r = tapi_call("POST", path, NULL, body);
    check_view(&r, "POST");
    tapi_free(&r);
    /* the same POST twice with an Idempotency-Key is simply answered twice: nothing stored */
    const char *key[] = {"Idempotency-Key: xem-trang-thai-1", NULL};
    r = tapi_req("POST", path, NULL, key, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'xem-trang-thai-1'", ""),
        0);
    /* English on request */
    r = status_get(H.code, H.pin, "en");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Open this link to let Chợ Số list your products on Shopee."));
    tapi_free(&r);
    /* a PIN in the URL opens nothing */
    snprintf(path, sizeof path, "/v1/status/%s?pin=%s", H.code, H.pin);
    r = tapi_call("GET", path, NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    /* bodies: unknown fields and wrong types are named */
    snprintf(path, sizeof path, "/v1/status/%s", H.code);
    r = tapi_call("POST", path, NULL, "{\"pin\":123456}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"pin\""));
    tapi_free(&r);
    r = tapi_call("POST", path, NULL, "{\"pin\":\"1\",\"code\":\"x\"}");
    assert_int_equal(r.status, 422);
    tapi_free(&r);
}

static void test_throttle_per_household(void **state)
{
    (void)state;
    reset_throttle();
    int64_t audits =
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action LIKE 'owner.pin%%'",
                 "s", H.code);
    const char *wrong = strcmp(H.pin, "111111") ? "111111" : "222222";
    /* a malformed code is a typing slip: 400 naming the field, counted nowhere */
    tapi_resp r = status_get("TH-2026-12", wrong, NULL);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                        "household_code_format");
    assert_non_null(strstr(r.body, "\"household_code\""));
    tapi_free(&r);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM pin_throttle", ""), 0);
    /* the code as people type it */
    char loose[40];
    snprintf(loose, sizeof loose, "th%%20%.4s%%20%s", H.code + 3, H.code + 8);
    r = status_get(loose, H.pin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    for (int i = 1; i <= 2; i++) {
        r = status_get(H.code, wrong, NULL);
        assert_int_equal(r.status, 401);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")), "pin_wrong");
        assert_int_equal(json_integer_value(json_object_get(r.json, "attempts_left")), 3 - i);
        tapi_free(&r);
    }
    r = status_get(H.code, wrong, NULL);
    assert_int_equal(r.status, 429);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "pin_locked");
    char ra[32];
    assert_non_null(tapi_header(&r, "Retry-After", ra, sizeof ra));
    assert_int_equal(strtol(ra, NULL, 10), 60);
    assert_int_equal(json_integer_value(json_object_get(r.json, "retry_after")), 60);
    assert_int_equal(json_integer_value(json_object_get(r.json, "attempts_left")), 0);
    tapi_free(&r);
    /* waiting: even the right PIN waits, by header and by body */
    r = status_get(H.code, H.pin, NULL);
    assert_int_equal(r.status, 429);
    assert_null(strstr(r.body, "seller_accounts"));
    tapi_free(&r);
    char path[64], body[48];
    snprintf(path, sizeof path, "/v1/status/%s", H.code);
    snprintf(body, sizeof body, "{\"pin\":\"%s\"}", H.pin);
    r = tapi_call("POST", path, NULL, body);
    assert_int_equal(r.status, 429);
    tapi_free(&r);
    /* audited: two failures and the wait, with the client and no PIN */
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action IN "
                              "('owner.pin_failed','owner.pin_wait')",
                              "s", H.code),
                     audits + 3);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action = 'owner.pin_wait'"
                 " AND actor_kind = 'owner' AND client = '127.0.0.1'",
                 "s", H.code),
        1);
    assert_int_equal(
        tsup_i64(
            tapi_db(),
            "SELECT COUNT(*) FROM audit_log WHERE INSTR(detail, ?) > 0 OR INSTR(detail, ?) > 0",
            "ss", wrong, H.pin),
        0);
    /* a volunteer re-issues the PIN: the wait is lifted, the old PIN is dead */
    snprintf(path, sizeof path, "/v1/households/%s/pin", H.code);
    r = tapi_call("POST", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    char old[8];
    snprintf(old, sizeof old, "%s", H.pin);
    snprintf(H.pin, sizeof H.pin, "%s", json_string_value(json_object_get(r.json, "pin")));
    remember_pin(H.pin);
    assert_int_equal(strlen(H.pin), 6);
    tapi_free(&r);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action = "
                              "'household.pin_reissued'",
                              "s", H.code),
                     1);
    r = status_get(H.code, H.pin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    if (strcmp(old, H.pin)) {
        r = status_get(H.code, old, NULL);
        assert_int_equal(r.status, 401);
        tapi_free(&r);
    }
}

/* Many owners behind one address (a carrier's CGNAT, a commune's Wi-Fi): each one's typo counts
 * for that household only; nobody else is made to wait. */
static void test_throttle_per_client(void **state)
{
    (void)state;
    reset_throttle();
    struct hh x[6];
    for (int i = 0; i < 6; i++)
        make_household(&x[i]);
    for (int i = 0; i < 5; i++) {
        const char *wrong = strcmp(x[i].pin, "123456") ? "123456" : "654321";
        tapi_resp r = status_get(x[i].code, wrong, NULL);
        assert_int_equal(r.status, 401);
        tapi_free(&r);
    }
    tapi_resp r = status_get(x[5].code, x[5].pin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    /* an unknown code is answered like a wrong PIN, and counts */
    reset_throttle();
    r = status_get("TH-2099-99999", "123456", NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "pin_wrong");
    assert_int_equal(json_integer_value(json_object_get(r.json, "attempts_left")), 2);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT failures FROM pin_throttle WHERE client = '127.0.0.1'", ""), 1);
    r = status_get(x[5].code, NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    reset_throttle();
}

/* A correct PIN is remembered to spare the hash on reloads, but never outlives what made it
 * valid: a new PIN, a lock or the erasure of the household. */
static void test_remembered_pin_does_not_outlive(void **state)
{
    (void)state;
    reset_throttle();
    struct hh x;
    make_household(&x);
    for (int i = 0; i < 3; i++) { /* verified once, then remembered */
        tapi_resp r = status_get(x.code, x.pin, NULL);
        assert_int_equal(r.status, 200);
        tapi_free(&r);
    }
    /* locked by wrong guesses: the remembered PIN waits like any other */
    const char *wrong = strcmp(x.pin, "000001") ? "000001" : "000002";
    for (int i = 0; i < 5; i++) {
        tapi_resp r = status_get(x.code, wrong, NULL);
        tapi_free(&r);
    }
    tapi_resp r = status_get(x.code, x.pin, NULL);
    assert_int_equal(r.status, 429);
    tapi_free(&r);
    reset_throttle();
    r = status_get(x.code, x.pin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    /* erased: nothing opens it, remembered or not */
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s", x.code);
    r = tapi_call("DELETE", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = status_get(x.code, x.pin, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    reset_throttle();
}

/* The raw tables and the service's log never hold a citizen ID, phone or PIN in clear. */
static void test_no_plaintext_at_rest_or_in_logs(void **state)
{
    (void)state;
    cs_db *db = tapi_db();
    for (int i = 0; i < nsecrets; i++) {
        const char *s = secrets[i];
        int64_t n = tsup_i64(db,
                             "SELECT COUNT(*) FROM households WHERE INSTR(CONCAT_WS('|', code, "
                             "owner_name, name_folded,"
                             " business_name, business_reg_no, tax_code, pin_hash, consent_by, "
                             "registered_by), ?) > 0"
                             " OR INSTR(cccd_sealed, ?) > 0 OR INSTR(phone_sealed, ?) > 0"
                             " OR INSTR(birth_date_sealed, ?) > 0 OR INSTR(address_sealed, ?) > 0"
                             " OR INSTR(HEX(cccd_bidx), ?) > 0 OR INSTR(HEX(phone_bidx), ?) > 0",
                             "sssssss", s, s, s, s, s, s, s);
        if (n) fail_msg("households holds %s in clear", s);
        assert_int_equal(tsup_i64(db,
                                  "SELECT COUNT(*) FROM audit_log WHERE INSTR(CONCAT_WS('|', "
                                  "detail, entity_id, actor_id), ?) > 0",
                                  "s", s),
                         0);
        assert_int_equal(tsup_i64(db,
                                  "SELECT COUNT(*) FROM idempotency_keys WHERE INSTR(body, ?) > 0 "
                                  "OR INSTR(headers, ?) > 0",
                                  "ss", s, s),
                         0);
    }
    for (int i = 0; i < npins; i++) {
        assert_int_equal(tsup_i64(db,
                                  "SELECT COUNT(*) FROM households WHERE INSTR(CONCAT_WS('|', "
                                  "pin_hash, code), ?) > 0",
                                  "s", pins[i]),
                         0);
        assert_int_equal(
            tsup_i64(db, "SELECT COUNT(*) FROM audit_log WHERE INSTR(detail, ?) > 0", "s", pins[i]),
            0);
    }
    /* the sealed columns do hold something, and the PIN is only a scrypt hash */
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM households WHERE code = ? AND LENGTH(cccd_sealed) > 12"
                 " AND pin_hash LIKE 'scrypt$%%'",
                 "s", H.code),
        1);
    fflush(log_file);
    FILE *f = fopen(logpath, "r");
    assert_non_null(f);
    char line[8192];
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        for (int i = 0; i < nsecrets; i++)
            if (strstr(line, secrets[i])) fail_msg("log line holds a secret: %.200s", line);
        if (strstr(line, "X-Owner-Pin") || strstr(line, "Bearer"))
            fail_msg("log line holds credentials: %.200s", line);
    }
    fclose(f);
    assert_true(lines > 10); /* the access log did run */
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_by_header_and_body),
        cmocka_unit_test(test_throttle_per_household),
        cmocka_unit_test(test_throttle_per_client),
        cmocka_unit_test(test_remembered_pin_does_not_outlive),
        cmocka_unit_test(test_no_plaintext_at_rest_or_in_logs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
