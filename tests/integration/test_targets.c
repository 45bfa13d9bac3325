/* Integration tests of core/targets against the real MariaDB server of scripts/run-tests: the
 * counters kept by the state transitions equal a recomputation, year boundaries in
 * Asia/Ho_Chi_Minh, the youth and flagship rules, delisting after the year, breakdowns that
 * sum to the totals, and report files (CSV, XLSX read back with jobs/sheet) with the numbers of
 * the progress object. Skips (77) without CHOSO_DB_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/crypto.h"
#include "core/flagship.h"
#include "core/households.h"
#include "core/mem.h"
#include "core/products.h"
#include "core/states.h"
#include "core/targets.h"
#include "jobs/sheet.h"
#include "service/h_targets.h"
#include "tests/support/tsup.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static cs_db *db;
static cs_actor actor;
static int serial;
static char communes[3][6];

static const char *const MPS[] = {"postmart", "voso", "shopee", "lazada", "tiktok"};

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
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, "SELECT code FROM admin_units ORDER BY code LIMIT 3", "", &e) ||
        cs_rows_count(r) != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        snprintf(communes[i], sizeof communes[i], "%s", cs_rows_str(r, (size_t)i, 0));
    cs_rows_free(r);
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

/* every test starts from an empty set of households (reference data stays) */
static void reset(void)
{
    static const char *const stmts[] = {"DELETE FROM listing_events",
                                        "DELETE FROM listings",
                                        "DELETE FROM account_events",
                                        "DELETE FROM seller_accounts",
                                        "DELETE FROM product_images",
                                        "DELETE FROM products",
                                        "DELETE FROM households",
                                        "DELETE FROM target_counts",
                                        "DELETE FROM targets WHERE commune_code <> ''"};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        tsup_exec(db, stmts[i], "");
}

/* a CCCD that matches a birth year: 038, century/sex digit, yy, 6 serial digits */
static void cccd_for(int y, char out[13])
{
    serial++;
    snprintf(out, 13, "038%d%02d%06d", y >= 2000 ? 3 : 1, y % 100,
             (200000 + serial * 7 + (int)getpid() % 997) % 1000000);
}

static int64_t household(int age, const char *commune, char code[24])
{
    vn_date t = vn_today();
    int y = t.y - age - 1;
    char cccd[13], phone[16], date[16];
    cccd_for(y, cccd);
    snprintf(phone, sizeof phone, "09%08d", 20000000 + serial * 13 + (int)(getpid() % 1000));
    snprintf(date, sizeof date, "01/01/%d", y);
    json_t *in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "owner_name", "Nguyễn Văn An", "cccd",
                           cccd, "phone", phone, "birth_date", date, "commune_code", commune,
                           "address", "Thôn 1", "consent", 1);
    cs_household_result res;
    cs_error e;
    cs_error_clear(&e);
    int rc = cs_household_create(db, &actor, in, &res, &e);
    json_decref(in);
    if (rc)
        fprintf(stderr, "household: %s %s %s\n", cs_code_name(e.code), e.detail,
                e.nfields ? e.fields[0].field : "");
    assert_int_equal(rc, 0);
    if (code) snprintf(code, 24, "%s", res.code);
    return res.id;
}

/* the k-th entry of the province's flagship list */
static int64_t entry_id(int k)
{
    return tsup_i64(db, "SELECT id FROM flagship_products ORDER BY id LIMIT 1 OFFSET ?", "i",
                    (int64_t)k);
}

/* an admin's decision on a product's proposed link (core/flagship.h) */
static void decide(int64_t prod, int approve)
{
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_flagship_decide(db, &actor, prod, approve,
                                        approve ? NULL : "Không phải sản phẩm OCOP của hộ", &e),
                     0);
}

/* flagship: linked to an entry of its own (so each counts as its own (household, entry) pair)
 * and the link approved */
static int64_t product(const char *hh_code, int flagship)
{
    static int next_entry;
    json_t *p = json_pack("{s:s,s:s,s:s,s:i,s:i}", "name", "Nem chua Thanh Hóa", "description",
                          "Nem chua gói lá chuối.", "category", "food_dish", "price_vnd", 120000,
                          "weight_g", 400);
    if (flagship) json_object_set_new(p, "flagship_id", json_integer(entry_id(next_entry++ % 40)));
    cs_product_result pr;
    cs_error e;
    cs_error_clear(&e);
    int rc = cs_product_create(db, &actor, hh_code, p, &pr, &e);
    json_decref(p);
    assert_int_equal(rc, 0);
    if (flagship) decide(pr.id, 1);
    return pr.id;
}

static int64_t account(int64_t hh, const char *mp)
{
    /* with the marketplace's shop id: its evidence (`choso targets --verify` checks it) */
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, external_shop_id)"
              " VALUES (?, ?, CONCAT('shop-', ?))",
              "isi", hh, mp, hh);
    return (int64_t)cs_db_insert_id(db);
}

static int64_t listing(int64_t prod, const char *mp)
{
    tsup_exec(db,
              "INSERT INTO listings (product_id, marketplace_code, external_item_id)"
              " VALUES (?, ?, CONCAT('item-', ?))",
              "isi", prod, mp, prod);
    return (int64_t)cs_db_insert_id(db);
}

