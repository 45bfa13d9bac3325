/* core/jsonv: small helpers to read loosely typed JSON input (API bodies and spreadsheet rows
 * mapped to JSON), naming the field in every error. No I/O. */
#ifndef CS_JSONV_H
#define CS_JSONV_H
#include "core/errors.h"
#include <jansson.h>
#include <stdint.h>

/* Refuse keys not in the NULL-terminated list: one CS_F_UNKNOWN error per key. 0 or -1. */
int cs_jv_only(json_t *in, const char *const *allowed, cs_error *err);
/* Text of a string field; numbers (integers) are turned to text when allow_number.
 * Returns 1 present (into *out, caller frees), 0 absent or null, -1 wrong type (error added). */
int cs_jv_text(json_t *in, const char *key, int allow_number, char **out, cs_error *err);
/* Boolean from true/false, 0/1, or text có/không/co/khong/x/yes/no/true/false/1/0/"" (absent).
 * 1 present, 0 absent, -1 wrong (error added). */
int cs_jv_bool(json_t *in, const char *key, int *out, cs_error *err);
/* Integer from a JSON integer or decimal text (spaces and . , thousands separators refused
 * unless allow_grouping). 1 present, 0 absent, -1 wrong (error added). */
int cs_jv_int(json_t *in, const char *key, int64_t min, int64_t max, int64_t *out, cs_error *err);
#endif
