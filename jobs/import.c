/* jobs/import: the batch import job — a stored spreadsheet becomes households or products,
 * chunk by chunk, each chunk one transaction with its progress. No HTTP, no terminal output.
 *
 * Pipeline of a households chunk: rows are normalised by jobs/import_rows (spreadsheet damage
 * repaired or refused), then validated by core/households exactly as the API validates a body
 * (cs_household_validate: ages, CCCD vs birth year…), checked against the volunteer's communes,
 * and written by cs_household_upsert_bulk (one query for the chunk's existing households, one
 * array-bound INSERT for the new ones). Rejected rows keep their original cells for the error
 * file. While the database writes chunk k, a second thread already validates chunk k+1: with
 * crypto and validation at ~15 µs a row this overlap is what keeps an import near the speed of
 * LOAD DATA (bench-import). */
#include "jobs/import.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/products.h"
#include "core/vn.h"
#include "jobs/job.h"
#include "jobs/sheet.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRMSG_MAX 1000

/* ---- creating an import --------------------------------------------------------------------- */

// clang-format off
static const char SQL_IMPORT_ADD[] =
    "INSERT INTO imports (kind, filename, file_sha256, file_format, content, dry_run, created_by)"
    " VALUES (?, ?, ?, ?, '', ?, ?)";
static const char SQL_IMPORT_PART_ADD[] =
    "INSERT INTO import_file_parts (import_id, part_no, content)"
    " VALUES (?, ?, ?)";
static const char SQL_IMPORT_COMMUNE_ADD[] =
    "INSERT IGNORE INTO import_communes (import_id, commune_code)"
    " VALUES (?, ?)";
// clang-format on

struct create_args {
    const cs_actor *a;
    const job_import_new *in;
    int enqueue;
    int64_t id;
    size_t len;      /* the file's size */
    char hex[65];    /* its SHA-256 */
    const char *fmt; /* "csv" / "xlsx" */
};

/* The file in parts of import.read_slice bytes (one INSERT each: no statement, packet or buffer
 * ever holds the whole file), from memory or read again from in->path. */
static int store_parts(cs_db *db, struct create_args *c, cs_error *err)
{
    const job_import_new *in = c->in;
    size_t part = (size_t)cs_cfg_int("import.read_slice");
    if (!in->path) {
        for (size_t off = 0, k = 0; off < in->len; off += part, k++) {
            size_t n = in->len - off < part ? in->len - off : part;
            if (cs_db_exec(db, SQL_IMPORT_PART_ADD, "iib", c->id, (int64_t)k,
                           (const char *)in->data + off, n, err) < 0)
                return -1;
        }
        return 0;
    }
    FILE *f = fopen(in->path, "rb");
    if (!f) return cs_error_set(err, CS_E_NOT_FOUND, "%s: %s", in->path, strerror(errno));
    char *buf = cs_malloc(part);
    int rc = buf ? 0 : cs_error_set(err, CS_E_NOMEM, NULL);
    size_t n, total = 0;
    for (int64_t k = 0; !rc && (n = fread(buf, 1, part, f)) > 0; k++) {
        total += n;
        if (cs_db_exec(db, SQL_IMPORT_PART_ADD, "iib", c->id, k, buf, n, err) < 0) rc = -1;
    }
    if (!rc && (ferror(f) || total != c->len))
        rc = cs_error_set(err, CS_E_CONFLICT, "%s: changed while being read", in->path);
    fclose(f);
    cs_free(buf);
    return rc;
}

/* Size, hash and format of the file at in->path, read once in slices. */
static int sniff_path(struct create_args *c, cs_error *err)
{
    FILE *f = fopen(c->in->path, "rb");
    if (!f) return cs_error_set(err, CS_E_NOT_FOUND, "%s: %s", c->in->path, strerror(errno));
    size_t max = (size_t)cs_cfg_int("import.max_file");
    cs_sha256_ctx *h = cs_sha256_begin();
    char *buf = cs_malloc(65536);
    int rc = h && buf ? 0 : cs_error_set(err, CS_E_NOMEM, NULL);
    unsigned char head[4] = {0};
    size_t n;
    c->len = 0;
    while (!rc && (n = fread(buf, 1, 65536, f)) > 0) {
        if (c->len < 4) memcpy(head + c->len, buf, n < 4 - c->len ? n : 4 - c->len);
        c->len += n;
        if (c->len > max)
            rc =
                cs_error_set(err, CS_E_IMPORT_LIMIT, "tệp lớn hơn %zu byte (import.max_file)", max);
        else
            cs_sha256_update(h, buf, n);
    }
    if (!rc && ferror(f)) rc = cs_error_set(err, CS_E_INTERNAL, "%s: read error", c->in->path);
    fclose(f);
    cs_free(buf);
    unsigned char sha[32];
    if (h) cs_sha256_end(h, sha);
    if (rc) return -1;
    cs_hex(sha, 32, c->hex);
    c->fmt = c->len >= 4 && !memcmp(head, "PK\x03\x04", 4) ? "xlsx" : "csv";
    return 0;
}

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct create_args *c = arg;
    const job_import_new *in = c->in;
    const char *fmt = c->fmt;
    /* the file name as shown back to the user: no directories, at most 200 bytes of it */
    const char *name = in->filename && *in->filename ? in->filename : "import";
    const char *slash = strrchr(name, '/'), *bslash = strrchr(name, '\\');
    if (slash) name = slash + 1;
    if (bslash && bslash + 1 > name) name = bslash + 1;
    char fname[201];
    size_t fl = strlen(name);
    if (fl > 200) fl = 200;
    while (fl > 0 && ((unsigned char)name[fl] & 0xC0) == 0x80)
        fl--; /* do not cut a character in two */
    memcpy(fname, name, fl);
    fname[fl] = '\0';
    char by[48];
    cs_actor_tag(c->a, by, sizeof by);
    if (cs_db_exec(db, SQL_IMPORT_ADD, "ssssis", import_kind_name(in->kind), fname, c->hex, fmt,
                   (int64_t)(in->dry_run ? 1 : 0), by, err) < 0)
        return -1;
    c->id = (int64_t)cs_db_insert_id(db);
    if (store_parts(db, c, err)) return -1;
    for (size_t i = 0; i < in->ncommunes; i++)
        if (cs_db_exec(db, SQL_IMPORT_COMMUNE_ADD, "is", c->id, in->communes[i], err) < 0)
            return -1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    if (cs_audit(db, c->a, "import.create", "import", id,
                 json_pack("{s:s,s:s,s:I,s:b}", "kind", import_kind_name(in->kind), "format", fmt,
                           "bytes", (json_int_t)c->len, "dry_run", in->dry_run),
                 err))
        return -1;
    if (c->enqueue) {
        char payload[64], key[64];
        snprintf(payload, sizeof payload, "{\"import_id\":%lld}", (long long)c->id);
        snprintf(key, sizeof key, "import:%lld", (long long)c->id);
        int64_t job;
        if (job_enqueue(db, JOB_IMPORT_KIND, payload, &(job_opts){.unique_key = key}, &job, err) <
            0)
            return -1;
    }
    return 0;
}

int job_import_create(cs_db *db, const cs_actor *a, const job_import_new *in, int enqueue,
                      int64_t *id, cs_error *err)
{
    if (in->kind != IMPORT_HOUSEHOLDS && in->kind != IMPORT_PRODUCTS)
        return cs_error_set(err, CS_E_IMPORT_KIND, NULL);
    struct create_args c = {a, in, enqueue, 0, in->len, "", NULL};
    if (in->path) {
        if (sniff_path(&c, err)) return -1;
    } else if (in->data && in->len) {
        unsigned char sha[32];
        cs_sha256(in->data, in->len, sha);
        cs_hex(sha, 32, c.hex);
        c.fmt = in->len >= 4 && !memcmp(in->data, "PK\x03\x04", 4) ? "xlsx" : "csv";
    }
    if (!c.len) return cs_error_set(err, CS_E_IMPORT_EMPTY, NULL);
    if (c.len > (size_t)cs_cfg_int("import.max_file"))
        return cs_error_set(err, CS_E_IMPORT_LIMIT, "tệp %zu byte, tối đa %ld byte", c.len,
                            cs_cfg_int("import.max_file"));
    if (cs_db_tx(db, create_tx, &c, err)) return -1;
    *id = c.id;
    return 0;
}

/* ---- reference lists from the database ------------------------------------------------------ */

// clang-format off
static const char SQL_REF_COMMUNES[] =
    "SELECT u.code, u.name, GROUP_CONCAT(d.name ORDER BY d.code SEPARATOR ', ')"
    " FROM admin_units u"
    " LEFT JOIN admin_unit_districts ud ON ud.unit_code = u.code"
    " LEFT JOIN admin_districts d ON d.code = ud.district_code"
    " GROUP BY u.code, u.name"
    " ORDER BY u.code";
/* old commune/ward → "=NNNNN New name" when merged whole into one, else the candidates */
static const char SQL_REF_FORMER[] =
    "SELECT m.old_code, m.old_name,"
    "       IF(COUNT(*) = 1 AND SUM(m.merge_type = 'full') = 1,"
    "          CONCAT('=', MIN(u.code), ' ', MIN(u.name)),"
    "          GROUP_CONCAT(CONCAT(u.name, ' (', u.code, ')') ORDER BY u.code SEPARATOR '; '))"
    " FROM commune_merges m"
    " JOIN admin_units u ON u.code = m.new_code"
    " GROUP BY m.old_code, m.old_name"
    " ORDER BY m.old_code";
static const char SQL_REF_CATEGORIES[] =
    "SELECT code, name_vi, name_en"
    " FROM categories"
    " ORDER BY code";
// clang-format on
/* columns of every reference list query (SQL_REF_*) */
enum { REF_CODE, REF_NAME, REF_NOTE };

static int load_reflist(cs_db *db, const char *sql, int flags, import_reflist **out, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, sql, "", err)) return -1;
    size_t n = cs_rows_count(rows);
    import_ref *items = cs_calloc(n ? n : 1, sizeof *items);
    if (!items) {
        cs_rows_free(rows);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < n; i++)
        items[i] = (import_ref){cs_rows_str(rows, i, REF_CODE), cs_rows_str(rows, i, REF_NAME),
                                cs_rows_strn(rows, i, REF_NOTE)};
    int rc = import_reflist_new(items, n, flags, out, err);
    cs_free(items);
    cs_rows_free(rows);
    return rc;
}

