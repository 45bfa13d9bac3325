/* connectors/template: a worked example of a connector for a made-up marketplace, "Sàn mẫu".
 * Copy this file to add a marketplace; it is compiled with the others but registered only by
 * tests (cx_register(&cx_template)). Like every connector it is pure: build a request, parse a
 * response; no clock (in->now_ms), no I/O, no configuration reads.
 *
 * Adding a marketplace, step by step:
 *   1. Copy this file to connectors/<code>.c; rename cx_template → cx_<code>.
 *   2. Write down the wire shapes at the top (paths, auth, signature, error codes) with where
 *      each fact comes from — see shopee.c; the simulator will be built to the same facts.
 *   3. Put any signature in connectors/sign.c, tested on the marketplace's published vector.
 *   4. Add its error codes to the table in cxutil.c (retry / reauthorize / reject + field).
 *   5. Add `extern const cx_connector cx_<code>;` to registry.h and one line to the table in
 *      registry.c; settings <code>.base_url, credentials (SECRET) and limits to core/config.def;
 *      a row to schemas/data/marketplaces.csv and its rows to category_map.csv.
 *   6. Write its simulator in sandbox/ and tests/unit/test_cx_<code>.c (golden
 *      requests, every documented error) — test_cx_assisted.c exercises this template.
 *
 * The made-up API:
 *   auth    Authorization: Bearer <access token>; X-Timestamp: <Unix s>;
 *           X-Signature: lowercase hex HMAC-SHA256(secret, ts "\n" method "\n" path "\n" body)
 *   create  POST {base}/v1/items {"sku","title","description","price","stock","weight_g",
 *           "category_id","images":[…]} → 201 {"id":"…","state":"pending|live"}
 *   by SKU  GET  {base}/v1/items?sku=CS-… → {"items":[{"id","state"}]}
 *   status  GET  {base}/v1/items/{id} → {"id","state":"live|pending|rejected|removed",
 *           "reasons":[{"field","message"}]}
 *   errors  {"error":{"code":"invalid_token|rate_limited|invalid_field|server_error",
 *           "field":"…","message":"…"}} */
#include "connectors/connector.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

/* Common part of every call: URL, auth and signature headers, optional JSON body. */
static int request(cx_request *req, cx_op op, const char *method, const cx_input *in,
                   const char *path, const char *query, const char *body, cs_error *err)
{
    const cx_market *mp = in->mp;
    /* Configuration problems are reported before any call, naming the setting. */
    if (cx_need_cfg(mp->base_url, "template.base_url", err) ||
        cx_need_cfg(mp->secret, "template.secret", err) || cx_need_account(in, 0, err))
        return -1;
    char ts[24], sig[65], auth[CX_TOKEN_MAX + 8];
    snprintf(ts, sizeof ts, "%lld", in->now_ms / 1000);
    snprintf(auth, sizeof auth, "Bearer %s", in->account->access_token);
    cs_buf s, u;
    cs_buf_init(&s, (size_t)1 << 20);
    cs_buf_init(&u, 16384);
    int bad = cs_buf_printf(&s, "%s\n%s\n%s\n%s", ts, method, path, body ? body : "") ||
              cx_url_base(&u, mp->base_url, path) || (query && cs_buf_puts(&u, query));
    if (!bad) {
        cx_hmac_sha256_hex(mp->secret, strlen(mp->secret), s.data, s.len, 0, sig);
        bad = cx_req_start(req, op, method, u.data) || cx_req_header(req, "Authorization", auth) ||
              cx_req_header(req, "X-Timestamp", ts) || cx_req_header(req, "X-Signature", sig) ||
              (body && cx_req_body(req, "application/json", body, strlen(body)));
    }
    explicit_bzero(auth, sizeof auth);
    cs_buf_free(&s);
    cs_buf_free(&u);
    return bad ? cs_error_set(err, CS_E_NOMEM, NULL) : 0;
}

static int template_build(cx_op op, const cx_input *in, cx_request *req, cs_error *err)
{
    char sku[24];
    if (!in->mp) return cs_error_set(err, CS_E_INTERNAL, "no marketplace");
    switch (op) {
    case CX_OP_CREATE_ITEM: {
        /* Validate before building: a product without a category mapping never reaches the
         * marketplace (cx_need_listing names the field). */
        if (cx_need_listing(in, err)) return -1;
        const cx_listing *l = in->listing;
        cx_sku(l->listing_id, sku);
        json_t *imgs = json_array();
        for (size_t i = 0; imgs && i < l->nimages; i++)
            if (json_array_append_new(imgs, json_string(l->image_ids[i]))) {
                json_decref(imgs);
                imgs = NULL;
            }
        if (!imgs) return cs_error_set(err, CS_E_NOMEM, NULL);
        /* Build JSON in a fixed key order so golden tests can compare bytes. */
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:o}", "sku", sku, "title", l->name,
                              "description", l->description ? l->description : "", "price",
                              (json_int_t)l->price_vnd, "stock", (json_int_t)l->stock, "weight_g",
                              (json_int_t)l->weight_g, "category_id", l->category->external_id,
                              "images", imgs);
        if (!o) return cs_error_set(err, CS_E_NOMEM, NULL);
        if (cx_json_merge(o, l->category->attributes_json, err)) {
            json_decref(o);
            return -1;
        }
        char *body = cx_json_dump(o, NULL);
        json_decref(o);
        if (!body) return cs_error_set(err, CS_E_NOMEM, NULL);
        int rc = request(req, op, "POST", in, "/v1/items", NULL, body, err);
        cs_free(body);
        return rc;
    }
    case CX_OP_GET_ITEM_BY_SKU: {
        if (!in->listing) return cs_error_set(err, CS_E_INTERNAL, "listing missing");
        cx_sku(in->listing->listing_id, sku);
        char q[48];
        snprintf(q, sizeof q, "?sku=%s", sku); /* "CS-<digits>" needs no percent-encoding */
        return request(req, op, "GET", in, "/v1/items", q, NULL, err);
    }
    case CX_OP_GET_STATUS: {
        char path[128];
        if (!in->listing || !in->listing->item_id || !*in->listing->item_id ||
            strspn(in->listing->item_id, "0123456789abcdefABCDEF-") !=
                strlen(in->listing->item_id) ||
            snprintf(path, sizeof path, "/v1/items/%s", in->listing->item_id) >= (int)sizeof path)
            return cs_error_set(err, CS_E_INTERNAL, "status needs a plain item id");
        return request(req, op, "GET", in, path, NULL, NULL, err);
    }
    default:
        return cs_error_set(err, CS_E_INTERNAL, "template: %s is not an operation of this example",
                            cx_op_name(op));
    }
}

