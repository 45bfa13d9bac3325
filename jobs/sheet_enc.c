/* jobs/sheet_enc: which encoding an uploaded sheet is in, and conversion to UTF-8 NFC.
 * Pure functions of bytes. Never guesses its way into mojibake: what is not UTF-8 and not
 * confidently Windows-1258 is refused, naming TCVN3 or VNI when their byte patterns fit.
 *
 * How the guess works. Each legacy encoding is "read" into letters with their Vietnamese
 * structure (base vowel, circumflex/breve/horn, tone): Windows-1258 and TCVN3 byte by byte
 * (tables below, as glibc's iconv has them), VNI as an ASCII vowel followed by a diacritic
 * byte ("aù" = á, "eã" = ễ), which is how VNI fonts draw Vietnamese. Each reading is scored
 * on the characters that are not plain ASCII: a Vietnamese letter where a letter can stand
 * earns points; things Vietnamese text never has cost points: a capital inside a lower-case
 * word ("NguyÔn" is TCVN3's ễ read as 1258), two vowels that never follow each other ("eă",
 * "aê": VNI read as 1258), two tones in one syllable, symbols inside words ("V¨n"), letters
 * from other languages (ø, ï, ñ: VNI's tone bytes), bytes the encoding does not define. The
 * right reading scores high, the wrong ones go negative; see sheet.h for the thresholds. */
#include "jobs/sheet.h"
#include "jobs/sheet_int.h"
#include "core/mem.h"
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

const char *sheet_encoding_name(sheet_encoding e)
{
    static const char *const names[] = {"utf-8",        "utf-8-bom", "utf-16le", "utf-16be",
                                        "windows-1258", "tcvn3",     "vni",      "unknown"};
    return (unsigned)e <= SHEET_ENC_UNKNOWN ? names[e] : "unknown";
}

/* ---- byte tables (0x80..0xFF → Unicode; 0 = undefined) ------------------------------------- */

