/* cli/cmd_check_live: `choso check-live` — what stands between this instance and the real
 * marketplaces, in Vietnamese and English, from core/golive (the checks live there; this file
 * only parses options and prints). Exit 0 only when nothing does. */
#include "core/config.h"
#include "core/db.h"
#include "core/golive.h"
#include "connectors/registry.h"
#include "cli/cli.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_check_live(int argc, char **argv)
{
    const char *config = NULL;
    int json = 0, no_db = 0;
    const cs_opt opts[] = {
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {"--json", NULL, CS_OPT_FLAG, 0, 0, &json, NULL,
         "one JSON object: {\"ready\", \"problems\":[{code, subject, vi, en}]}"},
        {"--no-db", NULL, CS_OPT_FLAG, 0, 0, &no_db, NULL,
         "check the configuration only (the database checks are then not run, and say so)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "check-live", "[--json] [--no-db] [--config FILE]",
        "Lists what stands between this instance and the real marketplaces: hosts not https or\n"
        "not public, credentials missing or readable by others, callback and push addresses not\n"
        "public https, marketplaces in sandbox mode, category trees never fetched, categories in\n"
        "use without a mapped leaf or a mandatory attribute. Exit 0 only when nothing does;\n"
        "1 when something does; 78 when the configuration itself cannot be read.",
        opts, argc, argv, NULL, 0, NULL);
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    cs_golive *g = calloc(1, sizeof *g);
    if (!g) return 1;
    cs_golive_init(g);
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = NULL;
    char in_use[8][16];
    size_t nin = 0;
    if (no_db) {
        cs_golive_add(g, "database_not_checked", "--no-db",
                      "Chưa kiểm tra cơ sở dữ liệu (--no-db): danh mục và thuộc tính chưa được xét",
                      "The database was not checked (--no-db): categories and attributes unknown");
    } else if (!(db = cs_db_connect(&err)) || cs_golive_in_use(db, in_use, &nin, &err)) {
        char v[480], e[480];
        snprintf(v, sizeof v, "Không đọc được cơ sở dữ liệu (%s): danh mục chưa được kiểm tra",
                 cs_code_name(err.code));
        snprintf(e, sizeof e, "The database cannot be read (%s): categories were not checked",
                 cs_code_name(err.code));
        cs_golive_add(g, "database_unreachable", "db", v, e);
    }
    const char *extra[8];
    for (size_t i = 0; i < nin; i++)
        extra[i] = in_use[i];
    cs_golive_check_config(g, extra, nin);
    /* marketplaces configured as data (Sendo …): their site as this instance sees it (the row's
       base_url, or assisted.hosts pointing it elsewhere) */
    const cx_connector *const *all = NULL;
    size_t nall = cx_list(&all);
    for (size_t i = 0; i < nall; i++) {
        const cx_connector *c = all[i];
        if (c->kind != CX_KIND_FILE || !strcmp(c->code, "postmart") || !strcmp(c->code, "voso"))
            continue;
        cx_market_cfg mc;
        cs_error_clear(&err);
        if (cx_market_from_config(c, 0, 0, &mc, &err)) continue;
        char subject[96];
        snprintf(subject, sizeof subject, "%s (%s)", c->code,
                 mc.site_url[0] ? "assisted.hosts" : "assisted_marketplaces.csv base_url");
        cs_golive_check_site(g, subject, mc.m.base_url);
    }
    if (db) {
        cs_error_clear(&err);
        if (cs_golive_check_db(db, g, &err)) {
            char v[480], e[480];
            snprintf(v, sizeof v, "Lỗi khi đọc cơ sở dữ liệu (%s)", cs_code_name(err.code));
            snprintf(e, sizeof e, "Reading the database failed (%s)", cs_code_name(err.code));
            cs_golive_add(g, "database_unreachable", "db", v, e);
        }
        cs_db_close(db);
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < g->n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "code", g->items[i].code,
                                                 "subject", g->items[i].subject, "vi",
                                                 g->items[i].vi, "en", g->items[i].en));
        json_t *uses = json_array();
        for (size_t i = 0; i < g->nin_use; i++)
            json_array_append_new(uses, json_string(g->in_use[i]));
        json_t *o = json_pack("{s:b,s:o,s:o,s:I}", "ready", g->n == 0, "marketplaces_in_use", uses,
                              "problems", arr, "more", (json_int_t)g->dropped);
        char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (t) puts(t);
        free(t);
        json_decref(o);
    } else {
        printf("Sàn đang dùng / marketplaces in use:");
        for (size_t i = 0; i < g->nin_use; i++)
            printf(" %s", g->in_use[i]);
        printf("%s\n", g->nin_use ? "" : " (không có / none)");
        for (size_t i = 0; i < g->n; i++)
            printf("✗ [%s] %s\n    %s\n    %s\n", g->items[i].code, g->items[i].subject,
                   g->items[i].vi, g->items[i].en);
        if (g->n)
            printf("%zu vấn đề cần xử lý trước khi lên sàn thật / %zu problem(s) before going "
                   "live%s\n",
                   g->n + g->dropped, g->n + g->dropped, g->dropped ? " (some not shown)" : "");
        else
            printf("Sẵn sàng lên sàn thật: không còn gì cản trở / Ready for the real "
                   "marketplaces: nothing stands in the way\n");
    }
    rc = g->n ? 1 : 0;
    free(g);
    return rc;
}
