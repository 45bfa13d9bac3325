/* service/idem: the HTTP side of Idempotency-Key on POST — which header values are accepted.
 * The stored replies live in core/idem (cs_idem_*); server.c hashes the request and replays. */
#ifndef SVC_IDEM_H
#define SVC_IDEM_H
#include "core/idem.h"

/* 1 when `key` is acceptable: 1–128 characters of [A-Za-z0-9._:-]. */
int svc_idem_key_valid(const char *key);
#endif
