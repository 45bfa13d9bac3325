/* core/evidence: the evidence of every counted item, its CSV/XLSX export and the audit of
 * `choso targets --verify` (core/evidence.h). SQL and file writing only: no HTTP, no JSON. */
#include "core/evidence.h"
#include "core/buf.h"
#include "core/instance.h"
#include "core/mem.h"
#include "core/targets_sql.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

/* The environment and pair rules of the counters (core/targets_sql.h), so that the evidence
 * lists exactly what is counted. */
// clang-format off
#define VNDAY(col) "DATE_FORMAT(" col " + INTERVAL 7 HOUR, '%Y-%m-%d')"
#define VNMIN(col) "DATE_FORMAT(" col " + INTERVAL 7 HOUR, '%Y-%m-%d %H:%i')"
#define ADDR_KEY(t, url, key) \
    "IF(COALESCE(" t "." url ", '') <> '', CONCAT(" t ".marketplace_code, '|'," \
    " COALESCE(" t "." key ", LOWER(TRIM(TRAILING '/' FROM SUBSTRING_INDEX(" t "." url ", '?', 1))))), '')"

/* one row per counted household: the shop that made it count (its earliest activation) */
#define EV_HH(E) \
    "SELECT 'household', h.code, '', h.commune_code, " VNDAY("h.onboarded_at") "," \
    " COALESCE(a.marketplace_code, ''), COALESCE(a.env, IF(a.id IS NULL, '', 'production'))," \
    " COALESCE(a.external_shop_id, '')," \
    " COALESCE(IF(a.verified_at IS NOT NULL OR a.external_shop_id IS NOT NULL, a.shop_url, NULL), '')," \
    " ''," \
    " COALESCE(a.confirmed_by, (SELECT e.actor FROM account_events e" \
    "   WHERE e.account_id = a.id AND e.to_state = 'active' ORDER BY e.id LIMIT 1), '')," \
    " COALESCE(" VNMIN("COALESCE(a.verified_at, a.activated_at)") ", '')," \
    " IF(COALESCE(a.external_shop_id, '') <> ''" \
    "   OR (COALESCE(a.shop_url, '') <> '' AND a.verified_at IS NOT NULL), '1', '0')," \
    " IF(COALESCE(a.external_shop_id, '') <> '', CONCAT(a.marketplace_code, '|', a.external_shop_id), '')," \
    " " ADDR_KEY("a", "shop_url", "shop_url_key") "," \
    " 1 AS k_order, h.onboarded_at AS k_at, h.code AS k_code" \
    " FROM households h" \
    " LEFT JOIN seller_accounts a ON a.id = (SELECT a2.id FROM seller_accounts a2" \
    "   WHERE a2.household_id = h.id AND a2.activated_at IS NOT NULL" ENV_##E("a2") \
    "   ORDER BY a2.activated_at, a2.id LIMIT 1)" \
    " WHERE h.youth_led AND h.onboarded_at IS NOT NULL" \
    ONLY_PRACTICE_##E("seller_accounts", "household_id", "h.id", "activated_at") \
    " AND (? = 0 OR YEAR(h.onboarded_at + INTERVAL 7 HOUR) = ?)"

/* a counted product's listing columns (l), kind and first date */
#define EV_LISTING_COLS(kind, date, order, who) \
    "SELECT '" kind "', h.code, CAST(p.id AS CHAR), h.commune_code, " VNDAY(date) "," \
    " COALESCE(l.marketplace_code, ''), COALESCE(l.env, IF(l.id IS NULL, '', 'production'))," \
    " COALESCE(l.external_item_id, '')," \
    " COALESCE(IF(l.verified_at IS NOT NULL OR l.external_item_id IS NOT NULL, l.listing_url, NULL), '')," \
    " " order "," \
    " " who "," \
    " COALESCE(" VNMIN("COALESCE(l.verified_at, l.first_live_at)") ", '')," \
    " IF(COALESCE(l.external_item_id, '') <> ''" \
    "   OR (COALESCE(l.listing_url, '') <> '' AND l.verified_at IS NOT NULL), '1', '0')," \
    " IF(COALESCE(l.external_item_id, '') <> '', CONCAT(l.marketplace_code, '|', l.external_item_id), '')," \
    " " ADDR_KEY("l", "listing_url", "listing_url_key") ","
#define LIVE_WHO \
    "COALESCE(l.confirmed_by, (SELECT e.actor FROM listing_events e" \
    "   WHERE e.listing_id = l.id AND e.to_state = 'live' ORDER BY e.id LIMIT 1), '')"
