/* core/households: validation, sealing, de-duplication and persistence of households.
 * Knows nothing of HTTP; every personal value is sealed before it reaches SQL. */
#include "core/households.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonv.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/targets.h"
#include <pthread.h>
#include <stdint.h>
#include <semaphore.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const hh_keys[] = {"owner_name", "cccd", "phone", "birth_date", "commune_code",
                                      "address", "business_name", "business_reg_no", "tax_code",
                                      "has_epayment", "consent", "consent_version", NULL};

#define AAD_CCCD "households.cccd"
#define AAD_PHONE "households.phone"
#define AAD_BIRTH "households.birth_date"
#define AAD_ADDRESS "households.address"

void cs_household_norm_free(cs_household_norm *n)
{
    if (!n) return;
    cs_free(n->owner_name);
    cs_free(n->name_folded);
    if (n->address) cs_free_secret(n->address, strlen(n->address));
    cs_free(n->business_name);
    cs_free(n->business_reg_no);
    cs_free(n->tax_code);
    memset(n, 0, sizeof *n);
}

/* Clean free text into *dst; enforce code-point length bounds. Returns 0 or -1 (field error). */
static int text_field(const char *key, char *raw, long minlen, long maxlen, char **dst,
                      cs_error *err)
{
    cs_code why = CS_OK;
    char *c = vn_text_clean(raw, &why);
    if (!c) return cs_error_field(err, key, why == CS_E_NOMEM ? CS_E_NOMEM : CS_F_UTF8, NULL);
    long len = vn_utf8_len(c);
    char d[32];
    if (len < minlen) {
        snprintf(d, sizeof d, "min %ld", minlen);
        cs_free(c);
        return cs_error_field(err, key, minlen == 1 ? CS_F_REQUIRED : CS_F_TOO_SHORT, d);
    }
    if (len > maxlen) {
        snprintf(d, sizeof d, "max %ld", maxlen);
        cs_free(c);
        return cs_error_field(err, key, CS_F_TOO_LONG, d);
    }
    *dst = c;
    return 0;
}

static int all_chars(const char *s, const char *set)
{
    for (; *s; s++)
        if (!strchr(set, *s)) return 0;
    return 1;
}

