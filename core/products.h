/* core/products: products of a household — validation, persistence, optimistic locking, search.
 * JSON input keys: name, description, category, price_vnd, stock, weight_g, length_mm,
 * width_mm, height_mm, ocop_stars, flagship, flagship_id, flagship_entry, certificates. A
 * list entry given (flagship_id or flagship_entry) is a PROPOSED link of the product to the
 * province's list (flagship_products); it counts toward the targets only once an admin approves
 * it (core/flagship.h). The `flagship` tick is accepted for old clients: false unlinks, true
 * alone does nothing; in answers it says whether the link is approved. Price is whole đồng
 * (a number, or text such as "150.000đ"); weight in grams and sizes in millimetres. */
#ifndef CS_PRODUCTS_H
#define CS_PRODUCTS_H
#include "core/audit.h"
#include "core/db.h"
#include <jansson.h>

/* products.name_folded is VARCHAR(300) ascii (schemas/sql/003). */
#define CS_PRODUCT_NAME_KEY_MAX 300
#include <stdint.h>

typedef struct cs_product_norm {
    char *name, *name_folded, *description, *certificates /* JSON text or NULL */;
    char category[41];
    int64_t price_vnd, stock, weight_g, length_mm, width_mm, height_mm; /* dims 0 = unknown */
    int ocop_stars;                                                     /* 0 = none */
    int flagship;         /* derived: a list entry is proposed (flagship_id ≠ 0) */
    int64_t flagship_id;  /* 0 = none */
    char *flagship_entry; /* input "flagship_entry": the list entry by id or exact name
                             (accent-insensitive); resolved into flagship_id by the database */
} cs_product_norm;

int cs_product_validate(json_t *in, cs_product_norm *out, cs_error *err);
void cs_product_norm_free(cs_product_norm *n);
int cs_product_content_hash(const cs_product_norm *n, unsigned char out[32]);

typedef struct cs_product_result {
    int64_t id;
    unsigned version;
    int changed; /* content differs from before (update) */
} cs_product_result;

/* Create under a household (not erased). Own transaction. */
int cs_product_create(cs_db *db, const cs_actor *a, const char *household_code, json_t *in,
                      cs_product_result *res, cs_error *err);
/* Insert inside the caller's transaction (imports). */
int cs_product_insert(cs_db *db, const cs_actor *a, int64_t household_id, cs_product_norm *n,
                      cs_product_result *res, cs_error *err);
/* Partial update with optimistic locking (CS_E_PRECONDITION on a stale version). When the
 * content hash is unchanged nothing is written (res->changed = 0). Own transaction. */
int cs_product_update(cs_db *db, const cs_actor *a, int64_t id, unsigned expected_version,
                      json_t *patch, cs_product_result *res, cs_error *err);

/* One product as JSON with its images and listings. household_code/commune (may be NULL)
 * receive the owner's code and commune for access checks. */
int cs_product_get(cs_db *db, int64_t id, json_t **out, char household_code[24], char commune[6],
                   cs_error *err);

typedef struct cs_product_filter {
    const char *const *communes; /* scope; NULL = all */
    size_t ncommunes;
    const char *household; /* household code */
    const char *commune;
    const char *category;
    int flagship;                /* -1 any */
    const char *flagship_status; /* none, proposed, approved, refused; NULL any */
    int ocop_stars;              /* 0 any */
    const char *q;
    int64_t after_id;
    int limit;
} cs_product_filter;

int cs_product_list(cs_db *db, const cs_product_filter *f, json_t **out, int64_t *next_cursor,
                    cs_error *err);
/* Withdraw product id from sale: status archived (no longer editable), every listing that may
 * be on a marketplace → withdrawing, the others → withdrawn (core/states.h), audited. Again on
 * an archived product: nothing new, 0. CS_E_NOT_FOUND, CS_E_GONE (erased). *withdrawing (may be
 * NULL) = listings now being taken down. Own transaction; the caller queues the take-downs. */
int cs_product_withdraw(cs_db *db, const cs_actor *a, int64_t id, int *withdrawing, cs_error *err);
/* A publish run's candidates on marketplace mp (`choso publish`): active products of households
 * not erased — in commune (NULL: any) and of household (its code; NULL: any) — with no listing
 * on mp yet or only a draft one (a product already queued or further is left out, so a second
 * run queues nothing twice), id > after, by id. ids[] receives at most max, *n how many. */
int cs_product_publish_candidates(cs_db *db, const char *mp, const char *commune,
                                  const char *household, int64_t after, int64_t *ids, size_t max,
                                  size_t *n, cs_error *err);
#endif
