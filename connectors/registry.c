/* connectors/registry: the table of connectors and the configuration bridge. It reads settings
 * (cs_cfg_*) but never the database or the network. */
#include "connectors/registry.h"
#include "connectors/assisted.h"
#include "core/config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_CONNECTORS 16

/* One line per marketplace, in display order: the two the province names first. */
static const cx_connector *table[MAX_CONNECTORS] = {
    &cx_postmart, &cx_voso, &cx_shopee, &cx_lazada, &cx_tiktok,
};
static size_t ntable = 5;

const cx_connector *cx_find(const char *code)
{
    if (!code) return NULL;
    for (size_t i = 0; i < ntable; i++) {
        if (!strcasecmp(table[i]->code, code)) return table[i];
        if (table[i]->alias && !strcasecmp(table[i]->alias, code)) return table[i];
    }
    return NULL;
}

const char *cx_canonical_code(const char *code)
{
    const cx_connector *c = cx_find(code);
    return c ? c->code : NULL;
}

size_t cx_list(const cx_connector *const **out)
{
    if (out) *out = table;
    return ntable;
}

int cx_register(const cx_connector *c)
{
    if (!c || !c->code || cx_find(c->code) || (c->alias && cx_find(c->alias)) ||
        ntable >= MAX_CONNECTORS)
        return -1;
    /* keep display order: insert before the first with a higher order */
    size_t at = ntable;
    for (size_t i = 0; i < ntable; i++)
        if (table[i]->display_order > c->display_order) {
            at = i;
            break;
        }
    memmove(&table[at + 1], &table[at], (ntable - at) * sizeof table[0]);
    table[at] = c;
    ntable++;
    return 0;
}

void cx_unregister(const cx_connector *c)
{
    for (size_t i = 0; i < ntable; i++)
        if (table[i] == c) {
            memmove(&table[i], &table[i + 1], (ntable - i - 1) * sizeof table[0]);
            table[--ntable] = NULL;
            return;
        }
}

/* Setting "<code>.<name>" as a string, or "" when the connector has no such setting. The
 * registry only asks for settings that config.def declares for that code. */
static const char *cfg(const char *code, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%s.%s", code, name);
    return cs_cfg_str(key);
}

static long cfg_int(const char *code, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%s.%s", code, name);
    return cs_cfg_int(key);
}

int cx_market_from_config(const cx_connector *c, double table_rate, int table_concurrency,
                          cx_market_cfg *out, cs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!c) return cs_error_set(err, CS_F_MARKETPLACE, NULL);
    const char *code = c->code;
    const char *pub = cs_cfg_str("http.public_url");
    size_t pl = strlen(pub);
    while (pl && pub[pl - 1] == '/')
        pl--;
    snprintf(out->redirect_url, sizeof out->redirect_url, "%.*s/v1/oauth/%s/callback", (int)pl, pub,
             code);
    snprintf(out->push_url, sizeof out->push_url, "%.*s/v1/webhooks/%s", (int)pl, pub, code);
    cx_market *m = &out->m;
    m->code = code;
    m->redirect_url = out->redirect_url;
    m->push_url = out->push_url;
    m->public_domain = c->default_domain;
    m->auth_url = "";
    m->app_id = "";
    m->secret = "";
    m->logistic_id = "";
    m->warehouse_id = "";
    m->base_url = "";
    if (!strcmp(code, "shopee")) {
        m->base_url = cfg(code, "base_url");
        m->app_id = cfg(code, "partner_id");
        m->secret = cfg(code, "partner_key");
        m->logistic_id = cfg(code, "logistic_id");
    } else if (!strcmp(code, "lazada") || !strcmp(code, "tiktok")) {
        m->base_url = cfg(code, "base_url");
        m->auth_url = cfg(code, "auth_url");
        m->app_id = cfg(code, "app_key");
        m->secret = cfg(code, "app_secret");
        if (!strcmp(code, "tiktok")) m->warehouse_id = cfg(code, "warehouse_id");
    } else if (!strcmp(code, "postmart") || !strcmp(code, "voso")) {
        m->base_url = cfg(code, "base_url");
    } else if (c->assisted && c->assisted->base_url) {
        m->base_url = c->assisted->base_url; /* configured as data: the row names its site */
        /* … unless this instance points it elsewhere (a simulator): "code=url code=url" */
        size_t cl = strlen(code);
        for (const char *h = cs_cfg_str("assisted.hosts"); h && *h;) {
            h += strspn(h, " ,");
            size_t len = strcspn(h, " ,");
            if (len > cl + 1 && !strncmp(h, code, cl) && h[cl] == '=' &&
                len - cl - 1 < sizeof out->site_url) {
                memcpy(out->site_url, h + cl + 1, len - cl - 1);
                out->site_url[len - cl - 1] = '\0';
                m->base_url = out->site_url;
            }
            h += len;
        }
    }
    double rate = 0;
    int conc = 0;
    if (!strcmp(code, "shopee") || !strcmp(code, "lazada") || !strcmp(code, "tiktok") ||
        !strcmp(code, "postmart") || !strcmp(code, "voso")) {
        rate = (double)cfg_int(code, "rate_per_sec");
        conc = (int)cfg_int(code, "concurrency");
    }
    out->rate_per_sec = rate > 0 ? rate : table_rate > 0 ? table_rate : 10.0;
    out->concurrency = conc > 0 ? conc : table_concurrency > 0 ? table_concurrency : 8;
    return 0;
}
