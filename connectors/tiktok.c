/* connectors/tiktok: TikTok Shop Partner API 202309 — builds requests and parses answers, no I/O.
 * Wire shapes (MARKETPLACES.md; the simulator in sandbox/ speaks the same):
 *   query        app_key, [shop_cipher,] timestamp (s), [op params,] sign — sign over sorted params
 *                except sign/access_token, path prefixed, JSON body appended, wrapped in secret
 *   header       x-tts-access-token: <access token> (shop calls)
 *   auth link    {tiktok.auth_url}/oauth/authorize?app_key&state (the legacy link form; newer
 *                apps use a service_id link from Partner Center)
 *   token        GET {auth_url}/api/v2/token/get?app_key&app_secret&auth_code&grant_type=
 *                authorized_code;  refresh: /api/v2/token/refresh?…&refresh_token&grant_type=
 *                refresh_token → data.access_token, access_token_expire_in (Unix time),
 *                refresh_token, refresh_token_expire_in, seller_name
 *   shop         GET  /authorization/202309/shops → data.shops[0].cipher, name
 *   image        POST /product/202309/images/upload multipart data=<file>, use_case=MAIN_IMAGE
 *                → data.uri
 *   create       POST /product/202309/products → data.product_id
 *   update       PUT  /product/202309/products/{id}
 *   by SKU       POST /product/202309/products/search?page_size=10 {"seller_skus":["CS-…"]}
 *                → data.products[0].id
 *   status       GET  /product/202309/products/{id} → data.status ACTIVATE|PENDING|FAILED|DRAFT|
 *                SELLER_DEACTIVATED|PLATFORM_DEACTIVATED|FREEZE|DELETED, audit_failed_reasons
 *   webhook      POST {our push url}, header Authorization = hex HMAC-SHA256(app_secret,
 *                app_key + body); {"type":N,"tts_notification_id","shop_id","timestamp","data"}:
 *                type 1 order status change data{order_id, order_status, update_time}; type 5
 *                product status change data{product_id, status, suspended_reason, update_time}
 *   errors       {"code":N,"message":"…","request_id":"…"} (0 = success); HTTP 429 or code
 *                36009002 = throttled; 105001/105002 = access token invalid/expired */
#include "connectors/connector.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

#define URL_MAX 16384

static int tiktok_request(cx_request *req, cx_op op, const char *method, const cx_input *in,
                          const char *path, int shop_call, const cx_param *extra, size_t nextra,
                          const char *body, size_t bodylen, cs_error *err)
{
    const cx_market *mp = in->mp;
    if (cx_need_cfg(mp->base_url, "tiktok.base_url", err) ||
        cx_need_cfg(mp->app_id, "tiktok.app_key", err) ||
        cx_need_cfg(mp->secret, "tiktok.app_secret", err) || cx_need_account(in, shop_call, err))
        return -1;
    char ts[24], sign[65];
    snprintf(ts, sizeof ts, "%lld", in->now_ms / 1000);
    cx_param q[8];
    size_t n = 0;
    q[n++] = (cx_param){"app_key", mp->app_id};
    if (shop_call) q[n++] = (cx_param){"shop_cipher", in->account->shop_id};
    q[n++] = (cx_param){"timestamp", ts};
    for (size_t i = 0; i < nextra && n < 7; i++)
        q[n++] = extra[i];
    if (cx_tiktok_sign(mp->secret, path, q, n, body, bodylen, sign))
        return cs_error_set(err, CS_E_NOMEM, NULL);
    q[n++] = (cx_param){"sign", sign};
    cs_buf u;
    cs_buf_init(&u, URL_MAX);
    int bad = cx_url_base(&u, mp->base_url, path) || cx_query(&u, q, n, '?') ||
              cx_req_start(req, op, method, u.data) ||
              cx_req_header(req, "x-tts-access-token", in->account->access_token) ||
              (body && cx_req_body(req, "application/json", body, bodylen));
    cs_buf_free(&u);
    return bad ? cs_error_set(err, CS_E_NOMEM, NULL) : 0;
}

