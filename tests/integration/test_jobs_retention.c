/* The queue's housekeeping (jobs/retention.c) against the real server: old ended jobs and
 * ticks go, recent ones and every dead job stay, expired web sessions go. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "jobs/retention.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <string.h>

static void add_job(cs_db *db, const char *state, int days_ago, const char *kind)
{
    tsup_exec(db,
              "INSERT INTO jobs (kind, payload, state, finished_at)"
              " VALUES (?, '{}', ?, IF(? < 0, NULL, UTC_TIMESTAMP(3) - INTERVAL ? DAY))",
              "ssii", kind, state, (int64_t)days_ago, (int64_t)days_ago);
}

static void test_prune(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    add_job(db, "done", 40, "retention.old_done");
    add_job(db, "cancelled", 31, "retention.old_cancelled");
    add_job(db, "dead", 400, "retention.old_dead");
    add_job(db, "done", 2, "retention.recent_done");
    add_job(db, "queued", -1, "retention.queued");
    tsup_exec(db,
              "INSERT INTO job_ticks (kind, tick, created_at) VALUES"
              " ('retention.tick', 1, UTC_TIMESTAMP(3) - INTERVAL 45 DAY),"
              " ('retention.tick', 2, UTC_TIMESTAMP(3))",
              "");
    tsup_exec(db,
              "INSERT INTO tokens (name, role, token_hash) VALUES ('retention', 'monitor', "
              "UNHEX(SHA2('retention-test', 256)))",
              "");
    int64_t tok = tsup_i64(db, "SELECT id FROM tokens WHERE name = 'retention'", "");
    tsup_exec(db,
              "INSERT INTO sessions (id_hash, token_id, csrf, expires_at) VALUES"
              " (UNHEX(SHA2('s-old', 256)), ?, REPEAT('a', 43), UTC_TIMESTAMP() - INTERVAL 1 HOUR),"
              " (UNHEX(SHA2('s-new', 256)), ?, REPEAT('b', 43), UTC_TIMESTAMP() + INTERVAL 1 HOUR)",
              "ii", tok, tok);

    cs_error err;
    cs_error_clear(&err);
    int64_t n = -1;
    assert_int_equal(job_prune(db, 30, &n, &err), 0);
    assert_int_equal(n, 4); /* two old jobs, one old tick, one expired session */
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE kind LIKE 'retention.%'", ""),
                     3);
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'retention.old_dead'", ""), 1);
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'retention.recent_done'", ""), 1);
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM job_ticks WHERE kind = 'retention.tick'", ""), 1);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM sessions WHERE token_id = ?", "i", tok), 1);
    /* a second run finds nothing more */
    assert_int_equal(job_prune(db, 30, &n, &err), 0);
    assert_int_equal(n, 0);
    cs_db_close(db);
}

/* More than one batch: 12,000 old done jobs all go. */
static void test_prune_batches(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    tsup_exec(db,
              "INSERT INTO jobs (kind, payload, state, finished_at)"
              " SELECT 'retention.bulk', '{}', 'done', UTC_TIMESTAMP(3) - INTERVAL 90 DAY FROM "
              "seq_1_to_12000",
              "");
    cs_error err;
    cs_error_clear(&err);
    int64_t n = 0;
    assert_int_equal(job_prune(db, 30, &n, &err), 0);
    assert_int_equal(n, 12000);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'retention.bulk'", ""),
                     0);
    cs_db_close(db);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_prune_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
