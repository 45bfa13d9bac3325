/* service/server: the HTTP server on libmicrohttpd — daemon set-up, the request life cycle
 * around the handlers (limits, auth, idempotency, logging, metrics) and graceful shutdown.
 * Handlers never see MHD; they use service/router.h. */
#ifndef SVC_SERVER_H
#define SVC_SERVER_H
#include "core/errors.h"

typedef struct svc_server svc_server;

/* Start listening with the http.* settings (http.port 0 = any free port). The database pool
 * must already be set up; the start-up hooks of service/routes.c run first. Returns the
 * server, or NULL with err set. */
svc_server *svc_server_start(cs_error *err);
/* The port actually bound. */
unsigned svc_server_port(const svc_server *s);
/* Graceful stop: stop accepting, let in-flight requests finish for up to grace_s seconds,
 * then close everything and free the server. Returns how many requests were still running
 * when the grace ran out (0 = clean). */
unsigned svc_server_stop(svc_server *s, unsigned grace_s);
/* Requests between their request line and their completion, now. */
unsigned svc_server_in_flight(const svc_server *s);
#endif
