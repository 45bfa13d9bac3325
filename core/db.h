/* core/db: MariaDB access for every room. A pool hands one connection per thread; SQL is
 * always a prepared statement (never built from input); transactions run through cs_db_tx,
 * which re-runs the whole body on deadlock (1213), lock-wait timeout (1205) and lost
 * connection (2006/2013, after reconnecting and re-preparing), a bounded number of times. */
#ifndef CS_DB_H
#define CS_DB_H
#include "core/errors.h"
#include <mysql.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cs_db cs_db;

/* The rows of a JSON array of ids bound as one text parameter, as table `j` with column `id`:
 * a set of any size is one statement with one fixed text (no IN list built per call). */
#define CS_DB_IDS_TABLE "JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j"

/* Pool set up from the db.* settings. Returns 0 or -1 (err says why). */
int cs_db_pool_init(cs_error *err);
/* With db.nodes (Galera): from now on every connection of this process opens on one node, the
 * first of the list that answers, and all move on together when it fails (refused, lost, not
 * primary) — instead of spreading over the nodes. SKIP LOCKED and row locks exclude only
 * within a node: processes that claim the same rows (workers) keep their claims apart this
 * way instead of failing Galera's certification against each other. */
void cs_db_nodes_in_order(void);
void cs_db_pool_shutdown(void);
/* A connection for this thread: the same one every time on one thread until released.
 * Returns NULL with err set when the server cannot be reached. */
cs_db *cs_db_acquire(cs_error *err);
/* Give the thread's connection back. Aborts (our bug) if a transaction is still open. */
void cs_db_release(cs_db *db);
/* Stand-alone connection outside the pool (migrate, tests that need two sessions). */
cs_db *cs_db_connect(cs_error *err);
void cs_db_close(cs_db *db);
MYSQL *cs_db_mysql(cs_db *db);
/* Pool figures for /metrics. */
void cs_db_pool_stats(unsigned *open, unsigned *in_use, unsigned *max);
/* Server-side id of the connection (CONNECTION_ID()), 0 when not connected. */
unsigned long cs_db_thread_id(cs_db *db);
/* A random name of this connection object, kept across reconnects (lease holder). */
const char *cs_db_uid(cs_db *db);
/* How many times this connection was reopened after being lost. */
unsigned cs_db_reconnects(const cs_db *db);

/* Parameters of cs_db_exec / cs_db_query are described by a format string, one letter each:
 *   i  int64_t          u  uint64_t        d  double
 *   s  const char *      (NULL → SQL NULL)
 *   b  const void *, size_t   (binary; NULL pointer → SQL NULL)
 *   n  SQL NULL (no argument consumed)
 * e.g. cs_db_exec(db, "UPDATE t SET a=?, b=? WHERE id=?", "sbi", "x", blob, blen, id, &err)
 * The argument list ends with cs_error *err. Integers are read as int64_t/uint64_t: cast
 * literals and int variables ((int64_t)5), a plain int is undefined behaviour. Statements are
 * prepared once per connection and cached by their SQL text, so pass constant SQL. */

/* Run a statement. Returns the affected row count (>= 0) or -1 with err set; err->code is
 * CS_E_DB_SOFT for errors that cs_db_tx re-runs, CS_E_CONFLICT for a duplicate key (1062,
 * detail names the key), CS_E_DB otherwise. */
int64_t cs_db_exec(cs_db *db, const char *sql, const char *fmt, ...);
/* Run constant SQL with no parameters through the text protocol: migration files, and
 * statements MariaDB cannot prepare. Never pass text that contains input. Returns the affected
 * row count or -1 with err set as for cs_db_exec. */
int64_t cs_db_exec_text(cs_db *db, const char *sql, size_t len, cs_error *err);
/* va_list forms for wrappers: the parameters come from ap (as described by fmt) and err is
 * passed separately. */
int64_t cs_db_execv(cs_db *db, const char *sql, const char *fmt, va_list ap, cs_error *err);
struct cs_rows;
int cs_db_queryv(cs_db *db, struct cs_rows **out, const char *sql, const char *fmt, va_list ap,
                 cs_error *err);
/* Last AUTO_INCREMENT id of this connection. */
uint64_t cs_db_insert_id(cs_db *db);

