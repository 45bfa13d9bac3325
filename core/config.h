/* core/config: settings from CHOSO_* environment variables and an optional key = value file,
 * declared once in core/config.def. Loaded once at start-up; read-only afterwards. */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H
#include "core/errors.h"

/* Load the defaults, then the file (path may be NULL: CHOSO_CONFIG is used if set), then the
 * environment. Every malformed or out-of-range value is reported as a field error naming the
 * setting (the environment variable when it came from there; "line N" in the detail for the
 * file); returns 0 or -1 (err->code CS_E_CONFIG, or CS_E_NOMEM). Secrets come only from files
 * (CHOSO_<KEY>_FILE, `<key>_file = path`, at most 4095 bytes, trailing line ends dropped); a
 * secret set directly in CHOSO_<KEY> or `<key> = value` is refused. err may be NULL. Safe to
 * call again (tests): the previous values are replaced. */
int cs_config_load(const char *path, cs_error *err);
/* Override one setting after loading (tests, command-line flags). Returns 0 or -1 (unknown
 * key or bad value, err says which). */
int cs_config_set(const char *key, const char *value, cs_error *err);

/* Typed reads, safe from any thread; before any load they serve the defaults. An unknown key
 * is our bug: it aborts with the key named. */
const char *cs_cfg_str(const char *key);
long cs_cfg_int(const char *key);
int cs_cfg_bool(const char *key);

/* The file a SECRET setting was read from (NULL: not set, or not a secret). For checks of the
 * file's mode (choso check-live); the path is not secret, the content is. */
const char *cs_cfg_secret_file(const char *key);
/* Print every setting with its source and help; secrets shown as "(set)". */
void cs_config_dump(void *FILE_stream);
void cs_config_free(void);
#endif
