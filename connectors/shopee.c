/* connectors/shopee: Shopee Open Platform v2 — builds requests and parses answers, no I/O.
 * Wire shapes (MARKETPLACES.md; the simulator in sandbox/ speaks the same):
 *   common query  partner_id, timestamp (s), [access_token, shop_id,] sign — in this order
 *   auth link     GET  /api/v2/shop/auth_partner ...&redirect=<redirect_url?state=…>
 *   token         POST /api/v2/auth/token/get          {"code","shop_id","partner_id"}
 *   refresh       POST /api/v2/auth/access_token/get   {"refresh_token","shop_id","partner_id"}
 *                 → top level access_token, refresh_token, expire_in (s), shop_id
 *   image         POST /api/v2/media_space/upload_image (public sign), multipart "image"
 *                 → response.image_info.image_id
 *   create        POST /api/v2/product/add_item  → response.item_id, response.item_status
 *   update        POST /api/v2/product/update_item (content: name, description, weight,
 *                 dimension, category, images, attributes; price and stock have their own
 *                 Shopee calls, update_price/update_stock, not built here)
 *   by SKU        GET  /api/v2/product/search_item ...&offset=0&page_size=50&item_sku=CS-…
 *                 → response.item_id_list[] — a substring match, so the ids come back as
 *                 candidates (out->confirm) for get_item_base_info to compare exactly
 *   status        GET  /api/v2/product/get_item_base_info ...&item_id_list=…
 *                 → response.item_list[0].item_status NORMAL|REVIEWING|BANNED|UNLIST|
 *                   SELLER_DELETE|SHOPEE_DELETE
 *   errors        {"error":"error_…","message":"…","request_id":"…"} ("" on success) */
#include "connectors/connector.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOPEE_REFRESH_LIFETIME (30LL * 86400) /* not returned by Shopee; documented 30 days */
#define URL_MAX 16384
#define BODY_MAX (1u << 20)

static int parse_ll(const char *s, long long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0) return -1;
    *out = v;
    return 0;
}

/* {base}{path}?partner_id&timestamp[&access_token&shop_id]&sign[&extra…] */
static int shopee_url(cs_buf *u, const cx_input *in, const char *path, int shop_call,
                      const cx_param *extra, size_t nextra, cs_error *err)
{
    const cx_market *mp = in->mp;
    long long pid, shop = 0, ts = in->now_ms / 1000;
    if (cx_need_cfg(mp->base_url, "shopee.base_url", err) ||
        cx_need_cfg(mp->app_id, "shopee.partner_id", err) ||
        cx_need_cfg(mp->secret, "shopee.partner_key", err))
        return -1;
    if (parse_ll(mp->app_id, &pid))
        return cs_error_set(err, CS_E_MP_NOT_CONFIGURED, "shopee.partner_id is not a number");
    if (shop_call) {
        if (cx_need_account(in, 1, err)) return -1;
        if (parse_ll(in->account->shop_id, &shop))
            return cs_error_set(err, CS_E_MP_REAUTHORIZE, "shop id is not a number");
    }
    char sign[65], pids[24], tss[24], shops[24];
    cx_shopee_sign(mp->secret, pid, path, ts, shop_call ? in->account->access_token : NULL, shop,
                   sign);
    snprintf(pids, sizeof pids, "%lld", pid);
    snprintf(tss, sizeof tss, "%lld", ts);
    snprintf(shops, sizeof shops, "%lld", shop);
    cx_param q[5];
    size_t n = 0;
    q[n++] = (cx_param){"partner_id", pids};
    q[n++] = (cx_param){"timestamp", tss};
    if (shop_call) {
        q[n++] = (cx_param){"access_token", in->account->access_token};
        q[n++] = (cx_param){"shop_id", shops};
    }
    q[n++] = (cx_param){"sign", sign};
    if (cx_url_base(u, mp->base_url, path) || cx_query(u, q, n, '?') ||
        cx_query(u, extra, nextra, '&'))
        return cs_error_set(err, CS_E_NOMEM, NULL);
    return 0;
}

static int finish(cx_request *req, cx_op op, const char *method, cs_buf *u, json_t *body,
                  cs_error *err)
{
    int rc = -1;
    char *b = NULL;
    size_t blen = 0;
    if (body && !(b = cx_json_dump(body, &blen))) goto out;
    if (cx_req_start(req, op, method, u->data)) goto out;
    if (b && cx_req_body(req, "application/json", b, blen)) goto out;
    rc = 0;
out:
    if (rc) cs_error_set(err, CS_E_NOMEM, NULL);
    if (b) cs_free_secret(b, blen);
    json_decref(body);
    cs_buf_free(u);
    return rc;
}

