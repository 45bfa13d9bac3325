/* core/mem: the one place memory is allocated. Test builds can make the Nth allocation fail
 * (CHOSO_FAIL_ALLOC=N) so error paths are exercised; nothing here knows of HTTP or SQL. */
#ifndef CS_MEM_H
#define CS_MEM_H
#include <stddef.h>

/* Return NULL on failure (never abort); caller owns the result and frees with cs_free. */
void *cs_malloc(size_t n);
void *cs_calloc(size_t n, size_t size);
void *cs_realloc(void *p, size_t n);
char *cs_strdup(const char *s);
char *cs_strndup(const char *s, size_t n);
void cs_free(void *p);
/* Overwrite then free: for buffers that held personal data or secrets. */
void cs_free_secret(void *p, size_t n);

/* Fault injection: fail the Nth allocation from now (0 = never). Read from CHOSO_FAIL_ALLOC
 * at first use; tests may also set it directly. Returns the count of allocations so far. */
void cs_mem_fail_at(unsigned long n);
unsigned long cs_mem_count(void);
#endif
