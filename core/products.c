/* core/products: validation and persistence of products; no HTTP, no marketplace calls. */
#include "core/products.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/jspec.h"
#include "core/mem.h"
#include "core/states.h"
#include "core/targets.h"
#include "core/vn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the checks fill while one input is checked (the table is shared; this is per call). */
typedef struct p_ctx {
    cs_product_norm *n;
} p_ctx;

void cs_product_norm_free(cs_product_norm *n)
{
    if (!n) return;
    cs_free(n->name);
    cs_free(n->name_folded);
    cs_free(n->description);
    cs_free(n->certificates);
    cs_free(n->flagship_entry);
    memset(n, 0, sizeof *n);
}

static int no_memory(const char *field, cs_error *err)
{
    cs_error_set(err, CS_E_NOMEM, NULL);
    return cs_error_field(err, field, CS_E_NOMEM, NULL);
}

static int check_name(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_product_norm *n = ((p_ctx *)arg)->n;
    if (!(n->name = cs_strdup(json_string_value(v))) || !(n->name_folded = vn_fold(n->name)))
        return no_memory(field, err);
    vn_key_cap(n->name_folded, CS_PRODUCT_NAME_KEY_MAX);
    return 0;
}

static int check_description(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_product_norm *n = ((p_ctx *)arg)->n;
    return (n->description = cs_strdup(json_string_value(v))) ? 0 : no_memory(field, err);
}

/* A code of the categories table (the database confirms it exists). */
static int check_category(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_product_norm *n = ((p_ctx *)arg)->n;
    const char *s = json_string_value(v);
    if (!*s || strlen(s) > 40 || strspn(s, "abcdefghijklmnopqrstuvwxyz_") != strlen(s))
        return cs_error_field(err, field, CS_F_CATEGORY, NULL);
    snprintf(n->category, sizeof n->category, "%s", s);
    return 0;
}

/* Whole đồng: a JSON integer, or text as people write prices ("150.000đ", "1,5 triệu"). */
static int check_price(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_product_norm *n = ((p_ctx *)arg)->n;
    if (json_is_integer(v)) {
        n->price_vnd = json_integer_value(v);
        if (n->price_vnd <= 0 || n->price_vnd > VN_PRICE_MAX)
            return cs_error_field(err, field, CS_F_PRICE, NULL);
        return 0;
    }
    cs_code why;
    if (!json_is_string(v)) return cs_error_field(err, field, CS_F_PRICE, NULL);
    if (vn_price_parse(json_string_value(v), &n->price_vnd, &why))
        return cs_error_field(err, field, why, NULL);
    return 0;
}

#define INT_INTO(fn, member)                                                                       \
    static int fn(const char *field, const json_t *v, void *arg, cs_error *err)                    \
    {                                                                                              \
        (void)field, (void)err;                                                                    \
        ((p_ctx *)arg)->n->member = json_integer_value(v);                                         \
        return 0;                                                                                  \
    }
INT_INTO(check_stock, stock)
INT_INTO(check_weight, weight_g)
INT_INTO(check_length, length_mm)
INT_INTO(check_width, width_mm)
INT_INTO(check_height, height_mm)
#undef INT_INTO

static int check_stars(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)field, (void)err;
    ((p_ctx *)arg)->n->ocop_stars = (int)json_integer_value(v);
    return 0;
}

/* The old tick: kept for old clients and files; it proves nothing (issue 12), so only its "no"
 * means something, and update_tx turns that into an unlink. */
static int check_flagship(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)field, (void)v, (void)arg, (void)err;
    return 0;
}

static int check_flagship_id(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)field, (void)err;
    cs_product_norm *n = ((p_ctx *)arg)->n;
    n->flagship_id = json_integer_value(v);
    n->flagship = 1;
    return 0;
}

static int check_flagship_entry(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_product_norm *n = ((p_ctx *)arg)->n;
    n->flagship = 1;
    return (n->flagship_entry = cs_strdup(json_string_value(v))) ? 0 : no_memory(field, err);
}

/* Up to 10 non-empty names of at most 200 bytes, kept as compact JSON text. */
static int check_certificates(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_product_norm *n = ((p_ctx *)arg)->n;
    size_t i;
    json_t *c;
    int ok = json_is_array(v) && json_array_size(v) <= 10;
    json_array_foreach(v, i, c) ok =
        ok && json_is_string(c) && json_string_length(c) <= 200 && json_string_length(c) > 0;
    if (!ok) return cs_error_field(err, field, CS_F_FORMAT, "max 10 strings of 200");
    if (json_array_size(v) && !(n->certificates = json_dumps(v, JSON_COMPACT)))
        return no_memory(field, err);
    return 0;
}

