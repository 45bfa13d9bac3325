/* jobs/flows_catalog: catalog.refresh — each API marketplace's category tree and the attribute
 * lists of the leaves our categories are mapped to, fetched through connectors/catalog.h and
 * stored as a new version by core/catalog when they changed. Weekly (flows.catalog_period) and
 * on demand ({"marketplace":"shopee"}). Reading only: it never changes a listing or a mapping;
 * the check before publishing reads what it stored. */
#include "connectors/catalog.h"
#include "core/catalog.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "jobs/flows_int.h"
#include <stdio.h>
#include <string.h>

struct step {
    const cx_catalog_ops *ops;
    cx_cat_step step;
    const char *category;
    cx_outcome out;
    cx_catalog_page page;
};

static int step_build(void *arg, const cx_input *in, cx_request *req, cs_error *err)
{
    struct step *s = arg;
    return s->ops->build(s->step, in, s->category, req, err);
}

static void step_parse(void *arg, const cx_input *in, const cx_response *resp)
{
    struct step *s = arg;
    s->ops->parse(s->step, in, resp, &s->out, &s->page);
}

/* One call; 0 with s->out decided, -1 when it could not be sent (err). */
static int fetch(const flows_mkt *m, const cx_account *acct, struct step *s, cs_error *err)
{
    cx_input in = {.account = acct};
    memset(&s->page, 0, sizeof s->page);
    cx_outcome_init(&s->out);
    return flows_call_with(m, &in, step_build, step_parse, s, err);
}

/* Refresh one marketplace. Returns 0 done (or nothing to do), 1 retry later (*after seconds),
 * -1 error (err). */
static int refresh_one(cs_db *db, const flows_mkt *m, unsigned *after, cs_error *err)
{
    const cx_catalog_ops *ops = cx_catalog_for(m->c->code);
    if (!ops || !m->enabled) return 0;
    const cx_market *mk = &m->cfg.m;
    if (!mk->base_url || !*mk->base_url || !mk->app_id || !*mk->app_id || !mk->secret ||
        !*mk->secret) { /* not set up here: choso check-live says so, nothing to fetch */
        cs_debug("catalog.unconfigured", "%s: no host or credentials", m->c->code);
        return 0;
    }
    flows_acct a;
    memset(&a, 0, sizeof a);
    const cx_account *acct = NULL;
    if (ops->needs_shop) {
        int64_t id = 0;
        if (cs_catalog_reader_account(db, m->c->code, &id, err)) return -1;
        if (!id) {
            cs_info("catalog.no_shop", "%s: no authorised shop yet to read categories with",
                    m->c->code);
            return 0;
        }
        if (flows_acct_load(db, id, &a, err)) return -1;
        acct = &a.cx;
    }
    int rc = -1;
    json_t *leaves = NULL;
    struct step tree = {ops, CX_CAT_TREE, NULL, {0}, {0}};
    cx_catalog_page attrs;
    memset(&attrs, 0, sizeof attrs);
    cs_cat_node_in *nodes = NULL;
    cs_cat_attr_in *ain = NULL;
    char(*leafof)[40] = NULL;
    if (fetch(m, acct, &tree, err)) goto out;
    if (tree.out.result == CX_RETRY) {
        *after = tree.out.retry_after ? tree.out.retry_after : 300;
        rc = 1;
        goto out;
    }
    if (tree.out.result != CX_OK) {
        rc = cs_error_set(err, CS_E_MP_UNAVAILABLE, "%s tree: %s %s", m->c->code,
                          tree.out.error_code, tree.out.message);
        goto out;
    }
    if (cs_catalog_mapped_leaves(db, m->c->code, &leaves, err)) goto out;
    /* attributes of the mapped leaves that the tree has (a vanished leaf is what the check
     * and check-live then report) */
    leafof = cs_calloc(CX_CAT_ATTRS_MAX + 1, sizeof *leafof);
    if (!leafof) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    size_t i;
    json_t *lv;
    json_array_foreach(leaves, i, lv)
    {
        const char *leaf = json_string_value(lv);
        int known = 0;
        for (size_t k = 0; k < tree.page.nnodes && !known; k++)
            known = tree.page.nodes[k].leaf && !strcmp(tree.page.nodes[k].id, leaf);
        if (!known) continue;
        struct step s = {ops, CX_CAT_ATTRS, leaf, {0}, {0}};
        if (fetch(m, acct, &s, err)) goto out;
        if (s.out.result == CX_RETRY) {
            cx_catalog_page_free(&s.page);
            *after = s.out.retry_after ? s.out.retry_after : 300;
            rc = 1;
            goto out;
        }
        for (size_t k = 0; s.out.result == CX_OK && k < s.page.nattrs; k++) {
            cx_cat_attr *x = &s.page.attrs[k];
            if (cx_catalog_add_attr(&attrs, x->id, x->name, x->input, x->mandatory, x->choices)) {
                cx_catalog_page_free(&s.page);
                cs_error_set(err, CS_E_NOMEM, NULL);
                goto out;
            }
            snprintf(leafof[attrs.nattrs - 1], sizeof leafof[0], "%s", leaf);
        }
        cx_catalog_page_free(&s.page);
    }
    nodes = cs_calloc(tree.page.nnodes, sizeof *nodes);
    ain = cs_calloc(attrs.nattrs + 1, sizeof *ain);
    if (!nodes || !ain) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t k = 0; k < tree.page.nnodes; k++) {
        cx_cat_node *n = &tree.page.nodes[k];
        nodes[k] = (cs_cat_node_in){n->id, n->parent, n->name, n->leaf};
    }
    for (size_t k = 0; k < attrs.nattrs; k++) {
        cx_cat_attr *x = &attrs.attrs[k];
        ain[k] = (cs_cat_attr_in){leafof[k], x->id, x->name, x->input, x->mandatory, x->choices};
    }
    int64_t version = 0;
    int created = 0;
    if (cs_catalog_store(db, m->c->code, m->cfg.m.base_url, nodes, tree.page.nnodes, ain,
                         attrs.nattrs, &version, &created, err))
        goto out;
    cs_info("catalog.refreshed", "%s: %zu categories, %zu attributes, version %lld%s", m->c->code,
            tree.page.nnodes, attrs.nattrs, (long long)version, created ? " (new)" : " (same)");
    rc = 0;
