/* jobs/flows_assisted: the assisted marketplaces (postmart.vn, voso.vn publish no API) — the
 * registration pack, the upload sheet (CSV/XLSX, column layout from schemas/data), the shop and
 * listing confirmations with their URLs checked, and listing.linkcheck. No marketplace call but
 * the link check; states change only through core/states. */
#include "connectors/assisted.h"
#include "core/config.h"
#include "core/households.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/states.h"
#include "jobs/flows.h"
#include "jobs/flows_int.h"
#include "jobs/sheet_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a whole (small) file into a new buffer. 0 or -1. */
static int slurp(const char *path, char **data, size_t *len, cs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cs_error_set(err, CS_E_INTERNAL, "sheet file");
    cs_buf b;
    cs_buf_init(&b, 32u << 20);
    char chunk[8192];
    size_t got;
    int bad = 0;
    while (!bad && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        bad = cs_buf_append(&b, chunk, got);
    fclose(f);
    if (bad || !(*data = cs_malloc(b.len ? b.len : 1))) {
        cs_buf_free(&b);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    memcpy(*data, b.data, b.len);
    *len = b.len;
    cs_buf_free(&b);
    return 0;
}

static int temp_path(char *path, size_t n, cs_error *err)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, n, "%s/choso-sheet-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return cs_error_set(err, CS_E_INTERNAL, "temporary file");
    close(fd);
    return 0;
}

/* ---- the upload sheet ---------------------------------------------------------------------- */

struct sheet_src {
    cs_rows *r;    /* product + category map */
    cs_rows *imgs; /* image sha256s */
    cx_listing l;
    cx_category cat;
    char **urls;
    size_t nurls;
    char origin[200];
    char sku_id[24];
};

static void src_free(struct sheet_src *s)
{
    for (size_t i = 0; i < s->nurls; i++)
        cs_free(s->urls[i]);
    cs_free(s->urls);
    cs_rows_free(s->r);
    cs_rows_free(s->imgs);
    memset(s, 0, sizeof *s);
}

// clang-format off
static const char SQL_SHEET_PRODUCT[] =
    "SELECT p.name, p.description, p.price_vnd, p.stock, p.weight_g, p.length_mm, p.width_mm,"
    "       p.height_mm, p.category, c.external_category_id, c.external_category_name,"
    "       c.attributes, p.ocop_stars, u.name, l.id"
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " JOIN admin_units u ON u.code = h.commune_code"
    " LEFT JOIN category_map c ON c.category = p.category AND c.marketplace_code = ?"
    " LEFT JOIN listings l ON l.product_id = p.id AND l.marketplace_code = ?"
    " WHERE p.id = ?";
static const char SQL_SHEET_IMAGES[] =
    "SELECT sha256"
    " FROM product_images"
    " WHERE product_id = ?"
    " ORDER BY position, id";
// clang-format on
/* columns of SQL_SHEET_PRODUCT */
enum {
    SP_NAME,
    SP_DESC,
    SP_PRICE,
    SP_STOCK,
    SP_WEIGHT,
    SP_LEN,
    SP_WID,
    SP_HEI,
    SP_CAT,
    SP_CATID,
    SP_CATNAME,
    SP_ATTRS,
    SP_OCOP,
    SP_COMMUNE,
    SP_LISTING
};
/* columns of SQL_SHEET_IMAGES */
enum { SI_SHA256 };

/* The product as a sheet row needs it; listing_id 0 when there is none yet. */
static int src_load(cs_db *db, int64_t product_id, const char *mp, struct sheet_src *s,
                    cs_error *err)
{
    memset(s, 0, sizeof *s);
    if (cs_db_query(db, &s->r, SQL_SHEET_PRODUCT, "ssi", mp, mp, product_id, err)) return -1;
    if (!cs_rows_count(s->r))
        return cs_error_set(err, CS_E_NOT_FOUND, "product %lld", (long long)product_id);
    cs_rows *r = s->r;
    s->l.listing_id = cs_rows_i64(r, 0, SP_LISTING);
    s->l.name = cs_rows_str(r, 0, SP_NAME);
    s->l.description = cs_rows_str(r, 0, SP_DESC);
    s->l.price_vnd = cs_rows_i64(r, 0, SP_PRICE);
    s->l.stock = cs_rows_i64(r, 0, SP_STOCK);
    s->l.weight_g = (long)cs_rows_i64(r, 0, SP_WEIGHT);
    s->l.length_mm = (long)cs_rows_i64(r, 0, SP_LEN);
    s->l.width_mm = (long)cs_rows_i64(r, 0, SP_WID);
    s->l.height_mm = (long)cs_rows_i64(r, 0, SP_HEI);
    s->l.category_code = cs_rows_str(r, 0, SP_CAT);
    if (!cs_rows_isnull(r, 0, SP_CATID)) {
        s->cat.external_id = cs_rows_str(r, 0, SP_CATID);
        s->cat.external_name = cs_rows_str(r, 0, SP_CATNAME);
        s->cat.attributes_json = cs_rows_strn(r, 0, SP_ATTRS);
        s->l.category = &s->cat;
    }
    snprintf(s->origin, sizeof s->origin, "%s, Thanh Hóa", cs_rows_str(r, 0, SP_COMMUNE));
    if (cs_db_query(db, &s->imgs, SQL_SHEET_IMAGES, "i", product_id, err)) return -1;
    s->nurls = 0;
    s->urls = cs_calloc(cs_rows_count(s->imgs) + 1, sizeof *s->urls);
    if (!s->urls) return cs_error_set(err, CS_E_NOMEM, NULL);
    const char *pub = cs_cfg_str("http.public_url");
    size_t pl = strlen(pub);
    while (pl && pub[pl - 1] == '/')
        pl--;
    for (size_t i = 0; i < cs_rows_count(s->imgs); i++) {
        char u[600];
        snprintf(u, sizeof u, "%.*s/media/%s", (int)pl, pub, cs_rows_str(s->imgs, i, SI_SHA256));
        if (!(s->urls[s->nurls] = cs_strdup(u))) return cs_error_set(err, CS_E_NOMEM, NULL);
        s->nurls++;
    }
    return 0;
}

static int layout_for(const cx_connector *c, cx_layout *lay, cs_error *err)
{
    if (!c->assisted || !c->assisted->layout_file)
        return cs_error_set(err, CS_F_MARKETPLACE, "%s is not assisted", c->code);
    char path[1024];
    /* A marketplace configured as data names its layout with the directory it was loaded from. */
    if (strchr(c->assisted->layout_file, '/'))
        snprintf(path, sizeof path, "%s", c->assisted->layout_file);
    else
        snprintf(path, sizeof path, "%s/data/%s", cs_cfg_str("schema.dir"),
                 c->assisted->layout_file);
    return cx_layout_load(path, lay, err);
}

/* cells of the row (owned) and its field errors in row_err. -1 only when it cannot be built. */
static int sheet_cells(const cx_layout *lay, struct sheet_src *s, char ***cells, cs_error *row_err)
{
    cx_sheet_item it = {&s->l,     (const char *const *)s->urls,       s->nurls,
                        s->origin, (int)cs_rows_i64(s->r, 0, SP_OCOP), "",
                        ""};
    int rc = cx_sheet_row(lay, &it, cells, row_err);
    return rc && !*cells ? -1 : 0;
}

int job_flows_sheet(cs_db *db, int64_t product_id, const char *mp, int xlsx, char **data,
                    size_t *len, cs_error *err)
{
    *data = NULL;
    *len = 0;
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (m->c->kind != CX_KIND_FILE)
        return cs_error_set(err, CS_E_NOT_FOUND, "%s takes no upload sheet", m->c->code);
    cx_layout lay;
    memset(&lay, 0, sizeof lay);
    struct sheet_src s;
    char **cells = NULL;
    int rc = -1;
    if (layout_for(m->c, &lay, err) || src_load(db, product_id, m->c->code, &s, err)) goto out;
    cs_error row_err;
    cs_error_clear(&row_err);
    if (sheet_cells(&lay, &s, &cells, &row_err)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    if (!xlsx) {
        cs_buf b;
        cs_buf_init(&b, 8u << 20);
        int bad = cs_buf_append(&b, "\xEF\xBB\xBF", 3); /* BOM: Excel reads the accents right */
        for (size_t i = 0; i < lay.ncols && !bad; i++)
            bad = (i && cs_buf_putc(&b, ',')) || sheet_csv_cell(&b, lay.cols[i].header);
        bad = bad || cs_buf_append(&b, "\r\n", 2);
        for (size_t i = 0; i < lay.ncols && !bad; i++)
            bad = (i && cs_buf_putc(&b, ',')) || sheet_csv_cell(&b, cells[i] ? cells[i] : "");
        bad = bad || cs_buf_append(&b, "\r\n", 2);
        if (bad) {
            cs_buf_free(&b);
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
        *len = b.len;
        *data = cs_malloc(b.len + 1);
        if (!*data) {
            cs_buf_free(&b);
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
        memcpy(*data, b.data, b.len);
        (*data)[b.len] = '\0';
        cs_buf_free(&b);
        rc = 0;
        goto out;
    }
    /* libxlsxwriter writes files only: a private temporary one, removed at once */
    char path[512];
    if (temp_path(path, sizeof path, err)) goto out;
    sheet_xw w;
    if (sheet_xw_open(&w, path, err)) goto out;
    lxw_worksheet *ws = workbook_add_worksheet(w.wb, "San pham");
    if (!ws) {
        sheet_xw_fail(&w, err, "add_worksheet");
        goto out;
    }
    for (size_t i = 0; i < lay.ncols; i++) {
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i,
                             sheet_xw_width(lay.cols[i].header, 10, 40), NULL);
        worksheet_write_string(ws, 0, (lxw_col_t)i, lay.cols[i].header,
                               lay.cols[i].required ? w.header_req : w.header);
        worksheet_write_string(ws, 1, (lxw_col_t)i, cells[i] ? cells[i] : "", w.text);
    }
    if (!sheet_xw_close(&w, err)) rc = slurp(path, data, len, err);
    unlink(path);
out:
    if (cells) cx_sheet_row_free(&lay, cells);
    if (s.r || s.imgs) src_free(&s);
    cx_layout_free(&lay);
    return rc;
}

// clang-format off
static const char SQL_LISTING_STATE_LOCK[] =
    "SELECT state"
    " FROM listings"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_LISTING_CLEAR_ERROR[] =
    "UPDATE listings"
    " SET last_error_code = NULL, last_error_message = NULL, error_fields = NULL"
    " WHERE id = ?";
static const char SQL_LISTING_PRODUCT[] =
    "SELECT product_id"
    " FROM listings"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_LISTING_STATE_LOCK */
enum { LS_STATE };

struct submit {
    int64_t id;
};
static int submit_tx(cs_db *db, void *arg, cs_error *err)
{
    struct submit *x = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LISTING_STATE_LOCK, "i", x->id, err)) return -1;
    int queued = cs_rows_count(r) && !strcmp(cs_rows_str(r, 0, LS_STATE), "queued");
    cs_rows_free(r);
    if (!queued) return 0;
    if (cs_db_exec(db, SQL_LISTING_CLEAR_ERROR, "i", x->id, err) < 0) return -1;
    return cs_listing_transition(
        db, x->id, "submitted", "upload_sheet",
        "Bảng tải sản phẩm lên sàn đã sẵn sàng; tình nguyện viên tải lên rồi xác nhận đường dẫn",
        flows_actor(), err);
}

job_outcome flows_publish_file(job_ctx *ctx, const flows_mkt *m, int64_t listing_id)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t pid = 0;
    if (cs_db_scalar_i64(ctx->db, &pid, SQL_LISTING_PRODUCT, "i", listing_id, &err) != 0)
        return job_retry(ctx, 0, "listing: %s", cs_code_name(err.code));
    cx_layout lay;
    memset(&lay, 0, sizeof lay);
    struct sheet_src s;
    memset(&s, 0, sizeof s);
    char **cells = NULL;
    job_outcome res = JOB_OK;
    if (layout_for(m->c, &lay, &err)) {
        res = job_fail(ctx, "layout of %s: %s %s", m->c->code, cs_code_name(err.code), err.detail);
        goto out;
    }
    if (src_load(ctx->db, pid, m->c->code, &s, &err)) {
        res = job_retry(ctx, 0, "product: %s", cs_code_name(err.code));
        goto out;
    }
    cs_error row;
    cs_error_clear(&row);
    if (sheet_cells(&lay, &s, &cells, &row)) {
        res = job_retry(ctx, 0, "sheet row: out of memory");
        goto out;
    }
    if (cs_error_failed(&row) || !s.l.category) {
        /* a column the seller centre requires is empty or too long: the volunteer fixes it */
        cx_outcome o;
        cx_outcome_init(&o);
        if (!s.l.category)
            cs_error_field(&row, "category", CS_F_CATEGORY_UNMAPPED, s.l.category_code);
        for (size_t i = 0; i < row.nfields; i++) {
            char vi[320];
            snprintf(vi, sizeof vi, "Cột «%s»: %s", row.fields[i].field,
                     cs_code_message(row.fields[i].code, CS_LANG_VI));
            cx_outcome_reject(&o, row.fields[i].field, cs_code_name(row.fields[i].code), vi,
                              cs_code_message(row.fields[i].code, CS_LANG_EN));
        }
        if (flows_listing_reject(ctx->db, listing_id, &o, &err))
            res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
        goto out;
    }
    struct submit x = {listing_id};
    if (cs_db_tx(ctx->db, submit_tx, &x, &err))
        res = job_retry(ctx, 0, "submit: %s", cs_code_name(err.code));
out:
    if (cells) cx_sheet_row_free(&lay, cells);
    src_free(&s);
    cx_layout_free(&lay);
    return res;
}

