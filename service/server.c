/* service/server: libmicrohttpd plumbing — limits, body intake, authentication, idempotency,
 * the access log and metrics around every handler, graceful shutdown, `choso serve`.
 * Handlers never see MHD; no SQL here beyond what auth/idem do for it.
 *
 * Threading, chosen by measurement (scripts/bench-http-modes and wrk against `choso serve`,
 * 2-CPU machine, MariaDB on a local socket, db.pool_size 16, wrk -t2 -c64, keep-alive):
 *
 *                                              pool (epoll, 8 thr)     thread per connection
 *   GET /b/fast, no I/O                          37.5k req/s p99 223 ms    43.5k req/s p99 8 ms
 *   GET /v1/households (token + list, <1 ms SQL)  4.8k req/s p99  40 ms     2.8k req/s p99 74 ms
 *   GET /b/db, handler waits 5 ms in MariaDB      1.1k req/s p99 341 ms     2.8k req/s p99 64 ms
 *   /healthz with Connection: close (c=32)        6.9k req/s p99  23 ms     4.8k req/s p99 14 ms
 *   peak RSS                                        14 MB                     18 MB
 *
 * With the short queries our handlers are meant to run (slow work goes to jobs/), the epoll
 * pool serves 1.7x more requests with fewer context switches, holds slow mobile clients without
 * a thread each, and bounds the thread count. A thread per connection wins only when handlers
 * wait long in the database (2.6x at 5 ms): the pool then caps database concurrency at
 * http.threads and a waiting handler stalls the other connections of its thread. So the
 * default is "pool"; deployments with a distant or slow database set http.threading =
 * per_connection (threads get a 1 MiB stack so 1,000 connections stay cheap). */
#include "service/server.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jspec.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/showcase.h"
#include "service/auth.h"
#include "service/idem.h"
#include "service/metrics.h"
#include "service/server_int.h"
#include "service/read_cache.h"
#include "service/status_cache.h"
#include "core/fileio.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTS 16
/* A chunked body that keeps coming after it passed the cap is read and dropped up to this
 * much more (so the client can still be told 413), then the connection is cut. */
#define DISCARD_SLACK ((uint64_t)1 << 20)
#define PURGE_EVERY_S 600
/* Bodies larger than this give their memory back to the system when the request ends. */
#define BIG_BODY ((uint64_t)256 << 10)
/* Query arguments MHD is allowed to parse. MHD (0.9.75) stores each one in the connection's
 * memory pool (http.conn_memory) before any handler runs; a target with thousands of empty
 * arguments ("?&&&&…") exhausts the pool, and MHD can then neither parse the request nor send
 * its own 431 — the client got no answer at all. */
#define MAX_QUERY_ARGS 256

/* Requests in flight in this process, all servers together (tests run two): the gauge. */
static atomic_uint process_inflight;

struct svc_server {
    struct MHD_Daemon *d;
    unsigned port;
    atomic_uint inflight;
    atomic_int draining;
    atomic_long last_purge;
    size_t max_body, max_upload, max_url;
    size_t max_spool; /* import.max_upload: whole body of a SVC_R_SPOOL route */
    char spool_dir[512];
    int trusted_proxy;
};

unsigned svc_server_port(const svc_server *s)
{
    return s->port;
}

unsigned svc_server_in_flight(const svc_server *s)
{
    return atomic_load(&((svc_server *)s)->inflight);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- small request facts ------------------------------------------------------------ */

static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n >= 8 && n <= 64;
}

static void set_request_id(struct svc_conn *c)
{
    const char *h = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "X-Request-Id");
    if (h && request_id_ok(h)) {
        snprintf(c->req.request_id, sizeof c->req.request_id, "%s", h);
        return;
    }
    unsigned char rnd[12];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        /* No entropy now: a clock-and-counter id is still unique enough to correlate logs. */
        static atomic_ulong seq;
        snprintf(c->req.request_id, sizeof c->req.request_id, "t%lx-%lx", (long)time(NULL),
                 atomic_fetch_add(&seq, 1));
        return;
    }
    cs_hex(rnd, sizeof rnd, c->req.request_id);
}

