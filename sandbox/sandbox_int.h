/* sandbox/ internal: what the shared core (sandbox.c, sandbox_store.c) offers the
 * per-marketplace simulators. Not for use outside sandbox/.
 *
 * Threading: every marketplace handler runs with sb->mu held, so handlers touch the state
 * directly and must never block (no sleeping, no network). Latency, hangs and push delivery
 * happen in the core, outside the lock. */
#ifndef SBX_SANDBOX_INT_H
#define SBX_SANDBOX_INT_H
#include "sandbox/sandbox.h"
#include "connectors/sign.h"
#include "core/buf.h"
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

#define SB_ID_MAX 64    /* shop ids, tokens, image ids */
#define SB_SKU_MAX 128  /* longest SKU kept */
#define SB_NAME_MAX 256 /* item names are kept truncated to this */
#define SB_REASON_MAX 256
#define SB_MAX_PARAMS 128  /* query + form parameters kept per request */
#define SB_MAX_PARTS 16    /* multipart parts kept per request */
#define SB_NEXT_MAX 256    /* queued deterministic faults per marketplace */
#define SB_REQSTAT_MAX 512 /* distinct (marketplace, path, status) counters */
#define SB_MAX_ATTRS 12    /* mandatory attributes per category */
#define SB_MAX_CATS 512
#define SB_MAX_BANNED 64
#define SB_PUSH_MAX 1024          /* queued push notifications */
#define SB_UPLOAD_MAX (12u << 20) /* request body cap for upload paths (image ≤ 10 MiB) */
#define SB_BODY_MAX (2u << 20)    /* request body cap elsewhere */
#define SB_IMAGE_MAX (10u << 20)

enum sb_tok_kind { SB_TOK_CODE = 0, SB_TOK_ACCESS, SB_TOK_REFRESH };
enum sb_item_state { SB_IT_REVIEWING = 0, SB_IT_LIVE, SB_IT_REJECTED };
enum sb_page_state { SB_PAGE_PUBLISHED = 0, SB_PAGE_REMOVED, SB_PAGE_GONE };
enum sb_auth { SB_AUTH_OK = 0, SB_AUTH_MISSING, SB_AUTH_INVALID, SB_AUTH_EXPIRED, SB_AUTH_REVOKED };
enum sb_fault {
    SB_F_NONE = 0,
    SB_F_5XX,
    SB_F_429,
    SB_F_TIMEOUT,
    SB_F_MALFORMED,
    SB_F_DROP,
    SB_F_LOST,           /* created, then the connection is dropped */
    SB_F_LOST_HANG,      /* created, then the connection hangs until hang_ms and drops */
    SB_F_LOST_MALFORMED, /* created, then a truncated body is sent */
    SB_F_N
};

typedef struct sb_kv {
    char *key;
    char *value;
    int from_query; /* 1: URL query; 0: form body or multipart text field */
} sb_kv;

typedef struct sb_part {
    char name[64];
    char filename[128];
    char ctype[64];
    const unsigned char *data; /* points into the request body */
    size_t len;
} sb_part;

typedef struct sb_req {
    sbx_sandbox *sb;
    int market;
    struct MHD_Connection *conn;
    char *method;
    char *path;
    cs_buf body;
    int too_big;
    int answered;
    int multipart;
    sb_kv params[SB_MAX_PARAMS];
    size_t nparams;
    sb_part parts[SB_MAX_PARTS];
    size_t nparts;
    long long now_ms; /* wall clock, ms since the epoch */
    char request_id[40];
} sb_req;

typedef struct sb_resp {
    int status;
    cs_buf body;
    const char *ctype;
    char *location; /* owned; Location header for redirects */
} sb_resp;

typedef struct sb_shop {
    int market;
    char id[SB_ID_MAX];
    char cipher[SB_ID_MAX];     /* TikTok shop_cipher */
    unsigned long long keyhash; /* who authorised it (redirect / state), to find it again */
    int revoked;
    long long created_ms;
} sb_shop;

typedef struct sb_token {
    int market;
    int kind;
    char value[SB_ID_MAX];
    char shop_id[SB_ID_MAX];
    long long expires_ms;
    int used;
} sb_token;

