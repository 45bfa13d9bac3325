/* connectors/catmap: the category map (schemas/data/category_map.csv) — internal category ×
 * marketplace → external category id, name and required attributes. Parsing and look-up only;
 * the service may equally load the same rows from the category_map table. */
#ifndef CX_CATMAP_H
#define CX_CATMAP_H
#include "connectors/connector.h"

typedef struct cx_catmap_row {
    char *category;    /* internal code, e.g. "condiment" */
    char *marketplace; /* canonical connector code ("posmart" is stored as "postmart") */
    cx_category cat;   /* strings owned by the row */
} cx_catmap_row;

typedef struct cx_catmap {
    size_t n;
    cx_catmap_row *rows;
} cx_catmap;

/* Parse CSV text with the header category,marketplace_code,external_category_id,
 * external_category_name,attributes_json. Every row is checked: known marketplace, non-empty
 * id, attributes a JSON object (or empty), no duplicate pair. Errors name the line in
 * err->detail. Returns 0 or -1. */
int cx_catmap_parse(const char *text, size_t n, cx_catmap *out, cs_error *err);
int cx_catmap_load(const char *path, cx_catmap *out, cs_error *err);
void cx_catmap_free(cx_catmap *m);
/* The mapping, or NULL. The marketplace may be given by alias. */
const cx_category *cx_catmap_find(const cx_catmap *m, const char *category,
                                  const char *marketplace);
/* Like cx_catmap_find, but a missing mapping is a field error on "category"
 * (category_not_mapped, detail "<category> → <marketplace>"): the clear error a product gets
 * before any call is made. Returns 0 or -1. */
int cx_catmap_require(const cx_catmap *m, const char *category, const char *marketplace,
                      const cx_category **out, cs_error *err);
#endif
