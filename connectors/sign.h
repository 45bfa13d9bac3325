/* connectors/sign: request signatures and push verification for the API marketplaces, exactly
 * as MARKETPLACES.md documents them. Pure functions over bytes: no clock, no I/O, no config. */
#ifndef CX_SIGN_H
#define CX_SIGN_H
#include <stddef.h>

/* lowercase (upper=0) or UPPERCASE hex HMAC-SHA256 of msg under key; out is NUL-terminated. */
void cx_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n, int upper,
                        char out[65]);

typedef struct cx_param {
    const char *key;
    const char *value;
} cx_param;

/* Shopee v2 base string: partner_id + path + timestamp for a public call (access_token NULL),
 * partner_id + path + timestamp + access_token + shop_id for a shop call.
 * Returns 0, or -1 when out (outsz bytes, NUL included) is too small. */
int cx_shopee_base_string(long long partner_id, const char *path, long long ts,
                          const char *access_token, long long shop_id, char *out, size_t outsz);
/* Shopee sign: lowercase hex HMAC-SHA256(partner_key, base string). On an impossible base string
 * (path longer than 4 KiB) out is the empty string. */
void cx_shopee_sign(const char *partner_key, long long partner_id, const char *path, long long ts,
                    const char *access_token, long long shop_id, char out[65]);

/* Lazada: every parameter except "sign" sorted by key (ASCII, byte order), concatenated
 * key1value1key2value2…, path prepended, HMAC-SHA256(app_secret), UPPERCASE hex.
 * File parameters must not be passed. Returns 0 or -1 (OOM). */
int cx_lazada_sign(const char *app_secret, const char *path, const cx_param *params, size_t n,
                   char out[65]);

/* TikTok Shop 202309: query parameters except "sign" and "access_token" sorted by key,
 * concatenated, path prepended, raw body appended (pass body=NULL for multipart), wrapped as
 * secret + s + secret, HMAC-SHA256(app_secret), lowercase hex. Returns 0 or -1 (OOM). */
int cx_tiktok_sign(const char *app_secret, const char *path, const cx_param *params, size_t n,
                   const void *body, size_t bodylen, char out[65]);

/* Push verification. Shopee: Authorization == hex HMAC(partner_key, callback_url + "|" + body);
 * Lazada: Authorization == hex HMAC(app_secret, app_key + body). Hex case is ignored on the
 * received value. Return 1 valid, 0 invalid (or OOM); comparison is constant-time. */
int cx_shopee_push_verify(const char *partner_key, const char *callback_url, const void *body,
                          size_t n, const char *authorization);
int cx_lazada_push_verify(const char *app_secret, const char *app_key, const void *body, size_t n,
                          const char *authorization);
/* TikTok Shop webhooks: Authorization == lowercase hex HMAC-SHA256(app_secret, app_key + body)
 * (the same construction as Lazada's; hex case ignored). */
int cx_tiktok_push_verify(const char *app_secret, const char *app_key, const void *body, size_t n,
                          const char *authorization);
#endif
