/* service/h_evidence: the evidence of every counted item (GET /v1/reports/evidence.csv|.xlsx,
 * admin and monitor: the whole province, nothing personal). core/evidence makes the rows and
 * files; this file reads the query, runs it and sends the bytes. No SQL here. */
#include "core/evidence.h"
#include "core/instance.h"
#include "core/mem.h"
#include "core/vn.h"
#include "service/api.h"
#include "service/handlers.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int download(svc_req *r, const char *ctype, const char *name, const void *data, size_t len)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    const char *const headers[] = {"Content-Disposition", disp, "Cache-Control", "no-store", NULL};
    return svc_reply_bytes(r, 200, ctype, data, len, headers);
}

/* the file libxlsxwriter wrote, into memory (one row per counted item: a few megabytes) */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = NULL;
    struct stat st;
    if (!fstat(fileno(f), &st) && st.st_size > 0 && st.st_size < (256 << 20)) {
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

static int evidence(svc_req *r, int xlsx)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t year;
    if (svc_query_int(r, "year", vn_today().y, 2000, 2100, &year, &err))
        return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_rows *rows = NULL;
    if (cs_evidence_list(db, (int)year, &rows, &err)) return svc_reply_problem(r, &err);
    int sim = cs_instance_simulated();
    char name[48];
    snprintf(name, sizeof name, "bang-chung-%d.%s", (int)year, xlsx ? "xlsx" : "csv");
    char *data = NULL;
    size_t len = 0;
    int rc = 0;
    if (!xlsx) {
        rc = cs_evidence_csv(rows, sim, &data, &len, &err);
    } else {
        const char *tmp = getenv("TMPDIR");
        char path[512];
        snprintf(path, sizeof path, "%s/choso-evidence-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) {
            cs_rows_free(rows);
            return svc_reply_error(r, CS_E_INTERNAL, "%s", "temporary file");
        }
        close(fd);
        rc = cs_evidence_xlsx(rows, sim, path, &err);
        data = rc ? NULL : slurp(path, &len);
        unlink(path);
        if (!rc && !data) rc = cs_error_set(&err, CS_E_INTERNAL, "evidence file");
    }
    cs_rows_free(rows);
    if (rc) return svc_reply_problem(r, &err);
    rc = download(r,
                  xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                       : "text/csv; charset=utf-8",
                  name, data, len);
    cs_free(data);
    return rc;
}

int svc_reports_evidence_csv(svc_req *r)
{
    return evidence(r, 0);
}

int svc_reports_evidence_xlsx(svc_req *r)
{
    return evidence(r, 1);
}
