/* connectors/sandbox core: listeners (libmicrohttpd, a thread per connection, 127.0.0.1 only),
 * request parsing, faults, rate limits, counters, admin endpoints, push delivery and
 * `choso sandbox`. It must never listen beyond loopback nor be used as a production peer.
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
 *   GET  /__sandbox/items          ?marketplace=&sku= → {"items":[{…}]} (at most 1000)
 *   GET|POST /__sandbox/config     {"auto_approve","review_delay_ms","token_ttl","refresh_ttl",
 *                                   "rate","name_min","banned_words","categories",
 *                                   "shopee_push_url","lazada_push_url","tiktok_redirect_url"}
 *   GET|POST /__sandbox/pages      {"marketplace":"postmart"|"voso","kind":"shop"|"product",
 *                                   "id","state":"published"|"removed"|"gone","title"} → {"url"}
 */
#include "connectors/sandbox/sandbox_int.h"
#include "core/config.h"
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

static const sb_market_ops *const market_ops[CX_SB_NMARKETS] = {
    &cx_sb_shopee_ops, &cx_sb_lazada_ops, &cx_sb_tiktok_ops, &cx_sb_assisted_ops};

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

void cx_sandbox_options_default(cx_sandbox_options *o)
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
long long cx_sb_now_ms(void)
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

int cx_sb_parse_ll(const char *s, long long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = v;
    return 0;
}

long long cx_sb_ll(const char *s)
{
    long long v = 0;
    return cx_sb_parse_ll(s, &v) ? 0 : v;
}

size_t cx_sb_utf8_len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

const char *cx_sb_image_kind(const unsigned char *p, size_t n, int *w, int *h)
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

void cx_sb_base_url(const cx_sandbox *sb, int market, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%u", sb->port[market]);
}

const char *cx_sb_param(const sb_req *rq, const char *key)
{
    for (int pass = 1; pass >= 0; pass--)
        for (size_t i = 0; i < rq->nparams; i++)
            if (rq->params[i].from_query == pass && !strcmp(rq->params[i].key, key))
                return rq->params[i].value;
    return NULL;
}

const char *cx_sb_query(const sb_req *rq, const char *key)
{
    for (size_t i = 0; i < rq->nparams; i++)
        if (rq->params[i].from_query && !strcmp(rq->params[i].key, key)) return rq->params[i].value;
    return NULL;
}

const char *cx_sb_header(const sb_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const sb_part *cx_sb_part(const sb_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nparts; i++)
        if (!strcmp(rq->parts[i].name, name)) return &rq->parts[i];
    return NULL;
}

void cx_sb_reply_json(sb_resp *rs, int status, json_t *j)
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

void cx_sb_reply_html(sb_resp *rs, int status, const char *html)
{
    cs_buf_reset(&rs->body);
    rs->status = status;
    rs->ctype = "text/html; charset=utf-8";
    cs_buf_puts(&rs->body, html);
}

void cx_sb_redirect(sb_resp *rs, const char *url)
{
    cs_free(rs->location);
    rs->location = cs_strdup(url);
    cx_sb_reply_html(rs, 302, "<!doctype html><p>Đang chuyển hướng…</p>");
}

void cx_sb_html_escape(cs_buf *b, const char *s)
{
    cs_buf_put_escaped(b, s);
}

void cx_sb_url_escape(cs_buf *b, const char *s)
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