/* The field rules, shared by API bodies and spreadsheet rows (cells as text: numbers given as
 * text are taken, an empty cell is absent, flagship as có/không). check_arg is filled per call. */
enum { P_F_COUNT = 14 };
#define P_IN (CS_JF_NULL_ABSENT)
#define P_DIM (P_IN | CS_JF_INT_TEXT)
static const cs_jfield p_spec[P_F_COUNT + 1] = {
    {.name = "name",
     .type = CS_J_STRING,
     .flags = P_IN | CS_JF_REQUIRED | CS_JF_INT_TEXT | CS_JF_CLEAN,
     .min_len = 3,
     .max_len = 120,
     .check = check_name},
    {.name = "description",
     .type = CS_J_STRING,
     .flags = P_IN | CS_JF_REQUIRED | CS_JF_CLEAN | CS_JF_LINES,
     .min_len = 10,
     .max_len = 5000,
     .check = check_description},
    {.name = "category",
     .type = CS_J_STRING,
     .flags = P_IN | CS_JF_REQUIRED,
     .check = check_category},
    {.name = "price_vnd", .type = CS_J_ANY, .flags = P_IN | CS_JF_REQUIRED, .check = check_price},
    {.name = "stock",
     .type = CS_J_INT,
     .flags = P_DIM,
     .min = 0,
     .max = 1000000000,
     .check = check_stock},
    {.name = "weight_g",
     .type = CS_J_INT,
     .flags = P_DIM | CS_JF_REQUIRED,
     .min = 1,
     .max = 1000000,
     .check = check_weight},
    {.name = "length_mm",
     .type = CS_J_INT,
     .flags = P_DIM,
     .min = 1,
     .max = 10000,
     .check = check_length},
    {.name = "width_mm",
     .type = CS_J_INT,
     .flags = P_DIM,
     .min = 1,
     .max = 10000,
     .check = check_width},
    {.name = "height_mm",
     .type = CS_J_INT,
     .flags = P_DIM,
     .min = 1,
     .max = 10000,
     .check = check_height},
    {.name = "ocop_stars",
     .type = CS_J_INT,
     .flags = P_DIM,
     .min = 1,
     .max = 5,
     .check = check_stars},
    {.name = "flagship", .type = CS_J_BOOLISH, .flags = P_IN, .check = check_flagship},
    {.name = "flagship_id",
     .type = CS_J_INT,
     .flags = P_DIM,
     .min = 1,
     .max = 1000000,
     .check = check_flagship_id},
    {.name = "flagship_entry",
     .type = CS_J_STRING,
     .flags = P_IN | CS_JF_INT_TEXT | CS_JF_CLEAN | CS_JF_EMPTY_ABSENT,
     .min_len = 1,
     .max_len = 200,
     .check = check_flagship_entry},
    {.name = "certificates", .type = CS_J_ANY, .flags = P_IN, .check = check_certificates},
    {.name = NULL},
};

int cs_product_validate(json_t *in, cs_product_norm *n, cs_error *err)
{
    memset(n, 0, sizeof *n);
    if (!json_is_object(in)) return cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
    size_t before = err->nfields;
    p_ctx ctx = {n};
    cs_jfield spec[P_F_COUNT + 1];
    memcpy(spec, p_spec, sizeof spec);
    for (size_t i = 0; i < P_F_COUNT; i++)
        spec[i].check_arg = &ctx;
    cs_json_check(in, spec, err);
    if (err->nfields > before || err->code != CS_OK) {
        if (err->code == CS_OK) err->code = CS_E_VALIDATION;
        cs_product_norm_free(n);
        return -1;
    }
    return 0;
}

/* One CS_F_UNKNOWN field error per member of `in` that is not a product input key. 0 or -1. */
static int unknown_keys(const json_t *in, cs_error *err)
{
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)in, k, v)
    {
        int known = 0;
        for (const cs_jfield *f = p_spec; f->name && !known; f++)
            known = !strcmp(f->name, k);
        if (!known) rc = cs_error_field(err, k, CS_F_UNKNOWN, NULL);
    }
    return rc;
}

