/* core/migrate: schema migrations (schema.dir/sql/NNN_name.sql) and reference data
 * (CSV files in schema.dir/data, upserted). Runs from `choso migrate` and tests, never per request.
 *
 * MariaDB commits implicitly before and after every DDL statement, so a file of CREATE/ALTER
 * statements cannot be applied atomically: each file runs inside START TRANSACTION … COMMIT
 * (which does make files of plain DML atomic) and its row in schema_migrations is written right
 * after its last statement, in the same transaction as whatever DML came last. A file that
 * fails half-way leaves its earlier DDL in place and is not recorded: fix the file or the
 * database by hand and run migrate again. Files are split into statements on ';' outside
 * quotes and comments (no stored programs are used, so no DELIMITER handling). */
#include "core/buf.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/instance.h"
#include "core/lease.h"
#include "core/config.h"
#include "core/mem.h"
#include "core/vn.h"
#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MIGRATE_LEASE "choso.migrate"

#define FILE_MAX ((size_t)16 << 20) /* a migration or data file larger than this is a mistake */

static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *out, const char *fmt, ...)
{
    if (!out) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("migrate: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    fflush(out);
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prefix err->detail with where it happened (file, line). */
static int fail_at(cs_error *err, const char *file, size_t line)
{
    char d[sizeof err->detail];
    snprintf(d, sizeof d, "%s", err->detail);
    if (line)
        snprintf(err->detail, sizeof err->detail, "%s line %zu: %s", file, line, d);
    else
        snprintf(err->detail, sizeof err->detail, "%s: %s", file, d);
    return -1;
}

static int read_file(const char *path, char **data, size_t *len, cs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_error_set(err, CS_E_MIGRATION_INVALID, "cannot open %s: %s", path,
                            strerror(errno));
    cs_buf b;
    cs_buf_init(&b, FILE_MAX);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (cs_buf_append(&b, chunk, n)) {
            rc = cs_error_set(err, CS_E_MIGRATION_INVALID, "%s is larger than 16 MiB", path);
            break;
        }
    if (!rc && ferror(f)) rc = cs_error_set(err, CS_E_MIGRATION_INVALID, "cannot read %s", path);
    fclose(f);
    if (!rc && !b.data && cs_buf_putc(&b, '\0')) rc = cs_error_set(err, CS_E_NOMEM, NULL);
    if (rc) {
        cs_buf_free(&b);
        return -1;
    }
    *len = b.len;
    *data = cs_buf_steal(&b);
    if (!*data) return cs_error_set(err, CS_E_NOMEM, NULL);
    return 0;
}

/* ------------------------------------------------------------- migration files --------- */

struct mfile {
    long version;
    char *name; /* "003_households_products.sql" */
    char *path;
    char sum[65];
};

struct mplan {
    struct mfile *f;
    size_t n;
};

static void plan_free(struct mplan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        cs_free(p->f[i].name);
        cs_free(p->f[i].path);
    }
    cs_free(p->f);
    p->f = NULL;
    p->n = 0;
}

static int by_version(const void *a, const void *b)
{
    const struct mfile *x = a, *y = b;
    return x->version < y->version ? -1 : x->version > y->version;
}

static int checksum_file(const char *path, char sum[65], cs_error *err)
{
    char *data;
    size_t len;
    if (read_file(path, &data, &len, err)) return -1;
    unsigned char h[32];
    cs_sha256(data, len, h);
    cs_hex(h, sizeof h, sum);
    cs_free(data);
    return 0;
}

/* Every dir/sql/NNN_*.sql, sorted by NNN, with checksums. Two files with one number fail. */
static int plan_load(const char *dir, struct mplan *p, cs_error *err)
{
    char sqldir[4096];
    snprintf(sqldir, sizeof sqldir, "%s/sql", dir);
    p->f = NULL;
    p->n = 0;
    DIR *d = opendir(sqldir);
    if (!d)
        return cs_error_set(err, CS_E_MIGRATION_INVALID, "cannot open %s: %s", sqldir,
                            strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        if (l < 7 || nm[0] < '0' || nm[0] > '9' || strcmp(nm + l - 4, ".sql")) continue;
        char *end;
        errno = 0;
        long v = strtol(nm, &end, 10);
        if (errno || *end != '_' || v < 0 || v > 99999) continue;
        if (p->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct mfile *nf = cs_realloc(p->f, nc * sizeof *nf);
            if (!nf) {
                rc = cs_error_set(err, CS_E_NOMEM, NULL);
                break;
            }
            p->f = nf;
            cap = nc;
        }
        struct mfile *m = &p->f[p->n];
        memset(m, 0, sizeof *m);
        m->version = v;
        m->name = cs_strdup(nm);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", sqldir, nm);
        m->path = cs_strdup(path);
        p->n++;
        if (!m->name || !m->path) {
            rc = cs_error_set(err, CS_E_NOMEM, NULL);
            break;
        }
        if (checksum_file(m->path, m->sum, err)) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc) {
        plan_free(p);
        return -1;
    }
    if (p->n) qsort(p->f, p->n, sizeof *p->f, by_version);
    for (size_t i = 1; i < p->n; i++)
        if (p->f[i].version == p->f[i - 1].version) {
            cs_error_set(err, CS_E_MIGRATION_INVALID,
                         "two migration files have number %ld: %s and %s", p->f[i].version,
                         p->f[i - 1].name, p->f[i].name);
            plan_free(p);
            return -1;
        }
    return 0;
}

/* The statements of one file: offsets into its text, and the line each starts on. */
struct stmt {
    size_t off, len;
    size_t line;
};

static int split_sql(const char *s, size_t n, struct stmt **out, size_t *count, const char *name,
                     cs_error *err)
{
    struct stmt *v = NULL;
    size_t nv = 0, cap = 0, line = 1, start = 0, start_line = 0;
    int content = 0;
    size_t i = 0;
    while (i <= n) {
        char c = i < n ? s[i] : ';'; /* a last statement without ';' still counts */
        if (i < n && (c == '\'' || c == '"' || c == '`')) {
            size_t qline = line;
            if (!content) content = 1, start_line = line;
            i++;
            for (;; i++) {
                if (i >= n)
                    return cs_free(v), cs_error_set(err, CS_E_MIGRATION_INVALID,
                                                    "%s line %zu: quote never closed", name, qline);
                if (s[i] == '\n') line++;
                if (s[i] == '\\' && c != '`' && i + 1 < n) {
                    i++;
                    if (s[i] == '\n') line++;
                    continue;
                }
                if (s[i] == c) break;
            }
            i++;
            continue;
        }
        if (i < n && ((c == '-' && i + 1 < n && s[i + 1] == '-' &&
                       (i + 2 >= n || s[i + 2] == ' ' || s[i + 2] == '\t' || s[i + 2] == '\n' ||
                        s[i + 2] == '\r')) ||
                      c == '#')) {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        if (i < n && c == '/' && i + 1 < n && s[i + 1] == '*') {
            size_t cline = line;
            int executable = i + 2 < n && s[i + 2] == '!';
            if (executable && !content) content = 1, start_line = line;
            i += 2;
            while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
                if (s[i] == '\n') line++;
                i++;
            }
            if (i + 1 >= n)
                return cs_free(v), cs_error_set(err, CS_E_MIGRATION_INVALID,
                                                "%s line %zu: comment never closed", name, cline);
            i += 2;
            continue;
        }
        if (c == ';') {
            if (content) {
                if (nv == cap) {
                    size_t nc = cap ? cap * 2 : 32;
                    struct stmt *nvv = cs_realloc(v, nc * sizeof *nvv);
                    if (!nvv) return cs_free(v), cs_error_set(err, CS_E_NOMEM, NULL);
                    v = nvv;
                    cap = nc;
                }
                v[nv].off = start;
                v[nv].len = (i < n ? i : n) - start;
                v[nv].line = start_line;
                nv++;
            }
            content = 0;
            start = i + 1;
            i++;
            continue;
        }
        if (c == '\n')
            line++;
        else if (c != ' ' && c != '\t' && c != '\r' && !content)
            content = 1, start_line = line;
        i++;
    }
    *out = v;
    *count = nv;
    return 0;
}

// clang-format off
static const char SQL_ENSURE_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version INT NOT NULL PRIMARY KEY,"
    "  name VARCHAR(200) NOT NULL,"
    "  checksum CHAR(64) CHARACTER SET ascii NOT NULL,"
    "  applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    "  duration_ms INT NOT NULL DEFAULT 0"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char SQL_TABLE_EXISTS[] =
    "SELECT COUNT(*)"
    " FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'";
static const char SQL_APPLIED[] =
    "SELECT version, name, checksum"
    " FROM schema_migrations"
    " ORDER BY version";
static const char SQL_APPLIED_ADD[] =
    "INSERT INTO schema_migrations (version, name, checksum, duration_ms)"
    " VALUES (?, ?, ?, ?)";
// clang-format on
/* columns of SQL_APPLIED */
enum { AP_VERSION, AP_NAME, AP_CHECKSUM };

static int ensure_table(cs_db *db, cs_error *err)
{
    return cs_db_exec(db, SQL_ENSURE_TABLE, "", err) < 0 ? -1 : 0;
}

/* Applied rows (NULL result when the table does not exist yet). */
static int applied_load(cs_db *db, cs_rows **out, cs_error *err)
{
    int64_t n;
    *out = NULL;
    if (cs_db_scalar_i64(db, &n, SQL_TABLE_EXISTS, "", err) < 0) return -1;
    if (n == 0) return 0;
    return cs_db_query(db, out, SQL_APPLIED, "", err);
}

/* Row of `applied` for a version, or -1. */
static long applied_find(const cs_rows *a, long version)
{
    for (size_t r = 0; a && r < cs_rows_count(a); r++)
        if (cs_rows_i64(a, r, AP_VERSION) == version) return (long)r;
    return -1;
}

/* Fails with CS_E_MIGRATION_CHANGED naming the first applied file whose text changed. */
static int verify_applied(const struct mplan *p, const cs_rows *a, FILE *out, cs_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        long r = applied_find(a, p->f[i].version);
        if (r < 0) continue;
        const char *was = cs_rows_str(a, (size_t)r, AP_CHECKSUM);
        if (strcmp(was, p->f[i].sum)) {
            say(out,
                "REFUSED: %s was changed after it was applied (checksum %.12s…, applied %.12s…)",
                p->f[i].name, p->f[i].sum, was);
            return cs_error_set(
                err, CS_E_MIGRATION_CHANGED,
                "%s was changed after it was applied; restore it and put the change "
                "in a new migration file",
                p->f[i].name);
        }
    }
    return 0;
}

