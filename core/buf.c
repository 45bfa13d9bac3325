/* core/buf: capped growable buffer. */
#include "core/buf.h"
#include "core/mem.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CS_BUF_DEFAULT_MAX ((size_t)64 << 20)
/* Largest cap honoured: keeps max + 1 and the doubling below from wrapping around. */
#define CS_BUF_HARD_MAX (SIZE_MAX / 4)

void cs_buf_init(cs_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : CS_BUF_DEFAULT_MAX;
    if (b->max > CS_BUF_HARD_MAX) b->max = CS_BUF_HARD_MAX;
}

static int grow(cs_buf *b, size_t need)
{
    if (need > b->max || b->max > CS_BUF_HARD_MAX) return -1;
    if (need + 1 <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < need + 1)
        nc *= 2;
    if (nc > b->max + 1) nc = b->max + 1;
    char *p = cs_realloc(b->data, nc);
    if (!p) return -1;
    b->data = p;
    b->cap = nc;
    return 0;
}

int cs_buf_append(cs_buf *b, const void *p, size_t n)
{
    if (b->len > b->max || n > b->max - b->len || grow(b, b->len + n)) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cs_buf_puts(cs_buf *b, const char *s)
{
    return cs_buf_append(b, s, strlen(s));
}

int cs_buf_putc(cs_buf *b, char c)
{
    return cs_buf_append(b, &c, 1);
}

int cs_buf_vprintf(cs_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || b->len > b->max || (size_t)n > b->max - b->len || grow(b, b->len + (size_t)n))
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cs_buf_printf(cs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = cs_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

int cs_buf_put_escaped(cs_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *ref = *s == '&'    ? "&amp;"
                          : *s == '<'  ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        if (ref ? cs_buf_puts(b, ref) : cs_buf_putc(b, *s)) return -1;
    }
    return 0;
}

char *cs_buf_steal(cs_buf *b)
{
    char *d = b->data;
    if (!d) d = cs_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void cs_buf_reset(cs_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void cs_buf_free(cs_buf *b)
{
    cs_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
