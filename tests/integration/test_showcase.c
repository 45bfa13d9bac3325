/* The public showcase: live flagship products only, everything escaped, Open Graph tags, the
 * business name only with the owner's agreement, filters, pages, ETag/304 and the page cache,
 * the A5 poster's QR code, the counted click-through (no cookie, nothing personal) and the
 * promoted figures for staff. Server in-process, MariaDB of scripts/run-tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/readgen.h"
#include "core/showcase.h"
#include "core/states.h"
#include "core/vn.h"
#include "service/h_showcase.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE_A "14797" /* Phường Hạc Thành, former district 380 (Thành phố Thanh Hóa) */
#define COMMUNE_B "16591" /* Xã Các Sơn */

static char tok_admin[44], tok_monitor[44], tok_vol[44];
static int64_t p_shown, p_consent, p_hidden, p_notlive, l_shown, l_lazada, l_hidden;
static char cccd[4][13], phone[4][11], hcode[4][24];
static const char *EVIL = "Nem <script>alert(1)</script> & \"chua\"";

static int64_t household(int i, const char *commune, const char *business, int consent)
{
    char *body = tapi_household_body(24, commune, cccd[i], phone[i]);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, body);
    free(body);
    if (r.status != 201) fail_msg("household: %ld %s", r.status, r.body);
    char code[24];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    snprintf(hcode[i], sizeof hcode[i], "%s", code);
    tapi_free(&r);
    cs_db *db = tapi_db();
    tsup_exec(db,
              "UPDATE households SET business_name = ?, showcase_name_consent = ? WHERE code = ?",
              "sis", business, (int64_t)consent, code);
    char *pb = tapi_product_body("Chè lam Phủ Quảng");
    char path[80];
    snprintf(path, sizeof path, "/v1/households/%s/products", code);
    r = tapi_call("POST", path, tok_admin, pb);
    free(pb);
    if (r.status != 201) fail_msg("product: %ld %s", r.status, r.body);
    int64_t p = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
    return p;
}

static int64_t listing(int64_t product, const char *mp, const char *state, const char *url)
{
    cs_db *db = tapi_db();
    tsup_exec(db,
              "INSERT INTO listings (product_id, marketplace_code, state, listing_url, live_at,"
              " first_live_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
              "isss", product, mp, state, url);
    return (int64_t)cs_db_insert_id(db);
}

