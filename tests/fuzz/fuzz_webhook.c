/* tests/fuzz/fuzz_webhook: a marketplace push (Shopee, Lazada, TikTok Shop) as it reaches POST
 * /v1/webhooks/{code} — its signature check and the reading of its body. The first byte picks
 * the marketplace (bit 0: Lazada; high nibble 4: TikTok Shop, whose webhooks are signed like
 * Lazada's, app_key + body), whether the Authorization header is the true signature (so the body
 * parser is reached, not only the rejection), its hex case, and a one-character forgery of it; the
 * rest is the body. Invariants abort: a forged or missing signature is always rejected, a true
 * one is never called invalid, every field read stays NUL-terminated.
 * libFuzzer: build with -fsanitize=fuzzer -DCHOSO_LIBFUZZER. Otherwise main() replays the files
 * (or directories) given — by default tests/fuzz/corpus/webhook — in every test pass. */
#include "tests/support/fuzz_replay.h"
#include "connectors/connector.h"
#include "connectors/registry.h"
#include "connectors/sign.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cx_connector *find(const char *code)
{
    const cx_connector *const *all;
    size_t n = cx_list(&all);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(all[i]->code, code)) return all[i];
    abort(); /* every push marketplace is built in */
}

static int rejected_as(const cx_outcome *o, const char *code)
{
    return o->result == CX_REJECTED && o->nreasons && !strcmp(o->reasons[0].code, code);
}

static void check_outcome(const cx_outcome *o)
{
    if (o->result > CX_NOT_FOUND || o->state > CX_ITEM_DELISTED) abort();
    if (o->nreasons > CX_MAX_REASONS) abort();
    if (!memchr(o->item_id, 0, sizeof o->item_id) || !memchr(o->shop_id, 0, sizeof o->shop_id))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    int tiktok = (sel & 0xf0) == 0x40, lazada = (sel & 1) || tiktok;
    int sign_mode = (sel >> 1) & 3, upper = (sel >> 3) & 1;
    const cx_connector *c = find(tiktok ? "tiktok" : lazada ? "lazada" : "shopee");
    static const char *const key = "partner-key-0123456789";
    cx_market mp = {.code = c->code,
                    .base_url = "https://api.test",
                    .auth_url = "https://auth.test",
                    .app_id = "2001887",
                    .secret = key,
                    .redirect_url = "https://choso.test/v1/oauth/x/callback",
                    .push_url = "https://choso.test/v1/webhooks/x",
                    .public_domain = "shopee.vn",
                    .logistic_id = "1",
                    .warehouse_id = ""};
    /* the message the marketplace signs: Shopee url|body, Lazada and TikTok app_key+body */
    const char *prefix = lazada ? mp.app_id : mp.push_url;
    size_t pl = strlen(prefix) + (lazada ? 0 : 1);
    char *msg = cs_malloc(pl + n + 1);
    if (!msg) return 0;
    memcpy(msg, prefix, strlen(prefix));
    if (!lazada) msg[pl - 1] = '|';
    memcpy(msg + pl, body, n);
    char sig[65];
    cx_hmac_sha256_hex(key, strlen(key), msg, pl + n, upper, sig);
    cs_free(msg);
    const char *auth = sig;
    int valid = 1;
    if (sign_mode == 1) { /* forged: one hex digit changed */
        size_t at = n ? (size_t)(uint8_t)body[0] % 64 : 0;
        sig[at] = sig[at] == '0' ? '1' : '0';
        valid = 0;
    } else if (sign_mode == 2) {
        auth = NULL;
        valid = 0;
    } else if (sign_mode == 3) { /* the body's first bytes as the header: arbitrary text */
        static char raw[80];
        size_t k = n < sizeof raw - 1 ? n : sizeof raw - 1;
        memcpy(raw, body, k);
        raw[k] = '\0';
        auth = raw;
        valid = -1; /* unknown (a fuzzer will not find the MAC) */
    }
    cx_input in = {.mp = &mp, .push_body = body, .push_len = n, .push_authorization = auth};
    cx_outcome o;
    c->verify_push(&in, &o);
    check_outcome(&o);
    if (valid == 0 && !rejected_as(&o, "push_signature_invalid")) abort();
    if (valid == 1 && rejected_as(&o, "push_signature_invalid")) abort();
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_webhook", "tests/fuzz/corpus/webhook",
                            LLVMFuzzerTestOneInput);
}
#endif
