/* service/routes: THE routing table — every route the service answers, with the roles that may
 * call it and how its body is taken in. One line per route; keep groups together. Every
 * non-internal route must also be in schemas/openapi.yaml (tests/integration/test_openapi). */
#include "service/handlers.h"

const svc_route svc_routes[] = {
    /* method, pattern, handler, roles, flags */
    {"GET", "/healthz", h_healthz, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/readyz", h_readyz, SVC_PUBLIC, SVC_R_NOAUTH},
    {"GET", "/metrics", h_metrics, SVC_PUBLIC, SVC_R_NOAUTH},
};
const size_t svc_routes_count = sizeof svc_routes / sizeof svc_routes[0];

/* Run by svc_server_start, in order, before it listens (metric registrations, caches); a
 * hook may run again when a test starts a second server. The NULL ends the list. */
const svc_init_hook svc_init_hooks[] = {
    NULL,
};
const size_t svc_init_hooks_count = sizeof svc_init_hooks / sizeof svc_init_hooks[0] - 1;
