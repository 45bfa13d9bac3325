/* core/buf: growable byte buffer with a hard maximum (every growable buffer has a cap). */
#ifndef CS_BUF_H
#define CS_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct cs_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* appends beyond this fail with -1 (0 = 64 MiB default; at most SIZE_MAX/4) */
} cs_buf;

void cs_buf_init(cs_buf *b, size_t max);
/* Each returns 0, or -1 when the cap would be passed or memory ran out (buffer unchanged). */
int cs_buf_append(cs_buf *b, const void *p, size_t n);
int cs_buf_puts(cs_buf *b, const char *s);
int cs_buf_putc(cs_buf *b, char c);
int cs_buf_printf(cs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cs_buf_vprintf(cs_buf *b, const char *fmt, va_list ap);
/* Append s (may be NULL: nothing) with & < > " ' written as character references, so the text
 * is safe inside HTML or XML element content and quoted attributes. 0 or -1 (cap/OOM). */
int cs_buf_put_escaped(cs_buf *b, const char *s);
/* Hand over the data (caller frees with cs_free); the buffer is reset. Never NULL unless OOM. */
char *cs_buf_steal(cs_buf *b);
void cs_buf_reset(cs_buf *b);
void cs_buf_free(cs_buf *b);
#endif
