/* service/h_status: the household owner's own page — code + PIN (header or POST body, never the
 * URL) opens a read-only view in plain words: each marketplace's shop and what to do next, each
 * product's listings and why one was refused. Nothing personal (no citizen ID, phone, birth
 * date, address, not even the owner's name) is in it. Browsers and proxies never keep it
 * (Cache-Control: no-store); this process reuses it for a moment (service/status_cache). */
#include "core/buf.h"
#include "core/households.h"
#include "core/mem.h"
#include "core/status.h"
#include "core/orders.h"
#include "core/vn.h"
#include "service/api.h"
#include "service/status_cache.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define T(lang, vi, en) ((lang) == CS_LANG_EN ? (en) : (vi))

/* Short label of a seller-account state. */
static const char *account_label(cs_lang l, const char *s)
{
    if (!strcmp(s, "not_started")) return T(l, "Chưa bắt đầu", "Not started");
    if (!strcmp(s, "awaiting_owner")) return T(l, "Đang chờ bạn", "Waiting for you");
    if (!strcmp(s, "pending_verification"))
        return T(l, "Đang kiểm tra gian hàng trên sàn", "Checking the shop page");
    if (!strcmp(s, "verification_failed"))
        return T(l, "Gian hàng chưa kiểm tra được", "The shop page could not be verified");
    if (!strcmp(s, "authorized"))
        return T(l, "Đã cho phép, đang kích hoạt", "Authorised, being activated");
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
        if (l == CS_LANG_EN)
            snprintf(out, n,
                     "Nothing to do yet: a volunteer will contact you to open your shop on %s.",
                     mp);
        else
            snprintf(
                out, n,
                "Chưa cần làm gì: tình nguyện viên sẽ liên hệ để mở gian hàng của bạn trên %s.",
                mp);
    } else if (!strcmp(state, "awaiting_owner") || !strcmp(state, "token_expired")) {
        if (api && has_link) {
            if (l == CS_LANG_EN)
                snprintf(out, n, "Open this link to let Chợ Số list your products on %s.", mp);
            else
                snprintf(out, n, "Mở liên kết này để cho phép Chợ Số đăng sản phẩm lên %s.", mp);
        } else if (api) {
            if (l == CS_LANG_EN)
                snprintf(out, n,
                         "A volunteer will send you a link to give Chợ Số permission on %s.", mp);
            else
                snprintf(
                    out, n,
                    "Tình nguyện viên sẽ gửi bạn liên kết để cho phép Chợ Số đăng sản phẩm lên %s.",
                    mp);
        } else {
            if (l == CS_LANG_EN)
                snprintf(
                    out, n,
                    "Finish registering your shop on %s with the papers the volunteer prepared.",
                    mp);
            else
                snprintf(out, n,
                         "Hoàn tất đăng ký gian hàng trên %s cùng tình nguyện viên, theo hồ sơ đã "
                         "chuẩn bị.",
                         mp);
        }
    } else if (!strcmp(state, "authorized")) {
        if (l == CS_LANG_EN)
            snprintf(out, n, "Thank you. Your shop on %s is being activated; nothing to do.", mp);
        else
            snprintf(
                out, n,
                "Cảm ơn bạn. Gian hàng trên %s đang được kích hoạt, bạn không cần làm gì thêm.",
                mp);
    } else if (!strcmp(state, "active")) {
        if (l == CS_LANG_EN)
            snprintf(out, n,
                     "Your shop on %s is open. Answer buyers' messages and keep stock up to date.",
                     mp);
        else
            snprintf(out, n,
                     "Gian hàng trên %s đang mở. Hãy trả lời tin nhắn của người mua và cập nhật số "
                     "hàng còn.",
                     mp);
    } else if (!strcmp(state, "rejected")) {
        if (l == CS_LANG_EN)
            snprintf(out, n,
                     "%s refused the shop (%s). Contact your volunteer to complete the papers.", mp,
                     reason && *reason ? reason : "no reason given");
        else
            snprintf(out, n,
                     "%s từ chối mở gian hàng (%s). Hãy liên hệ tình nguyện viên để bổ sung hồ sơ.",
                     mp, reason && *reason ? reason : "sàn không nêu lý do");
    } else if (!strcmp(state, "suspended")) {
        if (l == CS_LANG_EN)
            snprintf(out, n, "%s has suspended your shop. Contact your volunteer.", mp);
        else
            snprintf(out, n, "%s đang tạm khoá gian hàng của bạn. Hãy liên hệ tình nguyện viên.",
                     mp);
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
    if (!strcmp(s, "pending_verification"))
        return T(l, "Đang kiểm tra trang sản phẩm trên sàn", "Checking the product page");
    if (!strcmp(s, "verification_failed"))
        return T(l, "Trang sản phẩm chưa kiểm tra được", "The product page could not be verified");
    if (!strcmp(s, "suspended")) return T(l, "Sàn tạm ẩn sản phẩm", "Hidden by the marketplace");
    if (!strcmp(s, "withdrawing")) return T(l, "Đang gỡ khỏi sàn", "Being taken down");
    if (!strcmp(s, "withdrawn")) return T(l, "Đã rút khỏi sàn", "Withdrawn from sale");
    return s;
}

