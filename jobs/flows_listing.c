/* jobs/flows_listing: a product as a listing on an API marketplace — listing.publish (map →
 * images → create with SKU "CS-<listing id>", adopting an existing item whenever an earlier
 * create's outcome is unknown), listing.update, listing.status, listing.poll, push
 * notifications, and the API entry points that queue them. It must never create a second item
 * for one listing, and changes listing states only through core/states. */
#include "connectors/catalog.h"
#include "connectors/catmap.h"
#include "core/catalog.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/instance.h"
#include "core/log.h"
#include "core/media.h"
#include "core/mem.h"
#include "core/states.h"
#include "jobs/flows.h"
#include "jobs/flows_int.h"
#include "jobs/orders.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a listing with its product ------------------------------------------------------------ */

typedef struct lst {
    cs_rows *r; /* owns the strings below */
    int64_t id, product_id, household_id;
    int64_t account_id; /* the household's account on this marketplace, 0 = none */
    const char *state, *mp, *item_id, *category, *url;
    int create_attempted;
    int product_active;
    cx_listing cx;
    cx_category cat;
    int mapped;
    const unsigned char *content_hash, *synced_hash;
    int64_t linkfail;
} lst;

enum {
    L_STATE,
    L_PRODUCT,
    L_MP,
    L_ITEM,
    L_ATTEMPTED,
    L_HH,
    L_NAME,
    L_DESC,
    L_CAT,
    L_PRICE,
    L_STOCK,
    L_WEIGHT,
    L_LEN,
    L_WID,
    L_HEI,
    L_HASH,
    L_SYNCED,
    L_PSTATUS,
    L_CATID,
    L_CATNAME,
    L_ATTRS,
    L_MAPPED,
    L_URL,
    L_LINKFAIL,
    L_ACCOUNT
};

// clang-format off
/* its columns are enum L_* above */
static const char SQL_LST[] =
    "SELECT l.state, l.product_id, l.marketplace_code, l.external_item_id,"
    "       l.create_attempted_at IS NOT NULL, p.household_id, p.name, p.description, p.category,"
    "       p.price_vnd, p.stock, p.weight_g, p.length_mm, p.width_mm, p.height_mm, p.content_hash,"
    "       l.synced_hash, p.status, c.external_category_id, c.external_category_name, c.attributes,"
    "       c.category IS NOT NULL, l.listing_url, l.linkcheck_failures, sa.id"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " LEFT JOIN category_map c ON c.category = p.category AND c.marketplace_code = l.marketplace_code"
    " LEFT JOIN seller_accounts sa ON sa.household_id = p.household_id"
    "  AND sa.marketplace_code = l.marketplace_code"
    " WHERE l.id = ?";
static const char SQL_STATE_LOCK[] =
    "SELECT state, product_id"
    " FROM listings"
    " WHERE id = ?"
    " FOR UPDATE";
static const char SQL_CHECKED[] =
    "UPDATE listings"
    " SET status_checked_at = UTC_TIMESTAMP()"
    " WHERE id = ?";
static const char SQL_NOTE[] =
    "UPDATE listings"
    " SET last_error_code = ?, last_error_message = ?"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_STATE_LOCK */
enum { SL_STATE, SL_PRODUCT };

static int lst_load(cs_db *db, int64_t id, lst *l, cs_error *err)
{
    memset(l, 0, sizeof *l);
    if (cs_db_query(db, &l->r, SQL_LST, "i", id, err)) return -1;
    if (!cs_rows_count(l->r)) {
        cs_rows_free(l->r);
        l->r = NULL;
        return 1;
    }
    cs_rows *r = l->r;
    l->id = id;
    l->state = cs_rows_str(r, 0, L_STATE);
    l->product_id = cs_rows_i64(r, 0, L_PRODUCT);
    l->mp = cs_rows_str(r, 0, L_MP);
    l->item_id = cs_rows_strn(r, 0, L_ITEM);
    l->create_attempted = cs_rows_i64(r, 0, L_ATTEMPTED) != 0;
    l->household_id = cs_rows_i64(r, 0, L_HH);
    l->account_id = cs_rows_i64(r, 0, L_ACCOUNT); /* NULL (no account) reads as 0 */
    l->category = cs_rows_str(r, 0, L_CAT);
    l->product_active = !strcmp(cs_rows_str(r, 0, L_PSTATUS), "active");
    l->url = cs_rows_strn(r, 0, L_URL);
    l->linkfail = cs_rows_i64(r, 0, L_LINKFAIL);
    size_t hl = 0;
    l->content_hash = cs_rows_blob(r, 0, L_HASH, &hl);
    if (hl != 32) l->content_hash = NULL;
    l->synced_hash = cs_rows_blob(r, 0, L_SYNCED, &hl);
    if (hl != 32) l->synced_hash = NULL;
    l->mapped = cs_rows_i64(r, 0, L_MAPPED) != 0;
    l->cat.external_id = cs_rows_str(r, 0, L_CATID);
    l->cat.external_name = cs_rows_str(r, 0, L_CATNAME);
    l->cat.attributes_json = cs_rows_strn(r, 0, L_ATTRS);
    if (l->cat.attributes_json && !*l->cat.attributes_json) l->cat.attributes_json = NULL;
    cx_listing *c = &l->cx;
    c->listing_id = id;
    c->item_id = l->item_id;
    c->name = cs_rows_str(r, 0, L_NAME);
    c->description = cs_rows_str(r, 0, L_DESC);
    c->price_vnd = cs_rows_i64(r, 0, L_PRICE);
    c->stock = cs_rows_i64(r, 0, L_STOCK);
    c->weight_g = (long)cs_rows_i64(r, 0, L_WEIGHT);
    c->length_mm = (long)cs_rows_i64(r, 0, L_LEN);
    c->width_mm = (long)cs_rows_i64(r, 0, L_WID);
    c->height_mm = (long)cs_rows_i64(r, 0, L_HEI);
    c->category_code = l->category;
    c->category = l->mapped ? &l->cat : NULL;
    return 0;
}

static void lst_free(lst *l)
{
    cs_rows_free(l->r);
    l->r = NULL;
}

/* ---- reasons for the volunteer ------------------------------------------------------------- */

/* [{field, code, message}] of the marketplace's reasons (Vietnamese messages). */
static char *reasons_json(const cx_outcome *o)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < o->nreasons; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "field", o->reasons[i].field, "code",
                                           o->reasons[i].code, "message", o->reasons[i].vi));
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

static void reasons_text(const cx_outcome *o, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < o->nreasons && k + 1 < n; i++) {
        int w = snprintf(out + k, n - k, "%s%s", i ? " " : "", o->reasons[i].vi);
        if (w < 0) break;
        k += (size_t)w;
    }
    if (k >= n) k = n - 1;
    /* never leave half a UTF-8 character at the cut */
    while (k > 0 && ((unsigned char)out[k] & 0xC0) == 0x80)
        k--;
    if (k < strlen(out)) out[k] = '\0';
    if (!out[0]) snprintf(out, n, "%s", o->message[0] ? o->message : "Sàn từ chối sản phẩm");
}

/* A build-time validation error (e.g. category_not_mapped, images required) as reasons. */
static void reasons_from_error(const cs_error *e, cx_outcome *o)
{
    cx_outcome_init(o);
    for (size_t i = 0; i < e->nfields; i++) {
        char vi[320];
        snprintf(vi, sizeof vi, "«%s»: %s%s%s", cx_field_label_vi(e->fields[i].field),
                 cs_code_message(e->fields[i].code, CS_LANG_VI),
                 e->fields[i].detail[0] ? " — " : "", e->fields[i].detail);
        cx_outcome_reject(o, e->fields[i].field, cs_code_name(e->fields[i].code), vi,
                          cs_code_message(e->fields[i].code, CS_LANG_EN));
    }
    if (!e->nfields)
        cx_outcome_reject(o, "", cs_code_name(e->code), cs_code_message(e->code, CS_LANG_VI),
                          cs_code_message(e->code, CS_LANG_EN));
    snprintf(o->error_code, sizeof o->error_code, "%s",
             e->nfields ? cs_code_name(e->fields[0].code) : cs_code_name(e->code));
}

/* ---- state changes ------------------------------------------------------------------------- */

struct apply {
    int64_t id;
    const cx_outcome *o;
    const char *via;
    const char *item_id; /* store (create/adopt) or NULL */
    const unsigned char *hash;
    int from_create;
    int enqueue_status;
    int checked; /* a status look-up answered: stamp status_checked_at in the same transaction */
};

/* apply_tx holds the listing's row and knows its state and product */
static int move(cs_db *db, int64_t id, int64_t product, const char *from, const char *to,
                const char *code, const char *why, cs_error *err)
{
    if (!strcmp(from, to)) return 0;
    return cs_listing_transition_held(db, id, product, from, to, code, why, flows_actor(), err);
}

static int enqueue_status(cs_db *db, int64_t id, cs_error *err)
{
    char payload[64], key[48];
    snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)id);
    snprintf(key, sizeof key, "status:%lld", (long long)id);
    /* the same priority as publishes, so in a publish run the look-ups (due status_delay after
       their create) follow the run's backlog and keep the budget busy to its end; ahead of the
       publishes (priority 1) the run ended with seconds of look-ups not yet due and R idle:
       3,000 listings at R = 200 on the cluster 0.948–0.950 R, now 0.976 */
    job_opts o = {.unique_key = key,
                  .priority = 0,
                  .delay_ms = (int64_t)cs_cfg_int("flows.status_delay") * 1000};
    int64_t jid;
    return job_enqueue(db, "listing.status", payload, &o, &jid, err) < 0 ? -1 : 0;
}

// clang-format off
static const char SQL_ITEM_SET[] =
    "UPDATE listings"
    " SET external_item_id = ?, listing_url = COALESCE(?, listing_url), synced_hash = ?,"
    "     last_error_code = NULL, last_error_message = NULL, error_fields = NULL"
    " WHERE id = ?";
/* The public item page of an API listing that the marketplace does not return itself
 * (MARKETPLACES.md): Shopee https://shopee.vn/product/{shop_id}/{item_id}; TikTok Shop's
 * product page by product id. Lazada returns its `url` (SQL_ITEM_SET stores it). */
static const char SQL_PUBLIC_LINK[] =
    "UPDATE listings l"
    " JOIN seller_accounts a ON a.id = l.account_id"
    " SET l.listing_url = CASE l.marketplace_code"
    "       WHEN 'shopee' THEN CONCAT('https://shopee.vn/product/', a.external_shop_id, '/',"
    "                                 l.external_item_id)"
    "       WHEN 'tiktok' THEN CONCAT('https://shop.tiktok.com/view/product/', l.external_item_id,"
    "                                 '?region=VN&locale=vi-VN')"
    "     END"
    " WHERE l.id = ? AND l.listing_url IS NULL AND l.external_item_id IS NOT NULL"
    "   AND (l.marketplace_code = 'tiktok'"
    "        OR (l.marketplace_code = 'shopee' AND a.external_shop_id IS NOT NULL))";
static const char SQL_URL_SET[] =
    "UPDATE listings"
    " SET listing_url = ?"
    " WHERE id = ?";
/* live without its public link (Lazada's push carries none): the account's re-check reads it */
static const char SQL_NO_LINK[] =
    "SELECT account_id"
    " FROM listings"
    " WHERE id = ? AND listing_url IS NULL AND account_id IS NOT NULL";
/* content changed while the item was in review: send it now (API marketplaces only) */
static const char SQL_STALE[] =
    "SELECT COUNT(*)"
    " FROM listings l"
    " JOIN products p ON p.id = l.product_id"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'api'"
    " WHERE l.id = ? AND l.synced_hash IS NOT NULL AND l.synced_hash <> p.content_hash";
static const char SQL_REJECTED[] =
    "UPDATE listings"
    " SET last_error_code = ?, last_error_message = ?, error_fields = ?"
    " WHERE id = ?";
