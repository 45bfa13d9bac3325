/* service/router: the handler API every resource file (service/h_*.c) uses — the route table
 * shape, the request a handler sees, and the reply helpers. No SQL and no MHD types here. */
#ifndef SVC_ROUTER_H
#define SVC_ROUTER_H
#include "core/db.h"
#include "core/errors.h"
#include "core/jspec.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Roles of a bearer token (or web session). A route's `roles` is a mask of them; 0 = public. */
enum {
    SVC_ROLE_ADMIN = 1u << 0,     /* everything, configuration, tokens */
    SVC_ROLE_MONITOR = 1u << 1,   /* provincial staff: read everything, never personal fields */
    SVC_ROLE_VOLUNTEER = 1u << 2, /* write and read only in its communes */
};
#define SVC_PUBLIC 0u
#define SVC_ROLES_ALL (SVC_ROLE_ADMIN | SVC_ROLE_MONITOR | SVC_ROLE_VOLUNTEER)

/* Route flags: how the body is taken in, and what the framework does around the handler. */
enum {
    SVC_R_JSON = 1u << 0,     /* body required: Content-Type application/json (else 415), parsed
                                 into r->json (object or array; else 400 malformed_json) */
    SVC_R_JSON_OPT = 1u << 1, /* as SVC_R_JSON, but an empty body is fine (r->json NULL) */
    SVC_R_FORM = 1u << 2,     /* multipart/form-data or x-www-form-urlencoded, through MHD's post
                                 processor, into r->parts; capped by http.max_upload */
    SVC_R_RAW = 1u << 3,      /* any body, collected as bytes in r->body up to http.max_upload */
    SVC_R_NOAUTH = 1u << 4,   /* never look at credentials (probes: /healthz, /readyz, /metrics) */
    SVC_R_NO_IDEM = 1u << 5,  /* POST without Idempotency-Key handling (answers must not be
                                 stored, e.g. the owner's PIN look-up) */
    SVC_R_INTERNAL = 1u << 6, /* not part of the public contract (test-only routes): skipped by
                                 the OpenAPI comparison */
    SVC_R_SPOOL = 1u << 7,    /* with SVC_R_FORM: a part with a file name goes to an unnamed
                                 temporary file in http.spool_dir as it arrives (never to memory),
                                 the whole body capped by import.max_upload instead; the other
                                 parts stay in memory under http.max_upload */
};

typedef struct svc_req svc_req;

/* A handler prepares exactly one reply with a svc_reply_* call and returns what that call
 * returned: 0 when the reply is prepared, -1 when it could not be (out of memory). The
 * framework then adds the common headers, stores the reply for Idempotency-Key, queues it
 * and logs it. A handler that returns without a reply is our bug: 500 and an error log. */
typedef int (*svc_handler)(svc_req *r);

typedef struct svc_route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" (HEAD is served by GET) */
    const char *pattern; /* "/v1/households/{code}/pin": literal segments and {name} params;
                            a last segment "{name*}" takes the rest of the path */
    svc_handler handler;
    unsigned roles; /* SVC_ROLE_* mask; SVC_PUBLIC = no credentials needed */
    unsigned flags; /* SVC_R_* */
} svc_route;

/* Who is asking. Filled by service/auth before the handler runs. */
typedef enum svc_actor_kind {
    SVC_ACTOR_ANON = 0, /* no credentials */
    SVC_ACTOR_TOKEN,    /* Authorization: Bearer */
    SVC_ACTOR_SESSION,  /* web session cookie (issue 6) */
} svc_actor_kind;

#define SVC_COMMUNE_LEN 6 /* 5-character code + NUL */
typedef struct svc_actor {
    svc_actor_kind kind;
    unsigned role;    /* one SVC_ROLE_* bit, 0 when anonymous */
    int64_t token_id; /* tokens.id, 0 when anonymous */
    char id[40];      /* "token:12"; the audit actor_id and the access log's actor_id */
    size_t ncommunes; /* volunteers: the communes the token may work in */
    char (*communes)[SVC_COMMUNE_LEN];
} svc_actor;

/* One part of a form body (SVC_R_FORM). Data is NUL-terminated for convenience. */
typedef struct svc_part {
    char *name;
    char *filename;     /* NULL for plain fields */
    char *content_type; /* as sent by the client, may be NULL; never trust it for files */
    char *data;         /* "" when spooled */
    size_t len;         /* bytes received (in data, or in the spool file) */
    char path[32];      /* SVC_R_SPOOL file parts: "/proc/self/fd/N", open for reading from the
                           start until the request ends (the file has no name: a crash or a
                           dropped client leaves nothing on disk); "" otherwise */
    int spool_fd;       /* the spool file's descriptor, -1 when not spooled (framework's) */
} svc_part;

struct svc_conn; /* framework internals (service/server.c) */

/* The request as a handler sees it. Everything here is owned by the framework and valid until
 * the handler returns; handlers read the fields and never free them. */
