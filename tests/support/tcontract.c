/* tests/support/tcontract: responses against the documented OpenAPI schemas (see tcontract.h).
 * Knows the schema keywords the spec uses: $ref, allOf, type (one or a list), const, enum,
 * pattern, minimum, maximum, maxItems, required, properties, items. Test code only. */
#include "tests/support/tcontract.h"
#include "core/config.h"
#include "tests/support/tyaml.h"
#include <ctype.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

static json_t *spec;
static unsigned checked;

static int load(char *err, size_t n)
{
    if (spec) return 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/openapi.yaml", cs_cfg_str("schema.dir"));
    spec = tyaml_load_file(path, err, n);
    return spec ? 0 : -1;
}

void tcontract_free(void)
{
    json_decref(spec);
    spec = NULL;
}

unsigned tcontract_count(void)
{
    return checked;
}

/* Follow "$ref": "#/a/b" (borrowed result; NULL when it points nowhere). */
static json_t *resolve(json_t *node)
{
    for (int hops = 0; hops < 16 && json_is_object(node); hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (!ref) return node;
        if (strncmp(ref, "#/", 2)) return NULL;
        json_t *cur = spec;
        char part[128];
        for (const char *p = ref + 2; *p;) {
            const char *e = strchr(p, '/');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            snprintf(part, sizeof part, "%.*s", (int)l, p);
            cur = json_object_get(cur, part);
            if (!cur) return NULL;
            p = e ? e + 1 : p + l;
        }
        node = cur;
    }
    return node;
}

static json_t *flatten(json_t *schema);

/* Merge flattened `src` into `dst` (required: union; properties: merged per member). */
static void merge(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v)
    {
        if (!strcmp(k, "required")) {
            json_t *req = json_object_get(dst, "required");
            if (!req) json_object_set_new(dst, "required", req = json_array());
            size_t i;
            json_t *r;
            json_array_foreach(v, i, r)
            {
                int have = 0;
                size_t j;
                json_t *x;
                json_array_foreach(req, j, x) have |= json_equal(x, r);
                if (!have) json_array_append(req, r);
            }
        } else if (!strcmp(k, "properties")) {
            json_t *props = json_object_get(dst, "properties");
            if (!props) json_object_set_new(dst, "properties", props = json_object());
            const char *pk;
            json_t *pv;
            json_object_foreach(v, pk, pv)
            {
                json_t *old = json_object_get(props, pk);
                if (!old) {
                    json_object_set(props, pk, pv);
                } else {
                    json_t *a = flatten(old), *b = flatten(pv);
                    merge(a, b);
                    json_decref(b);
                    json_object_set_new(props, pk, a);
                }
            }
        } else if (strcmp(k, "allOf") && strcmp(k, "$ref")) {
            json_object_set(dst, k, v);
        }
    }
}

/* A schema with $ref and allOf resolved into one object (new reference). */
static json_t *flatten(json_t *schema)
{
    json_t *s = resolve(schema);
    json_t *out = json_object();
    if (!json_is_object(s)) return out;
    json_t *all = json_object_get(s, "allOf");
    size_t i;
    json_t *part;
    json_array_foreach(all, i, part)
    {
        json_t *f = flatten(part);
        merge(out, f);
        json_decref(f);
    }
    merge(out, s);
    return out;
}

static int type_is(const json_t *v, const char *t)
{
    if (!strcmp(t, "string")) return json_is_string(v);
    if (!strcmp(t, "integer")) return json_is_integer(v);
    if (!strcmp(t, "number")) return json_is_number(v);
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "object")) return json_is_object(v);
    if (!strcmp(t, "array")) return json_is_array(v);
    if (!strcmp(t, "null")) return json_is_null(v);
    return 0;
}

static int bad(char *err, size_t n, const char *path, const char *what, const json_t *v)
{
    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(err, n, "%s: %s (got %.120s)", *path ? path : "(body)", what, t ? t : "?");
    free(t);
    return -1;
}

