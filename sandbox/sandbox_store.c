/* sandbox/ store: the simulators' in-memory state (shops, tokens, items, images,
 * pages, categories, banned words, push queue) with hard caps. Callers hold sb->mu; nothing here
 * blocks, sleeps or does I/O except reading the category CSV at start-up, and nothing here
 * speaks a marketplace's protocol (a finished review is handed to its simulator's ops). */
#include "sandbox/sandbox_int.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define SB_SHOPS_MAX 20000
#define SB_TOKENS_MAX 60000
#define SB_IMAGES_MAX 50000
#define SB_PAGES_MAX 20000

static const char *const market_codes[SBX_NMARKETS] = {"shopee", "lazada", "tiktok", "assisted"};
static const char *const fault_names[SB_F_N] = {"none",
                                                "5xx",
                                                "429",
                                                "timeout",
                                                "malformed",
                                                "drop",
                                                "created_lost",
                                                "created_lost_hang",
                                                "created_lost_malformed"};

int sbx_market_from_code(const char *code)
{
    if (!code) return -1;
    for (int i = 0; i < SBX_NMARKETS; i++)
        if (!strcmp(code, market_codes[i])) return i;
    const cx_connector *c = cx_find(code); /* postmart, voso and those configured as data */
    if (c && c->kind == CX_KIND_FILE) return SBX_ASSISTED;
    return -1;
}

const char *sbx_market_code(int market)
{
    return market >= 0 && market < SBX_NMARKETS ? market_codes[market] : "?";
}

const char *sbx_fault_name(int f)
{
    return f >= 0 && f < SB_F_N ? fault_names[f] : "?";
}

int sbx_fault_from_name(const char *s)
{
    if (!s) return -1;
    for (int i = 0; i < SB_F_N; i++)
        if (!strcmp(s, fault_names[i])) return i;
    if (!strcmp(s, "500") || !strcmp(s, "503")) return SB_F_5XX;
    if (!strcmp(s, "throttle")) return SB_F_429;
    return -1;
}

