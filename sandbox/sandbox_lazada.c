/* sandbox/ Lazada: Lazada Open Platform (Vietnam) as MARKETPLACES.md documents it —
 * sorted-parameter UPPERCASE signature, ms timestamps within 7200 s, OAuth with single-use codes
 * and refresh tokens, image migrate/upload, product create/update with JSON payload, look-up by
 * SellerSku, "Pending QC" → Active/Rejected, push. Runs under sb->mu; no I/O.
 *
 *   GET  /oauth/authorize ?response_type=code&redirect_uri&client_id(&state)  (auth host)
 *   POST /oauth/authorize/approve             the approve page's form (sandbox only)
 *   /rest/auth/token/create  code=…           /rest/auth/token/refresh  refresh_token=…
 *   /rest/image/migrate  payload=<Request><Image><Url>…</Url></Image></Request> (or JSON)
 *   /rest/image/upload   multipart "image"
 *   /rest/product/create payload={"Request":{"Product":{…}}}   /rest/product/update (ItemId)
 *   /rest/product/item/get  item_id | seller_sku
 *   /rest/products/get  filter (all|live|inactive|deleted|pending|rejected|sold-out|
 *                       image-missing), search, sku_seller_list, create_/update_ after/before
 *   /rest/category/tree/get  /rest/category/attributes/get primary_category_id  (no token)
 *   /rest/category/brands/query startRow&pageSize   /rest/brands/get offset&limit (older)
 *   /rest/images/set  /rest/product/price_quantity/update  (payload Skus.Sku[])
 *   /rest/product/remove seller_sku_list|sku_id_list   /rest/product/deactivate (ItemId)
 * System parameters (app_key, timestamp, sign_method, access_token, sign) may come in the query
 * or the form body; every parameter but sign and file parts is signed. Errors are answered with
 * HTTP 200 and {"type":"ISV|ISP|SYSTEM","code","message","request_id"[,"detail":[…]]}, except
 * the injected 5xx (HTTP 503, SYSTEM ServiceUnavailable). Codes from the published docs:
 * IncompleteSignature, IllegalAccessToken, ApiCallLimit, E001, E005, E201; the simulator's own
 * choices where none is published: InvalidAppKey, InvalidTimestamp, InvalidCode,
 * IllegalRefreshToken and "208" (product not found). */
#include "sandbox/sandbox_int.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CODE_TTL_MS (30 * 60 * 1000LL)
#define SKEW_MS (7200 * 1000LL)

static void orders_get(sb_req *rq, sb_resp *rs);
static void order_items_get(sb_req *rq, sb_resp *rs);
static void orders_items_get(sb_req *rq, sb_resp *rs);
static void order_changed(sbx_sandbox *sb, const sb_order *o, long long now_ms);
static void server_error(sb_req *rq, sb_resp *rs);

__attribute__((format(printf, 5, 6))) static int fail(sb_req *rq, sb_resp *rs, const char *type,
                                                      const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sbx_reply_json(rs, 200,
                   json_pack("{s:s,s:s,s:s,s:s}", "type", type, "code", code, "message", msg,
                             "request_id", rq->request_id));
    return -1;
}

static void ok(sb_req *rq, sb_resp *rs, json_t *data)
{
    json_t *j = json_pack("{s:s,s:s}", "code", "0", "request_id", rq->request_id);
    if (j && data)
        json_object_set_new(j, "data", data);
    else
        json_decref(data);
    sbx_reply_json(rs, 200, j);
}

static const char *status_name(int st)
{
    return st == SB_IT_LIVE ? "Active" : st == SB_IT_REJECTED ? "Rejected" : "Pending QC";
}

/* An item's status as products/get reports it: the seller's take-down wins over review. */
static const char *item_status(const sb_item *it)
{
    return it->withdrawn == SB_WD_DELETED    ? "Deleted"
           : it->withdrawn == SB_WD_BANNED   ? "Suspended"
           : it->withdrawn == SB_WD_UNLISTED ? "InActive"
                                             : status_name(it->state);
}

/* Lazada accepts ms since the epoch or an ISO 8601 UTC time. */
static int parse_ts(const char *s, long long *ms)
{
    if (!sbx_parse_ll(s, ms)) return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) return -1;
    long long off =
        0; /* clients send local offsets ("+07:00", "+0700"), Lazada's own examples too */
    if (*end == '+' || *end == '-') {
        int hh, mm;
        if (sscanf(end + 1, "%2d:%2d", &hh, &mm) != 2 && sscanf(end + 1, "%2d%2d", &hh, &mm) != 2)
            return -1;
        if (hh > 14 || mm > 59) return -1;
        off = (hh * 3600LL + mm * 60LL) * (*end == '-' ? -1 : 1);
    } else if (*end && strcmp(end, "Z")) {
        return -1;
    }
    *ms = ((long long)timegm(&tm) - off) * 1000LL;
    return 0;
}

/* Collect every parameter but sign for the signature. */
static size_t sign_params(const sb_req *rq, cx_param *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < rq->nparams && n < max; i++)
        out[n++] = (cx_param){rq->params[i].key, rq->params[i].value};
    return n;
}

static int gate(sb_req *rq, sb_resp *rs, const char *api, int seller, sb_shop **shop)
{
    sbx_sandbox *sb = rq->sb;
    const char *key = sbx_param(rq, "app_key"), *ts = sbx_param(rq, "timestamp");
    const char *method = sbx_param(rq, "sign_method"), *sign = sbx_param(rq, "sign");
    long long t;
    if (!key || strcmp(key, sb->opt.lazada_app_key))
        return fail(rq, rs, "ISV", "InvalidAppKey", "Specified app_key is invalid");
    if (!ts || parse_ts(ts, &t) || t < rq->now_ms - SKEW_MS || t > rq->now_ms + SKEW_MS)
        return fail(rq, rs, "ISV", "InvalidTimestamp",
                    "The timestamp is missing or differs from UTC by more than 7200 seconds");
    if (!method || strcmp(method, "sha256"))
        return fail(rq, rs, "ISV", "IncompleteSignature", "sign_method must be sha256");
    cx_param ps[SB_MAX_PARAMS];
    char want[65];
    size_t n = sign_params(rq, ps, SB_MAX_PARAMS);
    if (!sign || cx_lazada_sign(sb->opt.lazada_app_secret, api, ps, n, want) || strcmp(want, sign))
        return fail(rq, rs, "ISV", "IncompleteSignature",
                    "The request signature does not conform to lazada standards");
    if (seller) {
        enum sb_auth a =
            sbx_access_check(sb, SBX_LAZADA, sbx_param(rq, "access_token"), rq->now_ms, shop);
        if (a != SB_AUTH_OK)
            return fail(rq, rs, "ISV", "IllegalAccessToken",
                        "The specified access token is invalid or expired");
    }
    return 0;
}

static int is_http_url(const char *u)
{
    return u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) && !strpbrk(u, " \r\n");
}

