/* jobs/import_rows: header mapping and per-cell repair-or-refuse rules for imported sheets.
 * Pure (no database, no logging of values: they are personal data). Business validation
 * that needs more than one cell's spreadsheet history — age limits, duplicates — is not here.
 *
 * Decision on 10–11 digit citizen IDs (Excel stored the ID as a number and dropped the
 * leading zero(s); every province code starts with 0, so every CCCD typed into a General
 * column loses at least one digit). We put the zeros back ONLY when the 12-digit result has
 * a valid province code AND its digits 4–6 (century + year) match the row's birth date.
 * Without a birth date, or when either check fails, the row is refused with
 * CS_F_CCCD_LOST_ZERO: a digit lost elsewhere (a typo) would otherwise register a stranger's
 * ID. The birth-year check is what makes the repair safe — a random 11-digit typo passes it
 * about once in a thousand, and the province code must fit too. Scientific notation
 * ("3.8E+11") is always refused: the digits are gone. */
#include "jobs/import_rows.h"
#include "jobs/sheet_int.h"
#include "core/mem.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[IMPORT_F__COUNT] = {
    "owner_name",   "cccd",     "phone",          "birth_date",      "commune_code",
    "commune_name", "address",  "business_name",  "business_reg_no", "tax_code",
    "has_epayment", "consent",  "household_code", "owner_cccd",      "name",
    "description",  "category", "price",          "stock",           "weight_g",
    "length_mm",    "width_mm", "height_mm",      "ocop_stars",      "flagship",
};

const char *import_kind_name(import_kind k)
{
    return k == IMPORT_PRODUCTS ? "products" : "households";
}

const char *import_field_name(import_field f)
{
    return (unsigned)f < IMPORT_F__COUNT ? field_names[f] : "";
}

import_field import_field_from_name(const char *name)
{
    for (unsigned i = 0; name && i < IMPORT_F__COUNT; i++)
        if (!strcmp(field_names[i], name)) return (import_field)i;
    return IMPORT_F__COUNT;
}

import_kind import_field_kind(import_field f)
{
    return f >= IMPORT_F_HOUSEHOLD_CODE ? IMPORT_PRODUCTS : IMPORT_HOUSEHOLDS;
}

/* ---- header keys --------------------------------------------------------------------------- */

int import_header_key(const char *header, char *out, size_t outsz)
{
    if (!outsz) return 0;
    out[0] = '\0';
    char *f = vn_fold(header ? header : "");
    const char *src = f ? f : (header ? header : "");
    size_t o = 0;
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 1 < outsz; p++) {
        int c = *p;
        if (c < 0x80 && isalnum(c)) {
            if (space && o) out[o++] = ' ';
            if (o + 1 < outsz) out[o++] = (char)tolower(c);
            space = 0;
        } else {
            space = 1;
        }
    }
    out[o] = '\0';
    int oom = !f && vn_utf8_valid(header ? header : "");
    cs_free(f);
    return oom ? -1 : 0;
}

/* The same key with "(…)" and "[…]" left out: "Số CCCD (12 số)" → "so cccd". */
static int header_key_noparen(const char *header, char *out, size_t outsz)
{
    char tmp[512];
    size_t o = 0;
    int depth = 0;
    for (const char *p = header ? header : ""; *p && o + 1 < sizeof tmp; p++) {
        if (*p == '(' || *p == '[')
            depth++;
        else if ((*p == ')' || *p == ']') && depth)
            depth--;
        else if (!depth)
            tmp[o++] = *p;
    }
    tmp[o] = '\0';
    sheet_utf8_cut(tmp);
    return import_header_key(tmp, out, outsz);
}

/* ---- the column table ---------------------------------------------------------------------- */

typedef struct col_ent {
    import_column_spec pub;
    char **syn;
    char **keys;
    char *header_s, *sample_s, *help_s;
} col_ent;

struct import_columns {
    col_ent ent[IMPORT_F__COUNT];
    int present[IMPORT_F__COUNT];
    size_t order[2][IMPORT_F__COUNT]; /* per kind, file order */
    size_t n[2];
    /* every folded header key of a kind, sorted: a sheet's header search looks up each cell
     * of its first rows, and a wide sheet made the linear scan over all synonyms show */
    struct key_ent {
        const char *key;
        import_field field;
    } * index[2];
    size_t nindex[2];
};

void import_columns_free(import_columns *c)
{
    if (!c) return;
    cs_free(c->index[0]);
    cs_free(c->index[1]);
    for (unsigned f = 0; f < IMPORT_F__COUNT; f++) {
        col_ent *e = &c->ent[f];
        for (size_t i = 0; i < e->pub.nsyn; i++) {
            if (e->syn) cs_free(e->syn[i]);
            if (e->keys) cs_free(e->keys[i]);
        }
        cs_free(e->syn);
        cs_free(e->keys);
        cs_free(e->header_s);
        cs_free(e->sample_s);
        cs_free(e->help_s);
    }
    cs_free(c);
}

static int find_col(const sheet *s, const char *name)
{
    for (unsigned c = 0; c < sheet_ncells(s, 0); c++)
        if (!strcmp(sheet_cell(s, 0, c), name)) return (int)c;
    return -1;
}

static char *trimmed_dup(const char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    return cs_strndup(s, n);
}

static int load_entry(import_columns *c, const sheet *s, size_t row, const int *col, cs_error *err)
{
    unsigned line = sheet_row_no(s, row);
    const char *kind = sheet_cell(s, row, (unsigned)col[0]);
    const char *field = sheet_cell(s, row, (unsigned)col[1]);
    import_kind k;
    if (!strcmp(kind, "households"))
        k = IMPORT_HOUSEHOLDS;
    else if (!strcmp(kind, "products"))
        k = IMPORT_PRODUCTS;
    else
        return cs_error_set(err, CS_E_CONFIG, "import_columns line %u: kind '%s'", line, kind);
    import_field f = import_field_from_name(field);
    if (f == IMPORT_F__COUNT || import_field_kind(f) != k)
        return cs_error_set(err, CS_E_CONFIG, "import_columns line %u: field '%s'", line, field);
    if (c->present[f])
        return cs_error_set(err, CS_E_CONFIG, "import_columns line %u: '%s' twice", line, field);
    col_ent *e = &c->ent[f];
    c->present[f] = 1;
    c->order[k][c->n[k]++] = f;
    e->pub.kind = k;
    e->pub.field = f;
    e->pub.required = !strcmp(sheet_cell(s, row, (unsigned)col[2]), "yes");
    snprintf(e->pub.group, sizeof e->pub.group, "%s", sheet_cell(s, row, (unsigned)col[3]));
    const char *hs = sheet_cell(s, row, (unsigned)col[4]);
    size_t nsyn = 1;
    for (const char *p = hs; *p; p++)
        nsyn += *p == '|';
    e->syn = cs_calloc(nsyn, sizeof *e->syn);
    e->keys = cs_calloc(nsyn, sizeof *e->keys);
    e->sample_s = cs_strdup(sheet_cell(s, row, (unsigned)col[5]));
    e->help_s = cs_strdup(col[6] >= 0 ? sheet_cell(s, row, (unsigned)col[6]) : "");
    if (!e->syn || !e->keys || !e->sample_s || !e->help_s)
        return cs_error_set(err, CS_E_NOMEM, NULL);
    const char *p = hs;
    for (size_t i = 0; i < nsyn; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char *one = cs_strndup(p, len);
        char *t = one ? trimmed_dup(one) : NULL;
        cs_free(one);
        char key[128];
        if (!t) return cs_error_set(err, CS_E_NOMEM, NULL);
        e->syn[i] = t;
        e->pub.nsyn = i + 1;
        if (import_header_key(t, key, sizeof key)) return cs_error_set(err, CS_E_NOMEM, NULL);
        if (!key[0])
            return cs_error_set(err, CS_E_CONFIG, "import_columns line %u: empty header", line);
        if (!(e->keys[i] = cs_strdup(key))) return cs_error_set(err, CS_E_NOMEM, NULL);
        p = bar ? bar + 1 : p + len;
    }
    e->header_s = cs_strdup(e->syn[0]);
    if (!e->header_s) return cs_error_set(err, CS_E_NOMEM, NULL);
    e->pub.header = e->header_s;
    e->pub.sample = e->sample_s;
    e->pub.help = e->help_s;
    e->pub.syn = (const char *const *)e->syn;
    return 0;
}

