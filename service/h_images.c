/* service/h_images: product images — upload (multipart), delete, reorder — and the
 * content-addressed store (core/media: the database, cached under media.dir) that
 * /media/{sha256} serves. The type is decided by
 * the bytes, never by the client's name or Content-Type; paths are built only from a checked
 * hex digest, so no request can name a file of its own. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/images.h"
#include "core/lease.h"
#include "core/media.h"
#include "core/log.h"
#include "core/mem.h"
#include "service/api.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int svc_sha_hex_ok(const char *s)
{
    return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int svc_media_path(const char *sha, char *out, size_t outsz)
{
    return cs_media_cache_file(sha, out, outsz);
}

/* One lease per image content: upload, delete and erase of the same bytes take turns (on every
 * Galera node), so bytes are never dropped while a new row starts to use them. Short (80 bits
 * of the digest) like the named lock it replaced. */
#define MEDIA_LEASE_TTL_S 60
static void lock_name(const char *sha, char out[64])
{
    snprintf(out, 64, "m.%.20s", sha);
}

/* What the bytes are: the MIME type, or NULL when not JPEG/PNG/WebP. */
static const char *sniff(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return "image/jpeg";
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "image/png";
    if (n >= 16 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBPVP8", 7)) return "image/webp";
    return NULL;
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}
static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[1] << 8 | p[0];
}

/* Pixel size from the image header; 0 × 0 when the header cannot be read (kept as NULL). */
static void dimensions(const unsigned char *p, size_t n, const char *mime, unsigned *w, unsigned *h)
{
    *w = *h = 0;
    if (!strcmp(mime, "image/png")) {
        if (n >= 24 && !memcmp(p + 12, "IHDR", 4)) {
            *w = (unsigned)p[16] << 24 | (unsigned)p[17] << 16 | (unsigned)p[18] << 8 | p[19];
            *h = (unsigned)p[20] << 24 | (unsigned)p[21] << 16 | (unsigned)p[22] << 8 | p[23];
        }
    } else if (!strcmp(mime, "image/jpeg")) {
        size_t i = 2;
        while (i + 4 <= n) {
            if (p[i] != 0xFF) return;
            unsigned char m = p[i + 1];
            if (m == 0xFF) {
                i++;
                continue;
            } /* fill byte */
            if (m == 0x01 || (m >= 0xD0 && m <= 0xD9)) {
                i += 2;
                continue;
            }
            size_t len = be16(p + i + 2);
            if (len < 2) return;
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                if (i + 9 <= n) *h = be16(p + i + 5), *w = be16(p + i + 7);
                return;
            }
            i += 2 + len;
        }
    } else if (n >= 30) { /* WebP: lossy, lossless or extended */
        if (!memcmp(p + 12, "VP8 ", 4)) {
            *w = le16(p + 26) & 0x3FFF, *h = le16(p + 28) & 0x3FFF;
        } else if (!memcmp(p + 12, "VP8L", 4) && p[20] == 0x2F) {
            uint32_t b = (uint32_t)p[21] | (uint32_t)p[22] << 8 | (uint32_t)p[23] << 16 |
                         (uint32_t)p[24] << 24;
            *w = (b & 0x3FFF) + 1, *h = ((b >> 14) & 0x3FFF) + 1;
        } else if (!memcmp(p + 12, "VP8X", 4)) {
            *w = ((unsigned)p[24] | (unsigned)p[25] << 8 | (unsigned)p[26] << 16) + 1;
            *h = ((unsigned)p[27] | (unsigned)p[28] << 8 | (unsigned)p[29] << 16) + 1;
        }
    }
}

/* Drop the bytes of `sha` when no row uses them; the caller holds the image's lease. */
static int unlink_if_unused(cs_db *db, const char *sha)
{
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_media_drop_unused(db, sha, &err);
    if (rc < 0) cs_warn("media.drop_failed", "%s", cs_code_name(err.code));
    return rc > 0;
}

size_t svc_media_unlink_unused(cs_db *db, const char *const *shas, size_t n)
{
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!svc_sha_hex_ok(shas[i])) continue;
        cs_error err;
        cs_error_clear(&err);
        char name[64];
        lock_name(shas[i], name);
        if (cs_lease_wait(db, name, MEDIA_LEASE_TTL_S, 10, &err) != 1) {
            cs_warn("media.lock_busy", "image file kept");
            continue;
        }
        removed += (size_t)unlink_if_unused(db, shas[i]);
        cs_lease_release(db, name, &err);
    }
    return removed;
}

const char *svc_image_type(const void *data, size_t n)
{
    return sniff(data, n);
}