out:
    flows_acct_wipe(&a);
    cx_catalog_page_free(&tree.page);
    cx_catalog_page_free(&attrs);
    json_decref(leaves);
    cs_free(nodes);
    cs_free(ain);
    cs_free(leafof);
    return rc;
}

static job_outcome h_catalog(job_ctx *ctx)
{
    const char *only = json_string_value(json_object_get(ctx->args, "marketplace"));
    static const char *const codes[] = {"shopee", "lazada", "tiktok"};
    unsigned after = 0, failed = 0;
    cs_error err;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (only && cx_canonical_code(only) && strcmp(cx_canonical_code(only), codes[i])) continue;
        cs_error_clear(&err);
        const flows_mkt *m = flows_mkt_get(ctx->db, codes[i], &err);
        if (!m) continue; /* not configured here */
        unsigned a = 0;
        int rc = refresh_one(ctx->db, m, &a, &err);
        if (rc < 0) {
            cs_warn("catalog.failed", "%s: %s %s", codes[i], cs_code_name(err.code), err.detail);
            failed++;
        } else if (rc > 0) {
            failed++;
            if (a > after) after = a;
        }
        if (job_should_stop(ctx)) return job_snooze(ctx, 0);
    }
    if (failed) return flows_retry(ctx, after, "catalog refresh", NULL);
    return JOB_OK;
}

int flows_register_catalog_kinds(cs_error *err)
{
    if (job_register("catalog.refresh", h_catalog, NULL, err) ||
        job_schedule_every("catalog.refresh", (unsigned)cs_cfg_int("flows.catalog_period"), "{}",
                           err))
        return -1;
    return 0;
}
