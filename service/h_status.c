/* service/h_status: the household owner's own page — code + PIN (header or POST body, never the
 * URL) opens a read-only view in plain words: each marketplace's shop and what to do next, each
 * product's listings and why one was refused. Nothing personal (no citizen ID, phone, birth
 * date, address, not even the owner's name) is in it. Browsers and proxies never keep it
 * (Cache-Control: no-store); this process reuses it for a moment (service/status_cache). */
#include "core/buf.h"
#include "core/households.h"
#include "core/mem.h"
#include "service/api.h"
#include "service/status_cache.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(lang, vi, en) ((lang) == CS_LANG_EN ? (en) : (vi))

/* Short label of a seller-account state. */
static const char *account_label(cs_lang l, const char *s)
{
    if (!strcmp(s, "not_started")) return T(l, "Chưa bắt đầu", "Not started");
    if (!strcmp(s, "awaiting_owner")) return T(l, "Đang chờ bạn", "Waiting for you");
    if (!strcmp(s, "authorized")) return T(l, "Đã cho phép, đang kích hoạt", "Authorised, being activated");
    if (!strcmp(s, "active")) return T(l, "Gian hàng đang hoạt động", "Shop is open");
    if (!strcmp(s, "rejected")) return T(l, "Sàn từ chối", "Refused by the marketplace");
    if (!strcmp(s, "suspended")) return T(l, "Gian hàng bị tạm khoá", "Shop suspended");
    if (!strcmp(s, "token_expired")) return T(l, "Cần cho phép lại", "Needs your permission again");
    return s;
}

/* The sentence that tells the owner what happens next for one shop. */
static void account_next(cs_lang l, const char *state, const char *kind, const char *mp,
                         int has_link, const char *reason, char *out, size_t n)
{
    int api = !strcmp(kind, "api");
    if (!strcmp(state, "not_started")) {
        if (l == CS_LANG_EN) snprintf(out, n, "Nothing to do yet: a volunteer will contact you to open your shop on %s.", mp);
        else snprintf(out, n, "Chưa cần làm gì: tình nguyện viên sẽ liên hệ để mở gian hàng của bạn trên %s.", mp);
    } else if (!strcmp(state, "awaiting_owner") || !strcmp(state, "token_expired")) {
        if (api && has_link) {
            if (l == CS_LANG_EN) snprintf(out, n, "Open this link to let Chợ Số list your products on %s.", mp);
            else snprintf(out, n, "Mở liên kết này để cho phép Chợ Số đăng sản phẩm lên %s.", mp);
        } else if (api) {
            if (l == CS_LANG_EN) snprintf(out, n, "A volunteer will send you a link to give Chợ Số permission on %s.", mp);
            else snprintf(out, n, "Tình nguyện viên sẽ gửi bạn liên kết để cho phép Chợ Số đăng sản phẩm lên %s.", mp);
        } else {
            if (l == CS_LANG_EN) snprintf(out, n, "Finish registering your shop on %s with the papers the volunteer prepared.", mp);
            else snprintf(out, n, "Hoàn tất đăng ký gian hàng trên %s cùng tình nguyện viên, theo hồ sơ đã chuẩn bị.", mp);
        }
    } else if (!strcmp(state, "authorized")) {
        if (l == CS_LANG_EN) snprintf(out, n, "Thank you. Your shop on %s is being activated; nothing to do.", mp);
        else snprintf(out, n, "Cảm ơn bạn. Gian hàng trên %s đang được kích hoạt, bạn không cần làm gì thêm.", mp);
    } else if (!strcmp(state, "active")) {
        if (l == CS_LANG_EN) snprintf(out, n, "Your shop on %s is open. Answer buyers' messages and keep stock up to date.", mp);
        else snprintf(out, n, "Gian hàng trên %s đang mở. Hãy trả lời tin nhắn của người mua và cập nhật số hàng còn.", mp);
    } else if (!strcmp(state, "rejected")) {
        if (l == CS_LANG_EN) snprintf(out, n, "%s refused the shop (%s). Contact your volunteer to complete the papers.", mp, reason && *reason ? reason : "no reason given");
        else snprintf(out, n, "%s từ chối mở gian hàng (%s). Hãy liên hệ tình nguyện viên để bổ sung hồ sơ.", mp, reason && *reason ? reason : "sàn không nêu lý do");
    } else if (!strcmp(state, "suspended")) {
        if (l == CS_LANG_EN) snprintf(out, n, "%s has suspended your shop. Contact your volunteer.", mp);
        else snprintf(out, n, "%s đang tạm khoá gian hàng của bạn. Hãy liên hệ tình nguyện viên.", mp);
    } else {
        snprintf(out, n, "%s", "");
    }
}

