/* core/annual: builds the annual report's document model from core/targets' progress (the same
 * structs the API answers from, so every number matches the dashboard) and the two named lists.
 * No HTTP, no JSON, no file formats here (annual_xlsx.c, annual_pdf.c write them). */
#include "core/annual.h"
#include "core/mem.h"
#include "core/orders.h"
#include "core/showcase.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- Vietnamese forms --------------------------------------------------------------------- */

void cs_vi_int(int64_t v, char *out, size_t n)
{
    char digits[32];
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    size_t len = strlen(digits), o = 0;
    char buf[48];
    if (v < 0) buf[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = '.';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    snprintf(out, n, "%s", buf);
}

void cs_vi_pct(double pct, char *out, size_t n)
{
    char b[48];
    snprintf(b, sizeof b, "%.1f", pct);
    char *dot = strchr(b, '.');
    if (dot) *dot = ',';
    snprintf(out, n, "%s%%", b);
}

void cs_vi_date(vn_date d, char *out, size_t n)
{
    snprintf(out, n, "%02d/%02d/%04d", d.d, d.m, d.y);
}

const char *cs_rcell_text(const cs_rcell *c, char *out, size_t n)
{
    switch (c->kind) {
    case CS_RK_TEXT:
        return c->text ? c->text : "";
    case CS_RK_INT:
        cs_vi_int(c->i, out, n);
        return out;
    case CS_RK_PCT:
        cs_vi_pct(c->d, out, n);
        return out;
    case CS_RK_DATE:
        cs_vi_date(c->date, out, n);
        return out;
    case CS_RK_EMPTY:
        break;
    }
    return "";
}

/* ---- the model ------------------------------------------------------------------------------ */

static const char *keep(cs_annual *a, const char *s)
{
    if (!s) return NULL;
    if (a->nstrings == a->capstrings) {
        size_t cap = a->capstrings ? a->capstrings * 2 : 256;
        char **n = cs_realloc(a->strings, cap * sizeof *n);
        if (!n) return NULL;
        a->strings = n;
        a->capstrings = cap;
    }
    char *c = cs_strdup(s);
    if (c) a->strings[a->nstrings++] = c;
    return c;
}

static cs_rtable *table(cs_annual *a, const char *sheet, const char *title, const char *note,
                        unsigned ncols, const char *const *head, const double *width)
{
    cs_rtable *t = &a->tables[a->ntables++];
    memset(t, 0, sizeof *t);
    t->sheet = sheet;
    t->title = title;
    t->note = note;
    t->ncols = ncols;
    for (unsigned c = 0; c < ncols; c++) {
        t->head[c] = head[c];
        t->width[c] = width[c];
    }
    return t;
}

/* a new row (cells empty); NULL when memory runs out */
static cs_rcell *row(cs_rtable *t, cs_rstyle style)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        cs_rcell *c = cs_realloc(t->cells, cap * t->ncols * sizeof *c);
        if (!c) return NULL;
        t->cells = c;
        cs_rstyle *s = cs_realloc(t->style, cap * sizeof *s);
        if (!s) return NULL;
        t->style = s;
        t->cap = cap;
    }
    cs_rcell *r = &t->cells[t->nrows * t->ncols];
    memset(r, 0, t->ncols * sizeof *r);
    t->style[t->nrows++] = style;
    return r;
}

static void set_text(cs_annual *a, cs_rcell *c, const char *s, int *bad)
{
    if (!s || !*s) return;
    c->kind = CS_RK_TEXT;
    c->text = keep(a, s);
    if (!c->text) *bad = 1;
}
static void set_int(cs_rcell *c, int64_t v)
{
    c->kind = CS_RK_INT;
    c->i = v;
}
static void set_goal(cs_rcell *c, int64_t g)
{
    if (g != CS_TARGETS_NO_GOAL) set_int(c, g);
}
static void set_pct(cs_rcell *c, int64_t achieved, int64_t goal)
{
    double p = 0;
    if (cs_targets_percent(achieved, goal, &p)) {
        c->kind = CS_RK_PCT;
        c->d = p;
    }
}
/* "dd/mm/yyyy" or "" from SQL → a date cell */
static void set_date(cs_rcell *c, const char *iso)
{
    vn_date d;
    cs_code why;
    if (iso && *iso && !vn_date_parse(iso, 0, &d, &why)) {
        c->kind = CS_RK_DATE;
        c->date = d;
    }
}

