/* tests/integration/test_db_tx: core/db against a real MariaDB — transaction re-runs on a real
 * deadlock, a lock-wait timeout and a killed connection; error mapping; NULL and binary round
 * trips; bulk insert with array binding and its fallback; named locks; the pool; the abort on
 * releasing a connection with a transaction open. Skips (77) without CHOSO_DB_SOCKET. */
#include "core/config.h"
#include "core/db.h"
#include "core/mem.h"
#include "tests/support/tsup.h"
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

static int setup(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    tsup_exec(db, "DROP TABLE IF EXISTS tx_t, tx_u, rt, bulk_t", "");
    tsup_exec(db, "CREATE TABLE tx_t (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB", "");
    tsup_exec(db,
              "CREATE TABLE tx_u (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL, "
              "UNIQUE KEY uq_tx_u_email (email)) ENGINE=InnoDB",
              "");
    tsup_exec(db,
              "CREATE TABLE rt (id BIGINT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(50) NULL, "
              "b VARBINARY(300) NULL, i BIGINT NULL, u BIGINT UNSIGNED NULL, d DOUBLE NULL, "
              "t MEDIUMTEXT NULL, dt DATETIME(6) NULL, dec_v DECIMAL(40,10) NULL) ENGINE=InnoDB",
              "");
    tsup_exec(
        db,
        "CREATE TABLE bulk_t (id INT PRIMARY KEY, name VARCHAR(60) NULL, data VARBINARY(32) NULL, "
        "amount BIGINT NULL) ENGINE=InnoDB",
        "");
    cs_db_close(db);
    return 0;
}

/* ------------------------------------------------------------------ deadlock ---------- */

struct dl {
    int first, second;       /* row ids, locked in this order */
    pthread_barrier_t *both; /* both hold their first row before either takes the second */
    unsigned runs;
    int rc;
    unsigned retries;
    cs_error err;
};

static int dl_body(cs_db *db, void *arg, cs_error *err)
{
    struct dl *d = arg;
    if (cs_db_exec(db, "UPDATE tx_t SET n = n + 1 WHERE id = ?", "i", (int64_t)d->first, err) < 0)
        return -1;
    if (d->runs++ == 0) pthread_barrier_wait(d->both);
    if (cs_db_exec(db, "UPDATE tx_t SET n = n + 10 WHERE id = ?", "i", (int64_t)d->second, err) < 0)
        return -1;
    return 0;
}

static void *dl_thread(void *arg)
{
    struct dl *d = arg;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        d->rc = -2;
        pthread_barrier_wait(d->both);
        return NULL;
    }
    d->rc = cs_db_tx(db, dl_body, d, &d->err);
    d->retries = cs_db_last_tx_retries(db);
    cs_db_close(db);
    return NULL;
}

static void test_deadlock_rerun(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    tsup_exec(db, "DELETE FROM tx_t", "");
    tsup_exec(db, "INSERT INTO tx_t VALUES (1, 0), (2, 0)", "");
    pthread_barrier_t both;
    pthread_barrier_init(&both, NULL, 2);
    struct dl a = {1, 2, &both, 0, 0, 0, {0}}, b = {2, 1, &both, 0, 0, 0, {0}};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, dl_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, dl_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&both);
    if (a.rc) print_error("a: %s\n", a.err.detail);
    if (b.rc) print_error("b: %s\n", b.err.detail);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    /* exactly one was the deadlock victim and ran again; both committed once */
    assert_true(a.retries + b.retries >= 1);
    assert_true(a.runs + b.runs >= 3);
    assert_int_equal(tsup_i64(db, "SELECT n FROM tx_t WHERE id = 1", ""), 11);
    assert_int_equal(tsup_i64(db, "SELECT n FROM tx_t WHERE id = 2", ""), 11);
    cs_db_close(db);
}

/* ------------------------------------------------------------------ lock wait timeout -- */

/* The holder keeps the row locked until the waiter's transaction has started its second run
 * (so the first run must have hit the lock-wait timeout), then commits. */
