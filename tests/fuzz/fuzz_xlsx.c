/* tests/fuzz/fuzz_xlsx: the XML inside an uploaded XLSX — package relationships, workbook,
 * workbook relationships, shared strings, the first worksheet — reached directly. The input is
 * up to five XML documents separated by the line "--part--"; the harness wraps them in a
 * well-formed zip (stored, true CRCs) so that mutations hit expat and the row model rather
 * than being stopped at the zip's checksums (fuzz_sheet covers the zip layer itself). The
 * sheet read must succeed or fail with an import error; every cell read is valid UTF-8 within
 * the limits, and the rows go through the household mapping as an upload would.
 * libFuzzer: build with -fsanitize=fuzzer -DCHOSO_LIBFUZZER. Otherwise main() replays the files
 * (or directories) given — by default tests/fuzz/corpus/xlsx — in every test pass. */
#include "tests/support/fuzz_replay.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/vn.h"
#include "jobs/import_rows.h"
#include "jobs/sheet.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const parts[] = {"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                    "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"};
enum { NPARTS = sizeof parts / sizeof parts[0] };
static const char SEP[] = "\n--part--\n";

/* The zip CRC-32 (IEEE, reflected), bit by bit: small inputs, no zlib link needed. */
static uint32_t crc32_of(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int put16(cs_buf *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    return cs_buf_append(b, x, 2);
}

static int put32(cs_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    return cs_buf_append(b, x, 4);
}

/* One stored zip of the given parts (ptr/len pairs; len SIZE_MAX = absent). */
static int make_zip(const char *const *p, const size_t *n, cs_buf *z)
{
    uint32_t off[NPARTS], crc[NPARTS];
    int rc = 0;
    for (size_t i = 0; i < NPARTS; i++) {
        if (n[i] == SIZE_MAX) continue;
        off[i] = (uint32_t)z->len;
        crc[i] = crc32_of(p[i], n[i]);
        size_t nl = strlen(parts[i]);
        rc |= put32(z, 0x04034b50) | put16(z, 20) | put16(z, 0) | put16(z, 0) | put16(z, 0) |
              put16(z, 0x21) | put32(z, crc[i]) | put32(z, (uint32_t)n[i]) |
              put32(z, (uint32_t)n[i]) | put16(z, (unsigned)nl) | put16(z, 0);
        rc |= cs_buf_append(z, parts[i], nl) | cs_buf_append(z, p[i], n[i]);
    }
    uint32_t cd = (uint32_t)z->len;
    unsigned count = 0;
    for (size_t i = 0; i < NPARTS; i++) {
        if (n[i] == SIZE_MAX) continue;
        size_t nl = strlen(parts[i]);
        rc |= put32(z, 0x02014b50) | put16(z, 20) | put16(z, 20) | put16(z, 0) | put16(z, 0) |
              put16(z, 0) | put16(z, 0x21) | put32(z, crc[i]) | put32(z, (uint32_t)n[i]) |
              put32(z, (uint32_t)n[i]) | put16(z, (unsigned)nl) | put16(z, 0) | put16(z, 0) |
              put16(z, 0) | put16(z, 0) | put32(z, 0) | put32(z, off[i]);
        rc |= cs_buf_append(z, parts[i], nl);
        count++;
    }
    uint32_t cdlen = (uint32_t)z->len - cd;
    rc |= put32(z, 0x06054b50) | put16(z, 0) | put16(z, 0) | put16(z, count) | put16(z, count) |
          put32(z, cdlen) | put32(z, cd) | put16(z, 0);
    return rc ? -1 : 0;
}

static import_columns *cols;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cols) {
        cs_error e;
        if (import_columns_load("schemas/data/import_columns.csv", &cols, &e)) abort();
    }
    const char *p[NPARTS];
    size_t n[NPARTS];
    const char *s = (const char *)data, *end = s + size;
    for (size_t i = 0; i < NPARTS; i++) {
        if (!s) {
            n[i] = SIZE_MAX;
            continue;
        }
        const char *sep = memmem(s, (size_t)(end - s), SEP, sizeof SEP - 1);
        p[i] = s;
        n[i] = sep ? (size_t)(sep - s) : (size_t)(end - s);
        s = sep ? sep + sizeof SEP - 1 : NULL;
        /* an empty document stands for "part absent" */
        if (n[i] == 0) n[i] = SIZE_MAX;
    }
    cs_buf z;
    cs_buf_init(&z, 0);
    if (make_zip(p, n, &z)) {
        cs_buf_free(&z);
        return 0;
    }
    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_rows = 2000;
    lim.max_unzipped = 4u << 20;
    sheet *sh = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sheet_read(z.data, z.len, &lim, &sh, &err)) {
        if (sh || err.code == CS_OK || !vn_utf8_valid(err.detail)) abort();
        if (cs_code_status(err.code) >= 500 && err.code != CS_E_NOMEM) abort();
        cs_buf_free(&z);
        return 0;
    }
    if (sheet_format_of(sh) != SHEET_FMT_XLSX) abort();
    for (size_t i = 0; i < sheet_nrows(sh); i++) {
        if (sheet_ncells(sh, i) > lim.max_cols) abort();
        for (unsigned c = 0; c < sheet_ncells(sh, i); c++) {
            const char *v = sheet_cell(sh, i, c);
            if (strlen(v) > lim.max_cell || !vn_utf8_valid(v)) abort();
        }
    }
    import_map m;
    if (import_map_header(cols, IMPORT_HOUSEHOLDS, sh, &m, &err) == 0) {
        import_ctx ctx = {.today = {2025, 11, 28}};
        sheet_row_result r;
        sheet_row_result_init(&r);
        for (size_t i = m.first_data; i < sheet_nrows(sh) && i < m.first_data + 200; i++)
            (void)import_row_normalize(&m, sh, i, &ctx, &r);
        sheet_row_result_free(&r);
    }
    sheet_free(sh);
    cs_buf_free(&z);
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_xlsx", "tests/fuzz/corpus/xlsx",
                            LLVMFuzzerTestOneInput);
}
#endif
