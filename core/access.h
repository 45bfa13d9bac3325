/* core/access: the rows behind access — API tokens, the communes a volunteer token may work in,
 * and web sign-in sessions. Knows nothing of HTTP or of what a role may do (service/auth). */
#ifndef CS_ACCESS_H
#define CS_ACCESS_H
#include "core/audit.h"
#include "core/db.h"
#include <stddef.h>
#include <stdint.h>

#define CS_COMMUNE_LEN 6 /* 5-character commune code + NUL */

/* --- tokens --------------------------------------------------------------------------------- */

/* A live token (not revoked, not expired), as stored. */
typedef struct cs_token {
    int64_t id;
    char role[16];      /* "admin", "monitor" or "volunteer" */
    int touch_due;      /* last_used_at is unset or over a minute old: cs_token_touch is due */
    int64_t live_for_s; /* seconds until it expires; -1 when it never does */
} cs_token;

/* Look a token up by the SHA-256 of its text, or by its id (sessions). Returns 1 found and live,
 * 0 unknown, revoked or expired, -1 database error. */
int cs_token_find_by_hash(cs_db *db, const unsigned char hash[32], cs_token *out, cs_error *err);
int cs_token_find_by_id(cs_db *db, int64_t id, cs_token *out, cs_error *err);
/* Record that the token was used now, unless another process did within the last minute (so at
 * most one write a minute per token). Returns 0 or -1. */
int cs_token_touch(cs_db *db, int64_t id, cs_error *err);
/* The commune codes a token may work in, sorted: *codes is cs_calloc'd (caller cs_frees; NULL
 * when there are none) and *n their number. Returns 0 or -1. */
int cs_token_communes(cs_db *db, int64_t id, char (**codes)[CS_COMMUNE_LEN], size_t *n,
                      cs_error *err);
/* The name the token was issued to, into out (outsz bytes). Returns 1, 0 no such token, -1. */
int cs_token_name(cs_db *db, int64_t id, char *out, size_t outsz, cs_error *err);

/* One commune of a token with its name; strings valid only during the call. */
typedef struct cs_token_unit {
    const char *code, *name;
} cs_token_unit;
/* Call fn for each commune of the token, in code order. Returns 0 or -1. */
int cs_token_units_each(cs_db *db, int64_t id, void (*fn)(void *arg, const cs_token_unit *u),
                        void *arg, cs_error *err);

/* A token to issue. The token text itself is never stored: only its hash. */
typedef struct cs_token_new {
    const char *name; /* who holds it; may be a person's name, so it never reaches the audit row */
    const char *role; /* "admin", "monitor" or "volunteer" */
    const char *const *communes; /* volunteer tokens: the communes it may work in */
    size_t ncommunes;
    long expires_days;         /* 0: never expires */
    const char *commune_field; /* the name unknown communes are reported under (e.g. the CLI's
                                  "--commune") */
    unsigned char hash[32];    /* SHA-256 of the token text (cs_token_hash) */
} cs_token_new;
/* Issue a token in its own transaction with its communes and a "token.create" audit row (role,
 * communes, expiry; not the name). A commune that does not exist is a field error (CS_F_COMMUNE,
 * detail the code) under t->commune_field, all of them named. Returns 0 with *id, or -1. */
int cs_token_create(cs_db *db, const cs_actor *a, const cs_token_new *t, int64_t *id,
                    cs_error *err);

/* The same inside the caller's transaction (core/volunteers: the token and its volunteer row
 * together). Returns 0 with *id, or -1. */
int cs_token_create_in(cs_db *db, const cs_actor *a, const cs_token_new *t, int64_t *id,
                       cs_error *err);

enum { CS_TOKEN_UNKNOWN = 0, CS_TOKEN_REVOKED = 1, CS_TOKEN_ALREADY_REVOKED = 2 };
/* Revoke token `id` in its own transaction, with a "token.revoke" audit row when it changes
 * anything. Returns CS_TOKEN_REVOKED, CS_TOKEN_ALREADY_REVOKED, CS_TOKEN_UNKNOWN or -1. */
int cs_token_revoke(cs_db *db, const cs_actor *a, int64_t id, cs_error *err);

/* One token as `choso token list` shows it: every value already text for display (UTC times,
 * "-" for none); strings valid only during the call. */
typedef struct cs_token_info {
    const char *id, *role;
    const char *state;     /* "active", "revoked" or "expired" */
    const char *created;   /* "YYYY-MM-DD HH:MM" */
    const char *expires;   /* "YYYY-MM-DD" or "-" */
    const char *last_used; /* "YYYY-MM-DD HH:MM" or "-" */
    const char *communes;  /* "40001,40002" or "-" */
    const char *name;
} cs_token_info;
/* Call fn for every token, by id. No secrets. Returns 0 or -1. */
int cs_token_list_each(cs_db *db, void (*fn)(void *arg, const cs_token_info *t), void *arg,
                       cs_error *err);

/* --- web sessions --------------------------------------------------------------------------- */

/* A live session row. The session id itself is never stored: only its hash. */
typedef struct cs_session {
    int64_t token_id;
    char csrf[44];
    char expires_at[32]; /* UTC, "2026-01-02T03:04:05Z" */
} cs_session;

/* The live (unexpired) session with this id hash. Returns 1, 0 none, -1 database error. */
int cs_session_find(cs_db *db, const unsigned char id_hash[32], cs_session *out, cs_error *err);
/* Open a session of token_id for `hours` in its own transaction, with a "session.create" audit
 * row; sweeps a few expired sessions on the way (no sweeper needed). *out receives the new row.
 * Returns 0 or -1. */
int cs_session_create(cs_db *db, const cs_actor *a, const unsigned char id_hash[32],
                      int64_t token_id, const char *csrf, long hours, cs_session *out,
                      cs_error *err);
/* Delete the session with this id hash (sign-out). Returns 0 or -1. */
int cs_session_delete(cs_db *db, const unsigned char id_hash[32], cs_error *err);
#endif
