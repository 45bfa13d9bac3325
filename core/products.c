/* core/products: validation and persistence of products; no HTTP, no marketplace calls. */
#include "core/products.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/jsonv.h"
#include "core/mem.h"
#include "core/targets.h"
#include "core/vn.h"
#include <stdio.h>
#include <string.h>

static const char *const p_keys[] = {"name", "description", "category", "price_vnd", "stock",
                                     "weight_g", "length_mm", "width_mm", "height_mm",
                                     "ocop_stars", "flagship", "flagship_id", "certificates", NULL};

void cs_product_norm_free(cs_product_norm *n)
{
    if (!n) return;
    cs_free(n->name);
    cs_free(n->name_folded);
    cs_free(n->description);
    cs_free(n->certificates);
    memset(n, 0, sizeof *n);
}

static int clean_text(const char *key, const char *raw, long minlen, long maxlen, char **dst,
                      cs_error *err)
{
    cs_code why = CS_OK;
    char *c = vn_text_clean(raw, &why);
    if (!c) return cs_error_field(err, key, CS_F_UTF8, NULL);
    long len = vn_utf8_len(c);
    char d[32];
    if (len < minlen || len > maxlen) {
        snprintf(d, sizeof d, "%ld..%ld", minlen, maxlen);
        cs_free(c);
        return cs_error_field(err, key, len < minlen ? (len == 0 ? CS_F_REQUIRED : CS_F_TOO_SHORT) : CS_F_TOO_LONG, d);
    }
    *dst = c;
    return 0;
}

/* Descriptions keep their line breaks: only NFC and trimming of each end. */
static int clean_description(const char *raw, char **dst, cs_error *err)
{
    cs_buf b;
    cs_buf_init(&b, 20000);
    const char *p = raw;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = cs_strndup(p, len);
        char *c = line ? vn_text_clean(line, NULL) : NULL;
        cs_free(line);
        if (!c) {
            cs_buf_free(&b);
            return cs_error_field(err, "description", CS_F_UTF8, NULL);
        }
        if (b.len && cs_buf_putc(&b, '\n')) goto toolong;
        if (cs_buf_puts(&b, c)) { cs_free(c); goto toolong; }
        cs_free(c);
        p = e ? e + 1 : p + len;
    }
    {
        char *s = cs_buf_steal(&b);
        long len = s ? vn_utf8_len(s) : -1;
        if (len > 5000) { cs_free(s); return cs_error_field(err, "description", CS_F_TOO_LONG, "max 5000"); }
        if (len < 10) { cs_free(s); return cs_error_field(err, "description", len <= 0 ? CS_F_REQUIRED : CS_F_TOO_SHORT, "min 10"); }
        *dst = s;
        return 0;
    }
toolong:
    cs_buf_free(&b);
    return cs_error_field(err, "description", CS_F_TOO_LONG, "max 5000");
}

