/* tests/unit/test_vn: every rule of core/vn, valid and invalid, including what spreadsheets and
 * phones do to the data (lost zeros, scientific notation, NFD text). No database. */
#include "core/mem.h"
#include "core/buf.h"
#include "core/households.h"
#include "core/vn.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* ---------------------------------------------------------------- phones */

static void test_phone_valid_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } ok[] = {
        {"0912345678", "0912345678"},
        {"091 234 5678", "0912345678"},
        {"091.234.5678", "0912345678"},
        {"091-234-5678", "0912345678"},
        {"(091) 234 5678", "0912345678"},
        {"  0912345678  ", "0912345678"},
        {"0912\xc2\xa0"
         "345\xc2\xa0"
         "678",
         "0912345678"}, /* NBSP from a web page */
        {"+84912345678", "0912345678"},
        {"+84 912 345 678", "0912345678"},
        {"+84 (0) 912 345 678", "0912345678"},
        {"(+84) 912-345-678", "0912345678"},
        {"84912345678", "0912345678"},
        {"840912345678", "0912345678"},
        {"0084912345678", "0912345678"},
        {"912345678", "0912345678"}, /* Excel dropped the leading zero */
        {"327654321", "0327654321"},
        {"0321234567", "0321234567"},
        {"0391234567", "0391234567"},
        {"0521234567", "0521234567"},
        {"0561234567", "0561234567"},
        {"0581234567", "0581234567"},
        {"0591234567", "0591234567"},
        {"0701234567", "0701234567"},
        {"0761234567", "0761234567"},
        {"0791234567", "0791234567"},
        {"0811234567", "0811234567"},
        {"0891234567", "0891234567"},
        {"0901234567", "0901234567"},
        {"0991234567", "0991234567"},
        {"841234567", "0841234567"}, /* 084 mobile that lost its zero: not a country code */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[11] = "";
        cs_code why = CS_OK;
        if (vn_phone_normalize(ok[i].in, out, &why) != 0)
            fail_msg("'%s' refused with %d", ok[i].in, (int)why);
        assert_string_equal(out, ok[i].want);
    }
}

static void test_phone_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        cs_code why;
    } bad[] = {
        {"02373123456", CS_F_PHONE_LANDLINE}, /* Thanh Hóa landline */
        {"0237 3123 456", CS_F_PHONE_LANDLINE},
        {"+84 237 3123456", CS_F_PHONE_LANDLINE},
        {"842373123456", CS_F_PHONE_LANDLINE},
        {"2373123456", CS_F_PHONE_LANDLINE}, /* landline that lost its zero */
        {"0243123456", CS_F_PHONE_LANDLINE},
        {"0112345678", CS_F_PHONE_PREFIX},
        {"0501234567", CS_F_PHONE_PREFIX},
        {"0511234567", CS_F_PHONE_PREFIX},
        {"0711234567", CS_F_PHONE_PREFIX},
        {"0751234567", CS_F_PHONE_PREFIX},
        {"0801234567", CS_F_PHONE_PREFIX},
        {"0311234567", CS_F_PHONE_PREFIX},
        {"0612345678", CS_F_PHONE_PREFIX},
        {"01651234567", CS_F_PHONE_PREFIX}, /* pre-2018 11-digit mobile */
        {"112345678", CS_F_PHONE_PREFIX},
        {"", CS_F_PHONE_INVALID},
        {"   ", CS_F_PHONE_INVALID},
        {"091234567", CS_F_PHONE_INVALID}, /* 9 digits with the zero: one digit short */
        {"09123456789", CS_F_PHONE_INVALID},
        {"12345", CS_F_PHONE_INVALID},
        {"9123456789", CS_F_PHONE_INVALID},
        {"0912a45678", CS_F_PHONE_INVALID},
        {"0912345678x", CS_F_PHONE_INVALID},
        {"+1 212 555 0100", CS_F_PHONE_INVALID}, /* foreign */
        {"+84", CS_F_PHONE_INVALID},
        {"++84912345678", CS_F_PHONE_INVALID},
        {"09+12345678", CS_F_PHONE_INVALID},
        {"9.12345678E+8", CS_F_PHONE_INVALID},
        {"0912345678901234567890123", CS_F_PHONE_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[11] = "untouched";
        cs_code why = CS_OK;
        if (vn_phone_normalize(bad[i].in, out, &why) != -1) fail_msg("'%s' accepted", bad[i].in);
        if (why != bad[i].why)
            fail_msg("'%s': got %s, want %s", bad[i].in, cs_code_name(why),
                     cs_code_name(bad[i].why));
        assert_string_equal(out, "untouched");
    }
    cs_code why = CS_OK;
    char out[11];
    assert_int_equal(vn_phone_normalize(NULL, out, &why), -1);
    assert_int_equal(why, CS_F_PHONE_INVALID);
    assert_int_equal(vn_phone_normalize("abc", out, NULL), -1); /* why may be NULL */
}