/* ---- registration pack --------------------------------------------------------------------- */

int job_flows_pack(cs_db *db, const char *household_code, const char *mp, char **json, size_t *len,
                   cs_error *err)
{
    *json = NULL;
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (m->c->kind != CX_KIND_FILE)
        return cs_error_set(err, CS_E_NOT_FOUND, "%s has no registration pack", m->c->code);
    json_t *h = NULL;
    if (cs_household_get(db, household_code, CS_PII_FULL, &h, NULL, err)) return -1;
    int64_t main_cat = 0;
    cs_rows *r = NULL;
    char catname[128] = "";
    // clang-format off
    static const char sql_main_category[] =
        "SELECT c.name_vi"
        " FROM products p"
        " JOIN households hh ON hh.id = p.household_id"
        " JOIN categories c ON c.code = p.category"
        " WHERE hh.code = ?"
        " GROUP BY c.name_vi"
        " ORDER BY COUNT(*) DESC"
        " LIMIT 1";
    // clang-format on
    enum { MC_NAME };
    if (cs_db_query(db, &r, sql_main_category, "s", household_code, err) == 0) {
        if (cs_rows_count(r)) snprintf(catname, sizeof catname, "%s", cs_rows_str(r, 0, MC_NAME));
        cs_rows_free(r);
    } else {
        cs_error_clear(err); /* the main category is a nicety */
    }
    (void)main_cat;
#define S(k) json_string_value(json_object_get(h, k))
    cx_household hh = {
        .code = S("code"),
        .shop_name = S("business_name"),
        .owner_name = S("owner_name"),
        .birth_date = S("birth_date"),
        .cccd = S("cccd"),
        .phone = S("phone"),
        .address = S("address"),
        .commune = json_string_value(json_object_get(json_object_get(h, "commune"), "name")),
        .former_district =
            json_string_value(json_object_get(json_object_get(h, "former_district"), "name")),
        .province = "Thanh Hóa",
        .business_reg_no = S("business_reg_no"),
        .tax_code = S("tax_code"),
        .epayment = json_is_true(json_object_get(h, "has_epayment")) ? "Có" : "",
        .main_category = catname,
    };
#undef S
    cx_pack p;
    int rc = cx_registration_pack(m->c, &hh, &p, err);
    if (!rc) {
        *json = cx_pack_json(&p, len);
        if (!*json) rc = cs_error_set(err, CS_E_NOMEM, NULL);
        cx_pack_free(&p);
    }
    json_decref(h);
    return rc;
}

