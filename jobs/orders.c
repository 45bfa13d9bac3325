/* jobs/orders: orders.sync — reads each active API account's orders through the connectors'
 * order operations and upserts them with core/orders. No SQL here (core/orders holds it).
 *
 * Incremental and kill-safe: a run reads the time window [watermark − overlap, now) (at most 15
 * days at a time, Shopee's limit, used for every marketplace), page by page; each page's lines
 * and the position of the next page commit in ONE transaction, so a worker killed mid-sync
 * resumes at the page it was reading and the upserts (by marketplace, order, line) make a
 * re-read page harmless. The watermark moves to the window's end only when its last page
 * committed. Requests go through flows_send: the same per-marketplace pace as publishing. */
#include "jobs/orders.h"
#include "connectors/orders.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/orders.h"
#include "jobs/flows_int.h"
#include "jobs/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND "orders.sync"

struct exch {
    const cx_order_ops *ops;
    cx_orders_step step;
    const cx_input *in;
    const cx_orders_query *q;
    cx_outcome *out;
    cx_orders_page *page;
};

static void exch_done(void *arg, const cx_response *resp)
{
    struct exch *x = arg;
    x->ops->parse(x->step, x->in, x->q, resp, x->out, x->page);
}

/* One request: 0 with out/page filled (out->result says what happened), -1 (err). */
static int call(const flows_mkt *m, const cx_order_ops *ops, cx_orders_step step, cx_input *in,
                const cx_orders_query *q, cx_outcome *out, cx_orders_page *page, cs_error *err)
{
    in->mp = &m->cfg.m;
    in->now_ms = flows_now_ms();
    cx_request req;
    cx_request_init(&req);
    memset(page, 0, sizeof *page);
    cx_outcome_init(out);
    if (ops->build(step, in, q, &req, err)) {
        cx_request_free(&req);
        return -1;
    }
    struct exch x = {ops, step, in, q, out, page};
    int rc = flows_send(m, &req, exch_done, &x, err);
    cx_request_free(&req);
    return rc;
}

struct page_tx {
    const char *mp;
    int64_t account;
    const cx_orders_page *lines; /* the lines of this page (two-step: of its LINES calls) */
    size_t nlines;
    const cs_order_sync *next;
    int64_t bad;
    int64_t counted;
};

static cs_ol_state ol_state(cx_order_state s)
{
    switch (s) {
    case CX_OS_OPEN:
        return CS_OL_OPEN;
    case CX_OS_DELIVERED:
        return CS_OL_DELIVERED;
    case CX_OS_CANCELLED:
        return CS_OL_CANCELLED;
    case CX_OS_RETURNED:
        return CS_OL_RETURNED;
    default:
        return 0;
    }
}

static int page_body(cs_db *db, void *arg, cs_error *err)
{
    struct page_tx *k = arg;
    k->counted = 0;
    /* a page's lines are mostly of a few SKUs: each is resolved to its listing once */
    const char *last_sku = NULL;
    int64_t last_listing = 0;
    for (size_t i = 0; i < k->nlines; i++) {
        const cx_order_line *x = &k->lines->lines[i];
        if (!last_sku || strcmp(last_sku, x->sku)) {
            last_listing = 0;
            last_sku = x->sku;
            if (cs_orders_resolve_sku(db, k->account, x->sku, &last_listing, err) < 0) return -1;
        }
        cs_order_line l = {.marketplace = k->mp,
                           .account_id = k->account,
                           .listing_id = last_listing,
                           .order_id = x->order_id,
                           .line_id = x->line_id,
                           .sku = x->sku,
                           .item_id = x->item_id,
                           .status = x->status,
                           .state = ol_state(x->state),
                           .qty = x->qty,
                           .amount_vnd = x->amount_vnd,
                           .ordered_s = x->created_s,
                           .updated_s = x->updated_s,
                           .source = "sync"};
        cs_ol_effect e;
        if (cs_order_line_put(db, &l, &e, err)) return -1;
        k->counted += e.counted;
    }
    return cs_order_sync_put(db, k->account, k->next, (int64_t)k->nlines, k->bad, NULL, err);
}

static void log_bad(int64_t account, const char *mp, const cx_orders_page *p)
{
    if (p->nbad)
        cs_warn("orders.bad_input", "account %lld (%s): %zu line(s)/order(s) skipped, first: %s",
                (long long)account, mp, p->nbad, p->bad);
}

/* Store a failure for the volunteer-facing status without moving the position. */
static void note_error(cs_db *db, int64_t account, const cs_order_sync *s, const char *what)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_order_sync_put(db, account, s, 0, 0, what, &e))
        cs_warn("orders.note_failed", "account %lld: %s", (long long)account, cs_code_name(e.code));
}

