/* core/orders: marketplace order lines and the "sold" rule — upserted lines, the sale they make
 * count (cs_listing_record_sale, target_counts) and the orders / units / revenue counters, all
 * in the caller's transaction; the per-account sync watermark; the sales people record for the
 * marketplaces without an API. Numbers only: no HTTP, no JSON, no marketplace calls.
 *
 * The rule (also in core/targets.h and the README): a line counts when it first reaches the
 * marketplace's delivered/completed status; its delivered_at is the marketplace's update time of
 * the first answer that showed it delivered (a person's record: the sale date) and never moves.
 * A line cancelled or returned before it was delivered never counts, whatever comes later; one
 * returned after delivery stays counted (the first date never moves back). A line whose SKU is
 * not one of our listings on that account's household and marketplace is stored "not ours" and
 * never counted. An answer older than what is stored (mp_updated_at earlier) changes nothing. */
#ifndef CS_ORDERS_H
#define CS_ORDERS_H
#include "core/audit.h"
#include "core/db.h"
#include <stdint.h>

typedef enum cs_ol_state {
    CS_OL_OPEN = 1,
    CS_OL_DELIVERED,
    CS_OL_CANCELLED,
    CS_OL_RETURNED,
} cs_ol_state;

typedef struct cs_order_line {
    const char *marketplace; /* canonical code */
    int64_t account_id;      /* 0 = none (a person's record) */
    int64_t listing_id;      /* 0 = find it from sku ("CS-<id>") on the account's household */
    const char *order_id, *line_id, *sku, *item_id, *status; /* status: the marketplace's own */
    cs_ol_state state;
    int64_t qty, amount_vnd;
    int64_t ordered_s, updated_s; /* Unix s; ordered_s 0 = unknown */
    const char *source;           /* "sync", "volunteer", "import", "owner" */
    int64_t claim_id;             /* 0 = none */
} cs_order_line;

/* What one upsert did (for the sync's log and the tests). */
enum { CS_OL_UNCHANGED = 0, CS_OL_NEW, CS_OL_UPDATED, CS_OL_STALE };
typedef struct cs_ol_effect {
    int what;    /* CS_OL_* above */
    int ours;    /* the SKU resolved to one of our listings */
    int counted; /* this upsert made the line count */
} cs_ol_effect;

/* Upsert one line in the caller's transaction (cs_db_tx). 0 or -1 with err. */
int cs_order_line_put(cs_db *db, const cs_order_line *l, cs_ol_effect *eff, cs_error *err);

/* The listing a SKU names for an account: "CS-<id>" of a listing on the account's marketplace
 * whose product belongs to the account's household. 0 with *listing, 1 not ours, -1. */
int cs_orders_resolve_sku(cs_db *db, int64_t account_id, const char *sku, int64_t *listing,
                          cs_error *err);

/* ---- sync state (orders.sync) ---- */
typedef struct cs_order_sync {
    int64_t watermark_s; /* 0 = never synced */
    int64_t window_to_s; /* a run in progress: the window's end; 0 = none */
    char cursor[512];    /* the page to read next in that window ("" = first) */
} cs_order_sync;
/* Read (0; a missing row reads as zeros) or -1. */
int cs_order_sync_get(cs_db *db, int64_t account_id, cs_order_sync *s, cs_error *err);
/* Store the run's position in the caller's transaction: window_to_s 0 and cursor NULL close the
 * window and move the watermark to watermark_s. seen/bad are added to the totals; error NULL
 * clears it. 0 or -1. */
int cs_order_sync_put(cs_db *db, int64_t account_id, const cs_order_sync *s, int64_t seen,
                      int64_t bad, const char *error, cs_error *err);

/* Every active account on an API marketplace, in id order: *ids (cs_malloc'd, caller cs_free)
 * and *n. 0 or -1. */
int cs_orders_sync_accounts(cs_db *db, int64_t **ids, size_t *n, cs_error *err);

/* The account of a marketplace shop (external_shop_id, else the id its pushes name —
 * push_shop_id, TikTok): 0 with *id, 1 none, -1. */
int cs_orders_account_by_shop(cs_db *db, const char *mp, const char *shop_id, int64_t *id,
                              cs_error *err);

