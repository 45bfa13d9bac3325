/* sandbox/ TikTok Shop: Partner API 202309 as MARKETPLACES.md documents it — the
 * wrapped signature (sorted query without sign/access_token, path first, JSON body appended),
 * x-tts-access-token, token get/refresh, shops, image upload, product create/update/search/get,
 * PENDING → ACTIVATE/FAILED. Runs under sb->mu; no I/O.
 *
 *   GET  /oauth/authorize ?app_key|service_id&state(&redirect_uri)   (the legacy link form)
 *   POST /oauth/authorize/approve
 *   GET  /api/v2/token/get ?app_key&app_secret&auth_code&grant_type=authorized_code
 *   GET  /api/v2/token/refresh ?app_key&app_secret&refresh_token&grant_type=refresh_token
 *   GET  /authorization/202309/shops
 *   POST /product/202309/images/upload   multipart "data" (body not signed)
 *   POST /product/202309/products        PUT /product/202309/products/{id}
 *   POST /product/202309/products/search ?page_size  {"seller_skus":[…]}
 *   GET  /product/202309/products/{id}
 *   GET  /product/202309/categories   GET /product/202309/categories/{id}/attributes
 *   POST /product/202309/products/{id}/prices/update   …/{id}/inventory/update
 *   POST /product/202309/products/deactivate|activate {product_ids}   DELETE …/products
 * Product calls need shop_cipher. Answers {"code":0,"message":"Success","request_id","data"}.
 * Errors: 36009002 (HTTP 429) throttled and 36009003 (HTTP 500) internal, 105002 expired token
 * and the product codes are published; 105001 (invalid token), 106001 (bad signature) and
 * 36009004 for every bad common parameter (app_key, timestamp, shop_cipher, auth_code) are the
 * simulator's choice. Auth errors use HTTP 401, parameter and validation errors 400, an unknown
 * product 404. */
#include "sandbox/sandbox_int.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_TTL_MS (30 * 60 * 1000LL)
#define PRODUCTS "/product/202309/products"

__attribute__((format(printf, 5, 6))) static int fail(sb_req *rq, sb_resp *rs, int http, long code,
                                                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sbx_reply_json(rs, http,
                   json_pack("{s:I,s:s,s:s}", "code", (json_int_t)code, "message", msg,
                             "request_id", rq->request_id));
    return -1;
}

static void ok(sb_req *rq, sb_resp *rs, json_t *data)
{
    sbx_reply_json(rs, 200,
                   json_pack("{s:i,s:s,s:s,s:o}", "code", 0, "message", "Success", "request_id",
                             rq->request_id, "data", data ? data : json_object()));
}

static const char *status_name(int st)
{
    return st == SB_IT_LIVE ? "ACTIVATE" : st == SB_IT_REJECTED ? "FAILED" : "PENDING";
}

/* The status products report: the seller's take-down wins over review. */
static const char *item_status(const sb_item *it)
{
    return it->withdrawn == SB_WD_DELETED    ? "DELETED"
           : it->withdrawn == SB_WD_BANNED   ? "PLATFORM_DEACTIVATED"
           : it->withdrawn == SB_WD_UNLISTED ? "SELLER_DEACTIVATED"
                                             : status_name(it->state);
}

static int gate(sb_req *rq, sb_resp *rs, int product, sb_shop **shop)
{
    sbx_sandbox *sb = rq->sb;
    const char *key = sbx_query(rq, "app_key"), *ts = sbx_query(rq, "timestamp");
    const char *sign = sbx_query(rq, "sign");
    long long t, now_s = rq->now_ms / 1000;
    if (!key || strcmp(key, sb->opt.tiktok_app_key))
        return fail(rq, rs, 400, 36009004, "invalid param error: app_key");
    if (!ts || sbx_parse_ll(ts, &t) || t < now_s - 300 || t > now_s + 300)
        return fail(rq, rs, 400, 36009004,
                    "invalid param error: timestamp is missing or more than 5 minutes off");
    cx_param ps[SB_MAX_PARAMS];
    size_t n = 0;
    for (size_t i = 0; i < rq->nparams; i++)
        if (rq->params[i].from_query) ps[n++] = (cx_param){rq->params[i].key, rq->params[i].value};
    char want[65];
    const void *body = rq->multipart ? NULL : rq->body.data;
    size_t blen = rq->multipart ? 0 : rq->body.len;
    if (!sign || cx_tiktok_sign(sb->opt.tiktok_app_secret, rq->path, ps, n, body, blen, want) ||
        strcmp(want, sign))
        return fail(rq, rs, 401, 106001, "Invalid signature.");
    enum sb_auth a =
        sbx_access_check(sb, SBX_TIKTOK, sbx_header(rq, "x-tts-access-token"), rq->now_ms, shop);
    if (a == SB_AUTH_EXPIRED) return fail(rq, rs, 401, 105002, "Expired credentials.");
    if (a != SB_AUTH_OK) return fail(rq, rs, 401, 105001, "Invalid credentials.");
    if (product) {
        const char *cipher = sbx_query(rq, "shop_cipher");
        if (!cipher || strcmp(cipher, (*shop)->cipher))
            return fail(rq, rs, 400, 36009004, "invalid param error: shop_cipher");
    }
    return 0;
}

static int is_http_url(const char *u)
{
    return u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) && !strpbrk(u, " \r\n");
}

