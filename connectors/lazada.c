/* connectors/lazada: Lazada Open Platform (Vietnam) — builds requests and parses answers, no I/O.
 * Wire shapes (MARKETPLACES.md; the simulator in sandbox/ speaks the same):
 *   system params app_key, timestamp (ms), sign_method=sha256, [access_token,] sign (UPPER hex
 *                 over every param but sign, sorted, path prefixed). GET: all in the query.
 *                 POST: system params + sign in the query, business params form-encoded body.
 *   auth link     {auth host}/oauth/authorize?response_type=code&force_auth=true&redirect_uri&
 *                 client_id&state  (auth host = lazada.auth_url without "/rest")
 *   token         POST {auth_url}/auth/token/create  code=…
 *   refresh       POST {auth_url}/auth/token/refresh refresh_token=…
 *                 → access_token, refresh_token, expires_in, refresh_expires_in (s),
 *                   country_user_info[0].seller_id
 *   image         POST /image/migrate payload=<Request><Image><Url>…</Url></Image></Request>
 *                 → data.image.url (Lazada-hosted URL, used in the item)
 *   create        POST /product/create payload={"Request":{"Product":{…}}} → data.item_id
 *                 (new items sit in "Pending QC")
 *   update        POST /product/update payload with ItemId
 *   by SKU/status GET  /product/item/get seller_sku=… | item_id=… → data.item_id, data.status
 *                 Active|Pending QC|InActive|Deleted|Suspended|Rejected, data.reject_reason,
 *                 data.skus[0].Url; not found: code "208"
 *   errors        {"type":"ISV|ISP|SYSTEM","code":"E001","message":"…","request_id":"…",
 *                  "detail":[{"field":"…","message":"…"}]} ; success "code":"0"
 * Real status strings and the reject_reason member are not fully published; the connector
 * accepts both spellings it knows and the simulator uses these. */
#include "connectors/connector.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define URL_MAX 16384
#define BODY_MAX (1u << 20)
#define MAXP 8

/* Build {host}{path}?query and, for POST, the form body. sys/business params are signed
 * together. */
static int lazada_request(cx_request *req, cx_op op, const char *method, const char *host,
                          const char *hostkey, const cx_input *in, const char *path, int with_token,
                          const cx_param *biz, size_t nbiz, cs_error *err)
{
    const cx_market *mp = in->mp;
    if (cx_need_cfg(host, hostkey, err) || cx_need_cfg(mp->app_id, "lazada.app_key", err) ||
        cx_need_cfg(mp->secret, "lazada.app_secret", err))
        return -1;
    if (with_token && cx_need_account(in, 0, err)) return -1;
    char ts[24], sign[65];
    snprintf(ts, sizeof ts, "%lld", in->now_ms);
    cx_param all[MAXP + 4];
    size_t n = 0;
    all[n++] = (cx_param){"app_key", mp->app_id};
    all[n++] = (cx_param){"timestamp", ts};
    all[n++] = (cx_param){"sign_method", "sha256"};
    if (with_token) all[n++] = (cx_param){"access_token", in->account->access_token};
    size_t nsys = n;
    for (size_t i = 0; i < nbiz && n < MAXP + 3; i++)
        all[n++] = biz[i];
    if (cx_lazada_sign(mp->secret, path, all, n, sign)) return cs_error_set(err, CS_E_NOMEM, NULL);
    int post = !strcmp(method, "POST");
    cs_buf u, b;
    cs_buf_init(&u, URL_MAX);
    cs_buf_init(&b, BODY_MAX);
    cx_param sp = {"sign", sign};
    int bad = cx_url_base(&u, host, path) || cx_query(&u, all, post ? nsys : n, '?') ||
              cx_query(&u, &sp, 1, '&');
    if (!bad && post) bad = cx_query(&b, all + nsys, n - nsys, 0);
    if (!bad) bad = cx_req_start(req, op, method, u.data);
    if (!bad && post)
        bad = cx_req_body(req, "application/x-www-form-urlencoded", b.data ? b.data : "", b.len);
    cs_buf_free(&u);
    if (b.data) explicit_bzero(b.data, b.len);
    cs_buf_free(&b);
    return bad ? cs_error_set(err, CS_E_NOMEM, NULL) : 0;
}

/* "0.25" kg from grams, trailing zeros trimmed. */
static void kg(long g, char out[32])
{
    snprintf(out, 32, "%ld.%03ld", g / 1000, g % 1000);
    size_t n = strlen(out);
    while (out[n - 1] == '0')
        out[--n] = '\0';
    if (out[n - 1] == '.') out[n - 1] = '\0';
}

