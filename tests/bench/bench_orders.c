/* tests/bench/bench_orders: order sync throughput and exactness against the Lazada simulator
 * (make bench-orders, through scripts/bench-orders which provides a migrated private database).
 * A benchmark, not a test: it prints figures and exits 1 only when something fails (a line
 * missing or counted twice, jobs left unfinished) or a budget is missed (≥ 0.95 R, ≤ 64 MiB).
 *
 * The simulator runs in this process, capped at R requests/s, with 100 ms latency and 3 %
 * transient faults (5xx, 429, dropped connections) plus 1 % malformed pages. SHOPS active Lazada
 * accounts (real tokens from the simulator's OAuth), one live listing each, and ORDERS orders per
 * shop with mixed fates (delivered, cancelled, returned) are made here; then a `choso worker`
 * child runs one orders.sync job per account and we time it until every job is done, sampling
 * its VmHWM from /proc, and compare the counted lines with the simulator's delivered orders. */
#include "sandbox/sandbox_int.h"
#include "jobs/job.h"
#include "sandbox/sandbox.h"
#include "tests/support/tbench.h"
#include "tests/support/tmarket.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/flows.h"
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long shops = 2000, per = 20, rate = 50, latency = 100, threads = 0;
    double faults = 0.03;
    const char *choso = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--shops") && v)
            shops = tb_arg_long(v, 1, 100000, a), i++;
        else if (!strcmp(a, "--orders") && v)
            per = tb_arg_long(v, 1, 100, a), i++;
        else if (!strcmp(a, "--rate") && v)
            rate = tb_arg_long(v, 1, 100000, a), i++;
        else if (!strcmp(a, "--latency-ms") && v)
            latency = tb_arg_long(v, 0, 10000, a), i++;
        else if (!strcmp(a, "--threads") && v)
            threads = tb_arg_long(v, 1, 256, a), i++;
        else if (!strcmp(a, "--faults") && v)
            faults = (double)tb_arg_long(v, 0, 50, a) / 100.0, i++;
        else if (!strcmp(a, "--choso") && v)
            choso = v, i++;
        else {
            fprintf(stderr, "usage: bench_orders --choso PATH [--shops N] [--orders N] [--rate R] "
                            "[--latency-ms MS] [--faults PERCENT] [--threads T]\n");
            return 64;
        }
    }
    if (!choso) {
        fprintf(stderr, "bench-orders: --choso PATH is needed\n");
        return 64;
    }
    if (!threads) {
        threads = (long)((double)rate * ((double)latency / 1000.0 + 0.05) * 4.0) + 4;
        if (threads > 64) threads = 64;
    }
    tb_init("bench-orders");
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) tb_die("config", &e);
    cs_log_set_level(CS_LOG_ERROR);
    if (cs_crypto_init(cs_cfg_str("crypto.key_file"), &e) || cs_db_pool_init(&e))
        tb_die("start", &e);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cs_db *db = cs_db_acquire(&e);
    if (!db) tb_die("database", &e);

    sbx_options o;
    sbx_options_default(&o);
    o.review_delay_ms = 0;
    o.seed = 1100;
    o.max_items = shops + 1000;
    o.rate = (double)rate;
    sbx_sandbox *sb;
    if (sbx_start(&o, &sb, &e)) tb_die("sandbox", &e);
    char lz[128];
    sbx_url(sb, SBX_LAZADA, lz, sizeof lz);
    char secret_file[600], rate_s[32];
    tb_secret_file(TM_LAZADA_APP_SECRET, secret_file, sizeof secret_file);
    snprintf(rate_s, sizeof rate_s, "%ld", rate);
    struct {
        const char *k, *v;
    } env[] = {
        {"CHOSO_LAZADA_BASE_URL", lz},
        {"CHOSO_LAZADA_AUTH_URL", lz},
        {"CHOSO_LAZADA_APP_KEY", TM_LAZADA_APP_KEY},
        {"CHOSO_LAZADA_APP_SECRET_FILE", secret_file},
        {"CHOSO_LAZADA_RATE_PER_SEC", rate_s},
        {"CHOSO_HTTP_PUBLIC_URL", "http://127.0.0.1:8080"},
        {"CHOSO_FLOWS_RETRY_CAP", "2"},
        {"CHOSO_JOBS_BACKOFF_BASE", "1"},
        {"CHOSO_JOBS_BACKOFF_CAP", "4"},
        {"CHOSO_JOBS_MAX_ATTEMPTS", "50"},
        {"CHOSO_WORKER_POLL_MS", "20"},
        {"CHOSO_CX_TOTAL_TIMEOUT_MS", "5000"},
        {"CHOSO_ORDERS_LOOKBACK_DAYS", "1"},
        {"CHOSO_ORDERS_SYNC_PERIOD", "0"}, /* no sweep: exactly the jobs enqueued here */
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        setenv(env[i].k, env[i].v, 1);
    if (cs_config_set("lazada.base_url", lz, &e) || cs_config_set("lazada.auth_url", lz, &e) ||
        cs_config_set("lazada.app_key", TM_LAZADA_APP_KEY, &e) ||
        cs_config_set("lazada.app_secret", TM_LAZADA_APP_SECRET, &e) ||
        cs_config_set("http.public_url", "http://127.0.0.1:8080", &e))
        tb_die("config", &e);
    job_flows_reset();

    printf("bench-orders: %ld shops x %ld orders, R = %ld req/s, latency %ld ms, %.0f %% faults "
           "(+1 %% malformed), %ld worker threads\n",
           shops, per, rate, latency, faults * 100, threads);
    fflush(stdout);
    double t_setup = tb_now();
    long long delivered_units = 0, lines_total = 0;
    for (long h = 0; h < shops; h++) {
        char code[24], seed[24];
        snprintf(code, sizeof code, "TH-2026-8%05ld", h);
        snprintf(seed, sizeof seed, "bench-orders-%ld", h);
        int64_t hid = tb_household(db, code, seed);
        int64_t aid = tb_lazada_account(db, lz, hid);
        cs_rows *r = NULL;
        if (cs_db_query(db, &r, "SELECT external_shop_id FROM seller_accounts WHERE id = ?", "i",
                        aid, &e) ||
            cs_rows_count(r) != 1)
            tb_die("shop id", &e);
        char shop[SB_ID_MAX];
        snprintf(shop, sizeof shop, "%s", cs_rows_str(r, 0, 0));
        cs_rows_free(r);
        if (cs_db_exec(db,
                       "INSERT INTO products (household_id, name, name_folded, description, "
                       "category, price_vnd, stock, weight_g, length_mm, width_mm, height_mm, "
                       "content_hash) VALUES (?, 'Mắm tôm Hậu Lộc', 'mam tom', 'Đặc sản Thanh "
                       "Hóa.', 'condiment', 45000, 50, 500, 120, 80, 80, UNHEX(SHA2(?, 256)))",
                       "is", hid, seed, &e) < 0)
            tb_die("product", &e);
        int64_t pid = (int64_t)cs_db_insert_id(db);
        if (cs_db_exec(db,
                       "INSERT INTO listings (product_id, marketplace_code, account_id, state) "
                       "VALUES (?, 'lazada', ?, 'live')",
                       "ii", pid, aid, &e) < 0)
            tb_die("listing", &e);
        int64_t lid = (int64_t)cs_db_insert_id(db);
        /* the shop's item in the simulator and its buyers: mixed fates, 1-3 units each */
        pthread_mutex_lock(&sb->mu);
        sb_item *it = sbx_item_new(sb, SBX_LAZADA);
        if (!it) tb_die("simulator item", NULL);
        snprintf(it->shop_id, sizeof it->shop_id, "%s", shop);
        snprintf(it->sku, sizeof it->sku, "CS-%lld", (long long)lid);
        it->price = 45000;
        it->state = SB_IT_LIVE;
        for (long k = 0; k < per; k++) {
            int fate = k % 10 == 3   ? SB_FATE_CANCELLED
                       : k % 10 == 7 ? SB_FATE_RETURNED
                                     : SB_FATE_DELIVERED;
            long long qty = 1 + k % 3;
            if (!sbx_order_place(sb, it, qty, fate, sbx_now_ms())) tb_die("simulator order", NULL);
            lines_total += qty;
            if (fate == SB_FATE_DELIVERED) delivered_units += qty;
        }
        pthread_mutex_unlock(&sb->mu);
    }
    pthread_mutex_lock(&sb->mu);
    sbx_orders_settle(sb, -1, sbx_now_ms());
    pthread_mutex_unlock(&sb->mu);
    /* one orders.sync job per account, as the periodic sweep enqueues them */
    cs_rows *acc = NULL;
    if (cs_db_query(db, &acc, "SELECT id FROM seller_accounts ORDER BY id", "", &e))
        tb_die("accounts", &e);
    for (size_t i = 0; i < cs_rows_count(acc); i++) {
        char payload[64];
        snprintf(payload, sizeof payload, "{\"account_id\":%lld}",
                 (long long)cs_rows_i64(acc, i, 0));
        if (job_enqueue(db, "orders.sync", payload, NULL, NULL, &e) < 0) tb_die("enqueue", &e);
    }
    cs_rows_free(acc);
    printf("bench-orders: setup %.1f s (%lld order lines, %lld delivered units expected)\n",
           tb_now() - t_setup, lines_total, delivered_units);
    fflush(stdout);

    tb_lazada_faults(lz, latency, faults, 0.01);
    long long req0, thr0, dup0;
    tb_lazada_counts(sb, &req0, &thr0, &dup0);

    char conc[16];
    snprintf(conc, sizeof conc, "%ld", threads);
    double t0 = tb_now();
    pid_t child = fork();
    if (child < 0) tb_die("fork", NULL);
    if (child == 0) {
        execl(choso, choso, "worker", "--concurrency", conc, "--kinds", "orders.sync",
              (char *)NULL);
        _exit(127);
    }
    long peak = 0;
    int64_t left = 1;
    double last_print = t0, first_req = 0, last_req = 0;
    long long seen_req = req0;
    while (left > 0) {
        usleep(200 * 1000);
        long kb = tb_vmhwm_kb(child);
        if (kb > peak) peak = kb;
        /* the active window: from the first request the simulator answered to the last */
        long long rq, th, du;
        tb_lazada_counts(sb, &rq, &th, &du);
        if (rq > seen_req) {
            if (!first_req) first_req = tb_now();
            last_req = tb_now();
            seen_req = rq;
        }
        left = tb_count(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'orders.sync' AND state IN "
                            "('queued','running')");
        int st;
        if (waitpid(child, &st, WNOHANG) == child) {
            fprintf(stderr, "bench-orders: the worker exited early\n");
            return 1;
        }
        if (tb_now() - last_print > 15) {
            last_print = tb_now();
            printf("bench-orders: %.0f s, %lld accounts left\n", last_print - t0, (long long)left);
            fflush(stdout);
        }
        if (tb_now() - t0 > 3600) break;
    }
    double t1 = tb_now();
    long kb = tb_vmhwm_kb(child);
    if (kb > peak) peak = kb;
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    long long req1, thr1, dups;
    tb_lazada_counts(sb, &req1, &thr1, &dups);
    double secs = t1 - t0;
    long long reqs = req1 - req0, thr = thr1 - thr0;
    int64_t dead = tb_count(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'orders.sync' AND state = "
                                "'dead'");
    int64_t stored = tb_count(db, "SELECT COUNT(*) FROM order_lines");
    int64_t units = tb_count(db, "SELECT COALESCE(SUM(units), 0) FROM order_counts");
    int64_t counted = tb_count(db, "SELECT COALESCE(SUM(qty), 0) FROM order_lines WHERE counted");
    long long missing = delivered_units > units ? delivered_units - units : 0;
    long long twice = units > delivered_units ? units - delivered_units : 0;
    double active = last_req > first_req ? last_req - first_req : secs;
    double useful = (double)(reqs - thr) / active;
    printf("bench-orders: %.1f s in all (worker start and the last retries' back-off included), "
           "%.1f s from the first request to the last; %lld requests (%lld throttled by the "
           "simulator)\n",
           secs, active, reqs, thr);
    printf("bench-orders: achieved / R = %.3f over the active window (%.3f over the whole run; "
           "budget >= 0.95)\n",
           useful / (double)rate, (double)(reqs - thr) / secs / (double)rate);
    printf("bench-orders: order lines stored %lld of %lld; delivered units counted %lld (lines) / "
           "%lld (counters) of %lld: %lld missing, %lld double\n",
           (long long)stored, lines_total, (long long)counted, (long long)units, delivered_units,
           missing, twice);
    printf("bench-orders: %lld accounts' jobs dead, %lld still open\n", (long long)dead,
           (long long)left);
    printf("bench-orders: worker peak memory (VmHWM) %.1f MiB (budget <= 64)\n",
           (double)peak / 1024.0);
    sbx_stop(sb);
    cs_db_release(db);
    cs_db_pool_shutdown();
    unlink(secret_file);
    return missing || twice || counted != units || dead || left || stored != lines_total ||
                   useful / (double)rate < 0.95 || peak > 64 * 1024
               ? 1
               : 0;
}
