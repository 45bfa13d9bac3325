/* sandbox/ Shopee: Shopee Open Platform v2 as MARKETPLACES.md documents it — public
 * and shop signatures, 5-minute timestamps, single-use codes and refresh tokens, image upload,
 * add_item/update_item validation, search by SKU, review, push. Runs under sb->mu; no I/O.
 *
 *   GET  /api/v2/shop/auth_partner       public sign; redirect=URL (+ sandbox shop_id=N)
 *   POST /api/v2/shop/auth_partner/approve   the approve page's form (sandbox only)
 *   POST /api/v2/auth/token/get          {"code","shop_id","partner_id"} → flat tokens
 *   POST /api/v2/auth/access_token/get   {"refresh_token","shop_id","partner_id"}
 *   POST /api/v2/media_space/upload_image  multipart "image" (JPG/PNG, ≤ 10 MB)
 *   POST /api/v2/product/add_item, /api/v2/product/update_item
 *   GET  /api/v2/product/get_item_list   page_size, offset, item_status…; sandbox: item_sku=
 *                                        (exact) filters the list
 *   GET  /api/v2/product/get_item_base_info  item_id_list=1,2 | sandbox: item_sku= (exact)
 *   GET  /api/v2/product/search_item     page_size, offset, item_sku/item_name (substring)
 *   GET  /api/v2/shop/get_shop_info
 * Errors: {"request_id","error","message"} with HTTP 400 (error_param and item validation),
 * 403 (error_auth, error_sign), 404 (unknown path), 429 (error_system_busy), 500 (error_server).
 * Success: {"request_id","error":"","message":"","warning":"","response":{…}}; the token
 * calls and get_shop_info answer flat, as Shopee does. */
#include "sandbox/sandbox_int.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CODE_TTL_MS (10 * 60 * 1000LL) /* authorisation code: single use, 10 minutes */
#define NAME_MAX_CHARS 120
#define SKU_MAX_CHARS 100

static void push(sbx_sandbox *sb, int code, const char *shop_id, json_t *data, long long now_ms);
static void get_order_list(sb_req *rq, sb_resp *rs);
static void get_order_detail(sb_req *rq, sb_resp *rs);
static void order_changed(sbx_sandbox *sb, const sb_order *o, long long now_ms);

static int err_status(const char *e)
{
    if (!strcmp(e, "error_auth") || !strcmp(e, "error_sign")) return 403;
    if (!strcmp(e, "error_system_busy")) return 429;
    if (!strcmp(e, "error_server")) return 500;
    if (!strcmp(e, "error_not_found")) return 404;
    return 400;
}

__attribute__((format(printf, 4, 5))) static int fail(sb_req *rq, sb_resp *rs, const char *error,
                                                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sbx_reply_json(
        rs, err_status(error),
        json_pack("{s:s,s:s,s:s}", "request_id", rq->request_id, "error", error, "message", msg));
    return -1;
}

static void ok(sb_req *rq, sb_resp *rs, json_t *response)
{
    sbx_reply_json(rs, 200,
                   json_pack("{s:s,s:s,s:s,s:s,s:o}", "request_id", rq->request_id, "error", "",
                             "message", "", "warning", "", "response", response));
}

static const char *status_name(int st)
{
    return st == SB_IT_LIVE ? "NORMAL" : st == SB_IT_REJECTED ? "BANNED" : "REVIEWING";
}

/* The status lists and reads report: the seller's take-down wins over review. */
static const char *item_status(const sb_item *it)
{
    return it->withdrawn == SB_WD_DELETED    ? "SELLER_DELETE"
           : it->withdrawn == SB_WD_BANNED   ? "BANNED"
           : it->withdrawn == SB_WD_UNLISTED ? "UNLIST"
                                             : status_name(it->state);
}

/* Common parameters: partner_id, timestamp (±5 min), sign; shop calls also access_token and
 * shop_id. Fills *shop on shop calls. 0, or -1 with the error answered. */
static int gate(sb_req *rq, sb_resp *rs, int shop_call, sb_shop **shop)
{
    sbx_sandbox *sb = rq->sb;
    const char *pid = sbx_query(rq, "partner_id"), *ts = sbx_query(rq, "timestamp");
    const char *sign = sbx_query(rq, "sign");
    long long p, t, sid = 0;
    if (!pid) return fail(rq, rs, "error_param", "There is no partner_id in query.");
    if (sbx_parse_ll(pid, &p) || p != sb->opt.shopee_partner_id)
        return fail(rq, rs, "error_param", "Invalid partner_id.");
    if (!ts) return fail(rq, rs, "error_param", "no timestamp");
    long long now_s = rq->now_ms / 1000;
    if (sbx_parse_ll(ts, &t) || t < now_s - 300 || t > now_s + 300)
        return fail(rq, rs, "error_param", "Invalid timestamp");
    if (!sign) return fail(rq, rs, "error_param", "There is no sign in query.");
    const char *tok = NULL, *shop_id = NULL;
    if (shop_call) {
        tok = sbx_query(rq, "access_token");
        shop_id = sbx_query(rq, "shop_id");
        if (!tok) return fail(rq, rs, "error_param", "There is no access_token in query.");
        if (!shop_id || sbx_parse_ll(shop_id, &sid))
            return fail(rq, rs, "error_param", "There is no shop_id in query.");
    }
    char want[65];
    cx_shopee_sign(sb->opt.shopee_partner_key, p, rq->path, t, tok, sid, want);
    if (strcmp(want, sign)) return fail(rq, rs, "error_sign", "Wrong sign.");
    if (shop_call) {
        enum sb_auth a = sbx_access_check(sb, SBX_SHOPEE, tok, rq->now_ms, shop);
        if (a != SB_AUTH_OK || strcmp((*shop)->id, shop_id))
            return fail(rq, rs, "error_auth", "Invalid access_token.");
    }
    return 0;
}

static json_t *body_json(sb_req *rq, sb_resp *rs)
{
    json_error_t je;
    json_t *b = rq->body.len ? json_loadb(rq->body.data, rq->body.len, 0, &je) : NULL;
    if (!json_is_object(b)) {
        json_decref(b);
        fail(rq, rs, "error_param", "Wrong parameters, detail: the body must be a JSON object.");
        return NULL;
    }
    return b;
}

