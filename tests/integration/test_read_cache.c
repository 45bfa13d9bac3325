/* The kept answers (service/read_cache) and bearer look-ups (service/auth) stay exactly right:
 * two serve nodes on one database — node A in-process, node B a `choso serve` child — and a
 * write through A (or straight through core/db, or a revocation) is seen by the very next read
 * through B; the household list and targets are kept per role and scope (a volunteer never gets
 * an admin's answer, a monitor never sees names); ETag / If-None-Match answers 304 until a write.
 * MariaDB of scripts/run-tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/readgen.h"
#include "core/vn.h"
#include "service/read_cache.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMMUNE_A "14797" /* Phường Hạc Thành */
#define COMMUNE_B "16591" /* Xã Các Sơn */

static char tok_admin[44], tok_monitor[44], tok_vol[44];
static pid_t node_b;
static char base_b[64];

/* ---- node B: `choso serve` on a free port, same database and key ------------------------- */

static void find_choso(char *out, size_t n)
{
    const char *b = getenv("BUILD");
    if (b && *b) {
        snprintf(out, n, "%s/choso", b);
        if (access(out, X_OK) == 0) return;
    }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        for (int up = 0; up < 3; up++) { /* …/tests/integration/test_read_cache */
            char *slash = strrchr(self, '/');
            if (slash) *slash = '\0';
        }
        snprintf(out, n, "%s/choso", self);
        if (access(out, X_OK) == 0) return;
    }
    fail_msg("cannot find the choso binary (set BUILD)");
}

static void start_node_b(void)
{
    char choso[PATH_MAX];
    find_choso(choso, sizeof choso);
    int fds[2];
    if (pipe(fds)) fail_msg("pipe: %s", strerror(errno));
    node_b = fork();
    if (node_b < 0) fail_msg("fork: %s", strerror(errno));
    if (node_b == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        setenv("CHOSO_HTTP_ADDRESS", "127.0.0.1", 1);
        setenv("CHOSO_HTTP_PORT", "0", 1);
        setenv("CHOSO_LOG_LEVEL", "warn", 1);
        execl(choso, "choso", "serve", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512] = "";
    if (!f || !fgets(line, sizeof line, f)) fail_msg("node B printed no listening line");
    fclose(f);
    const char *p = strstr(line, "\"port\":");
    if (!p) fail_msg("no port in %s", line);
    snprintf(base_b, sizeof base_b, "http://127.0.0.1:%ld", strtol(p + 7, NULL, 10));
}

struct sink {
    char *p;
    size_t n;
};
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t k = size * nmemb;
    char *q = realloc(s->p, s->n + k + 1);
    if (!q) return 0;
    memcpy(q + s->n, ptr, k);
    s->p = q;
    s->n += k;
    s->p[s->n] = '\0';
    return k;
}

/* GET through node B; the body (malloc'd) in *body, the ETag in etag (may be NULL) */
static long get_b(const char *path, const char *tok, const char *inm, char **body, char *etag,
                  size_t etag_n)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], auth[80], cond[120];
    snprintf(url, sizeof url, "%s%s", base_b, path);
    struct curl_slist *h = NULL;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    h = curl_slist_append(h, auth);
    if (inm) {
        snprintf(cond, sizeof cond, "If-None-Match: %s", inm);
        h = curl_slist_append(h, cond);
    }
    struct sink s = {calloc(1, 1), 0}, hs = {calloc(1, 1), 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK) fail_msg("GET %s failed", url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (etag) {
        etag[0] = '\0';
        const char *e = strcasestr(hs.p, "\netag: ");
        if (e) snprintf(etag, etag_n, "%.*s", (int)strcspn(e + 7, "\r\n"), e + 7);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(hs.p);
    *body = s.p;
    return status;
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *a[] = {COMMUNE_A, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_monitor);
    tapi_token("volunteer", a, tok_vol);
    start_node_b();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (node_b > 0) {
        kill(node_b, SIGTERM);
        int st;
        waitpid(node_b, &st, 0);
    }
    tapi_stop();
    return 0;
}

/* the number of list items whose "code" is code, in a JSON text */
static int has_code(const char *body, const char *code)
{
    json_error_t je;
    json_t *o = json_loads(body, 0, &je);
    assert_non_null(o);
    json_t *items = json_object_get(o, "items"), *it;
    size_t i;
    int n = 0;
    json_array_foreach(items, i, it) n +=
        !strcmp(json_string_value(json_object_get(it, "code")), code);
    json_decref(o);
    return n;
}

/* a write through node A is in the next read through node B, each time */
static void test_write_a_read_b(void **state)
{
    (void)state;
    char *body = NULL, etag1[80], etag2[80];
    assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, etag1, sizeof etag1),
                     200);
    free(body);
    /* the same answer again: kept (same ETag) */
    assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, etag2, sizeof etag2),
                     200);
    free(body);
    assert_string_equal(etag1, etag2);
    for (int round = 0; round < 5; round++) {
        char code[24];
        tapi_seed(tok_admin, COMMUNE_A, code, NULL, NULL); /* through node A */
        assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, NULL, 0), 200);
        assert_int_equal(has_code(body, code), 1);
        free(body);
        /* a change of the household through A: B's next list shows the new business name */
        char path[80], patch[120];
        snprintf(path, sizeof path, "/v1/households/%s", code);
        tapi_resp r = tapi_call("GET", path, tok_admin, NULL);
        assert_int_equal(r.status, 200);
        char etag[64];
        assert_non_null(tapi_header(&r, "ETag", etag, sizeof etag));
        tapi_free(&r);
        snprintf(patch, sizeof patch, "{\"business_name\":\"Hộ kinh doanh Vòng %d\"}", round);
        char ifm[80];
        snprintf(ifm, sizeof ifm, "If-Match: %s", etag);
        const char *hdr[] = {ifm, NULL};
        r = tapi_req("PATCH", path, tok_admin, hdr, NULL, patch, strlen(patch));
        assert_int_equal(r.status, 200);
        tapi_free(&r);
        assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, NULL, 0), 200);
        char want[64];
        snprintf(want, sizeof want, "Hộ kinh doanh Vòng %d", round);
        assert_non_null(strstr(body, want));
        free(body);
    }
}