static char *product_payload(const cx_input *in, int create, cs_error *err)
{
    const cx_listing *l = in->listing;
    char sku[24], w[32], price[24], qty[24], len[24], wid[24], hei[24];
    cx_sku(l->listing_id, sku);
    kg(l->weight_g, w);
    snprintf(price, sizeof price, "%lld", l->price_vnd);
    snprintf(qty, sizeof qty, "%lld", l->stock);
    snprintf(len, sizeof len, "%ld", (l->length_mm + 9) / 10);
    snprintf(wid, sizeof wid, "%ld", (l->width_mm + 9) / 10);
    snprintf(hei, sizeof hei, "%ld", (l->height_mm + 9) / 10);
    json_t *root = NULL, *imgs = json_array(), *attrs = json_object(), *prod = json_object();
    char *out = NULL;
    if (!imgs || !attrs || !prod) goto oom;
    for (size_t i = 0; i < l->nimages; i++)
        if (json_array_append_new(imgs, json_string(l->image_ids[i]))) goto oom;
    if (cx_jset(attrs, "name", json_string(l->name)) ||
        cx_jset(attrs, "description", json_string(l->description ? l->description : "")))
        goto oom;
    if (cx_json_merge(attrs, l->category->attributes_json, err)) goto done;
    if (!create && cx_jset(prod, "ItemId", json_string(l->item_id))) goto oom;
    if (cx_jset(prod, "PrimaryCategory", json_string(l->category->external_id))) goto oom;
    json_t *image_obj = json_pack("{s:o}", "Image", imgs);
    imgs = NULL;
    if (cx_jset(prod, "Images", image_obj)) goto oom;
    if (json_object_set(prod, "Attributes", attrs)) goto oom;
    json_t *skus = json_pack("{s:[{s:s,s:s,s:s,s:s,s:s,s:s,s:s}]}", "Sku", "SellerSku", sku,
                             "price", price, "quantity", qty, "package_weight", w, "package_length",
                             len, "package_width", wid, "package_height", hei);
    if (cx_jset(prod, "Skus", skus)) goto oom;
    root = json_pack("{s:{s:O}}", "Request", "Product", prod);
    if (!root) goto oom;
    out = cx_json_dump(root, NULL);
    if (!out) goto oom;
    goto done;
oom:
    cs_error_set(err, CS_E_NOMEM, NULL);
done:
    json_decref(imgs);
    json_decref(attrs);
    json_decref(prod);
    json_decref(root);
    return out;
}

/* Auth host: lazada.auth_url without a trailing "/rest". */
static int auth_host(cs_buf *b, const char *auth_url)
{
    size_t n = strlen(auth_url);
    while (n && auth_url[n - 1] == '/')
        n--;
    if (n >= 5 && !memcmp(auth_url + n - 5, "/rest", 5)) n -= 5;
    return cs_buf_append(b, auth_url, n);
}

static int lazada_build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    const cx_market *mp = in->mp;
    if (!mp) return cs_error_set(err, CS_E_INTERNAL, "no marketplace");
    switch (op) {
    case CX_OP_AUTHORIZE_LINK: {
        if (cx_need_cfg(mp->auth_url, "lazada.auth_url", err) ||
            cx_need_cfg(mp->app_id, "lazada.app_key", err) ||
            cx_need_cfg(mp->redirect_url, "http.public_url", err))
            return -1;
        cs_buf u;
        cs_buf_init(&u, URL_MAX);
        cx_param q[] = {{"response_type", "code"},
                        {"force_auth", "true"},
                        {"redirect_uri", mp->redirect_url},
                        {"client_id", mp->app_id},
                        {"state", in->oauth_state}};
        int bad = auth_host(&u, mp->auth_url) || cs_buf_puts(&u, "/oauth/authorize") ||
                  cx_query(&u, q, 5, '?') || cx_req_start(req, op, "GET", u.data);
        cs_buf_free(&u);
        return bad ? cs_error_set(err, CS_E_NOMEM, NULL) : 0;
    }
    case CX_OP_TOKEN_EXCHANGE:
    case CX_OP_TOKEN_REFRESH: {
        int ex = op == CX_OP_TOKEN_EXCHANGE;
        const char *v = ex ? in->auth_code : (in->account ? in->account->refresh_token : NULL);
        if (!v || !*v)
            return cs_error_set(err, CS_E_MP_REAUTHORIZE, ex ? "no code" : "no refresh token");
        cx_param p = {ex ? "code" : "refresh_token", v};
        return lazada_request(req, op, "POST", mp->auth_url, "lazada.auth_url", in,
                              ex ? "/auth/token/create" : "/auth/token/refresh", 0, &p, 1, err);
    }
    case CX_OP_IMAGE_UPLOAD: {
        if (!in->image || !in->image->source_url || !*in->image->source_url)
            return cs_error_field(err, "images", CS_F_REQUIRED, "public image URL");
        cs_buf x;
        cs_buf_init(&x, URL_MAX);
        if (cs_buf_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><Request><Image><Url>") ||
            cs_buf_put_escaped(&x, in->image->source_url) ||
            cs_buf_puts(&x, "</Url></Image></Request>")) {
            cs_buf_free(&x);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        cx_param p = {"payload", x.data};
        int rc = lazada_request(req, op, "POST", mp->base_url, "lazada.base_url", in,
                                "/image/migrate", 1, &p, 1, err);
        cs_buf_free(&x);
        return rc;
    }
    case CX_OP_CREATE_ITEM:
    case CX_OP_UPDATE_ITEM: {
        int create = op == CX_OP_CREATE_ITEM;
        if (cx_need_listing(in, err)) return -1;
        const cx_listing *l = in->listing;
        if (!l->nimages) cs_error_field(err, "images", CS_F_REQUIRED, NULL);
        if (l->length_mm <= 0 || l->width_mm <= 0 || l->height_mm <= 0)
            cs_error_field(err, "dimensions", CS_F_REQUIRED, "Lazada needs the package size");
        if (!create && (!l->item_id || !*l->item_id))
            return cs_error_set(err, CS_E_INTERNAL, "update without a Lazada item id");
        if (cs_error_failed(err)) return -1;
        char *payload = product_payload(in, create, err);
        if (!payload) return -1;
        cx_param p = {"payload", payload};
        int rc = lazada_request(req, op, "POST", mp->base_url, "lazada.base_url", in,
                                create ? "/product/create" : "/product/update", 1, &p, 1, err);
        cs_free(payload);
        return rc;
    }
    case CX_OP_GET_ITEM_BY_SKU:
    case CX_OP_GET_STATUS: {
        char sku[24];
        cx_param p;
        if (!in->listing) return cs_error_set(err, CS_E_INTERNAL, "listing missing");
        if (op == CX_OP_GET_ITEM_BY_SKU) {
            cx_sku(in->listing->listing_id, sku);
            p = (cx_param){"seller_sku", sku};
        } else {
            if (!in->listing->item_id || !*in->listing->item_id)
                return cs_error_set(err, CS_E_INTERNAL, "status without a Lazada item id");
            p = (cx_param){"item_id", in->listing->item_id};
        }
        return lazada_request(req, op, "GET", mp->base_url, "lazada.base_url", in,
                              "/product/item/get", 1, &p, 1, err);
    }
    default:
        return cs_error_set(err, CS_E_INTERNAL, "lazada: %s is not an HTTP operation",
                            cx_op_name(op));
    }
}