static char *product_body(const cx_input *in, cs_error *err)
{
    const cx_listing *l = in->listing;
    char sku[24], price[24], w[32];
    cx_sku(l->listing_id, sku);
    snprintf(price, sizeof price, "%lld", l->price_vnd);
    snprintf(w, sizeof w, "%ld.%03ld", l->weight_g / 1000, l->weight_g % 1000);
    json_t *o = json_object(), *imgs = json_array(), *inv = NULL;
    char *out = NULL;
    if (!o || !imgs) goto oom;
    for (size_t i = 0; i < l->nimages; i++)
        if (json_array_append_new(imgs, json_pack("{s:s}", "uri", l->image_ids[i]))) goto oom;
    if (in->mp->warehouse_id && *in->mp->warehouse_id)
        inv = json_pack("[{s:s,s:I}]", "warehouse_id", in->mp->warehouse_id, "quantity",
                        (json_int_t)l->stock);
    else
        inv = json_pack("[{s:I}]", "quantity", (json_int_t)l->stock);
    if (!inv) goto oom;
    json_t *skus = json_pack("[{s:s,s:{s:s,s:s},s:o}]", "seller_sku", sku, "price", "amount", price,
                             "currency", "VND", "inventory", inv);
    inv = NULL;
    json_t *images = imgs;
    imgs = NULL;
    /* every cx_jset runs (|=, not ||) so each value is consumed even after a failure */
    int bad = cx_jset(o, "title", json_string(l->name));
    bad |= cx_jset(o, "description", json_string(l->description ? l->description : ""));
    bad |= cx_jset(o, "category_id", json_string(l->category->external_id));
    bad |= cx_jset(o, "main_images", images);
    bad |= cx_jset(o, "skus", skus);
    bad |= cx_jset(o, "package_weight", json_pack("{s:s,s:s}", "value", w, "unit", "KILOGRAM"));
    if (bad) goto oom;
    if (l->length_mm > 0 && l->width_mm > 0 && l->height_mm > 0) {
        char a[24], b[24], c[24];
        snprintf(a, sizeof a, "%ld", (l->length_mm + 9) / 10);
        snprintf(b, sizeof b, "%ld", (l->width_mm + 9) / 10);
        snprintf(c, sizeof c, "%ld", (l->height_mm + 9) / 10);
        if (cx_jset(o, "package_dimensions",
                    json_pack("{s:s,s:s,s:s,s:s}", "length", a, "width", b, "height", c, "unit",
                              "CENTIMETER")))
            goto oom;
    }
    if (cx_json_merge(o, l->category->attributes_json, err)) goto done;
    out = cx_json_dump(o, NULL);
    if (out) goto done;
oom:
    cs_error_set(err, CS_E_NOMEM, NULL);
done:
    json_decref(o);
    json_decref(imgs);
    json_decref(inv);
    return out;
}

static int tiktok_build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    const cx_market *mp = in->mp;
    if (!mp) return cs_error_set(err, CS_E_INTERNAL, "no marketplace");
    switch (op) {
    case CX_OP_AUTHORIZE_LINK:
    case CX_OP_TOKEN_EXCHANGE:
    case CX_OP_TOKEN_REFRESH: {
        if (cx_need_cfg(mp->auth_url, "tiktok.auth_url", err) ||
            cx_need_cfg(mp->app_id, "tiktok.app_key", err))
            return -1;
        cs_buf u;
        cs_buf_init(&u, URL_MAX);
        int bad;
        if (op == CX_OP_AUTHORIZE_LINK) {
            cx_param q[] = {{"app_key", mp->app_id}, {"state", in->oauth_state}};
            bad = cx_url_base(&u, mp->auth_url, "/oauth/authorize") || cx_query(&u, q, 2, '?');
        } else {
            int ex = op == CX_OP_TOKEN_EXCHANGE;
            const char *v = ex ? in->auth_code : (in->account ? in->account->refresh_token : NULL);
            if (cx_need_cfg(mp->secret, "tiktok.app_secret", err)) return -1;
            if (!v || !*v)
                return cs_error_set(err, CS_E_MP_REAUTHORIZE, ex ? "no code" : "no refresh token");
            cx_param q[] = {{"app_key", mp->app_id},
                            {"app_secret", mp->secret},
                            {ex ? "auth_code" : "refresh_token", v},
                            {"grant_type", ex ? "authorized_code" : "refresh_token"}};
            bad =
                cx_url_base(&u, mp->auth_url, ex ? "/api/v2/token/get" : "/api/v2/token/refresh") ||
                cx_query(&u, q, 4, '?');
        }
        bad = bad || cx_req_start(req, op, "GET", u.data);
        cs_buf_free(&u);
        return bad ? cs_error_set(err, CS_E_NOMEM, NULL) : 0;
    }
    case CX_OP_GET_SHOP:
        return tiktok_request(req, op, "GET", in, "/authorization/202309/shops", 0, NULL, 0, NULL,
                              0, err);
    case CX_OP_IMAGE_UPLOAD: {
        const cx_image *im = in->image;
        if (!im || !im->data || !im->len) return cs_error_field(err, "images", CS_F_REQUIRED, NULL);
        if (tiktok_request(req, op, "POST", in, "/product/202309/images/upload", 0, NULL, 0, NULL,
                           0, err))
            return -1;
        if (cx_req_part(req, "data", im->filename ? im->filename : "image.jpg",
                        im->content_type ? im->content_type : "image/jpeg", im->data, im->len, 0) ||
            cx_req_part(req, "use_case", NULL, NULL, "MAIN_IMAGE", 10, 1))
            return cs_error_set(err, CS_E_NOMEM, NULL);
        return 0;
    }
    case CX_OP_CREATE_ITEM:
    case CX_OP_UPDATE_ITEM: {
        int create = op == CX_OP_CREATE_ITEM;
        if (cx_need_listing(in, err)) return -1;
        if (!in->listing->nimages) return cs_error_field(err, "images", CS_F_REQUIRED, NULL);
        if (!create && (!in->listing->item_id || !*in->listing->item_id))
            return cs_error_set(err, CS_E_INTERNAL, "update without a TikTok product id");
        char path[160];
        if (create)
            snprintf(path, sizeof path, "/product/202309/products");
        else if (snprintf(path, sizeof path, "/product/202309/products/%s", in->listing->item_id) >=
                 (int)sizeof path)
            return cs_error_set(err, CS_E_INTERNAL, "item id too long");
        char *body = product_body(in, err);
        if (!body) return -1;
        int rc = tiktok_request(req, op, create ? "POST" : "PUT", in, path, 1, NULL, 0, body,
                                strlen(body), err);
        cs_free(body);
        return rc;
    }
    case CX_OP_GET_ITEM_BY_SKU: {
        char sku[24], body[96];
        if (!in->listing) return cs_error_set(err, CS_E_INTERNAL, "listing missing");
        cx_sku(in->listing->listing_id, sku);
        snprintf(body, sizeof body, "{\"seller_skus\":[\"%s\"]}", sku);
        cx_param q[] = {{"page_size", "10"}};
        return tiktok_request(req, op, "POST", in, "/product/202309/products/search", 1, q, 1, body,
                              strlen(body), err);
    }
    case CX_OP_GET_STATUS: {
        char path[160];
        if (!in->listing || !in->listing->item_id || !*in->listing->item_id)
            return cs_error_set(err, CS_E_INTERNAL, "status without a TikTok product id");
        if (snprintf(path, sizeof path, "/product/202309/products/%s", in->listing->item_id) >=
            (int)sizeof path)
            return cs_error_set(err, CS_E_INTERNAL, "item id too long");
        return tiktok_request(req, op, "GET", in, path, 1, NULL, 0, NULL, 0, err);
    }
    default:
        return cs_error_set(err, CS_E_INTERNAL, "tiktok: %s is not an HTTP operation",
                            cx_op_name(op));
    }
}

