/* tests/integration/test_migrate: migrations and reference data against the real MariaDB that
 * scripts/run-tests starts (skips with 77 without one). Each test makes its own database. */
#include "core/config.h"
#include "core/db.h"
#include "core/mem.h"
#include "tests/support/tsup.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

/* Connect to a new empty database "<db.name>_<suffix>"; *prev gets the name to switch back to. */
static cs_db *fresh_db(const char *suffix, char prev[80])
{
    const char *name = tsup_create_database(suffix);
    snprintf(prev, 80, "%s", tsup_use_database(name));
    return tsup_connect();
}

static void back_to(cs_db *db, const char *prev)
{
    char name[80];
    snprintf(name, sizeof name, "%s", cs_cfg_str("db.name"));
    cs_db_close(db);
    tsup_use_database(prev);
    tsup_drop_database(name);
}

/* Run migrate with its output captured. Returns its result; *text is cs_free'd by the caller. */
static int migrate(cs_db *db, const char *dir, cs_migrate_report *rep, cs_error *err, char **text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    cs_error_clear(err);
    int rc = cs_db_migrate_ex(db, dir, out, rep, err);
    fclose(out);
    *text = cs_strdup(buf ? buf : "");
    free(buf);
    return rc;
}

static long csv_rows(const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/%s", cs_cfg_str("schema.dir"), file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long n = 0;
    int c, last = '\n';
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') n++;
        last = c;
    }
    if (last != '\n') n++;
    fclose(f);
    return n - 1; /* header */
}

static void test_fresh_then_idempotent(void **state)
{
    (void)state;
    char prev[80];
    cs_db *db = fresh_db("fresh", prev);
    cs_error err;
    cs_migrate_report rep;
    char *text;

    assert_int_equal(cs_db_migrations_pending(db, &err), 1);
    assert_int_equal(migrate(db, NULL, &rep, &err, &text), 0);
    assert_true(rep.files >= 5);
    assert_int_equal(rep.applied, rep.files);
    assert_int_equal(rep.already, 0);
    assert_non_null(strstr(text, "applied 001_reference.sql"));
    assert_true(rep.rows_inserted > 0);
    cs_free(text);

    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM schema_migrations", ""),
                     (int64_t)rep.files);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM schema_migrations WHERE LENGTH(checksum) = 64 "
                              "AND applied_at IS NOT NULL AND name REGEXP '^[0-9]{3}_.*[.]sql$'",
                              ""),
                     (int64_t)rep.files);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM admin_units", ""), 166);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM admin_districts", ""), 27);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM admin_units WHERE kind = 'phuong'", ""),
                     19);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM admin_units WHERE kind = 'xa'", ""), 147);
    /* every unit has its primary district among its links, and the folded name is ASCII */
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM admin_units u JOIN admin_unit_districts d "
                 "ON d.unit_code = u.code AND d.district_code = u.primary_district_code",
                 ""),
        166);
    assert_true(tsup_i64(db, "SELECT COUNT(*) FROM admin_unit_districts", "") > 166);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM admin_units WHERE code = '14797' AND "
                              "name_folded = 'phuong hac thanh' AND primary_district_code = '380'",
                              ""),
                     1);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM provinces", ""),
                     csv_rows("vn_provinces_pre2025.csv"));
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM categories", ""),
                     csv_rows("categories.csv"));
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM flagship_products", ""),
                     csv_rows("thanhhoa_products.csv"));
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM flagship_products WHERE ocop_stars IS NULL", "") > 0, 1);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM marketplaces", ""),
                     csv_rows("marketplaces.csv"));
    for (int64_t y = 2024; y <= 2027; y++) {
        assert_int_equal(
            tsup_i64(db,
                     "SELECT goal FROM targets WHERE year = ? AND metric = 'households_onboarded' "
                     "AND commune_code = ''",
                     "i", y),
            2000);
        assert_int_equal(
            tsup_i64(
                db,
                "SELECT goal FROM targets WHERE year = ? AND metric = 'flagship_products_live' "
                "AND commune_code = ''",
                "i", y),
            50);
    }
    assert_int_equal(cs_db_migrations_pending(db, &err), 0);

    /* the second run applies nothing and changes no row */
    cs_migrate_report rep2;
    assert_int_equal(migrate(db, NULL, &rep2, &err, &text), 0);
    assert_int_equal(rep2.applied, 0);
    assert_int_equal(rep2.already, rep.files);
    assert_int_equal(rep2.rows_inserted, 0);
    assert_int_equal(rep2.rows_updated, 0);
    assert_int_equal(rep2.rows_deleted, 0);
    assert_true(rep2.rows_unchanged >= rep.rows_inserted);
    assert_non_null(strstr(text, "nothing to apply"));
    assert_null(strstr(text, "applied 0"));
    cs_free(text);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM schema_migrations", ""),
                     (int64_t)rep.files);
    back_to(db, prev);
}

