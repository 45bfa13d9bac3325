/* Volunteers on the admin page (issue 13): created with a sealed phone and communes, a one-time
 * sign-in link that opens a 30-day device session with the volunteer token's scope; a link used
 * twice, expired or superseded is refused; the admin's "sign out everywhere", the volunteer's
 * "đăng xuất mọi thiết bị" and deactivation end the sessions. Server in-process, MariaDB of
 * scripts/run-tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/crypto.h"
#include "jobs/sheet.h"
#include "tests/support/tapi.h"
#include "tests/support/tsup.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMUNE_A "14797"
#define COMMUNE_B "16591"

static char tok_admin[44], tok_vol[44];

static int setup(void **state)
{
    (void)state;
    tapi_start();
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("http.public_url", "https://choso.example.vn/", &e), 0);
    const char *mine[] = {COMMUNE_A, NULL};
    tapi_token("admin", NULL, tok_admin);
    tapi_token("volunteer", mine, tok_vol);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tapi_stop();
    return 0;
}

static const char *hdr(const tapi_resp *r, const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    return tapi_header(r, name, buf[k], sizeof buf[k]);
}

/* The link text of an answer's sign-in object. */
static void link_of(const json_t *signin, char link[64])
{
    const char *url = json_string_value(json_object_get(signin, "url"));
    assert_non_null(url);
    assert_true(!strncmp(url, "https://choso.example.vn/#link=", 31));
    snprintf(link, 64, "%s", url + 31);
    assert_int_equal(strlen(link), 43);
    const char *svg = json_string_value(json_object_get(signin, "qr_svg"));
    assert_non_null(svg);
    assert_true(!strncmp(svg, "<svg", 4));
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "style"));
    assert_non_null(json_string_value(json_object_get(signin, "expires_at")));
}

static int64_t create(const char *body, char link[64])
{
    tapi_resp r = tapi_call("POST", "/v1/volunteers", tok_admin, body);
    if (r.status != 201) fail_msg("create → %ld %s", r.status, r.body);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    link_of(json_object_get(r.json, "signin"), link);
    tapi_free(&r);
    return id;
}

/* Use a link: the status; on 201 the session id and csrf. */
static long use_link(const char *link, char sid[44], char csrf[44])
{
    char b[128];
    snprintf(b, sizeof b, "{\"link\":\"%s\"}", link);
    tapi_resp r = tapi_call("POST", "/v1/session/link", NULL, b);
    long st = r.status;
    if (st == 201) {
        const char *sc = hdr(&r, "Set-Cookie");
        assert_non_null(sc);
        assert_non_null(strstr(sc, "Max-Age=2592000"));
        assert_non_null(strstr(sc, "HttpOnly"));
        assert_non_null(strstr(sc, "SameSite=Strict"));
        const char *v = strstr(sc, "choso_session=");
        assert_non_null(v);
        snprintf(sid, 44, "%.43s", v + 14);
        snprintf(csrf, 44, "%s", json_string_value(json_object_get(r.json, "csrf")));
        assert_string_equal(json_string_value(json_object_get(r.json, "role")), "volunteer");
    } else {
        assert_string_equal(json_string_value(json_object_get(r.json, "code")),
                            "signin_link_invalid");
        assert_null(hdr(&r, "Set-Cookie"));
    }
    tapi_free(&r);
    return st;
}

/* GET path with the session cookie: the status. */
static long with_cookie(const char *method, const char *path, const char *sid, const char *csrf)
{
    char ck[128], cs[128];
    snprintf(ck, sizeof ck, "Cookie: choso_session=%s", sid);
    snprintf(cs, sizeof cs, "X-CSRF-Token: %s", csrf ? csrf : "");
    const char *h[] = {ck, cs, NULL};
    tapi_resp r = tapi_req(method, path, NULL, h, NULL, NULL, 0);
    long st = r.status;
    tapi_free(&r);
    return st;
}