static int key_ent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct key_ent *)a)->key, ((const struct key_ent *)b)->key);
}

static int build_index(import_columns *c, cs_error *err)
{
    for (int k = 0; k < 2; k++) {
        size_t n = 0;
        for (size_t i = 0; i < c->n[k]; i++)
            n += c->ent[c->order[k][i]].pub.nsyn;
        if (!n) continue;
        if (!(c->index[k] = cs_calloc(n, sizeof *c->index[k])))
            return cs_error_set(err, CS_E_NOMEM, NULL);
        for (size_t i = 0; i < c->n[k]; i++) {
            const col_ent *e = &c->ent[c->order[k][i]];
            for (size_t j = 0; j < e->pub.nsyn; j++)
                c->index[k][c->nindex[k]++] = (struct key_ent){e->keys[j], e->pub.field};
        }
        qsort(c->index[k], n, sizeof *c->index[k], key_ent_cmp);
    }
    return 0;
}

int import_columns_parse(const void *data, size_t len, import_columns **out, cs_error *err)
{
    *out = NULL;
    sheet *s = NULL;
    if (sheet_read(data, len, NULL, &s, err)) return -1;
    import_columns *c = cs_calloc(1, sizeof *c);
    int rc = 0;
    if (!c) {
        sheet_free(s);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    static const char *const names[7] = {"kind",    "field",  "required", "group",
                                         "headers", "sample", "help_vi"};
    int col[7];
    for (int i = 0; i < 7; i++)
        if ((col[i] = find_col(s, names[i])) < 0 && i < 6) {
            rc = cs_error_set(err, CS_E_CONFIG, "import_columns: no column '%s'", names[i]);
            goto out;
        }
    for (size_t r = 1; r < sheet_nrows(s) && !rc; r++)
        rc = load_entry(c, s, r, col, err);
    if (rc) goto out;
    /* two fields of one kind must not answer to the same header */
    for (unsigned a = 0; a < IMPORT_F__COUNT; a++)
        for (unsigned b = a + 1; b < IMPORT_F__COUNT && c->present[a]; b++) {
            if (!c->present[b] || c->ent[a].pub.kind != c->ent[b].pub.kind) continue;
            for (size_t i = 0; i < c->ent[a].pub.nsyn; i++)
                for (size_t j = 0; j < c->ent[b].pub.nsyn; j++)
                    if (!strcmp(c->ent[a].keys[i], c->ent[b].keys[j])) {
                        rc = cs_error_set(err, CS_E_CONFIG, "import_columns: '%s' names %s and %s",
                                          c->ent[a].syn[i], field_names[a], field_names[b]);
                        goto out;
                    }
        }
    if (!rc) rc = build_index(c, err);
out:
    sheet_free(s);
    if (rc) {
        import_columns_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int import_columns_load(const char *path, import_columns **out, cs_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cs_error_set(err, CS_E_CONFIG, "import_columns: cannot open %s", path);
    cs_buf b;
    cs_buf_init(&b, 1u << 20);
    char tmp[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (cs_buf_append(&b, tmp, n)) {
            rc = cs_error_set(err, CS_E_CONFIG, "import_columns: %s too large", path);
            break;
        }
    fclose(f);
    if (!rc) rc = import_columns_parse(b.data ? b.data : "", b.len, out, err);
    cs_buf_free(&b);
    return rc;
}

size_t import_columns_count(const import_columns *c, import_kind k)
{
    return c->n[k];
}

const import_column_spec *import_columns_at(const import_columns *c, import_kind k, size_t i)
{
    return i < c->n[k] ? &c->ent[c->order[k][i]].pub : NULL;
}

const import_column_spec *import_columns_find(const import_columns *c, import_field f)
{
    return (unsigned)f < IMPORT_F__COUNT && c->present[f] ? &c->ent[f].pub : NULL;
}

/* Which field of kind a header names, or IMPORT_F__COUNT (*oom set when folding failed). */
static import_field match_header(const import_columns *c, import_kind k, const char *header,
                                 int *oom)
{
    char key[128], key2[128];
    if (import_header_key(header, key, sizeof key) ||
        header_key_noparen(header, key2, sizeof key2)) {
        *oom = 1;
        return IMPORT_F__COUNT;
    }
    if (!key[0]) return IMPORT_F__COUNT;
    for (int pass = 0; pass < 2; pass++) {
        const char *want = pass ? key2 : key;
        if (pass && (!want[0] || !strcmp(key, key2))) break;
        struct key_ent probe = {want, IMPORT_F__COUNT};
        const struct key_ent *hit =
            c->nindex[k] ? bsearch(&probe, c->index[k], c->nindex[k], sizeof probe, key_ent_cmp)
                         : NULL;
        if (hit) return hit->field;
    }
    return IMPORT_F__COUNT;
}

/* ---- mapping ------------------------------------------------------------------------------- */

void import_col_letter(unsigned col, char *out, size_t outsz)
{
    char tmp[8];
    size_t n = 0;
    unsigned v = col + 1;
    while (v && n < sizeof tmp) {
        v--;
        tmp[n++] = (char)('A' + v % 26);
        v /= 26;
    }
    size_t o = 0;
    while (n && o + 1 < outsz)
        out[o++] = tmp[--n];
    if (outsz) out[o] = '\0';
}

/* Columns nobody needs to be warned about: row counters and our own error column. */
static int ignorable_header(const char *header, int *oom)
{
    char key[64];
    if (import_header_key(header, key, sizeof key)) *oom = 1;
    return !strcmp(key, "stt") || !strcmp(key, "tt") || !strcmp(key, "so thu tu") ||
           !strcmp(key, "loi can sua") || !strcmp(key, "no");
}

static void copy_header(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src);
    sheet_utf8_cut(dst);
}

int import_map_header(const import_columns *cols, import_kind kind, const sheet *s, import_map *m,
                      cs_error *err)
{
    memset(m, 0, sizeof *m);
    cs_error_clear(err);
    m->kind = kind;
    for (unsigned f = 0; f < IMPORT_F__COUNT; f++)
        m->col_of[f] = -1;
    size_t nrows = sheet_nrows(s);
    if (!nrows) return cs_error_set(err, CS_E_IMPORT_EMPTY, NULL);

    /* the header row: the first of the first 10 rows naming the most fields (at least 2) */
    size_t best = 0;
    unsigned best_n = 0;
    int oom = 0;
    for (size_t r = 0; r < nrows && r < 10; r++) {
        unsigned seen = 0;
        for (unsigned c = 0; c < sheet_ncells(s, r); c++)
            seen += match_header(cols, kind, sheet_cell(s, r, c), &oom) != IMPORT_F__COUNT;
        if (seen > best_n) best_n = seen, best = r;
    }
    if (oom) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (best_n < 2) best = 0;
    m->header_index = best;
    m->first_data = best + 1;
    m->header_row_no = sheet_row_no(s, best);
    m->ncols = sheet_ncells(s, best);
    m->date1904 = sheet_date1904(s);
    if (best > 0)
        sheet_warn_add(&m->warnings, SHEET_W_TITLE_ROWS,
                       "Dòng tiêu đề (tên cột) là dòng %u; đã bỏ qua %zu dòng phía trên",
                       m->header_row_no, best);

    for (unsigned c = 0; c < m->ncols; c++) {
        const char *h = sheet_cell(s, best, c);
        char letter[8];
        import_col_letter(c, letter, sizeof letter);
        import_field f = match_header(cols, kind, h, &oom);
        if (f == IMPORT_F__COUNT) {
            if (!sheet_blank(h, strlen(h)) && !ignorable_header(h, &oom)) {
                char shown[80];
                copy_header(shown, sizeof shown, h);
                sheet_warn_add(&m->warnings, SHEET_W_UNKNOWN_COLUMN,
                               "Cột %s \"%s\" không dùng đến, đã bỏ qua", letter, shown);
            }
            continue;
        }
        if (m->col_of[f] >= 0) {
            char first[8];
            import_col_letter((unsigned)m->col_of[f], first, sizeof first);
            cs_error_set(err, CS_E_IMPORT_DUPLICATE_COLUMN, "\"%s\": cột %s và cột %s",
                         import_columns_find(cols, f)->header, first, letter);
            sheet_utf8_cut(err->detail);
            return -1;
        }
        m->col_of[f] = (int)c;
        copy_header(m->header_of[f], sizeof m->header_of[f], h);
    }

    if (oom) return cs_error_set(err, CS_E_NOMEM, NULL);
    /* required columns, and groups (one of them) */
    char missing[256] = "";
    size_t mo = 0;
    for (size_t i = 0; i < cols->n[kind]; i++) {
        const import_column_spec *sp = &cols->ent[cols->order[kind][i]].pub;
        char name[160] = "";
        if (sp->group[0]) {
            int have = 0, earlier = 0;
            for (size_t j = 0; j < cols->n[kind]; j++) {
                const import_column_spec *o = &cols->ent[cols->order[kind][j]].pub;
                if (strcmp(o->group, sp->group)) continue;
                if (m->col_of[o->field] >= 0) have = 1;
                if (j < i) earlier = 1;
            }
            if (have || earlier) continue; /* a group is named once, at its first member */
            size_t no = 0;
            for (size_t j = i; j < cols->n[kind]; j++) {
                const import_column_spec *o = &cols->ent[cols->order[kind][j]].pub;
                if (strcmp(o->group, sp->group)) continue;
                int w =
                    snprintf(name + no, sizeof name - no, "%s%s", no ? " hoặc " : "", o->header);
                if (w > 0) no = no + (size_t)w < sizeof name ? no + (size_t)w : sizeof name - 1;
            }
        } else if (sp->required && m->col_of[sp->field] < 0) {
            snprintf(name, sizeof name, "%s", sp->header);
        } else {
            continue;
        }
        cs_error_field(err, sp->header, CS_F_REQUIRED, NULL);
        int w = snprintf(missing + mo, sizeof missing - mo, "%s%s", mo ? "; " : "", name);
        if (w > 0) mo = mo + (size_t)w < sizeof missing ? mo + (size_t)w : sizeof missing - 1;
    }
    if (err->nfields) {
        cs_error_set(err, CS_E_IMPORT_MISSING_COLUMNS, "Thiếu cột: %s", missing);
        sheet_utf8_cut(err->detail);
        return -1;
    }
    if (m->first_data >= nrows) return cs_error_set(err, CS_E_IMPORT_EMPTY, NULL);

    /* values under no header: say so once */
    for (size_t r = m->first_data; r < nrows; r++)
        if (sheet_ncells(s, r) > m->ncols) {
            char letter[8];
            import_col_letter(m->ncols, letter, sizeof letter);
            sheet_warn_add(&m->warnings, SHEET_W_CELLS_BEYOND_HEADER,
                           "Dòng %u (và có thể dòng khác) có dữ liệu từ cột %s, nơi không có tên "
                           "cột; đã bỏ qua",
                           sheet_row_no(s, r), letter);
            break;
        }
    return 0;
}

/* ---- reference lists ----------------------------------------------------------------------- */

typedef struct ref_ent {
    import_ref pub;
    char *key;       /* folded name */
    char *short_key; /* without the kind word ("xa", "phuong", …) when STRIP_KIND */
    char *note_key;
} ref_ent;

struct import_reflist {
    ref_ent *e;
    size_t n;
    int flags;
};

static char *fold_key(const char *s)
{
    char tmp[256];
    if (import_header_key(s, tmp, sizeof tmp)) return NULL;
    return cs_strdup(tmp);
}

/* "xa hoang hoa" → "hoang hoa"; also "phuong", "thi tran", "p", "x", "tt". */
static const char *strip_kind(const char *key)
{
    static const char *const words[] = {"thi tran ", "phuong ", "xa ", "tt ", "p ", "x "};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (!strncmp(key, words[i], n) && key[n]) return key + n;
    }
    return key;
}

void import_reflist_free(import_reflist *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        ref_ent *e = &l->e[i];
        cs_free((char *)e->pub.code);
        cs_free((char *)e->pub.name);
        cs_free((char *)e->pub.note);
        cs_free(e->key);
        cs_free(e->short_key);
        cs_free(e->note_key);
    }
    cs_free(l->e);
    cs_free(l);
}

int import_reflist_new(const import_ref *items, size_t n, int flags, import_reflist **out,
                       cs_error *err)
{
    *out = NULL;
    import_reflist *l = cs_calloc(1, sizeof *l);
    if (!l || !(l->e = cs_calloc(n ? n : 1, sizeof *l->e))) {
        cs_free(l);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    l->flags = flags;
    for (size_t i = 0; i < n; i++) {
        ref_ent *e = &l->e[i];
        l->n = i + 1;
        e->pub.code = cs_strdup(items[i].code ? items[i].code : "");
        e->pub.name = cs_strdup(items[i].name ? items[i].name : "");
        e->pub.note = items[i].note ? cs_strdup(items[i].note) : NULL;
        e->key = fold_key(e->pub.name ? e->pub.name : "");
        e->short_key = e->key ? cs_strdup(strip_kind(e->key)) : NULL;
        e->note_key = items[i].note ? fold_key(items[i].note) : NULL;
        if (!e->pub.code || !e->pub.name || (items[i].note && (!e->pub.note || !e->note_key)) ||
            !e->key || !e->short_key) {
            import_reflist_free(l);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
    }
    *out = l;
    return 0;
}

int import_reflist_load(const char *path, const char *code_col, const char *name_col,
                        const char *note_col, int flags, import_reflist **out, cs_error *err)
{
    *out = NULL;
    sheet *s = NULL;
    if (sheet_read_file(path, NULL, &s, err)) return -1;
    int cc = find_col(s, code_col), nc = find_col(s, name_col),
        tc = note_col ? find_col(s, note_col) : -1;
    if (cc < 0 || nc < 0 || (note_col && tc < 0)) {
        sheet_free(s);
        return cs_error_set(err, CS_E_CONFIG, "%s: columns %s/%s not found", path, code_col,
                            name_col);
    }
    size_t n = sheet_nrows(s) - 1;
    import_ref *items = cs_calloc(n ? n : 1, sizeof *items);
    if (!items) {
        sheet_free(s);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        items[i].code = sheet_cell(s, i + 1, (unsigned)cc);
        items[i].name = sheet_cell(s, i + 1, (unsigned)nc);
        items[i].note = tc >= 0 ? sheet_cell(s, i + 1, (unsigned)tc) : NULL;
    }
    int rc = import_reflist_new(items, n, flags, out, err);
    cs_free(items);
    sheet_free(s);
    return rc;
}

size_t import_reflist_count(const import_reflist *l)
{
    return l ? l->n : 0;
}

const import_ref *import_reflist_at(const import_reflist *l, size_t i)
{
    return l && i < l->n ? &l->e[i].pub : NULL;
}

const import_ref *import_reflist_find_code(const import_reflist *l, const char *code)
{
    for (size_t i = 0; l && code && i < l->n; i++)
        if (!strcmp(l->e[i].pub.code, code)) return &l->e[i].pub;
    return NULL;
}

const import_ref *import_reflist_find_name(const import_reflist *l, const char *name,
                                           int *ambiguous)
{
    if (ambiguous) *ambiguous = 0;
    if (!l || !name) return NULL;
    char key[256];
    if (import_header_key(name, key, sizeof key)) {
        if (ambiguous) *ambiguous = -1;
        return NULL;
    }
    if (!key[0]) return NULL;
    const import_ref *hit = NULL;
    size_t hits = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->e[i].key, key) || ((l->flags & IMPORT_REF_MATCH_NOTE) && l->e[i].note_key &&
                                          !strcmp(l->e[i].note_key, key))) {
            if (!hits++) hit = &l->e[i].pub;
        }
    if (hits == 0 && (l->flags & IMPORT_REF_STRIP_KIND)) {
        const char *sk = strip_kind(key);
        for (size_t i = 0; i < l->n; i++)
            if (!strcmp(l->e[i].short_key, sk) && !hits++) hit = &l->e[i].pub;
    }
    if (hits > 1) {
        if (ambiguous) *ambiguous = 1;
        return NULL;
    }
    return hit;
}

/* ---- row results --------------------------------------------------------------------------- */

void sheet_row_result_init(sheet_row_result *r)
{
    memset(r, 0, sizeof *r);
    cs_buf_init(&r->store_, 1u << 20);
}

void sheet_row_result_free(sheet_row_result *r)
{
    cs_buf_free(&r->store_);
    memset(r->voff_, 0, sizeof r->voff_);
}

const char *import_row_value(const sheet_row_result *r, import_field f)
{
    if ((unsigned)f >= IMPORT_F__COUNT || !r->voff_[f]) return NULL;
    return r->store_.data + r->voff_[f];
}

/* Store a value; 0 or -1 (OOM, err set). */
static int put_val(sheet_row_result *r, import_field f, const char *v, size_t n)
{
    size_t off = r->store_.len;
    if (cs_buf_append(&r->store_, v, n) || cs_buf_putc(&r->store_, '\0')) {
        cs_error_clear(&r->err);
        return cs_error_set(&r->err, CS_E_NOMEM, NULL);
    }
    r->voff_[f] = off;
    return 0;
}

static int put_str(sheet_row_result *r, import_field f, const char *v)
{
    return put_val(r, f, v, strlen(v));
}

typedef struct row_cx {
    const import_map *m;
    const sheet *s;
    size_t i;
    const import_ctx *ctx;
    sheet_row_result *r;
    int oom;
} row_cx;

static const char *raw(const row_cx *x, import_field f)
{
    int c = x->m->col_of[f];
    return c < 0 ? NULL : sheet_cell(x->s, x->i, (unsigned)c);
}

static void bad(row_cx *x, import_field f, cs_code code, const char *detail)
{
    const char *h = x->m->header_of[f][0] ? x->m->header_of[f] : field_names[f];
    cs_error_field(&x->r->err, h, code, detail);
}

/* Trimmed copy of a cell with spreadsheet protection undone: ="038…" (our error CSV and some
 * exports) and a leading ' before = + - @ (our CSV-injection guard). NULL when blank; sets
 * x->oom on allocation failure. Caller frees. */
static char *prep(row_cx *x, const char *v)
{
    if (!v) return NULL;
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n >= 3 && v[0] == '=' && v[1] == '"' && v[n - 1] == '"' && !memchr(v + 2, '"', n - 3)) {
        v += 2;
        n -= 3;
        x->r->repairs |= IMPORT_FIX_EXCEL_TEXT;
    } else if (n >= 2 && v[0] == '\'' && sheet_formula_like(v + 1)) {
        /* our CSV-injection guard (sheet_csv_cell): the ' goes, then the blanks it protected */
        v++;
        n--;
        while (n && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
            v++, n--;
        x->r->repairs |= IMPORT_FIX_EXCEL_TEXT;
    }
    if (n == 0 || sheet_blank(v, n)) return NULL;
    char *c = cs_strndup(v, n);
    if (!c) x->oom = 1;
    return c;
}

/* "500.0" / "38095012345.00" (a spreadsheet's float formatting) → "500". Only digits, one
 * dot, zeros after it; never "150.000" (a thousands group). In place; 1 when changed. */
static int drop_zero_fraction(char *s)
{
    char *dot = strchr(s, '.');
    if (!dot || dot == s) return 0;
    for (char *p = s; p < dot; p++)
        if (*p < '0' || *p > '9') return 0;
    size_t z = 0;
    for (char *p = dot + 1; *p; p++, z++)
        if (*p != '0') return 0;
    if (z == 0 || (z == 3 && dot - s <= 3)) return 0;
    *dot = '\0';
    return 1;
}

static int only_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* Free text: NFC, spaces; refuses legacy-font text and over-long values. keep_lines keeps
 * line breaks (descriptions). Returns the cleaned text (caller frees) or NULL. */
static char *clean_text(row_cx *x, import_field f, const char *v, long max_chars, int keep_lines)
{
    char *out = NULL;
    cs_code why = CS_OK;
    if (!keep_lines) {
        out = vn_text_clean(v, &why);
    } else {
        cs_buf b;
        cs_buf_init(&b, strlen(v) + 1);
        const char *p = v;
        int blank_run = 0;
        while (*p && why == CS_OK) {
            const char *nl = strpbrk(p, "\r\n");
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            char *line = cs_strndup(p, len);
            char *cl = line ? vn_text_clean(line, &why) : NULL;
            if (!line) why = CS_E_NOMEM;
            if (cl && cl[0]) {
                if (b.len && (cs_buf_append(&b, blank_run ? "\n\n" : "\n", blank_run ? 2 : 1)))
                    why = CS_E_NOMEM;
                if (cs_buf_puts(&b, cl)) why = CS_E_NOMEM;
                blank_run = 0;
            } else if (cl && b.len) {
                blank_run = 1;
            }
            cs_free(cl);
            cs_free(line);
            if (!nl) break;
            p = nl + (nl[0] == '\r' && nl[1] == '\n' ? 2 : 1);
        }
        if (why == CS_OK || why == CS_F_REQUIRED) {
            why = CS_OK;
            out = b.data ? cs_buf_steal(&b) : cs_strdup("");
            if (!out) why = CS_E_NOMEM;
        }
        cs_buf_free(&b);
    }
    if (!out) {
        if (why == CS_E_NOMEM)
            x->oom = 1;
        else
            bad(x, f, why == CS_OK ? CS_F_UTF8 : why, NULL);
        return NULL;
    }
    if (strcmp(out, v) != 0) x->r->repairs |= IMPORT_FIX_TEXT;
    sheet_encoding le = sheet_text_legacy_font(out);
    if (le == SHEET_ENC_TCVN3 || le == SHEET_ENC_VNI) {
        bad(x, f, CS_F_LEGACY_FONT, le == SHEET_ENC_TCVN3 ? "TCVN3" : "VNI");
        cs_free(out);
        return NULL;
    }
    long len = vn_utf8_len(out);
    if (len > max_chars) {
        char d[32];
        snprintf(d, sizeof d, "max %ld", max_chars);
        bad(x, f, CS_F_TOO_LONG, d);
        cs_free(out);
        return NULL;
    }
    return out;
}

static void set_text(row_cx *x, import_field f, long max_chars, int required, int keep_lines)
{
    char *v = prep(x, raw(x, f));
    if (!v) {
        if (required && !x->oom) bad(x, f, CS_F_REQUIRED, NULL);
        return;
    }
    char *c = clean_text(x, f, v, max_chars, keep_lines);
    cs_free(v);
    if (!c) return;
    if (c[0] == '\0') {
        if (required) bad(x, f, CS_F_REQUIRED, NULL);
    } else if (f == IMPORT_F_OWNER_NAME && strpbrk(c, "0123456789")) {
        bad(x, f, CS_F_FORMAT, "digits in a name");
    } else if (put_str(x->r, f, c)) {
        x->oom = 1;
    }
    cs_free(c);
}

/* Boolean cells: có/không and the ways people write them. -1 when absent, -2 when not a yes/no. */
/* 1 for a "yes" word, 0 for a "no" word, -1 for anything else (key as import_header_key) */
static int bool_word(const char *key)
{
    static const char *const yes[] = {"co",     "x",         "yes", "y",     "1",
                                      "true",   "dung",      "roi", "da co", "co roi",
                                      "dong y", "da dong y", "ok",  "v"};
    static const char *const no[] = {"khong", "ko",  "k",    "no",           "n",       "0",
                                     "false", "sai", "chua", "khong dong y", "chua co", "khong co"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcmp(key, yes[i])) return 1;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (!strcmp(key, no[i])) return 0;
    return -1;
}

static int parse_bool(row_cx *x, import_field f)
{
    char *v = prep(x, raw(x, f));
    if (!v) return -1;
    char key[64];
    if (import_header_key(v, key, sizeof key)) x->oom = 1;
    cs_free(v);
    if (x->oom) return -1;
    int b = bool_word(key);
    if (b >= 0) return b;
    bad(x, f, CS_F_YES_NO, NULL);
    return -2;
}

/* The flagship column: có/không (the old tick, which proposes nothing: issue 12), or the
 * province list's entry itself — its exact name or id — proposed as the product's link
 * (r->flagship 2, the cleaned text kept; the database resolves it, accents aside). */
static void set_flagship(row_cx *x)
{
    x->r->flagship = 0;
    char *v = prep(x, raw(x, IMPORT_F_FLAGSHIP));
    if (!v) return;
    char key[64];
    if (import_header_key(v, key, sizeof key)) x->oom = 1;
    int b = x->oom ? -1 : bool_word(key);
    if (b >= 0) {
        x->r->flagship = b;
        if (put_str(x->r, IMPORT_F_FLAGSHIP, b ? "1" : "0")) x->oom = 1;
    } else if (!x->oom) {
        char *e = clean_text(x, IMPORT_F_FLAGSHIP, v, 200, 0);
        if (e && *e) {
            x->r->flagship = 2;
            if (put_str(x->r, IMPORT_F_FLAGSHIP, e)) x->oom = 1;
        }
        cs_free(e);
    }
    cs_free(v);
}

/* *out: 1, 0, or -1 when missing (required) or not a yes/no; an absent optional one is 0. */
static void set_bool(row_cx *x, import_field f, int *out, int required)
{
    int b = parse_bool(x, f);
    *out = b >= 0 ? b : (b == -1 && !required ? 0 : -1);
    if (b == -1 && required && !x->oom) bad(x, f, CS_F_REQUIRED, NULL);
    if (*out >= 0 && put_str(x->r, f, *out ? "1" : "0")) x->oom = 1;
}

static void set_date(row_cx *x, import_field f, vn_date *out)
{
    char *v = prep(x, raw(x, f));
    out->y = out->m = out->d = 0;
    if (!v) {
        if (!x->oom) bad(x, f, CS_F_REQUIRED, NULL);
        return;
    }
    /* "1995-03-15 00:00:00" from database exports: the time is not part of a birth date */
    char *sp = strchr(v, ' ');
    if (sp && strchr(v, ':') > sp) *sp = '\0';
    char *tt = strchr(v, 'T');
    if (tt && tt > v && strchr(tt, ':')) *tt = '\0';
    int serial = 1, dots = 0; /* "34773" or "34773.5": a number, not "15.03.1995" */
    for (const char *p = v; *p; p++)
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            serial = 0;
    if (dots > 1) serial = 0;
    const char *use = v;
    char shifted[32];
    if (serial && x->m->date1904) { /* 1904 system: its day 0 is the 1900 system's day 1462 */
        char *end;
        double dd = strtod(v, &end);
        if (!*end && dd >= 0 && dd < 1e6) {
            snprintf(shifted, sizeof shifted, "%ld", (long)dd + 1462);
            use = shifted;
        }
    }
    cs_code why = CS_OK;
    vn_date d;
    if (vn_date_parse(use, 1, &d, &why)) {
        bad(x, f, why, NULL);
    } else {
        vn_date today = x->ctx && x->ctx->today.y ? x->ctx->today : vn_today();
        if (vn_date_cmp(d, today) > 0) {
            bad(x, f, CS_F_DATE_FUTURE, NULL);
        } else {
            char iso[11];
            vn_date_iso(d, iso);
            *out = d;
            if (serial) x->r->repairs |= IMPORT_FIX_DATE_SERIAL;
            if (put_str(x->r, f, iso)) x->oom = 1;
        }
    }
    cs_free(v);
}

/* The citizen ID rules; see the decision at the top of this file. */
static void set_cccd(row_cx *x, import_field f, int birth_year, int required)
{
    char *v = prep(x, raw(x, f));
    if (!v) {
        if (required && !x->oom) bad(x, f, CS_F_REQUIRED, NULL);
        return;
    }
    if (drop_zero_fraction(v)) x->r->repairs |= IMPORT_FIX_NUMBER;
    char out[13];
    cs_code why = CS_OK;
    size_t n = strlen(v);
    if (only_digits(v) && (n == 10 || n == 11)) {
        char cand[13];
        memset(cand, '0', 12 - n);
        memcpy(cand + 12 - n, v, n + 1);
        if (birth_year > 0 && vn_cccd_province_ok(cand) &&
            vn_cccd_normalize(cand, birth_year, out, &why) == 0) {
            x->r->repairs |= IMPORT_FIX_CCCD_ZERO;
            if (put_str(x->r, f, out)) x->oom = 1;
        } else {
            bad(x, f, CS_F_CCCD_LOST_ZERO, NULL);
        }
    } else if (vn_cccd_normalize(v, birth_year, out, &why)) {
        bad(x, f, why, NULL);
    } else if (put_str(x->r, f, out)) {
        x->oom = 1;
    }
    cs_free(v);
}

static void set_phone(row_cx *x)
{
    char *v = prep(x, raw(x, IMPORT_F_PHONE));
    if (!v) {
        if (!x->oom) bad(x, IMPORT_F_PHONE, CS_F_REQUIRED, NULL);
        return;
    }
    if (drop_zero_fraction(v)) x->r->repairs |= IMPORT_FIX_NUMBER;
    char out[11];
    cs_code why = CS_OK;
    if (vn_phone_normalize(v, out, &why)) {
        bad(x, IMPORT_F_PHONE, why, NULL);
    } else {
        size_t digits = 0;
        for (const char *p = v; *p; p++)
            digits += *p >= '0' && *p <= '9';
        if (digits == 9) x->r->repairs |= IMPORT_FIX_PHONE_ZERO;
        if (put_str(x->r, IMPORT_F_PHONE, out)) x->oom = 1;
    }
    cs_free(v);
}

/* A pre-2025 commune/ward (by code when code, else by name): 1 when merged whole into one new
 * commune (its code into out, the repair noted), 0 when unknown there too, -1 after a field
 * error (split between several new communes: the candidates named; or out of memory). */
static int former_commune(row_cx *x, import_field f, const char *code, const char *name,
                          char out[6])
{
    const import_reflist *former = x->ctx ? x->ctx->former : NULL;
    if (!former) return 0;
    int amb = 0;
    const import_ref *old = code ? import_reflist_find_code(former, code)
                                 : import_reflist_find_name(former, name, &amb);
    if (amb < 0) {
        x->oom = 1;
        return -1;
    }
    if (!old || !old->note) return 0;
    if (old->note[0] != '=') {
        char d[160];
        snprintf(d, sizeof d, "%.150s", old->note);
        bad(x, f, CS_F_COMMUNE_SPLIT, d);
        return -1;
    }
    snprintf(out, 6, "%.5s", old->note + 1);
    x->r->repairs |= IMPORT_FIX_OLD_COMMUNE;
    snprintf(x->r->former, sizeof x->r->former, "%s (%s) → %s (%.5s)", old->name, old->code,
             old->note[6] ? old->note + 7 : "", old->note + 1);
    return 1;
}

static void set_commune(row_cx *x)
{
    const import_reflist *list = x->ctx ? x->ctx->communes : NULL;
    char *code = prep(x, raw(x, IMPORT_F_COMMUNE_CODE));
    char *name_raw = prep(x, raw(x, IMPORT_F_COMMUNE_NAME));
    char *name = name_raw ? clean_text(x, IMPORT_F_COMMUNE_NAME, name_raw, 200, 0) : NULL;
    cs_free(name_raw);
    if (x->oom) goto out;
    const import_ref *by_code = NULL;
    if (code) {
        if (drop_zero_fraction(code)) x->r->repairs |= IMPORT_FIX_NUMBER;
        /* "14797 - Phường Hạc Thành": a code with its name, as drop-down lists show them */
        size_t d = 0;
        while (code[d] >= '0' && code[d] <= '9')
            d++;
        if (d == 5 && code[d] && !(code[d] >= '0' && code[d] <= '9')) code[d] = '\0';
        if (strlen(code) != 5 || !only_digits(code)) {
            bad(x, IMPORT_F_COMMUNE_CODE, CS_F_COMMUNE, NULL);
            goto out;
        }
        if (list && !(by_code = import_reflist_find_code(list, code))) {
            /* a pre-2025 code merged whole into one new commune: the new one is stored */
            char nc[6];
            int fr = former_commune(x, IMPORT_F_COMMUNE_CODE, code, NULL, nc);
            if (fr == 0) bad(x, IMPORT_F_COMMUNE_CODE, CS_F_COMMUNE, NULL);
            if (fr != 1) goto out;
            memcpy(code, nc, 6);
            by_code = import_reflist_find_code(list, code);
            if (!by_code) {
                bad(x, IMPORT_F_COMMUNE_CODE, CS_F_COMMUNE, NULL);
                goto out;
            }
            if (name) { /* the old name beside the old code is no mismatch */
                cs_free(name);
                name = NULL;
            }
        }
        if (put_str(x->r, IMPORT_F_COMMUNE_CODE, code)) x->oom = 1;
    }
    if (name) {
        if (put_str(x->r, IMPORT_F_COMMUNE_NAME, name)) {
            x->oom = 1;
            goto out;
        }
        if (list) {
            int amb = 0;
            const import_ref *by_name = import_reflist_find_name(list, name, &amb);
            if (amb < 0) {
                x->oom = 1;
            } else if (by_code && by_name != by_code) {
                int same = 0; /* a name shared by several communes is fine if one is the code's */
                if (amb) {
                    char k1[256], k2[256];
                    if (import_header_key(name, k1, sizeof k1) ||
                        import_header_key(by_code->name, k2, sizeof k2))
                        x->oom = 1;
                    same = x->oom || !strcmp(strip_kind(k1), strip_kind(k2));
                }
                if (!same) bad(x, IMPORT_F_COMMUNE_NAME, CS_F_COMMUNE_MISMATCH, NULL);
            } else if (!code) {
                char nc[6];
                int fr =
                    by_name || amb ? 0 : former_commune(x, IMPORT_F_COMMUNE_NAME, NULL, name, nc);
                if (fr == 1) {
                    if (put_str(x->r, IMPORT_F_COMMUNE_CODE, nc)) x->oom = 1;
                } else if (fr < 0) {
                    /* split between several new communes: refused, candidates named */
                } else if (!by_name) {
                    bad(x, IMPORT_F_COMMUNE_NAME,
                        amb ? CS_F_COMMUNE_AMBIGUOUS : CS_F_COMMUNE_NAME_UNKNOWN, NULL);
                } else if (put_str(x->r, IMPORT_F_COMMUNE_CODE, by_name->code)) {
                    x->oom = 1;
                }
            }
        }
    }
    if (!code && !name && !x->oom) {
        import_field f = x->m->col_of[IMPORT_F_COMMUNE_CODE] >= 0 ? IMPORT_F_COMMUNE_CODE
                                                                  : IMPORT_F_COMMUNE_NAME;
        bad(x, f, CS_F_REQUIRED, NULL);
    }
out:
    cs_free(code);
    cs_free(name);
}

/* Letters, digits and / . - only (registration numbers), upper-cased, spaces removed. */
static void set_code(row_cx *x, import_field f, size_t max)
{
    char *v = prep(x, raw(x, f));
    if (!v) return;
    if (f == IMPORT_F_TAX_CODE && drop_zero_fraction(v)) x->r->repairs |= IMPORT_FIX_NUMBER;
    size_t o = 0;
    int ok = 1;
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ') continue;
        if (!(isalnum(c) && c < 0x80) && c != '/' && c != '.' && c != '-') ok = 0;
        v[o++] = (char)toupper(c);
    }
    v[o] = '\0';
    if (f == IMPORT_F_TAX_CODE) {
        /* 10 digits, or 10 digits-3 digits for a branch */
        ok = ok && (o == 10 || o == 14);
        for (size_t i = 0; ok && i < o; i++)
            ok = i == 10 ? v[i] == '-' : v[i] >= '0' && v[i] <= '9';
    } else if (f == IMPORT_F_HOUSEHOLD_CODE) {
        /* TH-yyyy-nnnnn… */
        ok = ok && o >= 13 && o <= 20 && !strncmp(v, "TH-", 3) && v[7] == '-';
        for (size_t i = 3; ok && i < o; i++)
            ok = i == 7 || (v[i] >= '0' && v[i] <= '9');
    }
    if (o > max)
        bad(x, f, CS_F_TOO_LONG, NULL);
    else if (!ok)
        bad(x, f, CS_F_FORMAT, NULL);
    else if (put_str(x->r, f, v))
        x->oom = 1;
    cs_free(v);
}

