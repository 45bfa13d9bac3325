/* Unit tests of service/router: segment matching, literal-beats-parameter, path parameters,
 * 404 vs 405 with the Allow list. No server, no database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "service/router.h"
#include <stdio.h>
#include <string.h>

static int h_dummy(svc_req *r)
{
    (void)r;
    return 0;
}

static const svc_route extras[] = {
    {"GET", "/t/households/{code}", h_dummy, SVC_PUBLIC, SVC_R_INTERNAL},
    {"PUT", "/t/households/{code}", h_dummy, SVC_ROLE_ADMIN, SVC_R_INTERNAL | SVC_R_JSON},
    {"GET", "/t/households/export", h_dummy, SVC_PUBLIC, SVC_R_INTERNAL},
    {"POST", "/t/households/{code}/pin", h_dummy, SVC_PUBLIC, SVC_R_INTERNAL},
    {"GET", "/t/a/{x}/b/{y}", h_dummy, SVC_PUBLIC, SVC_R_INTERNAL},
    {"GET", "/t/web/{rest*}", h_dummy, SVC_PUBLIC, SVC_R_INTERNAL},
};

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++)
        if (svc_router_add(&extras[i])) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    svc_router_clear_extra();
    return 0;
}

static void test_param_extracted(void **state)
{
    (void)state;
    svc_match m;
    assert_int_equal(svc_match_route("GET", "/t/households/TH-2026-00001", &m), 0);
    assert_non_null(m.route);
    assert_string_equal(m.route->pattern, "/t/households/{code}");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].name, "code");
    assert_string_equal(m.params[0].value, "TH-2026-00001");
    svc_match_free(&m);

    assert_int_equal(svc_match_route("GET", "/t/a/1/b/two", &m), 0);
    assert_non_null(m.route);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0].name, "x");
    assert_string_equal(m.params[0].value, "1");
    assert_string_equal(m.params[1].name, "y");
    assert_string_equal(m.params[1].value, "two");
    svc_match_free(&m);
}

static void test_literal_beats_param(void **state)
{
    (void)state;
    svc_match m;
    assert_int_equal(svc_match_route("GET", "/t/households/export", &m), 0);
    assert_non_null(m.route);
    assert_string_equal(m.route->pattern, "/t/households/export");
    assert_int_equal(m.nparams, 0);
    svc_match_free(&m);
}

static void test_method_selects_route(void **state)
{
    (void)state;
    svc_match m;
    assert_int_equal(svc_match_route("PUT", "/t/households/X1", &m), 0);
    assert_non_null(m.route);
    assert_string_equal(m.route->method, "PUT");
    svc_match_free(&m);
    /* HEAD is served by the GET route */
    assert_int_equal(svc_match_route("HEAD", "/t/households/X1", &m), 0);
    assert_non_null(m.route);
    assert_string_equal(m.route->method, "GET");
    svc_match_free(&m);
}

static void test_405_allow(void **state)
{
    (void)state;
    svc_match m;
    assert_int_equal(svc_match_route("DELETE", "/t/households/X1", &m), 0);
    assert_null(m.route);
    assert_int_equal(m.allow, SVC_M_GET | SVC_M_HEAD | SVC_M_PUT);
    char allow[80];
    svc_allow_string(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD, PUT");
    svc_match_free(&m);

    assert_int_equal(svc_match_route("GET", "/t/households/X1/pin", &m), 0);
    assert_null(m.route);
    assert_int_equal(m.allow, SVC_M_POST);
}

static void test_404(void **state)
{
    (void)state;
    svc_match m;
    const char *paths[] = {"/t/households",
                           "/t/households/",
                           "/t/households//pin",
                           "/t/nothing",
                           "",
                           "t/households/x",
                           "/t/households/x/pin/extra",
                           "/t/web/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(svc_match_route("GET", paths[i], &m), 0);
        assert_null(m.route);
        assert_int_equal(m.allow, 0);
    }
    assert_int_equal(svc_match_route("BREW", "/t/nothing", &m), 0);
    assert_null(m.route);
}

static void test_rest_param(void **state)
{
    (void)state;
    svc_match m;
    assert_int_equal(svc_match_route("GET", "/t/web/css/site.css", &m), 0);
    assert_non_null(m.route);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].name, "rest");
    assert_string_equal(m.params[0].value, "css/site.css");
    svc_match_free(&m);
}

static int count_route(const svc_route *r, void *arg)
{
    (void)r;
    ++*(size_t *)arg;
    return 0;
}

static void test_foreach_sees_table_and_extras(void **state)
{
    (void)state;
    size_t n = 0;
    svc_routes_foreach(count_route, &n);
    assert_int_equal(n, svc_routes_count + sizeof extras / sizeof extras[0]);
    assert_true(svc_method_bit("PATCH") == SVC_M_PATCH);
    assert_true(svc_method_bit("get") == 0); /* methods are case-sensitive (RFC 9110) */
}

/* Issue 10: a path parameter that is not plain printable ASCII — non-ASCII text, invalid
 * UTF-8 (%ff%fe decoded), an overlong "/", an emoji, full-width digits, a right-to-left
 * override, a control character — or longer than 128 bytes names nothing: 404 at the router,
 * never a handler (whose database would refuse the bytes: a 503). */
static void test_param_bytes_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"/t/households/TH-2025-0\xC4\x91",
                                      "/t/households/\xFF\xFE",
                                      "/t/households/\xC0\xAF",
                                      "/t/households/\xF0\x9F\x98\x80",
                                      "/t/households/\xEF\xBC\x91",
                                      "/t/households/TH\xE2\x80\xAE-1",
                                      "/t/households/a\x01b",
                                      "/t/a/1/b/\x7f",
                                      "/t/households/\xFF\xFE/pin"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        svc_match m;
        assert_int_equal(svc_match_route("GET", bad[i], &m), 0);
        if (m.route) fail_msg("%s matched %s", bad[i], m.route->pattern);
        svc_match_free(&m);
    }
    char longp[200];
    snprintf(longp, sizeof longp, "/t/households/%0129d", 7);
    svc_match m;
    assert_int_equal(svc_match_route("GET", longp, &m), 0);
    assert_null(m.route);
    svc_match_free(&m);
    /* a space is let through (an owner's typed "th 2026 00037" is normalised by the handler) */
    {
        svc_match sp;
        assert_int_equal(svc_match_route("GET", "/t/households/th 2026 00037", &sp), 0);
        assert_non_null(sp.route);
        svc_match_free(&sp);
    }
    /* a {rest*} parameter may be long, and a plain code still matches */
    assert_int_equal(svc_match_route("GET", "/t/households/TH-2026-00001", &m), 0);
    assert_non_null(m.route);
    svc_match_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_extracted),
        cmocka_unit_test(test_param_bytes_refused),
        cmocka_unit_test(test_literal_beats_param),
        cmocka_unit_test(test_method_selects_route),
        cmocka_unit_test(test_405_allow),
        cmocka_unit_test(test_404),
        cmocka_unit_test(test_rest_param),
        cmocka_unit_test(test_foreach_sees_table_and_extras),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
