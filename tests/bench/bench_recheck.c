/* tests/bench/bench_recheck: the scheduled re-check of live API listings (make bench-recheck,
 * through scripts/bench-recheck which provides a migrated private database). A benchmark, not
 * a test: it prints the requests and the time the re-check needs, and exits 1 only when
 * something fails (a listing not looked at, a status not applied) or 50,000 live listings
 * would not all be looked at within 24 h at the rate R.
 *
 * SHOPS active Lazada accounts (real tokens from the simulator's OAuth) with PER live listings
 * each are made here, and the simulator (in this process, no throttle of its own) holds their
 * items; 1 % of them are banned and 1 % deleted there, with no push. Then every account is
 * re-checked (job_flows_recheck_account, what listing.recheck runs) at the publishing pace of
 * R requests/s; the simulator counts the requests. Lazada is the costliest case per shop for
 * small shops only by its page size (50, like Shopee's id batch; TikTok pages 100). */
#include "sandbox/sandbox_int.h"
#include "jobs/job.h"
#include "sandbox/sandbox.h"
#include "tests/support/tbench.h"
#include "tests/support/tmarket.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/flows.h"
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void set(const char *k, const char *v)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_set(k, v, &e)) tb_die(k, &e);
}

int main(int argc, char **argv)
{
    tb_init("bench-recheck");
    long shops = 1000, per = 5, rate = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--shops") && v)
            shops = tb_arg_long(v, 1, 100000, a), i++;
        else if (!strcmp(a, "--per") && v)
            per = tb_arg_long(v, 1, 1000, a), i++;
        else if (!strcmp(a, "--rate") && v)
            rate = tb_arg_long(v, 1, 100000, a), i++;
        else {
            fprintf(stderr, "usage: bench_recheck [--shops N] [--per N] [--rate R]\n");
            return 64;
        }
    }
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
    o.seed = 1200;
    o.max_items = shops * per + 1000;
    sbx_sandbox *sb;
    if (sbx_start(&o, &sb, &e)) tb_die("sandbox", &e);
    char lz[128], rate_s[24];
    sbx_url(sb, SBX_LAZADA, lz, sizeof lz);
    set("lazada.base_url", lz);
    set("lazada.auth_url", lz);
    set("lazada.app_key", TM_LAZADA_APP_KEY);
    set("lazada.app_secret", TM_LAZADA_APP_SECRET);
    set("http.public_url", "http://127.0.0.1:8080");
    set("lazada.rate_per_sec", "2000"); /* the setup's token exchanges are not measured */
    job_flows_reset();

    printf("bench-recheck: %ld shops x %ld live listings = %ld, R = %ld req/s\n", shops, per,
           shops * per, rate);
    fflush(stdout);
    double t_setup = tb_now();
    long long want_suspended = 0, want_delisted = 0, serial = 0;
    for (long h = 0; h < shops; h++) {
        char code[24], seed[32];
        snprintf(code, sizeof code, "TH-2026-7%05ld", h);
        snprintf(seed, sizeof seed, "bench-recheck-%ld", h);
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
        for (long k = 0; k < per; k++) {
            char pseed[48];
            snprintf(pseed, sizeof pseed, "%s-%ld", seed, k);
            if (cs_db_exec(db,
                           "INSERT INTO products (household_id, name, name_folded, description, "
                           "category, price_vnd, stock, weight_g, length_mm, width_mm, "
                           "height_mm, content_hash, first_live_at) VALUES (?, 'Mắm tôm Hậu "
                           "Lộc', 'mam tom', 'Đặc sản Thanh Hóa.', 'condiment', 45000, 50, 500, "
                           "120, 80, 80, UNHEX(SHA2(?, 256)), UTC_TIMESTAMP())",
                           "is", hid, pseed, &e) < 0)
                tb_die("product", &e);
            int64_t pid = (int64_t)cs_db_insert_id(db);
            if (cs_db_exec(db,
                           "INSERT INTO listings (product_id, marketplace_code, account_id, "
                           "state, live_at, first_live_at) VALUES (?, 'lazada', ?, 'live', "
                           "UTC_TIMESTAMP(), UTC_TIMESTAMP())",
                           "ii", pid, aid, &e) < 0)
                tb_die("listing", &e);
            int64_t lid = (int64_t)cs_db_insert_id(db);
            pthread_mutex_lock(&sb->mu);
            sb_item *it = sbx_item_new(sb, SBX_LAZADA);
            if (!it) tb_die("simulator item", NULL);
            snprintf(it->shop_id, sizeof it->shop_id, "%s", shop);
            snprintf(it->sku, sizeof it->sku, "CS-%lld", (long long)lid);
            it->price = 45000;
            it->state = SB_IT_LIVE;
            long long item = it->item_id;
            /* 1 % banned, 1 % deleted on the marketplace's side, no push */
            serial++;
            if (serial % 100 == 17) {
                it->withdrawn = SB_WD_BANNED;
                want_suspended++;
            } else if (serial % 100 == 53) {
                it->withdrawn = SB_WD_DELETED;
                want_delisted++;
            }
            pthread_mutex_unlock(&sb->mu);
            char iid[24];
            snprintf(iid, sizeof iid, "%lld", item);
            if (cs_db_exec(db, "UPDATE listings SET external_item_id = ? WHERE id = ?", "si", iid,
                           lid, &e) < 0)
                tb_die("item id", &e);
        }
    }
    printf("bench-recheck: setup %.1f s\n", tb_now() - t_setup);
    fflush(stdout);

    snprintf(rate_s, sizeof rate_s, "%ld", rate);
    set("lazada.rate_per_sec", rate_s);
    job_flows_reset();
    cs_rows *acc = NULL;
    if (cs_db_query(db, &acc, "SELECT id FROM seller_accounts WHERE state = 'active' ORDER BY id",
                    "", &e))
        tb_die("accounts", &e);
    long long req0, made = 0, throttled, dups;
    tb_lazada_counts(sb, &req0, &throttled, &dups);
    double t0 = tb_now();
    for (size_t i = 0; i < cs_rows_count(acc); i++) {
        int64_t n = 0;
        cs_error_clear(&e);
        if (job_flows_recheck_account(db, cs_rows_i64(acc, i, 0), &n, &e)) tb_die("recheck", &e);
        made += n;
    }
    double secs = tb_now() - t0;
    cs_rows_free(acc);
    long long reqs;
    tb_lazada_counts(sb, &reqs, &throttled, &dups);
    reqs -= req0;
    long long listings = shops * per;
    int64_t unstamped = tb_count(db, "SELECT COUNT(*) FROM listings WHERE last_checked_at IS NULL");
    int64_t suspended = tb_count(db, "SELECT COUNT(*) FROM listings WHERE state = 'suspended'");
    int64_t delisted = tb_count(db, "SELECT COUNT(*) FROM listings WHERE state = 'delisted'");
    int64_t moved_first = tb_count(db, "SELECT COUNT(*) FROM products WHERE first_live_at IS NULL");
    double per_listing = (double)reqs / (double)listings;
    double need = ceil(per_listing * 50000.0);
    double day_s = need / (double)rate;
    /* one thread here, each request waiting for the last one's database work: slower than R */
    double day_got = need / ((double)reqs / secs);
    printf("bench-recheck: %lld listings looked at with %lld requests (%lld counted by the "
           "simulator) in %.1f s: %.3f requests per listing, %.2f requests/s achieved (R = %ld)\n",
           listings, made, reqs, secs, per_listing, (double)reqs / secs, rate);
    printf("bench-recheck: applied %lld suspended of %lld banned, %lld delisted of %lld deleted; "
           "%lld listings not stamped, %lld first dates lost\n",
           (long long)suspended, want_suspended, (long long)delisted, want_delisted,
           (long long)unstamped, (long long)moved_first);
    printf("bench-recheck: 50,000 live listings in shops of %ld: %.0f requests, %.0f s (%.2f h) "
           "at R = %ld req/s, %.0f s (%.2f h) at the rate achieved here — budget: within 24 h\n",
           per, need, day_s, day_s / 3600.0, rate, day_got, day_got / 3600.0);
    sbx_stop(sb);
    cs_db_release(db);
    cs_db_pool_shutdown();
    return unstamped || suspended != want_suspended || delisted != want_delisted || moved_first ||
                   reqs != made || day_s > 86400.0
               ? 1
               : 0;
}