/* ---------------------------------------------------------------- CCCD */

static void test_cccd_valid(void **state)
{
    (void)state;
    char out[13];
    cs_code why = CS_OK;
    assert_int_equal(vn_cccd_normalize("038090012345", 1990, out, &why), 0);
    assert_string_equal(out, "038090012345");
    assert_int_equal(vn_cccd_normalize(" 038 090 012 345 ", 1990, out, &why), 0);
    assert_string_equal(out, "038090012345");
    assert_int_equal(vn_cccd_normalize("038.090.012.345", 0, out, &why), 0);
    assert_string_equal(out, "038090012345");
    assert_int_equal(vn_cccd_normalize("038\xc2\xa0"
                                       "090012345",
                                       0, out, &why),
                     0);
    /* century digit: 0/1 → 1900s, 2/3 → 2000s, 4/5 → 2100s */
    assert_int_equal(vn_cccd_normalize("038199012345", 1999, out, &why), 0);
    assert_int_equal(vn_cccd_normalize("001205012345", 2005, out, &why), 0);
    assert_int_equal(vn_cccd_normalize("001300012345", 2000, out, &why), 0);
    assert_int_equal(vn_cccd_normalize("096400012345", 2100, out, &why), 0);
    assert_int_equal(vn_cccd_normalize("096501012345", 2101, out, &why), 0);
    /* every province in the data file, first and last, and a few in between */
    const char *codes[] = {"001", "002", "004", "038", "040", "079", "092", "096"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char id[13];
        snprintf(id, sizeof id, "%s090012345", codes[i]);
        if (vn_cccd_normalize(id, 1990, out, &why) != 0) fail_msg("%s refused", id);
        assert_true(vn_cccd_province_ok(codes[i]));
    }
    assert_string_equal(vn_cccd_province_name("038"), "Tỉnh Thanh Hóa");
    assert_string_equal(vn_cccd_province_name("001"), "Thành phố Hà Nội");
    assert_string_equal(vn_cccd_province_name("096"), "Tỉnh Cà Mau");
    assert_null(vn_cccd_province_name("003"));
    assert_int_equal(vn_cccd_sex("038090012345"), 0);
    assert_int_equal(vn_cccd_sex("038190012345"), 1);
    assert_int_equal(vn_cccd_sex("0381"), -1);
}

static void test_cccd_province_table(void **state)
{
    (void)state;
    /* Exactly the 63 prefixes of vn_provinces_pre2025.csv among 000..999. */
    int n = 0;
    for (int i = 0; i < 1000; i++) {
        char p[4];
        snprintf(p, sizeof p, "%03d", i);
        n += vn_cccd_province_ok(p);
    }
    assert_int_equal(n, 63);
    const char *gaps[] = {"000", "003", "005", "007", "009", "013", "016", "018", "021",
                          "023", "028", "029", "032", "039", "041", "043", "047", "050",
                          "053", "055", "057", "059", "061", "063", "065", "069", "071",
                          "073", "076", "078", "081", "085", "088", "090", "097", "099"};
    for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++)
        if (vn_cccd_province_ok(gaps[i])) fail_msg("%s accepted", gaps[i]);
    assert_false(vn_cccd_province_ok("1a3"));
    assert_false(vn_cccd_province_ok(NULL));
}