static cx_item_state item_state(const char *s)
{
    if (!s) return CX_ITEM_UNKNOWN;
    if (!strcmp(s, "ACTIVATE")) return CX_ITEM_LIVE;
    if (!strcmp(s, "PENDING") || !strcmp(s, "DRAFT")) return CX_ITEM_PENDING;
    if (!strcmp(s, "FAILED")) return CX_ITEM_REJECTED;
    /* taken down by TikTok (a ban, a freeze): the seller must act — suspended, not delisted */
    if (!strcmp(s, "PLATFORM_DEACTIVATED") || !strcmp(s, "FREEZE")) return CX_ITEM_REJECTED;
    if (!strcmp(s, "SELLER_DEACTIVATED") || !strcmp(s, "DELETED")) return CX_ITEM_DELISTED;
    return CX_ITEM_UNKNOWN;
}

static int platform_down(const char *s)
{
    return s && (!strcmp(s, "PLATFORM_DEACTIVATED") || !strcmp(s, "FREEZE"));
}

/* A live product TikTok took down (PLATFORM_DEACTIVATED, FREEZE): what the volunteer reads. */
static void taken_down(cx_outcome *out, const char *status, const char *why)
{
    char vi[640], en[320];
    int has = why && *why;
    snprintf(vi, sizeof vi,
             "TikTok Shop đã %s sản phẩm này; xem lý do trong Trung tâm người bán TikTok Shop, "
             "sửa nội dung rồi bấm Đăng lại.%s%.200s",
             !strcmp(status, "FREEZE") ? "tạm khoá (đóng băng)" : "gỡ (vi phạm chính sách)",
             has ? "\nChi tiết: " : "", has ? why : "");
    snprintf(en, sizeof en, "TikTok Shop took the product down (%s)%s%.200s", status,
             has ? ": " : "", has ? why : "");
    cx_outcome_reject(out, "", status, vi, en);
    out->state = CX_ITEM_REJECTED;
}

/* audit_failed_reasons: [{"position":"…","reasons":["…"],"suggestions":["…"]}] */
static void audit_failed(cx_outcome *out, const json_t *reasons)
{
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r)
    {
        const char *pos = json_string_value(json_object_get(r, "position"));
        const char *why = json_string_value(json_array_get(json_object_get(r, "reasons"), 0));
        const char *fix = json_string_value(json_array_get(json_object_get(r, "suggestions"), 0));
        const char *field = cx_field_guess(pos);
        if (!field) field = cx_field_guess(why);
        char vi[640], en[320]; /* vi cut on a character boundary by cx_copy */
        /* the reason in Vietnamese; TikTok's own words (and suggestion) on a "Chi tiết" line */
        snprintf(vi, sizeof vi,
                 "TikTok Shop không duyệt: «%s» — %s. Sửa rồi đăng lại.%s%.100s%s%.80s",
                 field ? cx_field_label_vi(field) : (pos ? pos : "sản phẩm"), cx_reason_vi(why),
                 why || fix ? "\nChi tiết: " : "", why ? why : "", fix ? "; gợi ý: " : "",
                 fix ? fix : "");
        snprintf(en, sizeof en, "TikTok Shop audit failed at %s: %s", pos ? pos : "item",
                 why ? why : "no reason given");
        cx_outcome_reject(out, field ? field : "", "AUDIT_FAILED", vi, en);
    }
    if (!out->nreasons)
        cx_outcome_reject(out, "", "AUDIT_FAILED",
                          "TikTok Shop không duyệt sản phẩm (không nêu lý do). Kiểm tra lại nội "
                          "dung rồi đăng lại.",
                          "TikTok Shop audit failed (no reason given)");
    out->state = CX_ITEM_REJECTED;
}

