/* tests/unit/test_sheet: the spreadsheet layer of the batch import — CSV and XLSX reading,
 * encodings (Windows-1258 converted, TCVN3/VNI refused by name), header mapping, every
 * spreadsheet-damage rule, error files and templates read back. No database. */
#include "core/mem.h"
#include "core/vn.h"
#include "jobs/import_rows.h"
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"
#include "tests/support/tsup.h"
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unzip.h>
#include <xlsxwriter.h>
#include <zip.h>
#include <cmocka.h>

static char *tmp;                  /* this binary's temp dir */
static import_columns *cols;       /* schemas/data/import_columns.csv */
static import_reflist *communes;   /* schemas/data/thanhhoa_communes.csv */
static import_reflist *categories; /* schemas/data/categories.csv */

static void data_path(char *out, size_t n, const char *file)
{
    const char *dir = getenv("CHOSO_SCHEMA_DIR");
    snprintf(out, n, "%s/data/%s", dir && *dir ? dir : "schemas", file);
}

static void fixture_path(char *out, size_t n, const char *file)
{
    const char *dir = getenv("CHOSO_SCHEMA_DIR");
    if (dir && *dir)
        snprintf(out, n, "%s/../tests/data/import/%s", dir, file);
    else
        snprintf(out, n, "tests/data/import/%s", file);
}

static void tmp_path(char *out, size_t n, const char *file)
{
    snprintf(out, n, "%s/%s", tmp, file);
}

static int setup(void **state)
{
    (void)state;
    char p[512];
    cs_error err;
    cs_error_clear(&err);
    tmp = tsup_tmpdir("sheet");
    data_path(p, sizeof p, "import_columns.csv");
    if (import_columns_load(p, &cols, &err)) {
        fprintf(stderr, "import_columns: %s %s\n", cs_code_name(err.code), err.detail);
        return -1;
    }
    data_path(p, sizeof p, "thanhhoa_communes.csv");
    if (import_reflist_load(p, "code", "name", "former_district_names", IMPORT_REF_STRIP_KIND,
                            &communes, &err))
        return -1;
    data_path(p, sizeof p, "categories.csv");
    if (import_reflist_load(p, "code", "name_vi", "name_en", IMPORT_REF_MATCH_NOTE, &categories,
                            &err))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    import_columns_free(cols);
    import_reflist_free(communes);
    import_reflist_free(categories);
    tsup_rm_rf(tmp);
    cs_free(tmp);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static sheet *must_read(const void *p, size_t n)
{
    sheet *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sheet_read(p, n, NULL, &s, &err))
        fail_msg("sheet_read: %s %s", cs_code_name(err.code), err.detail);
    return s;
}

static sheet *must_read_file(const char *path)
{
    sheet *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sheet_read_file(path, NULL, &s, &err))
        fail_msg("sheet_read_file %s: %s %s", path, cs_code_name(err.code), err.detail);
    return s;
}

/* Reading must fail; returns the code (err filled). */
static cs_code read_fails(const void *p, size_t n, const sheet_limits *lim, cs_error *err)
{
    sheet *s = NULL;
    cs_error_clear(err);
    int rc = sheet_read(p, n, lim, &s, err);
    assert_int_equal(rc, -1);
    assert_null(s);
    return err->code;
}

static char *iconv_to(const char *to, const char *utf8, size_t *outlen)
{
    iconv_t cd = iconv_open(to, "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t inleft = strlen(utf8), cap = inleft * 4 + 16, oleft = cap;
    char *out = cs_malloc(cap), *in = (char *)utf8, *o = out;
    assert_non_null(out);
    assert_true(iconv(cd, &in, &inleft, &o, &oleft) != (size_t)-1);
    iconv_close(cd);
    *outlen = cap - oleft;
    return out;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    cs_buf b;
    cs_buf_init(&b, 0);
    char t[4096];
    size_t k;
    while ((k = fread(t, 1, sizeof t, f)) > 0)
        assert_int_equal(cs_buf_append(&b, t, k), 0);
    fclose(f);
    *n = b.len;
    return cs_buf_steal(&b);
}

static void map_ok(const sheet *s, import_kind kind, import_map *m)
{
    cs_error err;
    if (import_map_header(cols, kind, s, m, &err))
        fail_msg("map: %s %s", cs_code_name(err.code), err.detail);
}

/* The code of the field error named by header, or CS_OK. */
static cs_code field_code(const sheet_row_result *r, const char *header)
{
    for (size_t i = 0; i < r->err.nfields; i++)
        if (!strcmp(r->err.fields[i].field, header)) return r->err.fields[i].code;
    return CS_OK;
}

static int has_warning(const sheet_warnings *w, sheet_warn_kind k, const char *needle)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->w[i].kind == k && (!needle || strstr(w->w[i].text, needle))) return 1;
    return 0;
}