static cx_item_state item_state(const char *s)
{
    if (!s) return CX_ITEM_UNKNOWN;
    if (!strcasecmp(s, "Active") || !strcasecmp(s, "live")) return CX_ITEM_LIVE;
    if (!strcasecmp(s, "Pending QC") || !strcasecmp(s, "pending")) return CX_ITEM_PENDING;
    if (!strcasecmp(s, "Rejected") || !strcasecmp(s, "Suspended") || !strcasecmp(s, "QC Failed"))
        return CX_ITEM_REJECTED;
    if (!strcasecmp(s, "InActive") || !strcasecmp(s, "Deleted")) return CX_ITEM_DELISTED;
    return CX_ITEM_UNKNOWN;
}

static void qc_rejected(cx_outcome *out, const char *reason)
{
    char vi[640]; /* cut to the reason's size, on a character boundary, by cx_copy */
    const char *field = cx_field_guess(reason);
    /* the reason in Vietnamese; Lazada's own words kept on a "Chi tiết" line */
    const char *rv = cx_reason_vi(reason);
    int has = reason && *reason;
    if (field)
        snprintf(vi, sizeof vi,
                 "Lazada không duyệt sản phẩm (kiểm duyệt QC): «%s» cần sửa — %s. Sửa rồi đăng "
                 "lại.%s%.150s",
                 cx_field_label_vi(field), rv, has ? "\nChi tiết: " : "", has ? reason : "");
    else
        snprintf(vi, sizeof vi,
                 "Lazada không duyệt sản phẩm (kiểm duyệt QC): %s. Sửa rồi đăng lại.%s%.150s", rv,
                 has ? "\nChi tiết: " : "", has ? reason : "");
    char en[320];
    snprintf(en, sizeof en, "Lazada QC rejected the item: %s",
             reason && *reason ? reason : "no reason given");
    cx_outcome_reject(out, field ? field : "", "QC_REJECTED", vi, en);
    out->state = CX_ITEM_REJECTED;
}

static int token_fields(const json_t *j, const cx_input *in, cx_outcome *out)
{
    const char *at = json_string_value(json_object_get(j, "access_token"));
    const char *rt = json_string_value(json_object_get(j, "refresh_token"));
    long long exp = cx_json_int(j, "expires_in", -1);
    long long rexp = cx_json_int(j, "refresh_expires_in", -1);
    if (!at || !rt || !*at || !*rt || exp <= 0 || strlen(at) >= CX_TOKEN_MAX ||
        strlen(rt) >= CX_TOKEN_MAX)
        return -1;
    cx_copy(out->access_token, sizeof out->access_token, at);
    cx_copy(out->refresh_token, sizeof out->refresh_token, rt);
    out->access_expires_at = in->now_ms / 1000 + exp;
    out->refresh_expires_at = rexp > 0 ? in->now_ms / 1000 + rexp : 0;
    json_t *cu = json_array_get(json_object_get(j, "country_user_info"), 0);
    if (cx_json_text(cu, "seller_id", out->shop_id, sizeof out->shop_id))
        cx_json_text(cu, "user_id", out->shop_id, sizeof out->shop_id);
    cx_json_text(j, "account", out->shop_name, sizeof out->shop_name);
    return 0;
}

static int is_success(const json_t *j)
{
    json_t *c = json_object_get(j, "code");
    if (json_is_string(c)) return !strcmp(json_string_value(c), "0");
    if (json_is_integer(c)) return json_integer_value(c) == 0;
    return 0;
}

