/* Integration tests of core/households, core/products and core/states against the real
 * MariaDB server that scripts/run-tests starts (skips with 77 when run by hand without one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/products.h"
#include "core/states.h"
#include "tests/support/tsup.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cs_db *db;
static cs_actor actor;
static int serial;

static int setup(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) return -1;
    /* keep PIN hashing quick in tests; production uses the configured N */
    cs_config_set("crypto.pin_scrypt_n", "1024", &e);
    /* one scrypt check at a time: the concurrent PIN test below goes through the bound */
    cs_config_set("pin.max_parallel", "1", &e);
    if (cs_crypto_init(cs_cfg_str("crypto.key_file"), &e)) {
        fprintf(stderr, "crypto: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    if (cs_db_pool_init(&e) || !(db = cs_db_acquire(&e))) {
        fprintf(stderr, "db: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    memset(&actor, 0, sizeof actor);
    actor.kind = CS_ACTOR_CLI;
    snprintf(actor.id, sizeof actor.id, "test");
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

/* A fresh, valid person: unique CCCD and phone for each call. */
static json_t *new_household(int age, const char *commune)
{
    vn_date t = vn_today();
    int y = t.y - age;
    serial++;
    char cccd[16], phone[16], date[16];
    snprintf(cccd, sizeof cccd, "038%d%02d%06d", y >= 2000 ? 3 : 1, y % 100,
             400000 + serial * 7 + (int)(getpid() % 1000));
    snprintf(phone, sizeof phone, "09%08d", 10000000 + serial * 13 + (int)(getpid() % 1000));
    snprintf(date, sizeof date, "01/01/%d", y);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "owner_name", "Lê Thị Hoa", "cccd", cccd,
                     "phone", phone, "birth_date", date, "commune_code", commune, "address",
                     "Thôn Đông, xã Hoằng Thanh", "business_name", "Hộ kinh doanh Hoa Nem",
                     "consent", 1);
}

static void test_roundtrip_sealed(void **state)
{
    (void)state;
    json_t *in = new_household(24, "14797");
    char cccd[16], phone[16];
    snprintf(cccd, sizeof cccd, "%s", json_string_value(json_object_get(in, "cccd")));
    snprintf(phone, sizeof phone, "%s", json_string_value(json_object_get(in, "phone")));
    cs_household_result res;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_create(db, &actor, in, &res, &e), 0);
    assert_int_equal(strlen(res.pin), 6);
    assert_true(strncmp(res.code, "TH-", 3) == 0);

    json_t *full = NULL, *masked = NULL, *none = NULL;
    assert_int_equal(cs_household_get(db, res.code, CS_PII_FULL, &full, NULL, &e), 0);
    assert_string_equal(json_string_value(json_object_get(full, "cccd")), cccd);
    assert_string_equal(json_string_value(json_object_get(full, "phone")), phone);
    assert_string_equal(json_string_value(json_object_get(full, "address")),
                        "Thôn Đông, xã Hoằng Thanh");
    assert_int_equal(cs_household_get(db, res.code, CS_PII_MASKED, &masked, NULL, &e), 0);
    const char *mp = json_string_value(json_object_get(masked, "phone"));
    assert_non_null(mp);
    assert_null(strstr(mp, phone + 2));
    assert_int_equal(mp[2], '*');
    assert_int_equal(cs_household_get(db, res.code, CS_PII_NONE, &none, NULL, &e), 0);
    assert_null(json_object_get(none, "cccd"));
    assert_null(json_object_get(none, "phone"));
    assert_null(json_object_get(none, "birth_date"));
    assert_null(json_object_get(none, "address"));
    json_decref(full);
    json_decref(masked);
    json_decref(none);

    /* the raw table holds no plaintext citizen ID, phone or address */
    cs_rows *r = NULL;
    assert_int_equal(
        cs_db_query(
            db, &r,
            "SELECT COUNT(*) FROM households WHERE INSTR(cccd_sealed, ?) > 0 OR"
            " INSTR(phone_sealed, ?) > 0 OR INSTR(address_sealed, 'Thôn') > 0"
            " OR INSTR(CONCAT_WS('|', code, owner_name, name_folded, business_name), ?) > 0",
            "sss", cccd, phone, cccd, &e),
        0);
    assert_int_equal(cs_rows_i64(r, 0, 0), 0);
    cs_rows_free(r);
    /* and no audit row mentions them either */
    assert_int_equal(
        cs_db_query(
            db, &r,
            "SELECT COUNT(*) FROM audit_log WHERE INSTR(detail, ?) > 0 OR INSTR(detail, ?) > 0",
            "ss", cccd, phone, &e),
        0);
    assert_int_equal(cs_rows_i64(r, 0, 0), 0);
    cs_rows_free(r);

    /* look-up by phone through the blind index */
    cs_household_filter f = {.youth_led = -1, .phone = phone, .limit = 10};
    json_t *list = NULL;
    int64_t next;
    assert_int_equal(cs_household_list(db, &f, CS_PII_MASKED, &list, &next, &e), 0);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "code")),
                        res.code);
    json_decref(list);

    /* duplicate citizen ID → 409 with the existing code, never a second row */
    cs_household_result res2;
    cs_error_clear(&e);
    assert_int_equal(cs_household_create(db, &actor, in, &res2, &e), -1);
    assert_int_equal(e.code, CS_E_DUPLICATE_HOUSEHOLD);
    assert_string_equal(e.existing, res.code);
    json_decref(in);
}

