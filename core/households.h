/* core/households: register, read, update, search and erase household businesses, with full
 * validation (every failing field named), sealing of personal fields, de-duplication by the
 * citizen ID's blind index, optimistic locking by version and an audit row per change.
 * One header, four rooms: households_validate.c (the field rules, a core/jspec table),
 * households.c (storage), households_bulk.c (the import's bulk upsert), pin.c (the owner's PIN).
 * Input is a JSON object (the API body, or a spreadsheet row mapped to the same keys):
 *   owner_name, cccd, phone, birth_date, commune_code, address, business_name,
 *   business_reg_no, tax_code, has_epayment, consent, consent_version
 * Unknown keys are refused. Spreadsheet cells may arrive as text or numbers: digits as numbers
 * where digits are meant, booleans as có/không/x/1/0, an empty cell as null (absent). */
#ifndef CS_HOUSEHOLDS_H
#define CS_HOUSEHOLDS_H
#include "core/audit.h"
#include "core/db.h"
#include "core/vn.h"
#include <jansson.h>
#include <stdint.h>

/* households.name_folded is VARCHAR(200) ascii (schemas/sql/003). */
#define CS_HH_NAME_KEY_MAX 200

/* Normalised, validated household (owned strings; free with cs_household_norm_free). */
typedef struct cs_household_norm {
    char *owner_name, *name_folded, *address, *business_name, *business_reg_no, *tax_code;
    char cccd[13], phone[11];
    char commune_code[6];
    vn_date birth;
    int has_epayment; /* 0/1 */
    int consent;      /* 1 when given in this input */
    char consent_version[21];
    int owner_age; /* at registration (today, Asia/Ho_Chi_Minh) */
    int youth_led;
    unsigned present; /* CS_HF_* bits of the keys present in the input */
} cs_household_norm;

enum {
    CS_HF_OWNER_NAME = 1u << 0,
    CS_HF_CCCD = 1u << 1,
    CS_HF_PHONE = 1u << 2,
    CS_HF_BIRTH = 1u << 3,
    CS_HF_COMMUNE = 1u << 4,
    CS_HF_ADDRESS = 1u << 5,
    CS_HF_BUSINESS = 1u << 6,
    CS_HF_REGNO = 1u << 7,
    CS_HF_TAX = 1u << 8,
    CS_HF_EPAY = 1u << 9,
    CS_HF_CONSENT = 1u << 10,
    CS_HF_CONSENT_VER = 1u << 11,
};

/* Validate and normalise. partial = 1 for updates (missing keys mean "unchanged"; consent may
 * not be withdrawn this way). Pure apart from today's date; does not check that the commune
 * exists (the database does). Returns 0, or -1 with one field error per bad field. */
int cs_household_validate(json_t *in, int partial, cs_household_norm *out, cs_error *err);
void cs_household_norm_free(cs_household_norm *n);
/* The commune an input names, read by the same rule as cs_household_validate, into out[6]; ""
 * when it is absent or malformed (validation then names the field). For access checks made
 * before validation. */
void cs_household_commune(const json_t *in, char out[6]);
/* Keyed hash of the normalised content (HMAC under the index key, so it reveals nothing):
 * equal hashes mean a re-upload changes nothing. */
int cs_household_content_hash(const cs_household_norm *n, unsigned char out[32]);

typedef struct cs_household_result {
    int64_t id;
    char code[24];
    char pin[8]; /* set only when a PIN was issued now; show it once */
    unsigned version;
    enum { CS_HH_CREATED, CS_HH_UPDATED, CS_HH_UNCHANGED } outcome;
} cs_household_result;

/* Register inside the caller's transaction. A household with the same citizen ID →
 * CS_E_DUPLICATE_HOUSEHOLD with err->existing = its code (never a duplicate). issue_pin = 0
 * leaves the PIN unset (bulk imports; a volunteer issues it later with cs_household_new_pin). */
int cs_household_insert(cs_db *db, const cs_actor *a, const cs_household_norm *n, int issue_pin,
                        int64_t import_id, cs_household_result *res, cs_error *err);
/* Validate + insert in its own transaction. */
int cs_household_create(cs_db *db, const cs_actor *a, json_t *in, cs_household_result *res,
                        cs_error *err);