static int valid_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void set_client(struct svc_conn *c)
{
    svc_req *r = &c->req;
    r->client[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        char tmp[INET6_ADDRSTRLEN] = "";
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, tmp,
                      sizeof tmp);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, tmp,
                      sizeof tmp);
        /* IPv4 through a dual-stack socket: show it as plain IPv4. */
        const char *p = strncmp(tmp, "::ffff:", 7) == 0 && strchr(tmp + 7, '.') ? tmp + 7 : tmp;
        snprintf(r->client, sizeof r->client, "%s", p);
    }
    if (!c->srv->trusted_proxy) return;
    /* Behind our own proxy the last X-Forwarded-For entry is the one it added: the earlier
     * ones come from the client and prove nothing. */
    const char *xff = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff) return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    char cand[64];
    size_t n = strcspn(last, " \t");
    if (!n || n >= sizeof cand) return;
    memcpy(cand, last, n);
    cand[n] = '\0';
    if (valid_ip(cand)) snprintf(r->client, sizeof r->client, "%s", cand);
}

/* Media type without parameters equals `want` (case-insensitive); for JSON a charset, if
 * given, must be UTF-8. */
static int ctype_is(const char *ct, const char *want)
{
    if (!ct) return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n)) return 0;
    const char *rest = ct + n;
    while (*rest == ' ')
        rest++;
    if (*rest && *rest != ';') return 0;
    const char *cs = strcasestr(rest, "charset=");
    if (cs && !strcmp(want, "application/json")) {
        cs += 8;
        if (*cs == '"') cs++;
        if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4)) return 0;
    }
    return 1;
}

/* --- the reply at any stage ------------------------------------------------------------ */

static enum MHD_Result finish_with(struct svc_conn *c, int close_after)
{
    c->phase = SVC_PH_DONE;
    return svc_conn_queue(c, close_after || atomic_load(&c->srv->draining));
}

static enum MHD_Result fail(struct svc_conn *c, const cs_error *e, int close_after)
{
    if (svc_reply_problem(&c->req, e)) svc_conn_reply_reset(c);
    if (!c->replied) c->status = 503;
    return finish_with(c, close_after);
}

static enum MHD_Result fail_code(struct svc_conn *c, cs_code code, const char *detail,
                                 int close_after)
{
    cs_error e;
    cs_error_clear(&e);
    cs_error_set(&e, code, "%s", detail ? detail : "");
    return fail(c, &e, close_after);
}

/* A query argument (name or value) must be UTF-8 text without control characters: every
 * handler may hand it to the database, where other bytes are refused (MariaDB 1366) — that
 * would be a 503 for the client's mistake. Checked once here for all routes. */
static int text_ok(const char *s)
{
    if (!s) return 1;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return cs_utf8_valid(s, n);
}

struct arg_check {
    char bad[64]; /* the first bad argument's name, or "(name)" when the name is the bad part */
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct arg_check *a = cls;
    if (!text_ok(key)) {
        snprintf(a->bad, sizeof a->bad, "(name)");
        return MHD_NO;
    }
    if (!text_ok(value)) {
        snprintf(a->bad, sizeof a->bad, "%.60s", key);
        return MHD_NO;
    }
    return MHD_YES;
}

/* --- form bodies ------------------------------------------------------------------------- */

static char *dup_opt(const char *s)
{
    return s ? cs_strdup(s) : NULL;
}

/* An unnamed temporary file in http.spool_dir (cs_tmpfile): whatever ends the request — a
 * dropped client, a refusal, a crash of serve — nothing is left on disk. It is never the durable
 * copy (the import's parts in the database are, committed before the 202), so it is not
 * fsync'd. Test hook: CHOSO_TEST_SPOOL_FILE opens that file instead (/dev/full: every write
 * fails with ENOSPC). */
static int spool_open(const char *dir)
{
    const char *hook = getenv("CHOSO_TEST_SPOOL_FILE");
    if (hook && *hook) return open(hook, O_RDWR | O_CLOEXEC);
    return cs_tmpfile(dir, "upload");
}

/* All of data to the spool file: 0, or -1 with c->spool_full / c->spool_failed set. */
static int spool_write(struct svc_conn *c, int fd, const char *data, size_t size)
{
    if (!cs_write_all(fd, data, size)) return 0;
    int e = errno;
    if (e == ENOSPC || e == EDQUOT || e == EFBIG)
        c->spool_full = 1;
    else
        c->spool_failed = 1;
    cs_warn("upload_spool_write_failed", "%s", strerror(e));
    return -1;
}

