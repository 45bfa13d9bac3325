/* service/auth: bearer-token authentication and the role/commune checks handlers use. Tokens
 * are looked up by their SHA-256 only; the token text is never stored or logged. */
#include "service/auth.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *svc_role_name(unsigned role)
{
    switch (role) {
    case SVC_ROLE_ADMIN: return "admin";
    case SVC_ROLE_MONITOR: return "monitor";
    case SVC_ROLE_VOLUNTEER: return "volunteer";
    }
    return NULL;
}

unsigned svc_role_from_name(const char *name)
{
    if (!name) return 0;
    if (!strcmp(name, "admin")) return SVC_ROLE_ADMIN;
    if (!strcmp(name, "monitor")) return SVC_ROLE_MONITOR;
    if (!strcmp(name, "volunteer")) return SVC_ROLE_VOLUNTEER;
    return 0;
}

void svc_actor_free(svc_actor *a)
{
    cs_free(a->communes);
    memset(a, 0, sizeof *a);
}

/* Shared by the look-ups by hash and by id: `where` is a fixed SQL fragment, never input. */
static int load_token(cs_db *db, const char *where, const char *fmt, const void *a1, size_t a2,
                      int64_t id, svc_actor *out, cs_error *err)
{
    static const char *base =
        "SELECT id, role,"
        " (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > UTC_TIMESTAMP())) AS live,"
        " (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE) AS stale"
        " FROM tokens WHERE ";
    char sql[320];
    snprintf(sql, sizeof sql, "%s%s", base, where);
    cs_rows *rows = NULL;
    int rc = fmt[0] == 'b' ? cs_db_query(db, &rows, sql, fmt, a1, a2, err)
                           : cs_db_query(db, &rows, sql, fmt, id, err);
    if (rc) return -1;
    if (cs_rows_count(rows) == 0 || cs_rows_i64(rows, 0, 2) != 1) {
        cs_rows_free(rows);
        return 0;
    }
    svc_actor a = {0};
    a.kind = SVC_ACTOR_TOKEN;
    a.token_id = cs_rows_i64(rows, 0, 0);
    a.role = svc_role_from_name(cs_rows_str(rows, 0, 1));
    int stale = cs_rows_i64(rows, 0, 3) == 1;
    cs_rows_free(rows);
    snprintf(a.id, sizeof a.id, "token:%lld", (long long)a.token_id);
    if (!a.role) return 0; /* a role this build does not know grants nothing */

    if (a.role == SVC_ROLE_VOLUNTEER) {
        if (cs_db_query(db, &rows,
                        "SELECT commune_code FROM token_communes WHERE token_id = ?"
                        " ORDER BY commune_code",
                        "i", a.token_id, err))
            return -1;
        size_t n = cs_rows_count(rows);
        if (n) {
            a.communes = cs_calloc(n, sizeof *a.communes);
            if (!a.communes) {
                cs_rows_free(rows);
                return cs_error_set(err, CS_E_NOMEM, NULL);
            }
            for (size_t i = 0; i < n; i++)
                snprintf(a.communes[i], SVC_COMMUNE_LEN, "%s", cs_rows_str(rows, i, 0));
            a.ncommunes = n;
        }
        cs_rows_free(rows);
    }
    if (stale) {
        /* At most one write a minute per token, whichever process gets there first; a failure
         * here must not refuse the request. */
        cs_error e2;
        cs_error_clear(&e2);
        if (cs_db_exec(db,
                       "UPDATE tokens SET last_used_at = UTC_TIMESTAMP() WHERE id = ? AND"
                       " (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE)",
                       "i", a.token_id, &e2) < 0)
            cs_warn("token_touch_failed", "%s", cs_code_name(e2.code));
    }
    *out = a;
    return 1;
}

int svc_auth_load_token(cs_db *db, const char *token, svc_actor *out, cs_error *err)
{
    unsigned char h[32];
    cs_token_hash(token, h);
    return load_token(db, "token_hash = ?", "b", h, sizeof h, 0, out, err);
}

