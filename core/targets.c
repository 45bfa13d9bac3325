/* core/targets: counters of the yearly targets, their rebuild, progress and goals. The
 * definitions are in core/targets.h; this file must not format anything for HTTP or files. */
#include "core/targets.h"
#include "core/buf.h"
#include "core/mem.h"
#include <math.h>
#include <stdio.h>
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
#define VN(col) " YEAR(" col " + INTERVAL 7 HOUR) AS y, MONTH(" col " + INTERVAL 7 HOUR) AS m"

/* first active account's marketplace: the earliest event to 'active', else (rows made without
 * history, e.g. bulk loads) the earliest activated_at, else ''. The index hints keep each look-up
 * a few index reads even when the statistics are stale (right after a bulk load the optimizer
 * otherwise scans, and a rebuild of 10,000 households took 10 s instead of 0.1 s). */
#define HH_MP                                                                                      \
    "COALESCE((SELECT a.marketplace_code FROM seller_accounts a FORCE INDEX (uq_account)"          \
    "   JOIN account_events e FORCE INDEX (idx_acev_account) ON e.account_id = a.id"               \
    "   WHERE a.household_id = h.id AND e.to_state = 'active'"                                     \
    "   ORDER BY e.created_at, e.id LIMIT 1),"                                                     \
    " (SELECT a.marketplace_code FROM seller_accounts a FORCE INDEX (uq_account)"                  \
    "   WHERE a.household_id = h.id"                                                               \
    "   AND a.activated_at IS NOT NULL ORDER BY a.activated_at, a.id LIMIT 1), '')"
#define LIVE_MP                                                                                    \
    "COALESCE((SELECT l.marketplace_code FROM listings l FORCE INDEX (uq_listing)"                 \
    "   JOIN listing_events e FORCE INDEX (idx_lev_listing) ON e.listing_id = l.id"                \
    "   WHERE l.product_id = p.id AND e.to_state = 'live'"                                         \
    "   ORDER BY e.created_at, e.id LIMIT 1),"                                                     \
    " (SELECT l.marketplace_code FROM listings l FORCE INDEX (uq_listing)"                         \
    "   WHERE l.product_id = p.id"                                                                 \
    "   AND l.first_live_at IS NOT NULL ORDER BY l.first_live_at, l.id LIMIT 1), '')"
#define SOLD_MP                                                                                    \
    "COALESCE((SELECT l.marketplace_code FROM listings l FORCE INDEX (uq_listing)"                 \
    "   WHERE l.product_id = p.id"                                                                 \
    "   AND l.first_sale_at IS NOT NULL ORDER BY l.first_sale_at, l.id LIMIT 1), '')"

#define HH_SEL(filter)                                                                             \
    "SELECT" VN("h.onboarded_at") ", h.commune_code AS c, " HH_MP " AS mp FROM households h"       \
                                  " WHERE h.youth_led AND h.onboarded_at IS NOT NULL" filter
#define LIVE_SEL(filter)                                                                           \
    "SELECT" VN("p.first_live_at") ", h.commune_code AS c, " LIVE_MP " AS mp FROM products p"      \
                                   " JOIN households h ON h.id = p.household_id WHERE p.flagship " \
                                   "AND p.first_live_at IS NOT NULL" filter
#define SOLD_SEL(filter)                                                                           \
    "SELECT" VN("p.first_sold_at") ", h.commune_code AS c, " SOLD_MP " AS mp FROM products p"      \
                                   " JOIN households h ON h.id = p.household_id WHERE p.flagship " \
                                   "AND p.first_sold_at IS NOT NULL" filter

/* sign × count into the counters; the first parameter is the sign, then the filter's */
#define FILE_INTO(metric, sel)                                                                     \
    "INSERT INTO target_counts (year, month, metric, commune_code, marketplace_code, n)"           \
    " SELECT y, m, '" metric "', c, mp, ? * COUNT(*) FROM (" sel ") x GROUP BY y, m, c, mp"        \
    " ON DUPLICATE KEY UPDATE n = n + VALUES(n)"

static int check_sign(int sign)
{
    return sign == 1 || sign == -1;
}

int cs_targets_file_household(cs_db *db, int64_t household_id, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    return cs_db_exec(db, FILE_INTO("households_onboarded", HH_SEL(" AND h.id = ?")), "ii",
                      (int64_t)sign, household_id, err) < 0
               ? -1
               : 0;
}

