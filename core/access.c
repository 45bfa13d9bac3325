/* core/access: the tokens, token_communes and sessions tables. Tokens and session ids are
 * handled by their SHA-256 only; neither text is stored here or logged. No HTTP, no roles'
 * meaning (service/auth decides what a role may do). */
#include "core/access.h"
#include "core/mem.h"
#include "core/units.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* --- tokens --------------------------------------------------------------------------------- */

/* The two look-ups share their columns: a session is looked up by id, a bearer token by hash. */
enum { T_ID, T_ROLE, T_LIVE, T_TOUCH_DUE, T_LIVE_FOR };
// clang-format off
static const char SQL_TOKEN_BY_HASH[] =
    "SELECT id, role,"
    "       (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP())),"
    "       (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE),"
    "       TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expires_at)"
    " FROM tokens"
    " WHERE token_hash = ?";
static const char SQL_TOKEN_BY_ID[] =
    "SELECT id, role,"
    "       (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP())),"
    "       (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE),"
    "       TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expires_at)"
    " FROM tokens"
    " WHERE id = ?";

static const char SQL_TOKEN_TOUCH[] =
    "UPDATE tokens"
    " SET last_used_at = UTC_TIMESTAMP()"
    " WHERE id = ?"
    " AND (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE)";

enum { TC_CODE };
static const char SQL_TOKEN_COMMUNES[] =
    "SELECT commune_code"
    " FROM token_communes"
    " WHERE token_id = ?"
    " ORDER BY commune_code";

enum { TN_NAME };
static const char SQL_TOKEN_NAME[] =
    "SELECT name"
    " FROM tokens"
    " WHERE id = ?";

enum { TU_CODE, TU_NAME };
static const char SQL_TOKEN_UNITS[] =
    "SELECT u.code, u.name"
    " FROM token_communes tc"
    " JOIN admin_units u ON u.code = tc.commune_code"
    " WHERE tc.token_id = ?"
    " ORDER BY u.code";

static const char SQL_TOKEN_INSERT_EXPIRING[] =
    "INSERT INTO tokens (name, role, token_hash, created_at, expires_at)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL ? DAY)";
static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO tokens (name, role, token_hash, created_at)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP())";
static const char SQL_TOKEN_COMMUNE_INSERT[] =
    "INSERT IGNORE INTO token_communes (token_id, commune_code)"
    " VALUES (?, ?)";

static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens"
    " SET revoked_at = UTC_TIMESTAMP()"
    " WHERE id = ? AND revoked_at IS NULL";
static const char SQL_TOKEN_EXISTS[] =
    "SELECT COUNT(*)"
    " FROM tokens"
    " WHERE id = ?";

enum { TL_ID, TL_ROLE, TL_STATE, TL_CREATED, TL_EXPIRES, TL_LAST_USED, TL_COMMUNES, TL_NAME };
static const char SQL_TOKEN_LIST[] =
    "SELECT t.id, t.role,"
    "       CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
    "            WHEN t.expires_at IS NOT NULL AND t.expires_at <= UTC_TIMESTAMP() THEN 'expired'"
    "            ELSE 'active' END,"
    "       DATE_FORMAT(t.created_at, '%Y-%m-%d %H:%i'),"
    "       IFNULL(DATE_FORMAT(t.expires_at, '%Y-%m-%d'), '-'),"
    "       IFNULL(DATE_FORMAT(t.last_used_at, '%Y-%m-%d %H:%i'), '-'),"
    "       IFNULL(GROUP_CONCAT(c.commune_code ORDER BY c.commune_code SEPARATOR ','), '-'),"
    "       t.name"
    " FROM tokens t"
    " LEFT JOIN token_communes c ON c.token_id = t.id"
    " GROUP BY t.id"
    " ORDER BY t.id";
// clang-format on

static int token_find(cs_db *db, const char *sql, const char *fmt, const void *hash, int64_t id,
                      cs_token *out, cs_error *err)
{
    cs_rows *rows = NULL;
    int rc = hash ? cs_db_query(db, &rows, sql, fmt, hash, (size_t)32, err)
                  : cs_db_query(db, &rows, sql, fmt, id, err);
    if (rc) return -1;
    int found = cs_rows_count(rows) > 0 && cs_rows_i64(rows, 0, T_LIVE) == 1;
    if (found) {
        memset(out, 0, sizeof *out);
        out->id = cs_rows_i64(rows, 0, T_ID);
        snprintf(out->role, sizeof out->role, "%s", cs_rows_str(rows, 0, T_ROLE));
        out->touch_due = cs_rows_i64(rows, 0, T_TOUCH_DUE) == 1;
        out->live_for_s =
            cs_rows_isnull(rows, 0, T_LIVE_FOR) ? -1 : cs_rows_i64(rows, 0, T_LIVE_FOR);
    }
    cs_rows_free(rows);
    return found;
}

