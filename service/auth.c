/* service/auth: bearer-token and session-cookie authentication and the role/commune checks
 * handlers use. Tokens and session ids are looked up by their SHA-256 only; neither is stored
 * or logged. */
#include "service/auth.h"
#include "core/access.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include "service/read_cache.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *svc_role_name(unsigned role)
{
    switch (role) {
    case SVC_ROLE_ADMIN:
        return "admin";
    case SVC_ROLE_MONITOR:
        return "monitor";
    case SVC_ROLE_VOLUNTEER:
        return "volunteer";
    }
    return NULL;
}

unsigned svc_role_from_name(const char *name)
{
    if (!name) return 0;
    if (!strcmp(name, "admin")) return SVC_ROLE_ADMIN;
    if (!strcmp(name, "monitor")) return SVC_ROLE_MONITOR;
    if (!strcmp(name, "volunteer")) return SVC_ROLE_VOLUNTEER;
    return 0;
}

void svc_actor_free(svc_actor *a)
{
    cs_free(a->communes);
    memset(a, 0, sizeof *a);
}

_Static_assert(SVC_COMMUNE_LEN == CS_COMMUNE_LEN, "svc_actor takes core/access's commune array");

/* The actor of a live token found by core/access: its role, a volunteer's communes, and the
 * last-used mark. 1, 0 (a role this build does not know grants nothing), -1. */
static int actor_of(cs_db *db, const cs_token *t, svc_actor *out, cs_error *err)
{
    svc_actor a = {0};
    a.kind = SVC_ACTOR_TOKEN;
    a.token_id = t->id;
    a.role = svc_role_from_name(t->role);
    snprintf(a.id, sizeof a.id, "token:%lld", (long long)a.token_id);
    if (!a.role) return 0;
    if (a.role == SVC_ROLE_VOLUNTEER &&
        cs_token_communes(db, a.token_id, &a.communes, &a.ncommunes, err))
        return -1;
    if (t->touch_due) {
        /* At most one write a minute per token, whichever process gets there first; a failure
         * here must not refuse the request. */
        cs_error e2;
        cs_error_clear(&e2);
        if (cs_token_touch(db, a.token_id, &e2))
            cs_warn("token_touch_failed", "%s", cs_code_name(e2.code));
    }
    *out = a;
    return 1;
}

int svc_auth_load_token(cs_db *db, const char *token, svc_actor *out, cs_error *err)
{
    unsigned char h[32];
    cs_token_hash(token, h);
    cs_token t;
    int rc = cs_token_find_by_hash(db, h, &t, err);
    return rc == 1 ? actor_of(db, &t, out, err) : rc;
}

int svc_auth_load_token_id(cs_db *db, int64_t token_id, svc_actor *out, cs_error *err)
{
    cs_token t;
    int rc = cs_token_find_by_id(db, token_id, &t, err);
    return rc == 1 ? actor_of(db, &t, out, err) : rc;
}

/* token68 (RFC 7235): the characters a bearer token may have. */
static int token68(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr("-._~+/=", c)))
            return 0;
    }
    return n > 0 && n <= 200;
}

/* ---- live bearer tokens kept while the read generation stays the same ---------------------
 * A token's row, its communes and its revocation are all writes that move the read generation
 * (core/readgen watches tokens and token_communes), so a kept look-up is exactly as good as a
 * fresh one while the generation read for this request equals the one it was made under. It is
 * also dropped at the token's expiry and after TOK_MAX_AGE_S, so the last-used mark (written at
 * most once a minute, on a real look-up) stays within a minute and a half of the truth. */
#define TOK_SLOTS 64
#define TOK_MAX_AGE_S 30
typedef struct tok_ent {
    unsigned char hash[32];
    int used;
    int64_t gen;
    time_t made, until; /* monotonic seconds */
    svc_actor actor;    /* communes owned by the slot */
} tok_ent;
static pthread_mutex_t tok_mu = PTHREAD_MUTEX_INITIALIZER;
static tok_ent toks[TOK_SLOTS];

static time_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static int actor_copy(const svc_actor *from, svc_actor *to)
{
    *to = *from;
    to->communes = NULL;
    if (!from->ncommunes) return 0;
    to->communes = cs_calloc(from->ncommunes, sizeof *to->communes);
    if (!to->communes) return -1;
    memcpy(to->communes, from->communes, from->ncommunes * sizeof *to->communes);
    return 0;
}