static import_ctx ctx_all(void)
{
    import_ctx c = {.communes = communes, .categories = categories, .today = {2025, 11, 28}};
    return c;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

static void test_csv_bom_and_no_bom(void **state)
{
    (void)state;
    const char *body = "Họ và tên chủ hộ,Số CCCD\nNguyễn Văn An,038095012345\n";
    char with_bom[256];
    snprintf(with_bom, sizeof with_bom, "\xEF\xBB\xBF%s", body);
    sheet *a = must_read(body, strlen(body)), *b = must_read(with_bom, strlen(with_bom));
    assert_int_equal(sheet_encoding_of(a), SHEET_ENC_UTF8);
    assert_int_equal(sheet_encoding_of(b), SHEET_ENC_UTF8_BOM);
    assert_int_equal(sheet_format_of(b), SHEET_FMT_CSV);
    assert_string_equal(sheet_format_name(sheet_format_of(b)), "csv");
    assert_int_equal(sheet_nrows(a), 2);
    assert_int_equal(sheet_nrows(b), 2);
    for (unsigned c = 0; c < 2; c++) {
        assert_string_equal(sheet_cell(a, 0, c), sheet_cell(b, 0, c));
        assert_string_equal(sheet_cell(a, 1, c), sheet_cell(b, 1, c));
    }
    /* the BOM is not part of the first header */
    assert_string_equal(sheet_cell(b, 0, 0), "Họ và tên chủ hộ");
    assert_string_equal(sheet_cell(b, 1, 1), "038095012345");
    assert_string_equal(sheet_cell(b, 1, 7), ""); /* beyond the row */
    assert_string_equal(sheet_cell(b, 9, 0), ""); /* beyond the sheet */
    sheet_free(a);
    sheet_free(b);
}

static void test_csv_semicolon_quotes_crlf(void **state)
{
    (void)state;
    /* ';' file (Excel in a locale with ',' as decimal point), a ',' inside a value, a quoted
     * field with a CRLF inside, a doubled quote, a blank line (still a row in Excel) */
    const char *csv = "Họ và tên chủ hộ;Địa chỉ;Giá (đồng)\r\n"
                      "Lê Thị Bé;\"Thôn 3\r\nxã Quảng Phú\";150,5\r\n"
                      "\r\n"
                      "\"Cơ sở \"\"Hoa\"\"\";số 5, phố Lê Lợi;12\r\n";
    sheet *s = must_read(csv, strlen(csv));
    assert_int_equal(sheet_separator(s), ';');
    assert_int_equal(sheet_nrows(s), 3);
    assert_int_equal(sheet_row_no(s, 0), 1);
    assert_int_equal(sheet_row_no(s, 1), 2);
    assert_int_equal(sheet_row_no(s, 2), 4); /* the blank line was row 3 */
    assert_string_equal(sheet_cell(s, 1, 1), "Thôn 3\r\nxã Quảng Phú");
    assert_string_equal(sheet_cell(s, 1, 2), "150,5");
    assert_string_equal(sheet_cell(s, 2, 0), "Cơ sở \"Hoa\"");
    assert_string_equal(sheet_cell(s, 2, 1), "số 5, phố Lê Lợi");
    sheet_free(s);

    /* the same in ',' with LF endings: separator found outside quotes */
    const char *csv2 = "\"Họ và tên; chủ hộ\",Địa chỉ\n\"a;b;c\",x\n";
    s = must_read(csv2, strlen(csv2));
    assert_int_equal(sheet_separator(s), ',');
    assert_string_equal(sheet_cell(s, 0, 0), "Họ và tên; chủ hộ");
    assert_string_equal(sheet_cell(s, 1, 0), "a;b;c");
    sheet_free(s);
}

static void test_csv_sep_hint_tab_and_trailing(void **state)
{
    (void)state;
    const char *csv = "sep=;\r\nA;B\r\n1;2\r\n";
    sheet *s = must_read(csv, strlen(csv));
    assert_int_equal(sheet_separator(s), ';');
    assert_int_equal(sheet_row_no(s, 0), 1); /* the hint is not a row */
    assert_string_equal(sheet_cell(s, 1, 1), "2");
    sheet_free(s);

    const char *tsv = "A\tB\tC\n x \t\t3\n";
    s = must_read(tsv, strlen(tsv));
    assert_int_equal(sheet_separator(s), '\t');
    assert_string_equal(sheet_cell(s, 1, 1), "");
    assert_string_equal(sheet_cell(s, 1, 2), "3");
    sheet_free(s);

    /* trailing empty cells are not counted; a last line without a newline is read */
    const char *csv3 = "A,B,C,,\n1,,,,\n2,3";
    s = must_read(csv3, strlen(csv3));
    assert_int_equal(sheet_ncells(s, 0), 3);
    assert_int_equal(sheet_ncells(s, 1), 1);
    assert_int_equal(sheet_nrows(s), 3);
    assert_string_equal(sheet_cell(s, 2, 1), "3");
    sheet_free(s);
}

static void test_csv_utf16(void **state)
{
    (void)state;
    /* Excel's "Unicode Text": UTF-16LE with a BOM, tab separated */
    size_t n = 0;
    char *u =
        iconv_to("UTF-16LE", "Họ và tên chủ hộ\tSố CCCD\r\nNguyễn Văn An\t038095012345\r\n", &n);
    char *b = cs_malloc(n + 2);
    assert_non_null(b);
    b[0] = (char)0xFF;
    b[1] = (char)0xFE;
    memcpy(b + 2, u, n);
    sheet *s = must_read(b, n + 2);
    assert_int_equal(sheet_encoding_of(s), SHEET_ENC_UTF16LE);
    assert_int_equal(sheet_separator(s), '\t');
    assert_string_equal(sheet_cell(s, 1, 0), "Nguyễn Văn An");
    sheet_free(s);
    /* and without the BOM */
    s = must_read(u, n);
    assert_int_equal(sheet_encoding_of(s), SHEET_ENC_UTF16LE);
    assert_string_equal(sheet_cell(s, 0, 1), "Số CCCD");
    sheet_free(s);
    cs_free(u);
    cs_free(b);
}

static void test_csv_broken_and_limits(void **state)
{
    (void)state;
    cs_error err;
    const char *open_quote = "A,B\n1,2\n3,\"never closed\n4,5\n";
    assert_int_equal(read_fails(open_quote, strlen(open_quote), NULL, &err), CS_E_IMPORT_FORMAT);
    assert_non_null(strstr(err.detail, "dòng 3"));

    assert_int_equal(read_fails("", 0, NULL, &err), CS_E_IMPORT_EMPTY);
    assert_int_equal(read_fails(" \r\n,,\r\n", 7, NULL, &err), CS_E_IMPORT_EMPTY);
    assert_int_equal(read_fails("A,B\n1\0002\n", 8, NULL, &err), CS_E_IMPORT_FORMAT);

    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_rows = 3;
    const char *four = "A\n1\n2\n3\n";
    assert_int_equal(read_fails(four, strlen(four), &lim, &err), CS_E_IMPORT_LIMIT);
    assert_non_null(strstr(err.detail, "3 dòng"));
    sheet_limits_default(&lim);
    lim.max_cols = 3;
    assert_int_equal(read_fails("A,B,C,D\n", 8, &lim, &err), CS_E_IMPORT_LIMIT);
    sheet *s = must_read("A,B,C,,,,\n", 10); /* empty cells past the limit do not count */
    sheet_free(s);
    sheet_limits_default(&lim);
    lim.max_cell = 10;
    assert_int_equal(read_fails("A,0123456789A\n", 14, &lim, &err), CS_E_IMPORT_LIMIT);
    /* an unclosed quote swallowing a big file stops at the cell limit, not at the end */
    cs_buf big;
    cs_buf_init(&big, 0);
    assert_int_equal(cs_buf_puts(&big, "A,\""), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(cs_buf_puts(&big, "xxxxxxxx\n"), 0);
    lim.max_cell = 1000;
    assert_int_equal(read_fails(big.data, big.len, &lim, &err), CS_E_IMPORT_LIMIT);
    cs_buf_free(&big);
    sheet_limits_default(&lim);
    lim.max_bytes = 5;
    assert_int_equal(read_fails("A,B,C\n", 6, &lim, &err), CS_E_IMPORT_LIMIT);
    sheet_limits_default(&lim);
    lim.max_cells = 4;
    assert_int_equal(read_fails("A,B\n1,2\n3,4\n", 12, &lim, &err), CS_E_IMPORT_LIMIT);
}

static void test_not_a_spreadsheet(void **state)
{
    (void)state;
    cs_error err;
    const unsigned char ole[16] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1,
                                   0,    0,    0,    0,    0,    0,    0,    0};
    assert_int_equal(read_fails(ole, sizeof ole, NULL, &err), CS_E_IMPORT_XLS);
    const char *html = "  <html><table><tr><td>Họ tên</td></tr></table></html>";
    assert_int_equal(read_fails(html, strlen(html), NULL, &err), CS_E_IMPORT_FORMAT);
    assert_int_equal(read_fails("%PDF-1.4 xxx", 12, NULL, &err), CS_E_IMPORT_FORMAT);
    /* a zip that is not a workbook, and a truncated one */
    assert_int_equal(read_fails("PK\003\004garbage", 11, NULL, &err), CS_E_IMPORT_FORMAT);
}

/* ---- encodings ----------------------------------------------------------------------------- */

static const char *const VI_ROWS = "Họ và tên chủ hộ,Địa chỉ,Ngày sinh\r\n"
                                   "Nguyễn Văn An,thôn Đông Hòa xã Quảng Phú,15/03/1995\r\n"
                                   "Trần Thị Thu Hương,phố Lê Lợi phường Hạc Thành,01/01/1996\r\n"
                                   "Lê Đức Thắng,xóm Trung xã Hoằng Hóa,20/10/1997\r\n";

static void test_cp1258_converted_to_nfc(void **state)
{
    (void)state;
    size_t n = 0;
    char *b = iconv_to("CP1258", VI_ROWS, &n);
    /* glibc writes ễ as ê + combining tilde (EA DE): real Windows-1258 bytes */
    assert_non_null(memmem(b, n, "Nguy\xEA\xDEn", 6));
    sheet_enc_guess g;
    assert_int_equal(sheet_detect_encoding(b, n, &g), SHEET_ENC_CP1258);
    assert_true(g.score_cp > g.score_tcvn3 && g.score_cp > g.score_vni);
    sheet *s = must_read(b, n);
    assert_int_equal(sheet_encoding_of(s), SHEET_ENC_CP1258);
    assert_string_equal(sheet_encoding_name(sheet_encoding_of(s)), "windows-1258");
    /* NFC: the precomposed letters, byte for byte what the UTF-8 source had */
    assert_string_equal(sheet_cell(s, 1, 0), "Nguyễn Văn An");
    assert_string_equal(sheet_cell(s, 2, 0), "Trần Thị Thu Hương");
    assert_string_equal(sheet_cell(s, 3, 1), "xóm Trung xã Hoằng Hóa");
    const sheet_warnings *w = sheet_warnings_of(s);
    assert_true(has_warning(w, SHEET_W_ENCODING_CONVERTED, "đã chuyển từ Windows-1258"));
    assert_string_equal(sheet_warn_name(SHEET_W_ENCODING_CONVERTED), "encoding_converted");
    sheet_free(s);
    cs_free(b);
}

static void test_tcvn3_refused_by_name(void **state)
{
    (void)state;
    char p[512];
    size_t n;
    fixture_path(p, sizeof p, "households_tcvn3.csv");
    char *b = slurp(p, &n);
    assert_non_null(memmem(b, n, "Nguy\xD4n", 6));
    cs_error err;
    assert_int_equal(read_fails(b, n, NULL, &err), CS_E_IMPORT_ENCODING_TCVN3);
    assert_non_null(strstr(cs_code_message(err.code, CS_LANG_VI), "TCVN3"));
    assert_non_null(strstr(cs_code_message(err.code, CS_LANG_VI), "Unikey"));
    cs_free(b);
    /* the bytes of the brief's example: 4E 67 75 79 D4 6E = "Nguyễn" */
    sheet_enc_guess g;
    const char nguyen[] = "Nguy\xD4n V\xA8n An";
    assert_int_equal(sheet_guess_legacy(nguyen, strlen(nguyen), &g), SHEET_ENC_TCVN3);
    assert_true(g.score_tcvn3 > 0 && g.score_cp < 0);
}

static void test_vni_refused_by_name(void **state)
{
    (void)state;
    char p[512];
    size_t n;
    fixture_path(p, sizeof p, "households_vni.csv");
    char *b = slurp(p, &n);
    assert_non_null(memmem(b, n, "Nguye\xE3n", 7));
    cs_error err;
    assert_int_equal(read_fails(b, n, NULL, &err), CS_E_IMPORT_ENCODING_VNI);
    assert_non_null(strstr(cs_code_message(err.code, CS_LANG_VI), "VNI"));
    cs_free(b);
    sheet_enc_guess g;
    const char v[] = "Nguye\xE3n Va\xEAn An, Tra\xE0n Th\xF2 Thu H\xF6\xF4ng";
    assert_int_equal(sheet_guess_legacy(v, strlen(v), &g), SHEET_ENC_VNI);
    assert_true(g.score_vni > g.score_cp && g.score_vni > g.score_tcvn3);
}

static void test_unknown_encoding_never_mojibake(void **state)
{
    (void)state;
    cs_error err;
    /* Latin-1 with letters Vietnamese never uses, and too little evidence either way */
    const char *latin = "Name,City\nJ\xFCrgen M\xFCller,K\xF6ln\n";
    assert_int_equal(read_fails(latin, strlen(latin), NULL, &err), CS_E_IMPORT_ENCODING);
    const char *two = "A\nL\xEA B\xE9\n"; /* "Lê Bé" in 1258 is also "Lờ Bộ" in TCVN3 */
    assert_int_equal(read_fails(two, strlen(two), NULL, &err), CS_E_IMPORT_ENCODING);
    /* random high bytes */
    unsigned char junk[64];
    for (unsigned i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(0x80 + (i * 37) % 128);
    assert_int_equal(read_fails(junk, sizeof junk, NULL, &err), CS_E_IMPORT_ENCODING);
    /* a BOM followed by bytes that are not UTF-8 */
    assert_int_equal(read_fails("\xEF\xBB\xBF"
                                "A\n\xE9\n",
                                7, NULL, &err),
                     CS_E_IMPORT_ENCODING);
    assert_string_equal(sheet_encoding_name(SHEET_ENC_UNKNOWN), "unknown");
}

static void test_legacy_font_inside_utf8(void **state)
{
    (void)state;
    /* TCVN3 text typed in Excel with .VnTime and saved as "CSV UTF-8": valid UTF-8 */
    const char *f = "Hä tªn,§Þa chØ\nNguyÔn V¨n An,x· Qu¶ng Phó\nTrÇn ThÞ Hµ,th«n §«ng\n";
    cs_error err;
    assert_int_equal(read_fails(f, strlen(f), NULL, &err), CS_E_IMPORT_ENCODING_TCVN3);
    assert_int_equal(sheet_text_legacy_font("NguyÔn V¨n An"), SHEET_ENC_TCVN3);
    assert_int_equal(sheet_text_legacy_font("Nguyeãn Vaên An"), SHEET_ENC_VNI);
    /* real Unicode and Latin-only names stay */
    assert_int_equal(sheet_text_legacy_font("Nguyễn Văn An"), SHEET_ENC_UTF8);
    assert_int_equal(sheet_text_legacy_font("Lê Bé Tú"), SHEET_ENC_UTF8);
    assert_int_equal(sheet_text_legacy_font("José"), SHEET_ENC_UTF8);
    assert_int_equal(sheet_text_legacy_font("Cơ sở nem chua"), SHEET_ENC_UTF8);
}

static void test_to_utf8(void **state)
{
    (void)state;
    char *out = NULL;
    size_t n = 0;
    cs_error err;
    assert_int_equal(sheet_to_utf8("\xEF\xBB\xBFxin", 6, SHEET_ENC_UTF8_BOM, 100, &out, &n, &err),
                     0);
    assert_string_equal(out, "xin");
    cs_free(out);
    assert_int_equal(sheet_to_utf8("Nguy\xEA\xDEn", 7, SHEET_ENC_CP1258, 100, &out, &n, &err), 0);
    assert_string_equal(out, "Nguyễn");
    assert_int_equal(n, strlen("Nguyễn"));
    cs_free(out);
    assert_int_equal(sheet_to_utf8("Nguy\xEA\xDEn", 7, SHEET_ENC_CP1258, 3, &out, &n, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
    assert_int_equal(sheet_to_utf8("x", 1, SHEET_ENC_TCVN3, 100, &out, &n, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_ENCODING);
    assert_int_equal(sheet_to_utf8("\x81", 1, SHEET_ENC_CP1258, 100, &out, &n, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_ENCODING);
}

/* ---- XLSX ---------------------------------------------------------------------------------- */

static void write_test_xlsx(const char *path, int constant_memory)
{
    lxw_workbook_options opt = {.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Danh sách");
    lxw_worksheet *other = workbook_add_worksheet(wb, "Khác");
    lxw_format *datef = workbook_add_format(wb);
    format_set_num_format(datef, "dd/mm/yyyy");
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    /* row 1: a title; row 2: headers (column C left empty: a gap) */
    worksheet_write_string(ws, 0, 0, "DANH SÁCH HỘ KINH DOANH XÃ QUẢNG PHÚ", NULL);
    const char *h[] = {"STT",           "Họ và tên chủ hộ", NULL,           "Số CCCD",
                       "Số điện thoại", "Ngày sinh",        "Mã xã/phường", "Đồng ý"};
    for (int c = 0; c < 8; c++)
        if (h[c]) worksheet_write_string(ws, 1, (lxw_col_t)c, h[c], NULL);
    /* row 3: numbers as Excel keeps them — the CCCD and the phone lost their leading zero */
    worksheet_write_number(ws, 2, 0, 1, NULL);
    worksheet_write_string(ws, 2, 1, "Nguyễn Văn An", NULL);
    worksheet_write_number(ws, 2, 3, 38095012345.0, NULL);
    worksheet_write_number(ws, 2, 4, 912345678, NULL);
    lxw_datetime dt = {1995, 3, 15, 0, 0, 0};
    worksheet_write_datetime(ws, 2, 5, &dt, datef);
    worksheet_write_number(ws, 2, 6, 14797, NULL);
    worksheet_write_boolean(ws, 2, 7, 1, NULL);
    /* row 4 empty; row 5: text cells, a rich string, a long number */
    worksheet_write_number(ws, 4, 0, 2, NULL);
    if (!constant_memory) {
        lxw_rich_string_tuple f1 = {.format = bold, .string = "Lê "};
        lxw_rich_string_tuple f2 = {.format = NULL, .string = "Thị Bé"};
        lxw_rich_string_tuple *rich[] = {&f1, &f2, NULL};
        assert_int_equal(worksheet_write_rich_string(ws, 4, 1, rich, NULL), LXW_NO_ERROR);
    } else {
        worksheet_write_string(ws, 4, 1, "Lê Thị Bé", NULL);
    }
    worksheet_write_string(ws, 4, 3, "038196001234", NULL);
    worksheet_write_number(ws, 4, 4, 380000000000.0, NULL); /* shows as 3.8E+11 */
    worksheet_write_string(ws, 4, 5, "01/01/1996", NULL);
    worksheet_write_string(ws, 4, 6, "14797", NULL);
    worksheet_write_string(ws, 4, 7, "x", NULL);
    worksheet_write_string(other, 0, 0, "not read", NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static void check_test_xlsx(sheet *s, int rich)
{
    assert_int_equal(sheet_format_of(s), SHEET_FMT_XLSX);
    assert_int_equal(sheet_separator(s), 0);
    assert_int_equal(sheet_nrows(s), 4);
    assert_int_equal(sheet_row_no(s, 0), 1);
    assert_int_equal(sheet_row_no(s, 1), 2);
    assert_int_equal(sheet_row_no(s, 2), 3);
    assert_int_equal(sheet_row_no(s, 3), 5); /* the empty row 4 keeps its number */
    assert_string_equal(sheet_cell(s, 1, 1), "Họ và tên chủ hộ");
    assert_string_equal(sheet_cell(s, 1, 2), ""); /* the gap */
    assert_string_equal(sheet_cell(s, 1, 3), "Số CCCD");
    assert_string_equal(sheet_cell(s, 2, 3), "38095012345");
    assert_string_equal(sheet_cell(s, 2, 4), "912345678");
    assert_string_equal(sheet_cell(s, 2, 5), "34773"); /* 15/03/1995 as Excel stores it */
    assert_string_equal(sheet_cell(s, 2, 7), "1");
    assert_string_equal(sheet_cell(s, 3, 1), "Lê Thị Bé");
    assert_string_equal(sheet_cell(s, 3, 4), "380000000000");
    (void)rich;
    assert_true(has_warning(sheet_warnings_of(s), SHEET_W_EXTRA_SHEETS, "Danh sách"));
}

static void test_xlsx_read(void **state)
{
    (void)state;
    char p[512];
    tmp_path(p, sizeof p, "read.xlsx");
    write_test_xlsx(p, 0); /* shared strings */
    sheet *s = must_read_file(p);
    check_test_xlsx(s, 1);

    /* mapped and normalised: title row skipped, STT ignored, every repair applied */
    import_map m;
    map_ok(s, IMPORT_HOUSEHOLDS, &m);
    assert_int_equal(m.header_index, 1);
    assert_int_equal(m.header_row_no, 2);
    assert_true(has_warning(&m.warnings, SHEET_W_TITLE_ROWS, NULL));
    assert_false(has_warning(&m.warnings, SHEET_W_UNKNOWN_COLUMN, NULL)); /* STT is not unknown */
    import_ctx ctx = ctx_all();
    sheet_row_result r;
    sheet_row_result_init(&r);
    assert_int_equal(import_row_normalize(&m, s, 2, &ctx, &r), 0);
    assert_int_equal(r.row_no, 3);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038095012345");
    assert_string_equal(import_row_value(&r, IMPORT_F_PHONE), "0912345678");
    assert_string_equal(import_row_value(&r, IMPORT_F_BIRTH_DATE), "1995-03-15");
    assert_string_equal(import_row_value(&r, IMPORT_F_CONSENT), "1");
    assert_true(r.repairs & IMPORT_FIX_CCCD_ZERO);
    assert_true(r.repairs & IMPORT_FIX_PHONE_ZERO);
    assert_true(r.repairs & IMPORT_FIX_DATE_SERIAL);
    /* row 5: the phone became 3.8E+11 */
    assert_int_equal(import_row_normalize(&m, s, 3, &ctx, &r), -1);
    assert_int_equal(r.row_no, 5);
    assert_int_equal(field_code(&r, "Số điện thoại"), CS_F_PHONE_INVALID);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038196001234");
    sheet_row_result_free(&r);
    sheet_free(s);

    tmp_path(p, sizeof p, "inline.xlsx");
    write_test_xlsx(p, 1); /* inline strings */
    s = must_read_file(p);
    check_test_xlsx(s, 0);
    sheet_free(s);
}

/* A zip with the given parts, written with minizip's zip.h. */
static void write_zip(const char *path, const char *const *names, const char *const *bodies,
                      size_t n)
{
    zipFile z = zipOpen(path, APPEND_STATUS_CREATE);
    assert_non_null(z);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(
            zipOpenNewFileInZip(z, names[i], NULL, NULL, 0, NULL, 0, NULL, Z_DEFLATED, 9), ZIP_OK);
        assert_int_equal(zipWriteInFileInZip(z, bodies[i], (unsigned)strlen(bodies[i])), ZIP_OK);
        assert_int_equal(zipCloseFileInZip(z), ZIP_OK);
    }
    assert_int_equal(zipClose(z, NULL), ZIP_OK);
}

static void test_xlsx_hostile(void **state)
{
    (void)state;
    char p[512];
    cs_error err;
    sheet *s = NULL;
    const char *ns = "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"";
    char sheet_xml[512];

    /* no workbook part: the usual sheet1 is read; inline strings, _x000D_ escapes, a cell
     * reference far to the right within the limit */
    snprintf(sheet_xml, sizeof sheet_xml,
             "<worksheet %s><sheetData><row r=\"1\"><c r=\"A1\" "
             "t=\"inlineStr\"><is><t>a_x000D_b</t></is></c>"
             "<c r=\"E1\" t=\"inlineStr\"><is><t>e</t></is></c></row></sheetData></worksheet>",
             ns);
    const char *n1[] = {"xl/worksheets/sheet1.xml"};
    const char *b1[] = {sheet_xml};
    tmp_path(p, sizeof p, "bare.xlsx");
    write_zip(p, n1, b1, 1);
    s = must_read_file(p);
    assert_string_equal(sheet_cell(s, 0, 0), "a\rb");
    assert_string_equal(sheet_cell(s, 0, 4), "e");
    assert_int_equal(sheet_ncells(s, 0), 5);
    sheet_free(s);

    /* a DOCTYPE (entity expansion tricks) is refused */
    snprintf(sheet_xml, sizeof sheet_xml,
             "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><worksheet "
             "%s><sheetData/></worksheet>",
             ns);
    tmp_path(p, sizeof p, "doctype.xlsx");
    write_zip(p, n1, b1, 1);
    cs_error_clear(&err);
    assert_int_equal(sheet_read_file(p, NULL, &s, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_FORMAT);
    assert_non_null(strstr(err.detail, "DOCTYPE"));

    /* a shared-string index out of range, broken XML */
    snprintf(sheet_xml, sizeof sheet_xml,
             "<worksheet %s><sheetData><row r=\"1\"><c r=\"A1\" "
             "t=\"s\"><v>7</v></c></row></sheetData></worksheet>",
             ns);
    tmp_path(p, sizeof p, "sst.xlsx");
    write_zip(p, n1, b1, 1);
    assert_int_equal(sheet_read_file(p, NULL, &s, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_FORMAT);
    snprintf(sheet_xml, sizeof sheet_xml, "<worksheet %s><sheetData><row><c>", ns);
    tmp_path(p, sizeof p, "broken.xlsx");
    write_zip(p, n1, b1, 1);
    assert_int_equal(sheet_read_file(p, NULL, &s, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_FORMAT);

    /* a zip bomb: 4 MiB of XML that deflates to a few KiB, against a 1 MiB budget */
    cs_buf big;
    cs_buf_init(&big, 0);
    assert_int_equal(cs_buf_printf(&big, "<worksheet %s><sheetData>", ns), 0);
    while (big.len < (4u << 20))
        assert_int_equal(cs_buf_puts(&big, "<row/>                                  "), 0);
    assert_int_equal(cs_buf_puts(&big, "</sheetData></worksheet>"), 0);
    const char *b2[] = {big.data};
    tmp_path(p, sizeof p, "bomb.xlsx");
    write_zip(p, n1, b2, 1);
    cs_buf_free(&big);
    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_unzipped = 1u << 20;
    assert_int_equal(sheet_read_file(p, &lim, &s, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
    /* a value at column 200 is refused with the default 100 columns; a cell ref past XFD too */
    snprintf(sheet_xml, sizeof sheet_xml,
             "<worksheet %s><sheetData><row r=\"1\"><c "
             "r=\"GR1\"><v>1</v></c></row></sheetData></worksheet>",
             ns);
    tmp_path(p, sizeof p, "wide.xlsx");
    write_zip(p, n1, b1, 1);
    assert_int_equal(sheet_read_file(p, NULL, &s, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
    snprintf(sheet_xml, sizeof sheet_xml,
             "<worksheet %s><sheetData><row r=\"1\"><c "
             "r=\"ZZZZ1\"><v>1</v></c></row></sheetData></worksheet>",
             ns);
    write_zip(p, n1, b1, 1);
    assert_int_equal(sheet_read_file(p, NULL, &s, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_FORMAT);
}

/* A workbook as other producers write it: the main part found through _rels/.rels at a
 * non-standard path, a hidden first sheet, a target with "/" and "..", shared strings with
 * rich runs and a phonetic run, and the 1904 date system of old Mac Excel. */
static void test_xlsx_package_paths_and_1904(void **state)
{
    (void)state;
    const char *M = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const char *R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    char rels[512], wb[768], wbrels[1024], sst[512], data[1536];
    snprintf(
        rels, sizeof rels,
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"%s/officeDocument\" "
        "Target=\"xl/wb.xml\"/></Relationships>",
        R);
    snprintf(wb, sizeof wb,
             "<workbook xmlns=\"%s\" xmlns:r=\"%s\"><workbookPr date1904=\"1\"/><sheets>"
             "<sheet name=\"Ẩn\" sheetId=\"1\" state=\"hidden\" r:id=\"rId1\"/>"
             "<sheet name=\"Hộ\" sheetId=\"2\" r:id=\"rId2\"/></sheets></workbook>",
             M, R);
    snprintf(
        wbrels, sizeof wbrels,
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"%s/worksheet\" Target=\"worksheets/hidden.xml\"/>"
        "<Relationship Id=\"rId2\" Type=\"%s/worksheet\" "
        "Target=\"/xl/worksheets/../worksheets/data.xml\"/>"
        "<Relationship Id=\"rId3\" Type=\"%s/sharedStrings\" "
        "Target=\"strings.xml\"/></Relationships>",
        R, R, R);
    snprintf(
        sst, sizeof sst,
        "<sst xmlns=\"%s\"><si><t>Họ và tên chủ hộ</t></si><si><r><t xml:space=\"preserve\">Nguyễn "
        "</t></r><r><rPr><b/></rPr><t>Văn An</t></r><rPh sb=\"0\" "
        "eb=\"1\"><t>phonetic</t></rPh></si></sst>",
        M);
    snprintf(
        data, sizeof data,
        "<worksheet xmlns=\"%s\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
        "<c r=\"B1\" t=\"inlineStr\"><is><t>Số CCCD</t></is></c><c r=\"C1\" "
        "t=\"inlineStr\"><is><t>Số điện "
        "thoại</t></is></c><c r=\"D1\" t=\"inlineStr\"><is><t>Ngày sinh</t></is></c><c r=\"E1\" "
        "t=\"inlineStr\"><is><t>Mã xã/phường</t></is></c><c r=\"F1\" t=\"inlineStr\"><is><t>Đồng "
        "ý</t></is></c></row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c><c r=\"B2\" "
        "t=\"str\"><f>\"0\"&amp;\"38095012345\"</f><v>038095012345</v></c><c r=\"C2\" "
        "t=\"inlineStr\"><is><t>0912345678</t></is></c>"
        "<c r=\"D2\" s=\"1\"><v>33311</v></c><c r=\"E2\"><v>14797</v></c><c r=\"F2\" "
        "t=\"b\"><v>1</v></c></row>"
        "</sheetData></worksheet>",
        M);
    char hidden[256];
    snprintf(hidden, sizeof hidden,
             "<worksheet xmlns=\"%s\"><sheetData><row r=\"1\"><c r=\"A1\" "
             "t=\"inlineStr\"><is><t>hidden</t></is></c></row></sheetData></worksheet>",
             M);
    const char *names[] = {"_rels/.rels",
                           "xl/wb.xml",
                           "xl/_rels/wb.xml.rels",
                           "xl/strings.xml",
                           "xl/worksheets/data.xml",
                           "xl/worksheets/hidden.xml"};
    const char *bodies[] = {rels, wb, wbrels, sst, data, hidden};
    char p[512];
    tmp_path(p, sizeof p, "package.xlsx");
    write_zip(p, names, bodies, 6);
    sheet *s = must_read_file(p);
    assert_int_equal(sheet_date1904(s), 1);
    assert_int_equal(sheet_nrows(s), 2);
    assert_string_equal(sheet_cell(s, 0, 0), "Họ và tên chủ hộ");
    assert_string_equal(sheet_cell(s, 1, 0), "Nguyễn Văn An"); /* runs joined, phonetic dropped */
    assert_string_equal(sheet_cell(s, 1, 1), "038095012345");  /* a formula's cached text */
    assert_string_equal(sheet_cell(s, 1, 5), "1");
    assert_true(has_warning(sheet_warnings_of(s), SHEET_W_EXTRA_SHEETS, "\"Hộ\""));
    import_map m;
    map_ok(s, IMPORT_HOUSEHOLDS, &m);
    assert_int_equal(m.date1904, 1);
    import_ctx ctx = ctx_all();
    sheet_row_result r;
    sheet_row_result_init(&r);
    assert_int_equal(import_row_normalize(&m, s, 1, &ctx, &r), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_BIRTH_DATE), "1995-03-15"); /* 33311 + 1462 */
    sheet_row_result_free(&r);
    sheet_free(s);
}

/* ---- header mapping ------------------------------------------------------------------------ */

static void test_header_synonyms(void **state)
{
    (void)state;
    char key[128];
    assert_int_equal(import_header_key("Mã xã/phường", key, sizeof key), 0);
    assert_string_equal(key, "ma xa phuong");
    import_header_key("MA_XA_PHUONG", key, sizeof key);
    assert_string_equal(key, "ma xa phuong");
    import_header_key("  mã  xã - phường * ", key, sizeof key);
    assert_string_equal(key, "ma xa phuong");

    /* any order, any case, with or without diacritics, English, a note in brackets, STT and
     * an unknown column */
    const char *csv =
        "stt,HO VA TEN CHU HO,so_dien_thoai,Citizen ID,ngay sinh,Ghi chú,Mã Xã,đồng ý (có/không)\n"
        "1,Nguyễn Văn An,0912345678,038095012345,15/03/1995,khách quen,14797,có\n";
    sheet *s = must_read(csv, strlen(csv));
    import_map m;
    map_ok(s, IMPORT_HOUSEHOLDS, &m);
    assert_int_equal(m.col_of[IMPORT_F_OWNER_NAME], 1);
    assert_int_equal(m.col_of[IMPORT_F_PHONE], 2);
    assert_int_equal(m.col_of[IMPORT_F_CCCD], 3);
    assert_int_equal(m.col_of[IMPORT_F_BIRTH_DATE], 4);
    assert_int_equal(m.col_of[IMPORT_F_COMMUNE_CODE], 6);
    assert_int_equal(m.col_of[IMPORT_F_CONSENT], 7);
    assert_int_equal(m.col_of[IMPORT_F_ADDRESS], -1);
    assert_string_equal(m.header_of[IMPORT_F_PHONE], "so_dien_thoai");
    assert_true(has_warning(&m.warnings, SHEET_W_UNKNOWN_COLUMN, "Ghi chú"));
    assert_true(has_warning(&m.warnings, SHEET_W_UNKNOWN_COLUMN, "Cột F"));
    assert_int_equal(m.warnings.n, 1); /* stt is not reported */
    import_ctx ctx = ctx_all();
    sheet_row_result r;
    sheet_row_result_init(&r);
    assert_int_equal(import_row_normalize(&m, s, 1, &ctx, &r), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_OWNER_NAME), "Nguyễn Văn An");
    sheet_row_result_free(&r);
    sheet_free(s);

    /* products: "Giá (VNĐ)" finds price through the bracket-free key */
    const char *pcsv = "Tên sản phẩm,Giá (VNĐ),Khối lượng,Ngành hàng,Mã hộ\nNem,150000,500,Bánh "
                       "kẹo,TH-2025-00001\n";
    s = must_read(pcsv, strlen(pcsv));
    map_ok(s, IMPORT_PRODUCTS, &m);
    assert_int_equal(m.col_of[IMPORT_F_PRICE], 1);
    sheet_free(s);

    char letter[8];
    import_col_letter(0, letter, sizeof letter);
    assert_string_equal(letter, "A");
    import_col_letter(27, letter, sizeof letter);
    assert_string_equal(letter, "AB");
    import_col_letter(16383, letter, sizeof letter);
    assert_string_equal(letter, "XFD");
}

static void test_header_missing_and_duplicate(void **state)
{
    (void)state;
    cs_error err;
    import_map m;
    const char *csv = "Họ và tên chủ hộ,Số điện thoại,Địa chỉ\nAn,0912345678,x\n";
    sheet *s = must_read(csv, strlen(csv));
    assert_int_equal(import_map_header(cols, IMPORT_HOUSEHOLDS, s, &m, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_MISSING_COLUMNS);
    /* named in Vietnamese, the commune group as one item */
    assert_non_null(strstr(err.detail, "Số CCCD"));
    assert_non_null(strstr(err.detail, "Ngày sinh"));
    assert_non_null(strstr(err.detail, "Mã xã/phường hoặc Tên xã/phường"));
    assert_non_null(strstr(err.detail, "Đồng ý xử lý dữ liệu"));
    assert_null(strstr(err.detail, "Họ và tên chủ hộ"));
    assert_int_equal(err.nfields, 4);
    assert_int_equal(err.fields[0].code, CS_F_REQUIRED);
    sheet_free(s);

    const char *dup = "Họ và tên chủ hộ,Số CCCD,CCCD\nAn,1,2\n";
    s = must_read(dup, strlen(dup));
    assert_int_equal(import_map_header(cols, IMPORT_HOUSEHOLDS, s, &m, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_DUPLICATE_COLUMN);
    assert_non_null(strstr(err.detail, "cột B và cột C"));
    sheet_free(s);

    const char *only = "Họ và tên chủ hộ,Số CCCD,Số điện thoại,Ngày sinh,Tên xã/phường,Đồng ý\n";
    s = must_read(only, strlen(only));
    assert_int_equal(import_map_header(cols, IMPORT_HOUSEHOLDS, s, &m, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_EMPTY);
    sheet_free(s);

    /* values under no header: a warning */
    const char *beyond = "Họ và tên chủ hộ,Số CCCD,Số điện thoại,Ngày sinh,Tên xã/phường,Đồng ý\n"
                         "An,038095012345,0912345678,15/03/1995,Hạc Thành,có,thừa\n";
    s = must_read(beyond, strlen(beyond));
    map_ok(s, IMPORT_HOUSEHOLDS, &m);
    assert_true(has_warning(&m.warnings, SHEET_W_CELLS_BEYOND_HEADER, "cột G"));
    sheet_free(s);
}

static void test_columns_table(void **state)
{
    (void)state;
    /* every field of each kind is in the shipped table, with a help text and a header */
    for (unsigned f = 0; f < IMPORT_F__COUNT; f++) {
        const import_column_spec *sp = import_columns_find(cols, (import_field)f);
        assert_non_null(sp);
        assert_int_equal(sp->kind, import_field_kind((import_field)f));
        assert_true(sp->help[0] && sp->header[0] && sp->nsyn >= 2);
        assert_int_equal(import_field_from_name(import_field_name((import_field)f)), f);
    }
    assert_int_equal(import_columns_count(cols, IMPORT_HOUSEHOLDS), 12);
    assert_int_equal(import_columns_count(cols, IMPORT_PRODUCTS), 13);
    assert_string_equal(import_columns_at(cols, IMPORT_HOUSEHOLDS, 0)->header, "Họ và tên chủ hộ");
    /* a table where two fields answer to one header is refused */
    const char *bad = "kind,field,required,group,headers,sample,help_vi\n"
                      "households,owner_name,yes,,Họ tên|Tên,,x\n"
                      "households,business_name,no,,Tên cơ sở|TEN,,x\n";
    import_columns *c = NULL;
    cs_error err;
    assert_int_equal(import_columns_parse(bad, strlen(bad), &c, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
    assert_null(c);
    const char *bad2 =
        "kind,field,required,group,headers,sample,help_vi\nhouseholds,price,yes,,Giá,,x\n";
    assert_int_equal(import_columns_parse(bad2, strlen(bad2), &c, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
}

/* ---- the damage rules ---------------------------------------------------------------------- */

/* One household row with the given cells (owner, cccd, phone, birth, commune code, commune
 * name, consent, epayment); returns the normalize result code. */
static int hh_row(sheet_row_result *r, const char *name, const char *cccd, const char *phone,
                  const char *birth, const char *code, const char *cname, const char *consent,
                  const char *epay)
{
    cs_buf b;
    cs_buf_init(&b, 0);
    assert_int_equal(
        cs_buf_puts(&b, "Họ và tên chủ hộ;Số CCCD;Số điện thoại;Ngày sinh;Mã xã/phường;Tên "
                        "xã/phường;Đồng ý xử lý dữ liệu;Có tài khoản thanh toán điện tử\n"),
        0);
    assert_int_equal(cs_buf_printf(&b, "%s;\"%s\";%s;%s;%s;%s;%s;%s\n", name, cccd, phone, birth,
                                   code, cname, consent, epay),
                     0);
    sheet *s = must_read(b.data, b.len);
    cs_buf_free(&b);
    import_map m;
    map_ok(s, IMPORT_HOUSEHOLDS, &m);
    import_ctx ctx = ctx_all();
    int rc = import_row_normalize(&m, s, 1, &ctx, r);
    sheet_free(s);
    return rc;
}

static void test_damage_cccd(void **state)
{
    (void)state;
    sheet_row_result r;
    sheet_row_result_init(&r);
    const char *B = "15/03/1995";
    /* scientific notation: refused, the digits are gone */
    assert_int_equal(hh_row(&r, "An", "3.8E+11", "0912345678", B, "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_SCIENTIFIC);
    assert_int_equal(hh_row(&r, "An", "3,80950E+11", "0912345678", B, "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_SCIENTIFIC);
    /* 11 digits, province 038 and birth year 1995 agree: repaired */
    assert_int_equal(hh_row(&r, "An", "38095012345", "0912345678", B, "14797", "", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038095012345");
    assert_true(r.repairs & IMPORT_FIX_CCCD_ZERO);
    /* …but not when the birth year disagrees, or the province does not exist, or there is no
     * birth date to check against */
    assert_int_equal(
        hh_row(&r, "An", "38095012345", "0912345678", "15/03/1996", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_LOST_ZERO);
    assert_int_equal(hh_row(&r, "An", "99095012345", "0912345678", B, "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_LOST_ZERO);
    assert_int_equal(hh_row(&r, "An", "38095012345", "0912345678", "", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_LOST_ZERO);
    assert_int_equal(field_code(&r, "Ngày sinh"), CS_F_REQUIRED);
    /* a typo (a digit lost in the middle) fails the birth-year check */
    assert_int_equal(hh_row(&r, "An", "38950123451", "0912345678", B, "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_LOST_ZERO);
    /* two zeros lost (Hà Nội 001…): repaired the same way */
    assert_int_equal(hh_row(&r, "An", "1095012345", "0912345678", B, "14797", "", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "001095012345");
    /* float formatting and our own ="…" protection */
    assert_int_equal(hh_row(&r, "An", "38095012345.0", "0912345678", B, "14797", "", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038095012345");
    assert_true(r.repairs & IMPORT_FIX_NUMBER);
    assert_int_equal(
        hh_row(&r, "An", "=\"\"038095012345\"\"", "0912345678", B, "14797", "", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038095012345");
    assert_true(r.repairs & IMPORT_FIX_EXCEL_TEXT);
    assert_int_equal(hh_row(&r, "An", "038 095 012 345", "0912345678", B, "14797", "", "có", ""),
                     0);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038095012345");
    /* 12 digits with the wrong birth year, and a 12-digit bad province */
    assert_int_equal(
        hh_row(&r, "An", "038095012345", "0912345678", "15/03/1996", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_BIRTH);
    assert_int_equal(hh_row(&r, "An", "099095012345", "0912345678", B, "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_CCCD_PROVINCE);
    assert_int_equal(hh_row(&r, "An", "", "0912345678", B, "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số CCCD"), CS_F_REQUIRED);
    sheet_row_result_free(&r);
}

static void test_damage_phone_dates_text(void **state)
{
    (void)state;
    sheet_row_result r;
    sheet_row_result_init(&r);
    const char *C = "038095012345";
    /* phone lost its zero; +84; landline */
    assert_int_equal(hh_row(&r, "An", C, "912345678", "15/03/1995", "14797", "", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_PHONE), "0912345678");
    assert_true(r.repairs & IMPORT_FIX_PHONE_ZERO);
    assert_int_equal(hh_row(&r, "An", C, "+84 912 345 678", "15/03/1995", "14797", "", "có", ""),
                     0);
    assert_false(r.repairs & IMPORT_FIX_PHONE_ZERO);
    assert_int_equal(hh_row(&r, "An", C, "0237 3852 123", "15/03/1995", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Số điện thoại"), CS_F_PHONE_LANDLINE);

    /* every date shape people and spreadsheets write */
    static const char *const dates[] = {
        "15/03/1995",          "15/3/95", "1995-03-15",         "34773", "15-03-1995", "15.03.1995",
        "1995-03-15 00:00:00", "34773.0", "1995-03-15T00:00:00"};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        assert_int_equal(hh_row(&r, "An", C, "0912345678", dates[i], "14797", "", "có", ""), 0);
        assert_string_equal(import_row_value(&r, IMPORT_F_BIRTH_DATE), "1995-03-15");
        assert_int_equal(r.birth.y, 1995);
    }
    assert_int_equal(hh_row(&r, "An", C, "0912345678", "1995", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Ngày sinh"), CS_F_DATE_INVALID);
    assert_int_equal(hh_row(&r, "An", C, "0912345678", "31/02/1995", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Ngày sinh"), CS_F_DATE_INVALID);
    assert_int_equal(
        hh_row(&r, "An", "038099012345", "0912345678", "01/01/2099", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Ngày sinh"), CS_F_DATE_FUTURE);

    /* spaces and NFD text: cleaned to NFC, single spaces */
    assert_int_equal(hh_row(&r, "  Nguye\xCC\x82\xCC\x83n   Va\xCC\x86n  An ", C, "0912345678",
                            "15/03/1995", "14797", "", "có", ""),
                     0);
    assert_string_equal(import_row_value(&r, IMPORT_F_OWNER_NAME), "Nguyễn Văn An");
    assert_true(r.repairs & IMPORT_FIX_TEXT);
    /* a name typed in a legacy font, and a name that is an ID (a shifted column) */
    assert_int_equal(
        hh_row(&r, "NguyÔn V¨n An", C, "0912345678", "15/03/1995", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Họ và tên chủ hộ"), CS_F_LEGACY_FONT);
    assert_int_equal(
        hh_row(&r, "038095012345", C, "0912345678", "15/03/1995", "14797", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Họ và tên chủ hộ"), CS_F_FORMAT);
    sheet_row_result_free(&r);
}

static void test_damage_commune_and_flags(void **state)
{
    (void)state;
    sheet_row_result r;
    sheet_row_result_init(&r);
    const char *C = "038095012345", *P = "0912345678", *B = "15/03/1995";
    /* a name alone resolves to its code, with or without "Phường", diacritics or case */
    assert_int_equal(hh_row(&r, "An", C, P, B, "", "phuong hac thanh", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_COMMUNE_CODE), "14797");
    assert_int_equal(hh_row(&r, "An", C, P, B, "", "Hạc Thành", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_COMMUNE_CODE), "14797");
    assert_int_equal(hh_row(&r, "An", C, P, B, "14797.0", "Phường Hạc Thành", "có", ""), 0);
    assert_int_equal(hh_row(&r, "An", C, P, B, "14797 - Phường Hạc Thành", "", "có", ""), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_COMMUNE_CODE), "14797");
    /* unknown code, unknown name, code and name that disagree, neither */
    assert_int_equal(hh_row(&r, "An", C, P, B, "99999", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Mã xã/phường"), CS_F_COMMUNE);
    assert_int_equal(hh_row(&r, "An", C, P, B, "", "Xã Không Có", "có", ""), -1);
    /* about the name, not a code the file may not have (issue 12) */
    assert_int_equal(field_code(&r, "Tên xã/phường"), CS_F_COMMUNE_NAME_UNKNOWN);
    assert_int_equal(hh_row(&r, "An", C, P, B, "14797", "Phường Quảng Phú", "có", ""), -1);
    assert_int_equal(field_code(&r, "Tên xã/phường"), CS_F_COMMUNE_MISMATCH);
    assert_int_equal(hh_row(&r, "An", C, P, B, "", "", "có", ""), -1);
    assert_int_equal(field_code(&r, "Mã xã/phường"), CS_F_REQUIRED);
    /* yes/no as people write them */
    static const struct {
        const char *in;
        int want;
    } yn[] = {{"có", 1},    {"Có", 1},    {"CO", 1}, {"x", 1}, {"yes", 1}, {"1", 1}, {"TRUE", 1},
              {"không", 0}, {"Khong", 0}, {"ko", 0}, {"0", 0}, {"no", 0},  {"", 0}};
    for (size_t i = 0; i < sizeof yn / sizeof yn[0]; i++) {
        assert_int_equal(hh_row(&r, "An", C, P, B, "14797", "", "có", yn[i].in), 0);
        assert_int_equal(r.has_epayment, yn[i].want);
        assert_string_equal(import_row_value(&r, IMPORT_F_HAS_EPAYMENT), yn[i].want ? "1" : "0");
    }
    assert_int_equal(hh_row(&r, "An", C, P, B, "14797", "", "có", "có lẽ"), -1);
    assert_int_equal(field_code(&r, "Có tài khoản thanh toán điện tử"), CS_F_YES_NO);
    /* consent: "không" is refused with its own reason, empty is required */
    assert_int_equal(hh_row(&r, "An", C, P, B, "14797", "", "không", ""), -1);
    assert_int_equal(field_code(&r, "Đồng ý xử lý dữ liệu"), CS_F_CONSENT);
    assert_int_equal(hh_row(&r, "An", C, P, B, "14797", "", "", ""), -1);
    assert_int_equal(field_code(&r, "Đồng ý xử lý dữ liệu"), CS_F_REQUIRED);
    /* several errors in one row, each named by the user's header, in Vietnamese */
    assert_int_equal(hh_row(&r, "", "3.8E+11", "12", "x", "", "", "có", ""), -1);
    assert_int_equal(r.err.code, CS_E_VALIDATION);
    assert_true(r.err.nfields >= 5);
    cs_buf t;
    cs_buf_init(&t, 0);
    assert_int_equal(import_row_error_text(&r.err, CS_LANG_VI, &t), 0);
    assert_non_null(strstr(t.data, "Số CCCD: Số CCCD bị bảng tính đổi thành dạng số mũ"));
    assert_non_null(strstr(t.data, "Họ và tên chủ hộ: Trường này bắt buộc"));
    cs_buf_free(&t);
    sheet_row_result_free(&r);
}

static void test_products_rows(void **state)
{
    (void)state;
    const char *csv =
        "Mã hộ,Số CCCD chủ hộ,Tên sản phẩm,Mô tả,Ngành hàng,Giá (đồng),Tồn kho,Khối lượng "
        "(gam),Dài (mm),Rộng "
        "(mm),Cao (mm),Số sao OCOP,Sản phẩm đặc trưng\n"
        "th-2025-00001,,Nem chua,\"Dòng 1  \n\n  dòng  2\",Món ăn chế biến sẵn,150.000đ,,\"0,5 "
        "kg\",20 cm,150,5 "
        "cm,★★★,có\n"
        ",038095012345,Bánh gai,,Cakes and confectionery,45000,100 hộp,5 lạng,,,,4 sao,\n"
        ",,Chè lam,,cake_confectionery,0,-5,abc,,,,6,\n"
        ",38095012345,Mắm,,Không có,1.5,,200,,,,,không\n";
    sheet *s = must_read(csv, strlen(csv));
    import_map m;
    map_ok(s, IMPORT_PRODUCTS, &m);
    import_ctx ctx = ctx_all();
    sheet_row_result r;
    sheet_row_result_init(&r);
    assert_int_equal(import_row_normalize(&m, s, 1, &ctx, &r), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_HOUSEHOLD_CODE), "TH-2025-00001");
    assert_string_equal(import_row_value(&r, IMPORT_F_DESCRIPTION), "Dòng 1\n\ndòng 2");
    assert_string_equal(import_row_value(&r, IMPORT_F_CATEGORY), "food_dish");
    assert_int_equal(r.price, 150000);
    assert_int_equal(r.stock, 0);
    assert_int_equal(r.weight_g, 500);
    assert_int_equal(r.length_mm, 200);
    assert_int_equal(r.width_mm, 150);
    assert_int_equal(r.height_mm, 50);
    assert_int_equal(r.ocop_stars, 3);
    assert_int_equal(r.flagship, 1);
    assert_null(import_row_value(&r, IMPORT_F_OWNER_CCCD));

    assert_int_equal(import_row_normalize(&m, s, 2, &ctx, &r), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_OWNER_CCCD), "038095012345");
    assert_string_equal(import_row_value(&r, IMPORT_F_CATEGORY),
                        "cake_confectionery"); /* English name */
    assert_int_equal(r.stock, 100);
    assert_int_equal(r.weight_g, 500);
    assert_int_equal(r.ocop_stars, 4);
    assert_int_equal(r.length_mm, -1);
    assert_int_equal(r.flagship, 0);

    assert_int_equal(import_row_normalize(&m, s, 3, &ctx, &r), -1);
    assert_int_equal(field_code(&r, "Mã hộ"), CS_F_REQUIRED);
    assert_int_equal(field_code(&r, "Giá (đồng)"), CS_F_PRICE);
    assert_int_equal(field_code(&r, "Tồn kho"), CS_F_FORMAT);
    assert_int_equal(field_code(&r, "Khối lượng (gam)"), CS_F_FORMAT);
    assert_int_equal(field_code(&r, "Số sao OCOP"), CS_F_RANGE);
    assert_string_equal(import_row_value(&r, IMPORT_F_CATEGORY), "cake_confectionery");

    /* an owner CCCD without a birth date cannot be repaired; unknown category; 1.5 đồng */
    assert_int_equal(import_row_normalize(&m, s, 4, &ctx, &r), -1);
    assert_int_equal(field_code(&r, "Số CCCD chủ hộ"), CS_F_CCCD_LOST_ZERO);
    assert_int_equal(field_code(&r, "Ngành hàng"), CS_F_CATEGORY);
    assert_int_equal(field_code(&r, "Giá (đồng)"), CS_F_PRICE);
    assert_int_equal(r.weight_g, 200);
    sheet_row_result_free(&r);
    sheet_free(s);

    /* without reference lists the category is kept as written */
    s = must_read(csv, strlen(csv));
    map_ok(s, IMPORT_PRODUCTS, &m);
    import_ctx bare = {.today = {2025, 11, 28}};
    sheet_row_result_init(&r);
    assert_int_equal(import_row_normalize(&m, s, 1, &bare, &r), 0);
    assert_string_equal(import_row_value(&r, IMPORT_F_CATEGORY), "Món ăn chế biến sẵn");
    sheet_row_result_free(&r);
    sheet_free(s);
}

static void test_reflist(void **state)
{
    (void)state;
    assert_int_equal(import_reflist_count(communes), 166);
    const import_ref *x = import_reflist_find_code(communes, "14797");
    assert_non_null(x);
    assert_string_equal(x->name, "Phường Hạc Thành");
    assert_ptr_equal(import_reflist_find_name(communes, "P. Hạc Thành", NULL), x);
    assert_ptr_equal(import_reflist_find_name(communes, "PHUONG HAC THANH", NULL), x);
    assert_null(import_reflist_find_name(communes, "Hà Nội", NULL));
    /* a name two units share without the kind word is ambiguous */
    const import_ref two[] = {{"1", "Xã Đông Sơn", NULL}, {"2", "Phường Đông Sơn", NULL}};
    import_reflist *l;
    cs_error err;
    assert_int_equal(import_reflist_new(two, 2, IMPORT_REF_STRIP_KIND, &l, &err), 0);
    int amb = 0;
    assert_null(import_reflist_find_name(l, "Đông Sơn", &amb));
    assert_int_equal(amb, 1);
    assert_string_equal(import_reflist_find_name(l, "xã đông sơn", &amb)->code, "1");
    assert_int_equal(amb, 0);
    import_reflist_free(l);
}

/* ---- error files --------------------------------------------------------------------------- */

/* Rows 2..4 of a households file, two of them bad; returns the sheet and fills the rejects. */
static const char *const REJ_CSV =
    "STT,Họ và tên chủ hộ,Số CCCD,Số điện thoại,Ngày sinh,Mã xã/phường,Đồng ý\n"
    "1,Nguyễn Văn An,038095012345,0912345678,15/03/1995,14797,có\n"
    "2,Lê Thị Bé,3.8E+11,0912345678,01/01/1996,14797,có\n"
    "3,\"Trần, Hà\",038196001234,12,01/01/1996,99999,không\n";

static void test_error_files(void **state)
{
    (void)state;
    sheet *s = must_read(REJ_CSV, strlen(REJ_CSV));
    import_map m;
    map_ok(s, IMPORT_HOUSEHOLDS, &m);
    import_ctx ctx = ctx_all();
    sheet_row_result r;
    sheet_row_result_init(&r);
    sheet_reject rej[3];
    const char **cells[3];
    cs_buf texts[3];
    size_t nrej = 0;
    for (size_t i = m.first_data; i < sheet_nrows(s); i++) {
        if (import_row_normalize(&m, s, i, &ctx, &r) == 0) continue;
        assert_int_equal(r.err.code, CS_E_VALIDATION);
        cs_buf_init(&texts[nrej], 0);
        assert_int_equal(import_row_error_text(&r.err, CS_LANG_VI, &texts[nrej]), 0);
        size_t n = 0;
        cells[nrej] = import_row_cells(s, i, m.ncols, &n);
        rej[nrej] = (sheet_reject){
            .row_no = r.row_no, .cells = cells[nrej], .ncells = n, .errors = texts[nrej].data};
        nrej++;
    }
    sheet_row_result_free(&r);
    assert_int_equal(nrej, 2);
    size_t nh = 0;
    const char **header = import_row_cells(s, m.header_index, m.ncols, &nh);

    /* CSV: BOM, the original header + "Lỗi cần sửa", cells as sent */
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_error err;
    assert_int_equal(sheet_errors_csv(header, nh, rej, nrej, &out, &err), 0);
    assert_memory_equal(out.data, "\xEF\xBB\xBF", 3);
    assert_non_null(strstr(out.data, "\"=\"\"038196001234\"\"\"")); /* Excel keeps the zero */
    sheet *e = must_read(out.data, out.len);
    assert_int_equal(sheet_nrows(e), 3);
    assert_string_equal(sheet_cell(e, 0, 7), SHEET_ERROR_COLUMN);
    assert_string_equal(sheet_cell(e, 1, 2), "3.8E+11");
    assert_string_equal(sheet_cell(e, 2, 1), "Trần, Hà");
    assert_string_equal(sheet_cell(e, 2, 2), "=\"038196001234\"");
    assert_non_null(strstr(sheet_cell(e, 1, 7), "Dòng 3: Số CCCD: Số CCCD bị bảng tính đổi"));
    assert_non_null(strstr(sheet_cell(e, 2, 7), "Dòng 4: "));
    assert_non_null(strstr(sheet_cell(e, 2, 7), "Mã xã/phường: Mã xã/phường không tồn tại"));
    /* uploading the error file again: same columns, "Lỗi cần sửa" is not an unknown column,
     * the ="…" CCCD reads as digits */
    import_map m2;
    map_ok(e, IMPORT_HOUSEHOLDS, &m2);
    assert_int_equal(m2.warnings.n, 0);
    sheet_row_result_init(&r);
    assert_int_equal(import_row_normalize(&m2, e, 2, &ctx, &r), -1);
    assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038196001234");
    assert_int_equal(field_code(&r, "Số CCCD"), CS_OK);
    sheet_row_result_free(&r);
    sheet_free(e);
    cs_buf_free(&out);

    /* XLSX, read back with our reader */
    char p[512];
    tmp_path(p, sizeof p, "errors.xlsx");
    assert_int_equal(sheet_errors_xlsx(header, nh, rej, nrej, p, &err), 0);
    e = must_read_file(p);
    assert_int_equal(sheet_format_of(e), SHEET_FMT_XLSX);
    assert_int_equal(sheet_nrows(e), 3);
    assert_string_equal(sheet_cell(e, 0, 1), "Họ và tên chủ hộ");
    assert_string_equal(sheet_cell(e, 0, 7), SHEET_ERROR_COLUMN);
    assert_string_equal(sheet_cell(e, 2, 2), "038196001234"); /* stored as text */
    assert_string_equal(sheet_cell(e, 2, 1), "Trần, Hà");
    assert_int_equal(sheet_row_no(e, 2), 3);
    assert_non_null(strstr(sheet_cell(e, 1, 7), "Dòng 3: Số CCCD"));
    map_ok(e, IMPORT_HOUSEHOLDS, &m2);
    assert_int_equal(m2.warnings.n, 0);
    sheet_free(e);
    /* an unwritable path is an error, not a crash */
    assert_int_equal(sheet_errors_xlsx(header, nh, rej, nrej, "/nonexistent-dir/x.xlsx", &err), -1);
    assert_int_equal(err.code, CS_E_INTERNAL);

    for (size_t i = 0; i < nrej; i++) {
        cs_free(cells[i]);
        cs_buf_free(&texts[i]);
    }
    cs_free(header);
    sheet_free(s);
}

static void test_csv_injection_guard(void **state)
{
    (void)state;
    const char *h[] = {"Họ và tên chủ hộ", "Địa chỉ"};
    const char *c[] = {"=HYPERLINK(\"x\")", "-abc"};
    sheet_reject rj = {.row_no = 2, .cells = c, .ncells = 2, .errors = "x"};
    cs_buf out;
    cs_buf_init(&out, 0);
    cs_error err;
    assert_int_equal(sheet_errors_csv(h, 2, &rj, 1, &out, &err), 0);
    assert_non_null(strstr(out.data, "\"'=HYPERLINK(\"\"x\"\")\""));
    assert_non_null(strstr(out.data, "\"'-abc\""));
    cs_buf_free(&out);
    /* a capped buffer reports the limit */
    cs_buf_init(&out, 8);
    assert_int_equal(sheet_errors_csv(h, 2, &rj, 1, &out, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
    cs_buf_free(&out);
}

/* Found by fuzz_sheet: a sheet whose header row comes after a junk line and whose first header
 * names "<?xml…" (or "%PDF…") is imported, but its error file starts with that header — and the
 * upload check read our own errors.csv as a web page/PDF and refused it. The first header cell
 * is now quoted there, and the file reads back with the same cells. */
static void test_errors_csv_reads_back_whatever_the_header(void **state)
{
    (void)state;
    static const char *const first[] = {"<?xmlSTT", "<table", "<html>", "%PDF-1.4", "<!doctype x"};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        const char *h[] = {first[i], "Họ tên"};
        const char *c[] = {"1", "Nguyễn Văn An"};
        sheet_reject rj = {.row_no = 3, .cells = c, .ncells = 2, .errors = "x"};
        cs_buf out;
        cs_buf_init(&out, 0);
        cs_error err;
        assert_int_equal(sheet_errors_csv(h, 2, &rj, 1, &out, &err), 0);
        sheet *e = NULL;
        if (sheet_read(out.data, out.len, NULL, &e, &err))
            fail_msg("%s: error file refused: %s", first[i], err.detail);
        assert_int_equal(sheet_nrows(e), 2);
        assert_string_equal(sheet_cell(e, 0, 0), first[i]);
        assert_string_equal(sheet_cell(e, 1, 1), "Nguyễn Văn An");
        sheet_free(e);
        cs_buf_free(&out);
    }
}

/* Issue 10: every person-supplied cell that a spreadsheet would run as a formula is neutralised
 * in CSV — also "-2+3+cmd|…" (a minus then a digit), CR or TAB first, and = after spaces — while
 * plain numbers stay as they are; and what the importer reads back is what it read the first
 * time (the ' it finds before such a cell is the one the writer added). */
static void test_formula_neutralised_round_trip(void **state)
{
    (void)state;
    static const char *const hostile[] = {
        "-2+3+cmd|' /C calc'!A0", "\r=1+1", "\t=1+1", "=1+1",      "+1+1",  "@SUM(A1)",
        "  =HYPERLINK(\"x\")",    "-abc",   "+84 x",  " \t-1+cmd", "-1,5+2"};
    static const char *const plain[] = {"-5", "+84912345678", "-1.5", "150000", "Thôn Đông", "a=b"};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
        if (!sheet_formula_like(hostile[i])) fail_msg("not neutralised: %s", hostile[i]);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (sheet_formula_like(plain[i])) fail_msg("changed a plain cell: %s", plain[i]);

    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        /* the error file's cell ... */
        cs_buf cell;
        cs_buf_init(&cell, 0);
        assert_int_equal(sheet_csv_cell(&cell, hostile[i]), 0);
        assert_non_null(cell.data);
        assert_true(cell.data[0] == '"' && cell.data[1] == '\'');
        /* ... read back as the import reads it, and as the original was read */
        sheet_row_result first, again;
        sheet_row_result_init(&first);
        sheet_row_result_init(&again);
        const char *head = "Họ và tên chủ hộ,Số CCCD,Số điện thoại,Ngày sinh,Mã xã/phường,Địa "
                           "chỉ,Đồng ý xử lý dữ liệu\n";
        cs_buf a, b;
        cs_buf_init(&a, 0);
        cs_buf_init(&b, 0);
        assert_int_equal(cs_buf_puts(&a, head), 0);
        assert_int_equal(cs_buf_puts(&a, "An,\"038095012345\",0912345678,15/03/1995,14797,"), 0);
        assert_int_equal(sheet_csv_cell(&a, hostile[i]), 0); /* quoted as needed */
        assert_int_equal(cs_buf_puts(&a, ",có\n"), 0);
        assert_int_equal(cs_buf_puts(&b, head), 0);
        assert_int_equal(cs_buf_puts(&b, "An,\"038095012345\",0912345678,15/03/1995,14797,\""), 0);
        for (const char *p = hostile[i]; *p; p++)
            assert_int_equal(*p == '"' ? cs_buf_puts(&b, "\"\"") : cs_buf_putc(&b, *p), 0);
        assert_int_equal(cs_buf_puts(&b, "\",có\n"), 0);
        import_map m;
        import_ctx ctx = ctx_all();
        sheet *sa = must_read(a.data, a.len), *sb = must_read(b.data, b.len);
        map_ok(sb, IMPORT_HOUSEHOLDS, &m);
        import_row_normalize(&m, sb, 1, &ctx, &first);
        map_ok(sa, IMPORT_HOUSEHOLDS, &m);
        import_row_normalize(&m, sa, 1, &ctx, &again);
        const char *x = import_row_value(&first, IMPORT_F_ADDRESS),
                   *y = import_row_value(&again, IMPORT_F_ADDRESS);
        if (!x || !y || strcmp(x, y))
            fail_msg("%s: first import \"%s\", re-import of the neutralised cell \"%s\"",
                     hostile[i], x ? x : "(none)", y ? y : "(none)");
        sheet_free(sa);
        sheet_free(sb);
        sheet_row_result_free(&first);
        sheet_row_result_free(&again);
        cs_buf_free(&a);
        cs_buf_free(&b);
        cs_buf_free(&cell);
    }
}

/* ---- templates ----------------------------------------------------------------------------- */

static void check_template_sheet(sheet *s, import_kind kind)
{
    import_map m;
    map_ok(s, kind, &m);
    assert_int_equal(m.header_index, 0);
    assert_int_equal(m.warnings.n, 0);
    for (size_t i = 0; i < import_columns_count(cols, kind); i++)
        assert_true(m.col_of[import_columns_at(cols, kind, i)->field] >= 0);
    /* the sample row is a valid row */
    import_ctx ctx = ctx_all();
    sheet_row_result r;
    sheet_row_result_init(&r);
    if (import_row_normalize(&m, s, 1, &ctx, &r)) {
        cs_buf t;
        cs_buf_init(&t, 0);
        import_row_error_text(&r.err, CS_LANG_VI, &t);
        fail_msg("sample row: %s", t.data ? t.data : cs_code_name(r.err.code));
    }
    if (kind == IMPORT_HOUSEHOLDS)
        assert_string_equal(import_row_value(&r, IMPORT_F_CCCD), "038095012345");
    sheet_row_result_free(&r);
}

/* The text of one part of a zip (cs_free). */
static char *zip_part(const char *path, const char *name)
{
    unzFile z = unzOpen(path);
    assert_non_null(z);
    assert_int_equal(unzLocateFile(z, name, 0), UNZ_OK);
    assert_int_equal(unzOpenCurrentFile(z), UNZ_OK);
    cs_buf b;
    cs_buf_init(&b, 0);
    char t[8192];
    int n;
    while ((n = unzReadCurrentFile(z, t, sizeof t)) > 0)
        assert_int_equal(cs_buf_append(&b, t, (size_t)n), 0);
    unzCloseCurrentFile(z);
    unzClose(z);
    return cs_buf_steal(&b);
}

static void test_templates(void **state)
{
    (void)state;
    cs_error err;
    for (int k = 0; k < 2; k++) {
        import_kind kind = k ? IMPORT_PRODUCTS : IMPORT_HOUSEHOLDS;
        cs_buf out;
        cs_buf_init(&out, 0);
        assert_int_equal(import_template_csv(cols, kind, &out, &err), 0);
        assert_memory_equal(out.data, "\xEF\xBB\xBF", 3);
        sheet *s = must_read(out.data, out.len);
        assert_int_equal(sheet_nrows(s), 2);
        check_template_sheet(s, kind);
        sheet_free(s);
        cs_buf_free(&out);

        char p[512];
        tmp_path(p, sizeof p, k ? "template_products.xlsx" : "template_households.xlsx");
        assert_int_equal(import_template_xlsx(cols, kind, communes, categories, p, &err), 0);
        s = must_read_file(p);
        assert_true(has_warning(sheet_warnings_of(s), SHEET_W_EXTRA_SHEETS, NULL));
        assert_string_equal(sheet_cell(s, 0, 0), k ? "Mã hộ" : "Họ và tên chủ hộ *");
        check_template_sheet(s, kind);
        sheet_free(s);

        /* the guide: every column explained; households list every commune code and name */
        char *wb = zip_part(p, "xl/workbook.xml");
        assert_non_null(strstr(wb, "Hướng dẫn"));
        cs_free(wb);
        char *guide = zip_part(p, "xl/worksheets/sheet2.xml");
        for (size_t i = 0; i < import_columns_count(cols, kind); i++)
            assert_non_null(strstr(guide, import_columns_at(cols, kind, i)->help));
        const import_reflist *list = k ? categories : communes;
        for (size_t i = 0; i < import_reflist_count(list); i++) {
            char needle[300];
            snprintf(needle, sizeof needle, "<t>%s</t>", import_reflist_at(list, i)->code);
            assert_non_null(strstr(guide, needle));
            snprintf(needle, sizeof needle, "<t>%s</t>", import_reflist_at(list, i)->name);
            assert_non_null(strstr(guide, needle));
        }
        cs_free(guide);
        /* hints on the first sheet (yes/no drop-downs; the code column points at the list) */
        char *s1 = zip_part(p, "xl/worksheets/sheet1.xml");
        assert_non_null(strstr(s1, "dataValidation"));
        assert_non_null(strstr(s1, "\"có,không\""));
        assert_non_null(strstr(s1, "Danh sách ở trang"));
        cs_free(s1);
    }
}

/* ---- allocation failures ------------------------------------------------------------------- */

static int whole_pipeline(const char *data, size_t len)
{
    sheet *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sheet_read(data, len, NULL, &s, &err)) return err.code == CS_E_NOMEM ? 1 : -1;
    import_map m;
    int rc = 0;
    if (import_map_header(cols, IMPORT_HOUSEHOLDS, s, &m, &err)) {
        rc = err.code == CS_E_NOMEM ? 1 : -1;
    } else {
        import_ctx ctx = ctx_all();
        sheet_row_result r;
        sheet_row_result_init(&r);
        for (size_t i = m.first_data; i < sheet_nrows(s) && !rc; i++)
            if (import_row_normalize(&m, s, i, &ctx, &r)) rc = r.err.code == CS_E_NOMEM ? 1 : -2;
        sheet_row_result_free(&r);
    }
    sheet_free(s);
    return rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *csv =
        "\xEF\xBB\xBF"
        "Họ và tên chủ hộ;Số CCCD;Số điện thoại;Ngày sinh;Tên xã/phường;Địa chỉ;Đồng ý\r\n"
        "Nguye\xCC\x82\xCC\x83n  An;38095012345;912345678;34773;hạc thành;\"a\r\nb\";x\r\n";
    assert_int_equal(whole_pipeline(csv, strlen(csv)), 0);
    char p[512];
    tmp_path(p, sizeof p, "read.xlsx");
    size_t xn = 0;
    char *xlsx = slurp(p, &xn);
    size_t cp_n = 0;
    char *cp = iconv_to("CP1258", VI_ROWS, &cp_n);
    /* clean results: the CSV imports, the XLSX has one bad row, the 1258 file lacks columns */
    const struct {
        const char *d;
        size_t n;
        int clean;
    } inputs[] = {{csv, strlen(csv), 0}, {xlsx, xn, -2}, {cp, cp_n, -1}};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(whole_pipeline(inputs[k].d, inputs[k].n), inputs[k].clean);
        int done = 0;
        for (unsigned long n = 1; n < 20000 && !done; n++) {
            cs_mem_fail_at(n);
            int rc = whole_pipeline(inputs[k].d, inputs[k].n);
            unsigned long used = cs_mem_count();
            cs_mem_fail_at(0);
            done = used < n; /* the failure was never reached: that was a clean run */
            /* clean: the clean verdict; reached: either reported as out of memory, or
             * recovered (libcsv retries a failed buffer growth with a smaller one) — never a
             * wrong verdict on the data */
            if (done ? rc != inputs[k].clean : rc != 1 && rc != inputs[k].clean)
                fail_msg("input %zu, failing allocation %lu: rc %d", k, n, rc);
        }
        assert_true(done);
    }
    cs_free(xlsx);
    cs_free(cp);
}

/* ---- streaming (the 1,000,000-row import) -----------------------------------------------------
 */

/* A source handing out a buffer in slices of a given size. */
typedef struct mem_src {
    const unsigned char *p;
    size_t n, off, slice;
} mem_src;

static int mem_next(void *arg, const unsigned char **p, size_t *n, cs_error *err)
{
    (void)err;
    mem_src *m = arg;
    *n = m->n - m->off < m->slice ? m->n - m->off : m->slice;
    *p = m->p + m->off;
    m->off += *n;
    return 0;
}

static sheet_limits big_limits(void)
{
    sheet_limits l;
    sheet_limits_default(&l);
    l.max_bytes = 64u << 20;
    l.max_rows = 2000000;
    return l;
}

/* The stream (windows of step rows, rows below skip left out) gives exactly the rows sheet_read
 * gives, cell for cell, for every slice size; and counting gives the same number of rows. */
static void stream_same(const void *p, size_t n, size_t slice, size_t step, size_t skip)
{
    sheet_limits l = big_limits();
    sheet *whole = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sheet_read(p, n, &l, &whole, &err))
        fail_msg("sheet_read: %s %s", cs_code_name(err.code), err.detail);
    mem_src src = {p, n, 0, slice};
    sheet_stream *st = NULL;
    if (sheet_stream_open(mem_next, &src, &l, step, skip, &st, &err))
        fail_msg("sheet_stream_open: %s %s", cs_code_name(err.code), err.detail);
    assert_int_equal(sheet_stream_encoding(st), sheet_encoding_of(whole));
    assert_int_equal(sheet_stream_format(st), sheet_format_of(whole));
    size_t at = skip, windows = 0;
    for (;;) {
        sheet *w = NULL;
        if (sheet_stream_next(st, &w, &err))
            fail_msg("sheet_stream_next: %s %s", cs_code_name(err.code), err.detail);
        if (!w) break;
        windows++;
        assert_int_equal(sheet_first_row(w), at);
        assert_true(sheet_nrows(w) - at <= step);
        if (sheet_nrows(w) < sheet_nrows(whole)) assert_int_equal(sheet_nrows(w) - at, step);
        if (sheet_format_of(w) == SHEET_FMT_CSV)
            assert_int_equal(sheet_separator(w), sheet_separator(whole));
        for (size_t i = at; i < sheet_nrows(w); i++) {
            assert_int_equal(sheet_row_no(w, i), sheet_row_no(whole, i));
            assert_int_equal(sheet_ncells(w, i), sheet_ncells(whole, i));
            for (unsigned c = 0; c < sheet_ncells(whole, i); c++)
                assert_string_equal(sheet_cell(w, i, c), sheet_cell(whole, i, c));
        }
        /* outside the window: nothing */
        if (at > 0) assert_int_equal(sheet_ncells(w, at - 1), 0);
        at = sheet_nrows(w);
        sheet_free(w);
    }
    assert_int_equal(at, skip > sheet_nrows(whole) ? skip : sheet_nrows(whole));
    assert_true(windows >= 1 || skip >= sheet_nrows(whole));
    const sheet_warnings *ws = sheet_stream_warnings(st), *ww = sheet_warnings_of(whole);
    assert_int_equal(ws->n, ww->n);
    for (size_t i = 0; i < ws->n; i++)
        assert_string_equal(ws->w[i].text, ww->w[i].text);
    sheet_stream_free(st);
    /* counting, after a first window as the import reads its header */
    src.off = 0;
    assert_int_equal(sheet_stream_open(mem_next, &src, &l, 3, 0, &st, &err), 0);
    sheet *head = NULL;
    assert_int_equal(sheet_stream_next(st, &head, &err), 0);
    assert_non_null(head);
    assert_string_equal(sheet_cell(head, 0, 0), sheet_cell(whole, 0, 0));
    size_t count = 0;
    assert_int_equal(sheet_stream_count(st, &count, &err), 0);
    assert_int_equal(count, sheet_nrows(whole));
    sheet_free(head);
    sheet_stream_free(st);
    sheet_free(whole);
}

/* rows of Vietnamese text with every CSV feature the reader must keep across slice borders */
static char *stream_text(size_t rows, char sep, const char *first, size_t *len)
{
    cs_buf b;
    cs_buf_init(&b, SIZE_MAX);
    if (first) cs_buf_puts(&b, first);
    cs_buf_printf(&b, "Họ và tên chủ hộ%cSố CCCD%cĐịa chỉ%cGhi chú\r\n", sep, sep, sep);
    for (size_t i = 0; i < rows; i++) {
        if (i % 97 == 5) cs_buf_puts(&b, "\r\n"); /* a blank line keeps its number */
        cs_buf_printf(&b, "Nguyễn Thị Hằng %zu%c0380950%05zu%c\"thôn Đông, xã Quảng Phú\"%c", i,
                      sep, i % 100000, sep, sep);
        if (i % 13 == 0)
            cs_buf_printf(&b, "\"dòng một\r\ndòng \"\"hai\"\" ỗ\"");
        else if (i % 7 == 0)
            cs_buf_printf(&b, "'=1+%zu", i);
        cs_buf_puts(&b, "\r\n");
    }
    *len = b.len;
    return cs_buf_steal(&b);
}

static void test_stream_same_rows(void **state)
{
    (void)state;
    size_t n = 0;
    /* small: every slice size down to one byte, windows of 1, 3, 50 rows, skips */
    char *t = stream_text(60, ',', NULL, &n);
    size_t slices[] = {1, 2, 3, 5, 4096};
    for (size_t i = 0; i < sizeof slices / sizeof *slices; i++) {
        stream_same(t, n, slices[i], 1, 0);
        stream_same(t, n, slices[i], 3, 2);
        stream_same(t, n, slices[i], 50, 0);
    }
    stream_same(t, n, 7, 4, 1000); /* skipping past the end */
    cs_free(t);
    /* larger than the 1 MiB sample: UTF-8 with BOM and a "sep=;" line, ';' */
    char *u = stream_text(20000, ';', "\xEF\xBB\xBFsep=;\r\n", &n);
    assert_true(n > (1u << 20) + 100000);
    stream_same(u, n, 4099, 2000, 0);
    stream_same(u, n, 65536, 777, 1);
    cs_free(u);
    /* UTF-16LE with a BOM (Excel's "Unicode Text"), tab separated, past the sample */
    char *v = stream_text(9000, '\t', NULL, &n);
    size_t wn = 0;
    char *w16 = iconv_to("UTF-16LE", v, &wn);
    char *b = cs_malloc(wn + 2);
    assert_non_null(b);
    b[0] = (char)0xFF, b[1] = (char)0xFE;
    memcpy(b + 2, w16, wn);
    stream_same(b, wn + 2, 4097, 1000, 0); /* odd slices: characters cut in two */
    stream_same(w16, wn, 65535, 1000, 3);  /* no BOM */
    cs_free(b);
    cs_free(w16);
    cs_free(v);
    /* Windows-1258 (tone marks as combining bytes: NFC across slice borders) */
    char *c = stream_text(20000, ',', NULL, &n);
    size_t cn = 0;
    char *cp = iconv_to("CP1258", c, &cn);
    stream_same(cp, cn, 4095, 500, 0);
    stream_same(cp, cn, 1u << 20, 2000, 0);
    cs_free(cp);
    cs_free(c);
}

static int stream_fails(const void *p, size_t n, size_t slice, cs_error *err)
{
    sheet_limits l = big_limits();
    mem_src src = {p, n, 0, slice};
    sheet_stream *st = NULL;
    cs_error_clear(err);
    if (sheet_stream_open(mem_next, &src, &l, 100, 0, &st, err)) return err->code;
    size_t count = 0;
    int rc = sheet_stream_count(st, &count, err);
    sheet_stream_free(st);
    return rc ? (int)err->code : 0;
}

static void test_stream_errors(void **state)
{
    (void)state;
    cs_error err;
    size_t n = 0;
    char *t = stream_text(20000, ',', NULL, &n);
    /* a quote opened near the end and never closed: refused, naming its line */
    cs_buf b;
    cs_buf_init(&b, SIZE_MAX);
    cs_buf_append(&b, t, n);
    cs_buf_puts(&b, "An,\"038095000001,x,y\r\n");
    assert_int_equal(stream_fails(b.data, b.len, 4096, &err), CS_E_IMPORT_FORMAT);
    assert_non_null(strstr(err.detail, "không được đóng"));
    /* bytes that are not UTF-8 after the first 1 MiB of UTF-8 text: refused, never mojibake */
    b.len = n;
    cs_buf_puts(&b, "Nguy\xEA\xDEn,038095000002,x,y\r\n");
    assert_int_equal(stream_fails(b.data, b.len, 65536, &err), CS_E_IMPORT_ENCODING);
    /* a NUL byte */
    b.len = n;
    cs_buf_append(&b, "A\0B,1,2,3\r\n", 11);
    assert_int_equal(stream_fails(b.data, b.len, 65536, &err), CS_E_IMPORT_FORMAT);
    /* the row limit counts every row of the file, kept or not */
    sheet_limits l = big_limits();
    l.max_rows = 5000;
    mem_src src = {(const unsigned char *)t, n, 0, 8192};
    sheet_stream *st = NULL;
    assert_int_equal(sheet_stream_open(mem_next, &src, &l, 100, 0, &st, &err), 0);
    size_t count = 0;
    assert_int_equal(sheet_stream_count(st, &count, &err), -1);
    assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
    sheet_stream_free(st);
    /* a whole-file check still works: a short valid file passes */
    assert_int_equal(stream_fails(t, n, 4096, &err), 0);
    /* XLSX: read whole, so it has its own (lower) byte limit */
    char path[512];
    tmp_path(path, sizeof path, "stream.xlsx");
    write_test_xlsx(path, 1);
    size_t xn = 0;
    char *x = slurp(path, &xn);
    {
        l = big_limits();
        l.max_xlsx = 100;
        src = (mem_src){(const unsigned char *)x, xn, 0, 4096};
        assert_int_equal(sheet_stream_open(mem_next, &src, &l, 100, 0, &st, &err), -1);
        assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
        stream_same(x, xn, 4096, 2, 1);
        cs_free(x);
    }
    cs_buf_free(&b);
    cs_free(t);
}

/* An XLSX past the first MiB: copied to a temporary file and parsed a window at a time; the
 * same rows as sheet_read, with shared strings (Excel's way) and with inline strings
 * (libxlsxwriter's constant-memory mode), rows with gaps, numbers, a second sheet. */
static void write_big_xlsx(const char *path, int constant_memory, size_t rows)
{
    lxw_workbook_options opt = {.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Hộ");
    workbook_add_worksheet(wb, "Khác");
    const char *h[] = {"Họ và tên chủ hộ", "Số CCCD", "Ghi chú", "Số", "Mã"};
    for (int c = 0; c < 5; c++)
        worksheet_write_string(ws, 0, (lxw_col_t)c, h[c], NULL);
    uint64_t x = 88172645463325252u;
    char cell[64];
    for (size_t i = 0; i < rows; i++) {
        lxw_row_t r = (lxw_row_t)(i + 1 + i / 1000); /* a blank row every 1,000 */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        snprintf(cell, sizeof cell, "Nguyễn Thị %016llx", (unsigned long long)x);
        worksheet_write_string(ws, r, 0, cell, NULL);
        snprintf(cell, sizeof cell, "0%011llu", (unsigned long long)(x % 100000000000u));
        worksheet_write_string(ws, r, 1, cell, NULL);
        if (i % 3 == 0) worksheet_write_string(ws, r, 2, i % 2 ? "có" : "không", NULL);
        worksheet_write_number(ws, r, 3, (double)(x % 1000000), NULL);
        if (i % 5) worksheet_write_string(ws, r, 4, "14797", NULL);
    }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static void test_stream_xlsx_large(void **state)
{
    (void)state;
    for (int cm = 0; cm < 2; cm++) {
        char path[512];
        tmp_path(path, sizeof path, cm ? "big-inline.xlsx" : "big-shared.xlsx");
        write_big_xlsx(path, cm, 40000);
        size_t n = 0;
        char *x = slurp(path, &n);
        assert_true(n > ((size_t)1 << 20)); /* past the in-memory sample: the temporary file */
        stream_same(x, n, 65536, 2000, 0);
        stream_same(x, n, 4099, 7, 11);
        /* the shared strings are held for the whole read: capped, with a clear error */
        if (!cm) {
            sheet_limits l = big_limits();
            l.max_sst = 64u << 10;
            mem_src src = {(const unsigned char *)x, n, 0, 65536};
            sheet_stream *st = NULL;
            cs_error err;
            cs_error_clear(&err);
            assert_int_equal(sheet_stream_open(mem_next, &src, &l, 100, 0, &st, &err), -1);
            assert_int_equal(err.code, CS_E_IMPORT_LIMIT);
            assert_non_null(strstr(err.detail, "sharedStrings"));
        }
        cs_free(x);
    }
}

/* A source making household rows as it goes: the test itself holds no file. */
typedef struct gen_src {
    size_t rows, next;
    char buf[256 * 1024];
} gen_src;

static int gen_next(void *arg, const unsigned char **p, size_t *n, cs_error *err)
{
    (void)err;
    gen_src *g = arg;
    size_t len = 0;
    if (g->next == 0)
        len = (size_t)snprintf(g->buf, sizeof g->buf, "Họ và tên chủ hộ,Số CCCD,Địa chỉ\r\n");
    while (g->next < g->rows && len + 200 < sizeof g->buf) {
        len += (size_t)snprintf(g->buf + len, sizeof g->buf - len,
                                "Nguyễn Văn Thành %zu,038095%06zu,\"thôn Đông, xã Quảng Phú\"\r\n",
                                g->next, g->next % 1000000);
        g->next++;
    }
    *p = (const unsigned char *)g->buf;
    *n = len;
    return 0;
}

/* Peak resident memory added by streaming `rows` rows through windows of 2,000 (each window
 * freed, as the import does), in a child so the parent's heap does not blur it; KiB or -1. */
static long stream_peak_kb(size_t rows)
{
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fd[0]);
        long out = -1;
        gen_src *g = cs_calloc(1, sizeof *g);
        FILE *cr = fopen("/proc/self/clear_refs", "w"); /* "5": the peak starts again from now */
        if (g && cr && fputs("5", cr) >= 0 && fclose(cr) == 0) {
            cr = NULL;
            g->rows = rows;
            long base = tsup_vm_kb("VmRSS:");
            sheet_limits l = big_limits();
            sheet_stream *st = NULL;
            cs_error err;
            cs_error_clear(&err);
            size_t seen = 0;
            int ok = !sheet_stream_open(gen_next, g, &l, 2000, 0, &st, &err);
            for (sheet *w = NULL; ok && !(ok = !sheet_stream_next(st, &w, &err)) == 0 && w;) {
                seen = sheet_nrows(w);
                sheet_free(w);
            }
            sheet_stream_free(st);
            if (ok && seen == rows + 1) out = tsup_vm_kb("VmHWM:") - base;
        }
        if (cr) fclose(cr);
        if (write(fd[1], &out, sizeof out) != (ssize_t)sizeof out) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    long v = -1;
    if (read(fd[0], &v, sizeof v) != (ssize_t)sizeof v) v = -1;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return v;
}

/* Memory, not speed: streaming ten times the rows (20,000 → 200,000, ~1.4 → 14 MB of CSV) must
 * not need more memory — a reader holding the file or its cells would need ~12 MB more. */
static void test_stream_memory_bounded(void **state)
{
    (void)state;
    if (tsup_under_memory_tool()) {
        fprintf(stderr,
                "test_stream_memory_bounded: skipped under ASan/valgrind (their own heaps)\n");
        return;
    }
    long small = stream_peak_kb(20000), large = stream_peak_kb(200000);
    fprintf(stderr, "stream peak above start: 20,000 rows %ld KiB, 200,000 rows %ld KiB\n", small,
            large);
    assert_true(small >= 0 && large >= 0);
    assert_true(large < small + 2048);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_bom_and_no_bom),
        cmocka_unit_test(test_csv_semicolon_quotes_crlf),
        cmocka_unit_test(test_csv_sep_hint_tab_and_trailing),
        cmocka_unit_test(test_csv_utf16),
        cmocka_unit_test(test_csv_broken_and_limits),
        cmocka_unit_test(test_not_a_spreadsheet),
        cmocka_unit_test(test_cp1258_converted_to_nfc),
        cmocka_unit_test(test_tcvn3_refused_by_name),
        cmocka_unit_test(test_vni_refused_by_name),
        cmocka_unit_test(test_unknown_encoding_never_mojibake),
        cmocka_unit_test(test_legacy_font_inside_utf8),
        cmocka_unit_test(test_to_utf8),
        cmocka_unit_test(test_xlsx_read),
        cmocka_unit_test(test_xlsx_hostile),
        cmocka_unit_test(test_xlsx_package_paths_and_1904),
        cmocka_unit_test(test_header_synonyms),
        cmocka_unit_test(test_header_missing_and_duplicate),
        cmocka_unit_test(test_columns_table),
        cmocka_unit_test(test_damage_cccd),
        cmocka_unit_test(test_damage_phone_dates_text),
        cmocka_unit_test(test_damage_commune_and_flags),
        cmocka_unit_test(test_products_rows),
        cmocka_unit_test(test_reflist),
        cmocka_unit_test(test_error_files),
        cmocka_unit_test(test_csv_injection_guard),
        cmocka_unit_test(test_errors_csv_reads_back_whatever_the_header),
        cmocka_unit_test(test_formula_neutralised_round_trip),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_stream_same_rows),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_stream_memory_bounded),
        cmocka_unit_test(test_stream_xlsx_large),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
