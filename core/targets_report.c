/* core/targets_report: the targets report for the annual report, as CSV and XLSX, from the
 * CS_BY_COMMUNE progress object of core/targets.c — so the files hold exactly the numbers the
 * API answers. No database and no HTTP here. */
#include "core/buf.h"
#include "core/mem.h"
#include "core/targets.h"
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

/* fixed columns, then per metric: total, goal, percent, one per marketplace */
enum { C_NO, C_CODE, C_NAME, C_DISTRICT, C_FIXED };
static const char *const fixed_headers[C_FIXED] = {"STT", "Mã xã/phường", "Xã/phường",
                                                   "Huyện cũ (trước 01/7/2025)"};
static const char *const metric_sub[3] = {"Tổng", "Chỉ tiêu", "% chỉ tiêu"};

static size_t n_mp(const json_t *p)
{
    return json_array_size(json_object_get(p, "marketplaces"));
}
static size_t per_metric(const json_t *p)
{
    return 3 + n_mp(p);
}
static size_t n_cols(const json_t *p)
{
    return C_FIXED + CS_M__COUNT * per_metric(p);
}

/* the sub-header of column col within its metric group ("Tổng" … or the marketplace name) */
static const char *sub_header(const json_t *p, size_t k)
{
    if (k < 3) return metric_sub[k];
    return json_string_value(
        json_object_get(json_array_get(json_object_get(p, "marketplaces"), k - 3), "name"));
}

const char *cs_targets_report_header(const json_t *p, unsigned col, char *buf, size_t bufsz)
{
    if (col < C_FIXED) return fixed_headers[col];
    if (col >= n_cols(p)) return NULL;
    size_t k = (col - C_FIXED) % per_metric(p);
    int m = (int)((col - C_FIXED) / per_metric(p));
    snprintf(buf, bufsz, "%s - %s", cs_metric_label_vi(m), sub_header(p, k));
    return buf;
}

/* one report row's cells: counts, goals, percents and per-marketplace counts of a metric */
struct cells {
    json_int_t total[CS_M__COUNT];
    const json_t *goal[CS_M__COUNT];    /* integer or null */
    const json_t *percent[CS_M__COUNT]; /* real or null */
    const json_t *per_mp;               /* {code: {metric: n}} */
};

static json_int_t mp_count(const json_t *per_mp, const char *code, int m)
{
    return json_integer_value(json_object_get(json_object_get(per_mp, code), cs_metric_name(m)));
}

static void commune_cells(const json_t *row, struct cells *c)
{
    for (int m = 0; m < CS_M__COUNT; m++) {
        const char *k = cs_metric_name(m);
        c->total[m] = json_integer_value(json_object_get(json_object_get(row, "counts"), k));
        c->goal[m] = json_object_get(json_object_get(row, "goals"), k);
        c->percent[m] = json_object_get(json_object_get(row, "percent"), k);
    }
    c->per_mp = json_object_get(row, "marketplaces");
}

/* the province row: totals and goals from `metrics`, per marketplace summed over the communes */
static json_t *province_per_mp(const json_t *p)
{
    json_t *sum = json_object();
    size_t i, k;
    json_t *row, *mp;
    json_array_foreach(json_object_get(p, "marketplaces"), k, mp)
    {
        json_t *o = json_object();
        for (int m = 0; m < CS_M__COUNT; m++) {
            json_int_t n = 0;
            json_array_foreach(json_object_get(p, "breakdown"), i, row) n +=
                mp_count(json_object_get(row, "marketplaces"),
                         json_string_value(json_object_get(mp, "code")), m);
            json_object_set_new(o, cs_metric_name(m), json_integer(n));
        }
        json_object_set_new(sum, json_string_value(json_object_get(mp, "code")), o);
    }
    return sum;
}

static void province_cells(const json_t *p, const json_t *per_mp, struct cells *c)
{
    for (int m = 0; m < CS_M__COUNT; m++) {
        const json_t *o = json_array_get(json_object_get(p, "metrics"), (size_t)m);
        c->total[m] = json_integer_value(json_object_get(o, "achieved"));
        c->goal[m] = json_object_get(o, "goal");
        c->percent[m] = json_object_get(o, "percent");
    }
    c->per_mp = per_mp;
}

