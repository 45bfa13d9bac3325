/* core/flagship: the province's list of flagship products, maintained by provincial staff, and
 * their decisions on the links volunteers propose (core/flagship.h). SQL and rules only: no
 * HTTP; the counters move through core/targets in the same transaction as the decision. */
#include "core/flagship.h"
#include "core/buf.h"
#include "core/jspec.h"
#include "core/mem.h"
#include "core/targets.h"
#include "core/vn.h"
#include <stdio.h>
#include <string.h>

// clang-format off
enum { F_ID, F_NAME, F_CATEGORY, F_ORIGIN, F_PRODUCER, F_STARS, F_CERT, F_YEAR };
#define F_SELECT \
    "SELECT id, name, category, origin_place, producer, ocop_stars, certificate_no, ocop_year" \
    " FROM flagship_products"
static const char SQL_LIST[] =
    F_SELECT
    " WHERE id > ?"
    "  AND (? IS NULL OR category = ?)"
    "  AND (? IS NULL OR name_folded LIKE ? OR producer LIKE ?)"
    " ORDER BY id"
    " LIMIT ?";
static const char SQL_ONE[] =
    F_SELECT
    " WHERE id = ?";
static const char SQL_ONE_LOCK[] =
    F_SELECT
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_NAME_TAKEN[] =
    "SELECT id"
    " FROM flagship_products"
    " WHERE name_folded = ? AND id <> ?"
    " LIMIT 1";
static const char SQL_CATEGORY_EXISTS[] =
    "SELECT 1"
    " FROM categories"
    " WHERE code = ?";
static const char SQL_INSERT[] =
    "INSERT INTO flagship_products (name, name_folded, category, origin_place, producer,"
    "  ocop_stars, certificate_no, ocop_year)"
    " VALUES (?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, 0), NULLIF(?, ''), NULLIF(?, 0))";
static const char SQL_UPDATE[] =
    "UPDATE flagship_products"
    " SET name = ?, name_folded = ?, category = ?, origin_place = ?, producer = NULLIF(?, ''),"
    "  ocop_stars = NULLIF(?, 0), certificate_no = NULLIF(?, ''), ocop_year = NULLIF(?, 0)"
    " WHERE id = ?";
enum { D_HOUSEHOLD, D_ENTRY, D_STATUS };
static const char SQL_DECIDE_LOCK[] =
    "SELECT household_id, flagship_id, flagship_status"
    " FROM products"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_DECIDE[] =
    "UPDATE products"
    " SET flagship_status = ?, flagship = (? = 'approved'), flagship_reason = NULLIF(?, ''),"
    "  flagship_decided_by = ?, flagship_decided_at = UTC_TIMESTAMP(), version = version + 1"
    " WHERE id = ?";
// clang-format on

static json_t *opt_str(const cs_rows *r, size_t i, unsigned c)
{
    return cs_rows_strn(r, i, c) ? json_string(cs_rows_str(r, i, c)) : json_null();
}

static json_t *opt_int(const cs_rows *r, size_t i, unsigned c)
{
    return cs_rows_isnull(r, i, c) ? json_null() : json_integer(cs_rows_i64(r, i, c));
}

static json_t *entry_row(const cs_rows *r, size_t i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cs_rows_i64(r, i, F_ID)));
    json_object_set_new(o, "name", json_string(cs_rows_str(r, i, F_NAME)));
    json_object_set_new(o, "category", json_string(cs_rows_str(r, i, F_CATEGORY)));
    json_object_set_new(o, "origin_place", json_string(cs_rows_str(r, i, F_ORIGIN)));
    json_object_set_new(o, "producer", opt_str(r, i, F_PRODUCER));
    json_object_set_new(o, "ocop_stars", opt_int(r, i, F_STARS));
    json_object_set_new(o, "certificate_no", opt_str(r, i, F_CERT));
    json_object_set_new(o, "ocop_year", opt_int(r, i, F_YEAR));
    return o;
}