/* ---- OAuth ---- */
static void send_code(sb_req *rq, sb_resp *rs, const char *redirect, const char *state,
                      const char *want_shop)
{
    sbx_sandbox *sb = rq->sb;
    long long n;
    if (want_shop && *want_shop && (sbx_parse_ll(want_shop, &n) || n <= 0)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Mã cửa hàng Lazada "
                       "phải là một số. Quay lại và nhập lại.</p>");
        return;
    }
    sb_shop *s =
        sbx_shop_authorise(sb, SBX_LAZADA, want_shop, sbx_hash(state && *state ? state : redirect));
    char code[SB_ID_MAX];
    if (!s || sbx_token_issue(sb, SBX_LAZADA, SB_TOK_CODE, s->id, CODE_TTL_MS, code)) {
        sbx_reply_html(rs, 503,
                       "<!doctype html><meta charset=\"utf-8\"><p>Sàn mô phỏng đã đầy; "
                       "hãy đặt lại (reset).</p>");
        return;
    }
    cs_buf u;
    cs_buf_init(&u, 16384);
    cs_buf_puts(&u, redirect);
    cs_buf_puts(&u, strchr(redirect, '?') ? "&code=" : "?code=");
    sbx_url_escape(&u, code);
    if (state && *state) {
        cs_buf_puts(&u, "&state=");
        sbx_url_escape(&u, state);
    }
    sbx_redirect(rs, u.data ? u.data : redirect);
    cs_buf_free(&u);
}

static void authorize(sb_req *rq, sb_resp *rs)
{
    const char *client = sbx_query(rq, "client_id"), *redirect = sbx_query(rq, "redirect_uri");
    const char *type = sbx_query(rq, "response_type"), *state = sbx_query(rq, "state");
    if (!client || strcmp(client, rq->sb->opt.lazada_app_key)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Ứng dụng không hợp lệ "
                       "(client_id).</p>");
        return;
    }
    if (!type || strcmp(type, "code") || !is_http_url(redirect)) {
        sbx_reply_html(rs, 400,
                       "<!doctype html><meta charset=\"utf-8\"><p>Liên kết cấp quyền "
                       "thiếu response_type=code hoặc redirect_uri.</p>");
        return;
    }
    if (rq->sb->opt.auto_approve) {
        send_code(rq, rs, redirect, state, sbx_query(rq, "shop_id"));
        return;
    }
    const char *hidden[] = {"redirect_uri", redirect, "state", state ? state : "", NULL};
    sbx_auth_page(rs, "Lazada", "/oauth/authorize/approve", hidden);
}

static void approve(sb_req *rq, sb_resp *rs)
{
    const char *redirect = sbx_param(rq, "redirect_uri"), *decision = sbx_param(rq, "decision");
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
    send_code(rq, rs, redirect, sbx_param(rq, "state"), sbx_param(rq, "shop_id"));
}

static void token_reply(sb_req *rq, sb_resp *rs, const sb_shop *s)
{
    sbx_sandbox *sb = rq->sb;
    char at[SB_ID_MAX], rt[SB_ID_MAX], account[96], shortc[48];
    long long ttl = sbx_access_ttl_ms(sb, SBX_LAZADA) / 1000;
    long long rttl = sbx_refresh_ttl_ms(sb, SBX_LAZADA) / 1000;
    if (sbx_token_issue(sb, SBX_LAZADA, SB_TOK_ACCESS, s->id, ttl * 1000, at) ||
        sbx_token_issue(sb, SBX_LAZADA, SB_TOK_REFRESH, s->id, rttl * 1000, rt)) {
        fail(rq, rs, "SYSTEM", "ServiceUnavailable", "The service is temporarily unavailable");
        return;
    }
    snprintf(account, sizeof account, "shop%s@sandbox.lazada.vn", s->id);
    snprintf(shortc, sizeof shortc, "VN%s", s->id);
    sbx_reply_json(
        rs, 200,
        json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:[{s:s,s:s,s:s,s:s}],s:s,s:s}", "access_token", at,
                  "refresh_token", rt, "country", "vn", "refresh_expires_in", (json_int_t)rttl,
                  "account_platform", "seller_center", "expires_in", (json_int_t)ttl, "account",
                  account, "country_user_info", "country", "vn", "user_id", s->id, "seller_id",
                  s->id, "short_code", shortc, "code", "0", "request_id", rq->request_id));
}

static void token_create(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, "/auth/token/create", 0, NULL)) return;
    const char *code = sbx_param(rq, "code");
    if (!code) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: code");
        return;
    }
    sb_token *t = sbx_token_find(rq->sb, SBX_LAZADA, SB_TOK_CODE, code);
    int good = t && !t->used && t->expires_ms > rq->now_ms;
    if (t) t->used = 1;
    sb_shop *s = good ? sbx_shop_find(rq->sb, SBX_LAZADA, t->shop_id) : NULL;
    if (!s || s->revoked)
        fail(rq, rs, "ISV", "InvalidCode", "Invalid authorization code");
    else
        token_reply(rq, rs, s);
}

static void token_refresh(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, "/auth/token/refresh", 0, NULL)) return;
    const char *rt = sbx_param(rq, "refresh_token");
    if (!rt) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: refresh_token");
        return;
    }
    sb_token *t = sbx_token_find(rq->sb, SBX_LAZADA, SB_TOK_REFRESH, rt);
    int good = t && !t->used && t->expires_ms > rq->now_ms;
    sb_shop *s = good ? sbx_shop_find(rq->sb, SBX_LAZADA, t->shop_id) : NULL;
    if (!s || s->revoked) {
        fail(rq, rs, "ISV", "IllegalRefreshToken",
             "The specified refresh token is invalid or expired");
        return;
    }
    t->used = 1; /* the answer carries a new refresh token; the old one is spent */
    token_reply(rq, rs, s);
}

/* ---- images ---- */
static void image_reply(sb_req *rq, sb_resp *rs, size_t size, int w, int h)
{
    char id[SB_ID_MAX], base[64], url[200];
    if (sbx_image_add(rq->sb, SBX_LAZADA, size, w, h, id)) {
        fail(rq, rs, "SYSTEM", "ServiceUnavailable", "The service is temporarily unavailable");
        return;
    }
    sbx_base_url(rq->sb, SBX_LAZADA, base, sizeof base);
    snprintf(url, sizeof url, "%s/p/%s.jpg", base, id);
    ok(rq, rs, json_pack("{s:{s:s,s:s}}", "image", "hash_code", id, "url", url));
}

static void image_migrate(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/image/migrate", 1, &shop)) return;
    const char *payload = sbx_param(rq, "payload");
    if (!payload) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: payload");
        return;
    }
    char url[2048] = "";
    const char *a = strstr(payload, "<Url>"), *b = a ? strstr(a, "</Url>") : NULL;
    if (a && b) {
        snprintf(url, sizeof url, "%.*s", (int)(b - a - 5), a + 5);
    } else {
        json_error_t je;
        json_t *j = json_loads(payload, 0, &je);
        const char *u = json_string_value(
            json_object_get(json_object_get(json_object_get(j, "Request"), "Image"), "Url"));
        if (u) snprintf(url, sizeof url, "%s", u);
        json_decref(j);
    }
    if (!url[0]) {
        fail(rq, rs, "ISV", "E005", "Invalid Request Format: payload needs Request.Image.Url");
        return;
    }
    if (!is_http_url(url)) {
        fail(rq, rs, "ISV", "E005", "Invalid Request Format: image Url must be http(s)");
        return;
    }
    /* The simulator never fetches the URL (loopback only); it records the migration. */
    image_reply(rq, rs, 0, 0, 0);
}

static void image_upload(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/image/upload", 1, &shop)) return;
    const sb_part *p = sbx_part(rq, "image");
    int w, h;
    if (!p || !p->len)
        fail(rq, rs, "ISV", "E001", "Missing required parameter: image");
    else if (p->len > SB_IMAGE_MAX)
        fail(rq, rs, "ISV", "E005", "Image must not exceed 10 MB");
    else if (!sbx_image_kind(p->data, p->len, &w, &h))
        fail(rq, rs, "ISV", "E005", "Image must be JPG or PNG");
    else
        image_reply(rq, rs, p->len, w, h);
}