int svc_auth_load_token_id(cs_db *db, int64_t token_id, svc_actor *out, cs_error *err)
{
    return load_token(db, "id = ?", "i", NULL, 0, token_id, out, err);
}

/* token68 (RFC 7235): the characters a bearer token may have. */
static int token68(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr("-._~+/=", c)))
            return 0;
    }
    return n > 0 && n <= 200;
}

/* Authorization: Bearer <token>. 1 authenticated, 0 no such header, -1 refused/error. */
static int auth_bearer(svc_req *r, cs_error *err)
{
    const char *h = svc_header(r, "Authorization");
    if (!h) return 0;
    while (*h == ' ') h++;
    if (strncasecmp(h, "Bearer ", 7)) return cs_error_set(err, CS_E_TOKEN_INVALID, "bearer scheme expected");
    h += 7;
    while (*h == ' ') h++;
    if (!token68(h)) return cs_error_set(err, CS_E_TOKEN_INVALID, "malformed token");
    cs_db *db = svc_db(r, err);
    if (!db) return -1;
    svc_actor a;
    int rc = svc_auth_load_token(db, h, &a, err);
    if (rc < 0) return -1;
    if (rc == 0) return cs_error_set(err, CS_E_TOKEN_INVALID, NULL);
    svc_actor_free(&r->actor);
    r->actor = a;
    return 1;
}

/* Authenticators in order. The web-session cookie (issue 6) adds one line here; it should
 * call svc_auth_load_token_id for the session's token and set kind SVC_ACTOR_SESSION. */
static int (*const authenticators[])(svc_req *r, cs_error *err) = {
    auth_bearer,
};

int svc_auth_authenticate(svc_req *r, cs_error *err)
{
    for (size_t i = 0; i < sizeof authenticators / sizeof authenticators[0]; i++) {
        int rc = authenticators[i](r, err);
        if (rc) return rc > 0 ? 0 : -1;
    }
    return 0;
}

int svc_require_role(const svc_req *r, unsigned mask, cs_error *err)
{
    if (r->actor.kind == SVC_ACTOR_ANON || !r->actor.role)
        return cs_error_set(err, CS_E_UNAUTHENTICATED, NULL);
    if (!(r->actor.role & mask)) return cs_error_set(err, CS_E_FORBIDDEN, NULL);
    return 0;
}

static int has_commune(const svc_actor *a, const char *code)
{
    if (!code) return 0;
    for (size_t i = 0; i < a->ncommunes; i++)
        if (!strcmp(a->communes[i], code)) return 1;
    return 0;
}

int svc_can_read_commune(const svc_req *r, const char *code)
{
    switch (r->actor.role) {
    case SVC_ROLE_ADMIN:
    case SVC_ROLE_MONITOR: return 1;
    case SVC_ROLE_VOLUNTEER: return has_commune(&r->actor, code);
    }
    return 0;
}

int svc_can_write_commune(const svc_req *r, const char *code)
{
    switch (r->actor.role) {
    case SVC_ROLE_ADMIN: return 1;
    case SVC_ROLE_VOLUNTEER: return has_commune(&r->actor, code);
    }
    return 0;
}

int svc_can_see_personal(const svc_req *r, const char *commune)
{
    return svc_can_write_commune(r, commune);
}

cs_actor svc_audit_actor(const svc_req *r)
{
    cs_actor a;
    memset(&a, 0, sizeof a);
    if (r->actor.kind != SVC_ACTOR_ANON) {
        a.kind = CS_ACTOR_TOKEN;
        snprintf(a.id, sizeof a.id, "%lld", (long long)r->actor.token_id);
    } else {
        a.kind = CS_ACTOR_OWNER; /* the only unauthenticated actor that changes anything */
    }
    snprintf(a.request_id, sizeof a.request_id, "%s", r->request_id);
    snprintf(a.client, sizeof a.client, "%s", r->client);
    return a;
}
