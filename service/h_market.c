/* service/h_market: read-only views of seller accounts and listings (their actions arrive with
 * the connectors). Never returns a marketplace token or an OAuth state, and the owner's
 * authorisation link only to those who may act for that commune. */
#include "core/market.h"
#include "core/mem.h"
#include "service/api.h"
#include <stdio.h>
#include <string.h>

static const char *const account_states[] = {"not_started",
                                             "awaiting_owner",
                                             "authorized",
                                             "active",
                                             "rejected",
                                             "suspended",
                                             "token_expired",
                                             "pending_verification",
                                             "verification_failed",
                                             NULL};
static const char *const listing_states[] = {"draft",
                                             "queued",
                                             "submitted",
                                             "pending_review",
                                             "live",
                                             "rejected",
                                             "delisted",
                                             "failed",
                                             "pending_verification",
                                             "verification_failed",
                                             "suspended",
                                             "withdrawing",
                                             "withdrawn",
                                             NULL};
#define MP_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define CODE_CHARS "TH-0123456789"

static json_t *str_or_null(const cs_rows *r, size_t i, unsigned c)
{
    return cs_rows_isnull(r, i, c) ? json_null() : json_string(cs_rows_str(r, i, c));
}

/* The volunteer scope as "c1,c2" for FIND_IN_SET, NULL for roles that see everything; *oom set
 * when memory ran out. Caller frees. */
static char *scope_csv(const svc_req *r, int *oom)
{
    *oom = 0;
    if (r->actor.role != SVC_ROLE_VOLUNTEER) return NULL;
    size_t n = r->actor.ncommunes;
    char *s = cs_malloc(n * SVC_COMMUNE_LEN + 1);
    if (!s) {
        *oom = 1;
        return NULL;
    }
    size_t o = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(r->actor.communes[i]);
        if (o) s[o++] = ',';
        memcpy(s + o, r->actor.communes[i], l);
        o += l;
        s[o] = '\0';
    }
    return s;
}

int svc_accounts_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t after;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    const char *state, *mp, *commune, *household;
    svc_api_query_enum(r, "state", account_states, &state, &err);
    svc_api_query_token(r, "marketplace", MP_CHARS, 20, &mp, &err);
    svc_api_query_token(r, "commune", "0123456789", 5, &commune, &err);
    svc_api_query_token(r, "household", CODE_CHARS, 20, &household, &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    if (commune && !svc_can_read_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "commune %s", commune);
    int oom;
    char *scope = scope_csv(r, &oom);
    if (oom) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    cs_db *db = svc_db(r, &err);
    cs_rows *rows = NULL;
    cs_market_filter f = {.scope = scope,
                          .state = state,
                          .marketplace = mp,
                          .commune = commune,
                          .household = household,
                          .after = after,
                          .limit = (int64_t)limit + 1};
    int rc = !db || cs_account_page(db, &f, &rows, &err);
    cs_free(scope);
    if (rc) return svc_reply_problem(r, &err);
    json_t *items = json_array();
    size_t n = cs_rows_count(rows);
    for (size_t i = 0; items && i < n && i < (size_t)limit; i++) {
        json_t *o = json_pack(
            "{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)cs_rows_i64(rows, i, CS_ACC_ID),
            "household_code", cs_rows_str(rows, i, CS_ACC_HOUSEHOLD_CODE), "commune_code",
            cs_rows_str(rows, i, CS_ACC_COMMUNE), "marketplace",
            cs_rows_str(rows, i, CS_ACC_MARKETPLACE), "state", cs_rows_str(rows, i, CS_ACC_STATE));
        if (!o) continue;
        json_object_set_new(o, "external_shop_id", str_or_null(rows, i, CS_ACC_EXTERNAL_SHOP_ID));
        json_object_set_new(o, "shop_url", str_or_null(rows, i, CS_ACC_SHOP_URL));
        /* the authorisation link acts for the household: only for those who act for it */
        json_object_set_new(o, "auth_link",
                            svc_can_write_commune(r, cs_rows_str(rows, i, CS_ACC_COMMUNE))
                                ? str_or_null(rows, i, CS_ACC_AUTH_LINK)
                                : json_null());
        json_object_set_new(o, "authorized_at", str_or_null(rows, i, CS_ACC_AUTHORIZED_AT));
        json_object_set_new(o, "activated_at", str_or_null(rows, i, CS_ACC_ACTIVATED_AT));
        json_object_set_new(o, "access_expires_at", str_or_null(rows, i, CS_ACC_ACCESS_EXPIRES_AT));
        json_object_set_new(o, "last_error",
                            cs_rows_isnull(rows, i, CS_ACC_ERROR_CODE)
                                ? json_null()
                                : json_pack("{s:s,s:s}", "code",
                                            cs_rows_str(rows, i, CS_ACC_ERROR_CODE), "message",
                                            cs_rows_str(rows, i, CS_ACC_ERROR_MESSAGE)));
        json_object_set_new(o, "version", json_integer(cs_rows_i64(rows, i, CS_ACC_VERSION)));
        json_object_set_new(o, "created_at", json_string(cs_rows_str(rows, i, CS_ACC_CREATED_AT)));
        json_object_set_new(o, "updated_at", json_string(cs_rows_str(rows, i, CS_ACC_UPDATED_AT)));
        json_array_append_new(items, o);
    }
    int64_t next = n > (size_t)limit ? cs_rows_i64(rows, (size_t)limit - 1, CS_ACC_ID) : 0;
    cs_rows_free(rows);
    return svc_api_reply_page(r, items, next);
}