/* Item content shared by add_item and update_item. */
static int item_body(const cx_input *in, json_t *o, int create, cs_error *err)
{
    const cx_listing *l = in->listing;
    long long cat;
    char sku[24];
    if (parse_ll(l->category->external_id, &cat))
        return cs_error_field(err, "category", CS_F_CATEGORY_UNMAPPED, "not a Shopee category id");
    cx_sku(l->listing_id, sku);
    json_t *imgs = json_array();
    if (!imgs) return cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; i < l->nimages; i++)
        if (json_array_append_new(imgs, json_string(l->image_ids[i]))) {
            json_decref(imgs);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
    json_t *image = json_pack("{s:o}", "image_id_list", imgs); /* steals imgs, even on error */
    if (!image) return cs_error_set(err, CS_E_NOMEM, NULL);
    int bad = cx_jset(o, "item_name", json_string(l->name)) ||
              cx_jset(o, "description", json_string(l->description ? l->description : ""));
    if (create) {
        bad = bad || cx_jset(o, "original_price", json_integer(l->price_vnd)) ||
              cx_jset(o, "seller_stock", json_pack("[{s:I}]", "stock", (json_int_t)l->stock));
    }
    bad = bad || cx_jset(o, "weight", json_real((double)l->weight_g / 1000.0));
    if (!bad && l->length_mm > 0 && l->width_mm > 0 && l->height_mm > 0)
        bad = cx_jset(o, "dimension",
                      json_pack("{s:I,s:I,s:I}", "package_length",
                                (json_int_t)((l->length_mm + 9) / 10), "package_width",
                                (json_int_t)((l->width_mm + 9) / 10), "package_height",
                                (json_int_t)((l->height_mm + 9) / 10)));
    bad = bad || cx_jset(o, "category_id", json_integer(cat));
    if (bad)
        json_decref(image);
    else
        bad = cx_jset(o, "image", image); /* json_object_set_new consumes image */
    if (!bad && create) {
        long long lid;
        if (parse_ll(in->mp->logistic_id, &lid))
            return cs_error_set(err, CS_E_MP_NOT_CONFIGURED, "shopee.logistic_id is not set");
        bad = cx_jset(o, "logistic_info",
                      json_pack("[{s:I,s:b}]", "logistic_id", (json_int_t)lid, "enabled", 1)) ||
              cx_jset(o, "item_sku", json_string(sku)) ||
              cx_jset(o, "item_status", json_string("NORMAL")) ||
              cx_jset(o, "condition", json_string("NEW"));
    } else if (!bad) {
        bad = cx_jset(o, "item_sku", json_string(sku));
    }
    if (bad) return cs_error_set(err, CS_E_NOMEM, NULL);
    return cx_json_merge(o, l->category->attributes_json, err);
}