static const uint16_t cp1252_hi[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static uint32_t cp1252_at(unsigned b)
{
    return b < 0xA0 ? cp1252_hi[b - 0x80] : b;
}

static uint32_t cp1258_at(unsigned b)
{
    switch (b) {
    case 0x8A:
    case 0x8E:
    case 0x9A:
    case 0x9E:
        return 0;
    case 0xC3:
        return 0x0102;
    case 0xCC:
        return 0x0300;
    case 0xD0:
        return 0x0110;
    case 0xD2:
        return 0x0309;
    case 0xD5:
        return 0x01A0;
    case 0xDD:
        return 0x01AF;
    case 0xDE:
        return 0x0303;
    case 0xE3:
        return 0x0103;
    case 0xEC:
        return 0x0301;
    case 0xF0:
        return 0x0111;
    case 0xF2:
        return 0x0323;
    case 0xF5:
        return 0x01A1;
    case 0xFD:
        return 0x01B0;
    case 0xFE:
        return 0x20AB;
    default:
        return cp1252_at(b);
    }
}

/* TCVN 5712 (VN1, a superset of the "ABC" TCVN3 font encoding: lower-case letters at
 * 0xA1..0xFF, ABC leaves 0x80..0x9F and a few upper-case slots unused). */
static const uint16_t tcvn_hi[128] = {
    0x00C0, 0x1EA2, 0x00C3, 0x00C1, 0x1EA0, 0x1EB6, 0x1EAC, 0x00C8, 0x1EBA, 0x1EBC, 0x00C9, 0x1EB8,
    0x1EC6, 0x00CC, 0x1EC8, 0x0128, 0x00CD, 0x1ECA, 0x00D2, 0x1ECE, 0x00D5, 0x00D3, 0x1ECC, 0x1ED8,
    0x1EDC, 0x1EDE, 0x1EE0, 0x1EDA, 0x1EE2, 0x00D9, 0x1EE6, 0x0168, 0x00A0, 0x0102, 0x00C2, 0x00CA,
    0x00D4, 0x01A0, 0x01AF, 0x0110, 0x0103, 0x00E2, 0x00EA, 0x00F4, 0x01A1, 0x01B0, 0x0111, 0x1EB0,
    0x0300, 0x0309, 0x0303, 0x0301, 0x0323, 0x00E0, 0x1EA3, 0x00E3, 0x00E1, 0x1EA1, 0x1EB2, 0x1EB1,
    0x1EB3, 0x1EB5, 0x1EAF, 0x1EB4, 0x1EAE, 0x1EA6, 0x1EA8, 0x1EAA, 0x1EA4, 0x1EC0, 0x1EB7, 0x1EA7,
    0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD, 0x00E8, 0x1EC2, 0x1EBB, 0x1EBD, 0x00E9, 0x1EB9, 0x1EC1, 0x1EC3,
    0x1EC5, 0x1EBF, 0x1EC7, 0x00EC, 0x1EC9, 0x1EC4, 0x1EBE, 0x1ED2, 0x0129, 0x00ED, 0x1ECB, 0x00F2,
    0x1ED4, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD, 0x1ED3, 0x1ED5, 0x1ED7, 0x1ED1, 0x1ED9, 0x1EDD, 0x1EDF,
    0x1EE1, 0x1EDB, 0x1EE3, 0x00F9, 0x1ED6, 0x1EE7, 0x0169, 0x00FA, 0x1EE5, 0x1EEB, 0x1EED, 0x1EEF,
    0x1EE9, 0x1EF1, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5, 0x1ED0};

/* ---- character classes --------------------------------------------------------------------- */

enum { K_NONE = 0, K_LETTER, K_DIGIT, K_SPACE, K_PUNCT, K_VN, K_MARK, K_FOREIGN, K_SYMBOL, K_BAD };
enum { M_NONE = 0, M_CIRC, M_BREVE, M_HORN, M_STROKE };
enum { T_NONE = 0, T_GRAVE, T_ACUTE, T_TILDE, T_HOOK, T_DOT };

typedef struct vu {
    uint8_t kind, base, mod, tone, upper, high;
    uint32_t cp; /* for symbols that matter (₫) */
} vu;

static int is_vowel_base(int b)
{
    return b == 'a' || b == 'e' || b == 'i' || b == 'o' || b == 'u' || b == 'y';
}

static int tone_of_mark(uint32_t cp)
{
    switch (cp) {
    case 0x0300:
        return T_GRAVE;
    case 0x0301:
        return T_ACUTE;
    case 0x0303:
        return T_TILDE;
    case 0x0309:
        return T_HOOK;
    case 0x0323:
        return T_DOT;
    default:
        return T_NONE;
    }
}

static vu ascii_unit(unsigned c)
{
    vu u = {0};
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
        u.kind = K_LETTER;
        u.base = (uint8_t)(c | 0x20);
        u.upper = c < 'a';
    } else if (c >= '0' && c <= '9') {
        u.kind = K_DIGIT;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        u.kind = K_SPACE;
    } else {
        u.kind = K_PUNCT;
    }
    return u;
}

