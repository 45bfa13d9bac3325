/* service/h_households: /v1/households — register, read, update, list, re-issue the owner's PIN
 * and erase on withdrawal of consent. The rules live in core/households; this file decides who
 * may do it and how much personal data the answer carries. Never logs a request body. */
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/units.h"
#include "jobs/flows.h"
#include "service/api.h"
#include "service/read_cache.h"
#include "service/status_cache.h"
#include <stdio.h>
#include <string.h>

/* Look the household of the {code} parameter up and check the caller may read (write = 0) or
 * change (write = 1) it. Replies and returns -1 when not; on success fills commune and erased. */
static int load_scoped(svc_req *r, cs_db *db, int write, char commune[6], int *erased)
{
    cs_error err;
    cs_error_clear(&err);
    const char *code = svc_param(r, "code");
    if (!code || strlen(code) > 20) {
        svc_reply_error(r, CS_E_NOT_FOUND, "%s", "household");
        return -1;
    }
    if (cs_household_lookup(db, code, NULL, commune, erased, &err)) {
        svc_reply_problem(r, &err);
        return -1;
    }
    if (!(write ? svc_can_write_commune(r, commune) : svc_can_read_commune(r, commune))) {
        svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "%s", "household");
        return -1;
    }
    return 0;
}

/* A pre-2025 commune/ward in commune_code (its old code or name, issue 12 point 6): stored as
 * the new commune it was merged whole into and said in the answer's "repairs"; one split
 * between several new communes, or a name two former ones share, is a 422 naming the field.
 * *repairs: NULL or the array for the answer. 0, or -1 once answered. */
static int map_former_commune(svc_req *r, cs_db *db, json_t **repairs)
{
    *repairs = NULL;
    json_t *v = json_object_get(r->json, "commune_code");
    char given[256];
    if (json_is_string(v))
        snprintf(given, sizeof given, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(given, sizeof given, "%lld", (long long)json_integer_value(v));
    else
        return 0;
    cs_error err;
    cs_error_clear(&err);
    char code[6], mapped[240];
    int rc = cs_unit_former(db, given, "commune_code", code, mapped, sizeof mapped, &err);
    if (rc < 0) {
        svc_reply_problem(r, &err);
        return -1;
    }
    if (rc == 0) return 0;
    json_object_set_new(r->json, "commune_code", json_string(code));
    char msg[320];
    snprintf(msg, sizeof msg, "Đã đổi xã/phường cũ sang xã/phường mới: %s", mapped);
    *repairs = json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "field", "commune_code", "code",
                         "commune_renamed", "message", msg, "from", given, "to", code);
    return 0;
}

/* Answer with one household as the caller may see it, its ETag, and `status`; `repairs` (may
 * be NULL, borrowed) joins the answer. */
static int reply_household(svc_req *r, cs_db *db, const char *code, int status, const char *pin,
                           json_t *repairs)
{
    cs_error err;
    cs_error_clear(&err);
    char commune[6];
    json_t *o = NULL;
    /* the commune decides the view; the answer to a creation is stored for replays: no PII */
    if (cs_household_lookup(db, code, NULL, commune, NULL, &err)) return svc_reply_problem(r, &err);
    cs_pii pii = pin ? CS_PII_NONE : !svc_can_see_personal(r, commune) ? CS_PII_ANON : CS_PII_FULL;
    if (cs_household_get(db, code, pii, &o, NULL, &err)) return svc_reply_problem(r, &err);
    if (repairs) json_object_set(o, "repairs", repairs);
    unsigned version = (unsigned)json_integer_value(json_object_get(o, "version"));
    if (status == 200 && svc_api_not_modified(r, version)) {
        json_decref(o);
        if (svc_api_etag(r, version)) return -1;
        return svc_reply_empty(r, 304);
    }
    if (svc_api_etag(r, version)) {
        json_decref(o);
        return -1;
    }
    if (pin) {
        /* The PIN is shown once: a replay of this creation (same Idempotency-Key) gets the
         * household without it, and says why. */
        json_t *again = json_deep_copy(o);
        if (!again) {
            json_decref(o);
            return -1;
        }
        json_object_set_new(again, "pin_shown", json_true());
        json_object_set_new(o, "pin", json_string(pin));
        if (svc_reply_json(r, status, o)) {
            json_decref(again);
            return -1;
        }
        return svc_reply_replay_body(r, again);
    }
    return svc_reply_json(r, status, o);
}

