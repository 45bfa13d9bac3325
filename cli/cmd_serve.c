/* cli/cmd_serve: `choso serve` — options, signals and the life of the HTTP server process. The
 * server itself is service/server.c; nothing here answers a request. */
#include "cli/cli.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/log.h"
#include "core/opts.h"
#include "service/server.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int cmd_serve(int argc, char **argv)
{
    const char *config = NULL, *address = NULL, *port = NULL, *threading = NULL, *threads = NULL;
    const cs_opt opts[] = {
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {"--address", NULL, CS_OPT_STR, 0, 0, &address, "ADDR", "listen address (http.address)"},
        {"--port", NULL, CS_OPT_STR, 0, 0, &port, "N", "listen port (http.port)"},
        {"--threading", NULL, CS_OPT_STR, 0, 0, &threading, "pool|per_connection",
         "http.threading"},
        {"--threads", NULL, CS_OPT_STR, 0, 0, &threads, "N", "worker threads (http.threads)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "serve", "[options]",
        "Serves the JSON API and the pages. Settings http.* (see choso config); SIGTERM or\n"
        "SIGINT stops accepting, lets running requests finish (http.shutdown_grace), exits.",
        opts, argc, argv, NULL, 0, NULL);
    int rc = cli_setup(config, 1);
    if (rc) return rc;
    /* The options are settings given on the command line: the same checks as from a file. */
    const char *set[][2] = {{"http.address", address},
                            {"http.port", port},
                            {"http.threading", threading},
                            {"http.threads", threads}};
    cs_error err;
    cs_error_clear(&err);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        if (!set[i][1]) continue;
        if (cs_config_set(set[i][0], set[i][1], &err)) {
            char vi[160], en[160];
            snprintf(vi, sizeof vi, "giá trị của '--%s' không hợp lệ: %s",
                     strchr(set[i][0], '.') + 1,
                     err.nfields ? cs_code_message(err.fields[0].code, CS_LANG_VI) : err.detail);
            snprintf(en, sizeof en, "bad value for '--%s': %s", strchr(set[i][0], '.') + 1,
                     err.nfields ? cs_code_message(err.fields[0].code, CS_LANG_EN) : err.detail);
            return cs_opts_usage_error("choso serve", vi, en);
        }
    }

    /* Signals are taken synchronously by this thread; every thread MHD starts inherits the
     * mask, so none of them is interrupted. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (cs_db_pool_init(&err)) {
        fprintf(stderr, "choso serve: database: %s %s\n", cs_code_message(err.code, CS_LANG_EN),
                err.detail);
        return 1;
    }
    svc_server *s = svc_server_start(&err);
    if (!s) {
        fprintf(stderr, "choso serve: %s %s\n", cs_code_message(err.code, CS_LANG_EN),
                err.nfields ? err.fields[0].field : err.detail);
        cs_db_pool_shutdown();
        return 1;
    }
    const char *addr = cs_cfg_str("http.address");
    int v6 = strchr(addr, ':') != NULL;
    printf("{\"event\":\"listening\",\"port\":%u,\"url\":\"http://%s%s%s:%u\"}\n",
           svc_server_port(s), v6 ? "[" : "", *addr ? addr : "0.0.0.0", v6 ? "]" : "",
           svc_server_port(s));
    fflush(stdout);

    int sig = 0;
    do {
        if (sigwait(&sigs, &sig)) sig = SIGTERM;
    } while (sig == SIGPIPE);
    cs_info("shutdown", "signal %d: draining", sig);
    unsigned left = svc_server_stop(s, (unsigned)cs_cfg_int("http.shutdown_grace"));
    cs_db_pool_shutdown();
    cs_crypto_shutdown();
    return left ? 1 : 0;
}
