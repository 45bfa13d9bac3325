/* core/households: storage of households — insert, update, read, list, look up and erase, with
 * sealing of personal fields, de-duplication by the citizen ID's blind index, optimistic locking
 * and an audit row per change. Validation is core/households_validate.c, the PIN core/pin.c,
 * the import's bulk upsert core/households_bulk.c. Knows nothing of HTTP; every personal value
 * is sealed before it reaches SQL. */
#include "core/buf.h"
#include "core/crypto.h"
#include "core/households_int.h"
#include "core/mem.h"
#include "core/states.h"
#include "core/targets.h"
#include <stdio.h>
#include <string.h>

void cs_hh_sealed_free(cs_hh_sealed *s)
{
    cs_free(s->cccd);
    cs_free(s->phone);
    cs_free(s->birth);
    cs_free(s->address);
    memset(s, 0, sizeof *s);
}

int cs_hh_seal(const cs_household_norm *n, const unsigned char *cccd_bidx, cs_hh_sealed *s,
               cs_error *err)
{
    memset(s, 0, sizeof *s);
    char date[11];
    vn_date_iso(n->birth, date);
    if (cs_seal(n->cccd, strlen(n->cccd), CS_HH_AAD_CCCD, &s->cccd, &s->cccd_n) ||
        cs_seal(n->phone, strlen(n->phone), CS_HH_AAD_PHONE, &s->phone, &s->phone_n) ||
        cs_seal(date, strlen(date), CS_HH_AAD_BIRTH, &s->birth, &s->birth_n) ||
        (n->address &&
         cs_seal(n->address, strlen(n->address), CS_HH_AAD_ADDRESS, &s->address, &s->address_n)) ||
        (!cccd_bidx && cs_blind_index("cccd", n->cccd, s->cccd_bidx)) ||
        cs_blind_index("phone", n->phone, s->phone_bidx)) {
        cs_hh_sealed_free(s);
        return err ? cs_error_set(err, CS_E_CRYPTO, "sealing failed") : -1;
    }
    if (cccd_bidx) memcpy(s->cccd_bidx, cccd_bidx, 32);
    return 0;
}

// clang-format off
static const char SQL_COMMUNE_EXISTS[] =
    "SELECT 1"
    " FROM admin_units"
    " WHERE code = ?";
static const char SQL_CODE_NEXT[] =
    "INSERT INTO household_codes (year, last)"
    " VALUES (?, 1)"
    " ON DUPLICATE KEY UPDATE last = last + 1";
static const char SQL_CODE_LAST[] =
    "SELECT last"
    " FROM household_codes"
    " WHERE year = ?";
/* the household holding a citizen ID */
enum { BY_CCCD_CODE };
static const char SQL_BY_CCCD[] =
    "SELECT code"
    " FROM households"
    " WHERE cccd_bidx = ?";
static const char SQL_INSERT[] =
    "INSERT INTO households (code, owner_name, name_folded, business_name, commune_code,"
    "  cccd_sealed, cccd_bidx, phone_sealed, phone_bidx, birth_date_sealed, address_sealed,"
    "  owner_age, youth_led, business_reg_no, tax_code, has_epayment, consent_at,"
    "  consent_version, consent_by, pin_hash, content_hash, registered_by, import_id)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,UTC_TIMESTAMP(),?,?,?,?,?,NULLIF(?,0))";
// clang-format on

static int commune_exists(cs_db *db, const char *code, cs_error *err)
{
    int64_t one;
    int r = cs_db_scalar_i64(db, &one, SQL_COMMUNE_EXISTS, "s", code, err);
    if (r < 0) return -1;
    if (r == 1) return cs_error_field(err, "commune_code", CS_F_COMMUNE, NULL);
    return 0;
}

/* Next public code of this year, inside the caller's transaction (the row stays locked until
 * commit, so concurrent registrations queue here instead of colliding). */