/* ---- products ---- */
/* Numbers in Lazada payloads arrive as JSON numbers or numeric strings. */
static int num(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v) && *json_string_value(v)) {
        char *end;
        *out = strtod(json_string_value(v), &end);
        return *end ? -1 : 0;
    }
    return -1;
}

static void text_of(json_t *v, char *out, size_t n)
{
    out[0] = '\0';
    if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

/* A member that may be a single object/string or an array of them: the i-th element. */
static json_t *one_or_many(json_t *v, size_t i)
{
    if (json_is_array(v)) return json_array_get(v, i);
    return i == 0 ? v : NULL;
}

static size_t count_of(json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : v ? 1 : 0;
}

typedef struct problems {
    json_t *detail;
    char code[8];
} problems;

static void problem(problems *p, const char *code, const char *field, const char *msg)
{
    if (!p->code[0]) snprintf(p->code, sizeof p->code, "%s", code);
    json_array_append_new(p->detail, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

static int hosted(const sbx_sandbox *sb, const char *url)
{
    char base[64];
    sbx_base_url(sb, SBX_LAZADA, base, sizeof base);
    size_t bl = strlen(base);
    if (!url || strncmp(url, base, bl) || strncmp(url + bl, "/p/", 3)) return 0;
    char id[SB_ID_MAX];
    snprintf(id, sizeof id, "%s", url + bl + 3);
    char *dot = strrchr(id, '.');
    if (dot) *dot = '\0';
    return sbx_image_find((sbx_sandbox *)sb, SBX_LAZADA, id) != NULL;
}

/* Validate Request.Product (all required members when creating). */
static void check_product(sb_req *rq, json_t *prod, int create, const sb_item *old, problems *p,
                          const sb_category **cat)
{
    sbx_sandbox *sb = rq->sb;
    char cid[32];
    text_of(json_object_get(prod, "PrimaryCategory"), cid, sizeof cid);
    if (!cid[0] && old) snprintf(cid, sizeof cid, "%s", old->category);
    *cat = NULL;
    if (!cid[0])
        problem(p, "E001", "PrimaryCategory", "PrimaryCategory is required");
    else if (!(*cat = sbx_category(sb, SBX_LAZADA, cid)))
        problem(p, "E201", "PrimaryCategory", "Invalid category: not a leaf category");
    json_t *attrs = json_object_get(prod, "Attributes");
    json_t *name = json_object_get(attrs, "name"), *desc = json_object_get(attrs, "description");
    if ((create || name) && !(json_is_string(name) && *json_string_value(name)))
        problem(p, "E001", "name", "name is required");
    if ((create || desc) && !(json_is_string(desc) && *json_string_value(desc)))
        problem(p, "E001", "description", "description is required");
    json_t *skus = json_object_get(json_object_get(prod, "Skus"), "Sku");
    if (*cat && (create || attrs))
        for (int k = 0; k < (*cat)->nattrs; k++) {
            json_t *v = json_object_get(attrs, (*cat)->attrs[k]);
            if (!v) v = json_object_get(one_or_many(skus, 0), (*cat)->attrs[k]);
            if (!v || (json_is_string(v) && !*json_string_value(v)))
                problem(p, "E001", (*cat)->attrs[k], "Mandatory attribute is missing");
        }
    json_t *images = json_object_get(json_object_get(prod, "Images"), "Image");
    if (create && !count_of(images)) problem(p, "E001", "Images", "At least one image is required");
    for (size_t i = 0; i < count_of(images); i++)
        if (!hosted(sb, json_string_value(one_or_many(images, i)))) {
            problem(p, "E005", "Images",
                    "Image must be hosted by Lazada: migrate it with /image/migrate first");
            break;
        }
    if (create && !count_of(skus)) problem(p, "E001", "Skus", "At least one Sku is required");
    for (size_t i = 0; i < count_of(skus); i++) {
        json_t *s = one_or_many(skus, i);
        char sku[SB_SKU_MAX + 2];
        double d;
        text_of(json_object_get(s, "SellerSku"), sku, sizeof sku);
        if (!sku[0] && (create || !old))
            problem(p, "E001", "SellerSku", "SellerSku is required");
        else if (strlen(sku) >= SB_SKU_MAX)
            problem(p, "E005", "SellerSku", "SellerSku is too long");
        static const char *const need[] = {"price", "package_weight", "package_length",
                                           "package_width", "package_height"};
        for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
            json_t *v = json_object_get(s, need[k]);
            if (!v && create)
                problem(p, "E001", need[k], "Required value is missing");
            else if (v && (num(v, &d) || d <= 0))
                problem(p, "E005", need[k], "Value must be a positive number");
        }
        json_t *q = json_object_get(s, "quantity");
        if (q && (num(q, &d) || d < 0)) problem(p, "E005", "quantity", "Invalid quantity");
    }
}

static void apply(sb_req *rq, sb_item *it, json_t *prod, const sb_category *cat)
{
    json_t *attrs = json_object_get(prod, "Attributes");
    json_t *s0 = one_or_many(json_object_get(json_object_get(prod, "Skus"), "Sku"), 0);
    json_t *img0 = one_or_many(json_object_get(json_object_get(prod, "Images"), "Image"), 0);
    json_t *v;
    double d;
    if ((v = json_object_get(attrs, "name")))
        snprintf(it->name, sizeof it->name, "%s", json_string_value(v));
    if (!it->sku[0]) text_of(json_object_get(s0, "SellerSku"), it->sku, sizeof it->sku);
    snprintf(it->category, sizeof it->category, "%s", cat->id);
    if (!num(json_object_get(s0, "price"), &d)) it->price = d;
    if (!num(json_object_get(s0, "package_weight"), &d)) it->weight = d;
    if (!num(json_object_get(s0, "quantity"), &d)) it->stock = (long long)d;
    if (json_is_string(img0))
        snprintf(it->image_id, sizeof it->image_id, "%s", json_string_value(img0));
    long long keep = it->create_ms;
    sbx_item_submit(rq->sb, it, json_string_value(json_object_get(attrs, "description")),
                    rq->now_ms);
    if (keep) it->create_ms = keep;
}

static json_t *sku_list(const sb_item *it)
{
    char shop_sku[96];
    snprintf(shop_sku, sizeof shop_sku, "%lld_VNAMZ-%lld", it->item_id, it->sku_id);
    return json_pack("[{s:s,s:s,s:I}]", "shop_sku", shop_sku, "seller_sku", it->sku, "sku_id",
                     (json_int_t)it->sku_id);
}

static json_t *payload_product(sb_req *rq, sb_resp *rs)
{
    const char *payload = sbx_param(rq, "payload");
    if (!payload) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: payload");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loads(payload, 0, &je);
    json_t *prod = json_object_get(json_object_get(j, "Request"), "Product");
    if (!json_is_object(prod)) {
        json_decref(j);
        fail(rq, rs, "ISV", "E005",
             "Invalid Request Format: payload must be JSON {\"Request\":{\"Product\":{...}}}");
        return NULL;
    }
    json_incref(prod);
    json_decref(j);
    return prod;
}

static int report(sb_req *rq, sb_resp *rs, problems *p)
{
    if (!json_array_size(p->detail)) return 0;
    const char *msg = !strcmp(p->code, "E201")   ? "Invalid category"
                      : !strcmp(p->code, "E005") ? "Invalid Request Format"
                                                 : "Missing required parameter";
    sbx_reply_json(rs, 200,
                   json_pack("{s:s,s:s,s:s,s:s,s:O}", "type", "ISV", "code", p->code, "message",
                             msg, "request_id", rq->request_id, "detail", p->detail));
    return -1;
}

static void product_create(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/product/create", 1, &shop)) return;
    json_t *prod = payload_product(rq, rs);
    if (!prod) return;
    problems p = {json_array(), ""};
    const sb_category *cat;
    check_product(rq, prod, 1, NULL, &p, &cat);
    if (!report(rq, rs, &p)) {
        sb_item *it = sbx_item_new(rq->sb, SBX_LAZADA);
        if (!it) {
            fail(rq, rs, "SYSTEM", "ServiceUnavailable",
                 "Sandbox item cap reached; POST /__sandbox/reset");
        } else {
            snprintf(it->shop_id, sizeof it->shop_id, "%s", shop->id);
            apply(rq, it, prod, cat);
            ok(rq, rs,
               json_pack("{s:I,s:o}", "item_id", (json_int_t)it->item_id, "sku_list",
                         sku_list(it)));
        }
    }
    json_decref(p.detail);
    json_decref(prod);
}

static sb_item *find_by_sku(sbx_sandbox *sb, const char *shop, const char *sku)
{
    for (size_t i = 0; sku && i < sb->nitems; i++) {
        sb_item *it = &sb->items[i];
        if (it->market == SBX_LAZADA && !strcmp(it->shop_id, shop) && !strcmp(it->sku, sku))
            return it;
    }
    return NULL;
}

static void product_update(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/product/update", 1, &shop)) return;
    json_t *prod = payload_product(rq, rs);
    if (!prod) return;
    char id[32], sku[SB_SKU_MAX];
    long long iid = 0;
    text_of(json_object_get(prod, "ItemId"), id, sizeof id);
    text_of(json_object_get(one_or_many(json_object_get(json_object_get(prod, "Skus"), "Sku"), 0),
                            "SellerSku"),
            sku, sizeof sku);
    sb_item *it = NULL;
    if (id[0] && !sbx_parse_ll(id, &iid))
        it = sbx_item_by_id(rq->sb, SBX_LAZADA, iid);
    else if (!id[0])
        it = find_by_sku(rq->sb, shop->id, sku);
    if (!it || strcmp(it->shop_id, shop->id) || it->withdrawn == SB_WD_DELETED) {
        fail(rq, rs, "ISV", "208", "Product not found");
    } else {
        problems p = {json_array(), ""};
        const sb_category *cat;
        check_product(rq, prod, 0, it, &p, &cat);
        if (!report(rq, rs, &p)) {
            apply(rq, it, prod, cat);
            ok(rq, rs,
               json_pack("{s:I,s:o}", "item_id", (json_int_t)it->item_id, "sku_list",
                         sku_list(it)));
        }
        json_decref(p.detail);
    }
    json_decref(prod);
}

static json_t *item_json(const sbx_sandbox *sb, const sb_item *it)
{
    char base[64], img[200], url[200], shop_sku[96], ct[32], ut[32];
    sbx_base_url(sb, SBX_LAZADA, base, sizeof base);
    snprintf(url, sizeof url, "%s/products/i%lld.html", base, it->item_id);
    snprintf(shop_sku, sizeof shop_sku, "%lld_VNAMZ-%lld", it->item_id, it->sku_id);
    snprintf(ct, sizeof ct, "%lld", it->create_ms);
    snprintf(ut, sizeof ut, "%lld", it->update_ms);
    json_t *images = json_array();
    if (it->image_id[0]) {
        snprintf(img, sizeof img, "%s/p/%s.jpg", base, it->image_id);
        json_array_append_new(images, json_string(img));
    }
    return json_pack("{s:I,s:I,s:{s:s,s:s},s:[{s:s,s:s,s:I,s:s,s:I,s:f,s:f,s:s}],s:o,s:s,"
                     "s:s,s:s,s:s}",
                     "item_id", (json_int_t)it->item_id, "primary_category",
                     (json_int_t)sbx_ll(it->category), "attributes", "name", it->name,
                     "description", it->description ? it->description : "", "skus", "SellerSku",
                     it->sku, "ShopSku", shop_sku, "SkuId", (json_int_t)it->sku_id, "Status",
                     it->withdrawn == SB_WD_DELETED                           ? "deleted"
                     : it->state == SB_IT_LIVE && it->withdrawn == SB_WD_NONE ? "active"
                                                                              : "inactive",
                     "quantity", (json_int_t)it->stock, "price", it->price, "package_weight",
                     it->weight, "Url", url, "images", images, "status", item_status(it),
                     "reject_reason", it->state == SB_IT_REJECTED ? it->reason : "", "created_time",
                     ct, "updated_time", ut);
}

static void item_get(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/product/item/get", 1, &shop)) return;
    const char *id = sbx_param(rq, "item_id"), *sku = sbx_param(rq, "seller_sku");
    long long iid;
    sb_item *it = NULL;
    if (!id && !sku) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: item_id or seller_sku");
        return;
    }
    if (id && !sbx_parse_ll(id, &iid))
        it = sbx_item_by_id(rq->sb, SBX_LAZADA, iid);
    else if (sku)
        it = find_by_sku(rq->sb, shop->id, sku);
    if (!it || strcmp(it->shop_id, shop->id)) {
        fail(rq, rs, "ISV", "208", "Product not found");
        return;
    }
    ok(rq, rs, item_json(rq->sb, it));
}

/* products/get's filter: which items a status filter keeps. "all" hides deleted items, as
 * Lazada's own list does; unknown filters are refused by the caller. */
static int filter_keeps(const char *filter, const sb_item *it)
{
    int wd = it->withdrawn;
    if (!filter || !strcmp(filter, "all")) return wd != SB_WD_DELETED;
    if (!strcmp(filter, "deleted")) return wd == SB_WD_DELETED;
    if (wd == SB_WD_DELETED) return 0;
    if (!strcmp(filter, "inactive")) return wd == SB_WD_UNLISTED;
    if (wd == SB_WD_UNLISTED) return 0;
    if (!strcmp(filter, "live")) return it->state == SB_IT_LIVE;
    if (!strcmp(filter, "pending")) return it->state == SB_IT_REVIEWING;
    if (!strcmp(filter, "rejected")) return it->state == SB_IT_REJECTED;
    if (!strcmp(filter, "sold-out")) return it->stock <= 0;
    if (!strcmp(filter, "image-missing")) return !it->image_id[0];
    return 0;
}

static int known_filter(const char *f)
{
    static const char *const all[] = {"all",     "live",     "inactive", "deleted",
                                      "pending", "rejected", "sold-out", "image-missing"};
    for (size_t i = 0; f && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(f, all[i])) return 1;
    return !f;
}

static void products_get(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/products/get", 1, &shop)) return;
    const char *filter = sbx_param(rq, "filter"), *list = sbx_param(rq, "sku_seller_list");
    const char *search = sbx_param(rq, "search");
    long long off = 0, lim = 20;
    const char *o = sbx_param(rq, "offset"), *l = sbx_param(rq, "limit");
    if ((o && (sbx_parse_ll(o, &off) || off < 0)) ||
        (l && (sbx_parse_ll(l, &lim) || lim < 1 || lim > 50))) {
        fail(rq, rs, "ISV", "E005", "Invalid Request Format: offset/limit");
        return;
    }
    if (!known_filter(filter)) {
        fail(rq, rs, "ISV", "E005",
             "Invalid Request Format: filter must be all, live, inactive, deleted, image-missing, "
             "pending, rejected or sold-out");
        return;
    }
    /* Time windows on creation and last update (ISO 8601 with offset, or ms). */
    static const char *const win[] = {"create_after", "create_before", "update_after",
                                      "update_before"};
    long long bound[4];
    int have[4];
    for (int k = 0; k < 4; k++) {
        const char *v = sbx_param(rq, win[k]);
        have[k] = v != NULL;
        if (v && parse_ts(v, &bound[k])) {
            fail(rq, rs, "ISV", "E005", "Invalid Request Format: %s must be ISO 8601", win[k]);
            return;
        }
    }
    json_error_t je;
    json_t *skus = list ? json_loads(list, 0, &je) : NULL;
    if (list && !json_is_array(skus)) {
        json_decref(skus);
        fail(rq, rs, "ISV", "E005", "Invalid Request Format: sku_seller_list must be a JSON array");
        return;
    }
    json_t *arr = json_array();
    long long total = 0;
    for (size_t i = 0; i < rq->sb->nitems; i++) {
        const sb_item *it = &rq->sb->items[i];
        if (it->market != SBX_LAZADA || strcmp(it->shop_id, shop->id)) continue;
        if (!filter_keeps(filter, it)) continue;
        if ((have[0] && it->create_ms <= bound[0]) || (have[1] && it->create_ms >= bound[1]) ||
            (have[2] && it->update_ms <= bound[2]) || (have[3] && it->update_ms >= bound[3]))
            continue;
        /* search: a keyword in the product name or the seller SKU, case-insensitive. */
        if (search && *search && !strcasestr(it->name, search) && !strcasestr(it->sku, search))
            continue;
        if (skus) {
            int hit = 0;
            size_t k;
            json_t *s;
            json_array_foreach(skus, k, s) hit |=
                json_is_string(s) && !strcmp(json_string_value(s), it->sku);
            if (!hit) continue;
        }
        if (total >= off && total < off + lim) json_array_append_new(arr, item_json(rq->sb, it));
        total++;
    }
    json_decref(skus);
    ok(rq, rs, json_pack("{s:I,s:o}", "total_products", (json_int_t)total, "products", arr));
}

/* ---- categories, attributes, brands (no seller token needed, as on Lazada) ---- */
static json_t *tree_children(const sb_catnode *nodes, size_t n, const char *parent)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (strcmp(nodes[i].parent, parent)) continue;
        json_t *c = json_pack("{s:I,s:s,s:b,s:b}", "category_id", (json_int_t)sbx_ll(nodes[i].id),
                              "name", nodes[i].name, "var", 0, "leaf", nodes[i].leaf);
        if (c && !nodes[i].leaf)
            json_object_set_new(c, "children", tree_children(nodes, n, nodes[i].id));
        json_array_append_new(arr, c);
    }
    return arr;
}

