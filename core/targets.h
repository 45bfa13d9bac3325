/* core/targets: the yearly targets — summary counters kept in the same transaction as the
 * events, their from-scratch rebuild, progress against the goals, breakdowns and the report
 * files (CSV, XLSX). Numbers only: no HTTP and no JSON here; the service builds the API's JSON
 * from the structs this returns, and the CLI prints them.
 *
 * Definitions (used everywhere: API, dashboard, exports, CLI):
 *
 *   Year and month are those of Asia/Ho_Chi_Minh (UTC+7, no daylight saving) of the UTC date
 *   stored in the database: an activation at 2025-12-31 17:30 UTC counts in January 2026.
 *
 *   households_onboarded — a household counts toward year Y when it is youth-led (owner aged
 *     youth.min_age..youth.max_age at registration: households.youth_led) and its FIRST seller
 *     account on any marketplace became `active` in Y (households.onboarded_at, set once by
 *     cs_account_transition). Its marketplace is that of the earliest account_events row to
 *     'active' among its accounts.
 *   Flagship products are a designation, not a tick: a product is flagship only while it is
 *     linked to an entry of the province's list (flagship_products, seeded from the shared
 *     thanhhoa products list, maintained by provincial staff) AND an admin approved that link
 *     (products.flagship_status = 'approved'; a volunteer's proposal, a refusal or no entry
 *     never counts; products.flagship only mirrors the approval). The counted unit is a
 *     distinct (household, list entry) pair: three pack sizes of one household's product count
 *     once, and two households selling the same OCOP product count twice.
 *   flagship_products_live — a pair counts toward Y when the earliest products.first_live_at
 *     among the household's approved products linked to the entry falls in Y (first_live_at:
 *     the product's FIRST listing on any marketplace went `live`, set once by
 *     cs_listing_transition). Marketplace: the earliest listing_events row to 'live' of that
 *     earliest product (ties on the date: the lower product id).
 *   flagship_products_sold — a pair whose earliest products.first_sold_at (the product's first
 *     reported sale on any marketplace, cs_listing_record_sale) among the household's approved
 *     products linked to the entry falls in Y. Marketplace: that product's listing with the
 *     earliest first_sale_at. A sale is reported (core/orders.c, the only caller) when
 *     an order line of the product's listing FIRST reaches the marketplace's delivered/completed
 *     status (Shopee TO_CONFIRM_RECEIVE/COMPLETED, Lazada delivered/confirmed, TikTok DELIVERED/
 *     COMPLETED; postmart.vn/voso.vn: a volunteer's record or import, or the owner's claim once a
 *     volunteer confirms it), dated by the marketplace's update time of the answer that first
 *     showed it delivered (a person's record: the sale date). A line cancelled or returned
 *     before delivery never counts; one returned after delivery stays counted; lines whose SKU
 *     is not one of our listings are kept aside and never counted. Orders, units and revenue of
 *     counted lines are kept in order_counts (core/orders.h) in the same transaction.
 *   Commune (and former district, through admin_units.primary_district_code) is the
 *   household's current commune.
 *
 *   The dates are first dates and never move back: a later suspension, delisting, rejection or
 *   the owner's erasure (which keeps commune, youth flag and dates) does not rewrite a past
 *   year. A household's youth flag and commune, and a product's approved link, are facts about
 *   it rather than events: when they change (a mistyped birth date, a wrong commune, a link
 *   approved after the product went live, refused or moved to another entry) the count moves
 *   with the change, in the year/month of the pair's first date. The counters therefore
 *   always equal a recomputation from the base tables (`choso targets --rebuild`).
 *
 *   Real and practice apart (issue 12): every seller account and listing records the
 *   environment it was made in (seller_accounts.env, listings.env: production | sandbox, from
 *   `<marketplace>.mode`, core/instance.h). On a production instance (instance.kind) a sandbox
 *   shop or listing neither sets a first date nor counts, and an item whose first date only
 *   practice set is left out of the counters and the rebuild alike; the marketplace is that of
 *   the first counted shop/listing. A demo or training instance counts everything and marks
 *   every count "dữ liệu mô phỏng" (cs_progress.simulated). Each counted item's evidence:
 *   core/evidence.h.
 *
 *   Progress for year Y, "today" being the date in Asia/Ho_Chi_Minh:
 *     percent     = achieved / goal × 100 (one decimal; null without a goal or with goal 0)
 *     projection  = achieved / days elapsed (today included) × days in the year, rounded; the
 *                   achieved figure for a past year; null for a future year
 *     remaining   = max(goal − achieved, 0)
 *     needed_per_week  = remaining / (days left, today included, ÷ 7), rounded up
 *     needed_per_month = remaining / months left (the current month included), rounded up
 *     (both null once the year is over; for a future year the whole year is left)
 *
 * Counter rows: target_counts (year, month, metric, commune_code, marketplace_code, n). */
