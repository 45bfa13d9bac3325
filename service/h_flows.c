/* service/h_flows: the HTTP side of the marketplace flows — start onboarding, the OAuth callback
 * and push webhooks (public), registration packs, upload sheets, confirmations, publish and
 * republish. Thin: checks who may act and hands the work to jobs/flows; never calls a
 * marketplace except the token exchange the callback must finish before it answers. */
#include "connectors/registry.h"
#include "core/buf.h"
#include "core/market.h"
#include "core/mem.h"
#include "core/products.h"
#include "jobs/flows.h"
#include "service/api.h"
#include "service/handlers.h"
#include <stdio.h>
#include <string.h>

/* The household of the path, checked for writing (or reading). 0, or -1 after replying. */
static int household_scope(svc_req *r, cs_db *db, int write, int64_t *id)
{
    cs_error err;
    cs_error_clear(&err);
    char commune[6];
    int erased = 0;
    if (cs_household_lookup(db, svc_param(r, "code"), id, commune, &erased, &err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    if (!(write ? svc_can_write_commune(r, commune) : svc_can_read_commune(r, commune))) {
        svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "household");
        return -1;
    }
    if (erased) {
        svc_reply_error(r, CS_E_GONE, "%s", "household");
        return -1;
    }
    return 0;
}

/* The commune owning a product or listing, checked for writing/reading. 0, or -1 after replying. */
static int row_scope(svc_req *r, cs_db *db,
                     int (*commune_of)(cs_db *, int64_t, char[6], cs_error *), int64_t id,
                     int write, const char *what)
{
    cs_error err;
    cs_error_clear(&err);
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", what), -1;
    char commune[6];
    int rc = commune_of(db, id, commune, &err);
    if (rc < 0) return svc_reply_problem(r, &err), -1;
    if (rc == 1) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", what), -1;
    if (!(write ? svc_can_write_commune(r, commune) : svc_can_read_commune(r, commune))) {
        svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", what);
        return -1;
    }
    return 0;
}

/* Text of up to 500 bytes (the columns these bodies fill are VARCHAR(500)). */
static int max_500_bytes(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)arg;
    return strlen(json_string_value(v)) > 500 ? cs_error_field(err, field, CS_F_TOO_LONG, "max 500")
                                              : 0;
}

/* A JSON body that is an object with exactly one string member `name`; its value or NULL after
 * replying (400 when not an object, 422 naming the field). */
static const char *one_string(svc_req *r, const char *name)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json)) {
        svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
        return NULL;
    }
    const char *value = NULL;
    const cs_jfield spec[] = {
        {.name = name,
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .check = max_500_bytes,
         .out = &value},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) {
        svc_reply_problem(r, &err);
        return NULL;
    }
    return value;
}

static json_t *account_json(cs_db *db, int64_t id, cs_error *err)
{
    cs_rows *q = NULL;
    if (cs_account_brief(db, id, &q, err)) return NULL;
    json_t *o = NULL;
    if (cs_rows_count(q))
        o = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)cs_rows_i64(q, 0, CS_ACB_ID),
                      "marketplace", cs_rows_str(q, 0, CS_ACB_MARKETPLACE), "state",
                      cs_rows_str(q, 0, CS_ACB_STATE), "kind", cs_rows_str(q, 0, CS_ACB_KIND));
    if (o) {
        const char *link = cs_rows_strn(q, 0, CS_ACB_AUTH_LINK);
        const char *shop = cs_rows_strn(q, 0, CS_ACB_SHOP_URL);
        json_object_set_new(o, "auth_link", link ? json_string(link) : json_null());
        json_object_set_new(o, "shop_url", shop ? json_string(shop) : json_null());
    }
    cs_rows_free(q);
    if (!o) cs_error_set(err, CS_E_NOMEM, NULL);
    return o;
}