struct holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int holding, release;
    unsigned runs;
};

static void *hold_row(void *arg)
{
    struct holder *h = arg;
    cs_db *db = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    cs_db_exec_text(db, "START TRANSACTION", 17, &err);
    cs_db_exec(db, "UPDATE tx_t SET n = n + 100 WHERE id = 5", "", &err);
    pthread_mutex_lock(&h->mu);
    h->holding = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20; /* a safety net: never hold the row forever if the test goes wrong */
    pthread_mutex_lock(&h->mu);
    while (!h->release && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0) {
    }
    pthread_mutex_unlock(&h->mu);
    cs_db_exec_text(db, "COMMIT", 6, &err);
    cs_db_close(db);
    return NULL;
}

static int bump5(cs_db *db, void *arg, cs_error *err)
{
    struct holder *h = arg;
    if (++h->runs == 2) {
        pthread_mutex_lock(&h->mu);
        h->release = 1;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
    return cs_db_exec(db, "UPDATE tx_t SET n = n + 1 WHERE id = 5", "", err) < 0 ? -1 : 0;
}

static void test_lock_wait_timeout_rerun(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    tsup_exec(db, "INSERT INTO tx_t VALUES (5, 0) ON DUPLICATE KEY UPDATE n = 0", "");
    /* this session waits 1 s for a row lock; the other holds it until the second run */
    cs_error err;
    cs_error_clear(&err);
    const char *short_wait = "SET SESSION innodb_lock_wait_timeout = 1";
    assert_true(cs_db_exec_text(db, short_wait, strlen(short_wait), &err) >= 0);
    struct holder h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold_row, &h), 0);
    pthread_mutex_lock(&h.mu);
    while (!h.holding)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    int rc = cs_db_tx(db, bump5, &h, &err);
    pthread_join(t, NULL);
    if (rc) print_error("%s\n", err.detail);
    assert_int_equal(rc, 0);
    assert_int_equal(cs_db_last_tx_retries(db), 1);
    assert_int_equal(h.runs, 2);
    assert_int_equal(tsup_i64(db, "SELECT n FROM tx_t WHERE id = 5", ""), 101);
    cs_db_close(db);
}

/* ------------------------------------------------------------------ killed connection -- */

struct kill_ctx {
    cs_db *killer;
    unsigned runs;
    unsigned long first_id, last_id;
};