/* ---- authorisation ---- */
static void send_code(sb_req *rq, sb_resp *rs, const char *redirect, const char *state,
                      const char *want_shop)
{
    sbx_sandbox *sb = rq->sb;
    long long n;
    if (want_shop && *want_shop && (sbx_parse_ll(want_shop, &n) || n <= 0)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Mã cửa hàng TikTok "
                       "Shop phải là một số. Quay lại và nhập lại.</p>");
        return;
    }
    sb_shop *s =
        sbx_shop_authorise(sb, SBX_TIKTOK, want_shop, sbx_hash(state && *state ? state : redirect));
    char code[SB_ID_MAX];
    if (!s || sbx_token_issue(sb, SBX_TIKTOK, SB_TOK_CODE, s->id, CODE_TTL_MS, code)) {
        sbx_reply_html(rs, 503,
                       "<!doctype html><meta charset=\"utf-8\"><p>Sàn mô phỏng đã đầy; "
                       "hãy đặt lại (reset).</p>");
        return;
    }
    cs_buf u;
    cs_buf_init(&u, 16384);
    if (!redirect) {
        /* No registered redirect: show the code to copy, as a developer console would. */
        cs_buf_puts(&u, "<!doctype html><meta charset=\"utf-8\"><p>Đã cấp quyền. Mã cấp quyền "
                        "(auth_code): <code>");
        sbx_html_escape(&u, code);
        cs_buf_puts(&u, "</code></p>");
        sbx_reply_html(rs, 200, u.data ? u.data : "");
        cs_buf_free(&u);
        return;
    }
    cs_buf_puts(&u, redirect);
    cs_buf_puts(&u, strchr(redirect, '?') ? "&app_key=" : "?app_key=");
    sbx_url_escape(&u, sb->opt.tiktok_app_key);
    cs_buf_puts(&u, "&code=");
    sbx_url_escape(&u, code);
    cs_buf_puts(&u, "&locale=vi-VN&shop_region=VN");
    if (state && *state) {
        cs_buf_puts(&u, "&state=");
        sbx_url_escape(&u, state);
    }
    sbx_redirect(rs, u.data ? u.data : redirect);
    cs_buf_free(&u);
}

static const char *redirect_of(sb_req *rq, const char *given)
{
    if (rq->sb->tiktok_redirect_url) return rq->sb->tiktok_redirect_url;
    return is_http_url(given) ? given : NULL;
}

static void authorize(sb_req *rq, sb_resp *rs)
{
    const char *key = sbx_query(rq, "app_key");
    if (!key) key = sbx_query(rq, "service_id");
    if (!key || strcmp(key, rq->sb->opt.tiktok_app_key)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Ứng dụng không hợp lệ "
                       "(app_key).</p>");
        return;
    }
    const char *state = sbx_query(rq, "state");
    const char *redirect = redirect_of(rq, sbx_query(rq, "redirect_uri"));
    if (rq->sb->opt.auto_approve) {
        send_code(rq, rs, redirect, state, sbx_query(rq, "shop_id"));
        return;
    }
    const char *hidden[] = {"redirect_uri", redirect ? redirect : "", "state", state ? state : "",
                            NULL};
    sbx_auth_page(rs, "TikTok Shop", "/oauth/authorize/approve", hidden);
}

static void approve(sb_req *rq, sb_resp *rs)
{
    const char *decision = sbx_param(rq, "decision");
    if (!decision || strcmp(decision, "approve")) {
        sbx_reply_html(rs, 200,
                       "<!doctype html><meta charset=\"utf-8\"><p>Bạn đã từ chối cấp "
                       "quyền. Ứng dụng sẽ không quản lý được cửa hàng.</p>");
        return;
    }
    send_code(rq, rs, redirect_of(rq, sbx_param(rq, "redirect_uri")), sbx_param(rq, "state"),
              sbx_param(rq, "shop_id"));
}

static int app_credentials(sb_req *rq, sb_resp *rs, const char *grant)
{
    const char *key = sbx_query(rq, "app_key"), *secret = sbx_query(rq, "app_secret");
    const char *g = sbx_query(rq, "grant_type");
    if (!key || strcmp(key, rq->sb->opt.tiktok_app_key) || !secret ||
        strcmp(secret, rq->sb->opt.tiktok_app_secret))
        return fail(rq, rs, 400, 36009004, "invalid param error: app_key or app_secret");
    if (!g || strcmp(g, grant))
        return fail(rq, rs, 400, 36009004, "invalid param error: grant_type must be %s", grant);
    return 0;
}

static void token_reply(sb_req *rq, sb_resp *rs, const sb_shop *s)
{
    sbx_sandbox *sb = rq->sb;
    char at[SB_ID_MAX], rt[SB_ID_MAX], open_id[40], name[64];
    long long ttl = sbx_access_ttl_ms(sb, SBX_TIKTOK), rttl = sbx_refresh_ttl_ms(sb, SBX_TIKTOK);
    if (sbx_token_issue(sb, SBX_TIKTOK, SB_TOK_ACCESS, s->id, ttl, at) ||
        sbx_token_issue(sb, SBX_TIKTOK, SB_TOK_REFRESH, s->id, rttl, rt)) {
        fail(rq, rs, 500, 36009003, "Internal error. Please try again.");
        return;
    }
    snprintf(open_id, sizeof open_id, "sbx-open-%s", s->id);
    snprintf(name, sizeof name, "Cửa hàng mô phỏng %s", s->id);
    ok(rq, rs,
       json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:s,s:i,s:[s,s]}", "access_token", at,
                 "access_token_expire_in", (json_int_t)((rq->now_ms + ttl) / 1000), "refresh_token",
                 rt, "refresh_token_expire_in", (json_int_t)((rq->now_ms + rttl) / 1000), "open_id",
                 open_id, "seller_name", name, "seller_base_region", "VN", "user_type", 0,
                 "granted_scopes", "seller.product.basic", "seller.authorization.info"));
}

