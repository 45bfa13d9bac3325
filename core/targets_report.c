/* core/targets_report: the targets report for the annual report, as CSV and XLSX, from the
 * CS_BY_COMMUNE progress of core/targets.c — the structs the API's JSON is built from, so the
 * files hold exactly the numbers the API answers. No database, no HTTP and no JSON here. */
#include "core/buf.h"
#include "core/mem.h"
#include "core/targets.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <xlsxwriter.h>

/* fixed columns, then per metric: total, goal, percent, one per marketplace */
enum { C_NO, C_CODE, C_NAME, C_DISTRICT, C_FIXED };
static const char *const fixed_headers[C_FIXED] = {"STT", "Mã xã/phường", "Xã/phường",
                                                   "Huyện cũ (trước 01/7/2025)"};
static const char *const metric_sub[3] = {"Tổng", "Chỉ tiêu", "% chỉ tiêu"};
/* after the metrics: the counted order lines' orders, units and revenue (core/orders.h) */
enum { N_SALES = 3 };
static const char sales_group[] = "Bán hàng (đơn đã giao)";
static const char *const sales_sub[N_SALES] = {"Đơn hàng", "Số lượng bán", "Doanh thu (đồng)"};

static size_t per_metric(const cs_progress *p)
{
    return 3 + p->nmps;
}
static size_t n_cols(const cs_progress *p)
{
    return C_FIXED + CS_M__COUNT * per_metric(p) + N_SALES;
}
static size_t first_sales_col(const cs_progress *p)
{
    return C_FIXED + CS_M__COUNT * per_metric(p);
}

/* the sub-header of column col within its metric group ("Tổng" … or the marketplace name) */
static const char *sub_header(const cs_progress *p, size_t k)
{
    if (k < 3) return metric_sub[k];
    return p->mps[k - 3].name;
}

const char *cs_targets_report_header(const cs_progress *p, unsigned col, char *buf, size_t bufsz)
{
    if (col < C_FIXED) return fixed_headers[col];
    if (col >= n_cols(p)) return NULL;
    if (col >= first_sales_col(p)) {
        snprintf(buf, bufsz, "%s - %s", sales_group, sales_sub[col - first_sales_col(p)]);
        return buf;
    }
    size_t k = (col - C_FIXED) % per_metric(p);
    int m = (int)((col - C_FIXED) / per_metric(p));
    snprintf(buf, bufsz, "%s - %s", cs_metric_label_vi(m), sub_header(p, k));
    return buf;
}

/* one report row's cells: counts, goals, percents and per-marketplace counts of a metric */
struct cells {
    int64_t total[CS_M__COUNT];
    int64_t goal[CS_M__COUNT]; /* CS_TARGETS_NO_GOAL: blank */
    int has_pct[CS_M__COUNT];
    double pct[CS_M__COUNT];
    const int64_t *per_mp;  /* nmps × CS_M__COUNT, display order; NULL: zeros */
    int64_t sales[N_SALES]; /* orders, units, revenue (đồng) */
};

static int64_t mp_count(const struct cells *c, size_t k, int m)
{
    return c->per_mp ? c->per_mp[k * CS_M__COUNT + (size_t)m] : 0;
}

static const char *text(const char *s)
{
    return s ? s : "";
}

/* a commune row's marketplaces in display order (the codes met only in the counters, which
 * have no column, are left out); the buffer is nmps × CS_M__COUNT */
static void commune_cells(const cs_progress *p, const cs_targets_row *row, int64_t *mp,
                          struct cells *c)
{
    for (int m = 0; m < CS_M__COUNT; m++) {
        c->total[m] = row->counts[m];
        c->goal[m] = row->goal[m];
        c->has_pct[m] = !row->other && cs_targets_percent(row->counts[m], row->goal[m], &c->pct[m]);
    }
    for (size_t k = 0; k < p->nmps; k++)
        for (int m = 0; m < CS_M__COUNT; m++)
            mp[k * CS_M__COUNT + (size_t)m] = k < row->nmp && row->mp ? row->mp[k].n[m] : 0;
    c->per_mp = mp;
    c->sales[0] = row->sales_orders;
    c->sales[1] = row->sales_units;
    c->sales[2] = row->sales_revenue_vnd;
}

