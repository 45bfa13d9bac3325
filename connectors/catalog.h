/* connectors/catalog: what going live needs beyond creating items — the marketplaces' category
 * trees and attribute lists, and the changes to an item already on sale (price, stock, taking it
 * down). Pure like the rest of the connectors: build a request, parse an answer; no clock, no
 * configuration, no I/O. The three API connectors implement it in their own files (blocks at
 * the end of shopee.c, lazada.c, tiktok.c); the simulators in sandbox/ answer the same shapes.
 * Separate tables from cx_connector so the operation list of connector.h stays as it is. */
#ifndef CX_CATALOG_H
#define CX_CATALOG_H
#include "connectors/connector.h"
#include <stddef.h>

/* ---- category trees and attributes -------------------------------------------------------- */
typedef enum cx_cat_step {
    CX_CAT_TREE = 0, /* the whole tree (Shopee get_category, Lazada /category/tree/get, TikTok
                      * GET /product/202309/categories) */
    CX_CAT_ATTRS     /* one leaf's attributes (get_attribute_tree, /category/attributes/get,
                      * /categories/{id}/attributes) */
} cx_cat_step;

#define CX_CAT_NODES_MAX 50000 /* a parse refuses a bigger tree as malformed */
#define CX_CAT_ATTRS_MAX 5000

typedef struct cx_cat_node {
    char id[40];
    char parent[40]; /* "" at the top */
    char name[200];  /* as the marketplace shows it (Vietnamese on .vn) */
    int leaf;
} cx_cat_node;

typedef struct cx_cat_attr {
    char id[64];    /* Shopee attribute_id, Lazada attribute name, TikTok attribute id */
    char name[200]; /* label shown to people */
    char input[40]; /* the marketplace's own input type ("singleSelect", "text", "1" …) */
    int mandatory;
    char *choices; /* owned JSON text [{"id":"…","name":"…"}] ("[]" for free text) */
} cx_cat_attr;

/* One parsed answer (owned arrays; cx_catalog_page_free). */
typedef struct cx_catalog_page {
    cx_cat_node *nodes;
    size_t nnodes, capnodes;
    cx_cat_attr *attrs;
    size_t nattrs, capattrs;
} cx_catalog_page;
void cx_catalog_page_free(cx_catalog_page *p);
/* Append one node / attribute (copied; choices_json copied, NULL = "[]"). 0 or -1 (OOM, cap). */
int cx_catalog_add_node(cx_catalog_page *p, const char *id, const char *parent, const char *name,
                        int leaf);
int cx_catalog_add_attr(cx_catalog_page *p, const char *id, const char *name, const char *input,
                        int mandatory, const char *choices_json);

typedef struct cx_catalog_ops {
    const char *code;
    int needs_shop; /* 1: the calls are shop calls (an authorised seller account is needed) */
    /* category_id: the leaf for CX_CAT_ATTRS (ignored for the tree). 0, or -1 with err
     * (configuration missing, no account when needs_shop, no category for ATTRS). */
    int (*build)(cx_cat_step step, const cx_input *in, const char *category_id, cx_request *req,
                 cs_error *err);
    /* out as for cx_connector.parse; page filled on CX_OK. Never fails. */
    void (*parse)(cx_cat_step step, const cx_input *in, const cx_response *resp, cx_outcome *out,
                  cx_catalog_page *page);
} cx_catalog_ops;

extern const cx_catalog_ops cx_shopee_catalog, cx_lazada_catalog, cx_tiktok_catalog;
/* By marketplace code (alias accepted); NULL for marketplaces without an API. */
const cx_catalog_ops *cx_catalog_for(const char *code);

/* ---- changes to a live item ----------------------------------------------------------------- */
typedef enum cx_change_kind {
    CX_CHG_PRICE = 0, /* Shopee update_price, Lazada price_quantity (price and stock together),
                       * TikTok prices/update */
    CX_CHG_STOCK,     /* Shopee update_stock, TikTok inventory/update (Lazada: not needed) */
    CX_CHG_WITHDRAW,  /* Shopee unlist_item, Lazada /product/remove, TikTok deactivate */
    CX_CHG_LOOKUP,    /* TikTok only: the product's SKU id, needed by its price/stock calls */
    CX_CHG_DELETE     /* Shopee only: delete_item after unlist_item (delete_after_withdraw) */
} cx_change_kind;

typedef struct cx_change {
    const char *item_id;    /* external item / product id (required) */
    const char *sku;        /* our seller SKU "CS-<listing id>" (Lazada identifies by it) */
    const char *ext_sku_id; /* TikTok SKU id (from CX_CHG_LOOKUP); NULL when unknown */
    long long price_vnd;    /* whole đồng, > 0 */
    long long stock;        /* ≥ 0 */
} cx_change;

typedef struct cx_change_ops {
    const char *code;
    int price_with_stock; /* 1: CX_CHG_PRICE sends the stock too, CX_CHG_STOCK is not used */
    int needs_lookup;     /* 1: price/stock need ext_sku_id (CX_CHG_LOOKUP first) */
    int (*build)(cx_change_kind k, const cx_input *in, const cx_change *c, cx_request *req,
                 cs_error *err);
    /* CX_OK when applied (a take-down of an item the marketplace no longer has is CX_OK too:
     * the goal is reached); CX_REJECTED with reasons; CX_RETRY … ext_sku_id filled by LOOKUP. */
    void (*parse)(cx_change_kind k, const cx_input *in, const cx_response *resp, cx_outcome *out,
                  char ext_sku_id[64]);
    int delete_after_withdraw; /* 1: a take-down also deletes the item (CX_CHG_DELETE) */
} cx_change_ops;

extern const cx_change_ops cx_shopee_changes, cx_lazada_changes, cx_tiktok_changes;
const cx_change_ops *cx_changes_for(const char *code);
const char *cx_change_name(cx_change_kind k); /* "price", "stock", "withdraw", "lookup", "delete" */
#endif
