/* service/request: what handlers call — request accessors and reply builders — and the one
 * place a prepared reply becomes an MHD response with the common headers. No SQL here. */
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "service/server_int.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *svc_param(const svc_req *r, const char *name)
{
    const svc_match *m = &r->conn->match;
    for (size_t i = 0; i < m->nparams; i++)
        if (!strcmp(m->params[i].name, name)) return m->params[i].value;
    return NULL;
}

const char *svc_query(const svc_req *r, const char *name)
{
    return r->conn->mhd ? MHD_lookup_connection_value(r->conn->mhd, MHD_GET_ARGUMENT_KIND, name)
                        : NULL;
}

const char *svc_header(const svc_req *r, const char *name)
{
    return r->conn->mhd ? MHD_lookup_connection_value(r->conn->mhd, MHD_HEADER_KIND, name) : NULL;
}

int svc_query_int(const svc_req *r, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out, cs_error *err)
{
    const char *v = svc_query(r, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno) return cs_error_field(err, name, CS_F_TYPE, "integer expected");
    if (x < min || x > max) {
        char d[64];
        snprintf(d, sizeof d, "%lld..%lld", (long long)min, (long long)max);
        return cs_error_field(err, name, CS_F_RANGE, d);
    }
    *out = x;
    return 0;
}

cs_db *svc_db(svc_req *r, cs_error *err)
{
    struct svc_conn *c = r->conn;
    if (!c->db) c->db = cs_db_acquire(err);
    return c->db;
}

void svc_conn_release_db(struct svc_conn *c)
{
    if (c->db) {
        cs_db_release(c->db);
        c->db = NULL;
    }
}

static void free_headers(svc_hdr *h)
{
    while (h) {
        svc_hdr *n = h->next;
        cs_free(h->name);
        cs_free(h->value);
        cs_free(h);
        h = n;
    }
}

void svc_conn_reply_reset(struct svc_conn *c)
{
    cs_free(c->ctype);
    cs_free(c->rbody);
    cs_free(c->idem_rbody); /* belongs to the reply it came with */
    c->idem_rbody = NULL;
    c->idem_rlen = 0;
    if (c->fd >= 0) close(c->fd);
    c->ctype = NULL;
    c->rbody = NULL;
    c->rlen = 0;
    c->fd = -1;
    c->fsize = 0;
    c->status = 0;
    c->replied = 0;
}

void svc_conn_reply_free(struct svc_conn *c)
{
    svc_conn_reply_reset(c);
    free_headers(c->headers);
    c->headers = NULL;
}

int svc_add_header(svc_req *r, const char *name, const char *value)
{
    struct svc_conn *c = r->conn;
    /* Header values must not smuggle a line break into the response. */
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return -1;
    svc_hdr **tail = &c->headers;
    for (; *tail; tail = &(*tail)->next)
        if (!strcasecmp((*tail)->name, name)) {
            char *v = cs_strdup(value);
            if (!v) return -1;
            cs_free((*tail)->value);
            (*tail)->value = v;
            return 0;
        }
    svc_hdr *h = cs_calloc(1, sizeof *h);
    if (!h) return -1;
    h->name = cs_strdup(name);
    h->value = cs_strdup(value);
    if (!h->name || !h->value) {
        free_headers(h);
        return -1;
    }
    *tail = h;
    return 0;
}

static const char *find_header(const struct svc_conn *c, const char *name)
{
    for (const svc_hdr *h = c->headers; h; h = h->next)
        if (!strcasecmp(h->name, name)) return h->value;
    return NULL;
}

static int set_reply(struct svc_conn *c, int status, const char *ctype, char *body, size_t len)
{
    svc_conn_reply_reset(c);
    c->status = status;
    c->ctype = ctype ? cs_strdup(ctype) : NULL;
    c->rbody = body;
    c->rlen = len;
    c->replied = 1;
    if (ctype && !c->ctype) {
        svc_conn_reply_reset(c);
        cs_free(body);
        return -1;
    }
    return 0;
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    return cs_buf_append(data, buf, size);
}

