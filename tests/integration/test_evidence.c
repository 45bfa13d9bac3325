/* Integration tests of issue 12 points 4 and 5 against the real MariaDB server of
 * scripts/run-tests: practice (sandbox) shops and listings do not count on a production
 * instance and do on a demo one, the counters always equal the rebuild, `choso migrate` records
 * the environment of older rows without rewriting any, and the evidence of every counted item
 * is exported and audited (tampering with it makes `choso targets --verify` fail). Skips (77)
 * without CHOSO_DB_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/crypto.h"
#include "core/evidence.h"
#include "core/flagship.h"
#include "core/households.h"
#include "core/instance.h"
#include "core/mem.h"
#include "core/products.h"
#include "core/states.h"
#include "core/targets.h"
#include "service/h_targets.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static cs_db *db;
static cs_actor actor;
static int serial;
static char commune[6];

static int setup(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) return -1;
    cs_config_set("crypto.pin_scrypt_n", "1024", &e);
    if (cs_crypto_init(cs_cfg_str("crypto.key_file"), &e) || cs_db_pool_init(&e) ||
        !(db = cs_db_acquire(&e))) {
        fprintf(stderr, "setup: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    memset(&actor, 0, sizeof actor);
    actor.kind = CS_ACTOR_CLI;
    snprintf(actor.id, sizeof actor.id, "test");
    int64_t c = 0;
    if (cs_db_scalar_i64(db, &c, "SELECT MIN(code) FROM admin_units", "", &e)) return -1;
    snprintf(commune, sizeof commune, "%05lld", (long long)c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cs_db_release(db);
    cs_db_pool_shutdown();
    cs_crypto_shutdown();
    return 0;
}

static void reset(void)
{
    static const char *const stmts[] = {"DELETE FROM listing_events", "DELETE FROM listings",
                                        "DELETE FROM account_events", "DELETE FROM seller_accounts",
                                        "DELETE FROM product_images", "DELETE FROM products",
                                        "DELETE FROM households",     "DELETE FROM target_counts"};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        tsup_exec(db, stmts[i], "");
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("instance.kind", "production", &e), 0);
}

static int64_t household(char code[24])
{
    vn_date t = vn_today();
    int y = t.y - 25;
    char cccd[13], phone[16], date[16];
    serial++;
    snprintf(cccd, sizeof cccd, "038%d%02d%06d", y >= 2000 ? 3 : 1, y % 100,
             (300000 + serial * 7 + (int)getpid() % 997) % 1000000);
    snprintf(phone, sizeof phone, "09%08d", 30000000 + serial * 13 + (int)(getpid() % 1000));
    snprintf(date, sizeof date, "01/01/%d", y);
    json_t *in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "owner_name", "Lê Thị Bằng", "cccd",
                           cccd, "phone", phone, "birth_date", date, "commune_code", commune,
                           "address", "Thôn 2", "consent", 1);
    cs_household_result res;
    cs_error e;
    cs_error_clear(&e);
    int rc = cs_household_create(db, &actor, in, &res, &e);
    json_decref(in);
    assert_int_equal(rc, 0);
    snprintf(code, 24, "%s", res.code);
    return res.id;
}

/* a flagship product: linked to an entry of the province's list of its own (each product is its
   own (household, entry) pair) and the link approved (core/targets.h) */
static int64_t product(const char *hh_code)
{
    static int next_entry;
    int64_t entry = tsup_i64(db, "SELECT id FROM flagship_products ORDER BY id LIMIT 1 OFFSET ?",
                             "i", (int64_t)(next_entry++ % 40));
    json_t *p = json_pack("{s:s,s:s,s:s,s:i,s:i,s:I}", "name", "Nem chua Thanh Hóa", "description",
                          "Nem chua gói lá chuối.", "category", "food_dish", "price_vnd", 120000,
                          "weight_g", 400, "flagship_id", (json_int_t)entry);
    cs_product_result pr;
    cs_error e;
    cs_error_clear(&e);
    int rc = cs_product_create(db, &actor, hh_code, p, &pr, &e);
    json_decref(p);
    assert_int_equal(rc, 0);
    assert_int_equal(cs_flagship_decide(db, &actor, pr.id, 1, NULL, &e), 0);
    return pr.id;
}

/* an account/listing in env with its marketplace id (the evidence) */
static int64_t account(int64_t hh, const char *mp, const char *env)
{
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, env, external_shop_id)"
              " VALUES (?, ?, ?, CONCAT('shop-', ?))",
              "issi", hh, mp, env, hh);
    return (int64_t)cs_db_insert_id(db);
}

