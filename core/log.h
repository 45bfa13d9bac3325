/* core/log: one JSON object per line on stderr. Never pass a citizen ID, phone, PIN, token or
 * key: fields whose names suggest them are replaced by "[redacted]" as a second line of
 * defence, and free text is not scanned, so keep personal data out of messages. */
#ifndef CS_LOG_H
#define CS_LOG_H
#include <jansson.h>

enum cs_log_level { CS_LOG_DEBUG = 0, CS_LOG_INFO, CS_LOG_WARN, CS_LOG_ERROR };

void cs_log_set_level(enum cs_log_level lvl);
/* "debug"/"info"/"warn"/"error"; returns -1 if unknown. */
int cs_log_level_parse(const char *s, enum cs_log_level *out);
/* Request or job id of this thread, added to every line it logs (NULL clears). Copied. */
void cs_log_set_context(const char *id);
const char *cs_log_context(void);
/* Redirect output (tests); NULL restores stderr. */
void cs_log_set_stream(void *FILE_stream);

/* Log `event` with printf-style message. */
void cs_log(enum cs_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log `event` with extra fields; takes ownership of `fields` (may be NULL). */
void cs_log_json(enum cs_log_level lvl, const char *event, json_t *fields);

#define cs_debug(ev, ...) cs_log(CS_LOG_DEBUG, ev, __VA_ARGS__)
#define cs_info(ev, ...) cs_log(CS_LOG_INFO, ev, __VA_ARGS__)
#define cs_warn(ev, ...) cs_log(CS_LOG_WARN, ev, __VA_ARGS__)
#define cs_error_log(ev, ...) cs_log(CS_LOG_ERROR, ev, __VA_ARGS__)

/* True if a field name must never carry its value into a log line. */
int cs_log_is_sensitive_key(const char *key);
#endif
