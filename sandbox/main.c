/* sandbox/main: the `choso-sandbox` binary — the simulators' settings (sandbox/sandbox.def) from
 * the environment and the command line, then serve until SIGINT/SIGTERM. It is a separate
 * binary so that the product's `choso` carries no simulator code; never a production peer. */
#include "connectors/assisted.h"
#include "connectors/registry.h"
#include "core/opts.h"
#include "sandbox/sandbox.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROG "choso-sandbox"
#define EX_CONFIG 78

enum stype { STR, INT, BOOL, NUM };

struct setting {
    const char *name;
    enum stype type;
    const char *def;
    int64_t min, max;
    const char *help;
};

static const struct setting settings[] = {
#define X(name, type, def, min, max, help) {#name, type, def, min, max, help},
#include "sandbox/sandbox.def"
#undef X
};
#define NSET (sizeof settings / sizeof settings[0])

/* The value of each setting (points into the table, the environment or argv) and its source. */
static const char *value[NSET];
static const char *source[NSET];

static size_t setting_index(const char *name)
{
    for (size_t i = 0; i < NSET; i++)
        if (!strcmp(settings[i].name, name)) return i;
    fprintf(stderr, PROG ": bug: unknown setting '%s'\n", name);
    abort();
}

static const char *get_str(const char *name)
{
    return value[setting_index(name)];
}

static long long get_int(const char *name)
{
    const char *v = get_str(name);
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) return 1;
    return strtoll(v, NULL, 10);
}

/* Check v against setting s; returns NULL or why it is refused (English; the caller names the
 * variable or flag). */
static const char *check(const struct setting *s, const char *v)
{
    char *end = NULL;
    errno = 0;
    if (s->type == BOOL) {
        static const char *const ok[] = {"0", "1", "true", "false", "yes", "no", "on", "off"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            if (!strcasecmp(v, ok[i])) return NULL;
        return "expected 0/1";
    }
    if (s->type == INT) {
        long long n = strtoll(v, &end, 10);
        if (!*v || errno || *end || n < s->min || n > s->max) return "out of range or not whole";
    } else if (s->type == NUM) {
        double d = strtod(v, &end);
        if (!*v || errno || *end || !isfinite(d) || d < (double)s->min || d > (double)s->max)
            return "out of range or not a number";
    }
    return NULL;
}

static void env_name(const char *name, char *out, size_t n)
{
    size_t j = (size_t)snprintf(out, n, "CHOSO_SANDBOX_");
    for (const char *p = name; *p && j + 1 < n; p++)
        out[j++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    out[j] = '\0';
}

/* Defaults, then CHOSO_SANDBOX_* (each bad one printed, naming the variable). 0 or EX_CONFIG. */
static int load_env(void)
{
    int rc = 0;
    for (size_t i = 0; i < NSET; i++) {
        value[i] = settings[i].def;
        source[i] = "default";
        char name[64];
        env_name(settings[i].name, name, sizeof name);
        const char *v = getenv(name);
        if (!v) continue;
        const char *why = check(&settings[i], v);
        if (why) {
            fprintf(stderr, PROG ": %s: giá trị không hợp lệ (%s, allowed %lld..%lld)\n", name, why,
                    (long long)settings[i].min, (long long)settings[i].max);
            rc = EX_CONFIG;
            continue;
        }
        value[i] = v;
        source[i] = "env";
    }
    return rc;
}

/* The command-line layer: one cs_opt per setting (two for a BOOL), built from the table so a
 * new setting needs no code here. */
static char flag_name[NSET][2][48];
static char flag_help[NSET][160], no_help[NSET][64];
static const char *str_out[NSET];
static int64_t int_out[NSET];
static int on_out[NSET], off_out[NSET];

static size_t build_opts(cs_opt *opts, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < NSET && n + 2 < max; i++) {
        const struct setting *s = &settings[i];
        char *f = flag_name[i][0];
        size_t j = (size_t)snprintf(f, sizeof flag_name[i][0], "--");
        for (const char *p = s->name; *p && j + 1 < sizeof flag_name[i][0]; p++)
            f[j++] = *p == '_' ? '-' : *p;
        f[j] = '\0';
        char env[64];
        env_name(s->name, env, sizeof env);
        snprintf(flag_help[i], sizeof flag_help[i], "%s [%s, %s]", s->help, env, s->def);
        str_out[i] = NULL;
        int_out[i] = INT64_MIN;
        on_out[i] = off_out[i] = 0;
        if (s->type == BOOL) {
            opts[n++] = (cs_opt){f, NULL, CS_OPT_FLAG, 0, 0, &on_out[i], NULL, flag_help[i]};
            snprintf(flag_name[i][1], sizeof flag_name[i][1], "--no-%s", f + 2);
            snprintf(no_help[i], sizeof no_help[i], "turns %s off", f);
            opts[n++] =
                (cs_opt){flag_name[i][1], NULL, CS_OPT_FLAG, 0, 0, &off_out[i], NULL, no_help[i]};
        } else if (s->type == INT) {
            opts[n++] =
                (cs_opt){f, NULL, CS_OPT_INT, s->min, s->max, &int_out[i], "N", flag_help[i]};
        } else {
            opts[n++] = (cs_opt){
                f,           NULL, CS_OPT_STR, 0, 0, &str_out[i], s->type == NUM ? "R" : "TEXT",
                flag_help[i]};
        }
    }
    opts[n] = (cs_opt){0};
    return n;
}

/* Copy what the command line gave over the environment. 0 or a usage error (printed). */
static int take_flags(void)
{
    static char ints[NSET][24];
    for (size_t i = 0; i < NSET; i++) {
        const struct setting *s = &settings[i];
        if (s->type == BOOL && (on_out[i] || off_out[i])) {
            if (on_out[i] && off_out[i])
                return cs_opts_usage_error(PROG, "không dùng cùng lúc --x và --no-x",
                                           "--x and --no-x exclude each other");
            value[i] = on_out[i] ? "1" : "0";
            source[i] = "flag";
        } else if (s->type == INT && int_out[i] != INT64_MIN) {
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)int_out[i]);
            value[i] = ints[i];
            source[i] = "flag";
        } else if (str_out[i]) {
            if (s->type == NUM && check(s, str_out[i])) {
                char vi[160], en[160];
                snprintf(vi, sizeof vi, "'%s' phải là một số từ %lld đến %lld", flag_name[i][0],
                         (long long)s->min, (long long)s->max);
                snprintf(en, sizeof en, "'%s' must be a number from %lld to %lld", flag_name[i][0],
                         (long long)s->min, (long long)s->max);
                return cs_opts_usage_error(PROG, vi, en);
            }
            value[i] = str_out[i];
            source[i] = "flag";
        }
    }
    return 0;
}

