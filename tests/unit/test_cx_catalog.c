/* tests/unit/test_cx_catalog: the catalogue and live-change operations of the three API
 * connectors (connectors/catalog.h) — requests byte for byte where the shape matters, and every
 * step driven end to end against the in-process simulators: authorise, read the tree and a
 * leaf's attributes, create an item, change its price and stock, take it down, and see the
 * marketplace report it delisted. No database. */
#include "tests/unit/sandbox_test.h"
#include "connectors/catalog.h"
#include "connectors/registry.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static sbx_sandbox *sb;

/* One request, blocking, through libcurl (no transport lanes needed here). */
static void send_req(const cx_request *req, cx_response *resp, sbt_resp *raw)
{
    const char *hdrs[CX_MAX_HEADERS + 1];
    char lines[CX_MAX_HEADERS][1200];
    size_t n = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        snprintf(lines[n], sizeof lines[n], "%s: %s", req->headers[i].name, req->headers[i].value);
        hdrs[n] = lines[n];
        n++;
    }
    hdrs[n] = NULL;
    CURL *c = NULL;
    curl_mime *mime = NULL;
    if (req->nparts) { /* image uploads: the parts as curl would send them for the transport */
        c = curl_easy_init();
        mime = curl_mime_init(c);
        for (size_t i = 0; i < req->nparts; i++) {
            curl_mimepart *p = curl_mime_addpart(mime);
            curl_mime_name(p, req->parts[i].name);
            if (req->parts[i].filename) curl_mime_filename(p, req->parts[i].filename);
            if (req->parts[i].content_type) curl_mime_type(p, req->parts[i].content_type);
            curl_mime_data(p, req->parts[i].data, req->parts[i].len);
        }
    }
    json_decref(sbt_req(req->method, req->url, req->content_type, req->body, req->body_len, hdrs,
                        mime, 0, raw));
    if (mime) curl_mime_free(mime);
    if (c) curl_easy_cleanup(c);
    memset(resp, 0, sizeof *resp);
    resp->transport = raw->rc == CURLE_OK ? CX_T_OK : CX_T_OTHER;
    resp->status = raw->status;
    resp->body = raw->body.data;
    resp->body_len = raw->body.len;
}

typedef struct mkt {
    const cx_connector *c;
    cx_market mp;
    char base[96], auth[96], redirect[128], root[96];
    char shop[128], access[CX_TOKEN_MAX], refresh[CX_TOKEN_MAX];
    cx_account acct;
} mkt;

static void op(mkt *m, cx_op o, cx_input *in, cx_outcome *out)
{
    cx_request req;
    cx_request_init(&req);
    cs_error err;
    cs_error_clear(&err);
    in->mp = &m->mp;
    in->now_ms = sbt_now_ms();
    int rc = m->c->build(o, in, &req, &err);
    if (rc) fprintf(stderr, "%s %s: %s\n", m->c->code, cx_op_name(o), err.detail);
    assert_int_equal(rc, 0);
    sbt_resp raw;
    cx_response resp;
    send_req(&req, &resp, &raw);
    m->c->parse(o, in, &resp, out);
    if (out->result != CX_OK)
        fprintf(stderr, "%s %s: %s %s (%.*s)\n", m->c->code, cx_op_name(o), out->error_code,
                out->message, (int)raw.body.len, raw.body.data);
    sbt_free(&raw);
    cx_request_free(&req);
}

