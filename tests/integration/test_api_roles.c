/* The role matrix of the /v1 resources: every route × {no token, bad token, revoked token,
 * admin, monitor, volunteer of this commune, volunteer of another commune, owner with the right
 * PIN, owner with a wrong PIN} → the expected status, and no personal value (citizen ID, phone,
 * address, birth date) in any answer given to someone who may not see it. Runs against the
 * server started in-process and the MariaDB of scripts/run-tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/crypto.h"
#include "service/router.h"
#include "tests/support/tapi.h"
#include "tests/support/tcontract.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMUNE_A "14797" /* Phường Hạc Thành (former district 380) */
#define COMMUNE_B "16591" /* Xã Các Sơn (former district 407) */

enum actor { NONE, BAD, REVOKED, ADMIN, MONITOR, VOL_IN, VOL_OUT, OWNER, OWNER_BAD, N_ACTORS };
static const char *actor_name[] = {"no token",
                                   "bad token",
                                   "revoked token",
                                   "admin",
                                   "monitor",
                                   "volunteer of this commune",
                                   "volunteer of another commune",
                                   "owner, right PIN",
                                   "owner, wrong PIN"};

static char tok_admin[44], tok_monitor[44], tok_vin[44], tok_vout[44], tok_revoked[44];

struct hh {
    char code[24], pin[8], cccd[13], phone[11];
};
static struct hh H;     /* the household every read route looks at (commune A) */
static int64_t P;       /* its product */
static char IMG[65];    /* an image of P */
static int64_t LISTING; /* a rejected Shopee listing of P */
static unsigned img_serial;

static const char *token_of(int a)
{
    switch (a) {
    case BAD:
        return "khong-phai-ma-that-0123456789abcdefghijklmnop";
    case REVOKED:
        return tok_revoked;
    case ADMIN:
        return tok_admin;
    case MONITOR:
        return tok_monitor;
    case VOL_IN:
        return tok_vin;
    case VOL_OUT:
        return tok_vout;
    default:
        return NULL;
    }
}

static void make_household(const char *commune, struct hh *h)
{
    char *body = tapi_household_body(28, commune, h->cccd, h->phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_admin, body);
    free(body);
    if (r.status != 201) fail_msg("create household: %ld %s", r.status, r.body);
    snprintf(h->code, sizeof h->code, "%s", json_string_value(json_object_get(r.json, "code")));
    snprintf(h->pin, sizeof h->pin, "%s", json_string_value(json_object_get(r.json, "pin")));
    tapi_free(&r);
}

static int64_t make_product(const char *code)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/households/%s/products", code);
    char *body = tapi_product_body("Nem chua Hạc Thành");
    tapi_resp r = tapi_call("POST", path, tok_admin, body);
    free(body);
    if (r.status != 201) fail_msg("create product: %ld %s", r.status, r.body);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
    return id;
}

/* A PNG no other upload in this run has (bytes after IEND differ). */
static size_t unique_png(unsigned char *out)
{
    size_t n;
    const unsigned char *p = tapi_png(&n);
    memcpy(out, p, n);
    img_serial++;
    memcpy(out + n, &img_serial, sizeof img_serial);
    return n + sizeof img_serial;
}

static void make_image(int64_t product, char sha[65])
{
    unsigned char buf[128];
    size_t n = unique_png(buf);
    char path[96];
    snprintf(path, sizeof path, "/v1/products/%lld/images", (long long)product);
    tapi_resp r = tapi_upload(path, tok_admin, buf, n, "a.png", NULL, NULL);
    if (r.status != 201) fail_msg("upload: %ld %s", r.status, r.body);
    snprintf(sha, 65, "%s", json_string_value(json_object_get(r.json, "sha256")));
    tapi_free(&r);
}

static unsigned current_version(const char *path)
{
    tapi_resp r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    unsigned v = (unsigned)json_integer_value(json_object_get(r.json, "version"));
    tapi_free(&r);
    return v;
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *in[] = {COMMUNE_A, NULL}, *out[] = {COMMUNE_B, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_monitor);
    tapi_token("volunteer", in, tok_vin);
    tapi_token("volunteer", out, tok_vout);
    tapi_revoke(tapi_token("admin", NULL, tok_revoked));
    make_household(COMMUNE_A, &H);
    P = make_product(H.code);
    make_image(P, IMG);
    cs_db *db = tapi_db();
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state, auth_link)"
              " SELECT id, 'shopee', 'awaiting_owner', "
              "'https://partner.shopeemobile.com/api/v2/shop/auth_partner?s=1'"
              " FROM households WHERE code = ?",
              "s", H.code);
    int64_t acc = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(
        db,
        "INSERT INTO listings (product_id, marketplace_code, account_id, state, last_error_code,"
        " last_error_message, error_fields) VALUES (?, 'shopee', ?, 'rejected', 'image_small',"
        " 'Ảnh sản phẩm quá nhỏ', '[{\"field\":\"images\",\"code\":\"too_small\",\"message\":\"Ảnh "
        "phải từ 500×500\"}]')",
        "ii", P, acc);
    LISTING = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    tsup_exec(
        db,
        "INSERT INTO listing_events (listing_id, from_state, to_state, reason_code, reason, actor)"
        " VALUES (?, 'submitted', 'rejected', 'image_small', 'Ảnh sản phẩm quá nhỏ', "
        "'system:test')",
        "i", LISTING);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tcontract_free();
    tapi_stop();
    return 0;
}