static const char *listing_next(cs_lang l, const char *s)
{
    if (!strcmp(s, "live"))
        return T(l, "Sản phẩm đang được bán; hãy giữ số hàng còn cho đúng.",
                 "It is on sale; keep the stock right.");
    if (!strcmp(s, "rejected"))
        return T(l,
                 "Tình nguyện viên sẽ sửa theo lý do bên dưới rồi gửi lại; bạn có thể cần cung cấp "
                 "thêm ảnh hoặc giấy tờ.",
                 "A volunteer will fix it as the reason below says and send it again; you may be "
                 "asked for photos or papers.");
    if (!strcmp(s, "failed"))
        return T(l, "Tình nguyện viên sẽ kiểm tra và gửi lại.",
                 "A volunteer will look into it and send it again.");
    if (!strcmp(s, "delisted"))
        return T(l, "Liên hệ tình nguyện viên nếu bạn muốn bán lại sản phẩm này.",
                 "Contact your volunteer to sell it again.");
    return T(l, "Không cần làm gì; hệ thống đang xử lý.", "Nothing to do; it is being handled.");
}

/* One listing of the view, in the owner's words. */
static json_t *listing_view(const cs_status_listing *ls, cs_lang lang)
{
    const char *state = ls->state;
    json_t *l = json_pack("{s:s,s:s,s:s,s:s,s:s}", "marketplace", ls->marketplace,
                          "marketplace_name", ls->marketplace_name, "state", state, "state_text",
                          listing_label(lang, state), "next_step", listing_next(lang, state));
    if (!l) return NULL;
    json_object_set_new(l, "listing_url",
                        !strcmp(state, "live") && ls->listing_url ? json_string(ls->listing_url)
                                                                  : json_null());
    if (!strcmp(state, "rejected") || !strcmp(state, "failed")) {
        json_object_set_new(l, "reason",
                            ls->last_error ? json_string(ls->last_error) : json_null());
        /* the marketplace's per-field complaints, as messages only */
        json_t *problems = json_array();
        json_t *fields = ls->error_fields ? json_loads(ls->error_fields, 0, NULL) : NULL;
        size_t k;
        json_t *f;
        json_array_foreach(fields, k, f)
        {
            json_t *msg = json_object_get(f, "message");
            if (json_is_string(msg))
                json_array_append_new(
                    problems,
                    json_pack("{s:O?,s:O}", "field", json_object_get(f, "field"), "message", msg));
        }
        json_decref(fields);
        json_object_set_new(l, "problems", problems);
    }
    return l;
}

/* The view of household `id` (read by core/status) in the owner's words. Returns the JSON or
 * NULL with err set. */