static void test_update_versions_and_search(void **state)
{
    (void)state;
    json_t *in = new_household(22, "16522");
    cs_household_result res, up;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_create(db, &actor, in, &res, &e), 0);
    json_t *patch = json_pack("{s:s}", "owner_name", "Le Thi Hoa Moi");
    assert_int_equal(cs_household_update(db, &actor, res.code, 1, patch, &up, &e), 0);
    assert_int_equal(up.outcome, CS_HH_UPDATED);
    assert_int_equal(up.version, 2);
    /* stale version → precondition failed */
    cs_error_clear(&e);
    assert_int_equal(cs_household_update(db, &actor, res.code, 1, patch, &up, &e), -1);
    assert_int_equal(e.code, CS_E_PRECONDITION);
    /* same content again → unchanged, version stays */
    cs_error_clear(&e);
    assert_int_equal(cs_household_update(db, &actor, res.code, 2, patch, &up, &e), 0);
    assert_int_equal(up.outcome, CS_HH_UNCHANGED);
    assert_int_equal(up.version, 2);
    json_decref(patch);
    /* a bad field in a patch is named */
    patch = json_pack("{s:s}", "phone", "0123");
    cs_error_clear(&e);
    assert_int_equal(cs_household_update(db, &actor, res.code, 2, patch, &up, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    assert_string_equal(e.fields[0].field, "phone");
    json_decref(patch);
    /* text search without diacritics finds the name */
    cs_household_filter f = {.youth_led = -1, .q = "hoa moi", .limit = 5};
    json_t *list = NULL;
    int64_t next;
    cs_error_clear(&e);
    assert_int_equal(cs_household_list(db, &f, CS_PII_NONE, &list, &next, &e), 0);
    assert_true(json_array_size(list) >= 1);
    json_decref(list);
    json_decref(in);
}

static int pin_try(const char *code, const char *pin, const char *client, cs_error *e)
{
    int64_t id = 0;
    cs_error_clear(e);
    return cs_household_check_pin(db, code, pin, client, "req", &id, e);
}

/* No hard locks (issue 13): an address gets pin.free_tries wrong PINs, then waits that grow; a
 * wait never stops another address, and not even the right PIN passes during it; strangers'
 * guesses fill the household's daily ceiling but an address the owner signed in from is
 * spared it; a malformed code counts nowhere; a code is read as people type it. */
static void test_pin_throttle(void **state)
{
    (void)state;
    json_t *in = new_household(28, "14797");
    cs_household_result res;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_create(db, &actor, in, &res, &e), 0);
    json_decref(in);
    int64_t id = 0;
    assert_int_equal(cs_household_check_pin(db, res.code, res.pin, "10.0.0.1", "req", &id, &e), 0);
    assert_int_equal(id, res.id);
    /* typed loosely: "th 2026 00037" */
    char loose[32];
    snprintf(loose, sizeof loose, "th %.4s %s", res.code + 3, res.code + 8);
    assert_int_equal(pin_try(loose, res.pin, "10.0.0.1", &e), 0);
    char wrong[8];
    snprintf(wrong, sizeof wrong, "%06ld", (strtol(res.pin, NULL, 10) + 1) % 1000000);
    /* malformed: refused, counted nowhere */
    int64_t before = 0, after = 0;
    assert_int_equal(pin_try("TH-20X6-1", wrong, "10.0.0.2", &e), -1);
    assert_int_equal(e.code, CS_E_HOUSEHOLD_CODE_FORMAT);
    assert_int_equal(cs_db_scalar_i64(db, &after,
                                      "SELECT COUNT(*) FROM pin_throttle WHERE client = '10.0.0.2'",
                                      "", &e),
                     0);
    assert_int_equal(after, before);
    /* two free wrong tries say how many are left, the third starts a wait */
    assert_int_equal(pin_try(res.code, wrong, "10.0.0.2", &e), -1);
    assert_int_equal(e.code, CS_E_PIN_WRONG);
    assert_int_equal(e.has_attempts, 1);
    assert_int_equal(e.attempts_left, 2);
    assert_int_equal(pin_try(res.code, wrong, "10.0.0.2", &e), -1);
    assert_int_equal(e.attempts_left, 1);
    assert_int_equal(pin_try(res.code, wrong, "10.0.0.2", &e), -1);
    assert_int_equal(e.code, CS_E_PIN_LOCKED);
    assert_int_equal(e.retry_after, 60);
    /* during the wait the right PIN from there is refused too (no oracle)… */
    assert_int_equal(pin_try(res.code, res.pin, "10.0.0.2", &e), -1);
    assert_int_equal(e.code, CS_E_PIN_LOCKED);
    assert_true(e.retry_after > 0 && e.retry_after <= 60);
    /* …but nobody else waits: the owner at home and a first-time address both get in */
    assert_int_equal(pin_try(res.code, res.pin, "10.0.0.1", &e), 0);
    assert_int_equal(pin_try(res.code, res.pin, "10.0.0.3", &e), 0);
    /* the wait doubles: expire it by hand, one more wrong → 120 s */
    tsup_exec(db,
              "UPDATE pin_pair SET wait_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND"
              " WHERE client = '10.0.0.2'",
              "");
    assert_int_equal(pin_try(res.code, wrong, "10.0.0.2", &e), -1);
    assert_int_equal(e.code, CS_E_PIN_LOCKED);
    assert_int_equal(e.retry_after, 120);
    /* strangers from many addresses: 4 wrong so far; six more reach the ceiling of 10 */
    char cl[32];
    for (int i = 0; i < 6; i++) {
        snprintf(cl, sizeof cl, "10.9.0.%d", i);
        assert_int_equal(pin_try(res.code, wrong, cl, &e), -1);
        assert_int_equal(e.code, i < 5 ? CS_E_PIN_WRONG : CS_E_PIN_DAILY);
    }
    /* a new address is refused before its PIN is looked at, even the right one */
    assert_int_equal(pin_try(res.code, res.pin, "10.9.1.1", &e), -1);
    assert_int_equal(e.code, CS_E_PIN_DAILY);
    assert_true(e.retry_after > 0 && e.retry_after <= 86400);
    /* the owner's known addresses are spared: nobody locked them out */
    assert_int_equal(pin_try(res.code, res.pin, "10.0.0.1", &e), 0);
    assert_int_equal(pin_try(res.code, res.pin, "10.0.0.3", &e), 0);
    int64_t n = 0;
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT COUNT(*) FROM audit_log WHERE entity_id = ?"
                                      " AND action IN ('owner.pin_failed','owner.pin_wait')",
                                      "s", res.code, &e),
                     0);
    assert_int_equal(n, 10);
    /* a new PIN starts afresh */
    char pin2[8];
    assert_int_equal(cs_household_new_pin(db, &actor, res.code, pin2, &e), 0);
    assert_int_equal(pin_try(res.code, pin2, "10.9.1.1", &e), 0);
    assert_int_equal(pin_try(res.code, pin2, "10.0.0.2", &e), 0);
}

