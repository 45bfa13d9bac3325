/* service/h_catalog: the marketplace categories page's API (admin) — our categories mapped onto
 * the leaves of each API marketplace's stored tree, the leaves to choose from, the mandatory
 * attributes filled from the marketplace's own choices, and a refresh of the trees on demand.
 * Everything is read and written by core/catalog; the refresh is the catalog.refresh job. */
#include "core/catalog.h"
#include "core/jspec.h"
#include "jobs/job.h"
#include "service/api.h"
#include "service/handlers.h"
#include <stdio.h>
#include <string.h>

static const char *const api_mps[] = {"shopee", "lazada", "tiktok", NULL};

static const char *mp_param(svc_req *r)
{
    const char *mp = svc_param(r, "marketplace");
    for (size_t i = 0; mp && api_mps[i]; i++)
        if (!strcmp(mp, api_mps[i])) return api_mps[i];
    svc_reply_error(r, CS_E_NOT_FOUND, "%s", "no API marketplace with this code");
    return NULL;
}

int svc_catalog_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *mp = NULL;
    if (svc_api_query_enum(r, "marketplace", api_mps, &mp, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *items = NULL;
    if (cs_catalog_mappings_json(db, mp, &items, &err)) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

int svc_catalog_leaves(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *mp = mp_param(r);
    if (!mp) return 0;
    const char *q = svc_query(r, "q");
    if (q && strlen(q) > 100) {
        cs_error_field(&err, "q", CS_F_TOO_LONG, "max 100");
        return svc_reply_problem(r, &err);
    }
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *o = NULL;
    if (cs_catalog_leaves_json(db, mp, q, 200, &o, &err)) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200, o);
}

int svc_catalog_map(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *mp = mp_param(r);
    if (!mp) return 0;
    const char *category = svc_param(r, "category");
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    const char *leaf = NULL;
    const json_t *values = NULL;
    static const cs_jfield value_fields[] = {
        {.name = "attribute_id", .type = CS_J_STRING, .flags = CS_JF_REQUIRED, .max_len = 64},
        {.name = "value_id", .type = CS_J_STRING, .flags = CS_JF_INT_TEXT, .max_len = 64},
        {.name = "value_name",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 200},
        {.name = NULL},
    };
    const cs_jfield spec[] = {
        {.name = "leaf",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED | CS_JF_INT_TEXT,
         .min_len = 1,
         .max_len = 40,
         .out = &leaf},
        {.name = "values",
         .type = CS_J_ARRAY,
         .max_len = 100,
         .out = &values,
         .fields = value_fields},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor by = svc_audit_actor(r);
    json_t *empty = json_array();
    int rc = cs_catalog_map(db, category, mp, leaf, values ? values : empty, &by, &err);
    json_decref(empty);
    if (rc) return svc_reply_problem(r, &err);
    json_t *items = NULL;
    if (cs_catalog_mappings_json(db, mp, &items, &err)) return svc_reply_problem(r, &err);
    json_t *mine = NULL, *e;
    size_t i;
    json_array_foreach(items, i, e) if (!strcmp(json_string_value(json_object_get(e, "category")),
                                                category)) mine = e;
    json_t *out = json_incref(mine);
    json_decref(items);
    return out ? svc_reply_json(r, 200, out)
               : svc_reply_error(r, CS_E_INTERNAL, "%s", "mapping not found after saving");
}

int svc_catalog_refresh(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *mp = NULL;
    if (r->json) {
        const cs_jfield spec[] = {
            {.name = "marketplace", .type = CS_J_STRING, .one_of = api_mps, .out = &mp},
            {.name = NULL},
        };
        if (!json_is_object(r->json))
            return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
        if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    }
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char payload[64], key[64];
    snprintf(payload, sizeof payload, "{\"marketplace\":\"%s\"}", mp ? mp : "");
    snprintf(key, sizeof key, "catalog.refresh:%s", mp ? mp : "all");
    job_opts o = {.unique_key = key};
    int64_t id = 0;
    if (job_enqueue(db, "catalog.refresh", mp ? payload : "{}", &o, &id, &err) < 0)
        return svc_reply_problem(r, &err);
    return svc_reply_json(r, 202, json_pack("{s:I}", "job_id", (json_int_t)id));
}
