/* jobs/sheet_stream: a spreadsheet read as windows of rows from bytes that arrive slice by slice,
 * for files too large to hold (the 1,000,000-row import). No database, no logging of cells. */
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"
#include "core/fileio.h"
#include "core/mem.h"
#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#define SAMPLE_BYTES ((size_t)1 << 20) /* encoding and separator are decided on this much */
#define PIECE ((size_t)16384)          /* text handed to libcsv at a time */
#define LIBCSV_FIELD_BEGUN 2           /* as in jobs/sheet.c */

struct sheet_stream {
    sheet_source_fn src;
    void *arg;
    sheet_limits lim;
    sheet_format format;
    sheet_encoding enc;
    sheet_warnings warnings;
    size_t step, skip;
    size_t end; /* rows of the file up to the end of the last window handed out */
    int src_eof, text_eof, done;
    size_t bytes;    /* read from src so far */
    cs_buf raw;      /* bytes read and not yet converted (a character cut by a slice border) */
    iconv_t cd;      /* Windows-1258 / UTF-16 → UTF-8, (iconv_t)-1 for UTF-8 */
    cs_buf conv;     /* converted text not yet composed (NFC runs line by line) */
    cs_buf text;     /* UTF-8 text not yet given to libcsv */
    size_t text_off; /* how much of text libcsv has had */
    struct csv_parser cp;
    int cp_init;
    /* the windows: cur is being filled, the queue holds the filled ones in order */
    sheet *cur, *qhead, *qtail;
    cs_error *err;
    int failed;
    unsigned col, rec_no;
    int in_row, last_cr;
    /* XLSX: the zip in raw (a file within the first MiB) or in an unnamed temporary file */
    sheet_xlsx_rd *xr;
    int xfd;
    int date1904;
};

sheet_format sheet_stream_format(const sheet_stream *st)
{
    return st->format;
}
sheet_encoding sheet_stream_encoding(const sheet_stream *st)
{
    return st->enc;
}
const sheet_warnings *sheet_stream_warnings(const sheet_stream *st)
{
    return &st->warnings;
}

void sheet_stream_free(sheet_stream *st)
{
    if (!st) return;
    if (st->cp_init) csv_free(&st->cp);
    if (st->cd != (iconv_t)-1) iconv_close(st->cd);
    cs_buf_free(&st->raw);
    cs_buf_free(&st->conv);
    cs_buf_free(&st->text);
    while (st->qhead) {
        sheet *n = st->qhead->qnext;
        sheet_free(st->qhead);
        st->qhead = n;
    }
    sheet_free(st->cur);
    sheet_xlsx_close(st->xr);
    if (st->xfd >= 0) close(st->xfd);
    cs_free(st);
}

static sheet *window_new(sheet_stream *st, size_t base)
{
    sheet *s = sheet_b_new(&st->lim);
    if (!s) return NULL;
    s->format = st->format;
    s->encoding = st->enc;
    s->sep = (char)(st->cp_init ? csv_get_delim(&st->cp) : 0);
    s->base = base;
    s->drop_below = st->skip;
    s->date1904 = st->date1904;
    return s;
}

/* The filled window cur goes to the queue and a new one takes its place. 0 or -1 (memory). */
static int window_full(sheet_stream *st)
{
    sheet *s = st->cur;
    sheet *n = window_new(st, s->base + s->nrows);
    if (!n) return cs_error_set(st->err, CS_E_NOMEM, NULL);
    if (st->qtail)
        st->qtail->qnext = s;
    else
        st->qhead = s;
    st->qtail = s;
    st->cur = n;
    return 0;
}

/* ---- raw bytes → UTF-8 text ---------------------------------------------------------------- */