static int is_http_url(const char *u)
{
    return u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) && !strpbrk(u, " \r\n");
}

/* ---- authorisation ---- */
static void send_code(sb_req *rq, sb_resp *rs, const char *redirect, const char *want_shop)
{
    sbx_sandbox *sb = rq->sb;
    long long n;
    if (want_shop && *want_shop && (sbx_parse_ll(want_shop, &n) || n <= 0)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Mã cửa hàng Shopee "
                       "phải là một số. Quay lại và nhập lại.</p>");
        return;
    }
    sb_shop *s = sbx_shop_authorise(sb, SBX_SHOPEE, want_shop, sbx_hash(redirect));
    char code[SB_ID_MAX];
    if (!s || sbx_token_issue(sb, SBX_SHOPEE, SB_TOK_CODE, s->id, CODE_TTL_MS, code)) {
        sbx_reply_html(rs, 503,
                       "<!doctype html><meta charset=\"utf-8\"><p>Sàn mô phỏng đã đầy; "
                       "hãy đặt lại (reset).</p>");
        return;
    }
    push(sb, 1, s->id,
         json_pack("{s:I,s:I,s:i,s:s}", "shop_id", (json_int_t)sbx_ll(s->id), "partner_id",
                   (json_int_t)sb->opt.shopee_partner_id, "success", 1, "extra", ""),
         rq->now_ms);
    cs_buf u;
    cs_buf_init(&u, 16384);
    cs_buf_puts(&u, redirect);
    cs_buf_puts(&u, strchr(redirect, '?') ? "&code=" : "?code=");
    cs_buf_puts(&u, code);
    cs_buf_printf(&u, "&shop_id=%s", s->id);
    sbx_redirect(rs, u.data ? u.data : redirect);
    cs_buf_free(&u);
}

static void auth_partner(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, 0, NULL)) return;
    const char *redirect = sbx_query(rq, "redirect");
    if (!is_http_url(redirect)) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: redirect is invalid.");
        return;
    }
    if (rq->sb->opt.auto_approve) {
        send_code(rq, rs, redirect, sbx_query(rq, "shop_id"));
        return;
    }
    const char *hidden[] = {"redirect", redirect, NULL};
    sbx_auth_page(rs, "Shopee", "/api/v2/shop/auth_partner/approve", hidden);
}

static void auth_approve(sb_req *rq, sb_resp *rs)
{
    const char *redirect = sbx_param(rq, "redirect");
    const char *decision = sbx_param(rq, "decision");
    if (!is_http_url(redirect)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Thiếu địa chỉ quay "
                       "lại.</p>");
        return;
    }
    if (!decision || strcmp(decision, "approve")) {
        sbx_reply_html(rs, 200,
                       "<!doctype html><meta charset=\"utf-8\"><p>Bạn đã từ chối cấp "
                       "quyền. Ứng dụng sẽ không quản lý được cửa hàng.</p>");
        return;
    }
    send_code(rq, rs, redirect, sbx_param(rq, "shop_id"));
}

static void token_reply(sb_req *rq, sb_resp *rs, const sb_shop *s, int refresh)
{
    sbx_sandbox *sb = rq->sb;
    char at[SB_ID_MAX], rt[SB_ID_MAX];
    if (sbx_token_issue(sb, SBX_SHOPEE, SB_TOK_ACCESS, s->id, sbx_access_ttl_ms(sb, 0), at) ||
        sbx_token_issue(sb, SBX_SHOPEE, SB_TOK_REFRESH, s->id, sbx_refresh_ttl_ms(sb, 0), rt)) {
        fail(rq, rs, "error_server", "Something wrong. Please try later.");
        return;
    }
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "request_id", rq->request_id, "error", "",
                          "message", "", "access_token", at, "refresh_token", rt, "expire_in",
                          (json_int_t)(sbx_access_ttl_ms(sb, 0) / 1000));
    if (j && refresh) {
        json_object_set_new(j, "partner_id", json_integer(sb->opt.shopee_partner_id));
        json_object_set_new(j, "shop_id", json_integer(sbx_ll(s->id)));
    }
    sbx_reply_json(rs, 200, j);
}

/* shop_id of a token call body as text ("" when absent or not a number). */
static void body_shop_id(json_t *b, char out[32])
{
    json_t *v = json_object_get(b, "shop_id");
    out[0] = '\0';
    if (json_is_integer(v))
        snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_string(v))
        snprintf(out, 32, "%s", json_string_value(v));
}

static void token_get(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, 0, NULL)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    const char *code = json_string_value(json_object_get(b, "code"));
    char sid[32];
    body_shop_id(b, sid);
    if (!code)
        fail(rq, rs, "error_param", "Wrong parameters, detail: code is required.");
    else if (!sid[0])
        fail(rq, rs, "error_param", "Wrong parameters, detail: shop_id is required.");
    else {
        sb_token *t = sbx_token_find(rq->sb, SBX_SHOPEE, SB_TOK_CODE, code);
        int good = t && !t->used && t->expires_ms > rq->now_ms && !strcmp(t->shop_id, sid);
        if (t) t->used = 1; /* single use, even when misused */
        sb_shop *s = good ? sbx_shop_find(rq->sb, SBX_SHOPEE, sid) : NULL;
        if (!s || s->revoked)
            fail(rq, rs, "error_auth", "Invalid code.");
        else
            token_reply(rq, rs, s, 0);
    }
    json_decref(b);
}

static void access_token_get(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, 0, NULL)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    const char *rt = json_string_value(json_object_get(b, "refresh_token"));
    char sid[32];
    body_shop_id(b, sid);
    if (!rt)
        fail(rq, rs, "error_param", "Wrong parameters, detail: refresh_token is required.");
    else if (!sid[0])
        fail(rq, rs, "error_param", "Wrong parameters, detail: shop_id is required.");
    else {
        sb_token *t = sbx_token_find(rq->sb, SBX_SHOPEE, SB_TOK_REFRESH, rt);
        int good = t && !t->used && t->expires_ms > rq->now_ms && !strcmp(t->shop_id, sid);
        sb_shop *s = good ? sbx_shop_find(rq->sb, SBX_SHOPEE, sid) : NULL;
        if (!s || s->revoked) {
            fail(rq, rs, "error_auth", "Invalid refresh_token.");
        } else {
            t->used = 1; /* refresh tokens are single-use: the answer carries the next one */
            token_reply(rq, rs, s, 1);
        }
    }
    json_decref(b);
}