static int load_communes(cs_db *db, import_reflist **out, cs_error *err)
{
    return load_reflist(db, SQL_REF_COMMUNES, IMPORT_REF_STRIP_KIND, out, err);
}

static int load_categories(cs_db *db, import_reflist **out, cs_error *err)
{
    return load_reflist(db, SQL_REF_CATEGORIES, IMPORT_REF_MATCH_NOTE, out, err);
}

static int load_columns(import_columns **out, cs_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/import_columns.csv", cs_cfg_str("schema.dir"));
    return import_columns_load(path, out, err);
}

/* ---- one run -------------------------------------------------------------------------------- */

/* A rejected row, ready for import_rejects. */
typedef struct reject {
    unsigned row_no;
    char *cells;  /* JSON array text */
    char *errors; /* JSON array text */
} reject;

typedef struct chunk {
    sheet *s;                /* the window of the file holding these rows (owned) */
    size_t from, to;         /* data row offsets (0 = first data row) */
    size_t n;                /* to - from */
    cs_household_norm **hh;  /* households: normalised rows (NULL = rejected) */
    cs_household_bulk *bulk; /* households: hashed and sealed in advance */
    json_t **prod;           /* products: validated input bodies (NULL = rejected) */
    char (*owner)[24];       /* products: household code given */
    char (*owner_cccd)[13];  /* products: owner CCCD given */
    unsigned *row_no;
    size_t *row_index;
    reject *rej;
    size_t nrej;
    long repaired;
    unsigned beyond_row; /* first row with values in columns that have no header, 0 = none */
    int failed;          /* out of memory while preparing */
    cs_error err;
} chunk;

typedef struct run {
    cs_db *db;
    int64_t id;
    import_kind kind;
    int dry_run;
    cs_actor actor;
    sheet_warnings sw; /* the reader's warnings (encoding converted, extra XLSX sheets) */
    size_t header_len; /* rows above the data; the file's row index of data row 0 */
    import_map m;
    import_columns *cols;
    import_reflist *communes, *cats;
    import_reflist *former; /* pre-2025 communes/wards (commune_merges) */
    json_t *renamed;        /* "old → new" → rows, this run: listed among the repairs */
    char (*scope)[6];
    size_t nscope;
    cs_household_known
        *known; /* citizen IDs present when the run started: new rows skip the look-up */
    int64_t total, done;
    int64_t counts[4];   /* created, updated, unchanged, rejected */
    unsigned beyond_row; /* see chunk.beyond_row: the header window only saw its own rows */
    struct seen *seen;   /* households: citizen IDs of the file's rows so far → their row */
} run;

/* ---- the same citizen ID twice in one file -------------------------------------------------
 * The first row is kept, every later one rejected "trùng với dòng N". An open-addressing set of
 * one 64-bit word per row: the 12-digit citizen ID (< 2^40) in the high bits, the sheet's row
 * number (< 2^24) in the low ones; it grows with the file (8 MB per million rows at most
 * twice that while doubling), so import memory stays bounded. Chunks are prepared one at a
 * time, in order: no lock is needed. */
struct seen {
    uint64_t *slot; /* 0 = empty */
    size_t cap, n;
    size_t expect; /* rows in the file: the set is sized for them at once (no doubling peak) */
};

static uint64_t seen_mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

/* The row number of an earlier row with this citizen ID, or 0 after recording this one
 * (row_no); -1 out of memory. */
static long seen_check(struct seen *s, const char cccd[13], unsigned row_no)
{
    uint64_t key = strtoull(cccd, NULL, 10) + 1; /* + 1: never 0 */
    if ((s->n + 1) * 10 > s->cap * 7) {
        /* sized once for the file's rows (seen_init): grows only if that guess was short */
        size_t nc = s->cap ? s->cap * 2 : s->expect * 10 / 7 + 4096;
        uint64_t *ns = cs_calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t j = seen_mix(s->slot[i] >> 24) % nc;
            while (ns[j])
                j = j + 1 == nc ? 0 : j + 1;
            ns[j] = s->slot[i];
        }
        cs_free(s->slot);
        s->slot = ns, s->cap = nc;
    }
    size_t j = seen_mix(key) % s->cap;
    while (s->slot[j]) {
        if (s->slot[j] >> 24 == key) return (long)(s->slot[j] & 0xFFFFFF);
        j = j + 1 == s->cap ? 0 : j + 1;
    }
    s->slot[j] = key << 24 | (row_no & 0xFFFFFF);
    s->n++;
    return 0;
}

static void chunk_free(chunk *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->hh && c->hh[i]) {
            cs_household_norm_free(c->hh[i]);
            cs_free(c->hh[i]);
        }
        if (c->prod && c->prod[i]) json_decref(c->prod[i]);
    }
    for (size_t i = 0; i < c->nrej; i++) {
        free(c->rej[i].cells);
        free(c->rej[i].errors);
    }
    cs_household_bulk_free(c->bulk);
    sheet_free(c->s);
    cs_free(c->hh);
    cs_free(c->prod);
    cs_free(c->owner);
    cs_free(c->owner_cccd);
    cs_free(c->row_no);
    cs_free(c->row_index);
    cs_free(c->rej);
    memset(c, 0, sizeof *c);
}

static int in_scope(const run *r, const char *commune)
{
    if (!r->nscope) return 1;
    for (size_t i = 0; i < r->nscope; i++)
        if (!strcmp(r->scope[i], commune)) return 1;
    return 0;
}

/* The user's header for a field name of core's validators ("birth_date" → "Ngày sinh"). */
static const char *user_field(const run *r, const char *key)
{
    static const struct {
        const char *key;
        import_field f;
    } alias[] = {{"price_vnd", IMPORT_F_PRICE}};
    import_field f = import_field_from_name(key);
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (!strcmp(alias[i].key, key)) f = alias[i].f;
    if (f < IMPORT_F__COUNT && r->m.col_of[f] >= 0 && r->m.header_of[f][0])
        return r->m.header_of[f];
    if (f == IMPORT_F_COMMUNE_CODE && r->m.col_of[IMPORT_F_COMMUNE_NAME] >= 0)
        return r->m.header_of[IMPORT_F_COMMUNE_NAME];
    return key;
}

/* Record row i (sheet index) as rejected with the field errors of e. */
static int add_reject(const run *r, chunk *c, size_t sheet_i, const cs_error *e, int map_fields)
{
    json_t *cells = json_array(), *errs = json_array();
    size_t n = 0;
    const char **cv = import_row_cells(c->s, sheet_i, r->m.ncols, &n);
    if (!cells || !errs || !cv) goto oom;
    for (size_t k = 0; k < n; k++) {
        json_t *v =
            json_string(cv[k]); /* NULL only for invalid UTF-8, which the sheet never gives */
        json_array_append_new(cells, v ? v : json_string(""));
    }
    cs_free(cv);
    cv = NULL;
    /* the detail is shown to volunteers: in Vietnamese ("tối đa 20", not "max 20") */
    char dvi[sizeof e->detail + 64];
    if (!e->nfields) {
        json_array_append_new(
            errs, json_pack("{s:s,s:s,s:s,s:s}", "field", "", "code", cs_code_name(e->code),
                            "message", cs_code_message(e->code, CS_LANG_VI), "detail",
                            cs_detail_text(e->detail, CS_LANG_VI, dvi, sizeof dvi)));
    }
    for (size_t k = 0; k < e->nfields; k++) {
        const cs_field_error *f = &e->fields[k];
        json_array_append_new(
            errs, json_pack("{s:s,s:s,s:s,s:s}", "field",
                            map_fields ? user_field(r, f->field) : f->field, "code",
                            cs_code_name(f->code), "message", cs_code_message(f->code, CS_LANG_VI),
                            "detail", cs_detail_text(f->detail, CS_LANG_VI, dvi, sizeof dvi)));
    }
    reject *rj = &c->rej[c->nrej];
    rj->row_no = sheet_row_no(c->s, sheet_i);
    rj->cells = json_dumps(cells, JSON_COMPACT);
    rj->errors = json_dumps(errs, JSON_COMPACT);
    json_decref(cells);
    json_decref(errs);
    if (!rj->cells || !rj->errors) {
        free(rj->cells);
        free(rj->errors);
        return -1;
    }
    c->nrej++;
    return 0;
oom:
    cs_free(cv);
    json_decref(cells);
    json_decref(errs);
    return -1;
}

static int add_reject_code(const run *r, chunk *c, size_t sheet_i, const char *field, cs_code code)
{
    cs_error e;
    cs_error_clear(&e);
    cs_error_field(&e, field, code, NULL);
    return add_reject(r, c, sheet_i, &e, 0);
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v) json_object_set_new(o, key, json_string(v));
}

/* The households body core validates, from a normalised row. */
static json_t *household_body(const sheet_row_result *rr)
{
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "owner_name", import_row_value(rr, IMPORT_F_OWNER_NAME));
    set_str(o, "cccd", import_row_value(rr, IMPORT_F_CCCD));
    set_str(o, "phone", import_row_value(rr, IMPORT_F_PHONE));
    set_str(o, "birth_date", import_row_value(rr, IMPORT_F_BIRTH_DATE));
    set_str(o, "commune_code", import_row_value(rr, IMPORT_F_COMMUNE_CODE));
    set_str(o, "address", import_row_value(rr, IMPORT_F_ADDRESS));
    set_str(o, "business_name", import_row_value(rr, IMPORT_F_BUSINESS_NAME));
    set_str(o, "business_reg_no", import_row_value(rr, IMPORT_F_BUSINESS_REG_NO));
    set_str(o, "tax_code", import_row_value(rr, IMPORT_F_TAX_CODE));
    if (rr->has_epayment >= 0)
        json_object_set_new(o, "has_epayment", json_boolean(rr->has_epayment == 1));
    json_object_set_new(o, "consent", json_boolean(rr->consent == 1));
    return o;
}