/* ---- randomness: splitmix64, seedable so a fault run can be replayed ---- */
unsigned long long sbx_rand(sbx_sandbox *sb)
{
    unsigned long long z = (sb->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double sbx_rand01(sbx_sandbox *sb)
{
    return (double)(sbx_rand(sb) >> 11) * (1.0 / 9007199254740992.0);
}

void sbx_rand_hex(sbx_sandbox *sb, char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned long long r = 0;
    for (size_t i = 0; i < nbytes; i++) {
        if (i % 8 == 0) r = sbx_rand(sb);
        unsigned b = (unsigned)(r & 0xff);
        r >>= 8;
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[2 * nbytes] = '\0';
}

long long sbx_next_seq(sbx_sandbox *sb)
{
    return ++sb->seq;
}

unsigned long long sbx_hash(const char *s)
{
    unsigned long long h = 1469598103934665603ull;
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* Grow *arr to hold need elements (doubling), never past max. 0 or -1. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max)
{
    if (need <= *cap) return 0;
    if (need > max) return -1;
    size_t nc = *cap ? *cap * 2 : 64;
    if (nc < need) nc = need;
    if (nc > max) nc = max;
    void *p = cs_realloc(*arr, nc * elem);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

/* ---- shops ---- */
sb_shop *sbx_shop_find(sbx_sandbox *sb, int market, const char *id)
{
    if (!id) return NULL;
    for (size_t i = 0; i < sb->nshops; i++)
        if (sb->shops[i].market == market && !strcmp(sb->shops[i].id, id)) return &sb->shops[i];
    return NULL;
}

sb_shop *sbx_shop_authorise(sbx_sandbox *sb, int market, const char *id, unsigned long long keyhash)
{
    sb_shop *s = NULL;
    if (id && *id) s = sbx_shop_find(sb, market, id);
    if (!s && !(id && *id) && keyhash)
        for (size_t i = 0; i < sb->nshops; i++)
            if (sb->shops[i].market == market && sb->shops[i].keyhash == keyhash) {
                s = &sb->shops[i];
                break;
            }
    if (s) {
        s->revoked = 0;
        if (!s->keyhash) s->keyhash = keyhash;
        return s;
    }
    if (grow((void **)&sb->shops, &sb->capshops, sb->nshops + 1, sizeof *sb->shops, SB_SHOPS_MAX))
        return NULL;
    s = &sb->shops[sb->nshops++];
    memset(s, 0, sizeof *s);
    s->market = market;
    s->keyhash = keyhash;
    long long seq = sbx_next_seq(sb);
    if (id && *id)
        snprintf(s->id, sizeof s->id, "%s", id);
    else if (market == SBX_SHOPEE)
        snprintf(s->id, sizeof s->id, "%lld", 10000000LL + seq);
    else if (market == SBX_LAZADA)
        snprintf(s->id, sizeof s->id, "%lld", 1000000000LL + seq);
    else
        snprintf(s->id, sizeof s->id, "%lld", 7494000000000000000LL + seq);
    if (market == SBX_TIKTOK) {
        char hex[33];
        sbx_rand_hex(sb, hex, 12);
        snprintf(s->cipher, sizeof s->cipher, "GCP_%s", hex);
    }
    return s;
}

/* ---- tokens ---- */
/* Make room: forget used and long-expired tokens, then (still full) the oldest quarter. */
static void tokens_compact(sbx_sandbox *sb, long long now_ms)
{
    size_t j = 0;
    for (size_t i = 0; i < sb->ntokens; i++) {
        sb_token *t = &sb->tokens[i];
        if (t->used || t->expires_ms < now_ms - 3600 * 1000LL) continue;
        if (j != i) sb->tokens[j] = *t;
        j++;
    }
    sb->ntokens = j;
    if (sb->ntokens >= SB_TOKENS_MAX) {
        size_t drop = SB_TOKENS_MAX / 4;
        memmove(sb->tokens, sb->tokens + drop, (sb->ntokens - drop) * sizeof *sb->tokens);
        sb->ntokens -= drop;
    }
}

int sbx_token_issue(sbx_sandbox *sb, int market, int kind, const char *shop_id, long long ttl_ms,
                    char out[SB_ID_MAX])
{
    long long now = sbx_now_ms();
    if (sb->ntokens >= SB_TOKENS_MAX) tokens_compact(sb, now);
    if (grow((void **)&sb->tokens, &sb->captokens, sb->ntokens + 1, sizeof *sb->tokens,
             SB_TOKENS_MAX))
        return -1;
    sb_token *t = &sb->tokens[sb->ntokens++];
    memset(t, 0, sizeof *t);
    t->market = market;
    t->kind = kind;
    snprintf(t->shop_id, sizeof t->shop_id, "%s", shop_id ? shop_id : "");
    t->expires_ms = now + (ttl_ms > 0 ? ttl_ms : 1);
    char hex[41];
    sbx_rand_hex(sb, hex, 16);
    /* Shapes loosely follow each marketplace's so a log reader can tell them apart. */
    static const char *const pre[SBX_NMARKETS][3] = {
        {"", "", ""}, {"0_", "50000", "50001"}, {"ROW_", "TTP_", "TTR_"}, {"", "", ""}};
    snprintf(t->value, sizeof t->value, "%s%s", pre[market][kind], hex);
    memcpy(out, t->value, sizeof t->value);
    if (kind == SB_TOK_ACCESS) sb->tokens_issued[market]++;
    return 0;
}

sb_token *sbx_token_find(sbx_sandbox *sb, int market, int kind, const char *value)
{
    if (!value || !*value) return NULL;
    for (size_t i = sb->ntokens; i-- > 0;) {
        sb_token *t = &sb->tokens[i];
        if (t->market == market && t->kind == kind && !strcmp(t->value, value)) return t;
    }
    return NULL;
}

enum sb_auth sbx_access_check(sbx_sandbox *sb, int market, const char *token, long long now_ms,
                              sb_shop **shop)
{
    *shop = NULL;
    if (!token || !*token) return SB_AUTH_MISSING;
    sb_token *t = sbx_token_find(sb, market, SB_TOK_ACCESS, token);
    if (!t) return SB_AUTH_INVALID;
    sb_shop *s = sbx_shop_find(sb, market, t->shop_id);
    if (!s || s->revoked) return SB_AUTH_REVOKED;
    if (t->used) return SB_AUTH_INVALID;
    if (t->expires_ms <= now_ms) return SB_AUTH_EXPIRED;
    *shop = s;
    return SB_AUTH_OK;
}

long long sbx_access_ttl_ms(const sbx_sandbox *sb, int market)
{
    if (sb->opt.token_ttl > 0) return sb->opt.token_ttl * 1000LL;
    /* Shopee 4 h, Lazada online apps 30 d, TikTok 7 d (MARKETPLACES.md). */
    static const long long real[SBX_NMARKETS] = {4 * 3600LL, 30 * 86400LL, 7 * 86400LL, 3600};
    return real[market] * 1000LL;
}

long long sbx_refresh_ttl_ms(const sbx_sandbox *sb, int market)
{
    if (sb->opt.refresh_ttl > 0) return sb->opt.refresh_ttl * 1000LL;
    static const long long real[SBX_NMARKETS] = {30 * 86400LL, 180 * 86400LL, 30 * 86400LL, 86400};
    return real[market] * 1000LL;
}

/* ---- items and review ---- */
sb_item *sbx_item_new(sbx_sandbox *sb, int market)
{
    size_t max = sb->opt.max_items > 0 ? (size_t)sb->opt.max_items : 1;
    if (sb->nitems >= max) return NULL;
    if (grow((void **)&sb->items, &sb->capitems, sb->nitems + 1, sizeof *sb->items, max))
        return NULL;
    sb_item *it = &sb->items[sb->nitems++];
    memset(it, 0, sizeof *it);
    it->market = market;
    long long seq = sbx_next_seq(sb);
    static const long long base[SBX_NMARKETS] = {3000000000LL, 2000000000LL, 1729000000000000000LL,
                                                 1};
    it->item_id = base[market] + seq;
    it->sku_id = 5000000000LL + seq;
    return it;
}

void sbx_item_submit(sbx_sandbox *sb, sb_item *it, const char *description, long long now_ms)
{
    const char *w = sbx_banned_find(sb, it->name);
    const char *where = "item name";
    if (!w && description) {
        w = sbx_banned_find(sb, description);
        where = "description";
    }
    if (w) {
        it->verdict = SB_IT_REJECTED;
        snprintf(it->reason, sizeof it->reason,
                 "Prohibited keyword \"%s\" found in the %s; the listing violates the prohibited "
                 "and controlled products policy.",
                 w, where);
    } else {
        it->verdict = SB_IT_LIVE;
    }
    if (description) { /* kept so product reads return it, as the marketplaces do */
        char *d = cs_strdup(description);
        if (d) {
            cs_free(it->description);
            it->description = d;
        }
    }
    it->state = SB_IT_REVIEWING;
    it->create_ms = it->update_ms = now_ms;
    it->review_at_ms = now_ms + (sb->opt.review_delay_ms > 0 ? sb->opt.review_delay_ms : 0);
    if (it->review_at_ms < sb->next_review_ms) sb->next_review_ms = it->review_at_ms;
}

sb_item *sbx_item_by_id(sbx_sandbox *sb, int market, long long item_id)
{
    for (size_t i = 0; i < sb->nitems; i++)
        if (sb->items[i].market == market && sb->items[i].item_id == item_id) return &sb->items[i];
    return NULL;
}

/* The review ends; the item's marketplace tells the seller its own way (its simulator file). */
static void review_finish(sbx_sandbox *sb, sb_item *it, long long now_ms)
{
    it->state = it->verdict;
    it->update_ms = now_ms;
    const sb_market_ops *ops = sbx_ops(it->market);
    if (ops->reviewed) ops->reviewed(sb, it, now_ms);
}

void sbx_review_due(sbx_sandbox *sb, long long now_ms)
{
    sbx_orders_due(sb, now_ms); /* buyers and order statuses move with the same clock */
    if (now_ms < sb->next_review_ms) return;
    long long next = LLONG_MAX;
    for (size_t i = 0; i < sb->nitems; i++) {
        sb_item *it = &sb->items[i];
        if (it->state != SB_IT_REVIEWING) continue;
        if (it->review_at_ms <= now_ms)
            review_finish(sb, it, now_ms);
        else if (it->review_at_ms < next)
            next = it->review_at_ms;
    }
    sb->next_review_ms = next;
}

int sbx_review_force(sbx_sandbox *sb, int market, long long item_id, long long now_ms)
{
    int n = 0;
    for (size_t i = 0; i < sb->nitems; i++) {
        sb_item *it = &sb->items[i];
        if (it->state != SB_IT_REVIEWING) continue;
        if (market >= 0 && it->market != market) continue;
        if (item_id && it->item_id != item_id) continue;
        review_finish(sb, it, now_ms);
        n++;
    }
    return n;
}

/* ---- images: a ring, so a long demo forgets the oldest ids instead of growing ---- */
int sbx_image_add(sbx_sandbox *sb, int market, size_t size, int w, int h, char out[SB_ID_MAX])
{
    sb_image *im;
    if (sb->nimages < SB_IMAGES_MAX) {
        if (grow((void **)&sb->images, &sb->capimages, sb->nimages + 1, sizeof *sb->images,
                 SB_IMAGES_MAX))
            return -1;
        im = &sb->images[sb->nimages++];
    } else {
        im = &sb->images[sb->imagehead];
        sb->imagehead = (sb->imagehead + 1) % SB_IMAGES_MAX;
    }
    memset(im, 0, sizeof *im);
    im->market = market;
    im->size = size;
    im->width = w;
    im->height = h;
    char hex[41];
    if (market == SBX_SHOPEE) {
        sbx_rand_hex(sb, hex, 12);
        snprintf(im->id, sizeof im->id, "vn-11134207-%s", hex);
    } else if (market == SBX_LAZADA) {
        sbx_rand_hex(sb, hex, 16);
        snprintf(im->id, sizeof im->id, "%s", hex);
    } else {
        sbx_rand_hex(sb, hex, 12);
        snprintf(im->id, sizeof im->id, "tos-sandbox-i-vn/%s", hex);
    }
    memcpy(out, im->id, sizeof im->id);
    return 0;
}

const sb_image *sbx_image_find(sbx_sandbox *sb, int market, const char *id)
{
    if (!id) return NULL;
    for (size_t i = 0; i < sb->nimages; i++)
        if (sb->images[i].market == market && !strcmp(sb->images[i].id, id)) return &sb->images[i];
    return NULL;
}

/* ---- categories ---- */
const sb_category *sbx_category(const sbx_sandbox *sb, int market, const char *id)
{
    if (!id || !*id) return NULL;
    for (size_t i = 0; i < sb->ncats; i++)
        if (sb->cats[i].market == market && !strcmp(sb->cats[i].id, id)) return &sb->cats[i];
    return NULL;
}

static void trim(char **s)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
    size_t n = strlen(*s);
    while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\r'))
        (*s)[--n] = '\0';
}

/* Add (or extend) category id of market with attributes separated by any of "|; " and each
 * optionally "id=value" or "id:value" (the part before = or : is the attribute). */
static int category_add(sbx_sandbox *sb, int market, const char *id, const char *attrs,
                        const char *name)
{
    sb_category *c = NULL;
    for (size_t i = 0; i < sb->ncats; i++)
        if (sb->cats[i].market == market && !strcmp(sb->cats[i].id, id)) c = &sb->cats[i];
    if (!c) {
        if (sb->ncats >= SB_MAX_CATS || strlen(id) >= sizeof c->id) return -1;
        c = &sb->cats[sb->ncats++];
        memset(c, 0, sizeof *c);
        c->market = market;
        snprintf(c->id, sizeof c->id, "%s", id);
    }
    if (name && *name && !c->name[0]) snprintf(c->name, sizeof c->name, "%s", name);
    if (!attrs || !*attrs) return 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", attrs);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "|; ", &save); tok; tok = strtok_r(NULL, "|; ", &save)) {
        tok[strcspn(tok, "=:")] = '\0';
        if (!*tok) continue;
        int dup = 0;
        for (int k = 0; k < c->nattrs; k++)
            dup |= !strcmp(c->attrs[k], tok);
        if (dup || c->nattrs >= SB_MAX_ATTRS) continue;
        snprintf(c->attrs[c->nattrs++], sizeof c->attrs[0], "%s", tok);
    }
    return 0;
}

int sbx_categories_parse(sbx_sandbox *sb, const char *spec, cs_error *err)
{
    char *copy = cs_strdup(spec ? spec : "");
    if (!copy) return cs_error_set(err, CS_E_NOMEM, NULL);
    char *save = NULL;
    int rc = 0;
    for (char *e = strtok_r(copy, ";,\n", &save); e; e = strtok_r(NULL, ";,\n", &save)) {
        trim(&e);
        if (!*e) continue;
        char *colon = strchr(e, ':');
        if (!colon) {
            rc = cs_error_set(err, CS_E_CONFIG, "category entry '%.60s' lacks 'market:'", e);
            break;
        }
        *colon = '\0';
        int m = sbx_market_from_code(e);
        if (m < 0 || m == SBX_ASSISTED) {
            rc = cs_error_set(err, CS_E_CONFIG, "unknown marketplace '%.30s' in categories", e);
            break;
        }
        char *id = colon + 1, *attrs = strchr(id, '=');
        if (attrs) *attrs++ = '\0';
        trim(&id);
        if (!*id || category_add(sb, m, id, attrs, NULL)) {
            rc = cs_error_set(err, CS_E_CONFIG, "bad or too many categories near '%.30s'", id);
            break;
        }
    }
    cs_free(copy);
    return rc;
}

/* Split one CSV line (RFC 4180 quotes) in place; returns the field count (≤ max). */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        f[n++] = out;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) break;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        int more = *p == ',';
        if (*p) p++;
        *out = '\0';
        if (!more) break;
    }
    return n;
}

