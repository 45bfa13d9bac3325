/* jobs/sheet_int: the row-model builder shared by the CSV and XLSX readers (jobs/sheet*.c
 * only). Not a public interface: other code uses jobs/sheet.h. */
#ifndef JOB_SHEET_INT_H
#define JOB_SHEET_INT_H
#include "jobs/sheet.h"
#include <stdint.h>

typedef struct sheet_row_ {
    unsigned row_no;
    unsigned ncells;
    size_t first; /* index of its first cell in sheet.cells */
} sheet_row_;

struct sheet {
    sheet_format format;
    sheet_encoding encoding;
    char sep;
    int date1904; /* XLSX: serial dates count from 1904 (old Mac Excel) */
    sheet_limits lim;
    cs_buf pool;     /* every cell text, NUL-terminated; offset 0 is "" */
    uint32_t *cells; /* offsets into pool (capped below 4 GiB: half the size of size_t) */
    size_t ncells, cap_cells;
    sheet_row_ *rows;
    size_t nrows, cap_rows;
    sheet_warnings warnings;
    /* windows of a stream (jobs/sheet_stream.c): rows[0] is row index `base` of the whole file;
     * rows whose index is below drop_below are counted (base moves on) but not kept */
    size_t base, drop_below;
    int borrowed;        /* a view of an XLSX sheet: pool, cells and rows belong to it */
    struct sheet *qnext; /* the stream's queue of filled windows */
    /* the row being built */
    int in_row;
    unsigned cur_row_no;
    size_t cur_first, cur_pool_len;
    unsigned cur_n;
    int warned_beyond;
};

/* A new empty sheet with the limits copied; NULL on OOM. */
sheet *sheet_b_new(const sheet_limits *lim);
/* Store a string in the pool; returns its offset, or 0 with err set (offset 0 is the empty
 * string, so callers test err->code). Strings longer than lim.max_cell are refused. */
size_t sheet_b_str(sheet *s, const char *p, size_t n, cs_error *err);
int sheet_b_row_begin(sheet *s, unsigned row_no, cs_error *err);
/* Put a cell at column col (0-based, strictly after the previous one of this row; gaps
 * become empty cells) by pool offset or by text. Blank cells past max_cols are dropped. */
int sheet_b_cell_off(sheet *s, unsigned col, size_t off, cs_error *err);
int sheet_b_cell(sheet *s, unsigned col, const char *p, size_t n, cs_error *err);
/* Finish the row: trailing blank cells trimmed; a row of blank cells is dropped. */
int sheet_b_row_end(sheet *s, cs_error *err);
/* err := CS_E_IMPORT_LIMIT with a Vietnamese detail; returns -1. */
int sheet_limit(cs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Cut a NUL-terminated string so it does not end inside a UTF-8 character. */
void sheet_utf8_cut(char *s);
/* 1 when the text is empty or only white space (ASCII, NBSP). */
int sheet_blank(const char *p, size_t n);

/* The XLSX reader (jobs/sheet_xlsx.c): fills s from a zip in memory. */
int sheet_read_xlsx(sheet *s, const unsigned char *data, size_t len, cs_error *err);

/* The same reader streamed (jobs/sheet_stream.c): the zip in memory (mem) or in the file fd
 * (mem NULL), len bytes; the shared strings are loaded (their own pool, capped by
 * lim.max_sst), the worksheet is inflated and parsed 64 KiB at a time. Rows go into *cur,
 * starting with `first`; after each row fn(arg, &cur, err) may hand over a new window and
 * return 1 to pause the parser, 0 to go on, -1 on error. Limits as sheet_read_xlsx, from
 * first->lim. The workbook's date1904 into *date1904, the extra-sheets warning into w. */
typedef struct sheet_xlsx_rd sheet_xlsx_rd;
typedef int (*sheet_xlsx_row_fn)(void *arg, sheet **cur, cs_error *err);
int sheet_xlsx_open(const unsigned char *mem, int fd, size_t len, sheet *first,
                    sheet_xlsx_row_fn fn, void *arg, sheet_warnings *w, int *date1904,
                    sheet_xlsx_rd **out, cs_error *err);
/* Parse on until fn paused (a window is full) or the sheet ended (*done = 1). 0 or -1. */
int sheet_xlsx_feed(sheet_xlsx_rd *x, int *done, cs_error *err);
void sheet_xlsx_close(sheet_xlsx_rd *x);

/* CSV sniffing shared by the whole-file and the streaming reader (jobs/sheet.c). */
size_t sheet_sep_hint(const char *p, size_t n, char *sep);
char sheet_detect_sep(const char *p, size_t n);
int sheet_not_a_spreadsheet(const unsigned char *p, size_t n, cs_error *err);
/* Bytes at the start of p that are whole, strict UTF-8 characters (jobs/sheet_enc.c). */
size_t sheet_utf8_valid_len(const unsigned char *p, size_t len);

/* One CSV cell as the error files write it: quoted when needed, ="…" for digit strings Excel
 * would mangle, a ' before formula-like text. 0 or -1 (buffer full / OOM). */
int sheet_csv_cell(cs_buf *b, const char *v);
/* 1 when a spreadsheet opening a CSV would take the cell v as a formula (CSV injection): it
 * starts with TAB, CR or LF, or its first character after leading blanks is = + - @ (a plain
 * number such as "-5" or "+84" digits is not). The writer puts a ' before such a cell and the
 * importer (jobs/import_rows) takes exactly that ' away again, so what re-imports is unchanged. */
int sheet_formula_like(const char *v);

/* ---- XLSX writing helpers (jobs/sheet_write.c), shared with the templates ------------------ */
#include <xlsxwriter.h>
typedef struct sheet_xw {
    lxw_workbook *wb;
    const char *path;
    lxw_format *header;       /* bold on grey, wrapped, bordered */
    lxw_format *header_req;   /* the same in dark blue: a required column */
    lxw_format *text;         /* "@": the cell is text, leading zeros stay */
    lxw_format *wrap;         /* text, wrapped, top-aligned */
    lxw_format *error;        /* bold dark red on light red, wrapped */
    lxw_format *error_header; /* header of the error column */
    lxw_format *title;        /* bold, larger */
} sheet_xw;
/* A new workbook at path (constant-memory mode: rows must be written in order, column widths
 * and panes set before the first row). -1 with err. */
int sheet_xw_open(sheet_xw *w, const char *path, cs_error *err);
/* Close and write the file; on any libxlsxwriter error the file is removed. */
int sheet_xw_close(sheet_xw *w, cs_error *err);
/* Give up: close, remove the file, err = CS_E_INTERNAL naming what failed. Returns -1. */
int sheet_xw_fail(sheet_xw *w, cs_error *err, const char *what);
/* Column width for a text: its longest line in characters + 2, clamped to [min, max]. */
double sheet_xw_width(const char *s, double min, double max);
#endif