int cs_targets_file_product(cs_db *db, int64_t product_id, int metric, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    int64_t r;
    if (metric == CS_M_LIVE)
        r = cs_db_exec(db, FILE_INTO("flagship_products_live", LIVE_SEL(" AND p.id = ?")), "ii",
                       (int64_t)sign, product_id, err);
    else if (metric == CS_M_SOLD)
        r = cs_db_exec(db, FILE_INTO("flagship_products_sold", SOLD_SEL(" AND p.id = ?")), "ii",
                       (int64_t)sign, product_id, err);
    else
        return cs_error_set(err, CS_E_INTERNAL, "metric %d is not a product metric", metric);
    return r < 0 ? -1 : 0;
}

int cs_targets_refile_household(cs_db *db, int64_t household_id, int sign, cs_error *err)
{
    if (!check_sign(sign)) return cs_error_set(err, CS_E_INTERNAL, "sign %d", sign);
    if (cs_targets_file_household(db, household_id, sign, err) ||
        cs_db_exec(db, FILE_INTO("flagship_products_live", LIVE_SEL(" AND p.household_id = ?")),
                   "ii", (int64_t)sign, household_id, err) < 0 ||
        cs_db_exec(db, FILE_INTO("flagship_products_sold", SOLD_SEL(" AND p.household_id = ?")),
                   "ii", (int64_t)sign, household_id, err) < 0)
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
        cs_db_exec(db, FILE_INTO("households_onboarded", HH_SEL("")), "i", (int64_t)1, err) < 0 ||
        cs_db_exec(db, FILE_INTO("flagship_products_live", LIVE_SEL("")), "i", (int64_t)1, err) <
            0 ||
        cs_db_exec(db, FILE_INTO("flagship_products_sold", SOLD_SEL("")), "i", (int64_t)1, err) < 0)
        return -1;
    return cs_db_scalar_i64(db, rows, "SELECT COUNT(*) FROM target_counts", "", err) < 0 ? -1 : 0;
}

int cs_targets_rebuild(cs_db *db, int64_t *rows, cs_error *err)
{
    int64_t n = 0;
    if (cs_db_tx(db, rebuild_tx, &n, err)) return -1;
    if (rows) *rows = n;
    return 0;
}