/* A fully fetched result: every value as bytes (text for numbers/dates), NULL kept distinct. */
typedef struct cs_rows cs_rows;
/* Run a query and fetch all rows. Returns 0 and *out (caller frees with cs_rows_free) or -1. */
int cs_db_query(cs_db *db, cs_rows **out, const char *sql, const char *fmt, ...);
size_t cs_rows_count(const cs_rows *r);
unsigned cs_rows_ncols(const cs_rows *r);
const char *cs_rows_colname(const cs_rows *r, unsigned col);
/* Column index by name, or -1. */
int cs_rows_col(const cs_rows *r, const char *name);
int cs_rows_isnull(const cs_rows *r, size_t row, unsigned col);
/* Text value, "" for NULL; valid until cs_rows_free. */
const char *cs_rows_str(const cs_rows *r, size_t row, unsigned col);
/* Same, NULL for SQL NULL. */
const char *cs_rows_strn(const cs_rows *r, size_t row, unsigned col);
const void *cs_rows_blob(const cs_rows *r, size_t row, unsigned col, size_t *len);
int64_t cs_rows_i64(const cs_rows *r, size_t row, unsigned col);
double cs_rows_double(const cs_rows *r, size_t row, unsigned col);
void cs_rows_free(cs_rows *r);

/* One-value helpers: first column of the first row. Return 0, 1 when there is no row (or the
 * value is NULL; *out is then 0), -1. */
int cs_db_scalar_i64(cs_db *db, int64_t *out, const char *sql, const char *fmt, ...);

/* Transactions. The body runs between START TRANSACTION and COMMIT; it returns 0 to commit or
 * -1 to roll back (with err set). Soft errors (see above) roll back and re-run the body up to
 * db.tx_retries times with a short randomised pause; the body must therefore be safe to run
 * again (no side effects outside the database). Returns 0 or -1. */
typedef int (*cs_tx_fn)(cs_db *db, void *arg, cs_error *err);
int cs_db_tx(cs_db *db, cs_tx_fn fn, void *arg, cs_error *err);
/* A lost connection during COMMIT is not re-run (the commit may have happened): cs_db_tx
 * then returns -1 with CS_E_DB and detail "…outcome is unknown". Nesting cs_db_tx aborts. */
int cs_db_in_tx(const cs_db *db);
/* How many times the last cs_db_tx on this connection re-ran its body (tests, metrics). */
unsigned cs_db_last_tx_retries(const cs_db *db);

/* Bulk insert with Connector/C array binding (STMT_ATTR_ARRAY_SIZE). `sql` is an INSERT with
 * `ncols` placeholders; `types` as above (one letter per column, no 'n'); `cells` holds
 * nrows*ncols pointers to NUL-terminated text or NULL (SQL NULL) — binary columns pass
 * text too (hex is not decoded) unless `lens` is given (nrows*ncols lengths). Falls back to one
 * row at a time when the server or statement refuses array binding. Returns rows inserted or -1. */
int64_t cs_db_bulk_insert(cs_db *db, const char *sql, unsigned ncols, const char *types,
                          const char *const *cells, const size_t *lens, size_t nrows,
                          cs_error *err);
/* Rows go in round trips of at most 5000 rows / ~8 MiB; the count returned is the affected
 * rows (an upsert counts 2 for a changed row). Call it inside cs_db_tx for all-or-nothing.
 * Array binding on (default) or off for this connection (tests of the per-row fallback). */
void cs_db_set_bulk_arrays(cs_db *db, int enabled);

/* Migrations (schema.dir/sql/NNN_name.sql, applied in order, checksums in schema_migrations),
 * then the reference data of schema.dir/data. `out` receives one line per action (may be NULL).
 * Refuses (CS_E_MIGRATION_CHANGED) when an applied file's checksum changed. */
int cs_db_migrate(cs_db *db, void *FILE_out, cs_error *err);
/* 0 when every migration file is applied, 1 when some are pending, -1 on error (an applied
 * file that changed is an error: CS_E_MIGRATION_CHANGED). */
int cs_db_migrations_pending(cs_db *db, cs_error *err);

/* What one cs_db_migrate_ex run did (tests, `choso migrate` summary). */
typedef struct cs_migrate_report {
    unsigned files;   /* migration files found */
    unsigned applied; /* applied by this run */
    unsigned already; /* applied before this run */
    unsigned long rows_inserted, rows_updated, rows_unchanged, rows_deleted; /* reference data */
    double seconds; /* wall time of the whole run */
} cs_migrate_report;
/* cs_db_migrate with a report (rep may be NULL). The migration files are read from `dir`
 * (NULL: the schema.dir setting) — dir/sql/NNN_name.sql and the CSV files of dir/data. */
int cs_db_migrate_ex(cs_db *db, const char *dir, void *FILE_out, cs_migrate_report *rep,
                     cs_error *err);
/* Print one line per migration file (applied/pending/changed) to out. Returns 0 when all are
 * applied and unchanged, 1 when some are pending, -1 on error (a changed file is reported with
 * CS_E_MIGRATION_CHANGED after printing every line). */
int cs_db_migrate_status(cs_db *db, const char *dir, void *FILE_out, cs_error *err);
#endif