#define EV_LIVE(E) \
    EV_LISTING_COLS("product_live", "p.first_live_at", "''", LIVE_WHO) \
    " 2 AS k_order, p.first_live_at AS k_at, h.code AS k_code" \
    " FROM products p" \
    " JOIN households h ON h.id = p.household_id" \
    " LEFT JOIN listings l ON l.id = (SELECT l2.id FROM listings l2" \
    "   WHERE l2.product_id = p.id AND l2.first_live_at IS NOT NULL" ENV_##E("l2") \
    "   ORDER BY l2.first_live_at, l2.id LIMIT 1)" \
    " WHERE p.flagship_status = 'approved' AND p.first_live_at IS NOT NULL" \
    PAIR_FIRST("first_live_at", "first_live_at", E) \
    ONLY_PRACTICE_##E("listings", "product_id", "p.id", "first_live_at") \
    " AND (? = 0 OR YEAR(p.first_live_at + INTERVAL 7 HOUR) = ?)"
/* the sale: the first counted order line of that listing; who confirmed — the marketplace for
   a synchronised order, else the person who decided (or recorded) the sale */
#define SOLD_ORDER \
    "COALESCE((SELECT o.order_id FROM order_lines o" \
    "   WHERE o.listing_id = l.id AND o.counted ORDER BY o.delivered_at, o.line_id LIMIT 1), '')"
#define SOLD_WHO \
    "COALESCE((SELECT IF(o.source = 'sync', CONCAT('marketplace:', o.marketplace_code)," \
    "     COALESCE(c.decided_by, c.created_by, o.source))" \
    "   FROM order_lines o LEFT JOIN sale_claims c ON c.id = o.claim_id" \
    "   WHERE o.listing_id = l.id AND o.counted ORDER BY o.delivered_at, o.line_id LIMIT 1), '')"
#define EV_SOLD(E) \
    EV_LISTING_COLS("product_sold", "p.first_sold_at", SOLD_ORDER, SOLD_WHO) \
    " 3 AS k_order, p.first_sold_at AS k_at, h.code AS k_code" \
    " FROM products p" \
    " JOIN households h ON h.id = p.household_id" \
    " LEFT JOIN listings l ON l.id = (SELECT l2.id FROM listings l2" \
    "   WHERE l2.product_id = p.id AND l2.first_sale_at IS NOT NULL" ENV_##E("l2") \
    "   ORDER BY l2.first_sale_at, l2.id LIMIT 1)" \
    " WHERE p.flagship_status = 'approved' AND p.first_sold_at IS NOT NULL" \
    PAIR_FIRST("first_sold_at", "first_sale_at", E) \
    ONLY_PRACTICE_##E("listings", "product_id", "p.id", "first_sale_at") \
    " AND (? = 0 OR YEAR(p.first_sold_at + INTERVAL 7 HOUR) = ?)"
/* each part is within the length a compiler must support; cs_evidence_list joins them */
static const char *const SQL_EV_PARTS[2][3] = {{EV_HH(prod), EV_LIVE(prod), EV_SOLD(prod)},
                                               {EV_HH(all), EV_LIVE(all), EV_SOLD(all)}};
static const char SQL_EV_ORDER[] =
    " ORDER BY k_order, k_at, k_code, 3";
// clang-format on

