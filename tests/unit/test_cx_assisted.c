/* tests/unit/test_cx_assisted: the assisted marketplaces (postmart.vn, voso.vn) — registration
 * pack, upload-sheet layouts and rows, confirmed-URL validation, link checks — plus the
 * registry, the category map, configuration → cx_market and the worked template connector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/assisted.h"
#include "connectors/catmap.h"
#include "connectors/cxutil.h"
#include "tests/support/tsup.h"
#include "connectors/registry.h"
#include "core/config.h"
#include "core/mem.h"

static void data_path(char *out, size_t n, const char *file)
{
    const char *dir = getenv("CHOSO_SCHEMA_DIR");
    snprintf(out, n, "%s/data/%s", dir && *dir ? dir : "schemas", file);
}

/* ---- registry ----------------------------------------------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    assert_ptr_equal(cx_find("posmart"), &cx_postmart);
    assert_ptr_equal(cx_find("POSTMART"), &cx_postmart);
    assert_ptr_equal(cx_find("voso"), &cx_voso);
    assert_ptr_equal(cx_find("shopee"), &cx_shopee);
    assert_null(cx_find("tiki"));
    assert_null(cx_find(NULL));
    assert_string_equal(cx_canonical_code("posmart"), "postmart");
    assert_string_equal(cx_postmart.display_name, "postmart.vn");
    assert_int_equal(cx_postmart.kind, CX_KIND_FILE);
    assert_int_equal(cx_shopee.kind, CX_KIND_API);
    const cx_connector *const *all;
    size_t n = cx_list(&all);
    assert_int_equal(n, 5);
    const char *order[] = {"postmart", "voso", "shopee", "lazada", "tiktok"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(all[i]->code, order[i]);
    /* the template is registered only by tests, and lands in display order */
    assert_null(cx_find("template"));
    assert_int_equal(cx_register(&cx_template), 0);
    assert_int_equal(cx_register(&cx_template), -1);
    assert_ptr_equal(cx_find("mau"), &cx_template);
    n = cx_list(&all);
    assert_int_equal(n, 6);
    assert_ptr_equal(all[5], &cx_template);
    cx_unregister(&cx_template);
    assert_null(cx_find("template"));
    assert_int_equal(cx_list(NULL), 5);
}

static void test_market_from_config(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_config_load(NULL, &err), 0);
    assert_int_equal(cs_config_set("http.public_url", "https://choso.example/", &err), 0);
    assert_int_equal(cs_config_set("lazada.rate_per_sec", "25", &err), 0);
    cx_market_cfg m;
    assert_int_equal(cx_market_from_config(&cx_lazada, 10, 8, &m, &err), 0);
    assert_string_equal(m.m.base_url, "https://api.lazada.vn/rest");
    assert_string_equal(m.m.auth_url, "https://auth.lazada.com/rest");
    assert_string_equal(m.m.redirect_url, "https://choso.example/v1/oauth/lazada/callback");
    assert_string_equal(m.m.push_url, "https://choso.example/v1/webhooks/lazada");
    assert_true(m.rate_per_sec == 25.0); /* configuration overrides the table */
    assert_int_equal(m.concurrency, 8);  /* table value kept */
    assert_int_equal(cx_market_from_config(&cx_shopee, 0, 0, &m, &err), 0);
    assert_string_equal(m.m.base_url, "https://partner.shopeemobile.com");
    assert_true(m.rate_per_sec == 10.0);
    assert_int_equal(cx_market_from_config(&cx_postmart, 5, 4, &m, &err), 0);
    assert_string_equal(m.m.base_url, "https://postmart.vn");
    assert_string_equal(m.m.public_domain, "postmart.vn");
    assert_true(m.rate_per_sec == 5.0);
    cs_config_free();
}

/* ---- category map ------------------------------------------------------------------------- */

