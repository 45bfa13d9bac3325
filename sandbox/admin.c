/* sandbox/ admin: the endpoints under /__sandbox/ that tests, the demo and trainers use to
 * steer the simulators, as one routing table (method, path, handler) like service/routes.c.
 * Handlers run with sb->mu held and never block; they answer through sbx_reply_json.
 *
 * Admin endpoints, answered by every simulator (JSON in, JSON out; "marketplace" defaults to the
 * listener's own; "postmart"/"voso" mean the assisted listener; "all" where noted):
 *   GET  /__sandbox/stats          counters, see stats_json()
 *   GET  /__sandbox/faults         {"shopee":{…},"lazada":{…},"tiktok":{…},"assisted":{…}}
 *   POST /__sandbox/faults         {"marketplace":"lazada"|"all","latency_ms":100,"rate_5xx":0.03,
 *                                   "rate_429":0,"rate_timeout":0,"rate_malformed":0,"rate_drop":0,
 *                                   "rate_created_lost":0.05,"hang_ms":30000,
 *                                   "next":["created_lost","5xx","none"]}
 *                                  absent members keep their value; "next" replaces the queue of
 *                                  faults forced on the next API requests, in order; a queued
 *                                  created_lost* waits for the next create call (requests before
 *                                  it pass untouched). Kinds: none 5xx 429 timeout malformed drop
 *                                  created_lost created_lost_hang created_lost_malformed.
 *                                  rate_created_lost applies to create calls only; its random
 *                                  mode is drop, hang or a truncated body. → {"ok":true,…}
 *   POST /__sandbox/reset          forget every shop, token, item, image, page, counter, fault
 *   POST /__sandbox/revoke         {"marketplace","shop_id"} → later calls get the auth error
 *   POST /__sandbox/expire-tokens  {"marketplace"|"all","shop_id"?,"refresh":false,"codes":false}
 *                                  → {"ok":true,"expired":n}
 *   POST /__sandbox/review         {"marketplace"?,"item_id"?} finish pending reviews now
 *   POST /__sandbox/authorize      {"marketplace","shop_id"?} → {"code","shop_id","shop_cipher"}
 *                                  (an authorisation code without the browser step)
 *   GET  /__sandbox/items          ?marketplace=&sku= → {"items":[{…, price, stock,
 *                                  withdrawn ("", "unlisted", "deleted", "banned"), update_ms}]}
 *   POST /__sandbox/items/status   {"marketplace","item_id"|"sku","status":"banned"|"deleted"|
 *                                  "unlisted"|"live"} the marketplace (or the seller in its
 *                                  seller centre) changes a live item; its push is sent
 *                                  (at most 1000)
 *   GET, POST /__sandbox/config     {"auto_approve","review_delay_ms","token_ttl","refresh_ttl",
 *                                   "rate","name_min","banned_words","categories",
 *                                   "shopee_push_url","lazada_push_url","tiktok_redirect_url",
 *                                   "takedown_refusal" (Shopee unlist_item's failed_reason for
 *                                   every item while set; "" = none)}
 *   GET, POST /__sandbox/pages      {"marketplace":"postmart"|"voso","kind":"shop"|"product",
 *                                   "id","state":"published"|"removed"|"gone","title"} → {"url"}
 *   GET, POST /__sandbox/orders     place orders on a live item / list them (see post_orders)
 *   POST /__sandbox/orders/settle   every order to its final status now
 *   GET, POST /__sandbox/orders/settings  buyers' rate per live item and hour, step_ms,
 *                                   cancel_rate, return_rate
 *
 * Any other method or path under /__sandbox/ is answered 404 {"ok":false,"error":…}.
 */
#include "sandbox/sandbox_int.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *faults_json(const sb_faults *f)
{
    json_t *next = json_array(), *inj = json_object();
    for (size_t i = f->inext; i < f->nnext; i++)
        json_array_append_new(next, json_string(sbx_fault_name(f->next[i])));
    for (int k = 1; k < SB_F_N; k++)
        json_object_set_new(inj, sbx_fault_name(k), json_integer(f->injected[k]));
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:o,s:o}", "latency_ms",
                     (json_int_t)f->latency_ms, "rate_5xx", f->rate[SB_F_5XX], "rate_429",
                     f->rate[SB_F_429], "rate_timeout", f->rate[SB_F_TIMEOUT], "rate_malformed",
                     f->rate[SB_F_MALFORMED], "rate_drop", f->rate[SB_F_DROP], "rate_created_lost",
                     f->rate[SB_F_LOST], "hang_ms", (json_int_t)f->hang_ms, "next", next,
                     "injected", inj);
}

static const char *state_name(int st)
{
    return st == SB_IT_LIVE ? "live" : st == SB_IT_REJECTED ? "rejected" : "reviewing";
}

