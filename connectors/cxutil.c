/* connectors/cxutil: shared connector helpers (request assembly, encoding, JSON layout, error
 * triage and Vietnamese wording). Pure: no clock, no I/O, no configuration reads. */
#include "connectors/cxutil.h"
#include "core/mem.h"

#include <csv.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- request assembly ---------------------------------------------------------------------- */

int cx_req_start(cx_request *r, cx_op op, const char *method, const char *url)
{
    size_t ml = strlen(method);
    if (ml >= sizeof r->method) return -1;
    char *u = cs_strdup(url);
    if (!u) return -1;
    if (r->url) cs_free_secret(r->url, strlen(r->url));
    r->url = u;
    r->op = op;
    memcpy(r->method, method, ml + 1);
    return 0;
}

int cx_req_header(cx_request *r, const char *name, const char *value)
{
    if (r->nheaders >= CX_MAX_HEADERS) return -1;
    char *n = cs_strdup(name), *v = cs_strdup(value);
    if (!n || !v) {
        cs_free(n);
        if (v) cs_free_secret(v, strlen(v));
        return -1;
    }
    r->headers[r->nheaders].name = n;
    r->headers[r->nheaders].value = v;
    r->nheaders++;
    return 0;
}

int cx_req_body(cx_request *r, const char *content_type, const void *body, size_t n)
{
    char *ct = cs_strdup(content_type);
    char *b = cs_malloc(n + 1);
    if (!ct || !b) {
        cs_free(ct);
        cs_free(b);
        return -1;
    }
    if (n) memcpy(b, body, n);
    b[n] = '\0';
    cs_free(r->content_type);
    if (r->body) cs_free_secret(r->body, r->body_len);
    r->content_type = ct;
    r->body = b;
    r->body_len = n;
    return 0;
}

int cx_req_part(cx_request *r, const char *name, const char *filename, const char *content_type,
                const void *data, size_t n, int copy)
{
    if (r->nparts >= CX_MAX_PARTS) return -1;
    cx_part *p = &r->parts[r->nparts];
    memset(p, 0, sizeof *p);
    p->name = cs_strdup(name);
    if (!p->name) goto oom;
    if (filename && !(p->filename = cs_strdup(filename))) goto oom;
    if (content_type && !(p->content_type = cs_strdup(content_type))) goto oom;
    if (copy) {
        char *d = cs_malloc(n + 1);
        if (!d) goto oom;
        if (n) memcpy(d, data, n);
        d[n] = '\0';
        p->data = d;
        p->owned = 1;
    } else {
        p->data = data;
    }
    p->len = n;
    r->nparts++;
    return 0;
oom:
    cs_free(p->name);
    cs_free(p->filename);
    cs_free(p->content_type);
    memset(p, 0, sizeof *p);
    return -1;
}

/* ---- encoding -------------------------------------------------------------------------------- */

int cx_urlenc(cs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            if (cs_buf_putc(b, (char)*p)) return -1;
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            if (cs_buf_append(b, e, 3)) return -1;
        }
    }
    return 0;
}

int cx_query(cs_buf *b, const cx_param *p, size_t n, char sep_first)
{
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (!p[i].value) continue;
        char sep = first ? sep_first : '&';
        if (sep && cs_buf_putc(b, sep)) return -1;
        if (cx_urlenc(b, p[i].key) || cs_buf_putc(b, '=') || cx_urlenc(b, p[i].value)) return -1;
        first = 0;
    }
    return 0;
}

int cx_url_base(cs_buf *b, const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    if (cs_buf_append(b, base, n)) return -1;
    return cs_buf_puts(b, path);
}

