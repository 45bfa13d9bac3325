/* jobs/sheet_write: the error files handed back after an import — the rejected rows as they
 * were sent, plus a last column saying what to fix — as CSV (libcsv-compatible quoting) and
 * XLSX (libxlsxwriter). No database: the caller passes the rows. */
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"
#include "core/mem.h"
#include <string.h>
#include <unistd.h>

/* ---- XLSX helpers -------------------------------------------------------------------------- */

int sheet_xw_open(sheet_xw *w, const char *path, cs_error *err)
{
    memset(w, 0, sizeof *w);
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE};
    w->path = path;
    w->wb = workbook_new_opt(path, &opt);
    if (!w->wb) return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: cannot create workbook");
    w->header = workbook_add_format(w->wb);
    w->header_req = workbook_add_format(w->wb);
    w->text = workbook_add_format(w->wb);
    w->wrap = workbook_add_format(w->wb);
    w->error = workbook_add_format(w->wb);
    w->error_header = workbook_add_format(w->wb);
    w->title = workbook_add_format(w->wb);
    if (!w->header || !w->header_req || !w->text || !w->wrap || !w->error || !w->error_header ||
        !w->title)
        return sheet_xw_fail(w, err, "add_format");
    lxw_format *hs[3] = {w->header, w->header_req, w->error_header};
    for (int i = 0; i < 3; i++) {
        format_set_bold(hs[i]);
        format_set_text_wrap(hs[i]);
        format_set_align(hs[i], LXW_ALIGN_VERTICAL_CENTER);
        format_set_border(hs[i], LXW_BORDER_THIN);
        format_set_num_format(hs[i], "@");
    }
    format_set_bg_color(w->header, 0xD9D9D9);
    format_set_bg_color(w->header_req, 0xBDD7EE);
    format_set_font_color(w->header_req, 0x1F3864);
    format_set_bg_color(w->error_header, 0xFFC7CE);
    format_set_font_color(w->error_header, 0x9C0006);
    format_set_num_format(w->text, "@");
    format_set_num_format(w->wrap, "@");
    format_set_text_wrap(w->wrap);
    format_set_align(w->wrap, LXW_ALIGN_VERTICAL_TOP);
    format_set_bold(w->error);
    format_set_text_wrap(w->error);
    format_set_num_format(w->error, "@");
    format_set_bg_color(w->error, 0xFFC7CE);
    format_set_font_color(w->error, 0x9C0006);
    format_set_align(w->error, LXW_ALIGN_VERTICAL_TOP);
    format_set_bold(w->title);
    format_set_font_size(w->title, 14);
    return 0;
}

int sheet_xw_close(sheet_xw *w, cs_error *err)
{
    lxw_error e = workbook_close(w->wb);
    w->wb = NULL;
    if (e != LXW_NO_ERROR) {
        unlink(w->path);
        return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: %s", lxw_strerror(e));
    }
    return 0;
}

int sheet_xw_fail(sheet_xw *w, cs_error *err, const char *what)
{
    if (w->wb) workbook_close(w->wb);
    w->wb = NULL;
    unlink(w->path);
    return cs_error_set(err, CS_E_INTERNAL, "libxlsxwriter: %s", what);
}

double sheet_xw_width(const char *s, double min, double max)
{
    size_t best = 0, cur = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\n') {
            cur = 0;
            continue;
        }
        if ((*p & 0xC0) != 0x80 && ++cur > best) best = cur;
    }
    double w = (double)best + 2;
    return w < min ? min : w > max ? max : w;
}

/* Excel turns "038090012345" into 38090012345 and 16+ digit numbers into 1.2E+15 on opening a
 * CSV; ="…" keeps them as text. */
static int wants_excel_text(const char *v)
{
    size_t n = strlen(v);
    if (n < 2) return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9') return 0;
    return v[0] == '0' || n > 15;
}

/* A plain number: optional sign, digits, at most one '.' or ',' and more digits. */
static int plain_number(const char *v)
{
    if (*v == '-' || *v == '+') v++;
    if (!(*v >= '0' && *v <= '9')) return 0;
    int sep = 0;
    for (; *v; v++) {
        if (*v >= '0' && *v <= '9') continue;
        if ((*v == '.' || *v == ',') && !sep && v[1] >= '0' && v[1] <= '9') {
            sep = 1;
            continue;
        }
        return 0;
    }
    return 1;
}

