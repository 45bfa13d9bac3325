/* service/h_sales: the sales people record for the marketplaces without an API (postmart.vn,
 * voso.vn) — a volunteer's record, the owner's "Tôi đã bán được hàng" claim from the owner page
 * (PIN), a volunteer's confirmation — and their list. Thin: checks who may act and hands the
 * work to core/orders; no SQL here. */
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/jspec.h"
#include "core/market.h"
#include "core/mem.h"
#include "core/media.h"
#include "core/orders.h"
#include "jobs/sales_import.h"
#include "service/api.h"
#include "core/vn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sale_body {
    int64_t listing, qty, amount;
    const char *order_code, *sold_on, *evidence, *pin;
};

/* The body of a sale (with_pin: the owner's, which carries the PIN). 0 or -1 after replying. */
static int read_sale(svc_req *r, int with_pin, struct sale_body *b)
{
    cs_error err;
    cs_error_clear(&err);
    memset(b, 0, sizeof *b);
    cs_jfield spec[] = {
        {.name = "listing_id",
         .type = CS_J_INT,
         .flags = CS_JF_REQUIRED,
         .min = 1,
         .max = INT64_MAX,
         .out = &b->listing},
        {.name = "order_code",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 64,
         .out = &b->order_code},
        {.name = "sold_on",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 6,
         .max_len = 10,
         .out = &b->sold_on},
        {.name = "quantity",
         .type = CS_J_INT,
         .flags = CS_JF_REQUIRED,
         .min = 1,
         .max = 100000,
         .out = &b->qty},
        {.name = "amount_vnd",
         .type = CS_J_INT,
         .flags = CS_JF_REQUIRED,
         .min = 0,
         .max = 10000000000LL,
         .out = &b->amount},
        {.name = "evidence_sha256",
         .type = CS_J_STRING,
         .min_len = 64,
         .max_len = 64,
         .out = &b->evidence},
        {.name = with_pin ? "pin" : NULL,
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 32,
         .out = &b->pin},
        {.name = NULL},
    };
    if (!r->json || !json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "a JSON object is expected"), -1;
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err), -1;
    return 0;
}

static json_t *claim_json(const cs_rows *q, size_t i)
{
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s}", "id",
        (json_int_t)cs_rows_i64(q, i, CS_SC_ID), "marketplace",
        cs_rows_str(q, i, CS_SC_MARKETPLACE), "order_code", cs_rows_str(q, i, CS_SC_ORDER_CODE),
        "listing_id", (json_int_t)cs_rows_i64(q, i, CS_SC_LISTING_ID), "product_id",
        (json_int_t)cs_rows_i64(q, i, CS_SC_PRODUCT_ID), "product_name",
        cs_rows_str(q, i, CS_SC_PRODUCT_NAME), "household_code",
        cs_rows_str(q, i, CS_SC_HOUSEHOLD_CODE), "commune_code", cs_rows_str(q, i, CS_SC_COMMUNE),
        "sold_on", cs_rows_str(q, i, CS_SC_SOLD_ON), "quantity",
        (json_int_t)cs_rows_i64(q, i, CS_SC_QTY), "amount_vnd",
        (json_int_t)cs_rows_i64(q, i, CS_SC_AMOUNT), "source", cs_rows_str(q, i, CS_SC_SOURCE),
        "state", cs_rows_str(q, i, CS_SC_STATE), "created_at", cs_rows_str(q, i, CS_SC_CREATED_AT));
    if (o)
        json_object_set_new(o, "evidence_sha256",
                            cs_rows_isnull(q, i, CS_SC_EVIDENCE)
                                ? json_null()
                                : json_string(cs_rows_str(q, i, CS_SC_EVIDENCE)));
    if (o && !cs_rows_isnull(q, i, CS_SC_EVIDENCE)) {
        char url[64];
        snprintf(url, sizeof url, "/v1/sales/%lld/evidence",
                 (long long)cs_rows_i64(q, i, CS_SC_ID));
        json_object_set_new(o, "evidence_url", json_string(url));
    }
    return o;
}

/* The record `id` as JSON, or NULL with err. */
static json_t *claim_by_id(cs_db *db, int64_t id, cs_error *err)
{
    cs_rows *q = NULL;
    if (cs_sale_list(db, NULL, NULL, id - 1, 1, &q, err)) return NULL;
    json_t *o =
        cs_rows_count(q) == 1 && cs_rows_i64(q, 0, CS_SC_ID) == id ? claim_json(q, 0) : NULL;
    if (!o && !err->code) cs_error_set(err, CS_E_NOT_FOUND, "sale");
    cs_rows_free(q);
    return o;
}