/* Stats, one object per simulator:
 * {"shopee":{"requests":{"/api/v2/product/add_item":{"200":3,"drop":1}},
 *            "items_total":3,"items_created":{"CS-1":1,"CS-2":2},"duplicates":{"CS-2":2},
 *            "duplicate_skus":1,"items_by_state":{"reviewing":0,"live":2,"rejected":1},
 *            "tokens_issued":2,"shops":1,"images":3,"throttled":0,
 *            "faults_injected":{"5xx":0,…},"pushes_sent":1,"pushes_failed":0,"pushes_pending":0},
 *  "lazada":{…},"tiktok":{…},"assisted":{…,"pages":2},"duplicate_skus":1} */
static json_t *stats_json(sbx_sandbox *sb)
{
    json_t *root = json_object();
    if (!root) return NULL;
    long long dup_total = 0;
    for (int m = 0; m < SBX_NMARKETS; m++) {
        json_t *o = json_object(), *reqs = json_object(), *created = json_object(),
               *dups = json_object(), *bystate = json_object(), *inj = json_object();
        long long total = 0, st[3] = {0, 0, 0}, shops = 0, images = 0, pending = 0;
        for (size_t i = 0; i < sb->nreqstats; i++) {
            const sb_reqstat *s = &sb->reqstats[i];
            if (s->market != m) continue;
            json_t *p = json_object_get(reqs, s->path);
            if (!p) {
                p = json_object();
                json_object_set_new(reqs, s->path, p);
            }
            json_object_set_new(p, s->status, json_integer(s->count));
        }
        for (size_t i = 0; i < sb->nitems; i++) {
            const sb_item *it = &sb->items[i];
            if (it->market != m) continue;
            total++;
            st[it->state]++;
            if (!it->sku[0]) continue;
            json_int_t c = json_integer_value(json_object_get(created, it->sku)) + 1;
            json_object_set_new(created, it->sku, json_integer(c));
        }
        const char *sku;
        json_t *v;
        json_object_foreach(created, sku, v)
        {
            if (json_integer_value(v) > 1) {
                json_object_set_new(dups, sku, json_integer(json_integer_value(v)));
            }
        }
        for (size_t i = 0; i < sb->nshops; i++)
            shops += sb->shops[i].market == m;
        for (size_t i = 0; i < sb->nimages; i++)
            images += sb->images[i].market == m;
        for (size_t i = 0; i < sb->npush; i++)
            pending += sb->push[i].market == m;
        for (int k = 1; k < SB_F_N; k++)
            json_object_set_new(inj, sbx_fault_name(k), json_integer(sb->faults[m].injected[k]));
        json_object_set_new(bystate, "reviewing", json_integer(st[SB_IT_REVIEWING]));
        json_object_set_new(bystate, "live", json_integer(st[SB_IT_LIVE]));
        json_object_set_new(bystate, "rejected", json_integer(st[SB_IT_REJECTED]));
        long long ndup = (long long)json_object_size(dups);
        dup_total += ndup;
        json_object_set_new(o, "requests", reqs);
        json_object_set_new(o, "items_total", json_integer(total));
        json_object_set_new(o, "items_created", created);
        json_object_set_new(o, "duplicates", dups);
        json_object_set_new(o, "duplicate_skus", json_integer(ndup));
        json_object_set_new(o, "items_by_state", bystate);
        json_object_set_new(o, "tokens_issued", json_integer(sb->tokens_issued[m]));
        json_object_set_new(o, "shops", json_integer(shops));
        json_object_set_new(o, "images", json_integer(images));
        json_object_set_new(o, "throttled", json_integer(sb->throttled[m]));
        json_object_set_new(o, "faults_injected", inj);
        json_object_set_new(o, "pushes_sent", json_integer(sb->pushes_sent[m]));
        json_object_set_new(o, "pushes_failed", json_integer(sb->pushes_failed[m]));
        json_object_set_new(o, "pushes_pending", json_integer(pending));
        if (m == SBX_ASSISTED)
            json_object_set_new(o, "pages", json_integer((json_int_t)sb->npages));
        json_object_set_new(root, sbx_market_code(m), o);
    }
    json_object_set_new(root, "duplicate_skus", json_integer(dup_total));
    return root;
}

json_t *sbx_stats(sbx_sandbox *sb)
{
    pthread_mutex_lock(&sb->mu);
    json_t *j = stats_json(sb);
    pthread_mutex_unlock(&sb->mu);
    return j;
}