/* targets: a goal set through A is the goal B answers next */
static void test_targets_goal_a_read_b(void **state)
{
    (void)state;
    int year = vn_today().y;
    char path[80], *body = NULL;
    snprintf(path, sizeof path, "/v1/targets?year=%d&by=commune", year);
    assert_int_equal(get_b(path, tok_admin, NULL, &body, NULL, 0), 200);
    free(body);
    for (int goal = 1201; goal <= 1203; goal++) {
        char put[64], json[40];
        snprintf(put, sizeof put, "/v1/targets/%d/households_onboarded", year);
        snprintf(json, sizeof json, "{\"goal\": %d}", goal);
        tapi_resp r = tapi_call("PUT", put, tok_admin, json);
        assert_int_equal(r.status, 200);
        tapi_free(&r);
        assert_int_equal(get_b(path, tok_admin, NULL, &body, NULL, 0), 200);
        json_error_t je;
        json_t *o = json_loads(body, 0, &je);
        assert_non_null(o);
        json_t *ms = json_object_get(o, "metrics"), *it, *m = NULL;
        size_t i;
        json_array_foreach(ms, i, it) if (!strcmp(json_string_value(json_object_get(it, "metric")),
                                                  "households_onboarded")) m = it;
        assert_non_null(m);
        assert_int_equal(json_integer_value(json_object_get(m, "goal")), goal);
        json_decref(o);
        free(body);
    }
}

/* a write that is not an HTTP request at all (a CLI command, a job): core/db moves the
 * generation, so both nodes answer with it */
static void test_core_write_seen(void **state)
{
    (void)state;
    char code[24], *body = NULL;
    tapi_seed(tok_admin, COMMUNE_B, code, NULL, NULL);
    assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, NULL, 0), 200);
    free(body);
    tapi_resp r = tapi_call("GET", "/v1/households?limit=200", tok_admin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    int64_t g0 = 0, g1 = 0;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_readgen_get(tapi_db(), &g0, &e), 0);
    tsup_exec(
        tapi_db(),
        "UPDATE households SET business_name = 'Đổi thẳng trong cơ sở dữ liệu' WHERE code = ?", "s",
        code);
    assert_int_equal(cs_readgen_get(tapi_db(), &g1, &e), 0);
    assert_true(g1 > g0);
    assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, NULL, 0), 200);
    assert_non_null(strstr(body, "Đổi thẳng trong cơ sở dữ liệu"));
    free(body);
    r = tapi_call("GET", "/v1/households?limit=200", tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Đổi thẳng trong cơ sở dữ liệu"));
    tapi_free(&r);
    /* a SELECT moves nothing */
    int64_t g2 = 0;
    tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", "");
    assert_int_equal(cs_readgen_get(tapi_db(), &g2, &e), 0);
    assert_int_equal(g2, g1);
}

/* ETag / If-None-Match: 304 while nothing changed, 200 with another tag after a write */
static void test_etag_304(void **state)
{
    (void)state;
    char *body = NULL, etag[80], etag2[80];
    assert_int_equal(get_b("/v1/households?limit=10", tok_admin, NULL, &body, etag, sizeof etag),
                     200);
    free(body);
    assert_true(strlen(etag) > 2);
    assert_int_equal(get_b("/v1/households?limit=10", tok_admin, etag, &body, etag2, sizeof etag2),
                     304);
    assert_int_equal(strlen(body), 0);
    free(body);
    assert_string_equal(etag, etag2);
    /* in-process node A: the same, and its counters show answers were kept and reused */
    uint64_t h0, m0, h1, m1;
    svc_read_cache_stats(&h0, &m0);
    tapi_resp r = tapi_call("GET", "/v1/households?limit=10", tok_admin, NULL);
    assert_int_equal(r.status, 200);
    char ea[80];
    assert_non_null(tapi_header(&r, "ETag", ea, sizeof ea));
    tapi_free(&r);
    char inm[100];
    snprintf(inm, sizeof inm, "If-None-Match: %s", ea);
    const char *hdr[] = {inm, NULL};
    r = tapi_req("GET", "/v1/households?limit=10", tok_admin, hdr, NULL, NULL, 0);
    assert_int_equal(r.status, 304);
    tapi_free(&r);
    svc_read_cache_stats(&h1, &m1);
    assert_true(h1 >= h0 + 1);
    assert_true(svc_read_cache_count() >= 1);
    /* a new household in the first 10? no: ids ascend; change the first row instead */
    json_error_t je;
    r = tapi_call("GET", "/v1/households?limit=1", tok_admin, NULL);
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    char code[24];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(first, "code")));
    tapi_free(&r);
    (void)je;
    tsup_exec(tapi_db(), "UPDATE households SET business_name = 'Tên mới cho ETag' WHERE code = ?",
              "s", code);
    assert_int_equal(get_b("/v1/households?limit=10", tok_admin, etag, &body, etag2, sizeof etag2),
                     200);
    assert_non_null(strstr(body, "Tên mới cho ETag"));
    free(body);
    assert_string_not_equal(etag, etag2);
}

