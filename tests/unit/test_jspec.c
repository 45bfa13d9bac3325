/* Unit tests of core/jspec: body parsing (malformed JSON, duplicate keys, invalid UTF-8
 * located by field) and the declarative field checks. No server, no database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/jspec.h"
#include <stdio.h>
#include <string.h>

static int has_field(const cs_error *e, const char *field, cs_code code)
{
    for (size_t i = 0; i < e->nfields; i++)
        if (!strcmp(e->fields[i].field, field) && e->fields[i].code == code) return 1;
    return 0;
}

static int starts_ha(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)arg;
    if (strncmp(json_string_value(v), "HA", 2))
        return cs_error_field(err, field, CS_F_FORMAT, "HA…");
    return 0;
}

/* outputs of the spec below */
static const char *name, *status, *street, *code;
static int64_t age;
static int youth, street_present;
static const json_t *tags;

static const cs_jfield address_spec[] = {
    {.name = "street",
     .type = CS_J_STRING,
     .flags = CS_JF_REQUIRED | CS_JF_NULLABLE,
     .max_len = 20,
     .out = &street,
     .present = &street_present},
    {.name = NULL},
};
static const cs_jfield tag_item = {.type = CS_J_STRING, .max_len = 5};
static const char *const statuses[] = {"draft", "live", NULL};
static const cs_jfield spec[] = {
    {.name = "name",
     .type = CS_J_STRING,
     .flags = CS_JF_REQUIRED,
     .min_len = 1,
     .max_len = 6,
     .out = &name},
    {.name = "age", .type = CS_J_INT, .min = 15, .max = 120, .out = &age},
    {.name = "youth", .type = CS_J_BOOL, .out = &youth},
    {.name = "status", .type = CS_J_STRING, .one_of = statuses, .out = &status},
    {.name = "tags", .type = CS_J_ARRAY, .max_len = 3, .items = &tag_item, .out = &tags},
    {.name = "address", .type = CS_J_OBJECT, .fields = address_spec},
    {.name = "code", .type = CS_J_STRING, .check = starts_ha, .out = &code},
    {.name = NULL},
};

static json_t *parse(const char *text)
{
    cs_error e;
    cs_error_clear(&e);
    json_t *j = cs_json_parse(text, strlen(text), &e);
    assert_non_null(j);
    return j;
}

static void test_valid_body_fills_outputs(void **state)
{
    (void)state;
    name = status = street = code = NULL;
    age = 0;
    youth = -1;
    json_t *j =
        parse("{\"name\":\"Nguyễn\",\"age\":24,\"youth\":true,\"status\":\"live\","
              "\"tags\":[\"a\",\"bb\"],\"address\":{\"street\":\"Lê Lợi\"},\"code\":\"HA12\"}");
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_json_check(j, spec, &e), 0);
    assert_int_equal(e.nfields, 0);
    assert_string_equal(name, "Nguyễn"); /* 6 characters, 9 bytes: the limit counts characters */
    assert_int_equal(age, 24);
    assert_int_equal(youth, 1);
    assert_string_equal(status, "live");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(street, "Lê Lợi");
    assert_int_equal(street_present, 1);
    assert_string_equal(code, "HA12");
    json_decref(j);
}

