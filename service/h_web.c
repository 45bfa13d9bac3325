/* service/h_web: what the browser pages need from the server — the static files of web.dir,
 * sign-in sessions (cookie + CSRF value) and the owner's receipt QR code. It never serves a file
 * outside web.dir, never puts a PIN in a QR code or URL, and never logs a token or session id. */
#include "core/access.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/households.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/units.h"
#include "core/volunteers.h"
#include "service/api.h"
#include "service/h_web.h"
#include <pthread.h>
#include <qrencode.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

/* --- static files ---------------------------------------------------------------------------- */

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

/* The type of a file name by its extension; NULL for a type we do not serve. */
static const char *mime_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return NULL;
    for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
        if (!strcasecmp(dot, mime_types[i].ext)) return mime_types[i].type;
    return NULL;
}

/* A file name the web room may serve: 1..100 of A-Z a-z 0-9 . _ -, not starting with a dot
 * (so neither "..", nor hidden files), with a known extension. The route has one path segment,
 * so a slash never reaches here; this refuses everything else that could name another file. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 100 || name[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return mime_of(name) != NULL;
}

static void http_date(time_t t, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* --- gzip for text files (issue 13: a phone on slow 3G pays ~20 ms per KB; the pages' scripts
 * and styles shrink to about a quarter). Each file is compressed once per version (its ETag) and
 * kept in memory; the files are few and small, so the cache is a fixed table. */
#define GZ_SLOTS 32
#define GZ_MAX_FILE (1 << 20)
static struct {
    char name[104], etag[80];
    unsigned char *data;
    size_t len;
} gz_cache[GZ_SLOTS];
static pthread_mutex_t gz_mu = PTHREAD_MUTEX_INITIALIZER;

/* 1 when the client takes gzip: Accept-Encoding lists "gzip" (or "*") without q=0. */
static int takes_gzip(const svc_req *r)
{
    const char *ae = svc_header(r, "Accept-Encoding");
    while (ae && *ae) {
        ae += strspn(ae, " \t,");
        size_t n = strcspn(ae, ",");
        size_t tok = strcspn(ae, " \t;,");
        if ((tok == 4 && !strncasecmp(ae, "gzip", 4)) || (tok == 1 && ae[0] == '*')) {
            const char *q = memchr(ae, 'q', n);
            if (!q || q[1] != '=') return 1;
            /* q=0, q=0.0, q=0.000: refused; any other weight takes it */
            const char *v = q + 2;
            if (*v != '0') return 1;
            v++;
            if (*v == '.') v += 1 + strspn(v + 1, "0");
            return !(v >= ae + n || *v == ' ' || *v == '\t' || *v == ',' || *v == '\0');
        }
        ae += n;
    }
    return 0;
}

static int gz_type(const char *mime)
{
    return !strncmp(mime, "text/", 5) || strstr(mime, "json") || strstr(mime, "svg");
}

/* The gzip bytes of `path` (version `etag`), copied into *out (cs_malloc'd). 0, or -1 (then the
 * file is served as it is). */
static int gz_get(const char *name, const char *path, const char *etag, size_t size,
                  unsigned char **out, size_t *outlen)
{
    size_t slot = 0;
    for (const char *c = name; *c; c++)
        slot = slot * 31 + (unsigned char)*c;
    slot %= GZ_SLOTS;
    pthread_mutex_lock(&gz_mu);
    if (gz_cache[slot].data && !strcmp(gz_cache[slot].name, name) &&
        !strcmp(gz_cache[slot].etag, etag)) {
        *out = cs_malloc(gz_cache[slot].len);
        if (*out) memcpy(*out, gz_cache[slot].data, gz_cache[slot].len);
        *outlen = gz_cache[slot].len;
        pthread_mutex_unlock(&gz_mu);
        return *out ? 0 : -1;
    }
    pthread_mutex_unlock(&gz_mu);
    if (size == 0 || size > GZ_MAX_FILE) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char *raw = cs_malloc(size);
    size_t got = raw ? fread(raw, 1, size, f) : 0;
    fclose(f);
    if (got != size) {
        cs_free(raw);
        return -1;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper, as Content-Encoding: gzip means */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        cs_free(raw);
        return -1;
    }
    uLong cap = deflateBound(&z, (uLong)size);
    unsigned char *gz = cs_malloc(cap);
    int ok = 0;
    if (gz) {
        z.next_in = raw;
        z.avail_in = (uInt)size;
        z.next_out = gz;
        z.avail_out = (uInt)cap;
        ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
    }
    size_t len = z.total_out;
    deflateEnd(&z);
    cs_free(raw);
    if (!ok) {
        cs_free(gz);
        return -1;
    }
    pthread_mutex_lock(&gz_mu);
    unsigned char *keep = cs_malloc(len);
    if (keep) {
        memcpy(keep, gz, len);
        cs_free(gz_cache[slot].data);
        gz_cache[slot].data = keep;
        gz_cache[slot].len = len;
        snprintf(gz_cache[slot].name, sizeof gz_cache[slot].name, "%s", name);
        snprintf(gz_cache[slot].etag, sizeof gz_cache[slot].etag, "%s", etag);
    }
    pthread_mutex_unlock(&gz_mu);
    *out = gz;
    *outlen = len;
    return 0;
}

