/* Product images through the API: upload (multipart), type decided by the bytes, size and
 * count limits, content-addressed storage with dedupe, served back byte-identical from
 * /media/{sha256} with long cache headers, reorder, delete (file removed only when no product
 * uses it), and no path a request can steer out of the media directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/crypto.h"
#include "tests/support/tapi.h"
#include "tests/support/tcontract.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMUNE "14797"
static char tok_admin[44], tok_vol[44];
static char CODE[24];
static unsigned serial;

static int64_t new_product(void)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", CODE);
    char *b = tapi_product_body("Bánh gai Tứ Trụ");
    tapi_resp r = tapi_call("POST", path, tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
    return id;
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    const char *c[] = {COMMUNE, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", c, tok_vol);
    tapi_seed(tok_vol, COMMUNE, CODE, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tcontract_free();
    tapi_stop();
    return 0;
}

static void sha_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[32];
    cs_sha256(p, n, d);
    cs_hex(d, 32, out);
}

static void media_file(const char *sha, char *out, size_t n)
{
    snprintf(out, n, "%s/%.2s/%s", getenv("CHOSO_MEDIA_DIR"), sha, sha + 2);
}

/* A PNG whose bytes no other upload of this run has. */
static size_t unique_png(unsigned char *out)
{
    size_t n;
    const unsigned char *p = tapi_png(&n);
    memcpy(out, p, n);
    serial++;
    memcpy(out + n, &serial, sizeof serial);
    return n + sizeof serial;
}

static tapi_resp upload(int64_t product, const void *bytes, size_t n, const char *position)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/products/%lld/images", (long long)product);
    tapi_resp r = tapi_upload(path, tok_vol, bytes, n, "anh.png", position, NULL);
    char ct[96], cerr[600];
    if (tcontract_check("POST", "/v1/products/{id}/images", r.status,
                        tapi_header(&r, "Content-Type", ct, sizeof ct), r.body, r.len, cerr,
                        sizeof cerr))
        fail_msg("%s", cerr);
    return r;
}