int svc_accounts_start(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *mp = one_string(r, "marketplace");
    if (!mp) return 0;
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t hh;
    if (household_scope(r, db, 1, &hh)) return 0;
    const char *canon = cx_canonical_code(mp);
    if (!canon) {
        cs_error_field(&err, "marketplace", CS_F_MARKETPLACE, NULL);
        return svc_reply_problem(r, &err);
    }
    cs_actor a = svc_audit_actor(r);
    int64_t id = 0;
    int rc = job_flows_start_onboarding(db, hh, canon, &a, &id, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    json_t *o = account_json(db, id, &err);
    if (!o) return svc_reply_problem(r, &err);
    return svc_reply_json(r, rc == 0 ? 202 : 200, o);
}

/* The household's account on the path's marketplace: 0 and *id, or -1 after replying. */
static int path_account(svc_req *r, cs_db *db, int64_t hh, int64_t *id, const char **canon)
{
    cs_error err;
    cs_error_clear(&err);
    *canon = cx_canonical_code(svc_param(r, "marketplace"));
    if (!*canon) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "marketplace"), -1;
    int rc = cs_account_find(db, hh, *canon, id, &err);
    if (rc < 0) return svc_reply_problem(r, &err), -1;
    if (rc == 1) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "seller account"), -1;
    return 0;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The registration pack as a printable page; every text escaped. */
static int pack_html(const json_t *p, cs_buf *b)
{
    int bad =
        cs_buf_puts(b, "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Hồ "
                       "sơ đăng ký người bán – ") ||
        cs_buf_put_escaped(b, jstr(p, "display_name")) ||
        /* the site's CSP allows styles from our own files only (style-src 'self'): the
           look is web/pack.css, and the viewport makes it readable on a phone */
        cs_buf_puts(b, "</title><meta name=\"viewport\" content=\"width=device-width, "
                       "initial-scale=1\"><link rel=\"stylesheet\" href=\"/pack.css\">"
                       "</head><body><h1>Hồ sơ đăng ký người bán trên ") ||
        cs_buf_put_escaped(b, jstr(p, "display_name")) ||
        cs_buf_puts(b, "</h1><p>Trang đăng ký: ") || cs_buf_put_escaped(b, jstr(p, "signup_url")) ||
        cs_buf_puts(b, "<br>Sàn gọi người bán là: ") ||
        cs_buf_put_escaped(b, jstr(p, "seller_word")) ||
        cs_buf_puts(b, "</p><table><tr><th>Thông tin</th><th>Giá trị</th><th>Bắt buộc</th><th>Ghi "
                       "chú</th></tr>");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(p, "fields"), i, f)
    {
        int missing = json_is_true(json_object_get(f, "missing"));
        bad = bad || cs_buf_puts(b, missing ? "<tr class=\"missing\"><td>" : "<tr><td>") ||
              cs_buf_put_escaped(b, jstr(f, "label")) || cs_buf_puts(b, "</td><td>") ||
              cs_buf_put_escaped(b, missing ? "(cần bổ sung)" : jstr(f, "value")) ||
              cs_buf_puts(b, "</td><td>") ||
              cs_buf_puts(b, json_is_true(json_object_get(f, "required")) ? "Có" : "") ||
              cs_buf_puts(b, "</td><td>") || cs_buf_put_escaped(b, jstr(f, "note")) ||
              cs_buf_puts(b, "</td></tr>");
    }
    bad = bad || cs_buf_puts(b, "</table><h2>Các bước đăng ký</h2><ol>");
    json_array_foreach(json_object_get(p, "steps"), i, f) bad =
        bad || cs_buf_puts(b, "<li>") || cs_buf_put_escaped(b, json_string_value(f)) ||
        cs_buf_puts(b, "</li>");
    bad = bad || cs_buf_puts(b, "</ol><h2>Lưu ý</h2><ul>");
    json_array_foreach(json_object_get(p, "notes"), i, f) bad =
        bad || cs_buf_puts(b, "<li>") || cs_buf_put_escaped(b, json_string_value(f)) ||
        cs_buf_puts(b, "</li>");
    return bad || cs_buf_puts(b, "</ul></body></html>\n");
}