static json_t *product_body(const sheet_row_result *rr)
{
    json_t *o = json_object();
    if (!o) return NULL;
    const char *name = import_row_value(rr, IMPORT_F_NAME),
               *desc = import_row_value(rr, IMPORT_F_DESCRIPTION);
    set_str(o, "name", name);
    /* the description column is optional in sheets; a product needs one: its name stands in */
    set_str(o, "description", desc ? desc : name);
    set_str(o, "category", import_row_value(rr, IMPORT_F_CATEGORY));
    if (rr->price > 0) json_object_set_new(o, "price_vnd", json_integer(rr->price));
    if (rr->stock >= 0) json_object_set_new(o, "stock", json_integer(rr->stock));
    if (rr->weight_g > 0) json_object_set_new(o, "weight_g", json_integer(rr->weight_g));
    if (rr->length_mm > 0) json_object_set_new(o, "length_mm", json_integer(rr->length_mm));
    if (rr->width_mm > 0) json_object_set_new(o, "width_mm", json_integer(rr->width_mm));
    if (rr->height_mm > 0) json_object_set_new(o, "height_mm", json_integer(rr->height_mm));
    if (rr->ocop_stars > 0) json_object_set_new(o, "ocop_stars", json_integer(rr->ocop_stars));
    /* a list entry named is proposed (an admin approves it); the old có/không tick proves
       nothing and changes no link (issue 12) */
    if (rr->flagship == 2) set_str(o, "flagship_entry", import_row_value(rr, IMPORT_F_FLAGSHIP));
    return o;
}

/* Normalise and validate rows [from, to) into c (no database). */
/* The template's example row left in the file (issue 13): every column that has a sample and
 * is in the file holds exactly that sample (at least two of them, so one cell that happens to
 * match is no example). Such a row is refused with a reason, never imported as a household. */
static int is_template_example(const run *r, const sheet *s, size_t si)
{
    size_t n = import_columns_count(r->cols, r->kind), same = 0;
    for (size_t i = 0; i < n; i++) {
        const import_column_spec *sp = import_columns_at(r->cols, r->kind, i);
        int col = r->m.col_of[sp->field];
        if (!sp->sample[0] || col < 0) continue;
        const char *v = sheet_cell(s, si, (unsigned)col);
        if (!v) return 0;
        /* the CSV template writes numbers as ="038095012345" so Excel keeps them as text */
        size_t vl = strlen(v), sl = strlen(sp->sample);
        int wrapped = vl == sl + 3 && v[0] == '=' && v[1] == '"' && v[vl - 1] == '"';
        if (wrapped ? strncmp(v + 2, sp->sample, sl) : strcmp(v, sp->sample)) return 0;
        same++;
    }
    return same >= 2;
}

/* c takes the window w (the rows from..to are in it). */
static void prepare_chunk(const run *r, chunk *c, sheet *w, size_t from, size_t to)
{
    memset(c, 0, sizeof *c);
    c->s = w;
    cs_error_clear(&c->err);
    c->from = from, c->to = to, c->n = to - from;
    size_t n = c->n ? c->n : 1;
    c->row_no = cs_calloc(n, sizeof *c->row_no);
    c->row_index = cs_calloc(n, sizeof *c->row_index);
    c->rej = cs_calloc(n, sizeof *c->rej);
    if (r->kind == IMPORT_HOUSEHOLDS)
        c->hh = cs_calloc(n, sizeof *c->hh);
    else {
        c->prod = cs_calloc(n, sizeof *c->prod);
        c->owner = cs_calloc(n, sizeof *c->owner);
        c->owner_cccd = cs_calloc(n, sizeof *c->owner_cccd);
    }
    if (!c->row_no || !c->row_index || !c->rej ||
        (r->kind == IMPORT_HOUSEHOLDS ? !c->hh : !c->prod || !c->owner || !c->owner_cccd)) {
        c->failed = 1;
        return;
    }
    import_ctx ictx = {r->communes, r->cats, {0, 0, 0}, r->former};
    sheet_row_result rr;
    sheet_row_result_init(&rr);
    for (size_t k = 0; k < c->n; k++) {
        size_t si = r->m.first_data + from + k;
        c->row_index[k] = si;
        c->row_no[k] = sheet_row_no(c->s, si);
        if (!c->beyond_row && sheet_ncells(c->s, si) > r->m.ncols) c->beyond_row = c->row_no[k];
        if (is_template_example(r, c->s, si)) {
            if (add_reject_code(r, c, si, "", CS_F_TEMPLATE_EXAMPLE)) goto oom;
            continue;
        }
        if (import_row_normalize(&r->m, c->s, si, &ictx, &rr)) {
            if (rr.err.code == CS_E_NOMEM || add_reject(r, c, si, &rr.err, 0)) goto oom;
            continue;
        }
        if (rr.repairs) c->repaired++;
        if ((rr.repairs & IMPORT_FIX_OLD_COMMUNE) && rr.former[0] && r->renamed) {
            json_t *cnt = json_object_get(r->renamed, rr.former);
            json_object_set_new(r->renamed, rr.former,
                                json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
        }
        if (r->kind == IMPORT_HOUSEHOLDS) {
            const char *commune = import_row_value(&rr, IMPORT_F_COMMUNE_CODE);
            if (commune && !in_scope(r, commune)) {
                import_field f = r->m.col_of[IMPORT_F_COMMUNE_CODE] >= 0 ? IMPORT_F_COMMUNE_CODE
                                                                         : IMPORT_F_COMMUNE_NAME;
                if (add_reject_code(r, c, si, r->m.header_of[f], CS_F_COMMUNE_SCOPE)) goto oom;
                continue;
            }
            json_t *body = household_body(&rr);
            cs_household_norm *hn = cs_malloc(sizeof *hn);
            if (!body || !hn) {
                json_decref(body);
                cs_free(hn);
                goto oom;
            }
            cs_error e;
            cs_error_clear(&e);
            int bad = cs_household_validate(body, 0, hn, &e);
            json_decref(body);
            if (bad) {
                cs_free(hn);
                if (e.code == CS_E_NOMEM || add_reject(r, c, si, &e, 1)) goto oom;
                continue;
            }
            long first = r->seen ? seen_check(r->seen, hn->cccd, c->row_no[k]) : 0;
            if (first) {
                cs_household_norm_free(hn);
                cs_free(hn);
                if (first < 0) goto oom;
                char d[48];
                snprintf(d, sizeof d, "trùng với dòng %ld", first);
                cs_error_field(&e, "cccd", CS_F_DUPLICATE_ROW, d);
                if (add_reject(r, c, si, &e, 1)) goto oom;
                continue;
            }
            c->hh[k] = hn;
        } else {
            json_t *body = product_body(&rr);
            if (!body) goto oom;
            cs_product_norm pn;
            cs_error e;
            cs_error_clear(&e);
            if (cs_product_validate(body, &pn, &e)) {
                json_decref(body);
                if (e.code == CS_E_NOMEM || add_reject(r, c, si, &e, 1)) goto oom;
                continue;
            }
            cs_product_norm_free(&pn);
            const char *hc = import_row_value(&rr, IMPORT_F_HOUSEHOLD_CODE);
            const char *cc = import_row_value(&rr, IMPORT_F_OWNER_CCCD);
            snprintf(c->owner[k], sizeof c->owner[k], "%s", hc ? hc : "");
            snprintf(c->owner_cccd[k], sizeof c->owner_cccd[k], "%s", cc ? cc : "");
            c->prod[k] = body;
        }
    }
    sheet_row_result_free(&rr);
    if (r->kind == IMPORT_HOUSEHOLDS &&
        cs_household_bulk_prepare(c->hh, c->n, 1, r->known, &c->bulk, &c->err))
        c->failed = 1;
    return;
oom:
    sheet_row_result_free(&rr);
    c->failed = 1;
}

/* ---- writing a chunk ------------------------------------------------------------------------ */

typedef struct write_args {
    run *r;
    chunk *c;
    int64_t expect_done;
    int64_t add[5];   /* created, updated, unchanged, rejected, repaired */
    int64_t pre[3];   /* created, updated, unchanged counted before the transaction (dry-run
                         trial, products written row by row) */
    int stage;        /* dry run: 1 = the rolled-back trial, 2 = the progress */
    int no_known;     /* look every row up (a household appeared after the snapshot) */
    size_t nrej_base; /* rejects known before this transaction (a re-run drops later ones) */
    int trial_ok;
} write_args;

/* IGNORE: a chunk re-processed after losing its commit acknowledgement writes the same rows */
// clang-format off
static const char SQL_REJECT_ADD[] =
    "INSERT IGNORE INTO import_rejects (import_id, row_no, cells, errors)"
    " VALUES (?, ?, ?, ?)";
// clang-format on

static int insert_rejects(cs_db *db, const run *r, chunk *c, cs_error *err)
{
    if (!c->nrej) return 0;
    const char **cells = cs_malloc(c->nrej * 4 * sizeof *cells);
    char(*nums)[2][24] = cs_malloc(c->nrej * sizeof *nums);
    int rc = -1;
    if (!cells || !nums) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < c->nrej; i++) {
        snprintf(nums[i][0], sizeof nums[i][0], "%lld", (long long)r->id);
        snprintf(nums[i][1], sizeof nums[i][1], "%u", c->rej[i].row_no);
        cells[4 * i] = nums[i][0];
        cells[4 * i + 1] = nums[i][1];
        cells[4 * i + 2] = c->rej[i].cells;
        cells[4 * i + 3] = c->rej[i].errors;
    }
    if (cs_db_bulk_insert(db, SQL_REJECT_ADD, 4, "iiss", cells, NULL, c->nrej, err) < 0) goto out;
    rc = 0;
out:
    cs_free(cells);
    cs_free(nums);
    return rc;
}

