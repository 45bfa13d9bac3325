/* connectors/catalog: the shared part of connectors/catalog.h — the parsed page's arrays and
 * the look-up tables. Pure: no I/O. */
#include "connectors/catalog.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <string.h>

void cx_catalog_page_free(cx_catalog_page *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nattrs; i++)
        cs_free(p->attrs[i].choices);
    cs_free(p->nodes);
    cs_free(p->attrs);
    memset(p, 0, sizeof *p);
}

/* Grow an array by doubling up to max elements; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t need, size_t size, size_t max)
{
    if (need <= *cap) return 0;
    if (need > max) return -1;
    size_t n = *cap ? *cap * 2 : 64;
    if (n > max) n = max;
    void *p = cs_realloc(*arr, n * size);
    if (!p) return -1;
    *arr = p;
    *cap = n;
    return 0;
}

int cx_catalog_add_node(cx_catalog_page *p, const char *id, const char *parent, const char *name,
                        int leaf)
{
    if (!id || !*id) return -1;
    if (grow((void **)&p->nodes, &p->capnodes, p->nnodes + 1, sizeof *p->nodes, CX_CAT_NODES_MAX))
        return -1;
    cx_cat_node *n = &p->nodes[p->nnodes++];
    memset(n, 0, sizeof *n);
    cx_copy(n->id, sizeof n->id, id);
    cx_copy(n->parent, sizeof n->parent, parent && strcmp(parent, "0") ? parent : "");
    cx_copy(n->name, sizeof n->name, name ? name : "");
    n->leaf = leaf != 0;
    return 0;
}

int cx_catalog_add_attr(cx_catalog_page *p, const char *id, const char *name, const char *input,
                        int mandatory, const char *choices_json)
{
    if (!id || !*id) return -1;
    if (grow((void **)&p->attrs, &p->capattrs, p->nattrs + 1, sizeof *p->attrs, CX_CAT_ATTRS_MAX))
        return -1;
    char *ch = cs_strdup(choices_json ? choices_json : "[]");
    if (!ch) return -1;
    cx_cat_attr *a = &p->attrs[p->nattrs++];
    memset(a, 0, sizeof *a);
    cx_copy(a->id, sizeof a->id, id);
    cx_copy(a->name, sizeof a->name, name && *name ? name : id);
    cx_copy(a->input, sizeof a->input, input ? input : "");
    a->mandatory = mandatory != 0;
    a->choices = ch;
    return 0;
}

const cx_catalog_ops *cx_catalog_for(const char *code)
{
    const char *c = cx_canonical_code(code);
    if (!c) return NULL;
    if (!strcmp(c, "shopee")) return &cx_shopee_catalog;
    if (!strcmp(c, "lazada")) return &cx_lazada_catalog;
    if (!strcmp(c, "tiktok")) return &cx_tiktok_catalog;
    return NULL;
}

const cx_change_ops *cx_changes_for(const char *code)
{
    const char *c = cx_canonical_code(code);
    if (!c) return NULL;
    if (!strcmp(c, "shopee")) return &cx_shopee_changes;
    if (!strcmp(c, "lazada")) return &cx_lazada_changes;
    if (!strcmp(c, "tiktok")) return &cx_tiktok_changes;
    return NULL;
}

const char *cx_change_name(cx_change_kind k)
{
    static const char *const n[] = {"price", "stock", "withdraw", "lookup", "delete"};
    return (unsigned)k < 5 ? n[k] : "?";
}
