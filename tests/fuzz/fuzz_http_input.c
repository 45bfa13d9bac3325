/* tests/fuzz/fuzz_http_input: the request bytes the HTTP framework parses before any handler —
 * JSON bodies (cs_json_parse, with invalid UTF-8 located by field), the declarative field
 * checks (cs_json_check over nested objects and arrays), and route matching of a path.
 * The first input byte picks what the rest is. libFuzzer: build with -fsanitize=fuzzer
 * -DCHOSO_LIBFUZZER. Otherwise main() replays the files (or directories) given — by default
 * tests/fuzz/corpus/http_input — so the corpus runs in every test pass. */
#include "tests/support/fuzz_replay.h"
#include "core/mem.h"
#include "core/jspec.h"
#include "service/router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cs_jfield inner[] = {
    {.name = "street",
     .type = CS_J_STRING,
     .flags = CS_JF_REQUIRED | CS_JF_NULLABLE,
     .max_len = 20},
    {.name = "n", .type = CS_J_INT, .min = -5, .max = 5},
    {.name = NULL},
};
static const cs_jfield item = {.type = CS_J_OBJECT, .fields = inner};
static const char *const kinds[] = {"xa", "phuong", NULL};
static const cs_jfield spec[] = {
    {.name = "name", .type = CS_J_STRING, .flags = CS_JF_REQUIRED, .min_len = 1, .max_len = 8},
    {.name = "kind", .type = CS_J_STRING, .one_of = kinds},
    {.name = "ok", .type = CS_J_BOOL},
    {.name = "price", .type = CS_J_NUMBER},
    {.name = "address", .type = CS_J_OBJECT, .fields = inner},
    {.name = "items", .type = CS_J_ARRAY, .max_len = 4, .items = &item},
    {.name = "extra", .type = CS_J_OBJECT, .flags = CS_JF_OPEN},
    {.name = "any", .type = CS_J_ANY},
    {.name = NULL},
};

static void check_error(const cs_error *e)
{
    if (e->code == CS_OK) abort();
    if (e->nfields > CS_MAX_FIELD_ERRORS) abort();
    for (size_t i = 0; i < e->nfields; i++) {
        if (!memchr(e->fields[i].field, 0, sizeof e->fields[i].field)) abort();
        if (!e->fields[i].field[0]) abort(); /* every field error names its field */
    }
    if (!memchr(e->detail, 0, sizeof e->detail)) abort();
}

static const svc_route routes[] = {
    {"GET", "/f/households/{code}", NULL, 0, SVC_R_INTERNAL},
    {"GET", "/f/households/export", NULL, 0, SVC_R_INTERNAL},
    {"POST", "/f/households/{code}/pin", NULL, 0, SVC_R_INTERNAL},
    {"GET", "/f/web/{rest*}", NULL, 0, SVC_R_INTERNAL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    cs_error e;
    cs_error_clear(&e);
    if (data[0] & 1) {
        static int added;
        if (!added) {
            for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
                svc_router_add(&routes[i]);
            added = 1;
        }
        char *path = cs_strndup(body, n);
        if (!path) return 0;
        svc_match m;
        const char *method = (data[0] & 2) ? "GET" : "POST";
        if (svc_match_route(method, path, &m) == 0) {
            if (m.route && m.allow) abort();
            for (size_t i = 0; i < m.nparams; i++)
                if (!m.params[i].value || !m.params[i].value[0] || !strstr(path, m.params[i].value))
                    abort();
            svc_match_free(&m);
        }
        cs_free(path);
        return 0;
    }
    json_t *j = cs_json_parse(body, n, &e);
    if (!j) {
        check_error(&e);
        if (e.code != CS_E_BAD_JSON && e.code != CS_E_BAD_UTF8) abort();
        if (e.code == CS_E_BAD_UTF8 && cs_utf8_valid(body, n)) abort();
        return 0;
    }
    if (!cs_utf8_valid(body, n)) abort(); /* accepted bytes are UTF-8 */
    if (cs_json_check(j, spec, &e))
        check_error(&e);
    else if (e.code != CS_OK || e.nfields)
        abort();
    json_decref(j);
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_http_input", "tests/fuzz/corpus/http_input",
                            LLVMFuzzerTestOneInput);
}
#endif
