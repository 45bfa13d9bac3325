/* service/h_showcase: the public showcase (quảng bá) — HTML pages anyone may open without
 * signing in, made to be shared on Zalo and Facebook (Open Graph tags), and the counted
 * click-through to a marketplace. Every text from the database goes through cs_buf_put_escaped;
 * no inline script or style (the house CSP stays); no cookie is set or read. Rows come from
 * core/showcase; no SQL here.
 *
 * Rendered pages are kept in this process's memory for showcase.cache_ms (a small table keyed
 * by the request path and query) with a content ETag, so a shared link opened by many people
 * costs one database read per interval and a conditional request answers 304. */
#include "core/annual.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/instance.h"
#include "core/mem.h"
#include "core/showcase.h"
#include "core/vn.h"
#include "service/read_cache.h"
#include "service/api.h"
#include "service/h_showcase.h"
#include <pthread.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_CAP (4u << 20)

/* ---- the page cache ------------------------------------------------------------------------ */

#define CACHE_SLOTS 64
struct slot {
    char key[300];
    char *body;
    size_t len;
    char etag[32];
    int64_t expires_ms, used_ms;
};
static struct slot cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void svc_showcase_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        cs_free(cache[i].body);
        memset(&cache[i], 0, sizeof cache[i]);
    }
    pthread_mutex_unlock(&cache_mu);
}

/* FNV-1a 64 of the body: an ETag that changes exactly when the bytes do */
static void etag_of(const char *b, size_t n, char out[32])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)b[i];
        h *= 1099511628211ull;
    }
    snprintf(out, 32, "\"sc-%016llx\"", (unsigned long long)h);
}

static int etag_matches(const char *inm, const char *etag)
{
    return inm && (strstr(inm, etag) || !strcmp(inm, "*"));
}

static int reply_page(svc_req *r, const char *body, size_t len, const char *etag)
{
    const char *const hdrs[] = {"Cache-Control", "public, max-age=60", "ETag", etag, NULL};
    if (etag_matches(svc_header(r, "If-None-Match"), etag)) {
        for (size_t i = 0; hdrs[i]; i += 2)
            if (svc_add_header(r, hdrs[i], hdrs[i + 1])) return -1;
        return svc_reply_empty(r, 304);
    }
    return svc_reply_bytes(r, 200, "text/html; charset=utf-8", body, len, hdrs);
}

/* answered from the cache: 1 (replied), 0 (not there) */
static int from_cache(svc_req *r, const char *key, int *rc)
{
    long ttl = cs_cfg_int("showcase.cache_ms");
    if (ttl <= 0) return 0;
    int64_t now = now_ms();
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct slot *s = &cache[i];
        if (!s->body || strcmp(s->key, key) || s->expires_ms <= now) continue;
        s->used_ms = now;
        char etag[32];
        memcpy(etag, s->etag, sizeof etag);
        if (etag_matches(svc_header(r, "If-None-Match"), etag)) {
            pthread_mutex_unlock(&cache_mu);
            *rc = reply_page(r, NULL, 0, etag);
            return 1;
        }
        /* svc_reply_bytes copies, so the lock covers the copy only */
        *rc = reply_page(r, s->body, s->len, etag);
        pthread_mutex_unlock(&cache_mu);
        return 1;
    }
    pthread_mutex_unlock(&cache_mu);
    return 0;
}

/* keep a rendered page (takes ownership of body) */
static void to_cache(const char *key, char *body, size_t len, const char *etag)
{
    long ttl = cs_cfg_int("showcase.cache_ms");
    if (ttl <= 0 || strlen(key) >= sizeof cache[0].key) {
        cs_free(body);
        return;
    }
    int64_t now = now_ms();
    pthread_mutex_lock(&cache_mu);
    struct slot *victim = &cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct slot *s = &cache[i];
        if (s->body && !strcmp(s->key, key)) {
            victim = s;
            break;
        }
        if (!s->body || s->expires_ms <= now) {
            victim = s;
            continue;
        }
        if (victim->body && victim->expires_ms > now && s->used_ms < victim->used_ms) victim = s;
    }
    cs_free(victim->body);
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->body = body;
    victim->len = len;
    memcpy(victim->etag, etag, sizeof victim->etag);
    victim->expires_ms = now + ttl;
    victim->used_ms = now;
    pthread_mutex_unlock(&cache_mu);
}