/* Serve web.dir/name with its type, a validator (ETag from size and modification time, and
 * Last-Modified) and "no-cache": browsers keep the file but ask each time, and get a 304 when
 * it has not changed, so a new version of the pages is seen at once. Text files go gzip'd to a
 * client that takes it (their own ETag, Vary: Accept-Encoding). */
static int serve(svc_req *r, const char *name)
{
    if (!name_ok(name)) return svc_reply_error(r, CS_E_ROUTE_NOT_FOUND, NULL);
    char path[4096];
    int w = snprintf(path, sizeof path, "%s/%s", cs_cfg_str("web.dir"), name);
    struct stat st;
    /* lstat: a symbolic link in the web room could point anywhere; it is not served */
    if (w < 0 || (size_t)w >= sizeof path || lstat(path, &st) || !S_ISREG(st.st_mode))
        return svc_reply_error(r, CS_E_ROUTE_NOT_FOUND, NULL);
    const char *mime = mime_of(name);
    int gz = gz_type(mime) && takes_gzip(r);
    char etag[80], lm[40];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx%s\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec, gz ? "-gz" : "");
    http_date(st.st_mtim.tv_sec, lm, sizeof lm);
    if (svc_add_header(r, "ETag", etag) || svc_add_header(r, "Last-Modified", lm) ||
        svc_add_header(r, "Cache-Control", "no-cache") ||
        (gz_type(mime) && svc_add_header(r, "Vary", "Accept-Encoding")))
        return -1;
    const char *inm = svc_header(r, "If-None-Match");
    if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) return svc_reply_empty(r, 304);
    unsigned char *data = NULL;
    size_t len = 0;
    if (gz && !gz_get(name, path, etag, (size_t)st.st_size, &data, &len)) {
        static const char *const enc[] = {"Content-Encoding", "gzip", NULL};
        int rc = svc_reply_bytes(r, 200, mime, data, len, enc);
        cs_free(data);
        return rc;
    }
    return svc_reply_file(r, 200, mime, path, NULL);
}

int svc_web_index(svc_req *r)
{
    return serve(r, "index.html");
}

int svc_web_file(svc_req *r)
{
    const char *f = svc_param(r, "file");
    return serve(r, f ? f : "");
}

/* --- sessions -----------------------------------------------------------------------------------
 */

static void add_commune(void *arg, const cs_token_unit *u)
{
    json_array_append_new(arg, json_pack("{s:s,s:s}", "code", u->code, "name", u->name));
}

/* {role, name, communes:[{code,name}], csrf, expires_at, consent_version} of the actor's token.
 * NULL with err. */
static json_t *session_view(cs_db *db, const svc_actor *a, const cs_session *s, cs_error *err)
{
    char name[404]; /* VARCHAR(100) of utf8mb4 */
    int rc = cs_token_name(db, a->token_id, name, sizeof name, err);
    if (rc < 0) return NULL;
    if (rc == 0) name[0] = '\0';
    json_t *communes = json_array();
    if (communes && cs_token_units_each(db, a->token_id, add_commune, communes, err)) {
        json_decref(communes);
        return NULL;
    }
    /* consent_version: the pages show the consent text of their own version and refuse to
     * register when the service asks for another one */
    json_t *o = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s}", "role", svc_role_name(a->role), "name", name,
                          "communes", communes, "csrf", s->csrf, "expires_at", s->expires_at,
                          "consent_version", cs_cfg_str("consent.version"));
    if (!o) cs_error_set(err, CS_E_NOMEM, NULL);
    return o;
}

