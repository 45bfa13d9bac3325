/* The owner status micro-cache (service/status_cache) through the API: a cached answer is the
 * same bytes as the uncached one; wrong PINs never come from it and still reach the throttle
 * and the audit; a PIN re-issue, an erasure and the service's own writes show at once; a change
 * made behind the service's back shows within status.cache_ms; 0 turns it off; a flood of
 * unknown codes stores nothing. Clients are told apart by X-Forwarded-For (trusted proxy). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "service/status_cache.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMUNE "14797"
static char tok_admin[44], tok_vol[44];

struct hh {
    char code[24], pin[8], cccd[13], phone[11];
    int64_t product, listing;
};

static void set_cfg(const char *key, const char *value)
{
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_set(key, value, &e)) fail_msg("config %s=%s: %s", key, value, e.detail);
}

static void reset_throttle(void)
{
    tsup_exec(tapi_db(), "DELETE FROM pin_throttle", "");
    tsup_exec(tapi_db(), "DELETE FROM pin_pair", "");
    tsup_exec(tapi_db(), "DELETE FROM pin_day", "");
}

/* A household with one product, an active Lazada shop and that product's listing in review. */
static void make_household(struct hh *h)
{
    char *b = tapi_household_body(27, COMMUNE, h->cccd, h->phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    snprintf(h->code, sizeof h->code, "%s", json_string_value(json_object_get(r.json, "code")));
    snprintf(h->pin, sizeof h->pin, "%s", json_string_value(json_object_get(r.json, "pin")));
    tapi_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", h->code);
    b = tapi_product_body("Nem chua Thanh Hóa");
    r = tapi_call("POST", path, tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    h->product = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
    cs_db *db = tapi_db();
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state, shop_url, "
              "activated_at)"
              " SELECT id, 'lazada', 'active', 'https://www.lazada.vn/shop/x', UTC_TIMESTAMP()"
              " FROM households WHERE code = ?",
              "s", h->code);
    int64_t acc = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(db,
              "INSERT INTO listings (product_id, marketplace_code, account_id, state) VALUES (?, "
              "'lazada', ?, 'pending_review')",
              "ii", h->product, acc);
    h->listing = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
}

/* GET /v1/status/{code} with the PIN in the header, from `client` (NULL: 127.0.0.1). */
static tapi_resp get_from(const char *code, const char *pin, const char *lang, const char *client)
{
    char path[64], ph[64], lh[48], xf[80];
    snprintf(path, sizeof path, "/v1/status/%s", code);
    snprintf(ph, sizeof ph, "X-Owner-Pin: %s", pin);
    snprintf(lh, sizeof lh, "Accept-Language: %s", lang ? lang : "vi");
    snprintf(xf, sizeof xf, "X-Forwarded-For: %s", client ? client : "127.0.0.1");
    const char *h[] = {ph, lh, xf, NULL};
    return tapi_req("GET", path, NULL, h, NULL, NULL, 0);
}

static tapi_resp get(const char *code, const char *pin)
{
    return get_from(code, pin, NULL, NULL);
}

/* The Age header's value, or -1 when absent (the answer did not come from the cache). */
static long age_of(const tapi_resp *r)
{
    char a[32];
    return tapi_header(r, "Age", a, sizeof a) ? strtol(a, NULL, 10) : -1;
}

static const char *listing_state(const tapi_resp *r)
{
    json_t *p = json_array_get(json_object_get(r->json, "products"), 0);
    return json_string_value(
        json_object_get(json_array_get(json_object_get(p, "listings"), 0), "state"));
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    (void)state;
    /* tapi_start loads the configuration again: the setting goes through the environment */
    setenv("CHOSO_HTTP_TRUSTED_PROXY", "1", 1);
    tapi_start();
    const char *c[] = {COMMUNE, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", c, tok_vol);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    /* the server's stop freed every entry */
    assert_int_equal(svc_status_cache_count(), 0);
    return 0;
}

/* Uncached, first cached and reused answers: the same bytes and headers but Age; the language
 * and the POST form are their own ways in; Cache-Control stays no-store. */
static void test_same_bytes(void **state)
{
    (void)state;
    reset_throttle();
    struct hh h;
    make_household(&h);
    set_cfg("status.cache_ms", "0");
    tapi_resp plain = get(h.code, h.pin);
    assert_int_equal(plain.status, 200);
    assert_int_equal(age_of(&plain), -1);
    set_cfg("status.cache_ms", "60000");
    tapi_resp first = get(h.code, h.pin), again = get(h.code, h.pin);
    assert_int_equal(first.status, 200);
    assert_int_equal(again.status, 200);
    assert_int_equal(age_of(&first), -1); /* the miss that stored it */
    assert_in_range(age_of(&again), 0, 60);
    assert_int_equal(plain.len, again.len);
    assert_memory_equal(plain.body, again.body, plain.len);
    assert_int_equal(first.len, again.len);
    assert_memory_equal(first.body, again.body, first.len);
    char ct1[96], ct2[96], cc[64];
    assert_non_null(tapi_header(&plain, "Content-Type", ct1, sizeof ct1));
    assert_non_null(tapi_header(&again, "Content-Type", ct2, sizeof ct2));
    assert_string_equal(ct1, ct2);
    assert_non_null(tapi_header(&again, "Cache-Control", cc, sizeof cc));
    assert_non_null(strstr(cc, "no-store"));
    assert_null(strstr(again.headers, h.pin));
    /* English is another entry with other words */
    tapi_resp en1 = get_from(h.code, h.pin, "en", NULL), en2 = get_from(h.code, h.pin, "en", NULL);
    assert_int_equal(age_of(&en1), -1);
    assert_true(age_of(&en2) >= 0);
    assert_int_equal(en1.len, en2.len);
    assert_memory_equal(en1.body, en2.body, en1.len);
    assert_true(en1.len != again.len || memcmp(en1.body, again.body, en1.len));
    /* the PIN in a POST body opens the same entry */
    char path[64], body[48];
    snprintf(path, sizeof path, "/v1/status/%s", h.code);
    snprintf(body, sizeof body, "{\"pin\":\"%s\"}", h.pin);
    tapi_resp post = tapi_call("POST", path, NULL, body);
    assert_int_equal(post.status, 200);
    assert_true(age_of(&post) >= 0);
    assert_int_equal(post.len, plain.len);
    assert_memory_equal(post.body, plain.body, plain.len);
    assert_true(svc_status_cache_count() >= 2);
    tapi_free(&plain), tapi_free(&first), tapi_free(&again), tapi_free(&en1), tapi_free(&en2),
        tapi_free(&post);
}

/* A wrong PIN right after a cached success is refused, counted and audited every time; the lock
 * it leads to holds for the right PIN too; a right PIN from another address is not served from
 * an entry made for this one. */
static void test_wrong_pin_never_cached(void **state)
{
    (void)state;
    reset_throttle();
    set_cfg("status.cache_ms", "60000");
    struct hh h;
    make_household(&h);
    tapi_resp r = get(h.code, h.pin);
    tapi_free(&r);
    r = get(h.code, h.pin);
    assert_int_equal(r.status, 200);
    assert_true(age_of(&r) >= 0);
    tapi_free(&r);
    int64_t audits =
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action LIKE 'owner.pin%%'",
                 "s", h.code);
    const char *wrong = strcmp(h.pin, "111111") ? "111111" : "222222";
    for (int i = 1; i <= 5; i++) {
        r = get(h.code, wrong);
        assert_int_equal(r.status, i < 5 ? 401 : 429);
        assert_int_equal(age_of(&r), -1);
        assert_null(strstr(r.body, "seller_accounts"));
        tapi_free(&r);
        /* the right PIN between the guesses is checked in full (the guesses dropped the
           entry); the address's failures still count, so the fifth guess locks */
        if (i == 2) {
            r = get(h.code, h.pin);
            assert_int_equal(r.status, 200);
            assert_int_equal(age_of(&r), -1);
            tapi_free(&r);
        }
    }
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action LIKE 'owner.pin%%'",
                 "s", h.code),
        audits + 5);
    r = get(h.code, h.pin);
    assert_int_equal(r.status, 429);
    tapi_free(&r);
    reset_throttle();
    r = get(h.code, h.pin);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = get(h.code, h.pin);
    assert_true(age_of(&r) >= 0);
    tapi_free(&r);
    /* another address with the right PIN: checked in full, and then it has its own entry */
    r = get_from(h.code, h.pin, NULL, "10.0.0.7");
    assert_int_equal(r.status, 200);
    assert_int_equal(age_of(&r), -1);
    tapi_free(&r);
    r = get_from(h.code, h.pin, NULL, "10.0.0.7");
    assert_true(age_of(&r) >= 0);
    tapi_free(&r);
    /* that address reaches its daily ceiling guessing elsewhere (3 here): its cached answer
       stops at once */
    set_cfg("pin.client_daily_max", "3");
    struct hh other;
    make_household(&other);
    const char *wrong2 = strcmp(other.pin, "333333") ? "333333" : "444444";
    for (int i = 0; i < 5; i++) {
        r = get_from(other.code, wrong2, NULL, "10.0.0.7");
        tapi_free(&r);
    }
    r = get_from(h.code, h.pin, NULL, "10.0.0.7");
    assert_int_equal(r.status, 429);
    tapi_free(&r);
    set_cfg("pin.client_daily_max", "100");
    reset_throttle();
}

