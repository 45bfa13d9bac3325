/* service/router: finds the route for a method and path, segment by segment, and extracts the
 * path parameters. Knows nothing of MHD or the database. */
#include "service/router.h"
#include "core/mem.h"
#include <stdio.h>
#include <string.h>

/* Extra routes (tests register theirs before starting the server). */
static svc_route *extra;
static size_t nextra;

int svc_router_add(const svc_route *route)
{
    svc_route *n = cs_realloc(extra, (nextra + 1) * sizeof *n);
    if (!n) return -1;
    extra = n;
    extra[nextra++] = *route;
    return 0;
}

void svc_router_clear_extra(void)
{
    cs_free(extra);
    extra = NULL;
    nextra = 0;
}

void svc_routes_foreach(int (*fn)(const svc_route *route, void *arg), void *arg)
{
    for (size_t i = 0; i < svc_routes_count; i++)
        if (fn(&svc_routes[i], arg)) return;
    for (size_t i = 0; i < nextra; i++)
        if (fn(&extra[i], arg)) return;
}

unsigned svc_method_bit(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } t[] = {{"GET", SVC_M_GET},        {"HEAD", SVC_M_HEAD},   {"POST", SVC_M_POST},
             {"PUT", SVC_M_PUT},        {"PATCH", SVC_M_PATCH}, {"DELETE", SVC_M_DELETE},
             {"OPTIONS", SVC_M_OPTIONS}};
    for (size_t i = 0; m && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, m)) return t[i].bit;
    return 0;
}

void svc_allow_string(unsigned allow, char *out, size_t n)
{
    static const char *names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (allow & (1u << i)) {
            int w = snprintf(out + o, n - o, "%s%s", o ? ", " : "", names[i]);
            if (w < 0 || (size_t)w >= n - o) return;
            o += (size_t)w;
        }
}

/* Every path parameter of every route is an identifier (household code, numeric id, sha256,
 * marketplace name, year, metric, a web file name): printable ASCII, never long. A segment with
 * any other byte (non-ASCII text, invalid UTF-8 from %ff, an overlong %c0%af, a control
 * character, a right-to-left override) cannot name anything, so it does not match: the request
 * is a 404 here, once for all routes, and never reaches a handler or the database (where
 * MariaDB would refuse the bytes with error 1366 and the client would see a 503). A space is
 * let through: owners type their household code as they read it ("th 2026 00037") and the
 * status handler normalises it. */
#define SVC_PARAM_MAX 128
static int param_ok(const char *s, size_t n, int rest)
{
    if (n > SVC_PARAM_MAX && !rest) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return 0;
    return 1;
}

/* Match `path` against `pattern` segment by segment. Returns -1 no match, otherwise a score
 * (count of literal segments, higher is more specific). Params are recorded in m only when
 * `record` (m->nparams counts them). */
static int match_pattern(const char *pattern, const char *path, svc_match *m, int record)
{
    const char *p = pattern, *s = path;
    int score = 0;
    if (*p != '/' || *s != '/') return -1;
    while (*p == '/' && *s == '/') {
        p++, s++;
        const char *pe = strchr(p, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        const char *se = strchr(s, '/');
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            int rest = pl >= 3 && p[pl - 2] == '*';
            if (rest) sl = strlen(s); /* takes the remainder, slashes included */
            if (!sl) return -1;       /* a parameter is never empty */
            if (!param_ok(s, sl, rest)) return -1;
            if (record) {
                if (m->nparams >= SVC_MAX_PARAMS) return -1;
                size_t nl = pl - 2 - (size_t)rest;
                if (nl >= sizeof m->params[0].name) nl = sizeof m->params[0].name - 1;
                memcpy(m->params[m->nparams].name, p + 1, nl);
                m->params[m->nparams].name[nl] = '\0';
                m->params[m->nparams].value = cs_strndup(s, sl);
                if (!m->params[m->nparams].value) return -2;
                m->nparams++;
            }
            if (rest) return pe ? -1 : score;
        } else {
            if (pl != sl || memcmp(p, s, pl)) return -1;
            score++;
        }
        p += pl, s += sl;
    }
    return (*p == '\0' && *s == '\0') ? score : -1;
}

struct best {
    const char *method;
    const char *path;
    unsigned mbit;
    const svc_route *route;
    int score;
    unsigned allow;
};

static int consider(const svc_route *rt, void *arg)
{
    struct best *b = arg;
    int sc = match_pattern(rt->pattern, b->path, NULL, 0);
    if (sc < 0) return 0;
    unsigned bit = svc_method_bit(rt->method);
    b->allow |= bit;
    if (bit == SVC_M_GET) b->allow |= SVC_M_HEAD;
    int same = bit == b->mbit || (b->mbit == SVC_M_HEAD && bit == SVC_M_GET);
    if (same && sc > b->score) {
        b->route = rt;
        b->score = sc;
    }
    return 0;
}

int svc_match_route(const char *method, const char *path, svc_match *m)
{
    memset(m, 0, sizeof *m);
    struct best b = {method, path, svc_method_bit(method), NULL, -1, 0};
    svc_routes_foreach(consider, &b);
    if (!b.route) {
        m->allow = b.allow;
        return 0;
    }
    if (match_pattern(b.route->pattern, path, m, 1) == -2) {
        svc_match_free(m);
        return -1;
    }
    m->route = b.route;
    return 0;
}

void svc_match_free(svc_match *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        cs_free(m->params[i].value);
    m->nparams = 0;
    m->route = NULL;
}