static int shopee_build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    cs_buf u;
    cs_buf_init(&u, URL_MAX);
    json_t *body = NULL;
    long long pid = 0, shop = 0;
    const char *path;
    if (!in->mp) return cs_error_set(err, CS_E_INTERNAL, "no marketplace");
    switch (op) {
    case CX_OP_AUTHORIZE_LINK: {
        path = "/api/v2/shop/auth_partner";
        if (cx_need_cfg(in->mp->redirect_url, "http.public_url", err)) return -1;
        cs_buf r;
        cs_buf_init(&r, URL_MAX);
        int bad = cs_buf_puts(&r, in->mp->redirect_url);
        if (!bad && in->oauth_state)
            bad = cs_buf_puts(&r, strchr(in->mp->redirect_url, '?') ? "&state=" : "?state=") ||
                  cx_urlenc(&r, in->oauth_state);
        cx_param q = {"redirect", r.data};
        if (bad) {
            cs_buf_free(&r);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        int rc = shopee_url(&u, in, path, 0, &q, 1, err);
        cs_buf_free(&r);
        if (rc) {
            cs_buf_free(&u);
            return -1;
        }
        return finish(req, op, "GET", &u, NULL, err);
    }
    case CX_OP_TOKEN_EXCHANGE:
    case CX_OP_TOKEN_REFRESH: {
        int ex = op == CX_OP_TOKEN_EXCHANGE;
        path = ex ? "/api/v2/auth/token/get" : "/api/v2/auth/access_token/get";
        const char *v = ex ? in->auth_code : (in->account ? in->account->refresh_token : NULL);
        if (!v || !*v)
            return cs_error_set(err, CS_E_MP_REAUTHORIZE, ex ? "no code" : "no refresh token");
        if (!in->account || parse_ll(in->account->shop_id, &shop))
            return cs_error_set(err, CS_E_MP_REAUTHORIZE, "shop id missing or not a number");
        if (shopee_url(&u, in, path, 0, NULL, 0, err)) {
            cs_buf_free(&u);
            return -1;
        }
        parse_ll(in->mp->app_id, &pid);
        body = json_pack("{s:s,s:I,s:I}", ex ? "code" : "refresh_token", v, "shop_id",
                         (json_int_t)shop, "partner_id", (json_int_t)pid);
        if (!body) {
            cs_buf_free(&u);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        return finish(req, op, "POST", &u, body, err);
    }
    case CX_OP_IMAGE_UPLOAD: {
        const cx_image *im = in->image;
        if (!im || !im->data || !im->len) return cs_error_field(err, "images", CS_F_REQUIRED, NULL);
        if (shopee_url(&u, in, "/api/v2/media_space/upload_image", 0, NULL, 0, err)) {
            cs_buf_free(&u);
            return -1;
        }
        if (finish(req, op, "POST", &u, NULL, err)) return -1;
        if (cx_req_part(req, "image", im->filename ? im->filename : "image.jpg",
                        im->content_type ? im->content_type : "image/jpeg", im->data, im->len, 0))
            return cs_error_set(err, CS_E_NOMEM, NULL);
        return 0;
    }
    case CX_OP_CREATE_ITEM:
    case CX_OP_UPDATE_ITEM: {
        int create = op == CX_OP_CREATE_ITEM;
        long long item = 0;
        if (cx_need_listing(in, err)) return -1;
        if (!in->listing->nimages) return cs_error_field(err, "images", CS_F_REQUIRED, NULL);
        if (!create && parse_ll(in->listing->item_id, &item))
            return cs_error_set(err, CS_E_INTERNAL, "update without a Shopee item id");
        body = json_object();
        if (!body) return cs_error_set(err, CS_E_NOMEM, NULL);
        if (!create && cx_jset(body, "item_id", json_integer(item))) {
            json_decref(body);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        if (item_body(in, body, create, err) ||
            shopee_url(&u, in, create ? "/api/v2/product/add_item" : "/api/v2/product/update_item",
                       1, NULL, 0, err)) {
            json_decref(body);
            cs_buf_free(&u);
            return -1;
        }
        return finish(req, op, "POST", &u, body, err);
    }
    case CX_OP_GET_ITEM_BY_SKU: {
        char sku[24];
        if (!in->listing) return cs_error_set(err, CS_E_INTERNAL, "listing missing");
        cx_sku(in->listing->listing_id, sku);
        /* 50 = what get_item_base_info takes at once; a household's shop holds far fewer SKUs
         * containing ours (CS-42 → CS-420…CS-429, CS-4200…) */
        cx_param q[] = {{"offset", "0"}, {"page_size", "50"}, {"item_sku", sku}};
        if (shopee_url(&u, in, "/api/v2/product/search_item", 1, q, 3, err)) {
            cs_buf_free(&u);
            return -1;
        }
        return finish(req, op, "GET", &u, NULL, err);
    }
    case CX_OP_GET_STATUS: {
        /* one item id, or a comma-separated list of look-up candidates to confirm */
        const char *ids = in->listing ? in->listing->item_id : NULL;
        if (!ids || !*ids || strspn(ids, "0123456789,") != strlen(ids) || ids[0] == ',')
            return cs_error_set(err, CS_E_INTERNAL, "status without a Shopee item id");
        cx_param q[] = {{"item_id_list", in->listing->item_id}};
        if (shopee_url(&u, in, "/api/v2/product/get_item_base_info", 1, q, 1, err)) {
            cs_buf_free(&u);
            return -1;
        }
        return finish(req, op, "GET", &u, NULL, err);
    }
    default:
        return cs_error_set(err, CS_E_INTERNAL, "shopee: %s is not an HTTP operation",
                            cx_op_name(op));
    }
}

static cx_item_state item_state(const char *s)
{
    if (!s) return CX_ITEM_UNKNOWN;
    if (!strcmp(s, "NORMAL")) return CX_ITEM_LIVE;
    if (!strcmp(s, "REVIEWING")) return CX_ITEM_PENDING;
    if (!strcmp(s, "BANNED")) return CX_ITEM_REJECTED;
    if (!strcmp(s, "UNLIST") || !strcmp(s, "SELLER_DELETE") || !strcmp(s, "SHOPEE_DELETE"))
        return CX_ITEM_DELISTED;
    return CX_ITEM_UNKNOWN;
}

static void banned(cx_outcome *out)
{
    cx_outcome_reject(out, "", "BANNED",
                      "Shopee đã khoá (BANNED) sản phẩm này vì vi phạm chính sách đăng bán; xem lý "
                      "do trong Kênh Người Bán Shopee, sửa nội dung rồi đăng lại.",
                      "Shopee banned the item for a listing-policy violation; see Seller Centre.");
    out->state = CX_ITEM_REJECTED;
}

static int token_fields(const json_t *j, const cx_input *in, cx_outcome *out)
{
    const char *at = json_string_value(json_object_get(j, "access_token"));
    const char *rt = json_string_value(json_object_get(j, "refresh_token"));
    long long exp = cx_json_int(j, "expire_in", -1);
    if (!at || !rt || !*at || !*rt || exp <= 0 || strlen(at) >= CX_TOKEN_MAX ||
        strlen(rt) >= CX_TOKEN_MAX)
        return -1;
    cx_copy(out->access_token, sizeof out->access_token, at);
    cx_copy(out->refresh_token, sizeof out->refresh_token, rt);
    out->access_expires_at = in->now_ms / 1000 + exp;
    out->refresh_expires_at = in->now_ms / 1000 + SHOPEE_REFRESH_LIFETIME;
    if (cx_json_text(j, "shop_id", out->shop_id, sizeof out->shop_id) && in->account &&
        in->account->shop_id)
        cx_copy(out->shop_id, sizeof out->shop_id, in->account->shop_id);
    return 0;
}

static void shopee_parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    cx_outcome_init(out);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (e && *e) {
        cx_out_error(out, "Shopee", e, msg, resp->status, ra);
        /* A bad code or refresh token means authorising again, not fixing a product. */
        if ((op == CX_OP_TOKEN_EXCHANGE || op == CX_OP_TOKEN_REFRESH) &&
            (out->result == CX_REJECTED || out->result == CX_NOT_FOUND)) {
            char code[64];
            cx_copy(code, sizeof code, e);
            out->nreasons = 0;
            cx_out_reauth(out, code, msg);
        }
        /* Looking an item up: "not found" is an answer, not a failure. */
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    if (!j) {
        cx_out_retry(out, 10, 1, "malformed_response", "unreadable answer");
        goto done;
    }
    json_t *r = json_object_get(j, "response");
    switch (op) {
    case CX_OP_TOKEN_EXCHANGE:
    case CX_OP_TOKEN_REFRESH:
        if (token_fields(j, in, out)) cx_out_retry(out, 10, 1, "malformed_response", "no tokens");
        break;
    case CX_OP_IMAGE_UPLOAD: {
        json_t *info = json_object_get(r, "image_info");
        if (cx_json_text(info, "image_id", out->image_id, sizeof out->image_id) ||
            !out->image_id[0])
            cx_out_retry(out, 10, 1, "malformed_response", "no image_id");
        break;
    }
    case CX_OP_CREATE_ITEM:
    case CX_OP_UPDATE_ITEM:
        if (cx_json_text(r, "item_id", out->item_id, sizeof out->item_id)) {
            if (op == CX_OP_UPDATE_ITEM && in->listing && in->listing->item_id) {
                cx_copy(out->item_id, sizeof out->item_id, in->listing->item_id);
            } else {
                cx_out_retry(out, 10, 1, "malformed_response", "no item_id");
                break;
            }
        }
        out->state = item_state(json_string_value(json_object_get(r, "item_status")));
        if (out->state == CX_ITEM_UNKNOWN) out->state = CX_ITEM_PENDING;
        if (out->state == CX_ITEM_REJECTED) banned(out);
        break;
    case CX_OP_GET_ITEM_BY_SKU: {
        json_t *ids = json_object_get(r, "item_id_list");
        if (r && !ids) ids = json_object_get(r, "item"); /* tolerated older shape */
        if (!json_is_array(ids) || !json_array_size(ids)) {
            out->result = CX_NOT_FOUND;
            break;
        }
        /* search_item matches item_sku as a substring (CS-42 also finds CS-420): every
         * candidate goes to get_item_base_info, which compares the SKU exactly */
        size_t i, used = 0;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            char id[32];
            if (json_is_object(v)) v = json_object_get(v, "item_id");
            if (json_is_integer(v))
                snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            else if (json_is_string(v) && strlen(json_string_value(v)) < sizeof id &&
                     strspn(json_string_value(v), "0123456789") == strlen(json_string_value(v)) &&
                     *json_string_value(v))
                cx_copy(id, sizeof id, json_string_value(v));
            else
                continue;
            size_t k = strlen(id);
            if (used + k + 2 > sizeof out->candidates || i >= 50) break;
            if (used) out->candidates[used++] = ',';
            memcpy(out->candidates + used, id, k + 1);
            used += k;
            if (!out->item_id[0]) cx_copy(out->item_id, sizeof out->item_id, id);
        }
        if (!used)
            cx_out_retry(out, 10, 1, "malformed_response", "bad item id");
        else
            out->confirm = 1;
        break;
    }
    case CX_OP_GET_STATUS: {
        json_t *list = json_object_get(r, "item_list");
        json_t *item = json_array_get(list, 0);
        if (in->listing && in->listing->confirm_sku) {
            /* confirming look-up candidates: only an exact SKU match counts */
            char sku[24], got[40];
            size_t i;
            json_t *v;
            cx_sku(in->listing->listing_id, sku);
            item = NULL;
            json_array_foreach(list, i, v)
            {
                if (!cx_json_text(v, "item_sku", got, sizeof got) && !strcmp(got, sku)) {
                    item = v;
                    break;
                }
            }
        }
        if (!json_is_object(item)) {
            out->result = CX_NOT_FOUND;
            break;
        }
        cx_json_text(item, "item_id", out->item_id, sizeof out->item_id);
        cx_json_text(item, "item_sku", out->sku, sizeof out->sku);
        out->state = item_state(json_string_value(json_object_get(item, "item_status")));
        if (out->state == CX_ITEM_UNKNOWN)
            cx_out_retry(out, 60, 0, "unknown_item_status", "unrecognised item_status");
        else if (out->state == CX_ITEM_REJECTED)
            banned(out);
        break;
    }
    default:
        cx_out_retry(out, 60, 0, "unsupported_operation", cx_op_name(op));
        break;
    }
done:
    json_decref(j);
}

static void shopee_verify_push(const cx_input *in, cx_outcome *out)
{
    const cx_market *mp = in->mp;
    int signed_ok = mp && mp->secret && *mp->secret && mp->push_url &&
                    cx_shopee_push_verify(mp->secret, mp->push_url, in->push_body, in->push_len,
                                          in->push_authorization);
    json_t *j = cx_push_open(in, signed_ok, out);
    if (!j) return;
    out->push_code = (int)cx_json_int(j, "code", 0);
    cx_json_text(j, "shop_id", out->shop_id, sizeof out->shop_id);
    json_t *d = json_object_get(j, "data");
    cx_json_text(d, "item_id", out->item_id, sizeof out->item_id);
    out->state = item_state(json_string_value(json_object_get(d, "item_status")));
    json_decref(j);
}

const cx_connector cx_shopee = {
    .code = "shopee",
    .alias = NULL,
    .display_name = "Shopee",
    .kind = CX_KIND_API,
    .default_domain = "shopee.vn",
    .display_order = 3,
    .ops = CX_OPBIT(CX_OP_AUTHORIZE_LINK) | CX_OPBIT(CX_OP_TOKEN_EXCHANGE) |
           CX_OPBIT(CX_OP_TOKEN_REFRESH) | CX_OPBIT(CX_OP_IMAGE_UPLOAD) |
           CX_OPBIT(CX_OP_CREATE_ITEM) | CX_OPBIT(CX_OP_UPDATE_ITEM) |
           CX_OPBIT(CX_OP_GET_ITEM_BY_SKU) | CX_OPBIT(CX_OP_GET_STATUS) |
           CX_OPBIT(CX_OP_VERIFY_PUSH),
    .build = shopee_build,
    .parse = shopee_parse,
    .verify_push = shopee_verify_push,
    .assisted = NULL,
};

/* ---- catalogue and changes to live items (connectors/catalog.h) ----------------------------
 *   tree     GET  /api/v2/product/get_category ...&language=vi
 *            → response.category_list[{category_id, parent_category_id, original_category_name,
 *              display_category_name, has_children}]
 *   attrs    GET  /api/v2/product/get_attribute_tree ...&category_id_list=<leaf>&language=vi
 *            → response.list[{category_id, attribute_tree[{attribute_id, mandatory, name,
 *              attribute_value_list[{value_id, name}], attribute_info{input_type}}]}]
 *   price    POST /api/v2/product/update_price {"item_id","price_list":[{"model_id":0,
 *              "original_price"}]}  → response.success_list / failure_list[{failed_reason}]
 *   stock    POST /api/v2/product/update_stock {"item_id","stock_list":[{"model_id":0,
 *              "seller_stock":[{"stock"}]}]}
 *   withdraw POST /api/v2/product/unlist_item {"item_list":[{"item_id","unlist":true}]}
 *   delete   POST /api/v2/product/delete_item {"item_id"} — after the unlist: a product or a
 *            consent withdrawn leaves nothing of the owner's on Shopee (issue 16); an item
 *            already gone (error_item_not_found, or "not found" in the unlist's failure_list)
 *            is the goal reached */
#include "connectors/catalog.h"
#include "connectors/orders.h"

static int shopee_cat_build(cx_cat_step step, const cx_input *in, const char *category_id,
                            cx_request *req, cs_error *err)
{
    cs_buf u;
    cs_buf_init(&u, URL_MAX);
    int rc;
    if (step == CX_CAT_TREE) {
        cx_param x = {"language", "vi"};
        rc = shopee_url(&u, in, "/api/v2/product/get_category", 1, &x, 1, err);
    } else {
        if (!category_id || !*category_id) {
            cs_buf_free(&u);
            return cs_error_set(err, CS_E_INTERNAL, "attributes need a category id");
        }
        cx_param x[2] = {{"category_id_list", category_id}, {"language", "vi"}};
        rc = shopee_url(&u, in, "/api/v2/product/get_attribute_tree", 1, x, 2, err);
    }
    if (rc) {
        cs_buf_free(&u);
        return -1;
    }
    return finish(req, CX_OP_GET_STATUS, "GET", &u, NULL, err);
}

/* The opening of every catalogue/change answer: transport, Shopee error, HTTP status, JSON.
 * Returns the body (caller decrefs) with out still CX_OK, or NULL with out decided. */
static json_t *shopee_open(const cx_input *in, const cx_response *resp, cx_outcome *out,
                           int gone_is_ok)
{
    cx_outcome_init(out);
    if (cx_triage_transport(resp, out)) return NULL;
    json_t *j = cx_json_body(resp);
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (e && *e) {
        if (gone_is_ok && !strcmp(e, "error_item_not_found")) { /* already gone: goal reached */
            json_decref(j);
            return NULL;
        }
        cx_out_error(out, "Shopee", e, msg, resp->status, ra);
    } else if (!cx_triage_status(resp, in->now_ms, out) && !j) {
        cx_out_retry(out, 10, 1, "malformed_response", "unreadable answer");
    }
    if (out->result != CX_OK || out->error_code[0]) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void shopee_cat_parse(cx_cat_step step, const cx_input *in, const cx_response *resp,
                             cx_outcome *out, cx_catalog_page *page)
{
    json_t *j = shopee_open(in, resp, out, 0);
    if (!j) return;
    json_t *r = json_object_get(j, "response"), *e;
    size_t i;
    int bad = 0;
    if (step == CX_CAT_TREE) {
        json_t *list = json_object_get(r, "category_list");
        if (!json_is_array(list)) bad = 1;
        json_array_foreach(list, i, e)
        {
            char id[40] = "", parent[40] = "";
            const char *name = json_string_value(json_object_get(e, "display_category_name"));
            if (!name || !*name)
                name = json_string_value(json_object_get(e, "original_category_name"));
            cx_json_text(e, "category_id", id, sizeof id);
            cx_json_text(e, "parent_category_id", parent, sizeof parent);
            if (!bad && cx_catalog_add_node(page, id, parent, name,
                                            !json_is_true(json_object_get(e, "has_children"))))
                bad = 1;
        }
    } else {
        json_t *one = json_array_get(json_object_get(r, "list"), 0);
        json_t *tree = json_object_get(one, "attribute_tree");
        if (!json_is_array(tree)) bad = 1;
        json_array_foreach(tree, i, e)
        {
            char id[64] = "", input[40] = "";
            cx_json_text(e, "attribute_id", id, sizeof id);
            cx_json_text(json_object_get(e, "attribute_info"), "input_type", input, sizeof input);
            json_t *ch = json_array(), *v;
            size_t k;
            json_array_foreach(json_object_get(e, "attribute_value_list"), k, v)
            {
                char vid[64] = "";
                cx_json_text(v, "value_id", vid, sizeof vid);
                json_array_append_new(ch, json_pack("{s:s,s:s?}", "id", vid, "name",
                                                    json_string_value(json_object_get(v, "name"))));
            }
            char *chs = cx_json_dump(ch, NULL);
            json_decref(ch);
            if (!bad && (!chs || cx_catalog_add_attr(
                                     page, id, json_string_value(json_object_get(e, "name")), input,
                                     json_is_true(json_object_get(e, "mandatory")), chs)))
                bad = 1;
            cs_free(chs);
        }
    }
    if (bad) cx_out_retry(out, 60, 0, "malformed_response", "category answer unreadable");
    json_decref(j);
}

const cx_catalog_ops cx_shopee_catalog = {"shopee", 1, shopee_cat_build, shopee_cat_parse};

static int shopee_chg_build(cx_change_kind k, const cx_input *in, const cx_change *c,
                            cx_request *req, cs_error *err)
{
    long long item;
    if (!c || parse_ll(c->item_id, &item))
        return cs_error_set(err, CS_E_INTERNAL, "a change needs the Shopee item id");
    static const char *const path[] = {
        "/api/v2/product/update_price", "/api/v2/product/update_stock",
        "/api/v2/product/unlist_item", NULL, "/api/v2/product/delete_item"};
    if ((unsigned)k > CX_CHG_DELETE || !path[k])
        return cs_error_set(err, CS_E_INTERNAL, "Shopee has no %s step", cx_change_name(k));
    json_t *b;
    if (k == CX_CHG_PRICE)
        b = json_pack("{s:I,s:[{s:i,s:I}]}", "item_id", (json_int_t)item, "price_list", "model_id",
                      0, "original_price", (json_int_t)c->price_vnd);
    else if (k == CX_CHG_STOCK)
        b = json_pack("{s:I,s:[{s:i,s:[{s:I}]}]}", "item_id", (json_int_t)item, "stock_list",
                      "model_id", 0, "seller_stock", "stock", (json_int_t)c->stock);
    else if (k == CX_CHG_DELETE)
        b = json_pack("{s:I}", "item_id", (json_int_t)item);
    else
        b = json_pack("{s:[{s:I,s:b}]}", "item_list", "item_id", (json_int_t)item, "unlist", 1);
    if (!b) return cs_error_set(err, CS_E_NOMEM, NULL);
    cs_buf u;
    cs_buf_init(&u, URL_MAX);
    if (shopee_url(&u, in, path[k], 1, NULL, 0, err)) {
        cs_buf_free(&u);
        json_decref(b);
        return -1;
    }
    return finish(req, CX_OP_UPDATE_ITEM, "POST", &u, b, err);
}

static void shopee_chg_parse(cx_change_kind k, const cx_input *in, const cx_response *resp,
                             cx_outcome *out, char ext_sku_id[64])
{
    (void)ext_sku_id;
    json_t *j = shopee_open(in, resp, out, k == CX_CHG_WITHDRAW || k == CX_CHG_DELETE);
    if (!j) return;
    json_t *fail =
        json_array_get(json_object_get(json_object_get(j, "response"), "failure_list"), 0);
    const char *why = fail ? json_string_value(json_object_get(fail, "failed_reason")) : NULL;
    if (fail && k == CX_CHG_WITHDRAW && why && strstr(why, "not found")) fail = NULL; /* gone */
    if (fail) {
        cx_out_reject_field(out, "Shopee",
                            k == CX_CHG_PRICE   ? "price_vnd"
                            : k == CX_CHG_STOCK ? "stock"
                                                : NULL,
                            "failure_list", why ? why : "the change was refused");
    }
    json_decref(j);
}

const cx_change_ops cx_shopee_changes = {"shopee", 0, 0, shopee_chg_build, shopee_chg_parse, 1};

/* ---- orders (connectors/orders.h) ---------------------------------------------------------
 *   list    GET /api/v2/order/get_order_list ...&time_range_field=update_time&time_from&time_to
 *           &page_size=100[&cursor]&response_optional_fields=order_status  (window ≤ 15 days)
 *           → response.order_list[{order_sn, order_status}], more, next_cursor
 *   lines   GET /api/v2/order/get_order_detail ...&order_sn_list=a,b (1–50)
 *           &response_optional_fields=item_list → response.order_list[{order_sn, order_status,
 *           create_time, update_time, item_list[{item_id, item_sku, model_id, model_sku,
 *           model_quantity_purchased, model_discounted_price}]}]
 *   Shopee has no line id: item_id:model_id names the line (one order lists a model once). */

static cx_order_state shopee_order_state(const char *s)
{
    static const struct {
        const char *s;
        cx_order_state st;
    } t[] = {{"UNPAID", CX_OS_OPEN},
             {"READY_TO_SHIP", CX_OS_OPEN},
             {"PROCESSED", CX_OS_OPEN},
             {"SHIPPED", CX_OS_OPEN},
             {"RETRY_SHIP", CX_OS_OPEN},
             {"IN_CANCEL", CX_OS_OPEN},
             {"TO_CONFIRM_RECEIVE", CX_OS_DELIVERED},
             {"COMPLETED", CX_OS_DELIVERED},
             {"CANCELLED", CX_OS_CANCELLED},
             {"TO_RETURN", CX_OS_RETURNED}};
    for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].s)) return t[i].st;
    return CX_OS_UNKNOWN;
}