int cs_product_validate(json_t *in, cs_product_norm *n, cs_error *err)
{
    memset(n, 0, sizeof *n);
    if (!json_is_object(in)) return cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
    size_t before = err->nfields;
    cs_jv_only(in, p_keys, err);
    char *raw = NULL;
    int r;
    if ((r = cs_jv_text(in, "name", 1, &raw, err)) == 1) {
        if (!clean_text("name", raw, 3, 120, &n->name, err)) {
            n->name_folded = vn_fold(n->name);
            if (!n->name_folded) cs_error_set(err, CS_E_NOMEM, NULL);
        }
    } else if (r == 0) {
        cs_error_field(err, "name", CS_F_REQUIRED, NULL);
    }
    cs_free(raw), raw = NULL;
    if ((r = cs_jv_text(in, "description", 0, &raw, err)) == 1) clean_description(raw, &n->description, err);
    else if (r == 0) cs_error_field(err, "description", CS_F_REQUIRED, NULL);
    cs_free(raw), raw = NULL;
    if ((r = cs_jv_text(in, "category", 0, &raw, err)) == 1) {
        if (!*raw || strlen(raw) > 40 || strspn(raw, "abcdefghijklmnopqrstuvwxyz_") != strlen(raw))
            cs_error_field(err, "category", CS_F_CATEGORY, NULL);
        else
            snprintf(n->category, sizeof n->category, "%s", raw);
    } else if (r == 0) {
        cs_error_field(err, "category", CS_F_REQUIRED, NULL);
    }
    cs_free(raw), raw = NULL;

    json_t *price = json_object_get(in, "price_vnd");
    if (!price || json_is_null(price)) {
        cs_error_field(err, "price_vnd", CS_F_REQUIRED, NULL);
    } else if (json_is_integer(price)) {
        n->price_vnd = json_integer_value(price);
        if (n->price_vnd <= 0 || n->price_vnd > 10000000000LL) cs_error_field(err, "price_vnd", CS_F_PRICE, NULL);
    } else if (json_is_string(price)) {
        cs_code why;
        if (vn_price_parse(json_string_value(price), &n->price_vnd, &why)) cs_error_field(err, "price_vnd", why, NULL);
    } else {
        cs_error_field(err, "price_vnd", CS_F_PRICE, NULL);
    }
    if (cs_jv_int(in, "stock", 0, 1000000000, &n->stock, err) == 0) n->stock = 0;
    if (cs_jv_int(in, "weight_g", 1, 1000000, &n->weight_g, err) == 0)
        cs_error_field(err, "weight_g", CS_F_REQUIRED, NULL);
    cs_jv_int(in, "length_mm", 1, 10000, &n->length_mm, err);
    cs_jv_int(in, "width_mm", 1, 10000, &n->width_mm, err);
    cs_jv_int(in, "height_mm", 1, 10000, &n->height_mm, err);
    int64_t stars = 0;
    if (cs_jv_int(in, "ocop_stars", 1, 5, &stars, err) == 1) n->ocop_stars = (int)stars;
    int b;
    if (cs_jv_bool(in, "flagship", &b, err) == 1) n->flagship = b;
    if (cs_jv_int(in, "flagship_id", 1, 1000000, &n->flagship_id, err) == 1) n->flagship = 1;
    json_t *certs = json_object_get(in, "certificates");
    if (certs && !json_is_null(certs)) {
        size_t i;
        json_t *c;
        int ok = json_is_array(certs) && json_array_size(certs) <= 10;
        json_array_foreach(certs, i, c) ok = ok && json_is_string(c) && json_string_length(c) <= 200 &&
                                             json_string_length(c) > 0;
        if (!ok) cs_error_field(err, "certificates", CS_F_FORMAT, "max 10 strings of 200");
        else if (json_array_size(certs)) n->certificates = json_dumps(certs, JSON_COMPACT);
    }
    if (err->nfields > before || err->code != CS_OK) {
        if (err->code == CS_OK) err->code = CS_E_VALIDATION;
        cs_product_norm_free(n);
        return -1;
    }
    return 0;
}

int cs_product_content_hash(const cs_product_norm *n, unsigned char out[32])
{
    cs_buf b;
    cs_buf_init(&b, 1 << 20);
    int rc = cs_buf_printf(&b, "%s\x1f%s\x1f%s\x1f%lld\x1f%lld\x1f%lld\x1f%lld\x1f%lld\x1f%lld\x1f%d\x1f%d\x1f%lld\x1f%s",
                           n->name, n->description, n->category, (long long)n->price_vnd,
                           (long long)n->stock, (long long)n->weight_g, (long long)n->length_mm,
                           (long long)n->width_mm, (long long)n->height_mm, n->ocop_stars,
                           n->flagship, (long long)n->flagship_id,
                           n->certificates ? n->certificates : "");
    if (!rc) cs_sha256(b.data, b.len, out);
    cs_buf_free(&b);
    return rc;
}