static enum MHD_Result on_form(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    (void)kind, (void)transfer_encoding;
    struct svc_conn *c = cls;
    svc_req *r = &c->req;
    svc_part *p = c->part_open;
    int fresh = !p || (off == 0 && (p->len > 0 || strcmp(p->name, key ? key : "")));
    if (fresh) {
        /* A file name is shown back and stored (imports.filename): text only. */
        if (filename && !text_ok(filename)) {
            c->filename_bad = 1;
            return MHD_NO;
        }
        if (r->nparts >= MAX_PARTS) {
            c->form_bad = 1;
            return MHD_NO;
        }
        if (r->nparts == c->parts_cap) {
            size_t nc = c->parts_cap ? c->parts_cap * 2 : 4;
            svc_part *np = cs_realloc(r->parts, nc * sizeof *np);
            if (!np) return MHD_NO;
            r->parts = np;
            c->parts_cap = nc;
        }
        p = &r->parts[r->nparts];
        memset(p, 0, sizeof *p);
        p->spool_fd = -1;
        int spool = filename && (r->route->flags & SVC_R_SPOOL);
        p->name = cs_strdup(key ? key : "");
        p->filename = dup_opt(filename);
        p->content_type = dup_opt(content_type);
        p->data = cs_malloc(spool ? 1 : size + 1);
        if (!p->name || !p->data || (filename && !p->filename) ||
            (content_type && !p->content_type)) {
            cs_free(p->name), cs_free(p->filename), cs_free(p->content_type), cs_free(p->data);
            return MHD_NO;
        }
        p->data[0] = '\0';
        r->nparts++;
        c->part_open = p;
        c->part_cap = spool ? 1 : size + 1;
        if (spool) {
            p->spool_fd = spool_open(c->srv->spool_dir);
            if (p->spool_fd < 0) {
                cs_error_log("upload_spool_open_failed", "http.spool_dir: %s", strerror(errno));
                c->spool_failed = 1;
                return MHD_NO;
            }
            snprintf(p->path, sizeof p->path, "/proc/self/fd/%d", p->spool_fd);
        }
    }
    if (!size) return MHD_YES;
    c->parts_bytes += size;
    if (c->parts_bytes > c->body_cap) {
        c->too_large = 1;
        return MHD_NO;
    }
    if (p->spool_fd >= 0) {
        if (spool_write(c, p->spool_fd, data, size)) return MHD_NO;
        p->len += size;
        return MHD_YES;
    }
    c->mem_bytes += size;
    if (c->mem_bytes > c->srv->max_upload) {
        c->too_large = 1;
        return MHD_NO;
    }
    if (p->len + size + 1 > c->part_cap) {
        size_t nc = c->part_cap * 2;
        while (nc < p->len + size + 1)
            nc *= 2;
        char *nd = cs_realloc(p->data, nc);
        if (!nd) return MHD_NO;
        p->data = nd;
        c->part_cap = nc;
    }
    memcpy(p->data + p->len, data, size);
    p->len += size;
    p->data[p->len] = '\0';
    return MHD_YES;
}

/* --- the three stages of a request ------------------------------------------------------ */

/* 413. On a spooled route (an import file) the problem names the field and the setting, so the
 * volunteer is told what is too large and the administrator what to raise. */
static enum MHD_Result fail_too_large(struct svc_conn *c, int close_after)
{
    cs_error e;
    cs_error_clear(&e);
    if (c->req.route && (c->req.route->flags & SVC_R_SPOOL) && c->received <= c->body_cap &&
        c->parts_bytes <= c->body_cap && c->mem_bytes > c->srv->max_upload) {
        cs_error_set(&e, CS_E_TOO_LARGE, "max %zu bytes of form fields (http.max_upload)",
                     c->srv->max_upload);
    } else if (c->req.route && (c->req.route->flags & SVC_R_SPOOL)) {
        char d[96];
        snprintf(d, sizeof d, "≤ %zu bytes (import.max_upload)", c->body_cap);
        cs_error_field(&e, "file", CS_F_TOO_LONG, d);
        e.code = CS_E_UPLOAD_TOO_LARGE;
    } else {
        cs_error_set(&e, CS_E_TOO_LARGE, "max %zu bytes", c->body_cap);
    }
    return fail(c, &e, close_after);
}