static void test_create_list_phone_sealed(void **state)
{
    (void)state;
    char link[64];
    int64_t id = create("{\"name\":\"Nguyễn Thị Lan\",\"phone\":\"+84 912 000 111\","
                        "\"communes\":[\"" COMMUNE_A "\",\"" COMMUNE_B "\"]}",
                        link);
    /* sealed at rest: the digits are nowhere in the row */
    cs_db *db = tapi_db();
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM volunteers WHERE token_id = ? AND phone IS NOT"
                              " NULL AND LOCATE('912000111', phone) = 0",
                              "i", id),
                     1);
    /* the link is stored by hash only */
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM signin_links WHERE token_id = ?", "i", id),
                     1);
    tapi_resp r = tapi_call("GET", "/v1/volunteers", tok_admin, NULL);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, link));
    json_t *items = json_object_get(r.json, "items"), *it;
    size_t i;
    int seen = 0;
    json_array_foreach(items, i, it)
    {
        if (json_integer_value(json_object_get(it, "id")) != id) continue;
        seen = 1;
        assert_string_equal(json_string_value(json_object_get(it, "phone")), "0912000111");
        assert_string_equal(json_string_value(json_object_get(it, "state")), "active");
        assert_int_equal(json_array_size(json_object_get(it, "communes")), 2);
    }
    assert_true(seen);
    tapi_free(&r);
    /* a volunteer token cannot list them; bad input is a 422 naming the field */
    r = tapi_call("GET", "/v1/volunteers", tok_vol, NULL);
    assert_int_equal(r.status, 403);
    tapi_free(&r);
    r = tapi_call("POST", "/v1/volunteers", tok_admin,
                  "{\"name\":\"X\",\"phone\":\"12\",\"communes\":[\"99999\"]}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"phone\""));
    tapi_free(&r);
    r = tapi_call("POST", "/v1/volunteers", tok_admin, "{\"name\":\"X\",\"communes\":[\"99999\"]}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"communes\""));
    tapi_free(&r);
}

static void test_link_once_scope_and_expiry(void **state)
{
    (void)state;
    char link[64], sid[44], csrf[44], sid2[44], csrf2[44];
    int64_t id = create("{\"name\":\"Lê Văn Bình\",\"communes\":[\"" COMMUNE_A "\"]}", link);
    assert_int_equal(use_link(link, sid, csrf), 201);
    /* used twice → refused */
    assert_int_equal(use_link(link, sid2, csrf2), 401);
    /* the session is the volunteer token's scope: its commune yes, another no */
    assert_int_equal(with_cookie("GET", "/v1/households?commune=" COMMUNE_A, sid, NULL), 200);
    assert_int_equal(with_cookie("GET", "/v1/households?commune=" COMMUNE_B, sid, NULL), 403);
    assert_int_equal(with_cookie("GET", "/v1/volunteers", sid, NULL), 403);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM sessions WHERE token_id = ? AND expires_at >"
                              " UTC_TIMESTAMP() + INTERVAL 29 DAY",
                              "i", id),
                     1);

    /* expired → refused */
    char path[80];
    snprintf(path, sizeof path, "/v1/volunteers/%lld/link", (long long)id);
    tapi_resp r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 201);
    char l2[64], l3[64];
    link_of(r.json, l2);
    tapi_free(&r);
    unsigned char h[32];
    cs_token_hash(l2, h);
    tsup_exec(tapi_db(),
              "UPDATE signin_links SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND"
              " WHERE link_hash = ?",
              "b", h, (size_t)32);
    assert_int_equal(use_link(l2, sid2, csrf2), 401);

    /* a newer link makes the earlier unused one void */
    r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, l2);
    tapi_free(&r);
    r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, l3);
    tapi_free(&r);
    assert_int_equal(use_link(l2, sid2, csrf2), 401);
    assert_int_equal(use_link(l3, sid2, csrf2), 201);
    assert_int_equal(with_cookie("GET", "/v1/session", sid2, NULL), 200);
    /* a link for no such volunteer */
    r = tapi_call("POST", "/v1/volunteers/999999999/link", tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    assert_int_equal(use_link("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", sid2, csrf2), 401);
}

