/* Integration tests of core/catalog against the real MariaDB server scripts/run-tests starts
 * (skips with 77 when run by hand without one): versioned storage of a fetched catalogue, the
 * check publishing runs before any call (leaf, mandatory attributes named in Vietnamese), the
 * mapping with the marketplace's own choices, and `choso migrate`'s CSV leaving a hand-made
 * mapping alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/catalog.h"
#include "core/config.h"
#include "core/crypto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cs_db *db;
static cs_actor actor;

static int setup(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    if (cs_config_load(NULL, &e)) return -1;
    if (cs_crypto_init(cs_cfg_str("crypto.key_file"), &e)) return -1;
    if (cs_db_pool_init(&e) || !(db = cs_db_acquire(&e))) {
        fprintf(stderr, "db: %s %s\n", cs_code_name(e.code), e.detail);
        return -1;
    }
    memset(&actor, 0, sizeof actor);
    actor.kind = CS_ACTOR_CLI;
    snprintf(actor.id, sizeof actor.id, "test");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cs_db_release(db);
    cs_db_pool_shutdown();
    cs_crypto_shutdown();
    return 0;
}

/* A small Shopee-shaped tree: food_dish's shipped mapping (100780) is a leaf under two
 * branches; 100780 has origin (given in the shipped mapping) and a shelf life nobody gave. */
static const cs_cat_node_in nodes[] = {
    {"9000", "", "Thực phẩm & Đồ uống", 0},
    {"9001", "9000", "Thực phẩm chế biến sẵn", 0},
    {"100780", "9001", "Món ăn đóng gói", 1},
    {"100791", "9001", "Bánh kẹo truyền thống", 1},
};
static const cs_cat_attr_in attrs[] = {
    {"100780", "100037", "Xuất xứ", "1", 1,
     "[{\"id\":\"1000\",\"name\":\"Việt Nam\"},{\"id\":\"1001\",\"name\":\"Thái Lan\"}]"},
    {"100780", "100010", "Hạn sử dụng", "1", 1,
     "[{\"id\":\"2000\",\"name\":\"6 tháng\"},{\"id\":\"2001\",\"name\":\"12 tháng\"}]"},
    {"100780", "100095", "Khối lượng tịnh", "3", 0, "[]"},
};

static int field_has(const cs_error *e, const char *field, const char *text)
{
    for (size_t i = 0; i < e->nfields; i++)
        if (!strcmp(e->fields[i].field, field) && strstr(e->fields[i].detail, text)) return 1;
    return 0;
}

