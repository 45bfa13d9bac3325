/* core/readgen: which writes move the read generation, and reading it (core/readgen.h).
 * No HTTP, no JSON; the bump runs inside core/db.c so no write path can forget it. */
#include "core/readgen.h"
#include <string.h>
#include <strings.h>

/* the tables the cached answers read (service/read_cache: the household list, targets) and
 * what authentication reads (a revoked token or a volunteer's communes) */
static const char *const watched[] = {
    "households",   "products",          "listings",    "seller_accounts", "target_counts",
    "targets",      "order_counts",      "admin_units", "admin_districts", "admin_unit_districts",
    "marketplaces", "flagship_products", "tokens",      "token_communes",  NULL,
};

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int cs_readgen_watched(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    if (strncasecmp(sql, "INSERT", 6) && strncasecmp(sql, "UPDATE", 6) &&
        strncasecmp(sql, "DELETE", 6) && strncasecmp(sql, "REPLACE", 7))
        return 0;
    for (const char *const *t = watched; *t; t++) {
        size_t n = strlen(*t);
        for (const char *p = strstr(sql, *t); p; p = strstr(p + 1, *t))
            if ((p == sql || !ident_char(p[-1])) && !ident_char(p[n])) return 1;
    }
    return 0;
}

// clang-format off
enum { RG_SUM };
static const char SQL_GET[] =
    "SELECT CAST(COALESCE(SUM(gen), 0) AS SIGNED)"
    " FROM read_generation";
// clang-format on

int cs_readgen_get(cs_db *db, int64_t *gen, cs_error *err)
{
    cs_rows *r = NULL;
    if (cs_db_query(db, &r, SQL_GET, "", err)) return -1;
    *gen = cs_rows_count(r) ? cs_rows_i64(r, 0, RG_SUM) : 0;
    cs_rows_free(r);
    return 0;
}