static void test_cccd_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int year;
        cs_code why;
    } bad[] = {
        {"003090012345", 0, CS_F_CCCD_PROVINCE},
        {"000090012345", 1990, CS_F_CCCD_PROVINCE},
        {"097090012345", 0, CS_F_CCCD_PROVINCE},
        {"999090012345", 0, CS_F_CCCD_PROVINCE},
        {"038090012345", 1991, CS_F_CCCD_BIRTH}, /* year digits differ */
        {"038090012345", 2090, CS_F_CCCD_BIRTH}, /* right digits, wrong century */
        {"038290012345", 1990, CS_F_CCCD_BIRTH}, /* 2 = 2000s */
        {"038005012345", 2005, CS_F_CCCD_BIRTH}, /* 0 = 1900s */
        {"038405012345", 2005, CS_F_CCCD_BIRTH}, /* 4 = 2100s */
        {"3.8E+11", 1990, CS_F_CCCD_SCIENTIFIC},
        {"3,8E+11", 1990, CS_F_CCCD_SCIENTIFIC},
        {"3.80901E+11", 0, CS_F_CCCD_SCIENTIFIC},
        {" 3.8e11 ", 0, CS_F_CCCD_SCIENTIFIC},
        {"38090012345", 1990, CS_F_CCCD_INVALID}, /* 11 digits: leading zero lost */
        {"0380900123456", 0, CS_F_CCCD_INVALID},
        {"173456789", 0, CS_F_CCCD_INVALID}, /* old 9-digit CMND */
        {"", 0, CS_F_CCCD_INVALID},
        {"03809001234a", 0, CS_F_CCCD_INVALID},
        {"038-090-012-345", 0, CS_F_CCCD_INVALID},
        {"E+11", 0, CS_F_CCCD_INVALID},
        {"38090012345.0", 0, CS_F_CCCD_INVALID}, /* a float cell, zero lost */
        {"380900123450.00", 0, CS_F_CCCD_INVALID},
        {"038.090.012.34", 0, CS_F_CCCD_INVALID},
        {".038090012345", 0, CS_F_CCCD_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[13] = "untouched";
        cs_code why = CS_OK;
        if (vn_cccd_normalize(bad[i].in, bad[i].year, out, &why) != -1)
            fail_msg("'%s' accepted", bad[i].in);
        if (why != bad[i].why)
            fail_msg("'%s': got %s, want %s", bad[i].in, cs_code_name(why),
                     cs_code_name(bad[i].why));
        assert_string_equal(out, "untouched");
    }
    char out[13];
    cs_code why = CS_OK;
    assert_int_equal(vn_cccd_normalize(NULL, 0, out, &why), -1);
    assert_int_equal(why, CS_F_CCCD_INVALID);
}

/* ---------------------------------------------------------------- dates */

static void expect_date(const char *in, int serial, int y, int m, int d)
{
    vn_date out = {0, 0, 0};
    cs_code why = CS_OK;
    if (vn_date_parse(in, serial, &out, &why) != 0) fail_msg("'%s' refused", in);
    if (out.y != y || out.m != m || out.d != d)
        fail_msg("'%s' → %04d-%02d-%02d, want %04d-%02d-%02d", in, out.y, out.m, out.d, y, m, d);
}

static void expect_bad_date(const char *in, int serial)
{
    vn_date out = {1, 2, 3};
    cs_code why = CS_OK;
    if (vn_date_parse(in, serial, &out, &why) != -1) fail_msg("'%s' accepted", in);
    assert_int_equal(why, CS_F_DATE_INVALID);
    assert_true(out.y == 1 && out.m == 2 && out.d == 3);
}

static void test_date_formats(void **state)
{
    (void)state;
    expect_date("05/03/1998", 0, 1998, 3, 5);
    expect_date("5/3/1998", 0, 1998, 3, 5);
    expect_date("05-03-1998", 0, 1998, 3, 5);
    expect_date("05.03.1998", 0, 1998, 3, 5);
    expect_date("1998-03-05", 0, 1998, 3, 5);
    expect_date("1998/3/5", 0, 1998, 3, 5);
    expect_date("  05/03/1998 ", 0, 1998, 3, 5);
    expect_date("31/12/2199", 0, 2199, 12, 31);
    expect_date("01/01/1900", 0, 1900, 1, 1);
    expect_date("29/02/2000", 0, 2000, 2, 29); /* divisible by 400: leap */
    expect_date("29/02/2024", 0, 2024, 2, 29);
    expect_date("2024-02-29", 0, 2024, 2, 29);
    expect_date("30/04/1975", 1, 1975, 4, 30); /* allow_serial does not stop d/m/y */
    expect_bad_date("29/02/2023", 0);
    expect_bad_date("29/02/1900", 0); /* divisible by 100, not 400 */
    expect_bad_date("2023-02-29", 0);
    expect_bad_date("31/04/2000", 0);
    expect_bad_date("32/01/2000", 0);
    expect_bad_date("00/01/2000", 0);
    expect_bad_date("01/13/2000", 0);
    expect_bad_date("01/00/2000", 0);
    expect_bad_date("12/31/2000", 0); /* American order is not ours */
    expect_bad_date("01/01/1899", 0);
    expect_bad_date("01/01/2200", 0);
    expect_bad_date("05/03-1998", 0); /* mixed separators */
    expect_bad_date("05/03/199", 0);
    expect_bad_date("05/03/19988", 0);
    expect_bad_date("005/03/1998", 0);
    expect_bad_date("05/003/1998", 0);
    expect_bad_date("1998-03-005", 0);
    expect_bad_date("1998-03", 0);
    expect_bad_date("05/03/1998x", 0);
    expect_bad_date("hôm qua", 0);
    expect_bad_date("", 0);
    expect_bad_date("  ", 1);
    expect_bad_date("36526", 0); /* serials only when allowed */
    vn_date d;
    assert_int_equal(vn_date_parse(NULL, 1, &d, NULL), -1);
}

