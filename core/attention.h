/* core/attention: the provincial staff's attention list — rejected listings, dead jobs,
 * authorisations about to lapse, onboarded households with nothing live — as rows read by the
 * column enums below. Numbers and text only: the service builds the JSON. */
#ifndef CS_ATTENTION_H
#define CS_ATTENTION_H
#include "core/db.h"
#include "core/errors.h"
#include <stdint.h>

/* the sections, in the order the API lists them */
typedef enum cs_attention_section {
    CS_ATT_REJECTED = 0, /* listings in 'rejected', newest first */
    CS_ATT_DEAD_JOBS,    /* jobs in 'dead', newest first */
    CS_ATT_EXPIRING,     /* active/authorized accounts whose authorisation lapses within 7 days */
    CS_ATT_IDLE,         /* onboarded households (not erased) without a live listing */
    CS_ATT__COUNT
} cs_attention_section;

/* columns of each section's rows; times are ISO 8601 UTC text ("2026-03-01T08:00:00Z") */
enum {
    CS_ATT_REJ_LISTING_ID, /* integer */
    CS_ATT_REJ_PRODUCT_ID, /* integer */
    CS_ATT_REJ_PRODUCT_NAME,
    CS_ATT_REJ_HOUSEHOLD_CODE,
    CS_ATT_REJ_COMMUNE_CODE,
    CS_ATT_REJ_MARKETPLACE,
    CS_ATT_REJ_REASON_CODE, /* the marketplace's answer, else the reason given with the move */
    CS_ATT_REJ_REASON,
    CS_ATT_REJ_SINCE,
    CS_ATT_REJ__COUNT
};
enum {
    CS_ATT_DEAD_JOB_ID, /* integer */
    CS_ATT_DEAD_KIND,
    CS_ATT_DEAD_ATTEMPTS, /* integer */
    CS_ATT_DEAD_LAST_ERROR,
    CS_ATT_DEAD_FINISHED_AT,
    CS_ATT_DEAD__COUNT
};
enum {
    CS_ATT_EXP_ACCOUNT_ID, /* integer */
    CS_ATT_EXP_HOUSEHOLD_CODE,
    CS_ATT_EXP_COMMUNE_CODE,
    CS_ATT_EXP_MARKETPLACE,
    CS_ATT_EXP_STATE,
    CS_ATT_EXP_ACCESS_EXPIRES_AT,
    CS_ATT_EXP_REFRESH_EXPIRES_AT,
    CS_ATT_EXP__COUNT
};
enum {
    CS_ATT_IDLE_HOUSEHOLD_CODE,
    CS_ATT_IDLE_COMMUNE_CODE,
    CS_ATT_IDLE_ONBOARDED_AT,
    CS_ATT_IDLE_PRODUCTS, /* integer: its active products */
    CS_ATT_IDLE__COUNT
};

/* Each section's first `limit` rows plus one more when there are more (so the caller can say
 * "more"), read with the enums above. */
typedef struct cs_attention {
    cs_rows *rows[CS_ATT__COUNT];
} cs_attention;

/* Load every section (limit 1..500). 0, or -1 with err set and *out empty. Free with
 * cs_attention_free (also after a failure). */
int cs_attention_load(cs_db *db, int64_t limit, cs_attention *out, cs_error *err);
void cs_attention_free(cs_attention *a);
#endif
