/* core/showcase: SQL of the public showcase and its click counter (see core/showcase.h). No
 * HTML and no HTTP here; nothing about a visitor is read or written. */
#include "core/showcase.h"
#include "core/buf.h"
#include "core/mem.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// clang-format off
/* the columns of a shown product, read by the L_* enum; listings as "id code name" lines in
 * marketplace display order */
#define SC_COLS \
    "SELECT p.id, p.name, p.description, p.category, c.name_vi, u.name, d.code, d.name," \
    " IF(h.showcase_name_consent AND h.business_name <> '', h.business_name, NULL)," \
    " (SELECT i.sha256" \
    "   FROM product_images i" \
    "   WHERE i.product_id = p.id" \
    "   ORDER BY i.position, i.id" \
    "   LIMIT 1)," \
    " p.price_vnd, COALESCE(p.ocop_stars, 0)," \
    " (SELECT GROUP_CONCAT(CONCAT(l.id, ' ', l.marketplace_code, ' ', m.name)" \
    "          ORDER BY m.display_order, l.id SEPARATOR '\\n')" \
    "   FROM listings l" \
    "   JOIN marketplaces m ON m.code = l.marketplace_code" \
    "   WHERE l.product_id = p.id AND l.state = 'live' AND l.listing_url IS NOT NULL)"
#define SC_FROM \
    " FROM products p" \
    " JOIN households h ON h.id = p.household_id" \
    " JOIN admin_units u ON u.code = h.commune_code" \
    " JOIN admin_districts d ON d.code = u.primary_district_code" \
    " JOIN categories c ON c.code = p.category" \
    " WHERE p.flagship AND p.status = 'active' AND h.status <> 'erased'" \
    " AND EXISTS (SELECT 1" \
    "   FROM listings l" \
    "   WHERE l.product_id = p.id AND l.state = 'live' AND l.listing_url IS NOT NULL)"
enum { L_ID, L_NAME, L_DESC, L_CAT, L_CATNAME, L_COMMUNE, L_DCODE, L_DNAME, L_BIZ, L_IMG,
       L_PRICE, L_STARS, L_LISTINGS };
/* the page's ids first (a lean sort over the shown set), then the columns and their
 * subqueries for those rows only */
static const char sql_list[] =
    SC_COLS
    " FROM (SELECT p.id, p.first_live_at"
    SC_FROM
    "   AND (? = '' OR p.category = ?)"
    "   AND (? = '' OR u.primary_district_code = ?)"
    "   ORDER BY p.first_live_at DESC, p.id DESC"
    "   LIMIT ? OFFSET ?) pg"
    " JOIN products p ON p.id = pg.id"
    " JOIN households h ON h.id = p.household_id"
    " JOIN admin_units u ON u.code = h.commune_code"
    " JOIN admin_districts d ON d.code = u.primary_district_code"
    " JOIN categories c ON c.code = p.category"
    " ORDER BY pg.first_live_at DESC, pg.id DESC";
/* the shown set in page order, one row per product: what filters and choices need */
enum { X_ID, X_CAT, X_CATNAME, X_DIST, X_DISTNAME };
static const char sql_index[] =
    "SELECT p.id, p.category, c.name_vi, d.code, d.name"
    SC_FROM
    " ORDER BY p.first_live_at DESC, p.id DESC";
/* the columns of the given products (a JSON array of ids), in the array's order: one primary
 * key look-up each */
static const char sql_by_ids[] =
    SC_COLS
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (ord FOR ORDINALITY, id BIGINT PATH '$')) j"
    " JOIN products p ON p.id = j.id"
    " JOIN households h ON h.id = p.household_id"
    " JOIN admin_units u ON u.code = h.commune_code"
    " JOIN admin_districts d ON d.code = u.primary_district_code"
    " JOIN categories c ON c.code = p.category"
    " ORDER BY j.ord";
enum { F_CAT, F_CATNAME, F_DIST, F_DISTNAME, F_N };
static const char sql_facets[] =
    "SELECT p.category, c.name_vi, d.code, d.name, COUNT(*)"
    SC_FROM
    " GROUP BY p.category, c.name_vi, d.code, d.name"
    " ORDER BY d.name, d.code, p.category";