/* References the database must confirm: category and flagship entry. */
static int check_refs(cs_db *db, const cs_product_norm *n, cs_error *err)
{
    int64_t one;
    int r = cs_db_scalar_i64(db, &one, "SELECT 1 FROM categories WHERE code = ?", "s", n->category, err);
    if (r < 0) return -1;
    if (r == 1) cs_error_field(err, "category", CS_F_CATEGORY, NULL);
    if (n->flagship_id) {
        r = cs_db_scalar_i64(db, &one, "SELECT 1 FROM flagship_products WHERE id = ?", "i", n->flagship_id, err);
        if (r < 0) return -1;
        if (r == 1) cs_error_field(err, "flagship_id", CS_F_RANGE, NULL);
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
        r = cs_db_exec(db,
                       "INSERT INTO products (name, name_folded, description, category, price_vnd, stock,"
                       " weight_g, length_mm, width_mm, height_mm, ocop_stars, flagship, flagship_id,"
                       " certificates, content_hash, household_id) VALUES (?,?,?,?,?,?,?,NULLIF(?,0),"
                       "NULLIF(?,0),NULLIF(?,0),NULLIF(?,0),?,NULLIF(?,0),?,?,?)",
                       "ssssiiiiiiiiisbi", P_VALUES, household_id, err);
    else
        r = cs_db_exec(db,
                       "UPDATE products SET name=?, name_folded=?, description=?, category=?, price_vnd=?,"
                       " stock=?, weight_g=?, length_mm=NULLIF(?,0), width_mm=NULLIF(?,0),"
                       " height_mm=NULLIF(?,0), ocop_stars=NULLIF(?,0), flagship=?,"
                       " flagship_id=NULLIF(?,0), certificates=?, content_hash=?, version = version + 1"
                       " WHERE id = ?",
                       "ssssiiiiiiiiisbi", P_VALUES, id, err);
#undef P_VALUES
    return r < 0 ? -1 : 0;
}

int cs_product_insert(cs_db *db, const cs_actor *a, int64_t household_id, const cs_product_norm *n,
                      cs_product_result *res, cs_error *err)
{
    memset(res, 0, sizeof *res);
    unsigned char hash[32];
    if (check_refs(db, n, err)) return -1;
    if (cs_product_content_hash(n, hash)) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (write_product(db, 0, household_id, n, hash, err)) return -1;
    res->id = (int64_t)cs_db_insert_id(db);
    res->version = 1;
    res->changed = 1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)res->id);
    return cs_audit(db, a, "product.create", "product", id,
                    json_pack("{s:I}", "household_id", (json_int_t)household_id), err);
}

struct p_create {
    const cs_actor *a;
    const char *code;
    cs_product_norm *n;
    cs_product_result *res;
};

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct p_create *c = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, "SELECT id, status FROM households WHERE code = ? LOCK IN SHARE MODE", "s",
                    c->code, err))
        return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "household");
    }
    int64_t hid = cs_rows_i64(r, 0, 0);
    int erased = !strcmp(cs_rows_str(r, 0, 1), "erased");
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

#define P_COLS                                                                                     \
    "p.id, p.name, p.description, p.category, p.price_vnd, p.stock, p.weight_g, p.length_mm,"      \
    " p.width_mm, p.height_mm, p.ocop_stars, p.flagship, p.flagship_id, p.certificates,"           \
    " p.version, DATE_FORMAT(p.created_at, '%Y-%m-%dT%H:%i:%sZ'),"                                 \
    " DATE_FORMAT(p.updated_at, '%Y-%m-%dT%H:%i:%sZ'), h.code, h.commune_code,"                    \
    " DATE_FORMAT(p.first_live_at, '%Y-%m-%dT%H:%i:%sZ'), p.status, p.household_id"

static json_t *num_or_null(const cs_rows *r, size_t i, unsigned c)
{
    return cs_rows_isnull(r, i, c) ? json_null() : json_integer(cs_rows_i64(r, i, c));
}

