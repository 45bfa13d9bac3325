/* core/lease: leases in the `leases` table instead of GET_LOCK, so exclusion holds on every
 * node of a Galera cluster. Core room: SQL and time only, no HTTP, no marketplace. */
#include "core/lease.h"
#include "core/crypto.h"
#include "core/db.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// clang-format off
#define SQL_ENSURE \
    "CREATE TABLE IF NOT EXISTS leases (" \
    " name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL," \
    " holder VARCHAR(96) CHARACTER SET ascii COLLATE ascii_bin NOT NULL," \
    " generation BIGINT UNSIGNED NOT NULL DEFAULT 0," \
    " expires_at DATETIME(3) NOT NULL," \
    " taken_at DATETIME(3) NOT NULL," \
    " PRIMARY KEY (name)" \
    ") ENGINE=InnoDB"
/* The row exists before it is locked, so two first takers queue on one row lock (same node)
 * or collide in certification (two nodes) instead of both inserting. */
#define SQL_SEED \
    "INSERT IGNORE INTO leases (name, holder, generation, expires_at, taken_at)" \
    " VALUES (?, '', 0, '1970-01-01 00:00:01', '1970-01-01 00:00:01')"
#define SQL_READ \
    "SELECT holder, expires_at > UTC_TIMESTAMP(3), generation" \
    " FROM leases" \
    " WHERE name = ?" \
    " FOR UPDATE"
enum { R_HOLDER, R_LIVE, R_GEN };
#define SQL_RENEW \
    "UPDATE leases" \
    " SET expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND" \
    " WHERE name = ?"
#define SQL_TAKE \
    "UPDATE leases" \
    " SET holder = ?, generation = generation + 1," \
    " expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND, taken_at = UTC_TIMESTAMP(3)" \
    " WHERE name = ?"
#define SQL_RELEASE \
    "UPDATE leases" \
    " SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND" \
    " WHERE name = ?" \
    " AND holder = ?"
#define SQL_HOLDER \
    "SELECT holder" \
    " FROM leases" \
    " WHERE name = ?" \
    " AND expires_at > UTC_TIMESTAMP(3)"
enum { H_HOLDER };
#define SQL_TOUCH \
    "INSERT INTO leases (name, holder, generation, expires_at, taken_at)" \
    " VALUES (?, '', 1, '1970-01-01 00:00:01', UTC_TIMESTAMP(3))" \
    " ON DUPLICATE KEY UPDATE generation = generation + 1"
// clang-format on

void cs_lease_self(cs_db *db, char out[96])
{
    char host[40] = "host";
    if (gethostname(host, sizeof host)) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    snprintf(out, 96, "%s/%ld/%s", host, (long)getpid(), cs_db_uid(db));
}

int cs_lease_ensure_table(cs_db *db, cs_error *err)
{
    return cs_db_exec(db, SQL_ENSURE, "", err) < 0 ? -1 : 0;
}

struct take {
    const char *name, *me;
    int64_t ttl;
    int got;
    uint64_t gen;
};

static int take_tx(cs_db *db, void *arg, cs_error *err)
{
    struct take *t = arg;
    t->got = 0;
    if (cs_db_exec(db, SQL_SEED, "s", t->name, err) < 0) return -1;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_READ, "s", t->name, err)) return -1;
    if (cs_rows_count(r) != 1) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_DB, "lease row missing after insert");
    }
    int mine = !strcmp(cs_rows_str(r, 0, R_HOLDER), t->me);
    int live = cs_rows_i64(r, 0, R_LIVE) == 1;
    t->gen = (uint64_t)cs_rows_i64(r, 0, R_GEN);
    cs_rows_free(r);
    if (mine) {
        if (cs_db_exec(db, SQL_RENEW, "is", t->ttl, t->name, err) < 0) return -1;
        t->got = 1;
    } else if (!live) {
        if (cs_db_exec(db, SQL_TAKE, "sis", t->me, t->ttl, t->name, err) < 0) return -1;
        t->gen++;
        t->got = 1;
    }
    return 0;
}

static int name_ok(const char *name, cs_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return cs_error_set(err, CS_E_INTERNAL, "lease name must be 1 to 64 bytes");
    return 0;
}

int cs_lease_take(cs_db *db, const char *name, int ttl_s, uint64_t *gen, cs_error *err)
{
    if (name_ok(name, err)) return -1;
    char me[96];
    cs_lease_self(db, me);
    struct take t = {name, me, ttl_s > 0 ? ttl_s : 1, 0, 0};
    if (cs_db_tx(db, take_tx, &t, err)) return -1;
    if (gen) *gen = t.gen;
    return t.got;
}

int cs_lease_wait(cs_db *db, const char *name, int ttl_s, int wait_s, cs_error *err)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0;; i++) {
        int rc = cs_lease_take(db, name, ttl_s, NULL, err);
        if (rc != 0) return rc;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double spent = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (spent >= wait_s) return 0;
        unsigned char r = 0;
        if (cs_random(&r, 1)) r = (unsigned char)i;
        unsigned ms = 50u + (i < 4 ? 25u * i : 100u) + (unsigned)(r % 100);
        struct timespec d = {0, (long)ms * 1000000L};
        nanosleep(&d, NULL);
    }
}

int cs_lease_release(cs_db *db, const char *name, cs_error *err)
{
    if (name_ok(name, err)) return -1;
    char me[96];
    cs_lease_self(db, me);
    return cs_db_exec(db, SQL_RELEASE, "ss", name, me, err) < 0 ? -1 : 0;
}

int cs_lease_holder(cs_db *db, const char *name, char *holder, size_t n, cs_error *err)
{
    if (name_ok(name, err)) return -1;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_HOLDER, "s", name, err)) return -1;
    int found = cs_rows_count(r) == 1;
    if (found && holder && n) snprintf(holder, n, "%s", cs_rows_str(r, 0, H_HOLDER));
    cs_rows_free(r);
    return found;
}

int cs_lease_touch(cs_db *db, const char *name, cs_error *err)
{
    if (name_ok(name, err)) return -1;
    return cs_db_exec(db, SQL_TOUCH, "s", name, err) < 0 ? -1 : 0;
}