static void test_category_map_file(void **state)
{
    (void)state;
    char path[512];
    cx_catmap m;
    cs_error err;
    cs_error_clear(&err);
    /* Sendo, configured as data, is a known marketplace of the map once loaded */
    data_path(path, sizeof path, "");
    path[strlen(path) - 1] = '\0';
    assert_int_equal(cx_assisted_load(path, &err), 1);
    data_path(path, sizeof path, "category_map.csv");
    int rc = cx_catmap_load(path, &m, &err);
    if (rc) fprintf(stderr, "%s: %s\n", path, err.detail);
    assert_int_equal(rc, 0);
    assert_int_equal(m.n, 54);
    /* every internal category × every marketplace is mapped */
    cx_csv cats;
    data_path(path, sizeof path, "categories.csv");
    assert_int_equal(cx_csv_load(path, 1000, &cats, &err), 0);
    assert_int_equal(cats.nrows, 10);
    const cx_connector *const *all;
    size_t n = cx_list(&all);
    for (size_t r = 1; r < cats.nrows; r++)
        for (size_t i = 0; i < n; i++) {
            const cx_category *c = cx_catmap_find(&m, cats.cells[r][0], all[i]->code);
            assert_non_null(c);
            assert_true(strlen(c->external_id) > 0);
        }
    cx_csv_free(&cats);
    const cx_category *c = cx_catmap_find(&m, "condiment", "posmart");
    assert_non_null(c);
    assert_string_equal(c->external_id, "dac-san-gia-vi");
    /* a product whose category has no row: a clear error before any call */
    const cx_category *none;
    cs_error_clear(&err);
    assert_int_equal(cx_catmap_require(&m, "fake_category", "shopee", &none, &err), -1);
    assert_null(none);
    assert_int_equal(err.code, CS_E_VALIDATION);
    assert_string_equal(err.fields[0].field, "category");
    assert_string_equal(cs_code_name(err.fields[0].code), "category_not_mapped");
    assert_non_null(strstr(err.fields[0].detail, "fake_category"));
    cx_catmap_free(&m);
    cx_assisted_unload();
}

static void test_category_map_rejects_bad_rows(void **state)
{
    (void)state;
    static const char *bad[] = {
        "category,marketplace,external_category_id,external_category_name,attributes_json\n",
        "category,marketplace_code,external_category_id,external_category_name,attributes_json\n"
        "condiment,tiki,1,x,\n",
        "category,marketplace_code,external_category_id,external_category_name,attributes_json\n"
        "condiment,shopee,,x,\n",
        "category,marketplace_code,external_category_id,external_category_name,attributes_json\n"
        "condiment,shopee,1,x,[1]\n",
        "category,marketplace_code,external_category_id,external_category_name,attributes_json\n"
        "condiment,shopee,1,x,\ncondiment,shopee,2,y,\n",
        "category,marketplace_code,external_category_id,external_category_name,attributes_json\n"
        "condiment,shopee,1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cx_catmap m;
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cx_catmap_parse(bad[i], strlen(bad[i]), &m, &err), -1);
        assert_int_equal(err.code, CS_E_CONFIG);
        assert_int_equal(m.n, 0);
    }
    const char *ok = "\xEF\xBB\xBF"
                     "category,marketplace_code,external_category_id,external_category_name,"
                     "attributes_json\r\ncondiment,posmart,gia-vi,\"Gia vị, nước chấm\",\r\n";
    cx_catmap m;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_catmap_parse(ok, strlen(ok), &m, &err), 0);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.rows[0].marketplace, "postmart");
    assert_string_equal(m.rows[0].cat.external_name, "Gia vị, nước chấm");
    assert_null(m.rows[0].cat.attributes_json);
    cx_catmap_free(&m);
}

/* ---- registration pack -------------------------------------------------------------------- */

static void test_registration_pack(void **state)
{
    (void)state;
    cx_household h = {.code = "TH-2026-00123",
                      .shop_name = "Mắm tôm Hậu Lộc – Cô Lan",
                      .owner_name = "Nguyễn Thị Lan",
                      .birth_date = "12/03/1998",
                      .cccd = "038198001234",
                      .phone = "0912345678",
                      .address = "Thôn 3",
                      .commune = "Xã Hậu Lộc",
                      .former_district = "Huyện Hậu Lộc",
                      .province = "Thanh Hóa",
                      .bank_name = "Agribank",
                      .bank_account = "3500205123456",
                      .bank_holder = "NGUYEN THI LAN",
                      .main_category = "Gia vị và nước chấm"};
    cx_pack p;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_registration_pack(&cx_voso, &h, &p, &err), 0);
    assert_true(p.nfields >= 17);
    assert_int_equal(p.nmissing, 0);
    int saw_cccd = 0, saw_district = 0, saw_tax = 0, saw_bank = 0;
    for (size_t i = 0; i < p.nfields; i++) {
        if (!strcmp(p.fields[i].key, "cccd")) {
            saw_cccd = 1;
            assert_string_equal(p.fields[i].value, "038198001234");
            assert_true(p.fields[i].required);
            assert_non_null(strstr(p.fields[i].label, "CCCD"));
        }
        if (!strcmp(p.fields[i].key, "former_district")) saw_district = 1;
        if (!strcmp(p.fields[i].key, "tax_code")) saw_tax = !p.fields[i].missing;
        if (!strcmp(p.fields[i].key, "bank_account")) saw_bank = 1;
    }
    assert_true(saw_cccd && saw_district && saw_tax && saw_bank);
    size_t len;
    char *js = cx_pack_json(&p, &len);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"marketplace\":\"voso\""));
    assert_non_null(strstr(js, "mc.voso.vn"));
    assert_non_null(strstr(js, "Nhà cung cấp (NCC)"));
    assert_non_null(strstr(js, "24 giờ"));
    assert_non_null(strstr(js, "\"missing\":0"));
    cs_free_secret(js, len);
    cx_pack_free(&p);

    /* missing required fields are flagged for the volunteer to collect */
    h.cccd = NULL;
    h.bank_account = "";
    assert_int_equal(cx_registration_pack(&cx_postmart, &h, &p, &err), 0);
    assert_int_equal(p.nmissing, 2);
    js = cx_pack_json(&p, &len);
    assert_non_null(strstr(js, "\"signup_url\":\"https://postmart.vn\""));
    assert_non_null(strstr(js, "\"missing\":2"));
    cs_free_secret(js, len);
    cx_pack_free(&p);

    /* API marketplaces have no registration pack */
    assert_int_equal(cx_registration_pack(&cx_shopee, &h, &p, &err), -1);
}