static int apply_file(cs_db *db, const struct mfile *m, FILE *out, cs_error *err)
{
    char *text;
    size_t len;
    if (read_file(m->path, &text, &len, err)) return -1;
    struct stmt *st = NULL;
    size_t ns = 0;
    double t0 = now_s();
    int rc = split_sql(text, len, &st, &ns, m->name, err);
    if (rc) goto out;
    /* the text read now must be the text checksummed in the plan */
    unsigned char h[32];
    char sum[65];
    cs_sha256(text, len, h);
    cs_hex(h, sizeof h, sum);
    if (strcmp(sum, m->sum)) {
        rc = cs_error_set(err, CS_E_MIGRATION_CHANGED, "%s changed while migrate was running",
                          m->name);
        goto out;
    }
    if (cs_db_exec_text(db, "START TRANSACTION", 17, err) < 0) {
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < ns; i++) {
        if (cs_db_exec_text(db, text + st[i].off, st[i].len, err) < 0) {
            rc = fail_at(err, m->name, st[i].line);
            cs_error tmp;
            cs_error_clear(&tmp);
            cs_db_exec_text(db, "ROLLBACK", 8, &tmp);
            say(out,
                "FAILED: %s statement %zu of %zu (line %zu); statements before it that "
                "changed the schema stay applied (MariaDB commits DDL at once)",
                m->name, i + 1, ns, st[i].line);
            goto out;
        }
    }
    int64_t ms = (int64_t)((now_s() - t0) * 1000.0);
    if (cs_db_exec(db, SQL_APPLIED_ADD, "issi", (int64_t)m->version, m->name, m->sum, ms, err) <
            0 ||
        cs_db_exec_text(db, "COMMIT", 6, err) < 0) {
        cs_error tmp;
        cs_error_clear(&tmp);
        cs_db_exec_text(db, "ROLLBACK", 8, &tmp);
        rc = fail_at(err, m->name, 0);
        goto out;
    }
    say(out, "applied %s (%zu statements, %lld ms)", m->name, ns, (long long)ms);
out:
    cs_free(st);
    cs_free(text);
    return rc;
}