/* The mandatory attributes a category-map row supplies, as "a|b": Shopee
 * attribute_list[].attribute_id, Lazada the Attributes members, TikTok product_attributes[].id. */
static void json_attrs(int market, const char *text, char *out, size_t n)
{
    out[0] = '\0';
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    size_t len = 0, i;
    json_t *e;
    const char *key;
    char one[40];
    if (market == SBX_LAZADA) {
        json_object_foreach(j, key, e)
        {
            int w = snprintf(out + len, n - len, "%s%s", len ? "|" : "", key);
            if (w > 0 && (size_t)w < n - len) len += (size_t)w;
        }
    } else {
        json_t *list =
            json_object_get(j, market == SBX_SHOPEE ? "attribute_list" : "product_attributes");
        json_array_foreach(list, i, e)
        {
            json_t *id = json_object_get(e, market == SBX_SHOPEE ? "attribute_id" : "id");
            if (json_is_integer(id))
                snprintf(one, sizeof one, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
            else if (json_is_string(id))
                snprintf(one, sizeof one, "%s", json_string_value(id));
            else
                continue;
            int w = snprintf(out + len, n - len, "%s%s", len ? "|" : "", one);
            if (w > 0 && (size_t)w < n - len) len += (size_t)w;
        }
    }
    json_decref(j);
}

int sbx_categories_load_csv(sbx_sandbox *sb, const char *path, cs_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return 1; /* absent: the caller falls back */
    char line[2048];
    int cm = -1, cid = -1, cattr = -1, cname = -1, rc = 0;
    size_t lineno = 0, added = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *fld[32];
        int n = csv_split(line, fld, 32);
        if (lineno == 1) {
            for (int i = 0; i < n; i++) {
                const char *h = fld[i];
                if (cm < 0 && (!strncmp(h, "marketplace", 11) || !strcmp(h, "market")))
                    cm = i;
                else if (cid < 0 && (strstr(h, "category_id") || !strcmp(h, "external_id") ||
                                     !strcmp(h, "marketplace_category")))
                    cid = i;
                else if (cattr < 0 && strstr(h, "attr"))
                    cattr = i;
                else if (cname < 0 && strstr(h, "category_name"))
                    cname = i;
            }
            if (cm < 0 || cid < 0) {
                rc = cs_error_set(err, CS_E_CONFIG,
                                  "%s: needs 'marketplace' and '*category_id' columns", path);
                break;
            }
            continue;
        }
        if (n <= cm || n <= cid) continue;
        int m = sbx_market_from_code(fld[cm]);
        if (m < 0 || m == SBX_ASSISTED || !*fld[cid]) continue;
        const char *attrs = cattr >= 0 && cattr < n ? fld[cattr] : NULL;
        char list[512];
        if (attrs && *attrs == '{') {
            json_attrs(m, attrs, list, sizeof list);
            attrs = list;
        }
        if (category_add(sb, m, fld[cid], attrs, cname >= 0 && cname < n ? fld[cname] : NULL)) {
            rc = cs_error_set(err, CS_E_CONFIG, "%s:%zu: too many categories", path, lineno);
            break;
        }
        added++;
    }
    fclose(f);
    if (!rc && !added) return 1;
    return rc;
}

