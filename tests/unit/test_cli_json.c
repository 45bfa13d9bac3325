/* tests/unit/test_cli_json: `choso json` (cli_json_select), the field picker scripts/run-demo
 * reads the API's answers with: paths, arrays, the text form of each kind of value, and the
 * refusals. No database. */
#include "core/buf.h"
#include "core/errors.h"
#include "cli/cli.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* Run the picker on text; returns its status and leaves the output in *out (caller frees). */
static int pick(const char *text, const char *each, const char *const *fields, size_t n,
                cs_buf *out, cs_error *err)
{
    cs_buf_init(out, 1 << 20);
    cs_error_clear(err);
    return cli_json_select(text, strlen(text), each, fields, n, out, err);
}

static void test_fields_of_the_document(void **state)
{
    (void)state;
    const char *doc = "{\"code\":\"TH-2026-00001\",\"pin\":\"042137\",\"n\":7,\"ok\":true,"
                      "\"off\":false,\"gone\":null,\"ratio\":0.5,"
                      "\"inner\":{\"deep\":{\"x\":\"y\"}},\"list\":[10,20,30]}";
    const char *const f[] = {"code",  "pin",          "n",      "ok",        "off", "gone", "none",
                             "ratio", "inner.deep.x", "list.1", "inner.deep"};
    cs_buf out;
    cs_error err;
    assert_int_equal(pick(doc, NULL, f, sizeof f / sizeof f[0], &out, &err), 0);
    /* a PIN keeps its leading zero (a string stays text), null and missing are empty */
    assert_string_equal(out.data,
                        "TH-2026-00001\t042137\t7\t1\t0\t\t\t0.5\ty\t20\t{\"x\":\"y\"}\n");
    cs_buf_free(&out);
}

static void test_one_line_per_element(void **state)
{
    (void)state;
    const char *doc =
        "{\"items\":[{\"id\":3,\"state\":\"active\",\"auth_link\":null},"
        "{\"id\":4,\"state\":\"awaiting_owner\",\"auth_link\":\"http://127.0.0.1:1/a?x=1&y=2\"}],"
        "\"next\":null}";
    const char *const f[] = {"id", "state", "auth_link"};
    cs_buf out;
    cs_error err;
    assert_int_equal(pick(doc, "items", f, 3, &out, &err), 0);
    assert_string_equal(out.data, "3\tactive\t\n4\tawaiting_owner\thttp://127.0.0.1:1/a?x=1&y=2\n");
    cs_buf_free(&out);
    /* an empty array prints nothing at all */
    assert_int_equal(pick("{\"items\":[]}", "items", f, 1, &out, &err), 0);
    assert_int_equal(out.len, 0);
    cs_buf_free(&out);
    /* '.' is the element itself (an array of strings) */
    const char *const self[] = {"."};
    assert_int_equal(pick("[\"a\",\"b\"]", ".", self, 1, &out, &err), 0);
    assert_string_equal(out.data, "a\nb\n");
    cs_buf_free(&out);
}

static void test_text_that_would_split_lines(void **state)
{
    (void)state;
    /* a tab or a line break inside a value must not make a new field or line */
    const char *doc = "{\"name\":\"Nem chua\\tThanh\\nHóa\\r\"}";
    const char *const f[] = {"name"};
    cs_buf out;
    cs_error err;
    assert_int_equal(pick(doc, NULL, f, 1, &out, &err), 0);
    assert_string_equal(out.data, "Nem chua Thanh Hóa \n");
    cs_buf_free(&out);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *const f[] = {"id"};
    cs_buf out;
    cs_error err;
    assert_int_equal(pick("<html>502</html>", NULL, f, 1, &out, &err), -1);
    assert_int_equal(err.code, CS_E_BAD_REQUEST);
    cs_buf_free(&out);
    assert_int_equal(pick("{\"items\":{\"id\":1}}", "items", f, 1, &out, &err), -1);
    assert_int_equal(err.code, CS_E_BAD_REQUEST);
    assert_non_null(strstr(err.detail, "items"));
    cs_buf_free(&out);
    /* a path through a scalar or a bad index is simply absent */
    const char *const g[] = {"id.x", "list.-1", "list.9", "list.x"};
    assert_int_equal(pick("{\"id\":1,\"list\":[1]}", NULL, g, 4, &out, &err), 0);
    assert_string_equal(out.data, "\t\t\t\n");
    cs_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_of_the_document),
        cmocka_unit_test(test_one_line_per_element),
        cmocka_unit_test(test_text_that_would_split_lines),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("cli_json", tests, NULL, NULL);
}
