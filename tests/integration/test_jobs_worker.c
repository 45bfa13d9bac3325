/* Integration tests of `choso worker` as a real process (CHOSO_TEST_JOBS=1 kinds): kill -9 in
 * the middle of a job, SIGTERM drains, the grace period gives jobs back, and two workers
 * enqueue each scheduled tick once. The choso binary is $BUILD/choso, else next to the tests
 * directory this binary lives in (<build>/tests/integration/ → <build>/choso). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/mem.h"
#include "jobs/job.h"
#include "jobs/queue.h"
#include "tests/support/tsup.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char choso[PATH_MAX];
static char *logdir;
static char tag[32];

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void dump_log(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.log", logdir, name);
    FILE *f = fopen(path, "r");
    if (!f) return;
    fprintf(stderr, "---- %s ----\n", name);
    char line[1024];
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

#define WAIT_UNTIL(cond, ms, logname)                                                              \
    do {                                                                                           \
        int64_t end_ = mono_ms() + (ms);                                                           \
        while (!(cond)) {                                                                          \
            if (mono_ms() > end_) {                                                                \
                dump_log(logname);                                                                 \
                fail_msg("timed out after %d ms waiting for %s", (int)(ms), #cond);                \
            }                                                                                      \
            nap_ms(50);                                                                            \
        }                                                                                          \
    } while (0)

/* Start `choso worker ARGS…` with the test kinds, a 5 s lease and 1 s backoff; output goes to
 * <logdir>/<name>.log. env_extra: "KEY=VALUE" strings or NULL. */
static pid_t spawn_worker(const char *name, const char *const *env_extra, const char *const *args)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.log", logdir, name);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("CHOSO_TEST_JOBS", "1", 1);
        setenv("CHOSO_WORKER_LEASE_SECONDS", "5", 1);
        setenv("CHOSO_JOBS_BACKOFF_BASE", "1", 1);
        setenv("CHOSO_JOBS_BACKOFF_CAP", "1", 1);
        setenv("CHOSO_WORKER_POLL_MS", "50", 1);
        setenv("CHOSO_WORKER_GRACE_SECONDS", "20", 1);
        unsetenv("CHOSO_TEST_TICK_SECONDS");
        for (const char *const *e = env_extra; e && *e; e++)
            putenv((char *)*e);
        char *argv[16];
        int n = 0;
        argv[n++] = choso;
        argv[n++] = (char *)"worker";
        for (const char *const *a = args; a && *a && n < 15; a++)
            argv[n++] = (char *)*a;
        argv[n] = NULL;
        execv(choso, argv);
        fprintf(stderr, "exec %s: %s\n", choso, strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Wait for pid to end within ms; returns its wait status, fails the test on timeout. */
static int wait_exit(pid_t pid, int64_t ms, const char *name)
{
    int64_t end = mono_ms() + ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (mono_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            dump_log(name);
            fail_msg("worker %s did not exit within %lld ms", name, (long long)ms);
        }
        nap_ms(20);
    }
}

static int64_t q_i64(cs_db *db, const char *sql, const char *fmt, const char *s, int64_t i)
{
    int64_t v = 0;
    cs_error e;
    cs_error_clear(&e);
    int rc = !strcmp(fmt, "s")   ? cs_db_scalar_i64(db, &v, sql, fmt, s, &e)
             : !strcmp(fmt, "i") ? cs_db_scalar_i64(db, &v, sql, fmt, i, &e)
                                 : cs_db_scalar_i64(db, &v, sql, fmt, &e);
    if (rc < 0) fail_msg("%s: %s %s", sql, cs_code_name(e.code), e.detail);
    return v;
}

static int64_t effects(cs_db *db, const char *key)
{
    return q_i64(db, "SELECT COUNT(*) FROM job_test_effects WHERE effect_key = ?", "s", key, 0);
}

static int64_t runs(cs_db *db, int64_t job)
{
    return q_i64(db, "SELECT COUNT(*) FROM job_test_runs WHERE job_id = ?", "i", NULL, job);
}

static int is_state(cs_db *db, int64_t job, const char *state)
{
    cs_rows *r = NULL;
    cs_error e;
    cs_error_clear(&e);
    int ok = 0;
    if (cs_db_query(db, &r, "SELECT state FROM jobs WHERE id = ?", "i", job, &e) == 0) {
        ok = cs_rows_count(r) && !strcmp(cs_rows_str(r, 0, 0), state);
        cs_rows_free(r);
    }
    return ok;
}

static int64_t enqueue(cs_db *db, const char *payload)
{
    cs_error e;
    cs_error_clear(&e);
    int64_t id = 0;
    if (job_enqueue(db, "test.effect", payload, NULL, &id, &e) < 0)
        fail_msg("enqueue: %s %s", cs_code_name(e.code), e.detail);
    return id;
}

