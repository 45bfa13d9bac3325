/* core/households_int: what the households rooms (storage, bulk upsert) share with each other —
 * sealing of the personal fields and the full rewrite of one household. Not for other callers. */
#ifndef CS_HOUSEHOLDS_INT_H
#define CS_HOUSEHOLDS_INT_H
#include "core/households.h"

/* Associated data of each sealed column: a value sealed for one column cannot be moved to
 * another. */
#define CS_HH_AAD_CCCD "households.cccd"
#define CS_HH_AAD_PHONE "households.phone"
#define CS_HH_AAD_BIRTH "households.birth_date"
#define CS_HH_AAD_ADDRESS "households.address"

/* Sealed copies of the four personal fields, and the blind indexes of the two searchable ones
 * (owned; free with cs_hh_sealed_free). */
typedef struct cs_hh_sealed {
    unsigned char *cccd, *phone, *birth, *address;
    size_t cccd_n, phone_n, birth_n, address_n;
    unsigned char cccd_bidx[32], phone_bidx[32];
} cs_hh_sealed;

void cs_hh_sealed_free(cs_hh_sealed *s);
/* Seal every personal field of n into s. cccd_bidx: the citizen ID's blind index when already
 * computed (bulk imports), else NULL. 0, or -1 (s left empty; err CS_E_CRYPTO when err given). */
int cs_hh_seal(const cs_household_norm *n, const unsigned char *cccd_bidx, cs_hh_sealed *s,
               cs_error *err);
/* Write every field of n over household id and bump its version (moves its target counts when
 * the youth flag or the commune changes). Inside the caller's transaction. 0 or -1. */
int cs_hh_write_all(cs_db *db, int64_t id, const cs_household_norm *n, const unsigned char hash[32],
                    int consent_now, cs_error *err);
/* One CS_F_UNKNOWN field error per member of `in` that is not a household input key. 0 or -1. */
int cs_hh_unknown_keys(const json_t *in, cs_error *err);
/* The CS_HF_* bits of the household input keys that are members of `in`. */
unsigned cs_hh_key_bits(const json_t *in);
/* JSON array of the input keys whose CS_HF_* bits are set in present (for the audit row). */
json_t *cs_hh_field_names(unsigned present);
#endif
