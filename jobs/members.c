/* jobs/members: worker rows and heartbeats (see members.h). One upsert per heartbeat per
 * worker, one count; never a row per marketplace request. */
#include "jobs/members.h"
#include <stdint.h>

// clang-format off
static const char SQL_BEAT[] =
    "INSERT INTO workers (id, started_at, beat_at, expires_at)"
    " VALUES (?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + INTERVAL ? SECOND)"
    " ON DUPLICATE KEY UPDATE"
    " beat_at = UTC_TIMESTAMP(3), expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND";
static const char SQL_LIVE[] =
    "SELECT COUNT(*)"
    " FROM workers"
    " WHERE expires_at > UTC_TIMESTAMP(3)";
static const char SQL_LEAVE[] =
    "DELETE FROM workers"
    " WHERE id = ?";
/* dead rows are kept an hour (who was there, for an operator), then dropped */
static const char SQL_FORGET[] =
    "DELETE FROM workers"
    " WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL 1 HOUR";
// clang-format on

int job_members_beat(cs_db *db, const char *id, int ttl_s, unsigned *live, cs_error *err)
{
    static unsigned beats;
    if (cs_db_exec(db, SQL_BEAT, "sii", id, (int64_t)ttl_s, (int64_t)ttl_s, err) < 0) return -1;
    if (beats++ % 600 == 0 && cs_db_exec(db, SQL_FORGET, "", err) < 0) return -1;
    long n = job_members_live(db, err);
    if (n < 0) return -1;
    *live = n > 0 ? (unsigned)n : 1;
    return 0;
}

int job_members_leave(cs_db *db, const char *id, cs_error *err)
{
    return cs_db_exec(db, SQL_LEAVE, "s", id, err) < 0 ? -1 : 0;
}

long job_members_live(cs_db *db, cs_error *err)
{
    int64_t n = 0;
    if (cs_db_scalar_i64(db, &n, SQL_LIVE, "", err) < 0) return -1;
    return (long)n;
}
