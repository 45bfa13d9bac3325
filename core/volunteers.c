/* core/volunteers: the volunteers and signin_links tables and revoking a token's sessions.
 * Link texts never reach here, only their SHA-256; the phone is stored as sealed by the caller. */
#include "core/volunteers.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

// clang-format off
static const char SQL_VOL_INSERT[] =
    "INSERT INTO volunteers (token_id, phone)"
    " VALUES (?, ?)";

static const char SQL_VOL_ACTIVE[] =
    "SELECT COUNT(*)"
    " FROM volunteers v"
    " JOIN tokens t ON t.id = v.token_id"
    " WHERE v.token_id = ? AND t.revoked_at IS NULL"
    " AND (t.expires_at IS NULL OR t.expires_at > UTC_TIMESTAMP())";

static const char SQL_VOL_EXISTS[] =
    "SELECT COUNT(*)"
    " FROM volunteers"
    " WHERE token_id = ?";

static const char SQL_LINKS_DROP_UNUSED[] =
    "DELETE FROM signin_links"
    " WHERE token_id = ? AND used_at IS NULL";

static const char SQL_LINKS_SWEEP[] =
    "DELETE FROM signin_links"
    " WHERE expires_at < UTC_TIMESTAMP() - INTERVAL 30 DAY"
    " LIMIT 100";

static const char SQL_LINK_INSERT[] =
    "INSERT INTO signin_links (link_hash, token_id, expires_at)"
    " VALUES (?, ?, UTC_TIMESTAMP() + INTERVAL ? HOUR)";

enum { LE_EXPIRES };
static const char SQL_LINK_EXPIRES[] =
    "SELECT DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM signin_links"
    " WHERE link_hash = ?";

/* single use: the one UPDATE that marks it used decides, also between two devices at once */
static const char SQL_LINK_USE[] =
    "UPDATE signin_links"
    " SET used_at = UTC_TIMESTAMP()"
    " WHERE link_hash = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP()";

enum { LT_TOKEN };
static const char SQL_LINK_TOKEN[] =
    "SELECT token_id"
    " FROM signin_links"
    " WHERE link_hash = ?";

static const char SQL_SESSIONS_OF_TOKEN_DELETE[] =
    "DELETE FROM sessions"
    " WHERE token_id = ?";

static const char SQL_VOL_REVOKE[] =
    "UPDATE tokens"
    " SET revoked_at = UTC_TIMESTAMP()"
    " WHERE id = ? AND revoked_at IS NULL";

enum { VL_ID, VL_NAME, VL_STATE, VL_CREATED, VL_LAST_USED, VL_COMMUNES, VL_PHONE, VL_SESSIONS };
static const char SQL_VOL_LIST[] =
    "SELECT t.id, t.name,"
    "       CASE WHEN t.revoked_at IS NOT NULL THEN 'inactive'"
    "            WHEN t.expires_at IS NOT NULL AND t.expires_at <= UTC_TIMESTAMP() THEN 'inactive'"
    "            ELSE 'active' END,"
    "       DATE_FORMAT(t.created_at, '%Y-%m-%dT%H:%i:%sZ'),"
    "       IFNULL(DATE_FORMAT(t.last_used_at, '%Y-%m-%dT%H:%i:%sZ'), ''),"
    "       IFNULL((SELECT GROUP_CONCAT(c.commune_code ORDER BY c.commune_code SEPARATOR ',')"
    "               FROM token_communes c WHERE c.token_id = t.id), ''),"
    "       v.phone,"
    "       (SELECT COUNT(*) FROM sessions s"
    "        WHERE s.token_id = t.id AND s.expires_at > UTC_TIMESTAMP())"
    " FROM volunteers v"
    " JOIN tokens t ON t.id = v.token_id"
    " WHERE (? = 0 OR t.id < ?)"
    " ORDER BY t.id DESC"
    " LIMIT ?";
// clang-format on

static void id_text(int64_t id, char out[24])
{
    snprintf(out, 24, "%lld", (long long)id);
}

struct create_args {
    const cs_actor *actor;
    const cs_volunteer_new *v;
    int64_t id;
};

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct create_args *c = arg;
    if (cs_token_create_in(db, c->actor, &c->v->token, &c->id, err)) return -1;
    if (cs_db_exec(db, SQL_VOL_INSERT, "ib", c->id, c->v->phone, c->v->phone_n, err) < 0) return -1;
    char id[24];
    id_text(c->id, id);
    return cs_audit(db, c->actor, "volunteer.create", "token", id, NULL, err);
}

int cs_volunteer_create(cs_db *db, const cs_actor *a, const cs_volunteer_new *v, int64_t *id,
                        cs_error *err)
{
    struct create_args c = {.actor = a, .v = v};
    if (cs_db_tx(db, create_tx, &c, err)) return -1;
    *id = c.id;
    return 0;
}

struct link_args {
    const cs_actor *actor;
    int64_t id;
    const unsigned char *hash;
    long hours;
    char *expires_at;
    int found;
};