static void wait_gone(cs_db *killer, unsigned long id)
{
    for (int i = 0; i < 500; i++) {
        if (tsup_i64(killer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
                     "i", (int64_t)id) == 0)
            return;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("connection %lu was not killed", id);
}

static int kill_body(cs_db *db, void *arg, cs_error *err)
{
    struct kill_ctx *k = arg;
    k->runs++;
    k->last_id = cs_db_thread_id(db);
    if (cs_db_exec(db, "UPDATE tx_t SET n = n + 1 WHERE id = 3", "", err) < 0) return -1;
    if (k->runs == 1) {
        k->first_id = k->last_id;
        /* KILL takes no placeholder; the id is a number we got from the server */
        char sql[64];
        snprintf(sql, sizeof sql, "KILL CONNECTION %lu", k->first_id);
        cs_error e2;
        cs_error_clear(&e2);
        if (cs_db_exec_text(k->killer, sql, strlen(sql), &e2) < 0)
            fail_msg("KILL failed: %s", e2.detail);
        wait_gone(k->killer, k->first_id);
    }
    int64_t n;
    if (cs_db_scalar_i64(db, &n, "SELECT n FROM tx_t WHERE id = 3", "", err) < 0) return -1;
    return 0;
}

static void test_killed_connection_rerun(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    struct kill_ctx k = {tsup_connect(), 0, 0, 0};
    tsup_exec(db, "INSERT INTO tx_t VALUES (3, 0) ON DUPLICATE KEY UPDATE n = 0", "");
    /* warm the statement cache so the re-run must prepare again on the new connection */
    tsup_exec(db, "UPDATE tx_t SET n = n + 0 WHERE id = 3", "");
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_db_tx(db, kill_body, &k, &err);
    if (rc) print_error("%s: %s\n", err.detail, cs_code_name(err.code));
    assert_int_equal(rc, 0);
    assert_int_equal(k.runs, 2);
    assert_int_equal(cs_db_last_tx_retries(db), 1);
    assert_int_equal(cs_db_reconnects(db), 1);
    assert_true(k.last_id != k.first_id);
    assert_int_equal(cs_db_thread_id(db), k.last_id);
    /* the killed run was rolled back by the server; only the re-run counted */
    assert_int_equal(tsup_i64(k.killer, "SELECT n FROM tx_t WHERE id = 3", ""), 1);

    /* a connection killed while idle is reopened before its next statement */
    char sql[64];
    snprintf(sql, sizeof sql, "KILL CONNECTION %lu", cs_db_thread_id(db));
    unsigned long old = cs_db_thread_id(db);
    assert_true(cs_db_exec_text(k.killer, sql, strlen(sql), &err) >= 0);
    wait_gone(k.killer, old);
    int64_t n = -1;
    rc = cs_db_scalar_i64(db, &n, "SELECT n FROM tx_t WHERE id = 3", "", &err);
    if (rc < 0) { /* the first statement may be the one that notices; the next one works */
        assert_int_equal(err.code, CS_E_DB_SOFT);
        rc = cs_db_scalar_i64(db, &n, "SELECT n FROM tx_t WHERE id = 3", "", &err);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1);
    assert_true(cs_db_thread_id(db) != old);
    cs_db_close(k.killer);
    cs_db_close(db);
}

/* ------------------------------------------------------------------ error mapping ----- */

static int failing_body(cs_db *db, void *arg, cs_error *err)
{
    (*(unsigned *)arg)++;
    if (cs_db_exec(db, "INSERT INTO tx_u VALUES (100, 'x@example.vn')", "", err) < 0) return -1;
    return cs_db_exec(db, "INSERT INTO tx_u VALUES (101, 'x@example.vn')", "", err) < 0 ? -1 : 0;
}

static void test_errors_mapped(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    tsup_exec(db, "DELETE FROM tx_u", "");
    assert_int_equal(
        cs_db_exec(db, "INSERT INTO tx_u VALUES (?, ?)", "is", (int64_t)1, "an@example.vn", &err),
        1);
    assert_int_equal(
        cs_db_exec(db, "INSERT INTO tx_u VALUES (?, ?)", "is", (int64_t)2, "an@example.vn", &err),
        -1);
    assert_int_equal(err.code, CS_E_CONFLICT);
    assert_string_equal(err.detail, "uq_tx_u_email");
    assert_null(strstr(err.detail, "an@example")); /* the value never reaches the detail */
    assert_int_equal(cs_db_exec(db, "INSERT INTO tx_u VALUES (?, ?)", "is", (int64_t)1,
                                "other@example.vn", &err),
                     -1);
    assert_int_equal(err.code, CS_E_CONFLICT);
    assert_string_equal(err.detail, "PRIMARY");

    /* a conflict inside a transaction is not re-run and rolls everything back */
    unsigned runs = 0;
    assert_int_equal(cs_db_tx(db, failing_body, &runs, &err), -1);
    assert_int_equal(err.code, CS_E_CONFLICT);
    assert_int_equal(runs, 1);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM tx_u WHERE id = 100", ""), 0);
    assert_int_equal(cs_db_in_tx(db), 0);

    /* foreign key and CHECK violations: CS_E_DB naming the constraint */
    assert_int_equal(
        cs_db_exec(db,
                   "INSERT INTO admin_units (code, name, name_folded, kind, primary_district_code) "
                   "VALUES ('99999', 'X', 'x', 'xa', '999')",
                   "", &err),
        -1);
    assert_int_equal(err.code, CS_E_DB);
    assert_non_null(strstr(err.detail, "1452"));
    assert_non_null(strstr(err.detail, "fk_unit_district"));
    assert_int_equal(
        cs_db_exec(
            db, "INSERT INTO targets (year, metric, goal) VALUES (1999, 'households_onboarded', 1)",
            "", &err),
        -1);
    assert_int_equal(err.code, CS_E_DB);
    assert_non_null(strstr(err.detail, "chk_target_year"));
    /* strict mode: a value too long is an error, not a silent truncation */
    assert_int_equal(
        cs_db_exec(db, "INSERT INTO tx_u VALUES (7, ?)", "s",
                   "a-very-long-address-that-does-not-fit-in-fifty-characters@example.vn", &err),
        -1);
    /* ... and it is in the data: 422 value_rejected, never "the database is down" (issue 10) */
    assert_int_equal(err.code, CS_E_DB_VALUE);
    /* our bugs: wrong number of parameters, unknown letter */
    assert_int_equal(cs_db_exec(db, "SELECT ?", "ii", (int64_t)1, (int64_t)2, &err), -1);
    assert_int_equal(err.code, CS_E_INTERNAL);
    assert_int_equal(cs_db_exec(db, "SELECT ?", "x", &err), -1);
    assert_int_equal(err.code, CS_E_INTERNAL);
    /* a SELECT run through cs_db_exec leaves nothing pending on the connection */
    assert_true(cs_db_exec(db, "SELECT id FROM tx_u", "", &err) >= 0);
    assert_true(cs_db_exec(db, "SELECT id FROM tx_u", "", &err) >= 0);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM tx_u WHERE id = 1", ""), 1);
    /* session settings */
    cs_rows *r;
    assert_int_equal(cs_db_query(db, &r,
                                 "SELECT @@session.time_zone, @@session.tx_isolation, "
                                 "@@session.sql_mode, @@character_set_client",
                                 "", &err),
                     0);
    assert_string_equal(cs_rows_str(r, 0, 0), "+00:00");
    assert_string_equal(cs_rows_str(r, 0, 1), "READ-COMMITTED");
    assert_non_null(strstr(cs_rows_str(r, 0, 2), "STRICT_ALL_TABLES"));
    assert_string_equal(cs_rows_str(r, 0, 3), "utf8mb4");
    cs_rows_free(r);
    cs_db_close(db);
}

/* ------------------------------------------------------------------ round trips ------- */

static void test_null_and_binary_round_trip(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    unsigned char bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)(255 - i); /* NULs, high bytes */
    const char *name = "Nguyễn Văn Ân — Thanh Hóa";
    assert_int_equal(
        cs_db_exec(
            db, "INSERT INTO rt (s, b, i, u, d, t, dt, dec_v) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            "sbiudsss", name, bin, sizeof bin, (int64_t)INT64_MIN + 1, (uint64_t)UINT64_MAX, 3.25,
            "", "2024-02-29 23:59:58.123456", "123456789012345678901234567890.0123456789", &err),
        1);
    int64_t id1 = (int64_t)cs_db_insert_id(db);
    assert_true(id1 > 0);
    assert_int_equal(
        cs_db_exec(db,
                   "INSERT INTO rt (s, b, i, u, d, t, dt, dec_v) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   "sbnnnnsn", (const char *)NULL, (const void *)NULL, (size_t)0,
                   (const char *)NULL, &err),
        1);
    int64_t id2 = (int64_t)cs_db_insert_id(db);
    assert_int_equal(id2, id1 + 1);
    /* a large text fetched whole (buffers sized from max_length) */
    size_t big = 300000;
    char *text = cs_malloc(big + 1);
    assert_non_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = (char)('a' + i % 26);
    text[big] = '\0';
    assert_int_equal(cs_db_exec(db, "UPDATE rt SET t = ? WHERE id = ?", "si", text, id2, &err), 1);

    cs_rows *r;
    assert_int_equal(
        cs_db_query(db, &r,
                    "SELECT id, s, b, i, u, d, t, dt, dec_v FROM rt WHERE id IN (?, ?) ORDER BY id",
                    "ii", id1, id2, &err),
        0);
    assert_int_equal(cs_rows_count(r), 2);
    assert_int_equal(cs_rows_ncols(r), 9);
    assert_string_equal(cs_rows_colname(r, 1), "s");
    assert_int_equal(cs_rows_col(r, "dec_v"), 8);
    assert_int_equal(cs_rows_col(r, "nope"), -1);
    assert_string_equal(cs_rows_str(r, 0, 1), name);
    size_t blen = 0;
    const void *b = cs_rows_blob(r, 0, 2, &blen);
    assert_int_equal(blen, sizeof bin);
    assert_memory_equal(b, bin, sizeof bin);
    assert_int_equal(cs_rows_i64(r, 0, 3), INT64_MIN + 1);
    assert_string_equal(cs_rows_str(r, 0, 4), "18446744073709551615");
    assert_true(cs_rows_double(r, 0, 5) == 3.25);
    assert_false(cs_rows_isnull(r, 0, 6)); /* '' is not NULL */
    assert_string_equal(cs_rows_strn(r, 0, 6), "");
    assert_string_equal(cs_rows_str(r, 0, 7), "2024-02-29 23:59:58.123456");
    assert_string_equal(cs_rows_str(r, 0, 8), "123456789012345678901234567890.0123456789");
    for (unsigned c = 1; c <= 8; c++) {
        if (c == 6) continue;
        assert_true(cs_rows_isnull(r, 1, c));
        assert_null(cs_rows_strn(r, 1, c));
        assert_string_equal(cs_rows_str(r, 1, c), "");
        assert_int_equal(cs_rows_i64(r, 1, c), 0);
    }
    assert_null(cs_rows_blob(r, 1, 2, &blen));
    assert_int_equal(strlen(cs_rows_str(r, 1, 6)), big);
    assert_memory_equal(cs_rows_str(r, 1, 6), text, big);
    cs_rows_free(r);
    cs_free(text);

    int64_t v = 7;
    assert_int_equal(
        cs_db_scalar_i64(db, &v, "SELECT i FROM rt WHERE id = ?", "i", (int64_t)-1, &err), 1);
    assert_int_equal(v, 0);
    assert_int_equal(cs_db_scalar_i64(db, &v, "SELECT i FROM rt WHERE id = ?", "i", id2, &err), 1);
    assert_int_equal(
        cs_db_scalar_i64(db, &v, "SELECT COUNT(*) FROM rt WHERE id >= ?", "i", id1, &err), 0);
    assert_int_equal(v, 2);
    /* an empty result set keeps its columns */
    assert_int_equal(cs_db_query(db, &r, "SELECT id, s FROM rt WHERE id < 0", "", &err), 0);
    assert_int_equal(cs_rows_count(r), 0);
    assert_int_equal(cs_rows_ncols(r), 2);
    cs_rows_free(r);
    cs_db_close(db);
}