/* TikTok gives token expiries as Unix times; tolerate a lifetime in seconds too. */
static long long expiry(long long v, long long now)
{
    if (v <= 0) return 0;
    return v < 1000000000LL ? now + v : v;
}

static void tiktok_parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    cx_outcome_init(out);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    long long now = in->now_ms / 1000;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    long long code = j ? cx_json_int(j, "code", -1) : -1;
    if (resp->status == 429 || code == 36009002) {
        char c[24];
        snprintf(c, sizeof c, "%lld", code == -1 ? 429LL : code);
        cx_out_retry(out, cx_retry_after(resp, in->now_ms, 1), 0, code == -1 ? "http_429" : c,
                     j ? json_string_value(json_object_get(j, "message")) : "throttled");
        goto done;
    }
    if (j && json_object_get(j, "code") && code != 0) {
        char c[24];
        const char *msg = json_string_value(json_object_get(j, "message"));
        snprintf(c, sizeof c, "%lld", code);
        cx_out_error(out, "TikTok Shop", c, msg, resp->status, ra);
        if ((op == CX_OP_TOKEN_EXCHANGE || op == CX_OP_TOKEN_REFRESH) &&
            (out->result == CX_REJECTED || out->result == CX_NOT_FOUND)) {
            out->nreasons = 0;
            cx_out_reauth(out, c, msg);
        } else if ((op == CX_OP_GET_STATUS) && resp->status == 404) {
            out->nreasons = 0;
            out->result = CX_NOT_FOUND;
        }
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    if (!j) {
        cx_out_retry(out, 10, 1, "malformed_response", "unreadable answer");
        goto done;
    }
    json_t *d = json_object_get(j, "data");
    switch (op) {
    case CX_OP_TOKEN_EXCHANGE:
    case CX_OP_TOKEN_REFRESH: {
        const char *at = json_string_value(json_object_get(d, "access_token"));
        const char *rt = json_string_value(json_object_get(d, "refresh_token"));
        long long ae = expiry(cx_json_int(d, "access_token_expire_in", 0), now);
        if (!at || !rt || !*at || !*rt || !ae || strlen(at) >= CX_TOKEN_MAX ||
            strlen(rt) >= CX_TOKEN_MAX) {
            cx_out_retry(out, 10, 1, "malformed_response", "no tokens");
            break;
        }
        cx_copy(out->access_token, sizeof out->access_token, at);
        cx_copy(out->refresh_token, sizeof out->refresh_token, rt);
        out->access_expires_at = ae;
        out->refresh_expires_at = expiry(cx_json_int(d, "refresh_token_expire_in", 0), now);
        cx_json_text(d, "seller_name", out->shop_name, sizeof out->shop_name);
        break;
    }
    case CX_OP_GET_SHOP: {
        json_t *s = json_array_get(json_object_get(d, "shops"), 0);
        if (cx_json_text(s, "cipher", out->shop_id, sizeof out->shop_id) || !out->shop_id[0]) {
            out->result = CX_NOT_FOUND;
            break;
        }
        cx_json_text(s, "name", out->shop_name, sizeof out->shop_name);
        cx_json_text(s, "id", out->shop_ref, sizeof out->shop_ref);
        break;
    }
    case CX_OP_IMAGE_UPLOAD:
        if (cx_json_text(d, "uri", out->image_id, sizeof out->image_id) || !out->image_id[0])
            cx_out_retry(out, 10, 1, "malformed_response", "no image uri");
        break;
    case CX_OP_CREATE_ITEM:
    case CX_OP_UPDATE_ITEM:
        if (cx_json_text(d, "product_id", out->item_id, sizeof out->item_id)) {
            if (op == CX_OP_UPDATE_ITEM && in->listing && in->listing->item_id) {
                cx_copy(out->item_id, sizeof out->item_id, in->listing->item_id);
            } else {
                cx_out_retry(out, 10, 1, "malformed_response", "no product_id");
                break;
            }
        }
        out->state = CX_ITEM_PENDING; /* every new or edited product is audited */
        break;
    case CX_OP_GET_ITEM_BY_SKU: {
        /* the product whose SKU is exactly ours (never adopt someone else's item) */
        char ours[24], got[40];
        size_t i;
        json_t *p, *found = NULL;
        cx_sku(in->listing ? in->listing->listing_id : 0, ours);
        json_array_foreach(json_object_get(d, "products"), i, p)
        {
            size_t k;
            json_t *s;
            json_array_foreach(json_object_get(p, "skus"), k, s)
            {
                if (!found && !cx_json_text(s, "seller_sku", got, sizeof got) && !strcmp(got, ours))
                    found = p;
            }
        }
        if (!json_is_object(found) ||
            cx_json_text(found, "id", out->item_id, sizeof out->item_id)) {
            out->result = CX_NOT_FOUND;
            out->item_id[0] = '\0';
            break;
        }
        cx_copy(out->sku, sizeof out->sku, ours);
        out->state = item_state(json_string_value(json_object_get(found, "status")));
        break;
    }
    case CX_OP_GET_STATUS: {
        if (!json_is_object(d) || cx_json_text(d, "id", out->item_id, sizeof out->item_id)) {
            out->result = CX_NOT_FOUND;
            break;
        }
        const char *st = json_string_value(json_object_get(d, "status"));
        out->state = item_state(st);
        if (out->state == CX_ITEM_UNKNOWN)
            cx_out_retry(out, 60, 0, "unknown_item_status", "unrecognised status");
        else if (platform_down(st)) {
            taken_down(out, st, json_string_value(json_object_get(d, "suspended_reason")));
            out->result = CX_OK; /* the call succeeded; the reasons describe the product */
        } else if (out->state == CX_ITEM_REJECTED)
            audit_failed(out, json_object_get(d, "audit_failed_reasons"));
        break;
    }
    default:
        cx_out_retry(out, 60, 0, "unsupported_operation", cx_op_name(op));
        break;
    }
done:
    json_decref(j);
}

