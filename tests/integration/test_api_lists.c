/* Lists and filters of the API: cursor pagination (every row once, in order), the household,
 * product, seller-account, listing and audit filters, the admin units with their former
 * districts, and a listing read with its event history. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tests/support/tapi.h"
#include "tests/support/tcontract.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE_A "14797" /* former district 380 */
#define COMMUNE_B "16591" /* former district 407 */
static char tok_admin[44], tok_monitor[44];

struct hh {
    char code[24], cccd[13], phone[11];
    int youth;
};
static struct hh HA[5], HB[2];
static int64_t PA[3], PB;

static void make_household(const char *commune, int age, struct hh *h)
{
    char *b = tapi_household_body(age, commune, h->cccd, h->phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, b);
    free(b);
    assert_int_equal(r.status, 201);
    snprintf(h->code, sizeof h->code, "%s", json_string_value(json_object_get(r.json, "code")));
    h->youth = age <= 30;
    tapi_free(&r);
}

static int64_t make_product(const char *code, const char *extra)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", code);
    char *b = tapi_product_body("Nem chua Thanh Hóa");
    json_t *o = json_loads(b, 0, NULL);
    free(b);
    json_t *x = json_loads(extra, 0, NULL);
    json_object_update(o, x);
    json_decref(x);
    b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r = tapi_call("POST", path, tok_admin, b);
    free(b);
    if (r.status != 201) fail_msg("product: %ld %s", r.status, r.body);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
    return id;
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_monitor);
    for (int i = 0; i < 5; i++)
        make_household(COMMUNE_A, i % 2 ? 45 : 24, &HA[i]);
    for (int i = 0; i < 2; i++)
        make_household(COMMUNE_B, 26, &HB[i]);
    PA[0] = make_product(HA[0].code,
                         "{\"name\":\"Nem chua Hạc "
                         "Thành\",\"category\":\"food_dish\",\"flagship\":true,\"ocop_stars\":4}");
    PA[1] = make_product(
        HA[0].code,
        "{\"name\":\"Bánh gai Tứ Trụ\",\"category\":\"cake_confectionery\",\"ocop_stars\":3}");
    PA[2] = make_product(HA[1].code, "{\"name\":\"Mắm tép Hà Yên\",\"category\":\"condiment\"}");
    PB = make_product(
        HB[0].code,
        "{\"name\":\"Chè lam Phủ Quảng\",\"category\":\"cake_confectionery\",\"flagship\":true}");
    cs_db *db = tapi_db();
    /* flagship is an approved link to the province's list, not the tick (issue 12) */
    tsup_exec(db,
              "UPDATE products SET flagship = TRUE, flagship_status = 'approved',"
              " flagship_id = (SELECT MIN(id) FROM flagship_products) WHERE id IN (?, ?)",
              "ii", PA[0], PB);
    /* accounts and listings as the connectors will leave them */
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state) SELECT id, "
              "'shopee', 'active'"
              " FROM households WHERE code = ?",
              "s", HA[0].code);
    int64_t acc = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state) SELECT id, "
              "'voso', 'awaiting_owner'"
              " FROM households WHERE code = ?",
              "s", HA[0].code);
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state) SELECT id, "
              "'shopee', 'rejected'"
              " FROM households WHERE code = ?",
              "s", HB[0].code);
    tsup_exec(
        db,
        "INSERT INTO listings (product_id, marketplace_code, account_id, state, listing_url) VALUES"
        " (?, 'shopee', ?, 'live', 'https://shopee.vn/nem-chua-i.1.2')",
        "ii", PA[0], acc);
    int64_t live = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(db,
              "INSERT INTO listings (product_id, marketplace_code, account_id, state) VALUES (?, "
              "'shopee', ?, 'queued')",
              "ii", PA[1], acc);
    tsup_exec(
        db,
        "INSERT INTO listings (product_id, marketplace_code, state) VALUES (?, 'lazada', 'draft')",
        "i", PB);
    static const char *steps[][2] = {
        {"draft", "queued"}, {"queued", "submitted"}, {"submitted", "live"}};
    for (int i = 0; i < 3; i++)
        tsup_exec(db,
                  "INSERT INTO listing_events (listing_id, from_state, to_state, actor) VALUES (?, "
                  "?, ?, 'system:test')",
                  "iss", live, steps[i][0], steps[i][1]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tcontract_free();
    tapi_stop();
    return 0;
}

