/* core/jspec: JSON body parsing and declarative field checks. Pure functions: no I/O, no
 * HTTP, no database; error details name fields, never echo their values. */
#include "core/jspec.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/vn.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (RFC 3629 table), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[1] > 0x9F) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[1] > 0x8F) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

int cs_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

size_t cs_utf8_len(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* U+FFFF, a noncharacter no real text carries: stands in for each invalid byte so the body
 * can be parsed a second time to find which fields held the bad bytes. */
static const char MARK[] = "\xEF\xBF\xBF";

static void path_join(char *out, size_t n, const char *prefix, const char *name)
{
    if (!*name) name = "\"\""; /* an empty member name still needs a visible field name */
    if (prefix && *prefix)
        snprintf(out, n, "%s.%s", prefix, name);
    else
        snprintf(out, n, "%s", name);
}

static void find_marks(const json_t *v, const char *path, cs_error *err)
{
    char sub[256];
    if (json_is_string(v)) {
        if (memmem(json_string_value(v), json_string_length(v), MARK, 3))
            cs_error_field(err, *path ? path : "(body)", CS_F_UTF8, NULL);
    } else if (json_is_object(v)) {
        const char *k;
        const json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            if (strstr(k, MARK)) {
                snprintf(sub, sizeof sub, "%s%s(key)", path, *path ? "." : "");
                cs_error_field(err, sub, CS_F_UTF8, NULL);
                continue;
            }
            path_join(sub, sizeof sub, path, k);
            find_marks(m, sub, err);
        }
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *m;
        json_array_foreach(v, i, m)
        {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            find_marks(m, sub, err);
        }
    }
}

static void locate_bad_utf8(const char *body, size_t len, cs_error *err)
{
    char *copy = cs_malloc(len * 3 + 1);
    if (!copy) return;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)body;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(p + i, len - i);
        if (k) {
            memcpy(copy + o, p + i, k);
            o += k;
            i += k;
        } else {
            memcpy(copy + o, MARK, 3);
            o += 3;
            i++;
        }
    }
    json_error_t jerr;
    json_t *j = json_loadb(copy, o, 0, &jerr);
    cs_free(copy);
    if (!j) return; /* the bad bytes were outside any string: no field to name */
    find_marks(j, "", err);
    json_decref(j);
}

json_t *cs_json_parse(const char *body, size_t len, cs_error *err)
{
    json_error_t jerr;
    if (!body || !len) {
        cs_error_set(err, CS_E_BAD_JSON, "empty body");
        return NULL;
    }
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j) return j;
    if (json_error_code(&jerr) == json_error_invalid_utf8 || !cs_utf8_valid(body, len)) {
        cs_error_clear(err);
        locate_bad_utf8(body, len, err);
        err->code = CS_E_BAD_UTF8;
        return NULL;
    }
    /* jansson's text may quote the input ("near '…'"): keep only the part before it. */
    char reason[160];
    snprintf(reason, sizeof reason, "%s", jerr.text);
    char *near = strstr(reason, " near ");
    if (near) *near = '\0';
    cs_error_set(err, CS_E_BAD_JSON, "line %d, column %d: %s", jerr.line, jerr.column, reason);
    return NULL;
}

static const char *type_name(cs_jtype t)
{
    switch (t) {
    case CS_J_STRING:
        return "string";
    case CS_J_INT:
        return "integer";
    case CS_J_BOOL:
        return "boolean";
    case CS_J_NUMBER:
        return "number";
    case CS_J_OBJECT:
        return "object";
    case CS_J_ARRAY:
        return "array";
    case CS_J_ANY:
        return "any";
    case CS_J_BOOLISH:
        return "boolean";
    }
    return "?";
}

static int check_members(const json_t *obj, const cs_jfield *spec, int open, const char *prefix,
                         cs_error *err);

/* Out of memory while checking `field`: the request fails as a whole, the field is named. */
static int no_memory(const char *field, cs_error *err)
{
    cs_error_set(err, CS_E_NOMEM, NULL);
    return cs_error_field(err, field, CS_E_NOMEM, NULL);
}