int job_flows_pack_xlsx(const char *json, size_t jlen, char **data, size_t *len, cs_error *err)
{
    *data = NULL;
    json_t *p = json_loadb(json, jlen, 0, NULL);
    if (!p) return cs_error_set(err, CS_E_INTERNAL, "pack");
    char path[512];
    int rc = -1;
    sheet_xw w;
    if (temp_path(path, sizeof path, err)) goto out;
    if (sheet_xw_open(&w, path, err)) goto out;
    lxw_worksheet *ws = workbook_add_worksheet(w.wb, "Ho so dang ky");
    if (!ws) {
        sheet_xw_fail(&w, err, "add_worksheet");
        goto out;
    }
    char title[300];
    snprintf(title, sizeof title, "Hồ sơ đăng ký người bán trên %s",
             json_string_value(json_object_get(p, "display_name"))
                 ? json_string_value(json_object_get(p, "display_name"))
                 : "");
    worksheet_write_string(ws, 0, 0, title, w.title);
    worksheet_write_string(ws, 1, 0, "Trang đăng ký", w.text);
    worksheet_write_string(ws, 1, 1,
                           json_string_value(json_object_get(p, "signup_url"))
                               ? json_string_value(json_object_get(p, "signup_url"))
                               : "",
                           w.text);
    worksheet_set_column(ws, 0, 0, 34, NULL);
    worksheet_set_column(ws, 1, 1, 40, NULL);
    worksheet_set_column(ws, 2, 2, 12, NULL);
    worksheet_set_column(ws, 3, 3, 60, NULL);
    static const char *const head[] = {"Thông tin", "Giá trị", "Bắt buộc", "Ghi chú"};
    for (lxw_col_t c = 0; c < 4; c++)
        worksheet_write_string(ws, 3, c, head[c], w.header);
    lxw_row_t row = 4;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(p, "fields"), i, f)
    {
        const char *v = json_string_value(json_object_get(f, "value"));
        int missing = json_is_true(json_object_get(f, "missing"));
        worksheet_write_string(ws, row, 0, json_string_value(json_object_get(f, "label")), w.text);
        worksheet_write_string(ws, row, 1,
                               missing ? "(cần bổ sung)"
                               : v     ? v
                                       : "",
                               missing ? w.error : w.text);
        worksheet_write_string(ws, row, 2, json_is_true(json_object_get(f, "required")) ? "Có" : "",
                               w.text);
        worksheet_write_string(ws, row, 3,
                               json_string_value(json_object_get(f, "note"))
                                   ? json_string_value(json_object_get(f, "note"))
                                   : "",
                               w.wrap);
        row++;
    }
    row++;
    worksheet_write_string(ws, row++, 0, "Các bước đăng ký", w.header);
    json_array_foreach(json_object_get(p, "steps"), i, f)
    {
        char step[600];
        snprintf(step, sizeof step, "%zu. %s", i + 1,
                 json_string_value(f) ? json_string_value(f) : "");
        worksheet_write_string(ws, row++, 0, step, w.text);
    }
    if (!sheet_xw_close(&w, err)) rc = slurp(path, data, len, err);
    unlink(path);
