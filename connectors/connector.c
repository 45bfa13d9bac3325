/* connectors/connector: the request and outcome values of the connector interface. No I/O. */
#include "connectors/connector.h"
#include "connectors/cxutil.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void cx_request_init(cx_request *r)
{
    memset(r, 0, sizeof *r);
}

static void free_str(char *s)
{
    if (s) cs_free_secret(s, strlen(s));
}

void cx_request_free(cx_request *r)
{
    if (!r) return;
    free_str(r->url);
    for (size_t i = 0; i < r->nheaders; i++) {
        free_str(r->headers[i].name);
        free_str(r->headers[i].value);
    }
    free_str(r->content_type);
    if (r->body) cs_free_secret(r->body, r->body_len);
    for (size_t i = 0; i < r->nparts; i++) {
        free_str(r->parts[i].name);
        free_str(r->parts[i].filename);
        free_str(r->parts[i].content_type);
        if (r->parts[i].owned) cs_free_secret((void *)r->parts[i].data, r->parts[i].len);
    }
    memset(r, 0, sizeof *r);
}

const char *cx_request_header(const cx_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name)) return r->headers[i].value;
    return NULL;
}

void cx_outcome_init(cx_outcome *o)
{
    memset(o, 0, sizeof *o);
}

void cx_outcome_wipe(cx_outcome *o)
{
    explicit_bzero(o, sizeof *o);
}

void cx_outcome_reject(cx_outcome *o, const char *field, const char *code, const char *vi,
                       const char *en)
{
    o->result = CX_REJECTED;
    o->unknown = 0;
    if (o->nreasons >= CX_MAX_REASONS) return;
    cx_reason *r = &o->reasons[o->nreasons++];
    cx_copy(r->field, sizeof r->field, field ? field : "");
    cx_copy(r->code, sizeof r->code, code ? code : "");
    cx_copy(r->vi, sizeof r->vi, vi ? vi : "");
    cx_copy(r->en, sizeof r->en, en ? en : "");
    if (!o->error_code[0] && code) cx_copy(o->error_code, sizeof o->error_code, code);
}

const char *cx_result_name(cx_result r)
{
    switch (r) {
    case CX_OK:
        return "ok";
    case CX_RETRY:
        return "retry";
    case CX_REAUTHORIZE:
        return "reauthorize";
    case CX_REJECTED:
        return "rejected";
    case CX_NOT_FOUND:
        return "not_found";
    }
    return "unknown";
}

const char *cx_item_state_name(cx_item_state s)
{
    switch (s) {
    case CX_ITEM_UNKNOWN:
        return "unknown";
    case CX_ITEM_PENDING:
        return "pending";
    case CX_ITEM_LIVE:
        return "live";
    case CX_ITEM_REJECTED:
        return "rejected";
    case CX_ITEM_DELISTED:
        return "delisted";
    }
    return "unknown";
}

const char *cx_op_name(cx_op op)
{
    static const char *const names[CX_OP__COUNT] = {
        "authorize_link", "token_exchange", "token_refresh", "get_shop",
        "image_upload",   "create_item",    "update_item",   "get_item_by_sku",
        "get_status",     "verify_push",    "link_check"};
    return (unsigned)op < CX_OP__COUNT ? names[op] : "unknown";
}

const char *cx_field_label_vi(const char *field)
{
    static const struct {
        const char *field, *label;
    } labels[] = {
        {"name", "Tên sản phẩm"},
        {"description", "Mô tả sản phẩm"},
        {"price_vnd", "Giá bán (đồng)"},
        {"stock", "Số lượng tồn kho"},
        {"weight_g", "Khối lượng (gam)"},
        {"dimensions", "Kích thước đóng gói"},
        {"category", "Ngành hàng / danh mục trên sàn"},
        {"attributes", "Thuộc tính sản phẩm"},
        {"images", "Ảnh sản phẩm"},
        {"logistics", "Đơn vị vận chuyển"},
        {"sku", "Mã SKU"},
        {"brand", "Thương hiệu"},
        {"shop", "Cửa hàng"},
        {"url", "Đường dẫn"},
    };
    if (!field) return "";
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (!strcmp(labels[i].field, field)) return labels[i].label;
    return field;
}

void cx_sku(long long listing_id, char out[24])
{
    snprintf(out, 24, "CS-%lld", listing_id);
}
