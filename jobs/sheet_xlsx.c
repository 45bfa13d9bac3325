/* jobs/sheet_xlsx: the XLSX reader — the first visible worksheet of a workbook in memory or in
 * a file (streamed a window at a time: sheet_xlsx_open/feed), via minizip (zip) and expat
 * (XML), into the row model of jobs/sheet. No file names of its own, no
 * network; every size is capped (inflated bytes against zip bombs, cells, rows, columns),
 * DOCTYPEs are refused (no entity tricks). Cells keep their raw text: a number is what <v>
 * says ("3.8E+11", "36526"), a boolean "1"/"0", a shared string its text (rich-text runs
 * joined, phonetic runs dropped, _xHHHH_ escapes decoded). */
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"
#include "core/mem.h"
#include <errno.h>
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <unzip.h>

/* ---- zip in memory ------------------------------------------------------------------------- */

typedef struct memzip {
    const unsigned char *p; /* the zip in memory, or NULL: read from fd */
    int fd;
    size_t len, pos;
} memzip;

static voidpf mz_open(voidpf opaque, const void *name, int mode)
{
    (void)name;
    (void)mode;
    memzip *m = opaque;
    m->pos = 0;
    return m;
}

static uLong mz_read(voidpf opaque, voidpf stream, void *buf, uLong size)
{
    (void)opaque;
    memzip *m = stream;
    size_t left = m->len - m->pos;
    size_t n = size < left ? size : left;
    if (m->p) {
        memcpy(buf, m->p + m->pos, n);
    } else {
        for (size_t got = 0; got < n;) {
            ssize_t k = pread(m->fd, (char *)buf + got, n - got, (off_t)(m->pos + got));
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                n = got;
                break;
            }
            got += (size_t)k;
        }
    }
    m->pos += n;
    return (uLong)n;
}

static uLong mz_write(voidpf opaque, voidpf stream, const void *buf, uLong size)
{
    (void)opaque;
    (void)stream;
    (void)buf;
    (void)size;
    return 0;
}

static ZPOS64_T mz_tell(voidpf opaque, voidpf stream)
{
    (void)opaque;
    return ((memzip *)stream)->pos;
}

static long mz_seek(voidpf opaque, voidpf stream, ZPOS64_T off, int origin)
{
    (void)opaque;
    memzip *m = stream;
    ZPOS64_T base = origin == ZLIB_FILEFUNC_SEEK_SET   ? 0
                    : origin == ZLIB_FILEFUNC_SEEK_CUR ? m->pos
                                                       : m->len;
    if (off > m->len || base > m->len - off) return -1;
    m->pos = (size_t)(base + off);
    return 0;
}

static int mz_close(voidpf opaque, voidpf stream)
{
    (void)opaque;
    (void)stream;
    return 0;
}

static int mz_error(voidpf opaque, voidpf stream)
{
    (void)opaque;
    (void)stream;
    return 0;
}

/* ---- shared parsing state ------------------------------------------------------------------ */

typedef struct xp_ctx {
    sheet *s;
    cs_error *err;
    XML_Parser xp;
    int failed;
    cs_buf text; /* character data being captured */
    int capture; /* inside an element whose text we keep */
    int rph;     /* depth inside <rPh> (phonetic runs: not the cell's text) */
    /* relationships */
    const char *want_id;  /* rels: the id we look for */
    char target[256];     /* rels: its target */
    char sst_target[256]; /* rels: the shared strings part */
    int want_office;      /* _rels/.rels: looking for the officeDocument */
    /* workbook */
    char sheet_rid[64];
    char sheet_name[96];
    unsigned nsheets;
    int date1904;
    /* shared strings */
    size_t *sst;
    size_t nsst, cap_sst;
    int in_si;
    sheet *sstp; /* streamed: the shared strings' own pool (a cell copies its text into its
                    window); NULL: they live in s's pool and cells point at them */
    /* streamed: called after each row; 1 pauses the parser (a window is full) */
    sheet_xlsx_row_fn row_fn;
    void *row_arg;
    int open_only; /* parse_part: open the entry and the parser, parse nothing yet */
    /* worksheet */
    int in_sheetdata, in_row, in_c, in_v, in_is;
    unsigned row_no, col;
    int has_col;
    char ctype[12];
} xp_ctx;