static void admin_error(sb_resp *rs, int status, const char *msg)
{
    sbx_reply_json(rs, status, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* Resolve "marketplace" of an admin body: the listener's own when absent; -2 for "all". */
static int admin_market(const sb_req *rq, json_t *body, int allow_all)
{
    const char *code = json_string_value(json_object_get(body, "marketplace"));
    if (!code) code = sbx_query(rq, "marketplace");
    if (!code) return rq->market;
    if (allow_all && !strcmp(code, "all")) return -2;
    return sbx_market_from_code(code);
}

static int set_faults(sbx_sandbox *sb, sb_faults *f, json_t *body, char *why, size_t whysz)
{
    static const struct {
        const char *key;
        int fault;
    } rates[] = {{"rate_5xx", SB_F_5XX},         {"rate_429", SB_F_429},
                 {"rate_timeout", SB_F_TIMEOUT}, {"rate_malformed", SB_F_MALFORMED},
                 {"rate_drop", SB_F_DROP},       {"rate_created_lost", SB_F_LOST}};
    const char *key;
    json_t *v;
    (void)sb;
    /* Validate everything first so a bad request changes nothing. */
    json_object_foreach(body, key, v)
    {
        int known = !strcmp(key, "marketplace") || !strcmp(key, "latency_ms") ||
                    !strcmp(key, "hang_ms") || !strcmp(key, "next");
        for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
            if (!strcmp(key, rates[i].key)) {
                known = 1;
                double r = json_number_value(v);
                if (!json_is_number(v) || r < 0 || r > 1) {
                    snprintf(why, whysz, "%s must be a number in [0,1]", key);
                    return -1;
                }
            }
        if (!known) {
            snprintf(why, whysz, "unknown member '%.40s'", key);
            return -1;
        }
        if ((!strcmp(key, "latency_ms") || !strcmp(key, "hang_ms")) &&
            (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 600000)) {
            snprintf(why, whysz, "%s must be an integer 0..600000", key);
            return -1;
        }
        if (!strcmp(key, "next")) {
            if (!json_is_array(v) || json_array_size(v) > SB_NEXT_MAX) {
                snprintf(why, whysz, "next must be an array of at most %d fault names",
                         SB_NEXT_MAX);
                return -1;
            }
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (sbx_fault_from_name(json_string_value(e)) < 0) {
                    snprintf(why, whysz, "next[%zu]: unknown fault kind", i);
                    return -1;
                }
            }
        }
    }
    json_object_foreach(body, key, v)
    {
        if (!strcmp(key, "latency_ms"))
            f->latency_ms = (long)json_integer_value(v);
        else if (!strcmp(key, "hang_ms"))
            f->hang_ms = (long)json_integer_value(v);
        else if (!strcmp(key, "next")) {
            f->nnext = f->inext = 0;
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) f->next[f->nnext++] =
                sbx_fault_from_name(json_string_value(e));
        } else {
            for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
                if (!strcmp(key, rates[i].key)) f->rate[rates[i].fault] = json_number_value(v);
        }
    }
    return 0;
}

static json_t *config_json(sbx_sandbox *sb)
{
    json_t *bw = json_array();
    for (size_t i = 0; i < sb->nbanned; i++)
        json_array_append_new(bw, json_string(sb->banned[i]));
    json_t *cats = json_array();
    for (size_t i = 0; i < sb->ncats; i++) {
        json_t *a = json_array();
        for (int k = 0; k < sb->cats[i].nattrs; k++)
            json_array_append_new(a, json_string(sb->cats[i].attrs[k]));
        json_array_append_new(cats, json_pack("{s:s,s:s,s:o}", "marketplace",
                                              sbx_market_code(sb->cats[i].market), "id",
                                              sb->cats[i].id, "attributes", a));
    }
    json_t *cfg = json_pack(
        "{s:b,s:I,s:I,s:I,s:f,s:I,s:I,s:o,s:o,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "auto_approve",
        sb->opt.auto_approve, "review_delay_ms", (json_int_t)sb->opt.review_delay_ms, "token_ttl",
        (json_int_t)sb->opt.token_ttl, "refresh_ttl", (json_int_t)sb->opt.refresh_ttl, "rate",
        sb->opt.rate, "name_min", (json_int_t)sb->opt.name_min, "max_items",
        (json_int_t)sb->opt.max_items, "banned_words", bw, "categories", cats, "shopee_push_url",
        sb->shopee_push_url ? sb->shopee_push_url : "", "lazada_push_url",
        sb->lazada_push_url ? sb->lazada_push_url : "", "tiktok_redirect_url",
        sb->tiktok_redirect_url ? sb->tiktok_redirect_url : "", "shopee_partner_id",
        (json_int_t)sb->opt.shopee_partner_id, "shopee_partner_key", sb->opt.shopee_partner_key,
        "lazada_app_key", sb->opt.lazada_app_key, "tiktok_app_key", sb->opt.tiktok_app_key);
    if (cfg)
        json_object_set_new(cfg, "tiktok_push_url",
                            json_string(sb->tiktok_push_url ? sb->tiktok_push_url : ""));
    if (cfg)
        json_object_set_new(cfg, "takedown_refusal",
                            json_string(sb->takedown_refusal ? sb->takedown_refusal : ""));
    return cfg;
}

static int set_str(char **slot, json_t *v)
{
    if (!json_is_string(v)) return -1;
    char *s = cs_strdup(json_string_value(v));
    if (!s) return -1;
    cs_free(*slot);
    *slot = *s ? s : NULL;
    if (!*slot) cs_free(s);
    return 0;
}