void cx_sb_auth_page(sb_resp *rs, const char *marketplace_name, const char *action,
                     const char *const *hidden)
{
    cs_buf b;
    cs_buf_init(&b, 64 * 1024);
    cs_buf_puts(&b, "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<title>");
    cx_sb_html_escape(&b, marketplace_name);
    cs_buf_puts(&b,
                " (mô phỏng) — Cấp quyền cho ứng dụng</title>"
                "<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}"
                ".note{background:#fff3cd;padding:.6em;border-radius:4px}"
                "button{font-size:1.1em;padding:.5em 1.2em;margin:.3em}</style></head><body>"
                "<p class=\"note\">Đây là sàn <b>mô phỏng</b> để tập huấn, không phải ");
    cx_sb_html_escape(&b, marketplace_name);
    cs_buf_puts(&b, " thật. Không nhập mật khẩu thật ở đây.</p><h1>");
    cx_sb_html_escape(&b, marketplace_name);
    cs_buf_puts(&b, "</h1><p>Ứng dụng <b>Chợ Số</b> (Tỉnh đoàn Thanh Hóa) xin quyền quản lý sản "
                    "phẩm của cửa hàng: đăng sản phẩm mới, cập nhật thông tin và xem trạng thái "
                    "duyệt.</p><p>Chủ hộ kiểm tra đúng cửa hàng của mình rồi bấm "
                    "<b>Đồng ý cấp quyền</b>.</p><form method=\"post\" action=\"");
    cx_sb_html_escape(&b, action);
    cs_buf_puts(&b, "\">");
    for (size_t i = 0; hidden && hidden[i] && hidden[i + 1]; i += 2) {
        cs_buf_puts(&b, "<input type=\"hidden\" name=\"");
        cx_sb_html_escape(&b, hidden[i]);
        cs_buf_puts(&b, "\" value=\"");
        cx_sb_html_escape(&b, hidden[i + 1]);
        cs_buf_puts(&b, "\">");
    }
    cs_buf_puts(&b,
                "<p><label>Mã cửa hàng (để trống nếu là cửa hàng mới):<br>"
                "<input name=\"shop_id\" inputmode=\"numeric\" autocomplete=\"off\"></label></p>"
                "<button name=\"decision\" value=\"approve\">Đồng ý cấp quyền</button>"
                "<button name=\"decision\" value=\"deny\">Từ chối</button></form>"
                "</body></html>");
    cx_sb_reply_html(rs, 200, b.data ? b.data : "");
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
static void sb_wait(cx_sandbox *sb, long ms)
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

static int pick_fault(cx_sandbox *sb, int m, int create)
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
            if (f->rate[order[i]] > 0 && cx_sb_rand01(sb) < f->rate[order[i]]) k = order[i];
        if (k == SB_F_NONE && create && f->rate[SB_F_LOST] > 0 &&
            cx_sb_rand01(sb) < f->rate[SB_F_LOST]) {
            static const int modes[] = {SB_F_LOST, SB_F_LOST_HANG, SB_F_LOST_MALFORMED};
            k = modes[cx_sb_rand(sb) % 3];
        }
    }
    if (k != SB_F_NONE) f->injected[k]++;
    return k;
}

/* Token bucket per simulator: capacity max(1, rate), refilled at rate per second. */
static int bucket_take(cx_sandbox *sb, int m)
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

static void stat_add(cx_sandbox *sb, int m, const char *path, const char *status)
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

/* ---- admin ------------------------------------------------------------------------------- */
static json_t *faults_json(const sb_faults *f)
{
    json_t *next = json_array(), *inj = json_object();
    for (size_t i = f->inext; i < f->nnext; i++)
        json_array_append_new(next, json_string(cx_sb_fault_name(f->next[i])));
    for (int k = 1; k < SB_F_N; k++)
        json_object_set_new(inj, cx_sb_fault_name(k), json_integer(f->injected[k]));
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
static json_t *stats_json(cx_sandbox *sb)
{
    json_t *root = json_object();
    if (!root) return NULL;
    long long dup_total = 0;
    for (int m = 0; m < CX_SB_NMARKETS; m++) {
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
            json_object_set_new(inj, cx_sb_fault_name(k), json_integer(sb->faults[m].injected[k]));
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
        if (m == CX_SB_ASSISTED)
            json_object_set_new(o, "pages", json_integer((json_int_t)sb->npages));
        json_object_set_new(root, cx_sb_market_code(m), o);
    }
    json_object_set_new(root, "duplicate_skus", json_integer(dup_total));
    return root;
}

json_t *cx_sandbox_stats(cx_sandbox *sb)
{
    pthread_mutex_lock(&sb->mu);
    json_t *j = stats_json(sb);
    pthread_mutex_unlock(&sb->mu);
    return j;
}

static void admin_error(sb_resp *rs, int status, const char *msg)
{
    cx_sb_reply_json(rs, status, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* Resolve "marketplace" of an admin body: the listener's own when absent; -2 for "all". */
static int admin_market(const sb_req *rq, json_t *body, int allow_all)
{
    const char *code = json_string_value(json_object_get(body, "marketplace"));
    if (!code) code = cx_sb_query(rq, "marketplace");
    if (!code) return rq->market;
    if (allow_all && !strcmp(code, "all")) return -2;
    return cx_sb_market_from_code(code);
}

static int set_faults(cx_sandbox *sb, sb_faults *f, json_t *body, char *why, size_t whysz)
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
                if (cx_sb_fault_from_name(json_string_value(e)) < 0) {
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
                cx_sb_fault_from_name(json_string_value(e));
        } else {
            for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
                if (!strcmp(key, rates[i].key)) f->rate[rates[i].fault] = json_number_value(v);
        }
    }
    return 0;
}

static json_t *config_json(cx_sandbox *sb)
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
                                              cx_sb_market_code(sb->cats[i].market), "id",
                                              sb->cats[i].id, "attributes", a));
    }
    return json_pack(
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

static int set_config(cx_sandbox *sb, json_t *body, char *why, size_t whysz)
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
                bad = cx_sb_banned_set(sb, json_string_value(v));
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
                if (!bad) bad = cx_sb_banned_set(sb, b.data ? b.data : "");
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
                if (cx_sb_categories_parse(sb, json_string_value(v), &err)) {
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
    return json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "marketplace",
                     cx_sb_market_code(it->market), "item_id", (json_int_t)it->item_id, "sku",
                     it->sku, "status", state_name(it->state), "shop_id", it->shop_id, "name",
                     it->name, "category", it->category, "reason",
                     it->state == SB_IT_REJECTED ? it->reason : "");
}

