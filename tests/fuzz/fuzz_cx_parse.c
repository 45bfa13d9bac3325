/* tests/fuzz/fuzz_cx_parse: every connector's response parser (and push verification, the
 * Retry-After reader, the category-map and upload-layout parsers) fed arbitrary bytes. The
 * first input byte picks the HTTP status and transport result, the rest is the body.
 * libFuzzer: build with -fsanitize=fuzzer -DCHOSO_LIBFUZZER. Otherwise main() replays the files
 * (or directories of files) given on the command line — by default tests/fuzz/corpus/cx_parse —
 * so the corpus runs in every test pass. */
#include "tests/support/fuzz_replay.h"
#include "connectors/assisted.h"
#include "connectors/catmap.h"
#include "connectors/cxutil.h"
#include "connectors/orders.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 201, 400, 401, 403, 404, 410, 429, 500, 502, 503, 301};

static void check_outcome(const cx_outcome *o)
{
    /* invariants every parser must keep, whatever the bytes */
    if (o->result > CX_NOT_FOUND || o->state > CX_ITEM_DELISTED) abort();
    if (o->result == CX_RETRY && o->retry_after == 0) abort();
    if (o->nreasons > CX_MAX_REASONS) abort();
    if (o->result == CX_REJECTED && o->nreasons == 0) abort();
    if (memchr(o->item_id, 0, sizeof o->item_id) == NULL) abort();
    if (memchr(o->access_token, 0, sizeof o->access_token) == NULL) abort();
    for (size_t i = 0; i < o->nreasons; i++)
        if (!memchr(o->reasons[i].vi, 0, sizeof o->reasons[i].vi)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    static const cx_market mp = {"x",
                                 "https://h.test",
                                 "https://a.test/rest",
                                 "2001887",
                                 "secret",
                                 "https://c.test/cb",
                                 "https://c.test/push",
                                 "postmart.vn",
                                 "1",
                                 ""};
    static const cx_account acct = {"123", "tok", "ref"};
    static const cx_category cat = {"1", "c", NULL};
    cx_listing l = {.listing_id = 1,
                    .item_id = "99",
                    .name = "n",
                    .price_vnd = 1,
                    .weight_g = 1,
                    .category = &cat};
    cx_input in = {.mp = &mp,
                   .account = &acct,
                   .listing = &l,
                   .url = "https://postmart.vn/p/1",
                   .now_ms = 1700000000000LL};
    /* NUL-terminated copy for the Retry-After header */
    char ra[64];
    size_t k = n < sizeof ra - 1 ? n : sizeof ra - 1;
    memcpy(ra, body, k);
    ra[k] = '\0';
    cx_response resp = {
        (cx_transport_error)(sel >> 4) % 5 == 0 ? CX_T_OK : (cx_transport_error)((sel >> 4) % 5),
        statuses[(sel & 15) % (sizeof statuses / sizeof statuses[0])],
        body,
        n,
        (sel & 0x80) ? ra : NULL,
        (sel & 0x40) ? ra : NULL};
    const cx_connector *extra[] = {&cx_template};
    const cx_connector *const *all;
    size_t nall = cx_list(&all);
    for (size_t c = 0; c < nall + 1; c++) {
        const cx_connector *cn = c < nall ? all[c] : extra[0];
        for (int op = 0; op < CX_OP__COUNT; op++) {
            cx_outcome o;
            cn->parse((cx_op)op, &in, &resp, &o);
            check_outcome(&o);
        }
        if (cn->verify_push) {
            cx_outcome o;
            in.push_body = body;
            in.push_len = n;
            in.push_authorization = ra;
            cn->verify_push(&in, &o);
            check_outcome(&o);
        }
    }
    /* the order operations (connectors/orders.h): never a line with a negative quantity or
       amount, never a page on anything but CX_OK */
    static const char *const order_mps[] = {"shopee", "lazada", "tiktok"};
    cx_orders_query q = {.from_s = 1699000000, .to_s = 1699100000, .offset = 0};
    for (size_t c = 0; c < 3; c++)
        for (int step = 0; step < 2; step++) {
            cx_outcome o;
            cx_orders_page pg;
            cx_orders_for(order_mps[c])->parse((cx_orders_step)step, &in, &q, &resp, &o, &pg);
            check_outcome(&o);
            if (o.result != CX_OK && (pg.nlines || pg.nids)) abort();
            for (size_t i = 0; i < pg.nlines; i++)
                if (pg.lines[i].qty < 0 || pg.lines[i].amount_vnd < 0 ||
                    !memchr(pg.lines[i].sku, 0, sizeof pg.lines[i].sku))
                    abort();
            cx_orders_page_free(&pg);
        }
    (void)cx_retry_after(&resp, in.now_ms, 1);
    cs_error err;
    cs_error_clear(&err);
    cx_catmap m;
    if (cx_catmap_parse(body, n, &m, &err) == 0) cx_catmap_free(&m);
    cx_layout lay;
    cs_error_clear(&err);
    if (cx_layout_parse(body, n, &lay, &err) == 0) cx_layout_free(&lay);
    cs_error_clear(&err);
    (void)cx_assisted_url_ok(&mp, ra, "url", &err);
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_cx_parse", "tests/fuzz/corpus/cx_parse",
                            LLVMFuzzerTestOneInput);
}
#endif
