/* Unit tests of the job queue's pure logic: error text clipping, the capped error history,
 * backoff bounds, enqueue validation, the kind registry and the outcome builders. No database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/mem.h"
#include "jobs/job.h"
#include "jobs/queue.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Number of UTF-8 characters (s is valid). */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static void test_clip_ascii_and_control(void **state)
{
    (void)state;
    char out[64];
    size_t n = job_clip_text("lỗi\x01 mạng\n\tx\x7f", 100, out, sizeof out);
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "lỗi? mạng\n\tx?");
    job_clip_text(NULL, 10, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_clip_counts_characters_not_bytes(void **state)
{
    (void)state;
    /* "ệ" is 3 bytes: 1000 characters are 3000 bytes and must all fit. */
    char in[4000], out[JOB_ERROR_MAX_CHARS * 4 + 1];
    size_t o = 0;
    for (int i = 0; i < 1300; i++)
        o += (size_t)snprintf(in + o, sizeof in - o, "%s", i % 2 ? "ệ" : "a");
    (void)o;
    job_clip_text(in, JOB_ERROR_MAX_CHARS, out, sizeof out);
    assert_int_equal(chars(out), 1000);
    assert_int_equal(strlen(out), 500 + 500 * 3);
}

static void test_clip_never_splits_or_passes_bad_utf8(void **state)
{
    (void)state;
    char out[8];
    /* Room for 7 bytes: "ab" + "ệ"(3) = 5, the next "ệ" would need 8. */
    job_clip_text("abệệ", 100, out, sizeof out);
    assert_string_equal(out, "abệ");
    /* Overlong '/', a lone continuation byte, a surrogate, a truncated sequence. */
    char big[64];
    job_clip_text("\xC0\xAF|\x80|\xED\xA0\x80|\xE1\x80", 100, big, sizeof big);
    assert_string_equal(big, "??|?|???|??");
}

static void test_history_appends_and_caps(void **state)
{
    (void)state;
    char *h = job_history_append(NULL, "2026-01-01T00:00:00.000Z", 1, "đầu tiên");
    assert_non_null(h);
    for (int i = 2; i <= 25; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "lần %d", i);
        char *next = job_history_append(h, "2026-01-01T00:00:01.000Z", i, msg);
        assert_non_null(next);
        cs_free(h);
        h = next;
    }
    json_t *a = json_loads(h, 0, NULL);
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), JOB_HISTORY_MAX);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "attempt")), 6);
    json_t *last = json_array_get(a, JOB_HISTORY_MAX - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "attempt")), 25);
    assert_string_equal(json_string_value(json_object_get(last, "error")), "lần 25");
    assert_string_equal(json_string_value(json_object_get(last, "at")), "2026-01-01T00:00:01.000Z");
    json_decref(a);
    cs_free(h);
    /* A damaged history starts afresh instead of failing the job's end. */
    h = job_history_append("{not json", "t", 3, "x");
    a = json_loads(h, 0, NULL);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    cs_free(h);
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    /* base 5, cap 60: attempt k is uniform in [5, min(60, 5·2^(k-1))]. */
    assert_int_equal(job_backoff_ms(1, 5, 60, 0.0), 5000);
    assert_int_equal(job_backoff_ms(1, 5, 60, 0.99), 5000);
    assert_int_equal(job_backoff_ms(2, 5, 60, 0.0), 5000);
    assert_true(job_backoff_ms(2, 5, 60, 0.999999) >= 9990 &&
                job_backoff_ms(2, 5, 60, 0.999999) <= 10000);
    assert_int_equal(job_backoff_ms(3, 5, 60, 0.5), 12500);
    assert_true(job_backoff_ms(5, 5, 60, 0.999999) <= 60000 &&
                job_backoff_ms(5, 5, 60, 0.999999) > 59000);
    /* Huge attempt numbers stay at the cap, never overflow. */
    assert_true(job_backoff_ms(1000000, 5, 3600, 0.999999) <= 3600000);
    assert_int_equal(job_backoff_ms(1000000, 5, 3600, 0.0), 5000);
    /* Nonsense inputs are clamped: cap below base means base. */
    assert_int_equal(job_backoff_ms(0, 0, 0, 2.0), 1000);
    assert_int_equal(job_backoff_ms(4, 30, 10, 0.7), 30000);
}

