/* core/status: the owner-status read model, from two queries into plain structs. Must not read
 * anything personal nor decide wording: service/h_status turns it into the page's JSON. */
#include "core/status.h"
#include "core/mem.h"
#include <stdlib.h>
#include <string.h>

// clang-format off
static const char SQL_SHOPS[] =
    "SELECT h.code, h.business_name, u.code, u.name, h.status, m.code, m.name, m.kind, m.enabled,"
    " COALESCE(a.state, 'not_started'), a.shop_url, a.auth_link, a.last_error_message,"
    " a.id IS NOT NULL"
    " FROM households h"
    " JOIN admin_units u ON u.code = h.commune_code"
    " LEFT JOIN marketplaces m ON TRUE"
    " LEFT JOIN seller_accounts a ON a.marketplace_code = m.code AND a.household_id = h.id"
    " WHERE h.id = ?"
    " ORDER BY m.display_order, m.code";
// clang-format on
/* The household (same on every row), then a marketplace (SH_MP NULL when none exists) and the
 * household's account there. */
enum {
    SH_HH_CODE,
    SH_BUSINESS_NAME,
    SH_COMMUNE_CODE,
    SH_COMMUNE_NAME,
    SH_HH_STATUS,
    SH_MP,
    SH_MP_NAME,
    SH_MP_KIND,
    SH_MP_ENABLED,
    SH_STATE,
    SH_SHOP_URL,
    SH_AUTH_LINK,
    SH_LAST_ERROR,
    SH_HAS_ACCOUNT,
};

// clang-format off
static const char SQL_LISTINGS[] =
    "SELECT p.id, l.marketplace_code, l.state, l.listing_url, l.last_error_message,"
    " l.error_fields, p.name"
    " FROM products p"
    " LEFT JOIN listings l ON l.product_id = p.id"
    " WHERE p.household_id = ? AND p.status = 'active'";
// clang-format on
/* One row per listing; LS_MP NULL for a product with no listing. */
enum { LS_PRODUCT_ID, LS_MP, LS_STATE, LS_LISTING_URL, LS_LAST_ERROR, LS_ERROR_FIELDS, LS_NAME };

/* A products-and-listings row by product id, then row number. */
struct lrow {
    int64_t pid;
    size_t row;
};

static int lrow_cmp(const void *a, const void *b)
{
    const struct lrow *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

void cs_status_free(cs_status *s)
{
    if (!s) return;
    cs_free(s->shops);
    cs_free(s->products);
    cs_free(s->listings_);
    cs_rows_free(s->rows_[0]);
    cs_rows_free(s->rows_[1]);
    memset(s, 0, sizeof *s);
}

static void fill_shops(cs_status *s, const cs_rows *acc)
{
    for (size_t i = 0; i < s->nshops; i++) {
        cs_status_shop *sh = &s->shops[i];
        sh->marketplace = cs_rows_str(acc, i, SH_MP);
        sh->marketplace_name = cs_rows_str(acc, i, SH_MP_NAME);
        sh->kind = cs_rows_str(acc, i, SH_MP_KIND);
        sh->enabled = cs_rows_i64(acc, i, SH_MP_ENABLED) != 0;
        sh->has_account = cs_rows_i64(acc, i, SH_HAS_ACCOUNT) != 0;
        sh->state = cs_rows_str(acc, i, SH_STATE);
        sh->shop_url = cs_rows_strn(acc, i, SH_SHOP_URL);
        sh->auth_link = cs_rows_strn(acc, i, SH_AUTH_LINK);
        sh->last_error = cs_rows_strn(acc, i, SH_LAST_ERROR);
    }
}

/* Products in id order (qsort on (id, row): stable), each with its listings in the order of
 * the shops. Returns 0 or -1 (out of memory). */
static int fill_products(cs_status *s, const cs_rows *ls)
{
    size_t nl = cs_rows_count(ls);
    if (!nl) return 0;
    struct lrow *ord = cs_malloc(nl * sizeof *ord);
    s->products = cs_calloc(nl, sizeof *s->products);
    s->listings_ = cs_calloc(nl, sizeof *s->listings_);
    if (!ord || !s->products || !s->listings_) {
        cs_free(ord);
        return -1;
    }
    for (size_t i = 0; i < nl; i++)
        ord[i] = (struct lrow){cs_rows_i64(ls, i, LS_PRODUCT_ID), i};
    qsort(ord, nl, sizeof *ord, lrow_cmp);
    size_t used = 0;
    for (size_t p = 0, end; p < nl; p = end) {
        int64_t pid = ord[p].pid;
        for (end = p + 1; end < nl && ord[end].pid == pid; end++) {
        }
        cs_status_product *prod = &s->products[s->nproducts++];
        prod->id = pid;
        prod->name = cs_rows_str(ls, ord[p].row, LS_NAME);
        prod->listings = &s->listings_[used];
        for (size_t m = 0; m < s->nshops; m++)
            for (size_t k = p; k < end && used < nl; k++) {
                size_t i = ord[k].row;
                const char *mp = cs_rows_strn(ls, i, LS_MP);
                if (!mp || strcmp(mp, s->shops[m].marketplace)) continue;
                cs_status_listing *l = &s->listings_[used++];
                l->marketplace = mp;
                l->marketplace_name = s->shops[m].marketplace_name;
                l->state = cs_rows_str(ls, i, LS_STATE);
                l->listing_url = cs_rows_strn(ls, i, LS_LISTING_URL);
                l->last_error = cs_rows_strn(ls, i, LS_LAST_ERROR);
                l->error_fields = cs_rows_strn(ls, i, LS_ERROR_FIELDS);
                prod->nlistings++;
            }
    }
    cs_free(ord);
    return 0;
}

int cs_status_read(cs_db *db, int64_t id, cs_status *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    if (cs_db_query(db, &out->rows_[0], SQL_SHOPS, "i", id, err) ||
        cs_db_query(db, &out->rows_[1], SQL_LISTINGS, "i", id, err))
        goto fail;
    const cs_rows *acc = out->rows_[0], *ls = out->rows_[1];
    if (!cs_rows_count(acc)) {
        cs_error_set(err, CS_E_NOT_FOUND, NULL);
        goto fail;
    }
    out->household_code = cs_rows_str(acc, 0, SH_HH_CODE);
    out->business_name = cs_rows_strn(acc, 0, SH_BUSINESS_NAME);
    out->commune_code = cs_rows_str(acc, 0, SH_COMMUNE_CODE);
    out->commune_name = cs_rows_str(acc, 0, SH_COMMUNE_NAME);
    out->household_status = cs_rows_str(acc, 0, SH_HH_STATUS);
    size_t nm = cs_rows_strn(acc, 0, SH_MP) ? cs_rows_count(acc) : 0;
    if (nm && !(out->shops = cs_calloc(nm, sizeof *out->shops))) goto nomem;
    out->nshops = nm;
    fill_shops(out, acc);
    if (fill_products(out, ls)) goto nomem;
    return 0;
nomem:
    cs_error_set(err, CS_E_NOMEM, NULL);
fail:
    cs_status_free(out);
    return -1;
}
