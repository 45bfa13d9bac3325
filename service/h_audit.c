/* service/h_audit: GET /v1/audit — the audit trail for administrators, oldest first with a
 * cursor. Read-only; the rows hold no personal values (core/audit strips them on writing). */
#include "core/audit.h"
#include "service/api.h"
#include <stdio.h>
#include <string.h>

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void add_entry(void *arg, const cs_audit_entry *e)
{
    json_t *items = arg;
    if (!items) return;
    json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)e->id, "at", e->at,
                          "actor_kind", e->actor_kind, "action", e->action, "entity", e->entity);
    if (!o) {
        json_decref(detail);
        return;
    }
    json_object_set_new(o, "actor_id", string_or_null(e->actor_id));
    json_object_set_new(o, "entity_id", string_or_null(e->entity_id));
    json_object_set_new(o, "request_id", string_or_null(e->request_id));
    json_object_set_new(o, "client", string_or_null(e->client));
    json_object_set_new(o, "detail", detail ? detail : json_null());
    json_array_append_new(items, o);
}

int svc_audit_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t after;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    const char *entity, *entity_id, *action, *actor;
    svc_api_query_token(r, "entity", "abcdefghijklmnopqrstuvwxyz_", 30, &entity, &err);
    svc_api_query_token(r, "entity_id",
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:", 40,
                        &entity_id, &err);
    svc_api_query_token(r, "action", "abcdefghijklmnopqrstuvwxyz_.", 60, &action, &err);
    svc_api_query_token(r, "actor_id",
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:", 40,
                        &actor, &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *items = json_array();
    int64_t next = 0;
    cs_audit_filter f = {
        .entity = entity, .entity_id = entity_id, .action = action, .actor_id = actor};
    if (cs_audit_list_each(db, &f, after, (unsigned)limit, add_entry, items, &next, &err)) {
        json_decref(items);
        return svc_reply_problem(r, &err);
    }
    return svc_api_reply_page(r, items, next);
}
