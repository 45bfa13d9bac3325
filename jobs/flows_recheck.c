/* jobs/flows_recheck: listing.recheck — every live (or suspended) API listing is looked at again
 * on a schedule, so a ban, a deletion or an unlisting the marketplace never pushed still reaches
 * the listing. Talks to marketplaces only through the connectors' re-check operations
 * (connectors/recheck.h) and flows_send, the per-marketplace pace publishing uses.
 *
 * The sweep (every flows.recheck_period) queues one job per account with a listing not looked
 * at for flows.recheck_age seconds, oldest first; the job reads the account's items in as few
 * requests as the marketplace allows — Shopee 50 item ids a request, Lazada and TikTok the
 * shop's product list page by page — and applies each status through the listing state machine
 * (flows_listing_apply_state: first dates kept). Every listing it covered is stamped. */
#include "connectors/recheck.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/flows.h"
#include "jobs/flows_int.h"
#include "jobs/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "listing.recheck"

// clang-format off
static const char SQL_DUE_ACCOUNTS[] =
    "SELECT l.account_id"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'api'"
    " WHERE l.state IN ('live','suspended') AND l.external_item_id IS NOT NULL"
    "   AND l.account_id IS NOT NULL"
    "   AND (l.last_checked_at IS NULL OR l.last_checked_at < UTC_TIMESTAMP() - INTERVAL ? SECOND)"
    " GROUP BY l.account_id"
    " ORDER BY MIN(COALESCE(l.last_checked_at, '1970-01-01'))"
    " LIMIT ?";
static const char SQL_ACCOUNT_LISTINGS[] =
    "SELECT id, external_item_id, listing_url IS NULL"
    " FROM listings"
    " WHERE account_id = ? AND state IN ('live','suspended') AND external_item_id IS NOT NULL"
    " ORDER BY id";
static const char SQL_STAMP[] =
    "UPDATE listings"
    " SET last_checked_at = UTC_TIMESTAMP()"
    " WHERE id = ?";
static const char SQL_URL_FILL[] =
    "UPDATE listings"
    " SET listing_url = ?"
    " WHERE id = ? AND listing_url IS NULL";
// clang-format on
/* columns of SQL_DUE_ACCOUNTS */
enum { DA_ACCOUNT };
/* columns of SQL_ACCOUNT_LISTINGS */
enum { AL_ID, AL_ITEM, AL_NO_URL };

struct exch {
    const cx_recheck_ops *ops;
    const cx_input *in;
    const cx_recheck_query *q;
    cx_outcome *out;
    cx_recheck_page *page;
};

static void exch_done(void *arg, const cx_response *resp)
{
    struct exch *x = arg;
    x->ops->parse(x->in, x->q, resp, x->out, x->page);
}

/* One request at the marketplace's pace: 0 with out/page filled, -1 (err). */
static int call(const flows_mkt *m, const cx_recheck_ops *ops, cx_input *in,
                const cx_recheck_query *q, cx_outcome *out, cx_recheck_page *page, cs_error *err)
{
    in->mp = &m->cfg.m;
    in->now_ms = flows_now_ms();
    cx_request req;
    cx_request_init(&req);
    memset(page, 0, sizeof *page);
    cx_outcome_init(out);
    if (ops->build(in, q, &req, err)) {
        cx_request_free(&req);
        return -1;
    }
    struct exch x = {ops, in, q, out, page};
    int rc = flows_send(m, &req, exch_done, &x, err);
    cx_request_free(&req);
    return rc;
}