static int merge_lines(cx_orders_page *into, const cx_orders_page *from)
{
    for (size_t i = 0; i < from->nlines; i++)
        if (cx_orders_add_line(into, &from->lines[i])) return -1;
    into->nbad += from->nbad;
    if (!into->bad[0] && from->bad[0]) memcpy(into->bad, from->bad, sizeof into->bad);
    return 0;
}

/* 0 the account is up to date (or has nothing to sync), 1 retry later, 2 stopped/more windows
 * left (snooze), -1 err. */
static int sync_account(cs_db *db, int64_t account_id, const job_ctx *ctx, int64_t *nlines,
                        unsigned *retry_after, cs_error *err)
{
    flows_acct a;
    int rc = flows_acct_load(db, account_id, &a, err);
    if (rc) return rc < 0 ? -1 : 0;
    rc = 0;
    const cx_order_ops *ops = cx_orders_for(a.mp);
    const flows_mkt *m = ops ? flows_mkt_get(db, a.mp, err) : NULL;
    if (!ops || strcmp(a.state, "active") || !m || !m->enabled) {
        /* nothing to read: assisted marketplaces are recorded by people; a marketplace that is
           not configured is skipped, not failed */
        flows_acct_wipe(&a);
        return 0;
    }
    cx_input in = {.account = &a.cx};
    long overlap = cs_cfg_int("orders.overlap");
    for (long w = 0; w < cs_cfg_int("orders.windows_per_run"); w++) {
        cs_order_sync s;
        if (cs_order_sync_get(db, account_id, &s, err)) goto fail;
        long long now = flows_now_ms() / 1000;
        if (!s.watermark_s) s.watermark_s = now - cs_cfg_int("orders.lookback_days") * 86400L;
        long long from = s.watermark_s - overlap;
        if (!s.window_to_s) { /* open a window: its end fixed now, stored with the first page */
            s.window_to_s = from + CX_SHOPEE_WINDOW_S < now ? from + CX_SHOPEE_WINDOW_S : now;
            s.cursor[0] = '\0';
        }
        if (s.window_to_s <= from) goto done;
        for (;;) {
            if (ctx && job_should_stop(ctx)) {
                rc = 2;
                goto out;
            }
            cx_orders_query q = {.from_s = from, .to_s = s.window_to_s, .cursor = s.cursor};
            if (!strcmp(a.mp, "lazada")) q.offset = strtoll(s.cursor, NULL, 10);
            cx_outcome out;
            cx_orders_page list, lines;
            memset(&lines, 0, sizeof lines);
            if (call(m, ops, CX_ORD_LIST, &in, &q, &out, &list, err)) goto fail;
            if (out.result != CX_OK) {
                char why[200];
                snprintf(why, sizeof why, "%s: %s %s", cx_result_name(out.result), out.error_code,
                         out.message);
                cs_warn("orders.sync_failed", "account %lld (%s): %s", (long long)account_id, a.mp,
                        why);
                note_error(db, account_id, &s, why);
                cx_orders_page_free(&list);
                if (out.result == CX_RETRY) {
                    *retry_after = out.retry_after ? out.retry_after : 30;
                    rc = 1;
                } else { /* reauthorise / refused: the account's own flows deal with it */
                    rc = 0;
                }
                cs_error_set(err, CS_E_MP_UNAVAILABLE, "%s", why);
                goto out;
            }
            log_bad(account_id, a.mp, &list);
            const cx_orders_page *got = &list;
            for (size_t i = 0; ops->two_step && i < list.nids; i += CX_ORDERS_IDS_MAX) {
                const char *ids[CX_ORDERS_IDS_MAX];
                size_t n = list.nids - i < CX_ORDERS_IDS_MAX ? list.nids - i : CX_ORDERS_IDS_MAX;
                for (size_t k = 0; k < n; k++)
                    ids[k] = list.ids[i + k];
                cx_orders_query qi = {.ids = ids, .nids = n};
                cx_orders_page part;
                if (call(m, ops, CX_ORD_LINES, &in, &qi, &out, &part, err)) {
                    cx_orders_page_free(&list);
                    cx_orders_page_free(&lines);
                    goto fail;
                }
                if (out.result != CX_OK) {
                    char why[200];
                    snprintf(why, sizeof why, "lines %s: %s %s", cx_result_name(out.result),
                             out.error_code, out.message);
                    cs_warn("orders.sync_failed", "account %lld (%s): %s", (long long)account_id,
                            a.mp, why);
                    note_error(db, account_id, &s, why);
                    cx_orders_page_free(&list);
                    cx_orders_page_free(&lines);
                    *retry_after = out.retry_after ? out.retry_after : 30;
                    cs_error_set(err, CS_E_MP_UNAVAILABLE, "%s", why);
                    rc = out.result == CX_RETRY ? 1 : 0;
                    goto out;
                }
                log_bad(account_id, a.mp, &part);
                int bad = merge_lines(&lines, &part);
                cx_orders_page_free(&part);
                if (bad) {
                    cx_orders_page_free(&list);
                    cx_orders_page_free(&lines);
                    cs_error_set(err, CS_E_NOMEM, NULL);
                    goto fail;
                }
            }
            if (ops->two_step) got = &lines;
            cs_order_sync next = s;
            if (list.more) {
                if (!strcmp(a.mp, "lazada"))
                    snprintf(next.cursor, sizeof next.cursor, "%lld", list.next_offset);
                else
                    memcpy(next.cursor, list.next_cursor, sizeof next.cursor);
            } else { /* the window's last page: the watermark moves to its end */
                next.watermark_s = s.window_to_s;
                next.window_to_s = 0;
                next.cursor[0] = '\0';
            }
            struct page_tx k = {a.mp,  account_id,
                                got,   got->nlines,
                                &next, (int64_t)(list.nbad + (got != &list ? got->nbad : 0)),
                                0};
            int txr = cs_db_tx(db, page_body, &k, err);
            if (nlines && !txr) *nlines += (int64_t)got->nlines;
            cx_orders_page_free(&list);
            cx_orders_page_free(&lines);
            if (txr) goto fail;
            s = next;
            if (!s.window_to_s) break;
        }
        if (s.watermark_s >= now) goto done;
    }
    rc = 2; /* more windows than one run reads: come back at once */
    goto out;
done:
    rc = 0;
    goto out;
fail:
    rc = -1;
out:
    flows_acct_wipe(&a);
    return rc;
}

