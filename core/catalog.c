/* core/catalog: stored category trees and attributes, the category mapping and the pre-publish
 * check (core/catalog.h). SQL and JSON only; no I/O beyond the database. */
#include "core/catalog.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_DEPTH 24

// clang-format off
static const char SQL_LATEST[] =
    "SELECT id, version, content_hash, fetched_at"
    " FROM mp_catalog_versions"
    " WHERE marketplace_code = ?"
    " ORDER BY version DESC"
    " LIMIT 1";
static const char SQL_VERSION_ADD[] =
    "INSERT INTO mp_catalog_versions (marketplace_code, version, content_hash, ncategories,"
    " nattributes, fetched_from)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_NODE_ADD[] =
    "INSERT INTO mp_categories (version_id, external_id, parent_id, name, path, is_leaf)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_ATTR_ADD[] =
    "INSERT INTO mp_category_attributes (version_id, external_id, attribute_id, position, name,"
    " input_type, mandatory, choices)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_MAPPED_LEAVES[] =
    "SELECT DISTINCT external_category_id"
    " FROM category_map"
    " WHERE marketplace_code = ?"
    " ORDER BY external_category_id";
static const char SQL_READER[] =
    "SELECT id"
    " FROM seller_accounts"
    " WHERE marketplace_code = ? AND state = 'active'"
    " ORDER BY activated_at DESC, id DESC"
    " LIMIT 1";
static const char SQL_MAP_OF[] =
    "SELECT external_category_id, external_category_name, attributes"
    " FROM category_map"
    " WHERE category = ? AND marketplace_code = ?";
static const char SQL_NODE_OF[] =
    "SELECT is_leaf, path"
    " FROM mp_categories"
    " WHERE version_id = ? AND external_id = ?";
static const char SQL_LEAF_ATTRS[] =
    "SELECT a.attribute_id, a.name, a.mandatory, a.input_type, a.choices, v.value_id, v.value_name"
    " FROM mp_category_attributes a"
    " LEFT JOIN category_attribute_values v ON v.category = ? AND v.marketplace_code = ?"
    "  AND v.attribute_id = a.attribute_id"
    " WHERE a.version_id = ? AND a.external_id = ?"
    " ORDER BY a.position";
static const char SQL_LEAVES[] =
    "SELECT external_id, path"
    " FROM mp_categories"
    " WHERE version_id = ? AND is_leaf = 1 AND (? = '' OR path LIKE CONCAT('%', ?, '%'))"
    " ORDER BY path"
    " LIMIT ?";
static const char SQL_MAPPINGS[] =
    "SELECT category, marketplace_code, external_category_id, external_category_name, attributes"
    " FROM category_map"
    " WHERE (? = '' OR marketplace_code = ?)"
    " ORDER BY marketplace_code, category";
static const char SQL_CATEGORY_KNOWN[] =
    "SELECT COUNT(*)"
    " FROM categories"
    " WHERE code = ?";
static const char SQL_VALUES_CLEAR[] =
    "DELETE FROM category_attribute_values"
    " WHERE category = ? AND marketplace_code = ?";
static const char SQL_VALUE_ADD[] =
    "INSERT INTO category_attribute_values (category, marketplace_code, attribute_id, value_id,"
    " value_name, updated_by)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_MAP_SET[] =
    "INSERT INTO category_map (category, marketplace_code, external_category_id,"
    " external_category_name, attributes, mapped_by, mapped_at)"
    " VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP())"
    " ON DUPLICATE KEY UPDATE external_category_id = VALUES(external_category_id),"
    " external_category_name = VALUES(external_category_name), attributes = VALUES(attributes),"
    " mapped_by = VALUES(mapped_by), mapped_at = VALUES(mapped_at)";
// clang-format on
/* columns of SQL_LATEST */
enum { LV_ID, LV_VERSION, LV_HASH, LV_FETCHED };
/* columns of SQL_MAPPED_LEAVES */
enum { ML_ID };
/* columns of SQL_READER */
enum { RD_ID };
/* columns of SQL_MAP_OF */
enum { MO_EXT, MO_NAME, MO_ATTRS };
/* columns of SQL_NODE_OF */
enum { NO_LEAF, NO_PATH };
/* columns of SQL_LEAF_ATTRS */
enum { LA_ID, LA_NAME, LA_MANDATORY, LA_INPUT, LA_CHOICES, LA_VALUE_ID, LA_VALUE_NAME };
/* columns of SQL_LEAVES */
enum { LF_ID, LF_PATH };
/* columns of SQL_MAPPINGS */
enum { MP_CATEGORY, MP_MARKET, MP_EXT, MP_NAME, MP_ATTRS };

