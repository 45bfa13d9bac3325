/* tests/bench/bench_import: the data side of scripts/bench-import. A benchmark helper, not a
 * test: it makes files and prints nothing but progress to stderr.
 *   bench_import gen N COMMUNES_FILE OUT.csv [SERIAL]
 *       N valid synthetic households (tests/support/timport) as a UTF-8 CSV with the template's
 *       Vietnamese headers; communes drawn from COMMUNES_FILE (one code a line, from admin_units).
 *   bench_import genxlsx N COMMUNES_FILE OUT.xlsx [SERIAL]
 *       the same rows as an .xlsx, written in libxlsxwriter's constant-memory mode (inline
 *       strings), or with BENCH_XLSX_SHARED=1 with a shared-strings table as Excel writes.
 *   bench_import seal IN.csv OUT.tsv
 *       the same rows exactly as the import stores them — normalised by jobs/import_rows and
 *       core/households, sealed and blind-indexed with core/crypto under the configured data key —
 *       as a tab-separated file for LOAD DATA LOCAL INFILE (binary columns escaped the way LOAD
 *       DATA reads them: \0 \t \n \\), columns in the order of households_load_columns below. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/mem.h"
#include "jobs/import_rows.h"
#include "jobs/sheet.h"
#include "tests/support/timport.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

static char codes[4096][8];
static const char *cv[4096];

/* The commune codes of communes_file into cv; their number, 0 on failure (said on stderr). */
static size_t load_communes(const char *communes_file)
{
    FILE *cf = fopen(communes_file, "r");
    if (!cf) {
        perror(communes_file);
        return 0;
    }
    size_t nc = 0;
    char line[64];
    while (nc < 4096 && fgets(line, sizeof line, cf)) {
        line[strcspn(line, "\r\n\t ")] = '\0';
        if (strlen(line) == 5) {
            memcpy(codes[nc], line, 6);
            cv[nc] = codes[nc];
            nc++;
        }
    }
    fclose(cf);
    if (!nc) fprintf(stderr, "bench_import: no commune codes in %s\n", communes_file);
    return nc;
}

/* The same rows as gen as an .xlsx (libxlsxwriter's constant-memory mode: one row in memory,
 * every cell an inline string; BENCH_XLSX_SHARED=1: shared strings, the whole sheet in the
 * generator's memory). */
static int gen_xlsx(size_t n, const char *communes_file, const char *out_path, unsigned serial)
{
    size_t nc = load_communes(communes_file);
    if (!nc) return 1;
    /* BENCH_XLSX_SHARED=1: text in the shared-strings table, as Excel writes it */
    const char *sh = getenv("BENCH_XLSX_SHARED");
    lxw_workbook_options o = {.constant_memory = sh && *sh == '1' ? LXW_FALSE : LXW_TRUE,
                              .tmpdir = NULL};
    lxw_workbook *wb = workbook_new_opt(out_path, &o);
    lxw_worksheet *ws = wb ? workbook_add_worksheet(wb, NULL) : NULL;
    if (!ws) {
        fprintf(stderr, "bench_import: cannot create %s\n", out_path);
        return 1;
    }
    for (int k = 0; k < TIMP__COLS; k++)
        worksheet_write_string(ws, 0, (lxw_col_t)k, timport_header[k], NULL);
    char cells[TIMP__COLS][TIMP_CELL];
    for (size_t i = 0; i < n; i++) {
        timport_row(i, serial, cv, nc, cells);
        for (int k = 0; k < TIMP__COLS; k++)
            if (cells[k][0])
                worksheet_write_string(ws, (lxw_row_t)(i + 1), (lxw_col_t)k, cells[k], NULL);
    }
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : 1;
}

static int gen(size_t n, const char *communes_file, const char *out_path, unsigned serial)
{
    size_t nc = load_communes(communes_file);
    if (!nc) return 1;
    FILE *f = fopen(out_path, "wb");
    if (!f) {
        perror(out_path);
        return 1;
    }
    cs_buf b;
    cs_buf_init(&b, (size_t)1 << 30);
    timport_csv_line(&b, timport_header, TIMP__COLS, ',');
    char cells[TIMP__COLS][TIMP_CELL];
    const char *cp[TIMP__COLS];
    for (size_t i = 0; i < n; i++) {
        timport_row(i, serial, cv, nc, cells);
        for (int k = 0; k < TIMP__COLS; k++)
            cp[k] = cells[k];
        if (timport_csv_line(&b, cp, TIMP__COLS, ',')) {
            fprintf(stderr, "bench_import: out of memory\n");
            return 1;
        }
    }
    int rc = fwrite(b.data, 1, b.len, f) == b.len ? 0 : 1;
    cs_buf_free(&b);
    if (fclose(f)) rc = 1;
    return rc;
}

/* LOAD DATA's escaping (FIELDS TERMINATED BY '\t' ESCAPED BY '\\'). */
static void put_esc(FILE *f, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case 0:
            fputs("\\0", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        default:
            fputc(s[i], f);
        }
    }
}

static void put_str(FILE *f, const char *s, int last)
{
    if (s)
        put_esc(f, s, strlen(s));
    else
        fputs("\\N", f);
    fputc(last ? '\n' : '\t', f);
}

static void put_sealed(FILE *f, const char *plain, const char *aad)
{
    unsigned char *out = NULL;
    size_t n = 0;
    if (!plain) {
        fputs("\\N\t", f);
        return;
    }
    if (cs_seal(plain, strlen(plain), aad, &out, &n)) {
        fprintf(stderr, "bench_import: seal failed\n");
        exit(1);
    }
    put_esc(f, out, n);
    fputc('\t', f);
    cs_free(out);
}

