/* core/targets: counters of the yearly targets, their rebuild, progress and goals. The
 * definitions are in core/targets.h; this file computes numbers only: no HTTP, no JSON (the
 * service builds it), no files (core/targets_report.c). */
#include "core/targets.h"
#include "core/instance.h"
#include "core/orders.h"
#include "core/targets_sql.h"
#include "core/buf.h"
#include "core/mem.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const metric_names[CS_M__COUNT] = {
    "households_onboarded", "flagship_products_live", "flagship_products_sold"};
static const char *const metric_labels[CS_M__COUNT] = {
    "Hộ thanh niên mở gian hàng", "Sản phẩm chủ lực lên sàn", "Sản phẩm chủ lực đã bán"};

const char *cs_metric_name(int m)
{
    return m >= 0 && m < CS_M__COUNT ? metric_names[m] : NULL;
}
const char *cs_metric_label_vi(int m)
{
    return m >= 0 && m < CS_M__COUNT ? metric_labels[m] : NULL;
}

int cs_metric_from_name(const char *s)
{
    for (int m = 0; s && m < CS_M__COUNT; m++)
        if (!strcmp(s, metric_names[m])) return m;
    return -1;
}

/* ---- what each entity contributes ----------------------------------------------------------
 * One SELECT per metric gives (y, m, c, mp) for the entities it counts; the counters, their
 * rebuild and the verification all use these same texts, so a counter can only differ from a
 * recomputation if an entity changed without being re-filed. Year and month: Asia/Ho_Chi_Minh
 * is UTC+7 all year (no daylight saving), so adding 7 hours is exact. */
// clang-format off
#define VN(col) " YEAR(" col " + INTERVAL 7 HOUR) AS y, MONTH(" col " + INTERVAL 7 HOUR) AS m"

/* ENV_, ONLY_PRACTICE_ and PAIR_FIRST: core/targets_sql.h (the evidence applies them too). */

/* first active account's marketplace: the earliest event to 'active', else (rows made without
 * history, e.g. bulk loads) the earliest activated_at, else ''. The index hints keep each look-up
 * a few index reads even when the statistics are stale (right after a bulk load the optimizer
 * otherwise scans, and a rebuild of 10,000 households took 10 s instead of 0.1 s). */
#define HH_MP(E) \
    "COALESCE((SELECT a.marketplace_code" \
    "   FROM seller_accounts a FORCE INDEX (uq_account)" \
    "   JOIN account_events e FORCE INDEX (idx_acev_account) ON e.account_id = a.id" \
    "   WHERE a.household_id = h.id AND e.to_state = 'active'" ENV_##E("a") \
    "   ORDER BY e.created_at, e.id" \
    "   LIMIT 1)," \
    " (SELECT a.marketplace_code" \
    "   FROM seller_accounts a FORCE INDEX (uq_account)" \
    "   WHERE a.household_id = h.id AND a.activated_at IS NOT NULL" ENV_##E("a") \
    "   ORDER BY a.activated_at, a.id" \
    "   LIMIT 1), '')"
#define LIVE_MP(E) \
    "COALESCE((SELECT l.marketplace_code" \
    "   FROM listings l FORCE INDEX (uq_listing)" \
    "   JOIN listing_events e FORCE INDEX (idx_lev_listing) ON e.listing_id = l.id" \
    "   WHERE l.product_id = p.id AND e.to_state = 'live'" ENV_##E("l") \
    "   ORDER BY e.created_at, e.id" \
    "   LIMIT 1)," \
    " (SELECT l.marketplace_code" \
    "   FROM listings l FORCE INDEX (uq_listing)" \
    "   WHERE l.product_id = p.id AND l.first_live_at IS NOT NULL" ENV_##E("l") \
    "   ORDER BY l.first_live_at, l.id" \
    "   LIMIT 1), '')"
#define SOLD_MP(E) \
    "COALESCE((SELECT l.marketplace_code" \
    "   FROM listings l FORCE INDEX (uq_listing)" \
    "   WHERE l.product_id = p.id AND l.first_sale_at IS NOT NULL" ENV_##E("l") \
    "   ORDER BY l.first_sale_at, l.id" \
    "   LIMIT 1), '')"

/* the pair of one product, whatever its own link state: the callers file it out before a
 * change and in after it */