/* Households of the chunk through the bulk upsert; rows refused there join the rejects. */
static int write_households(cs_db *db, write_args *w, cs_error *err)
{
    run *r = w->r;
    chunk *c = w->c;
    cs_household_result *res = cs_calloc(c->n ? c->n : 1, sizeof *res);
    cs_code *row_err = cs_calloc(c->n ? c->n : 1, sizeof *row_err);
    int rc = -1;
    if (!res || !row_err) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    if (cs_household_bulk_write(db, &r->actor, c->bulk, w->no_known ? NULL : r->known, r->id, res,
                                row_err, err))
        goto out;
    for (size_t k = 0; k < c->n; k++) {
        if (!c->hh[k]) continue;
        if (row_err[k] != CS_OK) {
            if (add_reject_code(r, c, c->row_index[k], user_field(r, "commune_code"), row_err[k])) {
                cs_error_set(err, CS_E_NOMEM, NULL);
                goto out;
            }
            w->add[3]++;
            continue;
        }
        w->add[res[k].outcome == CS_HH_CREATED ? 0 : res[k].outcome == CS_HH_UPDATED ? 1 : 2]++;
    }
    rc = 0;
out:
    cs_free(res);
    cs_free(row_err);
    return rc;
}

// clang-format off
static const char SQL_DONE_LOCK[] =
    "SELECT rows_done"
    " FROM imports"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_CHUNK_DONE[] =
    "UPDATE imports"
    " SET rows_done = ?, n_created = n_created + ?, n_updated = n_updated + ?,"
    "     n_unchanged = n_unchanged + ?, n_rejected = n_rejected + ?, n_repaired = n_repaired + ?"
    " WHERE id = ?";
// clang-format on

static int chunk_tx(cs_db *db, void *arg, cs_error *err)
{
    write_args *w = arg;
    run *r = w->r;
    chunk *c = w->c;
    for (size_t i = w->nrej_base; i < c->nrej; i++) {
        free(c->rej[i].cells);
        free(c->rej[i].errors);
    }
    if (c->nrej > w->nrej_base) c->nrej = w->nrej_base;
    memset(w->add, 0, sizeof w->add);
    if (w->stage == 2) memcpy(w->add, w->pre, sizeof w->pre);
    w->add[3] = (int64_t)c->nrej;
    w->add[4] = c->repaired;
    int rc = -1;
    if (w->stage != 1) {
        int64_t done = -1;
        if (cs_db_scalar_i64(db, &done, SQL_DONE_LOCK, "i", r->id, err) < 0) goto out;
        if (done != w->expect_done) {
            /* another run (a lease that expired while we worked) got here first */
            cs_error_set(err, CS_E_CONFLICT, "import %lld: rows_done %lld, expected %lld",
                         (long long)r->id, (long long)done, (long long)w->expect_done);
            goto out;
        }
    }
    if (r->kind == IMPORT_HOUSEHOLDS && w->stage != 2 && write_households(db, w, err)) goto out;
    if (w->stage == 1) {
        w->trial_ok = 1;
        cs_error_set(err, CS_E_CONFLICT, "dry run: rolled back on purpose");
        goto out;
    }
    if (insert_rejects(db, r, c, err)) goto out;
    int64_t to = (int64_t)c->to;
    if (cs_db_exec(db, SQL_CHUNK_DONE, "iiiiiii", to, w->add[0], w->add[1], w->add[2], w->add[3],
                   w->add[4], r->id, err) < 0)
        goto out;
    rc = 0;
out:
    return rc;
}

// clang-format off
static const char SQL_HOUSEHOLD_BY_CODE[] =
    "SELECT id, code, commune_code"
    " FROM households"
    " WHERE code = ? AND status <> 'erased'";
static const char SQL_HOUSEHOLD_BY_CCCD[] =
    "SELECT id, code, commune_code"
    " FROM households"
    " WHERE cccd_bidx = ? AND status <> 'erased'";
static const char SQL_PRODUCT_SAME_NAME[] =
    "SELECT id, version, content_hash"
    " FROM products"
    " WHERE household_id = ? AND name_folded = ? AND status = 'active'"
    " ORDER BY id"
    " LIMIT 1";
// clang-format on
/* columns of SQL_HOUSEHOLD_BY_CODE and SQL_HOUSEHOLD_BY_CCCD */
enum { HH_ID, HH_CODE, HH_COMMUNE };
/* columns of SQL_PRODUCT_SAME_NAME */
enum { PS_ID, PS_VERSION, PS_HASH };

/* Products, one by one in their own transactions (per-row path): matched by household and
 * folded name, so a re-upload reports unchanged and a corrected row updates. */
static int find_household(cs_db *db, const char *code, const char *cccd, int64_t *id,
                          char hcode[24], char commune[6], cs_error *err)
{
    cs_rows *rows = NULL;
    int rc;
    if (code && *code) {
        rc = cs_db_query(db, &rows, SQL_HOUSEHOLD_BY_CODE, "s", code, err);
    } else {
        unsigned char bidx[32];
        if (cs_blind_index("cccd", cccd, bidx)) return cs_error_set(err, CS_E_CRYPTO, NULL);
        rc = cs_db_query(db, &rows, SQL_HOUSEHOLD_BY_CCCD, "b", bidx, (size_t)32, err);
    }
    if (rc) return -1;
    int found = cs_rows_count(rows) > 0;
    if (found) {
        *id = cs_rows_i64(rows, 0, HH_ID);
        snprintf(hcode, 24, "%s", cs_rows_str(rows, 0, HH_CODE));
        snprintf(commune, 6, "%s", cs_rows_str(rows, 0, HH_COMMUNE));
    }
    cs_rows_free(rows);
    return found ? 1 : 0;
}

static int write_products(run *r, chunk *c, int64_t add[3], cs_error *err)
{
    for (size_t k = 0; k < c->n; k++) {
        if (!c->prod[k]) continue;
        int64_t hid = 0;
        char hcode[24] = "", commune[6] = "";
        int f = find_household(r->db, c->owner[k], c->owner_cccd[k], &hid, hcode, commune, err);
        if (f < 0) return -1;
        const char *fld = user_field(r, c->owner[k][0] ? "household_code" : "owner_cccd");
        if (!f || !in_scope(r, commune)) {
            if (add_reject_code(r, c, c->row_index[k], fld,
                                f ? CS_F_COMMUNE_SCOPE : CS_F_HOUSEHOLD_UNKNOWN))
                return cs_error_set(err, CS_E_NOMEM, NULL);
            continue;
        }
        cs_product_norm pn;
        cs_error e;
        cs_error_clear(&e);
        if (cs_product_validate(c->prod[k], &pn, &e))
            return cs_error_set(err, CS_E_INTERNAL, "product revalidation");
        unsigned char hash[32];
        int hrc = cs_product_content_hash(&pn, hash);
        cs_rows *rows = NULL;
        int qrc =
            hrc ? -1
                : cs_db_query(r->db, &rows, SQL_PRODUCT_SAME_NAME, "is", hid, pn.name_folded, err);
        cs_product_norm_free(&pn);
        if (hrc) return cs_error_set(err, CS_E_CRYPTO, NULL);
        if (qrc) return -1;
        int exists = cs_rows_count(rows) > 0;
        int64_t pid = exists ? cs_rows_i64(rows, 0, PS_ID) : 0;
        unsigned ver = exists ? (unsigned)cs_rows_i64(rows, 0, PS_VERSION) : 0;
        size_t hl = 0;
        const void *old = exists ? cs_rows_blob(rows, 0, PS_HASH, &hl) : NULL;
        /* a list entry named may be a new proposal though the content is the same: the update
           tells (pr.changed) */
        int named = json_object_get(c->prod[k], "flagship_entry") != NULL;
        int same = exists && hl == 32 && !memcmp(old, hash, 32) && !named;
        cs_rows_free(rows);
        if (same) {
            add[2]++;
            continue;
        }
        if (r->dry_run) {
            add[exists ? 1 : 0]++;
            continue;
        }
        cs_product_result pr;
        cs_error_clear(&e);
        int wrc = exists ? cs_product_update(r->db, &r->actor, pid, ver, c->prod[k], &pr, &e)
                         : cs_product_create(r->db, &r->actor, hcode, c->prod[k], &pr, &e);
        if (wrc) {
            if (e.code == CS_E_VALIDATION || e.code == CS_E_CONFLICT ||
                e.code == CS_E_PRECONDITION || e.code == CS_E_DB_VALUE) {
                if (add_reject(r, c, c->row_index[k], &e, 1))
                    return cs_error_set(err, CS_E_NOMEM, NULL);
                continue;
            }
            *err = e;
            return -1;
        }
        add[!exists ? 0 : pr.changed || !named ? 1 : 2]++;
    }
    return 0;
}

static int crash_after_chunk(void)
{
    const char *v = getenv("CHOSO_TEST_IMPORT_CRASH_AFTER_CHUNK");
    if (!v || !*v) return 0;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 1 ? 0 : (int)n;
}

/* Probe: write the chunk's remaining rows, then roll back on purpose. */
static int probe_tx(cs_db *db, void *arg, cs_error *err)
{
    write_args *w = arg;
    if (write_households(db, w, err)) return -1;
    w->trial_ok = 1;
    return cs_error_set(err, CS_E_CONFLICT, "probe: rolled back on purpose");
}

static void drop_rejects_from(chunk *c, size_t from)
{
    for (size_t i = from; i < c->nrej; i++) {
        free(c->rej[i].cells);
        free(c->rej[i].errors);
    }
    if (c->nrej > from) c->nrej = from;
}

/* The chunk's write failed because the database refused a value (CS_E_DB_VALUE: it is in the
 * data, so the same write would fail on every retry and the file would stay "running" with
 * nothing counted). Find the rows it refuses — each row alone, in a transaction rolled back
 * on purpose — and reject them, so the rest of the chunk can be written. Only chunks that
 * failed pay for this. Returns 0, or -1 with err set when a probe failed for another reason. */
