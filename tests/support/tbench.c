/* tests/support/tbench: the benchmarks' shared harness (see tbench.h). Test code only. */
#include "tests/support/tbench.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "jobs/flows.h"
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *tb_name = "bench";

void tb_init(const char *name)
{
    tb_name = name;
}

void tb_die(const char *what, const cs_error *e)
{
    fprintf(stderr, "%s: %s: %s %s\n", tb_name, what, e ? cs_code_name(e->code) : "",
            e ? e->detail : "");
    exit(1);
}

double tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long tb_arg_long(const char *v, long min, long max, const char *name)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max) {
        fprintf(stderr, "%s: %s: a number from %ld to %ld\n", tb_name, name, min, max);
        exit(64);
    }
    return x;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static size_t collect(char *p, size_t s, size_t n, void *u)
{
    return cs_buf_append(u, p, s * n) ? 0 : s * n;
}

/* POST json to url; the answer's body into b when b is given. Returns the HTTP status. */
static long post_json(const char *url, const char *json, cs_buf *b)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, b ? collect : discard);
    if (b) curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return st;
}

void tb_post(const char *url, const char *json)
{
    long st = post_json(url, json, NULL);
    if (st != 200) {
        fprintf(stderr, "%s: POST %s → %ld\n", tb_name, url, st);
        exit(1);
    }
}

void tb_admin_url(const char *lz, const char *path, char *out, size_t n)
{
    const char *rest = strstr(lz, "/rest");
    snprintf(out, n, "%.*s%s", (int)(rest ? rest - lz : (long)strlen(lz)), lz, path);
}

void tb_lazada_counts(sbx_sandbox *sb, long long *requests, long long *throttled, long long *dups)
{
    json_t *s = sbx_stats(sb);
    json_t *lz = json_object_get(s, "lazada");
    *requests = 0;
    const char *path;
    json_t *by;
    json_object_foreach(json_object_get(lz, "requests"), path, by)
    {
        if (!strncmp(path, "/__", 3)) continue;
        const char *st;
        json_t *n;
        json_object_foreach(by, st, n) *requests += json_integer_value(n);
    }
    *throttled = json_integer_value(json_object_get(lz, "throttled"));
    *dups = json_integer_value(json_object_get(s, "duplicate_skus"));
    json_decref(s);
}

void tb_lazada_faults(const char *lz, long latency_ms, double faults, double malformed)
{
    char body[256], u[256];
    snprintf(body, sizeof body,
             "{\"marketplace\":\"lazada\",\"latency_ms\":%ld,\"rate_5xx\":%.4f,\"rate_429\":%.4f,"
             "\"rate_drop\":%.4f,\"rate_malformed\":%.4f}",
             latency_ms, faults / 3, faults / 3, faults / 3, malformed);
    tb_admin_url(lz, "/__sandbox/faults", u, sizeof u);
    tb_post(u, body);
}

void tb_secret_file(const char *secret, char *out, size_t n)
{
    snprintf(out, n, "%s/lazada.secret", cs_cfg_str("media.dir"));
    FILE *f = fopen(out, "w");
    if (!f) tb_die("secret file", NULL);
    fputs(secret, f);
    fclose(f);
    chmod(out, 0600);
}

int64_t tb_household(cs_db *db, const char *code, const char *seed)
{
    cs_error e;
    cs_error_clear(&e);
    // clang-format off
    if (cs_db_exec(db,
                   "INSERT INTO households (code, owner_name, name_folded, commune_code,"
                   " owner_age, youth_led, consent_at, consent_version, consent_by, content_hash,"
                   " registered_by)"
                   " VALUES (?, 'Hộ thử', 'ho thu', '14797', 25, 1, UTC_TIMESTAMP(), 'v1', 'bench',"
                   " UNHEX(SHA2(?, 256)), 'bench')",
                   "ss", code, seed, &e) < 0)
        // clang-format on
        tb_die("household", &e);
    return (int64_t)cs_db_insert_id(db);
}

int64_t tb_lazada_account(cs_db *db, const char *lz, int64_t household_id)
{
    cs_error e;
    cs_error_clear(&e);
    char state[44], u[256];
    if (cs_random_token(state)) tb_die("random", NULL);
    // clang-format off
    if (cs_db_exec(db,
                   "INSERT INTO seller_accounts (household_id, marketplace_code, state, oauth_state)"
                   " VALUES (?, 'lazada', 'awaiting_owner', ?)",
                   "is", household_id, state, &e) < 0)
        // clang-format on
        tb_die("account", &e);
    int64_t aid = (int64_t)cs_db_insert_id(db);
    /* the owner authorises (the simulator hands out a code without the browser step) */
    tb_admin_url(lz, "/__sandbox/authorize", u, sizeof u);
    cs_buf b;
    cs_buf_init(&b, 1 << 16);
    post_json(u, "{\"marketplace\":\"lazada\"}", &b);
    json_t *j = b.len ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    cs_buf_free(&b);
    const char *code = json_string_value(json_object_get(j, "code"));
    if (!code) tb_die("sandbox authorize", NULL);
    char shop[128];
    if (job_flows_oauth_callback(db, "lazada", state, code, NULL, shop, &e)) tb_die("oauth", &e);
    json_decref(j);
    return aid;
}

int64_t tb_count(cs_db *db, const char *sql)
{
    int64_t n = 0;
    cs_error e;
    cs_error_clear(&e);
    if (cs_db_scalar_i64(db, &n, sql, "", &e) < 0) tb_die("count", &e);
    return n;
}

long tb_vmhwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}
