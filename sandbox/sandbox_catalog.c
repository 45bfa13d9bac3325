/* sandbox/ catalogue: the category trees, attribute lists and brands the simulators serve, built
 * from the categories they accept, so a mapping made against them is testable. No I/O, no lock.
 *
 * Trees: each accepted category's path from the category map ("Thực phẩm & Đồ uống > Đồ uống >
 * Trà") becomes branches and a leaf; the leaf keeps the accepted id, branches get 9000 + their
 * position, so the same map always gives the same tree. Attributes: the mandatory ones are the
 * ones the simulators enforce on create (from the same map), named and offered with choices the
 * way each marketplace names them; two optional ones follow, as in the real lists. */
#include "sandbox/sandbox_int.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

const char *const sbx_brands[] = {"No Brand",          "OEM",
                                  "Chợ Số Thanh Hóa",  "Nem Thanh Hóa",
                                  "Bánh gai Tứ Trụ",   "Nước mắm Ba Làng",
                                  "Chè lam Phủ Quảng", NULL};

static const char *const origins[] = {"Việt Nam", "Trung Quốc", "Thái Lan", "Hàn Quốc",
                                      "Nhật Bản", "Khác",       NULL};
static const char *const shelf_life[] = {"1 tháng",  "3 tháng",  "6 tháng",
                                         "12 tháng", "24 tháng", NULL};

/* Known attributes per marketplace: Shopee 100037 (origin), Lazada brand, TikTok 100107 (origin)
 * are the ones the shipped category map fills; the rest are optional extras. */
static const sb_attrdef known[SBX_NMARKETS][4] = {
    [SBX_SHOPEE] = {{"100037", "Xuất xứ", "singleSelect", origins, 1},
                    {"100010", "Hạn sử dụng", "singleSelect", shelf_life, 0},
                    {"100095", "Khối lượng tịnh", "text", NULL, 0},
                    {NULL, NULL, NULL, NULL, 0}},
    [SBX_LAZADA] = {{"brand", "Thương hiệu", "singleSelect", sbx_brands, 1},
                    {"product_warranty", "Chính sách bảo hành", "text", NULL, 0},
                    {"Hazmat", "Hàng nguy hiểm", "singleSelect", NULL, 0},
                    {NULL, NULL, NULL, NULL, 0}},
    [SBX_TIKTOK] = {{"100107", "Xuất xứ", "singleSelect", origins, 1},
                    {"100216", "Hạn sử dụng", "singleSelect", shelf_life, 0},
                    {"101610", "Thành phần", "text", NULL, 0},
                    {NULL, NULL, NULL, NULL, 0}},
};

static const sb_attrdef *find_known(int market, const char *id)
{
    if (market < 0 || market >= SBX_NMARKETS) return NULL;
    for (const sb_attrdef *a = known[market]; a->id; a++)
        if (!strcmp(a->id, id)) return a;
    return NULL;
}

size_t sbx_catalog_attrs(int market, const sb_category *c, sb_attrdef *out, size_t max)
{
    size_t n = 0;
    for (int k = 0; c && k < c->nattrs && n < max; k++) {
        const sb_attrdef *a = find_known(market, c->attrs[k]);
        out[n] = a ? *a : (sb_attrdef){c->attrs[k], c->attrs[k], "text", NULL, 1};
        out[n++].mandatory = 1;
    }
    if (market < 0 || market >= SBX_NMARKETS) return n;
    for (const sb_attrdef *a = known[market]; a->id && n < max; a++) {
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= !strcmp(out[k].id, a->id);
        if (dup) continue;
        out[n] = *a;
        out[n++].mandatory = 0; /* mandatory only where the category map says so */
    }
    return n;
}

/* The node named name under parent, or a new one; NULL when full. */
static sb_catnode *branch(sb_catnode *nodes, size_t *n, size_t cap, const char *parent,
                          const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!nodes[i].leaf && !strcmp(nodes[i].parent, parent) && !strcmp(nodes[i].name, name))
            return &nodes[i];
    if (*n >= cap) return NULL;
    sb_catnode *b = &nodes[*n];
    memset(b, 0, sizeof *b);
    snprintf(b->id, sizeof b->id, "%zu", 9000 + *n);
    snprintf(b->parent, sizeof b->parent, "%s", parent);
    snprintf(b->name, sizeof b->name, "%s", name);
    (*n)++;
    return b;
}

sb_catnode *sbx_catalog_tree(const sbx_sandbox *sb, int market, size_t *n)
{
    *n = 0;
    size_t cap = SB_MAX_CATS * 4;
    sb_catnode *nodes = cs_calloc(cap, sizeof *nodes);
    if (!nodes) return NULL;
    for (size_t i = 0; i < sb->ncats; i++) {
        const sb_category *c = &sb->cats[i];
        if (c->market != market) continue;
        char path[sizeof c->name], parent[32] = "0";
        snprintf(path, sizeof path, "%s", c->name[0] ? c->name : "");
        const char *leafname = path;
        char *seg = path, *sep;
        /* Every segment but the last is a branch. */
        while ((sep = strstr(seg, " > "))) {
            *sep = '\0';
            sb_catnode *b = branch(nodes, n, cap, parent, seg);
            if (!b) return nodes;
            snprintf(parent, sizeof parent, "%s", b->id);
            seg = sep + 3;
        }
        leafname = seg;
        if (*n >= cap) return nodes;
        sb_catnode *l = &nodes[(*n)++];
        snprintf(l->id, sizeof l->id, "%s", c->id);
        snprintf(l->parent, sizeof l->parent, "%s", parent);
        if (*leafname)
            snprintf(l->name, sizeof l->name, "%s", leafname);
        else
            snprintf(l->name, sizeof l->name, "Danh mục %s", c->id);
        l->leaf = 1;
    }
    return nodes;
}