/* 1 with *out (caller frees) when a live look-up of this hash was kept under `gen` */
static int tok_get(const unsigned char h[32], int64_t gen, svc_actor *out)
{
    int found = 0;
    time_t now = mono_now();
    pthread_mutex_lock(&tok_mu);
    for (size_t i = 0; i < TOK_SLOTS; i++) {
        tok_ent *e = &toks[i];
        if (!e->used || !cs_ct_equal(e->hash, h, 32)) continue;
        if (e->gen == gen && now < e->until && now - e->made < TOK_MAX_AGE_S)
            found = actor_copy(&e->actor, out) == 0;
        if (!found) {
            svc_actor_free(&e->actor);
            e->used = 0;
        }
        break;
    }
    pthread_mutex_unlock(&tok_mu);
    return found;
}

static void tok_put(const unsigned char h[32], int64_t gen, int64_t live_for_s, const svc_actor *a)
{
    time_t now = mono_now();
    tok_ent n = {.used = 1, .gen = gen, .made = now};
    memcpy(n.hash, h, 32);
    n.until = live_for_s < 0 ? now + TOK_MAX_AGE_S : now + (time_t)live_for_s;
    if (n.until <= now || actor_copy(a, &n.actor)) return;
    pthread_mutex_lock(&tok_mu);
    size_t slot = 0;
    for (size_t i = 0; i < TOK_SLOTS; i++) {
        if (toks[i].used && cs_ct_equal(toks[i].hash, h, 32)) {
            slot = i;
            break;
        }
        if (!toks[i].used || toks[i].made < toks[slot].made) slot = i;
    }
    svc_actor_free(&toks[slot].actor);
    toks[slot] = n;
    pthread_mutex_unlock(&tok_mu);
}

void svc_auth_cache_free(void)
{
    pthread_mutex_lock(&tok_mu);
    for (size_t i = 0; i < TOK_SLOTS; i++) {
        svc_actor_free(&toks[i].actor);
        toks[i].used = 0;
    }
    pthread_mutex_unlock(&tok_mu);
}

/* Authorization: Bearer <token>. 1 authenticated, 0 no such header, -1 refused/error. */
static int auth_bearer(svc_req *r, cs_error *err)
{
    const char *h = svc_header(r, "Authorization");
    if (!h) return 0;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7))
        return cs_error_set(err, CS_E_TOKEN_INVALID, "bearer scheme expected");
    h += 7;
    while (*h == ' ')
        h++;
    if (!token68(h)) return cs_error_set(err, CS_E_TOKEN_INVALID, "malformed token");
    cs_db *db = svc_db(r, err);
    if (!db) return -1;
    unsigned char th[32];
    cs_token_hash(h, th);
    int64_t gen = -1;
    int keep = svc_read_cache_on() && !svc_read_generation_req(r, db, &gen);
    svc_actor a;
    if (keep && tok_get(th, gen, &a)) {
        svc_actor_free(&r->actor);
        r->actor = a;
        return 1;
    }
    cs_token t;
    int rc = cs_token_find_by_hash(db, th, &t, err);
    if (rc == 1) rc = actor_of(db, &t, &a, err);
    if (rc < 0) return -1;
    if (rc == 0) return cs_error_set(err, CS_E_TOKEN_INVALID, NULL);
    if (keep) tok_put(th, gen, t.live_for_s, &a);
    svc_actor_free(&r->actor);
    r->actor = a;
    return 1;
}

int svc_session_cookie(const svc_req *r, char out[44])
{
    const char *h = svc_header(r, "Cookie");
    static const char name[] = SVC_SESSION_COOKIE "=";
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, ";");
        if (n >= sizeof name - 1 && !memcmp(p, name, sizeof name - 1)) {
            const char *v = p + sizeof name - 1;
            size_t vl = n - (sizeof name - 1);
            while (vl && v[vl - 1] == ' ')
                vl--;
            if (vl != 43) return -1;
            for (size_t i = 0; i < vl; i++) {
                char c = v[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                    return -1;
            }
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        p += n;
    }
    return 0;
}

int svc_session_set_cookie(svc_req *r, const char *value, long max_age)
{
    const char *pub = cs_cfg_str("http.public_url");
    int secure = pub && !strncasecmp(pub, "https:", 6);
    char c[200];
    snprintf(c, sizeof c, "%s=%s; Max-Age=%ld; Path=/; HttpOnly; SameSite=Strict%s",
             SVC_SESSION_COOKIE, value, max_age, secure ? "; Secure" : "");
    return svc_add_header(r, "Set-Cookie", c);
}

