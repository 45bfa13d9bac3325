/* tests/support/tsup: shared helpers for integration tests (cmocka) — the database from the
 * environment scripts/run-tests sets, fresh databases, temp dirs, a private schema copy.
 * Test code only: never linked into choso.
 *
 * Typical integration test:
 *     int main(void) {
 *         tsup_require_db();                 // exit 77 without CHOSO_DB_SOCKET; loads config
 *         const struct CMUnitTest t[] = {...};
 *         return cmocka_run_group_tests(t, NULL, NULL);
 *     }
 *     static void test_x(void **s) { cs_db *db = tsup_connect(); ... cs_db_close(db); }
 * scripts/run-tests gives each integration binary its own migrated database (CHOSO_DB_NAME =
 * choso_<binary>), so rows a test makes are seen only by that binary; make keys unique within
 * the binary (tsup_unique) when tests of one binary must not collide. */
#ifndef TSUP_H
#define TSUP_H
#include "core/db.h"
#include <stddef.h>
#include <stdint.h>

/* Exit 77 (skip) unless CHOSO_DB_SOCKET (or CHOSO_DB_HOST) is set; then load the configuration
 * from the environment, failing (exit 1, message on stderr) if it is malformed. */
void tsup_require_db(void);
/* Load the configuration from the environment only (unit tests that read settings). */
void tsup_load_config(void);

/* A stand-alone connection (cs_db_connect); fails the current test when it cannot connect.
 * Close with cs_db_close. */
cs_db *tsup_connect(void);

/* Run SQL that must succeed (cmocka failure with the error otherwise). Format as cs_db_exec
 * without the trailing err. Returns affected rows. */
int64_t tsup_exec(cs_db *db, const char *sql, const char *fmt, ...);
/* First column of the first row as an integer (0 when no row or NULL); must succeed. */
int64_t tsup_i64(cs_db *db, const char *sql, const char *fmt, ...);

/* Create (dropping any old one) the database "<db.name>_<suffix>" — allowed for the test user
 * by the grant on `choso%` — and return its name in a static buffer. Does not switch to it:
 * tsup_use_database does. */
const char *tsup_create_database(const char *suffix);
/* Make later connections (cs_db_connect, the pool) use database `name` (cs_config_set). The
 * previous name is returned (static buffer) so a test can switch back. */
const char *tsup_use_database(const char *name);
void tsup_drop_database(const char *name);

/* A new empty directory under CHOSO_TEST_TMP (else TMPDIR, else /tmp), named after tag.
 * Returns a cs_malloc'd path (cs_free it); remove it with tsup_rm_rf. Fails the test on error. */
char *tsup_tmpdir(const char *tag);
/* Remove a file or a directory tree. 0 or -1. */
int tsup_rm_rf(const char *path);
/* Copy a directory tree (directories and regular files). 0 or -1. */
int tsup_copy_tree(const char *from, const char *to);
/* A private copy of the schema directory (schema.dir setting, CHOSO_SCHEMA_DIR) in a new temp
 * dir, for tests that edit migrations. cs_free the path; tsup_rm_rf it when done. */
char *tsup_schema_copy(void);
/* Write `text` to path (replacing it). 0 or -1. */
int tsup_write_file(const char *path, const char *text);

/* Run a `choso` command (cmd_xxx of cli/cli.h) in this process as `name ARGS…` (args
 * NULL-terminated, at most 14), its standard output captured through the file out_path into out
 * (NUL-terminated, cut at outsz - 1). Returns the command's exit code. */
int tsup_run_cli(int (*cmd)(int, char **), const char *name, const char *const *args,
                 const char *out_path, char *out, size_t outsz);

/* A "Vm…:" line of /proc/self/status in KiB ("VmRSS:", "VmHWM:"), or -1. */
long tsup_vm_kb(const char *key);
/* 1 under AddressSanitizer or valgrind, whose allocators make memory figures meaningless (the
 * memory tests skip there), else 0. */
int tsup_under_memory_tool(void);

/* A string unique within this process run ("<prefix>-<pid>-<n>"), for test keys/codes. */
const char *tsup_unique(const char *prefix, char *out, size_t outsz);
#endif
