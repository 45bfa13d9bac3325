/* The cluster's one marketplace budget: workers count themselves in `workers` by heartbeats;
 * the live count is what each divides the rate by — a worker that left is out at once, one
 * that died is out when its row expires; a newcomer sends nothing while the others have not
 * counted it yet, and a worker whose heartbeat went stale sends nothing. */
#include "core/db.h"
#include "jobs/flows.h"
#include "jobs/members.h"
#include "tests/support/tsup.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

static void test_live_count_follows_beats(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    cs_error err;
    cs_error_clear(&err);
    tsup_exec(db, "DELETE FROM workers", "");
    unsigned live = 0;
    assert_int_equal(job_members_beat(db, "w-a", 5, &live, &err), 0);
    assert_int_equal(live, 1);
    assert_int_equal(job_members_beat(db, "w-b", 1, &live, &err), 0);
    assert_int_equal(live, 2);
    /* beats renew, never add */
    assert_int_equal(job_members_beat(db, "w-a", 5, &live, &err), 0);
    assert_int_equal(live, 2);
    /* w-b stops beating: out once its second is over */
    sleep(2);
    assert_int_equal(job_members_beat(db, "w-a", 5, &live, &err), 0);
    assert_int_equal(live, 1);
    /* w-c joins and leaves cleanly */
    assert_int_equal(job_members_beat(db, "w-c", 5, &live, &err), 0);
    assert_int_equal(live, 2);
    assert_int_equal(job_members_leave(db, "w-c", &err), 0);
    assert_int_equal(job_members_live(db, &err), 1);
    /* one row per worker, whatever the number of beats */
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM workers", ""), 2);
    cs_db_close(db);
}

static void test_share_is_kept(void **state)
{
    (void)state;
    job_flows_share(3, 0, 1000);
    assert_int_equal(job_flows_share_of(), 3);
    job_flows_share(0, 0, -1);
    assert_int_equal(job_flows_share_of(), 1);
    /* who takes a share: workers whose kinds call marketplaces */
    assert_int_equal(job_flows_kinds_call_marketplaces(""), 1);
    assert_int_equal(job_flows_kinds_call_marketplaces("import.households,listing.publish"), 1);
    assert_int_equal(job_flows_kinds_call_marketplaces("account.refresh"), 1);
    assert_int_equal(job_flows_kinds_call_marketplaces("import.households,jobs.prune"), 0);
    assert_int_equal(job_flows_kinds_call_marketplaces("test.tick"), 0);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_count_follows_beats),
        cmocka_unit_test(test_share_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