static json_t *product_row(const cs_rows *r, size_t i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cs_rows_i64(r, i, 0)));
    json_object_set_new(o, "household_code", json_string(cs_rows_str(r, i, 17)));
    json_object_set_new(o, "commune_code", json_string(cs_rows_str(r, i, 18)));
    json_object_set_new(o, "name", json_string(cs_rows_str(r, i, 1)));
    json_object_set_new(o, "description", json_string(cs_rows_str(r, i, 2)));
    json_object_set_new(o, "category", json_string(cs_rows_str(r, i, 3)));
    json_object_set_new(o, "price_vnd", json_integer(cs_rows_i64(r, i, 4)));
    json_object_set_new(o, "stock", json_integer(cs_rows_i64(r, i, 5)));
    json_object_set_new(o, "weight_g", json_integer(cs_rows_i64(r, i, 6)));
    json_object_set_new(o, "length_mm", num_or_null(r, i, 7));
    json_object_set_new(o, "width_mm", num_or_null(r, i, 8));
    json_object_set_new(o, "height_mm", num_or_null(r, i, 9));
    json_object_set_new(o, "ocop_stars", num_or_null(r, i, 10));
    json_object_set_new(o, "flagship", json_boolean(cs_rows_i64(r, i, 11)));
    json_object_set_new(o, "flagship_id", num_or_null(r, i, 12));
    json_t *certs = cs_rows_strn(r, i, 13) ? json_loads(cs_rows_str(r, i, 13), 0, NULL) : NULL;
    json_object_set_new(o, "certificates", certs ? certs : json_array());
    json_object_set_new(o, "version", json_integer(cs_rows_i64(r, i, 14)));
    json_object_set_new(o, "created_at", json_string(cs_rows_str(r, i, 15)));
    json_object_set_new(o, "updated_at", json_string(cs_rows_str(r, i, 16)));
    json_object_set_new(o, "first_live_at", cs_rows_strn(r, i, 19) ? json_string(cs_rows_str(r, i, 19)) : json_null());
    json_object_set_new(o, "status", json_string(cs_rows_str(r, i, 20)));
    return o;
}