static int next_code(cs_db *db, int year, char out[24], cs_error *err)
{
    if (cs_db_exec(db, SQL_CODE_NEXT, "i", (int64_t)year, err) < 0) return -1;
    int64_t last;
    if (cs_db_scalar_i64(db, &last, SQL_CODE_LAST, "i", (int64_t)year, err))
        return cs_error_set(err, err->code == CS_OK ? CS_E_DB : err->code,
                            "household code sequence");
    snprintf(out, 24, "TH-%04d-%05lld", year, (long long)last);
    return 0;
}

int cs_household_insert(cs_db *db, const cs_actor *a, const cs_household_norm *n, int issue_pin,
                        int64_t import_id, cs_household_result *res, cs_error *err)
{
    memset(res, 0, sizeof *res);
    if (commune_exists(db, n->commune_code, err)) return -1;
    cs_hh_sealed s;
    if (cs_hh_seal(n, NULL, &s, err)) return -1;
    int rc = -1;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_BY_CCCD, "b", s.cccd_bidx, (size_t)32, err)) goto out;
    if (cs_rows_count(rows)) {
        snprintf(err->existing, sizeof err->existing, "%s", cs_rows_str(rows, 0, BY_CCCD_CODE));
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
    if (cs_db_exec(db, SQL_INSERT, "sssssbbbbbbiississsbsi", res->code, n->owner_name,
                   n->name_folded, n->business_name, n->commune_code, s.cccd, s.cccd_n, s.cccd_bidx,
                   (size_t)32, s.phone, s.phone_n, s.phone_bidx, (size_t)32, s.birth, s.birth_n,
                   s.address, s.address_n, (int64_t)n->owner_age, (int64_t)n->youth_led,
                   n->business_reg_no, n->tax_code, (int64_t)n->has_epayment, n->consent_version,
                   by, issue_pin ? pin_hash : NULL, hash, (size_t)32, by, import_id, err) < 0) {
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
                 json_pack("{s:o,s:b,s:I}", "fields", cs_hh_field_names(n->present), "pin_issued",
                           issue_pin, "import_id", (json_int_t)import_id),
                 err))
        goto out;
    rc = 0;
out:
    cs_rows_free(rows);
    cs_hh_sealed_free(&s);
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
            !cs_db_query(db, &rows, SQL_BY_CCCD, "b", bidx, (size_t)32, &e2) && cs_rows_count(rows))
            snprintf(err->existing, sizeof err->existing, "%s", cs_rows_str(rows, 0, BY_CCCD_CODE));
        cs_rows_free(rows);
    }
    if (rc) memset(res->pin, 0, sizeof res->pin);
    cs_household_norm_free(&n);
    return rc;
}

// clang-format off
static const char SQL_MOVED[] =
    "SELECT youth_led <> ? OR commune_code <> ?"
    " FROM households"
    " WHERE id = ?";
static const char SQL_WRITE_ALL[] =
    "UPDATE households"
    " SET owner_name = ?, name_folded = ?, business_name = ?, commune_code = ?,"
    "  cccd_sealed = ?, cccd_bidx = ?, phone_sealed = ?, phone_bidx = ?, birth_date_sealed = ?,"
    "  address_sealed = ?, owner_age = ?, youth_led = ?, business_reg_no = ?, tax_code = ?,"
    "  has_epayment = ?, content_hash = ?, consent_at = IF(?, UTC_TIMESTAMP(), consent_at),"
    "  consent_version = IF(?, ?, consent_version), version = version + 1"
    " WHERE id = ?";
// clang-format on

