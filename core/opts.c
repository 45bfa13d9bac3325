/* core/opts: the table-driven option parser shared by every subcommand. Prints usage and
 * usage errors only; knows nothing of what the options mean. */
#include "core/opts.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_opts_usage_error(const char *prog, const char *vi, const char *en)
{
    fprintf(stderr, "%s: %s (%s)\n(xem / see '%s --help')\n", prog, vi, en, prog);
    return CS_EX_USAGE;
}

void cs_opts_usage(const char *prog, const char *synopsis, const cs_opt *opts)
{
    printf("usage: %s %s\n", prog, synopsis ? synopsis : "[options]");
    for (const cs_opt *o = opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->name, o->alias ? ", " : "",
                 o->alias ? o->alias : "", o->kind == CS_OPT_FLAG ? "" : " ",
                 o->kind == CS_OPT_FLAG ? "" : (o->metavar ? o->metavar : "VALUE"));
        if (strlen(left) > 26)
            printf("  %s\n  %-26s %s\n", left, "", o->help ? o->help : "");
        else
            printf("  %-26s %s\n", left, o->help ? o->help : "");
    }
    printf("  %-26s %s\n", "--help, -h", "this help");
}

static const cs_opt *find(const cs_opt *opts, const char *name, size_t len)
{
    for (const cs_opt *o = opts; o && o->name; o++) {
        if (strlen(o->name) == len && !memcmp(o->name, name, len)) return o;
        if (o->alias && strlen(o->alias) == len && !memcmp(o->alias, name, len)) return o;
    }
    return NULL;
}

enum why { W_UNKNOWN, W_NOVALUE_FLAG, W_NEEDS_VALUE, W_RANGE, W_EXTRA, W_TOO_MANY };

/* The one place the refusals are worded. Returns CS_EX_USAGE after printing. */
static int refuse(const char *prog, enum why w, const char *flag, int64_t a, int64_t b)
{
    char vi[256], en[256];
    switch (w) {
    case W_UNKNOWN:
        snprintf(vi, sizeof vi, "không có tùy chọn '%s'", flag);
        snprintf(en, sizeof en, "unknown option '%s'", flag);
        break;
    case W_NOVALUE_FLAG:
        snprintf(vi, sizeof vi, "'%s' không nhận giá trị", flag);
        snprintf(en, sizeof en, "'%s' takes no value", flag);
        break;
    case W_NEEDS_VALUE:
        snprintf(vi, sizeof vi, "'%s' cần một giá trị", flag);
        snprintf(en, sizeof en, "'%s' needs a value", flag);
        break;
    case W_RANGE:
        snprintf(vi, sizeof vi, "'%s' phải là một số nguyên từ %" PRId64 " đến %" PRId64, flag, a,
                 b);
        snprintf(en, sizeof en, "'%s' must be a whole number from %" PRId64 " to %" PRId64, flag, a,
                 b);
        break;
    case W_TOO_MANY:
        snprintf(vi, sizeof vi, "'%s' được ghi quá %" PRId64 " lần", flag, a);
        snprintf(en, sizeof en, "'%s' given more than %" PRId64 " times", flag, a);
        break;
    default:
        snprintf(vi, sizeof vi, "thừa đối số '%s'", flag);
        snprintf(en, sizeof en, "unexpected argument '%s'", flag);
        break;
    }
    return cs_opts_usage_error(prog, vi, en);
}

/* Store `val` into o->out. Returns 0 or a usage error already printed. */
static int take(const char *prog, const cs_opt *o, const char *val)
{
    if (o->kind == CS_OPT_STR) {
        if (o->out) *(const char **)o->out = val;
        return 0;
    }
    if (o->kind == CS_OPT_LIST) {
        cs_opt_list *l = o->out;
        if (l->n >= l->cap) return refuse(prog, W_TOO_MANY, o->name, (int64_t)l->cap, 0);
        l->v[l->n++] = val;
        return 0;
    }
    /* CS_OPT_INT: decimal digits only, optional leading minus; nothing after the number. */
    char *end = NULL;
    errno = 0;
    long long v =
        (*val && (*val == '-' || (*val >= '0' && *val <= '9'))) ? strtoll(val, &end, 10) : 0;
    if (!end || *end || errno || v < o->min || v > o->max)
        return refuse(prog, W_RANGE, o->name, o->min, o->max);
    if (o->out) *(int64_t *)o->out = (int64_t)v;
    return 0;
}

int cs_opts_parse(const char *prog, const char *synopsis, const cs_opt *opts, int argc, char **argv,
                  const char **pos, size_t max_pos, size_t *npos)
{
    size_t n = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                cs_opts_usage(prog, synopsis, opts);
                return CS_OPTS_HELP;
            }
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            const cs_opt *o = find(opts, a, len);
            char flag[64];
            snprintf(flag, sizeof flag, "%.*s", (int)(len < 60 ? len : 60), a);
            if (!o) return refuse(prog, W_UNKNOWN, flag, 0, 0);
            if (o->kind == CS_OPT_FLAG) {
                if (eq) return refuse(prog, W_NOVALUE_FLAG, o->name, 0, 0);
                if (o->out) *(int *)o->out = 1;
                continue;
            }
            const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val) return refuse(prog, W_NEEDS_VALUE, o->name, 0, 0);
            int rc = take(prog, o, val);
            if (rc) return rc;
            continue;
        }
        if (n >= max_pos) {
            char arg[64];
            snprintf(arg, sizeof arg, "%.60s", a);
            return refuse(prog, W_EXTRA, arg, 0, 0);
        }
        pos[n++] = a;
    }
    if (npos) *npos = n;
    return 0;
}