struct tr {
    int kind; /* 0 account, 1 listing, 2 sale */
    int64_t id;
    const char *to;
    const char *at;
};

static int tr_tx(cs_db *d, void *arg, cs_error *err)
{
    struct tr *t = arg;
    if (t->kind == 0) return cs_account_transition(d, t->id, t->to, NULL, NULL, &actor, err);
    if (t->kind == 1) return cs_listing_transition(d, t->id, t->to, NULL, NULL, &actor, err);
    return cs_listing_record_sale(d, t->id, t->at, err);
}

static int move(int kind, int64_t id, const char *to)
{
    struct tr t = {kind, id, to, NULL};
    cs_error e;
    cs_error_clear(&e);
    return cs_db_tx(db, tr_tx, &t, &e);
}

static void walk_account(int64_t id)
{
    assert_int_equal(move(0, id, "awaiting_owner"), 0);
    assert_int_equal(move(0, id, "authorized"), 0);
    assert_int_equal(move(0, id, "active"), 0);
}

static void walk_listing(int64_t id)
{
    assert_int_equal(move(1, id, "queued"), 0);
    assert_int_equal(move(1, id, "submitted"), 0);
    assert_int_equal(move(1, id, "live"), 0);
}

static void sale(int64_t listing_id, const char *at)
{
    struct tr t = {2, listing_id, NULL, at};
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(db, tr_tx, &t, &e), 0);
}

static int64_t verify_diff(void)
{
    int64_t diff = -1;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_verify(db, &diff, &e), 0);
    return diff;
}

static void rebuild(void)
{
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_rebuild(db, NULL, &e), 0);
}

static json_t *progress(int year, cs_targets_by by, vn_date today)
{
    json_t *p = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(svc_targets_progress_json(db, year, by, today, NULL, 0, &p, &e), 0);
    return p;
}

static json_int_t achieved(const json_t *p, int m)
{
    return json_integer_value(
        json_object_get(json_array_get(json_object_get(p, "metrics"), (size_t)m), "achieved"));
}

static json_int_t year_count(int year, int m)
{
    vn_date d = {year, 6, 30};
    json_t *p = progress(year, CS_BY_NONE, d);
    json_int_t n = achieved(p, m);
    json_decref(p);
    return n;
}

static json_int_t month_count(int year, int month, int m)
{
    vn_date d = {year, 6, 30};
    json_t *p = progress(year, CS_BY_MONTH, d);
    json_t *row = json_array_get(json_object_get(p, "breakdown"), (size_t)month - 1);
    assert_int_equal(json_integer_value(json_object_get(row, "month")), month);
    json_int_t n =
        json_integer_value(json_object_get(json_object_get(row, "counts"), cs_metric_name(m)));
    json_decref(p);
    return n;
}

/* the first active account counts in its year and month in Asia/Ho_Chi_Minh; the marketplace is
 * the first one's; a second account or a reactivation counts nothing more */
static void test_first_activation_and_boundaries(void **state)
{
    (void)state;
    reset();
    char code[24];
    int64_t hh = household(22, communes[0], code);
    int64_t a1 = account(hh, "voso"), a2 = account(hh, "shopee");
    walk_account(a1);
    walk_account(a2);
    assert_int_equal(move(0, a1, "suspended"), 0);
    assert_int_equal(move(0, a1, "active"), 0);
    vn_date today = vn_today();
    json_t *p = progress(today.y, CS_BY_MARKETPLACE, today);
    assert_int_equal(achieved(p, CS_M_HOUSEHOLDS), 1);
    json_t *rows = json_object_get(p, "breakdown");
    assert_int_equal(json_array_size(rows), 6); /* with Sendo, a marketplace configured as data */
    /* postmart.vn and voso.vn first, the count filed under voso */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rows, 0), "marketplace_code")),
        "postmart");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rows, 1), "marketplace_code")), "voso");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json_array_get(rows, 1), "counts"),
                                           "households_onboarded")),
        1);
    json_decref(p);
    assert_int_equal(verify_diff(), 0);

    /* 2025-12-31 17:30 UTC is 2026-01-01 00:30 in Việt Nam */
    tsup_exec(db, "UPDATE households SET onboarded_at = '2025-12-31 17:30:00' WHERE id = ?", "i",
              hh);
    assert_true(verify_diff() > 0); /* the counters do not follow a direct UPDATE … */
    rebuild();                      /* … the rebuild does */
    assert_int_equal(verify_diff(), 0);
    assert_int_equal(year_count(2026, CS_M_HOUSEHOLDS), 1);
    assert_int_equal(month_count(2026, 1, CS_M_HOUSEHOLDS), 1);
    assert_int_equal(year_count(2025, CS_M_HOUSEHOLDS), 0);
    /* one second before midnight in Việt Nam stays in 2025 */
    tsup_exec(db, "UPDATE households SET onboarded_at = '2025-12-31 16:59:59' WHERE id = ?", "i",
              hh);
    rebuild();
    assert_int_equal(year_count(2025, CS_M_HOUSEHOLDS), 1);
    assert_int_equal(month_count(2025, 12, CS_M_HOUSEHOLDS), 1);
    assert_int_equal(year_count(2026, CS_M_HOUSEHOLDS), 0);
}

