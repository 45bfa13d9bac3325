/* tests/unit/test_config: defaults, the key = value file, the CHOSO_* environment overlay,
 * secrets from files, and the errors that name the bad setting. No database. */
#include "core/config.h"
#include "core/mem.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

extern char **environ;

static char dir[256];

static void file_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The test must not see the CHOSO_* variables of whoever runs it (scripts/run-tests sets
 * CHOSO_DB_SOCKET and friends). */
static void clear_choso_env(void)
{
    for (;;) {
        char name[128] = "";
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "CHOSO_", 6) == 0) {
                const char *eq = strchr(*e, '=');
                size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
                if (n >= sizeof name) n = sizeof name - 1;
                memcpy(name, *e, n);
                name[n] = '\0';
                break;
            }
        }
        if (!*name) return;
        unsetenv(name);
    }
}

static int setup(void **state)
{
    (void)state;
    clear_choso_env();
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/choso-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cs_config_free();
    const char *names[] = {"a.conf", "pw", "big", "nul"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[300];
        file_path(p, sizeof p, names[i]);
        unlink(p);
    }
    return rmdir(dir);
}

static int each_test(void **state)
{
    (void)state;
    clear_choso_env();
    return 0;
}

/* Loads and expects success; fails the test with the error otherwise. */
static void load_ok(const char *path)
{
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_load(path, &err) != 0)
        fail_msg("load failed: %s %s", err.nfields ? err.fields[0].field : "", err.detail);
    assert_int_equal(err.code, CS_OK);
}

