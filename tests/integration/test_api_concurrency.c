/* Optimistic locking and idempotency through the API: If-Match is required (428), a stale
 * version answers 412; two updates sent at once with the same ETag → exactly one 200 and one
 * 412; a POST repeated with the same Idempotency-Key creates once and answers the same; the
 * same key with another body → 422. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMUNE "14797"
static char tok_admin[44], tok_vol[44];
static char CODE[24];
static int64_t PRODUCT;

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *c[] = {COMMUNE, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", c, tok_vol);
    tapi_seed(tok_vol, COMMUNE, CODE, "Nem chua Thanh Hóa", &PRODUCT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

static void test_if_match(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s", CODE);
    tapi_resp r = tapi_call("GET", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    char etag[32];
    assert_non_null(tapi_header(&r, "ETag", etag, sizeof etag));
    unsigned v = (unsigned)json_integer_value(json_object_get(r.json, "version"));
    char want[32];
    snprintf(want, sizeof want, "\"v%u\"", v);
    assert_string_equal(etag, want);
    tapi_free(&r);
    /* not modified */
    char inm[64];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h1[] = {inm, NULL};
    r = tapi_req("GET", path, tok_vol, h1, NULL, NULL, 0);
    assert_int_equal(r.status, 304);
    tapi_free(&r);
    /* no If-Match → 428; stale → 412; malformed → 412; nothing changed by any of them */
    r = tapi_call("PATCH", path, tok_vol, "{\"business_name\":\"Hộ Nem Cô Ba\"}");
    assert_int_equal(r.status, 428);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "if_match_required");
    tapi_free(&r);
    const char *stale[] = {"If-Match: \"v999\"", NULL};
    r = tapi_req("PATCH", path, tok_vol, stale, NULL, "{\"business_name\":\"Hộ Nem Cô Ba\"}",
                 strlen("{\"business_name\":\"Hộ Nem Cô Ba\"}"));
    assert_int_equal(r.status, 412);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "version_mismatch");
    tapi_free(&r);
    const char *bad[] = {"If-Match: tomorrow", NULL};
    r = tapi_req("PATCH", path, tok_vol, bad, NULL, "{\"business_name\":\"Hộ Nem Cô Ba\"}",
                 strlen("{\"business_name\":\"Hộ Nem Cô Ba\"}"));
    assert_int_equal(r.status, 412);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT version FROM households WHERE code = ?", "s", CODE), v);
    /* the right version: 200, version + 1, new ETag; a weak tag is accepted too */
    char ifm[48];
    snprintf(ifm, sizeof ifm, "If-Match: W/\"v%u\"", v);
    const char *ok[] = {ifm, NULL};
    const char *body = "{\"business_name\":\"Hộ Nem Cô Ba\"}";
    r = tapi_req("PATCH", path, tok_vol, ok, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), v + 1);
    snprintf(want, sizeof want, "\"v%u\"", v + 1);
    assert_string_equal(tapi_header(&r, "ETag", etag, sizeof etag), want);
    assert_string_equal(json_string_value(json_object_get(r.json, "business_name")),
                        "Hộ Nem Cô Ba");
    tapi_free(&r);
    /* the same change again with the new version changes nothing: version stays */
    snprintf(ifm, sizeof ifm, "If-Match: \"v%u\"", v + 1);
    r = tapi_req("PATCH", path, tok_vol, ok, NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), v + 1);
    tapi_free(&r);
}

struct racer {
    const char *path;
    char ifm[48];
    char body[96];
    long status;
    pthread_barrier_t *go;
};

static void *race(void *arg)
{
    struct racer *x = arg;
    const char *h[] = {x->ifm, NULL};
    pthread_barrier_wait(x->go);
    tapi_resp r = tapi_req("PATCH", x->path, tok_admin, h, NULL, x->body, strlen(x->body));
    x->status = r.status;
    tapi_free(&r);
    return NULL;
}

/* Two clients read the same version and both send an update: one wins, the other is told its
 * copy is stale. Repeated so both orders of arrival are exercised. */
static void run_race(const char *path, const char *field)
{
    for (int round = 0; round < 10; round++) {
        tapi_resp r = tapi_call("GET", path, tok_admin, NULL);
        unsigned v = (unsigned)json_integer_value(json_object_get(r.json, "version"));
        tapi_free(&r);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        struct racer a = {.path = path, .go = &go}, b = {.path = path, .go = &go};
        snprintf(a.ifm, sizeof a.ifm, "If-Match: \"v%u\"", v);
        snprintf(b.ifm, sizeof b.ifm, "If-Match: \"v%u\"", v);
        /* two different changes of the same field */
        for (int k = 0; k < 2; k++) {
            /* values never seen before, so the winner always changes something */
            char name[48];
            snprintf(name, sizeof name, "Hộ %s %d", k ? "A" : "B", round);
            json_t *o = !strcmp(field, "stock") ? json_pack("{s:i}", field, 100 * k + round + 1)
                                                : json_pack("{s:s}", field, name);
            char *t = json_dumps(o, JSON_COMPACT);
            snprintf(k ? b.body : a.body, sizeof a.body, "%s", t);
            free(t);
            json_decref(o);
        }
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        int wins = (a.status == 200) + (b.status == 200),
            stale = (a.status == 412) + (b.status == 412);
        if (wins != 1 || stale != 1) fail_msg("round %d: %ld and %ld", round, a.status, b.status);
        r = tapi_call("GET", path, tok_admin, NULL);
        assert_int_equal(json_integer_value(json_object_get(r.json, "version")), v + 1);
        tapi_free(&r);
    }
}

