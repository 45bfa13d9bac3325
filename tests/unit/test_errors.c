/* tests/unit/test_errors: the error registry (every code complete, names unique and stable)
 * and the cs_error helpers. No database. */
#include "core/errors.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void test_registry_complete(void **state)
{
    (void)state;
    assert_true(CS_CODE__COUNT > 50);
    for (unsigned i = 0; i < CS_CODE__COUNT; i++) {
        cs_code c = (cs_code)i;
        const char *name = cs_code_name(c);
        assert_non_null(name);
        if (!*name) fail_msg("code %u has no name", i);
        /* stable names are lower-case snake case: they end up in API clients' code */
        for (const char *p = name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                fail_msg("code %u name '%s' is not snake_case", i, name);
        /* unique: looking the name up finds this very code */
        if (cs_code_from_name(name) != c)
            fail_msg("name '%s' used twice (codes %u and %u)", name, i,
                     (unsigned)cs_code_from_name(name));
        int st = cs_code_status(c);
        if (!(st == 200 || (st >= 400 && st <= 599))) fail_msg("code '%s' has status %d", name, st);
        if (st == 200 && c != CS_OK) fail_msg("code '%s' is an error with status 200", name);
        const char *vi = cs_code_message(c, CS_LANG_VI), *en = cs_code_message(c, CS_LANG_EN);
        if (!vi || !*vi) fail_msg("code '%s' has no Vietnamese message", name);
        if (!en || !*en) fail_msg("code '%s' has no English message", name);
    }
}

static void test_registry_pinned(void **state)
{
    (void)state;
    /* Names and statuses clients already depend on: changing one is a breaking change. */
    static const struct {
        cs_code c;
        const char *name;
        int status;
    } pinned[] = {
        {CS_OK, "ok", 200},
        {CS_E_INTERNAL, "internal", 500},
        {CS_E_VALIDATION, "validation_failed", 422},
        {CS_E_NOT_FOUND, "not_found", 404},
        {CS_E_PRECONDITION, "version_mismatch", 412},
        {CS_E_PRECONDITION_REQUIRED, "if_match_required", 428},
        {CS_E_TOO_LARGE, "body_too_large", 413},
        {CS_E_BAD_JSON, "malformed_json", 400},
        {CS_E_BAD_UTF8, "body_invalid_utf8", 400},
        {CS_E_UNAUTHENTICATED, "unauthenticated", 401},
        {CS_E_FORBIDDEN, "forbidden", 403},
        {CS_E_RATE_LIMITED, "rate_limited", 429},
        {CS_E_DUPLICATE_HOUSEHOLD, "household_exists", 409},
        {CS_E_DB_SOFT, "database_retry", 503},
        {CS_E_CONFIG, "config_invalid", 500},
        {CS_F_REQUIRED, "required", 422},
        {CS_F_UTF8, "invalid_utf8", 422},
        {CS_F_PHONE_INVALID, "phone_invalid", 422},
        {CS_F_PHONE_LANDLINE, "phone_landline", 422},
        {CS_F_PHONE_PREFIX, "phone_prefix", 422},
        {CS_F_CCCD_INVALID, "cccd_invalid", 422},
        {CS_F_CCCD_PROVINCE, "cccd_province", 422},
        {CS_F_CCCD_BIRTH, "cccd_birth_mismatch", 422},
        {CS_F_CCCD_SCIENTIFIC, "cccd_scientific", 422},
        {CS_F_DATE_INVALID, "date_invalid", 422},
        {CS_F_PRICE, "price_invalid", 422},
    };
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        assert_string_equal(cs_code_name(pinned[i].c), pinned[i].name);
        assert_int_equal(cs_code_status(pinned[i].c), pinned[i].status);
        assert_int_equal(cs_code_from_name(pinned[i].name), pinned[i].c);
    }
    assert_string_equal(cs_code_message(CS_F_PHONE_LANDLINE, CS_LANG_VI),
                        "Đây là số máy bàn; cần số di động");
    assert_string_equal(cs_code_message(CS_F_PHONE_LANDLINE, CS_LANG_EN),
                        "This is a landline; a mobile number is required");
}

static void test_registry_out_of_range(void **state)
{
    (void)state;
    cs_code bogus = (cs_code)(CS_CODE__COUNT + 5);
    assert_string_equal(cs_code_name(bogus), "internal");
    assert_int_equal(cs_code_status(bogus), 500);
    assert_string_equal(cs_code_message(bogus, CS_LANG_EN),
                        cs_code_message(CS_E_INTERNAL, CS_LANG_EN));
    assert_string_equal(cs_code_message((cs_code)-1, CS_LANG_VI),
                        cs_code_message(CS_E_INTERNAL, CS_LANG_VI));
    assert_int_equal(cs_code_from_name("no_such_code"), CS_CODE__COUNT);
    assert_int_equal(cs_code_from_name(""), CS_CODE__COUNT);
    assert_int_equal(cs_code_from_name(NULL), CS_CODE__COUNT);
    assert_int_equal(cs_code_from_name("PHONE_INVALID"), CS_CODE__COUNT); /* exact only */
    /* an unknown language value falls back to Vietnamese */
    assert_string_equal(cs_code_message(CS_OK, (cs_lang)7), "Thành công");
}

