/* service/h_imports: the batch-import routes (upload, progress, error files, templates). */
#ifndef SVC_H_IMPORTS_H
#define SVC_H_IMPORTS_H
#include "service/router.h"
int svc_imports_create(svc_req *r);
int svc_imports_get(svc_req *r);
int svc_imports_errors_csv(svc_req *r);
int svc_imports_errors_xlsx(svc_req *r);
int svc_imports_template_csv(svc_req *r);
int svc_imports_template_xlsx(svc_req *r);
#endif
