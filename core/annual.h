/* core/annual: the annual report for the Provincial People's Committee — one document model
 * (sections of tables) built from core/targets' numbers and the named lists, written as XLSX
 * (core/annual_xlsx.c) and PDF (core/annual_pdf.c, cairo + pango). No HTTP and no JSON here.
 *
 * Contents, in order: administrative header; summary (goal, achieved, percent, needed per
 * month, projection for the three targets); former districts with their communes and a
 * subtotal per district; months with running totals; marketplaces; the named list of counted
 * households (code, commune, marketplace, shop link, date — nothing personal) and of counted
 * flagship products (name, list entry, OCOP stars, links, first live date, first sale date);
 * the showcase's click-throughs to a marketplace per product and month ("promoted");
 * signature block ("Người lập biểu", "TM. Ban Thường vụ"), the report number and date left
 * blank to be filled in by hand. Numbers and dates in Vietnamese form (1.234; 12,5%; 31/12/2026).
 */
#ifndef CS_ANNUAL_H
#define CS_ANNUAL_H
#include "core/db.h"
#include "core/targets.h"
#include "core/vn.h"
#include <stddef.h>
#include <stdint.h>

typedef enum cs_rkind {
    CS_RK_EMPTY = 0,
    CS_RK_TEXT, /* text */
    CS_RK_INT,  /* i */
    CS_RK_PCT,  /* d, a percent (12.5 = 12,5%) */
    CS_RK_DATE, /* date */
} cs_rkind;

typedef struct cs_rcell {
    cs_rkind kind;
    const char *text; /* owned by the document */
    int64_t i;
    double d;
    vn_date date;
} cs_rcell;

typedef enum cs_rstyle {
    CS_RS_NORMAL = 0,
    CS_RS_SUBTOTAL, /* a former district's line above its communes */
    CS_RS_TOTAL,    /* the province */
} cs_rstyle;

#define CS_RCOLS_MAX 10
typedef struct cs_rtable {
    const char *sheet; /* XLSX sheet name (≤ 31 bytes) */
    const char *title; /* section heading, e.g. "II. THEO ĐỊA BÀN HUYỆN CŨ" */
    const char *note;  /* one line under the heading, or NULL */
    unsigned ncols;
    const char *head[CS_RCOLS_MAX];
    double width[CS_RCOLS_MAX]; /* relative widths (PDF) and Excel character widths */
    size_t nrows, cap;
    cs_rstyle *style;
    cs_rcell *cells; /* nrows × ncols */
} cs_rtable;

typedef struct cs_annual {
    int year;
    vn_date as_of;
    time_t generated_at;
    char organisation[120]; /* "TỈNH ĐOÀN THANH HÓA" */
    char title[200];
    char subtitle[240];
    cs_rtable tables[8];
    size_t ntables;
    char **strings; /* every text cell's copy */
    size_t nstrings, capstrings;
} cs_annual;

/* Build the report for `year` as of `today` (the whole province). Returns 0, or -1 with err set;
 * on failure *out is left empty (cs_annual_free harmless). */
int cs_annual_build(cs_db *db, int year, vn_date today, cs_annual *out, cs_error *err);
void cs_annual_free(cs_annual *a);

/* XLSX at path (replaced): a sheet per table, A4, header rows repeated, Vietnamese formats. */
int cs_annual_xlsx(const cs_annual *a, const char *path, cs_error *err);
/* PDF at path (replaced): A4 portrait, shaped with pango (font "Noto Sans", then "DejaVu
 * Sans"); table headers repeated on each page; page numbers. */
int cs_annual_pdf(const cs_annual *a, const char *path, cs_error *err);

/* Vietnamese forms, for the PDF, the CLI and tests: "1.234.567", "12,5%", "31/12/2026". */
void cs_vi_int(int64_t v, char *out, size_t n);
void cs_vi_pct(double pct, char *out, size_t n);
void cs_vi_date(vn_date d, char *out, size_t n);
/* The text a cell shows in the PDF (out for numbers; the cell's own text otherwise). */
const char *cs_rcell_text(const cs_rcell *c, char *out, size_t n);
#endif