static int pull(sheet_stream *st, cs_error *err)
{
    if (st->src_eof) return 0;
    const unsigned char *p = NULL;
    size_t n = 0;
    if (st->src(st->arg, &p, &n, err)) return -1;
    if (n == 0) {
        st->src_eof = 1;
        return 0;
    }
    st->bytes += n;
    if (st->bytes > st->lim.max_bytes)
        return sheet_limit(
            err, "Tệp vượt giới hạn %zu byte%s", st->lim.max_bytes,
            st->format == SHEET_FMT_XLSX ? " (tệp .xlsx; tệp lớn hơn: hãy lưu dạng CSV)" : "");
    if (cs_buf_append(&st->raw, p, n)) return cs_error_set(err, CS_E_NOMEM, NULL);
    return 0;
}

static void consume(cs_buf *b, size_t n)
{
    if (n == 0) return; /* b->data may still be NULL: no pointer arithmetic on it */
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* The part of conv up to its last line end (all of it at the end) composed to NFC into text. */
static int compose(sheet_stream *st, int all, cs_error *err)
{
    size_t n = st->conv.len;
    if (!all) {
        while (n > 0 && st->conv.data[n - 1] != '\n')
            n--;
    }
    if (n == 0) return 0;
    if (memchr(st->conv.data, 0, n))
        return cs_error_set(err, CS_E_IMPORT_FORMAT, "tệp chứa ký tự 0 (không phải văn bản)");
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)st->conv.data, (utf8proc_ssize_t)n,
                                      &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (m < 0) {
        free(nfc);
        return m == UTF8PROC_ERROR_NOMEM
                   ? cs_error_set(err, CS_E_NOMEM, NULL)
                   : cs_error_set(err, CS_E_IMPORT_ENCODING, "%s", utf8proc_errmsg(m));
    }
    int rc = cs_buf_append(&st->text, nfc, (size_t)m) ? cs_error_set(err, CS_E_NOMEM, NULL) : 0;
    free(nfc);
    consume(&st->conv, n);
    return rc;
}

/* 1 when p[0..n) can be the start of one UTF-8 character cut by the slice border */
static int utf8_cut(const unsigned char *p, size_t n)
{
    if (n == 0 || n > 3 || p[0] < 0xC2 || p[0] > 0xF4) return 0;
    size_t want = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;
    if (n >= want) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return 1;
}

static int convert(sheet_stream *st, cs_error *err)
{
    const unsigned char *p = (const unsigned char *)st->raw.data;
    size_t n = st->raw.len;
    if (st->cd == (iconv_t)-1) { /* UTF-8: checked, never changed */
        size_t v = sheet_utf8_valid_len(p, n);
        if (v < n && (st->src_eof || !utf8_cut(p + v, n - v)))
            return cs_error_set(err, CS_E_IMPORT_ENCODING,
                                "tệp không phải UTF-8 hợp lệ từ byte %zu (chỉ %zu byte đầu được "
                                "dùng để nhận dạng bảng mã)",
                                st->bytes - n + v, SAMPLE_BYTES);
        if (v && memchr(p, 0, v))
            return cs_error_set(err, CS_E_IMPORT_FORMAT, "tệp chứa byte 0 (không phải văn bản)");
        if (cs_buf_append(&st->text, p, v)) return cs_error_set(err, CS_E_NOMEM, NULL);
        consume(&st->raw, v);
    } else {
        char *in = (char *)p;
        size_t inleft = n;
        char tmp[16384];
        int flushed = !st->src_eof;
        for (;;) {
            char *o = tmp;
            size_t oleft = sizeof tmp, r;
            if (inleft > 0)
                r = iconv(st->cd, &in, &inleft, &o, &oleft);
            else if (!flushed) {
                /* glibc's CP1258 holds back a base letter until it knows whether a tone mark
                   follows: a last call with no input gives it */
                r = iconv(st->cd, NULL, NULL, &o, &oleft);
                if (r != (size_t)-1) flushed = 1;
            } else
                break;
            int e = r == (size_t)-1 ? errno : 0;
            size_t made = sizeof tmp - oleft;
            if (made && cs_buf_append(&st->conv, tmp, made))
                return cs_error_set(err, CS_E_NOMEM, NULL);
            if (e == E2BIG) continue;
            if (e == EINVAL && !st->src_eof) break; /* a character cut by the border: wait */
            if (e)
                return cs_error_set(err, CS_E_IMPORT_ENCODING, "byte %zu không hợp lệ trong %s",
                                    st->bytes - inleft, sheet_encoding_name(st->enc));
            if (inleft == 0 && flushed) break;
        }
        consume(&st->raw, n - inleft);
        if (compose(st, st->src_eof, err)) return -1;
    }
    if (st->src_eof && st->raw.len == 0) st->text_eof = 1;
    return 0;
}

