/* sandbox/ core: listeners (libmicrohttpd, a thread per connection, 127.0.0.1 unless the
 * options name another address), request parsing, faults, rate limits, counters and push
 * delivery (the HTTP POST of what each simulator built). It must never be a production peer.
 * The admin endpoints under /__sandbox/ are routed in sandbox/admin.c. */
#include "sandbox/sandbox_int.h"
#include "core/mem.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const sb_market_ops *const market_ops[SBX_NMARKETS] = {&sbx_shopee_ops, &sbx_lazada_ops,
                                                              &sbx_tiktok_ops, &sbx_assisted_ops};

const sb_market_ops *sbx_ops(int market)
{
    return market_ops[market];
}

#define SB_DEFAULT_BANNED "hàng giả,hàng nhái,fake,replica,ma túy,thuốc lá điện tử"
/* Used when neither a spec nor a category file is given: ids the simulators accept. They are
 * simulator ids, not real marketplace ids. */
#define SB_DEFAULT_CATEGORIES                                                                      \
    "shopee:100629;shopee:100630;shopee:100631;shopee:100632;shopee:100633;shopee:100634;"         \
    "shopee:100635;shopee:100636;shopee:100637;"                                                   \
    "lazada:10001960;lazada:10001961;lazada:10001962;lazada:10001963;lazada:10001964;"             \
    "lazada:10001965;lazada:10001966;lazada:10001967;lazada:10001968;"                             \
    "tiktok:600001;tiktok:600002;tiktok:600003;tiktok:600004;tiktok:600005;tiktok:600006;"         \
    "tiktok:600007;tiktok:600008;tiktok:600009"

void sbx_options_default(sbx_options *o)
{
    memset(o, 0, sizeof *o);
    o->auto_approve = 1;
    o->review_delay_ms = 2000;
    o->seed = 1;
    o->max_items = 20000;
    o->name_min = 10;
    o->shopee_partner_id = 2001887;
    o->shopee_partner_key = "sandbox-shopee-partner-key";
    o->lazada_app_key = "100001";
    o->lazada_app_secret = "sandbox-lazada-app-secret";
    o->tiktok_app_key = "sbx29a39d";
    o->tiktok_app_secret = "sandbox-tiktok-app-secret";
}

/* ---- small helpers --------------------------------------------------------------------- */
long long sbx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int sbx_parse_ll(const char *s, long long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = v;
    return 0;
}

long long sbx_ll(const char *s)
{
    long long v = 0;
    return sbx_parse_ll(s, &v) ? 0 : v;
}

size_t sbx_utf8_len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

const char *sbx_image_kind(const unsigned char *p, size_t n, int *w, int *h)
{
    *w = *h = 0;
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 24 && !memcmp(p, png, 8)) {
        *w = (int)((unsigned)p[16] << 24 | (unsigned)p[17] << 16 | (unsigned)p[18] << 8 | p[19]);
        *h = (int)((unsigned)p[20] << 24 | (unsigned)p[21] << 16 | (unsigned)p[22] << 8 | p[23]);
        return "png";
    }
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        /* Walk the markers to the first start-of-frame for the size. */
        size_t i = 2;
        while (i + 9 < n && p[i] == 0xFF) {
            unsigned char m = p[i + 1];
            size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                *h = (int)((unsigned)p[i + 5] << 8 | p[i + 6]);
                *w = (int)((unsigned)p[i + 7] << 8 | p[i + 8]);
                break;
            }
            if (len < 2) break;
            i += 2 + len;
        }
        return "jpg";
    }
    return NULL;
}

void sbx_base_url(const sbx_sandbox *sb, int market, char *out, size_t n)
{
    snprintf(out, n, "http://%s:%u", sb->host, sb->port[market]);
}

const char *sbx_param(const sb_req *rq, const char *key)
{
    for (int pass = 1; pass >= 0; pass--)
        for (size_t i = 0; i < rq->nparams; i++)
            if (rq->params[i].from_query == pass && !strcmp(rq->params[i].key, key))
                return rq->params[i].value;
    return NULL;
}

const char *sbx_query(const sb_req *rq, const char *key)
{
    for (size_t i = 0; i < rq->nparams; i++)
        if (rq->params[i].from_query && !strcmp(rq->params[i].key, key)) return rq->params[i].value;
    return NULL;
}

