/* The annual report (core/annual: model, XLSX, PDF) and the CSV for Vietnamese Excel: the
 * model's numbers equal the targets API's, districts' subtotals add up, the months' running
 * totals end at the year's figure, the named lists hold the counted households and products and
 * nothing personal; both files are read back (XLSX through jobs/sheet, PDF through pdftotext);
 * the routes answer admin and monitor only. Server in-process, MariaDB of scripts/run-tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/annual.h"
#include "core/mem.h"
#include "core/states.h"
#include "core/targets.h"
#include "core/vn.h"
#include "jobs/sheet.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMUNE_A "14797" /* Phường Hạc Thành */
#define COMMUNE_B "16591" /* Xã Các Sơn */

static char tok_admin[44], tok_monitor[44], tok_vol[44];
static int year;
static char codes[3][24], cccds[3][13], phones[3][11];
static int64_t prod0, hh0; /* the first household and its product: the one with orders */

struct mv {
    int listing;
    int64_t id;
    const char *to;
};
static int mv_tx(cs_db *d, void *arg, cs_error *err)
{
    struct mv *m = arg;
    cs_actor a = cs_actor_system("test");
    return m->listing ? cs_listing_transition(d, m->id, m->to, NULL, NULL, &a, err)
                      : cs_account_transition(d, m->id, m->to, NULL, NULL, &a, err);
}
static void walk(int listing, int64_t id, const char *const *path)
{
    for (; *path; path++) {
        struct mv m = {listing, id, *path};
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
    year = vn_today().y;
    cs_db *db = tapi_db();
    static const char *const acc_path[] = {"awaiting_owner", "authorized", "active", NULL};
    static const char *const live[] = {"queued", "submitted", "live", NULL};
    /* three youth-led households onboarded (two in A, one in B), each with a flagship product
     * live on Shopee; the first one's product also sold */
    for (int i = 0; i < 3; i++) {
        char *body = tapi_household_body(24, i < 2 ? COMMUNE_A : COMMUNE_B, cccds[i], phones[i]);
        tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, body);
        free(body);
        if (r.status != 201) fail_msg("create household: %ld %s", r.status, r.body);
        snprintf(codes[i], 24, "%s", json_string_value(json_object_get(r.json, "code")));
        tapi_free(&r);
        int64_t h = tsup_i64(db, "SELECT id FROM households WHERE code = ?", "s", codes[i]);
        tsup_exec(db,
                  "INSERT INTO seller_accounts (household_id, marketplace_code, shop_url)"
                  " VALUES (?, 'postmart', ?)",
                  "is", h, i == 0 ? "https://postmart.vn/gian-hang/che-lam-1" : NULL);
        walk(0, (int64_t)cs_db_insert_id(db), acc_path);
        char *pb = tapi_product_body("Chè lam Phủ Quảng");
        char path[80];
        snprintf(path, sizeof path, "/v1/households/%s/products", codes[i]);
        r = tapi_call("POST", path, tok_admin, pb);
        free(pb);
        if (r.status != 201) fail_msg("create product: %ld %s", r.status, r.body);
        int64_t p = json_integer_value(json_object_get(r.json, "id"));
        tapi_free(&r);
        tsup_exec(db,
                  "UPDATE products SET flagship = TRUE, flagship_status = 'approved',"
                  " ocop_stars = 4, flagship_id = (SELECT MIN(id) FROM flagship_products)"
                  " WHERE id = ?",
                  "i", p);
        tsup_exec(db,
                  "INSERT INTO listings (product_id, marketplace_code, listing_url)"
                  " VALUES (?, 'shopee', ?)",
                  "is", p, "https://shopee.vn/che-lam-phu-quang-i.1.2");
        int64_t l = (int64_t)cs_db_insert_id(db);
        walk(1, l, live);
        if (i == 0) {
            prod0 = p;
            hh0 = h;
            cs_error e;
            cs_error_clear(&e);
            tsup_exec(db, "UPDATE listings SET first_sale_at = UTC_TIMESTAMP() WHERE id = ?", "i",
                      l);
            tsup_exec(db, "UPDATE products SET first_sold_at = UTC_TIMESTAMP() WHERE id = ?", "i",
                      p);
        }
    }
    int64_t rows = 0;
    cs_error e;
    cs_error_clear(&e);
    if (cs_targets_rebuild(db, &rows, &e)) fail_msg("rebuild: %s", e.detail);
    /* orders of the first product (the counters core/orders keeps beside each counted line):
     * January on Shopee, December on postmart.vn — 3 orders, 5 units, 1.484.567 đồng */
    tsup_exec(db,
              "INSERT INTO order_counts (year, month, product_id, marketplace_code, commune_code,"
              " household_id, orders, units, revenue_vnd)"
              " VALUES (?, 1, ?, 'shopee', ?, ?, 2, 3, 1234567),"
              " (?, 12, ?, 'postmart', ?, ?, 1, 2, 250000)",
              "iisiiisi", (int64_t)year, prod0, COMMUNE_A, hh0, (int64_t)year, prod0, COMMUNE_A,
              hh0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

static const cs_rcell *cell(const cs_rtable *t, size_t row, unsigned col)
{
    return &t->cells[row * t->ncols + col];
}

static const cs_rtable *find(const cs_annual *a, const char *name)
{
    for (size_t i = 0; i < a->ntables; i++)
        if (!strcmp(a->tables[i].sheet, name)) return &a->tables[i];
    fail_msg("no table %s", name);
    return NULL;
}

static void test_vi_forms(void **state)
{
    (void)state;
    char b[48];
    cs_vi_int(1234567, b, sizeof b);
    assert_string_equal(b, "1.234.567");
    cs_vi_int(999, b, sizeof b);
    assert_string_equal(b, "999");
    cs_vi_int(-2000, b, sizeof b);
    assert_string_equal(b, "-2.000");
    cs_vi_pct(12.5, b, sizeof b);
    assert_string_equal(b, "12,5%");
    cs_vi_date((vn_date){2026, 3, 9}, b, sizeof b);
    assert_string_equal(b, "09/03/2026");
}

static void test_model(void **state)
{
    (void)state;
    cs_annual a;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_annual_build(tapi_db(), year, vn_today(), &a, &e), 0);
    const cs_rtable *sum = find(&a, "Tổng hợp");
    assert_int_equal(sum->nrows, 7); /* the three targets, orders/units/revenue, the clicks */
    assert_int_equal(cell(sum, CS_M_HOUSEHOLDS, 2)->i, 3);
    assert_int_equal(cell(sum, CS_M_LIVE, 2)->i, 3);
    assert_int_equal(cell(sum, CS_M_SOLD, 2)->i, 1);
    assert_string_equal(cell(sum, 3, 0)->text, "Đơn hàng đã giao (đơn)");
    assert_int_equal(cell(sum, 3, 2)->i, 3);
    assert_int_equal(cell(sum, 4, 2)->i, 5);
    assert_string_equal(cell(sum, 5, 0)->text, "Doanh thu (đồng)");
    assert_int_equal(cell(sum, 5, 2)->i, 1484567);
    assert_int_equal(cell(sum, 5, 1)->kind, CS_RK_EMPTY); /* no goal for revenue */

    /* districts: province first, each subtotal the sum of the communes under it */
    const cs_rtable *d = find(&a, "Theo địa bàn");
    assert_int_equal(d->style[0], CS_RS_TOTAL);
    assert_int_equal(cell(d, 0, 2)->i, 3);
    int64_t grand = 0, sub = -1, acc = 0;
    size_t communes = 0;
    for (size_t i = 1; i <= d->nrows; i++) {
        if (i == d->nrows || d->style[i] == CS_RS_SUBTOTAL) {
            if (sub >= 0) assert_int_equal(sub, acc);
            if (i == d->nrows) break;
            sub = cell(d, i, 2)->i;
            grand += sub;
            acc = 0;
        } else {
            acc += cell(d, i, 2)->i;
            communes++;
        }
    }
    assert_int_equal(grand, 3);
    assert_int_equal(communes, 166);

    /* months: running totals end at the year's figures */
    const cs_rtable *m = find(&a, "Theo tháng");
    assert_int_equal(m->nrows, 12);
    assert_int_equal(cell(m, 11, 2)->i, 3);
    assert_int_equal(cell(m, 11, 4)->i, 3);
    assert_int_equal(cell(m, 11, 6)->i, 1);
    int mon = vn_today().m;
    assert_int_equal(cell(m, (size_t)mon - 1, 1)->i, 3);
    /* orders, units, revenue per month: January and December, nothing between */
    assert_int_equal(m->ncols, 10);
    assert_int_equal(cell(m, 0, 7)->i, 2);
    assert_int_equal(cell(m, 0, 8)->i, 3);
    assert_int_equal(cell(m, 0, 9)->i, 1234567);
    assert_int_equal(cell(m, 11, 9)->i, 250000);
    for (size_t i = 1; i < 11; i++) {
        assert_int_equal(cell(m, i, 7)->kind, CS_RK_INT);
        assert_int_equal(cell(m, i, 9)->i, 0);
    }

    /* marketplaces: postmart.vn holds the households, shopee the products */
    const cs_rtable *mp = find(&a, "Theo sàn");
    int64_t hh = 0, live = 0;
    for (size_t i = 0; i < mp->nrows; i++) {
        hh += cell(mp, i, 1)->i;
        live += cell(mp, i, 2)->i;
    }
    assert_int_equal(hh, 3);
    assert_int_equal(live, 3);
    /* orders and revenue by the marketplace of the order */
    int seen = 0;
    for (size_t i = 0; i < mp->nrows; i++) {
        const cs_rcell *name = cell(mp, i, 0);
        if (!strcmp(name->text, "Shopee")) {
            seen++;
            assert_int_equal(cell(mp, i, 4)->i, 2);
            assert_int_equal(cell(mp, i, 5)->i, 3);
            assert_int_equal(cell(mp, i, 6)->i, 1234567);
        } else if (!strcmp(name->text, "postmart.vn")) {
            seen++;
            assert_int_equal(cell(mp, i, 4)->i, 1);
            assert_int_equal(cell(mp, i, 6)->i, 250000);
        } else {
            assert_int_equal(cell(mp, i, 6)->i, 0);
        }
    }
    assert_int_equal(seen, 2);

    /* the named lists: codes, no personal data */
    const cs_rtable *hl = find(&a, "DS hộ");
    assert_int_equal(hl->nrows, 3);
    int found = 0;
    for (size_t i = 0; i < hl->nrows; i++) {
        for (int k = 0; k < 3; k++)
            found += !strcmp(cell(hl, i, 1)->text, codes[k]);
        assert_int_equal(cell(hl, i, 6)->kind, CS_RK_DATE);
        assert_string_equal(cell(hl, i, 4)->text, "postmart.vn");
        for (unsigned c = 0; c < hl->ncols; c++) {
            const cs_rcell *x = cell(hl, i, c);
            if (x->kind != CS_RK_TEXT) continue;
            for (int k = 0; k < 3; k++) {
                assert_null(strstr(x->text, cccds[k]));
                assert_null(strstr(x->text, phones[k]));
            }
        }
    }
    assert_int_equal(found, 3);
    int shop = 0;
    for (size_t i = 0; i < hl->nrows; i++)
        shop += cell(hl, i, 5)->kind == CS_RK_TEXT &&
                !strcmp(cell(hl, i, 5)->text, "https://postmart.vn/gian-hang/che-lam-1");
    assert_int_equal(shop, 1);
    const cs_rtable *pl = find(&a, "DS sản phẩm");
    assert_int_equal(pl->nrows, 3);
    int sold = 0;
    for (size_t i = 0; i < pl->nrows; i++) {
        assert_string_equal(cell(pl, i, 1)->text, "Chè lam Phủ Quảng");
        assert_int_equal(cell(pl, i, 2)->kind, CS_RK_TEXT); /* the list entry */
        assert_string_equal(cell(pl, i, 3)->text, "4 sao");
        assert_string_equal(cell(pl, i, 5)->text, "https://shopee.vn/che-lam-phu-quang-i.1.2");
        assert_int_equal(cell(pl, i, 6)->kind, CS_RK_DATE);
        sold += cell(pl, i, 7)->kind == CS_RK_DATE;
    }
    assert_int_equal(sold, 1);

    /* a year with nothing: empty lists, zero counts, still a whole document */
    cs_annual z;
    assert_int_equal(cs_annual_build(tapi_db(), 2020, vn_today(), &z, &e), 0);
    assert_int_equal(find(&z, "DS hộ")->nrows, 0);
    assert_int_equal(cell(find(&z, "Tổng hợp"), 0, 2)->i, 0);
    cs_annual_free(&z);
    cs_annual_free(&a);
}

static char *run_out(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    assert_int_equal(pclose(f), 0);
    return buf;
}

/* the text of a PDF through poppler's pdftotext (layout kept), or NULL when it is missing */
static char *pdf_text(const char *path)
{
    if (system("command -v pdftotext >/dev/null 2>&1")) return NULL;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "pdftotext -layout '%s' -", path);
    return run_out(cmd);
}

