/* core/jspec: declarative checks of JSON request bodies (after GNU Taler's JSON specs), so a
 * bad body is answered with every wrong field named. Pure: no I/O, no HTTP. */
#ifndef CS_JSPEC_H
#define CS_JSPEC_H
#include "core/errors.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cs_jtype {
    CS_J_STRING = 1, /* out: const char ** (borrowed from the JSON, valid while it lives) */
    CS_J_INT,        /* out: int64_t * — a JSON integer (1.0 is refused, so is 1e3) */
    CS_J_BOOL,       /* out: int * (0/1) */
    CS_J_NUMBER,     /* out: double * — integer or real */
    CS_J_OBJECT,     /* out: const json_t ** ; checked against `fields` when given */
    CS_J_ARRAY,      /* out: const json_t ** ; each item checked with `items` when given */
    CS_J_ANY,        /* out: const json_t ** */
    CS_J_BOOLISH,    /* out: int * (0/1) — a boolean as spreadsheets and people write it: true,
                        false, 0, 1, or text có/không/co/khong/x/yes/y/no/n/true/false/1/0/
                        "đồng ý" (case and diacritics ignored); blank text counts as absent;
                        other text → CS_F_ENUM "có/không" */
} cs_jtype;

enum {
    CS_JF_REQUIRED = 1u << 0, /* missing → "required" */
    CS_JF_NULLABLE = 1u << 1, /* JSON null accepted: out set to NULL (strings/objects) and
                               *present = 2, so an update can tell "clear" from "keep" */
    CS_JF_OPEN = 1u << 2,     /* CS_J_OBJECT: unknown members inside are allowed */
    /* Coercions for input that may come from a spreadsheet row mapped to JSON (cells arrive
     * as text or as numbers). The check function sees the value after coercion. */
    CS_JF_NULL_ABSENT = 1u << 3,  /* JSON null counts as absent (an empty cell) */
    CS_JF_EMPTY_ABSENT = 1u << 4, /* CS_J_STRING: "" counts as absent */
    CS_JF_INT_TEXT = 1u << 5,     /* CS_J_STRING: a JSON integer is taken as its decimal text;
                                     CS_J_INT: decimal text is taken as the integer (spaces
                                     around allowed, blank text counts as absent; anything else
                                     → CS_F_TYPE) */
    CS_JF_CLEAN = 1u << 6,        /* CS_J_STRING: cleaned with vn_text_clean (NFC, trimmed,
                                     spaces collapsed) before the length checks, `one_of` and
                                     the check; lengths count the cleaned text; cleaned to
                                     nothing with min_len > 0 → CS_F_REQUIRED; an embedded NUL
                                     → CS_F_FORMAT, invalid UTF-8 → CS_F_UTF8 */
    CS_JF_LINES = 1u << 7,        /* with CS_JF_CLEAN: each line cleaned on its own, line
                                     breaks kept (descriptions); leading blank lines dropped */
};
/* A coerced string (CS_JF_CLEAN, or an integer given for a CS_JF_INT_TEXT string) lives only
 * while its check runs: `out` is not written for such fields, so their check keeps a copy. */

struct cs_jfield;
/* Extra rule for one value, run after the type and length checks passed. `field` is the full
 * name ("items[2].name") to put in the error. Return 0, or -1 after cs_error_field(). */
typedef int (*cs_jcheck)(const char *field, const json_t *value, void *arg, cs_error *err);

typedef struct cs_jfield {
    const char *name; /* NULL ends a list */
    cs_jtype type;
    unsigned flags;            /* CS_JF_* */
    size_t min_len;            /* strings: in characters (code points); arrays: in items */
    size_t max_len;            /* 0 = no limit */
    int64_t min, max;          /* CS_J_INT: range, checked when min < max */
    const char *const *one_of; /* CS_J_STRING: NULL-terminated allowed values, or NULL */
    cs_jcheck check;           /* optional */
    void *check_arg;
    void *out;                      /* optional destination, type as above; untouched when absent */
    int *present;                   /* optional: 0 absent, 1 present, 2 null */
    const struct cs_jfield *fields; /* CS_J_OBJECT members, or CS_J_ARRAY item members */
    const struct cs_jfield *items;  /* CS_J_ARRAY: spec of one item (its name is ignored) */
} cs_jfield;

/* The spec of a body that must say nothing: `{}` passes, any member is an unknown field. For
 * actions that take no input, so a body that says something is refused rather than ignored. */
extern const cs_jfield cs_jspec_empty[];

/* Check `obj` (must be a JSON object) against `spec` (ended by an entry with name NULL):
 * unknown members, missing required members, wrong types, lengths, ranges, allowed values
 * and the per-field checks. Every failure becomes a field error in err (the top-level code
 * CS_E_VALIDATION); outputs are written only for fields that passed. Returns 0 or -1. */
int cs_json_check(const json_t *obj, const cs_jfield *spec, cs_error *err);

/* Number of Unicode code points in valid UTF-8 `s` (jansson has already validated it). */
size_t cs_utf8_len(const char *s, size_t bytes);
/* 1 when `s` (n bytes) is valid UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF). */
int cs_utf8_valid(const char *s, size_t n);

/* Parse a request body. On success returns the JSON (caller decrefs). On failure returns
 * NULL with err: CS_E_BAD_JSON (detail says where), or CS_E_BAD_UTF8 with the field(s) that
 * hold the invalid bytes named ("name", "items[1].title"; "(key)" suffix when a member name
 * itself is broken). Duplicate member names are refused. */
json_t *cs_json_parse(const char *body, size_t len, cs_error *err);
#endif
