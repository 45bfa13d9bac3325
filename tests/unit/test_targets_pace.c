/* tests/unit/test_targets_pace: the pace and projection arithmetic of core/targets
 * (cs_targets_pace_of, cs_targets_percent) at its boundaries — 1 January, 31 December,
 * 29 February, years past and to come, goal 0 or none, achieved over the goal, rounding — with
 * every expected value worked out by hand in the comments. No database. */
#include "core/targets.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define NUL INT64_MIN /* "null in the API": the has_ flag is off */

struct want {
    int diy, elapsed, left, months_left;
    double percent; /* NAN: null */
    int64_t remaining, per_week, per_month, projection, on_track;
};

static void check(const char *what, int64_t goal, int64_t achieved, int year, vn_date today,
                  struct want w)
{
    cs_targets_pace p;
    print_message("%s\n", what);
    assert_int_equal(cs_targets_pace_of(goal, achieved, year, today, &p), 0);
    assert_int_equal(p.days_in_year, w.diy);
    assert_int_equal(p.days_elapsed, w.elapsed);
    assert_int_equal(p.days_left, w.left);
    assert_int_equal(p.months_left, w.months_left);
    if (isnan(w.percent)) {
        assert_false(p.has_percent);
    } else {
        assert_true(p.has_percent);
        assert_true(fabs(p.percent - w.percent) < 1e-9);
    }
    const struct {
        int has;
        int64_t got, want;
    } v[] = {
        {p.has_remaining, p.remaining, w.remaining},
        {p.has_per_week, p.needed_per_week, w.per_week},
        {p.has_per_month, p.needed_per_month, w.per_month},
        {p.has_projection, p.projection, w.projection},
        {p.has_on_track, p.on_track, w.on_track},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        print_message("  value %zu\n", i);
        assert_int_equal(v[i].has, v[i].want != NUL);
        if (v[i].has) assert_int_equal(v[i].got, v[i].want);
    }
}

static vn_date day(int y, int m, int d)
{
    return (vn_date){y, m, d};
}

/* 1 January: one day elapsed (today counts), the whole year left */
static void test_first_of_january(void **state)
{
    (void)state;
    /* projection 10 × 365 / 1 = 3650; remaining 1990; week ⌈1990 × 7 / 365⌉ = ⌈38.16⌉ = 39;
     * month ⌈1990 / 12⌉ = ⌈165.8⌉ = 166; percent 0.5 */
    check("2026-01-01", 2000, 10, 2026, day(2026, 1, 1),
          (struct want){365, 1, 365, 12, 0.5, 1990, 39, 166, 3650, 1});
    /* nothing yet: projection 0, not on track */
    check("2026-01-01 zero", 2000, 0, 2026, day(2026, 1, 1),
          (struct want){365, 1, 365, 12, 0.0, 2000, 39, 167, 0, 0});
}

/* 31 December: the last day, one day and one month left */
static void test_last_of_december(void **state)
{
    (void)state;
    /* 49 of 50: remaining 1, week ⌈1 × 7 / 1⌉ = 7, month 1, projection 49 × 365 / 365 */
    check("2026-12-31", 50, 49, 2026, day(2026, 12, 31),
          (struct want){365, 365, 1, 1, 98.0, 1, 7, 1, 49, 0});
    /* a leap year's 31 December is day 366 */
    check("2028-12-31", 50, 50, 2028, day(2028, 12, 31),
          (struct want){366, 366, 1, 1, 100.0, 0, 0, 0, 50, 1});
    /* 30 November: two months left (November included) */
    check("2026-11-30", 50, 0, 2026, day(2026, 11, 30),
          (struct want){365, 334, 32, 2, 0.0, 50, 11, 25, 0, 0});
}