#define PAIR_OF \
    " AND (p.household_id, p.flagship_id) =" \
    "  (SELECT o.household_id, o.flagship_id" \
    "    FROM products o" \
    "    WHERE o.id = ?)"

#define PAIR_IS " AND p.household_id = ? AND p.flagship_id = ?"

/* each gives (y, m, c, mp) for the entities it counts, read only by the statements below */
#define HH_SEL(filter, E) \
    "SELECT" VN("h.onboarded_at") ", h.commune_code AS c, " HH_MP(E) " AS mp" \
    " FROM households h" \
    " WHERE h.youth_led AND h.onboarded_at IS NOT NULL" filter \
    ONLY_PRACTICE_##E("seller_accounts", "household_id", "h.id", "activated_at")
#define LIVE_SEL(filter, E) \
    "SELECT" VN("p.first_live_at") ", h.commune_code AS c, " LIVE_MP(E) " AS mp" \
    " FROM products p" \
    " JOIN households h ON h.id = p.household_id" \
    " WHERE p.flagship_status = 'approved' AND p.first_live_at IS NOT NULL" \
    PAIR_FIRST("first_live_at", "first_live_at", E) filter \
    ONLY_PRACTICE_##E("listings", "product_id", "p.id", "first_live_at")
#define SOLD_SEL(filter, E) \
    "SELECT" VN("p.first_sold_at") ", h.commune_code AS c, " SOLD_MP(E) " AS mp" \
    " FROM products p" \
    " JOIN households h ON h.id = p.household_id" \
    " WHERE p.flagship_status = 'approved' AND p.first_sold_at IS NOT NULL" \
    PAIR_FIRST("first_sold_at", "first_sale_at", E) filter \
    ONLY_PRACTICE_##E("listings", "product_id", "p.id", "first_sale_at")

/* sign × count into the counters; the first parameter is the sign, then the filter's */
#define FILE_INTO(metric, sel) \
    "INSERT INTO target_counts (year, month, metric, commune_code, marketplace_code, n)" \
    " SELECT y, m, '" metric "', c, mp, ? * COUNT(*)" \
    " FROM (" sel ") x" \
    " GROUP BY y, m, c, mp" \
    " ON DUPLICATE KEY UPDATE n = n + VALUES(n)"
/* both forms of a statement: [0] production instance, [1] demo/training */
#define BOTH(F, metric, SEL, filter) {F(metric, SEL(filter, prod)), F(metric, SEL(filter, all))}
static const char *const SQL_FILE_HH[2] = BOTH(FILE_INTO, "households_onboarded", HH_SEL, " AND h.id = ?");
static const char *const SQL_FILE_LIVE[2] = BOTH(FILE_INTO, "flagship_products_live", LIVE_SEL, PAIR_OF);
static const char *const SQL_FILE_SOLD[2] = BOTH(FILE_INTO, "flagship_products_sold", SOLD_SEL, PAIR_OF);
static const char *const SQL_FILE_PAIR_LIVE[2] = BOTH(FILE_INTO, "flagship_products_live", LIVE_SEL, PAIR_IS);
static const char *const SQL_FILE_PAIR_SOLD[2] = BOTH(FILE_INTO, "flagship_products_sold", SOLD_SEL, PAIR_IS);
static const char *const SQL_REFILE_LIVE[2] = BOTH(FILE_INTO, "flagship_products_live", LIVE_SEL, " AND p.household_id = ?");
static const char *const SQL_REFILE_SOLD[2] = BOTH(FILE_INTO, "flagship_products_sold", SOLD_SEL, " AND p.household_id = ?");
static const char *const SQL_REBUILD_HH[2] = BOTH(FILE_INTO, "households_onboarded", HH_SEL, "");
static const char *const SQL_REBUILD_LIVE[2] = BOTH(FILE_INTO, "flagship_products_live", LIVE_SEL, "");
static const char *const SQL_REBUILD_SOLD[2] = BOTH(FILE_INTO, "flagship_products_sold", SOLD_SEL, "");
// clang-format on

/* which form of each statement this instance uses */
static int sim(void)
{
    return cs_instance_simulated();
}

static int check_sign(int sign)
{
    return sign == 1 || sign == -1;
}

int cs_targets_file_household(cs_db *db, int64_t household_id, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    return cs_db_exec(db, SQL_FILE_HH[sim()], "ii", (int64_t)sign, household_id, err) < 0 ? -1 : 0;
}