int cs_household_validate(json_t *in, int partial, cs_household_norm *n, cs_error *err)
{
    memset(n, 0, sizeof *n);
    if (!json_is_object(in)) return cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
    size_t before = err->nfields;
    cs_jv_only(in, hh_keys, err);
    char *raw = NULL;
    int r;

    if ((r = cs_jv_text(in, "owner_name", 0, &raw, err)) == 1) {
        n->present |= CS_HF_OWNER_NAME;
        if (!text_field("owner_name", raw, 2, 100, &n->owner_name, err)) {
            n->name_folded = vn_fold(n->owner_name);
            if (!n->name_folded) cs_error_set(err, CS_E_NOMEM, NULL);
            else if (strpbrk(n->owner_name, "0123456789<>{}[]@#$%^*=\\|"))
                cs_error_field(err, "owner_name", CS_F_FORMAT, "letters only");
        }
    } else if (r == 0) {
        cs_error_field(err, "owner_name", CS_F_REQUIRED, NULL);
    }
    cs_free(raw), raw = NULL;

    /* birth date before CCCD: the CCCD's digits 4–6 are checked against it */
    if ((r = cs_jv_text(in, "birth_date", 1, &raw, err)) == 1) {
        n->present |= CS_HF_BIRTH;
        cs_code why;
        if (vn_date_parse(raw, 1, &n->birth, &why)) {
            cs_error_field(err, "birth_date", why, NULL);
            n->birth.y = 0;
        } else {
            vn_date today = vn_today();
            int age = vn_age_on(n->birth, today);
            if (n->birth.y * 10000 + n->birth.m * 100 + n->birth.d >
                today.y * 10000 + today.m * 100 + today.d) {
                cs_error_field(err, "birth_date", CS_F_DATE_FUTURE, NULL);
                n->birth.y = 0;
            } else if (age < cs_cfg_int("owner.min_age") || age > 120) {
                char d[48];
                snprintf(d, sizeof d, "min %ld", cs_cfg_int("owner.min_age"));
                cs_error_field(err, "birth_date", CS_F_AGE, d);
            }
            n->owner_age = age;
            n->youth_led = age >= cs_cfg_int("youth.min_age") && age <= cs_cfg_int("youth.max_age");
        }
    } else if (r == 0) {
        cs_error_field(err, "birth_date", CS_F_REQUIRED, NULL);
    }
    cs_free(raw), raw = NULL;

    if ((r = cs_jv_text(in, "cccd", 0, &raw, err)) == 1) {
        n->present |= CS_HF_CCCD;
        cs_code why;
        if (vn_cccd_normalize(raw, n->birth.y, n->cccd, &why)) cs_error_field(err, "cccd", why, NULL);
    } else if (r == 0) {
        cs_error_field(err, "cccd", CS_F_REQUIRED, NULL);
    }
    if (raw) cs_free_secret(raw, strlen(raw)), raw = NULL;

    if ((r = cs_jv_text(in, "phone", 0, &raw, err)) == 1) {
        n->present |= CS_HF_PHONE;
        cs_code why;
        if (vn_phone_normalize(raw, n->phone, &why)) cs_error_field(err, "phone", why, NULL);
    } else if (r == 0) {
        cs_error_field(err, "phone", CS_F_REQUIRED, NULL);
    }
    if (raw) cs_free_secret(raw, strlen(raw)), raw = NULL;

    if ((r = cs_jv_text(in, "commune_code", 1, &raw, err)) == 1) {
        n->present |= CS_HF_COMMUNE;
        char *c = vn_text_clean(raw, NULL);
        if (!c || strlen(c) != 5 || !all_chars(c, "0123456789"))
            cs_error_field(err, "commune_code", CS_F_COMMUNE, NULL);
        else
            memcpy(n->commune_code, c, 6);
        cs_free(c);
    } else if (r == 0) {
        cs_error_field(err, "commune_code", CS_F_REQUIRED, NULL);
    }
    cs_free(raw), raw = NULL;

    if ((r = cs_jv_text(in, "address", 0, &raw, err)) == 1) {
        n->present |= CS_HF_ADDRESS;
        if (*raw) text_field("address", raw, 1, 300, &n->address, err);
    }
    if (raw) cs_free_secret(raw, strlen(raw)), raw = NULL;

    if ((r = cs_jv_text(in, "business_name", 0, &raw, err)) == 1) {
        n->present |= CS_HF_BUSINESS;
        if (*raw) text_field("business_name", raw, 1, 200, &n->business_name, err);
    }
    cs_free(raw), raw = NULL;

    if ((r = cs_jv_text(in, "business_reg_no", 1, &raw, err)) == 1) {
        n->present |= CS_HF_REGNO;
        char *c = vn_text_clean(raw, NULL);
        if (c && *c) {
            if (strlen(c) > 32 || !all_chars(c, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/-."))
                cs_error_field(err, "business_reg_no", CS_F_FORMAT, NULL);
            else
                n->business_reg_no = c, c = NULL;
        }
        cs_free(c);
    }
    cs_free(raw), raw = NULL;

    if ((r = cs_jv_text(in, "tax_code", 1, &raw, err)) == 1) {
        n->present |= CS_HF_TAX;
        char *c = vn_text_clean(raw, NULL);
        if (c && *c) {
            size_t l = strlen(c);
            /* 10 digits, 10-3 for a branch, or (since 2025) the 12-digit personal ID number */
            int ok = (l == 10 || l == 12) ? all_chars(c, "0123456789")
                     : l == 14             ? (c[10] == '-' && all_chars(c + 11, "0123456789") &&
                                  strspn(c, "0123456789") == 10)
                                           : 0;
            if (!ok) cs_error_field(err, "tax_code", CS_F_FORMAT, "0123456789 | 0123456789-001");
            else n->tax_code = c, c = NULL;
        }
        cs_free(c);
    }
    cs_free(raw), raw = NULL;

    int b;
    if ((r = cs_jv_bool(in, "has_epayment", &b, err)) == 1) n->present |= CS_HF_EPAY, n->has_epayment = b;

    r = cs_jv_bool(in, "consent", &b, err);
    if (r == 1) n->present |= CS_HF_CONSENT;
    if (r >= 0 && (r == 1 ? !b : !partial)) cs_error_field(err, "consent", CS_F_CONSENT, NULL);
    else if (r == 1) n->consent = 1;

    if ((r = cs_jv_text(in, "consent_version", 0, &raw, err)) == 1) {
        n->present |= CS_HF_CONSENT_VER;
        if (!*raw || strlen(raw) > 20) cs_error_field(err, "consent_version", CS_F_FORMAT, "max 20");
        else snprintf(n->consent_version, sizeof n->consent_version, "%s", raw);
    }
    cs_free(raw), raw = NULL;
    if (!n->consent_version[0])
        snprintf(n->consent_version, sizeof n->consent_version, "%s", cs_cfg_str("consent.version"));

    if (err->nfields > before || err->code != CS_OK) {
        if (err->code == CS_OK) err->code = CS_E_VALIDATION;
        cs_household_norm_free(n);
        return -1;
    }
    return 0;
}

int cs_household_content_hash(const cs_household_norm *n, unsigned char out[32])
{
    char date[11];
    vn_date_iso(n->birth, date);
    size_t cap = 2048;
    char *s = cs_malloc(cap);
    if (!s) return -1;
    snprintf(s, cap, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%d", n->owner_name ? n->owner_name : "",
             n->cccd, n->phone, date, n->commune_code, n->address ? n->address : "",
             n->business_name ? n->business_name : "", n->business_reg_no ? n->business_reg_no : "",
             n->tax_code ? n->tax_code : "", n->has_epayment);
    int rc = cs_blind_index("household-content", s, out);
    cs_free_secret(s, cap);
    return rc;
}

/* Sealed copies of the four personal fields. */
typedef struct sealed {
    unsigned char *cccd, *phone, *birth, *address;
    size_t cccd_n, phone_n, birth_n, address_n;
    unsigned char cccd_bidx[32], phone_bidx[32];
} sealed;

static void sealed_free(sealed *s)
{
    cs_free(s->cccd);
    cs_free(s->phone);
    cs_free(s->birth);
    cs_free(s->address);
    memset(s, 0, sizeof *s);
}

static int seal_all(const cs_household_norm *n, sealed *s, cs_error *err)
{
    memset(s, 0, sizeof *s);
    char date[11];
    vn_date_iso(n->birth, date);
    if (cs_seal(n->cccd, strlen(n->cccd), AAD_CCCD, &s->cccd, &s->cccd_n) ||
        cs_seal(n->phone, strlen(n->phone), AAD_PHONE, &s->phone, &s->phone_n) ||
        cs_seal(date, strlen(date), AAD_BIRTH, &s->birth, &s->birth_n) ||
        (n->address && cs_seal(n->address, strlen(n->address), AAD_ADDRESS, &s->address, &s->address_n)) ||
        cs_blind_index("cccd", n->cccd, s->cccd_bidx) || cs_blind_index("phone", n->phone, s->phone_bidx)) {
        sealed_free(s);
        return cs_error_set(err, CS_E_CRYPTO, "sealing failed");
    }
    return 0;
}

static int commune_exists(cs_db *db, const char *code, cs_error *err)
{
    int64_t one;
    int r = cs_db_scalar_i64(db, &one, "SELECT 1 FROM admin_units WHERE code = ?", "s", code, err);
    if (r < 0) return -1;
    if (r == 1) return cs_error_field(err, "commune_code", CS_F_COMMUNE, NULL);
    return 0;
}

/* Next public code of this year, inside the caller's transaction (the row stays locked until
 * commit, so concurrent registrations queue here instead of colliding). */
static int next_code(cs_db *db, int year, char out[24], cs_error *err)
{
    if (cs_db_exec(db,
                   "INSERT INTO household_codes (year, last) VALUES (?, 1)"
                   " ON DUPLICATE KEY UPDATE last = last + 1",
                   "i", (int64_t)year, err) < 0)
        return -1;
    int64_t last;
    if (cs_db_scalar_i64(db, &last, "SELECT last FROM household_codes WHERE year = ?", "i",
                         (int64_t)year, err))
        return cs_error_set(err, err->code == CS_OK ? CS_E_DB : err->code, "household code sequence");
    snprintf(out, 24, "TH-%04d-%05lld", year, (long long)last);
    return 0;
}

static json_t *field_names(unsigned present)
{
    static const char *names[] = {"owner_name", "cccd", "phone", "birth_date", "commune_code",
                                  "address", "business_name", "business_reg_no", "tax_code",
                                  "has_epayment", "consent", "consent_version"};
    json_t *a = json_array();
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (present & (1u << i)) json_array_append_new(a, json_string(names[i]));
    return a;
}

int cs_household_insert(cs_db *db, const cs_actor *a, const cs_household_norm *n, int issue_pin,
                        int64_t import_id, cs_household_result *res, cs_error *err)
{
    memset(res, 0, sizeof *res);
    if (commune_exists(db, n->commune_code, err)) return -1;
    sealed s;
    if (seal_all(n, &s, err)) return -1;
    int rc = -1;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, "SELECT code FROM households WHERE cccd_bidx = ?", "b", s.cccd_bidx,
                    (size_t)32, err))
        goto out;
    if (cs_rows_count(rows)) {
        snprintf(err->existing, sizeof err->existing, "%s", cs_rows_str(rows, 0, 0));
        cs_error_set(err, CS_E_DUPLICATE_HOUSEHOLD, NULL);
        cs_error_field(err, "cccd", CS_E_DUPLICATE_HOUSEHOLD, NULL);
        err->code = CS_E_DUPLICATE_HOUSEHOLD;
        goto out;
    }
    unsigned char hash[32];
    if (cs_household_content_hash(n, hash)) {
        cs_error_set(err, CS_E_CRYPTO, NULL);
        goto out;
    }
    vn_date today = vn_today();
    if (next_code(db, today.y, res->code, err)) goto out;
    char pin_hash[160] = "";
    if (issue_pin) {
        if (cs_random_pin(res->pin, 6) || cs_pin_hash(res->pin, pin_hash, sizeof pin_hash)) {
            cs_error_set(err, CS_E_CRYPTO, "pin");
            goto out;
        }
    }
    char by[48];
    cs_actor_tag(a, by, sizeof by);
    if (cs_db_exec(db,
                   "INSERT INTO households (code, owner_name, name_folded, business_name, commune_code,"
                   " cccd_sealed, cccd_bidx, phone_sealed, phone_bidx, birth_date_sealed, address_sealed,"
                   " owner_age, youth_led, business_reg_no, tax_code, has_epayment, consent_at,"
                   " consent_version, consent_by, pin_hash, content_hash, registered_by, import_id)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,UTC_TIMESTAMP(),?,?,?,?,?,NULLIF(?,0))",
                   "sssssbbbbbbiississsbsi", res->code, n->owner_name, n->name_folded,
                   n->business_name, n->commune_code, s.cccd, s.cccd_n, s.cccd_bidx, (size_t)32,
                   s.phone, s.phone_n, s.phone_bidx, (size_t)32, s.birth, s.birth_n, s.address,
                   s.address_n, (int64_t)n->owner_age, (int64_t)n->youth_led, n->business_reg_no,
                   n->tax_code, (int64_t)n->has_epayment, n->consent_version, by,
                   issue_pin ? pin_hash : NULL, hash, (size_t)32, by, import_id, err) < 0) {
        if (err->code == CS_E_CONFLICT && strstr(err->detail, "cccd")) {
            cs_error_set(err, CS_E_DUPLICATE_HOUSEHOLD, NULL);
            cs_error_field(err, "cccd", CS_E_DUPLICATE_HOUSEHOLD, NULL);
        }
        goto out;
    }
    res->id = (int64_t)cs_db_insert_id(db);
    res->version = 1;
    res->outcome = CS_HH_CREATED;
    if (cs_audit(db, a, "household.create", "household", res->code,
                 json_pack("{s:o,s:b,s:I}", "fields", field_names(n->present), "pin_issued",
                           issue_pin, "import_id", (json_int_t)import_id),
                 err))
        goto out;
    rc = 0;
out:
    cs_rows_free(rows);
    sealed_free(&s);
    return rc;
}

struct create_ctx {
    const cs_actor *a;
    cs_household_norm *n;
    cs_household_result *res;
};

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct create_ctx *c = arg;
    return cs_household_insert(db, c->a, c->n, 1, 0, c->res, err);
}

int cs_household_create(cs_db *db, const cs_actor *a, json_t *in, cs_household_result *res,
                        cs_error *err)
{
    cs_household_norm n;
    if (cs_household_validate(in, 0, &n, err)) return -1;
    struct create_ctx c = {a, &n, res};
    int rc = cs_db_tx(db, create_tx, &c, err);
    if (rc && err->code == CS_E_DUPLICATE_HOUSEHOLD && !err->existing[0]) {
        /* lost a race with a concurrent registration of the same person: name the winner */
        unsigned char bidx[32];
        cs_rows *rows = NULL;
        cs_error e2;
        cs_error_clear(&e2);
        if (!cs_blind_index("cccd", n.cccd, bidx) &&
            !cs_db_query(db, &rows, "SELECT code FROM households WHERE cccd_bidx = ?", "b", bidx,
                         (size_t)32, &e2) &&
            cs_rows_count(rows))
            snprintf(err->existing, sizeof err->existing, "%s", cs_rows_str(rows, 0, 0));
        cs_rows_free(rows);
    }
    if (rc) memset(res->pin, 0, sizeof res->pin);
    cs_household_norm_free(&n);
    return rc;
}