/* A leading ' makes Excel and LibreOffice show the cell as text; jobs/import_rows drops it on
 * re-upload. Spreadsheets skip leading spaces before they look for a formula, and a TAB or CR
 * first is how "\t=cmd" and "\r=1+1" slip past a check of the first character only. */
int sheet_formula_like(const char *v)
{
    if (v[0] == '\t' || v[0] == '\r' || v[0] == '\n') return 1;
    const char *p = v;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p == '=' || *p == '@') return 1;
    if (*p == '+' || *p == '-') return !plain_number(p);
    return 0;
}

/* force: quote the cell even where CSV does not need it (see sheet_errors_csv) */
static int csv_cell(cs_buf *b, const char *v, int force)
{
    if (wants_excel_text(v)) return cs_buf_printf(b, "\"=\"\"%s\"\"\"", v);
    size_t n = strlen(v);
    int quote = force || (n && (v[0] == ' ' || v[n - 1] == ' '));
    for (size_t i = 0; i < n && !quote; i++)
        quote = v[i] == ',' || v[i] == ';' || v[i] == '"' || v[i] == '\r' || v[i] == '\n' ||
                v[i] == '\t';
    int inj = sheet_formula_like(v);
    if (!quote && !inj) return cs_buf_append(b, v, n);
    if (cs_buf_putc(b, '"')) return -1;
    if (inj && cs_buf_putc(b, '\'')) return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"' && cs_buf_putc(b, '"')) return -1;
        if (cs_buf_putc(b, v[i])) return -1;
    }
    return cs_buf_putc(b, '"');
}

int sheet_csv_cell(cs_buf *b, const char *v)
{
    return csv_cell(b, v, 0);
}

static int buf_fail(const cs_buf *b, cs_error *err)
{
    if (b->len + 4096 >= b->max) return sheet_limit(err, "Tệp lỗi vượt %zu byte", b->max);
    return cs_error_set(err, CS_E_NOMEM, NULL);
}

static const char *error_text(const sheet_reject *r, char *tmp, size_t tmpsz)
{
    snprintf(tmp, tmpsz, "Dòng %u: %s", r->row_no, r->errors ? r->errors : "");
    sheet_utf8_cut(tmp);
    return tmp;
}

int sheet_errors_csv_rows(size_t nheader, const sheet_reject *rows, size_t nrows, cs_buf *out,
                          cs_error *err)
{
    char tmp[4096];
    for (size_t r = 0; r < nrows; r++) {
        const sheet_reject *x = &rows[r];
        size_t ncols = x->ncells > nheader ? x->ncells : nheader;
        for (size_t c = 0; c < ncols; c++) {
            const char *v = c < x->ncells && x->cells[c] ? x->cells[c] : "";
            if (sheet_csv_cell(out, v) || cs_buf_putc(out, ',')) return buf_fail(out, err);
        }
        if (sheet_csv_cell(out, error_text(x, tmp, sizeof tmp)) || cs_buf_puts(out, "\r\n"))
            return buf_fail(out, err);
    }
    return 0;
}

int sheet_errors_csv(const char *const *header, size_t nheader, const sheet_reject *rows,
                     size_t nrows, cs_buf *out, cs_error *err)
{
    if (cs_buf_append(out, "\xEF\xBB\xBF", 3)) return buf_fail(out, err);
    /* The first header cell is quoted when the file would otherwise start like a web page, XML
     * or PDF ("<?xml…", "<table…", "%PDF…" as a header name): the upload check
     * (sheet_not_a_spreadsheet) would refuse our own error file on its way back. */
    for (size_t c = 0; c < nheader; c++) {
        const char *v = header[c] ? header[c] : "";
        if (csv_cell(out, v, c == 0 && (v[0] == '<' || v[0] == '%')) || cs_buf_putc(out, ','))
            return buf_fail(out, err);
    }
    if (sheet_csv_cell(out, SHEET_ERROR_COLUMN) || cs_buf_puts(out, "\r\n"))
        return buf_fail(out, err);
    return sheet_errors_csv_rows(nheader, rows, nrows, out, err);
}