static void lazada_error(cx_op op, const json_t *j, const cx_response *resp, unsigned ra,
                         cx_outcome *out)
{
    char code[64] = "";
    const char *msg = json_string_value(json_object_get(j, "message"));
    const char *type = json_string_value(json_object_get(j, "type"));
    cx_json_text(j, "code", code, sizeof code);
    json_t *detail = json_object_get(j, "detail");
    int lookup = op == CX_OP_GET_ITEM_BY_SKU || op == CX_OP_GET_STATUS;
    cx_err_class cls = cx_error_class(code);
    if (cls == CX_EC_UNKNOWN && type && (!strcmp(type, "ISP") || !strcmp(type, "SYSTEM"))) {
        cx_out_retry(out, ra ? ra : 10, 1, code, msg); /* the platform's side failed */
        return;
    }
    if ((cls == CX_EC_REJECT || cls == CX_EC_UNKNOWN) && json_array_size(detail) > 0 &&
        resp->status < 500) {
        size_t i;
        json_t *d;
        json_array_foreach(detail, i, d)
        {
            const char *f = json_string_value(json_object_get(d, "field"));
            const char *m = json_string_value(json_object_get(d, "message"));
            cx_out_reject_field(out, "Lazada", cx_field_guess(f ? f : m), code, m ? m : msg);
        }
        if (msg) cx_copy(out->message, sizeof out->message, msg);
    } else {
        cx_out_error(out, "Lazada", code, msg, resp->status, ra);
    }
    if (op == CX_OP_TOKEN_EXCHANGE || op == CX_OP_TOKEN_REFRESH) {
        if (out->result == CX_REJECTED || out->result == CX_NOT_FOUND) {
            out->nreasons = 0;
            cx_out_reauth(out, code, msg);
        }
    } else if (lookup && out->result == CX_REJECTED && msg &&
               (strcasestr(msg, "not found") || strcasestr(msg, "not exist"))) {
        out->nreasons = 0;
        out->result = CX_NOT_FOUND;
    }
}

static void lazada_parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    cx_outcome_init(out);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (j && json_object_get(j, "code") && !is_success(j)) {
        lazada_error(op, j, resp, ra, out);
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
    case CX_OP_TOKEN_REFRESH:
        if (token_fields(j, in, out)) cx_out_retry(out, 10, 1, "malformed_response", "no tokens");
        break;
    case CX_OP_IMAGE_UPLOAD: {
        json_t *img = json_object_get(d, "image");
        if (cx_json_text(img, "url", out->image_id, sizeof out->image_id) || !out->image_id[0])
            cx_out_retry(out, 10, 1, "malformed_response", "no image url");
        break;
    }
    case CX_OP_CREATE_ITEM:
    case CX_OP_UPDATE_ITEM:
        if (cx_json_text(d, "item_id", out->item_id, sizeof out->item_id)) {
            if (op == CX_OP_UPDATE_ITEM && in->listing && in->listing->item_id) {
                cx_copy(out->item_id, sizeof out->item_id, in->listing->item_id);
            } else {
                cx_out_retry(out, 10, 1, "malformed_response", "no item_id");
                break;
            }
        }
        out->state = CX_ITEM_PENDING; /* Lazada reviews every new or changed item ("Pending QC") */
        break;
    case CX_OP_GET_ITEM_BY_SKU:
    case CX_OP_GET_STATUS: {
        if (!json_is_object(d) || cx_json_text(d, "item_id", out->item_id, sizeof out->item_id)) {
            out->result = CX_NOT_FOUND;
            break;
        }
        json_t *sku0 = json_array_get(json_object_get(d, "skus"), 0);
        if (cx_json_text(sku0, "SellerSku", out->sku, sizeof out->sku))
            cx_json_text(sku0, "seller_sku", out->sku, sizeof out->sku);
        cx_json_text(sku0, "Url", out->item_url, sizeof out->item_url);
        if (op == CX_OP_GET_ITEM_BY_SKU && out->sku[0] && in->listing) {
            char ours[24];
            cx_sku(in->listing->listing_id, ours);
            if (strcmp(out->sku, ours)) { /* never adopt someone else's item */
                out->result = CX_NOT_FOUND;
                out->item_id[0] = '\0';
                break;
            }
        }
        out->state = item_state(json_string_value(json_object_get(d, "status")));
        if (op == CX_OP_GET_STATUS && out->state == CX_ITEM_UNKNOWN)
            cx_out_retry(out, 60, 0, "unknown_item_status", "unrecognised status");
        else if (op == CX_OP_GET_STATUS && out->state == CX_ITEM_REJECTED)
            qc_rejected(out, json_string_value(json_object_get(d, "reject_reason")));
        break;
    }
    default:
        cx_out_retry(out, 60, 0, "unsupported_operation", cx_op_name(op));
        break;
    }
done:
    json_decref(j);
}