static void fail(xp_ctx *c)
{
    c->failed = 1;
    XML_StopParser(c->xp, XML_FALSE);
}

static void fail_format(xp_ctx *c, const char *what)
{
    if (!c->failed) cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: %s", what);
    fail(c);
}

static const char *local(const char *name)
{
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}

/* Attribute by local name; ns_only: only namespaced ones (r:id), else only plain ones. */
static const char *attr(const char **atts, const char *name, int ns_only)
{
    for (size_t i = 0; atts[i]; i += 2) {
        int has_ns = strchr(atts[i], '|') != NULL;
        if (has_ns == ns_only && !strcmp(local(atts[i]), name)) return atts[i + 1];
    }
    return NULL;
}

static void on_chars(void *ud, const XML_Char *s, int len)
{
    xp_ctx *c = ud;
    if (c->failed || !c->capture || c->rph) return;
    if (c->text.len + (size_t)len > c->s->lim.max_cell) {
        sheet_limit(c->err, "Một ô dài quá %zu byte", c->s->lim.max_cell);
        fail(c);
        return;
    }
    if (cs_buf_append(&c->text, s, (size_t)len)) {
        cs_error_set(c->err, CS_E_NOMEM, NULL);
        fail(c);
    }
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    fail_format(ud, "DOCTYPE không được phép");
}

static void on_entity(void *ud, const XML_Char *name, int pe, const XML_Char *value, int vlen,
                      const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
                      const XML_Char *notation)
{
    (void)name, (void)pe, (void)value, (void)vlen, (void)base, (void)sysid, (void)pubid,
        (void)notation;
    fail_format(ud, "ENTITY không được phép");
}

/* Excel writes control characters as _xHHHH_ (and a literal "_x" as _x005F_x). In place. */
static void decode_x_escapes(cs_buf *b)
{
    char *s = b->data;
    if (!s || !strstr(s, "_x")) return;
    size_t o = 0;
    for (size_t i = 0; i < b->len;) {
        unsigned v = 0;
        int ok = i + 7 <= b->len && s[i] == '_' && s[i + 1] == 'x' && s[i + 6] == '_';
        for (int k = 2; ok && k < 6; k++) {
            char h = s[i + k];
            unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0')
                         : (h | 0x20) >= 'a' && (h | 0x20) <= 'f'
                             ? (unsigned)((h | 0x20) - 'a' + 10)
                             : 99u;
            if (d > 15) ok = 0;
            v = v * 16 + d;
        }
        if (!ok || (v >= 0xD800 && v <= 0xDFFF) || v == 0) {
            s[o++] = s[i++];
            continue;
        }
        if (v < 0x80) {
            s[o++] = (char)v;
        } else if (v < 0x800) { /* 2 bytes out of 7 in: always fits */
            s[o++] = (char)(0xC0 | (v >> 6));
            s[o++] = (char)(0x80 | (v & 0x3F));
        } else {
            s[o++] = (char)(0xE0 | (v >> 12));
            s[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
            s[o++] = (char)(0x80 | (v & 0x3F));
        }
        i += 7;
    }
    b->len = o;
    s[o] = '\0';
}

/* ---- relationships (_rels/.rels and xl/_rels/workbook.xml.rels) ----------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static void on_rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xp_ctx *c = ud;
    if (c->failed || strcmp(local(name), "Relationship") != 0) return;
    const char *id = attr(atts, "Id", 0), *type = attr(atts, "Type", 0),
               *target = attr(atts, "Target", 0);
    if (!type || !target) return;
    if (c->want_office) {
        if (ends_with(type, "/officeDocument") && !c->target[0])
            snprintf(c->target, sizeof c->target, "%s", target);
        return;
    }
    if (id && c->want_id && !strcmp(id, c->want_id))
        snprintf(c->target, sizeof c->target, "%s", target);
    if (ends_with(type, "/sharedStrings"))
        snprintf(c->sst_target, sizeof c->sst_target, "%s", target);
}

/* ---- workbook.xml -------------------------------------------------------------------------- */

static void on_wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xp_ctx *c = ud;
    if (c->failed) return;
    const char *n = local(name);
    if (!strcmp(n, "workbookPr")) {
        const char *d = attr(atts, "date1904", 0);
        c->date1904 = d && (!strcmp(d, "1") || !strcasecmp(d, "true"));
    } else if (!strcmp(n, "sheet")) {
        c->nsheets++;
        const char *state = attr(atts, "state", 0), *rid = attr(atts, "id", 1);
        int visible = !state || !strcmp(state, "visible");
        if (visible && rid && !c->sheet_rid[0]) {
            snprintf(c->sheet_rid, sizeof c->sheet_rid, "%s", rid);
            const char *nm = attr(atts, "name", 0);
            snprintf(c->sheet_name, sizeof c->sheet_name, "%s", nm ? nm : "");
        }
    }
}