int svc_session_create(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *token = NULL;
    cs_jfield spec[] = {
        {.name = "token",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 200,
         .out = &token},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    svc_actor a;
    int rc = svc_auth_load_token(db, token, &a, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 0) {
        cs_error_field(&err, "token", CS_E_TOKEN_INVALID, NULL);
        err.code = CS_E_TOKEN_INVALID;
        return svc_reply_problem(r, &err);
    }
    char sid[44], csrf[44];
    if (cs_random_token(sid) || cs_random_token(csrf)) {
        svc_actor_free(&a);
        return svc_reply_error(r, CS_E_INTERNAL, "%s", "no randomness");
    }
    unsigned char h[32];
    cs_token_hash(sid, h);
    long hours = cs_cfg_int("web.session_hours");
    svc_actor_free(&r->actor);
    r->actor = a; /* the audit row and the access log name who signed in */
    cs_actor actor = svc_audit_actor(r);
    cs_session s;
    if (cs_session_create(db, &actor, h, a.token_id, csrf, hours, &s, &err)) {
        memset(sid, 0, sizeof sid);
        return svc_reply_problem(r, &err);
    }
    rc = svc_session_set_cookie(r, sid, hours * 3600);
    memset(sid, 0, sizeof sid);
    if (rc) return -1;
    json_t *v = session_view(db, &r->actor, &s, &err);
    if (!v) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 201, v);
}

/* The session row of the request's cookie. 1 found, 0 none, -1 error. */
static int this_session(svc_req *r, cs_db *db, unsigned char h[32], cs_session *s, cs_error *err)
{
    char sid[44];
    if (svc_session_cookie(r, sid) != 1) return 0;
    cs_token_hash(sid, h);
    memset(sid, 0, sizeof sid);
    return cs_session_find(db, h, s, err);
}

int svc_session_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (r->actor.kind != SVC_ACTOR_SESSION)
        return svc_reply_error(r, CS_E_UNAUTHENTICATED, "%s",
                               "no web session (sign in with POST /v1/session)");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    unsigned char h[32];
    cs_session s;
    int rc = this_session(r, db, h, &s, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 0) return svc_reply_error(r, CS_E_SESSION_EXPIRED, NULL);
    json_t *v = session_view(db, &r->actor, &s, &err);
    if (!v) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 200, v);
}

int svc_session_delete(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (r->actor.kind != SVC_ACTOR_SESSION)
        return svc_reply_error(r, CS_E_UNAUTHENTICATED, "%s", "no web session");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    unsigned char h[32];
    cs_session s;
    int rc = this_session(r, db, h, &s, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 1 && cs_session_delete(db, h, &err)) return svc_reply_problem(r, &err);
    if (svc_session_set_cookie(r, "", 0)) return -1;
    return svc_reply_empty(r, 204);
}

/* A volunteer's one-time sign-in link (issue 13): used once, within its hours, while the
 * volunteer is active, it opens a session of the volunteer's token remembered for
 * volunteer.session_days — the same actor, role and communes as that token. */