/* reply with a freshly rendered buffer and keep it */
static int send_rendered(svc_req *r, const char *key, cs_buf *b, int ok)
{
    if (!ok) {
        cs_buf_free(b);
        return svc_reply_error(r, CS_E_NOMEM, "%s", "showcase page");
    }
    size_t len = b->len;
    char *body = cs_buf_steal(b);
    if (!body) return svc_reply_error(r, CS_E_NOMEM, "%s", "showcase page");
    char etag[32];
    etag_of(body, len, etag);
    int rc = reply_page(r, body, len, etag);
    to_cache(key, body, len, etag);
    return rc;
}

/* ---- HTML pieces -------------------------------------------------------------------------- */

#define E(b, s) cs_buf_put_escaped(b, s)

/* public_url without its trailing slash, for absolute links in Open Graph tags and QR codes */
static void base_url(char *base, size_t size)
{
    const char *u = cs_cfg_str("http.public_url");
    snprintf(base, size, "%s", u ? u : "");
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        base[--n] = '\0';
}

static int head(cs_buf *b, const char *title, const char *desc, const char *path,
                const char *image_sha, const char *css_class)
{
    char base[512];
    base_url(base, sizeof base);
    int rc =
        cs_buf_puts(b, "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, "
                       "initial-scale=1\">\n<title>");
    rc |= E(b, title) | cs_buf_puts(b, "</title>\n<meta name=\"description\" content=\"") |
          E(b, desc) | cs_buf_puts(b, "\">\n");
    /* Open Graph: what Zalo and Facebook show for a shared link */
    rc |= cs_buf_puts(b, "<meta property=\"og:site_name\" content=\"Chợ Số Thanh Hóa\">\n"
                         "<meta property=\"og:locale\" content=\"vi_VN\">\n"
                         "<meta property=\"og:type\" content=\"") |
          cs_buf_puts(b, image_sha ? "product" : "website") |
          cs_buf_puts(b, "\">\n<meta property=\"og:title\" content=\"") | E(b, title) |
          cs_buf_puts(b, "\">\n<meta property=\"og:description\" content=\"") | E(b, desc) |
          cs_buf_puts(b, "\">\n<meta property=\"og:url\" content=\"") | E(b, base) | E(b, path) |
          cs_buf_puts(b, "\">\n");
    if (image_sha)
        rc |= cs_buf_puts(b, "<meta property=\"og:image\" content=\"") | E(b, base) |
              cs_buf_puts(b, "/media/") | E(b, image_sha) | cs_buf_puts(b, "\">\n");
    rc |= cs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/showcase.css\">\n"
                         "<link rel=\"icon\" href=\"/favicon.svg\">\n</head>\n<body class=\"") |
          cs_buf_puts(b, css_class) | cs_buf_puts(b, "\">\n");
    return rc;
}

static int stars(cs_buf *b, int n)
{
    if (n < 1 || n > 5) return 0;
    int rc = cs_buf_printf(b, "<p class=\"stars\" aria-label=\"OCOP %d sao\">", n);
    for (int i = 0; i < 5; i++)
        rc |= cs_buf_puts(b, i < n ? "★" : "☆");
    return rc | cs_buf_printf(b, " <span>OCOP %d sao</span></p>\n", n);
}

static int price(cs_buf *b, int64_t vnd)
{
    char t[40];
    cs_vi_int(vnd, t, sizeof t);
    return cs_buf_printf(b, "<p class=\"price\">%s ₫</p>\n", t);
}

static int producer(cs_buf *b, const cs_sc_product *p)
{
    int rc = cs_buf_puts(b, "<p class=\"where\">");
    if (p->business_name) rc |= E(b, p->business_name) | cs_buf_puts(b, " · ");
    return rc | E(b, p->commune) | cs_buf_puts(b, " · ") | E(b, p->district_name) |
           cs_buf_puts(b, "</p>\n");
}

static int buttons(cs_buf *b, const cs_sc_product *p)
{
    int rc = cs_buf_puts(b, "<p class=\"buy\">");
    for (size_t k = 0; k < p->nlistings; k++)
        rc |= cs_buf_printf(b,
                            "<a class=\"mp mp-%s\" href=\"/showcase/go/%lld\" rel=\"nofollow "
                            "noopener\">Mua trên ",
                            p->listings[k].mp_code, (long long)p->listings[k].id) |
              E(b, p->listings[k].mp_name) | cs_buf_puts(b, "</a>");
    return rc | cs_buf_puts(b, "</p>\n");
}