int cs_targets_file_product(cs_db *db, int64_t product_id, int metric, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    int64_t r;
    if (metric == CS_M_LIVE)
        r = cs_db_exec(db, SQL_FILE_LIVE[sim()], "ii", (int64_t)sign, product_id, err);
    else if (metric == CS_M_SOLD)
        r = cs_db_exec(db, SQL_FILE_SOLD[sim()], "ii", (int64_t)sign, product_id, err);
    else
        return cs_error_set(err, CS_E_INTERNAL, "metric %d is not a product metric", metric);
    return r < 0 ? -1 : 0;
}

int cs_targets_refile_household(cs_db *db, int64_t household_id, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    if (cs_targets_file_household(db, household_id, sign, err) ||
        cs_db_exec(db, SQL_REFILE_LIVE[sim()], "ii", (int64_t)sign, household_id, err) < 0 ||
        cs_db_exec(db, SQL_REFILE_SOLD[sim()], "ii", (int64_t)sign, household_id, err) < 0)
        return -1;
    return 0;
}

int cs_targets_file_pair(cs_db *db, int64_t household_id, int64_t entry_id, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    if (cs_db_exec(db, SQL_FILE_PAIR_LIVE[sim()], "iii", (int64_t)sign, household_id, entry_id,
                   err) < 0 ||
        cs_db_exec(db, SQL_FILE_PAIR_SOLD[sim()], "iii", (int64_t)sign, household_id, entry_id,
                   err) < 0)
        return -1;
    return 0;
}

int cs_targets_refile_product(cs_db *db, int64_t product_id, int sign, cs_error *err)
{
    if (cs_targets_file_product(db, product_id, CS_M_LIVE, sign, err) ||
        cs_targets_file_product(db, product_id, CS_M_SOLD, sign, err))
        return -1;
    return 0;
}

static int rebuild_tx(cs_db *db, void *arg, cs_error *err)
{
    int64_t *rows = arg;
    if (cs_db_exec(db, "DELETE FROM target_counts", "", err) < 0 ||
        cs_db_exec(db, SQL_REBUILD_HH[sim()], "i", (int64_t)1, err) < 0 ||
        cs_db_exec(db, SQL_REBUILD_LIVE[sim()], "i", (int64_t)1, err) < 0 ||
        cs_db_exec(db, SQL_REBUILD_SOLD[sim()], "i", (int64_t)1, err) < 0)
        return -1;
    return cs_db_scalar_i64(db, rows,
                            "SELECT COUNT(*)"
                            " FROM target_counts",
                            "", err) < 0
               ? -1
               : 0;
}

int cs_targets_rebuild(cs_db *db, int64_t *rows, cs_error *err)
{
    int64_t n = 0;
    if (cs_db_tx(db, rebuild_tx, &n, err)) return -1;
    if (rows) *rows = n;
    return 0;
}

// clang-format off
/* the counters minus a recomputation, per cell; a cell that is not 0 differs. Five parts, each
   within the length a compiler must support; cs_targets_verify joins them. */
#define NEG(metric, sel) \
    " UNION ALL" \
    " SELECT y, m, '" metric "', c, mp, -COUNT(*)" \
    " FROM (" sel ") x" \
    " GROUP BY y, m, c, mp"
#define VERIFY_HEAD \
    "SELECT COUNT(*)" \
    " FROM (SELECT SUM(n) AS s" \
    "  FROM (SELECT year AS y, month AS m, CAST(metric AS CHAR) AS k, commune_code AS c," \
    "         marketplace_code AS mp, n" \
    "        FROM target_counts"
#define VERIFY_TAIL \
    "  ) u" \
    "  GROUP BY y, m, k, c, mp" \
    "  HAVING s <> 0) d"
#define VERIFY_PARTS(E) \
    {VERIFY_HEAD, NEG("households_onboarded", HH_SEL("", E)), \
     NEG("flagship_products_live", LIVE_SEL("", E)), \
     NEG("flagship_products_sold", SOLD_SEL("", E)), VERIFY_TAIL}
static const char *const SQL_VERIFY_ENV[2][5] = {VERIFY_PARTS(prod), VERIFY_PARTS(all)};
#undef VERIFY_PARTS
#undef NEG
// clang-format on

