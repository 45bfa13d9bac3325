/* connectors/assisted_data: assisted marketplaces configured as data — one generic connector per
 * row of assisted_marketplaces.csv, registered at start-up. Reads only its data files; never the
 * database or the network. */
#include "connectors/assisted.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATA_MARKETS 8
#define MAX_LIST 24

/* Everything one data row owns: the connector points into it. */
struct data_market {
    cx_connector c;
    cx_assisted a;
    char *strs[8]; /* code, name, domain, signup, seller word, base url, plus spares */
    char *lists[3][MAX_LIST + 1];
    cx_pack_spec *pack;
    size_t npack;
};

static struct data_market *loaded[MAX_DATA_MARKETS];
static size_t nloaded;

static const cx_connector *self(const cx_input *in)
{
    return in && in->mp ? cx_find(in->mp->code) : NULL;
}

/* The connector callbacks carry no connector pointer: the marketplace in the input names it. */
static int build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    const cx_connector *c = self(in);
    if (!c || !c->assisted) return cs_error_set(err, CS_E_INTERNAL, "no marketplace");
    return cx_assisted_build(c, op, in, req, err);
}

static void parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    static const cx_connector none = {.code = "assisted", .kind = CX_KIND_FILE};
    const cx_connector *c = self(in);
    cx_assisted_parse(c ? c : &none, op, in, resp, out);
}

static void market_free(struct data_market *m)
{
    if (!m) return;
    for (size_t i = 0; i < 8; i++)
        cs_free(m->strs[i]);
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < MAX_LIST && m->lists[l][i]; i++)
            cs_free(m->lists[l][i]);
    for (size_t i = 0; i < m->npack; i++) {
        cs_free(m->pack[i].key);
        cs_free(m->pack[i].label);
        cs_free(m->pack[i].note);
    }
    cs_free(m->pack);
    cs_free(m);
}

/* "a | b | c" → NULL-terminated owned list. */
static int split_list(const char *s, char **out)
{
    size_t n = 0;
    while (s && *s) {
        const char *bar = strstr(s, " | ");
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        while (len && s[0] == ' ')
            s++, len--;
        while (len && s[len - 1] == ' ')
            len--;
        if (len) {
            if (n >= MAX_LIST) return -1;
            out[n] = cs_calloc(len + 1, 1);
            if (!out[n]) return -1;
            memcpy(out[n++], s, len);
        }
        s = bar ? bar + 3 : NULL;
    }
    out[n] = NULL;
    return 0;
}

static int load_pack(const char *dir, struct data_market *m, cs_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/pack_layout_%s.csv", dir, m->strs[0]);
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* optional: the full pack */
    fclose(f);
    cx_csv t;
    if (cx_csv_load(path, CX_PACK_MAX_FIELDS + 1, &t, err)) return -1;
    int rc = -1;
    if (!t.nrows || t.ncols[0] != 4 || strcmp(t.cells[0][0], "key")) {
        cs_error_set(err, CS_E_CONFIG, "%s: header must be key,label,required,note", path);
        goto out;
    }
    m->pack = cs_calloc(t.nrows, sizeof *m->pack);
    if (!m->pack) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t r = 1; r < t.nrows; r++) {
        char **v = t.cells[r];
        if (t.ncols[r] == 1 && !v[0][0]) continue;
        if (t.ncols[r] != 4 || !cx_pack_key_known(v[0]) || !v[1][0]) {
            cs_error_set(err, CS_E_CONFIG, "%s line %zu: 4 columns, a known key and a label", path,
                         r + 1);
            goto out;
        }
        cx_pack_spec *p = &m->pack[m->npack++];
        p->key = cs_strdup(v[0]);
        p->label = cs_strdup(v[1]);
        p->note = cs_strdup(v[3]);
        p->required = !strcmp(v[2], "yes") || !strcmp(v[2], "1");
        if (!p->key || !p->label || !p->note) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
    }
    rc = 0;
out:
    cx_csv_free(&t);
    return rc;
}