static enum MHD_Result stage_headers(struct svc_conn *c, const char *url, const char *method)
{
    svc_server *s = c->srv;
    svc_req *r = &c->req;
    cs_error e;
    cs_error_clear(&e);
    r->method = method;
    r->path = url;
    r->lang = cs_lang_from_header(svc_header(r, "Accept-Language"));
    set_client(c);

    const char *cl = svc_header(r, "Content-Length");
    const char *te = svc_header(r, "Transfer-Encoding");
    uint64_t clen = 0;
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || *cl == '-')
            return fail_code(c, CS_E_BAD_REQUEST, "Content-Length", 1);
        clen = v;
    }
    int has_body = clen > 0 || te != NULL;

    if (c->uri_len > s->max_url) {
        char d[80];
        snprintf(d, sizeof d, "at most %zu bytes and %d query parameters", s->max_url,
                 MAX_QUERY_ARGS);
        return fail_code(c, CS_E_URI_TOO_LONG, d, has_body);
    }
    if (svc_match_route(method, url, &c->match)) return fail_code(c, CS_E_NOMEM, NULL, 1);
    const svc_route *rt = c->match.route;
    if (!rt) {
        if (!c->match.allow) return fail_code(c, CS_E_ROUTE_NOT_FOUND, NULL, has_body);
        char allow[80];
        svc_allow_string(c->match.allow, allow, sizeof allow);
        svc_add_header(r, "Allow", allow);
        return fail_code(c, CS_E_METHOD, NULL, has_body);
    }
    r->route = rt;
    struct arg_check ac = {""};
    MHD_get_connection_values(c->mhd, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
    if (ac.bad[0]) {
        cs_error_field(&e, ac.bad, CS_F_UTF8, "query parameter");
        return fail(c, &e, has_body);
    }

    unsigned f = rt->flags;
    c->body_cap = (f & SVC_R_SPOOL)                ? s->max_spool
                  : (f & (SVC_R_FORM | SVC_R_RAW)) ? s->max_upload
                                                   : s->max_body;
    if (clen > c->body_cap) return fail_too_large(c, 1);
    const char *ct = svc_header(r, "Content-Type");
    if (f & (SVC_R_JSON | SVC_R_JSON_OPT)) {
        if (has_body && !ctype_is(ct, "application/json"))
            return fail_code(c, CS_E_MEDIA_TYPE, "application/json", 1);
        c->body_mode = SVC_BODY_BUF;
    } else if (f & SVC_R_FORM) {
        if (!ctype_is(ct, "multipart/form-data") &&
            !ctype_is(ct, "application/x-www-form-urlencoded"))
            return fail_code(c, CS_E_MEDIA_TYPE, "multipart/form-data", 1);
        c->pp = MHD_create_post_processor(c->mhd, 32 * 1024, on_form, c);
        if (!c->pp) return fail_code(c, CS_E_BAD_REQUEST, "multipart boundary", 1);
        c->body_mode = SVC_BODY_FORM;
    } else if (f & SVC_R_RAW) {
        c->body_mode = SVC_BODY_BUF;
    } else {
        c->body_mode = SVC_BODY_NONE;
    }
    cs_buf_init(&c->body, c->body_cap);

    if (!(f & SVC_R_NOAUTH) && svc_auth_authenticate(r, &e)) return fail(c, &e, has_body);
    if (rt->roles && svc_require_role(r, rt->roles, &e)) return fail(c, &e, has_body);

    if (!strcmp(method, "POST") && !(f & SVC_R_NO_IDEM)) {
        const char *k = svc_header(r, "Idempotency-Key");
        if (k) {
            if (!svc_idem_key_valid(k)) {
                cs_error_field(&e, "Idempotency-Key", CS_F_FORMAT, "1-128 of A-Z a-z 0-9 . _ : -");
                e.code = CS_E_BAD_REQUEST;
                return fail(c, &e, has_body);
            }
            snprintf(c->idem_key, sizeof c->idem_key, "%s", k);
            if (r->actor.kind != SVC_ACTOR_ANON)
                snprintf(c->idem_actor, sizeof c->idem_actor, "%s", r->actor.id);
            else
                snprintf(c->idem_actor, sizeof c->idem_actor, "ip:%s", r->client);
            c->idem_hash = EVP_MD_CTX_new();
            if (!c->idem_hash || !EVP_DigestInit_ex(c->idem_hash, EVP_sha256(), NULL))
                return fail_code(c, CS_E_NOMEM, NULL, 1);
            /* The request is its method, path, query and body: the key may only be reused for
             * exactly the same one. */
            EVP_DigestUpdate(c->idem_hash, method, strlen(method) + 1);
            EVP_DigestUpdate(c->idem_hash, url, strlen(url) + 1);
        }
    }
    c->phase = SVC_PH_BODY;
    return MHD_YES;
}