/* ---- images ---- */
static void upload_image(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, 0, NULL)) return;
    const sb_part *p = sbx_part(rq, "image");
    int w, h;
    if (!p || !p->len) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: image is required.");
        return;
    }
    if (p->len > SB_IMAGE_MAX) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: image size must not exceed 10 MB.");
        return;
    }
    if (!sbx_image_kind(p->data, p->len, &w, &h)) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: image must be JPG or PNG.");
        return;
    }
    char id[SB_ID_MAX], base[64], url[160];
    if (sbx_image_add(rq->sb, SBX_SHOPEE, p->len, w, h, id)) {
        fail(rq, rs, "error_server", "Something wrong. Please try later.");
        return;
    }
    sbx_base_url(rq->sb, SBX_SHOPEE, base, sizeof base);
    snprintf(url, sizeof url, "%s/file/%s", base, id);
    ok(rq, rs,
       json_pack("{s:{s:s,s:[{s:s,s:s}]}}", "image_info", "image_id", id, "image_url_list",
                 "image_url_region", "VN", "image_url", url));
}

/* ---- items ---- */
static void image_url(const sbx_sandbox *sb, const char *id, char *out, size_t n)
{
    char base[64];
    sbx_base_url(sb, SBX_SHOPEE, base, sizeof base);
    snprintf(out, n, "%s/file/%s", base, id);
}

static int has_attribute(json_t *list, const char *attr)
{
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        json_t *id = json_object_get(a, "attribute_id");
        char s[32] = "";
        if (json_is_integer(id))
            snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        else if (json_is_string(id))
            snprintf(s, sizeof s, "%s", json_string_value(id));
        if (!strcmp(s, attr) && json_array_size(json_object_get(a, "attribute_value_list")))
            return 1;
    }
    return 0;
}

/* Check the item fields present in b (all required ones when adding). 0 or -1 answered. */
static int validate(sb_req *rq, sb_resp *rs, json_t *b, int add, const sb_item *old,
                    const sb_category **cat)
{
    sbx_sandbox *sb = rq->sb;
    json_t *name = json_object_get(b, "item_name"), *desc = json_object_get(b, "description");
    json_t *price = json_object_get(b, "original_price"), *weight = json_object_get(b, "weight");
    json_t *catv = json_object_get(b, "category_id"), *img = json_object_get(b, "image");
    json_t *logi = json_object_get(b, "logistic_info"), *sku = json_object_get(b, "item_sku");
    if (add || name) {
        if (!json_is_string(name) || !*json_string_value(name))
            return fail(rq, rs, "error_item_name_empty", "Item name could not be empty.");
        size_t n = sbx_utf8_len(json_string_value(name));
        if ((long)n < sb->opt.name_min)
            return fail(rq, rs, "error_item_name_is_too_short",
                        "Item_name length is less than min limit.");
        if (n > NAME_MAX_CHARS)
            return fail(rq, rs, "error_title_exceeds_max_length",
                        "The length of item_name is bigger than max limit.");
    }
    if ((add || desc) && (!json_is_string(desc) || !*json_string_value(desc)))
        return fail(rq, rs, "error_param", "Wrong parameters, detail: description is required.");
    if (add && !price)
        return fail(rq, rs, "error_param", "Wrong parameters, detail: original_price is required.");
    if (price && (!json_is_number(price) || json_number_value(price) <= 0))
        return fail(rq, rs, "error_invalid_price", "Invalid price, please use the correct format");
    if ((add || weight) && (!json_is_number(weight) || json_number_value(weight) <= 0))
        return fail(rq, rs, "error_param", "Invalid Weight.");
    if (sku && (!json_is_string(sku) || sbx_utf8_len(json_string_value(sku)) > SKU_MAX_CHARS))
        return fail(
            rq, rs, "error_param",
            "Wrong parameters, detail: item_sku must be a string of at most 100 characters.");
    char cid[32] = "";
    if (json_is_integer(catv))
        snprintf(cid, sizeof cid, "%" JSON_INTEGER_FORMAT, json_integer_value(catv));
    else if (old)
        snprintf(cid, sizeof cid, "%s", old->category);
    if ((add && !catv) || (catv && !json_is_integer(catv)))
        return fail(rq, rs, "error_param", "Wrong parameters, detail: category_id is required.");
    *cat = sbx_category(sb, SBX_SHOPEE, cid);
    if (!*cat) return fail(rq, rs, "error_invalid_category", "Invalid category ID %s", cid);
    if (add || img) {
        json_t *ids = json_object_get(img, "image_id_list");
        if (!json_is_array(ids) || !json_array_size(ids))
            return fail(rq, rs, "error_param",
                        "Wrong parameters, detail: image.image_id_list is required.");
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
            if (!sbx_image_find(sb, SBX_SHOPEE, json_string_value(id)))
                return fail(rq, rs, "error_image_unavailable",
                            "Image is invalid: image_id %s is not found.",
                            json_is_string(id) ? json_string_value(id) : "?");
        }
    }
    if (add || logi) {
        int enabled = 0;
        size_t i;
        json_t *l;
        json_array_foreach(logi, i, l) enabled |=
            json_is_integer(json_object_get(l, "logistic_id")) &&
            json_is_true(json_object_get(l, "enabled"));
        if (!enabled)
            return fail(rq, rs, "error_invalid_logistic_info",
                        "invalid logistic info , at least one enabled logistic channel is "
                        "required");
    }
    if (add || catv || json_object_get(b, "attribute_list")) {
        json_t *attrs = json_object_get(b, "attribute_list");
        for (int k = 0; k < (*cat)->nattrs; k++)
            if (!has_attribute(attrs, (*cat)->attrs[k]))
                return fail(rq, rs, "error_less_required_attribute",
                            "Mandatory attribute information required");
    }
    return 0;
}