/* Write every field of `n` over household `id` and bump the version. */
static int write_all(cs_db *db, int64_t id, const cs_household_norm *n, const unsigned char hash[32],
                     int consent_now, cs_error *err)
{
    sealed s;
    /* the youth flag and the commune are what the targets count by: a correction of either
       moves the household's (and its products') counts with it (core/targets.h) */
    int64_t moved = 0;
    if (cs_db_scalar_i64(db, &moved, "SELECT youth_led <> ? OR commune_code <> ? FROM households WHERE id = ?",
                         "isi", (int64_t)n->youth_led, n->commune_code, id, err) < 0 ||
        (moved && cs_targets_refile_household(db, id, -1, err)))
        return -1;
    if (seal_all(n, &s, err)) return -1;
    int64_t r = cs_db_exec(
        db,
        "UPDATE households SET owner_name=?, name_folded=?, business_name=?, commune_code=?,"
        " cccd_sealed=?, cccd_bidx=?, phone_sealed=?, phone_bidx=?, birth_date_sealed=?,"
        " address_sealed=?, owner_age=?, youth_led=?, business_reg_no=?, tax_code=?, has_epayment=?,"
        " content_hash=?, consent_at = IF(?, UTC_TIMESTAMP(), consent_at),"
        " consent_version = IF(?, ?, consent_version), version = version + 1 WHERE id = ?",
        "ssssbbbbbbiissibiisi", n->owner_name, n->name_folded, n->business_name, n->commune_code,
        s.cccd, s.cccd_n, s.cccd_bidx, (size_t)32, s.phone, s.phone_n, s.phone_bidx, (size_t)32,
        s.birth, s.birth_n, s.address, s.address_n, (int64_t)n->owner_age, (int64_t)n->youth_led,
        n->business_reg_no, n->tax_code, (int64_t)n->has_epayment, hash, (size_t)32,
        (int64_t)consent_now, (int64_t)consent_now, n->consent_version, id, err);
    sealed_free(&s);
    if (r < 0 && err->code == CS_E_CONFLICT && strstr(err->detail, "cccd")) {
        cs_error_set(err, CS_E_DUPLICATE_HOUSEHOLD, NULL);
        cs_error_field(err, "cccd", CS_E_DUPLICATE_HOUSEHOLD, NULL);
    }
    if (r >= 0 && moved && cs_targets_refile_household(db, id, 1, err)) return -1;
    return r < 0 ? -1 : 0;
}

int cs_household_upsert(cs_db *db, const cs_actor *a, const cs_household_norm *n,
                        int64_t import_id, cs_household_result *res, cs_error *err)
{
    unsigned char bidx[32], hash[32];
    if (cs_blind_index("cccd", n->cccd, bidx) || cs_household_content_hash(n, hash))
        return cs_error_set(err, CS_E_CRYPTO, NULL);
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows,
                    "SELECT id, code, version, content_hash FROM households WHERE cccd_bidx = ? FOR UPDATE",
                    "b", bidx, (size_t)32, err))
        return -1;
    if (!cs_rows_count(rows)) {
        cs_rows_free(rows);
        return cs_household_insert(db, a, n, 0, import_id, res, err);
    }
    memset(res, 0, sizeof *res);
    res->id = cs_rows_i64(rows, 0, 0);
    snprintf(res->code, sizeof res->code, "%s", cs_rows_str(rows, 0, 1));
    res->version = (unsigned)cs_rows_i64(rows, 0, 2);
    size_t hl;
    const void *old = cs_rows_blob(rows, 0, 3, &hl);
    int same = hl == 32 && !memcmp(old, hash, 32);
    cs_rows_free(rows);
    if (same) {
        res->outcome = CS_HH_UNCHANGED;
        return 0;
    }
    if (commune_exists(db, n->commune_code, err) || write_all(db, res->id, n, hash, 0, err)) return -1;
    res->version++;
    res->outcome = CS_HH_UPDATED;
    return cs_audit(db, a, "household.update", "household", res->code,
                    json_pack("{s:o,s:I}", "fields", field_names(n->present), "import_id",
                              (json_int_t)import_id),
                    err);
}

/* Unseal one column of a fetched row into a NUL-terminated string (caller frees with
 * cs_free_secret) or NULL when the column is NULL. */
static char *unseal_col(const cs_rows *rows, size_t row, unsigned col, const char *aad, cs_error *err)
{
    size_t n;
    const void *p = cs_rows_blob(rows, row, col, &n);
    if (!p || cs_rows_isnull(rows, row, col)) return NULL;
    unsigned char *out = NULL;
    size_t outn;
    if (cs_unseal(p, n, aad, &out, &outn)) {
        cs_error_set(err, CS_E_DECRYPT, "%s", aad);
        return NULL;
    }
    return (char *)out;
}

struct update_ctx {
    const cs_actor *a;
    const char *code;
    unsigned expected;
    json_t *patch;
    cs_household_result *res;
};

static int update_tx(cs_db *db, void *arg, cs_error *err)
{
    struct update_ctx *u = arg;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows,
                    "SELECT id, version, status, owner_name, cccd_sealed, phone_sealed,"
                    " birth_date_sealed, address_sealed, business_name, commune_code,"
                    " business_reg_no, tax_code, has_epayment, content_hash, consent_version"
                    " FROM households WHERE code = ? FOR UPDATE",
                    "s", u->code, err))
        return -1;
    if (!cs_rows_count(rows)) {
        cs_rows_free(rows);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    int rc = -1;
    char *cccd = NULL, *phone = NULL, *birth = NULL, *addr = NULL;
    json_t *full = NULL;
    cs_household_norm n;
    memset(&n, 0, sizeof n);
    if (!strcmp(cs_rows_str(rows, 0, 2), "erased")) {
        cs_error_set(err, CS_E_GONE, NULL);
        goto out;
    }
    unsigned version = (unsigned)cs_rows_i64(rows, 0, 1);
    if (version != u->expected) {
        cs_error_set(err, CS_E_PRECONDITION, "current version %u", version);
        goto out;
    }
    cccd = unseal_col(rows, 0, 4, AAD_CCCD, err);
    phone = unseal_col(rows, 0, 5, AAD_PHONE, err);
    birth = unseal_col(rows, 0, 6, AAD_BIRTH, err);
    addr = unseal_col(rows, 0, 7, AAD_ADDRESS, err);
    if (err->code != CS_OK) goto out;
    /* the stored record, then the patch over it: validated as a whole */
    full = json_pack("{s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:s?,s:s?,s:b}", "owner_name",
                     cs_rows_str(rows, 0, 3), "cccd", cccd, "phone", phone, "birth_date", birth,
                     "commune_code", cs_rows_str(rows, 0, 9), "address", addr, "business_name",
                     cs_rows_strn(rows, 0, 8), "business_reg_no", cs_rows_strn(rows, 0, 10),
                     "tax_code", cs_rows_strn(rows, 0, 11), "has_epayment",
                     (int)cs_rows_i64(rows, 0, 12));
    if (!full) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    json_object_set_new(full, "consent_version", json_string(cs_rows_str(rows, 0, 14)));
    if (!json_is_object(u->patch)) {
        cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
        goto out;
    }
    if (cs_jv_only(u->patch, hh_keys, err)) goto out;
    json_object_update(full, u->patch);
    if (!json_object_get(u->patch, "consent")) json_object_del(full, "consent");
    if (cs_household_validate(full, 1, &n, err)) goto out;
    n.present = 0;
    const char *k;
    json_t *v;
    json_object_foreach(u->patch, k, v)
    {
        for (unsigned i = 0; hh_keys[i]; i++)
            if (!strcmp(hh_keys[i], k)) n.present |= 1u << i;
    }
    unsigned char hash[32];
    if (cs_household_content_hash(&n, hash)) {
        cs_error_set(err, CS_E_CRYPTO, NULL);
        goto out;
    }
    size_t hl;
    const void *old = cs_rows_blob(rows, 0, 13, &hl);
    u->res->id = cs_rows_i64(rows, 0, 0);
    snprintf(u->res->code, sizeof u->res->code, "%s", u->code);
    u->res->version = version;
    if (hl == 32 && !memcmp(old, hash, 32) && !n.consent) {
        u->res->outcome = CS_HH_UNCHANGED;
        rc = 0;
        goto out;
    }
    if (commune_exists(db, n.commune_code, err) || write_all(db, u->res->id, &n, hash, n.consent, err))
        goto out;
    u->res->version = version + 1;
    u->res->outcome = CS_HH_UPDATED;
    rc = cs_audit(db, u->a, "household.update", "household", u->code,
                  json_pack("{s:o}", "fields", field_names(n.present)), err);
out:
    cs_household_norm_free(&n);
    json_decref(full);
    if (cccd) cs_free_secret(cccd, strlen(cccd));
    if (phone) cs_free_secret(phone, strlen(phone));
    if (birth) cs_free_secret(birth, strlen(birth));
    if (addr) cs_free_secret(addr, strlen(addr));
    cs_rows_free(rows);
    return rc;
}

int cs_household_update(cs_db *db, const cs_actor *a, const char *code, unsigned expected_version,
                        json_t *patch, cs_household_result *res, cs_error *err)
{
    memset(res, 0, sizeof *res);
    struct update_ctx u = {a, code, expected_version, patch, res};
    return cs_db_tx(db, update_tx, &u, err);
}

#define HH_COLS                                                                                    \
    "h.id, h.code, h.owner_name, h.business_name, h.commune_code, u.name, u.primary_district_code," \
    " d.name, h.status, h.youth_led, h.owner_age, h.has_epayment, h.business_reg_no, h.tax_code,"   \
    " DATE_FORMAT(h.consent_at, '%Y-%m-%dT%H:%i:%sZ'), h.consent_version,"                         \
    " DATE_FORMAT(h.created_at, '%Y-%m-%dT%H:%i:%sZ'), DATE_FORMAT(h.updated_at, '%Y-%m-%dT%H:%i:%sZ'),"\
    " DATE_FORMAT(h.onboarded_at, '%Y-%m-%dT%H:%i:%sZ'), h.version, h.pin_hash IS NOT NULL,"       \
    " h.cccd_sealed, h.phone_sealed, h.birth_date_sealed, h.address_sealed"