/* ---- CSV into windows ---------------------------------------------------------------------- */

static void cb_field(void *field, size_t len, void *data)
{
    sheet_stream *st = data;
    if (st->failed) return;
    if (!st->in_row) {
        st->in_row = 1;
        sheet_b_row_begin(st->cur, ++st->rec_no, st->err);
    }
    if (sheet_b_cell(st->cur, st->col++, field, len, st->err)) st->failed = 1;
}

static void cb_row(int term, void *data)
{
    sheet_stream *st = data;
    if (st->failed) return;
    if (!st->in_row) { /* see jobs/sheet.c csv_cb_row: blank lines keep their numbers */
        if (term == '\n' && st->last_cr) {
            st->last_cr = 0;
            return;
        }
        if (term == '\r' || term == '\n') st->rec_no++;
        st->last_cr = term == '\r';
        return;
    }
    st->in_row = 0;
    st->col = 0;
    st->last_cr = term == '\r';
    sheet *s = st->cur;
    if (sheet_b_row_end(s, st->err)) {
        st->failed = 1;
        return;
    }
    if (s->nrows < st->step) return;
    if (window_full(st)) st->failed = 1;
}

static int space_only(unsigned char c)
{
    return c == ' ';
}

/* The first text: a "sep=" line, then the separator; libcsv set up. */
static int csv_start(sheet_stream *st, cs_error *err)
{
    char sep = 0;
    size_t skip = sheet_sep_hint(st->text.data ? st->text.data : "", st->text.len, &sep);
    consume(&st->text, skip);
    if (!sep) sep = sheet_detect_sep(st->text.data ? st->text.data : "", st->text.len);
    if (csv_init(&st->cp, CSV_REPALL_NL | CSV_APPEND_NULL) != 0)
        return cs_error_set(err, CS_E_NOMEM, NULL);
    st->cp_init = 1;
    csv_set_realloc_func(&st->cp, cs_realloc);
    csv_set_free_func(&st->cp, cs_free);
    csv_set_delim(&st->cp, (unsigned char)sep);
    if (sep == '\t') csv_set_space_func(&st->cp, space_only);
    st->cur->sep = sep;
    return 0;
}

/* Give libcsv one more piece of text (reading and converting more bytes when needed). At the
 * end of the text, finishes the last row and sets done. */
static int feed(sheet_stream *st, cs_error *err)
{
    st->err = err;
    if (st->xr) {
        int done = 0;
        if (sheet_xlsx_feed(st->xr, &done, err)) return -1;
        st->done = done;
        return 0;
    }
    while (st->text.len - st->text_off < PIECE && !st->text_eof) {
        if (st->text_off) {
            consume(&st->text, st->text_off);
            st->text_off = 0;
        }
        if (pull(st, err) || convert(st, err)) return -1;
    }
    size_t k = st->text.len - st->text_off;
    if (k > PIECE) k = PIECE;
    if (k) {
        if (csv_parse(&st->cp, st->text.data + st->text_off, k, cb_field, cb_row, st) != k)
            return csv_error(&st->cp) == CSV_ENOMEM ? cs_error_set(err, CS_E_NOMEM, NULL)
                                                    : cs_error_set(err, CS_E_IMPORT_FORMAT, "CSV");
        st->text_off += k;
        if (st->failed) return -1;
        if (st->cp.entry_pos > st->lim.max_cell)
            return sheet_limit(err, "Một ô ở dòng %u dài quá %zu byte (thiếu dấu \" đóng?)",
                               st->rec_no + (st->in_row ? 0 : 1), st->lim.max_cell);
        return 0;
    }
    if (!st->text_eof) return 0;
    if (st->cp.quoted && st->cp.pstate == LIBCSV_FIELD_BEGUN)
        return cs_error_set(err, CS_E_IMPORT_FORMAT,
                            "Dấu ngoặc kép (\") mở ở dòng %u không được đóng",
                            st->rec_no + (st->in_row ? 0 : 1));
    csv_fini(&st->cp, cb_field, cb_row, st);
    if (st->failed) return -1;
    if (st->cur->in_row && sheet_b_row_end(st->cur, err)) return -1;
    st->done = 1;
    return 0;
}