/* The newest version of mp: 1 found (id, hash), 0 none, -1 error. */
static int latest(cs_db *db, const char *mp, int64_t *id, int64_t *version, unsigned char hash[32],
                  char *fetched, size_t fn, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LATEST, "s", mp, err)) return -1;
    int found = cs_rows_count(r) > 0;
    if (found) {
        *id = cs_rows_i64(r, 0, LV_ID);
        if (version) *version = cs_rows_i64(r, 0, LV_VERSION);
        size_t len = 0;
        const void *h = cs_rows_blob(r, 0, LV_HASH, &len);
        if (hash) {
            memset(hash, 0, 32);
            if (h && len == 32) memcpy(hash, h, 32);
        }
        if (fetched) snprintf(fetched, fn, "%s", cs_rows_str(r, 0, LV_FETCHED));
    }
    cs_rows_free(r);
    return found;
}

/* ---- storing a fetched catalogue ---- */

/* id → node index, open addressing (the trees reach tens of thousands of nodes). */
typedef struct idmap {
    size_t cap;
    long *slot; /* index + 1, 0 empty */
} idmap;

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int idmap_build(idmap *m, const cs_cat_node_in *nodes, size_t nn)
{
    m->cap = 16;
    while (m->cap < nn * 2 + 1)
        m->cap *= 2;
    m->slot = cs_calloc(m->cap, sizeof *m->slot);
    if (!m->slot) return -1;
    for (size_t i = 0; i < nn; i++) {
        size_t h = hash_str(nodes[i].id) & (m->cap - 1);
        while (m->slot[h]) {
            if (!strcmp(nodes[m->slot[h] - 1].id, nodes[i].id)) return 1; /* duplicate id */
            h = (h + 1) & (m->cap - 1);
        }
        m->slot[h] = (long)i + 1;
    }
    return 0;
}

static long idmap_find(const idmap *m, const cs_cat_node_in *nodes, const char *id)
{
    for (size_t h = hash_str(id) & (m->cap - 1); m->slot[h]; h = (h + 1) & (m->cap - 1))
        if (!strcmp(nodes[m->slot[h] - 1].id, id)) return m->slot[h] - 1;
    return -1;
}

/* "A > B > C" of node i into b; -1 when a parent is missing or the chain loops. */
static int node_path(const idmap *m, const cs_cat_node_in *nodes, size_t i, cs_buf *b)
{
    long chain[PATH_MAX_DEPTH];
    int depth = 0;
    long at = (long)i;
    while (at >= 0) {
        if (depth == PATH_MAX_DEPTH) return -1;
        chain[depth++] = at;
        const char *p = nodes[at].parent;
        if (!p || !*p || !strcmp(p, "0")) break;
        at = idmap_find(m, nodes, p);
        if (at < 0) return -1;
    }
    b->len = 0;
    for (int k = depth - 1; k >= 0; k--)
        if ((k != depth - 1 && cs_buf_puts(b, " > ")) || cs_buf_puts(b, nodes[chain[k]].name))
            return -1;
    return cs_buf_putc(b, '\0') ? -1 : 0;
}

static void hash_field(cs_buf *h, const char *s)
{
    cs_buf_puts(h, s ? s : "");
    cs_buf_putc(h, '\t');
}

struct store {
    const char *mp, *from;
    const cs_cat_node_in *nodes;
    size_t nn;
    const cs_cat_attr_in *attrs;
    size_t na;
    char **paths;
    unsigned char hash[32];
    int64_t version;
    int created;
};

