/* service/api: rules every /v1 resource handler shares — commune scope, how much personal data
 * a role sees, ETag/If-Match, paging. No SQL here; the handlers and core/ do the work. */
#include "service/api.h"
#include "core/mem.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cs_pii svc_api_pii_list(const svc_req *r)
{
    /* monitors (provincial staff): no personal data at all, names and ages included */
    return r->actor.role == SVC_ROLE_ADMIN || r->actor.role == SVC_ROLE_VOLUNTEER ? CS_PII_MASKED
                                                                                  : CS_PII_ANON;
}

int svc_api_scope(const svc_req *r, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (r->actor.role != SVC_ROLE_VOLUNTEER) return 0;
    /* one extra slot so a volunteer with no communes still gets a non-NULL (empty) scope */
    const char **a = cs_calloc(r->actor.ncommunes + 1, sizeof *a);
    if (!a) return -1;
    for (size_t i = 0; i < r->actor.ncommunes; i++)
        a[i] = r->actor.communes[i];
    *out = a;
    *n = r->actor.ncommunes;
    return 0;
}

/* "v12" or W/"v12" (quotes optional) → 12; -1 when it is not that shape. */
static long long parse_etag(const char *s)
{
    while (*s == ' ')
        s++;
    if (!strncmp(s, "W/", 2)) s += 2;
    int quoted = *s == '"';
    if (quoted) s++;
    if (*s != 'v') return -1;
    s++;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || v < 0 || v > 4294967295LL) return -1;
    if (quoted && *end++ != '"') return -1;
    while (*end == ' ')
        end++;
    return *end ? -1 : v;
}

int svc_api_if_match(svc_req *r, unsigned *version)
{
    const char *h = svc_header(r, "If-Match");
    if (!h || !*h) {
        svc_reply_error(r, CS_E_PRECONDITION_REQUIRED, "If-Match: \"v<version>\"");
        return -1;
    }
    long long v = parse_etag(h);
    if (v < 0) {
        svc_reply_error(r, CS_E_PRECONDITION, "If-Match must be an ETag of this resource");
        return -1;
    }
    *version = (unsigned)v;
    return 0;
}

int svc_api_etag(svc_req *r, unsigned version)
{
    char tag[24];
    snprintf(tag, sizeof tag, "\"v%u\"", version);
    return svc_add_header(r, "ETag", tag);
}

int svc_api_not_modified(const svc_req *r, unsigned version)
{
    const char *h = svc_header(r, "If-None-Match");
    if (!h) return 0;
    if (!strcmp(h, "*")) return 1;
    /* a list of tags: any one equal is a match */
    char *copy = cs_strdup(h), *save = NULL;
    if (!copy) return 0;
    int hit = 0;
    for (char *t = strtok_r(copy, ",", &save); t && !hit; t = strtok_r(NULL, ",", &save))
        hit = parse_etag(t) == (long long)version;
    cs_free(copy);
    return hit;
}

int64_t svc_api_param_id(const svc_req *r, const char *name)
{
    const char *s = svc_param(r, name);
    if (!s || !*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s)) return 0;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    return errno || v <= 0 ? 0 : (int64_t)v;
}

int svc_api_page(svc_req *r, int64_t *after, int *limit)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t l = 50;
    svc_query_int(r, "after", 0, 0, INT64_MAX, after, &err);
    svc_query_int(r, "limit", 50, 1, 200, &l, &err);
    if (cs_error_failed(&err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    *limit = (int)l;
    return 0;
}

int svc_api_query_bool(const svc_req *r, const char *name, int *out, cs_error *err)
{
    const char *v = svc_query(r, name);
    *out = -1;
    if (!v) return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = 0;
    else
        return cs_error_field(err, name, CS_F_ENUM, "true|false");
    return 0;
}

int svc_api_query_enum(const svc_req *r, const char *name, const char *const *allowed,
                       const char **out, cs_error *err)
{
    const char *v = svc_query(r, name);
    *out = NULL;
    if (!v) return 0;
    char list[200];
    size_t o = 0;
    list[0] = '\0';
    for (const char *const *a = allowed; *a; a++) {
        if (!strcmp(*a, v)) {
            *out = v;
            return 0;
        }
        int w = snprintf(list + o, sizeof list - o, "%s%s", o ? "|" : "", *a);
        if (w > 0 && (size_t)w < sizeof list - o) o += (size_t)w;
    }
    return cs_error_field(err, name, CS_F_ENUM, list);
}

int svc_api_query_token(const svc_req *r, const char *name, const char *set, size_t maxlen,
                        const char **out, cs_error *err)
{
    const char *v = svc_query(r, name);
    *out = NULL;
    if (!v) return 0;
    size_t n = strlen(v);
    if (!n || n > maxlen || strspn(v, set) != n)
        return cs_error_field(err, name, CS_F_FORMAT, NULL);
    *out = v;
    return 0;
}

int svc_api_reply_page(svc_req *r, json_t *items, int64_t next_cursor)
{
    char cur[24];
    snprintf(cur, sizeof cur, "%lld", (long long)next_cursor);
    json_t *o = json_object();
    if (!o || !items) {
        json_decref(o);
        json_decref(items);
        return svc_reply_error(r, CS_E_NOMEM, NULL);
    }
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "next_cursor", next_cursor ? json_string(cur) : json_null());
    return svc_reply_json(r, 200, o);
}
