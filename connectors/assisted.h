/* connectors/assisted: the shared machinery of assisted (kind "file") marketplaces — postmart.vn
 * and voso.vn publish no seller API. Per household a registration pack (every field the seller
 * centre asks for, in Vietnamese); per product an upload-sheet row whose column layout is data
 * (schemas/data/upload_layout_<code>.csv); validation of the shop/listing URLs the volunteer
 * confirms; and the link check. Builds models only: the service renders HTML/XLSX/CSV. */
#ifndef CX_ASSISTED_H
#define CX_ASSISTED_H
#include "connectors/connector.h"

/* Facts about one assisted marketplace (in postmart.c / voso.c). */
typedef struct cx_assisted {
    const char *signup_url;   /* where the owner registers as a seller */
    const char *seller_word;  /* what the site calls a seller ("Nhà cung cấp (NCC)") */
    const char *const *steps; /* NULL-terminated: registration steps, Vietnamese */
    const char *const *notes; /* NULL-terminated: rules worth knowing (order confirmation…) */
    const char *layout_file;  /* upload_layout_<code>.csv, relative to schema.dir/data (a path
                               * with its directory for a marketplace configured as data) */
    const char *const *gone_markers; /* NULL-terminated text that means "no such page" on a 200 */
    /* Marketplaces configured as data (cx_assisted_load): the site root from the row, and the
     * registration-pack fields of pack_layout_<code>.csv (NULL: every known field). */
    const char *base_url;
    const struct cx_pack_spec *pack;
    size_t npack;
} cx_assisted;

/* One registration-pack field as a data file words it: key is one of the known household
 * fields (shop_name, owner_name, birth_date, cccd, phone, email, address, commune,
 * former_district, province, business_reg_no, tax_code, bank_name, bank_account, bank_holder,
 * epayment, main_category, household_code). */
typedef struct cx_pack_spec {
    char *key, *label, *note;
    int required;
} cx_pack_spec;

/* ---- marketplaces as data ------------------------------------------------------------------ */
/* Read <data_dir>/assisted_marketplaces.csv (header code,name,public_domain,display_order,
 * signup_url,seller_word,base_url,steps,notes,gone_markers; lists separated by " | ") and
 * register one generic assisted connector per row whose code is not registered yet, with its
 * upload layout upload_layout_<code>.csv (required: checked here) and its optional
 * pack_layout_<code>.csv (header key,label,required,note). No file: 0, nothing registered.
 * Called once at start-up, before any thread. Returns the number registered, or -1. */
int cx_assisted_load(const char *data_dir, cs_error *err);
/* Unregister and free what cx_assisted_load registered (tests). */
void cx_assisted_unload(void);

/* ---- registration pack -------------------------------------------------------------------- */
/* A household as the registration pack needs it (plaintext: the pack is shown to the volunteer
 * and the owner only; never logged). All borrowed; NULL or "" = not known. */
typedef struct cx_household {
    const char *code; /* our public code, e.g. TH-2026-00123 */
    const char *shop_name;
    const char *owner_name;
    const char *birth_date; /* dd/mm/yyyy */
    const char *cccd;
    const char *phone;
    const char *email;
    const char *address;         /* house number, street, hamlet/village */
    const char *commune;         /* xã/phường in force since 2025-07-01 */
    const char *former_district; /* huyện/thị xã/thành phố before 2025 */
    const char *province;        /* "Thanh Hóa" */
    const char *business_reg_no; /* household business registration certificate number */
    const char *tax_code;
    const char *bank_name;
    const char *bank_account;
    const char *bank_holder;
    const char *epayment;      /* e-wallet / e-payment account (e.g. ViettelMoney, VNPT Money) */
    const char *main_category; /* display name of the main product category */
} cx_household;

#define CX_PACK_MAX_FIELDS 24
typedef struct cx_pack_field {
    char key[32];    /* stable machine key, e.g. "cccd" */
    char label[128]; /* Vietnamese label as a seller centre words it */
    char *value;     /* owned copy ("" when unknown); personal data: wiped on free */
    int required;
    int missing;    /* required and empty: the volunteer must collect it */
    char note[256]; /* Vietnamese hint: format, which document to bring */
} cx_pack_field;

typedef struct cx_pack {
    const cx_connector *mp;
    size_t nfields;
    cx_pack_field fields[CX_PACK_MAX_FIELDS];
    size_t nmissing;
} cx_pack;

/* Build the pack for household h on assisted marketplace c. Returns 0 (missing required fields
 * are flagged, not errors: the pack shows what to collect), or -1 (CS_E_NOMEM; CS_F_MARKETPLACE
 * when c is not assisted). */
