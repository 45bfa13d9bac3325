/* tests/support/tapi: the in-process server, tokens and a libcurl client for the API
 * integration tests. Test code only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tests/support/tapi.h"
#include "connectors/assisted.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/vn.h"
#include "service/server.h"
#include "tests/support/tsup.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static svc_server *server;
static char base[64];
static cs_db *own_db;
static int serial;

void tapi_start(void)
{
    tsup_require_db();
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_set("crypto.pin_scrypt_n", "1024", &e) || cs_config_set("http.port", "0", &e) ||
        cs_config_set("http.address", "127.0.0.1", &e) ||
        cs_crypto_init(cs_cfg_str("crypto.key_file"), &e) || cs_db_pool_init(&e)) {
        fprintf(stderr, "tapi_start: %s %s\n", cs_code_name(e.code), e.detail);
        exit(1);
    }
    /* as `choso serve` does (cli_setup): the marketplaces configured as data join the table */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data", cs_cfg_str("schema.dir"));
    if (cx_assisted_load(dir, &e) < 0) {
        fprintf(stderr, "tapi_start: assisted marketplaces: %s\n", e.detail);
        exit(1);
    }
    curl_global_init(CURL_GLOBAL_ALL);
    server = svc_server_start(&e);
    if (!server) {
        fprintf(stderr, "tapi_start: server: %s %s %s\n", cs_code_name(e.code), e.detail,
                e.nfields ? e.fields[0].field : "");
        exit(1);
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%u", svc_server_port(server));
    own_db = cs_db_connect(&e);
    if (!own_db) {
        fprintf(stderr, "tapi_start: connect: %s %s\n", cs_code_name(e.code), e.detail);
        exit(1);
    }
}

void tapi_stop(void)
{
    if (server) svc_server_stop(server, 5);
    server = NULL;
    if (own_db) cs_db_close(own_db);
    own_db = NULL;
    cs_db_pool_shutdown();
    cs_crypto_shutdown();
    curl_global_cleanup();
}

const char *tapi_base(void)
{
    return base;
}
cs_db *tapi_db(void)
{
    return own_db;
}

int64_t tapi_token(const char *role, const char *const *communes, char out[44])
{
    unsigned char h[32];
    if (cs_random_token(out)) fail_msg("random token");
    cs_token_hash(out, h);
    char name[48];
    tsup_unique(role, name, sizeof name);
    tsup_exec(own_db, "INSERT INTO tokens (name, role, token_hash) VALUES (?, ?, ?)", "ssb", name,
              role, h, (size_t)32);
    int64_t id = (int64_t)cs_db_insert_id(own_db);
    for (const char *const *c = communes; c && *c; c++)
        tsup_exec(own_db, "INSERT INTO token_communes (token_id, commune_code) VALUES (?, ?)", "is",
                  id, *c);
    return id;
}

void tapi_revoke(int64_t id)
{
    tsup_exec(own_db, "UPDATE tokens SET revoked_at = UTC_TIMESTAMP() WHERE id = ?", "i", id);
}

struct sink {
    char *p;
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t add = size * nmemb;
    char *q = realloc(s->p, s->n + add + 1);
    if (!q) return 0;
    memcpy(q + s->n, ptr, add);
    s->n += add;
    q[s->n] = '\0';
    s->p = q;
    return add;
}

static tapi_resp perform(CURL *c, struct curl_slist *hl)
{
    tapi_resp r;
    memset(&r, 0, sizeof r);
    struct sink body = {NULL, 0}, hdr = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) fail_msg("curl: %s", curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.body = body.p ? body.p : calloc(1, 1);
    r.len = body.n;
    r.headers = hdr.p ? hdr.p : calloc(1, 1);
    if (r.len) r.json = json_loadb(r.body, r.len, 0, NULL);
    return r;
}

static struct curl_slist *add_headers(struct curl_slist *hl, const char *token,
                                      const char *const *headers)
{
    char auth[128];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    for (const char *const *h = headers; h && *h; h++)
        hl = curl_slist_append(hl, *h);
    return hl;
}

tapi_resp tapi_req(const char *method, const char *path, const char *token,
                   const char *const *headers, const char *ctype, const void *body, size_t len)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[4096];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "../" as written: the server must cope */
    struct curl_slist *hl = NULL;
    char ct[160];
    if (body || ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
        hl = curl_slist_append(hl, ct);
    }
    hl = curl_slist_append(hl, "Expect:");
    hl = add_headers(hl, token, headers);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET"))
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (!strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    tapi_resp r = perform(c, hl);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r;
}

tapi_resp tapi_call(const char *method, const char *path, const char *token, const char *json)
{
    return tapi_req(method, path, token, NULL, NULL, json, json ? strlen(json) : 0);
}