static void lazada_verify_push(const cx_input *in, cx_outcome *out)
{
    const cx_market *mp = in->mp;
    int signed_ok = mp && mp->secret && *mp->secret && mp->app_id &&
                    cx_lazada_push_verify(mp->secret, mp->app_id, in->push_body, in->push_len,
                                          in->push_authorization);
    json_t *j = cx_push_open(in, signed_ok, out);
    if (!j) return;
    out->push_code = (int)cx_json_int(j, "message_type", -1);
    cx_json_text(j, "seller_id", out->shop_id, sizeof out->shop_id);
    json_t *d = json_object_get(j, "data");
    /* The documented product QC push (message_type 1) spells data.itemId, status
     * APPROVED/REJECTED and reason; the item-status shape (item_id, Active…, reject_reason) is
     * read too, so either notification moves the listing. */
    if (cx_json_text(d, "itemId", out->item_id, sizeof out->item_id))
        cx_json_text(d, "item_id", out->item_id, sizeof out->item_id);
    const char *st = json_string_value(json_object_get(d, "status"));
    if (st && !strcasecmp(st, "APPROVED"))
        out->state = CX_ITEM_LIVE;
    else if (st && !strcasecmp(st, "REJECTED"))
        out->state = CX_ITEM_REJECTED;
    else
        out->state = item_state(st);
    if (out->state == CX_ITEM_REJECTED) {
        const char *why = json_string_value(json_object_get(d, "reason"));
        if (!why || !*why) why = json_string_value(json_object_get(d, "reject_reason"));
        qc_rejected(out, why);
        out->result = CX_OK; /* the push itself is valid; the reasons describe the item */
    }
    json_decref(j);
}

const cx_connector cx_lazada = {
    .code = "lazada",
    .alias = NULL,
    .display_name = "Lazada",
    .kind = CX_KIND_API,
    .default_domain = "lazada.vn",
    .display_order = 4,
    .ops = CX_OPBIT(CX_OP_AUTHORIZE_LINK) | CX_OPBIT(CX_OP_TOKEN_EXCHANGE) |
           CX_OPBIT(CX_OP_TOKEN_REFRESH) | CX_OPBIT(CX_OP_IMAGE_UPLOAD) |
           CX_OPBIT(CX_OP_CREATE_ITEM) | CX_OPBIT(CX_OP_UPDATE_ITEM) |
           CX_OPBIT(CX_OP_GET_ITEM_BY_SKU) | CX_OPBIT(CX_OP_GET_STATUS) |
           CX_OPBIT(CX_OP_VERIFY_PUSH),
    .build = lazada_build,
    .parse = lazada_parse,
    .verify_push = lazada_verify_push,
    .assisted = NULL,
};

/* ---- catalogue and changes to live items (connectors/catalog.h) ----------------------------
 *   tree     GET  /category/tree/get language_code=vi_VN (no access_token, as Lazada's own
 *            SDK calls it) → data[{category_id, name, leaf, children[…]}] (nested)
 *   attrs    GET  /category/attributes/get primary_category_id, language_code=vi_VN
 *            → data[{name, label, is_mandatory 0/1, input_type, attribute_type, options[{name}]}]
 *            The attributes every product of ours already carries (name, description, SKU,
 *            price, stock, package size and weight) are left out: only what a person must
 *            choose is kept.
 *   price    POST /product/price_quantity/update payload={"Request":{"Product":{"Skus":{"Sku":
 *            [{"ItemId","SellerSku","Price","Quantity"}]}}}} — price and stock in one call
 *   withdraw POST /product/remove seller_sku_list=["CS-…"] (a SKU already gone is no error) */
#include "connectors/catalog.h"
#include "connectors/orders.h"

static int lazada_cat_build(cx_cat_step step, const cx_input *in, const char *category_id,
                            cx_request *req, cs_error *err)
{
    const char *host = in->mp->base_url;
    if (step == CX_CAT_TREE) {
        cx_param p = {"language_code", "vi_VN"};
        return lazada_request(req, CX_OP_GET_STATUS, "GET", host, "lazada.base_url", in,
                              "/category/tree/get", 0, &p, 1, err);
    }
    if (!category_id || !*category_id)
        return cs_error_set(err, CS_E_INTERNAL, "attributes need a category id");
    cx_param p[2] = {{"language_code", "vi_VN"}, {"primary_category_id", category_id}};
    return lazada_request(req, CX_OP_GET_STATUS, "GET", host, "lazada.base_url", in,
                          "/category/attributes/get", 0, p, 2, err);
}

static json_t *lazada_open(const cx_input *in, const cx_response *resp, cx_outcome *out,
                           int gone_is_ok)
{
    cx_outcome_init(out);
    if (cx_triage_transport(resp, out)) return NULL;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (j && json_object_get(j, "code") && !is_success(j)) {
        lazada_error(gone_is_ok ? CX_OP_GET_STATUS : CX_OP_UPDATE_ITEM, j, resp, ra, out);
        /* Taking down what is already gone reaches the goal; a batch reporting only "not
         * found" SKUs counts as gone too. */
        if (gone_is_ok && out->result == CX_REJECTED) {
            int all_gone = json_array_size(json_object_get(j, "detail")) > 0;
            size_t i;
            json_t *d;
            json_array_foreach(json_object_get(j, "detail"), i, d)
            {
                const char *m = json_string_value(json_object_get(d, "message"));
                all_gone &= m && (strcasestr(m, "not found") || strcasestr(m, "not exist"));
            }
            if (all_gone) cx_outcome_init(out);
        }
        if (gone_is_ok && out->result == CX_NOT_FOUND) cx_outcome_init(out);
        json_decref(j);
        return NULL;
    }
    if (cx_triage_status(resp, in->now_ms, out)) {
        json_decref(j);
        return NULL;
    }
    if (!j) cx_out_retry(out, 10, 1, "malformed_response", "unreadable answer");
    return j;
}