static int set_config(sbx_sandbox *sb, json_t *body, char *why, size_t whysz)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        int bad = 0;
        if (!strcmp(key, "auto_approve")) {
            if (json_is_boolean(v))
                sb->opt.auto_approve = json_is_true(v);
            else
                bad = 1;
        } else if (!strcmp(key, "review_delay_ms") || !strcmp(key, "token_ttl") ||
                   !strcmp(key, "refresh_ttl") || !strcmp(key, "name_min") ||
                   !strcmp(key, "max_items")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                bad = 1;
            else if (!strcmp(key, "review_delay_ms"))
                sb->opt.review_delay_ms = (long)json_integer_value(v);
            else if (!strcmp(key, "token_ttl"))
                sb->opt.token_ttl = (long)json_integer_value(v);
            else if (!strcmp(key, "refresh_ttl"))
                sb->opt.refresh_ttl = (long)json_integer_value(v);
            else if (!strcmp(key, "name_min"))
                sb->opt.name_min = (long)json_integer_value(v);
            else
                sb->opt.max_items = (long)json_integer_value(v) ? (long)json_integer_value(v) : 1;
        } else if (!strcmp(key, "rate")) {
            if (!json_is_number(v) || json_number_value(v) < 0)
                bad = 1;
            else {
                sb->opt.rate = json_number_value(v);
                memset(sb->bucket_ms, 0, sizeof sb->bucket_ms);
            }
        } else if (!strcmp(key, "banned_words")) {
            if (json_is_string(v)) {
                bad = sbx_banned_set(sb, json_string_value(v));
            } else if (json_is_array(v)) {
                cs_buf b;
                cs_buf_init(&b, 16384);
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                    if (!json_is_string(e))
                        bad = 1;
                    else if (cs_buf_puts(&b, json_string_value(e)) || cs_buf_putc(&b, ','))
                        bad = 1;
                }
                if (!bad) bad = sbx_banned_set(sb, b.data ? b.data : "");
                cs_buf_free(&b);
            } else {
                bad = 1;
            }
        } else if (!strcmp(key, "categories")) {
            cs_error err;
            cs_error_clear(&err);
            size_t keep = sb->ncats;
            sb_category *save = cs_malloc(sizeof sb->cats);
            if (!save || !json_is_string(v)) {
                cs_free(save);
                bad = 1;
            } else {
                memcpy(save, sb->cats, sizeof sb->cats);
                sb->ncats = 0;
                if (sbx_categories_parse(sb, json_string_value(v), &err)) {
                    memcpy(sb->cats, save, sizeof sb->cats);
                    sb->ncats = keep;
                    snprintf(why, whysz, "categories: %s", err.detail);
                    cs_free(save);
                    return -1;
                }
                cs_free(save);
            }
        } else if (!strcmp(key, "shopee_push_url")) {
            bad = set_str(&sb->shopee_push_url, v);
        } else if (!strcmp(key, "lazada_push_url")) {
            bad = set_str(&sb->lazada_push_url, v);
        } else if (!strcmp(key, "tiktok_redirect_url")) {
            bad = set_str(&sb->tiktok_redirect_url, v);
        } else if (!strcmp(key, "tiktok_push_url")) {
            bad = set_str(&sb->tiktok_push_url, v);
        } else if (!strcmp(key, "takedown_refusal")) {
            bad = set_str(&sb->takedown_refusal, v);
        } else {
            snprintf(why, whysz, "unknown member '%.40s'", key);
            return -1;
        }
        if (bad) {
            snprintf(why, whysz, "bad value for '%.40s'", key);
            return -1;
        }
    }
    return 0;
}

static json_t *item_admin_json(const sb_item *it)
{
    static const char *const wd[] = {"", "unlisted", "deleted", "banned"};
    return json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:I,s:s,s:I}", "marketplace",
                     sbx_market_code(it->market), "item_id", (json_int_t)it->item_id, "sku",
                     it->sku, "status", state_name(it->state), "shop_id", it->shop_id, "name",
                     it->name, "category", it->category, "reason",
                     it->state == SB_IT_REJECTED ? it->reason : "", "price", it->price, "stock",
                     (json_int_t)it->stock, "withdrawn",
                     wd[it->withdrawn >= 0 && it->withdrawn <= 3 ? it->withdrawn : 0], "update_ms",
                     (json_int_t)it->update_ms);
}

/* ---- the handlers: body is a JSON object (empty when none was sent), sb->mu is held ---- */
typedef void (*admin_fn)(sb_req *rq, sb_resp *rs, json_t *body, long long now);

static void get_stats(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body;
    sbx_review_due(rq->sb, now);
    sbx_reply_json(rs, 200, stats_json(rq->sb));
}

static void get_faults(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body, (void)now;
    json_t *o = json_object();
    for (int k = 0; k < SBX_NMARKETS; k++)
        json_object_set_new(o, sbx_market_code(k), faults_json(&rq->sb->faults[k]));
    sbx_reply_json(rs, 200, o);
}