int cs_flagship_list(cs_db *db, const char *q, const char *category, int64_t after, int limit,
                     json_t **out, int64_t *next_cursor, cs_error *err)
{
    *out = NULL;
    *next_cursor = 0;
    char *like = NULL, *plain = NULL;
    if (q && *q) {
        char *folded = vn_fold(q);
        if (!folded) return cs_error_field(err, "q", CS_F_UTF8, NULL);
        cs_buf b, c;
        cs_buf_init(&b, 4096);
        cs_buf_init(&c, 4096);
        cs_buf_putc(&b, '%');
        cs_buf_putc(&c, '%');
        for (const char *p = folded; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\') cs_buf_putc(&b, '\\');
            cs_buf_putc(&b, *p);
        }
        /* the producer column is compared under the table's accent-insensitive collation */
        for (const char *p = q; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\') cs_buf_putc(&c, '\\');
            cs_buf_putc(&c, *p);
        }
        cs_buf_putc(&b, '%');
        cs_buf_putc(&c, '%');
        like = cs_buf_steal(&b);
        plain = cs_buf_steal(&c);
        cs_free(folded);
        if (!like || !plain) {
            cs_free(like);
            cs_free(plain);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
    }
    if (limit < 1) limit = 50;
    if (limit > 200) limit = 200;
    cs_rows *r = NULL;
    int rc = cs_db_query(db, &r, SQL_LIST, "isssssi", after, category, category, like, like, plain,
                         (int64_t)limit + 1, err);
    cs_free(like);
    cs_free(plain);
    if (rc) return -1;
    json_t *arr = json_array();
    size_t n = cs_rows_count(r);
    for (size_t i = 0; i < n && i < (size_t)limit; i++)
        json_array_append_new(arr, entry_row(r, i));
    if (n > (size_t)limit) *next_cursor = cs_rows_i64(r, (size_t)limit - 1, F_ID);
    cs_rows_free(r);
    *out = arr;
    return 0;
}

int cs_flagship_get(cs_db *db, int64_t id, json_t **out, cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ONE, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "flagship product");
    }
    *out = entry_row(r, 0);
    cs_rows_free(r);
    return 0;
}

/* an entry being written: the text fields cleaned by the checks (cs_jspec frees coerced text
 * after its check, so each keeps a copy) */
struct entry {
    char name[201], category[41], origin[301], producer[201], cert[65];
    int64_t stars, year;
};

#define COPY_INTO(fn, member)                                                                      \
    static int fn(const char *field, const json_t *v, void *arg, cs_error *err)                    \
    {                                                                                              \
        (void)field, (void)err;                                                                    \
        struct entry *e = arg;                                                                     \
        snprintf(e->member, sizeof e->member, "%s", json_string_value(v));                         \
        return 0;                                                                                  \
    }
COPY_INTO(take_name, name)
COPY_INTO(take_category, category)
COPY_INTO(take_origin, origin)
COPY_INTO(take_producer, producer)
COPY_INTO(take_cert, cert)
#undef COPY_INTO

struct put_ctx {
    const cs_actor *a;
    int64_t id;
    json_t *in;
    int64_t *id_out;
};

static int put_tx(cs_db *db, void *arg, cs_error *err)
{
    struct put_ctx *c = arg;
    struct entry e;
    memset(&e, 0, sizeof e);
    if (c->id) {
        /* an edit starts from the stored entry: only the keys given change */
        cs_rows *r = NULL;
        if (cs_db_query(db, &r, SQL_ONE_LOCK, "i", c->id, err)) return -1;
        if (!cs_rows_count(r)) {
            cs_rows_free(r);
            return cs_error_set(err, CS_E_NOT_FOUND, "flagship product");
        }
        snprintf(e.name, sizeof e.name, "%s", cs_rows_str(r, 0, F_NAME));
        snprintf(e.category, sizeof e.category, "%s", cs_rows_str(r, 0, F_CATEGORY));
        snprintf(e.origin, sizeof e.origin, "%s", cs_rows_str(r, 0, F_ORIGIN));
        if (cs_rows_strn(r, 0, F_PRODUCER))
            snprintf(e.producer, sizeof e.producer, "%s", cs_rows_str(r, 0, F_PRODUCER));
        if (cs_rows_strn(r, 0, F_CERT))
            snprintf(e.cert, sizeof e.cert, "%s", cs_rows_str(r, 0, F_CERT));
        e.stars = cs_rows_isnull(r, 0, F_STARS) ? 0 : cs_rows_i64(r, 0, F_STARS);
        e.year = cs_rows_isnull(r, 0, F_YEAR) ? 0 : cs_rows_i64(r, 0, F_YEAR);
        cs_rows_free(r);
    }
    unsigned req = c->id ? 0 : CS_JF_REQUIRED;
    unsigned text = CS_JF_NULL_ABSENT | CS_JF_CLEAN;
    const cs_jfield spec[] = {
        {.name = "name",
         .type = CS_J_STRING,
         .flags = text | req,
         .min_len = 3,
         .max_len = 200,
         .check = take_name,
         .check_arg = &e},
        {.name = "category",
         .type = CS_J_STRING,
         .flags = text | req,
         .min_len = 1,
         .max_len = 40,
         .check = take_category,
         .check_arg = &e},
        {.name = "origin_place",
         .type = CS_J_STRING,
         .flags = text,
         .max_len = 300,
         .check = take_origin,
         .check_arg = &e},
        {.name = "producer",
         .type = CS_J_STRING,
         .flags = text,
         .max_len = 200,
         .check = take_producer,
         .check_arg = &e},
        {.name = "certificate_no",
         .type = CS_J_STRING,
         .flags = text,
         .max_len = 64,
         .check = take_cert,
         .check_arg = &e},
        {.name = "ocop_stars",
         .type = CS_J_INT,
         .flags = CS_JF_NULL_ABSENT,
         .min = 1,
         .max = 5,
         .out = &e.stars},
        {.name = "ocop_year",
         .type = CS_J_INT,
         .flags = CS_JF_NULL_ABSENT,
         .min = 2018,
         .max = 2100,
         .out = &e.year},
        {.name = NULL},
    };
    if (cs_json_check(c->in, spec, err)) return -1;
    /* a code of the (ascii) categories table: anything else never reaches the database */
    if (!e.category[0] || strspn(e.category, "abcdefghijklmnopqrstuvwxyz_") != strlen(e.category))
        return cs_error_field(err, "category", CS_F_CATEGORY, NULL);
    int64_t one = 0;
    int r = cs_db_scalar_i64(db, &one, SQL_CATEGORY_EXISTS, "s", e.category, err);
    if (r < 0) return -1;
    if (r == 1) return cs_error_field(err, "category", CS_F_CATEGORY, NULL);
    char *folded = vn_fold(e.name);
    if (!folded) return cs_error_field(err, "name", CS_F_UTF8, NULL);
    vn_key_cap(folded, 200);
    int64_t other = 0;
    r = cs_db_scalar_i64(db, &other, SQL_NAME_TAKEN, "si", folded, c->id, err);
    if (r == 0) r = cs_error_field(err, "name", CS_F_FLAGSHIP_NAME_TAKEN, NULL);
    if (r >= 0)
        r = cs_db_exec(db, c->id ? SQL_UPDATE : SQL_INSERT, c->id ? "sssssisii" : "sssssisi",
                       e.name, folded, e.category, e.origin, e.producer, e.stars, e.cert, e.year,
                       c->id, err) < 0
                ? -1
                : 0;
    cs_free(folded);
    if (r < 0) return -1;
    int64_t id = c->id ? c->id : (int64_t)cs_db_insert_id(db);
    *c->id_out = id;
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    json_t *fields = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(c->in, k, v) json_array_append_new(fields, json_string(k));
    return cs_audit(db, c->a, c->id ? "flagship.update" : "flagship.create", "flagship_product",
                    sid, json_pack("{s:s,s:o}", "name", e.name, "fields", fields), err);
}

