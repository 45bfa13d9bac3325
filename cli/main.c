/* cli/main: the one `choso` binary; dispatches to the subcommands of this room. Nothing else
 * lives here. */
#include "cli/cli.h"
#include <stdio.h>
#include <string.h>

#ifndef CHOSO_VERSION
#define CHOSO_VERSION "0.1.0"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("choso %s\n", CHOSO_VERSION);
    return 0;
}

/* The command table: name, handler, one line of help. Keep sorted by use, not alphabet. */
static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", cmd_serve, "serve the JSON API (SIGTERM/SIGINT: finish running requests, then exit)"},
    {"migrate", cmd_migrate, "apply database migrations and load reference data"},
    {"key", cmd_key, "create or rotate the data key file (personal-data sealing keys)"},
    {"token", cmd_token, "create, list or revoke API tokens"},
    {"config", cmd_config, "show every setting and where its value came from"},
    {"worker", cmd_worker,
     "run queued jobs (--concurrency N, --kinds a,b, --once); SIGTERM drains"},
    {"import", cmd_import,
     "import households or products from a CSV/XLSX file (--dry-run, --wait); writes an error file "
     "of the rejected rows"},
    {"targets", cmd_targets,
     "progress against the yearly targets (--year, --by, --format table|csv|xlsx|json, --rebuild)"},
    {"sandbox", cmd_sandbox,
     "serve the marketplace simulators on 127.0.0.1 (prints their URLs as JSON)"},
    {"json", cmd_json,
     "pick fields out of JSON on standard input as tab-separated lines (for scripts)"},
    {"check-live", cmd_check_live,
     "what stands between this instance and the real marketplaces (exit 0 only when nothing)"},
    {"orders", cmd_orders,
     "orders sync: read the marketplaces' orders now (--account ID), as the orders.sync job does"},
    {"publish", cmd_publish,
     "publish run: queue every active product not yet on a marketplace (--marketplace M, "
     "--commune, --household, --limit, --dry-run)"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "list the subcommands"},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("Chợ Số — đưa hộ kinh doanh và đặc sản Thanh Hóa lên sàn thương mại điện tử\n\n"
           "usage: choso <command> [options]   (choso <command> --help for its options)\n\n"
           "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].help);
    printf("\nSettings come from CHOSO_* environment variables or a file given by CHOSO_CONFIG.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cmd_help(0, NULL);
        return CLI_EX_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) return cmd_help(0, NULL);
    if (!strcmp(name, "--version")) return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name)) return commands[i].run(argc - 1, argv + 1);
    char vi[160], en[160];
    snprintf(vi, sizeof vi, "không có lệnh '%.60s'", name);
    snprintf(en, sizeof en, "unknown command '%.60s'", name);
    fprintf(stderr, "choso: %s (%s)\n(xem / see 'choso help')\n", vi, en);
    return CLI_EX_USAGE;
}
