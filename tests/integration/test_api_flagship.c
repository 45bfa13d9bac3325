/* Flagship as a designation (issue 12 point 2), through the API with the real MariaDB server:
 * provincial staff maintain the list; a volunteer proposes a product's link by entry name
 * (accent-insensitive) or id; only an admin's approval makes it count; the counted unit is a
 * (household, list entry) pair, so three pack sizes count once; the counters equal
 * `choso targets --rebuild` (cs_targets_verify) after every proposal, approval, refusal,
 * relink, unlink, first live and sale; every decision is audited. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/states.h"
#include "core/targets.h"
#include "core/vn.h"
#include "jobs/import.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE_A "14797"
static char tok_admin[44], tok_vol[44];
static int year_now;

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *in[] = {COMMUNE_A, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", in, tok_vol);
    year_now = vn_today().y;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

/* the counters equal a recomputation from the base tables */
static void assert_rebuild_equal(void)
{
    int64_t diff = -1;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_verify(tapi_db(), &diff, &e), 0);
    assert_int_equal(diff, 0);
}

static int64_t count(const char *metric, int year)
{
    return tsup_i64(tapi_db(),
                    "SELECT COALESCE(SUM(n), 0) FROM target_counts WHERE metric = ? AND year = ?",
                    "si", metric, (int64_t)year);
}

static void household(char code[24])
{
    char cccd[13], phone[11];
    char *b = tapi_household_body(25, COMMUNE_A, cccd, phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    snprintf(code, 24, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
}

/* a product proposed by the volunteer; `link` is the JSON member naming the entry */
static int64_t product(const char *code, const char *name, const char *link, json_t **answer)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", code);
    char *b = tapi_product_body(name);
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_t *x = json_loads(link, 0, NULL);
    json_object_update(o, x);
    json_decref(x);
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r = tapi_call("POST", path, tok_vol, b);
    free(b);
    if (r.status != 201) fail_msg("product: %ld %s", r.status, r.body);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    if (answer) *answer = json_incref(r.json);
    tapi_free(&r);
    assert_rebuild_equal();
    return id;
}

static long decide(int64_t id, const char *body, json_t **answer)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/products/%lld/flagship-decision", (long long)id);
    tapi_resp r = tapi_call("POST", path, tok_admin, body);
    long st = r.status;
    if (answer) *answer = json_incref(r.json);
    tapi_free(&r);
    assert_rebuild_equal();
    return st;
}

static int tr_live(cs_db *d, void *arg, cs_error *err)
{
    int64_t l = *(int64_t *)arg;
    cs_actor a = cs_actor_system("test");
    return cs_listing_transition(d, l, "queued", NULL, NULL, &a, err) ||
                   cs_listing_transition(d, l, "submitted", NULL, NULL, &a, err) ||
                   cs_listing_transition(d, l, "live", NULL, NULL, &a, err)
               ? -1
               : 0;
}

/* a postmart listing of the product goes live (the first one sets first_live_at) */
static int64_t go_live(int64_t prod)
{
    tsup_exec(tapi_db(),
              "INSERT INTO listings (product_id, marketplace_code) VALUES (?, 'postmart')", "i",
              prod);
    int64_t l = tsup_i64(tapi_db(), "SELECT MAX(id) FROM listings WHERE product_id = ?", "i", prod);
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(tapi_db(), tr_live, &l, &e), 0);
    assert_rebuild_equal();
    return l;
}

static int tr_sale(cs_db *d, void *arg, cs_error *err)
{
    return cs_listing_record_sale(d, *(int64_t *)arg, NULL, err);
}

static void sale(int64_t listing)
{
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(tapi_db(), tr_sale, &listing, &e), 0);
    assert_rebuild_equal();
}

static int64_t entry_by_name(const char *name)
{
    return tsup_i64(tapi_db(), "SELECT id FROM flagship_products WHERE name = ?", "s", name);
}