typedef struct sb_item {
    int market;
    long long item_id;
    long long sku_id;
    char shop_id[SB_ID_MAX];
    char sku[SB_SKU_MAX];
    char name[SB_NAME_MAX];
    char category[32];
    char image_id[SB_ID_MAX]; /* first image */
    double price;
    double weight;
    long long stock;
    int state;
    int verdict; /* state the review ends in */
    char reason[SB_REASON_MAX];
    long long create_ms, update_ms, review_at_ms;
    char *description; /* owned (cs_strdup by sbx_item_submit); freed by reset/free */
    int withdrawn;     /* SB_WD_*: taken down by the seller (unlist / deactivate / delete) */
} sb_item;
/* SB_WD_BANNED: taken down by the marketplace (Shopee BANNED, Lazada Suspended, TikTok
 * PLATFORM_DEACTIVATED), set only by POST /__sandbox/items/status */
enum sb_withdrawn { SB_WD_NONE = 0, SB_WD_UNLISTED, SB_WD_DELETED, SB_WD_BANNED };

typedef struct sb_image {
    int market;
    char id[SB_ID_MAX];
    size_t size;
    int width, height;
} sb_image;

typedef struct sb_page {
    char marketplace[16]; /* an assisted code: "postmart", "voso", "sendo" … */
    int product;          /* 0 shop page, 1 product page */
    char id[SB_ID_MAX];
    int state;
    char title[200];
} sb_page;

typedef struct sb_category {
    int market;
    char id[32];
    char attrs[SB_MAX_ATTRS][32];
    int nattrs;
    char name[192]; /* "Ngành > Nhóm > Lá" from the category map; "" when not given */
} sb_category;

typedef struct sb_reqstat {
    int market;
    char path[96];
    char status[12];
    long long count;
} sb_reqstat;

typedef struct sb_faults {
    long latency_ms;
    double rate[SB_F_N]; /* probability per request of each fault (created_lost: create calls) */
    long hang_ms;
    int next[SB_NEXT_MAX];
    size_t nnext, inext;
    long long injected[SB_F_N];
} sb_faults;

typedef struct sb_push {
    int market;
    char *url;
    char *body;
    char auth[65];
    int attempts;
    long long next_ms;
} sb_push;

/* A buyer's order (sandbox_orders.c): one item, qty units, moving through the marketplace's own
 * statuses every step_ms until its fate (delivered, cancelled or returned). */
enum sb_fate { SB_FATE_DELIVERED = 0, SB_FATE_CANCELLED, SB_FATE_RETURNED };
typedef struct sb_order {
    int market;
    long long id; /* Lazada order_id / TikTok id; Shopee order_sn is "SB" + 12 digits of id */
    char shop_id[SB_ID_MAX];
    long long item_id, line_id; /* line_id: the first line's id (Lazada/TikTok: one per unit) */
    char sku[SB_SKU_MAX];
    long long qty, price; /* price: per unit, đồng */
    int fate, stage;
    long long create_ms, update_ms, next_ms;
} sb_order;

/* The per-marketplace simulator: handler, its own error shapes and its own push notifications
 * (built and queued by the simulator's file; the core only POSTs them). */
typedef struct sb_market_ops {
    const char *code;
    void (*handle)(sb_req *rq, sb_resp *rs);
    /* 1 if a request creates an item (where "created but response lost" applies). */
    int (*is_create)(const char *method, const char *path);
    void (*throttle)(sb_req *rq, sb_resp *rs);     /* the marketplace's rate-limit answer */
    void (*server_error)(sb_req *rq, sb_resp *rs); /* its 5xx answer */
    /* Path as counted in stats (ids replaced by {id}). */
    void (*norm_path)(const char *path, char *out, size_t n);
    /* A review ended (it->state is live or rejected); NULL when the marketplace says nothing. */
    void (*reviewed)(sbx_sandbox *sb, const sb_item *it, long long now_ms);
    /* The seller's authorisation was revoked; NULL when the marketplace says nothing. */
    void (*revoked)(sbx_sandbox *sb, const sb_shop *s, long long now_ms);
    /* An order changed status (its push); NULL when the marketplace pushes nothing. */
    void (*order_changed)(sbx_sandbox *sb, const sb_order *o, long long now_ms);
    /* The marketplace changed a live item's status itself (POST /__sandbox/items/status: a ban,
     * a deletion or deactivation in the seller centre, back to live): its push; NULL = none. */
    void (*item_changed)(sbx_sandbox *sb, const sb_item *it, long long now_ms);
} sb_market_ops;