/* ---- the stream ---------------------------------------------------------------------------- */

/* XLSX, after each row: a full window is queued and the parser pauses. */
static int xlsx_row(void *arg, sheet **cur, cs_error *err)
{
    sheet_stream *st = arg;
    st->err = err;
    if (st->cur->nrows < st->step) return 0;
    if (window_full(st)) return -1;
    *cur = st->cur;
    return 1;
}

/* An unnamed temporary file in $TMPDIR, else /var/tmp (gone when closed, even after a crash). */
static int temp_fd(void)
{
    const char *d = getenv("TMPDIR");
    return cs_tmpfile(d && *d ? d : "/var/tmp", "xlsx");
}

/* The zip's directory is at its end: a file past the first MiB is copied slice by slice to a
 * temporary file and read from there (random access, never whole in memory); then the
 * worksheet is parsed a window at a time (jobs/sheet_xlsx.c). */
static int open_xlsx(sheet_stream *st, cs_error *err)
{
    if (st->lim.max_xlsx && st->lim.max_xlsx < st->lim.max_bytes)
        st->lim.max_bytes = st->lim.max_xlsx;
    if (st->bytes > st->lim.max_bytes)
        return sheet_limit(err, "Tệp .xlsx vượt giới hạn %zu byte (tệp lớn hơn: hãy lưu dạng CSV)",
                           st->lim.max_bytes);
    const unsigned char *mem = NULL;
    size_t len = st->raw.len;
    if (st->src_eof) {
        mem = (const unsigned char *)(st->raw.data ? st->raw.data : "");
    } else {
        st->xfd = temp_fd();
        if (st->xfd < 0)
            return cs_error_set(err, CS_E_INTERNAL, "XLSX: temporary file: %s", strerror(errno));
        len = 0;
        for (;;) {
            if (st->raw.len && cs_write_all(st->xfd, st->raw.data, st->raw.len))
                return cs_error_set(err, CS_E_INTERNAL, "XLSX: temporary file: %s",
                                    strerror(errno));
            len += st->raw.len;
            cs_buf_reset(&st->raw);
            if (st->src_eof) break;
            if (pull(st, err)) return -1;
        }
    }
    st->cur = window_new(st, 0);
    if (!st->cur) return cs_error_set(err, CS_E_NOMEM, NULL);
    st->err = err;
    if (sheet_xlsx_open(mem, st->xfd, len, st->cur, xlsx_row, st, &st->warnings, &st->date1904,
                        &st->xr, err))
        return -1;
    st->cur->date1904 = st->date1904;
    return 0;
}

