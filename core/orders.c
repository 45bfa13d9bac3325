/* core/orders: order lines, the sold rule and the order counters (see core/orders.h). Runs in
 * the caller's transaction except where a function says it has its own; no HTTP, no JSON out. */
#include "core/orders.h"
#include "core/states.h"
#include "core/mem.h"
#include "core/vn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {"", "open", "delivered", "cancelled", "returned"};

// clang-format off
static const char SQL_LINE_LOCK[] =
    "SELECT state, delivered_at IS NOT NULL, counted, listing_id,"
    "       UNIX_TIMESTAMP(mp_updated_at)"
    " FROM order_lines"
    " WHERE marketplace_code = ? AND order_id = ? AND line_id = ?"
    " FOR UPDATE";
static const char SQL_LINE_INSERT[] =
    "INSERT INTO order_lines (marketplace_code, order_id, line_id, account_id, listing_id, sku,"
    "  item_id, status, state, qty, amount_vnd, ordered_at, mp_updated_at, source, claim_id)"
    " VALUES (?, ?, ?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(NULLIF(?, 0)),"
    "  FROM_UNIXTIME(?), ?, NULLIF(?, 0))";
static const char SQL_LINE_UPDATE[] =
    "UPDATE order_lines"
    " SET status = ?, state = ?, qty = ?, amount_vnd = ?, mp_updated_at = FROM_UNIXTIME(?)"
    " WHERE marketplace_code = ? AND order_id = ? AND line_id = ?";
static const char SQL_LINE_DELIVERED[] =
    "UPDATE order_lines"
    " SET delivered_at = FROM_UNIXTIME(?), counted = ?"
    " WHERE marketplace_code = ? AND order_id = ? AND line_id = ?"
    "   AND delivered_at IS NULL";
static const char SQL_SKU_LISTING[] =
    "SELECT l.id"
    " FROM seller_accounts a"
    " JOIN listings l ON l.marketplace_code = a.marketplace_code"
    " JOIN products p ON p.id = l.product_id AND p.household_id = a.household_id"
    " WHERE a.id = ? AND l.id = ?";
static const char SQL_LISTING_WHERE[] =
    "SELECT p.id, h.id, h.commune_code, l.first_sale_at IS NOT NULL"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " JOIN households h ON h.id = p.household_id"
    " WHERE l.id = ?";
static const char SQL_SAME_ORDER_COUNTED[] =
    "SELECT COUNT(*)"
    " FROM order_lines o"
    " JOIN listings l ON l.id = o.listing_id"
    " WHERE o.marketplace_code = ? AND o.order_id = ? AND o.line_id <> ? AND o.counted"
    "   AND l.product_id = ?";
static const char SQL_COUNT_ADD[] =
    "INSERT INTO order_counts (year, month, product_id, marketplace_code, commune_code,"
    "  household_id, orders, units, revenue_vnd)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE orders = orders + VALUES(orders), units = units + VALUES(units),"
    "  revenue_vnd = revenue_vnd + VALUES(revenue_vnd)";
// clang-format on
enum { LK_STATE, LK_DELIVERED, LK_COUNTED, LK_LISTING, LK_UPDATED };
enum { LW_PRODUCT, LW_HOUSEHOLD, LW_COMMUNE, LW_SOLD_BEFORE };

int cs_orders_resolve_sku(cs_db *db, int64_t account_id, const char *sku, int64_t *listing,
                          cs_error *err)
{
    *listing = 0;
    if (!sku || strncmp(sku, "CS-", 3) || !sku[3] || strlen(sku) > 22 ||
        strspn(sku + 3, "0123456789") != strlen(sku + 3) || sku[3] == '0')
        return 1;
    int64_t id = strtoll(sku + 3, NULL, 10), got = 0;
    int rc = cs_db_scalar_i64(db, &got, SQL_SKU_LISTING, "ii", account_id, id, err);
    if (rc) return rc;
    *listing = got;
    return 0;
}