static void dump(FILE *f)
{
    for (size_t i = 0; i < NSET; i++) {
        char env[64];
        env_name(settings[i].name, env, sizeof env);
        fprintf(f, "%-20s = %-28s # %s [%s, %s]\n", settings[i].name, value[i], settings[i].help,
                env, source[i]);
    }
}

/* The options the settings describe. catfile receives the category file's path. */
static void to_options(sbx_options *o, char *catfile, size_t n)
{
    static const char *const ports[SBX_NMARKETS] = {"shopee_port", "lazada_port", "tiktok_port",
                                                    "assisted_port"};
    sbx_options_default(o);
    o->address = get_str("address");
    for (int m = 0; m < SBX_NMARKETS; m++)
        o->port[m] = (unsigned)get_int(ports[m]);
    o->auto_approve = get_int("auto_approve") != 0;
    o->review_delay_ms = (long)get_int("review_delay_ms");
    o->token_ttl = (long)get_int("token_ttl");
    o->refresh_ttl = (long)get_int("refresh_ttl");
    o->rate = strtod(get_str("rate"), NULL);
    o->seed = (unsigned long long)get_int("seed");
    o->max_items = (long)get_int("max_items");
    o->shopee_partner_id = get_int("shopee_partner_id");
    o->shopee_partner_key = get_str("shopee_partner_key");
    o->lazada_app_key = get_str("lazada_app_key");
    o->lazada_app_secret = get_str("lazada_app_secret");
    o->tiktok_app_key = get_str("tiktok_app_key");
    o->tiktok_app_secret = get_str("tiktok_app_secret");
    o->tiktok_redirect_url = get_str("tiktok_redirect_url");
    o->shopee_push_url = get_str("shopee_push_url");
    o->lazada_push_url = get_str("lazada_push_url");
    o->tiktok_push_url = get_str("tiktok_push_url");
    o->banned_words = get_str("banned_words");
    o->categories = get_str("categories");
    /* The product's reference data, where `choso migrate` finds it too. */
    const char *dir = getenv("CHOSO_SCHEMA_DIR");
    if (*get_str("category_file"))
        snprintf(catfile, n, "%s", get_str("category_file"));
    else
        snprintf(catfile, n, "%s/data/category_map.csv", dir && *dir ? dir : "schemas");
    o->category_file = catfile;
}