/* staff maintain the list: add, refuse a duplicate name, edit, search accent-insensitively */
static void test_list_maintenance(void **state)
{
    (void)state;
    const char *add = "{\"name\":\"Mắm tép Hòa Lộc (HTX thử)\",\"category\":\"food_dish\","
                      "\"producer\":\"HTX Hòa Lộc\",\"origin_place\":\"xã Hòa Lộc\","
                      "\"ocop_stars\":4,\"certificate_no\":\"1234/QĐ-UBND\",\"ocop_year\":2024}";
    tapi_resp r = tapi_call("POST", "/v1/flagship-products", tok_admin, add);
    assert_int_equal(r.status, 201);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    assert_int_equal(json_integer_value(json_object_get(r.json, "ocop_stars")), 4);
    assert_string_equal(json_string_value(json_object_get(r.json, "certificate_no")),
                        "1234/QĐ-UBND");
    tapi_free(&r);
    /* the same name without accents is the same entry */
    r = tapi_call("POST", "/v1/flagship-products", tok_admin,
                  "{\"name\":\"mam tep hoa loc (htx thu)\",\"category\":\"food_dish\"}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"name\""));
    assert_non_null(strstr(r.body, "flagship_name_taken"));
    tapi_free(&r);
    /* stars out of range, unknown category, a volunteer */
    r = tapi_call("POST", "/v1/flagship-products", tok_admin,
                  "{\"name\":\"Bánh gai Tứ Trụ thử\",\"category\":\"nope\",\"ocop_stars\":6}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "ocop_stars"));
    tapi_free(&r);
    r = tapi_call("POST", "/v1/flagship-products", tok_vol, add);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/flagship-products/%lld", (long long)id);
    r = tapi_call("PATCH", path, tok_admin, "{\"ocop_stars\":5}");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "ocop_stars")), 5);
    assert_string_equal(json_string_value(json_object_get(r.json, "producer")), "HTX Hòa Lộc");
    tapi_free(&r);
    r = tapi_call("GET", "/v1/flagship-products?q=mam%20tep%20hoa", tok_vol, NULL);
    assert_int_equal(r.status, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), id);
    tapi_free(&r);
    snprintf(path, sizeof path, "%lld", (long long)id);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'flagship_product'"
                 " AND entity_id = ? AND action IN ('flagship.create', 'flagship.update')",
                 "s", path),
        2);
}