static void connect_mkt(mkt *m, const char *code)
{
    memset(m, 0, sizeof *m);
    m->c = cx_find(code);
    int sm = !strcmp(code, "shopee")   ? SBX_SHOPEE
             : !strcmp(code, "lazada") ? SBX_LAZADA
                                       : SBX_TIKTOK;
    sbx_url(sb, sm, m->base, sizeof m->base);
    snprintf(m->root, sizeof m->root, "http://127.0.0.1:%u", sbx_port(sb, sm));
    snprintf(m->auth, sizeof m->auth, "http://127.0.0.1:%u%s", sbx_port(sb, sm),
             sm == SBX_LAZADA ? "/rest" : "");
    snprintf(m->redirect, sizeof m->redirect, "http://127.0.0.1:9/v1/oauth/%s/callback", code);
    m->mp = (cx_market){.code = code,
                        .base_url = m->base,
                        .auth_url = m->auth,
                        .app_id = sm == SBX_SHOPEE   ? TM_SHOPEE_PARTNER_ID_TEXT
                                  : sm == SBX_LAZADA ? TM_LAZADA_APP_KEY
                                                     : TM_TIKTOK_APP_KEY,
                        .secret = sm == SBX_SHOPEE   ? TM_SHOPEE_PARTNER_KEY
                                  : sm == SBX_LAZADA ? TM_LAZADA_APP_SECRET
                                                     : TM_TIKTOK_APP_SECRET,
                        .redirect_url = m->redirect,
                        .push_url = "",
                        .public_domain = "",
                        .logistic_id = "50021",
                        .warehouse_id = ""};
    cx_request req;
    cx_request_init(&req);
    cs_error err;
    cs_error_clear(&err);
    cx_input in = {.mp = &m->mp, .oauth_state = "st16", .now_ms = sbt_now_ms()};
    assert_int_equal(m->c->build(CX_OP_AUTHORIZE_LINK, &in, &req, &err), 0);
    sbt_resp r;
    sbt_get(req.url, &r);
    cx_request_free(&req);
    assert_int_equal(r.status, 302);
    char code_[200], shop[64] = "";
    assert_int_equal(sbt_url_param(r.location, "code", code_, sizeof code_), 0);
    sbt_url_param(r.location, "shop_id", shop, sizeof shop);
    sbt_free(&r);
    m->acct = (cx_account){shop, "", ""};
    cx_input t = {.account = &m->acct, .auth_code = code_};
    cx_outcome out;
    op(m, CX_OP_TOKEN_EXCHANGE, &t, &out);
    assert_int_equal(out.result, CX_OK);
    snprintf(m->access, sizeof m->access, "%s", out.access_token);
    snprintf(m->refresh, sizeof m->refresh, "%s", out.refresh_token);
    snprintf(m->shop, sizeof m->shop, "%s", out.shop_id[0] ? out.shop_id : shop);
    m->acct = (cx_account){m->shop, m->access, m->refresh};
    if (sm == SBX_TIKTOK) {
        cx_input g = {.account = &m->acct};
        op(m, CX_OP_GET_SHOP, &g, &out);
        assert_int_equal(out.result, CX_OK);
        snprintf(m->shop, sizeof m->shop, "%s", out.shop_id);
    }
}

static void catalog(mkt *m, cx_cat_step step, const char *cat, cx_outcome *out,
                    cx_catalog_page *page)
{
    const cx_catalog_ops *ops = cx_catalog_for(m->c->code);
    assert_non_null(ops);
    cx_request req;
    cx_request_init(&req);
    cs_error err;
    cs_error_clear(&err);
    cx_input in = {.mp = &m->mp, .account = &m->acct, .now_ms = sbt_now_ms()};
    assert_int_equal(ops->build(step, &in, cat, &req, &err), 0);
    sbt_resp raw;
    cx_response resp;
    send_req(&req, &resp, &raw);
    memset(page, 0, sizeof *page);
    ops->parse(step, &in, &resp, out, page);
    sbt_free(&raw);
    cx_request_free(&req);
}

static void change(mkt *m, cx_change_kind k, const cx_change *c, cx_outcome *out, char sku[64])
{
    const cx_change_ops *ops = cx_changes_for(m->c->code);
    cx_request req;
    cx_request_init(&req);
    cs_error err;
    cs_error_clear(&err);
    cx_input in = {.mp = &m->mp, .account = &m->acct, .now_ms = sbt_now_ms()};
    int rc = ops->build(k, &in, c, &req, &err);
    if (rc) fprintf(stderr, "%s %s: %s\n", m->c->code, cx_change_name(k), err.detail);
    assert_int_equal(rc, 0);
    sbt_resp raw;
    cx_response resp;
    send_req(&req, &resp, &raw);
    ops->parse(k, &in, &resp, out, sku);
    if (out->result != CX_OK)
        fprintf(stderr, "%s %s: %s (%.*s)\n", m->c->code, cx_change_name(k), out->error_code,
                (int)raw.body.len, raw.body.data);
    sbt_free(&raw);
    cx_request_free(&req);
}

/* Tree and attributes: the leaf is there with a name, its mandatory attribute comes with the
 * marketplace's Vietnamese name and choices. */
