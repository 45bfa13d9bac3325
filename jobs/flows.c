/* jobs/flows: the shared machinery of the marketplace flows and the seller-account side —
 * configured marketplaces with a process-wide pace, one transport per worker thread, sealed
 * tokens, onboarding (account.onboard), the OAuth callback, token refresh (account.refresh).
 * It must not build marketplace requests itself (connectors/ do) nor change a state except
 * through core/states. */
#include "jobs/flows.h"
#include "connectors/transport.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/instance.h"
#include "core/lease.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/states.h"
#include "jobs/flows_int.h"
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- marketplaces and their pace ----------------------------------------------------------- */

#define MAX_MKTS 16
struct mkt_slot {
    flows_mkt m;
    char code[24];
    pthread_mutex_t mu; /* guards next_us */
    long long next_us;  /* monotonic µs the next request may start */
    double interval_us;
};
static struct mkt_slot mkts[MAX_MKTS];
static size_t nmkts;
static pthread_mutex_t mkts_mu = PTHREAD_MUTEX_INITIALIZER;

void job_flows_reset(void)
{
    pthread_mutex_lock(&mkts_mu);
    for (size_t i = 0; i < nmkts; i++)
        pthread_mutex_destroy(&mkts[i].mu);
    nmkts = 0;
    pthread_mutex_unlock(&mkts_mu);
}

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long flows_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

// clang-format off
static const char SQL_MARKETPLACE[] =
    "SELECT rate_per_sec, concurrency, enabled"
    " FROM marketplaces"
    " WHERE code = ?";
// clang-format on
/* columns of SQL_MARKETPLACE */
enum { MK_RATE, MK_CONCURRENCY, MK_ENABLED };

const flows_mkt *flows_mkt_get(cs_db *db, const char *code, cs_error *err)
{
    const cx_connector *c = code ? cx_find(code) : NULL;
    if (!c) {
        cs_error_set(err, CS_F_MARKETPLACE, "%.20s", code ? code : "");
        return NULL;
    }
    pthread_mutex_lock(&mkts_mu);
    for (size_t i = 0; i < nmkts; i++)
        if (!strcmp(mkts[i].code, c->code)) {
            pthread_mutex_unlock(&mkts_mu);
            return &mkts[i].m;
        }
    pthread_mutex_unlock(&mkts_mu);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_MARKETPLACE, "s", c->code, err)) return NULL;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        cs_error_set(err, CS_F_MARKETPLACE, "%s is not in the marketplaces table", c->code);
        return NULL;
    }
    double rate = cs_rows_double(r, 0, MK_RATE);
    int conc = (int)cs_rows_i64(r, 0, MK_CONCURRENCY), enabled = cs_rows_i64(r, 0, MK_ENABLED) != 0;
    cs_rows_free(r);
    pthread_mutex_lock(&mkts_mu);
    struct mkt_slot *s = NULL;
    for (size_t i = 0; i < nmkts; i++)
        if (!strcmp(mkts[i].code, c->code)) s = &mkts[i];
    if (!s) {
        if (nmkts == MAX_MKTS) {
            pthread_mutex_unlock(&mkts_mu);
            cs_error_set(err, CS_E_INTERNAL, "too many marketplaces");
            return NULL;
        }
        s = &mkts[nmkts];
        memset(s, 0, sizeof *s);
        if (cx_market_from_config(c, rate, conc, &s->m.cfg, err)) {
            pthread_mutex_unlock(&mkts_mu);
            return NULL;
        }
        snprintf(s->code, sizeof s->code, "%s", c->code);
        s->m.c = c;
        s->m.enabled = enabled;
        pthread_mutex_init(&s->mu, NULL);
        s->interval_us = s->m.cfg.rate_per_sec > 0 ? 1e6 / s->m.cfg.rate_per_sec : 0;
        nmkts++;
    }
    pthread_mutex_unlock(&mkts_mu);
    return &s->m;
}

const cx_market *job_flows_market(cs_db *db, const char *mp, cs_error *err)
{
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    return m ? &m->cfg.m : NULL;
}

/* The cluster's budget (job_flows_share): live workers sharing every marketplace's rate, the
 * time before which no request leaves (a newcomer waits until the others counted it), and the
 * time after which this process may no longer trust its share (its heartbeat stopped: the
 * others may already count it dead). 0 = not a registered worker, the whole rate is ours. */
static atomic_uint share_n = 1;
static atomic_llong share_hold_us, share_valid_us;

void job_flows_share(unsigned live, long long hold_ms, long long valid_ms)
{
    long long now = mono_us();
    atomic_store(&share_n, live ? live : 1);
    if (hold_ms > 0) atomic_store(&share_hold_us, now + hold_ms * 1000);
    atomic_store(&share_valid_us, valid_ms > 0 ? now + valid_ms * 1000 : valid_ms < 0 ? 0 : now);
}

unsigned job_flows_share_of(void)
{
    return atomic_load(&share_n);
}

