/* service/status_cache: a short-lived in-memory copy of the owner status answer (GET/POST
 * /v1/status/{code}), reused for the same household code, language, PIN and client address
 * for status.cache_ms. It decides nothing about PINs: an entry exists only because the full
 * check (core/households, throttled and audited) said yes a moment ago. */
#ifndef SVC_STATUS_CACHE_H
#define SVC_STATUS_CACHE_H
#include "core/errors.h"
#include <stddef.h>
#include <stdint.h>

/* The invalidation generations seen before the database work of a miss. An answer is stored
 * only if none of them moved meanwhile, so a PIN re-issue or an erasure that commits while a
 * status request is between its PIN check and its store can never leave a stale entry. */
typedef struct svc_sc_ticket {
    uint64_t all, code, client;
} svc_sc_ticket;

/* A stored answer, shared by reference: the bytes stay valid until released. */
typedef struct svc_sc_blob svc_sc_blob;

/* The live answer for exactly this (code, lang, PIN, client), or NULL: a miss, expired,
 * invalidated, another PIN or another client, or the cache disabled (status.cache_ms = 0).
 * Never touches the database. *age_s = whole seconds since it was made. The caller releases a
 * non-NULL result with svc_sc_blob_release. */
svc_sc_blob *svc_status_cache_get(const char *code, cs_lang lang, const char *pin,
                                  const char *client, unsigned *age_s);
/* The bytes of a blob (not NUL-terminated), len of them. */
const char *svc_sc_blob_data(const svc_sc_blob *b, size_t *len);
void svc_sc_blob_release(svc_sc_blob *b);

/* Take a ticket before checking the PIN. */
void svc_status_cache_ticket(const char *code, const char *client, svc_sc_ticket *t);
/* Keep `len` bytes (copied) as the answer for (code, lang, PIN, client), after the full PIN
 * check succeeded. Silently keeps nothing when disabled, too big, over status.cache_bytes, out
 * of memory or invalidated since the ticket was taken. */
void svc_status_cache_put(const char *code, cs_lang lang, const char *pin, const char *client,
                          const svc_sc_ticket *t, const char *body, size_t len);

/* Forget the household's answers at once (both languages, every PIN). Call after any write
 * the status view shows: PIN re-issue, erasure, household or product changes. */
void svc_status_cache_drop(const char *code);
/* A wrong or locked PIN from `client` for `code`: forget that household's answers and every
 * answer made for that client, so a lock (per household or per address) applies at once to
 * the cached path exactly as to the normal one. */
void svc_status_cache_failed(const char *code, const char *client);
/* Forget everything (a write whose household is not known here). */
void svc_status_cache_clear(void);
/* Entries held now (for tests and metrics). */
size_t svc_status_cache_count(void);
/* Free every entry and the table (server shutdown, after the last request finished). The
 * cache starts again empty on next use. */
void svc_status_cache_free(void);
#endif
