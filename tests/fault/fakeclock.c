/* tests/fault/fakeclock: an LD_PRELOAD shim that steps a process's wall clock — the fault tests'
 * stand-in for an NTP step or an operator's `date -s`, without touching the machine's clock.
 * CLOCK_REALTIME (clock_gettime, time, gettimeofday) is shifted by the whole seconds written in
 * the file named by CHOSO_FAKECLOCK_FILE (re-read at most every 20 ms, so a test steps a running
 * process by rewriting the file); CLOCK_MONOTONIC and the kernel's own timers are left alone,
 * exactly as a real step leaves them. Never linked into choso. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts);
time_t time(time_t *t);
int gettimeofday(struct timeval *restrict tv, void *restrict tz);

typedef int (*cg_fn)(clockid_t, struct timespec *);

static cg_fn real_cg(void)
{
    static _Atomic(cg_fn) fn;
    cg_fn f = atomic_load(&fn);
    if (!f) {
        void *sym = dlsym(RTLD_NEXT, "clock_gettime");
        memcpy(&f, &sym, sizeof f); /* POSIX: a dlsym'd function pointer fits an object one */
        atomic_store(&fn, f);
    }
    return f;
}

static long long offset_s(void)
{
    static atomic_llong cached, read_at_ms = -1000;
    struct timespec m;
    real_cg()(CLOCK_MONOTONIC, &m);
    long long now_ms = (long long)m.tv_sec * 1000 + m.tv_nsec / 1000000;
    if (now_ms - atomic_load(&read_at_ms) < 20) return atomic_load(&cached);
    const char *path = getenv("CHOSO_FAKECLOCK_FILE");
    long long v = 0;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        char buf[32];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            v = strtoll(buf, NULL, 10);
        }
    }
    atomic_store(&cached, v);
    atomic_store(&read_at_ms, now_ms);
    return v;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = real_cg()(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += (time_t)offset_s();
    return rc;
}

time_t time(time_t *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    tv->tv_sec = ts.tv_sec, tv->tv_usec = ts.tv_nsec / 1000;
    return rc;
}