static void category_tree(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, "/category/tree/get", 0, NULL)) return;
    size_t n;
    sb_catnode *nodes = sbx_catalog_tree(rq->sb, SBX_LAZADA, &n);
    if (!nodes) {
        fail(rq, rs, "SYSTEM", "ServiceUnavailable", "The service is temporarily unavailable");
        return;
    }
    ok(rq, rs, tree_children(nodes, n, "0"));
    cs_free(nodes);
}

static json_t *options_of(const char *const *choices)
{
    json_t *arr = json_array();
    for (size_t i = 0; choices && choices[i]; i++)
        json_array_append_new(
            arr, json_pack("{s:I,s:s}", "id", (json_int_t)(100000 + i), "name", choices[i]));
    return arr;
}

static void category_attributes(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, "/category/attributes/get", 0, NULL)) return;
    const char *id = sbx_param(rq, "primary_category_id");
    if (!id) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: primary_category_id");
        return;
    }
    const sb_category *c = sbx_category(rq->sb, SBX_LAZADA, id);
    if (!c) {
        fail(rq, rs, "ISV", "E201", "Invalid category: not a leaf category");
        return;
    }
    /* The product-level attributes every category has, then the category's own, then the SKU
     * ones, with is_mandatory 0/1 and input_type as Lazada spells them. */
    static const struct {
        const char *name, *label, *input, *type;
        int mandatory;
    } fixed[] = {{"name", "Tên sản phẩm", "text", "normal", 1},
                 {"description", "Mô tả sản phẩm", "richText", "normal", 1},
                 {"SellerSku", "Mã SKU của người bán", "text", "sku", 1},
                 {"price", "Giá", "numeric", "sku", 1},
                 {"quantity", "Số lượng", "numeric", "sku", 0},
                 {"package_weight", "Cân nặng gói hàng (kg)", "numeric", "sku", 1},
                 {"package_length", "Chiều dài gói hàng (cm)", "numeric", "sku", 1},
                 {"package_width", "Chiều rộng gói hàng (cm)", "numeric", "sku", 1},
                 {"package_height", "Chiều cao gói hàng (cm)", "numeric", "sku", 1}};
    json_t *arr = json_array();
    long long aid = 1;
    for (size_t i = 0; i < 2; i++)
        json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:[]}", "id",
                                             (json_int_t)aid++, "name", fixed[i].name, "label",
                                             fixed[i].label, "input_type", fixed[i].input,
                                             "attribute_type", fixed[i].type, "is_mandatory",
                                             fixed[i].mandatory, "is_sale_prop", 0, "options"));
    sb_attrdef defs[SB_MAX_ATTRS + 4];
    size_t nd = sbx_catalog_attrs(SBX_LAZADA, c, defs, sizeof defs / sizeof defs[0]);
    for (size_t i = 0; i < nd; i++)
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:o}", "id", (json_int_t)aid++, "name",
                           defs[i].id, "label", defs[i].name, "input_type", defs[i].input,
                           "attribute_type", "normal", "is_mandatory", defs[i].mandatory,
                           "is_sale_prop", 0, "options", options_of(defs[i].choices)));
    for (size_t i = 2; i < sizeof fixed / sizeof fixed[0]; i++)
        json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:[]}", "id",
                                             (json_int_t)aid++, "name", fixed[i].name, "label",
                                             fixed[i].label, "input_type", fixed[i].input,
                                             "attribute_type", fixed[i].type, "is_mandatory",
                                             fixed[i].mandatory, "is_sale_prop", 0, "options"));
    ok(rq, rs, arr);
}