int job_flows_kinds_call_marketplaces(const char *kinds)
{
    if (!kinds || !*kinds) return 1;
    static const char *const market[] = {"account.", "listing.", "orders."};
    for (const char *p = kinds; *p;) {
        size_t n = strcspn(p, ",");
        for (size_t i = 0; i < sizeof market / sizeof market[0]; i++)
            if (n > strlen(market[i]) && !strncmp(p, market[i], strlen(market[i]))) return 1;
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

/* Sleep while this worker may not spend any budget (held back, or its share is stale). */
static void share_wait(void)
{
    for (;;) {
        long long now = mono_us(), hold = atomic_load(&share_hold_us);
        long long valid = atomic_load(&share_valid_us);
        long long until = hold > now ? hold : 0;
        if (valid && now > valid) until = now + 50000;
        if (!until) return;
        long long d = until - now > 100000 ? 100000 : until - now;
        struct timespec ts = {0, (long)d * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Reserve the next start time of this marketplace and sleep until it: requests of every thread
 * of this process leave at most rate_per_sec ÷ live workers a second, evenly spaced (no burst),
 * so the marketplace's own throttle is not hit while every worker of the cluster is busy. */
static void pace(const flows_mkt *m)
{
    struct mkt_slot *s =
        (struct mkt_slot *)(void *)((char *)(void *)m - offsetof(struct mkt_slot, m));
    if (s->interval_us <= 0) return;
    share_wait();
    pthread_mutex_lock(&s->mu);
    long long now = mono_us();
    long long slot = (long long)(s->interval_us * atomic_load(&share_n));
    /* A slot that passed while no thread was waiting (a slow answer, a database round trip)
     * may still be taken, one at most: the rate is kept over time, never more than one request
     * ahead of the even spacing, instead of every late arrival losing budget for good. */
    long long at = s->next_us > now - slot ? s->next_us : now - slot;
    s->next_us = at + slot;
    pthread_mutex_unlock(&s->mu);
    if (at > now) {
        struct timespec ts = {(time_t)((at - now) / 1000000), (long)((at - now) % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
}

/* ---- one transport per thread -------------------------------------------------------------- */

static pthread_key_t tr_key;
static pthread_once_t tr_once = PTHREAD_ONCE_INIT;

static void tr_free(void *p)
{
    cx_transport_free(p);
}

static void tr_make_key(void)
{
    pthread_key_create(&tr_key, tr_free);
}

static cx_transport *thread_transport(cs_error *err)
{
    pthread_once(&tr_once, tr_make_key);
    cx_transport *t = pthread_getspecific(tr_key);
    if (t) return t;
    if (cx_transport_global_init()) {
        cs_error_set(err, CS_E_INTERNAL, "curl_global_init");
        return NULL;
    }
    cx_transport_cfg cfg;
    cx_transport_cfg_from_config(&cfg);
    t = cx_transport_new(&cfg, err);
    if (t) pthread_setspecific(tr_key, t);
    return t;
}

struct call {
    const cx_connector *c;
    cx_op op;
    const cx_input *in;
    cx_outcome *out;
    int done;
};

static void call_done(void *arg, const cx_request *req, const cx_response *resp)
{
    (void)req;
    struct call *k = arg;
    k->c->parse(k->op, k->in, resp, k->out);
    k->done = 1;
}

int flows_call(const flows_mkt *m, cx_op op, cx_input *in, cx_outcome *out, cs_error *err)
{
    in->mp = &m->cfg.m;
    in->now_ms = flows_now_ms();
    cx_outcome_init(out);
    cx_transport *t = thread_transport(err);
    if (!t) return -1;
    cx_request req;
    cx_request_init(&req);
    if (m->c->build(op, in, &req, err)) {
        cx_request_free(&req);
        return -1;
    }
    /* lanes are per thread; the rate is kept by pace(), the lane caps what is in flight */
    if (cx_transport_lane(t, m->c->code, 0, 1, m->cfg.concurrency > 0 ? m->cfg.concurrency : 8)) {
        cx_request_free(&req);
        return cs_error_set(err, CS_E_NOMEM, "transport lane");
    }
    pace(m);
    in->now_ms = flows_now_ms();
    struct call k = {m->c, op, in, out, 0};
    if (cx_transport_submit(t, m->c->code, &req, call_done, &k, err)) {
        cx_request_free(&req);
        return -1;
    }
    while (!k.done)
        cx_transport_run(t, 0);
    cx_request_free(&req);
    return 0;
}

/* ---- calls of the connector tables beside cx_connector (catalogue, live changes) ---------- */
struct call_with {
    flows_parse_fn parse;
    void *arg;
    const cx_input *in;
    int done;
};

static void call_with_done(void *arg, const cx_request *req, const cx_response *resp)
{
    (void)req;
    struct call_with *k = arg;
    k->parse(k->arg, k->in, resp);
    k->done = 1;
}

int flows_call_with(const flows_mkt *m, cx_input *in, flows_build_fn build, flows_parse_fn parse,
                    void *arg, cs_error *err)
{
    in->mp = &m->cfg.m;
    cx_transport *t = thread_transport(err);
    if (!t) return -1;
    if (cx_transport_lane(t, m->c->code, 0, 1, m->cfg.concurrency > 0 ? m->cfg.concurrency : 8))
        return cs_error_set(err, CS_E_NOMEM, "transport lane");
    pace(m); /* built after the wait, so the signed timestamp is fresh */
    in->now_ms = flows_now_ms();
    cx_request req;
    cx_request_init(&req);
    if (build(arg, in, &req, err)) {
        cx_request_free(&req);
        return -1;
    }
    struct call_with k = {parse, arg, in, 0};
    if (cx_transport_submit(t, m->c->code, &req, call_with_done, &k, err)) {
        cx_request_free(&req);
        return -1;
    }
    while (!k.done)
        cx_transport_run(t, 0);
    cx_request_free(&req);
    return 0;
}

/* ---- accounts and tokens ------------------------------------------------------------------- */

static cs_actor the_actor;
static pthread_once_t actor_once = PTHREAD_ONCE_INIT;
static void actor_init(void)
{
    the_actor = cs_actor_system("flows");
}
const cs_actor *flows_actor(void)
{
    pthread_once(&actor_once, actor_init);
    return &the_actor;
}

static void aad(char *out, size_t n, int64_t id, const char *which)
{
    snprintf(out, n, "seller_accounts.%s:%lld", which, (long long)id);
}

static int unseal_into(const cs_rows *r, unsigned col, int64_t id, const char *which, char *out,
                       size_t n)
{
    out[0] = '\0';
    size_t len = 0;
    const unsigned char *b = cs_rows_blob(r, 0, col, &len);
    if (!b || !len) return 0;
    char ad[64];
    aad(ad, sizeof ad, id, which);
    unsigned char *pt = NULL;
    size_t pl = 0;
    if (cs_unseal(b, len, ad, &pt, &pl)) return -1;
    if (pl >= n) {
        cs_free_secret(pt, pl);
        return -1;
    }
    memcpy(out, pt, pl);
    out[pl] = '\0';
    cs_free_secret(pt, pl);
    return 0;
}

// clang-format off
static const char SQL_ACCOUNT[] =
    "SELECT household_id, marketplace_code, state, external_shop_id, access_token_sealed,"
    "       refresh_token_sealed, version,"
    "       TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), access_expires_at)"
    " FROM seller_accounts"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_ACCOUNT */
enum {
    AC_HOUSEHOLD,
    AC_MP,
    AC_STATE,
    AC_SHOP,
    AC_ACCESS,
    AC_REFRESH,
    AC_VERSION,
    AC_ACCESS_LEFT_S
};

int flows_acct_load(cs_db *db, int64_t id, flows_acct *a, cs_error *err)
{
    memset(a, 0, sizeof *a);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT, "i", id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return 1;
    }
    a->id = id;
    a->household_id = cs_rows_i64(r, 0, AC_HOUSEHOLD);
    snprintf(a->mp, sizeof a->mp, "%s", cs_rows_str(r, 0, AC_MP));
    snprintf(a->state, sizeof a->state, "%s", cs_rows_str(r, 0, AC_STATE));
    snprintf(a->shop_id, sizeof a->shop_id, "%s", cs_rows_str(r, 0, AC_SHOP));
    a->version = (unsigned)cs_rows_i64(r, 0, AC_VERSION);
    a->access_left_s =
        cs_rows_isnull(r, 0, AC_ACCESS_LEFT_S) ? LLONG_MAX : cs_rows_i64(r, 0, AC_ACCESS_LEFT_S);
    int bad = unseal_into(r, AC_ACCESS, id, "access", a->access, sizeof a->access)       ? 1
              : unseal_into(r, AC_REFRESH, id, "refresh", a->refresh, sizeof a->refresh) ? 2
                                                                                         : 0;
    size_t bl = 0;
    const unsigned char *blob =
        bad ? cs_rows_blob(r, 0, bad == 1 ? AC_ACCESS : AC_REFRESH, &bl) : NULL;
    unsigned kid = blob ? cs_sealed_key_id(blob, bl) : 0;
    cs_rows_free(r);
    if (bad) {
        flows_acct_wipe(a);
        /* a key missing from crypto.key_file (rotated away, wrong file): the owner re-authorises */
        return cs_error_set(
            err, CS_E_INTERNAL, "account %lld: sealed %s token unreadable (key id %u, active %u)",
            (long long)id, bad == 1 ? "access" : "refresh", kid, cs_crypto_active_key_id());
    }
    a->cx.shop_id = a->shop_id;
    a->cx.access_token = a->access;
    a->cx.refresh_token = a->refresh;
    return 0;
}

void flows_acct_wipe(flows_acct *a)
{
    explicit_bzero(a, sizeof *a);
}

// clang-format off
static const char SQL_STORE_TOKENS[] =
    "UPDATE seller_accounts"
    " SET access_token_sealed = ?, refresh_token_sealed = ?,"
    "     access_expires_at = IF(? < 0, NULL, UTC_TIMESTAMP() + INTERVAL ? SECOND),"
    "     refresh_expires_at = IF(? < 0, NULL, UTC_TIMESTAMP() + INTERVAL ? SECOND),"
    "     external_shop_id = COALESCE(?, external_shop_id),"
    "     last_error_code = NULL, last_error_message = NULL, version = version + 1"
    " WHERE id = ?";
// clang-format on

int flows_acct_store_tokens(cs_db *db, int64_t id, const cx_outcome *out, const char *shop_id,
                            cs_error *err)
{
    char ad1[64], ad2[64];
    aad(ad1, sizeof ad1, id, "access");
    aad(ad2, sizeof ad2, id, "refresh");
    unsigned char *s1 = NULL, *s2 = NULL;
    size_t l1 = 0, l2 = 0;
    if (cs_seal(out->access_token, strlen(out->access_token), ad1, &s1, &l1) ||
        cs_seal(out->refresh_token, strlen(out->refresh_token), ad2, &s2, &l2)) {
        cs_free(s1);
        return cs_error_set(err, CS_E_INTERNAL, "sealing tokens");
    }
    long long now = flows_now_ms() / 1000;
    int64_t ain = out->access_expires_at > 0 ? (int64_t)(out->access_expires_at - now) : -1;
    int64_t rin = out->refresh_expires_at > 0 ? (int64_t)(out->refresh_expires_at - now) : -1;
    int64_t rc = cs_db_exec(db, SQL_STORE_TOKENS, "bbiiiisi", s1, l1, s2, l2, ain, ain, rin, rin,
                            shop_id && *shop_id ? shop_id : NULL, id, err);
    cs_free(s1);
    cs_free(s2);
    return rc < 0 ? -1 : 0;
}

int flows_auth_link(const flows_mkt *m, char state[44], char *link, size_t n, cs_error *err)
{
    if (cs_random_token(state)) return cs_error_set(err, CS_E_INTERNAL, "random");
    cx_input in;
    memset(&in, 0, sizeof in);
    in.mp = &m->cfg.m;
    in.oauth_state = state;
    in.now_ms = flows_now_ms();
    cx_request req;
    cx_request_init(&req);
    if (m->c->build(CX_OP_AUTHORIZE_LINK, &in, &req, err)) {
        cx_request_free(&req);
        return -1;
    }
    int ok = req.url && strlen(req.url) < n;
    if (ok) snprintf(link, n, "%s", req.url);
    cx_request_free(&req);
    return ok ? 0 : cs_error_set(err, CS_E_INTERNAL, "authorisation link too long");
}

struct reauth {
    int64_t id;
    const char *state, *link, *code, *why;
};

// clang-format off
static const char SQL_ACCOUNT_STATE_LOCK[] =
    "SELECT state"
    " FROM seller_accounts"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_REAUTH[] =
    "UPDATE seller_accounts"
    " SET oauth_state = ?, auth_link = ?, access_token_sealed = NULL,"
    "     last_error_code = ?, last_error_message = ?"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_ACCOUNT_STATE_LOCK */
enum { SL_STATE };

static int reauth_tx(cs_db *db, void *arg, cs_error *err)
{
    struct reauth *x = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_STATE_LOCK, "i", x->id, err)) return -1;
    char st[24] = "";
    if (cs_rows_count(r)) snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, SL_STATE));
    cs_rows_free(r);
    const char *to =
        !strcmp(st, "active") || !strcmp(st, "authorized") || !strcmp(st, "token_expired")
            ? "token_expired"
            : "awaiting_owner";
    if (strcmp(st, to) && !cs_account_transition_allowed(st, to)) return 0;
    if (cs_account_transition(db, x->id, to, x->code, x->why, flows_actor(), err)) return -1;
    return cs_db_exec(db, SQL_REAUTH, "ssssi", x->state, x->link, x->code, x->why, x->id, err) < 0
               ? -1
               : 0;
}

int flows_acct_reauthorize(cs_db *db, const flows_mkt *m, int64_t id, const char *why_code,
                           const char *why, cs_error *err)
{
    char state[44], link[1000];
    if (flows_auth_link(m, state, link, sizeof link, err)) return -1;
    struct reauth x = {id, state, link, why_code, why};
    return cs_db_tx(db, reauth_tx, &x, err);
}

struct store {
    int64_t id;
    const cx_outcome *out;
    const char *shop_id;
};
static int store_tx(cs_db *db, void *arg, cs_error *err)
{
    struct store *s = arg;
    return flows_acct_store_tokens(db, s->id, s->out, s->shop_id, err);
}

#define REAUTH_VI                                                                                                                       \
    "Quyền truy cập cửa hàng đã hết hạn hoặc bị thu hồi; chủ hộ cần mở đường dẫn cấp quyền mới " \
    "trên trang tra cứu để kết nối lại."

static void release_lease(cs_db *db, const char *name)
{
    cs_error e;
    cs_error_clear(&e);
    cs_lease_release(db, name, &e);
}

int flows_acct_refresh(cs_db *db, const flows_mkt *m, int64_t id, unsigned seen_version,
                       cs_error *err)
{
    /* One refresh per account at a time on the whole cluster (the refresh token is single
     * use): a lease row, since a named lock would only exclude on one Galera node. Its 120 s
     * outlast the marketplace call's timeouts; a crashed holder frees it by expiry. */
    char lock[48];
    snprintf(lock, sizeof lock, "ar.%lld", (long long)id);
    int got = cs_lease_wait(db, lock, 120, 30, err);
    if (got <= 0) {
        if (got == 0)
            cs_error_set(err, CS_E_MP_UNAVAILABLE, "refresh of account %lld busy", (long long)id);
        err->retry_after = 2;
        return -1;
    }
    flows_acct a;
    int rc = flows_acct_load(db, id, &a, err);
    if (rc) {
        release_lease(db, lock);
        if (rc == 1) cs_error_set(err, CS_E_NOT_FOUND, "account %lld", (long long)id);
        return -1;
    }
    if (seen_version && a.version != seen_version && !strcmp(a.state, "active")) {
        /* another run refreshed (or re-authorised) while we waited for the lock */
        flows_acct_wipe(&a);
        release_lease(db, lock);
        return 0;
    }
    if (strcmp(a.state, "active") && strcmp(a.state, "authorized")) {
        flows_acct_wipe(&a);
        release_lease(db, lock);
        return 1;
    }
    cx_input in;
    memset(&in, 0, sizeof in);
    in.account = &a.cx;
    cx_outcome out;
    rc = flows_call(m, CX_OP_TOKEN_REFRESH, &in, &out, err);
    int result;
    if (rc) {
        /* nothing to refresh with (no refresh token, no shop id): only the owner can fix it */
        result = err->code == CS_E_MP_REAUTHORIZE ? 1 : -1;
        if (result == 1)
            rc = flows_acct_reauthorize(db, m, id, "refresh_impossible", REAUTH_VI, err);
    } else if (out.result == CX_OK) {
        /* the new single-use refresh token is stored in the same transaction as the access
         * token: a crash between the call and this commit loses both, which the owner fixes by
         * authorising again — never a half-updated pair */
        struct store s = {id, &out, out.shop_id[0] ? out.shop_id : NULL};
        result = cs_db_tx(db, store_tx, &s, err) ? -1 : 0;
    } else if (out.result == CX_RETRY) {
        cs_error_set(err, CS_E_MP_UNAVAILABLE, "refresh: %s", out.error_code);
        err->retry_after = out.retry_after;
        result = -1;
    } else {
        char why[400];
        snprintf(why, sizeof why, "%s (%s)", REAUTH_VI, out.error_code);
        result = flows_acct_reauthorize(db, m, id, "reauthorize", why, err) ? -1 : 1;
    }
    cx_outcome_wipe(&out);
    flows_acct_wipe(&a);
    release_lease(db, lock);
    if (result == 0) cs_info("flows.token_refreshed", "account %lld", (long long)id);
    return result;
}

/* ---- onboarding -------------------------------------------------------------------------- */

struct start {
    int64_t hh;
    const char *mp;
    const cs_actor *a;
    int64_t account;
    int existed;
};

// clang-format off
static const char SQL_ACCOUNT_ADD[] =
    "INSERT IGNORE INTO seller_accounts (household_id, marketplace_code, env)"
    " VALUES (?, ?, ?)";
static const char SQL_ACCOUNT_OF_LOCK[] =
    "SELECT id, state"
    " FROM seller_accounts"
    " WHERE household_id = ? AND marketplace_code = ?"
    " FOR UPDATE";
// clang-format on
/* columns of SQL_ACCOUNT_OF_LOCK */
enum { AO_ID, AO_STATE };

static int start_tx(cs_db *db, void *arg, cs_error *err)
{
    struct start *s = arg;
    s->existed = 0;
    /* the environment it is made in (issue 12): recorded once, never rewritten */
    if (cs_db_exec(db, SQL_ACCOUNT_ADD, "iss", s->hh, s->mp, cs_marketplace_env(s->mp), err) < 0)
        return -1;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_OF_LOCK, "is", s->hh, s->mp, err)) return -1;
    s->account = cs_rows_i64(r, 0, AO_ID);
    const char *st = cs_rows_str(r, 0, AO_STATE);
    int go = !strcmp(st, "not_started") || !strcmp(st, "rejected") || !strcmp(st, "token_expired");
    cs_rows_free(r);
    if (!go) {
        s->existed = 1;
        return 0;
    }
    char payload[64], key[64];
    snprintf(payload, sizeof payload, "{\"account_id\":%lld}", (long long)s->account);
    snprintf(key, sizeof key, "onboard:%lld", (long long)s->account);
    job_opts o = {.unique_key = key};
    int64_t jid;
    if (job_enqueue(db, "account.onboard", payload, &o, &jid, err) < 0) return -1;
    char detail[64];
    snprintf(detail, sizeof detail, "%lld", (long long)s->account);
    return cs_audit(db, s->a, "account.onboard", "seller_account", detail, NULL, err);
}

int job_flows_start_onboarding(cs_db *db, int64_t household_id, const char *mp, const cs_actor *a,
                               int64_t *account_id, cs_error *err)
{
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (!m->enabled) return cs_error_field(err, "marketplace", CS_F_MARKETPLACE, "disabled");
    struct start s = {household_id, m->c->code, a, 0, 0};
    if (cs_db_tx(db, start_tx, &s, err)) return -1;
    if (account_id) *account_id = s.account;
    return s.existed;
}

struct onboard {
    int64_t id;
    const char *state, *link;
    int assisted;
};

// clang-format off
static const char SQL_AUTH_LINK[] =
    "UPDATE seller_accounts"
    " SET oauth_state = ?, auth_link = ?"
    " WHERE id = ?";
static const char SQL_ACCOUNT_MP[] =
    "SELECT marketplace_code"
    " FROM seller_accounts"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_ACCOUNT_MP */
enum { AM_MP };

static int onboard_tx(cs_db *db, void *arg, cs_error *err)
{
    struct onboard *o = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_STATE_LOCK, "i", o->id, err)) return -1;
    char st[24] = "";
    if (cs_rows_count(r)) snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, SL_STATE));
    cs_rows_free(r);
    if (strcmp(st, "not_started") && strcmp(st, "rejected") && strcmp(st, "token_expired"))
        return 0;
    if (o->assisted)
        return cs_account_transition(db, o->id, "awaiting_owner", "registration_pack",
                                     "Hồ sơ đăng ký người bán đã sẵn sàng để in và mang tới chủ hộ",
                                     flows_actor(), err);
    if (cs_db_exec(db, SQL_AUTH_LINK, "ssi", o->state, o->link, o->id, err) < 0) return -1;
    /* token_expired keeps its state (the status page shows the new link there too) */
    if (!strcmp(st, "token_expired")) return 0;
    return cs_account_transition(db, o->id, "awaiting_owner", "auth_link",
                                 "Đường dẫn cấp quyền cửa hàng đã sẵn sàng cho chủ hộ",
                                 flows_actor(), err);
}