/* only youth-led households count; correcting the birth date moves the count both ways */
static void test_youth_rule(void **state)
{
    (void)state;
    reset();
    char young[24], old[24];
    int64_t y = household(25, communes[0], young);
    int64_t o = household(45, communes[1], old);
    walk_account(account(y, "shopee"));
    walk_account(account(o, "lazada"));
    vn_date today = vn_today();
    assert_int_equal(year_count(today.y, CS_M_HOUSEHOLDS), 1);
    /* a mistyped birth date corrected: the older owner was in fact 24 */
    int by = today.y - 25;
    char cccd[13], date[16];
    cccd_for(by, cccd);
    snprintf(date, sizeof date, "01/01/%d", by);
    json_t *patch = json_pack("{s:s,s:s}", "birth_date", date, "cccd", cccd);
    cs_household_result res;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_update(db, &actor, old, 1, patch, &res, &e), 0);
    json_decref(patch);
    assert_int_equal(tsup_i64(db, "SELECT youth_led FROM households WHERE id = ?", "i", o), 1);
    assert_int_equal(year_count(today.y, CS_M_HOUSEHOLDS), 2);
    /* and a move to another commune moves the count with it */
    patch = json_pack("{s:s}", "commune_code", communes[2]);
    cs_error_clear(&e);
    assert_int_equal(cs_household_update(db, &actor, old, res.version, patch, &res, &e), 0);
    json_decref(patch);
    assert_int_equal(verify_diff(), 0);
    json_t *p = progress(today.y, CS_BY_COMMUNE, today);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(p, "breakdown"), i, row)
    {
        const char *c = json_string_value(json_object_get(row, "commune_code"));
        json_int_t n = json_integer_value(
            json_object_get(json_object_get(row, "counts"), "households_onboarded"));
        assert_int_equal(n, !strcmp(c, communes[0]) || !strcmp(c, communes[2]) ? 1 : 0);
    }
    json_decref(p);
    (void)y;
}

/* a flagship product counts in the year its first listing went live, whatever happens later;
 * a link approved after it went live counts it, refused uncounts it */
static void test_flagship_and_delisting(void **state)
{
    (void)state;
    reset();
    char code[24];
    household(30, communes[1], code);
    int64_t fp = product(code, 1), plain = product(code, 0);
    int64_t l1 = listing(fp, "postmart"), l2 = listing(plain, "tiktok");
    walk_listing(l1);
    walk_listing(l2);
    vn_date today = vn_today();
    assert_int_equal(year_count(today.y, CS_M_LIVE), 1);
    /* went live in June 2025 (Việt Nam time); delisted now: 2025 keeps it */
    tsup_exec(db, "UPDATE products SET first_live_at = '2025-06-10 03:00:00' WHERE id = ?", "i",
              fp);
    rebuild();
    assert_int_equal(move(1, l1, "delisted"), 0);
    assert_int_equal(year_count(2025, CS_M_LIVE), 1);
    assert_int_equal(month_count(2025, 6, CS_M_LIVE), 1);
    assert_int_equal(year_count(today.y, CS_M_LIVE), 0);
    /* live again: still counted once, in 2025 */
    assert_int_equal(move(1, l1, "live"), 0);
    assert_int_equal(year_count(2025, CS_M_LIVE), 1);
    /* the old tick alone counts nothing any more */
    json_t *patch = json_pack("{s:b}", "flagship", 1);
    cs_product_result pr;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_product_update(db, &actor, plain, 1, patch, &pr, &e), 0);
    json_decref(patch);
    assert_int_equal(year_count(today.y, CS_M_LIVE), 0);
    /* the plain product is linked to a list entry after it went live: proposed, not counted;
       approved, it counts now */
    patch = json_pack("{s:I}", "flagship_id", (json_int_t)entry_id(45));
    cs_error_clear(&e);
    assert_int_equal(cs_product_update(db, &actor, plain, pr.version, patch, &pr, &e), 0);
    json_decref(patch);
    assert_int_equal(year_count(today.y, CS_M_LIVE), 0);
    decide(plain, 1);
    assert_int_equal(year_count(today.y, CS_M_LIVE), 1);
    pr.version = (unsigned)tsup_i64(db, "SELECT version FROM products WHERE id = ?", "i", plain);
    /* a sale: first sale counted once; an earlier-dated sale on another listing moves it */
    sale(l2, NULL);
    sale(l2, NULL);
    assert_int_equal(year_count(today.y, CS_M_SOLD), 1);
    int64_t l3 = listing(plain, "voso");
    walk_listing(l3);
    char at[24];
    snprintf(at, sizeof at, "%d-01-05 10:00:00", today.y);
    sale(l3, at);
    assert_int_equal(year_count(today.y, CS_M_SOLD), 1);
    assert_int_equal(verify_diff(), 0);
    /* refused: it no longer counts, in either metric */
    decide(plain, 0);
    assert_int_equal(year_count(today.y, CS_M_LIVE), 0);
    assert_int_equal(year_count(today.y, CS_M_SOLD), 0);
    assert_int_equal(verify_diff(), 0);
    /* the owner's erasure keeps the past count */
    json_t *orphans = NULL;
    cs_error_clear(&e);
    assert_int_equal(cs_household_erase(db, &actor, code, &orphans, &e), 0);
    json_decref(orphans);
    assert_int_equal(year_count(2025, CS_M_LIVE), 1);
    assert_int_equal(verify_diff(), 0);
}

