/* core/images: the product_images rows and their order, each change one audited transaction.
 * No HTTP and no file I/O: the media files belong to the service that stores and serves them. */
#include "core/images.h"
#include "core/lease.h"
#include "core/mem.h"
#include <stdio.h>
#include <string.h>

// clang-format off
static const char SQL_OWNER[] =
    "SELECT h.commune_code, h.status, p.status"
    " FROM products p"
    " JOIN households h ON h.id = p.household_id"
    " WHERE p.id = ?";
// clang-format on
enum { OWN_COMMUNE, OWN_HH_STATUS, OWN_P_STATUS };

int cs_image_owner_of(cs_db *db, int64_t product, cs_image_owner *out, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_OWNER, "i", product, err)) return -1;
    int rc = 1;
    if (cs_rows_count(rows)) {
        snprintf(out->commune, sizeof out->commune, "%s", cs_rows_str(rows, 0, OWN_COMMUNE));
        out->household_erased = !strcmp(cs_rows_str(rows, 0, OWN_HH_STATUS), "erased");
        out->product_active = !strcmp(cs_rows_str(rows, 0, OWN_P_STATUS), "active");
        rc = 0;
    }
    cs_rows_free(rows);
    return rc;
}

// clang-format off
static const char SQL_LIST[] =
    "SELECT sha256, mime, bytes, position, width, height"
    " FROM product_images"
    " WHERE product_id = ?"
    " ORDER BY position, id";
static const char SQL_ONE[] =
    "SELECT sha256, mime, bytes, position, width, height"
    " FROM product_images"
    " WHERE product_id = ? AND sha256 = ?";
// clang-format on
enum { IMG_SHA, IMG_MIME, IMG_BYTES, IMG_POSITION, IMG_WIDTH, IMG_HEIGHT };

static void image_from_row(const cs_rows *rows, size_t i, cs_image *img)
{
    snprintf(img->sha256, sizeof img->sha256, "%s", cs_rows_str(rows, i, IMG_SHA));
    snprintf(img->mime, sizeof img->mime, "%s", cs_rows_str(rows, i, IMG_MIME));
    img->bytes = cs_rows_i64(rows, i, IMG_BYTES);
    img->position = cs_rows_i64(rows, i, IMG_POSITION);
    img->width = cs_rows_isnull(rows, i, IMG_WIDTH) ? 0 : cs_rows_i64(rows, i, IMG_WIDTH);
    img->height = cs_rows_isnull(rows, i, IMG_HEIGHT) ? 0 : cs_rows_i64(rows, i, IMG_HEIGHT);
}

int cs_image_list(cs_db *db, int64_t product, cs_image **out, size_t *n, cs_error *err)
{
    *out = NULL;
    *n = 0;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_LIST, "i", product, err)) return -1;
    size_t count = cs_rows_count(rows);
    cs_image *imgs = count ? cs_calloc(count, sizeof *imgs) : NULL;
    if (count && !imgs) {
        cs_rows_free(rows);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < count; i++)
        image_from_row(rows, i, &imgs[i]);
    cs_rows_free(rows);
    *out = imgs;
    *n = count;
    return 0;
}

// clang-format off
static const char SQL_MIME[] =
    "SELECT mime"
    " FROM product_images"
    " WHERE sha256 = ?"
    " LIMIT 1";
// clang-format on
enum { MIME_MIME };

int cs_image_mime(cs_db *db, const char *sha, char *mime, size_t mimesz, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_MIME, "s", sha, err)) return -1;
    int rc = cs_rows_count(rows) ? 0 : 1;
    if (!rc && mime) snprintf(mime, mimesz, "%s", cs_rows_str(rows, 0, MIME_MIME));
    cs_rows_free(rows);
    return rc;
}

// clang-format off
static const char SQL_LOCK_PRODUCT[] =
    "SELECT 1"
    " FROM products"
    " WHERE id = ?"
    " FOR UPDATE";
// clang-format on