static int store_tx(cs_db *db, void *arg, cs_error *err)
{
    struct store *s = arg;
    int64_t id = 0, ver = 0;
    unsigned char old[32];
    int have = latest(db, s->mp, &id, &ver, old, NULL, 0, err);
    if (have < 0) return -1;
    s->created = 0;
    if (have && !memcmp(old, s->hash, 32)) {
        s->version = ver;
        return 0;
    }
    s->version = ver + 1;
    if (cs_db_exec(db, SQL_VERSION_ADD, "sibiis", s->mp, s->version, s->hash, (size_t)32,
                   (int64_t)s->nn, (int64_t)s->na, s->from ? s->from : "", err) < 0)
        return -1;
    int64_t vid = (int64_t)cs_db_insert_id(db);
    for (size_t i = 0; i < s->nn; i++) {
        const cs_cat_node_in *n = &s->nodes[i];
        if (cs_db_exec(db, SQL_NODE_ADD, "isssss", vid, n->id, n->parent ? n->parent : "",
                       n->name ? n->name : "", s->paths[i], n->leaf ? "1" : "0", err) < 0)
            return -1;
    }
    for (size_t i = 0; i < s->na; i++) {
        const cs_cat_attr_in *a = &s->attrs[i];
        if (cs_db_exec(db, SQL_ATTR_ADD, "ississis", vid, a->leaf, a->id, (int64_t)i,
                       a->name ? a->name : a->id, a->input ? a->input : "",
                       (int64_t)(a->mandatory != 0), a->choices ? a->choices : "[]", err) < 0)
            return -1;
    }
    s->created = 1;
    return 0;
}

int cs_catalog_store(cs_db *db, const char *mp, const char *fetched_from,
                     const cs_cat_node_in *nodes, size_t nn, const cs_cat_attr_in *attrs, size_t na,
                     int64_t *version, int *created, cs_error *err)
{
    if (!nn) return cs_error_field(err, "categories", CS_F_REQUIRED, "empty category tree");
    idmap m = {0, NULL};
    int rc = idmap_build(&m, nodes, nn);
    if (rc) {
        cs_free(m.slot);
        return rc < 0 ? cs_error_set(err, CS_E_NOMEM, NULL)
                      : cs_error_field(err, "categories", CS_F_FORMAT, "duplicate category id");
    }
    struct store s = {mp, fetched_from, nodes, nn, attrs, na, NULL, {0}, 0, 0};
    s.paths = cs_calloc(nn, sizeof *s.paths);
    cs_buf p, h;
    cs_buf_init(&p, 64 * 1024);
    cs_buf_init(&h, 256u << 20);
    rc = s.paths ? 0 : cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; !rc && i < nn; i++) {
        if (node_path(&m, nodes, i, &p)) {
            rc = cs_error_field(err, "categories", CS_F_FORMAT, nodes[i].id);
            break;
        }
        if (!(s.paths[i] = cs_strdup(p.data))) rc = cs_error_set(err, CS_E_NOMEM, NULL);
        hash_field(&h, nodes[i].id);
        hash_field(&h, nodes[i].parent);
        hash_field(&h, nodes[i].name);
        hash_field(&h, nodes[i].leaf ? "1" : "0");
    }
    for (size_t i = 0; !rc && i < na; i++) {
        hash_field(&h, attrs[i].leaf);
        hash_field(&h, attrs[i].id);
        hash_field(&h, attrs[i].name);
        hash_field(&h, attrs[i].input);
        hash_field(&h, attrs[i].mandatory ? "1" : "0");
        hash_field(&h, attrs[i].choices);
    }
    if (!rc) {
        cs_sha256(h.data ? h.data : "", h.len, s.hash);
        rc = cs_db_tx(db, store_tx, &s, err);
    }
    if (!rc) {
        if (version) *version = s.version;
        if (created) *created = s.created;
    }
    for (size_t i = 0; s.paths && i < nn; i++)
        cs_free(s.paths[i]);
    cs_free(s.paths);
    cs_free(m.slot);
    cs_buf_free(&p);
    cs_buf_free(&h);
    return rc ? -1 : 0;
}

int cs_catalog_mapped_leaves(cs_db *db, const char *mp, json_t **out, cs_error *err)
{
    cs_rows *r = NULL;
    *out = NULL;
    if (cs_db_query(db, &r, SQL_MAPPED_LEAVES, "s", mp, err)) return -1;
    json_t *a = json_array();
    for (size_t i = 0; a && i < cs_rows_count(r); i++)
        json_array_append_new(a, json_string(cs_rows_str(r, i, ML_ID)));
    cs_rows_free(r);
    if (!a) return cs_error_set(err, CS_E_NOMEM, NULL);
    *out = a;
    return 0;
}

