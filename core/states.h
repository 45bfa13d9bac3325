/* core/states: the only way seller accounts and listings change state. Each transition is
 * checked against the state machine of DESIGN.md and writes its event row in the caller's
 * transaction, together with the dates targets are counted from (first activation of a
 * household's account, first live listing of a product). */
#ifndef CS_STATES_H
#define CS_STATES_H
#include "core/audit.h"
#include "core/db.h"

/* 1 when from → to is allowed. */
int cs_account_transition_allowed(const char *from, const char *to);
int cs_listing_transition_allowed(const char *from, const char *to);

/* Move account/listing `id` to `to` (row locked FOR UPDATE). reason_code and reason may be
 * NULL. A move to the current state is a no-op returning 0 without an event. A forbidden move
 * → CS_E_STATE_TRANSITION naming both states. Must run inside a transaction. */
int cs_account_transition(cs_db *db, int64_t id, const char *to, const char *reason_code,
                          const char *reason, const cs_actor *a, cs_error *err);
int cs_listing_transition(cs_db *db, int64_t id, const char *to, const char *reason_code,
                          const char *reason, const cs_actor *a, cs_error *err);
/* The same for a caller that already holds the listing's row (SELECT … FOR UPDATE in its
 * transaction) and read its state `from` and its product: one read fewer. */
int cs_listing_transition_held(cs_db *db, int64_t id, int64_t product, const char *from,
                               const char *to, const char *reason_code, const char *reason,
                               const cs_actor *a, cs_error *err);
/* Many listings at once, for a caller that holds their rows: every listing of ids_json (a JSON
 * array of listing ids, as text) whose state is `from` moves to `to`, with one event row each,
 * in two statements whatever their number; the others are left as they are. Not for moves to
 * live (those set the product's first dates one by one: cs_listing_transition_held).
 * CS_E_STATE_TRANSITION when from → to is not allowed. Returns how many moved, or -1. Must run
 * inside a transaction. */
int64_t cs_listing_transition_set(cs_db *db, const char *ids_json, const char *from, const char *to,
                                  const char *reason_code, const char *reason, const cs_actor *a,
                                  cs_error *err);
/* Record a sale reported by a marketplace: sets the first sale dates (listing and product)
 * when not yet set. at_utc "YYYY-MM-DD HH:MM:SS" or NULL for now. */
int cs_listing_record_sale(cs_db *db, int64_t id, const char *at_utc, cs_error *err);
/* Removal from our side: every listing of product_id (or of every product of household_id; pass
 * 0 for the other) that may be on a marketplace → withdrawing (the take-down is to be asked of
 * the marketplace or of the volunteer); one that never reached it → withdrawn at once. In the
 * caller's transaction. Returns how many are now withdrawing, or -1. */
int cs_listings_withdraw(cs_db *db, int64_t product_id, int64_t household_id,
                         const char *reason_code, const char *reason, const cs_actor *a,
                         cs_error *err);
#endif