/* A Unicode character as a unit: Vietnamese letters by their decomposition. */
static vu classify_cp(uint32_t cp)
{
    if (cp < 0x80) return ascii_unit(cp);
    vu u = {0};
    u.high = 1;
    u.cp = cp;
    int t = tone_of_mark(cp);
    if (t) {
        u.kind = K_MARK;
        u.tone = (uint8_t)t;
        return u;
    }
    if (cp == 0x0110 || cp == 0x0111) {
        u.kind = K_VN;
        u.base = 'd';
        u.mod = M_STROKE;
        u.upper = cp == 0x0110;
        return u;
    }
    if (cp == 0xA0) {
        u.kind = K_SPACE;
        return u;
    }
    utf8proc_int32_t d[4];
    int last = 0;
    utf8proc_ssize_t nd =
        utf8proc_decompose_char((utf8proc_int32_t)cp, d, 4, UTF8PROC_DECOMPOSE, &last);
    if (nd >= 2 && d[0] < 0x80 && ((d[0] | 0x20) >= 'a' && (d[0] | 0x20) <= 'z')) {
        int base = d[0] | 0x20, mod = M_NONE, tone = T_NONE, ok = is_vowel_base(base);
        for (utf8proc_ssize_t i = 1; i < nd && ok; i++) {
            int tt = tone_of_mark((uint32_t)d[i]);
            if (tt && !tone)
                tone = tt;
            else if (d[i] == 0x0302 && !mod && (base == 'a' || base == 'e' || base == 'o'))
                mod = M_CIRC;
            else if (d[i] == 0x0306 && !mod && base == 'a')
                mod = M_BREVE;
            else if (d[i] == 0x031B && !mod && (base == 'o' || base == 'u'))
                mod = M_HORN;
            else
                ok = 0;
        }
        if (ok) {
            u.kind = K_VN;
            u.base = (uint8_t)base;
            u.mod = (uint8_t)mod;
            u.tone = (uint8_t)tone;
            u.upper = d[0] < 'a';
            return u;
        }
        u.kind = K_FOREIGN;
        return u;
    }
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
        u.kind = K_FOREIGN;
    else if (cat == UTF8PROC_CATEGORY_ZS)
        u.kind = K_SPACE;
    else
        u.kind = K_SYMBOL;
    return u;
}

/* ---- decoders: one unit from p[i..]; returns bytes used ------------------------------------ */

typedef enum { RD_CP1252, RD_CP1258, RD_TCVN3, RD_VNI } reading;

/* One byte read as r: the unit it makes, computed from the tables above. */
static vu table_unit(reading r, unsigned b)
{
    if (b < 0x80) return ascii_unit(b);
    uint32_t cp = r == RD_CP1252 ? cp1252_at(b) : r == RD_CP1258 ? cp1258_at(b) : tcvn_hi[b - 0x80];
    if (!cp) return (vu){.kind = K_BAD, .high = 1};
    vu u = classify_cp(cp);
    u.high = 1;
    return u;
}

/* Every byte of every table reading as a unit, built once: the guess reads up to a MiB per
 * reading and classifying a code point (its decomposition) per byte was most of its time. */
static void vni_build(void);
static vu unit_of[RD_VNI][256];
static pthread_once_t unit_once = PTHREAD_ONCE_INIT;

static void units_build(void)
{
    for (unsigned r = 0; r < RD_VNI; r++)
        for (unsigned b = 0; b < 256; b++)
            unit_of[r][b] = table_unit((reading)r, b);
    vni_build();
}

static size_t dec_table(reading r, const unsigned char *p, size_t n, size_t i, vu *u)
{
    (void)n;
    *u = unit_of[r][p[i]];
    return 1;
}