/* the province row: totals and goals from the metrics, per marketplace summed over the
 * communes; *mp (cs_free) NULL when memory runs out */
static int province_cells(const cs_progress *p, int64_t **mp, struct cells *c)
{
    *mp = cs_calloc(p->nmps * CS_M__COUNT + 1, sizeof **mp);
    if (!*mp) return -1;
    for (int m = 0; m < CS_M__COUNT; m++) {
        const cs_targets_metric *t = &p->metrics[m];
        c->total[m] = t->achieved;
        c->goal[m] = t->goal;
        c->has_pct[m] = t->pace.has_percent;
        c->pct[m] = t->pace.percent;
    }
    for (size_t i = 0; i < p->nrows; i++)
        for (size_t k = 0; k < p->nmps && k < p->rows[i].nmp; k++)
            for (int m = 0; m < CS_M__COUNT; m++)
                (*mp)[k * CS_M__COUNT + (size_t)m] += p->rows[i].mp[k].n[m];
    c->per_mp = *mp;
    c->sales[0] = p->sales_orders;
    c->sales[1] = p->sales_units;
    c->sales[2] = p->sales_revenue_vnd;
    return 0;
}

static int check_input(const cs_progress *p, cs_error *err)
{
    if (p->by != CS_BY_COMMUNE)
        return cs_error_set(err, CS_E_INTERNAL, "report needs a by=commune progress");
    return 0;
}

static void title_lines(const cs_progress *p, char *t1, size_t n1, char *t2, size_t n2)
{
    /* "04:10 ngày 29/11/2026", Asia/Ho_Chi_Minh */
    char gen[64];
    time_t vn = p->generated_at + 7 * 3600;
    struct tm tm;
    gmtime_r(&vn, &tm);
    strftime(gen, sizeof gen, "%H:%M ngày %d/%m/%Y", &tm);
    snprintf(t1, n1,
             "BÁO CÁO TIẾN ĐỘ CHỈ TIÊU NĂM %d - HỘ THANH NIÊN VÀ SẢN PHẨM CHỦ LỰC TRÊN SÀN TMĐT",
             p->year);
    snprintf(
        t2, n2, "Số liệu đến ngày %02d/%02d/%04d; lập lúc %s (giờ Việt Nam, Asia/Ho_Chi_Minh)%s%s",
        p->as_of.d, p->as_of.m, p->as_of.y, gen, p->scope ? "; chỉ các xã/phường được giao" : "",
        p->simulated ? "; DỮ LIỆU MÔ PHỎNG (bản trình diễn/tập huấn, không phải số liệu thật)"
                     : "");
}

/* ---- CSV ----------------------------------------------------------------------------------- */

static int csv_field(cs_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n;")) return cs_buf_puts(b, s);
    if (cs_buf_putc(b, '"')) return -1;
    for (const char *q = s; *q; q++)
        if ((*q == '"' && cs_buf_putc(b, '"')) || cs_buf_putc(b, *q)) return -1;
    return cs_buf_putc(b, '"');
}

/* sep: ',' (RFC 4180) or ';' (Excel set to Vietnamese, whose list separator is ';' and decimal
 * mark ','): dec_comma writes 12,5 instead of 12.5 */