static void test_code_normalize(void **state)
{
    (void)state;
    char out[24];
    assert_int_equal(cs_household_code_normalize("th 2026 00037", out), 0);
    assert_string_equal(out, "TH-2026-00037");
    assert_int_equal(cs_household_code_normalize(" TH.2026.00037 ", out), 0);
    assert_string_equal(out, "TH-2026-00037");
    assert_int_equal(cs_household_code_normalize("TH-2026-0001234", out), 0);
    assert_string_equal(out, "TH-2026-0001234");
    assert_int_equal(cs_household_code_normalize("TH-2026-0037", out), -1);
    assert_int_equal(cs_household_code_normalize("TX-2026-00037", out), -1);
    assert_int_equal(cs_household_code_normalize("TH-2026-00O37", out), -1);
    assert_int_equal(cs_household_code_normalize("", out), -1);
    assert_int_equal(cs_household_code_normalize(NULL, out), -1);
}

struct tctx {
    int64_t account, listing;
    const char *to;
};

static int do_account(cs_db *d, void *arg, cs_error *err)
{
    struct tctx *t = arg;
    return cs_account_transition(d, t->account, t->to, NULL, NULL, &actor, err);
}

static int do_listing(cs_db *d, void *arg, cs_error *err)
{
    struct tctx *t = arg;
    return cs_listing_transition(d, t->listing, t->to, "test", "test", &actor, err);
}