/* The product row is the lock that serialises changes to its image list on one server; the
 * touched lease row "img.<product>" makes two changes made through different Galera nodes
 * conflict in certification too (a FOR UPDATE read is not certified). */
static int lock_product(cs_db *db, int64_t product, cs_error *err)
{
    int64_t one;
    char name[40];
    snprintf(name, sizeof name, "img.%lld", (long long)product);
    if (cs_db_scalar_i64(db, &one, SQL_LOCK_PRODUCT, "i", product, err) < 0) return -1;
    return cs_lease_touch(db, name, err);
}

// clang-format off
static const char SQL_IDS_IN_ORDER[] =
    "SELECT id"
    " FROM product_images"
    " WHERE product_id = ?"
    " ORDER BY position, id";
static const char SQL_SET_POSITION_BY_ID[] =
    "UPDATE product_images"
    " SET position = ?"
    " WHERE id = ?";
// clang-format on
enum { IDS_ID };

/* Give positions 0..n-1 in the current order (after a removal). */
static int renumber(cs_db *db, int64_t product, cs_error *err)
{
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_IDS_IN_ORDER, "i", product, err)) return -1;
    int rc = 0;
    for (size_t i = 0; !rc && i < cs_rows_count(rows); i++)
        if (cs_db_exec(db, SQL_SET_POSITION_BY_ID, "ii", (int64_t)i, cs_rows_i64(rows, i, IDS_ID),
                       err) < 0)
            rc = -1;
    cs_rows_free(rows);
    return rc;
}

static void product_id_text(int64_t product, char out[24])
{
    snprintf(out, 24, "%lld", (long long)product);
}

struct add_ctx {
    const cs_actor *a;
    const cs_image_new *in;
    cs_image *out;
    int *existed;
};

// clang-format off
static const char SQL_COUNT[] =
    "SELECT COUNT(*)"
    " FROM product_images"
    " WHERE product_id = ?";
static const char SQL_SHIFT_DOWN[] =
    "UPDATE product_images"
    " SET position = position + 1"
    " WHERE product_id = ? AND position >= ?";
static const char SQL_INSERT[] =
    "INSERT INTO product_images (product_id, sha256, mime, bytes, width, height, position)"
    " VALUES (?, ?, ?, ?, NULLIF(?, 0), NULLIF(?, 0), ?)";
// clang-format on

static int add_tx(cs_db *db, void *arg, cs_error *err)
{
    struct add_ctx *c = arg;
    const cs_image_new *in = c->in;
    *c->existed = 0;
    cs_rows *rows = NULL;
    if (lock_product(db, in->product, err) ||
        cs_db_query(db, &rows, SQL_ONE, "is", in->product, in->sha256, err))
        return -1;
    if (cs_rows_count(rows)) { /* the same picture again: nothing to add */
        *c->existed = 1;
        image_from_row(rows, 0, c->out);
        cs_rows_free(rows);
        return 0;
    }
    cs_rows_free(rows);
    int64_t count = 0;
    if (cs_db_scalar_i64(db, &count, SQL_COUNT, "i", in->product, err) < 0) return -1;
    if (count >= CS_IMAGE_MAX) {
        cs_error_set(err, CS_F_IMAGE_TOO_MANY, "max %d", CS_IMAGE_MAX);
        return cs_error_field(err, "image", CS_F_IMAGE_TOO_MANY, "max 9");
    }
    int64_t pos = in->position < 0 || in->position > count ? count : in->position;
    if (pos < count && cs_db_exec(db, SQL_SHIFT_DOWN, "ii", in->product, pos, err) < 0) return -1;
    if (cs_db_exec(db, SQL_INSERT, "issiiii", in->product, in->sha256, in->mime, (int64_t)in->bytes,
                   (int64_t)in->width, (int64_t)in->height, pos, err) < 0)
        return -1;
    char pid[24];
    product_id_text(in->product, pid);
    if (cs_audit(db, c->a, "product.image_add", "product", pid,
                 json_pack("{s:s,s:I}", "sha256", in->sha256, "position", (json_int_t)pos), err))
        return -1;
    cs_image *o = c->out;
    snprintf(o->sha256, sizeof o->sha256, "%s", in->sha256);
    snprintf(o->mime, sizeof o->mime, "%s", in->mime);
    o->bytes = (int64_t)in->bytes;
    o->position = pos;
    o->width = in->width;
    o->height = in->height;
    return 0;
}