int cx_registration_pack(const cx_connector *c, const cx_household *h, cx_pack *out, cs_error *err);
void cx_pack_free(cx_pack *p);
/* 1 when key names a household field a pack can carry (see cx_pack_spec). */
int cx_pack_key_known(const char *key);
/* The pack as JSON {"marketplace","display_name","signup_url","seller_word","steps":[…],
 * "notes":[…],"fields":[{"key","label","value","required","missing","note"}],"missing":N}.
 * Caller frees with cs_free_secret(s, len) (it holds personal data). NULL on OOM. */
char *cx_pack_json(const cx_pack *p, size_t *len);

/* ---- upload sheet ------------------------------------------------------------------------- */
typedef struct cx_layout_col {
    char *header; /* column header as the template prints it (Vietnamese) */
    char *source; /* where the value comes from, see cx_sheet_row */
    int required;
    long max_len; /* characters (code points); 0 = no limit */
    char *notes;
} cx_layout_col;
typedef struct cx_layout {
    size_t ncols;
    cx_layout_col *cols;
} cx_layout;
/* Parse a layout CSV with the header header,source,required,max_length,notes (required: yes/no
 * or 1/0). Unknown sources are rejected so a typo in a template cannot silently empty a column.
 * Returns 0 or -1. */
int cx_layout_parse(const char *text, size_t n, cx_layout *out, cs_error *err);
int cx_layout_load(const char *path, cx_layout *out, cs_error *err);
void cx_layout_free(cx_layout *l);

/* One product as an upload-sheet row needs it. */
typedef struct cx_sheet_item {
    const cx_listing *listing;     /* name, description, price, stock, weight, size, category */
    const char *const *image_urls; /* public URLs (or file names) of the images, in order */
    size_t nimages;
    const char *origin; /* place of origin */
    int ocop_stars;     /* 0 = none */
    const char *unit;   /* selling unit: "hộp", "chai", "kg" … */
    const char *brand;  /* "" = no brand */
} cx_sheet_item;

/* Sources a layout may use: sku, name, description, price_vnd, stock, weight_g, weight_kg,
 * length_mm, width_mm, height_mm, length_cm, width_cm, height_cm, dimensions_cm ("LxWxH"),
 * category_id, category_name, image_1 … image_9, image_urls (one per line), origin, ocop_stars,
 * unit, brand, attr:<key> (a member of the category's attributes_json), const:<text>. */
int cx_layout_source_known(const char *source);

/* Fill the cells of one row (cells[i] for layout column i; owned, free with
 * cx_sheet_row_free). Returns 0 when complete; -1 with field errors named by column header
 * (required empty: CS_F_REQUIRED; over max_len: CS_F_TOO_LONG) — the cells are still filled
 * so the sheet can show the row — or -1 with CS_E_NOMEM and *cells NULL. */
int cx_sheet_row(const cx_layout *l, const cx_sheet_item *it, char ***cells, cs_error *err);
void cx_sheet_row_free(const cx_layout *l, char **cells);

/* ---- confirmed URLs and the link check ---------------------------------------------------- */
/* 1 when url is https on mp->public_domain or a subdomain of it (no user info, no odd
 * characters, a path beyond "/"), or — in the sandbox, when mp->base_url is an http URL on
 * loopback — under that exact origin. 0 otherwise (err gets a field error on `field`). */
int cx_assisted_url_ok(const cx_market *mp, const char *url, const char *field, cs_error *err);

/* The key that makes one address belong to one shop or listing: scheme and host lower-cased,
 * a leading "www." or "m." dropped, the default port dropped, query and fragment dropped,
 * trailing slashes dropped ("https://www.PostMart.vn/shop/abc/?ref=x" →
 * "https://postmart.vn/shop/abc"). The sites address shops and products by path. 0, or -1
 * when url cannot be split or out is too small. */
int cx_assisted_url_key(const char *url, char *out, size_t outsz);

/* 1 when page (HTML, len bytes) shows name: tags dropped, character references decoded, both
 * folded (core/vn: no accents, đ → d, lower case) and every run of non-letters read as one
 * space, name matched on word boundaries. "Nem chua Hoa Tâm" matches "NEM CHUA HOA TAM". */
int cx_page_shows_name(const char *page, size_t len, const char *name);

/* The build/parse used by assisted connectors for CX_OP_LINK_CHECK:
 * GET url → 200 live (unless the body carries a "gone" marker; when in->expect_name is set the
 * page must show it, else CX_REJECTED "name_not_shown"), 404/410 → CX_NOT_FOUND, a redirect →
 * CX_RETRY "redirect" with the absolute target in item_url (the caller checks it is on the
 * marketplace and fetches it), anything else → CX_RETRY (Retry-After honoured on 429/503). */
int cx_assisted_build(const cx_connector *c, cx_op op, const cx_input *in, cx_request *req,
                      cs_error *err);
void cx_assisted_parse(const cx_connector *c, cx_op op, const cx_input *in, const cx_response *resp,
                       cx_outcome *out);
#endif