static void test_files(void **state)
{
    (void)state;
    cs_annual a;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_annual_build(tapi_db(), year, vn_today(), &a, &e), 0);
    char *dir = tsup_tmpdir("annual");
    char path[512];

    /* XLSX: the first sheet carries the header, the summary and the signature block */
    snprintf(path, sizeof path, "%s/annual.xlsx", dir);
    assert_int_equal(cs_annual_xlsx(&a, path, &e), 0);
    sheet *s = NULL;
    assert_int_equal(sheet_read_file(path, NULL, &s, &e), 0);
    int title = 0, sign = 0, org = 0, hh_row = 0, rev_row = 0;
    for (size_t i = 0; i < sheet_nrows(s); i++)
        for (unsigned c = 0; c < sheet_ncells(s, i); c++) {
            const char *v = sheet_cell(s, i, c);
            title |= strstr(v, "BÁO CÁO KẾT QUẢ") != NULL;
            sign |= !strcmp(v, "TM. BAN THƯỜNG VỤ");
            org |= !strcmp(v, "TỈNH ĐOÀN THANH HÓA");
            if (!strcmp(v, cs_metric_label_vi(CS_M_HOUSEHOLDS))) {
                hh_row = 1;
                assert_int_equal(strtol(sheet_cell(s, i, c + 2), NULL, 10), 3);
            }
            if (!strcmp(v, "Doanh thu (đồng)")) {
                rev_row = 1;
                assert_int_equal(strtol(sheet_cell(s, i, c + 2), NULL, 10), 1484567);
            }
            if (!strcmp(v, "Đơn hàng đã giao (đơn)"))
                assert_int_equal(strtol(sheet_cell(s, i, c + 2), NULL, 10), 3);
        }
    assert_true(title && sign && org && hh_row && rev_row);
    sheet_free(s);
    /* one sheet per section */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "unzip -l '%s' | grep -c 'xl/worksheets/sheet'", path);
    char *n = run_out(cmd);
    assert_int_equal(strtol(n, NULL, 10), 7);
    free(n);
    /* the months (sheet 3) and marketplaces (sheet 4) sheets store the revenue as numbers */
    snprintf(cmd, sizeof cmd,
             "unzip -p '%s' xl/worksheets/sheet3.xml | grep -o '<v>1234567</v>\\|<v>250000</v>'"
             " | sort -u | wc -l",
             path);
    n = run_out(cmd);
    assert_int_equal(strtol(n, NULL, 10), 2);
    free(n);
    snprintf(cmd, sizeof cmd,
             "unzip -p '%s' xl/worksheets/sheet4.xml | grep -o '<v>1234567</v>\\|<v>250000</v>'"
             " | sort -u | wc -l",
             path);
    n = run_out(cmd);
    assert_int_equal(strtol(n, NULL, 10), 2);
    free(n);

    /* PDF: a real PDF whose text reads back with its Vietnamese intact */
    snprintf(path, sizeof path, "%s/annual.pdf", dir);
    assert_int_equal(cs_annual_pdf(&a, path, &e), 0);
    FILE *f = fopen(path, "rb");
    char magic[5] = {0};
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_string_equal(magic, "%PDF");
    /* ANNUAL_KEEP=DIR keeps the PDF for a look (pdftoppm -png → an image viewer) */
    const char *keep = getenv("ANNUAL_KEEP");
    if (keep && *keep) {
        char cp[1200];
        snprintf(cp, sizeof cp, "cp '%s' '%s'/annual.pdf", path, keep);
        assert_int_equal(system(cp), 0);
    }
    char *t = pdf_text(path);
    if (t) {
        assert_non_null(strstr(t, "BÁO CÁO KẾT QUẢ HỖ TRỢ HỘ KINH DOANH THANH NIÊN"));
        assert_non_null(strstr(t, "TM. BAN THƯỜNG VỤ"));
        assert_non_null(strstr(t, "NGƯỜI LẬP BIỂU"));
        assert_non_null(strstr(t, "Số: ......-BC/TĐTN"));
        assert_non_null(strstr(t, "V. DANH SÁCH HỘ THANH NIÊN ĐƯỢC TÍNH"));
        assert_non_null(strstr(t, codes[0]));
        assert_non_null(strstr(t, "Phường Hạc Thành"));
        assert_non_null(strstr(t, "Trang 2"));
        /* orders and revenue in Vietnamese number form: the year, January, December */
        assert_non_null(strstr(t, "Đơn hàng đã giao (đơn)"));
        assert_non_null(strstr(t, "1.484.567"));
        assert_non_null(strstr(t, "1.234.567"));
        assert_non_null(strstr(t, "250.000"));
        for (int k = 0; k < 3; k++)
            assert_null(strstr(t, cccds[k]));
        free(t);
    } else if (getenv("CI")) {
        fail_msg("pdftotext (poppler-utils) is missing");
    }
    tsup_rm_rf(dir);
    cs_free(dir);
    cs_annual_free(&a);
}