/* A citizen ID registered already: the 409 names that household only to someone who may read
 * it. For anyone else its code would tell where a person they may not see is registered, so
 * the answer says only "in another commune" and whom to ask (the provincial administrator). */
static void hide_foreign_duplicate(svc_req *r, cs_db *db, cs_error *err)
{
    char commune[6] = "";
    cs_error e2;
    cs_error_clear(&e2);
    if (err->existing[0] && !cs_household_lookup(db, err->existing, NULL, commune, NULL, &e2) &&
        svc_can_read_commune(r, commune))
        return;
    cs_error_clear(err);
    cs_error_field(err, "cccd", CS_E_DUPLICATE_ELSEWHERE, NULL);
    err->code = CS_E_DUPLICATE_ELSEWHERE;
}

int svc_households_create(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    json_t *repairs = NULL;
    if (map_former_commune(r, db, &repairs)) return 0;
    if (r->actor.role == SVC_ROLE_VOLUNTEER) {
        char c[6];
        cs_household_commune(r->json, c);
        if (c[0] && !svc_can_write_commune(r, c)) {
            json_decref(repairs);
            return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "commune_code %s", c);
        }
    }
    cs_actor a = svc_audit_actor(r);
    cs_household_result res;
    if (cs_household_create(db, &a, r->json, &res, &err)) {
        json_decref(repairs);
        if (err.code == CS_E_DUPLICATE_HOUSEHOLD) hide_foreign_duplicate(r, db, &err);
        return svc_reply_problem(r, &err);
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/households/%s", res.code);
    if (svc_add_header(r, "Location", loc)) {
        json_decref(repairs);
        return -1;
    }
    /* The answer is kept for Idempotency-Key replays, so it carries no personal field: the
     * caller reads them with GET. The PIN is shown this once. */
    int rc = reply_household(r, db, res.code, 201, res.pin, repairs);
    json_decref(repairs);
    memset(res.pin, 0, sizeof res.pin);
    return rc;
}

int svc_households_get(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6];
    int erased;
    if (load_scoped(r, db, 0, commune, &erased)) return 0;
    return reply_household(r, db, svc_param(r, "code"), 200, NULL, NULL);
}

int svc_households_update(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    if (!json_is_object(r->json))
        return svc_reply_error(r, CS_E_BAD_REQUEST, "%s", "expected a JSON object");
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6];
    int erased;
    if (load_scoped(r, db, 1, commune, &erased)) return 0;
    if (erased) return svc_reply_error(r, CS_E_GONE, "%s", "household");
    unsigned version;
    if (svc_api_if_match(r, &version)) return 0;
    json_t *repairs = NULL;
    if (map_former_commune(r, db, &repairs)) return 0;
    if (r->actor.role == SVC_ROLE_VOLUNTEER) { /* moving it elsewhere needs that commune too */
        char c[6];
        cs_household_commune(r->json, c);
        if (c[0] && !svc_can_write_commune(r, c)) {
            json_decref(repairs);
            return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "commune_code %s", c);
        }
    }
    const char *code = svc_param(r, "code");
    cs_actor a = svc_audit_actor(r);
    cs_household_result res;
    if (cs_household_update(db, &a, code, version, r->json, &res, &err)) {
        json_decref(repairs);
        return svc_reply_problem(r, &err);
    }
    svc_status_cache_drop(code); /* the owner's page shows the business name and commune */
    int rc = reply_household(r, db, code, 200, NULL, repairs);
    json_decref(repairs);
    return rc;
}

/* --- the volunteer's search (issue 13) ------------------------------------------------------ */

/* The list's extra parameters: order=newest|oldest, the filters pin_set, awaiting_owner and
 * has_rejected, and one search box `q` read as what it looks like — a household code (however
 * typed) → that code; a phone number (digits only, 9–11 of them) → exact phone through the
 * blind index, for those who may look phones up (a monitor's digits stay a name search, which
 * finds nothing); anything else → the name, accent-insensitive. */