/* ------------------------------------------------------------- reference data ---------- */

struct csvtab {
    const char *name; /* file name, for messages */
    unsigned ncols;
    char **hdr;
    size_t nrows, cap;
    char **cells; /* nrows × ncols, NUL-terminated */
    char **cur;
    unsigned ncur, capcur;
    size_t line;
    int failed;
    char why[160];
};

static void csv_tab_free(struct csvtab *t)
{
    for (unsigned c = 0; t->hdr && c < t->ncols; c++)
        cs_free(t->hdr[c]);
    for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
        cs_free(t->cells[i]);
    for (unsigned c = 0; t->cur && c < t->ncur; c++)
        cs_free(t->cur[c]);
    cs_free(t->hdr);
    cs_free(t->cells);
    cs_free(t->cur);
    memset(t, 0, sizeof *t);
}

static void on_field(void *f, size_t len, void *arg)
{
    struct csvtab *t = arg;
    if (t->failed) return;
    if (t->ncur == t->capcur) {
        unsigned nc = t->capcur ? t->capcur * 2 : 16;
        char **n = cs_realloc(t->cur, nc * sizeof *n);
        if (!n) {
            t->failed = 1;
            snprintf(t->why, sizeof t->why, "out of memory");
            return;
        }
        t->cur = n;
        t->capcur = nc;
    }
    char *v = cs_strndup(f ? f : "", f ? len : 0);
    if (!v) {
        t->failed = 1;
        snprintf(t->why, sizeof t->why, "out of memory");
        return;
    }
    t->cur[t->ncur++] = v;
}

static void on_row(int c, void *arg)
{
    (void)c;
    struct csvtab *t = arg;
    t->line++;
    if (t->failed) return;
    if (!t->hdr) {
        t->hdr = t->cur;
        t->ncols = t->ncur;
        t->cur = NULL;
        t->ncur = t->capcur = 0;
        return;
    }
    if (t->ncur != t->ncols) {
        t->failed = 1;
        snprintf(t->why, sizeof t->why, "line %zu has %u fields, the header has %u", t->line,
                 t->ncur, t->ncols);
        return;
    }
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        char **n = cs_realloc(t->cells, nc * t->ncols * sizeof *n);
        if (!n) {
            t->failed = 1;
            snprintf(t->why, sizeof t->why, "out of memory");
            return;
        }
        t->cells = n;
        t->cap = nc;
    }
    memcpy(t->cells + t->nrows * t->ncols, t->cur, t->ncols * sizeof *t->cur);
    t->nrows++;
    t->ncur = 0;
}

/* Parse dir/data/<name> (RFC 4180, first line = column names). Returns 0, 1 when the file does
 * not exist and !required, or -1. */
static int csv_load(const char *dir, const char *name, int required, struct csvtab *t,
                    cs_error *err)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    char path[4096];
    snprintf(path, sizeof path, "%s/data/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) && errno == ENOENT && !required) return 1;
    char *data;
    size_t len;
    if (read_file(path, &data, &len, err)) return -1;
    size_t skip = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0; /* UTF-8 BOM */
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI)) {
        cs_free(data);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    int rc = 0;
    if (csv_parse(&p, data + skip, len - skip, on_field, on_row, t) != len - skip ||
        csv_fini(&p, on_field, on_row, t)) {
        rc = cs_error_set(err, CS_E_MIGRATION_INVALID, "%s: not valid CSV near line %zu (%s)", name,
                          t->line + 1, csv_strerror(csv_error(&p)));
    } else if (t->failed) {
        rc = cs_error_set(err, CS_E_MIGRATION_INVALID, "%s: %s", name, t->why);
    } else if (!t->hdr) {
        rc = cs_error_set(err, CS_E_MIGRATION_INVALID, "%s: empty file", name);
    }
    csv_free(&p);
    cs_free(data);
    if (rc) csv_tab_free(t);
    return rc;
}