static void post_faults(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)now;
    sbx_sandbox *sb = rq->sb;
    char why[160] = "";
    int m = admin_market(rq, body, 1);
    if (m == -1) {
        admin_error(rs, 400, "unknown marketplace");
        return;
    }
    int lo = m == -2 ? 0 : m, hi = m == -2 ? SBX_NMARKETS - 1 : m, bad = 0;
    for (int k = lo; k <= hi && !bad; k++)
        bad = set_faults(sb, &sb->faults[k], body, why, sizeof why);
    if (bad)
        admin_error(rs, 400, why);
    else
        sbx_reply_json(rs, 200,
                       json_pack("{s:b,s:o}", "ok", 1, "faults",
                                 faults_json(&sb->faults[m == -2 ? rq->market : m])));
}

static void post_reset(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body, (void)now;
    sbx_state_reset(rq->sb);
    sbx_reply_json(rs, 200, json_pack("{s:b}", "ok", 1));
}

/* The shop loses its authorisation; its marketplace says so its own way (Shopee pushes). */
static void post_revoke(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    sbx_sandbox *sb = rq->sb;
    int m = admin_market(rq, body, 0);
    const char *id = json_string_value(json_object_get(body, "shop_id"));
    char idbuf[32];
    if (!id && json_is_integer(json_object_get(body, "shop_id"))) {
        snprintf(idbuf, sizeof idbuf, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(body, "shop_id")));
        id = idbuf;
    }
    sb_shop *s = m >= 0 ? sbx_shop_find(sb, m, id) : NULL;
    if (!s) {
        admin_error(rs, 404, "no such shop");
        return;
    }
    s->revoked = 1;
    for (size_t i = 0; i < sb->ntokens; i++)
        if (sb->tokens[i].market == m && !strcmp(sb->tokens[i].shop_id, s->id))
            sb->tokens[i].used = 1;
    const sb_market_ops *ops = sbx_ops(m);
    if (ops->revoked) ops->revoked(sb, s, now);
    sbx_reply_json(rs, 200, json_pack("{s:b,s:s}", "ok", 1, "revoked", s->id));
}

static void post_expire_tokens(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    sbx_sandbox *sb = rq->sb;
    int m = admin_market(rq, body, 1);
    const char *id = json_string_value(json_object_get(body, "shop_id"));
    int refresh = json_is_true(json_object_get(body, "refresh"));
    int codes = json_is_true(json_object_get(body, "codes"));
    if (m == -1) {
        admin_error(rs, 400, "unknown marketplace");
        return;
    }
    long long n = 0;
    for (size_t i = 0; i < sb->ntokens; i++) {
        sb_token *t = &sb->tokens[i];
        if (m >= 0 && t->market != m) continue;
        if (id && strcmp(t->shop_id, id)) continue;
        if (t->kind == SB_TOK_ACCESS || (refresh && t->kind == SB_TOK_REFRESH) ||
            (codes && t->kind == SB_TOK_CODE)) {
            if (t->expires_ms > now - 1) t->expires_ms = now - 1;
            n++;
        }
    }
    sbx_reply_json(rs, 200, json_pack("{s:b,s:I}", "ok", 1, "expired", (json_int_t)n));
}

static void post_review(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    const char *code = json_string_value(json_object_get(body, "marketplace"));
    int m = code ? sbx_market_from_code(code) : -1;
    long long item = json_integer_value(json_object_get(body, "item_id"));
    const char *item_s = json_string_value(json_object_get(body, "item_id"));
    if (item_s) sbx_parse_ll(item_s, &item);
    int n = sbx_review_force(rq->sb, m, item, now);
    sbx_reply_json(rs, 200, json_pack("{s:b,s:i}", "ok", 1, "reviewed", n));
}

static void post_authorize(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)now;
    sbx_sandbox *sb = rq->sb;
    int m = admin_market(rq, body, 0);
    const char *id = json_string_value(json_object_get(body, "shop_id"));
    sb_shop *s = m >= 0 && m != SBX_ASSISTED ? sbx_shop_authorise(sb, m, id, 0) : NULL;
    char code[SB_ID_MAX];
    if (!s || sbx_token_issue(sb, m, SB_TOK_CODE, s->id, 30 * 60 * 1000LL, code))
        admin_error(rs, 400, "cannot authorise (unknown marketplace or full)");
    else
        sbx_reply_json(rs, 200,
                       json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "code", code, "shop_id", s->id,
                                 "shop_cipher", s->cipher));
}

static void get_items(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body;
    sbx_sandbox *sb = rq->sb;
    sbx_review_due(sb, now);
    const char *code = sbx_query(rq, "marketplace");
    const char *sku = sbx_query(rq, "sku");
    int m = code ? sbx_market_from_code(code) : -1;
    json_t *arr = json_array();
    for (size_t i = 0; i < sb->nitems && json_array_size(arr) < 1000; i++) {
        const sb_item *it = &sb->items[i];
        if (m >= 0 && it->market != m) continue;
        if (sku && strcmp(it->sku, sku)) continue;
        json_array_append_new(arr, item_admin_json(it));
    }
    sbx_reply_json(rs, 200, json_pack("{s:o}", "items", arr));
}

