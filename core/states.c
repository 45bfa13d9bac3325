/* core/states: account and listing state machines with their event rows. */
#include "core/states.h"
#include "core/instance.h"
#include "core/targets.h"
#include <stdio.h>
#include <string.h>

struct edge {
    const char *from, *to;
};

static const struct edge account_edges[] = {
    {"not_started", "awaiting_owner"},
    {"awaiting_owner", "authorized"},
    {"awaiting_owner", "rejected"},
    {"authorized", "active"},
    {"authorized", "rejected"},
    {"active", "suspended"},
    {"active", "token_expired"},
    {"token_expired", "authorized"},
    {"token_expired", "awaiting_owner"},
    {"suspended", "active"},
    {"suspended", "awaiting_owner"},
    {"rejected", "awaiting_owner"},
    {"authorized", "token_expired"},
    {"authorized", "awaiting_owner"},
    /* assisted marketplaces (DESIGN.md): the confirmed shop address is fetched before the
       household counts; a corrected address is verified again */
    {"awaiting_owner", "pending_verification"},
    {"pending_verification", "active"},
    {"pending_verification", "verification_failed"},
    {"verification_failed", "pending_verification"},
};

static const struct edge listing_edges[] = {
    {"draft", "queued"},
    {"queued", "submitted"},
    {"queued", "rejected"},
    {"submitted", "pending_review"},
    {"submitted", "live"},
    {"submitted", "rejected"},
    {"submitted", "queued"},
    {"pending_review", "live"},
    {"pending_review", "rejected"},
    {"pending_review", "delisted"},
    {"live", "queued"},
    {"live", "delisted"},
    {"rejected", "queued"},
    {"failed", "queued"},
    {"delisted", "queued"},
    {"delisted", "live"},
    {"queued", "live"},
    {"queued", "pending_review"},
    /* removal from our side (issue 16): a product withdrawn or a household's consent withdrawn.
     * withdrawing = the take-down is asked of the marketplace (API) or of the volunteer
     * (assisted) and not yet confirmed; withdrawn = not on sale because of us. A listing never
     * sent goes straight to withdrawn; a withdrawn one may be published again. */
    {"queued", "withdrawing"},
    {"submitted", "withdrawing"},
    {"pending_review", "withdrawing"},
    {"live", "withdrawing"},
    {"rejected", "withdrawing"},
    {"delisted", "withdrawing"},
    {"failed", "withdrawing"},
    {"withdrawing", "withdrawn"},
    {"draft", "withdrawn"},
    {"withdrawn", "queued"},
    /* assisted marketplaces (DESIGN.md): the confirmed listing address is fetched and must show
       the product name before the listing counts as live; a listing the volunteer confirms
       while the link check still has it in review, or after a failed verification, is verified
       again; a failed one may be published again */
    {"submitted", "pending_verification"},
    {"pending_review", "pending_verification"},
    {"pending_verification", "live"},
    {"pending_verification", "verification_failed"},
    {"verification_failed", "pending_verification"},
    {"verification_failed", "queued"},
    /* DESIGN.md: live → suspended (the marketplace banned or hid the item); it comes back live,
       is published again, or leaves the marketplace */
    {"live", "suspended"},
    {"suspended", "live"},
    {"suspended", "queued"},
    {"suspended", "delisted"},
    /* a listing banned, or in verification, may be taken down from our side too */
    {"suspended", "withdrawing"},
    {"pending_verification", "withdrawing"},
    {"verification_failed", "withdrawing"},
};

static int allowed(const struct edge *e, size_t n, const char *from, const char *to)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].from, from) && !strcmp(e[i].to, to)) return 1;
    return 0;
}

int cs_account_transition_allowed(const char *from, const char *to)
{
    return allowed(account_edges, sizeof account_edges / sizeof account_edges[0], from, to);
}

int cs_listing_transition_allowed(const char *from, const char *to)
{
    /* any → failed: retries spent, whatever the state was */
    if (!strcmp(to, "failed")) return strcmp(from, "failed") != 0;
    return allowed(listing_edges, sizeof listing_edges / sizeof listing_edges[0], from, to);
}

/* columns of SQL_ACCOUNT_LOCK */
enum { AL_STATE, AL_HOUSEHOLD, AL_ENV };
/* columns of SQL_HOUSEHOLD_LOCK */
enum { HL_FIRST };
// clang-format off
static const char SQL_ACCOUNT_LOCK[] =
    "SELECT state, household_id, env"
    " FROM seller_accounts"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_HOUSEHOLD_LOCK[] =
    "SELECT onboarded_at IS NULL"
    " FROM households"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_ACCOUNT_SET_STATE[] =
    "UPDATE seller_accounts"
    " SET state = ?, version = version + 1,"
    "     activated_at = IF(? AND activated_at IS NULL, UTC_TIMESTAMP(), activated_at),"
    "     authorized_at = IF(? = 'authorized', UTC_TIMESTAMP(), authorized_at)"
    " WHERE id = ?";