static int list_search(const svc_req *r, cs_household_filter *f, char code_q[24], cs_error *err)
{
    static const char *const orders[] = {"oldest", "newest", NULL};
    const char *order = NULL;
    int pin_set = -1, awaiting = -1, rejected = -1;
    svc_api_query_enum(r, "order", orders, &order, err);
    svc_api_query_bool(r, "pin_set", &pin_set, err);
    svc_api_query_bool(r, "awaiting_owner", &awaiting, err);
    svc_api_query_bool(r, "has_rejected", &rejected, err);
    if (cs_error_failed(err)) return -1;
    f->newest = order && !strcmp(order, "newest");
    f->pin_filter = pin_set < 0 ? 0 : pin_set ? 1 : 2;
    f->awaiting_owner = awaiting == 1;
    f->has_rejected = rejected == 1;
    const char *q = f->q;
    if (!q || !*q) return 0;
    if (!cs_household_code_normalize(q, code_q)) {
        f->code = code_q;
        f->q = NULL;
        return 0;
    }
    size_t digits = 0, other = 0;
    for (const char *p = q; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p != ' ' && *p != '.' && *p != '-' && *p != '+')
            other++;
    }
    if (!other && digits >= 9 && digits <= 12 && r->actor.role != SVC_ROLE_MONITOR && !f->phone) {
        f->phone = q;
        f->q = NULL;
    }
    return 0;
}

int svc_households_list(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_household_filter f;
    memset(&f, 0, sizeof f);
    static const char *const statuses[] = {"registered", "onboarding", "onboarded", "erased", NULL};
    int64_t after;
    int limit;
    if (svc_api_page(r, &after, &limit)) return 0;
    f.after_id = after;
    f.limit = limit;
    svc_api_query_token(r, "commune", "0123456789", 5, &f.commune, &err);
    svc_api_query_token(r, "former_district", "0123456789", 3, &f.former_district, &err);
    svc_api_query_enum(r, "status", statuses, &f.status, &err);
    svc_api_query_bool(r, "youth_led", &f.youth_led, &err);
    f.q = svc_query(r, "q");
    f.phone = svc_query(r, "phone");
    f.cccd = svc_query(r, "cccd");
    if (f.q && strlen(f.q) > 200) cs_error_field(&err, "q", CS_F_TOO_LONG, "max 200");
    if (f.phone && strlen(f.phone) > 32) cs_error_field(&err, "phone", CS_F_PHONE_INVALID, NULL);
    if (f.cccd && strlen(f.cccd) > 32) cs_error_field(&err, "cccd", CS_F_CCCD_INVALID, NULL);
    char code_q[24];
    if (list_search(r, &f, code_q, &err)) return svc_reply_problem(r, &err);
    if (cs_error_failed(&err)) return svc_reply_problem(r, &err);
    /* look-up by phone or citizen ID is a way of learning them: only for those who may see them */
    if ((f.phone || f.cccd) && r->actor.role == SVC_ROLE_MONITOR)
        return svc_reply_error(r, CS_E_FORBIDDEN, "%s", "phone/cccd look-up");
    if (f.commune && !svc_can_read_commune(r, f.commune))
        return svc_reply_error(r, CS_E_FORBIDDEN_COMMUNE, "commune %s", f.commune);
    const char **scope = NULL;
    size_t nscope = 0;
    if (svc_api_scope(r, &scope, &nscope)) return svc_reply_error(r, CS_E_NOMEM, "%s", "scope");
    f.communes = scope;
    f.ncommunes = nscope;
    cs_db *db = svc_db(r, &err);
    if (!db) {
        cs_free(scope);
        return svc_reply_problem(r, &err);
    }
    /* a page without a search is kept while nothing it reads changes (service/read_cache);
     * searches by name, phone, citizen ID or code are not kept */
    char key[1024];
    int64_t gen = -1;
    int keyed =
        !f.q && !f.phone && !f.cccd && !f.code &&
        !svc_read_cache_key(r, key, sizeof key, "households|%lld|%d|%s|%s|%s|%d|%d|%d|%d|%d",
                            (long long)f.after_id, f.limit, f.commune ? f.commune : "",
                            f.former_district ? f.former_district : "", f.status ? f.status : "",
                            f.youth_led, f.newest, f.pin_filter, f.awaiting_owner, f.has_rejected);
    if (keyed) {
        int hit = svc_read_cache_reply(r, db, key, &gen);
        if (hit) {
            cs_free(scope);
            return hit < 0 ? -1 : 0;
        }
    }
    json_t *items = NULL;
    int64_t next = 0;
    int rc = cs_household_list(db, &f, svc_api_pii_list(r), &items, &next, &err);
    cs_free(scope);
    if (rc) return svc_reply_problem(r, &err);
    if (!keyed) return svc_api_reply_page(r, items, next);
    char cur[24];
    snprintf(cur, sizeof cur, "%lld", (long long)next);
    json_t *o = json_object();
    if (!o || !items) {
        json_decref(o);
        json_decref(items);
        return svc_reply_error(r, CS_E_NOMEM, NULL);
    }
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "next_cursor", next ? json_string(cur) : json_null());
    return svc_read_cache_put_reply(r, key, gen, o);
}