static int lazada_tree_walk(json_t *arr, const char *parent, cx_catalog_page *page, int depth)
{
    size_t i;
    json_t *e;
    if (depth > 12) return -1; /* no real tree is this deep: refuse a loop-shaped answer */
    json_array_foreach(arr, i, e)
    {
        char id[40] = "";
        cx_json_text(e, "category_id", id, sizeof id);
        json_t *kids = json_object_get(e, "children");
        int leaf = json_is_true(json_object_get(e, "leaf")) || !json_array_size(kids);
        if (cx_catalog_add_node(page, id, parent, json_string_value(json_object_get(e, "name")),
                                leaf))
            return -1;
        if (!leaf && lazada_tree_walk(kids, id, page, depth + 1)) return -1;
    }
    return 0;
}

static int ours(const char *name)
{
    static const char *const we_send[] = {"name",           "description",      "SellerSku",
                                          "price",          "quantity",         "package_weight",
                                          "package_length", "package_width",    "package_height",
                                          "special_price",  "short_description"};
    for (size_t i = 0; name && i < sizeof we_send / sizeof we_send[0]; i++)
        if (!strcmp(name, we_send[i])) return 1;
    return 0;
}

static void lazada_cat_parse(cx_cat_step step, const cx_input *in, const cx_response *resp,
                             cx_outcome *out, cx_catalog_page *page)
{
    json_t *j = lazada_open(in, resp, out, 0);
    if (!j) return;
    json_t *d = json_object_get(j, "data");
    int bad = !json_is_array(d);
    if (!bad && step == CX_CAT_TREE) bad = lazada_tree_walk(d, "", page, 0) != 0;
    if (!bad && step == CX_CAT_ATTRS) {
        size_t i;
        json_t *e;
        json_array_foreach(d, i, e)
        {
            const char *name = json_string_value(json_object_get(e, "name"));
            if (!name || ours(name)) continue;
            json_t *ch = json_array(), *o;
            size_t k;
            json_array_foreach(json_object_get(e, "options"), k, o)
            {
                char oid[64] = "";
                cx_json_text(o, "id", oid, sizeof oid);
                const char *on = json_string_value(json_object_get(o, "name"));
                json_array_append_new(
                    ch, json_pack("{s:s,s:s?}", "id", oid[0] ? oid : (on ? on : ""), "name", on));
            }
            char *chs = cx_json_dump(ch, NULL);
            json_decref(ch);
            const char *label = json_string_value(json_object_get(e, "label"));
            if (!chs || cx_catalog_add_attr(page, name, label,
                                            json_string_value(json_object_get(e, "input_type")),
                                            cx_json_int(e, "is_mandatory", 0) == 1, chs))
                bad = 1;
            cs_free(chs);
            if (bad) break;
        }
    }
    if (bad) cx_out_retry(out, 60, 0, "malformed_response", "category answer unreadable");
    json_decref(j);
}

const cx_catalog_ops cx_lazada_catalog = {"lazada", 0, lazada_cat_build, lazada_cat_parse};

static int lazada_chg_build(cx_change_kind k, const cx_input *in, const cx_change *c,
                            cx_request *req, cs_error *err)
{
    if (!c || !c->sku || !*c->sku)
        return cs_error_set(err, CS_E_INTERNAL, "a Lazada change needs the seller SKU");
    const char *host = in->mp->base_url;
    if (k == CX_CHG_WITHDRAW) {
        json_t *l = json_pack("[s]", c->sku);
        char *txt = l ? cx_json_dump(l, NULL) : NULL;
        json_decref(l);
        if (!txt) return cs_error_set(err, CS_E_NOMEM, NULL);
        cx_param p = {"seller_sku_list", txt};
        int rc = lazada_request(req, CX_OP_UPDATE_ITEM, "POST", host, "lazada.base_url", in,
                                "/product/remove", 1, &p, 1, err);
        cs_free(txt);
        return rc;
    }
    if (k != CX_CHG_PRICE)
        return cs_error_set(err, CS_E_INTERNAL, "Lazada has no %s step", cx_change_name(k));
    char price[24], qty[24];
    snprintf(price, sizeof price, "%lld", c->price_vnd);
    snprintf(qty, sizeof qty, "%lld", c->stock);
    json_t *sku = json_pack("{s:s,s:s,s:s}", "SellerSku", c->sku, "Price", price, "Quantity", qty);
    if (sku && c->item_id && *c->item_id)
        json_object_set_new(sku, "ItemId", json_string(c->item_id));
    json_t *b =
        sku ? json_pack("{s:{s:{s:{s:[o]}}}}", "Request", "Product", "Skus", "Sku", sku) : NULL;
    char *txt = b ? cx_json_dump(b, NULL) : NULL;
    json_decref(b);
    if (!txt) return cs_error_set(err, CS_E_NOMEM, NULL);
    cx_param p = {"payload", txt};
    int rc = lazada_request(req, CX_OP_UPDATE_ITEM, "POST", host, "lazada.base_url", in,
                            "/product/price_quantity/update", 1, &p, 1, err);
    cs_free(txt);
    return rc;
}