static int reject_refused_rows(run *r, chunk *c, write_args *base, cs_error *err)
{
    size_t n = c->n, nrej0 = c->nrej;
    cs_household_norm **keep = cs_malloc((n ? n : 1) * sizeof *keep);
    char *bad = cs_calloc(n ? n : 1, 1);
    int rc = -1;
    if (!keep || !bad) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    memcpy(keep, c->hh, n * sizeof *keep);
    for (size_t k = 0; k < n; k++) {
        if (!keep[k]) continue;
        for (size_t j = 0; j < n; j++)
            c->hh[j] = j == k ? keep[j] : NULL;
        write_args w = *base;
        w.no_known = 1;
        w.trial_ok = 0;
        cs_error e;
        cs_error_clear(&e);
        int trc = cs_db_tx(r->db, probe_tx, &w, &e);
        drop_rejects_from(c, nrej0);
        if (trc && !w.trial_ok) {
            if (e.code != CS_E_DB_VALUE) {
                memcpy(c->hh, keep, n * sizeof *keep);
                *err = e;
                goto out;
            }
            bad[k] = 1;
        }
    }
    memcpy(c->hh, keep, n * sizeof *keep);
    for (size_t k = 0; k < n; k++) {
        if (!bad[k]) continue;
        if (add_reject_code(r, c, c->row_index[k], user_field(r, "owner_name"), CS_E_DB_VALUE)) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
        cs_household_norm_free(c->hh[k]);
        cs_free(c->hh[k]);
        c->hh[k] = NULL;
        cs_warn("import_row_refused", "import %lld row %zu: the database refused a value",
                (long long)r->id, c->row_index[k] + 2);
    }
    rc = 0;
out:
    cs_free(keep);
    cs_free(bad);
    return rc;
}

static int write_chunk(run *r, chunk *c, cs_error *err)
{
    write_args w;
    memset(&w, 0, sizeof w);
    w.r = r, w.c = c, w.expect_done = (int64_t)c->from;
    w.nrej_base = c->nrej;
    if (r->kind == IMPORT_PRODUCTS) {
        if (write_products(r, c, w.pre, err)) return -1;
        w.stage = 2; /* products were written row by row: the transaction records progress */
    } else if (r->dry_run) {
        w.stage = 1;
        w.nrej_base = c->nrej;
        cs_error e;
        cs_error_clear(&e);
        int trc = cs_db_tx(r->db, chunk_tx, &w, &e);
        if (trc && !w.trial_ok && e.code == CS_E_DUPLICATE_HOUSEHOLD && !w.no_known) {
            w.no_known = 1;
            cs_error_clear(&e);
            trc = cs_db_tx(r->db, chunk_tx, &w, &e);
        }
        if (trc && !w.trial_ok && e.code == CS_E_DB_VALUE) {
            drop_rejects_from(c, w.nrej_base);
            if (reject_refused_rows(r, c, &w, &e)) {
                *err = e;
                return -1;
            }
            w.nrej_base = c->nrej;
            cs_error_clear(&e);
            trc = cs_db_tx(r->db, chunk_tx, &w, &e);
        }
        if (trc && !w.trial_ok) {
            *err = e;
            return -1;
        }
        memcpy(w.pre, w.add, sizeof w.pre);
        w.stage = 2;
    }
    w.nrej_base = c->nrej;
    int refused_done = 0;
    while (cs_db_tx(r->db, chunk_tx, &w, err)) {
        if (err->code == CS_E_DB_VALUE && !refused_done && r->kind == IMPORT_HOUSEHOLDS &&
            w.stage != 2) {
            /* a row the database refuses must not stall the file: reject it, write the rest */
            refused_done = 1;
            cs_error_clear(err);
            drop_rejects_from(c, w.nrej_base);
            if (reject_refused_rows(r, c, &w, err)) return -1;
            w.nrej_base = c->nrej;
            continue;
        }
        /* a household created after the snapshot (by this file's own earlier rows, or by
           someone else meanwhile): write the chunk again, looking every row up */
        if (err->code != CS_E_DUPLICATE_HOUSEHOLD || w.no_known || w.stage == 2) return -1;
        w.no_known = 1;
        cs_error_clear(err);
    }
    r->done = (int64_t)c->to;
    for (int k = 0; k < 4; k++)
        r->counts[k] += w.add[k];
    return 0;
}

/* ---- the run -------------------------------------------------------------------------------- */

static void run_free(run *r)
{
    import_columns_free(r->cols);
    import_reflist_free(r->communes);
    import_reflist_free(r->former);
    json_decref(r->renamed);
    import_reflist_free(r->cats);
    cs_free(r->scope);
    cs_household_known_free(r->known);
    if (r->seen) cs_free(r->seen->slot);
    cs_free(r->seen);
}

/* A run resumed after a crash: the citizen IDs of the rows already written (data rows
 * [from, upto), held by window w), so that a later repeat of one of them is still refused.
 * 0 or -1 (out of memory). */
static int seen_replay(run *r, const sheet *w, size_t from, size_t upto)
{
    import_ctx ictx = {r->communes, r->cats, {0, 0, 0}, r->former};
    sheet_row_result rr;
    sheet_row_result_init(&rr);
    int rc = 0;
    for (size_t k = from; k < upto && !rc; k++) {
        size_t si = r->m.first_data + k;
        if (import_row_normalize(&r->m, w, si, &ictx, &rr)) continue;
        const char *commune = import_row_value(&rr, IMPORT_F_COMMUNE_CODE);
        if (commune && !in_scope(r, commune)) continue;
        json_t *body = household_body(&rr);
        cs_household_norm hn;
        cs_error e;
        cs_error_clear(&e);
        if (!body) {
            rc = -1;
            break;
        }
        if (!cs_household_validate(body, 0, &hn, &e)) {
            if (seen_check(r->seen, hn.cccd, sheet_row_no(w, si)) < 0) rc = -1;
            cs_household_norm_free(&hn);
        }
        json_decref(body);
    }
    sheet_row_result_free(&rr);
    return rc;
}

// clang-format off
static const char SQL_IMPORT_FAILED[] =
    "UPDATE imports"
    " SET state = 'failed', error_message = ?, finished_at = UTC_TIMESTAMP()"
    " WHERE id = ? AND state IN ('queued', 'running')";
static const char SQL_IMPORT_WARNINGS[] =
    "UPDATE imports"
    " SET warnings = ?"
    " WHERE id = ?";
static const char SQL_IMPORT_DONE[] =
    "UPDATE imports"
    " SET state = 'done', finished_at = UTC_TIMESTAMP()"
    " WHERE id = ? AND state = 'running'";
// clang-format on

/* The import cannot be read at all: it ends 'failed' with the reason in Vietnamese. */
static int mark_failed(cs_db *db, int64_t id, const cs_error *e, cs_error *err)
{
    char msg[ERRMSG_MAX + 1];
    cs_buf b;
    cs_buf_init(&b, 8192);
    cs_buf_puts(&b, cs_code_message(e->code, CS_LANG_VI));
    char dvi[sizeof e->detail + 64];
    if (e->detail[0])
        cs_buf_printf(&b, " (%s)", cs_detail_text(e->detail, CS_LANG_VI, dvi, sizeof dvi));
    const char *t = b.data ? b.data : cs_code_message(e->code, CS_LANG_VI);
    size_t l = strlen(t);
    if (l > ERRMSG_MAX - 4) { /* VARCHAR(1000) counts characters; bytes are a safe bound */
        l = ERRMSG_MAX - 4;
        while (l > 0 && ((unsigned char)t[l] & 0xC0) == 0x80)
            l--;
    }
    memcpy(msg, t, l);
    msg[l] = '\0';
    cs_buf_free(&b);
    return cs_db_exec(db, SQL_IMPORT_FAILED, "si", msg, id, err) < 0 ? -1 : 0;
}

static int actor_from_tag(const char *tag, cs_actor *a)
{
    memset(a, 0, sizeof *a);
    const char *colon = strchr(tag, ':');
    if (!colon) return -1;
    size_t k = (size_t)(colon - tag);
    if (k == 5 && !strncmp(tag, "token", 5))
        a->kind = CS_ACTOR_TOKEN;
    else if (k == 3 && !strncmp(tag, "cli", 3))
        a->kind = CS_ACTOR_CLI;
    else
        a->kind = CS_ACTOR_SYSTEM;
    snprintf(a->id, sizeof a->id, "%s", colon + 1);
    return 0;
}

static json_t *warnings_json(const run *r)
{
    json_t *a = json_array();
    const sheet_warnings *lists[2] = {&r->sw, &r->m.warnings};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            json_array_append_new(a, json_pack("{s:s,s:s}", "code",
                                               sheet_warn_name(lists[l]->w[i].kind), "message",
                                               lists[l]->w[i].text));
    return a;
}

// clang-format off
static const char SQL_RUN_OPEN[] =
    "SELECT kind, dry_run, state, rows_done, n_created, n_updated, n_unchanged, n_rejected,"
    "       created_by,"
    "       (SELECT LENGTH(content)"
    "        FROM import_files f"
    "        WHERE f.import_id = i.id),"
    "       (SELECT COUNT(*)"
    "        FROM import_file_parts p"
    "        WHERE p.import_id = i.id)"
    " FROM imports i"
    " WHERE id = ?";
/* one part of the stored file (imports since migration 098) */
static const char SQL_RUN_PART[] =
    "SELECT content"
    " FROM import_file_parts"
    " WHERE import_id = ? AND part_no = ?";
/* one slice of a file stored whole (older imports): SUBSTRING counts from 1 */
static const char SQL_RUN_SLICE[] =
    "SELECT SUBSTRING(content, ?, ?)"
    " FROM import_files"
    " WHERE import_id = ?";
static const char SQL_RUN_SCOPE[] =
    "SELECT commune_code"
    " FROM import_communes"
    " WHERE import_id = ?";
static const char SQL_RUN_START[] =
    "UPDATE imports"
    " SET state = 'running', total_rows = ?, header = ?, warnings = ?,"
    "     started_at = COALESCE(started_at, UTC_TIMESTAMP())"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_RUN_OPEN; the four counts follow each other in the order of r->counts */
enum {
    RO_KIND,
    RO_DRY_RUN,
    RO_STATE,
    RO_DONE,
    RO_CREATED,
    RO_UPDATED,
    RO_UNCHANGED,
    RO_REJECTED,
    RO_CREATED_BY,
    RO_CONTENT_LEN,
    RO_PARTS
};
/* columns of SQL_RUN_PART and SQL_RUN_SLICE */
enum { RS_SLICE };
/* columns of SQL_RUN_SCOPE */
enum { SC_COMMUNE };

/* The stored file as a source of slices for the sheet stream: part after part, or SUBSTRING
 * slices of import.read_slice bytes of a file stored whole. Only one slice is held at a time,
 * so the import never holds the file (150–250 MB for 1,000,000 rows). */