static void test_enqueue_validation_names_fields(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    int64_t id = 0;
    job_opts o = {.priority = 40000, .unique_key = "", .delay_ms = 5, .run_at = "2026-13-01"};
    /* Validation happens before any database call, so no connection is needed here. */
    assert_int_equal(job_enqueue(NULL, "Bad Kind", "[1,2]", &o, &id, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    const char *want[] = {"kind", "payload", "unique_key", "priority", "run_at"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = 0;
        for (size_t i = 0; i < e.nfields; i++)
            found |= !strcmp(e.fields[i].field, want[w]);
        if (!found) fail_msg("no field error for %s", want[w]);
    }
    cs_error_clear(&e);
    job_opts o2 = {.unique_key = "k\x01y", .run_at = "2026-01-01 10:00:00.1234567"};
    assert_int_equal(job_enqueue(NULL, "ok.kind", "{}", &o2, &id, &e), -1);
    assert_int_equal(e.nfields, 2);
}

static job_outcome h_dummy(job_ctx *ctx)
{
    (void)ctx;
    return JOB_OK;
}

static void test_registry(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    job_registry_reset();
    assert_int_equal(
        job_register("a.one", h_dummy, &(job_kind_opts){.lease_s = 7, .timeout_s = 9}, &e), 0);
    assert_int_equal(job_register("b-two", h_dummy, NULL, &e), 0);
    assert_int_equal(job_register("a.one", h_dummy, NULL, &e), -1);
    assert_int_equal(e.code, CS_E_CONFLICT);
    cs_error_clear(&e);
    assert_int_equal(job_register("UPPER", h_dummy, NULL, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    cs_error_clear(&e);
    char long_kind[64];
    memset(long_kind, 'x', 41);
    long_kind[41] = '\0';
    assert_int_equal(job_register(long_kind, h_dummy, NULL, &e), -1);
    job_kind_opts ko;
    assert_ptr_equal(job_handler_for("a.one", &ko), h_dummy);
    assert_int_equal(ko.lease_s, 7);
    assert_int_equal(ko.timeout_s, 9);
    assert_null(job_handler_for("nope", NULL));
    char buf[64];
    assert_int_equal(job_registered_kinds(buf, sizeof buf), 0);
    assert_string_equal(buf, "a.one,b-two");
    assert_int_equal(job_registered_kinds(buf, 5), -1);
    cs_error_clear(&e);
    assert_int_equal(job_schedule_every("a.one", 0, NULL, &e), -1);
    cs_error_clear(&e);
    assert_int_equal(job_schedule_every("a.one", 60, "[]", &e), -1);
    cs_error_clear(&e);
    assert_int_equal(job_schedule_every("a.one", 60, "{\"x\":1}", &e), 0);
    assert_int_equal(job_schedule_every("a.one", 30, NULL, &e), -1);
    assert_int_equal(job_sched_count(), 1);
    job_registry_reset();
    assert_int_equal(job_sched_count(), 0);
    assert_null(job_handler_for("a.one", NULL));
}

static void test_outcome_builders(void **state)
{
    (void)state;
    job_ctx *ctx = cs_calloc(1, sizeof *ctx);
    assert_non_null(ctx);
    assert_int_equal(job_retry(ctx, 0, "HTTP %d", 503), JOB_RETRY);
    assert_int_equal(ctx->delay_ms, -1);
    assert_string_equal(ctx->error, "HTTP 503");
    assert_int_equal(job_retry(ctx, 30, "Retry-After"), JOB_RETRY);
    assert_int_equal(ctx->delay_ms, 30000);
    assert_int_equal(job_snooze(ctx, 4), JOB_SNOOZE);
    assert_int_equal(ctx->delay_ms, 4000);
    assert_string_equal(ctx->error, "");
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(job_fail(ctx, "%s", big), JOB_FAIL);
    assert_int_equal(strlen(ctx->error), JOB_ERROR_MAX_CHARS);
    assert_false(job_should_stop(ctx));
    atomic_fetch_or(&ctx->stop, JOB_STOP_CANCEL);
    assert_true(job_should_stop(ctx));
    cs_free(ctx);
}

int main(void)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_ascii_and_control),
        cmocka_unit_test(test_clip_counts_characters_not_bytes),
        cmocka_unit_test(test_clip_never_splits_or_passes_bad_utf8),
        cmocka_unit_test(test_history_appends_and_caps),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_enqueue_validation_names_fields),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_outcome_builders),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    cs_config_free();
    return rc;
}