void cs_annual_free(cs_annual *a)
{
    for (size_t i = 0; i < a->ntables; i++) {
        cs_free(a->tables[i].cells);
        cs_free(a->tables[i].style);
    }
    for (size_t i = 0; i < a->nstrings; i++)
        cs_free(a->strings[i]);
    cs_free(a->strings);
    memset(a, 0, sizeof *a);
}

/* ---- sections ------------------------------------------------------------------------------- */

static int summary(cs_annual *a, const cs_progress *p)
{
    static const char *const head[] = {"Chỉ tiêu", "Mục tiêu năm",  "Đã đạt",       "Tỷ lệ",
                                       "Còn lại",  "Cần mỗi tháng", "Dự báo cả năm"};
    static const double w[] = {34, 11, 10, 9, 10, 11, 12};
    cs_rtable *t = table(a, "Tổng hợp", "I. KẾT QUẢ THỰC HIỆN CHỈ TIÊU",
                         "Dự báo theo nhịp độ hiện tại; tỷ lệ so với mục tiêu năm.", 7, head, w);
    int bad = 0;
    for (int m = 0; m < CS_M__COUNT; m++) {
        const cs_targets_metric *mt = &p->metrics[m];
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) return -1;
        set_text(a, &r[0], cs_metric_label_vi(m), &bad);
        set_goal(&r[1], mt->goal);
        set_int(&r[2], mt->achieved);
        set_pct(&r[3], mt->achieved, mt->goal);
        if (mt->pace.has_remaining) set_int(&r[4], mt->pace.remaining);
        if (mt->pace.has_per_month) set_int(&r[5], mt->pace.needed_per_month);
        if (mt->pace.has_projection) set_int(&r[6], mt->pace.projection);
    }
    /* orders, units and revenue of counted order lines (core/orders.h: order_counts): no
     * province goal exists for them, so only the achieved column is filled */
    static const char *const sales_label[] = {"Đơn hàng đã giao (đơn)", "Số lượng sản phẩm đã bán",
                                              "Doanh thu (đồng)"};
    const int64_t sales[] = {p->sales_orders, p->sales_units, p->sales_revenue_vnd};
    for (int k = 0; k < 3; k++) {
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) return -1;
        set_text(a, &r[0], sales_label[k], &bad);
        set_int(&r[2], sales[k]);
    }
    return bad ? -1 : 0;
}

/* orders, units and revenue of the breakdown row whose key is `key` (cs_orders_breakdown);
 * zeros when that key sold nothing */
static void sales_cells(cs_rcell *r, const cs_rows *s, const char *key)
{
    int64_t o = 0, u = 0, v = 0;
    for (size_t i = 0; key && i < cs_rows_count(s); i++) {
        const char *k = cs_rows_str(s, i, CS_OBY_KEY);
        if (!k || strcmp(k, key)) continue;
        o = cs_rows_i64(s, i, CS_OBY_ORDERS);
        u = cs_rows_i64(s, i, CS_OBY_UNITS);
        v = cs_rows_i64(s, i, CS_OBY_REVENUE);
        break;
    }
    set_int(&r[0], o);
    set_int(&r[1], u);
    set_int(&r[2], v);
}

static void counts_cells(cs_rcell *r, const int64_t n[CS_M__COUNT], const int64_t goal[CS_M__COUNT])
{
    set_int(&r[2], n[CS_M_HOUSEHOLDS]);
    if (goal) {
        set_goal(&r[3], goal[CS_M_HOUSEHOLDS]);
        set_pct(&r[4], n[CS_M_HOUSEHOLDS], goal[CS_M_HOUSEHOLDS]);
    }
    set_int(&r[5], n[CS_M_LIVE]);
    set_int(&r[6], n[CS_M_SOLD]);
}

