/* service/cli: the `choso` subcommands. Each takes argc/argv after the subcommand name and
 * returns a process exit code (0 ok, 1 failure, 64 usage error as in sysexits.h). */
#ifndef SVC_CLI_H
#define SVC_CLI_H
#include <stddef.h>

#define CLI_EX_USAGE 64
#define CLI_EX_CONFIG 78

/* Load configuration (file from --config or CHOSO_CONFIG, then environment), set the log
 * level, and — when need_keys — load the data key. Prints every problem to stderr naming the
 * setting. Returns 0 or an exit code. */
int cli_setup(const char *config_path, int need_keys);
/* Print a usage error for `cmd` and return CLI_EX_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print err to stderr for `cmd`: the registry message (vi / en), code, detail, one line per
 * field error. */
struct cs_error;
void cli_print_error(const char *cmd, const struct cs_error *err);

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

/* `choso json`: the FIELDs (dotted paths) of the JSON text, tab-separated, one line — or one
 * line per element of the array at `each` (NULL: the document itself) — appended to out.
 * 0, or -1 with err (CS_E_BAD_REQUEST: not JSON / each not an array; CS_E_NOMEM). */
struct cs_buf;
int cli_json_select(const char *text, size_t len, const char *each, const char *const *fields,
                    size_t n, struct cs_buf *out, struct cs_error *err);
#endif