/* Insert, or — when the citizen ID is known — update that household from the same full input
 * (reported UPDATED, or UNCHANGED when the content hash is equal). For imports; in the
 * caller's transaction. */
int cs_household_upsert(cs_db *db, const cs_actor *a, const cs_household_norm *n, int64_t import_id,
                        cs_household_result *res, cs_error *err);

/* Bulk form of cs_household_upsert for imports, inside the caller's transaction: the same rows,
 * columns, content hash and outcomes as calling cs_household_upsert on rows[0..n) in order,
 * in a few statements per batch (one query finds the batch's existing households, one
 * array-bound INSERT writes the new ones, codes are reserved in one statement). rows[i] may be
 * NULL (skipped; res[i] zeroed). res has n entries (filled for every written row). row_err
 * (may be NULL; n entries) gets CS_F_COMMUNE for a row whose commune does not exist (that row
 * is skipped, the others are written) and CS_OK otherwise. Audit: one "household.create_bulk"
 * row per batch with the first and last code created and the count (consecutive codes), one
 * "household.update" per updated household. Returns 0, or -1 with err (database, crypto): nothing
 * of the batch should then be committed. */
int cs_household_upsert_bulk(cs_db *db, const cs_actor *a, cs_household_norm *const *rows, size_t n,
                             int64_t import_id, cs_household_result *res, cs_code *row_err,
                             cs_error *err);

/* The same in two steps, so the CPU part (blind indexes, content hashes and — with seal = 1 —
 * the sealing of every row, ~15 µs a row) can run on another thread while the previous batch
 * is written: prepare needs no database; write runs inside the caller's transaction and may be
 * called again on the same prepared batch when that transaction is re-run. rows must stay
 * valid until cs_household_bulk_free. */
typedef struct cs_household_bulk cs_household_bulk;
typedef struct cs_household_known cs_household_known;
/* known (may be NULL, see below): with seal = 1, rows it holds are not sealed in advance (they
 * are most likely unchanged); write seals any of them that turns out to be new. */
int cs_household_bulk_prepare(cs_household_norm *const *rows, size_t n, int seal,
                              const cs_household_known *known, cs_household_bulk **out,
                              cs_error *err);
/* known (may be NULL): a snapshot of the citizen IDs that existed before (cs_household_known_load);
 * rows not in it are taken as new without the look-up. A household created after the snapshot
 * then makes the INSERT fail with CS_E_DUPLICATE_HOUSEHOLD: roll back and write the batch again
 * without the snapshot. */
int cs_household_bulk_write(cs_db *db, const cs_actor *a, cs_household_bulk *b,
                            const cs_household_known *known, int64_t import_id,
                            cs_household_result *res, cs_code *row_err, cs_error *err);
void cs_household_bulk_free(cs_household_bulk *b);
/* Blind indexes of every household's citizen ID now, sorted (32 bytes each). 0 or -1. */
int cs_household_known_load(cs_db *db, cs_household_known **out, cs_error *err);
/* The same when there are at most max households with a citizen ID; more: *out = NULL (every
 * row is then looked up), so memory does not grow with the database. 0 or -1. */
int cs_household_known_load_upto(cs_db *db, size_t max, cs_household_known **out, cs_error *err);
void cs_household_known_free(cs_household_known *k);

/* Update with optimistic locking: expected_version must equal the stored version, else
 * CS_E_PRECONDITION. Partial JSON. Reports UNCHANGED without bumping the version when nothing
 * differs. Erased households → CS_E_GONE. Own transaction. */
int cs_household_update(cs_db *db, const cs_actor *a, const char *code, unsigned expected_version,
                        json_t *patch, cs_household_result *res, cs_error *err);

/* How much personal data a reader may see. */
/* NONE: no sealed field (the stored answer to a creation); ANON: no personal data at all —
 * also no owner name or age, business name, tax code or business registration (monitors). */
typedef enum cs_pii { CS_PII_NONE = 0, CS_PII_MASKED = 1, CS_PII_FULL = 2, CS_PII_ANON = 3 } cs_pii;

/* Read one household as a JSON object (caller decrefs). Personal fields per `pii`.
 * commune_out (may be NULL) receives the commune code for access checks. */