static json_t *listing_json(const cs_rows *rows, size_t i)
{
    json_t *o = json_pack(
        "{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)cs_rows_i64(rows, i, CS_LST_ID),
        "product_id", (json_int_t)cs_rows_i64(rows, i, CS_LST_PRODUCT_ID), "product_name",
        cs_rows_str(rows, i, CS_LST_PRODUCT_NAME), "household_code",
        cs_rows_str(rows, i, CS_LST_HOUSEHOLD_CODE), "commune_code",
        cs_rows_str(rows, i, CS_LST_COMMUNE), "marketplace",
        cs_rows_str(rows, i, CS_LST_MARKETPLACE), "state", cs_rows_str(rows, i, CS_LST_STATE),
        "flagship", (int)cs_rows_i64(rows, i, CS_LST_FLAGSHIP));
    if (!o) return NULL;
    json_object_set_new(o, "external_item_id", str_or_null(rows, i, CS_LST_EXTERNAL_ITEM_ID));
    json_object_set_new(o, "listing_url", str_or_null(rows, i, CS_LST_LISTING_URL));
    json_t *error = json_null();
    if (!cs_rows_isnull(rows, i, CS_LST_ERROR_CODE)) {
        json_t *fields = cs_rows_strn(rows, i, CS_LST_ERROR_FIELDS)
                             ? json_loads(cs_rows_str(rows, i, CS_LST_ERROR_FIELDS), 0, NULL)
                             : NULL;
        error = json_pack("{s:s,s:s,s:o}", "code", cs_rows_str(rows, i, CS_LST_ERROR_CODE),
                          "message", cs_rows_str(rows, i, CS_LST_ERROR_MESSAGE), "fields",
                          json_is_array(fields) ? fields : json_array());
        if (fields && !json_is_array(fields)) json_decref(fields);
    }
    json_object_set_new(o, "error", error ? error : json_null());
    json_object_set_new(o, "live_at", str_or_null(rows, i, CS_LST_LIVE_AT));
    json_object_set_new(o, "first_live_at", str_or_null(rows, i, CS_LST_FIRST_LIVE_AT));
    json_object_set_new(o, "first_sale_at", str_or_null(rows, i, CS_LST_FIRST_SALE_AT));
    json_object_set_new(o, "version", json_integer(cs_rows_i64(rows, i, CS_LST_VERSION)));
    json_object_set_new(o, "created_at", json_string(cs_rows_str(rows, i, CS_LST_CREATED_AT)));
    json_object_set_new(o, "updated_at", json_string(cs_rows_str(rows, i, CS_LST_UPDATED_AT)));
    return o;
}

