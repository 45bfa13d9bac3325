/* connectors/connector: the one interface every marketplace connector implements. A connector is
 * pure: it builds the HTTP request for an operation and parses the response into an outcome.
 * It never reads the clock, the configuration, the database or the network (time is an input),
 * so every connector is tested byte for byte and fuzzed. Transport is connectors/transport.h. */
#ifndef CX_CONNECTOR_H
#define CX_CONNECTOR_H
#include "connectors/sign.h"
#include "core/errors.h"
#include <stddef.h>

/* ---- what a connector can do ------------------------------------------------------------ */
typedef enum cx_op {
    CX_OP_AUTHORIZE_LINK = 0, /* the link the owner opens; req->url only, never sent */
    CX_OP_TOKEN_EXCHANGE,     /* authorisation code → access + refresh token (+ shop id) */
    CX_OP_TOKEN_REFRESH,      /* refresh token → NEW access + refresh token (store both) */
    CX_OP_GET_SHOP,           /* shop identity after authorisation (TikTok: shop cipher) */
    CX_OP_IMAGE_UPLOAD,       /* one image → marketplace image id (or hosted URL) */
    CX_OP_CREATE_ITEM,        /* create with item SKU "CS-<listing id>" */
    CX_OP_UPDATE_ITEM,        /* send changed content of an existing item */
    CX_OP_GET_ITEM_BY_SKU,    /* found (CX_OK + item_id) or CX_NOT_FOUND: adopt, never duplicate.
                               * If out->confirm is set the marketplace matched loosely (Shopee's
                               * search is a substring match): run CX_OP_GET_STATUS with
                               * listing.item_id = out->candidates and listing.confirm_sku = 1;
                               * its CX_OK (exact SKU) or CX_NOT_FOUND is the answer. */
    CX_OP_GET_STATUS,         /* item state: live / pending / rejected (+ reasons) / delisted */
    CX_OP_VERIFY_PUSH,        /* check a push notification's signature and read its event */
    CX_OP_LINK_CHECK,         /* assisted marketplaces: fetch a confirmed public URL */
    CX_OP__COUNT
} cx_op;
#define CX_OPBIT(op) (1u << (unsigned)(op))

typedef enum cx_kind { CX_KIND_API = 0, CX_KIND_FILE = 1 } cx_kind;

/* ---- inputs (all borrowed; the caller keeps them alive for the call) --------------------- */

/* One marketplace as configured (see cx_market_from_config in connectors/registry.h). */
typedef struct cx_market {
    const char *code;          /* "shopee" */
    const char *base_url;      /* API gateway, no trailing slash (Lazada: ".../rest");
                                * assisted: the public site root */
    const char *auth_url;      /* OAuth host (Lazada ".../rest", TikTok token host); may be "" */
    const char *app_id;        /* Shopee partner_id, Lazada/TikTok app_key */
    const char *secret;        /* Shopee partner_key, Lazada/TikTok app_secret */
    const char *redirect_url;  /* our OAuth callback, e.g. https://…/v1/oauth/shopee/callback */
    const char *push_url;      /* our webhook URL as the marketplace calls it (Shopee signs it) */
    const char *public_domain; /* shop/listing URLs must be https on it or a subdomain */
    const char *logistic_id;   /* Shopee: logistics channel enabled on new items */
    const char *warehouse_id;  /* TikTok: warehouse for inventory; "" = omit */
} cx_market;

/* One seller account on that marketplace. */
typedef struct cx_account {
    const char *shop_id; /* Shopee shop_id, Lazada seller_id, TikTok shop cipher */
    const char *access_token;
    const char *refresh_token;
} cx_account;

/* Internal category mapped to the marketplace (schemas/data/category_map.csv). */
typedef struct cx_category {
    const char *external_id;
    const char *external_name;
    const char *attributes_json; /* JSON object merged into the marketplace's item body (Shopee:
                                  * top level, e.g. attribute_list/brand; Lazada: Attributes;
                                  * TikTok: top level, e.g. product_attributes); NULL = none */
} cx_category;

/* Listing content: our product as one marketplace item. */
typedef struct cx_listing {
    long long listing_id; /* SKU is "CS-<listing_id>" (cx_sku) */
    const char *item_id;  /* external item id (update, status); NULL when unknown */
    int confirm_sku;      /* status: item_id holds SKU look-up candidates (comma-separated);
                           * answer only an item whose SKU is exactly ours */
    const char *name;
    const char *description;
    long long price_vnd; /* whole đồng */
    long long stock;
    long weight_g;
    long length_mm, width_mm, height_mm; /* 0 = unknown */
    const char *category_code;           /* internal code, named in errors */
    const cx_category *category;         /* NULL: no mapping → build fails before any call */
    const char *const *image_ids;        /* marketplace image ids (Lazada: hosted URLs) in order */
    size_t nimages;
} cx_listing;

