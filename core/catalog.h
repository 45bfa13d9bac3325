/* core/catalog: the marketplaces' category trees and attribute lists as stored (versioned, see
 * schemas/sql/080_catalog.sql), the mapping of our categories onto their leaves with the values
 * a person chose for the leaf's attributes, and the check publishing runs before any call.
 * SQL only; nothing here talks to a marketplace (jobs/flows_catalog.c fetches). */
#ifndef CS_CATALOG_H
#define CS_CATALOG_H
#include "core/audit.h"
#include "core/db.h"
#include <jansson.h>

typedef struct cs_cat_node_in {
    const char *id, *parent, *name; /* parent "" at the top */
    int leaf;
} cs_cat_node_in;
typedef struct cs_cat_attr_in {
    const char *leaf, *id, *name, *input;
    int mandatory;
    const char *choices; /* JSON [{"id","name"}] */
} cs_cat_attr_in;

/* Store one fetched catalogue of marketplace mp (paths computed from the parents). When its
 * content equals the newest version's nothing is written and *created = 0; otherwise the next
 * version is written whole in one transaction and *created = 1. *version is the version that
 * now holds this content. 0 or -1 (CS_E_VALIDATION when the tree is empty or a parent is
 * missing). */
int cs_catalog_store(cs_db *db, const char *mp, const char *fetched_from,
                     const cs_cat_node_in *nodes, size_t nn, const cs_cat_attr_in *attrs, size_t na,
                     int64_t *version, int *created, cs_error *err);

/* The leaves our categories are mapped to on mp (category_map external ids), as a JSON array
 * of strings (caller decrefs). 0 or -1. */
int cs_catalog_mapped_leaves(cs_db *db, const char *mp, json_t **out, cs_error *err);

/* An active seller account of mp whose tokens can read the catalogue (Shopee and TikTok ask
 * a shop), or 0 when there is none. 0 or -1. */
int cs_catalog_reader_account(cs_db *db, const char *mp, int64_t *account_id, cs_error *err);

/* The check publishing runs before any call: when a catalogue of mp is stored, the category's
 * mapped id must be a leaf of the newest version, and every mandatory attribute of that leaf
 * must have a value (chosen on the admin page, or in the mapping's attributes). Adds a field
 * error per problem on "attributes" / "category", naming the attribute in Vietnamese; returns
 * 0 when the check ran (look at cs_error_failed), -1 when the database failed. No catalogue
 * stored yet (a marketplace never fetched, or an assisted one): nothing to check. */
int cs_catalog_check(cs_db *db, const char *category, const char *mp, cs_error *err);

/* For the admin page: the newest version of mp's tree, leaves whose path contains q (case
 * folded; NULL/"" = all), at most limit: {"version", "fetched_at", "leaves":[{id, path}]}. */
int cs_catalog_leaves_json(cs_db *db, const char *mp, const char *q, int64_t limit, json_t **out,
                           cs_error *err);
/* For the admin page: every (category, marketplace) mapping with the leaf's attributes and the
 * chosen values: [{"category","marketplace","leaf","path","is_leaf","attributes":[{id, name,
 * mandatory, input_type, choices, value:{id,name}|null}], "missing":[names]}]. mp NULL = all. */
int cs_catalog_mappings_json(cs_db *db, const char *mp, json_t **out, cs_error *err);
/* Map category onto leaf of mp (a leaf of the newest stored version) with values
 * [{"attribute_id","value_id"?,"value_name"}]: a value must be one of the attribute's choices
 * when it has any. Writes category_map (id, path, attributes rebuilt in the marketplace's own
 * shape) and category_attribute_values, and an audit row, in one transaction. Field errors
 * name the bad value ("values[2]"). 0 or -1. */
int cs_catalog_map(cs_db *db, const char *category, const char *mp, const char *leaf,
                   const json_t *values, const cs_actor *a, cs_error *err);

/* The attribute ids a category_map attributes JSON supplies, in mp's shape: Shopee
 * attribute_list[].attribute_id, TikTok product_attributes[].id, any other marketplace the
 * object's own keys. Pure. Appends strings to ids (a JSON array). */
void cs_catalog_attr_ids(const char *mp, const char *attributes_json, json_t *ids);
#endif