static const char sql_one[] =
    SC_COLS
    SC_FROM
    " AND p.id = ?";
enum { K_PRODUCT, K_MP, K_URL };
static const char sql_click_target[] =
    "SELECT l.product_id, l.marketplace_code, l.listing_url"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " JOIN households h ON h.id = p.household_id"
    " WHERE l.id = ? AND l.state = 'live' AND l.listing_url IS NOT NULL"
    " AND p.flagship AND p.status = 'active' AND h.status <> 'erased'";
static const char sql_click_count[] =
    "INSERT INTO showcase_clicks (product_id, marketplace_code, year, month, n)"
    " VALUES (?, ?, YEAR(UTC_TIMESTAMP() + INTERVAL 7 HOUR), MONTH(UTC_TIMESTAMP() + INTERVAL 7 HOUR), 1)"
    " ON DUPLICATE KEY UPDATE n = n + 1";
static const char sql_consent[] =
    "UPDATE households"
    " SET showcase_name_consent = ?"
    " WHERE code = ? AND status <> 'erased'";
static const char sql_promoted[] =
    "SELECT s.product_id, p.name, u.name, s.month, SUM(s.n)"
    " FROM showcase_clicks s"
    " JOIN products p ON p.id = s.product_id"
    " JOIN households h ON h.id = p.household_id"
    " JOIN admin_units u ON u.code = h.commune_code"
    " WHERE s.year = ?"
    " GROUP BY s.product_id, p.name, u.name, s.month"
    " ORDER BY p.name, s.product_id, s.month";
// clang-format on

static const char *nz(const cs_rows *q, size_t i, unsigned c)
{
    return cs_rows_isnull(q, i, c) ? NULL : cs_rows_str(q, i, c);
}

void cs_sc_page_free(cs_sc_page *p)
{
    for (size_t i = 0; p->items && i < p->n; i++) {
        if (p->items[i].nlistings) cs_free((void *)p->items[i].listings[0].mp_code);
        cs_free(p->items[i].listings);
    }
    cs_free(p->items);
    cs_free(p->categories);
    cs_free(p->districts);
    cs_free(p->owned_);
    for (size_t k = 0; k < 2; k++)
        cs_rows_free(p->held_[k]);
    memset(p, 0, sizeof *p);
}

/* "id code name\n…" → listings; the strings live in one copy owned by listings[0].mp_code */
static int parse_listings(const char *s, cs_sc_product *it)
{
    it->listings = NULL;
    it->nlistings = 0;
    if (!s || !*s) return 0;
    size_t lines = 1;
    for (const char *q = s; *q; q++)
        lines += *q == '\n';
    char *copy = cs_strdup(s);
    cs_sc_listing *l = cs_calloc(lines, sizeof *l);
    if (!copy || !l) {
        cs_free(copy);
        cs_free(l);
        return -1;
    }
    size_t n = 0;
    for (char *line = copy; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (sp1 && sp2) {
            *sp1 = *sp2 = '\0';
            l[n].id = strtoll(line, NULL, 10);
            l[n].mp_code = sp1 + 1;
            l[n].mp_name = sp2 + 1;
            n++;
        }
        line = next;
    }
    /* listings[0].mp_code must point at the start of the copy for cs_sc_page_free */
    if (!n) {
        cs_free(copy);
        cs_free(l);
        return 0;
    }
    if (l[0].mp_code != copy) {
        /* move the first entry's code to the copy's start: the id text before it is not needed */
        size_t len = strlen(l[0].mp_code);
        memmove(copy, l[0].mp_code, len + 1);
        l[0].mp_code = copy;
    }
    it->listings = l;
    it->nlistings = n;
    return 0;
}