/* ------------------------------------------------------------------ bulk insert ------- */

/* rows [from, from+n): id, name (NULL every 7th), data (binary with a NUL), amount */
static void bulk_cells(size_t from, size_t n, const char ***cells, size_t **lens, char **store)
{
    *cells = cs_calloc(n * 4, sizeof **cells);
    *lens = cs_calloc(n * 4, sizeof **lens);
    *store = cs_malloc(n * 96);
    assert_non_null(*cells);
    assert_non_null(*lens);
    assert_non_null(*store);
    for (size_t r = 0; r < n; r++) {
        char *s = *store + r * 96;
        size_t id = from + r;
        snprintf(s, 16, "%zu", id);
        snprintf(s + 16, 48, "hộ số %zu", id);
        s[64] = 'x';
        s[65] = '\0';
        s[66] = (char)(id % 256);
        snprintf(s + 72, 24, "%lld", (long long)id * 1000);
        (*cells)[r * 4 + 0] = s;
        (*cells)[r * 4 + 1] = id % 7 == 0 ? NULL : s + 16;
        (*cells)[r * 4 + 2] = s + 64;
        (*cells)[r * 4 + 3] = s + 72;
        (*lens)[r * 4 + 0] = strlen(s);
        (*lens)[r * 4 + 1] = id % 7 == 0 ? 0 : strlen(s + 16);
        (*lens)[r * 4 + 2] = 3;
        (*lens)[r * 4 + 3] = strlen(s + 72);
    }
}

