/* connectors/assisted: registration packs, upload-sheet rows, confirmed-URL validation and link
 * checks for marketplaces without an API. Models only — rendering to HTML/XLSX/CSV is the
 * service's job — and no I/O except cx_layout_load reading its data file. */
#include "connectors/assisted.h"
#include "connectors/cxutil.h"
#include "core/mem.h"
#include "core/vn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- registration pack ---------------------------------------------------------------------- */

struct pack_def {
    const char *key, *label;
    int required;
    const char *note;
    size_t offset; /* of the value in cx_household */
};
#define HH(m) offsetof(cx_household, m)

/* Every field a seller centre asks for (MARKETPLACES.md: what Decree 52/2013 as amended by
 * 85/2021 makes platforms collect, plus shop, address and payout details). */
static const struct pack_def pack_defs[] = {
    {"shop_name", "Tên cửa hàng (gian hàng)", 1,
     "Tên hiển thị trên sàn; nên có tên sản phẩm chính và địa danh, ví dụ «Mắm tôm Hậu Lộc – Cô "
     "Lan».",
     HH(shop_name)},
    {"owner_name", "Họ và tên chủ hộ (đúng như trên CCCD)", 1, "Viết có dấu, đúng thứ tự họ tên.",
     HH(owner_name)},
    {"birth_date", "Ngày sinh", 1, "Dạng ngày/tháng/năm (dd/mm/yyyy).", HH(birth_date)},
    {"cccd", "Số căn cước công dân (CCCD)", 1,
     "12 chữ số. Chuẩn bị ảnh chụp rõ 2 mặt thẻ bản gốc để tải lên.", HH(cccd)},
    {"phone", "Số điện thoại di động (nhận mã OTP)", 1,
     "Số chính chủ đang dùng; sàn gửi mã OTP để xác thực khi đăng ký.", HH(phone)},
    {"email", "Email", 0, "Không bắt buộc, nhưng nên có để nhận thông báo đơn hàng.", HH(email)},
    {"address", "Địa chỉ lấy hàng (số nhà, đường, thôn/xóm)", 1,
     "Nơi đơn vị vận chuyển đến lấy hàng.", HH(address)},
    {"commune", "Xã/phường (theo đơn vị hành chính từ 01/7/2025)", 1,
     "Nếu biểu mẫu của sàn còn dùng danh mục cũ, chọn huyện cũ ở dòng dưới.", HH(commune)},
    {"former_district", "Quận/huyện/thị xã cũ (trước 01/7/2025)", 0,
     "Dùng khi biểu mẫu của sàn vẫn hỏi Quận/Huyện.", HH(former_district)},
    {"province", "Tỉnh/thành phố", 1, "", HH(province)},
    {"business_reg_no", "Số giấy chứng nhận đăng ký hộ kinh doanh", 0,
     "Nếu hộ đã đăng ký kinh doanh: ghi số và chuẩn bị ảnh giấy chứng nhận.", HH(business_reg_no)},
    {"tax_code", "Mã số thuế (hộ kinh doanh hoặc cá nhân)", 0,
     "Nếu có; hộ kinh doanh đã đăng ký thường có mã số thuế.", HH(tax_code)},
    {"bank_name", "Ngân hàng nhận tiền bán hàng", 1, "Tài khoản phải đứng tên chủ hộ.",
     HH(bank_name)},
    {"bank_account", "Số tài khoản ngân hàng", 1, "", HH(bank_account)},
    {"bank_holder", "Tên chủ tài khoản", 1, "Trùng với họ tên trên CCCD.", HH(bank_holder)},
    {"epayment", "Ví điện tử / tài khoản thanh toán điện tử", 0,
     "Không bắt buộc; ghi ví điện tử chủ hộ đang dùng, nếu có.", HH(epayment)},
    {"main_category", "Ngành hàng chính", 1, "Chọn ngành gần nhất trong danh mục của sàn.",
     HH(main_category)},
    {"household_code", "Mã hộ trên Chợ Số", 0,
     "Giữ lại để đối chiếu khi xác nhận cửa hàng với tổ công nghệ số.", HH(code)},
};

static const struct pack_def *cx_pack_def_find(const char *key)
{
    for (size_t i = 0; key && i < sizeof pack_defs / sizeof pack_defs[0]; i++)
        if (!strcmp(pack_defs[i].key, key)) return &pack_defs[i];
    return NULL;
}

int cx_pack_key_known(const char *key)
{
    return cx_pack_def_find(key) != NULL;
}