// clang-format on

/* Move the listing along the path a marketplace state implies, from wherever it is. */
static int apply_tx(cs_db *db, void *arg, cs_error *err)
{
    struct apply *a = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_STATE_LOCK, "i", a->id, err)) return -1;
    char st[24] = "";
    int64_t product = 0;
    if (cs_rows_count(r)) {
        snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, SL_STATE));
        product = cs_rows_i64(r, 0, SL_PRODUCT);
    }
    cs_rows_free(r);
    if (!st[0]) return cs_error_set(err, CS_E_NOT_FOUND, "listing %lld", (long long)a->id);
    if (a->checked && cs_db_exec(db, SQL_CHECKED, "i", a->id, err) < 0) return -1;
    const cx_outcome *o = a->o;
    if (a->item_id) {
        if (strcmp(st, "queued")) return 0; /* someone else finished this listing */
        if (cs_db_exec(db, SQL_ITEM_SET, "ssbi", a->item_id, o->item_url[0] ? o->item_url : NULL,
                       a->hash, (size_t)(a->hash ? 32 : 0), a->id, err) < 0 ||
            cs_db_exec(db, SQL_PUBLIC_LINK, "i", a->id, err) < 0 ||
            move(db, a->id, product, st, "submitted", a->from_create ? "created" : "adopted",
                 a->from_create ? "Đã gửi sản phẩm lên sàn"
                                : "Sản phẩm đã có trên sàn (tìm theo SKU), dùng lại",
                 err))
            return -1;
        snprintf(st, sizeof st, "submitted");
    }
    cx_item_state s = o->state;
    char why[1000];
    if (s == CX_ITEM_LIVE) {
        if (!strcmp(st, "live")) return 0;
        if (strcmp(st, "submitted") && strcmp(st, "pending_review") && strcmp(st, "queued") &&
            strcmp(st, "delisted") && strcmp(st, "suspended"))
            return 0;
        if (o->item_url[0] && cs_db_exec(db, SQL_URL_SET, "si", o->item_url, a->id, err) < 0)
            return -1;
        snprintf(why, sizeof why, "Sàn đã duyệt, sản phẩm đang bán (%s)", a->via);
        if (move(db, a->id, product, st, "live", "live", why, err)) return -1;
        int64_t acct = 0;
        int nl = cs_db_scalar_i64(db, &acct, SQL_NO_LINK, "i", a->id, err);
        if (nl < 0) return -1;
        if (nl == 0 && acct > 0) {
            char payload[64], key[48];
            snprintf(payload, sizeof payload, "{\"account_id\":%lld}", (long long)acct);
            snprintf(key, sizeof key, "recheck:%lld", (long long)acct);
            job_opts jo = {.unique_key = key, .delay_ms = 1000};
            int64_t jid;
            if (job_enqueue(db, "listing.recheck", payload, &jo, &jid, err) < 0) return -1;
        }
        int64_t stale = 0;
        if (cs_db_scalar_i64(db, &stale, SQL_STALE, "i", a->id, err) < 0) return -1;
        if (!stale) return 0;
        char payload[64], key[48];
        snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)a->id);
        snprintf(key, sizeof key, "update:%lld", (long long)a->id);
        job_opts jo = {.unique_key = key};
        int64_t jid;
        return job_enqueue(db, "listing.update", payload, &jo, &jid, err) < 0 ? -1 : 0;
    }
    if (s == CX_ITEM_PENDING || (s == CX_ITEM_UNKNOWN && a->item_id)) {
        if (!strcmp(st, "submitted") && move(db, a->id, product, st, "pending_review",
                                             "pending_review", "Sàn đang kiểm duyệt sản phẩm", err))
            return -1;
        return a->enqueue_status ? enqueue_status(db, a->id, err) : 0;
    }
    if (s == CX_ITEM_REJECTED && !strcmp(st, "live")) {
        /* a live item banned by the marketplace (a Shopee push, a status poll): suspended, not
           "Đang bán" any more; its first live date — the yearly count — stays */
        reasons_text(o, why, sizeof why);
        if (!why[0])
            snprintf(why, sizeof why,
                     "Sàn đã khoá sản phẩm đang bán (%s); xem lý do trong kênh người bán, sửa nội "
                     "dung rồi bấm Đăng lại",
                     a->via);
        return cs_db_exec(db, SQL_NOTE, "ssi", o->nreasons ? o->reasons[0].code : "banned", why,
                          a->id, err) < 0 ||
                       move(db, a->id, product, st, "suspended", "banned", why, err)
                   ? -1
                   : 0;
    }
    if (s == CX_ITEM_REJECTED) {
        if (strcmp(st, "submitted") && strcmp(st, "pending_review") && strcmp(st, "queued"))
            return 0;
        cx_outcome generic;
        if (!o->nreasons) { /* a review verdict without reasons (e.g. a push): still say what to do
                             */
            generic = *o;
            cx_outcome_reject(&generic, "", "rejected_in_review",
                              "Sàn không duyệt sản phẩm này; xem lý do trong kênh người bán của "
                              "sàn, sửa nội dung "
                              "(tên, mô tả, ảnh) rồi bấm Đăng lại.",
                              "The marketplace rejected the item in review; see its seller centre, "
                              "fix and republish.");
            o = &generic;
        }
        char *fields = reasons_json(o);
        reasons_text(o, why, sizeof why);
        int rc =
            cs_db_exec(db, SQL_REJECTED, "sssi", o->nreasons ? o->reasons[0].code : o->error_code,
                       why, fields, a->id, err) < 0 ||
            move(db, a->id, product, st, "rejected", o->nreasons ? o->reasons[0].code : "rejected",
                 why, err);
        free(fields);
        return rc ? -1 : 0;
    }
    if (s == CX_ITEM_DELISTED) {
        if (!strcmp(st, "submitted") && move(db, a->id, product, st, "pending_review",
                                             "pending_review", "Sàn đang kiểm duyệt sản phẩm", err))
            return -1;
        if (!strcmp(st, "submitted")) snprintf(st, sizeof st, "pending_review");
        if (strcmp(st, "live") && strcmp(st, "pending_review") && strcmp(st, "suspended")) return 0;
        snprintf(why, sizeof why, "Sản phẩm không còn hiển thị trên sàn (%s)", a->via);
        return move(db, a->id, product, st, "delisted", "delisted", why, err);
    }
    return 0;
}

int flows_listing_apply_state(cs_db *db, int64_t listing_id, const cx_outcome *out, const char *via,
                              cs_error *err)
{
    struct apply a = {listing_id, out, via, NULL, NULL, 0, 0, 0};
    return cs_db_tx(db, apply_tx, &a, err);
}

struct reject {
    int64_t id;
    const cx_outcome *o;
    const char *from_live; /* update of a live item: live → queued → rejected */
};

// clang-format off
static const char SQL_ATTEMPT_CLEAR[] =
    "UPDATE listings"
    " SET create_attempted_at = NULL"
    " WHERE id = ?";
// clang-format on

static int reject_tx(cs_db *db, void *arg, cs_error *err)
{
    struct reject *x = arg;
    cx_outcome o = *x->o;
    o.state = CX_ITEM_REJECTED;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_STATE_LOCK, "i", x->id, err)) return -1;
    int live = cs_rows_count(r) && !strcmp(cs_rows_str(r, 0, SL_STATE), "live");
    cs_rows_free(r);
    if (live && cs_listing_transition(db, x->id, "queued", "update", "Gửi nội dung mới lên sàn",
                                      flows_actor(), err))
        return -1;
    if (cs_db_exec(db, SQL_ATTEMPT_CLEAR, "i", x->id, err) < 0) return -1;
    struct apply a = {x->id, &o, "create", NULL, NULL, 0, 0, 0};
    return apply_tx(db, &a, err);
}

int flows_listing_reject(cs_db *db, int64_t id, const cx_outcome *o, cs_error *err)
{
    struct reject x = {id, o, NULL};
    return cs_db_tx(db, reject_tx, &x, err);
}

struct note {
    int64_t id;
    const char *code, *msg;
};
static int note_tx(cs_db *db, void *arg, cs_error *err)
{
    struct note *n = arg;
    return cs_db_exec(db, SQL_NOTE, "ssi", n->code, n->msg, n->id, err) < 0 ? -1 : 0;
}
/* A reason the volunteer sees on a listing that waits (no state change). */
static void note(cs_db *db, int64_t id, const char *code, const char *msg)
{
    struct note n = {id, code, msg};
    cs_error e;
    cs_error_clear(&e);
    cs_db_tx(db, note_tx, &n, &e);
}

struct fail {
    int64_t id;
    const char *code, *msg;
};
static int fail_tx(cs_db *db, void *arg, cs_error *err)
{
    struct fail *f = arg;
    if (cs_db_exec(db, SQL_NOTE, "ssi", f->code, f->msg, f->id, err) < 0) return -1;
    return cs_listing_transition(db, f->id, "failed", f->code, f->msg, flows_actor(), err);
}

job_outcome flows_retry(job_ctx *ctx, unsigned after_s, const char *what, const cx_outcome *o)
{
    unsigned cap = (unsigned)cs_cfg_int("flows.retry_cap");
    if (after_s > cap) after_s = cap;
    return job_retry(ctx, after_s, "%s: %s %s", what, o ? o->error_code : "", o ? o->message : "");
}

/* A retry, unless this was the last attempt: then the listing is failed with the reason. */
static job_outcome retry_or_fail(job_ctx *ctx, int64_t id, unsigned after_s, const char *what,
                                 const cx_outcome *o)
{
    if (ctx->attempt >= ctx->max_attempts) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "Sàn không phản hồi sau %d lần thử (%s: %s); bấm Đăng lại để thử tiếp.",
                 ctx->attempt, what, o ? o->error_code : "");
        struct fail f = {id, "retries_spent", msg};
        cs_error e;
        cs_error_clear(&e);
        cs_db_tx(ctx->db, fail_tx, &f, &e);
        return job_fail(ctx, "%s: retries spent (%s)", what, o ? o->error_code : "");
    }
    return flows_retry(ctx, after_s, what, o);
}

static int acct_call(cs_db *db, const flows_mkt *m, int64_t listing_id, flows_acct *a, cx_op op,
                     cx_input *in, cx_outcome *o, cs_error *err);

/* ---- images -------------------------------------------------------------------------------- */

typedef struct imgs {
    cs_rows *ids; /* external ids in position order */
    const char **list;
    size_t n;
    char **up; /* ids uploaded by this run, by row of SQL_IMAGES (owned) */
    size_t nup;
} imgs;

static void imgs_free(imgs *g)
{
    cs_rows_free(g->ids);
    cs_free(g->list);
    for (size_t i = 0; i < g->nup; i++)
        cs_free(g->up[i]);
    cs_free(g->up);
    memset(g, 0, sizeof *g);
}

// clang-format off
static const char SQL_IMAGES[] =
    "SELECT i.sha256, i.mime, li.external_id"
    " FROM product_images i"
    " LEFT JOIN listing_images li ON li.listing_id = ? AND li.sha256 = i.sha256"
    " WHERE i.product_id = ?"
    " ORDER BY i.position, i.id";
static const char SQL_IMAGE_ADD[] =
    "INSERT IGNORE INTO listing_images (listing_id, sha256, external_id)"
    " VALUES (?, ?, ?)";
static const char SQL_IMAGE_IDS[] =
    "SELECT li.external_id"
    " FROM product_images i"
    " JOIN listing_images li ON li.listing_id = ? AND li.sha256 = i.sha256"
    " WHERE i.product_id = ?"
    " ORDER BY i.position, i.id";
// clang-format on
/* columns of SQL_IMAGES */
enum { IM_SHA256, IM_MIME, IM_EXTERNAL };
/* columns of SQL_IMAGE_IDS */
enum { II_EXTERNAL };

