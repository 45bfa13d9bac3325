/* core/vn: Vietnamese data rules (phones, CCCD, dates, NFC text and search keys, prices).
 * Pure functions: no I/O, no global mutable state, no logging (inputs are personal data). */
#include "core/vn.h"
#include "core/mem.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

static int fail(cs_code *why, cs_code c)
{
    if (why) *why = c;
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a separator that people and spreadsheets put inside numbers at p: ASCII space or
 * tab, or U+00A0 NO-BREAK SPACE (web pages and Excel exports), else 0. */
static size_t space_len(const char *p)
{
    if (*p == ' ' || *p == '\t') return 1;
    if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0) return 2;
    return 0;
}

static const char *skip_spaces(const char *p)
{
    size_t k;
    while ((k = space_len(p)) != 0 || *p == '\n' || *p == '\r')
        p += k ? k : 1;
    return p;
}

/* End of s with trailing spaces (as space_len, plus CR/LF) removed. */
static const char *trim_end(const char *s, const char *e)
{
    for (;;) {
        if (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) {
            e--;
        } else if (e - s >= 2 && (unsigned char)e[-2] == 0xC2 && (unsigned char)e[-1] == 0xA0) {
            e -= 2;
        } else {
            return e;
        }
    }
}

/* ---------------------------------------------------------------- phones */

/* Network prefixes in use since the 2018 renumbering (the three digits after the 0). */
static int mobile_prefix_ok(const char *nat)
{
    int p = (nat[1] - '0') * 10 + (nat[2] - '0');
    return (p >= 32 && p <= 39) || p == 52 || p == 56 || p == 58 || p == 59 || p == 70 ||
           (p >= 76 && p <= 79) || (p >= 81 && p <= 89) || (p >= 90 && p <= 99);
}

int vn_phone_normalize(const char *in, char out[11], cs_code *why)
{
    char d[24];
    size_t n = 0;
    int plus = 0;
    if (!in) return fail(why, CS_F_PHONE_INVALID);
    for (const char *p = in; *p;) {
        size_t k = space_len(p);
        if (k) {
            p += k;
        } else if (is_digit(*p)) {
            if (n + 1 >= sizeof d) return fail(why, CS_F_PHONE_INVALID);
            d[n++] = *p++;
        } else if (*p == '+' && !plus && n == 0) {
            plus = 1, p++;
        } else if (*p == '.' || *p == '-' || *p == '(' || *p == ')' || *p == '\n' || *p == '\r') {
            p++;
        } else {
            return fail(why, CS_F_PHONE_INVALID);
        }
    }
    d[n] = '\0';

    /* Country code. With "+" or "00" it must be 84 (foreign numbers are not accepted). Without
     * either, "84" opens an international number only at 11 or 12 digits: national numbers
     * start with 0, and a mobile that lost its zero in Excel has 9 digits. */
    const char *r = d;
    int intl = 0;
    if (plus) {
        if (strncmp(d, "84", 2) != 0) return fail(why, CS_F_PHONE_INVALID);
        r += 2, intl = 1;
    } else if (strncmp(d, "0084", 4) == 0) {
        r += 4, intl = 1;
    } else if (strncmp(d, "84", 2) == 0 && (n == 11 || n == 12)) {
        r += 2, intl = 1;
    }
    size_t m = strlen(r);
    if (intl && r[0] == '0') r++, m--; /* "+84 (0) 912 …": the trunk zero written anyway */

    char nat[24];
    if (r[0] == '0' && !intl) {
        memcpy(nat, r, m + 1);
    } else if (intl || m == 9 || (m == 10 && r[0] == '2')) {
        /* International form, or a number Excel stored as an integer (leading zero lost). A
         * 10-digit number starting with 2 is a landline that lost its zero: say so. */
        if (m == 0 || r[0] == '0') return fail(why, CS_F_PHONE_INVALID);
        nat[0] = '0';
        memcpy(nat + 1, r, m + 1);
        m++;
    } else {
        return fail(why, CS_F_PHONE_INVALID);
    }

    if (m >= 10 && m <= 11 && nat[1] == '2') return fail(why, CS_F_PHONE_LANDLINE);
    /* 11-digit 01xx numbers are the pre-2018 mobile prefixes, no longer dialable. */
    if (m == 11 && nat[1] == '1') return fail(why, CS_F_PHONE_PREFIX);
    if (m != 10) return fail(why, CS_F_PHONE_INVALID);
    if (!mobile_prefix_ok(nat)) return fail(why, CS_F_PHONE_PREFIX);
    memcpy(out, nat, 11);
    return 0;
}

