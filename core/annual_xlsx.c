/* core/annual_xlsx: the annual report's workbook (libxlsxwriter) from the model of core/annual.c:
 * the summary sheet carries the administrative header and the signature block, each other table
 * its own sheet; A4, header rows repeated, page numbers. No database, no HTTP here. */
#include "core/annual.h"
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

struct afmt {
    lxw_format *org, *org_u, *title, *sub, *sect, *note, *head, *text, *num, *pct, *date;
    lxw_format *s_text, *s_num, *s_pct, *t_text, *t_num, *t_pct, *sign, *sign_i, *wrap;
};

static lxw_format *mk(lxw_workbook *wb, int bold, int border, const char *num, uint32_t bg)
{
    lxw_format *f = workbook_add_format(wb);
    if (!f) return NULL;
    if (bold) format_set_bold(f);
    if (border) format_set_border(f, LXW_BORDER_THIN);
    if (num) format_set_num_format(f, num);
    if (bg) format_set_bg_color(f, bg);
    format_set_font_name(f, "Times New Roman");
    format_set_font_size(f, 12);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    return f;
}

static int formats(lxw_workbook *wb, struct afmt *f)
{
    lxw_format **all[] = {&f->org,   &f->org_u,  &f->title, &f->sub,    &f->sect,
                          &f->note,  &f->head,   &f->text,  &f->num,    &f->pct,
                          &f->date,  &f->s_text, &f->s_num, &f->s_pct,  &f->t_text,
                          &f->t_num, &f->t_pct,  &f->sign,  &f->sign_i, &f->wrap};
    f->org = mk(wb, 0, 0, NULL, 0);
    f->org_u = mk(wb, 1, 0, NULL, 0);
    f->title = mk(wb, 1, 0, NULL, 0);
    f->sub = mk(wb, 0, 0, NULL, 0);
    f->sect = mk(wb, 1, 0, NULL, 0);
    f->note = mk(wb, 0, 0, NULL, 0);
    f->head = mk(wb, 1, 1, NULL, 0xD9E1F2);
    f->text = mk(wb, 0, 1, "@", 0);
    f->num = mk(wb, 0, 1, "#,##0", 0);
    f->pct = mk(wb, 0, 1, "0.0%", 0);
    f->date = mk(wb, 0, 1, "dd/mm/yyyy", 0);
    f->s_text = mk(wb, 1, 1, "@", 0xF2F2F2);
    f->s_num = mk(wb, 1, 1, "#,##0", 0xF2F2F2);
    f->s_pct = mk(wb, 1, 1, "0.0%", 0xF2F2F2);
    f->t_text = mk(wb, 1, 1, "@", 0xFFF2CC);
    f->t_num = mk(wb, 1, 1, "#,##0", 0xFFF2CC);
    f->t_pct = mk(wb, 1, 1, "0.0%", 0xFFF2CC);
    f->sign = mk(wb, 1, 0, NULL, 0);
    f->sign_i = mk(wb, 0, 0, NULL, 0);
    f->wrap = mk(wb, 0, 1, "@", 0);
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!*all[i]) return -1;
    lxw_format *center[] = {f->org, f->org_u, f->title, f->sub, f->head, f->sign, f->sign_i};
    for (size_t i = 0; i < sizeof center / sizeof *center; i++)
        format_set_align(center[i], LXW_ALIGN_CENTER);
    format_set_underline(f->org_u, LXW_UNDERLINE_SINGLE);
    format_set_font_size(f->title, 14);
    format_set_text_wrap(f->title);
    format_set_italic(f->sub);
    format_set_italic(f->note);
    format_set_italic(f->sign_i);
    format_set_text_wrap(f->head);
    format_set_text_wrap(f->wrap);
    format_set_text_wrap(f->text);
    return 0;
}

static void page_setup(lxw_worksheet *ws, const cs_rtable *t, lxw_row_t head_row)
{
    for (unsigned c = 0; c < t->ncols; c++)
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, t->width[c], NULL);
    worksheet_set_paper(ws, 9); /* A4 */
    if (t->ncols > 7) worksheet_set_landscape(ws);
    worksheet_set_margins(ws, 0.6, 0.4, 0.6, 0.6);
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_center_horizontally(ws);
    worksheet_repeat_rows(ws, head_row, head_row);
    worksheet_set_footer(ws, "&L&9Chợ Số - Tỉnh đoàn Thanh Hóa&R&9Trang &P/&N");
}