/* Goals edited by an admin survive migrate; edited reference rows are put back. */
static void test_targets_kept_reference_restored(void **state)
{
    (void)state;
    cs_db *db = tsup_connect(); /* this binary's own database, migrated by run-tests */
    cs_error err;
    cs_migrate_report rep;
    char *text;
    tsup_exec(
        db, "UPDATE targets SET goal = 2500 WHERE year = 2026 AND metric = 'households_onboarded'",
        "");
    tsup_exec(db, "DELETE FROM targets WHERE year = 2027 AND metric = 'flagship_products_live'",
              "");
    tsup_exec(db, "UPDATE admin_districts SET name = 'sai tên' WHERE code = '380'", "");
    tsup_exec(
        db, "DELETE FROM admin_unit_districts WHERE unit_code = '16417' AND district_code = '405'",
        "");
    tsup_exec(db,
              "INSERT INTO admin_unit_districts (unit_code, district_code) VALUES ('14797', '381')",
              "");
    assert_int_equal(migrate(db, NULL, &rep, &err, &text), 0);
    cs_free(text);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT goal FROM targets WHERE year = 2026 AND metric = 'households_onboarded'",
                 ""),
        2500);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT goal FROM targets WHERE year = 2027 AND metric = 'flagship_products_live'",
                 ""),
        50);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM admin_districts WHERE code = '380' AND name = "
                              "'Thành phố Thanh Hóa'",
                              ""),
                     1);
    assert_int_equal(rep.rows_updated, 1);
    assert_int_equal(rep.rows_inserted, 2); /* the deleted goal and the deleted link */
    assert_int_equal(rep.rows_deleted, 1);  /* the link the file does not list */
    assert_int_equal(
        tsup_i64(db, "SELECT COUNT(*) FROM admin_unit_districts WHERE unit_code = '14797'", ""), 1);
    tsup_exec(
        db, "UPDATE targets SET goal = 2000 WHERE year = 2026 AND metric = 'households_onboarded'",
        "");
    cs_db_close(db);
}

/* Editing an applied file is refused, naming it; nothing else is applied. */
static void test_changed_migration_refused(void **state)
{
    (void)state;
    char *dir = tsup_schema_copy();
    char path[4200];
    snprintf(path, sizeof path, "%s/sql/002_access.sql", dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("\n-- an innocent-looking edit\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/sql/950_never.sql", dir);
    assert_int_equal(tsup_write_file(path, "CREATE TABLE never_applied (id INT PRIMARY KEY);\n"),
                     0);

    cs_db *db = tsup_connect();
    cs_error err;
    cs_migrate_report rep;
    char *text;
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_CHANGED);
    assert_non_null(strstr(err.detail, "002_access.sql"));
    assert_non_null(strstr(text, "002_access.sql"));
    assert_int_equal(rep.applied, 0);
    cs_free(text);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                 "AND TABLE_NAME = 'never_applied'",
                 ""),
        0);
    cs_error_clear(&err);
    assert_int_equal(cs_db_migrate_status(db, dir, NULL, &err), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_CHANGED);
    assert_non_null(strstr(err.detail, "002_access.sql"));
    /* the untouched real directory is still fine */
    assert_int_equal(cs_db_migrations_pending(db, &err), 0);
    cs_db_close(db);
    assert_int_equal(tsup_rm_rf(dir), 0);
    cs_free(dir);
}

/* A new file is pending, then applied once; quotes and comments do not split statements; a
 * failing file is not recorded and names itself and the line. */
static void test_new_file_and_splitting(void **state)
{
    (void)state;
    char *dir = tsup_schema_copy();
    char prev[80];
    cs_db *db = fresh_db("split", prev);
    cs_error err;
    cs_migrate_report rep;
    char *text;
    assert_int_equal(migrate(db, dir, &rep, &err, &text), 0);
    cs_free(text);
    unsigned base = rep.files;

    char path[4200];
    snprintf(path, sizeof path, "%s/sql/900_extra.sql", dir);
    assert_int_equal(
        tsup_write_file(path, "-- a test migration; with a semicolon in a comment;\n"
                              "CREATE TABLE t_extra (id INT PRIMARY KEY, s VARCHAR(50) NOT NULL);\n"
                              "# hash comment; too\n"
                              "INSERT INTO t_extra VALUES (1, 'a;b'), (2, 'it''s; fine');\n"
                              "/* block; comment\n spanning lines; */ INSERT INTO t_extra VALUES "
                              "(3, \"dq;\\\" x\");\n"
                              "INSERT INTO t_extra VALUES (4, 'back\\\\slash;')\n"),
        0);
    assert_int_equal(cs_db_migrate_status(db, dir, NULL, &err), 1);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), 0);
    assert_int_equal(rep.applied, 1);
    assert_int_equal(rep.already, base);
    assert_non_null(strstr(text, "applied 900_extra.sql (4 statements"));
    cs_free(text);
    assert_int_equal(cs_db_migrate_status(db, dir, NULL, &err), 0);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM t_extra", ""), 4);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM t_extra WHERE (id = 1 AND s = 'a;b') OR "
                              "(id = 2 AND s = 'it''s; fine') OR (id = 3 AND s = 'dq;\" x') OR "
                              "(id = 4 AND s = 'back\\\\slash;')",
                              ""),
                     4);

    snprintf(path, sizeof path, "%s/sql/901_broken.sql", dir);
    assert_int_equal(tsup_write_file(path, "CREATE TABLE t_ok (id INT PRIMARY KEY);\n\n"
                                           "INSERT INTO t_missing VALUES (1);\n"),
                     0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_DB);
    assert_non_null(strstr(err.detail, "901_broken.sql line 3"));
    assert_non_null(strstr(text, "FAILED: 901_broken.sql statement 2 of 2"));
    cs_free(text);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = 901", ""),
                     0);
    assert_int_equal(cs_db_migrate_status(db, dir, NULL, &err), 1);

    /* two files with one number are refused before anything runs */
    snprintf(path, sizeof path, "%s/sql/901_broken.sql", dir);
    assert_int_equal(tsup_rm_rf(path), 0);
    snprintf(path, sizeof path, "%s/sql/900_twin.sql", dir);
    assert_int_equal(tsup_write_file(path, "SELECT 1;\n"), 0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_INVALID);
    assert_non_null(strstr(err.detail, "900"));
    cs_free(text);

    back_to(db, prev);
    assert_int_equal(tsup_rm_rf(dir), 0);
    cs_free(dir);
}

