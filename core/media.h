/* core/media: the image bytes, content-addressed, kept in the database (replicated by Galera
 * to every node) with a node-local cache under media.dir. One API for service/ and jobs/;
 * never serves HTTP and never decides who may see an image (core/images does). */
#ifndef CS_MEDIA_H
#define CS_MEDIA_H
#include "core/db.h"
#include "core/errors.h"
#include <stddef.h>

/* Store `len` bytes whose SHA-256 hex is `sha` (checked by the caller, 64 lowercase hex) in
 * the database (nothing when already there) and in this node's cache. Its own transaction:
 * call outside cs_db_tx. Returns 0 or -1. */
int cs_media_put(cs_db *db, const char *sha, const void *data, size_t len, cs_error *err);
/* Path of the bytes in this node's cache, fetched from the database first when the cache lacks
 * them. Returns 0, 1 when the database has no such bytes, -1 on error. */
int cs_media_path(cs_db *db, const char *sha, char *out, size_t n, cs_error *err);
/* The bytes themselves (cache first, then the database). *data is the caller's (cs_free).
 * Returns 0, 1 when unknown, -1 on error. */
int cs_media_read(cs_db *db, const char *sha, void **data, size_t *len, cs_error *err);
/* Drop the bytes when no product image uses them (database row and this node's cached file;
 * other nodes' cached copies stay on their disks but are never served again, since /media
 * answers only for bytes a product uses). Returns 1 removed, 0 kept, -1 error. */
int cs_media_drop_unused(cs_db *db, const char *sha, cs_error *err);
/* Cache file name of sha under media.dir ("<dir>/ab/cdef…"), 0 or -1 (too long / not hex). */
int cs_media_cache_file(const char *sha, char *out, size_t n);
#endif