#ifndef CS_TARGETS_H
#define CS_TARGETS_H
#include "core/audit.h"
#include "core/db.h"
#include "core/vn.h"
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum cs_metric {
    CS_M_HOUSEHOLDS = 0, /* households_onboarded */
    CS_M_LIVE,           /* flagship_products_live */
    CS_M_SOLD,           /* flagship_products_sold */
    CS_M__COUNT
} cs_metric;
/* "households_onboarded" …; NULL outside the enum. */
const char *cs_metric_name(int m);
/* Vietnamese label for reports ("Hộ thanh niên mở gian hàng" …). */
const char *cs_metric_label_vi(int m);
/* Index for a name, -1 when unknown. */
int cs_metric_from_name(const char *s);

/* ---- counters (all inside the caller's transaction) ----------------------------------------
 * Each adds sign × (the entity's contribution as the rebuild computes it) to target_counts.
 * Calling with -1 before changing an entity and +1 after moves its count exactly; calling +1
 * right after its first date was set files it. sign is +1 or -1. Return 0 or -1. */
int cs_targets_file_household(cs_db *db, int64_t household_id, int sign, cs_error *err);
/* metric CS_M_LIVE or CS_M_SOLD of the (household, list entry) pair of one product: call -1
 * before setting its first date and +1 after (another pack size may already count the pair). */
int cs_targets_file_product(cs_db *db, int64_t product_id, int metric, int sign, cs_error *err);
/* Household metric and both product metrics of every product of the household (a change of
 * the household's commune or youth flag). */
int cs_targets_refile_household(cs_db *db, int64_t household_id, int sign, cs_error *err);
/* Both product metrics of one (household, list entry) pair: out (-1) before a link of the
 * pair is proposed away, approved, refused or unlinked, in (+1) after it. */
int cs_targets_file_pair(cs_db *db, int64_t household_id, int64_t entry_id, int sign,
                         cs_error *err);
/* Both product metrics of the pair of one product (its household and list entry). */
int cs_targets_refile_product(cs_db *db, int64_t product_id, int sign, cs_error *err);

/* Recompute every counter row from the base tables in one transaction (own cs_db_tx). Meant for
 * repair and after bulk loads, while nothing else changes accounts, listings or products: a
 * transition committing during the rebuild can be counted twice (its own increment plus the
 * rebuild's read); cs_targets_verify tells, and a second rebuild settles it.
 * *rows (may be NULL) receives the number of counter rows written. */
int cs_targets_rebuild(cs_db *db, int64_t *rows, cs_error *err);
/* Compare the counters with a recomputation without changing them: *diff = number of
 * (year, month, metric, commune, marketplace) cells that differ. 0 or -1. */
int cs_targets_verify(cs_db *db, int64_t *diff, cs_error *err);

/* ---- pace and projection (pure) -------------------------------------------------------------
 * The arithmetic of "Progress" above, with no database and no clock: every input is passed in,
 * so the unit tests (tests/unit/test_targets_pace.c) pin each boundary (1 January, 31 December,
 * 29 February, past and future years, goal 0, achieved over the goal). */
