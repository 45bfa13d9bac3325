/* Leases (core/lease): the GET_LOCK replacement that holds across Galera nodes — taken once,
 * renewed by its holder, refused to others until it expires, taken over after, released;
 * generations count holders; a race of many takers has one winner; the touch row makes two
 * writers conflict. Also: no table without a primary key (Galera's rule), asked of
 * information_schema after every migration ran. */
#include "core/config.h"
#include "core/db.h"
#include "core/lease.h"
#include "tests/support/tsup.h"
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void test_take_renew_refuse_expire(void **state)
{
    (void)state;
    cs_db *a = tsup_connect(), *b = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    char ha[96], hb[96], who[96];
    cs_lease_self(a, ha);
    cs_lease_self(b, hb);
    assert_string_not_equal(ha, hb);
    uint64_t g1 = 0, g2 = 0;
    assert_int_equal(cs_lease_take(a, "t.one", 2, &g1, &err), 1);
    assert_int_equal(cs_lease_holder(a, "t.one", who, sizeof who, &err), 1);
    assert_string_equal(who, ha);
    assert_int_equal(cs_lease_take(b, "t.one", 2, NULL, &err), 0);
    /* renewing keeps the generation */
    assert_int_equal(cs_lease_take(a, "t.one", 2, &g2, &err), 1);
    assert_true(g2 == g1);
    /* b waits out the expiry and takes it over: a new generation */
    assert_int_equal(cs_lease_wait(b, "t.one", 30, 5, &err), 1);
    assert_int_equal(cs_lease_holder(a, "t.one", who, sizeof who, &err), 1);
    assert_string_equal(who, hb);
    assert_int_equal(cs_lease_take(a, "t.one", 2, NULL, &err), 0);
    assert_int_equal(cs_lease_take(b, "t.one", 30, &g2, &err), 1);
    assert_true(g2 == g1 + 1);
    /* a release by a non-holder does nothing; the holder's frees it at once */
    assert_int_equal(cs_lease_release(a, "t.one", &err), 0);
    assert_int_equal(cs_lease_take(a, "t.one", 2, NULL, &err), 0);
    assert_int_equal(cs_lease_release(b, "t.one", &err), 0);
    assert_int_equal(cs_lease_holder(a, "t.one", who, sizeof who, &err), 0);
    assert_int_equal(cs_lease_take(a, "t.one", 2, NULL, &err), 1);
    /* a short wait on a held lease gives up with 0 */
    assert_int_equal(cs_lease_wait(b, "t.one", 2, 0, &err), 0);
    /* names: 1..64 bytes */
    char longname[80];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(cs_lease_take(a, longname, 2, NULL, &err), -1);
    assert_int_equal(cs_lease_take(a, "", 2, NULL, &err), -1);
    cs_db_close(a);
    cs_db_close(b);
}

enum { RACERS = 8 };
struct racer {
    pthread_barrier_t *go;
    int got;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    r->got = -2;
    pthread_barrier_wait(r->go);
    if (db) r->got = cs_lease_take(db, "t.race", 60, NULL, &err);
    cs_db_close(db);
    return NULL;
}

/* Eight connections take one fresh lease at the same instant: exactly one wins. */
static void test_race_has_one_winner(void **state)
{
    (void)state;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    pthread_t t[RACERS];
    struct racer r[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i].go = &go;
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    int won = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        assert_true(r[i].got == 0 || r[i].got == 1);
        won += r[i].got;
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(won, 1);
}

static int touch_tx(cs_db *db, void *arg, cs_error *err)
{
    (void)arg;
    return cs_lease_touch(db, "t.touch", err);
}

/* The touch row counts every transaction that wrote it. */
static void test_touch_counts(void **state)
{
    (void)state;
    cs_db *a = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cs_db_tx(a, touch_tx, NULL, &err), 0);
    assert_int_equal(tsup_i64(a, "SELECT generation FROM leases WHERE name = 't.touch'", ""), 3);
    cs_db_close(a);
}

/* Galera replicates a table without a primary key badly (every row image compared whole) and
 * cannot certify its rows: every table the migrations create has one. */
static void test_every_table_has_a_primary_key(void **state)
{
    (void)state;
    cs_db *a = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    cs_rows *r = NULL;
    assert_int_equal(
        cs_db_query(a, &r,
                    "SELECT t.table_name FROM information_schema.tables t"
                    " WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'"
                    " AND NOT EXISTS (SELECT 1 FROM information_schema.table_constraints c"
                    "  WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name"
                    "  AND c.constraint_type = 'PRIMARY KEY')"
                    " ORDER BY t.table_name",
                    "", &err),
        0);
    for (size_t i = 0; i < cs_rows_count(r); i++)
        fprintf(stderr, "table without a primary key: %s\n", cs_rows_str(r, i, 0));
    assert_int_equal(cs_rows_count(r), 0);
    cs_rows_free(r);
    /* and every table is InnoDB (Galera replicates nothing else) */
    assert_int_equal(tsup_i64(a,
                              "SELECT COUNT(*) FROM information_schema.tables"
                              " WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
                              " AND engine <> 'InnoDB'",
                              ""),
                     0);
    assert_true(tsup_i64(a,
                         "SELECT COUNT(*) FROM information_schema.tables"
                         " WHERE table_schema = DATABASE() AND table_name = 'leases'",
                         "") == 1);
    cs_db_close(a);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_renew_refuse_expire),
        cmocka_unit_test(test_race_has_one_winner),
        cmocka_unit_test(test_touch_counts),
        cmocka_unit_test(test_every_table_has_a_primary_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