/* A webhook (type 1 order status change, type 5 product status change; others acknowledged and
 * ignored). Only ids, statuses and times are read — a webhook carries no buyer data we keep. */
static void tiktok_verify_push(const cx_input *in, cx_outcome *out)
{
    const cx_market *mp = in->mp;
    int signed_ok = mp && mp->secret && *mp->secret && mp->app_id &&
                    cx_tiktok_push_verify(mp->secret, mp->app_id, in->push_body, in->push_len,
                                          in->push_authorization);
    json_t *j = cx_push_open(in, signed_ok, out);
    if (!j) return;
    out->push_code = (int)cx_json_int(j, "type", -1);
    cx_json_text(j, "shop_id", out->shop_id, sizeof out->shop_id);
    json_t *d = json_object_get(j, "data");
    if (out->push_code == 5 && json_is_object(d)) {
        const char *st = json_string_value(json_object_get(d, "status"));
        if (cx_json_text(d, "product_id", out->item_id, sizeof out->item_id)) out->item_id[0] = 0;
        out->state = item_state(st);
        if (platform_down(st))
            taken_down(out, st, json_string_value(json_object_get(d, "suspended_reason")));
        else if (out->state == CX_ITEM_REJECTED)
            audit_failed(out, json_object_get(d, "audit_failed_reasons"));
        out->result = CX_OK; /* the push itself is valid; the reasons describe the product */
    }
    json_decref(j);
}

const cx_connector cx_tiktok = {
    .code = "tiktok",
    .alias = "tiktokshop",
    .display_name = "TikTok Shop",
    .kind = CX_KIND_API,
    .default_domain = "tiktok.com",
    .display_order = 5,
    .ops = CX_OPBIT(CX_OP_AUTHORIZE_LINK) | CX_OPBIT(CX_OP_TOKEN_EXCHANGE) |
           CX_OPBIT(CX_OP_TOKEN_REFRESH) | CX_OPBIT(CX_OP_GET_SHOP) | CX_OPBIT(CX_OP_IMAGE_UPLOAD) |
           CX_OPBIT(CX_OP_CREATE_ITEM) | CX_OPBIT(CX_OP_UPDATE_ITEM) |
           CX_OPBIT(CX_OP_GET_ITEM_BY_SKU) | CX_OPBIT(CX_OP_GET_STATUS) |
           CX_OPBIT(CX_OP_VERIFY_PUSH),
    .build = tiktok_build,
    .parse = tiktok_parse,
    .verify_push = tiktok_verify_push,
    .assisted = NULL,
};

/* ---- catalogue and changes to live items (connectors/catalog.h) ----------------------------
 *   tree     GET  /product/202309/categories ?shop_cipher&locale=vi-VN
 *            → data.categories[{id, parent_id, local_name, is_leaf}]
 *   attrs    GET  /product/202309/categories/{id}/attributes ?shop_cipher&locale=vi-VN
 *            → data.attributes[{id, name, type, is_requried (TikTok's spelling), values[{id,
 *              name}]}]; only PRODUCT_PROPERTY ones are kept (sales properties are variants)
 *   lookup   GET  /product/202309/products/{id} → data.skus[0].id (the SKU id price and
 *            inventory calls name)
 *   price    POST /product/202309/products/{id}/prices/update {"skus":[{"id","price":{"amount",
 *            "currency":"VND"}}]}
 *   stock    POST /product/202309/products/{id}/inventory/update {"skus":[{"id","inventory":
 *            [{"warehouse_id"?, "quantity"}]}]}
 *   withdraw POST /product/202309/products/deactivate {"product_ids":[id]} → data.errors[]
 *            (a product that no longer exists counts as taken down) */
#include "connectors/catalog.h"
#include "connectors/orders.h"

#define TT_GONE 12052260 /* "The product ID does not exist" */

static int tiktok_cat_build(cx_cat_step step, const cx_input *in, const char *category_id,
                            cx_request *req, cs_error *err)
{
    cx_param loc = {"locale", "vi-VN"};
    if (step == CX_CAT_TREE)
        return tiktok_request(req, CX_OP_GET_STATUS, "GET", in, "/product/202309/categories", 1,
                              &loc, 1, NULL, 0, err);
    if (!category_id || !*category_id || strpbrk(category_id, "/?#&% "))
        return cs_error_set(err, CS_E_INTERNAL, "attributes need a category id");
    char path[160];
    snprintf(path, sizeof path, "/product/202309/categories/%s/attributes", category_id);
    return tiktok_request(req, CX_OP_GET_STATUS, "GET", in, path, 1, &loc, 1, NULL, 0, err);
}