/* CS_JF_LINES: each line cleaned on its own, breaks kept; blank leading lines and the final
 * break dropped. New string (cs_free) or NULL with *why (CS_F_UTF8 or CS_E_NOMEM). The result
 * is never longer than the input, so the input's size caps the buffer. */
static char *clean_lines(const char *in, cs_code *why)
{
    cs_buf b;
    cs_buf_init(&b, strlen(in) + 1);
    const char *p = in;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = cs_strndup(p, len);
        *why = CS_E_NOMEM;
        char *c = line ? vn_text_clean(line, why) : NULL;
        cs_free(line);
        if (!c || (b.len && cs_buf_putc(&b, '\n')) || cs_buf_puts(&b, c)) {
            if (c) *why = CS_E_NOMEM;
            cs_free(c);
            cs_buf_free(&b);
            return NULL;
        }
        cs_free(c);
        p = e ? e + 1 : p + len;
    }
    char *out = cs_buf_steal(&b);
    if (!out) *why = CS_E_NOMEM;
    return out;
}

/* CS_J_BOOLISH: *tmp = the boolean meant. 0, 1 (blank: counts as absent) or -1 (field error). */
static int coerce_boolish(const json_t *v, const char *field, json_t **tmp, cs_error *err)
{
    if (json_is_boolean(v)) return 0;
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *tmp = json_boolean(json_integer_value(v) == 1);
        return *tmp ? 0 : no_memory(field, err);
    }
    if (!json_is_string(v)) return cs_error_field(err, field, CS_F_TYPE, "expected boolean");
    char *f = vn_fold(json_string_value(v));
    if (!f && cs_utf8_valid(json_string_value(v), json_string_length(v)))
        return no_memory(field, err);
    if (!f) return cs_error_field(err, field, CS_F_UTF8, NULL);
    static const char *const yes[] = {"co", "x", "yes", "y", "true", "1", "dong y", NULL};
    static const char *const no[] = {"khong", "no", "n", "false", "0", NULL};
    int r = -1, b = 0;
    if (!*f) r = 1;
    for (int i = 0; r < 0 && yes[i]; i++)
        if (!strcmp(f, yes[i])) b = 1, r = 0;
    for (int i = 0; r < 0 && no[i]; i++)
        if (!strcmp(f, no[i])) b = 0, r = 0;
    cs_free(f);
    if (r < 0) return cs_error_field(err, field, CS_F_ENUM, "có/không");
    if (r == 0 && !(*tmp = json_boolean(b))) return no_memory(field, err);
    return r;
}

/* CS_JF_INT_TEXT on an integer field given as text: 0 (*tmp set), 1 (blank) or -1. */
static int coerce_int_text(const json_t *v, const char *field, json_t **tmp, cs_error *err)
{
    const char *s = json_string_value(v);
    while (*s == ' ')
        s++;
    if (!*s) return 1;
    char *end;
    errno = 0;
    long long ll = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (errno || end == s || *end || strlen(json_string_value(v)) != json_string_length(v))
        return cs_error_field(err, field, CS_F_TYPE, "expected integer");
    *tmp = json_integer((json_int_t)ll);
    return *tmp ? 0 : no_memory(field, err);
}

/* The coercions of the CS_JF_* flags. 0 (the value to check is *tmp when set, else v),
 * 1 (counts as absent) or -1 (field error). On -1 and 1 *tmp is NULL. */
static int coerce(const json_t *v, const cs_jfield *f, const char *field, json_t **tmp,
                  cs_error *err)
{
    *tmp = NULL;
    int r = 0;
    if (f->type == CS_J_BOOLISH)
        r = coerce_boolish(v, field, tmp, err);
    else if ((f->flags & CS_JF_INT_TEXT) && f->type == CS_J_INT && json_is_string(v))
        r = coerce_int_text(v, field, tmp, err);
    else if ((f->flags & CS_JF_INT_TEXT) && f->type == CS_J_STRING && json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (!(*tmp = json_string(buf))) r = no_memory(field, err);
    }
    if (r || !(f->flags & CS_JF_CLEAN) || f->type != CS_J_STRING) return r;
    const json_t *s = *tmp ? *tmp : v;
    if (!json_is_string(s)) return 0; /* the type check names it */
    cs_code why = CS_OK;
    char *c = NULL;
    if (strlen(json_string_value(s)) != json_string_length(s))
        why = CS_F_FORMAT; /* NUL inside */
    else
        c = (f->flags & CS_JF_LINES) ? clean_lines(json_string_value(s), &why)
                                     : vn_text_clean(json_string_value(s), &why);
    json_decref(*tmp);
    *tmp = NULL;
    if (!c)
        return why == CS_E_NOMEM
                   ? no_memory(field, err)
                   : cs_error_field(err, field, why == CS_F_FORMAT ? CS_F_FORMAT : CS_F_UTF8, NULL);
    *tmp = json_string(c);
    cs_free(c);
    return *tmp ? 0 : no_memory(field, err);
}