static enum MHD_Result stage_body(struct svc_conn *c, const char *data, size_t n)
{
    c->received += n;
    if (c->phase == SVC_PH_DONE) return MHD_YES; /* answered early: drop the rest */
    if (c->received > c->body_cap) {
        c->too_large = 1;
        return c->received > c->body_cap + DISCARD_SLACK ? MHD_NO : MHD_YES;
    }
    if (c->idem_hash) EVP_DigestUpdate(c->idem_hash, data, n);
    switch (c->body_mode) {
    case SVC_BODY_BUF:
        if (cs_buf_append(&c->body, data, n)) c->too_large = 1; /* cap (or memory) */
        break;
    case SVC_BODY_FORM:
        if (!c->form_bad && !c->too_large && MHD_post_process(c->pp, data, n) != MHD_YES)
            c->form_bad = 1;
        break;
    case SVC_BODY_NONE:
        break;
    }
    return MHD_YES;
}

static void maybe_purge(struct svc_conn *c)
{
    /* an interval: the monotonic clock, so a wall-clock step neither stops nor rushes it */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long now = (long)ts.tv_sec, last = atomic_load(&c->srv->last_purge);
    if (now - last < PURGE_EVERY_S ||
        !atomic_compare_exchange_strong(&c->srv->last_purge, &last, now))
        return;
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = svc_db(&c->req, &e);
    if (db && cs_idem_purge(db, 1000, &e) < 0)
        cs_warn("idempotency_purge_failed", "%s", cs_code_name(e.code));
}

static int replay(struct svc_conn *c, cs_idem_reply *st)
{
    svc_req *r = &c->req;
    if (svc_reply_bytes(r, st->status, st->content_type, st->body ? (const char *)st->body : "",
                        st->body_len, NULL))
        return -1;
    json_t *h = st->headers ? json_loads(st->headers, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) if (json_is_string(v)) svc_add_header(r, k, json_string_value(v));
    json_decref(h);
    c->replayed = 1;
    return 0;
}

/* After the handler: store its reply under the Idempotency-Key, or give the key up when the
 * reply is one a retry should not get again (5xx) or cannot be stored (a file). */
static void idem_settle(struct svc_conn *c)
{
    cs_error e;
    cs_error_clear(&e);
    cs_db *db = svc_db(&c->req, &e);
    if (!db) {
        cs_warn("idempotency_store_failed", "%s", cs_code_name(e.code));
        return;
    }
    if (c->status >= 500 || c->fd >= 0) {
        cs_idem_abandon(db, c->idem_actor, c->idem_key);
        return;
    }
    char *hj = svc_conn_headers_json(c);
    const char *body = c->idem_rbody ? c->idem_rbody : c->rbody;
    size_t blen = c->idem_rbody ? c->idem_rlen : c->rlen;
    if (cs_idem_finish(db, c->idem_actor, c->idem_key, c->status, c->ctype, hj, body, blen, &e)) {
        cs_warn("idempotency_store_failed", "%s", cs_code_name(e.code));
        cs_idem_abandon(db, c->idem_actor, c->idem_key);
    }
    cs_free(hj);
}