/* ---- upload sheet ------------------------------------------------------------------------- */

static const cx_category cat_pm = {"dac-san-gia-vi", "Đặc sản vùng miền > Mắm & Gia vị",
                                   "{\"nhom\":\"Đặc sản vùng miền\",\"n\":3}"};
static const char *const urls[] = {"https://choso.test/m/1.jpg", "https://choso.test/m/2.jpg"};

static cx_listing sheet_listing(void)
{
    cx_listing l = {.listing_id = 77,
                    .name = "Mắm tôm Hậu Lộc hũ 500 g",
                    .description = "Moi biển, muối",
                    .price_vnd = 45000,
                    .stock = 20,
                    .weight_g = 650,
                    .length_mm = 90,
                    .width_mm = 90,
                    .height_mm = 121,
                    .category_code = "condiment",
                    .category = &cat_pm};
    return l;
}

static void test_layouts_and_rows(void **state)
{
    (void)state;
    char path[512];
    cs_error err;
    cx_layout pm, vs;
    cs_error_clear(&err);
    data_path(path, sizeof path, "upload_layout_postmart.csv");
    assert_int_equal(cx_layout_load(path, &pm, &err), 0);
    data_path(path, sizeof path, "upload_layout_voso.csv");
    assert_int_equal(cx_layout_load(path, &vs, &err), 0);
    assert_string_equal(pm.cols[0].header, "Mã SKU");
    assert_string_equal(pm.cols[0].source, "sku");
    assert_true(pm.cols[0].required);

    cx_listing l = sheet_listing();
    cx_sheet_item it = {&l, urls, 2, "xã Ngư Lộc, Thanh Hóa", 3, "hũ", ""};
    char **cells;
    assert_int_equal(cx_sheet_row(&pm, &it, &cells, &err), 0);
    for (size_t i = 0; i < pm.ncols; i++) {
        const char *s = pm.cols[i].source, *v = cells[i];
        if (!strcmp(s, "sku")) assert_string_equal(v, "CS-77");
        if (!strcmp(s, "price_vnd")) assert_string_equal(v, "45000");
        if (!strcmp(s, "dimensions_cm")) assert_string_equal(v, "9x9x13");
        if (!strcmp(s, "category_name")) assert_string_equal(v, "Đặc sản vùng miền > Mắm & Gia vị");
        if (!strcmp(s, "image_1")) assert_string_equal(v, urls[0]);
        if (!strcmp(s, "image_3")) assert_string_equal(v, "");
        if (!strcmp(s, "ocop_stars")) assert_string_equal(v, "3");
    }
    cx_sheet_row_free(&pm, cells);
    assert_int_equal(cx_sheet_row(&vs, &it, &cells, &err), 0);
    for (size_t i = 0; i < vs.ncols; i++) {
        const char *s = vs.cols[i].source, *v = cells[i];
        if (!strcmp(s, "weight_kg")) assert_string_equal(v, "0.65");
        if (!strcmp(s, "height_cm")) assert_string_equal(v, "13");
        if (!strcmp(s, "attr:nhom")) assert_string_equal(v, "Đặc sản vùng miền");
        if (!strcmp(s, "image_urls"))
            assert_string_equal(v, "https://choso.test/m/1.jpg\nhttps://choso.test/m/2.jpg");
    }
    cx_sheet_row_free(&vs, cells);

    /* missing image and an over-long name: named by the column header, cells still filled */
    it.nimages = 0;
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    l.name = longname;
    cs_error_clear(&err);
    assert_int_equal(cx_sheet_row(&pm, &it, &cells, &err), -1);
    assert_non_null(cells);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[0].field, "Tên sản phẩm");
    assert_int_equal(err.fields[0].code, CS_F_TOO_LONG);
    assert_string_equal(err.fields[1].field, "Ảnh 1 (ảnh chính)");
    assert_int_equal(err.fields[1].code, CS_F_REQUIRED);
    cx_sheet_row_free(&pm, cells);
    /* max length counts characters, not bytes: 120 Vietnamese letters fit */
    char viet[400] = "";
    for (int i = 0; i < 120; i++)
        strncat(viet, "ắ", sizeof viet - strlen(viet) - 1);
    l.name = viet;
    it.nimages = 1;
    cs_error_clear(&err);
    assert_int_equal(cx_sheet_row(&pm, &it, &cells, &err), 0);
    cx_sheet_row_free(&pm, cells);
    cx_layout_free(&pm);
    cx_layout_free(&vs);

    /* a layout with a typo in a source is refused */
    const char *typo = "header,source,required,max_length,notes\nTên,nmae,yes,,\n";
    cs_error_clear(&err);
    assert_int_equal(cx_layout_parse(typo, strlen(typo), &pm, &err), -1);
    assert_non_null(strstr(err.detail, "nmae"));
    const char *badreq = "header,source,required,max_length,notes\nTên,name,maybe,,\n";
    assert_int_equal(cx_layout_parse(badreq, strlen(badreq), &pm, &err), -1);
    const char *konst = "header,source,required,max_length,notes\nXuất xứ,const:Việt Nam,có,,\n";
    cs_error_clear(&err);
    assert_int_equal(cx_layout_parse(konst, strlen(konst), &pm, &err), 0);
    assert_int_equal(cx_sheet_row(&pm, &it, &cells, &err), 0);
    assert_string_equal(cells[0], "Việt Nam");
    cx_sheet_row_free(&pm, cells);
    cx_layout_free(&pm);
}