int cs_hh_write_all(cs_db *db, int64_t id, const cs_household_norm *n, const unsigned char hash[32],
                    int consent_now, cs_error *err)
{
    cs_hh_sealed s;
    /* the youth flag and the commune are what the targets count by: a correction of either
       moves the household's (and its products') counts with it (core/targets.h) */
    int64_t moved = 0;
    if (cs_db_scalar_i64(db, &moved, SQL_MOVED, "isi", (int64_t)n->youth_led, n->commune_code, id,
                         err) < 0 ||
        (moved && cs_targets_refile_household(db, id, -1, err)))
        return -1;
    if (cs_hh_seal(n, NULL, &s, err)) return -1;
    int64_t r = cs_db_exec(
        db, SQL_WRITE_ALL, "ssssbbbbbbiissibiisi", n->owner_name, n->name_folded, n->business_name,
        n->commune_code, s.cccd, s.cccd_n, s.cccd_bidx, (size_t)32, s.phone, s.phone_n,
        s.phone_bidx, (size_t)32, s.birth, s.birth_n, s.address, s.address_n, (int64_t)n->owner_age,
        (int64_t)n->youth_led, n->business_reg_no, n->tax_code, (int64_t)n->has_epayment, hash,
        (size_t)32, (int64_t)consent_now, (int64_t)consent_now, n->consent_version, id, err);
    cs_hh_sealed_free(&s);
    if (r < 0 && err->code == CS_E_CONFLICT && strstr(err->detail, "cccd")) {
        cs_error_set(err, CS_E_DUPLICATE_HOUSEHOLD, NULL);
        cs_error_field(err, "cccd", CS_E_DUPLICATE_HOUSEHOLD, NULL);
    }
    if (r >= 0 && moved && cs_targets_refile_household(db, id, 1, err)) return -1;
    return r < 0 ? -1 : 0;
}

// clang-format off
enum { UP_ID, UP_CODE, UP_VERSION, UP_HASH };
static const char SQL_UPSERT_FIND[] =
    "SELECT id, code, version, content_hash"
    " FROM households"
    " WHERE cccd_bidx = ?"
    " FOR UPDATE";
// clang-format on

int cs_household_upsert(cs_db *db, const cs_actor *a, const cs_household_norm *n, int64_t import_id,
                        cs_household_result *res, cs_error *err)
{
    unsigned char bidx[32], hash[32];
    if (cs_blind_index("cccd", n->cccd, bidx) || cs_household_content_hash(n, hash))
        return cs_error_set(err, CS_E_CRYPTO, NULL);
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_UPSERT_FIND, "b", bidx, (size_t)32, err)) return -1;
    if (!cs_rows_count(rows)) {
        cs_rows_free(rows);
        return cs_household_insert(db, a, n, 0, import_id, res, err);
    }
    memset(res, 0, sizeof *res);
    res->id = cs_rows_i64(rows, 0, UP_ID);
    snprintf(res->code, sizeof res->code, "%s", cs_rows_str(rows, 0, UP_CODE));
    res->version = (unsigned)cs_rows_i64(rows, 0, UP_VERSION);
    size_t hl;
    const void *old = cs_rows_blob(rows, 0, UP_HASH, &hl);
    int same = hl == 32 && !memcmp(old, hash, 32);
    cs_rows_free(rows);
    if (same) {
        res->outcome = CS_HH_UNCHANGED;
        return 0;
    }
    if (commune_exists(db, n->commune_code, err) || cs_hh_write_all(db, res->id, n, hash, 0, err))
        return -1;
    res->version++;
    res->outcome = CS_HH_UPDATED;
    return cs_audit(db, a, "household.update", "household", res->code,
                    json_pack("{s:o,s:I}", "fields", cs_hh_field_names(n->present), "import_id",
                              (json_int_t)import_id),
                    err);
}

/* Unseal one column of a fetched row into a NUL-terminated string (caller frees with
 * cs_free_secret) or NULL when the column is NULL. */
static char *unseal_col(const cs_rows *rows, size_t row, unsigned col, const char *aad,
                        cs_error *err)
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

// clang-format off
enum {
    U_ID, U_VERSION, U_STATUS, U_OWNER_NAME, U_CCCD, U_PHONE, U_BIRTH, U_ADDRESS, U_BUSINESS,
    U_COMMUNE, U_REGNO, U_TAX, U_EPAY, U_HASH, U_CONSENT_VERSION
};
static const char SQL_UPDATE_LOAD[] =
    "SELECT id, version, status, owner_name, cccd_sealed, phone_sealed,"
    "  birth_date_sealed, address_sealed, business_name, commune_code,"
    "  business_reg_no, tax_code, has_epayment, content_hash, consent_version"
    " FROM households"
    " WHERE code = ?"
    " FOR UPDATE";