/* the counted unit is the (household, entry) pair, counted only once approved */
static void test_pairs_and_approval(void **state)
{
    (void)state;
    const char *nem = "Nem chua Thanh Hóa";
    int64_t e_nem = entry_by_name(nem), e_che = entry_by_name("Chè lam Phủ Quảng");
    assert_true(e_nem > 0 && e_che > 0);
    int64_t live0 = count("flagship_products_live", year_now);
    int64_t sold0 = count("flagship_products_sold", year_now);
    char h1[24], h2[24];
    household(h1);
    household(h2);
    json_t *a = NULL;
    /* by name, accents and case aside: proposed, not flagship yet */
    int64_t p1 = product(h1, "Nem chua 200 g", "{\"flagship_entry\":\"nem chua thanh hoa\"}", &a);
    assert_string_equal(json_string_value(json_object_get(a, "flagship_status")), "proposed");
    assert_string_equal(json_string_value(json_object_get(a, "flagship_entry")), nem);
    assert_false(json_is_true(json_object_get(a, "flagship")));
    json_decref(a);
    char link[64];
    snprintf(link, sizeof link, "{\"flagship_id\":%lld}", (long long)e_nem);
    int64_t p2 = product(h1, "Nem chua 500 g", link, NULL);
    int64_t p3 = product(h1, "Nem chua 1 kg", link, NULL);
    int64_t q1 = product(h2, "Nem chua nhà làm", link, NULL);
    /* an entry the list does not have is refused, naming the field */
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", h1);
    char *b = tapi_product_body("Nem chua lạ");
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_object_set_new(o, "flagship_entry", json_string("Nem chua sao Hỏa"));
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r = tapi_call("POST", path, tok_vol, b);
    free(b);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "flagship_entry_unknown"));
    assert_non_null(strstr(r.body, "\"flagship_entry\""));
    tapi_free(&r);
    /* live while only proposed: nothing counts (the old tick neither) */
    go_live(p1);
    int64_t l2 = go_live(p2), l3 = go_live(p3), lq = go_live(q1);
    assert_int_equal(count("flagship_products_live", year_now), live0);
    /* approved one by one: the household's pair counts once, however many pack sizes */
    assert_int_equal(decide(p2, "{\"decision\":\"approve\"}", NULL), 200);
    assert_int_equal(count("flagship_products_live", year_now), live0 + 1);
    assert_int_equal(decide(p1, "{\"decision\":\"approve\"}", NULL), 200);
    assert_int_equal(decide(p3, "{\"decision\":\"approve\"}", &a), 200);
    assert_true(json_is_true(json_object_get(a, "flagship")));
    assert_string_equal(json_string_value(json_object_get(a, "flagship_status")), "approved");
    json_decref(a);
    assert_int_equal(count("flagship_products_live", year_now), live0 + 1);
    /* another household with the same OCOP product is another pair */
    assert_int_equal(decide(q1, "{\"decision\":\"approve\"}", NULL), 200);
    assert_int_equal(count("flagship_products_live", year_now), live0 + 2);
    /* sales of two pack sizes: sold once */
    sale(l2);
    sale(l3);
    sale(lq);
    assert_int_equal(count("flagship_products_sold", year_now), sold0 + 2);
    /* the pair's year is that of its earliest product: p1 went live last year */
    tsup_exec(tapi_db(),
              "UPDATE products SET first_live_at = first_live_at - INTERVAL 1 YEAR WHERE id = ?",
              "i", p1);
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_rebuild(tapi_db(), NULL, &e), 0);
    assert_int_equal(count("flagship_products_live", year_now), live0 + 1);
    assert_int_equal(count("flagship_products_live", year_now - 1) >= 1, 1);
    int64_t last0 = count("flagship_products_live", year_now - 1);
    /* refusing needs a reason; refused, the pair falls back on the next pack size, this year */
    assert_int_equal(decide(p1, "{\"decision\":\"refuse\"}", &a), 422);
    char *txt = json_dumps(a, 0);
    assert_non_null(strstr(txt, "\"reason\""));
    free(txt);
    json_decref(a);
    assert_int_equal(
        decide(p1, "{\"decision\":\"refuse\",\"reason\":\"Không đúng cơ sở đạt OCOP\"}", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "flagship_status")), "refused");
    assert_string_equal(json_string_value(json_object_get(a, "flagship_reason")),
                        "Không đúng cơ sở đạt OCOP");
    json_decref(a);
    assert_int_equal(count("flagship_products_live", year_now - 1), last0 - 1);
    assert_int_equal(count("flagship_products_live", year_now), live0 + 2);
    /* p3 moves to another entry: a new proposal, the old pair still counts through p2 */
    snprintf(path, sizeof path, "/v1/products/%lld", (long long)p3);
    char ifm[48];
    snprintf(ifm, sizeof ifm, "If-Match: \"v%lld\"",
             (long long)tsup_i64(tapi_db(), "SELECT version FROM products WHERE id = ?", "i", p3));
    const char *hdrs[] = {ifm, NULL};
    snprintf(link, sizeof link, "{\"flagship_id\":%lld}", (long long)e_che);
    r = tapi_req("PATCH", path, tok_vol, hdrs, NULL, link, strlen(link));
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "flagship_status")), "proposed");
    tapi_free(&r);
    assert_rebuild_equal();
    assert_int_equal(count("flagship_products_live", year_now), live0 + 2);
    assert_int_equal(decide(p3, "{\"decision\":\"approve\"}", NULL), 200);
    assert_int_equal(count("flagship_products_live", year_now), live0 + 3);
    /* p2 unlinked with the old tick's "no": the (h1, nem) pair is gone, sale included */
    snprintf(path, sizeof path, "/v1/products/%lld", (long long)p2);
    snprintf(ifm, sizeof ifm, "If-Match: \"v%lld\"",
             (long long)tsup_i64(tapi_db(), "SELECT version FROM products WHERE id = ?", "i", p2));
    r = tapi_req("PATCH", path, tok_vol, hdrs, NULL, "{\"flagship\":false}", 18);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "flagship_status")), "none");
    tapi_free(&r);
    assert_rebuild_equal();
    assert_int_equal(count("flagship_products_live", year_now), live0 + 2);
    /* p3's sale was made under the nem entry; it now counts for (h1, chè lam) */
    assert_int_equal(count("flagship_products_sold", year_now), sold0 + 2);
    /* a volunteer cannot decide; the proposals list is filtered by state */
    snprintf(path, sizeof path, "/v1/products/%lld/flagship-decision", (long long)p1);
    r = tapi_call("POST", path, tok_vol, "{\"decision\":\"approve\"}");
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/products?flagship_status=refused", tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    tapi_free(&r);
    /* every decision audited, with the entry */
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE action = 'product.flagship_approve'"
                 " AND entity_id IN (?, ?, ?, ?)",
                 "iiii", p1, p2, p3, q1),
        5);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE action = 'product.flagship_refuse'"
                 " AND entity_id = ? AND JSON_VALUE(detail, '$.reason') LIKE 'Không%'",
                 "i", p1),
        1);
    /* the refused link named again is proposed again (and still counts nothing) */
    snprintf(path, sizeof path, "/v1/products/%lld", (long long)p1);
    snprintf(ifm, sizeof ifm, "If-Match: \"v%lld\"",
             (long long)tsup_i64(tapi_db(), "SELECT version FROM products WHERE id = ?", "i", p1));
    r = tapi_req("PATCH", path, tok_vol, hdrs, NULL, "{\"flagship_entry\":\"Nem chua Thanh Hóa\"}",
                 strlen("{\"flagship_entry\":\"Nem chua Thanh Hóa\"}"));
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "flagship_status")), "proposed");
    assert_true(json_is_null(json_object_get(r.json, "flagship_reason")));
    tapi_free(&r);
    assert_rebuild_equal();
    /* a rebuild changes nothing */
    int64_t before = count("flagship_products_live", year_now);
    cs_error_clear(&e);
    assert_int_equal(cs_targets_rebuild(tapi_db(), NULL, &e), 0);
    assert_int_equal(count("flagship_products_live", year_now), before);
}