/* Every page of `path` (which has a '?'), following next_cursor; returns all items. */
static json_t *all_pages(const char *path, int limit, int *pages)
{
    json_t *all = json_array();
    char url[512], cursor[32] = "";
    *pages = 0;
    for (;;) {
        if (*cursor)
            snprintf(url, sizeof url, "%s&limit=%d&after=%s", path, limit, cursor);
        else
            snprintf(url, sizeof url, "%s&limit=%d", path, limit);
        tapi_resp r = tapi_call("GET", url, tok_admin, NULL);
        if (r.status != 200) fail_msg("%s: %ld %s", url, r.status, r.body);
        (*pages)++;
        /* each page is what the contract documents */
        char pattern[64], ct[96], cerr[600];
        snprintf(pattern, sizeof pattern, "%.*s", (int)strcspn(path, "?"), path);
        if (tcontract_check("GET", pattern, r.status,
                            tapi_header(&r, "Content-Type", ct, sizeof ct), r.body, r.len, cerr,
                            sizeof cerr))
            fail_msg("%s", cerr);
        json_t *items = json_object_get(r.json, "items");
        assert_true(json_array_size(items) <= (size_t)limit);
        json_array_extend(all, items);
        json_t *next = json_object_get(r.json, "next_cursor");
        if (json_is_null(next)) {
            tapi_free(&r);
            break;
        }
        assert_true(json_is_string(next));
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        tapi_free(&r);
        assert_true(*pages < 100);
    }
    return all;
}

static int has_code(json_t *items, const char *key, const char *code)
{
    size_t i;
    json_t *o;
    json_array_foreach(items, i,
                       o) if (!strcmp(json_string_value(json_object_get(o, key)), code)) return 1;
    return 0;
}

static void test_households_pages_and_filters(void **state)
{
    (void)state;
    int pages;
    json_t *all = all_pages("/v1/households?commune=" COMMUNE_A, 2, &pages);
    assert_int_equal(json_array_size(all), 5);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 5; i++) {
        /* in order of registration, each once */
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(all, (size_t)i), "code")), HA[i].code);
    }
    json_decref(all);
    all = all_pages("/v1/households?youth_led=true", 50, &pages);
    assert_int_equal(json_array_size(all), 5); /* HA 0, 2, 4 and both HB */
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o) assert_true(json_is_true(json_object_get(o, "youth_led")));
    json_decref(all);
    all = all_pages("/v1/households?former_district=407", 50, &pages);
    assert_int_equal(json_array_size(all), 2);
    assert_true(has_code(all, "code", HB[0].code) && has_code(all, "code", HB[1].code));
    json_decref(all);
    all = all_pages("/v1/households?status=onboarded", 50, &pages);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    all = all_pages("/v1/households?q=THI%20HOA", 50, &pages);
    assert_int_equal(json_array_size(all), 7);
    json_decref(all);
    all = all_pages("/v1/households?q=nguyen", 50, &pages);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    /* exact look-ups through the blind index, any spelling of the number */
    char url[128];
    snprintf(url, sizeof url, "/v1/households?cccd=%.6s%%20%s", HA[3].cccd, HA[3].cccd + 6);
    all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HA[3].code));
    /* lists are masked for admins */
    const char *c = json_string_value(json_object_get(json_array_get(all, 0), "cccd"));
    assert_non_null(c);
    assert_non_null(strstr(c, "*"));
    assert_null(strstr(c, HA[3].cccd + 3));
    json_decref(all);
    snprintf(url, sizeof url, "/v1/households?phone=%%2B84%s", HB[1].phone + 1);
    all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HB[1].code));
    json_decref(all);
    /* monitors get no personal keys at all */
    tapi_resp r = tapi_call("GET", "/v1/households?limit=50", tok_monitor, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 7);
    assert_null(strstr(r.body, "\"cccd\""));
    assert_null(strstr(r.body, "\"phone\""));
    tapi_free(&r);
}

/* The volunteer's search (issue 13): newest first with the cursor, one box for code (however
 * typed), phone or name, and the filters for what needs doing. */
