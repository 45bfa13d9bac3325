/* Pre-2025 commune/ward names and codes through the API (issue 12 point 6): a household's
 * commune_code may be an old code or name merged whole into one new commune — stored as the new
 * one, the answer's "repairs" saying which old name was mapped, the volunteer's scope checked
 * on the new one; a name split between several new communes is a 422 naming the field with the
 * candidates, in Vietnamese. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tok_vol[44], tok_other[44];

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *in[] = {"14797", NULL}, *out[] = {"16591", NULL};
    tapi_token("volunteer", in, tok_vol);
    tapi_token("volunteer", out, tok_other);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

/* a registration with commune_code replaced by `commune` */
static tapi_resp register_in(const char *tok, const char *commune)
{
    char cccd[13], phone[11];
    char *b = tapi_household_body(25, "14797", cccd, phone);
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_object_set_new(o, "commune_code", json_string(commune));
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r = tapi_call("POST", "/v1/households", tok, b);
    free(b);
    return r;
}

static void assert_renamed(const tapi_resp *r, const char *from)
{
    assert_string_equal(json_string_value(json_object_get(r->json, "commune_code")), "14797");
    json_t *rep = json_array_get(json_object_get(r->json, "repairs"), 0);
    assert_non_null(rep);
    assert_string_equal(json_string_value(json_object_get(rep, "field")), "commune_code");
    assert_string_equal(json_string_value(json_object_get(rep, "code")), "commune_renamed");
    assert_string_equal(json_string_value(json_object_get(rep, "from")), from);
    assert_non_null(strstr(json_string_value(json_object_get(rep, "message")),
                           "Phường Trường Thi (14764) → Phường Hạc Thành (14797)"));
}

static void test_old_names_and_codes(void **state)
{
    (void)state;
    /* by old name, with or without "Phường", accents aside; by old code */
    static const char *const given[] = {"Phường Trường Thi", "truong thi", "14764"};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        tapi_resp r = register_in(tok_vol, given[i]);
        if (r.status != 201) fail_msg("%s: %ld %s", given[i], r.status, r.body);
        assert_renamed(&r, given[i]);
        tapi_free(&r);
    }
    /* a current code is no repair */
    tapi_resp r = register_in(tok_vol, "14797");
    assert_int_equal(r.status, 201);
    assert_null(json_object_get(r.json, "repairs"));
    char code[24];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    unsigned version = (unsigned)json_integer_value(json_object_get(r.json, "version"));
    tapi_free(&r);
    /* split between several new communes: refused, the field and the candidates named */
    r = register_in(tok_vol, "Phường Đông Thọ");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"commune_code\""));
    assert_non_null(strstr(r.body, "commune_split"));
    assert_non_null(strstr(r.body, "Phường Hàm Rồng (14758)"));
    assert_non_null(strstr(r.body, "chia cho nhiều xã/phường mới"));
    tapi_free(&r);
    /* the scope is that of the new commune: another commune's volunteer may not */
    r = register_in(tok_other, "Trường Thi");
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    /* an update takes an old name too */
    char path[64], ifm[48];
    snprintf(path, sizeof path, "/v1/households/%s", code);
    snprintf(ifm, sizeof ifm, "If-Match: \"v%u\"", version);
    const char *hdrs[] = {ifm, NULL};
    const char *b = "{\"commune_code\":\"Phường Trường Thi\"}";
    r = tapi_req("PATCH", path, tok_vol, hdrs, NULL, b, strlen(b));
    assert_int_equal(r.status, 200);
    assert_renamed(&r, "Phường Trường Thi");
    tapi_free(&r);
    b = "{\"commune_code\":\"Phường Đông Thọ\"}";
    r = tapi_req("PATCH", path, tok_vol, hdrs, NULL, b, strlen(b));
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "commune_split"));
    tapi_free(&r);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_names_and_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
