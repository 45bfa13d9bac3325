/* core/config: settings from CHOSO_* environment variables and an optional key = value file,
 * declared once in core/config.def. Loaded once at start-up; read-only afterwards. */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H
#include "core/errors.h"

/* Load the defaults, then the file (path may be NULL: CHOSO_CONFIG is used if set), then the
 * environment. Every malformed or out-of-range value is reported as a field error naming the
 * setting; returns 0 or -1. Safe to call again (tests): the previous values are replaced. */
int cs_config_load(const char *path, cs_error *err);
/* Override one setting after loading (tests, command-line flags). Returns 0 or -1 (unknown
 * key or bad value, err says which). */
int cs_config_set(const char *key, const char *value, cs_error *err);

/* Typed reads. An unknown key is our bug: it aborts with the key named. */
const char *cs_cfg_str(const char *key);
long cs_cfg_int(const char *key);
int cs_cfg_bool(const char *key);

/* Print every setting with its source and help; secrets shown as "(set)". */
void cs_config_dump(void *FILE_stream);
void cs_config_free(void);
#endif