static void admin(sb_req *rq, sb_resp *rs)
{
    cx_sandbox *sb = rq->sb;
    const char *ep = rq->path + strlen("/__sandbox/");
    int post = !strcmp(rq->method, "POST");
    json_t *body = NULL;
    char why[160] = "";
    if (post && rq->body.len) {
        json_error_t je;
        body = json_loadb(rq->body.data, rq->body.len, 0, &je);
        if (!json_is_object(body)) {
            json_decref(body);
            admin_error(rs, 400, "body must be a JSON object");
            return;
        }
    }
    if (!body) body = json_object();
    pthread_mutex_lock(&sb->mu);
    long long now = cx_sb_now_ms();
    if (!strcmp(ep, "stats")) {
        cx_sb_review_due(sb, now);
        cx_sb_reply_json(rs, 200, stats_json(sb));
    } else if (!strcmp(ep, "faults")) {
        int m = admin_market(rq, body, 1);
        if (post && m == -1) {
            admin_error(rs, 400, "unknown marketplace");
        } else if (post) {
            int lo = m == -2 ? 0 : m, hi = m == -2 ? CX_SB_NMARKETS - 1 : m, bad = 0;
            for (int k = lo; k <= hi && !bad; k++)
                bad = set_faults(sb, &sb->faults[k], body, why, sizeof why);
            if (bad)
                admin_error(rs, 400, why);
            else
                cx_sb_reply_json(rs, 200,
                                 json_pack("{s:b,s:o}", "ok", 1, "faults",
                                           faults_json(&sb->faults[m == -2 ? rq->market : m])));
        } else {
            json_t *o = json_object();
            for (int k = 0; k < CX_SB_NMARKETS; k++)
                json_object_set_new(o, cx_sb_market_code(k), faults_json(&sb->faults[k]));
            cx_sb_reply_json(rs, 200, o);
        }
    } else if (!strcmp(ep, "reset") && post) {
        cx_sb_state_reset(sb);
        cx_sb_reply_json(rs, 200, json_pack("{s:b}", "ok", 1));
    } else if (!strcmp(ep, "revoke") && post) {
        int m = admin_market(rq, body, 0);
        const char *id = json_string_value(json_object_get(body, "shop_id"));
        char idbuf[32];
        if (!id && json_is_integer(json_object_get(body, "shop_id"))) {
            snprintf(idbuf, sizeof idbuf, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(body, "shop_id")));
            id = idbuf;
        }
        sb_shop *s = m >= 0 ? cx_sb_shop_find(sb, m, id) : NULL;
        if (!s) {
            admin_error(rs, 404, "no such shop");
        } else {
            s->revoked = 1;
            for (size_t i = 0; i < sb->ntokens; i++)
                if (sb->tokens[i].market == m && !strcmp(sb->tokens[i].shop_id, s->id))
                    sb->tokens[i].used = 1;
            if (m == CX_SB_SHOPEE) {
                long long sid = 0;
                cx_sb_parse_ll(s->id, &sid);
                cx_sb_shopee_push(sb, 2, s->id,
                                  json_pack("{s:I,s:I}", "shop_id", (json_int_t)sid, "partner_id",
                                            (json_int_t)sb->opt.shopee_partner_id),
                                  now);
            }
            cx_sb_reply_json(rs, 200, json_pack("{s:b,s:s}", "ok", 1, "revoked", s->id));
        }
    } else if (!strcmp(ep, "expire-tokens") && post) {
        int m = admin_market(rq, body, 1);
        const char *id = json_string_value(json_object_get(body, "shop_id"));
        int refresh = json_is_true(json_object_get(body, "refresh"));
        int codes = json_is_true(json_object_get(body, "codes"));
        long long n = 0;
        for (size_t i = 0; i < sb->ntokens && m != -1; i++) {
            sb_token *t = &sb->tokens[i];
            if (m >= 0 && t->market != m) continue;
            if (id && strcmp(t->shop_id, id)) continue;
            if (t->kind == SB_TOK_ACCESS || (refresh && t->kind == SB_TOK_REFRESH) ||
                (codes && t->kind == SB_TOK_CODE)) {
                if (t->expires_ms > now - 1) t->expires_ms = now - 1;
                n++;
            }
        }
        if (m == -1)
            admin_error(rs, 400, "unknown marketplace");
        else
            cx_sb_reply_json(rs, 200, json_pack("{s:b,s:I}", "ok", 1, "expired", (json_int_t)n));
    } else if (!strcmp(ep, "review") && post) {
        const char *code = json_string_value(json_object_get(body, "marketplace"));
        int m = code ? cx_sb_market_from_code(code) : -1;
        long long item = json_integer_value(json_object_get(body, "item_id"));
        const char *item_s = json_string_value(json_object_get(body, "item_id"));
        if (item_s) cx_sb_parse_ll(item_s, &item);
        int n = cx_sb_review_force(sb, m, item, now);
        cx_sb_reply_json(rs, 200, json_pack("{s:b,s:i}", "ok", 1, "reviewed", n));
    } else if (!strcmp(ep, "authorize") && post) {
        int m = admin_market(rq, body, 0);
        const char *id = json_string_value(json_object_get(body, "shop_id"));
        sb_shop *s = m >= 0 && m != CX_SB_ASSISTED ? cx_sb_shop_authorise(sb, m, id, 0) : NULL;
        char code[SB_ID_MAX];
        if (!s || cx_sb_token_issue(sb, m, SB_TOK_CODE, s->id, 30 * 60 * 1000LL, code))
            admin_error(rs, 400, "cannot authorise (unknown marketplace or full)");
        else
            cx_sb_reply_json(rs, 200,
                             json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "code", code, "shop_id", s->id,
                                       "shop_cipher", s->cipher));
    } else if (!strcmp(ep, "items")) {
        cx_sb_review_due(sb, now);
        const char *code = cx_sb_query(rq, "marketplace");
        const char *sku = cx_sb_query(rq, "sku");
        int m = code ? cx_sb_market_from_code(code) : -1;
        json_t *arr = json_array();
        for (size_t i = 0; i < sb->nitems && json_array_size(arr) < 1000; i++) {
            const sb_item *it = &sb->items[i];
            if (m >= 0 && it->market != m) continue;
            if (sku && strcmp(it->sku, sku)) continue;
            json_array_append_new(arr, item_admin_json(it));
        }
        cx_sb_reply_json(rs, 200, json_pack("{s:o}", "items", arr));
    } else if (!strcmp(ep, "config")) {
        if (post && set_config(sb, body, why, sizeof why))
            admin_error(rs, 400, why);
        else
            cx_sb_reply_json(rs, 200, config_json(sb));
    } else if (!strcmp(ep, "pages")) {
        if (post) {
            const char *mp = json_string_value(json_object_get(body, "marketplace"));
            const char *kind = json_string_value(json_object_get(body, "kind"));
            const char *id = json_string_value(json_object_get(body, "id"));
            const char *state = json_string_value(json_object_get(body, "state"));
            const char *title = json_string_value(json_object_get(body, "title"));
            if (mp && !strcmp(mp, "posmart")) mp = "postmart";
            int st = !state || !strcmp(state, "published") ? SB_PAGE_PUBLISHED
                     : !strcmp(state, "removed")           ? SB_PAGE_REMOVED
                     : !strcmp(state, "gone")              ? SB_PAGE_GONE
                                                           : -1;
            int product = kind && !strcmp(kind, "product");
            if (!mp || (strcmp(mp, "postmart") && strcmp(mp, "voso")))
                admin_error(rs, 400, "marketplace must be postmart or voso");
            else if (!kind || (strcmp(kind, "shop") && !product))
                admin_error(rs, 400, "kind must be shop or product");
            else if (!id || !*id || strlen(id) >= SB_ID_MAX || strchr(id, '/'))
                admin_error(rs, 400, "id must be 1..63 characters without '/'");
            else if (st < 0)
                admin_error(rs, 400, "state must be published, removed or gone");
            else if (!cx_sb_page_set(sb, mp, product, id, st, title))
                admin_error(rs, 507, "page table full");
            else {
                char url[256], base[64];
                cx_sb_base_url(sb, CX_SB_ASSISTED, base, sizeof base);
                snprintf(url, sizeof url, "%s/%s/%s/%s", base, mp, product ? "product" : "shop",
                         id);
                cx_sb_reply_json(rs, 200, json_pack("{s:b,s:s}", "ok", 1, "url", url));
            }
        } else {
            json_t *arr = json_array();
            static const char *const sn[] = {"published", "removed", "gone"};
            for (size_t i = 0; i < sb->npages; i++)
                json_array_append_new(
                    arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "marketplace", sb->pages[i].marketplace,
                                   "kind", sb->pages[i].product ? "product" : "shop", "id",
                                   sb->pages[i].id, "state", sn[sb->pages[i].state], "title",
                                   sb->pages[i].title));
            cx_sb_reply_json(rs, 200, json_pack("{s:o}", "pages", arr));
        }
    } else {
        admin_error(rs, 404, "unknown admin endpoint or method");
    }
    pthread_mutex_unlock(&sb->mu);
    json_decref(body);
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
    cx_sandbox *sb = rq->sb;
    int m = rq->market;
    const sb_market_ops *ops = market_ops[m];
    sb_resp rs;
    resp_init(&rs);
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_arg, rq);
    const char *ct = cx_sb_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        parse_form(rq);
    else if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        rq->multipart = 1;
        parse_multipart(rq, ct);
    }
    rq->now_ms = cx_sb_now_ms();

    if (!strncmp(rq->path, "/__sandbox/", 11)) {
        admin(rq, &rs);
        enum MHD_Result r = send_resp(rq->conn, &rs);
        resp_free(&rs);
        return r;
    }

    char np[96];
    ops->norm_path(rq->path, np, sizeof np);
    pthread_mutex_lock(&sb->mu);
    cx_sb_rand_hex(sb, rq->request_id, 16);
    long latency = sb->faults[m].latency_ms;
    pthread_mutex_unlock(&sb->mu);
    sb_wait(sb, latency);

    int action = 0; /* 0 respond, 1 drop, 2 hang then drop */
    pthread_mutex_lock(&sb->mu);
    long hang = sb->faults[m].hang_ms;
    if (rq->too_big) {
        cx_sb_reply_json(&rs, 413,
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
            cx_sb_review_due(sb, rq->now_ms);
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
    cx_sandbox *sb = arg;
    pthread_mutex_lock(&sb->mu);
    while (!sb->stopping) {
        long long now = cx_sb_now_ms();
        cx_sb_review_due(sb, now);
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
                p.next_ms = cx_sb_now_ms() + 1000LL * p.attempts;
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

int cx_sandbox_start(const cx_sandbox_options *o, cx_sandbox **out, cs_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    cx_sandbox *sb = cs_calloc(1, sizeof *sb);
    if (!sb) return cs_error_set(err, CS_E_NOMEM, NULL);
    pthread_mutex_init(&sb->mu, NULL);
    pthread_cond_init(&sb->cv, NULL);
    sb->opt = *o;
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
    if ((o->tiktok_redirect_url && *o->tiktok_redirect_url &&
         !(sb->tiktok_redirect_url = cs_strdup(o->tiktok_redirect_url))) ||
        (o->shopee_push_url && *o->shopee_push_url &&
         !(sb->shopee_push_url = cs_strdup(o->shopee_push_url))) ||
        (o->lazada_push_url && *o->lazada_push_url &&
         !(sb->lazada_push_url = cs_strdup(o->lazada_push_url))) ||
        cx_sb_banned_set(sb, o->banned_words ? o->banned_words : SB_DEFAULT_BANNED)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto fail;
    }
    if (o->categories && *o->categories) {
        if (cx_sb_categories_parse(sb, o->categories, err)) goto fail;
    } else {
        int r = o->category_file && *o->category_file
                    ? cx_sb_categories_load_csv(sb, o->category_file, err)
                    : 1;
        if (r < 0) goto fail;
        if (r > 0 && cx_sb_categories_parse(sb, SB_DEFAULT_CATEGORIES, err)) goto fail;
    }
    cx_sb_state_reset(sb);

    for (int m = 0; m < CX_SB_NMARKETS; m++) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)o->port[m]);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sb->listener[m].sb = sb;
        sb->listener[m].market = m;
        sb->d[m] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t)o->port[m],
            NULL, NULL, on_request, &sb->listener[m], MHD_OPTION_SOCK_ADDR, &sa,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)512, MHD_OPTION_END);
        if (!sb->d[m]) {
            cs_error_set(err, CS_E_UNAVAILABLE, "%s simulator cannot listen on 127.0.0.1:%u",
                         cx_sb_market_code(m), o->port[m]);
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
    cx_sandbox_stop(sb);
    return -1;
}