static json_t *owner_view(cs_db *db, int64_t id, cs_lang lang, cs_error *err)
{
    cs_status st;
    if (cs_status_read(db, id, &st, err)) return NULL;
    json_t *out =
        json_pack("{s:s,s:o,s:{s:s,s:s},s:s}", "household_code", st.household_code, "business_name",
                  st.business_name ? json_string(st.business_name) : json_null(), "commune", "code",
                  st.commune_code, "name", st.commune_name, "status", st.household_status);
    json_t *shops = json_array(), *products = json_array();
    if (!out || !shops || !products) {
        json_decref(out), json_decref(shops), json_decref(products);
        cs_status_free(&st);
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    json_object_set_new(out, "seller_accounts", shops);
    json_object_set_new(out, "products", products);
    char next[512];
    for (size_t i = 0; i < st.nshops; i++) {
        const cs_status_shop *sh = &st.shops[i];
        /* a marketplace no longer offered still shows an account the household has there */
        if (!sh->enabled && !sh->has_account) continue;
        const char *state = sh->state;
        const char *link = sh->auth_link;
        int show_link =
            link && (!strcmp(state, "awaiting_owner") || !strcmp(state, "token_expired"));
        account_next(lang, state, sh->kind, sh->marketplace_name, show_link, sh->last_error, next,
                     sizeof next);
        json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s}", "marketplace", sh->marketplace,
                              "marketplace_name", sh->marketplace_name, "state", state,
                              "state_text", account_label(lang, state), "next_step", next);
        if (!s) continue;
        json_object_set_new(s, "auth_link", show_link ? json_string(link) : json_null());
        json_object_set_new(s, "shop_url", sh->shop_url ? json_string(sh->shop_url) : json_null());
        json_array_append_new(shops, s);
    }
    /* each listing's orders this year (core/orders: delivered lines, Asia/Ho_Chi_Minh) */
    cs_rows *sales = NULL;
    if (cs_orders_by_listing(db, id, vn_today().y, &sales, err)) {
        json_decref(out);
        cs_status_free(&st);
        return NULL;
    }
    for (size_t p = 0; p < st.nproducts; p++) {
        const cs_status_product *prod = &st.products[p];
        json_t *listings = json_array();
        for (size_t k = 0; listings && k < prod->nlistings; k++) {
            json_t *lv = listing_view(&prod->listings[k], lang);
            for (size_t q = 0; lv && q < cs_rows_count(sales); q++) {
                if (cs_rows_i64(sales, q, CS_OBL_PRODUCT_ID) != prod->id ||
                    strcmp(cs_rows_str(sales, q, CS_OBL_MARKETPLACE),
                           prod->listings[k].marketplace))
                    continue;
                /* the listing id lets the owner say "Tôi đã bán được hàng" for it */
                json_object_set_new(lv, "listing_id",
                                    json_integer(cs_rows_i64(sales, q, CS_OBL_LISTING_ID)));
                json_object_set_new(
                    lv, "orders_this_year",
                    json_pack("{s:I,s:I,s:I}", "orders",
                              (json_int_t)cs_rows_i64(sales, q, CS_OBL_ORDERS), "units",
                              (json_int_t)cs_rows_i64(sales, q, CS_OBL_UNITS), "revenue_vnd",
                              (json_int_t)cs_rows_i64(sales, q, CS_OBL_REVENUE)));
            }
            json_array_append_new(listings, lv);
        }
        json_t *o = json_pack("{s:I,s:s,s:o}", "id", (json_int_t)prod->id, "name", prod->name,
                              "listings", listings ? listings : json_array());
        if (o) json_array_append_new(products, o);
    }
    cs_rows_free(sales);
    cs_status_free(&st);
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
    /* the code as typed ("th 2026 00037") is the code; one that cannot be is no guess */
    char code[24];
    if (cs_household_code_normalize(svc_param(r, "household_code"), code)) {
        cs_error bad;
        cs_error_clear(&bad);
        cs_error_field(&bad, "household_code", CS_E_HOUSEHOLD_CODE_FORMAT, NULL);
        cs_error_set(&bad, CS_E_HOUSEHOLD_CODE_FORMAT, NULL);
        return svc_reply_problem(r, &bad);
    }
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
        if (err.code == CS_E_PIN_WRONG || err.code == CS_E_PIN_LOCKED || err.code == CS_E_PIN_DAILY)
            svc_status_cache_failed(code, r->client);
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
    if (!pin || !*pin)
        return svc_reply_error(r, CS_E_UNAUTHENTICATED, "%s", "X-Owner-Pin header required");
    return answer(r, pin);
}

int svc_status_post(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *pin = NULL;
    cs_jfield spec[] = {
        {.name = "pin",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 32,
         .out = &pin},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    return answer(r, pin);
}