static void test_concurrent_updates(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s", CODE);
    run_race(path, "business_name");
    snprintf(path, sizeof path, "/v1/products/%lld", (long long)PRODUCT);
    run_race(path, "stock");
}

static void test_idempotent_create(void **state)
{
    (void)state;
    char cccd[13], phone[11];
    char *b = tapi_household_body(22, COMMUNE, cccd, phone);
    const char *key[] = {"Idempotency-Key: dang-ky-hoa-0001", NULL};
    int64_t before = tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", "");
    tapi_resp r1 = tapi_req("POST", "/v1/households", tok_vol, key, NULL, b, strlen(b));
    tapi_resp r2 = tapi_req("POST", "/v1/households", tok_vol, key, NULL, b, strlen(b));
    assert_int_equal(r1.status, 201);
    assert_int_equal(r2.status, 201);
    /* the same household; the PIN is shown once, to the first answer only (issue 10) */
    assert_string_equal(json_string_value(json_object_get(r1.json, "code")),
                        json_string_value(json_object_get(r2.json, "code")));
    assert_non_null(json_string_value(json_object_get(r1.json, "pin")));
    assert_null(json_object_get(r2.json, "pin"));
    assert_true(json_is_true(json_object_get(r2.json, "pin_shown")));
    char l1[96], l2[96];
    assert_string_equal(tapi_header(&r1, "Location", l1, sizeof l1),
                        tapi_header(&r2, "Location", l2, sizeof l2));
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", ""), before + 1);
    assert_int_equal(
        tsup_i64(
            tapi_db(),
            "SELECT COUNT(*) FROM audit_log WHERE action = 'household.create' AND entity_id = ?",
            "s", json_string_value(json_object_get(r1.json, "code"))),
        1);
    /* the stored answer keeps no personal value and no readable PIN */
    assert_null(strstr(r1.body, cccd));
    assert_null(strstr(r1.body, phone));
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM idempotency_keys WHERE INSTR(body, ?) > 0", "s",
                              json_string_value(json_object_get(r1.json, "pin"))),
                     0);
    tapi_free(&r1);
    tapi_free(&r2);
    /* the same key with another body: 422, nothing created */
    json_t *o = json_loads(b, 0, NULL);
    json_object_set_new(o, "business_name", json_string("Hộ khác"));
    char *b2 = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    tapi_resp r3 = tapi_req("POST", "/v1/households", tok_vol, key, NULL, b2, strlen(b2));
    assert_int_equal(r3.status, 422);
    assert_string_equal(json_string_value(json_object_get(r3.json, "code")),
                        "idempotency_key_reused");
    tapi_free(&r3);
    free(b2);
    free(b);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", ""), before + 1);
}

struct poster {
    const char *body;
    const char *key;
    long status;
    char code[24];
    pthread_barrier_t *go;
};

static void *post(void *arg)
{
    struct poster *p = arg;
    const char *h[] = {p->key, NULL};
    pthread_barrier_wait(p->go);
    tapi_resp r = tapi_req("POST", "/v1/households", tok_admin, h, NULL, p->body, strlen(p->body));
    p->status = r.status;
    const char *c = json_string_value(json_object_get(r.json, "code"));
    snprintf(p->code, sizeof p->code, "%s", c ? c : "");
    tapi_free(&r);
    return NULL;
}

/* The same POST sent four times at once with one key: one household; every answer is the
 * created one or "in progress" (409), none a second household. Products likewise. */
static void test_idempotent_concurrent(void **state)
{
    (void)state;
    char cccd[13], phone[11];
    char *b = tapi_household_body(35, COMMUNE, cccd, phone);
    int64_t before = tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", "");
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 4);
    struct poster p[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct poster){.body = b, .key = "Idempotency-Key: cung-luc-01", .go = &go};
        pthread_create(&t[i], NULL, post, &p[i]);
    }
    int created = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        if (p[i].status == 201) {
            created++;
            assert_string_equal(p[i].code, p[0].status == 201 ? p[0].code : p[i].code);
        } else if (p[i].status != 409) {
            fail_msg("answer %d: %ld", i, p[i].status);
        }
    }
    pthread_barrier_destroy(&go);
    assert_true(created >= 1);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", ""), before + 1);
    free(b);
    /* a product POST repeated with its key: one product */
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", CODE);
    char *pb = tapi_product_body("Mắm tép Hà Yên");
    const char *key[] = {"Idempotency-Key: sp-0001", NULL};
    int64_t nprod = tsup_i64(tapi_db(), "SELECT COUNT(*) FROM products", "");
    tapi_resp r1 = tapi_req("POST", path, tok_vol, key, NULL, pb, strlen(pb));
    tapi_resp r2 = tapi_req("POST", path, tok_vol, key, NULL, pb, strlen(pb));
    assert_int_equal(r1.status, 201);
    assert_int_equal(r2.status, 201);
    assert_int_equal(json_integer_value(json_object_get(r1.json, "id")),
                     json_integer_value(json_object_get(r2.json, "id")));
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM products", ""), nprod + 1);
    tapi_free(&r1);
    tapi_free(&r2);
    free(pb);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_if_match),
        cmocka_unit_test(test_concurrent_updates),
        cmocka_unit_test(test_idempotent_create),
        cmocka_unit_test(test_idempotent_concurrent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
