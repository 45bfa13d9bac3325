/* jobs/sheet: the row model and the CSV reader (libcsv). Bytes in, rows out: no database, no
 * logging of cell contents. Encodings live in sheet_enc.c, XLSX in sheet_xlsx.c. */
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"
#include "core/mem.h"
#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *sheet_format_name(sheet_format f)
{
    return f == SHEET_FMT_XLSX ? "xlsx" : "csv";
}

void sheet_limits_default(sheet_limits *l)
{
    l->max_bytes = 50u << 20;
    l->max_unzipped = 256u << 20;
    l->max_rows = 200000;
    l->max_cols = 100;
    l->max_cells = 5000000;
    l->max_cell = 32767;
    l->max_xlsx = 0;
    l->max_sst = 16u << 20;
}

static const char *const warn_names[SHEET_W__COUNT] = {
    "encoding_converted", "unknown_column", "extra_sheets", "title_rows", "cells_beyond_header",
};

const char *sheet_warn_name(sheet_warn_kind k)
{
    return (unsigned)k < SHEET_W__COUNT ? warn_names[k] : "unknown";
}

/* Cut a string at the last whole UTF-8 character that fits: snprintf cuts bytes. */
void sheet_utf8_cut(char *s)
{
    size_t n = strlen(s);
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0) return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < want) s[i - 1] = '\0';
}

void sheet_warn_add(sheet_warnings *w, sheet_warn_kind kind, const char *fmt, ...)
{
    if (w->n >= SHEET_MAX_WARNINGS) {
        w->dropped++;
        return;
    }
    sheet_warning *x = &w->w[w->n++];
    x->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->text, sizeof x->text, fmt, ap);
    va_end(ap);
    sheet_utf8_cut(x->text);
}

int sheet_limit(cs_error *err, const char *fmt, ...)
{
    cs_error_set(err, CS_E_IMPORT_LIMIT, NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    sheet_utf8_cut(err->detail);
    return -1;
}

int sheet_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == 0xC2 && i + 1 < n && (unsigned char)p[i + 1] == 0xA0) {
            i++;
            continue;
        }
        return 0;
    }
    return 1;
}

/* ---- builder ------------------------------------------------------------------------------- */

sheet *sheet_b_new(const sheet_limits *lim)
{
    sheet *s = cs_calloc(1, sizeof *s);
    if (!s) return NULL;
    if (lim)
        s->lim = *lim;
    else
        sheet_limits_default(&s->lim);
    /* the pool never holds more than the (inflated) input plus one NUL per cell */
    size_t cap = s->lim.max_unzipped > s->lim.max_bytes ? s->lim.max_unzipped : s->lim.max_bytes;
    size_t pmax = cap + s->lim.max_cells + 1;
    /* cells hold 32-bit offsets: a pool past 4 GiB fails as a limit, not as a wrapped offset */
    if (pmax > UINT32_MAX) pmax = UINT32_MAX;
    cs_buf_init(&s->pool, pmax);
    if (cs_buf_putc(&s->pool, '\0')) {
        cs_free(s);
        return NULL;
    }
    return s;
}

void sheet_free(sheet *s)
{
    if (!s) return;
    if (s->borrowed) {
        cs_free(s);
        return;
    }
    cs_buf_free(&s->pool);
    cs_free(s->cells);
    cs_free(s->rows);
    cs_free(s);
}

size_t sheet_b_str(sheet *s, const char *p, size_t n, cs_error *err)
{
    if (n > s->lim.max_cell) {
        sheet_limit(err, "Một ô dài %zu byte, vượt giới hạn %zu byte", n, s->lim.max_cell);
        return 0;
    }
    size_t off = s->pool.len;
    if (cs_buf_append(&s->pool, p, n) || cs_buf_putc(&s->pool, '\0')) {
        s->pool.len = off;
        if (s->pool.data) s->pool.data[off] = '\0';
        if (off + n + 1 > s->pool.max)
            sheet_limit(err, "Tổng dữ liệu các ô vượt giới hạn %zu byte", s->pool.max);
        else
            cs_error_set(err, CS_E_NOMEM, NULL);
        return 0;
    }
    return off;
}