static int setup(void **state)
{
    (void)state;
    setenv("CHOSO_HTTP_PUBLIC_URL", "https://choso.example.vn/", 1);
    tapi_start();
    const char *a[] = {COMMUNE_A, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_monitor);
    tapi_token("volunteer", a, tok_vol);
    cs_db *db = tapi_db();
    p_shown = household(0, COMMUNE_A, "Cơ sở Bí Mật", 0);
    p_consent = household(1, COMMUNE_B, "HTX Chè lam Các Sơn", 1);
    p_hidden = household(2, COMMUNE_A, NULL, 0);  /* not flagship */
    p_notlive = household(3, COMMUNE_A, NULL, 0); /* flagship, only rejected */
    tsup_exec(db,
              "UPDATE products SET flagship = TRUE, ocop_stars = 4, first_live_at = UTC_TIMESTAMP()"
              " WHERE id IN (?, ?, ?)",
              "iii", p_shown, p_consent, p_notlive);
    tsup_exec(db, "UPDATE products SET name = ?, description = ? WHERE id = ?", "ssi", EVIL,
              "Nem chua <b>ngon</b>", p_shown);
    tsup_exec(db,
              "INSERT INTO product_images (product_id, sha256, mime, bytes, position)"
              " VALUES (?, REPEAT('ab', 32), 'image/png', 100, 0)",
              "i", p_shown);
    l_shown = listing(p_shown, "shopee", "live", "https://shopee.vn/nem-chua-i.1.2");
    l_lazada = listing(p_shown, "lazada", "live", "https://www.lazada.vn/products/nem-i9.html");
    listing(p_consent, "postmart", "live", "https://postmart.vn/san-pham/che-lam-1");
    l_hidden = listing(p_hidden, "shopee", "live", "https://shopee.vn/khong-chu-luc-i.3.4");
    listing(p_notlive, "shopee", "rejected", NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

static tapi_resp get(const char *path, const char *const *headers)
{
    return tapi_req("GET", path, NULL, headers, NULL, NULL, 0);
}

static void test_list(void **state)
{
    (void)state;
    svc_showcase_cache_clear();
    tapi_resp r = get("/showcase", NULL);
    assert_int_equal(r.status, 200);
    char h[400];
    assert_non_null(strstr(tapi_header(&r, "Content-Type", h, sizeof h), "text/html"));
    assert_non_null(
        strstr(tapi_header(&r, "Content-Security-Policy", h, sizeof h), "script-src 'self'"));
    assert_null(tapi_header(&r, "Set-Cookie", h, sizeof h));
    /* escaped, never raw */
    assert_null(strstr(r.body, "<script"));
    assert_non_null(
        strstr(r.body, "Nem &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;chua&quot;"));
    assert_null(strstr(r.body, "style="));
    /* Open Graph, absolute addresses from http.public_url */
    assert_non_null(strstr(r.body, "<meta property=\"og:title\""));
    assert_non_null(
        strstr(r.body, "<meta property=\"og:url\" content=\"https://choso.example.vn/showcase\">"));
    /* shown: the two live flagship products; not the others */
    assert_non_null(strstr(r.body, "href=\"/showcase/products/"));
    char needle[80];
    snprintf(needle, sizeof needle, "/showcase/go/%lld\"", (long long)l_shown);
    assert_non_null(strstr(r.body, needle));
    snprintf(needle, sizeof needle, "/showcase/go/%lld\"", (long long)l_lazada);
    assert_non_null(strstr(r.body, needle));
    snprintf(needle, sizeof needle, "/showcase/go/%lld\"", (long long)l_hidden);
    assert_null(strstr(r.body, needle));
    snprintf(needle, sizeof needle, "/showcase/products/%lld\"", (long long)p_notlive);
    assert_null(strstr(r.body, needle));
    assert_non_null(strstr(r.body, "Mua trên Shopee"));
    assert_non_null(strstr(r.body, "OCOP 4 sao"));
    assert_non_null(strstr(r.body, "src=\"/media/abababab"));
    /* the producer: by commune; the business name only where the owner agreed */
    assert_non_null(strstr(r.body, "HTX Chè lam Các Sơn"));
    assert_null(strstr(r.body, "Cơ sở Bí Mật"));
    assert_non_null(strstr(r.body, "Phường Hạc Thành"));
    /* nothing personal */
    for (int i = 0; i < 4; i++) {
        assert_null(strstr(r.body, cccd[i]));
        assert_null(strstr(r.body, phone[i]));
    }
    /* ETag → 304 */
    char etag[80], inm[120];
    assert_non_null(tapi_header(&r, "ETag", etag, sizeof etag));
    tapi_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *hdrs[] = {inm, NULL};
    r = get("/showcase", hdrs);
    assert_int_equal(r.status, 304);
    tapi_free(&r);

    /* filters: the former district of commune A keeps the Hạc Thành product only */
    r = get("/showcase?district=380", NULL);
    assert_int_equal(r.status, 200);
    snprintf(needle, sizeof needle, "/showcase/go/%lld\"", (long long)l_shown);
    assert_non_null(strstr(r.body, needle));
    assert_null(strstr(r.body, "HTX Chè lam Các Sơn"));
    assert_non_null(strstr(r.body, "<option value=\"380\" selected>"));
    tapi_free(&r);
    r = get("/showcase?category=khong_co", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Chưa có sản phẩm nào phù hợp"));
    tapi_free(&r);
    r = get("/showcase?category=Bad%21", NULL);
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    r = get("/showcase?page=0", NULL);
    assert_int_equal(r.status, 422);
    tapi_free(&r);
}

static void test_cache(void **state)
{
    (void)state;
    svc_showcase_cache_clear();
    tapi_resp r = get("/showcase", NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    /* a change within showcase.cache_ms is not seen from the cache; after clearing it is */
    tsup_exec(tapi_db(), "UPDATE products SET price_vnd = 123456 WHERE id = ?", "i", p_consent);
    r = get("/showcase", NULL);
    assert_null(strstr(r.body, "123.456 ₫"));
    tapi_free(&r);
    svc_showcase_cache_clear();
    r = get("/showcase", NULL);
    assert_non_null(strstr(r.body, "123.456 ₫"));
    tapi_free(&r);
}

static void test_product_and_poster(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/showcase/products/%lld", (long long)p_shown);
    tapi_resp r = get(path, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<meta property=\"og:type\" content=\"product\">"));
    assert_non_null(strstr(
        r.body, "<meta property=\"og:image\" content=\"https://choso.example.vn/media/abab"));
    assert_non_null(strstr(r.body, "Nem chua &lt;b&gt;ngon&lt;/b&gt;"));
    tapi_free(&r);
    snprintf(path, sizeof path, "/showcase/products/%lld/poster", (long long)p_shown);
    r = get(path, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<svg class=\"qr\""));
    assert_non_null(strstr(r.body, "<path fill=\"#000\" d=\"M"));
    char url[120];
    snprintf(url, sizeof url, "https://choso.example.vn/showcase/products/%lld</p>",
             (long long)p_shown);
    assert_non_null(strstr(r.body, url));
    tapi_free(&r);
    /* not shown → 404 */
    snprintf(path, sizeof path, "/showcase/products/%lld", (long long)p_hidden);
    r = get(path, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    snprintf(path, sizeof path, "/showcase/products/%lld/poster", (long long)p_notlive);
    r = get(path, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    r = get("/showcase/products/abc", NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
}

static void test_click_through(void **state)
{
    (void)state;
    char path[96], h[300];
    snprintf(path, sizeof path, "/showcase/go/%lld", (long long)l_shown);
    for (int i = 0; i < 3; i++) {
        tapi_resp r = get(path, NULL);
        assert_int_equal(r.status, 302);
        assert_string_equal(tapi_header(&r, "Location", h, sizeof h),
                            "https://shopee.vn/nem-chua-i.1.2");
        assert_null(tapi_header(&r, "Set-Cookie", h, sizeof h));
        tapi_free(&r);
    }
    snprintf(path, sizeof path, "/showcase/go/%lld", (long long)l_lazada);
    tapi_resp r = get(path, NULL);
    assert_int_equal(r.status, 302);
    tapi_free(&r);
    /* a listing of a product that is not shown: 404, nothing counted */
    snprintf(path, sizeof path, "/showcase/go/%lld", (long long)l_hidden);
    r = get(path, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    r = get("/showcase/go/999999999", NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    cs_db *db = tapi_db();
    assert_int_equal(tsup_i64(db, "SELECT COALESCE(SUM(n), 0) FROM showcase_clicks", ""), 4);
    assert_int_equal(tsup_i64(db,
                              "SELECT n FROM showcase_clicks WHERE product_id = ?"
                              " AND marketplace_code = 'shopee'",
                              "i", p_shown),
                     3);
    /* staff see the promoted figures; volunteers and the public do not */
    char q[64];
    snprintf(q, sizeof q, "/v1/showcase/promoted?year=%d", vn_today().y);
    r = tapi_call("GET", q, tok_monitor, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 4);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(it, "product_id")), p_shown);
    assert_int_equal(json_integer_value(json_object_get(it, "clicks")), 4);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(it, "months"), (size_t)vn_today().m - 1)),
        4);
    tapi_free(&r);
    r = tapi_call("GET", q, tok_vol, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("GET", q, NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
}

/* the owner's agreement, recorded by the commune's volunteer, shows the name at once */
static void test_consent(void **state)
{
    (void)state;
    const char *code = hcode[0];
    char path[96];
    snprintf(path, sizeof path, "/v1/households/%s/showcase-consent", code);
    tapi_resp r = tapi_call("PUT", path, tok_vol, "{\"showcase_name_consent\":true}");
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE action = 'household.showcase_consent'"
                 " AND entity_id = ?",
                 "s", code),
        1);
    r = get("/showcase", NULL);
    assert_non_null(strstr(r.body, "Cơ sở Bí Mật"));
    tapi_free(&r);
    r = tapi_call("PUT", path, tok_monitor, "{\"showcase_name_consent\":false}");
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("PUT", path, tok_admin, "{\"showcase_name_consent\":\"yes\"}");
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    r = tapi_call("PUT", "/v1/households/TH-2026-99999/showcase-consent", tok_admin,
                  "{\"showcase_name_consent\":false}");
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    r = tapi_call("PUT", path, tok_admin, "{\"showcase_name_consent\":false}");
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = get("/showcase", NULL);
    assert_null(strstr(r.body, "Cơ sở Bí Mật"));
    tapi_free(&r);
}

/* the kept shown set (cs_showcase_list_at) answers exactly what the two passes over the whole
 * set answer, for every filter and page, and a write shows in the next page asked for */
static void same_page(int64_t gen, const char *cat, const char *dist, int64_t page, int64_t per)
{
    cs_error e;
    cs_error_clear(&e);
    cs_sc_page a, b;
    assert_int_equal(cs_showcase_list(tapi_db(), cat, dist, page, per, &a, &e), 0);
    assert_int_equal(cs_showcase_list_at(tapi_db(), gen, cat, dist, page, per, &b, &e), 0);
    assert_int_equal(a.total, b.total);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(a.items[i].id, b.items[i].id);
        assert_string_equal(a.items[i].name, b.items[i].name);
        assert_string_equal(a.items[i].district_name, b.items[i].district_name);
        assert_int_equal(a.items[i].nlistings, b.items[i].nlistings);
    }
    assert_int_equal(a.ncategories, b.ncategories);
    assert_int_equal(a.ndistricts, b.ndistricts);
    for (size_t i = 0; i < a.ncategories; i++)
        assert_string_equal(a.categories[i].code, b.categories[i].code);
    for (size_t i = 0; i < a.ndistricts; i++) {
        assert_string_equal(a.districts[i].code, b.districts[i].code);
        assert_string_equal(a.districts[i].name, b.districts[i].name);
    }
    cs_sc_page_free(&a);
    cs_sc_page_free(&b);
}

static void test_kept_set(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    int64_t gen = 0;
    assert_int_equal(cs_readgen_get(tapi_db(), &gen, &e), 0);
    const char *dists[] = {NULL, "380", "999"};
    const char *cats[] = {NULL, "food_dish", "nothing"};
    for (int k = 0; k < 2; k++) { /* the second round reads the kept set */
        for (size_t c = 0; c < 3; c++)
            for (size_t d = 0; d < 3; d++)
                for (int64_t page = 1; page <= 3; page++) {
                    same_page(gen, cats[c], dists[d], page, 1);
                    same_page(gen, cats[c], dists[d], page, 2);
                }
    }
    /* a new live flagship product: the generation moves, the next page has it first */
    int64_t p = household(3, COMMUNE_B, NULL, 0);
    tsup_exec(tapi_db(),
              "UPDATE products SET flagship = TRUE, first_live_at = UTC_TIMESTAMP() + INTERVAL 1 "
              "DAY WHERE id = ?",
              "i", p);
    listing(p, "shopee", "live", "https://shopee.vn/moi-i.7.8");
    int64_t gen2 = 0;
    assert_int_equal(cs_readgen_get(tapi_db(), &gen2, &e), 0);
    assert_true(gen2 > gen);
    cs_sc_page pg;
    assert_int_equal(cs_showcase_list_at(tapi_db(), gen2, NULL, NULL, 1, 10, &pg, &e), 0);
    assert_true(pg.n >= 1);
    assert_int_equal(pg.items[0].id, p);
    cs_sc_page_free(&pg);
    same_page(gen2, NULL, NULL, 1, 2);
    tapi_resp r = get("/showcase?page=1", NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    tsup_exec(tapi_db(), "UPDATE listings SET state = 'delisted' WHERE product_id = ?", "i", p);
    same_page(-1, NULL, NULL, 1, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_product_and_poster),
        cmocka_unit_test(test_click_through),
        cmocka_unit_test(test_consent),
        cmocka_unit_test(test_kept_set),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