out:
    json_decref(p);
    return rc;
}

/* ---- fetching a confirmed address --------------------------------------------------------- */

enum verdict { V_SHOWN, V_REFUSED, V_RETRY };

/* Fetches url and checks that the page shows name. Redirects are followed here, by hand, each
 * target checked to be on the marketplace's own hosts before it is fetched (at most 5 hops);
 * size and time are capped by the transport (cx.max_response, cx.total_timeout_ms), TLS is
 * verified everywhere but the loopback sandbox. V_REFUSED fills code and a Vietnamese why;
 * V_RETRY fills *after (seconds). */
static enum verdict fetch_verify(const flows_mkt *m, const char *url, const char *name, char *code,
                                 size_t cn, char *why, size_t wn, unsigned *after)
{
    char cur[512];
    snprintf(cur, sizeof cur, "%s", url);
    *after = 0;
    for (int hop = 0; hop <= 5; hop++) {
        cs_error e;
        cs_error_clear(&e);
        if (!cx_assisted_url_ok(&m->cfg.m, cur, "url", &e)) {
            snprintf(code, cn, "%s", hop ? "redirect_off_site" : "url_invalid");
            snprintf(why, wn,
                     hop ? "Trang chuyển hướng ra ngoài các địa chỉ của sàn (%.200s)"
                         : "Đường dẫn không thuộc các địa chỉ của sàn (%.200s)",
                     cur);
            return V_REFUSED;
        }
        cx_input in;
        memset(&in, 0, sizeof in);
        in.url = cur;
        in.expect_name = name;
        cx_outcome o;
        if (flows_call(m, CX_OP_LINK_CHECK, &in, &o, &e)) {
            *after = 60;
            snprintf(code, cn, "%s", cs_code_name(e.code));
            return V_RETRY;
        }
        if (o.result == CX_OK) return V_SHOWN;
        if (o.result == CX_RETRY && !strcmp(o.error_code, "redirect")) {
            snprintf(cur, sizeof cur, "%s", o.item_url);
            continue;
        }
        snprintf(code, cn, "%s", o.error_code);
        if (o.result == CX_REJECTED) {
            snprintf(
                why, wn,
                "Trang trên sàn không hiển thị tên «%.180s»; hãy kiểm tra lại đường dẫn hoặc tên",
                name);
            return V_REFUSED;
        }
        if (o.result == CX_NOT_FOUND) {
            if (!strcmp(o.error_code, "gone_marker"))
                snprintf(why, wn, "Trang trên sàn báo không còn (\"%.120s\")", o.message);
            else
                snprintf(why, wn, "Trang trên sàn không tồn tại (mã HTTP %.8s)",
                         strncmp(o.error_code, "http_", 5) ? o.error_code : o.error_code + 5);
            return V_REFUSED;
        }
        *after = o.retry_after ? o.retry_after : 60;
        return V_RETRY;
    }
    snprintf(code, cn, "too_many_redirects");
    snprintf(why, wn, "Trang chuyển hướng quá nhiều lần");
    return V_REFUSED;
}

