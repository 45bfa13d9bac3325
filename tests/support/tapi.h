/* tests/support/tapi: helpers for the API integration tests (tests/integration/test_api_*.c) —
 * the server started in-process on a free port, tokens made straight in the database, and a
 * small libcurl client. Test code only: never linked into choso. */
#ifndef TAPI_H
#define TAPI_H
#include "core/db.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Load the configuration (exit 77 without a database), the data key, the pool, and start the
 * server on 127.0.0.1 with a free port. Quick PIN hashing (scrypt N 1024) for tests. */
void tapi_start(void);
void tapi_stop(void);
/* "http://127.0.0.1:<port>" */
const char *tapi_base(void);
/* The test's own database connection (stand-alone, opened by tapi_start). */
cs_db *tapi_db(void);

/* A token of `role` ("admin", "monitor", "volunteer") for the NULL-terminated `communes`
 * (may be NULL); the token text into out. Returns its id. */
int64_t tapi_token(const char *role, const char *const *communes, char out[44]);
void tapi_revoke(int64_t token_id);

typedef struct tapi_resp {
    long status;
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
    char *headers; /* raw header block */
    json_t *json;  /* parsed body when it is JSON, else NULL */
} tapi_resp;

/* One request. token may be NULL (no Authorization); headers: NULL-terminated "Name: value"
 * lines or NULL; body may be NULL. Content-Type is application/json for a non-NULL body unless
 * `ctype` says otherwise. Fails the test when the request cannot be made at all. */
tapi_resp tapi_req(const char *method, const char *path, const char *token,
                   const char *const *headers, const char *ctype, const void *body, size_t len);
/* Shorthand: JSON body as text (NULL for none). */
tapi_resp tapi_call(const char *method, const char *path, const char *token, const char *json);
/* multipart/form-data upload: field "image" with the bytes (filename given), plus an optional
 * "position" field (NULL = none). */
tapi_resp tapi_upload(const char *path, const char *token, const void *bytes, size_t len,
                      const char *filename, const char *position, const char *const *headers);
/* The owner's multipart upload: field "pin" (NULL = none) and field "image" with the bytes. */
tapi_resp tapi_owner_upload(const char *path, const char *pin, const void *bytes, size_t len);
/* Value of a response header (case-insensitive), copied into out; NULL when absent. */
const char *tapi_header(const tapi_resp *r, const char *name, char *out, size_t n);
void tapi_free(tapi_resp *r);

/* A valid registration body (JSON text, malloc'd) for a person of `age` in `commune`, with a
 * citizen ID and phone unique in this run, returned in cccd[13] and phone[11]. */
char *tapi_household_body(int age, const char *commune, char cccd[13], char phone[11]);
/* A valid product body (JSON text, malloc'd). */
char *tapi_product_body(const char *name);
/* Register a household of a 30-year-old in `commune` through the API with token `tok` (asserts
 * 201) and put its code in code[24]; with product non-NULL also add one product named `name`
 * and return its id there. */
void tapi_seed(const char *tok, const char *commune, char code[24], const char *name,
               int64_t *product);
/* Small valid images for upload tests (static bytes). */
const unsigned char *tapi_png(size_t *len);
const unsigned char *tapi_jpeg(size_t *len);
const unsigned char *tapi_webp(size_t *len);
#endif