static int shopee_orders_build(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                               cx_request *req, cs_error *err)
{
    cs_buf u;
    cs_buf_init(&u, URL_MAX);
    if (step == CX_ORD_LIST) {
        if (q->to_s <= q->from_s || q->to_s - q->from_s > CX_SHOPEE_WINDOW_S)
            return cs_error_set(err, CS_E_INTERNAL, "Shopee order window must be 1 s to 15 days");
        char from[24], to[24];
        snprintf(from, sizeof from, "%lld", q->from_s);
        snprintf(to, sizeof to, "%lld", q->to_s);
        cx_param x[6];
        size_t n = 0;
        x[n++] = (cx_param){"time_range_field", "update_time"};
        x[n++] = (cx_param){"time_from", from};
        x[n++] = (cx_param){"time_to", to};
        x[n++] = (cx_param){"page_size", "100"};
        if (q->cursor && *q->cursor) x[n++] = (cx_param){"cursor", q->cursor};
        x[n++] = (cx_param){"response_optional_fields", "order_status"};
        if (shopee_url(&u, in, "/api/v2/order/get_order_list", 1, x, n, err)) {
            cs_buf_free(&u);
            return -1;
        }
    } else {
        if (!q->nids || q->nids > CX_ORDERS_IDS_MAX)
            return cs_error_set(err, CS_E_INTERNAL, "get_order_detail takes 1 to 50 order_sn");
        cs_buf ids;
        cs_buf_init(&ids, 64 * CX_ORDERS_IDS_MAX);
        int bad = 0;
        for (size_t i = 0; i < q->nids && !bad; i++)
            bad = (i && cs_buf_putc(&ids, ',')) || cs_buf_puts(&ids, q->ids[i]);
        if (bad) {
            cs_buf_free(&ids);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        cx_param x[2] = {{"order_sn_list", ids.data}, {"response_optional_fields", "item_list"}};
        int rc = shopee_url(&u, in, "/api/v2/order/get_order_detail", 1, x, 2, err);
        cs_buf_free(&ids);
        if (rc) {
            cs_buf_free(&u);
            return -1;
        }
    }
    return finish(req, CX_OP_GET_STATUS, "GET", &u, NULL, err);
}

static void shopee_order_lines(const json_t *o, cx_orders_page *page, cx_outcome *out)
{
    char sn[64] = "", st[40] = "";
    if (cx_json_text(o, "order_sn", sn, sizeof sn) || !*sn) {
        cx_orders_bad(page, "order without order_sn", NULL);
        return;
    }
    cx_json_text(o, "order_status", st, sizeof st);
    cx_order_state state = shopee_order_state(st);
    long long upd = cx_json_int(o, "update_time", -1), cre = cx_json_int(o, "create_time", -1);
    if (state == CX_OS_UNKNOWN) {
        cx_orders_bad(page, "unknown order_status", sn);
        return;
    }
    if (upd < 0) {
        cx_orders_bad(page, "order without update_time", sn);
        return;
    }
    json_t *items = json_object_get(o, "item_list"), *it;
    size_t i;
    if (!json_is_array(items)) {
        cx_orders_bad(page, "order without item_list", sn);
        return;
    }
    json_array_foreach(items, i, it)
    {
        cx_order_line l;
        memset(&l, 0, sizeof l);
        char item[32] = "", model[32] = "0";
        cx_copy(l.order_id, sizeof l.order_id, sn);
        cx_copy(l.status, sizeof l.status, st);
        l.state = state;
        l.created_s = cre;
        l.updated_s = upd;
        cx_json_text(it, "model_id", model, sizeof model);
        if (cx_json_text(it, "item_id", item, sizeof item) || !*item) {
            cx_orders_bad(page, "line without item_id", sn);
            continue;
        }
        cx_copy(l.item_id, sizeof l.item_id, item);
        snprintf(l.line_id, sizeof l.line_id, "%s:%s", item, model);
        if (cx_json_text(it, "model_sku", l.sku, sizeof l.sku) || !*l.sku)
            cx_json_text(it, "item_sku", l.sku, sizeof l.sku);
        l.qty = cx_json_int(it, "model_quantity_purchased", -1);
        long long price = cx_orders_vnd(json_object_get(it, "model_discounted_price"));
        if (l.qty <= 0 || price < 0 || price > (1LL << 40) / l.qty) {
            cx_orders_bad(page, "line quantity or price is not a number", sn);
            continue;
        }
        l.amount_vnd = price * l.qty;
        if (cx_orders_add_line(page, &l)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "order lines");
            return;
        }
    }
}