static void test_kill9_mid_job_effect_once(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char key[64], ukey[64], p1[160], p2[160];
    snprintf(key, sizeof key, "k9-%s", tag);
    snprintf(ukey, sizeof ukey, "k9u-%s", tag);
    /* Each applies its effect, then is still busy 4 s: the kill lands after the effect and
     * before the job is marked done. The "unsafe" twin skips the handler's check, to show the
     * job really runs twice (its effect doubles) — so the safe one's single effect is earned. */
    snprintf(p1, sizeof p1, "{\"key\":\"%s\",\"sleep_after_ms\":4000}", key);
    snprintf(p2, sizeof p2, "{\"key\":\"%s\",\"sleep_after_ms\":4000,\"unsafe\":1}", ukey);
    int64_t j1 = enqueue(db, p1), j2 = enqueue(db, p2);

    const char *args[] = {"--concurrency", "2", "--kinds", "test.effect", NULL};
    pid_t a = spawn_worker("kill9-a", NULL, args);
    WAIT_UNTIL(effects(db, key) == 1 && effects(db, ukey) == 1, 20000, "kill9-a");
    assert_true(is_state(db, j1, "running") && is_state(db, j2, "running"));
    kill(a, SIGKILL);
    int st = wait_exit(a, 5000, "kill9-a");
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* Another worker takes them back after the 5 s lease and runs them again. */
    int64_t t0 = mono_ms();
    pid_t b = spawn_worker("kill9-b", NULL, args);
    WAIT_UNTIL(is_state(db, j1, "done") && is_state(db, j2, "done"), 40000, "kill9-b");
    printf("# re-run after kill -9 completed in %.1f s (lease 5 s, backoff 1 s, handler 4 s)\n",
           (double)(mono_ms() - t0) / 1000.0);
    assert_int_equal(runs(db, j1), 2);
    assert_int_equal(runs(db, j2), 2);
    assert_int_equal(effects(db, key), 1);  /* idempotent handler: once */
    assert_int_equal(effects(db, ukey), 2); /* the control: the job did run twice */
    assert_int_equal(q_i64(db,
                           "SELECT COUNT(DISTINCT lease_owner) FROM job_test_runs WHERE job_id = ?",
                           "i", NULL, j1),
                     2);
    assert_int_equal(
        q_i64(
            db,
            "SELECT attempts = 2 AND JSON_VALUE(error_history, '$[0].error') LIKE 'lease expired%' "
            "FROM jobs WHERE id = ?",
            "i", NULL, j1),
        1);
    kill(b, SIGTERM);
    st = wait_exit(b, 30000, "kill9-b");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cs_db_close(db);
}

static void test_sigterm_drains_running_job(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char key[64], p[160];
    snprintf(key, sizeof key, "drain-%s", tag);
    /* 7 s of work after the effect: longer than the 5 s lease, so it also shows the worker's
     * heartbeats keeping the lease through the drain. */
    snprintf(p, sizeof p, "{\"key\":\"%s\",\"sleep_after_ms\":7000}", key);
    int64_t j = enqueue(db, p);
    const char *args[] = {"--concurrency", "1", "--kinds", "test.effect", NULL};
    pid_t w = spawn_worker("drain", NULL, args);
    WAIT_UNTIL(effects(db, key) == 1, 20000, "drain");
    assert_true(is_state(db, j, "running"));
    int64_t t0 = mono_ms();
    kill(w, SIGTERM);
    int st = wait_exit(w, 15000, "drain");
    printf("# SIGTERM → exit after %.1f s (the running job needed up to 7 s more)\n",
           (double)(mono_ms() - t0) / 1000.0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) dump_log("drain");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The running job finished before the exit; nothing else was claimed. */
    assert_true(is_state(db, j, "done"));
    assert_int_equal(runs(db, j), 1);
    assert_int_equal(effects(db, key), 1);
    assert_int_equal(q_i64(db,
                           "SELECT attempts = 1 AND error_history IS NULL FROM jobs WHERE id = ?",
                           "i", NULL, j),
                     1);
    cs_db_close(db);
}