static int pack_reply(svc_req *r, int xlsx)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t hh, acc;
    const char *canon;
    if (household_scope(r, db, 1, &hh) || path_account(r, db, hh, &acc, &canon)) return 0;
    char *json = NULL;
    size_t jl = 0;
    if (job_flows_pack(db, svc_param(r, "code"), canon, &json, &jl, &err))
        return svc_reply_problem(r, &err);
    int rc;
    if (xlsx) {
        char *data = NULL;
        size_t len = 0;
        rc = job_flows_pack_xlsx(json, jl, &data, &len, &err);
        cs_free_secret(json, jl);
        if (rc) return svc_reply_problem(r, &err);
        static const char *const h[] = {"Content-Disposition",
                                        "attachment; filename=\"ho-so-dang-ky.xlsx\"", NULL};
        rc = svc_reply_bytes(r, 200,
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             data, len, h);
        cs_free_secret(data, len);
        return rc;
    }
    json_t *p = json_loadb(json, jl, 0, NULL);
    cs_free_secret(json, jl);
    if (!p) return svc_reply_error(r, CS_E_INTERNAL, "%s", "pack");
    cs_buf b;
    cs_buf_init(&b, 4u << 20);
    int bad = pack_html(p, &b);
    json_decref(p);
    if (bad) {
        cs_buf_free(&b);
        return svc_reply_error(r, CS_E_NOMEM, "%s", "pack");
    }
    rc = svc_reply_bytes(r, 200, "text/html; charset=utf-8", b.data, b.len, NULL);
    cs_free_secret(b.data, b.len);
    b.data = NULL;
    cs_buf_free(&b);
    return rc;
}

int svc_accounts_pack_html(svc_req *r)
{
    return pack_reply(r, 0);
}

int svc_accounts_pack_xlsx(svc_req *r)
{
    return pack_reply(r, 1);
}

int svc_accounts_confirm(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    const char *url = NULL, *shop_name = NULL;
    const cs_jfield spec[] = {
        {.name = "shop_url",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .check = max_500_bytes,
         .out = &url},
        /* the name the shop page must show; the household's business name when absent */
        {.name = "shop_name", .type = CS_J_STRING, .check = max_500_bytes, .out = &shop_name},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t hh, acc;
    const char *canon;
    if (household_scope(r, db, 1, &hh) || path_account(r, db, hh, &acc, &canon)) return 0;
    cs_actor a = svc_audit_actor(r);
    if (job_flows_confirm_shop(db, acc, url, shop_name, &a, &err))
        return svc_reply_problem(r, &err);
    json_t *o = account_json(db, acc, &err);
    /* 202: the shop page is fetched by job account.verify before the household counts */
    return o ? svc_reply_json(r, 202, o) : svc_reply_problem(r, &err);
}

/* The page the owner's browser lands on after authorising the shop. */
static int small_page(svc_req *r, int status, const char *title, const char *text)
{
    cs_buf b;
    cs_buf_init(&b, 64 * 1024);
    int bad =
        cs_buf_puts(
            &b, "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>") ||
        cs_buf_put_escaped(&b, title) || cs_buf_puts(&b, "</title></head><body><h1>") ||
        cs_buf_put_escaped(&b, title) || cs_buf_puts(&b, "</h1><p>") ||
        cs_buf_put_escaped(&b, text) || cs_buf_puts(&b, "</p></body></html>\n");
    int rc = bad ? svc_reply_error(r, CS_E_NOMEM, "%s", "page")
                 : svc_reply_bytes(r, status, "text/html; charset=utf-8", b.data, b.len, NULL);
    cs_buf_free(&b);
    return rc;
}

int svc_oauth_callback(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const cx_connector *c = cx_find(svc_param(r, "marketplace"));
    if (!c || c->kind != CX_KIND_API)
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "marketplace");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char shop[128];
    if (job_flows_oauth_callback(db, c->code, svc_query(r, "state"), svc_query(r, "code"),
                                 svc_query(r, "shop_id"), shop, &err)) {
        int st = cs_code_status(err.code);
        char text[300];
        snprintf(text, sizeof text,
                 "Chưa kết nối được cửa hàng với %s (%s). Hãy mở lại đường dẫn cấp quyền trên "
                 "trang tra cứu của hộ, "
                 "hoặc nhờ tình nguyện viên hỗ trợ.",
                 c->display_name, cs_code_name(err.code));
        return small_page(r, st >= 400 ? st : 502, "Chưa kết nối được", text);
    }
    char title[200], text[400];
    snprintf(title, sizeof title, "Đã kết nối %s", c->display_name);
    snprintf(text, sizeof text,
             "Cửa hàng%s%s đã được kết nối với Chợ Số. Sản phẩm của hộ sẽ được đăng lên %s; xem "
             "tiến độ trên trang tra "
             "cứu. Có thể đóng trang này.",
             shop[0] ? " " : "", shop, c->display_name);
    return small_page(r, 200, title, text);
}