/* VNI Windows: the diacritic that follows a base vowel, lower-case and upper-case bytes. */
static int vni_diacritic_scan(unsigned b, int *mod, int *tone)
{
    static const struct {
        unsigned char lo, up, mod, tone;
    } t[] = {
        {0xF9, 0xD9, M_NONE, T_ACUTE},  {0xF8, 0xD8, M_NONE, T_GRAVE},
        {0xFB, 0xDB, M_NONE, T_HOOK},   {0xF5, 0xD5, M_NONE, T_TILDE},
        {0xEF, 0xCF, M_NONE, T_DOT},    {0xE2, 0xC2, M_CIRC, T_NONE},
        {0xE1, 0xC1, M_CIRC, T_ACUTE},  {0xE0, 0xC0, M_CIRC, T_GRAVE},
        {0xE5, 0xC5, M_CIRC, T_HOOK},   {0xE3, 0xC3, M_CIRC, T_TILDE},
        {0xE4, 0xC4, M_CIRC, T_DOT},    {0xEA, 0xCA, M_BREVE, T_NONE},
        {0xE9, 0xC9, M_BREVE, T_ACUTE}, {0xE8, 0xC8, M_BREVE, T_GRAVE},
        {0xFA, 0xDA, M_BREVE, T_HOOK},  {0xFC, 0xDC, M_BREVE, T_TILDE},
        {0xEB, 0xCB, M_BREVE, T_DOT},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
        if (b == t[k].lo || b == t[k].up) {
            *mod = t[k].mod;
            *tone = t[k].tone;
            return 1;
        }
    return 0;
}

/* VNI letters drawn by one byte: i with tones, ỵ, đ, and the horned ơ/ư bases. */
static int vni_single_scan(unsigned b, vu *u)
{
    static const struct {
        unsigned char lo, up, base, mod, tone;
    } t[] = {
        {0xED, 0xCD, 'i', M_NONE, T_ACUTE},  {0xEC, 0xCC, 'i', M_NONE, T_GRAVE},
        {0xE6, 0xC6, 'i', M_NONE, T_HOOK},   {0xF3, 0xD3, 'i', M_NONE, T_TILDE},
        {0xF2, 0xD2, 'i', M_NONE, T_DOT},    {0xEE, 0xCE, 'y', M_NONE, T_DOT},
        {0xF1, 0xD1, 'd', M_STROKE, T_NONE}, {0xF4, 0xD4, 'o', M_HORN, T_NONE},
        {0xF6, 0xD6, 'u', M_HORN, T_NONE},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
        if (b == t[k].lo || b == t[k].up) {
            *u = (vu){.kind = K_VN,
                      .base = t[k].base,
                      .mod = t[k].mod,
                      .tone = t[k].tone,
                      .upper = b == t[k].up,
                      .high = 1};
            return 1;
        }
    return 0;
}

/* The two VNI tables above by byte, built once with the readings' units. */
static struct {
    uint8_t is_diac, mod, tone, is_single;
    vu single;
} vni_of[256];

static void vni_build(void)
{
    for (unsigned b = 0; b < 256; b++) {
        int mod = 0, tone = 0;
        vni_of[b].is_diac = (uint8_t)vni_diacritic_scan(b, &mod, &tone);
        vni_of[b].mod = (uint8_t)mod;
        vni_of[b].tone = (uint8_t)tone;
        vni_of[b].is_single = (uint8_t)vni_single_scan(b, &vni_of[b].single);
    }
}

static int vni_diacritic(unsigned b, int *mod, int *tone)
{
    if (!vni_of[b].is_diac) return 0;
    *mod = vni_of[b].mod;
    *tone = vni_of[b].tone;
    return 1;
}

static int vni_single(unsigned b, vu *u)
{
    if (!vni_of[b].is_single) return 0;
    *u = vni_of[b].single;
    return 1;
}

static size_t dec_vni(const unsigned char *p, size_t n, size_t i, vu *u)
{
    unsigned b = p[i];
    int mod, tone;
    if (b < 0x80) {
        *u = ascii_unit(b);
        if (u->kind == K_LETTER && is_vowel_base(u->base) && u->base != 'i' && i + 1 < n &&
            vni_diacritic(p[i + 1], &mod, &tone)) {
            int base = u->base;
            int fits = mod == M_NONE ||
                       (mod == M_CIRC && (base == 'a' || base == 'e' || base == 'o')) ||
                       (mod == M_BREVE && base == 'a');
            if (fits) {
                u->kind = K_VN;
                u->mod = (uint8_t)mod;
                u->tone = (uint8_t)tone;
                u->high = 1;
                return 2;
            }
        }
        return 1;
    }
    if (vni_single(b, u)) {
        if (u->mod == M_HORN && i + 1 < n && vni_diacritic(p[i + 1], &mod, &tone) &&
            mod == M_NONE) {
            u->tone = (uint8_t)tone;
            return 2;
        }
        return 1;
    }
    if (vni_diacritic(b, &mod, &tone)) { /* a diacritic with nothing to sit on */
        *u = (vu){.kind = K_BAD, .high = 1};
        return 1;
    }
    return dec_table(RD_CP1252, p, n, i, u);
}

static size_t dec_unit(reading r, const unsigned char *p, size_t n, size_t i, vu *u)
{
    return r == RD_VNI ? dec_vni(p, n, i, u) : dec_table(r, p, n, i, u);
}

/* ---- scoring ------------------------------------------------------------------------------- */

enum { V_A, V_AW, V_AA, V_E, V_EE, V_I, V_O, V_OO, V_OW, V_U, V_UW, V_Y, V__N };

static int vowel_id(const vu *u)
{
    switch (u->base) {
    case 'a':
        return u->mod == M_BREVE ? V_AW : u->mod == M_CIRC ? V_AA : V_A;
    case 'e':
        return u->mod == M_CIRC ? V_EE : V_E;
    case 'i':
        return V_I;
    case 'o':
        return u->mod == M_CIRC ? V_OO : u->mod == M_HORN ? V_OW : V_O;
    case 'u':
        return u->mod == M_HORN ? V_UW : V_U;
    case 'y':
        return V_Y;
    default:
        return -1;
    }
}

/* Which vowel may follow which inside a Vietnamese syllable ("gi" and "qu" make any vowel
 * possible after i and u). */
static int pair_ok(int a, int b)
{
#define B(x) (1u << (x))
    static const unsigned next[V__N] = {
        [V_A] = B(V_I) | B(V_O) | B(V_U) | B(V_Y),
        [V_AW] = 0,
        [V_AA] = B(V_U) | B(V_Y),
        [V_E] = B(V_O),
        [V_EE] = B(V_U),
        [V_I] = 0xFFFu,
        [V_O] = B(V_A) | B(V_AW) | B(V_E) | B(V_I) | B(V_O),
        [V_OO] = B(V_I) | B(V_OO),
        [V_OW] = B(V_I),
        [V_U] = 0xFFFu,
        [V_UW] = B(V_A) | B(V_I) | B(V_U) | B(V_OW),
        [V_Y] = B(V_EE) | B(V_A) | B(V_U),
    };
#undef B
    return a >= 0 && b >= 0 && (next[a] >> b) & 1u;
}

static int is_letter(const vu *u)
{
    return u->kind == K_LETTER || u->kind == K_VN || u->kind == K_FOREIGN;
}

static int is_vowel(const vu *u)
{
    return (u->kind == K_LETTER || u->kind == K_VN) && is_vowel_base(u->base);
}

static long score_unit(const vu *prev, const vu *cur, const vu *next)
{
    if (!cur->high) return 0;
    switch (cur->kind) {
    case K_VN: {
        if (cur->upper && is_letter(prev) && !prev->upper) return -4;
        if (is_vowel(cur) && is_vowel(prev)) {
            if (!pair_ok(vowel_id(prev), vowel_id(cur))) return -4;
            if (prev->tone && cur->tone) return -4;
        }
        /* a syllable ends in a vowel or c, ch, m, n, ng, nh, p, t: "ỹr", "ửl" never happen */
        if (is_vowel(cur) && next->kind == K_LETTER && strchr("bdfjklqrsvwxz", next->base))
            return -4;
        return is_letter(prev) || is_letter(next) ? 2 : 1;
    }
    case K_MARK:
        return is_vowel(prev) && !prev->tone ? 2 : -5;
    case K_FOREIGN:
        return -3;
    case K_SYMBOL:
        if (cur->cp == 0x20AB && (prev->kind == K_DIGIT || prev->kind == K_SPACE)) return 0;
        return is_letter(prev) && is_letter(next) ? -5 : -1;
    case K_BAD:
        return -5;
    default:
        return 0;
    }
}

/* Score one reading of the bytes; *units counts the non-ASCII characters it produced. A
 * combining mark after a toneless vowel gives that vowel its tone (for the next unit). */
static long score_reading(reading r, const unsigned char *p, size_t n, size_t *units)
{
    pthread_once(&unit_once, units_build);
    vu prev = {.kind = K_SPACE}, cur, next;
    long score = 0;
    size_t cnt = 0, i = 0;
    *units = 0;
    if (n == 0) return 0;
    i += dec_unit(r, p, n, i, &cur);
    for (;;) {
        /* Plain ASCII scores nothing and only stands beside what does: from a plain unit
         * (always one byte), go straight to the byte before the next non-ASCII one — a plain
         * unit or, in VNI, a vowel with its diacritic — with the byte before that as its
         * neighbour; with nothing non-ASCII left, nothing more can score. */
        if (!cur.high) {
            size_t h = i;
            while (h < n && p[h] < 0x80)
                h++;
            if (h == n) break;
            if (h > i) {
                prev = ascii_unit(p[h - 2]);
                i = h - 1;
                i += dec_unit(r, p, n, i, &cur);
            }
        }
        int last = i >= n;
        if (!last)
            i += dec_unit(r, p, n, i, &next);
        else
            next = (vu){.kind = K_SPACE};
        score += score_unit(&prev, &cur, &next);
        if (cur.high) cnt++;
        if (cur.kind == K_MARK && is_vowel(&prev) && !prev.tone)
            prev.tone = cur.tone;
        else
            prev = cur;
        if (last) break;
        cur = next;
    }
    *units = cnt;
    return score;
}

/* ---- the guesses --------------------------------------------------------------------------- */

sheet_encoding sheet_guess_legacy(const void *data, size_t len, sheet_enc_guess *g)
{
    const unsigned char *p = data;
    size_t u1 = 0, u2 = 0, u3 = 0;
    long s1 = score_reading(RD_CP1258, p, len, &u1);
    long s2 = score_reading(RD_TCVN3, p, len, &u2);
    long s3 = score_reading(RD_VNI, p, len, &u3);
    sheet_encoding e = SHEET_ENC_UNKNOWN;
    long legacy = s2 >= s3 ? s2 : s3;
    if (s1 > 0 && 2 * s1 >= (long)u1 && s1 >= legacy + 4)
        e = SHEET_ENC_CP1258;
    else if (legacy > 0 && legacy > s1)
        e = s2 >= s3 ? SHEET_ENC_TCVN3 : SHEET_ENC_VNI;
    if (g)
        *g = (sheet_enc_guess){
            .enc = e, .score_cp = s1, .score_tcvn3 = s2, .score_vni = s3, .units = u1};
    return e;
}

/* Strict UTF-8: no overlongs, surrogates or code points past U+10FFFF. Returns the code point
 * and its length in *n, or -1. */
static long utf8_next(const unsigned char *p, size_t len, size_t *n)
{
    unsigned c = p[0];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    size_t k;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        k = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4, cp = c & 0x07, min = 0x10000;
    else
        return -1;
    if (len < k) return -1;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    *n = k;
    return (long)cp;
}

static int utf8_valid(const unsigned char *p, size_t len)
{
    size_t i = 0, k;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        if (utf8_next(p + i, len - i, &k) < 0) return 0;
        i += k;
    }
    return 1;
}

size_t sheet_utf8_valid_len(const unsigned char *p, size_t len)
{
    size_t i = 0, k;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        if (utf8_next(p + i, len - i, &k) < 0) return i;
        i += k;
    }
    return i;
}