/* Upload the product's images not yet known on this listing; keep each id as soon as it is
 * known, so a retry never uploads one twice. Returns 0 (g filled), 1 with *o holding the
 * marketplace's non-OK outcome, 2 when the owner must authorise again (noted), -1 with err. */
static int ensure_images(cs_db *db, const flows_mkt *m, lst *l, flows_acct *acct, imgs *g,
                         cx_outcome *o, cs_error *err)
{
    memset(g, 0, sizeof *g);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_IMAGES, "ii", l->id, l->product_id, err)) return -1;
    g->nup = cs_rows_count(r);
    g->up = cs_calloc(g->nup ? g->nup : 1, sizeof *g->up);
    if (!g->up) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    int reread = 0; /* another run stored an id first: the stored ones are read back */
    const char *pub = cs_cfg_str("http.public_url");
    size_t pl = strlen(pub);
    while (pl && pub[pl - 1] == '/')
        pl--;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        if (!cs_rows_isnull(r, i, IM_EXTERNAL)) continue;
        const char *sha = cs_rows_str(r, i, IM_SHA256);
        char url[600], fname[80];
        size_t len = 0;
        void *data = NULL;
        /* from this node's cache, or the database every node shares (core/media) */
        int got = cs_media_read(db, sha, &data, &len, err);
        if (got) {
            cs_rows_free(r);
            if (got == 1)
                cs_error_set(err, CS_E_INTERNAL, "image %.12s… missing from the media store", sha);
            return -1;
        }
        const char *mime = cs_rows_str(r, i, IM_MIME);
        snprintf(url, sizeof url, "%.*s/media/%s", (int)pl, pub, sha);
        snprintf(fname, sizeof fname, "%.16s.%s", sha,
                 !strcmp(mime, "image/png")    ? "png"
                 : !strcmp(mime, "image/webp") ? "webp"
                                               : "jpg");
        cx_image im = {data, len, fname, mime, url};
        cx_input in;
        memset(&in, 0, sizeof in);
        in.image = &im;
        int rc = acct_call(db, m, l->id, acct, CX_OP_IMAGE_UPLOAD, &in, o, err);
        cs_free(data);
        if (rc) {
            cs_rows_free(r);
            return rc == 1 ? 2 : -1;
        }
        if (o->result != CX_OK || !o->image_id[0]) {
            cs_rows_free(r);
            if (o->result == CX_OK) { /* an answer without an id is no answer */
                o->result = CX_RETRY;
                o->retry_after = 5;
                snprintf(o->error_code, sizeof o->error_code, "no_image_id");
            }
            return 1;
        }
        int64_t added = cs_db_exec(db, SQL_IMAGE_ADD, "iss", l->id, sha, o->image_id, err);
        if (added < 0) {
            cs_rows_free(r);
            return -1;
        }
        if (!added)
            reread = 1;
        else if (!(g->up[i] = cs_strdup(o->image_id))) {
            cs_rows_free(r);
            return cs_error_set(err, CS_E_NOMEM, NULL);
        }
    }
    /* the ids are those read plus those uploaded: no second read unless a race was lost */
    if (reread) {
        cs_rows_free(r);
        r = NULL;
        if (cs_db_query(db, &r, SQL_IMAGE_IDS, "ii", l->id, l->product_id, err)) return -1;
    }
    g->ids = r;
    g->n = cs_rows_count(r);
    g->list = cs_calloc(g->n ? g->n : 1, sizeof *g->list);
    if (!g->list) return cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0; i < g->n; i++)
        g->list[i] = reread     ? cs_rows_str(r, i, II_EXTERNAL)
                     : g->up[i] ? g->up[i]
                                : cs_rows_str(r, i, IM_EXTERNAL);
    l->cx.image_ids = g->list;
    l->cx.nimages = g->n;
    return 0;
}

/* ---- talking to the marketplace with the account's tokens ---------------------------------- */

enum { CALL_OK = 0, CALL_WAIT = 1, CALL_ERR = -1 };

/* Load the household's account on l's marketplace (found by lst_load) into a. Returns CALL_OK when
 * it is active, CALL_WAIT after noting on the listing why it waits, CALL_ERR with err. */
static int need_account(cs_db *db, const lst *l, flows_acct *a, cs_error *err)
{
    if (!l->account_id || flows_acct_load(db, l->account_id, a, err) == 1) {
        note(db, l->id, "account_missing",
             "Hộ chưa có tài khoản người bán trên sàn này; hãy kết nối cửa hàng trước.");
        return CALL_WAIT;
    }
    if (!a->id) return CALL_ERR;
    if (!strcmp(a->state, "active")) return CALL_OK;
    if (!strcmp(a->state, "token_expired"))
        note(db, l->id, "account_reauthorize",
             "Đang chờ chủ hộ cấp quyền lại cho cửa hàng (quyền truy cập đã hết hạn hoặc bị thu "
             "hồi); sản phẩm sẽ "
             "tự đăng khi kết nối lại.");
    else
        note(db, l->id, "account_not_active",
             "Cửa hàng trên sàn chưa hoạt động; sản phẩm sẽ tự đăng khi cửa hàng sẵn sàng.");
    flows_acct_wipe(a);
    return CALL_WAIT;
}

/* The owner must act (authorise again, connect the shop): look again later. */
static job_outcome reauth_snooze(job_ctx *ctx)
{
    return job_snooze(ctx, (unsigned)cs_cfg_int("flows.reauth_snooze"));
}

/* need_account for a job: 1 with the active account in *a, else 0 with *res the job's outcome
 * (a snooze while the owner must act, a retry on database trouble). */
static int job_account(job_ctx *ctx, const lst *l, flows_acct *a, job_outcome *res)
{
    cs_error err;
    cs_error_clear(&err);
    int rc = need_account(ctx->db, l, a, &err);
    if (rc == CALL_OK) return 1;
    *res = rc == CALL_WAIT
               ? reauth_snooze(ctx)
               : job_retry(ctx, 0, "account: %s %s", cs_code_name(err.code), err.detail);
    return 0;
}

/* flows_call with the account; an expired token is refreshed once and the call repeated.
 * Returns CALL_OK (o filled: any result but reauthorize), CALL_WAIT (the owner must authorise
 * again: noted on the listing), CALL_ERR with err. */
static int acct_call(cs_db *db, const flows_mkt *m, int64_t listing_id, flows_acct *a, cx_op op,
                     cx_input *in, cx_outcome *o, cs_error *err)
{
    for (int round = 0;; round++) {
        in->account = &a->cx;
        if (flows_call(m, op, in, o, err)) return CALL_ERR;
        if (o->result != CX_REAUTHORIZE) return CALL_OK;
        if (round) break;
        int64_t id = a->id;
        unsigned ver = a->version;
        flows_acct_wipe(a);
        int rc = flows_acct_refresh(db, m, id, ver, err);
        if (rc < 0) return CALL_ERR;
        if (rc == 1) break;
        if (flows_acct_load(db, id, a, err)) return CALL_ERR;
    }
    note(db, listing_id, "account_reauthorize",
         "Đang chờ chủ hộ cấp quyền lại cho cửa hàng (quyền truy cập đã hết hạn hoặc bị thu hồi); "
         "sản phẩm sẽ tự "
         "đăng khi kết nối lại.");
    return CALL_WAIT;
}

/* ---- listing.publish ----------------------------------------------------------------------- */

// clang-format off
static const char SQL_ATTEMPT_MARK[] =
    "UPDATE listings"
    " SET create_attempted_at = UTC_TIMESTAMP(3)"
    " WHERE id = ?";
static const char SQL_ATTEMPT_UNMARK[] =
    "UPDATE listings"
    " SET create_attempted_at = NULL"
    " WHERE id = ? AND external_item_id IS NULL";
// clang-format on

struct attempt {
    int64_t id;
};
static int attempt_tx(cs_db *db, void *arg, cs_error *err)
{
    struct attempt *x = arg;
    return cs_db_exec(db, SQL_ATTEMPT_MARK, "i", x->id, err) < 0 ? -1 : 0;
}
static int clear_attempt_tx(cs_db *db, void *arg, cs_error *err)
{
    struct attempt *x = arg;
    return cs_db_exec(db, SQL_ATTEMPT_UNMARK, "i", x->id, err) < 0 ? -1 : 0;
}

/* Store the created/adopted item and move on. */
static int adopt(cs_db *db, lst *l, const cx_outcome *o, int from_create, cs_error *err)
{
    struct apply a = {
        l->id, o, from_create ? "create" : "lookup", o->item_id, l->content_hash, from_create,
        1,     0};
    return cs_db_tx(db, apply_tx, &a, err);
}

/* SKU look-up; Shopee's loose matches are confirmed exactly. Returns CALL_OK with o->result
 * CX_OK (found: o->item_id) / CX_NOT_FOUND / another result, CALL_WAIT, CALL_ERR. */
static int lookup_sku(cs_db *db, const flows_mkt *m, lst *l, flows_acct *a, cx_outcome *o,
                      cs_error *err)
{
    cx_input in;
    memset(&in, 0, sizeof in);
    cx_listing q = l->cx;
    q.item_id = NULL;
    in.listing = &q;
    int rc = acct_call(db, m, l->id, a, CX_OP_GET_ITEM_BY_SKU, &in, o, err);
    if (rc != CALL_OK || o->result != CX_OK || !o->confirm) return rc;
    char cand[sizeof o->candidates];
    snprintf(cand, sizeof cand, "%s", o->candidates);
    q.item_id = cand;
    q.confirm_sku = 1;
    return acct_call(db, m, l->id, a, CX_OP_GET_STATUS, &in, o, err);
}