static int webhook(svc_req *r, const char *mp)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    if (job_flows_webhook(db, mp, r->body ? r->body : "", r->body_len,
                          svc_header(r, "Authorization"), &err))
        return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

int svc_webhook_shopee(svc_req *r)
{
    return webhook(r, "shopee");
}

int svc_webhook_lazada(svc_req *r)
{
    return webhook(r, "lazada");
}

int svc_webhook_tiktok(svc_req *r)
{
    return webhook(r, "tiktok");
}

/* An empty list of marketplaces is a missing one (as before the specs: "required"). */
static int not_empty(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)arg;
    return json_array_size(v) ? 0 : cs_error_field(err, field, CS_F_REQUIRED, NULL);
}

int svc_listings_publish(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    const json_t *arr = NULL;
    static const cs_jfield code = {.name = "marketplace", .type = CS_J_STRING};
    const cs_jfield spec[] = {
        {.name = "marketplaces",
         .type = CS_J_ARRAY,
         .flags = CS_JF_REQUIRED,
         .max_len = 16,
         .items = &code,
         .check = not_empty,
         .out = &arr},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    const char *mps[16];
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++)
        mps[i] = json_string_value(json_array_get(arr, i));
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (row_scope(r, db, cs_market_product_commune, id, 1, "product")) return 0;
    cs_actor a = svc_audit_actor(r);
    json_t *out = NULL, *refused = NULL;
    if (job_flows_publish_each(db, id, mps, n, &a, &out, &refused, &err))
        return svc_reply_problem(r, &err);
    /* each refusal in the reader's language, as a problem's field errors are */
    size_t i, k;
    json_t *x, *f;
    json_array_foreach(refused, i, x)
    {
        json_array_foreach(json_object_get(x, "errors"), k, f)
        {
            cs_code c = cs_code_from_name(json_string_value(json_object_get(f, "code")));
            if (c != CS_CODE__COUNT)
                json_object_set_new(f, "message", json_string(cs_code_message(c, r->lang)));
        }
    }
    return svc_reply_json(r, 202,
                          json_pack("{s:I,s:o,s:o}", "product_id", (json_int_t)id, "listings", out,
                                    "refused", refused));
}

static int sheet_reply(svc_req *r, int xlsx)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (row_scope(r, db, cs_market_product_commune, id, 0, "product")) return 0;
    const char *canon = cx_canonical_code(svc_param(r, "marketplace"));
    if (!canon) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "marketplace");
    char *data = NULL;
    size_t len = 0;
    if (job_flows_sheet(db, id, canon, xlsx, &data, &len, &err)) return svc_reply_problem(r, &err);
    char disp[120];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s-san-pham-%lld.%s\"", canon,
             (long long)id, xlsx ? "xlsx" : "csv");
    const char *const h[] = {"Content-Disposition", disp, NULL};
    int rc =
        svc_reply_bytes(r, 200,
                        xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                             : "text/csv; charset=utf-8",
                        data, len, h);
    cs_free(data);
    return rc;
}

