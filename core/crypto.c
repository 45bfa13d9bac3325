/* core/crypto: sealing, blind index, tokens and PIN hashes on OpenSSL 3. Keys live only in
 * this file's memory and are cleansed on shutdown; nothing here logs or prints a value. */
#include "core/crypto.h"
#include "core/config.h"
#include "core/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEAL_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define HDR_LEN 2
#define KEY_LEN 32
#define KEYFILE_MAX (64 * 1024)

/* The loaded keys. Written only by cs_crypto_init/cs_crypto_shutdown under the write lock;
 * every other function takes the read lock, so concurrent sealing never contends. */
struct keyset {
    unsigned char have[256]; /* have[id]: a sealing key with this id exists */
    unsigned char seal[256][KEY_LEN];
    unsigned char active; /* id used for new values: the last `seal` line */
    unsigned char max_id;
    int have_index;
    unsigned char index[KEY_LEN];
};

static pthread_rwlock_t klock = PTHREAD_RWLOCK_INITIALIZER;
static struct keyset keys;
static int loaded;
static EVP_CIPHER *gcm;
static EVP_MAC *hmac;
/* HMAC keyed with the index key once; each blind index starts from a copy, which skips the
 * digest fetch and key schedule a fresh context costs (~3x faster on an import's hot path).
 * Only read (duplicated) under the read lock; replaced under the write lock. */
static EVP_MAC_CTX *index_tmpl;

/* ---------------------------------------------------------------- key file */