/* 29 February exists in leap years only; 1 March is day 61 or day 60 */
static void test_leap_years(void **state)
{
    (void)state;
    /* 2028-02-29 = day 31 + 29 = 60 of 366, 307 left, 11 months; projection 300 × 366 / 60 =
     * 1830; remaining 1700: week ⌈11900 / 307⌉ = ⌈38.76⌉ = 39, month ⌈1700 / 11⌉ = 155 */
    check("2028-02-29", 2000, 300, 2028, day(2028, 2, 29),
          (struct want){366, 60, 307, 11, 15.0, 1700, 39, 155, 1830, 0});
    /* 2028-03-01 = day 61, 306 left, 10 months; projection 61 × 366 / 61 = 366 */
    check("2028-03-01", 366, 61, 2028, day(2028, 3, 1),
          (struct want){366, 61, 306, 10, 16.7, 305, 7, 31, 366, 1});
    /* 2026-03-01 = day 60 of 365, 306 left */
    check("2026-03-01", 365, 60, 2026, day(2026, 3, 1),
          (struct want){365, 60, 306, 10, 16.4, 305, 7, 31, 365, 1});
    /* 2000 is a leap year (divisible by 400), 2100 is not (by 100) */
    check("2000-12-31", 0, 1, 2000, day(2000, 12, 31),
          (struct want){366, 366, 1, 1, NAN, NUL, NUL, NUL, 1, NUL});
    check("2100-12-31", 0, 1, 2100, day(2100, 12, 31),
          (struct want){365, 365, 1, 1, NAN, NUL, NUL, NUL, 1, NUL});
    cs_targets_pace p;
    assert_int_equal(cs_targets_pace_of(10, 1, 2026, day(2026, 2, 29), &p), -1);
    assert_int_equal(cs_targets_pace_of(10, 1, 2100, day(2100, 2, 29), &p), -1);
    assert_int_equal(cs_targets_pace_of(10, 1, 2000, day(2000, 2, 29), &p), 0);
    assert_int_equal(p.days_elapsed, 60);
}

/* a year already over: the whole year elapsed, the projection is what was achieved, nothing
 * can be needed per week or month any more; the remaining stays known */
static void test_year_over(void **state)
{
    (void)state;
    check("2025 seen in 2026", 2000, 1500, 2025, day(2026, 3, 1),
          (struct want){365, 365, 0, 0, 75.0, 500, NUL, NUL, 1500, 0});
    check("2024 (leap) seen on 2025-01-01", 50, 51, 2024, day(2025, 1, 1),
          (struct want){366, 366, 0, 0, 102.0, 0, NUL, NUL, 51, 1});
}

/* a year not started: nothing elapsed, no projection, the whole year left */
static void test_year_not_started(void **state)
{
    (void)state;
    /* remaining 95: week ⌈665 / 365⌉ = 2, month ⌈95 / 12⌉ = 8 */
    check("2027 seen on 2026-12-31", 100, 5, 2027, day(2026, 12, 31),
          (struct want){365, 0, 365, 12, 5.0, 95, 2, 8, NUL, NUL});
    check("2028 (leap) seen in 2026", 2000, 0, 2028, day(2026, 6, 15),
          (struct want){366, 0, 366, 12, 0.0, 2000, 39, 167, NUL, NUL});
}

/* goal 0 and no goal: no percent, remaining, pace or verdict; the projection stays */
static void test_goal_zero_or_none(void **state)
{
    (void)state;
    struct want w = {365, 182, 184, 6, NAN, NUL, NUL, NUL, 20, NUL};
    /* 2026-07-01 = day 181 + 1 = 182; projection 10 × 365 / 182 = 20.05 → 20 */
    check("goal 0", 0, 10, 2026, day(2026, 7, 1), w);
    check("no goal", CS_TARGETS_NO_GOAL, 10, 2026, day(2026, 7, 1), w);
    check("a negative goal counts as none", -5, 10, 2026, day(2026, 7, 1), w);
    double pct = 42.0;
    assert_int_equal(cs_targets_percent(10, 0, &pct), 0);
    assert_int_equal(cs_targets_percent(10, CS_TARGETS_NO_GOAL, &pct), 0);
    assert_true(pct == 42.0); /* untouched */
}

/* achieved beyond the goal: nothing remains, nothing is needed, percent over 100 */
static void test_achieved_over_goal(void **state)
{
    (void)state;
    /* projection 80 × 365 / 182 = 160.44 → 160 */
    check("80 of 50", 50, 80, 2026, day(2026, 7, 1),
          (struct want){365, 182, 184, 6, 160.0, 0, 0, 0, 160, 1});
}

/* the roundings: projection half away from zero, pace always up (exact divisions stay), percent
 * to one decimal; on track is projection ≥ goal, equality included */