static void test_upload_serve_dedupe(void **state)
{
    (void)state;
    int64_t p1 = new_product(), p2 = new_product();
    unsigned char png[128];
    size_t n = unique_png(png);
    char sha[65];
    sha_hex(png, n, sha);

    tapi_resp r = upload(p1, png, n, NULL);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), sha);
    assert_string_equal(json_string_value(json_object_get(r.json, "mime")), "image/png");
    assert_int_equal(json_integer_value(json_object_get(r.json, "bytes")), n);
    assert_int_equal(json_integer_value(json_object_get(r.json, "width")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "height")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "position")), 0);
    char url[100];
    snprintf(url, sizeof url, "/media/%s", sha);
    assert_string_equal(json_string_value(json_object_get(r.json, "url")), url);
    tapi_free(&r);

    /* on disk at its content address, whole */
    char file[4096];
    media_file(sha, file, sizeof file);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, n);
    /* and in the database every node shares: a node whose cache lacks the file (another
     * machine, a wiped cache) serves it from there and caches it again */
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT bytes FROM media_blobs WHERE sha256 = ?", "s", sha), n);
    assert_int_equal(unlink(file), 0);
    r = tapi_call("GET", url, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, n);
    assert_memory_equal(r.body, png, n);
    tapi_free(&r);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, n);

    /* served back byte for byte, cacheable for ever */
    r = tapi_call("GET", url, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, n);
    assert_memory_equal(r.body, png, n);
    char h[128];
    assert_string_equal(tapi_header(&r, "Content-Type", h, sizeof h), "image/png");
    assert_string_equal(tapi_header(&r, "Cache-Control", h, sizeof h),
                        "public, max-age=31536000, immutable");
    char etag[80];
    assert_non_null(tapi_header(&r, "ETag", etag, sizeof etag));
    tapi_free(&r);
    char inm[100];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *hh[] = {inm, NULL};
    r = tapi_req("GET", url, NULL, hh, NULL, NULL, 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    tapi_free(&r);

    /* the same bytes again on the same product: the existing image, no second row */
    r = upload(p1, png, n, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), sha);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM product_images WHERE sha256 = ?", "s", sha), 1);
    /* on another product: a row there, still one file */
    r = upload(p2, png, n, NULL);
    assert_int_equal(r.status, 201);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM product_images WHERE sha256 = ?", "s", sha), 2);
    assert_int_equal(stat(file, &st), 0);

    /* the product shows it */
    char path[160];
    snprintf(path, sizeof path, "/v1/products/%lld", (long long)p2);
    r = tapi_call("GET", path, tok_admin, NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "images"), 0), "sha256")),
                        sha);
    tapi_free(&r);

    /* deleting it from one product keeps the file the other uses; from both removes it */
    snprintf(path, sizeof path, "/v1/products/%lld/images/%s", (long long)p1, sha);
    r = tapi_call("DELETE", path, tok_vol, NULL);
    assert_int_equal(r.status, 204);
    tapi_free(&r);
    assert_int_equal(stat(file, &st), 0);
    r = tapi_call("DELETE", path, tok_vol, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    snprintf(path, sizeof path, "/v1/products/%lld/images/%s", (long long)p2, sha);
    r = tapi_call("DELETE", path, tok_vol, NULL);
    assert_int_equal(r.status, 204);
    tapi_free(&r);
    assert_int_not_equal(stat(file, &st), 0);
    r = tapi_call("GET", url, NULL, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    assert_true(tsup_i64(tapi_db(),
                         "SELECT COUNT(*) FROM audit_log WHERE action = 'product.image_remove'",
                         "") >= 2);
}

static void test_types_and_sizes(void **state)
{
    (void)state;
    int64_t p = new_product();
    size_t n;
    const unsigned char *jpg = tapi_jpeg(&n);
    tapi_resp r = upload(p, jpg, n, NULL);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "mime")), "image/jpeg");
    assert_int_equal(json_integer_value(json_object_get(r.json, "width")), 3);
    assert_int_equal(json_integer_value(json_object_get(r.json, "height")), 2);
    char url[100];
    snprintf(url, sizeof url, "%s", json_string_value(json_object_get(r.json, "url")));
    tapi_free(&r);
    r = tapi_call("GET", url, NULL, NULL);
    char h[64];
    assert_string_equal(tapi_header(&r, "Content-Type", h, sizeof h), "image/jpeg");
    assert_memory_equal(r.body, jpg, n);
    tapi_free(&r);
    const unsigned char *webp = tapi_webp(&n);
    r = upload(p, webp, n, NULL);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "mime")), "image/webp");
    assert_int_equal(json_integer_value(json_object_get(r.json, "width")), 4);
    assert_int_equal(json_integer_value(json_object_get(r.json, "height")), 5);
    tapi_free(&r);

    /* not an image we take, whatever the name says: 415 */
    static const char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00";
    static const char html[] = "<html><script>alert(1)</script></html>";
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>";
    const char *bad[] = {gif, html, svg};
    size_t badn[] = {sizeof gif - 1, sizeof html - 1, sizeof svg - 1};
    for (int i = 0; i < 3; i++) {
        r = upload(p, bad[i], badn[i], NULL);
        assert_int_equal(r.status, 415);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")), "image_type");
        tapi_free(&r);
    }
    /* empty, unknown fields, bad positions: 422 naming the field */
    r = upload(p, "", 0, NULL);
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    unsigned char png[128];
    size_t pn = unique_png(png);
    const char *pos[] = {"x", "9", "-1", ""};
    for (int i = 0; i < 4; i++) {
        r = upload(p, png, pn, pos[i]);
        assert_int_equal(r.status, 422);
        assert_non_null(strstr(r.body, "\"position\""));
        tapi_free(&r);
    }
    /* a JSON body on the upload route */
    char path[64];
    snprintf(path, sizeof path, "/v1/products/%lld/images", (long long)p);
    r = tapi_call("POST", path, tok_vol, "{\"image\":\"abc\"}");
    assert_int_equal(r.status, 415);
    tapi_free(&r);
    /* over media.max_image: 413 */
    size_t big = (size_t)6 << 20;
    unsigned char *b = calloc(1, big);
    memcpy(b, png, pn);
    r = upload(p, b, big, NULL);
    assert_int_equal(r.status, 413);
    tapi_free(&r);
    free(b);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM product_images WHERE product_id = ?", "i", p), 2);
}