static const char *listing_label(cs_lang l, const char *s)
{
    if (!strcmp(s, "draft")) return T(l, "Chưa gửi lên sàn", "Not sent yet");
    if (!strcmp(s, "queued")) return T(l, "Đang chờ gửi lên sàn", "Waiting to be sent");
    if (!strcmp(s, "submitted")) return T(l, "Đã gửi, sàn đang nhận", "Sent to the marketplace");
    if (!strcmp(s, "pending_review")) return T(l, "Sàn đang duyệt", "Being reviewed");
    if (!strcmp(s, "live")) return T(l, "Đang bán", "On sale");
    if (!strcmp(s, "rejected")) return T(l, "Bị sàn từ chối", "Refused by the marketplace");
    if (!strcmp(s, "delisted")) return T(l, "Đã gỡ khỏi sàn", "Taken down");
    if (!strcmp(s, "failed")) return T(l, "Gửi không thành công", "Could not be sent");
    return s;
}

static const char *listing_next(cs_lang l, const char *s)
{
    if (!strcmp(s, "live")) return T(l, "Sản phẩm đang được bán; hãy giữ số hàng còn cho đúng.", "It is on sale; keep the stock right.");
    if (!strcmp(s, "rejected")) return T(l, "Tình nguyện viên sẽ sửa theo lý do bên dưới rồi gửi lại; bạn có thể cần cung cấp thêm ảnh hoặc giấy tờ.", "A volunteer will fix it as the reason below says and send it again; you may be asked for photos or papers.");
    if (!strcmp(s, "failed")) return T(l, "Tình nguyện viên sẽ kiểm tra và gửi lại.", "A volunteer will look into it and send it again.");
    if (!strcmp(s, "delisted")) return T(l, "Liên hệ tình nguyện viên nếu bạn muốn bán lại sản phẩm này.", "Contact your volunteer to sell it again.");
    return T(l, "Không cần làm gì; hệ thống đang xử lý.", "Nothing to do; it is being handled.");
}

/* One listing of the view, in the owner's words. */
static json_t *listing_view(const cs_rows *ls, size_t i, const char *mp_name, cs_lang lang)
{
    const char *state = cs_rows_str(ls, i, 2);
    json_t *l = json_pack("{s:s,s:s,s:s,s:s,s:s}", "marketplace", cs_rows_str(ls, i, 1), "marketplace_name", mp_name,
                          "state", state, "state_text", listing_label(lang, state), "next_step",
                          listing_next(lang, state));
    if (!l) return NULL;
    json_object_set_new(l, "listing_url",
                        !strcmp(state, "live") && cs_rows_strn(ls, i, 3) ? json_string(cs_rows_str(ls, i, 3)) : json_null());
    if (!strcmp(state, "rejected") || !strcmp(state, "failed")) {
        json_object_set_new(l, "reason", cs_rows_strn(ls, i, 4) ? json_string(cs_rows_str(ls, i, 4)) : json_null());
        /* the marketplace's per-field complaints, as messages only */
        json_t *problems = json_array();
        json_t *fields = cs_rows_strn(ls, i, 5) ? json_loads(cs_rows_str(ls, i, 5), 0, NULL) : NULL;
        size_t k;
        json_t *f;
        json_array_foreach(fields, k, f)
        {
            json_t *msg = json_object_get(f, "message");
            if (json_is_string(msg))
                json_array_append_new(problems, json_pack("{s:O?,s:O}", "field", json_object_get(f, "field"), "message", msg));
        }
        json_decref(fields);
        json_object_set_new(l, "problems", problems);
    }
    return l;
}

/* A products-and-listings row by product id, then row number. */
struct lrow {
    int64_t pid;
    size_t row;
};

