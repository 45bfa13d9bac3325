/* core/vn: Vietnamese data rules — mobile phones, CCCD citizen IDs, dates as people write
 * them, NFC text and its folded search key, prices in whole đồng. Pure functions, no I/O.
 * Each validator returns 0, or -1 with *why set to the CS_F_* code that says what is wrong. */
#ifndef CS_VN_H
#define CS_VN_H
#include "core/errors.h"
#include <stddef.h>
#include <stdint.h>

/* Mobile number → canonical "0XXXXXXXXX" (10 digits). Accepts "09…", "+849…", "849…" (11 or 12
 * digits), "0084…", "+84 (0) 9…", spaces (also NBSP), dots, dashes, parentheses, and Excel's
 * lost leading zero (9 digits). Landlines (02…, also "+84 2…" and a 10-digit "2…" that lost
 * its zero) → CS_F_PHONE_LANDLINE; a network prefix not in use (e.g. 011…, the pre-2018
 * 11-digit 01xx numbers) → CS_F_PHONE_PREFIX; anything else (letters, foreign country codes,
 * wrong length) → CS_F_PHONE_INVALID. out is written only on success. */
int vn_phone_normalize(const char *in, char out[11], cs_code *why);

/* Citizen ID (CCCD) → 12 canonical digits. Accepts surrounding spaces and inner spaces/dots.
 * Refuses scientific notation ("3.8E+11", CS_F_CCCD_SCIENTIFIC) and numbers that lost leading
 * zeros (11 digits: CS_F_CCCD_INVALID, detail via *why only). Checks the province prefix
 * (vn_provinces_pre2025: 001..096 as in the data file) → CS_F_CCCD_PROVINCE, and when
 * birth_year > 0 that digit 4 (century) and digits 5–6 match it → CS_F_CCCD_BIRTH. */
int vn_cccd_normalize(const char *in, int birth_year, char out[13], cs_code *why);
/* 1 when the 3-digit prefix is a valid province-of-registration code. */
int vn_cccd_province_ok(const char *three_digits);
/* Province name ("Tỉnh Thanh Hóa") for a 3-digit prefix, or NULL. Static string. */
const char *vn_cccd_province_name(const char *three_digits);
/* Sex encoded in digit 4 of a canonical CCCD: 0 male, 1 female, -1 malformed. */
int vn_cccd_sex(const char *cccd12);

typedef struct vn_date {
    int y, m, d;
} vn_date;
/* Years a date may have (anything else is a typo for the dates this service sees). */
#define VN_YEAR_MIN 1900
#define VN_YEAR_MAX 2199
/* Largest Excel serial taken as a date (2119-01-11). */
#define VN_EXCEL_SERIAL_MAX 80000
/* Parse "dd/mm/yyyy", "d/m/yyyy", "d/m/yy", "dd-mm-yyyy", "dd.mm.yyyy", ISO "yyyy-mm-dd" (also
 * "yyyy/mm/dd"), surrounding spaces allowed, and, when allow_serial, an Excel serial day number
 * (1900 date system: 1 = 1900-01-01, 60 = Excel's non-existent 1900-02-29 is refused,
 * "36526" = 2000-01-01; range 1..VN_EXCEL_SERIAL_MAX; a time fraction ".5" is dropped; a
 * number VN_YEAR_MIN..VN_YEAR_MAX is refused: it is a year typed alone, not a day in 1905).
 * Two-digit years pivot on today (Asia/Ho_Chi_Minh): yy ≤ this year's last two digits → 20yy,
 * else 19yy (in 2026: "05" → 2005, "26" → 2026, "27" → 1927). Validates the calendar (leap
 * years) and VN_YEAR_MIN..VN_YEAR_MAX. → CS_F_DATE_INVALID; *out untouched on failure. */
int vn_date_parse(const char *in, int allow_serial, vn_date *out, cs_code *why);
/* -1, 0, 1 as a is before, equal to, after b. */
int vn_date_cmp(vn_date a, vn_date b);
/* Whole years between birth and on (0 if on precedes birth). Born 29 February: one year older
 * on 1 March of a common year. */
int vn_age_on(vn_date birth, vn_date on);
/* Today's date in Asia/Ho_Chi_Minh (UTC+7, no DST). */
vn_date vn_today(void);
/* "yyyy-mm-dd" into out[11]. */
void vn_date_iso(vn_date d, char out[11]);

/* UTF-8 text → NFC, trimmed, inner runs of white space collapsed to one space. White space is
 * Unicode's (NBSP, ideographic space, line/paragraph separators) and control characters count
 * as white space. Returns a new string (caller frees with cs_free) or NULL with
 * *why = CS_F_UTF8 (invalid UTF-8: overlong forms, surrogates, truncated sequences),
 * CS_F_REQUIRED (in is NULL) or CS_E_NOMEM. */
char *vn_text_clean(const char *in, cs_code *why);
/* Search key: NFC → no diacritics, đ/Đ → d, lower case, ASCII only, single spaces.
 * "Nguyễn Văn An" → "nguyen van an". Ð/ð (eth, used for Đ by old fonts) → d too.
 * Compatibility forms fold too (full-width "Ａ" → "a");
 * characters with no ASCII letter behind them (emoji, CJK) are dropped; ASCII punctuation
 * stays. New string (cs_free) or NULL on invalid UTF-8/OOM. */
char *vn_fold(const char *in);
/* Cut a folded key (ASCII) to at most `max` bytes, without a trailing space. Compatibility
 * folding can make a key longer than its text ("⑴" → "(1)", "㎉" → "kcal", "Ⅻ" → "xii",
 * "ﬃ" → "ffi"): a search key is a prefix index, never shown, so it is cut to fit its column
 * rather than refusing the name or letting the database refuse the row. */
void vn_key_cap(char *key, size_t max);
/* Number of Unicode code points, or -1 for invalid UTF-8. */
long vn_utf8_len(const char *s);
/* 1 when s is valid UTF-8. */
int vn_utf8_valid(const char *s);

#define VN_PRICE_MAX 10000000000LL /* 10^10 đồng */
/* Price in whole đồng: accepts "150000", "150.000", "150,000", "150 000", "150000đ",
 * "150.000 VND" (also ₫, VNĐ, đồng, dong, any ASCII case); thousands groups must be 3 digits
 * with one kind of separator. Refuses decimals ("1.5", "150000,50"), zero, negatives,
 * > VN_PRICE_MAX → CS_F_PRICE. */
int vn_price_parse(const char *in, int64_t *out, cs_code *why);

/* Mask for lists: "0912345678" → "09******78"; CCCD "038090012345" → "038*******45". Values
 * of 12+ code points keep 3 + 2, of 5..11 keep 2 + 2, shorter ones are all stars; invalid UTF-8
 * is all stars. Truncated to outsz (always NUL-terminated, never splits a character). */
void vn_mask(const char *in, char *out, size_t outsz);
#endif