#define HH_FROM                                                                                    \
    " FROM households h JOIN admin_units u ON u.code = h.commune_code"                             \
    " JOIN admin_districts d ON d.code = u.primary_district_code"

static json_t *row_json(const cs_rows *r, size_t i, cs_pii pii, cs_error *err)
{
    int erased = !strcmp(cs_rows_str(r, i, 8), "erased");
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:b,s:I,s:b}", "code",
                          cs_rows_str(r, i, 1), "commune_code", cs_rows_str(r, i, 4), "commune",
                          "code", cs_rows_str(r, i, 4), "name", cs_rows_str(r, i, 5),
                          "former_district", "code", cs_rows_str(r, i, 6), "name",
                          cs_rows_str(r, i, 7), "status", cs_rows_str(r, i, 8), "youth_led",
                          (int)cs_rows_i64(r, i, 9), "owner_age", (json_int_t)cs_rows_i64(r, i, 10),
                          "pin_set", (int)cs_rows_i64(r, i, 20));
    if (!o) return NULL;
    json_object_set_new(o, "registered_at", json_string(cs_rows_str(r, i, 16)));
    json_object_set_new(o, "updated_at", json_string(cs_rows_str(r, i, 17)));
    json_object_set_new(o, "onboarded_at", cs_rows_strn(r, i, 18) ? json_string(cs_rows_str(r, i, 18)) : json_null());
    json_object_set_new(o, "version", json_integer(cs_rows_i64(r, i, 19)));
    if (erased) return o;
    json_object_set_new(o, "owner_name", json_string(cs_rows_str(r, i, 2)));
    json_object_set_new(o, "business_name", cs_rows_strn(r, i, 3) ? json_string(cs_rows_str(r, i, 3)) : json_null());
    json_object_set_new(o, "has_epayment", json_boolean(cs_rows_i64(r, i, 11)));
    json_object_set_new(o, "business_reg_no", cs_rows_strn(r, i, 12) ? json_string(cs_rows_str(r, i, 12)) : json_null());
    json_object_set_new(o, "tax_code", cs_rows_strn(r, i, 13) ? json_string(cs_rows_str(r, i, 13)) : json_null());
    json_object_set_new(o, "consent", json_pack("{s:s,s:s}", "at", cs_rows_str(r, i, 14), "version",
                                                cs_rows_str(r, i, 15)));
    if (pii == CS_PII_NONE) return o;
    static const char *keys[] = {"cccd", "phone", "birth_date", "address"};
    static const char *aads[] = {AAD_CCCD, AAD_PHONE, AAD_BIRTH, AAD_ADDRESS};
    for (unsigned k = 0; k < 4; k++) {
        char *plain = unseal_col(r, i, 21 + k, aads[k], err);
        if (!plain) {
            if (err->code != CS_OK) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, keys[k], json_null());
            continue;
        }
        if (pii == CS_PII_FULL) {
            if (k == 2) { /* stored ISO; shown as people write it */
                char d[16];
                snprintf(d, sizeof d, "%.2s/%.2s/%.4s", plain + 8, plain + 5, plain);
                json_object_set_new(o, keys[k], json_string(d));
            } else {
                json_object_set_new(o, keys[k], json_string(plain));
            }
        } else if (k < 2) {
            char m[32];
            vn_mask(plain, m, sizeof m);
            json_object_set_new(o, keys[k], json_string(m));
        } else if (k == 2) {
            char d[16];
            snprintf(d, sizeof d, "**/**/%.4s", plain);
            json_object_set_new(o, keys[k], json_string(d));
        } else {
            json_object_set_new(o, keys[k], json_string("***"));
        }
        cs_free_secret(plain, strlen(plain));
    }
    return o;
}

int cs_household_get(cs_db *db, const char *code, cs_pii pii, json_t **out, char commune_out[6],
                     cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, "SELECT " HH_COLS HH_FROM " WHERE h.code = ?", "s", code, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (commune_out) snprintf(commune_out, 6, "%s", cs_rows_str(r, 0, 4));
    *out = row_json(r, 0, pii, err);
    cs_rows_free(r);
    if (!*out) return err->code == CS_OK ? cs_error_set(err, CS_E_NOMEM, NULL) : -1;
    return 0;
}

int cs_household_lookup(cs_db *db, const char *code, int64_t *id, char commune_out[6], int *erased,
                        cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, "SELECT id, commune_code, status FROM households WHERE code = ?", "s",
                    code, err))
        return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (id) *id = cs_rows_i64(r, 0, 0);
    if (commune_out) snprintf(commune_out, 6, "%s", cs_rows_str(r, 0, 1));
    if (erased) *erased = !strcmp(cs_rows_str(r, 0, 2), "erased");
    cs_rows_free(r);
    return 0;
}