static void test_rounding(void **state)
{
    (void)state;
    /* 2 January: 1 × 365 / 2 = 182.5 → 183 */
    check("projection .5", 1000, 1, 2026, day(2026, 1, 2),
          (struct want){365, 2, 364, 12, 0.1, 999, 20, 84, 183, 0});
    /* 18 December: 14 days left; 10 × 7 / 14 = 5 exactly, 11 × 7 / 14 = 5.5 → 6 */
    check("week exact", 20, 10, 2026, day(2026, 12, 18),
          (struct want){365, 352, 14, 1, 50.0, 10, 5, 10, 10, 0});
    check("week up", 20, 9, 2026, day(2026, 12, 18),
          (struct want){365, 352, 14, 1, 45.0, 11, 6, 11, 9, 0});
    /* 10 February = day 41: 41 × 365 / 41 = 365 = goal → on track; 40 → 356.1 → 356 → not */
    check("on track at equality", 365, 41, 2026, day(2026, 2, 10),
          (struct want){365, 41, 325, 11, 11.2, 324, 7, 30, 365, 1});
    check("just short", 365, 40, 2026, day(2026, 2, 10),
          (struct want){365, 41, 325, 11, 11.0, 325, 7, 30, 356, 0});
    double pct = 0;
    assert_int_equal(cs_targets_percent(1, 3, &pct), 1);
    assert_true(fabs(pct - 33.3) < 1e-9);
    assert_int_equal(cs_targets_percent(2, 3, &pct), 1);
    assert_true(fabs(pct - 66.7) < 1e-9);
    assert_int_equal(cs_targets_percent(1, 2000, &pct), 1); /* 0.05 → 0.1 */
    assert_true(fabs(pct - 0.1) < 1e-9);
    assert_int_equal(cs_targets_percent(0, 7, &pct), 1);
    assert_true(pct == 0.0);
}

/* what is not a date or not a count is refused, the output zeroed */
static void test_refused_inputs(void **state)
{
    (void)state;
    static const struct {
        int64_t goal, achieved;
        int year;
        vn_date today;
    } bad[] = {
        {10, 1, 2026, {2026, 13, 1}},
        {10, 1, 2026, {2026, 0, 1}},
        {10, 1, 2026, {2026, 4, 31}},
        {10, 1, 2026, {2026, 1, 0}},
        {10, 1, 2026, {0, 1, 1}},
        {10, 1, 0, {2026, 1, 1}},
        {10, 1, 10000, {2026, 1, 1}},
        {INT64_MAX, 1, 2026, {2026, 1, 1}},
        {10, INT64_MAX, 2026, {2026, 1, 1}},
        {10, INT64_MIN, 2026, {2026, 1, 1}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_targets_pace p;
        memset(&p, 0x5a, sizeof p);
        print_message("bad %zu\n", i);
        assert_int_equal(
            cs_targets_pace_of(bad[i].goal, bad[i].achieved, bad[i].year, bad[i].today, &p), -1);
        assert_int_equal(p.days_in_year, 0);
        assert_int_equal(p.has_projection, 0);
        assert_int_equal(p.has_percent, 0);
    }
    /* the largest goal the API accepts still computes */
    cs_targets_pace p;
    assert_int_equal(cs_targets_pace_of(100000000, 0, 2026, day(2026, 12, 31), &p), 0);
    assert_int_equal(p.needed_per_week, 700000000);
}

/* every day of a common and of a leap year: elapsed + left = days in year + 1 while inside the
 * year, elapsed runs 1..N without a gap, months left step down on each first of a month */
static void test_every_day(void **state)
{
    (void)state;
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int y = 2027; y <= 2028; y++) {
        int n = 0;
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= dim[m - 1] + (m == 2 && y == 2028); d++) {
                cs_targets_pace p;
                assert_int_equal(cs_targets_pace_of(1, 0, y, day(y, m, d), &p), 0);
                assert_int_equal(p.days_elapsed, ++n);
                assert_int_equal(p.days_elapsed + p.days_left, p.days_in_year + 1);
                assert_int_equal(p.months_left, 13 - m);
                assert_true(p.needed_per_week >= 1 && p.needed_per_week <= 7);
            }
        assert_int_equal(n, y == 2028 ? 366 : 365);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_of_january),   cmocka_unit_test(test_last_of_december),
        cmocka_unit_test(test_leap_years),         cmocka_unit_test(test_year_over),
        cmocka_unit_test(test_year_not_started),   cmocka_unit_test(test_goal_zero_or_none),
        cmocka_unit_test(test_achieved_over_goal), cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_refused_inputs),     cmocka_unit_test(test_every_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
