/* cli/cmd_orders: `choso orders sync` — read every active API account's orders now (or one
 * account's), the same work as the orders.sync job, on this process. No SQL here. */
#include "core/db.h"
#include "core/mem.h"
#include "core/orders.h"
#include "cli/cli.h"
#include "jobs/orders.h"
#include <stdio.h>
#include <string.h>

int cmd_orders(int argc, char **argv)
{
    int64_t account = 0;
    const char *config = NULL;
    const cs_opt opts[] = {
        {"--account", NULL, CS_OPT_INT, 1, INT64_MAX, &account, "ID",
         "only this seller account (default: every active account on an API marketplace)"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    const char *pos[1];
    size_t npos = 0;
    CLI_PARSE_OR_RETURN("orders", "sync [options]",
                        "Read the marketplaces' orders now (what the orders.sync job does).", opts,
                        argc, argv, pos, 1, &npos);
    if (npos != 1 || strcmp(pos[0], "sync"))
        return cli_usage("orders", "cần lệnh con 'sync'", "the subcommand 'sync' is needed");
    int rc = cli_setup(config, 1);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        cli_print_error("orders", &err);
        return 1;
    }
    int64_t *ids = NULL, one = account;
    size_t n = 0;
    if (account) {
        ids = &one;
        n = 1;
    } else if (cs_orders_sync_accounts(db, &ids, &n, &err)) {
        cli_print_error("orders", &err);
        cs_db_close(db);
        return 1;
    }
    int64_t total = 0;
    size_t done = 0, later = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lines = 0;
        cs_error_clear(&err);
        int r = job_orders_sync_account(db, ids[i], &lines, &err);
        total += lines;
        if (r == 0)
            done++;
        else if (r == 1)
            later++;
        else {
            failed++;
            fprintf(stderr, "choso orders: account %lld: %s %s\n", (long long)ids[i],
                    cs_code_name(err.code), err.detail);
        }
    }
    if (!account) cs_free(ids);
    cs_db_close(db);
    printf("orders: %zu accounts synced, %zu to retry later, %zu failed, %lld order lines read\n",
           done, later, failed, (long long)total);
    return failed ? 1 : 0;
}