/* ---- URLs and link checks ----------------------------------------------------------------- */

static const cx_market pm_live = {
    .code = "postmart", .base_url = "https://postmart.vn", .public_domain = "postmart.vn"};

static void test_url_validation(void **state)
{
    (void)state;
    static const char *good[] = {
        "https://postmart.vn/shop/co-lan-123",
        "https://www.postmart.vn/san-pham/mam-tom-hau-loc-9981",
        "HTTPS://PostMart.VN/shop/x",
        "https://postmart.vn:443/shop/x?ref=choso#top",
    };
    static const char *bad[] = {
        "http://postmart.vn/shop/x",           /* not https */
        "https://postmart.vn.evil.com/shop/x", /* lookalike */
        "https://evilpostmart.vn/shop/x",      /* not a subdomain */
        "https://postmart.vn@evil.com/shop/x", /* user info */
        "https://evil.com/postmart.vn/shop",   /* domain only in the path */
        "https://postmart.vn:8443/shop/x",     /* odd port */
        "https://postmart.vn/",                /* home page, not a shop */
        "https://postmart.vn",                 /* no path */
        "https://postmart.vn./shop/x",         /* trailing dot */
        "https://post mart.vn/shop",           /* space */
        "https://postmart.vn\\@evil.com/x",    /* backslash */
        "https://xn--postmrt-9ya.vn/shop/x",   /* punycode lookalike */
        "javascript:alert(1)",
        "",
        NULL,
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cx_assisted_url_ok(&pm_live, good[i], "shop_url", &err), 1);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cx_assisted_url_ok(&pm_live, bad[i], "shop_url", &err), 0);
        assert_string_equal(err.fields[0].field, "shop_url");
        assert_int_equal(err.fields[0].code, CS_F_URL);
    }
    /* voso domain for voso only */
    cx_market vs = {.code = "voso", .base_url = "https://voso.vn", .public_domain = "voso.vn"};
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_assisted_url_ok(&vs, "https://voso.vn/san-pham/1", NULL, &err), 1);
    assert_int_equal(cx_assisted_url_ok(&vs, "https://postmart.vn/san-pham/1", NULL, &err), 0);
    /* sandbox: the simulator's loopback origin is accepted, other loopback ports are not */
    cx_market sb = {
        .code = "postmart", .base_url = "http://127.0.0.1:18081", .public_domain = "postmart.vn"};
    assert_int_equal(cx_assisted_url_ok(&sb, "http://127.0.0.1:18081/shop/5", NULL, &err), 1);
    assert_int_equal(cx_assisted_url_ok(&sb, "http://127.0.0.1:18082/shop/5", NULL, &err), 0);
    assert_int_equal(cx_assisted_url_ok(&sb, "https://postmart.vn/shop/5", NULL, &err), 1);
    cx_market notloop = {
        .code = "postmart", .base_url = "http://10.0.0.5:80", .public_domain = "postmart.vn"};
    assert_int_equal(cx_assisted_url_ok(&notloop, "http://10.0.0.5/shop/5", NULL, &err), 0);
}

static cx_outcome link(long status, const char *body, const char *ra, cx_transport_error t)
{
    cx_input in = {.mp = &pm_live, .url = "https://postmart.vn/sp/1", .now_ms = 1700000000000LL};
    cx_response r = {t, status, body, body ? strlen(body) : 0, ra, NULL};
    cx_outcome o;
    cx_postmart.parse(CX_OP_LINK_CHECK, &in, &r, &o);
    return o;
}

