/* Unit tests of core/log: one JSON object per line, levels, the context id, and redaction of
 * fields that could carry personal data or secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *capture(void (*fn)(void))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cs_log_set_stream(f);
    fn();
    fflush(f);
    cs_log_set_stream(NULL);
    fclose(f);
    return buf;
}

static void emit_levels(void)
{
    cs_log_set_level(CS_LOG_INFO);
    cs_log_set_context("req-12345678");
    cs_debug("hidden", "not shown %d", 1);
    cs_info("shown", "value %d", 42);
    cs_warn("also.shown", "quote \" and newline \n inside");
    cs_log_set_context(NULL);
}

static void test_json_lines_and_levels(void **state)
{
    (void)state;
    char *out = capture(emit_levels);
    /* two lines, each a JSON object with the context id */
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "request_id")), "req-12345678");
        assert_non_null(json_object_get(o, "ts"));
        const char *ev = json_string_value(json_object_get(o, "event"));
        assert_true(!strcmp(ev, "shown") || !strcmp(ev, "also.shown"));
        json_decref(o);
        lines++;
    }
    assert_int_equal(lines, 2);
    free(out);
}

static void emit_personal(void)
{
    cs_log_set_level(CS_LOG_DEBUG);
    cs_log_json(CS_LOG_INFO, "household.created",
                json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:s,s:s}", "cccd", "038090012345", "phone",
                          "0912345678", "pin", "123456", "access_token", "tok-secret", "birth_date",
                          "01/01/1990", "owner", "address", "Thôn 1", "request_id", "req-abcdefgh",
                          "route", "/v1/households/{code}"));
}

static void test_redaction(void **state)
{
    (void)state;
    char *out = capture(emit_personal);
    assert_null(strstr(out, "038090012345"));
    assert_null(strstr(out, "0912345678"));
    assert_null(strstr(out, "123456\""));
    assert_null(strstr(out, "tok-secret"));
    assert_null(strstr(out, "01/01/1990"));
    assert_null(strstr(out, "Thôn 1"));
    assert_non_null(strstr(out, "[redacted]"));
    /* identifiers and route patterns are kept */
    assert_non_null(strstr(out, "req-abcdefgh"));
    assert_non_null(strstr(out, "/v1/households/{code}"));
    free(out);
}

static void test_level_parse(void **state)
{
    (void)state;
    enum cs_log_level l;
    assert_int_equal(cs_log_level_parse("WARN", &l), 0);
    assert_int_equal(l, CS_LOG_WARN);
    assert_int_equal(cs_log_level_parse("loud", &l), -1);
    assert_true(cs_log_is_sensitive_key("owner_phone"));
    assert_true(cs_log_is_sensitive_key("Authorization"));
    assert_false(cs_log_is_sensitive_key("status"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines_and_levels),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