static void token_get(sb_req *rq, sb_resp *rs)
{
    if (app_credentials(rq, rs, "authorized_code")) return;
    const char *code = sbx_query(rq, "auth_code");
    sb_token *t = sbx_token_find(rq->sb, SBX_TIKTOK, SB_TOK_CODE, code);
    int good = t && !t->used && t->expires_ms > rq->now_ms;
    if (t) t->used = 1;
    sb_shop *s = good ? sbx_shop_find(rq->sb, SBX_TIKTOK, t->shop_id) : NULL;
    if (!s || s->revoked)
        fail(rq, rs, 400, 36009004, "invalid param error: auth_code is invalid, expired or used");
    else
        token_reply(rq, rs, s);
}

static void token_refresh(sb_req *rq, sb_resp *rs)
{
    if (app_credentials(rq, rs, "refresh_token")) return;
    sb_token *t =
        sbx_token_find(rq->sb, SBX_TIKTOK, SB_TOK_REFRESH, sbx_query(rq, "refresh_token"));
    int good = t && !t->used && t->expires_ms > rq->now_ms;
    sb_shop *s = good ? sbx_shop_find(rq->sb, SBX_TIKTOK, t->shop_id) : NULL;
    if (!s || s->revoked) {
        fail(rq, rs, 400, 36009004,
             "invalid param error: refresh_token is invalid, expired or already used");
        return;
    }
    t->used = 1;
    token_reply(rq, rs, s);
}

static void shops(sb_req *rq, sb_resp *rs)
{
    sb_shop *s;
    if (gate(rq, rs, 0, &s)) return;
    char name[64], code[32];
    snprintf(name, sizeof name, "Cửa hàng mô phỏng %s", s->id);
    snprintf(code, sizeof code, "VNSBX%s", s->id + (strlen(s->id) > 6 ? strlen(s->id) - 6 : 0));
    ok(rq, rs,
       json_pack("{s:[{s:s,s:s,s:s,s:s,s:s,s:s}]}", "shops", "id", s->id, "name", name, "region",
                 "VN", "seller_type", "LOCAL", "cipher", s->cipher, "code", code));
}

static void image_upload(sb_req *rq, sb_resp *rs)
{
    sb_shop *s;
    if (gate(rq, rs, 0, &s)) return;
    const sb_part *p = sbx_part(rq, "data");
    int w, h;
    if (!p || !p->len) {
        fail(rq, rs, 400, 36009004, "invalid param error: data");
        return;
    }
    if (p->len > SB_IMAGE_MAX) {
        fail(rq, rs, 400, 12052302, "The main images size exceed limit.");
        return;
    }
    if (!sbx_image_kind(p->data, p->len, &w, &h)) {
        fail(rq, rs, 400, 12052304, "Main product image format not support.");
        return;
    }
    char id[SB_ID_MAX], base[64], url[200];
    if (sbx_image_add(rq->sb, SBX_TIKTOK, p->len, w, h, id)) {
        fail(rq, rs, 500, 36009003, "Internal error. Please try again.");
        return;
    }
    sbx_base_url(rq->sb, SBX_TIKTOK, base, sizeof base);
    snprintf(url, sizeof url, "%s/img/%s", base, id);
    const char *use = sbx_param(rq, "use_case");
    ok(rq, rs,
       json_pack("{s:s,s:s,s:i,s:i,s:s}", "uri", id, "url", url, "width", w, "height", h,
                 "use_case", use ? use : "MAIN_IMAGE"));
}

/* ---- products ---- */
static int positive(json_t *v)
{
    if (json_is_number(v)) return json_number_value(v) > 0;
    if (!json_is_string(v)) return 0;
    char *end;
    double d = strtod(json_string_value(v), &end);
    return !*end && end != json_string_value(v) && d > 0;
}

static double number(json_t *v)
{
    if (json_is_number(v)) return json_number_value(v);
    return json_is_string(v) ? strtod(json_string_value(v), NULL) : 0;
}

static int has_attr(json_t *attrs, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a)
    {
        const char *v = json_string_value(json_object_get(a, "id"));
        if (v && !strcmp(v, id) && json_array_size(json_object_get(a, "values"))) return 1;
    }
    return 0;
}