/* A re-issued PIN and an erasure apply at once, however long the cache would keep an answer. */
static void test_reissue_and_erasure_at_once(void **state)
{
    (void)state;
    reset_throttle();
    set_cfg("status.cache_ms", "600000");
    struct hh h;
    make_household(&h);
    tapi_resp r = get(h.code, h.pin);
    tapi_free(&r);
    r = get(h.code, h.pin);
    assert_true(age_of(&r) >= 0);
    tapi_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/pin", h.code);
    r = tapi_call("POST", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    char old[8];
    snprintf(old, sizeof old, "%s", h.pin);
    snprintf(h.pin, sizeof h.pin, "%s", json_string_value(json_object_get(r.json, "pin")));
    tapi_free(&r);
    if (strcmp(old, h.pin)) {
        r = get(h.code, old);
        assert_int_equal(r.status, 401);
        assert_null(strstr(r.body, "seller_accounts"));
        tapi_free(&r);
        reset_throttle();
    }
    r = get(h.code, h.pin);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = get(h.code, h.pin);
    assert_true(age_of(&r) >= 0);
    tapi_free(&r);
    snprintf(path, sizeof path, "/v1/households/%s", h.code);
    r = tapi_call("DELETE", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = get(h.code, h.pin);
    assert_int_equal(r.status, 401); /* as uncached: an erased household has no PIN */
    assert_null(strstr(r.body, "seller_accounts"));
    assert_null(strstr(r.body, h.code));
    tapi_free(&r);
    reset_throttle();
}

/* A write through the service shows at once; one made behind its back (another process, here
 * the test's own SQL) is hidden while the entry lives and shows within status.cache_ms. */
static void test_changes_show(void **state)
{
    (void)state;
    reset_throttle();
    set_cfg("status.cache_ms", "600000");
    struct hh h;
    make_household(&h);
    tapi_resp r = get(h.code, h.pin);
    tapi_free(&r);
    /* behind its back, with a long lifetime: the cached answer is still the old one, which
       shows it came from memory */
    tsup_exec(tapi_db(),
              "UPDATE listings SET state = 'live', listing_url = "
              "'https://www.lazada.vn/products/x-i1.html'"
              " WHERE id = ?",
              "i", h.listing);
    r = get(h.code, h.pin);
    assert_true(age_of(&r) >= 0);
    assert_string_equal(listing_state(&r), "pending_review");
    tapi_free(&r);
    /* through the service: a product renamed is on the next answer */
    char path[64], etag[64];
    snprintf(path, sizeof path, "/v1/products/%lld", (long long)h.product);
    r = tapi_call("GET", path, tok_vol, NULL);
    assert_non_null(tapi_header(&r, "ETag", etag, sizeof etag));
    tapi_free(&r);
    char im[96];
    snprintf(im, sizeof im, "If-Match: %s", etag);
    const char *hd[] = {im, NULL};
    const char *body = "{\"name\":\"Nem chua Hoa\"}";
    r = tapi_req("PATCH", path, tok_vol, hd, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    r = get(h.code, h.pin);
    assert_int_equal(age_of(&r), -1);
    assert_non_null(strstr(r.body, "Nem chua Hoa"));
    assert_string_equal(listing_state(&r), "live");
    tapi_free(&r);
    /* a short lifetime: a change behind its back shows once it runs out (polled, not timed) */
    set_cfg("status.cache_ms", "200");
    r = get(h.code, h.pin);
    tapi_free(&r);
    tsup_exec(tapi_db(), "UPDATE listings SET state = 'delisted' WHERE id = ?", "i", h.listing);
    int seen = 0;
    for (int i = 0; i < 200 && !seen; i++) {
        r = get(h.code, h.pin);
        assert_int_equal(r.status, 200);
        seen = !strcmp(listing_state(&r), "delisted");
        tapi_free(&r);
        if (!seen) sleep_ms(50);
    }
    assert_true(seen);
    set_cfg("status.cache_ms", "2000");
}

/* status.cache_ms = 0: nothing stored, every answer fresh. */
static void test_disabled(void **state)
{
    (void)state;
    reset_throttle();
    svc_status_cache_clear();
    assert_int_equal(svc_status_cache_count(), 0);
    set_cfg("status.cache_ms", "0");
    struct hh h;
    make_household(&h);
    for (int i = 0; i < 3; i++) {
        tapi_resp r = get(h.code, h.pin);
        assert_int_equal(r.status, 200);
        assert_int_equal(age_of(&r), -1);
        tapi_free(&r);
    }
    assert_int_equal(svc_status_cache_count(), 0);
    tsup_exec(tapi_db(), "UPDATE listings SET state = 'rejected' WHERE id = ?", "i", h.listing);
    tapi_resp r = get(h.code, h.pin);
    assert_string_equal(listing_state(&r), "rejected");
    tapi_free(&r);
    set_cfg("status.cache_ms", "2000");
}

/* 10,000 distinct unknown codes with wrong PINs from 100 addresses store nothing; one right
 * PIN afterwards stores exactly one. */
static void test_flood_stores_nothing(void **state)
{
    (void)state;
    reset_throttle();
    set_cfg("status.cache_ms", "60000");
    svc_status_cache_clear();
    assert_int_equal(svc_status_cache_count(), 0);
    set_cfg("pin.client_daily_max", "5"); /* 5 checked per address, as a lock did before */
    for (int i = 0; i < 10000; i++) {
        char code[24], ip[32];
        snprintf(code, sizeof code, "TH-2099-%05d", i);
        snprintf(ip, sizeof ip, "10.9.0.%d", i / 100 + 1); /* 100 addresses: wrong, then locked */
        tapi_resp r = get_from(code, "123456", NULL, ip);
        if (r.status != 401 && r.status != 429) fail_msg("request %d: %ld", i, r.status);
        tapi_free(&r);
    }
    assert_int_equal(svc_status_cache_count(), 0);
    set_cfg("pin.client_daily_max", "100");
    reset_throttle();
    struct hh h;
    make_household(&h);
    tapi_resp r = get(h.code, h.pin);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    assert_int_equal(svc_status_cache_count(), 1);
    reset_throttle();
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_wrong_pin_never_cached),
        cmocka_unit_test(test_reissue_and_erasure_at_once),
        cmocka_unit_test(test_changes_show),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_flood_stores_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