int cx_url_split(const char *url, char *scheme, size_t ssz, char *host, size_t hsz, int *port,
                 size_t *path_at)
{
    if (!url) return -1;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '\\') return -1;
    const char *colon = strstr(url, "://");
    if (!colon || colon == url || (size_t)(colon - url) >= ssz) return -1;
    size_t sl = (size_t)(colon - url);
    for (size_t i = 0; i < sl; i++) {
        char c = (char)tolower((unsigned char)url[i]);
        if (!isalpha((unsigned char)c)) return -1;
        scheme[i] = c;
    }
    scheme[sl] = '\0';
    const char *a = colon + 3;
    size_t al = strcspn(a, "/?#");
    if (!al || memchr(a, '@', al)) return -1;
    const char *hs = a, *he;
    const char *rest;
    if (*a == '[') {
        const char *rb = memchr(a, ']', al);
        if (!rb) return -1;
        hs = a + 1;
        he = rb;
        rest = rb + 1;
    } else {
        const char *pc = memchr(a, ':', al);
        he = pc ? pc : a + al;
        rest = he;
    }
    size_t hl = (size_t)(he - hs);
    if (!hl || hl >= hsz) return -1;
    for (size_t i = 0; i < hl; i++)
        host[i] = (char)tolower((unsigned char)hs[i]);
    host[hl] = '\0';
    int pt = !strcmp(scheme, "https") ? 443 : !strcmp(scheme, "http") ? 80 : 0;
    if (rest < a + al) {
        if (*rest != ':' || rest + 1 == a + al) return -1;
        long v = 0;
        for (const char *q = rest + 1; q < a + al; q++) {
            if (!isdigit((unsigned char)*q)) return -1;
            v = v * 10 + (*q - '0');
            if (v > 65535) return -1;
        }
        if (!v) return -1;
        pt = (int)v;
    }
    if (port) *port = pt;
    if (path_at) *path_at = (size_t)(a + al - url);
    return 0;
}

int cx_host_is_loopback(const char *host)
{
    if (!strcmp(host, "localhost") || !strcmp(host, "::1")) return 1;
    /* 127.0.0.0/8 in dotted-quad form only */
    int parts = 0;
    const char *p = host;
    if (strncmp(p, "127.", 4)) return 0;
    while (*p) {
        long v = 0;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p++ - '0');
            if (++digits > 3) return 0;
        }
        if (!digits || v > 255) return 0;
        parts++;
        if (*p == '.')
            p++;
        else if (*p)
            return 0;
    }
    return parts == 4 && host[strlen(host) - 1] != '.';
}

char *cx_json_dump(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (!s) return NULL;
    size_t n = strlen(s);
    char *out = cs_malloc(n + 1);
    if (out) memcpy(out, s, n + 1);
    free(s);
    if (out && len) *len = n;
    return out;
}

int cx_jset(json_t *o, const char *key, json_t *v)
{
    if (!v) return -1;
    return json_object_set_new(o, key, v) ? -1 : 0;
}

int cx_json_merge(json_t *target, const char *json_text, cs_error *err)
{
    if (!json_text || !*json_text) return 0;
    json_error_t je;
    json_t *a = json_loads(json_text, JSON_REJECT_DUPLICATES, &je);
    if (!a || !json_is_object(a)) {
        json_decref(a);
        return cs_error_field(err, "attributes", CS_F_FORMAT,
                              "category_map attributes_json is not a JSON object");
    }
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v)
    {
        if (json_object_set(target, k, v)) {
            json_decref(a);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
    }
    json_decref(a);
    return 0;
}

/* ---- build-time checks ----------------------------------------------------------------------- */

int cx_need_cfg(const char *value, const char *setting, cs_error *err)
{
    if (value && *value) return 0;
    return cs_error_set(err, CS_E_MP_NOT_CONFIGURED, "%s is not set", setting);
}

int cx_need_listing(const cx_input *in, cs_error *err)
{
    const cx_listing *l = in->listing;
    if (!l) return cs_error_set(err, CS_E_INTERNAL, "listing missing");
    if (!l->category || !l->category->external_id || !*l->category->external_id)
        cs_error_field(err, "category", CS_F_CATEGORY_UNMAPPED,
                       l->category_code ? l->category_code : "");
    if (!l->name || !*l->name) cs_error_field(err, "name", CS_F_REQUIRED, NULL);
    if (l->price_vnd <= 0) cs_error_field(err, "price_vnd", CS_F_PRICE, NULL);
    if (l->weight_g <= 0) cs_error_field(err, "weight_g", CS_F_RANGE, "above 0");
    if (l->stock < 0) cs_error_field(err, "stock", CS_F_RANGE, "0 or more");
    return cs_error_failed(err) ? -1 : 0;
}