static void test_count_order_positions(void **state)
{
    (void)state;
    int64_t p = new_product();
    char shas[10][65];
    unsigned char png[128];
    for (int i = 0; i < 9; i++) {
        size_t n = unique_png(png);
        sha_hex(png, n, shas[i]);
        tapi_resp r = upload(p, png, n, NULL);
        assert_int_equal(r.status, 201);
        assert_int_equal(json_integer_value(json_object_get(r.json, "position")), i);
        tapi_free(&r);
    }
    /* the tenth is one too many */
    size_t n = unique_png(png);
    tapi_resp r = upload(p, png, n, NULL);
    assert_int_equal(r.status, 422);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "image_too_many");
    tapi_free(&r);
    /* and its bytes were not left in the store */
    char tenth[65], file[4096];
    struct stat st;
    sha_hex(png, n, tenth);
    media_file(tenth, file, sizeof file);
    assert_int_not_equal(stat(file, &st), 0);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM media_blobs WHERE sha256 = ?", "s", tenth), 0);
    /* remove the 4th: positions close up */
    char path[160];
    snprintf(path, sizeof path, "/v1/products/%lld/images/%s", (long long)p, shas[3]);
    r = tapi_call("DELETE", path, tok_vol, NULL);
    assert_int_equal(r.status, 204);
    tapi_free(&r);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT MAX(position) FROM product_images WHERE product_id = ?", "i",
                              p),
                     7);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT COUNT(DISTINCT position) FROM product_images WHERE product_id = ?", "i",
                 p),
        8);
    /* a new one placed first moves the others down */
    n = unique_png(png);
    sha_hex(png, n, shas[9]);
    r = upload(p, png, n, "0");
    assert_int_equal(r.status, 201);
    assert_int_equal(json_integer_value(json_object_get(r.json, "position")), 0);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT position FROM product_images WHERE product_id = ? AND sha256 = ?", "is", p,
                 shas[0]),
        1);

    /* reorder: reversed */
    int order[9] = {9, 0, 1, 2, 4, 5, 6, 7, 8};
    json_t *arr = json_array();
    for (int i = 8; i >= 0; i--)
        json_array_append_new(arr, json_string(shas[order[i]]));
    json_t *o = json_pack("{s:o}", "order", arr);
    char *body = json_dumps(o, JSON_COMPACT);
    snprintf(path, sizeof path, "/v1/products/%lld/images/order", (long long)p);
    r = tapi_call("PUT", path, tok_vol, body);
    free(body);
    assert_int_equal(r.status, 200);
    json_t *imgs = json_object_get(r.json, "images");
    assert_int_equal(json_array_size(imgs), 9);
    for (int i = 0; i < 9; i++) {
        json_t *im = json_array_get(imgs, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(im, "sha256")), shas[order[8 - i]]);
        assert_int_equal(json_integer_value(json_object_get(im, "position")), i);
    }
    tapi_free(&r);
    /* an order that leaves one out, repeats one or names a stranger: 422, nothing changes */
    json_t *bads[3];
    bads[0] = json_deep_copy(arr), json_array_remove(bads[0], 0);
    bads[1] = json_deep_copy(arr), json_array_set_new(bads[1], 0, json_string(shas[1]));
    bads[2] = json_deep_copy(arr), json_array_set_new(bads[2], 0, json_string(shas[3]));
    for (int k = 0; k < 3; k++) {
        json_t *ob = json_pack("{s:o}", "order", bads[k]);
        body = json_dumps(ob, JSON_COMPACT);
        json_decref(ob);
        r = tapi_call("PUT", path, tok_vol, body);
        free(body);
        assert_int_equal(r.status, 422);
        assert_non_null(strstr(r.body, "\"order"));
        tapi_free(&r);
    }
    r = tapi_call("PUT", path, tok_vol, "{\"order\":[\"zz\"],\"extra\":1}");
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    assert_int_equal(
        tsup_i64(tapi_db(),
                 "SELECT position FROM product_images WHERE product_id = ? AND sha256 = ?", "is", p,
                 shas[order[8]]),
        0);
    json_decref(o);
}

/* /media never reads a path the request wrote. */
static void test_media_paths(void **state)
{
    (void)state;
    static const char *paths[] = {
        "/media/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/../../etc/passwd",
        "/media/%2e%2e",
        "/media/ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
        "/media/abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678",
        "/media/abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "/media/abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678g",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        tapi_resp r = tapi_call("GET", paths[i], NULL, NULL);
        if (r.status != 404) fail_msg("%s: %ld", paths[i], r.status);
        assert_null(strstr(r.body, "root:"));
        tapi_free(&r);
    }
    /* a file put in the store by hand but used by no product is not served */
    char file[4096];
    const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/01", getenv("CHOSO_MEDIA_DIR"));
    mkdir(dir, 0755);
    media_file(sha, file, sizeof file);
    assert_int_equal(tsup_write_file(file, "secret"), 0);
    char url[100];
    snprintf(url, sizeof url, "/media/%s", sha);
    tapi_resp r = tapi_call("GET", url, NULL, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_serve_dedupe),
        cmocka_unit_test(test_types_and_sizes),
        cmocka_unit_test(test_count_order_positions),
        cmocka_unit_test(test_media_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