const char *sbx_header(const sb_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const sb_part *sbx_part(const sb_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nparts; i++)
        if (!strcmp(rq->parts[i].name, name)) return &rq->parts[i];
    return NULL;
}

void sbx_reply_json(sb_resp *rs, int status, json_t *j)
{
    cs_buf_reset(&rs->body);
    rs->ctype = "application/json";
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) {
        rs->status = 500;
        cs_buf_puts(&rs->body, "{\"error\":\"sandbox out of memory\"}");
        return;
    }
    rs->status = status;
    cs_buf_puts(&rs->body, s);
    free(s);
}

void sbx_reply_html(sb_resp *rs, int status, const char *html)
{
    cs_buf_reset(&rs->body);
    rs->status = status;
    rs->ctype = "text/html; charset=utf-8";
    cs_buf_puts(&rs->body, html);
}

void sbx_redirect(sb_resp *rs, const char *url)
{
    cs_free(rs->location);
    rs->location = cs_strdup(url);
    sbx_reply_html(rs, 302, "<!doctype html><p>Đang chuyển hướng…</p>");
}

void sbx_html_escape(cs_buf *b, const char *s)
{
    cs_buf_put_escaped(b, s);
}

void sbx_url_escape(cs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            cs_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            cs_buf_append(b, e, 3);
        }
    }
}

void sbx_auth_page(sb_resp *rs, const char *marketplace_name, const char *action,
                   const char *const *hidden)
{
    cs_buf b;
    cs_buf_init(&b, 64 * 1024);
    cs_buf_puts(&b, "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<title>");
    sbx_html_escape(&b, marketplace_name);
    cs_buf_puts(&b,
                " (mô phỏng) — Cấp quyền cho ứng dụng</title>"
                "<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}"
                ".note{background:#fff3cd;padding:.6em;border-radius:4px}"
                "button{font-size:1.1em;padding:.5em 1.2em;margin:.3em}</style></head><body>"
                "<p class=\"note\">Đây là sàn <b>mô phỏng</b> để tập huấn, không phải ");
    sbx_html_escape(&b, marketplace_name);
    cs_buf_puts(&b, " thật. Không nhập mật khẩu thật ở đây.</p><h1>");
    sbx_html_escape(&b, marketplace_name);
    cs_buf_puts(&b, "</h1><p>Ứng dụng <b>Chợ Số</b> (Tỉnh đoàn Thanh Hóa) xin quyền quản lý sản "
                    "phẩm của cửa hàng: đăng sản phẩm mới, cập nhật thông tin và xem trạng thái "
                    "duyệt.</p><p>Chủ hộ kiểm tra đúng cửa hàng của mình rồi bấm "
                    "<b>Đồng ý cấp quyền</b>.</p><form method=\"post\" action=\"");
    sbx_html_escape(&b, action);
    cs_buf_puts(&b, "\">");
    for (size_t i = 0; hidden && hidden[i] && hidden[i + 1]; i += 2) {
        cs_buf_puts(&b, "<input type=\"hidden\" name=\"");
        sbx_html_escape(&b, hidden[i]);
        cs_buf_puts(&b, "\" value=\"");
        sbx_html_escape(&b, hidden[i + 1]);
        cs_buf_puts(&b, "\">");
    }
    cs_buf_puts(&b,
                "<p><label>Mã cửa hàng (để trống nếu là cửa hàng mới):<br>"
                "<input name=\"shop_id\" inputmode=\"numeric\" autocomplete=\"off\"></label></p>"
                "<button name=\"decision\" value=\"approve\">Đồng ý cấp quyền</button>"
                "<button name=\"decision\" value=\"deny\">Từ chối</button></form>"
                "</body></html>");
    sbx_reply_html(rs, 200, b.data ? b.data : "");
    cs_buf_free(&b);
}

