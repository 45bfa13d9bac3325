/* jobs/import_rows: from a sheet's rows to normalised household / product values with
 * per-field errors — the header mapping (data: schemas/data/import_columns.csv) and the
 * repair-or-refuse rules for spreadsheet damage. Pure: no database; reference lists
 * (communes, categories) are passed in. Validation that needs the database or the business
 * rules (age limits, duplicates) belongs to core/households and the import job.
 *
 * Typical use (the import job):
 *   import_columns *cols; import_columns_load("schemas/data/import_columns.csv", &cols, &err);
 *   sheet *s;             sheet_read(bytes, len, NULL, &s, &err);
 *   import_map m;         import_map_header(cols, IMPORT_HOUSEHOLDS, s, &m, &err);
 *   sheet_row_result r;   sheet_row_result_init(&r);
 *   for (size_t i = m.first_data; i < sheet_nrows(s); i++)
 *       if (import_row_normalize(&m, s, i, &ctx, &r) == 0) write(import_row_value(&r, …));
 *       else if (r.err.code == CS_E_VALIDATION) reject(r.row_no, r.err);   // else: OOM
 *   sheet_row_result_free(&r);
 */
#ifndef JOB_IMPORT_ROWS_H
#define JOB_IMPORT_ROWS_H
#include "core/buf.h"
#include "core/errors.h"
#include "core/vn.h"
#include "jobs/sheet.h"
#include <stdint.h>

typedef enum import_kind { IMPORT_HOUSEHOLDS = 0, IMPORT_PRODUCTS = 1 } import_kind;
const char *import_kind_name(import_kind k); /* "households" / "products" */

/* The canonical fields (the `field` column of import_columns.csv). */
typedef enum import_field {
    /* households */
    IMPORT_F_OWNER_NAME = 0,
    IMPORT_F_CCCD,
    IMPORT_F_PHONE,
    IMPORT_F_BIRTH_DATE,
    IMPORT_F_COMMUNE_CODE,
    IMPORT_F_COMMUNE_NAME,
    IMPORT_F_ADDRESS,
    IMPORT_F_BUSINESS_NAME,
    IMPORT_F_BUSINESS_REG_NO,
    IMPORT_F_TAX_CODE,
    IMPORT_F_HAS_EPAYMENT,
    IMPORT_F_CONSENT,
    /* products */
    IMPORT_F_HOUSEHOLD_CODE,
    IMPORT_F_OWNER_CCCD,
    IMPORT_F_NAME,
    IMPORT_F_DESCRIPTION,
    IMPORT_F_CATEGORY,
    IMPORT_F_PRICE,
    IMPORT_F_STOCK,
    IMPORT_F_WEIGHT_G,
    IMPORT_F_LENGTH_MM,
    IMPORT_F_WIDTH_MM,
    IMPORT_F_HEIGHT_MM,
    IMPORT_F_OCOP_STARS,
    IMPORT_F_FLAGSHIP,
    IMPORT_F__COUNT
} import_field;
const char *import_field_name(import_field f);         /* "owner_name", … */
import_field import_field_from_name(const char *name); /* IMPORT_F__COUNT when unknown */
import_kind import_field_kind(import_field f);

/* ---- the column table (schemas/data/import_columns.csv) ------------------------------------ */
typedef struct import_column_spec {
    import_kind kind;
    import_field field;
    int required;       /* 1: the column must exist and each row must have a value */
    char group[24];     /* "commune": one of the group's columns is required; "" otherwise */
    const char *header; /* the first accepted header: the Vietnamese one used in templates */
    const char *sample; /* sample value for the template ("" when none) */
    const char *help;   /* one-line explanation for the template's guide sheet */
    size_t nsyn;
    const char *const *syn; /* every accepted header, as written in the file */
} import_column_spec;
typedef struct import_columns import_columns;

/* Read the column table. Refuses (CS_E_CONFIG with the line named) unknown kinds or fields,
 * a field listed twice, and two fields of one kind sharing a header after folding. */
int import_columns_load(const char *path, import_columns **out, cs_error *err);
int import_columns_parse(const void *data, size_t len, import_columns **out, cs_error *err);
void import_columns_free(import_columns *c);
size_t import_columns_count(const import_columns *c, import_kind k);
const import_column_spec *import_columns_at(const import_columns *c, import_kind k, size_t i);
const import_column_spec *import_columns_find(const import_columns *c, import_field f);