static void test_link_check(void **state)
{
    (void)state;
    cx_input in = {.mp = &pm_live, .url = "https://postmart.vn/sp/1", .now_ms = 1700000000000LL};
    cx_request r;
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(&r);
    assert_int_equal(cx_postmart.build(CX_OP_LINK_CHECK, &in, &r, &err), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "https://postmart.vn/sp/1");
    assert_null(r.body);
    cx_request_free(&r);
    in.url = "https://postmart.vn.evil.com/sp/1";
    assert_int_equal(cx_postmart.build(CX_OP_LINK_CHECK, &in, &r, &err), -1);
    cs_error_clear(&err);
    assert_int_equal(cx_voso.build(CX_OP_CREATE_ITEM, &in, &r, &err), -1);
    cx_request_free(&r);

    cx_outcome o = link(200, "<html><h1>Mắm tôm</h1></html>", NULL, CX_T_OK);
    assert_int_equal(o.result, CX_OK);
    assert_int_equal(o.state, CX_ITEM_LIVE);
    assert_string_equal(o.item_url, "https://postmart.vn/sp/1");
    o = link(200, "<html>Sản phẩm không tồn tại</html>", NULL, CX_T_OK);
    assert_int_equal(o.result, CX_NOT_FOUND);
    o = link(404, "", NULL, CX_T_OK);
    assert_int_equal(o.result, CX_NOT_FOUND);
    assert_string_equal(o.error_code, "http_404");
    o = link(410, NULL, NULL, CX_T_OK);
    assert_int_equal(o.result, CX_NOT_FOUND);
    o = link(429, NULL, "120", CX_T_OK);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.retry_after, 120);
    o = link(500, "oops", NULL, CX_T_OK);
    assert_int_equal(o.result, CX_RETRY);
    o = link(301, "", NULL, CX_T_OK);
    assert_int_equal(o.result, CX_RETRY);
    o = link(0, NULL, NULL, CX_T_TIMEOUT);
    assert_int_equal(o.result, CX_RETRY);
    assert_int_equal(o.unknown, 0);
}

static cx_outcome link_full(long status, const char *body, const char *location, const char *name)
{
    cx_input in = {.mp = &pm_live,
                   .url = "https://postmart.vn/sp/1",
                   .expect_name = name,
                   .now_ms = 1700000000000LL};
    cx_response r = {CX_T_OK, status, body, body ? strlen(body) : 0, NULL, location};
    cx_outcome o;
    cx_postmart.parse(CX_OP_LINK_CHECK, &in, &r, &o);
    return o;
}

/* Redirects are handed back (the caller checks each hop is on the marketplace), and the page
 * must show the name given. */
static void test_link_check_verifies(void **state)
{
    (void)state;
    cx_outcome o = link_full(301, "", "https://www.postmart.vn/sp/1-nem", NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_string_equal(o.error_code, "redirect");
    assert_string_equal(o.item_url, "https://www.postmart.vn/sp/1-nem");
    o = link_full(302, "", "/shop/9", NULL);
    assert_string_equal(o.item_url, "https://postmart.vn/shop/9");
    o = link_full(302, "", NULL, NULL);
    assert_int_equal(o.result, CX_RETRY);
    assert_string_equal(o.error_code, "redirect_without_location");
    o = link_full(200, "<h1>Nem chua Hoa T&acirc;m</h1><p>Nem chua Ho&#224;ng T&#226;m</p>", NULL,
                  "Nem chua Hoàng Tâm");
    assert_int_equal(o.result, CX_OK);
    o = link_full(200, "<h1>Mắm tôm Hậu Lộc</h1>", NULL, "Nem chua Hoàng Tâm");
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.error_code, "name_not_shown");
    /* gone markers win over the name */
    o = link_full(200, "<h1>Nem chua</h1>Sản phẩm không tồn tại", NULL, "Nem chua");
    assert_int_equal(o.result, CX_NOT_FOUND);
}