static void test_routes(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/v1/reports/annual.pdf?year=%d", year);
    tapi_resp r = tapi_call("GET", path, tok_monitor, NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.len > 1000);
    assert_memory_equal(r.body, "%PDF", 4);
    char h[200];
    assert_non_null(strstr(tapi_header(&r, "Content-Type", h, sizeof h), "application/pdf"));
    assert_non_null(strstr(tapi_header(&r, "Content-Disposition", h, sizeof h), ".pdf"));
    tapi_free(&r);
    r = tapi_call("GET", path, tok_vol, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/reports/annual.pdf?year=1999", tok_admin, NULL);
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    snprintf(path, sizeof path, "/v1/reports/annual.xlsx?year=%d", year);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "PK", 2);
    tapi_free(&r);

    /* the CSV for Vietnamese Excel: BOM, ';', decimal comma; the same numbers as the standard */
    snprintf(path, sizeof path, "/v1/reports/targets-vn.csv?year=%d", year);
    r = tapi_call("GET", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "\xEF\xBB\xBF", 3);
    sheet *s = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(sheet_read(r.body, r.len, NULL, &s, &e), 0);
    assert_int_equal(sheet_separator(s), ';');
    size_t first = 0;
    for (size_t i = 0; i < sheet_nrows(s); i++)
        if (!strcmp(sheet_cell(s, i, 2), "Toàn tỉnh")) first = i;
    assert_true(first > 0);
    assert_int_equal(strtol(sheet_cell(s, first, 4), NULL, 10), 2); /* the volunteer's commune */
    /* a goal is set for the commune so a percent shows with a decimal comma */
    tapi_free(&r);
    sheet_free(s);
    tsup_exec(tapi_db(),
              "INSERT INTO targets (year, metric, commune_code, goal)"
              " VALUES (?, 'households_onboarded', ?, 8)"
              " ON DUPLICATE KEY UPDATE goal = VALUES(goal)",
              "is", (int64_t)year, COMMUNE_A);
    r = tapi_call("GET", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, ";2;8;25,0;"));
    assert_null(strstr(r.body, "25.0"));
    tapi_free(&r);
}