static void test_products_and_transitions(void **state)
{
    (void)state;
    json_t *in = new_household(20, "14797");
    cs_household_result hh;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_create(db, &actor, in, &hh, &e), 0);
    json_decref(in);
    json_t *p = json_pack("{s:s,s:s,s:s,s:i,s:i,s:b}", "name", "Nem chua Thanh Hóa", "description",
                          "Nem chua gói lá chuối, 10 chiếc một túi.", "category", "food_dish",
                          "price_vnd", 120000, "weight_g", 400, "flagship", 1);
    cs_product_result pr;
    assert_int_equal(cs_product_create(db, &actor, hh.code, p, &pr, &e), 0);
    /* unknown category is named */
    json_object_set_new(p, "category", json_string("spaceships"));
    cs_product_result bad;
    cs_error_clear(&e);
    assert_int_equal(cs_product_create(db, &actor, hh.code, p, &bad, &e), -1);
    assert_string_equal(e.fields[0].field, "category");
    json_decref(p);
    /* an update that changes nothing keeps the version */
    json_t *patch = json_pack("{s:i}", "price_vnd", 120000);
    cs_product_result up;
    cs_error_clear(&e);
    assert_int_equal(cs_product_update(db, &actor, pr.id, 1, patch, &up, &e), 0);
    assert_int_equal(up.changed, 0);
    json_decref(patch);

    /* account to active → household onboarded; listing live → product first_live_at */
    assert_true(
        cs_db_exec(
            db, "INSERT INTO seller_accounts (household_id, marketplace_code) VALUES (?, 'shopee')",
            "i", hh.id, &e) == 1);
    struct tctx t = {(int64_t)cs_db_insert_id(db), 0, NULL};
    assert_true(cs_db_exec(db,
                           "INSERT INTO listings (product_id, marketplace_code, account_id) VALUES "
                           "(?, 'shopee', ?)",
                           "ii", pr.id, t.account, &e) == 1);
    t.listing = (int64_t)cs_db_insert_id(db);
    t.to = "active";
    cs_error_clear(&e);
    assert_int_equal(cs_db_tx(db, do_account, &t, &e), -1); /* not_started → active is refused */
    assert_int_equal(e.code, CS_E_STATE_TRANSITION);
    const char *path[] = {"awaiting_owner", "authorized", "active"};
    for (int i = 0; i < 3; i++) {
        t.to = path[i];
        cs_error_clear(&e);
        assert_int_equal(cs_db_tx(db, do_account, &t, &e), 0);
    }
    int64_t n = 0;
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT onboarded_at IS NOT NULL AND status = 'onboarded'"
                                      " FROM households WHERE id = ?",
                                      "i", hh.id, &e),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT COUNT(*) FROM account_events WHERE account_id = ?",
                                      "i", t.account, &e),
                     0);
    assert_int_equal(n, 3);
    const char *lpath[] = {"queued", "submitted", "pending_review", "live", "delisted"};
    for (int i = 0; i < 5; i++) {
        t.to = lpath[i];
        cs_error_clear(&e);
        assert_int_equal(cs_db_tx(db, do_listing, &t, &e), 0);
    }
    /* delisting does not rewrite the first live date */
    assert_int_equal(
        cs_db_scalar_i64(
            db, &n,
            "SELECT (p.first_live_at IS NOT NULL) + (l.first_live_at IS NOT NULL)"
            " + (l.live_at IS NULL) FROM products p JOIN listings l ON l.product_id = p.id"
            " WHERE l.id = ?",
            "i", t.listing, &e),
        0);
    assert_int_equal(n, 3);
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT COUNT(*) FROM listing_events WHERE listing_id = ?",
                                      "i", t.listing, &e),
                     0);
    assert_int_equal(n, 5);

    /* consent withdrawal: personal fields gone, the anonymous row (and its dates) kept */
    json_t *orphans = NULL;
    cs_error_clear(&e);
    assert_int_equal(cs_household_erase(db, &actor, hh.code, &orphans, &e), 0);
    json_decref(orphans);
    json_t *after = NULL;
    assert_int_equal(cs_household_get(db, hh.code, CS_PII_FULL, &after, NULL, &e), 0);
    assert_string_equal(json_string_value(json_object_get(after, "status")), "erased");
    assert_null(json_object_get(after, "owner_name"));
    assert_null(json_object_get(after, "cccd"));
    assert_true(json_is_string(json_object_get(after, "onboarded_at")));
    json_decref(after);
    int64_t id;
    cs_error_clear(&e);
    assert_int_equal(cs_household_check_pin(db, hh.code, hh.pin, "10.9.9.9", "r", &id, &e), -1);
}

