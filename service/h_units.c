/* service/h_units: public reference data — GET /v1/admin-units (the province's communes and
 * wards with the pre-2025 districts they came from) and GET /v1/categories (the internal
 * product categories). Registration forms need them before anyone signs in; read-only,
 * nothing personal. */
#include "core/log.h"
#include "service/api.h"
#include <string.h>

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
    cs_rows *rows = NULL;
    /* one row per (unit, former district); units spanning two districts come twice, adjacent */
    if (cs_db_query(db, &rows,
                    "SELECT u.code, u.name, u.kind, d.code, d.name"
                    " FROM admin_units u JOIN admin_unit_districts x ON x.unit_code = u.code"
                    " JOIN admin_districts d ON d.code = x.district_code"
                    " WHERE (? IS NULL OR u.kind = ?)"
                    " AND (? IS NULL OR EXISTS (SELECT 1 FROM admin_unit_districts y"
                    "      WHERE y.unit_code = u.code AND y.district_code = ?))"
                    " ORDER BY u.name, u.code, d.code <> u.primary_district_code, d.code",
                    "ssss", kind, kind, district, district, &err))
        return svc_reply_problem(r, &err);
    json_t *items = json_array();
    json_t *cur = NULL;
    const char *cur_code = "";
    for (size_t i = 0; items && i < cs_rows_count(rows); i++) {
        if (strcmp(cur_code, cs_rows_str(rows, i, 0))) {
            cur = json_pack("{s:s,s:s,s:s,s:[]}", "code", cs_rows_str(rows, i, 0), "name",
                            cs_rows_str(rows, i, 1), "kind", cs_rows_str(rows, i, 2),
                            "former_districts");
            if (!cur || json_array_append_new(items, cur)) {
                json_decref(items);
                items = NULL;
                break;
            }
            cur_code = cs_rows_str(rows, i, 0);
        }
        json_array_append_new(json_object_get(cur, "former_districts"),
                              json_pack("{s:s,s:s}", "code", cs_rows_str(rows, i, 3), "name",
                                        cs_rows_str(rows, i, 4)));
    }
    cs_rows_free(rows);
    if (!items) return svc_reply_error(r, CS_E_NOMEM, "%s", "admin units");
    /* reference data changes only with a migration: let browsers and proxies keep it a while */
    if (svc_add_header(r, "Cache-Control", "public, max-age=3600")) {
        json_decref(items);
        return -1;
    }
    return svc_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* GET /v1/categories: the internal product categories, in the order of their Vietnamese names,
 * so the pages read them from the database instead of keeping a copy. */
int svc_categories_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows,
                    "SELECT code, name_vi, name_en FROM categories ORDER BY name_vi, code", "",
                    &err))
        return svc_reply_problem(r, &err);
    json_t *items = json_array();
    for (size_t i = 0; items && i < cs_rows_count(rows); i++)
        if (json_array_append_new(items, json_pack("{s:s,s:s,s:s}", "code", cs_rows_str(rows, i, 0),
                                                   "name_vi", cs_rows_str(rows, i, 1), "name_en",
                                                   cs_rows_str(rows, i, 2)))) {
            json_decref(items);
            items = NULL;
        }
    cs_rows_free(rows);
    if (!items) return svc_reply_error(r, CS_E_NOMEM, "%s", "categories");
    if (svc_add_header(r, "Cache-Control", "public, max-age=3600")) {
        json_decref(items);
        return -1;
    }
    return svc_reply_json(r, 200, json_pack("{s:o}", "items", items));
}
