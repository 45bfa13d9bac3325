/* Unit tests of household and product validation and of the state machines (no database). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/mem.h"
#include "core/products.h"
#include "core/states.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char keyfile[256];

static int setup(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) return -1;
    snprintf(keyfile, sizeof keyfile, "/tmp/choso-test-key-%d", (int)getpid());
    unlink(keyfile);
    if (cs_crypto_keyfile_create(keyfile, &e) != 1) return -1;
    return cs_crypto_init(keyfile, &e);
}

static int teardown(void **state)
{
    (void)state;
    unlink(keyfile);
    cs_crypto_shutdown();
    cs_config_free();
    return 0;
}

/* A birth date that makes the owner `age` years old today, and a matching CCCD. */
static void person(int age, char date[16], char cccd[16])
{
    vn_date t = vn_today();
    int y = t.y - age; /* born 1 January: the birthday of this year has passed */
    snprintf(date, 16, "01/01/%04d", y);
    int century = y >= 2000 ? 2 : 0;
    snprintf(cccd, 16, "038%d%02d012345", century, y % 100);
}

static json_t *valid_household(void)
{
    char d[16], c[16];
    person(25, d, c);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "owner_name", "  Nguyễn   Văn An ", "cccd", c,
                     "phone", "+84 912 345 678", "birth_date", d, "commune_code", "14797",
                     "address", "Thôn 1", "consent", 1);
}

static void test_household_valid(void **state)
{
    (void)state;
    json_t *in = valid_household();
    cs_household_norm n;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_validate(in, 0, &n, &e), 0);
    assert_string_equal(n.owner_name, "Nguyễn Văn An");
    assert_string_equal(n.name_folded, "nguyen van an");
    assert_string_equal(n.phone, "0912345678");
    assert_int_equal(n.owner_age, 25);
    assert_int_equal(n.youth_led, 1);
    unsigned char h1[32], h2[32];
    assert_int_equal(cs_household_content_hash(&n, h1), 0);
    cs_household_norm_free(&n);
    /* same content in another shape (NFD name, local phone form) hashes the same */
    json_object_set_new(in, "owner_name", json_string("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n An"));
    json_object_set_new(in, "phone", json_string("0912.345.678"));
    assert_int_equal(cs_household_validate(in, 0, &n, &e), 0);
    assert_int_equal(cs_household_content_hash(&n, h2), 0);
    assert_memory_equal(h1, h2, 32);
    cs_household_norm_free(&n);
    json_decref(in);
}

static int has_field(const cs_error *e, const char *field, cs_code code)
{
    for (size_t i = 0; i < e->nfields; i++)
        if (!strcmp(e->fields[i].field, field) && e->fields[i].code == code) return 1;
    return 0;
}

static void test_household_every_bad_field_named(void **state)
{
    (void)state;
    json_t *in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "owner_name", "A", "cccd",
                           "3.8E+11", "phone", "02373123456", "birth_date", "31/02/1990",
                           "commune_code", "999", "tax_code", "12", "consent", 0, "nickname", "x");
    cs_household_norm n;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_validate(in, 0, &n, &e), -1);
    assert_int_equal(e.code, CS_E_VALIDATION);
    assert_true(has_field(&e, "owner_name", CS_F_TOO_SHORT));
    assert_true(has_field(&e, "cccd", CS_F_CCCD_SCIENTIFIC));
    assert_true(has_field(&e, "phone", CS_F_PHONE_LANDLINE));
    assert_true(has_field(&e, "birth_date", CS_F_DATE_INVALID));
    assert_true(has_field(&e, "commune_code", CS_F_COMMUNE));
    assert_true(has_field(&e, "tax_code", CS_F_FORMAT));
    assert_true(has_field(&e, "consent", CS_F_CONSENT));
    assert_true(has_field(&e, "nickname", CS_F_UNKNOWN));
    json_decref(in);
}

static void test_household_missing_and_youth(void **state)
{
    (void)state;
    json_t *in = json_object();
    cs_household_norm n;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_household_validate(in, 0, &n, &e), -1);
    const char *req[] = {"owner_name", "cccd", "phone", "birth_date", "commune_code", "consent"};
    for (size_t i = 0; i < 6; i++)
        assert_true(has_field(&e, req[i], i == 5 ? CS_F_CONSENT : CS_F_REQUIRED));
    json_decref(in);

    /* 31 years old: registered, but not youth-led; 14: refused */
    char d[16], c[16];
    person(31, d, c);
    in = valid_household();
    json_object_set_new(in, "birth_date", json_string(d));
    json_object_set_new(in, "cccd", json_string(c));
    cs_error_clear(&e);
    assert_int_equal(cs_household_validate(in, 0, &n, &e), 0);
    assert_int_equal(n.youth_led, 0);
    cs_household_norm_free(&n);
    person(14, d, c);
    json_object_set_new(in, "birth_date", json_string(d));
    json_object_set_new(in, "cccd", json_string(c));
    cs_error_clear(&e);
    assert_int_equal(cs_household_validate(in, 0, &n, &e), -1);
    assert_true(has_field(&e, "birth_date", CS_F_AGE));
    /* CCCD whose birth-year digits disagree with the birth date */
    person(25, d, c);
    json_object_set_new(in, "birth_date", json_string(d));
    c[4] = c[4] == '9' ? '8' : '9';
    json_object_set_new(in, "cccd", json_string(c));
    cs_error_clear(&e);
    assert_int_equal(cs_household_validate(in, 0, &n, &e), -1);
    assert_true(has_field(&e, "cccd", CS_F_CCCD_BIRTH));
    json_decref(in);
}