/* ---- sharedStrings.xml --------------------------------------------------------------------- */

static void on_sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    xp_ctx *c = ud;
    if (c->failed) return;
    const char *n = local(name);
    if (!strcmp(n, "si")) {
        c->in_si = 1;
        cs_buf_reset(&c->text);
    } else if (!strcmp(n, "rPh")) {
        c->rph++;
    } else if (!strcmp(n, "t") && c->in_si) {
        c->capture = 1;
    }
}

static void on_sst_end(void *ud, const XML_Char *name)
{
    xp_ctx *c = ud;
    if (c->failed) return;
    const char *n = local(name);
    if (!strcmp(n, "t")) {
        c->capture = 0;
    } else if (!strcmp(n, "rPh")) {
        if (c->rph) c->rph--;
    } else if (!strcmp(n, "si") && c->in_si) {
        c->in_si = 0;
        decode_x_escapes(&c->text);
        sheet *pool = c->sstp ? c->sstp : c->s;
        if (c->sstp &&
            pool->pool.len + c->text.len + 1 + (c->nsst + 1) * sizeof *c->sst > pool->lim.max_sst) {
            sheet_limit(c->err,
                        "Bảng chuỗi dùng chung (sharedStrings) của tệp .xlsx vượt %zu byte; hãy "
                        "lưu dạng CSV",
                        pool->lim.max_sst);
            fail(c);
            return;
        }
        size_t off = c->text.len ? sheet_b_str(pool, c->text.data, c->text.len, c->err) : 0;
        if (c->text.len && !off) {
            fail(c);
            return;
        }
        if (c->nsst >= c->s->lim.max_cells) {
            sheet_limit(c->err, "Quá %zu chuỗi trong sharedStrings", c->s->lim.max_cells);
            fail(c);
            return;
        }
        if (c->nsst == c->cap_sst) {
            size_t nc = c->cap_sst ? c->cap_sst * 2 : 256;
            size_t *p = cs_realloc(c->sst, nc * sizeof *p);
            if (!p) {
                cs_error_set(c->err, CS_E_NOMEM, NULL);
                fail(c);
                return;
            }
            c->sst = p;
            c->cap_sst = nc;
        }
        c->sst[c->nsst++] = off;
    }
}

/* ---- the worksheet ------------------------------------------------------------------------- */

/* "AB12" → column 27 (0-based) and row 12; returns 0, or -1 when malformed. */
static int parse_ref(const char *r, unsigned *col, unsigned *row)
{
    unsigned c = 0, n = 0, rr = 0;
    size_t i = 0;
    while (r[i] >= 'A' && r[i] <= 'Z' && n < 4)
        c = c * 26 + (unsigned)(r[i++] - 'A' + 1), n++;
    if (n == 0 || c > 16384) return -1;
    size_t d = 0;
    while (r[i] >= '0' && r[i] <= '9' && d < 8)
        rr = rr * 10 + (unsigned)(r[i++] - '0'), d++;
    if (r[i] != '\0' || (d && (rr == 0 || rr > 1048576))) return -1;
    *col = c - 1;
    *row = d ? rr : 0;
    return 0;
}

