/* core/jsonv: loosely typed JSON field readers shared by households, products and imports. */
#include "core/jsonv.h"
#include "core/mem.h"
#include "core/vn.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cs_jv_only(json_t *in, const char *const *allowed, cs_error *err)
{
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(in, k, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp(*a, k)) ok = 1;
        if (!ok) rc = cs_error_field(err, k, CS_F_UNKNOWN, NULL);
    }
    return rc;
}

int cs_jv_text(json_t *in, const char *key, int allow_number, char **out, cs_error *err)
{
    *out = NULL;
    json_t *v = json_object_get(in, key);
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        *out = cs_strndup(json_string_value(v), json_string_length(v));
        if (!*out) return cs_error_set(err, CS_E_NOMEM, NULL);
        if (strlen(*out) != json_string_length(v)) { /* embedded NUL */
            cs_free(*out);
            *out = NULL;
            return cs_error_field(err, key, CS_F_FORMAT, NULL);
        }
        return 1;
    }
    if (allow_number && json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = cs_strdup(buf);
        return *out ? 1 : cs_error_set(err, CS_E_NOMEM, NULL);
    }
    return cs_error_field(err, key, CS_F_TYPE, "string");
}

int cs_jv_bool(json_t *in, const char *key, int *out, cs_error *err)
{
    json_t *v = json_object_get(in, key);
    if (!v || json_is_null(v)) return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = (int)json_integer_value(v);
        return 1;
    }
    if (json_is_string(v)) {
        char *f = vn_fold(json_string_value(v));
        if (!f) return cs_error_field(err, key, CS_F_UTF8, NULL);
        static const char *yes[] = {"co", "x", "yes", "y", "true", "1", "dong y", NULL};
        static const char *no[] = {"khong", "no", "n", "false", "0", NULL};
        int r = -1;
        if (!*f) r = 0;
        for (int i = 0; r < 0 && yes[i]; i++)
            if (!strcmp(f, yes[i])) *out = 1, r = 1;
        for (int i = 0; r < 0 && no[i]; i++)
            if (!strcmp(f, no[i])) *out = 0, r = 1;
        cs_free(f);
        if (r >= 0) return r;
        return cs_error_field(err, key, CS_F_ENUM, "có/không");
    }
    return cs_error_field(err, key, CS_F_TYPE, "boolean");
}

int cs_jv_int(json_t *in, const char *key, int64_t min, int64_t max, int64_t *out, cs_error *err)
{
    json_t *v = json_object_get(in, key);
    if (!v || json_is_null(v)) return 0;
    int64_t x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s == ' ') s++;
        if (!*s) return 0; /* an empty spreadsheet cell is an absent value */
        char *end;
        errno = 0;
        long long ll = strtoll(s, &end, 10);
        while (*end == ' ') end++;
        if (errno || end == s || *end) return cs_error_field(err, key, CS_F_TYPE, "integer");
        x = ll;
    } else {
        return cs_error_field(err, key, CS_F_TYPE, "integer");
    }
    if (x < min || x > max) {
        char d[80];
        snprintf(d, sizeof d, "%lld..%lld", (long long)min, (long long)max);
        return cs_error_field(err, key, CS_F_RANGE, d);
    }
    *out = x;
    return 1;
}