static int districts(cs_annual *a, const cs_progress *p)
{
    static const char *const head[] = {
        "STT",   "Huyện cũ / xã, phường", "Hộ mở gian hàng",  "Chỉ tiêu hộ",
        "Tỷ lệ", "SP chủ lực lên sàn",    "SP chủ lực đã bán"};
    static const double w[] = {6, 34, 11, 10, 9, 12, 12};
    cs_rtable *t =
        table(a, "Theo địa bàn", "II. THEO ĐỊA BÀN (HUYỆN CŨ TRƯỚC 01/7/2025 VÀ XÃ, PHƯỜNG)",
              "Dòng in đậm: cộng của huyện cũ; xã, phường xếp dưới huyện cũ của nó.", 7, head, w);
    int bad = 0;
    cs_rcell *r = row(t, CS_RS_TOTAL);
    if (!r) return -1;
    int64_t tot[CS_M__COUNT], goals[CS_M__COUNT];
    for (int m = 0; m < CS_M__COUNT; m++) {
        tot[m] = p->metrics[m].achieved;
        goals[m] = p->metrics[m].goal;
    }
    set_text(a, &r[1], "Toàn tỉnh", &bad);
    counts_cells(r, tot, goals);
    /* districts in the order their first commune appears */
    int64_t no = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        const cs_targets_row *ri = &p->rows[i];
        if (ri->other || !ri->district_code) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = p->rows[j].district_code && !strcmp(p->rows[j].district_code, ri->district_code);
        if (seen) continue;
        int64_t sum[CS_M__COUNT] = {0}, sgoal[CS_M__COUNT];
        int any_goal[CS_M__COUNT] = {0};
        for (int m = 0; m < CS_M__COUNT; m++)
            sgoal[m] = 0;
        for (size_t j = i; j < p->nrows; j++) {
            const cs_targets_row *rj = &p->rows[j];
            if (!rj->district_code || strcmp(rj->district_code, ri->district_code)) continue;
            for (int m = 0; m < CS_M__COUNT; m++) {
                sum[m] += rj->counts[m];
                if (rj->goal[m] != CS_TARGETS_NO_GOAL) {
                    sgoal[m] += rj->goal[m];
                    any_goal[m] = 1;
                }
            }
        }
        for (int m = 0; m < CS_M__COUNT; m++)
            if (!any_goal[m]) sgoal[m] = CS_TARGETS_NO_GOAL;
        r = row(t, CS_RS_SUBTOTAL);
        if (!r) return -1;
        set_text(a, &r[1], ri->district_name, &bad);
        counts_cells(r, sum, sgoal);
        for (size_t j = i; j < p->nrows; j++) {
            const cs_targets_row *rj = &p->rows[j];
            if (!rj->district_code || strcmp(rj->district_code, ri->district_code)) continue;
            r = row(t, CS_RS_NORMAL);
            if (!r) return -1;
            set_int(&r[0], ++no);
            set_text(a, &r[1], rj->name, &bad);
            counts_cells(r, rj->counts, rj->goal);
        }
    }
    return bad ? -1 : 0;
}

static int months(cs_annual *a, const cs_progress *p, const cs_rows *sales)
{
    static const char *const head[] = {
        "Tháng",     "Hộ mở gian hàng",  "Lũy kế hộ", "SP lên sàn", "Lũy kế SP lên sàn",
        "SP đã bán", "Lũy kế SP đã bán", "Đơn hàng",  "Số lượng",   "Doanh thu (đồng)"};
    static const double w[] = {7, 10, 9, 9, 10, 9, 10, 9, 9, 14};
    cs_rtable *t = table(
        a, "Theo tháng", "III. THEO THÁNG, CỘNG DỒN TỪ ĐẦU NĂM",
        "Đơn hàng, số lượng, doanh thu: các dòng đơn đã giao được tính trong tháng.", 10, head, w);
    int64_t run[CS_M__COUNT] = {0};
    for (size_t i = 0; i < p->nrows; i++) {
        const cs_targets_row *ri = &p->rows[i];
        if (ri->other) continue;
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) return -1;
        set_int(&r[0], ri->month);
        for (int m = 0; m < CS_M__COUNT; m++) {
            run[m] += ri->counts[m];
            set_int(&r[1 + 2 * m], ri->counts[m]);
            set_int(&r[2 + 2 * m], run[m]);
        }
        char key[8];
        snprintf(key, sizeof key, "%d", ri->month);
        sales_cells(&r[7], sales, key);
    }
    return 0;
}

