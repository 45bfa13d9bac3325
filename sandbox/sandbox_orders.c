/* sandbox/ orders: the simulated buyers — orders placed on live items (at a settable rate, or one
 * at a time through the admin route), each moving through its marketplace's real statuses every
 * order_step_ms until delivered/completed, cancelled or returned. Callers hold sb->mu. Never
 * reached by production code. */
#include "sandbox/sandbox_int.h"
#include "core/mem.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ORDERS_MAX 1048576 /* memory cap (an order is about 300 bytes) */

/* The status path of each marketplace per fate, from the first status to the final one. */
static const char *const *path_of(int market, int fate)
{
    static const char *const shopee[3][8] = {
        {"UNPAID", "READY_TO_SHIP", "PROCESSED", "SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED",
         NULL},
        {"UNPAID", "IN_CANCEL", "CANCELLED", NULL},
        {"UNPAID", "READY_TO_SHIP", "SHIPPED", "TO_RETURN", NULL}};
    static const char *const lazada[3][8] = {
        {"pending", "packed", "ready_to_ship", "shipped", "delivered", "confirmed", NULL},
        {"pending", "canceled", NULL},
        {"pending", "packed", "ready_to_ship", "shipped", "failed_delivery", "returned", NULL}};
    /* TikTok lists no return status among order statuses: a failed delivery ends CANCELLED */
    static const char *const tiktok[3][8] = {
        {"UNPAID", "AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED",
         "COMPLETED", NULL},
        {"UNPAID", "CANCELLED", NULL},
        {"UNPAID", "AWAITING_SHIPMENT", "IN_TRANSIT", "CANCELLED", NULL}};
    if (fate < 0 || fate > 2) fate = 0;
    return market == SBX_SHOPEE ? shopee[fate] : market == SBX_LAZADA ? lazada[fate] : tiktok[fate];
}

static int last_stage(const sb_order *o)
{
    const char *const *p = path_of(o->market, o->fate);
    int n = 0;
    while (p[n + 1])
        n++;
    return n;
}

const char *sbx_order_status(const sb_order *o)
{
    return path_of(o->market, o->fate)[o->stage];
}

int sbx_order_final(const sb_order *o)
{
    return o->stage >= last_stage(o);
}

void sbx_order_sn(const sb_order *o, char out[24])
{
    snprintf(out, 24, "SB%012lld", o->id);
}

sb_order *sbx_order_find(sbx_sandbox *sb, int market, long long id)
{
    for (size_t i = 0; i < sb->norders; i++)
        if (sb->orders[i].market == market && sb->orders[i].id == id) return &sb->orders[i];
    return NULL;
}

static void changed(sbx_sandbox *sb, const sb_order *o, long long now_ms)
{
    const sb_market_ops *ops = sbx_ops(o->market);
    if (ops && ops->order_changed) ops->order_changed(sb, o, now_ms);
}

sb_order *sbx_order_place(sbx_sandbox *sb, const sb_item *it, long long qty, int fate,
                          long long now_ms)
{
    if (!it || it->market == SBX_ASSISTED || qty < 1 || qty > 1000) return NULL;
    if (sb->norders == sb->caporders) {
        size_t cap = sb->caporders ? sb->caporders * 2 : 256;
        if (cap > ORDERS_MAX) return NULL;
        sb_order *n = cs_realloc(sb->orders, cap * sizeof *n);
        if (!n) return NULL;
        sb->orders = n;
        sb->caporders = cap;
    }
    sb_order *o = &sb->orders[sb->norders++];
    memset(o, 0, sizeof *o);
    o->market = it->market;
    long long seq = sbx_next_seq(sb);
    o->id = 2400000000LL + seq * 1000; /* room for one line id per unit below the next order */
    o->line_id = o->id + 1;
    snprintf(o->shop_id, sizeof o->shop_id, "%s", it->shop_id);
    o->item_id = it->item_id;
    snprintf(o->sku, sizeof o->sku, "%s", it->sku);
    o->qty = qty;
    o->price = it->price > 0 && it->price < 1e12 ? (long long)it->price : 0;
    o->fate = fate;
    o->create_ms = o->update_ms = now_ms;
    o->next_ms = now_ms + (sb->order_step_ms > 0 ? sb->order_step_ms : 0);
    if (o->next_ms < sb->orders_next_ms) sb->orders_next_ms = o->next_ms;
    changed(sb, o, now_ms);
    return o;
}