int cs_product_content_hash(const cs_product_norm *n, unsigned char out[32])
{
    cs_buf b;
    cs_buf_init(&b, 1 << 20);
    /* The flagship link is no content: it goes to no marketplace and is decided apart (an
       update compares it on its own). Its two former slots stay 0, so a product never ticked
       keeps the hash it had before the link was a designation (issue 12). */
    int rc = cs_buf_printf(
        &b,
        "%s\x1f%s\x1f%s\x1f%lld\x1f%lld\x1f%lld\x1f%lld\x1f%lld\x1f%lld\x1f%d\x1f%d\x1f%lld\x1f%s",
        n->name, n->description, n->category, (long long)n->price_vnd, (long long)n->stock,
        (long long)n->weight_g, (long long)n->length_mm, (long long)n->width_mm,
        (long long)n->height_mm, n->ocop_stars, 0, 0LL, n->certificates ? n->certificates : "");
    if (!rc) cs_sha256(b.data, b.len, out);
    cs_buf_free(&b);
    return rc;
}

// clang-format off
static const char SQL_CATEGORY_EXISTS[] =
    "SELECT 1"
    " FROM categories"
    " WHERE code = ?";
static const char SQL_FLAGSHIP_EXISTS[] =
    "SELECT 1"
    " FROM flagship_products"
    " WHERE id = ?";
/* flagship (the approved designation) is never written from input: a list entry given is a
   proposal (flagship_status), decided by an admin (core/flagship.c) */
static const char SQL_INSERT[] =
    "INSERT INTO products (name, name_folded, description, category, price_vnd, stock,"
    "  weight_g, length_mm, width_mm, height_mm, ocop_stars, flagship_status, flagship_id,"
    "  certificates, content_hash, household_id)"
    " VALUES (?,?,?,?,?,?,?,NULLIF(?,0),NULLIF(?,0),NULLIF(?,0),NULLIF(?,0),"
    "  IF(?, 'proposed', 'none'),NULLIF(?,0),?,?,?)";
static const char SQL_UPDATE[] =
    "UPDATE products"
    " SET name = ?, name_folded = ?, description = ?, category = ?, price_vnd = ?,"
    "  stock = ?, weight_g = ?, length_mm = NULLIF(?,0), width_mm = NULLIF(?,0),"
    "  height_mm = NULLIF(?,0), ocop_stars = NULLIF(?,0), flagship = flagship AND ?,"
    "  flagship_id = NULLIF(?,0), certificates = ?, content_hash = ?, version = version + 1"
    " WHERE id = ?";
/* another list entry (or none): a new proposal, the previous decision forgotten */
static const char SQL_RELINK[] =
    "UPDATE products"
    " SET flagship = FALSE, flagship_status = IF(flagship_id IS NULL, 'none', 'proposed'),"
    "  flagship_reason = NULL, flagship_decided_by = NULL, flagship_decided_at = NULL"
    " WHERE id = ?";
static const char SQL_FLAGSHIP_BY_NAME[] =
    "SELECT id"
    " FROM flagship_products"
    " WHERE name_folded = ?"
    " ORDER BY id"
    " LIMIT 1";
// clang-format on

/* References the database must confirm: category and flagship entry (flagship_entry, by id
 * or by exact name accent-insensitively, becomes flagship_id). */
static int check_refs(cs_db *db, cs_product_norm *n, cs_error *err)
{
    int64_t one;
    int r = cs_db_scalar_i64(db, &one, SQL_CATEGORY_EXISTS, "s", n->category, err);
    if (r < 0) return -1;
    if (r == 1) cs_error_field(err, "category", CS_F_CATEGORY, NULL);
    if (n->flagship_entry) {
        const char *e = n->flagship_entry;
        char *end = NULL;
        long long id = strspn(e, "0123456789") == strlen(e) ? strtoll(e, &end, 10) : 0;
        if (id > 0 && id <= 1000000) {
            n->flagship_id = id;
        } else {
            char *folded = vn_fold(e);
            if (!folded) return cs_error_field(err, "flagship_entry", CS_F_UTF8, NULL);
            int64_t found = 0;
            r = cs_db_scalar_i64(db, &found, SQL_FLAGSHIP_BY_NAME, "s", folded, err);
            cs_free(folded);
            if (r < 0) return -1;
            if (r == 1) return cs_error_field(err, "flagship_entry", CS_F_FLAGSHIP_ENTRY, NULL);
            n->flagship_id = found;
        }
        r = cs_db_scalar_i64(db, &one, SQL_FLAGSHIP_EXISTS, "i", n->flagship_id, err);
        if (r < 0) return -1;
        if (r == 1) return cs_error_field(err, "flagship_entry", CS_F_FLAGSHIP_ENTRY, NULL);
    } else if (n->flagship_id) {
        r = cs_db_scalar_i64(db, &one, SQL_FLAGSHIP_EXISTS, "i", n->flagship_id, err);
        if (r < 0) return -1;
        if (r == 1) cs_error_field(err, "flagship_id", CS_F_FLAGSHIP_ENTRY, NULL);
    }
    return err->nfields ? -1 : 0;
}

