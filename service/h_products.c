/* service/h_products: /v1/products and /v1/households/{code}/products — create, read, update
 * with If-Match, list. Validation and persistence are core/products; this file checks the
 * caller's commune and shapes the answer. Products carry no personal fields. */
#include "core/mem.h"
#include "core/products.h"
#include "jobs/flows.h"
#include "service/api.h"
#include "service/status_cache.h"
#include <stdio.h>
#include <string.h>

/* Read product {id} (answering 404/403 itself when it must); *out the JSON, commune filled. */
static int load_product(svc_req *r, cs_db *db, int write, json_t **out, char commune[6])
{
    cs_error err;
    cs_error_clear(&err);
    *out = NULL;
    int64_t id = svc_api_param_id(r, "id");
    if (!id) {
        svc_reply_error(r, CS_E_NOT_FOUND, "%s", "product");
        return -1;
    }
    char hh[24];
    if (cs_product_get(db, id, out, hh, commune, &err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    if (!(write ? svc_can_write_commune(r, commune) : svc_can_read_commune(r, commune))) {
        json_decref(*out);
        *out = NULL;
        svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "product");
        return -1;
    }
    return 0;
}

static int reply_product(svc_req *r, int status, json_t *o)
{
    unsigned version = (unsigned)json_integer_value(json_object_get(o, "version"));
    if (status == 200 && svc_api_not_modified(r, version)) {
        json_decref(o);
        if (svc_api_etag(r, version)) return -1;
        return svc_reply_empty(r, 304);
    }
    if (svc_api_etag(r, version)) {
        json_decref(o);
        return -1;
    }
    return svc_reply_json(r, status, o);
}

int svc_products_create(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    const char *code = svc_param(r, "code");
    char commune[6];
    int erased;
    if (!code || strlen(code) > 20) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "household");
    if (cs_household_lookup(db, code, NULL, commune, &erased, &err))
        return svc_reply_problem(r, &err);
    if (!svc_can_write_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "household");
    if (erased) return svc_reply_error(r, CS_E_GONE, "%s", "household");
    cs_actor a = svc_audit_actor(r);
    cs_product_result res;
    if (cs_product_create(db, &a, code, r->json, &res, &err)) return svc_reply_problem(r, &err);
    svc_status_cache_drop(code); /* the owner's page lists the products */
    json_t *o = NULL;
    if (cs_product_get(db, res.id, &o, NULL, NULL, &err)) return svc_reply_problem(r, &err);
    char loc[48];
    snprintf(loc, sizeof loc, "/v1/products/%lld", (long long)res.id);
    if (svc_add_header(r, "Location", loc)) {
        json_decref(o);
        return -1;
    }
    return reply_product(r, 201, o);
}

int svc_products_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *o;
    char commune[6];
    if (load_product(r, db, 0, &o, commune)) return 0;
    return reply_product(r, 200, o);
}

int svc_products_update(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *o;
    char commune[6];
    if (load_product(r, db, 1, &o, commune)) return 0;
    const char *hh = json_string_value(json_object_get(o, "household_code"));
    char owner[32] = ""; /* o is freed before the update; the owner's page is dropped after it */
    if (hh) snprintf(owner, sizeof owner, "%s", hh);
    int erased = 0;
    if (hh && cs_household_lookup(db, hh, NULL, NULL, &erased, &err)) {
        json_decref(o);
        return svc_reply_problem(r, &err);
    }
    json_decref(o);
    if (erased) return svc_reply_error(r, CS_E_GONE, "%s", "household");
    unsigned version;
    if (svc_api_if_match(r, &version)) return 0;
    int64_t id = svc_api_param_id(r, "id");
    cs_actor a = svc_audit_actor(r);
    cs_product_result res;
    if (cs_product_update(db, &a, id, version, r->json, &res, &err))
        return svc_reply_problem(r, &err);
    if (owner[0])
        svc_status_cache_drop(owner);
    else
        svc_status_cache_clear();
    /* new content goes to the marketplaces where the product is live (jobs/flows skips a
       listing whose synced content hash already equals it); the update itself stands even if
       queuing fails, the next change or a republish sends it */
    if (res.changed && job_flows_product_changed(db, id, &err) < 0) cs_error_clear(&err);
    if (cs_product_get(db, id, &o, NULL, NULL, &err)) return svc_reply_problem(r, &err);
    return reply_product(r, 200, o);
}

int svc_products_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_product_filter f;
    memset(&f, 0, sizeof f);
    int64_t after, stars = 0;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    f.after_id = after;
    f.limit = limit;
    svc_api_query_token(r, "household", "TH-0123456789", 20, &f.household, &err);
    svc_api_query_token(r, "commune", "0123456789", 5, &f.commune, &err);
    svc_api_query_token(r, "category", "abcdefghijklmnopqrstuvwxyz_", 40, &f.category, &err);
    svc_api_query_bool(r, "flagship", &f.flagship, &err);
    static const char *const fl_states[] = {"none", "proposed", "approved", "refused", NULL};
    svc_api_query_enum(r, "flagship_status", fl_states, &f.flagship_status, &err);
    svc_query_int(r, "ocop_stars", 0, 1, 5, &stars, &err);
    f.ocop_stars = (int)stars;
    f.q = svc_query(r, "q");
    if (f.q && strlen(f.q) > 200) cs_error_field(&err, "q", CS_F_TOO_LONG, "max 200");
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    if (f.commune && !svc_can_read_commune(r, f.commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "commune %s", f.commune);
    const char **scope = NULL;
    size_t nscope = 0;
    if (svc_api_scope(r, &scope, &nscope)) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    f.communes = scope;
    f.ncommunes = nscope;
    cs_db *db = svc_db(r, &err);
    json_t *items = NULL;
    int64_t next = 0;
    int rc = !db || cs_product_list(db, &f, &items, &next, &err);
    cs_free(scope);
    if (rc) return svc_reply_problem(r, &err);
    return svc_api_reply_page(r, items, next);
}