/* ---- banned words, compared case-folded so "HÀNG GIẢ" matches "hàng giả" ---- */
static char *fold(const char *s)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, 0, &dst,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (n < 0 || !dst) return NULL;
    char *r = cs_strndup((const char *)dst, (size_t)n);
    free(dst);
    return r;
}

int sbx_banned_set(sbx_sandbox *sb, const char *list)
{
    for (size_t i = 0; i < sb->nbanned; i++)
        cs_free(sb->banned[i]);
    sb->nbanned = 0;
    if (!list) return 0;
    char *copy = cs_strdup(list);
    if (!copy) return -1;
    char *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        trim(&w);
        if (!*w || sb->nbanned >= SB_MAX_BANNED) continue;
        char *f = fold(w);
        if (!f) {
            rc = -1;
            break;
        }
        sb->banned[sb->nbanned++] = f;
    }
    cs_free(copy);
    return rc;
}

const char *sbx_banned_find(const sbx_sandbox *sb, const char *text)
{
    if (!text || !*text || !sb->nbanned) return NULL;
    char *f = fold(text);
    if (!f) return NULL;
    const char *hit = NULL;
    for (size_t i = 0; i < sb->nbanned && !hit; i++)
        if (strstr(f, sb->banned[i])) hit = sb->banned[i];
    cs_free(f);
    return hit;
}