static int csv_cells(cs_buf *b, const cs_progress *p, const struct cells *c, char sep,
                     int dec_comma)
{
    int rc = 0;
    for (int m = 0; m < CS_M__COUNT; m++) {
        rc |= cs_buf_printf(b, "%c%lld%c", sep, (long long)c->total[m], sep);
        if (c->goal[m] != CS_TARGETS_NO_GOAL) rc |= cs_buf_printf(b, "%lld", (long long)c->goal[m]);
        rc |= cs_buf_putc(b, sep);
        if (c->has_pct[m]) {
            char pct[32];
            snprintf(pct, sizeof pct, "%.1f", c->pct[m]);
            char *dot = dec_comma ? strchr(pct, '.') : NULL;
            if (dot) *dot = ',';
            rc |= cs_buf_puts(b, pct);
        }
        for (size_t k = 0; k < p->nmps; k++)
            rc |= cs_buf_printf(b, "%c%lld", sep, (long long)mp_count(c, k, m));
    }
    for (int k = 0; k < N_SALES; k++)
        rc |= cs_buf_printf(b, "%c%lld", sep, (long long)c->sales[k]);
    return rc | cs_buf_puts(b, "\r\n");
}

static int csv_write(const cs_progress *p, char sep, int dec_comma, char **out, size_t *len,
                     cs_error *err)
{
    *out = NULL;
    *len = 0;
    if (check_input(p, err)) return -1;
    int64_t *prov = NULL, *mp = cs_calloc(p->nmps * CS_M__COUNT + 1, sizeof *mp);
    struct cells c;
    if (!mp || province_cells(p, &prov, &c)) {
        cs_free(mp);
        return cs_error_set(err, CS_E_NOMEM, "report csv");
    }
    cs_buf b;
    cs_buf_init(&b, 16u << 20);
    char t1[200], t2[400], hb[200];
    title_lines(p, t1, sizeof t1, t2, sizeof t2);
    int rc = cs_buf_puts(&b, "\xEF\xBB\xBF") | csv_field(&b, t1) | cs_buf_puts(&b, "\r\n") |
             csv_field(&b, t2) | cs_buf_puts(&b, "\r\n\r\n");
    for (unsigned col = 0; col < n_cols(p); col++)
        rc |= (col ? cs_buf_putc(&b, sep) : 0) |
              csv_field(&b, cs_targets_report_header(p, col, hb, sizeof hb));
    rc |= cs_buf_puts(&b, "\r\n");
    rc |=
        cs_buf_printf(&b, "%c%cToàn tỉnh%c", sep, sep, sep) | csv_cells(&b, p, &c, sep, dec_comma);
    for (size_t i = 0; i < p->nrows; i++) {
        const cs_targets_row *row = &p->rows[i];
        commune_cells(p, row, mp, &c);
        rc |= cs_buf_printf(&b, "%zu%c", i + 1, sep) | csv_field(&b, text(row->code)) |
              cs_buf_putc(&b, sep) | csv_field(&b, text(row->name)) | cs_buf_putc(&b, sep) |
              csv_field(&b, text(row->district_name)) | csv_cells(&b, p, &c, sep, dec_comma);
    }
    cs_free(prov);
    cs_free(mp);
    if (rc) {
        cs_buf_free(&b);
        return cs_error_set(err, CS_E_NOMEM, "report csv");
    }
    *len = b.len;
    *out = cs_buf_steal(&b);
    return *out ? 0 : cs_error_set(err, CS_E_NOMEM, "report csv");
}

int cs_targets_csv(const cs_progress *p, char **out, size_t *len, cs_error *err)
{
    return csv_write(p, ',', 0, out, len, err);
}

int cs_targets_csv_vn(const cs_progress *p, char **out, size_t *len, cs_error *err)
{
    return csv_write(p, ';', 1, out, len, err);
}

/* ---- XLSX ---------------------------------------------------------------------------------- */

struct xfmt {
    lxw_format *title, *subtitle, *head, *cell_text, *cell_int, *cell_pct, *tot_text, *tot_int,
        *tot_pct;
};

static lxw_format *fmt(lxw_workbook *wb, int bold, int border, const char *num, uint32_t bg)
{
    lxw_format *f = workbook_add_format(wb);
    if (!f) return NULL;
    if (bold) format_set_bold(f);
    if (border) format_set_border(f, LXW_BORDER_THIN);
    if (num) format_set_num_format(f, num);
    if (bg) format_set_bg_color(f, bg);
    format_set_font_name(f, "Times New Roman");
    format_set_font_size(f, 11);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    return f;
}