/* A whole number with an optional unit: "500", "1.000", "0,5 kg", "5 lạng", "20 cm". Units
 * map to a multiplier of the field's own unit. Returns 0 with *out, 1 when absent, -1 when bad
 * (field error added). */
typedef struct unit {
    const char *name;
    double mult;
} unit;

static int parse_amount(row_cx *x, import_field f, const unit *units, long lo, long hi, long *out)
{
    char *v = prep(x, raw(x, f));
    if (!v) return 1;
    char key[64];
    if (import_header_key(v, key, sizeof key)) { /* folds "lạng" → "lang", "Kg" → "kg" */
        x->oom = 1;
        cs_free(v);
        return -1;
    }
    /* number part: from v itself (keeps '.' and ','), unit: the letters at the end of key */
    const char *p = v;
    char num[40];
    size_t n = 0;
    while (*p && ((*p >= '0' && *p <= '9') || *p == '.' || *p == ',' || *p == ' ') &&
           n + 1 < sizeof num) {
        if (*p != ' ') num[n++] = *p;
        p++;
    }
    num[n] = '\0';
    const char *u = key;
    while (*u && ((*u >= '0' && *u <= '9') || *u == ' '))
        u++;
    double mult = 1;
    int ok = n > 0;
    if (*u) {
        ok = 0;
        for (size_t i = 0; units && units[i].name; i++)
            if (!strcmp(u, units[i].name)) {
                mult = units[i].mult;
                ok = 1;
            }
    }
    /* thousands groups ("1.000", "1,000,000") or one decimal separator ("0,5", "1.5") */
    double val = 0;
    if (ok) {
        int groups = 1, seps = 0;
        size_t run = 0, first_run = 0;
        char sepc = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && num[i] >= '0' && num[i] <= '9') {
                run++;
                continue;
            }
            if (seps == 0)
                first_run = run;
            else if (run != 3)
                groups = 0;
            if (i == n) break;
            if (sepc && num[i] != sepc) ok = 0;
            sepc = num[i];
            seps++;
            run = 0;
        }
        if (first_run == 0 || first_run > 3) groups = seps == 0;
        if (!ok || run == 0) {
            ok = 0;
        } else if (seps == 0 || groups) {
            for (size_t i = 0; i < n; i++)
                if (num[i] >= '0' && num[i] <= '9') val = val * 10 + (num[i] - '0');
            if (seps) x->r->repairs |= IMPORT_FIX_NUMBER;
        } else if (seps == 1) {
            char tmp[40];
            memcpy(tmp, num, n + 1);
            char *s = strchr(tmp, sepc);
            *s = '.';
            val = strtod(tmp, NULL);
            x->r->repairs |= IMPORT_FIX_NUMBER;
        } else {
            ok = 0;
        }
    }
    cs_free(v);
    if (!ok) {
        bad(x, f, CS_F_FORMAT, NULL);
        return -1;
    }
    double scaled = val * mult;
    if (mult != 1) x->r->repairs |= IMPORT_FIX_NUMBER;
    if (scaled < (double)lo || scaled > (double)hi ||
        fabs(scaled - floor(scaled + 0.5)) > 1e-6 * (scaled > 1 ? scaled : 1)) {
        char d[48];
        snprintf(d, sizeof d, "%ld..%ld", lo, hi);
        bad(x, f, CS_F_RANGE, d);
        return -1;
    }
    *out = (long)floor(scaled + 0.5);
    return 0;
}