void cx_sandbox_stop(cx_sandbox *sb)
{
    if (!sb) return;
    pthread_mutex_lock(&sb->mu);
    sb->stopping = 1;
    pthread_cond_broadcast(&sb->cv);
    pthread_mutex_unlock(&sb->mu);
    for (int m = 0; m < CX_SB_NMARKETS; m++)
        if (sb->d[m]) MHD_stop_daemon(sb->d[m]);
    if (sb->reviewer_started) pthread_join(sb->reviewer, NULL);
    cx_sb_state_free(sb);
    cs_free(sb->s_partner_key);
    cs_free(sb->s_laz_key);
    cs_free(sb->s_laz_secret);
    cs_free(sb->s_tt_key);
    cs_free(sb->s_tt_secret);
    cs_free(sb->shopee_push_url);
    cs_free(sb->lazada_push_url);
    cs_free(sb->tiktok_redirect_url);
    pthread_mutex_destroy(&sb->mu);
    pthread_cond_destroy(&sb->cv);
    cs_free(sb);
}

unsigned cx_sandbox_port(const cx_sandbox *sb, cx_sb_market m)
{
    return m < CX_SB_NMARKETS ? sb->port[m] : 0;
}

int cx_sandbox_url(const cx_sandbox *sb, cx_sb_market m, char *out, size_t n)
{
    if (m >= CX_SB_NMARKETS) return -1;
    int w =
        snprintf(out, n, "http://127.0.0.1:%u%s", sb->port[m], m == CX_SB_LAZADA ? "/rest" : "");
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* ---- choso sandbox --------------------------------------------------------------------------- */
static void usage(FILE *f)
{
    fprintf(f, "usage: choso sandbox [options]\n"
               "  Serve the marketplace simulators on 127.0.0.1 until SIGINT/SIGTERM; print their\n"
               "  URLs as one JSON line. Defaults come from the sandbox.* settings.\n"
               "  --shopee-port N --lazada-port N --tiktok-port N --assisted-port N  (0 = any)\n"
               "  --auto-approve | --no-auto-approve   authorise links without the approve page\n"
               "  --review-delay-ms N   time in review before live/rejected\n"
               "  --token-ttl S --refresh-ttl S   token lifetimes (0 = the marketplace's own)\n"
               "  --rate R   requests/s per simulator before its throttle error (0 = none)\n"
               "  --seed N   fault PRNG seed      --max-items N   item cap\n"
               "  --categories SPEC   e.g. shopee:100629=100037|100010;lazada:10001960\n"
               "  --category-file CSV --banned-words a,b,c\n"
               "  --shopee-push-url URL --lazada-push-url URL --tiktok-redirect-url URL\n"
               "  --config FILE\n");
}

static int flag_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n)) return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n]) return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

