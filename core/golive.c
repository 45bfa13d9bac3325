/* core/golive: the going-live checks of core/golive.h. Reads configuration, file modes and the
 * database; writes nothing. */
#include "core/golive.h"
#include "core/instance.h"
#include "core/catalog.h"
#include "core/config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void cs_golive_init(cs_golive *g)
{
    memset(g, 0, sizeof *g);
}

void cs_golive_add(cs_golive *g, const char *code, const char *subject, const char *vi,
                   const char *en)
{
    if (g->n >= CS_GOLIVE_MAX) {
        g->dropped++;
        return;
    }
    cs_golive_item *it = &g->items[g->n++];
    snprintf(it->code, sizeof it->code, "%s", code);
    snprintf(it->subject, sizeof it->subject, "%s", subject ? subject : "");
    snprintf(it->vi, sizeof it->vi, "%s", vi);
    snprintf(it->en, sizeof it->en, "%s", en);
}

/* Add with a Vietnamese and an English format taking the same arguments (literal formats, so
 * the compiler checks them). */
#define addf(g, code, subject, vi, en, a1, a2)                                                     \
    do {                                                                                           \
        char v_[480], e_[480];                                                                     \
        snprintf(v_, sizeof v_, vi, a1, a2);                                                       \
        snprintf(e_, sizeof e_, en, a1, a2);                                                       \
        cs_golive_add(g, code, subject, v_, e_);                                                   \
    } while (0)