int cs_image_add(cs_db *db, const cs_actor *a, const cs_image_new *in, cs_image *out, int *existed,
                 cs_error *err)
{
    struct add_ctx c = {a, in, out, existed};
    return cs_db_tx(db, add_tx, &c, err);
}

struct del_ctx {
    const cs_actor *a;
    int64_t product;
    const char *sha;
    int *found;
};

// clang-format off
static const char SQL_DELETE[] =
    "DELETE FROM product_images"
    " WHERE product_id = ? AND sha256 = ?";
// clang-format on

static int del_tx(cs_db *db, void *arg, cs_error *err)
{
    struct del_ctx *c = arg;
    if (lock_product(db, c->product, err)) return -1;
    int64_t n = cs_db_exec(db, SQL_DELETE, "is", c->product, c->sha, err);
    if (n < 0) return -1;
    *c->found = n > 0;
    if (!*c->found) return 0;
    char pid[24];
    product_id_text(c->product, pid);
    if (renumber(db, c->product, err)) return -1;
    return cs_audit(db, c->a, "product.image_remove", "product", pid,
                    json_pack("{s:s}", "sha256", c->sha), err);
}

int cs_image_remove(cs_db *db, const cs_actor *a, int64_t product, const char *sha, int *found,
                    cs_error *err)
{
    *found = 0;
    struct del_ctx c = {a, product, sha, found};
    return cs_db_tx(db, del_tx, &c, err);
}

struct order_ctx {
    const cs_actor *a;
    int64_t product;
    const char *const *order;
    size_t n;
};

// clang-format off
static const char SQL_SHAS[] =
    "SELECT sha256"
    " FROM product_images"
    " WHERE product_id = ?";
static const char SQL_SET_POSITION_BY_SHA[] =
    "UPDATE product_images"
    " SET position = ?"
    " WHERE product_id = ? AND sha256 = ?";
// clang-format on
enum { SHAS_SHA };

static int order_tx(cs_db *db, void *arg, cs_error *err)
{
    struct order_ctx *c = arg;
    cs_rows *rows = NULL;
    if (lock_product(db, c->product, err) || cs_db_query(db, &rows, SQL_SHAS, "i", c->product, err))
        return -1;
    size_t n = cs_rows_count(rows);
    /* the new order must name each of the product's images exactly once */
    int ok = c->n == n;
    for (size_t i = 0; ok && i < n; i++) {
        const char *s = c->order[i];
        int seen = 0;
        for (size_t j = 0; j < n; j++)
            seen += !strcmp(cs_rows_str(rows, j, SHAS_SHA), s);
        for (size_t k = 0; k < i; k++)
            seen += !strcmp(c->order[k], s) ? 2 : 0;
        ok = seen == 1;
    }
    cs_rows_free(rows);
    if (!ok)
        return cs_error_field(err, "order", CS_F_ENUM, "each image of the product exactly once");
    for (size_t i = 0; i < n; i++)
        if (cs_db_exec(db, SQL_SET_POSITION_BY_SHA, "iis", (int64_t)i, c->product, c->order[i],
                       err) < 0)
            return -1;
    char pid[24];
    product_id_text(c->product, pid);
    return cs_audit(db, c->a, "product.images_reorder", "product", pid, NULL, err);
}

int cs_image_reorder(cs_db *db, const cs_actor *a, int64_t product, const char *const *order,
                     size_t n, cs_error *err)
{
    struct order_ctx c = {a, product, order, n};
    return cs_db_tx(db, order_tx, &c, err);
}