struct racer {
    int64_t account;
    pthread_barrier_t *go;
    int rc;
};

static void *race_activate(void *arg)
{
    struct racer *r = arg;
    cs_error e;
    cs_error_clear(&e);
    cs_db *d = cs_db_acquire(&e);
    r->rc = -1;
    if (!d) return NULL;
    pthread_barrier_wait(r->go);
    struct tr t = {0, r->account, "active", NULL};
    r->rc = cs_db_tx(d, tr_tx, &t, &e);
    cs_db_release(d);
    return NULL;
}

/* accounts of one household activated at the same moment on five marketplaces: the household
 * counts once, under the marketplace of the earliest 'active' event */
static void test_concurrent_first_activation(void **state)
{
    (void)state;
    reset();
    for (int round = 0; round < 6; round++) {
        char code[24];
        int64_t h = household(21, communes[round % 3], code);
        struct racer r[5];
        pthread_t th[5];
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 5);
        for (int i = 0; i < 5; i++) {
            r[i].account = account(h, MPS[i]);
            assert_int_equal(move(0, r[i].account, "awaiting_owner"), 0);
            assert_int_equal(move(0, r[i].account, "authorized"), 0);
            r[i].go = &go;
        }
        for (int i = 0; i < 5; i++)
            pthread_create(&th[i], NULL, race_activate, &r[i]);
        for (int i = 0; i < 5; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(r[i].rc, 0);
        }
        pthread_barrier_destroy(&go);
    }
    assert_int_equal(year_count(vn_today().y, CS_M_HOUSEHOLDS), 6);
    assert_int_equal(verify_diff(), 0);
}

/* snapshot of the non-zero counter cells as text, for comparing maintained with rebuilt */
static char *snapshot(void)
{
    cs_rows *r = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(
        cs_db_query(db, &r,
                    "SELECT CONCAT_WS(',', year, month, metric, commune_code, marketplace_code, n)"
                    " FROM target_counts WHERE n <> 0 ORDER BY year, month, metric, commune_code,"
                    " marketplace_code",
                    "", &e),
        0);
    size_t cap = 64 + cs_rows_count(r) * 64, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    s[0] = '\0';
    for (size_t i = 0; i < cs_rows_count(r); i++)
        len += (size_t)snprintf(s + len, cap - len, "%s\n", cs_rows_str(r, i, 0));
    cs_rows_free(r);
    return s;
}

static const char *const acc_states[] = {"not_started", "awaiting_owner", "authorized",   "active",
                                         "rejected",    "suspended",      "token_expired"};
static const char *const lst_states[] = {"draft", "queued",   "submitted", "pending_review",
                                         "live",  "rejected", "delisted",  "failed"};

/* a random allowed next state of an account (kind 0) or listing (kind 1); NULL when none */
static const char *random_next(int kind, int64_t id)
{
    cs_rows *r = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_db_query(db, &r,
                                 kind ? "SELECT state FROM listings WHERE id = ?"
                                      : "SELECT state FROM seller_accounts WHERE id = ?",
                                 "i", id, &e),
                     0);
    char from[24];
    snprintf(from, sizeof from, "%s", cs_rows_str(r, 0, 0));
    cs_rows_free(r);
    const char *cand[8];
    size_t n = 0;
    for (size_t i = 0; i < (kind ? 8u : 7u); i++) {
        const char *to = kind ? lst_states[i] : acc_states[i];
        if (kind ? cs_listing_transition_allowed(from, to)
                 : cs_account_transition_allowed(from, to))
            cand[n++] = to;
    }
    return n ? cand[(size_t)rand() % n] : NULL;
}

/* a random sequence of transitions, sales and corrections: the maintained counters equal a
 * from-scratch recomputation, cell for cell */