struct sheet_errx {
    sheet_xw w;
    lxw_worksheet *ws;
    size_t ncols, next; /* columns before the error column; the next row to write */
    int failed;         /* the workbook was given up (closed and removed) */
};

int sheet_errors_xlsx_begin(sheet_errx **out, const char *path, const char *const *header,
                            size_t nheader, size_t ncols, const sheet_reject *sample,
                            size_t nsample, cs_error *err)
{
    *out = NULL;
    if (ncols < nheader) ncols = nheader;
    for (size_t r = 0; r < nsample; r++)
        if (sample[r].ncells > ncols) ncols = sample[r].ncells;
    if (ncols + 1 > 16384) return sheet_limit(err, "Quá nhiều cột");
    sheet_errx *x = cs_calloc(1, sizeof *x);
    if (!x) return cs_error_set(err, CS_E_NOMEM, NULL);
    x->ncols = ncols;
    x->next = 1;
    if (sheet_xw_open(&x->w, path, err)) {
        cs_free(x);
        return -1;
    }
    sheet_xw *w = &x->w;
    x->ws = workbook_add_worksheet(w->wb, "Dòng lỗi");
    if (!x->ws) {
        sheet_xw_fail(w, err, "add_worksheet");
        cs_free(x);
        return -1;
    }
    /* widths first: constant-memory mode writes rows in order and cannot look back */
    for (size_t c = 0; c < ncols; c++) {
        double wd = sheet_xw_width(c < nheader ? header[c] : "", 10, 50);
        for (size_t r = 0; r < nsample && r < 2000; r++) {
            const char *v = c < sample[r].ncells && sample[r].cells[c] ? sample[r].cells[c] : "";
            double v_w = sheet_xw_width(v, 10, 50);
            if (v_w > wd) wd = v_w;
        }
        worksheet_set_column(x->ws, (lxw_col_t)c, (lxw_col_t)c, wd, w->text);
    }
    worksheet_set_column(x->ws, (lxw_col_t)ncols, (lxw_col_t)ncols, 70, w->error);
    worksheet_freeze_panes(x->ws, 1, 0);
    for (size_t c = 0; c < ncols; c++)
        worksheet_write_string(x->ws, 0, (lxw_col_t)c, c < nheader && header[c] ? header[c] : "",
                               w->header);
    worksheet_write_string(x->ws, 0, (lxw_col_t)ncols, SHEET_ERROR_COLUMN, w->error_header);
    *out = x;
    return 0;
}

int sheet_errors_xlsx_rows(sheet_errx *x, const sheet_reject *rows, size_t nrows, cs_error *err)
{
    if (x->failed) return -1;
    if (x->next + nrows > 1048576) {
        x->failed = 1;
        sheet_xw_fail(&x->w, err, "rows");
        return sheet_limit(err, "Quá nhiều dòng");
    }
    char tmp[4096];
    for (size_t r = 0; r < nrows; r++) {
        const sheet_reject *rj = &rows[r];
        lxw_row_t row = (lxw_row_t)x->next++;
        for (size_t c = 0; c < rj->ncells && c < x->ncols; c++)
            if (rj->cells[c] && rj->cells[c][0])
                worksheet_write_string(x->ws, row, (lxw_col_t)c, rj->cells[c], x->w.text);
        worksheet_write_string(x->ws, row, (lxw_col_t)x->ncols, error_text(rj, tmp, sizeof tmp),
                               x->w.error);
    }
    return 0;
}

int sheet_errors_xlsx_end(sheet_errx *x, cs_error *err)
{
    int rc = x->failed ? -1 : sheet_xw_close(&x->w, err);
    cs_free(x);
    return rc;
}

int sheet_errors_xlsx(const char *const *header, size_t nheader, const sheet_reject *rows,
                      size_t nrows, const char *path, cs_error *err)
{
    sheet_errx *x = NULL;
    if (nrows + 1 > 1048576) return sheet_limit(err, "Quá nhiều dòng");
    if (sheet_errors_xlsx_begin(&x, path, header, nheader, 0, rows, nrows, err)) return -1;
    if (sheet_errors_xlsx_rows(x, rows, nrows, err)) {
        sheet_errors_xlsx_end(x, err);
        return -1;
    }
    return sheet_errors_xlsx_end(x, err);
}