static const char SQL_ACCOUNT_EVENT[] =
    "INSERT INTO account_events (account_id, from_state, to_state, reason_code, reason, actor)"
    " VALUES (?,?,?,?,?,?)";
static const char SQL_HOUSEHOLD_ONBOARDED[] =
    "UPDATE households"
    " SET onboarded_at = COALESCE(onboarded_at, UTC_TIMESTAMP()),"
    "     status = IF(status = 'erased', status, 'onboarded')"
    " WHERE id = ?";
/* a practice (sandbox) shop on a production instance: the household is onboarded, but the
   first date the targets count stays for a real shop (issue 12) */
static const char SQL_HOUSEHOLD_ONBOARDED_PRACTICE[] =
    "UPDATE households"
    " SET status = IF(status = 'erased', status, 'onboarded')"
    " WHERE id = ?";
static const char SQL_HOUSEHOLD_ONBOARDING[] =
    "UPDATE households"
    " SET status = 'onboarding'"
    " WHERE id = ? AND status = 'registered'";
// clang-format on

int cs_account_transition(cs_db *db, int64_t id, const char *to, const char *reason_code,
                          const char *reason, const cs_actor *a, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_LOCK, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "seller account %lld", (long long)id);
    }
    char from[24];
    snprintf(from, sizeof from, "%s", cs_rows_str(r, 0, AL_STATE));
    int64_t hh = cs_rows_i64(r, 0, AL_HOUSEHOLD);
    int counts = cs_env_counts(cs_rows_str(r, 0, AL_ENV));
    cs_rows_free(r);
    if (!strcmp(from, to)) return 0;
    if (!cs_account_transition_allowed(from, to))
        return cs_error_set(err, CS_E_STATE_TRANSITION, "account %s -> %s", from, to);
    char by[48];
    cs_actor_tag(a, by, sizeof by);
    int active = !strcmp(to, "active");
    int first = 0;
    if (active) {
        /* lock the household before writing the event: concurrent activations of its accounts
           are then ordered, and the earliest 'active' event is the one the counter files */
        if (cs_db_query(db, &r, SQL_HOUSEHOLD_LOCK, "i", hh, err)) return -1;
        first = counts && cs_rows_count(r) && cs_rows_i64(r, 0, HL_FIRST);
        cs_rows_free(r);
    }
    if (cs_db_exec(db, SQL_ACCOUNT_SET_STATE, "sisi", to, (int64_t)active, to, id, err) < 0 ||
        cs_db_exec(db, SQL_ACCOUNT_EVENT, "isssss", id, from, to, reason_code, reason, by, err) < 0)
        return -1;
    /* the household counts as onboarded from its first active account, once and for good */
    if (active &&
        cs_db_exec(db, counts ? SQL_HOUSEHOLD_ONBOARDED : SQL_HOUSEHOLD_ONBOARDED_PRACTICE, "i", hh,
                   err) < 0)
        return -1;
    /* the targets counter moves exactly when the first date is set (core/targets.h) */
    if (first && cs_targets_file_household(db, hh, 1, err)) return -1;
    if (!strcmp(to, "awaiting_owner") && cs_db_exec(db, SQL_HOUSEHOLD_ONBOARDING, "i", hh, err) < 0)
        return -1;
    return 0;
}

/* columns of SQL_LISTING_LOCK */
enum { LL_STATE, LL_PRODUCT };
/* columns of SQL_PRODUCT_LOCK */
enum { PL_FIRST, PL_ENV };
// clang-format off
static const char SQL_LISTING_LOCK[] =
    "SELECT state, product_id"
    " FROM listings"
    " WHERE id = ?"
    " FOR UPDATE";
/* the listing's environment comes with the product's lock: a caller holding the listing's row
   (cs_listing_transition_held) need not have read it */
static const char SQL_PRODUCT_LOCK[] =
    "SELECT p.first_live_at IS NULL, l.env"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " WHERE l.id = ?"
    " FOR UPDATE";
/* live_at: start of the current live spell; an update (live → queued → live) keeps it, leaving
   the marketplace clears it */