/* fetch_verify, with a refusal confirmed by a second fetch at once: a truncated or garbled
 * answer (a proxy, a deploy on the marketplace's side) must not fail a volunteer's shop. */
static enum verdict fetch_verify_sure(const flows_mkt *m, const char *url, const char *name,
                                      char *code, size_t cn, char *why, size_t wn, unsigned *after)
{
    enum verdict v = fetch_verify(m, url, name, code, cn, why, wn, after);
    if (v != V_REFUSED) return v;
    char code2[64], why2[400];
    enum verdict w = fetch_verify(m, url, name, code2, sizeof code2, why2, sizeof why2, after);
    return w == V_REFUSED ? V_REFUSED : w;
}

/* ---- confirmations ------------------------------------------------------------------------- */

struct shop_ok {
    int64_t id;
    const char *url;
    const char *key;
    const char *name;
    const cs_actor *a;
    char state[24]; /* out */
};

// clang-format off
static const char SQL_ACCOUNT_STATE_LOCK[] =
    "SELECT a.state, COALESCE(h.business_name, '')"
    " FROM seller_accounts a"
    " JOIN households h ON h.id = a.household_id"
    " WHERE a.id = ?"
    " FOR UPDATE";
static const char SQL_SHOP_KEY_TAKEN[] =
    "SELECT COUNT(*)"
    " FROM seller_accounts"
    " WHERE marketplace_code = (SELECT marketplace_code FROM seller_accounts WHERE id = ?)"
    "   AND shop_url_key = ? AND id <> ?"
    " FOR UPDATE";
static const char SQL_SHOP_URL_SET[] =
    "UPDATE seller_accounts"
    " SET shop_url = ?, shop_url_key = ?, expected_name = ?, confirmed_by = ?,"
    "     verify_reason = NULL"
    " WHERE id = ?";
static const char SQL_ACCOUNT_MP[] =
    "SELECT marketplace_code"
    " FROM seller_accounts"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_ACCOUNT_STATE_LOCK */
enum { AS_STATE, AS_BUSINESS };
/* columns of SQL_ACCOUNT_MP */
enum { AM_MP };

static int confirm_shop_tx(cs_db *db, void *arg, cs_error *err)
{
    struct shop_ok *x = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_STATE_LOCK, "i", x->id, err)) return -1;
    char st[24] = "", business[256] = "";
    if (cs_rows_count(r)) {
        snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, AS_STATE));
        snprintf(business, sizeof business, "%s", cs_rows_str(r, 0, AS_BUSINESS));
    }
    cs_rows_free(r);
    if (!st[0]) return cs_error_set(err, CS_E_NOT_FOUND, "account");
    const char *name = x->name && x->name[0] ? x->name : business;
    if (!name[0]) {
        cs_error_field(err, "shop_name", CS_F_REQUIRED, NULL);
        return -1;
    }
    int64_t taken = 0;
    if (cs_db_scalar_i64(db, &taken, SQL_SHOP_KEY_TAKEN, "isi", x->id, x->key, x->id, err) < 0)
        return -1;
    if (taken) {
        cs_error_field(err, "shop_url", CS_F_URL_TAKEN, NULL);
        return -1;
    }
    char by[48];
    cs_actor_tag(x->a, by, sizeof by);
    if (cs_db_exec(db, SQL_SHOP_URL_SET, "ssssi", x->url, x->key, name, by, x->id, err) < 0)
        return -1;
    static const char *const why =
        "Tình nguyện viên xác nhận gian hàng; đang kiểm tra trang trên sàn";
    if (!strcmp(st, "active")) {
        /* a corrected address of a counted shop: verified again, the count stays */
    } else if (!strcmp(st, "pending_verification")) {
        /* a new address while the check runs: the job reads the latest one */
    } else {
        if (!strcmp(st, "not_started") &&
            cs_account_transition(db, x->id, "awaiting_owner", "registration_pack",
                                  "Hồ sơ đăng ký đã lập", x->a, err))
            return -1;
        if ((!strcmp(st, "authorized") || !strcmp(st, "suspended") || !strcmp(st, "rejected") ||
             !strcmp(st, "token_expired")) &&
            cs_account_transition(db, x->id, "awaiting_owner", "shop_reconfirmed",
                                  "Xác nhận lại gian hàng", x->a, err))
            return -1;
        if (cs_account_transition(db, x->id, "pending_verification", "shop_url", why, x->a, err))
            return -1;
    }
    char payload[64], key[48];
    snprintf(payload, sizeof payload, "{\"account_id\":%lld}", (long long)x->id);
    snprintf(key, sizeof key, "verify:%lld", (long long)x->id);
    job_opts o = {.unique_key = key};
    int64_t jid;
    if (job_enqueue(db, "account.verify", payload, &o, &jid, err) < 0) return -1;
    snprintf(x->state, sizeof x->state, "%s",
             !strcmp(st, "active") ? "active" : "pending_verification");
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)x->id);
    return cs_audit(db, x->a, "account.confirm", "seller_account", eid, NULL, err);
}