/* Fill the item from b (fields present only) and submit it to review. */
static void apply(sb_req *rq, sb_item *it, json_t *b, const sb_category *cat)
{
    json_t *v;
    if ((v = json_object_get(b, "item_name")))
        snprintf(it->name, sizeof it->name, "%s", json_string_value(v));
    if ((v = json_object_get(b, "item_sku")))
        snprintf(it->sku, sizeof it->sku, "%s", json_string_value(v));
    snprintf(it->category, sizeof it->category, "%s", cat->id);
    if ((v = json_object_get(b, "original_price"))) it->price = json_number_value(v);
    if ((v = json_object_get(b, "weight"))) it->weight = json_number_value(v);
    if ((v = json_array_get(json_object_get(json_object_get(b, "image"), "image_id_list"), 0)))
        snprintf(it->image_id, sizeof it->image_id, "%s", json_string_value(v));
    json_t *stock = json_object_get(json_array_get(json_object_get(b, "seller_stock"), 0), "stock");
    if (json_is_integer(stock))
        it->stock = json_integer_value(stock);
    else if (json_is_integer(json_object_get(b, "normal_stock")))
        it->stock = json_integer_value(json_object_get(b, "normal_stock"));
    long long keep = it->create_ms;
    sbx_item_submit(rq->sb, it, json_string_value(json_object_get(b, "description")), rq->now_ms);
    if (keep) it->create_ms = keep;
}

/* The add/update answer: the item as stored plus the request's own extra members echoed. */
static json_t *item_echo(sb_req *rq, const sb_item *it, json_t *b)
{
    json_t *r = json_object();
    static const char *const echo[] = {"description", "logistic_info", "dimension",
                                       "condition",   "brand",         "item_dangerous",
                                       "pre_order",   "wholesale",     "seller_stock"};
    for (size_t i = 0; i < sizeof echo / sizeof echo[0]; i++) {
        json_t *v = json_object_get(b, echo[i]);
        if (v) json_object_set(r, echo[i], v);
    }
    json_t *al = json_object_get(b, "attribute_list");
    if (al) json_object_set(r, "attributes", al);
    json_t *ids = json_object_get(json_object_get(b, "image"), "image_id_list");
    json_t *urls = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        char u[200];
        image_url(rq->sb, json_string_value(id), u, sizeof u);
        json_array_append_new(urls, json_string(u));
    }
    if (ids)
        json_object_set_new(r, "images",
                            json_pack("{s:O,s:o}", "image_id_list", ids, "image_url_list", urls));
    else
        json_decref(urls);
    json_object_set_new(r, "item_id", json_integer(it->item_id));
    json_object_set_new(r, "item_name", json_string(it->name));
    json_object_set_new(r, "item_sku", json_string(it->sku));
    json_object_set_new(r, "item_status", json_string(status_name(it->state)));
    json_object_set_new(r, "category_id", json_integer(sbx_ll(it->category)));
    json_object_set_new(r, "weight", json_real(it->weight));
    json_object_set_new(
        r, "price_info",
        json_pack("{s:f,s:f}", "original_price", it->price, "current_price", it->price));
    return r;
}

static void add_item(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    const sb_category *cat;
    if (!validate(rq, rs, b, 1, NULL, &cat)) {
        sb_item *it = sbx_item_new(rq->sb, SBX_SHOPEE);
        if (!it) {
            fail(rq, rs, "error_reach_shop_item_limit", "Item published item count reaches limit.");
        } else {
            snprintf(it->shop_id, sizeof it->shop_id, "%s", shop->id);
            apply(rq, it, b, cat);
            ok(rq, rs, item_echo(rq, it, b));
        }
    }
    json_decref(b);
}

static void update_item(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    json_t *idv = json_object_get(b, "item_id");
    sb_item *it =
        json_is_integer(idv) ? sbx_item_by_id(rq->sb, SBX_SHOPEE, json_integer_value(idv)) : NULL;
    const sb_category *cat;
    if (!json_is_integer(idv))
        fail(rq, rs, "error_param", "Wrong parameters, detail: item_id is required.");
    else if (!it || strcmp(it->shop_id, shop->id) || it->withdrawn == SB_WD_DELETED)
        fail(rq, rs, "error_item_not_found", "Item_id is not found.");
    else if (!validate(rq, rs, b, 0, it, &cat)) {
        apply(rq, it, b, cat);
        ok(rq, rs, item_echo(rq, it, b));
    }
    json_decref(b);
}

/* item_status filter: 1 if the item's status is among the request's item_status values (all
 * statuses when none are given). */
static int status_wanted(const sb_req *rq, const sb_item *it)
{
    int any = 0;
    for (size_t i = 0; i < rq->nparams; i++) {
        if (!rq->params[i].from_query || strcmp(rq->params[i].key, "item_status")) continue;
        any = 1;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", rq->params[i].value);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (!strcmp(t, item_status(it))) return 1;
    }
    return !any;
}

static int page_args(sb_req *rq, sb_resp *rs, long long *offset, long long *size)
{
    const char *ps = sbx_query(rq, "page_size"), *off = sbx_query(rq, "offset");
    if (!ps || sbx_parse_ll(ps, size) || *size < 1 || *size > 100)
        return fail(rq, rs, "error_param",
                    "Wrong parameters, detail: page_size must be between 1 and 100.");
    *offset = 0;
    if (off && *off && (sbx_parse_ll(off, offset) || *offset < 0))
        return fail(rq, rs, "error_param", "Wrong parameters, detail: offset is invalid.");
    return 0;
}

static void get_item_list(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    long long off, size;
    if (gate(rq, rs, 1, &shop) || page_args(rq, rs, &off, &size)) return;
    const char *sku = sbx_query(rq, "item_sku");
    json_t *arr = json_array();
    long long total = 0;
    for (size_t i = 0; i < rq->sb->nitems; i++) {
        const sb_item *it = &rq->sb->items[i];
        if (it->market != SBX_SHOPEE || strcmp(it->shop_id, shop->id)) continue;
        if (!status_wanted(rq, it) || (sku && strcmp(it->sku, sku))) continue;
        if (total >= off && total < off + size)
            json_array_append_new(
                arr, json_pack("{s:I,s:s,s:I}", "item_id", (json_int_t)it->item_id, "item_status",
                               item_status(it), "update_time", (json_int_t)(it->update_ms / 1000)));
        total++;
    }
    int more = off + size < total;
    ok(rq, rs,
       json_pack("{s:o,s:I,s:b,s:I}", "item", arr, "total_count", (json_int_t)total,
                 "has_next_page", more, "next_offset", (json_int_t)(more ? off + size : total)));
}