static int write_product(cs_db *db, int64_t id, int64_t household_id, const cs_product_norm *n,
                         const unsigned char hash[32], cs_error *err)
{
    int64_t r;
#define P_VALUES                                                                                   \
    n->name, n->name_folded, n->description, n->category, n->price_vnd, n->stock, n->weight_g,     \
        n->length_mm, n->width_mm, n->height_mm, (int64_t)n->ocop_stars, (int64_t)n->flagship,     \
        n->flagship_id, n->certificates, hash, (size_t)32
    if (!id)
        r = cs_db_exec(db, SQL_INSERT, "ssssiiiiiiiiisbi", P_VALUES, household_id, err);
    else
        r = cs_db_exec(db, SQL_UPDATE, "ssssiiiiiiiiisbi", P_VALUES, id, err);
#undef P_VALUES
    return r < 0 ? -1 : 0;
}

int cs_product_insert(cs_db *db, const cs_actor *a, int64_t household_id, cs_product_norm *n,
                      cs_product_result *res, cs_error *err)
{
    memset(res, 0, sizeof *res);
    unsigned char hash[32];
    if (check_refs(db, n, err)) return -1;
    n->flagship = n->flagship_id != 0;
    if (cs_product_content_hash(n, hash)) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (write_product(db, 0, household_id, n, hash, err)) return -1;
    res->id = (int64_t)cs_db_insert_id(db);
    res->version = 1;
    res->changed = 1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)res->id);
    json_t *detail = json_pack("{s:I}", "household_id", (json_int_t)household_id);
    if (n->flagship_id)
        json_object_set_new(detail, "flagship_proposed", json_integer(n->flagship_id));
    return cs_audit(db, a, "product.create", "product", id, detail, err);
}

struct p_create {
    const cs_actor *a;
    const char *code;
    cs_product_norm *n;
    cs_product_result *res;
};

// clang-format off
enum { OWNER_ID, OWNER_STATUS };
static const char SQL_OWNER[] =
    "SELECT id, status"
    " FROM households"
    " WHERE code = ?"
    " LOCK IN SHARE MODE";
// clang-format on

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct p_create *c = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_OWNER, "s", c->code, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "household");
    }
    int64_t hid = cs_rows_i64(r, 0, OWNER_ID);
    int erased = !strcmp(cs_rows_str(r, 0, OWNER_STATUS), "erased");
    cs_rows_free(r);
    if (erased) return cs_error_set(err, CS_E_GONE, NULL);
    return cs_product_insert(db, c->a, hid, c->n, c->res, err);
}

int cs_product_create(cs_db *db, const cs_actor *a, const char *household_code, json_t *in,
                      cs_product_result *res, cs_error *err)
{
    cs_product_norm n;
    if (cs_product_validate(in, &n, err)) return -1;
    struct p_create c = {a, household_code, &n, res};
    int rc = cs_db_tx(db, create_tx, &c, err);
    cs_product_norm_free(&n);
    return rc;
}

/* The columns of a product as read by get, update and list (product_row), one name each. */
// clang-format off
enum {
    P_ID, P_NAME, P_DESCRIPTION, P_CATEGORY, P_PRICE, P_STOCK, P_WEIGHT, P_LENGTH, P_WIDTH,
    P_HEIGHT, P_STARS, P_FLAGSHIP, P_FLAGSHIP_ID, P_CERTIFICATES, P_VERSION, P_CREATED,
    P_UPDATED, P_HOUSEHOLD_CODE, P_COMMUNE, P_FIRST_LIVE, P_STATUS, P_HOUSEHOLD_ID,
    P_FL_STATUS, P_FL_REASON, P_FL_NAME, P_FL_DECIDED_AT,
    P_CONTENT_HASH /* SQL_UPDATE_LOAD only */
};
#define P_SELECT                                                                                   \
    "SELECT p.id, p.name, p.description, p.category, p.price_vnd, p.stock, p.weight_g,"            \
    "  p.length_mm, p.width_mm, p.height_mm, p.ocop_stars, p.flagship, p.flagship_id,"             \
    "  p.certificates, p.version, DATE_FORMAT(p.created_at, '%Y-%m-%dT%H:%i:%sZ'),"                \
    "  DATE_FORMAT(p.updated_at, '%Y-%m-%dT%H:%i:%sZ'), h.code, h.commune_code,"                   \
    "  DATE_FORMAT(p.first_live_at, '%Y-%m-%dT%H:%i:%sZ'), p.status, p.household_id,"          \
    "  p.flagship_status, p.flagship_reason, fl.name,"                                             \
    "  DATE_FORMAT(p.flagship_decided_at, '%Y-%m-%dT%H:%i:%sZ')"
