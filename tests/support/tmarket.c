/* tests/support/tmarket: the shared marketplace fixtures (see tmarket.h). Test code only. */
#include "tests/support/tmarket.h"
#include "connectors/sign.h"

#include <stdio.h>
#include <string.h>

void tm_shopee_mac(const char *key, const char *base, char out[65])
{
    cx_hmac_sha256_hex(key, strlen(key), base, strlen(base), 0, out);
}

void tm_shopee_url(char *out, size_t n, const char *host, const char *path, const char *key,
                   long long partner_id, long long ts, const char *token, const char *shop_id,
                   const char *extra)
{
    char base[1024], sign[65];
    if (token)
        snprintf(base, sizeof base, "%lld%s%lld%s%s", partner_id, path, ts, token,
                 shop_id ? shop_id : "");
    else
        snprintf(base, sizeof base, "%lld%s%lld", partner_id, path, ts);
    tm_shopee_mac(key, base, sign);
    if (token)
        snprintf(out, n, "%s%s?partner_id=%lld&timestamp=%lld&access_token=%s&shop_id=%s&sign=%s%s",
                 host, path, partner_id, ts, token, shop_id ? shop_id : "", sign,
                 extra ? extra : "");
    else
        snprintf(out, n, "%s%s?partner_id=%lld&timestamp=%lld&sign=%s%s", host, path, partner_id,
                 ts, sign, extra ? extra : "");
}

void tm_lazada_mac(const char *secret, const char *text, char out[65])
{
    cx_hmac_sha256_hex(secret, strlen(secret), text, strlen(text), 1, out);
}

void tm_tiktok_mac(const char *secret, const char *text, char out[65])
{
    char w[8192];
    snprintf(w, sizeof w, "%s%s%s", secret, text, secret);
    cx_hmac_sha256_hex(secret, strlen(secret), w, strlen(w), 0, out);
}

void tm_shopee_push_auth(const char *key, const char *url, const char *body, char out[65])
{
    char msg[8192];
    snprintf(msg, sizeof msg, "%s|%s", url, body);
    cx_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), 0, out);
}

void tm_lazada_push_auth(const char *app_key, const char *secret, const char *body, char out[65])
{
    char msg[8192];
    snprintf(msg, sizeof msg, "%s%s", app_key, body);
    cx_hmac_sha256_hex(secret, strlen(secret), msg, strlen(msg), 0, out);
}

size_t tm_png(unsigned char *out)
{
    static const unsigned char png[TM_PNG_LEN] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0,
        0,    0,   64,  0,   0,    0,    48,   8,    2, 0, 0, 0,  0,   0,   0,   0};
    memcpy(out, png, sizeof png);
    return sizeof png;
}