static int state_from_name(const char *s)
{
    for (int i = 1; i < 5; i++)
        if (s && !strcmp(s, state_names[i])) return i;
    return 0;
}

/* The line's units and revenue go to order_counts in the month of delivery (Asia/Ho_Chi_Minh);
 * the order counts once per product however many lines of that product it has. */
static int count_line(cs_db *db, const cs_order_line *l, int64_t listing, int64_t at_s,
                      cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LISTING_WHERE, "i", listing, err)) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "listing of an order line");
    }
    int64_t product = cs_rows_i64(r, 0, LW_PRODUCT), household = cs_rows_i64(r, 0, LW_HOUSEHOLD);
    int sold_before = cs_rows_i64(r, 0, LW_SOLD_BEFORE) != 0;
    char commune[6];
    snprintf(commune, sizeof commune, "%s", cs_rows_str(r, 0, LW_COMMUNE));
    cs_rows_free(r);
    /* the listing's first sale: recorded once (a later one changes nothing there, so the
       target's refiling is skipped — most lines of a busy listing take this path) */
    if (!sold_before) {
        char at[24];
        time_t t = (time_t)at_s;
        struct tm g;
        gmtime_r(&t, &g);
        strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S", &g);
        if (cs_listing_record_sale(db, listing, at, err)) return -1;
    }
    int64_t others = 0;
    if (cs_db_scalar_i64(db, &others, SQL_SAME_ORDER_COUNTED, "sssi", l->marketplace, l->order_id,
                         l->line_id, product, err) < 0)
        return -1;
    time_t local = (time_t)(at_s + 7 * 3600);
    struct tm tm;
    gmtime_r(&local, &tm);
    return cs_db_exec(db, SQL_COUNT_ADD, "iiissiiii", (int64_t)tm.tm_year + 1900,
                      (int64_t)tm.tm_mon + 1, product, l->marketplace, commune, household,
                      (int64_t)(others ? 0 : 1), l->qty, l->amount_vnd, err) < 0
               ? -1
               : 0;
}

int cs_order_line_put(cs_db *db, const cs_order_line *l, cs_ol_effect *eff, cs_error *err)
{
    cs_ol_effect e = {CS_OL_UNCHANGED, 0, 0};
    if (eff) *eff = e;
    if (l->state < CS_OL_OPEN || l->state > CS_OL_RETURNED || l->qty < 0 || l->amount_vnd < 0 ||
        l->updated_s <= 0)
        return cs_error_set(err, CS_E_INTERNAL, "order line without state, quantity or time");
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LINE_LOCK, "sss", l->marketplace, l->order_id, l->line_id, err))
        return -1;
    int exists = cs_rows_count(r) == 1;
    int old_state = exists ? state_from_name(cs_rows_str(r, 0, LK_STATE)) : 0;
    int delivered_before = exists && cs_rows_i64(r, 0, LK_DELIVERED);
    int64_t listing =
        exists && !cs_rows_isnull(r, 0, LK_LISTING) ? cs_rows_i64(r, 0, LK_LISTING) : 0;
    int64_t stored_at = exists ? cs_rows_i64(r, 0, LK_UPDATED) : 0;
    cs_rows_free(r);
    if (!exists) {
        listing = l->listing_id;
        if (!listing && l->account_id) {
            int rc = cs_orders_resolve_sku(db, l->account_id, l->sku, &listing, err);
            if (rc < 0) return -1;
        }
        if (cs_db_exec(db, SQL_LINE_INSERT, "sssiissssiiiisi", l->marketplace, l->order_id,
                       l->line_id, l->account_id, listing, l->sku ? l->sku : "",
                       l->item_id ? l->item_id : "", l->status, state_names[l->state], l->qty,
                       l->amount_vnd, l->ordered_s > 0 ? l->ordered_s : (int64_t)0, l->updated_s,
                       l->source, l->claim_id, err) < 0)
            return -1;
        e.what = CS_OL_NEW;
    } else if (l->updated_s < stored_at) {
        e.what = CS_OL_STALE; /* an older answer (overlap, a late page): never move back */
    } else if (cs_db_exec(db, SQL_LINE_UPDATE, "ssiiisss", l->status, state_names[l->state], l->qty,
                          l->amount_vnd, l->updated_s, l->marketplace, l->order_id, l->line_id,
                          err) < 0) {
        return -1;
    } else {
        e.what = old_state == (int)l->state ? CS_OL_UNCHANGED : CS_OL_UPDATED;
    }
    e.ours = listing != 0;
    /* delivered now, never delivered before, and not cancelled/returned before delivery */
    if (e.what != CS_OL_STALE && l->state == CS_OL_DELIVERED && !delivered_before &&
        old_state != CS_OL_CANCELLED && old_state != CS_OL_RETURNED) {
        int counts = listing != 0;
        if (cs_db_exec(db, SQL_LINE_DELIVERED, "iisss", l->updated_s, (int64_t)counts,
                       l->marketplace, l->order_id, l->line_id, err) < 0)
            return -1;
        if (counts) {
            if (count_line(db, l, listing, l->updated_s, err)) return -1;
            e.counted = 1;
        }
    }
    if (eff) *eff = e;
    return 0;
}