extern const sb_market_ops sbx_shopee_ops, sbx_lazada_ops, sbx_tiktok_ops, sbx_assisted_ops;
/* The simulator of a marketplace (sandbox.c). */
const sb_market_ops *sbx_ops(int market);

struct sbx_sandbox {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on stop and when pushes are queued */
    int stopping;
    /* options (strings owned) */
    sbx_options opt;
    char *s_partner_key, *s_laz_key, *s_laz_secret, *s_tt_key, *s_tt_secret;
    char *shopee_push_url, *lazada_push_url, *tiktok_redirect_url;
    char *tiktok_push_url; /* TikTok Shop webhooks (type 1 order, type 5 product); NULL = none */
    /* non-NULL: Shopee unlist_item refuses every item with this failed_reason (a take-down the
     * marketplace will not do, e.g. an item in a running promotion) */
    char *takedown_refusal;
    char *banned[SB_MAX_BANNED]; /* case-folded */
    size_t nbanned;
    sb_category cats[SB_MAX_CATS];
    size_t ncats;
    /* listeners */
    char host[64]; /* in the URLs handed out: 127.0.0.1, or the address listened on */
    struct MHD_Daemon *d[SBX_NMARKETS];
    unsigned port[SBX_NMARKETS];
    struct sb_listener {
        sbx_sandbox *sb;
        int market;
    } listener[SBX_NMARKETS];
    pthread_t reviewer;
    int reviewer_started;
    /* state */
    unsigned long long rng;
    long long seq;
    sb_faults faults[SBX_NMARKETS];
    double bucket[SBX_NMARKETS];
    long long bucket_ms[SBX_NMARKETS];
    sb_shop *shops;
    size_t nshops, capshops;
    sb_token *tokens;
    size_t ntokens, captokens;
    sb_item *items;
    size_t nitems, capitems;
    sb_image *images;
    size_t nimages, capimages, imagehead; /* ring once full */
    sb_page *pages;
    size_t npages, cappages;
    sb_reqstat reqstats[SB_REQSTAT_MAX];
    size_t nreqstats;
    long long tokens_issued[SBX_NMARKETS];
    long long throttled[SBX_NMARKETS];
    long long pushes_sent[SBX_NMARKETS], pushes_failed[SBX_NMARKETS];
    long long next_review_ms; /* earliest pending review; LLONG_MAX when none */
    sb_push push[SB_PUSH_MAX];
    size_t npush;
    /* buyers (sandbox_orders.c) */
    sb_order *orders;
    size_t norders, caporders;
    double order_rate;  /* orders per live item per hour placed by simulated buyers (0 = none) */
    long order_step_ms; /* time between two status changes of an order */
    double cancel_rate, return_rate; /* share of buyers' orders that end so */
    long long buyers_ms;             /* last time buyers were given a chance to order */
    long long orders_next_ms;        /* earliest due status change; LLONG_MAX when none */
};

/* ---- admin endpoints (admin.c) ---- */
/* Answer a request under /__sandbox/ from the routing table; takes sb->mu itself. */
void sbx_admin(sb_req *rq, sb_resp *rs);

/* ---- request and response helpers (sandbox.c) ---- */
/* First parameter named key (query first, then form); NULL when absent. */
const char *sbx_param(const sb_req *rq, const char *key);
/* Query parameter only. */
const char *sbx_query(const sb_req *rq, const char *key);
/* Request header value or NULL. */
const char *sbx_header(const sb_req *rq, const char *name);
/* Multipart part by field name, or NULL. */
const sb_part *sbx_part(const sb_req *rq, const char *name);
/* Answer with JSON (takes the reference; NULL j = 500). */
void sbx_reply_json(sb_resp *rs, int status, json_t *j);
/* Answer with an HTML page (copied). */
void sbx_reply_html(sb_resp *rs, int status, const char *html);
/* 302 to url (copied). */
void sbx_redirect(sb_resp *rs, const char *url);
/* Append text to b with &<>"' escaped for HTML. */
void sbx_html_escape(cs_buf *b, const char *s);
/* Append s to b percent-encoded for a URL query value. */
void sbx_url_escape(cs_buf *b, const char *s);
/* The OAuth approve page used by every API simulator for volunteer training (Vietnamese).
 * hidden: NULL-terminated list of name, value pairs carried to the approve form. */