static void test_date_two_digit_year(void **state)
{
    (void)state;
    int now = vn_today().y, yy = now % 100, century = now - yy;
    char in[16];
    snprintf(in, sizeof in, "1/6/%02d", yy);
    expect_date(in, 0, century + yy, 6, 1); /* this year's digits → this century */
    snprintf(in, sizeof in, "1/6/%02d", (yy + 1) % 100);
    expect_date(in, 0, yy == 99 ? century + 0 : century - 100 + yy + 1, 6, 1);
    expect_date("15/8/05", 0, 2005, 8, 15);
    expect_date("15/8/00", 0, 2000, 8, 15);
    expect_date("15/8/90", 0, 1990, 8, 15);
    expect_date("15/8/99", 0, 1999, 8, 15);
    expect_bad_date("29/2/01", 0);
    expect_date("29/2/04", 0, 2004, 2, 29);
}

static void test_date_excel_serial(void **state)
{
    (void)state;
    expect_date("1", 1, 1900, 1, 1);
    expect_date("59", 1, 1900, 2, 28);
    expect_bad_date("60", 1); /* Excel's 29 Feb 1900 never existed */
    expect_date("61", 1, 1900, 3, 1);
    expect_date("36526", 1, 2000, 1, 1);
    expect_date("35859", 1, 1998, 3, 5);
    expect_date("45351", 1, 2024, 2, 29);
    expect_date("45352", 1, 2024, 3, 1);
    expect_date("36526.75", 1, 2000, 1, 1); /* time of day dropped */
    expect_date(" 36526 ", 1, 2000, 1, 1);
    expect_date("80000", 1, 2119, 1, 11);
    expect_bad_date("0", 1);
    expect_bad_date("80001", 1);
    expect_bad_date("20000101", 1);
    expect_bad_date("-5", 1);
    expect_bad_date("36526.", 1);
    expect_bad_date("36526.5.1", 1);
    expect_bad_date("3e4", 1);
    expect_bad_date("1998", 1); /* a birth year alone, not 1905-06-20 */
    expect_bad_date("1900", 1);
    expect_bad_date("2199", 1);
    expect_date("1899", 1, 1905, 3, 13);
    expect_date("2200", 1, 1906, 1, 8);
}