/* ---- sync state ---------------------------------------------------------------------------- */
// clang-format off
static const char SQL_SYNC_GET[] =
    "SELECT watermark_s, COALESCE(window_to_s, 0), COALESCE(page_cursor, '')"
    " FROM order_sync"
    " WHERE account_id = ?";
static const char SQL_SYNC_PUT[] =
    "INSERT INTO order_sync (account_id, watermark_s, window_to_s, page_cursor, lines_seen, lines_bad,"
    "  last_error, last_run_at)"
    " VALUES (?, ?, NULLIF(?, 0), ?, ?, ?, ?, UTC_TIMESTAMP())"
    " ON DUPLICATE KEY UPDATE watermark_s = VALUES(watermark_s),"
    "  window_to_s = VALUES(window_to_s), page_cursor = VALUES(page_cursor),"
    "  lines_seen = lines_seen + VALUES(lines_seen), lines_bad = lines_bad + VALUES(lines_bad),"
    "  last_error = VALUES(last_error), last_run_at = VALUES(last_run_at)";
// clang-format on
enum { SY_WATERMARK, SY_WINDOW_TO, SY_CURSOR };

int cs_order_sync_get(cs_db *db, int64_t account_id, cs_order_sync *s, cs_error *err)
{
    memset(s, 0, sizeof *s);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_SYNC_GET, "i", account_id, err)) return -1;
    if (cs_rows_count(r) == 1) {
        s->watermark_s = cs_rows_i64(r, 0, SY_WATERMARK);
        s->window_to_s = cs_rows_i64(r, 0, SY_WINDOW_TO);
        snprintf(s->cursor, sizeof s->cursor, "%s", cs_rows_str(r, 0, SY_CURSOR));
    }
    cs_rows_free(r);
    return 0;
}

int cs_order_sync_put(cs_db *db, int64_t account_id, const cs_order_sync *s, int64_t seen,
                      int64_t bad, const char *error, cs_error *err)
{
    char msg[500];
    if (error) snprintf(msg, sizeof msg, "%s", error);
    return cs_db_exec(db, SQL_SYNC_PUT, "iiisiis", account_id, s->watermark_s, s->window_to_s,
                      s->window_to_s ? s->cursor : NULL, seen, bad, error ? msg : NULL, err) < 0
               ? -1
               : 0;
}

/* ---- sales recorded by people -------------------------------------------------------------- */
// clang-format off
static const char SQL_CLAIM_LISTING[] =
    "SELECT l.marketplace_code, m.kind"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code"
    " WHERE l.id = ?";