/* ---------------------------------------------------------------- CCCD */

/* Place-of-registration codes (Circular 07/2016/TT-BCA: GSO province code with a leading 0),
 * generated from ../shared/data/vn_provinces_pre2025.csv (63 provinces as of 2025-01-01).
 * Sorted, so a binary search would do; a linear scan of 63 entries is as fast here. */
static const struct {
    char code[4];
    const char *name;
} provinces[] = {
    {"001", "Thành phố Hà Nội"},
    {"002", "Tỉnh Hà Giang"},
    {"004", "Tỉnh Cao Bằng"},
    {"006", "Tỉnh Bắc Kạn"},
    {"008", "Tỉnh Tuyên Quang"},
    {"010", "Tỉnh Lào Cai"},
    {"011", "Tỉnh Điện Biên"},
    {"012", "Tỉnh Lai Châu"},
    {"014", "Tỉnh Sơn La"},
    {"015", "Tỉnh Yên Bái"},
    {"017", "Tỉnh Hoà Bình"},
    {"019", "Tỉnh Thái Nguyên"},
    {"020", "Tỉnh Lạng Sơn"},
    {"022", "Tỉnh Quảng Ninh"},
    {"024", "Tỉnh Bắc Giang"},
    {"025", "Tỉnh Phú Thọ"},
    {"026", "Tỉnh Vĩnh Phúc"},
    {"027", "Tỉnh Bắc Ninh"},
    {"030", "Tỉnh Hải Dương"},
    {"031", "Thành phố Hải Phòng"},
    {"033", "Tỉnh Hưng Yên"},
    {"034", "Tỉnh Thái Bình"},
    {"035", "Tỉnh Hà Nam"},
    {"036", "Tỉnh Nam Định"},
    {"037", "Tỉnh Ninh Bình"},
    {"038", "Tỉnh Thanh Hóa"},
    {"040", "Tỉnh Nghệ An"},
    {"042", "Tỉnh Hà Tĩnh"},
    {"044", "Tỉnh Quảng Bình"},
    {"045", "Tỉnh Quảng Trị"},
    {"046", "Tỉnh Thừa Thiên Huế"},
    {"048", "Thành phố Đà Nẵng"},
    {"049", "Tỉnh Quảng Nam"},
    {"051", "Tỉnh Quảng Ngãi"},
    {"052", "Tỉnh Bình Định"},
    {"054", "Tỉnh Phú Yên"},
    {"056", "Tỉnh Khánh Hòa"},
    {"058", "Tỉnh Ninh Thuận"},
    {"060", "Tỉnh Bình Thuận"},
    {"062", "Tỉnh Kon Tum"},
    {"064", "Tỉnh Gia Lai"},
    {"066", "Tỉnh Đắk Lắk"},
    {"067", "Tỉnh Đắk Nông"},
    {"068", "Tỉnh Lâm Đồng"},
    {"070", "Tỉnh Bình Phước"},
    {"072", "Tỉnh Tây Ninh"},
    {"074", "Tỉnh Bình Dương"},
    {"075", "Tỉnh Đồng Nai"},
    {"077", "Tỉnh Bà Rịa - Vũng Tàu"},
    {"079", "Thành phố Hồ Chí Minh"},
    {"080", "Tỉnh Long An"},
    {"082", "Tỉnh Tiền Giang"},
    {"083", "Tỉnh Bến Tre"},
    {"084", "Tỉnh Trà Vinh"},
    {"086", "Tỉnh Vĩnh Long"},
    {"087", "Tỉnh Đồng Tháp"},
    {"089", "Tỉnh An Giang"},
    {"091", "Tỉnh Kiên Giang"},
    {"092", "Thành phố Cần Thơ"},
    {"093", "Tỉnh Hậu Giang"},
    {"094", "Tỉnh Sóc Trăng"},
    {"095", "Tỉnh Bạc Liêu"},
    {"096", "Tỉnh Cà Mau"},
};

