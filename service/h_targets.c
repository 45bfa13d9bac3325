/* service/h_targets: progress against the yearly targets (GET /v1/targets), goals (PUT
 * /v1/targets/{year}/{metric}), the report files (GET /v1/reports/targets.csv|.xlsx) and the
 * staff's attention list (GET /v1/attention). Numbers come from core/targets and core/attention
 * as structs and rows; the JSON is built here. Volunteers see their own communes. Nothing
 * personal is returned: household codes are public. */
#include "core/attention.h"
#include "core/mem.h"
#include "core/targets.h"
#include "core/vn.h"
#include "service/read_cache.h"
#include "service/api.h"
#include "service/h_targets.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const by_values[] = {"commune", "former_district", "marketplace", "month", NULL};

/* year (default this year in Asia/Ho_Chi_Minh) and by; replies 422 and returns -1 when bad */
static int read_query(svc_req *r, int with_by, int64_t *year, cs_targets_by *by)
{
    cs_error err;
    cs_error_clear(&err);
    const char *b = NULL;
    svc_query_int(r, "year", vn_today().y, 2000, 2100, year, &err);
    if (with_by) svc_api_query_enum(r, "by", by_values, &b, &err);
    if (cs_error_failed(&err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    *by = (cs_targets_by)cs_targets_by_from_name(b);
    return 0;
}

/* ---- the progress object ------------------------------------------------------------------ */

static json_t *metric_counts(const int64_t n[CS_M__COUNT])
{
    json_t *o = json_object();
    for (int m = 0; o && m < CS_M__COUNT; m++)
        json_object_set_new(o, cs_metric_name(m), json_integer(n ? n[m] : 0));
    return o;
}

static json_t *int_or_null(int has, int64_t v)
{
    return has ? json_integer(v) : json_null();
}

static json_t *goal_json(int64_t g)
{
    return g == CS_TARGETS_NO_GOAL ? json_null() : json_integer(g);
}

static json_t *metric_json(int m, const cs_targets_metric *t)
{
    const cs_targets_pace *pc = &t->pace;
    return json_pack("{s:s,s:s,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "metric", cs_metric_name(m),
                     "label", cs_metric_label_vi(m), "goal", goal_json(t->goal), "achieved",
                     (json_int_t)t->achieved, "percent",
                     pc->has_percent ? json_real(pc->percent) : json_null(), "remaining",
                     int_or_null(pc->has_remaining, pc->remaining), "needed_per_week",
                     int_or_null(pc->has_per_week, pc->needed_per_week), "needed_per_month",
                     int_or_null(pc->has_per_month, pc->needed_per_month), "projection",
                     int_or_null(pc->has_projection, pc->projection), "on_track",
                     pc->has_on_track ? json_boolean(pc->on_track) : json_null());
}

static json_t *commune_json(const cs_targets_row *row)
{
    json_t *per_mp = json_object(), *goals = json_object(), *pct = json_object();
    for (size_t k = 0; per_mp && k < row->nmp; k++)
        json_object_set_new(per_mp, row->mp[k].code, metric_counts(row->mp[k].n));
    for (int m = 0; goals && pct && m < CS_M__COUNT; m++) {
        double v = 0;
        json_object_set_new(goals, cs_metric_name(m), goal_json(row->goal[m]));
        json_object_set_new(pct, cs_metric_name(m),
                            cs_targets_percent(row->counts[m], row->goal[m], &v) ? json_real(v)
                                                                                 : json_null());
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "commune_code", row->code,
                     "commune_name", row->name, "kind", row->kind, "former_district_code",
                     row->district_code, "former_district_name", row->district_name, "counts",
                     metric_counts(row->counts), "marketplaces", per_mp, "goals", goals, "percent",
                     pct);
}

static json_t *row_json(cs_targets_by by, const cs_targets_row *row)
{
    if (row->other)
        return by == CS_BY_MARKETPLACE
                   ? json_pack("{s:s,s:s,s:o}", "marketplace_code", "", "marketplace_name",
                               "Không rõ sàn", "counts", metric_counts(row->counts))
                   : json_pack("{s:s,s:o}", "key", row->key, "counts", metric_counts(row->counts));
    switch (by) {
    case CS_BY_MONTH:
        return json_pack("{s:i,s:o}", "month", row->month, "counts", metric_counts(row->counts));
    case CS_BY_MARKETPLACE:
        return json_pack("{s:s,s:s,s:o}", "marketplace_code", row->code, "marketplace_name",
                         row->name, "counts", metric_counts(row->counts));
    case CS_BY_DISTRICT:
        return json_pack("{s:s,s:s,s:o}", "former_district_code", row->code, "former_district_name",
                         row->name, "counts", metric_counts(row->counts));
    default:
        return commune_json(row);
    }
}

int svc_targets_json(const cs_progress *p, json_t **out, cs_error *err)
{
    *out = NULL;
    char as_of[11], gen[40];
    vn_date_iso(p->as_of, as_of);
    time_t vn = p->generated_at + 7 * 3600;
    struct tm tm;
    gmtime_r(&vn, &tm);
    strftime(gen, sizeof gen, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
    json_t *scope = p->scope ? json_array() : json_null();
    for (size_t i = 0; scope && p->scope && i < p->nscope; i++)
        json_array_append_new(scope, json_string(p->scope[i]));
    json_t *mps = json_array(), *metrics = json_array();
    for (size_t i = 0; mps && i < p->nmps; i++)
        json_array_append_new(
            mps, json_pack("{s:s,s:s}", "code", p->mps[i].code, "name", p->mps[i].name));
    int bad = 0;
    for (int m = 0; metrics && m < CS_M__COUNT; m++)
        /* every metric or none: a report must never be silently short of one */
        bad |= json_array_append_new(metrics, metric_json(m, &p->metrics[m]));
    json_t *o =
        json_pack("{s:i,s:s,s:s,s:s,s:o,s:o,s:i,s:i,s:i,s:i,s:o}", "year", p->year, "as_of", as_of,
                  "timezone", "Asia/Ho_Chi_Minh", "generated_at", gen, "scope", scope,
                  "marketplaces", mps, "days_in_year", p->calendar.days_in_year, "days_elapsed",
                  p->calendar.days_elapsed, "days_left", p->calendar.days_left, "months_left",
                  p->calendar.months_left, "metrics", metrics);
    /* a demo/training instance: the numbers are practice data ("dữ liệu mô phỏng") */
    if (o) bad |= json_object_set_new(o, "simulated", json_boolean(p->simulated));
    if (o) /* the sold target's companions: counted order lines of the year and scope */
        bad |= json_object_set_new(o, "sales",
                                   json_pack("{s:I,s:I,s:I}", "orders", (json_int_t)p->sales_orders,
                                             "units", (json_int_t)p->sales_units, "revenue_vnd",
                                             (json_int_t)p->sales_revenue_vnd));
    if (o && p->by != CS_BY_NONE) {
        json_t *rows = json_array();
        for (size_t i = 0; rows && i < p->nrows; i++)
            bad |= json_array_append_new(rows, row_json(p->by, &p->rows[i]));
        bad |= json_object_set_new(o, "by", json_string(cs_targets_by_name(p->by)));
        bad |= json_object_set_new(o, "breakdown", rows);
    }
    if (!o || bad) {
        json_decref(o);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    *out = o;
    return 0;
}

int svc_targets_progress_json(cs_db *db, int year, cs_targets_by by, vn_date today,
                              const char *const *communes, size_t ncommunes, json_t **out,
                              cs_error *err)
{
    cs_progress p;
    *out = NULL;
    if (cs_targets_progress(db, year, by, today, communes, ncommunes, &p, err)) return -1;
    int rc = svc_targets_json(&p, out, err);
    cs_targets_progress_free(&p);
    return rc;
}

/* progress for the actor: volunteers get their communes only; *p freed by the caller with
 * cs_targets_progress_free, also after a failure */
static int progress_for(svc_req *r, int year, cs_targets_by by, cs_progress *p, cs_error *err)
{
    memset(p, 0, sizeof *p);
    cs_db *db = svc_db(r, err);
    if (!db) return -1;
    const char **scope = NULL;
    size_t n = 0;
    if (svc_api_scope(r, &scope, &n)) return cs_error_set(err, CS_E_NOMEM, NULL);
    int rc = cs_targets_progress(db, year, by, vn_today(), scope, n, p, err);
    cs_free(scope);
    return rc;
}

int svc_targets_get(svc_req *r)
{
    int64_t year;
    cs_targets_by by;
    if (read_query(r, 1, &year, &by)) return 0;
    cs_error err;
    cs_error_clear(&err);
    /* kept while nothing the counters read changes (service/read_cache) */
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char key[1024];
    int64_t gen = -1;
    int keyed =
        !svc_read_cache_key(r, key, sizeof key, "targets|%lld|%d", (long long)year, (int)by);
    if (keyed) {
        int hit = svc_read_cache_reply(r, db, key, &gen);
        if (hit) return hit < 0 ? -1 : 0;
    }
    cs_progress p;
    json_t *o = NULL;
    int rc = progress_for(r, (int)year, by, &p, &err) || svc_targets_json(&p, &o, &err);
    cs_targets_progress_free(&p);
    if (rc) return svc_reply_problem(r, &err);
    return keyed ? svc_read_cache_put_reply(r, key, gen, o) : svc_reply_json(r, 200, o);
}

int svc_targets_put(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *ys = svc_param(r, "year"), *metric = svc_param(r, "metric");
    char *end = NULL;
    long year = ys ? strtol(ys, &end, 10) : 0;
    if (!ys || !*ys || *end || year < 2020 || year > 2100 || cs_metric_from_name(metric) < 0)
        return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "target");
    int64_t goal = 0;
    const char *commune = NULL;
    const cs_jfield spec[] = {
        {.name = "goal",
         .type = CS_J_INT,
         .flags = CS_JF_REQUIRED,
         .min = 0,
         .max = 100000000,
         .out = &goal},
        {.name = "commune_code",
         .type = CS_J_STRING,
         .flags = CS_JF_NULLABLE,
         .min_len = 5,
         .max_len = 5,
         .out = &commune},
        {.name = NULL},
    };
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor a = svc_audit_actor(r);
    if (cs_targets_set_goal(db, &a, (int)year, metric, commune, goal, &err))
        return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200,
                          json_pack("{s:i,s:s,s:s,s:I}", "year", (int)year, "metric", metric,
                                    "commune_code", commune ? commune : "", "goal",
                                    (json_int_t)goal));
}

static int reply_download(svc_req *r, const char *ctype, const char *name, const void *data,
                          size_t len)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    const char *const headers[] = {"Content-Disposition", disp, NULL};
    return svc_reply_bytes(r, 200, ctype, data, len, headers);
}

int svc_reports_targets_csv(svc_req *r)
{
    int64_t year;
    cs_targets_by by;
    if (read_query(r, 0, &year, &by)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_progress p;
    char *csv = NULL;
    size_t len = 0;
    if (progress_for(r, (int)year, CS_BY_COMMUNE, &p, &err) ||
        cs_targets_csv(&p, &csv, &len, &err)) {
        cs_targets_progress_free(&p);
        return svc_reply_problem(r, &err);
    }
    cs_targets_progress_free(&p);
    char name[48];
    snprintf(name, sizeof name, "chi-tieu-%d.csv", (int)year);
    int rc = reply_download(r, "text/csv; charset=utf-8", name, csv, len);
    cs_free(csv);
    return rc;
}

/* the whole file into memory (reports are a few tens of kilobytes); NULL on failure */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = NULL;
    struct stat st;
    if (!fstat(fileno(f), &st) && st.st_size > 0 && st.st_size < (16 << 20)) {
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

int svc_reports_targets_xlsx(svc_req *r)
{
    int64_t year;
    cs_targets_by by;
    if (read_query(r, 0, &year, &by)) return 0;
    cs_error err;
    cs_error_clear(&err);
    cs_progress p;
    if (progress_for(r, (int)year, CS_BY_COMMUNE, &p, &err)) {
        cs_targets_progress_free(&p);
        return svc_reply_problem(r, &err);
    }
    /* libxlsxwriter 1.1.4 writes only to a file: a private temporary one, removed at once */
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/choso-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        cs_targets_progress_free(&p);
        return svc_reply_error(r, CS_E_INTERNAL, "%s", "temporary file");
    }
    close(fd);
    int rc = cs_targets_xlsx(&p, path, &err);
    cs_targets_progress_free(&p);
    size_t len = 0;
    char *data = rc ? NULL : slurp(path, &len);
    unlink(path);
    if (rc) return svc_reply_problem(r, &err);
    if (!data) return svc_reply_error(r, CS_E_INTERNAL, "%s", "report file");
    char name[48];
    snprintf(name, sizeof name, "chi-tieu-%d.xlsx", (int)year);
    rc = reply_download(r, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        name, data, len);
    cs_free(data);
    return rc;
}

/* ---- attention list ------------------------------------------------------------------------ */

/* a section's columns as the API names them; integer columns become JSON numbers */
struct att_col {
    unsigned col;
    const char *name;
    int integer;
};

static const struct att_col att_rejected[] = {
    {CS_ATT_REJ_LISTING_ID, "listing_id", 1},
    {CS_ATT_REJ_PRODUCT_ID, "product_id", 1},
    {CS_ATT_REJ_PRODUCT_NAME, "product_name", 0},
    {CS_ATT_REJ_HOUSEHOLD_CODE, "household_code", 0},
    {CS_ATT_REJ_COMMUNE_CODE, "commune_code", 0},
    {CS_ATT_REJ_MARKETPLACE, "marketplace", 0},
    {CS_ATT_REJ_REASON_CODE, "reason_code", 0},
    {CS_ATT_REJ_REASON, "reason", 0},
    {CS_ATT_REJ_SINCE, "since", 0},
};
static const struct att_col att_dead[] = {
    {CS_ATT_DEAD_JOB_ID, "job_id", 1},           {CS_ATT_DEAD_KIND, "kind", 0},
    {CS_ATT_DEAD_ATTEMPTS, "attempts", 1},       {CS_ATT_DEAD_LAST_ERROR, "last_error", 0},
    {CS_ATT_DEAD_FINISHED_AT, "finished_at", 0},
};
static const struct att_col att_expiring[] = {
    {CS_ATT_EXP_ACCOUNT_ID, "account_id", 1},
    {CS_ATT_EXP_HOUSEHOLD_CODE, "household_code", 0},
    {CS_ATT_EXP_COMMUNE_CODE, "commune_code", 0},
    {CS_ATT_EXP_MARKETPLACE, "marketplace", 0},
    {CS_ATT_EXP_STATE, "state", 0},
    {CS_ATT_EXP_ACCESS_EXPIRES_AT, "access_expires_at", 0},
    {CS_ATT_EXP_REFRESH_EXPIRES_AT, "refresh_expires_at", 0},
};
static const struct att_col att_idle[] = {
    {CS_ATT_IDLE_HOUSEHOLD_CODE, "household_code", 0},
    {CS_ATT_IDLE_COMMUNE_CODE, "commune_code", 0},
    {CS_ATT_IDLE_ONBOARDED_AT, "onboarded_at", 0},
    {CS_ATT_IDLE_PRODUCTS, "products", 1},
};

static const struct {
    const char *name;
    const struct att_col *cols;
    size_t ncols;
} att_sections[CS_ATT__COUNT] = {
    [CS_ATT_REJECTED] = {"rejected_listings", att_rejected,
                         sizeof att_rejected / sizeof att_rejected[0]},
    [CS_ATT_DEAD_JOBS] = {"dead_jobs", att_dead, sizeof att_dead / sizeof att_dead[0]},
    [CS_ATT_EXPIRING] = {"expiring_authorisations", att_expiring,
                         sizeof att_expiring / sizeof att_expiring[0]},
    [CS_ATT_IDLE] = {"onboarded_without_live_product", att_idle,
                     sizeof att_idle / sizeof att_idle[0]},
};

/* one section: {items: [...], more: bool}; NULL kept as null */
static json_t *section(const cs_rows *q, const struct att_col *cols, size_t ncols, int limit)
{
    json_t *items = json_array();
    size_t n = cs_rows_count(q);
    for (size_t i = 0; items && i < n && i < (size_t)limit; i++) {
        json_t *o = json_object();
        for (size_t c = 0; o && c < ncols; c++) {
            unsigned col = cols[c].col;
            json_object_set_new(o, cols[c].name,
                                cs_rows_isnull(q, i, col) ? json_null()
                                : cols[c].integer         ? json_integer(cs_rows_i64(q, i, col))
                                                          : json_string(cs_rows_str(q, i, col)));
        }
        json_array_append_new(items, o);
    }
    return json_pack("{s:o,s:b}", "items", items ? items : json_array(), "more", n > (size_t)limit);
}

int svc_attention_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t limit = 100;
    if (svc_query_int(r, "limit", 100, 1, 500, &limit, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_attention a;
    if (cs_attention_load(db, limit, &a, &err)) return svc_reply_problem(r, &err);
    json_t *out = json_object();
    for (int s = 0; out && s < CS_ATT__COUNT; s++)
        if (json_object_set_new(
                out, att_sections[s].name,
                section(a.rows[s], att_sections[s].cols, att_sections[s].ncols, (int)limit))) {
            json_decref(out);
            out = NULL;
        }
    cs_attention_free(&a);
    if (!out) return svc_reply_error(r, CS_E_NOMEM, "%s", "attention");
    return svc_reply_json(r, 200, out);
}