static const char SQL_CLAIM_FIND[] =
    "SELECT id"
    " FROM sale_claims"
    " WHERE marketplace_code = ? AND order_code = ?";
static const char SQL_CLAIM_INSERT[] =
    "INSERT INTO sale_claims (marketplace_code, order_code, listing_id, sold_on, qty, amount_vnd,"
    "  source, state, evidence_sha256, created_by, decided_by, decided_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, IF(? = 'confirmed', ?, NULL),"
    "  IF(? = 'confirmed', UTC_TIMESTAMP(), NULL))";
static const char SQL_CLAIM_LOCK[] =
    "SELECT marketplace_code, order_code, listing_id, UNIX_TIMESTAMP(sold_on), qty, amount_vnd,"
    "  source, state"
    " FROM sale_claims"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_CLAIM_DECIDE[] =
    "UPDATE sale_claims"
    " SET state = ?, decided_by = ?, decided_at = UTC_TIMESTAMP()"
    " WHERE id = ?";
static const char SQL_LAST_ID[] =
    "SELECT LAST_INSERT_ID()";
// clang-format on
enum { CL_MP, CL_KIND };
enum { CK_MP, CK_CODE, CK_LISTING, CK_SOLD, CK_QTY, CK_AMOUNT, CK_SOURCE, CK_STATE };

/* The claim as a counted order line: one line per claim, delivered on the sale date (noon in
 * Asia/Ho_Chi_Minh, so the date is the date whatever the zone arithmetic). */
static int claim_line(cs_db *db, int64_t id, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_CLAIM_LOCK, "i", id, err)) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "sale claim");
    }
    char line[24];
    snprintf(line, sizeof line, "claim-%lld", (long long)id);
    cs_order_line l = {
        .marketplace = cs_rows_str(r, 0, CK_MP),
        .listing_id = cs_rows_i64(r, 0, CK_LISTING),
        .order_id = cs_rows_str(r, 0, CK_CODE),
        .line_id = line,
        .status = "recorded",
        .state = CS_OL_DELIVERED,
        .qty = cs_rows_i64(r, 0, CK_QTY),
        .amount_vnd = cs_rows_i64(r, 0, CK_AMOUNT),
        .updated_s = cs_rows_i64(r, 0, CK_SOLD) + 5 * 3600,
        .source = cs_rows_str(r, 0, CK_SOURCE),
        .claim_id = id,
    };
    int rc = cs_order_line_put(db, &l, NULL, err);
    cs_rows_free(r);
    return rc;
}

struct claim_ctx {
    const cs_actor *a;
    const cs_sale_claim *c;
    int64_t id;
    int dup;
    cs_sale_claim mp_buf; /* c with the listing's marketplace filled in */
    char mp[24];
};

