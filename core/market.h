/* core/market: the reads of seller accounts and listings that the API shows — pages of them,
 * one listing with its history, short summaries after an action, and the commune that owns a
 * product or listing (scope checks). Rows come back as cs_rows read through the column enums
 * below; no HTTP, no JSON, no marketplace calls. */
#ifndef CS_MARKET_H
#define CS_MARKET_H
#include "core/db.h"
#include <stdint.h>

/* What a page of accounts or listings is narrowed to; NULL (0 for numbers) means "any". */
typedef struct cs_market_filter {
    const char *scope; /* the reader's communes as "c1,c2" (FIND_IN_SET); NULL: every commune */
    const char *state, *marketplace, *commune, *household; /* household by its public code */
    int64_t product;                                       /* listings only */
    int64_t after;                                         /* id cursor: rows with a larger id */
    int64_t limit;                                         /* rows at most */
} cs_market_filter;

/* Columns of cs_account_page; the times are ISO 8601 UTC text ("…Z") or NULL. */
enum cs_account_col {
    CS_ACC_ID,
    CS_ACC_HOUSEHOLD_CODE,
    CS_ACC_COMMUNE,
    CS_ACC_MARKETPLACE,
    CS_ACC_STATE,
    CS_ACC_EXTERNAL_SHOP_ID,
    CS_ACC_SHOP_URL,
    CS_ACC_AUTH_LINK,
    CS_ACC_AUTHORIZED_AT,
    CS_ACC_ACTIVATED_AT,
    CS_ACC_ACCESS_EXPIRES_AT,
    CS_ACC_ERROR_CODE,
    CS_ACC_ERROR_MESSAGE,
    CS_ACC_VERSION,
    CS_ACC_CREATED_AT,
    CS_ACC_UPDATED_AT,
};

/* Seller accounts matching f in id order (never a token nor an OAuth state). Returns 0 and
 * *out (caller frees with cs_rows_free), or -1 with err set. */
int cs_account_page(cs_db *db, const cs_market_filter *f, cs_rows **out, cs_error *err);

/* Columns of cs_account_brief: the account after onboarding started or the shop was confirmed. */
enum cs_account_brief_col {
    CS_ACB_ID,
    CS_ACB_MARKETPLACE,
    CS_ACB_STATE,
    CS_ACB_AUTH_LINK,
    CS_ACB_SHOP_URL,
    CS_ACB_KIND, /* the marketplace's kind: api or file */
};

/* Account `id` (zero or one row). Returns 0 and *out (caller frees), or -1 with err set. */
int cs_account_brief(cs_db *db, int64_t id, cs_rows **out, cs_error *err);

/* The id of the household's account on marketplace `mp`. Returns 0 with *id, 1 when it has
 * none, -1 with err set. */
int cs_account_find(cs_db *db, int64_t household, const char *mp, int64_t *id, cs_error *err);

/* Columns of cs_listing_page and cs_listing_view; times as for accounts. */
enum cs_listing_col {
    CS_LST_ID,
    CS_LST_PRODUCT_ID,
    CS_LST_PRODUCT_NAME,
    CS_LST_HOUSEHOLD_CODE,
    CS_LST_COMMUNE,
    CS_LST_MARKETPLACE,
    CS_LST_STATE,
    CS_LST_EXTERNAL_ITEM_ID,
    CS_LST_LISTING_URL,
    CS_LST_ERROR_CODE,
    CS_LST_ERROR_MESSAGE,
    CS_LST_ERROR_FIELDS, /* JSON text or NULL */
    CS_LST_LIVE_AT,
    CS_LST_FIRST_LIVE_AT,
    CS_LST_FIRST_SALE_AT,
    CS_LST_VERSION,
    CS_LST_CREATED_AT,
    CS_LST_UPDATED_AT,
    CS_LST_FLAGSHIP, /* 0/1: the product is on the province's list */
};

/* Listings matching f in id order. Returns 0 and *out (caller frees), or -1 with err set. */
int cs_listing_page(cs_db *db, const cs_market_filter *f, cs_rows **out, cs_error *err);
/* Listing `id` (zero or one row). Returns 0 and *out (caller frees), or -1 with err set. */
int cs_listing_view(cs_db *db, int64_t id, cs_rows **out, cs_error *err);

/* Columns of cs_listing_history: every state change of one listing, oldest first. */
enum cs_listing_event_col {
    CS_LEV_FROM_STATE, /* NULL for the first */
    CS_LEV_TO_STATE,
    CS_LEV_REASON_CODE,
    CS_LEV_REASON,
    CS_LEV_ACTOR,
    CS_LEV_AT, /* ISO 8601 UTC with microseconds */
};

int cs_listing_history(cs_db *db, int64_t listing, cs_rows **out, cs_error *err);

/* Columns of cs_listing_brief: the listing after a confirmation or a republish. */
enum cs_listing_brief_col {
    CS_LSB_ID,
    CS_LSB_MARKETPLACE,
    CS_LSB_STATE,
    CS_LSB_LISTING_URL,
};

/* Listing `id` (zero or one row). Returns 0 and *out (caller frees), or -1 with err set. */
int cs_listing_brief(cs_db *db, int64_t id, cs_rows **out, cs_error *err);

/* The commune of the household that owns product / listing `id`, for scope checks. Return 0
 * with commune filled, 1 when there is no such row, -1 with err set. */
int cs_market_product_commune(cs_db *db, int64_t product, char commune[6], cs_error *err);
int cs_market_listing_commune(cs_db *db, int64_t listing, char commune[6], cs_error *err);
#endif