int svc_listings_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t after, product = 0;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    const char *state, *mp, *commune, *household;
    svc_api_query_enum(r, "state", listing_states, &state, &err);
    svc_api_query_token(r, "marketplace", MP_CHARS, 20, &mp, &err);
    svc_api_query_token(r, "commune", "0123456789", 5, &commune, &err);
    svc_api_query_token(r, "household", CODE_CHARS, 20, &household, &err);
    svc_query_int(r, "product", 0, 1, INT64_MAX, &product, &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    if (commune && !svc_can_read_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "commune %s", commune);
    int oom;
    char *scope = scope_csv(r, &oom);
    if (oom) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    cs_db *db = svc_db(r, &err);
    cs_rows *rows = NULL;
    cs_market_filter f = {.scope = scope,
                          .state = state,
                          .marketplace = mp,
                          .commune = commune,
                          .household = household,
                          .product = product,
                          .after = after,
                          .limit = (int64_t)limit + 1};
    int rc = !db || cs_listing_page(db, &f, &rows, &err);
    cs_free(scope);
    if (rc) return svc_reply_problem(r, &err);
    json_t *items = json_array();
    size_t n = cs_rows_count(rows);
    for (size_t i = 0; items && i < n && i < (size_t)limit; i++)
        json_array_append_new(items, listing_json(rows, i));
    int64_t next = n > (size_t)limit ? cs_rows_i64(rows, (size_t)limit - 1, CS_LST_ID) : 0;
    cs_rows_free(rows);
    return svc_api_reply_page(r, items, next);
}

int svc_listings_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t id = svc_api_param_id(r, "id");
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_rows *rows = NULL, *ev = NULL;
    if (cs_listing_view(db, id, &rows, &err)) return svc_reply_problem(r, &err);
    if (!cs_rows_count(rows)) {
        cs_rows_free(rows);
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "listing");
    }
    if (!svc_can_read_commune(r, cs_rows_str(rows, 0, CS_LST_COMMUNE))) {
        cs_rows_free(rows);
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "listing");
    }
    json_t *o = listing_json(rows, 0);
    unsigned version = (unsigned)cs_rows_i64(rows, 0, CS_LST_VERSION);
    cs_rows_free(rows);
    if (!o) return svc_reply_error(r, CS_E_NOMEM, "%s", "listing");
    if (cs_listing_history(db, id, &ev, &err)) {
        json_decref(o);
        return svc_reply_problem(r, &err);
    }
    json_t *events = json_array();
    for (size_t i = 0; events && i < cs_rows_count(ev); i++) {
        json_t *e = json_pack(
            "{s:o,s:s,s:o,s:o,s:s,s:s}", "from_state", str_or_null(ev, i, CS_LEV_FROM_STATE),
            "to_state", cs_rows_str(ev, i, CS_LEV_TO_STATE), "reason_code",
            str_or_null(ev, i, CS_LEV_REASON_CODE), "reason", str_or_null(ev, i, CS_LEV_REASON),
            "actor", cs_rows_str(ev, i, CS_LEV_ACTOR), "at", cs_rows_str(ev, i, CS_LEV_AT));
        if (e) json_array_append_new(events, e);
    }
    cs_rows_free(ev);
    json_object_set_new(o, "events", events ? events : json_array());
    if (svc_api_etag(r, version)) {
        json_decref(o);
        return -1;
    }
    return svc_reply_json(r, 200, o);
}
