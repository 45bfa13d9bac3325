/* core/crypto: protection of personal data and secrets, on OpenSSL 3.
 * - sealing: AES-256-GCM with a random 96-bit nonce and a key id in the output, so keys can
 *   rotate (old ids still open, new values use the active key);
 * - blind index: HMAC-SHA256 under a separate, non-rotating index key, for exact look-up and
 *   de-duplication without storing plaintext;
 * - token hashing (SHA-256 of a high-entropy random token) and PIN hashing with scrypt
 *   (parameters stored in the hash string).
 * Keys come from one file (crypto.key_file); see cs_crypto_keyfile_create for its format. */
#ifndef CS_CRYPTO_H
#define CS_CRYPTO_H
#include "core/errors.h"
#include <stddef.h>
#include <stdint.h>

/* Load the key file. Returns 0 or -1 (missing file, bad format, bad permissions are reported
 * in err naming crypto.key_file). May be called again to reload. */
int cs_crypto_init(const char *keyfile, cs_error *err);
/* Create a new key file with one random sealing key and one index key, mode 0600, if it does
 * not exist. Returns 1 created, 0 already there, -1 error. */
int cs_crypto_keyfile_create(const char *path, cs_error *err);
/* Add a new sealing key to the file and make it active (rotation). Returns 0 or -1. */
int cs_crypto_keyfile_rotate(const char *path, cs_error *err);
void cs_crypto_shutdown(void);

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

/* HMAC-SHA256(index key, domain || 0x00 || value) into out. domain e.g. "cccd", "phone". */
int cs_blind_index(const char *domain, const char *value, unsigned char out[32]);

/* Random bytes from the OS CSPRNG. 0 or -1. */
int cs_random(void *out, size_t n);
/* Random token: 32 bytes, base64url without padding (43 chars) + NUL. */
int cs_random_token(char out[44]);
/* Random decimal PIN of `digits` digits (uniform, no modulo bias) + NUL. */
int cs_random_pin(char *out, int digits);
/* SHA-256 of a token (tokens are high-entropy, a fast hash is right). */
void cs_token_hash(const char *token, unsigned char out[32]);
void cs_sha256(const void *p, size_t n, unsigned char out[32]);
void cs_hex(const unsigned char *p, size_t n, char *out /* 2n+1 */);

/* PIN hash string "scrypt$N$r$p$salt_b64$hash_b64" (N from crypto.pin_scrypt_n). 0 or -1. */
int cs_pin_hash(const char *pin, char *out, size_t outsz);
/* 1 match, 0 no match, -1 malformed stored hash. Constant-time compare. */
int cs_pin_verify(const char *pin, const char *stored);
/* Constant-time equality. */
int cs_ct_equal(const void *a, const void *b, size_t n);
#endif
