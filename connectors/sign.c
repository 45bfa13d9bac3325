/* connectors/sign: marketplace signatures (HMAC-SHA256 via OpenSSL). Pure: never reads the clock,
 * the configuration or the network; callers pass every input. */
#include "connectors/sign.h"
#include "core/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cx_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n, int upper,
                        char out[65])
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    const char *digits = upper ? up : lo;
    unsigned char mac[32];
    unsigned int maclen = 0;
    /* HMAC() accepts a NULL key only with length 0; give it a real pointer either way. */
    static const unsigned char empty = 0;
    if (!HMAC(EVP_sha256(), keylen ? key : &empty, (int)keylen,
              n ? (const unsigned char *)msg : &empty, n, mac, &maclen) ||
        maclen != 32) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[64] = '\0';
}

int cx_shopee_base_string(long long partner_id, const char *path, long long ts,
                          const char *access_token, long long shop_id, char *out, size_t outsz)
{
    int w;
    if (!out || !outsz || !path) return -1;
    if (access_token)
        w = snprintf(out, outsz, "%lld%s%lld%s%lld", partner_id, path, ts, access_token, shop_id);
    else
        w = snprintf(out, outsz, "%lld%s%lld", partner_id, path, ts);
    if (w < 0 || (size_t)w >= outsz) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

void cx_shopee_sign(const char *partner_key, long long partner_id, const char *path, long long ts,
                    const char *access_token, long long shop_id, char out[65])
{
    char base[4096 + 256];
    out[0] = '\0';
    if (!partner_key ||
        cx_shopee_base_string(partner_id, path, ts, access_token, shop_id, base, sizeof base) != 0)
        return;
    cx_hmac_sha256_hex(partner_key, strlen(partner_key), base, strlen(base), 0, out);
}

static int param_cmp(const void *a, const void *b)
{
    const cx_param *x = *(const cx_param *const *)a, *y = *(const cx_param *const *)b;
    return strcmp(x->key, y->key);
}

/* Append the sorted key/value concatenation of params (skipping names listed in skip) to s at
 * *len. s must have room (computed by the caller). Returns 0 or -1 (OOM). */
static int sorted_concat(const cx_param *params, size_t n, const char *const *skip, char *s,
                         size_t *len)
{
    const cx_param **v = NULL;
    size_t m = 0;
    if (n) {
        v = cs_malloc(n * sizeof *v);
        if (!v) return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int skipped = 0;
        if (!params[i].key) continue;
        for (const char *const *k = skip; *k; k++)
            if (strcmp(params[i].key, *k) == 0) skipped = 1;
        if (!skipped) v[m++] = &params[i];
    }
    if (m > 1) qsort(v, m, sizeof *v, param_cmp);
    for (size_t i = 0; i < m; i++) {
        size_t kl = strlen(v[i]->key), vl = v[i]->value ? strlen(v[i]->value) : 0;
        memcpy(s + *len, v[i]->key, kl);
        *len += kl;
        if (vl) memcpy(s + *len, v[i]->value, vl);
        *len += vl;
    }
    cs_free(v);
    return 0;
}

static size_t params_len(const cx_param *params, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        if (params[i].key) t += strlen(params[i].key);
        if (params[i].value) t += strlen(params[i].value);
    }
    return t;
}

int cx_lazada_sign(const char *app_secret, const char *path, const cx_param *params, size_t n,
                   char out[65])
{
    static const char *const skip[] = {"sign", NULL};
    size_t pl = strlen(path), len = 0, total = pl + params_len(params, n) + 1;
    char *s;
    out[0] = '\0';
    s = cs_malloc(total);
    if (!s) return -1;
    memcpy(s, path, pl);
    len = pl;
    if (sorted_concat(params, n, skip, s, &len) != 0) {
        cs_free(s);
        return -1;
    }
    cx_hmac_sha256_hex(app_secret, strlen(app_secret), s, len, 1, out);
    cs_free_secret(s, total);
    return out[0] ? 0 : -1;
}

int cx_tiktok_sign(const char *app_secret, const char *path, const cx_param *params, size_t n,
                   const void *body, size_t bodylen, char out[65])
{
    static const char *const skip[] = {"sign", "access_token", NULL};
    size_t sl = strlen(app_secret), pl = strlen(path), len = 0;
    size_t total = 2 * sl + pl + params_len(params, n) + (body ? bodylen : 0) + 1;
    char *s;
    out[0] = '\0';
    s = cs_malloc(total);
    if (!s) return -1;
    memcpy(s, app_secret, sl);
    memcpy(s + sl, path, pl);
    len = sl + pl;
    if (sorted_concat(params, n, skip, s, &len) != 0) {
        cs_free_secret(s, total);
        return -1;
    }
    if (body && bodylen) {
        memcpy(s + len, body, bodylen);
        len += bodylen;
    }
    memcpy(s + len, app_secret, sl);
    len += sl;
    cx_hmac_sha256_hex(app_secret, sl, s, len, 0, out);
    cs_free_secret(s, total);
    return out[0] ? 0 : -1;
}

/* Constant-time check of a received hex MAC against the expected lowercase one. Case of the
 * received hex is folded first; length mismatch is answered without looking at content. */
static int hex_equal(const char *expected, const char *received)
{
    char folded[64];
    if (!received || strlen(received) != 64 || strlen(expected) != 64) return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = received[i];
        folded[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    return CRYPTO_memcmp(expected, folded, 64) == 0;
}

static int push_verify(const char *key, const char *prefix, const char *sep, const void *body,
                       size_t n, const char *authorization)
{
    size_t pl = strlen(prefix), sl = strlen(sep), total = pl + sl + n + 1;
    char mac[65];
    char *s;
    if (!authorization) return 0;
    s = cs_malloc(total);
    if (!s) return 0;
    memcpy(s, prefix, pl);
    memcpy(s + pl, sep, sl);
    if (n) memcpy(s + pl + sl, body, n);
    cx_hmac_sha256_hex(key, strlen(key), s, pl + sl + n, 0, mac);
    cs_free(s);
    return mac[0] ? hex_equal(mac, authorization) : 0;
}

int cx_shopee_push_verify(const char *partner_key, const char *callback_url, const void *body,
                          size_t n, const char *authorization)
{
    if (!partner_key || !callback_url) return 0;
    return push_verify(partner_key, callback_url, "|", body, n, authorization);
}

int cx_lazada_push_verify(const char *app_secret, const char *app_key, const void *body, size_t n,
                          const char *authorization)
{
    if (!app_secret || !app_key) return 0;
    return push_verify(app_secret, app_key, "", body, n, authorization);
}

int cx_tiktok_push_verify(const char *app_secret, const char *app_key, const void *body, size_t n,
                          const char *authorization)
{
    if (!app_secret || !app_key) return 0;
    return push_verify(app_secret, app_key, "", body, n, authorization);
}