struct svc_req {
    const char *method; /* as received ("HEAD" requests run the GET handler) */
    const char *path;   /* percent-decoded path, no query string; may hold personal data:
                           never log it — the access log uses route->pattern */
    const svc_route *route;
    json_t *json;     /* SVC_R_JSON(_OPT): parsed body; NULL when empty (OPT only) */
    const char *body; /* SVC_R_RAW: the bytes (NUL-terminated), body_len of them */
    size_t body_len;
    svc_part *parts; /* SVC_R_FORM */
    size_t nparts;
    svc_actor actor;
    char client[64]; /* client address (X-Forwarded-For only if http.trusted_proxy) */
    char request_id[65];
    cs_lang lang; /* from Accept-Language: vi unless it starts with "en" */
    struct svc_conn *conn;
    int64_t read_gen1; /* service/read_cache: the read generation + 1 once read, 0 before */
};

/* --- reading the request --- */

/* Path parameter by name ({code} → "code"), NULL if the route has none of that name. */
const char *svc_param(const svc_req *r, const char *name);
/* Query parameter (decoded, first occurrence), NULL when absent. */
const char *svc_query(const svc_req *r, const char *name);
/* Integer query parameter: *out = def when absent; otherwise it must be a decimal integer in
 * [min, max], else a field error naming the parameter is added to err and -1 returned. */
int svc_query_int(const svc_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out, cs_error *err);
/* Request header (case-insensitive name), NULL when absent. */
const char *svc_header(const svc_req *r, const char *name);
/* This thread's database connection for the rest of this handler call (the framework gives it
 * back when the handler returns; never keep it). NULL with err set if the server is down. */
cs_db *svc_db(svc_req *r, cs_error *err);

/* --- replying (each returns 0, or -1 when out of memory) --- */

/* JSON reply; takes ownership of `body` (even on failure). */
int svc_reply_json(svc_req *r, int status, json_t *body);
/* application/problem+json from an error (RFC 9457): type, title, status, detail, code,
 * request_id, errors[{field, code, message}], plus `existing` when set and Retry-After when
 * err->retry_after > 0. Status from the registry entry of err->code. */
int svc_reply_problem(svc_req *r, const cs_error *err);
/* Shorthand: problem for one registry code with an optional printf detail. */
int svc_reply_error(svc_req *r, cs_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Bytes as given (copied). `headers` is NULL or a NULL-terminated list of name, value, … */
int svc_reply_bytes(svc_req *r, int status, const char *content_type, const void *bytes, size_t len,
                    const char *const *headers);
/* A file from disk, streamed; 404 problem if it cannot be opened. */
int svc_reply_file(svc_req *r, int status, const char *content_type, const char *path,
                   const char *const *headers);
/* No body (204, 304). */
int svc_reply_empty(svc_req *r, int status);
/* What an Idempotency-Key replay of this request gets instead of the reply just prepared
 * (same status and headers): for an answer that shows something once, like a new owner's PIN.
 * Takes ownership of `body` (even on failure). Returns 0 or -1. */
int svc_reply_replay_body(svc_req *r, json_t *body);
/* Add a header to the reply (before or after the svc_reply_* call), e.g. ETag, Location,
 * Cache-Control (replaces the default no-store). Copied. Returns 0 or -1. */
int svc_add_header(svc_req *r, const char *name, const char *value);

/* --- the routing table (service/routes.c) --- */

extern const svc_route svc_routes[];
extern const size_t svc_routes_count;
/* Start-up hooks listed in service/routes.c (metric registrations, caches). 0 or -1. */
typedef int (*svc_init_hook)(cs_error *err);
extern const svc_init_hook svc_init_hooks[];
extern const size_t svc_init_hooks_count;

/* Extra routes (tests): copied into a list searched after the table. Call before the server
 * starts. Returns 0 or -1. */
int svc_router_add(const svc_route *route);
void svc_router_clear_extra(void);
/* Visit every route (table, then extras); stops early when fn returns non-zero. */
void svc_routes_foreach(int (*fn)(const svc_route *route, void *arg), void *arg);

/* Matching, exposed for the framework and its tests. */
#define SVC_MAX_PARAMS 8
typedef struct svc_match {
    const svc_route *route; /* NULL: no route for this method */
    size_t nparams;
    struct {
        char name[32];
        char *value; /* owned by the match; svc_match_free */
    } params[SVC_MAX_PARAMS];
    unsigned allow; /* when route is NULL: methods the path has (SVC_M_* bits), 0 = 404 */
} svc_match;
enum {
    SVC_M_GET = 1u << 0,
    SVC_M_HEAD = 1u << 1,
    SVC_M_POST = 1u << 2,
    SVC_M_PUT = 1u << 3,
    SVC_M_PATCH = 1u << 4,
    SVC_M_DELETE = 1u << 5,
    SVC_M_OPTIONS = 1u << 6,
};
/* Find the route for method + decoded path; the most literal pattern wins (so
 * "/v1/households/export" beats "/v1/households/{code}"). Returns 0 (m->route set, or
 * m->allow for 405/404) or -1 out of memory. */
int svc_match_route(const char *method, const char *path, svc_match *m);
void svc_match_free(svc_match *m);
/* "GET, HEAD, POST" for an SVC_M_* mask into out. */
void svc_allow_string(unsigned allow, char *out, size_t n);
unsigned svc_method_bit(const char *method);
#endif