static void test_page_shows_name(void **state)
{
    (void)state;
    const char *page = "<html><title>Gian hàng ĐẶC SẢN &amp; Quà  Thanh Hóa</title>"
                       "<h1 class=\"x\">Nước mắm Ba&nbsp;Làng</h1></html>";
    size_t n = strlen(page);
    assert_true(cx_page_shows_name(page, n, "Đặc sản & quà Thanh Hoá"));
    assert_true(cx_page_shows_name(page, n, "dac san qua thanh hoa"));
    assert_true(cx_page_shows_name(page, n, "NƯỚC MẮM BA LÀNG"));
    assert_true(cx_page_shows_name(page, n, "nuoc-mam ba lang"));
    /* words, not fragments: "Ba La" is not "Ba Làng"; tags do not leak into the text */
    assert_false(cx_page_shows_name(page, n, "Nước mắm Ba La"));
    assert_false(cx_page_shows_name(page, n, "class x"));
    assert_false(cx_page_shows_name(page, n, "Mắm tôm"));
    assert_false(cx_page_shows_name(page, n, ""));
    assert_false(cx_page_shows_name(NULL, 0, "x"));
    /* numeric references in hex */
    const char *hex = "<p>Ch&#xE8; lam Ph&#x1EE7; Qu&#x1EA3;ng</p>";
    assert_true(cx_page_shows_name(hex, strlen(hex), "Chè lam Phủ Quảng"));
}

static void test_url_key(void **state)
{
    (void)state;
    char k[520];
    assert_int_equal(
        cx_assisted_url_key("https://www.PostMart.vn/shop/abc/?ref=x#top", k, sizeof k), 0);
    assert_string_equal(k, "https://postmart.vn/shop/abc");
    assert_int_equal(cx_assisted_url_key("https://m.postmart.vn:443/shop/abc", k, sizeof k), 0);
    assert_string_equal(k, "https://postmart.vn/shop/abc");
    assert_int_equal(cx_assisted_url_key("http://127.0.0.1:18081/product/7", k, sizeof k), 0);
    assert_string_equal(k, "http://127.0.0.1:18081/product/7");
    /* the path keeps its case: /shop/ABC and /shop/abc may be two shops */
    assert_int_equal(cx_assisted_url_key("https://postmart.vn/shop/ABC", k, sizeof k), 0);
    assert_string_equal(k, "https://postmart.vn/shop/ABC");
    assert_int_equal(cx_assisted_url_key("not a url", k, sizeof k), -1);
    assert_int_equal(cx_assisted_url_key("https://postmart.vn/shop/abc", k, 10), -1);
}

/* ---- the worked template ------------------------------------------------------------------ */

static void test_template_connector(void **state)
{
    (void)state;
    cx_market m = {.code = "template", .base_url = "https://api.example.invalid", .secret = "s3"};
    cx_account a = {NULL, "tok", NULL};
    cx_category c = {"55", "Gia vị", "{\"origin\":\"VN\"}"};
    const char *ids[] = {"i1"};
    cx_listing l = {.listing_id = 5,
                    .name = "Tương Xuân Pha",
                    .price_vnd = 30000,
                    .stock = 4,
                    .weight_g = 400,
                    .category = &c,
                    .image_ids = ids,
                    .nimages = 1};
    cx_input in = {.mp = &m, .account = &a, .listing = &l, .now_ms = 1700000000123LL};
    cx_request r;
    cs_error err;
    cs_error_clear(&err);
    cx_request_init(&r);
    assert_int_equal(cx_template.build(CX_OP_CREATE_ITEM, &in, &r, &err), 0);
    const char *body = "{\"sku\":\"CS-5\",\"title\":\"Tương Xuân Pha\",\"description\":\"\","
                       "\"price\":30000,\"stock\":4,\"weight_g\":400,\"category_id\":\"55\","
                       "\"images\":[\"i1\"],\"origin\":\"VN\"}";
    assert_string_equal(r.url, "https://api.example.invalid/v1/items");
    assert_string_equal(r.body, body);
    assert_string_equal(cx_request_header(&r, "Authorization"), "Bearer tok");
    assert_string_equal(cx_request_header(&r, "X-Timestamp"), "1700000000");
    char s[512], sig[65];
    snprintf(s, sizeof s, "1700000000\nPOST\n/v1/items\n%s", body);
    cx_hmac_sha256_hex("s3", 2, s, strlen(s), 0, sig);
    assert_string_equal(cx_request_header(&r, "X-Signature"), sig);
    cx_request_free(&r);
    assert_int_equal(cx_template.build(CX_OP_GET_ITEM_BY_SKU, &in, &r, &err), 0);
    assert_string_equal(r.url, "https://api.example.invalid/v1/items?sku=CS-5");
    cx_request_free(&r);

    cx_response resp = {CX_T_OK, 201, "{\"id\":\"ab12\",\"state\":\"pending\"}", 0, NULL, NULL};
    resp.body_len = strlen(resp.body);
    cx_outcome o;
    cx_template.parse(CX_OP_CREATE_ITEM, &in, &resp, &o);
    assert_int_equal(o.result, CX_OK);
    assert_string_equal(o.item_id, "ab12");
    assert_int_equal(o.state, CX_ITEM_PENDING);
    resp.status = 422;
    resp.body =
        "{\"error\":{\"code\":\"invalid_field\",\"field\":\"title\",\"message\":\"too short\"}}";
    resp.body_len = strlen(resp.body);
    cx_template.parse(CX_OP_CREATE_ITEM, &in, &resp, &o);
    assert_int_equal(o.result, CX_REJECTED);
    assert_string_equal(o.reasons[0].field, "name");
    resp.status = 401;
    resp.body = "{\"error\":{\"code\":\"invalid_token\"}}";
    resp.body_len = strlen(resp.body);
    cx_template.parse(CX_OP_CREATE_ITEM, &in, &resp, &o);
    assert_int_equal(o.result, CX_REAUTHORIZE);
    resp.status = 200;
    resp.body = "{\"items\":[]}";
    resp.body_len = strlen(resp.body);
    cx_template.parse(CX_OP_GET_ITEM_BY_SKU, &in, &resp, &o);
    assert_int_equal(o.result, CX_NOT_FOUND);
    l.category = NULL;
    cs_error_clear(&err);
    assert_int_equal(cx_template.build(CX_OP_CREATE_ITEM, &in, &r, &err), -1);
    assert_int_equal(err.fields[0].code, CS_F_CATEGORY_UNMAPPED);
}