static int load_row(const char *dir, char **v, size_t line, cs_error *err)
{
    enum { CODE, NAME, DOMAIN, ORDER, SIGNUP, SELLER, BASE, STEPS, NOTES, GONE };
    if (!v[CODE][0] || !v[NAME][0] || !v[DOMAIN][0] || strlen(v[CODE]) > 15)
        return cs_error_set(err, CS_E_CONFIG,
                            "assisted_marketplaces.csv line %zu: code, name and "
                            "public_domain required (code up to 15 characters)",
                            line);
    if (cx_find(v[CODE])) return 0; /* a C connector (postmart, voso) or already loaded */
    if (nloaded >= MAX_DATA_MARKETS)
        return cs_error_set(err, CS_E_CONFIG, "assisted_marketplaces.csv: too many rows");
    struct data_market *m = cs_calloc(1, sizeof *m);
    if (!m) return cs_error_set(err, CS_E_NOMEM, NULL);
    const size_t idx[] = {CODE, NAME, DOMAIN, SIGNUP, SELLER, BASE};
    for (size_t i = 0; i < 6; i++)
        if (!(m->strs[i] = cs_strdup(v[idx[i]]))) goto nomem;
    if (split_list(v[STEPS], m->lists[0]) || split_list(v[NOTES], m->lists[1]) ||
        split_list(v[GONE], m->lists[2]))
        goto nomem;
    char *end;
    long order = strtol(v[ORDER], &end, 10);
    if (*end || order < 0 || order > 1000) {
        market_free(m);
        return cs_error_set(err, CS_E_CONFIG, "assisted_marketplaces.csv line %zu: bad order",
                            line);
    }
    /* The layout is found by code, beside the row; its path keeps the directory so a row
     * loaded from elsewhere (a test's own data) finds its own layout. */
    char path[1024];
    snprintf(path, sizeof path, "%s/upload_layout_%s.csv", dir, v[CODE]);
    if (!(m->strs[6] = cs_strdup(path))) goto nomem;
    /* Checked now so a broken layout stops the start, not the first export. */
    cx_layout l;
    if (cx_layout_load(path, &l, err) || load_pack(dir, m, err)) {
        market_free(m);
        return -1;
    }
    cx_layout_free(&l);
    char url[512];
    if (!m->strs[5][0]) { /* no site given: the public domain over https */
        snprintf(url, sizeof url, "https://%s", m->strs[2]);
        cs_free(m->strs[5]);
        if (!(m->strs[5] = cs_strdup(url))) goto nomem;
    }
    m->a = (cx_assisted){.signup_url = m->strs[3][0] ? m->strs[3] : m->strs[5],
                         .seller_word = m->strs[4][0] ? m->strs[4] : "Người bán",
                         .steps = (const char *const *)m->lists[0],
                         .notes = (const char *const *)m->lists[1],
                         .layout_file = m->strs[6],
                         .gone_markers = (const char *const *)m->lists[2],
                         .base_url = m->strs[5],
                         .pack = m->pack,
                         .npack = m->npack};
    m->c = (cx_connector){.code = m->strs[0],
                          .display_name = m->strs[1],
                          .kind = CX_KIND_FILE,
                          .default_domain = m->strs[2],
                          .display_order = (int)order,
                          .ops = CX_OPBIT(CX_OP_LINK_CHECK),
                          .build = build,
                          .parse = parse,
                          .assisted = &m->a};
    if (cx_register(&m->c)) {
        market_free(m);
        return cs_error_set(err, CS_E_CONFIG, "assisted_marketplaces.csv line %zu: cannot register",
                            line);
    }
    loaded[nloaded++] = m;
    return 1;
nomem:
    market_free(m);
    return cs_error_set(err, CS_E_NOMEM, NULL);
}

int cx_assisted_load(const char *data_dir, cs_error *err)
{
    static const char *const hdr[] = {"code",       "name",        "public_domain", "display_order",
                                      "signup_url", "seller_word", "base_url",      "steps",
                                      "notes",      "gone_markers"};
    char path[1024];
    snprintf(path, sizeof path, "%s/assisted_marketplaces.csv", data_dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    cx_csv t;
    if (cx_csv_load(path, 100, &t, err)) return -1;
    int rc = -1, n = 0;
    if (!t.nrows || t.ncols[0] != 10) {
        cs_error_set(err, CS_E_CONFIG, "%s: 10 columns expected", path);
        goto out;
    }
    for (size_t i = 0; i < 10; i++)
        if (strcmp(t.cells[0][i], hdr[i])) {
            cs_error_set(err, CS_E_CONFIG, "%s: column %zu must be %s", path, i + 1, hdr[i]);
            goto out;
        }
    for (size_t r = 1; r < t.nrows; r++) {
        if (t.ncols[r] == 1 && !t.cells[r][0][0]) continue;
        if (t.ncols[r] != 10) {
            cs_error_set(err, CS_E_CONFIG, "%s line %zu: 10 columns expected", path, r + 1);
            goto out;
        }
        int one = load_row(data_dir, t.cells[r], r + 1, err);
        if (one < 0) goto out;
        n += one;
    }
    rc = n;
out:
    cx_csv_free(&t);
    return rc;
}

void cx_assisted_unload(void)
{
    while (nloaded) {
        struct data_market *m = loaded[--nloaded];
        cx_unregister(&m->c);
        market_free(m);
        loaded[nloaded] = NULL;
    }
}
