/* cli/cmd_json: `choso json` — picks fields out of one JSON document on standard input as
 * tab-separated lines, so shell scripts (scripts/run-demo) read our API's answers without jq or
 * python. Pure text in, text out: no configuration, no database, no network. */
#include "core/buf.h"
#include "core/errors.h"
#include "cli/cli.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value at a dotted path under v (borrowed), or NULL. Numeric parts index arrays. */
static json_t *at_path(json_t *v, const char *path)
{
    if (!strcmp(path, ".")) return v;
    const char *p = path;
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char part[256];
        if (!n || n >= sizeof part) return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        if (json_is_object(v)) {
            v = json_object_get(v, part);
        } else if (json_is_array(v)) {
            char *end;
            unsigned long k = strtoul(part, &end, 10);
            v = *end || part[0] == '-' ? NULL : json_array_get(v, k);
        } else {
            v = NULL;
        }
        p = dot ? dot + 1 : p + n;
    }
    return v;
}

/* One value as text appended to out: see json_help. 0 or -1 (cap or memory). */
static int put_value(cs_buf *out, const json_t *v)
{
    if (!v || json_is_null(v)) return 0;
    if (json_is_true(v)) return cs_buf_putc(out, '1');
    if (json_is_false(v)) return cs_buf_putc(out, '0');
    if (json_is_integer(v)) return cs_buf_printf(out, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v)) return cs_buf_printf(out, "%.17g", json_real_value(v));
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            /* a tab or line break inside a value would split the shell's fields and lines */
            if (cs_buf_putc(out, c == '\t' || c == '\n' || c == '\r' || c == '\0' ? ' ' : c))
                return -1;
        }
        return 0;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return -1;
    int rc = cs_buf_puts(out, s);
    free(s);
    return rc;
}

static int put_line(cs_buf *out, json_t *v, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((i && cs_buf_putc(out, '\t')) || put_value(out, at_path(v, fields[i]))) return -1;
    return cs_buf_putc(out, '\n');
}

int cli_json_select(const char *text, size_t len, const char *each, const char *const *fields,
                    size_t n, cs_buf *out, cs_error *err)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, &je);
    if (!doc) return cs_error_set(err, CS_E_BAD_REQUEST, "not JSON: %s", je.text);
    int rc = 0;
    if (each) {
        json_t *arr = at_path(doc, each);
        if (!json_is_array(arr)) {
            rc = cs_error_set(err, CS_E_BAD_REQUEST, "%s is not an array", each);
        } else {
            size_t i;
            json_t *el;
            json_array_foreach(arr, i, el) if (!rc && put_line(out, el, fields, n)) rc =
                cs_error_set(err, CS_E_NOMEM, "output");
        }
    } else if (put_line(out, doc, fields, n)) {
        rc = cs_error_set(err, CS_E_NOMEM, "output");
    }
    json_decref(doc);
    return rc;
}

int cmd_json(int argc, char **argv)
{
    const char *each = NULL;
    const char *fields[64];
    size_t nfields = 0;
    const cs_opt opts[] = {
        {"--each", NULL, CS_OPT_STR, 0, 0, &each, "PATH",
         "one line per element of the array at PATH"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "json", "[--each PATH] FIELD...   (one JSON document on standard input)",
        "Prints the FIELDs tab-separated on one line; with --each PATH, one line per element\n"
        "of the array at PATH, the FIELDs read from that element. A FIELD or PATH is a dotted\n"
        "path (items.0.state; '.' alone is the value itself). Strings are printed as they are\n"
        "(tabs and line breaks as spaces), numbers as numbers, true/false as 1/0, null or a\n"
        "missing member as nothing, objects and arrays as compact JSON.\n"
        "Exit status: 0; 1 when the input is not JSON or PATH is not an array; 64 usage.",
        opts, argc, argv, fields, sizeof fields / sizeof fields[0], &nfields);
    if (!nfields) return cli_usage("json", "hãy ghi ít nhất một FIELD", "name at least one FIELD");

    cs_buf in, out;
    cs_buf_init(&in, (size_t)256 << 20);
    cs_buf_init(&out, (size_t)1 << 30);
    char chunk[65536];
    size_t got;
    int bad = 0;
    while (!bad && (got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        bad = cs_buf_append(&in, chunk, got);
    cs_error err;
    cs_error_clear(&err);
    int rc = 0;
    if (bad || ferror(stdin)) {
        fprintf(stderr, "choso json: cannot read standard input (more than 256 MiB?)\n");
        rc = 1;
    } else if (cli_json_select(in.data ? in.data : "", in.len, each, fields, nfields, &out, &err)) {
        fprintf(stderr, "choso json: %s\n", err.detail);
        rc = 1;
    } else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
        rc = 1;
    }
    cs_buf_free(&in);
    cs_buf_free(&out);
    return rc;
}