static job_outcome publish_api(job_ctx *ctx, const flows_mkt *m, lst *l)
{
    cs_error err;
    cs_error_clear(&err);
    flows_acct a;
    memset(&a, 0, sizeof a);
    job_outcome res = JOB_OK;
    if (!job_account(ctx, l, &a, &res)) return res;
    int rc;
    cx_outcome o;
    cx_outcome_init(&o);
    imgs g;
    memset(&g, 0, sizeof g);
    if (!l->mapped) {
        cs_error_field(&err, "category", CS_F_CATEGORY_UNMAPPED, l->category);
        reasons_from_error(&err, &o);
        if (flows_listing_reject(ctx->db, l->id, &o, &err))
            res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
        goto out;
    }
    /* a new item: the leaf and its mandatory attributes, from the stored catalogue, before any
     * call (an item that may already exist is looked up and adopted below as before) */
    if (!l->item_id && !l->create_attempted) {
        if (cs_catalog_check(ctx->db, l->category, m->c->code, &err)) {
            res = job_retry(ctx, 0, "catalog check: %s", cs_code_name(err.code));
            goto out;
        }
        if (cs_error_failed(&err)) {
            reasons_from_error(&err, &o);
            if (flows_listing_reject(ctx->db, l->id, &o, &err))
                res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
            goto out;
        }
    }
    /* 1. an earlier create may have reached the marketplace: look our SKU up, adopt it */
    if (l->create_attempted && !l->item_id) {
        rc = lookup_sku(ctx->db, m, l, &a, &o, &err);
        if (rc == CALL_WAIT) {
            res = reauth_snooze(ctx);
            goto out;
        }
        if (rc == CALL_ERR) {
            res = job_retry(ctx, 0, "lookup: %s", cs_code_name(err.code));
            goto out;
        }
        if (o.result == CX_REJECTED && o.item_id[0]) {
            /* the item exists but the marketplace refused it (e.g. banned in review): adopt it as
               it is, with its reasons; a republish then updates that item */
            o.result = CX_OK;
            o.state = CX_ITEM_REJECTED;
        }
        if (o.result == CX_OK && o.item_id[0]) {
            if (adopt(ctx->db, l, &o, 0, &err))
                res = job_retry(ctx, 0, "adopt: %s", cs_code_name(err.code));
            else
                cs_info("flows.adopted", "listing %lld adopted item %s", (long long)l->id,
                        o.item_id);
            goto out;
        }
        if (o.result != CX_NOT_FOUND) {
            res = retry_or_fail(ctx, l->id, o.retry_after, "lookup", &o);
            goto out;
        }
    }
    /* 2. images, each uploaded once */
    rc = ensure_images(ctx->db, m, l, &a, &g, &o, &err);
    if (rc < 0) {
        res = job_retry(ctx, 0, "images: %s %s", cs_code_name(err.code), err.detail);
        goto out;
    }
    if (rc == 2) {
        res = reauth_snooze(ctx);
        goto out;
    }
    if (rc == 1) {
        if (o.result == CX_REJECTED) {
            if (flows_listing_reject(ctx->db, l->id, &o, &err))
                res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
        } else {
            res = retry_or_fail(ctx, l->id, o.retry_after, "image upload", &o);
        }
        goto out;
    }
    cx_input in;
    memset(&in, 0, sizeof in);
    in.listing = &l->cx;
    /* 3. republish of an item that exists: send the content again */
    cx_op op = l->item_id ? CX_OP_UPDATE_ITEM : CX_OP_CREATE_ITEM;
    if (op == CX_OP_CREATE_ITEM) {
        /* committed BEFORE the call: if we die between the call and recording its answer, the
           next run knows to look the SKU up instead of creating again */
        struct attempt x = {l->id};
        if (cs_db_tx(ctx->db, attempt_tx, &x, &err)) {
            res = job_retry(ctx, 0, "mark attempt: %s", cs_code_name(err.code));
            goto out;
        }
    }
    rc = acct_call(ctx->db, m, l->id, &a, op, &in, &o, &err);
    if (rc == CALL_WAIT) {
        res = reauth_snooze(ctx);
        goto out;
    }
    if (rc == CALL_ERR) {
        if (err.code == CS_E_VALIDATION) { /* the connector refused to build: fields to fix */
            reasons_from_error(&err, &o);
            if (flows_listing_reject(ctx->db, l->id, &o, &err))
                res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
        } else {
            res = job_retry(ctx, err.retry_after, "%s: %s", cx_op_name(op), cs_code_name(err.code));
        }
        goto out;
    }
    if (o.result == CX_OK) {
        if (op == CX_OP_UPDATE_ITEM) snprintf(o.item_id, sizeof o.item_id, "%s", l->item_id);
        if (!o.item_id[0]) {
            res = retry_or_fail(ctx, l->id, 5, "create (no item id)", &o);
            goto out;
        }
        if (op == CX_OP_UPDATE_ITEM && o.state == CX_ITEM_UNKNOWN) o.state = CX_ITEM_PENDING;
        if (adopt(ctx->db, l, &o, 1, &err))
            res = job_retry(ctx, 0, "store item: %s", cs_code_name(err.code));
    } else if (o.result == CX_REJECTED) {
        if (flows_listing_reject(ctx->db, l->id, &o, &err))
            res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
    } else {
        if (!o.unknown && op == CX_OP_CREATE_ITEM) {
            /* known not to have been created (throttled, refused before it was read) */
            struct attempt x = {l->id};
            cs_db_tx(ctx->db, clear_attempt_tx, &x, &err);
        }
        res = retry_or_fail(ctx, l->id, o.retry_after, cx_op_name(op), &o);
    }
out:
    imgs_free(&g);
    flows_acct_wipe(&a);
    cx_outcome_wipe(&o);
    return res;
}

/* The listing a job's payload names ("listing_id"), loaded into *l: returns 1, or 0 with *res
 * the job's outcome (no id or no such listing: dead at once; database trouble: retry). */
static int job_listing(job_ctx *ctx, lst *l, job_outcome *res)
{
    int64_t id = json_integer_value(json_object_get(ctx->args, "listing_id"));
    if (id <= 0) {
        *res = job_fail(ctx, "payload.listing_id missing");
        return 0;
    }
    cs_error err;
    cs_error_clear(&err);
    int rc = lst_load(ctx->db, id, l, &err);
    if (rc < 0)
        *res = job_retry(ctx, 0, "load listing: %s", cs_code_name(err.code));
    else if (rc == 1)
        *res = job_fail(ctx, "listing %lld does not exist", (long long)id);
    return rc == 0;
}

static job_outcome h_publish(job_ctx *ctx)
{
    lst l;
    job_outcome early;
    if (!job_listing(ctx, &l, &early)) return early;
    cs_error err;
    cs_error_clear(&err);
    job_outcome res = JOB_OK;
    if (strcmp(l.state, "queued")) goto out; /* done already, or moved on by hand */
    const flows_mkt *m = flows_mkt_get(ctx->db, l.mp, &err);
    if (!m) {
        res = job_fail(ctx, "marketplace %s: %s", l.mp, cs_code_name(err.code));
        goto out;
    }
    res = m->c->kind == CX_KIND_FILE ? flows_publish_file(ctx, m, l.id) : publish_api(ctx, m, &l);
out:
    lst_free(&l);
    return res;
}

/* ---- listing.update ------------------------------------------------------------------------ */

// clang-format off
static const char SQL_SYNCED[] =
    "UPDATE listings"
    " SET synced_hash = ?, last_error_code = NULL, last_error_message = NULL"
    " WHERE id = ?";
// clang-format on

static int synced_tx(cs_db *db, void *arg, cs_error *err)
{
    lst *l = arg;
    return cs_db_exec(db, SQL_SYNCED, "bi", l->content_hash, (size_t)32, l->id, err) < 0 ? -1 : 0;
}

static job_outcome h_update(job_ctx *ctx)
{
    lst l;
    job_outcome early;
    if (!job_listing(ctx, &l, &early)) return early;
    int rc;
    cs_error err;
    cs_error_clear(&err);
    job_outcome res = JOB_OK;
    flows_acct a;
    memset(&a, 0, sizeof a);
    imgs g;
    memset(&g, 0, sizeof g);
    cx_outcome o;
    cx_outcome_init(&o);
    const flows_mkt *m = flows_mkt_get(ctx->db, l.mp, &err);
    /* only live items on API marketplaces, and only when the content really changed */
    if (!m || m->c->kind != CX_KIND_API || strcmp(l.state, "live") || !l.item_id ||
        !l.content_hash || (l.synced_hash && !memcmp(l.synced_hash, l.content_hash, 32)) ||
        !l.mapped)
        goto out;
    if (!job_account(ctx, &l, &a, &res)) goto out;
    rc = ensure_images(ctx->db, m, &l, &a, &g, &o, &err);
    if (rc) {
        res = rc < 0    ? job_retry(ctx, 0, "images: %s", cs_code_name(err.code))
              : rc == 2 ? reauth_snooze(ctx)
                        : flows_retry(ctx, o.retry_after, "image", &o);
        goto out;
    }
    cx_input in;
    memset(&in, 0, sizeof in);
    in.listing = &l.cx;
    rc = acct_call(ctx->db, m, l.id, &a, CX_OP_UPDATE_ITEM, &in, &o, &err);
    if (rc == CALL_WAIT)
        res = reauth_snooze(ctx);
    else if (rc == CALL_ERR)
        res = job_retry(ctx, err.retry_after, "update: %s", cs_code_name(err.code));
    else if (o.result == CX_OK) {
        if (cs_db_tx(ctx->db, synced_tx, &l, &err))
            res = job_retry(ctx, 0, "store: %s", cs_code_name(err.code));
    } else if (o.result == CX_REJECTED) {
        if (flows_listing_reject(ctx->db, l.id, &o, &err))
            res = job_retry(ctx, 0, "reject: %s", cs_code_name(err.code));
    } else
        res = flows_retry(ctx, o.retry_after, "update", &o);
out:
    imgs_free(&g);
    flows_acct_wipe(&a);
    cx_outcome_wipe(&o);
    lst_free(&l);
    return res;
}

/* ---- listing.sync: price and stock --------------------------------------------------------
 * What was last sent is recorded (synced_price_vnd, synced_stock): a run with nothing new sends
 * nothing. A listing whose create is still in flight or under review waits (snooze) until it is
 * live, as creates wait for their outcome, so a change made meanwhile is not lost. */

// clang-format off
static const char SQL_SYNC_LOAD[] =
    "SELECT synced_price_vnd, synced_stock, external_sku_id"
    " FROM listings"
    " WHERE id = ?";
static const char SQL_SYNC_STORE[] =
    "UPDATE listings"
    " SET synced_price_vnd = ?, synced_stock = ?, last_error_code = NULL,"
    "     last_error_message = NULL"
    " WHERE id = ?";
static const char SQL_SYNC_AGAIN[] =
    "SELECT price_vnd <> ? OR stock <> ?"
    " FROM products"
    " WHERE id = ?";
static const char SQL_SKU_STORE[] =
    "UPDATE listings"
    " SET external_sku_id = ?"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_SYNC_LOAD */
enum { SY_PRICE, SY_STOCK, SY_SKU };

struct chg_call {
    const cx_change_ops *ops;
    cx_change_kind k;
    const cx_change *c;
    cx_outcome *o;
    char ext_sku[64];
};

static int chg_build(void *arg, const cx_input *in, cx_request *req, cs_error *err)
{
    struct chg_call *x = arg;
    return x->ops->build(x->k, in, x->c, req, err);
}

static void chg_parse(void *arg, const cx_input *in, const cx_response *resp)
{
    struct chg_call *x = arg;
    x->ops->parse(x->k, in, resp, x->o, x->ext_sku);
}

/* One change step with the account; an expired token is refreshed once, as acct_call does.
 * CALL_OK (x->o filled), CALL_WAIT (noted on the listing), CALL_ERR with err. */
static int chg_call(cs_db *db, const flows_mkt *m, int64_t listing_id, flows_acct *a,
                    struct chg_call *x, cs_error *err)
{
    for (int round = 0;; round++) {
        cx_input in;
        memset(&in, 0, sizeof in);
        in.account = &a->cx;
        cx_outcome_wipe(x->o);
        cx_outcome_init(x->o);
        if (flows_call_with(m, &in, chg_build, chg_parse, x, err)) return CALL_ERR;
        if (x->o->result != CX_REAUTHORIZE) return CALL_OK;
        if (round) break;
        int64_t id = a->id;
        unsigned ver = a->version;
        flows_acct_wipe(a);
        int rc = flows_acct_refresh(db, m, id, ver, err);
        if (rc < 0) return CALL_ERR;
        if (rc == 1) break;
        if (flows_acct_load(db, id, a, err)) return CALL_ERR;
    }
    note(db, listing_id, "account_reauthorize",
         "Đang chờ chủ hộ cấp quyền lại cho cửa hàng; giá và tồn kho sẽ tự cập nhật khi kết nối "
         "lại.");
    return CALL_WAIT;
}

struct sync_store {
    int64_t id;
    long long price, stock;
    const char *ext_sku;
};
static int sync_store_tx(cs_db *db, void *arg, cs_error *err)
{
    struct sync_store *s = arg;
    if (s->ext_sku && cs_db_exec(db, SQL_SKU_STORE, "si", s->ext_sku, s->id, err) < 0) return -1;
    if (s->price >= 0 &&
        cs_db_exec(db, SQL_SYNC_STORE, "iii", (int64_t)s->price, (int64_t)s->stock, s->id, err) < 0)
        return -1;
    return 0;
}

/* Outcome of one step that did not succeed: a refusal is noted (the listing stays live, the
 * old price stays on sale); anything else is retried. */
static job_outcome sync_failed(job_ctx *ctx, int64_t id, const char *what, const cx_outcome *o)
{
    if (o->result == CX_REJECTED) {
        char msg[600];
        reasons_text(o, msg, sizeof msg);
        note(ctx->db, id, "change_rejected", msg);
        return job_fail(ctx, "%s refused: %s", what, msg);
    }
    return flows_retry(ctx, o->retry_after, what, o);
}