/* ---- request parsing -------------------------------------------------------------------- */
static int add_param(sb_req *rq, const char *k, size_t klen, const char *v, size_t vlen, int q)
{
    if (rq->nparams >= SB_MAX_PARAMS) return -1;
    char *key = cs_strndup(k, klen), *val = cs_strndup(v, vlen);
    if (!key || !val) {
        cs_free(key);
        cs_free(val);
        return -1;
    }
    rq->params[rq->nparams++] = (sb_kv){key, val, q};
    return 0;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    sb_req *rq = cls;
    if (!key) return MHD_YES;
    const char *v = value ? value : "";
    add_param(rq, key, strlen(key), v, strlen(v), 1);
    return MHD_YES;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode application/x-www-form-urlencoded text in place ('+' is a space); returns the length. */
static size_t form_decode(char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            s[j++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            s[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            s[j++] = s[i];
        }
    }
    return j;
}

static void parse_form(sb_req *rq)
{
    char *copy = cs_strndup(rq->body.data ? rq->body.data : "", rq->body.len);
    if (!copy) return;
    char *save = NULL;
    for (char *pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        char *val = eq ? eq + 1 : pair + strlen(pair);
        size_t klen = eq ? (size_t)(eq - pair) : strlen(pair);
        klen = form_decode(pair, klen);
        size_t vlen = form_decode(val, strlen(val));
        add_param(rq, pair, klen, val, vlen, 0);
    }
    cs_free(copy);
}

/* Value of attribute `attr` (e.g. name) in a header line like `form-data; name="x"`. */
static void header_attr(const char *line, size_t n, const char *attr, char *out, size_t outsz)
{
    out[0] = '\0';
    size_t al = strlen(attr);
    for (size_t i = 0; i + al + 1 < n; i++) {
        if ((i == 0 || line[i - 1] == ' ' || line[i - 1] == ';') &&
            !strncasecmp(line + i, attr, al) && line[i + al] == '=') {
            const char *v = line + i + al + 1;
            const char *end = line + n;
            size_t k = 0;
            if (*v == '"') {
                v++;
                while (v < end && *v != '"' && k + 1 < outsz)
                    out[k++] = *v++;
            } else {
                while (v < end && *v != ';' && *v != ' ' && k + 1 < outsz)
                    out[k++] = *v++;
            }
            out[k] = '\0';
            return;
        }
    }
}

static void parse_multipart(sb_req *rq, const char *ctype)
{
    char bound[200];
    const char *b = strcasestr(ctype, "boundary=");
    if (!b) return;
    header_attr(b, strlen(b), "boundary", bound, sizeof bound);
    if (!bound[0]) return;
    char delim[210];
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", bound);
    const unsigned char *data = (const unsigned char *)rq->body.data;
    const unsigned char *end = data + rq->body.len;
    /* The first delimiter may sit at the very start (no preceding CRLF). */
    const unsigned char *p = memmem(data, rq->body.len, delim + 2, (size_t)dl - 2);
    while (p && rq->nparts < SB_MAX_PARTS) {
        p += dl - 2;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') p += 2;
        const unsigned char *he = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!he) break;
        sb_part *part = &rq->parts[rq->nparts];
        memset(part, 0, sizeof *part);
        for (const unsigned char *l = p; l < he;) {
            const unsigned char *le = memmem(l, (size_t)(he - l), "\r\n", 2);
            if (!le) le = he;
            size_t ll = (size_t)(le - l);
            if (ll > 20 && !strncasecmp((const char *)l, "Content-Disposition:", 20)) {
                header_attr((const char *)l, ll, "name", part->name, sizeof part->name);
                header_attr((const char *)l, ll, "filename", part->filename, sizeof part->filename);
            } else if (ll > 13 && !strncasecmp((const char *)l, "Content-Type:", 13)) {
                size_t k = 13;
                while (k < ll && l[k] == ' ')
                    k++;
                snprintf(part->ctype, sizeof part->ctype, "%.*s", (int)(ll - k),
                         (const char *)l + k);
            }
            l = le + 2;
        }
        const unsigned char *content = he + 4;
        const unsigned char *next = memmem(content, (size_t)(end - content), delim, (size_t)dl);
        if (!next) break;
        part->data = content;
        part->len = (size_t)(next - content);
        if (part->name[0]) {
            rq->nparts++;
            if (!part->filename[0])
                add_param(rq, part->name, strlen(part->name), (const char *)content, part->len, 0);
        }
        p = next + 2;
    }
}