static const char SQL_LISTING_SET_STATE[] =
    "UPDATE listings"
    " SET state = ?, version = version + 1,"
    "     live_at = CASE WHEN ? THEN COALESCE(live_at, UTC_TIMESTAMP())"
    "       WHEN ? IN ('delisted','rejected','failed','withdrawing','withdrawn') THEN NULL"
    "       ELSE live_at END,"
    "     first_live_at = IF(? AND first_live_at IS NULL, UTC_TIMESTAMP(), first_live_at)"
    " WHERE id = ?";
static const char SQL_LISTING_EVENT[] =
    "INSERT INTO listing_events (listing_id, from_state, to_state, reason_code, reason, actor)"
    " VALUES (?,?,?,?,?,?)";
static const char SQL_PRODUCT_FIRST_LIVE[] =
    "UPDATE products"
    " SET first_live_at = COALESCE(first_live_at, UTC_TIMESTAMP())"
    " WHERE id = ?";
// clang-format on

int cs_listing_transition(cs_db *db, int64_t id, const char *to, const char *reason_code,
                          const char *reason, const cs_actor *a, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LISTING_LOCK, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "listing %lld", (long long)id);
    }
    char from[24];
    snprintf(from, sizeof from, "%s", cs_rows_str(r, 0, LL_STATE));
    int64_t product = cs_rows_i64(r, 0, LL_PRODUCT);
    cs_rows_free(r);
    return cs_listing_transition_held(db, id, product, from, to, reason_code, reason, a, err);
}

int cs_listing_transition_held(cs_db *db, int64_t id, int64_t product, const char *from,
                               const char *to, const char *reason_code, const char *reason,
                               const cs_actor *a, cs_error *err)
{
    if (!strcmp(from, to)) return 0;
    if (!cs_listing_transition_allowed(from, to))
        return cs_error_set(err, CS_E_STATE_TRANSITION, "listing %s -> %s", from, to);
    cs_rows *r = NULL;
    char by[48];
    cs_actor_tag(a, by, sizeof by);
    int live = !strcmp(to, "live");
    int first = 0, counts = 0;
    if (live) {
        /* as for accounts: the product row orders concurrent first lives of its listings; a
           practice listing on a production instance never sets the product's first date */
        if (cs_db_query(db, &r, SQL_PRODUCT_LOCK, "i", id, err)) return -1;
        counts = cs_rows_count(r) && cs_env_counts(cs_rows_str(r, 0, PL_ENV));
        first = counts && cs_rows_i64(r, 0, PL_FIRST);
        cs_rows_free(r);
    }
    if (cs_db_exec(db, SQL_LISTING_SET_STATE, "sisii", to, (int64_t)live, to, (int64_t)live, id,
                   err) < 0 ||
        cs_db_exec(db, SQL_LISTING_EVENT, "isssss", id, from, to, reason_code, reason, by, err) < 0)
        return -1;
    /* the product's (household, list entry) pair may already count through another pack
       size: out before the first date is set, in again after it (core/targets.h) */
    if (first && cs_targets_file_product(db, product, CS_M_LIVE, -1, err)) return -1;
    if (live && counts && cs_db_exec(db, SQL_PRODUCT_FIRST_LIVE, "i", product, err) < 0) return -1;
    if (first && cs_targets_file_product(db, product, CS_M_LIVE, 1, err)) return -1;
    return 0;
}

// clang-format off
static const char SQL_SET_EVENTS[] =
    "INSERT INTO listing_events (listing_id, from_state, to_state, reason_code, reason, actor)"
    " SELECT l.id, l.state, ?, ?, ?, ?"
    " FROM " CS_DB_IDS_TABLE
    " JOIN listings l ON l.id = j.id"
    " WHERE l.state = ?";
static const char SQL_SET_STATE[] =
    "UPDATE listings"
    " SET state = ?, version = version + 1,"
    "     live_at = IF(? IN ('delisted','rejected','failed','withdrawing','withdrawn'), NULL,"
    "                  live_at)"
    " WHERE id IN (SELECT j.id FROM " CS_DB_IDS_TABLE ") AND state = ?";
// clang-format on

int64_t cs_listing_transition_set(cs_db *db, const char *ids_json, const char *from, const char *to,
                                  const char *reason_code, const char *reason, const cs_actor *a,
                                  cs_error *err)
{
    if (!strcmp(to, "live")) return cs_error_set(err, CS_E_INTERNAL, "a set never goes live");
    if (!cs_listing_transition_allowed(from, to))
        return cs_error_set(err, CS_E_STATE_TRANSITION, "listing %s -> %s", from, to);
    char by[48];
    cs_actor_tag(a, by, sizeof by);
    int64_t ev =
        cs_db_exec(db, SQL_SET_EVENTS, "ssssss", to, reason_code, reason, by, ids_json, from, err);
    if (ev < 0) return -1;
    int64_t n = cs_db_exec(db, SQL_SET_STATE, "ssss", to, to, ids_json, from, err);
    if (n < 0) return -1;
    /* the rows are held: both statements saw the same listings */
    if (n != ev)
        return cs_error_set(err, CS_E_DB_SOFT, "%lld events for %lld moves", (long long)ev,
                            (long long)n);
    return n;
}