int sheet_b_row_begin(sheet *s, unsigned row_no, cs_error *err)
{
    (void)err;
    s->in_row = 1;
    s->cur_row_no = row_no;
    s->cur_first = s->ncells;
    s->cur_pool_len = s->pool.len;
    s->cur_n = 0;
    return 0;
}

static int push_cell(sheet *s, size_t off, cs_error *err)
{
    if (s->ncells >= s->lim.max_cells)
        return sheet_limit(err, "Tệp có quá %zu ô dữ liệu", s->lim.max_cells);
    if (s->ncells == s->cap_cells) {
        size_t nc = s->cap_cells ? s->cap_cells * 2 : 1024;
        if (nc > s->lim.max_cells) nc = s->lim.max_cells;
        uint32_t *p = cs_realloc(s->cells, nc * sizeof *p);
        if (!p) return cs_error_set(err, CS_E_NOMEM, NULL);
        s->cells = p;
        s->cap_cells = nc;
    }
    s->cells[s->ncells++] = (uint32_t)off;
    return 0;
}

int sheet_b_cell_off(sheet *s, unsigned col, size_t off, cs_error *err)
{
    const char *t = s->pool.data + off;
    int blank = sheet_blank(t, strlen(t));
    if (col >= s->lim.max_cols) {
        if (blank) return 0;
        return sheet_limit(err, "Dòng %u có giá trị ở cột thứ %u, vượt giới hạn %u cột",
                           s->cur_row_no, col + 1, s->lim.max_cols);
    }
    if (col < s->cur_n)
        return cs_error_set(err, CS_E_IMPORT_FORMAT, "ô lặp lại ở dòng %u", s->cur_row_no);
    if (blank && off == 0) return 0; /* gaps are filled when a later cell comes */
    while (s->cur_n < col) {
        if (push_cell(s, 0, err)) return -1;
        s->cur_n++;
    }
    if (push_cell(s, off, err)) return -1;
    s->cur_n++;
    return 0;
}

int sheet_b_cell(sheet *s, unsigned col, const char *p, size_t n, cs_error *err)
{
    if (n == 0) return sheet_b_cell_off(s, col, 0, err);
    size_t off = sheet_b_str(s, p, n, err);
    if (!off) return -1;
    return sheet_b_cell_off(s, col, off, err);
}

int sheet_b_row_end(sheet *s, cs_error *err)
{
    if (!s->in_row) return 0;
    s->in_row = 0;
    unsigned n = s->cur_n;
    while (n > 0) {
        const char *t = s->pool.data + s->cells[s->cur_first + n - 1];
        if (!sheet_blank(t, strlen(t))) break;
        n--;
    }
    if (n == 0) { /* blank row: forget it, but its number stays used */
        s->ncells = s->cur_first;
        s->pool.len = s->cur_pool_len;
        s->pool.data[s->pool.len] = '\0';
        return 0;
    }
    s->ncells = s->cur_first + n;
    if (s->base + s->nrows >= s->lim.max_rows)
        return sheet_limit(err, "Tệp có quá %zu dòng (dòng %u)", s->lim.max_rows, s->cur_row_no);
    if (s->base + s->nrows < s->drop_below) { /* a stream skipping rows: counted, not kept */
        s->ncells = s->cur_first;
        s->pool.len = s->cur_pool_len;
        s->pool.data[s->pool.len] = '\0';
        s->base++;
        return 0;
    }
    if (s->nrows == s->cap_rows) {
        size_t nc = s->cap_rows ? s->cap_rows * 2 : 256;
        sheet_row_ *r = cs_realloc(s->rows, nc * sizeof *r);
        if (!r) return cs_error_set(err, CS_E_NOMEM, NULL);
        s->rows = r;
        s->cap_rows = nc;
    }
    s->rows[s->nrows++] = (sheet_row_){.row_no = s->cur_row_no, .ncells = n, .first = s->cur_first};
    return 0;
}

