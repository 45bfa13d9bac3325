/* tests/fuzz/fuzz_sheet: an uploaded spreadsheet, whatever its bytes — CSV in any encoding or
 * an XLSX zip — through the whole pure import layer: sheet_read, the header mapping for both
 * kinds, every row's normalisation, then the error CSV of the rejected rows read back (a
 * round trip that must give the same cells). Invariants abort; errors are fine.
 * libFuzzer: build with -fsanitize=fuzzer -DCHOSO_LIBFUZZER. Otherwise main() replays the
 * files (or directories) given — by default tests/fuzz/corpus/sheet — so the corpus runs in
 * every test pass. */
#include "tests/support/fuzz_replay.h"
#include "core/mem.h"
#include "core/vn.h"
#include "jobs/import_rows.h"
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static import_columns *cols;

static void load_cols(void)
{
    if (cols) return;
    const char *dir = getenv("CHOSO_SCHEMA_DIR");
    char p[1024];
    snprintf(p, sizeof p, "%s/data/import_columns.csv", dir && *dir ? dir : "schemas");
    cs_error err;
    if (import_columns_load(p, &cols, &err)) {
        fprintf(stderr, "fuzz_sheet: %s: %s\n", p, err.detail);
        abort();
    }
}

static void check_error(const cs_error *e)
{
    if (e->code == CS_OK || e->nfields > CS_MAX_FIELD_ERRORS) abort();
    if (!memchr(e->detail, 0, sizeof e->detail) || !vn_utf8_valid(e->detail)) abort();
    for (size_t i = 0; i < e->nfields; i++)
        if (!e->fields[i].field[0] || !vn_utf8_valid(e->fields[i].field)) abort();
}

/* What the error CSV does to a cell so that Excel keeps it (see sheet_errors_csv). */
static void expected_after_roundtrip(const char *v, char *out, size_t outsz)
{
    size_t n = strlen(v), digits = 0;
    while (digits < n && v[digits] >= '0' && v[digits] <= '9')
        digits++;
    if (n >= 2 && digits == n && (v[0] == '0' || n > 15))
        snprintf(out, outsz, "=\"%s\"", v);
    else if (sheet_formula_like(v)) /* the error file's formula neutralisation */
        snprintf(out, outsz, "'%s", v);
    else
        snprintf(out, outsz, "%s", v);
}

static void check_normalized(const sheet_row_result *r)
{
    const char *v;
    if (r->kind == IMPORT_HOUSEHOLDS) {
        if (!(v = import_row_value(r, IMPORT_F_CCCD)) || strlen(v) != 12) abort();
        if (!(v = import_row_value(r, IMPORT_F_PHONE)) || strlen(v) != 10 || v[0] != '0') abort();
        if (!(v = import_row_value(r, IMPORT_F_BIRTH_DATE)) || strlen(v) != 10) abort();
        if (!import_row_value(r, IMPORT_F_OWNER_NAME) || r->consent != 1) abort();
        if (!import_row_value(r, IMPORT_F_COMMUNE_CODE) &&
            !import_row_value(r, IMPORT_F_COMMUNE_NAME))
            abort();
    } else {
        if (!import_row_value(r, IMPORT_F_NAME) || r->price <= 0 || r->weight_g <= 0) abort();
        if (!import_row_value(r, IMPORT_F_HOUSEHOLD_CODE) &&
            !import_row_value(r, IMPORT_F_OWNER_CCCD))
            abort();
    }
    for (unsigned f = 0; f < IMPORT_F__COUNT; f++)
        if ((v = import_row_value(r, (import_field)f)) && !vn_utf8_valid(v)) abort();
}

