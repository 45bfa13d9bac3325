/* service/h_ops: the operations routes — liveness, readiness (database reachable and migrated)
 * and the Prometheus exposition. No personal data can reach these answers. */
#include "core/buf.h"
#include "core/log.h"
#include "service/handlers.h"
#include "service/metrics.h"

int h_healthz(svc_req *r)
{
    return svc_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

int h_readyz(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    int pending = db ? cs_db_migrations_pending(db, &err) : -1;
    if (pending == 0) return svc_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
    if (pending > 0) cs_error_set(&err, CS_E_NOT_MIGRATED, NULL);
    /* A probe answer, not a failure of ours: 503 whatever the database said. */
    if (cs_code_status(err.code) != 503) {
        cs_warn("readyz", "database check failed: %s", cs_code_name(err.code));
        cs_error_set(&err, CS_E_DB, NULL);
    }
    return svc_reply_problem(r, &err);
}

int h_metrics(svc_req *r)
{
    cs_buf b;
    cs_buf_init(&b, (size_t)4 << 20);
    int bad = svc_metrics_render(&b);
    if (bad) {
        cs_buf_free(&b);
        return svc_reply_error(r, CS_E_NOMEM, "metrics exposition too large");
    }
    int rc = svc_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                             b.data ? b.data : "", b.len, NULL);
    cs_buf_free(&b);
    return rc;
}