typedef struct file_src {
    cs_db *db;
    int64_t id;
    int64_t nparts, part; /* stored in parts: how many, the next one */
    size_t len, off;      /* stored whole: its length, the next offset */
    cs_rows *rows;        /* the slice handed out last */
} file_src;

static int src_next(void *arg, const unsigned char **p, size_t *n, cs_error *err)
{
    file_src *f = arg;
    cs_rows_free(f->rows);
    f->rows = NULL;
    *p = NULL;
    *n = 0;
    size_t want = 0;
    if (f->nparts) {
        if (f->part >= f->nparts) return 0;
        if (cs_db_query(f->db, &f->rows, SQL_RUN_PART, "ii", f->id, f->part, err)) return -1;
    } else {
        if (f->off >= f->len) return 0;
        size_t slice = (size_t)cs_cfg_int("import.read_slice");
        want = f->len - f->off < slice ? f->len - f->off : slice;
        if (cs_db_query(f->db, &f->rows, SQL_RUN_SLICE, "iii", (int64_t)f->off + 1, (int64_t)want,
                        f->id, err))
            return -1;
    }
    const void *b = cs_rows_count(f->rows) ? cs_rows_blob(f->rows, 0, RS_SLICE, n) : NULL;
    if (!b || (f->nparts ? *n == 0 : *n != want))
        /* the file changed or vanished while being read */
        return cs_error_set(err, CS_E_INTERNAL, "import %lld: stored file at part %lld / byte %zu",
                            (long long)f->id, (long long)f->part, f->off);
    *p = b;
    f->part++;
    f->off += *n;
    return 0;
}

static void src_close(file_src *f)
{
    cs_rows_free(f->rows);
    f->rows = NULL;
}

/* The limits of an import: a CSV and an XLSX are streamed, so rows and bytes can go far past
 * what a sheet held whole allows (import.max_rows, import.max_file, import.max_xlsx). An XLSX
 * may inflate to 4 times the largest file (its XML is verbose; the budget still stops a zip
 * bomb, and memory does not grow with it); its shared strings are held: 16 MiB at most. */
static void import_limits(sheet_limits *lim)
{
    sheet_limits_default(lim);
    lim->max_rows = (size_t)cs_cfg_int("import.max_rows") + 10; /* + a header and title rows */
    lim->max_bytes = (size_t)cs_cfg_int("import.max_file");
    lim->max_xlsx = (size_t)cs_cfg_int("import.max_xlsx");
    if (lim->max_unzipped < 4 * lim->max_bytes) lim->max_unzipped = 4 * lim->max_bytes;
}

/* rows read for the header: it is looked for among the first 10, and one data row must follow */
#define HEADER_WINDOW 11

/* Load the import, read its file once to the end (header, rows counted, every limit and the
 * whole file's quoting checked before a row is written) and map the header. Returns 0 ready,
 * 1 nothing to do (finished, or failed now), -1 error. */
static int run_open(run *r, file_src *src, cs_error *err)
{
    cs_rows *row = NULL;
    if (cs_db_query(r->db, &row, SQL_RUN_OPEN, "i", r->id, err)) return -1;
    if (!cs_rows_count(row)) {
        cs_rows_free(row);
        return cs_error_set(err, CS_E_NOT_FOUND, "import %lld", (long long)r->id);
    }
    const char *state = cs_rows_str(row, 0, RO_STATE);
    if (!strcmp(state, "done") || !strcmp(state, "failed")) {
        cs_rows_free(row);
        return 1;
    }
    r->kind =
        !strcmp(cs_rows_str(row, 0, RO_KIND), "products") ? IMPORT_PRODUCTS : IMPORT_HOUSEHOLDS;
    r->dry_run = (int)cs_rows_i64(row, 0, RO_DRY_RUN);
    r->done = cs_rows_i64(row, 0, RO_DONE);
    for (int k = 0; k < 4; k++)
        r->counts[k] = cs_rows_i64(row, 0, RO_CREATED + (unsigned)k);
    actor_from_tag(cs_rows_str(row, 0, RO_CREATED_BY), &r->actor);
    int64_t stored = cs_rows_i64(row, 0, RO_CONTENT_LEN);
    *src = (file_src){.db = r->db, .id = r->id, .nparts = cs_rows_i64(row, 0, RO_PARTS)};
    src->len = stored > 0 ? (size_t)stored : 0;
    cs_rows_free(row);

    sheet_limits lim;
    import_limits(&lim);
    cs_error fe;
    cs_error_clear(&fe);
    sheet_stream *st = NULL;
    sheet *head = NULL;
    size_t nrows = 0;
    int rc = sheet_stream_open(src_next, src, &lim, HEADER_WINDOW, 0, &st, &fe);
    if (rc == 0) rc = sheet_stream_next(st, &head, &fe);
    if (rc == 0 && !head) rc = cs_error_set(&fe, CS_E_IMPORT_EMPTY, NULL);
    if (rc == 0 && (rc = load_columns(&r->cols, err))) {
        sheet_free(head);
        sheet_stream_free(st);
        src_close(src);
        return -1;
    }
    if (rc == 0) rc = import_map_header(r->cols, r->kind, head, &r->m, &fe);
    if (rc == 0) rc = sheet_stream_count(st, &nrows, &fe);
    if (st) r->sw = *sheet_stream_warnings(st);
    json_t *hdr = json_array();
    for (unsigned c = 0; rc == 0 && c < r->m.ncols; c++)
        json_array_append_new(hdr, json_string(sheet_cell(head, r->m.header_index, c)));
    sheet_free(head);
    sheet_stream_free(st);
    src_close(src);
    if (rc) {
        json_decref(hdr);
        if (fe.code == CS_E_NOMEM) return cs_error_set(err, CS_E_NOMEM, NULL);
        if (fe.code == CS_E_DB || fe.code == CS_E_DB_SOFT || fe.code == CS_E_INTERNAL) {
            *err = fe; /* the database failed while reading the file: worth another attempt */
            return -1;
        }
        return mark_failed(r->db, r->id, &fe, err) ? -1 : 1;
    }
    r->header_len = r->m.first_data;
    if (load_communes(r->db, &r->communes, err) || load_categories(r->db, &r->cats, err) ||
        load_reflist(r->db, SQL_REF_FORMER, IMPORT_REF_STRIP_KIND, &r->former, err)) {
        json_decref(hdr);
        return -1;
    }
    cs_rows *sc = NULL;
    if (cs_db_query(r->db, &sc, SQL_RUN_SCOPE, "i", r->id, err)) {
        json_decref(hdr);
        return -1;
    }
    r->nscope = cs_rows_count(sc);
    if (r->nscope) {
        r->scope = cs_calloc(r->nscope, sizeof *r->scope);
        if (!r->scope) {
            cs_rows_free(sc);
            json_decref(hdr);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        for (size_t i = 0; i < r->nscope; i++)
            snprintf(r->scope[i], sizeof r->scope[i], "%s", cs_rows_str(sc, i, SC_COMMUNE));
    }
    cs_rows_free(sc);
    /* the snapshot of citizen IDs saves new rows a look-up; past import.known_max households it
       would be the one part of an import's memory growing with the database: left out then */
    if (r->kind == IMPORT_HOUSEHOLDS &&
        cs_household_known_load_upto(r->db, (size_t)cs_cfg_int("import.known_max"), &r->known,
                                     err)) {
        json_decref(hdr);
        return -1;
    }
    r->total = (int64_t)(nrows - r->m.first_data);
    char *htext = json_dumps(hdr, JSON_COMPACT);
    json_decref(hdr);
    json_t *w = warnings_json(r);
    char *wtext = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    int64_t u = cs_db_exec(r->db, SQL_RUN_START, "issi", r->total, htext, wtext, r->id, err);
    free(htext);
    free(wtext);
    return u < 0 ? -1 : 0;
}

struct prep_job {
    const run *r;
    chunk *c;
    sheet *w;
    size_t from, to;
};

static void *prep_thread(void *arg)
{
    struct prep_job *p = arg;
    prepare_chunk(p->r, p->c, p->w, p->from, p->to);
    return NULL;
}

/* The next window of data rows: [*from, *to) in data-row offsets. NULL at the end. */
static int next_window(run *r, sheet_stream *st, sheet **w, size_t *from, size_t *to, cs_error *err)
{
    if (sheet_stream_next(st, w, err)) return -1;
    if (!*w) return 0;
    *from = sheet_first_row(*w) - r->header_len;
    *to = sheet_nrows(*w) - r->header_len;
    return 0;
}

int job_import_run(cs_db *db, int64_t id, job_import_progress_fn cb, void *cb_arg,
                   struct job_ctx *ctx, cs_error *err)
{
    run r;
    memset(&r, 0, sizeof r);
    r.db = db, r.id = id;
    file_src src;
    memset(&src, 0, sizeof src);
    int rc = run_open(&r, &src, err);
    if (rc) {
        run_free(&r);
        return rc < 0 ? -1 : 0;
    }
    size_t step = (size_t)cs_cfg_int("import.chunk_rows");
    int crash_n = crash_after_chunk(), committed = 0;
    if (cb) cb(cb_arg, r.done, r.total);
    /* two chunks: the one being written and the next one being prepared by a helper thread;
       each holds its own window of the file, read by this thread (the one database connection) */
    chunk cur, next;
    memset(&cur, 0, sizeof cur);
    memset(&next, 0, sizeof next);
    size_t from = (size_t)r.done, total = (size_t)r.total;
    r.renamed = json_object();
    sheet_limits lim;
    import_limits(&lim);
    sheet_stream *st = NULL;
    sheet *w = NULL;
    size_t wfrom = 0, wto = 0;
    /* households resumed after a crash read the rows already written again, for the citizen IDs
       a later row must not repeat; otherwise the rows before the resume point are skipped */
    int replay = r.kind == IMPORT_HOUSEHOLDS && from > 0;
    src.part = 0, src.off = 0;
    if (sheet_stream_open(src_next, &src, &lim, step, r.header_len + (replay ? 0 : from), &st,
                          err)) {
        src_close(&src);
        run_free(&r);
        return -1;
    }
    rc = 0;
    if (r.kind == IMPORT_HOUSEHOLDS) {
        r.seen = cs_calloc(1, sizeof *r.seen);
        if (!r.seen) rc = cs_error_set(err, CS_E_NOMEM, "import duplicates");
        if (r.seen) r.seen->expect = total;
    }
    while (!rc && replay) {
        if (next_window(&r, st, &w, &wfrom, &wto, err)) {
            rc = -1;
            break;
        }
        if (!w) break;
        if (seen_replay(&r, w, wfrom, wto < from ? wto : from)) {
            rc = cs_error_set(err, CS_E_NOMEM, "import duplicates");
            break;
        }
        if (wto > from) break; /* this window holds the first rows to write too */
        sheet_free(w);
        w = NULL;
    }
    if (!rc && from < total && !w && next_window(&r, st, &w, &wfrom, &wto, err)) rc = -1;
    if (!rc && from < total) {
        if (!w) {
            rc = cs_error_set(err, CS_E_INTERNAL, "import %lld: file shorter than counted",
                              (long long)id);
        } else {
            prepare_chunk(&r, &cur, w, from, wto < total ? wto : total);
            w = NULL;
        }
    }
    sheet_free(w);
    while (!rc && from < total) {
        if (cur.failed) {
            if (cur.err.code != CS_OK)
                *err = cur.err;
            else
                cs_error_set(err, CS_E_NOMEM, "import chunk");
            rc = -1;
            break;
        }
        size_t nfrom = cur.to, nto = nfrom;
        sheet *nw = NULL;
        if (nfrom < total) {
            if (next_window(&r, st, &nw, &wfrom, &nto, err)) {
                rc = -1;
                break;
            }
            if (!nw || wfrom != nfrom) {
                sheet_free(nw);
                rc = cs_error_set(err, CS_E_INTERNAL, "import %lld: rows %zu.. not as counted",
                                  (long long)id, nfrom);
                break;
            }
            if (nto > total) nto = total;
        }
        pthread_t th;
        struct prep_job pj = {&r, &next, nw, nfrom, nto};
        int threaded = 0;
        if (nfrom < total) threaded = !pthread_create(&th, NULL, prep_thread, &pj);
        int wrc = write_chunk(&r, &cur, err);
        if (!r.beyond_row) r.beyond_row = cur.beyond_row;
        if (threaded)
            pthread_join(th, NULL);
        else if (nfrom < total && !wrc)
            prepare_chunk(&r, &next, nw, nfrom, nto);
        else
            sheet_free(nw);
        chunk_free(&cur);
        if (wrc) {
            chunk_free(&next);
            rc = -1;
            break;
        }
        committed++;
        from = nfrom;
        if (cb) cb(cb_arg, r.done, r.total);
        if (crash_n && committed == crash_n) _exit(75); /* test hook: die between chunks */
        cur = next;
        memset(&next, 0, sizeof next);
        if (ctx && from < total && job_should_stop(ctx)) {
            chunk_free(&cur);
            rc = 1;
            break;
        }
    }
    sheet_stream_free(st);
    src_close(&src);
    chunk_free(&cur);
    int beyond_new = 0;
    if (rc == 0 && r.beyond_row) {
        /* values under no header past the rows the header was mapped on: said once, as
           import_map_header says it for the first rows */
        beyond_new = 1;
        for (size_t i = 0; i < r.m.warnings.n; i++)
            if (r.m.warnings.w[i].kind == SHEET_W_CELLS_BEYOND_HEADER) beyond_new = 0;
        if (beyond_new) {
            char letter[8];
            import_col_letter(r.m.ncols, letter, sizeof letter);
            sheet_warn_add(&r.m.warnings, SHEET_W_CELLS_BEYOND_HEADER,
                           "Dòng %u (và có thể dòng khác) có dữ liệu từ cột %s, nơi không có tên "
                           "cột; đã bỏ qua",
                           r.beyond_row, letter);
        }
    }
    if (rc == 0 && (json_object_size(r.renamed) || beyond_new)) {
        /* the old communes repaired, among the import's warnings: "Phường Trường Thi (14764) →
           Phường Hạc Thành (14797): 3 dòng" */
        json_t *wj = warnings_json(&r);
        const char *k;
        json_t *v;
        json_object_foreach(r.renamed, k, v)
        {
            char msg[320];
            snprintf(msg, sizeof msg, "Đã đổi xã/phường cũ sang xã/phường mới: %s — %lld dòng", k,
                     (long long)json_integer_value(v));
            json_array_append_new(
                wj, json_pack("{s:s,s:s}", "code", "commune_renamed", "message", msg));
        }
        char *wt = json_dumps(wj, JSON_COMPACT);
        json_decref(wj);
        if (!wt || cs_db_exec(db, SQL_IMPORT_WARNINGS, "si", wt, id, err) < 0) rc = -1;
        free(wt);
    }
    if (rc == 0) {
        char eid[24];
        snprintf(eid, sizeof eid, "%lld", (long long)id);
        if (cs_db_exec(db, SQL_IMPORT_DONE, "i", id, err) < 0 ||
            cs_audit(db, &r.actor, "import.done", "import", eid,
                     json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I}", "kind", import_kind_name(r.kind),
                               "dry_run", r.dry_run, "rows", (json_int_t)r.total, "created",
                               (json_int_t)r.counts[0], "updated", (json_int_t)r.counts[1],
                               "unchanged", (json_int_t)r.counts[2], "rejected",
                               (json_int_t)r.counts[3]),
                     err))
            rc = -1;
    }
    run_free(&r);
    return rc;
}