/* JSON text of `v` in a cs_malloc'd buffer; NULL when out of memory. */
static char *json_text(const json_t *v, size_t *len)
{
    cs_buf b;
    cs_buf_init(&b, 0);
    if (json_dump_callback(v, dump_cb, &b, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
        cs_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data ? cs_buf_steal(&b) : cs_strdup("");
}

int svc_reply_json(svc_req *r, int status, json_t *body)
{
    size_t len = 0;
    char *text = body ? json_text(body, &len) : NULL;
    json_decref(body);
    if (!text) return -1;
    return set_reply(r->conn, status, "application/json", text, len);
}

/* Failures whose detail is written by the database driver or describes our own code. */
static int detail_is_internal(cs_code code, int status)
{
    return status == 500 || code == CS_E_DB || code == CS_E_DB_SOFT || code == CS_E_DB_VALUE ||
           code == CS_E_NOMEM || code == CS_E_NOT_MIGRATED;
}

int svc_reply_replay_body(svc_req *r, json_t *body)
{
    struct svc_conn *c = r->conn;
    size_t len = 0;
    char *text = body ? json_text(body, &len) : NULL;
    json_decref(body);
    if (!text) return -1;
    cs_free(c->idem_rbody);
    c->idem_rbody = text;
    c->idem_rlen = len;
    return 0;
}

int svc_reply_problem(svc_req *r, const cs_error *err)
{
    cs_code code = err->code == CS_OK ? CS_E_INTERNAL : err->code;
    int status = cs_code_status(code);
    const char *title = cs_code_message(code, r->lang);
    char type[96];
    snprintf(type, sizeof type, "tag:choso.vn,2025:problem/%s", cs_code_name(code));
    json_t *p = json_object();
    if (!p) return -1;
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(title));
    json_object_set_new(p, "status", json_integer(status));
    /* The one place problems are built, so the one place the rule holds: the detail of a
     * server-side failure (database, driver, our bug) is for the log — with this request's
     * id, which the client gets — never for the client. */
    const char *detail = err->detail[0] ? err->detail : title;
    if (err->detail[0] && detail_is_internal(code, status)) {
        cs_log(status >= 500 ? CS_LOG_ERROR : CS_LOG_WARN, "problem_detail_withheld", "%s: %s",
               cs_code_name(code), err->detail);
        detail = title;
    }
    json_object_set_new(p, "detail", json_string(detail));
    json_object_set_new(p, "code", json_string(cs_code_name(code)));
    json_object_set_new(p, "request_id", json_string(r->request_id));
    if (err->existing[0]) json_object_set_new(p, "existing", json_string(err->existing));
    if (err->has_attempts)
        json_object_set_new(p, "attempts_left", json_integer((json_int_t)err->attempts_left));
    if (err->retry_after)
        json_object_set_new(p, "retry_after", json_integer((json_int_t)err->retry_after));
    if (err->nfields) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < err->nfields; i++) {
            const cs_field_error *f = &err->fields[i];
            char msg[400];
            const char *m = cs_code_message(f->code, r->lang);
            char dt[sizeof f->detail + 64];
            if (f->detail[0])
                snprintf(msg, sizeof msg, "%s (%s)", m,
                         cs_detail_text(f->detail, r->lang, dt, sizeof dt));
            else
                snprintf(msg, sizeof msg, "%s", m);
            json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "field", f->field, "code",
                                               cs_code_name(f->code), "message", msg));
        }
        json_object_set_new(p, "errors", a);
    }
    size_t len = 0;
    char *text = json_text(p, &len);
    json_decref(p);
    if (!text || set_reply(r->conn, status, "application/problem+json", text, len)) return -1;
    /* Every 503 says when to come back (a database outage included), so clients and the
     * web pages retry instead of giving up; 5 s when the cause named no better time. */
    unsigned retry_s = err->retry_after ? err->retry_after : status == 503 ? 5 : 0;
    if (retry_s) {
        char ra[24];
        snprintf(ra, sizeof ra, "%u", retry_s);
        if (svc_add_header(r, "Retry-After", ra)) return -1;
    }
    if (status == 401) {
        const char *wa = code == CS_E_TOKEN_INVALID
                             ? "Bearer realm=\"choso\", error=\"invalid_token\""
                             : "Bearer realm=\"choso\"";
        /* An owner's wrong PIN is not a bearer challenge. */
        if (code != CS_E_PIN_WRONG && svc_add_header(r, "WWW-Authenticate", wa)) return -1;
    }
    return 0;
}