/* One image to upload. */
typedef struct cx_image {
    const void *data; /* file bytes (multipart uploads); borrowed by the request */
    size_t len;
    const char *filename;     /* e.g. "3f2a….jpg" */
    const char *content_type; /* image/jpeg, image/png */
    const char *source_url;   /* public URL of the same image (Lazada /image/migrate) */
} cx_image;

/* Everything an operation may need; unused members stay NULL/0. */
typedef struct cx_input {
    const cx_market *mp;
    const cx_account *account;
    const cx_listing *listing;
    const cx_image *image;
    const char *auth_code;   /* token exchange */
    const char *oauth_state; /* authorisation link: random value binding the callback */
    const char *url;         /* link check: the confirmed public URL */
    const char *expect_name; /* link check: the name the page must show (NULL: any page) */
    const void *push_body;   /* verify push: raw body and its Authorization header */
    size_t push_len;
    const char *push_authorization;
    long long now_ms; /* Unix time in milliseconds: the only clock a connector sees */
} cx_input;

/* ---- the request a connector builds (owned by the request; cx_request_free) -------------- */
#define CX_MAX_HEADERS 8
#define CX_MAX_PARTS 4
typedef struct cx_header {
    char *name;
    char *value;
} cx_header;
typedef struct cx_part { /* multipart/form-data part */
    char *name;
    char *filename;     /* NULL for a text field */
    char *content_type; /* NULL for a text field */
    const void *data;   /* file parts: borrowed from cx_image; text parts: own copy */
    size_t len;
    int owned;
} cx_part;
typedef struct cx_request {
    cx_op op;
    char method[8]; /* "GET", "POST", "PUT" */
    char *url;      /* absolute, with the query string */
    size_t nheaders;
    cx_header headers[CX_MAX_HEADERS]; /* besides Content-Type */
    char *content_type;                /* of body; NULL when no body or multipart */
    char *body;                        /* NULL when none */
    size_t body_len;
    size_t nparts; /* > 0: multipart/form-data (curl sets the boundary) */
    cx_part parts[CX_MAX_PARTS];
} cx_request;

void cx_request_init(cx_request *r);
void cx_request_free(cx_request *r); /* wipes: URLs and bodies may hold tokens */
/* Header value by case-insensitive name, or NULL. */
const char *cx_request_header(const cx_request *r, const char *name);

/* ---- the response the transport hands back (borrowed) ----------------------------------- */
typedef enum cx_transport_error {
    CX_T_OK = 0,  /* a response arrived (any status) */
    CX_T_CONNECT, /* nothing was sent (DNS, refused, TLS handshake): safe to repeat */
    CX_T_TIMEOUT, /* may have reached the marketplace: outcome unknown */
    CX_T_REFUSED, /* transport policy refused it (plain http off loopback) */
    CX_T_OTHER    /* connection dropped mid-way etc.: outcome unknown */
} cx_transport_error;
typedef struct cx_response {
    cx_transport_error transport;
    long status;      /* HTTP status, 0 when none */
    const char *body; /* may be NULL; not NUL-terminated necessarily */
    size_t body_len;
    const char *retry_after; /* Retry-After header value or NULL */
    const char *location;    /* Location header value or NULL (link checks follow it by hand) */
} cx_response;

/* ---- the outcome a connector parses ------------------------------------------------------ */
typedef enum cx_result {
    CX_OK = 0,
    CX_RETRY,       /* try again after retry_after seconds */
    CX_REAUTHORIZE, /* the owner must authorise the shop again */
    CX_REJECTED,    /* permanent: fix the fields named in reasons, then republish */
    CX_NOT_FOUND    /* SKU look-up / status: no such item (link check: page gone) */
} cx_result;
typedef enum cx_item_state {
    CX_ITEM_UNKNOWN = 0,
    CX_ITEM_PENDING, /* in review (Shopee REVIEWING, Lazada "Pending QC", TikTok PENDING) */
    CX_ITEM_LIVE,
    CX_ITEM_REJECTED, /* failed review / banned: reasons say why */
    CX_ITEM_DELISTED  /* unlisted, deleted, deactivated */
} cx_item_state;