// clang-format on

static int update_tx(cs_db *db, void *arg, cs_error *err)
{
    struct update_ctx *u = arg;
    cs_rows *rows = NULL;
    if (cs_db_query(db, &rows, SQL_UPDATE_LOAD, "s", u->code, err)) return -1;
    if (!cs_rows_count(rows)) {
        cs_rows_free(rows);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    int rc = -1;
    char *cccd = NULL, *phone = NULL, *birth = NULL, *addr = NULL;
    json_t *full = NULL;
    cs_household_norm n;
    memset(&n, 0, sizeof n);
    if (!strcmp(cs_rows_str(rows, 0, U_STATUS), "erased")) {
        cs_error_set(err, CS_E_GONE, NULL);
        goto out;
    }
    unsigned version = (unsigned)cs_rows_i64(rows, 0, U_VERSION);
    if (version != u->expected) {
        cs_error_set(err, CS_E_PRECONDITION, "current version %u", version);
        goto out;
    }
    cccd = unseal_col(rows, 0, U_CCCD, CS_HH_AAD_CCCD, err);
    phone = unseal_col(rows, 0, U_PHONE, CS_HH_AAD_PHONE, err);
    birth = unseal_col(rows, 0, U_BIRTH, CS_HH_AAD_BIRTH, err);
    addr = unseal_col(rows, 0, U_ADDRESS, CS_HH_AAD_ADDRESS, err);
    if (err->code != CS_OK) goto out;
    /* the stored record, then the patch over it: validated as a whole */
    full = json_pack("{s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:s?,s:s?,s:b}", "owner_name",
                     cs_rows_str(rows, 0, U_OWNER_NAME), "cccd", cccd, "phone", phone, "birth_date",
                     birth, "commune_code", cs_rows_str(rows, 0, U_COMMUNE), "address", addr,
                     "business_name", cs_rows_strn(rows, 0, U_BUSINESS), "business_reg_no",
                     cs_rows_strn(rows, 0, U_REGNO), "tax_code", cs_rows_strn(rows, 0, U_TAX),
                     "has_epayment", (int)cs_rows_i64(rows, 0, U_EPAY));
    if (!full) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    json_object_set_new(full, "consent_version",
                        json_string(cs_rows_str(rows, 0, U_CONSENT_VERSION)));
    if (!json_is_object(u->patch)) {
        cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
        goto out;
    }
    if (cs_hh_unknown_keys(u->patch, err)) goto out;
    json_object_update(full, u->patch);
    if (!json_object_get(u->patch, "consent")) json_object_del(full, "consent");
    if (cs_household_validate(full, 1, &n, err)) goto out;
    n.present = cs_hh_key_bits(u->patch); /* the audit names what the patch changed */
    unsigned char hash[32];
    if (cs_household_content_hash(&n, hash)) {
        cs_error_set(err, CS_E_CRYPTO, NULL);
        goto out;
    }
    size_t hl;
    const void *old = cs_rows_blob(rows, 0, U_HASH, &hl);
    u->res->id = cs_rows_i64(rows, 0, U_ID);
    snprintf(u->res->code, sizeof u->res->code, "%s", u->code);
    u->res->version = version;
    if (hl == 32 && !memcmp(old, hash, 32) && !n.consent) {
        u->res->outcome = CS_HH_UNCHANGED;
        rc = 0;
        goto out;
    }
    if (commune_exists(db, n.commune_code, err) ||
        cs_hh_write_all(db, u->res->id, &n, hash, n.consent, err))
        goto out;
    u->res->version = version + 1;
    u->res->outcome = CS_HH_UPDATED;
    rc = cs_audit(db, u->a, "household.update", "household", u->code,
                  json_pack("{s:o}", "fields", cs_hh_field_names(n.present)), err);
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

/* The columns of a household as read by get and list (row_json), one name each. */
// clang-format off
enum {
    HH_ID, HH_CODE, HH_OWNER_NAME, HH_BUSINESS, HH_COMMUNE, HH_COMMUNE_NAME, HH_DISTRICT,
    HH_DISTRICT_NAME, HH_STATUS, HH_YOUTH, HH_AGE, HH_EPAY, HH_REGNO, HH_TAX, HH_CONSENT_AT,
    HH_CONSENT_VERSION, HH_CREATED, HH_UPDATED, HH_ONBOARDED, HH_VERSION, HH_PIN_SET, HH_CCCD,
    HH_PHONE, HH_BIRTH, HH_ADDRESS
};
#define HH_SELECT                                                                                  \
    "SELECT h.id, h.code, h.owner_name, h.business_name, h.commune_code, u.name,"                  \
    "  u.primary_district_code, d.name, h.status, h.youth_led, h.owner_age, h.has_epayment,"       \
    "  h.business_reg_no, h.tax_code, DATE_FORMAT(h.consent_at, '%Y-%m-%dT%H:%i:%sZ'),"            \
    "  h.consent_version, DATE_FORMAT(h.created_at, '%Y-%m-%dT%H:%i:%sZ'),"                        \
    "  DATE_FORMAT(h.updated_at, '%Y-%m-%dT%H:%i:%sZ'),"                                           \
    "  DATE_FORMAT(h.onboarded_at, '%Y-%m-%dT%H:%i:%sZ'), h.version, h.pin_hash IS NOT NULL,"      \
    "  h.cccd_sealed, h.phone_sealed, h.birth_date_sealed, h.address_sealed"                       \
    " FROM households h"                                                                           \
    " JOIN admin_units u ON u.code = h.commune_code"                                               \
    " JOIN admin_districts d ON d.code = u.primary_district_code"
static const char SQL_GET[] =
    HH_SELECT
    " WHERE h.code = ?";
/* the list's conditions, shared by both orders; the cursor is the last id of the page */
#define HH_LIST_WHERE                                                                              \
    "  AND (? IS NULL OR FIND_IN_SET(h.commune_code, ?))"                                          \
    "  AND (? IS NULL OR h.commune_code = ?)"                                                      \
    "  AND (? IS NULL OR EXISTS (SELECT 1 FROM admin_unit_districts x"                             \
    "       WHERE x.unit_code = h.commune_code AND x.district_code = ?))"                          \
    "  AND (? IS NULL OR h.status = ?)"                                                            \
    "  AND (? < 0 OR h.youth_led = ?)"                                                             \
    "  AND (? IS NULL OR h.name_folded LIKE ?)"                                                    \
    "  AND (? IS NULL OR h.phone_bidx = ?)"                                                        \
    "  AND (? IS NULL OR h.cccd_bidx = ?)"                                                         \
    "  AND (? IS NULL OR h.code = ?)"                                                              \
    "  AND (? < 0 OR (h.pin_hash IS NOT NULL) = ?)"                                                \
    "  AND (? = 0 OR EXISTS (SELECT 1 FROM seller_accounts sa"                                     \
    "       WHERE sa.household_id = h.id AND sa.state = 'awaiting_owner'))"                        \
    "  AND (? = 0 OR EXISTS (SELECT 1 FROM products pr JOIN listings li ON li.product_id = pr.id"  \
    "       WHERE pr.household_id = h.id AND li.state = 'rejected'))"
static const char SQL_LIST[] =
    HH_SELECT
    " WHERE h.id > ?"
    HH_LIST_WHERE
    " ORDER BY h.id"
    " LIMIT ?";
/* newest first (the volunteer's list): after_id 0 starts at the newest */
static const char SQL_LIST_NEWEST[] =
    HH_SELECT
    " WHERE (? = 0 OR h.id < ?)"
    HH_LIST_WHERE
    " ORDER BY h.id DESC"
    " LIMIT ?";
enum { LK_ID, LK_COMMUNE, LK_STATUS };
static const char SQL_LOOKUP[] =
    "SELECT id, commune_code, status"
    " FROM households"
    " WHERE code = ?";
// clang-format on

static json_t *str_or_null(const cs_rows *r, size_t i, unsigned col)
{
    return cs_rows_strn(r, i, col) ? json_string(cs_rows_str(r, i, col)) : json_null();
}

static json_t *row_json(const cs_rows *r, size_t i, cs_pii pii, cs_error *err)
{
    int erased = !strcmp(cs_rows_str(r, i, HH_STATUS), "erased");
    json_t *o = json_pack(
        "{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:b,s:I,s:b}", "code", cs_rows_str(r, i, HH_CODE),
        "commune_code", cs_rows_str(r, i, HH_COMMUNE), "commune", "code",
        cs_rows_str(r, i, HH_COMMUNE), "name", cs_rows_str(r, i, HH_COMMUNE_NAME),
        "former_district", "code", cs_rows_str(r, i, HH_DISTRICT), "name",
        cs_rows_str(r, i, HH_DISTRICT_NAME), "status", cs_rows_str(r, i, HH_STATUS), "youth_led",
        (int)cs_rows_i64(r, i, HH_YOUTH), "owner_age", (json_int_t)cs_rows_i64(r, i, HH_AGE),
        "pin_set", (int)cs_rows_i64(r, i, HH_PIN_SET));
    if (!o) return NULL;
    /* without personal data (monitors, the stored answer to a creation): no name, age, tax
       code or business registration — code, commune, youth-led and the dates remain */
    if (pii == CS_PII_ANON) json_object_del(o, "owner_age");
    json_object_set_new(o, "registered_at", json_string(cs_rows_str(r, i, HH_CREATED)));
    json_object_set_new(o, "updated_at", json_string(cs_rows_str(r, i, HH_UPDATED)));
    json_object_set_new(o, "onboarded_at", str_or_null(r, i, HH_ONBOARDED));
    json_object_set_new(o, "version", json_integer(cs_rows_i64(r, i, HH_VERSION)));
    if (erased) return o;
    json_object_set_new(o, "has_epayment", json_boolean(cs_rows_i64(r, i, HH_EPAY)));
    json_object_set_new(o, "consent",
                        json_pack("{s:s,s:s}", "at", cs_rows_str(r, i, HH_CONSENT_AT), "version",
                                  cs_rows_str(r, i, HH_CONSENT_VERSION)));
    if (pii == CS_PII_ANON) return o;
    json_object_set_new(o, "owner_name", json_string(cs_rows_str(r, i, HH_OWNER_NAME)));
    json_object_set_new(o, "business_name", str_or_null(r, i, HH_BUSINESS));
    json_object_set_new(o, "business_reg_no", str_or_null(r, i, HH_REGNO));
    json_object_set_new(o, "tax_code", str_or_null(r, i, HH_TAX));
    if (pii == CS_PII_NONE) return o;
    static const char *keys[] = {"cccd", "phone", "birth_date", "address"};
    static const char *aads[] = {CS_HH_AAD_CCCD, CS_HH_AAD_PHONE, CS_HH_AAD_BIRTH,
                                 CS_HH_AAD_ADDRESS};
    static const unsigned cols[] = {HH_CCCD, HH_PHONE, HH_BIRTH, HH_ADDRESS};
    for (unsigned k = 0; k < 4; k++) {
        char *plain = unseal_col(r, i, cols[k], aads[k], err);
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
    if (cs_db_query(db, &r, SQL_GET, "s", code, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (commune_out) snprintf(commune_out, 6, "%s", cs_rows_str(r, 0, HH_COMMUNE));
    *out = row_json(r, 0, pii, err);
    cs_rows_free(r);
    if (!*out) return err->code == CS_OK ? cs_error_set(err, CS_E_NOMEM, NULL) : -1;
    return 0;
}

int cs_household_lookup(cs_db *db, const char *code, int64_t *id, char commune_out[6], int *erased,
                        cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_LOOKUP, "s", code, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    if (id) *id = cs_rows_i64(r, 0, LK_ID);
    if (commune_out) snprintf(commune_out, 6, "%s", cs_rows_str(r, 0, LK_COMMUNE));
    if (erased) *erased = !strcmp(cs_rows_str(r, 0, LK_STATUS), "erased");
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
        if (vn_phone_normalize(f->phone, canon, &why))
            return cs_error_field(err, "phone", why, NULL);
        if (cs_blind_index("phone", canon, pb)) return cs_error_set(err, CS_E_CRYPTO, NULL);
        phone_b = pb;
    }
    if (f->cccd) {
        char canon[13];
        cs_code why;
        if (vn_cccd_normalize(f->cccd, 0, canon, &why))
            return cs_error_field(err, "cccd", why, NULL);
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
    int has_pin = f->pin_filter == 1 ? 1 : f->pin_filter == 2 ? 0 : -1;
    int rc =
        f->newest
            ? cs_db_query(db, &r, SQL_LIST_NEWEST, "iissssssssiissbbbbssiiiii", f->after_id,
                          f->after_id, scope, scope, f->commune, f->commune, f->former_district,
                          f->former_district, f->status, f->status, (int64_t)f->youth_led,
                          (int64_t)f->youth_led, like, like, phone_b, (size_t)32, phone_b,
                          (size_t)32, cccd_b, (size_t)32, cccd_b, (size_t)32, f->code, f->code,
                          (int64_t)has_pin, (int64_t)has_pin, (int64_t)(f->awaiting_owner != 0),
                          (int64_t)(f->has_rejected != 0), (int64_t)limit + 1, err)
            : cs_db_query(db, &r, SQL_LIST, "issssssssiissbbbbssiiiii", f->after_id, scope, scope,
                          f->commune, f->commune, f->former_district, f->former_district, f->status,
                          f->status, (int64_t)f->youth_led, (int64_t)f->youth_led, like, like,
                          phone_b, (size_t)32, phone_b, (size_t)32, cccd_b, (size_t)32, cccd_b,
                          (size_t)32, f->code, f->code, (int64_t)has_pin, (int64_t)has_pin,
                          (int64_t)(f->awaiting_owner != 0), (int64_t)(f->has_rejected != 0),
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
    if (n > (size_t)limit) *next_cursor = cs_rows_i64(r, (size_t)limit - 1, HH_ID);
    cs_rows_free(r);
    *out = arr;
    return 0;
}

struct erase_ctx {
    const cs_actor *a;
    const char *code;
    json_t *orphans;
};

// clang-format off
enum { ER_ID, ER_STATUS };
static const char SQL_ERASE_LOAD[] =
    "SELECT id, status"
    " FROM households"
    " WHERE code = ?"
    " FOR UPDATE";
/* images of this household's products that no other household's product uses */
enum { ORPHAN_SHA };
static const char SQL_ERASE_ORPHANS[] =
    "SELECT DISTINCT i.sha256"
    " FROM product_images i"
    " JOIN products p ON p.id = i.product_id"
    " WHERE p.household_id = ?"
    "  AND NOT EXISTS (SELECT 1 FROM product_images j"
    "                  JOIN products q ON q.id = j.product_id"
    "                  WHERE j.sha256 = i.sha256 AND q.household_id <> ?)";
static const char SQL_ERASE_IMAGES[] =
    "DELETE i"
    " FROM product_images i"
    " JOIN products p ON p.id = i.product_id"
    " WHERE p.household_id = ?";
static const char SQL_ERASE_HOUSEHOLD[] =
    "UPDATE households"
    " SET owner_name = '', name_folded = '', business_name = NULL,"
    "  cccd_sealed = NULL, cccd_bidx = NULL, phone_sealed = NULL, phone_bidx = NULL,"
    "  birth_date_sealed = NULL, address_sealed = NULL, business_reg_no = NULL,"
    "  tax_code = NULL, pin_hash = NULL, status = 'erased', erased_at = UTC_TIMESTAMP(),"
    "  version = version + 1"
    " WHERE id = ?";
/* the tokens of a shop whose listings are still being taken down stay until the last take-down
   is confirmed (cs_household_release_tokens): without them the items would stay on sale */
static const char SQL_ERASE_TOKENS[] =
    "UPDATE seller_accounts"
    " SET oauth_state = NULL, auth_link = NULL"
    " WHERE household_id = ?";
/* the tokens of an erased household's shop, once none of its listings there is still being
   taken down (mp NULL: every shop) */
static const char SQL_RELEASE_TOKENS[] =
    "UPDATE seller_accounts a"
    " JOIN households h ON h.id = a.household_id AND h.status = 'erased'"
    " SET a.access_token_sealed = NULL, a.refresh_token_sealed = NULL"
    " WHERE a.household_id = ? AND (? IS NULL OR a.marketplace_code = ?)"
    "  AND NOT EXISTS (SELECT 1"
    "                  FROM listings l"
    "                  JOIN products p ON p.id = l.product_id"
    "                  WHERE p.household_id = a.household_id"
    "                   AND l.marketplace_code = a.marketplace_code AND l.state = 'withdrawing')";
// clang-format on

static int erase_tx(cs_db *db, void *arg, cs_error *err)
{
    struct erase_ctx *e = arg;
    json_array_clear(e->orphans);
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_ERASE_LOAD, "s", e->code, err)) return -1;
    if (!cs_rows_count(r)) {
        cs_rows_free(r);
        return cs_error_set(err, CS_E_NOT_FOUND, NULL);
    }
    int64_t id = cs_rows_i64(r, 0, ER_ID);
    int already = !strcmp(cs_rows_str(r, 0, ER_STATUS), "erased");
    cs_rows_free(r);
    if (already) return cs_error_set(err, CS_E_GONE, NULL);
    cs_rows *imgs = NULL;
    if (cs_db_query(db, &imgs, SQL_ERASE_ORPHANS, "ii", id, id, err)) return -1;
    for (size_t i = 0; i < cs_rows_count(imgs); i++)
        json_array_append_new(e->orphans, json_string(cs_rows_str(imgs, i, ORPHAN_SHA)));
    cs_rows_free(imgs);
    if (cs_db_exec(db, SQL_ERASE_IMAGES, "i", id, err) < 0 ||
        cs_db_exec(db, SQL_ERASE_HOUSEHOLD, "i", id, err) < 0 ||
        cs_listings_withdraw(db, 0, id, "consent_withdrawn",
                             "Hộ rút lại đồng ý: gỡ sản phẩm khỏi mọi sàn.", e->a, err) < 0 ||
        cs_db_exec(db, SQL_ERASE_TOKENS, "i", id, err) < 0 ||
        cs_db_exec(db, SQL_RELEASE_TOKENS, "iss", id, (const char *)NULL, (const char *)NULL, err) <
            0)
        return -1;
    return cs_audit(db, e->a, "household.erase", "household", e->code,
                    json_pack("{s:I}", "images_removed", (json_int_t)json_array_size(e->orphans)),
                    err);
}

int cs_household_erase(cs_db *db, const cs_actor *a, const char *code, json_t **orphans,
                       cs_error *err)
{
    struct erase_ctx e = {a, code, json_array()};
    if (!e.orphans) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (cs_db_tx(db, erase_tx, &e, err)) {
        json_decref(e.orphans);
        return -1;
    }
    if (orphans)
        *orphans = e.orphans;
    else
        json_decref(e.orphans);
    return 0;
}

struct release {
    int64_t household;
    const char *mp;
};
static int release_tx(cs_db *db, void *arg, cs_error *err)
{
    struct release *x = arg;
    return cs_db_exec(db, SQL_RELEASE_TOKENS, "iss", x->household, x->mp, x->mp, err) < 0 ? -1 : 0;
}

int cs_household_release_tokens(cs_db *db, int64_t household_id, const char *mp, cs_error *err)
{
    struct release x = {household_id, mp};
    return cs_db_tx(db, release_tx, &x, err);
}