/* Validate a create (all members) or update (members present) body. 0 or -1 answered. */
static int validate(sb_req *rq, sb_resp *rs, json_t *b, int create, const sb_item *old,
                    const sb_category **cat)
{
    sbx_sandbox *sb = rq->sb;
    json_t *title = json_object_get(b, "title"), *desc = json_object_get(b, "description");
    json_t *catv = json_object_get(b, "category_id"), *imgs = json_object_get(b, "main_images");
    json_t *skus = json_object_get(b, "skus"), *pw = json_object_get(b, "package_weight");
    if ((create || title) && !(json_is_string(title) && *json_string_value(title)))
        return fail(rq, rs, 400, 12052261, "product name is empty");
    if ((create || desc) && !(json_is_string(desc) && *json_string_value(desc)))
        return fail(rq, rs, 400, 12052015, "The product description is required");
    if ((create || catv) && !(json_is_string(catv) && *json_string_value(catv)))
        return fail(rq, rs, 400, 12052002, "Incorrect category format");
    *cat = sbx_category(sb, SBX_TIKTOK, catv ? json_string_value(catv) : old->category);
    if (!*cat) return fail(rq, rs, 400, 12052023, "Category does not exist");
    if ((create || imgs) && !json_array_size(imgs))
        return fail(rq, rs, 400, 12052028, "Main product image is required");
    size_t i;
    json_t *e;
    json_array_foreach(imgs, i, e)
    {
        if (!sbx_image_find(sb, SBX_TIKTOK, json_string_value(json_object_get(e, "uri"))))
            return fail(rq, rs, 400, 12052300, "product main image uri illegal");
    }
    if ((create || skus) && !json_array_size(skus))
        return fail(rq, rs, 400, 36009004, "invalid param error: skus");
    json_array_foreach(skus, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "seller_sku"));
        if (!s || !*s || strlen(s) >= SB_SKU_MAX)
            return fail(rq, rs, 400, 12019059, "seller sku is invalid");
        if (!positive(json_object_get(json_object_get(e, "price"), "amount")))
            return fail(rq, rs, 400, 12052073, "The product price is invalid");
    }
    if ((create || pw) && !positive(json_object_get(pw, "value")))
        return fail(rq, rs, 400, 12052181, "The package weight of the product can not be zero.");
    if (create || catv || json_object_get(b, "product_attributes"))
        for (int k = 0; k < (*cat)->nattrs; k++)
            if (!has_attr(json_object_get(b, "product_attributes"), (*cat)->attrs[k]))
                return fail(rq, rs, 400, 12052104, "property is required");
    return 0;
}

static void apply(sb_req *rq, sb_item *it, json_t *b, const sb_category *cat)
{
    json_t *v, *s0 = json_array_get(json_object_get(b, "skus"), 0);
    if ((v = json_object_get(b, "title")))
        snprintf(it->name, sizeof it->name, "%s", json_string_value(v));
    if (!it->sku[0] && s0)
        snprintf(it->sku, sizeof it->sku, "%s",
                 json_string_value(json_object_get(s0, "seller_sku")));
    snprintf(it->category, sizeof it->category, "%s", cat->id);
    if (s0) it->price = number(json_object_get(json_object_get(s0, "price"), "amount"));
    json_t *inv = json_object_get(json_array_get(json_object_get(s0, "inventory"), 0), "quantity");
    if (json_is_integer(inv)) it->stock = json_integer_value(inv);
    if ((v = json_object_get(json_object_get(b, "package_weight"), "value")))
        it->weight = number(v);
    if ((v = json_object_get(json_array_get(json_object_get(b, "main_images"), 0), "uri")))
        snprintf(it->image_id, sizeof it->image_id, "%s", json_string_value(v));
    long long keep = it->create_ms;
    sbx_item_submit(rq->sb, it, json_string_value(json_object_get(b, "description")), rq->now_ms);
    if (keep) it->create_ms = keep;
}

static json_t *created(const sb_item *it)
{
    char pid[32], sid[32];
    snprintf(pid, sizeof pid, "%lld", it->item_id);
    snprintf(sid, sizeof sid, "%lld", it->sku_id);
    return json_pack("{s:s,s:[{s:s,s:s}],s:[]}", "product_id", pid, "skus", "id", sid, "seller_sku",
                     it->sku, "warnings");
}

static json_t *body_json(sb_req *rq, sb_resp *rs)
{
    json_error_t je;
    json_t *b = rq->body.len ? json_loadb(rq->body.data, rq->body.len, 0, &je) : NULL;
    if (!json_is_object(b)) {
        json_decref(b);
        fail(rq, rs, 400, 36009004, "invalid param error: body must be a JSON object");
        return NULL;
    }
    return b;
}

static void product_create(sb_req *rq, sb_resp *rs)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    const sb_category *cat;
    if (!validate(rq, rs, b, 1, NULL, &cat)) {
        sb_item *it = sbx_item_new(rq->sb, SBX_TIKTOK);
        if (!it) {
            fail(rq, rs, 400, 12052093, "Exceeded the product listing limit for the seller.");
        } else {
            snprintf(it->shop_id, sizeof it->shop_id, "%s", s->id);
            apply(rq, it, b, cat);
            ok(rq, rs, created(it));
        }
    }
    json_decref(b);
}

static sb_item *product_of(sb_req *rq, const sb_shop *s, const char *idtext)
{
    long long id;
    if (sbx_parse_ll(idtext, &id)) return NULL;
    sb_item *it = sbx_item_by_id(rq->sb, SBX_TIKTOK, id);
    return it && !strcmp(it->shop_id, s->id) && it->withdrawn != SB_WD_DELETED ? it : NULL;
}