/* The session cookie, when no Authorization header decided. 1 authenticated, 0 no cookie, -1
 * refused (a stale or unknown cookie is cleared on the way out) or database error. */
static int auth_session(svc_req *r, cs_error *err)
{
    char sid[44];
    int have = svc_session_cookie(r, sid);
    if (have == 0) return 0;
    if (have < 0) {
        svc_session_set_cookie(r, "", 0);
        return cs_error_set(err, CS_E_SESSION_EXPIRED, NULL);
    }
    cs_db *db = svc_db(r, err);
    if (!db) return -1;
    unsigned char h[32];
    cs_token_hash(sid, h);
    memset(sid, 0, sizeof sid);
    cs_session sess;
    int found = cs_session_find(db, h, &sess, err);
    if (found < 0) return -1;
    if (!found) {
        svc_session_set_cookie(r, "", 0);
        return cs_error_set(err, CS_E_SESSION_EXPIRED, NULL);
    }
    const char *csrf = sess.csrf;
    /* A cookie carries the browser's credentials to any request the browser makes, also one a
     * foreign page triggers: anything that may change state must prove it read the csrf value
     * (which only our own pages can). */
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        const char *t = svc_header(r, "X-CSRF-Token");
        if (!t || strlen(t) != strlen(csrf) || !cs_ct_equal(t, csrf, strlen(csrf)))
            return cs_error_set(err, CS_E_CSRF, NULL);
    }
    svc_actor a;
    int rc = svc_auth_load_token_id(db, sess.token_id, &a, err);
    if (rc < 0) return -1;
    if (rc == 0) { /* the token behind the session was revoked or expired */
        svc_session_set_cookie(r, "", 0);
        return cs_error_set(err, CS_E_SESSION_EXPIRED, NULL);
    }
    a.kind = SVC_ACTOR_SESSION;
    svc_actor_free(&r->actor);
    r->actor = a;
    return 1;
}

/* Authenticators in order; the first that finds its kind of credential decides, so an API
 * client's bearer token is never mixed up with a browser cookie it happens to carry. */
static int (*const authenticators[])(svc_req *r, cs_error *err) = {
    auth_bearer,
    auth_session,
};

int svc_auth_authenticate(svc_req *r, cs_error *err)
{
    for (size_t i = 0; i < sizeof authenticators / sizeof authenticators[0]; i++) {
        int rc = authenticators[i](r, err);
        if (rc) return rc > 0 ? 0 : -1;
    }
    return 0;
}

int svc_require_role(const svc_req *r, unsigned mask, cs_error *err)
{
    if (r->actor.kind == SVC_ACTOR_ANON || !r->actor.role)
        return cs_error_set(err, CS_E_UNAUTHENTICATED, NULL);
    if (!(r->actor.role & mask)) return cs_error_set(err, CS_E_FORBIDDEN, NULL);
    return 0;
}

static int has_commune(const svc_actor *a, const char *code)
{
    if (!code) return 0;
    for (size_t i = 0; i < a->ncommunes; i++)
        if (!strcmp(a->communes[i], code)) return 1;
    return 0;
}

int svc_can_read_commune(const svc_req *r, const char *code)
{
    switch (r->actor.role) {
    case SVC_ROLE_ADMIN:
    case SVC_ROLE_MONITOR:
        return 1;
    case SVC_ROLE_VOLUNTEER:
        return has_commune(&r->actor, code);
    }
    return 0;
}

int svc_can_write_commune(const svc_req *r, const char *code)
{
    switch (r->actor.role) {
    case SVC_ROLE_ADMIN:
        return 1;
    case SVC_ROLE_VOLUNTEER:
        return has_commune(&r->actor, code);
    }
    return 0;
}

int svc_can_see_personal(const svc_req *r, const char *commune)
{
    return svc_can_write_commune(r, commune);
}

cs_actor svc_audit_actor(const svc_req *r)
{
    cs_actor a;
    memset(&a, 0, sizeof a);
    if (r->actor.kind != SVC_ACTOR_ANON) {
        a.kind = CS_ACTOR_TOKEN;
        snprintf(a.id, sizeof a.id, "%lld", (long long)r->actor.token_id);
    } else {
        a.kind = CS_ACTOR_OWNER; /* the only unauthenticated actor that changes anything */
    }
    snprintf(a.request_id, sizeof a.request_id, "%s", r->request_id);
    snprintf(a.client, sizeof a.client, "%s", r->client);
    return a;
}
