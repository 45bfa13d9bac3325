/* service/h_flagship: the province's list of flagship products (/v1/flagship-products) and the
 * admin's decision on a product's proposed link (/v1/products/{id}/flagship-decision). Rules
 * and SQL are core/flagship; this file takes the request in and shapes the answer. */
#include "core/flagship.h"
#include "core/jspec.h"
#include "core/products.h"
#include "service/api.h"
#include "service/handlers.h"
#include "service/status_cache.h"
#include <stdio.h>
#include <string.h>

int svc_flagship_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t after;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    const char *category = NULL;
    svc_api_query_token(r, "category", "abcdefghijklmnopqrstuvwxyz_", 40, &category, &err);
    const char *q = svc_query(r, "q");
    if (q && strlen(q) > 200) cs_error_field(&err, "q", CS_F_TOO_LONG, "max 200");
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    json_t *items = NULL;
    int64_t next = 0;
    if (!db || cs_flagship_list(db, q, category, after, limit, &items, &next, &err))
        return svc_reply_problem(r, &err);
    return svc_api_reply_page(r, items, next);
}

static int put_entry(svc_req *r, int64_t id)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor a = svc_audit_actor(r);
    int64_t got = 0;
    if (cs_flagship_put(db, &a, id, r->json, &got, &err)) return svc_reply_problem(r, &err);
    json_t *o = NULL;
    if (cs_flagship_get(db, got, &o, &err)) return svc_reply_problem(r, &err);
    if (!id) {
        char loc[48];
        snprintf(loc, sizeof loc, "/v1/flagship-products/%lld", (long long)got);
        if (svc_add_header(r, "Location", loc)) {
            json_decref(o);
            return -1;
        }
    }
    return svc_reply_json(r, id ? 200 : 201, o);
}

int svc_flagship_create(svc_req *r)
{
    return put_entry(r, 0);
}

int svc_flagship_update(svc_req *r)
{
    int64_t id = svc_api_param_id(r, "id");
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "flagship product");
    return put_entry(r, id);
}

int svc_products_flagship_decide(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    int64_t id = svc_api_param_id(r, "id");
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "product");
    static const char *const decisions[] = {"approve", "refuse", NULL};
    const char *decision = NULL, *reason = NULL;
    const cs_jfield spec[] = {
        {.name = "decision",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .one_of = decisions,
         .out = &decision},
        {.name = "reason", .type = CS_J_STRING, .flags = CS_JF_NULL_ABSENT, .out = &reason},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor a = svc_audit_actor(r);
    if (cs_flagship_decide(db, &a, id, !strcmp(decision, "approve"), reason, &err))
        return svc_reply_problem(r, &err);
    json_t *o = NULL;
    char hh[24];
    if (cs_product_get(db, id, &o, hh, NULL, &err)) return svc_reply_problem(r, &err);
    svc_status_cache_drop(hh); /* the owner's page shows the designation */
    return svc_reply_json(r, 200, o);
}
