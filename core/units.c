/* core/units: reads of the admin units and categories reference tables; it never writes them
 * (migrations do) and knows nothing of HTTP. */
#include "core/units.h"
#include "core/mem.h"
#include "core/vn.h"
#include <stdio.h>
#include <string.h>

// clang-format off
static const char SQL_UNIT_EXISTS[] =
    "SELECT COUNT(*)"
    " FROM admin_units"
    " WHERE code = ?";

enum { UN_NAME };
static const char SQL_UNIT_NAME[] =
    "SELECT name"
    " FROM admin_units"
    " WHERE code = ?";

enum { U_CODE, U_NAME, U_KIND, U_DISTRICT_CODE, U_DISTRICT_NAME };
static const char SQL_UNITS[] =
    "SELECT u.code, u.name, u.kind, d.code, d.name"
    " FROM admin_units u"
    " JOIN admin_unit_districts x ON x.unit_code = u.code"
    " JOIN admin_districts d ON d.code = x.district_code"
    " WHERE (? IS NULL OR u.kind = ?)"
    " AND (? IS NULL OR EXISTS (SELECT 1"
    "                            FROM admin_unit_districts y"
    "                            WHERE y.unit_code = u.code AND y.district_code = ?))"
    " ORDER BY u.name, u.code, d.code <> u.primary_district_code, d.code";

enum { C_CODE, C_NAME_VI, C_NAME_EN };
static const char SQL_CATEGORIES[] =
    "SELECT code, name_vi, name_en"
    " FROM categories"
    " ORDER BY name_vi, code";
// clang-format on

int cs_unit_exists(cs_db *db, const char *code, cs_error *err)
{
    int64_t n = 0;
    if (cs_db_scalar_i64(db, &n, SQL_UNIT_EXISTS, "s", code, err) < 0) return -1;
    return n == 1;
}

int cs_unit_name(cs_db *db, const char *code, char *out, size_t outsz, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_UNIT_NAME, "s", code, err)) return -1;
    int found = cs_rows_count(rows) > 0;
    if (found) snprintf(out, outsz, "%s", cs_rows_str(rows, 0, UN_NAME));
    cs_rows_free(rows);
    return found;
}

int cs_units_each(cs_db *db, const char *kind, const char *former_district,
                  void (*fn)(void *arg, const cs_unit_row *u), void *arg, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_UNITS, "ssss", kind, kind, former_district, former_district,
                    err))
        return -1;
    for (size_t i = 0; i < cs_rows_count(rows); i++) {
        cs_unit_row u = {
            .code = cs_rows_str(rows, i, U_CODE),
            .name = cs_rows_str(rows, i, U_NAME),
            .kind = cs_rows_str(rows, i, U_KIND),
            .district_code = cs_rows_str(rows, i, U_DISTRICT_CODE),
            .district_name = cs_rows_str(rows, i, U_DISTRICT_NAME),
        };
        fn(arg, &u);
    }
    cs_rows_free(rows);
    return 0;
}

int cs_categories_each(cs_db *db, void (*fn)(void *arg, const cs_category *c), void *arg,
                       cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_CATEGORIES, "", err)) return -1;
    for (size_t i = 0; i < cs_rows_count(rows); i++) {
        cs_category c = {
            .code = cs_rows_str(rows, i, C_CODE),
            .name_vi = cs_rows_str(rows, i, C_NAME_VI),
            .name_en = cs_rows_str(rows, i, C_NAME_EN),
        };
        fn(arg, &c);
    }
    cs_rows_free(rows);
    return 0;
}

/* ---- pre-2025 communes and wards (issue 12 point 6, the API's side; imports: jobs/import) ---- */

// clang-format off
enum { FO_CODE, FO_NAME };
static const char SQL_FORMER_NAMES[] =
    "SELECT DISTINCT old_code, old_name"
    " FROM commune_merges"
    " ORDER BY old_code";
enum { FM_OLD_NAME, FM_N, FM_FULL, FM_NEW_CODE, FM_NEW_NAME, FM_CANDIDATES };
static const char SQL_FORMER[] =
    "SELECT MIN(m.old_name), COUNT(*), SUM(m.merge_type = 'full'), MIN(u.code), MIN(u.name),"
    "  GROUP_CONCAT(CONCAT(u.name, ' (', u.code, ')') ORDER BY u.code SEPARATOR '; ')"
    " FROM commune_merges m"
    " JOIN admin_units u ON u.code = m.new_code"
    " WHERE m.old_code = ?"
    " GROUP BY m.old_code";
// clang-format on

/* the folded name without its kind ("Phường Trường Thi" → "truong thi"); NULL out of memory */
static char *bare_name(const char *s)
{
    char *f = vn_fold(s);
    if (!f) return NULL;
    static const char *const kinds[] = {"phuong ", "xa ", "thi tran ", "thi xa "};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i]);
        if (!strncmp(f, kinds[i], n)) {
            memmove(f, f + n, strlen(f + n) + 1);
            break;
        }
    }
    return f;
}

int cs_unit_former(cs_db *db, const char *given, const char *field, char new_code[6], char *mapped,
                   size_t mappedsz, cs_error *err)
{
    new_code[0] = '\0';
    if (mappedsz) mapped[0] = '\0';
    if (!given || !*given) return 0;
    size_t len = strlen(given);
    int digits = len == 5 && strspn(given, "0123456789") == 5;
    if (digits) {
        int cur = cs_unit_exists(db, given, err);
        if (cur) return cur < 0 ? -1 : 0; /* a current code means the current commune */
    }
    char old[6] = "";
    if (digits) {
        snprintf(old, sizeof old, "%s", given);
    } else {
        /* an old name, accents and "Xã"/"Phường" aside: one old unit, or ambiguous */
        char *want = bare_name(given);
        if (!want) return cs_error_field(err, field, CS_F_UTF8, NULL);
        cs_rows *r = NULL;
        if (cs_db_query(db, &r, SQL_FORMER_NAMES, "", err)) {
            cs_free(want);
            return -1;
        }
        int found = 0, oom = 0;
        for (size_t i = 0; i < cs_rows_count(r) && !oom; i++) {
            char *b = bare_name(cs_rows_str(r, i, FO_NAME));
            if (!b) oom = 1;
            if (b && !strcmp(b, want) && strcmp(old, cs_rows_str(r, i, FO_CODE))) {
                found++;
                snprintf(old, sizeof old, "%s", cs_rows_str(r, i, FO_CODE));
            }
            cs_free(b);
        }
        cs_rows_free(r);
        cs_free(want);
        if (oom) return cs_error_set(err, CS_E_NOMEM, NULL);
        if (found > 1) return cs_error_field(err, field, CS_F_COMMUNE_AMBIGUOUS, NULL);
        if (!found) return 0;
    }
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_FORMER, "s", old, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return 0;
    }
    int whole = cs_rows_i64(r, 0, FM_N) == 1 && cs_rows_i64(r, 0, FM_FULL) == 1;
    if (!whole) {
        char d[160];
        snprintf(d, sizeof d, "%.150s", cs_rows_str(r, 0, FM_CANDIDATES));
        cs_rows_free(r);
        return cs_error_field(err, field, CS_F_COMMUNE_SPLIT, d);
    }
    snprintf(new_code, 6, "%.5s", cs_rows_str(r, 0, FM_NEW_CODE));
    if (mappedsz)
        snprintf(mapped, mappedsz, "%s (%s) → %s (%s)", cs_rows_str(r, 0, FM_OLD_NAME), old,
                 cs_rows_str(r, 0, FM_NEW_NAME), new_code);
    cs_rows_free(r);
    return 1;
}
