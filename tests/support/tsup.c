/* tests/support/tsup: helpers for integration tests; see tsup.h. Test code only. */
#include "tests/support/tsup.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/mem.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka needs these first */
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

void tsup_load_config(void)
{
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_load(NULL, &err)) {
        fprintf(stderr, "tsup: configuration: %s\n", err.detail);
        for (size_t i = 0; i < err.nfields; i++)
            fprintf(stderr, "  %s: %s %s\n", err.fields[i].field, cs_code_name(err.fields[i].code),
                    err.fields[i].detail);
        exit(1);
    }
}

void tsup_require_db(void)
{
    const char *s = getenv("CHOSO_DB_SOCKET"), *h = getenv("CHOSO_DB_HOST");
    if ((!s || !*s) && (!h || !*h)) {
        fprintf(stderr,
                "skipped: no database (CHOSO_DB_SOCKET unset; scripts/run-tests sets it)\n");
        exit(77);
    }
    tsup_load_config();
}

cs_db *tsup_connect(void)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) fail_msg("cannot connect: %s: %s", cs_code_name(err.code), err.detail);
    return db;
}

int64_t tsup_exec(cs_db *db, const char *sql, const char *fmt, ...)
{
    cs_error err;
    cs_error_clear(&err);
    va_list ap;
    va_start(ap, fmt);
    int64_t r = cs_db_execv(db, sql, fmt, ap, &err);
    va_end(ap);
    if (r < 0) fail_msg("SQL failed: %s: %s [%.60s]", cs_code_name(err.code), err.detail, sql);
    return r;
}

/* the one column tsup_i64's query returns */
enum { SCALAR_VALUE };

int64_t tsup_i64(cs_db *db, const char *sql, const char *fmt, ...)
{
    cs_error err;
    cs_error_clear(&err);
    cs_rows *r = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = cs_db_queryv(db, &r, sql, fmt, ap, &err);
    va_end(ap);
    if (rc) fail_msg("query failed: %s: %s [%.60s]", cs_code_name(err.code), err.detail, sql);
    int64_t v = cs_rows_count(r) && cs_rows_ncols(r) ? cs_rows_i64(r, 0, SCALAR_VALUE) : 0;
    cs_rows_free(r);
    return v;
}

static char dbname_buf[2][80];

const char *tsup_create_database(const char *suffix)
{
    snprintf(dbname_buf[0], sizeof dbname_buf[0], "%s_%s", cs_cfg_str("db.name"), suffix);
    for (char *p = dbname_buf[0]; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            *p = '_';
    if (strlen(dbname_buf[0]) > 64) fail_msg("database name too long: %s", dbname_buf[0]);
    cs_db *db = tsup_connect();
    /* names are not parameters in SQL: this one is built from [A-Za-z0-9_] only (above) */
    char sql[200];
    cs_error err;
    cs_error_clear(&err);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", dbname_buf[0]);
    if (cs_db_exec_text(db, sql, strlen(sql), &err) < 0) fail_msg("%s: %s", sql, err.detail);
    snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4", dbname_buf[0]);
    if (cs_db_exec_text(db, sql, strlen(sql), &err) < 0) fail_msg("%s: %s", sql, err.detail);
    cs_db_close(db);
    return dbname_buf[0];
}

const char *tsup_use_database(const char *name)
{
    snprintf(dbname_buf[1], sizeof dbname_buf[1], "%s", cs_cfg_str("db.name"));
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_set("db.name", name, &err)) fail_msg("cannot set db.name");
    return dbname_buf[1];
}

void tsup_drop_database(const char *name)
{
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            fail_msg("tsup_drop_database: unexpected name");
    cs_db *db = tsup_connect();
    char sql[200];
    cs_error err;
    cs_error_clear(&err);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", name);
    if (cs_db_exec_text(db, sql, strlen(sql), &err) < 0) fail_msg("%s: %s", sql, err.detail);
    cs_db_close(db);
}

char *tsup_tmpdir(const char *tag)
{
    const char *base = getenv("CHOSO_TEST_TMP");
    if (!base || !*base) base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.XXXXXX", base, tag ? tag : "t");
    if (!mkdtemp(path)) fail_msg("mkdtemp %s: %s", path, strerror(errno));
    char *p = cs_strdup(path);
    if (!p) fail_msg("out of memory");
    return p;
}

int tsup_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (tsup_rm_rf(sub)) rc = -1;
    }
    closedir(d);
    if (rmdir(path)) rc = -1;
    return rc;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY);
    if (in < 0) return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode & 0777);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    if (n < 0) rc = -1;
    close(in);
    if (close(out)) rc = -1;
    return rc;
}

int tsup_copy_tree(const char *from, const char *to)
{
    struct stat st;
    if (stat(from, &st)) return -1;
    if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? copy_file(from, to, st.st_mode) : 0;
    if (mkdir(to, 0755) && errno != EEXIST) return -1;
    DIR *d = opendir(from);
    if (!d) return -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s/%s", from, de->d_name);
        snprintf(b, sizeof b, "%s/%s", to, de->d_name);
        if (tsup_copy_tree(a, b)) rc = -1;
    }
    closedir(d);
    return rc;
}

char *tsup_schema_copy(void)
{
    char *dir = tsup_tmpdir("schemas");
    if (tsup_copy_tree(cs_cfg_str("schema.dir"), dir))
        fail_msg("cannot copy %s to %s", cs_cfg_str("schema.dir"), dir);
    return dir;
}

int tsup_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f)) rc = -1;
    return rc;
}

const char *tsup_unique(const char *prefix, char *out, size_t outsz)
{
    static _Atomic unsigned long counter;
    snprintf(out, outsz, "%s-%ld-%lu", prefix, (long)getpid(), (unsigned long)++counter);
    return out;
}

long tsup_vm_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t k = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, k)) v = strtol(line + k, NULL, 10);
    fclose(f);
    return v;
}

int tsup_under_memory_tool(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#else
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 1;
    char line[512];
    int vg = 0;
    while (!vg && fgets(line, sizeof line, f))
        vg = strstr(line, "vgpreload") != NULL;
    fclose(f);
    return vg;
#endif
}

int tsup_run_cli(int (*cmd)(int, char **), const char *name, const char *const *args,
                 const char *out_path, char *out, size_t outsz)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)name;
    for (size_t i = 0; args[i] && argc < 15; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(1);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(out_path, "r");
    size_t n = f ? fread(out, 1, outsz - 1, f) : 0;
    if (f) fclose(f);
    out[n] = '\0';
    return rc;
}
