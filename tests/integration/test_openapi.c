/* The contract test: the routing table (service/routes.c) and the paths of
 * schemas/openapi.yaml must describe the same routes, both ways. The YAML is read with a small
 * line scanner whose layout rules are written at the top of openapi.yaml. No database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/buf.h"
#include "core/config.h"
#include "core/mem.h"
#include "service/router.h"
#include "tests/support/tsup.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_OPS 512

typedef struct op {
    char method[8]; /* upper case */
    char path[160];
} op;

typedef struct spec {
    op ops[MAX_OPS];
    size_t n;
    char problem[256]; /* first layout error, "" when none */
} spec;

static const char *const methods[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};

static size_t indent(const char *l)
{
    size_t n = 0;
    while (l[n] == ' ')
        n++;
    return n;
}

/* Scan YAML text for `paths:` entries. Returns 0, or -1 with s->problem naming the line. */
static int scan(const char *text, spec *s)
{
    memset(s, 0, sizeof *s);
    int in_paths = 0;
    char cur[160] = "";
    unsigned lineno = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        p = eol ? eol + 1 : NULL;
        lineno++;
        size_t L = strlen(line);
        while (L && (line[L - 1] == '\r' || line[L - 1] == ' '))
            line[--L] = '\0';
        if (!L || line[indent(line)] == '#') continue;
        if (strchr(line, '\t')) {
            snprintf(s->problem, sizeof s->problem, "line %u: tab in indentation", lineno);
            return -1;
        }
        size_t ind = indent(line);
        if (ind == 0) {
            in_paths = !strcmp(line, "paths:");
            continue;
        }
        if (!in_paths) continue;
        if (ind == 2) {
            if (line[2] != '/' || line[L - 1] != ':') {
                snprintf(s->problem, sizeof s->problem,
                         "line %u: a path must be `  /unquoted/path:` (two spaces, ends with ':')",
                         lineno);
                return -1;
            }
            snprintf(cur, sizeof cur, "%.*s", (int)(L - 3), line + 2);
            continue;
        }
        if (ind == 4 && line[L - 1] == ':') {
            char key[32];
            snprintf(key, sizeof key, "%.*s", (int)(L - 5 < sizeof key ? L - 5 : sizeof key - 1),
                     line + 4);
            int is_method = 0;
            for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
                is_method |= !strcmp(key, methods[i]);
            if (!is_method) continue; /* parameters:, summary:, … */
            if (!cur[0] || s->n == MAX_OPS) {
                snprintf(s->problem, sizeof s->problem, "line %u: method outside a path", lineno);
                return -1;
            }
            op *o = &s->ops[s->n++];
            for (size_t i = 0; key[i] && i < sizeof o->method - 1; i++)
                o->method[i] = (char)toupper((unsigned char)key[i]);
            snprintf(o->path, sizeof o->path, "%s", cur);
        }
    }
    return 0;
}

static int in_spec(const spec *s, const char *method, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ops[i].method, method) && !strcmp(s->ops[i].path, path)) return 1;
    return 0;
}

struct cmp {
    const spec *s;
    cs_buf missing; /* routes without a documented operation */
};

static int route_check(const svc_route *r, void *arg)
{
    struct cmp *c = arg;
    if (r->flags & SVC_R_INTERNAL) return 0;
    if (!in_spec(c->s, r->method, r->pattern))
        cs_buf_printf(&c->missing, "  %s %s\n", r->method, r->pattern);
    return 0;
}

struct find {
    const op *o;
    int found;
};

static int route_find(const svc_route *r, void *arg)
{
    struct find *f = arg;
    if (!(r->flags & SVC_R_INTERNAL) && !strcmp(r->method, f->o->method) &&
        !strcmp(r->pattern, f->o->path))
        f->found = 1;
    return f->found;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    cs_buf b;
    cs_buf_init(&b, (size_t)8 << 20);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (cs_buf_append(&b, chunk, n)) break;
    fclose(f);
    return cs_buf_steal(&b);
}

static void test_scanner_rules(void **state)
{
    (void)state;
    spec *s = cs_malloc(sizeof *s);
    const char good[] = "openapi: 3.1.0\n"
                        "paths:\n"
                        "  # a comment\n"
                        "  /a/{id}:\n"
                        "    parameters:\n"
                        "      - name: id\n"
                        "    get:\n"
                        "      responses:\n"
                        "        '200':\n"
                        "          description: ok\n"
                        "    patch:\n"
                        "      summary: x\n"
                        "  /b:\n"
                        "    post:\n"
                        "components:\n"
                        "  /not/a/path:\n"
                        "    get:\n";
    assert_int_equal(scan(good, s), 0);
    assert_int_equal(s->n, 3);
    assert_true(in_spec(s, "GET", "/a/{id}"));
    assert_true(in_spec(s, "PATCH", "/a/{id}"));
    assert_true(in_spec(s, "POST", "/b"));
    assert_false(in_spec(s, "GET", "/not/a/path"));
    assert_int_equal(scan("paths:\n  '/quoted':\n    get:\n", s), -1);
    assert_non_null(strstr(s->problem, "line 2"));
    assert_int_equal(scan("paths:\n\t/tab:\n", s), -1);
    cs_free(s);
}

static void test_routes_match_openapi(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/openapi.yaml", cs_cfg_str("schema.dir"));
    char *text = read_all(path);
    if (!text) fail_msg("cannot read %s (schema.dir / CHOSO_SCHEMA_DIR)", path);
    spec *s = cs_malloc(sizeof *s);
    assert_non_null(s);
    if (scan(text, s)) fail_msg("%s: %s", path, s->problem);
    cs_free(text);
    assert_true(in_spec(s, "GET", "/healthz")); /* the scanner found the paths at all */

    struct cmp c = {s, {0}};
    cs_buf_init(&c.missing, 0);
    svc_routes_foreach(route_check, &c);
    cs_buf extra;
    cs_buf_init(&extra, 0);
    for (size_t i = 0; i < s->n; i++) {
        struct find f = {&s->ops[i], 0};
        svc_routes_foreach(route_find, &f);
        if (!f.found) cs_buf_printf(&extra, "  %s %s\n", s->ops[i].method, s->ops[i].path);
    }
    int bad = c.missing.len || extra.len;
    if (c.missing.len) fprintf(stderr, "routes missing from %s:\n%s", path, c.missing.data);
    if (extra.len) fprintf(stderr, "operations in %s with no route:\n%s", path, extra.data);
    cs_buf_free(&c.missing);
    cs_buf_free(&extra);
    cs_free(s);
    if (bad) fail_msg("service/routes.c and schemas/openapi.yaml disagree (listed above)");
}

int main(void)
{
    tsup_load_config();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner_rules),
        cmocka_unit_test(test_routes_match_openapi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
