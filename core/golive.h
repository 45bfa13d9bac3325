/* core/golive: what stands between this instance and the real marketplaces, for `choso
 * check-live` — hosts not https or not public, credentials missing or readable by others,
 * callback and push addresses not public https, marketplaces still in sandbox mode, categories
 * in use without a mapped leaf or a mandatory attribute, catalogues never fetched. Reads the
 * configuration, file modes and the database; changes nothing. Each finding in Vietnamese and
 * English with a stable code. */
#ifndef CS_GOLIVE_H
#define CS_GOLIVE_H
#include "core/db.h"
#include <stddef.h>

#define CS_GOLIVE_MAX 200

typedef struct cs_golive_item {
    char code[40];     /* host_not_https, host_not_public, sandbox_mode, credential_missing,
                        * credential_readable, setting_missing, callback_not_public,
                        * catalog_not_fetched, category_unmapped, category_not_leaf,
                        * attribute_missing, database_unreachable, instance_not_production */
    char subject[120]; /* the setting, file or "category → marketplace" concerned */
    char vi[480];
    char en[480];
} cs_golive_item;

typedef struct cs_golive {
    size_t n, dropped; /* findings kept / past CS_GOLIVE_MAX */
    cs_golive_item items[CS_GOLIVE_MAX];
    char in_use[8][16]; /* API marketplaces found in use (configured or with shops) */
    size_t nin_use;
} cs_golive;

void cs_golive_init(cs_golive *g);
/* Add a finding (formats are printf-like; truncated safely). */
void cs_golive_add(cs_golive *g, const char *code, const char *subject, const char *vi,
                   const char *en);

/* 1 when url is https:// on a public host name (not an IP literal of a private, loopback or
 * link-local range, not localhost, *.local, *.test, *.internal, *.localhost); else 0 with
 * why ("http", "loopback", "private", "no host") in why. Pure. */
int cs_golive_public_https(const char *url, char *why, size_t n);

/* One marketplace site the service fetches or sends people to (subject names where it is set,
 * e.g. "sendo (assisted.hosts)"): a simulator or test host, or an address that is not public
 * https, is a problem. Used for the assisted marketplaces configured as data, whose rows the
 * caller (cli) reads through the connector registry. */
void cs_golive_check_site(cs_golive *g, const char *subject, const char *url);

/* The configuration: every API marketplace in use (its app id set, or listed in
 * extra_in_use — marketplaces with shops in the database), the public address, secret files.
 * Assisted marketplaces' hosts too. */
void cs_golive_check_config(cs_golive *g, const char *const *extra_in_use, size_t nextra);
/* The database: API marketplaces with shops or listings (into *in_use as codes, at most 8), and
 * per marketplace in use the catalogue and the mapping of every category of an active product.
 * 0, or -1 when the database failed (err). */
int cs_golive_in_use(cs_db *db, char in_use[8][16], size_t *n, cs_error *err);
int cs_golive_check_db(cs_db *db, cs_golive *g, cs_error *err);
#endif