int cs_evidence_list(cs_db *db, int year, cs_rows **out, cs_error *err)
{
    *out = NULL;
    const char *const *part = SQL_EV_PARTS[cs_instance_simulated()];
    cs_buf sql;
    cs_buf_init(&sql, 8192);
    int rc = 0;
    for (int i = 0; i < 3; i++)
        rc |= cs_buf_puts(&sql, i ? " UNION ALL (" : "(") | cs_buf_puts(&sql, part[i]) |
              cs_buf_putc(&sql, ')');
    rc |= cs_buf_puts(&sql, SQL_EV_ORDER);
    if (rc) {
        cs_buf_free(&sql);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    int64_t y = year;
    rc = cs_db_query(db, out, sql.data, "iiiiii", y, y, y, y, y, y, err);
    cs_buf_free(&sql);
    return rc;
}

/* ---- export ---- */

static const char *const headers[] = {"Loại",
                                      "Mã hộ",
                                      "Mã sản phẩm",
                                      "Mã xã/phường",
                                      "Ngày tính",
                                      "Sàn",
                                      "Môi trường",
                                      "Mã gian hàng/sản phẩm trên sàn",
                                      "Địa chỉ đã xác minh",
                                      "Mã đơn hàng",
                                      "Người xác nhận",
                                      "Thời điểm xác nhận",
                                      "Đủ bằng chứng"};
enum { NCOLS = sizeof headers / sizeof headers[0] };

static const char *kind_vi(const char *k)
{
    if (!strcmp(k, "household")) return "Hộ mở gian hàng";
    if (!strcmp(k, "product_live")) return "Sản phẩm chủ lực lên sàn";
    if (!strcmp(k, "product_sold")) return "Sản phẩm chủ lực đã bán";
    return k;
}

/* the text of exported column c of row i */
static const char *cell(const cs_rows *r, size_t i, unsigned c)
{
    if (c == CS_EV_KIND) return kind_vi(cs_rows_str(r, i, CS_EV_KIND));
    if (c == CS_EV_COMPLETE) return *cs_rows_str(r, i, c) == '1' ? "có" : "KHÔNG";
    return cs_rows_str(r, i, c);
}

static int csv_field(cs_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n;")) return cs_buf_puts(b, s);
    if (cs_buf_putc(b, '"')) return -1;
    for (const char *q = s; *q; q++)
        if ((*q == '"' && cs_buf_putc(b, '"')) || cs_buf_putc(b, *q)) return -1;
    return cs_buf_putc(b, '"');
}

static const char SIMULATED[] =
    "DỮ LIỆU MÔ PHỎNG - bản trình diễn/tập huấn, không phải số liệu thật";

int cs_evidence_csv(const cs_rows *rows, int simulated, char **out, size_t *len, cs_error *err)
{
    *out = NULL;
    *len = 0;
    cs_buf b;
    cs_buf_init(&b, 4096);
    int rc = cs_buf_puts(&b, "\xEF\xBB\xBF");
    if (simulated) rc |= csv_field(&b, SIMULATED) | cs_buf_puts(&b, "\r\n");
    for (unsigned c = 0; c < NCOLS; c++)
        rc |= (c ? cs_buf_putc(&b, ',') : 0) | csv_field(&b, headers[c]);
    rc |= cs_buf_puts(&b, "\r\n");
    for (size_t i = 0; !rc && i < cs_rows_count(rows); i++) {
        for (unsigned c = 0; c < NCOLS; c++)
            rc |= (c ? cs_buf_putc(&b, ',') : 0) | csv_field(&b, cell(rows, i, c));
        rc |= cs_buf_puts(&b, "\r\n");
    }
    if (rc) {
        cs_buf_free(&b);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    *len = b.len;
    *out = cs_buf_steal(&b);
    return 0;
}

int cs_evidence_xlsx(const cs_rows *rows, int simulated, const char *path, cs_error *err)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb) return cs_error_set(err, CS_E_INTERNAL, "evidence: cannot create the workbook");
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Bằng chứng");
    lxw_format *bold = workbook_add_format(wb);
    int rc = !ws || !bold;
    if (!rc) {
        format_set_bold(bold);
        lxw_row_t r0 = 0;
        if (simulated) rc |= worksheet_write_string(ws, r0++, 0, SIMULATED, bold) != LXW_NO_ERROR;
        for (unsigned c = 0; c < NCOLS; c++)
            rc |= worksheet_write_string(ws, r0, (lxw_col_t)c, headers[c], bold) != LXW_NO_ERROR;
        worksheet_freeze_panes(ws, r0 + 1, 0);
        worksheet_set_column(ws, 0, NCOLS - 1, 18, NULL);
        for (size_t i = 0; !rc && i < cs_rows_count(rows); i++)
            for (unsigned c = 0; c < NCOLS; c++) {
                const char *v = cell(rows, i, c);
                if (*v && worksheet_write_string(ws, (lxw_row_t)(r0 + 1 + i), (lxw_col_t)c, v,
                                                 NULL) != LXW_NO_ERROR)
                    rc = 1;
            }
    }
    lxw_error close = workbook_close(wb);
    if (rc || close != LXW_NO_ERROR)
        return cs_error_set(err, CS_E_INTERNAL, "evidence: writing %s failed", path);
    return 0;
}

/* ---- the audit ---- */

struct key {
    const char *key;   /* "mp|id" or "mp|address" */
    const char *owner; /* household code, or product id */
    const char *label; /* how the finding names the item */
    int products;      /* 0 households, 1 products */
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->products != y->products) return x->products - y->products;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->owner, y->owner);
}