static void test_revoke_kills_sessions(void **state)
{
    (void)state;
    char link[64], s1[44], c1[44], s2[44], c2[44];
    int64_t id = create("{\"name\":\"Hà Thị Mai\",\"communes\":[\"" COMMUNE_A "\"]}", link);
    assert_int_equal(use_link(link, s1, c1), 201);
    char path[80];
    snprintf(path, sizeof path, "/v1/volunteers/%lld/link", (long long)id);
    tapi_resp r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, link);
    tapi_free(&r);
    assert_int_equal(use_link(link, s2, c2), 201);
    assert_int_equal(with_cookie("GET", "/v1/session", s1, NULL), 200);
    assert_int_equal(with_cookie("GET", "/v1/session", s2, NULL), 200);

    /* the admin signs both devices out */
    snprintf(path, sizeof path, "/v1/volunteers/%lld/sessions", (long long)id);
    r = tapi_call("DELETE", path, tok_admin, NULL);
    assert_int_equal(r.status, 204);
    tapi_free(&r);
    assert_int_equal(with_cookie("GET", "/v1/session", s1, NULL), 401);
    assert_int_equal(with_cookie("GET", "/v1/session", s2, NULL), 401);

    /* the volunteer's own "đăng xuất mọi thiết bị": needs the CSRF value, ends both */
    snprintf(path, sizeof path, "/v1/volunteers/%lld/link", (long long)id);
    r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, link);
    tapi_free(&r);
    assert_int_equal(use_link(link, s1, c1), 201);
    r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, link);
    tapi_free(&r);
    assert_int_equal(use_link(link, s2, c2), 201);
    assert_int_equal(with_cookie("DELETE", "/v1/session/devices", s1, "wrong"), 403);
    assert_int_equal(with_cookie("GET", "/v1/session", s2, NULL), 200);
    assert_int_equal(with_cookie("DELETE", "/v1/session/devices", s1, c1), 204);
    assert_int_equal(with_cookie("GET", "/v1/session", s1, NULL), 401);
    assert_int_equal(with_cookie("GET", "/v1/session", s2, NULL), 401);

    /* deactivation: the session dies, an unused link dies, no new link */
    r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, link);
    tapi_free(&r);
    char spare[64];
    r = tapi_call("POST", path, tok_admin, NULL);
    link_of(r.json, spare);
    tapi_free(&r);
    assert_int_equal(use_link(spare, s1, c1), 201);
    snprintf(path, sizeof path, "/v1/volunteers/%lld/deactivate", (long long)id);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 200);
    tapi_free(&r);
    assert_int_equal(with_cookie("GET", "/v1/session", s1, NULL), 401);
    assert_int_equal(use_link(link, s2, c2), 401);
    snprintf(path, sizeof path, "/v1/volunteers/%lld/link", (long long)id);
    r = tapi_call("POST", path, tok_admin, NULL);
    assert_int_equal(r.status, 404);
    tapi_free(&r);
    /* audited, without the name */
    char idt[24];
    snprintf(idt, sizeof idt, "%lld", (long long)id);
    assert_int_equal(tsup_i64(tapi_db(),
                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'token' AND entity_id"
                              " = ? AND action IN ('volunteer.create', 'volunteer.deactivate',"
                              " 'session.revoke_all') AND IFNULL(detail, '') NOT LIKE '%Mai%'",
                              "s", idt) >= 4,
                     1);
}

/* Many at once: the sheet reader gives the page its rows, from CSV (Excel's ';' and BOM) and
 * from XLSX; a sheet without the commune column is refused naming it. */