static job_outcome h_onboard(job_ctx *ctx)
{
    int64_t id = json_integer_value(json_object_get(ctx->args, "account_id"));
    if (id <= 0) return job_fail(ctx, "payload.account_id missing");
    cs_error err;
    cs_error_clear(&err);
    cs_rows *r = NULL;
    if (cs_db_query(ctx->db, &r, SQL_ACCOUNT_MP, "i", id, &err))
        return job_retry(ctx, 0, "load account: %s", cs_code_name(err.code));
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return job_fail(ctx, "account %lld does not exist", (long long)id);
    }
    char mp[24];
    snprintf(mp, sizeof mp, "%s", cs_rows_str(r, 0, AM_MP));
    cs_rows_free(r);
    const flows_mkt *m = flows_mkt_get(ctx->db, mp, &err);
    if (!m) return job_fail(ctx, "marketplace %s: %s", mp, cs_code_name(err.code));
    struct onboard o = {id, NULL, NULL, m->c->kind == CX_KIND_FILE};
    char state[44], link[1000];
    if (!o.assisted) {
        if (flows_auth_link(m, state, link, sizeof link, &err))
            return job_fail(ctx, "authorisation link: %s %s", cs_code_name(err.code), err.detail);
        o.state = state;
        o.link = link;
    }
    if (cs_db_tx(ctx->db, onboard_tx, &o, &err))
        return job_retry(ctx, 0, "onboard: %s", cs_code_name(err.code));
    return JOB_OK;
}

