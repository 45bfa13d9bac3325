/* core/lease: mutual exclusion that holds across a Galera cluster — one row per name in the
 * `leases` table, taken and renewed in transactions so certification decides races. Knows
 * nothing of HTTP or marketplaces; never uses GET_LOCK (named locks are node-local). */
#ifndef CS_LEASE_H
#define CS_LEASE_H
#include "core/db.h"
#include "core/errors.h"
#include <stddef.h>
#include <stdint.h>

/* The holder name of a connection: "<host>/<pid>/<connection uid>", at most 95 bytes. A
 * lease belongs to the connection object that took it (as GET_LOCK's did), so two threads —
 * each with its own pooled connection — exclude each other, and a reconnect keeps it. */
void cs_lease_self(cs_db *db, char out[96]);

/* Take or renew `name` (at most 64 bytes) for `ttl_s` seconds as this connection's holder. Returns
 * 1 when held now (taken, renewed, or taken over from an expired holder), 0 when another holder
 * has it unexpired, -1 on error. Runs its own transaction: call it outside cs_db_tx. *gen (may
 * be NULL) receives the lease's generation, which grows each time the holder changes — a
 * fencing number for work that must notice it lost the lease. */
int cs_lease_take(cs_db *db, const char *name, int ttl_s, uint64_t *gen, cs_error *err);
/* cs_lease_take retried every 50–250 ms until taken or `wait_s` seconds passed. Returns 1
 * taken, 0 still held elsewhere after the wait, -1 on error. */
int cs_lease_wait(cs_db *db, const char *name, int ttl_s, int wait_s, cs_error *err);
/* Give `name` up if this connection holds it (expiry set to the past, the row stays so that the
 * generation keeps counting). Returns 0 (also when not held), -1 on error. */
int cs_lease_release(cs_db *db, const char *name, cs_error *err);
/* Who holds `name` unexpired: 1 with holder copied (NUL-terminated, truncated to n), 0 when
 * free, -1 on error. */
int cs_lease_holder(cs_db *db, const char *name, char *holder, size_t n, cs_error *err);
/* Inside a transaction: write the row of `name` (creating it), so that two transactions both
 * calling it conflict — on one server by the row lock, across Galera nodes in certification
 * (the loser's COMMIT fails with 1213 and cs_db_tx re-runs it). A SELECT … FOR UPDATE alone
 * excludes only on its own node. Returns 0 or -1. */
int cs_lease_touch(cs_db *db, const char *name, cs_error *err);
/* Create the table when missing (migrate takes its own lease before the migration files
 * run, so it cannot wait for 070_leases.sql). Returns 0 or -1. */
int cs_lease_ensure_table(cs_db *db, cs_error *err);
#endif