int job_flows_confirm_shop(cs_db *db, int64_t account_id, const char *shop_url,
                           const char *shop_name, const cs_actor *a, cs_error *err)
{
    char mp[24];
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ACCOUNT_MP, "i", account_id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "account");
    }
    snprintf(mp, sizeof mp, "%s", cs_rows_str(r, 0, AM_MP));
    cs_rows_free(r);
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (m->c->kind != CX_KIND_FILE)
        return cs_error_set(err, CS_E_STATE_TRANSITION, "%s shops are authorised by OAuth", mp);
    char key[520];
    if (!shop_url || !cx_assisted_url_ok(&m->cfg.m, shop_url, "shop_url", err) ||
        cx_assisted_url_key(shop_url, key, sizeof key)) {
        if (!cs_error_failed(err)) cs_error_field(err, "shop_url", CS_F_URL, NULL);
        return -1;
    }
    struct shop_ok x = {account_id, shop_url, key, shop_name, a, ""};
    return cs_db_tx(db, confirm_shop_tx, &x, err);
}

/* ---- account.verify: the shop's page shows its name ----------------------------------------- */

// clang-format off
static const char SQL_VERIFY_ACCOUNT[] =
    "SELECT marketplace_code, shop_url, expected_name, state"
    " FROM seller_accounts"
    " WHERE id = ?";
static const char SQL_VERIFY_ACCOUNT_LOCK[] =
    "SELECT state, shop_url"
    " FROM seller_accounts"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_VERIFY_ACCOUNT_SET[] =
    "UPDATE seller_accounts"
    " SET verified_at = IF(?, UTC_TIMESTAMP(), verified_at), verify_reason = ?"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_VERIFY_ACCOUNT */
enum { VA_MP, VA_URL, VA_NAME, VA_STATE };
/* columns of SQL_VERIFY_ACCOUNT_LOCK */
enum { VL_STATE, VL_URL };

struct shop_verdict {
    int64_t id;
    const char *url;
    const char *name;
    enum verdict v;
    const char *why;
};

static int shop_verdict_tx(cs_db *db, void *arg, cs_error *err)
{
    struct shop_verdict *x = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_VERIFY_ACCOUNT_LOCK, "i", x->id, err)) return -1;
    char st[24] = "";
    int same = 0;
    if (cs_rows_count(r)) {
        snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, VL_STATE));
        same = !cs_rows_isnull(r, 0, VL_URL) && !strcmp(cs_rows_str(r, 0, VL_URL), x->url);
    }
    cs_rows_free(r);
    if (!same) return 0; /* the address changed meanwhile: its own check decides */
    int ok = x->v == V_SHOWN;
    if (cs_db_exec(db, SQL_VERIFY_ACCOUNT_SET, "isi", (int64_t)ok, ok ? NULL : x->why, x->id, err) <
        0)
        return -1;
    if (strcmp(st, "pending_verification")) return 0;
    if (ok) {
        char why[400];
        snprintf(why, sizeof why, "Đã kiểm tra: trang gian hàng trên sàn hiển thị tên «%.200s»",
                 x->name);
        return cs_account_transition(db, x->id, "active", "shop_verified", why, flows_actor(), err);
    }
    return cs_account_transition(db, x->id, "verification_failed", "shop_unverified", x->why,
                                 flows_actor(), err);
}

static job_outcome h_account_verify(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t id = json_integer_value(json_object_get(ctx->args, "account_id"));
    if (id <= 0) return job_fail(ctx, "payload.account_id missing");
    cs_rows *r = NULL;
    if (cs_db_query(ctx->db, &r, SQL_VERIFY_ACCOUNT, "i", id, &err))
        return job_retry(ctx, 0, "verify: %s", cs_code_name(err.code));
    if (!cs_rows_count(r) || cs_rows_isnull(r, 0, VA_URL) ||
        (strcmp(cs_rows_str(r, 0, VA_STATE), "pending_verification") &&
         strcmp(cs_rows_str(r, 0, VA_STATE), "active"))) {
        cs_rows_free(r);
        return JOB_OK;
    }
    const flows_mkt *m = flows_mkt_get(ctx->db, cs_rows_str(r, 0, VA_MP), &err);
    if (!m) {
        cs_rows_free(r);
        return job_retry(ctx, 0, "verify: marketplace %s", cs_code_name(err.code));
    }
    char code[64] = "", why[400] = "";
    unsigned after = 0;
    const char *name = cs_rows_isnull(r, 0, VA_NAME) ? "" : cs_rows_str(r, 0, VA_NAME);
    enum verdict v = fetch_verify_sure(m, cs_rows_str(r, 0, VA_URL), name, code, sizeof code, why,
                                       sizeof why, &after);
    job_outcome res = JOB_OK;
    if (v == V_RETRY) {
        res = job_retry(ctx, after, "verify: marketplace did not answer (%s)", code);
    } else {
        struct shop_verdict x = {id, cs_rows_str(r, 0, VA_URL), name, v, why};
        if (cs_db_tx(ctx->db, shop_verdict_tx, &x, &err))
            res = job_retry(ctx, 0, "verify: %s", cs_code_name(err.code));
    }
    cs_rows_free(r);
    return res;
}

