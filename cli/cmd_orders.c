/* cli/cmd_orders: `choso orders sync` — read every active API account's orders now (or one
 * account's), the same work as the orders.sync job, on this process. No SQL here. */
#include "core/db.h"
#include "core/mem.h"
#include "core/orders.h"
#include "cli/cli.h"
#include "jobs/orders.h"
#include "jobs/sales_import.h"
#include "core/buf.h"
#include <stdio.h>
#include <string.h>

/* `choso orders import`: the report on stdout, row problems in Vietnamese on stderr. */
static int import_file(const char *config, const char *mp, const char *file, size_t npos)
{
    if (npos != 1 || !mp || !file)
        return cli_usage("orders", "'import' cần '--marketplace' và '--file'",
                         "'import' needs '--marketplace' and '--file'");
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_buf b;
    cs_buf_init(&b, 64u << 20);
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "choso orders: cannot read %s\n", file);
        return 1;
    }
    char chunk[65536];
    size_t n;
    int bad = 0;
    while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bad = cs_buf_append(&b, chunk, n) != 0;
    fclose(f);
    if (bad) {
        cs_buf_free(&b);
        fprintf(stderr, "choso orders: %s is larger than 64 MiB\n", file);
        return 1;
    }
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        cs_buf_free(&b);
        cli_print_error("orders", &err);
        return 1;
    }
    cs_actor a = cs_actor_cli("orders-import");
    job_sales_report rep;
    rc = job_sales_import(db, &a, mp, b.data ? b.data : "", b.len, &rep, &err);
    cs_buf_free(&b);
    cs_db_close(db);
    if (rc) {
        cli_print_error("orders", &err);
        return 1;
    }
    fputs(rep.errors, stderr);
    printf("orders import: %zu rows, %zu recorded, %zu already recorded, %zu not delivered, %zu "
           "rejected\n",
           rep.rows, rep.recorded, rep.duplicates, rep.skipped, rep.rejected);
    return rep.rejected ? 1 : 0;
}

int cmd_orders(int argc, char **argv)
{
    int64_t account = 0;
    const char *config = NULL, *mp = NULL, *file = NULL;
    const cs_opt opts[] = {
        {"--marketplace", NULL, CS_OPT_STR, 0, 0, &mp, "postmart|voso",
         "import: whose seller centre the export comes from"},
        {"--file", NULL, CS_OPT_STR, 0, 0, &file, "FILE",
         "import: the order export (CSV or XLSX) of the seller centre"},
        {"--account", NULL, CS_OPT_INT, 1, INT64_MAX, &account, "ID",
         "only this seller account (default: every active account on an API marketplace)"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    const char *pos[2];
    size_t npos = 0;
    CLI_PARSE_OR_RETURN("orders", "sync [--account ID] | import --marketplace M --file FILE",
                        "sync: read the marketplaces' orders now (what the orders.sync job does). "
                        "import: record the delivered orders of a postmart.vn / voso.vn seller "
                        "centre export (layout: schemas/data/order_export_layout.csv).",
                        opts, argc, argv, pos, 2, &npos);
    if (npos >= 1 && !strcmp(pos[0], "import")) return import_file(config, mp, file, npos);
    if (npos != 1 || strcmp(pos[0], "sync"))
        return cli_usage("orders", "cần lệnh con 'sync' hoặc 'import'",
                         "the subcommand 'sync' or 'import' is needed");
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
