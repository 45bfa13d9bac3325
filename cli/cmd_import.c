/* cli/cmd_import: `choso import households|products FILE` — a spreadsheet imported from the
 * command line through the same import rows and job code as uploads (jobs/import). Prints
 * progress and counts; never prints a cell of the file (they hold personal data).
 *
 * By default the import is processed right here, in this process (no worker needed, the way an
 * operator loading a file expects); --wait instead queues the "import.run" job and follows its
 * progress, for when workers should do the work (a crash of this command then loses nothing). */
#include "core/audit.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/db.h"
#include "core/mem.h"
#include "jobs/import.h"
#include "jobs/job.h"
#include "cli/cli.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct progress {
    int tty;
    int64_t last_plain;
    struct timespec t0;
};

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A bar on a terminal; on a pipe or log, one line per 10 % (and the last). */
static void show_progress(void *arg, int64_t done, int64_t total)
{
    struct progress *p = arg;
    double s = since(&p->t0);
    int pct = total > 0 ? (int)(done * 100 / total) : 100;
    if (p->tty) {
        char bar[41];
        int fill = pct * 40 / 100;
        for (int i = 0; i < 40; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[40] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %lld/%lld dòng  %.0f dòng/s ", bar, pct, (long long)done,
                (long long)total, s > 0 ? (double)done / s : 0.0);
        if (done >= total) fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    if (done >= total || done == 0 ||
        (total > 0 && done * 10 / total != p->last_plain * 10 / total)) {
        fprintf(stderr, "choso import: %lld/%lld rows (%d%%)\n", (long long)done, (long long)total,
                pct);
        p->last_plain = done;
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

static int write_errors(cs_db *db, int64_t id, const char *path, cs_error *err)
{
    if (ends_with(path, ".xlsx")) return job_import_errors(db, id, NULL, path, err);
    FILE *f = fopen(path, "wb");
    if (!f) return cs_error_set(err, CS_E_INTERNAL, "cannot write %s", path);
    int rc = job_import_errors_file(db, id, f, err);
    if (fclose(f) && !rc) rc = cs_error_set(err, CS_E_INTERNAL, "cannot write %s", path);
    return rc;
}

/* Follow a queued import until it ends (a worker does the work). */
static int wait_for(cs_db *db, int64_t id, struct progress *p, cs_error *err)
{
    int64_t last = -1;
    for (;;) {
        json_t *o = NULL;
        if (job_import_get_json(db, id, 0, &o, NULL, err)) return -1;
        const char *state = json_string_value(json_object_get(o, "state"));
        int64_t done = json_integer_value(json_object_get(o, "rows_done"));
        int64_t total = json_integer_value(json_object_get(o, "total_rows"));
        int end = state && (!strcmp(state, "done") || !strcmp(state, "failed"));
        if (done != last && total > 0) show_progress(p, done, total), last = done;
        json_decref(o);
        if (end) return 0;
        usleep(200 * 1000);
    }
}

int cmd_import(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *config = NULL, *errors_path = NULL;
    int dry = 0, wait = 0;
    size_t npos = 0;
    const cs_opt opts[] = {
        {"--dry-run", NULL, CS_OPT_FLAG, 0, 0, &dry, NULL, "check and count only, write nothing"},
        {"--wait", NULL, CS_OPT_FLAG, 0, 0, &wait, NULL,
         "queue the import for `choso worker` and follow its progress (default: do the work in "
         "this process)"},
        {"--errors", NULL, CS_OPT_STR, 0, 0, &errors_path, "PATH",
         "error file (default FILE.errors.csv; .xlsx when PATH ends in .xlsx)"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "import", "households|products FILE [options]",
        "Imports a CSV (UTF-8, with or without BOM, ',' or ';'; Windows-1258 is converted) or "
        ".xlsx\n"
        "file. Rows that cannot be imported are written to an error file holding those rows as\n"
        "they were plus a column saying what to fix: correct it and import that file again.\n"
        "Exit status: 0 when the import finished (even with rejected rows), 1 when the file could\n"
        "not be read or the database failed, 64 for usage errors.",
        opts, argc, argv, pos, 2, &npos);
    const char *kind = pos[0], *file = pos[1];
    if (npos < 2)
        return cli_usage("import", "cần households|products và một FILE",
                         "need households|products and a FILE");
    import_kind k;
    if (!strcmp(kind, "households"))
        k = IMPORT_HOUSEHOLDS;
    else if (!strcmp(kind, "products"))
        k = IMPORT_PRODUCTS;
    else
        return cli_usage("import", "loại phải là households hoặc products",
                         "kind must be households or products");

    int rc = cli_setup(config, 1);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        cli_print_error("import", &err);
        return 1;
    }
    if (wait && job_register_all(&err)) {
        cli_print_error("import", &err);
        cs_db_close(db);
        return 1;
    }
    cs_actor actor = cs_actor_cli("import");
    /* the file is stored in slices straight from disk: a 1,000,000-row CSV is never held */
    job_import_new in = {.kind = k, .filename = file, .path = file, .dry_run = dry};
    int64_t id = 0;
    struct progress p = {.tty = isatty(STDERR_FILENO)};
    clock_gettime(CLOCK_MONOTONIC, &p.t0);
    rc = job_import_create(db, &actor, &in, wait, &id, &err);
    if (rc) goto fail;
    fprintf(stderr, "choso import: import %lld (%s%s)\n", (long long)id, kind,
            dry ? ", dry run" : "");
    if (wait ? wait_for(db, id, &p, &err) : job_import_run(db, id, show_progress, &p, NULL, &err))
        goto fail;
    double secs = since(&p.t0);

    json_t *o = NULL;
    if (job_import_get_json(db, id, 0, &o, NULL, &err)) goto fail;
    const char *state = json_string_value(json_object_get(o, "state"));
    if (state && !strcmp(state, "failed")) {
        fprintf(stderr, "choso import: the file could not be imported: %s\n",
                json_string_value(json_object_get(o, "error")));
        json_decref(o);
        cs_db_close(db);
        return 1;
    }
    long long total = json_integer_value(json_object_get(o, "total_rows"));
    long long rejected = json_integer_value(json_object_get(o, "rejected"));
    printf("import %lld %s: %lld rows in %.2f s (%.0f rows/s): %lld created, %lld updated, %lld "
           "unchanged, "
           "%lld rejected, %lld repaired%s\n",
           (long long)id, state ? state : "?", total, secs, secs > 0 ? (double)total / secs : 0.0,
           (long long)json_integer_value(json_object_get(o, "created")),
           (long long)json_integer_value(json_object_get(o, "updated")),
           (long long)json_integer_value(json_object_get(o, "unchanged")), rejected,
           (long long)json_integer_value(json_object_get(o, "repaired")),
           dry ? " (dry run: nothing written)" : "");
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(o, "warnings"), i, w) fprintf(
        stderr, "choso import: warning: %s\n", json_string_value(json_object_get(w, "message")));
    json_decref(o);
    if (rejected > 0) {
        char def[4096];
        if (!errors_path) {
            snprintf(def, sizeof def, "%s.errors.csv", file);
            errors_path = def;
        }
        if (write_errors(db, id, errors_path, &err)) goto fail;
        printf("rejected rows and what to fix: %s\n", errors_path);
    }
    cs_db_close(db);
    return 0;
fail:
    if (p.tty) fputc('\n', stderr);
    cli_print_error("import", &err);
    cs_db_close(db);
    return 1;
}
