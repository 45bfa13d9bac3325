/* tests/bench/bench_targets: times core/targets directly against the database in the
 * environment (CHOSO_DB_*), as scripts/bench-targets sets it up: cs_targets_progress for each
 * breakdown (N runs, median and p95), and once the recomputation from the base tables that the
 * counters replace. A benchmark, not a test: it prints figures and fails only on errors.
 * usage: bench_targets YEAR [RUNS] */
#include "core/config.h"
#include "core/db.h"
#include "core/targets.h"
#include "core/vn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_targets YEAR [RUNS]\n");
        return 64;
    }
    int year = (int)strtol(argv[1], NULL, 10);
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20;
    if (runs < 1 || runs > 10000) runs = 20;
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = NULL;
    if (cs_config_load(NULL, &e) || !(db = cs_db_connect(&e))) {
        fprintf(stderr, "bench_targets: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    static const cs_targets_by bys[] = {CS_BY_NONE, CS_BY_COMMUNE, CS_BY_DISTRICT,
                                        CS_BY_MARKETPLACE, CS_BY_MONTH};
    double *t = calloc((size_t)runs, sizeof *t);
    if (!t) return 1;
    for (size_t b = 0; b < sizeof bys / sizeof bys[0]; b++) {
        int64_t achieved = 0;
        for (int i = 0; i < runs; i++) {
            cs_progress p;
            double t0 = now_ms();
            if (cs_targets_progress(db, year, bys[b], vn_today(), NULL, 0, &p, &e)) {
                fprintf(stderr, "bench_targets: %s %s\n", cs_code_name(e.code), e.detail);
                return 1;
            }
            t[i] = now_ms() - t0;
            achieved = p.metrics[CS_M_HOUSEHOLDS].achieved;
            cs_targets_progress_free(&p);
        }
        qsort(t, (size_t)runs, sizeof *t, cmp);
        printf(
            "function cs_targets_progress by=%-15s runs=%d median=%.2f ms p95=%.2f ms max=%.2f ms"
            " (households counted in %d: %lld)\n",
            bys[b] ? cs_targets_by_name(bys[b]) : "(none)", runs, t[runs / 2],
            t[(runs * 95 + 99) / 100 - 1], t[runs - 1], year, (long long)achieved);
    }
    /* what the counters save: the same numbers recomputed from the base tables, once */
    int64_t diff = 0;
    double t0 = now_ms();
    if (cs_targets_verify(db, &diff, &e)) {
        fprintf(stderr, "bench_targets: verify: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    printf("recomputation from the base tables (cs_targets_verify, all years): %.0f ms, %lld cells "
           "differ\n",
           now_ms() - t0, (long long)diff);
    free(t);
    cs_db_close(db);
    return diff ? 1 : 0;
}