static void set_amount(row_cx *x, import_field f, const unit *units, long lo, long hi, int required,
                       long *out)
{
    *out = -1;
    int rc = parse_amount(x, f, units, lo, hi, out);
    if (rc == 1) {
        if (required && !x->oom) bad(x, f, CS_F_REQUIRED, NULL);
        return;
    }
    if (rc == 0) {
        char tmp[24];
        snprintf(tmp, sizeof tmp, "%ld", *out);
        if (put_str(x->r, f, tmp)) x->oom = 1;
    }
}

static void set_price(row_cx *x)
{
    char *v = prep(x, raw(x, IMPORT_F_PRICE));
    x->r->price = -1;
    if (!v) {
        if (!x->oom) bad(x, IMPORT_F_PRICE, CS_F_REQUIRED, NULL);
        return;
    }
    if (drop_zero_fraction(v)) x->r->repairs |= IMPORT_FIX_NUMBER;
    int64_t price;
    cs_code why = CS_OK;
    if (vn_price_parse(v, &price, &why)) {
        bad(x, IMPORT_F_PRICE, why, NULL);
    } else {
        char tmp[24];
        if (!only_digits(v)) x->r->repairs |= IMPORT_FIX_NUMBER;
        snprintf(tmp, sizeof tmp, "%lld", (long long)price);
        x->r->price = price;
        if (put_str(x->r, IMPORT_F_PRICE, tmp)) x->oom = 1;
    }
    cs_free(v);
}