static int reply_claim(svc_req *r, cs_db *db, int64_t id, int status, int duplicate)
{
    cs_error err;
    cs_error_clear(&err);
    json_t *o = claim_by_id(db, id, &err);
    if (!o) return svc_reply_problem(r, &err);
    json_object_set_new(o, "duplicate", json_boolean(duplicate));
    return svc_reply_json(r, status, o);
}

static int record(svc_req *r, cs_db *db, const struct sale_body *b, const cs_actor *a,
                  const char *source)
{
    cs_error err;
    cs_error_clear(&err);
    cs_sale_claim c = {.marketplace = NULL,
                       .order_code = b->order_code,
                       .listing_id = b->listing,
                       .sold_on = b->sold_on,
                       .qty = b->qty,
                       .amount_vnd = b->amount,
                       .source = source,
                       .evidence = b->evidence};
    int64_t id = 0;
    int rc = cs_sale_record(db, a, &c, &id, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    /* the same marketplace order code again: the first record stands, nothing counts twice */
    return reply_claim(r, db, id, rc ? 200 : 201, rc);
}

/* POST /v1/sales: a volunteer records a sale seen in the seller centre; it counts at once. */
int svc_sales_create(svc_req *r)
{
    struct sale_body b;
    if (read_sale(r, 0, &b)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6];
    int rc = cs_market_listing_commune(db, b.listing, commune, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 1) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing");
    if (!svc_can_write_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "listing");
    cs_actor a = svc_audit_actor(r);
    return record(r, db, &b, &a, "volunteer");
}

/* POST /v1/status/{household_code}/sales: the owner's "Tôi đã bán được hàng" (PIN in the body);
 * it waits for a volunteer's confirmation before it counts. */
int svc_status_sales_create(svc_req *r)
{
    struct sale_body b;
    if (read_sale(r, 1, &b)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    const char *code = svc_param(r, "household_code");
    int64_t hh = 0, owner_of = 0;
    if (cs_household_check_pin(db, code ? code : "", b.pin, r->client, r->request_id, &hh, &err))
        return svc_reply_problem(r, &err);
    int rc = cs_orders_listing_household(db, b.listing, &owner_of, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 1 || owner_of != hh)
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing of this household");
    cs_actor a = {.kind = CS_ACTOR_OWNER};
    snprintf(a.id, sizeof a.id, "%s", code);
    snprintf(a.request_id, sizeof a.request_id, "%s", r->request_id);
    snprintf(a.client, sizeof a.client, "%s", r->client);
    return record(r, db, &b, &a, "owner");
}

/* POST /v1/sales/{id}/decision {"accept": true|false}: a volunteer confirms or refuses an
 * owner's claim. */
int svc_sales_decide(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int accept = 0;
    cs_jfield spec[] = {
        {.name = "accept", .type = CS_J_BOOL, .flags = CS_JF_REQUIRED, .out = &accept},
        {.name = NULL},
    };
    if (!r->json || !json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "a JSON object is expected");
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    char commune[6];
    int rc = id ? cs_sale_commune(db, id, commune, &err) : 1;
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 1) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "sale");
    if (!svc_can_write_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "sale");
    cs_actor a = svc_audit_actor(r);
    rc = cs_sale_decide(db, &a, id, accept, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 1)
        return svc_reply_error(r, CS_E_STATE_TRANSITION, "%s",
                               "the sale is not waiting for a decision");
    return reply_claim(r, db, id, 200, 0);
}

/* GET /v1/sales?state=&after=&limit=: the records in the reader's communes. */
int svc_sales_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    static const char *const states[] = {"pending", "confirmed", "rejected", NULL};
    const char *state = NULL;
    int64_t after = 0;
    int limit = 50;
    if (svc_api_query_enum(r, "state", states, &state, &err)) return svc_reply_problem(r, &err);
    if (svc_api_page(r, &after, &limit)) return 0;
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    const char **scope = NULL;
    size_t n = 0;
    if (svc_api_scope(r, &scope, &n)) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    cs_buf s;
    cs_buf_init(&s, 4096);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++)
        bad = (i && cs_buf_putc(&s, ',')) || cs_buf_puts(&s, scope[i]);
    if (scope && !n) bad = bad || cs_buf_puts(&s, "");
    const char *sc = scope ? (s.data ? s.data : "") : NULL;
    cs_rows *q = NULL;
    int rc = bad ? cs_error_set(&err, CS_E_NOMEM, NULL)
                 : cs_sale_list(db, sc, state, after, limit + 1, &q, &err);
    cs_free(scope);
    cs_buf_free(&s);
    if (rc) return svc_reply_problem(r, &err);
    json_t *items = json_array();
    size_t count = cs_rows_count(q);
    int64_t next = 0;
    for (size_t i = 0; i < count && i < (size_t)limit; i++)
        json_array_append_new(items, claim_json(q, i));
    if (count > (size_t)limit) next = cs_rows_i64(q, (size_t)limit - 1, CS_SC_ID);
    cs_rows_free(q);
    return svc_api_reply_page(r, items, next);
}

