/* tests/support/tyaml: the YAML subset of schemas/openapi.yaml into jansson values (see
 * tyaml.h). Line-based recursive descent; test code only. */
#include "tests/support/tyaml.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct yp {
    char **lines;
    size_t n, i;
    char *err;
    size_t errsz;
    int failed;
} yp;

static void fail(yp *p, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(yp *p, size_t line, const char *fmt, ...)
{
    if (p->failed) return;
    p->failed = 1;
    int o = snprintf(p->err, p->errsz, "line %zu: ", line + 1);
    va_list ap;
    va_start(ap, fmt);
    if (o > 0 && (size_t)o < p->errsz) vsnprintf(p->err + o, p->errsz - (size_t)o, fmt, ap);
    va_end(ap);
}

static size_t indent_of(const char *l)
{
    size_t n = 0;
    while (l[n] == ' ')
        n++;
    return n;
}

static int insignificant(const char *l)
{
    const char *s = l + indent_of(l);
    return !*s || *s == '#';
}

/* Index of the next line that carries structure, or p->n. */
static size_t next_sig(yp *p)
{
    while (p->i < p->n && insignificant(p->lines[p->i]))
        p->i++;
    return p->i;
}

static void rtrim(char *s)
{
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
        s[--l] = '\0';
}

/* A quote opens a quoted scalar only where a scalar starts ("request's" is plain text). */
static int quote_opens(const char *start, const char *at)
{
    while (at > start && at[-1] == ' ')
        at--;
    return at == start || strchr("[{,:-", at[-1]) != NULL;
}

/* Cut a trailing " # comment" that is outside quotes. */
static void strip_comment(char *s)
{
    char q = 0;
    for (size_t i = 0; s[i]; i++) {
        if (q) {
            if (s[i] == q) q = 0;
            continue;
        }
        if ((s[i] == '\'' || s[i] == '"') && quote_opens(s, s + i))
            q = s[i];
        else if (s[i] == '#' && (i == 0 || s[i - 1] == ' ')) {
            s[i] = '\0';
            break;
        }
    }
    rtrim(s);
}

/* Growable string (test code: plain malloc, abort on failure). */
typedef struct sb {
    char *p;
    size_t len, cap;
} sb;

static void sb_put(sb *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static json_t *plain_scalar(const char *s)
{
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null")) return json_null();
    if (!strcmp(s, "true")) return json_true();
    if (!strcmp(s, "false")) return json_false();
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*end && !errno && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return json_integer(v);
    double d = strtod(s, &end);
    if (!*end && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return json_real(d);
    return json_string(s);
}

/* A quoted scalar starting at *s (at the quote); advances past the closing quote. */
static json_t *quoted(const char **s, yp *p, size_t line)
{
    char q = **s;
    const char *c = *s + 1;
    sb b = {0};
    sb_put(&b, "", 0);
    for (;;) {
        if (!*c) {
            fail(p, line, "unclosed %c quote", q);
            free(b.p);
            return NULL;
        }
        if (*c == q) {
            if (q == '\'' && c[1] == '\'') {
                sb_put(&b, "'", 1);
                c += 2;
                continue;
            }
            c++;
            break;
        }
        if (q == '"' && *c == '\\' && c[1]) {
            char e = c[1], out = e;
            if (e == 'n')
                out = '\n';
            else if (e == 't')
                out = '\t';
            sb_put(&b, &out, 1);
            c += 2;
            continue;
        }
        sb_put(&b, c, 1);
        c++;
    }
    *s = c;
    json_t *v = json_string(b.p);
    free(b.p);
    return v;
}

static void skip_ws(const char **s)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
}

static json_t *flow_value(const char **s, yp *p, size_t line);

/* A plain scalar inside a flow collection, ending at one of `stops`. */
static json_t *flow_plain(const char **s, const char *stops, int as_key)
{
    const char *b = *s;
    while (**s && !strchr(stops, **s)) {
        if (as_key && **s == ':' &&
            ((*s)[1] == ' ' || (*s)[1] == ',' || (*s)[1] == '}' || !(*s)[1]))
            break;
        (*s)++;
    }
    size_t n = (size_t)(*s - b);
    while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
        n--;
    char *t = strndup(b, n);
    if (!t) abort();
    json_t *v = as_key ? json_string(t) : plain_scalar(t);
    free(t);
    return v;
}

static json_t *flow_value(const char **s, yp *p, size_t line)
{
    skip_ws(s);
    if (**s == '{') {
        (*s)++;
        json_t *o = json_object();
        for (;;) {
            skip_ws(s);
            if (**s == '}') {
                (*s)++;
                return o;
            }
            json_t *k = (**s == '\'' || **s == '"') ? quoted(s, p, line) : flow_plain(s, ",}", 1);
            if (!k) goto bad_o;
            skip_ws(s);
            json_t *v;
            if (**s == ':') {
                (*s)++;
                skip_ws(s);
                v = (**s == ',' || **s == '}') ? json_null() : flow_value(s, p, line);
            } else {
                v = json_null();
            }
            if (!v) {
                json_decref(k);
                goto bad_o;
            }
            json_object_set_new(o, json_string_value(k), v);
            json_decref(k);
            skip_ws(s);
            if (**s == ',')
                (*s)++;
            else if (**s != '}') {
                fail(p, line, "expected , or } in a flow mapping");
                goto bad_o;
            }
        }
    bad_o:
        json_decref(o);
        return NULL;
    }
    if (**s == '[') {
        (*s)++;
        json_t *a = json_array();
        for (;;) {
            skip_ws(s);
            if (**s == ']') {
                (*s)++;
                return a;
            }
            json_t *v = flow_value(s, p, line);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
            skip_ws(s);
            if (**s == ',')
                (*s)++;
            else if (**s != ']') {
                fail(p, line, "expected , or ] in a flow sequence");
                json_decref(a);
                return NULL;
            }
        }
    }
    if (**s == '\'' || **s == '"') return quoted(s, p, line);
    return flow_plain(s, ",]}", 0);
}

/* Depth of unclosed brackets and whether a quote is open, over s. */
static void balance(const char *s, int *depth, char *q)
{
    const char *start = s;
    for (; *s; s++) {
        if (*q) {
            if (*s == *q) *q = 0;
            continue;
        }
        if ((*s == '\'' || *s == '"') && quote_opens(start, s))
            *q = *s;
        else if (*s == '[' || *s == '{')
            (*depth)++;
        else if (*s == ']' || *s == '}')
            (*depth)--;
    }
}

static json_t *parse_node(yp *p, size_t min_indent);

/* The value written after "key:" (or "- ") on line `line` whose key sits at `ind`. Consumes
 * continuation lines (flow collections, quotes, plain folding, block scalars). */
static json_t *inline_value(yp *p, char *text, size_t ind, size_t line)
{
    if (!strcmp(text, "|") || !strcmp(text, "|-") || !strcmp(text, "|+")) {
        char chomp = text[1];
        sb b = {0};
        sb_put(&b, "", 0);
        size_t content = 0;
        while (p->i < p->n) {
            const char *l = p->lines[p->i];
            size_t li = indent_of(l);
            if (l[li] && li <= ind) break;
            if (l[li] && !content) content = li;
            if (l[li])
                sb_put(&b, l + (li < content ? li : content),
                       strlen(l + (li < content ? li : content)));
            sb_put(&b, "\n", 1);
            p->i++;
        }
        while (b.len && b.p[b.len - 1] == '\n')
            b.p[--b.len] = '\0';
        if (chomp != '-' && b.len) sb_put(&b, "\n", 1);
        json_t *v = json_string(b.p);
        free(b.p);
        return v;
    }
    if (text[0] == '>') {
        fail(p, line, "folded scalars (>) are not supported");
        return NULL;
    }
    if (text[0] == '{' || text[0] == '[' || text[0] == '\'' || text[0] == '"') {
        sb b = {0};
        sb_put(&b, text, strlen(text));
        int depth = 0;
        char q = 0;
        balance(text, &depth, &q);
        while ((depth > 0 || q) && p->i < p->n) {
            char *l = p->lines[p->i++];
            if (!q) strip_comment(l);
            sb_put(&b, " ", 1);
            sb_put(&b, l + indent_of(l), strlen(l + indent_of(l)));
            balance(l + indent_of(l), &depth, &q);
        }
        const char *s = b.p;
        json_t *v = flow_value(&s, p, line);
        skip_ws(&s);
        if (v && *s) {
            fail(p, line, "text after a flow value: %.20s", s);
            json_decref(v);
            v = NULL;
        }
        free(b.p);
        return v;
    }
    /* plain scalar, folded over more-indented lines */
    sb b = {0};
    sb_put(&b, text, strlen(text));
    while (p->i < p->n) {
        char *l = p->lines[p->i];
        size_t li = indent_of(l);
        if (!l[li] || li <= ind || l[li] == '#') break;
        strip_comment(l);
        sb_put(&b, " ", 1);
        sb_put(&b, l + li, strlen(l + li));
        p->i++;
    }
    json_t *v = plain_scalar(b.p);
    free(b.p);
    return v;
}

static json_t *parse_seq(yp *p, size_t ind)
{
    json_t *a = json_array();
    while (next_sig(p) < p->n) {
        char *l = p->lines[p->i];
        size_t li = indent_of(l);
        if (li != ind || l[li] != '-' || (l[li + 1] && l[li + 1] != ' ')) break;
        size_t line = p->i;
        char *rest = l + li + 1;
        while (*rest == ' ')
            rest++;
        strip_comment(rest);
        json_t *v;
        if (!*rest) {
            p->i++;
            v = parse_node(p, ind + 1);
        } else {
            /* "- key: value" starts a mapping one level in: let the mapping read this line */
            int is_map = 0;
            if (*rest != '{' && *rest != '[' && *rest != '\'' && *rest != '"') {
                for (const char *c = rest; *c; c++)
                    if (*c == ':' && (c[1] == ' ' || !c[1])) {
                        is_map = 1;
                        break;
                    }
            }
            if (is_map) {
                l[li] = ' ';
                v = parse_node(p, (size_t)(rest - l));
            } else {
                p->i++;
                v = inline_value(p, rest, ind, line);
            }
        }
        if (!v) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, v);
    }
    return a;
}

static json_t *parse_map(yp *p, size_t ind)
{
    json_t *o = json_object();
    while (next_sig(p) < p->n) {
        char *l = p->lines[p->i];
        size_t li = indent_of(l);
        if (li < ind) break;
        if (li > ind) {
            fail(p, p->i, "unexpected indentation");
            json_decref(o);
            return NULL;
        }
        if (l[li] == '-' && (l[li + 1] == ' ' || !l[li + 1])) break;
        size_t line = p->i;
        char *c = l + li, *key_end, *val;
        char key[256];
        if (*c == '\'' || *c == '"') {
            const char *s = c;
            json_t *k = quoted(&s, p, line);
            if (!k) {
                json_decref(o);
                return NULL;
            }
            snprintf(key, sizeof key, "%s", json_string_value(k));
            json_decref(k);
            key_end = (char *)s;
            while (*key_end == ' ')
                key_end++;
            if (*key_end != ':') {
                fail(p, line, "expected ':' after a quoted key");
                json_decref(o);
                return NULL;
            }
            val = key_end + 1;
        } else {
            key_end = NULL;
            for (char *s = c; *s; s++)
                if (*s == ':' && (s[1] == ' ' || !s[1])) {
                    key_end = s;
                    break;
                }
            if (!key_end) {
                fail(p, line, "expected 'key: value'");
                json_decref(o);
                return NULL;
            }
            size_t kl = (size_t)(key_end - c);
            while (kl && c[kl - 1] == ' ')
                kl--;
            snprintf(key, sizeof key, "%.*s", (int)kl, c);
            val = key_end + 1;
        }
        while (*val == ' ')
            val++;
        strip_comment(val);
        p->i++;
        json_t *v;
        if (!*val) {
            size_t nx = next_sig(p);
            if (nx < p->n && indent_of(p->lines[nx]) > ind)
                v = parse_node(p, ind + 1);
            else if (nx < p->n && indent_of(p->lines[nx]) == ind && p->lines[nx][ind] == '-')
                v = parse_seq(p, ind);
            else
                v = json_null();
        } else {
            v = inline_value(p, val, ind, line);
        }
        if (!v) {
            json_decref(o);
            return NULL;
        }
        if (json_object_get(o, key)) {
            fail(p, line, "duplicate key '%s'", key);
            json_decref(v);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, key, v);
    }
    return o;
}

static json_t *parse_node(yp *p, size_t min_indent)
{
    if (p->failed) return NULL;
    if (next_sig(p) >= p->n) return json_null();
    const char *l = p->lines[p->i];
    size_t li = indent_of(l);
    if (li < min_indent) return json_null();
    if (l[li] == '-' && (l[li + 1] == ' ' || !l[li + 1])) return parse_seq(p, li);
    return parse_map(p, li);
}

json_t *tyaml_parse(const char *text, char *err, size_t errsz)
{
    yp p = {0};
    p.err = err;
    p.errsz = errsz;
    err[0] = '\0';
    size_t cap = 0;
    for (const char *s = text; s && *s;) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (p.n == cap) {
            cap = cap ? cap * 2 : 256;
            p.lines = realloc(p.lines, cap * sizeof *p.lines);
            if (!p.lines) abort();
        }
        p.lines[p.n] = strndup(s, n);
        if (!p.lines[p.n]) abort();
        if (strchr(p.lines[p.n], '\t') && !insignificant(p.lines[p.n]) &&
            indent_of(p.lines[p.n]) < strspn(p.lines[p.n], " \t"))
            fail(&p, p.n, "tab in indentation");
        rtrim(p.lines[p.n]);
        p.n++;
        s = e ? e + 1 : NULL;
    }
    json_t *v = p.failed ? NULL : parse_node(&p, 0);
    if (v && next_sig(&p) < p.n) {
        fail(&p, p.i, "unexpected text");
        json_decref(v);
        v = NULL;
    }
    if (p.failed) {
        json_decref(v);
        v = NULL;
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.lines[i]);
    free(p.lines);
    return v;
}

json_t *tyaml_load_file(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    sb b = {0};
    sb_put(&b, "", 0);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_put(&b, chunk, n);
    fclose(f);
    json_t *v = tyaml_parse(b.p, err, errsz);
    free(b.p);
    return v;
}