/* OCOP stars: "3", "3 sao", "3*", "★★★". */
static void set_stars(row_cx *x)
{
    x->r->ocop_stars = -1;
    char *v = prep(x, raw(x, IMPORT_F_OCOP_STARS));
    if (!v) return;
    long stars = -1;
    size_t black = 0, other = 0;
    for (const char *p = v; *p;) {
        if (!strncmp(p, "\xE2\x98\x85", 3))
            black++, p += 3; /* ★ */
        else if (*p == ' ')
            p++;
        else
            other++, p++;
    }
    char key[32];
    if (import_header_key(v, key, sizeof key)) {
        x->oom = 1;
        cs_free(v);
        return;
    }
    if (black && !other)
        stars = (long)black;
    else if (key[0] >= '0' && key[0] <= '9' && (!key[1] || !strcmp(key + 1, " sao")))
        stars = key[0] - '0';
    else if (only_digits(v) || drop_zero_fraction(v))
        stars = strtol(v, NULL, 10);
    if (stars < 0)
        bad(x, IMPORT_F_OCOP_STARS, CS_F_FORMAT, NULL);
    else if (stars < 1 || stars > 5)
        bad(x, IMPORT_F_OCOP_STARS, CS_F_RANGE, "1..5");
    else {
        char tmp[4] = {(char)('0' + stars), 0};
        x->r->ocop_stars = stars;
        if (put_str(x->r, IMPORT_F_OCOP_STARS, tmp)) x->oom = 1;
    }
    cs_free(v);
}