static void on_ws_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xp_ctx *c = ud;
    if (c->failed) return;
    const char *n = local(name);
    if (!strcmp(n, "sheetData")) {
        c->in_sheetdata = 1;
    } else if (!c->in_sheetdata) {
        return;
    } else if (!strcmp(n, "row")) {
        const char *r = attr(atts, "r", 0);
        unsigned rn = c->row_no + 1;
        if (r) {
            char *end;
            unsigned long v = strtoul(r, &end, 10);
            if (*end || v == 0 || v > 1048576) {
                fail_format(c, "số dòng sai");
                return;
            }
            rn = (unsigned)v;
        }
        c->row_no = rn;
        c->in_row = 1;
        c->has_col = 0;
        sheet_b_row_begin(c->s, rn, c->err);
    } else if (!strcmp(n, "c") && c->in_row) {
        const char *r = attr(atts, "r", 0), *t = attr(atts, "t", 0);
        unsigned col = c->has_col ? c->col + 1 : 0, row = 0;
        if (r && parse_ref(r, &col, &row)) {
            fail_format(c, "tham chiếu ô sai");
            return;
        }
        c->col = col;
        c->has_col = 1;
        snprintf(c->ctype, sizeof c->ctype, "%s", t ? t : "n");
        c->in_c = 1;
        cs_buf_reset(&c->text);
    } else if (c->in_c && !strcmp(n, "v")) {
        c->in_v = 1;
        c->capture = 1;
    } else if (c->in_c && !strcmp(n, "is")) {
        c->in_is = 1;
    } else if (c->in_is && !strcmp(n, "rPh")) {
        c->rph++;
    } else if (c->in_is && !strcmp(n, "t")) {
        c->capture = 1;
    }
}

static void on_ws_end(void *ud, const XML_Char *name)
{
    xp_ctx *c = ud;
    if (c->failed) return;
    const char *n = local(name);
    if (!strcmp(n, "sheetData")) {
        c->in_sheetdata = 0;
    } else if (!strcmp(n, "v") || !strcmp(n, "t")) {
        c->capture = 0;
        c->in_v = 0;
    } else if (!strcmp(n, "rPh")) {
        if (c->rph) c->rph--;
    } else if (!strcmp(n, "is")) {
        c->in_is = 0;
    } else if (!strcmp(n, "c") && c->in_c) {
        c->in_c = 0;
        int rc;
        if (!strcmp(c->ctype, "s")) {
            char *end;
            unsigned long idx = c->text.len ? strtoul(c->text.data, &end, 10) : 0;
            if (!c->text.len) {
                rc = 0; /* a styled cell with no value */
            } else if (*end || idx >= c->nsst) {
                fail_format(c, "chỉ số chuỗi dùng chung sai");
                return;
            } else if (c->sstp) {
                const char *t = c->sstp->pool.data + c->sst[idx];
                rc = sheet_b_cell(c->s, c->col, t, strlen(t), c->err);
            } else {
                rc = sheet_b_cell_off(c->s, c->col, c->sst[idx], c->err);
            }
        } else {
            if (!strcmp(c->ctype, "inlineStr")) decode_x_escapes(&c->text);
            rc = sheet_b_cell(c->s, c->col, c->text.data ? c->text.data : "", c->text.len, c->err);
        }
        if (rc) fail(c);
    } else if (!strcmp(n, "row") && c->in_row) {
        c->in_row = 0;
        if (sheet_b_row_end(c->s, c->err)) {
            fail(c);
            return;
        }
        int r = c->row_fn ? c->row_fn(c->row_arg, &c->s, c->err) : 0;
        if (r < 0)
            fail(c);
        else if (r > 0)
            XML_StopParser(c->xp, XML_TRUE);
    }
}

/* ---- driving one part ---------------------------------------------------------------------- */

static void parser_setup(xp_ctx *c, XML_Parser xp, XML_StartElementHandler st,
                         XML_EndElementHandler en);

/* Streamed: the shared strings' pool and index allocated once, sized from the part (its text
 * is never longer than its XML; a string takes at least 5 bytes of it) and the cap. Grown by
 * doubling instead, each step copied the whole table: the worker's peak held it twice. */
static int sst_reserve(xp_ctx *c, uint64_t xml_bytes)
{
    size_t cap = c->sstp->lim.max_sst;
    size_t pool = xml_bytes + 2 < cap + 1 ? (size_t)xml_bytes + 2 : cap + 1;
    size_t idx = xml_bytes / 5 + 1 < cap / sizeof *c->sst + 1 ? (size_t)(xml_bytes / 5) + 1
                                                              : cap / sizeof *c->sst + 1;
    if (pool > c->sstp->pool.cap) {
        char *p = cs_realloc(c->sstp->pool.data, pool);
        if (!p) return cs_error_set(c->err, CS_E_NOMEM, NULL);
        c->sstp->pool.data = p;
        c->sstp->pool.cap = pool;
    }
    if (idx > c->cap_sst) {
        size_t *p = cs_realloc(c->sst, idx * sizeof *p);
        if (!p) return cs_error_set(c->err, CS_E_NOMEM, NULL);
        c->sst = p;
        c->cap_sst = idx;
    }
    return 0;
}