int cs_catalog_reader_account(cs_db *db, const char *mp, int64_t *account_id, cs_error *err)
{
    cs_rows *r = NULL;
    *account_id = 0;
    if (cs_db_query(db, &r, SQL_READER, "s", mp, err)) return -1;
    if (cs_rows_count(r)) *account_id = cs_rows_i64(r, 0, RD_ID);
    cs_rows_free(r);
    return 0;
}

/* ---- attributes JSON in each marketplace's shape ---- */
void cs_catalog_attr_ids(const char *mp, const char *attributes_json, json_t *ids)
{
    if (!attributes_json || !*attributes_json) return;
    json_t *j = json_loads(attributes_json, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return;
    }
    int shopee = !strcmp(mp, "shopee"), tiktok = !strcmp(mp, "tiktok");
    if (shopee || tiktok) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, shopee ? "attribute_list" : "product_attributes"), i,
                           e)
        {
            json_t *id = json_object_get(e, shopee ? "attribute_id" : "id");
            char buf[40];
            if (json_is_integer(id)) {
                snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
                json_array_append_new(ids, json_string(buf));
            } else if (json_is_string(id)) {
                json_array_append_new(ids, json_string(json_string_value(id)));
            }
        }
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) json_array_append_new(ids, json_string(k));
    }
    json_decref(j);
}

static int has_id(const json_t *ids, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e) if (!strcmp(json_string_value(e), id)) return 1;
    return 0;
}

int cs_catalog_check(cs_db *db, const char *category, const char *mp, cs_error *err)
{
    int64_t vid;
    int have = latest(db, mp, &vid, NULL, NULL, NULL, 0, err);
    if (have <= 0) return have;
    cs_rows *m = NULL, *n = NULL, *a = NULL;
    int rc = -1;
    if (cs_db_query(db, &m, SQL_MAP_OF, "ss", category, mp, err)) goto out;
    if (!cs_rows_count(m)) { /* unmapped: the caller's own check names that */
        rc = 0;
        goto out;
    }
    const char *leaf = cs_rows_str(m, 0, MO_EXT);
    if (cs_db_query(db, &n, SQL_NODE_OF, "is", vid, leaf, err)) goto out;
    if (!cs_rows_count(n) || !cs_rows_i64(n, 0, NO_LEAF)) {
        char d[200];
        snprintf(d, sizeof d, "%s → %s: %s", category, mp, leaf);
        cs_error_field(err, "category", CS_F_CATEGORY_NOT_LEAF, d);
        rc = 0;
        goto out;
    }
    if (cs_db_query(db, &a, SQL_LEAF_ATTRS, "ssis", category, mp, vid, leaf, err)) goto out;
    json_t *given = json_array();
    cs_catalog_attr_ids(mp, cs_rows_str(m, 0, MO_ATTRS), given);
    for (size_t i = 0; i < cs_rows_count(a); i++) {
        if (!cs_rows_i64(a, i, LA_MANDATORY) || !cs_rows_isnull(a, i, LA_VALUE_NAME)) continue;
        const char *id = cs_rows_str(a, i, LA_ID);
        if (has_id(given, id)) continue;
        char d[400];
        snprintf(d, sizeof d, "“%s” (%s), danh mục %s trên %s", cs_rows_str(a, i, LA_NAME), id,
                 cs_rows_str(n, 0, NO_PATH), mp);
        cs_error_field(err, "attributes", CS_F_ATTRIBUTE_MISSING, d);
    }
    json_decref(given);
    rc = 0;
out:
    cs_rows_free(m);
    cs_rows_free(n);
    cs_rows_free(a);
    return rc;
}

