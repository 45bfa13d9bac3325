/* core/units: reads of the admin units and categories reference tables; it never writes them
 * (migrations do) and knows nothing of HTTP. */
#include "core/units.h"
#include <stdio.h>

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