static json_t *base_info(const sbx_sandbox *sb, const sb_item *it)
{
    char u[200], w[32];
    image_url(sb, it->image_id, u, sizeof u);
    snprintf(w, sizeof w, "%.3f", it->weight);
    return json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:[{s:s,s:f,s:f}],s:{s:[s],s:[s]},s:s,"
                     "s:s,s:b,s:s,s:[]}",
                     "item_id", (json_int_t)it->item_id, "category_id",
                     (json_int_t)sbx_ll(it->category), "item_name", it->name, "description",
                     it->description ? it->description : "", "item_sku", it->sku, "create_time",
                     (json_int_t)(it->create_ms / 1000), "update_time",
                     (json_int_t)(it->update_ms / 1000), "price_info", "currency", "VND",
                     "original_price", it->price, "current_price", it->price, "image",
                     "image_url_list", u, "image_id_list", it->image_id, "weight", w, "item_status",
                     item_status(it), "has_model", 0, "condition", "NEW", "attribute_list");
}

static void get_item_base_info(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    const char *ids = sbx_query(rq, "item_id_list"), *sku = sbx_query(rq, "item_sku");
    if (!ids && !sku) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: item_id_list is required.");
        return;
    }
    json_t *list = json_array();
    if (ids) {
        char buf[1200];
        if (strlen(ids) >= sizeof buf) {
            json_decref(list);
            fail(rq, rs, "error_param", "Wrong parameters, detail: item_id_list is too long.");
            return;
        }
        snprintf(buf, sizeof buf, "%s", ids);
        char *save = NULL;
        int n = 0;
        for (char *t = strtok_r(buf, ",[] ", &save); t; t = strtok_r(NULL, ",[] ", &save)) {
            long long id;
            if (++n > 50 || sbx_parse_ll(t, &id)) {
                json_decref(list);
                fail(rq, rs, "error_param",
                     "Wrong parameters, detail: item_id_list must hold 1 to 50 item ids.");
                return;
            }
            const sb_item *it = sbx_item_by_id(rq->sb, SBX_SHOPEE, id);
            if (it && !strcmp(it->shop_id, shop->id))
                json_array_append_new(list, base_info(rq->sb, it));
        }
    } else {
        for (size_t i = 0; i < rq->sb->nitems && json_array_size(list) < 50; i++) {
            const sb_item *it = &rq->sb->items[i];
            if (it->market == SBX_SHOPEE && !strcmp(it->shop_id, shop->id) && !strcmp(it->sku, sku))
                json_array_append_new(list, base_info(rq->sb, it));
        }
    }
    ok(rq, rs, json_pack("{s:o}", "item_list", list));
}

static void search_item(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    long long off, size;
    if (gate(rq, rs, 1, &shop) || page_args(rq, rs, &off, &size)) return;
    const char *sku = sbx_query(rq, "item_sku"), *name = sbx_query(rq, "item_name");
    json_t *arr = json_array();
    long long total = 0;
    for (size_t i = 0; i < rq->sb->nitems; i++) {
        const sb_item *it = &rq->sb->items[i];
        if (it->market != SBX_SHOPEE || strcmp(it->shop_id, shop->id)) continue;
        if (!status_wanted(rq, it)) continue;
        /* Shopee matches a keyword contained in the SKU or name, not the whole value. */
        if (sku && *sku && !strstr(it->sku, sku)) continue;
        if (name && *name && !strcasestr(it->name, name)) continue;
        if (total >= off && total < off + size)
            json_array_append_new(arr, json_integer(it->item_id));
        total++;
    }
    json_t *r = json_pack("{s:o,s:I}", "item_id_list", arr, "total_count", (json_int_t)total);
    if (r && off + size < total) {
        char next[32];
        snprintf(next, sizeof next, "%lld", off + size);
        json_object_set_new(r, "next_offset", json_string(next));
    }
    ok(rq, rs, r);
}

static void get_shop_info(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    char name[96];
    snprintf(name, sizeof name, "Cửa hàng mô phỏng %s", shop->id);
    sbx_reply_json(rs, 200,
                   json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:I,s:I}", "request_id",
                             rq->request_id, "error", "", "message", "", "shop_name", name,
                             "region", "VN", "status", "NORMAL", "is_cb", 0, "is_sip", 0,
                             "auth_time", (json_int_t)(rq->now_ms / 1000), "expire_time",
                             (json_int_t)(rq->now_ms / 1000 + 365 * 86400LL)));
}

/* ---- categories and attributes (issue 16) ---- */
static void get_category(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    size_t n;
    sb_catnode *nodes = sbx_catalog_tree(rq->sb, SBX_SHOPEE, &n);
    if (!nodes) {
        fail(rq, rs, "error_server", "Something wrong. Please try later.");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:I,s:I,s:s,s:s,s:b}", "category_id", (json_int_t)sbx_ll(nodes[i].id),
                           "parent_category_id", (json_int_t)sbx_ll(nodes[i].parent),
                           "original_category_name", nodes[i].name, "display_category_name",
                           nodes[i].name, "has_children", !nodes[i].leaf));
    cs_free(nodes);
    ok(rq, rs, json_pack("{s:o}", "category_list", arr));
}

static json_t *attr_tree(const sb_category *c)
{
    sb_attrdef defs[SB_MAX_ATTRS + 4];
    size_t nd = sbx_catalog_attrs(SBX_SHOPEE, c, defs, sizeof defs / sizeof defs[0]);
    json_t *arr = json_array();
    for (size_t i = 0; i < nd; i++) {
        json_t *vals = json_array();
        for (size_t k = 0; defs[i].choices && defs[i].choices[k]; k++)
            json_array_append_new(vals, json_pack("{s:I,s:s,s:[{s:s,s:s}]}", "value_id",
                                                  (json_int_t)(1000 + k), "name",
                                                  defs[i].choices[k], "multi_lang", "language",
                                                  "vi", "value", defs[i].choices[k]));
        int select = defs[i].choices != NULL;
        json_array_append_new(arr, json_pack("{s:I,s:b,s:s,s:o,s:{s:i,s:i,s:i},s:[{s:s,s:s}]}",
                                             "attribute_id", (json_int_t)sbx_ll(defs[i].id),
                                             "mandatory", defs[i].mandatory, "name", defs[i].name,
                                             "attribute_value_list", vals, "attribute_info",
                                             "input_type", select ? 1 : 3, "input_validation_type",
                                             select ? 0 : 2, "max_value_count", 1, "multi_lang",
                                             "language", "vi", "value", defs[i].name));
    }
    return arr;
}