static int xml_error(xp_ctx *c, const char *name);
static int part_end(unzFile uf, xp_ctx *c, const char *name, int rc);

/* Inflate one zip entry into an XML parser (streamed, c->row_fn set: only open it, with the
 * parser ready for sheet_xlsx_feed). Returns 0, 1 when the entry is absent (and not
 * required), -1 on error (err set). *budget is the inflated bytes still allowed. */
static int parse_part(unzFile uf, const char *name, xp_ctx *c, XML_StartElementHandler st,
                      XML_EndElementHandler en, size_t *budget, int required)
{
    if (unzLocateFile(uf, name, 2) != UNZ_OK) {
        if (!required) return 1;
        return cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: thiếu phần %s", name);
    }
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(uf, &info, NULL, 0, NULL, 0, NULL, 0) != UNZ_OK)
        return cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: mục lục zip hỏng");
    if (info.uncompressed_size > *budget)
        return sheet_limit(c->err, "Nội dung giải nén vượt %zu byte (%s)", c->s->lim.max_unzipped,
                           name);
    if (c->sstp && st == on_sst_start && sst_reserve(c, info.uncompressed_size)) return -1;
    if (unzOpenCurrentFile(uf) != UNZ_OK)
        return cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: không mở được %s (có mật khẩu?)",
                            name);
    XML_Parser xp = XML_ParserCreateNS(NULL, '|');
    if (!xp) {
        unzCloseCurrentFile(uf);
        return cs_error_set(c->err, CS_E_NOMEM, NULL);
    }
    parser_setup(c, xp, st, en);
    if (c->open_only) return 0; /* streamed: sheet_xlsx_feed drives it */
    int rc = 0;
    char buf[65536];
    for (;;) {
        int n = unzReadCurrentFile(uf, buf, sizeof buf);
        if (n < 0) {
            rc = cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: dữ liệu nén hỏng (%s)", name);
            break;
        }
        if ((size_t)n > *budget) {
            rc = sheet_limit(c->err, "Nội dung giải nén vượt %zu byte (%s)", c->s->lim.max_unzipped,
                             name);
            break;
        }
        *budget -= (size_t)n;
        if (XML_Parse(xp, buf, n, n == 0) == XML_STATUS_ERROR) {
            rc = xml_error(c, name);
            break;
        }
        if (n == 0) break;
    }
    return part_end(uf, c, name, rc);
}

static void parser_setup(xp_ctx *c, XML_Parser xp, XML_StartElementHandler st,
                         XML_EndElementHandler en)
{
    c->xp = xp;
    c->failed = 0;
    c->capture = 0;
    c->rph = 0;
    XML_SetUserData(xp, c);
    XML_SetElementHandler(xp, st, en);
    XML_SetCharacterDataHandler(xp, on_chars);
    XML_SetStartDoctypeDeclHandler(xp, on_doctype);
    XML_SetEntityDeclHandler(xp, on_entity);
}

static int xml_error(xp_ctx *c, const char *name)
{
    if (!c->failed)
        cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: XML hỏng trong %s dòng %lu: %s", name,
                     (unsigned long)XML_GetCurrentLineNumber(c->xp),
                     XML_ErrorString(XML_GetErrorCode(c->xp)));
    return -1;
}

/* The parser freed and the zip entry closed (its CRC checked when all went well). */
static int part_end(unzFile uf, xp_ctx *c, const char *name, int rc)
{
    XML_ParserFree(c->xp);
    c->xp = NULL;
    if (unzCloseCurrentFile(uf) == UNZ_CRCERROR && !rc)
        rc = cs_error_set(c->err, CS_E_IMPORT_FORMAT, "XLSX: sai CRC trong %s", name);
    return rc;
}

