/* tests/fuzz/fuzz_jspec: a JSON request body through the real field specs of the API — a
 * household created (POST /v1/households) or changed (PATCH, partial), a product created or
 * changed — as core/jspec parses and checks it: cs_json_parse, cs_household_validate /
 * cs_product_validate with every per-field rule, the content hash.
 * The first byte picks the spec, the rest is the body. Invariants abort: every refusal is a
 * 4xx-class code naming its fields, every accepted value is normalised (valid UTF-8, a 12-digit
 * CCCD, a 10-digit phone, a positive price).
 * libFuzzer: build with -fsanitize=fuzzer -DCHOSO_LIBFUZZER. Otherwise main() replays the files
 * (or directories) given — by default tests/fuzz/corpus/jspec — in every test pass. */
#include "tests/support/fuzz_replay.h"
#include "core/config.h"
#include "core/households.h"
#include "core/jspec.h"
#include "core/mem.h"
#include "core/products.h"
#include "core/vn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void once(void)
{
    static int done;
    if (done) return;
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) abort();
    done = 1;
}

static void check_error(const cs_error *e)
{
    if (e->code == CS_OK || e->nfields > CS_MAX_FIELD_ERRORS) abort();
    if (cs_code_status(e->code) >= 500 && e->code != CS_E_NOMEM) abort();
    if (!memchr(e->detail, 0, sizeof e->detail)) abort();
    for (size_t i = 0; i < e->nfields; i++)
        if (!memchr(e->fields[i].field, 0, sizeof e->fields[i].field) || !e->fields[i].field[0])
            abort();
}

static void utf8_or_null(const char *s)
{
    if (s && !vn_utf8_valid(s)) abort();
}

static void digits(const char *s, size_t n)
{
    if (strlen(s) != n || strspn(s, "0123456789") != n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    once();
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    cs_error e;
    cs_error_clear(&e);
    json_t *j = cs_json_parse(body, n, &e);
    if (!j) {
        check_error(&e);
        return 0;
    }
    unsigned char hash[32];
    switch (data[0] % 3) {
    case 0:
    case 1: {
        int partial = data[0] % 3;
        cs_household_norm hn;
        if (cs_household_validate(j, partial, &hn, &e)) {
            check_error(&e);
            break;
        }
        utf8_or_null(hn.owner_name), utf8_or_null(hn.name_folded), utf8_or_null(hn.address);
        utf8_or_null(hn.business_name), utf8_or_null(hn.business_reg_no);
        utf8_or_null(hn.tax_code);
        if (!partial || (hn.present & CS_HF_CCCD)) digits(hn.cccd, 12);
        if (!partial || (hn.present & CS_HF_PHONE)) {
            digits(hn.phone, 10);
            if (hn.phone[0] != '0') abort();
        }
        if (!partial && (!hn.owner_name || !hn.consent)) abort();
        (void)cs_household_content_hash(&hn, hash);
        char commune[6];
        cs_household_commune(j, commune);
        if (commune[0] && strcmp(commune, hn.commune_code)) abort();
        cs_household_norm_free(&hn);
        break;
    }
    default: {
        cs_product_norm pn;
        if (cs_product_validate(j, &pn, &e)) {
            check_error(&e);
            break;
        }
        if (!pn.name || pn.price_vnd <= 0 || pn.weight_g <= 0) abort();
        utf8_or_null(pn.name), utf8_or_null(pn.name_folded), utf8_or_null(pn.description);
        utf8_or_null(pn.certificates);
        if (pn.ocop_stars < 0 || pn.ocop_stars > 5) abort();
        (void)cs_product_content_hash(&pn, hash);
        cs_product_norm_free(&pn);
        break;
    }
    }
    json_decref(j);
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_jspec", "tests/fuzz/corpus/jspec",
                            LLVMFuzzerTestOneInput);
}
#endif
