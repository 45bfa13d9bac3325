/* service/h_units: public reference data — GET /v1/admin-units (the province's communes and
 * wards with the pre-2025 districts they came from) and GET /v1/categories (the internal
 * product categories). Registration forms need them before anyone signs in; read-only,
 * nothing personal. */
#include "core/log.h"
#include "core/units.h"
#include "service/api.h"
#include <string.h>

struct units_acc {
    json_t *items; /* NULL after running out of memory */
    json_t *cur;   /* the unit the last row belonged to (borrowed from items) */
};

/* Rows of one unit come adjacent: the first makes the unit, each adds a former district. */
static void add_unit(void *arg, const cs_unit_row *u)
{
    struct units_acc *a = arg;
    if (!a->items) return;
    if (!a->cur || strcmp(json_string_value(json_object_get(a->cur, "code")), u->code)) {
        a->cur = json_pack("{s:s,s:s,s:s,s:[]}", "code", u->code, "name", u->name, "kind", u->kind,
                           "former_districts");
        if (!a->cur || json_array_append_new(a->items, a->cur)) {
            json_decref(a->items);
            a->items = NULL;
            return;
        }
    }
    json_array_append_new(
        json_object_get(a->cur, "former_districts"),
        json_pack("{s:s,s:s}", "code", u->district_code, "name", u->district_name));
}

int svc_admin_units_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    static const char *const kinds[] = {"xa", "phuong", NULL};
    const char *kind = NULL, *district = NULL;
    svc_api_query_enum(r, "kind", kinds, &kind, &err);
    svc_api_query_token(r, "former_district", "0123456789", 3, &district, &err);
    if (district && strlen(district) != 3)
        cs_error_field(&err, "former_district", CS_F_FORMAT, "3 digits");
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    /* one row per (unit, former district); units spanning two districts come twice, adjacent */
    struct units_acc acc = {.items = json_array()};
    if (cs_units_each(db, kind, district, add_unit, &acc, &err)) {
        json_decref(acc.items);
        return svc_reply_problem(r, &err);
    }
    json_t *items = acc.items;
    if (!items) return svc_reply_error(r, CS_E_NOMEM, "%s", "admin units");
    /* reference data changes only with a migration: let browsers and proxies keep it a while */
    if (svc_add_header(r, "Cache-Control", "public, max-age=3600")) {
        json_decref(items);
        return -1;
    }
    return svc_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void add_category(void *arg, const cs_category *c)
{
    json_t **items = arg;
    if (*items &&
        json_array_append_new(*items, json_pack("{s:s,s:s,s:s}", "code", c->code, "name_vi",
                                                c->name_vi, "name_en", c->name_en))) {
        json_decref(*items);
        *items = NULL;
    }
}

/* GET /v1/categories: the internal product categories, in the order of their Vietnamese names,
 * so the pages read them from the database instead of keeping a copy. */
int svc_categories_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *items = json_array();
    if (cs_categories_each(db, add_category, &items, &err)) {
        json_decref(items);
        return svc_reply_problem(r, &err);
    }
    if (!items) return svc_reply_error(r, CS_E_NOMEM, "%s", "categories");
    if (svc_add_header(r, "Cache-Control", "public, max-age=3600")) {
        json_decref(items);
        return -1;
    }
    return svc_reply_json(r, 200, json_pack("{s:o}", "items", items));
}