/* Bad reference data is refused with the file and line named; category_map loads when present. */
static void test_reference_data_checks(void **state)
{
    (void)state;
    char *dir = tsup_schema_copy();
    char prev[80];
    cs_db *db = fresh_db("refdata", prev);
    cs_error err;
    cs_migrate_report rep;
    char *text;
    char path[4200];

    snprintf(path, sizeof path, "%s/data/category_map.csv", dir);
    assert_int_equal(
        tsup_write_file(
            path,
            "category,marketplace_code,external_category_id,external_category_name,attributes_"
            "json\n"
            "food_dish,shopee,100629,\"Thực phẩm, đồ uống\",\"{\"\"brand\"\":\"\"No brand\"\"}\"\n"
            "seafood,lazada,10000,Hải sản,\n"),
        0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), 0);
    assert_non_null(strstr(text, "category_map"));
    cs_free(text);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM category_map", ""), 2);
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM category_map WHERE category = 'food_dish' AND "
                              "external_category_name = 'Thực phẩm, đồ uống' AND attributes = "
                              "'{\"brand\":\"No brand\"}'",
                              ""),
                     1);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT COUNT(*) FROM category_map WHERE category = 'seafood' AND attributes IS NULL",
            ""),
        1);

    assert_int_equal(tsup_write_file(path, "category,marketplace_code,external_category_id,"
                                           "external_category_name,attributes_json\n"
                                           "food_dish,shopee,100629,x,\n"
                                           "no_such_category,shopee,1,x,\n"),
                     0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_INVALID);
    assert_non_null(strstr(err.detail, "category_map.csv line 3"));
    cs_free(text);
    /* the file's transaction rolled back: the first row kept its earlier values */
    assert_int_equal(tsup_i64(db,
                              "SELECT COUNT(*) FROM category_map WHERE category = 'food_dish' AND "
                              "external_category_name = 'Thực phẩm, đồ uống'",
                              ""),
                     1);

    assert_int_equal(tsup_write_file(path, "category,marketplace_code\nfood_dish,shopee\n"), 0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_INVALID);
    assert_non_null(strstr(err.detail, "external_category_id"));
    cs_free(text);

    assert_int_equal(
        tsup_write_file(path,
                        "category,marketplace_code,external_category_id,external_category_name,"
                        "attributes_json\nfood_dish,shopee,1,\"unclosed\n"),
        0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_INVALID);
    assert_non_null(strstr(err.detail, "category_map.csv"));
    cs_free(text);

    /* two flagship names that differ only in accents would overwrite each other */
    snprintf(path, sizeof path, "%s/data/category_map.csv", dir);
    assert_int_equal(tsup_rm_rf(path), 0);
    snprintf(path, sizeof path, "%s/data/thanhhoa_products.csv", dir);
    assert_int_equal(tsup_write_file(path, "name,category,origin_place,ocop_stars,notes\n"
                                           "Nem chua Thanh Hóa,food_dish,Thanh Hóa,,\n"
                                           "Bánh gai Tứ Trụ,cake_confectionery,Thọ Xuân,4,\n"
                                           "Nem chua Thanh Hoa,food_dish,Thanh Hóa,,\n"),
                     0);
    assert_int_equal(migrate(db, dir, &rep, &err, &text), -1);
    assert_int_equal(err.code, CS_E_MIGRATION_INVALID);
    assert_non_null(strstr(err.detail, "thanhhoa_products.csv line 4"));
    assert_non_null(strstr(err.detail, "line 2"));
    cs_free(text);

    back_to(db, prev);
    assert_int_equal(tsup_rm_rf(dir), 0);
    cs_free(dir);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_then_idempotent),
        cmocka_unit_test(test_targets_kept_reference_restored),
        cmocka_unit_test(test_changed_migration_refused),
        cmocka_unit_test(test_new_file_and_splitting),
        cmocka_unit_test(test_reference_data_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