/* What one listing gets: the item as seen (NULL: absent from a complete walk — gone). */
static int apply_one(cs_db *db, const flows_mkt *m, int64_t id, int no_url, const cx_item_seen *s,
                     cs_error *err)
{
    cx_outcome o;
    cx_outcome_init(&o);
    if (!s) {
        o.state = CX_ITEM_DELISTED;
    } else {
        o.state = s->state;
        if (s->state == CX_ITEM_REJECTED) {
            char vi[320], en[320];
            snprintf(vi, sizeof vi,
                     "%s đã khoá sản phẩm đang bán (%s)%s%.150s; xem lý do trong kênh người bán, "
                     "sửa nội dung rồi bấm Đăng lại.",
                     m->c->display_name, s->status, s->reason[0] ? ": " : "", s->reason);
            snprintf(en, sizeof en, "%s took the live item down (%s)%s%.150s", m->c->display_name,
                     s->status, s->reason[0] ? ": " : "", s->reason);
            cx_outcome_reject(&o, "", s->status[0] ? s->status : "banned", vi, en);
            o.result = CX_OK;
        }
        if (no_url && s->url[0] && cs_db_exec(db, SQL_URL_FILL, "si", s->url, id, err) < 0)
            return -1;
    }
    /* a status we do not know changes nothing (and is looked at again next time) */
    if (o.state != CX_ITEM_UNKNOWN && flows_listing_apply_state(db, id, &o, "recheck", err))
        return -1;
    return cs_db_exec(db, SQL_STAMP, "i", id, err) < 0 ? -1 : 0;
}

static const cx_item_seen *find(const cx_recheck_page *seen, const char *item)
{
    for (size_t i = 0; i < seen->n; i++)
        if (!strcmp(seen->items[i].item_id, item)) return &seen->items[i];
    return NULL;
}

/* 0 done, 1 retry after *ra seconds, -1 err. *requests counts the calls made. */
static int recheck_account(cs_db *db, int64_t account_id, unsigned *ra, int64_t *requests,
                           cs_error *err)
{
    flows_acct a;
    int rc = flows_acct_load(db, account_id, &a, err);
    if (rc) return rc < 0 ? -1 : 0;
    const cx_recheck_ops *ops = cx_recheck_for(a.mp);
    const flows_mkt *m = ops ? flows_mkt_get(db, a.mp, err) : NULL;
    if (!ops || strcmp(a.state, "active") || !m || !m->enabled) {
        flows_acct_wipe(&a); /* the account's own flows deal with it; nothing to read here */
        return 0;
    }
    cs_rows *r = NULL;
    cx_recheck_page seen;
    memset(&seen, 0, sizeof seen);
    if (cs_db_query(db, &r, SQL_ACCOUNT_LISTINGS, "i", account_id, err)) {
        flows_acct_wipe(&a);
        return -1;
    }
    size_t n = cs_rows_count(r);
    cx_input in = {.account = &a.cx};
    cx_outcome out;
    cx_outcome_init(&out);
    rc = 0;
    if (ops->by_ids) {
        for (size_t i = 0; i < n && !rc; i += CX_RECHECK_IDS_MAX) {
            const char *ids[CX_RECHECK_IDS_MAX];
            size_t k = n - i < CX_RECHECK_IDS_MAX ? n - i : CX_RECHECK_IDS_MAX;
            for (size_t j = 0; j < k; j++)
                ids[j] = cs_rows_str(r, i + j, AL_ITEM);
            cx_recheck_query q = {.ids = ids, .nids = k};
            cx_recheck_page part;
            if (call(m, ops, &in, &q, &out, &part, err)) {
                rc = -1;
                break;
            }
            ++*requests;
            if (out.result != CX_OK) break;
            /* an id the answer leaves out says nothing: that listing is looked at next time */
            for (size_t j = 0; j < k && !rc; j++) {
                const cx_item_seen *s = find(&part, ids[j]);
                if (s && apply_one(db, m, cs_rows_i64(r, i + j, AL_ID),
                                   (int)cs_rows_i64(r, i + j, AL_NO_URL), s, err))
                    rc = -1;
            }
            cx_recheck_page_free(&part);
        }
    } else {
        /* the shop's whole list, then each listing: absent from a complete walk = gone */
        char cursor[256] = "";
        long long offset = 0;
        for (int pages = 0; !rc; pages++) {
            cx_recheck_query q = {.cursor = cursor, .offset = offset};
            cx_recheck_page part;
            if (pages >= 1000 || call(m, ops, &in, &q, &out, &part, err)) {
                if (pages >= 1000) cs_error_set(err, CS_E_INTERNAL, "more than 1000 pages");
                rc = -1;
                break;
            }
            ++*requests;
            if (out.result != CX_OK) break;
            for (size_t j = 0; j < part.n && !rc; j++)
                if (cx_recheck_add(&seen, &part.items[j])) rc = cs_error_set(err, CS_E_NOMEM, NULL);
            int more = part.more;
            offset = part.next_offset;
            memcpy(cursor, part.next_cursor, sizeof cursor);
            cx_recheck_page_free(&part);
            if (!more) break;
        }
        for (size_t i = 0; i < n && !rc && out.result == CX_OK; i++)
            if (apply_one(db, m, cs_rows_i64(r, i, AL_ID), (int)cs_rows_i64(r, i, AL_NO_URL),
                          find(&seen, cs_rows_str(r, i, AL_ITEM)), err))
                rc = -1;
    }
    if (!rc && out.result == CX_RETRY) {
        *ra = out.retry_after ? out.retry_after : 30;
        cs_error_set(err, CS_E_MP_UNAVAILABLE, "%s %s", out.error_code, out.message);
        rc = 1;
    } else if (!rc && out.result != CX_OK) {
        /* reauthorise / refused: the account's own flows say so to the volunteer */
        cs_warn("flows.recheck_failed", "account %lld (%s): %s %s", (long long)account_id, a.mp,
                cx_result_name(out.result), out.error_code);
    }
    cx_recheck_page_free(&seen);
    cs_rows_free(r);
    flows_acct_wipe(&a);
    return rc;
}

