/* connectors/recheck: what the three API connectors' re-check operations share (see
 * connectors/recheck.h). No I/O, nothing outside connectors/ and core/mem. */
#include "connectors/recheck.h"
#include "core/mem.h"

#include <string.h>

#define PAGE_ITEMS_MAX 10000

const cx_recheck_ops *cx_recheck_for(const char *code)
{
    static const cx_recheck_ops *const all[] = {&cx_shopee_recheck, &cx_lazada_recheck,
                                                &cx_tiktok_recheck};
    if (!code) return NULL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->code, code)) return all[i];
    return NULL;
}

void cx_recheck_page_free(cx_recheck_page *p)
{
    if (!p) return;
    cs_free(p->items);
    memset(p, 0, sizeof *p);
}

int cx_recheck_add(cx_recheck_page *p, const cx_item_seen *it)
{
    if (p->n >= PAGE_ITEMS_MAX) return -1;
    if ((p->n & 63) == 0) {
        cx_item_seen *n = cs_realloc(p->items, (p->n + 64) * sizeof *n);
        if (!n) return -1;
        p->items = n;
    }
    p->items[p->n++] = *it;
    return 0;
}