/* ---- the admin page ---- */
int cs_catalog_leaves_json(cs_db *db, const char *mp, const char *q, int64_t limit, json_t **out,
                           cs_error *err)
{
    *out = NULL;
    int64_t vid, ver = 0;
    char fetched[32] = "";
    int have = latest(db, mp, &vid, &ver, NULL, fetched, sizeof fetched, err);
    if (have < 0) return -1;
    json_t *o =
        json_pack("{s:s,s:I,s:[]}", "marketplace", mp, "version", (json_int_t)ver, "leaves");
    if (!o) return cs_error_set(err, CS_E_NOMEM, NULL);
    json_object_set_new(o, "fetched_at", have ? json_string(fetched) : json_null());
    if (have) {
        cs_rows *r = NULL;
        const char *qq = q ? q : "";
        if (cs_db_query(db, &r, SQL_LEAVES, "issi", vid, qq, qq, limit, err)) {
            json_decref(o);
            return -1;
        }
        json_t *arr = json_object_get(o, "leaves");
        for (size_t i = 0; i < cs_rows_count(r); i++)
            json_array_append_new(arr, json_pack("{s:s,s:s}", "id", cs_rows_str(r, i, LF_ID),
                                                 "path", cs_rows_str(r, i, LF_PATH)));
        cs_rows_free(r);
    }
    *out = o;
    return 0;
}

/* One mapping row with its leaf's attributes, values and what is missing. */
static int mapping_json(cs_db *db, const cs_rows *mr, size_t i, json_t *arr, cs_error *err)
{
    const char *cat = cs_rows_str(mr, i, MP_CATEGORY), *mp = cs_rows_str(mr, i, MP_MARKET);
    const char *leaf = cs_rows_str(mr, i, MP_EXT);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:[],s:[]}", "category", cat, "marketplace", mp, "leaf",
                          leaf, "path", cs_rows_str(mr, i, MP_NAME), "attributes", "missing");
    if (!o) return cs_error_set(err, CS_E_NOMEM, NULL);
    json_array_append_new(arr, o);
    int64_t vid;
    int have = latest(db, mp, &vid, NULL, NULL, NULL, 0, err);
    if (have < 0) return -1;
    json_object_set_new(o, "catalog", json_boolean(have));
    if (!have) return 0;
    cs_rows *n = NULL, *a = NULL;
    if (cs_db_query(db, &n, SQL_NODE_OF, "is", vid, leaf, err)) return -1;
    int is_leaf = cs_rows_count(n) && cs_rows_i64(n, 0, NO_LEAF);
    if (cs_rows_count(n)) json_object_set_new(o, "path", json_string(cs_rows_str(n, 0, NO_PATH)));
    cs_rows_free(n);
    json_object_set_new(o, "is_leaf", json_boolean(is_leaf));
    if (cs_db_query(db, &a, SQL_LEAF_ATTRS, "ssis", cat, mp, vid, leaf, err)) return -1;
    json_t *given = json_array();
    cs_catalog_attr_ids(mp, cs_rows_str(mr, i, MP_ATTRS), given);
    json_t *attrs = json_object_get(o, "attributes"), *missing = json_object_get(o, "missing");
    for (size_t k = 0; k < cs_rows_count(a); k++) {
        json_t *ch = json_loads(cs_rows_str(a, k, LA_CHOICES), 0, NULL);
        int mand = cs_rows_i64(a, k, LA_MANDATORY) != 0;
        const char *id = cs_rows_str(a, k, LA_ID);
        int valued = !cs_rows_isnull(a, k, LA_VALUE_NAME);
        json_t *e =
            json_pack("{s:s,s:s,s:b,s:s,s:o,s:b}", "id", id, "name", cs_rows_str(a, k, LA_NAME),
                      "mandatory", mand, "input_type", cs_rows_str(a, k, LA_INPUT), "choices",
                      ch ? ch : json_array(), "in_mapping", has_id(given, id));
        if (!e) continue;
        json_object_set_new(e, "value",
                            valued ? json_pack("{s:s,s:s}", "id", cs_rows_str(a, k, LA_VALUE_ID),
                                               "name", cs_rows_str(a, k, LA_VALUE_NAME))
                                   : json_null());
        json_array_append_new(attrs, e);
        if (mand && !valued && !has_id(given, id))
            json_array_append_new(missing, json_string(cs_rows_str(a, k, LA_NAME)));
    }
    json_decref(given);
    cs_rows_free(a);
    return 0;
}