static int claim_tx(cs_db *db, void *arg, cs_error *err)
{
    struct claim_ctx *k = arg;
    const cs_sale_claim *c = k->c;
    k->dup = 0;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_CLAIM_LISTING, "i", c->listing_id, err)) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_field(err, "listing_id", CS_F_RANGE, "no such listing");
    }
    char mp[24];
    snprintf(mp, sizeof mp, "%s", cs_rows_str(r, 0, CL_MP));
    int same = !c->marketplace || !strcmp(mp, c->marketplace);
    int file = !strcmp(cs_rows_str(r, 0, CL_KIND), "file");
    cs_rows_free(r);
    if (!c->marketplace) {
        k->mp_buf = *c;
        snprintf(k->mp, sizeof k->mp, "%s", mp);
        k->mp_buf.marketplace = k->mp;
        c = k->c = &k->mp_buf;
    }
    if (!same) return cs_error_field(err, "marketplace", CS_F_MARKETPLACE, "not the listing's");
    if (!file)
        return cs_error_field(err, "marketplace", CS_F_MARKETPLACE,
                              "orders of this marketplace come from its API");
    int64_t existing = 0;
    int rc =
        cs_db_scalar_i64(db, &existing, SQL_CLAIM_FIND, "ss", c->marketplace, c->order_code, err);
    if (rc < 0) return -1;
    if (rc == 0) {
        k->id = existing;
        k->dup = 1;
        return 0;
    }
    const char *state = !strcmp(c->source, "owner") ? "pending" : "confirmed";
    char by[40];
    cs_actor_tag(k->a, by, sizeof by);
    if (cs_db_exec(db, SQL_CLAIM_INSERT, "ssisiisssssss", c->marketplace, c->order_code,
                   c->listing_id, c->sold_on, c->qty, c->amount_vnd, c->source, state, c->evidence,
                   by, state, by, state, err) < 0 ||
        cs_db_scalar_i64(db, &k->id, SQL_LAST_ID, "", err))
        return -1;
    if (!strcmp(state, "confirmed") && claim_line(db, k->id, err)) return -1;
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)k->id);
    return cs_audit(db, k->a, "sale.record", "sale_claim", eid,
                    json_pack("{s:s,s:s,s:I,s:s,s:I,s:I,s:s,s:s}", "marketplace", c->marketplace,
                              "order_code", c->order_code, "listing_id", (json_int_t)c->listing_id,
                              "sold_on", c->sold_on, "quantity", (json_int_t)c->qty, "amount_vnd",
                              (json_int_t)c->amount_vnd, "source", c->source, "state", state),
                    err);
}

int cs_sale_record(cs_db *db, const cs_actor *a, const cs_sale_claim *c, int64_t *id, cs_error *err)
{
    vn_date d = {0, 0, 0};
    size_t n = c->order_code ? strlen(c->order_code) : 0;
    if (c->marketplace && !*c->marketplace)
        cs_error_field(err, "marketplace", CS_F_MARKETPLACE, NULL);
    if (!n)
        cs_error_field(err, "order_code", CS_F_REQUIRED, NULL);
    else if (n > 64 ||
             strspn(c->order_code,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./") != n)
        cs_error_field(err, "order_code", CS_F_FORMAT, "letters, digits, - _ . / (at most 64)");
    cs_code why;
    char iso[11] = "";
    if (!c->sold_on || vn_date_parse(c->sold_on, 0, &d, &why))
        cs_error_field(err, "sold_on", CS_F_DATE_INVALID, NULL);
    else if (vn_date_cmp(d, vn_today()) > 0)
        cs_error_field(err, "sold_on", CS_F_DATE_FUTURE, NULL);
    if (c->qty < 1 || c->qty > 100000) cs_error_field(err, "quantity", CS_F_RANGE, "1-100000");
    if (c->amount_vnd < 0 || c->amount_vnd > 10000000000LL)
        cs_error_field(err, "amount_vnd", CS_F_PRICE, NULL);
    if (c->listing_id <= 0) cs_error_field(err, "listing_id", CS_F_REQUIRED, NULL);
    if (c->evidence && (strlen(c->evidence) != 64 || strspn(c->evidence, "0123456789abcdef") != 64))
        cs_error_field(err, "evidence", CS_F_FORMAT, "sha256 of a stored image");
    if (err->nfields) return cs_error_set(err, CS_E_VALIDATION, NULL);
    vn_date_iso(d, iso);
    cs_sale_claim canon = *c;
    canon.sold_on = iso;
    struct claim_ctx k = {.a = a, .c = &canon};
    if (cs_db_tx(db, claim_tx, &k, err)) return -1;
    if (id) *id = k.id;
    return k.dup;
}

struct decide_ctx {
    const cs_actor *a;
    int64_t id;
    int accept, not_pending;
};

static int decide_tx(cs_db *db, void *arg, cs_error *err)
{
    struct decide_ctx *k = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_CLAIM_LOCK, "i", k->id, err)) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "sale claim");
    }
    k->not_pending = strcmp(cs_rows_str(r, 0, CK_STATE), "pending") != 0;
    cs_rows_free(r);
    if (k->not_pending) return 0;
    char by[40], eid[24];
    cs_actor_tag(k->a, by, sizeof by);
    const char *to = k->accept ? "confirmed" : "rejected";
    if (cs_db_exec(db, SQL_CLAIM_DECIDE, "ssi", to, by, k->id, err) < 0) return -1;
    if (k->accept && claim_line(db, k->id, err)) return -1;
    snprintf(eid, sizeof eid, "%lld", (long long)k->id);
    return cs_audit(db, k->a, k->accept ? "sale.confirm" : "sale.reject", "sale_claim", eid, NULL,
                    err);
}

