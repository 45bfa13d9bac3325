/* connectors/orders: the order operations of the API connectors — pure like the rest (build a
 * request, parse an answer; no clock, no I/O). Only what the "sold" target needs is read: order
 * id, status, times, and per line our SKU / item id, quantity and amount in đồng. No buyer or
 * recipient field is asked for, and any that arrives is never read. */
#ifndef CX_ORDERS_H
#define CX_ORDERS_H
#include "connectors/connector.h"
#include <jansson.h>
#include <stddef.h>

/* What a line's marketplace status means for the target (see core/targets.h, the rule). */
typedef enum cx_order_state {
    CX_OS_UNKNOWN = 0, /* a status we do not know: the line is skipped, logged, never counted */
    CX_OS_OPEN,        /* unpaid … in transit */
    CX_OS_DELIVERED,   /* delivered / completed: the sale counts from here */
    CX_OS_CANCELLED,
    CX_OS_RETURNED, /* returned or failed delivery */
} cx_order_state;
const char *cx_order_state_name(cx_order_state s); /* "unknown", "open", "delivered", … */

/* The two steps of a sync. LIST pages through the orders updated in a window; LINES fetches the
 * lines of up to CX_ORDERS_IDS_MAX orders (Shopee get_order_detail, Lazada /orders/items/get).
 * TikTok's search answers the lines with the list, so it needs no LINES step. */
typedef enum cx_orders_step { CX_ORD_LIST = 0, CX_ORD_LINES } cx_orders_step;
#define CX_ORDERS_IDS_MAX 50
#define CX_ORDERS_PAGE 100              /* page size asked for (the documented maximum) */
#define CX_SHOPEE_WINDOW_S (15 * 86400) /* Shopee refuses a wider time window */

typedef struct cx_orders_query {
    long long from_s, to_s; /* update-time window [from_s, to_s), Unix s */
    const char *cursor;     /* Shopee cursor / TikTok page token; NULL or "" = first page */
    long long offset;       /* Lazada offset */
    const char *const *ids; /* LINES: order ids (1..CX_ORDERS_IDS_MAX) */
    size_t nids;
} cx_orders_query;

typedef struct cx_order_line {
    char order_id[64];
    char line_id[96]; /* Lazada order_item_id, TikTok line id, Shopee item_id:model_id */
    char sku[64];     /* the seller SKU as given: "CS-<listing id>" when the line is ours */
    char item_id[64];
    char status[40]; /* the marketplace's own status text */
    cx_order_state state;
    long long qty;
    long long amount_vnd; /* the line's total in whole đồng */
    long long created_s, updated_s;
} cx_order_line;

/* One parsed page. Owned arrays; cx_orders_page_free. */
typedef struct cx_orders_page {
    char (*ids)[64]; /* LIST (Shopee, Lazada): order ids whose lines to fetch */
    size_t nids;
    cx_order_line *lines;
    size_t nlines;
    int more;              /* another page follows */
    char next_cursor[512]; /* Shopee next_cursor / TikTok next_page_token */
    long long next_offset; /* Lazada: the offset of the next page */
    size_t nbad;           /* lines or orders skipped as malformed (never counted) */
    char bad[256];         /* the first of them, for the log */
} cx_orders_page;
void cx_orders_page_free(cx_orders_page *p);

typedef struct cx_order_ops {
    const char *code;
    int two_step; /* 1: LIST gives ids, LINES gives lines */
    /* Returns 0 or -1 with err (configuration, a Shopee window over 15 days, no ids). */
    int (*build)(cx_orders_step step, const cx_input *in, const cx_orders_query *q, cx_request *req,
                 cs_error *err);
    /* out as for cx_connector.parse (CX_OK, CX_RETRY, CX_REAUTHORIZE …); page filled on CX_OK.
     * Never fails: an unreadable page is CX_RETRY with unknown = 1. */
    void (*parse)(cx_orders_step step, const cx_input *in, const cx_orders_query *q,
                  const cx_response *resp, cx_outcome *out, cx_orders_page *page);
} cx_order_ops;

extern const cx_order_ops cx_shopee_orders, cx_lazada_orders, cx_tiktok_orders;
/* The order operations of marketplace `code`, or NULL (assisted marketplaces have none). */
const cx_order_ops *cx_orders_for(const char *code);

/* Helpers the three connectors share (connectors/orders.c). */
/* Append one line (copied); -1 on OOM. */
int cx_orders_add_line(cx_orders_page *p, const cx_order_line *l);
int cx_orders_add_id(cx_orders_page *p, const char *id);
/* Note a skipped line or order (counted; the first reason kept). */
void cx_orders_bad(cx_orders_page *p, const char *what, const char *id);
/* A money value in đồng from a JSON number or numeric string ("45000", 45000, 45000.0);
 * -1 when it is not a non-negative whole number of đồng. */
long long cx_orders_vnd(const json_t *v);
/* "2024-01-02 10:00:00 +0700" or ISO 8601 "2024-01-02T10:00:00+07:00"/"…Z" → Unix s; -1. */
long long cx_orders_time(const char *s);
/* ISO 8601 with +07:00 offset (Lazada's created_after/update_after) into out (32 bytes). */
void cx_orders_iso(long long unix_s, char out[32]);
#endif