/* ---- the job kind --------------------------------------------------------------------------- */

static job_outcome h_import(job_ctx *ctx)
{
    json_t *v = json_object_get(ctx->args, "import_id");
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return job_fail(ctx, "payload.import_id missing");
    cs_error err;
    cs_error_clear(&err);
    int rc = job_import_run(ctx->db, (int64_t)json_integer_value(v), NULL, NULL, ctx, &err);
    if (rc < 0) {
        if (err.code == CS_E_NOT_FOUND)
            return job_fail(ctx, "import %lld not found", (long long)json_integer_value(v));
        /* Only a failure of the world (database away or busy, memory) is worth another
         * attempt; anything else would fail the same way each time. Either way, once no
         * attempt is left the import itself says failed: it never stays "running". */
        int transient = err.code == CS_E_DB || err.code == CS_E_DB_SOFT || err.code == CS_E_NOMEM ||
                        err.code == CS_E_UNAVAILABLE || err.code == CS_E_CONFLICT;
        if (!transient || ctx->attempt >= ctx->max_attempts) {
            cs_error why, e2;
            cs_error_clear(&why);
            cs_error_clear(&e2);
            cs_error_set(&why, err.code, NULL);
            if (mark_failed(ctx->db, (int64_t)json_integer_value(v), &why, &e2))
                return job_retry(ctx, 0, "import: %s", cs_code_name(e2.code));
            return job_fail(ctx, "import: %s %s", cs_code_name(err.code), err.detail);
        }
        return job_retry(ctx, 0, "import: %s %s", cs_code_name(err.code), err.detail);
    }
    if (rc == 1 && (job_should_stop(ctx) & JOB_STOP_CANCEL)) {
        /* cancelled by hand: the rows committed so far stay, the import ends failed saying so */
        cs_error why;
        cs_error_clear(&why);
        cs_error_set(&why, CS_E_CONFLICT, "%s", "đã huỷ; các dòng nhập trước khi huỷ vẫn được giữ");
        if (mark_failed(ctx->db, (int64_t)json_integer_value(v), &why, &err))
            return job_retry(ctx, 0, "import cancel: %s", cs_code_name(err.code));
        return job_fail(ctx, "cancelled");
    }
    if (rc == 1) return job_snooze(ctx, 0); /* stopped between chunks; resumes at rows_done */
    return JOB_OK;
}

int job_import_register(cs_error *err)
{
    /* long files: a lease of two minutes, kept alive by the worker's heartbeat, for up to 6 h */
    return job_register(JOB_IMPORT_KIND, h_import,
                        &(job_kind_opts){.lease_s = 120, .timeout_s = 6 * 3600}, err);
}

/* ---- reading an import back ----------------------------------------------------------------- */

static json_t *json_text_or(const char *text, json_t *dflt)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!v) return dflt;
    json_decref(dflt);
    return v;
}

/* "Họ tên: Trường này bắt buộc; Số CCCD: … (detail)": the error file's last column. */
static char *errors_text(json_t *errs)
{
    cs_buf b;
    cs_buf_init(&b, 65536);
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *detail = json_string_value(json_object_get(e, "detail"));
        if (i) cs_buf_puts(&b, "; ");
        if (field && *field) cs_buf_printf(&b, "%s: ", field);
        cs_buf_puts(&b, msg ? msg : "");
        if (detail && *detail) cs_buf_printf(&b, " (%s)", detail);
    }
    if (cs_buf_putc(&b, '\0')) {
        cs_buf_free(&b);
        return NULL;
    }
    return cs_buf_steal(&b);
}

// clang-format off
static const char SQL_IMPORT_GET[] =
    "SELECT id, kind, filename, file_format, dry_run, state, total_rows, rows_done, n_created,"
    "       n_updated, n_unchanged, n_rejected, n_repaired, warnings, error_message, created_by,"
    "       DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'),"
    "       DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%sZ'),"
    "       DATE_FORMAT(finished_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM imports"
    " WHERE id = ?";
static const char SQL_REJECTS_FIRST[] =
    "SELECT row_no, cells, errors"
    " FROM import_rejects"
    " WHERE import_id = ?"
    " ORDER BY row_no"
    " LIMIT ?";
static const char SQL_REJECTS_PAGE[] =
    "SELECT row_no, cells, errors"
    " FROM import_rejects"
    " WHERE import_id = ? AND row_no > ?"
    " ORDER BY row_no"
    " LIMIT ?";
/* the most cells a rejected row has: the error XLSX's columns are set before its first row */
static const char SQL_REJECTS_WIDTH[] =
    "SELECT COALESCE(MAX(JSON_LENGTH(cells)), 0)"
    " FROM import_rejects"
    " WHERE import_id = ?";
static const char SQL_IMPORT_HEADER[] =
    "SELECT header"
    " FROM imports"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_IMPORT_GET; the seven numbers and the three times follow each other */
