/* jobs/import_template: the upload templates (template.csv, template.xlsx) built from the
 * column table, so the template, the header matching and the guide never disagree. No
 * database: the commune and category lists are passed in. */
#include "jobs/import_rows.h"
#include "jobs/sheet_int.h"
#include "core/mem.h"
#include <stdio.h>
#include <string.h>

/* A required column's header as the template shows it: "Số CCCD *". Group members (one of
 * them required) are not starred; the guide explains them. */
static void shown_header(const import_column_spec *sp, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s", sp->header, sp->required ? " *" : "");
}

int import_template_csv(const import_columns *cols, import_kind kind, cs_buf *out, cs_error *err)
{
    size_t n = import_columns_count(cols, kind);
    char h[200];
    if (cs_buf_append(out, "\xEF\xBB\xBF", 3)) goto full;
    for (size_t i = 0; i < n; i++) {
        shown_header(import_columns_at(cols, kind, i), h, sizeof h);
        if ((i && cs_buf_putc(out, ',')) || sheet_csv_cell(out, h)) goto full;
    }
    if (cs_buf_puts(out, "\r\n")) goto full;
    for (size_t i = 0; i < n; i++)
        if ((i && cs_buf_putc(out, ',')) ||
            sheet_csv_cell(out, import_columns_at(cols, kind, i)->sample))
            goto full;
    if (cs_buf_puts(out, "\r\n")) goto full;
    return 0;
full:
    return cs_error_set(err, CS_E_NOMEM, NULL);
}

/* Copy at most max_chars characters (Excel's limits on validation titles and messages). */
static void cut_chars(char *dst, size_t dstsz, const char *src, size_t max_chars)
{
    size_t o = 0, chars = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 4 < dstsz; p++) {
        if ((*p & 0xC0) != 0x80 && ++chars > max_chars) break;
        dst[o++] = (char)*p;
    }
    dst[o] = '\0';
    sheet_utf8_cut(dst);
}

static int is_bool_field(import_field f)
{
    return f == IMPORT_F_HAS_EPAYMENT || f == IMPORT_F_CONSENT || f == IMPORT_F_FLAGSHIP;
}

#define TEMPLATE_ROWS 5000 /* rows that get the drop-down lists and hints */

