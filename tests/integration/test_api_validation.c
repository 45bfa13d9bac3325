/* Validation through the API: every field rule answers 422 naming its field with a stable code;
 * malformed JSON, wrong types, unknown fields, huge bodies and headers, bad UTF-8 and deep
 * nesting are refused with 4xx (never 5xx); Vietnamese typed in NFD is stored as NFC; a second
 * registration of the same citizen ID answers 409 with the existing code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/vn.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE "14797"
static char tok_admin[44], tok_vol[44];
static char CODE[24]; /* a household for the product and PATCH cases */
static int64_t PRODUCT;

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *c[] = {COMMUNE, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", c, tok_vol);
    tapi_seed(tok_admin, COMMUNE, CODE, "Nem chua Thanh Hóa", &PRODUCT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

/* 1 when the problem lists an error for `field` with `code`. */
static int has_field_error(const tapi_resp *r, const char *field, const char *code)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r->json, "errors"), i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "field"))
                        ? json_string_value(json_object_get(e, "field"))
                        : "",
                    field) &&
            (!code || !strcmp(json_string_value(json_object_get(e, "code")), code)) &&
            json_is_string(json_object_get(e, "message")))
            return 1;
    }
    return 0;
}

/* A valid registration with `key` replaced by the JSON value `value` (NULL: removed). */
static char *household_with(const char *key, const char *value)
{
    char cccd[13], phone[11];
    char *b = tapi_household_body(30, COMMUNE, cccd, phone);
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    if (value)
        json_object_set_new(o, key, json_loads(value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(o, key);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void test_household_field_rules(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *code;
    } cases[] = {
        {"owner_name", NULL, "required"},
        {"owner_name", "\"A\"", "too_short"},
        {"owner_name", "\"Nguyễn Văn 123\"", "bad_format"},
        {"owner_name", "123", "wrong_type"},
        {"cccd", NULL, "required"},
        {"cccd", "\"12345\"", "cccd_invalid"},
        {"cccd", "\"3.8E+11\"", "cccd_scientific"},
        {"cccd", "\"999196012345\"", "cccd_province"},
        {"cccd", "\"038090012345\"", "cccd_birth_mismatch"},
        {"phone", NULL, "required"},
        {"phone", "\"0241234567\"", "phone_landline"},
        {"phone", "\"không có\"", "phone_invalid"},
        {"birth_date", NULL, "required"},
        {"birth_date", "\"31/02/1990\"", "date_invalid"},
        {"birth_date", "\"01/01/2199\"", "date_future"},
        {"commune_code", NULL, "required"},
        {"commune_code", "\"abc\"", "commune_unknown"},
        {"consent", NULL, "consent_required"},
        {"consent", "false", "consent_required"},
        {"tax_code", "\"123\"", "bad_format"},
        {"has_epayment", "\"có lẽ\"", "not_allowed_value"},
        {"has_epayment", "[]", "wrong_type"},
        {"address", "[1]", "wrong_type"},
        {"ghi_chu", "\"x\"", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = household_with(cases[i].key, cases[i].value);
        tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, b);
        free(b);
        if (r.status != 422 || !has_field_error(&r, cases[i].key, cases[i].code))
            fail_msg("%s = %s: want 422 %s, got %ld %s", cases[i].key,
                     cases[i].value ? cases[i].value : "(absent)", cases[i].code, r.status, r.body);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                            "validation_failed");
        tapi_free(&r);
    }
    /* a commune that passes the format but does not exist is named too */
    char *b = household_with("commune_code", "\"99999\"");
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, b);
    free(b);
    assert_int_equal(r.status, 422);
    assert_true(has_field_error(&r, "commune_code", "commune_unknown"));
    tapi_free(&r);
    /* several bad fields at once: each one named */
    b = household_with("phone", "\"12\"");
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_object_set_new(o, "cccd", json_string("1"));
    json_object_set_new(o, "birth_date", json_string("hôm qua"));
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    r = tapi_call("POST", "/v1/households", tok_admin, b);
    free(b);
    assert_int_equal(r.status, 422);
    assert_true(has_field_error(&r, "phone", "phone_invalid"));
    assert_true(has_field_error(&r, "cccd", NULL));
    assert_true(has_field_error(&r, "birth_date", "date_invalid"));
    tapi_free(&r);
    /* English messages on request */
    b = household_with("phone", "\"12\"");
    const char *en[] = {"Accept-Language: en", NULL};
    r = tapi_req("POST", "/v1/households", tok_admin, en, NULL, b, strlen(b));
    free(b);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "Invalid phone number"));
    tapi_free(&r);
}