/* get_attribute_tree: category_id_list (comma-separated, 1–20 leaves). */
static void get_attribute_tree(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    const char *ids = sbx_query(rq, "category_id_list");
    char buf[512];
    if (!ids || !*ids || strlen(ids) >= sizeof buf) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: category_id_list is required.");
        return;
    }
    snprintf(buf, sizeof buf, "%s", ids);
    json_t *list = json_array();
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",[] ", &save); t; t = strtok_r(NULL, ",[] ", &save)) {
        const sb_category *c = sbx_category(rq->sb, SBX_SHOPEE, t);
        if (++n > 20 || !c) {
            json_decref(list);
            if (n > 20)
                fail(rq, rs, "error_param",
                     "Wrong parameters, detail: category_id_list holds at most 20 ids.");
            else
                fail(rq, rs, "error_invalid_category",
                     "Category %.32s is invalid or not a leaf category.", t);
            return;
        }
        json_array_append_new(list, json_pack("{s:I,s:o}", "category_id", (json_int_t)sbx_ll(c->id),
                                              "attribute_tree", attr_tree(c)));
    }
    ok(rq, rs, json_pack("{s:o}", "list", list));
}

/* ---- changes to live items: price, stock, unlist, delete (issue 16) ---- */
/* The shop's item a body names by item_id (not deleted), or NULL after answering. */
static sb_item *body_item(sb_req *rq, sb_resp *rs, const sb_shop *shop, json_t *b)
{
    json_t *idv = json_object_get(b, "item_id");
    sb_item *it =
        json_is_integer(idv) ? sbx_item_by_id(rq->sb, SBX_SHOPEE, json_integer_value(idv)) : NULL;
    if (!json_is_integer(idv))
        fail(rq, rs, "error_param", "Wrong parameters, detail: item_id is required.");
    else if (!it || strcmp(it->shop_id, shop->id) || it->withdrawn == SB_WD_DELETED) {
        fail(rq, rs, "error_item_not_found", "Item_id is not found.");
        it = NULL;
    }
    return it;
}

/* update_price: {item_id, price_list:[{model_id (0 = the item itself), original_price}]}. */
static void update_price(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    sb_item *it = body_item(rq, rs, shop, b);
    json_t *pl = json_object_get(b, "price_list");
    if (it && (!json_is_array(pl) || !json_array_size(pl))) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: price_list is required.");
        it = NULL;
    }
    if (it) {
        json_t *okl = json_array(), *bad = json_array(), *e;
        size_t i;
        json_array_foreach(pl, i, e)
        {
            json_t *mid = json_object_get(e, "model_id"), *p = json_object_get(e, "original_price");
            json_int_t model = json_is_integer(mid) ? json_integer_value(mid) : 0;
            if (model != 0)
                json_array_append_new(bad, json_pack("{s:I,s:s}", "model_id", model,
                                                     "failed_reason", "Model is not found."));
            else if (!json_is_number(p) || json_number_value(p) <= 0)
                json_array_append_new(bad,
                                      json_pack("{s:I,s:s}", "model_id", model, "failed_reason",
                                                "original_price must be greater than 0."));
            else {
                it->price = json_number_value(p);
                it->update_ms = rq->now_ms;
                json_array_append_new(
                    okl, json_pack("{s:I,s:f}", "model_id", model, "original_price", it->price));
            }
        }
        ok(rq, rs, json_pack("{s:o,s:o}", "success_list", okl, "failure_list", bad));
    }
    json_decref(b);
}

/* update_stock: {item_id, stock_list:[{model_id, seller_stock:[{stock}]}]}. */
static void update_stock(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    sb_item *it = body_item(rq, rs, shop, b);
    json_t *sl = json_object_get(b, "stock_list");
    if (it && (!json_is_array(sl) || !json_array_size(sl))) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: stock_list is required.");
        it = NULL;
    }
    if (it) {
        json_t *okl = json_array(), *bad = json_array(), *e;
        size_t i;
        json_array_foreach(sl, i, e)
        {
            json_t *mid = json_object_get(e, "model_id");
            json_int_t model = json_is_integer(mid) ? json_integer_value(mid) : 0;
            json_t *st =
                json_object_get(json_array_get(json_object_get(e, "seller_stock"), 0), "stock");
            if (model != 0)
                json_array_append_new(bad, json_pack("{s:I,s:s}", "model_id", model,
                                                     "failed_reason", "Model is not found."));
            else if (!json_is_integer(st) || json_integer_value(st) < 0)
                json_array_append_new(bad,
                                      json_pack("{s:I,s:s}", "model_id", model, "failed_reason",
                                                "seller_stock.stock must be 0 or more."));
            else {
                it->stock = json_integer_value(st);
                it->update_ms = rq->now_ms;
                json_array_append_new(
                    okl, json_pack("{s:I,s:I}", "model_id", model, "stock", (json_int_t)it->stock));
            }
        }
        ok(rq, rs, json_pack("{s:o,s:o}", "success_list", okl, "failure_list", bad));
    }
    json_decref(b);
}

