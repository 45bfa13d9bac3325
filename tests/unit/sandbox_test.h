/* tests/unit/sandbox_test: helpers shared by the test_sandbox_* binaries — start the simulators
 * in-process on random loopback ports and talk to them with libcurl. Test code only. The
 * credentials, signatures and canned bodies they share with test_cx_* are tests/support/tmarket. */
#ifndef TESTS_SANDBOX_TEST_H
#define TESTS_SANDBOX_TEST_H
#include "sandbox/sandbox.h"
#include "connectors/sign.h"
#include "core/buf.h"
#include "core/mem.h"
#include "tests/support/tmarket.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sbt_resp {
    CURLcode rc;
    long status;
    cs_buf body;
    char location[4096];
} sbt_resp;

static inline size_t sbt_write(char *p, size_t s, size_t n, void *u)
{
    return cs_buf_append(u, p, s * n) ? 0 : s * n;
}

static inline void sbt_free(sbt_resp *r)
{
    cs_buf_free(&r->body);
}

/* One request. body may be NULL. headers: NULL-terminated "Name: value" list or NULL.
 * mime (optional) makes it a multipart POST. Returns the parsed JSON body (or NULL). */
static inline json_t *sbt_req(const char *method, const char *url, const char *ctype,
                              const char *body, size_t len, const char *const *headers,
                              curl_mime *mime, long timeout_ms, sbt_resp *r)
{
    memset(r, 0, sizeof *r);
    cs_buf_init(&r->body, 32u << 20);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ct[200];
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (mime) curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sbt_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *loc = NULL;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
    if (loc) snprintf(r->location, sizeof r->location, "%s", loc);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (r->rc != CURLE_OK || !r->body.len) return NULL;
    json_error_t je;
    return json_loadb(r->body.data, r->body.len, 0, &je);
}

static inline json_t *sbt_get(const char *url, sbt_resp *r)
{
    return sbt_req("GET", url, NULL, NULL, 0, NULL, NULL, 0, r);
}

static inline json_t *sbt_post_json(const char *url, const char *json, sbt_resp *r)
{
    return sbt_req("POST", url, "application/json", json, strlen(json), NULL, NULL, 0, r);
}

/* POST a JSON body to an admin endpoint of the simulator listening at base; returns the reply. */
static inline json_t *sbt_admin(const char *base, const char *ep, const char *json)
{
    char url[512];
    sbt_resp r;
    snprintf(url, sizeof url, "%s/__sandbox/%s", base, ep);
    json_t *j = json ? sbt_post_json(url, json, &r) : sbt_get(url, &r);
    sbt_free(&r);
    return j;
}

static inline const char *sbt_str(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

/* Value of a query parameter in a URL (decoded only for %XX), into out. */
static inline int sbt_url_param(const char *url, const char *key, char *out, size_t n)
{
    const char *q = strchr(url, '?');
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
        const char *k = p + 1;
        if (!strncmp(k, key, kl) && k[kl] == '=') {
            const char *v = k + kl + 1;
            size_t i = 0;
            while (*v && *v != '&' && i + 1 < n) {
                if (*v == '%' && v[1] && v[2]) {
                    char hex[3] = {v[1], v[2], 0};
                    out[i++] = (char)strtol(hex, NULL, 16);
                    v += 3;
                } else {
                    out[i++] = *v++;
                }
            }
            out[i] = '\0';
            return 0;
        }
    }
    return -1;
}

/* Percent-encode s for a query value. */
static inline void sbt_escape(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (; *s && j + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
}

/* Options every test starts from: fast review, all ports random, the default credentials. */
static inline void sbt_options(sbx_options *o)
{
    sbx_options_default(o);
    o->review_delay_ms = 3600 * 1000; /* reviews finish only when a test forces them */
    o->categories = "shopee:100780=100037;shopee:100791;lazada:10003451=brand;lazada:10003470;"
                    "tiktok:700645=100107;tiktok:700662";
}

static inline sbx_sandbox *sbt_start(const sbx_options *o)
{
    sbx_sandbox *sb = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (sbx_start(o, &sb, &err)) {
        fprintf(stderr, "sandbox start failed: %s\n", err.detail);
        return NULL;
    }
    return sb;
}

/* ---- a webhook receiver: keeps every push body (up to 64) with its Authorization ---- */
static pthread_mutex_t sbt_push_mu = PTHREAD_MUTEX_INITIALIZER;
static char sbt_push_body[64][4096], sbt_push_auth[64][128];
static int sbt_push_n;

static inline enum MHD_Result sbt_push_rx(void *cls, struct MHD_Connection *c, const char *url,
                                          const char *method, const char *version, const char *data,
                                          size_t *size, void **ctx)
{
    (void)cls, (void)url, (void)method, (void)version;
    if (!*ctx) {
        cs_buf *b = calloc(1, sizeof *b);
        if (!b) return MHD_NO;
        cs_buf_init(b, 1 << 20);
        *ctx = b;
        return MHD_YES;
    }
    cs_buf *b = *ctx;
    if (*size) {
        cs_buf_append(b, data, *size);
        *size = 0;
        return MHD_YES;
    }
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&sbt_push_mu);
    if (sbt_push_n < 64) {
        snprintf(sbt_push_body[sbt_push_n], sizeof sbt_push_body[0], "%s", b->data ? b->data : "");
        snprintf(sbt_push_auth[sbt_push_n], sizeof sbt_push_auth[0], "%s", a ? a : "");
        sbt_push_n++;
    }
    pthread_mutex_unlock(&sbt_push_mu);
    cs_buf_free(b);
    free(b);
    *ctx = NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static inline struct MHD_Daemon *sbt_push_start(unsigned *port)
{
    pthread_mutex_lock(&sbt_push_mu);
    sbt_push_n = 0;
    pthread_mutex_unlock(&sbt_push_mu);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                            sbt_push_rx, NULL, MHD_OPTION_END);
    if (d) *port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

/* Wait (at most ~10 s; delivery is asynchronous) for a push whose body contains needle. */
static inline int sbt_push_wait(const char *needle, char *body, size_t bn, char *auth, size_t an)
{
    for (int tries = 0; tries < 1000; tries++) {
        pthread_mutex_lock(&sbt_push_mu);
        for (int i = 0; i < sbt_push_n; i++)
            if (strstr(sbt_push_body[i], needle)) {
                snprintf(body, bn, "%s", sbt_push_body[i]);
                snprintf(auth, an, "%s", sbt_push_auth[i]);
                pthread_mutex_unlock(&sbt_push_mu);
                return 0;
            }
        pthread_mutex_unlock(&sbt_push_mu);
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    return -1;
}

static inline long long sbt_now(void)
{
    return (long long)time(NULL);
}

static inline long long sbt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
#endif
