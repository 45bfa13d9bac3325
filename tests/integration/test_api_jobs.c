/* Integration tests of /v1/jobs against a running server and the real MariaDB: admin only,
 * filters and paging, one job with its history, retry of a dead job, cancel of queued and
 * running jobs (audited), and the job figures on /metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/mem.h"
#include "jobs/job.h"
#include "jobs/queue.h"
#include "tests/support/tapi.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char tok_admin[44], tok_monitor[44], tok_vol[44];
static int64_t admin_id;
static char kind[48];

static int64_t make_job(const char *payload)
{
    cs_error e;
    cs_error_clear(&e);
    int64_t id = 0;
    if (job_enqueue(tapi_db(), kind, payload, NULL, &id, &e) < 0) fail_msg("enqueue: %s", e.detail);
    return id;
}

/* Claim the oldest ready job of our kind (must be `id`) and leave it running. */
static void claim(int64_t id)
{
    job_claimed c;
    unsigned got = 0;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(job_claim(tapi_db(), "api-test:1:0", kind, 1, 0, &c, &got, &e), 0);
    assert_int_equal(got, 1);
    assert_int_equal(c.id, id);
    job_claimed_free(&c);
}

static void finish(int64_t id, job_outcome o, const char *msg)
{
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(job_finish(tapi_db(), id, "api-test:1:0", 1, o, 0, msg, &e), 0);
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    snprintf(kind, sizeof kind, "api-%ld", (long)getpid());
    admin_id = tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_monitor);
    const char *communes[] = {"14797", NULL};
    tapi_token("volunteer", communes, tok_vol);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

static void test_admin_only(void **state)
{
    (void)state;
    const char *paths[][2] = {{"GET", "/v1/jobs"},
                              {"GET", "/v1/jobs/1"},
                              {"POST", "/v1/jobs/1/retry"},
                              {"POST", "/v1/jobs/1/cancel"}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        tapi_resp r = tapi_call(paths[i][0], paths[i][1], NULL, NULL);
        assert_int_equal(r.status, 401);
        tapi_free(&r);
        r = tapi_call(paths[i][0], paths[i][1], tok_monitor, NULL);
        assert_int_equal(r.status, 403);
        tapi_free(&r);
        r = tapi_call(paths[i][0], paths[i][1], tok_vol, NULL);
        assert_int_equal(r.status, 403);
        tapi_free(&r);
    }
}

static void test_list_filter_get(void **state)
{
    (void)state;
    int64_t dead = make_job("{\"listing_id\":7}");
    claim(dead);
    finish(dead, JOB_FAIL, "Shopee: category_id 1001 không còn dùng");
    int64_t q1 = make_job("{\"n\":1}"), q2 = make_job("{\"n\":2}");

    char path[160];
    snprintf(path, sizeof path, "/v1/jobs?state=dead&kind=%s", kind);
    tapi_resp r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *j = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), dead);
    assert_string_equal(json_string_value(json_object_get(j, "last_error")),
                        "Shopee: category_id 1001 không còn dùng");
    assert_null(json_object_get(j, "payload"));
    tapi_free(&r);

    /* Newest first, one per page, the cursor leads to the older one. */
    snprintf(path, sizeof path, "/v1/jobs?state=queued&kind=%s&limit=1", kind);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "id")),
                     q2);
    const char *cur = json_string_value(json_object_get(r.json, "next_cursor"));
    assert_non_null(cur);
    snprintf(path, sizeof path, "/v1/jobs?state=queued&kind=%s&limit=1&after=%s", kind, cur);
    tapi_free(&r);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "id")),
                     q1);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    tapi_free(&r);

    r = tapi_call("GET", "/v1/jobs?state=sleeping", tok_admin, NULL);
    assert_int_equal(r.status, 422);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "validation_failed");
    tapi_free(&r);
    r = tapi_call("GET", "/v1/jobs?kind=Bad%20Kind", tok_admin, NULL);
    assert_int_equal(r.status, 422);
    tapi_free(&r);

    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)dead);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.json, "payload"), "listing_id")), 7);
    json_t *h = json_object_get(r.json, "error_history");
    assert_int_equal(json_array_size(h), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "attempt")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "dead");
    tapi_free(&r);
    r = tapi_call("GET", "/v1/jobs/999999999", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/jobs/abc", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    /* Leave no queued job of this kind for the next test's claims. */
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(job_cancel(tapi_db(), q1, NULL, &e), 0);
    assert_int_equal(job_cancel(tapi_db(), q2, NULL, &e), 0);
}

static void test_retry_and_cancel(void **state)
{
    (void)state;
    char path[96];
    int64_t dead = make_job(NULL);
    claim(dead);
    finish(dead, JOB_FAIL, "hết hạn");
    snprintf(path, sizeof path, "/v1/jobs/%lld/retry", (long long)dead);
    tapi_resp r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "queued");
    assert_int_equal(json_integer_value(json_object_get(r.json, "attempts")), 0);
    tapi_free(&r);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 409);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                        "invalid_state_transition");
    tapi_free(&r);
    char ent[24], actor[40];
    snprintf(ent, sizeof ent, "%lld", (long long)dead);
    snprintf(actor, sizeof actor, "%lld", (long long)admin_id);
    int64_t n = 0;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(
        cs_db_scalar_i64(tapi_db(), &n,
                         "SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND entity_id = ? "
                         "AND action = 'job.retry' AND actor_kind = 'token' AND actor_id = ?",
                         "ss", ent, actor, &e),
        0);
    assert_int_equal(n, 1);

    /* The retried job is queued: cancel → 200 cancelled; again → 409. */
    snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", (long long)dead);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "cancelled");
    tapi_free(&r);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 409);
    tapi_free(&r);

    /* Running: 202 and the request recorded for its heartbeat. */
    int64_t run = make_job(NULL);
    claim(run);
    snprintf(path, sizeof path, "/v1/jobs/%lld/cancel", (long long)run);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "running");
    assert_true(json_is_true(json_object_get(r.json, "cancel_requested")));
    tapi_free(&r);
    finish(run, JOB_RETRY, "stopped");
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)run);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "cancelled");
    tapi_free(&r);
    r = tapi_call("POST", "/v1/jobs/999999999/retry", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
}

static void test_metrics_show_the_queue(void **state)
{
    (void)state;
    make_job(NULL);
    tapi_resp r = tapi_call("GET", "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    char want[128];
    snprintf(want, sizeof want, "choso_jobs{kind=\"%s\",state=\"queued\"} ", kind);
    if (!strstr(r.body, want)) fail_msg("no %s in:\n%s", want, r.body);
    snprintf(want, sizeof want, "choso_jobs{kind=\"%s\",state=\"dead\"} 1\n", kind);
    assert_non_null(strstr(r.body, want));
    snprintf(want, sizeof want, "choso_jobs_oldest_ready_seconds{kind=\"%s\"} ", kind);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "choso_jobs_scrape_ok 1\n"));
    assert_non_null(strstr(r.body, "# TYPE choso_jobs_dead gauge\nchoso_jobs_dead "));
    tapi_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_only),
        cmocka_unit_test(test_list_filter_get),
        cmocka_unit_test(test_retry_and_cancel),
        cmocka_unit_test(test_metrics_show_the_queue),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