/* ---- the OAuth callback -------------------------------------------------------------------- */

struct cb_find {
    const char *mp, *state, *shop_id;
    int64_t id;
};

// clang-format off
static const char SQL_CB_BY_STATE[] =
    "SELECT id, state"
    " FROM seller_accounts"
    " WHERE oauth_state = ? AND marketplace_code = ?"
    " FOR UPDATE";
static const char SQL_CB_BY_SHOP[] =
    "SELECT id, state"
    " FROM seller_accounts"
    " WHERE marketplace_code = ? AND external_shop_id = ?"
    "   AND state IN ('awaiting_owner','token_expired')"
    " FOR UPDATE";
static const char SQL_SHOP_SET[] =
    "UPDATE seller_accounts"
    " SET external_shop_id = ?"
    " WHERE id = ?";
static const char SQL_AUTH_CLEAR[] =
    "UPDATE seller_accounts"
    " SET oauth_state = NULL, auth_link = NULL"
    " WHERE id = ?";
/* TikTok: the shop id its webhooks carry (migration 094) */
static const char SQL_PUSH_SHOP[] =
    "UPDATE seller_accounts"
    " SET push_shop_id = ?"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_CB_BY_STATE and SQL_CB_BY_SHOP */
enum { CB_ID, CB_STATE };

