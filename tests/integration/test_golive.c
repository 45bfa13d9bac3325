/* Integration tests of core/golive and `choso check-live` against the real MariaDB server that
 * scripts/run-tests starts (77 when run by hand without one): every kind of finding appears
 * when its cause is there and goes when it is fixed, and the command exits 0 only when nothing
 * stands in the way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/catalog.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/golive.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static cs_db *db;
static char dir[512];

static int setup(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) return -1;
    if (cs_db_pool_init(&e) || !(db = cs_db_acquire(&e))) {
        fprintf(stderr, "db: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    const char *t = getenv("CHOSO_TEST_TMP");
    snprintf(dir, sizeof dir, "%s", t && *t ? t : "/tmp");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cs_db_release(db);
    cs_db_pool_shutdown();
    return 0;
}

static int has(const cs_golive *g, const char *code, const char *subject)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->items[i].code, code) && (!subject || strstr(g->items[i].subject, subject)))
            return 1;
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static void test_public_https(void **state)
{
    (void)state;
    char why[40];
    assert_true(cs_golive_public_https("https://api.lazada.vn/rest", why, sizeof why));
    assert_true(cs_golive_public_https("https://choso.thanhhoa.gov.vn:8443/x", why, sizeof why));
    assert_false(cs_golive_public_https("http://api.lazada.vn/rest", why, sizeof why));
    assert_string_equal(why, "http");
    assert_false(cs_golive_public_https("https://127.0.0.1:8080", why, sizeof why));
    assert_string_equal(why, "loopback");
    assert_false(cs_golive_public_https("https://10.1.2.3/", why, sizeof why));
    assert_string_equal(why, "private");
    assert_false(cs_golive_public_https("https://192.168.1.1", why, sizeof why));
    assert_false(cs_golive_public_https("https://172.20.0.1", why, sizeof why));
    assert_true(cs_golive_public_https("https://172.32.0.1", why, sizeof why));
    assert_false(cs_golive_public_https("https://localhost", why, sizeof why));
    assert_false(cs_golive_public_https("https://choso.local", why, sizeof why));
    assert_false(cs_golive_public_https("https://intranet/", why, sizeof why));
    assert_false(cs_golive_public_https("https://[::1]/", why, sizeof why));
    assert_false(cs_golive_public_https(NULL, why, sizeof why));
}

/* Run `choso check-live` with the given extra environment; returns its exit status. */
static int run_cli(const char *const *env, char *out, size_t n)
{
    const char *build = getenv("BUILD");
    char cmd[1024], envs[1024] = "";
    for (size_t i = 0; env && env[i]; i++) {
        strncat(envs, env[i], sizeof envs - strlen(envs) - 2);
        strncat(envs, " ", sizeof envs - strlen(envs) - 1);
    }
    snprintf(cmd, sizeof cmd, "env %s %s/choso check-live --json", envs,
             build && *build ? build : "build");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_findings_then_ready(void **state)
{
    (void)state;
    char key[600], secret[600], loose[600];
    snprintf(key, sizeof key, "%s/data.key", dir);
    snprintf(secret, sizeof secret, "%s/lazada.secret", dir);
    snprintf(loose, sizeof loose, "%s/loose.key", dir);
    write_file(key, "seal 1 00\n", 0600);
    write_file(secret, "real-secret\n", 0644); /* readable by others */
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("crypto.key_file", key, &e), 0);
    assert_int_equal(cs_config_set("lazada.app_key", "123456", &e), 0);
    assert_int_equal(cs_config_set("lazada.base_url", "http://127.0.0.1:9/rest", &e), 0);
    assert_int_equal(cs_config_set("lazada.mode", "sandbox", &e), 0);
    assert_int_equal(cs_config_set("http.public_url", "http://10.0.0.5:8080", &e), 0);
    cs_golive *g = calloc(1, sizeof *g);
    cs_golive_init(g);
    cs_golive_check_config(g, NULL, 0);
    assert_true(has(g, "callback_not_public", "http.public_url"));
    assert_true(has(g, "sandbox_mode", "lazada.base_url"));
    assert_true(has(g, "sandbox_mode", "lazada.mode"));
    assert_true(has(g, "credential_missing", "lazada.app_secret"));
    assert_false(has(g, "credential_missing", "shopee.partner_key")); /* Shopee is not used */
    assert_int_equal(g->nin_use, 1);
    assert_string_equal(g->items[0].code, "callback_not_public");
    assert_non_null(strstr(g->items[0].vi, "công khai"));
    /* the database: Lazada in use, its tree never fetched */
    assert_int_equal(cs_golive_check_db(db, g, &e), 0);
    assert_true(has(g, "catalog_not_fetched", "lazada"));
    /* a Shopee shop in the database makes Shopee in use even without settings */
    char in_use[8][16];
    size_t nin = 0;
    assert_int_equal(cs_golive_in_use(db, in_use, &nin, &e), 0);
    assert_int_equal(nin, 0);
    /* fix everything the configuration says */
    assert_int_equal(cs_config_set("lazada.base_url", "https://api.lazada.vn/rest", &e), 0);
    assert_int_equal(cs_config_set("lazada.mode", "production", &e), 0);
    assert_int_equal(cs_config_set("http.public_url", "https://choso.thanhhoa.gov.vn", &e), 0);
    assert_int_equal(cs_config_set("lazada.app_secret", "real-secret", &e), 0);
    static const cs_cat_node_in nodes[] = {{"1", "", "Bách hóa online", 0},
                                           {"10003451", "1", "Thực phẩm chế biến sẵn", 1}};
    int64_t v;
    int created;
    assert_int_equal(cs_catalog_store(db, "lazada", "https://api.lazada.vn/rest", nodes, 2, NULL, 0,
                                      &v, &created, &e),
                     0);
    cs_golive_init(g);
    cs_golive_check_config(g, NULL, 0);
    assert_int_equal(cs_golive_check_db(db, g, &e), 0);
    for (size_t i = 0; i < g->n; i++)
        fprintf(stderr, "left: %s %s\n", g->items[i].code, g->items[i].subject);
    assert_int_equal(g->n, 0);
    free(g);
    /* the command: the same checks from the environment, exit 1 then 0 */
    char out[16384], e1[700], e2[700];
    snprintf(e1, sizeof e1, "CHOSO_CRYPTO_KEY_FILE=%s", key);
    snprintf(e2, sizeof e2, "CHOSO_LAZADA_APP_SECRET_FILE=%s", secret);
    const char *bad[] = {e1, e2, "CHOSO_LAZADA_APP_KEY=123456",
                         "CHOSO_HTTP_PUBLIC_URL=https://choso.thanhhoa.gov.vn", NULL};
    assert_int_equal(run_cli(bad, out, sizeof out), 1);
    assert_non_null(strstr(out, "\"credential_readable\""));
    assert_non_null(strstr(out, "lazada.secret"));
    chmod(secret, 0600);
    assert_int_equal(run_cli(bad, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"ready\":true"));
    const char *http[] = {e1,
                          e2,
                          "CHOSO_LAZADA_APP_KEY=123456",
                          "CHOSO_HTTP_PUBLIC_URL=https://choso.thanhhoa.gov.vn",
                          "CHOSO_LAZADA_AUTH_URL=http://auth.lazada.com/rest",
                          NULL};
    assert_int_equal(run_cli(http, out, sizeof out), 1);
    assert_non_null(strstr(out, "\"host_not_https\""));
    /* issue 12: a demo or training instance, or an assisted marketplace on its simulator, is
       not ready, whatever else is */
    const char *demo[] = {e1,
                          e2,
                          "CHOSO_LAZADA_APP_KEY=123456",
                          "CHOSO_HTTP_PUBLIC_URL=https://choso.thanhhoa.gov.vn",
                          "CHOSO_INSTANCE_KIND=training",
                          NULL};
    assert_int_equal(run_cli(demo, out, sizeof out), 1);
    assert_non_null(strstr(out, "\"instance_not_production\""));
    const char *voso[] = {e1,
                          e2,
                          "CHOSO_LAZADA_APP_KEY=123456",
                          "CHOSO_HTTP_PUBLIC_URL=https://choso.thanhhoa.gov.vn",
                          "CHOSO_VOSO_MODE=sandbox",
                          NULL};
    assert_int_equal(run_cli(voso, out, sizeof out), 1);
    assert_non_null(strstr(out, "voso.mode"));
    /* issue 16: a marketplace configured as data whose site this instance points at a
       simulator (the demo's Sendo) is not ready either; its row's own https site is */
    const char *sendo[] = {e1,
                           e2,
                           "CHOSO_LAZADA_APP_KEY=123456",
                           "CHOSO_HTTP_PUBLIC_URL=https://choso.thanhhoa.gov.vn",
                           "CHOSO_ASSISTED_HOSTS=sendo=http://127.0.0.1:8083/sendo",
                           NULL};
    assert_int_equal(run_cli(sendo, out, sizeof out), 1);
    assert_non_null(strstr(out, "sendo (assisted.hosts)"));
    assert_int_equal(run_cli(bad, out, sizeof out), 0);
    assert_null(strstr(out, "sendo"));
    (void)loose;
}

int main(void)
{
    if (!getenv("CHOSO_DB_SOCKET") && !getenv("CHOSO_DB_HOST")) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_https),
        cmocka_unit_test(test_findings_then_ready),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