static int fill(cs_sc_page *out, cs_rows *q, cs_error *err)
{
    out->held_[0] = q;
    size_t n = cs_rows_count(q);
    out->items = cs_calloc(n + 1, sizeof *out->items);
    if (!out->items) return cs_error_set(err, CS_E_NOMEM, "showcase");
    for (size_t i = 0; i < n; i++) {
        cs_sc_product *it = &out->items[i];
        it->id = cs_rows_i64(q, i, L_ID);
        it->name = cs_rows_str(q, i, L_NAME);
        it->description = cs_rows_str(q, i, L_DESC);
        it->category = cs_rows_str(q, i, L_CAT);
        it->category_name = cs_rows_str(q, i, L_CATNAME);
        it->commune = cs_rows_str(q, i, L_COMMUNE);
        it->district_code = cs_rows_str(q, i, L_DCODE);
        it->district_name = cs_rows_str(q, i, L_DNAME);
        it->business_name = nz(q, i, L_BIZ);
        it->image_sha = nz(q, i, L_IMG);
        it->price_vnd = cs_rows_i64(q, i, L_PRICE);
        it->ocop_stars = (int)cs_rows_i64(q, i, L_STARS);
        out->n = i + 1;
        if (parse_listings(cs_rows_str(q, i, L_LISTINGS), it))
            return cs_error_set(err, CS_E_NOMEM, "showcase");
    }
    return 0;
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const cs_sc_choice *)a)->code, ((const cs_sc_choice *)b)->code);
}

/* the total matching the filters and the choices, from the (category, district) groups */
static int facets(cs_sc_page *out, cs_rows *q, const char *c, const char *d, cs_error *err)
{
    out->held_[1] = q;
    size_t n = cs_rows_count(q);
    out->categories = cs_calloc(n + 1, sizeof *out->categories);
    out->districts = cs_calloc(n + 1, sizeof *out->districts);
    if (!out->categories || !out->districts) return cs_error_set(err, CS_E_NOMEM, "showcase");
    for (size_t i = 0; i < n; i++) {
        const char *cat = cs_rows_str(q, i, F_CAT), *dist = cs_rows_str(q, i, F_DIST);
        if ((!*c || !strcmp(c, cat)) && (!*d || !strcmp(d, dist)))
            out->total += cs_rows_i64(q, i, F_N);
        /* rows come by district: a new district is a change from the previous row's */
        if (!out->ndistricts || strcmp(out->districts[out->ndistricts - 1].code, dist))
            out->districts[out->ndistricts++] = (cs_sc_choice){dist, cs_rows_str(q, i, F_DISTNAME)};
        int seen = 0;
        for (size_t k = 0; k < out->ncategories && !seen; k++)
            seen = !strcmp(out->categories[k].code, cat);
        if (!seen)
            out->categories[out->ncategories++] = (cs_sc_choice){cat, cs_rows_str(q, i, F_CATNAME)};
    }
    qsort(out->categories, out->ncategories, sizeof *out->categories, by_code);
    return 0;
}

int cs_showcase_list(cs_db *db, const char *category, const char *district, int64_t page,
                     int64_t per_page, cs_sc_page *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *c = category ? category : "", *d = district ? district : "";
    if (page < 1) page = 1;
    cs_rows *q = NULL;
    if (cs_db_query(db, &q, sql_facets, "", err)) return -1;
    if (facets(out, q, c, d, err)) return -1;
    q = NULL;
    if (cs_db_query(db, &q, sql_list, "ssssii", c, c, d, d, per_page, (page - 1) * per_page, err))
        return -1;
    return fill(out, q, err);
}

/* ---- the shown set kept per read generation ------------------------------------------------
 * Which products are shown, in which order, with their category and former district changes
 * only with a write to products, listings, households or the reference lists — every one of
 * which moves the read generation (core/readgen). So the set is read once per generation, and
 * a page is then its filters applied in memory plus one look-up of its own products' columns:
 * the same rows the two passes over the whole set gave, without the passes. */
typedef struct sc_index {
    atomic_uint refs;
    int64_t gen;
    cs_rows *rows;
} sc_index;
static pthread_mutex_t ix_mu = PTHREAD_MUTEX_INITIALIZER;
static sc_index *ix_cur;

static void ix_release(sc_index *x)
{
    if (x && atomic_fetch_sub(&x->refs, 1) == 1) {
        cs_rows_free(x->rows);
        cs_free(x);
    }
}

