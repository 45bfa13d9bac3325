/* connectors/cxutil: helpers the connectors share — request assembly, URL/form encoding, JSON
 * dumping with a fixed byte layout, response triage and the table of known marketplace errors
 * with their Vietnamese wording. Pure like the connectors: no clock, no I/O, no config. */
#ifndef CX_UTIL_H
#define CX_UTIL_H
#include "connectors/connector.h"
#include "core/buf.h"
#include <jansson.h>

/* ---- request assembly (each returns 0 or -1 on OOM / too many headers or parts) ---------- */
/* Set op, method and URL (copied). */
int cx_req_start(cx_request *r, cx_op op, const char *method, const char *url);
int cx_req_header(cx_request *r, const char *name, const char *value);
/* Body copied; content type copied. */
int cx_req_body(cx_request *r, const char *content_type, const void *body, size_t n);
/* Multipart part. filename/content_type NULL for a text field; copy=1 copies data (text parts),
 * copy=0 borrows it (image bytes, owned by the cx_image the caller keeps alive). */
int cx_req_part(cx_request *r, const char *name, const char *filename, const char *content_type,
                const void *data, size_t n, int copy);

/* ---- encoding ------------------------------------------------------------------------------ */
/* Percent-encode s (RFC 3986: unreserved characters kept, everything else %XX upper case). */
int cx_urlenc(cs_buf *b, const char *s);
/* Append "k=v&k=v" (each encoded) for params; sep_first is written before the first pair
 * ('?' or '&', or 0 for none). NULL values are skipped. */
int cx_query(cs_buf *b, const cx_param *p, size_t n, char sep_first);
/* Append base (a trailing '/' dropped) then path. */
int cx_url_base(cs_buf *b, const char *base, const char *path);
/* Split an absolute URL: scheme (lower-cased), host (lower-cased, IPv6 without brackets),
 * port (the scheme's default when absent) and the offset where the path starts. Refuses user
 * info, control/space/non-ASCII characters and backslashes. Returns 0 or -1. */
int cx_url_split(const char *url, char *scheme, size_t ssz, char *host, size_t hsz, int *port,
                 size_t *path_at);
/* 1 for 127.0.0.0/8, ::1 and localhost. */
int cx_host_is_loopback(const char *host);
/* Compact JSON, keys in insertion order, reals with at most 6 significant digits. Caller frees
 * with cs_free (and passes *len when not NULL). NULL on OOM. */
char *cx_json_dump(const json_t *j, size_t *len);
/* Merge the members of a JSON object text into target (later keys replace). 0, or -1 with a
 * field error on "attributes" when the text is not a JSON object. NULL/"" text is a no-op. */
int cx_json_merge(json_t *target, const char *json_text, cs_error *err);
/* json_object_set_new that reports OOM as -1 (also when v is NULL). */
int cx_jset(json_t *o, const char *key, json_t *v);

/* ---- build-time checks (fill err and return -1) ------------------------------------------- */
/* A configured value must be non-empty: else CS_E_MP_NOT_CONFIGURED naming setting. */
int cx_need_cfg(const char *value, const char *setting, cs_error *err);
/* Listing present with name, price, weight and a category mapping; else field errors. */
int cx_need_listing(const cx_input *in, cs_error *err);
int cx_need_account(const cx_input *in, int need_shop, cs_error *err);

/* ---- outcome ------------------------------------------------------------------------------- */
/* Copy with truncation that never splits a UTF-8 sequence. */
void cx_copy(char *dst, size_t dstsz, const char *src);
void cx_out_retry(cx_outcome *o, unsigned secs, int unknown, const char *code, const char *msg);
void cx_out_reauth(cx_outcome *o, const char *code, const char *msg);
/* Transport failures decide the outcome on their own: returns 1 when it set o. */
int cx_triage_transport(const cx_response *resp, cx_outcome *o);
/* Retry-After as delta seconds or an HTTP-date (against now_ms); dflt when absent/unreadable;
 * capped at one day. */