int cs_targets_verify(cs_db *db, int64_t *diff, cs_error *err)
{
    *diff = 0;
    cs_buf sql;
    cs_buf_init(&sql, 16384);
    int rc = 0;
    for (int i = 0; i < 5; i++)
        rc |= cs_buf_puts(&sql, SQL_VERIFY_ENV[sim()][i]);
    if (rc) {
        cs_buf_free(&sql);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    rc = cs_db_scalar_i64(db, diff, sql.data, "", err) < 0 ? -1 : 0;
    cs_buf_free(&sql);
    return rc;
}

/* ---- pace and projection ------------------------------------------------------------------- */

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[m - 1] + (m == 2 && leap(y));
}

static int day_of_year(vn_date d)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return before[d.m - 1] + d.d + (d.m > 2 && leap(d.y));
}

int cs_targets_percent(int64_t achieved, int64_t goal, double *pct)
{
    if (goal <= 0) return 0;
    double p = (double)achieved * 100.0 / (double)goal;
    *pct = round(p * 10.0) / 10.0;
    return 1;
}

/* counts and goals beyond this are not counts of households or products: refusing them keeps
 * every product below (remaining × 7, achieved × 366) far from int64_t overflow */
#define COUNT_MAX INT64_C(1000000000000000)

int cs_targets_pace_of(int64_t goal, int64_t achieved, int year, vn_date today,
                       cs_targets_pace *out)
{
    memset(out, 0, sizeof *out);
    if (year < 1 || year > 9999 || today.y < 1 || today.y > 9999 || today.m < 1 || today.m > 12 ||
        today.d < 1 || today.d > days_in_month(today.y, today.m) || goal > COUNT_MAX ||
        achieved > COUNT_MAX || achieved < -COUNT_MAX)
        return -1;
    int diy = leap(year) ? 366 : 365;
    out->days_in_year = diy;
    if (today.y > year) {
        out->days_elapsed = diy;
    } else if (today.y < year) {
        out->days_left = diy;
        out->months_left = 12;
    } else {
        out->days_elapsed = day_of_year(today);
        out->days_left = diy - out->days_elapsed + 1;
        out->months_left = 12 - today.m + 1;
    }
    int has_goal = goal > 0;
    out->has_percent = cs_targets_percent(achieved, goal, &out->percent);
    if (has_goal) {
        out->has_remaining = 1;
        out->remaining = goal > achieved ? goal - achieved : 0;
    }
    if (has_goal && out->days_left > 0) {
        out->has_per_week = 1;
        out->needed_per_week = (out->remaining * 7 + out->days_left - 1) / out->days_left;
    }
    if (has_goal && out->months_left > 0) {
        out->has_per_month = 1;
        out->needed_per_month = (out->remaining + out->months_left - 1) / out->months_left;
    }
    if (out->days_elapsed > 0) {
        out->has_projection = 1;
        out->projection = llround((double)achieved * diy / out->days_elapsed);
    }
    if (has_goal && out->has_projection) {
        out->has_on_track = 1;
        out->on_track = out->projection >= goal;
    }
    return 0;
}

/* ---- progress ------------------------------------------------------------------------------ */

static const char *const by_names[] = {"", "commune", "former_district", "marketplace", "month"};

int cs_targets_by_from_name(const char *s)
{
    if (!s || !*s) return CS_BY_NONE;
    for (int i = 1; i < (int)(sizeof by_names / sizeof by_names[0]); i++)
        if (!strcmp(s, by_names[i])) return i;
    return -1;
}

const char *cs_targets_by_name(cs_targets_by by)
{
    return (unsigned)by < sizeof by_names / sizeof by_names[0] ? by_names[by] : "";
}

/* The scope as "c1,c2" for FIND_IN_SET (NULL = everything); -1 out of memory. */
static int scope_csv(const char *const *c, size_t n, char **out)
{
    *out = NULL;
    if (!c) return 0;
    cs_buf b;
    cs_buf_init(&b, 0);
    /* an empty scope (a volunteer without communes) becomes "": FIND_IN_SET never matches it */
    for (size_t i = 0; i < n; i++)
        if ((i && cs_buf_putc(&b, ',')) || cs_buf_puts(&b, c[i])) {
            cs_buf_free(&b);
            return -1;
        }
    *out = cs_buf_steal(&b);
    return *out ? 0 : -1;
}