static void test_households_search(void **state)
{
    (void)state;
    int pages;
    json_t *all = all_pages("/v1/households?order=newest&commune=" COMMUNE_A, 2, &pages);
    assert_int_equal(json_array_size(all), 5);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 5; i++) /* newest first, each once */
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(all, (size_t)i), "code")),
            HA[4 - i].code);
    json_decref(all);
    /* a code as people type it */
    char url[160];
    snprintf(url, sizeof url, "/v1/households?q=th%%20%.4s%%20%s", HA[2].code + 3, HA[2].code + 8);
    all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HA[2].code));
    json_decref(all);
    /* a phone in the box: exact, through the blind index; masked in the answer */
    snprintf(url, sizeof url, "/v1/households?q=%.4s%%20%s", HA[1].phone, HA[1].phone + 4);
    all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HA[1].code));
    const char *ph = json_string_value(json_object_get(json_array_get(all, 0), "phone"));
    assert_non_null(ph);
    assert_non_null(strstr(ph, "*"));
    /* the birth year stays readable so namesakes can be told apart */
    const char *bd = json_string_value(json_object_get(json_array_get(all, 0), "birth_date"));
    assert_non_null(bd);
    assert_int_equal(strlen(bd), 10);
    assert_memory_equal(bd, "**/**/", 6);
    assert_true(bd[6] >= '1' && bd[6] <= '2');
    json_decref(all);
    /* a monitor's digits are no phone look-up */
    snprintf(url, sizeof url, "/v1/households?q=%s", HA[1].phone);
    tapi_resp r = tapi_call("GET", url, tok_monitor, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    tapi_free(&r);
    /* accent-insensitive name */
    all = all_pages("/v1/households?q=L%C3%AA%20th%E1%BB%8B%20hoa&order=newest", 50, &pages);
    assert_int_equal(json_array_size(all), 7);
    json_decref(all);
    /* what needs doing: a shop waiting for the owner, a refused product, no PIN */
    all = all_pages("/v1/households?awaiting_owner=true", 50, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HA[0].code));
    json_decref(all);
    all = all_pages("/v1/households?pin_set=false", 50, &pages);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    tsup_exec(tapi_db(), "UPDATE households SET pin_hash = NULL WHERE code = ?", "s", HB[1].code);
    all = all_pages("/v1/households?pin_set=false&order=newest", 50, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HB[1].code));
    json_decref(all);
    all = all_pages("/v1/households?has_rejected=true", 50, &pages);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    tsup_exec(tapi_db(),
              "INSERT INTO listings (product_id, marketplace_code, state) VALUES (?, 'lazada',"
              " 'rejected')",
              "i", PA[2]);
    all = all_pages("/v1/households?has_rejected=true&youth_led=false", 50, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_true(has_code(all, "code", HA[1].code));
    json_decref(all);
    r = tapi_call("GET", "/v1/households?order=sideways", tok_admin, NULL);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"order\""));
    tapi_free(&r);
}

static void test_products_filters(void **state)
{
    (void)state;
    static const struct {
        const char *query;
        int n;
    } cases[] = {
        {"/v1/products?x=1", 4},
        {"/v1/products?flagship=true", 2},
        {"/v1/products?flagship=false", 2},
        {"/v1/products?ocop_stars=4", 1},
        {"/v1/products?category=cake_confectionery", 2},
        {"/v1/products?commune=" COMMUNE_B, 1},
        {"/v1/products?q=banh%20gai", 1},
        {"/v1/products?q=M%E1%BA%AFm", 1},
        {"/v1/products?commune=" COMMUNE_A "&category=cake_confectionery", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int pages;
        json_t *all = all_pages(cases[k].query, 1, &pages);
        if ((int)json_array_size(all) != cases[k].n)
            fail_msg("%s: %zu items, want %d", cases[k].query, json_array_size(all), cases[k].n);
        json_decref(all);
    }
    char url[96];
    snprintf(url, sizeof url, "/v1/products?household=%s", HA[0].code);
    int pages;
    json_t *all = all_pages(url, 50, &pages);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    /* one product: ETag, 304, its listings */
    snprintf(url, sizeof url, "/v1/products/%lld", (long long)PA[0]);
    tapi_resp r = tapi_call("GET", url, tok_monitor, NULL);
    assert_int_equal(r.status, 200);
    char etag[32], inm[64];
    assert_non_null(tapi_header(&r, "ETag", etag, sizeof etag));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "listings"), 0), "state")),
                        "live");
    tapi_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    r = tapi_req("GET", url, tok_monitor, h, NULL, NULL, 0);
    assert_int_equal(r.status, 304);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/products/999999", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/products/abc", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
}

static void test_admin_units(void **state)
{
    (void)state;
    tapi_resp r = tapi_call("GET", "/v1/admin-units", NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 166);
    char cc[64];
    assert_non_null(strstr(tapi_header(&r, "Cache-Control", cc, sizeof cc), "public"));
    /* Phường Đông Tiến came from three former districts */
    json_t *dt = NULL;
    size_t i;
    json_t *o;
    json_array_foreach(
        items, i, o) if (!strcmp(json_string_value(json_object_get(o, "code")), "15853")) dt = o;
    assert_non_null(dt);
    assert_string_equal(json_string_value(json_object_get(dt, "name")), "Phường Đông Tiến");
    assert_string_equal(json_string_value(json_object_get(dt, "kind")), "phuong");
    json_t *fd = json_object_get(dt, "former_districts");
    assert_int_equal(json_array_size(fd), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fd, 0), "code")), "380");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fd, 0), "name")),
                        "Thành phố Thanh Hóa");
    tapi_free(&r);
    r = tapi_call("GET", "/v1/admin-units?kind=xa&former_district=407", NULL, NULL);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2); /* Xã Các Sơn, Xã Trường Lâm */
    json_array_foreach(items, i, o)
    {
        assert_string_equal(json_string_value(json_object_get(o, "kind")), "xa");
        int has = 0;
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(o, "former_districts"), k, d) has |=
            !strcmp(json_string_value(json_object_get(d, "code")), "407");
        assert_true(has);
    }
    tapi_free(&r);
}