#define CS_TARGETS_NO_GOAL (-1) /* a goal nobody set (JSON null); 0 is a goal set to zero */

typedef struct cs_targets_pace {
    int days_in_year; /* 365 or 366 */
    int days_elapsed; /* today included; 0 before the year, days_in_year after it */
    int days_left;    /* today included; days_in_year before the year, 0 after it */
    int months_left;  /* the current month included; 12 before the year, 0 after it */
    /* each value below is meaningful only when its has_ flag is set (else JSON null) */
    int has_percent; /* a goal > 0 */
    double percent;  /* achieved / goal × 100, rounded to one decimal */
    int has_remaining, has_per_week, has_per_month;
    int64_t remaining;       /* max(goal − achieved, 0); needs a goal > 0 */
    int64_t needed_per_week; /* ⌈remaining × 7 / days_left⌉; needs a goal > 0 and a day left */
    int64_t needed_per_month; /* ⌈remaining / months_left⌉; needs a goal > 0 and a month left */
    int has_projection;       /* some day of the year elapsed (not a future year) */
    int64_t projection; /* achieved / days_elapsed × days_in_year, rounded half away from 0 */
    int has_on_track;   /* a goal > 0 and a projection */
    int on_track;       /* projection ≥ goal */
} cs_targets_pace;

/* Percent of a goal: 1 and *pct (one decimal) when goal > 0, else 0 and *pct untouched. */
int cs_targets_percent(int64_t achieved, int64_t goal, double *pct);
/* The pace of `achieved` toward `goal` (CS_TARGETS_NO_GOAL, 0 or more) in `year` (1..9999) as
 * seen on `today` (a date of Asia/Ho_Chi_Minh). Returns 0, or -1 (and *out zeroed) when year or
 * today is not a calendar date; a negative goal other than CS_TARGETS_NO_GOAL counts as none. */
int cs_targets_pace_of(int64_t goal, int64_t achieved, int year, vn_date today,
                       cs_targets_pace *out);

/* ---- progress ------------------------------------------------------------------------------ */
typedef enum cs_targets_by {
    CS_BY_NONE = 0,
    CS_BY_COMMUNE,     /* all 166 communes, zeros included, with former district and
                          per-marketplace counts and any commune sub-goal */
    CS_BY_DISTRICT,    /* the 27 former districts (primary district of each commune) */
    CS_BY_MARKETPLACE, /* every marketplace in display order (postmart.vn, voso.vn first) */
    CS_BY_MONTH,       /* months 1–12 */
} cs_targets_by;
/* "commune", "former_district", "marketplace", "month" → value; -1 for anything else. NULL or
 * "" → CS_BY_NONE. */
int cs_targets_by_from_name(const char *s);
const char *cs_targets_by_name(cs_targets_by by);

typedef struct cs_targets_mp {
    const char *code, *name;
} cs_targets_mp;

/* one commune's counts on one marketplace */
typedef struct cs_targets_mpcount {
    const char *code;
    int64_t n[CS_M__COUNT];
} cs_targets_mpcount;

/* One breakdown row. Which fields are set follows the breakdown (the others are NULL/0):
 *   commune:      code, name, kind, district_code, district_name, goal, mp/nmp
 *   district:     code, name          marketplace: code, name          month: month
 *   other (counts whose key the reference lists lack; at most one, last): key (for a marketplace
 *                 breakdown the row stands for marketplace "" named "Không rõ sàn")
 * Strings belong to the progress object. */
typedef struct cs_targets_row {
    int other;
    const char *code, *name, *kind, *district_code, *district_name, *key;
    int month;
    int64_t counts[CS_M__COUNT];
    int64_t goal[CS_M__COUNT]; /* commune sub-goals; CS_TARGETS_NO_GOAL when none */
    /* commune rows: every marketplace in display order, then any code found only in the
     * counters, in the order met */
    cs_targets_mpcount *mp;
    size_t nmp, mpcap;
    /* commune rows: orders, units and revenue (đồng) of counted order lines (order_counts) */
    int64_t sales_orders, sales_units, sales_revenue_vnd;
} cs_targets_row;