static const char SQL_GET[] =
    P_SELECT
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " LEFT JOIN flagship_products fl ON fl.id = p.flagship_id"
    " WHERE p.id = ?";
enum { IMG_SHA, IMG_MIME, IMG_BYTES, IMG_POSITION };
static const char SQL_GET_IMAGES[] =
    "SELECT sha256, mime, bytes, position"
    " FROM product_images"
    " WHERE product_id = ?"
    " ORDER BY position";
enum {
    LS_ID, LS_MARKETPLACE, LS_STATE, LS_EXTERNAL_ID, LS_URL, LS_ERROR_CODE, LS_ERROR_MESSAGE,
    LS_ERROR_FIELDS, LS_FIRST_LIVE
};
static const char SQL_GET_LISTINGS[] =
    "SELECT id, marketplace_code, state, external_item_id, listing_url,"
    "  last_error_code, last_error_message, error_fields,"
    "  DATE_FORMAT(first_live_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM listings"
    " WHERE product_id = ?"
    " ORDER BY id";
static const char SQL_UPDATE_LOAD[] =
    P_SELECT ", p.content_hash"
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " LEFT JOIN flagship_products fl ON fl.id = p.flagship_id"
    " WHERE p.id = ?"
    " FOR UPDATE";
static const char SQL_LIST[] =
    P_SELECT
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " LEFT JOIN flagship_products fl ON fl.id = p.flagship_id"
    " WHERE p.id > ? AND p.status <> 'erased'"
    "  AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"
    "  AND (? IS NULL OR h.code = ?)"
    "  AND (? IS NULL OR h.commune_code = ?)"
    "  AND (? IS NULL OR p.category = ?)"
    "  AND (? < 0 OR p.flagship = ?)"
    "  AND (? IS NULL OR p.flagship_status = ?)"
    "  AND (? = 0 OR p.ocop_stars = ?)"
    "  AND (? IS NULL OR p.name_folded LIKE ?)"
    " ORDER BY p.id"
    " LIMIT ?";
// clang-format on

static json_t *num_or_null(const cs_rows *r, size_t i, unsigned c)
{
    return cs_rows_isnull(r, i, c) ? json_null() : json_integer(cs_rows_i64(r, i, c));
}

static json_t *str_or_null(const cs_rows *r, size_t i, unsigned c)
{
    return cs_rows_strn(r, i, c) ? json_string(cs_rows_str(r, i, c)) : json_null();
}

static json_t *product_row(const cs_rows *r, size_t i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cs_rows_i64(r, i, P_ID)));
    json_object_set_new(o, "household_code", json_string(cs_rows_str(r, i, P_HOUSEHOLD_CODE)));
    json_object_set_new(o, "commune_code", json_string(cs_rows_str(r, i, P_COMMUNE)));
    json_object_set_new(o, "name", json_string(cs_rows_str(r, i, P_NAME)));
    json_object_set_new(o, "description", json_string(cs_rows_str(r, i, P_DESCRIPTION)));
    json_object_set_new(o, "category", json_string(cs_rows_str(r, i, P_CATEGORY)));
    json_object_set_new(o, "price_vnd", json_integer(cs_rows_i64(r, i, P_PRICE)));
    json_object_set_new(o, "stock", json_integer(cs_rows_i64(r, i, P_STOCK)));
    json_object_set_new(o, "weight_g", json_integer(cs_rows_i64(r, i, P_WEIGHT)));
    json_object_set_new(o, "length_mm", num_or_null(r, i, P_LENGTH));
    json_object_set_new(o, "width_mm", num_or_null(r, i, P_WIDTH));
    json_object_set_new(o, "height_mm", num_or_null(r, i, P_HEIGHT));
    json_object_set_new(o, "ocop_stars", num_or_null(r, i, P_STARS));
    json_object_set_new(o, "flagship", json_boolean(cs_rows_i64(r, i, P_FLAGSHIP)));
    json_object_set_new(o, "flagship_id", num_or_null(r, i, P_FLAGSHIP_ID));
    /* the link to the province's list: none, proposed (chờ duyệt), approved, refused (reason) */
    json_object_set_new(o, "flagship_status", json_string(cs_rows_str(r, i, P_FL_STATUS)));
    json_object_set_new(o, "flagship_entry", str_or_null(r, i, P_FL_NAME));
    json_object_set_new(o, "flagship_reason", str_or_null(r, i, P_FL_REASON));
    json_object_set_new(o, "flagship_decided_at", str_or_null(r, i, P_FL_DECIDED_AT));
    json_t *certs = cs_rows_strn(r, i, P_CERTIFICATES)
                        ? json_loads(cs_rows_str(r, i, P_CERTIFICATES), 0, NULL)
                        : NULL;
    json_object_set_new(o, "certificates", certs ? certs : json_array());
    json_object_set_new(o, "version", json_integer(cs_rows_i64(r, i, P_VERSION)));
    json_object_set_new(o, "created_at", json_string(cs_rows_str(r, i, P_CREATED)));
    json_object_set_new(o, "updated_at", json_string(cs_rows_str(r, i, P_UPDATED)));
    json_object_set_new(o, "first_live_at", str_or_null(r, i, P_FIRST_LIVE));
    json_object_set_new(o, "status", json_string(cs_rows_str(r, i, P_STATUS)));
    return o;
}

