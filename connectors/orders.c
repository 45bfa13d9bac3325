/* connectors/orders: the table of order operations and the helpers the three API connectors
 * share for them (money, times, page arrays). Pure: no clock, no I/O. */
#include "connectors/orders.h"
#include "connectors/cxutil.h"
#include "core/mem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_LINES_MAX 100000 /* a page never holds more (a hostile answer cannot grow us) */

const char *cx_order_state_name(cx_order_state s)
{
    static const char *const n[] = {"unknown", "open", "delivered", "cancelled", "returned"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "unknown";
}

const cx_order_ops *cx_orders_for(const char *code)
{
    static const cx_order_ops *const all[] = {&cx_shopee_orders, &cx_lazada_orders,
                                              &cx_tiktok_orders};
    if (!code) return NULL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->code, code)) return all[i];
    return NULL;
}

void cx_orders_page_free(cx_orders_page *p)
{
    if (!p) return;
    cs_free(p->ids);
    cs_free(p->lines);
    memset(p, 0, sizeof *p);
}

int cx_orders_add_line(cx_orders_page *p, const cx_order_line *l)
{
    if (p->nlines >= PAGE_LINES_MAX) return -1;
    if ((p->nlines & 63) == 0) {
        cx_order_line *n = cs_realloc(p->lines, (p->nlines + 64) * sizeof *n);
        if (!n) return -1;
        p->lines = n;
    }
    p->lines[p->nlines++] = *l;
    return 0;
}

int cx_orders_add_id(cx_orders_page *p, const char *id)
{
    if (p->nids >= PAGE_LINES_MAX || strlen(id) >= 64) return -1;
    if ((p->nids & 63) == 0) {
        char(*n)[64] = cs_realloc(p->ids, (p->nids + 64) * sizeof *n);
        if (!n) return -1;
        p->ids = n;
    }
    cx_copy(p->ids[p->nids++], 64, id);
    return 0;
}

void cx_orders_bad(cx_orders_page *p, const char *what, const char *id)
{
    if (!p->nbad++) snprintf(p->bad, sizeof p->bad, "%s (%s)", what, id && *id ? id : "?");
}

long long cx_orders_vnd(const json_t *v)
{
    double d;
    if (json_is_integer(v)) return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
    if (json_is_real(v))
        d = json_real_value(v);
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || strspn(s, "0123456789.") != strlen(s)) return -1;
        errno = 0;
        d = strtod(s, &end);
        if (errno || *end) return -1;
    } else
        return -1;
    /* đồng have no subunit: 45000.0 is fine, 45000.5 is not a price we can count */
    if (!(d >= 0) || d > 1e15 || floor(d) != d) return -1;
    return (long long)d;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

long long cx_orders_time(const char *s)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 1;
    if (!s || strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return -1;
    const char *z = s + 19;
    if (*z == '.')
        for (z++; *z >= '0' && *z <= '9'; z++)
            ;
    if (*z == ' ') z++;
    if (*z == 'Z' && !z[1]) {
    } else if ((*z == '+' || *z == '-') && strlen(z) >= 5) {
        sign = *z == '-' ? -1 : 1;
        z++;
        if (digits(z, 2, &oh)) return -1;
        z += 2;
        if (*z == ':') z++;
        if (digits(z, 2, &om) || z[2]) return -1;
    } else
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
    /* days from the civil date (Howard Hinnant's algorithm): no timegm, no TZ */
    int yy = y - (mo <= 2);
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
}

void cx_orders_iso(long long unix_s, char out[32])
{
    time_t t = (time_t)(unix_s + 7 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}
