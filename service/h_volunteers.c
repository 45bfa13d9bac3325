/* service/h_volunteers: the admin's volunteers — create (one or many), list, deactivate, a new
 * one-time sign-in link with its QR code, sign a volunteer's devices out. No SQL (core/volunteers);
 * the link text is answered once and never stored, logged or kept for Idempotency-Key replays. */
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/mem.h"
#include "core/vn.h"
#include "core/volunteers.h"
#include "jobs/sheet.h"
#include "service/api.h"
#include "service/h_volunteers.h"
#include <qrencode.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An SVG of the QR code of `text`: one path of unit squares, no script, no style. */
static int qr_svg(const char *text, cs_buf *b)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) return -1;
    const int quiet = 4;
    int side = q->width + 2 * quiet;
    char tmp[200];
    snprintf(tmp, sizeof tmp,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
             "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
             "<path fill=\"#000\" d=\"",
             side, side, side, side);
    int rc = cs_buf_append(b, tmp, strlen(tmp));
    for (int y = 0; y < q->width && !rc; y++)
        for (int x = 0; x < q->width && !rc; x++)
            if (q->data[y * q->width + x] & 1) {
                int n = snprintf(tmp, sizeof tmp, "M%d %dh1v1h-1z", x + quiet, y + quiet);
                rc = cs_buf_append(b, tmp, (size_t)n);
            }
    rc |= cs_buf_append(b, "\"/></svg>", 9);
    QRcode_free(q);
    return rc ? -1 : 0;
}

/* A new link for volunteer id: {url, expires_at, qr_svg}; NULL with *rc the reply when refused. */
static json_t *new_link(svc_req *r, cs_db *db, int64_t id, int *rc)
{
    cs_error err;
    cs_error_clear(&err);
    char link[44];
    if (cs_random_token(link)) {
        *rc = svc_reply_error(r, CS_E_INTERNAL, "%s", "no randomness");
        return NULL;
    }
    unsigned char h[32];
    cs_token_hash(link, h);
    char expires[32];
    cs_actor actor = svc_audit_actor(r);
    int found =
        cs_signin_link_create(db, &actor, id, h, cs_cfg_int("volunteer.link_hours"), expires, &err);
    if (found <= 0) {
        memset(link, 0, sizeof link);
        *rc = found < 0 ? svc_reply_problem(r, &err)
                        : svc_reply_error(r, CS_E_NOT_FOUND, "%s", "volunteer");
        return NULL;
    }
    /* the page reads the link from the fragment: a fragment never reaches a server's log */
    const char *pub = cs_cfg_str("http.public_url");
    size_t pl = strlen(pub);
    while (pl && pub[pl - 1] == '/')
        pl--;
    char url[600];
    snprintf(url, sizeof url, "%.*s/#link=%s", (int)pl, pub, link);
    memset(link, 0, sizeof link);
    cs_buf b;
    cs_buf_init(&b, 1 << 20);
    json_t *o = NULL;
    if (!qr_svg(url, &b))
        o = json_pack("{s:s,s:s,s:s%}", "url", url, "expires_at", expires, "qr_svg",
                      b.data ? (const char *)b.data : "", b.len);
    cs_buf_free(&b);
    memset(url, 0, sizeof url);
    if (!o) *rc = svc_reply_error(r, CS_E_NOMEM, NULL);
    return o;
}