int cs_flagship_put(cs_db *db, const cs_actor *a, int64_t id, json_t *in, int64_t *id_out,
                    cs_error *err)
{
    if (!json_is_object(in)) return cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
    struct put_ctx c = {a, id, in, id_out};
    return cs_db_tx(db, put_tx, &c, err);
}

struct decide_ctx {
    const cs_actor *a;
    int64_t id;
    int approve;
    const char *reason;
};

static int decide_tx(cs_db *db, void *arg, cs_error *err)
{
    struct decide_ctx *d = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_DECIDE_LOCK, "i", d->id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "product");
    }
    int64_t hh = cs_rows_i64(r, 0, D_HOUSEHOLD);
    int64_t entry = cs_rows_isnull(r, 0, D_ENTRY) ? 0 : cs_rows_i64(r, 0, D_ENTRY);
    char before[16];
    snprintf(before, sizeof before, "%s", cs_rows_str(r, 0, D_STATUS));
    cs_rows_free(r);
    if (!entry) return cs_error_set(err, CS_E_FLAGSHIP_NO_PROPOSAL, NULL);
    const char *to = d->approve ? "approved" : "refused";
    char by[48];
    cs_actor_tag(d->a, by, sizeof by);
    /* the pair counts with or without this product: out before, in after (core/targets.h) */
    if (cs_targets_file_pair(db, hh, entry, -1, err) ||
        cs_db_exec(db, SQL_DECIDE, "ssssi", to, to, d->approve ? "" : d->reason, by, d->id, err) <
            0 ||
        cs_targets_file_pair(db, hh, entry, 1, err))
        return -1;
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)d->id);
    json_t *detail = json_pack("{s:I,s:s}", "flagship_id", (json_int_t)entry, "from", before);
    if (!d->approve) json_object_set_new(detail, "reason", json_string(d->reason));
    return cs_audit(db, d->a, d->approve ? "product.flagship_approve" : "product.flagship_refuse",
                    "product", sid, detail, err);
}

int cs_flagship_decide(cs_db *db, const cs_actor *a, int64_t product_id, int approve,
                       const char *reason, cs_error *err)
{
    if (!approve) {
        size_t n = reason ? cs_utf8_len(reason, strlen(reason)) : 0;
        if (n < 5) return cs_error_field(err, "reason", CS_F_REQUIRED, NULL);
        if (n > 500) return cs_error_field(err, "reason", CS_F_TOO_LONG, "500");
    }
    struct decide_ctx d = {a, product_id, approve, reason};
    return cs_db_tx(db, decide_tx, &d, err);
}