int job_flows_recheck_account(cs_db *db, int64_t account_id, int64_t *requests, cs_error *err)
{
    unsigned ra = 0;
    int64_t n = 0;
    int rc = recheck_account(db, account_id, &ra, &n, err);
    if (requests) *requests = n;
    return rc;
}

static job_outcome h_recheck(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t one = json_integer_value(json_object_get(ctx->args, "account_id"));
    if (one > 0) {
        unsigned ra = 0;
        int64_t n = 0;
        int rc = recheck_account(ctx->db, one, &ra, &n, &err);
        if (rc == 1) return job_retry(ctx, ra, "recheck: %s", err.detail);
        if (rc < 0) return job_retry(ctx, 0, "recheck: %s %s", cs_code_name(err.code), err.detail);
        return JOB_OK;
    }
    /* the sweep: one job per account with a listing due */
    cs_rows *r = NULL;
    if (cs_db_query(ctx->db, &r, SQL_DUE_ACCOUNTS, "ii", (int64_t)cs_cfg_int("flows.recheck_age"),
                    (int64_t)cs_cfg_int("flows.recheck_accounts"), &err))
        return job_retry(ctx, 0, "recheck sweep: %s", cs_code_name(err.code));
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        char payload[64], key[48];
        int64_t id = cs_rows_i64(r, i, DA_ACCOUNT), jid;
        snprintf(payload, sizeof payload, "{\"account_id\":%lld}", (long long)id);
        snprintf(key, sizeof key, "recheck:%lld", (long long)id);
        job_opts o = {.unique_key = key};
        if (job_enqueue(ctx->db, KIND, payload, &o, &jid, &err) < 0) {
            cs_rows_free(r);
            return job_retry(ctx, 0, "enqueue: %s", cs_code_name(err.code));
        }
    }
    cs_rows_free(r);
    return JOB_OK;
}

int flows_register_recheck_kinds(cs_error *err)
{
    return job_register(KIND, h_recheck, NULL, err) ||
                   job_schedule_every(KIND, (unsigned)cs_cfg_int("flows.recheck_period"), "{}", err)
               ? -1
               : 0;
}
