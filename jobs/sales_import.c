/* jobs/sales_import: the seller centre's order export → sales (see jobs/sales_import.h). The
 * layout is data (schemas/data/order_export_*.csv) so a real export drops in without code. No
 * SQL here: each row goes through cs_sale_record. */
#include "jobs/sales_import.h"
#include "connectors/cxutil.h"
#include "core/config.h"
#include "core/orders.h"
#include "core/vn.h"
#include "jobs/sheet.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { F_CODE, F_DATE, F_SKU, F_QTY, F_AMOUNT, F_STATUS, F_N };
static const char *const field_names[F_N] = {"order_code", "sold_on",    "sku",
                                             "quantity",   "amount_vnd", "status"};

static void trim(const char *s, char *out, size_t n)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
        l--;
    if (l >= n) l = n - 1;
    memcpy(out, s, l);
    out[l] = '\0';
}

__attribute__((format(printf, 3, 4))) static void row_error(job_sales_report *rep, unsigned row,
                                                            const char *fmt, ...)
{
    rep->rejected++;
    size_t used = strlen(rep->errors);
    if (used + 8 >= sizeof rep->errors) return;
    int n = snprintf(rep->errors + used, sizeof rep->errors - used, "dòng %u: ", row);
    if (n < 0 || used + (size_t)n >= sizeof rep->errors) return;
    used += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->errors + used, sizeof rep->errors - used, fmt, ap);
    va_end(ap);
    used = strlen(rep->errors);
    if (used + 1 < sizeof rep->errors) memcpy(rep->errors + used, "\n", 2);
}

/* A whole number of đồng or units from a cell: "45000", "45.000", "45,000", "45000.0". */
static long long whole(const char *cell)
{
    char t[40], d[40];
    trim(cell, t, sizeof t);
    size_t k = 0;
    const char *p = t;
    if (!*p) return -1;
    /* a trailing ".0"/",00" decimal part of zeros is dropped; a separator followed by exactly
       three digits is a thousands separator */
    for (; *p && k + 1 < sizeof d; p++) {
        if (isdigit((unsigned char)*p))
            d[k++] = *p;
        else if ((*p == '.' || *p == ',') && strspn(p + 1, "0123456789") == 3 &&
                 (p[4] == '\0' || p[4] == '.' || p[4] == ','))
            continue;
        else if ((*p == '.' || *p == ',') && strspn(p + 1, "0") == strlen(p + 1))
            break;
        else
            return -1;
    }
    d[k] = '\0';
    if (!k || k > 15) return -1;
    return strtoll(d, NULL, 10);
}

int job_sales_import(cs_db *db, const cs_actor *a, const char *mp, const void *data, size_t len,
                     job_sales_report *rep, cs_error *err)
{
    return job_sales_import_scoped(db, a, mp, data, len, NULL, NULL, rep, err);
}

