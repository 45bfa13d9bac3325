/* The targets API: GET /v1/targets (roles, a volunteer's scope, breakdowns, bad parameters),
 * PUT /v1/targets/{year}/{metric} (admin only, audited), the report downloads (CSV and XLSX read
 * back, the same numbers as the JSON) and the attention list. Server in-process, MariaDB of
 * scripts/run-tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/states.h"
#include "core/targets.h"
#include "core/vn.h"
#include "jobs/sheet.h"
#include "service/h_targets.h"
#include "tests/support/tapi.h"
#include "tests/support/tcontract.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE_A "14797"
#define COMMUNE_B "16591"

static char tok_admin[44], tok_monitor[44], tok_vol[44], tok_vol_none[44];
static int year;
static int64_t rejected_listing;

static int64_t make_household(const char *commune, int age, char code[24])
{
    char cccd[13], phone[11];
    char *body = tapi_household_body(age, commune, cccd, phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, body);
    free(body);
    if (r.status != 201) fail_msg("create household: %ld %s", r.status, r.body);
    snprintf(code, 24, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    return tsup_i64(tapi_db(), "SELECT id FROM households WHERE code = ?", "s", code);
}

struct mv {
    int listing;
    int64_t id;
    const char *to, *reason;
};
static int mv_tx(cs_db *d, void *arg, cs_error *err)
{
    struct mv *m = arg;
    cs_actor a = cs_actor_system("test");
    return m->listing ? cs_listing_transition(d, m->id, m->to, m->reason ? "mp_rejected" : NULL,
                                              m->reason, &a, err)
                      : cs_account_transition(d, m->id, m->to, NULL, NULL, &a, err);
}
static void walk(int listing, int64_t id, const char *const *path, const char *reason)
{
    for (; *path; path++) {
        struct mv m = {listing, id, *path, reason};
        cs_error e;
        cs_error_clear(&e);
        if (cs_db_tx(tapi_db(), mv_tx, &m, &e))
            fail_msg("%s -> %s: %s", listing ? "listing" : "account", *path, e.detail);
    }
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *a[] = {COMMUNE_A, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_monitor);
    tapi_token("volunteer", a, tok_vol);
    tapi_token("volunteer", NULL, tok_vol_none);
    year = vn_today().y;
    cs_db *db = tapi_db();
    static const char *const acc_path[] = {"awaiting_owner", "authorized", "active", NULL};
    /* three youth-led households onboarded: two in A, one in B; one older owner in B */
    char code[24];
    for (int i = 0; i < 4; i++) {
        int64_t h = make_household(i < 2 ? COMMUNE_A : COMMUNE_B, i == 3 ? 50 : 24, code);
        tsup_exec(db, "INSERT INTO seller_accounts (household_id, marketplace_code) VALUES (?, ?)",
                  "is", h, i ? "voso" : "postmart");
        walk(0, (int64_t)cs_db_insert_id(db), acc_path, NULL);
        char *pb = tapi_product_body("Chè lam Phủ Quảng");
        char path[80];
        snprintf(path, sizeof path, "/v1/households/%s/products", code);
        tapi_resp r = tapi_call("POST", path, tok_admin, pb);
        free(pb);
        if (r.status != 201) fail_msg("create product: %ld %s", r.status, r.body);
        int64_t p = json_integer_value(json_object_get(r.json, "id"));
        tapi_free(&r);
        /* flagship: linked to a list entry and approved (issue 12); one household each */
        tsup_exec(db,
                  "UPDATE products SET flagship = TRUE, flagship_status = 'approved',"
                  " flagship_id = (SELECT MIN(id) FROM flagship_products) WHERE id = ?",
                  "i", p);
        tsup_exec(db, "INSERT INTO listings (product_id, marketplace_code) VALUES (?, 'shopee')",
                  "i", p);
        int64_t l = (int64_t)cs_db_insert_id(db);
        if (i == 0) {
            static const char *const live[] = {"queued", "submitted", "live", NULL};
            walk(1, l, live, NULL);
        } else if (i == 1) {
            static const char *const rej[] = {"queued", "submitted", "rejected", NULL};
            walk(1, l, rej, "Ảnh sản phẩm phải có nền trắng");
            rejected_listing = l;
        }
    }
    /* a dead job and an authorisation about to lapse, for the attention list */
    tsup_exec(
        db,
        "INSERT INTO jobs (kind, payload, state, attempts, last_error, finished_at)"
        " VALUES ('listing.publish', '{}', 'dead', 8, 'marketplace_unavailable', UTC_TIMESTAMP())",
        "");
    tsup_exec(db,
              "UPDATE seller_accounts SET refresh_expires_at = UTC_TIMESTAMP() + INTERVAL 2 DAY"
              " WHERE marketplace_code = 'postmart'",
              "");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

