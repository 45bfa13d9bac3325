/* core/idem: the idempotency_keys store behind Idempotency-Key on POST. The first request with a
 * key runs and its reply is stored (body sealed: it may carry a PIN issued once); a repeat with
 * the same key and request hash within 24 h gets the stored reply. Hashing the request and
 * sending replies is service/'s business; no HTTP here. */
#ifndef CS_IDEM_H
#define CS_IDEM_H
#include "core/db.h"
#include <stddef.h>
#include <stdint.h>

/* Stored replies are kept this long (the SQL below says it in its own words). */
#define CS_IDEM_TTL_HOURS 24
/* An in_progress row older than this is taken to belong to a process that died mid-request
 * (handlers keep to short transactions) and the request may run again. */
#define CS_IDEM_STALE_SECONDS 300

typedef struct cs_idem_reply {
    int status;
    char *content_type; /* each cs_malloc'd or NULL; cs_idem_reply_free */
    char *headers;      /* JSON object text of the handler's extra headers */
    unsigned char *body;
    size_t body_len;
} cs_idem_reply;

/* Claim (actor, key) for a request whose method/path/body hash is `hash`. Claims are plain
 * autocommitted statements (not inside cs_db_tx) so a concurrent repeat sees them at once.
 * Returns 0: claimed (row in_progress: run the request, then finish or abandon);
 *         1: *out holds the stored reply to send again (cs_idem_reply_free);
 *        -1: err is CS_E_IDEMPOTENCY_MISMATCH (same key, other request),
 *            CS_E_IDEMPOTENCY_IN_PROGRESS or a database error. */
int cs_idem_begin(cs_db *db, const char *actor, const char *key, const unsigned char hash[32],
                  cs_idem_reply *out, cs_error *err);
/* Store the reply of a claimed request (state done). Returns 0 or -1. */
int cs_idem_finish(cs_db *db, const char *actor, const char *key, int status,
                   const char *content_type, const char *headers, const void *body, size_t len,
                   cs_error *err);
/* Drop a claim whose request failed in a way worth retrying (5xx); failures are only logged. */
void cs_idem_abandon(cs_db *db, const char *actor, const char *key);
void cs_idem_reply_free(cs_idem_reply *r);
/* Delete rows past the 24 h window (at most `limit`); returns rows deleted or -1. */
int64_t cs_idem_purge(cs_db *db, unsigned limit, cs_error *err);
#endif