static int cb_find_tx(cs_db *db, void *arg, cs_error *err)
{
    struct cb_find *f = arg;
    cs_rows *r = NULL;
    int rc;
    if (f->state && *f->state)
        rc = cs_db_query(db, &r, SQL_CB_BY_STATE, "ss", f->state, f->mp, err);
    else /* Shopee without our state: the pending account already known by this shop id */
        rc = cs_db_query(db, &r, SQL_CB_BY_SHOP, "ss", f->mp, f->shop_id, err);
    if (rc) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "no account waits for this authorisation");
    }
    f->id = cs_rows_i64(r, 0, CB_ID);
    const char *st = cs_rows_str(r, 0, CB_STATE);
    int ok = !strcmp(st, "awaiting_owner") || !strcmp(st, "token_expired");
    cs_rows_free(r);
    if (!ok) return cs_error_set(err, CS_E_NOT_FOUND, "authorisation already used");
    if (f->shop_id && *f->shop_id && cs_db_exec(db, SQL_SHOP_SET, "si", f->shop_id, f->id, err) < 0)
        return -1;
    return 0;
}

struct cb_done {
    int64_t id;
    const cx_outcome *tok;
    const char *shop_id;
    int active;
    const char *push_shop; /* NULL: none given */
};

static int cb_done_tx(cs_db *db, void *arg, cs_error *err)
{
    struct cb_done *d = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_STATE_LOCK, "i", d->id, err)) return -1;
    int ok = cs_rows_count(r) && (!strcmp(cs_rows_str(r, 0, SL_STATE), "awaiting_owner") ||
                                  !strcmp(cs_rows_str(r, 0, SL_STATE), "token_expired"));
    cs_rows_free(r);
    if (!ok) return cs_error_set(err, CS_E_NOT_FOUND, "authorisation already used");
    if (flows_acct_store_tokens(db, d->id, d->tok, d->shop_id, err) ||
        cs_db_exec(db, SQL_AUTH_CLEAR, "i", d->id, err) < 0 ||
        (d->push_shop && cs_db_exec(db, SQL_PUSH_SHOP, "si", d->push_shop, d->id, err) < 0) ||
        cs_account_transition(db, d->id, "authorized", "oauth", "Chủ hộ đã cấp quyền cho cửa hàng",
                              flows_actor(), err))
        return -1;
    if (!d->active) return 0;
    return cs_account_transition(db, d->id, "active", "shop_confirmed",
                                 "Đã xác nhận thông tin cửa hàng trên sàn", flows_actor(), err);
}