static void test_product_field_rules(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *code;
    } cases[] = {
        {"name", NULL, "required"},
        {"name", "\"ab\"", "too_short"},
        {"description", "\"ngắn\"", "too_short"},
        {"category", "\"khong_co\"", "category_unknown"},
        {"category", "\"Bánh\"", "category_unknown"},
        {"price_vnd", "0", "price_invalid"},
        {"price_vnd", "\"1.5\"", "price_invalid"},
        {"price_vnd", "12.5", "price_invalid"},
        {"price_vnd", NULL, "required"},
        {"weight_g", NULL, "required"},
        {"weight_g", "0", "out_of_range"},
        {"ocop_stars", "6", "out_of_range"},
        {"stock", "-1", "out_of_range"},
        {"flagship", "\"chắc chắn\"", "not_allowed_value"},
        {"certificates", "\"VietGAP\"", "bad_format"},
        {"mau_sac", "\"đỏ\"", "unknown_field"},
    };
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", CODE);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = tapi_product_body("Bánh gai Tứ Trụ");
        json_t *o = json_loads(b, 0, NULL);
        free(b);
        if (cases[i].value)
            json_object_set_new(o, cases[i].key, json_loads(cases[i].value, JSON_DECODE_ANY, NULL));
        else
            json_object_del(o, cases[i].key);
        b = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        tapi_resp r = tapi_call("POST", path, tok_vol, b);
        free(b);
        if (r.status != 422 || !has_field_error(&r, cases[i].key, cases[i].code))
            fail_msg("%s = %s: want 422 %s, got %ld %s", cases[i].key,
                     cases[i].value ? cases[i].value : "(absent)", cases[i].code, r.status, r.body);
        tapi_free(&r);
    }
    /* prices as people write them are whole đồng */
    char *b = tapi_product_body("Bánh gai Tứ Trụ");
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_object_set_new(o, "price_vnd", json_string("150.000đ"));
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r = tapi_call("POST", path, tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    assert_int_equal(json_integer_value(json_object_get(r.json, "price_vnd")), 150000);
    tapi_free(&r);
}

/* Bodies that are not what a JSON route takes: each a 4xx with its own code, never 5xx. */
static void test_malformed_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *ctype;
        const char *body;
        size_t len;
        long status;
        const char *code;
    } cases[] = {
        {NULL, "{", 1, 400, "malformed_json"},
        {NULL, "{\"owner_name\": }", 16, 400, "malformed_json"},
        {NULL, "[1, 2]", 6, 400, "bad_request"},
        {NULL, "\"text\"", 6, 400, NULL},
        {NULL, "{\"a\":1,\"a\":2}", 13, 400, NULL},
        {NULL, "{\"owner_name\":\"L\xff\xfe\"}", 19, 400, "body_invalid_utf8"},
        {NULL, "{\"owner_name\":\"\xc0\xaf\"}", 19, 400, "body_invalid_utf8"},
        {NULL, "{\"owner_name\":\"\xed\xa0\x80\"}", 20, 400, "body_invalid_utf8"},
        {"text/plain", "{}", 2, 415, "unsupported_media_type"},
        {"application/x-www-form-urlencoded", "a=1", 3, 415, "unsupported_media_type"},
        {NULL, "", 0, 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tapi_resp r = tapi_req("POST", "/v1/households", tok_admin, NULL,
                               cases[i].ctype ? cases[i].ctype : "application/json", cases[i].body,
                               cases[i].len);
        if (r.status != cases[i].status ||
            (cases[i].code && strcmp(json_string_value(json_object_get(r.json, "code"))
                                         ? json_string_value(json_object_get(r.json, "code"))
                                         : "",
                                     cases[i].code)))
            fail_msg("case %zu: want %ld %s, got %ld %s", i, cases[i].status,
                     cases[i].code ? cases[i].code : "", r.status, r.body);
        tapi_free(&r);
    }
    /* the bad bytes' field is named */
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, "{\"address\":\"Th\xf4n\"}");
    assert_int_equal(r.status, 400);
    assert_true(has_field_error(&r, "address", NULL));
    tapi_free(&r);
    /* deep nesting is refused, not a crash */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    r = tapi_call("POST", "/v1/households", tok_admin, deep);
    assert_true(r.status >= 400 && r.status < 500);
    tapi_free(&r);
    free(deep);
}