static enum MHD_Result stage_final(struct svc_conn *c)
{
    svc_req *r = &c->req;
    const svc_route *rt = r->route;
    cs_error e;
    cs_error_clear(&e);
    if (c->too_large) return fail_too_large(c, 1);
    if (c->body_mode == SVC_BODY_FORM) {
        enum MHD_Result ok = MHD_destroy_post_processor(c->pp);
        c->pp = NULL;
        c->part_open = NULL;
        if (c->spool_full) return fail_code(c, CS_E_UPLOAD_SPOOL_FULL, "http.spool_dir", 1);
        if (c->spool_failed) return fail_code(c, CS_E_UNAVAILABLE, "upload spool", 1);
        for (size_t i = 0; i < r->nparts; i++)
            if (r->parts[i].spool_fd >= 0 && lseek(r->parts[i].spool_fd, 0, SEEK_SET) < 0)
                return fail_code(c, CS_E_UNAVAILABLE, "upload spool", 1);
        if (c->filename_bad) {
            cs_error_field(&e, "filename", CS_F_UTF8, "multipart file name");
            return fail(c, &e, 1);
        }
        if (c->form_bad || ok != MHD_YES)
            return fail_code(c, CS_E_BAD_REQUEST, "malformed form body", 1);
    }
    if (rt->flags & (SVC_R_JSON | SVC_R_JSON_OPT)) {
        if (c->body.len || (rt->flags & SVC_R_JSON)) {
            r->json = cs_json_parse(c->body.data, c->body.len, &e);
            if (!r->json) return fail(c, &e, 0);
        }
    } else if (rt->flags & SVC_R_RAW) {
        r->body = c->body.data ? c->body.data : "";
        r->body_len = c->body.len;
    }

    if (c->idem_hash) {
        unsigned char h[32];
        unsigned hl = 0;
        EVP_DigestFinal_ex(c->idem_hash, h, &hl);
        EVP_MD_CTX_free(c->idem_hash);
        c->idem_hash = NULL;
        cs_db *db = svc_db(r, &e);
        if (!db) return fail(c, &e, 0);
        maybe_purge(c);
        cs_idem_reply st;
        int rc = cs_idem_begin(db, c->idem_actor, c->idem_key, h, &st, &e);
        if (rc < 0) return fail(c, &e, 0);
        if (rc == 1) {
            int bad = replay(c, &st);
            cs_idem_reply_free(&st);
            if (bad) return fail_code(c, CS_E_NOMEM, NULL, 0);
            return finish_with(c, 0);
        }
        c->idem_row = 1;
    }

    int rc = rt->handler(r);
    if (!c->replied) {
        if (rc == 0)
            cs_error_log("handler_no_reply", "%s %s returned without a reply", rt->method,
                         rt->pattern);
        svc_conn_reply_reset(c);
        if (svc_reply_error(r, rc == 0 ? CS_E_INTERNAL : CS_E_NOMEM, NULL)) c->status = 503;
    }
    if (c->idem_row) idem_settle(c);
    return finish_with(c, 0);
}

/* --- MHD callbacks ------------------------------------------------------------------------ */

/* The per-request record is made at the first access-handler call, never earlier: when MHD
 * gives up on a request before that (headers or cookies too many for http.conn_memory), a
 * record made in the URI-log callback leaked with its in-flight count, and SIGTERM then waited
 * out the whole grace period for requests that no longer existed. */
static struct svc_conn *conn_new(svc_server *s)
{
    struct svc_conn *c = cs_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = s;
    c->fd = -1;
    c->req.conn = c;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    atomic_fetch_add(&s->inflight, 1);
    atomic_fetch_add(&process_inflight, 1);
    return c;
}

/* The client context of a request whose target was refused in on_uri: a marker, not memory
 * (nothing allocated before the access handler runs can leak). */
static char target_refused;

/* URI log callback: sees the raw request target before MHD splits the query into arguments,
 * in MHD's own (writable) line buffer. A target that is too long or has too many arguments
 * gets its query flattened here into one argument, so MHD never stores thousands, and the
 * request is answered 414 by stage_headers. Allocates nothing. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    (void)mc;
    svc_server *s = cls;
    if (!uri) return NULL;
    char *q = strchr((char *)(uintptr_t)uri, '?');
    if (!q) return NULL;
    size_t nargs = 1;
    for (const char *p = q; *p; p++)
        nargs += *p == '&' || *p == ';';
    if (nargs <= MAX_QUERY_ARGS && strlen(uri) <= s->max_url) return NULL;
    /* MHD's own line buffer (parse_initial_message_line has already found the '?'): with no
     * separator left the query is one argument, which costs MHD one record. */
    for (char *p = q + 1; *p; p++)
        if (*p == '&' || *p == ';' || *p == '=') *p = '_';
    return &target_refused;
}

static enum MHD_Result add_arg_len(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    size_t *n = cls;
    *n += 2 + (key ? strlen(key) : 0) + (value ? strlen(value) : 0);
    return MHD_YES;
}