int cs_sale_decide(cs_db *db, const cs_actor *a, int64_t id, int accept, cs_error *err)
{
    struct decide_ctx k = {a, id, accept, 0};
    if (cs_db_tx(db, decide_tx, &k, err)) return -1;
    return k.not_pending;
}

/* ---- evidence ------------------------------------------------------------------------------ */
// clang-format off
static const char SQL_EVIDENCE_LOCK[] =
    "SELECT evidence_sha256"
    " FROM sale_claims"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_EVIDENCE_SET[] =
    "UPDATE sale_claims"
    " SET evidence_sha256 = ?"
    " WHERE id = ?";
// clang-format on
enum { EV_SHA };

struct evidence_ctx {
    const cs_actor *a;
    int64_t id;
    const char *sha;
    int other; /* the sale already keeps another screenshot */
};

static int evidence_tx(cs_db *db, void *arg, cs_error *err)
{
    struct evidence_ctx *k = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_EVIDENCE_LOCK, "i", k->id, err)) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "sale");
    }
    int had = !cs_rows_isnull(r, 0, EV_SHA);
    k->other = had && strcmp(cs_rows_str(r, 0, EV_SHA), k->sha) != 0;
    cs_rows_free(r);
    if (had) return 0; /* the same bytes again: nothing to do; other bytes: refused */
    if (cs_db_exec(db, SQL_EVIDENCE_SET, "si", k->sha, k->id, err) < 0) return -1;
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)k->id);
    return cs_audit(db, k->a, "sale.evidence", "sale_claim", eid,
                    json_pack("{s:s}", "evidence_sha256", k->sha), err);
}

int cs_sale_set_evidence(cs_db *db, const cs_actor *a, int64_t id, const char *sha, cs_error *err)
{
    if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
        return cs_error_field(err, "evidence_sha256", CS_F_FORMAT, "sha256 of a stored image");
    struct evidence_ctx k = {a, id, sha, 0};
    if (cs_db_tx(db, evidence_tx, &k, err)) return -1;
    return k.other;
}

/* ---- reads ---------------------------------------------------------------------------------- */
// clang-format off
static const char SQL_BY_LISTING[] =
    "SELECT l.id, l.marketplace_code, p.name,"
    "  COALESCE(SUM(c.orders), 0), COALESCE(SUM(c.units), 0), COALESCE(SUM(c.revenue_vnd), 0),"
    "  DATE_FORMAT(l.first_sale_at, '%Y-%m-%dT%H:%i:%sZ'), l.product_id"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " LEFT JOIN order_counts c ON c.product_id = l.product_id"
    "   AND c.marketplace_code = l.marketplace_code AND c.year = ?"
    " WHERE p.household_id = ?"
    " GROUP BY l.id, l.marketplace_code, p.name, l.first_sale_at, l.product_id"
    " ORDER BY l.id";
static const char SQL_TOTALS[] =
    "SELECT COALESCE(SUM(orders), 0), COALESCE(SUM(units), 0), COALESCE(SUM(revenue_vnd), 0)"
    " FROM order_counts"
    " WHERE year = ? AND (? IS NULL OR FIND_IN_SET(commune_code, ?))";
// clang-format on
enum { TO_ORDERS, TO_UNITS, TO_REVENUE };

