/* jobs/flows_int: what the files of the marketplace flows (jobs/flows*.c) share — configured
 * marketplaces with their pacing, the per-thread transport, one synchronous call, accounts and
 * their sealed tokens, listing state helpers. Nothing outside jobs/flows*.c includes it. */
#ifndef JOB_FLOWS_INT_H
#define JOB_FLOWS_INT_H
#include "connectors/connector.h"
#include "connectors/registry.h"
#include "core/audit.h"
#include "core/db.h"
#include "jobs/job.h"
#include <stdint.h>

/* A marketplace as the flows use it. */
typedef struct flows_mkt {
    const cx_connector *c;
    cx_market_cfg cfg;
    int enabled;
} flows_mkt;

/* Configured marketplace by canonical code (cached; the marketplaces row read through db). */
const flows_mkt *flows_mkt_get(cs_db *db, const char *code, cs_error *err);

/* Build op, wait for the marketplace's pace, send it on this thread's transport, parse the
 * answer into out. in->mp and in->now_ms are filled here. Returns 0 (out filled), or -1 when
 * the request could not be built (err: validation with fields, configuration) or queued. */
int flows_call(const flows_mkt *m, cx_op op, cx_input *in, cx_outcome *out, cs_error *err);
/* Send a request another module built (the order sync), after the same pace as flows_call, on
 * this thread's transport; done(arg, resp) runs once with the answer before this returns.
 * Returns 0, or -1 when it could not be queued. */
typedef void (*flows_done_fn)(void *arg, const cx_response *resp);
int flows_send(const flows_mkt *m, const cx_request *req, flows_done_fn done, void *arg,
               cs_error *err);
/* Unix time in ms (the connectors' clock). */
long long flows_now_ms(void);

/* A seller account with its tokens opened. Wipe with flows_acct_wipe. */
typedef struct flows_acct {
    int64_t id, household_id;
    char mp[24];
    char state[24];
    char shop_id[128];
    char access[CX_TOKEN_MAX];
    char refresh[CX_TOKEN_MAX];
    unsigned version;
    long long access_left_s; /* seconds until the access token expires; LLONG_MAX unknown */
    cx_account cx;           /* points into this struct */
} flows_acct;
/* Load account id (tokens unsealed). 0, 1 when there is no such row, -1. */
int flows_acct_load(cs_db *db, int64_t id, flows_acct *a, cs_error *err);
void flows_acct_wipe(flows_acct *a);
/* Seal and store the tokens of out (and shop id when given) in the caller's transaction. */
int flows_acct_store_tokens(cs_db *db, int64_t id, const cx_outcome *out, const char *shop_id,
                            cs_error *err);
/* Refresh the tokens of account id under a per-account named lock. seen_version = the version
 * the caller used (0 = none): when another run refreshed meanwhile nothing is sent. Returns 0
 * fresh tokens are stored, 1 the owner must authorise again (the account is token_expired with
 * a new link and reason), -1 transient (err->retry_after may be set). */
int flows_acct_refresh(cs_db *db, const flows_mkt *m, int64_t id, unsigned seen_version,
                       cs_error *err);
/* token_expired (or awaiting_owner if not yet authorised) with a new authorisation link and the
 * reason for the volunteer, in its own transaction. */
int flows_acct_reauthorize(cs_db *db, const flows_mkt *m, int64_t id, const char *why_code,
                           const char *why, cs_error *err);
/* A fresh oauth_state and the authorisation link for it (out 1000 bytes). 0 or -1. */
int flows_auth_link(const flows_mkt *m, char state[44], char *link, size_t n, cs_error *err);

/* The flows' actor for event rows ("system:flows"). */
const cs_actor *flows_actor(void);

/* Listing helpers (jobs/flows_listing.c) used by the webhook and link check. */
/* Apply a marketplace item state to listing id (from any state it can move from), with the
 * reasons of out when rejected. In its own transaction. 0 or -1. */
int flows_listing_apply_state(cs_db *db, int64_t listing_id, const cx_outcome *out, const char *via,
                              cs_error *err);
/* job_retry capped at flows.retry_cap. */
job_outcome flows_retry(job_ctx *ctx, unsigned after_s, const char *what, const cx_outcome *o);

/* listing.publish on an assisted marketplace (jobs/flows_assisted.c): the upload-sheet row is
 * checked and the listing becomes submitted (or rejected with the fields to fix). */
job_outcome flows_publish_file(job_ctx *ctx, const flows_mkt *m, int64_t listing_id);
/* The listing with reasons (rejected), from queued, in its own transaction. */
int flows_listing_reject(cs_db *db, int64_t listing_id, const cx_outcome *o, cs_error *err);

int flows_register_listing_kinds(cs_error *err);
/* Send one request of a connector table beside cx_connector (connectors/catalog.h): build is
 * called after the marketplace's pace with in->mp and in->now_ms set, parse with the answer.
 * 0, or -1 when the request could not be built or queued (err). */
typedef int (*flows_build_fn)(void *arg, const cx_input *in, cx_request *req, cs_error *err);
typedef void (*flows_parse_fn)(void *arg, const cx_input *in, const cx_response *resp);
int flows_call_with(const flows_mkt *m, cx_input *in, flows_build_fn build, flows_parse_fn parse,
                    void *arg, cs_error *err);
/* catalog.refresh (jobs/flows_catalog.c). */
int flows_register_catalog_kinds(cs_error *err);
int flows_register_assisted_kinds(cs_error *err);
int flows_register_recheck_kinds(cs_error *err); /* jobs/flows_recheck.c */
#endif