static int64_t listing(int64_t prod, const char *mp, const char *env)
{
    tsup_exec(db,
              "INSERT INTO listings (product_id, marketplace_code, env, external_item_id)"
              " VALUES (?, ?, ?, CONCAT('item-', ?))",
              "issi", prod, mp, env, prod);
    return (int64_t)cs_db_insert_id(db);
}

struct tr {
    int listing;
    int64_t id;
    const char *to;
};

static int tr_tx(cs_db *d, void *arg, cs_error *err)
{
    struct tr *t = arg;
    return t->listing ? cs_listing_transition(d, t->id, t->to, NULL, NULL, &actor, err)
                      : cs_account_transition(d, t->id, t->to, NULL, NULL, &actor, err);
}

static void move(int is_listing, int64_t id, const char *to)
{
    struct tr t = {is_listing, id, to};
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(db, tr_tx, &t, &e), 0);
}

static void activate(int64_t account_id)
{
    move(0, account_id, "awaiting_owner");
    move(0, account_id, "authorized");
    move(0, account_id, "active");
}

static void go_live(int64_t listing_id)
{
    move(1, listing_id, "queued");
    move(1, listing_id, "submitted");
    move(1, listing_id, "live");
}

static int64_t total(int metric)
{
    int64_t n = -1;
    cs_error e;
    cs_error_clear(&e);
    static const char *const names[] = {"households_onboarded", "flagship_products_live",
                                        "flagship_products_sold"};
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COALESCE(SUM(n), 0) FROM target_counts WHERE metric = '%s'",
             names[metric]);
    assert_true(cs_db_scalar_i64(db, &n, sql, "", &e) >= 0);
    return n;
}

static int64_t diff(void)
{
    int64_t d = -1;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_verify(db, &d, &e), 0);
    return d;
}

static void rebuild(void)
{
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_rebuild(db, NULL, &e), 0);
}

static int64_t onboarded_null(int64_t hh)
{
    int64_t n = -1;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT onboarded_at IS NULL FROM households WHERE id = ?",
                                      "i", hh, &e),
                     0);
    return n;
}

/* the marketplace the counter filed a household under (the only row of the metric) */
static void counted_marketplace(const char *metric, char out[24])
{
    cs_rows *r = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_query(db, &r,
                                 "SELECT marketplace_code FROM target_counts"
                                 " WHERE metric = ? AND n <> 0",
                                 "s", metric, &e),
                     0);
    assert_int_equal(cs_rows_count(r), 1);
    snprintf(out, 24, "%s", cs_rows_str(r, 0, 0));
    cs_rows_free(r);
}

/* production instance: practice neither sets a first date nor counts; the real shop does */
static void test_practice_does_not_count(void **state)
{
    (void)state;
    reset();
    assert_int_equal(cs_instance_simulated(), 0);
    char code[24];
    int64_t hh = household(code);
    int64_t practice = account(hh, "shopee", "sandbox");
    activate(practice);
    assert_int_equal(onboarded_null(hh), 1);
    assert_int_equal(total(CS_M_HOUSEHOLDS), 0);
    int64_t p = product(code);
    int64_t lp = listing(p, "shopee", "sandbox");
    go_live(lp);
    assert_int_equal(total(CS_M_LIVE), 0);
    assert_int_equal(diff(), 0);

    /* the real shop on Lazada counts, under Lazada, though the practice one was earlier */
    int64_t real = account(hh, "lazada", "production");
    activate(real);
    assert_int_equal(onboarded_null(hh), 0);
    assert_int_equal(total(CS_M_HOUSEHOLDS), 1);
    char mp[24];
    counted_marketplace("households_onboarded", mp);
    assert_string_equal(mp, "lazada");
    int64_t lr = listing(p, "lazada", "production");
    go_live(lr);
    assert_int_equal(total(CS_M_LIVE), 1);
    counted_marketplace("flagship_products_live", mp);
    assert_string_equal(mp, "lazada");
    assert_int_equal(diff(), 0);
    rebuild();
    assert_int_equal(total(CS_M_HOUSEHOLDS), 1);
    assert_int_equal(total(CS_M_LIVE), 1);
    assert_int_equal(diff(), 0);

    /* the evidence names the real shop and listing, never the practice ones */
    cs_rows *r = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_evidence_list(db, 0, &r, &e), 0);
    assert_int_equal(cs_rows_count(r), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(cs_rows_str(r, i, CS_EV_MARKETPLACE), "lazada");
        assert_string_equal(cs_rows_str(r, i, CS_EV_ENV), "production");
        assert_string_equal(cs_rows_str(r, i, CS_EV_COMPLETE), "1");
    }
    cs_rows_free(r);
}