/* Column index by header name; -1 with err naming the file and column when required. */
static int csv_col(const struct csvtab *t, const char *col, int required, cs_error *err)
{
    for (unsigned c = 0; c < t->ncols; c++)
        if (!strcmp(t->hdr[c], col)) return (int)c;
    if (required) cs_error_set(err, CS_E_MIGRATION_INVALID, "%s: no column '%s'", t->name, col);
    return -1;
}

static const char *cell(const struct csvtab *t, size_t r, int c)
{
    return c < 0 ? "" : t->cells[r * t->ncols + (unsigned)c];
}

/* Counts for one table. */
struct load {
    struct csvtab *t;
    const char *table;
    int cols[8];
    unsigned long ins, upd, same, del;
    unsigned long link_ins, link_same, link_del;
};

static void tally(struct load *L, int64_t affected)
{
    if (affected == 1)
        L->ins++;
    else if (affected >= 2)
        L->upd++;
    else
        L->same++;
}

static void load_reset(struct load *L)
{
    L->ins = L->upd = L->same = L->del = 0;
    L->link_ins = L->link_same = L->link_del = 0;
}

/* A failed row: name the file and its line (header = line 1). */
static int row_fail(struct load *L, size_t r, cs_error *err)
{
    return fail_at(err, L->t->name, r + 2);
}

// clang-format off
static const char SQL_DISTRICT_PUT[] =
    "INSERT INTO admin_districts (code, name, kind)"
    " VALUES (?, ?, ?)"
    " ON DUPLICATE KEY UPDATE name = VALUES(name), kind = VALUES(kind)";
static const char SQL_PROVINCE_PUT[] =
    "INSERT INTO provinces (code, name, cccd_prefix)"
    " VALUES (?, ?, ?)"
    " ON DUPLICATE KEY UPDATE name = VALUES(name), cccd_prefix = VALUES(cccd_prefix)";
// clang-format on

