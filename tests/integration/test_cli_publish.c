/* Integration tests of `choso publish` (cli/cmd_publish) against MariaDB: the products of a
 * household with an active Lazada shop are queued (listings and jobs once each), a second run
 * queues nothing twice, a household without a shop is refused with its reason and exit 1,
 * --limit and --dry-run hold, bad arguments exit 64. Skips (77) without CHOSO_DB_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/mem.h"
#include "cli/cli.h"
#include "tests/support/tbench.h"
#include "tests/support/tsup.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char out_path[512];
static char out[65536];
static cs_db *db;
/* households: A with an active Lazada shop (3 active products, 1 archived), B without one
 * (1 product), C with a shop (3 products, for --limit) */
static const char *const HA = "TH-2026-771001", *const HB = "TH-2026-771002",
                         *const HC = "TH-2026-771003";

/* Run `choso publish ARGS…` in this process with standard output captured into `out`. */
static int run(const char *const *args)
{
    return tsup_run_cli(cmd_publish, "publish", args, out_path, out, sizeof out);
}

static int64_t product(int64_t hid, int i, const char *status)
{
    char name[64];
    snprintf(name, sizeof name, "Mắm tôm Hậu Lộc hũ %d g", 100 + i);
    tsup_exec(db,
              "INSERT INTO products (household_id, name, name_folded, description, category,"
              " price_vnd, stock, weight_g, length_mm, width_mm, height_mm, content_hash, status)"
              " VALUES (?, ?, 'mam tom', 'Đặc sản Thanh Hóa.', 'condiment', 45000, 50, 500, 120,"
              " 80, 80, UNHEX(SHA2(?, 256)), ?)",
              "isss", hid, name, name, status);
    return (int64_t)cs_db_insert_id(db);
}

static int64_t household(const char *code, int shop)
{
    int64_t hid = tb_household(db, code, code);
    if (shop)
        tsup_exec(db,
                  "INSERT INTO seller_accounts (household_id, marketplace_code, state)"
                  " VALUES (?, 'lazada', 'active')",
                  "i", hid);
    return hid;
}

static int64_t of(const char *code, const char *what)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM %s JOIN products p ON p.id = l.product_id"
             " JOIN households h ON h.id = p.household_id WHERE h.code = ?",
             !strcmp(what, "jobs") ? "jobs j JOIN listings l ON j.kind = 'listing.publish' AND"
                                     " j.unique_key = CONCAT('publish:', l.id)"
                                   : "listings l");
    return tsup_i64(db, sql, "s", code);
}

static int setup(void **state)
{
    (void)state;
    char *dir = tsup_tmpdir("cli_publish");
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    cs_free(dir);
    db = tsup_connect();
    int64_t a = household(HA, 1), b = household(HB, 0), c = household(HC, 1);
    for (int i = 0; i < 3; i++)
        product(a, i, "active");
    product(a, 3, "archived");
    product(b, 4, "active");
    for (int i = 0; i < 3; i++)
        product(c, 5 + i, "active");
    return 0;
}

static void test_queues_once(void **state)
{
    (void)state;
    const char *dry[] = {"--marketplace", "lazada", "--household", HA, "--dry-run", NULL};
    assert_int_equal(run(dry), 0);
    assert_non_null(strstr(out, "3 products would be put forward"));
    assert_int_equal(of(HA, "listings"), 0);

    const char *go[] = {"--marketplace", "lazada", "--household", HA, NULL};
    assert_int_equal(run(go), 0);
    assert_non_null(strstr(out, "batch 1: 3 đã xếp hàng / queued, 0 bị từ chối"));
    assert_non_null(strstr(out, "publish lazada: 3 đã xếp hàng"));
    assert_int_equal(of(HA, "listings"), 3); /* the archived product is no candidate */
    assert_int_equal(of(HA, "jobs"), 3);
    /* again: everything is queued already, nothing twice */
    assert_int_equal(run(go), 0);
    assert_non_null(strstr(out, "publish lazada: 0 đã xếp hàng / queued, 0 bị từ chối"));
    assert_int_equal(of(HA, "listings"), 3);
    assert_int_equal(of(HA, "jobs"), 3);
}

static void test_refused_with_reason(void **state)
{
    (void)state;
    const char *go[] = {"--marketplace", "lazada", "--household", HB, NULL};
    assert_int_equal(run(go), 1);
    assert_non_null(strstr(out, "0 đã xếp hàng / queued, 1 bị từ chối"));
    assert_non_null(strstr(out, "[invalid_state_transition]"));
    assert_non_null(strstr(out, "hộ chưa có cửa hàng đang hoạt động trên sàn này"));
    assert_int_equal(of(HB, "listings"), 0);
    assert_int_equal(run(go), 1); /* refused again, still nothing queued */
    assert_int_equal(of(HB, "listings"), 0);
}

static void test_limit(void **state)
{
    (void)state;
    const char *two[] = {"--marketplace", "lazada", "--household", HC, "--limit", "2", NULL};
    assert_int_equal(run(two), 0);
    assert_non_null(strstr(out, "publish lazada: 2 đã xếp hàng"));
    assert_int_equal(of(HC, "listings"), 2);
    assert_int_equal(run(two), 0);
    assert_non_null(strstr(out, "publish lazada: 1 đã xếp hàng"));
    assert_int_equal(of(HC, "listings"), 3);
    assert_int_equal(of(HC, "jobs"), 3);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *none[] = {"--household", HA, NULL};
    assert_int_equal(run(none), CLI_EX_USAGE);
    const char *commune[] = {"--marketplace", "lazada", "--commune", "14a97", NULL};
    assert_int_equal(run(commune), CLI_EX_USAGE);
    const char *limit[] = {"--marketplace", "lazada", "--limit", "0", NULL};
    assert_int_equal(run(limit), CLI_EX_USAGE);
    const char *unknown[] = {"--marketplace", "nosuch", "--household", HA, NULL};
    assert_int_equal(run(unknown), CLI_EX_USAGE);
    const char *unknown_dry[] = {"--marketplace", "nosuch", "--dry-run", NULL};
    assert_int_equal(run(unknown_dry), CLI_EX_USAGE);
    assert_int_equal(of(HA, "listings"), 3);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queues_once),
        cmocka_unit_test(test_refused_with_reason),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