static int cp1252_byte(uint32_t cp)
{
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) return (int)cp;
    for (unsigned b = 0; b < 32; b++)
        if (cp1252_hi[b] == cp) return (int)(0x80 + b);
    return -1;
}

/* UTF-8 whose every character Windows-1252 has, as 1252 bytes (new buffer) — the bytes a
 * legacy font was given — or NULL when some character is beyond 1252 (real Unicode text)
 * or there is no non-ASCII character at all. */
static unsigned char *as_cp1252(const unsigned char *p, size_t len, size_t *outlen)
{
    size_t i = 0, k, n = 0, high = 0;
    while (i < len) {
        long cp = utf8_next(p + i, len - i, &k);
        if (cp < 0 || cp1252_byte((uint32_t)cp) < 0) return NULL;
        if (cp >= 0x80) high++;
        i += k;
        n++;
    }
    if (!high) return NULL;
    unsigned char *b = cs_malloc(n + 1);
    if (!b) return NULL;
    for (i = 0, n = 0; i < len; i += k)
        b[n++] = (unsigned char)cp1252_byte((uint32_t)utf8_next(p + i, len - i, &k));
    b[n] = 0;
    *outlen = n;
    return b;
}

/* Scores of Unicode text read as itself versus as legacy-font bytes. */
static sheet_encoding legacy_in_utf8(const unsigned char *p, size_t len, long min_gain,
                                     long min_score, int need_negative, sheet_enc_guess *g)
{
    size_t n = 0;
    unsigned char *b = as_cp1252(p, len, &n);
    if (!b) return SHEET_ENC_UTF8;
    size_t u1 = 0, u2 = 0, u3 = 0;
    long s1 = score_reading(RD_CP1252, b, n, &u1);
    long s2 = score_reading(RD_TCVN3, b, n, &u2);
    long s3 = score_reading(RD_VNI, b, n, &u3);
    cs_free(b);
    long legacy = s2 >= s3 ? s2 : s3;
    sheet_encoding e = SHEET_ENC_UTF8;
    if (legacy >= min_score && legacy - s1 >= min_gain && (!need_negative || s1 < 0))
        e = s2 >= s3 ? SHEET_ENC_TCVN3 : SHEET_ENC_VNI;
    if (g)
        *g = (sheet_enc_guess){
            .enc = e, .score_cp = s1, .score_tcvn3 = s2, .score_vni = s3, .units = u1};
    return e;
}