static void test_sheet_rows(void **state)
{
    (void)state;
    const char *csv = "\xEF\xBB\xBFho_ten;so_dien_thoai;ma_xa\r\n"
                      "Nguyễn Văn An;0912 111 222;14797, 16591\r\n"
                      "Lê Thị Bé;;14797\r\n";
    tapi_resp r =
        tapi_req("POST", "/v1/volunteers/sheet", tok_admin, NULL, "text/csv", csv, strlen(csv));
    assert_int_equal(r.status, 200);
    json_t *rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 2);
    json_t *a = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Nguyễn Văn An");
    assert_int_equal(json_integer_value(json_object_get(a, "row")), 2);
    assert_int_equal(json_array_size(json_object_get(a, "communes")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "communes"), 1)),
                        "16591");
    tapi_free(&r);

    /* XLSX (written by the error-file writer: one more column, ignored) */
    char *dir = tsup_tmpdir("volsheet");
    char path[4200];
    snprintf(path, sizeof path, "%s/tnv.xlsx", dir);
    const char *header[] = {"Họ và tên", "Số điện thoại", "Mã xã"};
    const char *c1[] = {"Trần Thị Cúc", "0987654321", "16591"};
    sheet_reject rej[] = {{.row_no = 2, .cells = c1, .ncells = 3, .errors = "-"}};
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(sheet_errors_xlsx(header, 3, rej, 1, path, &e), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(path);
    tsup_rm_rf(dir);
    free(dir);
    r = tapi_req("POST", "/v1/volunteers/sheet", tok_admin, NULL,
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf, n);
    assert_int_equal(r.status, 200);
    rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "phone")),
                        "0987654321");
    tapi_free(&r);

    const char *bad = "ho_ten,so_dien_thoai\r\nAn,0912111222\r\n";
    r = tapi_req("POST", "/v1/volunteers/sheet", tok_admin, NULL, "text/csv", bad, strlen(bad));
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "ma_xa"));
    tapi_free(&r);
}

/* The admin's list a page at a time, newest first: pages join up without a gap or a repeat, the
 * last page has no cursor, a bad limit is a 422 naming it. */
static void test_list_pages(void **state)
{
    (void)state;
    char link[64];
    for (int i = 0; i < 5; i++)
        create("{\"name\":\"Trần Văn Trang\",\"communes\":[\"" COMMUNE_A "\"]}", link);
    tapi_resp all = tapi_call("GET", "/v1/volunteers?limit=200", tok_admin, NULL);
    assert_int_equal(all.status, 200);
    size_t n = json_array_size(json_object_get(all.json, "items"));
    assert_true(n >= 5);
    assert_true(json_is_null(json_object_get(all.json, "next_cursor")));
    char path[96] = "/v1/volunteers?limit=2";
    size_t got = 0;
    int64_t last = INT64_MAX;
    for (int page = 0; page < 200; page++) {
        tapi_resp r = tapi_call("GET", path, tok_admin, NULL);
        assert_int_equal(r.status, 200);
        json_t *items = json_object_get(r.json, "items"), *it;
        size_t i;
        json_array_foreach(items, i, it)
        {
            int64_t id = json_integer_value(json_object_get(it, "id"));
            assert_true(id < last); /* newest first, nothing twice */
            assert_int_equal(id,
                             json_integer_value(json_object_get(
                                 json_array_get(json_object_get(all.json, "items"), got), "id")));
            last = id;
            got++;
        }
        const char *next = json_string_value(json_object_get(r.json, "next_cursor"));
        if (next) {
            assert_int_equal(json_array_size(items), 2);
            snprintf(path, sizeof path, "/v1/volunteers?limit=2&after=%s", next);
        }
        tapi_free(&r);
        if (!next) break;
    }
    assert_int_equal(got, n);
    tapi_free(&all);
    tapi_resp r = tapi_call("GET", "/v1/volunteers?limit=0", tok_admin, NULL);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"limit\""));
    tapi_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_list_phone_sealed),
        cmocka_unit_test(test_link_once_scope_and_expiry),
        cmocka_unit_test(test_revoke_kills_sessions),
        cmocka_unit_test(test_sheet_rows),
        cmocka_unit_test(test_list_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