/* Check one present value against its spec; writes outputs only when it passes. `coerced`:
 * v is a temporary made by coerce(), not the caller's JSON. */
static int check_plain(const json_t *v, const cs_jfield *f, const char *field, int coerced,
                       cs_error *err);

/* Check one present value: coercions first, then the checks. 0, 1 (counts as absent) or -1. */
static int check_value(const json_t *v, const cs_jfield *f, const char *field, cs_error *err)
{
    if (json_is_null(v)) return check_plain(v, f, field, 0, err);
    json_t *tmp;
    int r = coerce(v, f, field, &tmp, err);
    if (r == 1 && f->present) *f->present = 0;
    if (r) return r;
    r = check_plain(tmp ? tmp : v, f, field, tmp != NULL, err);
    json_decref(tmp);
    return r;
}

static int check_plain(const json_t *v, const cs_jfield *f, const char *field, int coerced,
                       cs_error *err)
{
    char d[64];
    if (json_is_null(v)) {
        if (!(f->flags & CS_JF_NULLABLE)) {
            snprintf(d, sizeof d, "expected %s, got null", type_name(f->type));
            return cs_error_field(err, field, CS_F_TYPE, d);
        }
        if (f->present) *f->present = 2;
        if (f->out && (f->type == CS_J_STRING)) *(const char **)f->out = NULL;
        if (f->out && (f->type == CS_J_OBJECT || f->type == CS_J_ARRAY || f->type == CS_J_ANY))
            *(const json_t **)f->out = NULL;
        return 0;
    }
    int ok = 1;
    switch (f->type) {
    case CS_J_STRING:
        ok = json_is_string(v);
        break;
    case CS_J_INT:
        ok = json_is_integer(v);
        break;
    case CS_J_BOOL:
        ok = json_is_boolean(v);
        break;
    case CS_J_NUMBER:
        ok = json_is_number(v);
        break;
    case CS_J_OBJECT:
        ok = json_is_object(v);
        break;
    case CS_J_ARRAY:
        ok = json_is_array(v);
        break;
    case CS_J_ANY:
        ok = 1;
        break;
    case CS_J_BOOLISH:
        ok = json_is_boolean(v);
        break;
    }
    if (!ok) {
        snprintf(d, sizeof d, "expected %s", type_name(f->type));
        return cs_error_field(err, field, CS_F_TYPE, d);
    }
    size_t before = err->nfields;
    switch (f->type) {
    case CS_J_STRING: {
        const char *s = json_string_value(v);
        size_t n = cs_utf8_len(s, json_string_length(v));
        if ((f->flags & CS_JF_CLEAN) && !n && f->min_len)
            return cs_error_field(err, field, CS_F_REQUIRED, NULL);
        if (f->max_len && n > f->max_len) {
            snprintf(d, sizeof d, "max %zu characters", f->max_len);
            return cs_error_field(err, field, CS_F_TOO_LONG, d);
        }
        if (n < f->min_len) {
            snprintf(d, sizeof d, "min %zu characters", f->min_len);
            return cs_error_field(err, field, CS_F_TOO_SHORT, d);
        }
        if (f->one_of) {
            int found = 0;
            for (const char *const *o = f->one_of; *o && !found; o++)
                found = !strcmp(*o, s);
            if (!found) return cs_error_field(err, field, CS_F_ENUM, NULL);
        }
        break;
    }
    case CS_J_INT: {
        json_int_t i = json_integer_value(v);
        if (f->min < f->max && (i < f->min || i > f->max)) {
            snprintf(d, sizeof d, "%lld..%lld", (long long)f->min, (long long)f->max);
            return cs_error_field(err, field, CS_F_RANGE, d);
        }
        break;
    }
    case CS_J_OBJECT:
        if (f->fields && check_members(v, f->fields, (f->flags & CS_JF_OPEN) != 0, field, err))
            return -1;
        break;
    case CS_J_ARRAY: {
        size_t n = json_array_size(v);
        if (f->max_len && n > f->max_len) {
            snprintf(d, sizeof d, "max %zu items", f->max_len);
            return cs_error_field(err, field, CS_F_TOO_LONG, d);
        }
        if (n < f->min_len) {
            snprintf(d, sizeof d, "min %zu items", f->min_len);
            return cs_error_field(err, field, CS_F_TOO_SHORT, d);
        }
        if (f->items) {
            size_t i;
            const json_t *m;
            char sub[256];
            int bad = 0;
            json_array_foreach(v, i, m)
            {
                snprintf(sub, sizeof sub, "%s[%zu]", field, i);
                if (check_value(m, f->items, sub, err) < 0) bad = 1;
            }
            if (bad) return -1;
        }
        break;
    }
    default:
        break;
    }
    if (f->check && f->check(field, v, f->check_arg, err)) {
        /* A check that forgot to name the field still must not pass silently. */
        if (err->nfields == before) return cs_error_field(err, field, CS_F_FORMAT, NULL);
        if (err->code == CS_OK) err->code = CS_E_VALIDATION;
        return -1;
    }
    if (f->present) *f->present = 1;
    if (f->out) {
        switch (f->type) {
        case CS_J_STRING:
            if (!coerced) *(const char **)f->out = json_string_value(v);
            break;
        case CS_J_INT:
            *(int64_t *)f->out = (int64_t)json_integer_value(v);
            break;
        case CS_J_BOOL:
        case CS_J_BOOLISH:
            *(int *)f->out = json_is_true(v);
            break;
        case CS_J_NUMBER:
            *(double *)f->out = json_number_value(v);
            break;
        case CS_J_OBJECT:
        case CS_J_ARRAY:
        case CS_J_ANY:
            *(const json_t **)f->out = v;
            break;
        }
    }
    return 0;
}