static void check_catalog(mkt *m, const char *leaf, const char *attr)
{
    cx_outcome out;
    cx_catalog_page p;
    catalog(m, CX_CAT_TREE, NULL, &out, &p);
    assert_int_equal(out.result, CX_OK);
    int found = 0;
    for (size_t i = 0; i < p.nnodes; i++) {
        assert_true(p.nodes[i].name[0] != '\0');
        if (!strcmp(p.nodes[i].id, leaf)) found = p.nodes[i].leaf;
    }
    assert_true(found);
    cx_catalog_page_free(&p);
    catalog(m, CX_CAT_ATTRS, leaf, &out, &p);
    assert_int_equal(out.result, CX_OK);
    assert_true(p.nattrs >= 1);
    assert_string_equal(p.attrs[0].id, attr);
    assert_true(p.attrs[0].mandatory);
    assert_non_null(strstr(p.attrs[0].choices, "\"name\":"));
    int optional = 0;
    for (size_t i = 0; i < p.nattrs; i++)
        optional |= !p.attrs[i].mandatory;
    assert_true(optional);
    cx_catalog_page_free(&p);
    catalog(m, CX_CAT_ATTRS, "424242", &out, &p);
    assert_int_not_equal(out.result, CX_OK);
    cx_catalog_page_free(&p);
}

static void create(mkt *m, const char *cat, const char *attrs, long long listing, char *item,
                   size_t n)
{
    unsigned char png[TM_PNG_LEN];
    size_t plen = tm_png(png);
    cx_image im = {png, plen, "a.png", "image/png", "https://choso.example/media/a.png"};
    cx_input in = {.account = &m->acct, .image = &im};
    cx_outcome out;
    op(m, CX_OP_IMAGE_UPLOAD, &in, &out);
    assert_int_equal(out.result, CX_OK);
    char img[512];
    snprintf(img, sizeof img, "%s", out.image_id);
    const char *imgs[] = {img};
    cx_category c = {cat, "", attrs};
    cx_listing l = {.listing_id = listing,
                    .name = "Nem chua Thanh Hóa",
                    .description = "Đặc sản xứ Thanh",
                    .price_vnd = 85000,
                    .stock = 20,
                    .weight_g = 500,
                    .length_mm = 200,
                    .width_mm = 100,
                    .height_mm = 50,
                    .category_code = "food_dish",
                    .category = &c,
                    .image_ids = imgs,
                    .nimages = 1};
    cx_input ci = {.account = &m->acct, .listing = &l};
    op(m, CX_OP_CREATE_ITEM, &ci, &out);
    assert_int_equal(out.result, CX_OK);
    snprintf(item, n, "%s", out.item_id);
}

static cx_item_state state_of(mkt *m, const char *item)
{
    cx_listing l = {.listing_id = 1, .item_id = item};
    cx_input in = {.account = &m->acct, .listing = &l};
    cx_outcome out;
    op(m, CX_OP_GET_STATUS, &in, &out);
    return out.state;
}

static void live_changes(mkt *m, const char *cat, const char *attrs, long long listing)
{
    char item[64], sku[24], ext[64] = "";
    create(m, cat, attrs, listing, item, sizeof item);
    json_decref(sbt_admin(m->root, "review", "{}"));
    assert_int_equal(state_of(m, item), CX_ITEM_LIVE);
    cx_sku(listing, sku);
    const cx_change_ops *ops = cx_changes_for(m->c->code);
    cx_change c = {item, sku, NULL, 99000, 3};
    cx_outcome out;
    if (ops->needs_lookup) {
        change(m, CX_CHG_LOOKUP, &c, &out, ext);
        assert_int_equal(out.result, CX_OK);
        assert_true(ext[0] != '\0');
        c.ext_sku_id = ext;
    }
    change(m, CX_CHG_PRICE, &c, &out, ext);
    assert_int_equal(out.result, CX_OK);
    if (!ops->price_with_stock) {
        change(m, CX_CHG_STOCK, &c, &out, ext);
        assert_int_equal(out.result, CX_OK);
    }
    /* a price the marketplace refuses comes back as a rejection, not a retry */
    cx_change bad = c;
    bad.price_vnd = 0;
    change(m, CX_CHG_PRICE, &bad, &out, ext);
    assert_int_equal(out.result, CX_REJECTED);
    /* take it down, twice: the second time the goal is already reached */
    change(m, CX_CHG_WITHDRAW, &c, &out, ext);
    assert_int_equal(out.result, CX_OK);
    change(m, CX_CHG_WITHDRAW, &c, &out, ext);
    assert_int_equal(out.result, CX_OK);
    if (ops->delete_after_withdraw) { /* deleted, twice; then even the unlist finds it gone */
        change(m, CX_CHG_DELETE, &c, &out, ext);
        assert_int_equal(out.result, CX_OK);
        change(m, CX_CHG_DELETE, &c, &out, ext);
        assert_int_equal(out.result, CX_OK);
        change(m, CX_CHG_WITHDRAW, &c, &out, ext);
        assert_int_equal(out.result, CX_OK);
    }
    cx_item_state st = state_of(m, item);
    assert_true(st == CX_ITEM_DELISTED || st == CX_ITEM_UNKNOWN);
}

