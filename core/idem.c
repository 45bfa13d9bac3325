/* core/idem: the idempotency_keys rows. Claims are plain autocommitted statements so a
 * concurrent repeat sees the in_progress row at once; no HTTP here. */
#include "core/idem.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Claims this process could not give up because the database was gone at that moment (a 503
 * while the server was down). Without this a client retrying its 503'd request after recovery
 * would be told "in progress" until the claim went stale; the claim is dropped as soon as the
 * database answers again: before the next claim, and from cs_idem_purge. A process that dies
 * with some still listed leaves them to CS_IDEM_STALE_SECONDS, as before. Bounded: past
 * PENDING_MAX the oldest behaviour (stale timeout) applies. */
#define PENDING_MAX 256
static struct {
    char actor[64];
    char key[256];
} pending[PENDING_MAX];
static size_t npending;
static atomic_size_t npending_hint;
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;

static void pending_add(const char *actor, const char *key)
{
    if (strlen(actor) >= sizeof pending[0].actor || strlen(key) >= sizeof pending[0].key) return;
    pthread_mutex_lock(&pending_mu);
    if (npending < PENDING_MAX) {
        snprintf(pending[npending].actor, sizeof pending[0].actor, "%s", actor);
        snprintf(pending[npending].key, sizeof pending[0].key, "%s", key);
        npending++;
        atomic_store(&npending_hint, npending);
    }
    pthread_mutex_unlock(&pending_mu);
}
static void pending_flush(cs_db *db);

static const char AAD[] = "idempotency_keys.body";

// clang-format off
static const char SQL_CLAIM[] =
    "INSERT INTO idempotency_keys (actor, idem_key, request_hash, state, created_at)"
    " VALUES (?, ?, ?, 'in_progress', UTC_TIMESTAMP())";

enum { I_HASH, I_STATE, I_STATUS, I_CTYPE, I_HEADERS, I_BODY, I_EXPIRED, I_STALE };
static const char SQL_FIND[] =
    "SELECT request_hash, state, status, content_type, headers, body,"
    "       created_at < UTC_TIMESTAMP() - INTERVAL 24 HOUR,"
    "       created_at < UTC_TIMESTAMP() - INTERVAL 300 SECOND"
    " FROM idempotency_keys"
    " WHERE actor = ? AND idem_key = ?";

static const char SQL_DROP_EXPIRED[] =
    "DELETE FROM idempotency_keys"
    " WHERE actor = ? AND idem_key = ?"
    " AND created_at < UTC_TIMESTAMP() - INTERVAL 24 HOUR";

static const char SQL_TAKE_OVER_STALE[] =
    "UPDATE idempotency_keys"
    " SET created_at = UTC_TIMESTAMP()"
    " WHERE actor = ? AND idem_key = ? AND state = 'in_progress'"
    " AND created_at < UTC_TIMESTAMP() - INTERVAL 300 SECOND";

static const char SQL_FINISH[] =
    "UPDATE idempotency_keys"
    " SET state = 'done', status = ?, content_type = ?, headers = ?, body = ?"
    " WHERE actor = ? AND idem_key = ?";

static const char SQL_ABANDON[] =
    "DELETE FROM idempotency_keys"
    " WHERE actor = ? AND idem_key = ? AND state = 'in_progress'";

static const char SQL_PURGE[] =
    "DELETE FROM idempotency_keys"
    " WHERE created_at < UTC_TIMESTAMP() - INTERVAL 24 HOUR"
    " LIMIT ?";
// clang-format on

void cs_idem_reply_free(cs_idem_reply *r)
{
    cs_free(r->content_type);
    cs_free(r->headers);
    cs_free_secret(r->body, r->body_len);
    memset(r, 0, sizeof *r);
}

static char *dup_or_null(const char *s)
{
    return s ? cs_strdup(s) : NULL;
}

/* Fill *out from a done row; 0 or -1. */
static int load_reply(const cs_rows *rows, cs_idem_reply *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    out->status = (int)cs_rows_i64(rows, 0, I_STATUS);
    out->content_type = dup_or_null(cs_rows_strn(rows, 0, I_CTYPE));
    out->headers = dup_or_null(cs_rows_strn(rows, 0, I_HEADERS));
    size_t sl = 0;
    const void *sealed = cs_rows_blob(rows, 0, I_BODY, &sl);
    if (sealed && sl) {
        unsigned char *pt = NULL;
        size_t pl = 0;
        if (cs_unseal(sealed, sl, AAD, &pt, &pl)) {
            cs_idem_reply_free(out);
            return cs_error_set(err, CS_E_DECRYPT, "stored idempotent reply");
        }
        out->body = pt;
        out->body_len = pl;
    }
    return 0;
}

