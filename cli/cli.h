/* cli/cli: the `choso` subcommands, all in this room, all parsed by core/opts (one parser, one
 * way of refusing a flag). Each cmd_* takes argc/argv after the subcommand name (argv[0] is the
 * subcommand) and returns a process exit code: 0 ok, 1 failure, 64 usage (EX_USAGE), 78 bad
 * configuration (EX_CONFIG). Nothing outside cli/ includes this header but the tests. */
#ifndef CLI_CLI_H
#define CLI_CLI_H
#include "core/opts.h"
#include <stddef.h>

#define CLI_EX_USAGE CS_EX_USAGE
#define CLI_EX_CONFIG 78

/* Load configuration (file from --config or CHOSO_CONFIG, then environment), set the log
 * level, and — when need_keys — load the data key. Prints every problem to stderr naming the
 * setting. Returns 0 or an exit code. */
int cli_setup(const char *config_path, int need_keys);
/* Print err to stderr for `cmd`: the registry message (vi / en), code, detail, one line per
 * field error. */
struct cs_error;
void cli_print_error(const char *cmd, const struct cs_error *err);

/* Configuration (with the data key when need_keys), then a stand-alone database connection for
 * `choso <cmd>`. Returns the connection (caller closes it with cs_db_close), or NULL with *rc set
 * to the exit code after printing the problem. */
struct cs_db;
struct cs_db *cli_connect(const char *cmd, const char *config, int need_keys, int *rc);

/* Parse the options of `choso <cmd>` with cs_opts_parse; on --help also print `about` (may be
 * NULL). Returns 0 to go on, CS_OPTS_HELP after the help, or CLI_EX_USAGE after a refusal:
 * callers use CLI_PARSE_OR_RETURN. */
int cli_parse(const char *cmd, const char *synopsis, const char *about, const cs_opt *opts,
              int argc, char **argv, const char **pos, size_t max_pos, size_t *npos);
#define CLI_PARSE_OR_RETURN(...)                                                                   \
    do {                                                                                           \
        int cli_rc_ = cli_parse(__VA_ARGS__);                                                      \
        if (cli_rc_) return cli_rc_ == CS_OPTS_HELP ? 0 : cli_rc_;                                 \
    } while (0)
/* A usage error of `choso <cmd>` that the option table cannot express (a missing argument, a
 * bad choice): the same shape as cs_opts_parse's, Vietnamese then English. Returns 64. */
int cli_usage(const char *cmd, const char *vi, const char *en);

int cmd_migrate(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
int cmd_json(int argc, char **argv);
int cmd_check_live(int argc, char **argv);
int cmd_orders(int argc, char **argv);
int cmd_publish(int argc, char **argv);

/* `choso json`: the FIELDs (dotted paths) of the JSON text, tab-separated, one line — or one
 * line per element of the array at `each` (NULL: the document itself) — appended to out.
 * 0, or -1 with err (CS_E_BAD_REQUEST: not JSON / each not an array; CS_E_NOMEM). */
struct cs_buf;
int cli_json_select(const char *text, size_t len, const char *each, const char *const *fields,
                    size_t n, struct cs_buf *out, struct cs_error *err);
#endif