static void set_category(row_cx *x)
{
    char *v = prep(x, raw(x, IMPORT_F_CATEGORY));
    if (!v) {
        if (!x->oom) bad(x, IMPORT_F_CATEGORY, CS_F_REQUIRED, NULL);
        return;
    }
    char *c = clean_text(x, IMPORT_F_CATEGORY, v, 200, 0);
    cs_free(v);
    if (!c) return;
    const import_reflist *list = x->ctx ? x->ctx->categories : NULL;
    if (!list) {
        if (put_str(x->r, IMPORT_F_CATEGORY, c)) x->oom = 1;
    } else {
        const import_ref *hit = import_reflist_find_code(list, c);
        if (!hit) {
            char low[64];
            snprintf(low, sizeof low, "%s", c);
            for (char *p = low; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            hit = import_reflist_find_code(list, low);
        }
        int amb = 0;
        if (!hit) hit = import_reflist_find_name(list, c, &amb);
        if (amb < 0)
            x->oom = 1;
        else if (!hit)
            bad(x, IMPORT_F_CATEGORY, CS_F_CATEGORY, NULL);
        else if (put_str(x->r, IMPORT_F_CATEGORY, hit->code))
            x->oom = 1;
    }
    cs_free(c);
}

static const unit weight_units[] = {{"g", 1},      {"gr", 1},    {"gram", 1},  {"gam", 1},
                                    {"kg", 1000},  {"ki", 1000}, {"ky", 1000}, {"kilogram", 1000},
                                    {"lang", 100}, {NULL, 0}};
static const unit length_units[] = {{"mm", 1}, {"cm", 10}, {"m", 1000}, {NULL, 0}};
static const unit count_units[] = {{"cai", 1},      {"chiec", 1}, {"goi", 1}, {"hop", 1},
                                   {"chai", 1},     {"lo", 1},    {"tui", 1}, {"bo", 1},
                                   {"san pham", 1}, {"sp", 1},    {NULL, 0}};

int import_row_normalize(const import_map *m, const sheet *s, size_t i, const import_ctx *ctx,
                         sheet_row_result *r)
{
    cs_error_clear(&r->err);
    r->kind = m->kind;
    r->row_no = sheet_row_no(s, i);
    r->row_index = i;
    r->repairs = 0;
    r->former[0] = '\0';
    r->birth = (vn_date){0, 0, 0};
    r->has_epayment = r->consent = r->flagship = 0;
    r->price = -1;
    r->stock = r->weight_g = r->length_mm = r->width_mm = r->height_mm = r->ocop_stars = -1;
    memset(r->voff_, 0, sizeof r->voff_);
    cs_buf_reset(&r->store_);
    if (cs_buf_putc(&r->store_, '\0')) return cs_error_set(&r->err, CS_E_NOMEM, NULL);

    row_cx x = {.m = m, .s = s, .i = i, .ctx = ctx, .r = r};
    if (m->kind == IMPORT_HOUSEHOLDS) {
        set_text(&x, IMPORT_F_OWNER_NAME, 200, 1, 0);
        set_date(&x, IMPORT_F_BIRTH_DATE, &r->birth);
        set_cccd(&x, IMPORT_F_CCCD, r->birth.y, 1);
        set_phone(&x);
        set_commune(&x);
        set_text(&x, IMPORT_F_ADDRESS, 300, 0, 0);
        set_text(&x, IMPORT_F_BUSINESS_NAME, 200, 0, 0);
        set_code(&x, IMPORT_F_BUSINESS_REG_NO, 32);
        set_code(&x, IMPORT_F_TAX_CODE, 14);
        set_bool(&x, IMPORT_F_HAS_EPAYMENT, &r->has_epayment, 0);
        set_bool(&x, IMPORT_F_CONSENT, &r->consent, 1);
        if (r->consent == 0 && !x.oom) bad(&x, IMPORT_F_CONSENT, CS_F_CONSENT, NULL);
    } else {
        size_t before = r->err.nfields;
        set_code(&x, IMPORT_F_HOUSEHOLD_CODE, 20);
        set_cccd(&x, IMPORT_F_OWNER_CCCD, 0, 0);
        if (!x.oom && r->err.nfields == before && !import_row_value(r, IMPORT_F_HOUSEHOLD_CODE) &&
            !import_row_value(r, IMPORT_F_OWNER_CCCD)) { /* neither given */
            import_field f = m->col_of[IMPORT_F_HOUSEHOLD_CODE] >= 0 ? IMPORT_F_HOUSEHOLD_CODE
                                                                     : IMPORT_F_OWNER_CCCD;
            bad(&x, f, CS_F_REQUIRED, NULL);
        }
        set_text(&x, IMPORT_F_NAME, 300, 1, 0);
        set_text(&x, IMPORT_F_DESCRIPTION, 5000, 0, 1);
        set_category(&x);
        set_price(&x);
        before = r->err.nfields;
        set_amount(&x, IMPORT_F_STOCK, count_units, 0, 10000000, 0, &r->stock);
        if (r->stock < 0 && r->err.nfields == before) r->stock = 0; /* empty: none in stock */
        set_amount(&x, IMPORT_F_WEIGHT_G, weight_units, 1, 1000000, 1, &r->weight_g);
        set_amount(&x, IMPORT_F_LENGTH_MM, length_units, 1, 100000, 0, &r->length_mm);
        set_amount(&x, IMPORT_F_WIDTH_MM, length_units, 1, 100000, 0, &r->width_mm);
        set_amount(&x, IMPORT_F_HEIGHT_MM, length_units, 1, 100000, 0, &r->height_mm);
        set_stars(&x);
        set_flagship(&x);
    }
    if (x.oom) {
        cs_error_clear(&r->err);
        return cs_error_set(&r->err, CS_E_NOMEM, NULL);
    }
    return r->err.nfields ? -1 : 0;
}

int import_row_error_text(const cs_error *e, cs_lang lang, cs_buf *out)
{
    if (!e->nfields) return cs_buf_puts(out, cs_code_message(e->code, lang));
    for (size_t k = 0; k < e->nfields; k++) {
        const cs_field_error *f = &e->fields[k];
        if (cs_buf_printf(out, "%s%s: %s", k ? "; " : "", f->field, cs_code_message(f->code, lang)))
            return -1;
        char dt[sizeof f->detail + 64];
        if (f->detail[0] &&
            cs_buf_printf(out, " (%s)", cs_detail_text(f->detail, lang, dt, sizeof dt)))
            return -1;
    }
    return 0;
}

const char **import_row_cells(const sheet *s, size_t i, unsigned ncols, size_t *n)
{
    unsigned k = sheet_ncells(s, i) > ncols ? sheet_ncells(s, i) : ncols;
    const char **a = cs_calloc(k ? k : 1, sizeof *a);
    if (!a) return NULL;
    for (unsigned c = 0; c < k; c++)
        a[c] = sheet_cell(s, i, c);
    *n = k;
    return a;
}