static void get_config(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body, (void)now;
    sbx_reply_json(rs, 200, config_json(rq->sb));
}

static void post_config(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    char why[160] = "";
    if (set_config(rq->sb, body, why, sizeof why))
        admin_error(rs, 400, why);
    else
        get_config(rq, rs, body, now);
}

static void get_pages(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body, (void)now;
    sbx_sandbox *sb = rq->sb;
    json_t *arr = json_array();
    static const char *const sn[] = {"published", "removed", "gone"};
    for (size_t i = 0; i < sb->npages; i++)
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "marketplace", sb->pages[i].marketplace, "kind",
                           sb->pages[i].product ? "product" : "shop", "id", sb->pages[i].id,
                           "state", sn[sb->pages[i].state], "title", sb->pages[i].title));
    sbx_reply_json(rs, 200, json_pack("{s:o}", "pages", arr));
}

static void post_pages(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)now;
    sbx_sandbox *sb = rq->sb;
    const char *mp = json_string_value(json_object_get(body, "marketplace"));
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *id = json_string_value(json_object_get(body, "id"));
    const char *state = json_string_value(json_object_get(body, "state"));
    const char *title = json_string_value(json_object_get(body, "title"));
    const cx_connector *site = mp ? cx_find(mp) : NULL;
    mp = site && site->kind == CX_KIND_FILE ? site->code : NULL; /* posmart → postmart */
    int st = !state || !strcmp(state, "published") ? SB_PAGE_PUBLISHED
             : !strcmp(state, "removed")           ? SB_PAGE_REMOVED
             : !strcmp(state, "gone")              ? SB_PAGE_GONE
                                                   : -1;
    int product = kind && !strcmp(kind, "product");
    if (!mp)
        admin_error(rs, 400,
                    "marketplace must be an assisted marketplace (postmart, voso, sendo…)");
    else if (!kind || (strcmp(kind, "shop") && !product))
        admin_error(rs, 400, "kind must be shop or product");
    else if (!id || !*id || strlen(id) >= SB_ID_MAX || strchr(id, '/'))
        admin_error(rs, 400, "id must be 1..63 characters without '/'");
    else if (st < 0)
        admin_error(rs, 400, "state must be published, removed or gone");
    else if (!sbx_page_set(sb, mp, product, id, st, title))
        admin_error(rs, 507, "page table full");
    else {
        char url[256], base[64];
        sbx_base_url(sb, SBX_ASSISTED, base, sizeof base);
        snprintf(url, sizeof url, "%s/%s/%s/%s", base, mp, product ? "product" : "shop", id);
        sbx_reply_json(rs, 200, json_pack("{s:b,s:s}", "ok", 1, "url", url));
    }
}

/* ---- orders (sandbox_orders.c): buyers on demand and their settings ---- */
static json_t *order_admin_json(const sb_order *o)
{
    char sn[24];
    sbx_order_sn(o, sn);
    static const char *const fates[] = {"delivered", "cancelled", "returned"};
    return json_pack("{s:s,s:I,s:s,s:s,s:I,s:s,s:I,s:I,s:s,s:s,s:b,s:I,s:I}", "marketplace",
                     sbx_market_code(o->market), "order_id", (json_int_t)o->id, "order_sn", sn,
                     "shop_id", o->shop_id, "item_id", (json_int_t)o->item_id, "sku", o->sku,
                     "quantity", (json_int_t)o->qty, "price", (json_int_t)o->price, "status",
                     sbx_order_status(o), "fate", fates[o->fate], "final", sbx_order_final(o),
                     "created_ms", (json_int_t)o->create_ms, "updated_ms",
                     (json_int_t)o->update_ms);
}

/* POST /__sandbox/orders {"marketplace","sku"|"item_id","quantity":1,"count":1,
 *   "fate":"delivered"|"cancelled"|"returned"|"mixed","settle":false}
 * → {"ok":true,"orders":[…]}: a buyer orders a live item (count orders; "mixed" draws each fate
 * from the cancel/return rates; settle moves them to their final status at once). */
