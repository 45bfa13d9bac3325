/* service/api: the resource handlers of /v1 (households, products, images, owner status,
 * accounts, listings, audit, admin units) and the small rules they share: who may see which
 * commune, how much personal data a reader gets, ETag/If-Match, cursors. No MHD types here. */
#ifndef SVC_API_H
#define SVC_API_H
#include "core/audit.h"
#include "core/households.h"
#include "service/auth.h"
#include "service/router.h"
#include <stdint.h>

/* --- shared rules (service/api.c) --- */

/* Who may read/write which commune and the audit actor are service/auth.h's
 * (svc_can_read_commune, svc_can_write_commune, svc_can_see_personal, svc_audit_actor). */
/* Lists: masked for admin and volunteers (scoped to their communes), none for monitors. */
cs_pii svc_api_pii_list(const svc_req *r);
/* The volunteer's communes as an array of pointers into the actor (caller frees the array
 * with cs_free, not the strings); NULL with *n = 0 for roles that see every commune.
 * Returns 0 or -1 (out of memory). */
int svc_api_scope(const svc_req *r, const char ***out, size_t *n);

/* If-Match "v<version>" (weak W/ accepted): 0 and *version, or -1 after replying 428 when the
 * header is missing and 412 when it names no version. */
int svc_api_if_match(svc_req *r, unsigned *version);
/* ETag: "v<version>" on the reply. 0 or -1. */
int svc_api_etag(svc_req *r, unsigned version);
/* 1 when If-None-Match matches "v<version>" (the caller answers 304). */
int svc_api_not_modified(const svc_req *r, unsigned version);

/* A positive decimal id in a path parameter; 0 when malformed (callers answer 404). */
int64_t svc_api_param_id(const svc_req *r, const char *name);
/* Paging: `after` (cursor from next_cursor, default 0) and `limit` (1..200, default 50). On a
 * bad value replies 422 naming the parameter and returns -1. */
int svc_api_page(svc_req *r, int64_t *after, int *limit);
/* Optional boolean query parameter: *out = -1 when absent, 0/1 for false/true/0/1. On another
 * value adds a field error naming it and returns -1. */
int svc_api_query_bool(const svc_req *r, const char *name, int *out, cs_error *err);
/* Optional query parameter that must be one of `allowed` (NULL-terminated); NULL when absent.
 * Another value adds a field error and returns -1. */
int svc_api_query_enum(const svc_req *r, const char *name, const char *const *allowed,
                       const char **out, cs_error *err);
/* Optional query parameter made only of the characters in `set`, 1..maxlen bytes; else a field
 * error. */
int svc_api_query_token(const svc_req *r, const char *name, const char *set, size_t maxlen,
                        const char **out, cs_error *err);
/* {"items": items, "next_cursor": "<id>" | null}; takes ownership of items. */
int svc_api_reply_page(svc_req *r, json_t *items, int64_t next_cursor);

/* Image store path of a sha256 hex under media.dir: "<dir>/ab/cdef…". 0 or -1 (too long). */
int svc_media_path(const char *sha_hex, char *out, size_t outsz);
/* 1 when s is exactly 64 lower-case hex digits. */
int svc_sha_hex_ok(const char *s);
/* Remove the stored files of images no product uses any more (after erase or delete). Each
 * is checked again under the image's named lock so a concurrent upload of the same bytes keeps
 * its file. Returns how many files were removed. */
size_t svc_media_unlink_unused(cs_db *db, const char *const *shas, size_t n);
/* The image type the bytes are (JPEG, PNG, WebP: "image/jpeg" …), or NULL — decided by the
 * bytes, never by the client's name or Content-Type (service/h_images.c). */
const char *svc_image_type(const void *data, size_t n);
/* Store image bytes whose SHA-256 hex is sha in the media store and let use(db, ctx, err) point
 * a row at them, under the image's lease so a concurrent delete never drops them in between;
 * the bytes are dropped again when use fails and nothing else uses them. 0 or -1 with err. */
int svc_media_keep(cs_db *db, const char *sha, const void *data, size_t len,
                   int (*use)(cs_db *db, void *ctx, cs_error *err), void *ctx, cs_error *err);

/* --- handlers (one file per group) --- */
/* service/h_catalog.c (marketplace categories page) */
int svc_catalog_list(svc_req *r);
int svc_catalog_leaves(svc_req *r);
int svc_catalog_map(svc_req *r);
int svc_catalog_refresh(svc_req *r);
/* service/h_units.c */
int svc_admin_units_list(svc_req *r);
int svc_categories_list(svc_req *r);
/* service/h_households.c */
int svc_households_create(svc_req *r);
int svc_households_get(svc_req *r);
int svc_households_update(svc_req *r);
int svc_households_list(svc_req *r);
int svc_households_new_pin(svc_req *r);
int svc_households_pins_batch(svc_req *r);
int svc_households_erase(svc_req *r);
/* service/h_products.c */
int svc_products_create(svc_req *r);
int svc_products_get(svc_req *r);
int svc_products_update(svc_req *r);
int svc_products_list(svc_req *r);
/* service/h_images.c */
int svc_images_upload(svc_req *r);
int svc_images_delete(svc_req *r);
int svc_images_order(svc_req *r);
int svc_media_get(svc_req *r);
/* service/h_status.c */
int svc_status_get(svc_req *r);
int svc_status_post(svc_req *r);
/* service/h_market.c */
int svc_accounts_list(svc_req *r);
int svc_listings_list(svc_req *r);
int svc_listings_get(svc_req *r);
/* service/h_audit.c */
int svc_audit_list(svc_req *r);
/* service/h_sales.c */
int svc_sales_create(svc_req *r);
int svc_sales_list(svc_req *r);
int svc_sales_summary(svc_req *r);
int svc_sales_decide(svc_req *r);
int svc_status_sales_create(svc_req *r);
int svc_sales_evidence_put(svc_req *r);
int svc_status_sales_evidence_put(svc_req *r);
int svc_sales_evidence_get(svc_req *r);
int svc_sales_import(svc_req *r);
#endif
