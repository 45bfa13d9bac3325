/* jobs/flows: the marketplace flows — onboarding a household's seller account, publishing a
 * product as a listing, keeping tokens fresh, following review — as job handlers plus the few
 * entry points the HTTP handlers call (OAuth callback, webhooks, confirmations). It talks to
 * marketplaces only through connectors/ (pure) and connectors/transport (I/O), and changes
 * account/listing states only through core/states.
 *
 * Kinds (registered by job_flows_register from job_register_all):
 *   account.onboard   {"account_id"}   authorisation link (API) or registration pack (assisted)
 *   account.refresh   scheduled / {"account_id"}  refresh tokens before they expire
 *   listing.publish   {"listing_id"}   map → images → create with SKU "CS-<id>" (adopt on doubt)
 *   listing.update    {"listing_id"}   send changed content of a live item (skip same hash)
 *   listing.sync      {"listing_id"}   send price and stock when they differ from those last sent
 *   listing.withdraw  {"listing_id"}   take a withdrawing item down (unlist/remove/deactivate)
 *   listing.status    {"listing_id"}   one status look-up of a submitted/pending item
 *   listing.poll      scheduled        enqueue listing.status for items waiting on review
 *   listing.linkcheck scheduled / {"listing_id"}  fetch confirmed assisted URLs
 *
 * Threads: every worker thread keeps its own cx_transport (connectors/transport.h); requests
 * to one marketplace are paced by a process-wide limiter at that marketplace's rate. */
#ifndef JOB_FLOWS_H
#define JOB_FLOWS_H
#include "connectors/connector.h"
#include "core/audit.h"
#include "core/db.h"
#include "core/errors.h"
#include <jansson.h>
#include <stdint.h>

/* The cluster's one budget per marketplace (jobs/members): this worker paces every
 * marketplace at rate ÷ `live`; no request leaves for hold_ms (> 0: a newcomer waits until the
 * others counted it); the share is trusted for valid_ms (0: from now on nothing leaves until
 * the next call; -1: always — a process that is not a registered worker). */
void job_flows_share(unsigned live, long long hold_ms, long long valid_ms);
unsigned job_flows_share_of(void);
/* 1 when a claim filter (comma-separated kinds, "" = every kind) includes a kind that calls
 * marketplaces (account.*, listing.*, orders.*): such a worker shares the budget. */
int job_flows_kinds_call_marketplaces(const char *kinds_csv);

/* Register the kinds above and the schedules (account.refresh, listing.poll,
 * listing.linkcheck; periods from flows.* settings). 0 or -1. */
int job_flows_register(cs_error *err);

/* Forget the cached marketplace settings and limiters (tests that change configuration). Not
 * thread-safe: call while no flow runs. */
void job_flows_reset(void);

/* ---- what the API calls ----------------------------------------------------------------- */

/* Start onboarding household_id onto marketplace `mp` (canonical code): the seller_accounts row
 * (not_started) and job account.onboard, in one transaction. An existing account in
 * not_started/rejected/token_expired gets a new job; any other state is returned as it is.
 * *account_id receives the row. Returns 0 created/queued, 1 already there, -1 with err. */
int job_flows_start_onboarding(cs_db *db, int64_t household_id, const char *mp, const cs_actor *a,
                               int64_t *account_id, cs_error *err);

/* The OAuth callback of marketplace `mp`: the account bound to `state` (Shopee: or the pending
 * account of shop_id), the code exchanged for tokens (sealed), the shop confirmed, the account
 * authorized → active. *shop_name (may be NULL, 128 bytes) receives what to show. Returns 0, or
 * -1 with err (CS_E_NOT_FOUND for an unknown/used state, CS_E_MP_* for marketplace trouble). */
int job_flows_oauth_callback(cs_db *db, const char *mp, const char *state, const char *code,
                             const char *shop_id, char shop_name[128], cs_error *err);

/* A push notification of `mp` (raw body + Authorization header): verified with the connector
 * (CS_E_UNAUTHENTICATED when the signature is wrong), deduplicated by its digest, then the
 * listing it names moves to live/rejected/delisted. Returns 0 (also for a duplicate or an item
 * we do not know), -1 with err. */
/* Look at every live and suspended API listing of account_id again now, on this thread (tests,
 * the benchmark; the worker runs it as listing.recheck): each status the marketplace reports
 * goes through the state machine, first dates kept. 0 done, 1 the marketplace asked to wait
 * (err says why), -1. *requests (may be NULL) = the requests it made. */
int job_flows_recheck_account(cs_db *db, int64_t account_id, int64_t *requests, cs_error *err);
int job_flows_webhook(cs_db *db, const char *mp, const void *body, size_t len,
                      const char *authorization, cs_error *err);

/* Publish product_id on each of the n marketplaces: every one checked first (known, active
 * account of the household — else a field error "marketplaces" naming it —, category mapped),
 * then one listing row per marketplace (draft → queued) and job listing.publish (unique key
 * "publish:<listing id>"), all in one transaction. *out receives [{listing_id, marketplace,
 * state, job_id}] (caller decrefs). Returns 0 or -1. */
