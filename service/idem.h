/* service/idem: Idempotency-Key for POST. The first request with a key runs and its reply is
 * stored (body sealed: it may carry a PIN issued once); a repeat with the same key and body
 * within 24 h gets the stored reply without the handler running. No HTTP types here. */
#ifndef SVC_IDEM_H
#define SVC_IDEM_H
#include "core/db.h"
#include <stddef.h>

#define SVC_IDEM_TTL_HOURS 24
/* An in_progress row older than this is taken to belong to a process that died mid-request
 * (handlers keep to short transactions) and the request may run again. */
#define SVC_IDEM_STALE_SECONDS 300

typedef struct svc_idem_reply {
    int status;
    char *content_type; /* each cs_malloc'd or NULL; svc_idem_reply_free */
    char *headers;      /* JSON object text of the handler's extra headers */
    unsigned char *body;
    size_t body_len;
} svc_idem_reply;

/* 1 when `key` is acceptable: 1–128 characters of [A-Za-z0-9._:-]. */
int svc_idem_key_valid(const char *key);
/* Claim (actor, key) for a request whose method/path/body hash is `hash`.
 * Returns 0: claimed (row in_progress, run the handler, then finish or abandon);
 *         1: *out holds the stored reply to send again;
 *        -1: err is CS_E_IDEMPOTENCY_MISMATCH (same key, other request: 422),
 *            CS_E_IDEMPOTENCY_IN_PROGRESS (409) or a database error. */
int svc_idem_begin(cs_db *db, const char *actor, const char *key, const unsigned char hash[32],
                   svc_idem_reply *out, cs_error *err);
/* Store the reply of a claimed request (state done). Returns 0 or -1. */
int svc_idem_finish(cs_db *db, const char *actor, const char *key, int status,
                    const char *content_type, const char *headers, const void *body, size_t len,
                    cs_error *err);
/* Drop a claim whose request failed in a way worth retrying (5xx). */
void svc_idem_abandon(cs_db *db, const char *actor, const char *key);
void svc_idem_reply_free(svc_idem_reply *r);
/* Delete rows past the 24 h window (at most `limit`); returns rows deleted or -1. */
int64_t svc_idem_purge(cs_db *db, unsigned limit, cs_error *err);
#endif