int cx_need_account(const cx_input *in, int need_shop, cs_error *err)
{
    const cx_account *a = in->account;
    if (!a || !a->access_token || !*a->access_token)
        return cs_error_set(err, CS_E_MP_REAUTHORIZE, "no access token");
    if (need_shop && (!a->shop_id || !*a->shop_id))
        return cs_error_set(err, CS_E_MP_REAUTHORIZE, "no shop id");
    return 0;
}

/* ---- outcome ----------------------------------------------------------------------------------
 */

void cx_copy(char *dst, size_t dstsz, const char *src)
{
    if (!dstsz) return;
    if (!src) src = "";
    size_t n = strlen(src);
    if (n >= dstsz) {
        n = dstsz - 1;
        /* src[n] is the first byte left out: if it continues a sequence, drop that sequence */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void cx_out_retry(cx_outcome *o, unsigned secs, int unknown, const char *code, const char *msg)
{
    o->result = CX_RETRY;
    o->retry_after = secs ? secs : 1;
    o->unknown = unknown;
    if (code) cx_copy(o->error_code, sizeof o->error_code, code);
    if (msg) cx_copy(o->message, sizeof o->message, msg);
}

void cx_out_reauth(cx_outcome *o, const char *code, const char *msg)
{
    o->result = CX_REAUTHORIZE;
    o->unknown = 0;
    if (code) cx_copy(o->error_code, sizeof o->error_code, code);
    if (msg) cx_copy(o->message, sizeof o->message, msg);
}

int cx_triage_transport(const cx_response *resp, cx_outcome *o)
{
    switch (resp->transport) {
    case CX_T_OK:
        return 0;
    case CX_T_CONNECT:
        cx_out_retry(o, 5, 0, "connect_failed", "could not connect");
        return 1;
    case CX_T_TIMEOUT:
        cx_out_retry(o, 10, 1, "timeout", "no answer in time");
        return 1;
    case CX_T_REFUSED:
        cx_out_retry(o, 300, 0, "insecure_url", "plain http is allowed to loopback only");
        return 1;
    case CX_T_OTHER:
        break;
    }
    cx_out_retry(o, 10, 1, "connection_lost", "connection failed mid-way");
    return 1;
}

unsigned cx_retry_after(const cx_response *resp, long long now_ms, unsigned dflt)
{
    const char *v = resp->retry_after;
    if (!v) return dflt;
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        char *end;
        long long s = strtoll(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end) return dflt;
        if (s < 1) return 1;
        return s > 86400 ? 86400u : (unsigned)s;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end) return dflt;
    long long t = (long long)timegm(&tm), now = now_ms / 1000;
    if (t <= now) return 1;
    return t - now > 86400 ? 86400u : (unsigned)(t - now);
}

json_t *cx_push_open(const cx_input *in, int signature_ok, cx_outcome *out)
{
    cx_outcome_init(out);
    if (!signature_ok) {
        cx_outcome_reject(out, "", "push_signature_invalid", "Chữ ký thông báo không hợp lệ",
                          "Invalid push signature");
        return NULL;
    }
    cx_response r = {CX_T_OK, 200, in->push_body, in->push_len, NULL, NULL};
    json_t *j = cx_json_body(&r);
    if (!j)
        cx_outcome_reject(out, "", "push_malformed", "Thông báo từ sàn không đọc được",
                          "Unreadable push body");
    return j;
}

json_t *cx_json_body(const cx_response *resp)
{
    if (!resp->body || !resp->body_len) return NULL;
    json_error_t je;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, &je);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int cx_json_text(const json_t *obj, const char *key, char *out, size_t n)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (json_is_string(v)) {
        cx_copy(out, n, json_string_value(v));
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 0;
    }
    return -1;
}

long long cx_json_int(const json_t *obj, const char *key, long long dflt)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (json_is_integer(v)) return (long long)json_integer_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        long long x = strtoll(s, &end, 10);
        if (end != s && !*end) return x;
    }
    return dflt;
}

/* ---- marketplace errors ---------------------------------------------------------------------- */

/* Every documented error code (MARKETPLACES.md) and what it means for us. `happened` marks
 * server-side failures after which the request may have taken effect. For rejections, the
 * field and the Vietnamese and English advice the volunteer sees. */