struct listing_ok {
    int64_t id;
    const char *url;
    const char *key;
    const cs_actor *a;
};

// clang-format off
static const char SQL_LISTING_KEY_TAKEN[] =
    "SELECT COUNT(*)"
    " FROM listings"
    " WHERE marketplace_code = (SELECT marketplace_code FROM listings WHERE id = ?)"
    "   AND listing_url_key = ? AND id <> ?"
    " FOR UPDATE";
static const char SQL_LISTING_URL_SET[] =
    "UPDATE listings"
    " SET listing_url = ?, listing_url_key = ?, confirmed_by = ?, linkcheck_failures = 0,"
    "     last_error_code = NULL, last_error_message = NULL"
    " WHERE id = ?";
static const char SQL_LISTING_MP[] =
    "SELECT marketplace_code"
    " FROM listings"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_LISTING_MP */
enum { LM_MP };

static int confirm_listing_tx(cs_db *db, void *arg, cs_error *err)
{
    struct listing_ok *x = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LISTING_STATE_LOCK, "i", x->id, err)) return -1;
    char st[24] = "";
    if (cs_rows_count(r)) snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, LS_STATE));
    cs_rows_free(r);
    if (!st[0]) return cs_error_set(err, CS_E_NOT_FOUND, "listing");
    if (strcmp(st, "submitted") && strcmp(st, "pending_review") && strcmp(st, "live") &&
        strcmp(st, "queued") && strcmp(st, "pending_verification") &&
        strcmp(st, "verification_failed"))
        return cs_error_set(err, CS_E_STATE_TRANSITION, "listing %s: publish it first", st);
    int64_t taken = 0;
    if (cs_db_scalar_i64(db, &taken, SQL_LISTING_KEY_TAKEN, "isi", x->id, x->key, x->id, err) < 0)
        return -1;
    if (taken) {
        cs_error_field(err, "listing_url", CS_F_URL_TAKEN, NULL);
        return -1;
    }
    char by[48];
    cs_actor_tag(x->a, by, sizeof by);
    if (cs_db_exec(db, SQL_LISTING_URL_SET, "sssi", x->url, x->key, by, x->id, err) < 0) return -1;
    static const char *const why =
        "Tình nguyện viên xác nhận đường dẫn sản phẩm; đang kiểm tra trang trên sàn";
    if (!strcmp(st, "queued") &&
        cs_listing_transition(db, x->id, "submitted", "listing_url", "Đã tải lên sàn", x->a, err))
        return -1;
    if (strcmp(st, "live") && strcmp(st, "pending_verification") &&
        cs_listing_transition(db, x->id, "pending_verification", "listing_url", why, x->a, err))
        return -1;
    char payload[64], key[48];
    snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)x->id);
    snprintf(key, sizeof key, "linkcheck:%lld", (long long)x->id);
    job_opts o = {.unique_key = key};
    int64_t jid;
    if (job_enqueue(db, "listing.linkcheck", payload, &o, &jid, err) < 0) return -1;
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)x->id);
    return cs_audit(db, x->a, "listing.confirm", "listing", eid, NULL, err);
}

int job_flows_confirm_listing(cs_db *db, int64_t listing_id, const char *listing_url,
                              const cs_actor *a, cs_error *err)
{
    char mp[24];
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LISTING_MP, "i", listing_id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "listing");
    }
    snprintf(mp, sizeof mp, "%s", cs_rows_str(r, 0, LM_MP));
    cs_rows_free(r);
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (m->c->kind != CX_KIND_FILE)
        return cs_error_set(err, CS_E_STATE_TRANSITION,
                            "%s listings are confirmed by the marketplace", mp);
    char key[520];
    if (!listing_url || !cx_assisted_url_ok(&m->cfg.m, listing_url, "listing_url", err) ||
        cx_assisted_url_key(listing_url, key, sizeof key)) {
        if (!cs_error_failed(err)) cs_error_field(err, "listing_url", CS_F_URL, NULL);
        return -1;
    }
    struct listing_ok x = {listing_id, listing_url, key, a};
    return cs_db_tx(db, confirm_listing_tx, &x, err);
}

/* ---- listing.linkcheck --------------------------------------------------------------------- */

// clang-format off
static const char SQL_LINK_LOCK[] =
    "SELECT state, linkcheck_failures, listing_url"
    " FROM listings"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_LINK_FAILED[] =
    "UPDATE listings"
    " SET linkcheck_failures = ?, last_checked_at = UTC_TIMESTAMP(),"
    "     last_error_code = ?, last_error_message = ?"
    " WHERE id = ?";
static const char SQL_LINK_SEEN[] =
    "UPDATE listings"
    " SET linkcheck_failures = 0, last_checked_at = UTC_TIMESTAMP(),"
    "     verified_at = UTC_TIMESTAMP(), last_error_code = NULL, last_error_message = NULL"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_LINK_LOCK */
enum { LK_STATE, LK_FAILURES, LK_URL };

struct link_verdict {
    int64_t id;
    const char *url;
    const char *name;
    enum verdict v;
    const char *code;
    const char *why;
    int limit;
};