static size_t nbrands(void)
{
    size_t n = 0;
    while (sbx_brands[n])
        n++;
    return n;
}

/* /category/brands/query: startRow + pageSize (≤ 200), optional name filter; the page in
 * data.module with total_record. */
static void brands_query(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, "/category/brands/query", 0, NULL)) return;
    const char *sr = sbx_param(rq, "startRow"), *ps = sbx_param(rq, "pageSize");
    const char *name = sbx_param(rq, "name");
    long long start, size;
    if (!sr || !ps) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: %s",
             !sr ? "startRow" : "pageSize");
        return;
    }
    if (sbx_parse_ll(sr, &start) || start < 0 || sbx_parse_ll(ps, &size) || size < 1 ||
        size > 200) {
        fail(rq, rs, "ISV", "E005", "Invalid Request Format: startRow/pageSize");
        return;
    }
    json_t *arr = json_array();
    long long total = 0;
    for (size_t i = 0; i < nbrands(); i++) {
        if (name && *name && !strcasestr(sbx_brands[i], name)) continue;
        if (total >= start && total < start + size)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s}", "brand_id",
                                                 (json_int_t)(100000 + i), "name", sbx_brands[i],
                                                 "name_en", sbx_brands[i], "global_identifier",
                                                 sbx_brands[i]));
        total++;
    }
    ok(rq, rs,
       json_pack("{s:o,s:I,s:I,s:I,s:b}", "module", arr, "total_record", (json_int_t)total,
                 "start_row", (json_int_t)start, "page_size", (json_int_t)size, "enable_total", 1));
}