static int check_members(const json_t *obj, const cs_jfield *spec, int open, const char *prefix,
                         cs_error *err)
{
    int bad = 0;
    char field[256];
    for (const cs_jfield *f = spec; f->name; f++) {
        path_join(field, sizeof field, prefix, f->name);
        const json_t *v = json_object_get(obj, f->name);
        if (v && json_is_null(v) && (f->flags & CS_JF_NULL_ABSENT)) v = NULL;
        if (v && (f->flags & CS_JF_EMPTY_ABSENT) && json_is_string(v) && !json_string_length(v))
            v = NULL;
        int r = v ? check_value(v, f, field, err) : 1;
        if (r < 0) bad = 1;
        if (r == 1) {
            if (f->present) *f->present = 0;
            if (f->flags & CS_JF_REQUIRED) bad = cs_error_field(err, field, CS_F_REQUIRED, NULL);
        }
    }
    if (!open) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
            int known = 0;
            for (const cs_jfield *f = spec; f->name && !known; f++)
                known = !strcmp(f->name, k);
            if (!known) {
                path_join(field, sizeof field, prefix, k);
                bad = cs_error_field(err, field, CS_F_UNKNOWN, NULL);
            }
        }
    }
    return bad ? -1 : 0;
}

int cs_json_check(const json_t *obj, const cs_jfield *spec, cs_error *err)
{
    if (!json_is_object(obj)) return cs_error_set(err, CS_E_BAD_JSON, "expected a JSON object");
    if (check_members(obj, spec, 0, "", err)) {
        if (err->code == CS_OK) err->code = CS_E_VALIDATION;
        return -1;
    }
    return 0;
}

const cs_jfield cs_jspec_empty[] = {{.name = NULL}};