static job_outcome h_sync(job_ctx *ctx)
{
    lst l;
    job_outcome early;
    if (!job_listing(ctx, &l, &early)) return early;
    cs_error err;
    cs_error_clear(&err);
    job_outcome res = JOB_OK;
    flows_acct a;
    memset(&a, 0, sizeof a);
    cx_outcome o;
    cx_outcome_init(&o);
    cs_rows *s = NULL;
    const flows_mkt *m = flows_mkt_get(ctx->db, l.mp, &err);
    const cx_change_ops *ops = m ? cx_changes_for(l.mp) : NULL;
    if (!m || !ops || m->c->kind != CX_KIND_API) goto out;
    if (!strcmp(l.state, "queued")) { /* may wait for the owner: look again later */
        res = reauth_snooze(ctx);
        goto out;
    }
    if (!strcmp(l.state, "submitted") || !strcmp(l.state, "pending_review")) {
        res = job_snooze(ctx, (unsigned)cs_cfg_int("flows.status_delay"));
        goto out;
    }
    if (strcmp(l.state, "live") || !l.item_id) goto out; /* nothing on sale to change */
    if (cs_db_query(ctx->db, &s, SQL_SYNC_LOAD, "i", l.id, &err)) {
        res = job_retry(ctx, 0, "load: %s", cs_code_name(err.code));
        goto out;
    }
    if (!cs_rows_count(s)) goto out;
    long long price = l.cx.price_vnd, stock = l.cx.stock;
    int price_new = cs_rows_isnull(s, 0, SY_PRICE) || cs_rows_i64(s, 0, SY_PRICE) != price;
    int stock_new = cs_rows_isnull(s, 0, SY_STOCK) || cs_rows_i64(s, 0, SY_STOCK) != stock;
    if (!price_new && !stock_new) goto out; /* idempotent: nothing new to send */
    if (!job_account(ctx, &l, &a, &res)) goto out;
    int rc;
    char sku[32], ext[64] = "";
    snprintf(sku, sizeof sku, "CS-%lld", (long long)l.id);
    const char *known = cs_rows_strn(s, 0, SY_SKU);
    if (known) snprintf(ext, sizeof ext, "%s", known);
    cx_change c = {l.item_id, sku, ext[0] ? ext : NULL, price, stock};
    struct chg_call x = {ops, CX_CHG_LOOKUP, &c, &o, ""};
    if (ops->needs_lookup && !ext[0]) {
        rc = chg_call(ctx->db, m, l.id, &a, &x, &err);
        if (rc != CALL_OK || o.result != CX_OK || !x.ext_sku[0]) {
            res = rc == CALL_WAIT ? reauth_snooze(ctx)
                  : rc == CALL_ERR
                      ? job_retry(ctx, err.retry_after, "lookup: %s", cs_code_name(err.code))
                      : sync_failed(ctx, l.id, "lookup", &o);
            goto out;
        }
        snprintf(ext, sizeof ext, "%s", x.ext_sku);
        c.ext_sku_id = ext;
        struct sync_store ss = {l.id, -1, -1, ext};
        if (cs_db_tx(ctx->db, sync_store_tx, &ss, &err)) {
            res = job_retry(ctx, 0, "store sku: %s", cs_code_name(err.code));
            goto out;
        }
    }
    /* Lazada sends both in one call; the others one call per value that changed */
    cx_change_kind steps[2];
    size_t n = 0;
    if (price_new || ops->price_with_stock) steps[n++] = CX_CHG_PRICE;
    if (stock_new && !ops->price_with_stock) steps[n++] = CX_CHG_STOCK;
    for (size_t i = 0; i < n; i++) {
        x.k = steps[i];
        rc = chg_call(ctx->db, m, l.id, &a, &x, &err);
        if (rc == CALL_WAIT) {
            res = reauth_snooze(ctx);
            goto out;
        }
        if (rc == CALL_ERR) {
            res = job_retry(ctx, err.retry_after, "%s: %s", cx_change_name(x.k),
                            cs_code_name(err.code));
            goto out;
        }
        if (o.result != CX_OK) {
            res = sync_failed(ctx, l.id, cx_change_name(x.k), &o);
            goto out;
        }
    }
    struct sync_store ss = {l.id, price, stock, NULL};
    if (cs_db_tx(ctx->db, sync_store_tx, &ss, &err)) {
        res = job_retry(ctx, 0, "store: %s", cs_code_name(err.code));
        goto out;
    }
    cs_info("flows.synced", "listing %lld price %lld stock %lld sent to %s", (long long)l.id, price,
            stock, l.mp);
    /* a change made while this ran found this job running and queued nothing: look again */
    int64_t now_differs = 0;
    if (cs_db_scalar_i64(ctx->db, &now_differs, SQL_SYNC_AGAIN, "iii", (int64_t)price,
                         (int64_t)stock, l.product_id, &err) == 0 &&
        now_differs)
        res = job_snooze(ctx, 0);
out:
    cs_rows_free(s);
    flows_acct_wipe(&a);
    cx_outcome_wipe(&o);
    lst_free(&l);
    return res;
}

/* ---- listing.withdraw: taking an item down ---------------------------------------------------
 * A listing in withdrawing on an API marketplace (product withdrawn, consent withdrawn): the
 * item is unlisted / removed / deactivated, then the listing is withdrawn. Adoption rules as for
 * creates: a create whose outcome is unknown may have made an item, so our SKU is looked up
 * first and that item taken down. After the last take-down of an erased household's shop its
 * tokens are wiped (core/households.h). */

// clang-format off
static const char SQL_WITHDRAW_DUE[] =
    "SELECT l.id"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'api'"
    " WHERE l.state = 'withdrawing'"
    "  AND COALESCE(l.last_error_code, '') <> 'take_down_by_hand'"
    " ORDER BY l.id"
    " LIMIT ?";
/* how many publish jobs of a listing are still queued or running (by their unique key) */
static const char SQL_PUBLISH_BUSY[] =
    "SELECT COUNT(*)"
    " FROM jobs"
    " WHERE unique_key = ? AND state IN ('queued','running')";
/* 1 when the listing's take-down is the API marketplace's to confirm (not handed to a person;
   one already withdrawn is confirmed again as a no-op) */
static const char SQL_LISTING_API[] =
    "SELECT m.kind = 'api' AND COALESCE(l.last_error_code, '') <> 'take_down_by_hand'"
    "  AND l.state <> 'withdrawn'"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code"
    " WHERE l.id = ?";
/* a refusal of the take-down counted; the new count */
static const char SQL_WD_REFUSED[] =
    "UPDATE listings"
    " SET withdraw_refusals = withdraw_refusals + 1"
    " WHERE id = ?";
static const char SQL_WD_REFUSALS[] =
    "SELECT withdraw_refusals"
    " FROM listings"
    " WHERE id = ?";
/* 1 when the household withdrew its consent (nobody can authorise its shop again) */
static const char SQL_HH_ERASED[] =
    "SELECT status = 'erased'"
    " FROM households"
    " WHERE id = ?";
/* taken down: the count and the hand-over start again for a later take-down (a hand-over left
   behind would keep listing.poll from ever asking the marketplace again); a deleted item is
   gone for good, so a later publish creates a new one */
static const char SQL_WD_RESET[] =
    "UPDATE listings"
    " SET withdraw_refusals = 0,"
    "     last_error_message = IF(last_error_code IN ('take_down_by_hand','withdraw_refused'),"
    "                             NULL, last_error_message),"
    "     last_error_code = IF(last_error_code IN ('take_down_by_hand','withdraw_refused'),"
    "                          NULL, last_error_code),"
    "     external_item_id = IF(?, NULL, external_item_id),"
    "     create_attempted_at = IF(?, NULL, create_attempted_at)"
    " WHERE id = ?";
// clang-format on
/* columns of SQL_WITHDRAW_DUE */
enum { WD_ID };

int job_flows_withdrawals(cs_db *db, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_WITHDRAW_DUE, "i", (int64_t)cs_cfg_int("flows.batch"), err))
        return -1;
    int n = 0;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        char payload[64], key[48];
        int64_t id = cs_rows_i64(r, i, WD_ID), jid;
        snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)id);
        snprintf(key, sizeof key, "withdraw:%lld", (long long)id);
        job_opts o = {.unique_key = key};
        int rc = job_enqueue(db, "listing.withdraw", payload, &o, &jid, err);
        if (rc < 0) {
            cs_rows_free(r);
            return -1;
        }
        n += rc == 0;
    }
    cs_rows_free(r);
    return n;
}

struct wd_done {
    int64_t id;
    const char *code, *why;
    const cs_actor *a;
    int deleted; /* the item was deleted on the marketplace */
};
static int wd_done_tx(cs_db *db, void *arg, cs_error *err)
{
    struct wd_done *x = arg;
    if (cs_db_exec(db, SQL_WD_RESET, "iii", (int64_t)x->deleted, (int64_t)x->deleted, x->id, err) <
        0)
        return -1;
    return cs_listing_transition(db, x->id, "withdrawn", x->code, x->why, x->a, err);
}

/* The take-down becomes a person's task (volunteer page; confirmed by
 * POST /v1/listings/{id}/withdrawn): listing.poll no longer asks the marketplace. */
static job_outcome hand_over(job_ctx *ctx, int64_t id, const char *why)
{
    note(ctx->db, id, "take_down_by_hand", why);
    cs_warn("flows.take_down_by_hand", "listing %lld: take-down handed to a person", (long long)id);
    return JOB_OK;
}

/* The account cannot act for an erased household (its authorisation expired or the shop is
 * not active, and nobody may authorise it again): a person takes the item down instead of the
 * listing waiting for ever. Returns 1 when handed over. */
static int erased_hand_over(job_ctx *ctx, const lst *l)
{
    int64_t erased = 0;
    cs_error e;
    cs_error_clear(&e);
    if (cs_db_scalar_i64(ctx->db, &erased, SQL_HH_ERASED, "i", l->household_id, &e) != 0 || !erased)
        return 0;
    char msg[400];
    snprintf(msg, sizeof msg,
             "Hộ đã rút đồng ý và quyền truy cập cửa hàng trên sàn đã hết hạn (không thể cấp "
             "quyền lại): hãy đăng nhập trang người bán của sàn, gỡ sản phẩm mã CS-%lld, rồi bấm "
             "xác nhận.",
             (long long)l->id);
    hand_over(ctx, l->id, msg);
    return 1;
}

/* A refusal of the take-down: noted and retried by listing.poll, handed to a person after
 * flows.withdraw_refusals of them with the marketplace's reason. */
static job_outcome wd_refused(job_ctx *ctx, int64_t id, const cx_outcome *o)
{
    cs_error e;
    cs_error_clear(&e);
    int64_t n = 0;
    char why[600], msg[900];
    reasons_text(o, why, sizeof why);
    if (cs_db_exec(ctx->db, SQL_WD_REFUSED, "i", id, &e) < 0 ||
        cs_db_scalar_i64(ctx->db, &n, SQL_WD_REFUSALS, "i", id, &e) != 0)
        return job_retry(ctx, 0, "count refusal: %s", cs_code_name(e.code));
    if (n < cs_cfg_int("flows.withdraw_refusals")) {
        snprintf(msg, sizeof msg,
                 "Sàn từ chối gỡ sản phẩm (lần %lld), sẽ thử lại. Lý do của sàn: %s", (long long)n,
                 why);
        note(ctx->db, id, "withdraw_refused", msg);
        return job_fail(ctx, "withdraw refused (%lld): %s", (long long)n, why);
    }
    snprintf(msg, sizeof msg,
             "Sàn đã từ chối gỡ sản phẩm %lld lần. Lý do của sàn: %s — hãy gỡ sản phẩm này trong "
             "trang người bán của sàn, rồi bấm xác nhận.",
             (long long)n, why);
    return hand_over(ctx, id, msg);
}