void sbx_auth_page(sb_resp *rs, const char *marketplace_name, const char *action,
                   const char *const *hidden);
/* "http://127.0.0.1:PORT" of a simulator. */
void sbx_base_url(const sbx_sandbox *sb, int market, char *out, size_t n);
/* Wall clock, ms since the epoch. */
long long sbx_now_ms(void);
/* Parse a whole decimal integer (optionally signed); 0 or -1. */
int sbx_parse_ll(const char *s, long long *out);
/* Whole decimal integer of s, 0 when it is not one. */
long long sbx_ll(const char *s);
/* Number of Unicode code points in UTF-8 text. */
size_t sbx_utf8_len(const char *s);
/* Image kind from magic bytes: "jpg", "png" or NULL; fills width/height when readable. */
const char *sbx_image_kind(const unsigned char *p, size_t n, int *w, int *h);

/* ---- state (sandbox_store.c); callers hold sb->mu ---- */
unsigned long long sbx_rand(sbx_sandbox *sb);
/* Probability draw in [0,1). */
double sbx_rand01(sbx_sandbox *sb);
/* nbytes random bytes as lowercase hex into out (2*nbytes+1). */
void sbx_rand_hex(sbx_sandbox *sb, char *out, size_t nbytes);
long long sbx_next_seq(sbx_sandbox *sb);
unsigned long long sbx_hash(const char *s);

sb_shop *sbx_shop_find(sbx_sandbox *sb, int market, const char *id);
/* The shop authorised under keyhash before (0 = none), or a new one; NULL when the cap is hit.
 * An explicit id (may be NULL) is honoured. A found shop is un-revoked. */
sb_shop *sbx_shop_authorise(sbx_sandbox *sb, int market, const char *id,
                            unsigned long long keyhash);
/* Issue a token (value written to out). ttl_ms > 0. Returns 0 or -1 (no memory). */
int sbx_token_issue(sbx_sandbox *sb, int market, int kind, const char *shop_id, long long ttl_ms,
                    char out[SB_ID_MAX]);
sb_token *sbx_token_find(sbx_sandbox *sb, int market, int kind, const char *value);
/* Check an access token: fills *shop with its shop on SB_AUTH_OK. */
enum sb_auth sbx_access_check(sbx_sandbox *sb, int market, const char *token, long long now_ms,
                              sb_shop **shop);
/* Lifetimes in ms for this marketplace (options override the real ones). */
long long sbx_access_ttl_ms(const sbx_sandbox *sb, int market);
long long sbx_refresh_ttl_ms(const sbx_sandbox *sb, int market);

/* A new item slot (zeroed, market set, ids assigned, review scheduled by the caller through
 * sbx_item_submit); NULL when max_items is reached. */
sb_item *sbx_item_new(sbx_sandbox *sb, int market);
/* Decide the review outcome from the banned words in name/description and schedule it. */
void sbx_item_submit(sbx_sandbox *sb, sb_item *it, const char *description, long long now_ms);
sb_item *sbx_item_by_id(sbx_sandbox *sb, int market, long long item_id);
/* Finish every review due by now (and queue the push notifications). */
void sbx_review_due(sbx_sandbox *sb, long long now_ms);
/* Finish reviews now regardless of the delay (market < 0: all; item_id 0: all). Returns count. */
int sbx_review_force(sbx_sandbox *sb, int market, long long item_id, long long now_ms);

int sbx_image_add(sbx_sandbox *sb, int market, size_t size, int w, int h, char out[SB_ID_MAX]);
const sb_image *sbx_image_find(sbx_sandbox *sb, int market, const char *id);

/* Public page of an assisted marketplace (marketplace NULL: any). */
sb_page *sbx_page_find(sbx_sandbox *sb, const char *marketplace, int product, const char *id);
/* Create or update a page; NULL when the cap is hit. title may be NULL (kept). */
sb_page *sbx_page_set(sbx_sandbox *sb, const char *marketplace, int product, const char *id,
                      int state, const char *title);

