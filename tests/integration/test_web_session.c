/* The web room's server side: static files of web.dir with the security headers and validators,
 * no way out of web.dir; sign-in sessions (cookie flags, hash-only storage, the cookie as
 * credentials, X-CSRF-Token required on every non-GET request made with it, sign-out, revoked
 * tokens); the owner's receipt QR code (right address, never the PIN, commune scope). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/crypto.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define COMMUNE "14797"
#define OTHER_COMMUNE "16522"
static char tok_admin[44], tok_vol[44], tok_mon[44], tok_other[44];
static char webdir[4096];

static void write_file(const char *name, const char *text)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", webdir, name);
    assert_int_equal(tsup_write_file(p, text), 0);
}

static int setup(void **state)
{
    (void)state;
    tapi_start();
    char *d = tsup_tmpdir("web");
    snprintf(webdir, sizeof webdir, "%s", d);
    free(d);
    write_file("index.html", "<!doctype html><title>Chợ Số</title><p>đăng nhập</p>\n");
    write_file("app.js", "'use strict';\n");
    write_file("site.css", "body{margin:0}\n");
    write_file(".secret.html", "hidden\n");
    write_file("notes.exe", "MZ\n");
    char p[4200];
    snprintf(p, sizeof p, "%s/passwd.txt", webdir);
    assert_int_equal(symlink("/etc/passwd", p), 0);
    snprintf(p, sizeof p, "%s/sub.html", webdir);
    assert_int_equal(mkdir(p, 0755), 0);
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("web.dir", webdir, &e), 0);
    assert_int_equal(cs_config_set("http.public_url", "http://127.0.0.1:9/", &e), 0);
    const char *mine[] = {COMMUNE, NULL}, *other[] = {OTHER_COMMUNE, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("monitor", NULL, tok_mon);
    tapi_token("volunteer", mine, tok_vol);
    tapi_token("volunteer", other, tok_other);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    tsup_rm_rf(webdir);
    return 0;
}

static const char *hdr(const tapi_resp *r, const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    return tapi_header(r, name, buf[k], sizeof buf[k]);
}

static void assert_page_headers(const tapi_resp *r)
{
    const char *csp = hdr(r, "Content-Security-Policy");
    assert_non_null(csp);
    const char *want[] = {"default-src 'self'",     "script-src 'self'",
                          "style-src 'self'",       "img-src 'self' data: blob:",
                          "frame-ancestors 'none'", "form-action 'self'",
                          "base-uri 'none'"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strstr(csp, want[i]));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_string_equal(hdr(r, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(hdr(r, "Referrer-Policy"), "no-referrer");
    assert_non_null(strstr(hdr(r, "Permissions-Policy"), "camera=(self)"));
}

/* --- static files ------------------------------------------------------------------------ */