enum {
    IG_ID,
    IG_KIND,
    IG_FILENAME,
    IG_FORMAT,
    IG_DRY_RUN,
    IG_STATE,
    IG_TOTAL_ROWS,
    IG_DONE,
    IG_CREATED,
    IG_UPDATED,
    IG_UNCHANGED,
    IG_REJECTED,
    IG_REPAIRED,
    IG_WARNINGS,
    IG_ERROR,
    IG_CREATED_BY,
    IG_CREATED_AT,
    IG_STARTED_AT,
    IG_FINISHED_AT
};
/* columns of SQL_REJECTS_FIRST and SQL_REJECTS_PAGE */
enum { RJ_ROW, RJ_CELLS, RJ_ERRORS };
/* columns of SQL_REJECTS_WIDTH */
enum { RW_WIDTH };
/* columns of SQL_IMPORT_HEADER */
enum { IH_HEADER };

static json_t *reject_json(const cs_rows *rows, size_t i)
{
    json_t *errs = json_text_or(cs_rows_strn(rows, i, RJ_ERRORS), json_array());
    char *text = errors_text(errs);
    json_t *o = json_pack("{s:I,s:o,s:o,s:s}", "row", (json_int_t)cs_rows_i64(rows, i, RJ_ROW),
                          "cells", json_text_or(cs_rows_strn(rows, i, RJ_CELLS), json_array()),
                          "errors", errs, "message", text ? text : "");
    cs_free(text);
    return o;
}

int job_import_get_json(cs_db *db, int64_t id, size_t max_rejects, json_t **out,
                        char created_by_out[40], cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_IMPORT_GET, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (created_by_out) snprintf(created_by_out, 40, "%s", cs_rows_str(r, 0, IG_CREATED_BY));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cs_rows_i64(r, 0, IG_ID)));
    json_object_set_new(o, "kind", json_string(cs_rows_str(r, 0, IG_KIND)));
    json_object_set_new(o, "filename", json_string(cs_rows_str(r, 0, IG_FILENAME)));
    json_object_set_new(o, "file_format", json_string(cs_rows_str(r, 0, IG_FORMAT)));
    json_object_set_new(o, "dry_run", json_boolean(cs_rows_i64(r, 0, IG_DRY_RUN)));
    json_object_set_new(o, "state", json_string(cs_rows_str(r, 0, IG_STATE)));
    static const char *const nums[] = {"total_rows", "rows_done", "created", "updated",
                                       "unchanged",  "rejected",  "repaired"};
    for (unsigned k = 0; k < 7; k++)
        json_object_set_new(o, nums[k], json_integer(cs_rows_i64(r, 0, IG_TOTAL_ROWS + k)));
    json_object_set_new(o, "warnings", json_text_or(cs_rows_strn(r, 0, IG_WARNINGS), json_array()));
    const char *em = cs_rows_strn(r, 0, IG_ERROR);
    json_object_set_new(o, "error", em ? json_string(em) : json_null());
    json_object_set_new(o, "created_by", json_string(cs_rows_str(r, 0, IG_CREATED_BY)));
    static const char *const times[] = {"created_at", "started_at", "finished_at"};
    for (unsigned k = 0; k < 3; k++) {
        const char *t = cs_rows_strn(r, 0, IG_CREATED_AT + k);
        json_object_set_new(o, times[k], t ? json_string(t) : json_null());
    }
    cs_rows_free(r);
    r = NULL;
    json_t *rej = json_array();
    json_object_set_new(o, "rejects", rej);
    if (max_rejects) {
        if (cs_db_query(db, &r, SQL_REJECTS_FIRST, "ii", id, (int64_t)max_rejects, err)) {
            json_decref(o);
            return -1;
        }
        for (size_t i = 0; i < cs_rows_count(r); i++)
            json_array_append_new(rej, reject_json(r, i));
        cs_rows_free(r);
    }
    *out = o;
    return 0;
}

/* One page of rejected rows as sheet_reject rows (the strings belong to the page). */
typedef struct rej_page {
    cs_rows *r;
    size_t n;
    sheet_reject *rows;
    json_t **cellsj;
    const char ***cellv;
    char **texts;
} rej_page;

static void page_free(rej_page *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->cellsj) json_decref(p->cellsj[i]);
        if (p->cellv) cs_free(p->cellv[i]);
        if (p->texts) cs_free(p->texts[i]);
    }
    cs_free(p->rows);
    cs_free(p->cellsj);
    cs_free(p->cellv);
    cs_free(p->texts);
    cs_rows_free(p->r);
    memset(p, 0, sizeof *p);
}

/* The rejects after row_no `after`, at most max of them, in row order. */
static int page_load(cs_db *db, int64_t id, int64_t after, size_t max, rej_page *p, cs_error *err)
{
    memset(p, 0, sizeof *p);
    if (cs_db_query(db, &p->r, SQL_REJECTS_PAGE, "iii", id, after, (int64_t)max, err)) return -1;
    size_t n = cs_rows_count(p->r);
    p->rows = cs_calloc(n ? n : 1, sizeof *p->rows);
    p->cellsj = cs_calloc(n ? n : 1, sizeof *p->cellsj);
    p->cellv = cs_calloc(n ? n : 1, sizeof *p->cellv);
    p->texts = cs_calloc(n ? n : 1, sizeof *p->texts);
    if (!p->rows || !p->cellsj || !p->cellv || !p->texts) {
        page_free(p);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        p->cellsj[i] = json_text_or(cs_rows_strn(p->r, i, RJ_CELLS), json_array());
        size_t nc = json_array_size(p->cellsj[i]);
        p->cellv[i] = cs_calloc(nc ? nc : 1, sizeof **p->cellv);
        json_t *errs = json_text_or(cs_rows_strn(p->r, i, RJ_ERRORS), json_array());
        p->texts[i] = errors_text(errs);
        json_decref(errs);
        if (!p->cellv[i] || !p->texts[i]) {
            page_free(p);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        for (size_t k = 0; k < nc; k++) {
            const char *v = json_string_value(json_array_get(p->cellsj[i], k));
            p->cellv[i][k] = v ? v : "";
        }
        p->rows[i] =
            (sheet_reject){(unsigned)cs_rows_i64(p->r, i, RJ_ROW), p->cellv[i], nc, p->texts[i]};
    }
    return 0;
}

#define REJECTS_PAGE 1000

/* The error file page by page (a file of 1,000,000 rows may have as many rejects): CSV into
 * csv_out, or into csv_file a page at a time, or XLSX at xlsx_path. */
static int errors_write(cs_db *db, int64_t id, cs_buf *csv_out, FILE *csv_file,
                        const char *xlsx_path, cs_error *err)
{
    cs_rows *h = NULL;
    if (cs_db_query(db, &h, SQL_IMPORT_HEADER, "i", id, err)) return -1;
    if (!cs_rows_count(h)) {
        cs_rows_free(h);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    json_t *header = json_text_or(cs_rows_strn(h, 0, IH_HEADER), json_array());
    cs_rows_free(h);
    int rc = -1;
    size_t nh = json_array_size(header);
    const char **hv = cs_calloc(nh ? nh : 1, sizeof *hv);
    cs_buf page_buf;
    cs_buf_init(&page_buf, (size_t)64 << 20);
    cs_buf *out = csv_out ? csv_out : &page_buf;
    sheet_errx *x = NULL;
    rej_page p;
    memset(&p, 0, sizeof p);
    if (!hv) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < nh; i++)
        hv[i] = json_string_value(json_array_get(header, i))
                    ? json_string_value(json_array_get(header, i))
                    : "";
    int64_t after = 0;
    size_t width = 0;
    if (xlsx_path) {
        cs_rows *wr = NULL;
        if (cs_db_query(db, &wr, SQL_REJECTS_WIDTH, "i", id, err)) goto out;
        width = cs_rows_count(wr) ? (size_t)cs_rows_i64(wr, 0, RW_WIDTH) : 0;
        cs_rows_free(wr);
    } else if (sheet_errors_csv(hv, nh, NULL, 0, out, err)) {
        goto out;
    }
    for (int first = 1;; first = 0) {
        if (page_load(db, id, after, REJECTS_PAGE, &p, err)) goto out;
        if (xlsx_path) {
            if (first && sheet_errors_xlsx_begin(&x, xlsx_path, hv, nh, width, p.rows, p.n, err))
                goto out;
            if (sheet_errors_xlsx_rows(x, p.rows, p.n, err)) goto out;
        } else if (sheet_errors_csv_rows(nh, p.rows, p.n, out, err)) {
            goto out;
        }
        if (csv_file) {
            if (out->len && fwrite(out->data, 1, out->len, csv_file) != out->len) {
                cs_error_set(err, CS_E_INTERNAL, "error file: %s", strerror(errno));
                goto out;
            }
            out->len = 0;
        }
        if (p.n < REJECTS_PAGE) break;
        after = (int64_t)p.rows[p.n - 1].row_no;
        page_free(&p);
    }
    rc = 0;
out:
    page_free(&p);
    if (x && sheet_errors_xlsx_end(x, err)) rc = -1;
    cs_buf_free(&page_buf);
    cs_free(hv);
    json_decref(header);
    return rc;
}

int job_import_errors(cs_db *db, int64_t id, cs_buf *csv_out, const char *xlsx_path, cs_error *err)
{
    return errors_write(db, id, csv_out, NULL, xlsx_path, err);
}

int job_import_errors_file(cs_db *db, int64_t id, FILE *f, cs_error *err)
{
    return errors_write(db, id, NULL, f, NULL, err);
}

int job_import_template(cs_db *db, import_kind kind, cs_buf *csv_out, const char *xlsx_path,
                        cs_error *err)
{
    import_columns *cols = NULL;
    import_reflist *communes = NULL, *cats = NULL;
    int rc = -1;
    if (load_columns(&cols, err)) goto out;
    if (csv_out) {
        rc = import_template_csv(cols, kind, csv_out, err);
        goto out;
    }
    if (load_communes(db, &communes, err) ||
        (kind == IMPORT_PRODUCTS && load_categories(db, &cats, err)))
        goto out;
    rc = import_template_xlsx(cols, kind, communes, cats, xlsx_path, err);
out:
    import_columns_free(cols);
    import_reflist_free(communes);
    import_reflist_free(cats);
    return rc;
}