/* The reader's communes as "c1,c2" for FIND_IN_SET (*out NULL = every commune; "" = none). 0, or
 * -1 out of memory. The caller frees *out with cs_free. */
static int scope_text(const svc_req *r, char **out)
{
    *out = NULL;
    const char **scope = NULL;
    size_t n = 0;
    if (svc_api_scope(r, &scope, &n)) return -1;
    if (!scope) return 0;
    cs_buf s;
    cs_buf_init(&s, 4096);
    int bad = cs_buf_puts(&s, "");
    for (size_t i = 0; i < n && !bad; i++)
        bad = (i && cs_buf_putc(&s, ',')) || cs_buf_puts(&s, scope[i]);
    cs_free(scope);
    if (bad || !(*out = cs_strdup(s.data ? s.data : ""))) {
        cs_buf_free(&s);
        return -1;
    }
    cs_buf_free(&s);
    return 0;
}

/* GET /v1/sales/summary?year=&by=product|household|commune|former_district|marketplace|month:
 * delivered orders, units and revenue of the year from the order counters. */
int svc_sales_summary(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    static const char *const bys[] = {"product",     "household", "commune", "former_district",
                                      "marketplace", "month",     NULL};
    const char *by = NULL, *ys = svc_query(r, "year");
    if (svc_api_query_enum(r, "by", bys, &by, &err)) return svc_reply_problem(r, &err);
    long year = vn_today().y;
    if (ys) {
        char *end;
        year = strtol(ys, &end, 10);
        if (*end || year < 2000 || year > 2100)
            return cs_error_field(&err, "year", CS_F_RANGE, "2000-2100"),
                   svc_reply_problem(r, &err);
    }
    if (!by) by = "marketplace";
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char *scope = NULL;
    if (scope_text(r, &scope)) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    int64_t orders = 0, units = 0, revenue = 0;
    cs_rows *q = NULL;
    int rc = cs_orders_totals(db, (int)year, scope, &orders, &units, &revenue, &err) ||
             cs_orders_breakdown(db, (int)year, by, scope, &q, &err);
    cs_free(scope);
    if (rc) return svc_reply_problem(r, &err);
    json_t *rows = json_array();
    for (size_t i = 0; i < cs_rows_count(q); i++)
        json_array_append_new(
            rows, json_pack("{s:s,s:s,s:I,s:I,s:I}", "key", cs_rows_str(q, i, CS_OBY_KEY), "name",
                            cs_rows_str(q, i, CS_OBY_NAME), "orders",
                            (json_int_t)cs_rows_i64(q, i, CS_OBY_ORDERS), "units",
                            (json_int_t)cs_rows_i64(q, i, CS_OBY_UNITS), "revenue_vnd",
                            (json_int_t)cs_rows_i64(q, i, CS_OBY_REVENUE)));
    cs_rows_free(q);
    return svc_reply_json(r, 200,
                          json_pack("{s:i,s:s,s:{s:I,s:I,s:I},s:o}", "year", (int)year, "by", by,
                                    "total", "orders", (json_int_t)orders, "units",
                                    (json_int_t)units, "revenue_vnd", (json_int_t)revenue,
                                    "breakdown", rows));
}

/* ---- evidence: the seller centre's screenshot kept with a recorded sale -------------------- */

/* The sale of {id} as JSON with its commune checked for reading (write: for writing). Replies
 * and returns NULL when the caller may not see (or act on) it. */
static json_t *sale_for(svc_req *r, cs_db *db, int write)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t id = svc_api_param_id(r, "id");
    json_t *o = id ? claim_by_id(db, id, &err) : NULL;
    if (!o) {
        if (!id || err.code == CS_E_NOT_FOUND)
            svc_reply_error(r, CS_E_NOT_FOUND, "%s", "sale");
        else
            svc_reply_problem(r, &err);
        return NULL;
    }
    const char *commune = json_string_value(json_object_get(o, "commune_code"));
    if (!(write ? svc_can_write_commune(r, commune) : svc_can_read_commune(r, commune))) {
        json_decref(o);
        /* writing: refused like the decision; reading: a reader outside the commune learns
         * nothing, not even that the sale exists */
        if (write)
            svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "sale");
        else
            svc_reply_error(r, CS_E_NOT_FOUND, "%s", "sale");
        return NULL;
    }
    return o;
}