/* Resolve a relationship target against the folder of the part that names it. */
static int resolve(const char *dir, const char *target, char *out, size_t outsz)
{
    char tmp[512];
    if (target[0] == '/')
        snprintf(tmp, sizeof tmp, "%s", target + 1);
    else
        snprintf(tmp, sizeof tmp, "%s%s", dir, target);
    /* fold "a/b/../c" and "./" — targets stay inside the package */
    char *seg[32];
    size_t nseg = 0;
    char *save = NULL;
    for (char *t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, ".")) continue;
        if (!strcmp(t, "..")) {
            if (nseg) nseg--;
            continue;
        }
        if (nseg == 32) return -1;
        seg[nseg++] = t;
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nseg; i++) {
        int w = snprintf(out + o, outsz - o, "%s%s", i ? "/" : "", seg[i]);
        if (w < 0 || (size_t)w >= outsz - o) return -1;
        o += (size_t)w;
    }
    return nseg ? 0 : -1;
}

/* The package's parts up to the worksheet: its name into sheetpart, the shared strings loaded,
 * the workbook's facts (date1904, sheets) in c. 0 or -1 with err. */
static int read_prologue(unzFile uf, xp_ctx *c, size_t *budget, char sheetpart[256], cs_error *err)
{
    char wb[256] = "xl/workbook.xml", wbdir[256], rels[300], sstpart[256];
    int rc;
    /* the package's main part (nearly always xl/workbook.xml) */
    c->want_office = 1;
    rc = parse_part(uf, "_rels/.rels", c, on_rels_start, NULL, budget, 0);
    if (rc < 0) return -1;
    if (rc == 0 && c->target[0] && resolve("", c->target, wb, sizeof wb))
        return cs_error_set(err, CS_E_IMPORT_FORMAT, "XLSX: đường dẫn workbook sai");
    c->want_office = 0;
    c->target[0] = '\0';
    const char *slash = strrchr(wb, '/');
    size_t dl = slash ? (size_t)(slash - wb) + 1 : 0;
    snprintf(wbdir, sizeof wbdir, "%.*s", (int)dl, wb);
    snprintf(rels, sizeof rels, "%s_rels/%s.rels", wbdir, wb + dl);

    rc = parse_part(uf, wb, c, on_wb_start, NULL, budget, 0);
    if (rc < 0) return -1;
    if (rc == 1 || !c->sheet_rid[0]) { /* no workbook part: try the usual first sheet */
        snprintf(sheetpart, 256, "xl/worksheets/sheet1.xml");
        snprintf(sstpart, sizeof sstpart, "xl/sharedStrings.xml");
    } else {
        c->want_id = c->sheet_rid;
        rc = parse_part(uf, rels, c, on_rels_start, NULL, budget, 1);
        if (rc) return -1;
        if (!c->target[0] || resolve(wbdir, c->target, sheetpart, 256))
            return cs_error_set(err, CS_E_IMPORT_FORMAT,
                                "XLSX: không tìm thấy trang tính đầu tiên");
        if (!c->sst_target[0] || resolve(wbdir, c->sst_target, sstpart, sizeof sstpart))
            snprintf(sstpart, sizeof sstpart, "%ssharedStrings.xml", wbdir);
    }
    rc = parse_part(uf, sstpart, c, on_sst_start, on_sst_end, budget, 0);
    return rc < 0 ? -1 : 0;
}

static void extra_sheets(xp_ctx *c, sheet_warnings *w)
{
    sheet_utf8_cut(c->sheet_name);
    if (c->nsheets > 1)
        sheet_warn_add(w, SHEET_W_EXTRA_SHEETS,
                       "Tệp có %u trang tính; chỉ đọc trang đầu tiên \"%s\"", c->nsheets,
                       c->sheet_name);
}

int sheet_read_xlsx(sheet *s, const unsigned char *data, size_t len, cs_error *err)
{
    memzip mz = {.p = data, .fd = -1, .len = len};
    zlib_filefunc64_def ff = {mz_open, mz_read,  mz_write, mz_tell,
                              mz_seek, mz_close, mz_error, &mz};
    unzFile uf = unzOpen2_64("mem.xlsx", &ff);
    if (!uf) return cs_error_set(err, CS_E_IMPORT_FORMAT, "XLSX: không phải tệp zip hợp lệ");
    xp_ctx c = {.s = s, .err = err};
    cs_buf_init(&c.text, s->lim.max_cell + 1);
    size_t budget = s->lim.max_unzipped;
    char sheetpart[256];
    int rc = read_prologue(uf, &c, &budget, sheetpart, err);
    if (!rc) rc = parse_part(uf, sheetpart, &c, on_ws_start, on_ws_end, &budget, 1);
    if (!rc && s->in_row && sheet_b_row_end(s, err)) rc = -1;
    if (!rc) {
        s->date1904 = c.date1904;
        extra_sheets(&c, &s->warnings);
    }
    unzClose(uf);
    cs_buf_free(&c.text);
    cs_free(c.sst);
    return rc ? -1 : 0;
}