/* ---- sales recorded by people (postmart.vn, voso.vn) ---- */
typedef struct cs_sale_claim {
    const char *marketplace; /* postmart or voso (an API marketplace is refused: it syncs);
                              * NULL = the listing's */
    const char *order_code;  /* the seller centre's order code */
    int64_t listing_id;
    const char *sold_on; /* YYYY-MM-DD (Asia/Ho_Chi_Minh) */
    int64_t qty, amount_vnd;
    const char *source;   /* "volunteer", "import" (both count at once) or "owner" (pending) */
    const char *evidence; /* sha256 hex of a stored screenshot, or NULL */
} cs_sale_claim;
/* Record a sale in its own transaction with an audit row. A volunteer's record or an import
 * counts at once; the owner's waits for cs_sale_decide. Returns 0 with *id; 1 when the order
 * code is already recorded on that marketplace (nothing changed, *id = the existing claim);
 * -1 with err: CS_E_VALIDATION naming the field (order_code, sold_on, quantity, amount_vnd,
 * listing_id, marketplace) or CS_E_NOT_FOUND. */
int cs_sale_record(cs_db *db, const cs_actor *a, const cs_sale_claim *c, int64_t *id,
                   cs_error *err);
/* Keep the screenshot whose bytes (core/media, stored by the caller) have SHA-256 hex `sha` as
 * the evidence of sale `id`, in its own transaction with an audit row ("sale.evidence"). A sale
 * keeps one screenshot for good: 0 when kept (or the same bytes again), 1 when it already keeps
 * other bytes (nothing changed), -1 with err (CS_E_NOT_FOUND, a field error on the digest). */
int cs_sale_set_evidence(cs_db *db, const cs_actor *a, int64_t id, const char *sha, cs_error *err);
/* A volunteer confirms (accept 1) or rejects a pending claim. 0, 1 when it is not pending, -1. */
int cs_sale_decide(cs_db *db, const cs_actor *a, int64_t id, int accept, cs_error *err);

/* Columns of cs_sale_list: people's sale records, oldest first. */
enum cs_sale_col {
    CS_SC_ID,
    CS_SC_MARKETPLACE,
    CS_SC_ORDER_CODE,
    CS_SC_LISTING_ID,
    CS_SC_PRODUCT_ID,
    CS_SC_PRODUCT_NAME,
    CS_SC_HOUSEHOLD_CODE,
    CS_SC_COMMUNE,
    CS_SC_SOLD_ON,
    CS_SC_QTY,
    CS_SC_AMOUNT,
    CS_SC_SOURCE,
    CS_SC_STATE,
    CS_SC_EVIDENCE,
    CS_SC_CREATED_BY,
    CS_SC_DECIDED_BY,
    CS_SC_CREATED_AT,
};
/* Records with id > after (state NULL = any; scope "c1,c2" or NULL), at most limit. 0 or -1. */
int cs_sale_list(cs_db *db, const char *scope, const char *state, int64_t after, int limit,
                 cs_rows **out, cs_error *err);
/* The household owning a listing: 0 with *household, 1 no such listing, -1. */
int cs_orders_listing_household(cs_db *db, int64_t listing, int64_t *household, cs_error *err);
/* The commune of a sale record's household (scope checks): 0, 1 none, -1. */
int cs_sale_commune(cs_db *db, int64_t id, char commune[6], cs_error *err);

/* Columns of cs_orders_by_listing: this year's orders of each listing of a household. */
enum cs_orders_listing_col {
    CS_OBL_LISTING_ID,
    CS_OBL_MARKETPLACE,
    CS_OBL_PRODUCT_NAME,
    CS_OBL_ORDERS,
    CS_OBL_UNITS,
    CS_OBL_REVENUE,
    CS_OBL_FIRST_SALE_AT,
    CS_OBL_PRODUCT_ID,
};
int cs_orders_by_listing(cs_db *db, int64_t household_id, int year, cs_rows **out, cs_error *err);
/* Columns of cs_orders_breakdown. */
enum cs_orders_by_col {
    CS_OBY_KEY,  /* product id, household code, commune / district / marketplace code, month */
    CS_OBY_NAME, /* its name (the month again for months) */
    CS_OBY_ORDERS,
    CS_OBY_UNITS,
    CS_OBY_REVENUE,
};
/* Orders, units and revenue of counted lines in `year` by "product", "household", "commune",
 * "former_district", "marketplace" or "month" (else a field error on "by"); scope as for
 * cs_orders_totals. Rows with no sale are absent. 0 or -1. */
int cs_orders_breakdown(cs_db *db, int year, const char *by, const char *scope, cs_rows **out,
                        cs_error *err);
/* Totals of counted orders, units and revenue in `year`; scope "c1,c2" (FIND_IN_SET) or NULL
 * for every commune. 0 or -1. */
int cs_orders_totals(cs_db *db, int year, const char *scope, int64_t *orders, int64_t *units,
                     int64_t *revenue, cs_error *err);
#endif