/* The assisted marketplaces configured as data (Sendo …) are simulated from the same rows. */
static int load_assisted(void)
{
    const char *dir = getenv("CHOSO_SCHEMA_DIR");
    char data[1024];
    snprintf(data, sizeof data, "%s/data", dir && *dir ? dir : "schemas");
    cs_error err;
    cs_error_clear(&err);
    if (cx_assisted_load(data, &err) >= 0) return 0;
    fprintf(stderr, PROG ": %s\n", err.detail[0] ? err.detail : cs_code_name(err.code));
    return -1;
}

/* Print the URLs and the test credentials as one JSON line, so a script can configure the
 * service from it. */
static void print_urls(sbx_sandbox *sb, const sbx_options *o)
{
    char u[SBX_NMARKETS][96], la[96], pm[128], vs[128];
    for (int m = 0; m < SBX_NMARKETS; m++)
        sbx_url(sb, m, u[m], sizeof u[m]);
    snprintf(la, sizeof la, "%.*s", (int)(strlen(u[SBX_LAZADA]) - strlen("/rest")), u[SBX_LAZADA]);
    snprintf(pm, sizeof pm, "%s/postmart", u[SBX_ASSISTED]);
    snprintf(vs, sizeof vs, "%s/voso", u[SBX_ASSISTED]);
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:{s:I,s:s},s:{s:s,s:s},s:{s:s,s:s}}}", "shopee",
        u[SBX_SHOPEE], "lazada", u[SBX_LAZADA], "lazada_auth", la, "tiktok", u[SBX_TIKTOK],
        "tiktok_auth", u[SBX_TIKTOK], "assisted", u[SBX_ASSISTED], "postmart", pm, "voso", vs,
        "admin", u[SBX_SHOPEE], "credentials", "shopee", "partner_id",
        (json_int_t)o->shopee_partner_id, "partner_key", o->shopee_partner_key, "lazada", "app_key",
        o->lazada_app_key, "app_secret", o->lazada_app_secret, "tiktok", "app_key",
        o->tiktok_app_key, "app_secret", o->tiktok_app_secret);
    /* Every assisted marketplace configured as data gets its own address too. */
    const cx_connector *const *t;
    size_t n = cx_list(&t);
    for (size_t i = 0; j && i < n; i++)
        if (t[i]->kind == CX_KIND_FILE && !json_object_get(j, t[i]->code)) {
            char url[160];
            snprintf(url, sizeof url, "%s/%s", u[SBX_ASSISTED], t[i]->code);
            json_object_set_new(j, t[i]->code, json_string(url));
        }
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s) {
        printf("%s\n", s);
        fflush(stdout);
        free(s);
    }
}

static int serve(void)
{
    sbx_options o;
    char catfile[1024];
    to_options(&o, catfile, sizeof catfile);
    /* Block the stop signals before any thread starts, so only sigwait below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sbx_sandbox *sb;
    cs_error err;
    cs_error_clear(&err);
    if (load_assisted()) return 1;
    if (sbx_start(&o, &sb, &err)) {
        fprintf(stderr, PROG ": %s\n", err.detail[0] ? err.detail : cs_code_name(err.code));
        return 1;
    }
    print_urls(sb, &o);
    int sig = 0;
    sigwait(&set, &sig);
    sbx_stop(sb);
    return 0;
}

int main(int argc, char **argv)
{
    cs_opt opts[2 * NSET + 1];
    build_opts(opts, sizeof opts / sizeof opts[0]);
    const char *pos[1] = {NULL};
    size_t npos = 0;
    int rc = cs_opts_parse(PROG, "[serve|config] [options]", opts, argc, argv, pos, 1, &npos);
    if (rc == CS_OPTS_HELP) {
        printf(
            "\nServe the marketplace simulators (Shopee, Lazada, TikTok Shop, postmart.vn/voso.vn\n"
            "pages) until SIGINT/SIGTERM and print their URLs and test credentials as one JSON\n"
            "line; `config` prints every setting, its value and where it came from. Each\n"
            "setting is also read from CHOSO_SANDBOX_<NAME>; a flag wins over the variable.\n"
            "`choso sandbox …` runs this program with the same arguments.\n");
        return 0;
    }
    if (rc) return rc;
    int config = npos && !strcmp(pos[0], "config");
    if (npos && !config && strcmp(pos[0], "serve")) {
        char vi[160], en[160];
        snprintf(vi, sizeof vi, "không có lệnh '%.60s'", pos[0]);
        snprintf(en, sizeof en, "unknown command '%.60s'", pos[0]);
        return cs_opts_usage_error(PROG, vi, en);
    }
    int bad = load_env();
    if ((rc = take_flags())) return rc;
    if (config) {
        dump(stdout);
        return bad;
    }
    if (bad) return bad;
    return serve();
}