static void test_huge_bodies_and_headers(void **state)
{
    (void)state;
    /* a body over http.max_body: 413 before the handler runs */
    size_t n = 3u << 20;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    memcpy(big + n - 1, "}", 1);
    big[n] = '\0';
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, big);
    assert_int_equal(r.status, 413);
    tapi_free(&r);
    free(big);
    /* a string field far over its limit inside an acceptable body: a field error */
    size_t m = 5000;
    char *name = malloc(m + 1);
    memset(name, 'a', m);
    name[m] = '\0';
    json_t *o = json_pack("{s:s}", "owner_name", name);
    char *b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    free(name);
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s", CODE);
    const char *ifm[] = {"If-Match: \"v1\"", NULL};
    r = tapi_req("PATCH", path, tok_admin, ifm, NULL, b, strlen(b));
    free(b);
    assert_int_equal(r.status, 422);
    assert_true(has_field_error(&r, "owner_name", "too_long"));
    tapi_free(&r);
    /* a huge header (over http.conn_memory, 256 KiB): refused by the server, never 5xx, and it
     * keeps serving */
    size_t hl = 400000;
    char *h = malloc(hl + 16);
    memcpy(h, "X-Filler: ", 10);
    memset(h + 10, 'x', hl);
    h[10 + hl] = '\0';
    const char *hh[] = {h, NULL};
    r = tapi_req("GET", "/v1/admin-units", NULL, hh, NULL, NULL, 0);
    assert_true(r.status >= 400 && r.status < 500);
    tapi_free(&r);
    free(h);
    /* a URL over http.max_url */
    char url[8192];
    memcpy(url, "/v1/households?q=", 17);
    memset(url + 17, 'a', sizeof url - 18);
    url[sizeof url - 1] = '\0';
    r = tapi_call("GET", url, tok_admin, NULL);
    assert_int_equal(r.status, 414);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/admin-units", NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
}

/* "Lê Thị Hoa" typed with combining marks (NFD) is stored and returned in NFC. */
static void test_nfd_stored_as_nfc(void **state)
{
    (void)state;
    const char *nfd = "Le\xcc\x82 Thi\xcc\xa3 Hoa";   /* e + U+0302, i + U+0323 */
    const char *nfc = "L\xc3\xaa Th\xe1\xbb\x8b Hoa"; /* ê, ị */
    char *b = household_with("owner_name", NULL);
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_object_set_new(o, "owner_name", json_string(nfd));
    json_object_set_new(o, "business_name", json_string("Bánh Đa Ba\xcc\x80 Hoa")); /* à in NFD */
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, b);
    free(b);
    assert_int_equal(r.status, 201);
    char code[24];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s", code);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "owner_name")), nfc);
    assert_string_equal(json_string_value(json_object_get(r.json, "business_name")),
                        "Bánh Đa Bà Hoa");
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM households WHERE code = ? AND owner_name = BINARY ?", "ss",
                 code, nfc),
        1);
    /* and it is found by the folded search, typed either way */
    r = tapi_call("GET", "/v1/households?q=le%20thi%20hoa&limit=200", tok_admin, NULL);
    assert_non_null(strstr(r.body, code));
    tapi_free(&r);
    r = tapi_call("GET", "/v1/households?q=L%C3%AA%20Th%E1%BB%8B&limit=200", tok_admin, NULL);
    assert_non_null(strstr(r.body, code));
    tapi_free(&r);
}

static void test_duplicate_citizen_id(void **state)
{
    (void)state;
    char cccd[13], phone[11];
    char *b = tapi_household_body(40, COMMUNE, cccd, phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_vol, b);
    assert_int_equal(r.status, 201);
    char code[24];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    /* the same person again, citizen ID written with spaces */
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    char spaced[20];
    snprintf(spaced, sizeof spaced, "%.4s %.4s %.4s", cccd, cccd + 4, cccd + 8);
    json_object_set_new(o, "cccd", json_string(spaced));
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    r = tapi_call("POST", "/v1/households", tok_vol, b);
    free(b);
    assert_int_equal(r.status, 409);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "household_exists");
    assert_string_equal(json_string_value(json_object_get(r.json, "existing")), code);
    assert_null(strstr(r.body, cccd));
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households WHERE registered_by = 'token:2'", ""),
        1);
}

/* Issue 10 point 8: a volunteer registering a citizen ID already registered in a commune they
 * may not see learns only that — not the household's code — and whom to ask. */
