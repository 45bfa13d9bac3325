/* core/flagship: the province's list of flagship (OCOP, characteristic) products and the
 * approval of a product's link to it (issue 12 point 2). Numbers and rows only: no HTTP. */
#ifndef CS_FLAGSHIP_H
#define CS_FLAGSHIP_H
#include "core/audit.h"
#include "core/db.h"
#include <jansson.h>
#include <stdint.h>

/* The list, newest id last: q matches the name or producer accent-insensitively, category an
 * exact code; paging by id (after, limit 1..200). *out: JSON array of entries
 * {id, name, category, origin_place, producer, ocop_stars, certificate_no, ocop_year}. */
int cs_flagship_list(cs_db *db, const char *q, const char *category, int64_t after, int limit,
                     json_t **out, int64_t *next_cursor, cs_error *err);
/* One entry as above; CS_E_NOT_FOUND. */
int cs_flagship_get(cs_db *db, int64_t id, json_t **out, cs_error *err);
/* Add (id 0) or edit (id > 0, only the keys given) an entry from JSON {name, category,
 * origin_place, producer, ocop_stars, certificate_no, ocop_year}; audited (flagship.create /
 * flagship.update). Field errors name the key; a name the list has (accents aside) is
 * flagship_name_taken. *id_out the entry's id. Own transaction. */
int cs_flagship_put(cs_db *db, const cs_actor *a, int64_t id, json_t *in, int64_t *id_out,
                    cs_error *err);
/* An admin's decision on product id's proposed link: approve (reason ignored) or refuse
 * (reason required, Vietnamese, 5..500 characters). The product's (household, entry) pair is
 * filed out of the targets before and in after (core/targets.h); audited
 * (product.flagship_approve / product.flagship_refuse) with the entry. CS_E_NOT_FOUND,
 * CS_E_FLAGSHIP_NO_PROPOSAL when no entry is linked. Own transaction. */
int cs_flagship_decide(cs_db *db, const cs_actor *a, int64_t product_id, int approve,
                       const char *reason, cs_error *err);
#endif