/* ---- addresses ---- */
static int ip4(const char *h, unsigned char b[4])
{
    unsigned v[4];
    char tail;
    if (sscanf(h, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4) return 0;
    for (int i = 0; i < 4; i++) {
        if (v[i] > 255) return 0;
        b[i] = (unsigned char)v[i];
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

int cs_golive_public_https(const char *url, char *why, size_t n)
{
    const char *w = NULL;
    char host[256] = "";
    if (!url || strncasecmp(url, "https://", 8)) {
        w = "http";
    } else {
        const char *h = url + 8, *end = h + strcspn(h, "/?#");
        const char *at = memchr(h, '@', (size_t)(end - h));
        if (at) h = at + 1;
        size_t len = (size_t)(end - h);
        if (*h == '[') { /* IPv6 literal: never a public name for a callback */
            w = "ip literal";
        } else {
            const char *colon = memchr(h, ':', len);
            if (colon) len = (size_t)(colon - h);
            if (!len || len >= sizeof host) {
                w = "no host";
            } else {
                memcpy(host, h, len);
                host[len] = '\0';
                unsigned char b[4];
                if (!strcasecmp(host, "localhost") || ends_with(host, ".localhost") ||
                    ends_with(host, ".local") || ends_with(host, ".test") ||
                    ends_with(host, ".internal") || ends_with(host, ".example") ||
                    ends_with(host, ".invalid") || !strchr(host, '.'))
                    w = "not a public name";
                else if (ip4(host, b))
                    w = b[0] == 127 ? "loopback"
                        : b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
                                (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) ||
                                (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] == 0
                            ? "private"
                            : NULL;
            }
        }
    }
    if (why && n) snprintf(why, n, "%s", w ? w : "");
    return w == NULL;
}

static int looks_sandbox(const char *url)
{
    if (!url) return 0;
    return strstr(url, "sandbox") || strstr(url, "test-stable") || strstr(url, "://127.") ||
           strstr(url, "://localhost");
}

/* ---- configuration ---- */
static const struct mpconf {
    const char *code, *name, *base, *auth, *id, *secret, *mode, *extra;
} mps[] = {
    {"shopee", "Shopee", "shopee.base_url", NULL, "shopee.partner_id", "shopee.partner_key",
     "shopee.mode", "shopee.logistic_id"},
    {"lazada", "Lazada", "lazada.base_url", "lazada.auth_url", "lazada.app_key",
     "lazada.app_secret", "lazada.mode", NULL},
    {"tiktok", "TikTok Shop", "tiktok.base_url", "tiktok.auth_url", "tiktok.app_key",
     "tiktok.app_secret", "tiktok.mode", NULL},
};

static void check_host(cs_golive *g, const char *key)
{
    cs_golive_check_site(g, key, cs_cfg_str(key));
}

void cs_golive_check_site(cs_golive *g, const char *key, const char *url)
{
    char why[40];
    if (looks_sandbox(url))
        addf(g, "sandbox_mode", key,
             "%s trỏ tới máy giả lập hoặc máy thử của sàn (%s), không phải sàn thật",
             "%s points at a simulator or the marketplace's test host (%s), not the real one", key,
             url);
    else if (!cs_golive_public_https(url, why, sizeof why))
        addf(g, strcmp(why, "http") ? "host_not_public" : "host_not_https", key,
             "%s phải là địa chỉ https công khai của sàn (hiện: %s)",
             "%s must be the marketplace's public https address (now: %s)", key, url);
}

static void check_secret_file(cs_golive *g, const char *key, const char *path)
{
    struct stat st;
    if (!path || !*path) return;
    if (stat(path, &st)) {
        addf(g, "credential_missing", key, "Không đọc được tệp khoá %s (%s)",
             "The key file %s cannot be read (%s)", path, key);
        return;
    }
    if (st.st_mode & 077) {
        char mode[16];
        snprintf(mode, sizeof mode, "%03o", (unsigned)(st.st_mode & 0777));
        char v[480], e[480];
        snprintf(v, sizeof v,
                 "Tệp %s (%s) để người khác đọc được (quyền %s); hãy chmod 600 và để đúng tài "
                 "khoản chạy dịch vụ sở hữu",
                 path, key, mode);
        snprintf(e, sizeof e,
                 "The file %s (%s) is readable by others (mode %s); chmod 600 and let the service "
                 "account own it",
                 path, key, mode);
        cs_golive_add(g, "credential_readable", path, v, e);
    }
}

static int listed(const char *const *l, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] && !strcmp(l[i], code)) return 1;
    return 0;
}

void cs_golive_check_config(cs_golive *g, const char *const *extra_in_use, size_t nextra)
{
    /* the address marketplaces call back (OAuth redirect, push notifications) */
    const char *pub = cs_cfg_str("http.public_url");
    char why[40];
    if (!cs_golive_public_https(pub, why, sizeof why)) {
        char v[480], e[480];
        snprintf(v, sizeof v,
                 "http.public_url (%s) phải là địa chỉ https công khai: sàn gọi lại "
                 "%s/v1/oauth/<sàn>/callback và gửi thông báo tới %s/v1/webhooks/<sàn> (%s)",
                 pub, pub, pub, why);
        snprintf(e, sizeof e,
                 "http.public_url (%s) must be a public https address: marketplaces call back "
                 "%s/v1/oauth/<marketplace>/callback and push to %s/v1/webhooks/<marketplace> (%s)",
                 pub, pub, pub, why);
        cs_golive_add(g, "callback_not_public", "http.public_url", v, e);
    }
    check_secret_file(g, "crypto.key_file", cs_cfg_str("crypto.key_file"));
    check_secret_file(g, "db.password", cs_cfg_secret_file("db.password"));
    for (size_t i = 0; i < sizeof mps / sizeof mps[0]; i++) {
        const struct mpconf *m = &mps[i];
        const char *id = cs_cfg_str(m->id), *secret = cs_cfg_str(m->secret);
        int used = (id && *id) || (secret && *secret) || listed(extra_in_use, nextra, m->code);
        if (!used) continue; /* not used here: nothing stands in its way */
        if (g->nin_use < 8) snprintf(g->in_use[g->nin_use++], sizeof g->in_use[0], "%s", m->code);
        check_host(g, m->base);
        if (m->auth) check_host(g, m->auth);
        const char *mode = cs_cfg_str(m->mode);
        if (mode && strcmp(mode, "production"))
            addf(g, "sandbox_mode", m->mode, "%s đang ở chế độ %s (thử nghiệm), chưa phải thật",
                 "%s is in %s mode (practice), not production", m->name, mode);
        if (!id || !*id)
            addf(g, "credential_missing", m->id, "Thiếu %s của %s", "%s of %s is missing", m->id,
                 m->name);
        if (!secret || !*secret)
            addf(g, "credential_missing", m->secret, "Thiếu %s (đặt %s_file = đường dẫn tệp khoá)",
                 "%s is missing (set %s_file = path of the key file)", m->secret, m->secret);
        check_secret_file(g, m->secret, cs_cfg_secret_file(m->secret));
        if (m->extra && !*cs_cfg_str(m->extra))
            addf(g, "setting_missing", m->extra,
                 "Thiếu %s: sản phẩm mới trên %s cần một kênh vận chuyển được bật",
                 "%s is missing: new items on %s need a logistics channel enabled", m->extra,
                 m->name);
    }
    /* the assisted marketplaces' sites, fetched by the link check */
    static const char *const sites[] = {"postmart.base_url", "voso.base_url"};
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++)
        check_host(g, sites[i]);
    /* issue 12: their recorded environment, and the instance itself */
    static const char *const assisted[][2] = {{"postmart", "postmart.mode"}, {"voso", "voso.mode"}};
    for (size_t i = 0; i < sizeof assisted / sizeof assisted[0]; i++)
        if (strcmp(cs_marketplace_env(assisted[i][0]), "production"))
            addf(g, "sandbox_mode", assisted[i][1],
                 "%s đang ở chế độ thử nghiệm (%s = sandbox hoặc auto với máy giả lập)",
                 "%s is in sandbox mode (%s = sandbox, or auto with a simulator address)",
                 assisted[i][0], assisted[i][1]);
    const char *kind = cs_cfg_str("instance.kind");
    if (strcmp(kind, "production"))
        addf(g, "instance_not_production", "instance.kind",
             "instance.kind = %s: đây là bản trình diễn/tập huấn, số liệu là dữ liệu mô phỏng; "
             "bản thật cần %s = production",
             "instance.kind = %s: this is a demo/training instance and its figures are simulated; "
             "a real one needs %s = production",
             kind, "instance.kind");
}

