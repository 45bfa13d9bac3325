/* tests/support/tbench: the harness the benchmarks share (tests/bench/bench_sync, bench_orders):
 * timing, arguments, the in-process Lazada simulator's counters and faults, households and
 * accounts authorised through the simulator's OAuth, a child's peak memory. Test code only:
 * never linked into choso or choso-sandbox; every failure exits the benchmark (status 1). */
#ifndef TBENCH_H
#define TBENCH_H
#include "core/db.h"
#include "core/errors.h"
#include "sandbox/sandbox.h"
#include <stdint.h>
#include <sys/types.h>

/* The prefix of every message ("bench-sync"); set first. */
void tb_init(const char *name);
/* Print "NAME: what: code detail" and exit 1. */
_Noreturn void tb_die(const char *what, const cs_error *e);
/* Monotonic seconds. */
double tb_now(void);
/* v as a number from min to max, or exit 64 naming the option. */
long tb_arg_long(const char *v, long min, long max, const char *name);
/* POST json to url; anything but 200 exits. */
void tb_post(const char *url, const char *json);
/* The simulator's admin address for path ("/__sandbox/faults") from its Lazada API base. */
void tb_admin_url(const char *lz, const char *path, char *out, size_t n);
/* Lazada API requests the simulator answered (its own admin paths left out), its throttle
 * answers, and the SKUs it holds twice. */
void tb_lazada_counts(sbx_sandbox *sb, long long *requests, long long *throttled, long long *dups);
/* From now on: latency and transient faults (5xx, 429, dropped connections, each a third of
 * faults), plus malformed pages at malformed (0 for none). */
void tb_lazada_faults(const char *lz, long latency_ms, double faults, double malformed);
/* The app secret in a 0600 file under media.dir (the worker reads it from there): out. */
void tb_secret_file(const char *secret, char *out, size_t n);
/* A household (code, content seed) in the commune 14797; its id. */
int64_t tb_household(cs_db *db, const char *code, const char *seed);
/* The household's Lazada account, authorised by its owner through the simulator's OAuth
 * (real tokens, the browser step skipped); its id. */
int64_t tb_lazada_account(cs_db *db, const char *lz, int64_t household_id);
/* One number from sql (no parameters). */
int64_t tb_count(cs_db *db, const char *sql);
/* The peak resident memory of pid in KiB (VmHWM), -1 when gone. */
long tb_vmhwm_kb(pid_t pid);
#endif