int cs_product_get(cs_db *db, int64_t id, json_t **out, char household_code[24], char commune[6],
                   cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL, *img = NULL, *lst = NULL;
    if (cs_db_query(db, &r, SQL_GET, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (household_code) snprintf(household_code, 24, "%s", cs_rows_str(r, 0, P_HOUSEHOLD_CODE));
    if (commune) snprintf(commune, 6, "%s", cs_rows_str(r, 0, P_COMMUNE));
    if (cs_db_query(db, &img, SQL_GET_IMAGES, "i", id, err) ||
        cs_db_query(db, &lst, SQL_GET_LISTINGS, "i", id, err)) {
        cs_rows_free(r);
        cs_rows_free(img);
        return -1;
    }
    json_t *o = product_row(r, 0);
    json_t *imgs = json_array();
    for (size_t i = 0; i < cs_rows_count(img); i++) {
        char url[96];
        snprintf(url, sizeof url, "/media/%s", cs_rows_str(img, i, IMG_SHA));
        json_array_append_new(
            imgs, json_pack("{s:s,s:s,s:s,s:I,s:I}", "sha256", cs_rows_str(img, i, IMG_SHA), "url",
                            url, "mime", cs_rows_str(img, i, IMG_MIME), "bytes",
                            (json_int_t)cs_rows_i64(img, i, IMG_BYTES), "position",
                            (json_int_t)cs_rows_i64(img, i, IMG_POSITION)));
    }
    json_object_set_new(o, "images", imgs);
    json_t *ls = json_array();
    for (size_t i = 0; i < cs_rows_count(lst); i++) {
        json_t *l =
            json_pack("{s:I,s:s,s:s}", "id", (json_int_t)cs_rows_i64(lst, i, LS_ID), "marketplace",
                      cs_rows_str(lst, i, LS_MARKETPLACE), "state", cs_rows_str(lst, i, LS_STATE));
        json_object_set_new(l, "external_item_id", str_or_null(lst, i, LS_EXTERNAL_ID));
        json_object_set_new(l, "listing_url", str_or_null(lst, i, LS_URL));
        if (cs_rows_strn(lst, i, LS_ERROR_CODE)) {
            json_t *fields = cs_rows_strn(lst, i, LS_ERROR_FIELDS)
                                 ? json_loads(cs_rows_str(lst, i, LS_ERROR_FIELDS), 0, NULL)
                                 : NULL;
            json_object_set_new(l, "error",
                                json_pack("{s:s,s:s,s:o}", "code",
                                          cs_rows_str(lst, i, LS_ERROR_CODE), "message",
                                          cs_rows_str(lst, i, LS_ERROR_MESSAGE), "fields",
                                          fields ? fields : json_array()));
        }
        json_object_set_new(l, "first_live_at", str_or_null(lst, i, LS_FIRST_LIVE));
        json_array_append_new(ls, l);
    }
    json_object_set_new(o, "listings", ls);
    cs_rows_free(r);
    cs_rows_free(img);
    cs_rows_free(lst);
    *out = o;
    return 0;
}

struct p_update {
    const cs_actor *a;
    int64_t id;
    unsigned expected;
    json_t *patch;
    cs_product_result *res;
};

static int update_tx(cs_db *db, void *arg, cs_error *err)
{
    struct p_update *u = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_UPDATE_LOAD, "i", u->id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    unsigned version = (unsigned)cs_rows_i64(r, 0, P_VERSION);
    if (version != u->expected) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_PRECONDITION, "current version %u", version);
    }
    if (strcmp(cs_rows_str(r, 0, P_STATUS), "active")) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_GONE, NULL);
    }
    json_t *full = product_row(r, 0);
    int64_t hid = cs_rows_i64(r, 0, P_HOUSEHOLD_ID);
    size_t hl;
    unsigned char old[32] = {0};
    const void *oh = cs_rows_blob(r, 0, P_CONTENT_HASH, &hl);
    if (oh && hl == 32) memcpy(old, oh, 32);
    cs_rows_free(r);
    /* a refused link named again (the producer since certified, say) is proposed again */
    int named =
        json_object_get(u->patch, "flagship_id") || json_object_get(u->patch, "flagship_entry");
    int repropose =
        named && !strcmp(json_string_value(json_object_get(full, "flagship_status")), "refused");
    /* keep only input keys, then overlay the patch */
    static const char *drop[] = {"id",
                                 "household_code",
                                 "commune_code",
                                 "version",
                                 "created_at",
                                 "updated_at",
                                 "first_live_at",
                                 "status",
                                 "flagship",
                                 "flagship_status",
                                 "flagship_entry",
                                 "flagship_reason",
                                 "flagship_decided_at"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(full, drop[i]);
    if (!json_integer_value(json_object_get(full, "flagship_id")))
        json_object_del(full, "flagship_id");
    int rc = -1;
    cs_product_norm n;
    memset(&n, 0, sizeof n);
    if (!json_is_object(u->patch)) {
        cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
        goto out;
    }
    if (unknown_keys(u->patch, err)) goto out;
    /* the list entry before the patch: another one (or none) is a new proposal, and both
       (household, entry) pairs are filed out and in again around it (core/targets.h) */
    int64_t was_entry = json_integer_value(json_object_get(full, "flagship_id"));
    /* an entry named replaces the id; the old tick's "no" unlinks */
    if (json_object_get(u->patch, "flagship_entry")) json_object_del(full, "flagship_id");
    json_object_update(full, u->patch);
    json_t *tick = json_object_get(u->patch, "flagship");
    if (json_is_false(tick) && !json_object_get(u->patch, "flagship_id") &&
        !json_object_get(u->patch, "flagship_entry"))
        json_object_del(full, "flagship_id");
    json_object_del(full, "flagship");
    if (cs_product_validate(full, &n, err) || check_refs(db, &n, err)) goto out;
    n.flagship = n.flagship_id != 0;
    unsigned char hash[32];
    if (cs_product_content_hash(&n, hash)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    u->res->id = u->id;
    u->res->version = version;
    int relinked = was_entry != n.flagship_id || (repropose && n.flagship_id);
    if (!memcmp(hash, old, 32) && !relinked) {
        u->res->changed = 0;
        rc = 0;
        goto out;
    }
    if ((relinked && was_entry && cs_targets_file_pair(db, hid, was_entry, -1, err)) ||
        (relinked && n.flagship_id && cs_targets_file_pair(db, hid, n.flagship_id, -1, err)) ||
        write_product(db, u->id, 0, &n, hash, err) ||
        (relinked && cs_db_exec(db, SQL_RELINK, "i", u->id, err) < 0) ||
        (relinked && was_entry && cs_targets_file_pair(db, hid, was_entry, 1, err)) ||
        (relinked && n.flagship_id && cs_targets_file_pair(db, hid, n.flagship_id, 1, err)))
        goto out;
    u->res->version = version + 1;
    u->res->changed = 1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)u->id);
    json_t *fields = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(u->patch, k, v) json_array_append_new(fields, json_string(k));
    json_t *detail = json_pack("{s:o}", "fields", fields);
    if (relinked)
        json_object_set_new(detail, "flagship_proposed",
                            n.flagship_id ? json_integer(n.flagship_id) : json_null());
    rc = cs_audit(db, u->a, "product.update", "product", id, detail, err);