static int64_t bulk(cs_db *db, size_t from, size_t n, cs_error *err)
{
    const char **cells;
    size_t *lens;
    char *store;
    bulk_cells(from, n, &cells, &lens, &store);
    int64_t r =
        cs_db_bulk_insert(db, "INSERT INTO bulk_t (id, name, data, amount) VALUES (?, ?, ?, ?)", 4,
                          "isbi", cells, lens, n, err);
    cs_free(cells);
    cs_free(lens);
    cs_free(store);
    return r;
}

struct bulk_tx {
    size_t from, n;
};

static int bulk_body(cs_db *db, void *arg, cs_error *err)
{
    struct bulk_tx *b = arg;
    return bulk(db, b->from, b->n, err) < 0 ? -1 : 0;
}

static void test_bulk_insert(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    tsup_exec(db, "DELETE FROM bulk_t", "");
    /* array binding (one round trip: the server counts one execute), then the row-at-a-time
     * fallback (one execute per row) */
    const char *executes = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                           "WHERE VARIABLE_NAME = 'COM_STMT_EXECUTE'";
    int64_t e0 = tsup_i64(db, executes, "");
    assert_int_equal(bulk(db, 1, 1000, &err), 1000);
    int64_t e1 = tsup_i64(db, executes, "");
    cs_db_set_bulk_arrays(db, 0);
    assert_int_equal(bulk(db, 1001, 1000, &err), 1000);
    int64_t e2 = tsup_i64(db, executes, "");
    cs_db_set_bulk_arrays(db, 1);
    print_message("bulk: %lld executes with arrays, %lld without\n", (long long)(e1 - e0 - 1),
                  (long long)(e2 - e1 - 1));
    assert_true(e1 - e0 <= 3);
    assert_true(e2 - e1 >= 1000);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM bulk_t", ""), 2000);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM bulk_t WHERE name IS NULL", ""), 2000 / 7);
    assert_int_equal(
        tsup_i64(
            db, "SELECT COUNT(*) FROM bulk_t WHERE LENGTH(data) = 3 AND SUBSTR(data, 2, 1) = X'00'",
            ""),
        2000);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM bulk_t WHERE id IN (500, 1500) AND amount = id * 1000 "
                 "AND name = CONCAT('hộ số ', id) AND ORD(SUBSTR(data, 3, 1)) = id % 256",
                 ""),
        2);
    /* more rows than one round trip carries */
    assert_int_equal(bulk(db, 10001, 12000, &err), 12000);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM bulk_t", ""), 14000);
    /* a duplicate inside a transaction: conflict, nothing of the batch stays */
    struct bulk_tx bt = {21000, 1001}; /* 21000..22000 overlaps 10001..22000 */
    assert_int_equal(cs_db_tx(db, bulk_body, &bt, &err), -1);
    assert_int_equal(err.code, CS_E_CONFLICT);
    assert_string_equal(err.detail, "PRIMARY");
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM bulk_t", ""), 14000);
    /* the statement used for arrays still works as a normal one */
    assert_int_equal(cs_db_exec(db,
                                "INSERT INTO bulk_t (id, name, data, amount) VALUES (?, ?, ?, ?)",
                                "isbi", (int64_t)99999, "one", "abc", (size_t)3, (int64_t)1, &err),
                     1);
    /* misuse is refused */
    const char *cells[1] = {"1"};
    assert_int_equal(
        cs_db_bulk_insert(db, "INSERT INTO bulk_t (id) VALUES (?)", 1, "n", cells, NULL, 1, &err),
        -1);
    assert_int_equal(err.code, CS_E_INTERNAL);
    assert_int_equal(
        cs_db_bulk_insert(db, "INSERT INTO bulk_t (id) VALUES (?)", 1, "i", cells, NULL, 0, &err),
        0);
    cs_db_close(db);
}