static void test_date_age_and_iso(void **state)
{
    (void)state;
    vn_date b = {2000, 2, 29};
    assert_int_equal(vn_age_on(b, (vn_date){2016, 2, 28}), 15);
    assert_int_equal(vn_age_on(b, (vn_date){2016, 2, 29}), 16);
    assert_int_equal(vn_age_on(b, (vn_date){2017, 2, 28}), 16);
    assert_int_equal(vn_age_on(b, (vn_date){2018, 2, 28}), 17);
    assert_int_equal(vn_age_on(b, (vn_date){2018, 3, 1}), 18);
    vn_date c = {1996, 6, 15};
    assert_int_equal(vn_age_on(c, (vn_date){2026, 6, 14}), 29);
    assert_int_equal(vn_age_on(c, (vn_date){2026, 6, 15}), 30);
    assert_int_equal(vn_age_on(c, (vn_date){2026, 12, 31}), 30);
    assert_int_equal(vn_age_on(c, (vn_date){1996, 6, 15}), 0);
    assert_int_equal(vn_age_on(c, (vn_date){1990, 1, 1}), 0); /* before birth */
    assert_int_equal(vn_date_cmp(c, (vn_date){1996, 6, 16}), -1);
    assert_int_equal(vn_date_cmp(c, (vn_date){1996, 6, 15}), 0);
    assert_int_equal(vn_date_cmp(c, (vn_date){1995, 12, 31}), 1);
    assert_int_equal(vn_date_cmp(c, (vn_date){1996, 7, 1}), -1);

    char iso[11];
    vn_date_iso((vn_date){2024, 2, 9}, iso);
    assert_string_equal(iso, "2024-02-09");
    vn_date_iso((vn_date){1900, 12, 31}, iso);
    assert_string_equal(iso, "1900-12-31");
    vn_date_iso((vn_date){-1, 0, 0}, iso);
    assert_string_equal(iso, "0000-00-00");

    vn_date t = vn_today();
    assert_true(t.y >= 2024 && t.y <= VN_YEAR_MAX);
    assert_true(t.m >= 1 && t.m <= 12 && t.d >= 1 && t.d <= 31);
    vn_date_iso(t, iso);
    vn_date back;
    assert_int_equal(vn_date_parse(iso, 0, &back, NULL), 0);
    assert_int_equal(vn_date_cmp(back, t), 0);
}

/* ---------------------------------------------------------------- text */

static void expect_clean(const char *in, const char *want)
{
    cs_code why = CS_OK;
    char *s = vn_text_clean(in, &why);
    if (!s) fail_msg("'%s' refused with %s", in, cs_code_name(why));
    if (strcmp(s, want)) fail_msg("clean('%s') = '%s', want '%s'", in, s, want);
    cs_free(s);
}

static void expect_fold(const char *in, const char *want)
{
    char *s = vn_fold(in);
    if (!s) fail_msg("fold('%s') refused", in);
    if (strcmp(s, want)) fail_msg("fold('%s') = '%s', want '%s'", in, s, want);
    cs_free(s);
}

static void test_text_nfc(void **state)
{
    (void)state;
    /* NFD (e + U+0302 circumflex + U+0303 tilde), as macOS and some phone keyboards send it */
    expect_clean("Nguye\xcc\x82\xcc\x83n", "Nguy\xe1\xbb\x85n");
    expect_clean("Nguy\xe1\xbb\x85n", "Nguy\xe1\xbb\x85n"); /* already NFC: unchanged */
    /* the two spellings of Hòa/Hoà stay distinct (NFC does not move the tone mark) */
    expect_clean("Thanh Ho\xcc\x81"
                 "a",
                 "Thanh H\xc3\xb3"
                 "a");
    expect_clean("  Nguyễn   Văn\tAn \n", "Nguyễn Văn An");
    expect_clean("Bánh\xc2\xa0"
                 "đa\xe3\x80\x80"
                 "kê",
                 "Bánh đa kê"); /* NBSP, ideographic space */
    expect_clean("a\x01"
                 "b",
                 "a b"); /* control characters are not kept */
    expect_clean("", "");
    expect_clean(" \t ", "");
    expect_clean("Mật ong 🍯", "Mật ong 🍯");
}

static void test_text_invalid_utf8(void **state)
{
    (void)state;
    const char *bad[] = {
        "Nguy\xe1\xbb",     /* truncated 3-byte sequence */
        "\xc3\x28",         /* bad continuation */
        "\xff",             /* never valid */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* UTF-16 surrogate D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "abc\x80",          /* lone continuation */
        "Vi\xe1\xbb\x87t \xa0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_code why = CS_OK;
        char *s = vn_text_clean(bad[i], &why);
        if (s) fail_msg("case %zu accepted", i);
        assert_int_equal(why, CS_F_UTF8);
        assert_null(vn_fold(bad[i]));
        assert_int_equal(vn_utf8_len(bad[i]), -1);
        assert_false(vn_utf8_valid(bad[i]));
    }
    cs_code why = CS_OK;
    assert_null(vn_text_clean(NULL, &why));
    assert_int_equal(why, CS_F_REQUIRED);
    assert_null(vn_fold(NULL));
    assert_int_equal(vn_utf8_len(NULL), -1);
}