out:
    cs_product_norm_free(&n);
    json_decref(full);
    return rc;
}

int cs_product_update(cs_db *db, const cs_actor *a, int64_t id, unsigned expected_version,
                      json_t *patch, cs_product_result *res, cs_error *err)
{
    memset(res, 0, sizeof *res);
    struct p_update u = {a, id, expected_version, patch, res};
    return cs_db_tx(db, update_tx, &u, err);
}

int cs_product_list(cs_db *db, const cs_product_filter *f, json_t **out, int64_t *next_cursor,
                    cs_error *err)
{
    *out = NULL;
    *next_cursor = 0;
    char *scope = NULL, *like = NULL;
    if (f->communes) {
        cs_buf b;
        cs_buf_init(&b, 1 << 16);
        for (size_t i = 0; i < f->ncommunes; i++)
            cs_buf_printf(&b, "%s%s", i ? "," : "", f->communes[i]);
        scope = cs_buf_steal(&b);
    }
    if (f->q && *f->q) {
        char *folded = vn_fold(f->q);
        if (!folded) {
            cs_free(scope);
            return cs_error_field(err, "q", CS_F_UTF8, NULL);
        }
        cs_buf b;
        cs_buf_init(&b, 4096);
        cs_buf_putc(&b, '%');
        for (const char *p = folded; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\') cs_buf_putc(&b, '\\');
            cs_buf_putc(&b, *p);
        }
        cs_buf_putc(&b, '%');
        like = cs_buf_steal(&b);
        cs_free(folded);
    }
    int limit = f->limit < 1 ? 50 : f->limit > 200 ? 200 : f->limit;
    cs_rows *r = NULL;
    int rc = cs_db_query(db, &r, SQL_LIST, "issssssssiissiissi", f->after_id, scope, scope,
                         f->household, f->household, f->commune, f->commune, f->category,
                         f->category, (int64_t)f->flagship, (int64_t)f->flagship,
                         f->flagship_status, f->flagship_status, (int64_t)f->ocop_stars,
                         (int64_t)f->ocop_stars, like, like, (int64_t)limit + 1, err);
    cs_free(scope);
    cs_free(like);
    if (rc) return -1;
    json_t *arr = json_array();
    size_t n = cs_rows_count(r);
    for (size_t i = 0; i < n && i < (size_t)limit; i++)
        json_array_append_new(arr, product_row(r, i));
    if (n > (size_t)limit) *next_cursor = cs_rows_i64(r, (size_t)limit - 1, P_ID);
    cs_rows_free(r);
    *out = arr;
    return 0;
}