int cs_product_get(cs_db *db, int64_t id, json_t **out, char household_code[24], char commune[6],
                   cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL, *img = NULL, *lst = NULL;
    if (cs_db_query(db, &r, "SELECT " P_COLS " FROM products p JOIN households h ON h.id = p.household_id"
                            " WHERE p.id = ?", "i", id, err))
        return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (household_code) snprintf(household_code, 24, "%s", cs_rows_str(r, 0, 17));
    if (commune) snprintf(commune, 6, "%s", cs_rows_str(r, 0, 18));
    if (cs_db_query(db, &img, "SELECT sha256, mime, bytes, position FROM product_images"
                              " WHERE product_id = ? ORDER BY position", "i", id, err) ||
        cs_db_query(db, &lst, "SELECT id, marketplace_code, state, external_item_id, listing_url,"
                              " last_error_code, last_error_message, error_fields,"
                              " DATE_FORMAT(first_live_at, '%Y-%m-%dT%H:%i:%sZ')"
                              " FROM listings WHERE product_id = ? ORDER BY id", "i", id, err)) {
        cs_rows_free(r);
        cs_rows_free(img);
        return -1;
    }
    json_t *o = product_row(r, 0);
    json_t *imgs = json_array();
    for (size_t i = 0; i < cs_rows_count(img); i++) {
        char url[96];
        snprintf(url, sizeof url, "/media/%s", cs_rows_str(img, i, 0));
        json_array_append_new(imgs, json_pack("{s:s,s:s,s:s,s:I,s:I}", "sha256", cs_rows_str(img, i, 0),
                                              "url", url, "mime", cs_rows_str(img, i, 1), "bytes",
                                              (json_int_t)cs_rows_i64(img, i, 2), "position",
                                              (json_int_t)cs_rows_i64(img, i, 3)));
    }
    json_object_set_new(o, "images", imgs);
    json_t *ls = json_array();
    for (size_t i = 0; i < cs_rows_count(lst); i++) {
        json_t *l = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)cs_rows_i64(lst, i, 0), "marketplace",
                              cs_rows_str(lst, i, 1), "state", cs_rows_str(lst, i, 2));
        json_object_set_new(l, "external_item_id", cs_rows_strn(lst, i, 3) ? json_string(cs_rows_str(lst, i, 3)) : json_null());
        json_object_set_new(l, "listing_url", cs_rows_strn(lst, i, 4) ? json_string(cs_rows_str(lst, i, 4)) : json_null());
        if (cs_rows_strn(lst, i, 5)) {
            json_t *fields = cs_rows_strn(lst, i, 7) ? json_loads(cs_rows_str(lst, i, 7), 0, NULL) : NULL;
            json_object_set_new(l, "error", json_pack("{s:s,s:s,s:o}", "code", cs_rows_str(lst, i, 5),
                                                      "message", cs_rows_str(lst, i, 6), "fields",
                                                      fields ? fields : json_array()));
        }
        json_object_set_new(l, "first_live_at", cs_rows_strn(lst, i, 8) ? json_string(cs_rows_str(lst, i, 8)) : json_null());
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
    if (cs_db_query(db, &r, "SELECT " P_COLS ", p.content_hash FROM products p JOIN households h"
                            " ON h.id = p.household_id WHERE p.id = ? FOR UPDATE", "i", u->id, err))
        return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    unsigned version = (unsigned)cs_rows_i64(r, 0, 14);
    if (version != u->expected) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_PRECONDITION, "current version %u", version);
    }
    if (strcmp(cs_rows_str(r, 0, 20), "active")) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_GONE, NULL);
    }
    json_t *full = product_row(r, 0);
    size_t hl;
    unsigned char old[32] = {0};
    const void *oh = cs_rows_blob(r, 0, 22, &hl);
    if (oh && hl == 32) memcpy(old, oh, 32);
    cs_rows_free(r);
    /* keep only input keys, then overlay the patch */
    static const char *drop[] = {"id", "household_code", "commune_code", "version", "created_at",
                                 "updated_at", "first_live_at", "status"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) json_object_del(full, drop[i]);
    if (!json_integer_value(json_object_get(full, "flagship_id"))) json_object_del(full, "flagship_id");
    int rc = -1;
    cs_product_norm n;
    memset(&n, 0, sizeof n);
    if (!json_is_object(u->patch)) {
        cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
        goto out;
    }
    if (cs_jv_only(u->patch, p_keys, err)) goto out;
    /* whether the product counted as flagship before the patch (targets follow the flag) */
    int was_flagship = json_is_true(json_object_get(full, "flagship"));
    json_object_update(full, u->patch);
    if (cs_product_validate(full, &n, err) || check_refs(db, &n, err)) goto out;
    unsigned char hash[32];
    if (cs_product_content_hash(&n, hash)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    u->res->id = u->id;
    u->res->version = version;
    if (!memcmp(hash, old, 32)) {
        u->res->changed = 0;
        rc = 0;
        goto out;
    }
    /* a flagship flag set or cleared after the product went live moves its targets count
       (core/targets.h): out before the write, in again after it */
    int moved = was_flagship != (n.flagship != 0);
    if ((moved && cs_targets_refile_product(db, u->id, -1, err)) || write_product(db, u->id, 0, &n, hash, err) ||
        (moved && cs_targets_refile_product(db, u->id, 1, err)))
        goto out;
    u->res->version = version + 1;
    u->res->changed = 1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)u->id);
    json_t *fields = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(u->patch, k, v) json_array_append_new(fields, json_string(k));
    rc = cs_audit(db, u->a, "product.update", "product", id, json_pack("{s:o}", "fields", fields), err);
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
        for (size_t i = 0; i < f->ncommunes; i++) cs_buf_printf(&b, "%s%s", i ? "," : "", f->communes[i]);
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
    int rc = cs_db_query(db, &r,
                         "SELECT " P_COLS " FROM products p JOIN households h ON h.id = p.household_id"
                         " WHERE p.id > ? AND p.status <> 'erased'"
                         " AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"
                         " AND (? IS NULL OR h.code = ?)"
                         " AND (? IS NULL OR h.commune_code = ?)"
                         " AND (? IS NULL OR p.category = ?)"
                         " AND (? < 0 OR p.flagship = ?)"
                         " AND (? = 0 OR p.ocop_stars = ?)"
                         " AND (? IS NULL OR p.name_folded LIKE ?)"
                         " ORDER BY p.id LIMIT ?",
                         "issssssssiiiissi", f->after_id, scope, scope, f->household, f->household,
                         f->commune, f->commune, f->category, f->category, (int64_t)f->flagship,
                         (int64_t)f->flagship, (int64_t)f->ocop_stars, (int64_t)f->ocop_stars, like,
                         like, (int64_t)limit + 1, err);
    cs_free(scope);
    cs_free(like);
    if (rc) return -1;
    json_t *arr = json_array();
    size_t n = cs_rows_count(r);
    for (size_t i = 0; i < n && i < (size_t)limit; i++) json_array_append_new(arr, product_row(r, i));
    if (n > (size_t)limit) *next_cursor = cs_rows_i64(r, (size_t)limit - 1, 0);
    cs_rows_free(r);
    *out = arr;
    return 0;
}