static void test_store_check_map(void **state)
{
    (void)state;
    cs_error e;
    cs_error_clear(&e);
    int64_t v1 = 0, v2 = 0, v3 = 0;
    int created = 0;
    assert_int_equal(cs_catalog_store(db, "shopee", "https://partner.test", nodes, 4, attrs, 3, &v1,
                                      &created, &e),
                     0);
    assert_int_equal(created, 1);
    /* the same content again keeps the version */
    assert_int_equal(cs_catalog_store(db, "shopee", "https://partner.test", nodes, 4, attrs, 3, &v2,
                                      &created, &e),
                     0);
    assert_int_equal(created, 0);
    assert_int_equal(v2, v1);
    /* the check before publishing: the shelf life is missing and named */
    assert_int_equal(cs_catalog_check(db, "food_dish", "shopee", &e), 0);
    assert_true(cs_error_failed(&e));
    assert_true(field_has(&e, "attributes", "Hạn sử dụng"));
    assert_false(field_has(&e, "attributes", "Xuất xứ")); /* the shipped mapping gives origin */
    assert_int_equal(e.fields[0].code, CS_F_ATTRIBUTE_MISSING);
    /* the page lists it as missing too */
    json_t *maps = NULL;
    cs_error_clear(&e);
    assert_int_equal(cs_catalog_mappings_json(db, "shopee", &maps, &e), 0);
    json_t *fd = NULL, *m;
    size_t i;
    json_array_foreach(maps, i, m) if (!strcmp(json_string_value(json_object_get(m, "category")),
                                               "food_dish")) fd = m;
    assert_non_null(fd);
    assert_string_equal(json_string_value(json_array_get(json_object_get(fd, "missing"), 0)),
                        "Hạn sử dụng");
    assert_string_equal(json_string_value(json_object_get(fd, "path")),
                        "Thực phẩm & Đồ uống > Thực phẩm chế biến sẵn > Món ăn đóng gói");
    json_decref(maps);
    /* a value that is not one of the marketplace's choices is refused, naming it */
    json_t *bad = json_pack("[{s:s,s:s}]", "attribute_id", "100010", "value_name", "mãi mãi");
    cs_error_clear(&e);
    assert_int_equal(cs_catalog_map(db, "food_dish", "shopee", "100780", bad, &actor, &e), -1);
    assert_string_equal(e.fields[0].field, "values[0]");
    json_decref(bad);
    /* a branch is not a leaf */
    json_t *good = json_pack("[{s:s,s:s}]", "attribute_id", "100010", "value_name", "12 tháng");
    cs_error_clear(&e);
    assert_int_equal(cs_catalog_map(db, "food_dish", "shopee", "9001", good, &actor, &e), -1);
    assert_int_equal(e.fields[0].code, CS_F_CATEGORY_NOT_LEAF);
    /* mapped with the choice: the check passes, and the attributes keep origin and brand */
    cs_error_clear(&e);
    assert_int_equal(cs_catalog_map(db, "food_dish", "shopee", "100780", good, &actor, &e), 0);
    json_decref(good);
    assert_int_equal(cs_catalog_check(db, "food_dish", "shopee", &e), 0);
    assert_false(cs_error_failed(&e));
    int64_t n = 0;
    assert_true(cs_db_scalar_i64(db, &n,
                                 "SELECT COUNT(*) FROM category_map WHERE category = 'food_dish'"
                                 " AND marketplace_code = 'shopee' AND attributes LIKE"
                                 " '%\"attribute_id\":100010%' AND attributes LIKE '%100037%'"
                                 " AND attributes LIKE '%brand%' AND mapped_by IS NOT NULL",
                                 "", &e) >= 0);
    assert_int_equal(n, 1);
    /* a new tree where 100780 became a branch: a new version, and the check says so */
    cs_cat_node_in moved[5];
    memcpy(moved, nodes, sizeof nodes);
    moved[2].leaf = 0;
    moved[4] = (cs_cat_node_in){"100799", "100780", "Món ăn đóng hộp", 1};
    assert_int_equal(cs_catalog_store(db, "shopee", "https://partner.test", moved, 5, attrs, 3, &v3,
                                      &created, &e),
                     0);
    assert_int_equal(created, 1);
    assert_int_equal(v3, v1 + 1);
    assert_int_equal(cs_catalog_check(db, "food_dish", "shopee", &e), 0);
    assert_int_equal(e.fields[0].code, CS_F_CATEGORY_NOT_LEAF);
    /* leaves for the page, filtered */
    json_t *lv = NULL;
    cs_error_clear(&e);
    assert_int_equal(cs_catalog_leaves_json(db, "shopee", "đóng hộp", 50, &lv, &e), 0);
    assert_int_equal(json_array_size(json_object_get(lv, "leaves")), 1);
    json_decref(lv);
    /* a marketplace never fetched has nothing to check */
    cs_error_clear(&e);
    assert_int_equal(cs_catalog_check(db, "food_dish", "tiktok", &e), 0);
    assert_false(cs_error_failed(&e));
}

static void test_attr_ids_shapes(void **state)
{
    (void)state;
    json_t *ids = json_array();
    cs_catalog_attr_ids("shopee", "{\"attribute_list\":[{\"attribute_id\":100037}]}", ids);
    cs_catalog_attr_ids("tiktok", "{\"product_attributes\":[{\"id\":\"100107\"}]}", ids);
    cs_catalog_attr_ids("lazada", "{\"brand\":\"No Brand\"}", ids);
    cs_catalog_attr_ids("lazada", "not json", ids);
    assert_int_equal(json_array_size(ids), 3);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "100037");
    assert_string_equal(json_string_value(json_array_get(ids, 1)), "100107");
    assert_string_equal(json_string_value(json_array_get(ids, 2)), "brand");
    json_decref(ids);
}

int main(void)
{
    if (!getenv("CHOSO_DB_SOCKET") && !getenv("CHOSO_DB_HOST")) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attr_ids_shapes),
        cmocka_unit_test(test_store_check_map),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
