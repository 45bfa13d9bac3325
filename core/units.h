/* core/units: the province's reference data — communes and wards (admin units) with the
 * pre-2025 districts they came from, and the internal product categories. Reads only; the rows
 * change with migrations. */
#ifndef CS_UNITS_H
#define CS_UNITS_H
#include "core/db.h"

/* 1 when admin unit `code` exists, 0 when not, -1 database error. */
int cs_unit_exists(cs_db *db, const char *code, cs_error *err);
/* The name of admin unit `code` into out (outsz bytes). Returns 1, 0 no such unit, -1. */
int cs_unit_name(cs_db *db, const char *code, char *out, size_t outsz, cs_error *err);

/* One (unit, former district) pair; strings valid only during the call. */
typedef struct cs_unit_row {
    const char *code, *name;
    const char *kind; /* "xa" or "phuong" */
    const char *district_code, *district_name;
} cs_unit_row;
/* Call fn for each (unit, former district) pair, by unit name then code; a unit spanning two
 * districts comes twice, adjacent, its primary district first. kind ("xa"/"phuong") and
 * former_district (3 digits: units with any territory from it) filter when not NULL.
 * Returns 0 or -1. */
int cs_units_each(cs_db *db, const char *kind, const char *former_district,
                  void (*fn)(void *arg, const cs_unit_row *u), void *arg, cs_error *err);

/* A pre-2025 commune/ward given where a current commune code is expected (the 2025 merger,
 * table commune_merges): `given` is its 5-digit code or its name (accents, case and
 * "Xã"/"Phường"/"Thị trấn" aside). Returns 1 when it was merged whole into one new commune: its
 * code into new_code and "Phường Trường Thi (14764) → Phường Hạc Thành (14797)" into mapped;
 * 0 when `given` is a current code or no former unit (the caller's own checks then speak); -1
 * after a field error on `field`: split between several new communes (commune_split, the
 * candidates named), a name two former units share (commune_ambiguous), or a database error.
 * A code that is both former and current means the current commune. */
int cs_unit_former(cs_db *db, const char *given, const char *field, char new_code[6], char *mapped,
                   size_t mappedsz, cs_error *err);

/* One internal product category; strings valid only during the call. */
typedef struct cs_category {
    const char *code, *name_vi, *name_en;
} cs_category;
/* Call fn for each category, by Vietnamese name then code. Returns 0 or -1. */
int cs_categories_each(cs_db *db, void (*fn)(void *arg, const cs_category *c), void *arg,
                       cs_error *err);
#endif