static int marketplaces(cs_annual *a, const cs_progress *p, const cs_rows *sales)
{
    static const char *const head[] = {
        "Sàn thương mại điện tử", "Hộ mở gian hàng", "SP chủ lực lên sàn",
        "SP chủ lực đã bán",      "Đơn hàng",        "Số lượng",
        "Doanh thu (đồng)"};
    static const double w[] = {26, 12, 12, 12, 10, 10, 16};
    cs_rtable *t = table(a, "Theo sàn", "IV. THEO SÀN THƯƠNG MẠI ĐIỆN TỬ",
                         "Mỗi hộ, sản phẩm được tính ở sàn đầu tiên đạt; đơn hàng, doanh thu theo "
                         "sàn của đơn.",
                         7, head, w);
    int bad = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        const cs_targets_row *ri = &p->rows[i];
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) return -1;
        set_text(a, &r[0], ri->other ? "Không rõ sàn" : ri->name, &bad);
        for (int m = 0; m < CS_M__COUNT; m++)
            set_int(&r[1 + m], ri->counts[m]);
        sales_cells(&r[4], sales, ri->other ? NULL : ri->code);
    }
    return bad ? -1 : 0;
}

/* The named lists. Same definitions as core/targets.c's counters (youth-led, first activation
 * in the year of Asia/Ho_Chi_Minh; flagship, first live or first sale in the year). Only public
 * facts: household codes, communes, marketplaces, public shop and listing addresses, dates. */
// clang-format off
enum { HL_CODE, HL_COMMUNE, HL_DISTRICT, HL_MP, HL_SHOP, HL_DATE };
static const char sql_households[] =
    "SELECT h.code, u.name, d.name,"
    " COALESCE(m.name, ''), COALESCE(fa.shop_url, ''),"
    " DATE_FORMAT(h.onboarded_at + INTERVAL 7 HOUR, '%Y-%m-%d')"
    " FROM households h"
    " JOIN admin_units u ON u.code = h.commune_code"
    " JOIN admin_districts d ON d.code = u.primary_district_code"
    " LEFT JOIN seller_accounts fa ON fa.id = ("
    "   SELECT a.id"
    "   FROM seller_accounts a"
    "   WHERE a.household_id = h.id AND a.activated_at IS NOT NULL"
    "   ORDER BY a.activated_at, a.id"
    "   LIMIT 1)"
    " LEFT JOIN marketplaces m ON m.code = fa.marketplace_code"
    " WHERE h.youth_led"
    " AND h.onboarded_at >= ? - INTERVAL 7 HOUR"
    " AND h.onboarded_at < ? - INTERVAL 7 HOUR"
    " ORDER BY h.onboarded_at, h.code";
enum { PL_NAME, PL_ENTRY, PL_STARS, PL_COMMUNE, PL_LINKS, PL_LIVE, PL_SOLD };
static const char sql_products[] =
    "SELECT p.name, COALESCE(f.name, ''), COALESCE(p.ocop_stars, f.ocop_stars), u.name,"
    " COALESCE((SELECT GROUP_CONCAT(l.listing_url ORDER BY m.display_order SEPARATOR '\\n')"
    "   FROM listings l"
    "   JOIN marketplaces m ON m.code = l.marketplace_code"
    "   WHERE l.product_id = p.id AND l.first_live_at IS NOT NULL AND l.listing_url IS NOT NULL), ''),"
    " COALESCE(DATE_FORMAT(p.first_live_at + INTERVAL 7 HOUR, '%Y-%m-%d'), ''),"
    " COALESCE(DATE_FORMAT(p.first_sold_at + INTERVAL 7 HOUR, '%Y-%m-%d'), '')"
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " JOIN admin_units u ON u.code = h.commune_code"
    " LEFT JOIN flagship_products f ON f.id = p.flagship_id"
    " WHERE p.flagship"
    " AND ((p.first_live_at >= ? - INTERVAL 7 HOUR AND p.first_live_at < ? - INTERVAL 7 HOUR)"
    "   OR (p.first_sold_at >= ? - INTERVAL 7 HOUR AND p.first_sold_at < ? - INTERVAL 7 HOUR))"
    " ORDER BY p.first_live_at, p.id";