// clang-format off
enum { MP_CODE, MP_NAME };
static const char SQL_MARKETPLACES[] =
    "SELECT code, name"
    " FROM marketplaces"
    " ORDER BY display_order, code";

enum { D_CODE, D_NAME };
static const char SQL_DISTRICTS[] =
    "SELECT d.code, d.name"
    " FROM admin_districts d"
    " WHERE ? IS NULL"
    "  OR EXISTS (SELECT 1 FROM admin_units u"
    "   WHERE u.primary_district_code = d.code AND FIND_IN_SET(u.code, ?))"
    " ORDER BY d.code";

/* communes, grouped under their former district in the district's official order */
enum { U_CODE, U_NAME, U_KIND, U_DISTRICT_CODE, U_DISTRICT_NAME };
static const char SQL_COMMUNES[] =
    "SELECT u.code, u.name, u.kind, d.code, d.name"
    " FROM admin_units u"
    " JOIN admin_districts d ON d.code = u.primary_district_code"
    " WHERE ? IS NULL OR FIND_IN_SET(u.code, ?)"
    " ORDER BY d.code, u.name, u.code";

/* the counts of the year, grouped as the breakdown needs */
enum { K_METRIC, K_KEY, K_MP, K_N };
#define COUNTS_SQL(key, mp)                                                                  \
    "SELECT CAST(t.metric AS CHAR), " key ", " mp ", SUM(t.n)"                                 \
    " FROM target_counts t"                                                                    \
    " LEFT JOIN admin_units u ON u.code = t.commune_code"                                      \
    " WHERE t.year = ? AND (? IS NULL OR FIND_IN_SET(t.commune_code, ?))"                      \
    " GROUP BY t.metric, 2, 3"
static const char *const SQL_COUNTS[] = {
    [CS_BY_NONE] = COUNTS_SQL("''", "''"),
    [CS_BY_COMMUNE] = COUNTS_SQL("t.commune_code", "t.marketplace_code"),
    [CS_BY_DISTRICT] = COUNTS_SQL("COALESCE(u.primary_district_code, '')", "''"),
    [CS_BY_MARKETPLACE] = COUNTS_SQL("t.marketplace_code", "''"),
    [CS_BY_MONTH] = COUNTS_SQL("CAST(t.month AS CHAR)", "''"),
};
#undef COUNTS_SQL

/* goals: the province's ('' commune), or for a scope its communes' sub-goals */
enum { G_METRIC, G_COMMUNE, G_GOAL };
static const char SQL_GOALS[] =
    "SELECT CAST(metric AS CHAR), commune_code, goal"
    " FROM targets"
    " WHERE year = ?"
    " AND (commune_code = '' OR ? IS NULL OR FIND_IN_SET(commune_code, ?))";
// clang-format on

static const char *const month_keys[12] = {"1", "2", "3", "4",  "5",  "6",
                                           "7", "8", "9", "10", "11", "12"};

/* the reference rows by key (commune, district or marketplace code, month number), sorted
 * for bsearch: a commune breakdown meets a few thousand counter groups */
struct key_ix {
    const char *key;
    size_t row;
};

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct key_ix *)a)->key, ((const struct key_ix *)b)->key);
}

static cs_targets_row *find_row(cs_progress *p, const struct key_ix *ix, size_t nref,
                                const char *key)
{
    struct key_ix k = {key, 0};
    const struct key_ix *hit = nref ? bsearch(&k, ix, nref, sizeof *ix, key_cmp) : NULL;
    return hit ? &p->rows[hit->row] : NULL;
}

/* per-marketplace counts of a commune row, NULL when memory runs out */
static int64_t *commune_mp(cs_targets_row *row, const char *code)
{
    for (size_t k = 0; k < row->nmp; k++)
        if (!strcmp(row->mp[k].code, code)) return row->mp[k].n;
    if (row->nmp == row->mpcap) {
        size_t cap = row->mpcap ? row->mpcap * 2 : 4;
        cs_targets_mpcount *m = cs_realloc(row->mp, cap * sizeof *m);
        if (!m) return NULL;
        row->mp = m;
        row->mpcap = cap;
    }
    cs_targets_mpcount *c = &row->mp[row->nmp++];
    memset(c, 0, sizeof *c);
    c->code = code;
    return c->n;
}

