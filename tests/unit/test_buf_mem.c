/* tests/unit/test_buf_mem: the capped buffer and the allocation wrappers, including the
 * fail-the-Nth-allocation injection every error-path test relies on. No database. */
#include "core/buf.h"
#include "core/mem.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static const char *self;

static int reset_fail(void **state)
{
    (void)state;
    cs_mem_fail_at(0);
    return 0;
}

static void test_buf_basic(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b, 0);
    assert_int_equal(b.max, (size_t)64 << 20);
    assert_null(b.data);
    assert_int_equal(cs_buf_puts(&b, "Chợ "), 0);
    assert_int_equal(cs_buf_putc(&b, 'S'), 0);
    assert_int_equal(cs_buf_printf(&b, "ố %d/%s", 2026, "ok"), 0);
    assert_string_equal(b.data, "Chợ Số 2026/ok");
    assert_int_equal(b.len, strlen("Chợ Số 2026/ok"));
    assert_int_equal(cs_buf_append(&b, "\0x", 2), 0); /* binary data is fine */
    assert_int_equal(b.len, strlen("Chợ Số 2026/ok") + 2);
    assert_int_equal(b.data[b.len], '\0');
    size_t cap = b.cap;
    cs_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, cap); /* memory kept for reuse */
    /* growth across many doublings keeps the content */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(cs_buf_printf(&b, "%04d", i % 10000), 0);
    assert_int_equal(b.len, 40000);
    assert_memory_equal(b.data + 4 * 1234, "1234", 4);
    char *s = cs_buf_steal(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), 40000);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    cs_free(s);
    /* stealing an empty buffer still gives a string */
    s = cs_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    cs_free(s);
    assert_int_equal(cs_buf_append(&b, NULL, 0), 0);
    assert_string_equal(b.data, "");
    cs_buf_free(&b);
    cs_buf_free(&b); /* twice is harmless */
}

static void test_buf_cap(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b, 10);
    assert_int_equal(cs_buf_puts(&b, "0123456789"), 0); /* exactly the cap */
    assert_int_equal(b.len, 10);
    assert_int_equal(cs_buf_putc(&b, 'x'), -1);
    assert_int_equal(cs_buf_puts(&b, ""), 0);
    assert_int_equal(cs_buf_printf(&b, "%d", 1), -1);
    assert_int_equal(cs_buf_append(&b, "xyz", 3), -1);
    assert_string_equal(b.data, "0123456789"); /* unchanged by the refusals */
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11);
    cs_buf_reset(&b);
    assert_int_equal(cs_buf_puts(&b, "01234567890"), -1); /* one over in one go */
    assert_int_equal(b.len, 0);
    assert_int_equal(cs_buf_printf(&b, "%s", "0123456789"), 0);
    cs_buf_free(&b);

    /* a huge cap does not make the arithmetic wrap: the request is refused, no crash */
    cs_buf_init(&b, SIZE_MAX);
    assert_true(b.max < SIZE_MAX / 2);
    assert_int_equal(cs_buf_puts(&b, "a"), 0);
    assert_int_equal(cs_buf_append(&b, "b", SIZE_MAX), -1);
    assert_int_equal(cs_buf_append(&b, "b", SIZE_MAX - 1), -1);
    assert_string_equal(b.data, "a");
    cs_buf_free(&b);
    /* a large but legal cap still grows only as needed */
    cs_buf_init(&b, (size_t)1 << 40);
    assert_int_equal(cs_buf_puts(&b, "x"), 0);
    assert_true(b.cap < 4096);
    cs_buf_free(&b);
}

static void test_buf_fail_nth(void **state)
{
    (void)state;
    /* Build the same text with allocation n failing, for every n until none is hit: each
     * failure is a clean -1 with the text so far intact, and freeing leaves no leak. */
    const char *piece = "Nước mắm Ba Làng; ";
    unsigned long n;
    for (n = 1;; n++) {
        cs_buf b;
        cs_buf_init(&b, 0);
        cs_mem_fail_at(n);
        int failed = 0;
        for (int i = 0; i < 200 && !failed; i++) {
            size_t before = b.len;
            if (i % 2 ? cs_buf_puts(&b, piece) : cs_buf_printf(&b, "%s", piece)) {
                failed = 1;
                assert_int_equal(b.len, before);
                if (b.data) assert_int_equal(b.data[b.len], '\0');
                assert_int_equal(b.len % strlen(piece), 0);
            }
        }
        unsigned long used = cs_mem_count();
        cs_mem_fail_at(0);
        /* a run ends the loop only if the failure was never reached (none swallowed) */
        assert_int_equal(!failed, used < n);
        if (!failed) {
            assert_int_equal(b.len, 200 * strlen(piece));
            cs_buf_free(&b);
            break;
        }
        /* the buffer stays usable after a failure */
        assert_int_equal(cs_buf_puts(&b, "x"), 0);
        cs_buf_free(&b);
        assert_true(n < 100);
    }
    assert_true(n > 3); /* the loop did meet several growth steps */
    /* steal of an empty buffer under memory failure: NULL, not a crash */
    cs_buf b;
    cs_buf_init(&b, 0);
    cs_mem_fail_at(1);
    assert_null(cs_buf_steal(&b));
    cs_mem_fail_at(0);
}