sheet_encoding sheet_text_legacy_font(const char *utf8)
{
    if (!utf8) return SHEET_ENC_UTF8;
    const unsigned char *p = (const unsigned char *)utf8;
    size_t len = strlen(utf8);
    if (!utf8_valid(p, len)) return SHEET_ENC_UTF8;
    return legacy_in_utf8(p, len, 5, 2, 1, NULL);
}

/* UTF-16 without a BOM: ASCII-heavy text has a NUL in every other byte. */
static sheet_encoding utf16_without_bom(const unsigned char *p, size_t len)
{
    size_t n = len < 1024 ? len : 1024;
    n &= ~(size_t)1;
    if (n < 8) return SHEET_ENC_UNKNOWN;
    size_t z_even = 0, z_odd = 0;
    for (size_t i = 0; i < n; i += 2) {
        z_even += p[i] == 0;
        z_odd += p[i + 1] == 0;
    }
    size_t pairs = n / 2;
    if (z_odd * 10 >= pairs * 6 && z_even * 20 <= pairs) return SHEET_ENC_UTF16LE;
    if (z_even * 10 >= pairs * 6 && z_odd * 20 <= pairs) return SHEET_ENC_UTF16BE;
    return SHEET_ENC_UNKNOWN;
}

sheet_encoding sheet_detect_encoding(const void *data, size_t len, sheet_enc_guess *g)
{
    const unsigned char *p = data;
    if (g) *g = (sheet_enc_guess){0};
    sheet_encoding e;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        if (!utf8_valid(p + 3, len - 3)) {
            e = SHEET_ENC_UNKNOWN; /* a BOM promises UTF-8: do not second-guess it */
        } else {
            e = legacy_in_utf8(p + 3, len - 3, 6, 4, 0, g);
            if (e == SHEET_ENC_UTF8) e = SHEET_ENC_UTF8_BOM;
        }
        if (g) g->enc = e;
        return e;
    }
    if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE)
        e = SHEET_ENC_UTF16LE;
    else if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF)
        e = SHEET_ENC_UTF16BE;
    else if ((e = utf16_without_bom(p, len)) == SHEET_ENC_UNKNOWN) {
        if (utf8_valid(p, len))
            e = legacy_in_utf8(p, len, 6, 4, 0, g);
        else
            e = sheet_guess_legacy(p, len, g);
    }
    if (g) g->enc = e;
    return e;
}