static void test_text_fold(void **state)
{
    (void)state;
    expect_fold("Nguyễn Văn Đạt", "nguyen van dat");
    expect_fold("Nguyễn Văn An", "nguyen van an");
    expect_fold("Nguyen Van An", "nguyen van an");
    expect_fold("Nguye\xcc\x82\xcc\x83n", "nguyen"); /* NFD in, same key */
    expect_fold("ĐẶNG THỊ HƯƠNG", "dang thi huong");
    expect_fold("\xc3\x90\xe1\xba\xa1t", "dat"); /* Ð (eth) for Đ, from old fonts */
    expect_fold("đường Ơn", "duong on");
    expect_fold("  Bánh   đa\xc2\xa0kê  ", "banh da ke");
    expect_fold("Thanh Hóa", "thanh hoa");
    expect_fold("Thanh Hoá", "thanh hoa"); /* old-style tone placement folds the same */
    expect_fold("Mật ong 🍯 rừng", "mat ong rung");
    expect_fold("Nước mắm Ba Làng (500ml)", "nuoc mam ba lang (500ml)");
    expect_fold("\xef\xbc\xa1\xef\xbd\x82", "ab"); /* full-width */
    expect_fold("a\xe2\x80\x8b"
                "b",
                "ab"); /* zero-width space dropped */
    expect_fold("", "");
    /* every Vietnamese vowel with every tone folds to its base letter */
    expect_fold("àáảãạăằắẳẵặâầấẩẫậ", "aaaaaaaaaaaaaaaaa");
    expect_fold("ÈÉẺẼẸÊỀẾỂỄỆ", "eeeeeeeeeee");
    expect_fold("ìíỉĩịòóỏõọôồốổỗộơờớởỡợ", "iiiiiooooooooooooooooo");
    expect_fold("ùúủũụưừứửữựỳýỷỹỵ", "uuuuuuuuuuuyyyyy");
}

/* Issue 10: compatibility folding can make a key longer than its text; the key is cut to its
 * column (households.name_folded is 200 bytes), never left to the database to refuse. */
static void test_fold_key_cap(void **state)
{
    (void)state;
    cs_buf b;
    cs_buf_init(&b, 0);
    for (int i = 0; i < 33; i++) /* 99 characters, each folding to 2 to 4 letters */
        assert_int_equal(cs_buf_puts(&b, "\xef\xac\x81\xe2\x91\xb4\xe3\x8e\x89"), 0); /* ﬁ ⑴ ㎉ */
    char *k = vn_fold(b.data);
    assert_non_null(k);
    assert_true(strlen(k) > CS_HH_NAME_KEY_MAX);
    assert_non_null(strstr(k, "fi(1)kcal"));
    vn_key_cap(k, CS_HH_NAME_KEY_MAX);
    assert_true(strlen(k) <= CS_HH_NAME_KEY_MAX);
    cs_free(k);
    char s[] = "ab cd ef";
    vn_key_cap(s, 3); /* no trailing space is kept */
    assert_string_equal(s, "ab");
    char t[] = "short";
    vn_key_cap(t, 200);
    assert_string_equal(t, "short");
    k = vn_fold("\xe2\x85\xab"); /* Ⅻ */
    assert_string_equal(k, "xii");
    cs_free(k);
    cs_buf_free(&b);
}

static void test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(vn_utf8_len(""), 0);
    assert_int_equal(vn_utf8_len("abc"), 3);
    assert_int_equal(vn_utf8_len("Nguyễn"), 6);
    assert_int_equal(vn_utf8_len("Nguye\xcc\x82\xcc\x83n"), 8); /* NFD: 2 more code points */
    assert_int_equal(vn_utf8_len("🍯"), 1);
    assert_true(vn_utf8_valid("Việt Nam"));
}

static void test_text_alloc_failure(void **state)
{
    (void)state;
    /* Fail each allocation in turn: NULL with CS_E_NOMEM, never a crash or a leak; the loop
     * ends on a run the failure never reached, which must give the cleaned text. */
    int clean = 0;
    for (unsigned long n = 1; n <= 10 && !clean; n++) {
        cs_mem_fail_at(n);
        cs_code why = CS_OK;
        char *s = vn_text_clean("Nguyễn Văn An", &why);
        unsigned long used = cs_mem_count();
        cs_mem_fail_at(0);
        clean = used < n;
        if (clean) {
            assert_non_null(s);
            assert_string_equal(s, "Nguyễn Văn An");
        } else {
            assert_null(s);
            assert_int_equal(why, CS_E_NOMEM);
        }
        cs_free(s);
    }
    assert_true(clean);
    cs_mem_fail_at(1);
    assert_null(vn_fold("Nguyễn"));
    cs_mem_fail_at(0);
    char *s = vn_fold("Nguyễn");
    assert_non_null(s);
    cs_free(s);
}