/* the reference rows of a breakdown, zeros included, and their index (*ix, cs_free) */
static int breakdown_rows(cs_db *db, cs_progress *p, const char *scope, struct key_ix **ix,
                          cs_error *err)
{
    *ix = NULL;
    cs_rows *r = NULL;
    size_t n = 0;
    if (p->by == CS_BY_MONTH)
        n = 12;
    else if (p->by == CS_BY_MARKETPLACE)
        n = p->nmps;
    else if (p->by == CS_BY_DISTRICT || p->by == CS_BY_COMMUNE) {
        if (cs_db_query(db, &r, p->by == CS_BY_DISTRICT ? SQL_DISTRICTS : SQL_COMMUNES, "ss", scope,
                        scope, err))
            return -1;
        p->held_[1] = r;
        n = cs_rows_count(r);
    }
    /* one more for the row of counts whose key the reference lists lack */
    p->rows = cs_calloc(n + 1, sizeof *p->rows);
    *ix = cs_calloc(n + 1, sizeof **ix);
    if (!p->rows || !*ix) return cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; i < n; i++) {
        cs_targets_row *row = &p->rows[i];
        for (int m = 0; m < CS_M__COUNT; m++)
            row->goal[m] = CS_TARGETS_NO_GOAL;
        const char *key = NULL;
        switch (p->by) {
        case CS_BY_MONTH:
            row->month = (int)i + 1;
            key = month_keys[i];
            break;
        case CS_BY_MARKETPLACE:
            key = row->code = p->mps[i].code;
            row->name = p->mps[i].name;
            break;
        case CS_BY_DISTRICT:
            key = row->code = cs_rows_str(r, i, D_CODE);
            row->name = cs_rows_str(r, i, D_NAME);
            break;
        default:
            key = row->code = cs_rows_str(r, i, U_CODE);
            row->name = cs_rows_str(r, i, U_NAME);
            row->kind = cs_rows_str(r, i, U_KIND);
            row->district_code = cs_rows_str(r, i, U_DISTRICT_CODE);
            row->district_name = cs_rows_str(r, i, U_DISTRICT_NAME);
            row->mp = cs_calloc(p->nmps + 1, sizeof *row->mp);
            if (!row->mp) return cs_error_set(err, CS_E_NOMEM, NULL);
            row->mpcap = p->nmps + 1;
            for (size_t k = 0; k < p->nmps; k++)
                row->mp[row->nmp++].code = p->mps[k].code;
            break;
        }
        (*ix)[i] = (struct key_ix){key, i};
        p->nrows++;
    }
    qsort(*ix, p->nrows, sizeof **ix, key_cmp);
    return 0;
}

/* add the year's counts to the totals and the breakdown rows */
static int add_counts(cs_db *db, cs_progress *p, const char *scope, const struct key_ix *ix,
                      cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_COUNTS[p->by], "iss", (int64_t)p->year, scope, scope, err))
        return -1;
    p->held_[2] = r;
    size_t nref = p->nrows;
    cs_targets_row *other = NULL;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        int m = cs_metric_from_name(cs_rows_str(r, i, K_METRIC));
        int64_t n = cs_rows_i64(r, i, K_N);
        if (m < 0) continue;
        p->metrics[m].achieved += n;
        if (p->by == CS_BY_NONE) continue;
        const char *key = cs_rows_str(r, i, K_KEY);
        cs_targets_row *row = find_row(p, ix, nref, key);
        if (!row) {
            /* every unknown key shares one row, named after the first one met */
            if (!other) {
                other = &p->rows[p->nrows++];
                other->other = 1;
                other->key = key;
                for (int g = 0; g < CS_M__COUNT; g++)
                    other->goal[g] = CS_TARGETS_NO_GOAL;
            }
            other->counts[m] += n;
            continue;
        }
        row->counts[m] += n;
        if (p->by == CS_BY_COMMUNE) {
            int64_t *per = commune_mp(row, cs_rows_str(r, i, K_MP));
            if (!per) return cs_error_set(err, CS_E_NOMEM, NULL);
            per[m] += n;
        }
    }
    return 0;
}