/* ---- assisted marketplaces' public pages ---- */
sb_page *sbx_page_find(sbx_sandbox *sb, const char *marketplace, int product, const char *id)
{
    for (size_t i = 0; i < sb->npages; i++) {
        sb_page *p = &sb->pages[i];
        if (p->product == product && !strcmp(p->id, id) &&
            (!marketplace || !strcmp(p->marketplace, marketplace)))
            return p;
    }
    return NULL;
}

sb_page *sbx_page_set(sbx_sandbox *sb, const char *marketplace, int product, const char *id,
                      int state, const char *title)
{
    sb_page *p = sbx_page_find(sb, marketplace, product, id);
    if (!p) {
        if (grow((void **)&sb->pages, &sb->cappages, sb->npages + 1, sizeof *sb->pages,
                 SB_PAGES_MAX))
            return NULL;
        p = &sb->pages[sb->npages++];
        memset(p, 0, sizeof *p);
        snprintf(p->marketplace, sizeof p->marketplace, "%s", marketplace);
        p->product = product;
        snprintf(p->id, sizeof p->id, "%s", id);
    }
    p->state = state;
    if (title) snprintf(p->title, sizeof p->title, "%s", title);
    return p;
}

/* ---- push queue (delivered by the reviewer thread in sandbox.c) ---- */
void sbx_push_queue(sbx_sandbox *sb, int market, const char *url, const char *body,
                    const char *auth)
{
    if (sb->npush >= SB_PUSH_MAX) {
        sb->pushes_failed[market]++;
        return;
    }
    sb_push *p = &sb->push[sb->npush];
    memset(p, 0, sizeof *p);
    p->market = market;
    p->url = cs_strdup(url);
    p->body = cs_strdup(body);
    if (!p->url || !p->body) {
        cs_free(p->url);
        cs_free(p->body);
        sb->pushes_failed[market]++;
        return;
    }
    snprintf(p->auth, sizeof p->auth, "%s", auth);
    sb->npush++;
    pthread_cond_broadcast(&sb->cv);
}