/* ---- database ---- */
// clang-format off
static const char SQL_IN_USE[] =
    "SELECT marketplace_code"
    " FROM seller_accounts"
    " WHERE state <> 'not_started'"
    " UNION"
    " SELECT marketplace_code"
    " FROM listings"
    " WHERE state <> 'draft'";
static const char SQL_ENABLED[] =
    "SELECT enabled"
    " FROM marketplaces"
    " WHERE code = ?";
static const char SQL_CATALOG[] =
    "SELECT version, fetched_from, fetched_at"
    " FROM mp_catalog_versions"
    " WHERE marketplace_code = ?"
    " ORDER BY version DESC"
    " LIMIT 1";
static const char SQL_CATEGORIES_IN_USE[] =
    "SELECT DISTINCT category"
    " FROM products"
    " WHERE status = 'active'"
    " ORDER BY category";
static const char SQL_MAPPED[] =
    "SELECT COUNT(*)"
    " FROM category_map"
    " WHERE category = ? AND marketplace_code = ?";
// clang-format on
/* columns of SQL_IN_USE */
enum { IU_CODE };
/* columns of SQL_ENABLED */
enum { EN_ENABLED };
/* columns of SQL_CATALOG */
enum { CT_VERSION, CT_FROM, CT_AT };
/* columns of SQL_CATEGORIES_IN_USE */
enum { CU_CATEGORY };