static void test_random_sequence_matches_rebuild(void **state)
{
    (void)state;
    reset();
    unsigned seed = (unsigned)getpid();
    if (getenv("TARGETS_SEED")) seed = (unsigned)strtoul(getenv("TARGETS_SEED"), NULL, 10);
    printf("random sequence seed %u (TARGETS_SEED to replay)\n", seed);
    srand(seed);
    enum { NH = 12 };
    int64_t hh[NH], accs[NH * 2], lsts[NH * 4], prods[NH * 2];
    char codes[NH][24];
    unsigned versions[NH * 2];
    size_t na = 0, nl = 0, np = 0;
    for (int i = 0; i < NH; i++) {
        hh[i] = household(i % 3 ? 22 : 40, communes[i % 3], codes[i]);
        for (int k = 0; k < 2; k++)
            accs[na++] = account(hh[i], MPS[(i + k * 2) % 5]);
        for (int k = 0; k < 2; k++) {
            int64_t p = product(codes[i], rand() % 3 != 0);
            versions[np] = 1;
            prods[np++] = p;
            for (int j = 0; j < 2; j++)
                lsts[nl++] = listing(p, MPS[(i + k + j * 3) % 5]);
        }
    }
    int moved = 0;
    for (int step = 0; step < 600; step++) {
        int what = rand() % 20;
        if (what < 8) {
            int64_t id = accs[(size_t)rand() % na];
            const char *to = random_next(0, id);
            if (to) assert_int_equal(move(0, id, to), 0), moved++;
        } else if (what < 17) {
            int64_t id = lsts[(size_t)rand() % nl];
            const char *to = random_next(1, id);
            if (to) assert_int_equal(move(1, id, to), 0), moved++;
        } else if (what == 17) {
            char at[24];
            snprintf(at, sizeof at, "%d-%02d-%02d 2%d:00:00", 2025 + rand() % 2, 1 + rand() % 12,
                     1 + rand() % 28, rand() % 4);
            struct tr t = {2, lsts[(size_t)rand() % nl], NULL, rand() % 2 ? at : NULL};
            cs_error e;
            cs_error_clear(&e);
            assert_int_equal(cs_db_tx(db, tr_tx, &t, &e), 0);
        } else if (what == 18) {
            /* a link proposed to one of two entries (pairs collide), unlinked, approved or
               refused */
            size_t k = (size_t)rand() % np;
            int op = rand() % 4;
            if (op >= 2 && tsup_i64(db, "SELECT flagship_id IS NOT NULL FROM products WHERE id = ?",
                                    "i", prods[k])) {
                decide(prods[k], op == 2);
            } else {
                json_t *patch =
                    op ? json_pack("{s:I}", "flagship_id", (json_int_t)entry_id(rand() % 2))
                       : json_pack("{s:b}", "flagship", 0);
                cs_product_result pr;
                cs_error e;
                cs_error_clear(&e);
                versions[k] = (unsigned)tsup_i64(db, "SELECT version FROM products WHERE id = ?",
                                                 "i", prods[k]);
                assert_int_equal(
                    cs_product_update(db, &actor, prods[k], versions[k], patch, &pr, &e), 0);
                json_decref(patch);
            }
            assert_int_equal(verify_diff(), 0);
        } else {
            int i = rand() % NH;
            json_t *patch = json_pack("{s:s}", "commune_code", communes[rand() % 3]);
            unsigned v =
                (unsigned)tsup_i64(db, "SELECT version FROM households WHERE id = ?", "i", hh[i]);
            cs_household_result res;
            cs_error e;
            cs_error_clear(&e);
            assert_int_equal(cs_household_update(db, &actor, codes[i], v, patch, &res, &e), 0);
            json_decref(patch);
        }
        /* now and then a first date moves to last year, and the counters are rebuilt */
        if (step == 200) {
            tsup_exec(db,
                      "UPDATE households SET onboarded_at = onboarded_at - INTERVAL 1 YEAR"
                      " WHERE onboarded_at IS NOT NULL AND id % 2 = 0",
                      "");
            rebuild();
        }
    }
    assert_true(moved > 300);
    /* the walk reached what the counters count, after the mid-way rebuild too */
    printf(
        "random sequence: %d moves, %lld flagship products live, %lld counter cells\n", moved,
        (long long)tsup_i64(
            db, "SELECT COUNT(*) FROM products WHERE first_live_at IS NOT NULL AND flagship", ""),
        (long long)tsup_i64(db, "SELECT COUNT(*) FROM target_counts WHERE n <> 0", ""));
    assert_true(
        tsup_i64(db, "SELECT COUNT(*) FROM products WHERE first_live_at IS NOT NULL AND flagship",
                 "") > 0);
    assert_true(
        tsup_i64(
            db,
            "SELECT COUNT(*) FROM households WHERE onboarded_at > UTC_TIMESTAMP() - INTERVAL 1 DAY",
            "") > 0);
    assert_true(tsup_i64(db, "SELECT COUNT(*) FROM target_counts WHERE n <> 0", "") > 0);
    assert_int_equal(verify_diff(), 0);
    char *before = snapshot();
    rebuild();
    char *after = snapshot();
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static json_int_t row_count(const json_t *row, int m)
{
    return json_integer_value(json_object_get(json_object_get(row, "counts"), cs_metric_name(m)));
}

/* some data spread over communes, marketplaces and months of one year */
static void spread(void)
{
    reset();
    for (int i = 0; i < 9; i++) {
        char code[24];
        int64_t h = household(20 + i, communes[i % 3], code);
        int64_t a = account(h, MPS[i % 5]);
        walk_account(a);
        int64_t p = product(code, 1);
        int64_t l = listing(p, MPS[(i + 1) % 5]);
        walk_listing(l);
        if (i % 2) sale(l, NULL);
        tsup_exec(db, "UPDATE households SET onboarded_at = ? WHERE id = ?", "si",
                  i < 5 ? "2026-03-15 08:00:00" : "2026-11-02 01:00:00", h);
        tsup_exec(db, "UPDATE products SET first_live_at = '2026-04-01 00:00:00' WHERE id = ?", "i",
                  p);
    }
    rebuild();
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(
        cs_targets_set_goal(db, &actor, 2026, "households_onboarded", communes[0], 4, &e), 0);
}

static void test_breakdowns_sum_to_total(void **state)
{
    (void)state;
    spread();
    vn_date d = {2026, 7, 1};
    json_t *total = progress(2026, CS_BY_NONE, d);
    assert_int_equal(achieved(total, CS_M_HOUSEHOLDS), 9);
    assert_int_equal(achieved(total, CS_M_LIVE), 9);
    assert_int_equal(achieved(total, CS_M_SOLD), 4);
    /* pace and projection as documented: 2026-07-01 is day 182 of 365 */
    json_t *m0 = json_array_get(json_object_get(total, "metrics"), 0);
    assert_int_equal(json_integer_value(json_object_get(m0, "goal")), 2000);
    assert_int_equal(json_integer_value(json_object_get(m0, "projection")),
                     (json_int_t)llround(9.0 * 365 / 182));
    assert_int_equal(json_integer_value(json_object_get(m0, "needed_per_month")), (1991 + 5) / 6);
    assert_int_equal(json_integer_value(json_object_get(m0, "needed_per_week")),
                     (json_int_t)ceil(1991.0 * 7 / 184));
    assert_true(fabs(json_real_value(json_object_get(m0, "percent")) - 0.45) < 0.051);
    static const cs_targets_by bys[] = {CS_BY_COMMUNE, CS_BY_DISTRICT, CS_BY_MARKETPLACE,
                                        CS_BY_MONTH};
    static const size_t sizes[] = {166, 27, 6, 12}; /* 6 marketplaces with Sendo */
    for (size_t b = 0; b < 4; b++) {
        json_t *p = progress(2026, bys[b], d);
        json_t *rows = json_object_get(p, "breakdown");
        assert_int_equal(json_array_size(rows), sizes[b]);
        for (int m = 0; m < CS_M__COUNT; m++) {
            json_int_t sum = 0;
            size_t i;
            json_t *row;
            json_array_foreach(rows, i, row) sum += row_count(row, m);
            assert_int_equal(sum, achieved(total, m));
            assert_int_equal(achieved(p, m), achieved(total, m));
        }
        if (bys[b] == CS_BY_MONTH) {
            assert_int_equal(row_count(json_array_get(rows, 2), CS_M_HOUSEHOLDS), 5);
            assert_int_equal(row_count(json_array_get(rows, 10), CS_M_HOUSEHOLDS), 4);
            assert_int_equal(row_count(json_array_get(rows, 3), CS_M_LIVE), 9);
        }
        if (bys[b] == CS_BY_COMMUNE) {
            size_t i;
            json_t *row;
            json_array_foreach(rows, i, row)
            {
                if (strcmp(json_string_value(json_object_get(row, "commune_code")), communes[0]))
                    continue;
                assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "goals"),
                                                                    "households_onboarded")),
                                 4);
                assert_true(fabs(json_real_value(json_object_get(json_object_get(row, "percent"),
                                                                 "households_onboarded")) -
                                 75.0) < 1e-9);
                json_int_t per_mp = 0;
                const char *k;
                json_t *v;
                json_object_foreach(json_object_get(row, "marketplaces"), k, v) per_mp +=
                    json_integer_value(json_object_get(v, "households_onboarded"));
                assert_int_equal(per_mp, row_count(row, CS_M_HOUSEHOLDS));
            }
        }
        json_decref(p);
    }
    /* a volunteer's scope: one commune, its sub-goal as the goal */
    const char *scope[] = {communes[0]};
    json_t *p = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(svc_targets_progress_json(db, 2026, CS_BY_COMMUNE, d, scope, 1, &p, &e), 0);
    assert_int_equal(json_array_size(json_object_get(p, "breakdown")), 1);
    assert_int_equal(achieved(p, CS_M_HOUSEHOLDS), 3);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(p, "metrics"), 0), "goal")),
                     4);
    json_decref(p);
    json_decref(total);
}