/* ---- conversion ---------------------------------------------------------------------------- */

static int iconv_all(const char *from, const unsigned char *p, size_t len, size_t max_out,
                     cs_buf *out, cs_error *err)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1) return cs_error_set(err, CS_E_INTERNAL, "iconv %s", from);
    char *in = (char *)p;
    size_t inleft = len;
    char tmp[16384];
    int rc = 0, flushed = 0;
    /* glibc's CP1258 holds back each base letter until it knows whether a tone mark follows:
     * a last call with no input flushes it */
    while (!flushed) {
        char *o = tmp;
        size_t oleft = sizeof tmp;
        size_t r;
        if (inleft > 0) {
            r = iconv(cd, &in, &inleft, &o, &oleft);
        } else {
            r = iconv(cd, NULL, NULL, &o, &oleft);
            flushed = r != (size_t)-1;
        }
        size_t made = sizeof tmp - oleft;
        if (made && cs_buf_append(out, tmp, made)) {
            rc = out->len + made > max_out
                     ? sheet_limit(err, "Tệp sau khi chuyển mã vượt %zu byte", max_out)
                     : cs_error_set(err, CS_E_NOMEM, NULL);
            break;
        }
        if (r == (size_t)-1 && errno != E2BIG) {
            rc = cs_error_set(err, CS_E_IMPORT_ENCODING, "byte %zu không hợp lệ trong %s",
                              (size_t)(in - (char *)p), from);
            break;
        }
    }
    iconv_close(cd);
    return rc;
}

