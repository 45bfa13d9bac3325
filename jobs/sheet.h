/* jobs/sheet: spreadsheets as volunteers really send them — CSV (UTF-8 with or without BOM,
 * UTF-16, Windows-1258; ',' ';' or tab) and XLSX — read into one row model, and the files we
 * hand back (error files). Pure: bytes in, rows out; no database, no HTTP, no logging of cells.
 *
 * Row model: every non-empty row of the file (CSV record or XLSX <row>), in file order, with
 * the row number the user sees in Excel (first row = 1; a CSV "sep=;" line is not a row).
 * Cells are UTF-8 (NFC when we converted the encoding), as in the file otherwise: no trimming,
 * numbers keep their raw text ("3.8E+11", "36526" for a date-formatted cell, "1"/"0" for an
 * XLSX boolean), so the value rules in jobs/import_rows can see spreadsheet damage. */
#ifndef JOB_SHEET_H
#define JOB_SHEET_H
#include "core/buf.h"
#include "core/errors.h"
#include <stddef.h>

typedef enum sheet_format { SHEET_FMT_CSV = 1, SHEET_FMT_XLSX = 2 } sheet_format;
const char *sheet_format_name(sheet_format f); /* "csv" / "xlsx" (imports.file_format) */

typedef enum sheet_encoding {
    SHEET_ENC_UTF8 = 0,
    SHEET_ENC_UTF8_BOM,
    SHEET_ENC_UTF16LE,
    SHEET_ENC_UTF16BE,
    SHEET_ENC_CP1258, /* Windows-1258 (Vietnamese ANSI code page); converted */
    SHEET_ENC_TCVN3,  /* TCVN 5712 "ABC" / .VnTime fonts; refused */
    SHEET_ENC_VNI,    /* VNI Windows / VNI-Times fonts; refused */
    SHEET_ENC_UNKNOWN /* not UTF-8, not confidently any of the above; refused */
} sheet_encoding;
/* Stable lower-case name: "utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1258",
 * "tcvn3", "vni", "unknown". */
const char *sheet_encoding_name(sheet_encoding e);

/* ---- limits: every size a hostile or broken file could blow up ---------------------------- */
typedef struct sheet_limits {
    size_t max_bytes;    /* the uploaded file (default 50 MiB) */
    size_t max_unzipped; /* XLSX: bytes inflated over all parts read — zip bombs (256 MiB) */
    size_t max_rows;     /* non-empty rows, header included (200,000) */
    unsigned max_cols;   /* columns with a value (100) */
    size_t max_cells;    /* cells kept, gaps included (5,000,000) */
    size_t max_cell;     /* bytes in one cell (32,767: Excel's own limit in characters) */
    size_t max_xlsx;     /* stream: an XLSX's own limit (0 = max_bytes) */
    size_t max_sst;      /* stream: XLSX shared strings held for the whole read, bytes and
                            8 bytes a string (16 MiB) */
} sheet_limits;
void sheet_limits_default(sheet_limits *l);