const char *vn_cccd_province_name(const char *three_digits)
{
    if (!three_digits) return NULL;
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++)
        if (!memcmp(provinces[i].code, three_digits, 3)) return provinces[i].name;
    return NULL;
}

int vn_cccd_province_ok(const char *three_digits)
{
    if (!three_digits || !is_digit(three_digits[0]) || !is_digit(three_digits[1]) ||
        !is_digit(three_digits[2]))
        return 0;
    return vn_cccd_province_name(three_digits) != NULL;
}

/* "3.8E+11", "3,80901E+11", "3.8e11": what a spreadsheet shows after turning a 12-digit ID
 * into a number. The digits past the mantissa are gone, so it cannot be repaired. */
static int looks_scientific(const char *s, const char *e)
{
    const char *p = s;
    int mant = 0;
    while (p < e && is_digit(*p))
        p++, mant++;
    if (p < e && (*p == '.' || *p == ',')) {
        p++;
        while (p < e && is_digit(*p))
            p++, mant++;
    }
    if (!mant || p >= e || (*p != 'e' && *p != 'E')) return 0;
    p++;
    if (p < e && *p == '+') p++;
    if (p >= e || !is_digit(*p)) return 0;
    while (p < e && is_digit(*p))
        p++;
    return p == e;
}

int vn_cccd_normalize(const char *in, int birth_year, char out[13], cs_code *why)
{
    if (!in) return fail(why, CS_F_CCCD_INVALID);
    const char *s = skip_spaces(in);
    const char *e = trim_end(s, s + strlen(s));
    if (looks_scientific(s, e)) return fail(why, CS_F_CCCD_SCIENTIFIC);
    char d[13];
    size_t n = 0;
    for (const char *p = s; p < e;) {
        size_t k = space_len(p);
        if (k) {
            p += k;
        } else if (*p == '.') {
            /* a dot groups digits ("038.090.012.345"); ".0" after a number is a spreadsheet's
             * float formatting, and the number has lost its leading zero */
            if (!n || e - p < 4 || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]))
                return fail(why, CS_F_CCCD_INVALID);
            p++;
        } else if (is_digit(*p)) {
            if (n == 12) return fail(why, CS_F_CCCD_INVALID);
            d[n++] = *p++;
        } else {
            return fail(why, CS_F_CCCD_INVALID);
        }
    }
    /* 11 digits is usually an ID that lost its leading zero in a spreadsheet; still refused,
     * since guessing the missing digit would register the wrong person. */
    if (n != 12) return fail(why, CS_F_CCCD_INVALID);
    d[12] = '\0';
    if (!vn_cccd_province_ok(d)) return fail(why, CS_F_CCCD_PROVINCE);
    if (birth_year > 0) {
        /* Digit 4: century and sex, 0/1 → 1900s, 2/3 → 2000s, 4/5 → 2100s, …; digits 5–6: the
         * last two digits of the birth year. */
        int century = 1900 + ((d[3] - '0') / 2) * 100;
        int yy = (d[4] - '0') * 10 + (d[5] - '0');
        if (birth_year < century || birth_year > century + 99 || birth_year % 100 != yy)
            return fail(why, CS_F_CCCD_BIRTH);
    }
    memcpy(out, d, 13);
    return 0;
}

int vn_cccd_sex(const char *cccd12)
{
    if (!cccd12 || strlen(cccd12) != 12 || !is_digit(cccd12[3])) return -1;
    return (cccd12[3] - '0') % 2;
}

/* ---------------------------------------------------------------- dates */

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

static int date_ok(int y, int m, int d)
{
    return y >= VN_YEAR_MIN && y <= VN_YEAR_MAX && m >= 1 && m <= 12 && d >= 1 &&
           d <= days_in_month(y, m);
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static vn_date civil_from_days(long z)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    vn_date r;
    r.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    r.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    r.y = (int)(yoe + era * 400 + (r.m <= 2));
    return r;
}