static int image(cs_buf *b, const cs_sc_product *p, const char *cls)
{
    if (!p->image_sha)
        return cs_buf_printf(b, "<div class=\"%s noimg\" aria-hidden=\"true\"></div>\n", cls);
    return cs_buf_printf(b, "<img class=\"%s\" src=\"/media/", cls) | E(b, p->image_sha) |
           cs_buf_puts(b, "\" alt=\"") | E(b, p->name) |
           cs_buf_puts(b, "\" loading=\"lazy\" decoding=\"async\">\n");
}

static int footer(cs_buf *b)
{
    return cs_buf_puts(b, "<footer><p>Chợ Số — Tỉnh đoàn Thanh Hóa. Sản phẩm chủ lực của tỉnh, "
                          "do hộ kinh doanh thanh niên bán trên các sàn thương mại điện "
                          "tử.</p></footer>\n</body>\n</html>\n");
}

/* ---- the list ----------------------------------------------------------------------------- */

static const char CAT_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789_";

static int select_opts(cs_buf *b, const char *name, const char *label, const cs_sc_choice *ch,
                       size_t n, const char *chosen)
{
    int rc = cs_buf_printf(b, "<label>%s <select name=\"%s\"><option value=\"\">Tất cả</option>",
                           label, name);
    for (size_t i = 0; i < n; i++) {
        rc |= cs_buf_puts(b, "<option value=\"") | E(b, ch[i].code) | cs_buf_puts(b, "\"") |
              cs_buf_puts(b, chosen && !strcmp(chosen, ch[i].code) ? " selected>" : ">") |
              E(b, ch[i].name) | cs_buf_puts(b, "</option>");
    }
    return rc | cs_buf_puts(b, "</select></label>\n");
}

/* "/showcase?category=…&district=…&page=N" (values are checked tokens, escaped anyway) */
static int page_link(cs_buf *b, const char *cat, const char *dist, int64_t page, const char *text)
{
    int rc =
        cs_buf_puts(b, "<a href=\"/showcase?page=") | cs_buf_printf(b, "%lld", (long long)page);
    if (cat) rc |= cs_buf_puts(b, "&amp;category=") | E(b, cat);
    if (dist) rc |= cs_buf_puts(b, "&amp;district=") | E(b, dist);
    return rc | cs_buf_puts(b, "\">") | cs_buf_puts(b, text) | cs_buf_puts(b, "</a>");
}

