/* tests/bench/bench_sync: publishing throughput against the Lazada simulator (make bench-sync,
 * through scripts/bench-sync which provides a migrated private database). A benchmark, not a
 * test: it prints figures and exits 1 only when something fails (a duplicate item, listings
 * left unfinished) or the budget (≥ 0.95 R) is missed.
 *
 * The simulator runs in this process, capped at R requests/s (its own ApiCallLimit error above
 * that), with 100 ms latency and 3 % transient faults (5xx, 429, dropped connections). The
 * households, products and active Lazada accounts (real tokens from the simulator's OAuth) are
 * made here; then a `choso worker` child publishes every listing (image → create → status) and
 * we time it until every listing is live or rejected, sampling its VmHWM from /proc.
 * With --orders P (scripts/test-cluster), buyers order on P % of the items as they go live
 * (delivered, cancelled, returned), the workers' orders.sync reads them during the run, and at
 * the end every order line the simulator holds is written to --orders-out for the script to
 * find on every node. */
#include "sandbox/sandbox_int.h"
#include "jobs/job.h"
#include "jobs/orders.h"
#include "sandbox/sandbox.h"
#include "tests/support/tbench.h"
#include "tests/support/tmarket.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/products.h"
#include "jobs/flows.h"
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* queue_all publishes in runs of RUN products */
#define RUN 250

/* A connection, waiting out a database node that is down (scripts/test-cluster kills one). */
static cs_db *acquire_patiently(void)
{
    cs_error e;
    for (int try = 0;; try++) {
        cs_error_clear(&e);
        cs_db *db = cs_db_acquire(&e);
        if (db) return db;
        if (try == 120) tb_die("database", &e);
        usleep(500 * 1000);
    }
}

/* A count on db that waits out a lost node (scripts/test-cluster kills the workers' node during
 * the run): a lost connection reopens on the next statement, on another node. */
static int64_t count(cs_db *db, const char *sql)
{
    cs_error e;
    for (int try = 0;; try++) {
        int64_t n = 0;
        cs_error_clear(&e);
        if (cs_db_scalar_i64(db, &n, sql, "", &e) == 0) return n;
        if (try == 120) tb_die("count", &e);
        usleep(500 * 1000);
    }
}

/* The `choso worker` children: stopped on every way out, an early exit (tb_die, a refused
 * product, a worker gone) included — left running they would poll a stopped database. */
static pid_t kids[16];
static int alive[16];
static long nkids;

static void stop_workers(void)
{
    for (long w = 0; w < nkids; w++)
        if (alive[w]) kill(kids[w], SIGKILL);
    for (long w = 0; w < nkids; w++)
        if (alive[w]) waitpid(kids[w], NULL, 0), alive[w] = 0;
}

/* Buyers: each `every`-th Lazada item that is live gets three orders — 2 units delivered, 1
 * cancelled, 1 returned — once. ordered[] remembers the items served. Returns the orders placed. */
static long buy(sbx_sandbox *sb, unsigned char *ordered, size_t cap, long every)
{
    long n = 0;
    static const int fates[3] = {SB_FATE_DELIVERED, SB_FATE_CANCELLED, SB_FATE_RETURNED};
    pthread_mutex_lock(&sb->mu);
    for (size_t i = 0; i < sb->nitems && i < cap; i++) {
        const sb_item *it = &sb->items[i];
        if (ordered[i] || i % (size_t)every || it->market != SBX_LAZADA ||
            it->state != SB_IT_LIVE || strncmp(it->sku, "CS-", 3))
            continue;
        ordered[i] = 1;
        for (int f = 0; f < 3; f++)
            if (sbx_order_place(sb, it, f ? 1 : 2, fates[f], sbx_now_ms())) n++;
    }
    pthread_mutex_unlock(&sb->mu);
    return n;
}

/* Every active account's orders sync soon (what an order push does); coalesced per account. */
static void sync_soon(cs_db *db)
{
    cs_error e;
    cs_error_clear(&e);
    cs_rows *acc = NULL;
    if (cs_db_query(db, &acc, "SELECT id FROM seller_accounts ORDER BY id", "", &e)) {
        fprintf(stderr, "bench-sync: accounts: %s (next round)\n", e.detail);
        return;
    }
    for (size_t i = 0; i < cs_rows_count(acc); i++)
        if (job_orders_sync_soon(db, cs_rows_i64(acc, i, 0), &e) < 0) {
            fprintf(stderr, "bench-sync: orders.sync: %s (next round)\n", e.detail);
            cs_error_clear(&e);
        }
    cs_rows_free(acc);
}