/* Loads and expects failure with one field error on `field` of code `code`. */
static cs_error load_bad(const char *path, const char *field, cs_code code)
{
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_config_load(path, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
    for (size_t i = 0; i < err.nfields; i++)
        if (!strcmp(err.fields[i].field, field) && err.fields[i].code == code) return err;
    fail_msg("no %s error on %s (%zu fields, first '%s')", cs_code_name(code), field, err.nfields,
             err.nfields ? err.fields[0].field : "");
    return err;
}

static void test_defaults_without_load(void **state)
{
    (void)state;
    /* library code and tests read settings before (or without) a load */
    cs_config_free();
    assert_int_equal(cs_cfg_int("http.port"), 8080);
    assert_string_equal(cs_cfg_str("db.user"), "choso");
    assert_false(cs_cfg_bool("http.trusted_proxy"));
    assert_int_equal(cs_cfg_int("crypto.pin_scrypt_n"), 16384);
}

static void test_defaults(void **state)
{
    (void)state;
    load_ok(NULL);
    assert_int_equal(cs_cfg_int("http.port"), 8080);
    assert_int_equal(cs_cfg_int("db.port"), 3306);
    assert_string_equal(cs_cfg_str("db.name"), "choso");
    assert_string_equal(cs_cfg_str("db.host"), "");
    assert_string_equal(cs_cfg_str("db.password"), "");
    assert_string_equal(cs_cfg_str("crypto.key_file"), "var/keys/data.key");
    assert_int_equal(cs_cfg_int("youth.min_age"), 16);
    assert_int_equal(cs_cfg_int("youth.max_age"), 30);
    assert_false(cs_cfg_bool("http.trusted_proxy"));
}

static void test_env_overlay(void **state)
{
    (void)state;
    setenv("CHOSO_HTTP_PORT", "9090", 1);
    setenv("CHOSO_DB_SOCKET", "/run/x.sock", 1);
    setenv("CHOSO_HTTP_TRUSTED_PROXY", "yes", 1);
    load_ok(NULL);
    assert_int_equal(cs_cfg_int("http.port"), 9090);
    assert_string_equal(cs_cfg_str("db.socket"), "/run/x.sock");
    assert_true(cs_cfg_bool("http.trusted_proxy"));
    /* a reload without the variables is back to the defaults */
    unsetenv("CHOSO_HTTP_PORT");
    unsetenv("CHOSO_DB_SOCKET");
    unsetenv("CHOSO_HTTP_TRUSTED_PROXY");
    load_ok(NULL);
    assert_int_equal(cs_cfg_int("http.port"), 8080);
    assert_string_equal(cs_cfg_str("db.socket"), "");
}

static void test_env_bad_values(void **state)
{
    (void)state;
    setenv("CHOSO_HTTP_PORT", "abc", 1);
    cs_error err = load_bad(NULL, "CHOSO_HTTP_PORT", CS_F_TYPE);
    assert_string_equal(err.fields[0].detail, "expected an integer");
    setenv("CHOSO_HTTP_PORT", "80x", 1);
    load_bad(NULL, "CHOSO_HTTP_PORT", CS_F_TYPE);
    setenv("CHOSO_HTTP_PORT", "", 1);
    load_bad(NULL, "CHOSO_HTTP_PORT", CS_F_TYPE);
    setenv("CHOSO_HTTP_PORT", "99999999999999999999999", 1);
    load_bad(NULL, "CHOSO_HTTP_PORT", CS_F_TYPE);
    setenv("CHOSO_HTTP_PORT", "70000", 1);
    err = load_bad(NULL, "CHOSO_HTTP_PORT", CS_F_RANGE);
    assert_string_equal(err.fields[0].detail, "allowed 0..65535");
    setenv("CHOSO_HTTP_PORT", "-1", 1);
    load_bad(NULL, "CHOSO_HTTP_PORT", CS_F_RANGE);
    setenv("CHOSO_HTTP_PORT", "65535", 1); /* the bounds themselves are allowed */
    load_ok(NULL);
    assert_int_equal(cs_cfg_int("http.port"), 65535);
    unsetenv("CHOSO_HTTP_PORT");
    setenv("CHOSO_HTTP_TRUSTED_PROXY", "2", 1);
    load_bad(NULL, "CHOSO_HTTP_TRUSTED_PROXY", CS_F_RANGE);
    setenv("CHOSO_HTTP_TRUSTED_PROXY", "maybe", 1);
    load_bad(NULL, "CHOSO_HTTP_TRUSTED_PROXY", CS_F_TYPE);
    setenv("CHOSO_HTTP_TRUSTED_PROXY", "OFF", 1);
    load_ok(NULL);
    assert_false(cs_cfg_bool("http.trusted_proxy"));
    unsetenv("CHOSO_HTTP_TRUSTED_PROXY");
    /* every bad setting is reported, not just the first */
    setenv("CHOSO_HTTP_PORT", "x", 1);
    setenv("CHOSO_HTTP_THREADS", "0", 1);
    err = load_bad(NULL, "CHOSO_HTTP_THREADS", CS_F_RANGE);
    assert_int_equal(err.nfields, 2);
    unsetenv("CHOSO_HTTP_PORT");
    unsetenv("CHOSO_HTTP_THREADS");
}

static void test_file(void **state)
{
    (void)state;
    char path[300];
    file_path(path, sizeof path, "a.conf");
    write_file(path, "# Chợ Số\n"
                     "; also a comment\n"
                     "\n"
                     "http.port = 8181\n"
                     "  db.name=choso_test  \n"
                     "crypto.key_file = /etc/choso/data.key\n"
                     "consent.version = 2025-02 bản 2\n");
    load_ok(path);
    assert_int_equal(cs_cfg_int("http.port"), 8181);
    assert_string_equal(cs_cfg_str("db.name"), "choso_test");
    /* a key that itself ends in _file is an ordinary setting, not a secret's file */
    assert_string_equal(cs_cfg_str("crypto.key_file"), "/etc/choso/data.key");
    assert_string_equal(cs_cfg_str("consent.version"), "2025-02 bản 2");
    /* the environment wins over the file */
    setenv("CHOSO_HTTP_PORT", "9191", 1);
    load_ok(path);
    assert_int_equal(cs_cfg_int("http.port"), 9191);
    unsetenv("CHOSO_HTTP_PORT");
    /* CHOSO_CONFIG names the file when no path is given */
    setenv("CHOSO_CONFIG", path, 1);
    load_ok(NULL);
    assert_int_equal(cs_cfg_int("http.port"), 8181);
    unsetenv("CHOSO_CONFIG");
}

static void test_file_errors(void **state)
{
    (void)state;
    char path[300];
    file_path(path, sizeof path, "a.conf");
    write_file(path, "http.prot = 8181\n");
    cs_error err = load_bad(path, "http.prot", CS_F_UNKNOWN);
    assert_string_equal(err.fields[0].detail, "line 1: unknown setting");
    write_file(path, "http.port = 8181\njust words\n");
    err = load_bad(path, path, CS_F_FORMAT);
    assert_string_equal(err.fields[0].detail, "line 2: expected key = value");
    write_file(path, "http.threads = 1000\n");
    load_bad(path, "http.threads", CS_F_RANGE);
    write_file(path, "db.host_file = /etc/passwd\n"); /* _file only names secrets' files */
    load_bad(path, "db.host_file", CS_F_UNKNOWN);
    write_file(path, "db.password = hunter2\n"); /* secrets never inline */
    load_bad(path, "db.password", CS_E_CONFIG);
    /* an over-long line is one error, and its tail is not read as a line of its own */
    char *big = cs_malloc(9000);
    assert_non_null(big);
    memset(big, ' ', 8999);
    memcpy(big, "db.name = ", 10);
    memcpy(big + 8000, "http.port=1", 11);
    big[8998] = '\n';
    big[8999] = '\0';
    write_file(path, big);
    cs_free(big);
    err = load_bad(path, path, CS_F_TOO_LONG);
    assert_int_equal(err.nfields, 1);
    char missing[300];
    file_path(missing, sizeof missing, "missing.conf");
    load_bad(missing, "CHOSO_CONFIG", CS_E_CONFIG);
}

static void test_secrets(void **state)
{
    (void)state;
    char pw[300], conf[300];
    file_path(pw, sizeof pw, "pw");
    file_path(conf, sizeof conf, "a.conf");
    write_file(pw, "s3cr3t pass\r\n");
    setenv("CHOSO_DB_PASSWORD_FILE", pw, 1);
    load_ok(NULL);
    assert_string_equal(cs_cfg_str("db.password"), "s3cr3t pass"); /* line end dropped */
    unsetenv("CHOSO_DB_PASSWORD_FILE");
    /* from the file: <key>_file = path */
    char text[400];
    snprintf(text, sizeof text, "db.password_file = %s\n", pw);
    write_file(conf, text);
    load_ok(conf);
    assert_string_equal(cs_cfg_str("db.password"), "s3cr3t pass");
    /* the dump shows that it is set, never the value */
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    assert_non_null(f);
    cs_config_dump(f);
    fclose(f);
    assert_null(strstr(out, "s3cr3t"));
    assert_non_null(strstr(out, "(set)"));
    assert_non_null(strstr(out, "http.port"));
    free(out);
    /* a secret in the environment itself is refused with the variable to use instead */
    setenv("CHOSO_DB_PASSWORD", "s3cr3t", 1);
    cs_error err = load_bad(NULL, "CHOSO_DB_PASSWORD", CS_E_CONFIG);
    assert_non_null(strstr(err.fields[0].detail, "CHOSO_DB_PASSWORD_FILE"));
    unsetenv("CHOSO_DB_PASSWORD");
    /* unreadable, too large, NUL inside */
    char missing[300];
    file_path(missing, sizeof missing, "no-such-secret");
    setenv("CHOSO_DB_PASSWORD_FILE", missing, 1);
    load_bad(NULL, "CHOSO_DB_PASSWORD_FILE", CS_E_CONFIG);
    char big[300];
    file_path(big, sizeof big, "big");
    f = fopen(big, "w");
    assert_non_null(f);
    for (int i = 0; i < 5000; i++)
        fputc('k', f);
    fclose(f);
    setenv("CHOSO_DB_PASSWORD_FILE", big, 1);
    load_bad(NULL, "CHOSO_DB_PASSWORD_FILE", CS_E_CONFIG);
    char nul[300];
    file_path(nul, sizeof nul, "nul");
    f = fopen(nul, "w");
    assert_non_null(f);
    fwrite("ab\0cd", 1, 5, f);
    fclose(f);
    setenv("CHOSO_DB_PASSWORD_FILE", nul, 1);
    load_bad(NULL, "CHOSO_DB_PASSWORD_FILE", CS_E_CONFIG);
    unsetenv("CHOSO_DB_PASSWORD_FILE");
}

static void test_set(void **state)
{
    (void)state;
    load_ok(NULL);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_config_set("http.port", "0", &err), 0);
    assert_int_equal(cs_cfg_int("http.port"), 0);
    assert_int_equal(cs_config_set("http.port", "65536", &err), -1);
    assert_int_equal(err.fields[0].code, CS_F_RANGE);
    assert_int_equal(cs_cfg_int("http.port"), 0); /* a refused value changes nothing */
    cs_error_clear(&err);
    assert_int_equal(cs_config_set("no.such", "1", &err), -1);
    assert_string_equal(err.fields[0].field, "no.such");
    assert_int_equal(err.fields[0].code, CS_F_UNKNOWN);
    cs_error_clear(&err);
    assert_int_equal(cs_config_set("log.level", "debug", &err), 0);
    assert_string_equal(cs_cfg_str("log.level"), "debug");
}

