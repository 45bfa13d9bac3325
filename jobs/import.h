/* jobs/import: batch import of households and products from a stored spreadsheet — the
 * `imports` row, the job kind "import.run" that processes it in chunks, progress and the error
 * files. No HTTP here (service/h_imports.c) and no terminal (cli/cmd_import.c).
 *
 * Crash safety: each chunk of import.chunk_rows rows is ONE transaction that writes its rows,
 * its rejected rows and advances imports.rows_done with the counters; a run that dies resumes at
 * rows_done. Re-processing a chunk would be harmless anyway (households are upserted by the
 * citizen ID's blind index; products matched by household and folded name). */
#ifndef JOB_IMPORT_H
#define JOB_IMPORT_H
#include "core/audit.h"
#include "core/db.h"
#include "core/errors.h"
#include "jobs/import_rows.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define JOB_IMPORT_KIND "import.run"

typedef struct job_import_new {
    import_kind kind;
    const char *filename; /* as uploaded (kept for display; path parts stripped) */
    const void *data;     /* the file bytes (stored in import_file_parts) */
    size_t len;
    const char *path; /* instead of data/len: the file at path, read in slices (never whole) */
    int dry_run;      /* validate and count, write nothing */
    const char *const *communes; /* scope: rows outside these communes are rejected */
    size_t ncommunes;            /* 0 = anywhere (admin, CLI) */
} job_import_new;

/* Store the file as a new import by actor `a` (created_by = its tag) and, when enqueue, put an
 * "import.run" job for it on the queue in the same transaction. The file is only sniffed here
 * (format, size); reading it is the job's work. *id receives the import id. 0 or -1 with err
 * (CS_E_IMPORT_LIMIT past import.max_file, CS_E_IMPORT_EMPTY for no bytes, database). */
int job_import_create(cs_db *db, const cs_actor *a, const job_import_new *in, int enqueue,
                      int64_t *id, cs_error *err);

/* Progress callback: rows done and total (data rows) after each committed chunk. */
typedef void (*job_import_progress_fn)(void *arg, int64_t done, int64_t total);

struct job_ctx;
/* Process import `id` to the end (or from its resume point). ctx (may be NULL) is the job
 * context: heartbeats between chunks, stop requests honoured (returns 1: stopped, progress
 * saved). A file that cannot be read at all (encoding, missing columns …) is not an error of
 * the run: the import ends 'failed' with a Vietnamese error_message and this returns 0.
 * Returns 0 when the import is done or failed, 1 when stopped early, -1 with err on database
 * or memory errors (progress so far is kept; run again to resume).
 * Test hook: CHOSO_TEST_IMPORT_CRASH_AFTER_CHUNK=N makes the process _exit(75) right after
 * committing its N-th chunk. */
int job_import_run(cs_db *db, int64_t id, job_import_progress_fn cb, void *cb_arg,
                   struct job_ctx *ctx, cs_error *err);

/* The import as JSON: id, kind, filename, file_format, dry_run, state, total_rows, rows_done,
 * created, updated, unchanged, rejected, repaired, warnings (array), error (message or null),
 * created_by, created_at, started_at, finished_at, and `rejects`: the first max_rejects
 * rejected rows ({row, cells, errors:[{field, code, message}], message}). created_by_out
 * (may be NULL, 40 bytes) receives the creator for access checks. 0 or -1 (CS_E_NOT_FOUND). */
int job_import_get_json(cs_db *db, int64_t id, size_t max_rejects, json_t **out,
                        char created_by_out[40], cs_error *err);

/* The rejected rows as the user sent them plus the error column (sheet_errors_csv /
 * sheet_errors_xlsx): CSV appended to csv_out, or XLSX written to xlsx_path (one of the two). */
int job_import_errors(cs_db *db, int64_t id, cs_buf *csv_out, const char *xlsx_path, cs_error *err);
/* The CSV error file written to f a page of 1,000 rejects at a time: its memory does not grow
 * with the rejects (both forms read them page by page). */
int job_import_errors_file(cs_db *db, int64_t id, FILE *f, cs_error *err);

/* Template files: CSV into out, or XLSX at path (communes and categories from the database). */
int job_import_template(cs_db *db, import_kind kind, cs_buf *csv_out, const char *xlsx_path,
                        cs_error *err);

/* Register the "import.run" kind (called by job_register_all). */
int job_import_register(cs_error *err);
#endif