int cx_registration_pack(const cx_connector *c, const cx_household *h, cx_pack *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!c || c->kind != CX_KIND_FILE || !c->assisted)
        return cs_error_set(err, CS_F_MARKETPLACE, "not an assisted marketplace");
    out->mp = c;
    const cx_assisted *a = c->assisted;
    size_t n = a->npack ? a->npack : sizeof pack_defs / sizeof pack_defs[0];
    for (size_t i = 0; i < n && i < CX_PACK_MAX_FIELDS; i++) {
        const struct pack_def *d = a->npack ? cx_pack_def_find(a->pack[i].key) : &pack_defs[i];
        if (!d) continue; /* checked when the data file was loaded */
        cx_pack_field *f = &out->fields[out->nfields];
        const char *v = *(const char *const *)((const char *)h + d->offset);
        cx_copy(f->key, sizeof f->key, d->key);
        cx_copy(f->label, sizeof f->label, a->npack ? a->pack[i].label : d->label);
        cx_copy(f->note, sizeof f->note, a->npack ? a->pack[i].note : d->note);
        f->required = a->npack ? a->pack[i].required : d->required;
        f->value = cs_strdup(v ? v : "");
        if (!f->value) {
            cx_pack_free(out);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        f->missing = d->required && !f->value[0];
        out->nmissing += (size_t)f->missing;
        out->nfields++;
    }
    return 0;
}

void cx_pack_free(cx_pack *p)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fields[i].value) cs_free_secret(p->fields[i].value, strlen(p->fields[i].value));
    memset(p, 0, sizeof *p);
}

static json_t *str_list(const char *const *v)
{
    json_t *a = json_array();
    for (; a && v && *v; v++)
        if (json_array_append_new(a, json_string(*v))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

char *cx_pack_json(const cx_pack *p, size_t *len)
{
    const cx_assisted *a = p->mp->assisted;
    json_t *fields = json_array();
    char *s = NULL;
    if (!fields) return NULL;
    for (size_t i = 0; i < p->nfields; i++) {
        const cx_pack_field *f = &p->fields[i];
        if (json_array_append_new(fields,
                                  json_pack("{s:s,s:s,s:s,s:b,s:b,s:s}", "key", f->key, "label",
                                            f->label, "value", f->value, "required", f->required,
                                            "missing", f->missing, "note", f->note))) {
            json_decref(fields);
            return NULL;
        }
    }
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o*,s:o*,s:o,s:I}", "marketplace", p->mp->code,
                          "display_name", p->mp->display_name, "signup_url", a->signup_url,
                          "seller_word", a->seller_word, "steps", str_list(a->steps), "notes",
                          str_list(a->notes), "fields", fields, "missing", (json_int_t)p->nmissing);
    if (j) s = cx_json_dump(j, len);
    json_decref(j);
    return s;
}

/* ---- layout and sheet rows ---------------------------------------------------------------- */

static const char *const simple_sources[] = {
    "sku",           "name",       "description", "price_vnd",     "stock",
    "weight_g",      "weight_kg",  "length_mm",   "width_mm",      "height_mm",
    "length_cm",     "width_cm",   "height_cm",   "dimensions_cm", "category_id",
    "category_name", "image_urls", "origin",      "ocop_stars",    "unit",
    "brand",         NULL};

int cx_layout_source_known(const char *s)
{
    if (!s) return 0;
    for (const char *const *k = simple_sources; *k; k++)
        if (!strcmp(*k, s)) return 1;
    if (!strncmp(s, "image_", 6) && s[6] >= '1' && s[6] <= '9' && !s[7]) return 1;
    if (!strncmp(s, "attr:", 5) && s[5]) return 1;
    if (!strncmp(s, "const:", 6)) return 1;
    return 0;
}

void cx_layout_free(cx_layout *l)
{
    for (size_t i = 0; i < l->ncols; i++) {
        cs_free(l->cols[i].header);
        cs_free(l->cols[i].source);
        cs_free(l->cols[i].notes);
    }
    cs_free(l->cols);
    memset(l, 0, sizeof *l);
}