/* ---- reset / free ---- */
void sbx_state_reset(sbx_sandbox *sb)
{
    for (size_t i = 0; i < sb->nitems; i++) {
        cs_free(sb->items[i].description);
        sb->items[i].description = NULL;
    }
    sb->nshops = sb->ntokens = sb->nitems = sb->nimages = sb->imagehead = sb->npages = 0;
    sb->nreqstats = 0;
    for (size_t i = 0; i < sb->npush; i++) {
        cs_free(sb->push[i].url);
        cs_free(sb->push[i].body);
    }
    sb->npush = 0;
    memset(sb->faults, 0, sizeof sb->faults);
    for (int m = 0; m < SBX_NMARKETS; m++) {
        sb->faults[m].hang_ms = 30000;
        sb->tokens_issued[m] = sb->throttled[m] = 0;
        sb->pushes_sent[m] = sb->pushes_failed[m] = 0;
        sb->bucket[m] = sb->opt.rate > 1 ? sb->opt.rate : 1;
        sb->bucket_ms[m] = 0;
    }
    sb->rng = sb->opt.seed;
    sb->seq = 0;
    sb->next_review_ms = LLONG_MAX;
    sbx_orders_reset(sb, 0);
}

void sbx_state_free(sbx_sandbox *sb)
{
    sbx_state_reset(sb);
    sbx_orders_reset(sb, 1);
    cs_free(sb->shops);
    cs_free(sb->tokens);
    cs_free(sb->items);
    cs_free(sb->images);
    cs_free(sb->pages);
    sb->shops = NULL;
    sb->tokens = NULL;
    sb->items = NULL;
    sb->images = NULL;
    sb->pages = NULL;
    sb->capshops = sb->captokens = sb->capitems = sb->capimages = sb->cappages = 0;
    sbx_banned_set(sb, NULL);
}