int svc_media_keep(cs_db *db, const char *sha, const void *data, size_t len,
                   int (*use)(cs_db *db, void *ctx, cs_error *err), void *ctx, cs_error *err)
{
    char name[64];
    lock_name(sha, name);
    int l = cs_lease_wait(db, name, MEDIA_LEASE_TTL_S, 10, err);
    if (l != 1) {
        if (l == 0) cs_error_set(err, CS_E_DB_SOFT, "image busy");
        return -1;
    }
    int rc = cs_media_put(db, sha, data, len, err) || use(db, ctx, err);
    if (rc) unlink_if_unused(db, sha);
    cs_error rel;
    cs_error_clear(&rel);
    cs_lease_release(db, name, &rel);
    return rc ? -1 : 0;
}

/* The product of {id} with its commune, checked for write access and still editable. Replies
 * and returns -1 when not. */
static int product_for_write(svc_req *r, cs_db *db, int64_t *id)
{
    cs_error err;
    cs_error_clear(&err);
    *id = svc_api_param_id(r, "id");
    if (!*id) {
        svc_reply_error(r, CS_E_NOT_FOUND, "%s", "product");
        return -1;
    }
    cs_image_owner o;
    int found = cs_image_owner_of(db, *id, &o, &err);
    if (found < 0) {
        svc_reply_problem(r, &err);
        return -1;
    }
    if (found == 1)
        svc_reply_error(r, CS_E_NOT_FOUND, "%s", "product");
    else if (!svc_can_write_commune(r, o.commune))
        svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "product");
    else if (o.household_erased || !o.product_active)
        svc_reply_error(r, CS_E_GONE, "%s", "product");
    else
        return 0;
    return -1;
}

static json_t *image_json(const cs_image *img)
{
    char url[80];
    snprintf(url, sizeof url, "/media/%s", img->sha256);
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:I,s:I}", "sha256", img->sha256, "url", url, "mime", img->mime,
                  "bytes", (json_int_t)img->bytes, "position", (json_int_t)img->position);
    if (!o) return NULL;
    json_object_set_new(o, "width", img->width ? json_integer(img->width) : json_null());
    json_object_set_new(o, "height", img->height ? json_integer(img->height) : json_null());
    return o;
}

/* Every image of a product in order, as a JSON array (NULL on error). */
static json_t *images_of(cs_db *db, int64_t id, cs_error *err)
{
    cs_image *imgs = NULL;
    size_t n = 0;
    if (cs_image_list(db, id, &imgs, &n, err)) return NULL;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, image_json(&imgs[i]));
    cs_free(imgs);
    if (!a) cs_error_set(err, CS_E_NOMEM, NULL);
    return a;
}

int svc_images_upload(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const svc_part *img = NULL;
    const char *position = NULL;
    for (size_t i = 0; i < r->nparts; i++) {
        const svc_part *p = &r->parts[i];
        if (!strcmp(p->name, "image") && !img)
            img = p;
        else if (!strcmp(p->name, "position") && !position)
            position = p->data;
        else
            cs_error_field(&err, p->name, CS_F_UNKNOWN, "image, position");
    }
    int64_t pos = -1;
    if (!img || !img->len) cs_error_field(&err, "image", CS_F_REQUIRED, NULL);
    if (position) {
        char *end;
        errno = 0;
        long v = strtol(position, &end, 10);
        if (!*position || *end || errno || v < 0 || v >= CS_IMAGE_MAX)
            cs_error_field(&err, "position", CS_F_RANGE, "0..8");
        else
            pos = v;
    }
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    if (img->len > (size_t)cs_cfg_int("media.max_image"))
        return svc_reply_error(r, CS_E_TOO_LARGE, "image larger than %ld bytes",
                               cs_cfg_int("media.max_image"));
    const char *mime = sniff((const unsigned char *)img->data, img->len);
    if (!mime) {
        cs_error_set(&err, CS_F_IMAGE_TYPE, "JPEG, PNG, WebP");
        cs_error_field(&err, "image", CS_F_IMAGE_TYPE, NULL);
        return svc_reply_problem(r, &err);
    }
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id;
    if (product_for_write(r, db, &id)) return 0;

    unsigned char digest[32];
    char sha[65];
    cs_sha256(img->data, img->len, digest);
    cs_hex(digest, 32, sha);
    cs_image_new in = {
        .product = id, .sha256 = sha, .mime = mime, .bytes = img->len, .position = pos};
    dimensions((const unsigned char *)img->data, img->len, mime, &in.width, &in.height);
    /* PNG allows at most 2^31-1 pixels a side (the other formats cannot say more than 2^24);
     * a header claiming more is not an image, and the database column could not hold it. */
    if (in.width > INT32_MAX || in.height > INT32_MAX) {
        cs_error_set(&err, CS_E_VALIDATION, NULL);
        cs_error_field(&err, "image", CS_F_RANGE, "width and height at most 2147483647 px");
        return svc_reply_problem(r, &err);
    }
    cs_actor a = svc_audit_actor(r);
    cs_image added;
    int existed = 0;

    char name[64];
    lock_name(sha, name);
    int l = cs_lease_wait(db, name, MEDIA_LEASE_TTL_S, 10, &err);
    if (l != 1) {
        if (l == 0)
            cs_error_set(&err, CS_E_CONFLICT,
                         "the same image is being stored by another request; try again");
        return svc_reply_problem(r, &err);
    }
    int rc = cs_media_put(db, sha, img->data, img->len, &err) ||
             cs_image_add(db, &a, &in, &added, &existed, &err);
    if (rc) unlink_if_unused(db, sha); /* refused (too many, gone): keep no file nobody uses */
    cs_error rel;
    cs_error_clear(&rel);
    cs_lease_release(db, name, &rel);
    if (rc) return svc_reply_problem(r, &err);
    json_t *o = image_json(&added);
    if (!o) return svc_reply_error(r, CS_E_NOMEM, "%s", "image");
    char loc[80];
    snprintf(loc, sizeof loc, "/media/%s", sha);
    if (svc_add_header(r, "Location", loc)) {
        json_decref(o);
        return -1;
    }
    return svc_reply_json(r, existed ? 200 : 201, o);
}