static void shopee_orders_parse(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                                const cx_response *resp, cx_outcome *out, cx_orders_page *page)
{
    (void)q;
    cx_outcome_init(out);
    memset(page, 0, sizeof *page);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (e && *e) {
        cx_out_error(out, "Shopee", e, msg, resp->status, ra);
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    json_t *r = j ? json_object_get(j, "response") : NULL;
    json_t *list = json_object_get(r, "order_list"), *o;
    if (!json_is_array(list)) {
        cx_out_retry(out, 10, 1, "malformed_response", "no order_list");
        goto done;
    }
    size_t i;
    json_array_foreach(list, i, o)
    {
        if (step == CX_ORD_LINES) {
            shopee_order_lines(o, page, out);
            if (out->result != CX_OK) goto done;
            continue;
        }
        char sn[64] = "";
        if (cx_json_text(o, "order_sn", sn, sizeof sn) || !*sn)
            cx_orders_bad(page, "order without order_sn", NULL);
        else if (cx_orders_add_id(page, sn)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "order ids");
            goto done;
        }
    }
    if (step == CX_ORD_LIST) {
        json_t *more = json_object_get(r, "more");
        page->more = json_is_true(more);
        cx_json_text(r, "next_cursor", page->next_cursor, sizeof page->next_cursor);
        if (page->more && !page->next_cursor[0])
            cx_out_retry(out, 10, 1, "malformed_response", "more without next_cursor");
    }
done:
    if (out->result != CX_OK) cx_orders_page_free(page);
    json_decref(j);
}