/* Opening of a catalogue/change answer; NULL with out decided, or the body. */
static json_t *tiktok_open(const cx_input *in, const cx_response *resp, cx_outcome *out,
                           int gone_is_ok)
{
    cx_outcome_init(out);
    if (cx_triage_transport(resp, out)) return NULL;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    long long code = j ? cx_json_int(j, "code", -1) : -1;
    if (resp->status == 429 || code == 36009002) {
        cx_out_retry(out, cx_retry_after(resp, in->now_ms, 1), 0, "36009002", "throttled");
    } else if (j && json_object_get(j, "code") && code != 0) {
        if (!(gone_is_ok && code == TT_GONE)) {
            char c[24];
            snprintf(c, sizeof c, "%lld", code);
            cx_out_error(out, "TikTok Shop", c, json_string_value(json_object_get(j, "message")),
                         resp->status, ra);
        }
    } else if (!cx_triage_status(resp, in->now_ms, out) && !j) {
        cx_out_retry(out, 10, 1, "malformed_response", "unreadable answer");
    }
    if (out->result != CX_OK || out->error_code[0] || (j && code != 0)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void tiktok_cat_parse(cx_cat_step step, const cx_input *in, const cx_response *resp,
                             cx_outcome *out, cx_catalog_page *page)
{
    json_t *j = tiktok_open(in, resp, out, 0);
    if (!j) return;
    json_t *d = json_object_get(j, "data"), *e;
    size_t i;
    int bad = 0;
    if (step == CX_CAT_TREE) {
        json_t *cats = json_object_get(d, "categories");
        bad = !json_is_array(cats);
        json_array_foreach(cats, i, e)
        {
            char id[40] = "", parent[40] = "";
            cx_json_text(e, "id", id, sizeof id);
            cx_json_text(e, "parent_id", parent, sizeof parent);
            if (!bad && cx_catalog_add_node(page, id, parent,
                                            json_string_value(json_object_get(e, "local_name")),
                                            json_is_true(json_object_get(e, "is_leaf"))))
                bad = 1;
        }
    } else {
        json_t *attrs = json_object_get(d, "attributes");
        bad = !json_is_array(attrs);
        json_array_foreach(attrs, i, e)
        {
            const char *type = json_string_value(json_object_get(e, "type"));
            if (type && strcmp(type, "PRODUCT_PROPERTY")) continue;
            char id[64] = "";
            cx_json_text(e, "id", id, sizeof id);
            json_t *ch = json_array(), *v;
            size_t k;
            json_array_foreach(json_object_get(e, "values"), k, v)
            {
                char vid[64] = "";
                cx_json_text(v, "id", vid, sizeof vid);
                json_array_append_new(ch, json_pack("{s:s,s:s?}", "id", vid, "name",
                                                    json_string_value(json_object_get(v, "name"))));
            }
            char *chs = cx_json_dump(ch, NULL);
            json_decref(ch);
            json_t *req = json_object_get(e, "is_requried");
            if (!req) req = json_object_get(e, "is_required");
            if (!bad && (!chs || cx_catalog_add_attr(
                                     page, id, json_string_value(json_object_get(e, "name")),
                                     json_string_value(json_object_get(e, "value_data_format")),
                                     json_is_true(req), chs)))
                bad = 1;
            cs_free(chs);
        }
    }
    if (bad) cx_out_retry(out, 60, 0, "malformed_response", "category answer unreadable");
    json_decref(j);
}

const cx_catalog_ops cx_tiktok_catalog = {"tiktok", 1, tiktok_cat_build, tiktok_cat_parse};

static int tiktok_chg_build(cx_change_kind k, const cx_input *in, const cx_change *c,
                            cx_request *req, cs_error *err)
{
    if (!c || !c->item_id || !*c->item_id || strpbrk(c->item_id, "/?#&% "))
        return cs_error_set(err, CS_E_INTERNAL, "a change needs the TikTok product id");
    if ((unsigned)k > CX_CHG_LOOKUP) /* deactivation is TikTok's take-down; no delete step */
        return cs_error_set(err, CS_E_INTERNAL, "TikTok has no %s step", cx_change_name(k));
    char path[200];
    json_t *b = NULL;
    const char *method = "POST";
    if (k == CX_CHG_LOOKUP) {
        snprintf(path, sizeof path, "/product/202309/products/%s", c->item_id);
        method = "GET";
    } else if (k == CX_CHG_WITHDRAW) {
        snprintf(path, sizeof path, "/product/202309/products/deactivate");
        b = json_pack("{s:[s]}", "product_ids", c->item_id);
    } else {
        if (!c->ext_sku_id || !*c->ext_sku_id)
            return cs_error_set(err, CS_E_INTERNAL, "TikTok price/stock need the SKU id (lookup)");
        snprintf(path, sizeof path, "/product/202309/products/%s/%s", c->item_id,
                 k == CX_CHG_PRICE ? "prices/update" : "inventory/update");
        if (k == CX_CHG_PRICE) {
            char amount[24];
            snprintf(amount, sizeof amount, "%lld", c->price_vnd);
            b = json_pack("{s:[{s:s,s:{s:s,s:s}}]}", "skus", "id", c->ext_sku_id, "price", "amount",
                          amount, "currency", "VND");
        } else {
            json_t *inv = json_pack("{s:I}", "quantity", (json_int_t)c->stock);
            if (inv && in->mp->warehouse_id && *in->mp->warehouse_id)
                json_object_set_new(inv, "warehouse_id", json_string(in->mp->warehouse_id));
            b = inv ? json_pack("{s:[{s:s,s:[o]}]}", "skus", "id", c->ext_sku_id, "inventory", inv)
                    : NULL;
        }
    }
    char *txt = NULL;
    size_t len = 0;
    if (strcmp(method, "GET") && (!b || !(txt = cx_json_dump(b, &len)))) {
        json_decref(b);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    json_decref(b);
    int rc = tiktok_request(req, CX_OP_UPDATE_ITEM, method, in, path, 1, NULL, 0, txt, len, err);
    cs_free(txt);
    return rc;
}

static void tiktok_chg_parse(cx_change_kind k, const cx_input *in, const cx_response *resp,
                             cx_outcome *out, char ext_sku_id[64])
{
    json_t *j = tiktok_open(in, resp, out, k == CX_CHG_WITHDRAW);
    if (!j) return;
    json_t *d = json_object_get(j, "data");
    if (k == CX_CHG_LOOKUP) {
        if (cx_json_text(json_array_get(json_object_get(d, "skus"), 0), "id", ext_sku_id, 64) ||
            !ext_sku_id[0])
            cx_out_retry(out, 60, 0, "malformed_response", "no SKU id in the product");
    } else if (k == CX_CHG_WITHDRAW) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(d, "errors"), i, e)
        {
            if (cx_json_int(e, "code", 0) == TT_GONE) continue;
            char c[24];
            snprintf(c, sizeof c, "%lld", cx_json_int(e, "code", 0));
            cx_out_reject_field(out, "TikTok Shop", NULL, c,
                                json_string_value(json_object_get(e, "message")));
        }
    }
    json_decref(j);
}

const cx_change_ops cx_tiktok_changes = {"tiktok", 0, 1, tiktok_chg_build, tiktok_chg_parse, 0};

/* ---- orders (connectors/orders.h) ---------------------------------------------------------
 *   search  POST /order/202309/orders/search?app_key&shop_cipher&timestamp&page_size=100
 *           [&page_token]&sign  {"update_time_ge":from,"update_time_lt":to}
 *           → data{orders[{id, status, create_time, update_time, line_items[{id, product_id,
 *           sku_id, seller_sku, sale_price}]}], next_page_token, total_count}
 *   One line item per unit (TikTok splits quantities), so each line's quantity is 1; the lines
 *   come with the list, so there is no LINES step. Amounts are strings ("45000"). */

static cx_order_state tiktok_order_state(const char *s)
{
    static const struct {
        const char *s;
        cx_order_state st;
    } t[] = {{"UNPAID", CX_OS_OPEN},
             {"ON_HOLD", CX_OS_OPEN},
             {"AWAITING_SHIPMENT", CX_OS_OPEN},
             {"PARTIALLY_SHIPPING", CX_OS_OPEN},
             {"AWAITING_COLLECTION", CX_OS_OPEN},
             {"IN_TRANSIT", CX_OS_OPEN},
             {"DELIVERED", CX_OS_DELIVERED},
             {"COMPLETED", CX_OS_DELIVERED},
             {"CANCELLED", CX_OS_CANCELLED}};
    for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].s)) return t[i].st;
    return CX_OS_UNKNOWN;
}

