/* core/market: read-only queries of seller accounts and listings for the API, each with its
 * column enum in core/market.h. Writes belong to jobs/flows (state changes with their events). */
#include "core/market.h"
#include <stdio.h>

// clang-format off
static const char SQL_ACCOUNT_PAGE[] =
    "SELECT a.id, h.code, h.commune_code, a.marketplace_code, a.state,"
    " a.external_shop_id, a.shop_url, a.auth_link,"
    " DATE_FORMAT(a.authorized_at, '%Y-%m-%dT%H:%i:%sZ'),"
    " DATE_FORMAT(a.activated_at, '%Y-%m-%dT%H:%i:%sZ'),"
    " DATE_FORMAT(a.access_expires_at, '%Y-%m-%dT%H:%i:%sZ'),"
    " a.last_error_code, a.last_error_message, a.version,"
    " DATE_FORMAT(a.created_at, '%Y-%m-%dT%H:%i:%sZ'),"
    " DATE_FORMAT(a.updated_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM seller_accounts a"
    " JOIN households h ON h.id = a.household_id"
    " WHERE a.id > ?"
    " AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"
    " AND (? IS NULL OR a.state = ?)"
    " AND (? IS NULL OR a.marketplace_code = ?)"
    " AND (? IS NULL OR h.commune_code = ?)"
    " AND (? IS NULL OR h.code = ?)"
    " ORDER BY a.id"
    " LIMIT ?";
// clang-format on

int cs_account_page(cs_db *db, const cs_market_filter *f, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_ACCOUNT_PAGE, "issssssssssi", f->after, f->scope, f->scope,
                       f->state, f->state, f->marketplace, f->marketplace, f->commune, f->commune,
                       f->household, f->household, f->limit, err);
}

// clang-format off
static const char SQL_ACCOUNT_BRIEF[] =
    "SELECT a.id, a.marketplace_code, a.state, a.auth_link, a.shop_url, m.kind"
    " FROM seller_accounts a"
    " JOIN marketplaces m ON m.code = a.marketplace_code"
    " WHERE a.id = ?";
// clang-format on

int cs_account_brief(cs_db *db, int64_t id, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_ACCOUNT_BRIEF, "i", id, err);
}

// clang-format off
static const char SQL_ACCOUNT_FIND[] =
    "SELECT id"
    " FROM seller_accounts"
    " WHERE household_id = ? AND marketplace_code = ?";
// clang-format on

int cs_account_find(cs_db *db, int64_t household, const char *mp, int64_t *id, cs_error *err)
{
    return cs_db_scalar_i64(db, id, SQL_ACCOUNT_FIND, "is", household, mp, err);
}

/* The columns of enum cs_listing_col and the tables they come from. */
// clang-format off
#define LISTING_SELECT \
    "SELECT l.id, l.product_id, p.name, h.code, h.commune_code, l.marketplace_code, l.state," \
    " l.external_item_id, l.listing_url, l.last_error_code, l.last_error_message, l.error_fields," \
    " DATE_FORMAT(l.live_at, '%Y-%m-%dT%H:%i:%sZ')," \
    " DATE_FORMAT(l.first_live_at, '%Y-%m-%dT%H:%i:%sZ')," \
    " DATE_FORMAT(l.first_sale_at, '%Y-%m-%dT%H:%i:%sZ'), l.version," \
    " DATE_FORMAT(l.created_at, '%Y-%m-%dT%H:%i:%sZ')," \
    " DATE_FORMAT(l.updated_at, '%Y-%m-%dT%H:%i:%sZ')," \
    " p.flagship" \
    " FROM listings l" \
    " JOIN products p ON p.id = l.product_id" \
    " JOIN households h ON h.id = p.household_id"

static const char SQL_LISTING_PAGE[] =
    LISTING_SELECT
    " WHERE l.id > ?"
    " AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"
    " AND (? IS NULL OR l.state = ?)"
    " AND (? IS NULL OR l.marketplace_code = ?)"
    " AND (? IS NULL OR h.commune_code = ?)"
    " AND (? IS NULL OR h.code = ?)"
    " AND (? = 0 OR l.product_id = ?)"
    " ORDER BY l.id"
    " LIMIT ?";
static const char SQL_LISTING_VIEW[] =
    LISTING_SELECT
    " WHERE l.id = ?";
// clang-format on

int cs_listing_page(cs_db *db, const cs_market_filter *f, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_LISTING_PAGE, "issssssssssiii", f->after, f->scope, f->scope,
                       f->state, f->state, f->marketplace, f->marketplace, f->commune, f->commune,
                       f->household, f->household, f->product, f->product, f->limit, err);
}

int cs_listing_view(cs_db *db, int64_t id, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_LISTING_VIEW, "i", id, err);
}

// clang-format off
static const char SQL_LISTING_HISTORY[] =
    "SELECT from_state, to_state, reason_code, reason, actor,"
    " DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ')"
    " FROM listing_events"
    " WHERE listing_id = ?"
    " ORDER BY id";
// clang-format on

int cs_listing_history(cs_db *db, int64_t listing, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_LISTING_HISTORY, "i", listing, err);
}

// clang-format off
static const char SQL_LISTING_BRIEF[] =
    "SELECT id, marketplace_code, state, listing_url"
    " FROM listings"
    " WHERE id = ?";
// clang-format on

int cs_listing_brief(cs_db *db, int64_t id, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, SQL_LISTING_BRIEF, "i", id, err);
}

// clang-format off
static const char SQL_PRODUCT_COMMUNE[] =
    "SELECT h.commune_code"
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " WHERE p.id = ?";
static const char SQL_LISTING_COMMUNE[] =
    "SELECT h.commune_code"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " JOIN households h ON h.id = p.household_id"
    " WHERE l.id = ?";
// clang-format on
enum { COMMUNE_CODE };

static int commune_of(cs_db *db, const char *sql, int64_t id, char commune[6], cs_error *err)
{
    cs_rows *q = NULL;
    if (cs_db_query(db, &q, sql, "i", id, err)) return -1;
    int rc = 1;
    if (cs_rows_count(q)) {
        snprintf(commune, 6, "%s", cs_rows_str(q, 0, COMMUNE_CODE));
        rc = 0;
    }
    cs_rows_free(q);
    return rc;
}

int cs_market_product_commune(cs_db *db, int64_t product, char commune[6], cs_error *err)
{
    return commune_of(db, SQL_PRODUCT_COMMUNE, product, commune, err);
}

int cs_market_listing_commune(cs_db *db, int64_t listing, char commune[6], cs_error *err)
{
    return commune_of(db, SQL_LISTING_COMMUNE, listing, commune, err);
}