int cs_targets_verify(cs_db *db, int64_t *diff, cs_error *err)
{
#define NEG(metric, sel)                                                                           \
    " UNION ALL SELECT y, m, '" metric "', c, mp, -COUNT(*) FROM (" sel ") x"                      \
    " GROUP BY y, m, c, mp"
    *diff = 0;
    return cs_db_scalar_i64(
               db, diff,
               "SELECT COUNT(*) FROM (SELECT SUM(n) AS s FROM ("
               "SELECT year AS y, month AS m, CAST(metric AS CHAR) AS k, commune_code AS c,"
               " marketplace_code AS mp, n FROM target_counts" NEG(
                   "households_onboarded", HH_SEL("")) NEG("flagship_products_live", LIVE_SEL(""))
                   NEG("flagship_products_sold",
                       SOLD_SEL("")) ") u GROUP BY y, m, k, c, mp HAVING s <> 0) d",
               "", err) < 0
               ? -1
               : 0;
#undef NEG
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

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int day_of_year(vn_date d)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return before[d.m - 1] + d.d + (d.m > 2 && leap(d.y));
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

static json_t *metric_counts(void)
{
    json_t *o = json_object();
    for (int m = 0; o && m < CS_M__COUNT; m++)
        json_object_set_new(o, metric_names[m], json_integer(0));
    return o;
}

static void add_count(json_t *counts, const char *metric, json_int_t n)
{
    json_t *v = json_object_get(counts, metric);
    if (v) json_integer_set(v, json_integer_value(v) + n);
}

static json_t *pct(json_int_t achieved, json_t *goal)
{
    if (!json_is_integer(goal) || json_integer_value(goal) <= 0) return json_null();
    double p = (double)achieved * 100.0 / (double)json_integer_value(goal);
    return json_real(round(p * 10.0) / 10.0);
}

/* the reference rows of a breakdown, zeros included, indexed by their key */
static int breakdown_rows(cs_db *db, cs_targets_by by, const char *scope, json_t *mps, json_t *rows,
                          json_t *index, cs_error *err)
{
    cs_rows *r = NULL;
    if (by == CS_BY_MONTH) {
        for (int m = 1; m <= 12; m++) {
            char key[4];
            snprintf(key, sizeof key, "%d", m);
            json_t *o = json_pack("{s:i,s:o}", "month", m, "counts", metric_counts());
            if (!o) return cs_error_set(err, CS_E_NOMEM, NULL);
            json_array_append_new(rows, o);
            json_object_set(index, key, o);
        }
        return 0;
    }
    if (by == CS_BY_MARKETPLACE) {
        size_t i;
        json_t *mp;
        json_array_foreach(mps, i, mp)
        {
            json_t *o = json_pack("{s:O,s:O,s:o}", "marketplace_code", json_object_get(mp, "code"),
                                  "marketplace_name", json_object_get(mp, "name"), "counts",
                                  metric_counts());
            if (!o) return cs_error_set(err, CS_E_NOMEM, NULL);
            json_array_append_new(rows, o);
            json_object_set(index, json_string_value(json_object_get(mp, "code")), o);
        }
        return 0;
    }
    if (by == CS_BY_DISTRICT) {
        if (cs_db_query(db, &r,
                        "SELECT d.code, d.name FROM admin_districts d WHERE ? IS NULL OR EXISTS"
                        " (SELECT 1 FROM admin_units u WHERE u.primary_district_code = d.code"
                        "  AND FIND_IN_SET(u.code, ?)) ORDER BY d.code",
                        "ss", scope, scope, err))
            return -1;
        for (size_t i = 0; i < cs_rows_count(r); i++) {
            json_t *o =
                json_pack("{s:s,s:s,s:o}", "former_district_code", cs_rows_str(r, i, 0),
                          "former_district_name", cs_rows_str(r, i, 1), "counts", metric_counts());
            if (!o || json_array_append_new(rows, o)) {
                cs_rows_free(r);
                return cs_error_set(err, CS_E_NOMEM, NULL);
            }
            json_object_set(index, cs_rows_str(r, i, 0), o);
        }
        cs_rows_free(r);
        return 0;
    }
    /* communes, grouped under their former district in the district's official order */
    if (cs_db_query(db, &r,
                    "SELECT u.code, u.name, u.kind, d.code, d.name FROM admin_units u"
                    " JOIN admin_districts d ON d.code = u.primary_district_code"
                    " WHERE ? IS NULL OR FIND_IN_SET(u.code, ?) ORDER BY d.code, u.name, u.code",
                    "ss", scope, scope, err))
        return -1;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        json_t *per_mp = json_object();
        size_t k;
        json_t *mp;
        json_array_foreach(mps, k, mp) json_object_set_new(
            per_mp, json_string_value(json_object_get(mp, "code")), metric_counts());
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:{},s:{}}", "commune_code",
                              cs_rows_str(r, i, 0), "commune_name", cs_rows_str(r, i, 1), "kind",
                              cs_rows_str(r, i, 2), "former_district_code", cs_rows_str(r, i, 3),
                              "former_district_name", cs_rows_str(r, i, 4), "counts",
                              metric_counts(), "marketplaces", per_mp, "goals", "percent");
        if (!o || json_array_append_new(rows, o)) {
            cs_rows_free(r);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        for (int m = 0; m < CS_M__COUNT; m++)
            json_object_set_new(json_object_get(o, "goals"), metric_names[m], json_null());
        json_object_set(index, cs_rows_str(r, i, 0), o);
    }
    cs_rows_free(r);
    return 0;
}

/* the counts of the year, grouped as the breakdown needs: (metric, key, marketplace, n) */
static int load_counts(cs_db *db, int year, cs_targets_by by, const char *scope, cs_rows **r,
                       cs_error *err)
{
#define Q(key, extra)                                                                              \
    "SELECT CAST(t.metric AS CHAR), " key ", " extra ", SUM(t.n) FROM target_counts t"             \
    " LEFT JOIN admin_units u ON u.code = t.commune_code"                                          \
    " WHERE t.year = ? AND (? IS NULL OR FIND_IN_SET(t.commune_code, ?))"                          \
    " GROUP BY t.metric, 2, 3"
    const char *sql;
    switch (by) {
    case CS_BY_COMMUNE:
        sql = Q("t.commune_code", "t.marketplace_code");
        break;
    case CS_BY_DISTRICT:
        sql = Q("COALESCE(u.primary_district_code, '')", "''");
        break;
    case CS_BY_MARKETPLACE:
        sql = Q("t.marketplace_code", "''");
        break;
    case CS_BY_MONTH:
        sql = Q("CAST(t.month AS CHAR)", "''");
        break;
    default:
        sql = Q("''", "''");
        break;
    }
#undef Q
    return cs_db_query(db, r, sql, "iss", (int64_t)year, scope, scope, err);
}