vn_date vn_today(void)
{
    time_t t = time(NULL) + 7 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    vn_date r = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    return r;
}

/* Read 1..maxd digits at *p into *v; returns the count read (0: none). */
static int read_num(const char **p, const char *e, int maxd, int *v)
{
    int k = 0, x = 0;
    while (*p < e && is_digit(**p)) {
        if (++k > maxd) return 0;
        x = x * 10 + (**p - '0');
        (*p)++;
    }
    *v = x;
    return k;
}

/* Excel's 1900 date system: serial 1 is 1900-01-01, and Excel counts a 29 February 1900 that
 * never was (serial 60, refused), so serials from 61 on are one day ahead of the calendar. A
 * time-of-day fraction ("36526.5") is dropped. Only 1..VN_EXCEL_SERIAL_MAX (2119-01-11) is
 * taken for a date: larger plain numbers are far more likely something else. */
static int parse_serial(const char *s, const char *e, vn_date *out)
{
    long v = 0;
    const char *p = s;
    while (p < e && is_digit(*p)) {
        v = v * 10 + (*p - '0');
        if (v > VN_EXCEL_SERIAL_MAX) return -1;
        p++;
    }
    if (p == s) return -1;
    if (p < e && *p == '.') {
        if (++p == e) return -1;
        while (p < e && is_digit(*p))
            p++;
    }
    if (p != e || v < 1 || v == 60) return -1;
    /* A bare number that reads as a year is a birth year typed alone ("1998"), not a day in
     * 1905: refused rather than turned into a wrong date. */
    if (v >= VN_YEAR_MIN && v <= VN_YEAR_MAX) return -1;
    long base = days_from_civil(1899, 12, 30);
    vn_date r = civil_from_days(base + v + (v < 60 ? 1 : 0));
    if (!date_ok(r.y, r.m, r.d)) return -1;
    *out = r;
    return 0;
}

int vn_date_parse(const char *in, int allow_serial, vn_date *out, cs_code *why)
{
    if (!in || !out) return fail(why, CS_F_DATE_INVALID);
    const char *s = skip_spaces(in);
    const char *e = trim_end(s, s + strlen(s));
    if (s == e) return fail(why, CS_F_DATE_INVALID);
    if (allow_serial && parse_serial(s, e, out) == 0) return 0;

    const char *p = s;
    int a, b, c;
    int ka = read_num(&p, e, 4, &a);
    if (!ka || p >= e || (*p != '/' && *p != '-' && *p != '.')) return fail(why, CS_F_DATE_INVALID);
    char sep = *p++;
    int kb = read_num(&p, e, 2, &b);
    if (!kb || p >= e || *p != sep) return fail(why, CS_F_DATE_INVALID);
    p++;
    int kc = read_num(&p, e, 4, &c);
    if (!kc || p != e) return fail(why, CS_F_DATE_INVALID);

    int y, m, d;
    if (ka == 4) { /* ISO order: yyyy-mm-dd (also with / or .) */
        if (kc > 2) return fail(why, CS_F_DATE_INVALID);
        y = a, m = b, d = c;
    } else if (ka <= 2 && (kc == 4 || kc == 2)) { /* Vietnamese order: day, month, year */
        d = a, m = b, y = c;
        if (kc == 2) {
            /* Two-digit year pivot: up to this year's two digits → 20yy, above → 19yy. Dates
             * written this way are birth or recent dates, never in the next century. */
            int now = vn_today().y;
            y = c <= now % 100 ? now - now % 100 + c : now - now % 100 - 100 + c;
        }
    } else {
        return fail(why, CS_F_DATE_INVALID);
    }
    if (!date_ok(y, m, d)) return fail(why, CS_F_DATE_INVALID);
    out->y = y, out->m = m, out->d = d;
    return 0;
}

int vn_age_on(vn_date birth, vn_date on)
{
    int age = on.y - birth.y;
    if (on.m < birth.m || (on.m == birth.m && on.d < birth.d)) age--;
    /* Born 29 February: the birthday in a common year is 1 March (the day after 28 February). */
    return age < 0 ? 0 : age;
}