static void test_every_bad_field_named(void **state)
{
    (void)state;
    json_t *j =
        parse("{\"age\":\"24\",\"youth\":1,\"status\":\"gone\",\"tags\":[\"a\",7,\"toolong\"],"
              "\"address\":{\"extra\":1},\"code\":\"XY\",\"surprise\":true}");
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_json_check(j, spec, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    assert_true(has_field(&e, "name", CS_F_REQUIRED));
    assert_true(has_field(&e, "age", CS_F_TYPE));
    assert_true(has_field(&e, "youth", CS_F_TYPE));
    assert_true(has_field(&e, "status", CS_F_ENUM));
    assert_true(has_field(&e, "tags[1]", CS_F_TYPE));
    assert_true(has_field(&e, "tags[2]", CS_F_TOO_LONG));
    assert_true(has_field(&e, "address.street", CS_F_REQUIRED));
    assert_true(has_field(&e, "address.extra", CS_F_UNKNOWN));
    assert_true(has_field(&e, "code", CS_F_FORMAT));
    assert_true(has_field(&e, "surprise", CS_F_UNKNOWN));
    assert_int_equal(e.nfields, 10);
    json_decref(j);
}

static void test_lengths_ranges_nulls(void **state)
{
    (void)state;
    cs_error e;
    json_t *j = parse("{\"name\":\"Nguyễn A\",\"age\":14,\"tags\":[\"a\",\"b\",\"c\",\"d\"],"
                      "\"address\":{\"street\":null}}");
    cs_error_clear(&e);
    street = "unchanged";
    assert_int_equal(cs_json_check(j, spec, &e), -1);
    assert_true(has_field(&e, "name", CS_F_TOO_LONG));
    assert_true(has_field(&e, "age", CS_F_RANGE));
    assert_true(has_field(&e, "tags", CS_F_TOO_LONG));
    assert_int_equal(e.nfields, 3); /* null street is allowed (NULLABLE) */
    assert_null(street);
    assert_int_equal(street_present, 2);
    json_decref(j);

    j = parse("{\"name\":\"\",\"age\":2.5,\"youth\":null}");
    cs_error_clear(&e);
    assert_int_equal(cs_json_check(j, spec, &e), -1);
    assert_true(has_field(&e, "name", CS_F_TOO_SHORT));
    assert_true(has_field(&e, "age", CS_F_TYPE));   /* 2.5 is not an integer */
    assert_true(has_field(&e, "youth", CS_F_TYPE)); /* not nullable */
    json_decref(j);

    j = parse("[1,2]");
    cs_error_clear(&e);
    assert_int_equal(cs_json_check(j, spec, &e), -1);
    assert_int_equal(e.code, CS_E_BAD_JSON);
    json_decref(j);
}

static void test_parse_errors(void **state)
{
    (void)state;
    cs_error e;
    const char *bad[] = {"{",          "{\"a\":1,}",        "nope",
                         "{\"a\":1}{", "\"just a string\"", "{\"a\":\"\\u0000\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_error_clear(&e);
        assert_null(cs_json_parse(bad[i], strlen(bad[i]), &e));
        assert_int_equal(e.code, CS_E_BAD_JSON);
        assert_non_null(strstr(e.detail, "line"));
        assert_null(strstr(e.detail, "near")); /* never echo the input */
    }
    cs_error_clear(&e);
    assert_null(cs_json_parse("{\"a\":1,\"a\":2}", 13, &e));
    assert_int_equal(e.code, CS_E_BAD_JSON);
    cs_error_clear(&e);
    assert_null(cs_json_parse("", 0, &e));
    assert_int_equal(e.code, CS_E_BAD_JSON);
}

static void test_bad_utf8_field_named(void **state)
{
    (void)state;
    cs_error e;
    const char body[] =
        "{\"name\":\"ok\",\"addr\":{\"street\":\"L\xC3\x28i\"},\"list\":[\"x\",\"\xFF\"]}";
    cs_error_clear(&e);
    assert_null(cs_json_parse(body, sizeof body - 1, &e));
    assert_int_equal(e.code, CS_E_BAD_UTF8);
    assert_int_equal(cs_code_status(e.code), 400);
    assert_int_equal(e.nfields, 2);
    assert_true(has_field(&e, "addr.street", CS_F_UTF8));
    assert_true(has_field(&e, "list[1]", CS_F_UTF8));

    const char key[] = "{\"n\xC0\xAF\":1}"; /* overlong '/' in a member name */
    cs_error_clear(&e);
    assert_null(cs_json_parse(key, sizeof key - 1, &e));
    assert_int_equal(e.code, CS_E_BAD_UTF8);
    assert_true(has_field(&e, "(key)", CS_F_UTF8));

    const char surrogate[] = "{\"s\":\"\xED\xA0\x80\"}"; /* CESU surrogate, not UTF-8 */
    cs_error_clear(&e);
    assert_null(cs_json_parse(surrogate, sizeof surrogate - 1, &e));
    assert_int_equal(e.code, CS_E_BAD_UTF8);
    assert_true(has_field(&e, "s", CS_F_UTF8));
}

static void test_utf8_helpers(void **state)
{
    (void)state;
    assert_true(cs_utf8_valid("Thanh Hóa", strlen("Thanh Hóa")));
    assert_false(cs_utf8_valid("\xC3", 1));
    assert_false(cs_utf8_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(cs_utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
    assert_true(cs_utf8_valid("\xF0\x9F\x8D\x9A", 4));  /* 🍚 */
    assert_int_equal(cs_utf8_len("Đặc sản", strlen("Đặc sản")), 7);
}

/* The spreadsheet coercions: cells arrive as text, numbers or nothing. */
static int64_t qty;
static int paid, paid_present, qty_present;
static char seen[64]; /* what the check was given, after coercion */

static int remember(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)field, (void)arg, (void)err;
    snprintf(seen, sizeof seen, "%s", json_string_value(v));
    return 0;
}

static const cs_jfield sheet_spec[] = {
    {.name = "qty",
     .type = CS_J_INT,
     .flags = CS_JF_INT_TEXT | CS_JF_REQUIRED | CS_JF_NULL_ABSENT,
     .min = 1,
     .max = 99,
     .out = &qty,
     .present = &qty_present},
    {.name = "paid",
     .type = CS_J_BOOLISH,
     .flags = CS_JF_NULL_ABSENT,
     .out = &paid,
     .present = &paid_present},
    {.name = "code",
     .type = CS_J_STRING,
     .flags = CS_JF_INT_TEXT | CS_JF_CLEAN,
     .max_len = 5,
     .check = remember},
    {.name = "note",
     .type = CS_J_STRING,
     .flags = CS_JF_CLEAN | CS_JF_EMPTY_ABSENT,
     .min_len = 1,
     .max_len = 8,
     .check = remember},
    {.name = "text",
     .type = CS_J_STRING,
     .flags = CS_JF_CLEAN | CS_JF_LINES,
     .min_len = 3,
     .check = remember},
    {.name = NULL},
};

static int sheet_check(const char *text, cs_error *e)
{
    json_t *j = parse(text);
    cs_error_clear(e);
    seen[0] = '\0';
    int rc = cs_json_check(j, sheet_spec, e);
    json_decref(j);
    return rc;
}

static void test_coercions_accepted(void **state)
{
    (void)state;
    cs_error e;
    static const struct {
        const char *cell;
        int want;
    } yes_no[] = {{"true", 1},  {"1", 1},          {"0", 0},      {"\"có\"", 1}, {"\"Không\"", 0},
                  {"\"x\"", 1}, {"\"ĐỒNG Ý\"", 1}, {"\"no\"", 0}, {"false", 0}};
    for (size_t i = 0; i < sizeof yes_no / sizeof yes_no[0]; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"qty\":2,\"paid\":%s}", yes_no[i].cell);
        paid = -1;
        assert_int_equal(sheet_check(body, &e), 0);
        assert_int_equal(paid, yes_no[i].want);
        assert_int_equal(paid_present, 1);
    }
    /* an integer given as text, spaces around; an empty cell (null, blank text) is absent */
    assert_int_equal(sheet_check("{\"qty\":\" 12 \",\"paid\":\"  \",\"note\":\"\"}", &e), 0);
    assert_int_equal(qty, 12);
    assert_int_equal(paid_present, 0);
    assert_string_equal(seen, ""); /* the blank note never reached its check */
    assert_int_equal(sheet_check("{\"qty\":3,\"paid\":null}", &e), 0);
    assert_int_equal(paid_present, 0);
    /* a number where text is meant is its digits; text is cleaned before its length is counted */
    assert_int_equal(sheet_check("{\"qty\":3,\"code\":14797}", &e), 0);
    assert_string_equal(seen, "14797");
    assert_int_equal(sheet_check("{\"qty\":3,\"note\":\"   a    b   c  \"}", &e), 0);
    assert_string_equal(seen, "a b c");
    /* lines cleaned one by one, the breaks kept */
    assert_int_equal(sheet_check("{\"qty\":3,\"text\":\"\\n  một  \\n\\nhai \"}", &e), 0);
    assert_string_equal(seen, "một\n\nhai");
}

static void test_coercions_refused(void **state)
{
    (void)state;
    cs_error e;
    assert_int_equal(sheet_check("{\"qty\":\"12 cái\",\"paid\":\"có lẽ\",\"code\":1.5}", &e), -1);
    assert_true(has_field(&e, "qty", CS_F_TYPE));
    assert_true(has_field(&e, "paid", CS_F_ENUM));
    assert_true(has_field(&e, "code", CS_F_TYPE)); /* a real is not digits */
    assert_int_equal(e.nfields, 3);
    assert_int_equal(sheet_check("{\"qty\":\"  \",\"paid\":2}", &e), -1);
    assert_true(has_field(&e, "qty", CS_F_REQUIRED)); /* blank text is an absent value */
    assert_true(has_field(&e, "paid", CS_F_TYPE));    /* only 0 and 1 are booleans */
    assert_int_equal(sheet_check("{\"qty\":\"120\",\"paid\":[]}", &e), -1);
    assert_true(has_field(&e, "qty", CS_F_RANGE)); /* the range applies to the text's number */
    assert_true(has_field(&e, "paid", CS_F_TYPE));
    /* cleaned to nothing with a minimum: required; the length counts the cleaned text */
    assert_int_equal(sheet_check("{\"qty\":1,\"note\":\"   \",\"code\":\"  123456 \"}", &e), -1);
    assert_true(has_field(&e, "note", CS_F_REQUIRED));
    assert_true(has_field(&e, "code", CS_F_TOO_LONG));
    /* "a \n " keeps its break: "a\n", two characters */
    assert_int_equal(sheet_check("{\"qty\":1,\"text\":\"a \\n \"}", &e), -1);
    assert_true(has_field(&e, "text", CS_F_TOO_SHORT));
    assert_int_equal(e.nfields, 1);
    assert_int_equal(sheet_check("{\"qty\":1,\"text\":\" \\n  \\n\"}", &e), -1);
    assert_true(has_field(&e, "text", CS_F_REQUIRED)); /* blank lines only: nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_body_fills_outputs),
        cmocka_unit_test(test_every_bad_field_named),
        cmocka_unit_test(test_lengths_ranges_nulls),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_bad_utf8_field_named),
        cmocka_unit_test(test_utf8_helpers),
        cmocka_unit_test(test_coercions_accepted),
        cmocka_unit_test(test_coercions_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