static json_int_t achieved(const json_t *p, int m)
{
    return json_integer_value(
        json_object_get(json_array_get(json_object_get(p, "metrics"), (size_t)m), "achieved"));
}

/* every answer is checked against schemas/openapi.yaml (status, content type, JSON schema) */
static void contract(const char *method, const char *pattern, const tapi_resp *r)
{
    char ctype[160], why[512];
    if (tcontract_check(method, pattern, r->status,
                        tapi_header(r, "Content-Type", ctype, sizeof ctype), r->body, r->len, why,
                        sizeof why))
        fail_msg("%s %s → %ld: %s", method, pattern, r->status, why);
}

static const char *pattern_of(const char *path)
{
    if (!strncmp(path, "/v1/targets/", 12)) return "/v1/targets/{year}/{metric}";
    if (!strncmp(path, "/v1/targets", 11)) return "/v1/targets";
    if (!strncmp(path, "/v1/reports/targets.csv", 23)) return "/v1/reports/targets.csv";
    if (!strncmp(path, "/v1/reports/targets.xlsx", 24)) return "/v1/reports/targets.xlsx";
    return "/v1/attention";
}

static tapi_resp call(const char *method, const char *path, const char *token, const char *json)
{
    tapi_resp r = tapi_call(method, path, token, json);
    contract(method, pattern_of(path), &r);
    return r;
}

static tapi_resp get(const char *path, const char *token)
{
    return call("GET", path, token, NULL);
}

static void test_progress_and_roles(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/v1/targets?year=%d", year);
    tapi_resp r = get(path, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    r = get(path, tok_monitor);
    assert_int_equal(r.status, 200);
    assert_int_equal(achieved(r.json, CS_M_HOUSEHOLDS), 3);
    assert_int_equal(achieved(r.json, CS_M_LIVE), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "metrics"), 0), "goal")),
                     year >= 2024 && year <= 2027 ? 2000 : 0);
    assert_null(json_object_get(r.json, "breakdown"));
    tapi_free(&r);
    /* the same as the function */
    json_t *p = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(
        svc_targets_progress_json(tapi_db(), year, CS_BY_COMMUNE, vn_today(), NULL, 0, &p, &e), 0);
    snprintf(path, sizeof path, "/v1/targets?year=%d&by=commune", year);
    r = get(path, tok_admin);
    assert_int_equal(r.status, 200);
    json_t *rows = json_object_get(r.json, "breakdown");
    assert_int_equal(json_array_size(rows), 166);
    assert_true(json_equal(rows, json_object_get(p, "breakdown")));
    assert_true(json_equal(json_object_get(r.json, "metrics"), json_object_get(p, "metrics")));
    tapi_free(&r);
    json_decref(p);
    /* a volunteer sees its commune only */
    r = get(path, tok_vol);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "breakdown")), 1);
    assert_int_equal(achieved(r.json, CS_M_HOUSEHOLDS), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "scope"), 0)),
                        COMMUNE_A);
    tapi_free(&r);
    r = get(path, tok_vol_none);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "breakdown")), 0);
    assert_int_equal(achieved(r.json, CS_M_HOUSEHOLDS), 0);
    tapi_free(&r);
    /* breakdowns */
    static const char *const bys[] = {"former_district", "marketplace", "month"};
    static const size_t n[] = {27, 6, 12}; /* 6 marketplaces with Sendo */
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/v1/targets?year=%d&by=%s", year, bys[i]);
        r = get(path, tok_monitor);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(json_object_get(r.json, "breakdown")), n[i]);
        tapi_free(&r);
    }
    r = get("/v1/targets?by=village", tok_monitor);
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    r = get("/v1/targets?year=1999", tok_monitor);
    assert_int_equal(r.status, 422);
    tapi_free(&r);
}