static int write_cell(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const cs_rcell *cell,
                      cs_rstyle st, const struct afmt *f)
{
    lxw_format *ft = st == CS_RS_TOTAL ? f->t_text : st == CS_RS_SUBTOTAL ? f->s_text : f->text;
    lxw_format *fn = st == CS_RS_TOTAL ? f->t_num : st == CS_RS_SUBTOTAL ? f->s_num : f->num;
    lxw_format *fp = st == CS_RS_TOTAL ? f->t_pct : st == CS_RS_SUBTOTAL ? f->s_pct : f->pct;
    switch (cell->kind) {
    case CS_RK_TEXT:
        return worksheet_write_string(ws, r, c, cell->text, ft);
    case CS_RK_INT:
        return worksheet_write_number(ws, r, c, (double)cell->i, fn);
    case CS_RK_PCT:
        /* a fraction, so Excel's own percent format shows it (Vietnamese Excel: 12,5%) */
        return worksheet_write_number(ws, r, c, cell->d / 100.0, fp);
    case CS_RK_DATE: {
        lxw_datetime dt = {cell->date.y, cell->date.m, cell->date.d, 0, 0, 0};
        return worksheet_write_datetime(ws, r, c, &dt, f->date);
    }
    case CS_RK_EMPTY:
        break;
    }
    return worksheet_write_blank(ws, r, c, ft);
}

/* the table's heading, note, header row and rows from row r0; returns the next free row */
static lxw_row_t write_table(lxw_worksheet *ws, lxw_row_t r0, const cs_rtable *t,
                             const struct afmt *f, lxw_row_t *head_row, int *rc)
{
    lxw_row_t r = r0;
    *rc |= worksheet_write_string(ws, r++, 0, t->title, f->sect);
    if (t->note) *rc |= worksheet_write_string(ws, r++, 0, t->note, f->note);
    *head_row = r;
    for (unsigned c = 0; c < t->ncols; c++)
        *rc |= worksheet_write_string(ws, r, (lxw_col_t)c, t->head[c], f->head);
    worksheet_set_row(ws, r, 32, NULL);
    r++;
    for (size_t i = 0; i < t->nrows; i++, r++)
        for (unsigned c = 0; c < t->ncols; c++)
            *rc |= write_cell(ws, r, (lxw_col_t)c, &t->cells[i * t->ncols + c], t->style[i], f);
    return r;
}

int cs_annual_xlsx(const cs_annual *a, const char *path, cs_error *err)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb) return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: cannot create %s", path);
    char title[sizeof a->title];
    snprintf(title, sizeof title, "%s", a->title);
    lxw_doc_properties props = {
        .title = title, .author = "Chợ Số", .company = "Tỉnh đoàn Thanh Hóa"};
    workbook_set_properties(wb, &props);
    struct afmt f;
    int rc = formats(wb, &f);
    for (size_t k = 0; !rc && k < a->ntables; k++) {
        const cs_rtable *t = &a->tables[k];
        lxw_worksheet *ws = workbook_add_worksheet(wb, t->sheet);
        if (!ws) {
            rc = -1;
            break;
        }
        lxw_col_t last = (lxw_col_t)(t->ncols - 1), mid = (lxw_col_t)(t->ncols / 2);
        lxw_row_t r = 0, head_row = 0;
        if (k == 0) {
            /* the administrative header: issuing body left, national motto right */
            rc |= worksheet_merge_range(ws, 0, 0, 0, (lxw_col_t)(mid - 1),
                                        "BCH ĐOÀN TNCS HỒ CHÍ MINH", f.org);
            rc |=
                worksheet_merge_range(ws, 1, 0, 1, (lxw_col_t)(mid - 1), a->organisation, f.org_u);
            rc |= worksheet_merge_range(ws, 2, 0, 2, (lxw_col_t)(mid - 1), "Số: ......-BC/TĐTN",
                                        f.org);
            rc |= worksheet_merge_range(ws, 0, mid, 0, last, "ĐOÀN TNCS HỒ CHÍ MINH", f.org_u);
            rc |= worksheet_merge_range(ws, 2, mid, 2, last,
                                        "Thanh Hóa, ngày ..... tháng ..... năm ........", f.sub);
            rc |= worksheet_merge_range(ws, 4, 0, 4, last, a->title, f.title);
            worksheet_set_row(ws, 4, 36, NULL);
            rc |= worksheet_merge_range(ws, 5, 0, 5, last, a->subtitle, f.sub);
            r = 7;
        }
        r = write_table(ws, r, t, &f, &head_row, &rc);
        if (k == 0) {
            /* the signature block */
            r += 2;
            rc |=
                worksheet_merge_range(ws, r, 0, r, (lxw_col_t)(mid - 1), "NGƯỜI LẬP BIỂU", f.sign);
            rc |= worksheet_merge_range(ws, r, mid, r, last, "TM. BAN THƯỜNG VỤ", f.sign);
            r++;
            rc |= worksheet_merge_range(ws, r, 0, r, (lxw_col_t)(mid - 1), "(Ký, ghi rõ họ tên)",
                                        f.sign_i);
            rc |= worksheet_merge_range(ws, r, mid, r, last, "(Ký tên, đóng dấu)", f.sign_i);
        }
        page_setup(ws, t, head_row);
    }
    lxw_error e = workbook_close(wb);
    if (rc || e != LXW_NO_ERROR) {
        remove(path);
        return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: %s",
                            e != LXW_NO_ERROR ? lxw_strerror(e) : "a cell could not be written");
    }
    return 0;
}
