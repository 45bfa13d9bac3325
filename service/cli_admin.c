/* service/cli_admin: start-up shared by every subcommand (configuration, log level, keys) and
 * the administrative commands `choso migrate` and `choso config`. No HTTP, no business rules. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/errors.h"
#include "core/log.h"
#include "service/cli.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_print_error(const char *cmd, const cs_error *err)
{
    fprintf(stderr, "choso %s: %s / %s [%s]%s%s\n", cmd, cs_code_message(err->code, CS_LANG_VI),
            cs_code_message(err->code, CS_LANG_EN), cs_code_name(err->code), err->detail[0] ? ": " : "",
            err->detail);
    for (size_t i = 0; i < err->nfields; i++) {
        const cs_field_error *f = &err->fields[i];
        fprintf(stderr, "  %s: %s [%s]%s%s\n", f->field, cs_code_message(f->code, CS_LANG_EN),
                cs_code_name(f->code), f->detail[0] ? " — " : "", f->detail);
    }
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "choso %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'choso %s --help')\n", cmd);
    va_end(ap);
    return CLI_EX_USAGE;
}

int cli_setup(const char *config_path, int need_keys)
{
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_load(config_path, &err)) {
        fprintf(stderr, "choso: the configuration has problems (each names its setting):\n");
        cli_print_error("config", &err);
        return CLI_EX_CONFIG;
    }
    enum cs_log_level lvl;
    if (cs_log_level_parse(cs_cfg_str("log.level"), &lvl)) {
        fprintf(stderr, "choso: setting log.level (CHOSO_LOG_LEVEL) must be debug, info, warn or error, not '%s'\n",
                cs_cfg_str("log.level"));
        return CLI_EX_CONFIG;
    }
    cs_log_set_level(lvl);
    if (need_keys && cs_crypto_init(cs_cfg_str("crypto.key_file"), &err)) {
        cli_print_error("config", &err);
        return CLI_EX_CONFIG;
    }
    return 0;
}

/* `--config F` / `--config=F`: returns 1 when argv[*i] was it (and advances *i), 0 when not,
 * -1 when its value is missing. */
static int take_config(int argc, char **argv, int *i, const char **path)
{
    const char *a = argv[*i];
    if (!strncmp(a, "--config=", 9)) {
        *path = a + 9;
        return **path ? 1 : -1;
    }
    if (strcmp(a, "--config")) return 0;
    if (*i + 1 >= argc || !*argv[*i + 1]) return -1;
    *path = argv[++*i];
    return 1;
}

static void migrate_help(void)
{
    printf("usage: choso migrate [--config FILE] [--status]\n\n"
           "Applies the pending migrations of schema.dir/sql in order, records them in\n"
           "schema_migrations, then loads the reference data of schema.dir/data (upserts; yearly\n"
           "targets are only added, never overwritten). Running it again changes nothing.\n"
           "It refuses to run when an applied migration file was edited.\n\n"
           "  --config FILE  settings file (default: CHOSO_CONFIG), then CHOSO_* variables\n"
           "  --status       list each migration as applied / pending / CHANGED and change nothing;\n"
           "                 exit 0 when all are applied, 1 when some are pending or changed\n");
}

int cmd_migrate(int argc, char **argv)
{
    const char *config = NULL;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        int c = take_config(argc, argv, &i, &config);
        if (c < 0) return cli_usage_error("migrate", "--config needs a file name");
        if (c) continue;
        if (!strcmp(argv[i], "--status")) {
            status = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            migrate_help();
            return 0;
        } else {
            return cli_usage_error("migrate", "unknown option '%s'", argv[i]);
        }
    }
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        cli_print_error("migrate", &err);
        return 1;
    }
    if (status) {
        int s = cs_db_migrate_status(db, NULL, stdout, &err);
        if (s < 0) cli_print_error("migrate", &err);
        else printf(s ? "some migrations are pending: run 'choso migrate'\n" : "up to date\n");
        cs_db_close(db);
        return s == 0 ? 0 : 1;
    }
    rc = cs_db_migrate(db, stdout, &err);
    if (rc) cli_print_error("migrate", &err);
    cs_db_close(db);
    return rc ? 1 : 0;
}

int cmd_config(int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        int c = take_config(argc, argv, &i, &config);
        if (c < 0) return cli_usage_error("config", "--config needs a file name");
        if (c) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: choso config [--config FILE]\n\n"
                   "Prints every setting, its value (secrets as \"(set)\"), what it is for and where\n"
                   "the value came from (default, file, env, env-file). Exit 78 when a setting is\n"
                   "malformed (each problem is printed, naming the setting).\n");
            return 0;
        }
        return cli_usage_error("config", "unknown option '%s'", argv[i]);
    }
    cs_error err;
    cs_error_clear(&err);
    int bad = cs_config_load(config, &err);
    cs_config_dump(stdout);
    if (bad) {
        cli_print_error("config", &err);
        return CLI_EX_CONFIG;
    }
    return 0;
}