static int tiktok_orders_build(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                               cx_request *req, cs_error *err)
{
    if (step != CX_ORD_LIST)
        return cs_error_set(err, CS_E_INTERNAL, "TikTok answers order lines with the list");
    if (q->to_s <= q->from_s) return cs_error_set(err, CS_E_INTERNAL, "empty order window");
    json_t *b = json_pack("{s:I,s:I}", "update_time_ge", (json_int_t)q->from_s, "update_time_lt",
                          (json_int_t)q->to_s);
    size_t blen = 0;
    char *body = b ? cx_json_dump(b, &blen) : NULL;
    json_decref(b);
    if (!body) return cs_error_set(err, CS_E_NOMEM, NULL);
    cx_param x[2];
    size_t n = 0;
    x[n++] = (cx_param){"page_size", "100"};
    if (q->cursor && *q->cursor) x[n++] = (cx_param){"page_token", q->cursor};
    int rc = tiktok_request(req, CX_OP_GET_STATUS, "POST", in, "/order/202309/orders/search", 1, x,
                            n, body, blen, err);
    cs_free(body);
    return rc;
}

static void tiktok_order_lines(const json_t *o, cx_orders_page *page, cx_outcome *out)
{
    char oid[64] = "", st[40] = "";
    if (cx_json_text(o, "id", oid, sizeof oid) || !*oid) {
        cx_orders_bad(page, "order without id", NULL);
        return;
    }
    cx_json_text(o, "status", st, sizeof st);
    cx_order_state state = tiktok_order_state(st);
    long long upd = cx_json_int(o, "update_time", -1), cre = cx_json_int(o, "create_time", -1);
    json_t *items = json_object_get(o, "line_items"), *it;
    size_t i;
    if (state == CX_OS_UNKNOWN || upd < 0 || !json_is_array(items)) {
        cx_orders_bad(page,
                      state == CX_OS_UNKNOWN ? "unknown order status"
                                             : "order without update_time or line_items",
                      oid);
        return;
    }
    json_array_foreach(items, i, it)
    {
        cx_order_line l;
        memset(&l, 0, sizeof l);
        cx_copy(l.order_id, sizeof l.order_id, oid);
        cx_copy(l.status, sizeof l.status, st);
        l.state = state;
        l.created_s = cre;
        l.updated_s = upd;
        l.qty = 1;
        if (cx_json_text(it, "id", l.line_id, sizeof l.line_id) || !l.line_id[0]) {
            cx_orders_bad(page, "line without id", oid);
            continue;
        }
        cx_json_text(it, "seller_sku", l.sku, sizeof l.sku);
        cx_json_text(it, "product_id", l.item_id, sizeof l.item_id);
        l.amount_vnd = cx_orders_vnd(json_object_get(it, "sale_price"));
        if (l.amount_vnd < 0)
            cx_orders_bad(page, "sale_price is not a number", l.line_id);
        else if (cx_orders_add_line(page, &l)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "order lines");
            return;
        }
    }
}