static void test_grace_expiry_releases_lease(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    char key[64], p[160];
    snprintf(key, sizeof key, "grace-%s", tag);
    snprintf(p, sizeof p, "{\"key\":\"%s\",\"sleep_before_ms\":8000}", key);
    int64_t j = enqueue(db, p);
    const char *env[] = {"CHOSO_WORKER_GRACE_SECONDS=1", NULL};
    const char *args[] = {"--concurrency", "1", "--kinds", "test.effect", NULL};
    pid_t w = spawn_worker("grace", env, args);
    WAIT_UNTIL(runs(db, j) == 1, 20000, "grace");
    int64_t t0 = mono_ms();
    kill(w, SIGTERM);
    int st = wait_exit(w, 10000, "grace");
    int64_t took = mono_ms() - t0;
    printf("# grace 1 s: exit after %.1f s with the job handed back\n", (double)took / 1000.0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(took < 5000);
    /* Back on the queue, ready now, the attempt given back; no effect yet. */
    assert_int_equal(
        q_i64(
            db,
            "SELECT state = 'queued' AND attempts = 0 AND lease_owner IS NULL AND run_at <= NOW(3) "
            "FROM jobs WHERE id = ?",
            "i", NULL, j),
        1);
    assert_int_equal(effects(db, key), 0);
    /* `--once` picks it up at once and exits when nothing is ready. */
    const char *once[] = {"--once", "--kinds", "test.effect", NULL};
    pid_t o = spawn_worker("grace-once", NULL, once);
    st = wait_exit(o, 30000, "grace-once");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(is_state(db, j, "done"));
    assert_int_equal(effects(db, key), 1);
    assert_int_equal(runs(db, j), 2);
    cs_db_close(db);
}

static void test_two_workers_tick_once(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    int64_t before = q_i64(db, "SELECT IFNULL(MAX(id), 0) FROM jobs", "", NULL, 0);
    const char *env[] = {"CHOSO_TEST_TICK_SECONDS=1", NULL};
    const char *args[] = {"--concurrency", "1", "--kinds", "test.tick", NULL};
    pid_t a = spawn_worker("tick-a", env, args);
    nap_ms(300);
    pid_t b = spawn_worker("tick-b", env, args);
    nap_ms(4500);
    const char *count_sql = "SELECT COUNT(*) FROM jobs WHERE kind = 'test.tick' AND id > ?";
    const char *distinct_sql = "SELECT COUNT(DISTINCT JSON_VALUE(payload, '$.tick')) FROM jobs "
                               "WHERE kind = 'test.tick' AND id > ?";
    int64_t n1 = q_i64(db, count_sql, "i", NULL, before);
    printf("# two workers, 1 s period: %lld ticks in 4.5 s\n", (long long)n1);
    assert_true(n1 >= 3);
    assert_int_equal(q_i64(db, distinct_sql, "i", NULL, before), n1);
    /* The first worker took the lease; kill it without a goodbye: the other one takes over
     * once the lease row expires (3 s after its last renewal; a lease, not a named lock, so
     * that it excludes across Galera nodes — and so death is noticed by expiry, not by the
     * connection closing) and its next pass, a second later. */
    kill(a, SIGKILL);
    wait_exit(a, 5000, "tick-a");
    nap_ms(6000);
    int64_t n2 = q_i64(db, count_sql, "i", NULL, before);
    printf("# after kill -9 of the first worker: %lld ticks in all\n", (long long)n2);
    assert_true(n2 >= n1 + 2);
    assert_int_equal(q_i64(db, distinct_sql, "i", NULL, before), n2);
    assert_int_equal(q_i64(db,
                           "SELECT COUNT(*) FROM job_ticks t JOIN jobs j ON j.id = t.job_id "
                           "WHERE t.kind = 'test.tick' AND j.id > ? AND j.dedupe_key = "
                           "CONCAT('test.tick@', t.tick)",
                           "i", NULL, before),
                     n2);
    kill(b, SIGTERM);
    int st = wait_exit(b, 30000, "tick-b");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cs_db_close(db);
}

static void find_choso(void)
{
    const char *b = getenv("BUILD");
    if (b && *b) {
        snprintf(choso, sizeof choso, "%s/choso", b);
        if (access(choso, X_OK) == 0) return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/'); /* …/tests/integration/test_jobs_worker */
        for (int up = 0; up < 3 && slash; up++) {
            *slash = '\0';
            if (up < 2) slash = strrchr(self, '/');
        }
        snprintf(choso, sizeof choso, "%s/choso", self);
        if (access(choso, X_OK) == 0) return;
    }
    fprintf(stderr, "cannot find the choso binary (set BUILD)\n");
    exit(1);
}

int main(void)
{
    tsup_require_db();
    find_choso();
    snprintf(tag, sizeof tag, "%ld", (long)getpid());
    logdir = tsup_tmpdir("jobs-worker");
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = cs_db_connect(&e);
    if (!db || job_test_tables(db, &e)) {
        fprintf(stderr, "setup: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    cs_db_close(db);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_mid_job_effect_once),
        cmocka_unit_test(test_sigterm_drains_running_job),
        cmocka_unit_test(test_grace_expiry_releases_lease),
        cmocka_unit_test(test_two_workers_tick_once),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tsup_rm_rf(logdir);
    cs_free(logdir);
    return rc;
}