static void test_accounts_and_listings(void **state)
{
    (void)state;
    static const struct {
        const char *query;
        int n;
    } cases[] = {
        {"/v1/seller-accounts?x=1", 3},
        {"/v1/seller-accounts?marketplace=shopee", 2},
        {"/v1/seller-accounts?state=active", 1},
        {"/v1/seller-accounts?commune=" COMMUNE_B, 1},
        {"/v1/seller-accounts?marketplace=tiktok", 0},
        {"/v1/listings?x=1", 3},
        {"/v1/listings?state=live", 1},
        {"/v1/listings?marketplace=lazada", 1},
        {"/v1/listings?commune=" COMMUNE_A, 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int pages;
        json_t *all = all_pages(cases[k].query, 1, &pages);
        if ((int)json_array_size(all) != cases[k].n)
            fail_msg("%s: %zu items, want %d", cases[k].query, json_array_size(all), cases[k].n);
        json_decref(all);
    }
    char url[96];
    int pages;
    snprintf(url, sizeof url, "/v1/seller-accounts?household=%s", HA[0].code);
    json_t *all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    snprintf(url, sizeof url, "/v1/listings?product=%lld", (long long)PA[1]);
    all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "state")),
                        "queued");
    json_decref(all);
    snprintf(url, sizeof url, "/v1/listings?household=%s&state=live", HA[0].code);
    all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    int64_t id = json_integer_value(json_object_get(json_array_get(all, 0), "id"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(all, 0), "listing_url")),
                        "https://shopee.vn/nem-chua-i.1.2");
    json_decref(all);
    /* one listing with its history in order */
    snprintf(url, sizeof url, "/v1/listings/%lld", (long long)id);
    tapi_resp r = tapi_call("GET", url, tok_monitor, NULL);
    assert_int_equal(r.status, 200);
    json_t *ev = json_object_get(r.json, "events");
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "from_state")),
                        "draft");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 2), "to_state")),
                        "live");
    assert_string_equal(json_string_value(json_object_get(r.json, "product_name")),
                        "Nem chua Hạc Thành");
    tapi_free(&r);
    r = tapi_call("GET", "/v1/listings/424242", tok_monitor, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
}

static void test_audit(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "/v1/audit?entity=household&entity_id=%s", HA[2].code);
    int pages;
    json_t *all = all_pages(url, 10, &pages);
    assert_int_equal(json_array_size(all), 1);
    json_t *row = json_array_get(all, 0);
    assert_string_equal(json_string_value(json_object_get(row, "action")), "household.create");
    assert_string_equal(json_string_value(json_object_get(row, "actor_kind")), "token");
    assert_string_equal(json_string_value(json_object_get(row, "actor_id")), "1");
    assert_true(json_is_object(json_object_get(row, "detail")));
    assert_true(json_is_array(json_object_get(json_object_get(row, "detail"), "fields")));
    json_decref(all);
    /* every creation, one per page, oldest first */
    all = all_pages("/v1/audit?action=household.create", 1, &pages);
    assert_int_equal(json_array_size(all), 7);
    assert_int_equal(pages, 7);
    int64_t prev = 0;
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        assert_true(json_integer_value(json_object_get(o, "id")) > prev);
        prev = json_integer_value(json_object_get(o, "id"));
    }
    /* no personal value in any of it */
    char *text = json_dumps(all, 0);
    for (int k = 0; k < 5; k++) {
        assert_null(strstr(text, HA[k].cccd));
        assert_null(strstr(text, HA[k].phone));
    }
    free(text);
    json_decref(all);
    all = all_pages("/v1/audit?entity=product", 50, &pages);
    assert_int_equal(json_array_size(all), 4);
    json_decref(all);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_households_pages_and_filters),
        cmocka_unit_test(test_products_filters),
        cmocka_unit_test(test_admin_units),
        cmocka_unit_test(test_accounts_and_listings),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_households_search), /* last: it changes PINs and listings */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