/* ---- withdrawal from sale (issue 16) -------------------------------------------------------- */

// clang-format off
static const char SQL_WD_LOCK[] =
    "SELECT status"
    " FROM products"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_WD_ARCHIVE[] =
    "UPDATE products"
    " SET status = 'archived', version = version + 1"
    " WHERE id = ? AND status = 'active'";
// clang-format on
/* columns of SQL_WD_LOCK */
enum { WDL_STATUS };

struct p_withdraw {
    const cs_actor *a;
    int64_t id;
    int withdrawing;
};

static int withdraw_tx(cs_db *db, void *arg, cs_error *err)
{
    struct p_withdraw *w = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_WD_LOCK, "i", w->id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "product");
    }
    int erased = !strcmp(cs_rows_str(r, 0, WDL_STATUS), "erased");
    cs_rows_free(r);
    if (erased) return cs_error_set(err, CS_E_GONE, NULL);
    /* a second withdrawal changes nothing but is not an error: the listings are already on
       their way down */
    if (cs_db_exec(db, SQL_WD_ARCHIVE, "i", w->id, err) < 0) return -1;
    w->withdrawing = cs_listings_withdraw(db, w->id, 0, "product_withdrawn",
                                          "Sản phẩm đã được rút khỏi bán.", w->a, err);
    if (w->withdrawing < 0) return -1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)w->id);
    return cs_audit(db, w->a, "product.withdraw", "product", id,
                    json_pack("{s:i}", "listings_withdrawing", w->withdrawing), err);
}

int cs_product_withdraw(cs_db *db, const cs_actor *a, int64_t id, int *withdrawing, cs_error *err)
{
    struct p_withdraw w = {a, id, 0};
    if (cs_db_tx(db, withdraw_tx, &w, err)) return -1;
    if (withdrawing) *withdrawing = w.withdrawing;
    return 0;
}

// clang-format off
static const char SQL_PUBLISH_CANDIDATES[] =
    "SELECT p.id"
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " WHERE p.status = 'active'"
    "   AND h.status <> 'erased'"
    "   AND p.id > ?"
    "   AND (? IS NULL OR h.commune_code = ?)"
    "   AND (? IS NULL OR h.code = ?)"
    "   AND NOT EXISTS (SELECT 1 FROM listings l"
    "                   WHERE l.product_id = p.id AND l.marketplace_code = ? AND l.state <> 'draft')"
    " ORDER BY p.id"
    " LIMIT ?";
// clang-format on
/* columns of SQL_PUBLISH_CANDIDATES */
enum { PC_ID };

int cs_product_publish_candidates(cs_db *db, const char *mp, const char *commune,
                                  const char *household, int64_t after, int64_t *ids, size_t max,
                                  size_t *n, cs_error *err)
{
    *n = 0;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_PUBLISH_CANDIDATES, "isssssi", after, commune, commune, household,
                    household, mp, (int64_t)max, err))
        return -1;
    for (size_t i = 0; i < cs_rows_count(r) && i < max; i++)
        ids[(*n)++] = cs_rows_i64(r, i, PC_ID);
    cs_rows_free(r);
    return 0;
}
