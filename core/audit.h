/* core/audit: the audit trail. Every change to households, products, accounts, listings,
 * tokens and every owner PIN failure writes one row, in the same transaction as the change.
 * `detail` must already be free of personal values: pass field NAMES that changed, not values
 * (cs_audit_redact strips keys that look personal as a second line of defence). */
#ifndef CS_AUDIT_H
#define CS_AUDIT_H
#include "core/db.h"
#include <jansson.h>

typedef enum cs_actor_kind {
    CS_ACTOR_TOKEN,
    CS_ACTOR_OWNER,
    CS_ACTOR_SYSTEM,
    CS_ACTOR_CLI
} cs_actor_kind;

/* Who is acting. id: token id as text, household code for owners, job id or command name. */
typedef struct cs_actor {
    cs_actor_kind kind;
    char id[40];
    char request_id[72];
    char client[64]; /* client address, may be "" */
} cs_actor;

/* Actor tag stored in *_by / events columns: "token:12", "owner:TH-2026-00001", "system:job:9",
 * "cli:import". */
void cs_actor_tag(const cs_actor *a, char *out, size_t outsz);
cs_actor cs_actor_system(const char *what);
/* The operator running `choso <cmd>` ("cli:<cmd>"). */
cs_actor cs_actor_cli(const char *cmd);

/* Insert one audit row. Takes ownership of detail (may be NULL). 0 or -1. */
int cs_audit(cs_db *db, const cs_actor *a, const char *action, const char *entity,
             const char *entity_id, json_t *detail, cs_error *err);

/* Which audit rows to read; each NULL means any. */
typedef struct cs_audit_filter {
    const char *entity, *entity_id, *action, *actor_id;
} cs_audit_filter;
/* One audit row; strings valid only during the call, NULL where the column is NULL. */
typedef struct cs_audit_entry {
    int64_t id;
    const char *at; /* UTC with milliseconds, "2026-01-02T03:04:05.678000Z" */
    const char *actor_kind, *actor_id, *action, *entity, *entity_id;
    const char *detail; /* JSON text */
    const char *request_id, *client;
} cs_audit_entry;
/* Call fn for at most `limit` rows with id > after that match f, oldest first. *next is the
 * cursor of the following page (the id of the last row given) or 0 when none follows.
 * Returns 0 or -1. */
int cs_audit_list_each(cs_db *db, const cs_audit_filter *f, int64_t after, unsigned limit,
                       void (*fn)(void *arg, const cs_audit_entry *e), void *arg, int64_t *next,
                       cs_error *err);
#endif