/* the set at generation gen (gen < 0: read now, not kept); released by the caller */
static sc_index *ix_get(cs_db *db, int64_t gen, cs_error *err)
{
    if (gen >= 0) {
        pthread_mutex_lock(&ix_mu);
        sc_index *x = ix_cur && ix_cur->gen == gen ? ix_cur : NULL;
        if (x) atomic_fetch_add(&x->refs, 1);
        pthread_mutex_unlock(&ix_mu);
        if (x) return x;
    }
    sc_index *x = cs_calloc(1, sizeof *x);
    if (!x) {
        cs_error_set(err, CS_E_NOMEM, "showcase");
        return NULL;
    }
    if (cs_db_query(db, &x->rows, sql_index, "", err)) {
        cs_free(x);
        return NULL;
    }
    atomic_init(&x->refs, 1);
    x->gen = gen;
    if (gen >= 0) {
        pthread_mutex_lock(&ix_mu);
        if (!ix_cur || ix_cur->gen < gen) { /* a newer set replaces an older one only */
            ix_release(ix_cur);
            atomic_fetch_add(&x->refs, 1);
            ix_cur = x;
        }
        pthread_mutex_unlock(&ix_mu);
    }
    return x;
}

void cs_showcase_forget(void)
{
    pthread_mutex_lock(&ix_mu);
    ix_release(ix_cur);
    ix_cur = NULL;
    pthread_mutex_unlock(&ix_mu);
}

static int choice_cmp_code(const void *a, const void *b)
{
    return strcmp(((const cs_sc_choice *)a)->code, ((const cs_sc_choice *)b)->code);
}
static int choice_cmp_name(const void *a, const void *b)
{
    const cs_sc_choice *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->code, y->code);
}

/* distinct (code, name) of columns cc/nc, sorted by cmp, strings copied into *arena */
static int choices(const cs_rows *q, unsigned cc, unsigned nc,
                   int (*cmp)(const void *, const void *), cs_sc_choice **out, size_t *nout,
                   cs_buf *arena)
{
    size_t n = cs_rows_count(q), k = 0;
    cs_sc_choice *c = cs_calloc(n + 1, sizeof *c);
    if (!c) return -1;
    for (size_t i = 0; i < n; i++) {
        const char *code = cs_rows_str(q, i, cc);
        int seen = 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = !strcmp(c[j].code, code);
        if (!seen) c[k++] = (cs_sc_choice){code, cs_rows_str(q, i, nc)};
    }
    qsort(c, k, sizeof *c, cmp);
    /* offsets into the arena for now; pointers once it stops growing */
    for (size_t j = 0; j < k; j++) {
        size_t oc = arena->len;
        if (cs_buf_append(arena, c[j].code, strlen(c[j].code) + 1)) return cs_free(c), -1;
        size_t on = arena->len;
        if (cs_buf_append(arena, c[j].name, strlen(c[j].name) + 1)) return cs_free(c), -1;
        c[j].code = (const char *)(uintptr_t)oc;
        c[j].name = (const char *)(uintptr_t)on;
    }
    *out = c;
    *nout = k;
    return 0;
}

int cs_showcase_list_at(cs_db *db, int64_t gen, const char *category, const char *district,
                        int64_t page, int64_t per_page, cs_sc_page *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *c = category ? category : "", *d = district ? district : "";
    if (page < 1) page = 1;
    if (per_page < 1) per_page = 1;
    sc_index *x = ix_get(db, gen, err);
    if (!x) return -1;
    const cs_rows *q = x->rows;
    size_t n = cs_rows_count(q);
    /* the filters' choices over the whole shown set, and this page's ids */
    cs_buf arena, ids;
    cs_buf_init(&arena, 0);
    cs_buf_init(&ids, 0);
    int bad =
        choices(q, X_CAT, X_CATNAME, choice_cmp_code, &out->categories, &out->ncategories,
                &arena) ||
        choices(q, X_DIST, X_DISTNAME, choice_cmp_name, &out->districts, &out->ndistricts, &arena);
    int64_t skip = (page - 1) * per_page, taken = 0;
    bad |= cs_buf_puts(&ids, "[");
    for (size_t i = 0; i < n && !bad; i++) {
        if ((*c && strcmp(c, cs_rows_str(q, i, X_CAT))) ||
            (*d && strcmp(d, cs_rows_str(q, i, X_DIST))))
            continue;
        out->total++;
        if (skip > 0) {
            skip--;
            continue;
        }
        if (taken < per_page)
            bad |= cs_buf_printf(&ids, "%s%lld", taken++ ? "," : "",
                                 (long long)cs_rows_i64(q, i, X_ID));
    }
    bad |= cs_buf_puts(&ids, "]");
    ix_release(x);
    if (!bad) {
        out->owned_ = arena.data ? cs_buf_steal(&arena) : NULL;
        for (size_t j = 0; j < out->ncategories; j++) {
            out->categories[j].code = out->owned_ + (uintptr_t)out->categories[j].code;
            out->categories[j].name = out->owned_ + (uintptr_t)out->categories[j].name;
        }
        for (size_t j = 0; j < out->ndistricts; j++) {
            out->districts[j].code = out->owned_ + (uintptr_t)out->districts[j].code;
            out->districts[j].name = out->owned_ + (uintptr_t)out->districts[j].name;
        }
    }
    cs_buf_free(&arena);
    if (bad) {
        cs_buf_free(&ids);
        return cs_error_set(err, CS_E_NOMEM, "showcase");
    }
    cs_rows *r = NULL;
    int rc = taken ? cs_db_query(db, &r, sql_by_ids, "s", ids.data, err) : 0;
    cs_buf_free(&ids);
    if (rc) return -1;
    if (!taken) {
        out->items = cs_calloc(1, sizeof *out->items);
        return out->items ? 0 : cs_error_set(err, CS_E_NOMEM, "showcase");
    }
    return fill(out, r, err);
}

