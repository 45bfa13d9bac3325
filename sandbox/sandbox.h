/* sandbox/: in-process simulators of the marketplaces (Shopee, Lazada, TikTok Shop and
 * the public pages of the assisted postmart.vn / voso.vn) for tests, the demo and volunteer
 * training (the `choso-sandbox` binary, sandbox/main.c). Plain HTTP on 127.0.0.1 unless told
 * otherwise (a container network); never a peer for production traffic, never linked into
 * the product's `choso` binary or its libraries.
 *
 * Each simulator speaks its marketplace's documented protocol (MARKETPLACES.md): same paths,
 * signature and timestamp checks, OAuth with single-use codes and refresh tokens, item creation
 * with validation errors shaped like the real ones, look-up by SKU, review → live/rejected after
 * a delay, signed push notifications, the marketplace's own throttle error, and faults on demand.
 * Every simulator also answers the admin endpoints under /__sandbox/ (see admin.c). */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H
#include "core/errors.h"
#include <jansson.h>
#include <stddef.h>

typedef enum sbx_market {
    SBX_SHOPEE = 0,
    SBX_LAZADA,
    SBX_TIKTOK,
    SBX_ASSISTED, /* postmart.vn and voso.vn public pages, one listener */
    SBX_NMARKETS
} sbx_market;

typedef struct sbx_options {
    const char *address;         /* IPv4 address to listen on; NULL or "" = 127.0.0.1 */
    unsigned port[SBX_NMARKETS]; /* 0 = any free port on 127.0.0.1 */
    int auto_approve;            /* 1: authorise links redirect at once; 0: approve page */
    long review_delay_ms;        /* time a new item spends in review before live/rejected */
    long token_ttl;              /* access-token lifetime, s (0 = the marketplace's own) */
    long refresh_ttl;            /* refresh-token lifetime, s (0 = the marketplace's own) */
    double rate;                 /* requests/s per simulator before its throttle error; 0 = no */
    unsigned long long seed;     /* seeds the fault PRNG and generated ids */
    long max_items;              /* items kept per simulator set (memory cap) */
    long name_min;               /* Shopee: shortest item_name accepted, in characters */
    long long shopee_partner_id;
    const char *shopee_partner_key;
    const char *lazada_app_key, *lazada_app_secret;
    const char *tiktok_app_key, *tiktok_app_secret;
    const char *shopee_push_url; /* NULL or "" = no push notifications */
    const char *lazada_push_url;
    /* TikTok sends the seller to the app's registered redirect URL (its authorise link carries
     * none); NULL or "" = the link's redirect_uri parameter, else the code is shown on a page. */
    const char *tiktok_redirect_url;
    const char *tiktok_push_url; /* NULL or "" = no TikTok Shop webhooks */
    /* Accepted leaf categories and their mandatory attributes:
     * "shopee:100629=100037|100010;lazada:10001960;tiktok:600001=100392" (market:id[=attr|attr]).
     * NULL or "" = category_file if readable, else the built-in set (sandbox.c). */
    const char *categories;
    const char *category_file; /* CSV with marketplace, category id and attribute columns */
    const char *banned_words;  /* comma-separated; NULL = built-in list; "" = none */
} sbx_options;

typedef struct sbx_sandbox sbx_sandbox;

/* The defaults (the same as sandbox/sandbox.def's, except the ports: any free one). Strings are
 * static. */
void sbx_options_default(sbx_options *o);

/* Start every simulator on o->address (127.0.0.1 by default). Strings in o are copied. Returns 0
 * and *out (stop with sbx_stop), or -1 with err filled (a port in use, a bad category spec, no
 * memory). */
int sbx_start(const sbx_options *o, sbx_sandbox **out, cs_error *err);
/* Stop the listeners (in-flight requests, hung ones included, are ended) and free everything. */
void sbx_stop(sbx_sandbox *sb);

/* Port a simulator listens on. */
unsigned sbx_port(const sbx_sandbox *sb, sbx_market m);
/* Base URL a connector is configured with, as its marketplace's documented host would be
 * (host 127.0.0.1, or the listening address when it is not 0.0.0.0):
 * Shopee "http://127.0.0.1:P", Lazada "http://127.0.0.1:P/rest", TikTok "http://127.0.0.1:P",
 * assisted "http://127.0.0.1:P". Returns 0, or -1 when n is too small. */
int sbx_url(const sbx_sandbox *sb, sbx_market m, char *out, size_t n);

/* The counters also served by GET /__sandbox/stats (shape documented in sandbox.c). New
 * reference; NULL when out of memory. */
json_t *sbx_stats(sbx_sandbox *sb);

#endif
