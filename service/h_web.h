/* service/h_web: handlers of the web room — static pages, sign-in sessions, the owner's
 * receipt QR code (service/h_web.c). No SQL outside that file. */
#ifndef SVC_H_WEB_H
#define SVC_H_WEB_H
#include "service/router.h"

/* GET / and GET /{file}: files of web.dir (one path segment, known types only). */
int svc_web_index(svc_req *r);
int svc_web_file(svc_req *r);
/* POST /v1/session {token} → cookie + {role, name, communes, csrf, expires_at};
 * GET /v1/session: who is signed in; DELETE /v1/session: sign out. */
int svc_session_create(svc_req *r);
int svc_session_get(svc_req *r);
int svc_session_delete(svc_req *r);
int svc_session_link(svc_req *r);
int svc_session_devices_delete(svc_req *r);
/* GET /v1/households/{code}/receipt.svg: QR code of the owner's status page (no PIN). */
int svc_households_receipt(svc_req *r);
#endif
