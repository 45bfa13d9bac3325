/* service/h_reports: the annual report (GET /v1/reports/annual.xlsx|.pdf, admin and monitor:
 * the named lists cover the whole province) and the targets CSV for Excel set to Vietnamese
 * (GET /v1/reports/targets-vn.csv), and per-commune goals uploaded from a spreadsheet
 * (POST /v1/targets/{year}/goals). Files are made by core/annual and core/targets_report; this
 * file only reads the query, runs them and sends the bytes. No SQL here. */
#include "core/annual.h"
#include "core/mem.h"
#include "core/targets.h"
#include "core/units.h"
#include "core/vn.h"
#include "jobs/sheet.h"
#include "service/api.h"
#include "service/h_targets.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ?year= (default this year in Asia/Ho_Chi_Minh); replies 422 and returns -1 when bad */
static int read_year(svc_req *r, int64_t *year)
{
    cs_error err;
    cs_error_clear(&err);
    if (svc_query_int(r, "year", vn_today().y, 2000, 2100, year, &err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    return 0;
}

static int reply_download(svc_req *r, const char *ctype, const char *name, const void *data,
                          size_t len)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    const char *const headers[] = {"Content-Disposition", disp, "Cache-Control", "no-store", NULL};
    return svc_reply_bytes(r, 200, ctype, data, len, headers);
}

int svc_reports_targets_csv_vn(svc_req *r)
{
    int64_t year;
    if (read_year(r, &year)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    const char **scope = NULL;
    size_t n = 0;
    if (svc_api_scope(r, &scope, &n)) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    cs_progress p;
    char *csv = NULL;
    size_t len = 0;
    int bad = cs_targets_progress(db, (int)year, CS_BY_COMMUNE, vn_today(),
                                  (const char *const *)scope, n, &p, &err) ||
              cs_targets_csv_vn(&p, &csv, &len, &err);
    cs_free(scope);
    if (bad) {
        cs_targets_progress_free(&p);
        return svc_reply_problem(r, &err);
    }
    cs_targets_progress_free(&p);
    char name[48];
    snprintf(name, sizeof name, "chi-tieu-%d-excel-vn.csv", (int)year);
    int rc = reply_download(r, "text/csv; charset=utf-8", name, csv, len);
    cs_free(csv);
    return rc;
}

/* the whole file into memory (a report is at most a few megabytes); NULL on failure */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = NULL;
    struct stat st;
    if (!fstat(fileno(f), &st) && st.st_size > 0 && st.st_size < (64 << 20)) {
        data = cs_malloc((size_t)st.st_size);
        if (data && fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            cs_free(data);
            data = NULL;
        }
        *len = (size_t)st.st_size;
    }
    fclose(f);
    return data;
}

/* build the report, write it with `write` to a private temporary file (libxlsxwriter and cairo's
 * PDF surface both write files), send it and remove the file */
static int annual(svc_req *r, int pdf)
{
    int64_t year;
    if (read_year(r, &year)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_annual a;
    if (cs_annual_build(db, (int)year, vn_today(), &a, &err)) return svc_reply_problem(r, &err);
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/choso-annual-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        cs_annual_free(&a);
        return svc_reply_error(r, CS_E_INTERNAL, "%s", "temporary file");
    }
    close(fd);
    int rc = pdf ? cs_annual_pdf(&a, path, &err) : cs_annual_xlsx(&a, path, &err);
    cs_annual_free(&a);
    size_t len = 0;
    char *data = rc ? NULL : slurp(path, &len);
    unlink(path);
    if (rc) return svc_reply_problem(r, &err);
    if (!data) return svc_reply_error(r, CS_E_INTERNAL, "%s", "report file");
    char name[48];
    snprintf(name, sizeof name, "bao-cao-nam-%d.%s", (int)year, pdf ? "pdf" : "xlsx");
    rc = reply_download(r,
                        pdf ? "application/pdf"
                            : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        name, data, len);
    cs_free(data);
    return rc;
}

int svc_reports_annual_xlsx(svc_req *r)
{
    return annual(r, 0);
}

int svc_reports_annual_pdf(svc_req *r)
{
    return annual(r, 1);
}

/* ---- per-commune goals from a spreadsheet ---------------------------------------------------
 * POST /v1/targets/{year}/goals, the file (CSV or XLSX) as the body. The header row is the
 * first row with a commune-code column ("commune_code" or "Mã xã/phường"); a goal column per
 * metric is named by the metric ("households_onboarded" …), its Vietnamese label, or the data
 * annex's "<label> - Chỉ tiêu" — so the downloaded report, filled in, uploads as it is. Empty
 * cells leave a goal as it was. All rows are checked first (a 422 names each bad cell by row and
 * column); only a clean file is applied, one audited goal at a time. */
static int header_metric(const char *h)
{
    char annex[160];
    for (int m = 0; m < CS_M__COUNT; m++) {
        snprintf(annex, sizeof annex, "%s - Chỉ tiêu", cs_metric_label_vi(m));
        if (!strcmp(h, cs_metric_name(m)) || !strcmp(h, cs_metric_label_vi(m)) || !strcmp(h, annex))
            return m;
    }
    return -1;
}

int svc_targets_goals_upload(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *ys = svc_param(r, "year");
    char *end = NULL;
    long year = ys ? strtol(ys, &end, 10) : 0;
    if (!ys || !*ys || *end || year < 2020 || year > 2100)
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "target");
    if (!r->body || !r->body_len) return svc_reply_error(r, CS_E_IMPORT_EMPTY, "%s", "goals");
    sheet *s = NULL;
    if (sheet_read(r->body, r->body_len, NULL, &s, &err)) return svc_reply_problem(r, &err);
    size_t head = sheet_nrows(s);
    int code_col = -1, mcol[CS_M__COUNT] = {-1, -1, -1};
    for (size_t i = 0; i < sheet_nrows(s) && head == sheet_nrows(s); i++)
        for (unsigned c = 0; c < sheet_ncells(s, i); c++) {
            const char *h = sheet_cell(s, i, c);
            if (!strcmp(h, "commune_code") || !strcmp(h, "Mã xã/phường")) {
                head = i;
                code_col = (int)c;
            }
        }
    if (head < sheet_nrows(s))
        for (unsigned c = 0; c < sheet_ncells(s, head); c++) {
            int m = header_metric(sheet_cell(s, head, c));
            if (m >= 0 && mcol[m] < 0) mcol[m] = (int)c;
        }
    int any_col = mcol[0] >= 0 || mcol[1] >= 0 || mcol[2] >= 0;
    if (code_col < 0 || !any_col) {
        sheet_free(s);
        cs_error_field(&err, code_col < 0 ? "commune_code" : "goal", CS_F_REQUIRED,
                       code_col < 0 ? "no column commune_code / Mã xã/phường"
                                    : "no goal column (households_onboarded, … or '… - Chỉ tiêu')");
        return svc_reply_problem(r, &err);
    }
    cs_db *db = svc_db(r, &err);
    if (!db) {
        sheet_free(s);
        return svc_reply_problem(r, &err);
    }
    /* pass 1 checks every cell, pass 2 applies */
    int64_t set = 0;
    for (int pass = 0; pass < 2 && !cs_error_failed(&err); pass++) {
        cs_actor a = svc_audit_actor(r);
        for (size_t i = head + 1; i < sheet_nrows(s); i++) {
            const char *code = sheet_cell(s, i, (unsigned)code_col);
            if (!*code) continue; /* the province line and blank lines */
            char field[48];
            snprintf(field, sizeof field, "row %u", sheet_row_no(s, i));
            int ok = strlen(code) == 5 && strspn(code, "0123456789") == 5;
            int ex = ok ? cs_unit_exists(db, code, &err) : 0;
            if (ex < 0) break;
            if (!ex) {
                cs_error_field(&err, field, CS_F_COMMUNE, code);
                continue;
            }
            for (int m = 0; m < CS_M__COUNT; m++) {
                if (mcol[m] < 0) continue;
                const char *v = sheet_cell(s, i, (unsigned)mcol[m]);
                if (!*v) continue;
                char *e2 = NULL;
                long long g = strtoll(v, &e2, 10);
                if (*e2 == '.' && strspn(e2 + 1, "0") == strlen(e2 + 1)) e2 += strlen(e2);
                if (*e2 || g < 0 || g > 100000000) {
                    cs_error_field(&err, field, CS_F_RANGE, v);
                    continue;
                }
                if (pass == 1) {
                    if (cs_targets_set_goal(db, &a, (int)year, cs_metric_name(m), code, g, &err))
                        break;
                    set++;
                }
            }
            if (pass == 1 && cs_error_failed(&err)) break;
        }
    }
    sheet_free(s);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200,
                          json_pack("{s:i,s:I}", "year", (int)year, "goals_set", (json_int_t)set));
}