static job_outcome h_withdraw(job_ctx *ctx)
{
    lst l;
    job_outcome early;
    if (!job_listing(ctx, &l, &early)) return early;
    cs_error err;
    cs_error_clear(&err);
    job_outcome res = JOB_OK;
    flows_acct a;
    memset(&a, 0, sizeof a);
    cx_outcome o;
    cx_outcome_init(&o);
    struct wd_done done = {l.id, "taken_down", "Đã gỡ khỏi sàn.", flows_actor(), 0};
    const flows_mkt *m = flows_mkt_get(ctx->db, l.mp, &err);
    const cx_change_ops *ops = m ? cx_changes_for(l.mp) : NULL;
    if (strcmp(l.state, "withdrawing") || !m || !ops || m->c->kind != CX_KIND_API) goto out;
    char item[128] = "";
    if (l.item_id) snprintf(item, sizeof item, "%s", l.item_id);
    if (!item[0] && !l.create_attempted) {
        done.code = "never_sent";
        done.why = "Chưa từng gửi lên sàn.";
        goto finish;
    }
    int rc = need_account(ctx->db, &l, &a, &err);
    if (rc == CALL_WAIT) {
        res = erased_hand_over(ctx, &l) ? JOB_OK : reauth_snooze(ctx);
        goto out;
    }
    if (rc == CALL_ERR) {
        res = job_retry(ctx, 0, "account: %s %s", cs_code_name(err.code), err.detail);
        goto out;
    }
    if (!item[0]) { /* a create may have landed: look our SKU up, as a publish would */
        /* a publish still in flight may yet create the item: let it finish first (it leaves a
           withdrawing listing alone), else the look-up could miss an item made just after */
        char key[48];
        snprintf(key, sizeof key, "publish:%lld", (long long)l.id);
        int64_t busy = 0;
        if (cs_db_scalar_i64(ctx->db, &busy, SQL_PUBLISH_BUSY, "s", key, &err) < 0) {
            res = job_retry(ctx, 0, "publish job: %s", cs_code_name(err.code));
            goto out;
        }
        if (busy) {
            res = job_snooze(ctx, (unsigned)cs_cfg_int("flows.status_delay"));
            goto out;
        }
        rc = lookup_sku(ctx->db, m, &l, &a, &o, &err);
        if (rc == CALL_WAIT) {
            res = erased_hand_over(ctx, &l) ? JOB_OK : reauth_snooze(ctx);
            goto out;
        }
        if (rc == CALL_ERR) {
            res = job_retry(ctx, err.retry_after, "lookup: %s", cs_code_name(err.code));
            goto out;
        }
        if (o.result == CX_NOT_FOUND) {
            done.code = "never_sent";
            done.why = "Không có sản phẩm nào trên sàn.";
            goto finish;
        }
        if (o.result != CX_OK && o.result != CX_REJECTED) {
            res = flows_retry(ctx, o.retry_after, "lookup", &o);
            goto out;
        }
        snprintf(item, sizeof item, "%s", o.item_id);
    }
    char sku[32];
    snprintf(sku, sizeof sku, "CS-%lld", (long long)l.id);
    cx_change c = {item, sku, NULL, l.cx.price_vnd, l.cx.stock};
    struct chg_call x = {ops, CX_CHG_WITHDRAW, &c, &o, ""};
    rc = chg_call(ctx->db, m, l.id, &a, &x, &err);
    if (rc == CALL_WAIT) {
        res = erased_hand_over(ctx, &l) ? JOB_OK : reauth_snooze(ctx);
        goto out;
    }
    if (rc == CALL_ERR) {
        res = job_retry(ctx, err.retry_after, "withdraw: %s", cs_code_name(err.code));
        goto out;
    }
    if (o.result == CX_OK && ops->delete_after_withdraw) { /* Shopee: unlisted, now deleted */
        x.k = CX_CHG_DELETE;
        rc = chg_call(ctx->db, m, l.id, &a, &x, &err);
        if (rc == CALL_WAIT) {
            res = erased_hand_over(ctx, &l)
                      ? JOB_OK
                      : job_snooze(ctx, (unsigned)cs_cfg_int("flows.reauth_snooze"));
            goto out;
        }
        if (rc == CALL_ERR) {
            res = job_retry(ctx, err.retry_after, "delete: %s", cs_code_name(err.code));
            goto out;
        }
        done.deleted = o.result == CX_OK;
    }
    if (o.result == CX_REJECTED) {
        res = wd_refused(ctx, l.id, &o);
        goto out;
    }
    if (o.result != CX_OK) {
        res = flows_retry(ctx, o.retry_after, "withdraw", &o);
        goto out;
    }
finish:
    if (cs_db_tx(ctx->db, wd_done_tx, &done, &err)) {
        res = job_retry(ctx, 0, "store: %s", cs_code_name(err.code));
        goto out;
    }
    cs_info("flows.withdrawn", "listing %lld taken down from %s", (long long)l.id, l.mp);
    if (cs_household_release_tokens(ctx->db, l.household_id, l.mp, &err))
        res = job_retry(ctx, 0, "release tokens: %s", cs_code_name(err.code));
out:
    flows_acct_wipe(&a);
    cx_outcome_wipe(&o);
    lst_free(&l);
    return res;
}

/* Assisted marketplaces: the volunteer took the listing down by hand. */
static int confirm_wd_tx(cs_db *db, void *arg, cs_error *err)
{
    struct wd_done *x = arg;
    int64_t api = 0;
    int rc = cs_db_scalar_i64(db, &api, SQL_LISTING_API, "i", x->id, err);
    if (rc < 0) return -1;
    if (rc == 1) return cs_error_set(err, CS_E_NOT_FOUND, "listing");
    if (api)
        return cs_error_set(err, CS_E_STATE_TRANSITION,
                            "an API marketplace's take-down is confirmed by the marketplace");
    if (cs_listing_transition(db, x->id, "withdrawn", x->code, x->why, x->a, err)) return -1;
    return cs_db_exec(db, SQL_WD_RESET, "iii", (int64_t)0, (int64_t)0, x->id, err) < 0 ? -1 : 0;
}

int job_flows_confirm_withdrawn(cs_db *db, int64_t listing_id, const cs_actor *a, cs_error *err)
{
    struct wd_done x = {listing_id, "taken_down", "Tình nguyện viên đã gỡ sản phẩm khỏi sàn.", a,
                        0};
    if (cs_db_tx(db, confirm_wd_tx, &x, err)) return -1;
    /* an API take-down done by hand: an erased household's shop needs its tokens no more */
    lst l;
    int rc = lst_load(db, listing_id, &l, err);
    if (rc) return rc < 0 ? -1 : 0;
    rc = cs_household_release_tokens(db, l.household_id, l.mp, err) ? -1 : 0;
    lst_free(&l);
    return rc;
}

/* ---- listing.status / listing.poll --------------------------------------------------------- */

// clang-format off
static const char SQL_POLL_DUE[] =
    "SELECT l.id"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'api'"
    " WHERE l.state IN ('submitted','pending_review') AND l.external_item_id IS NOT NULL"
    " ORDER BY l.status_checked_at IS NOT NULL, l.status_checked_at"
    " LIMIT ?";
// clang-format on
/* columns of SQL_POLL_DUE */
enum { PD_ID };

static int checked_tx(cs_db *db, void *arg, cs_error *err)
{
    int64_t *id = arg;
    return cs_db_exec(db, SQL_CHECKED, "i", *id, err) < 0 ? -1 : 0;
}

static job_outcome h_status(job_ctx *ctx)
{
    lst l;
    job_outcome early;
    if (!job_listing(ctx, &l, &early)) return early;
    int64_t id = l.id;
    int rc;
    cs_error err;
    cs_error_clear(&err);
    job_outcome res = JOB_OK;
    flows_acct a;
    memset(&a, 0, sizeof a);
    cx_outcome o;
    cx_outcome_init(&o);
    const flows_mkt *m = flows_mkt_get(ctx->db, l.mp, &err);
    if (!m || m->c->kind != CX_KIND_API || !l.item_id ||
        (strcmp(l.state, "submitted") && strcmp(l.state, "pending_review")))
        goto out;
    if (!job_account(ctx, &l, &a, &res)) goto out;
    cx_input in;
    memset(&in, 0, sizeof in);
    in.listing = &l.cx;
    rc = acct_call(ctx->db, m, l.id, &a, CX_OP_GET_STATUS, &in, &o, &err);
    if (rc == CALL_WAIT) {
        res = reauth_snooze(ctx);
        goto out;
    }
    if (rc == CALL_ERR) {
        res = job_retry(ctx, err.retry_after, "status: %s", cs_code_name(err.code));
        goto out;
    }
    if (o.result == CX_OK || o.result == CX_REJECTED) {
        if (o.result == CX_REJECTED) o.state = CX_ITEM_REJECTED;
        /* the answer and the time it was asked for, in one transaction */
        struct apply ap = {id, &o, "status", NULL, NULL, 0, 0, 1};
        if (cs_db_tx(ctx->db, apply_tx, &ap, &err))
            res = job_retry(ctx, 0, "apply: %s", cs_code_name(err.code));
        /* still in review: look again later, without spending an attempt */
        else if (o.result == CX_OK && (o.state == CX_ITEM_PENDING || o.state == CX_ITEM_UNKNOWN))
            res = job_snooze(ctx, (unsigned)cs_cfg_int("flows.status_delay"));
    } else {
        cs_db_tx(ctx->db, checked_tx, &id, &err);
        res = flows_retry(ctx, o.retry_after, "status", &o);
    }
out:
    flows_acct_wipe(&a);
    cx_outcome_wipe(&o);
    lst_free(&l);
    return res;
}

/* Sweep: a listing.status job for every item waiting on review (the unique key leaves the ones
 * already queued alone). */
static job_outcome h_poll(job_ctx *ctx)
{
    cs_error err;
    cs_error_clear(&err);
    cs_rows *r = NULL;
    if (cs_db_query(ctx->db, &r, SQL_POLL_DUE, "i", (int64_t)cs_cfg_int("flows.batch"), &err))
        return job_retry(ctx, 0, "poll: %s", cs_code_name(err.code));
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        char payload[64], key[48];
        int64_t id = cs_rows_i64(r, i, PD_ID), jid;
        snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)id);
        snprintf(key, sizeof key, "status:%lld", (long long)id);
        job_opts o = {.unique_key = key, .priority = 1};
        if (job_enqueue(ctx->db, "listing.status", payload, &o, &jid, &err) < 0) {
            cs_rows_free(r);
            return job_retry(ctx, 0, "enqueue: %s", cs_code_name(err.code));
        }
    }
    cs_rows_free(r);
    /* take-downs whose job was lost (queued after the erase or withdrawal failed, or the job
       ran out of attempts) are asked again */
    if (job_flows_withdrawals(ctx->db, &err) < 0)
        return job_retry(ctx, 0, "withdrawals: %s", cs_code_name(err.code));
    return JOB_OK;
}

/* ---- push notifications -------------------------------------------------------------------- */

// clang-format off
static const char SQL_PUSH_SEEN[] =
    "INSERT IGNORE INTO webhook_events (marketplace_code, digest)"
    " VALUES (?, ?)";
static const char SQL_PUSH_LISTING[] =
    "SELECT id"
    " FROM listings"
    " WHERE marketplace_code = ? AND external_item_id = ?";
static const char SQL_PUSH_FORGET[] =
    "DELETE FROM webhook_events"
    " WHERE marketplace_code = ? AND digest = ?";
// clang-format on