static int link_tx(cs_db *db, void *arg, cs_error *err)
{
    struct link_args *l = arg;
    int64_t n = 0;
    if (cs_db_scalar_i64(db, &n, SQL_VOL_ACTIVE, "i", l->id, err) < 0) return -1;
    l->found = n > 0;
    if (!l->found) return 0;
    if (cs_db_exec(db, SQL_LINKS_SWEEP, "", err) < 0 ||
        cs_db_exec(db, SQL_LINKS_DROP_UNUSED, "i", l->id, err) < 0 ||
        cs_db_exec(db, SQL_LINK_INSERT, "bii", l->hash, (size_t)32, l->id, (int64_t)l->hours, err) <
            0)
        return -1;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_LINK_EXPIRES, "b", l->hash, (size_t)32, err)) return -1;
    snprintf(l->expires_at, 32, "%s", cs_rows_count(rows) ? cs_rows_str(rows, 0, LE_EXPIRES) : "");
    cs_rows_free(rows);
    char id[24];
    id_text(l->id, id);
    return cs_audit(db, l->actor, "signin_link.create", "token", id,
                    json_pack("{s:I}", "hours", (json_int_t)l->hours), err);
}

int cs_signin_link_create(cs_db *db, const cs_actor *a, int64_t id, const unsigned char hash[32],
                          long hours, char expires_at[32], cs_error *err)
{
    struct link_args l = {
        .actor = a, .id = id, .hash = hash, .hours = hours, .expires_at = expires_at};
    if (cs_db_tx(db, link_tx, &l, err)) return -1;
    return l.found;
}

struct use_args {
    const unsigned char *hash;
    int64_t token_id;
    int ok;
};

static int use_tx(cs_db *db, void *arg, cs_error *err)
{
    struct use_args *u = arg;
    u->ok = 0;
    int64_t n = cs_db_exec(db, SQL_LINK_USE, "b", u->hash, (size_t)32, err);
    if (n < 0) return -1;
    if (n == 0) return 0;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_LINK_TOKEN, "b", u->hash, (size_t)32, err)) return -1;
    if (cs_rows_count(rows)) {
        u->token_id = cs_rows_i64(rows, 0, LT_TOKEN);
        u->ok = 1;
    }
    cs_rows_free(rows);
    return 0;
}

int cs_signin_link_use(cs_db *db, const unsigned char hash[32], int64_t *token_id, cs_error *err)
{
    struct use_args u = {.hash = hash};
    if (cs_db_tx(db, use_tx, &u, err)) return -1;
    if (u.ok) *token_id = u.token_id;
    return u.ok;
}

struct revoke_args {
    const cs_actor *actor;
    int64_t id;
    int64_t n;
    int deactivate, found;
};

static int revoke_tx(cs_db *db, void *arg, cs_error *err)
{
    struct revoke_args *r = arg;
    char id[24];
    id_text(r->id, id);
    if (r->deactivate) {
        int64_t n = 0;
        if (cs_db_scalar_i64(db, &n, SQL_VOL_EXISTS, "i", r->id, err) < 0) return -1;
        r->found = n > 0;
        if (!r->found) return 0;
        int64_t changed = cs_db_exec(db, SQL_VOL_REVOKE, "i", r->id, err);
        if (changed < 0 || cs_db_exec(db, SQL_LINKS_DROP_UNUSED, "i", r->id, err) < 0) return -1;
        if (changed && cs_audit(db, r->actor, "volunteer.deactivate", "token", id, NULL, err))
            return -1;
    }
    r->n = cs_db_exec(db, SQL_SESSIONS_OF_TOKEN_DELETE, "i", r->id, err);
    if (r->n < 0) return -1;
    return cs_audit(db, r->actor, "session.revoke_all", "token", id,
                    json_pack("{s:I}", "sessions", (json_int_t)r->n), err);
}

int64_t cs_sessions_revoke_token(cs_db *db, const cs_actor *a, int64_t token_id, cs_error *err)
{
    struct revoke_args r = {.actor = a, .id = token_id};
    if (cs_db_tx(db, revoke_tx, &r, err)) return -1;
    return r.n;
}

int cs_volunteer_deactivate(cs_db *db, const cs_actor *a, int64_t id, cs_error *err)
{
    struct revoke_args r = {.actor = a, .id = id, .deactivate = 1};
    if (cs_db_tx(db, revoke_tx, &r, err)) return -1;
    return r.found;
}

int cs_volunteer_list_each(cs_db *db, int64_t before, int limit,
                           void (*fn)(void *arg, const cs_volunteer_info *v), void *arg,
                           cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_VOL_LIST, "iii", before, before, (int64_t)limit, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(rows); i++) {
        size_t pn = 0;
        const void *p = cs_rows_blob(rows, i, VL_PHONE, &pn);
        cs_volunteer_info v = {
            .id = cs_rows_i64(rows, i, VL_ID),
            .name = cs_rows_str(rows, i, VL_NAME),
            .state = cs_rows_str(rows, i, VL_STATE),
            .created = cs_rows_str(rows, i, VL_CREATED),
            .last_used = cs_rows_str(rows, i, VL_LAST_USED),
            .communes = cs_rows_str(rows, i, VL_COMMUNES),
            .phone = pn ? p : NULL,
            .phone_n = pn,
            .sessions = cs_rows_i64(rows, i, VL_SESSIONS),
        };
        fn(arg, &v);
    }
    cs_rows_free(rows);
    return 0;
}