static int lrow_cmp(const void *a, const void *b)
{
    const struct lrow *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Build the view of household `id`. Returns the JSON or NULL with err set. Two round trips
 * (this is the page owners reload, and each trip costs more than the query): the household with
 * one row per marketplace and its account there, then the active products each with its
 * listings. Both are index look-ups; products are put in id order and their listings in the
 * marketplaces' display order here, not by sorting the join in the server. */
static json_t *owner_view(cs_db *db, int64_t id, cs_lang lang, cs_error *err)
{
    cs_rows *acc = NULL, *ls = NULL;
    json_t *out = NULL;
    /* acc: 0-4 the household (same on every row), 5-13 a marketplace and the account there
     * (5 NULL when no marketplace exists); ls: the listing in 0-5 as listing_view reads it
     * (1 NULL for a product with no listing), the product's name in 6 */
    if (cs_db_query(db, &acc,
                    "SELECT h.code, h.business_name, u.code, u.name, h.status, m.code, m.name, m.kind, m.enabled,"
                    " COALESCE(a.state, 'not_started'), a.shop_url, a.auth_link, a.last_error_message,"
                    " a.id IS NOT NULL FROM households h JOIN admin_units u ON u.code = h.commune_code"
                    " LEFT JOIN marketplaces m ON TRUE"
                    " LEFT JOIN seller_accounts a ON a.marketplace_code = m.code AND a.household_id = h.id"
                    " WHERE h.id = ? ORDER BY m.display_order, m.code",
                    "i", id, err) ||
        cs_db_query(db, &ls,
                    "SELECT p.id, l.marketplace_code, l.state, l.listing_url, l.last_error_message,"
                    " l.error_fields, p.name FROM products p LEFT JOIN listings l ON l.product_id = p.id"
                    " WHERE p.household_id = ? AND p.status = 'active'",
                    "i", id, err))
        goto out;
    if (!cs_rows_count(acc)) {
        cs_error_set(err, CS_E_NOT_FOUND, NULL);
        goto out;
    }
    out = json_pack("{s:s,s:o,s:{s:s,s:s},s:s}", "household_code", cs_rows_str(acc, 0, 0), "business_name",
                    cs_rows_strn(acc, 0, 1) ? json_string(cs_rows_str(acc, 0, 1)) : json_null(), "commune",
                    "code", cs_rows_str(acc, 0, 2), "name", cs_rows_str(acc, 0, 3), "status",
                    cs_rows_str(acc, 0, 4));
    json_t *shops = json_array(), *products = json_array();
    if (!out || !shops || !products) {
        json_decref(out), json_decref(shops), json_decref(products);
        out = NULL;
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    json_object_set_new(out, "seller_accounts", shops);
    json_object_set_new(out, "products", products);
    size_t nm = cs_rows_strn(acc, 0, 5) ? cs_rows_count(acc) : 0;
    char next[512];
    for (size_t i = 0; i < nm; i++) {
        /* a marketplace no longer offered still shows an account the household has there */
        if (!cs_rows_i64(acc, i, 8) && !cs_rows_i64(acc, i, 13)) continue;
        const char *state = cs_rows_str(acc, i, 9);
        const char *link = cs_rows_strn(acc, i, 11);
        int show_link = link && (!strcmp(state, "awaiting_owner") || !strcmp(state, "token_expired"));
        account_next(lang, state, cs_rows_str(acc, i, 7), cs_rows_str(acc, i, 6), show_link,
                     cs_rows_strn(acc, i, 12), next, sizeof next);
        json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s}", "marketplace", cs_rows_str(acc, i, 5),
                              "marketplace_name", cs_rows_str(acc, i, 6), "state", state, "state_text",
                              account_label(lang, state), "next_step", next);
        if (!s) continue;
        json_object_set_new(s, "auth_link", show_link ? json_string(link) : json_null());
        json_object_set_new(s, "shop_url", cs_rows_strn(acc, i, 10) ? json_string(cs_rows_str(acc, i, 10)) : json_null());
        json_array_append_new(shops, s);
    }
    /* rows grouped by product, products in id order (qsort on (id, row): stable) */
    size_t nl = cs_rows_count(ls);
    struct lrow *ord = nl ? cs_malloc(nl * sizeof *ord) : NULL;
    if (nl && !ord) {
        json_decref(out);
        out = NULL;
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < nl; i++) ord[i] = (struct lrow){cs_rows_i64(ls, i, 0), i};
    if (nl) qsort(ord, nl, sizeof *ord, lrow_cmp);
    for (size_t p = 0, end; p < nl; p = end) {
        int64_t pid = ord[p].pid;
        for (end = p + 1; end < nl && ord[end].pid == pid; end++) {}
        json_t *listings = json_array();
        for (size_t m = 0; listings && m < nm; m++)
            for (size_t k = p; k < end; k++) {
                size_t i = ord[k].row;
                if (cs_rows_strn(ls, i, 1) && !strcmp(cs_rows_str(ls, i, 1), cs_rows_str(acc, m, 5)))
                    json_array_append_new(listings, listing_view(ls, i, cs_rows_str(acc, m, 6), lang));
            }
        json_t *o = json_pack("{s:I,s:s,s:o}", "id", (json_int_t)pid, "name", cs_rows_str(ls, ord[p].row, 6),
                              "listings", listings ? listings : json_array());
        if (o) json_array_append_new(products, o);
    }
    cs_free(ord);
out:
    cs_rows_free(acc);
    cs_rows_free(ls);
    return out;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    return cs_buf_append(data, buf, size);
}

