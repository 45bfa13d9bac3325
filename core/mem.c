/* core/mem: allocation wrappers with fail-the-Nth-call injection for torture tests. */
#include "core/mem.h"
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong alloc_count;
static atomic_ulong fail_at;
static atomic_int fail_init;

static int should_fail(void)
{
    if (!atomic_exchange(&fail_init, 1)) {
        const char *e = getenv("CHOSO_FAIL_ALLOC");
        if (e && *e) atomic_store(&fail_at, strtoul(e, NULL, 10));
    }
    unsigned long n = atomic_fetch_add(&alloc_count, 1) + 1;
    unsigned long f = atomic_load(&fail_at);
    return f && n == f;
}

void cs_mem_fail_at(unsigned long n)
{
    atomic_store(&fail_init, 1);
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_at, n);
}

unsigned long cs_mem_count(void)
{
    return atomic_load(&alloc_count);
}

void *cs_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *cs_calloc(size_t n, size_t size)
{
    if (should_fail()) return NULL;
    /* n × size overflow: refuse here, not in the allocator (sanitizer builds abort there) */
    if (size && n > SIZE_MAX / size) return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *cs_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

char *cs_strdup(const char *s)
{
    return s ? cs_strndup(s, strlen(s)) : NULL;
}

char *cs_strndup(const char *s, size_t n)
{
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *d = cs_malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void cs_free(void *p)
{
    free(p);
}

void cs_free_secret(void *p, size_t n)
{
    if (!p) return;
    OPENSSL_cleanse(p, n);
    free(p);
}