static const struct known_error {
    const char *code;
    cx_err_class cls;
    int happened;
    unsigned retry;
    const char *field, *vi, *en;
} known[] = {
    /* Shopee */
    {"error_system_busy", CX_EC_RETRY, 0, 5, NULL, NULL, NULL},
    {"error_busy", CX_EC_RETRY, 0, 5, NULL, NULL, NULL},
    {"error_server", CX_EC_RETRY, 1, 10, NULL, NULL, NULL},
    {"error_inner", CX_EC_RETRY, 1, 10, NULL, NULL, NULL},
    {"error_sign", CX_EC_CONFIG, 0, 300, NULL, NULL, NULL},
    {"error_auth", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
    {"error_permission", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
    {"invalid_access_token", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
    {"invalid_acceess_token", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL}, /* Shopee's own spelling */
    {"error_item_not_found", CX_EC_NOT_FOUND, 0, 0, NULL, NULL, NULL},
    {"error_not_found", CX_EC_NOT_FOUND, 0, 0, NULL, NULL, NULL},
    {"error_item_name_is_too_short", CX_EC_REJECT, 0, 0, "name",
     "quá ngắn theo quy định của sàn; hãy viết tên đầy đủ hơn (loại hàng, đặc điểm, quy cách)",
     "too short for the marketplace; write a fuller name (kind, features, pack size)"},
    {"error_invalid_category", CX_EC_REJECT, 0, 0, "category",
     "danh mục trên sàn không hợp lệ hoặc không phải danh mục cuối; báo quản trị sửa bảng ánh "
     "xạ ngành hàng (category_map)",
     "not a valid leaf category on the marketplace; the category map must be corrected"},
    {"error_image_unavailable", CX_EC_REJECT, 0, 0, "images",
     "sàn không dùng được ảnh; hãy tải lên ảnh JPG hoặc PNG rõ nét, dưới 10 MB",
     "the marketplace cannot use the image; upload a clear JPG or PNG under 10 MB"},
    {"error_invalid_logistic_info", CX_EC_REJECT, 0, 0, "logistics",
     "đơn vị vận chuyển không hợp lệ; cửa hàng cần bật ít nhất một đơn vị vận chuyển",
     "invalid logistics channel; the shop must enable at least one channel"},
    {"error_less_required_attribute", CX_EC_REJECT, 0, 0, "attributes",
     "thiếu thuộc tính bắt buộc của danh mục này trên sàn",
     "a mandatory attribute of this category is missing"},
    {"error_param", CX_EC_REJECT, 0, 0, NULL, "giá trị không hợp lệ", "invalid value"},
    /* Lazada */
    {"ApiCallLimit", CX_EC_RETRY, 0, 1, NULL, NULL, NULL},
    {"AppCallLimit", CX_EC_RETRY, 0, 1, NULL, NULL, NULL},
    {"ServiceTimeout", CX_EC_RETRY, 1, 10, NULL, NULL, NULL},
    {"ServiceUnavailable", CX_EC_RETRY, 1, 10, NULL, NULL, NULL},
    {"InternalError", CX_EC_RETRY, 1, 10, NULL, NULL, NULL},
    {"IncompleteSignature", CX_EC_CONFIG, 0, 300, NULL, NULL, NULL},
    {"InvalidTimestamp", CX_EC_CONFIG, 0, 300, NULL, NULL, NULL},
    {"IllegalAccessToken", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
    {"IllegalRefreshToken", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
    {"208", CX_EC_NOT_FOUND, 0, 0, NULL, NULL, NULL},
    {"E001", CX_EC_REJECT, 0, 0, NULL, "thiếu thông tin bắt buộc", "required value missing"},
    {"E005", CX_EC_REJECT, 0, 0, NULL, "dữ liệu sai định dạng", "invalid request format"},
    {"E201", CX_EC_REJECT, 0, 0, "category",
     "danh mục trên sàn không hợp lệ; báo quản trị sửa bảng ánh xạ ngành hàng (category_map)",
     "invalid category on the marketplace; the category map must be corrected"},
    /* TikTok Shop */
    {"36009002", CX_EC_RETRY, 0, 1, NULL, NULL, NULL},
    {"105001", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
    {"105002", CX_EC_REAUTH, 0, 0, NULL, NULL, NULL},
};

static const struct known_error *find_known(const char *code)
{
    if (!code) return NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(known[i].code, code)) return &known[i];
    return NULL;
}

cx_err_class cx_error_class(const char *code)
{
    const struct known_error *k = find_known(code);
    return k ? k->cls : CX_EC_UNKNOWN;
}

const char *cx_field_guess(const char *text)
{
    /* Order matters: specific words before the generic "name". */
    static const struct {
        const char *needle, *field;
    } words[] = {
        {"brand", "brand"},        {"categor", "category"},     {"image", "images"},
        {"logistic", "logistics"}, {"attribute", "attributes"}, {"description", "description"},
        {"price", "price_vnd"},    {"stock", "stock"},          {"quantity", "stock"},
        {"inventor", "stock"},     {"weight", "weight_g"},      {"dimension", "dimensions"},
        {"length", "dimensions"},  {"width", "dimensions"},     {"height", "dimensions"},
        {"sellersku", "sku"},      {"seller_sku", "sku"},       {"item_sku", "sku"},
        {"title", "name"},         {"item_name", "name"},       {"name", "name"},
    };
    if (!text) return NULL;
    char low[256];
    size_t n = 0;
    for (; text[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)text[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i].needle)) return words[i].field;
    return NULL;
}

void cx_out_reject_field(cx_outcome *o, const char *marketplace, const char *field,
                         const char *code, const char *message)
{
    const struct known_error *k = find_known(code);
    if (!field && k) field = k->field;
    if (!field) field = cx_field_guess(message);
    char vi[320], en[320];
    const char *mp = marketplace ? marketplace : "";
    const char *msg = message && *message ? message : "";
    if (field) {
        const char *label = cx_field_label_vi(field);
        if (k && k->vi)
            snprintf(vi, sizeof vi, "«%s»: %s (sàn %s, mã %s). Hãy sửa rồi đăng lại.", label, k->vi,
                     mp, code);
        else
            snprintf(vi, sizeof vi,
                     "«%s» không được sàn %s chấp nhận (mã %s: %s). Hãy sửa rồi đăng lại.", label,
                     mp, code ? code : "", msg);
        snprintf(en, sizeof en, "%s: %s (%s %s%s%s)", field, k && k->en ? k->en : "rejected", mp,
                 code ? code : "", *msg ? ": " : "", msg);
    } else {
        snprintf(vi, sizeof vi,
                 "Sàn %s từ chối sản phẩm (mã %s: %s). Hãy kiểm tra lại thông tin sản phẩm rồi "
                 "đăng lại.",
                 mp, code ? code : "", msg);
        snprintf(en, sizeof en, "%s rejected the item (%s%s%s)", mp, code ? code : "",
                 *msg ? ": " : "", msg);
    }
    cx_outcome_reject(o, field ? field : "", code, vi, en);
    if (message) cx_copy(o->message, sizeof o->message, message);
}

void cx_out_error(cx_outcome *o, const char *marketplace, const char *code, const char *message,
                  long http_status, unsigned retry_after)
{
    const struct known_error *k = find_known(code);
    cx_err_class cls = k ? k->cls : CX_EC_UNKNOWN;
    if (http_status == 429 && cls != CX_EC_REAUTH) cls = CX_EC_RETRY;
    switch (cls) {
    case CX_EC_RETRY:
        cx_out_retry(o, retry_after ? retry_after : (k && k->retry ? k->retry : 1),
                     k ? k->happened : http_status >= 500, code, message);
        return;
    case CX_EC_CONFIG:
        cx_out_retry(o, k->retry, 0, code, message);
        return;
    case CX_EC_REAUTH:
        cx_out_reauth(o, code, message);
        return;
    case CX_EC_NOT_FOUND:
        o->result = CX_NOT_FOUND;
        cx_copy(o->error_code, sizeof o->error_code, code);
        if (message) cx_copy(o->message, sizeof o->message, message);
        return;
    case CX_EC_REJECT:
        cx_out_reject_field(o, marketplace, NULL, code, message);
        return;
    case CX_EC_UNKNOWN:
        break;
    }
    if (http_status >= 500 || http_status == 0)
        cx_out_retry(o, retry_after ? retry_after : 10, 1, code, message);
    else
        cx_out_reject_field(o, marketplace, NULL, code, message);
}

int cx_triage_status(const cx_response *resp, long long now_ms, cx_outcome *o)
{
    char code[16];
    long st = resp->status;
    if (st == 429) {
        cx_out_retry(o, cx_retry_after(resp, now_ms, 1), 0, "http_429", "throttled");
        return 1;
    }
    if (st >= 200 && st < 300) return 0;
    snprintf(code, sizeof code, "http_%ld", st);
    cx_out_retry(o, cx_retry_after(resp, now_ms, st >= 500 ? 10 : 30), 1, code,
                 "unexpected answer");
    return 1;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

struct csv_ctx {
    cx_csv *c;
    size_t max_rows;
    char **row;
    size_t nrow, caprow;
    int oom, too_many;
};

static void csv_cell(void *s, size_t len, void *data)
{
    struct csv_ctx *x = data;
    if (x->oom || x->too_many) return;
    if (x->nrow == x->caprow) {
        size_t nc = x->caprow ? x->caprow * 2 : 8;
        char **r = cs_realloc(x->row, nc * sizeof *r);
        if (!r) {
            x->oom = 1;
            return;
        }
        x->row = r;
        x->caprow = nc;
    }
    char *v = cs_strndup(s ? s : "", s ? len : 0);
    if (!v) {
        x->oom = 1;
        return;
    }
    x->row[x->nrow++] = v;
}

static void csv_drop_row(struct csv_ctx *x)
{
    for (size_t i = 0; i < x->nrow; i++)
        cs_free(x->row[i]);
    x->nrow = 0;
}

static void csv_eol(int ch, void *data)
{
    (void)ch;
    struct csv_ctx *x = data;
    cx_csv *c = x->c;
    if (x->oom || x->too_many) {
        csv_drop_row(x);
        return;
    }
    if (c->nrows >= x->max_rows) {
        x->too_many = 1;
        csv_drop_row(x);
        return;
    }
    char ***cells = cs_realloc(c->cells, (c->nrows + 1) * sizeof *cells);
    if (cells) c->cells = cells;
    size_t *nc = cs_realloc(c->ncols, (c->nrows + 1) * sizeof *nc);
    if (nc) c->ncols = nc;
    char **row = cs_malloc((x->nrow ? x->nrow : 1) * sizeof *row);
    if (!cells || !nc || !row) {
        cs_free(row);
        x->oom = 1;
        csv_drop_row(x);
        return;
    }
    memcpy(row, x->row, x->nrow * sizeof *row);
    c->cells[c->nrows] = row;
    c->ncols[c->nrows] = x->nrow;
    c->nrows++;
    x->nrow = 0;
}

int cx_csv_parse(const char *text, size_t n, size_t max_rows, cx_csv *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    if (n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, n -= 3;
    struct csv_parser p;
    struct csv_ctx x = {out, max_rows, NULL, 0, 0, 0, 0};
    if (csv_init(&p, CSV_APPEND_NULL) != 0) return cs_error_set(err, CS_E_NOMEM, NULL);
    csv_set_realloc_func(&p, cs_realloc);
    csv_set_free_func(&p, cs_free);
    int bad = csv_parse(&p, text, n, csv_cell, csv_eol, &x) != n;
    if (!bad) bad = csv_fini(&p, csv_cell, csv_eol, &x) != 0;
    csv_free(&p);
    csv_drop_row(&x);
    cs_free(x.row);
    if (x.oom || bad || x.too_many) {
        cx_csv_free(out);
        if (x.oom) return cs_error_set(err, CS_E_NOMEM, NULL);
        return cs_error_set(err, CS_E_BAD_REQUEST,
                            x.too_many ? "too many CSV rows" : "malformed CSV");
    }
    return 0;
}

int cx_read_file(const char *path, size_t max, cs_buf *b, cs_error *err)
{
    cs_buf_init(b, max);
    FILE *f = fopen(path, "rb");
    if (!f) return cs_error_set(err, CS_E_CONFIG, "cannot read %s", path);
    char chunk[8192];
    size_t k;
    int bad = 0;
    while (!bad && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
        bad = cs_buf_append(b, chunk, k);
    bad = bad || ferror(f);
    fclose(f);
    if (bad) {
        cs_buf_free(b);
        return cs_error_set(err, CS_E_CONFIG, "cannot read %s (too large?)", path);
    }
    return 0;
}

int cx_csv_load(const char *path, size_t max_rows, cx_csv *out, cs_error *err)
{
    cs_buf b;
    memset(out, 0, sizeof *out);
    if (cx_read_file(path, (size_t)4 << 20, &b, err)) return -1;
    int rc = cx_csv_parse(b.data ? b.data : "", b.len, max_rows, out, err);
    cs_buf_free(&b);
    return rc;
}

void cx_csv_free(cx_csv *c)
{
    for (size_t r = 0; r < c->nrows; r++) {
        for (size_t i = 0; i < c->ncols[r]; i++)
            cs_free(c->cells[r][i]);
        cs_free(c->cells[r]);
    }
    cs_free(c->cells);
    cs_free(c->ncols);
    memset(c, 0, sizeof *c);
}

/* Patterns of refusal reasons → Vietnamese; each row: up to 3 words that must all appear. */
static const struct {
    const char *all[3];
    const char *vi;
} reason_table[] = {
    {{"watermark", NULL, NULL}, "Ảnh có chữ, logo hoặc hình mờ (watermark)"},
    {{"image", "blur", NULL}, "Ảnh bị mờ"},
    {{"image", "resolution", NULL}, "Ảnh quá nhỏ, độ phân giải thấp"},
    {{"image", "white", NULL}, "Ảnh chính phải có nền trắng"},
    {{"image", NULL, NULL}, "Ảnh sản phẩm chưa đạt yêu cầu của sàn"},
    {{"counterfeit", NULL, NULL}, "Nghi là hàng giả, hàng nhái"},
    {{"fake", NULL, NULL}, "Nghi là hàng giả, hàng nhái"},
    {{"intellectual", NULL, NULL}, "Nghi vi phạm sở hữu trí tuệ/thương hiệu"},
    {{"trademark", NULL, NULL}, "Nghi vi phạm sở hữu trí tuệ/thương hiệu"},
    {{"brand", NULL, NULL}, "Thương hiệu chưa được chứng minh hoặc ghi sai"},
    {{"prohibited", NULL, NULL}, "Sản phẩm thuộc nhóm bị cấm đăng bán"},
    {{"restricted", NULL, NULL}, "Sản phẩm thuộc nhóm hạn chế, cần giấy phép"},
    {{"certificat", NULL, NULL}, "Thiếu giấy chứng nhận hoặc giấy phép"},
    {{"license", NULL, NULL}, "Thiếu giấy chứng nhận hoặc giấy phép"},
    {{"duplicate", NULL, NULL}, "Trùng với một sản phẩm đã đăng"},
    {{"category", NULL, NULL}, "Sai ngành hàng"},
    {{"attribute", NULL, NULL}, "Thiếu hoặc sai thuộc tính bắt buộc của ngành hàng"},
    {{"price", NULL, NULL}, "Giá bán không hợp lệ"},
    {{"weight", NULL, NULL}, "Cân nặng gói hàng không hợp lệ"},
    {{"dimension", NULL, NULL}, "Kích thước gói hàng không hợp lệ"},
    {{"package", NULL, NULL}, "Thông tin gói hàng không hợp lệ"},
    {{"title", "short", NULL}, "Tên sản phẩm quá ngắn"},
    {{"name", "short", NULL}, "Tên sản phẩm quá ngắn"},
    {{"title", "long", NULL}, "Tên sản phẩm quá dài"},
    {{"name", "long", NULL}, "Tên sản phẩm quá dài"},
    {{"title", NULL, NULL}, "Tên sản phẩm chưa đạt yêu cầu"},
    {{"description", NULL, NULL}, "Mô tả sản phẩm chưa đạt yêu cầu"},
    {{"stock", NULL, NULL}, "Số lượng tồn kho không hợp lệ"},
    {{"misleading", NULL, NULL}, "Thông tin gây hiểu nhầm"},
    {{"contact", NULL, NULL}, "Không được ghi số điện thoại hoặc thông tin liên hệ"},
};

const char *cx_reason_vi(const char *text)
{
    if (text && *text)
        for (size_t i = 0; i < sizeof reason_table / sizeof reason_table[0]; i++) {
            int all = 1;
            for (int k = 0; k < 3 && reason_table[i].all[k] && all; k++)
                all = strcasestr(text, reason_table[i].all[k]) != NULL;
            if (all) return reason_table[i].vi;
        }
    return text && *text ? "Sàn nêu lý do khác (xem chi tiết)" : "Sàn không nêu lý do";
}