/* ---- faults, throttling, counters --------------------------------------------------------- */
/* Wait ms unless the sandbox stops first. Caller does not hold sb->mu. */
static void sb_wait(sbx_sandbox *sb, long ms)
{
    if (ms <= 0) return;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sb->mu);
    while (!sb->stopping)
        if (pthread_cond_timedwait(&sb->cv, &sb->mu, &dl) == ETIMEDOUT) break;
    pthread_mutex_unlock(&sb->mu);
}

static int pick_fault(sbx_sandbox *sb, int m, int create)
{
    sb_faults *f = &sb->faults[m];
    int k = SB_F_NONE;
    if (f->inext < f->nnext) {
        /* A queued "created but lost" waits for the next create call, so a test can queue it
         * before a flow that looks the SKU up and uploads images first. */
        int head = f->next[f->inext];
        if (head >= SB_F_LOST && !create) return SB_F_NONE;
        k = head;
        if (++f->inext == f->nnext) f->inext = f->nnext = 0;
    } else {
        static const int order[] = {SB_F_5XX, SB_F_429, SB_F_TIMEOUT, SB_F_MALFORMED, SB_F_DROP};
        for (size_t i = 0; i < sizeof order / sizeof order[0] && k == SB_F_NONE; i++)
            if (f->rate[order[i]] > 0 && sbx_rand01(sb) < f->rate[order[i]]) k = order[i];
        if (k == SB_F_NONE && create && f->rate[SB_F_LOST] > 0 &&
            sbx_rand01(sb) < f->rate[SB_F_LOST]) {
            static const int modes[] = {SB_F_LOST, SB_F_LOST_HANG, SB_F_LOST_MALFORMED};
            k = modes[sbx_rand(sb) % 3];
        }
    }
    if (k != SB_F_NONE) f->injected[k]++;
    return k;
}

/* Token bucket per simulator: capacity max(1, rate), refilled at rate per second. */
static int bucket_take(sbx_sandbox *sb, int m)
{
    double rate = sb->opt.rate;
    if (rate <= 0) return 1;
    double cap = rate > 1 ? rate : 1;
    long long now = mono_ms();
    if (!sb->bucket_ms[m]) {
        sb->bucket[m] = cap;
        sb->bucket_ms[m] = now;
    }
    sb->bucket[m] += (double)(now - sb->bucket_ms[m]) * rate / 1000.0;
    if (sb->bucket[m] > cap) sb->bucket[m] = cap;
    sb->bucket_ms[m] = now;
    if (sb->bucket[m] >= 1) {
        sb->bucket[m] -= 1;
        return 1;
    }
    return 0;
}

static void stat_add(sbx_sandbox *sb, int m, const char *path, const char *status)
{
    for (size_t i = 0; i < sb->nreqstats; i++) {
        sb_reqstat *s = &sb->reqstats[i];
        if (s->market == m && !strcmp(s->path, path) && !strcmp(s->status, status)) {
            s->count++;
            return;
        }
    }
    if (sb->nreqstats >= SB_REQSTAT_MAX) {
        path = "(other)";
        for (size_t i = 0; i < sb->nreqstats; i++)
            if (sb->reqstats[i].market == m && !strcmp(sb->reqstats[i].path, path)) {
                sb->reqstats[i].count++;
                return;
            }
        sb->nreqstats--; /* overwrite the last slot: the table never grows past its cap */
    }
    sb_reqstat *s = &sb->reqstats[sb->nreqstats++];
    s->market = m;
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->status, sizeof s->status, "%s", status);
    s->count = 1;
}

/* A body that is not JSON: the first half of the real answer, or of a plausible envelope. */
static void garbage(sb_req *rq, sb_resp *rs)
{
    cs_buf g;
    cs_buf_init(&g, SB_BODY_MAX);
    if (rs->body.len > 8 && rs->body.data[0] == '{')
        cs_buf_append(&g, rs->body.data, rs->body.len / 2);
    else
        cs_buf_printf(&g, "{\"request_id\":\"%s\",\"code\":\"0\",\"data\":{\"item_i",
                      rq->request_id);
    cs_buf_reset(&rs->body);
    cs_buf_append(&rs->body, g.data ? g.data : "{", g.len ? g.len : 1);
    cs_buf_free(&g);
    rs->status = 200;
    rs->ctype = "application/json";
    cs_free(rs->location);
    rs->location = NULL;
}

