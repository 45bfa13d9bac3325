/* service/h_targets: handlers of the targets, their report files and the attention list
 * (service/h_targets.c). Prototypes only. */
#ifndef SVC_H_TARGETS_H
#define SVC_H_TARGETS_H
#include "service/router.h"

int svc_targets_get(svc_req *r);          /* GET /v1/targets?year=&by= */
int svc_targets_put(svc_req *r);          /* PUT /v1/targets/{year}/{metric} */
int svc_reports_targets_csv(svc_req *r);  /* GET /v1/reports/targets.csv?year= */
int svc_reports_targets_xlsx(svc_req *r); /* GET /v1/reports/targets.xlsx?year= */
int svc_attention_get(svc_req *r);        /* GET /v1/attention */
#endif