/* demo instance: practice counts and the progress says it is simulated; switching the instance
 * back to production, the rebuild drops what only practice made count, and counters = rebuild */
static void test_demo_counts_practice(void **state)
{
    (void)state;
    reset();
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("instance.kind", "demo", &e), 0);
    assert_int_equal(cs_instance_simulated(), 1);
    char code[24];
    int64_t hh = household(code);
    activate(account(hh, "shopee", "sandbox"));
    int64_t p = product(code);
    go_live(listing(p, "shopee", "sandbox"));
    assert_int_equal(total(CS_M_HOUSEHOLDS), 1);
    assert_int_equal(total(CS_M_LIVE), 1);
    assert_int_equal(diff(), 0);
    rebuild();
    assert_int_equal(total(CS_M_HOUSEHOLDS), 1);
    assert_int_equal(diff(), 0);

    json_t *j = NULL;
    vn_date today = vn_today();
    assert_int_equal(svc_targets_progress_json(db, today.y, CS_BY_NONE, today, NULL, 0, &j, &e), 0);
    assert_true(json_is_true(json_object_get(j, "simulated")));
    json_decref(j);
    cs_progress pr;
    assert_int_equal(cs_targets_progress(db, today.y, CS_BY_COMMUNE, today, NULL, 0, &pr, &e), 0);
    char *csv = NULL;
    size_t len = 0;
    assert_int_equal(cs_targets_csv(&pr, &csv, &len, &e), 0);
    assert_non_null(strstr(csv, "DỮ LIỆU MÔ PHỎNG"));
    cs_free(csv);
    cs_targets_progress_free(&pr);

    /* the same data on a production instance: practice does not count */
    assert_int_equal(cs_config_set("instance.kind", "production", &e), 0);
    assert_int_equal(diff() > 0, 1);
    rebuild();
    assert_int_equal(total(CS_M_HOUSEHOLDS), 0);
    assert_int_equal(total(CS_M_LIVE), 0);
    assert_int_equal(diff(), 0);
    assert_int_equal(svc_targets_progress_json(db, today.y, CS_BY_NONE, today, NULL, 0, &j, &e), 0);
    assert_true(json_is_false(json_object_get(j, "simulated")));
    json_decref(j);
    /* an unknown kind reads as production */
    assert_int_equal(cs_config_set("instance.kind", "staging", &e), 0);
    assert_int_equal(cs_instance_simulated(), 0);
    assert_int_equal(cs_config_set("instance.kind", "training", &e), 0);
    assert_int_equal(cs_instance_simulated(), 1);
    assert_int_equal(cs_config_set("instance.kind", "production", &e), 0);
}

/* each marketplace's environment from its settings, and `choso migrate` classifying older rows
 * (env NULL) from them without rewriting a recorded one */
static void test_environment_settings_and_migrate(void **state)
{
    (void)state;
    reset();
    cs_error e;
    cs_error_clear(&e);
    assert_string_equal(cs_marketplace_env("shopee"), "production");
    assert_int_equal(cs_config_set("shopee.mode", "sandbox", &e), 0);
    assert_string_equal(cs_marketplace_env("shopee"), "sandbox");
    assert_int_equal(cs_config_set("shopee.mode", "production", &e), 0);
    assert_int_equal(cs_config_set("postmart.base_url", "http://127.0.0.1:9", &e), 0);
    assert_string_equal(cs_marketplace_env("postmart"), "sandbox"); /* auto: the simulator */
    assert_int_equal(cs_config_set("postmart.base_url", "http://192.168.1.20:8084", &e), 0);
    assert_string_equal(cs_marketplace_env("postmart"), "sandbox"); /* on the LAN for phones */
    assert_int_equal(cs_config_set("voso.base_url", "https://voso.vn", &e), 0);
    assert_string_equal(cs_marketplace_env("voso"), "production");
    assert_int_equal(cs_config_set("voso.mode", "sandbox", &e), 0);
    assert_string_equal(cs_marketplace_env("voso"), "sandbox");
    assert_string_equal(cs_marketplace_env("unknown-market"), "production");

    char code[24];
    int64_t hh = household(code);
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code) VALUES (?, 'postmart')",
              "i", hh);
    int64_t old = (int64_t)cs_db_insert_id(db);
    int64_t kept = account(hh, "voso", "production");
    int64_t p = product(code);
    tsup_exec(
        db,
        "INSERT INTO listings (product_id, marketplace_code, account_id) VALUES (?, 'postmart', ?)",
        "ii", p, old);
    assert_int_equal(cs_db_migrate(db, NULL, &e), 0);
    int64_t n = 0;
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT COUNT(*) FROM seller_accounts"
                                      " WHERE id = ? AND env = 'sandbox'",
                                      "i", old, &e),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT COUNT(*) FROM seller_accounts"
                                      " WHERE id = ? AND env = 'production'",
                                      "i", kept, &e),
                     0);
    assert_int_equal(n, 1); /* voso is sandbox now, but a recorded environment is never rewritten */
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT COUNT(*) FROM listings"
                                      " WHERE product_id = ? AND env = 'sandbox'",
                                      "i", p, &e),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(cs_config_set("voso.mode", "auto", &e), 0);
    assert_int_equal(cs_config_set("postmart.base_url", "https://postmart.vn", &e), 0);
}