static void post_orders(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    sbx_sandbox *sb = rq->sb;
    int m = admin_market(rq, body, 0);
    const char *sku = json_string_value(json_object_get(body, "sku"));
    json_int_t item_id = json_integer_value(json_object_get(body, "item_id"));
    json_t *qv = json_object_get(body, "quantity"), *cv = json_object_get(body, "count");
    long long qty = qv ? (long long)json_integer_value(qv) : 1;
    long long count = cv ? (long long)json_integer_value(cv) : 1;
    const char *fate = json_string_value(json_object_get(body, "fate"));
    int f = !fate || !strcmp(fate, "delivered") ? SB_FATE_DELIVERED
            : !strcmp(fate, "cancelled")        ? SB_FATE_CANCELLED
            : !strcmp(fate, "returned")         ? SB_FATE_RETURNED
            : !strcmp(fate, "mixed")            ? 3
                                                : -1;
    if (m < 0 || m == SBX_ASSISTED) {
        admin_error(rs, 400, "marketplace must be shopee, lazada or tiktok");
        return;
    }
    if (qty < 1 || qty > 1000 || count < 1 || count > 10000 || f < 0) {
        admin_error(rs, 400,
                    "quantity 1..1000, count 1..10000, fate delivered|cancelled|returned|mixed");
        return;
    }
    const sb_item *it = NULL;
    for (size_t i = 0; i < sb->nitems && !it; i++)
        if (sb->items[i].market == m && ((sku && !strcmp(sb->items[i].sku, sku)) ||
                                         (item_id && sb->items[i].item_id == item_id)))
            it = &sb->items[i];
    if (!it) {
        admin_error(rs, 404, "no such item (sku or item_id)");
        return;
    }
    if (it->state != SB_IT_LIVE) {
        admin_error(rs, 409, "buyers only order live items");
        return;
    }
    json_t *arr = json_array();
    int settle = json_is_true(json_object_get(body, "settle"));
    for (long long k = 0; k < count; k++) {
        int fk = f;
        if (f == 3) {
            double d = sbx_rand01(sb);
            fk = d < sb->cancel_rate                     ? SB_FATE_CANCELLED
                 : d < sb->cancel_rate + sb->return_rate ? SB_FATE_RETURNED
                                                         : SB_FATE_DELIVERED;
        }
        /* placing may move the table (it grows): `it` is an item, never an order, so it stays */
        if (!sbx_order_place(sb, it, qty, fk, now)) {
            json_decref(arr);
            admin_error(rs, 507, "order table full");
            return;
        }
    }
    if (settle) sbx_orders_settle(sb, m, now); /* every open order of this marketplace */
    for (size_t i = sb->norders - (size_t)count; i < sb->norders; i++)
        if (json_array_size(arr) < 1000)
            json_array_append_new(arr, order_admin_json(&sb->orders[i]));
    sbx_reply_json(rs, 200, json_pack("{s:b,s:o}", "ok", 1, "orders", arr));
}

/* POST /__sandbox/items/status {"marketplace","item_id"|"sku","status"} → {"ok":true,"item":…}:
 * a ban by the marketplace ("banned"), a deletion or deactivation by the seller in the seller
 * centre ("deleted", "unlisted"), or the item back on sale ("live"); the marketplace's push is
 * sent (Shopee code 6 item status, Lazada product status, TikTok webhook type 5). */
static void post_item_status(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    sbx_sandbox *sb = rq->sb;
    int m = admin_market(rq, body, 0);
    const char *sku = json_string_value(json_object_get(body, "sku"));
    json_int_t item_id = json_integer_value(json_object_get(body, "item_id"));
    const char *st = json_string_value(json_object_get(body, "status"));
    int wd = !st                       ? -1
             : !strcmp(st, "banned")   ? SB_WD_BANNED
             : !strcmp(st, "deleted")  ? SB_WD_DELETED
             : !strcmp(st, "unlisted") ? SB_WD_UNLISTED
             : !strcmp(st, "live")     ? SB_WD_NONE
                                       : -1;
    if (m < 0 || m == SBX_ASSISTED) {
        admin_error(rs, 400, "marketplace must be shopee, lazada or tiktok");
        return;
    }
    if (wd < 0) {
        admin_error(rs, 400, "status must be banned, deleted, unlisted or live");
        return;
    }
    sb_item *it = NULL;
    for (size_t i = 0; i < sb->nitems && !it; i++)
        if (sb->items[i].market == m && ((sku && !strcmp(sb->items[i].sku, sku)) ||
                                         (item_id && sb->items[i].item_id == item_id)))
            it = &sb->items[i];
    if (!it) {
        admin_error(rs, 404, "no such item (sku or item_id)");
        return;
    }
    if (it->state != SB_IT_LIVE) {
        admin_error(rs, 409, "only an item that passed review changes status this way");
        return;
    }
    it->withdrawn = wd;
    it->update_ms = now;
    const sb_market_ops *ops = sbx_ops(m);
    if (ops && ops->item_changed) ops->item_changed(sb, it, now);
    sbx_reply_json(rs, 200, json_pack("{s:b,s:o}", "ok", 1, "item", item_admin_json(it)));
}

/* GET /__sandbox/orders?marketplace=&sku= → {"orders":[…]} (at most 1000, newest last) */
static void get_orders(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body;
    sbx_sandbox *sb = rq->sb;
    sbx_orders_due(sb, now);
    const char *code = sbx_query(rq, "marketplace"), *sku = sbx_query(rq, "sku");
    int m = code ? sbx_market_from_code(code) : -1;
    json_t *arr = json_array();
    size_t start = sb->norders > 1000 ? sb->norders - 1000 : 0;
    for (size_t i = start; i < sb->norders; i++) {
        const sb_order *o = &sb->orders[i];
        if ((m >= 0 && o->market != m) || (sku && strcmp(o->sku, sku))) continue;
        json_array_append_new(arr, order_admin_json(o));
    }
    sbx_reply_json(rs, 200,
                   json_pack("{s:I,s:o}", "total", (json_int_t)sb->norders, "orders", arr));
}