static void product_update(sb_req *rq, sb_resp *rs, const char *idtext)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    sb_item *it = product_of(rq, s, idtext);
    if (!it) {
        fail(rq, rs, 404, 12052260, "The product ID does not exist");
        return;
    }
    json_t *b = body_json(rq, rs);
    if (!b) return;
    const sb_category *cat;
    if (!validate(rq, rs, b, 0, it, &cat)) {
        apply(rq, it, b, cat);
        ok(rq, rs, created(it));
    }
    json_decref(b);
}

static json_t *product_json(const sb_item *it)
{
    char pid[32], sid[32], amount[32];
    snprintf(pid, sizeof pid, "%lld", it->item_id);
    snprintf(sid, sizeof sid, "%lld", it->sku_id);
    snprintf(amount, sizeof amount, "%.0f", it->price);
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:{s:s,s:s},s:[{s:I}]}],s:I,s:I}", "id",
                          pid, "title", it->name, "status", item_status(it), "category_id",
                          it->category, "skus", "id", sid, "seller_sku", it->sku, "price", "amount",
                          amount, "currency", "VND", "inventory", "quantity", (json_int_t)it->stock,
                          "create_time", (json_int_t)(it->create_ms / 1000), "update_time",
                          (json_int_t)(it->update_ms / 1000));
    if (p)
        json_object_set_new(p, "description", json_string(it->description ? it->description : ""));
    if (p && it->state == SB_IT_REJECTED)
        json_object_set_new(p, "audit_failed_reasons",
                            json_pack("[{s:s,s:[s],s:[s]}]", "position", "product", "reasons",
                                      it->reason, "suggestions",
                                      "Remove the prohibited words and submit again."));
    return p;
}

static void product_get(sb_req *rq, sb_resp *rs, const char *idtext)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    sb_item *it = product_of(rq, s, idtext);
    if (!it)
        fail(rq, rs, 404, 12052260, "The product ID does not exist");
    else
        ok(rq, rs, product_json(it));
}

static void product_search(sb_req *rq, sb_resp *rs)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    long long size, from = 0;
    const char *ps = sbx_query(rq, "page_size"), *tok = sbx_query(rq, "page_token");
    if (!ps || sbx_parse_ll(ps, &size) || size < 1 || size > 100) {
        fail(rq, rs, 400, 36009004, "invalid param error: page_size must be 1 to 100");
        return;
    }
    if (tok && *tok && (sbx_parse_ll(tok, &from) || from < 0)) {
        fail(rq, rs, 400, 36009004, "invalid param error: page_token");
        return;
    }
    json_error_t je;
    json_t *b = rq->body.len ? json_loadb(rq->body.data, rq->body.len, 0, &je) : json_object();
    if (!json_is_object(b)) {
        json_decref(b);
        fail(rq, rs, 400, 36009004, "invalid param error: body must be a JSON object");
        return;
    }
    json_t *skus = json_object_get(b, "seller_skus");
    const char *status = json_string_value(json_object_get(b, "status"));
    json_t *arr = json_array();
    long long total = 0;
    for (size_t i = 0; i < rq->sb->nitems; i++) {
        const sb_item *it = &rq->sb->items[i];
        if (it->market != SBX_TIKTOK || strcmp(it->shop_id, s->id)) continue;
        if (status && strcmp(status, "ALL") && strcmp(status, item_status(it))) continue;
        if ((!status || !strcmp(status, "ALL")) && it->withdrawn == SB_WD_DELETED) continue;
        if (json_is_array(skus)) {
            int hit = 0;
            size_t k;
            json_t *e;
            json_array_foreach(skus, k, e) hit |=
                json_is_string(e) && !strcmp(json_string_value(e), it->sku);
            if (!hit) continue;
        }
        if (total >= from && total < from + size) json_array_append_new(arr, product_json(it));
        total++;
    }
    json_decref(b);
    char next[32] = "";
    if (from + size < total) snprintf(next, sizeof next, "%lld", from + size);
    ok(rq, rs,
       json_pack("{s:o,s:I,s:s}", "products", arr, "total_count", (json_int_t)total,
                 "next_page_token", next));
}

/* ---- categories and attributes (issue 16) ---- */
static void categories(sb_req *rq, sb_resp *rs)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    size_t n;
    sb_catnode *nodes = sbx_catalog_tree(rq->sb, SBX_TIKTOK, &n);
    if (!nodes) {
        fail(rq, rs, 500, 36009003, "Internal error");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:s,s:b,s:[s]}", "id", nodes[i].id, "parent_id",
                                        nodes[i].parent, "local_name", nodes[i].name, "is_leaf",
                                        nodes[i].leaf, "permission_statuses", "AVAILABLE"));
    cs_free(nodes);
    ok(rq, rs, json_pack("{s:o}", "categories", arr));
}