static cx_item_state state_of(const char *s)
{
    if (!s) return CX_ITEM_UNKNOWN;
    if (!strcmp(s, "live")) return CX_ITEM_LIVE;
    if (!strcmp(s, "pending")) return CX_ITEM_PENDING;
    if (!strcmp(s, "rejected")) return CX_ITEM_REJECTED;
    if (!strcmp(s, "removed")) return CX_ITEM_DELISTED;
    return CX_ITEM_UNKNOWN;
}

static void template_parse(cx_op op, const cx_input *in, const cx_response *resp, cx_outcome *out)
{
    cx_outcome_init(out);
    /* 1. No answer at all: the shared triage decides (and says whether it may have happened). */
    if (cx_triage_transport(resp, out)) return;
    json_t *j = cx_json_body(resp);
    json_t *e = json_object_get(j, "error");
    /* 2. The marketplace's own error shape: map its codes to our four outcomes. */
    if (json_is_object(e)) {
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *field = json_string_value(json_object_get(e, "field"));
        if (code && !strcmp(code, "invalid_token"))
            cx_out_reauth(out, code, msg);
        else if (code && !strcmp(code, "rate_limited"))
            cx_out_retry(out, cx_retry_after(resp, in->now_ms, 1), 0, code, msg);
        else if (code && !strcmp(code, "invalid_field"))
            cx_out_reject_field(out, "Sàn mẫu", cx_field_guess(field), code, msg);
        else
            cx_out_error(out, "Sàn mẫu", code ? code : "unknown", msg, resp->status, 0);
        goto done;
    }
    /* 3. HTTP-level trouble without a readable error: 429/5xx/other → retry. */
    if (cx_triage_status(resp, in->now_ms, out)) goto done;
    /* 4. A 2xx we cannot read: we do not know what happened → retry, outcome unknown. */
    if (!j) {
        cx_out_retry(out, 10, 1, "malformed_response", "unreadable answer");
        goto done;
    }
    switch (op) {
    case CX_OP_CREATE_ITEM:
        if (cx_json_text(j, "id", out->item_id, sizeof out->item_id)) {
            cx_out_retry(out, 10, 1, "malformed_response", "no id");
            break;
        }
        out->state = state_of(json_string_value(json_object_get(j, "state")));
        break;
    case CX_OP_GET_ITEM_BY_SKU: {
        json_t *it = json_array_get(json_object_get(j, "items"), 0);
        if (cx_json_text(it, "id", out->item_id, sizeof out->item_id))
            out->result = CX_NOT_FOUND;
        else
            out->state = state_of(json_string_value(json_object_get(it, "state")));
        break;
    }
    case CX_OP_GET_STATUS: {
        cx_json_text(j, "id", out->item_id, sizeof out->item_id);
        out->state = state_of(json_string_value(json_object_get(j, "state")));
        if (out->state == CX_ITEM_REJECTED) {
            size_t i;
            json_t *r;
            json_array_foreach(json_object_get(j, "reasons"), i, r)
            {
                cx_out_reject_field(out, "Sàn mẫu",
                                    cx_field_guess(json_string_value(json_object_get(r, "field"))),
                                    "rejected", json_string_value(json_object_get(r, "message")));
            }
            if (!out->nreasons) cx_out_reject_field(out, "Sàn mẫu", NULL, "rejected", NULL);
            out->state = CX_ITEM_REJECTED;
        } else if (out->state == CX_ITEM_UNKNOWN) {
            cx_out_retry(out, 60, 0, "unknown_item_status", "unrecognised state");
        }
        break;
    }
    default:
        cx_out_retry(out, 60, 0, "unsupported_operation", cx_op_name(op));
        break;
    }
done:
    json_decref(j);
}

const cx_connector cx_template = {
    .code = "template",
    .alias = "mau",
    .display_name = "Sàn mẫu (ví dụ)",
    .kind = CX_KIND_API,
    .default_domain = "example.invalid",
    .display_order = 99,
    .ops =
        CX_OPBIT(CX_OP_CREATE_ITEM) | CX_OPBIT(CX_OP_GET_ITEM_BY_SKU) | CX_OPBIT(CX_OP_GET_STATUS),
    .build = template_build,
    .parse = template_parse,
    .verify_push = NULL,
    .assisted = NULL,
};