/* The routes of the matrix, in the routing table's words. */
static const struct {
    const char *method, *pattern;
    int expect[N_ACTORS]; /* none bad revoked admin monitor vol_in vol_out owner owner_bad */
} routes[] = {
    {"GET", "/v1/admin-units", {200, 401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/categories", {200, 401, 401, 200, 200, 200, 200, 200, 200}},
    {"POST", "/v1/households", {401, 401, 401, 201, 403, 201, 403, 401, 401}},
    {"GET", "/v1/households", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"GET", "/v1/households/{code}", {401, 401, 401, 200, 200, 200, 403, 401, 401}},
    {"PATCH", "/v1/households/{code}", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"DELETE", "/v1/households/{code}", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"POST", "/v1/households/{code}/pin", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    /* the batch answers 200 to any volunteer: households out of their communes are skipped */
    {"POST", "/v1/households/pins", {401, 401, 401, 200, 403, 200, 200, 401, 401}},
    {"GET", "/v1/households/{code}/receipt.svg", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"POST", "/v1/households/{code}/products", {401, 401, 401, 201, 403, 201, 403, 401, 401}},
    {"GET", "/v1/products", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"GET", "/v1/products/{id}", {401, 401, 401, 200, 200, 200, 403, 401, 401}},
    {"PATCH", "/v1/products/{id}", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"POST", "/v1/products/{id}/images", {401, 401, 401, 201, 403, 201, 403, 401, 401}},
    {"PUT", "/v1/products/{id}/images/order", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"DELETE", "/v1/products/{id}/images/{sha256}", {401, 401, 401, 204, 403, 204, 403, 401, 401}},
    {"GET", "/media/{sha256}", {200, 200, 200, 200, 200, 200, 200, 200, 200}},
    /* the owner's page ignores tokens: without a PIN it is 401, a body without one 422 */
    {"GET", "/v1/status/{household_code}", {401, 401, 401, 401, 401, 401, 401, 200, 401}},
    {"POST", "/v1/status/{household_code}", {422, 422, 422, 422, 422, 422, 422, 200, 401}},
    {"GET", "/v1/seller-accounts", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"GET", "/v1/listings", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"GET", "/v1/listings/{id}", {401, 401, 401, 200, 200, 200, 403, 401, 401}},
    {"GET", "/v1/audit", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    /* marketplace flows (service/h_flows.c): postmart.vn needs no marketplace peer */
    {"POST", "/v1/households/{code}/accounts", {401, 401, 401, 202, 403, 202, 403, 401, 401}},
    {"GET",
     "/v1/households/{code}/accounts/{marketplace}/pack.html",
     {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"GET",
     "/v1/households/{code}/accounts/{marketplace}/pack.xlsx",
     {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"POST",
     "/v1/households/{code}/accounts/{marketplace}/confirm",
     {401, 401, 401, 202, 403, 202, 403, 401, 401}},
    {"POST", "/v1/products/{id}/listings", {401, 401, 401, 202, 403, 202, 403, 401, 401}},
    {"GET",
     "/v1/products/{id}/listings/{marketplace}/sheet.xlsx",
     {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"GET",
     "/v1/products/{id}/listings/{marketplace}/sheet.csv",
     {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"POST", "/v1/listings/{id}/confirm", {401, 401, 401, 202, 403, 202, 403, 401, 401}},
    {"POST", "/v1/listings/{id}/republish", {401, 401, 401, 202, 403, 202, 403, 401, 401}},
    {"POST", "/v1/products/{id}/withdraw", {401, 401, 401, 202, 403, 202, 403, 401, 401}},
    {"POST", "/v1/listings/{id}/withdrawn", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    /* marketplace categories page (service/h_catalog.c): admin only */
    {"GET", "/v1/marketplace-categories", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"POST", "/v1/marketplace-categories/refresh", {401, 401, 401, 202, 403, 403, 403, 401, 401}},
    {"GET",
     "/v1/marketplace-categories/{marketplace}/leaves",
     {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"PUT",
     "/v1/marketplace-categories/{marketplace}/{category}",
     {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    /* sales people record for postmart.vn / voso.vn (service/h_sales.c) */
    {"POST", "/v1/sales", {401, 401, 401, 201, 403, 201, 403, 401, 401}},
    {"GET", "/v1/sales", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"GET", "/v1/sales/summary", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"POST", "/v1/sales/{id}/decision", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"POST", "/v1/status/{household_code}/sales", {422, 422, 422, 422, 422, 422, 422, 201, 401}},
    {"POST", "/v1/sales/{id}/evidence", {401, 401, 401, 200, 403, 200, 403, 401, 401}},
    {"GET", "/v1/sales/{id}/evidence", {401, 401, 401, 200, 200, 200, 404, 401, 401}},
    /* the owner's screenshot: a token is no PIN (422: the form lacks one) */
    {"POST",
     "/v1/status/{household_code}/sales/{id}/evidence",
     {422, 422, 422, 422, 422, 422, 422, 200, 401}},
    {"POST", "/v1/sales/import", {401, 401, 401, 200, 403, 200, 200, 401, 401}},
    /* the annual report (whole province, named lists) and the CSV for Vietnamese Excel */
    {"GET", "/v1/reports/annual.xlsx", {401, 401, 401, 200, 200, 403, 403, 401, 401}},
    {"GET", "/v1/reports/annual.pdf", {401, 401, 401, 200, 200, 403, 403, 401, 401}},
    {"GET", "/v1/reports/evidence.csv", {401, 401, 401, 200, 200, 403, 403, 401, 401}},
    {"GET", "/v1/reports/evidence.xlsx", {401, 401, 401, 200, 200, 403, 403, 401, 401}},
    {"GET", "/v1/reports/targets-vn.csv", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"GET", "/v1/showcase/promoted", {401, 401, 401, 200, 200, 403, 403, 401, 401}},
    /* the province's flagship list and decisions on proposed links (service/h_flagship.c) */
    {"GET", "/v1/flagship-products", {401, 401, 401, 200, 200, 200, 200, 401, 401}},
    {"POST", "/v1/flagship-products", {401, 401, 401, 201, 403, 403, 403, 401, 401}},
    {"PATCH", "/v1/flagship-products/{id}", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"POST", "/v1/products/{id}/flagship-decision", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"POST", "/v1/targets/{year}/goals", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"PUT",
     "/v1/households/{code}/showcase-consent",
     {401, 401, 401, 200, 403, 200, 403, 401,
      401}}, /* volunteers on the admin page and their one-time sign-in links (issue 13) */
    {"GET", "/v1/volunteers", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"POST", "/v1/volunteers", {401, 401, 401, 201, 403, 403, 403, 401, 401}},
    {"POST", "/v1/volunteers/{id}/link", {401, 401, 401, 201, 403, 403, 403, 401, 401}},
    {"POST", "/v1/volunteers/{id}/deactivate", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    {"DELETE", "/v1/volunteers/{id}/sessions", {401, 401, 401, 204, 403, 403, 403, 401, 401}},
    {"POST", "/v1/volunteers/sheet", {401, 401, 401, 200, 403, 403, 403, 401, 401}},
    /* a link is its own credential: whoever carries it, once */
    {"POST", "/v1/session/link", {201, 201, 201, 201, 201, 201, 201, 201, 201}},
    {"DELETE", "/v1/session/devices", {401, 401, 401, 204, 204, 204, 204, 401, 401}},
    /* a TikTok Shop webhook is signed by the marketplace, not by any of our tokens: a forged
       signature is refused whoever sends it */
    {"POST", "/v1/webhooks/tiktok", {401, 401, 401, 401, 401, 401, 401, 401, 401}},
};

/* A volunteer of commune A made by the admin; *link the text of its first sign-in link. */
static int64_t make_volunteer(char link[64])
{
    const char *b =
        "{\"name\":\"Cầm Văn Tình\",\"phone\":\"0912 345 678\",\"communes\":[\"" COMMUNE_A "\"]}";
    tapi_resp c = tapi_req("POST", "/v1/volunteers", tok_admin, NULL, NULL, b, strlen(b));
    if (c.status != 201) fail_msg("make_volunteer → %ld %s", c.status, c.body);
    int64_t id = json_integer_value(json_object_get(c.json, "id"));
    const char *url = json_string_value(json_object_get(json_object_get(c.json, "signin"), "url"));
    const char *l = url ? strstr(url, "#link=") : NULL;
    snprintf(link, 64, "%s", l ? l + 6 : "");
    tapi_free(&c);
    return id;
}

/* A fresh household of commune A with an account on postmart.vn in `state` (its id), and
 * optionally a product with a listing there in `lstate` (*listing). */
static int64_t flows_fixture(struct hh *x, const char *state, const char *lmp, const char *lstate,
                             int64_t *product, int64_t *listing)
{
    make_household(COMMUNE_A, x);
    cs_db *db = tapi_db();
    tsup_exec(db,
              "INSERT INTO seller_accounts (household_id, marketplace_code, state) SELECT id, "
              "'postmart', ?"
              " FROM households WHERE code = ?",
              "ss", state, x->code);
    int64_t acc = tsup_i64(db, "SELECT LAST_INSERT_ID()", "");
    if (product) *product = make_product(x->code);
    if (listing)
        *listing =
            (tsup_exec(
                 db, "INSERT INTO listings (product_id, marketplace_code, state) VALUES (?, ?, ?)",
                 "iss", *product, lmp, lstate),
             tsup_i64(db, "SELECT LAST_INSERT_ID()", ""));
    return acc;
}
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* Make the request of route `i` as actor `a`, preparing fresh records where the route changes
 * or removes what it acts on. *full is set when the answer may carry H's personal fields. */
static tapi_resp run(size_t i, int a, int *full)
{
    const char *tok = token_of(a);
    char path[256], pinh[48], ifm[48];
    const char *hdrs[3] = {NULL, NULL, NULL};
    int owner = a == OWNER || a == OWNER_BAD;
    snprintf(pinh, sizeof pinh, "X-Owner-Pin: %s", a == OWNER ? H.pin : "000000");
    if (owner) hdrs[0] = pinh;
    *full = 0;
    const char *pat = routes[i].pattern, *m = routes[i].method;
    tapi_resp r;
    if (!strcmp(pat, "/v1/admin-units")) {
        r = tapi_req(m, "/v1/admin-units?kind=phuong", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/categories")) {
        r = tapi_req(m, pat, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/households") && !strcmp(m, "POST")) {
        char cccd[13], phone[11];
        char *b = tapi_household_body(25, COMMUNE_A, cccd, phone);
        r = tapi_req(m, pat, tok, hdrs, NULL, b, strlen(b));
        free(b);
    } else if (!strcmp(pat, "/v1/households")) {
        r = tapi_req(m, "/v1/households?limit=200", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/households/{code}") && !strcmp(m, "GET")) {
        snprintf(path, sizeof path, "/v1/households/%s", H.code);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
        *full = a == ADMIN || a == VOL_IN;
    } else if (!strcmp(pat, "/v1/households/{code}") && !strcmp(m, "PATCH")) {
        snprintf(path, sizeof path, "/v1/households/%s", H.code);
        snprintf(ifm, sizeof ifm, "If-Match: \"v%u\"", current_version(path));
        hdrs[owner ? 1 : 0] = ifm;
        char b[96];
        snprintf(b, sizeof b, "{\"business_name\":\"Hộ Hoa Nem %d\"}", a);
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
        *full = a == ADMIN || a == VOL_IN;
    } else if (!strcmp(pat, "/v1/households/{code}") && !strcmp(m, "DELETE")) {
        struct hh x;
        make_household(COMMUNE_A, &x);
        snprintf(path, sizeof path, "/v1/households/%s", x.code);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/households/{code}/pin")) {
        struct hh x;
        make_household(COMMUNE_A, &x);
        snprintf(path, sizeof path, "/v1/households/%s/pin", x.code);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/households/pins")) {
        char b[96];
        snprintf(b, sizeof b, "{\"codes\":[\"%s\"]}", H.code);
        r = tapi_req(m, "/v1/households/pins", tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/households/{code}/receipt.svg")) {
        snprintf(path, sizeof path, "/v1/households/%s/receipt.svg", H.code);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/households/{code}/products")) {
        snprintf(path, sizeof path, "/v1/households/%s/products", H.code);
        char *b = tapi_product_body("Chè lam Phủ Quảng");
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
        free(b);
    } else if (!strcmp(pat, "/v1/products")) {
        r = tapi_req(m, "/v1/products?category=food_dish", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/products/{id}") && !strcmp(m, "GET")) {
        snprintf(path, sizeof path, "/v1/products/%lld", (long long)P);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/products/{id}")) {
        snprintf(path, sizeof path, "/v1/products/%lld", (long long)P);
        snprintf(ifm, sizeof ifm, "If-Match: \"v%u\"", current_version(path));
        hdrs[owner ? 1 : 0] = ifm;
        char b[64];
        snprintf(b, sizeof b, "{\"stock\":%d}", 30 + a);
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/products/{id}/images")) {
        int64_t p = make_product(H.code);
        unsigned char buf[128];
        size_t n = unique_png(buf);
        snprintf(path, sizeof path, "/v1/products/%lld/images", (long long)p);
        r = tapi_upload(path, tok, buf, n, "x.png", NULL, hdrs);
    } else if (!strcmp(pat, "/v1/products/{id}/images/order")) {
        char b[128];
        snprintf(b, sizeof b, "{\"order\":[\"%s\"]}", IMG);
        snprintf(path, sizeof path, "/v1/products/%lld/images/order", (long long)P);
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/products/{id}/images/{sha256}")) {
        char sha[65];
        make_image(P, sha);
        snprintf(path, sizeof path, "/v1/products/%lld/images/%s", (long long)P, sha);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/media/{sha256}")) {
        snprintf(path, sizeof path, "/media/%s", IMG);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/status/{household_code}") && !strcmp(m, "GET")) {
        snprintf(path, sizeof path, "/v1/status/%s", H.code);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/status/{household_code}")) {
        snprintf(path, sizeof path, "/v1/status/%s", H.code);
        char b[64];
        if (owner)
            snprintf(b, sizeof b, "{\"pin\":\"%s\"}", a == OWNER ? H.pin : "000000");
        else
            snprintf(b, sizeof b, "{}");
        r = tapi_req(m, path, tok, NULL, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/seller-accounts")) {
        r = tapi_req(m, pat, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/listings")) {
        r = tapi_req(m, "/v1/listings?marketplace=shopee", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/listings/{id}")) {
        snprintf(path, sizeof path, "/v1/listings/%lld", (long long)LISTING);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/households/{code}/accounts")) {
        struct hh x;
        make_household(COMMUNE_A, &x);
        snprintf(path, sizeof path, "/v1/households/%s/accounts", x.code);
        const char *b = "{\"marketplace\":\"postmart\"}";
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/households/{code}/accounts/{marketplace}/pack.html") ||
               !strcmp(pat, "/v1/households/{code}/accounts/{marketplace}/pack.xlsx")) {
        tsup_exec(tapi_db(),
                  "INSERT IGNORE INTO seller_accounts (household_id, marketplace_code, state) "
                  "SELECT id, 'postmart',"
                  " 'awaiting_owner' FROM households WHERE code = ?",
                  "s", H.code);
        snprintf(path, sizeof path, "/v1/households/%s/accounts/postmart/pack.%s", H.code,
                 strstr(pat, "xlsx") ? "xlsx" : "html");
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
        /* the printable pack holds the personal fields the seller centre asks for */
        *full = !strstr(pat, "xlsx") && (a == ADMIN || a == VOL_IN);
    } else if (!strcmp(pat, "/v1/households/{code}/accounts/{marketplace}/confirm")) {
        struct hh x;
        flows_fixture(&x, "awaiting_owner", NULL, NULL, NULL, NULL);
        snprintf(path, sizeof path, "/v1/households/%s/accounts/postmart/confirm", x.code);
        /* one shop address belongs to one household: each fixture has its own */
        char b[160];
        snprintf(b, sizeof b, "{\"shop_url\":\"https://postmart.vn/shop/ho-hoa-nem-%s\"}", x.code);
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/products/{id}/listings")) {
        struct hh x;
        int64_t p;
        flows_fixture(&x, "active", NULL, NULL, &p, NULL);
        snprintf(path, sizeof path, "/v1/products/%lld/listings", (long long)p);
        const char *b = "{\"marketplaces\":[\"postmart\"]}";
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/products/{id}/listings/{marketplace}/sheet.xlsx") ||
               !strcmp(pat, "/v1/products/{id}/listings/{marketplace}/sheet.csv")) {
        snprintf(path, sizeof path, "/v1/products/%lld/listings/postmart/sheet.%s", (long long)P,
                 strstr(pat, "xlsx") ? "xlsx" : "csv");
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/listings/{id}/confirm")) {
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "submitted", &p, &l);
        snprintf(path, sizeof path, "/v1/listings/%lld/confirm", (long long)l);
        char b[160];
        snprintf(b, sizeof b, "{\"listing_url\":\"https://postmart.vn/san-pham/nem-chua-%lld\"}",
                 (long long)l);
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/listings/{id}/republish")) {
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "rejected", &p, &l);
        snprintf(path, sizeof path, "/v1/listings/%lld/republish", (long long)l);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/products/{id}/withdraw")) {
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "live", &p, &l);
        snprintf(path, sizeof path, "/v1/products/%lld/withdraw", (long long)p);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/listings/{id}/withdrawn")) {
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "withdrawing", &p, &l);
        snprintf(path, sizeof path, "/v1/listings/%lld/withdrawn", (long long)l);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/flagship-products") && !strcmp(m, "POST")) {
        /* each accepted call adds an entry: a name of its own */
        static int nth;
        char b[160];
        snprintf(b, sizeof b, "{\"name\":\"Chè lam thử nghiệm %d\",\"category\":\"food_dish\"}",
                 ++nth);
        r = tapi_req(m, pat, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/flagship-products")) {
        r = tapi_req(m, "/v1/flagship-products?q=nem", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/flagship-products/{id}")) {
        const char *b = "{\"producer\":\"HTX Nem chua Hạc Thành\"}";
        r = tapi_req(m, "/v1/flagship-products/1", tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/products/{id}/flagship-decision")) {
        tsup_exec(tapi_db(),
                  "UPDATE products SET flagship_id = (SELECT MIN(id) FROM flagship_products),"
                  " flagship_status = 'proposed' WHERE id = ?",
                  "i", P);
        snprintf(path, sizeof path, "/v1/products/%lld/flagship-decision", (long long)P);
        const char *b = "{\"decision\":\"approve\"}";
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/marketplace-categories")) {
        r = tapi_req(m, "/v1/marketplace-categories?marketplace=lazada", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/marketplace-categories/refresh")) {
        const char *b = "{\"marketplace\":\"lazada\"}";
        r = tapi_req(m, pat, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/marketplace-categories/{marketplace}/leaves")) {
        r = tapi_req(m, "/v1/marketplace-categories/lazada/leaves?q=th", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/marketplace-categories/{marketplace}/{category}")) {
        /* a stored Lazada tree with the shipped mapping's leaf, its brand attribute */
        cs_db *db = tapi_db();
        tsup_exec(db,
                  "INSERT IGNORE INTO mp_catalog_versions (marketplace_code, version, content_hash,"
                  " ncategories) VALUES ('lazada', 1, REPEAT('x', 32), 1)",
                  "");
        tsup_exec(db,
                  "INSERT IGNORE INTO mp_categories (version_id, external_id, name, path, is_leaf)"
                  " SELECT id, '10003451', 'Thực phẩm', 'Bách hóa > Thực phẩm', 1"
                  " FROM mp_catalog_versions WHERE marketplace_code = 'lazada' AND version = 1",
                  "");
        tsup_exec(db,
                  "INSERT IGNORE INTO mp_category_attributes (version_id, external_id,"
                  " attribute_id, position, name, mandatory, choices)"
                  " SELECT id, '10003451', 'brand', 0, 'Thương hiệu', 1, '[{\"id\":\"1\","
                  "\"name\":\"No Brand\"}]' FROM mp_catalog_versions"
                  " WHERE marketplace_code = 'lazada' AND version = 1",
                  "");
        const char *b = "{\"leaf\":\"10003451\",\"values\":[{\"attribute_id\":\"brand\","
                        "\"value_name\":\"No Brand\"}]}";
        r = tapi_req(m, "/v1/marketplace-categories/lazada/food_dish", tok, hdrs, NULL, b,
                     strlen(b));
    } else if (!strcmp(pat, "/v1/sales") && !strcmp(m, "POST")) {
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "live", &p, &l);
        char b[256];
        snprintf(b, sizeof b,
                 "{\"listing_id\":%lld,\"order_code\":\"PM-%lld-%d\",\"sold_on\":\"2026-01-15\","
                 "\"quantity\":1,\"amount_vnd\":45000}",
                 (long long)l, (long long)l, a);
        r = tapi_req(m, pat, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/sales/{id}/evidence")) {
        /* a sale the administrator recorded; GET reads the screenshot the administrator kept */
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "live", &p, &l);
        char b[256];
        snprintf(b, sizeof b,
                 "{\"listing_id\":%lld,\"order_code\":\"EV-%lld\",\"sold_on\":\"2026-01-15\","
                 "\"quantity\":1,\"amount_vnd\":45000}",
                 (long long)l, (long long)l);
        tapi_resp c = tapi_call("POST", "/v1/sales", tok_admin, b);
        if (c.status != 201) fail_msg("sale: %ld %s", c.status, c.body);
        int64_t id = json_integer_value(json_object_get(c.json, "id"));
        tapi_free(&c);
        snprintf(path, sizeof path, "/v1/sales/%lld/evidence", (long long)id);
        unsigned char buf[128];
        size_t n = unique_png(buf);
        if (!strcmp(m, "GET")) {
            c = tapi_upload(path, tok_admin, buf, n, "s.png", NULL, NULL);
            if (c.status != 200) fail_msg("evidence: %ld %s", c.status, c.body);
            tapi_free(&c);
            r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
        } else {
            r = tapi_upload(path, tok, buf, n, "s.png", NULL, hdrs);
        }
    } else if (!strcmp(pat, "/v1/status/{household_code}/sales/{id}/evidence")) {
        /* the owner's own pending claim, then its screenshot with the PIN in the form */
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "live", &p, &l);
        char b[320];
        snprintf(b, sizeof b,
                 "{\"pin\":\"%s\",\"listing_id\":%lld,\"order_code\":\"OE-%lld\",\"sold_on\":"
                 "\"2026-01-16\",\"quantity\":1,\"amount_vnd\":45000}",
                 x.pin, (long long)l, (long long)l);
        snprintf(path, sizeof path, "/v1/status/%s/sales", x.code);
        tapi_resp c = tapi_req("POST", path, NULL, NULL, NULL, b, strlen(b));
        if (c.status != 201) fail_msg("owner's claim → %ld %s", c.status, c.body);
        int64_t id = json_integer_value(json_object_get(c.json, "id"));
        tapi_free(&c);
        snprintf(path, sizeof path, "/v1/status/%s/sales/%lld/evidence", x.code, (long long)id);
        unsigned char buf[128];
        size_t n = unique_png(buf);
        r = tapi_owner_upload(path, owner ? (a == OWNER ? x.pin : "000000") : NULL, buf, n);
    } else if (!strcmp(pat, "/v1/sales/import")) {
        /* the seller centre's export: one delivered line of a listing in VOL_IN's commune (a
         * volunteer elsewhere gets 200 with the row refused) */
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "live", &p, &l);
        char body[1024];
        int len =
            snprintf(body, sizeof body,
                     "--XB\r\nContent-Disposition: form-data; name=\"marketplace\"\r\n\r\n"
                     "postmart\r\n--XB\r\nContent-Disposition: form-data; name=\"file\";"
                     " filename=\"don.csv\"\r\nContent-Type: text/csv\r\n\r\n"
                     "Mã đơn hàng,Ngày giao thành công,Mã SKU,Số lượng,Thành tiền,"
                     "Trạng thái đơn hàng\r\nIM-%lld-%d,15/01/2026,CS-%lld,2,90000,Đã giao\r\n"
                     "\r\n--XB--\r\n",
                     (long long)l, a, (long long)l);
        r = tapi_req(m, pat, tok, hdrs, "multipart/form-data; boundary=XB", body, (size_t)len);
        if (r.status == 200)
            assert_int_equal(
                json_integer_value(json_object_get(r.json, a == VOL_OUT ? "rejected" : "recorded")),
                1);
    } else if (!strcmp(pat, "/v1/sales/summary")) {
        r = tapi_req(m, "/v1/sales/summary?by=commune", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/sales")) {
        r = tapi_req(m, "/v1/sales?state=pending", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/sales/{id}/decision") ||
               !strcmp(pat, "/v1/status/{household_code}/sales")) {
        /* a fresh household each time: its own PIN and throttle */
        struct hh x;
        int64_t p, l;
        flows_fixture(&x, "active", "postmart", "live", &p, &l);
        char b[320];
        int claim = !strcmp(pat, "/v1/sales/{id}/decision");
        snprintf(b, sizeof b,
                 "{%s%s%s\"listing_id\":%lld,\"order_code\":\"OW-%lld\",\"sold_on\":"
                 "\"2026-01-16\",\"quantity\":2,\"amount_vnd\":90000}",
                 owner || claim ? "\"pin\":\"" : "",
                 owner || claim ? (claim || a == OWNER ? x.pin : "000000") : "",
                 owner || claim ? "\"," : "", (long long)l, (long long)l);
        snprintf(path, sizeof path, "/v1/status/%s/sales", x.code);
        if (claim) {
            tapi_resp c = tapi_req("POST", path, NULL, NULL, NULL, b, strlen(b));
            if (c.status != 201) fail_msg("owner's claim → %ld %s", c.status, c.body);
            int64_t id = json_integer_value(json_object_get(c.json, "id"));
            tapi_free(&c);
            snprintf(path, sizeof path, "/v1/sales/%lld/decision", (long long)id);
            const char *d = "{\"accept\":true}";
            r = tapi_req(m, path, tok, hdrs, NULL, d, strlen(d));
        } else {
            r = tapi_req(m, path, NULL, NULL, NULL, b, strlen(b));
        }
    } else if (!strcmp(pat, "/v1/households/{code}/showcase-consent")) {
        snprintf(path, sizeof path, "/v1/households/%s/showcase-consent", H.code);
        const char *b = "{\"showcase_name_consent\":true}";
        r = tapi_req(m, path, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/targets/{year}/goals")) {
        const char *b = "commune_code,households_onboarded\r\n14797,5\r\n";
        r = tapi_req(m, "/v1/targets/2026/goals", tok, hdrs, "text/csv", b, strlen(b));
    } else if (!strncmp(pat, "/v1/reports/", 12) || !strcmp(pat, "/v1/showcase/promoted")) {
        r = tapi_req(m, pat, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/volunteers") && !strcmp(m, "POST")) {
        const char *b = "{\"name\":\"Trịnh Văn Nam\",\"communes\":[\"" COMMUNE_B "\"]}";
        r = tapi_req(m, pat, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/volunteers/sheet")) {
        const char *b = "ho_ten,so_dien_thoai,ma_xa\r\nTrịnh Văn Nam,0912345678,14797\r\n";
        r = tapi_req(m, pat, tok, hdrs, "text/csv", b, strlen(b));
    } else if (!strcmp(pat, "/v1/volunteers")) {
        r = tapi_req(m, pat, tok, hdrs, NULL, NULL, 0);
    } else if (!strncmp(pat, "/v1/volunteers/{id}/", 20)) {
        char link[64];
        int64_t id = make_volunteer(link);
        snprintf(path, sizeof path, "/v1/volunteers/%lld/%s", (long long)id, pat + 20);
        r = tapi_req(m, path, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/session/link")) {
        char link[64], b[128];
        make_volunteer(link);
        snprintf(b, sizeof b, "{\"link\":\"%s\"}", link);
        r = tapi_req(m, pat, tok, hdrs, NULL, b, strlen(b));
    } else if (!strcmp(pat, "/v1/session/devices")) {
        r = tapi_req(m, pat, tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/audit")) {
        r = tapi_req(m, "/v1/audit?entity=household&limit=200", tok, hdrs, NULL, NULL, 0);
    } else if (!strcmp(pat, "/v1/webhooks/tiktok")) {
        static const char b[] = "{\"type\":5,\"shop_id\":\"1\",\"data\":{\"product_id\":\"1\","
                                "\"status\":\"DELETED\"}}";
        hdrs[owner ? 1 : 0] = "Authorization: "
                              "00000000000000000000000000000000000000000000000000000000000000ff";
        r = tapi_req(m, pat, tok, hdrs, "application/json", b, strlen(b));
    } else {
        fail_msg("no request for %s %s", m, pat);
    }
    return r;
}

/* Nothing of H's personal data unless allowed; masked values only in lists for those who
 * may see them; monitors and owners never get the keys at all. */
static void check_no_leak(const tapi_resp *r, size_t i, int a, int full)
{
    char ctx[200];
    snprintf(ctx, sizeof ctx, "%s %s as %s", routes[i].method, routes[i].pattern, actor_name[a]);
    if (full) {
        /* the reader may see them: they must be the real, unmasked values */
        if (!strstr(r->body, H.cccd) || !strstr(r->body, H.phone))
            fail_msg("%s: personal fields missing", ctx);
        return;
    }
    if (strstr(r->body, H.cccd)) fail_msg("%s: citizen ID leaked", ctx);
    if (strstr(r->body, H.phone)) fail_msg("%s: phone leaked", ctx);
    if (strstr(r->body, "Thôn Đông")) fail_msg("%s: address leaked", ctx);
    if (a == MONITOR || a == OWNER || a == OWNER_BAD || a == NONE) {
        if (strstr(r->body, "\"cccd\"") || strstr(r->body, "\"phone\"") ||
            strstr(r->body, "\"address\"") || strstr(r->body, "\"birth_date\""))
            fail_msg("%s: personal keys present", ctx);
    }
    /* monitors see no personal data at all: no owner name or age, no tax code or business
       registration (issue 12) — code, commune, youth-led and the counts remain */
    if (a == MONITOR) {
        if (strstr(r->body, "Lê Thị Hoa")) fail_msg("%s: owner name leaked", ctx);
        if (strstr(r->body, "\"owner_name\"") || strstr(r->body, "\"owner_age\"") ||
            strstr(r->body, "\"tax_code\"") || strstr(r->body, "\"business_reg_no\"") ||
            strstr(r->body, "\"business_name\""))
            fail_msg("%s: personal keys present", ctx);
    }
}

static void test_matrix(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        for (int a = 0; a < N_ACTORS; a++) {
            int full;
            tapi_resp r = run(i, a, &full);
            if (r.status != routes[i].expect[a]) {
                fprintf(stderr, "MISMATCH %s %s as %s: got %ld, want %d: %.300s\n",
                        routes[i].method, routes[i].pattern, actor_name[a], r.status,
                        routes[i].expect[a], r.body);
                failures++;
            }
            if (r.status >= 500)
                fail_msg("%s %s: %ld", routes[i].method, routes[i].pattern, r.status);
            /* the answer is what schemas/openapi.yaml documents for that status */
            char ctype[128], cerr[600];
            const char *ct = tapi_header(&r, "Content-Type", ctype, sizeof ctype);
            if (tcontract_check(routes[i].method, routes[i].pattern, r.status, ct, r.body, r.len,
                                cerr, sizeof cerr)) {
                fprintf(stderr, "CONTRACT as %s: %s\n", actor_name[a], cerr);
                failures++;
            }
            check_no_leak(&r, i, a, full && r.status == 200);
            /* every refusal is a problem document with a stable code */
            if (r.status >= 400) {
                if (!ct || strncmp(ct, "application/problem+json", 24) ||
                    !json_is_string(json_object_get(r.json, "code")))
                    fail_msg("%s %s as %s: %ld without a problem document", routes[i].method,
                             routes[i].pattern, actor_name[a], r.status);
            }
            tapi_free(&r);
        }
    }
    assert_int_equal(failures, 0);
    assert_true(tcontract_count() >= N_ROUTES * N_ACTORS);
}

/* The matrix stays complete: each route of these resources in the routing table is in it. */
struct cover {
    int missing;
};
static int check_covered(const svc_route *rt, void *arg)
{
    struct cover *c = arg;
    static const char *mine[] = {
        "/v1/admin-units", "/v1/categories",      "/v1/households",         "/v1/products",
        "/v1/status",      "/v1/seller-accounts", "/v1/listings",           "/v1/audit",
        "/media/",         "/v1/reports/annual",  "/v1/reports/targets-vn", "/v1/showcase/",
        "/v1/volunteers",  "/v1/session/",        "/v1/webhooks/tiktok",    NULL};
    int owned = 0;
    for (int k = 0; mine[k]; k++)
        owned |= !strncmp(rt->pattern, mine[k], strlen(mine[k]));
    if (!owned || (rt->flags & SVC_R_INTERNAL)) return 0;
    for (size_t i = 0; i < N_ROUTES; i++)
        if (!strcmp(routes[i].method, rt->method) && !strcmp(routes[i].pattern, rt->pattern))
            return 0;
    fprintf(stderr, "route not in the role matrix: %s %s\n", rt->method, rt->pattern);
    c->missing++;
    return 0;
}

static void test_matrix_covers_routes(void **state)
{
    (void)state;
    struct cover c = {0};
    svc_routes_foreach(check_covered, &c);
    assert_int_equal(c.missing, 0);
    /* and each matrix row names a real route */
    for (size_t i = 0; i < N_ROUTES; i++) {
        int found = 0;
        for (size_t k = 0; k < svc_routes_count; k++)
            found |= !strcmp(svc_routes[k].method, routes[i].method) &&
                     !strcmp(svc_routes[k].pattern, routes[i].pattern);
        if (!found)
            fail_msg("matrix row without a route: %s %s", routes[i].method, routes[i].pattern);
    }
}

/* A volunteer's list holds only its communes; filtering on another commune is refused. */
static void test_volunteer_scope_in_lists(void **state)
{
    (void)state;
    tapi_resp r = tapi_call("GET", "/v1/households?limit=200", tok_vout, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/households?commune=" COMMUNE_A, tok_vout, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/products", tok_vout, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/listings", tok_vout, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/seller-accounts", tok_vout, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    tapi_free(&r);
    /* the volunteer of A sees H, masked */
    r = tapi_call("GET", "/v1/households?limit=200", tok_vin, NULL);
    assert_int_equal(r.status, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 1);
    size_t k;
    json_t *it;
    int seen = 0;
    json_array_foreach(items, k, it)
    {
        assert_string_equal(json_string_value(json_object_get(it, "commune_code")), COMMUNE_A);
        if (!strcmp(json_string_value(json_object_get(it, "code")), H.code)) {
            seen = 1;
            const char *ph = json_string_value(json_object_get(it, "phone"));
            assert_non_null(ph);
            assert_int_equal(strlen(ph), 10);
            assert_memory_equal(ph, H.phone, 2);
            assert_memory_equal(ph + 2, "******", 6);
            assert_string_equal(ph + 8, H.phone + 8);
        }
    }
    assert_true(seen);
    tapi_free(&r);
    /* monitors may not look people up by phone or citizen ID */
    char path[96];
    snprintf(path, sizeof path, "/v1/households?phone=%s", H.phone);
    r = tapi_call("GET", path, tok_monitor, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    tapi_free(&r);
}

/* The authorisation link goes to those who act for the commune, not to monitors. */
static void test_auth_link_scope(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof path, "/v1/seller-accounts?household=%s", H.code);
    tapi_resp r = tapi_call("GET", path, tok_vin, NULL);
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(it);
    assert_true(json_is_string(json_object_get(it, "auth_link")));
    assert_null(strstr(r.body, "access_token"));
    tapi_free(&r);
    r = tapi_call("GET", path, tok_monitor, NULL);
    it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_true(json_is_null(json_object_get(it, "auth_link")));
    tapi_free(&r);
}

/* After the withdrawal of consent nothing personal comes back from any endpoint, the images
 * are gone from the store, and an audit row says who did it. */
static void test_erase_leaves_nothing_personal(void **state)
{
    (void)state;
    struct hh x;
    make_household(COMMUNE_A, &x);
    int64_t p = make_product(x.code);
    char sha[65];
    make_image(p, sha);
    char path[128];
    snprintf(path, sizeof path, "/media/%s", sha);
    tapi_resp r = tapi_call("GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    snprintf(path, sizeof path, "/v1/households/%s", x.code);
    r = tapi_call("DELETE", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "erased");
    tapi_free(&r);
    r = tapi_call("DELETE", path, tok_admin, NULL);
    assert_int_equal(r.status, 410);
    tapi_free(&r);
    const char *reads[] = {path, "/v1/households?limit=200&status=erased",
                           "/v1/households?limit=200", NULL};
    for (int k = 0; reads[k]; k++) {
        r = tapi_call("GET", reads[k], tok_admin, NULL);
        assert_int_equal(r.status, 200);
        assert_null(strstr(r.body, x.cccd));
        assert_null(strstr(r.body, x.phone));
        tapi_free(&r);
    }
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_null(json_object_get(r.json, "owner_name"));
    assert_null(json_object_get(r.json, "cccd"));
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "erased");
    tapi_free(&r);
    /* no PIN opens it any more */
    char ph[48];
    snprintf(ph, sizeof ph, "X-Owner-Pin: %s", x.pin);
    const char *h[] = {ph, NULL};
    snprintf(path, sizeof path, "/v1/status/%s", x.code);
    r = tapi_req("GET", path, NULL, h, NULL, NULL, 0);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    /* the image is not served and its file is gone */
    snprintf(path, sizeof path, "/media/%s", sha);
    r = tapi_call("GET", path, NULL, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    char file[4096];
    snprintf(file, sizeof file, "%s/%.2s/%s",
             getenv("CHOSO_MEDIA_DIR") ? getenv("CHOSO_MEDIA_DIR") : "var/media", sha, sha + 2);
    assert_int_not_equal(access(file, F_OK), 0);
    /* updates and PINs are refused */
    snprintf(path, sizeof path, "/v1/households/%s/pin", x.code);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 410);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(
            tapi_db(),
            "SELECT COUNT(*) FROM audit_log WHERE action = 'household.erase' AND entity_id = ?",
            "s", x.code),
        1);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(*) FROM households WHERE code = ? AND status = 'erased'"
                 " AND cccd_sealed IS NULL AND phone_sealed IS NULL AND owner_name = ''",
                 "s", x.code),
        1);
}

/* The contract checker is not vacuous: it refuses what the spec does not say. */
static void test_contract_checker_refuses(void **state)
{
    (void)state;
    char err[600];
    const char *ok =
        "{\"items\":[{\"code\":\"14797\",\"name\":\"Phường Hạc Thành\",\"kind\":\"phuong\","
        "\"former_districts\":[{\"code\":\"380\",\"name\":\"Thành phố Thanh Hóa\"}]}]}";
    assert_int_equal(tcontract_check("GET", "/v1/admin-units", 200, "application/json", ok,
                                     strlen(ok), err, sizeof err),
                     0);
    static const struct {
        long status;
        const char *ctype, *body;
    } bad[] = {
        {200, "application/json",
         "{\"items\":[{\"code\":\"14797\",\"name\":\"x\",\"kind\":\"phuong\","
         "\"former_districts\":[],\"cccd\":\"1\"}]}"}, /* undocumented member */
        {200, "application/json",
         "{\"items\":[{\"code\":\"14797\",\"kind\":\"phuong\",\"former_districts\":[]}]"
         "}"}, /* required
                  missing
                */
        {200, "application/json",
         "{\"items\":[{\"code\":14797,\"name\":\"x\",\"kind\":\"phuong\",\"former_"
         "districts\":[]}]"
         "}"}, /* type */
        {200, "application/json",
         "{\"items\":[{\"code\":\"1479\",\"name\":\"x\",\"kind\":\"phuong\",\"former_"
         "districts\":[]"
         "}]}"}, /* pattern */
        {200, "application/json",
         "{\"items\":[{\"code\":\"14797\",\"name\":\"x\",\"kind\":\"huyen\",\"former_"
         "districts\":[]"
         "}]}"},                         /* enum */
        {200, "text/html", "<p>hi</p>"}, /* content type */
        {418, "application/json", "{}"}, /* status */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!tcontract_check("GET", "/v1/admin-units", bad[i].status, bad[i].ctype, bad[i].body,
                             strlen(bad[i].body), err, sizeof err))
            fail_msg("case %zu accepted", i);
    assert_int_not_equal(tcontract_check("GET", "/v1/no-such-route", 200, "application/json", "{}",
                                         2, err, sizeof err),
                         0);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_covers_routes),
        cmocka_unit_test(test_contract_checker_refuses),
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_volunteer_scope_in_lists),
        cmocka_unit_test(test_auth_link_scope),
        cmocka_unit_test(test_erase_leaves_nothing_personal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