static void test_product_validation(void **state)
{
    (void)state;
    json_t *in =
        json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b}", "name", "Nem chua Thanh Hóa", "description",
                  "Nem chua làm từ thịt lợn tươi,\nđóng gói 10 chiếc.", "category", "food_dish",
                  "price_vnd", "150.000đ", "weight_g", 500, "ocop_stars", 3, "flagship", 1);
    cs_product_norm n;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_product_validate(in, &n, &e), 0);
    assert_int_equal(n.price_vnd, 150000);
    assert_int_equal(n.ocop_stars, 3);
    assert_non_null(strchr(n.description, '\n'));
    cs_product_norm_free(&n);
    json_object_set_new(in, "price_vnd", json_real(1.5));
    json_object_set_new(in, "weight_g", json_integer(0));
    json_object_set_new(in, "ocop_stars", json_integer(6));
    json_object_set_new(in, "category", json_string("Đồ ăn"));
    json_object_set_new(in, "certificates", json_string("OCOP"));
    cs_error_clear(&e);
    assert_int_equal(cs_product_validate(in, &n, &e), -1);
    assert_true(has_field(&e, "price_vnd", CS_F_PRICE));
    assert_true(has_field(&e, "weight_g", CS_F_RANGE));
    assert_true(has_field(&e, "ocop_stars", CS_F_RANGE));
    assert_true(has_field(&e, "category", CS_F_CATEGORY));
    assert_true(has_field(&e, "certificates", CS_F_FORMAT));
    json_decref(in);
}

/* Validation with allocation n failing, for every n until none is hit: each failure is a clean
 * -1 (out of memory, or a field named) with nothing left allocated, and the loop ends with the
 * input accepted whole. Sanitized and valgrind runs catch a leak on any of the failing paths. */
static void test_validation_fail_nth(void **state)
{
    (void)state;
    json_t *hh = valid_household();
    json_object_set_new(hh, "business_name", json_string(" Quán  Bánh gai "));
    json_object_set_new(hh, "has_epayment", json_string("có"));
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s]}", "name", "Nem chua Thanh Hóa",
                          "description", "Nem chua làm từ thịt lợn tươi,\nđóng gói 10 chiếc.",
                          "category", "food_dish", "price_vnd", "150.000đ", "weight_g", "500",
                          "ocop_stars", "3", "flagship", "x", "certificates", "OCOP");
    unsigned long n;
    for (n = 1;; n++) {
        cs_household_norm h;
        cs_error e;
        cs_error_clear(&e);
        cs_mem_fail_at(n);
        int rc = cs_household_validate(hh, 0, &h, &e);
        cs_mem_fail_at(0);
        if (rc == 0) {
            assert_string_equal(h.business_name, "Quán Bánh gai");
            assert_int_equal(h.has_epayment, 1);
            assert_string_equal(h.name_folded, "nguyen van an");
            cs_household_norm_free(&h);
            break;
        }
        assert_int_equal(rc, -1);
        assert_true(e.code == CS_E_NOMEM || e.code == CS_E_VALIDATION);
        assert_null(h.owner_name); /* freed on failure */
    }
    assert_true(n > 1); /* validation allocates: the loop did fail something */
    for (n = 1;; n++) {
        cs_product_norm pn;
        cs_error e;
        cs_error_clear(&e);
        cs_mem_fail_at(n);
        int rc = cs_product_validate(p, &pn, &e);
        cs_mem_fail_at(0);
        if (rc == 0) {
            assert_int_equal(pn.price_vnd, 150000);
            assert_int_equal(pn.weight_g, 500);
            assert_int_equal(pn.ocop_stars, 3);
            assert_int_equal(pn.flagship, 0); /* the old tick alone proposes no entry (issue 12) */
            assert_string_equal(pn.certificates, "[\"OCOP\"]");
            cs_product_norm_free(&pn);
            break;
        }
        assert_int_equal(rc, -1);
        assert_true(e.code == CS_E_NOMEM || e.code == CS_E_VALIDATION);
        assert_null(pn.name);
    }
    assert_true(n > 1);
    json_decref(hh);
    json_decref(p);
}

static void test_state_machines(void **state)
{
    (void)state;
    assert_true(cs_account_transition_allowed("not_started", "awaiting_owner"));
    assert_true(cs_account_transition_allowed("authorized", "active"));
    assert_true(cs_account_transition_allowed("token_expired", "authorized"));
    assert_false(cs_account_transition_allowed("not_started", "active"));
    assert_false(cs_account_transition_allowed("active", "not_started"));
    assert_true(cs_listing_transition_allowed("draft", "queued"));
    assert_true(cs_listing_transition_allowed("pending_review", "live"));
    assert_true(cs_listing_transition_allowed("live", "delisted"));
    assert_true(cs_listing_transition_allowed("submitted", "failed"));
    assert_true(cs_listing_transition_allowed("live", "failed"));
    assert_false(cs_listing_transition_allowed("failed", "failed"));
    assert_false(cs_listing_transition_allowed("draft", "live"));
    assert_false(cs_listing_transition_allowed("delisted", "rejected"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_household_valid),
        cmocka_unit_test(test_household_every_bad_field_named),
        cmocka_unit_test(test_household_missing_and_youth),
        cmocka_unit_test(test_product_validation),
        cmocka_unit_test(test_validation_fail_nth),
        cmocka_unit_test(test_state_machines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