static void test_duplicate_out_of_scope_hidden(void **state)
{
    (void)state;
    char cccd[13], phone[11];
    char *b = tapi_household_body(41, "16522", cccd, phone); /* not the volunteer's commune */
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, b);
    assert_int_equal(r.status, 201);
    char code[24];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_object_set_new(o, "commune_code", json_string(COMMUNE));
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    r = tapi_call("POST", "/v1/households", tok_vol, b);
    assert_int_equal(r.status, 409);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                        "household_exists_elsewhere");
    assert_null(json_object_get(r.json, "existing"));
    assert_null(strstr(r.body, code));
    assert_null(strstr(r.body, "16522"));
    assert_true(has_field_error(&r, "cccd", "household_exists_elsewhere"));
    tapi_free(&r);
    /* the administrator may see it: named */
    r = tapi_call("POST", "/v1/households", tok_admin, b);
    free(b);
    assert_int_equal(r.status, 409);
    assert_string_equal(json_string_value(json_object_get(r.json, "existing")), code);
    tapi_free(&r);
}

/* Issue 10 point 8: the PIN of a new household is shown once; a replay of the creation with the
 * same Idempotency-Key (a retry after a lost answer) gets the household without it. The same
 * for a new PIN. */
static void test_pin_not_replayed(void **state)
{
    (void)state;
    char cccd[13], phone[11];
    char *b = tapi_household_body(33, COMMUNE, cccd, phone);
    const char *k[] = {"Idempotency-Key: hostile-pin-once-1", NULL};
    tapi_resp r = tapi_req("POST", "/v1/households", tok_vol, k, NULL, b, strlen(b));
    assert_int_equal(r.status, 201);
    const char *pin = json_string_value(json_object_get(r.json, "pin"));
    assert_non_null(pin);
    char pin1[8], code[24];
    snprintf(pin1, sizeof pin1, "%s", pin);
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    r = tapi_req("POST", "/v1/households", tok_vol, k, NULL, b, strlen(b));
    free(b);
    assert_int_equal(r.status, 201);
    char h[16];
    assert_non_null(tapi_header(&r, "Idempotent-Replayed", h, sizeof h));
    assert_null(json_object_get(r.json, "pin"));
    assert_true(json_is_true(json_object_get(r.json, "pin_shown")));
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), code);
    assert_null(strstr(r.body, pin1));
    tapi_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/pin", code);
    const char *k2[] = {"Idempotency-Key: hostile-pin-once-2", NULL};
    r = tapi_req("POST", path, tok_vol, k2, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    snprintf(pin1, sizeof pin1, "%s", json_string_value(json_object_get(r.json, "pin")));
    tapi_free(&r);
    r = tapi_req("POST", path, tok_vol, k2, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_null(json_object_get(r.json, "pin"));
    assert_null(strstr(r.body, pin1));
    tapi_free(&r);
}

/* Issue 10 points 1, 2 and 4: bytes no household code can hold are a 404 on every
 * /v1/households/{code}… route (never a 503 from MariaDB 1366); names whose search key folds
 * longer than its column are stored; a problem never carries driver or SQL text. */
static void test_hostile_params_and_names(void **state)
{
    (void)state;
    static const char *const codes[] = {
        "TH-2025-0%C4%91",    "%ff%fe",           "%c0%af", "%F0%9F%98%80",
        "%EF%BC%91%EF%BC%92", "TH%E2%80%AE-2025", "a%01b"};
    static const char *const tails[] = {"", "/products", "/pin", "/receipt.svg", "/accounts"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t j = 0; j < sizeof tails / sizeof tails[0]; j++) {
            char path[128];
            snprintf(path, sizeof path, "/v1/households/%s%s", codes[i], tails[j]);
            const char *m = j == 2 || j == 4 ? "POST" : "GET";
            tapi_resp r = tapi_call(m, path, tok_admin, j == 4 ? "{}" : NULL);
            if (r.status != 404) fail_msg("%s %s: %ld %s", m, path, r.status, r.body);
            tapi_free(&r);
        }
    tapi_resp r = tapi_call("GET", "/v1/status/%ff%fe", NULL, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    /* folded keys longer than their column: "ﬁ" → "fi", "⑴" → "(1)", "Ⅻ" → "xii", "㎉" → "kcal" */
    static const char *const names[] = {"\xef\xac\x81", "\xe2\x91\xb4", "\xe2\x85\xab",
                                        "\xe3\x8e\x89"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char name[400] = "L\xc3\xaa ";
        for (int k = 0; k < 95; k++)
            strncat(name, names[i], sizeof name - strlen(name) - 1);
        char *b = household_with("owner_name", NULL);
        json_t *o = json_loads(b, 0, NULL);
        free(b);
        json_object_set_new(o, "owner_name", json_string(name));
        b = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        r = tapi_call("POST", "/v1/households", tok_admin, b);
        free(b);
        if (r.status >= 500 || strstr(r.body, "mariadb"))
            fail_msg("owner name %zu: %ld %s", i, r.status, r.body);
        tapi_free(&r);
        char pname[400];
        snprintf(pname, sizeof pname, "%s", name + 4);
        pname[strlen(pname) > 300 ? 300 : strlen(pname)] = '\0';
        b = tapi_product_body(pname);
        char path[64];
        snprintf(path, sizeof path, "/v1/households/%s/products", CODE);
        r = tapi_call("POST", path, tok_admin, b);
        free(b);
        if (r.status >= 500 || strstr(r.body, "mariadb"))
            fail_msg("product name %zu: %ld %s", i, r.status, r.body);
        tapi_free(&r);
    }
}

/* Query parameters are checked like body fields. */
static void test_query_rules(void **state)
{
    (void)state;
    static const struct {
        const char *path, *field;
    } cases[] = {
        {"/v1/households?limit=0", "limit"},
        {"/v1/households?limit=201", "limit"},
        {"/v1/households?limit=abc", "limit"},
        {"/v1/households?after=-1", "after"},
        {"/v1/households?status=active", "status"},
        {"/v1/households?youth_led=maybe", "youth_led"},
        {"/v1/households?commune=14x97", "commune"},
        {"/v1/households?former_district=38a", "former_district"},
        {"/v1/households?phone=12", "phone"},
        {"/v1/households?cccd=abc", "cccd"},
        {"/v1/households?q=%FF%FE", "q"},
        {"/v1/products?ocop_stars=9", "ocop_stars"},
        {"/v1/products?flagship=yes", "flagship"},
        {"/v1/products?category=B%C3%A1nh", "category"},
        {"/v1/listings?state=selling", "state"},
        {"/v1/listings?product=x", "product"},
        {"/v1/seller-accounts?state=open", "state"},
        {"/v1/seller-accounts?marketplace=Shopee!", "marketplace"},
        {"/v1/admin-units?kind=huyen", "kind"},
        {"/v1/admin-units?former_district=4", "former_district"},
        {"/v1/audit?entity=House%20hold", "entity"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tapi_resp r = tapi_call("GET", cases[i].path, tok_admin, NULL);
        if (r.status != 422 || !has_field_error(&r, cases[i].field, NULL))
            fail_msg("%s: want 422 naming %s, got %ld %s", cases[i].path, cases[i].field, r.status,
                     r.body);
        tapi_free(&r);
    }
}

/* The PIN route takes no body: an empty one or {} is fine, anything else is named. */
static void test_pin_route_body(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/pin", CODE);
    tapi_resp r = tapi_call("POST", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = tapi_call("POST", path, tok_vol, "{}");
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = tapi_call("POST", path, tok_vol, "{\"pin\":\"123456\"}");
    assert_int_equal(r.status, 422);
    assert_true(has_field_error(&r, "pin", "unknown_field"));
    tapi_free(&r);
    r = tapi_call("POST", path, tok_vol, "[1]");
    assert_int_equal(r.status, 400);
    tapi_free(&r);
}

/* A household registered through the API, then made "imported" (no PIN) as the bulk import
 * leaves it. */
static void pinless_household(const char *commune, char code[24])
{
    char cccd[13], phone[11];
    char *b = tapi_household_body(27, commune, cccd, phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, b);
    free(b);
    assert_int_equal(r.status, 201);
    snprintf(code, 24, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    tsup_exec(tapi_db(), "UPDATE households SET pin_hash = NULL WHERE code = ?", "s", code);
}

static json_t *batch_row(const tapi_resp *r, const char *list, const char *code)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r->json, list), i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "code")), code)) return o;
    }
    return NULL;
}