int job_flows_oauth_callback(cs_db *db, const char *mp, const char *state, const char *code,
                             const char *shop_id, char shop_name[128], cs_error *err)
{
    if (shop_name) shop_name[0] = '\0';
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (m->c->kind != CX_KIND_API)
        return cs_error_set(err, CS_E_NOT_FOUND, "%s has no OAuth", m->c->code);
    if (!code || !*code) return cs_error_field(err, "code", CS_F_REQUIRED, NULL);
    int shopee = !strcmp(m->c->code, "shopee");
    if (shopee && (!shop_id || !*shop_id))
        return cs_error_field(err, "shop_id", CS_F_REQUIRED, NULL);
    if (!shopee && (!state || !*state)) return cs_error_field(err, "state", CS_F_REQUIRED, NULL);
    struct cb_find f = {m->c->code, state, shopee ? shop_id : NULL, 0};
    if (cs_db_tx(db, cb_find_tx, &f, err)) return -1;
    cx_account acc = {shopee ? shop_id : "", "", ""};
    cx_input in;
    memset(&in, 0, sizeof in);
    in.account = &acc;
    in.auth_code = code;
    cx_outcome tok, shop;
    cx_outcome_init(&shop);
    if (flows_call(m, CX_OP_TOKEN_EXCHANGE, &in, &tok, err)) return -1;
    int rc = -1;
    if (tok.result != CX_OK) {
        cs_error_set(err, tok.result == CX_RETRY ? CS_E_MP_UNAVAILABLE : CS_E_MP_REAUTHORIZE,
                     "token exchange: %s", tok.error_code);
        goto out;
    }
    char sid[128];
    snprintf(sid, sizeof sid, "%s", tok.shop_id[0] ? tok.shop_id : shopee ? shop_id : "");
    int active = sid[0] != '\0';
    if (m->c->ops & CX_OPBIT(CX_OP_GET_SHOP)) {
        /* TikTok: the shop cipher every later call needs comes from get_shop */
        cx_account a2 = {sid, tok.access_token, tok.refresh_token};
        in.account = &a2;
        in.auth_code = NULL;
        if (flows_call(m, CX_OP_GET_SHOP, &in, &shop, err) == 0 && shop.result == CX_OK &&
            shop.shop_id[0]) {
            snprintf(sid, sizeof sid, "%s", shop.shop_id);
            if (shop_name) snprintf(shop_name, 128, "%s", shop.shop_name);
            active = 1;
        } else {
            active = 0;
        }
    }
    struct cb_done d = {f.id, &tok, sid[0] ? sid : NULL, active,
                        shop.shop_ref[0] ? shop.shop_ref : NULL};
    rc = cs_db_tx(db, cb_done_tx, &d, err);
    if (!rc) cs_info("flows.account_authorized", "account %lld on %s", (long long)f.id, m->c->code);
out:
    cx_outcome_wipe(&tok);
    cx_outcome_wipe(&shop);
    return rc;
}