int svc_images_delete(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *sha = svc_param(r, "sha256");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id;
    if (product_for_write(r, db, &id)) return 0;
    if (!svc_sha_hex_ok(sha)) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "image");
    cs_actor a = svc_audit_actor(r);
    int found = 0;
    char name[64];
    lock_name(sha, name);
    int l = cs_lease_wait(db, name, MEDIA_LEASE_TTL_S, 10, &err);
    if (l != 1) {
        if (l == 0)
            cs_error_set(&err, CS_E_CONFLICT,
                         "the same image is being changed by another request; try again");
        return svc_reply_problem(r, &err);
    }
    int rc = cs_image_remove(db, &a, id, sha, &found, &err);
    if (!rc && found) unlink_if_unused(db, sha);
    cs_error rel;
    cs_error_clear(&rel);
    cs_lease_release(db, name, &rel);
    if (rc) return svc_reply_problem(r, &err);
    if (!found) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "image");
    return svc_reply_empty(r, 204);
}

int svc_images_order(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const json_t *order = NULL;
    static const cs_jfield sha_item = {
        .name = "sha256", .type = CS_J_STRING, .min_len = 64, .max_len = 64};
    cs_jfield spec[] = {
        {.name = "order",
         .type = CS_J_ARRAY,
         .flags = CS_JF_REQUIRED,
         .max_len = CS_IMAGE_MAX,
         .items = &sha_item,
         .out = &order},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int64_t id;
    if (product_for_write(r, db, &id)) return 0;
    cs_actor a = svc_audit_actor(r);
    const char *shas[CS_IMAGE_MAX];
    size_t n = json_array_size(order);
    for (size_t i = 0; i < n; i++)
        shas[i] = json_string_value(json_array_get(order, i));
    if (cs_image_reorder(db, &a, id, shas, n, &err)) return svc_reply_problem(r, &err);
    json_t *imgs = images_of(db, id, &err);
    if (!imgs) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200, json_pack("{s:o}", "images", imgs));
}

int svc_media_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *sha = svc_param(r, "sha256");
    if (!svc_sha_hex_ok(sha)) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "image");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    /* only bytes some product still uses are served (erased households' images are not) */
    char mime[24];
    int found = cs_image_mime(db, sha, mime, sizeof mime, &err);
    if (found < 0) return svc_reply_problem(r, &err);
    if (found == 1) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "image");
    char etag[70];
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    const char *inm = svc_header(r, "If-None-Match");
    const char *const hdrs[] = {"Cache-Control",
                                "public, max-age=31536000, immutable",
                                "ETag",
                                etag,
                                "X-Content-Type-Options",
                                "nosniff",
                                NULL};
    if (inm && (strstr(inm, sha) || !strcmp(inm, "*"))) {
        for (size_t i = 0; hdrs[i]; i += 2)
            if (svc_add_header(r, hdrs[i], hdrs[i + 1])) return -1;
        return svc_reply_empty(r, 304);
    }
    /* this node's cached copy, fetched from the database the first time */
    char path[4096];
    int have = cs_media_path(db, sha, path, sizeof path, &err);
    if (have < 0 && err.code == CS_E_STORAGE_FULL) {
        /* this node's cache disk is full: the bytes come from the database, uncached */
        void *data = NULL;
        size_t len = 0;
        cs_error_clear(&err);
        have = cs_media_read(db, sha, &data, &len, &err);
        if (have == 0) {
            int rc = svc_reply_bytes(r, 200, mime, data, len, hdrs);
            cs_free(data);
            return rc;
        }
    }
    if (have < 0) return svc_reply_problem(r, &err);
    if (have == 1) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "image");
    return svc_reply_file(r, 200, mime, path, hdrs);
}