int svc_showcase_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *cat = NULL, *dist = NULL;
    int64_t page = 1;
    svc_api_query_token(r, "category", CAT_CHARS, 40, &cat, &err);
    svc_api_query_token(r, "district", "0123456789", 3, &dist, &err);
    svc_query_int(r, "page", 1, 1, 100000, &page, &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    char key[300];
    snprintf(key, sizeof key, "list|%s|%s|%lld", cat ? cat : "", dist ? dist : "", (long long)page);
    int rc = 0;
    if (from_cache(r, key, &rc)) return rc;

    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t per = cs_cfg_int("showcase.per_page");
    /* the shown set is read once per read generation (core/showcase): exact after any write */
    int64_t gen = -1;
    if (!svc_read_cache_on() || svc_read_generation_req(r, db, &gen)) gen = -1;
    cs_sc_page pg;
    if (cs_showcase_list_at(db, gen, cat, dist, page, per, &pg, &err)) {
        cs_sc_page_free(&pg);
        return svc_reply_problem(r, &err);
    }
    cs_buf b;
    cs_buf_init(&b, PAGE_CAP);
    char desc[320], n[32];
    cs_vi_int(pg.total, n, sizeof n);
    /* a demo/training instance shows practice items: its total says so (issue 12) */
    snprintf(desc, sizeof desc,
             "%s sản phẩm chủ lực, OCOP của Thanh Hóa đang bán trên các sàn thương mại điện tử.%s",
             n, cs_instance_simulated() ? " (Dữ liệu mô phỏng: bản trình diễn/tập huấn.)" : "");
    int bad = head(&b, "Sản phẩm chủ lực Thanh Hóa trên sàn thương mại điện tử", desc, "/showcase",
                   pg.n ? pg.items[0].image_sha : NULL, "showcase");
    bad |= cs_buf_puts(&b, "<header><h1>Sản phẩm chủ lực Thanh Hóa</h1><p>") | E(&b, desc) |
           cs_buf_puts(&b, "</p></header>\n<main>\n<form class=\"filters\" method=\"get\" "
                           "action=\"/showcase\">\n");
    bad |= select_opts(&b, "category", "Loại sản phẩm", pg.categories, pg.ncategories, cat) |
           select_opts(&b, "district", "Huyện cũ", pg.districts, pg.ndistricts, dist) |
           cs_buf_puts(&b, "<button type=\"submit\">Lọc</button>\n</form>\n");
    bad |= cs_buf_puts(&b, "<ul class=\"grid\">\n");
    for (size_t i = 0; i < pg.n; i++) {
        const cs_sc_product *p = &pg.items[i];
        bad |= cs_buf_printf(
                   &b, "<li class=\"card\">\n<a class=\"pic\" href=\"/showcase/products/%lld\">",
                   (long long)p->id) |
               image(&b, p, "photo") | cs_buf_puts(&b, "</a>\n<h2><a href=\"/showcase/products/") |
               cs_buf_printf(&b, "%lld\">", (long long)p->id) | E(&b, p->name) |
               cs_buf_puts(&b, "</a></h2>\n") | producer(&b, p) | stars(&b, p->ocop_stars) |
               price(&b, p->price_vnd) | buttons(&b, p) | cs_buf_puts(&b, "</li>\n");
    }
    bad |= cs_buf_puts(&b, "</ul>\n");
    if (!pg.n) bad |= cs_buf_puts(&b, "<p class=\"empty\">Chưa có sản phẩm nào phù hợp.</p>\n");
    int64_t pages = (pg.total + per - 1) / per;
    if (pages > 1) {
        bad |= cs_buf_puts(&b, "<nav class=\"pages\" aria-label=\"Trang\">");
        if (page > 1) bad |= page_link(&b, cat, dist, page - 1, "← Trang trước");
        bad |=
            cs_buf_printf(&b, " <span>Trang %lld/%lld</span> ", (long long)page, (long long)pages);
        if (page < pages) bad |= page_link(&b, cat, dist, page + 1, "Trang sau →");
        bad |= cs_buf_puts(&b, "</nav>\n");
    }
    bad |= cs_buf_puts(&b, "</main>\n") | footer(&b);
    cs_sc_page_free(&pg);
    return send_rendered(r, key, &b, !bad);
}

/* ---- one product, its poster -------------------------------------------------------------- */

/* {id} → the product, or replies 404; returns 1 shown, 0 replied */
static int load_product(svc_req *r, cs_sc_page *pg, int *rc)
{
    cs_error err;
    cs_error_clear(&err);
    memset(pg, 0, sizeof *pg);
    const char *ids = svc_param(r, "id");
    char *end = NULL;
    long long id = ids ? strtoll(ids, &end, 10) : 0;
    if (!ids || !*ids || *end || id <= 0) {
        *rc = svc_reply_error(r, CS_E_NOT_FOUND, "%s", "product");
        return 0;
    }
    cs_db *db = svc_db(r, &err);
    int found = db ? cs_showcase_product(db, id, pg, &err) : -1;
    if (found < 0) {
        cs_sc_page_free(pg);
        *rc = svc_reply_problem(r, &err);
        return 0;
    }
    if (!found) {
        cs_sc_page_free(pg);
        *rc = svc_reply_error(r, CS_E_NOT_FOUND, "%s", "product");
        return 0;
    }
    return 1;
}

/* a short description for Open Graph: the first 180 bytes, cut at a character boundary */
static void short_desc(const cs_sc_product *p, char *out, size_t n)
{
    snprintf(out, n, "%s", p->description && *p->description ? p->description : p->name);
    size_t len = strlen(out);
    if (len >= 180) {
        size_t cut = 180;
        while (cut && ((unsigned char)out[cut] & 0xC0) == 0x80)
            cut--;
        snprintf(out + cut, n - cut, "…");
    }
}