/* The key headers are compared by: vn_fold (no diacritics, lower case), then every run of
 * characters other than ASCII letters and digits becomes one space, trimmed. "Mã xã/phường",
 * "MA_XA_PHUONG" and "mã  xã - phường *" all give "ma xa phuong". Writes at most outsz-1.
 * Returns 0, or -1 when folding ran out of memory (out then has the ASCII letters only). */
int import_header_key(const char *header, char *out, size_t outsz);

/* ---- mapping one file's header ------------------------------------------------------------- */
typedef struct import_map {
    import_kind kind;
    size_t header_index; /* sheet row index of the header row */
    size_t first_data;   /* header_index + 1: the first data row index */
    unsigned header_row_no;
    unsigned ncols;                      /* cells in the header row */
    int col_of[IMPORT_F__COUNT];         /* sheet column of each field, -1 when absent */
    char header_of[IMPORT_F__COUNT][64]; /* the user's header text (cut whole characters) */
    int date1904;
    sheet_warnings warnings; /* unknown columns, skipped title rows, cells beyond the header */
} import_map;

/* Find the header row (row 1, or the first of the first 10 rows that names the most known
 * columns — sheets often carry a title above), map its columns to fields and check the
 * required ones. Column order is free. Silently ignored columns: "STT"/"TT" (row counters)
 * and SHEET_ERROR_COLUMN (so a corrected error file uploads as is). Returns 0 or -1 with:
 *   CS_E_IMPORT_MISSING_COLUMNS  detail "Thiếu cột: Họ và tên chủ hộ; Số CCCD; Mã xã/phường
 *                                hoặc Tên xã/phường", plus one CS_F_REQUIRED field error each
 *   CS_E_IMPORT_DUPLICATE_COLUMN detail names the header and both column letters
 *   CS_E_IMPORT_EMPTY            a header but no data row */
int import_map_header(const import_columns *cols, import_kind kind, const sheet *s, import_map *m,
                      cs_error *err);
/* "A", "B", … "AA": the column letter a user sees. out ≥ 4 bytes. */
void import_col_letter(unsigned col, char *out, size_t outsz);

/* ---- reference lists (communes, categories) ------------------------------------------------ */
typedef struct import_ref {
    const char *code;
    const char *name;
    const char *note; /* communes: former district names; categories: English name; may be NULL */
} import_ref;
typedef struct import_reflist import_reflist;
#define IMPORT_REF_MATCH_NOTE 1 /* a name may also match the note (categories' English name) */
#define IMPORT_REF_STRIP_KIND 2 /* "Xã", "Phường", "Thị trấn", "P.", "X." may be left out */

/* A list with folded look-up keys (strings copied). -1 with err (CS_E_NOMEM). */
int import_reflist_new(const import_ref *items, size_t n, int flags, import_reflist **out,
                       cs_error *err);
/* From a CSV/XLSX with a header row (e.g. schemas/data/thanhhoa_communes.csv with "code",
 * "name", "former_district_names"); note_col may be NULL. */
int import_reflist_load(const char *path, const char *code_col, const char *name_col,
                        const char *note_col, int flags, import_reflist **out, cs_error *err);
void import_reflist_free(import_reflist *l);
size_t import_reflist_count(const import_reflist *l);
const import_ref *import_reflist_at(const import_reflist *l, size_t i);
const import_ref *import_reflist_find_code(const import_reflist *l, const char *code);
/* By name, diacritics and case ignored; NULL when none, or when several match (*ambiguous
 * set to 1; -1 when out of memory; may be NULL). */
const import_ref *import_reflist_find_name(const import_reflist *l, const char *name,
                                           int *ambiguous);

/* ---- one row ------------------------------------------------------------------------------- */
typedef struct import_ctx {
    const import_reflist *communes;   /* NULL: codes only checked for form, names kept as text */
    const import_reflist *categories; /* NULL: the category is kept as written (cleaned) */
    vn_date today;                    /* for "not in the future"; {0} → vn_today() */
    /* pre-2025 communes/wards (commune_merges): code = old code, name = old name, note =
     * "=NNNNN New name" when merged whole into one new commune, else the candidates
     * "New name (NNNNN); …". NULL: old names are not recognised. */
    const import_reflist *former;
} import_ctx;