/* unlist_item: {item_list:[{item_id, unlist: true|false}]} (1–50). */
static void unlist_item(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    json_t *il = json_object_get(b, "item_list");
    if (!json_is_array(il) || !json_array_size(il) || json_array_size(il) > 50) {
        fail(rq, rs, "error_param", "Wrong parameters, detail: item_list must hold 1 to 50 items.");
        json_decref(b);
        return;
    }
    json_t *okl = json_array(), *bad = json_array(), *e;
    size_t i;
    json_array_foreach(il, i, e)
    {
        json_t *idv = json_object_get(e, "item_id"), *un = json_object_get(e, "unlist");
        json_int_t id = json_is_integer(idv) ? json_integer_value(idv) : 0;
        sb_item *it = sbx_item_by_id(rq->sb, SBX_SHOPEE, id);
        if (!it || strcmp(it->shop_id, shop->id) || it->withdrawn == SB_WD_DELETED) {
            json_array_append_new(bad, json_pack("{s:I,s:s}", "item_id", id, "failed_reason",
                                                 "Item_id is not found."));
        } else if (!json_is_boolean(un)) {
            json_array_append_new(bad, json_pack("{s:I,s:s}", "item_id", id, "failed_reason",
                                                 "unlist must be true or false."));
        } else if (rq->sb->takedown_refusal && json_is_true(un)) {
            json_array_append_new(bad, json_pack("{s:I,s:s}", "item_id", id, "failed_reason",
                                                 rq->sb->takedown_refusal));
        } else {
            it->withdrawn = json_is_true(un) ? SB_WD_UNLISTED : SB_WD_NONE;
            it->update_ms = rq->now_ms;
            json_array_append_new(
                okl, json_pack("{s:I,s:b}", "item_id", id, "unlist", json_is_true(un)));
        }
    }
    ok(rq, rs, json_pack("{s:o,s:o}", "success_list", okl, "failure_list", bad));
    json_decref(b);
}

/* delete_item: {item_id}; the item answers SELLER_DELETE afterwards and takes no changes. */
static void delete_item(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    json_t *b = body_json(rq, rs);
    if (!b) return;
    sb_item *it = body_item(rq, rs, shop, b);
    if (it) {
        it->withdrawn = SB_WD_DELETED;
        it->update_ms = rq->now_ms;
        ok(rq, rs, json_object());
    }
    json_decref(b);
}

static const struct route {
    const char *method, *path;
    void (*fn)(sb_req *, sb_resp *);
} routes[] = {
    {"GET", "/api/v2/shop/auth_partner", auth_partner},
    {"POST", "/api/v2/shop/auth_partner/approve", auth_approve},
    {"POST", "/api/v2/auth/token/get", token_get},
    {"POST", "/api/v2/auth/access_token/get", access_token_get},
    {"POST", "/api/v2/media_space/upload_image", upload_image},
    {"POST", "/api/v2/product/add_item", add_item},
    {"POST", "/api/v2/product/update_item", update_item},
    {"GET", "/api/v2/product/get_item_list", get_item_list},
    {"GET", "/api/v2/product/get_item_base_info", get_item_base_info},
    {"GET", "/api/v2/product/search_item", search_item},
    {"GET", "/api/v2/shop/get_shop_info", get_shop_info},
    /* categories, attributes and changes to live items (issue 16) */
    {"GET", "/api/v2/product/get_category", get_category},
    {"GET", "/api/v2/product/get_attribute_tree", get_attribute_tree},
    {"POST", "/api/v2/product/update_price", update_price},
    {"POST", "/api/v2/product/update_stock", update_stock},
    {"POST", "/api/v2/product/unlist_item", unlist_item},
    {"POST", "/api/v2/product/delete_item", delete_item},
    {"GET", "/api/v2/order/get_order_list", get_order_list},
    {"GET", "/api/v2/order/get_order_detail", get_order_detail},
};

static void handle(sb_req *rq, sb_resp *rs)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(rq->path, routes[i].path)) continue;
        if (strcmp(rq->method, routes[i].method)) {
            fail(rq, rs, "error_param", "Wrong parameters, detail: use %s for this API.",
                 routes[i].method);
            return;
        }
        routes[i].fn(rq, rs);
        return;
    }
    fail(rq, rs, "error_not_found", "Api not found.");
}

/* Queue a push notification (code 1 authorisation, 2 deauthorisation, 6 item banned) signed as
 * Shopee signs them: HMAC-SHA256 of "url|body" with the partner key. Takes data; no-op without
 * a push URL. */
static void push(sbx_sandbox *sb, int code, const char *shop_id, json_t *data, long long now_ms)
{
    if (!sb->shopee_push_url || !data) {
        json_decref(data);
        return;
    }
    json_t *j = json_pack("{s:i,s:I,s:I,s:o}", "code", code, "shop_id", (json_int_t)sbx_ll(shop_id),
                          "timestamp", (json_int_t)(now_ms / 1000), "data", data);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return;
    cs_buf msg;
    cs_buf_init(&msg, 4u << 20);
    char auth[65] = "";
    if (!cs_buf_puts(&msg, sb->shopee_push_url) && !cs_buf_putc(&msg, '|') &&
        !cs_buf_puts(&msg, body)) {
        const char *key = sb->opt.shopee_partner_key;
        cx_hmac_sha256_hex(key, strlen(key), msg.data, msg.len, 0, auth);
        sbx_push_queue(sb, SBX_SHOPEE, sb->shopee_push_url, body, auth);
    }
    cs_buf_free(&msg);
    free(body);
}

static int is_create(const char *method, const char *path)
{
    return !strcmp(method, "POST") && !strcmp(path, "/api/v2/product/add_item");
}

static void throttle(sb_req *rq, sb_resp *rs)
{
    fail(rq, rs, "error_system_busy",
         "Our system is taking some time to respond, please try later.");
}

static void server_error(sb_req *rq, sb_resp *rs)
{
    fail(rq, rs, "error_server", "Something wrong. Please try later.");
}

static void norm_path(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
}

/* Shopee pushes bans (code 6); approval is seen by polling. */
static void reviewed(sbx_sandbox *sb, const sb_item *it, long long now_ms)
{
    if (it->state != SB_IT_REJECTED) return;
    json_t *d = json_pack("{s:I,s:s,s:s,s:s}", "item_id", (json_int_t)it->item_id, "item_status",
                          "BANNED", "item_sku", it->sku, "reason", it->reason);
    if (d) push(sb, 6, it->shop_id, d, now_ms);
}

static void revoked(sbx_sandbox *sb, const sb_shop *s, long long now_ms)
{
    long long sid = 0;
    sbx_parse_ll(s->id, &sid);
    push(sb, 2, s->id,
         json_pack("{s:I,s:I}", "shop_id", (json_int_t)sid, "partner_id",
                   (json_int_t)sb->opt.shopee_partner_id),
         now_ms);
}

