/* core/showcase: the reads behind the public showcase (quảng bá) — live flagship products with
 * their commune, former district, first photo and live listings — and the click-through counter
 * (per product, marketplace and month of Asia/Ho_Chi_Minh; nothing about the visitor is kept).
 * Numbers and rows only: the HTML is made in service/h_showcase.c. */
#ifndef CS_SHOWCASE_H
#define CS_SHOWCASE_H
#include "core/audit.h"
#include "core/db.h"
#include <stddef.h>
#include <stdint.h>

/* A product is shown when it is flagship, active, its household not erased, and at least one
 * of its listings is live with a public address. The business name is given only where the
 * owner agreed (households.showcase_name_consent); otherwise NULL. */
typedef struct cs_sc_listing {
    int64_t id;
    const char *mp_code, *mp_name;
} cs_sc_listing;

typedef struct cs_sc_product {
    int64_t id;
    const char *name, *description, *category, *category_name, *commune, *district_code,
        *district_name, *business_name /* NULL unless agreed */, *image_sha /* NULL: none */;
    int64_t price_vnd;
    int ocop_stars; /* 0: none */
    cs_sc_listing *listings;
    size_t nlistings;
} cs_sc_product;

/* a filter's choice: a category or a former district having at least one shown product */
typedef struct cs_sc_choice {
    const char *code, *name;
} cs_sc_choice;

typedef struct cs_sc_page {
    cs_sc_product *items;
    size_t n;
    int64_t total; /* products matching the filters */
    /* cs_showcase_list only: the filters' choices over all shown products (categories by
     * code, former districts by name) */
    cs_sc_choice *categories, *districts;
    size_t ncategories, ndistricts;
    struct cs_rows *held_[2];
    char *owned_; /* cs_showcase_list_at: the choices' strings */
} cs_sc_page;

/* One page (page ≥ 1, per_page items) of the shown products, filtered by category code and
 * former district code (NULL or "" = any), newest live first, with the total and the filters'
 * choices. Two passes over the shown set: one grouped by (category, former district) for the
 * total and the choices, one for the page. 0 or -1; free with cs_sc_page_free (also after a
 * failure). */
int cs_showcase_list(cs_db *db, const char *category, const char *district, int64_t page,
                     int64_t per_page, cs_sc_page *out, cs_error *err);
/* The same page from the shown set kept for read generation `gen` (core/readgen; read by
 * the caller before this call): the set is read once per generation, then each page costs one
 * look-up of its own products. gen < 0: the set is read now and not kept. Same answer as
 * cs_showcase_list, rows for rows. 0 or -1; free with cs_sc_page_free. */
int cs_showcase_list_at(cs_db *db, int64_t gen, const char *category, const char *district,
                        int64_t page, int64_t per_page, cs_sc_page *out, cs_error *err);
/* Drop the kept shown set (tests; shutdown). */
void cs_showcase_forget(void);
/* One product as above: 1 and *out (one item) when shown, 0 when not (unknown, not flagship,
 * nothing live), -1 on error. */
int cs_showcase_product(cs_db *db, int64_t id, cs_sc_page *out, cs_error *err);
void cs_sc_page_free(cs_sc_page *p);

/* A click through to listing `listing_id`: when it is a live listing of a shown product, counts
 * one for (product, marketplace, this month) in its own transaction and copies its public
 * address into url. 1 counted, 0 not shown (nothing counted), -1 error. */
int cs_showcase_click(cs_db *db, int64_t listing_id, char *url, size_t urlsz, cs_error *err);

/* Record whether the owner of household `code` agreed to show the business name on the public
 * showcase (consent 0/1), with an audit row, in one transaction. 0, or -1 (CS_E_NOT_FOUND for an
 * unknown or erased household). The caller checks who may do it. */
int cs_showcase_set_consent(cs_db *db, const cs_actor *a, const char *code, int consent,
                            cs_error *err);

/* Promoted figures of a year: rows (product_id, product name, commune, month, clicks) ordered
 * by product then month, and the year's total. Free with cs_rows_free. */
enum { CS_SC_PR_PRODUCT, CS_SC_PR_NAME, CS_SC_PR_COMMUNE, CS_SC_PR_MONTH, CS_SC_PR_CLICKS };
int cs_showcase_promoted(cs_db *db, int year, struct cs_rows **out, cs_error *err);
#endif
