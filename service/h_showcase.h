/* service/h_showcase: the public showcase (quảng bá) pages and the promoted figures. */
#ifndef SVC_H_SHOWCASE_H
#define SVC_H_SHOWCASE_H
#include "service/router.h"
int svc_showcase_list(svc_req *r);     /* GET /showcase?category=&district=&page= */
int svc_showcase_product(svc_req *r);  /* GET /showcase/products/{id} */
int svc_showcase_poster(svc_req *r);   /* GET /showcase/products/{id}/poster */
int svc_showcase_go(svc_req *r);       /* GET /showcase/go/{listing_id} */
int svc_showcase_promoted(svc_req *r); /* GET /v1/showcase/promoted?year= */
/* PUT /v1/households/{code}/showcase-consent {showcase_name_consent: bool} */
int svc_showcase_consent_put(svc_req *r);
/* Drop every cached page (tests; a change made here shows at once). */
void svc_showcase_cache_clear(void);
#endif