int vn_date_cmp(vn_date a, vn_date b)
{
    if (a.y != b.y) return a.y < b.y ? -1 : 1;
    if (a.m != b.m) return a.m < b.m ? -1 : 1;
    if (a.d != b.d) return a.d < b.d ? -1 : 1;
    return 0;
}

void vn_date_iso(vn_date d, char out[11])
{
    if (d.y < 0 || d.y > 9999 || d.m < 0 || d.m > 99 || d.d < 0 || d.d > 99) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    snprintf(out, 11, "%04d-%02d-%02d", d.y, d.m, d.d);
}

/* ---------------------------------------------------------------- text */

static utf8proc_int32_t map_dd(utf8proc_int32_t c, void *data)
{
    (void)data;
    /* đ U+0111 and Đ U+0110 are letters of their own, not d + mark: stripmark keeps them.
     * Ð U+00D0 / ð U+00F0 (eth) stand in for Đ/đ in text from old fonts and keyboards. */
    return c == 0x0111 || c == 0x0110 || c == 0x00D0 || c == 0x00F0 ? 'd' : c;
}

static int is_space_cp(utf8proc_int32_t c)
{
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) return 1; /* controls count as space */
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

/* utf8proc_map_custom, but in cs_malloc memory (so allocation failures are injectable and the
 * caller frees with cs_free). Returns the UTF-8 result or NULL with *why set. */
static char *u8_map(const char *in, utf8proc_option_t opts, utf8proc_custom_func fn, cs_code *why)
{
    size_t len = strlen(in);
    if (len > (size_t)(PTRDIFF_MAX / 8)) {
        fail(why, CS_F_TOO_LONG);
        return NULL;
    }
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)in;
    utf8proc_ssize_t n =
        utf8proc_decompose_custom(s, (utf8proc_ssize_t)len, NULL, 0, opts, fn, NULL);
    if (n < 0) {
        fail(why, n == UTF8PROC_ERROR_NOMEM ? CS_E_NOMEM : CS_F_UTF8);
        return NULL;
    }
    /* Room for n code points; re-encoding in place never needs more than 4 bytes each. */
    utf8proc_int32_t *buf = cs_malloc(((size_t)n + 1) * sizeof *buf);
    if (!buf) {
        fail(why, CS_E_NOMEM);
        return NULL;
    }
    n = utf8proc_decompose_custom(s, (utf8proc_ssize_t)len, buf, n, opts, fn, NULL);
    if (n >= 0) n = utf8proc_reencode(buf, n, opts);
    if (n < 0) {
        cs_free(buf);
        fail(why, n == UTF8PROC_ERROR_NOMEM ? CS_E_NOMEM : CS_F_UTF8);
        return NULL;
    }
    return (char *)buf;
}

/* In place: trim, collapse white space (and control characters) to one ASCII space; when
 * ascii_only, drop what is left outside ASCII. s is valid UTF-8 (utf8proc's output). */
static void squeeze(char *s, int ascii_only)
{
    const utf8proc_uint8_t *r = (const utf8proc_uint8_t *)s;
    char *w = s;
    int pending = 0;
    for (;;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(r, -1, &c);
        if (k <= 0 || c == 0) break;
        if (is_space_cp(c)) {
            pending = w != s;
        } else if (!ascii_only || c < 0x80) {
            if (pending) *w++ = ' ';
            pending = 0;
            memmove(w, r, (size_t)k);
            if (ascii_only && c >= 'A' && c <= 'Z') *w = (char)(c - 'A' + 'a');
            w += k;
        }
        r += k;
    }
    *w = '\0';
}

char *vn_text_clean(const char *in, cs_code *why)
{
    if (!in) {
        fail(why, CS_F_REQUIRED);
        return NULL;
    }
    char *r = u8_map(in, UTF8PROC_COMPOSE | UTF8PROC_STABLE, NULL, why);
    if (r) squeeze(r, 0);
    return r;
}