static void test_shopee(void **state)
{
    (void)state;
    mkt m;
    connect_mkt(&m, "shopee");
    check_catalog(&m, "100780", "100037");
    live_changes(&m, "100780",
                 "{\"attribute_list\":[{\"attribute_id\":100037,\"attribute_value_list\":"
                 "[{\"value_id\":0,\"original_value_name\":\"Việt Nam\"}]}]}",
                 16001);
}

static void test_lazada(void **state)
{
    (void)state;
    mkt m;
    connect_mkt(&m, "lazada");
    check_catalog(&m, "10003451", "brand");
    live_changes(&m, "10003451", "{\"brand\":\"No Brand\"}", 16002);
}

static void test_tiktok(void **state)
{
    (void)state;
    mkt m;
    connect_mkt(&m, "tiktok");
    check_catalog(&m, "700645", "100107");
    live_changes(&m, "700645",
                 "{\"product_attributes\":[{\"id\":\"100107\",\"values\":[{\"name\":\"Việt "
                 "Nam\"}]}]}",
                 16003);
}

/* The exact bytes of the calls whose shape the marketplaces are strict about. */
static void test_golden_bodies(void **state)
{
    (void)state;
    static const cx_market lz = {.code = "lazada",
                                 .base_url = "https://api.lazada.test/rest",
                                 .app_id = "123456",
                                 .secret = "helloworld"};
    cx_account acct = {"1000123", "test", "r"};
    cx_input in = {.mp = &lz, .account = &acct, .now_ms = 1517820392000LL};
    cx_change c = {"9001", "CS-7", NULL, 120000, 30};
    cx_request req;
    cx_request_init(&req);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cx_lazada_changes.build(CX_CHG_PRICE, &in, &c, &req, &err), 0);
    assert_string_equal(req.method, "POST");
    assert_non_null(strstr(req.url, "https://api.lazada.test/rest/product/price_quantity/update?"));
    assert_string_equal(req.body,
                        "payload=%7B%22Request%22%3A%7B%22Product%22%3A%7B%22Skus%22%3A%7B%22Sku"
                        "%22%3A%5B%7B%22SellerSku%22%3A%22CS-7%22%2C%22Price%22%3A%22120000%22%2C"
                        "%22Quantity%22%3A%2230%22%2C%22ItemId%22%3A%229001%22%7D%5D%7D%7D%7D%7D");
    cx_request_free(&req);
    cx_request_init(&req);
    assert_int_equal(cx_lazada_changes.build(CX_CHG_WITHDRAW, &in, &c, &req, &err), 0);
    assert_string_equal(req.body, "seller_sku_list=%5B%22CS-7%22%5D");
    cx_request_free(&req);
    /* the tree is a public call: no access_token in the signed query */
    cx_request_init(&req);
    assert_int_equal(cx_lazada_catalog.build(CX_CAT_TREE, &in, NULL, &req, &err), 0);
    assert_null(strstr(req.url, "access_token"));
    assert_non_null(strstr(req.url, "/category/tree/get?app_key=123456&timestamp=1517820392000"
                                    "&sign_method=sha256&language_code=vi_VN&sign="));
    cx_request_free(&req);
    /* Shopee: unlist keeps the item (item_list with unlist true) */
    static const cx_market sp = {
        .code = "shopee", .base_url = "https://partner.test", .app_id = "2001887", .secret = "k"};
    cx_account sa = {"14701711", "tok", "r"};
    cx_input si = {.mp = &sp, .account = &sa, .now_ms = 1655714431000LL};
    cx_change s = {"3000000001", "CS-7", NULL, 120000, 30};
    cx_request_init(&req);
    assert_int_equal(cx_shopee_changes.build(CX_CHG_WITHDRAW, &si, &s, &req, &err), 0);
    assert_string_equal(req.body, "{\"item_list\":[{\"item_id\":3000000001,\"unlist\":true}]}");
    cx_request_free(&req);
    /* … then delete_item, once unlisted (a withdrawn product leaves nothing on Shopee) */
    assert_true(cx_shopee_changes.delete_after_withdraw);
    assert_false(cx_lazada_changes.delete_after_withdraw ||
                 cx_tiktok_changes.delete_after_withdraw);
    cx_request_init(&req);
    assert_int_equal(cx_shopee_changes.build(CX_CHG_DELETE, &si, &s, &req, &err), 0);
    assert_string_equal(req.body, "{\"item_id\":3000000001}");
    assert_non_null(strstr(req.url, "/api/v2/product/delete_item?"));
    cx_request_free(&req);
    cx_request_init(&req);
    assert_int_equal(cx_lazada_changes.build(CX_CHG_DELETE, &si, &s, &req, &err), -1);
    cx_request_free(&req);
    cx_request_init(&req);
    assert_int_equal(cx_tiktok_changes.build(CX_CHG_DELETE, &si, &s, &req, &err), -1);
    cx_request_free(&req);
    cx_request_init(&req);
    assert_int_equal(cx_shopee_changes.build(CX_CHG_STOCK, &si, &s, &req, &err), 0);
    assert_string_equal(req.body, "{\"item_id\":3000000001,\"stock_list\":[{\"model_id\":0,"
                                  "\"seller_stock\":[{\"stock\":30}]}]}");
    cx_request_free(&req);
    /* TikTok: price and inventory need the SKU id */
    static const cx_market tt = {.code = "tiktok",
                                 .base_url = "https://open-api.test",
                                 .app_id = "29a39d",
                                 .secret = "e59af819cc"};
    cx_input ti = {.mp = &tt, .account = &sa, .now_ms = 1623812664000LL};
    cx_change t = {"1729", "CS-7", NULL, 120000, 30};
    cx_request_init(&req);
    assert_int_equal(cx_tiktok_changes.build(CX_CHG_PRICE, &ti, &t, &req, &err), -1);
    cx_request_free(&req);
    t.ext_sku_id = "5001";
    cx_request_init(&req);
    assert_int_equal(cx_tiktok_changes.build(CX_CHG_PRICE, &ti, &t, &req, &err), 0);
    assert_string_equal(req.body, "{\"skus\":[{\"id\":\"5001\",\"price\":{\"amount\":\"120000\","
                                  "\"currency\":\"VND\"}}]}");
    assert_non_null(strstr(req.url, "/product/202309/products/1729/prices/update?"));
    cx_request_free(&req);
    cx_request_init(&req);
    assert_int_equal(cx_tiktok_changes.build(CX_CHG_WITHDRAW, &ti, &t, &req, &err), 0);
    assert_string_equal(req.body, "{\"product_ids\":[\"1729\"]}");
    cx_request_free(&req);
    assert_null(cx_catalog_for("postmart"));
    assert_ptr_equal(cx_catalog_for("Shopee"), &cx_shopee_catalog);
}