/* Length of the request target: the decoded path and each query argument with its '?'/'&'
 * and '=' (decoded too, so it can only be shorter than what was sent). */
static size_t target_len(struct MHD_Connection *mc, const char *url)
{
    size_t n = url ? strlen(url) : 0;
    MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, add_arg_len, &n);
    return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct svc_conn *c = *con_cls;
    if (!c || *con_cls == (void *)&target_refused) {
        int refused = *con_cls == (void *)&target_refused;
        c = conn_new(cls);
        if (!c) return MHD_NO; /* out of memory: MHD closes the connection */
        *con_cls = c;
        c->uri_len = refused ? SIZE_MAX : target_len(mc, url);
    }
    c->mhd = mc;
    enum MHD_Result ret;
    if (c->phase == SVC_PH_NEW) {
        set_request_id(c);
        cs_log_set_context(c->req.request_id);
        ret = stage_headers(c, url, method);
    } else {
        cs_log_set_context(c->req.request_id);
        if (*upload_size) {
            size_t n = *upload_size;
            *upload_size = 0;
            ret = stage_body(c, upload_data, n);
        } else {
            ret = c->phase == SVC_PH_DONE ? MHD_YES : stage_final(c);
        }
    }
    /* Never hold a database connection across callbacks: with the thread pool the next
     * callback on this thread may be another connection's. */
    svc_conn_release_db(c);
    cs_log_set_context(NULL);
    return ret;
}

static void conn_free(struct svc_conn *c)
{
    svc_req *r = &c->req;
    svc_match_free(&c->match);
    json_decref(r->json);
    cs_buf_free(&c->body);
    if (c->pp) MHD_destroy_post_processor(c->pp);
    for (size_t i = 0; i < r->nparts; i++) {
        cs_free(r->parts[i].name);
        cs_free(r->parts[i].filename);
        cs_free(r->parts[i].content_type);
        cs_free(r->parts[i].data);
        if (r->parts[i].spool_fd >= 0) close(r->parts[i].spool_fd);
    }
    cs_free(r->parts);
    if (c->idem_hash) EVP_MD_CTX_free(c->idem_hash);
    svc_conn_reply_free(c);
    svc_actor_free(&r->actor);
    svc_conn_release_db(c);
    cs_free(c);
}

static const char *termination_name(enum MHD_RequestTerminationCode t)
{
    switch (t) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client_abort";
    }
    return "other";
}

/* The one place a request ends: access log line, metrics, and every allocation freed. */
static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)mc;
    svc_server *s = cls;
    struct svc_conn *c = *con_cls;
    *con_cls = NULL;
    if (!c || c == (void *)&target_refused) return;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double secs =
        (double)(end.tv_sec - c->start.tv_sec) + (double)(end.tv_nsec - c->start.tv_nsec) / 1e9;
    svc_req *r = &c->req;
    cs_log_set_context(r->request_id[0] ? r->request_id : NULL);
    int status = c->queued ? c->status : 0;
    json_t *f = json_object();
    json_object_set_new(f, "method", json_string(r->method ? r->method : "-"));
    json_object_set_new(f, "route", json_string(r->route ? r->route->pattern : "(unmatched)"));
    json_object_set_new(f, "status", status ? json_integer(status) : json_null());
    json_object_set_new(f, "duration_ms", json_real((double)(long long)(secs * 1e6) / 1e3));
    json_object_set_new(f, "actor_id", r->actor.id[0] ? json_string(r->actor.id) : json_null());
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        json_object_set_new(f, "termination", json_string(termination_name(toe)));
    if (c->replayed) json_object_set_new(f, "replayed", json_true());
    cs_log_json(status >= 500 ? CS_LOG_WARN : CS_LOG_INFO, "http_access", f);
    if (r->method) svc_metrics_observe(r->route, r->method, status, secs);
    cs_log_set_context(NULL);
    size_t big = c->received > BIG_BODY ? 1 : 0;
    conn_free(c);
    atomic_fetch_sub(&s->inflight, 1);
    atomic_fetch_sub(&process_inflight, 1);
    /* A large body (and the JSON tree parsed from it) leaves freed pages in this thread's
     * malloc arena, which glibc keeps: give them back, or every pool thread ends up holding
     * its own high-water mark (measured: README "Hostile input"). */
    if (big) malloc_trim(0);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cs_log(CS_LOG_WARN, "mhd", "%s", msg);
}
#pragma GCC diagnostic pop