int job_flows_publish(cs_db *db, int64_t product_id, const char *const *mps, size_t n,
                      const cs_actor *a, json_t **out, cs_error *err);

/* As job_flows_publish, but each marketplace stands alone: those that pass are published, and
 * *refused receives [{marketplace, errors: [{field, code, detail}]}] for those that do not
 * (caller decrefs both). The whole request is still refused (-1, err as above) when no
 * marketplace passes or one is listed twice. */
int job_flows_publish_each(cs_db *db, int64_t product_id, const char *const *mps, size_t n,
                           const cs_actor *a, json_t **out, json_t **refused, cs_error *err);

/* Publish many products on one marketplace at once (a publish run): each product is checked as
 * job_flows_publish checks it (known and active, an active account of its household there, a
 * mapped category), then those that pass get their listings (draft → queued) and jobs
 * listing.publish (unique key "publish:<listing id>") in one transaction of a few statements
 * whatever their number — a run of thousands queues in seconds, also on a cluster — with one
 * audit row ("listing.publish_batch", entity the marketplace). n ≤ JOB_FLOWS_BATCH_MAX.
 * *out receives [{product_id, listing_id, state}] for those queued, *refused
 * [{product_id, code, detail}] for the others (caller decrefs both). Returns 0, or -1 with err
 * (an unknown marketplace, too many products, the database). */
#define JOB_FLOWS_BATCH_MAX 500
int job_flows_publish_batch(cs_db *db, const int64_t *products, size_t n, const char *mp,
                            const cs_actor *a, json_t **out, json_t **refused, cs_error *err);

/* Republish after a fix: rejected/failed/delisted → queued + job. CS_E_STATE_TRANSITION in
 * other states. *job_id receives the job. */
int job_flows_republish(cs_db *db, int64_t listing_id, const cs_actor *a, int64_t *job_id,
                        cs_error *err);

/* A product's content changed: job listing.update for each of its live listings on API
 * marketplaces (unique key "update:<listing id>"), and listing.sync ("sync:<listing id>") for
 * each queued, submitted, under review or live one. Runs in the caller's transaction if one is
 * open. Returns the number of jobs queued, or -1. */
int job_flows_product_changed(cs_db *db, int64_t product_id, cs_error *err);

/* Removal from our side (listings already moved to withdrawing by core/states.h
 * cs_listings_withdraw): job listing.withdraw for every API listing in withdrawing (unique key
 * "withdraw:<listing id>"; listing.poll asks again for any left). Returns how many were queued,
 * or -1. */
int job_flows_withdrawals(cs_db *db, cs_error *err);
/* Assisted marketplaces: the volunteer took listing_id down by hand (withdrawing → withdrawn;
 * CS_E_STATE_TRANSITION from another state or on an API marketplace). */
int job_flows_confirm_withdrawn(cs_db *db, int64_t listing_id, const cs_actor *a, cs_error *err);

/* Assisted marketplaces: the volunteer confirms the shop (account → pending_verification with
 * shop_url; job account.verify fetches the page and moves it to active when it shows shop_name —
 * NULL: the household's business name — or verification_failed with the reason in Vietnamese)
 * or a listing (listing_url stored, listing → pending_verification, then listing.linkcheck
 * fetches it: live when the page shows the product name). URLs are checked against the
 * marketplace's domain (field error on shop_url / listing_url: url_invalid) and belong to one
 * shop / one listing per marketplace (url_taken). */
int job_flows_confirm_shop(cs_db *db, int64_t account_id, const char *shop_url,
                           const char *shop_name, const cs_actor *a, cs_error *err);
int job_flows_confirm_listing(cs_db *db, int64_t listing_id, const char *listing_url,
                              const cs_actor *a, cs_error *err);

/* Assisted marketplaces: the product's upload sheet (header row + one row, columns from
 * schemas/data/upload_layout_<mp>.csv) as CSV (UTF-8 with BOM) or XLSX; *data owned (cs_free).
 * And the household's registration pack as JSON (cx_pack_json; personal data: free with
 * cs_free_secret(*json, *len)). 0 or -1. */
int job_flows_sheet(cs_db *db, int64_t product_id, const char *mp, int xlsx, char **data,
                    size_t *len, cs_error *err);
int job_flows_pack(cs_db *db, const char *household_code, const char *mp, char **json, size_t *len,
                   cs_error *err);
/* The pack JSON as a printable XLSX (*data owned, cs_free). 0 or -1. */
int job_flows_pack_xlsx(const char *json, size_t jlen, char **data, size_t *len, cs_error *err);

/* The cx_market of a marketplace as configured (pointers valid until job_flows_reset). NULL
 * with err (CS_F_MARKETPLACE) when unknown or disabled. */
const cx_market *job_flows_market(cs_db *db, const char *mp, cs_error *err);
#endif
