/* core/audit: writes audit rows, and reads them back for administrators; never stores personal
 * values. */
#include "core/audit.h"
#include "core/log.h"
#include <stdio.h>
#include <string.h>

// clang-format off
static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log (actor_kind, actor_id, action, entity, entity_id,"
    "                       detail, request_id, client)"
    " VALUES (?,?,?,?,?,?,?,?)";

enum { A_ID, A_AT, A_ACTOR_KIND, A_ACTOR_ID, A_ACTION, A_ENTITY, A_ENTITY_ID, A_DETAIL,
       A_REQUEST_ID, A_CLIENT };
static const char SQL_AUDIT_LIST[] =
    "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ'), actor_kind, actor_id, action,"
    "       entity, entity_id, detail, request_id, client"
    " FROM audit_log"
    " WHERE id > ?"
    " AND (? IS NULL OR entity = ?) AND (? IS NULL OR entity_id = ?)"
    " AND (? IS NULL OR action = ?) AND (? IS NULL OR actor_id = ?)"
    " ORDER BY id"
    " LIMIT ?";
// clang-format on

static const char *kind_name(cs_actor_kind k)
{
    switch (k) {
    case CS_ACTOR_TOKEN:
        return "token";
    case CS_ACTOR_OWNER:
        return "owner";
    case CS_ACTOR_CLI:
        return "cli";
    default:
        return "system";
    }
}

void cs_actor_tag(const cs_actor *a, char *out, size_t outsz)
{
    if (!a) {
        snprintf(out, outsz, "system");
        return;
    }
    snprintf(out, outsz, "%s:%s", kind_name(a->kind), a->id);
}

cs_actor cs_actor_system(const char *what)
{
    cs_actor a;
    memset(&a, 0, sizeof a);
    a.kind = CS_ACTOR_SYSTEM;
    snprintf(a.id, sizeof a.id, "%s", what ? what : "system");
    return a;
}

cs_actor cs_actor_cli(const char *cmd)
{
    cs_actor a = cs_actor_system(cmd);
    a.kind = CS_ACTOR_CLI;
    return a;
}

/* Values under personal-looking keys are dropped, whatever the caller passed. */
static void strip(json_t *o)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(o, tmp, k, v)
    {
        size_t kl = strlen(k);
        if (kl > 3 && !strcmp(k + kl - 3, "_id")) continue;
        if (!strcmp(k, "fields") || !strcmp(k, "changed")) continue; /* lists of names */
        if (cs_log_is_sensitive_key(k))
            json_object_set_new(o, k, json_string("[redacted]"));
        else if (json_is_object(v))
            strip(v);
    }
}

int cs_audit(cs_db *db, const cs_actor *a, const char *action, const char *entity,
             const char *entity_id, json_t *detail, cs_error *err)
{
    char *text = NULL;
    if (detail) {
        if (json_is_object(detail)) strip(detail);
        text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(detail);
    }
    cs_actor sys = cs_actor_system("system");
    if (!a) a = &sys;
    int64_t n = cs_db_exec(db, SQL_AUDIT_INSERT, "ssssssss", kind_name(a->kind), a->id, action,
                           entity, entity_id, text, a->request_id[0] ? a->request_id : NULL,
                           a->client[0] ? a->client : NULL, err);
    free(text);
    return n < 0 ? -1 : 0;
}

int cs_audit_list_each(cs_db *db, const cs_audit_filter *f, int64_t after, unsigned limit,
                       void (*fn)(void *arg, const cs_audit_entry *e), void *arg, int64_t *next,
                       cs_error *err)
{
    cs_rows *rows = NULL;
    /* one row more than asked tells whether another page follows */
    if (cs_db_query(db, &rows, SQL_AUDIT_LIST, "issssssssi", after, f->entity, f->entity,
                    f->entity_id, f->entity_id, f->action, f->action, f->actor_id, f->actor_id,
                    (int64_t)limit + 1, err))
        return -1;
    size_t n = cs_rows_count(rows);
    for (size_t i = 0; i < n && i < limit; i++) {
        cs_audit_entry e = {
            .id = cs_rows_i64(rows, i, A_ID),
            .at = cs_rows_str(rows, i, A_AT),
            .actor_kind = cs_rows_str(rows, i, A_ACTOR_KIND),
            .actor_id = cs_rows_strn(rows, i, A_ACTOR_ID),
            .action = cs_rows_str(rows, i, A_ACTION),
            .entity = cs_rows_str(rows, i, A_ENTITY),
            .entity_id = cs_rows_strn(rows, i, A_ENTITY_ID),
            .detail = cs_rows_strn(rows, i, A_DETAIL),
            .request_id = cs_rows_strn(rows, i, A_REQUEST_ID),
            .client = cs_rows_strn(rows, i, A_CLIENT),
        };
        fn(arg, &e);
    }
    *next = limit && n > limit ? cs_rows_i64(rows, limit - 1, A_ID) : 0;
    cs_rows_free(rows);
    return 0;
}