int cs_idem_begin(cs_db *db, const char *actor, const char *key, const unsigned char hash[32],
                  cs_idem_reply *out, cs_error *err)
{
    pending_flush(db);
    /* Three rounds at most: a row may expire or vanish between our statements. */
    for (int round = 0; round < 3; round++) {
        if (cs_db_exec(db, SQL_CLAIM, "ssb", actor, key, hash, (size_t)32, err) >= 0) return 0;
        if (err->code != CS_E_CONFLICT) return -1;
        cs_error_clear(err);
        cs_rows *rows = NULL;
        if (cs_db_query(db, &rows, SQL_FIND, "ss", actor, key, err)) return -1;
        if (!cs_rows_count(rows)) {
            cs_rows_free(rows);
            continue;
        }
        if (cs_rows_i64(rows, 0, I_EXPIRED) == 1) {
            cs_rows_free(rows);
            if (cs_db_exec(db, SQL_DROP_EXPIRED, "ss", actor, key, err) < 0) return -1;
            continue;
        }
        size_t hl = 0;
        const void *h = cs_rows_blob(rows, 0, I_HASH, &hl);
        if (hl != 32 || !cs_ct_equal(h, hash, 32)) {
            cs_rows_free(rows);
            return cs_error_set(err, CS_E_IDEMPOTENCY_MISMATCH, NULL);
        }
        if (!strcmp(cs_rows_str(rows, 0, I_STATE), "in_progress")) {
            int stale = cs_rows_i64(rows, 0, I_STALE) == 1;
            cs_rows_free(rows);
            if (stale) {
                int64_t n = cs_db_exec(db, SQL_TAKE_OVER_STALE, "ss", actor, key, err);
                if (n < 0) return -1;
                if (n == 1) {
                    cs_warn("idempotency_takeover", "stale in_progress claim taken over");
                    return 0;
                }
            }
            return cs_error_set(err, CS_E_IDEMPOTENCY_IN_PROGRESS, NULL);
        }
        int rc = load_reply(rows, out, err);
        cs_rows_free(rows);
        return rc ? -1 : 1;
    }
    return cs_error_set(err, CS_E_DB_SOFT, "idempotency key kept changing");
}

int cs_idem_finish(cs_db *db, const char *actor, const char *key, int status,
                   const char *content_type, const char *headers, const void *body, size_t len,
                   cs_error *err)
{
    unsigned char *sealed = NULL;
    size_t sl = 0;
    if (len && cs_seal(body, len, AAD, &sealed, &sl))
        return cs_error_set(err, CS_E_CRYPTO, "sealing the idempotent reply");
    int64_t n = cs_db_exec(db, SQL_FINISH, "issbss", (int64_t)status, content_type, headers, sealed,
                           sl, actor, key, err);
    cs_free(sealed);
    return n < 0 ? -1 : 0;
}

void cs_idem_abandon(cs_db *db, const char *actor, const char *key)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_db_exec(db, SQL_ABANDON, "ss", actor, key, &e) < 0) {
        cs_warn("idempotency_abandon_failed", "%s", cs_code_name(e.code));
        pending_add(actor, key);
    }
}

/* Give up the claims listed by pending_add now that the database answers; stop at the first
 * failure (it is still gone). */
static void pending_flush(cs_db *db)
{
    if (!atomic_load(&npending_hint)) return;
    pthread_mutex_lock(&pending_mu);
    while (npending) {
        cs_error e;
        cs_error_clear(&e);
        if (cs_db_exec(db, SQL_ABANDON, "ss", pending[npending - 1].actor,
                       pending[npending - 1].key, &e) < 0)
            break;
        npending--;
    }
    atomic_store(&npending_hint, npending);
    pthread_mutex_unlock(&pending_mu);
}

int64_t cs_idem_purge(cs_db *db, unsigned limit, cs_error *err)
{
    pending_flush(db);
    return cs_db_exec(db, SQL_PURGE, "i", (int64_t)limit, err);
}