/* Attributes as 202309 lists them; "is_requried" is spelled as TikTok's own answer spells it. */
static void attributes(sb_req *rq, sb_resp *rs, const char *cid)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    const sb_category *c = sbx_category(rq->sb, SBX_TIKTOK, cid);
    if (!c) {
        fail(rq, rs, 400, 12052004, "The category is not a leaf category or does not exist");
        return;
    }
    sb_attrdef defs[SB_MAX_ATTRS + 4];
    size_t nd = sbx_catalog_attrs(SBX_TIKTOK, c, defs, sizeof defs / sizeof defs[0]);
    json_t *arr = json_array();
    for (size_t i = 0; i < nd; i++) {
        json_t *vals = json_array();
        for (size_t k = 0; defs[i].choices && defs[i].choices[k]; k++) {
            char vid[24];
            snprintf(vid, sizeof vid, "%zu", 1000000 + k);
            json_array_append_new(vals,
                                  json_pack("{s:s,s:s}", "id", vid, "name", defs[i].choices[k]));
        }
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:b,s:o,s:s,s:b,s:b}", "id", defs[i].id, "name",
                           defs[i].name, "type", "PRODUCT_PROPERTY", "is_requried",
                           defs[i].mandatory, "values", vals, "value_data_format",
                           defs[i].choices ? "POSITIVE_INT_OR_DECIMAL" : "FREE_TEXT",
                           "is_customizable", defs[i].choices == NULL, "is_multiple_selection", 0));
    }
    ok(rq, rs, json_pack("{s:o}", "attributes", arr));
}

/* ---- changes to live products: price, inventory, deactivate/activate, delete (issue 16) ---- */
static sb_item *sku_of(sb_item *it, json_t *sku)
{
    const char *id = json_string_value(json_object_get(sku, "id"));
    return id && sbx_ll(id) == it->sku_id ? it : NULL;
}

/* POST …/products/{id}/prices/update {skus:[{id, price:{amount, currency:"VND"}}]} and
 * …/inventory/update {skus:[{id, inventory:[{warehouse_id?, quantity}]}]}. */
static void price_or_stock(sb_req *rq, sb_resp *rs, const char *idtext, int prices)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    sb_item *it = product_of(rq, s, idtext);
    if (!it) {
        fail(rq, rs, 404, 12052260, "The product ID does not exist");
        return;
    }
    json_t *b = body_json(rq, rs);
    if (!b) return;
    json_t *skus = json_object_get(b, "skus");
    if (!json_is_array(skus) || !json_array_size(skus)) {
        fail(rq, rs, 400, 36009004, "invalid param error: skus is required");
        json_decref(b);
        return;
    }
    /* Check every SKU first: the call applies all or nothing. */
    size_t i;
    json_t *e;
    json_array_foreach(skus, i, e)
    {
        if (!sku_of(it, e)) {
            fail(rq, rs, 400, 12052217, "The SKU ID does not exist in this product");
            json_decref(b);
            return;
        }
        if (prices) {
            json_t *pr = json_object_get(e, "price");
            const char *amt = json_string_value(json_object_get(pr, "amount"));
            const char *cur = json_string_value(json_object_get(pr, "currency"));
            long long v;
            if (!amt || sbx_parse_ll(amt, &v) || v <= 0 || !cur || strcmp(cur, "VND")) {
                fail(rq, rs, 400, 12052023,
                     "price.amount must be a positive whole number of VND with currency VND");
                json_decref(b);
                return;
            }
        } else {
            json_t *q =
                json_object_get(json_array_get(json_object_get(e, "inventory"), 0), "quantity");
            if (!json_is_integer(q) || json_integer_value(q) < 0 || json_integer_value(q) > 99999) {
                fail(rq, rs, 400, 12052024, "inventory quantity must be 0 to 99999");
                json_decref(b);
                return;
            }
        }
    }
    json_array_foreach(skus, i, e)
    {
        if (prices)
            it->price = (double)sbx_ll(
                json_string_value(json_object_get(json_object_get(e, "price"), "amount")));
        else
            it->stock = json_integer_value(
                json_object_get(json_array_get(json_object_get(e, "inventory"), 0), "quantity"));
    }
    it->update_ms = rq->now_ms;
    json_decref(b);
    ok(rq, rs, NULL);
}

/* POST …/products/deactivate|activate and DELETE …/products: {product_ids:[…]} (1–20); the
 * ones that fail are listed in data.errors, the others are applied. */
static void take_down(sb_req *rq, sb_resp *rs, int to)
{
    sb_shop *s;
    if (gate(rq, rs, 1, &s)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    json_t *ids = json_object_get(b, "product_ids");
    if (!json_is_array(ids) || !json_array_size(ids) || json_array_size(ids) > 20) {
        fail(rq, rs, 400, 36009004, "invalid param error: product_ids must hold 1 to 20 ids");
        json_decref(b);
        return;
    }
    json_t *errors = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e)
    {
        const char *id = json_string_value(e);
        sb_item *it = id ? product_of(rq, s, id) : NULL;
        if (!it) {
            json_array_append_new(errors, json_pack("{s:i,s:s,s:{s:s}}", "code", 12052260,
                                                    "message", "The product ID does not exist",
                                                    "detail", "product_id", id ? id : ""));
            continue;
        }
        it->withdrawn = to;
        it->update_ms = rq->now_ms;
    }
    json_decref(b);
    ok(rq, rs, json_pack("{s:o}", "errors", errors));
}
static void orders_search(sb_req *rq, sb_resp *rs);

