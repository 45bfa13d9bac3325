/* tests/unit/test_status_cache: the owner status micro-cache on its own — exact-match look-ups
 * (code, language, PIN, client), invalidation by drop, failure and tickets, the disabled
 * setting, the entry and byte bounds, and many threads at once. No database, no server; a
 * throwaway data key in a private temp directory (the MAC needs the index key). */
#include "core/config.h"
#include "core/crypto.h"
#include "service/status_cache.h"
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[256], keyfile[300];

static void set_cfg(const char *key, const char *value)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_set(key, value, &e)) fail_msg("config %s=%s: %s", key, value, e.detail);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/choso-sc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return -1;
    snprintf(keyfile, sizeof keyfile, "%s/data.key", dir);
    cs_error err;
    cs_error_clear(&err);
    if (cs_crypto_keyfile_create(keyfile, &err) != 1) return -1;
    return cs_crypto_init(keyfile, &err);
}

static int teardown(void **state)
{
    (void)state;
    svc_status_cache_free();
    cs_crypto_shutdown();
    unlink(keyfile);
    rmdir(dir);
    return 0;
}

/* Start each test from an empty table made with the given bounds. */
static void fresh(const char *ms, const char *entries, const char *bytes)
{
    svc_status_cache_free();
    set_cfg("status.cache_ms", ms);
    set_cfg("status.cache_entries", entries);
    set_cfg("status.cache_bytes", bytes);
    assert_int_equal(svc_status_cache_count(), 0);
}

static void put(const char *code, cs_lang lang, const char *pin, const char *client,
                const char *body)
{
    svc_sc_ticket t;
    svc_status_cache_ticket(code, client, &t);
    svc_status_cache_put(code, lang, pin, client, &t, body, strlen(body));
}

/* 1 when the cache answers exactly `want` (NULL: when it answers nothing). */
static int answers(const char *code, cs_lang lang, const char *pin, const char *client,
                   const char *want)
{
    unsigned age;
    svc_sc_blob *b = svc_status_cache_get(code, lang, pin, client, &age);
    if (!b) return want == NULL;
    size_t len;
    const char *p = svc_sc_blob_data(b, &len);
    int ok = want && len == strlen(want) && !memcmp(p, want, len);
    svc_sc_blob_release(b);
    return ok;
}

static void test_exact_match_only(void **state)
{
    (void)state;
    fresh("60000", "1000000", "8388608"); /* slots to spare: no two keys here share one */
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "123456", "10.0.0.1", NULL));
    put("TH-2025-00001", CS_LANG_VI, "123456", "10.0.0.1", "{\"vi\":1}");
    put("TH-2025-00001", CS_LANG_EN, "123456", "10.0.0.1", "{\"en\":1}");
    assert_int_equal(svc_status_cache_count(), 2);
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "123456", "10.0.0.1", "{\"vi\":1}"));
    assert_true(answers("TH-2025-00001", CS_LANG_EN, "123456", "10.0.0.1", "{\"en\":1}"));
    /* another PIN, a PIN that only starts the same, another client, another code: nothing */
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "123457", "10.0.0.1", NULL));
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "12345", "10.0.0.1", NULL));
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "", "10.0.0.1", NULL));
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "123456", "10.0.0.2", NULL));
    assert_true(answers("TH-2025-00002", CS_LANG_VI, "123456", "10.0.0.1", NULL));
    /* length-prefixed: moving characters between code, PIN and client does not collide */
    put("TH-1", CS_LANG_VI, "23", "x", "{\"a\":1}");
    assert_true(answers("TH-12", CS_LANG_VI, "3", "x", NULL));
    assert_true(answers("TH-1", CS_LANG_VI, "2", "3x", NULL));
    /* a code too long to be real is neither kept nor answered */
    put("TH-2025-000000000000000000001", CS_LANG_VI, "1", "c", "{}");
    assert_true(answers("TH-2025-000000000000000000001", CS_LANG_VI, "1", "c", NULL));
    /* the same key again replaces, it does not add */
    put("TH-2025-00001", CS_LANG_VI, "123456", "10.0.0.1", "{\"vi\":2}");
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "123456", "10.0.0.1", "{\"vi\":2}"));
    assert_int_equal(svc_status_cache_count(), 3);
}

static void test_invalidation(void **state)
{
    (void)state;
    fresh("60000", "1000000", "8388608"); /* slots to spare: no two keys here share one */
    put("TH-2025-00001", CS_LANG_VI, "111111", "10.0.0.1", "A");
    put("TH-2025-00001", CS_LANG_EN, "111111", "10.0.0.1", "A-en");
    put("TH-2025-00002", CS_LANG_VI, "222222", "10.0.0.1", "B");
    put("TH-2025-00003", CS_LANG_VI, "333333", "10.0.0.9", "C");
    /* a held answer stays readable after its entry is dropped */
    unsigned age;
    svc_sc_blob *held =
        svc_status_cache_get("TH-2025-00001", CS_LANG_VI, "111111", "10.0.0.1", &age);
    assert_non_null(held);
    svc_status_cache_drop("TH-2025-00001");
    size_t len;
    assert_memory_equal(svc_sc_blob_data(held, &len), "A", 1);
    svc_sc_blob_release(held);
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "111111", "10.0.0.1", NULL));
    assert_true(answers("TH-2025-00001", CS_LANG_EN, "111111", "10.0.0.1", NULL));
    assert_true(answers("TH-2025-00002", CS_LANG_VI, "222222", "10.0.0.1", "B"));
    assert_int_equal(svc_status_cache_count(), 2);
    /* a failure from 10.0.0.1 on another household: that address's answers stop, others stay */
    svc_status_cache_failed("TH-2025-00077", "10.0.0.1");
    assert_true(answers("TH-2025-00002", CS_LANG_VI, "222222", "10.0.0.1", NULL));
    assert_true(answers("TH-2025-00003", CS_LANG_VI, "333333", "10.0.0.9", "C"));
    /* a failure on a household from anywhere stops its answers */
    svc_status_cache_failed("TH-2025-00003", "10.0.0.66");
    assert_true(answers("TH-2025-00003", CS_LANG_VI, "333333", "10.0.0.9", NULL));
    /* a drop between the ticket and the store: nothing is stored */
    svc_sc_ticket t;
    svc_status_cache_ticket("TH-2025-00004", "10.0.0.1", &t);
    svc_status_cache_drop("TH-2025-00004");
    svc_status_cache_put("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", &t, "D", 1);
    assert_true(answers("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", NULL));
    svc_status_cache_ticket("TH-2025-00004", "10.0.0.1", &t);
    svc_status_cache_failed("TH-2025-00999", "10.0.0.1");
    svc_status_cache_put("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", &t, "D", 1);
    assert_true(answers("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", NULL));
    svc_status_cache_ticket("TH-2025-00004", "10.0.0.1", &t);
    svc_status_cache_clear();
    svc_status_cache_put("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", &t, "D", 1);
    assert_true(answers("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", NULL));
    assert_int_equal(svc_status_cache_count(), 0);
    /* a fresh ticket stores again */
    put("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", "D");
    assert_true(answers("TH-2025-00004", CS_LANG_VI, "444444", "10.0.0.1", "D"));
}

