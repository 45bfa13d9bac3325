/* jobs/sales_import: a seller centre's order export (postmart.vn, voso.vn; CSV or XLSX) read with
 * the column layout in schemas/data/order_export_layout.csv and recorded as sales through
 * core/orders (source "import", de-duplicated by marketplace order code). */
#ifndef JOB_SALES_IMPORT_H
#define JOB_SALES_IMPORT_H
#include "core/audit.h"
#include "core/db.h"
#include <stddef.h>

typedef struct job_sales_report {
    size_t rows;       /* data rows read */
    size_t recorded;   /* new sales (counted) */
    size_t duplicates; /* order codes already recorded: nothing changed */
    size_t skipped;    /* not delivered (cancelled, returned, still open): never counted */
    size_t rejected;   /* malformed rows, see errors */
    char errors[2048]; /* "dòng N: …" lines for the volunteer, in Vietnamese (truncated) */
} job_sales_report;

/* Read data (len bytes) as marketplace mp's export and record its delivered lines. Returns 0
 * with *rep filled (row problems are in rep, not failures), or -1 with err for the whole file:
 * CS_E_IMPORT_* (unreadable, missing column — detail names it in Vietnamese), CS_E_VALIDATION on
 * "marketplace" (no export layout for it), CS_E_CONFIG (layout file missing). */
int job_sales_import(cs_db *db, const cs_actor *a, const char *mp, const void *data, size_t len,
                     job_sales_report *rep, cs_error *err);
/* Whether the importer may record sales of `listing`: 0 yes (an unknown listing too: the row is
 * then refused as not found), 1 no (the row is refused), -1 with err (the whole file stops). */
typedef int (*job_sales_allow_fn)(void *ctx, cs_db *db, int64_t listing, cs_error *err);
/* job_sales_import with a check per row (the API: a volunteer records only their communes'). */
int job_sales_import_scoped(cs_db *db, const cs_actor *a, const char *mp, const void *data,
                            size_t len, job_sales_allow_fn allow, void *ctx, job_sales_report *rep,
                            cs_error *err);
#endif