tapi_resp tapi_upload(const char *path, const char *token, const void *bytes, size_t len,
                      const char *filename, const char *position, const char *const *headers)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[4096];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "image");
    curl_mime_data(p, bytes, len);
    curl_mime_filename(p, filename ? filename : "anh.jpg");
    curl_mime_type(p, "application/octet-stream");
    if (position) {
        p = curl_mime_addpart(m);
        curl_mime_name(p, "position");
        curl_mime_data(p, position, CURL_ZERO_TERMINATED);
    }
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    hl = add_headers(hl, token, headers);
    tapi_resp r = perform(c, hl);
    curl_slist_free_all(hl);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    return r;
}

tapi_resp tapi_owner_upload(const char *path, const char *pin, const void *bytes, size_t len)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[4096];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p;
    if (pin) {
        p = curl_mime_addpart(m);
        curl_mime_name(p, "pin");
        curl_mime_data(p, pin, CURL_ZERO_TERMINATED);
    }
    p = curl_mime_addpart(m);
    curl_mime_name(p, "image");
    curl_mime_data(p, bytes, len);
    curl_mime_filename(p, "man-hinh.png");
    curl_mime_type(p, "application/octet-stream");
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    tapi_resp r = perform(c, hl);
    curl_slist_free_all(hl);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    return r;
}

const char *tapi_header(const tapi_resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *l = r->headers; l && *l;) {
        const char *e = strstr(l, "\r\n");
        size_t ll = e ? (size_t)(e - l) : strlen(l);
        if (ll > nl && l[nl] == ':' && !strncasecmp(l, name, nl)) {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = ll - (size_t)(v - l);
            if (vl >= n) vl = n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        l = e ? e + 2 : l + ll;
    }
    return NULL;
}

void tapi_free(tapi_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

char *tapi_household_body(int age, const char *commune, char cccd[13], char phone[11])
{
    vn_date t = vn_today();
    int y = t.y - age;
    serial++;
    snprintf(cccd, 13, "038%d%02d%06d", y >= 2000 ? 3 : 1, y % 100,
             (100000 + serial * 7 + (int)(getpid() % 5000)) % 1000000);
    snprintf(phone, 11, "091%07d", (1000000 + serial * 13 + (int)(getpid() % 5000)) % 10000000);
    char date[16];
    snprintf(date, sizeof date, "01/01/%d", y);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "owner_name", "Lê Thị Hoa", "cccd",
                          cccd, "phone", phone, "birth_date", date, "commune_code", commune,
                          "address", "Thôn Đông, xã Hoằng Thanh", "business_name",
                          "Hộ kinh doanh Hoa Nem", "consent", 1);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

void tapi_seed(const char *tok, const char *commune, char code[24], const char *name,
               int64_t *product)
{
    char cccd[13], phone[11];
    char *b = tapi_household_body(30, commune, cccd, phone);
    tapi_resp r = tapi_call("POST", "/v1/households", tok, b);
    free(b);
    assert_int_equal(r.status, 201);
    snprintf(code, 24, "%s", json_string_value(json_object_get(r.json, "code")));
    tapi_free(&r);
    if (!product) return;
    char path[64];
    snprintf(path, sizeof path, "/v1/households/%s/products", code);
    b = tapi_product_body(name);
    r = tapi_call("POST", path, tok, b);
    free(b);
    assert_int_equal(r.status, 201);
    *product = json_integer_value(json_object_get(r.json, "id"));
    tapi_free(&r);
}

char *tapi_product_body(const char *name)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:i,s:i}", "name", name, "description",
                          "Nem chua Thanh Hóa làm từ thịt lợn tươi, gói lá chuối.", "category",
                          "food_dish", "price_vnd", 150000, "stock", 20, "weight_g", 500);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* 1×1 RGBA PNG */
static const unsigned char png1[] = {
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82};
/* JPEG markers only: SOI, APP0 (JFIF), SOF0 3×2, EOI */
static const unsigned char jpeg1[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',
                                      'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
                                      0x00, 0x00, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x02,
                                      0x00, 0x03, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9};
/* WebP extended header (VP8X) for a 4×5 canvas */
static const unsigned char webp1[] = {'R',  'I',  'F',  'F',  0x16, 0x00, 0x00, 0x00, 'W',  'E',
                                      'B',  'P',  'V',  'P',  '8',  'X',  0x0A, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x04, 0x00, 0x00};

const unsigned char *tapi_png(size_t *len)
{
    *len = sizeof png1;
    return png1;
}
const unsigned char *tapi_jpeg(size_t *len)
{
    *len = sizeof jpeg1;
    return jpeg1;
}
const unsigned char *tapi_webp(size_t *len)
{
    *len = sizeof webp1;
    return webp1;
}