const cx_order_ops cx_shopee_orders = {
    .code = "shopee",
    .two_step = 1,
    .build = shopee_orders_build,
    .parse = shopee_orders_parse,
};

/* ---- re-check of live items (connectors/recheck.h) -----------------------------------------
 *   GET /api/v2/product/get_item_base_info item_id_list=1,2,…(≤ 50) → response.item_list[{
 *       item_id, item_status NORMAL|BANNED|UNLIST|SELLER_DELETE|SHOPEE_DELETE|REVIEWING}] */
#include "connectors/recheck.h"

static int shopee_recheck_build(const cx_input *in, const cx_recheck_query *q, cx_request *req,
                                cs_error *err)
{
    if (!q->nids || q->nids > CX_RECHECK_IDS_MAX)
        return cs_error_set(err, CS_E_INTERNAL, "get_item_base_info takes 1 to 50 item ids");
    cs_buf ids, u;
    cs_buf_init(&ids, 64 * CX_RECHECK_IDS_MAX);
    int bad = 0;
    for (size_t i = 0; i < q->nids && !bad; i++)
        bad = (i && cs_buf_putc(&ids, ',')) || cs_buf_puts(&ids, q->ids[i]);
    if (bad) {
        cs_buf_free(&ids);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    cs_buf_init(&u, URL_MAX);
    cx_param x[1] = {{"item_id_list", ids.data}};
    int rc = shopee_url(&u, in, "/api/v2/product/get_item_base_info", 1, x, 1, err);
    cs_buf_free(&ids);
    if (rc) {
        cs_buf_free(&u);
        return -1;
    }
    return finish(req, CX_OP_GET_STATUS, "GET", &u, NULL, err);
}

static void shopee_recheck_parse(const cx_input *in, const cx_recheck_query *q,
                                 const cx_response *resp, cx_outcome *out, cx_recheck_page *page)
{
    (void)q;
    cx_outcome_init(out);
    memset(page, 0, sizeof *page);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (e && *e) {
        cx_out_error(out, "Shopee", e, msg, resp->status, ra);
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    json_t *list = json_object_get(j ? json_object_get(j, "response") : NULL, "item_list"), *v;
    if (!json_is_array(list)) {
        cx_out_retry(out, 10, 1, "malformed_response", "no item_list");
        goto done;
    }
    size_t i;
    json_array_foreach(list, i, v)
    {
        cx_item_seen s;
        memset(&s, 0, sizeof s);
        if (cx_json_text(v, "item_id", s.item_id, sizeof s.item_id) || !s.item_id[0]) continue;
        cx_json_text(v, "item_status", s.status, sizeof s.status);
        s.state = item_state(s.status);
        if (s.state == CX_ITEM_REJECTED) cx_json_text(v, "ban_reason", s.reason, sizeof s.reason);
        if (cx_recheck_add(page, &s)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "items");
            goto done;
        }
    }
done:
    if (out->result != CX_OK) cx_recheck_page_free(page);
    json_decref(j);
}

const cx_recheck_ops cx_shopee_recheck = {"shopee", 1, shopee_recheck_build, shopee_recheck_parse};
