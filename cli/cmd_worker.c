/* cli/cmd_worker: `choso worker` — options and start-up checks of a queue worker process. The
 * worker itself is jobs/worker.c; nothing here runs a job. */
#include "cli/cli.h"
#include "core/config.h"
#include "core/db.h"
#include "core/opts.h"
#include "jobs/job.h"
#include "jobs/queue.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every kind of a comma list must be registered. Returns 0 or a usage error (printed). */
static int check_kinds(const char *csv)
{
    char buf[2048], all[2048];
    if (strlen(csv) >= sizeof buf || !*csv)
        return cs_opts_usage_error("choso worker",
                                   "'--kinds' cần danh sách loại việc cách nhau bởi dấu phẩy",
                                   "'--kinds' needs a comma-separated list of job kinds");
    snprintf(buf, sizeof buf, "%s", csv);
    char *save = NULL;
    for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (!job_handler_for(k, NULL)) {
            if (job_registered_kinds(all, sizeof all)) all[0] = '\0';
            char vi[2400], en[2400];
            snprintf(vi, sizeof vi, "'--kinds': không có loại việc '%.100s' (có: %s)", k,
                     all[0] ? all : "không");
            snprintf(en, sizeof en, "'--kinds': unknown job kind '%.100s' (known: %s)", k,
                     all[0] ? all : "none");
            return cs_opts_usage_error("choso worker", vi, en);
        }
    }
    return 0;
}

int cmd_worker(int argc, char **argv)
{
    const char *config = NULL, *kinds = NULL;
    int64_t concurrency = 0;
    int once = 0;
    const cs_opt opts[] = {
        {"--concurrency", NULL, CS_OPT_INT, 1, 256, &concurrency, "N",
         "handler threads (default worker.concurrency)"},
        {"--kinds", NULL, CS_OPT_STR, 0, 0, &kinds, "a,b",
         "only these job kinds (default: every registered kind)"},
        {"--once", NULL, CS_OPT_FLAG, 0, 0, &once, NULL,
         "run the jobs that are ready now, then exit"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "worker", "[options]",
        "Runs queued jobs. SIGTERM/SIGINT: stop claiming, let running jobs finish within\n"
        "worker.grace_seconds, give the rest back to the queue, exit 0.",
        opts, argc, argv, NULL, 0, NULL);
    /* the data key too: imports seal citizen IDs and phones, onboarding seals shop tokens */
    int rc = cli_setup(config, 1);
    if (rc) return rc;

    cs_error err;
    cs_error_clear(&err);
    if (job_register_all(&err)) {
        fprintf(stderr, "choso worker: job kinds: %s %s\n", cs_code_name(err.code), err.detail);
        return 1;
    }
    if (kinds && (rc = check_kinds(kinds))) return rc;
    if (!concurrency) concurrency = cs_cfg_int("worker.concurrency");
    /* Each handler thread and the housekeeping thread hold a connection for their lifetime. */
    if (cs_cfg_int("db.pool_size") < concurrency + 2) {
        char v[24];
        snprintf(v, sizeof v, "%lld", (long long)concurrency + 2);
        if (cs_config_set("db.pool_size", v, &err)) {
            fprintf(stderr, "choso worker: db.pool_size: %s\n", err.detail);
            return CLI_EX_CONFIG;
        }
    }
    if (cs_db_pool_init(&err)) {
        fprintf(stderr, "choso worker: database: %s %s\n", cs_code_name(err.code), err.detail);
        return 1;
    }
    cs_db *db = cs_db_acquire(&err);
    int pending = db ? cs_db_migrations_pending(db, &err) : -1;
    if (pending == 0 && getenv("CHOSO_TEST_JOBS") && !strcmp(getenv("CHOSO_TEST_JOBS"), "1") &&
        job_test_tables(db, &err))
        pending = -1;
    if (db) cs_db_release(db);
    if (pending != 0) {
        if (pending == 1)
            fprintf(stderr, "choso worker: the database is not migrated; run 'choso migrate'\n");
        else
            fprintf(stderr, "choso worker: database: %s %s\n", cs_code_name(err.code), err.detail);
        cs_db_pool_shutdown();
        return 1;
    }
    job_worker_opts o = {.concurrency = (unsigned)concurrency,
                         .kinds_csv = kinds,
                         .once = once,
                         .handle_signals = 1};
    rc = job_worker_run(&o, &err);
    if (rc)
        fprintf(stderr, "choso worker: %s\n", err.detail[0] ? err.detail : cs_code_name(err.code));
    cs_db_pool_shutdown();
    job_registry_reset();
    return rc ? 1 : 0;
}