unsigned cx_retry_after(const cx_response *resp, long long now_ms, unsigned dflt);
/* Parse the body as a JSON object; NULL when empty, not JSON or not an object. */
json_t *cx_json_body(const cx_response *resp);
/* The opening every push verification shares: with signature_ok 0 the outcome becomes
 * "push_signature_invalid"; otherwise the body is parsed and returned (caller decrefs), or the
 * outcome becomes "push_malformed" and NULL is returned. `out` is initialised here. */
json_t *cx_push_open(const cx_input *in, int signature_ok, cx_outcome *out);
/* Member as text: strings as they are, integers in decimal; returns 0 or -1 (missing/other). */
int cx_json_text(const json_t *obj, const char *key, char *out, size_t n);
/* Integer member (also a decimal string); dflt when missing. */
long long cx_json_int(const json_t *obj, const char *key, long long dflt);

/* ---- marketplace errors → outcome ---------------------------------------------------------- */
typedef enum cx_err_class {
    CX_EC_UNKNOWN = 0, /* not in the table */
    CX_EC_RETRY,       /* busy, throttled, server error */
    CX_EC_CONFIG,      /* signature, timestamp, app key: our configuration; retried slowly */
    CX_EC_REAUTH,      /* token invalid/expired, authorisation cancelled */
    CX_EC_REJECT,      /* the item's data */
    CX_EC_NOT_FOUND    /* no such item */
} cx_err_class;
/* Classify a marketplace error code (exact match, case-sensitive as the marketplaces send). */
cx_err_class cx_error_class(const char *code);
/* Our field a marketplace field name or message refers to ("item_name" → "name"), or NULL. */
const char *cx_field_guess(const char *text);
/* A marketplace's refusal reason (English, as Lazada and TikTok Shop give it) said in
 * Vietnamese: a table of patterns (case-insensitive), first match wins; the generic sentence
 * when nothing matches. The caller keeps the original on a "Chi tiết:" line. Never NULL. */
const char *cx_reason_vi(const char *text);
/* Set o from a marketplace error: retry / reauthorize / rejected (field named in Vietnamese) /
 * not found. fallback_field is used for a rejection whose field cannot be told; http_status
 * decides unknown codes (5xx retry, else rejected). */
void cx_out_error(cx_outcome *o, const char *marketplace, const char *code, const char *message,
                  long http_status, unsigned retry_after);
/* Add one rejection reason for a marketplace error on one field (field may be NULL: guessed
 * from code and message). */
void cx_out_reject_field(cx_outcome *o, const char *marketplace, const char *field,
                         const char *code, const char *message);

/* ---- CSV (reference data: category map, upload layouts) ------------------------------------ */
typedef struct cx_csv {
    size_t nrows;
    size_t *ncols; /* per row */
    char ***cells; /* cells[row][col], NUL-terminated UTF-8 */
} cx_csv;
/* Parse RFC 4180 text (a UTF-8 BOM is skipped). Returns 0, or -1 with err (CS_E_NOMEM, or
 * CS_E_BAD_REQUEST for malformed quoting / more than max_rows rows). */
int cx_csv_parse(const char *text, size_t n, size_t max_rows, cx_csv *out, cs_error *err);
/* Read a whole file of at most max bytes into b (initialised here; caller frees). 0 or -1
 * (CS_E_CONFIG naming the path). Used for reference data only, never by build/parse. */
int cx_read_file(const char *path, size_t max, cs_buf *b, cs_error *err);
/* Read a file (at most 4 MiB) and parse it. */
int cx_csv_load(const char *path, size_t max_rows, cx_csv *out, cs_error *err);
void cx_csv_free(cx_csv *c);

/* The shared tail of an HTTP-level triage: 429 → retry (Retry-After), 5xx → retry unknown,
 * other non-2xx without a readable error → retry unknown. Returns 1 when it set o. */
int cx_triage_status(const cx_response *resp, long long now_ms, cx_outcome *o);
#endif