/* Escape LIKE wildcards in folded text. */
static char *like_pattern(const char *folded)
{
    size_t n = strlen(folded);
    char *p = cs_malloc(2 * n + 3);
    if (!p) return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (folded[i] == '%' || folded[i] == '_' || folded[i] == '\\') p[j++] = '\\';
        p[j++] = folded[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

int cs_household_list(cs_db *db, const cs_household_filter *f, cs_pii pii, json_t **out,
                      int64_t *next_cursor, cs_error *err)
{
    *out = NULL;
    *next_cursor = 0;
    unsigned char pb[32], cb[32];
    const unsigned char *phone_b = NULL, *cccd_b = NULL;
    if (f->phone) {
        char canon[11];
        cs_code why;
        if (vn_phone_normalize(f->phone, canon, &why)) return cs_error_field(err, "phone", why, NULL);
        if (cs_blind_index("phone", canon, pb)) return cs_error_set(err, CS_E_CRYPTO, NULL);
        phone_b = pb;
    }
    if (f->cccd) {
        char canon[13];
        cs_code why;
        if (vn_cccd_normalize(f->cccd, 0, canon, &why)) return cs_error_field(err, "cccd", why, NULL);
        if (cs_blind_index("cccd", canon, cb)) return cs_error_set(err, CS_E_CRYPTO, NULL);
        cccd_b = cb;
    }
    if (f->status && strcmp(f->status, "registered") && strcmp(f->status, "onboarding") &&
        strcmp(f->status, "onboarded") && strcmp(f->status, "erased"))
        return cs_error_field(err, "status", CS_F_ENUM, "registered|onboarding|onboarded|erased");
    char *scope = NULL, *like = NULL;
    if (f->communes) {
        cs_buf b;
        cs_buf_init(&b, 1 << 16);
        for (size_t i = 0; i < f->ncommunes; i++)
            if (cs_buf_printf(&b, "%s%s", i ? "," : "", f->communes[i])) break;
        scope = cs_buf_steal(&b);
        if (!scope) return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    if (f->q && *f->q) {
        char *folded = vn_fold(f->q);
        if (!folded) {
            cs_free(scope);
            return cs_error_field(err, "q", CS_F_UTF8, NULL);
        }
        like = like_pattern(folded);
        cs_free(folded);
    }
    int limit = f->limit < 1 ? 50 : f->limit > 200 ? 200 : f->limit;
    cs_rows *r = NULL;
    int rc = cs_db_query(
        db, &r,
        "SELECT " HH_COLS HH_FROM " WHERE h.id > ?"
        " AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"
        " AND (? IS NULL OR h.commune_code = ?)"
        " AND (? IS NULL OR EXISTS (SELECT 1 FROM admin_unit_districts x"
        "      WHERE x.unit_code = h.commune_code AND x.district_code = ?))"
        " AND (? IS NULL OR h.status = ?)"
        " AND (? < 0 OR h.youth_led = ?)"
        " AND (? IS NULL OR h.name_folded LIKE ?)"
        " AND (? IS NULL OR h.phone_bidx = ?)"
        " AND (? IS NULL OR h.cccd_bidx = ?)"
        " ORDER BY h.id LIMIT ?",
        "issssssssiissbbbbi", f->after_id, scope, scope, f->commune, f->commune, f->former_district,
        f->former_district, f->status, f->status, (int64_t)f->youth_led, (int64_t)f->youth_led, like,
        like, phone_b, (size_t)32, phone_b, (size_t)32, cccd_b, (size_t)32, cccd_b, (size_t)32,
        (int64_t)limit + 1, err);
    cs_free(scope);
    cs_free(like);
    if (rc) return -1;
    json_t *arr = json_array();
    size_t n = cs_rows_count(r);
    for (size_t i = 0; i < n && i < (size_t)limit; i++) {
        json_t *o = row_json(r, i, pii, err);
        if (!o) {
            json_decref(arr);
            cs_rows_free(r);
            return -1;
        }
        json_array_append_new(arr, o);
    }
    if (n > (size_t)limit) *next_cursor = cs_rows_i64(r, (size_t)limit - 1, 0);
    cs_rows_free(r);
    *out = arr;
    return 0;
}

struct pin_ctx {
    const cs_actor *a;
    const char *code;
    char *pin;
};

static int new_pin_tx(cs_db *db, void *arg, cs_error *err)
{
    struct pin_ctx *p = arg;
    char hash[160];
    if (cs_random_pin(p->pin, 6) || cs_pin_hash(p->pin, hash, sizeof hash))
        return cs_error_set(err, CS_E_CRYPTO, "pin");
    int64_t n = cs_db_exec(db,
                           "UPDATE households SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL"
                           " WHERE code = ? AND status <> 'erased'",
                           "ss", hash, p->code, err);
    if (n < 0) return -1;
    if (n == 0) return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    return cs_audit(db, p->a, "household.pin_reissued", "household", p->code, NULL, err);
}

int cs_household_new_pin(cs_db *db, const cs_actor *a, const char *code, char pin_out[8], cs_error *err)
{
    struct pin_ctx p = {a, code, pin_out};
    int rc = cs_db_tx(db, new_pin_tx, &p, err);
    if (rc) memset(pin_out, 0, 8);
    return rc;
}

struct check_ctx {
    const char *code, *pin, *client, *request_id;
    int64_t id;
    cs_code verdict;
    unsigned retry_after;
};

/* Correct PINs recently verified, so an owner reloading the page does not pay scrypt (tens of
 * milliseconds and 16 MiB each) every time. An entry is a keyed hash of (code, stored PIN hash,
 * PIN): a re-issued PIN has a new stored hash, so the old one never matches; wrong PINs are
 * never cached and always cost the full hash; locks are checked before the cache. Memory only. */
#define PIN_CACHE_SLOTS 1024
static struct {
    unsigned char tag[32];
    time_t until;
} pin_cache[PIN_CACHE_SLOTS];
static pthread_mutex_t pin_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int pin_tag(const char *code, const char *stored, const char *pin, unsigned char out[32])
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s\x1f%s\x1f%s", code, stored, pin);
    int rc = n < 0 || (size_t)n >= sizeof buf ? -1 : cs_blind_index("pin-verified", buf, out);
    explicit_bzero(buf, sizeof buf);
    return rc;
}

static size_t pin_slot(const unsigned char tag[32])
{
    return ((size_t)tag[0] | (size_t)tag[1] << 8) % PIN_CACHE_SLOTS;
}

static int pin_cache_hit(const unsigned char tag[32])
{
    size_t i = pin_slot(tag);
    pthread_mutex_lock(&pin_cache_mu);
    int hit = pin_cache[i].until > time(NULL) && cs_ct_equal(pin_cache[i].tag, tag, 32);
    pthread_mutex_unlock(&pin_cache_mu);
    return hit;
}

static void pin_cache_put(const unsigned char tag[32])
{
    long ttl = cs_cfg_int("pin.cache_seconds");
    if (ttl <= 0) return;
    size_t i = pin_slot(tag);
    pthread_mutex_lock(&pin_cache_mu);
    memcpy(pin_cache[i].tag, tag, 32);
    pin_cache[i].until = time(NULL) + ttl;
    pthread_mutex_unlock(&pin_cache_mu);
}

/* A fixed hash to verify against when the code is unknown, so both answers take as long.
 * Made once, whichever request thread comes first. */
static char dummy_hash_buf[160];
static int dummy_hash_ready;
static pthread_once_t dummy_hash_once = PTHREAD_ONCE_INIT;

static void dummy_hash_make(void)
{
    dummy_hash_ready = cs_pin_hash("000000", dummy_hash_buf, sizeof dummy_hash_buf) == 0;
}

static const char *dummy_hash(void)
{
    pthread_once(&dummy_hash_once, dummy_hash_make);
    return dummy_hash_ready ? dummy_hash_buf : NULL;
}

/* Each scrypt check takes ~16 MiB and ~50 ms of one CPU: a flood of wrong PINs from many
 * addresses must not run an unbounded number at once. At most pin.max_parallel run in the
 * process; a check that cannot start within 5 s is answered "busy, retry" and counts as no
 * failure (the caller never guessed). */
static sem_t pin_slots;
static pthread_once_t pin_slots_once = PTHREAD_ONCE_INIT;

static void pin_slots_init(void)
{
    sem_init(&pin_slots, 0, (unsigned)cs_cfg_int("pin.max_parallel"));
}

/* 1 verified, 0 not, -1 no slot in time. */
static int pin_verify_bounded(const char *pin, const char *stored)
{
    pthread_once(&pin_slots_once, pin_slots_init);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int r;
    while ((r = sem_timedwait(&pin_slots, &until)) == -1 && errno == EINTR) {
    }
    if (r == -1) return -1;
    int ok = stored && cs_pin_verify(pin, stored) == 1;
    sem_post(&pin_slots);
    return ok;
}

static int check_tx(cs_db *db, void *arg, cs_error *err)
{
    struct check_ctx *c = arg;
    long maxf = cs_cfg_int("pin.max_failures"), lock = cs_cfg_int("pin.lock_seconds");
    c->verdict = CS_OK;
    c->retry_after = 0;
    cs_rows *h = NULL, *t = NULL;
    int rc = -1;
    if (cs_db_query(db, &h,
                    "SELECT id, pin_hash, pin_failures,"
                    " GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), pin_locked_until))"
                    " FROM households WHERE code = ? FOR UPDATE",
                    "s", c->code, err) ||
        cs_db_query(db, &t,
                    "SELECT failures, TIMESTAMPDIFF(SECOND, window_start, UTC_TIMESTAMP()),"
                    " GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), locked_until))"
                    " FROM pin_throttle WHERE client = ? FOR UPDATE",
                    "s", c->client, err))
        goto out;
    int known = cs_rows_count(h) > 0;
    int64_t hh_lock = known && !cs_rows_isnull(h, 0, 3) ? cs_rows_i64(h, 0, 3) : 0;
    int64_t cl_lock = cs_rows_count(t) && !cs_rows_isnull(t, 0, 2) ? cs_rows_i64(t, 0, 2) : 0;
    if (hh_lock > 0 || cl_lock > 0) {
        c->verdict = CS_E_PIN_LOCKED;
        c->retry_after = (unsigned)(hh_lock > cl_lock ? hh_lock : cl_lock);
        rc = 0;
        goto out;
    }
    const char *stored = known ? cs_rows_strn(h, 0, 1) : NULL;
    unsigned char tag[32];
    int tagged = stored && !pin_tag(c->code, stored, c->pin, tag);
    int ok = tagged && pin_cache_hit(tag);
    if (!ok) {
        int v = pin_verify_bounded(c->pin, stored ? stored : dummy_hash());
        if (v < 0) {
            c->verdict = CS_E_RATE_LIMITED;
            c->retry_after = 1;
            rc = 0;
            goto out;
        }
        ok = v == 1 && stored;
        if (ok && tagged) pin_cache_put(tag);
    }
    cs_actor owner;
    memset(&owner, 0, sizeof owner);
    owner.kind = CS_ACTOR_OWNER;
    snprintf(owner.id, sizeof owner.id, "%s", known ? c->code : "unknown");
    snprintf(owner.request_id, sizeof owner.request_id, "%s", c->request_id ? c->request_id : "");
    snprintf(owner.client, sizeof owner.client, "%s", c->client);
    if (ok) {
        c->id = cs_rows_i64(h, 0, 0);
        /* a page view writes nothing unless there were failures to forget */
        rc = cs_rows_i64(h, 0, 2) == 0 ||
                     cs_db_exec(db, "UPDATE households SET pin_failures = 0 WHERE id = ?", "i", c->id, err) >= 0
                 ? 0
                 : -1;
        goto out;
    }
    c->verdict = CS_E_PIN_WRONG;
    int locked = 0;
    if (known) {
        int64_t f = cs_rows_i64(h, 0, 2) + 1;
        if (f >= maxf) locked = 1;
        if (cs_db_exec(db,
                       "UPDATE households SET pin_failures = ?, pin_locked_until ="
                       " IF(?, UTC_TIMESTAMP() + INTERVAL ? SECOND, NULL) WHERE id = ?",
                       "iiii", locked ? (int64_t)0 : f, (int64_t)locked, (int64_t)lock,
                       cs_rows_i64(h, 0, 0), err) < 0)
            goto out;
    }
    /* per client address: failures within a window of lock seconds */
    int64_t cf = 1;
    if (cs_rows_count(t) && cs_rows_i64(t, 0, 1) < lock) cf = cs_rows_i64(t, 0, 0) + 1;
    int clocked = cf >= maxf;
    if (cs_db_exec(db,
                   "INSERT INTO pin_throttle (client, failures, window_start, locked_until)"
                   " VALUES (?, ?, UTC_TIMESTAMP(), IF(?, UTC_TIMESTAMP() + INTERVAL ? SECOND, NULL))"
                   " ON DUPLICATE KEY UPDATE failures = VALUES(failures),"
                   " window_start = IF(? = 1, UTC_TIMESTAMP(), window_start),"
                   " locked_until = VALUES(locked_until)",
                   "siiii", c->client, clocked ? (int64_t)0 : cf, (int64_t)clocked, (int64_t)lock, cf,
                   err) < 0)
        goto out;
    if (locked || clocked) {
        c->verdict = CS_E_PIN_LOCKED;
        c->retry_after = (unsigned)lock;
    }
    rc = cs_audit(db, &owner, locked || clocked ? "owner.pin_locked" : "owner.pin_failed", "household",
                  known ? c->code : NULL,
                  json_pack("{s:b,s:b}", "household_locked", locked, "client_locked", clocked), err);
out:
    cs_rows_free(h);
    cs_rows_free(t);
    return rc;
}

/* The common case — a correct PIN verified a moment ago, nothing locked, no failures to forget —
 * needs no transaction and no row lock: one plain read. Returns 1 (done, *id set), 0 (take the
 * full path) or -1. */
static int check_fast(cs_db *db, const struct check_ctx *c, int64_t *id, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r,
                    "SELECT h.id, h.pin_hash, h.pin_failures,"
                    " GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), h.pin_locked_until)),"
                    " (SELECT GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), t.locked_until))"
                    "  FROM pin_throttle t WHERE t.client = ?)"
                    " FROM households h WHERE h.code = ?",
                    "ss", c->client, c->code, err))
        return -1;
    int done = 0;
    unsigned char tag[32];
    const char *stored = cs_rows_count(r) ? cs_rows_strn(r, 0, 1) : NULL;
    if (stored && cs_rows_i64(r, 0, 2) == 0 && (cs_rows_isnull(r, 0, 3) || cs_rows_i64(r, 0, 3) == 0) &&
        (cs_rows_isnull(r, 0, 4) || cs_rows_i64(r, 0, 4) == 0) && !pin_tag(c->code, stored, c->pin, tag) &&
        pin_cache_hit(tag)) {
        *id = cs_rows_i64(r, 0, 0);
        done = 1;
    }
    cs_rows_free(r);
    return done;
}

