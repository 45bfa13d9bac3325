/* core/crypto: protection of personal data and secrets, on OpenSSL 3.
 * - sealing: AES-256-GCM with a random 96-bit nonce and a key id in the output, so keys can
 *   rotate (old ids still open, new values use the active key);
 * - blind index: HMAC-SHA256 under a separate, non-rotating index key, for exact look-up and
 *   de-duplication without storing plaintext;
 * - token hashing (SHA-256 of a high-entropy random token) and PIN hashing with scrypt
 *   (parameters stored in the hash string).
 * Keys come from one file (crypto.key_file), text, one key a line:
 *     # comment lines and blank lines are ignored
 *     seal 1 <64 hex digits>     sealing key id 1..255 (AES-256); the LAST seal line is active
 *     seal 2 <64 hex digits>     (ids unique; older ids stay to open older values)
 *     index <64 hex digits>      the blind-index key (HMAC-SHA256), exactly one, never rotated
 * The file must be a regular file with no group/other permission bits (mode 0600 or 0400);
 * anything else is refused with an error naming crypto.key_file.
 * Sealed value layout: 0x01 (version) | key id | 12-byte nonce | ciphertext | 16-byte tag; the
 * version and key id bytes are authenticated together with the caller's aad.
 * Thread safety: every function may be called from any thread; cs_crypto_init (reload) and
 * cs_crypto_shutdown take a write lock, the others a shared read lock. */
#ifndef CS_CRYPTO_H
#define CS_CRYPTO_H
#include "core/errors.h"
#include <stddef.h>
#include <stdint.h>

/* Load the key file. Returns 0 or -1 (missing file, bad format, bad permissions are reported
 * in err, code CS_E_CONFIG, naming crypto.key_file; crypto.pin_scrypt_n not a power of two
 * is refused too). May be called again to reload; a failed reload keeps the loaded keys. */
int cs_crypto_init(const char *keyfile, cs_error *err);
/* Create a new key file with one random sealing key and one index key, mode 0600, if it does
 * not exist. Returns 1 created, 0 already there, -1 error. */
int cs_crypto_keyfile_create(const char *path, cs_error *err);
/* Add a new sealing key (id = highest + 1) to the file and make it active (rotation); the
 * file is replaced atomically (write beside, fsync, rename). The loaded keys are unchanged:
 * call cs_crypto_init again to seal with the new key. Returns 0 or -1 (also when all 255 ids
 * are used). */
int cs_crypto_keyfile_rotate(const char *path, cs_error *err);
/* Forget (cleanse) the keys; sealing fails until the next cs_crypto_init. */
void cs_crypto_shutdown(void);
/* Key id new values are sealed with (0 when no keys are loaded). */
unsigned cs_crypto_active_key_id(void);

/* Seal `n` bytes. `aad` binds the value to its place (e.g. "households.cccd") so it cannot be
 * moved to another column. Output (caller frees with cs_free): version byte, key id byte,
 * nonce, ciphertext, tag. Returns 0 or -1. */
int cs_seal(const void *pt, size_t n, const char *aad, unsigned char **out, size_t *outlen);
/* Open a sealed value; output is NUL-terminated for convenience (outlen excludes the NUL);
 * caller frees with cs_free_secret. -1 on unknown key id, tampering or wrong aad. */
int cs_unseal(const unsigned char *in, size_t n, const char *aad, unsigned char **out,
              size_t *outlen);
/* Key id a sealed value was made with (0 if malformed): rotation jobs re-seal old ids. */
unsigned cs_sealed_key_id(const unsigned char *in, size_t n);

/* HMAC-SHA256(index key, domain || 0x00 || value) into out. domain e.g. "cccd", "phone".
 * Index the canonical form (vn_cccd_normalize, vn_phone_normalize) so spellings agree.
 * 0, or -1 when no keys are loaded or an argument is NULL/empty domain. */
int cs_blind_index(const char *domain, const char *value, unsigned char out[32]);

/* Random bytes from the OS CSPRNG. 0 or -1. */
int cs_random(void *out, size_t n);
/* Random token: 32 bytes, base64url without padding (43 chars) + NUL. */
int cs_random_token(char out[44]);
#define CS_PIN_MAX_DIGITS 32
/* Random decimal PIN of `digits` (1..CS_PIN_MAX_DIGITS) digits (uniform, no modulo bias) + NUL
 * into out[digits + 1]. 0 or -1. */
int cs_random_pin(char *out, int digits);
/* SHA-256 of a token (tokens are high-entropy, a fast hash is right). */
void cs_token_hash(const char *token, unsigned char out[32]);
void cs_sha256(const void *p, size_t n, unsigned char out[32]);
/* SHA-256 of bytes that arrive in pieces (a file read in slices). begin returns NULL only when
 * out of memory; end frees the context and writes the hash. */
typedef struct cs_sha256_ctx cs_sha256_ctx;
cs_sha256_ctx *cs_sha256_begin(void);
void cs_sha256_update(cs_sha256_ctx *c, const void *p, size_t n);
void cs_sha256_end(cs_sha256_ctx *c, unsigned char out[32]);
void cs_hex(const unsigned char *p, size_t n, char *out /* 2n+1 */);

/* Room for a PIN hash string, NUL included. */
#define CS_PIN_HASH_MAX 128
/* PIN hash string "scrypt$N$r$p$salt_b64$hash_b64" (N from crypto.pin_scrypt_n, r = 8, p = 1,
 * 16-byte salt, 32-byte hash, standard base64 with padding). 0 or -1. */
int cs_pin_hash(const char *pin, char *out, size_t outsz);
/* 1 match, 0 no match, -1 malformed stored hash (salt under 16 bytes, hash not 32 bytes,
 * parameters asking for over 1 GiB) or scrypt failing. Constant-time compare. */
int cs_pin_verify(const char *pin, const char *stored);
/* Constant-time equality. */
int cs_ct_equal(const void *a, const void *b, size_t n);
#endif