static void tiktok_orders_parse(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                                const cx_response *resp, cx_outcome *out, cx_orders_page *page)
{
    (void)step;
    (void)q;
    cx_outcome_init(out);
    memset(page, 0, sizeof *page);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    long long code = j ? cx_json_int(j, "code", -1) : -1;
    if (resp->status == 429 || code == 36009002) {
        cx_out_retry(out, cx_retry_after(resp, in->now_ms, 1), 0, "36009002", "throttled");
        goto done;
    }
    if (j && json_object_get(j, "code") && code != 0) {
        char c[24];
        snprintf(c, sizeof c, "%lld", code);
        cx_out_error(out, "TikTok Shop", c, json_string_value(json_object_get(j, "message")),
                     resp->status, ra);
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    json_t *d = j ? json_object_get(j, "data") : NULL, *o;
    json_t *orders = json_object_get(d, "orders");
    size_t i;
    if (!json_is_array(orders)) {
        cx_out_retry(out, 10, 1, "malformed_response", "no orders");
        goto done;
    }
    json_array_foreach(orders, i, o)
    {
        tiktok_order_lines(o, page, out);
        if (out->result != CX_OK) goto done;
    }
    cx_json_text(d, "next_page_token", page->next_cursor, sizeof page->next_cursor);
    page->more = page->next_cursor[0] != '\0';
done:
    if (out->result != CX_OK) cx_orders_page_free(page);
    json_decref(j);
}

const cx_order_ops cx_tiktok_orders = {
    .code = "tiktok",
    .two_step = 0,
    .build = tiktok_orders_build,
    .parse = tiktok_orders_parse,
};

/* ---- re-check of live items (connectors/recheck.h) -----------------------------------------
 *   POST /product/202309/products/search?page_size=100&page_token {"status":"ALL"} →
 *        data{products[{id, status}], next_page_token, total_count}; "ALL" leaves deleted
 *        products out (a product absent from a complete walk is gone) */
#include "connectors/recheck.h"

static int tiktok_recheck_build(const cx_input *in, const cx_recheck_query *q, cx_request *req,
                                cs_error *err)
{
    static const char body[] = "{\"status\":\"ALL\"}";
    cx_param p[2] = {{"page_size", "100"}, {"page_token", q->cursor}};
    return tiktok_request(req, CX_OP_GET_STATUS, "POST", in, "/product/202309/products/search", 1,
                          p, q->cursor && *q->cursor ? 2 : 1, body, sizeof body - 1, err);
}

static void tiktok_recheck_parse(const cx_input *in, const cx_recheck_query *q,
                                 const cx_response *resp, cx_outcome *out, cx_recheck_page *page)
{
    (void)q;
    memset(page, 0, sizeof *page);
    json_t *j = tiktok_open(in, resp, out, 0);
    if (!j) return;
    json_t *d = json_object_get(j, "data");
    json_t *list = json_object_get(d, "products"), *v;
    if (!json_is_array(list)) {
        cx_out_retry(out, 10, 1, "malformed_response", "no products");
        goto done;
    }
    size_t i;
    json_array_foreach(list, i, v)
    {
        cx_item_seen s;
        memset(&s, 0, sizeof s);
        if (cx_json_text(v, "id", s.item_id, sizeof s.item_id) || !s.item_id[0]) continue;
        cx_json_text(v, "status", s.status, sizeof s.status);
        s.state = item_state(s.status);
        if (s.state == CX_ITEM_REJECTED)
            cx_json_text(v, "suspended_reason", s.reason, sizeof s.reason);
        if (cx_recheck_add(page, &s)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "items");
            goto done;
        }
    }
    cx_json_text(d, "next_page_token", page->next_cursor, sizeof page->next_cursor);
    page->more = page->next_cursor[0] != '\0';
done:
    if (out->result != CX_OK) cx_recheck_page_free(page);
    json_decref(j);
}

const cx_recheck_ops cx_tiktok_recheck = {"tiktok", 0, tiktok_recheck_build, tiktok_recheck_parse};