static void test_unknown_key_read_aborts(void **state)
{
    (void)state;
    /* reading a setting that does not exist is our bug: abort, naming it */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        cs_cfg_int("http.prot");
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    char path[300];
    file_path(path, sizeof path, "a.conf");
    write_file(path, "http.port = 8181\n");
    setenv("CHOSO_HTTP_THREADS", "4", 1);
    /* fail each allocation in turn: an error (never a crash), and in the end success — on a
       run the failure never reached, so a swallowed failure cannot pass for the clean run */
    int clean = 0;
    for (unsigned long n = 1; n < 500 && !clean; n++) {
        cs_error err;
        cs_error_clear(&err);
        cs_mem_fail_at(n);
        int rc = cs_config_load(path, &err);
        unsigned long used = cs_mem_count();
        cs_mem_fail_at(0);
        clean = used < n;
        if (clean)
            assert_int_equal(rc, 0);
        else /* reached: reported, never swallowed (err is clear on success) */
            assert_int_equal(err.code, CS_E_NOMEM);
    }
    assert_true(clean);
    assert_int_equal(cs_cfg_int("http.port"), 8181);
    assert_int_equal(cs_cfg_int("http.threads"), 4);
    unsetenv("CHOSO_HTTP_THREADS");
    assert_int_equal(cs_config_load(NULL, NULL), 0); /* err may be NULL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_without_load, each_test),
        cmocka_unit_test_setup(test_defaults, each_test),
        cmocka_unit_test_setup(test_env_overlay, each_test),
        cmocka_unit_test_setup(test_env_bad_values, each_test),
        cmocka_unit_test_setup(test_file, each_test),
        cmocka_unit_test_setup(test_file_errors, each_test),
        cmocka_unit_test_setup(test_secrets, each_test),
        cmocka_unit_test_setup(test_set, each_test),
        cmocka_unit_test_setup(test_unknown_key_read_aborts, each_test),
        cmocka_unit_test_setup(test_alloc_failure, each_test),
    };
    return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