/* Unreadable or hostile answers never crash and never pass as success. */
static void test_parse_garbage(void **state)
{
    (void)state;
    static const cx_market lz = {
        .code = "lazada", .base_url = "https://x/rest", .app_id = "1", .secret = "s"};
    cx_input in = {.mp = &lz, .now_ms = 1};
    static const char *const bodies[] = {"", "not json", "{\"code\":\"0\",\"data\":{}}",
                                         "{\"code\":\"0\",\"data\":[{\"category_id\":1,\"name\":"
                                         "\"a\",\"leaf\":false,\"children\":[{}]}]}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cx_response r = {CX_T_OK, 200, bodies[i], strlen(bodies[i]), NULL, NULL};
        cx_outcome out;
        cx_catalog_page p;
        memset(&p, 0, sizeof p);
        cx_lazada_catalog.parse(CX_CAT_TREE, &in, &r, &out, &p);
        assert_int_not_equal(out.result, CX_OK);
        cx_catalog_page_free(&p);
    }
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sbx_options o;
    sbt_options(&o);
    o.tiktok_redirect_url = "http://127.0.0.1:9/v1/oauth/tiktok/callback";
    sb = sbt_start(&o);
    return sb ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sbx_stop(sb);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_bodies), cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_shopee),        cmocka_unit_test(test_lazada),
        cmocka_unit_test(test_tiktok),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
