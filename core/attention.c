/* core/attention: the statements of the staff's attention list. It must not format anything for
 * HTTP (service/h_targets.c builds the JSON from these rows). */
#include "core/attention.h"
#include <string.h>

#define ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

// clang-format off
/* the marketplace's answer as the connector stored it, else the reason given with the move to
 * 'rejected' (column order: the CS_ATT_REJ_* enum) */
static const char SQL_REJECTED[] =
    "SELECT l.id, p.id, p.name, h.code, h.commune_code, l.marketplace_code,"
    "  COALESCE(l.last_error_code, (SELECT e.reason_code"
    "    FROM listing_events e"
    "    WHERE e.listing_id = l.id AND e.to_state = 'rejected'"
    "    ORDER BY e.id DESC"
    "    LIMIT 1)),"
    "  COALESCE(l.last_error_message, (SELECT e.reason"
    "    FROM listing_events e"
    "    WHERE e.listing_id = l.id AND e.to_state = 'rejected'"
    "    ORDER BY e.id DESC"
    "    LIMIT 1)),"
    "  " ISO("l.updated_at")
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " JOIN households h ON h.id = p.household_id"
    " WHERE l.state = 'rejected'"
    " ORDER BY l.updated_at DESC, l.id DESC"
    " LIMIT ?";

/* CS_ATT_DEAD_* */
static const char SQL_DEAD_JOBS[] =
    "SELECT id, kind, attempts, last_error, " ISO("finished_at")
    " FROM jobs"
    " WHERE state = 'dead'"
    " ORDER BY finished_at DESC, id DESC"
    " LIMIT ?";

/* an authorisation that lapses within 7 days stops publishing: the owner must act
 * (CS_ATT_EXP_*) */
static const char SQL_EXPIRING[] =
    "SELECT a.id, h.code, h.commune_code, a.marketplace_code, a.state,"
    "  " ISO("a.access_expires_at") ", " ISO("a.refresh_expires_at")
    " FROM seller_accounts a"
    " JOIN households h ON h.id = a.household_id"
    " WHERE a.state IN ('active','authorized')"
    "  AND ((a.refresh_expires_at IS NOT NULL"
    "        AND a.refresh_expires_at < UTC_TIMESTAMP() + INTERVAL 7 DAY)"
    "    OR (a.refresh_expires_at IS NULL"
    "        AND a.access_expires_at < UTC_TIMESTAMP() + INTERVAL 7 DAY))"
    " ORDER BY COALESCE(a.refresh_expires_at, a.access_expires_at), a.id"
    " LIMIT ?";

/* CS_ATT_IDLE_* */
static const char SQL_IDLE[] =
    "SELECT h.code, h.commune_code, " ISO("h.onboarded_at") ","
    "  (SELECT COUNT(*)"
    "    FROM products p"
    "    WHERE p.household_id = h.id AND p.status = 'active')"
    " FROM households h"
    " WHERE h.onboarded_at IS NOT NULL AND h.status <> 'erased'"
    "  AND NOT EXISTS (SELECT 1"
    "    FROM products p"
    "    JOIN listings l ON l.product_id = p.id"
    "    WHERE p.household_id = h.id AND l.state = 'live')"
    " ORDER BY h.onboarded_at, h.id"
    " LIMIT ?";
// clang-format on

static const char *const section_sql[CS_ATT__COUNT] = {
    [CS_ATT_REJECTED] = SQL_REJECTED,
    [CS_ATT_DEAD_JOBS] = SQL_DEAD_JOBS,
    [CS_ATT_EXPIRING] = SQL_EXPIRING,
    [CS_ATT_IDLE] = SQL_IDLE,
};

int cs_attention_load(cs_db *db, int64_t limit, cs_attention *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    if (limit < 1 || limit > 500) return cs_error_field(err, "limit", CS_F_RANGE, "1-500");
    for (int s = 0; s < CS_ATT__COUNT; s++)
        if (cs_db_query(db, &out->rows[s], section_sql[s], "i", limit + 1, err)) {
            cs_attention_free(out);
            return -1;
        }
    return 0;
}

void cs_attention_free(cs_attention *a)
{
    for (int s = 0; s < CS_ATT__COUNT; s++) {
        cs_rows_free(a->rows[s]);
        a->rows[s] = NULL;
    }
}