static int build_progress(cs_db *db, int year, cs_targets_by by, vn_date today, const char *scope,
                          json_t *out, cs_error *err)
{
    cs_rows *r = NULL;
    /* marketplaces in display order: postmart.vn and voso.vn first */
    if (cs_db_query(db, &r, "SELECT code, name FROM marketplaces ORDER BY display_order, code", "",
                    err))
        return -1;
    json_t *mps = json_array();
    json_object_set_new(out, "marketplaces", mps);
    for (size_t i = 0; i < cs_rows_count(r); i++)
        json_array_append_new(mps, json_pack("{s:s,s:s}", "code", cs_rows_str(r, i, 0), "name",
                                             cs_rows_str(r, i, 1)));
    cs_rows_free(r);

    json_t *rows = json_array(), *index = json_object();
    if (!rows || !index || breakdown_rows(db, by, scope, mps, rows, index, err)) {
        json_decref(rows);
        json_decref(index);
        return cs_error_failed(err) ? -1 : cs_error_set(err, CS_E_NOMEM, NULL);
    }
    json_int_t total[CS_M__COUNT] = {0};
    json_t *other = NULL; /* counts whose key the reference lists lack ('' marketplace) */
    if (load_counts(db, year, by, scope, &r, err)) {
        json_decref(rows);
        json_decref(index);
        return -1;
    }
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        int m = cs_metric_from_name(cs_rows_str(r, i, 0));
        json_int_t n = cs_rows_i64(r, i, 3);
        if (m < 0) continue;
        total[m] += n;
        if (by == CS_BY_NONE) continue;
        json_t *row = json_object_get(index, cs_rows_str(r, i, 1));
        if (!row) {
            if (!other) {
                other = by == CS_BY_MARKETPLACE
                            ? json_pack("{s:s,s:s,s:o}", "marketplace_code", "", "marketplace_name",
                                        "Không rõ sàn", "counts", metric_counts())
                            : json_pack("{s:s,s:o}", "key", cs_rows_str(r, i, 1), "counts",
                                        metric_counts());
                if (other) json_array_append_new(rows, other);
            }
            if (other) add_count(json_object_get(other, "counts"), metric_names[m], n);
            continue;
        }
        add_count(json_object_get(row, "counts"), metric_names[m], n);
        if (by == CS_BY_COMMUNE) {
            json_t *per =
                json_object_get(json_object_get(row, "marketplaces"), cs_rows_str(r, i, 2));
            if (!per) {
                per = metric_counts();
                json_object_set_new(json_object_get(row, "marketplaces"), cs_rows_str(r, i, 2),
                                    per);
            }
            add_count(per, metric_names[m], n);
        }
    }
    cs_rows_free(r);

    /* goals: the province's, or for a scope the sum of its communes' sub-goals */
    json_t *goal[CS_M__COUNT];
    for (int m = 0; m < CS_M__COUNT; m++)
        goal[m] = json_null();
    if (cs_db_query(db, &r,
                    "SELECT CAST(metric AS CHAR), commune_code, goal FROM targets WHERE year = ?"
                    " AND (commune_code = '' OR ? IS NULL OR FIND_IN_SET(commune_code, ?))",
                    "iss", (int64_t)year, scope, scope, err)) {
        json_decref(rows);
        json_decref(index);
        return -1;
    }
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        int m = cs_metric_from_name(cs_rows_str(r, i, 0));
        if (m < 0) continue;
        const char *c = cs_rows_str(r, i, 1);
        json_int_t g = cs_rows_i64(r, i, 2);
        if (!*c) {
            if (!scope) {
                json_decref(goal[m]);
                goal[m] = json_integer(g);
            }
            continue;
        }
        if (scope) {
            json_int_t before = json_is_integer(goal[m]) ? json_integer_value(goal[m]) : 0;
            json_decref(goal[m]);
            goal[m] = json_integer(before + g);
        }
        json_t *row = by == CS_BY_COMMUNE ? json_object_get(index, c) : NULL;
        if (row)
            json_object_set_new(json_object_get(row, "goals"), metric_names[m], json_integer(g));
    }
    cs_rows_free(r);
    json_decref(index);
    if (by == CS_BY_COMMUNE) {
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            json_t *pc = json_object_get(row, "percent");
            if (!pc) continue;
            for (int m = 0; m < CS_M__COUNT; m++)
                json_object_set_new(
                    pc, metric_names[m],
                    pct(json_integer_value(
                            json_object_get(json_object_get(row, "counts"), metric_names[m])),
                        json_object_get(json_object_get(row, "goals"), metric_names[m])));
        }
    }

    /* the calendar of the year as seen from today */
    int diy = leap(year) ? 366 : 365, elapsed, left, months_left;
    if (today.y > year)
        elapsed = diy, left = 0, months_left = 0;
    else if (today.y < year)
        elapsed = 0, left = diy, months_left = 12;
    else
        elapsed = day_of_year(today), left = diy - elapsed + 1, months_left = 12 - today.m + 1;
    json_object_set_new(out, "days_in_year", json_integer(diy));
    json_object_set_new(out, "days_elapsed", json_integer(elapsed));
    json_object_set_new(out, "days_left", json_integer(left));
    json_object_set_new(out, "months_left", json_integer(months_left));

    json_t *metrics = json_array();
    json_object_set_new(out, "metrics", metrics);
    for (int m = 0; m < CS_M__COUNT; m++) {
        json_int_t a = total[m];
        json_t *o = json_pack("{s:s,s:s,s:o,s:I}", "metric", metric_names[m], "label",
                              metric_labels[m], "goal", goal[m], "achieved", a);
        /* every metric or none: a report must never be silently short of one */
        if (!o || json_array_append_new(metrics, o)) {
            for (int k = m + 1; k < CS_M__COUNT; k++)
                json_decref(goal[k]);
            json_decref(rows);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        int has_goal = json_is_integer(goal[m]) && json_integer_value(goal[m]) > 0;
        json_int_t remaining =
            has_goal && json_integer_value(goal[m]) > a ? json_integer_value(goal[m]) - a : 0;
        json_object_set_new(o, "percent", pct(a, goal[m]));
        json_object_set_new(o, "remaining", has_goal ? json_integer(remaining) : json_null());
        json_object_set_new(o, "needed_per_week",
                            has_goal && left > 0
                                ? json_integer((json_int_t)ceil((double)remaining * 7.0 / left))
                                : json_null());
        json_object_set_new(o, "needed_per_month",
                            has_goal && months_left > 0
                                ? json_integer((remaining + months_left - 1) / months_left)
                                : json_null());
        json_t *proj = json_null();
        if (elapsed > 0) proj = json_integer((json_int_t)llround((double)a * diy / elapsed));
        json_object_set_new(o, "projection", proj);
        json_object_set_new(
            o, "on_track",
            has_goal && json_is_integer(proj)
                ? json_boolean(json_integer_value(proj) >= json_integer_value(goal[m]))
                : json_null());
    }
    if (by != CS_BY_NONE) {
        json_object_set_new(out, "by", json_string(by_names[by]));
        json_object_set_new(out, "breakdown", rows);
    } else {
        json_decref(rows);
    }
    return 0;
}

