/* service/h_imports: POST /v1/imports (multipart upload: stores the file and queues the
 * "import.run" job), GET /v1/imports/{id} (progress, counts, first rejected rows), the error
 * files and the templates. The work itself is jobs/import's; handlers stay short. Access: an
 * import is seen by the admin and by whoever created it (a volunteer sees only their own). */
#include "core/config.h"
#include "core/mem.h"
#include "jobs/import.h"
#include "service/api.h"
#include "service/h_imports.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

static int reply_download(svc_req *r, const char *ctype, const char *name, const void *data,
                          size_t len)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    const char *const headers[] = {"Content-Disposition", disp, NULL};
    return svc_reply_bytes(r, 200, ctype, data, len, headers);
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on", "có", NULL}, *const no[] = {
                                                                                 "0",  "false",
                                                                                 "no", "off",
                                                                                 "",   NULL};
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(v, yes[i])) return *out = 1, 0;
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(v, no[i])) return *out = 0, 0;
    return -1;
}

int svc_imports_create(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const svc_part *file = NULL;
    const char *kind = NULL, *dry = NULL;
    for (size_t i = 0; i < r->nparts; i++) {
        const svc_part *p = &r->parts[i];
        if (!strcmp(p->name, "file") && !file)
            file = p;
        else if (!strcmp(p->name, "kind") && !kind)
            kind = p->data;
        else if (!strcmp(p->name, "dry_run") && !dry)
            dry = p->data;
        else
            cs_error_field(&err, p->name, CS_F_UNKNOWN, "file, kind, dry_run");
    }
    if (!file || !file->len) cs_error_field(&err, "file", CS_F_REQUIRED, NULL);
    import_kind k = IMPORT_HOUSEHOLDS;
    if (!kind)
        cs_error_field(&err, "kind", CS_F_REQUIRED, "households, products");
    else if (!strcmp(kind, "products"))
        k = IMPORT_PRODUCTS;
    else if (strcmp(kind, "households"))
        cs_error_field(&err, "kind", CS_F_ENUM, "households, products");
    int dry_run = 0;
    if (dry && parse_bool(dry, &dry_run)) cs_error_field(&err, "dry_run", CS_F_TYPE, "true, false");
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    const char **communes = NULL;
    size_t ncommunes = 0;
    if (svc_api_scope(r, &communes, &ncommunes)) return svc_reply_error(r, CS_E_NOMEM, NULL);
    cs_db *db = svc_db(r, &err);
    if (!db) {
        cs_free(communes);
        return svc_reply_problem(r, &err);
    }
    cs_actor a = svc_audit_actor(r);
    job_import_new in = {.kind = k,
                         .filename = file->filename ? file->filename : "import",
                         .data = file->path[0] ? NULL : file->data,
                         .len = file->path[0] ? 0 : file->len,
                         .path = file->path[0] ? file->path : NULL,
                         .dry_run = dry_run,
                         .communes = communes,
                         .ncommunes = ncommunes};
    int64_t id = 0;
    int rc = job_import_create(db, &a, &in, 1, &id, &err);
    cs_free(communes);
    if (rc) return svc_reply_problem(r, &err);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/imports/%lld", (long long)id);
    if (svc_add_header(r, "Location", loc)) return -1;
    return svc_reply_json(r, 202,
                          json_pack("{s:I,s:s,s:s,s:b,s:s}", "id", (json_int_t)id, "state",
                                    "queued", "kind", import_kind_name(k), "dry_run", dry_run,
                                    "href", loc));
}

/* Load the import for the caller: 0, or -1 after replying (404 for unknown ids and for other
 * people's imports alike, so ids reveal nothing). */
static int load_visible(svc_req *r, int64_t *id, json_t **out, size_t max_rejects)
{
    cs_error err;
    cs_error_clear(&err);
    *id = svc_api_param_id(r, "id");
    if (*id <= 0) return svc_reply_error(r, CS_E_NOT_FOUND, NULL), -1;
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err), -1;
    char by[40];
    json_t *o = NULL;
    if (job_import_get_json(db, *id, max_rejects, &o, by, &err))
        return svc_reply_problem(r, &err), -1;
    if (!(r->actor.role & SVC_ROLE_ADMIN)) {
        cs_actor a = svc_audit_actor(r);
        char me[48];
        cs_actor_tag(&a, me, sizeof me);
        if (strcmp(me, by)) {
            json_decref(o);
            return svc_reply_error(r, CS_E_NOT_FOUND, NULL), -1;
        }
    }
    if (out)
        *out = o;
    else
        json_decref(o);
    return 0;
}