int job_flows_webhook(cs_db *db, const char *mp, const void *body, size_t len,
                      const char *authorization, cs_error *err)
{
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) return -1;
    if (!m->c->verify_push)
        return cs_error_set(err, CS_E_NOT_FOUND, "%s sends no push", m->c->code);
    cx_input in;
    memset(&in, 0, sizeof in);
    in.mp = &m->cfg.m;
    in.push_body = body;
    in.push_len = len;
    in.push_authorization = authorization;
    in.now_ms = flows_now_ms();
    cx_outcome o;
    m->c->verify_push(&in, &o);
    if (o.result != CX_OK)
        return cs_error_set(err, CS_E_UNAUTHENTICATED, "%s",
                            o.nreasons ? o.reasons[0].code : "push_signature_invalid");
    unsigned char dg[32];
    cs_sha256(body, len, dg);
    int64_t fresh = cs_db_exec(db, SQL_PUSH_SEEN, "sb", m->c->code, dg, (size_t)32, err);
    if (fresh < 0) return -1;
    if (fresh) job_orders_on_push(db, m->c->code, o.push_code, o.shop_id); /* jobs/orders.c */
    if (fresh == 0 || !o.item_id[0] || o.state == CX_ITEM_UNKNOWN)
        return 0; /* seen, or not about an item */
    int64_t lid = 0;
    int rc = cs_db_scalar_i64(db, &lid, SQL_PUSH_LISTING, "ss", m->c->code, o.item_id, err);
    if (rc < 0) return -1;
    if (rc == 1) return 0; /* not one of ours (or created by hand) */
    if (flows_listing_apply_state(db, lid, &o, "push", err)) {
        /* let the marketplace deliver it again */
        cs_db_exec(db, SQL_PUSH_FORGET, "sb", m->c->code, dg, (size_t)32, err);
        return -1;
    }
    return 0;
}

/* ---- the API side: publish, republish, content changes ------------------------------------- */

struct pub {
    int64_t product;
    const char *const *mps;
    size_t n;
    const cs_actor *a;
    json_t *out;
};

// clang-format off
static const char SQL_LISTING_ADD[] =
    "INSERT INTO listings (product_id, marketplace_code, account_id, env)"
    " SELECT ?, ?, a.id, COALESCE(a.env, ?)"
    " FROM products pr"
    " LEFT JOIN seller_accounts a ON a.household_id = pr.household_id AND a.marketplace_code = ?"
    " WHERE pr.id = ?"
    " ON DUPLICATE KEY UPDATE account_id = COALESCE(listings.account_id, VALUES(account_id))";
static const char SQL_LISTING_OF_LOCK[] =
    "SELECT id, state"
    " FROM listings"
    " WHERE product_id = ? AND marketplace_code = ?"
    " FOR UPDATE";
static const char SQL_PUBLISH_PRODUCT[] =
    "SELECT household_id, category, status"
    " FROM products"
    " WHERE id = ?";
static const char SQL_PUBLISH_ACCOUNT[] =
    "SELECT state"
    " FROM seller_accounts"
    " WHERE household_id = ? AND marketplace_code = ?";
static const char SQL_PUBLISH_MAPPED[] =
    "SELECT COUNT(*)"
    " FROM category_map"
    " WHERE category = ? AND marketplace_code = ?";
// clang-format on
/* columns of SQL_LISTING_OF_LOCK */
enum { LO_ID, LO_STATE };
/* columns of SQL_PUBLISH_PRODUCT */
enum { PP_HOUSEHOLD, PP_CATEGORY, PP_STATUS };
/* columns of SQL_PUBLISH_ACCOUNT */
enum { PA_STATE };

static int publish_tx(cs_db *db, void *arg, cs_error *err)
{
    struct pub *p = arg;
    json_array_clear(p->out);
    for (size_t i = 0; i < p->n; i++) {
        if (cs_db_exec(db, SQL_LISTING_ADD, "isssi", p->product, p->mps[i],
                       cs_marketplace_env(p->mps[i]), p->mps[i], p->product, err) < 0)
            return -1;
        cs_rows *r = NULL;
        if (cs_db_query(db, &r, SQL_LISTING_OF_LOCK, "is", p->product, p->mps[i], err)) return -1;
        /* the INSERT … SELECT inserts nothing on a Galera node that has not yet applied the
         * product's own insert (seen once in scripts/test-cluster after a node kill): a soft
         * error the caller may retry, never a read past the rows */
        if (cs_rows_count(r) != 1) {
            cs_rows_free(r);
            return cs_error_set(err, CS_E_DB_SOFT, "listing of product %lld not visible yet",
                                (long long)p->product);
        }
        int64_t id = cs_rows_i64(r, 0, LO_ID);
        char st[24];
        snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, LO_STATE));
        cs_rows_free(r);
        int64_t jid = 0;
        if (!strcmp(st, "draft")) {
            if (cs_listing_transition(db, id, "queued", "publish",
                                      "Tình nguyện viên yêu cầu đăng sản phẩm", p->a, err))
                return -1;
            snprintf(st, sizeof st, "queued");
        }
        if (!strcmp(st, "queued")) {
            char payload[64], key[48];
            snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)id);
            snprintf(key, sizeof key, "publish:%lld", (long long)id);
            job_opts o = {.unique_key = key};
            if (job_enqueue(db, "listing.publish", payload, &o, &jid, err) < 0) return -1;
        }
        json_t *e = json_pack("{s:I,s:s,s:s}", "listing_id", (json_int_t)id, "marketplace",
                              p->mps[i], "state", st);
        if (!e) return cs_error_set(err, CS_E_NOMEM, NULL);
        json_object_set_new(e, "job_id", jid ? json_integer(jid) : json_null());
        json_array_append_new(p->out, e);
    }
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)p->product);
    return cs_audit(db, p->a, "listing.publish", "product", eid, json_deep_copy(p->out), err);
}

/* The field errors err->fields[from, to) as [{field, code, detail}] (what one marketplace was
 * refused for). */
static json_t *refusal_fields(const cs_error *err, size_t from, size_t to)
{
    json_t *arr = json_array();
    for (size_t k = from; arr && k < to && k < err->nfields; k++) {
        const cs_field_error *f = &err->fields[k];
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "field", f->field, "code",
                                             cs_code_name(f->code), "detail", f->detail));
    }
    return arr;
}

/* Why a product cannot be published on m: its household has no active shop there (state "" =
 * never started). The same words for a single publish and a publish run. */
static void no_shop_detail(char *d, size_t n, const flows_mkt *m, const char *state)
{
    snprintf(d, n, "%s: hộ chưa có cửa hàng đang hoạt động trên sàn này (trạng thái: %s)",
             m->c->display_name, state[0] ? state : "not_started");
}

int job_flows_publish_each(cs_db *db, int64_t product_id, const char *const *mps, size_t n,
                           const cs_actor *a, json_t **out, json_t **refused, cs_error *err)
{
    *out = NULL;
    if (refused) *refused = NULL;
    if (!n) return cs_error_field(err, "marketplaces", CS_F_REQUIRED, NULL);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_PUBLISH_PRODUCT, "i", product_id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "product %lld", (long long)product_id);
    }
    int64_t hh = cs_rows_i64(r, 0, PP_HOUSEHOLD);
    char cat[48];
    snprintf(cat, sizeof cat, "%s", cs_rows_str(r, 0, PP_CATEGORY));
    int active = !strcmp(cs_rows_str(r, 0, PP_STATUS), "active");
    cs_rows_free(r);
    if (!active) return cs_error_set(err, CS_E_GONE, "product");
    const char *canon[16];
    size_t first_field[16], end_field[16]; /* marketplace i's refusals: err->fields[first, end) */
    int bad[16];
    int malformed = 0; /* a marketplace listed twice: the request itself is wrong */
    if (n > 16) return cs_error_field(err, "marketplaces", CS_F_TOO_LONG, "max 16");
    /* every marketplace checked before anything is written or sent */
    for (size_t i = 0; i < n; i++) {
        char fname[32];
        snprintf(fname, sizeof fname, "marketplaces[%zu]", i);
        first_field[i] = end_field[i] = err->nfields;
        bad[i] = 0;
        const flows_mkt *m = flows_mkt_get(db, mps[i], err);
        if (!m) {
            err->code = CS_OK;
            cs_error_field(err, fname, CS_F_MARKETPLACE, mps[i]);
            canon[i] = NULL;
            end_field[i] = err->nfields;
            bad[i] = 1;
            continue;
        }
        canon[i] = m->c->code;
        for (size_t k = 0; k < i; k++)
            if (canon[k] && !strcmp(canon[k], canon[i])) {
                cs_error_field(err, fname, CS_F_ENUM, "listed twice");
                malformed = 1;
            }
        char st[24] = "";
        if (cs_db_query(db, &r, SQL_PUBLISH_ACCOUNT, "is", hh, canon[i], err)) return -1;
        if (cs_rows_count(r)) snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, PA_STATE));
        cs_rows_free(r);
        if (strcmp(st, "active")) {
            char d[160];
            no_shop_detail(d, sizeof d, m, st);
            cs_error_field(err, fname, CS_E_STATE_TRANSITION, d);
            end_field[i] = err->nfields;
            bad[i] = 1;
            continue;
        }
        int64_t mapped = 0;
        if (cs_db_scalar_i64(db, &mapped, SQL_PUBLISH_MAPPED, "ss", cat, canon[i], err) < 0)
            return -1;
        if (!mapped) {
            char d[160];
            snprintf(d, sizeof d, "%s → %s", cat, m->c->code);
            cs_error_field(err, "category", CS_F_CATEGORY_UNMAPPED, d);
        } else if (cs_catalog_check(db, cat, canon[i], err)) { /* leaf + mandatory attributes */
            return -1;
        }
        end_field[i] = err->nfields;
        bad[i] = end_field[i] > first_field[i];
    }
    size_t nok = 0;
    for (size_t i = 0; i < n; i++)
        nok += !bad[i];
    /* strict callers, a malformed list, or nothing publishable: refuse the whole request */
    if (cs_error_failed(err) && (!refused || malformed || !nok)) return -1;
    const char *ok[16];
    json_t *ref = json_array();
    if (!ref) return cs_error_set(err, CS_E_NOMEM, NULL);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (!bad[i]) {
            ok[j++] = canon[i];
            continue;
        }
        json_array_append_new(ref, json_pack("{s:s,s:o}", "marketplace",
                                             canon[i] ? canon[i] : mps[i], "errors",
                                             refusal_fields(err, first_field[i], end_field[i])));
    }
    cs_error_clear(err);
    struct pub p = {product_id, ok, nok, a, json_array()};
    if (!p.out) {
        json_decref(ref);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    if (cs_db_tx(db, publish_tx, &p, err)) {
        json_decref(p.out);
        json_decref(ref);
        return -1;
    }
    *out = p.out;
    if (refused)
        *refused = ref;
    else
        json_decref(ref);
    return 0;
}

int job_flows_publish(cs_db *db, int64_t product_id, const char *const *mps, size_t n,
                      const cs_actor *a, json_t **out, cs_error *err)
{
    return job_flows_publish_each(db, product_id, mps, n, a, out, NULL, err);
}

/* ---- a publish run: many products on one marketplace in one transaction -------------------- */

// clang-format off
static const char SQL_RUN_CHECK[] =
    "SELECT j.id, pr.status, pr.category, a.state"
    " FROM " CS_DB_IDS_TABLE
    " LEFT JOIN products pr ON pr.id = j.id"
    " LEFT JOIN seller_accounts a ON a.household_id = pr.household_id AND a.marketplace_code = ?";
static const char SQL_RUN_ADD[] =
    "INSERT INTO listings (product_id, marketplace_code, account_id, env)"
    " SELECT pr.id, ?, a.id, COALESCE(a.env, ?)"
    " FROM " CS_DB_IDS_TABLE
    " JOIN products pr ON pr.id = j.id"
    " LEFT JOIN seller_accounts a ON a.household_id = pr.household_id AND a.marketplace_code = ?"
    " ON DUPLICATE KEY UPDATE account_id = COALESCE(listings.account_id, VALUES(account_id))";
static const char SQL_RUN_LOCK[] =
    "SELECT l.id, l.product_id, l.state"
    " FROM " CS_DB_IDS_TABLE
    " JOIN listings l ON l.product_id = j.id AND l.marketplace_code = ?"
    " ORDER BY l.id"
    " FOR UPDATE";