int cs_targets_progress(cs_db *db, int year, cs_targets_by by, vn_date today,
                        const char *const *communes, size_t ncommunes, json_t **out, cs_error *err)
{
    *out = NULL;
    if (year < 2000 || year > 2100) return cs_error_field(err, "year", CS_F_RANGE, "2000-2100");
    char *scope = NULL;
    if (scope_csv(communes, ncommunes, &scope)) return cs_error_set(err, CS_E_NOMEM, NULL);
    char as_of[11], gen[40];
    vn_date_iso(today, as_of);
    time_t now = time(NULL) + 7 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(gen, sizeof gen, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
    json_t *o = json_pack("{s:i,s:s,s:s,s:s}", "year", year, "as_of", as_of, "timezone",
                          "Asia/Ho_Chi_Minh", "generated_at", gen);
    json_t *sc = scope ? json_array() : json_null();
    for (size_t i = 0; scope && i < ncommunes; i++)
        json_array_append_new(sc, json_string(communes[i]));
    if (o)
        json_object_set_new(o, "scope", sc);
    else
        json_decref(sc);
    int rc = o ? build_progress(db, year, by, today, scope, o, err)
               : cs_error_set(err, CS_E_NOMEM, NULL);
    cs_free(scope);
    if (rc) {
        json_decref(o);
        return -1;
    }
    *out = o;
    return 0;
}

/* ---- goals --------------------------------------------------------------------------------- */

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
        int rc = cs_db_scalar_i64(db, &one, "SELECT 1 FROM admin_units WHERE code = ?", "s",
                                  g->commune, err);
        if (rc < 0) return -1;
        if (rc == 1) return cs_error_field(err, "commune_code", CS_F_COMMUNE, g->commune);
    }
    int64_t before = 0;
    int had = cs_db_scalar_i64(
        db, &before,
        "SELECT goal FROM targets WHERE year = ? AND metric = ? AND commune_code = ? FOR UPDATE",
        "iss", (int64_t)g->year, g->metric, g->commune, err);
    if (had < 0) return -1;
    if (cs_db_exec(db,
                   "INSERT INTO targets (year, metric, commune_code, goal) VALUES (?, ?, ?, ?)"
                   " ON DUPLICATE KEY UPDATE goal = VALUES(goal)",
                   "issi", (int64_t)g->year, g->metric, g->commune, g->goal, err) < 0)
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
