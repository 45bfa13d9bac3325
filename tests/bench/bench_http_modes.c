/* Benchmark server for choosing the MHD threading mode (service/server.c): `choso serve` plus
 * two routes — GET /b/fast (no I/O) and GET /b/db (one query that waits ~5 ms in MariaDB,
 * standing in for a handler blocked on the database). Prints {"port":N} and serves until
 * SIGTERM/SIGINT; scripts/bench-http-modes drives wrk against it in both modes. */
#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "service/router.h"
#include "service/server.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static int b_fast(svc_req *r)
{
    return svc_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static int b_db(svc_req *r)
{
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = svc_db(r, &e);
    int64_t v = 0;
    if (!db || cs_db_scalar_i64(db, &v, "SELECT SLEEP(0.005)", "", &e) < 0)
        return svc_reply_problem(r, &e);
    return svc_reply_json(r, 200, json_pack("{s:I}", "slept", (json_int_t)v));
}

int main(void)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) {
        fprintf(stderr, "bench_http_modes: configuration: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    enum cs_log_level lvl;
    if (!cs_log_level_parse(cs_cfg_str("log.level"), &lvl)) cs_log_set_level(lvl);
    static const svc_route routes[] = {
        {"GET", "/b/fast", b_fast, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_NOAUTH},
        {"GET", "/b/db", b_db, SVC_PUBLIC, SVC_R_INTERNAL | SVC_R_NOAUTH},
    };
    for (size_t i = 0; i < 2; i++)
        if (svc_router_add(&routes[i])) return 1;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (cs_db_pool_init(&e)) return 1;
    svc_server *s = svc_server_start(&e);
    if (!s) {
        fprintf(stderr, "bench_http_modes: %s %s\n", cs_code_name(e.code), e.detail);
        return 1;
    }
    printf("{\"port\":%u}\n", svc_server_port(s));
    fflush(stdout);
    int sig;
    sigwait(&sigs, &sig);
    svc_server_stop(s, 5);
    cs_db_pool_shutdown();
    return 0;
}