int svc_imports_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t n = 0;
    if (svc_query_int(r, "rejects", 50, 0, 1000, &n, &err)) return svc_reply_problem(r, &err);
    int64_t id;
    json_t *o = NULL;
    if (load_visible(r, &id, &o, (size_t)n)) return 0;
    return svc_reply_json(r, 200, o);
}

int svc_imports_errors_csv(svc_req *r)
{
    int64_t id;
    if (load_visible(r, &id, NULL, 0)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    /* written a page of rejects at a time to a private temporary file and sent from it: the
       rejects of a 1,000,000-row file are never held by the server */
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/choso-errors-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return svc_reply_error(r, CS_E_INTERNAL, "%s", "temporary file");
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(path);
        return svc_reply_error(r, CS_E_INTERNAL, "%s", "temporary file");
    }
    int rc = job_import_errors_file(db, id, f, &err);
    if (fclose(f) && !rc) rc = cs_error_set(&err, CS_E_INTERNAL, "%s", "temporary file");
    if (rc) {
        unlink(path);
        return svc_reply_problem(r, &err);
    }
    char name[64], disp[160];
    snprintf(name, sizeof name, "loi-nhap-%lld.csv", (long long)id);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    const char *const headers[] = {"Content-Disposition", disp, NULL};
    rc = svc_reply_file(r, 200, "text/csv; charset=utf-8", path, headers);
    unlink(path); /* the reply holds the file open */
    return rc;
}

/* libxlsxwriter writes only to files: a private temporary one, sent and removed at once */
static int reply_xlsx(svc_req *r, const char *name, int64_t id, import_kind kind, int errors)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/choso-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return svc_reply_error(r, CS_E_INTERNAL, "%s", "temporary file");
    close(fd);
    int rc = errors ? job_import_errors(db, id, NULL, path, &err)
                    : job_import_template(db, kind, NULL, path, &err);
    if (rc) {
        unlink(path);
        return svc_reply_problem(r, &err);
    }
    /* sent from the file (opened by the reply, so it can go from the directory at once) */
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    const char *const headers[] = {"Content-Disposition", disp, NULL};
    rc = svc_reply_file(r, 200, XLSX_TYPE, path, headers);
    unlink(path);
    return rc;
}

int svc_imports_errors_xlsx(svc_req *r)
{
    int64_t id;
    if (load_visible(r, &id, NULL, 0)) return 0;
    char name[64];
    snprintf(name, sizeof name, "loi-nhap-%lld.xlsx", (long long)id);
    return reply_xlsx(r, name, id, IMPORT_HOUSEHOLDS, 1);
}

/* ?kind=households (default) | products */
static int template_kind(svc_req *r, import_kind *k)
{
    static const char *const kinds[] = {"households", "products", NULL};
    const char *v = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (svc_api_query_enum(r, "kind", kinds, &v, &err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    *k = v && !strcmp(v, "products") ? IMPORT_PRODUCTS : IMPORT_HOUSEHOLDS;
    return 0;
}

int svc_imports_template_csv(svc_req *r)
{
    import_kind k;
    if (template_kind(r, &k)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_buf b;
    cs_buf_init(&b, (size_t)1 << 20);
    if (job_import_template(db, k, &b, NULL, &err)) {
        cs_buf_free(&b);
        return svc_reply_problem(r, &err);
    }
    int rc = reply_download(r, "text/csv; charset=utf-8",
                            k == IMPORT_PRODUCTS ? "mau-san-pham.csv" : "mau-ho-kinh-doanh.csv",
                            b.data ? b.data : "", b.len);
    cs_buf_free(&b);
    return rc;
}

int svc_imports_template_xlsx(svc_req *r)
{
    import_kind k;
    if (template_kind(r, &k)) return 0;
    return reply_xlsx(r, k == IMPORT_PRODUCTS ? "mau-san-pham.xlsx" : "mau-ho-kinh-doanh.xlsx", 0,
                      k, 0);
}
