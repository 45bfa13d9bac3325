/* service/cli_key: `choso key create|rotate` — the data key file (sealing keys + blind-index
 * key). Never prints key material. */
#include "core/config.h"
#include "core/crypto.h"
#include "service/cli.h"
#include <stdio.h>
#include <string.h>

static void key_help(void)
{
    printf("usage: choso key create|rotate [--file PATH] [--config FILE]\n\n"
           "create  makes a new key file (mode 0600) at PATH or crypto.key_file if none exists\n"
           "rotate  adds a new sealing key and makes it active; values sealed with older keys\n"
           "        still open (the blind-index key never changes, so look-ups keep working)\n");
}

int cmd_key(int argc, char **argv)
{
    const char *file = NULL, *config = NULL, *action = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            key_help();
            return 0;
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config = argv[++i];
        } else if (!action && (!strcmp(argv[i], "create") || !strcmp(argv[i], "rotate"))) {
            action = argv[i];
        } else {
            return cli_usage_error("key", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!action) return cli_usage_error("key", "say create or rotate");
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