static int add_goals(cs_db *db, cs_progress *p, const char *scope, const struct key_ix *ix,
                     size_t nref, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_GOALS, "iss", (int64_t)p->year, scope, scope, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        int m = cs_metric_from_name(cs_rows_str(r, i, G_METRIC));
        if (m < 0) continue;
        const char *c = cs_rows_str(r, i, G_COMMUNE);
        int64_t g = cs_rows_i64(r, i, G_GOAL);
        cs_targets_metric *t = &p->metrics[m];
        if (!*c) {
            if (!scope) t->goal = g;
            continue;
        }
        if (scope) t->goal = (t->goal == CS_TARGETS_NO_GOAL ? 0 : t->goal) + g;
        cs_targets_row *row = p->by == CS_BY_COMMUNE ? find_row(p, ix, nref, c) : NULL;
        if (row) row->goal[m] = g;
    }
    cs_rows_free(r);
    return 0;
}

static int build_progress(cs_db *db, cs_progress *p, const char *scope, cs_error *err)
{
    cs_rows *r = NULL;
    /* marketplaces in display order: postmart.vn and voso.vn first */
    if (cs_db_query(db, &r, SQL_MARKETPLACES, "", err)) return -1;
    p->held_[0] = r;
    p->mps = cs_calloc(cs_rows_count(r) + 1, sizeof *p->mps);
    if (!p->mps) return cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; i < cs_rows_count(r); i++)
        p->mps[p->nmps++] = (cs_targets_mp){cs_rows_str(r, i, MP_CODE), cs_rows_str(r, i, MP_NAME)};

    struct key_ix *ix = NULL;
    int rc = breakdown_rows(db, p, scope, &ix, err);
    size_t nref = p->nrows;
    if (!rc) rc = add_counts(db, p, scope, ix, err);
    if (!rc) rc = add_goals(db, p, scope, ix, nref, err);
    cs_free(ix);
    if (rc) return -1;
    if (p->by == CS_BY_NONE) {
        cs_free(p->rows);
        p->rows = NULL;
        p->nrows = 0;
    }
    if (cs_targets_pace_of(CS_TARGETS_NO_GOAL, 0, p->year, p->as_of, &p->calendar))
        return cs_error_field(err, "as_of", CS_F_DATE_INVALID, NULL);
    for (int m = 0; m < CS_M__COUNT; m++)
        if (cs_targets_pace_of(p->metrics[m].goal, p->metrics[m].achieved, p->year, p->as_of,
                               &p->metrics[m].pace))
            return cs_error_set(err, CS_E_INTERNAL, "targets: count out of range");
    return 0;
}

/* each commune row's orders, units and revenue from order_counts (the report's sales columns) */
static int commune_sales(cs_db *db, cs_progress *p, const char *scope, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_orders_breakdown(db, p->year, "commune", scope, &r, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        const char *code = cs_rows_str(r, i, CS_OBY_KEY);
        for (size_t k = 0; code && k < p->nrows; k++) {
            cs_targets_row *row = &p->rows[k];
            if (row->other || !row->code || strcmp(row->code, code)) continue;
            row->sales_orders = cs_rows_i64(r, i, CS_OBY_ORDERS);
            row->sales_units = cs_rows_i64(r, i, CS_OBY_UNITS);
            row->sales_revenue_vnd = cs_rows_i64(r, i, CS_OBY_REVENUE);
            break;
        }
    }
    cs_rows_free(r);
    return 0;
}