/* value of a report cell as a number ("" → NAN) */
static double num(const char *s)
{
    if (!*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    assert_true(*end == '\0');
    return v;
}

/* the report's rows (province first, then every commune) hold the progress object's numbers;
 * pct_scale 1 for CSV (12.5), 100 for XLSX (0.125 shown as 12.5%) */
static void check_report(const sheet *s, const json_t *p, double pct_scale)
{
    size_t first = (size_t)-1;
    for (size_t i = 0; i < sheet_nrows(s); i++)
        if (!strcmp(sheet_cell(s, i, 2), "Toàn tỉnh")) first = i;
    assert_true(first != (size_t)-1);
    assert_true(first >= 1);
    /* headers: the fixed columns, then per metric total/goal/% and the marketplaces in order */
    assert_non_null(strstr(sheet_cell(s, first - 1, 7), "postmart.vn"));
    assert_non_null(strstr(sheet_cell(s, first - 1, 8), "voso.vn"));
    json_t *rows = json_object_get(p, "breakdown");
    assert_int_equal(sheet_nrows(s) - first - 1, json_array_size(rows));
    size_t nmp = json_array_size(json_object_get(p, "marketplaces"));
    for (int m = 0; m < CS_M__COUNT; m++) {
        unsigned c0 = 4 + (unsigned)m * (unsigned)(3 + nmp);
        json_t *pm = json_array_get(json_object_get(p, "metrics"), (size_t)m);
        assert_int_equal((json_int_t)num(sheet_cell(s, first, c0)),
                         json_integer_value(json_object_get(pm, "achieved")));
        json_t *g = json_object_get(pm, "goal");
        if (json_is_integer(g))
            assert_int_equal((json_int_t)num(sheet_cell(s, first, c0 + 1)), json_integer_value(g));
        else
            assert_string_equal(sheet_cell(s, first, c0 + 1), "");
        json_int_t mp_sum = 0;
        for (size_t k = 0; k < nmp; k++)
            mp_sum += (json_int_t)num(sheet_cell(s, first, c0 + 3 + (unsigned)k));
        assert_int_equal(mp_sum, json_integer_value(json_object_get(pm, "achieved")));
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            size_t r = first + 1 + i;
            assert_string_equal(sheet_cell(s, r, 1),
                                json_string_value(json_object_get(row, "commune_code")));
            assert_string_equal(sheet_cell(s, r, 2),
                                json_string_value(json_object_get(row, "commune_name")));
            assert_string_equal(sheet_cell(s, r, 3),
                                json_string_value(json_object_get(row, "former_district_name")));
            assert_int_equal((json_int_t)num(sheet_cell(s, r, c0)), row_count(row, m));
            json_t *pc = json_object_get(json_object_get(row, "percent"), cs_metric_name(m));
            if (json_is_number(pc))
                assert_true(fabs(num(sheet_cell(s, r, c0 + 2)) * pct_scale -
                                 json_number_value(pc)) < 0.051);
            else
                assert_string_equal(sheet_cell(s, r, c0 + 2), "");
            for (size_t k = 0; k < nmp; k++) {
                const char *code = json_string_value(
                    json_object_get(json_array_get(json_object_get(p, "marketplaces"), k), "code"));
                assert_int_equal((json_int_t)num(sheet_cell(s, r, c0 + 3 + (unsigned)k)),
                                 json_integer_value(json_object_get(
                                     json_object_get(json_object_get(row, "marketplaces"), code),
                                     cs_metric_name(m))));
            }
        }
    }
}