static void rows_and_errors(const sheet *s, import_kind kind)
{
    import_map m;
    cs_error err;
    if (import_map_header(cols, kind, s, &m, &err)) {
        check_error(&err);
        return;
    }
    import_ctx ctx = {.today = {2025, 11, 28}};
    sheet_row_result r;
    sheet_row_result_init(&r);
    enum { MAXREJ = 16 };
    sheet_reject rej[MAXREJ];
    const char **cells[MAXREJ];
    cs_buf texts[MAXREJ];
    size_t nrej = 0;
    for (size_t i = m.first_data; i < sheet_nrows(s) && i < m.first_data + 300; i++) {
        if (import_row_normalize(&m, s, i, &ctx, &r) == 0) {
            check_normalized(&r);
            continue;
        }
        if (r.err.code == CS_E_NOMEM) break;
        if (r.err.code != CS_E_VALIDATION || !r.err.nfields) abort();
        check_error(&r.err);
        if (nrej == MAXREJ) continue;
        size_t n = 0;
        cs_buf_init(&texts[nrej], 0);
        cells[nrej] = import_row_cells(s, i, m.ncols, &n);
        if (!cells[nrej] || import_row_error_text(&r.err, CS_LANG_VI, &texts[nrej])) {
            cs_free(cells[nrej]);
            cs_buf_free(&texts[nrej]);
            break;
        }
        rej[nrej] = (sheet_reject){
            .row_no = r.row_no, .cells = cells[nrej], .ncells = n, .errors = texts[nrej].data};
        nrej++;
    }
    sheet_row_result_free(&r);

    size_t nh = 0;
    const char **header = import_row_cells(s, m.header_index, m.ncols, &nh);
    cs_buf out;
    cs_buf_init(&out, 0);
    if (header && nrej && sheet_errors_csv(header, nh, rej, nrej, &out, &err) == 0) {
        /* the error file reads back: the header, one row per reject, the cells as sent */
        sheet_limits lim;
        sheet_limits_default(&lim);
        lim.max_cols += 1;
        lim.max_cell += 8192;
        sheet *e = NULL;
        if (sheet_read(out.data, out.len, &lim, &e, &err)) {
            if (err.code != CS_E_NOMEM) abort();
        } else {
            if (sheet_nrows(e) != nrej + 1) abort();
            if (strcmp(sheet_cell(e, 0, (unsigned)nh), SHEET_ERROR_COLUMN)) abort();
            for (size_t k = 0; k < nrej; k++)
                for (size_t c = 0; c < rej[k].ncells; c++) {
                    char want[40000];
                    expected_after_roundtrip(rej[k].cells[c], want, sizeof want);
                    if (strcmp(sheet_cell(e, k + 1, (unsigned)c), want)) abort();
                }
            sheet_free(e);
        }
    }
    cs_buf_free(&out);
    cs_free(header);
    for (size_t k = 0; k < nrej; k++) {
        cs_free(cells[k]);
        cs_buf_free(&texts[k]);
    }
}

/* The streaming reader (the import's) against sheet_read: for a file within the 1 MiB the
 * stream decides the encoding on, the same rows cell for cell, or a failure when sheet_read
 * failed — whatever the slice size and window size. */
typedef struct fz_src {
    const uint8_t *p;
    size_t n, off, slice;
} fz_src;

static int fz_next(void *arg, const unsigned char **p, size_t *n, cs_error *err)
{
    (void)err;
    fz_src *f = arg;
    *n = f->n - f->off < f->slice ? f->n - f->off : f->slice;
    *p = f->p + f->off;
    f->off += *n;
    return 0;
}

static void stream_agrees(const uint8_t *data, size_t size, const sheet_limits *lim,
                          const sheet *whole)
{
    fz_src src = {data, size, 0, 1 + (size ? data[size / 2] % 97 : 0)};
    size_t step = 1 + size % 7, at = 0;
    sheet_stream *st = NULL;
    cs_error err;
    cs_error_clear(&err);
    int failed = sheet_stream_open(fz_next, &src, lim, step, 0, &st, &err) != 0;
    while (!failed) {
        sheet *w = NULL;
        if (sheet_stream_next(st, &w, &err)) {
            failed = 1;
            break;
        }
        if (!w) break;
        if (sheet_first_row(w) != at) abort();
        if (whole && sheet_nrows(w) > sheet_nrows(whole)) abort();
        for (size_t i = at; whole && i < sheet_nrows(w); i++) {
            if (sheet_row_no(w, i) != sheet_row_no(whole, i) ||
                sheet_ncells(w, i) != sheet_ncells(whole, i))
                abort();
            for (unsigned c = 0; c < sheet_ncells(w, i); c++)
                if (strcmp(sheet_cell(w, i, c), sheet_cell(whole, i, c))) abort();
        }
        at = sheet_nrows(w);
        sheet_free(w);
    }
    sheet_stream_free(st);
    if (failed) {
        if (err.code == CS_E_NOMEM) return;
        check_error(&err);
        if (whole) abort();
        return;
    }
    if (whole ? at != sheet_nrows(whole) : at != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_cols();
    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_rows = 2000; /* keep one run short; the limits themselves are exercised too */
    lim.max_unzipped = 8u << 20;
    sheet *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sheet_read(data, size, &lim, &s, &err)) {
        check_error(&err);
        if (s) abort();
        if (err.code != CS_E_NOMEM && size < (1u << 20)) stream_agrees(data, size, &lim, NULL);
        return 0;
    }
    if (size < (1u << 20)) stream_agrees(data, size, &lim, s);
    if (!sheet_nrows(s)) abort();
    for (size_t i = 0; i < sheet_nrows(s); i++) {
        if (sheet_format_of(s) == SHEET_FMT_CSV && i &&
            sheet_row_no(s, i) <= sheet_row_no(s, i - 1))
            abort();
        if (sheet_ncells(s, i) == 0 || sheet_ncells(s, i) > lim.max_cols) abort();
        for (unsigned c = 0; c < sheet_ncells(s, i); c++) {
            const char *v = sheet_cell(s, i, c);
            if (strlen(v) > lim.max_cell || !vn_utf8_valid(v)) abort();
        }
    }
    (void)sheet_text_legacy_font(sheet_cell(s, 0, 0));
    rows_and_errors(s, IMPORT_HOUSEHOLDS);
    rows_and_errors(s, IMPORT_PRODUCTS);
    sheet_free(s);
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_sheet", "tests/fuzz/corpus/sheet",
                            LLVMFuzzerTestOneInput);
}
#endif