int cs_household_check_pin(cs_db *db, const char *code, const char *pin, const char *client,
                           const char *request_id, int64_t *id, cs_error *err)
{
    struct check_ctx c = {code, pin ? pin : "", client ? client : "", request_id, 0, CS_OK, 0};
    int fast = check_fast(db, &c, id, err);
    if (fast) return fast < 0 ? -1 : 0;
    if (cs_db_tx(db, check_tx, &c, err)) return -1;
    if (c.verdict != CS_OK) {
        cs_error_set(err, c.verdict, NULL);
        err->retry_after = c.retry_after;
        return -1;
    }
    *id = c.id;
    return 0;
}

struct erase_ctx {
    const cs_actor *a;
    const char *code;
    json_t *orphans;
};

static int erase_tx(cs_db *db, void *arg, cs_error *err)
{
    struct erase_ctx *e = arg;
    json_array_clear(e->orphans);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, "SELECT id, status FROM households WHERE code = ? FOR UPDATE", "s", e->code, err))
        return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    int64_t id = cs_rows_i64(r, 0, 0);
    int already = !strcmp(cs_rows_str(r, 0, 1), "erased");
    cs_rows_free(r);
    if (already) return cs_error_set(err, CS_E_GONE, NULL);
    cs_rows *imgs = NULL;
    if (cs_db_query(db, &imgs,
                    "SELECT DISTINCT i.sha256 FROM product_images i JOIN products p ON p.id = i.product_id"
                    " WHERE p.household_id = ? AND NOT EXISTS (SELECT 1 FROM product_images j"
                    " JOIN products q ON q.id = j.product_id WHERE j.sha256 = i.sha256 AND q.household_id <> ?)",
                    "ii", id, id, err))
        return -1;
    for (size_t i = 0; i < cs_rows_count(imgs); i++)
        json_array_append_new(e->orphans, json_string(cs_rows_str(imgs, i, 0)));
    cs_rows_free(imgs);
    if (cs_db_exec(db,
                   "DELETE i FROM product_images i JOIN products p ON p.id = i.product_id"
                   " WHERE p.household_id = ?",
                   "i", id, err) < 0 ||
        cs_db_exec(db,
                   "UPDATE households SET owner_name = '', name_folded = '', business_name = NULL,"
                   " cccd_sealed = NULL, cccd_bidx = NULL, phone_sealed = NULL, phone_bidx = NULL,"
                   " birth_date_sealed = NULL, address_sealed = NULL, business_reg_no = NULL,"
                   " tax_code = NULL, pin_hash = NULL, status = 'erased', erased_at = UTC_TIMESTAMP(),"
                   " version = version + 1 WHERE id = ?",
                   "i", id, err) < 0 ||
        cs_db_exec(db,
                   "UPDATE seller_accounts SET access_token_sealed = NULL, refresh_token_sealed = NULL,"
                   " oauth_state = NULL, auth_link = NULL WHERE household_id = ?",
                   "i", id, err) < 0)
        return -1;
    return cs_audit(db, e->a, "household.erase", "household", e->code,
                    json_pack("{s:I}", "images_removed", (json_int_t)json_array_size(e->orphans)), err);
}

int cs_household_erase(cs_db *db, const cs_actor *a, const char *code, json_t **orphans, cs_error *err)
{
    struct erase_ctx e = {a, code, json_array()};
    if (!e.orphans) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (cs_db_tx(db, erase_tx, &e, err)) {
        json_decref(e.orphans);
        return -1;
    }
    if (orphans) *orphans = e.orphans;
    else json_decref(e.orphans);
    return 0;
}

/* ---- bulk upsert (imports) ------------------------------------------------------------------
 * Same effect on every row as cs_household_upsert (same columns, same content hash, same
 * outcome), in a handful of round trips per batch instead of several per row:
 *   1. blind index + content hash of every row (in memory, spread over a few threads);
 *   2. the batch's citizen-ID indexes into a temporary table, joined with households FOR
 *      UPDATE: the existing rows of the whole batch in one query;
 *   3. codes for all new rows reserved in one statement (household_codes.last += k);
 *   4. new rows sealed (threads) and written with one array-bound INSERT;
 *   5. changed rows updated one by one through write_all (rare; it also re-files target counts).
 * Audit: one "household.create_bulk" row per batch naming the first and last code created and
 * how many (they are consecutive; codes are not personal), and one "household.update" row per
 * updated household as cs_household_upsert
 * writes; unchanged rows write nothing, as before. The same citizen ID twice in one batch is
 * handled as two upserts in order (the batch is split before the repeat). */
#define BULK_MAX_THREADS 4
#define BULK_MIN_PER_THREAD 128

typedef struct bulk_row {
    unsigned char bidx[32], hash[32];
    sealed s;
    int64_t found_id;   /* existing household, 0 when new */
    char found_code[24];
    unsigned found_version;
    int same;           /* existing content hash equal */
    int bad;            /* crypto failed */
    int maybe;          /* may exist: look it up (all rows, unless a snapshot says it is new) */
    int skip_seal;      /* prepare: probably exists, seal only if it turns out new */
} bulk_row;

struct bulk_part {
    cs_household_norm *const *rows;
    bulk_row *br;
    size_t from, to;
    int seal; /* 0: index + hash; 1: seal the new rows */
};

/* seal_all for a row whose citizen-ID index is already known (saves one HMAC a row). */
static int bulk_seal(const cs_household_norm *n, const unsigned char cccd_bidx[32], sealed *s)
{
    memset(s, 0, sizeof *s);
    char date[11];
    vn_date_iso(n->birth, date);
    if (cs_seal(n->cccd, strlen(n->cccd), AAD_CCCD, &s->cccd, &s->cccd_n) ||
        cs_seal(n->phone, strlen(n->phone), AAD_PHONE, &s->phone, &s->phone_n) ||
        cs_seal(date, strlen(date), AAD_BIRTH, &s->birth, &s->birth_n) ||
        (n->address && cs_seal(n->address, strlen(n->address), AAD_ADDRESS, &s->address, &s->address_n)) ||
        cs_blind_index("phone", n->phone, s->phone_bidx)) {
        sealed_free(s);
        return -1;
    }
    memcpy(s->cccd_bidx, cccd_bidx, 32);
    return 0;
}

static void *bulk_crypto(void *arg)
{
    struct bulk_part *p = arg;
    for (size_t i = p->from; i < p->to; i++) {
        bulk_row *b = &p->br[i];
        if (!p->rows[i]) continue;
        if (!p->seal) {
            if (cs_blind_index("cccd", p->rows[i]->cccd, b->bidx) ||
                cs_household_content_hash(p->rows[i], b->hash))
                b->bad = 1;
        } else if (!b->found_id && !b->bad && !b->s.cccd && !b->skip_seal) {
            if (bulk_seal(p->rows[i], b->bidx, &b->s)) b->bad = 1;
        }
    }
    return NULL;
}

/* Run bulk_crypto over [0, n) on up to BULK_MAX_THREADS threads (the caller's included). */
static void bulk_crypto_all(cs_household_norm *const *rows, bulk_row *br, size_t n, int seal)
{
    static long ncpu;
    if (!ncpu) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        ncpu = c < 1 ? 1 : c > BULK_MAX_THREADS ? BULK_MAX_THREADS : c;
    }
    size_t t = n / BULK_MIN_PER_THREAD;
    if (t > (size_t)ncpu) t = (size_t)ncpu;
    if (t < 1) t = 1;
    struct bulk_part parts[BULK_MAX_THREADS];
    pthread_t th[BULK_MAX_THREADS];
    int started[BULK_MAX_THREADS] = {0};
    for (size_t k = 0; k < t; k++) {
        parts[k] = (struct bulk_part){rows, br, n * k / t, n * (k + 1) / t, seal};
        if (k > 0) started[k] = !pthread_create(&th[k], NULL, bulk_crypto, &parts[k]);
    }
    bulk_crypto(&parts[0]);
    for (size_t k = 1; k < t; k++) {
        if (started[k]) pthread_join(th[k], NULL);
        else bulk_crypto(&parts[k]); /* no thread: do it here */
    }
}

