/* service/h_targets: handlers of the targets, their report files and the attention list
 * (service/h_targets.c), and the JSON of the targets' progress. Prototypes only. */
#ifndef SVC_H_TARGETS_H
#define SVC_H_TARGETS_H
#include "core/targets.h"
#include "service/router.h"
#include <jansson.h>

int svc_targets_get(svc_req *r);          /* GET /v1/targets?year=&by= */
int svc_targets_put(svc_req *r);          /* PUT /v1/targets/{year}/{metric} */
int svc_reports_targets_csv(svc_req *r);  /* GET /v1/reports/targets.csv?year= */
int svc_reports_targets_xlsx(svc_req *r); /* GET /v1/reports/targets.xlsx?year= */
int svc_attention_get(svc_req *r);        /* GET /v1/attention */
/* service/h_reports.c: GET /v1/reports/targets-vn.csv?year=, /v1/reports/annual.xlsx|pdf?year=,
 * POST /v1/targets/{year}/goals (a CSV/XLSX body) */
int svc_reports_targets_csv_vn(svc_req *r);
int svc_reports_annual_xlsx(svc_req *r);
int svc_reports_annual_pdf(svc_req *r);
int svc_targets_goals_upload(svc_req *r);

/* The API's progress object (GET /v1/targets) from a progress (caller json_decref):
 *   {year, as_of, timezone, generated_at, days_in_year, days_elapsed, days_left, months_left,
 *    scope: null|[codes], metrics: [{metric, label, goal, achieved, percent, remaining,
 *    needed_per_week, needed_per_month, projection, on_track}], marketplaces: [{code, name}],
 *    sales: {orders, units, revenue_vnd} (counted order lines, core/orders.h),
 *    by, breakdown: [...] (absent for CS_BY_NONE)}
 * Breakdown rows carry `counts` {metric: n}; commune rows also `goals` and `percent` {metric:
 * n|null} and `marketplaces` {code: {metric: n}}. 0, or -1 (out of memory) with err set. */
int svc_targets_json(const cs_progress *p, json_t **out, cs_error *err);
/* cs_progress and svc_targets_json in one call (the CLI, tests and benchmarks). */
int svc_targets_progress_json(cs_db *db, int year, cs_targets_by by, vn_date today,
                              const char *const *communes, size_t ncommunes, json_t **out,
                              cs_error *err);
#endif