static char choso[4096];

static void find_choso(void)
{
    const char *b = getenv("BUILD");
    if (b && *b) {
        snprintf(choso, sizeof choso, "%s/choso", b);
        if (access(choso, X_OK) == 0) return;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(self, '/');
            if (slash) *slash = '\0';
        }
        snprintf(choso, sizeof choso, "%s/choso", self);
        if (access(choso, X_OK) == 0) return;
    }
    choso[0] = '\0';
}

/* `choso targets ARGS`, its standard error into err_out (NULL: dropped); the exit status */
static int run_choso(const char *args, const char *err_out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' targets %s >/dev/null 2>%s", choso, args,
             err_out ? err_out : "/dev/null");
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int64_t problems(char **report)
{
    int64_t n = -1;
    char *rep = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_evidence_check(db, &n, &rep, &e), 0);
    if (report)
        *report = rep;
    else
        cs_free(rep);
    return n;
}

/* the export lists every counted item with its evidence and nothing personal; tampering with the
 * evidence in the database (an id removed, an unverified address, one shop or item given to two)
 * makes the audit and `choso targets --verify` fail, naming the items */
static void test_evidence_export_and_audit(void **state)
{
    (void)state;
    reset();
    find_choso();
    if (!choso[0]) fail_msg("cannot find the choso binary (set BUILD)");
    char a[24], b[24], c[24];
    int64_t ha = household(a), hb = household(b), hc = household(c);
    activate(account(ha, "shopee", "production"));
    activate(account(hb, "shopee", "production"));
    /* an assisted shop: its evidence is the verified address and who confirmed it */
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, env, shop_url,"
              " shop_url_key, confirmed_by, verified_at)"
              " VALUES (?, 'postmart', 'production', CONCAT('https://postmart.vn/shop/', ?),"
              " CONCAT('postmart.vn/shop/', ?), 'volunteer:7', UTC_TIMESTAMP())",
              "iii", hc, hc, hc);
    activate((int64_t)cs_db_insert_id(db));
    int64_t pa = product(a), pb = product(b);
    int64_t la = listing(pa, "shopee", "production"), lb = listing(pb, "shopee", "production");
    go_live(la);
    go_live(lb);
    assert_int_equal(diff(), 0);
    assert_int_equal(problems(NULL), 0);
    assert_int_equal(run_choso("--verify", NULL), 0);

    /* the export: one row per counted household and product, the evidence, nothing personal */
    char *dir = tsup_tmpdir("evidence-cli");
    char path[600], args[800], errf[600];
    snprintf(path, sizeof path, "%s/ev.csv", dir);
    snprintf(errf, sizeof errf, "%s/err.txt", dir);
    vn_date today = vn_today();
    snprintf(args, sizeof args, "--evidence --year %d --output '%s'", today.y, path);
    assert_int_equal(run_choso(args, NULL), 0);
    char *csv = read_all(path);
    assert_non_null(strstr(csv, "Mã hộ"));
    assert_non_null(strstr(csv, "Người xác nhận"));
    assert_non_null(strstr(csv, a));
    assert_non_null(strstr(csv, b));
    assert_non_null(strstr(csv, c));
    assert_non_null(strstr(csv, "https://postmart.vn/shop/"));
    assert_non_null(strstr(csv, "volunteer:7"));
    assert_null(strstr(csv, "Lê Thị Bằng")); /* no owner name */
    assert_null(strstr(csv, "Thôn 2"));      /* no street address */
    assert_null(strstr(csv, "KHÔNG"));       /* every row's evidence is complete */
    assert_null(strstr(csv, "DỮ LIỆU MÔ PHỎNG"));
    int lines = 0;
    for (const char *q = csv; (q = strstr(q, "\r\n")); q += 2)
        lines++;
    assert_int_equal(lines, 1 + 3 + 2); /* header, 3 households, 2 products */
    free(csv);
    snprintf(path, sizeof path, "%s/ev.xlsx", dir);
    snprintf(args, sizeof args, "--evidence --format xlsx --output '%s'", path);
    assert_int_equal(run_choso(args, NULL), 0);
    assert_int_equal(access(path, R_OK), 0);

    /* tamper 1: the shop id of a counted household removed */
    tsup_exec(db, "UPDATE seller_accounts SET external_shop_id = NULL WHERE household_id = ?", "i",
              ha);
    char *rep = NULL;
    assert_int_equal(problems(&rep), 1);
    assert_non_null(rep);
    assert_non_null(strstr(rep, a));
    assert_non_null(strstr(rep, "thiếu bằng chứng"));
    assert_non_null(strstr(rep, "no evidence"));
    cs_free(rep);
    assert_int_equal(run_choso("--verify", errf), 1);
    char *text = read_all(errf);
    assert_non_null(strstr(text, a));
    free(text);
    tsup_exec(
        db,
        "UPDATE seller_accounts SET external_shop_id = CONCAT('shop-', ?) WHERE household_id = ?",
        "ii", ha, ha);
    assert_int_equal(problems(NULL), 0);

    /* tamper 2: the assisted shop's address was never verified */
    tsup_exec(db, "UPDATE seller_accounts SET verified_at = NULL WHERE household_id = ?", "i", hc);
    assert_int_equal(problems(&rep), 1);
    assert_non_null(strstr(rep, c));
    cs_free(rep);
    tsup_exec(db, "UPDATE seller_accounts SET verified_at = UTC_TIMESTAMP() WHERE household_id = ?",
              "i", hc);

    /* tamper 3: one Shopee shop counted for two households */
    tsup_exec(db,
              "UPDATE seller_accounts SET external_shop_id = CONCAT('shop-', ?)"
              " WHERE household_id = ?",
              "ii", ha, hb);
    assert_int_equal(problems(&rep), 1);
    assert_non_null(strstr(rep, a));
    assert_non_null(strstr(rep, b));
    assert_non_null(strstr(rep, "2 hộ"));
    cs_free(rep);
    assert_int_equal(run_choso("--verify", NULL), 1);
    tsup_exec(db,
              "UPDATE seller_accounts SET external_shop_id = CONCAT('shop-', ?)"
              " WHERE household_id = ?",
              "ii", hb, hb);

    /* tamper 4: one item counted for two flagship products */
    tsup_exec(db, "UPDATE listings SET external_item_id = 'item-same' WHERE id IN (?, ?)", "ii", la,
              lb);
    assert_int_equal(problems(&rep), 1);
    assert_non_null(strstr(rep, "2 sản phẩm"));
    assert_non_null(strstr(rep, "shopee|item-same"));
    cs_free(rep);
    assert_int_equal(run_choso("--verify", NULL), 1);
    tsup_exec(
        db, "UPDATE listings SET external_item_id = CONCAT('item-', product_id) WHERE id IN (?, ?)",
        "ii", la, lb);
    assert_int_equal(problems(NULL), 0);
    assert_int_equal(run_choso("--verify", NULL), 0);

    /* a demo instance's export says the data is simulated */
    setenv("CHOSO_INSTANCE_KIND", "demo", 1);
    snprintf(path, sizeof path, "%s/ev-demo.csv", dir);
    snprintf(args, sizeof args, "--evidence --output '%s'", path);
    assert_int_equal(run_choso(args, NULL), 0);
    unsetenv("CHOSO_INSTANCE_KIND");
    csv = read_all(path);
    assert_non_null(strstr(csv, "DỮ LIỆU MÔ PHỎNG"));
    free(csv);
    tsup_rm_rf(dir);
    cs_free(dir);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_practice_does_not_count),
        cmocka_unit_test(test_demo_counts_practice),
        cmocka_unit_test(test_environment_settings_and_migrate),
        cmocka_unit_test(test_evidence_export_and_audit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