/* /brands/get, the older call (offset, limit): data is the array itself. */
static void brands_get(sb_req *rq, sb_resp *rs)
{
    if (gate(rq, rs, "/brands/get", 0, NULL)) return;
    const char *o = sbx_param(rq, "offset"), *l = sbx_param(rq, "limit");
    long long off = 0, lim = 20;
    if ((o && (sbx_parse_ll(o, &off) || off < 0)) ||
        (l && (sbx_parse_ll(l, &lim) || lim < 1 || lim > 1000))) {
        fail(rq, rs, "ISV", "E005", "Invalid Request Format: offset/limit");
        return;
    }
    json_t *arr = json_array();
    for (long long i = off; i < (long long)nbrands() && i < off + lim; i++)
        json_array_append_new(arr,
                              json_pack("{s:I,s:s,s:s}", "brand_id", (json_int_t)(100000 + i),
                                        "name", sbx_brands[i], "global_identifier", sbx_brands[i]));
    ok(rq, rs, arr);
}

/* ---- changes to live items: images, price and stock, removal, deactivation ---- */
/* The Skus.Sku list of a payload (one object or an array), or NULL after answering an error. */
static json_t *payload_skus(sb_req *rq, sb_resp *rs, json_t **prod)
{
    *prod = payload_product(rq, rs);
    if (!*prod) return NULL;
    json_t *skus = json_object_get(json_object_get(*prod, "Skus"), "Sku");
    if (!count_of(skus)) {
        json_decref(*prod);
        fail(rq, rs, "ISV", "E001", "Missing required parameter: Skus.Sku");
        return NULL;
    }
    return skus;
}

/* The shop's item a Sku entry names (ItemId + SkuId, or SellerSku). */
static sb_item *sku_item(sb_req *rq, const sb_shop *shop, json_t *s, char *sku, size_t n)
{
    char id[32];
    long long iid;
    text_of(json_object_get(s, "SellerSku"), sku, n);
    text_of(json_object_get(s, "ItemId"), id, sizeof id);
    sb_item *it = NULL;
    if (id[0] && !sbx_parse_ll(id, &iid))
        it = sbx_item_by_id(rq->sb, SBX_LAZADA, iid);
    else if (sku[0])
        it = find_by_sku(rq->sb, shop->id, sku);
    if (it && (strcmp(it->shop_id, shop->id) || it->withdrawn == SB_WD_DELETED)) it = NULL;
    if (it && !sku[0]) snprintf(sku, n, "%s", it->sku);
    return it;
}

/* Answer a batch: code 0 when every Sku was applied, else the failed ones in detail (what was
 * valid was applied, as Lazada does). Takes detail. */
static void batch_reply(sb_req *rq, sb_resp *rs, json_t *detail)
{
    if (!json_array_size(detail)) {
        json_decref(detail);
        ok(rq, rs, NULL);
        return;
    }
    sbx_reply_json(rs, 200,
                   json_pack("{s:s,s:s,s:s,s:s,s:o}", "type", "ISV", "code", "501", "message",
                             "Some SKUs failed; see detail", "request_id", rq->request_id, "detail",
                             detail));
}

static void price_quantity_update(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/product/price_quantity/update", 1, &shop)) return;
    json_t *prod, *skus = payload_skus(rq, rs, &prod);
    if (!skus) return;
    json_t *detail = json_array();
    for (size_t i = 0; i < count_of(skus); i++) {
        json_t *s = one_or_many(skus, i);
        char sku[SB_SKU_MAX];
        sb_item *it = sku_item(rq, shop, s, sku, sizeof sku);
        json_t *pv = json_object_get(s, "Price"), *qv = json_object_get(s, "Quantity");
        if (!pv) pv = json_object_get(s, "price");
        if (!qv) qv = json_object_get(s, "quantity");
        double p = 0, q = 0;
        const char *bad = !it                             ? "Product not found"
                          : !pv && !qv                    ? "Price or Quantity is required"
                          : pv && (num(pv, &p) || p <= 0) ? "Price must be a positive number"
                          : qv && (num(qv, &q) || q < 0 || q != (double)(long long)q)
                              ? "Quantity must be a whole number, 0 or more"
                              : NULL;
        if (bad) {
            json_array_append_new(detail, json_pack("{s:s,s:s,s:s}", "seller_sku", sku, "field",
                                                    !it            ? "SellerSku"
                                                    : pv && p <= 0 ? "Price"
                                                                   : "Quantity",
                                                    "message", bad));
            continue;
        }
        if (pv) it->price = p;
        if (qv) it->stock = (long long)q;
        it->update_ms = rq->now_ms; /* no new review: price and stock are not reviewed */
    }
    json_decref(prod);
    batch_reply(rq, rs, detail);
}

static void images_set(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/images/set", 1, &shop)) return;
    json_t *prod, *skus = payload_skus(rq, rs, &prod);
    if (!skus) return;
    json_t *detail = json_array();
    for (size_t i = 0; i < count_of(skus); i++) {
        json_t *s = one_or_many(skus, i);
        char sku[SB_SKU_MAX];
        sb_item *it = sku_item(rq, shop, s, sku, sizeof sku);
        json_t *imgs = json_object_get(json_object_get(s, "Images"), "Image");
        const char *bad = !it               ? "Product not found"
                          : !count_of(imgs) ? "Images.Image is required"
                                            : NULL;
        for (size_t k = 0; !bad && k < count_of(imgs); k++)
            if (!hosted(rq->sb, json_string_value(one_or_many(imgs, k))))
                bad = "Image must be hosted by Lazada: migrate it with /image/migrate first";
        if (bad) {
            json_array_append_new(detail, json_pack("{s:s,s:s,s:s}", "seller_sku", sku, "field",
                                                    it ? "Images" : "SellerSku", "message", bad));
            continue;
        }
        /* Keep the image id: the part of the hosted URL after /p/, without the extension. */
        const char *u = strstr(json_string_value(one_or_many(imgs, 0)), "/p/");
        snprintf(it->image_id, sizeof it->image_id, "%s", u + 3);
        char *dot = strrchr(it->image_id, '.');
        if (dot) *dot = '\0';
        it->update_ms = rq->now_ms;
    }
    json_decref(prod);
    batch_reply(rq, rs, detail);
}

/* /product/remove: seller_sku_list or sku_id_list, a JSON array of at most 50. Removed items
 * are gone from every list but filter=deleted. */
static void product_remove(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/product/remove", 1, &shop)) return;
    const char *sl = sbx_param(rq, "seller_sku_list"), *il = sbx_param(rq, "sku_id_list");
    if (!sl && !il) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: seller_sku_list");
        return;
    }
    json_error_t je;
    json_t *list = json_loads(sl ? sl : il, JSON_DECODE_ANY, &je);
    if (!json_is_array(list) || !json_array_size(list) || json_array_size(list) > 50) {
        json_decref(list);
        fail(rq, rs, "ISV", "E005",
             "Invalid Request Format: %s must be a JSON array of 1 to 50 values",
             sl ? "seller_sku_list" : "sku_id_list");
        return;
    }
    json_t *detail = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char key[SB_SKU_MAX];
        text_of(v, key, sizeof key);
        sb_item *it = NULL;
        if (sl) {
            it = find_by_sku(rq->sb, shop->id, key);
        } else {
            for (size_t k = 0; k < rq->sb->nitems && !it; k++)
                if (rq->sb->items[k].market == SBX_LAZADA &&
                    rq->sb->items[k].sku_id == sbx_ll(key) &&
                    !strcmp(rq->sb->items[k].shop_id, shop->id))
                    it = &rq->sb->items[k];
        }
        if (!it || it->withdrawn == SB_WD_DELETED) {
            json_array_append_new(detail, json_pack("{s:s,s:s,s:s}", "seller_sku", key, "field",
                                                    sl ? "SellerSku" : "SkuId", "message",
                                                    "Product not found"));
            continue;
        }
        it->withdrawn = SB_WD_DELETED;
        it->update_ms = rq->now_ms;
    }
    json_decref(list);
    batch_reply(rq, rs, detail);
}