static void test_names_and_labels(void **state)
{
    (void)state;
    assert_string_equal(cx_op_name(CX_OP_GET_ITEM_BY_SKU), "get_item_by_sku");
    assert_string_equal(cx_op_name(CX_OP__COUNT), "unknown");
    assert_string_equal(cx_result_name(CX_REAUTHORIZE), "reauthorize");
    assert_string_equal(cx_item_state_name(CX_ITEM_PENDING), "pending");
    assert_string_equal(cx_field_label_vi("weight_g"), "Khối lượng (gam)");
    assert_string_equal(cx_field_label_vi("zzz"), "zzz");
    char sku[24];
    cx_sku(123456789012LL, sku);
    assert_string_equal(sku, "CS-123456789012");
    /* truncation never splits a UTF-8 sequence */
    char small[6];
    cx_copy(small, sizeof small, "ắắ"); /* 6 bytes into 5 + NUL: keep one whole letter */
    assert_string_equal(small, "ắ");
    cx_copy(small, sizeof small, "abcdefgh");
    assert_string_equal(small, "abcde");
    cx_outcome o;
    cx_outcome_init(&o);
    for (int i = 0; i < CX_MAX_REASONS + 3; i++)
        cx_outcome_reject(&o, "name", "c", "Tên", "Name");
    assert_int_equal(o.result, CX_REJECTED);
    assert_int_equal(o.nreasons, CX_MAX_REASONS);
    assert_string_equal(o.error_code, "c");
}

/* Sendo ships as data (issue 16): its row, pack layout and upload layout are read from the
 * reference data, it joins the registry in display order, and its pack and sheet follow its
 * own layouts; a bad row stops the start with a message naming the file. */
