/* connectors/registry: which connectors exist, found by code or alias, listed in display order;
 * and the bridge from configuration to a cx_market. Adding a marketplace = one connector file,
 * one line in registry.c's table, and its simulator. */
#ifndef CX_REGISTRY_H
#define CX_REGISTRY_H
#include "connectors/connector.h"

extern const cx_connector cx_postmart;
extern const cx_connector cx_voso;
extern const cx_connector cx_shopee;
extern const cx_connector cx_lazada;
extern const cx_connector cx_tiktok;
/* The worked example (connectors/template.c); registered only by tests. */
extern const cx_connector cx_template;

/* Look a connector up by code or alias ("posmart" → postmart), case-insensitive; NULL if none. */
const cx_connector *cx_find(const char *code_or_alias);
/* The canonical code for a code or alias, or NULL. */
const char *cx_canonical_code(const char *code_or_alias);
/* Connectors in display order (postmart, voso first). Returns the count; *out points into a
 * static array valid until the next cx_register/cx_unregister. */
size_t cx_list(const cx_connector *const **out);
/* Add/remove a connector at run time (tests: the template). Not thread-safe: call before
 * workers start. cx_register returns 0, or -1 when the code is taken or the table is full. */
int cx_register(const cx_connector *c);
void cx_unregister(const cx_connector *c);

/* A marketplace as configured: cx_market plus its limits. Strings point into the
 * configuration (valid until cs_config_free) or into this struct. */
typedef struct cx_market_cfg {
    cx_market m;
    char redirect_url[512]; /* {http.public_url}/v1/oauth/{code}/callback */
    char push_url[512];     /* {http.public_url}/v1/webhooks/{code} */
    char site_url[512];     /* a data row's site from assisted.hosts (this instance's host) */
    double rate_per_sec;    /* configuration if set (> 0), else the marketplaces table */
    int concurrency;
} cx_market_cfg;
/* Fill out from the settings <code>.base_url, .auth_url, credentials, limits (0 = use
 * table_rate/table_concurrency, the `marketplaces` row; pass 0 there for built-in defaults
 * 10/s and 8). Reads configuration only. Returns 0, or -1 (unknown connector). */
int cx_market_from_config(const cx_connector *c, double table_rate, int table_concurrency,
                          cx_market_cfg *out, cs_error *err);
#endif