int cs_token_find_by_hash(cs_db *db, const unsigned char hash[32], cs_token *out, cs_error *err)
{
    return token_find(db, SQL_TOKEN_BY_HASH, "b", hash, 0, out, err);
}

int cs_token_find_by_id(cs_db *db, int64_t id, cs_token *out, cs_error *err)
{
    return token_find(db, SQL_TOKEN_BY_ID, "i", NULL, id, out, err);
}

int cs_token_touch(cs_db *db, int64_t id, cs_error *err)
{
    return cs_db_exec(db, SQL_TOKEN_TOUCH, "i", id, err) < 0 ? -1 : 0;
}

int cs_token_communes(cs_db *db, int64_t id, char (**codes)[CS_COMMUNE_LEN], size_t *n,
                      cs_error *err)
{
    *codes = NULL;
    *n = 0;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_TOKEN_COMMUNES, "i", id, err)) return -1;
    size_t count = cs_rows_count(rows);
    if (count) {
        char(*c)[CS_COMMUNE_LEN] = cs_calloc(count, sizeof *c);
        if (!c) {
            cs_rows_free(rows);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        for (size_t i = 0; i < count; i++)
            snprintf(c[i], CS_COMMUNE_LEN, "%s", cs_rows_str(rows, i, TC_CODE));
        *codes = c;
        *n = count;
    }
    cs_rows_free(rows);
    return 0;
}

int cs_token_name(cs_db *db, int64_t id, char *out, size_t outsz, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_TOKEN_NAME, "i", id, err)) return -1;
    int found = cs_rows_count(rows) > 0;
    if (found) snprintf(out, outsz, "%s", cs_rows_str(rows, 0, TN_NAME));
    cs_rows_free(rows);
    return found;
}

int cs_token_units_each(cs_db *db, int64_t id, void (*fn)(void *arg, const cs_token_unit *u),
                        void *arg, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_TOKEN_UNITS, "i", id, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(rows); i++) {
        cs_token_unit u = {.code = cs_rows_str(rows, i, TU_CODE),
                           .name = cs_rows_str(rows, i, TU_NAME)};
        fn(arg, &u);
    }
    cs_rows_free(rows);
    return 0;
}

struct create_args {
    const cs_actor *actor;
    const cs_token_new *t;
    int64_t id; /* out */
};

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct create_args *c = arg;
    const cs_token_new *t = c->t;
    for (size_t i = 0; i < t->ncommunes; i++) {
        int rc = cs_unit_exists(db, t->communes[i], err);
        if (rc < 0) return -1;
        if (!rc)
            cs_error_field(err, t->commune_field ? t->commune_field : "communes", CS_F_COMMUNE,
                           t->communes[i]);
    }
    if (err->nfields) return -1;
    int64_t n = t->expires_days > 0
                    ? cs_db_exec(db, SQL_TOKEN_INSERT_EXPIRING, "ssbi", t->name, t->role, t->hash,
                                 sizeof t->hash, (int64_t)t->expires_days, err)
                    : cs_db_exec(db, SQL_TOKEN_INSERT, "ssb", t->name, t->role, t->hash,
                                 sizeof t->hash, err);
    if (n < 0) return -1;
    c->id = (int64_t)cs_db_insert_id(db);
    json_t *communes = json_array();
    for (size_t i = 0; i < t->ncommunes; i++) {
        if (cs_db_exec(db, SQL_TOKEN_COMMUNE_INSERT, "is", c->id, t->communes[i], err) < 0) {
            json_decref(communes);
            return -1;
        }
        json_array_append_new(communes, json_string(t->communes[i]));
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    /* The name may be a person's: the audit row keeps the role and the scope only. */
    return cs_audit(db, c->actor, "token.create", "token", id,
                    json_pack("{s:s, s:o, s:I}", "role", t->role, "communes", communes,
                              "expires_days", (json_int_t)t->expires_days),
                    err);
}

int cs_token_create_in(cs_db *db, const cs_actor *a, const cs_token_new *t, int64_t *id,
                       cs_error *err)
{
    struct create_args c = {.actor = a, .t = t};
    if (create_tx(db, &c, err)) return -1;
    *id = c.id;
    return 0;
}

int cs_token_create(cs_db *db, const cs_actor *a, const cs_token_new *t, int64_t *id, cs_error *err)
{
    struct create_args c = {.actor = a, .t = t};
    if (cs_db_tx(db, create_tx, &c, err)) return -1;
    *id = c.id;
    return 0;
}

struct revoke_args {
    const cs_actor *actor;
    int64_t id;
    int outcome; /* CS_TOKEN_* */
};