static int keyfile_error(cs_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int keyfile_error(cs_error *err, const char *path, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_error_set(err, CS_E_CONFIG, "crypto.key_file %s: %s", path ? path : "(unset)", msg);
    return cs_error_field(err, "crypto.key_file", CS_E_CONFIG, msg);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 64 hex digits → 32 bytes. 0 or -1. */
static int unhex_key(const char *s, size_t n, unsigned char out[KEY_LEN])
{
    if (n != 2 * KEY_LEN) return -1;
    for (size_t i = 0; i < KEY_LEN; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Read the whole key file into a NUL-terminated cs_malloc buffer, refusing anything but a
 * regular file that only its owner can read or write. */
static char *read_keyfile(const char *path, size_t *len, cs_error *err)
{
    if (!path || !*path) {
        keyfile_error(err, path, "not set");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        keyfile_error(err, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        keyfile_error(err, path, "not a regular file");
        close(fd);
        return NULL;
    }
    if (st.st_mode & 077) {
        keyfile_error(err, path,
                      "readable or writable by group or others (mode %04o); "
                      "run: chmod 600 %s",
                      (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return NULL;
    }
    if (st.st_size > KEYFILE_MAX) {
        keyfile_error(err, path, "larger than %d bytes", KEYFILE_MAX);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1;
    char *buf = cs_malloc(cap);
    if (!buf) {
        close(fd);
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            keyfile_error(err, path, "read failed: %s", strerror(errno));
            close(fd);
            cs_free_secret(buf, cap);
            return NULL;
        }
        if (r == 0 || (n += (size_t)r) == cap - 1) break;
    }
    close(fd);
    buf[n] = '\0';
    if (strlen(buf) != n) {
        keyfile_error(err, path, "contains a NUL byte");
        cs_free_secret(buf, cap);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Parse "seal <id> <hex>" and "index <hex>" lines ('#' comments and blank lines skipped) into
 * ks. Error details name the line, never the key material. */
static int parse_keyfile(const char *path, char *text, struct keyset *ks, cs_error *err)
{
    memset(ks, 0, sizeof *ks);
    int lineno = 0;
    char *save = NULL;
    for (char *line = text; line; line = save) {
        save = strchr(line, '\n');
        if (save) *save++ = '\0';
        lineno++;
        char *w[4] = {0};
        int nw = 0;
        char *ctx = NULL;
        for (char *t = strtok_r(line, " \t\r", &ctx); t; t = strtok_r(NULL, " \t\r", &ctx)) {
            if (nw == 4) break;
            w[nw++] = t;
        }
        if (nw == 0 || w[0][0] == '#') continue;
        if (!strcmp(w[0], "seal") && nw == 3) {
            char *end;
            errno = 0;
            long id = strtol(w[1], &end, 10);
            if (errno || *end || end == w[1] || id < 1 || id > 255)
                return keyfile_error(err, path, "line %d: key id must be 1..255", lineno);
            if (ks->have[id])
                return keyfile_error(err, path, "line %d: key id %ld appears twice", lineno, id);
            if (unhex_key(w[2], strlen(w[2]), ks->seal[id]))
                return keyfile_error(err, path, "line %d: key must be 64 hex digits", lineno);
            ks->have[id] = 1;
            ks->active = (unsigned char)id;
            if (id > ks->max_id) ks->max_id = (unsigned char)id;
        } else if (!strcmp(w[0], "index") && nw == 2) {
            if (ks->have_index)
                return keyfile_error(err, path, "line %d: a second index key", lineno);
            if (unhex_key(w[1], strlen(w[1]), ks->index))
                return keyfile_error(err, path, "line %d: key must be 64 hex digits", lineno);
            ks->have_index = 1;
        } else {
            return keyfile_error(
                err, path, "line %d: expected 'seal <id> <64 hex>' or 'index <64 hex>'", lineno);
        }
    }
    if (!ks->active) return keyfile_error(err, path, "no 'seal' key");
    if (!ks->have_index) return keyfile_error(err, path, "no 'index' key");
    return 0;
}

/* Read and parse into a fresh heap keyset (cleansed by the caller with cs_free_secret).
 * With text_out, the file's text is handed over too (rotation appends to it). */
static struct keyset *load_keyset(const char *path, char **text_out, size_t *text_len,
                                  cs_error *err)
{
    size_t len = 0;
    char *text = read_keyfile(path, &len, err);
    if (!text) return NULL;
    char *copy = text_out ? cs_strndup(text, len) : NULL;
    struct keyset *ks = cs_malloc(sizeof *ks);
    if (!ks || (text_out && !copy)) {
        cs_error_set(err, CS_E_NOMEM, NULL);
    } else if (parse_keyfile(path, text, ks, err) == 0) {
        cs_free_secret(text, len + 1);
        if (text_out) *text_out = copy, *text_len = len;
        return ks;
    }
    cs_free_secret(text, len + 1);
    if (copy) cs_free_secret(copy, len + 1);
    if (ks) cs_free_secret(ks, sizeof *ks);
    return NULL;
}

int cs_crypto_init(const char *keyfile, cs_error *err)
{
    long n = cs_cfg_int("crypto.pin_scrypt_n");
    if (n < 2 || (n & (n - 1))) {
        cs_error_set(err, CS_E_CONFIG, "crypto.pin_scrypt_n must be a power of two");
        return cs_error_field(err, "crypto.pin_scrypt_n", CS_F_RANGE, "power of two");
    }
    struct keyset *ks = load_keyset(keyfile, NULL, NULL, err);
    if (!ks) return -1;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!c || !m) {
        EVP_CIPHER_free(c);
        EVP_MAC_free(m);
        cs_free_secret(ks, sizeof *ks);
        return cs_error_set(err, CS_E_CRYPTO, "OpenSSL lacks AES-256-GCM or HMAC");
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *tmpl = EVP_MAC_CTX_new(m);
    if (!tmpl || EVP_MAC_init(tmpl, ks->index, KEY_LEN, params) != 1) {
        EVP_MAC_CTX_free(tmpl);
        EVP_CIPHER_free(c);
        EVP_MAC_free(m);
        cs_free_secret(ks, sizeof *ks);
        return cs_error_set(err, CS_E_CRYPTO, "HMAC set-up failed");
    }
    pthread_rwlock_wrlock(&klock);
    memcpy(&keys, ks, sizeof keys);
    EVP_MAC_CTX_free(index_tmpl);
    EVP_CIPHER_free(gcm);
    EVP_MAC_free(hmac);
    index_tmpl = tmpl;
    gcm = c;
    hmac = m;
    loaded = 1;
    pthread_rwlock_unlock(&klock);
    cs_free_secret(ks, sizeof *ks);
    return 0;
}

void cs_crypto_shutdown(void)
{
    pthread_rwlock_wrlock(&klock);
    OPENSSL_cleanse(&keys, sizeof keys);
    EVP_MAC_CTX_free(index_tmpl);
    index_tmpl = NULL;
    EVP_CIPHER_free(gcm);
    EVP_MAC_free(hmac);
    gcm = NULL;
    hmac = NULL;
    loaded = 0;
    pthread_rwlock_unlock(&klock);
}

/* mkdir -p of path's parent directories, mode 0700 (key directories are private too). */
static int make_parents(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof dir) return -1;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* Write a new file that must not exist yet, mode 0600, flushed to disk. 0, -1 (errno set). */
static int write_new(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) goto fail;
        off += (size_t)w;
    }
    if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) goto fail;
    return close(fd);
fail:;
    int e = errno;
    close(fd);
    unlink(path);
    errno = e;
    return -1;
}

/* Directory holding path, opened for fsync and flock. fd or -1. */
static int open_parent(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof dir) return -1;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        memcpy(dir, ".", 2);
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int fsync_parent(const char *path)
{
    int fd = open_parent(path);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static const char KEYFILE_HEADER[] =
    "# Chợ Số data keys: sealing keys (AES-256-GCM) by id, the last one active, and the\n"
    "# blind-index key (HMAC-SHA256, never rotated). Keep secret (mode 0600) and backed up:\n"
    "# without it the sealed personal data cannot be read.\n";

int cs_crypto_keyfile_create(const char *path, cs_error *err)
{
    if (!path || !*path) return keyfile_error(err, path, "not set");
    struct stat st;
    if (stat(path, &st) == 0) return 0;
    if (errno != ENOENT) return keyfile_error(err, path, "cannot stat: %s", strerror(errno));
    if (make_parents(path) != 0)
        return keyfile_error(err, path, "cannot create its directory: %s", strerror(errno));
    unsigned char k[2][KEY_LEN];
    char hex[2][2 * KEY_LEN + 1];
    char text[sizeof KEYFILE_HEADER + 256];
    int rc = -1;
    if (cs_random(k, sizeof k) != 0) {
        cs_error_set(err, CS_E_CRYPTO, "no randomness for a new key");
        goto out;
    }
    cs_hex(k[0], KEY_LEN, hex[0]);
    cs_hex(k[1], KEY_LEN, hex[1]);
    int n = snprintf(text, sizeof text, "%sseal 1 %s\nindex %s\n", KEYFILE_HEADER, hex[0], hex[1]);
    if (n < 0 || (size_t)n >= sizeof text) {
        cs_error_set(err, CS_E_INTERNAL, "key file text too long");
        goto out;
    }
    if (write_new(path, text, (size_t)n) != 0) {
        if (errno == EEXIST)
            rc = 0; /* another process made it first: use theirs */
        else
            keyfile_error(err, path, "cannot write: %s", strerror(errno));
        goto out;
    }
    fsync_parent(path);
    rc = 1;
out:
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(hex, sizeof hex);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

static int rotate_locked(const char *path, cs_error *err)
{
    char *old = NULL;
    size_t oldlen = 0;
    struct keyset *ks = load_keyset(path, &old, &oldlen, err);
    if (!ks) return -1;
    int rc = -1;
    unsigned char k[KEY_LEN];
    char hex[2 * KEY_LEN + 1];
    char tmp[4200];
    char *text = NULL;
    size_t cap = oldlen + 2 * KEY_LEN + 32;
    if (ks->max_id == 255) {
        keyfile_error(err, path, "all 255 sealing key ids are used");
        goto out;
    }
    if (cs_random(k, sizeof k) != 0) {
        cs_error_set(err, CS_E_CRYPTO, "no randomness for a new key");
        goto out;
    }
    cs_hex(k, KEY_LEN, hex);
    text = cs_malloc(cap);
    if (!text) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    int n = snprintf(text, cap, "%s%sseal %u %s\n", old,
                     oldlen && old[oldlen - 1] != '\n' ? "\n" : "", ks->max_id + 1u, hex);
    unsigned char rnd[6];
    char rhex[13];
    if (n < 0 || (size_t)n >= cap || cs_random(rnd, sizeof rnd) != 0) {
        cs_error_set(err, CS_E_INTERNAL, "cannot build the new key file");
        goto out;
    }
    cs_hex(rnd, sizeof rnd, rhex);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%s", path, rhex) >= sizeof tmp) {
        keyfile_error(err, path, "path too long");
        goto out;
    }
    /* New file beside the old one, then rename: a crash leaves either file whole. */
    if (write_new(tmp, text, (size_t)n) != 0) {
        keyfile_error(err, path, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        keyfile_error(err, path, "cannot replace: %s", strerror(errno));
        unlink(tmp);
        goto out;
    }
    fsync_parent(path);
    rc = 0;
out:
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(hex, sizeof hex);
    if (text) cs_free_secret(text, cap);
    cs_free_secret(old, oldlen + 1);
    cs_free_secret(ks, sizeof *ks);
    return rc;
}

int cs_crypto_keyfile_rotate(const char *path, cs_error *err)
{
    if (!path || !*path) return keyfile_error(err, path, "not set");
    /* Two rotations at once would each append to the old text and one key would be lost: the
     * directory is locked (the file itself is replaced by rename, so it cannot carry the lock). */
    int dfd = open_parent(path);
    if (dfd < 0) return keyfile_error(err, path, "cannot open its directory: %s", strerror(errno));
    if (flock(dfd, LOCK_EX) != 0) {
        close(dfd);
        return keyfile_error(err, path, "cannot lock its directory: %s", strerror(errno));
    }
    int rc = rotate_locked(path, err);
    close(dfd); /* releases the lock */
    return rc;
}

/* ---------------------------------------------------------------- sealing */

int cs_seal(const void *pt, size_t n, const char *aad, unsigned char **out, size_t *outlen)
{
    if (!out || !outlen) return -1;
    *out = NULL;
    *outlen = 0;
    if ((!pt && n) || n > (size_t)INT_MAX - 64) return -1;
    if (!aad) aad = "";
    size_t total = HDR_LEN + NONCE_LEN + n + TAG_LEN;
    unsigned char *buf = cs_malloc(total);
    if (!buf) return -1;
    int rc = -1, len = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    pthread_rwlock_rdlock(&klock);
    if (!loaded) goto out;
    buf[0] = SEAL_VERSION;
    buf[1] = keys.active;
    unsigned char *nonce = buf + HDR_LEN, *ct = nonce + NONCE_LEN;
    if (RAND_bytes(nonce, NONCE_LEN) != 1) goto out;
    ctx = EVP_CIPHER_CTX_new();
    /* The header (version, key id) is authenticated along with the caller's aad, so neither
     * can be altered without the tag failing. */
    if (!ctx || EVP_EncryptInit_ex2(ctx, gcm, keys.seal[keys.active], nonce, NULL) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, buf, HDR_LEN) != 1 ||
        (*aad &&
         EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1) ||
        (n && EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) != 1) ||
        EVP_EncryptFinal_ex(ctx, ct + (n ? (size_t)len : 0), &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, ct + n) != 1)
        goto out;
    rc = 0;
out:
    pthread_rwlock_unlock(&klock);
    EVP_CIPHER_CTX_free(ctx);
    if (rc) {
        cs_free(buf);
        return -1;
    }
    *out = buf;
    *outlen = total;
    return 0;
}

int cs_unseal(const unsigned char *in, size_t n, const char *aad, unsigned char **out,
              size_t *outlen)
{
    if (!out || !outlen) return -1;
    *out = NULL;
    *outlen = 0;
    if (!in || n < HDR_LEN + NONCE_LEN + TAG_LEN || n > (size_t)INT_MAX || in[0] != SEAL_VERSION)
        return -1;
    if (!aad) aad = "";
    size_t ctlen = n - HDR_LEN - NONCE_LEN - TAG_LEN;
    const unsigned char *nonce = in + HDR_LEN, *ct = nonce + NONCE_LEN, *tag = ct + ctlen;
    unsigned char *pt = cs_malloc(ctlen + 1);
    if (!pt) return -1;
    int rc = -1, len = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    pthread_rwlock_rdlock(&klock);
    if (!loaded || !keys.have[in[1]]) goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_DecryptInit_ex2(ctx, gcm, keys.seal[in[1]], nonce, NULL) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, in, HDR_LEN) != 1 ||
        (*aad &&
         EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1) ||
        (ctlen && EVP_DecryptUpdate(ctx, pt, &len, ct, (int)ctlen) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, pt + (ctlen ? (size_t)len : 0), &len) != 1)
        goto out;
    rc = 0;
out:
    pthread_rwlock_unlock(&klock);
    EVP_CIPHER_CTX_free(ctx);
    if (rc) {
        cs_free_secret(pt, ctlen + 1);
        return -1;
    }
    pt[ctlen] = '\0';
    *out = pt;
    *outlen = ctlen;
    return 0;
}

unsigned cs_sealed_key_id(const unsigned char *in, size_t n)
{
    if (!in || n < HDR_LEN + NONCE_LEN + TAG_LEN || in[0] != SEAL_VERSION) return 0;
    return in[1];
}

unsigned cs_crypto_active_key_id(void)
{
    pthread_rwlock_rdlock(&klock);
    unsigned id = loaded ? keys.active : 0;
    pthread_rwlock_unlock(&klock);
    return id;
}

/* ---------------------------------------------------------------- blind index */

int cs_blind_index(const char *domain, const char *value, unsigned char out[32])
{
    if (!domain || !*domain || !value || !out) return -1;
    int rc = -1;
    size_t len = 0;
    EVP_MAC_CTX *ctx = NULL;
    pthread_rwlock_rdlock(&klock);
    if (!loaded) goto out;
    ctx = EVP_MAC_CTX_dup(index_tmpl);
    /* domain || 0x00 || value: the NUL keeps ("ab","c") and ("a","bc") apart, and the domain
     * keeps a phone and a CCCD with the same digits from sharing an index. */
    if (!ctx || EVP_MAC_update(ctx, (const unsigned char *)domain, strlen(domain) + 1) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)value, strlen(value)) != 1 ||
        EVP_MAC_final(ctx, out, &len, 32) != 1 || len != 32)
        goto out;
    rc = 0;
out:
    pthread_rwlock_unlock(&klock);
    EVP_MAC_CTX_free(ctx);
    return rc;
}

/* ---------------------------------------------------------------- randomness, hashes */

int cs_random(void *out, size_t n)
{
    unsigned char *p = out;
    while (n) {
        int chunk = n > (1u << 20) ? 1 << 20 : (int)n;
        if (RAND_bytes(p, chunk) != 1) return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

int cs_random_token(char out[44])
{
    unsigned char raw[32], b64[48];
    if (cs_random(raw, sizeof raw) != 0) return -1;
    EVP_EncodeBlock(b64, raw, sizeof raw); /* 44 chars, the last one '=' */
    OPENSSL_cleanse(raw, sizeof raw);
    for (int i = 0; i < 43; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[43] = '\0';
    OPENSSL_cleanse(b64, sizeof b64);
    return 0;
}

int cs_random_pin(char *out, int digits)
{
    if (!out || digits < 1 || digits > CS_PIN_MAX_DIGITS) return -1;
    unsigned char r[64];
    int have = 0, used = 0;
    for (int i = 0; i < digits;) {
        if (used == have) {
            if (cs_random(r, sizeof r) != 0) return -1;
            have = (int)sizeof r, used = 0;
        }
        unsigned char b = r[used++];
        /* 250 = 25 × 10: bytes above it would favour 0..5, so they are drawn again. */
        if (b < 250) out[i++] = (char)('0' + b % 10);
    }
    out[digits] = '\0';
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

void cs_sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1) {
        /* Only if OpenSSL itself is broken; a zero hash would match other broken hashes. */
        fprintf(stderr, "choso: bug: SHA-256 unavailable\n");
        abort();
    }
}

void cs_token_hash(const char *token, unsigned char out[32])
{
    cs_sha256(token, token ? strlen(token) : 0, out);
}

cs_sha256_ctx *cs_sha256_begin(void)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(m);
        return NULL;
    }
    return (cs_sha256_ctx *)m;
}

void cs_sha256_update(cs_sha256_ctx *c, const void *p, size_t n)
{
    if (EVP_DigestUpdate((EVP_MD_CTX *)c, p, n) != 1) {
        fprintf(stderr, "choso: bug: SHA-256 unavailable\n");
        abort();
    }
}

void cs_sha256_end(cs_sha256_ctx *c, unsigned char out[32])
{
    unsigned int len = 32;
    if (EVP_DigestFinal_ex((EVP_MD_CTX *)c, out, &len) != 1) {
        fprintf(stderr, "choso: bug: SHA-256 unavailable\n");
        abort();
    }
    EVP_MD_CTX_free((EVP_MD_CTX *)c);
}

void cs_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int cs_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* ---------------------------------------------------------------- PIN hashes */

#define PIN_SALT_LEN 16
#define PIN_HASH_LEN 32
#define PIN_R 8
#define PIN_P 1
/* The most memory a stored hash may make us spend (128·r·N bytes): 1 GiB, the config cap. */
#define PIN_MAXMEM ((uint64_t)1 << 30)

static uint64_t scrypt_mem(uint64_t n, uint64_t r, uint64_t p)
{
    /* OpenSSL needs 128·r·(N+2) for V plus 128·r·p for B; a little over for safety. */
    return 128 * r * (n + 2) + 128 * r * p + (1u << 16);
}

int cs_pin_hash(const char *pin, char *out, size_t outsz)
{
    if (!pin || !out || !outsz) return -1;
    uint64_t n = (uint64_t)cs_cfg_int("crypto.pin_scrypt_n");
    if (n < 2 || (n & (n - 1)) || 128 * PIN_R * n > PIN_MAXMEM) return -1;
    unsigned char salt[PIN_SALT_LEN], key[PIN_HASH_LEN];
    unsigned char salt64[32], key64[48];
    int rc = -1;
    if (cs_random(salt, sizeof salt) != 0) goto out;
    if (EVP_PBE_scrypt(pin, strlen(pin), salt, sizeof salt, n, PIN_R, PIN_P,
                       scrypt_mem(n, PIN_R, PIN_P), key, sizeof key) != 1)
        goto out;
    EVP_EncodeBlock(salt64, salt, sizeof salt);
    EVP_EncodeBlock(key64, key, sizeof key);
    int w = snprintf(out, outsz, "scrypt$%llu$%d$%d$%s$%s", (unsigned long long)n, PIN_R, PIN_P,
                     (char *)salt64, (char *)key64);
    if (w < 0 || (size_t)w >= outsz) {
        OPENSSL_cleanse(out, outsz);
        out[0] = '\0';
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(key64, sizeof key64);
    return rc;
}

/* Decimal field of a PIN hash up to the next '$'; advances *p past it. 0 or -1. */
static int pin_num(const char **p, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    int k = 0;
    for (; *s >= '0' && *s <= '9'; s++, k++) {
        x = x * 10 + (uint64_t)(*s - '0');
        if (x > max) return -1;
    }
    if (!k || *s != '$' || (k > 1 && **p == '0')) return -1;
    *v = x;
    *p = s + 1;
    return 0;
}

/* Standard base64 (with padding) of s[0..len) into out; returns the byte count or -1. */
static int b64_decode(const char *s, size_t len, unsigned char *out, size_t outsz)
{
    if (len == 0 || len % 4 || len / 4 * 3 > outsz || len > INT_MAX) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' || (c == '=' && i >= len - 2);
        if (!ok || (i == len - 2 && c == '=' && s[len - 1] != '=')) return -1;
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    if (n < 0) return -1;
    if (s[len - 1] == '=') n--;
    if (s[len - 2] == '=') n--;
    return n;
}

int cs_pin_verify(const char *pin, const char *stored)
{
    if (!pin || !stored || strncmp(stored, "scrypt$", 7) != 0) return -1;
    const char *p = stored + 7;
    uint64_t n, r, par;
    if (pin_num(&p, (uint64_t)1 << 30, &n) || pin_num(&p, 32, &r) || pin_num(&p, 16, &par))
        return -1;
    if (n < 2 || (n & (n - 1)) || r < 1 || par < 1 || 128 * r * n > PIN_MAXMEM) return -1;
    const char *dollar = strchr(p, '$');
    if (!dollar) return -1;
    unsigned char salt[64], want[64], got[64];
    int saltlen = b64_decode(p, (size_t)(dollar - p), salt, sizeof salt);
    int hashlen = b64_decode(dollar + 1, strlen(dollar + 1), want, sizeof want);
    if (saltlen < PIN_SALT_LEN || hashlen != PIN_HASH_LEN) return -1;
    int rc = -1;
    if (EVP_PBE_scrypt(pin, strlen(pin), salt, (size_t)saltlen, n, r, par, scrypt_mem(n, r, par),
                       got, (size_t)hashlen) == 1)
        rc = CRYPTO_memcmp(got, want, (size_t)hashlen) == 0;
    OPENSSL_cleanse(got, sizeof got);
    OPENSSL_cleanse(want, sizeof want);
    return rc;
}