/* POST /__sandbox/orders/settle {"marketplace"|"all"} → every order to its final status now */
static void post_orders_settle(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    int m = admin_market(rq, body, 1);
    int n = sbx_orders_settle(rq->sb, m == -2 ? -1 : m, now);
    sbx_reply_json(rs, 200, json_pack("{s:b,s:i}", "ok", 1, "settled", n));
}

/* GET, POST /__sandbox/orders/settings {"rate_per_hour","step_ms","cancel_rate","return_rate"}:
 * rate_per_hour = orders a live item gets per hour from simulated buyers (0 = none). */
static void get_orders_settings(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    (void)body, (void)now;
    sbx_sandbox *sb = rq->sb;
    sbx_reply_json(rs, 200,
                   json_pack("{s:f,s:I,s:f,s:f}", "rate_per_hour", sb->order_rate, "step_ms",
                             (json_int_t)sb->order_step_ms, "cancel_rate", sb->cancel_rate,
                             "return_rate", sb->return_rate));
}

static void post_orders_settings(sb_req *rq, sb_resp *rs, json_t *body, long long now)
{
    sbx_sandbox *sb = rq->sb;
    json_t *r = json_object_get(body, "rate_per_hour"), *st = json_object_get(body, "step_ms");
    json_t *c = json_object_get(body, "cancel_rate"), *t = json_object_get(body, "return_rate");
    double rv = r ? json_number_value(r) : sb->order_rate;
    double cv = c ? json_number_value(c) : sb->cancel_rate;
    double tv = t ? json_number_value(t) : sb->return_rate;
    json_int_t sv = st ? json_integer_value(st) : sb->order_step_ms;
    if ((r && !json_is_number(r)) || (c && !json_is_number(c)) || (t && !json_is_number(t)) ||
        (st && !json_is_integer(st)) || rv < 0 || rv > 1e6 || cv < 0 || tv < 0 || cv + tv > 1 ||
        sv < 0 || sv > 86400000) {
        admin_error(rs, 400,
                    "rate_per_hour 0..1e6, step_ms 0..86400000, cancel_rate + return_rate <= 1");
        return;
    }
    sb->order_rate = rv;
    sb->order_step_ms = (long)sv;
    sb->cancel_rate = cv;
    sb->return_rate = tv;
    get_orders_settings(rq, rs, body, now);
}

/* The routing table: every admin endpoint, once. */
static const struct admin_route {
    const char *method;
    const char *path;
    admin_fn run;
} routes[] = {
    {"GET", "/__sandbox/stats", get_stats},
    {"GET", "/__sandbox/faults", get_faults},
    {"POST", "/__sandbox/faults", post_faults},
    {"POST", "/__sandbox/reset", post_reset},
    {"POST", "/__sandbox/revoke", post_revoke},
    {"POST", "/__sandbox/expire-tokens", post_expire_tokens},
    {"POST", "/__sandbox/review", post_review},
    {"POST", "/__sandbox/authorize", post_authorize},
    {"GET", "/__sandbox/items", get_items},
    {"POST", "/__sandbox/items/status", post_item_status},
    {"GET", "/__sandbox/config", get_config},
    {"POST", "/__sandbox/config", post_config},
    {"GET", "/__sandbox/pages", get_pages},
    {"POST", "/__sandbox/pages", post_pages},
    {"GET", "/__sandbox/orders", get_orders},
    {"POST", "/__sandbox/orders", post_orders},
    {"POST", "/__sandbox/orders/settle", post_orders_settle},
    {"GET", "/__sandbox/orders/settings", get_orders_settings},
    {"POST", "/__sandbox/orders/settings", post_orders_settings},
};

void sbx_admin(sb_req *rq, sb_resp *rs)
{
    const struct admin_route *r = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !r; i++)
        if (!strcmp(routes[i].path, rq->path) && !strcmp(routes[i].method, rq->method))
            r = &routes[i];
    if (!r) {
        admin_error(rs, 404, "unknown admin endpoint or method");
        return;
    }
    json_t *body = NULL;
    if (!strcmp(rq->method, "POST") && rq->body.len) {
        json_error_t je;
        body = json_loadb(rq->body.data, rq->body.len, 0, &je);
        if (!json_is_object(body)) {
            json_decref(body);
            admin_error(rs, 400, "body must be a JSON object");
            return;
        }
    }
    if (!body) body = json_object();
    sbx_sandbox *sb = rq->sb;
    pthread_mutex_lock(&sb->mu);
    r->run(rq, rs, body, sbx_now_ms());
    pthread_mutex_unlock(&sb->mu);
    json_decref(body);
}