/* ---- the request pipeline ------------------------------------------------------------------ */
static enum MHD_Result send_resp(struct MHD_Connection *c, const sb_resp *rs)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        rs->body.len, rs->body.data ? rs->body.data : (char *)"", MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rs->ctype ? rs->ctype : "application/json");
    if (rs->location) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rs->location);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void resp_init(sb_resp *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->status = 500;
    cs_buf_init(&rs->body, 16u << 20);
}

static void resp_free(sb_resp *rs)
{
    cs_buf_free(&rs->body);
    cs_free(rs->location);
}

static enum MHD_Result process(sb_req *rq)
{
    sbx_sandbox *sb = rq->sb;
    int m = rq->market;
    const sb_market_ops *ops = market_ops[m];
    sb_resp rs;
    resp_init(&rs);
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_arg, rq);
    const char *ct = sbx_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        parse_form(rq);
    else if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        rq->multipart = 1;
        parse_multipart(rq, ct);
    }
    rq->now_ms = sbx_now_ms();

    if (!strncmp(rq->path, "/__sandbox/", 11)) {
        sbx_admin(rq, &rs);
        enum MHD_Result r = send_resp(rq->conn, &rs);
        resp_free(&rs);
        return r;
    }

    char np[96];
    ops->norm_path(rq->path, np, sizeof np);
    pthread_mutex_lock(&sb->mu);
    sbx_rand_hex(sb, rq->request_id, 16);
    long latency = sb->faults[m].latency_ms;
    pthread_mutex_unlock(&sb->mu);
    sb_wait(sb, latency);

    int action = 0; /* 0 respond, 1 drop, 2 hang then drop */
    pthread_mutex_lock(&sb->mu);
    long hang = sb->faults[m].hang_ms;
    if (rq->too_big) {
        sbx_reply_json(&rs, 413,
                       json_pack("{s:s,s:s,s:s}", "request_id", rq->request_id, "error",
                                 "request_entity_too_large", "message",
                                 "Request body is too large."));
    } else if (!bucket_take(sb, m)) {
        sb->throttled[m]++;
        ops->throttle(rq, &rs);
    } else {
        int f = pick_fault(sb, m, ops->is_create(rq->method, rq->path));
        switch (f) {
        case SB_F_5XX:
            ops->server_error(rq, &rs);
            break;
        case SB_F_429:
            ops->throttle(rq, &rs);
            break;
        case SB_F_TIMEOUT:
            action = 2;
            break;
        case SB_F_MALFORMED:
            garbage(rq, &rs);
            break;
        case SB_F_DROP:
            action = 1;
            break;
        default:
            sbx_review_due(sb, rq->now_ms);
            ops->handle(rq, &rs);
            if (f == SB_F_LOST)
                action = 1;
            else if (f == SB_F_LOST_HANG)
                action = 2;
            else if (f == SB_F_LOST_MALFORMED)
                garbage(rq, &rs);
        }
    }
    char st[12];
    if (action == 1)
        snprintf(st, sizeof st, "drop");
    else if (action == 2)
        snprintf(st, sizeof st, "timeout");
    else
        snprintf(st, sizeof st, "%d", rs.status);
    stat_add(sb, m, np, st);
    pthread_mutex_unlock(&sb->mu);

    enum MHD_Result r = MHD_NO; /* MHD_NO closes the connection without an answer */
    if (action == 2)
        sb_wait(sb, hang);
    else if (action == 0)
        r = send_resp(rq->conn, &rs);
    resp_free(&rs);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **ctx)
{
    (void)version;
    struct sb_listener *L = cls;
    sb_req *rq = *ctx;
    if (!rq) {
        rq = cs_calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->sb = L->sb;
        rq->market = L->market;
        rq->conn = conn;
        rq->method = cs_strdup(method);
        rq->path = cs_strndup(url, 2048);
        size_t cap = strstr(url, "upload") ? SB_UPLOAD_MAX : SB_BODY_MAX;
        cs_buf_init(&rq->body, cap);
        *ctx = rq;
        if (!rq->method || !rq->path) return MHD_NO;
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > cap) rq->too_big = 1; /* answered once read */
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rq->too_big && cs_buf_append(&rq->body, upload_data, *upload_data_size))
            rq->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->answered) return MHD_YES;
    rq->answered = 1;
    return process(rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    sb_req *rq = *ctx;
    if (!rq) return;
    for (size_t i = 0; i < rq->nparams; i++) {
        cs_free(rq->params[i].key);
        cs_free(rq->params[i].value);
    }
    cs_buf_free(&rq->body);
    cs_free(rq->method);
    cs_free(rq->path);
    cs_free(rq);
    *ctx = NULL;
}