// clang-format on

static int households_list(cs_annual *a, cs_db *db, const char *from, const char *to, cs_error *err)
{
    static const char *const head[] = {
        "STT", "Mã hộ", "Xã, phường", "Huyện cũ", "Sàn", "Địa chỉ gian hàng", "Ngày mở sàn"};
    static const double w[] = {6, 16, 20, 16, 12, 40, 12};
    cs_rows *q = NULL;
    if (cs_db_query(db, &q, sql_households, "ss", from, to, err)) return -1;
    cs_rtable *t =
        table(a, "DS hộ", "V. DANH SÁCH HỘ THANH NIÊN ĐƯỢC TÍNH",
              "Không có thông tin cá nhân: chỉ mã hộ, địa bàn và gian hàng công khai.", 7, head, w);
    int bad = 0;
    for (size_t i = 0; i < cs_rows_count(q) && !bad; i++) {
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) {
            bad = 1;
            break;
        }
        set_int(&r[0], (int64_t)i + 1);
        set_text(a, &r[1], cs_rows_str(q, i, HL_CODE), &bad);
        set_text(a, &r[2], cs_rows_str(q, i, HL_COMMUNE), &bad);
        set_text(a, &r[3], cs_rows_str(q, i, HL_DISTRICT), &bad);
        set_text(a, &r[4], cs_rows_str(q, i, HL_MP), &bad);
        set_text(a, &r[5], cs_rows_str(q, i, HL_SHOP), &bad);
        set_date(&r[6], cs_rows_str(q, i, HL_DATE));
    }
    cs_rows_free(q);
    return bad ? cs_error_set(err, CS_E_NOMEM, "annual report") : 0;
}

static int products_list(cs_annual *a, cs_db *db, const char *from, const char *to, cs_error *err)
{
    static const char *const head[] = {"STT",          "Sản phẩm",    "Thuộc danh mục tỉnh",
                                       "OCOP",         "Xã, phường",  "Đường dẫn trên sàn",
                                       "Ngày lên sàn", "Ngày bán đầu"};
    static const double w[] = {5, 22, 20, 6, 14, 34, 11, 11};
    cs_rows *q = NULL;
    if (cs_db_query(db, &q, sql_products, "ssss", from, to, from, to, err)) return -1;
    cs_rtable *t =
        table(a, "DS sản phẩm", "VI. DANH SÁCH SẢN PHẨM CHỦ LỰC ĐƯỢC TÍNH", NULL, 8, head, w);
    int bad = 0;
    for (size_t i = 0; i < cs_rows_count(q) && !bad; i++) {
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) {
            bad = 1;
            break;
        }
        set_int(&r[0], (int64_t)i + 1);
        set_text(a, &r[1], cs_rows_str(q, i, PL_NAME), &bad);
        set_text(a, &r[2], cs_rows_str(q, i, PL_ENTRY), &bad);
        if (!cs_rows_isnull(q, i, PL_STARS)) {
            char stars[32];
            snprintf(stars, sizeof stars, "%lld sao", (long long)cs_rows_i64(q, i, PL_STARS));
            set_text(a, &r[3], stars, &bad);
        }
        set_text(a, &r[4], cs_rows_str(q, i, PL_COMMUNE), &bad);
        set_text(a, &r[5], cs_rows_str(q, i, PL_LINKS), &bad);
        set_date(&r[6], cs_rows_str(q, i, PL_LIVE));
        set_date(&r[7], cs_rows_str(q, i, PL_SOLD));
    }
    cs_rows_free(q);
    return bad ? cs_error_set(err, CS_E_NOMEM, "annual report") : 0;
}

/* the showcase's click-throughs (core/showcase): one line per product and month, and the
 * year's total as the summary's last line */