/* ---- streamed: the worksheet parsed a window at a time --------------------------------------- */

struct sheet_xlsx_rd {
    memzip mz;
    zlib_filefunc64_def ff;
    unzFile uf;
    xp_ctx c;
    size_t budget;
    char part[256];
    int suspended, final_sent;
    char buf[65536];
};

int sheet_xlsx_open(const unsigned char *mem, int fd, size_t len, sheet *first,
                    sheet_xlsx_row_fn fn, void *arg, sheet_warnings *w, int *date1904,
                    sheet_xlsx_rd **out, cs_error *err)
{
    *out = NULL;
    sheet_xlsx_rd *x = cs_calloc(1, sizeof *x);
    if (!x) return cs_error_set(err, CS_E_NOMEM, NULL);
    x->mz = (memzip){.p = mem, .fd = fd, .len = len};
    x->ff = (zlib_filefunc64_def){mz_open, mz_read,  mz_write, mz_tell,
                                  mz_seek, mz_close, mz_error, &x->mz};
    x->c.s = first;
    x->c.err = err;
    x->c.sstp = sheet_b_new(&first->lim);
    cs_buf_init(&x->c.text, first->lim.max_cell + 1);
    x->budget = first->lim.max_unzipped;
    int rc = x->c.sstp ? 0 : cs_error_set(err, CS_E_NOMEM, NULL);
    if (!rc) {
        x->uf = unzOpen2_64("file.xlsx", &x->ff);
        if (!x->uf) rc = cs_error_set(err, CS_E_IMPORT_FORMAT, "XLSX: không phải tệp zip hợp lệ");
    }
    if (!rc) rc = read_prologue(x->uf, &x->c, &x->budget, x->part, err);
    if (!rc) {
        x->c.row_fn = fn;
        x->c.row_arg = arg;
        x->c.open_only = 1;
        rc = parse_part(x->uf, x->part, &x->c, on_ws_start, on_ws_end, &x->budget, 1);
    }
    if (rc) {
        sheet_xlsx_close(x);
        return -1;
    }
    *date1904 = x->c.date1904;
    extra_sheets(&x->c, w);
    *out = x;
    return 0;
}

int sheet_xlsx_feed(sheet_xlsx_rd *x, int *done, cs_error *err)
{
    xp_ctx *c = &x->c;
    c->err = err;
    *done = 0;
    if (!c->xp) return cs_error_set(err, CS_E_INTERNAL, "XLSX: read past the end");
    for (;;) {
        enum XML_Status st;
        int n = -1;
        if (x->suspended) {
            x->suspended = 0;
            st = XML_ResumeParser(c->xp);
        } else {
            n = unzReadCurrentFile(x->uf, x->buf, sizeof x->buf);
            if (n < 0)
                return cs_error_set(err, CS_E_IMPORT_FORMAT, "XLSX: dữ liệu nén hỏng (%s)",
                                    x->part);
            if ((size_t)n > x->budget)
                return sheet_limit(err, "Nội dung giải nén vượt %zu byte (%s)",
                                   c->s->lim.max_unzipped, x->part);
            x->budget -= (size_t)n;
            x->final_sent = n == 0;
            st = XML_Parse(c->xp, x->buf, n, n == 0);
        }
        if (st == XML_STATUS_ERROR) return xml_error(c, x->part);
        if (st == XML_STATUS_SUSPENDED) {
            x->suspended = 1;
            return 0; /* a window is full */
        }
        if (!x->final_sent) continue;
        int rc = part_end(x->uf, c, x->part, 0);
        if (!rc && c->s->in_row && sheet_b_row_end(c->s, err)) rc = -1;
        *done = 1;
        return rc;
    }
}

void sheet_xlsx_close(sheet_xlsx_rd *x)
{
    if (!x) return;
    if (x->c.xp) {
        XML_ParserFree(x->c.xp);
        unzCloseCurrentFile(x->uf);
    }
    if (x->uf) unzClose(x->uf);
    cs_buf_free(&x->c.text);
    cs_free(x->c.sst);
    sheet_free(x->c.sstp);
    cs_free(x);
}