static void test_disabled_and_lifetime(void **state)
{
    (void)state;
    fresh("0", "1000000", "8388608");
    put("TH-2025-00001", CS_LANG_VI, "111111", "c", "A");
    assert_int_equal(svc_status_cache_count(), 0);
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "111111", "c", NULL));
    set_cfg("status.cache_ms", "60000");
    put("TH-2025-00001", CS_LANG_VI, "111111", "c", "A");
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "111111", "c", "A"));
    /* turned off while it holds an answer: not served */
    set_cfg("status.cache_ms", "0");
    assert_true(answers("TH-2025-00001", CS_LANG_VI, "111111", "c", NULL));
    /* a lifetime shortened below the entry's age ends it (1 ms: the entry is older once the
       clock has moved, which the loop waits for without timing anything) */
    set_cfg("status.cache_ms", "1");
    int gone = 0;
    for (int i = 0; i < 100000 && !gone; i++)
        gone = answers("TH-2025-00001", CS_LANG_VI, "111111", "c", NULL);
    assert_true(gone);
    assert_int_equal(svc_status_cache_count(), 0); /* the stale entry was freed on look-up */
}

static void test_bounds(void **state)
{
    (void)state;
    fresh("60000", "64", "8388608");
    char code[24], body[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(code, sizeof code, "TH-2025-%05d", i);
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        put(code, CS_LANG_VI, "123456", "c", body);
        assert_true(svc_status_cache_count() <= 64);
    }
    assert_true(svc_status_cache_count() > 0);
    /* the last one is always there (it evicted whatever shared its slot) */
    assert_true(answers(code, CS_LANG_VI, "123456", "c", body));
    /* bytes: at most 4096 in all, so a 5000-byte answer is never kept and 1000-byte ones
       stop at three or four */
    fresh("60000", "4096", "4096");
    static char big[5001];
    memset(big, 'x', 5000);
    put("TH-2025-00001", CS_LANG_VI, "1", "c", big);
    assert_int_equal(svc_status_cache_count(), 0);
    big[1000] = '\0';
    for (int i = 0; i < 20; i++) {
        snprintf(code, sizeof code, "TH-2025-%05d", i);
        put(code, CS_LANG_VI, "1", "c", big);
    }
    assert_in_range(svc_status_cache_count(), 1, 4);
    svc_status_cache_free();
    assert_int_equal(svc_status_cache_count(), 0);
}

/* Threads putting, reading, dropping and failing on a few codes: a hit is always the answer
 * that was stored for exactly that (code, PIN), never another's. Meant for SANITIZE=thread
 * too; nothing is timed. */
#define NTHREADS 8
#define NCODES 16
static void body_for(int c, int pin, char *out, size_t n)
{
    snprintf(out, n, "{\"code\":%d,\"pin\":%d,\"pad\":\"%0*d\"}", c, pin, 40 + c, 0);
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    long bad = 0;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        int c = (int)(seed >> 8) % NCODES, pin = (int)(seed >> 16) % 2, op = (int)(seed >> 20) % 10;
        char code[24], p[8], body[128];
        snprintf(code, sizeof code, "TH-2025-%05d", c);
        snprintf(p, sizeof p, "%06d", pin);
        body_for(c, pin, body, sizeof body);
        if (op < 6) {
            unsigned age;
            svc_sc_blob *b = svc_status_cache_get(code, CS_LANG_VI, p, "c", &age);
            if (b) {
                size_t len;
                const char *d = svc_sc_blob_data(b, &len);
                if (len != strlen(body) || memcmp(d, body, len)) bad++;
                svc_sc_blob_release(b);
            }
        } else if (op < 9) {
            put(code, CS_LANG_VI, p, "c", body);
        } else if (seed & 1) {
            svc_status_cache_drop(code);
        } else {
            svc_status_cache_failed(code, "c");
        }
    }
    return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
    (void)state;
    fresh("60000", "8", "8388608"); /* few slots: evictions race with reads */
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)), 0);
    long bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)(intptr_t)r;
    }
    assert_int_equal(bad, 0);
    assert_true(svc_status_cache_count() <= 8);
    svc_status_cache_free();
    assert_int_equal(svc_status_cache_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match_only),
        cmocka_unit_test(test_invalidation),
        cmocka_unit_test(test_disabled_and_lifetime),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
