/* core/evidence: the evidence behind every counted item of the yearly targets (issue 12 point
 * 5) — for each counted household the shop that made it count, for each counted flagship
 * product the listing that went live first and the listing of its first sale: marketplace, the
 * marketplace's shop/item id or the verified address, the date, and who confirmed it. Its
 * export (CSV, XLSX) and the audit `choso targets --verify` runs on it. Nothing personal: no
 * name, phone, citizen ID or street address — household codes and public shop/item addresses.
 * Numbers and text only: no HTTP, no JSON.
 *
 * Which rows count follows core/targets.h (youth-led households with a first active shop;
 * flagship products with a first live listing / first sale) and the instance's environment
 * rule (core/instance.h): on a production instance practice (sandbox) shops and listings are
 * neither counted nor evidence.
 *
 * Evidence is complete when the shop/listing has the marketplace's own id (API marketplaces) or
 * an address that was verified (assisted marketplaces: verified_at set by the page check). */
#ifndef CS_EVIDENCE_H
#define CS_EVIDENCE_H
#include "core/db.h"
#include <stddef.h>

/* columns of the rows cs_evidence_list returns */
enum {
    CS_EV_KIND,         /* household | product_live | product_sold */
    CS_EV_HOUSEHOLD,    /* household code */
    CS_EV_PRODUCT,      /* product id ("" for a household) */
    CS_EV_COMMUNE,      /* the household's commune code */
    CS_EV_DATE,         /* the counted first date, YYYY-MM-DD in Asia/Ho_Chi_Minh */
    CS_EV_MARKETPLACE,  /* marketplace code ("" when no shop/listing is left: no evidence) */
    CS_EV_ENV,          /* production | sandbox (the shop's or listing's environment) */
    CS_EV_EXTERNAL_ID,  /* the marketplace's shop id / item id, or "" */
    CS_EV_ADDRESS,      /* verified shop/listing address (or an API listing's public link), or "" */
    CS_EV_ORDER,        /* product_sold: the first counted order id, or "" */
    CS_EV_CONFIRMED_BY, /* actor tag of who confirmed (volunteer:…, admin:…, marketplace:…) */
    CS_EV_CONFIRMED_AT, /* when it was verified / activated / went live, YYYY-MM-DD HH:MM (VN) */
    CS_EV_COMPLETE,     /* "1" when the evidence is complete (see above), else "0" */
    CS_EV_ID_KEY,       /* internal: "mp|id" for the duplicate check ("" without an id) */
    CS_EV_ADDR_KEY,     /* internal: "mp|normalised address" ("" without one) */
    CS_EV__COUNT
};

/* Every counted item of `year` (0 = every year), households first, then products by date.
 * *out: caller cs_rows_free. 0 or -1. */
int cs_evidence_list(cs_db *db, int year, cs_rows **out, cs_error *err);

/* CSV (UTF-8 with BOM, CRLF, Vietnamese headers, the exported columns only) into a new buffer
 * (*out cs_malloc'd). 0 or -1. */
int cs_evidence_csv(const cs_rows *rows, int simulated, char **out, size_t *len, cs_error *err);
/* The same as an XLSX workbook at path. 0 or -1. */
int cs_evidence_xlsx(const cs_rows *rows, int simulated, const char *path, cs_error *err);

/* The audit: every counted item of every year has complete evidence, and no marketplace shop
 * id / shop address is the evidence of two households, no item id / listing address of two
 * products. Each finding is one line "vi (en)" naming the items, appended to *report
 * (cs_malloc'd, NULL when there is none); *problems receives their number. 0 or -1. */
int cs_evidence_check(cs_db *db, int64_t *problems, char **report, cs_error *err);
#endif
