/* service/h_audit: GET /v1/audit — the audit trail for administrators, oldest first with a
 * cursor. Read-only; the rows hold no personal values (core/audit strips them on writing). */
#include "service/api.h"
#include <stdio.h>
#include <string.h>

int svc_audit_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t after;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    const char *entity, *entity_id, *action, *actor;
    svc_api_query_token(r, "entity", "abcdefghijklmnopqrstuvwxyz_", 30, &entity, &err);
    svc_api_query_token(r, "entity_id", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:", 40,
                        &entity_id, &err);
    svc_api_query_token(r, "action", "abcdefghijklmnopqrstuvwxyz_.", 60, &action, &err);
    svc_api_query_token(r, "actor_id", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:", 40,
                        &actor, &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows,
                    "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ'), actor_kind, actor_id, action,"
                    " entity, entity_id, detail, request_id, client FROM audit_log WHERE id > ?"
                    " AND (? IS NULL OR entity = ?) AND (? IS NULL OR entity_id = ?)"
                    " AND (? IS NULL OR action = ?) AND (? IS NULL OR actor_id = ?)"
                    " ORDER BY id LIMIT ?",
                    "issssssssi", after, entity, entity, entity_id, entity_id, action, action, actor,
                    actor, (int64_t)limit + 1, &err))
        return svc_reply_problem(r, &err);
    json_t *items = json_array();
    size_t n = cs_rows_count(rows);
    for (size_t i = 0; items && i < n && i < (size_t)limit; i++) {
        json_t *detail = cs_rows_strn(rows, i, 7) ? json_loads(cs_rows_str(rows, i, 7), 0, NULL) : NULL;
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)cs_rows_i64(rows, i, 0), "at",
                              cs_rows_str(rows, i, 1), "actor_kind", cs_rows_str(rows, i, 2), "action",
                              cs_rows_str(rows, i, 4), "entity", cs_rows_str(rows, i, 5));
        if (!o) {
            json_decref(detail);
            continue;
        }
        static const struct { unsigned col; const char *name; } opt[] = {
            {3, "actor_id"}, {6, "entity_id"}, {8, "request_id"}, {9, "client"}};
        for (size_t k = 0; k < sizeof opt / sizeof opt[0]; k++)
            json_object_set_new(o, opt[k].name, cs_rows_isnull(rows, i, opt[k].col)
                                                    ? json_null()
                                                    : json_string(cs_rows_str(rows, i, opt[k].col)));
        json_object_set_new(o, "detail", detail ? detail : json_null());
        json_array_append_new(items, o);
    }
    int64_t next = n > (size_t)limit ? cs_rows_i64(rows, (size_t)limit - 1, 0) : 0;
    cs_rows_free(rows);
    return svc_api_reply_page(r, items, next);
}