/* ---- account.refresh ----------------------------------------------------------------------- */

// clang-format off
static const char SQL_REFRESH_ONE[] =
    "SELECT id, marketplace_code, version"
    " FROM seller_accounts"
    " WHERE id = ?";
static const char SQL_REFRESH_DUE[] =
    "SELECT a.id, a.marketplace_code, a.version"
    " FROM seller_accounts a"
    " JOIN marketplaces m ON m.code = a.marketplace_code AND m.kind = 'api'"
    " WHERE a.state = 'active' AND a.access_expires_at IS NOT NULL"
    "   AND a.access_expires_at < UTC_TIMESTAMP() + INTERVAL ? SECOND"
    " ORDER BY a.access_expires_at"
    " LIMIT ?";
// clang-format on
/* columns of SQL_REFRESH_ONE and SQL_REFRESH_DUE */
enum { RF_ID, RF_MP, RF_VERSION };

static job_outcome h_refresh(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t one = json_integer_value(json_object_get(ctx->args, "account_id"));
    cs_rows *r = NULL;
    int rc;
    if (one > 0)
        rc = cs_db_query(ctx->db, &r, SQL_REFRESH_ONE, "i", one, &err);
    else
        rc = cs_db_query(ctx->db, &r, SQL_REFRESH_DUE, "ii",
                         (int64_t)cs_cfg_int("flows.refresh_margin"),
                         (int64_t)cs_cfg_int("flows.batch"), &err);
    if (rc) return job_retry(ctx, 0, "accounts to refresh: %s", cs_code_name(err.code));
    unsigned failed = 0, retry_after = 0;
    for (size_t i = 0; i < cs_rows_count(r) && !job_should_stop(ctx); i++) {
        const flows_mkt *m = flows_mkt_get(ctx->db, cs_rows_str(r, i, RF_MP), &err);
        if (!m) continue;
        cs_error_clear(&err);
        if (flows_acct_refresh(ctx->db, m, cs_rows_i64(r, i, RF_ID),
                               (unsigned)cs_rows_i64(r, i, RF_VERSION), &err) < 0) {
            failed++;
            if ((unsigned)err.retry_after > retry_after) retry_after = (unsigned)err.retry_after;
        }
    }
    cs_rows_free(r);
    /* a sweep that failed for some accounts leaves them to the next tick; a one-account refresh
       retries */
    if (one > 0 && failed)
        return job_retry(ctx, retry_after, "refresh failed: %s", cs_code_name(err.code));
    return JOB_OK;
}