/* Issue 13 point 8: PINs for many imported households at once — only within the volunteer's
 * communes, only to households without one (a retry issues nothing twice), audited, each PIN
 * shown once (a replay of the same Idempotency-Key lists the households without their PINs),
 * and each PIN really opens the owner's page. */
static void test_pin_batch(void **state)
{
    (void)state;
    char a[24], b2[24], c[24], out[24];
    pinless_household(COMMUNE, a);
    pinless_household(COMMUNE, b2);
    pinless_household(COMMUNE, c);
    pinless_household("16591", out); /* another commune */
    char body[256];
    snprintf(body, sizeof body,
             "{\"codes\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"TH-1999-99999\"]}", a, b2, c, a,
             out);
    const char *k[] = {"Idempotency-Key: pin-batch-once-1", NULL};
    int64_t audits0 = tsup_i64(
        tapi_db(), "SELECT COUNT(*) FROM audit_log WHERE action = 'household.pin_issued'", "");
    tapi_resp r = tapi_req("POST", "/v1/households/pins", tok_vol, k, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "issued")), 3);
    char pin_a[8];
    const char *codes[] = {a, b2, c};
    for (int i = 0; i < 3; i++) {
        json_t *row = batch_row(&r, "issued", codes[i]);
        assert_non_null(row);
        const char *pin = json_string_value(json_object_get(row, "pin"));
        assert_non_null(pin);
        assert_int_equal(strlen(pin), 6);
        assert_non_null(json_string_value(json_object_get(row, "owner_name")));
        assert_non_null(
            strstr(json_string_value(json_object_get(row, "owner_url")), "/owner.html#code="));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(row, "commune"), "code")), COMMUNE);
        if (i == 0) snprintf(pin_a, sizeof pin_a, "%s", pin);
    }
    assert_string_equal(json_string_value(json_object_get(batch_row(&r, "skipped", out), "reason")),
                        "forbidden_commune");
    assert_string_equal(
        json_string_value(json_object_get(batch_row(&r, "skipped", "TH-1999-99999"), "reason")),
        "not_found");
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT pin_hash IS NULL FROM households WHERE code = ?", "s", out), 1);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM audit_log WHERE action = 'household.pin_issued'",
                 "") -
            audits0,
        3);

    /* the same key again: what was issued, never the PINs */
    r = tapi_req("POST", "/v1/households/pins", tok_vol, k, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    char h[16];
    assert_non_null(tapi_header(&r, "Idempotent-Replayed", h, sizeof h));
    assert_int_equal(json_array_size(json_object_get(r.json, "issued")), 3);
    assert_null(json_object_get(batch_row(&r, "issued", a), "pin"));
    assert_true(json_is_true(json_object_get(batch_row(&r, "issued", a), "pin_shown")));
    assert_null(strstr(r.body, pin_a));
    tapi_free(&r);

    /* a retry with a new key issues nothing twice: the PINs handed out stay valid */
    const char *k2[] = {"Idempotency-Key: pin-batch-once-2", NULL};
    r = tapi_req("POST", "/v1/households/pins", tok_vol, k2, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "issued")), 0);
    assert_string_equal(json_string_value(json_object_get(batch_row(&r, "skipped", a), "reason")),
                        "pin_set");
    tapi_free(&r);
    char path[64], ph[32];
    snprintf(path, sizeof path, "/v1/status/%s", a);
    snprintf(ph, sizeof ph, "X-Owner-Pin: %s", pin_a);
    const char *hp[] = {ph, NULL};
    r = tapi_req("GET", path, NULL, hp, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    tapi_free(&r);

    /* the body is checked: no codes, too many, a code that is not text */
    r = tapi_call("POST", "/v1/households/pins", tok_vol, "{\"codes\":[]}");
    assert_int_equal(r.status, 422);
    assert_true(has_field_error(&r, "codes", NULL));
    tapi_free(&r);
    r = tapi_call("POST", "/v1/households/pins", tok_vol, "{\"codes\":[5]}");
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    r = tapi_call("POST", "/v1/households/pins", tok_vol, "{}");
    assert_int_equal(r.status, 422);
    assert_true(has_field_error(&r, "codes", "required"));
    tapi_free(&r);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_household_field_rules),
        cmocka_unit_test(test_product_field_rules),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_huge_bodies_and_headers),
        cmocka_unit_test(test_nfd_stored_as_nfc),
        cmocka_unit_test(test_duplicate_citizen_id),
        cmocka_unit_test(test_duplicate_out_of_scope_hidden),
        cmocka_unit_test(test_pin_not_replayed),
        cmocka_unit_test(test_hostile_params_and_names),
        cmocka_unit_test(test_query_rules),
        cmocka_unit_test(test_pin_route_body),
        cmocka_unit_test(test_pin_batch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