static void lazada_chg_parse(cx_change_kind k, const cx_input *in, const cx_response *resp,
                             cx_outcome *out, char ext_sku_id[64])
{
    (void)ext_sku_id;
    json_decref(lazada_open(in, resp, out, k == CX_CHG_WITHDRAW));
}

const cx_change_ops cx_lazada_changes = {"lazada", 1, 0, lazada_chg_build, lazada_chg_parse, 0};

/* ---- orders (connectors/orders.h) ---------------------------------------------------------
 *   list    GET /orders/get update_after, update_before (ISO 8601 +07:00), sort_by=updated_at,
 *           sort_direction=ASC, offset, limit=100 → data.orders[{order_id, statuses[],
 *           created_at, updated_at}], data.count, data.countTotal
 *   lines   GET /orders/items/get order_ids=[1,2] (≤ 50) → data[{order_id, order_items[{
 *           order_item_id, sku, shop_sku, status, item_price, paid_price, created_at,
 *           updated_at}]}] — one order item per unit bought, so each line's quantity is 1 and its
 *           amount the seller's item_price. The single-order /order/items/get answers the same
 *           lines for one order_id (the simulator serves both, as the public SDK calls them). */

static cx_order_state lazada_order_state(const char *s)
{
    static const struct {
        const char *s;
        cx_order_state st;
    } t[] = {{"unpaid", CX_OS_OPEN},         {"pending", CX_OS_OPEN},
             {"packed", CX_OS_OPEN},         {"ready_to_ship", CX_OS_OPEN},
             {"shipped", CX_OS_OPEN},        {"delivered", CX_OS_DELIVERED},
             {"confirmed", CX_OS_DELIVERED}, {"failed_delivery", CX_OS_RETURNED},
             {"returned", CX_OS_RETURNED},   {"canceled", CX_OS_CANCELLED}};
    for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].s)) return t[i].st;
    return CX_OS_UNKNOWN;
}

static int lazada_orders_build(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                               cx_request *req, cs_error *err)
{
    const char *base = in->mp->base_url;
    if (step == CX_ORD_LIST) {
        char after[32], before[32], off[24];
        cx_orders_iso(q->from_s, after);
        cx_orders_iso(q->to_s, before);
        snprintf(off, sizeof off, "%lld", q->offset);
        cx_param b[6] = {{"update_after", after},   {"update_before", before},
                         {"sort_by", "updated_at"}, {"sort_direction", "ASC"},
                         {"offset", off},           {"limit", "100"}};
        return lazada_request(req, CX_OP_GET_STATUS, "GET", base, "lazada.base_url", in,
                              "/orders/get", 1, b, 6, err);
    }
    if (!q->nids || q->nids > CX_ORDERS_IDS_MAX)
        return cs_error_set(err, CS_E_INTERNAL, "/orders/items/get takes 1 to 50 order ids");
    cs_buf ids;
    cs_buf_init(&ids, 64 * CX_ORDERS_IDS_MAX + 2);
    int bad = cs_buf_putc(&ids, '[');
    for (size_t i = 0; i < q->nids && !bad; i++)
        bad = (i && cs_buf_putc(&ids, ',')) || cs_buf_puts(&ids, q->ids[i]);
    if (bad || cs_buf_putc(&ids, ']')) {
        cs_buf_free(&ids);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    cx_param b[1] = {{"order_ids", ids.data}};
    int rc = lazada_request(req, CX_OP_GET_STATUS, "GET", base, "lazada.base_url", in,
                            "/orders/items/get", 1, b, 1, err);
    cs_buf_free(&ids);
    return rc;
}

static void lazada_order_items(const json_t *o, cx_orders_page *page, cx_outcome *out)
{
    char oid[64] = "";
    if (cx_json_text(o, "order_id", oid, sizeof oid) || !*oid) {
        cx_orders_bad(page, "order without order_id", NULL);
        return;
    }
    json_t *items = json_object_get(o, "order_items"), *it;
    size_t i;
    if (!json_is_array(items)) {
        cx_orders_bad(page, "order without order_items", oid);
        return;
    }
    json_array_foreach(items, i, it)
    {
        cx_order_line l;
        memset(&l, 0, sizeof l);
        cx_copy(l.order_id, sizeof l.order_id, oid);
        if (cx_json_text(it, "order_item_id", l.line_id, sizeof l.line_id) || !l.line_id[0]) {
            cx_orders_bad(page, "line without order_item_id", oid);
            continue;
        }
        cx_json_text(it, "sku", l.sku, sizeof l.sku);
        cx_json_text(it, "shop_sku", l.item_id, sizeof l.item_id);
        cx_json_text(it, "status", l.status, sizeof l.status);
        l.state = lazada_order_state(l.status);
        l.qty = 1;
        l.amount_vnd = cx_orders_vnd(json_object_get(it, "item_price"));
        l.created_s = cx_orders_time(json_string_value(json_object_get(it, "created_at")));
        l.updated_s = cx_orders_time(json_string_value(json_object_get(it, "updated_at")));
        if (l.state == CX_OS_UNKNOWN)
            cx_orders_bad(page, "unknown line status", l.line_id);
        else if (l.amount_vnd < 0)
            cx_orders_bad(page, "item_price is not a number", l.line_id);
        else if (l.updated_s < 0)
            cx_orders_bad(page, "line without updated_at", l.line_id);
        else if (cx_orders_add_line(page, &l)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "order lines");
            return;
        }
    }
}