/* one finding line, capped so a broken database does not make a report of megabytes */
static int finding(cs_buf *b, int64_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int finding(cs_buf *b, int64_t *n, const char *fmt, ...)
{
    if (++*n > 200) return 0;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return cs_buf_puts(b, line) | cs_buf_putc(b, '\n');
}

/* runs of the same key with more than one owner: one finding per run */
static int duplicates(cs_buf *b, int64_t *n, struct key *k, size_t nk, const char *what_vi,
                      const char *what_en)
{
    qsort(k, nk, sizeof *k, key_cmp);
    int rc = 0;
    for (size_t i = 0; i < nk;) {
        size_t j = i + 1;
        int owners = 1;
        while (j < nk && k[j].products == k[i].products && !strcmp(k[j].key, k[i].key)) {
            if (strcmp(k[j].owner, k[j - 1].owner)) owners++;
            j++;
        }
        if (owners > 1) {
            cs_buf who;
            cs_buf_init(&who, 128);
            for (size_t x = i; x < j; x++)
                if (x == i || strcmp(k[x].owner, k[x - 1].owner))
                    rc |= (x > i ? cs_buf_puts(&who, ", ") : 0) | cs_buf_puts(&who, k[x].label);
            const char *w = who.data ? who.data : "";
            rc |= k[i].products
                      ? finding(b, n,
                                "%s %s được tính cho %d sản phẩm: %s (%s %s is "
                                "counted for %d products: %s)",
                                what_vi, k[i].key, owners, w, what_en, k[i].key, owners, w)
                      : finding(b, n,
                                "%s %s được tính cho %d hộ: %s (%s %s is counted "
                                "for %d households: %s)",
                                what_vi, k[i].key, owners, w, what_en, k[i].key, owners, w);
            cs_buf_free(&who);
        }
        i = j;
    }
    return rc;
}

int cs_evidence_check(cs_db *db, int64_t *problems, char **report, cs_error *err)
{
    *problems = 0;
    *report = NULL;
    cs_rows *r = NULL;
    if (cs_evidence_list(db, 0, &r, err)) return -1;
    size_t n = cs_rows_count(r);
    struct key *ids = cs_calloc(n + 1, sizeof *ids), *addrs = cs_calloc(n + 1, sizeof *addrs);
    char(*labels)[96] = cs_calloc(n + 1, sizeof *labels);
    size_t nid = 0, naddr = 0;
    cs_buf b;
    cs_buf_init(&b, 1024);
    int rc = !ids || !addrs || !labels;
    for (size_t i = 0; !rc && i < n; i++) {
        const char *kind = cs_rows_str(r, i, CS_EV_KIND);
        int prod = strcmp(kind, "household") != 0;
        const char *hh = cs_rows_str(r, i, CS_EV_HOUSEHOLD),
                   *pid = cs_rows_str(r, i, CS_EV_PRODUCT);
        if (prod)
            snprintf(labels[i], sizeof labels[i], "sản phẩm %s (hộ %s)", pid, hh);
        else
            snprintf(labels[i], sizeof labels[i], "hộ %s", hh);
        if (*cs_rows_str(r, i, CS_EV_COMPLETE) != '1')
            rc |= finding(&b, problems,
                          "%s (%s, ngày %s): thiếu bằng chứng — không có mã trên sàn hay địa chỉ "
                          "đã xác minh%s%s (%s: no evidence — no marketplace id nor verified "
                          "address)",
                          labels[i], kind, cs_rows_str(r, i, CS_EV_DATE),
                          *cs_rows_str(r, i, CS_EV_MARKETPLACE) ? ", sàn " : "",
                          cs_rows_str(r, i, CS_EV_MARKETPLACE), kind);
        const char *owner = prod ? pid : hh;
        if (*cs_rows_str(r, i, CS_EV_ID_KEY))
            ids[nid++] = (struct key){cs_rows_str(r, i, CS_EV_ID_KEY), owner, labels[i], prod};
        if (*cs_rows_str(r, i, CS_EV_ADDR_KEY))
            addrs[naddr++] =
                (struct key){cs_rows_str(r, i, CS_EV_ADDR_KEY), owner, labels[i], prod};
    }
    if (!rc)
        rc |= duplicates(&b, problems, ids, nid, "Mã trên sàn", "Marketplace id") |
              duplicates(&b, problems, addrs, naddr, "Địa chỉ", "Address");
    if (!rc && *problems > 200)
        rc |= cs_buf_printf(&b, "… và %lld vấn đề khác (and %lld more)\n",
                            (long long)(*problems - 200), (long long)(*problems - 200));
    cs_free(ids);
    cs_free(addrs);
    cs_free(labels);
    cs_rows_free(r);
    if (rc) {
        cs_buf_free(&b);
        *problems = 0;
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    *report = b.len ? cs_buf_steal(&b) : NULL;
    if (!*report) cs_buf_free(&b);
    return 0;
}