int sheet_to_utf8(const void *data, size_t len, sheet_encoding enc, size_t max_out, char **out,
                  size_t *outlen, cs_error *err)
{
    const unsigned char *p = data;
    *out = NULL;
    *outlen = 0;
    cs_buf b;
    cs_buf_init(&b, max_out);
    int rc = 0;
    switch (enc) {
    case SHEET_ENC_UTF8:
    case SHEET_ENC_UTF8_BOM: {
        size_t skip = len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
        if (!utf8_valid(p + skip, len - skip))
            return cs_error_set(err, CS_E_IMPORT_ENCODING, "UTF-8");
        if (cs_buf_append(&b, p + skip, len - skip))
            rc = len - skip > max_out ? sheet_limit(err, "Tệp vượt %zu byte", max_out)
                                      : cs_error_set(err, CS_E_NOMEM, NULL);
        break;
    }
    case SHEET_ENC_UTF16LE:
    case SHEET_ENC_UTF16BE: {
        int le = enc == SHEET_ENC_UTF16LE;
        size_t skip = len >= 2 && ((le && p[0] == 0xFF && p[1] == 0xFE) ||
                                   (!le && p[0] == 0xFE && p[1] == 0xFF))
                          ? 2
                          : 0;
        rc = iconv_all(le ? "UTF-16LE" : "UTF-16BE", p + skip, len - skip, max_out, &b, err);
        break;
    }
    case SHEET_ENC_CP1258:
        rc = iconv_all("CP1258", p, len, max_out, &b, err);
        break;
    default:
        return cs_error_set(err, CS_E_IMPORT_ENCODING, "%s", sheet_encoding_name(enc));
    }
    if (rc) {
        cs_buf_free(&b);
        return rc;
    }
    if (enc == SHEET_ENC_UTF8 || enc == SHEET_ENC_UTF8_BOM || b.len == 0) {
        if (!b.data && cs_buf_append(&b, "", 0)) return cs_error_set(err, CS_E_NOMEM, NULL);
        *outlen = b.len;
        *out = cs_buf_steal(&b);
        return *out ? 0 : cs_error_set(err, CS_E_NOMEM, NULL);
    }
    /* NFC over the whole text (vn_text_clean would also fold the line breaks away; every cell
     * goes through it later anyway). utf8proc allocates with malloc: copy into our heap. */
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)b.data, (utf8proc_ssize_t)b.len,
                                      &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    cs_buf_free(&b);
    if (m < 0) {
        free(nfc);
        return m == UTF8PROC_ERROR_NOMEM
                   ? cs_error_set(err, CS_E_NOMEM, NULL)
                   : cs_error_set(err, CS_E_IMPORT_ENCODING, "%s", utf8proc_errmsg(m));
    }
    char *r = cs_malloc((size_t)m + 1);
    if (!r) {
        free(nfc);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    memcpy(r, nfc, (size_t)m);
    r[m] = '\0';
    free(nfc);
    *out = r;
    *outlen = (size_t)m;
    return 0;
}