char *vn_fold(const char *in)
{
    if (!in) return NULL;
    /* COMPAT too, so full-width letters and ligatures fold to their ASCII letters; IGNORE drops
     * zero-width characters pasted from the web. */
    char *r = u8_map(in,
                     UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD |
                         UTF8PROC_IGNORE | UTF8PROC_STABLE,
                     map_dd, NULL);
    if (r) squeeze(r, 1);
    return r;
}

void vn_key_cap(char *key, size_t max)
{
    if (!key) return;
    size_t n = strlen(key);
    if (n <= max) return;
    key[max] = '\0';
    while (max && key[max - 1] == ' ')
        key[--max] = '\0';
}

long vn_utf8_len(const char *s)
{
    if (!s) return -1;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    long n = 0;
    while (*p) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &c);
        if (k <= 0) return -1;
        p += k;
        n++;
    }
    return n;
}

int vn_utf8_valid(const char *s)
{
    return vn_utf8_len(s) >= 0;
}

/* ---------------------------------------------------------------- prices */

/* Currency words people add after a price. Matched ASCII-case-insensitively at the end. */
static const char *const currency[] = {"vnđ", "vnĐ", "vnd", "đồng", "Đồng", "dong", "đ", "Đ", "₫"};

int vn_price_parse(const char *in, int64_t *out, cs_code *why)
{
    if (!in || !out) return fail(why, CS_F_PRICE);
    const char *s = skip_spaces(in);
    const char *e = trim_end(s, s + strlen(s));
    for (size_t i = 0; i < sizeof currency / sizeof currency[0]; i++) {
        size_t k = strlen(currency[i]);
        if ((size_t)(e - s) >= k && !strncasecmp(e - k, currency[i], k)) {
            e = trim_end(s, e - k);
            break;
        }
    }
    if (s == e || !is_digit(*s)) return fail(why, CS_F_PRICE); /* empty, "-5", "+5", ".5" */

    /* Digits, optionally grouped by thousands with one kind of separator: ".", "," or space.
     * A group that is not three digits long means a decimal ("1.5", "150000,50"): refused,
     * since đồng has no subunit and guessing would be off by a factor of 1000. */
    int64_t v = 0;
    char sep = 0;
    int group = 0, groups = 0;
    for (const char *p = s; p < e;) {
        size_t k = space_len(p);
        char c = k ? ' ' : *p;
        if (is_digit(c)) {
            v = v * 10 + (c - '0');
            if (v > VN_PRICE_MAX) return fail(why, CS_F_PRICE);
            group++;
            p++;
            continue;
        }
        if (c != '.' && c != ',' && c != ' ') return fail(why, CS_F_PRICE);
        if ((sep && c != sep) || group == 0 || (groups == 0 ? group > 3 : group != 3))
            return fail(why, CS_F_PRICE);
        sep = c;
        groups++;
        group = 0;
        p += k ? k : 1;
    }
    if (groups && group != 3) return fail(why, CS_F_PRICE);
    if (v <= 0) return fail(why, CS_F_PRICE);
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- masks */

void vn_mask(const char *in, char *out, size_t outsz)
{
    if (!out || !outsz) return;
    out[0] = '\0';
    if (!in) return;
    long n = vn_utf8_len(in);
    int valid = n >= 0;
    if (!valid) n = (long)strlen(in); /* not UTF-8: one star per byte, nothing shown */
    /* CCCD-length values keep the province code (3), shorter ones the network prefix (2), and
     * both the last two; values of 4 characters or fewer are masked whole. */
    long head = !valid ? 0 : n >= 12 ? 3 : n > 4 ? 2 : 0;
    long tail = valid && n > 4 ? 2 : 0;
    size_t w = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    for (long i = 0; i < n; i++) {
        utf8proc_int32_t c = 0;
        utf8proc_ssize_t k = valid ? utf8proc_iterate(p, -1, &c) : 1;
        if (k <= 0) k = 1;
        int keep = i < head || i >= n - tail;
        size_t need = keep ? (size_t)k : 1;
        if (w + need >= outsz) break;
        if (keep)
            memcpy(out + w, p, (size_t)k);
        else
            out[w] = '*';
        w += need;
        p += k;
    }
    out[w] = '\0';
}