/* --- start and stop ------------------------------------------------------------------------ */

static double metric_in_flight(void *arg)
{
    (void)arg;
    return (double)atomic_load(&process_inflight);
}

svc_server *svc_server_start(cs_error *err)
{
    /* Two malloc arenas instead of eight per core: with one arena per pool thread each kept
     * its own high-water mark of freed memory (the corpus of scripts/hostile-tests left serve
     * at 29 MB resident; with 2 arenas and the trim after large bodies, 19 MB). Set before our
     * threads start; a no-op when the tunable was set from the environment. */
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 2);
    for (size_t i = 0; i < svc_init_hooks_count; i++)
        if (svc_init_hooks[i](err)) return NULL;

    svc_server *s = cs_calloc(1, sizeof *s);
    if (!s) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    s->max_body = (size_t)cs_cfg_int("http.max_body");
    s->max_upload = (size_t)cs_cfg_int("http.max_upload");
    s->max_url = (size_t)cs_cfg_int("http.max_url");
    s->max_spool = (size_t)cs_cfg_int("import.max_upload");
    const char *sd = cs_cfg_str("http.spool_dir");
    const char *tmpdir = getenv("TMPDIR");
    snprintf(s->spool_dir, sizeof s->spool_dir, "%s",
             *sd ? sd : (tmpdir && *tmpdir ? tmpdir : "/var/tmp"));
    s->trusted_proxy = cs_cfg_bool("http.trusted_proxy");
    atomic_store(&s->last_purge, 0);

    const char *mode = cs_cfg_str("http.threading");
    int per_conn = !strcmp(mode, "per_connection");
    if (!per_conn && strcmp(mode, "pool")) {
        cs_error_field(err, "http.threading", CS_F_ENUM, "pool or per_connection");
        err->code = CS_E_CONFIG;
        cs_free(s);
        return NULL;
    }

    const char *addr = cs_cfg_str("http.address");
    char port_s[8];
    snprintf(port_s, sizeof port_s, "%ld", cs_cfg_int("http.port"));
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*addr ? addr : NULL, port_s, &hints, &ai);
    if (gai || !ai) {
        cs_error_field(err, "http.address", CS_F_FORMAT, gai_strerror(gai));
        err->code = CS_E_CONFIG;
        cs_free(s);
        return NULL;
    }

    unsigned flags = MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_INTERNAL_POLLING_THREAD;
    flags |= per_conn ? (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL) : MHD_USE_EPOLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_OptionItem pool[] = {
        per_conn ? (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, (intptr_t)(1 << 20), NULL}
                 : (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                           (intptr_t)cs_cfg_int("http.threads"), NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        NULL, /* first, so MHD never prints itself */
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cs_cfg_int("http.conn_timeout"), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cs_cfg_int("http.conn_limit"), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cs_cfg_int("http.per_ip_limit"), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)cs_cfg_int("http.conn_memory"), MHD_OPTION_LISTEN_BACKLOG_SIZE, 511u,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_ARRAY, pool, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->d) {
        cs_error_set(err, CS_E_CONFIG,
                     "cannot listen on %s port %s (in use, or not an address here)", addr, port_s);
        cs_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    svc_metrics_register_gauge("choso_http_in_flight", "requests being served now",
                               metric_in_flight, NULL);
    cs_log_json(CS_LOG_INFO, "http_start",
                json_pack("{s:s, s:i, s:s, s:I}", "listen", addr, "port", (int)s->port, "threading",
                          mode, "threads", (json_int_t)cs_cfg_int("http.threads")));
    return s;
}

unsigned svc_server_stop(svc_server *s, unsigned grace_s)
{
    if (!s) return 0;
    atomic_store(&s->draining, 1);
    /* Stop accepting first; the old listening socket is closed after the daemon stopped. */
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    double deadline = now_mono() + grace_s;
    while (atomic_load(&s->inflight) > 0 && now_mono() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    unsigned left = atomic_load(&s->inflight);
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    svc_status_cache_free(); /* no request runs any more */
    svc_read_cache_free();
    svc_auth_cache_free();
    cs_showcase_forget();
    cs_log_json(CS_LOG_INFO, "http_stop", json_pack("{s:i}", "cut_off", (int)left));
    cs_free(s);
    return left;
}