static void test_static_files(void **state)
{
    (void)state;
    tapi_resp r = tapi_call("GET", "/", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "đăng nhập"));
    assert_page_headers(&r);
    assert_string_equal(hdr(&r, "Cache-Control"), "no-cache");
    assert_non_null(hdr(&r, "Last-Modified"));
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hdr(&r, "ETag"));
    assert_true(strlen(etag) > 2 && etag[0] == '"');
    tapi_free(&r);

    /* the same file by name, and a 304 for the validator */
    char inm[200];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    r = tapi_req("GET", "/index.html", NULL, h, NULL, NULL, 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    tapi_free(&r);

    r = tapi_call("GET", "/app.js", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "text/javascript; charset=utf-8");
    assert_page_headers(&r);
    tapi_free(&r);
    r = tapi_call("GET", "/site.css", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "text/css; charset=utf-8");
    tapi_free(&r);
    r = tapi_call("HEAD", "/site.css", NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);

    /* a changed file gets a new validator */
    write_file("app.js", "'use strict';\nconsole.log(1);\n");
    r = tapi_req("GET", "/app.js", NULL, h, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_not_equal(hdr(&r, "ETag"), etag);
    tapi_free(&r);
}

/* Text files go gzip'd to a client that takes it (issue 13: slow 3G), with their own validator
 * and Vary; the bytes inflate to the file; q=0 and no Accept-Encoding get the file as it is. */
static void test_static_gzip(void **state)
{
    (void)state;
    char *text = malloc(40001);
    assert_non_null(text);
    for (int i = 0; i < 40000; i++)
        text[i] = "const a = 'Chợ Số';\n"[i % 21];
    text[40000] = 0;
    write_file("big.js", text);
    const char *gz[] = {"Accept-Encoding: gzip, deflate, br", NULL};
    tapi_resp r = tapi_req("GET", "/big.js", NULL, gz, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Encoding"), "gzip");
    assert_string_equal(hdr(&r, "Vary"), "Accept-Encoding");
    assert_string_equal(hdr(&r, "Content-Type"), "text/javascript; charset=utf-8");
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hdr(&r, "ETag"));
    assert_non_null(strstr(etag, "-gz\""));
    assert_true(r.len < 4000); /* 40 KB of repeated text */
    assert_true((unsigned char)r.body[0] == 0x1f && (unsigned char)r.body[1] == 0x8b);
    unsigned char *out = malloc(50000);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (unsigned char *)r.body;
    z.avail_in = (uInt)r.len;
    z.next_out = out;
    z.avail_out = 50000;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, 40000);
    assert_memory_equal(out, text, 40000);
    inflateEnd(&z);
    free(out);
    tapi_free(&r);
    /* the gzip validator answers 304; the same again from the cache of compressed files */
    char inm[200];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h304[] = {gz[0], inm, NULL};
    r = tapi_req("GET", "/big.js", NULL, h304, NULL, NULL, 0);
    assert_int_equal(r.status, 304);
    tapi_free(&r);
    r = tapi_req("GET", "/big.js", NULL, gz, NULL, NULL, 0);
    assert_string_equal(hdr(&r, "Content-Encoding"), "gzip");
    assert_true(r.len < 4000);
    tapi_free(&r);
    /* refused or not offered: the file as it is */
    const char *no[] = {"Accept-Encoding: gzip;q=0, identity", NULL};
    r = tapi_req("GET", "/big.js", NULL, no, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_null(hdr(&r, "Content-Encoding"));
    assert_int_equal(r.len, 40000);
    assert_null(strstr(hdr(&r, "ETag"), "-gz"));
    tapi_free(&r);
    r = tapi_call("GET", "/big.js", NULL, NULL);
    assert_null(hdr(&r, "Content-Encoding"));
    assert_memory_equal(r.body, text, 40000);
    tapi_free(&r);
    free(text);
}

static void test_traversal_refused(void **state)
{
    (void)state;
    /* percent-encoded so the client sends them as they are; the server decodes */
    const char *paths[] = {"/.secret.html",
                           "/passwd.txt",
                           "/sub.html",
                           "/notes.exe",
                           "/%2e%2e",
                           "/..%2f..%2fetc%2fpasswd",
                           "/%2e%2e%2fetc%2fpasswd",
                           "/app.js%2f",
                           "/nope.html",
                           "/a%5cb.html"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        tapi_resp r = tapi_call("GET", paths[i], NULL, NULL);
        if (r.status != 404) fail_msg("%s: status %ld", paths[i], r.status);
        assert_null(strstr(r.body, "root:"));
        assert_null(strstr(r.body, "hidden"));
        assert_page_headers(&r);
        tapi_free(&r);
    }
    /* static files are read-only */
    tapi_resp r = tapi_call("POST", "/index.html", NULL, "{}");
    assert_int_equal(r.status, 405);
    tapi_free(&r);
}

/* --- sessions ------------------------------------------------------------------------------ */

/* Sign in with `token`; the cookie value into sid[44], the csrf into csrf[44]. Returns the
 * Set-Cookie header (static buffer). */
static const char *sign_in(const char *token, char sid[44], char csrf[44])
{
    char body[128];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    tapi_resp r = tapi_call("POST", "/v1/session", NULL, body);
    assert_int_equal(r.status, 201);
    static char sc[512];
    assert_non_null(tapi_header(&r, "Set-Cookie", sc, sizeof sc));
    assert_int_equal(strncmp(sc, "choso_session=", 14), 0);
    size_t n = strcspn(sc + 14, ";");
    assert_int_equal(n, 43);
    memcpy(sid, sc + 14, n);
    sid[n] = '\0';
    const char *c = json_string_value(json_object_get(r.json, "csrf"));
    assert_non_null(c);
    assert_int_equal(strlen(c), 43);
    snprintf(csrf, 44, "%s", c);
    assert_string_not_equal(csrf, sid);
    tapi_free(&r);
    return sc;
}

static tapi_resp with_cookie(const char *method, const char *path, const char *sid,
                             const char *csrf, const char *json)
{
    char ck[128], cs[128];
    snprintf(ck, sizeof ck, "Cookie: theme=dark; choso_session=%s; other=1", sid);
    snprintf(cs, sizeof cs, "X-CSRF-Token: %s", csrf ? csrf : "");
    const char *h[] = {ck, csrf ? cs : NULL, NULL};
    return tapi_req(method, path, NULL, h, NULL, json, json ? strlen(json) : 0);
}

static void test_sign_in_cookie_flags(void **state)
{
    (void)state;
    char sid[44], csrf[44];
    const char *sc = sign_in(tok_vol, sid, csrf);
    assert_non_null(strstr(sc, "; HttpOnly"));
    assert_non_null(strstr(sc, "; SameSite=Strict"));
    assert_non_null(strstr(sc, "; Path=/"));
    assert_non_null(strstr(sc, "; Max-Age=43200"));
    assert_null(strstr(sc, "Secure")); /* public_url is http */

    /* only the hash is stored */
    unsigned char h[32];
    cs_token_hash(sid, h);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", "b", h, (size_t)32),
        1);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM sessions WHERE csrf = ? AND id_hash <> ?", "sb",
                              sid, h, (size_t)32),
                     0);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM audit_log WHERE action = 'session.create'", ""),
        1);

    /* who am I */
    tapi_resp r = with_cookie("GET", "/v1/session", sid, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "role")), "volunteer");
    assert_string_equal(json_string_value(json_object_get(r.json, "csrf")), csrf);
    assert_string_equal(json_string_value(json_object_get(r.json, "consent_version")),
                        cs_cfg_str("consent.version"));
    json_t *cm = json_object_get(r.json, "communes");
    assert_int_equal(json_array_size(cm), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cm, 0), "code")), COMMUNE);
    assert_non_null(json_string_value(json_object_get(json_array_get(cm, 0), "name")));
    tapi_free(&r);

    /* behind https the cookie is Secure */
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("http.public_url", "https://choso.example.vn", &e), 0);
    char sid2[44], csrf2[44];
    sc = sign_in(tok_mon, sid2, csrf2);
    assert_non_null(strstr(sc, "; Secure"));
    assert_int_equal(cs_config_set("http.public_url", "http://127.0.0.1:9/", &e), 0);
}