int cs_catalog_mappings_json(cs_db *db, const char *mp, json_t **out, cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL;
    const char *m = mp ? mp : "";
    if (cs_db_query(db, &r, SQL_MAPPINGS, "ss", m, m, err)) return -1;
    json_t *arr = json_array();
    int rc = arr ? 0 : cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; !rc && i < cs_rows_count(r); i++)
        rc = mapping_json(db, r, i, arr, err);
    cs_rows_free(r);
    if (rc) {
        json_decref(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

struct map {
    const char *category, *mp, *leaf;
    const json_t *values;
    const cs_actor *a;
};

/* The value entry in mp's shape for the category_map attributes. */
static json_t *shaped(const char *mp, const char *id, const char *vid, const char *vname)
{
    if (!strcmp(mp, "shopee")) {
        char *end;
        long long n = strtoll(id, &end, 10), v = vid && *vid ? strtoll(vid, NULL, 10) : 0;
        json_t *aid = *end ? json_string(id) : json_integer(n);
        return json_pack("{s:o,s:[{s:I,s:s}]}", "attribute_id", aid, "attribute_value_list",
                         "value_id", (json_int_t)v, "original_value_name", vname);
    }
    json_t *val = json_pack("{s:s}", "name", vname);
    if (val && vid && *vid) json_object_set_new(val, "id", json_string(vid));
    return json_pack("{s:s,s:[o]}", "id", id, "values", val);
}

/* Rebuild the attributes object: values replace what the old object said about the same
 * attributes; everything else in it (Shopee's brand…) is kept. */
static json_t *rebuild(const char *mp, const char *old_text, json_t *chosen)
{
    json_t *o = old_text && *old_text ? json_loads(old_text, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    int listy = !strcmp(mp, "shopee") || !strcmp(mp, "tiktok");
    const char *lk = !strcmp(mp, "shopee") ? "attribute_list" : "product_attributes";
    const char *ik = !strcmp(mp, "shopee") ? "attribute_id" : "id";
    size_t i;
    json_t *c;
    if (listy) {
        json_t *list = json_array(), *old = json_object_get(o, lk), *e;
        json_array_foreach(old, i, e)
        {
            json_t *id = json_object_get(e, ik);
            char buf[40] = "";
            if (json_is_integer(id))
                snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
            else if (json_is_string(id))
                snprintf(buf, sizeof buf, "%s", json_string_value(id));
            int replaced = 0;
            size_t k;
            json_t *x;
            json_array_foreach(chosen, k, x) replaced |=
                !strcmp(json_string_value(json_object_get(x, "attribute_id")), buf);
            if (!replaced) json_array_append(list, e);
        }
        json_array_foreach(chosen, i, c) json_array_append_new(
            list, shaped(mp, json_string_value(json_object_get(c, "attribute_id")),
                         json_string_value(json_object_get(c, "value_id")),
                         json_string_value(json_object_get(c, "value_name"))));
        json_object_set_new(o, lk, list);
    } else {
        json_array_foreach(chosen, i, c)
            json_object_set_new(o, json_string_value(json_object_get(c, "attribute_id")),
                                json_string(json_string_value(json_object_get(c, "value_name"))));
    }
    return o;
}

static int map_tx(cs_db *db, void *arg, cs_error *err)
{
    struct map *m = arg;
    int64_t vid, known = 0;
    if (cs_db_scalar_i64(db, &known, SQL_CATEGORY_KNOWN, "s", m->category, err) < 0) return -1;
    if (!known) return cs_error_set(err, CS_E_NOT_FOUND, "category %s", m->category);
    int have = latest(db, m->mp, &vid, NULL, NULL, NULL, 0, err);
    if (have < 0) return -1;
    if (!have)
        return cs_error_field(err, "marketplace", CS_F_CATEGORY_NOT_LEAF,
                              "no category tree fetched yet for this marketplace");
    cs_rows *n = NULL, *a = NULL, *old = NULL;
    json_t *chosen = json_array(), *attrs = NULL;
    char *text = NULL;
    int rc = -1;
    if (!chosen) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (cs_db_query(db, &n, SQL_NODE_OF, "is", vid, m->leaf, err)) goto out;
    if (!cs_rows_count(n) || !cs_rows_i64(n, 0, NO_LEAF)) {
        cs_error_field(err, "leaf", CS_F_CATEGORY_NOT_LEAF, m->leaf);
        goto out;
    }
    if (cs_db_query(db, &a, SQL_LEAF_ATTRS, "ssis", m->category, m->mp, vid, m->leaf, err))
        goto out;
    size_t i;
    json_t *v;
    json_array_foreach(m->values, i, v)
    {
        char f[32];
        snprintf(f, sizeof f, "values[%zu]", i);
        const char *id = json_string_value(json_object_get(v, "attribute_id"));
        const char *vid_in = json_string_value(json_object_get(v, "value_id"));
        const char *name = json_string_value(json_object_get(v, "value_name"));
        size_t k, found = (size_t)-1;
        for (k = 0; id && k < cs_rows_count(a); k++)
            if (!strcmp(cs_rows_str(a, k, LA_ID), id)) found = k;
        if (found == (size_t)-1) {
            cs_error_field(err, f, CS_F_ENUM, "not an attribute of this category");
            continue;
        }
        json_t *ch = json_loads(cs_rows_str(a, found, LA_CHOICES), 0, NULL), *c;
        const char *vid_ok = vid_in ? vid_in : "", *name_ok = name;
        if (json_array_size(ch)) { /* one of the marketplace's own choices */
            name_ok = NULL;
            size_t x;
            json_array_foreach(ch, x, c)
            {
                const char *cid = json_string_value(json_object_get(c, "id"));
                const char *cn = json_string_value(json_object_get(c, "name"));
                if ((vid_in && *vid_in && cid && !strcmp(cid, vid_in)) ||
                    (name && cn && !strcmp(cn, name))) {
                    name_ok = cn;
                    vid_ok = cid ? cid : "";
                    break;
                }
            }
        }
        if (!name_ok || !*name_ok) {
            json_decref(ch);
            cs_error_field(err, f, CS_F_ENUM, "not one of the marketplace's choices");
            continue;
        }
        json_array_append_new(chosen, json_pack("{s:s,s:s,s:s}", "attribute_id", id, "value_id",
                                                vid_ok, "value_name", name_ok));
        json_decref(ch);
    }
    if (cs_error_failed(err)) goto out;
    if (cs_db_query(db, &old, SQL_MAP_OF, "ss", m->category, m->mp, err)) goto out;
    attrs = rebuild(m->mp, cs_rows_count(old) ? cs_rows_str(old, 0, MO_ATTRS) : NULL, chosen);
    text = attrs ? json_dumps(attrs, JSON_COMPACT) : NULL;
    if (!text) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    char by[48];
    cs_actor_tag(m->a, by, sizeof by);
    if (cs_db_exec(db, SQL_VALUES_CLEAR, "ss", m->category, m->mp, err) < 0) goto out;
    json_array_foreach(chosen, i,
                       v) if (cs_db_exec(db, SQL_VALUE_ADD, "ssssss", m->category, m->mp,
                                         json_string_value(json_object_get(v, "attribute_id")),
                                         json_string_value(json_object_get(v, "value_id")),
                                         json_string_value(json_object_get(v, "value_name")), by,
                                         err) < 0) goto out;
    if (cs_db_exec(db, SQL_MAP_SET, "ssssss", m->category, m->mp, m->leaf,
                   cs_rows_str(n, 0, NO_PATH), text, by, err) < 0)
        goto out;
    rc = cs_audit(
        db, m->a, "category.map", "category", m->category,
        json_pack("{s:s,s:s,s:O}", "marketplace", m->mp, "leaf", m->leaf, "values", chosen), err);
out:
    cs_rows_free(n);
    cs_rows_free(a);
    cs_rows_free(old);
    json_decref(chosen);
    json_decref(attrs);
    free(text);
    return rc;
}

int cs_catalog_map(cs_db *db, const char *category, const char *mp, const char *leaf,
                   const json_t *values, const cs_actor *a, cs_error *err)
{
    if (!leaf || !*leaf) return cs_error_field(err, "leaf", CS_F_REQUIRED, NULL);
    if (values && !json_is_array(values)) return cs_error_field(err, "values", CS_F_TYPE, "array");
    struct map m = {category, mp, leaf, values, a};
    return cs_db_tx(db, map_tx, &m, err);
}