static void put_bidx(FILE *f, const char *domain, const char *v)
{
    unsigned char b[32];
    if (cs_blind_index(domain, v, b)) {
        fprintf(stderr, "bench_import: blind index failed\n");
        exit(1);
    }
    put_esc(f, b, 32);
    fputc('\t', f);
}

static int seal(const char *in_path, const char *out_path)
{
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_load(NULL, &err) || cs_crypto_init(cs_cfg_str("crypto.key_file"), &err)) {
        fprintf(stderr, "bench_import: %s %s\n", cs_code_name(err.code), err.detail);
        return 1;
    }
    char colpath[1024];
    snprintf(colpath, sizeof colpath, "%s/data/import_columns.csv", cs_cfg_str("schema.dir"));
    import_columns *cols = NULL;
    sheet *s = NULL;
    import_map m;
    /* this helper holds the whole sheet (it only makes LOAD DATA's input): limits far past the
       1,000,000 rows the import itself streams */
    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_bytes = (size_t)1 << 30;
    lim.max_rows = 2000000;
    lim.max_cells = 100000000;
    if (import_columns_load(colpath, &cols, &err) || sheet_read_file(in_path, &lim, &s, &err) ||
        import_map_header(cols, IMPORT_HOUSEHOLDS, s, &m, &err)) {
        fprintf(stderr, "bench_import: %s %s\n", cs_code_name(err.code), err.detail);
        return 1;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f) {
        perror(out_path);
        return 1;
    }
    sheet_row_result r;
    sheet_row_result_init(&r);
    size_t written = 0;
    for (size_t i = m.first_data; i < sheet_nrows(s); i++) {
        if (import_row_normalize(&m, s, i, NULL, &r)) {
            fprintf(stderr, "bench_import: row %u is not valid\n", r.row_no);
            return 1;
        }
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:s?,s:b,s:b}", "owner_name",
                              import_row_value(&r, IMPORT_F_OWNER_NAME), "cccd",
                              import_row_value(&r, IMPORT_F_CCCD), "phone",
                              import_row_value(&r, IMPORT_F_PHONE), "birth_date",
                              import_row_value(&r, IMPORT_F_BIRTH_DATE), "commune_code",
                              import_row_value(&r, IMPORT_F_COMMUNE_CODE), "address",
                              import_row_value(&r, IMPORT_F_ADDRESS), "business_name",
                              import_row_value(&r, IMPORT_F_BUSINESS_NAME), "has_epayment",
                              r.has_epayment == 1, "consent", 1);
        cs_household_norm n;
        cs_error_clear(&err);
        if (!o || cs_household_validate(o, 0, &n, &err)) {
            fprintf(stderr, "bench_import: row %u refused: %s\n", r.row_no, cs_code_name(err.code));
            return 1;
        }
        json_decref(o);
        char code[24], date[11], num[16];
        snprintf(code, sizeof code, "TH-2026-%05zu", written + 1);
        vn_date_iso(n.birth, date);
        unsigned char hash[32];
        cs_household_content_hash(&n, hash);
        put_str(f, code, 0);
        put_str(f, n.owner_name, 0);
        put_str(f, n.name_folded, 0);
        put_str(f, n.business_name, 0);
        put_str(f, n.commune_code, 0);
        put_sealed(f, n.cccd, "households.cccd");
        put_bidx(f, "cccd", n.cccd);
        put_sealed(f, n.phone, "households.phone");
        put_bidx(f, "phone", n.phone);
        put_sealed(f, date, "households.birth_date");
        put_sealed(f, n.address, "households.address");
        snprintf(num, sizeof num, "%d", n.owner_age);
        put_str(f, num, 0);
        put_str(f, n.youth_led ? "1" : "0", 0);
        put_str(f, n.business_reg_no, 0);
        put_str(f, n.tax_code, 0);
        put_str(f, n.has_epayment ? "1" : "0", 0);
        put_str(f, "2026-01-01 00:00:00", 0);
        put_str(f, n.consent_version, 0);
        put_str(f, "cli:import", 0);
        put_esc(f, hash, 32);
        fputc('\t', f);
        put_str(f, "cli:import", 0);
        put_str(f, NULL, 1);
        cs_household_norm_free(&n);
        written++;
    }
    sheet_row_result_free(&r);
    sheet_free(s);
    import_columns_free(cols);
    if (fclose(f)) return 1;
    fprintf(stderr, "bench_import: %zu sealed rows in %s\n", written, out_path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && (!strcmp(argv[1], "gen") || !strcmp(argv[1], "genxlsx"))) {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 10);
        if (*end || n == 0 || n > 1000000) {
            fprintf(stderr, "bench_import gen: N must be 1..1000000\n");
            return 64;
        }
        unsigned serial = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 1;
        return argv[1][3] == 'x' ? gen_xlsx(n, argv[3], argv[4], serial)
                                 : gen(n, argv[3], argv[4], serial);
    }
    if (argc == 4 && !strcmp(argv[1], "seal")) return seal(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_import gen N COMMUNES_FILE OUT.csv [SERIAL]\n"
                    "       bench_import genxlsx N COMMUNES_FILE OUT.xlsx [SERIAL]\n"
                    "       bench_import seal IN.csv OUT.tsv\n");
    return 64;
}
