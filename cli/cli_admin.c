/* cli/cli_admin: start-up shared by every subcommand (configuration, log level, keys, option
 * parsing) and the administrative commands `choso migrate` and `choso config`. No HTTP, no
 * business rules. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/errors.h"
#include "core/log.h"
#include "cli/cli.h"
#include "connectors/assisted.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_print_error(const char *cmd, const cs_error *err)
{
    fprintf(stderr, "choso %s: %s / %s [%s]%s%s\n", cmd, cs_code_message(err->code, CS_LANG_VI),
            cs_code_message(err->code, CS_LANG_EN), cs_code_name(err->code),
            err->detail[0] ? ": " : "", err->detail);
    for (size_t i = 0; i < err->nfields; i++) {
        const cs_field_error *f = &err->fields[i];
        fprintf(stderr, "  %s: %s [%s]%s%s\n", f->field, cs_code_message(f->code, CS_LANG_EN),
                cs_code_name(f->code), f->detail[0] ? " — " : "", f->detail);
    }
}

cs_db *cli_connect(const char *cmd, const char *config, int need_keys, int *rc)
{
    *rc = cli_setup(config, need_keys);
    if (*rc) return NULL;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        cli_print_error(cmd, &err);
        *rc = 1;
    }
    return db;
}

int cli_usage(const char *cmd, const char *vi, const char *en)
{
    char prog[64];
    snprintf(prog, sizeof prog, "choso %s", cmd);
    return cs_opts_usage_error(prog, vi, en);
}

int cli_parse(const char *cmd, const char *synopsis, const char *about, const cs_opt *opts,
              int argc, char **argv, const char **pos, size_t max_pos, size_t *npos)
{
    char prog[64];
    snprintf(prog, sizeof prog, "choso %s", cmd);
    int rc = cs_opts_parse(prog, synopsis, opts, argc, argv, pos, max_pos, npos);
    if (rc == CS_OPTS_HELP && about) printf("\n%s\n", about);
    return rc;
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
        fprintf(stderr,
                "choso: setting log.level (CHOSO_LOG_LEVEL) must be debug, info, warn or error, "
                "not '%s'\n",
                cs_cfg_str("log.level"));
        return CLI_EX_CONFIG;
    }
    cs_log_set_level(lvl);
    /* Marketplaces configured as data (Sendo …) join the connector table before any thread. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data", cs_cfg_str("schema.dir"));
    if (cx_assisted_load(dir, &err) < 0) {
        fprintf(stderr, "choso: the assisted marketplaces of %s are not readable:\n", dir);
        cli_print_error("config", &err);
        return CLI_EX_CONFIG;
    }
    if (need_keys && cs_crypto_init(cs_cfg_str("crypto.key_file"), &err)) {
        cli_print_error("config", &err);
        return CLI_EX_CONFIG;
    }
    return 0;
}

int cmd_migrate(int argc, char **argv)
{
    const char *config = NULL;
    int status = 0;
    const cs_opt opts[] = {
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG), then CHOSO_* variables"},
        {"--status", NULL, CS_OPT_FLAG, 0, 0, &status, NULL,
         "list each migration as applied / pending / CHANGED and change nothing; exit 0 when all "
         "are applied, 1 otherwise"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "migrate", "[--config FILE] [--status]",
        "Applies the pending migrations of schema.dir/sql in order, records them in\n"
        "schema_migrations, then loads the reference data of schema.dir/data (upserts; yearly\n"
        "targets are only added, never overwritten). Running it again changes nothing.\n"
        "It refuses to run when an applied migration file was edited.",
        opts, argc, argv, NULL, 0, NULL);
    int rc;
    cs_db *db = cli_connect("migrate", config, 0, &rc);
    if (!db) return rc;
    cs_error err;
    cs_error_clear(&err);
    if (status) {
        int s = cs_db_migrate_status(db, NULL, stdout, &err);
        if (s < 0)
            cli_print_error("migrate", &err);
        else
            printf(s ? "some migrations are pending: run 'choso migrate'\n" : "up to date\n");
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
    const cs_opt opts[] = {
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "config", "[--config FILE]",
        "Prints every setting, its value (secrets as \"(set)\"), what it is for and where\n"
        "the value came from (default, file, env, env-file). Exit 78 when a setting is\n"
        "malformed (each problem is printed, naming the setting).",
        opts, argc, argv, NULL, 0, NULL);
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