static void step(sbx_sandbox *sb, sb_order *o, long long now_ms)
{
    o->stage++;
    o->update_ms = now_ms;
    o->next_ms = sbx_order_final(o) ? LLONG_MAX : now_ms + sb->order_step_ms;
    changed(sb, o, now_ms);
}

void sbx_orders_due(sbx_sandbox *sb, long long now_ms)
{
    if (now_ms >= sb->orders_next_ms) {
        long long next = LLONG_MAX;
        for (size_t i = 0; i < sb->norders; i++) {
            sb_order *o = &sb->orders[i];
            /* several steps may be due after a pause: each at its own time, in order */
            while (!sbx_order_final(o) && o->next_ms <= now_ms)
                step(sb, o, o->next_ms > o->update_ms ? o->next_ms : now_ms);
            if (!sbx_order_final(o) && o->next_ms < next) next = o->next_ms;
        }
        sb->orders_next_ms = next;
    }
    if (sb->order_rate <= 0) {
        sb->buyers_ms = now_ms;
        return;
    }
    if (!sb->buyers_ms || now_ms < sb->buyers_ms) sb->buyers_ms = now_ms;
    double hours = (double)(now_ms - sb->buyers_ms) / 3600000.0;
    if (hours < 0.0002) return; /* about every 0.7 s */
    sb->buyers_ms = now_ms;
    double p = sb->order_rate * hours;
    size_t n = sb->nitems;
    for (size_t i = 0; i < n; i++) {
        const sb_item *it = &sb->items[i];
        if (it->state != SB_IT_LIVE || it->market == SBX_ASSISTED) continue;
        if (sbx_rand01(sb) >= p) continue;
        double f = sbx_rand01(sb);
        int fate = f < sb->cancel_rate                     ? SB_FATE_CANCELLED
                   : f < sb->cancel_rate + sb->return_rate ? SB_FATE_RETURNED
                                                           : SB_FATE_DELIVERED;
        sbx_order_place(sb, it, 1 + (long long)(sbx_rand(sb) % 3), fate, now_ms);
    }
}

int sbx_orders_settle(sbx_sandbox *sb, int market, long long now_ms)
{
    int n = 0;
    for (size_t i = 0; i < sb->norders; i++) {
        sb_order *o = &sb->orders[i];
        if ((market >= 0 && o->market != market) || sbx_order_final(o)) continue;
        while (!sbx_order_final(o))
            step(sb, o, now_ms);
        n++;
    }
    return n;
}

void sbx_orders_reset(sbx_sandbox *sb, int free_all)
{
    sb->norders = 0;
    sb->order_rate = 0;
    sb->order_step_ms = 2000;
    sb->cancel_rate = 0.1;
    sb->return_rate = 0.05;
    sb->buyers_ms = 0;
    sb->orders_next_ms = LLONG_MAX;
    if (free_all) {
        cs_free(sb->orders);
        sb->orders = NULL;
        sb->caporders = 0;
    }
}

int sbx_iso_time(const char *s, long long *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end) end = s ? strptime(s, "%Y-%m-%d %H:%M:%S", &tm) : NULL;
    if (!end) return -1;
    long long off = 0;
    if (*end == ' ') end++;
    if (!strcmp(end, "Z") || !*end) {
    } else if ((*end == '+' || *end == '-') && strlen(end) >= 5) {
        int h = (end[1] - '0') * 10 + (end[2] - '0');
        const char *m = end[3] == ':' ? end + 4 : end + 3;
        int mi = (m[0] - '0') * 10 + (m[1] - '0');
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || m[2]) return -1;
        off = (h * 3600LL + mi * 60LL) * (*end == '-' ? -1 : 1);
    } else
        return -1;
    *out = (long long)timegm(&tm) - off;
    return 0;
}

void sbx_iso_format(long long unix_s, char out[32])
{
    time_t t = (time_t)(unix_s + 7 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S +0700", &tm);
}