static int promoted(cs_annual *a, cs_db *db, int year, cs_error *err)
{
    static const char *const head[] = {"STT", "Sản phẩm", "Xã, phường", "Tháng",
                                       "Lượt bấm sang sàn"};
    static const double w[] = {6, 34, 22, 10, 14};
    cs_rows *q = NULL;
    if (cs_showcase_promoted(db, year, &q, err)) return -1;
    cs_rtable *t = table(a, "Quảng bá", "VII. QUẢNG BÁ: LƯỢT BẤM TỪ TRANG QUẢNG BÁ SANG SÀN",
                         "Đếm mỗi lần bấm nút mua trên trang quảng bá công khai; không lưu thông "
                         "tin người xem.",
                         5, head, w);
    int bad = 0;
    int64_t total = 0;
    for (size_t i = 0; i < cs_rows_count(q) && !bad; i++) {
        cs_rcell *r = row(t, CS_RS_NORMAL);
        if (!r) {
            bad = 1;
            break;
        }
        set_int(&r[0], (int64_t)i + 1);
        set_text(a, &r[1], cs_rows_str(q, i, CS_SC_PR_NAME), &bad);
        set_text(a, &r[2], cs_rows_str(q, i, CS_SC_PR_COMMUNE), &bad);
        set_int(&r[3], cs_rows_i64(q, i, CS_SC_PR_MONTH));
        set_int(&r[4], cs_rows_i64(q, i, CS_SC_PR_CLICKS));
        total += cs_rows_i64(q, i, CS_SC_PR_CLICKS);
    }
    cs_rows_free(q);
    cs_rcell *r = bad ? NULL : row(&a->tables[0], CS_RS_NORMAL);
    if (!r) return cs_error_set(err, CS_E_NOMEM, "annual report");
    set_text(a, &r[0], "Lượt bấm từ trang quảng bá sang sàn", &bad);
    set_int(&r[2], total);
    return bad ? cs_error_set(err, CS_E_NOMEM, "annual report") : 0;
}

int cs_annual_build(cs_db *db, int year, vn_date today, cs_annual *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    cs_rows *sm = NULL, *smp = NULL; /* orders, units, revenue by month and by marketplace */
    cs_progress pc, pm, pmp;
    memset(&pc, 0, sizeof pc);
    memset(&pm, 0, sizeof pm);
    memset(&pmp, 0, sizeof pmp);
    char from[24], to[24];
    snprintf(from, sizeof from, "%04d-01-01 00:00:00", year);
    snprintf(to, sizeof to, "%04d-01-01 00:00:00", year + 1);
    int rc = -1;
    if (cs_targets_progress(db, year, CS_BY_COMMUNE, today, NULL, 0, &pc, err) ||
        cs_targets_progress(db, year, CS_BY_MONTH, today, NULL, 0, &pm, err) ||
        cs_targets_progress(db, year, CS_BY_MARKETPLACE, today, NULL, 0, &pmp, err) ||
        cs_orders_breakdown(db, year, "month", NULL, &sm, err) ||
        cs_orders_breakdown(db, year, "marketplace", NULL, &smp, err))
        goto out;
    out->year = year;
    out->as_of = pc.as_of;
    out->generated_at = pc.generated_at;
    snprintf(out->organisation, sizeof out->organisation, "TỈNH ĐOÀN THANH HÓA");
    snprintf(out->title, sizeof out->title,
             "BÁO CÁO KẾT QUẢ HỖ TRỢ HỘ KINH DOANH THANH NIÊN VÀ SẢN PHẨM CHỦ LỰC "
             "LÊN SÀN THƯƠNG MẠI ĐIỆN TỬ NĂM %d",
             year);
    snprintf(out->subtitle, sizeof out->subtitle,
             "Số liệu đến ngày %02d/%02d/%04d (giờ Việt Nam), trích từ hệ thống Chợ Số%s",
             pc.as_of.d, pc.as_of.m, pc.as_of.y,
             pc.simulated ? " - DỮ LIỆU MÔ PHỎNG (bản trình diễn/tập huấn)" : "");
    if (summary(out, &pc) || districts(out, &pc) || months(out, &pm, sm) ||
        marketplaces(out, &pmp, smp)) {
        cs_error_set(err, CS_E_NOMEM, "annual report");
        goto out;
    }
    if (households_list(out, db, from, to, err) || products_list(out, db, from, to, err) ||
        promoted(out, db, year, err))
        goto out;
    rc = 0;
out:
    cs_rows_free(sm);
    cs_rows_free(smp);
    cs_targets_progress_free(&pc);
    cs_targets_progress_free(&pm);
    cs_targets_progress_free(&pmp);
    if (rc) cs_annual_free(out);
    return rc;
}