int svc_volunteers_create(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    const char *name = NULL, *phone = NULL;
    const json_t *communes = NULL;
    static const cs_jfield commune_item = {.type = CS_J_STRING, .min_len = 5, .max_len = 5};
    cs_jfield spec[] = {
        {.name = "name",
         .type = CS_J_STRING,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 100,
         .out = &name},
        {.name = "phone",
         .type = CS_J_STRING,
         .flags = CS_JF_EMPTY_ABSENT,
         .max_len = 20,
         .out = &phone},
        {.name = "communes",
         .type = CS_J_ARRAY,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 50,
         .items = &commune_item,
         .out = &communes},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    char ph[11] = "";
    if (phone) {
        cs_code why;
        if (vn_phone_normalize(phone, ph, &why)) {
            cs_error_field(&err, "phone", why, NULL);
            err.code = CS_E_VALIDATION;
            return svc_reply_problem(r, &err);
        }
    }
    size_t nc = json_array_size(communes);
    const char **codes = cs_calloc(nc, sizeof *codes);
    if (!codes) return svc_reply_error(r, CS_E_NOMEM, NULL);
    for (size_t i = 0; i < nc; i++)
        codes[i] = json_string_value(json_array_get(communes, i));
    cs_volunteer_new v = {.token = {.name = name,
                                    .role = "volunteer",
                                    .communes = codes,
                                    .ncommunes = nc,
                                    .commune_field = "communes"}};
    /* the token's own text is thrown away: a volunteer signs in by links only */
    char tok[44];
    if (cs_random_token(tok)) {
        cs_free(codes);
        return svc_reply_error(r, CS_E_INTERNAL, "%s", "no randomness");
    }
    cs_token_hash(tok, v.token.hash);
    memset(tok, 0, sizeof tok);
    unsigned char *sealed = NULL;
    size_t sealed_n = 0;
    if (ph[0] && cs_seal(ph, strlen(ph), CS_VOL_AAD_PHONE, &sealed, &sealed_n)) {
        cs_free(codes);
        return svc_reply_error(r, CS_E_CRYPTO, "%s", "sealing failed");
    }
    v.phone = sealed;
    v.phone_n = sealed_n;
    cs_db *db = svc_db(r, &err);
    int64_t id = 0;
    cs_actor actor = svc_audit_actor(r);
    int rc = !db || cs_volunteer_create(db, &actor, &v, &id, &err);
    cs_free(codes);
    cs_free(sealed);
    if (rc) {
        if (err.nfields && err.code != CS_E_VALIDATION) err.code = CS_E_VALIDATION;
        return svc_reply_problem(r, &err);
    }
    int reply = 0;
    json_t *link = new_link(r, db, id, &reply);
    if (!link) return reply;
    json_t *o = json_pack("{s:I,s:s,s:O,s:o}", "id", (json_int_t)id, "name", name, "communes",
                          communes, "signin", link);
    if (!o) return svc_reply_error(r, CS_E_NOMEM, NULL);
    return svc_reply_json(r, 201, o);
}

int svc_volunteers_link(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (r->json && cs_json_check(r->json, cs_jspec_empty, &err)) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "volunteer");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    int reply = 0;
    json_t *link = new_link(r, db, id, &reply);
    if (!link) return reply;
    return svc_reply_json(r, 201, link);
}

int svc_volunteers_deactivate(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (r->json && cs_json_check(r->json, cs_jspec_empty, &err)) return svc_reply_problem(r, &err);
    int64_t id = svc_api_param_id(r, "id");
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "volunteer");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor actor = svc_audit_actor(r);
    int rc = cs_volunteer_deactivate(db, &actor, id, &err);
    if (rc < 0) return svc_reply_problem(r, &err);
    if (!rc) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "volunteer");
    return svc_reply_json(r, 200,
                          json_pack("{s:I,s:s}", "id", (json_int_t)id, "state", "inactive"));
}

int svc_volunteers_sessions_delete(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    int64_t id = svc_api_param_id(r, "id");
    if (!id) return svc_reply_error(r, CS_E_NOT_FOUND, "%s", "volunteer");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor actor = svc_audit_actor(r);
    if (cs_sessions_revoke_token(db, &actor, id, &err) < 0) return svc_reply_problem(r, &err);
    return svc_reply_empty(r, 204);
}

