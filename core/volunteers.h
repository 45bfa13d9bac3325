/* core/volunteers: the rows behind volunteers managed from the admin page — a volunteer token
 * with a sealed phone, one-time sign-in links (hash only) and revoking a token's sessions. No
 * HTTP; the phone arrives sealed and leaves sealed. */
#ifndef CS_VOLUNTEERS_H
#define CS_VOLUNTEERS_H
#include "core/access.h"

#define CS_VOL_AAD_PHONE "volunteers.phone"

/* A volunteer to create: a volunteer token (t->role must be "volunteer") and its sealed phone
 * (NULL, 0: none). */
typedef struct cs_volunteer_new {
    cs_token_new token;
    const unsigned char *phone;
    size_t phone_n;
} cs_volunteer_new;
/* Create token, communes and volunteer row in one transaction. Returns 0 with *id, or -1. */
int cs_volunteer_create(cs_db *db, const cs_actor *a, const cs_volunteer_new *v, int64_t *id,
                        cs_error *err);

/* Issue a sign-in link for volunteer `id` valid `hours`: earlier unused links of it stop
 * working. expires_at gets "YYYY-MM-DDTHH:MM:SSZ". Returns 1, 0 no such active volunteer, -1. */
int cs_signin_link_create(cs_db *db, const cs_actor *a, int64_t id, const unsigned char hash[32],
                          long hours, char expires_at[32], cs_error *err);
/* Use the link with this hash: only once, only before it expires, only while its volunteer is
 * active. Returns 1 with *token_id, 0 refused, -1. */
int cs_signin_link_use(cs_db *db, const unsigned char hash[32], int64_t *token_id, cs_error *err);

/* Delete every session of token_id (all its devices), with a "session.revoke_all" audit row.
 * Returns the number deleted, or -1. */
int64_t cs_sessions_revoke_token(cs_db *db, const cs_actor *a, int64_t token_id, cs_error *err);

/* Deactivate volunteer `id`: its token revoked, its sessions and unused links gone, audited.
 * Returns 1, 0 no such volunteer, -1. (Already inactive: 1, nothing changes.) */
int cs_volunteer_deactivate(cs_db *db, const cs_actor *a, int64_t id, cs_error *err);

/* One volunteer as the admin page lists it; strings valid only during the call. */
typedef struct cs_volunteer_info {
    int64_t id;
    const char *name, *state, *created, *last_used, *communes;
    const unsigned char *phone; /* sealed, or NULL */
    size_t phone_n;
    int64_t sessions; /* live device sessions */
} cs_volunteer_info;
/* Call fn for each volunteer, newest first: those with an id below `before` (0: from the newest),
 * at most `limit` of them (a page; ask limit + 1 to learn whether more follow). 0 or -1. */
int cs_volunteer_list_each(cs_db *db, int64_t before, int limit,
                           void (*fn)(void *arg, const cs_volunteer_info *v), void *arg,
                           cs_error *err);
#endif