int job_orders_sync_account(cs_db *db, int64_t account_id, int64_t *lines, cs_error *err)
{
    unsigned ra = 0;
    if (lines) *lines = 0;
    int rc = sync_account(db, account_id, NULL, lines, &ra, err);
    return rc == 2 ? 1 : rc;
}

int job_orders_sync_soon(cs_db *db, int64_t account_id, cs_error *err)
{
    char payload[64], key[64];
    snprintf(payload, sizeof payload, "{\"account_id\":%lld}", (long long)account_id);
    snprintf(key, sizeof key, KIND ":%lld", (long long)account_id);
    job_opts o = {.delay_ms = cs_cfg_int("orders.push_delay") * 1000L, .unique_key = key};
    return job_enqueue(db, KIND, payload, &o, NULL, err);
}

static job_outcome h_sync(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t one = json_integer_value(json_object_get(ctx->args, "account_id"));
    if (one <= 0) { /* the sweep: one job per active API account */
        int64_t *ids = NULL;
        size_t n = 0;
        if (cs_orders_sync_accounts(ctx->db, &ids, &n, &err))
            return job_retry(ctx, 0, "accounts to sync: %s", cs_code_name(err.code));
        for (size_t i = 0; i < n; i++) {
            char payload[64], key[64];
            snprintf(payload, sizeof payload, "{\"account_id\":%lld}", (long long)ids[i]);
            snprintf(key, sizeof key, KIND ":%lld", (long long)ids[i]);
            job_opts o = {.unique_key = key};
            cs_error_clear(&err);
            if (job_enqueue(ctx->db, KIND, payload, &o, NULL, &err) < 0)
                cs_warn("orders.enqueue_failed", "account %lld: %s", (long long)ids[i],
                        cs_code_name(err.code));
        }
        cs_free(ids);
        return JOB_OK;
    }
    unsigned ra = 0;
    int rc = sync_account(ctx->db, one, ctx, NULL, &ra, &err);
    if (rc == 1) return flows_retry(ctx, ra, "orders", NULL);
    if (rc == 2) return job_snooze(ctx, 0);
    if (rc < 0)
        return job_retry(ctx, 0, "orders of account %lld: %s %s", (long long)one,
                         cs_code_name(err.code), err.detail);
    return JOB_OK;
}

int job_orders_register(cs_error *err)
{
    if (job_register(KIND, h_sync, NULL, err)) return -1;
    long period = cs_cfg_int("orders.sync_period");
    return period > 0 ? job_schedule_every(KIND, (unsigned)period, "{}", err) : 0;
}

void job_orders_on_push(cs_db *db, const char *mp, int push_code, const char *shop_id)
{
    /* Shopee code 3, Lazada's trade-order message (message_type 0) and TikTok's type 1 say an
       order changed */
    int order_push = (!strcmp(mp, "shopee") && push_code == 3) ||
                     (!strcmp(mp, "lazada") && push_code == 0) ||
                     (!strcmp(mp, "tiktok") && push_code == 1);
    if (!order_push || !shop_id || !*shop_id) return;
    cs_error e;
    cs_error_clear(&e);
    int64_t id = 0;
    int rc = cs_orders_account_by_shop(db, mp, shop_id, &id, &e);
    if (rc == 0) rc = job_orders_sync_soon(db, id, &e) < 0 ? -1 : 0;
    /* the periodic sweep reads the order anyway: a push that cannot schedule is only early */
    if (rc < 0)
        cs_warn("orders.push_schedule", "%s shop %s: %s", mp, shop_id, cs_code_name(e.code));
}