/* ---- warnings: reported to the volunteer, never fatal -------------------------------------- */
typedef enum sheet_warn_kind {
    SHEET_W_ENCODING_CONVERTED = 0, /* "đã chuyển từ Windows-1258" */
    SHEET_W_UNKNOWN_COLUMN,         /* a header we do not know; the column is ignored */
    SHEET_W_EXTRA_SHEETS,           /* XLSX with several sheets: only the first is read */
    SHEET_W_TITLE_ROWS,             /* rows above the header row were skipped */
    SHEET_W_CELLS_BEYOND_HEADER,    /* values in columns that have no header */
    SHEET_W__COUNT
} sheet_warn_kind;
#define SHEET_MAX_WARNINGS 32
typedef struct sheet_warning {
    sheet_warn_kind kind;
    char text[240]; /* Vietnamese, for people; never holds a cell value */
} sheet_warning;
typedef struct sheet_warnings {
    size_t n;
    size_t dropped; /* warnings past SHEET_MAX_WARNINGS */
    sheet_warning w[SHEET_MAX_WARNINGS];
} sheet_warnings;
/* Stable machine name: "encoding_converted", "unknown_column", … */
const char *sheet_warn_name(sheet_warn_kind k);
void sheet_warn_add(sheet_warnings *w, sheet_warn_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- reading ------------------------------------------------------------------------------- */
typedef struct sheet sheet; /* opaque; owns every cell string */

/* Read a whole file: XLSX when it starts with a zip signature, else CSV (an .xls or HTML
 * "spreadsheet" is refused by name). lim may be NULL (defaults). On success *out is a new
 * sheet (sheet_free). On failure returns -1, *out is NULL and err says why:
 *   CS_E_IMPORT_ENCODING_TCVN3 / _VNI / CS_E_IMPORT_ENCODING  legacy or unknown encoding
 *   CS_E_IMPORT_LIMIT   a limit passed (detail names it and the limit, in Vietnamese)
 *   CS_E_IMPORT_XLS     Excel 97-2003 or password-protected workbook
 *   CS_E_IMPORT_FORMAT  broken CSV quoting, broken zip/XML, not a spreadsheet (detail says)
 *   CS_E_IMPORT_EMPTY   no row with a value
 *   CS_E_NOMEM */
int sheet_read(const void *data, size_t len, const sheet_limits *lim, sheet **out, cs_error *err);
/* The same from a file (refuses files larger than lim->max_bytes before reading them). */
int sheet_read_file(const char *path, const sheet_limits *lim, sheet **out, cs_error *err);
void sheet_free(sheet *s);

sheet_format sheet_format_of(const sheet *s);
sheet_encoding sheet_encoding_of(const sheet *s); /* of the CSV bytes; UTF-8 for XLSX */
char sheet_separator(const sheet *s);             /* CSV: ',', ';' or '\t'; XLSX: 0 */
/* Rows are indexed in the whole file (0 = its first non-empty row). A whole sheet holds
 * [0, sheet_nrows); a window of a stream holds [sheet_first_row, sheet_nrows); accessors of a
 * row outside give 0 / "". */
size_t sheet_nrows(const sheet *s);
size_t sheet_first_row(const sheet *s);
unsigned sheet_row_no(const sheet *s, size_t i); /* row number as the user sees it */
unsigned sheet_ncells(const sheet *s, size_t i); /* trailing empty cells not counted */
/* Cell text, never NULL: "" for an empty cell or one beyond the row. Valid until sheet_free. */
const char *sheet_cell(const sheet *s, size_t i, unsigned col);
const sheet_warnings *sheet_warnings_of(const sheet *s);
/* 1 for an XLSX whose serial dates count from 1904 (old Mac Excel): add 1462 to a serial
 * before reading it in the usual 1900 system. */
int sheet_date1904(const sheet *s);

/* ---- streaming: files too large to hold (the 1,000,000-row import) -------------------------
 * The bytes come from src slice by slice (p and n: the next slice, valid until the next call;
 * n = 0 at the end; -1 with err on failure). CSV is never held whole: its encoding is detected
 * on the first 1 MiB (cut at a line end; the whole file when it is smaller) — a file that is
 * UTF-8 there and not later is refused (CS_E_IMPORT_ENCODING), Windows-1258 and UTF-16 are
 * converted as they come (NFC per line), then the separator and a "sep=" line on the first text,
 * then libcsv fills windows of `step` rows. XLSX is streamed too: a zip past the first MiB is
 * copied slice by slice to an unnamed temporary file ($TMPDIR, else /var/tmp) and read from
 * there, its shared strings held (lim->max_sst), its worksheet inflated and parsed 64 KiB at a
 * time into windows of `step` rows (the parser paused when one is full). Errors as sheet_read. */
typedef int (*sheet_source_fn)(void *arg, const unsigned char **p, size_t *n, cs_error *err);
typedef struct sheet_stream sheet_stream;
/* Rows with an index below skip are read (and checked against the limits) but not kept. */
int sheet_stream_open(sheet_source_fn src, void *arg, const sheet_limits *lim, size_t step,
                      size_t skip, sheet_stream **out, cs_error *err);
/* The next window: rows [base, base + step) of the file (fewer at the end); *out NULL when no
 * row is left. The window is the caller's (sheet_free) and stays valid after later calls. */
int sheet_stream_next(sheet_stream *st, sheet **out, cs_error *err);
/* Read to the end keeping no row: *nrows = rows in the whole file. The whole file is checked
 * (quoting, encoding, limits) as sheet_read would. */
int sheet_stream_count(sheet_stream *st, size_t *nrows, cs_error *err);
sheet_format sheet_stream_format(const sheet_stream *st);
sheet_encoding sheet_stream_encoding(const sheet_stream *st);
const sheet_warnings *sheet_stream_warnings(const sheet_stream *st);
void sheet_stream_free(sheet_stream *st);

/* ---- encodings ----------------------------------------------------------------------------- */
typedef struct sheet_enc_guess {
    sheet_encoding enc;
    /* plausibility of the bytes read as Vietnamese in each legacy encoding (Windows-1258 —
     * or Windows-1252 when the text is already Unicode —, TCVN3, VNI): +2 for a Vietnamese
     * letter where one can stand, negative for mid-word capitals, impossible vowel pairs,
     * stray symbols, foreign letters, bytes the encoding does not define */
    long score_cp, score_tcvn3, score_vni;
    size_t units; /* characters scored (those not plain ASCII) */
} sheet_enc_guess;

/* Which encoding are these bytes in? BOMs first (UTF-8, UTF-16), then UTF-16 without BOM
 * (NULs in every other byte), then strict UTF-8 (which is accepted unless every non-ASCII
 * character is one Windows-1252 has AND the text reads far better as TCVN3/VNI: text typed
 * with a legacy font and saved as "CSV UTF-8"), then the legacy heuristic: Windows-1258 when
 * it is confidently the best reading, TCVN3/VNI when one of them reads better than 1258,
 * otherwise SHEET_ENC_UNKNOWN. g (may be NULL) receives the scores. Pure and total. */
sheet_encoding sheet_detect_encoding(const void *data, size_t len, sheet_enc_guess *g);

/* The legacy heuristic alone, on bytes that are not UTF-8: returns SHEET_ENC_CP1258,
 * SHEET_ENC_TCVN3, SHEET_ENC_VNI or SHEET_ENC_UNKNOWN. */
sheet_encoding sheet_guess_legacy(const void *data, size_t len, sheet_enc_guess *g);

/* One UTF-8 text (a cell) typed with a legacy font, e.g. "NguyÔn V¨n An" (TCVN3) or
 * "Nguyeãn Vaên An" (VNI)? Returns SHEET_ENC_TCVN3 or SHEET_ENC_VNI when clearly so, else
 * SHEET_ENC_UTF8. Stricter than the whole-file test: short texts give little evidence. */
sheet_encoding sheet_text_legacy_font(const char *utf8);

/* Bytes in enc → UTF-8 in NFC (BOM dropped). enc must be UTF8, UTF8_BOM, UTF16LE/BE or CP1258
 * (iconv; glibc's CP1258 yields combining tone marks, composed here). New buffer (cs_free),
 * NUL-terminated, length in *outlen. -1 with err: CS_E_IMPORT_ENCODING for bytes invalid in
 * enc, CS_E_IMPORT_LIMIT past max_out bytes, CS_E_NOMEM. */
int sheet_to_utf8(const void *data, size_t len, sheet_encoding enc, size_t max_out, char **out,
                  size_t *outlen, cs_error *err);

/* ---- files we give back -------------------------------------------------------------------- */
#define SHEET_ERROR_COLUMN "Lỗi cần sửa"

/* One rejected row: its original cells and what to fix (Vietnamese, from
 * import_row_error_text). The pointers are borrowed for the duration of the call. */
typedef struct sheet_reject {
    unsigned row_no; /* in the original file (header = 1) */
    const char *const *cells;
    size_t ncells;
    const char *errors;
} sheet_reject;

/* Error file as CSV: UTF-8 with BOM (so Excel opens it as UTF-8), ',' separated, CRLF, the
 * original header plus SHEET_ERROR_COLUMN, one line per rejected row. Cells made only of
 * digits that start with 0 or have more than 15 digits (citizen IDs, phones) are written as
 * ="…" so Excel keeps them as text; the reader turns ="…" back into the digits. Appends to
 * out. -1 with err on CS_E_NOMEM / CS_E_IMPORT_LIMIT (out's cap). */
int sheet_errors_csv(const char *const *header, size_t nheader, const sheet_reject *rows,
                     size_t nrows, cs_buf *out, cs_error *err);
/* The rejected rows alone (no BOM, no header), for an error file written page by page. */
int sheet_errors_csv_rows(size_t nheader, const sheet_reject *rows, size_t nrows, cs_buf *out,
                          cs_error *err);
/* Error file as XLSX at path: same columns; header bold on grey and frozen, the error column
 * bold dark red on light red, every cell stored as text (so leading zeros survive), column
 * widths from the content. -1 with err (CS_E_INTERNAL naming libxlsxwriter's error). */
int sheet_errors_xlsx(const char *const *header, size_t nheader, const sheet_reject *rows,
                      size_t nrows, const char *path, cs_error *err);
/* The same page by page (libxlsxwriter's constant-memory mode: rows go to disk as written):
 * begin with the header, the widest row's cell count (ncols) and the first rows as a sample for
 * the column widths; rows any number of times; end closes the file (also after a failure,
 * returning -1; the file is then removed). */
typedef struct sheet_errx sheet_errx;
int sheet_errors_xlsx_begin(sheet_errx **out, const char *path, const char *const *header,
                            size_t nheader, size_t ncols, const sheet_reject *sample,
                            size_t nsample, cs_error *err);
int sheet_errors_xlsx_rows(sheet_errx *x, const sheet_reject *rows, size_t nrows, cs_error *err);
int sheet_errors_xlsx_end(sheet_errx *x, cs_error *err);
#endif
