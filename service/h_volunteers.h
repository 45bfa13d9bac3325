/* service/h_volunteers: the admin's volunteer routes (see service/routes.c). */
#ifndef SVC_H_VOLUNTEERS_H
#define SVC_H_VOLUNTEERS_H
#include "service/router.h"

int svc_volunteers_create(svc_req *r);
int svc_volunteers_list(svc_req *r);
int svc_volunteers_link(svc_req *r);
int svc_volunteers_deactivate(svc_req *r);
int svc_volunteers_sessions_delete(svc_req *r);
int svc_volunteers_sheet(svc_req *r);
#endif