static void test_sign_in_refused(void **state)
{
    (void)state;
    tapi_resp r = tapi_call("POST", "/v1/session", NULL,
                            "{\"token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
    assert_int_equal(r.status, 401);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "token_invalid");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "errors"), 0), "field")),
                        "token");
    char tmp[64];
    assert_null(tapi_header(&r, "Set-Cookie", tmp, sizeof tmp));
    tapi_free(&r);
    r = tapi_call("POST", "/v1/session", NULL, "{}");
    assert_int_equal(r.status, 422);
    tapi_free(&r);
    /* no session: who am I → 401 */
    r = tapi_call("GET", "/v1/session", NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
}

static void test_csrf_required(void **state)
{
    (void)state;
    char sid[44], csrf[44];
    sign_in(tok_vol, sid, csrf);
    char cccd[13], phone[11];
    char *b = tapi_household_body(25, COMMUNE, cccd, phone);

    /* reading needs no csrf */
    tapi_resp r = with_cookie("GET", "/v1/households", sid, NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);

    /* a change without it, or with a wrong one, is refused before anything happens */
    int64_t before = tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", "");
    r = with_cookie("POST", "/v1/households", sid, NULL, b);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "csrf_failed");
    tapi_free(&r);
    char wrong[44];
    memcpy(wrong, csrf, 44);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    r = with_cookie("POST", "/v1/households", sid, wrong, b);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = with_cookie("POST", "/v1/households", sid, "", b);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", ""), before);

    /* with it: done, as the session's token */
    r = with_cookie("POST", "/v1/households", sid, csrf, b);
    assert_int_equal(r.status, 201);
    const char *code = json_string_value(json_object_get(r.json, "code"));
    assert_non_null(code);
    tapi_free(&r);
    assert_int_equal(tsup_i64(tapi_db(), "SELECT COUNT(*) FROM households", ""), before + 1);
    free(b);

    /* a bearer token decides on its own, cookie or not: no csrf needed */
    b = tapi_household_body(26, COMMUNE, cccd, phone);
    char ck[128];
    snprintf(ck, sizeof ck, "Cookie: choso_session=%s", sid);
    const char *h[] = {ck, NULL};
    r = tapi_req("POST", "/v1/households", tok_vol, h, NULL, b, strlen(b));
    assert_int_equal(r.status, 201);
    tapi_free(&r);
    free(b);

    /* the session keeps the token's role and communes */
    b = tapi_household_body(26, OTHER_COMMUNE, cccd, phone);
    r = with_cookie("POST", "/v1/households", sid, csrf, b);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "forbidden_commune");
    tapi_free(&r);
    free(b);
    char msid[44], mcsrf[44];
    sign_in(tok_mon, msid, mcsrf);
    b = tapi_household_body(26, COMMUNE, cccd, phone);
    r = with_cookie("POST", "/v1/households", msid, mcsrf, b);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "forbidden");
    tapi_free(&r);
    free(b);
}