static int xlsx_cells(lxw_worksheet *ws, lxw_row_t r, const cs_progress *p, const struct cells *c,
                      lxw_format *fi, lxw_format *fp)
{
    int rc = 0;
    lxw_col_t col = C_FIXED;
    for (int m = 0; m < CS_M__COUNT; m++) {
        rc |= worksheet_write_number(ws, r, col++, (double)c->total[m], fi);
        rc |= c->goal[m] != CS_TARGETS_NO_GOAL
                  ? worksheet_write_number(ws, r, col, (double)c->goal[m], fi)
                  : worksheet_write_blank(ws, r, col, fi);
        col++;
        /* stored as a fraction so Excel's own % format shows it; the API's percent / 100 */
        rc |= c->has_pct[m] ? worksheet_write_number(ws, r, col, c->pct[m] / 100.0, fp)
                            : worksheet_write_blank(ws, r, col, fp);
        col++;
        for (size_t k = 0; k < p->nmps; k++)
            rc |= worksheet_write_number(ws, r, col++, (double)mp_count(c, k, m), fi);
    }
    for (int k = 0; k < N_SALES; k++)
        rc |= worksheet_write_number(ws, r, col++, (double)c->sales[k], fi);
    return rc;
}

int cs_targets_xlsx(const cs_progress *p, const char *path, cs_error *err)
{
    if (check_input(p, err)) return -1;
    int64_t *prov = NULL, *mp = cs_calloc(p->nmps * CS_M__COUNT + 1, sizeof *mp);
    struct cells cl;
    if (!mp || province_cells(p, &prov, &cl)) {
        cs_free(mp);
        return cs_error_set(err, CS_E_NOMEM, "report xlsx");
    }
    lxw_workbook *wb = workbook_new(path);
    if (!wb) {
        cs_free(prov);
        cs_free(mp);
        return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: cannot create %s", path);
    }
    char t1[200], t2[400];
    title_lines(p, t1, sizeof t1, t2, sizeof t2);
    lxw_doc_properties props = {.title = t1, .author = "Chợ Số", .company = "Tỉnh đoàn Thanh Hóa"};
    workbook_set_properties(wb, &props);
    char sheet_name[32];
    snprintf(sheet_name, sizeof sheet_name, "Chỉ tiêu %d", p->year);
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet_name);
    struct xfmt f = {
        fmt(wb, 1, 0, NULL, 0),          fmt(wb, 0, 0, NULL, 0),
        fmt(wb, 1, 1, NULL, 0xD9E1F2),   fmt(wb, 0, 1, "@", 0),
        fmt(wb, 0, 1, "#,##0", 0),       fmt(wb, 0, 1, "0.0%", 0),
        fmt(wb, 1, 1, "@", 0xFFF2CC),    fmt(wb, 1, 1, "#,##0", 0xFFF2CC),
        fmt(wb, 1, 1, "0.0%", 0xFFF2CC),
    };
    if (!ws || !f.title || !f.subtitle || !f.head || !f.cell_text || !f.cell_int || !f.cell_pct ||
        !f.tot_text || !f.tot_int || !f.tot_pct) {
        workbook_close(wb);
        remove(path);
        cs_free(prov);
        cs_free(mp);
        return cs_error_set(err, CS_E_NOMEM, "report xlsx");
    }
    format_set_font_size(f.title, 14);
    format_set_text_wrap(f.head);
    format_set_align(f.head, LXW_ALIGN_CENTER);
    format_set_italic(f.subtitle);

    lxw_col_t last = (lxw_col_t)(n_cols(p) - 1);
    int rc = 0;
    rc |= worksheet_merge_range(ws, 0, 0, 0, last, t1, f.title);
    rc |= worksheet_merge_range(ws, 1, 0, 1, last, t2, f.subtitle);
    /* two header rows: fixed columns span both, each metric a merged group over its columns */
    const lxw_row_t h1 = 3, h2 = 4, first = 5;
    for (lxw_col_t c = 0; c < C_FIXED; c++)
        rc |= worksheet_merge_range(ws, h1, c, h2, c, fixed_headers[c], f.head);
    size_t pm = per_metric(p);
    for (int m = 0; m < CS_M__COUNT; m++) {
        lxw_col_t c0 = (lxw_col_t)(C_FIXED + (size_t)m * pm);
        rc |= worksheet_merge_range(ws, h1, c0, h1, (lxw_col_t)(c0 + pm - 1), cs_metric_label_vi(m),
                                    f.head);
        for (size_t k = 0; k < pm; k++)
            rc |= worksheet_write_string(ws, h2, (lxw_col_t)(c0 + k), sub_header(p, k), f.head);
    }
    lxw_col_t s0 = (lxw_col_t)first_sales_col(p);
    rc |= worksheet_merge_range(ws, h1, s0, h1, (lxw_col_t)(s0 + N_SALES - 1), sales_group, f.head);
    for (int k = 0; k < N_SALES; k++)
        rc |= worksheet_write_string(ws, h2, (lxw_col_t)(s0 + k), sales_sub[k], f.head);
    worksheet_set_row(ws, h2, 30, NULL);

    rc |= worksheet_write_blank(ws, first, C_NO, f.tot_text);
    rc |= worksheet_write_blank(ws, first, C_CODE, f.tot_text);
    rc |= worksheet_write_string(ws, first, C_NAME, "Toàn tỉnh", f.tot_text);
    rc |= worksheet_write_blank(ws, first, C_DISTRICT, f.tot_text);
    rc |= xlsx_cells(ws, first, p, &cl, f.tot_int, f.tot_pct);
    for (size_t i = 0; i < p->nrows; i++) {
        const cs_targets_row *row = &p->rows[i];
        lxw_row_t r = (lxw_row_t)(first + 1 + i);
        commune_cells(p, row, mp, &cl);
        rc |= worksheet_write_number(ws, r, C_NO, (double)(i + 1), f.cell_int);
        rc |= worksheet_write_string(ws, r, C_CODE, text(row->code), f.cell_text);
        rc |= worksheet_write_string(ws, r, C_NAME, text(row->name), f.cell_text);
        rc |= worksheet_write_string(ws, r, C_DISTRICT, text(row->district_name), f.cell_text);
        rc |= xlsx_cells(ws, r, p, &cl, f.cell_int, f.cell_pct);
    }
    cs_free(prov);
    cs_free(mp);

    /* printing: A4 landscape, one page wide, header rows on every page, page numbers */
    worksheet_set_column(ws, C_NO, C_NO, 5, NULL);
    worksheet_set_column(ws, C_CODE, C_CODE, 8, NULL);
    worksheet_set_column(ws, C_NAME, C_NAME, 20, NULL);
    worksheet_set_column(ws, C_DISTRICT, C_DISTRICT, 18, NULL);
    worksheet_set_column(ws, C_FIXED, last, 9, NULL);
    worksheet_set_column(ws, s0 + N_SALES - 1, s0 + N_SALES - 1, 14, NULL);
    worksheet_freeze_panes(ws, first, C_FIXED);
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6);
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_center_horizontally(ws);
    rc |= worksheet_repeat_rows(ws, h1, h2);
    rc |= worksheet_set_footer(ws, "&L&8Chợ Số - Tỉnh đoàn Thanh Hóa&R&8Trang &P/&N");
    lxw_error e = workbook_close(wb);
    if (rc || e != LXW_NO_ERROR) {
        remove(path);
        return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: %s",
                            e != LXW_NO_ERROR ? lxw_strerror(e) : "a cell could not be written");
    }
    return 0;
}