static int bulk_find_existing(cs_db *db, bulk_row *br, size_t n, cs_error *err)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += br[i].maybe;
    if (!m) return 0; /* every row known to be new: no look-up at all */
    static const char create[] = "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_household_bulk_keys ("
                                 " pos INT NOT NULL, bidx BINARY(32) NOT NULL, KEY (bidx)) ENGINE=MEMORY";
    if (cs_db_exec_text(db, create, sizeof create - 1, err) < 0 ||
        cs_db_exec(db, "DELETE FROM tmp_household_bulk_keys", "", err) < 0)
        return -1;
    char (*pos)[12] = cs_malloc(m * sizeof *pos);
    const char **cells = cs_malloc(2 * m * sizeof *cells);
    size_t *lens = cs_malloc(2 * m * sizeof *lens);
    int rc = -1;
    cs_rows *rows = NULL;
    if (!pos || !cells || !lens) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!br[i].maybe) continue;
        snprintf(pos[k], sizeof pos[k], "%zu", i);
        cells[2 * k] = pos[k];
        lens[2 * k] = strlen(pos[k]);
        cells[2 * k + 1] = (const char *)br[i].bidx;
        lens[2 * k + 1] = 32;
        k++;
    }
    if (cs_db_bulk_insert(db, "INSERT INTO tmp_household_bulk_keys (pos, bidx) VALUES (?, ?)", 2, "ib", cells,
                          lens, m, err) < 0 ||
        cs_db_query(db, &rows,
                    "SELECT k.pos, h.id, h.code, h.version, h.content_hash FROM tmp_household_bulk_keys k"
                    " JOIN households h ON h.cccd_bidx = k.bidx FOR UPDATE",
                    "", err))
        goto out;
    for (size_t r = 0; r < cs_rows_count(rows); r++) {
        int64_t p = cs_rows_i64(rows, r, 0);
        if (p < 0 || (size_t)p >= n) continue;
        bulk_row *b = &br[p];
        b->found_id = cs_rows_i64(rows, r, 1);
        snprintf(b->found_code, sizeof b->found_code, "%s", cs_rows_str(rows, r, 2));
        b->found_version = (unsigned)cs_rows_i64(rows, r, 3);
        size_t hl;
        const void *old = cs_rows_blob(rows, r, 4, &hl);
        b->same = hl == 32 && !memcmp(old, b->hash, 32);
    }
    rc = 0;
out:
    cs_rows_free(rows);
    cs_free(pos);
    cs_free(cells);
    cs_free(lens);
    return rc;
}

#define BULK_COLS 21

static void bulk_put(const char **c, size_t *l, unsigned j, const void *p, size_t len)
{
    c[j] = p;
    l[j] = p ? len : 0;
}

static void bulk_puts(const char **c, size_t *l, unsigned j, const char *p)
{
    c[j] = p;
    l[j] = p ? strlen(p) : 0;
}

/* Insert the new rows of br[0..n) (found_id == 0, not skipped) with one array-bound INSERT. */
static int bulk_insert_new(cs_db *db, const cs_actor *a, cs_household_norm *const *rows, bulk_row *br,
                           const int *skip, size_t n, int presealed, int64_t import_id, cs_household_result *res,
                           json_t *codes, cs_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += rows[i] && !skip[i] && !br[i].found_id;
    if (!k) return 0;
    int year = vn_today().y;
    int64_t last = 0;
    if (cs_db_exec(db,
                   "INSERT INTO household_codes (year, last) VALUES (?, ?)"
                   " ON DUPLICATE KEY UPDATE last = last + VALUES(last)",
                   "ii", (int64_t)year, (int64_t)k, err) < 0 ||
        cs_db_scalar_i64(db, &last, "SELECT last FROM household_codes WHERE year = ?", "i", (int64_t)year, err))
        return cs_error_set(err, err->code == CS_OK ? CS_E_DB : err->code, "household code sequence");
    (void)presealed; /* rows sealed in advance are skipped; the others are sealed now */
    for (size_t i = 0; i < n; i++)
        br[i].skip_seal = 0;
    bulk_crypto_all(rows, br, n, 1);
    for (size_t i = 0; i < n; i++)
        if (rows[i] && !skip[i] && !br[i].found_id && br[i].bad) return cs_error_set(err, CS_E_CRYPTO, "sealing failed");

    char by[48];
    cs_actor_tag(a, by, sizeof by);
    char imp[24];
    snprintf(imp, sizeof imp, "%lld", (long long)import_id);
    char (*nums)[3][8] = cs_malloc(k * sizeof *nums);
    const char **cells = cs_malloc(k * BULK_COLS * sizeof *cells);
    size_t *lens = cs_malloc(k * BULK_COLS * sizeof *lens);
    int rc = -1;
    if (!nums || !cells || !lens) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    int64_t next = last - (int64_t)k + 1;
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i] || skip[i] || br[i].found_id) continue;
        const cs_household_norm *h = rows[i];
        bulk_row *b = &br[i];
        memset(&res[i], 0, sizeof res[i]);
        snprintf(res[i].code, sizeof res[i].code, "TH-%04d-%05lld", year, (long long)next++);
        res[i].version = 1;
        res[i].outcome = CS_HH_CREATED;
        json_array_append_new(codes, json_string(res[i].code));
        snprintf(nums[r][0], sizeof nums[r][0], "%d", h->owner_age);
        snprintf(nums[r][1], sizeof nums[r][1], "%d", h->youth_led ? 1 : 0);
        snprintf(nums[r][2], sizeof nums[r][2], "%d", h->has_epayment ? 1 : 0);
        const char **c = &cells[r * BULK_COLS];
        size_t *l = &lens[r * BULK_COLS];
#define PUT(j, p, len_) bulk_put(c, l, j, p, len_)
#define PUTS(j, p) bulk_puts(c, l, j, p)
        PUTS(0, res[i].code);
        PUTS(1, h->owner_name);
        PUTS(2, h->name_folded);
        PUTS(3, h->business_name);
        PUTS(4, h->commune_code);
        PUT(5, b->s.cccd, b->s.cccd_n);
        PUT(6, b->s.cccd_bidx, (size_t)32);
        PUT(7, b->s.phone, b->s.phone_n);
        PUT(8, b->s.phone_bidx, (size_t)32);
        PUT(9, b->s.birth, b->s.birth_n);
        PUT(10, b->s.address, b->s.address_n);
        PUTS(11, nums[r][0]);
        PUTS(12, nums[r][1]);
        PUTS(13, h->business_reg_no);
        PUTS(14, h->tax_code);
        PUTS(15, nums[r][2]);
        PUTS(16, h->consent_version);
        PUTS(17, by);
        PUT(18, b->hash, (size_t)32);
        PUTS(19, by);
        PUTS(20, import_id ? imp : NULL);
#undef PUT
#undef PUTS
        r++;
    }
    int64_t ins = cs_db_bulk_insert(
        db,
        "INSERT INTO households (code, owner_name, name_folded, business_name, commune_code,"
        " cccd_sealed, cccd_bidx, phone_sealed, phone_bidx, birth_date_sealed, address_sealed,"
        " owner_age, youth_led, business_reg_no, tax_code, has_epayment, consent_at,"
        " consent_version, consent_by, content_hash, registered_by, import_id)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,UTC_TIMESTAMP(),?,?,?,?,?)",
        BULK_COLS, "sssssbbbbbbiississbsi", cells, lens, k, err);
    if (ins < 0) {
        if (err->code == CS_E_CONFLICT && strstr(err->detail, "cccd")) /* created meanwhile */
            cs_error_set(err, CS_E_DUPLICATE_HOUSEHOLD, "bulk insert");
        goto out;
    }
    /* the new ids: the batch's codes are the consecutive range reserved above (the row of
       household_codes stays locked until commit), read back by range scans of the code index —
       one per code width, since "TH-2026-100000" sorts inside a 5-digit range */
    int64_t first = last - (int64_t)k + 1;
    size_t *newpos = cs_malloc(k * sizeof *newpos);
    if (!newpos) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0, j = 0; i < n; i++)
        if (rows[i] && !skip[i] && !br[i].found_id) newpos[j++] = i;
    for (int64_t from = first; from <= last;) {
        char lo[24], hi[24];
        snprintf(lo, sizeof lo, "TH-%04d-%05lld", year, (long long)from);
        int64_t to = from;
        while (to < last) { /* the end of this width */
            char t[24];
            snprintf(t, sizeof t, "TH-%04d-%05lld", year, (long long)(to + 1));
            if (strlen(t) != strlen(lo)) break;
            to++;
        }
        snprintf(hi, sizeof hi, "TH-%04d-%05lld", year, (long long)to);
        cs_rows *ids = NULL;
        if (cs_db_query(db, &ids, "SELECT code, id FROM households WHERE code BETWEEN ? AND ? AND LENGTH(code) = ?",
                        "ssi", lo, hi, (int64_t)strlen(lo), err)) {
            cs_free(newpos);
            goto out;
        }
        for (size_t j = 0; j < cs_rows_count(ids); j++) {
            const char *dash = strrchr(cs_rows_str(ids, j, 0), '-');
            long long v = dash ? strtoll(dash + 1, NULL, 10) : -1;
            if (v >= first && v <= last) res[newpos[v - first]].id = cs_rows_i64(ids, j, 1);
        }
        cs_rows_free(ids);
        from = to + 1;
    }
    cs_free(newpos);
    rc = 0;