static void test_sign_out_and_revocation(void **state)
{
    (void)state;
    char sid[44], csrf[44];
    sign_in(tok_vol, sid, csrf);
    tapi_resp r = with_cookie("DELETE", "/v1/session", sid, NULL, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = with_cookie("DELETE", "/v1/session", sid, csrf, NULL);
    assert_int_equal(r.status, 204);
    const char *sc = hdr(&r, "Set-Cookie");
    assert_non_null(sc);
    assert_non_null(strstr(sc, "choso_session=;"));
    assert_non_null(strstr(sc, "Max-Age=0"));
    tapi_free(&r);
    unsigned char h[32];
    cs_token_hash(sid, h);
    assert_int_equal(
        tsup_i64(tapi_db(), "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", "b", h, (size_t)32),
        0);
    r = with_cookie("GET", "/v1/session", sid, NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "session_expired");
    assert_non_null(strstr(hdr(&r, "Set-Cookie"), "Max-Age=0"));
    tapi_free(&r);

    /* a revoked token ends its sessions at once */
    char t[44];
    int64_t id = tapi_token("volunteer", (const char *const[]){COMMUNE, NULL}, t);
    sign_in(t, sid, csrf);
    r = with_cookie("GET", "/v1/households", sid, NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    tapi_revoke(id);
    r = with_cookie("GET", "/v1/households", sid, NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);

    /* an expired session, a malformed cookie */
    sign_in(tok_vol, sid, csrf);
    cs_token_hash(sid, h);
    tsup_exec(
        tapi_db(),
        "UPDATE sessions SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE id_hash = ?",
        "b", h, (size_t)32);
    r = with_cookie("GET", "/v1/households", sid, NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    r = with_cookie("GET", "/v1/households", "short'value", NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    /* pages and the owner's status need no session, so a stale cookie does not block them */
    r = with_cookie("GET", "/", "short'value", NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
}

/* --- the receipt ------------------------------------------------------------------------------ */

/* The path data the receipt must hold for `url` (same drawing rules as the service: 6 px
 * modules, 4-module quiet zone, one sub-path per run of dark modules). */
static char *expected_path(const char *url, int *side)
{
    QRcode *q = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    assert_non_null(q);
    size_t cap = 64 * 1024, len = 0;
    char *d = malloc(cap);
    d[0] = '\0';
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width;) {
            if (!(q->data[y * q->width + x] & 1)) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < q->width && (q->data[y * q->width + x] & 1))
                x++;
            if (len + 64 > cap) d = realloc(d, cap *= 2);
            len += (size_t)snprintf(d + len, cap - len, "M%d %dh%dv%dh-%dz", (x0 + 4) * 6,
                                    (y + 4) * 6, (x - x0) * 6, 6, (x - x0) * 6);
        }
    *side = (q->width + 8) * 6;
    QRcode_free(q);
    return d;
}

static void test_receipt_svg(void **state)
{
    (void)state;
    char cccd[13], phone[11];
    char *b = tapi_household_body(24, COMMUNE, cccd, phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok_vol, b);
    free(b);
    assert_int_equal(r.status, 201);
    char code[24], pin[8];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    snprintf(pin, sizeof pin, "%s", json_string_value(json_object_get(r.json, "pin")));
    assert_int_equal(strlen(pin), 6);
    tapi_free(&r);

    char path[96];
    snprintf(path, sizeof path, "/v1/households/%s/receipt.svg", code);
    r = tapi_call("GET", path, tok_vol, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "image/svg+xml");
    assert_int_equal(strncmp(r.body, "<svg ", 5), 0);
    assert_non_null(strstr(r.body, code));
    assert_null(strstr(r.body, pin));
    assert_null(strstr(r.body, "<script"));
    assert_null(strstr(r.body, "style="));
    /* the QR code is exactly the status page address with the code and nothing else */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:9/owner.html#code=%s", code);
    int side;
    char *d = expected_path(url, &side);
    assert_non_null(strstr(r.body, d));
    char vb[64];
    snprintf(vb, sizeof vb, "viewBox=\"0 0 %d %d\"", side, side + 120);
    assert_non_null(strstr(r.body, vb));
    free(d);
    tapi_free(&r);

    /* a session works too (GET: no csrf) */
    char sid[44], csrf[44];
    sign_in(tok_vol, sid, csrf);
    r = with_cookie("GET", path, sid, NULL, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);

    /* who may not */
    r = tapi_call("GET", path, tok_mon, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("GET", path, tok_other, NULL);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "forbidden_commune");
    tapi_free(&r);
    r = tapi_call("GET", path, NULL, NULL);
    assert_int_equal(r.status, 401);
    tapi_free(&r);
    r = tapi_call("GET", "/v1/households/TH-1999-99999/receipt.svg", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_files),         cmocka_unit_test(test_traversal_refused),
        cmocka_unit_test(test_sign_in_cookie_flags), cmocka_unit_test(test_sign_in_refused),
        cmocka_unit_test(test_csrf_required),        cmocka_unit_test(test_sign_out_and_revocation),
        cmocka_unit_test(test_receipt_svg),          cmocka_unit_test(test_static_gzip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