/* /product/deactivate: payload {"Request":{"Product":{"ItemId":…}}} — the item stays, off sale
 * (filter=inactive); a later /product/update puts it back in review. */
static void product_deactivate(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/product/deactivate", 1, &shop)) return;
    json_t *prod = payload_product(rq, rs);
    if (!prod) return;
    char id[32];
    long long iid;
    text_of(json_object_get(prod, "ItemId"), id, sizeof id);
    sb_item *it = id[0] && !sbx_parse_ll(id, &iid) ? sbx_item_by_id(rq->sb, SBX_LAZADA, iid) : NULL;
    json_decref(prod);
    if (!id[0]) {
        fail(rq, rs, "ISV", "E001", "Missing required parameter: ItemId");
    } else if (!it || strcmp(it->shop_id, shop->id) || it->withdrawn == SB_WD_DELETED) {
        fail(rq, rs, "ISV", "208", "Product not found");
    } else {
        it->withdrawn = SB_WD_UNLISTED;
        it->update_ms = rq->now_ms;
        ok(rq, rs, NULL);
    }
}

static const struct route {
    const char *api;
    void (*fn)(sb_req *, sb_resp *);
} routes[] = {
    {"/auth/token/create", token_create},
    {"/auth/token/refresh", token_refresh},
    {"/image/migrate", image_migrate},
    {"/image/upload", image_upload},
    {"/product/create", product_create},
    {"/product/update", product_update},
    {"/product/item/get", item_get},
    {"/products/get", products_get},
    /* categories, brands and changes to live items (issue 16) */
    {"/category/tree/get", category_tree},
    {"/category/attributes/get", category_attributes},
    {"/category/brands/query", brands_query},
    {"/brands/get", brands_get},
    {"/images/set", images_set},
    {"/product/price_quantity/update", price_quantity_update},
    {"/product/remove", product_remove},
    {"/product/deactivate", product_deactivate},
    {"/orders/get", orders_get},
    {"/order/items/get", order_items_get},
    {"/orders/items/get", orders_items_get},
};

static void handle(sb_req *rq, sb_resp *rs)
{
    if (!strcmp(rq->path, "/oauth/authorize") && !strcmp(rq->method, "GET")) {
        authorize(rq, rs);
        return;
    }
    if (!strcmp(rq->path, "/oauth/authorize/approve") && !strcmp(rq->method, "POST")) {
        approve(rq, rs);
        return;
    }
    if (!strncmp(rq->path, "/rest/", 6))
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
            if (!strcmp(rq->path + 5, routes[i].api)) {
                routes[i].fn(rq, rs);
                return;
            }
    fail(rq, rs, "ISV", "InvalidApiPath", "The specified API path is invalid");
}

/* A review ended: the product quality-control push, signed as Lazada signs them (HMAC-SHA256
 * of app_key + body with the app secret). No-op without a push URL. */
static void reviewed(sbx_sandbox *sb, const sb_item *it, long long now_ms)
{
    if (!sb->lazada_push_url) return;
    /* Product quality-control notification (message_type 1) as Lazada documents it. */
    json_t *j = json_pack(
        "{s:s,s:i,s:{s:I,s:I,s:s,s:I,s:s},s:I,s:s}", "seller_id", it->shop_id, "message_type", 1,
        "data", "date", (json_int_t)now_ms, "itemId", (json_int_t)it->item_id, "reason",
        it->state == SB_IT_REJECTED ? it->reason : "", "seller_id", (json_int_t)sbx_ll(it->shop_id),
        "status", it->state == SB_IT_LIVE ? "APPROVED" : "REJECTED", "timestamp",
        (json_int_t)(now_ms / 1000), "site", "lazada_vn");
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return;
    cs_buf msg;
    cs_buf_init(&msg, 4u << 20);
    char auth[65] = "";
    if (!cs_buf_puts(&msg, sb->opt.lazada_app_key) && !cs_buf_puts(&msg, body)) {
        const char *key = sb->opt.lazada_app_secret;
        cx_hmac_sha256_hex(key, strlen(key), msg.data, msg.len, 0, auth);
        sbx_push_queue(sb, SBX_LAZADA, sb->lazada_push_url, body, auth);
    }
    cs_buf_free(&msg);
    free(body);
}

static int is_create(const char *method, const char *path)
{
    (void)method;
    return !strcmp(path, "/rest/product/create");
}

static void throttle(sb_req *rq, sb_resp *rs)
{
    fail(rq, rs, "ISV", "ApiCallLimit",
         "The request has exceeded the limit of calls per second; retry in the next second");
}

static void server_error(sb_req *rq, sb_resp *rs)
{
    sbx_reply_json(rs, 503,
                   json_pack("{s:s,s:s,s:s,s:s}", "type", "SYSTEM", "code", "ServiceUnavailable",
                             "message", "The service is temporarily unavailable", "request_id",
                             rq->request_id));
}

static void norm_path(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
}

static void item_changed(sbx_sandbox *sb, const sb_item *it, long long now_ms);
const sb_market_ops sbx_lazada_ops = {"lazada",  handle,   is_create, throttle,      server_error,
                                      norm_path, reviewed, NULL,      order_changed, item_changed};

/* A live item's status changed on Lazada's side: a product push (message_type 3) naming the
 * item and its status as products/get reports it (Active, InActive, Deleted, Suspended), signed
 * as the other Lazada pushes. */
static void item_changed(sbx_sandbox *sb, const sb_item *it, long long now_ms)
{
    if (!sb->lazada_push_url) return;
    json_t *j = json_pack(
        "{s:s,s:i,s:{s:I,s:s,s:s,s:I},s:I,s:s}", "seller_id", it->shop_id, "message_type", 3,
        "data", "item_id", (json_int_t)it->item_id, "status", item_status(it), "reject_reason",
        it->withdrawn == SB_WD_BANNED ? "Vi phạm chính sách đăng bán" : "", "update_time",
        (json_int_t)(now_ms / 1000), "timestamp", (json_int_t)(now_ms / 1000), "site", "lazada_vn");
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return;
    cs_buf msg;
    cs_buf_init(&msg, 4u << 20);
    char auth[65] = "";
    if (!cs_buf_puts(&msg, sb->opt.lazada_app_key) && !cs_buf_puts(&msg, body)) {
        const char *key = sb->opt.lazada_app_secret;
        cx_hmac_sha256_hex(key, strlen(key), msg.data, msg.len, 0, auth);
        sbx_push_queue(sb, SBX_LAZADA, sb->lazada_push_url, body, auth);
    }
    cs_buf_free(&msg);
    free(body);
}

/* ---- orders --------------------------------------------------------------------------------
 * The paths the public lazada-open-platform-sdk calls, in the shape MARKETPLACES.md gives:
 *   GET /orders/get        update_after | created_after (one required, ISO 8601 with offset),
 *                          update_before/created_before, status, sort_by created_at|updated_at,
 *                          sort_direction ASC|DESC, offset, limit ≤ 100
 *                          → data{count, countTotal, orders[{order_id, statuses[], created_at,
 *                          updated_at, price, items_count}]}
 *   GET /order/items/get   order_id → data[lines]
 *   GET /orders/items/get  order_ids=[…] (≤ 50) → data[{order_id, order_number, order_items[]}]
 * One order item per unit bought. Trade-order push (message_type 0) on every status change. */