static int check_input(const json_t *p, cs_error *err)
{
    const char *by = json_string_value(json_object_get(p, "by"));
    if (!by || strcmp(by, "commune") || !json_is_array(json_object_get(p, "metrics")) ||
        json_array_size(json_object_get(p, "metrics")) != CS_M__COUNT)
        return cs_error_set(err, CS_E_INTERNAL, "report needs a by=commune progress object");
    return 0;
}

/* "2026-11-29T04:10:00+07:00" → "04:10 ngày 29/11/2026" */
static void human_time(const char *iso, char *out, size_t n)
{
    int y, mo, d, h, mi;
    if (iso && sscanf(iso, "%d-%d-%dT%d:%d", &y, &mo, &d, &h, &mi) == 5)
        snprintf(out, n, "%02d:%02d ngày %02d/%02d/%04d", h, mi, d, mo, y);
    else
        snprintf(out, n, "%s", iso ? iso : "");
}

static void title_lines(const json_t *p, char *t1, size_t n1, char *t2, size_t n2)
{
    char gen[64];
    human_time(json_string_value(json_object_get(p, "generated_at")), gen, sizeof gen);
    int as_y = 0, as_m = 0, as_d = 0;
    sscanf(json_string_value(json_object_get(p, "as_of"))
               ? json_string_value(json_object_get(p, "as_of"))
               : "",
           "%d-%d-%d", &as_y, &as_m, &as_d);
    snprintf(t1, n1,
             "BÁO CÁO TIẾN ĐỘ CHỈ TIÊU NĂM %d - HỘ THANH NIÊN VÀ SẢN PHẨM CHỦ LỰC TRÊN SÀN TMĐT",
             (int)json_integer_value(json_object_get(p, "year")));
    snprintf(t2, n2,
             "Số liệu đến ngày %02d/%02d/%04d; lập lúc %s (giờ Việt Nam, Asia/Ho_Chi_Minh)%s", as_d,
             as_m, as_y, gen,
             json_is_array(json_object_get(p, "scope")) ? "; chỉ các xã/phường được giao" : "");
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

static int csv_cells(cs_buf *b, const json_t *p, const struct cells *c)
{
    int rc = 0;
    for (int m = 0; m < CS_M__COUNT; m++) {
        rc |= cs_buf_printf(b, ",%lld,", (long long)c->total[m]);
        if (json_is_integer(c->goal[m]))
            rc |= cs_buf_printf(b, "%lld", (long long)json_integer_value(c->goal[m]));
        rc |= cs_buf_putc(b, ',');
        if (json_is_number(c->percent[m]))
            rc |= cs_buf_printf(b, "%.1f", json_number_value(c->percent[m]));
        size_t k;
        json_t *mp;
        json_array_foreach(json_object_get(p, "marketplaces"), k, mp) rc |= cs_buf_printf(
            b, ",%lld",
            (long long)mp_count(c->per_mp, json_string_value(json_object_get(mp, "code")), m));
    }
    return rc | cs_buf_puts(b, "\r\n");
}

int cs_targets_csv(const json_t *p, char **out, size_t *len, cs_error *err)
{
    *out = NULL;
    *len = 0;
    if (check_input(p, err)) return -1;
    cs_buf b;
    cs_buf_init(&b, 16u << 20);
    char t1[200], t2[200], hb[200];
    title_lines(p, t1, sizeof t1, t2, sizeof t2);
    int rc = cs_buf_puts(&b, "\xEF\xBB\xBF") | csv_field(&b, t1) | cs_buf_puts(&b, "\r\n") |
             csv_field(&b, t2) | cs_buf_puts(&b, "\r\n\r\n");
    for (unsigned col = 0; col < n_cols(p); col++)
        rc |= (col ? cs_buf_putc(&b, ',') : 0) |
              csv_field(&b, cs_targets_report_header(p, col, hb, sizeof hb));
    rc |= cs_buf_puts(&b, "\r\n");
    json_t *per_mp = province_per_mp(p);
    struct cells c;
    province_cells(p, per_mp, &c);
    rc |= cs_buf_puts(&b, ",,Toàn tỉnh,") | csv_cells(&b, p, &c);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(p, "breakdown"), i, row)
    {
        commune_cells(row, &c);
        rc |= cs_buf_printf(&b, "%zu,", i + 1) |
              csv_field(&b, json_string_value(json_object_get(row, "commune_code"))) |
              cs_buf_putc(&b, ',') |
              csv_field(&b, json_string_value(json_object_get(row, "commune_name"))) |
              cs_buf_putc(&b, ',') |
              csv_field(&b, json_string_value(json_object_get(row, "former_district_name"))) |
              csv_cells(&b, p, &c);
    }
    json_decref(per_mp);
    if (rc) {
        cs_buf_free(&b);
        return cs_error_set(err, CS_E_NOMEM, "report csv");
    }
    *len = b.len;
    *out = cs_buf_steal(&b);
    return *out ? 0 : cs_error_set(err, CS_E_NOMEM, "report csv");
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

static int xlsx_cells(lxw_worksheet *ws, lxw_row_t r, const json_t *p, const struct cells *c,
                      lxw_format *fi, lxw_format *fp)
{
    int rc = 0;
    lxw_col_t col = C_FIXED;
    for (int m = 0; m < CS_M__COUNT; m++) {
        rc |= worksheet_write_number(ws, r, col++, (double)c->total[m], fi);
        rc |= json_is_integer(c->goal[m])
                  ? worksheet_write_number(ws, r, col, (double)json_integer_value(c->goal[m]), fi)
                  : worksheet_write_blank(ws, r, col, fi);
        col++;
        /* stored as a fraction so Excel's own % format shows it; the API's percent / 100 */
        rc |= json_is_number(c->percent[m])
                  ? worksheet_write_number(ws, r, col, json_number_value(c->percent[m]) / 100.0, fp)
                  : worksheet_write_blank(ws, r, col, fp);
        col++;
        size_t k;
        json_t *mp;
        json_array_foreach(json_object_get(p, "marketplaces"), k, mp) rc |= worksheet_write_number(
            ws, r, col++,
            (double)mp_count(c->per_mp, json_string_value(json_object_get(mp, "code")), m), fi);
    }
    return rc;
}

int cs_targets_xlsx(const json_t *p, const char *path, cs_error *err)
{
    if (check_input(p, err)) return -1;
    lxw_workbook *wb = workbook_new(path);
    if (!wb) return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: cannot create %s", path);
    char t1[200], t2[200];
    title_lines(p, t1, sizeof t1, t2, sizeof t2);
    lxw_doc_properties props = {.title = t1, .author = "Chợ Số", .company = "Tỉnh đoàn Thanh Hóa"};
    workbook_set_properties(wb, &props);
    char sheet_name[32];
    snprintf(sheet_name, sizeof sheet_name, "Chỉ tiêu %d",
             (int)json_integer_value(json_object_get(p, "year")));
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
    worksheet_set_row(ws, h2, 30, NULL);

    json_t *per_mp = province_per_mp(p);
    struct cells c;
    province_cells(p, per_mp, &c);
    rc |= worksheet_write_blank(ws, first, C_NO, f.tot_text);
    rc |= worksheet_write_blank(ws, first, C_CODE, f.tot_text);
    rc |= worksheet_write_string(ws, first, C_NAME, "Toàn tỉnh", f.tot_text);
    rc |= worksheet_write_blank(ws, first, C_DISTRICT, f.tot_text);
    rc |= xlsx_cells(ws, first, p, &c, f.tot_int, f.tot_pct);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(p, "breakdown"), i, row)
    {
        lxw_row_t r = (lxw_row_t)(first + 1 + i);
        commune_cells(row, &c);
        rc |= worksheet_write_number(ws, r, C_NO, (double)(i + 1), f.cell_int);
        rc |= worksheet_write_string(
            ws, r, C_CODE, json_string_value(json_object_get(row, "commune_code")), f.cell_text);
        rc |= worksheet_write_string(
            ws, r, C_NAME, json_string_value(json_object_get(row, "commune_name")), f.cell_text);
        rc |= worksheet_write_string(
            ws, r, C_DISTRICT, json_string_value(json_object_get(row, "former_district_name")),
            f.cell_text);
        rc |= xlsx_cells(ws, r, p, &c, f.cell_int, f.cell_pct);
    }
    json_decref(per_mp);

    /* printing: A4 landscape, one page wide, header rows on every page, page numbers */
    worksheet_set_column(ws, C_NO, C_NO, 5, NULL);
    worksheet_set_column(ws, C_CODE, C_CODE, 8, NULL);
    worksheet_set_column(ws, C_NAME, C_NAME, 20, NULL);
    worksheet_set_column(ws, C_DISTRICT, C_DISTRICT, 18, NULL);
    worksheet_set_column(ws, C_FIXED, last, 9, NULL);
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