static int num_flag(const char *name, const char *v, long long lo, long long hi, long long *out)
{
    if (cx_sb_parse_ll(v, out) || *out < lo || *out > hi) {
        fprintf(stderr, "choso sandbox: %s needs a whole number %lld..%lld\n", name, lo, hi);
        return -1;
    }
    return 0;
}

int cmd_sandbox(int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        const char *v;
        if (flag_value(argc, argv, &i, "--config", &v) == 1) config = v;
    }
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_load(config, &err)) {
        fprintf(stderr, "choso sandbox: configuration: %s\n", err.detail);
        for (size_t k = 0; k < err.nfields; k++)
            fprintf(stderr, "  %s: %s\n", err.fields[k].field, err.fields[k].detail);
        return 78;
    }
    cx_sandbox_options o;
    cx_sandbox_options_default(&o);
    static const char *const port_keys[CX_SB_NMARKETS] = {
        "sandbox.shopee_port", "sandbox.lazada_port", "sandbox.tiktok_port",
        "sandbox.assisted_port"};
    for (int m = 0; m < CX_SB_NMARKETS; m++)
        o.port[m] = (unsigned)cs_cfg_int(port_keys[m]);
    o.auto_approve = cs_cfg_bool("sandbox.auto_approve");
    o.review_delay_ms = cs_cfg_int("sandbox.review_delay_ms");
    o.token_ttl = cs_cfg_int("sandbox.token_ttl");
    o.rate = (double)cs_cfg_int("sandbox.rate");
    o.seed = (unsigned long long)cs_cfg_int("sandbox.seed");
    o.shopee_partner_id = cs_cfg_int("sandbox.shopee_partner_id");
    o.shopee_partner_key = cs_cfg_str("sandbox.shopee_partner_key");
    o.lazada_app_key = cs_cfg_str("sandbox.lazada_app_key");
    o.lazada_app_secret = cs_cfg_str("sandbox.lazada_app_secret");
    o.tiktok_app_key = cs_cfg_str("sandbox.tiktok_app_key");
    o.tiktok_app_secret = cs_cfg_str("sandbox.tiktok_app_secret");
    o.shopee_push_url = cs_cfg_str("sandbox.shopee_push_url");
    o.lazada_push_url = cs_cfg_str("sandbox.lazada_push_url");
    o.banned_words = cs_cfg_str("sandbox.banned_words");
    o.categories = cs_cfg_str("sandbox.categories");
    char catfile[1024];
    snprintf(catfile, sizeof catfile, "%s/data/category_map.csv", cs_cfg_str("schema.dir"));
    o.category_file = catfile;
    o.tiktok_redirect_url = cs_cfg_str("sandbox.tiktok_redirect_url");

    static const char *const port_flags[CX_SB_NMARKETS] = {"--shopee-port", "--lazada-port",
                                                           "--tiktok-port", "--assisted-port"};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        long long n;
        int got = 0, m;
        for (m = 0; m < CX_SB_NMARKETS && !got; m++) {
            got = flag_value(argc, argv, &i, port_flags[m], &v);
            if (got == 1) {
                if (num_flag(port_flags[m], v, 0, 65535, &n)) return 64;
                o.port[m] = (unsigned)n;
            }
        }
        if (got < 0) goto missing;
        if (got) continue;
        if (!strcmp(argv[i], "--auto-approve"))
            o.auto_approve = 1;
        else if (!strcmp(argv[i], "--no-auto-approve"))
            o.auto_approve = 0;
        else if ((got = flag_value(argc, argv, &i, "--review-delay-ms", &v))) {
            if (got < 0 || num_flag("--review-delay-ms", v, 0, 86400000, &n)) goto bad;
            o.review_delay_ms = (long)n;
        } else if ((got = flag_value(argc, argv, &i, "--token-ttl", &v))) {
            if (got < 0 || num_flag("--token-ttl", v, 0, 31536000, &n)) goto bad;
            o.token_ttl = (long)n;
        } else if ((got = flag_value(argc, argv, &i, "--refresh-ttl", &v))) {
            if (got < 0 || num_flag("--refresh-ttl", v, 0, 31536000, &n)) goto bad;
            o.refresh_ttl = (long)n;
        } else if ((got = flag_value(argc, argv, &i, "--rate", &v))) {
            char *end;
            if (got < 0) goto missing;
            errno = 0;
            double r = strtod(v, &end);
            if (errno || *end || end == v || r < 0 || r > 1e6) {
                fprintf(stderr, "choso sandbox: --rate needs a number ≥ 0\n");
                return 64;
            }
            o.rate = r;
        } else if ((got = flag_value(argc, argv, &i, "--seed", &v))) {
            if (got < 0 || num_flag("--seed", v, 0, LLONG_MAX, &n)) goto bad;
            o.seed = (unsigned long long)n;
        } else if ((got = flag_value(argc, argv, &i, "--max-items", &v))) {
            if (got < 0 || num_flag("--max-items", v, 1, 1000000, &n)) goto bad;
            o.max_items = (long)n;
        } else if ((got = flag_value(argc, argv, &i, "--categories", &v))) {
            if (got < 0) goto missing;
            o.categories = v;
        } else if ((got = flag_value(argc, argv, &i, "--category-file", &v))) {
            if (got < 0) goto missing;
            o.category_file = v;
        } else if ((got = flag_value(argc, argv, &i, "--banned-words", &v))) {
            if (got < 0) goto missing;
            o.banned_words = v;
        } else if ((got = flag_value(argc, argv, &i, "--shopee-push-url", &v))) {
            if (got < 0) goto missing;
            o.shopee_push_url = v;
        } else if ((got = flag_value(argc, argv, &i, "--lazada-push-url", &v))) {
            if (got < 0) goto missing;
            o.lazada_push_url = v;
        } else if ((got = flag_value(argc, argv, &i, "--tiktok-redirect-url", &v))) {
            if (got < 0) goto missing;
            o.tiktok_redirect_url = v;
        } else if ((got = flag_value(argc, argv, &i, "--config", &v))) {
            if (got < 0) goto missing;
        } else {
            fprintf(stderr, "choso sandbox: unknown option '%s' (see --help)\n", argv[i]);
            return 64;
        }
    }

    /* Block the stop signals before any thread starts, so only sigwait below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    cx_sandbox *sb;
    if (cx_sandbox_start(&o, &sb, &err)) {
        fprintf(stderr, "choso sandbox: %s\n", err.detail[0] ? err.detail : cs_code_name(err.code));
        return 1;
    }
    char u[CX_SB_NMARKETS][64];
    for (int m = 0; m < CX_SB_NMARKETS; m++)
        cx_sandbox_url(sb, m, u[m], sizeof u[m]);
    char la[64], pm[96], vs[96];
    cx_sb_base_url(sb, CX_SB_LAZADA, la, sizeof la);
    snprintf(pm, sizeof pm, "%s/postmart", u[CX_SB_ASSISTED]);
    snprintf(vs, sizeof vs, "%s/voso", u[CX_SB_ASSISTED]);
    /* The test credentials the simulators accept, so a script can configure the service. */
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:{s:I,s:s},s:{s:s,s:s},s:{s:s,s:s}}}", "shopee",
        u[CX_SB_SHOPEE], "lazada", u[CX_SB_LAZADA], "lazada_auth", la, "tiktok", u[CX_SB_TIKTOK],
        "tiktok_auth", u[CX_SB_TIKTOK], "assisted", u[CX_SB_ASSISTED], "postmart", pm, "voso", vs,
        "admin", u[CX_SB_SHOPEE], "credentials", "shopee", "partner_id",
        (json_int_t)o.shopee_partner_id, "partner_key", o.shopee_partner_key, "lazada", "app_key",
        o.lazada_app_key, "app_secret", o.lazada_app_secret, "tiktok", "app_key", o.tiktok_app_key,
        "app_secret", o.tiktok_app_secret);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s) {
        printf("%s\n", s);
        fflush(stdout);
        free(s);
    }
    int sig = 0;
    sigwait(&set, &sig);
    cx_sandbox_stop(sb);
    return 0;
missing:
    fprintf(stderr, "choso sandbox: the last option needs a value (see --help)\n");
    return 64;
bad:
    return 64;
}