int import_template_xlsx(const import_columns *cols, import_kind kind,
                         const import_reflist *communes, const import_reflist *categories,
                         const char *path, cs_error *err)
{
    size_t n = import_columns_count(cols, kind);
    const import_reflist *list = kind == IMPORT_HOUSEHOLDS ? communes : categories;
    size_t nlist = import_reflist_count(list);
    /* the guide's layout, known before anything is written (constant-memory mode) */
    const lxw_row_t g_head = 3, g_first = 4;
    const lxw_row_t l_title = g_first + (lxw_row_t)n + 1, l_head = l_title + 1,
                    l_first = l_head + 1;

    sheet_xw w;
    if (sheet_xw_open(&w, path, err)) return -1;
    lxw_worksheet *ws =
        workbook_add_worksheet(w.wb, kind == IMPORT_HOUSEHOLDS ? "Hộ kinh doanh" : "Sản phẩm");
    lxw_worksheet *gs = workbook_add_worksheet(w.wb, "Hướng dẫn");
    if (!ws || !gs) return sheet_xw_fail(&w, err, "add_worksheet");

    /* sheet 1: headers, a sample row, hints and drop-downs */
    char h[200], title[40], msg[300];
    char yes[] = "có", no[] = "không";
    char *yes_no[] = {yes, no, NULL};
    for (size_t i = 0; i < n; i++) {
        const import_column_spec *sp = import_columns_at(cols, kind, i);
        shown_header(sp, h, sizeof h);
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, sheet_xw_width(h, 14, 40), w.text);
    }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_set_row(ws, 0, 32, NULL);
    for (size_t i = 0; i < n; i++) {
        const import_column_spec *sp = import_columns_at(cols, kind, i);
        shown_header(sp, h, sizeof h);
        worksheet_write_string(ws, 0, (lxw_col_t)i, h,
                               sp->required || sp->group[0] ? w.header_req : w.header);
    }
    for (size_t i = 0; i < n; i++) {
        const import_column_spec *sp = import_columns_at(cols, kind, i);
        if (sp->sample[0]) worksheet_write_string(ws, 1, (lxw_col_t)i, sp->sample, w.text);
    }
    for (size_t i = 0; i < n; i++) {
        const import_column_spec *sp = import_columns_at(cols, kind, i);
        lxw_data_validation dv;
        memset(&dv, 0, sizeof dv);
        cut_chars(title, sizeof title, sp->header, 32);
        cut_chars(msg, sizeof msg, sp->help, 250);
        dv.validate = LXW_VALIDATION_TYPE_ANY;
        dv.show_input = LXW_VALIDATION_ON;
        dv.input_title = title;
        dv.input_message = msg;
        dv.error_type = LXW_VALIDATION_ERROR_TYPE_WARNING;
        if (is_bool_field(sp->field)) {
            dv.validate = LXW_VALIDATION_TYPE_LIST;
            dv.value_list = yes_no;
        } else if (nlist &&
                   (sp->field == IMPORT_F_COMMUNE_CODE || sp->field == IMPORT_F_CATEGORY)) {
            /* No drop-down over the guide's list: libxlsxwriter 1.1.4 (Debian 12) leaks the
             * formula of every LIST_FORMULA validation, and a literal list is capped at 255
             * characters (166 communes need ~1,000). The hint points at the list instead. */
            snprintf(msg, sizeof msg, "%s Danh sách ở trang \"Hướng dẫn\", từ dòng %u.",
                     sp->field == IMPORT_F_COMMUNE_CODE ? "Mã 5 chữ số."
                                                        : "Mã hoặc tên ngành hàng.",
                     (unsigned)l_first + 1);
        }
        if (worksheet_data_validation_range(ws, 1, (lxw_col_t)i, TEMPLATE_ROWS, (lxw_col_t)i,
                                            &dv) != LXW_NO_ERROR)
            return sheet_xw_fail(&w, err, "data_validation");
    }

    /* sheet 2: the guide */
    worksheet_set_column(gs, 0, 0, 30, w.wrap);
    worksheet_set_column(gs, 1, 1, 26, w.wrap);
    worksheet_set_column(gs, 2, 2, 70, w.wrap);
    worksheet_set_column(gs, 3, 3, 22, w.wrap);
    worksheet_set_column(gs, 4, 4, 50, w.wrap);
    worksheet_write_string(gs, 0, 0,
                           kind == IMPORT_HOUSEHOLDS
                               ? "Hướng dẫn điền danh sách hộ kinh doanh — Chợ Số"
                               : "Hướng dẫn điền danh sách sản phẩm — Chợ Số",
                           w.title);
    worksheet_write_string(
        gs, 1, 0,
        kind == IMPORT_HOUSEHOLDS
            ? "Mỗi dòng một hộ. Giữ nguyên tên cột (thứ tự cột tuỳ ý); cột có dấu * là bắt "
              "buộc; phải có Mã xã/phường hoặc Tên xã/phường. Lưu dạng .xlsx hoặc \"CSV "
              "UTF-8\". Gửi lại cùng một tệp không tạo hộ trùng: hộ có cùng số CCCD được "
              "cập nhật."
            : "Mỗi dòng một sản phẩm. Giữ nguyên tên cột (thứ tự cột tuỳ ý); cột có dấu * là "
              "bắt buộc; phải có Mã hộ hoặc Số CCCD chủ hộ. Lưu dạng .xlsx hoặc \"CSV "
              "UTF-8\".",
        w.wrap);
    worksheet_write_string(gs, g_head, 0, "Cột", w.header);
    worksheet_write_string(gs, g_head, 1, "Bắt buộc", w.header);
    worksheet_write_string(gs, g_head, 2, "Cách ghi", w.header);
    worksheet_write_string(gs, g_head, 3, "Ví dụ", w.header);
    worksheet_write_string(gs, g_head, 4, "Tên cột khác cũng được nhận", w.header);
    for (size_t i = 0; i < n; i++) {
        const import_column_spec *sp = import_columns_at(cols, kind, i);
        lxw_row_t r = g_first + (lxw_row_t)i;
        char req[120];
        if (sp->required) {
            snprintf(req, sizeof req, "Có");
        } else if (sp->group[0]) {
            /* name the other member(s) of the group */
            size_t o = (size_t)snprintf(req, sizeof req, "Có (hoặc");
            for (size_t j = 0; j < n && o < sizeof req; j++) {
                const import_column_spec *q = import_columns_at(cols, kind, j);
                if (q != sp && !strcmp(q->group, sp->group))
                    o += (size_t)snprintf(req + o, sizeof req - o, " %s", q->header);
            }
            if (o < sizeof req) snprintf(req + o, sizeof req - o, ")");
            sheet_utf8_cut(req);
        } else {
            snprintf(req, sizeof req, "Không");
        }
        cs_buf syn;
        cs_buf_init(&syn, 4096);
        for (size_t k = 1; k < sp->nsyn; k++)
            if (cs_buf_printf(&syn, "%s%s", k > 1 ? "; " : "", sp->syn[k])) break;
        worksheet_write_string(gs, r, 0, sp->header, w.wrap);
        worksheet_write_string(gs, r, 1, req, w.wrap);
        worksheet_write_string(gs, r, 2, sp->help, w.wrap);
        worksheet_write_string(gs, r, 3, sp->sample, w.wrap);
        worksheet_write_string(gs, r, 4, syn.data ? syn.data : "", w.wrap);
        cs_buf_free(&syn);
    }
    if (nlist) {
        int hh = kind == IMPORT_HOUSEHOLDS;
        worksheet_write_string(gs, l_title, 0,
                               hh ? "Danh sách xã/phường của tỉnh Thanh Hóa (từ 01/7/2025)"
                                  : "Danh sách ngành hàng",
                               w.title);
        worksheet_write_string(gs, l_head, 0, hh ? "Mã xã/phường" : "Mã ngành hàng", w.header);
        worksheet_write_string(gs, l_head, 1, hh ? "Tên xã/phường" : "Tên ngành hàng", w.header);
        worksheet_write_string(gs, l_head, 2,
                               hh ? "Thuộc huyện/thị xã/thành phố trước 2025" : "Tên tiếng Anh",
                               w.header);
        for (size_t i = 0; i < nlist; i++) {
            const import_ref *it = import_reflist_at(list, i);
            lxw_row_t r = l_first + (lxw_row_t)i;
            worksheet_write_string(gs, r, 0, it->code, w.text);
            worksheet_write_string(gs, r, 1, it->name, w.text);
            if (it->note) worksheet_write_string(gs, r, 2, it->note, w.text);
        }
    }
    return sheet_xw_close(&w, err);
}