int cx_layout_parse(const char *text, size_t n, cx_layout *out, cs_error *err)
{
    static const char *const hdr[] = {"header", "source", "required", "max_length", "notes"};
    cx_csv c;
    memset(out, 0, sizeof *out);
    if (cx_csv_parse(text, n, 1000, &c, err)) return -1;
    int rc = -1;
    if (!c.nrows || c.ncols[0] != 5) {
        cs_error_set(err, CS_E_CONFIG,
                     "upload layout: header must be header,source,required,"
                     "max_length,notes");
        goto out;
    }
    for (size_t i = 0; i < 5; i++)
        if (strcmp(c.cells[0][i], hdr[i])) {
            cs_error_set(err, CS_E_CONFIG, "upload layout: column %zu must be %s", i + 1, hdr[i]);
            goto out;
        }
    out->cols = cs_calloc(c.nrows, sizeof *out->cols);
    if (!out->cols) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t r = 1; r < c.nrows; r++) {
        char **v = c.cells[r];
        if (c.ncols[r] == 1 && !v[0][0]) continue;
        if (c.ncols[r] != 5 || !v[0][0]) {
            cs_error_set(err, CS_E_CONFIG,
                         "upload layout line %zu: 5 columns and a header "
                         "required",
                         r + 1);
            goto out;
        }
        if (!cx_layout_source_known(v[1])) {
            cs_error_set(err, CS_E_CONFIG, "upload layout line %zu: unknown source \"%s\"", r + 1,
                         v[1]);
            goto out;
        }
        int req;
        if (!strcasecmp(v[2], "yes") || !strcmp(v[2], "1") || !strcasecmp(v[2], "có"))
            req = 1;
        else if (!strcasecmp(v[2], "no") || !strcmp(v[2], "0") || !strcasecmp(v[2], "không") ||
                 !v[2][0])
            req = 0;
        else {
            cs_error_set(err, CS_E_CONFIG, "upload layout line %zu: required must be yes/no",
                         r + 1);
            goto out;
        }
        long ml = 0;
        if (v[3][0]) {
            char *end;
            ml = strtol(v[3], &end, 10);
            if (*end || ml < 0) {
                cs_error_set(err, CS_E_CONFIG, "upload layout line %zu: bad max_length", r + 1);
                goto out;
            }
        }
        cx_layout_col *col = &out->cols[out->ncols++];
        col->header = cs_strdup(v[0]);
        col->source = cs_strdup(v[1]);
        col->notes = cs_strdup(v[4]);
        col->required = req;
        col->max_len = ml;
        if (!col->header || !col->source || !col->notes) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
    }
    if (!out->ncols) {
        cs_error_set(err, CS_E_CONFIG, "upload layout has no columns");
        goto out;
    }
    rc = 0;
out:
    cx_csv_free(&c);
    if (rc) cx_layout_free(out);
    return rc;
}