int svc_showcase_product(svc_req *r)
{
    char key[300];
    snprintf(key, sizeof key, "product|%s", svc_param(r, "id") ? svc_param(r, "id") : "");
    int rc = 0;
    if (from_cache(r, key, &rc)) return rc;
    cs_sc_page pg;
    if (!load_product(r, &pg, &rc)) return rc;
    const cs_sc_product *p = &pg.items[0];
    char path[64], desc[400];
    snprintf(path, sizeof path, "/showcase/products/%lld", (long long)p->id);
    short_desc(p, desc, sizeof desc);
    cs_buf b;
    cs_buf_init(&b, PAGE_CAP);
    int bad = head(&b, p->name, desc, path, p->image_sha, "showcase product");
    bad |= cs_buf_puts(&b, "<header><p><a href=\"/showcase\">← Tất cả sản phẩm</a></p></header>\n"
                           "<main>\n<article class=\"detail\">\n") |
           image(&b, p, "photo") | cs_buf_puts(&b, "<div class=\"info\">\n<h1>") | E(&b, p->name) |
           cs_buf_puts(&b, "</h1>\n") | producer(&b, p) | cs_buf_puts(&b, "<p class=\"cat\">") |
           E(&b, p->category_name) | cs_buf_puts(&b, "</p>\n") | stars(&b, p->ocop_stars) |
           price(&b, p->price_vnd) | buttons(&b, p) | cs_buf_puts(&b, "<p class=\"desc\">") |
           E(&b, p->description) | cs_buf_puts(&b, "</p>\n<p><a class=\"poster-link\" href=\"") |
           E(&b, path) |
           cs_buf_puts(&b, "/poster\">In áp phích A5 có mã QR</a></p>\n</div>\n</article>\n"
                           "</main>\n") |
           footer(&b);
    cs_sc_page_free(&pg);
    return send_rendered(r, key, &b, !bad);
}

/* the QR code of url as an inline SVG (paths only: no style, nothing the CSP would block) */
static int qr_svg(cs_buf *b, const char *url)
{
    QRcode *q = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) return -1;
    const int quiet = 4;
    int side = q->width + 2 * quiet;
    int rc = cs_buf_printf(b,
                           "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
                           "%d %d\" role=\"img\" aria-label=\"Mã QR mở trang sản phẩm\">"
                           "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" "
                           "d=\"",
                           side, side, side, side);
    for (int y = 0; y < q->width && !rc; y++)
        for (int x = 0; x < q->width;) {
            if (!(q->data[y * q->width + x] & 1)) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < q->width && (q->data[y * q->width + x] & 1))
                x++;
            rc |= cs_buf_printf(b, "M%d %dh%dv1h-%dz", x0 + quiet, y + quiet, x - x0, x - x0);
        }
    QRcode_free(q);
    return rc | cs_buf_puts(b, "\"/></svg>\n");
}

int svc_showcase_poster(svc_req *r)
{
    char key[300];
    snprintf(key, sizeof key, "poster|%s", svc_param(r, "id") ? svc_param(r, "id") : "");
    int rc = 0;
    if (from_cache(r, key, &rc)) return rc;
    cs_sc_page pg;
    if (!load_product(r, &pg, &rc)) return rc;
    const cs_sc_product *p = &pg.items[0];
    char path[64], url[700], desc[400];
    snprintf(path, sizeof path, "/showcase/products/%lld", (long long)p->id);
    char base[512];
    base_url(base, sizeof base);
    snprintf(url, sizeof url, "%s%s", base, path);
    short_desc(p, desc, sizeof desc);
    cs_buf b;
    cs_buf_init(&b, PAGE_CAP);
    int bad = head(&b, p->name, desc, path, p->image_sha, "poster");
    bad |= cs_buf_puts(&b, "<main class=\"a5\">\n<p class=\"brand\">Sản phẩm chủ lực Thanh "
                           "Hóa</p>\n") |
           image(&b, p, "photo") | cs_buf_puts(&b, "<h1>") | E(&b, p->name) |
           cs_buf_puts(&b, "</h1>\n") | producer(&b, p) | stars(&b, p->ocop_stars) |
           price(&b, p->price_vnd) | cs_buf_puts(&b, "<div class=\"scan\">\n") | qr_svg(&b, url) |
           cs_buf_puts(&b, "<p>Quét mã để xem và mua trên sàn:<br>");
    for (size_t k = 0; k < p->nlistings; k++)
        bad |= (k ? cs_buf_puts(&b, " · ") : 0) | E(&b, p->listings[k].mp_name);
    bad |= cs_buf_puts(&b, "</p>\n<p class=\"url\">") | E(&b, url) |
           cs_buf_puts(&b, "</p>\n</div>\n</main>\n</body>\n</html>\n");
    cs_sc_page_free(&pg);
    return send_rendered(r, key, &b, !bad);
}