/* ---- push delivery (reviewer thread) ------------------------------------------------------- */
static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

static int deliver(const sb_push *p)
{
    CURL *c = curl_easy_init();
    if (!c) return -1;
    struct curl_slist *h = NULL;
    char auth[100];
    snprintf(auth, sizeof auth, "Authorization: %s", p->auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (h) h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK && status >= 200 && status < 300 ? 0 : -1;
}

static void *reviewer_main(void *arg)
{
    sbx_sandbox *sb = arg;
    pthread_mutex_lock(&sb->mu);
    while (!sb->stopping) {
        long long now = sbx_now_ms();
        sbx_review_due(sb, now);
        /* Take one due push, deliver it unlocked, then come back. */
        for (size_t i = 0; i < sb->npush; i++) {
            if (sb->push[i].next_ms > now) continue;
            sb_push p = sb->push[i];
            memmove(&sb->push[i], &sb->push[i + 1], (sb->npush - i - 1) * sizeof p);
            sb->npush--;
            pthread_mutex_unlock(&sb->mu);
            int ok = deliver(&p) == 0;
            pthread_mutex_lock(&sb->mu);
            /* Like the marketplaces, retry a refused push a few times with a growing delay. */
            if (ok) {
                sb->pushes_sent[p.market]++;
            } else if (++p.attempts < 3 && sb->npush < SB_PUSH_MAX && !sb->stopping) {
                p.next_ms = sbx_now_ms() + 1000LL * p.attempts;
                sb->push[sb->npush++] = p;
                p.url = p.body = NULL;
            } else {
                sb->pushes_failed[p.market]++;
            }
            cs_free(p.url);
            cs_free(p.body);
            break;
        }
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 50 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sb->cv, &sb->mu, &dl);
    }
    pthread_mutex_unlock(&sb->mu);
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------ */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int dup_opt(const char *s, char **slot, const char **view)
{
    *slot = cs_strdup(s ? s : "");
    if (!*slot) return -1;
    *view = *slot;
    return 0;
}

int sbx_start(const sbx_options *o, sbx_sandbox **out, cs_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    sbx_sandbox *sb = cs_calloc(1, sizeof *sb);
    if (!sb) return cs_error_set(err, CS_E_NOMEM, NULL);
    pthread_mutex_init(&sb->mu, NULL);
    pthread_cond_init(&sb->cv, NULL);
    sb->opt = *o;
    sb->opt.address = NULL;
    if (sb->opt.max_items <= 0) sb->opt.max_items = 20000;
    if (dup_opt(o->shopee_partner_key, &sb->s_partner_key, &sb->opt.shopee_partner_key) ||
        dup_opt(o->lazada_app_key, &sb->s_laz_key, &sb->opt.lazada_app_key) ||
        dup_opt(o->lazada_app_secret, &sb->s_laz_secret, &sb->opt.lazada_app_secret) ||
        dup_opt(o->tiktok_app_key, &sb->s_tt_key, &sb->opt.tiktok_app_key) ||
        dup_opt(o->tiktok_app_secret, &sb->s_tt_secret, &sb->opt.tiktok_app_secret)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto fail;
    }
    sb->opt.categories = sb->opt.category_file = sb->opt.banned_words = NULL;
    sb->opt.shopee_push_url = sb->opt.lazada_push_url = sb->opt.tiktok_redirect_url = NULL;
    sb->opt.tiktok_push_url = NULL;
    if ((o->tiktok_redirect_url && *o->tiktok_redirect_url &&
         !(sb->tiktok_redirect_url = cs_strdup(o->tiktok_redirect_url))) ||
        (o->shopee_push_url && *o->shopee_push_url &&
         !(sb->shopee_push_url = cs_strdup(o->shopee_push_url))) ||
        (o->lazada_push_url && *o->lazada_push_url &&
         !(sb->lazada_push_url = cs_strdup(o->lazada_push_url))) ||
        (o->tiktok_push_url && *o->tiktok_push_url &&
         !(sb->tiktok_push_url = cs_strdup(o->tiktok_push_url))) ||
        sbx_banned_set(sb, o->banned_words ? o->banned_words : SB_DEFAULT_BANNED)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto fail;
    }
    if (o->categories && *o->categories) {
        if (sbx_categories_parse(sb, o->categories, err)) goto fail;
    } else {
        int r = o->category_file && *o->category_file
                    ? sbx_categories_load_csv(sb, o->category_file, err)
                    : 1;
        if (r < 0) goto fail;
        if (r > 0 && sbx_categories_parse(sb, SB_DEFAULT_CATEGORIES, err)) goto fail;
    }
    sbx_state_reset(sb);

    /* Loopback unless told otherwise: only a container network has a reason to ask. */
    struct in_addr addr = {htonl(INADDR_LOOPBACK)};
    const char *a = o->address && *o->address ? o->address : "127.0.0.1";
    if (inet_pton(AF_INET, a, &addr) != 1) {
        cs_error_set(err, CS_E_CONFIG, "address '%.60s' is not an IPv4 address", a);
        goto fail;
    }
    snprintf(sb->host, sizeof sb->host, "%s", addr.s_addr == htonl(INADDR_ANY) ? "127.0.0.1" : a);
    for (int m = 0; m < SBX_NMARKETS; m++) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)o->port[m]);
        sa.sin_addr = addr;
        sb->listener[m].sb = sb;
        sb->listener[m].market = m;
        sb->d[m] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)o->port[m],
            NULL, NULL, on_request, &sb->listener[m], MHD_OPTION_SOCK_ADDR, &sa,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)512, MHD_OPTION_END);
        if (!sb->d[m]) {
            cs_error_set(err, CS_E_UNAVAILABLE, "%s simulator cannot listen on %s:%u",
                         sbx_market_code(m), a, o->port[m]);
            goto fail;
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(sb->d[m], MHD_DAEMON_INFO_BIND_PORT);
        sb->port[m] = di ? di->port : o->port[m];
    }
    if (pthread_create(&sb->reviewer, NULL, reviewer_main, sb)) {
        cs_error_set(err, CS_E_INTERNAL, "cannot start the review thread");
        goto fail;
    }
    sb->reviewer_started = 1;
    *out = sb;
    return 0;
