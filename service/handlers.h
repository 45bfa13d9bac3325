/* service/handlers: the prototype of every route handler, one block per resource file
 * (service/h_*.c), so service/routes.c can list them. Append a block for a new file. */
#ifndef SVC_HANDLERS_H
#define SVC_HANDLERS_H
#include "service/router.h"

/* h_ops.c: probes and metrics */
int h_healthz(svc_req *r);
int h_readyz(svc_req *r);
int h_metrics(svc_req *r);
/* api.h: the /v1 resources (h_units, h_households, h_products, h_images, h_status, h_market,
 * h_audit), svc_* handlers */
#include "service/api.h"
/* h_jobs.c: the job queue (admin) and its metrics (start-up hook) */
int svc_jobs_list(svc_req *r);
int svc_jobs_get(svc_req *r);
int svc_jobs_retry(svc_req *r);
int svc_jobs_cancel(svc_req *r);
int svc_jobs_metrics_init(cs_error *err);
/* h_targets.c: targets, goals, report files, the attention list */
#include "service/h_targets.h"
/* h_web.c: static pages, web sessions, the owner's receipt */
#include "service/h_web.h"
#include "service/h_volunteers.h"
/* h_imports.c: batch import uploads, progress, error files, templates */
#include "service/h_imports.h"
/* h_flows.c: marketplace onboarding, OAuth callback, webhooks, packs, sheets, publish */
int svc_accounts_start(svc_req *r);
int svc_accounts_pack_html(svc_req *r);
int svc_accounts_pack_xlsx(svc_req *r);
int svc_accounts_confirm(svc_req *r);
int svc_oauth_callback(svc_req *r);
int svc_webhook_shopee(svc_req *r);
int svc_webhook_lazada(svc_req *r);
int svc_webhook_tiktok(svc_req *r);
int svc_listings_publish(svc_req *r);
int svc_listings_sheet_xlsx(svc_req *r);
int svc_listings_sheet_csv(svc_req *r);
int svc_listings_confirm(svc_req *r);
int svc_listings_republish(svc_req *r);
int svc_products_withdraw(svc_req *r);
int svc_listings_withdrawn(svc_req *r);
/* h_evidence.c: the evidence of every counted item (issue 12), admin and monitor */
int svc_reports_evidence_csv(svc_req *r);
int svc_reports_evidence_xlsx(svc_req *r);
/* h_flagship.c: the province's flagship list and decisions on proposed links (issue 12) */
int svc_flagship_list(svc_req *r);
int svc_flagship_create(svc_req *r);
int svc_flagship_update(svc_req *r);
int svc_products_flagship_decide(svc_req *r);
/* h_showcase.c: the public showcase pages, click-throughs, promoted figures */
#include "service/h_showcase.h"
#endif
