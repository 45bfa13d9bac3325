/* service/auth: who is asking (bearer tokens, web session cookies) and what they may do.
 * Handlers call the svc_can_* / svc_require_role checks; they never parse credentials. */
#ifndef SVC_AUTH_H
#define SVC_AUTH_H
#include "core/audit.h"
#include "core/db.h"
#include "service/router.h"

/* Fill r->actor from the request's credentials. No credentials: anonymous actor, 0.
 * Credentials that do not check out (unknown, revoked, expired, malformed): -1 with
 * CS_E_TOKEN_INVALID. Database trouble: -1 with CS_E_DB/CS_E_DB_SOFT. Each authenticator in
 * auth.c's table is tried in order; the first that finds its kind of credential decides. */
int svc_auth_authenticate(svc_req *r, cs_error *err);

/* Load the actor for a token, by the token text (hashed here) or, for sessions, by its id.
 * Returns 1 found and valid, 0 unknown/revoked/expired, -1 database error. Touches
 * last_used_at at most once a minute per token. */
int svc_auth_load_token(cs_db *db, const char *token, svc_actor *out, cs_error *err);
int svc_auth_load_token_id(cs_db *db, int64_t token_id, svc_actor *out, cs_error *err);
void svc_actor_free(svc_actor *a);

/* Web sessions (issue 6). The cookie holds 32 random bytes, base64url (43 characters); the
 * sessions table keeps only its SHA-256. A request with the cookie and no Authorization header
 * runs as the session's token (kind SVC_ACTOR_SESSION); anything but GET/HEAD must then carry
 * X-CSRF-Token equal to the session's csrf (403 csrf_failed otherwise). */
#define SVC_SESSION_COOKIE "choso_session"
/* The session id from the request's Cookie header into out; 1 found (well-formed), 0 absent,
 * -1 present but malformed. */
int svc_session_cookie(const svc_req *r, char out[44]);
/* Set-Cookie for the session: HttpOnly; SameSite=Strict; Path=/; Secure when http.public_url is
 * https. value "" with max_age 0 clears it. 0 or -1 (out of memory). */
int svc_session_set_cookie(svc_req *r, const char *value, long max_age);

/* 0 when the actor has one of the roles in `mask`; otherwise -1 with CS_E_UNAUTHENTICATED
 * (anonymous) or CS_E_FORBIDDEN. */
int svc_require_role(const svc_req *r, unsigned mask, cs_error *err);
/* 1 if the actor may read data of commune `code` (admin, monitor, volunteer of it), else 0. */
int svc_can_read_commune(const svc_req *r, const char *code);
/* 1 if the actor may create or change data of commune `code` (admin, volunteer of it). */
int svc_can_write_commune(const svc_req *r, const char *code);
/* 1 if the actor may see personal fields of a household in `commune` (admin, or volunteer of
 * that commune; monitor never). */
int svc_can_see_personal(const svc_req *r, const char *commune);
/* The actor for core/audit rows (kind, id, request id, client address). */
cs_actor svc_audit_actor(const svc_req *r);
/* Role name ("admin", "monitor", "volunteer") for one SVC_ROLE_* bit, NULL otherwise; and back
 * (0 when unknown). */
const char *svc_role_name(unsigned role);
unsigned svc_role_from_name(const char *name);
/* Forget the bearer look-ups kept in memory (tests; server shutdown). */
void svc_auth_cache_free(void);
#endif