/* Applies one check: a listing waiting for verification goes live or verification_failed at
 * once; a live one is delisted only after `limit` failed checks in a row (a page down for an
 * hour is not a listing gone). */
static int link_verdict_tx(cs_db *db, void *arg, cs_error *err)
{
    struct link_verdict *g = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LINK_LOCK, "i", g->id, err)) return -1;
    if (!cs_rows_count(r) || cs_rows_isnull(r, 0, LK_URL) ||
        strcmp(cs_rows_str(r, 0, LK_URL), g->url)) {
        cs_rows_free(r);
        return 0; /* gone, or the address changed meanwhile */
    }
    char st[24];
    snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, LK_STATE));
    int64_t n = cs_rows_i64(r, 0, LK_FAILURES) + 1;
    cs_rows_free(r);
    const cs_actor *a = flows_actor();
    int waiting = !strcmp(st, "submitted") || !strcmp(st, "pending_review");
    if (waiting && cs_listing_transition(db, g->id, "pending_verification", "linkcheck",
                                         "Đang kiểm tra trang sản phẩm trên sàn", a, err))
        return -1;
    if (waiting) snprintf(st, sizeof st, "pending_verification");
    if (g->v == V_SHOWN) {
        if (cs_db_exec(db, SQL_LINK_SEEN, "i", g->id, err) < 0) return -1;
        if (strcmp(st, "pending_verification")) return 0;
        char why[400];
        snprintf(why, sizeof why, "Đã kiểm tra: trang sản phẩm trên sàn hiển thị tên «%.200s»",
                 g->name);
        return cs_listing_transition(db, g->id, "live", "listing_verified", why, a, err);
    }
    if (cs_db_exec(db, SQL_LINK_FAILED, "issi", !strcmp(st, "live") ? n : (int64_t)0, g->code,
                   g->why, g->id, err) < 0)
        return -1;
    if (!strcmp(st, "pending_verification"))
        return cs_listing_transition(db, g->id, "verification_failed", g->code, g->why, a, err);
    if (!strcmp(st, "live") && n >= g->limit)
        return cs_listing_transition(db, g->id, "delisted", "link_gone", g->why, a, err);
    return 0;
}

/* One listing: 0 done (whatever it showed), 1 retry later. */
static int check_one(cs_db *db, const flows_mkt *m, int64_t id, const char *url, const char *name,
                     cs_error *err)
{
    char code[64] = "", why[400] = "";
    unsigned after = 0;
    enum verdict v = fetch_verify_sure(m, url, name, code, sizeof code, why, sizeof why, &after);
    if (v == V_RETRY) return 1;
    struct link_verdict g = {
        id, url, name, v, code, why, (int)cs_cfg_int("flows.linkcheck_failures")};
    return cs_db_tx(db, link_verdict_tx, &g, err) ? -1 : 0;
}

// clang-format off
static const char SQL_LINKCHECK_ONE[] =
    "SELECT l.id, l.marketplace_code, l.listing_url, p.name"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " WHERE l.id = ? AND l.listing_url IS NOT NULL"
    "   AND l.state IN ('submitted','pending_review','pending_verification','live')";
static const char SQL_LINKCHECK_DUE[] =
    "SELECT l.id, l.marketplace_code, l.listing_url, p.name"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'file'"
    " JOIN products p ON p.id = l.product_id"
    " WHERE l.listing_url IS NOT NULL"
    "   AND l.state IN ('submitted','pending_review','pending_verification','live')"
    " ORDER BY l.last_checked_at IS NOT NULL, l.last_checked_at"
    " LIMIT ?";
// clang-format on
/* columns of SQL_LINKCHECK_ONE and SQL_LINKCHECK_DUE */
enum { LC_ID, LC_MP, LC_URL, LC_NAME };

static job_outcome h_linkcheck(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t one = json_integer_value(json_object_get(ctx->args, "listing_id"));
    cs_rows *r = NULL;
    int rc;
    if (one > 0)
        rc = cs_db_query(ctx->db, &r, SQL_LINKCHECK_ONE, "i", one, &err);
    else
        rc = cs_db_query(ctx->db, &r, SQL_LINKCHECK_DUE, "i", (int64_t)cs_cfg_int("flows.batch"),
                         &err);
    if (rc) return job_retry(ctx, 0, "linkcheck: %s", cs_code_name(err.code));
    int again = 0;
    for (size_t i = 0; i < cs_rows_count(r) && !job_should_stop(ctx); i++) {
        const flows_mkt *m = flows_mkt_get(ctx->db, cs_rows_str(r, i, LC_MP), &err);
        if (!m) continue;
        int x = check_one(ctx->db, m, cs_rows_i64(r, i, LC_ID), cs_rows_str(r, i, LC_URL),
                          cs_rows_str(r, i, LC_NAME), &err);
        if (x) again = 1;
    }
    cs_rows_free(r);
    if (one > 0 && again) return job_retry(ctx, 0, "linkcheck: marketplace did not answer");
    return JOB_OK;
}

int flows_register_assisted_kinds(cs_error *err)
{
    if (job_register("listing.linkcheck", h_linkcheck, NULL, err) ||
        job_register("account.verify", h_account_verify, NULL, err) ||
        job_schedule_every("listing.linkcheck", (unsigned)cs_cfg_int("flows.linkcheck_period"),
                           "{}", err))
        return -1;
    return 0;
}