int svc_listings_sheet_xlsx(svc_req *r)
{
    return sheet_reply(r, 1);
}

int svc_listings_sheet_csv(svc_req *r)
{
    return sheet_reply(r, 0);
}

static json_t *listing_brief(cs_db *db, int64_t id, cs_error *err)
{
    cs_rows *q = NULL;
    if (cs_listing_brief(db, id, &q, err)) return NULL;
    json_t *o = cs_rows_count(q)
                    ? json_pack("{s:I,s:s,s:s}", "id", (json_int_t)cs_rows_i64(q, 0, CS_LSB_ID),
                                "marketplace", cs_rows_str(q, 0, CS_LSB_MARKETPLACE), "state",
                                cs_rows_str(q, 0, CS_LSB_STATE))
                    : NULL;
    if (o) {
        const char *url = cs_rows_strn(q, 0, CS_LSB_LISTING_URL);
        json_object_set_new(o, "listing_url", url ? json_string(url) : json_null());
    }
    cs_rows_free(q);
    if (!o) cs_error_set(err, CS_E_NOMEM, NULL);
    return o;
}

int svc_listings_confirm(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *url = one_string(r, "listing_url");
    if (!url) return 0;
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (row_scope(r, db, cs_market_listing_commune, id, 1, "listing")) return 0;
    cs_actor a = svc_audit_actor(r);
    if (job_flows_confirm_listing(db, id, url, &a, &err)) return svc_reply_problem(r, &err);
    json_t *o = listing_brief(db, id, &err);
    return o ? svc_reply_json(r, 202, o) : svc_reply_problem(r, &err);
}

int svc_listings_republish(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    /* no body is needed; one that says anything is refused rather than ignored */
    if (r->json && cs_json_check(r->json, cs_jspec_empty, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (row_scope(r, db, cs_market_listing_commune, id, 1, "listing")) return 0;
    cs_actor a = svc_audit_actor(r);
    int64_t job = 0;
    if (job_flows_republish(db, id, &a, &job, &err)) return svc_reply_problem(r, &err);
    json_t *o = listing_brief(db, id, &err);
    if (!o) return svc_reply_problem(r, &err);
    json_object_set_new(o, "job_id", json_integer(job));
    return svc_reply_json(r, 202, o);
}

/* Removal from our side: the product comes off every marketplace (API: listing.withdraw jobs;
 * assisted: withdrawing until the volunteer confirms the take-down). */
int svc_products_withdraw(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (r->json && cs_json_check(r->json, cs_jspec_empty, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (row_scope(r, db, cs_market_product_commune, id, 1, "product")) return 0;
    cs_actor a = svc_audit_actor(r);
    int n = 0;
    if (cs_product_withdraw(db, &a, id, &n, &err)) return svc_reply_problem(r, &err);
    /* the withdrawal stands even if queuing fails: listing.poll asks again */
    if (job_flows_withdrawals(db, &err) < 0) cs_error_clear(&err);
    return svc_reply_json(r, 202,
                          json_pack("{s:I,s:s,s:i}", "id", (json_int_t)id, "status", "archived",
                                    "listings_withdrawing", n));
}

int svc_listings_withdrawn(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (r->json && cs_json_check(r->json, cs_jspec_empty, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (row_scope(r, db, cs_market_listing_commune, id, 1, "listing")) return 0;
    cs_actor a = svc_audit_actor(r);
    if (job_flows_confirm_withdrawn(db, id, &a, &err)) return svc_reply_problem(r, &err);
    json_t *o = listing_brief(db, id, &err);
    return o ? svc_reply_json(r, 200, o) : svc_reply_problem(r, &err);
}