typedef struct cs_targets_metric {
    int64_t goal; /* the province's, or a scope's sum of sub-goals; CS_TARGETS_NO_GOAL if none */
    int64_t achieved;
    cs_targets_pace pace;
} cs_targets_metric;

/* Progress for one year: numbers only; service/h_targets.c turns it into the API's JSON and
 * core/targets_report.c into the report files. Free with cs_targets_progress_free. */
typedef struct cs_progress {
    int year;
    vn_date as_of;
    time_t generated_at; /* UTC seconds */
    cs_targets_by by;
    /* a copy of the volunteer scope (NULL = the whole province) */
    char **scope;
    size_t nscope;
    cs_targets_pace calendar; /* the days and months of the year as seen from as_of */
    cs_targets_metric metrics[CS_M__COUNT];
    cs_targets_mp *mps; /* every marketplace in display order */
    size_t nmps;
    cs_targets_row *rows; /* the breakdown (none for CS_BY_NONE) */
    size_t nrows;
    struct cs_rows *held_[3]; /* the query results the strings point into */
    /* orders, units and revenue (đồng) of counted order lines in the year and scope
     * (core/orders.h: order_counts) — shown beside flagship_products_sold */
    int64_t sales_orders, sales_units, sales_revenue_vnd;
    /* a demo or training instance (core/instance.h): the counts include practice data and are
     * shown as "dữ liệu mô phỏng" (simulated data) everywhere they appear */
    int simulated;
} cs_progress;

/* Progress for `year` as of `today` (Asia/Ho_Chi_Minh date; vn_today() in production).
 * communes/ncommunes: a volunteer's scope (communes NULL = the whole province; non-NULL with
 * ncommunes 0 = no commune at all, every count 0): totals, goals (the sum of those communes'
 * sub-goals, CS_TARGETS_NO_GOAL when none) and breakdowns then cover those communes only.
 * Breakdown rows: see cs_targets_row. On failure *out is left empty (freeing it is harmless). */
int cs_targets_progress(cs_db *db, int year, cs_targets_by by, vn_date today,
                        const char *const *communes, size_t ncommunes, cs_progress *out,
                        cs_error *err);
void cs_targets_progress_free(cs_progress *p);

/* Set the goal of (year, metric[, commune]) — commune NULL or "" = the province — in its own
 * transaction with an audit row. Field errors name "year", "metric", "goal", "commune_code". */
int cs_targets_set_goal(cs_db *db, const cs_actor *a, int year, const char *metric,
                        const char *commune, int64_t goal, cs_error *err);

/* ---- report files -------------------------------------------------------------------------
 * From a CS_BY_COMMUNE progress (core/targets_report.c): title, generation time, one row for the
 * province and one per commune with its former district; per metric: total, goal, percent and one
 * column per marketplace; then orders, units and revenue (đồng) of the counted order lines.
 * Vietnamese headers. */
/* CSV, UTF-8 with BOM, CRLF line ends, into a new buffer (*out cs_malloc'd, caller cs_free). */
int cs_targets_csv(const cs_progress *progress, char **out, size_t *len, cs_error *err);
/* The same for Excel set to Vietnamese (its list separator is ';', its decimal mark ','): the
 * same rows and headers, ';' between fields, percents as 12,5; UTF-8 with BOM, CRLF. */
int cs_targets_csv_vn(const cs_progress *progress, char **out, size_t *len, cs_error *err);
/* XLSX at path (replaced), ready to print: A4 landscape, fit to one page wide, header rows
 * repeated, frozen panes, bold totals, number formats. */
int cs_targets_xlsx(const cs_progress *progress, const char *path, cs_error *err);
/* Column headers of the report (same for both files), for readers and tests: *n columns,
 * each header a static string or one built into `buf` (caller-provided, bufsz bytes).
 * Returns the header of column `col` (0-based) or NULL past the last. */
const char *cs_targets_report_header(const cs_progress *progress, unsigned col, char *buf,
                                     size_t bufsz);
#endif