static int check(json_t *schema, json_t *v, const char *path, char *err, size_t n)
{
    json_t *s = flatten(schema);
    int rc = 0;
    json_t *type = json_object_get(s, "type");
    if (type) {
        int ok = 0;
        if (json_is_string(type)) ok = type_is(v, json_string_value(type));
        size_t i;
        json_t *t;
        json_array_foreach(type, i, t) ok |= type_is(v, json_string_value(t));
        if (!ok) {
            rc = bad(err, n, path, "wrong type", v);
            goto out;
        }
    }
    if (json_is_null(v)) goto out;
    json_t *c = json_object_get(s, "const");
    if (c && !json_equal(c, v) &&
        !(json_is_string(c) && json_is_string(v) &&
          !strcmp(json_string_value(c), json_string_value(v)))) {
        rc = bad(err, n, path, "not the documented constant", v);
        goto out;
    }
    json_t *en = json_object_get(s, "enum");
    if (en) {
        int ok = 0;
        size_t i;
        json_t *e;
        json_array_foreach(en, i, e) ok |= json_equal(e, v);
        if (!ok) {
            rc = bad(err, n, path, "not one of the documented values", v);
            goto out;
        }
    }
    const char *pat = json_string_value(json_object_get(s, "pattern"));
    if (pat && json_is_string(v)) {
        regex_t re;
        if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0) {
            int m = regexec(&re, json_string_value(v), 0, NULL, 0);
            regfree(&re);
            if (m) {
                rc = bad(err, n, path, "does not match the documented pattern", v);
                goto out;
            }
        }
    }
    if (json_is_integer(v)) {
        json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
        if ((mn && json_integer_value(v) < json_integer_value(mn)) ||
            (mx && json_integer_value(v) > json_integer_value(mx))) {
            rc = bad(err, n, path, "out of the documented range", v);
            goto out;
        }
    }
    if (json_is_object(v)) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(s, "required"), i, r)
        {
            if (!json_object_get(v, json_string_value(r))) {
                char what[128];
                snprintf(what, sizeof what, "required member '%s' missing", json_string_value(r));
                rc = bad(err, n, path, what, v);
                goto out;
            }
        }
        json_t *props = json_object_get(s, "properties");
        if (props) {
            const char *k;
            json_t *mv;
            json_object_foreach(v, k, mv)
            {
                char sub[512];
                snprintf(sub, sizeof sub, "%s.%s", path, k);
                json_t *ps = json_object_get(props, k);
                if (!ps) {
                    rc = bad(err, n, sub, "member not documented", mv);
                    goto out;
                }
                if ((rc = check(ps, mv, sub, err, n))) goto out;
            }
        }
    }
    if (json_is_array(v)) {
        json_t *mx = json_object_get(s, "maxItems");
        if (mx && json_array_size(v) > (size_t)json_integer_value(mx)) {
            rc = bad(err, n, path, "more items than documented", v);
            goto out;
        }
        json_t *items = json_object_get(s, "items");
        size_t i;
        json_t *it;
        if (items) json_array_foreach(v, i, it)
            {
                char sub[512];
                snprintf(sub, sizeof sub, "%s[%zu]", path, i);
                if ((rc = check(items, it, sub, err, n))) goto out;
            }
    }
out:
    json_decref(s);
    return rc;
}

int tcontract_check(const char *method, const char *pattern, long status, const char *ctype,
                    const char *body, size_t len, char *err, size_t errsz)
{
    if (load(err, errsz)) return -1;
    char m[16];
    size_t i;
    for (i = 0; method[i] && i < sizeof m - 1; i++)
        m[i] = (char)tolower((unsigned char)method[i]);
    m[i] = '\0';
    json_t *op = json_object_get(json_object_get(json_object_get(spec, "paths"), pattern), m);
    if (!op) {
        snprintf(err, errsz, "%s %s: no such operation in openapi.yaml", method, pattern);
        return -1;
    }
    char st[8];
    snprintf(st, sizeof st, "%ld", status);
    json_t *responses = json_object_get(op, "responses");
    json_t *resp = json_object_get(responses, st);
    if (!resp) resp = json_object_get(responses, "default");
    if (!resp) {
        snprintf(err, errsz, "%s %s: status %ld is not documented", method, pattern, status);
        return -1;
    }
    resp = resolve(resp);
    json_t *content = json_object_get(resp, "content");
    checked++;
    if (!content) {
        if (len) {
            snprintf(err, errsz, "%s %s %ld: a body where none is documented", method, pattern,
                     status);
            return -1;
        }
        return 0;
    }
    char mt[128] = "";
    if (ctype) {
        size_t l = strcspn(ctype, ";");
        while (l && ctype[l - 1] == ' ')
            l--;
        snprintf(mt, sizeof mt, "%.*s", (int)l, ctype);
    }
    json_t *media = json_object_get(content, mt);
    if (!media) {
        snprintf(err, errsz, "%s %s %ld: Content-Type '%s' is not documented", method, pattern,
                 status, mt);
        return -1;
    }
    size_t ml = strlen(mt);
    if (ml < 4 || strcmp(mt + ml - 4, "json")) return 0; /* bytes: nothing more to check */
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY, &je);
    if (!v) {
        snprintf(err, errsz, "%s %s %ld: body is not JSON: %s", method, pattern, status, je.text);
        return -1;
    }
    char where[300];
    snprintf(where, sizeof where, "%s %s %ld: ", method, pattern, status);
    size_t wl = strlen(where);
    int rc = check(json_object_get(media, "schema"), v, "", err + (wl < errsz ? wl : 0),
                   wl < errsz ? errsz - wl : 0);
    if (rc && wl < errsz) memcpy(err, where, wl);
    json_decref(v);
    return rc;
}