/* the sales columns after the metrics: the province row holds the progress totals, each commune
 * row its own order_counts (the rows sales_fixture put in) */
static void check_sales(const sheet *s, size_t nmp)
{
    size_t first = (size_t)-1;
    for (size_t i = 0; i < sheet_nrows(s); i++)
        if (!strcmp(sheet_cell(s, i, 2), "Toàn tỉnh")) first = i;
    assert_true(first != (size_t)-1);
    unsigned c0 = 4 + (unsigned)CS_M__COUNT * (unsigned)(3 + nmp);
    assert_non_null(strstr(sheet_cell(s, first - 1, c0), "Đơn hàng"));
    assert_non_null(strstr(sheet_cell(s, first - 1, c0 + 2), "Doanh thu"));
    assert_int_equal((int64_t)num(sheet_cell(s, first, c0)), 5);
    assert_int_equal((int64_t)num(sheet_cell(s, first, c0 + 1)), 9);
    assert_int_equal((int64_t)num(sheet_cell(s, first, c0 + 2)), 1250000);
    int seen = 0;
    for (size_t r = first + 1; r < sheet_nrows(s); r++) {
        int64_t o = (int64_t)num(sheet_cell(s, r, c0)), u = (int64_t)num(sheet_cell(s, r, c0 + 1)),
                v = (int64_t)num(sheet_cell(s, r, c0 + 2));
        if (!strcmp(sheet_cell(s, r, 1), communes[0])) {
            assert_true(o == 3 && u == 6 && v == 1000000);
            seen++;
        } else if (!strcmp(sheet_cell(s, r, 1), communes[1])) {
            assert_true(o == 2 && u == 3 && v == 250000);
            seen++;
        } else
            assert_true(o == 0 && u == 0 && v == 0);
    }
    assert_int_equal(seen, 2);
}

/* orders, units and revenue in two communes in 2026 (and one line of 2025, never shown) */
static void sales_fixture(void)
{
    tsup_exec(db, "DELETE FROM order_counts", "");
    tsup_exec(db,
              "INSERT INTO order_counts (year, month, product_id, marketplace_code, commune_code,"
              " household_id, orders, units, revenue_vnd)"
              " VALUES (2026, 3, 1, 'postmart', ?, 1, 2, 4, 600000),"
              " (2026, 5, 1, 'voso', ?, 1, 1, 2, 400000),"
              " (2026, 6, 2, 'postmart', ?, 2, 2, 3, 250000),"
              " (2025, 6, 2, 'postmart', ?, 2, 7, 7, 700000)",
              "ssss", communes[0], communes[0], communes[1], communes[1]);
}