static int64_t orders_open(cs_db *db)
{
    return count(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'orders.sync' AND state IN "
                     "('queued','running')");
}

/* Publish the n products of ps on a connection of its own, in runs of RUN products
 * (job_flows_publish_batch: listings and jobs of a run in one transaction of a few statements). */
static void queue_all(const int64_t *ps, size_t nps)
{
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = acquire_patiently();
    cs_actor a = cs_actor_system("bench");
    int64_t ids[RUN];
    for (size_t i = 0; i < nps; i += RUN) {
        size_t n = nps - i < RUN ? nps - i : RUN;
        memcpy(ids, ps + i, n * sizeof *ids);
        json_t *out = NULL, *refused = NULL;
        /* a database node may be killed meanwhile (scripts/test-cluster): try again on a fresh
         * connection; publishing a product already queued changes nothing */
        for (int try = 0; job_flows_publish_batch(db, ids, n, "lazada", &a, &out, &refused, &e);
             try++) {
            if (try == 10) tb_die("publish", &e);
            cs_db_release(db);
            usleep(500 * 1000);
            db = acquire_patiently();
            cs_error_clear(&e);
        }
        if (json_array_size(refused)) {
            fprintf(stderr, "bench-sync: %zu products refused\n", json_array_size(refused));
            exit(1);
        }
        json_decref(out);
        json_decref(refused);
    }
    cs_db_release(db);
}