int svc_reply_error(svc_req *r, cs_code code, const char *fmt, ...)
{
    cs_error e;
    cs_error_clear(&e);
    e.code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e.detail, sizeof e.detail, fmt, ap);
        va_end(ap);
    }
    return svc_reply_problem(r, &e);
}

static int add_list(svc_req *r, const char *const *headers)
{
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        if (svc_add_header(r, headers[i], headers[i + 1])) return -1;
    return 0;
}

int svc_reply_bytes(svc_req *r, int status, const char *content_type, const void *bytes, size_t len,
                    const char *const *headers)
{
    char *copy = cs_malloc(len + 1);
    if (!copy) return -1;
    if (len) memcpy(copy, bytes, len);
    copy[len] = '\0';
    if (set_reply(r->conn, status, content_type, copy, len)) return -1;
    return add_list(r, headers);
}

int svc_reply_file(svc_req *r, int status, const char *content_type, const char *path,
                   const char *const *headers)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return svc_reply_error(r, CS_E_NOT_FOUND, NULL);
    }
    if (set_reply(r->conn, status, content_type, NULL, 0)) {
        close(fd);
        return -1;
    }
    r->conn->fd = fd;
    r->conn->fsize = (uint64_t)st.st_size;
    return add_list(r, headers);
}

int svc_reply_empty(svc_req *r, int status)
{
    return set_reply(r->conn, status, NULL, NULL, 0);
}

char *svc_conn_headers_json(const struct svc_conn *c)
{
    if (!c->headers) return NULL;
    json_t *o = json_object();
    for (const svc_hdr *h = c->headers; o && h; h = h->next)
        json_object_set_new(o, h->name, json_string(h->value));
    size_t len;
    char *t = o ? json_text(o, &len) : NULL;
    json_decref(o);
    return t;
}

/* Headers every response carries unless the handler set its own. The CSP suits both the API
 * (nothing to run) and the static pages of the web room: scripts and styles only from files of
 * this origin (no inline code), images also from data:/blob: (photo previews before upload);
 * the camera only for our own pages (photos of products). */
static const char *const defaults[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
     " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"},
    {"Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    {"Cache-Control", "no-store"},
};

static int add_all(struct MHD_Response *resp, const struct svc_conn *c, int close_after)
{
    int ok = 1;
    if (c->ctype) ok &= MHD_add_response_header(resp, "Content-Type", c->ctype) == MHD_YES;
    for (const svc_hdr *h = c->headers; h; h = h->next)
        ok &= MHD_add_response_header(resp, h->name, h->value) == MHD_YES;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!find_header(c, defaults[i][0]))
            ok &= MHD_add_response_header(resp, defaults[i][0], defaults[i][1]) == MHD_YES;
    ok &= MHD_add_response_header(resp, "X-Request-Id", c->req.request_id) == MHD_YES;
    if (c->replayed) ok &= MHD_add_response_header(resp, "Idempotent-Replayed", "true") == MHD_YES;
    if (close_after) ok &= MHD_add_response_header(resp, "Connection", "close") == MHD_YES;
    return ok ? 0 : -1;
}

enum MHD_Result svc_conn_queue(struct svc_conn *c, int close_after)
{
    struct MHD_Response *resp = NULL;
    if (c->fd >= 0) {
        resp = MHD_create_response_from_fd64(c->fsize, c->fd);
        if (resp) c->fd = -1; /* MHD closes it */
    } else if (c->rbody) {
        resp = MHD_create_response_from_buffer_with_free_callback(c->rlen, c->rbody, cs_free);
        if (resp) c->rbody = NULL; /* MHD frees it */
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (resp && add_all(resp, c, close_after)) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    if (!resp) {
        /* Out of memory: a bare 503 still tells the client to come back. */
        c->status = 503;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) return MHD_NO;
    }
    enum MHD_Result rc = MHD_queue_response(c->mhd, (unsigned)c->status, resp);
    MHD_destroy_response(resp);
    c->queued = 1;
    return rc;
}
