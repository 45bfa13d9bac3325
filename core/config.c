/* core/config: the settings table, file parser and environment overlay. */
#include "core/config.h"
#include "core/mem.h"
#include <ctype.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ctype { STR, INT, BOOL, SECRET };

struct setting {
    const char *key;
    enum ctype type;
    const char *def;
    long min, max;
    const char *help;
};

static const struct setting settings[] = {
#define X(key, type, def, min, max, help) {key, type, def, min, max, help},
#include "core/config.def"
#undef X
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static char *values[NSETTINGS];
static char
    *secret_paths[NSETTINGS]; /* the file each secret came from (check-live reads its mode) */
static const char *sources[NSETTINGS];
static long ints[NSETTINGS];

/* Settings are read on hot paths (every imported row reads the youth ages), so names are
 * found through an open-addressing table built once, not a scan of the whole list. */
#define FIND_SLOTS 1024u
static unsigned short find_table[FIND_SLOTS]; /* index + 1; 0 = empty */
static pthread_once_t find_once = PTHREAD_ONCE_INIT;

static unsigned key_hash(const char *k)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

static void find_build(void)
{
    _Static_assert(sizeof settings / sizeof settings[0] < FIND_SLOTS / 2, "grow FIND_SLOTS");
    for (size_t i = 0; i < NSETTINGS; i++) {
        unsigned h = key_hash(settings[i].key) & (FIND_SLOTS - 1);
        while (find_table[h])
            h = (h + 1) & (FIND_SLOTS - 1);
        find_table[h] = (unsigned short)(i + 1);
    }
}

static int find(const char *key)
{
    pthread_once(&find_once, find_build);
    for (unsigned h = key_hash(key) & (FIND_SLOTS - 1); find_table[h];
         h = (h + 1) & (FIND_SLOTS - 1))
        if (!strcmp(settings[find_table[h] - 1].key, key)) return find_table[h] - 1;
    return -1;
}

static void env_name(const char *key, const char *suffix, char *out, size_t n)
{
    size_t j = (size_t)snprintf(out, n, "CHOSO_");
    for (const char *p = key; *p && j + 1 < n; p++)
        out[j++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    out[j] = '\0';
    if (suffix) snprintf(out + j, n - j, "%s", suffix);
}

#define SECRET_MAX 4095

/* A secret is the file's whole content minus trailing line ends; a longer file or one with a
 * NUL byte is refused rather than silently cut. */
static char *read_secret_file(const char *path, cs_error *err, const char *key)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cs_error_field(err, key, CS_E_CONFIG, "cannot read secret file");
        return NULL;
    }
    char buf[SECRET_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f);
    fclose(f);
    buf[n] = '\0';
    const char *why = bad                ? "cannot read secret file"
                      : n > SECRET_MAX   ? "secret file larger than 4095 bytes"
                      : strlen(buf) != n ? "secret file contains a NUL byte"
                                         : NULL;
    if (why) {
        OPENSSL_cleanse(buf, sizeof buf);
        cs_error_field(err, key, CS_E_CONFIG, why);
        return NULL;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    char *r = cs_strdup(buf);
    OPENSSL_cleanse(buf, sizeof buf);
    if (!r) cs_error_set(err, CS_E_NOMEM, NULL);
    return r;
}

static int assign(size_t i, const char *v, const char *source, cs_error *err)
{
    const struct setting *s = &settings[i];
    long iv = 0;
    if (s->type == INT || s->type == BOOL) {
        char *end;
        errno = 0;
        iv = strtol(v, &end, 10);
        if (s->type == BOOL &&
            (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")))
            iv = 1, end = (char *)v + strlen(v), errno = 0;
        else if (s->type == BOOL &&
                 (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")))
            iv = 0, end = (char *)v + strlen(v), errno = 0;
        if (errno || end == v || *end) {
            cs_error_field(err, s->key, CS_F_TYPE,
                           s->type == BOOL ? "expected 0/1" : "expected an integer");
            return -1;
        }
        if (iv < s->min || iv > s->max) {
            char d[96];
            snprintf(d, sizeof d, "allowed %ld..%ld", s->min, s->max);
            cs_error_field(err, s->key, CS_F_RANGE, d);
            return -1;
        }
    }
    char *copy = cs_strdup(v);
    if (!copy) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (values[i]) cs_free_secret(values[i], strlen(values[i]));
    values[i] = copy;
    ints[i] = iv;
    sources[i] = source;
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int load_file(const char *path, cs_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cs_error_field(err, "CHOSO_CONFIG", CS_E_CONFIG, "cannot open configuration file");
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n' && !feof(f)) {
            /* never parse the rest of an over-long line as a line of its own */
            char d[64];
            snprintf(d, sizeof d, "line %d: longer than %zu bytes", lineno, sizeof line - 2);
            cs_error_field(err, path, CS_F_TOO_LONG, d);
            rc = -1;
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                continue;
            continue;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            char d[64];
            snprintf(d, sizeof d, "line %d: expected key = value", lineno);
            cs_error_field(err, path, CS_F_FORMAT, d);
            rc = -1;
            continue;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        /* "<secret>_file = path" names a secret's file; other keys may end in _file themselves
         * (crypto.key_file), so the full key is looked up first. */
        int i = find(k), is_file = 0;
        size_t kl = strlen(k);
        if ((i < 0 || settings[i].type == SECRET) && kl > 5 && !strcmp(k + kl - 5, "_file")) {
            k[kl - 5] = '\0';
            int j = find(k);
            if (j >= 0 && settings[j].type == SECRET)
                i = j, is_file = 1;
            else
                k[kl - 5] = '_';
        }
        if (i < 0) {
            char d[64];
            snprintf(d, sizeof d, "line %d: unknown setting", lineno);
            cs_error_field(err, k, CS_F_UNKNOWN, d);
            rc = -1;
            continue;
        }
        if (settings[i].type == SECRET) {
            if (!is_file) {
                cs_error_field(err, k, CS_E_CONFIG,
                               "secrets are read from a file: use <key>_file = path");
                rc = -1;
                continue;
            }
            char *sv = read_secret_file(v, err, k);
            if (!sv) {
                rc = -1;
                continue;
            }
            rc |= assign((size_t)i, sv, "file", err);
            cs_free_secret(sv, strlen(sv));
            cs_free(secret_paths[i]);
            secret_paths[i] = cs_strdup(v);
        } else if (assign((size_t)i, v, "file", err)) {
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

void cs_config_free(void)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (values[i]) cs_free_secret(values[i], strlen(values[i]));
        values[i] = NULL;
        cs_free(secret_paths[i]);
        secret_paths[i] = NULL;
    }
}

int cs_config_load(const char *path, cs_error *err)
{
    cs_error local;
    if (!err) cs_error_clear(&local), err = &local;
    int rc = 0;
    cs_config_free();
    for (size_t i = 0; i < NSETTINGS; i++)
        rc |= assign(i, settings[i].def, "default", err);
    if (!path) path = getenv("CHOSO_CONFIG");
    if (path && *path) rc |= load_file(path, err);
    for (size_t i = 0; i < NSETTINGS; i++) {
        char name[96];
        if (settings[i].type == SECRET) {
            env_name(settings[i].key, NULL, name, sizeof name);
            if (getenv(name)) {
                /* the environment leaks into /proc and child processes: refuse, say how */
                char d[128];
                snprintf(d, sizeof d, "secrets are read from a file: set %s_FILE instead", name);
                cs_error_field(err, name, CS_E_CONFIG, d);
                rc = -1;
            }
            env_name(settings[i].key, "_FILE", name, sizeof name);
            const char *p = getenv(name);
            if (p && *p) {
                char *sv = read_secret_file(p, err, name);
                if (!sv) {
                    rc = -1;
                    continue;
                }
                rc |= assign(i, sv, "env-file", err);
                cs_free_secret(sv, strlen(sv));
                cs_free(secret_paths[i]);
                secret_paths[i] = cs_strdup(p);
            }
            continue;
        }
        env_name(settings[i].key, NULL, name, sizeof name);
        const char *v = getenv(name);
        size_t before = err->nfields;
        if (v && assign(i, v, "env", err)) {
            /* name the variable people actually set (if a field error was added for it) */
            if (err->nfields > before)
                snprintf(err->fields[err->nfields - 1].field, sizeof err->fields[0].field, "%s",
                         name);
            rc = -1;
        }
    }
    if (rc && err->code == CS_E_VALIDATION) err->code = CS_E_CONFIG;
    return rc ? -1 : 0;
}

int cs_config_set(const char *key, const char *value, cs_error *err)
{
    int i = find(key);
    if (i < 0) return cs_error_field(err, key, CS_F_UNKNOWN, "unknown setting");
    return assign((size_t)i, value, "override", err);
}

static int must_find(const char *key)
{
    int i = key ? find(key) : -1;
    if (i < 0) {
        fprintf(stderr, "choso: bug: unknown setting '%s'\n", key ? key : "(null)");
        abort();
    }
    return i;
}

/* Before any load (library code, tests) the defaults are served straight from the table,
 * without writing: reads stay safe from any thread. */
const char *cs_cfg_str(const char *key)
{
    int i = must_find(key);
    return values[i] ? values[i] : settings[i].def;
}

long cs_cfg_int(const char *key)
{
    int i = must_find(key);
    return values[i] ? ints[i] : strtol(settings[i].def, NULL, 10);
}

int cs_cfg_bool(const char *key)
{
    return cs_cfg_int(key) != 0;
}

void cs_config_dump(void *stream)
{
    FILE *f = stream;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *cur = cs_cfg_str(settings[i].key);
        const char *v = settings[i].type == SECRET ? (*cur ? "(set)" : "") : cur;
        fprintf(f, "%-24s = %-28s # %s [%s]\n", settings[i].key, v, settings[i].help,
                values[i] && sources[i] ? sources[i] : "default");
    }
}

const char *cs_cfg_secret_file(const char *key)
{
    int i = find(key);
    return i >= 0 && settings[i].type == SECRET ? secret_paths[i] : NULL;
}