/* Check code + PIN and answer with the view. A live cached answer for exactly this code, PIN,
 * language and client address is sent as it is, with no database work and an Age header;
 * anything else (miss, expired, another or a wrong PIN) takes the full check — throttled and
 * audited in core — and a success refreshes the cache. Both paths send the same bytes: the
 * view is rendered once, as svc_reply_json would, and kept. */
static int answer(svc_req *r, const char *pin)
{
    const char *code = svc_param(r, "household_code");
    if (!code) code = "";
    unsigned age;
    svc_sc_blob *hit = svc_status_cache_get(code, r->lang, pin, r->client, &age);
    if (hit) {
        size_t len;
        const char *bytes = svc_sc_blob_data(hit, &len);
        char a[16];
        snprintf(a, sizeof a, "%u", age);
        const char *const hdrs[] = {"Age", a, NULL};
        int rc = svc_reply_bytes(r, 200, "application/json", bytes, len, hdrs);
        svc_sc_blob_release(hit);
        return rc;
    }
    cs_error err; /* cleared only now (7 KiB of memset): the hit above is the hot path */
    cs_error_clear(&err);
    svc_sc_ticket ticket;
    svc_status_cache_ticket(code, r->client, &ticket);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id;
    if (cs_household_check_pin(db, code, pin, r->client, r->request_id, &id, &err)) {
        if (err.code == CS_E_PIN_WRONG || err.code == CS_E_PIN_LOCKED) svc_status_cache_failed(code, r->client);
        return svc_reply_problem(r, &err);
    }
    json_t *v = owner_view(db, id, r->lang, &err);
    if (!v) return svc_reply_problem(r, &err);
    cs_buf b;
    cs_buf_init(&b, 0);
    int bad = json_dump_callback(v, dump_cb, &b, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (bad || !b.data) {
        cs_buf_free(&b);
        return svc_reply_error(r, CS_E_NOMEM, "%s", "status");
    }
    svc_status_cache_put(code, r->lang, pin, r->client, &ticket, b.data, b.len);
    int rc = svc_reply_bytes(r, 200, "application/json", b.data, b.len, NULL);
    cs_buf_free(&b);
    return rc;
}

int svc_status_get(svc_req *r)
{
    const char *pin = svc_header(r, "X-Owner-Pin");
    if (!pin || !*pin) return svc_reply_error(r, CS_E_UNAUTHENTICATED, "%s", "X-Owner-Pin header required");
    return answer(r, pin);
}

int svc_status_post(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *pin = NULL;
    cs_jfield spec[] = {
        {.name = "pin", .type = CS_J_STRING, .flags = CS_JF_REQUIRED, .min_len = 1, .max_len = 32, .out = &pin},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    return answer(r, pin);
}