static void test_mem_fail_nth(void **state)
{
    (void)state;
    cs_mem_fail_at(3);
    assert_int_equal(cs_mem_count(), 0);
    void *a = cs_malloc(8), *b = cs_calloc(2, 4), *c = cs_malloc(8), *d = cs_strdup("x");
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c); /* only the 3rd fails */
    assert_non_null(d);
    assert_int_equal(cs_mem_count(), 4);
    void *e = cs_malloc(1);
    assert_non_null(e); /* and only once */
    cs_free(a);
    cs_free(b);
    cs_free(d);
    cs_free(e);
    /* realloc failure leaves the old block alone */
    cs_mem_fail_at(0);
    char *p = cs_strdup("giữ nguyên");
    cs_mem_fail_at(1);
    assert_null(cs_realloc(p, 4096));
    assert_string_equal(p, "giữ nguyên");
    cs_mem_fail_at(0);
    p = cs_realloc(p, 4096);
    assert_non_null(p);
    assert_string_equal(p, "giữ nguyên");
    cs_free(p);
    /* strdup/strndup fail cleanly too */
    cs_mem_fail_at(1);
    assert_null(cs_strdup("x"));
    cs_mem_fail_at(1);
    assert_null(cs_strndup("xyz", 2));
    cs_mem_fail_at(0);
}

static void test_mem_wrappers(void **state)
{
    (void)state;
    void *z = cs_malloc(0); /* zero-size requests give a real, freeable block */
    assert_non_null(z);
    cs_free(z);
    unsigned char *c = cs_calloc(16, 4);
    assert_non_null(c);
    for (int i = 0; i < 64; i++)
        assert_int_equal(c[i], 0);
    cs_free(c);
    assert_null(cs_calloc(SIZE_MAX, 16)); /* n × size overflow */
    assert_null(cs_strdup(NULL));
    assert_null(cs_strndup(NULL, 3));
    char *s = cs_strndup("Thanh Hóa", 5);
    assert_string_equal(s, "Thanh");
    cs_free(s);
    s = cs_strndup("ab", 100);
    assert_string_equal(s, "ab");
    cs_free_secret(s, 3);
    cs_free_secret(NULL, 10);
    cs_free(NULL);
}

/* Child mode: CHOSO_FAIL_ALLOC is read at the first allocation of a fresh process. */
static int child_fail_alloc(void)
{
    void *a = cs_malloc(1), *b = cs_malloc(1), *c = cs_malloc(1);
    int ok = a && !b && c;
    cs_free(a);
    cs_free(c);
    return ok ? 0 : 1;
}

static void test_mem_fail_env(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("CHOSO_FAIL_ALLOC", "2", 1);
        execl(self, self, "--child-fail-alloc", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Markup escaping: every character that could end text or an attribute is a reference. */
static void test_buf_escaped(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b, 64);
    assert_int_equal(cs_buf_put_escaped(&b, "<a href=\"x\">Tô & 'Tí'</a>"), 0);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;Tô &amp; &#39;Tí&#39;&lt;/a&gt;");
    assert_int_equal(cs_buf_put_escaped(&b, NULL), 0);
    cs_buf_reset(&b);
    /* the cap holds: 20 ampersands need 100 bytes */
    assert_int_equal(cs_buf_put_escaped(&b, "&&&&&&&&&&&&&&&&&&&&"), -1);
    cs_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--child-fail-alloc")) return child_fail_alloc();
    self = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_buf_basic, reset_fail),
        cmocka_unit_test_teardown(test_buf_escaped, reset_fail),
        cmocka_unit_test_teardown(test_buf_cap, reset_fail),
        cmocka_unit_test_teardown(test_buf_fail_nth, reset_fail),
        cmocka_unit_test_teardown(test_mem_fail_nth, reset_fail),
        cmocka_unit_test_teardown(test_mem_wrappers, reset_fail),
        cmocka_unit_test_teardown(test_mem_fail_env, reset_fail),
    };
    return cmocka_run_group_tests_name("buf_mem", tests, NULL, NULL);
}
