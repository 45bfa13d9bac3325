/* core/audit: writes audit rows; never stores personal values. */
#include "core/audit.h"
#include "core/log.h"
#include <stdio.h>
#include <string.h>

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
    // clang-format off
    static const char sql[] =
        "INSERT INTO audit_log (actor_kind, actor_id, action, entity, entity_id, detail,"
        "                       request_id, client)"
        " VALUES (?,?,?,?,?,?,?,?)";
    // clang-format on
    int64_t n =
        cs_db_exec(db, sql, "ssssssss", kind_name(a->kind), a->id, action, entity, entity_id, text,
                   a->request_id[0] ? a->request_id : NULL, a->client[0] ? a->client : NULL, err);
    free(text);
    return n < 0 ? -1 : 0;
}