int svc_session_link(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *link = NULL;
    cs_jfield spec[] = {
        {.name = "link",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 200,
         .out = &link},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    unsigned char lh[32];
    cs_token_hash(link, lh);
    int64_t token_id = 0;
    int rc = cs_signin_link_use(db, lh, &token_id, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    svc_actor a;
    if (rc == 1) rc = svc_auth_load_token_id(db, token_id, &a, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (rc == 0) return svc_reply_error(r, CS_E_LINK_INVALID, NULL);
    char sid[44], csrf[44];
    if (cs_random_token(sid) || cs_random_token(csrf)) {
        svc_actor_free(&a);
        return svc_reply_error(r, CS_E_INTERNAL, "%s", "no randomness");
    }
    unsigned char h[32];
    cs_token_hash(sid, h);
    long hours = cs_cfg_int("volunteer.session_days") * 24;
    svc_actor_free(&r->actor);
    r->actor = a;
    cs_actor actor = svc_audit_actor(r);
    cs_session s;
    if (cs_session_create(db, &actor, h, a.token_id, csrf, hours, &s, &err)) {
        memset(sid, 0, sizeof sid);
        return svc_reply_problem(r, &err);
    }
    rc = svc_session_set_cookie(r, sid, hours * 3600);
    memset(sid, 0, sizeof sid);
    if (rc) return -1;
    json_t *v = session_view(db, &r->actor, &s, &err);
    if (!v) return svc_reply_problem(r, &err);
    return svc_reply_json(r, 201, v);
}

/* "Đăng xuất mọi thiết bị": every session of the caller's token ends, this one too. */
int svc_session_devices_delete(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor actor = svc_audit_actor(r);
    if (cs_sessions_revoke_token(db, &actor, r->actor.token_id, &err) < 0)
        return svc_reply_problem(r, &err);
    if (r->actor.kind == SVC_ACTOR_SESSION && svc_session_set_cookie(r, "", 0)) return -1;
    return svc_reply_empty(r, 204);
}

/* --- the owner's receipt: a QR code to the status page -------------------------------------------
 */

/* The SVG text of a receipt card for household `code` in commune `commune_name`: the QR code of
 * the status page address (code only — the PIN is written on the paper receipt by the page and
 * never leaves it), the code in large print and one line of instructions. 0 or -1. */
static int receipt_svg(cs_buf *b, const char *url, const char *code, const char *commune_name)
{
    QRcode *q = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) return -1;
    const int quiet = 4, unit = 6;
    int side = (q->width + 2 * quiet) * unit;
    int height = side + 120;
    char tmp[256];
    int rc = 0;
    snprintf(
        tmp, sizeof tmp,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\""
        " role=\"img\" aria-label=\"Mã QR mở trang tình trạng của hộ kinh doanh\">\n",
        side, height, side, height);
    rc |= cs_buf_append(b, tmp, strlen(tmp));
    snprintf(tmp, sizeof tmp,
             "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"", side,
             height);
    rc |= cs_buf_append(b, tmp, strlen(tmp));
    /* one sub-path per horizontal run of dark modules keeps the file small */
    for (int y = 0; y < q->width && !rc; y++) {
        for (int x = 0; x < q->width;) {
            if (!(q->data[y * q->width + x] & 1)) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < q->width && (q->data[y * q->width + x] & 1))
                x++;
            snprintf(tmp, sizeof tmp, "M%d %dh%dv%dh-%dz", (x0 + quiet) * unit, (y + quiet) * unit,
                     (x - x0) * unit, unit, (x - x0) * unit);
            rc |= cs_buf_append(b, tmp, strlen(tmp));
        }
    }
    QRcode_free(q);
    rc |= cs_buf_append(b, "\"/>\n", 4);
    snprintf(
        tmp, sizeof tmp,
        "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" font-size=\"26\" font-weight=\"bold\""
        " text-anchor=\"middle\">",
        side / 2, side + 34);
    rc |= cs_buf_append(b, tmp, strlen(tmp));
    rc |= cs_buf_put_escaped(b, code);
    rc |= cs_buf_append(b, "</text>\n", 8);
    snprintf(tmp, sizeof tmp,
             "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" font-size=\"15\" "
             "text-anchor=\"middle\">",
             side / 2, side + 64);
    rc |= cs_buf_append(b, tmp, strlen(tmp));
    rc |= cs_buf_put_escaped(b, commune_name);
    rc |= cs_buf_append(b, "</text>\n", 8);
    /* two short lines: the smallest code (version 3, 29 modules) is 222 units wide */
    static const char *const lines[] = {"Quét mã, nhập mã PIN", "để xem gian hàng của bạn"};
    for (int i = 0; i < 2; i++) {
        snprintf(tmp, sizeof tmp,
                 "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" font-size=\"14\" "
                 "text-anchor=\"middle\">",
                 side / 2, side + 88 + 18 * i);
        rc |= cs_buf_append(b, tmp, strlen(tmp));
        rc |= cs_buf_put_escaped(b, lines[i]);
        rc |= cs_buf_append(b, "</text>\n", 8);
    }
    rc |= cs_buf_append(b, "</svg>\n", 7);
    return rc ? -1 : 0;
}

int svc_households_receipt(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *code = svc_param(r, "code");
    if (!code || strlen(code) > 20) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "household");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6];
    int erased = 0;
    if (cs_household_lookup(db, code, NULL, commune, &erased, &err))
        return svc_reply_problem(r, &err);
    if (!svc_can_write_commune(r, commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "household");
    if (erased) return svc_reply_error(r, CS_E_GONE, "%s", "household");
    char name[404]; /* VARCHAR(100) of utf8mb4 */
    int known = cs_unit_name(db, commune, name, sizeof name, &err);
    if (known < 0) return svc_reply_problem(r, &err);
    if (!known) snprintf(name, sizeof name, "%s", commune);

    /* The address people open: the public URL, without a trailing slash, then the page and the
     * code in the fragment (a fragment is never sent to a server or written to its logs). */
    const char *pub = cs_cfg_str("http.public_url");
    size_t pl = strlen(pub);
    while (pl && pub[pl - 1] == '/')
        pl--;
    char url[512];
    snprintf(url, sizeof url, "%.*s/owner.html#code=%s", (int)pl, pub, code);
    cs_buf b;
    cs_buf_init(&b, 1 << 20);
    if (receipt_svg(&b, url, code, name)) {
        cs_buf_free(&b);
        return svc_reply_error(r, CS_E_NOMEM, NULL);
    }
    int rc = svc_reply_bytes(r, 200, "image/svg+xml", b.data, b.len, NULL);
    cs_buf_free(&b);
    return rc;
}
