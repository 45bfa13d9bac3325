/* tests/unit/test_opts: core/opts, the one option parser of every subcommand — values, flags,
 * lists, ranges, positionals, "--", and each refusal answered with exit code 64. */
#include "core/opts.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

struct vals {
    const char *name;
    int64_t n;
    int flag;
    const char *lv[3];
    cs_opt_list list;
};

static int parse(struct vals *v, const char **pos, size_t *npos, int argc, const char **argv)
{
    memset(v, 0, sizeof *v);
    v->list = (cs_opt_list){v->lv, 0, 3};
    const cs_opt opts[] = {
        {"--name", "-n", CS_OPT_STR, 0, 0, &v->name, "TEXT", "a name"},
        {"--count", NULL, CS_OPT_INT, 1, 10, &v->n, "N", "how many"},
        {"--yes", NULL, CS_OPT_FLAG, 0, 0, &v->flag, NULL, "agree"},
        {"--item", NULL, CS_OPT_LIST, 0, 0, &v->list, "X", "repeatable"},
        {0},
    };
    /* stderr carries the refusals; keep the test output readable */
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    int rc = cs_opts_parse("choso test", "[options] A B", opts, argc, (char **)argv, pos, 2, npos);
    fclose(stderr);
    stderr = saved;
    return rc;
}

static void test_values_flags_and_positionals(void **state)
{
    (void)state;
    struct vals v;
    const char *pos[2];
    size_t npos = 9;
    const char *argv[] = {"test",  "--name", "Hà", "A",        "--count=7",
                          "--yes", "--item", "x",  "--item=y", "B"};
    assert_int_equal(parse(&v, pos, &npos, 10, argv), 0);
    assert_string_equal(v.name, "Hà");
    assert_int_equal(v.n, 7);
    assert_int_equal(v.flag, 1);
    assert_int_equal(v.list.n, 2);
    assert_string_equal(v.lv[0], "x");
    assert_string_equal(v.lv[1], "y");
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "A");
    assert_string_equal(pos[1], "B");

    const char *alias[] = {"test", "-n", "x", "--", "--count"};
    assert_int_equal(parse(&v, pos, &npos, 5, alias), 0);
    assert_string_equal(v.name, "x");
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "--count"); /* after "--" everything is an argument */
    assert_int_equal(v.n, 0);
}

static void test_refusals_are_usage_errors(void **state)
{
    (void)state;
    struct vals v;
    const char *pos[2];
    size_t npos;
    const char *unknown[] = {"test", "--nope"};
    const char *unknown_eq[] = {"test", "--nope=1"};
    const char *missing[] = {"test", "--name"};
    const char *flag_value[] = {"test", "--yes=1"};
    const char *low[] = {"test", "--count", "0"};
    const char *high[] = {"test", "--count", "11"};
    const char *junk[] = {"test", "--count", "3x"};
    const char *empty[] = {"test", "--count", ""};
    const char *huge[] = {"test", "--count", "99999999999999999999999"};
    const char *extra[] = {"test", "a", "b", "c"};
    const char *many[] = {"test", "--item", "1", "--item", "2", "--item", "3", "--item", "4"};
    assert_int_equal(parse(&v, pos, &npos, 2, unknown), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 2, unknown_eq), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 2, missing), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 2, flag_value), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 3, low), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 3, high), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 3, junk), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 3, empty), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 3, huge), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 4, extra), CS_EX_USAGE);
    assert_int_equal(parse(&v, pos, &npos, 9, many), CS_EX_USAGE);
    assert_int_equal(v.list.n, 3); /* the first three were kept; the fourth refused */
}

static void test_help(void **state)
{
    (void)state;
    struct vals v;
    const char *pos[2];
    size_t npos;
    const char *help[] = {"test", "--count", "3", "-h", "--nope"};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    int rc = parse(&v, pos, &npos, 5, help);
    fclose(stdout);
    stdout = saved;
    assert_int_equal(rc, CS_OPTS_HELP); /* help wins over what follows it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_flags_and_positionals),
        cmocka_unit_test(test_refusals_are_usage_errors),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
