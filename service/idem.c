/* service/idem: checks the Idempotency-Key header value; the idempotency_keys rows are core/idem's
 * (no SQL here). */
#include "service/idem.h"

int svc_idem_key_valid(const char *k)
{
    size_t n = 0;
    if (!k) return 0;
    for (; k[n]; n++) {
        char c = k[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= 128;
}
