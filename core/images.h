/* core/images: the rows of product_images — a product's pictures in order, added, removed and
 * reordered inside one transaction each. Knows nothing of HTTP nor of the media files on disk. */
#ifndef CS_IMAGES_H
#define CS_IMAGES_H
#include "core/audit.h"
#include "core/db.h"
#include <stddef.h>
#include <stdint.h>

/* Most pictures one product may carry (marketplaces take about this many). */
#define CS_IMAGE_MAX 9

/* One image row. */
typedef struct cs_image {
    char sha256[65];
    char mime[24];
    int64_t bytes;
    int64_t position;
    int64_t width, height; /* 0: not known (NULL in the row) */
} cs_image;

/* The product an image change is for: its household's commune and whether it can still be
 * edited. */
typedef struct cs_image_owner {
    char commune[6];
    int household_erased;
    int product_active;
} cs_image_owner;

/* Look up product `product`. Returns 0 with *out filled, 1 when there is no such product, -1
 * with err set. */
int cs_image_owner_of(cs_db *db, int64_t product, cs_image_owner *out, cs_error *err);

/* Every image of `product` in display order. Returns 0 with *out (caller frees with cs_free;
 * NULL when *n is 0) and *n, or -1 with err set. */
int cs_image_list(cs_db *db, int64_t product, cs_image **out, size_t *n, cs_error *err);

/* The type of the content `sha` when some product still uses it. Returns 0 with mime copied
 * (when mime is not NULL), 1 when no row uses it, -1 with err set. */
int cs_image_mime(cs_db *db, const char *sha, char *mime, size_t mimesz, cs_error *err);

/* What to add: the content, its type and size, where (position -1: at the end). */
typedef struct cs_image_new {
    int64_t product;
    const char *sha256, *mime;
    size_t bytes;
    unsigned width, height; /* 0: not known */
    int64_t position;
} cs_image_new;

/* Add an image to its product in one transaction (cs_db_tx; the product row is locked so
 * changes to one product's list take turns), shifting later images down, audited as
 * product.image_add. The same content twice is not added again: *existed is then 1 and *out
 * the row already there. More than CS_IMAGE_MAX: CS_F_IMAGE_TOO_MANY on field "image".
 * Returns 0 with *out, or -1 with err set. */
int cs_image_add(cs_db *db, const cs_actor *a, const cs_image_new *in, cs_image *out, int *existed,
                 cs_error *err);

/* Remove content `sha` from `product` in one transaction, renumbering the rest 0..n-1,
 * audited as product.image_remove. *found is 0 when the product had no such image. Returns 0
 * or -1 with err set. */
int cs_image_remove(cs_db *db, const cs_actor *a, int64_t product, const char *sha, int *found,
                    cs_error *err);

/* Put the images of `product` in the order of `order` (n digests) in one transaction, audited
 * as product.images_reorder. The order must name each image of the product exactly once, else
 * CS_F_ENUM on field "order". Returns 0 or -1 with err set. */
int cs_image_reorder(cs_db *db, const cs_actor *a, int64_t product, const char *const *order,
                     size_t n, cs_error *err);
#endif