static void lazada_orders_parse(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                                const cx_response *resp, cx_outcome *out, cx_orders_page *page)
{
    cx_outcome_init(out);
    memset(page, 0, sizeof *page);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (j && json_object_get(j, "code") && !is_success(j)) {
        lazada_error(CX_OP_GET_STATUS, j, resp, ra, out);
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    json_t *d = j ? json_object_get(j, "data") : NULL, *o;
    size_t i;
    if (step == CX_ORD_LINES) {
        if (!json_is_array(d)) {
            cx_out_retry(out, 10, 1, "malformed_response", "data is not a list");
            goto done;
        }
        json_array_foreach(d, i, o)
        {
            lazada_order_items(o, page, out);
            if (out->result != CX_OK) goto done;
        }
        goto done;
    }
    json_t *orders = json_object_get(d, "orders");
    long long total = cx_json_int(d, "countTotal", -1);
    if (!json_is_array(orders) || total < 0) {
        cx_out_retry(out, 10, 1, "malformed_response", "no orders or countTotal");
        goto done;
    }
    json_array_foreach(orders, i, o)
    {
        char oid[64] = "";
        if (cx_json_text(o, "order_id", oid, sizeof oid) || !*oid)
            cx_orders_bad(page, "order without order_id", NULL);
        else if (cx_orders_add_id(page, oid)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "order ids");
            goto done;
        }
    }
    page->next_offset = q->offset + (long long)json_array_size(orders);
    page->more = json_array_size(orders) > 0 && page->next_offset < total;
done:
    if (out->result != CX_OK) cx_orders_page_free(page);
    json_decref(j);
}

const cx_order_ops cx_lazada_orders = {
    .code = "lazada",
    .two_step = 1,
    .build = lazada_orders_build,
    .parse = lazada_orders_parse,
};

/* ---- re-check of live items (connectors/recheck.h) -----------------------------------------
 *   GET /products/get filter=all offset limit=50 → data.total_products, data.products[{item_id,
 *       status Active|InActive|Suspended|Deleted|Pending QC…, reject_reason, skus[{Url}]}];
 *       deleted items are not listed (an item absent from a complete walk is gone) */
#include "connectors/recheck.h"

#define LZ_RECHECK_PAGE 50

static int lazada_recheck_build(const cx_input *in, const cx_recheck_query *q, cx_request *req,
                                cs_error *err)
{
    char off[24], lim[8];
    snprintf(off, sizeof off, "%lld", q->offset);
    snprintf(lim, sizeof lim, "%d", LZ_RECHECK_PAGE);
    cx_param b[3] = {{"filter", "all"}, {"offset", off}, {"limit", lim}};
    return lazada_request(req, CX_OP_GET_STATUS, "GET", in->mp->base_url, "lazada.base_url", in,
                          "/products/get", 1, b, 3, err);
}

static void lazada_recheck_parse(const cx_input *in, const cx_recheck_query *q,
                                 const cx_response *resp, cx_outcome *out, cx_recheck_page *page)
{
    cx_outcome_init(out);
    memset(page, 0, sizeof *page);
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    unsigned ra = resp->retry_after ? cx_retry_after(resp, in->now_ms, 1) : 0;
    if (j) cx_json_text(j, "request_id", out->request_id, sizeof out->request_id);
    if (j && json_object_get(j, "code") && !is_success(j)) {
        lazada_error(CX_OP_GET_STATUS, j, resp, ra, out);
        goto done;
    }
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    json_t *d = j ? json_object_get(j, "data") : NULL, *v;
    json_t *list = json_object_get(d, "products");
    long long total = cx_json_int(d, "total_products", -1);
    if (!json_is_array(list) || total < 0) {
        cx_out_retry(out, 10, 1, "malformed_response", "no products/total_products");
        goto done;
    }
    size_t i;
    json_array_foreach(list, i, v)
    {
        cx_item_seen s;
        memset(&s, 0, sizeof s);
        if (cx_json_text(v, "item_id", s.item_id, sizeof s.item_id) || !s.item_id[0]) continue;
        cx_json_text(v, "status", s.status, sizeof s.status);
        s.state = item_state(s.status);
        if (s.state == CX_ITEM_REJECTED)
            cx_json_text(v, "reject_reason", s.reason, sizeof s.reason);
        cx_json_text(json_array_get(json_object_get(v, "skus"), 0), "Url", s.url, sizeof s.url);
        if (cx_recheck_add(page, &s)) {
            cx_out_retry(out, 10, 0, "out_of_memory", "items");
            goto done;
        }
    }
    page->next_offset = q->offset + (long long)json_array_size(list);
    page->more = json_array_size(list) > 0 && page->next_offset < total;
done:
    if (out->result != CX_OK) cx_recheck_page_free(page);
    json_decref(j);
}

const cx_recheck_ops cx_lazada_recheck = {"lazada", 0, lazada_recheck_build, lazada_recheck_parse};