static void test_sendo_as_data(void **state)
{
    (void)state;
    char dir[512], path[512];
    cs_error err;
    cs_error_clear(&err);
    data_path(dir, sizeof dir, "");
    dir[strlen(dir) - 1] = '\0'; /* no trailing slash */
    assert_null(cx_find("sendo"));
    assert_int_equal(cx_assisted_load(dir, &err), 1);
    assert_int_equal(cx_assisted_load(dir, &err), 0); /* once: already registered */
    const cx_connector *c = cx_find("sendo");
    assert_non_null(c);
    assert_int_equal(c->kind, CX_KIND_FILE);
    assert_string_equal(c->display_name, "Sendo");
    const cx_connector *const *t;
    size_t n = cx_list(&t);
    assert_int_equal(n, 6);
    assert_ptr_equal(t[5], c); /* display order 6: after TikTok Shop */

    /* hosts from the row */
    cx_market_cfg m;
    assert_int_equal(cx_market_from_config(c, 5, 4, &m, &err), 0);
    assert_string_equal(m.m.base_url, "https://www.sendo.vn");
    assert_string_equal(m.m.public_domain, "sendo.vn");
    assert_true(cx_assisted_url_ok(&m.m, "https://www.sendo.vn/shop/mam-tom-co-lan", "u", &err));
    assert_false(cx_assisted_url_ok(&m.m, "https://postmart.vn/shop/x", "u", &err));
    cs_error_clear(&err);
    /* this instance's host (assisted.hosts) wins over the row's: the demo's simulator */
    assert_int_equal(cs_config_set("assisted.hosts",
                                   "voso=http://127.0.0.1:9/x "
                                   "sendo=http://127.0.0.1:18083/sendo",
                                   &err),
                     0);
    assert_int_equal(cx_market_from_config(c, 5, 4, &m, &err), 0);
    assert_string_equal(m.m.base_url, "http://127.0.0.1:18083/sendo");
    assert_true(cx_assisted_url_ok(&m.m, "http://127.0.0.1:18083/sendo/shop/x", "u", &err));
    assert_int_equal(cs_config_set("assisted.hosts", "", &err), 0);
    assert_int_equal(cx_market_from_config(c, 5, 4, &m, &err), 0);
    assert_string_equal(m.m.base_url, "https://www.sendo.vn");

    /* the pack: only the fields of pack_layout_sendo.csv, worded as Sendo words them */
    cx_household h = {.shop_name = "Mắm tôm Cô Lan",
                      .owner_name = "Nguyễn Thị Lan",
                      .birth_date = "12/03/1998",
                      .cccd = "038198001234",
                      .phone = "0912345678",
                      .address = "Thôn 3",
                      .commune = "Xã Hậu Lộc",
                      .province = "Thanh Hóa",
                      .bank_name = "Agribank",
                      .bank_holder = "NGUYEN THI LAN",
                      .main_category = "Gia vị"};
    cx_pack p;
    assert_int_equal(cx_registration_pack(c, &h, &p, &err), 0);
    assert_int_equal(p.nfields, 15);
    assert_int_equal(p.nmissing, 1); /* bank_account */
    size_t len;
    char *js = cx_pack_json(&p, &len);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"marketplace\":\"sendo\""));
    assert_non_null(strstr(js, "\"signup_url\":\"https://ban.sendo.vn\""));
    assert_non_null(strstr(js, "Tên shop"));
    assert_non_null(strstr(js, "Sendo Seller Center"));
    assert_null(strstr(js, "12/03/1998")); /* Sendo's pack does not ask the birth date */
    cs_free_secret(js, len);
    cx_pack_free(&p);

    /* the sheet in Sendo's layout */
    cx_layout lay;
    assert_int_equal(cx_layout_load(c->assisted->layout_file, &lay, &err), 0);
    assert_string_equal(lay.cols[0].header, "Mã sản phẩm (SKU)");
    cx_listing l = sheet_listing();
    cx_sheet_item it = {&l, urls, 1, "xã Ngư Lộc, Thanh Hóa", 3, "hũ", ""};
    char **cells;
    cs_error_clear(&err);
    assert_int_equal(cx_sheet_row(&lay, &it, &cells, &err), 0);
    for (size_t i = 0; i < lay.ncols; i++) {
        const char *s = lay.cols[i].source, *v = cells[i];
        if (!strcmp(s, "sku")) assert_string_equal(v, "CS-77");
        if (!strcmp(s, "weight_g")) assert_string_equal(v, "650");
        if (!strcmp(s, "image_1")) assert_string_equal(v, urls[0]);
    }
    cx_sheet_row_free(&lay, cells);
    cx_layout_free(&lay);

    /* the link check works through the generic connector (the marketplace names it) */
    cx_input in = {.mp = &m.m, .url = "https://www.sendo.vn/san-pham/mam-tom-123"};
    cx_request req;
    assert_int_equal(c->build(CX_OP_LINK_CHECK, &in, &req, &err), 0);
    cx_request_free(&req);
    static const char gone[] = "<html><h1>Sản phẩm không tồn tại</h1></html>";
    cx_response resp = {.status = 200, .body = gone, .body_len = sizeof gone - 1};
    cx_outcome out;
    c->parse(CX_OP_LINK_CHECK, &in, &resp, &out);
    assert_int_equal(out.result, CX_NOT_FOUND);
    cx_assisted_unload();
    assert_null(cx_find("sendo"));

    /* a row whose layout is missing stops the load, naming the file */
    char *tmp = tsup_tmpdir("assisted-bad");
    snprintf(path, sizeof path, "%s/assisted_marketplaces.csv", tmp);
    assert_int_equal(tsup_write_file(path, "code,name,public_domain,display_order,signup_url,"
                                           "seller_word,base_url,steps,notes,gone_markers\n"
                                           "htx,HTX,htx.vn,9,,,,,,\n"),
                     0);
    cs_error_clear(&err);
    assert_int_equal(cx_assisted_load(tmp, &err), -1);
    assert_non_null(strstr(err.detail, "upload_layout_htx.csv"));
    assert_null(cx_find("htx"));
    tsup_rm_rf(tmp);
    cs_free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_market_from_config),
        cmocka_unit_test(test_category_map_file),
        cmocka_unit_test(test_category_map_rejects_bad_rows),
        cmocka_unit_test(test_registration_pack),
        cmocka_unit_test(test_layouts_and_rows),
        cmocka_unit_test(test_url_validation),
        cmocka_unit_test(test_link_check),
        cmocka_unit_test(test_link_check_verifies),
        cmocka_unit_test(test_page_shows_name),
        cmocka_unit_test(test_url_key),
        cmocka_unit_test(test_template_connector),
        cmocka_unit_test(test_names_and_labels),
        cmocka_unit_test(test_sendo_as_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