#define CX_MAX_REASONS 8
#define CX_TOKEN_MAX 1024
typedef struct cx_reason {
    char field[40]; /* our field: name, description, price_vnd, stock, weight_g, dimensions,
                     * category, attributes, images, logistics, sku; "" = whole item */
    char code[64];  /* the marketplace's own code, e.g. error_item_name_is_too_short */
    char vi[320];   /* for the volunteer, naming the field in Vietnamese */
    char en[320];
} cx_reason;

typedef struct cx_outcome {
    cx_result result;
    unsigned retry_after; /* seconds, CX_RETRY */
    int unknown;          /* 1: the request may have taken effect (timeout, 5xx, unreadable
                           * answer); a create must look the SKU up before trying again */
    char error_code[64];  /* marketplace code, "http_503", "timeout", "malformed_response" */
    char message[256];    /* marketplace's message (English as given), for logs */
    char request_id[80];
    cx_item_state state;
    char item_id[64];
    char sku[40];      /* echoed item SKU where the marketplace returns it */
    char shop_id[128]; /* token exchange / get shop (TikTok: cipher) */
    char shop_name[128];
    char shop_ref[64];  /* TikTok get shop: the shop's numeric id its webhooks name (shop_id) */
    char image_id[512]; /* image upload: id, URI or hosted URL to put in the item */
    char item_url[512];
    char access_token[CX_TOKEN_MAX];
    char refresh_token[CX_TOKEN_MAX];
    long long access_expires_at; /* Unix seconds, 0 = not given */
    long long refresh_expires_at;
    int confirm;           /* SKU look-up: candidates must be confirmed (see above) */
    char candidates[1100]; /* comma-separated item ids to confirm (at most 50) */
    int push_code;         /* verify push: event code (Shopee 1 authorised, 2 cancelled,
                            * 6 banned item, 12 expiring; Lazada message_type; TikTok type:
                            * 1 order status change, 5 product status change) */
    size_t nreasons;
    cx_reason reasons[CX_MAX_REASONS];
} cx_outcome;

void cx_outcome_init(cx_outcome *o);
void cx_outcome_wipe(cx_outcome *o); /* zero it, tokens included (explicit_bzero) */
/* Add a reason (extra ones past CX_MAX_REASONS are dropped). Sets result CX_REJECTED. */
void cx_outcome_reject(cx_outcome *o, const char *field, const char *code, const char *vi,
                       const char *en);
const char *cx_result_name(cx_result r);         /* "ok", "retry", "reauthorize", "rejected", … */
const char *cx_item_state_name(cx_item_state s); /* "unknown", "pending", "live", … */
const char *cx_op_name(cx_op op);                /* "create_item" … */
/* Vietnamese label of one of our field names ("name" → "Tên sản phẩm"); the name if unknown. */
const char *cx_field_label_vi(const char *field);

/* ---- a connector ------------------------------------------------------------------------- */
typedef struct cx_connector {
    const char *code;         /* stable, lower case: "shopee" */
    const char *alias;        /* accepted spelling in configuration and imports, or NULL */
    const char *display_name; /* shown to people: "postmart.vn" */
    cx_kind kind;
    const char *default_domain; /* public domain of shop/item pages */
    int display_order;
    unsigned ops; /* CX_OPBIT of every operation it implements */
    /* Build the request for op. Returns 0, or -1 with err: CS_E_NOMEM; CS_E_CONFIG (the
     * marketplace lacks a setting, named in detail); CS_E_VALIDATION with field errors (e.g.
     * category_not_mapped) — all before any call is made. */
    int (*build)(cx_op op, const cx_input *in, cx_request *req, cs_error *err);
    /* Parse the response to op into out (always filled; never fails: anything unreadable is
     * CX_RETRY with unknown = 1). */
    void (*parse)(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out);
    /* CX_OP_VERIFY_PUSH: signature of in->push_* checked; CX_OK with push_code/shop_id/item_id/
     * state read from the body, or CX_REJECTED "push_signature_invalid". NULL if none. */
    void (*verify_push)(const cx_input *in, cx_outcome *out);
    /* Assisted (file) connectors: what the seller centre asks for and where; see
     * connectors/assisted.h. NULL for API connectors. */
    const struct cx_assisted *assisted;
} cx_connector;

/* Our seller SKU for a listing: "CS-<id>". out must hold 24 bytes. */
void cx_sku(long long listing_id, char out[24]);
#endif
