/* core/errors: the one error registry (core/errors.def) and the error value every layer fills.
 * Functions return 0 on success or a negative value, and describe the failure in a cs_error. */
#ifndef CS_ERRORS_H
#define CS_ERRORS_H
#include <stddef.h>

typedef enum cs_code {
#define X(e, code, status, vi, en) e,
#include "core/errors.def"
#undef X
    CS_CODE__COUNT
} cs_code;

typedef enum cs_lang { CS_LANG_VI = 0, CS_LANG_EN = 1 } cs_lang;

#define CS_MAX_FIELD_ERRORS 32

typedef struct cs_field_error {
    char field[64];   /* JSON field or spreadsheet column name, e.g. "phone" */
    cs_code code;     /* a CS_F_* or any registry code */
    char detail[160]; /* optional extra, language-neutral (e.g. "max 200"); may be empty */
} cs_field_error;

typedef struct cs_error {
    cs_code code;           /* CS_OK when no error */
    char detail[256];       /* optional; never holds personal data */
    char existing[64];      /* e.g. code of the existing household on a 409 */
    unsigned retry_after;   /* seconds, for 429/503 */
    int has_attempts;       /* 1: attempts_left is meaningful (owner sign-in) */
    unsigned attempts_left; /* wrong PINs still allowed before a wait */
    size_t nfields;
    cs_field_error fields[CS_MAX_FIELD_ERRORS];
} cs_error;

void cs_error_clear(cs_error *e);
/* Set the top-level code (and printf-style detail, may be NULL). Returns -1 for `return` use. */
int cs_error_set(cs_error *e, cs_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add a field error; the top-level code becomes CS_E_VALIDATION if it was CS_OK. Extra fields
 * past CS_MAX_FIELD_ERRORS are dropped. Returns -1. */
int cs_error_field(cs_error *e, const char *field, cs_code code, const char *detail);
int cs_error_failed(const cs_error *e); /* 1 when e holds an error (0 for NULL) */

const char *cs_code_name(cs_code c); /* stable machine code, e.g. "phone_invalid" */
int cs_code_status(cs_code c);       /* HTTP status */
const char *cs_code_message(cs_code c, cs_lang lang);
/* A field error's detail as shown in `lang`: details are written in English in the code
 * ("max 20", "expected integer", "digits in a name", a state name such as "not_started");
 * for CS_LANG_VI the known words and patterns become Vietnamese ("tối đa 20", "phải là số
 * nguyên", "tên có chữ số", "chưa mở gian hàng"), anything else — numbers, codes, names —
 * is kept as given. Writes into out (always NUL-terminated) and returns out. */
const char *cs_detail_text(const char *detail, cs_lang lang, char *out, size_t outsz);
/* Look a stable name up; returns CS_CODE__COUNT when unknown. */
cs_code cs_code_from_name(const char *name);
/* Pick the language from an Accept-Language header value: EN when the first listed language
 * is English ("en", "en-US", "en;q=0.9, vi"), otherwise VI (also for NULL or empty). */
cs_lang cs_lang_from_header(const char *accept_language);
#endif