// clang-format off
static const char SQL_SALE_PRODUCT_LOCK[] =
    "SELECT p.id"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " WHERE l.id = ?"
    " FOR UPDATE";
static const char SQL_LISTING_FIRST_SALE[] =
    "UPDATE listings"
    " SET first_sale_at = COALESCE(first_sale_at, COALESCE(?, UTC_TIMESTAMP()))"
    " WHERE id = ?";
/* only a sale on a listing that counts here (issue 12: ? = 1 on a demo/training instance) */
static const char SQL_PRODUCT_FIRST_SOLD[] =
    "UPDATE products p"
    " JOIN listings l ON l.product_id = p.id"
    " SET p.first_sold_at = COALESCE(p.first_sold_at, l.first_sale_at)"
    " WHERE l.id = ? AND (l.env IS NULL OR l.env = 'production' OR ?)";
// clang-format on

int cs_listing_record_sale(cs_db *db, int64_t id, const char *at, cs_error *err)
{
    /* A sale dated earlier than one already recorded on another listing can change the
       product's first-sale marketplace: take the product's count out and file it again. */
    int64_t product = 0;
    int rc = cs_db_scalar_i64(db, &product, SQL_SALE_PRODUCT_LOCK, "i", id, err);
    if (rc < 0 || (rc == 0 && cs_targets_file_product(db, product, CS_M_SOLD, -1, err))) return -1;
    if (cs_db_exec(db, SQL_LISTING_FIRST_SALE, "si", at, id, err) < 0 ||
        cs_db_exec(db, SQL_PRODUCT_FIRST_SOLD, "ii", id, (int64_t)cs_instance_simulated(), err) < 0)
        return -1;
    if (rc == 0 && cs_targets_file_product(db, product, CS_M_SOLD, 1, err)) return -1;
    return 0;
}

/* ---- removal from our side (issue 16) ------------------------------------------------------ */

/* columns of SQL_WITHDRAW_ALL */
enum { WA_ID, WA_STATE, WA_API, WA_ITEM, WA_ATTEMPTED, WA_URL };
// clang-format off
static const char SQL_WITHDRAW_ALL[] =
    "SELECT l.id, l.state, m.kind = 'api', l.external_item_id IS NOT NULL,"
    "       l.create_attempted_at IS NOT NULL, l.listing_url IS NOT NULL"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " JOIN marketplaces m ON m.code = l.marketplace_code"
    " WHERE (p.id = ? OR p.household_id = ?)"
    "  AND l.state IN ('draft','queued','submitted','pending_review','live','rejected',"
    "                  'delisted','failed','suspended','pending_verification',"
    "                  'verification_failed')"
    " ORDER BY l.id"
    " FOR UPDATE";
// clang-format on

int cs_listings_withdraw(cs_db *db, int64_t product_id, int64_t household_id,
                         const char *reason_code, const char *reason, const cs_actor *a,
                         cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_WITHDRAW_ALL, "ii", product_id, household_id, err)) return -1;
    int n = 0;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        int64_t id = cs_rows_i64(r, i, WA_ID);
        const char *st = cs_rows_str(r, i, WA_STATE);
        int api = cs_rows_i64(r, i, WA_API) != 0;
        /* never reached the marketplace: no item, no create that may have landed (API); no
           address and no upload sheet handed out (assisted: submitted = the sheet is out) */
        int unsent = !strcmp(st, "draft") ||
                     (api ? !cs_rows_i64(r, i, WA_ITEM) && !cs_rows_i64(r, i, WA_ATTEMPTED)
                          : !cs_rows_i64(r, i, WA_URL) && strcmp(st, "submitted") &&
                                strcmp(st, "live") && strcmp(st, "pending_review"));
        if ((strcmp(st, "draft") &&
             cs_listing_transition(db, id, "withdrawing", reason_code, reason, a, err)) ||
            (unsent && cs_listing_transition(db, id, "withdrawn", reason_code, reason, a, err))) {
            cs_rows_free(r);
            return -1;
        }
        n += !unsent;
    }
    cs_rows_free(r);
    return n;
}
