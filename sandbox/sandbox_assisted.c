/* sandbox/ assisted: lookalike public pages of every assisted marketplace — postmart.vn, voso.vn
 * and those configured as data (assisted_marketplaces.csv: Sendo …) — so the link-check job can
 * be tested. The marketplaces are the registry's kind-"file" connectors. Runs under sb->mu; no I/O.
 *
 *   GET /{code}/shop/{id}, /{code}/product/{id}   code: postmart (posmart), voso, sendo …
 *   GET /shop/{id}, /product/{id}   any marketplace; the Host header picks one when it names
 *                                    a marketplace's code, alias or domain
 * A page answers 200 with HTML once published (POST /__sandbox/pages), 404 when never published
 * or "removed", 410 when "gone". HEAD is answered like GET. */
#include "sandbox/sandbox_int.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *display(const char *mp)
{
    const cx_connector *c = cx_find(mp);
    return c ? c->display_name : "postmart.vn";
}

/* The assisted marketplace a path segment or a Host header names, or NULL. */
static const cx_connector *assisted_named(const char *seg, size_t n)
{
    char code[32];
    if (!n || n >= sizeof code) return NULL;
    memcpy(code, seg, n);
    code[n] = 0;
    const cx_connector *c = cx_find(code);
    return c && c->kind == CX_KIND_FILE ? c : NULL;
}

static const cx_connector *assisted_by_host(const char *host)
{
    const cx_connector *const *t;
    size_t n = cx_list(&t);
    for (size_t i = 0; host && i < n; i++)
        if (t[i]->kind == CX_KIND_FILE &&
            (strcasestr(host, t[i]->code) || (t[i]->alias && strcasestr(host, t[i]->alias)) ||
             (t[i]->default_domain && strcasestr(host, t[i]->default_domain))))
            return t[i];
    return NULL;
}

static void page(sb_resp *rs, int status, const char *mp, const char *title, const char *body)
{
    cs_buf b;
    cs_buf_init(&b, 64 * 1024);
    cs_buf_puts(&b, "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>");
    sbx_html_escape(&b, title);
    cs_buf_puts(&b, " | ");
    cs_buf_puts(&b, display(mp));
    cs_buf_puts(&b, " (mô phỏng)</title></head><body><header>");
    cs_buf_puts(&b, display(mp));
    cs_buf_puts(&b, " — bản mô phỏng để tập huấn</header><main><h1>");
    sbx_html_escape(&b, title);
    cs_buf_puts(&b, "</h1><p>");
    sbx_html_escape(&b, body);
    cs_buf_puts(&b, "</p></main></body></html>");
    sbx_reply_html(rs, status, b.data ? b.data : "");
    cs_buf_free(&b);
}

static void handle(sb_req *rq, sb_resp *rs)
{
    if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
        page(rs, 405, "postmart", "Không hỗ trợ", "Phương thức không được hỗ trợ.");
        return;
    }
    char path[SB_ID_MAX + 64];
    snprintf(path, sizeof path, "%s", rq->path);
    const char *mp = NULL;
    char *p = path + 1;
    char *slash = strchr(p, '/');
    const cx_connector *named = slash ? assisted_named(p, (size_t)(slash - p)) : NULL;
    if (named) {
        mp = named->code;
        p = slash + 1;
    } else if ((named = assisted_by_host(sbx_header(rq, "Host")))) {
        mp = named->code;
    }
    int product = !strncmp(p, "product/", 8);
    if (!product && strncmp(p, "shop/", 5)) {
        page(rs, 404, mp ? mp : "postmart", "Không tìm thấy trang", "Địa chỉ này không tồn tại.");
        return;
    }
    const char *id = p + (product ? 8 : 5);
    sb_page *pg = *id && !strchr(id, '/') ? sbx_page_find(rq->sb, mp, product, id) : NULL;
    const char *m = pg ? pg->marketplace : mp ? mp : "postmart";
    if (!pg || pg->state == SB_PAGE_REMOVED)
        page(rs, 404, m, "Không tìm thấy",
             product ? "Sản phẩm không tồn tại hoặc đã bị gỡ." : "Gian hàng không tồn tại.");
    else if (pg->state == SB_PAGE_GONE)
        page(rs, 410, m, "Đã ngừng bán",
             product ? "Sản phẩm đã ngừng kinh doanh." : "Gian hàng đã đóng cửa.");
    else
        page(rs, 200, m, pg->title[0] ? pg->title : id,
             product ? "Sản phẩm đang được bán trên sàn." : "Gian hàng đang hoạt động.");
}

static int is_create(const char *method, const char *path)
{
    (void)method, (void)path;
    return 0;
}

static void throttle(sb_req *rq, sb_resp *rs)
{
    (void)rq;
    page(rs, 429, "postmart", "Quá nhiều yêu cầu", "Vui lòng thử lại sau ít phút.");
}

static void server_error(sb_req *rq, sb_resp *rs)
{
    (void)rq;
    page(rs, 503, "postmart", "Hệ thống đang bận", "Máy chủ tạm thời không phục vụ được.");
}

static void norm_path(const char *path, char *out, size_t n)
{
    /* /voso/product/123 → /voso/product/{id}; bounds the request counters. */
    const char *k = strstr(path, "/product/");
    if (!k) k = strstr(path, "/shop/");
    if (k) {
        const char *slash = strchr(k + 1, '/');
        snprintf(out, n, "%.*s/{id}", (int)(slash - path), path);
    } else {
        snprintf(out, n, "%.40s", path);
    }
}

const sb_market_ops sbx_assisted_ops = {"assisted", handle, is_create, throttle, server_error,
                                        norm_path,  NULL,   NULL,      NULL,     NULL};
