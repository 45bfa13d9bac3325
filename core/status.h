/* core/status: the read model behind the household owner's status page — the household, each
 * marketplace with the household's shop there, each active product with its listings. Nothing
 * personal is read (no citizen ID, phone, birth date, address, owner's name). No HTTP, no JSON:
 * the words and the reply are the service's. */
#ifndef CS_STATUS_H
#define CS_STATUS_H
#include "core/db.h"
#include <stddef.h>
#include <stdint.h>

/* One marketplace and the household's account there. */
typedef struct cs_status_shop {
    const char *marketplace, *marketplace_name, *kind; /* kind: api or file */
    int enabled;                                       /* the marketplace is still offered */
    int has_account;                                   /* the household has an account there */
    const char *state; /* the account's state; "not_started" when there is none */
    const char *shop_url, *auth_link, *last_error; /* NULL when none */
} cs_status_shop;

/* One listing of a product. */
typedef struct cs_status_listing {
    const char *marketplace, *marketplace_name, *state;
    const char *listing_url, *last_error; /* NULL when none */
    const char *error_fields;             /* the marketplace's complaints as JSON text, or NULL */
} cs_status_listing;

typedef struct cs_status_product {
    int64_t id;
    const char *name;
    const cs_status_listing *listings; /* in the marketplaces' display order */
    size_t nlistings;
} cs_status_product;

/* Every string points into rows the struct owns: valid until cs_status_free. */
typedef struct cs_status {
    const char *household_code, *business_name /* NULL when none */;
    const char *commune_code, *commune_name, *household_status;
    cs_status_shop *shops; /* every marketplace in display order, offered or not */
    size_t nshops;
    cs_status_product *products; /* active products in id order */
    size_t nproducts;
    cs_status_listing *listings_; /* storage behind products[].listings */
    cs_rows *rows_[2];
} cs_status;

/* Read the status of household `id` in two round trips (the page owners reload; each trip costs
 * more than its query): the household with one row per marketplace and its account there, then
 * the active products each with its listings; both index look-ups, put in order here rather than
 * by sorting the join in the server. Returns 0 with *out filled (free with cs_status_free), or
 * -1 with err set (CS_E_NOT_FOUND when there is no such household); *out needs no freeing then. */
int cs_status_read(cs_db *db, int64_t id, cs_status *out, cs_error *err);
void cs_status_free(cs_status *s);
#endif