int main(int argc, char **argv)
{
    long listings = 5000, rate = 50, latency = 100, threads = 0, households = 50, workers = 1;
    long kill_after = 0; /* --kill-worker-after S: kill -9 the first worker S s in (fault test) */
    long orders_pct = 0; /* --orders P: buyers on P % of the items (fault test) */
    const char *orders_out = NULL;
    double faults = 0.03;
    const char *choso = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--listings") && v)
            listings = tb_arg_long(v, 10, 1000000, a), i++;
        else if (!strcmp(a, "--rate") && v)
            rate = tb_arg_long(v, 1, 100000, a), i++;
        else if (!strcmp(a, "--latency-ms") && v)
            latency = tb_arg_long(v, 0, 10000, a), i++;
        else if (!strcmp(a, "--threads") && v)
            threads = tb_arg_long(v, 1, 256, a), i++;
        else if (!strcmp(a, "--workers") && v)
            workers = tb_arg_long(v, 1, 16, a), i++;
        else if (!strcmp(a, "--kill-worker-after") && v)
            kill_after = tb_arg_long(v, 1, 3600, a), i++;
        else if (!strcmp(a, "--households") && v)
            households = tb_arg_long(v, 1, 100000, a), i++;
        else if (!strcmp(a, "--faults") && v)
            faults = (double)tb_arg_long(v, 0, 50, a) / 100.0, i++;
        else if (!strcmp(a, "--orders") && v)
            orders_pct = tb_arg_long(v, 0, 100, a), i++;
        else if (!strcmp(a, "--orders-out") && v)
            orders_out = v, i++;
        else if (!strcmp(a, "--choso") && v)
            choso = v, i++;
        else {
            fprintf(stderr,
                    "usage: bench_sync --choso PATH [--listings N] [--rate R] [--latency-ms MS] "
                    "[--faults PERCENT] [--threads T] [--households H] [--workers W] "
                    "[--kill-worker-after S] [--orders PERCENT --orders-out FILE]\n");
            return 64;
        }
    }
    if (!choso) {
        fprintf(stderr, "bench-sync: --choso PATH is needed\n");
        return 64;
    }
    /* enough handler threads for each worker's share (R ÷ W) in flight at this latency, with
     * room; more only holds connections open (the simulator takes at most 512) */
    if (!threads) {
        threads =
            (long)((double)rate / (double)workers * ((double)latency / 1000.0 + 0.05) * 4.0) + 4;
        if (threads > 128) threads = 128;
    }
    tb_init("bench-sync");
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) tb_die("config", &e);
    cs_log_set_level(CS_LOG_WARN);
    if (cs_crypto_init(cs_cfg_str("crypto.key_file"), &e) || cs_db_pool_init(&e))
        tb_die("start", &e);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cs_db *db = cs_db_acquire(&e);
    if (!db) tb_die("database", &e);

    /* the simulator */
    char cat[1024];
    snprintf(cat, sizeof cat, "%s/data/category_map.csv", cs_cfg_str("schema.dir"));
    sbx_options o;
    sbx_options_default(&o);
    o.review_delay_ms = 0;
    o.category_file = cat;
    o.seed = 5000;
    o.max_items = listings * 2 + 1000;
    o.rate = (double)rate;
    sbx_sandbox *sb;
    if (sbx_start(&o, &sb, &e)) tb_die("sandbox", &e);
    char lz[128];
    sbx_url(sb, SBX_LAZADA, lz, sizeof lz);
    const char *secret = TM_LAZADA_APP_SECRET;
    char secret_file[600], rate_s[32];
    tb_secret_file(secret, secret_file, sizeof secret_file);
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
        {"CHOSO_FLOWS_STATUS_DELAY", "1"},
        {"CHOSO_FLOWS_RETRY_CAP", "2"},
        {"CHOSO_JOBS_BACKOFF_BASE", "1"},
        {"CHOSO_JOBS_BACKOFF_CAP", "4"},
        {"CHOSO_JOBS_MAX_ATTEMPTS", "30"},
        {"CHOSO_WORKER_POLL_MS", "20"},
        {"CHOSO_CX_TOTAL_TIMEOUT_MS", "5000"},
        {"CHOSO_FLOWS_POLL_PERIOD", "30"},
        {"CHOSO_ORDERS_SYNC_PERIOD", "0"}, /* no sweep: the syncs this benchmark asks for */
        {"CHOSO_ORDERS_LOOKBACK_DAYS", "1"},
        {"CHOSO_ORDERS_PUSH_DELAY", "0"},
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        setenv(env[i].k, env[i].v, 1);
        char key[96];
        size_t k = 0;
        for (const char *p = env[i].k + 6; *p && k + 1 < sizeof key; p++)
            key[k++] = *p == '_' ? '.' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        key[k] = '\0';
        /* settings use dots between room and name only: lazada.base_url, flows.status_delay */
        char *dot = strchr(key, '.');
        for (char *p = dot ? dot + 1 : key; *p; p++)
            if (*p == '.') *p = '_';
        if (strcmp(env[i].k, "CHOSO_LAZADA_APP_SECRET_FILE") && cs_config_set(key, env[i].v, &e))
            tb_die(key, &e);
    }
    if (cs_config_set("lazada.app_secret", secret, &e)) tb_die("lazada.app_secret", &e);
    job_flows_reset();

    /* households, products with one image each, accounts authorised through the simulator */
    printf("bench-sync: %ld listings over %ld households, R = %ld req/s, latency %ld ms, %.0f %% "
           "faults, %ld worker(s) of %ld "
           "threads\n",
           listings, households, rate, latency, faults * 100, workers, threads);
    fflush(stdout);
    double t_setup = tb_now();
    static const unsigned char png[] = {
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
        0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00,
        0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82};
    unsigned char dg[32];
    char sha[65], dir[700], file[800];
    cs_sha256(png, sizeof png, dg);
    cs_hex(dg, 32, sha);
    snprintf(dir, sizeof dir, "%s/%.2s", cs_cfg_str("media.dir"), sha);
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/%s", dir, sha + 2);
    FILE *img = fopen(file, "wb");
    if (!img) tb_die("media file", NULL);
    fwrite(png, 1, sizeof png, img);
    fclose(img);
    for (long h = 0; h < households; h++) {
        char code[24], seed[24];
        snprintf(code, sizeof code, "TH-2026-9%05ld", h);
        snprintf(seed, sizeof seed, "bench-%ld", h);
        int64_t hid = tb_household(db, code, seed);
        tb_lazada_account(db, lz, hid);
        long per = listings / households + (h < listings % households);
        for (long p = 0; p < per; p++) {
            char name[96];
            snprintf(name, sizeof name, "Mắm tôm Hậu Lộc hũ %ld g", 100 + p);
            if (cs_db_exec(db,
                           "INSERT INTO products (household_id, name, name_folded, description, "
                           "category, price_vnd, stock,"
                           " weight_g, length_mm, width_mm, height_mm, content_hash) VALUES (?, ?, "
                           "'mam tom', 'Đặc sản"
                           " Thanh Hóa, làm thủ công.', 'condiment', 45000, 50, 500, 120, 80, 80, "
                           "UNHEX(SHA2(?, 256)))",
                           "iss", hid, name, name, &e) < 0)
                tb_die("product", &e);
            int64_t pid = (int64_t)cs_db_insert_id(db);
            if (cs_db_exec(db,
                           "INSERT INTO product_images (product_id, sha256, mime, bytes, position) "
                           "VALUES (?, ?,"
                           " 'image/png', ?, 0)",
                           "isi", pid, sha, (int64_t)sizeof png, &e) < 0)
                tb_die("image", &e);
        }
    }
    /* latency and transient faults from now on */
    tb_lazada_faults(lz, latency, faults, 0);
    long long req0, thr0, dup0;
    tb_lazada_counts(sb, &req0, &thr0, &dup0);

    char conc[16];
    snprintf(conc, sizeof conc, "%ld", threads);
    /* W workers share the budget (each paces at R ÷ live workers, jobs/members) */
    atexit(stop_workers);
    for (long w = 0; w < workers; w++) {
        kids[w] = fork();
        if (kids[w] < 0) tb_die("fork", NULL);
        if (kids[w] == 0) {
            /* and when this process dies by a signal (scripts/test-cluster's TERM on a failure,
             * a kill -9), the worker goes with it */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == 1) _exit(127);
            execl(choso, choso, "worker", "--concurrency", conc, "--kinds",
                  orders_pct ? "listing.publish,listing.status,listing.poll,orders.sync"
                             : "listing.publish,listing.status,listing.poll",
                  (char *)NULL);
            _exit(127);
        }
        alive[w] = 1;
        nkids = w + 1;
    }
    pid_t child = kids[0];
    /* Workers run before a publish run starts, as in production: wait until every one counts
     * itself and its newcomer's hold (jobs/worker.c, 2.5 s) is over, then queue the listings
     * and time from there — queueing is inside the measured time, a cold start is not. */
    for (double tw = tb_now(); count(db, "SELECT COUNT(*) FROM workers"
                                         " WHERE expires_at > UTC_TIMESTAMP(3)") < workers;) {
        if (tb_now() - tw > 60) tb_die("workers did not register", NULL);
        usleep(100 * 1000);
    }
    usleep(3000 * 1000);
    double t0 = tb_now();
    /* the candidates `choso publish` would put forward (core/products), read in runs of RUN */
    int64_t *ps = cs_calloc((size_t)listings + RUN, sizeof *ps);
    size_t nps = 0, got = 0;
    if (!ps) tb_die("memory", NULL);
    do {
        for (int try = 0; cs_product_publish_candidates(
                 db, "lazada", NULL, NULL, nps ? ps[nps - 1] : 0, ps + nps, RUN, &got, &e);
             try++) {
            if (try == 120) tb_die("products", &e);
            usleep(500 * 1000);
            cs_error_clear(&e);
        }
        nps += got;
    } while (got == RUN && nps <= (size_t)listings);
    /* one publish run, queued in runs of RUN products: one product per transaction (4 threads,
     * ~15 statements and a Galera commit each) took 64–74 s of the two CPUs for 3,000 at R = 200
     * on the cluster, longer than publishing them */
    queue_all(ps, nps);
    cs_free(ps);
    printf("bench-sync: %lld listings queued in %.1f s (setup %.1f s before)\n",
           (long long)count(db, "SELECT COUNT(*) FROM listings"), tb_now() - t0, t0 - t_setup);
    fflush(stdout);

    long peak = 0;
    int64_t left = listings;
    double last_print = t0, last_sync = t0;
    size_t ocap = (size_t)o.max_items;
    unsigned char *ordered = cs_calloc(ocap, 1);
    long every = orders_pct ? 100 / orders_pct : 0, placed = 0;
    if (orders_pct) {
        pthread_mutex_lock(&sb->mu);
        sb->order_step_ms = 1500; /* statuses move during the run, syncs see them move */
        pthread_mutex_unlock(&sb->mu);
    }
    /* requests a second over each 5 s of the run: where a shortfall lies (start, steady, tail) */
    char timeline[2048] = "";
    size_t tl = 0;
    double next_mark = tb_now() + 5, mark_t = t0;
    long long mark_req = req0;
    while (left > 0) {
        usleep(100 * 1000); /* the end is seen at most this late */
        if (tb_now() >= next_mark) {
            long long rq, th, du;
            tb_lazada_counts(sb, &rq, &th, &du);
            double now = tb_now();
            if (tl + 16 < sizeof timeline)
                tl += (size_t)snprintf(timeline + tl, sizeof timeline - tl, " %.0f",
                                       (double)(rq - mark_req) / (now - mark_t));
            mark_req = rq;
            mark_t = now;
            next_mark = now + 5;
        }
        if (every) placed += buy(sb, ordered, ocap, every);
        if (every && tb_now() - last_sync >= 5) {
            last_sync = tb_now();
            sync_soon(db);
        }
        long kb = alive[0] ? tb_vmhwm_kb(child) : 0;
        if (kb > peak) peak = kb;
        left = count(
            db, "SELECT COUNT(*) FROM listings WHERE state NOT IN ('live','rejected','failed')");
        if (kill_after && alive[0] && workers > 1 && tb_now() - t0 >= (double)kill_after) {
            kill(kids[0], SIGKILL);
            waitpid(kids[0], NULL, 0);
            alive[0] = 0;
            printf("bench-sync: worker 1 killed (kill -9) at %.0f s, %lld listings left\n",
                   tb_now() - t0, (long long)left);
            fflush(stdout);
        }
        for (long w = 0; w < workers; w++) {
            int st;
            if (alive[w] && waitpid(kids[w], &st, WNOHANG) == kids[w]) {
                alive[w] = 0;
                fprintf(stderr, "bench-sync: worker %ld exited early\n", w + 1);
                return 1;
            }
        }
        if (tb_now() - last_print > 15) {
            last_print = tb_now();
            printf("bench-sync: %.0f s, %lld left\n", last_print - t0, (long long)left);
            fflush(stdout);
        }
        if (tb_now() - t0 > 3600) break;
    }
    double t1 = tb_now();
    {
        /* what the run's last seconds waited for: jobs that ended then, by kind and attempt */
        enum { T_KIND, T_ATTEMPTS, T_COUNT, T_MS };
        cs_rows *tail = NULL;
        if (!cs_db_query(db, &tail,
                         "SELECT kind, attempts, COUNT(*),"
                         " CAST(AVG(TIMESTAMPDIFF(MICROSECOND, created_at, finished_at)) / 1000"
                         " AS SIGNED)"
                         " FROM jobs"
                         " WHERE finished_at > NOW(3) - INTERVAL 5 SECOND"
                         " GROUP BY kind, attempts ORDER BY kind, attempts",
                         "", &e)) {
            printf("bench-sync: jobs ended in the last 5 s (kind attempts count ms-since-queued):");
            for (size_t i = 0; i < cs_rows_count(tail); i++)
                printf(" %s/%lld/%lld/%lld", cs_rows_str(tail, i, T_KIND),
                       (long long)cs_rows_i64(tail, i, T_ATTEMPTS),
                       (long long)cs_rows_i64(tail, i, T_COUNT),
                       (long long)cs_rows_i64(tail, i, T_MS));
            printf("\n");
        }
        cs_rows_free(tail);
        cs_error_clear(&e);
    }
    if (every) {
        /* what the syncs during the run (and its faults) stored, before the last round */
        printf("bench-sync: %lld order lines stored by %lld orders.sync runs during publishing\n",
               (long long)count(db, "SELECT COUNT(*) FROM order_lines"),
               (long long)count(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'orders.sync' AND "
                                    "state = 'done'"));
        /* the last items gone live get their buyers; every order ends; the workers read it all */
        placed += buy(sb, ordered, ocap, every);
        pthread_mutex_lock(&sb->mu);
        sbx_orders_settle(sb, -1, sbx_now_ms());
        pthread_mutex_unlock(&sb->mu);
        double tw = tb_now();
        while (orders_open(db) > 0 && tb_now() - tw < 120)
            usleep(200 * 1000);
        sync_soon(db);
        usleep(300 * 1000);
        while (orders_open(db) > 0 && tb_now() - tw < 120)
            usleep(200 * 1000);
        printf("bench-sync: %ld orders placed, all settled and synced in %.1f s after publishing "
               "(%lld orders.sync jobs open, %lld dead)\n",
               placed, tb_now() - t1, (long long)orders_open(db),
               (long long)count(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'orders.sync' AND "
                                    "state = 'dead'"));
        FILE *f = orders_out ? fopen(orders_out, "w") : NULL;
        if (orders_out && !f) tb_die("--orders-out", NULL);
        long long lines = 0;
        static const char *const states[] = {"delivered", "cancelled", "returned"};
        pthread_mutex_lock(&sb->mu);
        for (size_t i = 0; i < sb->norders; i++) {
            const sb_order *od = &sb->orders[i];
            if (od->market != SBX_LAZADA || strncmp(od->sku, "CS-", 3)) continue;
            for (long long k = 0; k < od->qty; k++, lines++)
                if (f)
                    fprintf(f, "lazada\t%lld\t%lld\t%s\n", od->id, od->line_id + k,
                            states[od->fate]);
        }
        pthread_mutex_unlock(&sb->mu);
        if (f) fclose(f);
        printf("bench-sync: %lld order lines at the simulator\n", lines);
    }
    cs_free(ordered);
    long kb = alive[0] ? tb_vmhwm_kb(child) : 0;
    if (kb > peak) peak = kb;
    for (long w = 0; w < workers; w++)
        if (alive[w]) kill(kids[w], SIGTERM);
    for (long w = 0; w < workers; w++)
        if (alive[w]) waitpid(kids[w], NULL, 0), alive[w] = 0;
    long long req1, thr1, dups;
    tb_lazada_counts(sb, &req1, &thr1, &dups);
    double secs = t1 - t0;
    long long reqs = req1 - req0, thr = thr1 - thr0;
    double rps = (double)reqs / secs;
    int64_t live = count(db, "SELECT COUNT(*) FROM listings WHERE state = 'live'");
    int64_t rejected = count(db, "SELECT COUNT(*) FROM listings WHERE state = 'rejected'");
    int64_t failed = count(db, "SELECT COUNT(*) FROM listings WHERE state = 'failed'");
    int64_t adopted =
        count(db, "SELECT COUNT(*) FROM listing_events WHERE reason_code = 'adopted'");
    printf("bench-sync: %lld live, %lld rejected, %lld failed, %lld left, %lld adopted after an "
           "unknown outcome\n",
           (long long)live, (long long)rejected, (long long)failed, (long long)left,
           (long long)adopted);
    printf("bench-sync: %.1f s, %lld requests (%lld throttled by the simulator) = %.1f req/s\n",
           secs, reqs, thr, rps);
    /* the budget counts answers that did work: the simulator's own throttle errors are not */
    double useful = (double)(reqs - thr) / secs;
    printf("bench-sync: achieved / R = %.3f (%.3f counting throttle answers too; budget >= 0.95)\n",
           useful / (double)rate, rps / (double)rate);
    printf("bench-sync: requests/s in each 5 s (the first from t0, queueing included):%s (then "
           "%.0f in the last %.1f s)\n",
           timeline, (double)(req1 - mark_req) / (t1 - mark_t), t1 - mark_t);
    printf("bench-sync: %.0f listings/min\n", (double)(live + rejected) / secs * 60.0);
    printf("bench-sync: duplicates %lld (must be 0)\n", dups);
    printf("bench-sync: worker peak memory (VmHWM) %.1f MiB\n", (double)peak / 1024.0);
    sbx_stop(sb);
    cs_db_release(db);
    cs_db_pool_shutdown();
    unlink(secret_file);
    return dups || left || useful / (double)rate < 0.95 ? 1 : 0;
}