static void item_changed(sbx_sandbox *sb, const sb_item *it, long long now_ms);
const sb_market_ops sbx_shopee_ops = {"shopee",  handle,   is_create, throttle,      server_error,
                                      norm_path, reviewed, revoked,   order_changed, item_changed};

/* A live item's status changed on Shopee's side (banned, deleted, unlisted, back to normal):
 * the item push (code 6) with its item_status, as the ban push already is. */
static void item_changed(sbx_sandbox *sb, const sb_item *it, long long now_ms)
{
    json_t *d = json_pack("{s:I,s:s,s:s,s:s}", "item_id", (json_int_t)it->item_id, "item_status",
                          item_status(it), "item_sku", it->sku, "reason",
                          it->withdrawn == SB_WD_BANNED ? "Vi phạm chính sách đăng bán" : "");
    if (d) push(sb, 6, it->shop_id, d, now_ms);
}

/* ---- orders --------------------------------------------------------------------------------
 * GET /api/v2/order/get_order_list: time_range_field create_time|update_time, time_from,
 * time_to (≤ 15 days apart, else error_param as Shopee answers), page_size 1..100, cursor →
 * order_list[{order_sn[, order_status]}], more, next_cursor (the cursor is an offset as text).
 * GET /api/v2/order/get_order_detail: order_sn_list (1..50) → order_list with item_list when
 * asked in response_optional_fields. Push code 3 on every status change. No buyer data at all. */

static int order_in_shop(const sb_order *o, const sb_shop *s)
{
    return o->market == SBX_SHOPEE && !strcmp(o->shop_id, s->id);
}

static void get_order_list(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    sbx_sandbox *sb = rq->sb;
    const char *field = sbx_query(rq, "time_range_field");
    long long from, to, size = 0, cursor = 0;
    if (!field || (strcmp(field, "create_time") && strcmp(field, "update_time"))) {
        fail(rq, rs, "error_param", "time_range_field must be create_time or update_time.");
        return;
    }
    if (sbx_parse_ll(sbx_query(rq, "time_from"), &from) ||
        sbx_parse_ll(sbx_query(rq, "time_to"), &to) || to < from) {
        fail(rq, rs, "error_param", "time_from and time_to are required, time_from <= time_to.");
        return;
    }
    if (to - from > 15 * 86400LL) {
        fail(rq, rs, "error_param", "The time range must be within 15 days.");
        return;
    }
    if (sbx_parse_ll(sbx_query(rq, "page_size"), &size) || size < 1 || size > 100) {
        fail(rq, rs, "error_param", "page_size should be between 1 and 100.");
        return;
    }
    const char *c = sbx_query(rq, "cursor");
    if (c && *c && (sbx_parse_ll(c, &cursor) || cursor < 0)) {
        fail(rq, rs, "error_param", "Invalid cursor.");
        return;
    }
    const char *opt = sbx_query(rq, "response_optional_fields");
    int with_status = opt && strstr(opt, "order_status");
    int by_update = !strcmp(field, "update_time");
    json_t *arr = json_array();
    long long seen = 0;
    int more = 0;
    for (size_t i = 0; i < sb->norders; i++) {
        const sb_order *o = &sb->orders[i];
        long long t = (by_update ? o->update_ms : o->create_ms) / 1000;
        if (!order_in_shop(o, shop) || t < from || t > to) continue;
        if (seen++ < cursor) continue;
        if ((long long)json_array_size(arr) == size) {
            more = 1;
            break;
        }
        char sn[24];
        sbx_order_sn(o, sn);
        json_t *e = json_pack("{s:s}", "order_sn", sn);
        if (with_status) json_object_set_new(e, "order_status", json_string(sbx_order_status(o)));
        json_array_append_new(arr, e);
    }
    char next[24] = "";
    if (more) snprintf(next, sizeof next, "%lld", cursor + size);
    ok(rq, rs, json_pack("{s:b,s:s,s:o}", "more", more, "next_cursor", next, "order_list", arr));
}

static void get_order_detail(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, 1, &shop)) return;
    const char *list = sbx_query(rq, "order_sn_list");
    if (!list || !*list) {
        fail(rq, rs, "error_param", "order_sn_list is required.");
        return;
    }
    const char *opt = sbx_query(rq, "response_optional_fields");
    int items = opt && strstr(opt, "item_list");
    json_t *arr = json_array();
    size_t n = 0;
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char sn[32];
        if (++n > 50) {
            json_decref(arr);
            fail(rq, rs, "error_param", "order_sn_list should contain 1 to 50 order_sn.");
            return;
        }
        snprintf(sn, sizeof sn, "%.*s", (int)(len < 31 ? len : 31), p);
        long long id;
        const sb_order *o = strlen(sn) == 14 && !strncmp(sn, "SB", 2) && !sbx_parse_ll(sn + 2, &id)
                                ? sbx_order_find(rq->sb, SBX_SHOPEE, id)
                                : NULL;
        if (o && order_in_shop(o, shop)) {
            json_t *e =
                json_pack("{s:s,s:s,s:I,s:I,s:s}", "order_sn", sn, "order_status",
                          sbx_order_status(o), "create_time", (json_int_t)(o->create_ms / 1000),
                          "update_time", (json_int_t)(o->update_ms / 1000), "currency", "VND");
            if (items)
                json_object_set_new(e, "item_list",
                                    json_pack("[{s:I,s:s,s:I,s:s,s:I,s:f,s:f}]", "item_id",
                                              (json_int_t)o->item_id, "item_sku", o->sku,
                                              "model_id", (json_int_t)0, "model_sku", "",
                                              "model_quantity_purchased", (json_int_t)o->qty,
                                              "model_original_price", (double)o->price,
                                              "model_discounted_price", (double)o->price));
            json_array_append_new(arr, e);
        }
        p += len;
        if (*p == ',') p++;
    }
    ok(rq, rs, json_pack("{s:o}", "order_list", arr));
}

/* Push code 3: an order's status changed. */
static void order_changed(sbx_sandbox *sb, const sb_order *o, long long now_ms)
{
    char sn[24];
    sbx_order_sn(o, sn);
    push(sb, 3, o->shop_id,
         json_pack("{s:s,s:s,s:I}", "ordersn", sn, "status", sbx_order_status(o), "update_time",
                   (json_int_t)(o->update_ms / 1000)),
         now_ms);
}