out:
    cs_free(nums);
    cs_free(cells);
    cs_free(lens);
    return rc;
}

/* One batch without repeated citizen IDs. */
static int known_has(const cs_household_known *k, const unsigned char bidx[32]);

static int bulk_segment(cs_db *db, const cs_actor *a, cs_household_norm *const *rows, bulk_row *br, size_t n,
                        int presealed, const cs_household_known *known, int64_t import_id,
                        cs_household_result *res, cs_code *row_err, const cs_rows *communes, cs_error *err)
{
    int *skip = cs_calloc(n ? n : 1, sizeof *skip);
    json_t *codes = json_array();
    int rc = -1;
    if (!skip || !codes) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        br[i].found_id = 0, br[i].same = 0, br[i].found_code[0] = '\0';
        br[i].maybe = rows[i] && (!known || known_has(known, br[i].bidx));
        if (!rows[i]) continue;
        size_t lo = 0, hi = cs_rows_count(communes); /* ordered by code */
        int exists = 0;
        while (lo < hi && !exists) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(cs_rows_str(communes, mid, 0), rows[i]->commune_code);
            if (!c) exists = 1;
            else if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        if (!exists) {
            skip[i] = 1;
            if (row_err) row_err[i] = CS_F_COMMUNE;
        }
    }
    if (bulk_find_existing(db, br, n, err) ||
        bulk_insert_new(db, a, rows, br, skip, n, presealed, import_id, res, codes, err))
        goto out;
    /* the codes of one batch are consecutive (reserved in one statement): first, last, count */
    size_t nc = json_array_size(codes);
    if (nc && cs_audit(db, a, "household.create_bulk", "household", NULL,
                       json_pack("{s:O,s:O,s:I,s:I}", "first", json_array_get(codes, 0), "last",
                                 json_array_get(codes, nc - 1), "count", (json_int_t)nc, "import_id",
                                 (json_int_t)import_id),
                       err))
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i] || skip[i] || !br[i].found_id) continue;
        memset(&res[i], 0, sizeof res[i]);
        res[i].id = br[i].found_id;
        snprintf(res[i].code, sizeof res[i].code, "%s", br[i].found_code);
        res[i].version = br[i].found_version;
        if (br[i].same) {
            res[i].outcome = CS_HH_UNCHANGED;
            continue;
        }
        if (write_all(db, res[i].id, rows[i], br[i].hash, 0, err)) goto out;
        res[i].version++;
        res[i].outcome = CS_HH_UPDATED;
        if (cs_audit(db, a, "household.update", "household", res[i].code,
                     json_pack("{s:o,s:I}", "fields", field_names(rows[i]->present), "import_id",
                               (json_int_t)import_id),
                     err))
            goto out;
    }
    rc = 0;
out:
    if (!presealed)
        for (size_t i = 0; i < n; i++)
            sealed_free(&br[i].s);
    json_decref(codes);
    cs_free(skip);
    return rc;
}

/* qsort has no context argument in C17: the rows being sorted, set just before the call.
 * Thread-local so concurrent imports on several worker threads do not share it. */
static _Thread_local const bulk_row *bulk_sort_rows;

static int bulk_cmp(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = memcmp(bulk_sort_rows[i].bidx, bulk_sort_rows[j].bidx, 32);
    return c ? c : (i > j) - (i < j);
}

struct cs_household_bulk {
    cs_household_norm *const *rows;
    size_t n;
    bulk_row *br;
    size_t *prev; /* last earlier row with the same citizen ID, SIZE_MAX when none */
    int sealed;   /* every row sealed in advance */
};

void cs_household_bulk_free(cs_household_bulk *b)
{
    if (!b) return;
    if (b->br) {
        for (size_t i = 0; i < b->n; i++)
            sealed_free(&b->br[i].s);
        explicit_bzero(b->br, b->n * sizeof *b->br);
    }
    cs_free(b->br);
    cs_free(b->prev);
    cs_free(b);
}

int cs_household_bulk_prepare(cs_household_norm *const *rows, size_t n, int seal, const cs_household_known *known,
                              cs_household_bulk **out, cs_error *err)
{
    *out = NULL;
    cs_household_bulk *b = cs_calloc(1, sizeof *b);
    size_t *order = NULL;
    if (!b) return cs_error_set(err, CS_E_NOMEM, NULL);
    b->rows = rows, b->n = n, b->sealed = seal;
    b->br = cs_calloc(n ? n : 1, sizeof *b->br);
    b->prev = cs_malloc((n ? n : 1) * sizeof *b->prev);
    order = cs_malloc((n ? n : 1) * sizeof *order);
    if (!b->br || !b->prev || !order) {
        cs_free(order);
        cs_household_bulk_free(b);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    bulk_crypto_all(rows, b->br, n, 0);
    if (seal) {
        /* rows the snapshot knows are most likely unchanged or updated: not sealed now */
        for (size_t i = 0; i < n && known; i++)
            b->br[i].skip_seal = rows[i] && known_has(known, b->br[i].bidx);
        bulk_crypto_all(rows, b->br, n, 1);
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i] && b->br[i].bad) {
            cs_free(order);
            cs_household_bulk_free(b);
            return cs_error_set(err, CS_E_CRYPTO, "sealing failed");
        }
    /* repeated citizen IDs: sort positions by (index, position) */
    for (size_t i = 0; i < n; i++)
        order[i] = i, b->prev[i] = SIZE_MAX;
    bulk_sort_rows = b->br;
    qsort(order, n, sizeof *order, bulk_cmp);
    for (size_t k = 1; k < n; k++)
        if (rows[order[k]] && rows[order[k - 1]] && !memcmp(b->br[order[k]].bidx, b->br[order[k - 1]].bidx, 32))
            b->prev[order[k]] = order[k - 1];
    cs_free(order);
    *out = b;
    return 0;
}

struct cs_household_known {
    unsigned char (*bidx)[32]; /* sorted */
    size_t n;
};

static int bidx_cmp(const void *x, const void *y)
{
    return memcmp(x, y, 32);
}

static int known_has(const cs_household_known *k, const unsigned char bidx[32])
{
    return bsearch(bidx, k->bidx, k->n, sizeof *k->bidx, bidx_cmp) != NULL;
}

void cs_household_known_free(cs_household_known *k)
{
    if (!k) return;
    cs_free(k->bidx);
    cs_free(k);
}

int cs_household_known_load(cs_db *db, cs_household_known **out, cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, "SELECT cccd_bidx FROM households WHERE cccd_bidx IS NOT NULL", "", err)) return -1;
    cs_household_known *k = cs_calloc(1, sizeof *k);
    size_t n = cs_rows_count(r);
    if (k) k->bidx = cs_malloc((n ? n : 1) * sizeof *k->bidx);
    if (!k || !k->bidx) {
        cs_rows_free(r);
        cs_household_known_free(k);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = 0;
        const void *p = cs_rows_blob(r, i, 0, &l);
        if (l != 32) continue;
        memcpy(k->bidx[k->n++], p, 32);
    }
    cs_rows_free(r);
    qsort(k->bidx, k->n, sizeof *k->bidx, bidx_cmp);
    *out = k;
    return 0;
}

int cs_household_bulk_write(cs_db *db, const cs_actor *a, cs_household_bulk *b, const cs_household_known *known,
                            int64_t import_id, cs_household_result *res, cs_code *row_err, cs_error *err)
{
    size_t n = b->n;
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        if (row_err) row_err[i] = CS_OK;
    }
    if (!n) return 0;
    cs_rows *communes = NULL;
    if (cs_db_query(db, &communes, "SELECT code FROM admin_units ORDER BY code", "", err)) return -1;
    /* split before a citizen ID already seen in the current segment: cs_household_upsert on each
       row in order would update the first with the second */
    int rc = 0;
    size_t start = 0;
    while (start < n && !rc) {
        size_t end = start + 1;
        while (end < n && (b->prev[end] == SIZE_MAX || b->prev[end] < start))
            end++;
        rc = bulk_segment(db, a, b->rows + start, b->br + start, end - start, b->sealed, known, import_id,
                          res + start, row_err ? row_err + start : NULL, communes, err);
        start = end;
    }
    cs_rows_free(communes);
    return rc;
}

int cs_household_upsert_bulk(cs_db *db, const cs_actor *a, cs_household_norm *const *rows, size_t n,
                             int64_t import_id, cs_household_result *res, cs_code *row_err, cs_error *err)
{
    cs_household_bulk *b = NULL;
    if (cs_household_bulk_prepare(rows, n, 0, NULL, &b, err)) return -1;
    int rc = cs_household_bulk_write(db, a, b, NULL, import_id, res, row_err, err);
    cs_household_bulk_free(b);
    return rc;
}