static int revoke_tx(cs_db *db, void *arg, cs_error *err)
{
    struct revoke_args *r = arg;
    int64_t n = cs_db_exec(db, SQL_TOKEN_REVOKE, "i", r->id, err);
    if (n < 0) return -1;
    if (n == 0) {
        int64_t exists = 0;
        if (cs_db_scalar_i64(db, &exists, SQL_TOKEN_EXISTS, "i", r->id, err) < 0) return -1;
        r->outcome = exists ? CS_TOKEN_ALREADY_REVOKED : CS_TOKEN_UNKNOWN;
        return 0;
    }
    r->outcome = CS_TOKEN_REVOKED;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)r->id);
    return cs_audit(db, r->actor, "token.revoke", "token", id, NULL, err);
}

int cs_token_revoke(cs_db *db, const cs_actor *a, int64_t id, cs_error *err)
{
    struct revoke_args r = {.actor = a, .id = id, .outcome = CS_TOKEN_UNKNOWN};
    if (cs_db_tx(db, revoke_tx, &r, err)) return -1;
    return r.outcome;
}

int cs_token_list_each(cs_db *db, void (*fn)(void *arg, const cs_token_info *t), void *arg,
                       cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_TOKEN_LIST, "", err)) return -1;
    for (size_t i = 0; i < cs_rows_count(rows); i++) {
        cs_token_info t = {
            .id = cs_rows_str(rows, i, TL_ID),
            .role = cs_rows_str(rows, i, TL_ROLE),
            .state = cs_rows_str(rows, i, TL_STATE),
            .created = cs_rows_str(rows, i, TL_CREATED),
            .expires = cs_rows_str(rows, i, TL_EXPIRES),
            .last_used = cs_rows_str(rows, i, TL_LAST_USED),
            .communes = cs_rows_str(rows, i, TL_COMMUNES),
            .name = cs_rows_str(rows, i, TL_NAME),
        };
        fn(arg, &t);
    }
    cs_rows_free(rows);
    return 0;
}

/* --- web sessions --------------------------------------------------------------------------- */

// clang-format off
enum { S_TOKEN_ID, S_CSRF, S_EXPIRES };
static const char SQL_SESSION_FIND[] =
    "SELECT token_id, csrf, DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ')"
    " FROM sessions"
    " WHERE id_hash = ? AND expires_at > UTC_TIMESTAMP()";

static const char SQL_SESSION_SWEEP[] =
    "DELETE FROM sessions"
    " WHERE expires_at < UTC_TIMESTAMP()"
    " LIMIT 100";

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (id_hash, token_id, csrf, expires_at)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP() + INTERVAL ? HOUR)";

static const char SQL_SESSION_DELETE[] =
    "DELETE FROM sessions"
    " WHERE id_hash = ?";
// clang-format on

int cs_session_find(cs_db *db, const unsigned char id_hash[32], cs_session *out, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_SESSION_FIND, "b", id_hash, (size_t)32, err)) return -1;
    int found = cs_rows_count(rows) > 0;
    if (found) {
        memset(out, 0, sizeof *out);
        out->token_id = cs_rows_i64(rows, 0, S_TOKEN_ID);
        snprintf(out->csrf, sizeof out->csrf, "%s", cs_rows_str(rows, 0, S_CSRF));
        snprintf(out->expires_at, sizeof out->expires_at, "%s", cs_rows_str(rows, 0, S_EXPIRES));
    }
    cs_rows_free(rows);
    return found;
}

struct new_session {
    const cs_actor *actor;
    const unsigned char *hash;
    const char *csrf;
    int64_t token_id;
    long hours;
    cs_session *out;
};

static int session_create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct new_session *s = arg;
    /* old sessions go a few at a time with each sign-in: no sweeper needed */
    if (cs_db_exec(db, SQL_SESSION_SWEEP, "", err) < 0) return -1;
    if (cs_db_exec(db, SQL_SESSION_INSERT, "bisi", s->hash, (size_t)32, s->token_id, s->csrf,
                   (int64_t)s->hours, err) < 0)
        return -1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)s->token_id);
    if (cs_audit(db, s->actor, "session.create", "token", id, NULL, err)) return -1;
    int rc = cs_session_find(db, s->hash, s->out, err);
    if (rc < 0) return -1;
    /* sessions last at least an hour (web.session_hours >= 1): the row just written is live */
    if (rc == 0) return cs_error_set(err, CS_E_INTERNAL, "new session not found");
    return 0;
}

int cs_session_create(cs_db *db, const cs_actor *a, const unsigned char id_hash[32],
                      int64_t token_id, const char *csrf, long hours, cs_session *out,
                      cs_error *err)
{
    struct new_session s = {.actor = a,
                            .hash = id_hash,
                            .csrf = csrf,
                            .token_id = token_id,
                            .hours = hours,
                            .out = out};
    return cs_db_tx(db, session_create_tx, &s, err);
}

int cs_session_delete(cs_db *db, const unsigned char id_hash[32], cs_error *err)
{
    return cs_db_exec(db, SQL_SESSION_DELETE, "b", id_hash, (size_t)32, err) < 0 ? -1 : 0;
}