struct racer {
    json_t *in;
    int rc;
    cs_code code;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    cs_error e;
    cs_error_clear(&e);
    cs_db *d = cs_db_acquire(&e);
    cs_household_result res;
    r->rc = d ? cs_household_create(d, &actor, r->in, &res, &e) : -1;
    r->code = e.code;
    if (d) cs_db_release(d);
    return NULL;
}

static void test_concurrent_duplicate(void **state)
{
    (void)state;
    json_t *in = new_household(26, "14797");
    struct racer a = {in, 0, CS_OK}, b = {in, 0, CS_OK};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal((a.rc == 0) + (b.rc == 0), 1);
    assert_int_equal(a.rc ? a.code : b.code, CS_E_DUPLICATE_HOUSEHOLD);
    json_decref(in);
}

struct pinner {
    const char *code;
    int n_wrong, n_locked, n_other;
};

static void *pin_guesser(void *arg)
{
    struct pinner *p = arg;
    cs_error e;
    cs_error_clear(&e);
    cs_db *d = cs_db_acquire(&e);
    for (int i = 0; d && i < 3; i++) {
        int64_t id;
        cs_error_clear(&e);
        char client[32];
        snprintf(client, sizeof client, "10.7.%d.%d", (int)(pthread_self() % 200), i);
        if (cs_household_check_pin(d, p->code, "999999", client, "r", &id, &e) == 0)
            p->n_other++;
        else if (e.code == CS_E_PIN_WRONG)
            __atomic_add_fetch(&p->n_wrong, 1, __ATOMIC_SEQ_CST);
        else if (e.code == CS_E_PIN_LOCKED || e.code == CS_E_PIN_DAILY)
            __atomic_add_fetch(&p->n_locked, 1, __ATOMIC_SEQ_CST);
        else
            __atomic_add_fetch(&p->n_other, 1, __ATOMIC_SEQ_CST);
    }
    if (d) cs_db_release(d);
    return NULL;
}

/* Eight threads guessing at once through a bound of one scrypt check: every guess is answered
 * as wrong or refused (none lost, none let in), and the household's daily ceiling holds: exactly
 * pin.daily_max wrong PINs were checked. */
static void test_parallel_guesses_bounded(void **state)
{
    (void)state;
    json_t *in = new_household(27, "14797");
    cs_household_result res;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_create(db, &actor, in, &res, &e), 0);
    json_decref(in);
    if (!strcmp(res.pin, "999999")) return; /* one chance in a million: nothing to guess */
    struct pinner p = {res.code, 0, 0, 0};
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, pin_guesser, &p);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(p.n_other, 0);
    assert_int_equal(p.n_wrong + p.n_locked, 24);
    assert_true(p.n_locked >= 1);
    /* the household's daily count saw each refused-after-check guess exactly once */
    int64_t n = 0;
    assert_int_equal(cs_db_scalar_i64(db, &n,
                                      "SELECT failures FROM pin_day WHERE code = ?"
                                      " AND day = UTC_DATE()",
                                      "s", res.code, &e),
                     0);
    assert_int_equal(n, 10);
}

int main(void)
{
    if (!getenv("CHOSO_DB_SOCKET") && !getenv("CHOSO_DB_HOST")) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_sealed),
        cmocka_unit_test(test_update_versions_and_search),
        cmocka_unit_test(test_pin_throttle),
        cmocka_unit_test(test_code_normalize),
        cmocka_unit_test(test_products_and_transitions),
        cmocka_unit_test(test_concurrent_duplicate),
        cmocka_unit_test(test_parallel_guesses_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