/* Accepted category (NULL when not accepted). */
const sb_category *sbx_category(const sbx_sandbox *sb, int market, const char *id);
/* Parse a category spec (see sbx_options.categories) into sb->cats; 0 or -1. */
int sbx_categories_parse(sbx_sandbox *sb, const char *spec, cs_error *err);
int sbx_categories_load_csv(sbx_sandbox *sb, const char *path, cs_error *err);
/* Replace the banned words (comma-separated). 0 or -1. */
int sbx_banned_set(sbx_sandbox *sb, const char *list);
/* First banned word found (case-folded) in text, or NULL. */
const char *sbx_banned_find(const sbx_sandbox *sb, const char *text);

/* Queue a push notification (copies url and body); drops it when the queue is full. */
void sbx_push_queue(sbx_sandbox *sb, int market, const char *url, const char *body,
                    const char *auth);

/* ---- orders (sandbox_orders.c); callers hold sb->mu ---- */
/* Place an order of qty units of item it with the given fate (SB_FATE_*); NULL when full. */
sb_order *sbx_order_place(sbx_sandbox *sb, const sb_item *it, long long qty, int fate,
                          long long now_ms);
/* Move orders whose next step is due, let buyers order live items at order_rate; pushes queued. */
void sbx_orders_due(sbx_sandbox *sb, long long now_ms);
/* Move orders to their final status now (market < 0: all). Returns how many moved. */
int sbx_orders_settle(sbx_sandbox *sb, int market, long long now_ms);
/* The marketplace's status text of an order as it stands. */
const char *sbx_order_status(const sb_order *o);
/* 1 when the order reached its final status. */
int sbx_order_final(const sb_order *o);
/* Shopee's order_sn of an order into out (24 bytes); parse it back (0 or -1). */
void sbx_order_sn(const sb_order *o, char out[24]);
sb_order *sbx_order_find(sbx_sandbox *sb, int market, long long id);
/* ISO 8601 ("…T…Z", "…T…+07:00", "… … +0700") → Unix s; 0 or -1. */
int sbx_iso_time(const char *s, long long *out);
/* Lazada's time text "2024-01-02 10:00:00 +0700" (Asia/Ho_Chi_Minh) into out. */
void sbx_iso_format(long long unix_s, char out[32]);
/* Forget every order; free their memory (free = 1). */
void sbx_orders_reset(sbx_sandbox *sb, int free_all);

/* Forget every shop, token, item, image, page, counter and queued fault. */
void sbx_state_reset(sbx_sandbox *sb);
void sbx_state_free(sbx_sandbox *sb);

/* Marketplace code ("shopee", …, "postmart"/"voso" map to the assisted listener); -1 unknown. */
int sbx_market_from_code(const char *code);
const char *sbx_market_code(int market);
const char *sbx_fault_name(int f);
int sbx_fault_from_name(const char *s);

/* ---- catalogue (sandbox_catalog.c): category trees, attribute lists, brands ---- */
typedef struct sb_catnode {
    char id[32];
    char parent[32]; /* "" or "0" at the top, as each simulator spells it */
    char name[96];
    int leaf;
} sb_catnode;
/* The tree of a marketplace built from its accepted categories' paths ("A > B > C"): every
 * accepted category is a leaf; the branches above get stable ids (9000 + position). Returns an
 * array (cs_free) of *n nodes, parents before children; NULL with *n = 0 when out of memory. */
sb_catnode *sbx_catalog_tree(const sbx_sandbox *sb, int market, size_t *n);
/* An attribute as the marketplace describes it; the mandatory ones of a category come from the
 * category map, a few optional ones are added so the lists look like the real ones. */
typedef struct sb_attrdef {
    const char *id;
    const char *name;           /* Vietnamese */
    const char *input;          /* "singleSelect", "text", "numeric", "richText" */
    const char *const *choices; /* NULL-terminated, or NULL for free text */
    int mandatory;
} sb_attrdef;
/* Attributes of category c (mandatory first) into out (≤ max); returns the count. Unknown
 * mandatory ids get their id as name and free-text input. */
size_t sbx_catalog_attrs(int market, const sb_category *c, sb_attrdef *out, size_t max);
/* Brands the Lazada and TikTok simulators offer (NULL-terminated), ids are position + 100000. */
extern const char *const sbx_brands[];
#endif