int cs_targets_progress(cs_db *db, int year, cs_targets_by by, vn_date today,
                        const char *const *communes, size_t ncommunes, cs_progress *out,
                        cs_error *err)
{
    memset(out, 0, sizeof *out);
    if (year < 2000 || year > 2100) return cs_error_field(err, "year", CS_F_RANGE, "2000-2100");
    if ((unsigned)by >= sizeof by_names / sizeof by_names[0])
        return cs_error_set(err, CS_E_INTERNAL, "by %d", (int)by);
    out->year = year;
    out->as_of = today;
    out->generated_at = time(NULL);
    out->by = by;
    out->simulated = cs_instance_simulated();
    for (int m = 0; m < CS_M__COUNT; m++)
        out->metrics[m].goal = CS_TARGETS_NO_GOAL;
    char *scope = NULL;
    int rc = 0;
    if (communes) {
        out->scope = cs_calloc(ncommunes + 1, sizeof *out->scope);
        for (size_t i = 0; out->scope && i < ncommunes; i++, out->nscope++)
            if (!(out->scope[i] = cs_strdup(communes[i]))) rc = -1;
        if (!out->scope) rc = -1;
    }
    if (rc || scope_csv(communes, ncommunes, &scope)) {
        cs_targets_progress_free(out);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    rc = build_progress(db, out, scope, err);
    if (!rc)
        rc = cs_orders_totals(db, year, scope, &out->sales_orders, &out->sales_units,
                              &out->sales_revenue_vnd, err);
    if (!rc && by == CS_BY_COMMUNE) rc = commune_sales(db, out, scope, err);
    cs_free(scope);
    if (rc) {
        cs_targets_progress_free(out);
        return -1;
    }
    return 0;
}

void cs_targets_progress_free(cs_progress *p)
{
    if (!p) return;
    for (size_t i = 0; p->rows && i < p->nrows; i++)
        cs_free(p->rows[i].mp);
    cs_free(p->rows);
    cs_free(p->mps);
    for (size_t i = 0; i < sizeof p->held_ / sizeof p->held_[0]; i++)
        cs_rows_free(p->held_[i]);
    for (size_t i = 0; p->scope && i < p->nscope; i++)
        cs_free(p->scope[i]);
    cs_free(p->scope);
    memset(p, 0, sizeof *p);
}

/* ---- goals --------------------------------------------------------------------------------- */

// clang-format off
static const char SQL_COMMUNE_EXISTS[] =
    "SELECT 1"
    " FROM admin_units"
    " WHERE code = ?";
static const char SQL_GOAL_FOR_UPDATE[] =
    "SELECT goal"
    " FROM targets"
    " WHERE year = ? AND metric = ? AND commune_code = ?"
    " FOR UPDATE";
static const char SQL_GOAL_SET[] =
    "INSERT INTO targets (year, metric, commune_code, goal)"
    " VALUES (?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE goal = VALUES(goal)";
// clang-format on

struct goal_ctx {
    const cs_actor *a;
    int year;
    const char *metric, *commune;
    int64_t goal;
};

static int goal_tx(cs_db *db, void *arg, cs_error *err)
{
    struct goal_ctx *g = arg;
    if (*g->commune) {
        int64_t one = 0;
        int rc = cs_db_scalar_i64(db, &one, SQL_COMMUNE_EXISTS, "s", g->commune, err);
        if (rc < 0) return -1;
        if (rc == 1) return cs_error_field(err, "commune_code", CS_F_COMMUNE, g->commune);
    }
    int64_t before = 0;
    int had = cs_db_scalar_i64(db, &before, SQL_GOAL_FOR_UPDATE, "iss", (int64_t)g->year, g->metric,
                               g->commune, err);
    if (had < 0) return -1;
    if (cs_db_exec(db, SQL_GOAL_SET, "issi", (int64_t)g->year, g->metric, g->commune, g->goal,
                   err) < 0)
        return -1;
    char id[48];
    snprintf(id, sizeof id, "%d/%s%s%s", g->year, g->metric, *g->commune ? "/" : "", g->commune);
    return cs_audit(db, g->a, "target.set", "target", id,
                    json_pack("{s:i,s:s,s:s,s:I,s:o}", "year", g->year, "metric", g->metric,
                              "commune_code", g->commune, "goal", (json_int_t)g->goal, "previous",
                              had == 0 ? json_integer(before) : json_null()),
                    err);
}

int cs_targets_set_goal(cs_db *db, const cs_actor *a, int year, const char *metric,
                        const char *commune, int64_t goal, cs_error *err)
{
    if (year < 2020 || year > 2100) cs_error_field(err, "year", CS_F_RANGE, "2020-2100");
    if (cs_metric_from_name(metric) < 0) cs_error_field(err, "metric", CS_F_ENUM, NULL);
    if (goal < 0 || goal > 100000000) cs_error_field(err, "goal", CS_F_RANGE, "0-100000000");
    if (commune && *commune && (strlen(commune) != 5 || strspn(commune, "0123456789") != 5))
        cs_error_field(err, "commune_code", CS_F_FORMAT, "5 digits");
    if (err->nfields) return cs_error_set(err, CS_E_VALIDATION, NULL);
    struct goal_ctx g = {a, year, metric, commune ? commune : "", goal};
    return cs_db_tx(db, goal_tx, &g, err);
}