/* per-commune goals from a spreadsheet: the annex's own headers, all-or-nothing, admin only */
static void test_goals_upload(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/v1/targets/%d/goals", year);
    const char *bad = "Mã xã/phường;Hộ thanh niên mở gian hàng - Chỉ tiêu\r\n" COMMUNE_A
                      ";40\r\n99999;5\r\n" COMMUNE_B ";-3\r\n";
    tapi_resp r = tapi_req("POST", path, tok_admin, NULL, "text/csv", bad, strlen(bad));
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "commune_unknown"));
    assert_non_null(strstr(r.body, "row 3"));
    assert_non_null(strstr(r.body, "row 4"));
    tapi_free(&r);
    cs_db *db = tapi_db();
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM targets WHERE year = ? AND commune_code = ?"
                              " AND metric = 'households_onboarded' AND goal = 40",
                              "is", (int64_t)year, COMMUNE_A),
                     0);
    const char *good = "\xEF\xBB\xBF"
                       "Báo cáo\r\n\r\nSTT,Mã xã/phường,Xã/phường,"
                       "Hộ thanh niên mở gian hàng - Chỉ tiêu,flagship_products_live\r\n"
                       ",,Toàn tỉnh,2000,50\r\n1," COMMUNE_A ",Phường Hạc Thành,40,\r\n2," COMMUNE_B
                       ",Xã Các Sơn,12,3\r\n";
    r = tapi_req("POST", path, tok_vol, NULL, "text/csv", good, strlen(good));
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_req("POST", path, tok_admin, NULL, "text/csv", good, strlen(good));
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "goals_set")), 3);
    tapi_free(&r);
    char q[96];
    snprintf(q, sizeof q, "/v1/targets?year=%d&by=commune", year);
    r = tapi_call("GET", q, tok_monitor, NULL);
    assert_int_equal(r.status, 200);
    json_t *rows = json_object_get(r.json, "breakdown"), *row;
    size_t i;
    int seen = 0;
    json_array_foreach(rows, i, row)
    {
        const char *c = json_string_value(json_object_get(row, "commune_code"));
        if (!strcmp(c, COMMUNE_A)) {
            seen++;
            assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "goals"),
                                                                "households_onboarded")),
                             40);
            /* 2 of 40 */
            assert_true(json_real_value(json_object_get(json_object_get(row, "percent"),
                                                        "households_onboarded")) == 5.0);
        }
        if (!strcmp(c, COMMUNE_B)) {
            seen++;
            assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "goals"),
                                                                "flagship_products_live")),
                             3);
        }
    }
    assert_int_equal(seen, 2);
    tapi_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vi_forms),     cmocka_unit_test(test_model),
        cmocka_unit_test(test_files),        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_goals_upload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