int cs_showcase_product(cs_db *db, int64_t id, cs_sc_page *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    cs_rows *q = NULL;
    if (cs_db_query(db, &q, sql_one, "i", id, err)) return -1;
    if (fill(out, q, err)) return -1;
    out->total = (int64_t)out->n;
    return out->n ? 1 : 0;
}

struct click {
    int64_t listing;
    char *url;
    size_t urlsz;
    int found;
};

static int click_tx(cs_db *db, void *arg, cs_error *err)
{
    struct click *c = arg;
    cs_rows *q = NULL;
    c->found = 0;
    if (cs_db_query(db, &q, sql_click_target, "i", c->listing, err)) return -1;
    if (!cs_rows_count(q)) {
        cs_rows_free(q);
        return 0;
    }
    snprintf(c->url, c->urlsz, "%s", cs_rows_str(q, 0, K_URL));
    int rc = cs_db_exec(db, sql_click_count, "is", cs_rows_i64(q, 0, K_PRODUCT),
                        cs_rows_str(q, 0, K_MP), err) < 0
                 ? -1
                 : 0;
    cs_rows_free(q);
    c->found = !rc;
    return rc;
}

int cs_showcase_click(cs_db *db, int64_t listing_id, char *url, size_t urlsz, cs_error *err)
{
    struct click c = {listing_id, url, urlsz, 0};
    if (cs_db_tx(db, click_tx, &c, err)) return -1;
    return c.found;
}

struct consent {
    const cs_actor *a;
    const char *code;
    int consent;
};

static int consent_tx(cs_db *db, void *arg, cs_error *err)
{
    struct consent *c = arg;
    int64_t n = cs_db_exec(db, sql_consent, "is", (int64_t)c->consent, c->code, err);
    if (n < 0) return -1;
    /* MariaDB counts a row set to the value it had as unchanged: look it up before failing */
    if (n == 0) {
        int64_t found = 0;
        if (cs_db_scalar_i64(
                db, &found, "SELECT COUNT(*) FROM households WHERE code = ? AND status <> 'erased'",
                "s", c->code, err))
            return -1;
        if (!found) return cs_error_set(err, CS_E_NOT_FOUND, "household");
    }
    return cs_audit(db, c->a, "household.showcase_consent", "household", c->code,
                    json_pack("{s:b}", "showcase_name_consent", c->consent), err);
}

int cs_showcase_set_consent(cs_db *db, const cs_actor *a, const char *code, int consent,
                            cs_error *err)
{
    struct consent c = {a, code, consent ? 1 : 0};
    return cs_db_tx(db, consent_tx, &c, err);
}

int cs_showcase_promoted(cs_db *db, int year, cs_rows **out, cs_error *err)
{
    return cs_db_query(db, out, sql_promoted, "i", (int64_t)year, err);
}