static void add_volunteer(void *arg, const cs_volunteer_info *v)
{
    json_t *communes = json_array();
    const char *p = v->communes;
    while (p && *p) {
        size_t n = strcspn(p, ",");
        json_array_append_new(communes, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    /* the admin may see a volunteer's phone; it is unsealed only for this answer */
    json_t *phone = json_null();
    unsigned char *pt = NULL;
    size_t ptn = 0;
    if (v->phone && !cs_unseal(v->phone, v->phone_n, CS_VOL_AAD_PHONE, &pt, &ptn)) {
        json_decref(phone);
        phone = json_stringn((const char *)pt, ptn);
        cs_free_secret(pt, ptn);
    }
    json_array_append_new(
        arg, json_pack("{s:I,s:s,s:s,s:o,s:o,s:s,s:s?,s:I}", "id", (json_int_t)v->id, "name",
                       v->name, "state", v->state, "phone", phone, "communes", communes,
                       "created_at", v->created, "last_used_at",
                       v->last_used[0] ? v->last_used : NULL, "sessions", (json_int_t)v->sessions));
}

int svc_volunteers_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    /* newest first, a page at a time ("Xem thêm"): the cursor is the last id shown */
    int64_t before = 0;
    int limit = 50;
    if (svc_api_page(r, &before, &limit)) return 0;
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *items = json_array();
    if (!items) return svc_reply_error(r, CS_E_NOMEM, NULL);
    if (cs_volunteer_list_each(db, before, limit + 1, add_volunteer, items, &err)) {
        json_decref(items);
        return svc_reply_problem(r, &err);
    }
    int64_t next = 0;
    if (json_array_size(items) > (size_t)limit) {
        json_array_remove(items, (size_t)limit);
        next = (int64_t)json_integer_value(
            json_object_get(json_array_get(items, (size_t)limit - 1), "id"));
    }
    return svc_api_reply_page(r, items, next);
}

/* The column of a volunteers sheet a header names: 0 name, 1 phone, 2 communes, -1 other. The
 * template's names and the words people put in Excel. */
static int sheet_column(const char *h)
{
    static const char *const names[3][5] = {
        {"ho_ten", "Họ và tên", "Họ tên", "name", NULL},
        {"so_dien_thoai", "Số điện thoại", "SĐT", "phone", NULL},
        {"ma_xa", "Mã xã", "Mã xã/phường", "communes", NULL},
    };
    for (int k = 0; k < 3; k++)
        for (int j = 0; names[k][j]; j++)
            if (!strcasecmp(h, names[k][j])) return k;
    return -1;
}

/* Read a CSV or XLSX of volunteers (jobs/sheet: encodings, Excel's quirks, limits) into rows
 * for the page to check and create one by one; nothing is created here. */
int svc_volunteers_sheet(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!r->body || !r->body_len) return svc_reply_error(r, CS_E_IMPORT_EMPTY, "%s", "volunteers");
    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_rows = 1001; /* a province's volunteers, header included */
    sheet *s = NULL;
    if (sheet_read(r->body, r->body_len, &lim, &s, &err)) return svc_reply_problem(r, &err);
    int col[3] = {-1, -1, -1};
    size_t head = 0;
    for (unsigned c = 0; c < sheet_ncells(s, head); c++) {
        int k = sheet_column(sheet_cell(s, head, c));
        if (k >= 0 && col[k] < 0) col[k] = (int)c;
    }
    if (col[0] < 0 || col[2] < 0) {
        sheet_free(s);
        cs_error_field(&err, col[0] < 0 ? "ho_ten" : "ma_xa", CS_F_REQUIRED,
                       "columns ho_ten, ma_xa (so_dien_thoai optional) in the first row");
        return svc_reply_problem(r, &err);
    }
    json_t *rows = json_array();
    for (size_t i = head + 1; rows && i < sheet_nrows(s); i++) {
        json_t *communes = json_array();
        const char *p = sheet_cell(s, i, (unsigned)col[2]);
        while (*p) {
            p += strspn(p, " ,;\t");
            size_t n = strcspn(p, " ,;\t");
            if (n) json_array_append_new(communes, json_stringn(p, n));
            p += n;
        }
        json_array_append_new(rows, json_pack("{s:i,s:s,s:s,s:o}", "row", (int)sheet_row_no(s, i),
                                              "name", sheet_cell(s, i, (unsigned)col[0]), "phone",
                                              col[1] >= 0 ? sheet_cell(s, i, (unsigned)col[1]) : "",
                                              "communes", communes));
    }
    sheet_free(s);
    if (!rows) return svc_reply_error(r, CS_E_NOMEM, NULL);
    return svc_reply_json(r, 200, json_pack("{s:o}", "rows", rows));
}