// clang-format on
/* columns of SQL_RUN_CHECK */
enum { RC_ID, RC_STATUS, RC_CATEGORY, RC_ACCOUNT };
/* columns of SQL_RUN_LOCK */
enum { RL_ID, RL_PRODUCT, RL_STATE };

struct run {
    const char *mp, *ids; /* the products that passed, as a JSON array */
    size_t n;
    const cs_actor *a;
    json_t *out;
};

/* ids as a JSON array of numbers in buf (20 digits and a comma each). */
static char *ids_json(const int64_t *ids, size_t n)
{
    size_t cap = n * 21 + 3, o = 0;
    char *buf = cs_malloc(cap);
    if (!buf) return NULL;
    buf[o++] = '[';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? "," : "", (long long)ids[i]);
    buf[o++] = ']';
    buf[o] = '\0';
    return buf;
}

static int run_tx(cs_db *db, void *arg, cs_error *err)
{
    struct run *x = arg;
    json_array_clear(x->out);
    if (cs_db_exec(db, SQL_RUN_ADD, "ssss", x->mp, cs_marketplace_env(x->mp), x->ids, x->mp, err) <
        0)
        return -1;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_RUN_LOCK, "ss", x->ids, x->mp, err)) return -1;
    size_t rows = cs_rows_count(r);
    /* as in publish_tx: a node that has not applied a product's insert yet adds no listing */
    if (rows != x->n) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_DB_SOFT, "%zu of %zu listings visible yet", rows, x->n);
    }
    int64_t *drafts = cs_calloc(rows + 1, sizeof *drafts),
            *queued = cs_calloc(rows + 1, sizeof *queued);
    size_t nd = 0, nq = 0;
    int rc = -1;
    char *dj = NULL, *qj = NULL;
    if (!drafts || !queued) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < rows; i++) {
        const char *st = cs_rows_str(r, i, RL_STATE);
        int64_t id = cs_rows_i64(r, i, RL_ID);
        int draft = !strcmp(st, "draft");
        if (draft) drafts[nd++] = id;
        if (draft || !strcmp(st, "queued")) queued[nq++] = id;
        json_t *e =
            json_pack("{s:I,s:I,s:s}", "product_id", (json_int_t)cs_rows_i64(r, i, RL_PRODUCT),
                      "listing_id", (json_int_t)id, "state", draft ? "queued" : st);
        if (!e || json_array_append_new(x->out, e)) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
    }
    dj = ids_json(drafts, nd);
    qj = ids_json(queued, nq);
    if (!dj || !qj) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    if ((nd && cs_listing_transition_set(db, dj, "draft", "queued", "publish",
                                         "Tình nguyện viên yêu cầu đăng sản phẩm", x->a,
                                         err) != (int64_t)nd) ||
        (nq && job_enqueue_ids(db, "listing.publish", "listing_id", "publish:", qj, err) < 0))
        goto out;
    rc = cs_audit(db, x->a, "listing.publish_batch", "marketplace", x->mp,
                  json_pack("{s:O}", "listings", x->out), err);
out:
    if (rc && !cs_error_failed(err)) cs_error_set(err, CS_E_DB_SOFT, "listings moved meanwhile");
    cs_rows_free(r);
    cs_free(drafts);
    cs_free(queued);
    cs_free(dj);
    cs_free(qj);
    return rc;
}

/* a refusal of one product of a run */
static int run_refuse(json_t *refused, int64_t product, cs_code code, const char *detail)
{
    return json_array_append_new(refused,
                                 json_pack("{s:I,s:s,s:s}", "product_id", (json_int_t)product,
                                           "code", cs_code_name(code), "detail", detail));
}

int job_flows_publish_batch(cs_db *db, const int64_t *products, size_t n, const char *mp,
                            const cs_actor *a, json_t **out, json_t **refused, cs_error *err)
{
    *out = *refused = NULL;
    if (!n) return cs_error_field(err, "products", CS_F_REQUIRED, NULL);
    if (n > JOB_FLOWS_BATCH_MAX) return cs_error_field(err, "products", CS_F_TOO_LONG, "max 500");
    const flows_mkt *m = flows_mkt_get(db, mp, err);
    if (!m) {
        err->code = CS_OK;
        return cs_error_field(err, "marketplace", CS_F_MARKETPLACE, mp);
    }
    char *all = ids_json(products, n);
    int64_t *ok = cs_calloc(n, sizeof *ok);
    json_t *ref = json_array();
    cs_rows *r = NULL;
    struct run x = {m->c->code, NULL, 0, a, json_array()};
    /* the categories seen and whether each may be published there (a run has few) */
    char cats[16][48];
    int cat_ok[16];
    size_t ncats = 0;
    int rc = -1;
    if (!all || !ok || !ref || !x.out) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    if (cs_db_query(db, &r, SQL_RUN_CHECK, "ss", all, x.mp, err)) goto out;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        int64_t id = cs_rows_i64(r, i, RC_ID);
        if (cs_rows_isnull(r, i, RC_STATUS)) {
            run_refuse(ref, id, CS_E_NOT_FOUND, "product");
            continue;
        }
        if (strcmp(cs_rows_str(r, i, RC_STATUS), "active")) {
            run_refuse(ref, id, CS_E_GONE, "product");
            continue;
        }
        if (cs_rows_isnull(r, i, RC_ACCOUNT) || strcmp(cs_rows_str(r, i, RC_ACCOUNT), "active")) {
            char d[160];
            no_shop_detail(d, sizeof d, m,
                           cs_rows_isnull(r, i, RC_ACCOUNT) ? "" : cs_rows_str(r, i, RC_ACCOUNT));
            run_refuse(ref, id, CS_E_STATE_TRANSITION, d);
            continue;
        }
        const char *cat = cs_rows_str(r, i, RC_CATEGORY);
        size_t c = 0;
        while (c < ncats && strcmp(cats[c], cat))
            c++;
        if (c == ncats) {
            if (ncats == 16)
                c = 15; /* more than 16 categories: the last slot is re-checked */
            else
                ncats++;
            snprintf(cats[c], sizeof cats[c], "%s", cat);
            int64_t mapped = 0;
            cs_error ce;
            cs_error_clear(&ce);
            if (cs_db_scalar_i64(db, &mapped, SQL_PUBLISH_MAPPED, "ss", cat, x.mp, err) < 0)
                goto out;
            if (mapped && cs_catalog_check(db, cat, x.mp, &ce)) { /* leaf + mandatory attributes */
                *err = ce;
                goto out;
            }
            cat_ok[c] = mapped && !cs_error_failed(&ce);
        }
        if (!cat_ok[c]) {
            char d[160];
            snprintf(d, sizeof d, "%s → %s", cat, x.mp);
            run_refuse(ref, id, CS_F_CATEGORY_UNMAPPED, d);
            continue;
        }
        ok[x.n++] = id;
    }
    if (x.n) {
        char *ids = ids_json(ok, x.n);
        if (!ids) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
        x.ids = ids;
        rc = cs_db_tx(db, run_tx, &x, err);
        cs_free(ids);
        if (rc) goto out;
    }
    rc = 0;
    *out = x.out;
    *refused = ref;
    x.out = ref = NULL;
out:
    cs_rows_free(r);
    cs_free(all);
    cs_free(ok);
    json_decref(ref);
    json_decref(x.out);
    return rc;
}

struct repub {
    int64_t id;
    const cs_actor *a;
    int64_t job;
};

// clang-format off
static const char SQL_REPUBLISH_CLEAR[] =
    "UPDATE listings"
    " SET last_error_code = NULL, last_error_message = NULL, error_fields = NULL,"
    "     linkcheck_failures = 0"
    " WHERE id = ?";
static const char SQL_LIVE_API[] =
    "SELECT l.id"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'api'"
    " WHERE l.product_id = ? AND l.state = 'live' AND l.external_item_id IS NOT NULL";
/* listings whose price and stock follow the product's (listing.sync): live, or on their way */
static const char SQL_SYNC_API[] =
    "SELECT l.id"
    " FROM listings l"
    " JOIN marketplaces m ON m.code = l.marketplace_code AND m.kind = 'api'"
    " WHERE l.product_id = ? AND l.state IN ('queued','submitted','pending_review','live')";
// clang-format on
/* columns of SQL_LIVE_API */
enum { LA_ID };
/* columns of SQL_SYNC_API */
enum { SA_ID };

static int republish_tx(cs_db *db, void *arg, cs_error *err)
{
    struct repub *x = arg;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_STATE_LOCK, "i", x->id, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, "listing %lld", (long long)x->id);
    }
    char st[24];
    snprintf(st, sizeof st, "%s", cs_rows_str(r, 0, SL_STATE));
    cs_rows_free(r);
    if (strcmp(st, "rejected") && strcmp(st, "failed") && strcmp(st, "delisted"))
        return cs_error_set(err, CS_E_STATE_TRANSITION, "listing %s -> queued", st);
    if (cs_listing_transition(db, x->id, "queued", "republish", "Đăng lại sau khi sửa", x->a,
                              err) ||
        cs_db_exec(db, SQL_REPUBLISH_CLEAR, "i", x->id, err) < 0)
        return -1;
    char payload[64], key[48];
    snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)x->id);
    snprintf(key, sizeof key, "publish:%lld", (long long)x->id);
    job_opts o = {.unique_key = key};
    if (job_enqueue(db, "listing.publish", payload, &o, &x->job, err) < 0) return -1;
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)x->id);
    return cs_audit(db, x->a, "listing.republish", "listing", eid, NULL, err);
}

int job_flows_republish(cs_db *db, int64_t listing_id, const cs_actor *a, int64_t *job_id,
                        cs_error *err)
{
    struct repub x = {listing_id, a, 0};
    if (cs_db_tx(db, republish_tx, &x, err)) return -1;
    if (job_id) *job_id = x.job;
    return 0;
}

int job_flows_product_changed(cs_db *db, int64_t product_id, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LIVE_API, "i", product_id, err)) return -1;
    int n = 0;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        char payload[64], key[48];
        int64_t id = cs_rows_i64(r, i, LA_ID), jid;
        snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)id);
        snprintf(key, sizeof key, "update:%lld", (long long)id);
        job_opts o = {.unique_key = key};
        int rc = job_enqueue(db, "listing.update", payload, &o, &jid, err);
        if (rc < 0) {
            cs_rows_free(r);
            return -1;
        }
        n += rc == 0;
    }
    cs_rows_free(r);
    r = NULL;
    /* price and stock (listing.sync compares with what it last sent, so a change of the name
       alone sends nothing) */
    if (cs_db_query(db, &r, SQL_SYNC_API, "i", product_id, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(r); i++) {
        char payload[64], key[48];
        int64_t id = cs_rows_i64(r, i, SA_ID), jid;
        snprintf(payload, sizeof payload, "{\"listing_id\":%lld}", (long long)id);
        snprintf(key, sizeof key, "sync:%lld", (long long)id);
        job_opts o = {.unique_key = key};
        int rc = job_enqueue(db, "listing.sync", payload, &o, &jid, err);
        if (rc < 0) {
            cs_rows_free(r);
            return -1;
        }
        n += rc == 0;
    }
    cs_rows_free(r);
    return n;
}

int flows_register_listing_kinds(cs_error *err)
{
    /* default leases (worker.lease_seconds), extended by the worker's heartbeat while a run
       lasts: a dead worker's publish comes back quickly and is then adopted, not duplicated */
    if (job_register("listing.publish", h_publish, NULL, err) ||
        job_register("listing.update", h_update, NULL, err) ||
        job_register("listing.sync", h_sync, NULL, err) ||
        job_register("listing.withdraw", h_withdraw, NULL, err) ||
        job_register("listing.status", h_status, NULL, err) ||
        job_register("listing.poll", h_poll, NULL, err) ||
        job_schedule_every("listing.poll", (unsigned)cs_cfg_int("flows.poll_period"), "{}", err))
        return -1;
    return 0;
}