static void handle(sb_req *rq, sb_resp *rs)
{
    const char *p = rq->path, *m = rq->method;
    size_t pl = strlen(PRODUCTS);
    if (!strcmp(p, "/oauth/authorize") && !strcmp(m, "GET"))
        authorize(rq, rs);
    else if (!strcmp(p, "/oauth/authorize/approve") && !strcmp(m, "POST"))
        approve(rq, rs);
    else if (!strcmp(p, "/api/v2/token/get") && !strcmp(m, "GET"))
        token_get(rq, rs);
    else if (!strcmp(p, "/api/v2/token/refresh") && !strcmp(m, "GET"))
        token_refresh(rq, rs);
    else if (!strcmp(p, "/authorization/202309/shops") && !strcmp(m, "GET"))
        shops(rq, rs);
    else if (!strcmp(p, "/product/202309/images/upload") && !strcmp(m, "POST"))
        image_upload(rq, rs);
    else if (!strcmp(p, PRODUCTS) && !strcmp(m, "POST"))
        product_create(rq, rs);
    else if (!strcmp(p, PRODUCTS "/search") && !strcmp(m, "POST"))
        product_search(rq, rs);
    else if (!strncmp(p, PRODUCTS "/", pl + 1) && !strchr(p + pl + 1, '/') && !strcmp(m, "GET"))
        product_get(rq, rs, p + pl + 1);
    else if (!strncmp(p, PRODUCTS "/", pl + 1) && !strchr(p + pl + 1, '/') && !strcmp(m, "PUT"))
        product_update(rq, rs, p + pl + 1);
    else if (!strcmp(p, "/product/202309/categories") && !strcmp(m, "GET"))
        categories(rq, rs);
    else if (!strncmp(p, "/product/202309/categories/", 27) && !strcmp(m, "GET") &&
             strstr(p + 27, "/attributes") &&
             !strcmp(strstr(p + 27, "/attributes"), "/attributes")) {
        char cid[32];
        snprintf(cid, sizeof cid, "%.*s", (int)(strstr(p + 27, "/attributes") - (p + 27)), p + 27);
        attributes(rq, rs, cid);
    } else if (!strcmp(p, PRODUCTS "/deactivate") && !strcmp(m, "POST"))
        take_down(rq, rs, SB_WD_UNLISTED);
    else if (!strcmp(p, PRODUCTS "/activate") && !strcmp(m, "POST"))
        take_down(rq, rs, SB_WD_NONE);
    else if (!strcmp(p, PRODUCTS) && !strcmp(m, "DELETE"))
        take_down(rq, rs, SB_WD_DELETED);
    else if (!strncmp(p, PRODUCTS "/", pl + 1) && !strcmp(m, "POST") &&
             (strstr(p + pl + 1, "/prices/update") || strstr(p + pl + 1, "/inventory/update"))) {
        char pid[32];
        const char *slash = strchr(p + pl + 1, '/');
        int prices = !strcmp(slash, "/prices/update");
        if (!prices && strcmp(slash, "/inventory/update")) {
            fail(rq, rs, 404, 36009004, "invalid param error: no such API %s %s", m, p);
            return;
        }
        snprintf(pid, sizeof pid, "%.*s", (int)(slash - (p + pl + 1)), p + pl + 1);
        price_or_stock(rq, rs, pid, prices);
    } else if (!strcmp(p, "/order/202309/orders/search") && !strcmp(m, "POST"))
        orders_search(rq, rs);
    else
        fail(rq, rs, 404, 36009004, "invalid param error: no such API %s %s", m, p);
}

static int is_create(const char *method, const char *path)
{
    return !strcmp(method, "POST") && !strcmp(path, PRODUCTS);
}

static void throttle(sb_req *rq, sb_resp *rs)
{
    fail(rq, rs, 429, 36009002,
         "Too many requests. You've made too many requests in a short period of time.");
}

static void server_error(sb_req *rq, sb_resp *rs)
{
    fail(rq, rs, 500, 36009003,
         "Internal error. Please try again. If the issue persists after multiple attempts, "
         "please contact platform support.");
}

static void norm_path(const char *path, char *out, size_t n)
{
    size_t pl = strlen(PRODUCTS);
    if (!strncmp(path, PRODUCTS "/", pl + 1) && strcmp(path + pl + 1, "search"))
        snprintf(out, n, "%s/{id}", PRODUCTS);
    else
        snprintf(out, n, "%s", path);
}

/* ---- webhooks --------------------------------------------------------------------------------
 * POST {tiktok_push_url} with Authorization = hex HMAC-SHA256(app_secret, app_key + body) and
 * {"type":N,"tts_notification_id","shop_id","timestamp","data":{…}}: type 1 order status change
 * {order_id, order_status, update_time}; type 5 product status change {product_id, status,
 * suspended_reason, update_time}. No-op without a push URL. */
static void webhook(sbx_sandbox *sb, int type, const char *shop_id, json_t *data, long long now_ms)
{
    if (!sb->tiktok_push_url || !data) {
        json_decref(data);
        return;
    }
    static unsigned long long serial;
    char nid[32];
    snprintf(nid, sizeof nid, "%lld%06llu", now_ms, ++serial % 1000000ULL);
    json_t *j =
        json_pack("{s:i,s:s,s:s,s:I,s:o}", "type", type, "tts_notification_id", nid, "shop_id",
                  shop_id, "timestamp", (json_int_t)(now_ms / 1000), "data", data);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return;
    cs_buf msg;
    cs_buf_init(&msg, 4u << 20);
    char auth[65] = "";
    if (!cs_buf_puts(&msg, sb->opt.tiktok_app_key) && !cs_buf_puts(&msg, body)) {
        const char *key = sb->opt.tiktok_app_secret;
        cx_hmac_sha256_hex(key, strlen(key), msg.data, msg.len, 0, auth);
        sbx_push_queue(sb, SBX_TIKTOK, sb->tiktok_push_url, body, auth);
    }
    cs_buf_free(&msg);
    free(body);
}

