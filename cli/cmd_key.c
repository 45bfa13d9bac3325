/* cli/cmd_key: `choso key create|rotate` — the data key file (sealing keys + blind-index
 * key). Never prints key material. */
#include "core/config.h"
#include "core/crypto.h"
#include "cli/cli.h"
#include <stdio.h>
#include <string.h>

int cmd_key(int argc, char **argv)
{
    const char *file = NULL, *config = NULL, *action = NULL;
    size_t npos = 0;
    const cs_opt opts[] = {
        {"--file", NULL, CS_OPT_STR, 0, 0, &file, "PATH",
         "the key file (default: crypto.key_file)"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "key", "create|rotate [--file PATH] [--config FILE]",
        "create  makes a new key file (mode 0600) at PATH or crypto.key_file if none exists\n"
        "rotate  adds a new sealing key and makes it active; values sealed with older keys\n"
        "        still open (the blind-index key never changes, so look-ups keep working)",
        opts, argc, argv, &action, 1, &npos);
    if (!npos || (strcmp(action, "create") && strcmp(action, "rotate")))
        return cli_usage("key", "hãy ghi create hoặc rotate", "say create or rotate");
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    if (!file) file = cs_cfg_str("crypto.key_file");
    cs_error err;
    cs_error_clear(&err);
    if (!strcmp(action, "create")) {
        int r = cs_crypto_keyfile_create(file, &err);
        if (r < 0) {
            cli_print_error("key", &err);
            return 1;
        }
        printf("%s: %s\n", file, r == 1 ? "created (mode 0600)" : "already exists, left as it is");
        return 0;
    }
    if (cs_crypto_keyfile_rotate(file, &err)) {
        cli_print_error("key", &err);
        return 1;
    }
    printf("%s: new sealing key added and active; restart serve and worker to use it\n", file);
    return 0;
}