int cs_orders_by_listing(cs_db *db, int64_t household_id, int year, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_BY_LISTING, "ii", (int64_t)year, household_id, err);
}

int cs_orders_totals(cs_db *db, int year, const char *scope, int64_t *orders, int64_t *units,
                     int64_t *revenue, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_TOTALS, "iss", (int64_t)year, scope, scope, err)) return -1;
    *orders = cs_rows_count(r) ? cs_rows_i64(r, 0, TO_ORDERS) : 0;
    *units = cs_rows_count(r) ? cs_rows_i64(r, 0, TO_UNITS) : 0;
    *revenue = cs_rows_count(r) ? cs_rows_i64(r, 0, TO_REVENUE) : 0;
    cs_rows_free(r);
    return 0;
}

// clang-format off
static const char SQL_SYNC_ACCOUNTS[] =
    "SELECT a.id"
    " FROM seller_accounts a"
    " JOIN marketplaces m ON m.code = a.marketplace_code AND m.kind = 'api'"
    " WHERE a.state = 'active'"
    " ORDER BY a.id";
// clang-format on
enum { SA_ID };

int cs_orders_sync_accounts(cs_db *db, int64_t **ids, size_t *n, cs_error *err)
{
    *ids = NULL;
    *n = 0;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_SYNC_ACCOUNTS, "", err)) return -1;
    size_t c = cs_rows_count(r);
    if (c && !(*ids = cs_malloc(c * sizeof **ids))) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < c; i++)
        (*ids)[i] = cs_rows_i64(r, i, SA_ID);
    *n = c;
    cs_rows_free(r);
    return 0;
}

// clang-format off
static const char SQL_ACCOUNT_BY_SHOP[] =
    "SELECT id"
    " FROM seller_accounts"
    " WHERE marketplace_code = ? AND external_shop_id = ? AND state = 'active'";
/* TikTok webhooks name the shop by its id, API calls by its cipher (migration 094) */
static const char SQL_ACCOUNT_BY_PUSH_SHOP[] =
    "SELECT id"
    " FROM seller_accounts"
    " WHERE marketplace_code = ? AND push_shop_id = ? AND state = 'active'";
// clang-format on

int cs_orders_account_by_shop(cs_db *db, const char *mp, const char *shop_id, int64_t *id,
                              cs_error *err)
{
    int rc = cs_db_scalar_i64(db, id, SQL_ACCOUNT_BY_SHOP, "ss", mp, shop_id, err);
    if (rc != 1) return rc;
    return cs_db_scalar_i64(db, id, SQL_ACCOUNT_BY_PUSH_SHOP, "ss", mp, shop_id, err);
}

// clang-format off
static const char SQL_CLAIMS[] =
    "SELECT c.id, c.marketplace_code, c.order_code, c.listing_id, p.id, p.name, h.code,"
    "  h.commune_code, DATE_FORMAT(c.sold_on, '%Y-%m-%d'), c.qty, c.amount_vnd, c.source, c.state,"
    "  c.evidence_sha256, c.created_by, c.decided_by,"
    "  DATE_FORMAT(c.created_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM sale_claims c"
    " JOIN listings l ON l.id = c.listing_id"
    " JOIN products p ON p.id = l.product_id"
    " JOIN households h ON h.id = p.household_id"
    " WHERE c.id > ? AND (? IS NULL OR c.state = ?)"
    "   AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"
    " ORDER BY c.id"
    " LIMIT ?";
static const char SQL_LISTING_HOUSEHOLD[] =
    "SELECT p.household_id"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " WHERE l.id = ?";
static const char SQL_CLAIM_COMMUNE[] =
    "SELECT h.commune_code"
    " FROM sale_claims c"
    " JOIN listings l ON l.id = c.listing_id"
    " JOIN products p ON p.id = l.product_id"
    " JOIN households h ON h.id = p.household_id"
    " WHERE c.id = ?";