int cs_household_get(cs_db *db, const char *code, cs_pii pii, json_t **out, char commune_out[6],
                     cs_error *err);
/* Resolve code → id and commune (any state). 0, or -1 with CS_E_NOT_FOUND. */
int cs_household_lookup(cs_db *db, const char *code, int64_t *id, char commune_out[6], int *erased,
                        cs_error *err);

typedef struct cs_household_filter {
    const char *const *communes; /* restrict to these (volunteer scope); NULL = all */
    size_t ncommunes;
    const char *commune;         /* exact commune */
    const char *former_district; /* pre-2025 district code */
    const char *status;          /* registered | onboarding | onboarded | erased */
    int youth_led;               /* -1 any */
    const char *q;               /* folded text search on the name (prefix of words) */
    const char *phone;           /* exact, via blind index */
    const char *cccd;            /* exact, via blind index */
    int64_t after_id;            /* cursor */
    int limit;                   /* 1..200 */
    /* issue 13: the volunteer's search */
    const char *code;   /* exact household code (normalised) */
    int newest;         /* 1: newest first, after_id = the last id of the previous page */
    int pin_filter;     /* 0 any, 1 only with a PIN, 2 only without (imported ones) */
    int awaiting_owner; /* 1: only those with a shop waiting for the owner's authorisation */
    int has_rejected;   /* 1: only those with a product a marketplace refused */
} cs_household_filter;

/* List households (ascending id, or newest first with f->newest). *out: JSON array; *next_cursor:
 * id to pass as after_id, or 0 when this was the last page. Invalid phone/cccd filters are reported
 * as field errors. */
int cs_household_list(cs_db *db, const cs_household_filter *f, cs_pii pii, json_t **out,
                      int64_t *next_cursor, cs_error *err);

/* Issue a new 6-digit PIN (the old one stops working). Own transaction. */
int cs_household_new_pin(cs_db *db, const cs_actor *a, const char *code, char pin_out[8],
                         cs_error *err);

/* Issue a PIN only to a household that has none (the batch for imported households): 0 issued
 * (pin_out set, audited household.pin_issued), 1 it already had one (nothing changed, pin_out
 * zeroed), -1 error. Own transaction. */
int cs_household_first_pin(cs_db *db, const cs_actor *a, const char *code, char pin_out[8],
                           cs_error *err);

/* A household code as people type it ("th 2026 00037", "TH.2026.00037") → "TH-2026-00037".
 * -1 when it cannot be a household code. */
int cs_household_code_normalize(const char *in, char out[24]);

/* Owner sign-in: code (normalised here; a malformed one is CS_E_HOUSEHOLD_CODE_FORMAT and
 * counts nowhere) + PIN. No hard locks: per (code, client address) the first pin.free_tries
 * wrong PINs are free, then each waits pin.delay_base_seconds doubling up to
 * pin.delay_max_seconds (CS_E_PIN_LOCKED, retry_after); a code takes at most pin.daily_max
 * wrong PINs a day from addresses it has not signed in from within pin.known_days, and each
 * address as much for itself (CS_E_PIN_DAILY); an address takes pin.client_daily_max a day
 * across codes. Wrong PIN → CS_E_PIN_WRONG with err->attempts_left (same answer for an unknown
 * code). Failures and waits are audited. Returns 0 and the household id on success. */
int cs_household_check_pin(cs_db *db, const char *code, const char *pin, const char *client,
                           const char *request_id, int64_t *id, cs_error *err);

/* Withdrawal of consent: erase personal fields, name, PIN and images; keep an anonymous row
 * (commune, youth flag, onboarding dates) so past counts stay true. Images whose bytes no other
 * product uses are listed in *orphans (JSON array of sha256) for the caller to delete. */
int cs_household_erase(cs_db *db, const cs_actor *a, const char *code, json_t **orphans,
                       cs_error *err);
/* The erase moves the household's listings to withdrawing (core/states.h cs_listings_withdraw)
 * and keeps the shop tokens of a marketplace where some are still being taken down; the
 * take-down job calls this after each confirmation: the tokens of shop mp (NULL: every shop) of
 * an erased household go once nothing of it is withdrawing any more. Own transaction. */
int cs_household_release_tokens(cs_db *db, int64_t household_id, const char *mp, cs_error *err);
#endif
