/* service/routes: THE routing table — every route the service answers, with the roles that may
 * call it and how its body is taken in. One line per route; keep groups together. Every
 * non-internal route must also be in schemas/openapi.yaml (tests/integration/test_openapi). */
#include "service/handlers.h"

const svc_route svc_routes[] = {
    /* method, pattern, handler, roles, flags */
    {"GET", "/healthz", h_healthz, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/readyz", h_readyz, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/metrics", h_metrics, SVC_PUBLIC, SVC_R_NOAUTH},
    /* reference data */
    {"GET", "/v1/admin-units", svc_admin_units_list, SVC_PUBLIC, 0},
    {"GET", "/v1/categories", svc_categories_list, SVC_PUBLIC, 0},
    /* households (service/h_households.c) */
    {"POST", "/v1/households", svc_households_create, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    {"GET", "/v1/households", svc_households_list, SVC_ROLES_ALL, 0},
    {"GET", "/v1/households/{code}", svc_households_get, SVC_ROLES_ALL, 0},
    {"PATCH", "/v1/households/{code}", svc_households_update, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    /* withdrawal of consent: the commune's volunteer too (issue 13), scope checked in the handler
     */
    {"DELETE", "/v1/households/{code}", svc_households_erase, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     0},
    {"POST", "/v1/households/{code}/pin", svc_households_new_pin,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON_OPT},
    /* PINs for many households without one (issue 13 point 8: imported households) */
    {"POST", "/v1/households/pins", svc_households_pins_batch, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    /* products (service/h_products.c) */
    {"POST", "/v1/households/{code}/products", svc_products_create,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON},
    {"GET", "/v1/products", svc_products_list, SVC_ROLES_ALL, 0},
    {"GET", "/v1/products/{id}", svc_products_get, SVC_ROLES_ALL, 0},
    {"PATCH", "/v1/products/{id}", svc_products_update, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    /* product images and the media store (service/h_images.c) */
    {"POST", "/v1/products/{id}/images", svc_images_upload, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_FORM},
    {"PUT", "/v1/products/{id}/images/order", svc_images_order, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    {"DELETE", "/v1/products/{id}/images/{sha256}", svc_images_delete,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"GET", "/media/{sha256}", svc_media_get, SVC_PUBLIC, SVC_R_NOAUTH},
    /* the owner's status page: code + PIN, never a token (service/h_status.c) */
    {"GET", "/v1/status/{household_code}", svc_status_get, SVC_PUBLIC, SVC_R_NOAUTH},
    {"POST", "/v1/status/{household_code}", svc_status_post, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_JSON | SVC_R_NO_IDEM},
    /* marketplaces: read-only for now (service/h_market.c) */
    {"GET", "/v1/seller-accounts", svc_accounts_list, SVC_ROLES_ALL, 0},
    {"GET", "/v1/listings", svc_listings_list, SVC_ROLES_ALL, 0},
    {"GET", "/v1/listings/{id}", svc_listings_get, SVC_ROLES_ALL, 0},
    /* marketplace flows (service/h_flows.c): onboarding, the OAuth callback and push webhooks
       (public: the marketplace signs them), packs, upload sheets, confirmations, publishing */
    {"POST", "/v1/households/{code}/accounts", svc_accounts_start,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON},
    {"GET", "/v1/households/{code}/accounts/{marketplace}/pack.html", svc_accounts_pack_html,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"GET", "/v1/households/{code}/accounts/{marketplace}/pack.xlsx", svc_accounts_pack_xlsx,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"POST", "/v1/households/{code}/accounts/{marketplace}/confirm", svc_accounts_confirm,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON},
    {"GET", "/v1/oauth/{marketplace}/callback", svc_oauth_callback, SVC_PUBLIC, SVC_R_NOAUTH},
    {"POST", "/v1/webhooks/shopee", svc_webhook_shopee, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_RAW | SVC_R_NO_IDEM},
    {"POST", "/v1/webhooks/lazada", svc_webhook_lazada, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_RAW | SVC_R_NO_IDEM},
    {"POST", "/v1/webhooks/tiktok", svc_webhook_tiktok, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_RAW | SVC_R_NO_IDEM},
    {"POST", "/v1/products/{id}/listings", svc_listings_publish,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON},
    {"GET", "/v1/products/{id}/listings/{marketplace}/sheet.xlsx", svc_listings_sheet_xlsx,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"GET", "/v1/products/{id}/listings/{marketplace}/sheet.csv", svc_listings_sheet_csv,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"POST", "/v1/listings/{id}/confirm", svc_listings_confirm, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    {"POST", "/v1/listings/{id}/republish", svc_listings_republish,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON_OPT},
    /* removal from our side (issue 16) */
    {"POST", "/v1/products/{id}/withdraw", svc_products_withdraw,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON_OPT},
    {"POST", "/v1/listings/{id}/withdrawn", svc_listings_withdrawn,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON_OPT},
    /* sales people record for postmart.vn / voso.vn (service/h_sales.c) */
    {"POST", "/v1/sales", svc_sales_create, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON},
    {"GET", "/v1/sales", svc_sales_list, SVC_ROLES_ALL, 0},
    {"GET", "/v1/sales/summary", svc_sales_summary, SVC_ROLES_ALL, 0},
    {"POST", "/v1/sales/{id}/decision", svc_sales_decide, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_JSON},
    {"POST", "/v1/status/{household_code}/sales", svc_status_sales_create, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_JSON | SVC_R_NO_IDEM},
    {"POST", "/v1/sales/{id}/evidence", svc_sales_evidence_put, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_FORM},
    {"GET", "/v1/sales/{id}/evidence", svc_sales_evidence_get, SVC_ROLES_ALL, 0},
    /* the owner's screenshot for their own pending claim: PIN in the form, never a token */
    {"POST", "/v1/status/{household_code}/sales/{id}/evidence", svc_status_sales_evidence_put,
     SVC_PUBLIC, SVC_R_NOAUTH | SVC_R_FORM | SVC_R_NO_IDEM},
    {"POST", "/v1/sales/import", svc_sales_import, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_FORM},
    /* audit trail (service/h_audit.c) */
    {"GET", "/v1/audit", svc_audit_list, SVC_ROLE_ADMIN, 0},
    /* the job queue (service/h_jobs.c) */
    {"GET", "/v1/jobs", svc_jobs_list, SVC_ROLE_ADMIN, 0},
    {"GET", "/v1/jobs/{id}", svc_jobs_get, SVC_ROLE_ADMIN, 0},
    {"POST", "/v1/jobs/{id}/retry", svc_jobs_retry, SVC_ROLE_ADMIN, SVC_R_JSON_OPT},
    {"POST", "/v1/jobs/{id}/cancel", svc_jobs_cancel, SVC_ROLE_ADMIN, SVC_R_JSON_OPT},
    /* marketplace categories: trees, mappings, mandatory attributes (service/h_catalog.c) */
    {"GET", "/v1/marketplace-categories", svc_catalog_list, SVC_ROLE_ADMIN, 0},
    {"POST", "/v1/marketplace-categories/refresh", svc_catalog_refresh, SVC_ROLE_ADMIN,
     SVC_R_JSON_OPT},
    {"GET", "/v1/marketplace-categories/{marketplace}/leaves", svc_catalog_leaves, SVC_ROLE_ADMIN,
     0},
    {"PUT", "/v1/marketplace-categories/{marketplace}/{category}", svc_catalog_map, SVC_ROLE_ADMIN,
     SVC_R_JSON},
    /* batch import (service/h_imports.c): an import is visible to the admin and its creator */
    {"POST", "/v1/imports", svc_imports_create, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER,
     SVC_R_FORM | SVC_R_SPOOL},
    {"GET", "/v1/imports/template.csv", svc_imports_template_csv, SVC_ROLES_ALL, 0},
    {"GET", "/v1/imports/template.xlsx", svc_imports_template_xlsx, SVC_ROLES_ALL, 0},
    {"GET", "/v1/imports/{id}", svc_imports_get, SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"GET", "/v1/imports/{id}/errors.csv", svc_imports_errors_csv,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    {"GET", "/v1/imports/{id}/errors.xlsx", svc_imports_errors_xlsx,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    /* targets, goals, reports and the attention list (service/h_targets.c); volunteers see
       their own communes */
    {"GET", "/v1/targets", svc_targets_get, SVC_ROLES_ALL, 0},
    {"PUT", "/v1/targets/{year}/{metric}", svc_targets_put, SVC_ROLE_ADMIN, SVC_R_JSON},
    {"GET", "/v1/reports/targets.csv", svc_reports_targets_csv, SVC_ROLES_ALL, 0},
    {"GET", "/v1/reports/targets.xlsx", svc_reports_targets_xlsx, SVC_ROLES_ALL, 0},
    /* the annual report, the CSV for Vietnamese Excel, goals from a sheet (service/h_reports.c) */
    {"POST", "/v1/targets/{year}/goals", svc_targets_goals_upload, SVC_ROLE_ADMIN, SVC_R_RAW},
    {"GET", "/v1/reports/targets-vn.csv", svc_reports_targets_csv_vn, SVC_ROLES_ALL, 0},
    {"GET", "/v1/reports/annual.xlsx", svc_reports_annual_xlsx, SVC_ROLE_ADMIN | SVC_ROLE_MONITOR,
     0},
    {"GET", "/v1/reports/annual.pdf", svc_reports_annual_pdf, SVC_ROLE_ADMIN | SVC_ROLE_MONITOR, 0},
    /* the evidence of every counted item (service/h_evidence.c, issue 12) */
    {"GET", "/v1/reports/evidence.csv", svc_reports_evidence_csv, SVC_ROLE_ADMIN | SVC_ROLE_MONITOR,
     0},
    {"GET", "/v1/reports/evidence.xlsx", svc_reports_evidence_xlsx,
     SVC_ROLE_ADMIN | SVC_ROLE_MONITOR, 0},
    {"GET", "/v1/attention", svc_attention_get, SVC_ROLE_ADMIN | SVC_ROLE_MONITOR, 0},
    /* the web room (service/h_web.c): sign-in sessions for the pages (cookie + X-CSRF-Token;
       never stored for Idempotency-Key replays), the owner's receipt QR code, static files */
    {"POST", "/v1/session", svc_session_create, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_JSON | SVC_R_NO_IDEM},
    {"GET", "/v1/session", svc_session_get, SVC_ROLES_ALL, 0},
    {"DELETE", "/v1/session", svc_session_delete, SVC_ROLES_ALL, 0},
    /* volunteers' one-time sign-in links and "đăng xuất mọi thiết bị" (issue 13) */
    {"POST", "/v1/session/link", svc_session_link, SVC_PUBLIC,
     SVC_R_NOAUTH | SVC_R_JSON | SVC_R_NO_IDEM},
    {"DELETE", "/v1/session/devices", svc_session_devices_delete, SVC_ROLES_ALL, 0},
    /* the admin's volunteers (service/h_volunteers.c); link answers never kept for replays */
    {"GET", "/v1/volunteers", svc_volunteers_list, SVC_ROLE_ADMIN, 0},
    {"POST", "/v1/volunteers", svc_volunteers_create, SVC_ROLE_ADMIN, SVC_R_JSON | SVC_R_NO_IDEM},
    {"POST", "/v1/volunteers/{id}/link", svc_volunteers_link, SVC_ROLE_ADMIN,
     SVC_R_JSON_OPT | SVC_R_NO_IDEM},
    {"POST", "/v1/volunteers/{id}/deactivate", svc_volunteers_deactivate, SVC_ROLE_ADMIN,
     SVC_R_JSON_OPT},
    {"DELETE", "/v1/volunteers/{id}/sessions", svc_volunteers_sessions_delete, SVC_ROLE_ADMIN, 0},
    {"POST", "/v1/volunteers/sheet", svc_volunteers_sheet, SVC_ROLE_ADMIN, SVC_R_RAW},
    {"GET", "/v1/households/{code}/receipt.svg", svc_households_receipt,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, 0},
    /* the public showcase (service/h_showcase.c): no sign-in, no cookie; promoted figures */
    {"GET", "/showcase", svc_showcase_list, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/showcase/products/{id}", svc_showcase_product, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/showcase/products/{id}/poster", svc_showcase_poster, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/showcase/go/{listing_id}", svc_showcase_go, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/v1/showcase/promoted", svc_showcase_promoted, SVC_ROLE_ADMIN | SVC_ROLE_MONITOR, 0},
    {"PUT", "/v1/households/{code}/showcase-consent", svc_showcase_consent_put,
     SVC_ROLE_ADMIN | SVC_ROLE_VOLUNTEER, SVC_R_JSON},
    /* the province's flagship list and the admin's decision on a proposed link (issue 12,
       service/h_flagship.c) */
    {"GET", "/v1/flagship-products", svc_flagship_list, SVC_ROLES_ALL, 0},
    {"POST", "/v1/flagship-products", svc_flagship_create, SVC_ROLE_ADMIN, SVC_R_JSON},
    {"PATCH", "/v1/flagship-products/{id}", svc_flagship_update, SVC_ROLE_ADMIN, SVC_R_JSON},
    {"POST", "/v1/products/{id}/flagship-decision", svc_products_flagship_decide, SVC_ROLE_ADMIN,
     SVC_R_JSON},
    {"GET", "/", svc_web_index, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/{file}", svc_web_file, SVC_PUBLIC, SVC_R_NOAUTH},
};
const size_t svc_routes_count = sizeof svc_routes / sizeof svc_routes[0];

/* Run by svc_server_start, in order, before it listens (metric registrations, caches); a
 * hook may run again when a test starts a second server. The NULL ends the list. */
const svc_init_hook svc_init_hooks[] = {
    svc_jobs_metrics_init,
    NULL,
};
const size_t svc_init_hooks_count = sizeof svc_init_hooks / sizeof svc_init_hooks[0] - 1;