struct keep_ctx {
    const cs_actor *a;
    int64_t id;
    const char *sha;
};

static int keep_evidence(cs_db *db, void *arg, cs_error *err)
{
    struct keep_ctx *k = arg;
    int rc = cs_sale_set_evidence(db, k->a, k->id, k->sha, err);
    if (rc < 0) return -1;
    /* refused: svc_media_keep then drops the new bytes nobody uses */
    if (rc == 1)
        return cs_error_set(err, CS_E_CONFLICT, "%s",
                            "the sale already keeps another screenshot as its evidence");
    return 0;
}

/* POST /v1/sales/{id}/evidence (multipart, part "image"): the screenshot of the seller centre
 * that shows the sale. The type is decided by the bytes (JPEG, PNG, WebP); a sale keeps one
 * screenshot for good (another one is refused with 409). */
int svc_sales_evidence_put(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const svc_part *img = NULL;
    for (size_t i = 0; i < r->nparts; i++) {
        const svc_part *p = &r->parts[i];
        if (!strcmp(p->name, "image") && !img)
            img = p;
        else
            cs_error_field(&err, p->name, CS_F_UNKNOWN, "image");
    }
    if (!img || !img->len) cs_error_field(&err, "image", CS_F_REQUIRED, NULL);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    if (img->len > (size_t)cs_cfg_int("media.max_image"))
        return svc_reply_error(r, CS_E_TOO_LARGE, "image larger than %ld bytes",
                               cs_cfg_int("media.max_image"));
    if (!svc_image_type(img->data, img->len)) {
        cs_error_set(&err, CS_F_IMAGE_TYPE, "JPEG, PNG, WebP");
        cs_error_field(&err, "image", CS_F_IMAGE_TYPE, NULL);
        return svc_reply_problem(r, &err);
    }
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *o = sale_for(r, db, 1);
    if (!o) return 0;
    int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    unsigned char digest[32];
    char sha[65];
    cs_sha256(img->data, img->len, digest);
    cs_hex(digest, 32, sha);
    cs_actor a = svc_audit_actor(r);
    struct keep_ctx k = {&a, id, sha};
    if (svc_media_keep(db, sha, img->data, img->len, keep_evidence, &k, &err))
        return svc_reply_problem(r, &err);
    return reply_claim(r, db, id, 200, 0);
}

/* POST /v1/status/{household_code}/sales/{id}/evidence (multipart: "pin", "image"): the owner
 * adds a screenshot of the seller centre to their own "Tôi đã bán được hàng" claim while it
 * waits for a volunteer (issue 11 point 5). The PIN is checked and throttled exactly as on the
 * owner page; another household's sale, a volunteer's record or a decided claim is not found.
 * The same keep-one rule as the volunteer's evidence; audited as the owner. */
int svc_status_sales_evidence_put(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const svc_part *img = NULL, *pin = NULL;
    for (size_t i = 0; i < r->nparts; i++) {
        const svc_part *p = &r->parts[i];
        if (!strcmp(p->name, "image") && !img)
            img = p;
        else if (!strcmp(p->name, "pin") && !pin && !p->filename)
            pin = p;
        else
            cs_error_field(&err, p->name, CS_F_UNKNOWN, "pin, image");
    }
    if (!pin || !pin->len) cs_error_field(&err, "pin", CS_F_REQUIRED, NULL);
    if (!img || !img->len) cs_error_field(&err, "image", CS_F_REQUIRED, NULL);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    if (img->len > (size_t)cs_cfg_int("media.max_image"))
        return svc_reply_error(r, CS_E_TOO_LARGE, "image larger than %ld bytes",
                               cs_cfg_int("media.max_image"));
    if (!svc_image_type(img->data, img->len)) {
        cs_error_set(&err, CS_F_IMAGE_TYPE, "JPEG, PNG, WebP");
        cs_error_field(&err, "image", CS_F_IMAGE_TYPE, NULL);
        return svc_reply_problem(r, &err);
    }
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    const char *code = svc_param(r, "household_code");
    int64_t hh = 0;
    if (cs_household_check_pin(db, code ? code : "", pin->data, r->client, r->request_id, &hh,
                               &err))
        return svc_reply_problem(r, &err);
    char canon[24];
    if (cs_household_code_normalize(code ? code : "", canon)) canon[0] = 0;
    int64_t id = svc_api_param_id(r, "id");
    json_t *o = id ? claim_by_id(db, id, &err) : NULL;
    if (!o && id && err.code != CS_E_NOT_FOUND) return svc_reply_problem(r, &err);
    const char *of = o ? json_string_value(json_object_get(o, "household_code")) : NULL;
    const char *src = o ? json_string_value(json_object_get(o, "source")) : NULL;
    const char *st = o ? json_string_value(json_object_get(o, "state")) : NULL;
    int mine =
        of && src && st && !strcmp(of, canon) && !strcmp(src, "owner") && !strcmp(st, "pending");
    json_decref(o);
    if (!mine) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "pending sale of this household");
    unsigned char digest[32];
    char sha[65];
    cs_sha256(img->data, img->len, digest);
    cs_hex(digest, 32, sha);
    cs_actor a = {.kind = CS_ACTOR_OWNER};
    snprintf(a.id, sizeof a.id, "%s", canon);
    snprintf(a.request_id, sizeof a.request_id, "%s", r->request_id);
    snprintf(a.client, sizeof a.client, "%s", r->client);
    struct keep_ctx k = {&a, id, sha};
    if (svc_media_keep(db, sha, img->data, img->len, keep_evidence, &k, &err))
        return svc_reply_problem(r, &err);
    return reply_claim(r, db, id, 200, 0);
}