fail:
    sbx_stop(sb);
    return -1;
}

void sbx_stop(sbx_sandbox *sb)
{
    if (!sb) return;
    pthread_mutex_lock(&sb->mu);
    sb->stopping = 1;
    pthread_cond_broadcast(&sb->cv);
    pthread_mutex_unlock(&sb->mu);
    for (int m = 0; m < SBX_NMARKETS; m++)
        if (sb->d[m]) MHD_stop_daemon(sb->d[m]);
    if (sb->reviewer_started) pthread_join(sb->reviewer, NULL);
    sbx_state_free(sb);
    cs_free(sb->s_partner_key);
    cs_free(sb->s_laz_key);
    cs_free(sb->s_laz_secret);
    cs_free(sb->s_tt_key);
    cs_free(sb->s_tt_secret);
    cs_free(sb->shopee_push_url);
    cs_free(sb->takedown_refusal);
    cs_free(sb->lazada_push_url);
    cs_free(sb->tiktok_push_url);
    cs_free(sb->tiktok_redirect_url);
    pthread_mutex_destroy(&sb->mu);
    pthread_cond_destroy(&sb->cv);
    cs_free(sb);
}

unsigned sbx_port(const sbx_sandbox *sb, sbx_market m)
{
    return m < SBX_NMARKETS ? sb->port[m] : 0;
}

int sbx_url(const sbx_sandbox *sb, sbx_market m, char *out, size_t n)
{
    if (m >= SBX_NMARKETS) return -1;
    int w =
        snprintf(out, n, "http://%s:%u%s", sb->host, sb->port[m], m == SBX_LAZADA ? "/rest" : "");
    return w < 0 || (size_t)w >= n ? -1 : 0;
}