// clang-format on
enum { CC_COMMUNE };

int cs_sale_list(cs_db *db, const char *scope, const char *state, int64_t after, int limit,
                 cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_CLAIMS, "issssi", after, state, state, scope, scope,
                       (int64_t)limit, err);
}

int cs_orders_listing_household(cs_db *db, int64_t listing, int64_t *household, cs_error *err)
{
    return cs_db_scalar_i64(db, household, SQL_LISTING_HOUSEHOLD, "i", listing, err);
}

int cs_sale_commune(cs_db *db, int64_t id, char commune[6], cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_CLAIM_COMMUNE, "i", id, err)) return -1;
    int found = cs_rows_count(r) == 1;
    if (found) snprintf(commune, 6, "%s", cs_rows_str(r, 0, CC_COMMUNE));
    cs_rows_free(r);
    return found ? 0 : 1;
}

/* ---- breakdowns of the order counters ------------------------------------------------------ */
#define SUMS ", SUM(c.orders), SUM(c.units), SUM(c.revenue_vnd)"
#define SCOPED " WHERE c.year = ? AND (? IS NULL OR FIND_IN_SET(c.commune_code, ?))"
// clang-format off
static const char SQL_BY_PRODUCT[] =
    "SELECT CAST(c.product_id AS CHAR), p.name" SUMS
    " FROM order_counts c"
    " JOIN products p ON p.id = c.product_id"
    SCOPED
    " GROUP BY c.product_id, p.name"
    " ORDER BY SUM(c.units) DESC, c.product_id";
static const char SQL_BY_HOUSEHOLD[] =
    "SELECT h.code, COALESCE(h.business_name, h.code)" SUMS
    " FROM order_counts c"
    " JOIN households h ON h.id = c.household_id"
    SCOPED
    " GROUP BY h.code, h.business_name"
    " ORDER BY SUM(c.units) DESC, h.code";
static const char SQL_BY_COMMUNE[] =
    "SELECT c.commune_code, u.name" SUMS
    " FROM order_counts c"
    " JOIN admin_units u ON u.code = c.commune_code"
    SCOPED
    " GROUP BY c.commune_code, u.name"
    " ORDER BY c.commune_code";
static const char SQL_BY_DISTRICT[] =
    "SELECT d.code, d.name" SUMS
    " FROM order_counts c"
    " JOIN admin_units u ON u.code = c.commune_code"
    " JOIN admin_districts d ON d.code = u.primary_district_code"
    SCOPED
    " GROUP BY d.code, d.name"
    " ORDER BY d.code";
static const char SQL_BY_MARKETPLACE[] =
    "SELECT c.marketplace_code, m.name" SUMS
    " FROM order_counts c"
    " JOIN marketplaces m ON m.code = c.marketplace_code"
    SCOPED
    " GROUP BY c.marketplace_code, m.name"
    " ORDER BY c.marketplace_code";
static const char SQL_BY_MONTH[] =
    "SELECT CAST(c.month AS CHAR), CAST(c.month AS CHAR)" SUMS
    " FROM order_counts c"
    SCOPED
    " GROUP BY c.month"
    " ORDER BY c.month";
// clang-format on

int cs_orders_breakdown(cs_db *db, int year, const char *by, const char *scope, cs_rows **out,
                        cs_error *err)
{
    static const struct {
        const char *by, *sql;
    } t[] = {{"product", SQL_BY_PRODUCT},         {"household", SQL_BY_HOUSEHOLD},
             {"commune", SQL_BY_COMMUNE},         {"former_district", SQL_BY_DISTRICT},
             {"marketplace", SQL_BY_MARKETPLACE}, {"month", SQL_BY_MONTH}};
    for (size_t i = 0; by && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(by, t[i].by))
            return cs_db_query(db, out, t[i].sql, "iss", (int64_t)year, scope, scope, err);
    return cs_error_field(err, "by", CS_F_ENUM, NULL);
}