/* GET /v1/sales/{id}/evidence: the screenshot, to whoever may see the sale (never cached by a
 * shared cache: it may show a buyer's order). */
int svc_sales_evidence_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *o = sale_for(r, db, 0);
    if (!o) return 0;
    char sha[65] = "";
    const char *s = json_string_value(json_object_get(o, "evidence_sha256"));
    if (s) snprintf(sha, sizeof sha, "%s", s);
    json_decref(o);
    if (!svc_sha_hex_ok(sha)) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "evidence");
    void *data = NULL;
    size_t len = 0;
    int have = cs_media_read(db, sha, &data, &len, &err);
    if (have < 0) return svc_reply_problem(r, &err);
    const char *mime = have == 0 ? svc_image_type(data, len) : NULL;
    if (!mime) {
        cs_free(data);
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "evidence");
    }
    const char *const hdrs[] = {"Cache-Control", "private, max-age=3600", "X-Content-Type-Options",
                                "nosniff", NULL};
    int rc = svc_reply_bytes(r, 200, mime, data, len, hdrs);
    cs_free(data);
    return rc;
}

/* ---- the seller centre's order export, uploaded -------------------------------------------- */

static int import_allow(void *ctx, cs_db *db, int64_t listing, cs_error *err)
{
    svc_req *r = ctx;
    char commune[6];
    int rc = cs_market_listing_commune(db, listing, commune, err);
    if (rc < 0) return -1;
    if (rc == 1) return 0; /* unknown: refused by cs_sale_record as not found */
    return svc_can_write_commune(r, commune) ? 0 : 1;
}

/* POST /v1/sales/import (multipart: "marketplace" postmart|voso, "file" the CSV/XLSX export):
 * the same work as `choso orders import`; a volunteer's rows outside their communes are refused
 * row by row. The answer is the report, row problems in Vietnamese ("dòng N: …"). */
int svc_sales_import(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const svc_part *file = NULL;
    const char *mp = NULL;
    for (size_t i = 0; i < r->nparts; i++) {
        const svc_part *p = &r->parts[i];
        if (!strcmp(p->name, "file") && !file)
            file = p;
        else if (!strcmp(p->name, "marketplace") && !mp)
            mp = p->data;
        else
            cs_error_field(&err, p->name, CS_F_UNKNOWN, "marketplace, file");
    }
    if (!file || !file->len) cs_error_field(&err, "file", CS_F_REQUIRED, NULL);
    if (!mp || !*mp) cs_error_field(&err, "marketplace", CS_F_REQUIRED, NULL);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor a = svc_audit_actor(r);
    job_sales_report rep;
    if (job_sales_import_scoped(db, &a, mp, file->data, file->len, import_allow, r, &rep, &err))
        return svc_reply_problem(r, &err);
    json_t *errors = json_array();
    char *save = NULL;
    for (char *line = strtok_r(rep.errors, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        json_array_append_new(errors, json_string(line));
    return svc_reply_json(r, 200,
                          json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "marketplace", mp, "rows",
                                    (json_int_t)rep.rows, "recorded", (json_int_t)rep.recorded,
                                    "duplicates", (json_int_t)rep.duplicates, "skipped",
                                    (json_int_t)rep.skipped, "rejected", (json_int_t)rep.rejected,
                                    "errors", errors));
}
