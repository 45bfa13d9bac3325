/* core/media: image bytes in the `media_blobs` table, cached per node under media.dir. Core
 * room: SQL and files only; knows no HTTP and no marketplace. Why the database and not an
 * S3-compatible store: README "Running on several machines" (measured there). */
#include "core/media.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// clang-format off
static const char SQL_PUT[] =
    "INSERT IGNORE INTO media_blobs (sha256, bytes, data)"
    " VALUES (?, ?, ?)";
static const char SQL_GET[] =
    "SELECT data"
    " FROM media_blobs"
    " WHERE sha256 = ?";
enum { G_DATA };
static const char SQL_DROP_UNUSED[] =
    "DELETE FROM media_blobs"
    " WHERE sha256 = ?"
    " AND NOT EXISTS (SELECT 1 FROM product_images WHERE sha256 = ?)"
    " AND NOT EXISTS (SELECT 1 FROM sale_claims WHERE evidence_sha256 = ?)";
/* a sale's screenshot is evidence of a counted item: kept like a product's image */
static const char SQL_USED[] =
    "SELECT (SELECT COUNT(*) FROM product_images WHERE sha256 = ?)"
    "  + (SELECT COUNT(*) FROM sale_claims WHERE evidence_sha256 = ?)";
// clang-format on

static int hex_ok(const char *s)
{
    return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int cs_media_cache_file(const char *sha, char *out, size_t n)
{
    if (!hex_ok(sha)) return -1;
    int w = snprintf(out, n, "%s/%.2s/%s", cs_cfg_str("media.dir"), sha, sha + 2);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof tmp) return -1;
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
        *s = '/';
    }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* A cache write that failed for want of room is CS_E_STORAGE_FULL (507), any other failure
 * CS_E_UNAVAILABLE (503). */
static int media_fail(int e, cs_error *err)
{
    if (e == ENOSPC || e == EDQUOT || e == EFBIG)
        return cs_error_set(err, CS_E_STORAGE_FULL, "media.dir: %s", strerror(e));
    return cs_error_set(err, CS_E_UNAVAILABLE, "media.dir: %s", strerror(e));
}

/* Write the bytes to the cache unless a copy of that size is there: beside it under a
 * temporary name, synced, then renamed, so a reader never sees half a file. */
static int cache_write(const char *sha, const void *data, size_t len, cs_error *err)
{
    char path[4096], dir[4096], tmp[4200];
    if (cs_media_cache_file(sha, path, sizeof path))
        return cs_error_set(err, CS_E_CONFIG, "media.dir too long");
    struct stat st;
    if (!stat(path, &st) && S_ISREG(st.st_mode) && (size_t)st.st_size == len) return 0;
    snprintf(dir, sizeof dir, "%s/%.2s", cs_cfg_str("media.dir"), sha);
    if (mkdir_p(dir)) return media_fail(errno, err);
    snprintf(tmp, sizeof tmp, "%s/.up-XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0) return media_fail(errno, err);
    const char *p = data;
    size_t left = len;
    errno = 0;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w, left -= (size_t)w;
    }
    int bad = left != 0 || fchmod(fd, 0644) || fsync(fd);
    int e = errno;
    if (left != 0 && e == 0) e = ENOSPC; /* a short write with no error: the disk is full */
    if (close(fd)) bad = 1;
    if (bad || rename(tmp, path)) {
        if (!bad) e = errno;
        unlink(tmp);
        return media_fail(e, err);
    }
    return 0;
}

/* The cached file's bytes when its digest is sha (a torn or foreign file is ignored), else
 * NULL. */
static void *cache_read(const char *sha, size_t *len)
{
    char path[4096];
    if (cs_media_cache_file(sha, path, sizeof path)) return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)(256u << 20)) {
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *b = cs_malloc(n ? n : 1);
    while (b && got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!b) return NULL;
    unsigned char d[32];
    char hex[65];
    cs_sha256(b, got, d);
    cs_hex(d, 32, hex);
    if (got != n || strcmp(hex, sha)) {
        cs_free(b);
        return NULL;
    }
    *len = n;
    return b;
}

struct put {
    const char *sha;
    const void *data;
    size_t len;
};

static int put_tx(cs_db *db, void *arg, cs_error *err)
{
    struct put *p = arg;
    return cs_db_exec(db, SQL_PUT, "sib", p->sha, (int64_t)p->len, p->data, p->len, err) < 0 ? -1
                                                                                             : 0;
}

int cs_media_put(cs_db *db, const char *sha, const void *data, size_t len, cs_error *err)
{
    if (!hex_ok(sha)) return cs_error_set(err, CS_E_INTERNAL, "media digest");
    struct put p = {sha, data, len};
    if (cs_db_tx(db, put_tx, &p, err)) return -1;
    /* the database copy is the one that counts; a cache that cannot be written is refilled on
     * the next read */
    cs_error cerr;
    cs_error_clear(&cerr);
    if (cache_write(sha, data, len, &cerr))
        cs_warn("media.cache_write", "%s", cs_code_name(cerr.code));
    return 0;
}

/* Bytes from the database into *data; 0, 1 unknown, -1. A file a single-machine install put in
 * media.dir before the bytes moved to the database is adopted when its digest matches. */
static int db_read(cs_db *db, const char *sha, void **data, size_t *len, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_GET, "s", sha, err)) return -1;
    if (cs_rows_count(r) == 0) {
        cs_rows_free(r);
        size_t n = 0;
        void *old = cache_read(sha, &n);
        if (!old) return 1;
        if (cs_media_put(db, sha, old, n, err)) {
            cs_free(old);
            return -1;
        }
        *data = old;
        *len = n;
        return 0;
    }
    size_t n = 0;
    const void *b = cs_rows_blob(r, 0, G_DATA, &n);
    void *copy = cs_malloc(n ? n : 1);
    if (!copy) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOMEM, "media");
    }
    if (n) memcpy(copy, b, n);
    cs_rows_free(r);
    *data = copy;
    *len = n;
    return 0;
}

int cs_media_read(cs_db *db, const char *sha, void **data, size_t *len, cs_error *err)
{
    if (!hex_ok(sha)) return 1;
    *data = cache_read(sha, len);
    if (*data) return 0;
    int rc = db_read(db, sha, data, len, err);
    if (rc) return rc;
    cs_error cerr;
    cs_error_clear(&cerr);
    cache_write(sha, *data, *len, &cerr);
    return 0;
}

int cs_media_path(cs_db *db, const char *sha, char *out, size_t n, cs_error *err)
{
    if (cs_media_cache_file(sha, out, n)) return 1;
    struct stat st;
    if (!stat(out, &st) && S_ISREG(st.st_mode)) return 0;
    void *data = NULL;
    size_t len = 0;
    int rc = db_read(db, sha, &data, &len, err);
    if (rc) return rc;
    rc = cache_write(sha, data, len, err) ? -1 : 0;
    cs_free(data);
    return rc;
}

int cs_media_drop_unused(cs_db *db, const char *sha, cs_error *err)
{
    if (!hex_ok(sha)) return 0;
    int64_t used = 0;
    if (cs_db_scalar_i64(db, &used, SQL_USED, "ss", sha, sha, err) < 0) return -1;
    if (used) return 0;
    if (cs_db_exec(db, SQL_DROP_UNUSED, "sss", sha, sha, sha, err) < 0) return -1;
    char path[4096];
    if (cs_media_cache_file(sha, path, sizeof path)) return 0;
    if (unlink(path) && errno != ENOENT) {
        cs_warn("media.unlink_failed", "%s", strerror(errno));
        return 0;
    }
    return 1;
}