static int body_districts(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        int64_t n = cs_db_exec(db, SQL_DISTRICT_PUT, "sss", cell(L->t, r, L->cols[0]),
                               cell(L->t, r, L->cols[1]), cell(L->t, r, L->cols[2]), err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

// clang-format off
static const char SQL_MERGE_PUT[] =
    "INSERT INTO commune_merges (old_code, new_code, old_name, old_district_code, merge_type)"
    " VALUES (?, ?, ?, NULLIF(?, ''), ?)"
    " ON DUPLICATE KEY UPDATE old_name = VALUES(old_name),"
    "   old_district_code = VALUES(old_district_code), merge_type = VALUES(merge_type)";
// clang-format on

/* The 2025 merger: old commune/ward → new one(s), 'full' or 'partial' (issue 12). */
static int body_merges(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        const char *type = cell(L->t, r, L->cols[4]);
        if (strcmp(type, "full") && strcmp(type, "partial")) {
            cs_error_set(err, CS_E_MIGRATION_INVALID, "merge_type '%.20s' is not full|partial",
                         type);
            return row_fail(L, r, err);
        }
        int64_t n = cs_db_exec(db, SQL_MERGE_PUT, "sssss", cell(L->t, r, L->cols[0]),
                               cell(L->t, r, L->cols[1]), cell(L->t, r, L->cols[2]),
                               cell(L->t, r, L->cols[3]), type, err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

static int body_provinces(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        int64_t n = cs_db_exec(db, SQL_PROVINCE_PUT, "sss", cell(L->t, r, L->cols[0]),
                               cell(L->t, r, L->cols[1]), cell(L->t, r, L->cols[2]), err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

/* The ';'-separated district list of a unit, as at most 8 codes of 3 digits. */
static int district_list(const char *s, char codes[8][4], unsigned *n)
{
    *n = 0;
    while (*s) {
        const char *e = strchr(s, ';');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        while (l && (*s == ' '))
            s++, l--;
        while (l && s[l - 1] == ' ')
            l--;
        if (l != 3 || *n >= 8) return -1;
        for (size_t i = 0; i < 3; i++)
            if (s[i] < '0' || s[i] > '9') return -1;
        memcpy(codes[*n], s, 3);
        codes[*n][3] = '\0';
        (*n)++;
        if (!e) break;
        s = e + 1;
    }
    return *n ? 0 : -1;
}

// clang-format off
static const char SQL_UNIT_PUT[] =
    "INSERT INTO admin_units (code, name, name_folded, kind, primary_district_code)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE name = VALUES(name), name_folded = VALUES(name_folded),"
    "   kind = VALUES(kind), primary_district_code = VALUES(primary_district_code)";
static const char SQL_UNIT_LINK_PUT[] =
    "INSERT INTO admin_unit_districts (unit_code, district_code)"
    " VALUES (?, ?)"
    " ON DUPLICATE KEY UPDATE district_code = district_code";
static const char SQL_UNIT_LINKS[] =
    "SELECT unit_code, district_code"
    " FROM admin_unit_districts";
static const char SQL_UNIT_LINK_DEL[] =
    "DELETE FROM admin_unit_districts"
    " WHERE unit_code = ? AND district_code = ?";
// clang-format on
/* columns of SQL_UNIT_LINKS */
enum { UL_UNIT, UL_DISTRICT };

static int body_units(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        const char *code = cell(L->t, r, L->cols[0]), *name = cell(L->t, r, L->cols[1]);
        char d[8][4];
        unsigned nd;
        if (district_list(cell(L->t, r, L->cols[3]), d, &nd)) {
            cs_error_set(err, CS_E_MIGRATION_INVALID,
                         "former_district_codes must be 3-digit codes separated by ';'");
            return row_fail(L, r, err);
        }
        char *folded = vn_fold(name);
        if (!folded) {
            cs_error_set(err, CS_E_MIGRATION_INVALID, "name is not valid UTF-8");
            return row_fail(L, r, err);
        }
        int64_t n = cs_db_exec(db, SQL_UNIT_PUT, "sssss", code, name, folded,
                               cell(L->t, r, L->cols[2]), d[0], err);
        cs_free(folded);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
        for (unsigned i = 0; i < nd; i++) {
            n = cs_db_exec(db, SQL_UNIT_LINK_PUT, "ss", code, d[i], err);
            if (n < 0) return row_fail(L, r, err);
            if (n == 1)
                L->link_ins++;
            else
                L->link_same++;
        }
    }
    /* links the file no longer lists go (a unit's territory list was corrected) */
    cs_rows *links;
    if (cs_db_query(db, &links, SQL_UNIT_LINKS, "", err)) return -1;
    for (size_t i = 0; i < cs_rows_count(links); i++) {
        const char *u = cs_rows_str(links, i, UL_UNIT), *dc = cs_rows_str(links, i, UL_DISTRICT);
        int listed = 0;
        for (size_t r = 0; r < L->t->nrows && !listed; r++) {
            if (strcmp(cell(L->t, r, L->cols[0]), u)) continue;
            char d[8][4];
            unsigned nd;
            if (district_list(cell(L->t, r, L->cols[3]), d, &nd)) continue;
            for (unsigned k = 0; k < nd; k++)
                if (!strcmp(d[k], dc)) listed = 1;
        }
        if (listed) continue;
        if (cs_db_exec(db, SQL_UNIT_LINK_DEL, "ss", u, dc, err) < 0) {
            cs_rows_free(links);
            return -1;
        }
        L->link_del++;
    }
    cs_rows_free(links);
    return 0;
}

// clang-format off
static const char SQL_CATEGORY_PUT[] =
    "INSERT INTO categories (code, name_vi, name_en)"
    " VALUES (?, ?, ?)"
    " ON DUPLICATE KEY UPDATE name_vi = VALUES(name_vi), name_en = VALUES(name_en)";
static const char SQL_CATEGORY_EXISTS[] =
    "SELECT COUNT(*)"
    " FROM categories"
    " WHERE code = ?";
static const char SQL_MARKETPLACE_EXISTS[] =
    "SELECT COUNT(*)"
    " FROM marketplaces"
    " WHERE code = ?";
// clang-format on

static int body_categories(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        int64_t n = cs_db_exec(db, SQL_CATEGORY_PUT, "sss", cell(L->t, r, L->cols[0]),
                               cell(L->t, r, L->cols[1]), cell(L->t, r, L->cols[2]), err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

static int exists(cs_db *db, const char *sql, const char *key, cs_error *err)
{
    int64_t n;
    if (cs_db_scalar_i64(db, &n, sql, "s", key, err) < 0) return -1;
    return n > 0;
}

/* Names are unique under an accent-insensitive collation: two rows that differ only in
 * accents would overwrite each other on every run, so they are refused up front. */
static int flagship_names_distinct(struct load *L, cs_error *err)
{
    size_t n = L->t->nrows;
    char **f = cs_calloc(n ? n : 1, sizeof *f);
    if (!f) return cs_error_set(err, CS_E_NOMEM, NULL);
    int rc = 0;
    for (size_t r = 0; r < n && !rc; r++) {
        f[r] = vn_fold(cell(L->t, r, L->cols[0]));
        if (!f[r]) {
            cs_error_set(err, CS_E_MIGRATION_INVALID, "name is not valid UTF-8");
            rc = row_fail(L, r, err);
            break;
        }
        for (size_t q = 0; q < r; q++)
            if (!strcmp(f[q], f[r])) {
                cs_error_set(err, CS_E_MIGRATION_INVALID,
                             "same name as line %zu (names must differ in more than accents)",
                             q + 2);
                rc = row_fail(L, r, err);
                break;
            }
    }
    for (size_t r = 0; r < n; r++)
        cs_free(f[r]);
    cs_free(f);
    return rc;
}

// clang-format off
static const char SQL_FLAGSHIP_PUT[] =
    "INSERT INTO flagship_products (name, name_folded, category, origin_place, ocop_stars)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE name_folded = VALUES(name_folded), category = VALUES(category),"
    "   origin_place = VALUES(origin_place), ocop_stars = VALUES(ocop_stars)";
static const char SQL_FLAGSHIP_PUT_NO_STARS[] =
    "INSERT INTO flagship_products (name, name_folded, category, origin_place, ocop_stars)"
    " VALUES (?, ?, ?, ?, NULL)"
    " ON DUPLICATE KEY UPDATE name_folded = VALUES(name_folded), category = VALUES(category),"
    "   origin_place = VALUES(origin_place), ocop_stars = NULL";
// clang-format on

static int body_flagship(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    if (flagship_names_distinct(L, err)) return -1;
    for (size_t r = 0; r < L->t->nrows; r++) {
        const char *name = cell(L->t, r, L->cols[0]), *cat = cell(L->t, r, L->cols[1]);
        const char *stars = cell(L->t, r, L->cols[3]);
        int ok = exists(db, SQL_CATEGORY_EXISTS, cat, err);
        if (ok < 0) return row_fail(L, r, err);
        if (!ok) {
            cs_error_set(err, CS_E_MIGRATION_INVALID, "category '%.40s' is not in categories.csv",
                         cat);
            return row_fail(L, r, err);
        }
        int64_t nstars = 0;
        if (*stars) {
            if (stars[0] < '1' || stars[0] > '5' || stars[1]) {
                cs_error_set(err, CS_E_MIGRATION_INVALID, "ocop_stars must be empty or 1..5");
                return row_fail(L, r, err);
            }
            nstars = stars[0] - '0';
        }
        char *folded = vn_fold(name);
        if (!folded) {
            cs_error_set(err, CS_E_MIGRATION_INVALID, "name is not valid UTF-8");
            return row_fail(L, r, err);
        }
        int64_t n = cs_db_exec(db, *stars ? SQL_FLAGSHIP_PUT : SQL_FLAGSHIP_PUT_NO_STARS,
                               *stars ? "ssssi" : "ssss", name, folded, cat,
                               cell(L->t, r, L->cols[2]), nstars, err);
        cs_free(folded);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

// clang-format off
static const char SQL_MARKETPLACE_PUT[] =
    "INSERT INTO marketplaces (code, name, kind, public_domain, display_order, rate_per_sec,"
    "                          concurrency)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE name = VALUES(name), kind = VALUES(kind),"
    "   public_domain = VALUES(public_domain), display_order = VALUES(display_order),"
    "   rate_per_sec = VALUES(rate_per_sec), concurrency = VALUES(concurrency)";
static const char SQL_CATEGORY_MAP_PUT[] =
    "INSERT INTO category_map (category, marketplace_code, external_category_id,"
    "                          external_category_name, attributes)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE"
    /* a mapping a person made on the admin page (mapped_by set) outlives the shipped CSV */
    "   external_category_id = IF(mapped_by IS NULL, VALUES(external_category_id),"
    "     external_category_id),"
    "   external_category_name = IF(mapped_by IS NULL, VALUES(external_category_name),"
    "     external_category_name),"
    "   attributes = IF(mapped_by IS NULL, VALUES(attributes), attributes)";
static const char SQL_TARGET_PUT[] =
    "INSERT INTO targets (year, metric, commune_code, goal)"
    " VALUES (?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE goal = goal";
// clang-format on

static int body_marketplaces(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        int64_t n = cs_db_exec(db, SQL_MARKETPLACE_PUT, "sssssss", cell(L->t, r, L->cols[0]),
                               cell(L->t, r, L->cols[1]), cell(L->t, r, L->cols[2]),
                               cell(L->t, r, L->cols[3]), cell(L->t, r, L->cols[4]),
                               cell(L->t, r, L->cols[5]), cell(L->t, r, L->cols[6]), err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

static int body_category_map(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        const char *cat = cell(L->t, r, L->cols[0]), *mp = cell(L->t, r, L->cols[1]);
        const char *attrs = cell(L->t, r, L->cols[4]);
        int ok = exists(db, SQL_CATEGORY_EXISTS, cat, err);
        if (ok < 0) return row_fail(L, r, err);
        if (!ok) {
            cs_error_set(err, CS_E_MIGRATION_INVALID, "category '%.40s' is not in categories.csv",
                         cat);
            return row_fail(L, r, err);
        }
        ok = exists(db, SQL_MARKETPLACE_EXISTS, mp, err);
        if (ok < 0) return row_fail(L, r, err);
        if (!ok) {
            cs_error_set(err, CS_E_MIGRATION_INVALID,
                         "marketplace '%.20s' is not in marketplaces.csv", mp);
            return row_fail(L, r, err);
        }
        if (*attrs) {
            json_error_t je;
            json_t *j = json_loads(attrs, JSON_REJECT_DUPLICATES, &je);
            int is_obj = j && json_is_object(j);
            json_decref(j);
            if (!is_obj) {
                cs_error_set(err, CS_E_MIGRATION_INVALID,
                             "attributes_json must be empty or a JSON object");
                return row_fail(L, r, err);
            }
        }
        int64_t n =
            cs_db_exec(db, SQL_CATEGORY_MAP_PUT, "sssss", cat, mp, cell(L->t, r, L->cols[2]),
                       cell(L->t, r, L->cols[3]), *attrs ? attrs : NULL, err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

/* Goals are inserted when absent and never overwritten: admins may have changed them. */
static int body_targets(cs_db *db, void *arg, cs_error *err)
{
    struct load *L = arg;
    load_reset(L);
    for (size_t r = 0; r < L->t->nrows; r++) {
        int64_t n = cs_db_exec(db, SQL_TARGET_PUT, "ssss", cell(L->t, r, L->cols[0]),
                               cell(L->t, r, L->cols[1]), cell(L->t, r, L->cols[3]),
                               cell(L->t, r, L->cols[2]), err);
        if (n < 0) return row_fail(L, r, err);
        tally(L, n);
    }
    return 0;
}

struct dataset {
    const char *file, *table;
    int required;
    const char *cols[8]; /* a leading '?' marks an optional column */
    cs_tx_fn body;
};

/* In dependency order: units need districts, products need categories, the map needs both. */
static const struct dataset datasets[] = {
    {"thanhhoa_districts_pre2025.csv",
     "admin_districts",
     1,
     {"code", "name", "kind"},
     body_districts},
    {"vn_provinces_pre2025.csv", "provinces", 1, {"code", "name", "cccd_prefix"}, body_provinces},
    {"thanhhoa_communes.csv",
     "admin_units",
     1,
     {"code", "name", "kind", "former_district_codes"},
     body_units},
    {"thanhhoa_commune_merges_detail.csv",
     "commune_merges",
     0,
     {"old_code", "new_code", "old_name_20250301", "?old_district_code_pre2025", "merge_type"},
     body_merges},
    {"categories.csv", "categories", 1, {"code", "name_vi", "name_en"}, body_categories},
    {"thanhhoa_products.csv",
     "flagship_products",
     1,
     {"name", "category", "origin_place", "ocop_stars"},
     body_flagship},
    {"marketplaces.csv",
     "marketplaces",
     1,
     {"code", "name", "kind", "public_domain", "display_order", "rate_per_sec", "concurrency"},
     body_marketplaces},
    {"category_map.csv",
     "category_map",
     0,
     {"category", "marketplace_code", "external_category_id", "external_category_name",
      "attributes_json"},
     body_category_map},
    {"targets.csv", "targets", 1, {"year", "metric", "goal", "?commune_code"}, body_targets},
};

static int load_data(cs_db *db, const char *dir, FILE *out, cs_migrate_report *rep, cs_error *err)
{
    for (size_t i = 0; i < sizeof datasets / sizeof datasets[0]; i++) {
        const struct dataset *ds = &datasets[i];
        struct csvtab t;
        int lr = csv_load(dir, ds->file, ds->required, &t, err);
        if (lr < 0) return -1;
        if (lr == 1) {
            say(out, "data %s: no %s, nothing to load", ds->table, ds->file);
            continue;
        }
        struct load L;
        memset(&L, 0, sizeof L);
        L.t = &t;
        L.table = ds->table;
        int rc = 0;
        for (int c = 0; c < 8 && ds->cols[c] && !rc; c++) {
            int optional = ds->cols[c][0] == '?';
            L.cols[c] = csv_col(&t, ds->cols[c] + optional, !optional, err);
            if (L.cols[c] < 0 && !optional) rc = -1;
        }
        if (!rc) rc = cs_db_tx(db, ds->body, &L, err);
        csv_tab_free(&t);
        if (rc) {
            say(out, "FAILED: loading %s into %s: %s", ds->file, ds->table, err->detail);
            return -1;
        }
        if (ds->body == body_targets)
            say(out,
                "data %s ← %s: %lu rows, %lu inserted, %lu kept as they were (goals are never "
                "overwritten)",
                ds->table, ds->file, L.ins + L.upd + L.same, L.ins, L.upd + L.same);
        else
            say(out, "data %s ← %s: %lu rows, %lu inserted, %lu updated, %lu unchanged", ds->table,
                ds->file, L.ins + L.upd + L.same, L.ins, L.upd, L.same);
        if (ds->body == body_units)
            say(out,
                "data admin_unit_districts ← %s: %lu links, %lu inserted, %lu unchanged, %lu "
                "removed",
                ds->file, L.link_ins + L.link_same, L.link_ins, L.link_same, L.link_del);
        if (rep) {
            rep->rows_inserted += L.ins + L.link_ins;
            rep->rows_updated += L.upd;
            rep->rows_unchanged += L.same + L.link_same;
            rep->rows_deleted += L.del + L.link_del;
        }
    }
    return 0;
}

/* Issue 12: seller accounts and listings made before 092_environments record no environment;
 * give them their marketplace's present `<code>.mode` (core/instance.h) once. Only NULLs are
 * written, so a row's environment is never rewritten; a schema without the column (a partial
 * schema directory) is left alone. */
// clang-format off
enum { EC_CODE };
static const char SQL_ENV_COLUMNS[] =
    "SELECT COUNT(*)"
    " FROM information_schema.columns"
    " WHERE table_schema = DATABASE() AND column_name = 'env'"
    "  AND table_name IN ('seller_accounts', 'listings')";
static const char SQL_ENV_MARKETPLACES[] =
    "SELECT code"
    " FROM marketplaces";
static const char SQL_ENV_ACCOUNTS[] =
    "UPDATE seller_accounts"
    " SET env = ?"
    " WHERE env IS NULL AND marketplace_code = ?";
static const char SQL_ENV_LISTINGS[] =
    "UPDATE listings l"
    " LEFT JOIN seller_accounts a ON a.id = l.account_id"
    " SET l.env = COALESCE(a.env, ?)"
    " WHERE l.env IS NULL AND l.marketplace_code = ?";
// clang-format on

static int classify_env(cs_db *db, FILE *out, cs_error *err)
{
    int64_t ncol = 0;
    if (cs_db_scalar_i64(db, &ncol, SQL_ENV_COLUMNS, "", err) < 0) return -1;
    if (ncol != 2) return 0;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ENV_MARKETPLACES, "", err)) return -1;
    int64_t accounts = 0, listings = 0;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        const char *code = cs_rows_str(r, i, EC_CODE);
        const char *env = cs_marketplace_env(code);
        int64_t a = cs_db_exec(db, SQL_ENV_ACCOUNTS, "ss", env, code, err);
        int64_t l = a < 0 ? -1 : cs_db_exec(db, SQL_ENV_LISTINGS, "ss", env, code, err);
        if (a < 0 || l < 0) {
            cs_rows_free(r);
            return -1;
        }
        accounts += a;
        listings += l;
    }
    cs_rows_free(r);
    if (accounts || listings)
        say(out, "environment recorded from the settings: %lld seller accounts, %lld listings",
            (long long)accounts, (long long)listings);
    return 0;
}

/* ------------------------------------------------------------- entry points ------------ */

static const char *schema_dir(const char *dir)
{
    return dir && *dir ? dir : cs_cfg_str("schema.dir");
}

int cs_db_migrate_ex(cs_db *db, const char *dir, void *out_, cs_migrate_report *rep, cs_error *err)
{
    FILE *out = out_;
    cs_migrate_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    double t0 = now_s();
    dir = schema_dir(dir);
    struct mplan plan = {0};
    cs_rows *applied = NULL;
    int rc = -1, locked = 0;

    if (plan_load(dir, &plan, err)) goto out;
    rep->files = (unsigned)plan.n;
    /* one migrate at a time per database (several services may start together, on several
     * Galera nodes): a lease row, since GET_LOCK only excludes on one node. 600 s outlasts
     * any migration file; a crashed migrate frees it when it expires. */
    if (cs_lease_ensure_table(db, err)) goto out;
    int lk = cs_lease_wait(db, MIGRATE_LEASE, 600, 120, err);
    if (lk < 0) goto out;
    if (lk == 0) {
        cs_error_set(err, CS_E_UNAVAILABLE, "another choso migrate held the lease for 120 s");
        goto out;
    }
    locked = 1;
    if (ensure_table(db, err) || applied_load(db, &applied, err)) goto out;
    if (verify_applied(&plan, applied, out, err)) goto out;
    for (size_t r = 0; applied && r < cs_rows_count(applied); r++) {
        long v = (long)cs_rows_i64(applied, r, AP_VERSION);
        int known = 0;
        for (size_t i = 0; i < plan.n; i++)
            known |= plan.f[i].version == v;
        if (!known)
            say(out,
                "note: %s is applied but its file is not in %s/sql (a newer version of choso?)",
                cs_rows_str(applied, r, AP_NAME), dir);
    }
    for (size_t i = 0; i < plan.n; i++) {
        if (applied_find(applied, plan.f[i].version) >= 0) {
            rep->already++;
            continue;
        }
        /* renewed before each file, so a long run keeps it and a lost one is noticed */
        int still = cs_lease_take(db, MIGRATE_LEASE, 600, NULL, err);
        if (still < 0) goto out;
        if (still == 0) {
            locked = 0;
            cs_error_set(err, CS_E_UNAVAILABLE, "the migrate lease expired and was taken over");
            goto out;
        }
        if (apply_file(db, &plan.f[i], out, err)) goto out;
        rep->applied++;
    }
    if (rep->applied == 0)
        say(out, "schema up to date: %u migrations applied before, nothing to apply", rep->already);
    if (load_data(db, dir, out, rep, err) || classify_env(db, out, err)) goto out;
    rep->seconds = now_s() - t0;
    say(out,
        "done in %.2f s: %u migrations applied now, %u before; reference data %lu inserted, %lu "
        "updated, "
        "%lu unchanged, %lu removed",
        rep->seconds, rep->applied, rep->already, rep->rows_inserted, rep->rows_updated,
        rep->rows_unchanged, rep->rows_deleted);
    rc = 0;
out:
    if (locked) {
        cs_error rel;
        cs_error_clear(&rel);
        cs_lease_release(db, MIGRATE_LEASE, &rel);
    }
    cs_rows_free(applied);
    plan_free(&plan);
    return rc;
}

int cs_db_migrate(cs_db *db, void *out, cs_error *err)
{
    return cs_db_migrate_ex(db, NULL, out, NULL, err);
}

int cs_db_migrate_status(cs_db *db, const char *dir, void *out_, cs_error *err)
{
    FILE *out = out_;
    dir = schema_dir(dir);
    struct mplan plan = {0};
    cs_rows *applied = NULL;
    if (plan_load(dir, &plan, err)) return -1;
    if (applied_load(db, &applied, err)) {
        plan_free(&plan);
        return -1;
    }
    int pending = 0;
    const char *changed = NULL;
    for (size_t i = 0; i < plan.n; i++) {
        long r = applied_find(applied, plan.f[i].version);
        if (r < 0) {
            pending = 1;
            if (out) fprintf(out, "pending  %s\n", plan.f[i].name);
        } else if (strcmp(cs_rows_str(applied, (size_t)r, AP_CHECKSUM), plan.f[i].sum)) {
            if (!changed) changed = plan.f[i].name;
            if (out)
                fprintf(out, "CHANGED  %s (the file differs from what was applied)\n",
                        plan.f[i].name);
        } else if (out) {
            fprintf(out, "applied  %s\n", plan.f[i].name);
        }
    }
    int rc = pending;
    if (changed) {
        cs_error_set(err, CS_E_MIGRATION_CHANGED,
                     "%s was changed after it was applied; restore it and put the change in a new "
                     "migration file",
                     changed);
        rc = -1;
    }
    cs_rows_free(applied);
    plan_free(&plan);
    return rc;
}

int cs_db_migrations_pending(cs_db *db, cs_error *err)
{
    return cs_db_migrate_status(db, NULL, NULL, err);
}
