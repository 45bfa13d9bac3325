/* tests/support/tmarket: marketplace fixtures shared by the connector tests (test_cx_*) and the
 * simulator tests (test_sandbox_*, test_flows): the credentials the simulators accept, the
 * signatures made from each marketplace's documented recipe (HMAC over the documented text, not
 * through connectors/sign.c, so they check it), signed Shopee URLs, push authorisations and
 * canned bodies. Test code only: never linked into choso or choso-sandbox. */
#ifndef TMARKET_H
#define TMARKET_H
#include <stddef.h>

/* What the simulators accept by default (sandbox/sandbox.def); test values, not secrets. */
#define TM_SHOPEE_PARTNER_ID 2001887LL
#define TM_SHOPEE_PARTNER_ID_TEXT "2001887"
#define TM_SHOPEE_PARTNER_KEY "sandbox-shopee-partner-key"
#define TM_LAZADA_APP_KEY "100001"
#define TM_LAZADA_APP_SECRET "sandbox-lazada-app-secret"
#define TM_TIKTOK_APP_KEY "sbx29a39d"
#define TM_TIKTOK_APP_SECRET "sandbox-tiktok-app-secret"

/* Shopee v2 sign: lowercase hex HMAC-SHA256(partner_key, base string), into out[65]. */
void tm_shopee_mac(const char *key, const char *base, char out[65]);
/* A signed Shopee v2 URL into out: host + path + "?partner_id=…&timestamp=…" (shop calls add
 * "&access_token=…&shop_id=…" when token is not NULL) + "&sign=…" + extra (may be NULL). The
 * base string is partner_id, path, timestamp[, access_token, shop_id] as the documents say. */
void tm_shopee_url(char *out, size_t n, const char *host, const char *path, const char *key,
                   long long partner_id, long long ts, const char *token, const char *shop_id,
                   const char *extra);
/* Lazada sign: uppercase hex HMAC-SHA256(app_secret, text) where text is the API path followed
 * by the sorted parameters, key then value, as the caller wrote it. */
void tm_lazada_mac(const char *secret, const char *text, char out[65]);
/* TikTok Shop 202309 sign: lowercase hex HMAC-SHA256(secret, secret + text + secret). */
void tm_tiktok_mac(const char *secret, const char *text, char out[65]);

/* Push notifications' Authorization: Shopee HMAC(partner_key, url + "|" + body), Lazada
 * HMAC(app_secret, app_key + body), lowercase hex. */
void tm_shopee_push_auth(const char *key, const char *url, const char *body, char out[65]);
void tm_lazada_push_auth(const char *app_key, const char *secret, const char *body, char out[65]);

/* A minimal PNG (signature and IHDR: 64×48), enough for the magic and size checks; writes
 * TM_PNG_LEN bytes to out and returns TM_PNG_LEN. */
#define TM_PNG_LEN 33
size_t tm_png(unsigned char *out);

/* The mandatory "origin: Việt Nam" attribute of the simulators' test categories, as each
 * marketplace's create call carries it (Shopee attribute_list, TikTok product_attributes). */
#define TM_SHOPEE_ORIGIN_ATTRS                                                                     \
    "[{\"attribute_id\":100037,\"attribute_value_list\":[{\"value_id\":0,\"original_value_name\":" \
    "\"Việt Nam\"}]}]"
#define TM_TIKTOK_ORIGIN_ATTRS "[{\"id\":\"100107\",\"values\":[{\"name\":\"Việt Nam\"}]}]"
#endif