static void test_error_set(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(e.code, CS_OK);
    assert_false(cs_error_failed(&e));
    assert_false(cs_error_failed(NULL));
    assert_int_equal(cs_error_set(&e, CS_E_DB, "pool of %d exhausted", 16), -1);
    assert_int_equal(e.code, CS_E_DB);
    assert_string_equal(e.detail, "pool of 16 exhausted");
    assert_true(cs_error_failed(&e));
    assert_int_equal(cs_error_set(&e, CS_E_NOT_FOUND, NULL), -1);
    assert_int_equal(e.code, CS_E_NOT_FOUND);
    assert_string_equal(e.detail, ""); /* old detail does not linger */
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cs_error_set(&e, CS_E_INTERNAL, "%s", big);
    assert_int_equal(strlen(e.detail), sizeof e.detail - 1); /* truncated, terminated */
    assert_int_equal(cs_error_set(NULL, CS_E_DB, "x"), -1);
    cs_error_clear(&e);
    assert_string_equal(e.detail, "");
    assert_int_equal(e.nfields, 0);
}

static void test_error_fields(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_error_field(&e, "phone", CS_F_PHONE_LANDLINE, NULL), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    assert_int_equal(e.nfields, 1);
    assert_string_equal(e.fields[0].field, "phone");
    assert_int_equal(e.fields[0].code, CS_F_PHONE_LANDLINE);
    assert_string_equal(e.fields[0].detail, "");
    cs_error_field(&e, "name", CS_F_TOO_LONG, "max 200");
    assert_int_equal(e.nfields, 2);
    assert_string_equal(e.fields[1].detail, "max 200");
    /* a top-level code already set is kept */
    cs_error_clear(&e);
    cs_error_set(&e, CS_E_CONFIG, "bad settings");
    cs_error_field(&e, "http.port", CS_F_RANGE, NULL);
    assert_int_equal(e.code, CS_E_CONFIG);
    /* past the limit fields are dropped, never written out of bounds */
    cs_error_clear(&e);
    for (int i = 0; i < CS_MAX_FIELD_ERRORS + 10; i++)
        cs_error_field(&e, "f", CS_F_REQUIRED, NULL);
    assert_int_equal(e.nfields, CS_MAX_FIELD_ERRORS);
    /* long names and details are cut to fit */
    cs_error_clear(&e);
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cs_error_field(&e, longname, CS_F_REQUIRED, longname);
    assert_int_equal(strlen(e.fields[0].field), sizeof e.fields[0].field - 1);
    assert_int_equal(strlen(e.fields[0].detail), sizeof e.fields[0].detail - 1);
    cs_error_field(&e, NULL, CS_F_REQUIRED, NULL);
    assert_string_equal(e.fields[1].field, "");
    assert_int_equal(cs_error_field(NULL, "x", CS_F_REQUIRED, NULL), -1);
}

static void test_lang_from_header(void **state)
{
    (void)state;
    static const struct {
        const char *h;
        cs_lang want;
    } cases[] = {
        {NULL, CS_LANG_VI},
        {"", CS_LANG_VI},
        {"vi", CS_LANG_VI},
        {"vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", CS_LANG_VI},
        {"en", CS_LANG_EN},
        {"EN", CS_LANG_EN},
        {"en-US", CS_LANG_EN},
        {"en-GB,en;q=0.9", CS_LANG_EN},
        {"en;q=0.8, vi", CS_LANG_EN}, /* first listed wins */
        {"  en", CS_LANG_EN},
        {"en_US", CS_LANG_EN},
        {"fr-FR,en;q=0.5", CS_LANG_VI},
        {"*", CS_LANG_VI},
        {"eo", CS_LANG_VI},  /* Esperanto */
        {"enm", CS_LANG_VI}, /* Middle English is not English enough */
        {"e", CS_LANG_VI},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cs_lang_from_header(cases[i].h) != cases[i].want)
            fail_msg("'%s' → wrong language", cases[i].h ? cases[i].h : "(null)");
}

/* Volunteers read details in Vietnamese: no "(min 2)", "(integer)" or "(not_started)" left. */
static void test_detail_text_vi(void **state)
{
    (void)state;
    static const struct {
        const char *en, *vi;
    } cases[] = {
        {"max 20", "tối đa 20"},
        {"min 18", "tối thiểu 18"},
        {"max 200 characters", "tối đa 200 ký tự"},
        {"min 2 characters", "tối thiểu 2 ký tự"},
        {"max 16 items", "tối đa 16 mục"},
        {"expected integer", "phải là số nguyên"},
        {"expected string, got null", "phải là chuỗi chữ (đang để trống)"},
        {"integer", "số nguyên"},
        {"digits in a name", "tên có chữ số"},
        {"letters only", "chỉ gồm chữ cái"},
        {"1..5", "từ 1 đến 5"},
        {"not_started", "chưa mở gian hàng"},
        {"Lazada: hộ chưa có cửa hàng đang hoạt động trên sàn này (trạng thái: not_started)",
         "Lazada: hộ chưa có cửa hàng đang hoạt động trên sàn này (trạng thái: chưa mở gian "
         "hàng)"},
        /* numbers, codes and names stay as given */
        {"2000-2100", "2000-2100"},
        {"TCVN3", "TCVN3"},
        {"14797", "14797"},
        {"max of something", "max of something"},
        {"", ""},
    };
    char out[200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(cs_detail_text(cases[i].en, CS_LANG_VI, out, sizeof out), cases[i].vi);
    assert_string_equal(cs_detail_text("max 20", CS_LANG_EN, out, sizeof out), "max 20");
    assert_string_equal(cs_detail_text(NULL, CS_LANG_VI, out, sizeof out), "");
    char tiny[6];
    assert_string_equal(cs_detail_text("expected integer", CS_LANG_VI, tiny, sizeof tiny), "phả");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_complete),     cmocka_unit_test(test_registry_pinned),
        cmocka_unit_test(test_registry_out_of_range), cmocka_unit_test(test_error_set),
        cmocka_unit_test(test_error_fields),          cmocka_unit_test(test_lang_from_header),
        cmocka_unit_test(test_detail_text_vi),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