/* ---- the counted click-through ------------------------------------------------------------ */

int svc_showcase_go(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *ids = svc_param(r, "listing_id");
    char *end = NULL;
    long long id = ids ? strtoll(ids, &end, 10) : 0;
    if (!ids || !*ids || *end || id <= 0)
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char url[600];
    int found = cs_showcase_click(db, id, url, sizeof url, &err);
    if (found < 0) return svc_reply_problem(r, &err);
    if (!found) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing");
    /* only the address the volunteer confirmed on the marketplace's domain is ever stored, and
     * it must still look like one before anyone is sent there */
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing");
    if (svc_add_header(r, "Location", url) || svc_add_header(r, "Cache-Control", "no-store"))
        return -1;
    return svc_reply_empty(r, 302);
}

/* ---- promoted figures (admin, monitor) ---------------------------------------------------- */

int svc_showcase_promoted(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t year;
    if (svc_query_int(r, "year", vn_today().y, 2000, 2100, &year, &err))
        return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_rows *q = NULL;
    if (cs_showcase_promoted(db, (int)year, &q, &err)) return svc_reply_problem(r, &err);
    json_t *items = json_array(), *months = json_array(), *cur = NULL;
    int64_t total = 0, per_month[12] = {0}, last = -1;
    for (size_t i = 0; items && i < cs_rows_count(q); i++) {
        int64_t pid = cs_rows_i64(q, i, CS_SC_PR_PRODUCT), m = cs_rows_i64(q, i, CS_SC_PR_MONTH),
                n = cs_rows_i64(q, i, CS_SC_PR_CLICKS);
        if (pid != last) {
            cur = json_pack("{s:I,s:s,s:s,s:I,s:[iiiiiiiiiiii]}", "product_id", (json_int_t)pid,
                            "name", cs_rows_str(q, i, CS_SC_PR_NAME), "commune",
                            cs_rows_str(q, i, CS_SC_PR_COMMUNE), "clicks", (json_int_t)0, "months",
                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            json_array_append_new(items, cur);
            last = pid;
        }
        if (cur && m >= 1 && m <= 12) {
            json_array_set_new(json_object_get(cur, "months"), (size_t)(m - 1), json_integer(n));
            json_object_set_new(
                cur, "clicks",
                json_integer(json_integer_value(json_object_get(cur, "clicks")) + n));
            per_month[m - 1] += n;
        }
        total += n;
    }
    cs_rows_free(q);
    for (int m = 0; months && m < 12; m++)
        json_array_append_new(months, json_integer(per_month[m]));
    if (!items || !months) {
        json_decref(items);
        json_decref(months);
        return svc_reply_error(r, CS_E_NOMEM, "%s", "promoted");
    }
    /* json_pack steals both arrays, also when it fails */
    json_t *o = json_pack("{s:I,s:I,s:o,s:o}", "year", (json_int_t)year, "total", (json_int_t)total,
                          "months", months, "items", items);
    if (!o) return svc_reply_error(r, CS_E_NOMEM, "%s", "promoted");
    return svc_reply_json(r, 200, o);
}

/* ---- the owner's agreement to show the business name ------------------------------------ */

int svc_showcase_consent_put(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int consent = 0;
    const cs_jfield spec[] = {
        {.name = "showcase_name_consent",
         .type = CS_J_BOOL,
         .flags = CS_JF_REQUIRED,
         .out = &consent},
        {.name = NULL},
    };
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    const char *code = svc_param(r, "code");
    if (!code || strlen(code) > 20) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "household");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6] = "";
    int erased = 0;
    if (cs_household_lookup(db, code, NULL, commune, &erased, &err))
        return svc_reply_problem(r, &err);
    if (erased) return svc_reply_error(r, CS_E_GONE, "%s", "household");
    if (!svc_can_write_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "household");
    cs_actor a = svc_audit_actor(r);
    if (cs_showcase_set_consent(db, &a, code, consent, &err)) return svc_reply_problem(r, &err);
    svc_showcase_cache_clear(); /* this process shows it at once */
    return svc_reply_json(r, 200,
                          json_pack("{s:s,s:b}", "code", code, "showcase_name_consent", consent));
}