/* ---- accessors ----------------------------------------------------------------------------- */

sheet_format sheet_format_of(const sheet *s)
{
    return s->format;
}
sheet_encoding sheet_encoding_of(const sheet *s)
{
    return s->encoding;
}
char sheet_separator(const sheet *s)
{
    return s->sep;
}
size_t sheet_nrows(const sheet *s)
{
    return s->base + s->nrows;
}
size_t sheet_first_row(const sheet *s)
{
    return s->base;
}
/* Row indexes are of the whole file: a window of a stream holds [base, base + nrows). */
static const sheet_row_ *row_at(const sheet *s, size_t i)
{
    return i >= s->base && i - s->base < s->nrows ? &s->rows[i - s->base] : NULL;
}
unsigned sheet_row_no(const sheet *s, size_t i)
{
    const sheet_row_ *r = row_at(s, i);
    return r ? r->row_no : 0;
}
unsigned sheet_ncells(const sheet *s, size_t i)
{
    const sheet_row_ *r = row_at(s, i);
    return r ? r->ncells : 0;
}
const char *sheet_cell(const sheet *s, size_t i, unsigned col)
{
    const sheet_row_ *r = row_at(s, i);
    if (!r || col >= r->ncells) return "";
    return s->pool.data + s->cells[r->first + col];
}
const sheet_warnings *sheet_warnings_of(const sheet *s)
{
    return &s->warnings;
}
int sheet_date1904(const sheet *s)
{
    return s->date1904;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

/* Excel honours a first line "sep=;" naming the separator; it is not a row. Returns the
 * bytes to skip and sets *sep, or 0. */
size_t sheet_sep_hint(const char *p, size_t n, char *sep)
{
    if (n < 5 || strncasecmp(p, "sep=", 4) != 0) return 0;
    char c = p[4];
    if (c != ',' && c != ';' && c != '\t' && c != '|') return 0;
    size_t i = 5;
    if (i < n && p[i] == '\r') i++;
    if (i < n && p[i] == '\n') i++;
    if (i < n && i == 5) return 0; /* "sep=;x": not a hint */
    *sep = c;
    return i;
}

/* The separator is the candidate most frequent outside quotes on the first line that has any
 * (title lines above the header usually have none); ties go to ','. */
char sheet_detect_sep(const char *p, size_t n)
{
    int quoted = 0, lines = 0;
    size_t cnt[3] = {0, 0, 0};
    for (size_t i = 0; i < n && lines < 10; i++) {
        char c = p[i];
        if (c == '"') quoted = !quoted;
        if (quoted) continue;
        if (c == ',')
            cnt[0]++;
        else if (c == ';')
            cnt[1]++;
        else if (c == '\t')
            cnt[2]++;
        else if (c == '\n' || c == '\r') {
            if (cnt[0] + cnt[1] + cnt[2] > 0) break;
            lines++;
        }
    }
    if (cnt[1] > cnt[0] && cnt[1] >= cnt[2]) return ';';
    if (cnt[2] > cnt[0] && cnt[2] > cnt[1]) return '\t';
    return ',';
}

typedef struct csv_ctx {
    sheet *s;
    cs_error *err;
    int failed;
    unsigned col;
    unsigned rec_no;
    int in_row;
    int last_cr;
} csv_ctx;

static void csv_cb_field(void *field, size_t len, void *data)
{
    csv_ctx *c = data;
    if (c->failed) return;
    if (!c->in_row) {
        c->in_row = 1;
        sheet_b_row_begin(c->s, ++c->rec_no, c->err);
    }
    if (sheet_b_cell(c->s, c->col++, field, len, c->err)) c->failed = 1;
}

/* With CSV_REPALL_NL every CR and LF outside a record is reported as an empty record: an
 * LF right after the CR that ended a record is the second half of a CRLF, anything else is a
 * blank line — counted, because Excel shows it as a row. */
static void csv_cb_row(int term, void *data)
{
    csv_ctx *c = data;
    if (c->failed) return;
    if (!c->in_row) {
        if (term == '\n' && c->last_cr) {
            c->last_cr = 0;
            return;
        }
        if (term == '\r' || term == '\n') c->rec_no++;
        c->last_cr = term == '\r';
        return;
    }
    if (sheet_b_row_end(c->s, c->err)) c->failed = 1;
    c->in_row = 0;
    c->col = 0;
    c->last_cr = term == '\r';
}

static int space_only(unsigned char c)
{
    return c == ' ';
}

/* libcsv's parser state while inside a field (libcsv.c: FIELD_BEGUN); with p.quoted it means
 * a quote was opened and never closed. */
#define LIBCSV_FIELD_BEGUN 2

static int read_csv(sheet *s, const char *p, size_t n, cs_error *err)
{
    char sep = 0;
    size_t skip = sheet_sep_hint(p, n, &sep);
    p += skip;
    n -= skip;
    if (!sep) sep = sheet_detect_sep(p, n);
    s->sep = sep;

    struct csv_parser cp;
    if (csv_init(&cp, CSV_REPALL_NL | CSV_APPEND_NULL) != 0)
        return cs_error_set(err, CS_E_NOMEM, NULL);
    csv_set_realloc_func(&cp, cs_realloc);
    csv_set_free_func(&cp, cs_free);
    csv_set_delim(&cp, (unsigned char)sep);
    if (sep == '\t') csv_set_space_func(&cp, space_only);
    csv_ctx c = {.s = s, .err = err};
    const size_t chunk = 64 * 1024;
    int rc = 0;
    for (size_t off = 0; off < n && !c.failed; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        if (csv_parse(&cp, p + off, k, csv_cb_field, csv_cb_row, &c) != k) {
            rc = csv_error(&cp) == CSV_ENOMEM ? cs_error_set(err, CS_E_NOMEM, NULL)
                                              : cs_error_set(err, CS_E_IMPORT_FORMAT, "CSV");
            break;
        }
        /* a field still being collected: refuse it before it grows past the cell limit */
        if (cp.entry_pos > s->lim.max_cell) {
            rc = sheet_limit(err, "Một ô ở dòng %u dài quá %zu byte (thiếu dấu \" đóng?)",
                             c.rec_no + (c.in_row ? 0 : 1), s->lim.max_cell);
            break;
        }
    }
    if (!rc && !c.failed && cp.quoted && cp.pstate == LIBCSV_FIELD_BEGUN) {
        unsigned at = c.rec_no + (c.in_row ? 0 : 1);
        rc = cs_error_set(err, CS_E_IMPORT_FORMAT,
                          "Dấu ngoặc kép (\") mở ở dòng %u không được đóng", at);
    }
    if (!rc && !c.failed) csv_fini(&cp, csv_cb_field, csv_cb_row, &c);
    csv_free(&cp);
    if (c.failed) return -1;
    if (rc) return rc;
    if (s->in_row && sheet_b_row_end(s, err)) return -1;
    return 0;
}

static int starts_with_ci(const unsigned char *p, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && strncasecmp((const char *)p, pre, k) == 0;
}

int sheet_not_a_spreadsheet(const unsigned char *p, size_t n, cs_error *err)
{
    static const unsigned char ole[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (n >= 8 && !memcmp(p, ole, 8))
        return cs_error_set(err, CS_E_IMPORT_XLS, "Excel 97-2003 (.xls) hoặc tệp có mật khẩu");
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (starts_with_ci(p + i, n - i, "<html") || starts_with_ci(p + i, n - i, "<!doctype") ||
        starts_with_ci(p + i, n - i, "<table") || starts_with_ci(p + i, n - i, "<?xml"))
        return cs_error_set(err, CS_E_IMPORT_FORMAT,
                            "Tệp là trang web/XML đổi đuôi thành bảng tính; hãy mở bằng Excel "
                            "rồi lưu lại dạng .xlsx");
    if (n >= 4 && !memcmp(p, "%PDF", 4))
        return cs_error_set(err, CS_E_IMPORT_FORMAT, "Tệp PDF không nhập được; cần CSV hoặc .xlsx");
    return 0;
}

static int csv_from_bytes(sheet *s, const unsigned char *data, size_t len, cs_error *err)
{
    sheet_enc_guess g;
    sheet_encoding enc = sheet_detect_encoding(data, len, &g);
    s->encoding = enc;
    switch (enc) {
    case SHEET_ENC_TCVN3:
        return cs_error_set(err, CS_E_IMPORT_ENCODING_TCVN3, "TCVN3");
    case SHEET_ENC_VNI:
        return cs_error_set(err, CS_E_IMPORT_ENCODING_VNI, "VNI");
    case SHEET_ENC_UNKNOWN:
        return cs_error_set(err, CS_E_IMPORT_ENCODING, NULL);
    case SHEET_ENC_UTF8:
    case SHEET_ENC_UTF8_BOM: {
        size_t skip = enc == SHEET_ENC_UTF8_BOM ? 3 : 0;
        if (memchr(data + skip, 0, len - skip))
            return cs_error_set(err, CS_E_IMPORT_FORMAT, "tệp chứa byte 0 (không phải văn bản)");
        return read_csv(s, (const char *)data + skip, len - skip, err);
    }
    default:
        break;
    }
    char *u = NULL;
    size_t ulen = 0;
    size_t cap = s->lim.max_bytes * 2;
    if (sheet_to_utf8(data, len, enc, cap, &u, &ulen, err)) return -1;
    int rc;
    if (memchr(u, 0, ulen))
        rc = cs_error_set(err, CS_E_IMPORT_FORMAT, "tệp chứa ký tự 0 (không phải văn bản)");
    else
        rc = read_csv(s, u, ulen, err);
    cs_free(u);
    if (!rc && enc == SHEET_ENC_CP1258)
        sheet_warn_add(&s->warnings, SHEET_W_ENCODING_CONVERTED,
                       "Tệp không ở dạng UTF-8: đã chuyển từ Windows-1258 sang Unicode. Lần sau "
                       "hãy lưu dạng \"CSV UTF-8\".");
    return rc;
}

int sheet_read(const void *data, size_t len, const sheet_limits *lim, sheet **out, cs_error *err)
{
    *out = NULL;
    sheet *s = sheet_b_new(lim);
    if (!s) return cs_error_set(err, CS_E_NOMEM, NULL);
    const unsigned char *p = data;
    int rc;
    if (len > s->lim.max_bytes) {
        rc = sheet_limit(err, "Tệp %zu byte, vượt giới hạn %zu byte", len, s->lim.max_bytes);
    } else if (len >= 4 && p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4) {
        s->format = SHEET_FMT_XLSX;
        s->encoding = SHEET_ENC_UTF8;
        rc = sheet_read_xlsx(s, p, len, err);
    } else if (sheet_not_a_spreadsheet(p, len, err)) {
        rc = -1;
    } else {
        s->format = SHEET_FMT_CSV;
        rc = csv_from_bytes(s, p, len, err);
    }
    if (!rc && s->nrows == 0) rc = cs_error_set(err, CS_E_IMPORT_EMPTY, NULL);
    if (rc) {
        sheet_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int sheet_read_file(const char *path, const sheet_limits *lim, sheet **out, cs_error *err)
{
    *out = NULL;
    sheet_limits l;
    if (lim)
        l = *lim;
    else
        sheet_limits_default(&l);
    FILE *f = fopen(path, "rb");
    if (!f) return cs_error_set(err, CS_E_NOT_FOUND, "%s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cs_error_set(err, CS_E_IMPORT_FORMAT, "không phải tệp thường");
    }
    if ((unsigned long long)st.st_size > l.max_bytes) {
        fclose(f);
        return sheet_limit(err, "Tệp %lld byte, vượt giới hạn %zu byte", (long long)st.st_size,
                           l.max_bytes);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = cs_malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        cs_free(buf);
        return cs_error_set(err, CS_E_IMPORT_FORMAT, "đọc tệp không đủ");
    }
    int rc = sheet_read(buf, n, &l, out, err);
    cs_free(buf);
    return rc;
}
