/* connectors/recheck: looking at live items again (the scheduled re-check of live API listings)
 * — pure like the rest (build a request, parse an answer; no clock, no I/O). Each API
 * marketplace answers many items per request: Shopee get_item_base_info takes up to 50 item ids;
 * Lazada /products/get and TikTok's product search list a shop's items page by page. */
#ifndef CX_RECHECK_H
#define CX_RECHECK_H
#include "connectors/connector.h"
#include <stddef.h>

#define CX_RECHECK_IDS_MAX 50 /* Shopee item_id_list */

typedef struct cx_recheck_query {
    const char *const *ids; /* by_ids: item ids (1..CX_RECHECK_IDS_MAX) */
    size_t nids;
    const char *cursor; /* listing: TikTok page token; NULL or "" = first page */
    long long offset;   /* listing: Lazada offset */
} cx_recheck_query;

/* One item as the marketplace reports it now. */
typedef struct cx_item_seen {
    char item_id[64];
    cx_item_state state;
    char status[40];  /* the marketplace's own word */
    char reason[200]; /* why it was taken down, when said */
    char url[512];    /* its public page, when the answer carries it (Lazada) */
} cx_item_seen;

typedef struct cx_recheck_page {
    cx_item_seen *items; /* owned; cx_recheck_page_free */
    size_t n;
    int more;              /* listing: another page follows */
    char next_cursor[256]; /* TikTok next_page_token */
    long long next_offset; /* Lazada */
} cx_recheck_page;
void cx_recheck_page_free(cx_recheck_page *p);
/* Append one item (copied); -1 on OOM or past 10,000 items a page. */
int cx_recheck_add(cx_recheck_page *p, const cx_item_seen *it);

typedef struct cx_recheck_ops {
    const char *code;
    /* 1: asks for given item ids (Shopee); 0: lists every item of the shop page by page — an
     * item absent from a complete walk is no longer on the marketplace */
    int by_ids;
    int (*build)(const cx_input *in, const cx_recheck_query *q, cx_request *req, cs_error *err);
    /* out as for cx_connector.parse; page filled on CX_OK. Never fails. */
    void (*parse)(const cx_input *in, const cx_recheck_query *q, const cx_response *resp,
                  cx_outcome *out, cx_recheck_page *page);
} cx_recheck_ops;

extern const cx_recheck_ops cx_shopee_recheck, cx_lazada_recheck, cx_tiktok_recheck;
/* The re-check operations of marketplace `code`, or NULL (assisted marketplaces: the link
 * check). */
const cx_recheck_ops *cx_recheck_for(const char *code);
#endif