/* What was repaired in a row (bits of sheet_row_result.repairs). */
enum {
    IMPORT_FIX_PHONE_ZERO = 1 << 0,  /* phone had lost its leading 0 */
    IMPORT_FIX_CCCD_ZERO = 1 << 1,   /* citizen ID had lost its leading 0(s): see .c */
    IMPORT_FIX_DATE_SERIAL = 1 << 2, /* date was an Excel serial number */
    IMPORT_FIX_TEXT = 1 << 3,        /* NFD→NFC, extra spaces */
    IMPORT_FIX_EXCEL_TEXT = 1 << 4,  /* ="…" or a protective leading ' removed */
    IMPORT_FIX_NUMBER = 1 << 5,      /* "500.0", "0,5 kg", "150.000đ" read as whole numbers */
    IMPORT_FIX_OLD_COMMUNE = 1 << 6, /* a pre-2025 commune merged whole: the new one stored */
};

/* The normalised row. Text values are owned by the result (valid until the next normalize or
 * sheet_row_result_free); read them with import_row_value. Integers are -1 when absent. */
typedef struct sheet_row_result {
    import_kind kind;
    unsigned row_no;  /* as the user sees it */
    size_t row_index; /* sheet row index: the original cells for the error file */
    cs_error err;     /* CS_OK, CS_E_VALIDATION with field errors (field = the user's header
                       * text, message: cs_code_message(code, lang)), or CS_E_NOMEM */
    unsigned repairs; /* IMPORT_FIX_* */
    char former[200]; /* IMPORT_FIX_OLD_COMMUNE: "Phường Trường Thi → Phường Hạc Thành" */
    /* households */
    vn_date birth;
    int has_epayment, consent;
    /* products */
    int64_t price;
    long stock, weight_g, length_mm, width_mm, height_mm, ocop_stars;
    int flagship; /* 0, 1 (the old tick), 2: the cell names a flagship list entry (kept) */
    /* private */
    size_t voff_[IMPORT_F__COUNT];
    cs_buf store_;
} sheet_row_result;

void sheet_row_result_init(sheet_row_result *r);
void sheet_row_result_free(sheet_row_result *r);

/* Normalise data row i of s by map m. Returns 0 when the row is clean; -1 when r->err says
 * what is wrong: CS_E_VALIDATION (the row is rejected; one field error per bad cell) or
 * CS_E_NOMEM (stop: nothing is wrong with the row). Every value that could be read is set
 * even in a rejected row. Text values: NFC, trimmed, inner spaces collapsed (descriptions
 * keep their line breaks). Normalised forms: cccd 12 digits, phone "0XXXXXXXXX",
 * birth_date "yyyy-mm-dd", commune_code 5 digits (resolved from the name when
 * ctx->communes is given), category code (when ctx->categories is given), household_code
 * upper case, has_epayment/consent "1"/"0", flagship "1"/"0" or the list entry named,
 * numbers in decimal. */
int import_row_normalize(const import_map *m, const sheet *s, size_t i, const import_ctx *ctx,
                         sheet_row_result *r);
/* Normalised text of a field, or NULL when the cell was empty or its column absent. */
const char *import_row_value(const sheet_row_result *r, import_field f);

/* "Số CCCD: <message>; Ngày sinh: <message>" for the error file's last column (fields in
 * order, details in brackets). Appends to out; -1 on OOM/cap. */
int import_row_error_text(const cs_error *e, cs_lang lang, cs_buf *out);

/* The original cells of row i as an array for sheet_reject (cs_free the array; the strings
 * belong to the sheet). n = max(header cells, row cells). NULL on OOM. */
const char **import_row_cells(const sheet *s, size_t i, unsigned ncols, size_t *n);

/* ---- templates ----------------------------------------------------------------------------- */
/* template.csv: UTF-8 with BOM, the Vietnamese headers of kind and one sample row. */
int import_template_csv(const import_columns *cols, import_kind kind, cs_buf *out, cs_error *err);
/* template.xlsx at path: sheet 1 with the headers (required ones marked " *" and coloured),
 * the sample row, text-formatted columns and drop-down lists; sheet 2 "Hướng dẫn" explaining
 * each column, then every commune (code, name, former districts) from communes and, for
 * products, every category. communes/categories may be NULL (lists omitted). */
int import_template_xlsx(const import_columns *cols, import_kind kind,
                         const import_reflist *communes, const import_reflist *categories,
                         const char *path, cs_error *err);
#endif