static int lz_order_of(const sb_order *o, const sb_shop *s)
{
    return o->market == SBX_LAZADA && !strcmp(o->shop_id, s->id);
}

static json_t *lz_items(const sb_order *o)
{
    char at[32], up[32], price[32];
    sbx_iso_format(o->create_ms / 1000, at);
    sbx_iso_format(o->update_ms / 1000, up);
    snprintf(price, sizeof price, "%lld.00", o->price);
    json_t *arr = json_array();
    for (long long k = 0; k < o->qty; k++)
        json_array_append_new(
            arr, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "order_item_id",
                           (json_int_t)(o->line_id + k), "order_id", (json_int_t)o->id, "sku",
                           o->sku, "shop_sku", o->sku, "status", sbx_order_status(o), "item_price",
                           price, "paid_price", price, "created_at", at, "updated_at", up));
    return arr;
}

static int lz_cmp_key;
static int lz_cmp(const void *a, const void *b)
{
    const sb_order *x = *(const sb_order *const *)a, *y = *(const sb_order *const *)b;
    long long kx = lz_cmp_key ? x->update_ms : x->create_ms;
    long long ky = lz_cmp_key ? y->update_ms : y->create_ms;
    return kx < ky ? -1 : kx > ky ? 1 : x->id < y->id ? -1 : x->id > y->id;
}

static void orders_get(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/orders/get", 1, &shop)) return;
    sbx_sandbox *sb = rq->sb;
    const char *ua = sbx_param(rq, "update_after"), *ca = sbx_param(rq, "created_after");
    const char *ub = sbx_param(rq, "update_before"), *cb = sbx_param(rq, "created_before");
    long long after = 0, before = 0, offset = 0, limit = 100;
    int by_update = ua != NULL;
    if (!ua && !ca) {
        fail(rq, rs, "ISV", "E001", "Parameter update_after or created_after is mandatory");
        return;
    }
    if (sbx_iso_time(by_update ? ua : ca, &after) ||
        ((by_update ? ub : cb) && sbx_iso_time(by_update ? ub : cb, &before))) {
        fail(rq, rs, "ISV", "E005", "Invalid date format, use ISO 8601");
        return;
    }
    const char *off = sbx_param(rq, "offset"), *lim = sbx_param(rq, "limit");
    if ((off && (sbx_parse_ll(off, &offset) || offset < 0)) ||
        (lim && (sbx_parse_ll(lim, &limit) || limit < 1 || limit > 100))) {
        fail(rq, rs, "ISV", "E005", "offset must be >= 0 and limit 1..100");
        return;
    }
    const char *sort = sbx_param(rq, "sort_by"), *dir = sbx_param(rq, "sort_direction");
    const char *status = sbx_param(rq, "status");
    size_t n = 0;
    const sb_order **pick = cs_malloc((sb->norders ? sb->norders : 1) * sizeof *pick);
    if (!pick) {
        server_error(rq, rs);
        return;
    }
    for (size_t i = 0; i < sb->norders; i++) {
        const sb_order *o = &sb->orders[i];
        long long t = (by_update ? o->update_ms : o->create_ms) / 1000;
        if (!lz_order_of(o, shop) || t < after || (before && t > before)) continue;
        if (status && strcmp(status, sbx_order_status(o))) continue;
        pick[n++] = o;
    }
    lz_cmp_key = sort && !strcmp(sort, "updated_at");
    qsort(pick, n, sizeof *pick, lz_cmp);
    int desc = !dir || strcasecmp(dir, "ASC"); /* Lazada's default is DESC */
    json_t *arr = json_array();
    for (long long k = offset; k < (long long)n && k < offset + limit; k++) {
        const sb_order *o = pick[desc ? (long long)n - 1 - k : k];
        char at[32], up[32], price[32];
        sbx_iso_format(o->create_ms / 1000, at);
        sbx_iso_format(o->update_ms / 1000, up);
        snprintf(price, sizeof price, "%lld.00", o->price * o->qty);
        json_array_append_new(arr, json_pack("{s:I,s:I,s:[s],s:s,s:s,s:s,s:I}", "order_id",
                                             (json_int_t)o->id, "order_number", (json_int_t)o->id,
                                             "statuses", sbx_order_status(o), "created_at", at,
                                             "updated_at", up, "price", price, "items_count",
                                             (json_int_t)o->qty));
    }
    cs_free(pick);
    ok(rq, rs,
       json_pack("{s:I,s:I,s:o}", "count", (json_int_t)json_array_size(arr), "countTotal",
                 (json_int_t)n, "orders", arr));
}

static void order_items_get(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/order/items/get", 1, &shop)) return;
    long long id;
    const sb_order *o = sbx_parse_ll(sbx_param(rq, "order_id"), &id)
                            ? NULL
                            : sbx_order_find(rq->sb, SBX_LAZADA, id);
    if (!o || !lz_order_of(o, shop)) {
        fail(rq, rs, "ISV", "E016", "Invalid Order ID");
        return;
    }
    ok(rq, rs, lz_items(o));
}

static void orders_items_get(sb_req *rq, sb_resp *rs)
{
    sb_shop *shop;
    if (gate(rq, rs, "/orders/items/get", 1, &shop)) return;
    const char *ids = sbx_param(rq, "order_ids");
    json_error_t je;
    json_t *list = ids ? json_loads(ids, 0, &je) : NULL;
    if (!json_is_array(list) || !json_array_size(list) || json_array_size(list) > 50) {
        json_decref(list);
        fail(rq, rs, "ISV", "E001", "order_ids must be a list of 1 to 50 order ids");
        return;
    }
    json_t *arr = json_array(), *v;
    size_t i;
    json_array_foreach(list, i, v)
    {
        long long id = json_is_integer(v)  ? json_integer_value(v)
                       : json_is_string(v) ? sbx_ll(json_string_value(v))
                                           : 0;
        const sb_order *o = sbx_order_find(rq->sb, SBX_LAZADA, id);
        if (o && lz_order_of(o, shop))
            json_array_append_new(arr, json_pack("{s:I,s:I,s:o}", "order_id", (json_int_t)o->id,
                                                 "order_number", (json_int_t)o->id, "order_items",
                                                 lz_items(o)));
    }
    json_decref(list);
    ok(rq, rs, arr);
}

/* Trade-order push (message_type 0), signed as the other Lazada pushes. */
static void order_changed(sbx_sandbox *sb, const sb_order *o, long long now_ms)
{
    if (!sb->lazada_push_url) return;
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", o->id);
    json_t *j =
        json_pack("{s:s,s:i,s:{s:s,s:s,s:I},s:I,s:s}", "seller_id", o->shop_id, "message_type", 0,
                  "data", "trade_order_id", oid, "order_status", sbx_order_status(o),
                  "status_update_time", (json_int_t)(o->update_ms / 1000), "timestamp",
                  (json_int_t)(now_ms / 1000), "site", "lazada_vn");
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return;
    cs_buf msg;
    cs_buf_init(&msg, 4u << 20);
    char auth[65] = "";
    if (!cs_buf_puts(&msg, sb->opt.lazada_app_key) && !cs_buf_puts(&msg, body)) {
        const char *key = sb->opt.lazada_app_secret;
        cx_hmac_sha256_hex(key, strlen(key), msg.data, msg.len, 0, auth);
        sbx_push_queue(sb, SBX_LAZADA, sb->lazada_push_url, body, auth);
    }
    cs_buf_free(&msg);
    free(body);
}