/* ---- registration ------------------------------------------------------------------------ */

int job_flows_register(cs_error *err)
{
    if (cx_transport_global_init()) return cs_error_set(err, CS_E_INTERNAL, "curl_global_init");
    if (job_register("account.onboard", h_onboard, NULL, err) ||
        job_register("account.refresh", h_refresh, NULL, err) ||
        job_schedule_every("account.refresh", (unsigned)cs_cfg_int("flows.refresh_period"), "{}",
                           err) ||
        flows_register_listing_kinds(err) || flows_register_assisted_kinds(err) ||
        flows_register_catalog_kinds(err) || flows_register_recheck_kinds(err))
        return -1;
    return 0;
}

/* ---- a request built elsewhere (jobs/orders.c) --------------------------------------------- */

struct raw_call {
    flows_done_fn done;
    void *arg;
    int finished;
};

static void raw_done(void *arg, const cx_request *req, const cx_response *resp)
{
    (void)req;
    struct raw_call *k = arg;
    k->done(k->arg, resp);
    k->finished = 1;
}

int flows_send(const flows_mkt *m, const cx_request *req, flows_done_fn done, void *arg,
               cs_error *err)
{
    cx_transport *t = thread_transport(err);
    if (!t) return -1;
    if (cx_transport_lane(t, m->c->code, 0, 1, m->cfg.concurrency > 0 ? m->cfg.concurrency : 8))
        return cs_error_set(err, CS_E_NOMEM, "transport lane");
    pace(m); /* the same per-marketplace budget as publishing */
    struct raw_call k = {done, arg, 0};
    if (cx_transport_submit(t, m->c->code, req, raw_done, &k, err)) return -1;
    while (!k.finished)
        cx_transport_run(t, 0);
    return 0;
}
