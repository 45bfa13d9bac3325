/* service/read_cache: database-backed answers (the household list, targets) kept in memory
 * while the read generation (core/readgen) stays the same — exactly right after any write on
 * any node, since every write to what they read moves the generation in its own transaction.
 * Decides nothing about who may see what: the key names the role and scope the answer was
 * built for, and the handler checks access before it asks. */
#ifndef SVC_READ_CACHE_H
#define SVC_READ_CACHE_H
#include "core/db.h"
#include "service/router.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The generation as read by a query that STARTED after this call began, so every write that
 * committed before the call is counted. Concurrent callers share one query (one in flight; a
 * caller that arrives while one runs waits for the next). 0, or -1 with err (the caller then
 * builds its answer without the cache). */
int svc_read_generation(cs_db *db, int64_t *gen, cs_error *err);

/* The generation for this request: read once (svc_read_generation) and kept in the request,
 * so authentication and the handler see the same one. 0, or -1 when it could not be read. */
int svc_read_generation_req(svc_req *r, cs_db *db, int64_t *gen);
/* 1 when answers and bearer tokens may be kept (http.read_cache_bytes > 0). */
int svc_read_cache_on(void);

/* The key of an answer for this caller: `what` (the route and its query values, printf), then
 * the role, a volunteer's communes, the language and today's date (Asia/Ho_Chi_Minh: ages and
 * paces move with it). 0, or -1 when it does not fit in n bytes (then do not cache). */
int svc_read_cache_key(const svc_req *r, char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answer from the cache: 1 when replied (200 with the kept bytes and their ETag, or 304 when
 * If-None-Match names that ETag), 0 when the caller must build the answer (then *gen is the
 * generation to store it under, read before any of the caller's queries; -1 when none could be
 * read: build and do not store). key: what the answer depends on besides the data (route,
 * query values, role, scope, language, date). -1 only when out of memory. */
int svc_read_cache_reply(svc_req *r, cs_db *db, const char *key, int64_t *gen);

/* Keep `body` (its JSON text, as svc_reply_json would send it) for key at generation gen
 * (nothing kept when gen < 0, too big or the cache is off), then reply 200 with it and its
 * ETag (304 on a matching If-None-Match). Takes ownership of body. 0 or -1. */
int svc_read_cache_put_reply(svc_req *r, const char *key, int64_t gen, json_t *body);

/* Entries held now, and hits / misses so far (tests). */
size_t svc_read_cache_count(void);
void svc_read_cache_stats(uint64_t *hits, uint64_t *misses);
/* Forget everything (tests; server shutdown after the last request). */
void svc_read_cache_free(void);
#endif