int cx_layout_load(const char *path, cx_layout *out, cs_error *err)
{
    cs_buf b;
    memset(out, 0, sizeof *out);
    if (cx_read_file(path, (size_t)1 << 20, &b, err)) return -1;
    int rc = cx_layout_parse(b.data ? b.data : "", b.len, out, err);
    cs_buf_free(&b);
    return rc;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static long cm(long mm)
{
    return mm > 0 ? (mm + 9) / 10 : 0;
}

/* The value of one source for item it, appended to b. */
static int cell_value(cs_buf *b, const char *src, const cx_sheet_item *it)
{
    const cx_listing *l = it->listing;
    const cx_category *cat = l->category;
    if (!strcmp(src, "sku")) {
        char sku[24];
        cx_sku(l->listing_id, sku);
        return cs_buf_puts(b, sku);
    }
    if (!strcmp(src, "name")) return cs_buf_puts(b, l->name ? l->name : "");
    if (!strcmp(src, "description")) return cs_buf_puts(b, l->description ? l->description : "");
    if (!strcmp(src, "price_vnd"))
        return l->price_vnd > 0 ? cs_buf_printf(b, "%lld", l->price_vnd) : 0;
    if (!strcmp(src, "stock")) return cs_buf_printf(b, "%lld", l->stock);
    if (!strcmp(src, "weight_g")) return l->weight_g > 0 ? cs_buf_printf(b, "%ld", l->weight_g) : 0;
    if (!strcmp(src, "weight_kg")) {
        if (l->weight_g <= 0) return 0;
        char w[32];
        snprintf(w, sizeof w, "%ld.%03ld", l->weight_g / 1000, l->weight_g % 1000);
        size_t n = strlen(w);
        while (w[n - 1] == '0')
            w[--n] = '\0';
        if (w[n - 1] == '.') w[n - 1] = '\0';
        return cs_buf_puts(b, w);
    }
    const long dims_mm[3] = {l->length_mm, l->width_mm, l->height_mm};
    static const char *const dn[3] = {"length", "width", "height"};
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(dn[i]);
        if (!strncmp(src, dn[i], k) && src[k] == '_' && dims_mm[i] > 0) {
            if (!strcmp(src + k, "_mm")) return cs_buf_printf(b, "%ld", dims_mm[i]);
            if (!strcmp(src + k, "_cm")) return cs_buf_printf(b, "%ld", cm(dims_mm[i]));
        }
    }
    if (!strcmp(src, "dimensions_cm")) {
        if (dims_mm[0] <= 0 || dims_mm[1] <= 0 || dims_mm[2] <= 0) return 0;
        return cs_buf_printf(b, "%ldx%ldx%ld", cm(dims_mm[0]), cm(dims_mm[1]), cm(dims_mm[2]));
    }
    if (!strcmp(src, "category_id"))
        return cs_buf_puts(b, cat && cat->external_id ? cat->external_id : "");
    if (!strcmp(src, "category_name"))
        return cs_buf_puts(b, cat && cat->external_name ? cat->external_name : "");
    if (!strcmp(src, "image_urls")) {
        for (size_t i = 0; i < it->nimages; i++)
            if ((i && cs_buf_putc(b, '\n')) || cs_buf_puts(b, it->image_urls[i])) return -1;
        return 0;
    }
    if (!strncmp(src, "image_", 6)) {
        size_t k = (size_t)(src[6] - '1');
        return k < it->nimages ? cs_buf_puts(b, it->image_urls[k]) : 0;
    }
    if (!strcmp(src, "origin")) return cs_buf_puts(b, it->origin ? it->origin : "");
    if (!strcmp(src, "ocop_stars"))
        return it->ocop_stars > 0 ? cs_buf_printf(b, "%d", it->ocop_stars) : 0;
    if (!strcmp(src, "unit")) return cs_buf_puts(b, it->unit ? it->unit : "");
    if (!strcmp(src, "brand")) return cs_buf_puts(b, it->brand ? it->brand : "");
    if (!strncmp(src, "const:", 6)) return cs_buf_puts(b, src + 6);
    if (!strncmp(src, "attr:", 5)) {
        if (!cat || !cat->attributes_json) return 0;
        json_error_t je;
        json_t *a = json_loads(cat->attributes_json, 0, &je);
        json_t *v = json_object_get(a, src + 5);
        int rc = 0;
        if (json_is_string(v)) {
            rc = cs_buf_puts(b, json_string_value(v));
        } else if (v) {
            char *s = cx_json_dump(v, NULL);
            rc = s ? cs_buf_puts(b, s) : -1;
            cs_free(s);
        }
        json_decref(a);
        return rc;
    }
    return 0;
}

void cx_sheet_row_free(const cx_layout *l, char **cells)
{
    if (!cells) return;
    for (size_t i = 0; i < l->ncols; i++)
        cs_free(cells[i]);
    cs_free(cells);
}

int cx_sheet_row(const cx_layout *l, const cx_sheet_item *it, char ***cells, cs_error *err)
{
    *cells = cs_calloc(l->ncols ? l->ncols : 1, sizeof **cells);
    if (!*cells) return cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; i < l->ncols; i++) {
        const cx_layout_col *c = &l->cols[i];
        cs_buf b;
        cs_buf_init(&b, (size_t)1 << 20);
        if (cell_value(&b, c->source, it) ||
            !((*cells)[i] = b.data ? cs_buf_steal(&b) : cs_strdup(""))) {
            cs_buf_free(&b);
            cx_sheet_row_free(l, *cells);
            *cells = NULL;
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
        const char *v = (*cells)[i];
        if (c->required && !v[0]) cs_error_field(err, c->header, CS_F_REQUIRED, NULL);
        if (c->max_len > 0 && utf8_chars(v) > (size_t)c->max_len) {
            char d[48];
            snprintf(d, sizeof d, "max %ld", c->max_len);
            cs_error_field(err, c->header, CS_F_TOO_LONG, d);
        }
    }
    return cs_error_failed(err) ? -1 : 0;
}

/* ---- URLs and link checks ------------------------------------------------------------------ */

static int on_domain(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (!dl || host[hl ? hl - 1 : 0] == '.') return 0;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return 0;
    if (strstr(host, "..") || host[0] == '.' || host[0] == '-') return 0;
    if (hl == dl) return !strcasecmp(host, domain);
    return hl > dl + 1 && host[hl - dl - 1] == '.' && !strcasecmp(host + hl - dl, domain);
}

