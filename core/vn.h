/* core/vn: Vietnamese data rules — mobile phones, CCCD citizen IDs, dates as people write
 * them, NFC text and its folded search key, prices in whole đồng. Pure functions, no I/O.
 * Each validator returns 0, or -1 with *why set to the CS_F_* code that says what is wrong. */
#ifndef CS_VN_H
#define CS_VN_H
#include "core/errors.h"
#include <stddef.h>
#include <stdint.h>

/* Mobile number → canonical "0XXXXXXXXX" (10 digits). Accepts "09…", "+849…", "849…", "0084…",
 * spaces, dots, dashes, parentheses, and Excel's lost leading zero (9 digits starting with a
 * mobile prefix digit). Landlines (02…) → CS_F_PHONE_LANDLINE; unknown prefix →
 * CS_F_PHONE_PREFIX; anything else → CS_F_PHONE_INVALID. */
int vn_phone_normalize(const char *in, char out[11], cs_code *why);

/* Citizen ID (CCCD) → 12 canonical digits. Accepts surrounding spaces and inner spaces/dots.
 * Refuses scientific notation ("3.8E+11", CS_F_CCCD_SCIENTIFIC) and numbers that lost leading
 * zeros (11 digits: CS_F_CCCD_INVALID, detail via *why only). Checks the province prefix
 * (vn_provinces_pre2025: 001..096 as in the data file) → CS_F_CCCD_PROVINCE, and when
 * birth_year > 0 that digit 4 (century) and digits 5–6 match it → CS_F_CCCD_BIRTH. */
int vn_cccd_normalize(const char *in, int birth_year, char out[13], cs_code *why);
/* 1 when the 3-digit prefix is a valid province-of-registration code. */
int vn_cccd_province_ok(const char *three_digits);

typedef struct vn_date {
    int y, m, d;
} vn_date;
/* Parse "dd/mm/yyyy", "d/m/yyyy", "d/m/yy" (yy ≥ 30 → 19yy, else 20yy… see vn.c), "dd-mm-yyyy",
 * "dd.mm.yyyy", ISO "yyyy-mm-dd", and an Excel serial day number (1900 date system, e.g.
 * "36526" = 2000-01-01) when allow_serial. Validates the calendar. → CS_F_DATE_INVALID. */
int vn_date_parse(const char *in, int allow_serial, vn_date *out, cs_code *why);
/* Whole years between birth and on (0 if on precedes birth). */
int vn_age_on(vn_date birth, vn_date on);
/* Today's date in Asia/Ho_Chi_Minh (UTC+7, no DST). */
vn_date vn_today(void);
/* "yyyy-mm-dd" into out[11]. */
void vn_date_iso(vn_date d, char out[11]);

/* UTF-8 text → NFC, trimmed, inner runs of white space collapsed to one space. Returns a new
 * string (caller frees with cs_free) or NULL with *why = CS_F_UTF8 (invalid UTF-8) or
 * CS_E_NOMEM. */
char *vn_text_clean(const char *in, cs_code *why);
/* Search key: NFC → no diacritics, đ/Đ → d, lower case, ASCII only, single spaces.
 * "Nguyễn Văn An" → "nguyen van an". New string (cs_free) or NULL on invalid UTF-8/OOM. */
char *vn_fold(const char *in);
/* Number of Unicode code points, or -1 for invalid UTF-8. */
long vn_utf8_len(const char *s);

/* Price in whole đồng: accepts "150000", "150.000", "150,000", "150 000", "150000đ",
 * "150.000 VND"; refuses decimals, zero, negatives, > 10^10 → CS_F_PRICE. */
int vn_price_parse(const char *in, int64_t *out, cs_code *why);

/* Mask for lists: "0912345678" → "09******78"; CCCD "038090012345" → "038*******45". */
void vn_mask(const char *in, char *out, size_t outsz);
#endif
