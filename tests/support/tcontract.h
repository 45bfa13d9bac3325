/* tests/support/tcontract: checks real responses against schemas/openapi.yaml — the status must
 * be documented for the operation, the Content-Type must be one it documents, and a JSON body
 * must match the documented schema (types, required members, enum/const, patterns, ranges,
 * and no member the schema does not name). Test code only. */
#ifndef TCONTRACT_H
#define TCONTRACT_H
#include <stddef.h>

/* method "GET"…, pattern as in service/routes.c ("/v1/households/{code}"). ctype may be NULL
 * (no Content-Type header). Returns 0, or -1 with the first mismatch described in err. The
 * spec is read once from schema.dir/openapi.yaml. */
int tcontract_check(const char *method, const char *pattern, long status, const char *ctype,
                    const char *body, size_t len, char *err, size_t errsz);
/* How many responses were checked so far (tests assert they did check something). */
unsigned tcontract_count(void);
void tcontract_free(void);
#endif