/* an import takes the list entry in its flagship column (name, accents aside, or id); "có"
 * alone proposes nothing; an entry the list lacks rejects the row naming it */
static void test_import_takes_entry(void **state)
{
    (void)state;
    char h[24];
    household(h);
    int64_t e_che = entry_by_name("Chè lam Phủ Quảng");
    char csv[1024];
    snprintf(csv, sizeof csv,
             "Mã hộ,Tên sản phẩm,Ngành hàng,Giá (đồng),Khối lượng (gam),Sản phẩm đặc trưng\r\n"
             "%s,Nem chua gói 20 chiếc,Món ăn chế biến sẵn,90000,800,nem chua thanh hoa\r\n"
             "%s,Chè lam hộp nhỏ,Món ăn chế biến sẵn,30000,200,%lld\r\n"
             "%s,Bánh lạ lùng,Món ăn chế biến sẵn,30000,200,Bánh sao Hỏa\r\n"
             "%s,Giò lụa Thanh Hóa,Món ăn chế biến sẵn,30000,200,có\r\n",
             h, h, (long long)e_che, h, h);
    cs_actor a = cs_actor_system("test-import");
    job_import_new in = {
        .kind = IMPORT_PRODUCTS, .filename = "sp.csv", .data = csv, .len = strlen(csv)};
    int64_t id = 0;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(job_import_create(tapi_db(), &a, &in, 0, &id, &err), 0);
    assert_int_equal(job_import_run(tapi_db(), id, NULL, NULL, NULL, &err), 0);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM products p JOIN households x"
                              " ON x.id = p.household_id WHERE x.code = ?"
                              " AND p.flagship_status = 'proposed'",
                              "s", h),
                     2);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM products p JOIN households x"
                              " ON x.id = p.household_id WHERE x.code = ? AND p.flagship_id = ?",
                              "si", h, e_che),
                     1);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM products p JOIN households x"
                              " ON x.id = p.household_id WHERE x.code = ?"
                              " AND p.flagship_status = 'none'",
                              "s", h),
                     1);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM import_rejects WHERE import_id = ?"
                              " AND errors LIKE '%flagship_entry_unknown%'",
                              "i", id),
                     1);
    assert_rebuild_equal();
    /* the same file again: every product unchanged, no new proposal, no version bumped */
    int64_t versions = tsup_i64(tapi_db(), "SELECT SUM(version) FROM products", "");
    assert_int_equal(job_import_create(tapi_db(), &a, &in, 0, &id, &err), 0);
    assert_int_equal(job_import_run(tapi_db(), id, NULL, NULL, NULL, &err), 0);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT n_unchanged FROM imports WHERE id = ?", "i", id),
                     3);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT SUM(version) FROM products", ""), versions);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_maintenance),
        cmocka_unit_test(test_pairs_and_approval),
        cmocka_unit_test(test_import_takes_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