static void product_changed(sbx_sandbox *sb, const sb_item *it, long long now_ms)
{
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", it->item_id);
    webhook(sb, 5, it->shop_id,
            json_pack("{s:s,s:s,s:s,s:I}", "product_id", pid, "status", item_status(it),
                      "suspended_reason",
                      it->withdrawn == SB_WD_BANNED ? "Vi phạm chính sách đăng bán" : "",
                      "update_time", (json_int_t)(now_ms / 1000)),
            now_ms);
}

/* A review ended: TikTok announces an approved product (ACTIVATE); a failed audit is read by
 * the status call, which carries the reasons the volunteer needs. */
static void reviewed(sbx_sandbox *sb, const sb_item *it, long long now_ms)
{
    if (it->state == SB_IT_LIVE && it->withdrawn == SB_WD_NONE) product_changed(sb, it, now_ms);
}

static void order_changed(sbx_sandbox *sb, const sb_order *o, long long now_ms)
{
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", o->id);
    webhook(sb, 1, o->shop_id,
            json_pack("{s:s,s:s,s:I}", "order_id", oid, "order_status", sbx_order_status(o),
                      "update_time", (json_int_t)(o->update_ms / 1000)),
            now_ms);
}

const sb_market_ops sbx_tiktok_ops = {"tiktok",      handle,         is_create, throttle,
                                      server_error,  norm_path,      reviewed,  NULL,
                                      order_changed, product_changed};

/* ---- orders --------------------------------------------------------------------------------
 * POST /order/202309/orders/search?page_size (1..100)&page_token  {"order_status",
 * "create_time_ge/lt", "update_time_ge/lt"} → data{orders[{id, status, create_time,
 * update_time, line_items[{id, product_id, sku_id, seller_sku, sale_price, currency}]}],
 * next_page_token, total_count}. One line item per unit; the page token is an offset. */
static void orders_search(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    sbx_sandbox *sb = rq->sb;
    long long size = 0, token = 0;
    if (sbx_parse_ll(sbx_query(rq, "page_size"), &size) || size < 1 || size > 100) {
        fail(rq, rs, 400, 36009004, "invalid param error: page_size must be 1..100");
        return;
    }
    const char *pt = sbx_query(rq, "page_token");
    if (pt && *pt && (sbx_parse_ll(pt, &token) || token < 0)) {
        fail(rq, rs, 400, 36009004, "invalid param error: page_token");
        return;
    }
    json_error_t je;
    json_t *b = rq->body.len ? json_loadb(rq->body.data, rq->body.len, 0, &je) : json_object();
    if (!json_is_object(b)) {
        json_decref(b);
        fail(rq, rs, 400, 36009004, "invalid param error: body must be a JSON object");
        return;
    }
    const char *st = json_string_value(json_object_get(b, "order_status"));
    long long cge = json_integer_value(json_object_get(b, "create_time_ge"));
    long long clt = json_integer_value(json_object_get(b, "create_time_lt"));
    long long uge = json_integer_value(json_object_get(b, "update_time_ge"));
    long long ult = json_integer_value(json_object_get(b, "update_time_lt"));
    json_t *arr = json_array();
    long long seen = 0, total = 0;
    for (size_t i = 0; i < sb->norders; i++) {
        const sb_order *o = &sb->orders[i];
        long long c = o->create_ms / 1000, u = o->update_ms / 1000;
        if (o->market != SBX_TIKTOK || strcmp(o->shop_id, shop->id)) continue;
        if ((cge && c < cge) || (clt && c >= clt) || (uge && u < uge) || (ult && u >= ult))
            continue;
        if (st && strcmp(st, sbx_order_status(o))) continue;
        total++;
        if (seen++ < token || (long long)json_array_size(arr) >= size) continue;
        char oid[24], price[24];
        snprintf(oid, sizeof oid, "%lld", o->id);
        snprintf(price, sizeof price, "%lld", o->price);
        json_t *lines = json_array();
        for (long long k = 0; k < o->qty; k++) {
            char lid[24], pid[24], sid[24];
            snprintf(lid, sizeof lid, "%lld", o->line_id + k);
            snprintf(pid, sizeof pid, "%lld", o->item_id);
            snprintf(sid, sizeof sid, "%lld", o->item_id + 1);
            json_array_append_new(lines, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", lid,
                                                   "product_id", pid, "sku_id", sid, "seller_sku",
                                                   o->sku, "sale_price", price, "currency", "VND"));
        }
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:o}", "id", oid, "status",
                                             sbx_order_status(o), "create_time", (json_int_t)c,
                                             "update_time", (json_int_t)u, "line_items", lines));
    }
    json_decref(b);
    char next[24] = "";
    if (token + (long long)json_array_size(arr) < total)
        snprintf(next, sizeof next, "%lld", token + (long long)json_array_size(arr));
    ok(rq, rs,
       json_pack("{s:o,s:s,s:I}", "orders", arr, "next_page_token", next, "total_count",
                 (json_int_t)total));
}