int sheet_stream_open(sheet_source_fn src, void *arg, const sheet_limits *lim, size_t step,
                      size_t skip, sheet_stream **out, cs_error *err)
{
    *out = NULL;
    sheet_stream *st = cs_calloc(1, sizeof *st);
    if (!st) return cs_error_set(err, CS_E_NOMEM, NULL);
    st->src = src, st->arg = arg, st->step = step ? step : 1, st->skip = skip;
    st->cd = (iconv_t)-1;
    st->xfd = -1;
    if (lim)
        st->lim = *lim;
    else
        sheet_limits_default(&st->lim);
    cs_buf_init(&st->raw, SIZE_MAX);
    cs_buf_init(&st->conv, SIZE_MAX);
    cs_buf_init(&st->text, SIZE_MAX);
    while (!st->src_eof && st->raw.len < SAMPLE_BYTES)
        if (pull(st, err)) goto fail;
    const unsigned char *p = (const unsigned char *)(st->raw.data ? st->raw.data : "");
    size_t n = st->raw.len;
    if (n >= 4 && p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4) {
        st->format = SHEET_FMT_XLSX;
        st->enc = SHEET_ENC_UTF8;
        if (open_xlsx(st, err)) goto fail;
        *out = st;
        return 0;
    }
    st->format = SHEET_FMT_CSV;
    if (sheet_not_a_spreadsheet(p, n, err)) goto fail;
    /* the sample: the whole file when it is small, else up to its last line end (one more byte
       when that leaves the sample odd: the NUL after "\n" in UTF-16LE) */
    size_t sn = n;
    if (!st->src_eof) {
        while (sn > 0 && p[sn - 1] != '\n')
            sn--;
        if (sn == 0) sn = n;
        if ((sn & 1) && sn < n) sn++;
    }
    sheet_enc_guess g;
    st->enc = sheet_detect_encoding(p, sn, &g);
    size_t bom = 0;
    const char *from = NULL;
    switch (st->enc) {
    case SHEET_ENC_TCVN3:
        cs_error_set(err, CS_E_IMPORT_ENCODING_TCVN3, "TCVN3");
        goto fail;
    case SHEET_ENC_VNI:
        cs_error_set(err, CS_E_IMPORT_ENCODING_VNI, "VNI");
        goto fail;
    case SHEET_ENC_UNKNOWN:
        cs_error_set(err, CS_E_IMPORT_ENCODING, NULL);
        goto fail;
    case SHEET_ENC_UTF8_BOM:
        bom = 3;
        break;
    case SHEET_ENC_UTF16LE:
        bom = n >= 2 && p[0] == 0xFF && p[1] == 0xFE ? 2 : 0;
        from = "UTF-16LE";
        break;
    case SHEET_ENC_UTF16BE:
        bom = n >= 2 && p[0] == 0xFE && p[1] == 0xFF ? 2 : 0;
        from = "UTF-16BE";
        break;
    case SHEET_ENC_CP1258:
        from = "CP1258";
        sheet_warn_add(&st->warnings, SHEET_W_ENCODING_CONVERTED,
                       "Tệp không ở dạng UTF-8: đã chuyển từ Windows-1258 sang Unicode. Lần sau "
                       "hãy lưu dạng \"CSV UTF-8\".");
        break;
    default:
        break;
    }
    consume(&st->raw, bom);
    if (from && (st->cd = iconv_open("UTF-8", from)) == (iconv_t)-1) {
        cs_error_set(err, CS_E_INTERNAL, "iconv %s", from);
        goto fail;
    }
    if (convert(st, err)) goto fail;
    st->cur = window_new(st, 0);
    if (!st->cur) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto fail;
    }
    if (csv_start(st, err)) goto fail;
    *out = st;
    return 0;
fail:
    sheet_stream_free(st);
    return -1;
}

int sheet_stream_next(sheet_stream *st, sheet **out, cs_error *err)
{
    *out = NULL;
    while (!st->qhead && !st->done)
        if (feed(st, err)) return -1;
    if (st->qhead) {
        *out = st->qhead;
        st->qhead = st->qhead->qnext;
        if (!st->qhead) st->qtail = NULL;
        (*out)->qnext = NULL;
    } else if (st->cur && st->cur->nrows) { /* the last, shorter window */
        *out = st->cur;
        st->cur = NULL;
    }
    if (*out) st->end = sheet_nrows(*out);
    return 0;
}

int sheet_stream_count(sheet_stream *st, size_t *nrows, cs_error *err)
{
    while (st->qhead) {
        sheet *n = st->qhead->qnext;
        sheet_free(st->qhead);
        st->qhead = n;
    }
    st->qtail = NULL;
    if (!st->cur) { /* the last window was handed out: the file has been read */
        *nrows = st->end;
        return 0;
    }
    st->skip = SIZE_MAX;
    st->cur->drop_below = SIZE_MAX;
    while (!st->done)
        if (feed(st, err)) return -1;
    *nrows = sheet_nrows(st->cur);
    return 0;
}