/* ---------------------------------------------------------------- prices */

static void test_price(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"150000", 150000},
        {"150.000", 150000},
        {"150,000", 150000},
        {"150 000", 150000},
        {"150000đ", 150000},
        {"150.000 VND", 150000},
        {"150.000 vnđ", 150000},
        {"150.000 VNĐ", 150000},
        {"150.000₫", 150000},
        {"150.000 đồng", 150000},
        {"150000 dong", 150000},
        {" 150000 ", 150000},
        {"1.500.000", 1500000},
        {"1 500 000 đ", 1500000},
        {"150\xc2\xa0"
         "000",
         150000},
        {"1", 1},
        {"999", 999},
        {"10000000000", 10000000000LL},
        {"10.000.000.000", 10000000000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = 0;
        cs_code why = CS_OK;
        if (vn_price_parse(ok[i].in, &v, &why) != 0) fail_msg("'%s' refused", ok[i].in);
        if (v != ok[i].want) fail_msg("'%s' → %lld", ok[i].in, (long long)v);
    }
    const char *bad[] = {"0",
                         "000",
                         "0đ",
                         "-150000",
                         "+150000",
                         "150000.50",
                         "150,5",
                         "1.5",
                         "150.00",
                         "1.500,000",
                         "1,500.000",
                         "1500.000",
                         "15.00.000",
                         ".150",
                         "150.",
                         "10000000001",
                         "10.000.000.001",
                         "99999999999999999999999",
                         "abc",
                         "",
                         "đ",
                         "150000 USD",
                         "150000€",
                         "150k",
                         "1e5",
                         "150 000 000,00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        cs_code why = CS_OK;
        if (vn_price_parse(bad[i], &v, &why) != -1) fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(why, CS_F_PRICE);
        assert_int_equal(v, 42);
    }
    int64_t v;
    assert_int_equal(vn_price_parse(NULL, &v, NULL), -1);
}

/* ---------------------------------------------------------------- masks */

static void test_mask(void **state)
{
    (void)state;
    char out[64];
    vn_mask("0912345678", out, sizeof out);
    assert_string_equal(out, "09******78");
    vn_mask("038090012345", out, sizeof out);
    assert_string_equal(out, "038*******45");
    vn_mask("12345", out, sizeof out);
    assert_string_equal(out, "12*45");
    vn_mask("1234", out, sizeof out);
    assert_string_equal(out, "****");
    vn_mask("", out, sizeof out);
    assert_string_equal(out, "");
    vn_mask("Nguyễn", out, sizeof out); /* characters, not bytes */
    assert_string_equal(out, "Ng**ễn");
    vn_mask("\xff\xfe\xfd", out, sizeof out);
    assert_string_equal(out, "***");
    vn_mask(NULL, out, sizeof out);
    assert_string_equal(out, "");
    char small[6];
    vn_mask("0912345678", small, sizeof small); /* truncated, terminated */
    assert_string_equal(small, "09***");
    char tiny[4];
    vn_mask("ễễễễễễ", tiny, sizeof tiny); /* never splits a character */
    assert_string_equal(tiny, "ễ");
    vn_mask("0912345678", out, 0); /* no room: nothing written, no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_valid_shapes),
        cmocka_unit_test(test_phone_invalid),
        cmocka_unit_test(test_cccd_valid),
        cmocka_unit_test(test_cccd_province_table),
        cmocka_unit_test(test_cccd_invalid),
        cmocka_unit_test(test_date_formats),
        cmocka_unit_test(test_date_two_digit_year),
        cmocka_unit_test(test_date_excel_serial),
        cmocka_unit_test(test_date_age_and_iso),
        cmocka_unit_test(test_text_nfc),
        cmocka_unit_test(test_text_invalid_utf8),
        cmocka_unit_test(test_text_fold),
        cmocka_unit_test(test_fold_key_cap),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_text_alloc_failure),
        cmocka_unit_test(test_price),
        cmocka_unit_test(test_mask),
    };
    return cmocka_run_group_tests_name("vn", tests, NULL, NULL);
}