static void test_put_goal(void **state)
{
    (void)state;
    tapi_resp r =
        tapi_call("PUT", "/v1/targets/2027/flagship_products_sold", tok_monitor, "{\"goal\": 20}");
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = call("PUT", "/v1/targets/2027/flagship_products_sold", tok_vol, "{\"goal\": 20}");
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = call("PUT", "/v1/targets/2027/flagship_products_sold", tok_admin, "{\"goal\": 20}");
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = call("PUT", "/v1/targets/2027/households_onboarded", tok_admin,
             "{\"goal\": 12, \"commune_code\": \"" COMMUNE_A "\"}");
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = get("/v1/targets?year=2027&by=commune", tok_vol);
    assert_int_equal(r.status, 200);
    /* the volunteer's goal is its commune's sub-goal */
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "metrics"), 0), "goal")),
                     12);
    tapi_free(&r);
    r = get("/v1/targets?year=2027", tok_monitor);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "metrics"), 2), "goal")),
                     20);
    tapi_free(&r);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM audit_log WHERE action = 'target.set'"
                              " AND actor_kind = 'token'",
                              ""),
                     2);
    r = call("PUT", "/v1/targets/2027/ducks", tok_admin, "{\"goal\": 1}");
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    r = call("PUT", "/v1/targets/2027/households_onboarded", tok_admin,
             "{\"goal\": -5, \"extra\": 1}");
    assert_int_equal(r.status, 422);
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 2);
    tapi_free(&r);
    r = call("PUT", "/v1/targets/2027/households_onboarded", tok_admin,
             "{\"goal\": 5, \"commune_code\": \"00000\"}");
    assert_int_equal(r.status, 422);
    tapi_free(&r);
}

/* the province row of a report read back: the first metric's total */
static void check_download(const tapi_resp *r, const char *ctype, json_int_t households)
{
    char h[160];
    assert_int_equal(r->status, 200);
    assert_non_null(tapi_header(r, "Content-Type", h, sizeof h));
    assert_non_null(strstr(h, ctype));
    assert_non_null(tapi_header(r, "Content-Disposition", h, sizeof h));
    assert_non_null(strstr(h, "attachment"));
    sheet *s = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(sheet_read(r->body, r->len, NULL, &s, &e), 0);
    size_t first = (size_t)-1;
    for (size_t i = 0; i < sheet_nrows(s); i++)
        if (!strcmp(sheet_cell(s, i, 2), "Toàn tỉnh")) first = i;
    assert_true(first != (size_t)-1);
    assert_int_equal(strtol(sheet_cell(s, first, 4), NULL, 10), households);
    assert_int_equal(sheet_nrows(s) - first - 1, 166);
    sheet_free(s);
}

static void test_reports(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/v1/reports/targets.csv?year=%d", year);
    tapi_resp r = get(path, tok_monitor);
    assert_memory_equal(r.body, "\xEF\xBB\xBF", 3);
    check_download(&r, "text/csv", 3);
    tapi_free(&r);
    snprintf(path, sizeof path, "/v1/reports/targets.xlsx?year=%d", year);
    r = get(path, tok_admin);
    assert_memory_equal(r.body, "PK", 2);
    check_download(&r, "spreadsheetml", 3);
    tapi_free(&r);
    r = get(path, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
}

static void test_attention(void **state)
{
    (void)state;
    tapi_resp r = get("/v1/attention", tok_vol);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = get("/v1/attention", tok_monitor);
    assert_int_equal(r.status, 200);
    json_t *rej = json_object_get(json_object_get(r.json, "rejected_listings"), "items");
    assert_int_equal(json_array_size(rej), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 0), "listing_id")),
                     rejected_listing);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rej, 0), "reason")),
                        "Ảnh sản phẩm phải có nền trắng");
    json_t *dead = json_object_get(json_object_get(r.json, "dead_jobs"), "items");
    assert_int_equal(json_array_size(dead), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(dead, 0), "kind")),
                        "listing.publish");
    json_t *exp = json_object_get(json_object_get(r.json, "expiring_authorisations"), "items");
    assert_int_equal(json_array_size(exp), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(exp, 0), "marketplace")),
                        "postmart");
    /* four onboarded, one with a live product */
    json_t *idle =
        json_object_get(json_object_get(r.json, "onboarded_without_live_product"), "items");
    assert_int_equal(json_array_size(idle), 3);
    assert_false(json_is_true(
        json_object_get(json_object_get(r.json, "onboarded_without_live_product"), "more")));
    tapi_free(&r);
    r = get("/v1/attention?limit=1", tok_admin);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(
        json_object_get(json_object_get(r.json, "onboarded_without_live_product"), "more")));
    tapi_free(&r);
}

static void test_contract_checked(void **state)
{
    (void)state;
    printf("%u answers checked against openapi.yaml\n", tcontract_count());
    assert_true(tcontract_count() >= 20);
    tcontract_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_and_roles),
        cmocka_unit_test(test_put_goal),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_contract_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