int svc_households_new_pin(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    /* no body is needed; one that says anything is refused rather than ignored */
    if (r->json && cs_json_check(r->json, cs_jspec_empty, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6];
    int erased;
    if (load_scoped(r, db, 1, commune, &erased)) return 0;
    if (erased) return svc_reply_error(r, CS_E_GONE, "%s", "household");
    const char *code = svc_param(r, "code");
    cs_actor a = svc_audit_actor(r);
    char pin[8];
    int failed = cs_household_new_pin(db, &a, code, pin, &err);
    svc_status_cache_drop(code); /* the old PIN's cached page dies now, whatever the outcome */
    if (failed) return svc_reply_problem(r, &err);
    json_t *o = json_pack("{s:s,s:s}", "code", code, "pin", pin);
    memset(pin, 0, sizeof pin);
    if (!o) return svc_reply_error(r, CS_E_NOMEM, "%s", "pin");
    if (svc_reply_json(r, 200, o)) return -1;
    /* shown once: a replay (same Idempotency-Key) does not show it again */
    return svc_reply_replay_body(r, json_pack("{s:s,s:b}", "code", code, "pin_shown", 1));
}

/* The owner page's address for one household, as the receipt's QR code says it. */
static void owner_url(const char *code, char *out, size_t outsz)
{
    const char *pub = cs_cfg_str("http.public_url");
    size_t pl = strlen(pub);
    while (pl && pub[pl - 1] == '/')
        pl--;
    snprintf(out, outsz, "%.*s/owner.html#code=%s", (int)pl, pub, code);
}

static json_t *skipped_row(const char *code, const char *reason)
{
    return json_pack("{s:s,s:s}", "code", code, "reason", reason);
}

/* Answer the batch (takes the three arrays): the PINs now, and for a replay of the same
 * Idempotency-Key only which households got one — a PIN is shown once. */
static int reply_batch(svc_req *r, json_t *issued, json_t *skipped, json_t *shown)
{
    json_t *o = json_pack("{s:o,s:O}", "issued", issued, "skipped", skipped);
    if (!o || svc_reply_json(r, 200, o)) {
        json_decref(skipped);
        json_decref(shown);
        return -1;
    }
    return svc_reply_replay_body(r, json_pack("{s:o,s:o}", "issued", shown, "skipped", skipped));
}

/* PINs for many households at once (issue 13 point 8: imported households get none). Only
 * households WITHOUT a PIN get one, so nothing a volunteer handed out is silently replaced, and
 * a retry without the key issues nothing twice; with the same Idempotency-Key the replay says
 * what was issued and never shows a PIN again. Each household is its own transaction: one that
 * fails does not undo the PINs already issued (they are in this answer, shown once). */
int svc_households_pins_batch(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    static const cs_jfield code = {
        .name = "code", .type = CS_J_STRING, .min_len = 1, .max_len = 20};
    const json_t *codes = NULL;
    const cs_jfield spec[] = {
        {.name = "codes",
         .type = CS_J_ARRAY,
         .flags = CS_JF_REQUIRED,
         .min_len = 1,
         .max_len = 100,
         .items = &code,
         .out = &codes},
        {.name = NULL},
    };
    if (cs_json_check(r->json, spec, &err)) return svc_reply_problem(r, &err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    cs_actor a = svc_audit_actor(r);
    json_t *issued = json_array(), *skipped = json_array(), *shown = json_array();
    json_t *seen = json_object();
    if (!issued || !skipped || !shown || !seen) {
        json_decref(issued);
        json_decref(skipped);
        json_decref(shown);
        json_decref(seen);
        return svc_reply_error(r, CS_E_NOMEM, "%s", "codes");
    }
    size_t i;
    json_t *v;
    json_array_foreach(codes, i, v)
    {
        const char *c = json_string_value(v);
        if (json_object_get(seen, c)) continue; /* a code listed twice gets one PIN */
        json_object_set_new(seen, c, json_true());
        char commune[6];
        int erased = 0;
        if (cs_household_lookup(db, c, NULL, commune, &erased, &err)) {
            int missing = err.code == CS_E_NOT_FOUND;
            if (!missing) goto fail;
            cs_error_clear(&err);
            json_array_append_new(skipped, skipped_row(c, "not_found"));
            continue;
        }
        if (!svc_can_write_commune(r, commune)) {
            json_array_append_new(skipped, skipped_row(c, "forbidden_commune"));
            continue;
        }
        if (erased) {
            json_array_append_new(skipped, skipped_row(c, "gone"));
            continue;
        }
        char pin[8];
        int had = cs_household_first_pin(db, &a, c, pin, &err);
        if (had < 0) goto fail;
        if (had) {
            json_array_append_new(skipped, skipped_row(c, "pin_set"));
            continue;
        }
        svc_status_cache_drop(c);
        json_t *h = NULL;
        if (cs_household_get(db, c, CS_PII_NONE, &h, NULL, &err)) {
            memset(pin, 0, sizeof pin);
            goto fail;
        }
        char url[512];
        owner_url(c, url, sizeof url);
        json_t *row = json_pack("{s:s,s:s,s:O?,s:O?,s:O?,s:s}", "code", c, "pin", pin, "owner_name",
                                json_object_get(h, "owner_name"), "business_name",
                                json_object_get(h, "business_name"), "commune",
                                json_object_get(h, "commune"), "owner_url", url);
        memset(pin, 0, sizeof pin);
        json_decref(h);
        json_array_append_new(issued, row);
        json_array_append_new(shown, json_pack("{s:s,s:b}", "code", c, "pin_shown", 1));
    }
    json_decref(seen);
    return reply_batch(r, issued, skipped, shown);
fail:
    /* PINs already issued are in `issued`: they are answered (shown once) with the household
       that failed named; when none was issued the failure is the answer */
    cs_log_json(CS_LOG_ERROR, "household.pin_batch_stopped",
                json_pack("{s:I,s:s}", "issued", (json_int_t)json_array_size(issued), "code",
                          cs_code_name(err.code)));
    json_decref(seen);
    if (json_array_size(issued) == 0) {
        json_decref(issued);
        json_decref(skipped);
        json_decref(shown);
        return svc_reply_problem(r, &err);
    }
    json_array_append_new(skipped, skipped_row(json_string_value(v), "error"));
    return reply_batch(r, issued, skipped, shown);
}

int svc_households_erase(svc_req *r)
{
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = svc_db(r, &err);
    if (!db) return svc_reply_problem(r, &err);
    char commune[6];
    int erased;
    if (load_scoped(r, db, 1, commune, &erased)) return 0; /* a volunteer: own communes only */
    const char *code = svc_param(r, "code");
    cs_actor a = svc_audit_actor(r);
    json_t *orphans = NULL;
    int failed = cs_household_erase(db, &a, code, &orphans, &err);
    svc_status_cache_drop(code); /* nothing cached outlives the erasure */
    if (failed) return svc_reply_problem(r, &err);
    /* the listings are withdrawing: queue their take-downs (listing.poll asks again if this
       fails; the shops' tokens are kept until the last one is done) */
    if (job_flows_withdrawals(db, &err) < 0) cs_error_clear(&err);
    size_t n = json_array_size(orphans);
    const char **shas = cs_calloc(n + 1, sizeof *shas);
    size_t removed = 0;
    if (shas) {
        for (size_t i = 0; i < n; i++)
            shas[i] = json_string_value(json_array_get(orphans, i));
        removed = svc_media_unlink_unused(db, shas, n);
        cs_free(shas);
    } else {
        cs_log_json(CS_LOG_ERROR, "media.erase_unlink_skipped",
                    json_pack("{s:s,s:I}", "household", code, "files", (json_int_t)n));
    }
    json_decref(orphans);
    cs_log_json(CS_LOG_INFO, "household.erased",
                json_pack("{s:s,s:I,s:I}", "household", code, "images", (json_int_t)n,
                          "files_removed", (json_int_t)removed));
    return svc_reply_json(r, 200,
                          json_pack("{s:s,s:s,s:I}", "code", code, "status", "erased",
                                    "images_removed", (json_int_t)n));
}