int cx_assisted_url_key(const char *url, char *out, size_t outsz)
{
    char scheme[8], host[256];
    int port;
    size_t at;
    if (!url || cx_url_split(url, scheme, sizeof scheme, host, sizeof host, &port, &at)) return -1;
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    for (char *p = scheme; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    const char *h = host;
    if (!strncmp(h, "www.", 4))
        h += 4;
    else if (!strncmp(h, "m.", 2))
        h += 2;
    const char *path = url + at;
    size_t pl = strcspn(path, "?#");
    while (pl && path[pl - 1] == '/')
        pl--;
    int dflt = (!strcmp(scheme, "https") && port == 443) || (!strcmp(scheme, "http") && port == 80);
    int n = dflt ? snprintf(out, outsz, "%s://%s%.*s", scheme, h, (int)pl, path)
                 : snprintf(out, outsz, "%s://%s:%d%.*s", scheme, h, port, (int)pl, path);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Appends the UTF-8 encoding of code point c (a character reference) to b. */
static void put_utf8(cs_buf *b, unsigned long c)
{
    char u[4];
    size_t n;
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = ' ';
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    cs_buf_append(b, u, n);
}

/* Folded text of s for matching: vn_fold, then every run of characters that are not ASCII
 * letters or digits becomes one space, with a space at each end (word boundaries). */
static char *match_key(const char *s)
{
    char *f = vn_fold(s);
    if (!f) return NULL;
    size_t n = strlen(f);
    char *k = cs_malloc(n + 3);
    if (!k) {
        cs_free(f);
        return NULL;
    }
    size_t o = 0;
    k[o++] = ' ';
    for (size_t i = 0; i < n; i++) {
        char c = f[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum)
            k[o++] = c;
        else if (k[o - 1] != ' ')
            k[o++] = ' ';
    }
    if (k[o - 1] != ' ') k[o++] = ' ';
    k[o] = '\0';
    cs_free(f);
    return k;
}

int cx_page_shows_name(const char *page, size_t len, const char *name)
{
    if (!page || !name) return 0;
    cs_buf t;
    cs_buf_init(&t, len + 16);
    int intag = 0, bad = 0;
    for (size_t i = 0; i < len && !bad; i++) {
        char c = page[i];
        if (intag) {
            if (c == '>') intag = 0;
            continue;
        }
        if (c == '<') {
            intag = 1;
            bad = cs_buf_putc(&t, ' ');
            continue;
        }
        if (c == '&') {
            size_t e = i + 1;
            while (e < len && e - i < 12 && page[e] != ';')
                e++;
            if (e < len && page[e] == ';') {
                const char *r = page + i + 1;
                size_t rl = e - i - 1;
                unsigned long cp = 0;
                int known = 1;
                if (rl > 1 && r[0] == '#') {
                    char num[12];
                    snprintf(num, sizeof num, "%.*s", (int)(rl - 1), r + 1);
                    cp = (num[0] == 'x' || num[0] == 'X') ? strtoul(num + 1, NULL, 16)
                                                          : strtoul(num, NULL, 10);
                } else if (rl == 3 && !strncmp(r, "amp", 3)) {
                    cp = '&';
                } else if (rl == 2 && !strncmp(r, "lt", 2)) {
                    cp = '<';
                } else if (rl == 2 && !strncmp(r, "gt", 2)) {
                    cp = '>';
                } else if (rl == 4 && !strncmp(r, "quot", 4)) {
                    cp = '"';
                } else if (rl == 4 && !strncmp(r, "apos", 4)) {
                    cp = '\'';
                } else if (rl == 4 && !strncmp(r, "nbsp", 4)) {
                    cp = ' ';
                } else {
                    known = 0;
                }
                if (known) {
                    put_utf8(&t, cp);
                    i = e;
                    continue;
                }
            }
        }
        bad = cs_buf_putc(&t, c);
    }
    int found = 0;
    if (!bad && !cs_buf_putc(&t, '\0') && vn_utf8_valid(t.data)) {
        char *pk = match_key(t.data), *nk = match_key(name);
        found = pk && nk && strlen(nk) > 2 && strstr(pk, nk) != NULL;
        cs_free(pk);
        cs_free(nk);
    }
    cs_buf_free(&t);
    return found;
}

int cx_assisted_url_ok(const cx_market *mp, const char *url, const char *field, cs_error *err)
{
    char scheme[8], host[256], bscheme[8], bhost[256];
    int port, bport;
    size_t at, bat;
    const char *f = field ? field : "url";
    if (!url || strlen(url) > 500 ||
        cx_url_split(url, scheme, sizeof scheme, host, sizeof host, &port, &at))
        goto bad;
    if (url[at] != '/' || !url[at + 1]) goto bad; /* a shop or product page, not the home page */
    if (!strcmp(scheme, "https") && port == 443 && mp->public_domain &&
        on_domain(host, mp->public_domain))
        return 1;
    /* The sandbox serves the public pages on loopback over plain http. */
    if (mp->base_url &&
        !cx_url_split(mp->base_url, bscheme, sizeof bscheme, bhost, sizeof bhost, &bport, &bat) &&
        !strcmp(bscheme, "http") && cx_host_is_loopback(bhost) && !strcmp(scheme, "http") &&
        !strcmp(host, bhost) && port == bport)
        return 1;
bad:
    cs_error_field(err, f, CS_F_URL, mp->public_domain ? mp->public_domain : "");
    return 0;
}

int cx_assisted_build(const cx_connector *c, cx_op op, const cx_input *in, cx_request *req,
                      cs_error *err)
{
    if (op != CX_OP_LINK_CHECK)
        return cs_error_set(err, CS_E_INTERNAL, "%s has no API: %s is not available", c->code,
                            cx_op_name(op));
    if (!in->mp) return cs_error_set(err, CS_E_INTERNAL, "no marketplace");
    if (!cx_assisted_url_ok(in->mp, in->url, "url", err)) return -1;
    if (cx_req_start(req, op, "GET", in->url) ||
        cx_req_header(req, "Accept", "text/html,application/xhtml+xml"))
        return cs_error_set(err, CS_E_NOMEM, NULL);
    return 0;
}

void cx_assisted_parse(const cx_connector *c, cx_op op, const cx_input *in, const cx_response *resp,
                       cx_outcome *out)
{
    cx_outcome_init(out);
    if (op != CX_OP_LINK_CHECK) {
        cx_out_retry(out, 3600, 0, "unsupported_operation", cx_op_name(op));
        return;
    }
    if (cx_triage_transport(resp, out)) {
        out->unknown = 0; /* a GET changes nothing */
        return;
    }
    char code[16];
    snprintf(code, sizeof code, "http_%ld", resp->status);
    if (resp->status == 301 || resp->status == 302 || resp->status == 303 || resp->status == 307 ||
        resp->status == 308) {
        cx_out_retry(out, 0, 0, "redirect", "redirect");
        if (!resp->location || !resp->location[0]) {
            cx_copy(out->error_code, sizeof out->error_code, "redirect_without_location");
            out->retry_after = 3600;
            return;
        }
        if (resp->location[0] == '/' && resp->location[1] != '/') {
            /* relative to the origin of the page asked for */
            char scheme[8], host[256];
            int port;
            size_t at;
            if (cx_url_split(in->url, scheme, sizeof scheme, host, sizeof host, &port, &at)) return;
            snprintf(out->item_url, sizeof out->item_url, "%.*s%s", (int)at, in->url,
                     resp->location);
        } else {
            cx_copy(out->item_url, sizeof out->item_url, resp->location);
        }
        return;
    }
    if (resp->status == 200) {
        const char *const *m = c->assisted ? c->assisted->gone_markers : NULL;
        for (; m && *m; m++)
            if (resp->body && memmem(resp->body, resp->body_len, *m, strlen(*m))) {
                out->result = CX_NOT_FOUND;
                cx_copy(out->error_code, sizeof out->error_code, "gone_marker");
                cx_copy(out->message, sizeof out->message, *m);
                return;
            }
        if (in->expect_name && in->expect_name[0] &&
            !cx_page_shows_name(resp->body, resp->body_len, in->expect_name)) {
            out->result = CX_REJECTED;
            cx_copy(out->error_code, sizeof out->error_code, "name_not_shown");
            cx_copy(out->message, sizeof out->message, in->expect_name);
            return;
        }
        out->result = CX_OK;
        out->state = CX_ITEM_LIVE;
        cx_copy(out->item_url, sizeof out->item_url, in->url);
        return;
    }
    if (resp->status == 404 || resp->status == 410) {
        out->result = CX_NOT_FOUND;
        out->state = CX_ITEM_DELISTED;
        cx_copy(out->error_code, sizeof out->error_code, code);
        return;
    }
    unsigned dflt = resp->status == 429 || resp->status == 503 ? 60 : 600;
    cx_out_retry(out, cx_retry_after(resp, in->now_ms, dflt), 0, code, "link check inconclusive");
}