/* ------------------------------------------------------------------ pool -------------- */

struct pool_arg {
    cs_db *got;
    unsigned long id;
    pthread_barrier_t *all;
};

static void *pool_thread(void *arg)
{
    struct pool_arg *p = arg;
    cs_error err;
    cs_error_clear(&err);
    p->got = cs_db_acquire(&err);
    if (p->got) p->id = cs_db_thread_id(p->got);
    pthread_barrier_wait(p->all); /* everyone holds one at the same time */
    if (p->got) cs_db_release(p->got);
    return NULL;
}

static void test_pool(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_db_pool_init(&err), 0);
    cs_db *a = cs_db_acquire(&err);
    assert_non_null(a);
    assert_ptr_equal(cs_db_acquire(&err), a); /* same thread, same connection */
    unsigned open, in_use, max;
    cs_db_pool_stats(&open, &in_use, &max);
    assert_int_equal(in_use, 1);
    assert_int_equal(max, (unsigned)cs_cfg_int("db.pool_size"));
    cs_db_release(a);
    cs_db_pool_stats(&open, &in_use, &max);
    assert_int_equal(in_use, 1); /* still held: acquired twice */
    cs_db_release(a);
    cs_db_pool_stats(&open, &in_use, &max);
    assert_int_equal(in_use, 0);

    enum { N = 4 };
    pthread_barrier_t all;
    pthread_barrier_init(&all, NULL, N);
    struct pool_arg args[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct pool_arg){NULL, 0, &all};
        assert_int_equal(pthread_create(&t[i], NULL, pool_thread, &args[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&all);
    for (int i = 0; i < N; i++) {
        assert_non_null(args[i].got);
        for (int j = 0; j < i; j++)
            assert_true(args[i].id != args[j].id);
    }
    cs_db_pool_stats(&open, &in_use, &max);
    assert_int_equal(in_use, 0);
    assert_int_equal(open, N); /* the first connection was reused by one thread */
    cs_db_pool_shutdown();
    cs_db_pool_stats(&open, &in_use, &max);
    assert_int_equal(open, 0);
}

/* ------------------------------------------------------------------ abort on open tx -- */

static int release_inside(cs_db *db, void *arg, cs_error *err)
{
    (void)arg, (void)err;
    cs_db_release(db);
    return 0;
}

/* Run `how` in a child; return its stderr and whether it died of SIGABRT. */
static int child_aborts(int how, char *msg, size_t msgsz)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        cs_error err;
        cs_error_clear(&err);
        cs_db *db = cs_db_acquire(&err);
        if (!db) _exit(3);
        if (how == 0) {
            cs_db_exec_text(db, "START TRANSACTION", 17, &err);
            cs_db_exec(db, "UPDATE tx_t SET n = n WHERE id = 1", "", &err);
            cs_db_release(db);
        } else {
            cs_db_tx(db, release_inside, NULL, &err);
        }
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < msgsz && (n = read(fds[0], msg + got, msgsz - 1 - got)) > 0)
        got += (size_t)n;
    msg[got] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_release_with_open_tx_aborts(void **state)
{
    (void)state;
    char msg[2048];
    assert_true(child_aborts(0, msg, sizeof msg));
    assert_non_null(strstr(msg, "core/db.c:"));
    assert_non_null(strstr(msg, "transaction still open"));
    assert_true(child_aborts(1, msg, sizeof msg));
    assert_non_null(strstr(msg, "transaction still open"));
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadlock_rerun),
        cmocka_unit_test(test_lock_wait_timeout_rerun),
        cmocka_unit_test(test_killed_connection_rerun),
        cmocka_unit_test(test_errors_mapped),
        cmocka_unit_test(test_null_and_binary_round_trip),
        cmocka_unit_test(test_bulk_insert),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_release_with_open_tx_aborts),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