int cs_golive_in_use(cs_db *db, char in_use[8][16], size_t *n, cs_error *err)
{
    cs_rows *r = NULL;
    *n = 0;
    if (cs_db_query(db, &r, SQL_IN_USE, "", err)) return -1;
    for (size_t i = 0; i < cs_rows_count(r) && *n < 8; i++) {
        const char *c = cs_rows_str(r, i, IU_CODE);
        for (size_t k = 0; k < sizeof mps / sizeof mps[0]; k++)
            if (!strcmp(c, mps[k].code)) snprintf(in_use[(*n)++], 16, "%s", c);
    }
    cs_rows_free(r);
    return 0;
}

int cs_golive_check_db(cs_db *db, cs_golive *g, cs_error *err)
{
    cs_rows *cats = NULL;
    if (cs_db_query(db, &cats, SQL_CATEGORIES_IN_USE, "", err)) return -1;
    int rc = 0;
    for (size_t k = 0; !rc && k < g->nin_use; k++) {
        const char *mp = g->in_use[k];
        cs_rows *r = NULL;
        if (cs_db_query(db, &r, SQL_ENABLED, "s", mp, err)) {
            rc = -1;
            break;
        }
        int enabled = cs_rows_count(r) && cs_rows_i64(r, 0, EN_ENABLED);
        cs_rows_free(r);
        if (!enabled) continue;
        if (cs_db_query(db, &r, SQL_CATALOG, "s", mp, err)) {
            rc = -1;
            break;
        }
        if (!cs_rows_count(r)) {
            addf(g, "catalog_not_fetched", mp,
                 "Chưa tải cây danh mục của %s: mã danh mục trong category_map.csv là mã của "
                 "máy giả lập; hãy chạy việc catalog.refresh (worker) rồi gán danh mục ở trang "
                 "Danh mục sàn%s",
                 "The category tree of %s was never fetched: the ids in category_map.csv are "
                 "simulator ids; run the catalog.refresh job (worker), then map categories on the "
                 "marketplace categories page%s",
                 mp, "");
        } else if (looks_sandbox(cs_rows_str(r, 0, CT_FROM))) {
            addf(g, "sandbox_mode", mp,
                 "Cây danh mục của %s được tải từ máy giả lập (%s); hãy tải lại từ sàn thật",
                 "The category tree of %s came from a simulator (%s); fetch it again from the "
                 "real marketplace",
                 mp, cs_rows_str(r, 0, CT_FROM));
        }
        cs_rows_free(r);
        for (size_t i = 0; i < cs_rows_count(cats); i++) {
            const char *cat = cs_rows_str(cats, i, CU_CATEGORY);
            char subject[120];
            snprintf(subject, sizeof subject, "%s → %s", cat, mp);
            int64_t mapped = 0;
            if (cs_db_scalar_i64(db, &mapped, SQL_MAPPED, "ss", cat, mp, err) < 0) {
                rc = -1;
                break;
            }
            if (!mapped) {
                addf(g, "category_unmapped", subject,
                     "Ngành hàng %s có sản phẩm nhưng chưa được gán danh mục trên %s",
                     "Category %s has products but is not mapped to a category on %s", cat, mp);
                continue;
            }
            cs_error fe;
            cs_error_clear(&fe);
            if (cs_catalog_check(db, cat, mp, &fe)) {
                *err = fe;
                rc = -1;
                break;
            }
            for (size_t f = 0; f < fe.nfields; f++) {
                int leaf = fe.fields[f].code == CS_F_CATEGORY_NOT_LEAF;
                char v[480], e[480];
                snprintf(v, sizeof v, "%s: %s — %s", subject,
                         cs_code_message(fe.fields[f].code, CS_LANG_VI), fe.fields[f].detail);
                snprintf(e, sizeof e, "%s: %s — %s", subject,
                         cs_code_message(fe.fields[f].code, CS_LANG_EN), fe.fields[f].detail);
                cs_golive_add(g, leaf ? "category_not_leaf" : "attribute_missing", subject, v, e);
            }
        }
    }
    cs_rows_free(cats);
    return rc;
}
