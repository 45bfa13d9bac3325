/* core/log: JSON-lines logger with a per-thread context id and key-based redaction. */
#include "core/log.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum cs_log_level min_level = CS_LOG_INFO;
static FILE *out_stream;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char ctx_id[72];

static const char *level_names[] = {"debug", "info", "warn", "error"};

void cs_log_set_level(enum cs_log_level lvl)
{
    min_level = lvl;
}

int cs_log_level_parse(const char *s, enum cs_log_level *o)
{
    for (int i = 0; i < 4; i++)
        if (s && !strcasecmp(s, level_names[i])) {
            *o = (enum cs_log_level)i;
            return 0;
        }
    return -1;
}

void cs_log_set_context(const char *id)
{
    snprintf(ctx_id, sizeof ctx_id, "%s", id ? id : "");
}

const char *cs_log_context(void)
{
    return ctx_id;
}

void cs_log_set_stream(void *s)
{
    out_stream = s;
}

int cs_log_is_sensitive_key(const char *key)
{
    static const char *bad[] = {"cccd",          "citizen",  "phone", "pin",   "token",
                                "secret",        "password", "key",   "birth", "address",
                                "authorization", "cookie",   "sign"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strcasestr(key, bad[i])) return 1;
    return 0;
}

static void redact(json_t *obj)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        /* "*_id" keys such as request_id, actor_id or job_id identify, they do not disclose. */
        size_t kl = strlen(k);
        if (kl > 3 && !strcmp(k + kl - 3, "_id")) continue;
        if (!strcmp(k, "route") || !strcmp(k, "event")) continue;
        if (cs_log_is_sensitive_key(k))
            json_object_set_new(obj, k, json_string("[redacted]"));
        else if (json_is_object(v))
            redact(v);
    }
}

void cs_log_json(enum cs_log_level lvl, const char *event, json_t *fields)
{
    if (lvl < min_level) {
        json_decref(fields);
        return;
    }
    json_t *o = json_object();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[40];
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    json_object_set_new(o, "ts", json_string(t));
    json_object_set_new(o, "level", json_string(level_names[lvl]));
    json_object_set_new(o, "event", json_string(event ? event : "log"));
    if (ctx_id[0]) json_object_set_new(o, "request_id", json_string(ctx_id));
    if (fields) {
        redact(fields);
        json_object_update_missing(o, fields);
        json_decref(fields);
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!line) return;
    pthread_mutex_lock(&out_lock);
    FILE *f = out_stream ? out_stream : stderr;
    fputs(line, f);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&out_lock);
    free(line);
}

void cs_log(enum cs_log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < min_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_log_json(lvl, event, json_pack("{s:s}", "msg", msg));
}