/* role and scope: the same URL answers each caller its own way, cached or not */
static void test_scope_and_pii(void **state)
{
    (void)state;
    char a[24], b[24], *body = NULL;
    tapi_seed(tok_admin, COMMUNE_A, a, NULL, NULL);
    tapi_seed(tok_admin, COMMUNE_B, b, NULL, NULL);
    for (int twice = 0; twice < 2; twice++) {
        assert_int_equal(get_b("/v1/households?limit=200", tok_admin, NULL, &body, NULL, 0), 200);
        assert_int_equal(has_code(body, a) + has_code(body, b), 2);
        assert_non_null(strstr(body, "\"owner_name\""));
        free(body);
        assert_int_equal(get_b("/v1/households?limit=200", tok_vol, NULL, &body, NULL, 0), 200);
        assert_int_equal(has_code(body, a), 1);
        assert_int_equal(has_code(body, b), 0); /* another commune */
        free(body);
        assert_int_equal(get_b("/v1/households?limit=200", tok_monitor, NULL, &body, NULL, 0), 200);
        assert_int_equal(has_code(body, a) + has_code(body, b), 2);
        assert_null(strstr(body, "\"owner_name\"")); /* monitors see no personal data */
        assert_null(strstr(body, "\"phone\""));
        free(body);
    }
    /* the volunteer's targets cover the own commune only */
    assert_int_equal(get_b("/v1/targets?by=commune", tok_vol, NULL, &body, NULL, 0), 200);
    assert_null(strstr(body, "\"" COMMUNE_B "\""));
    free(body);
}

/* a token revoked (through any node, or the CLI) stops working at once on B, although B kept
 * its look-up a moment ago; a volunteer's communes taken away apply at once too */
static void test_revoked_token(void **state)
{
    (void)state;
    char tok[44], *body = NULL;
    const char *c[] = {COMMUNE_A, NULL};
    int64_t id = tapi_token("volunteer", c, tok);
    assert_int_equal(get_b("/v1/households?limit=5", tok, NULL, &body, NULL, 0), 200);
    free(body);
    assert_int_equal(get_b("/v1/households?limit=5", tok, NULL, &body, NULL, 0), 200);
    free(body);
    tsup_exec(tapi_db(), "DELETE FROM token_communes WHERE token_id = ?", "i", id);
    assert_int_equal(get_b("/v1/households?limit=200", tok, NULL, &body, NULL, 0), 200);
    json_error_t je;
    json_t *o = json_loads(body, 0, &je);
    assert_int_equal(json_array_size(json_object_get(o, "items")), 0); /* no commune: nothing */
    json_decref(o);
    free(body);
    tapi_revoke(id);
    assert_int_equal(get_b("/v1/households?limit=5", tok, NULL, &body, NULL, 0), 401);
    free(body);
    tapi_resp r = tapi_call("GET", "/v1/households?limit=5", tok, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
}

/* which statements move the generation */
static void test_watched(void **state)
{
    (void)state;
    assert_true(cs_readgen_watched("INSERT INTO households (code) VALUES (?)"));
    assert_true(cs_readgen_watched("  update listings SET status = ?"));
    assert_true(cs_readgen_watched("DELETE FROM token_communes WHERE token_id = ?"));
    assert_true(
        cs_readgen_watched("UPDATE jobs j JOIN `households` h ON h.id = j.ref SET j.x = 1"));
    assert_false(cs_readgen_watched("SELECT * FROM households"));
    assert_false(cs_readgen_watched("INSERT INTO audit_log (action) VALUES (?)"));
    assert_false(cs_readgen_watched("UPDATE jobs SET households_done = 1")); /* a column name */
    assert_false(cs_readgen_watched("INSERT INTO read_generation (shard) VALUES (1)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watched),
        cmocka_unit_test(test_write_a_read_b),
        cmocka_unit_test(test_targets_goal_a_read_b),
        cmocka_unit_test(test_core_write_seen),
        cmocka_unit_test(test_etag_304),
        cmocka_unit_test(test_scope_and_pii),
        cmocka_unit_test(test_revoked_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