int job_sales_import_scoped(cs_db *db, const cs_actor *a, const char *mp, const void *data,
                            size_t len, job_sales_allow_fn allow, void *ctx, job_sales_report *rep,
                            cs_error *err)
{
    memset(rep, 0, sizeof *rep);
    char path[1024], spath[1024];
    snprintf(path, sizeof path, "%s/data/order_export_layout.csv", cs_cfg_str("schema.dir"));
    snprintf(spath, sizeof spath, "%s/data/order_export_status.csv", cs_cfg_str("schema.dir"));
    cx_csv lay, st;
    memset(&lay, 0, sizeof lay);
    memset(&st, 0, sizeof st);
    sheet *sh = NULL;
    int rc = -1;
    if (cx_csv_load(path, 1000, &lay, err) || cx_csv_load(spath, 1000, &st, err)) goto out;
    /* the headers each field may carry, for this marketplace */
    const char *alts[F_N] = {0};
    int required[F_N] = {0};
    for (size_t r = 1; r < lay.nrows; r++) {
        if (lay.ncols[r] < 4 || strcmp(lay.cells[r][0], mp)) continue;
        for (int f = 0; f < F_N; f++)
            if (!strcmp(lay.cells[r][1], field_names[f])) {
                alts[f] = lay.cells[r][2];
                required[f] = !strcmp(lay.cells[r][3], "yes");
            }
    }
    if (!alts[F_CODE]) {
        cs_error_field(err, "marketplace", CS_F_MARKETPLACE, "no order export layout");
        cs_error_set(err, CS_E_VALIDATION, NULL);
        goto out;
    }
    if (sheet_read(data, len, NULL, &sh, err)) goto out;
    /* header row: the first row naming the order code column */
    int col[F_N];
    size_t head = 0;
    for (int f = 0; f < F_N; f++)
        col[f] = -1;
    for (size_t r = 0; r < sheet_nrows(sh) && r < 10 && col[F_CODE] < 0; r++) {
        for (unsigned c = 0; c < sheet_ncells(sh, r); c++) {
            char h[200];
            trim(sheet_cell(sh, r, c), h, sizeof h);
            for (int f = 0; f < F_N && *h; f++) {
                if (!alts[f] || col[f] >= 0) continue;
                char opts[600];
                snprintf(opts, sizeof opts, "%s", alts[f]);
                for (char *save = NULL, *o = strtok_r(opts, "|", &save); o;
                     o = strtok_r(NULL, "|", &save))
                    if (!strcasecmp(o, h)) {
                        col[f] = (int)c;
                        break;
                    }
            }
        }
        head = r;
    }
    for (int f = 0; f < F_N; f++)
        if (required[f] && col[f] < 0) {
            char first[120];
            snprintf(first, sizeof first, "%s", alts[f] ? alts[f] : field_names[f]);
            char *bar = strchr(first, '|');
            if (bar) *bar = '\0';
            cs_error_set(err, CS_E_IMPORT_MISSING_COLUMNS, "thiếu cột \"%s\"", first);
            goto out;
        }
    for (size_t r = head + 1; r < sheet_nrows(sh); r++) {
        unsigned row = sheet_row_no(sh, r);
        char v[F_N][200];
        for (int f = 0; f < F_N; f++)
            trim(col[f] >= 0 ? sheet_cell(sh, r, (unsigned)col[f]) : "", v[f], sizeof v[f]);
        if (!v[F_CODE][0] && !v[F_SKU][0]) continue; /* a blank or total line */
        rep->rows++;
        const char *state = NULL;
        for (size_t k = 1; k < st.nrows; k++)
            if (st.ncols[k] >= 3 && !strcmp(st.cells[k][0], mp) &&
                !strcasecmp(st.cells[k][1], v[F_STATUS]))
                state = st.cells[k][2];
        if (!state) {
            row_error(rep, row, "trạng thái \"%s\" không có trong order_export_status.csv",
                      v[F_STATUS]);
            continue;
        }
        if (strcmp(state, "delivered")) {
            rep->skipped++; /* not delivered: never counts */
            continue;
        }
        /* "05/03/2026 14:20" → the date part */
        char *sp = strchr(v[F_DATE], ' ');
        if (sp) *sp = '\0';
        vn_date d;
        cs_code why;
        char iso[11];
        if (vn_date_parse(v[F_DATE], 1, &d, &why)) {
            row_error(rep, row, "ngày \"%s\" không đúng (dd/mm/yyyy)", v[F_DATE]);
            continue;
        }
        vn_date_iso(d, iso);
        long long qty = whole(v[F_QTY]), amount = whole(v[F_AMOUNT]);
        if (qty < 1 || amount < 0) {
            row_error(rep, row, "số lượng hoặc thành tiền không phải số");
            continue;
        }
        if (strncmp(v[F_SKU], "CS-", 3) || !v[F_SKU][3] ||
            strspn(v[F_SKU] + 3, "0123456789") != strlen(v[F_SKU] + 3)) {
            row_error(rep, row, "mã SKU \"%s\" không phải của Chợ Số (CS-<số>)", v[F_SKU]);
            continue;
        }
        int64_t listing = strtoll(v[F_SKU] + 3, NULL, 10);
        int ok = allow ? allow(ctx, db, listing, err) : 0;
        if (ok < 0) goto out;
        if (ok) {
            row_error(rep, row, "sản phẩm %s không thuộc xã/phường bạn phụ trách", v[F_SKU]);
            continue;
        }
        cs_sale_claim c = {.marketplace = mp,
                           .order_code = v[F_CODE],
                           .listing_id = listing,
                           .sold_on = iso,
                           .qty = qty,
                           .amount_vnd = amount,
                           .source = "import"};
        cs_error e;
        cs_error_clear(&e);
        int64_t id = 0;
        int r2 = cs_sale_record(db, a, &c, &id, &e);
        if (r2 == 0)
            rep->recorded++;
        else if (r2 == 1)
            rep->duplicates++;
        else if (e.code == CS_E_VALIDATION || e.code == CS_E_NOT_FOUND)
            row_error(rep, row, "%s%s%s", e.nfields ? e.fields[0].field : "", e.nfields ? ": " : "",
                      cs_code_message(e.nfields ? e.fields[0].code : e.code, CS_LANG_VI));
        else {
            *err = e;
            goto out;
        }
    }
    rc = 0;
out:
    sheet_free(sh);
    cx_csv_free(&lay);
    cx_csv_free(&st);
    return rc;
}