static void test_report_files_match(void **state)
{
    (void)state;
    spread();
    sales_fixture();
    vn_date d = {2026, 11, 29};
    cs_progress tp;
    json_t *p = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_progress(db, 2026, CS_BY_COMMUNE, d, NULL, 0, &tp, &e), 0);
    assert_int_equal(svc_targets_json(&tp, &p, &e), 0);
    char *csv = NULL;
    size_t len = 0;
    assert_int_equal(cs_targets_csv(&tp, &csv, &len, &e), 0);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    sheet *s = NULL;
    assert_int_equal(sheet_read(csv, len, NULL, &s, &e), 0);
    assert_int_equal(sheet_encoding_of(s), SHEET_ENC_UTF8_BOM);
    check_report(s, p, 1.0);
    check_sales(s, tp.nmps);
    sheet_free(s);
    cs_free(csv);

    char *dir = tsup_tmpdir("targets-xlsx");
    char path[512];
    snprintf(path, sizeof path, "%s/report.xlsx", dir);
    cs_error_clear(&e);
    assert_int_equal(cs_targets_xlsx(&tp, path, &e), 0);
    s = NULL;
    assert_int_equal(sheet_read_file(path, NULL, &s, &e), 0);
    assert_int_equal(sheet_format_of(s), SHEET_FMT_XLSX);
    assert_non_null(strstr(sheet_cell(s, 0, 0), "2026"));
    check_report(s, p, 100.0);
    check_sales(s, tp.nmps);
    sheet_free(s);
    tsup_rm_rf(dir);
    cs_free(dir);
    json_decref(p);
    cs_targets_progress_free(&tp);
}

static char choso[4096];

/* the choso binary: $BUILD/choso, else three levels above this test binary */
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

static int run_choso(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' targets %s >/dev/null 2>&1", choso, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* `choso targets`: the CLI prints the same numbers in every format; --verify and --rebuild */
static void test_cli(void **state)
{
    (void)state;
    find_choso();
    if (!choso[0]) fail_msg("cannot find the choso binary (set BUILD)");
    spread();
    vn_date d = {2026, 7, 1};
    json_t *p = progress(2026, CS_BY_COMMUNE, d);
    char *dir = tsup_tmpdir("targets-cli");
    char args[1024], path[512];
    size_t len;

    snprintf(path, sizeof path, "%s/p.json", dir);
    snprintf(args, sizeof args,
             "--year 2026 --by commune --as-of 2026-07-01 --format json --output '%s'", path);
    assert_int_equal(run_choso(args), 0);
    char *text = read_all(path, &len);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_true(json_equal(json_object_get(j, "metrics"), json_object_get(p, "metrics")));
    assert_true(json_equal(json_object_get(j, "breakdown"), json_object_get(p, "breakdown")));
    json_decref(j);
    free(text);

    snprintf(path, sizeof path, "%s/p.csv", dir);
    snprintf(args, sizeof args, "--year 2026 --as-of 2026-07-01 --format csv --output '%s'", path);
    assert_int_equal(run_choso(args), 0);
    text = read_all(path, &len);
    sheet *s = NULL;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(sheet_read(text, len, NULL, &s, &e), 0);
    check_report(s, p, 1.0);
    sheet_free(s);
    free(text);

    snprintf(path, sizeof path, "%s/p.xlsx", dir);
    snprintf(args, sizeof args, "--year 2026 --as-of 2026-07-01 --format xlsx --output '%s'", path);
    assert_int_equal(run_choso(args), 0);
    s = NULL;
    assert_int_equal(sheet_read_file(path, NULL, &s, &e), 0);
    check_report(s, p, 100.0);
    sheet_free(s);

    assert_int_equal(run_choso("--format xlsx"), 64); /* xlsx needs --output */
    assert_int_equal(run_choso("--by village"), 64);
    assert_int_equal(run_choso("--verify"), 0);
    tsup_exec(db, "UPDATE target_counts SET n = n + 1 LIMIT 1", "");
    assert_int_equal(run_choso("--verify"), 1);
    assert_int_equal(run_choso("--rebuild --verify"), 0);
    assert_int_equal(verify_diff(), 0);
    tsup_rm_rf(dir);
    cs_free(dir);
    json_decref(p);
}

static void test_goals(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_targets_set_goal(db, &actor, 2026, "flagship_products_sold", NULL, 30, &e),
                     0);
    vn_date d = {2026, 1, 1};
    json_t *p = progress(2026, CS_BY_NONE, d);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(p, "metrics"), 2), "goal")),
                     30);
    json_decref(p);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM audit_log WHERE action = 'target.set'"
                              " AND entity_id = '2026/flagship_products_sold'",
                              ""),
                     1);
    cs_error_clear(&e);
    assert_int_equal(cs_targets_set_goal(db, &actor, 2026, "households", "999", -1, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    assert_int_equal(e.nfields, 3);
    cs_error_clear(&e);
    assert_int_equal(cs_targets_set_goal(db, &actor, 2026, "households_onboarded", "99999", 5, &e),
                     -1);
    assert_string_equal(e.fields[0].field, "commune_code");
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_activation_and_boundaries),
        cmocka_unit_test(test_youth_rule),
        cmocka_unit_test(test_flagship_and_delisting),
        cmocka_unit_test(test_random_sequence_matches_rebuild),
        cmocka_unit_test(test_concurrent_first_activation),
        cmocka_unit_test(test_breakdowns_sum_to_total),
        cmocka_unit_test(test_report_files_match),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_goals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
