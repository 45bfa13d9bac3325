/* service/h_reports: the annual report (GET /v1/reports/annual.xlsx|.pdf, admin and monitor:
 * the named lists cover the whole province) and the targets CSV for Excel set to Vietnamese
 * (GET /v1/reports/targets-vn.csv). Files are made by core/annual and core/targets_report; this
 * file only reads the query, runs them and sends the bytes. No SQL here. */
#include "core/annual.h"
#include "core/mem.h"
#include "core/targets.h"
#include "core/vn.h"
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
