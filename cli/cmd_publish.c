/* cli/cmd_publish: `choso publish` — an operator's publish run: the active products not yet on a
 * marketplace (core/products cs_product_publish_candidates) queued in batches of ≤ 500 by
 * jobs/flows job_flows_publish_batch (the checks of a single publish). No SQL here. */
#include "core/db.h"
#include "core/errors.h"
#include "core/products.h"
#include "cli/cli.h"
#include "connectors/registry.h"
#include "jobs/flows.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Print one refused product: id, the Vietnamese reason of its code, the detail. */
static void print_refused(json_t *r)
{
    const char *code = json_string_value(json_object_get(r, "code"));
    const char *detail = json_string_value(json_object_get(r, "detail"));
    cs_code c = cs_code_from_name(code ? code : "");
    printf("  từ chối / refused: sản phẩm %lld — %s [%s]%s%s\n",
           (long long)json_integer_value(json_object_get(r, "product_id")),
           cs_code_message(c, CS_LANG_VI), code ? code : "?", detail && *detail ? ": " : "",
           detail ? detail : "");
}

int cmd_publish(int argc, char **argv)
{
    const char *config = NULL, *mp = NULL, *commune = NULL, *household = NULL;
    int64_t limit = 0;
    int dry = 0;
    const cs_opt opts[] = {
        {"--marketplace", NULL, CS_OPT_STR, 0, 0, &mp, "CODE",
         "the marketplace to publish on (lazada, shopee, tiktok, …)"},
        {"--commune", NULL, CS_OPT_STR, 0, 0, &commune, "CODE",
         "only households of this commune (5-digit code)"},
        {"--household", NULL, CS_OPT_STR, 0, 0, &household, "CODE",
         "only this household (TH-YYYY-NNNNNN)"},
        {"--limit", NULL, CS_OPT_INT, 1, 1000000, &limit, "N", "at most N products"},
        {"--dry-run", NULL, CS_OPT_FLAG, 0, 0, &dry, NULL,
         "list how many products would be put forward; queue nothing"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "publish", "--marketplace CODE [--commune CODE] [--household CODE] [--limit N] [--dry-run]",
        "A publish run: every active product not yet on the marketplace (no listing there, or\n"
        "only a draft) is checked as a single publish checks it (active shop of its household\n"
        "there, mapped category) and queued for the workers in batches of at most 500, each in\n"
        "one transaction. Prints per batch how many were queued and each refused product with\n"
        "its reason. Running it again queues nothing twice. Exit 0 when every product was\n"
        "queued, 1 when some were refused (or the database failed), 64 for bad arguments.",
        opts, argc, argv, NULL, 0, NULL);
    if (!mp || !*mp)
        return cli_usage("publish", "thiếu '--marketplace CODE'", "'--marketplace CODE' is needed");
    const cx_connector *cx = cx_find(mp);
    if (!cx)
        return cli_usage("publish", "'--marketplace': không có sàn này",
                         "'--marketplace': no such marketplace");
    mp = cx->code; /* an alias names its marketplace */
    if (commune && (strlen(commune) != 5 || strspn(commune, "0123456789") != 5))
        return cli_usage("publish", "'--commune' cần mã xã 5 chữ số",
                         "'--commune' wants a 5-digit commune code");
    if (household && (!*household || strlen(household) > 23))
        return cli_usage("publish", "'--household' cần mã hộ (TH-YYYY-NNNNNN)",
                         "'--household' wants a household code (TH-YYYY-NNNNNN)");
    int rc = 0;
    cs_db *db = cli_connect("publish", config, 0, &rc);
    if (!db) return rc;
    cs_actor a = cs_actor_cli("publish");
    cs_error err;
    cs_error_clear(&err);
    int64_t ids[JOB_FLOWS_BATCH_MAX], after = 0;
    long long total = 0, queued = 0, refused = 0;
    for (int batch = 1;; batch++) {
        size_t want = JOB_FLOWS_BATCH_MAX, n = 0;
        if (limit && (int64_t)want > limit - total) want = (size_t)(limit - total);
        if (!want) break;
        if (cs_product_publish_candidates(db, mp, commune, household, after, ids, want, &n, &err)) {
            cli_print_error("publish", &err);
            rc = 1;
            break;
        }
        if (!n) break;
        after = ids[n - 1];
        total += (long long)n;
        if (dry) {
            printf("lượt %d / batch %d: %zu sản phẩm sẽ được đưa lên (chạy thử, không xếp hàng) / "
                   "%zu products would be put forward (dry run, nothing queued)\n",
                   batch, batch, n, n);
            continue;
        }
        json_t *out = NULL, *ref = NULL;
        cs_error_clear(&err);
        if (job_flows_publish_batch(db, ids, n, mp, &a, &out, &ref, &err)) {
            if (err.nfields && !strcmp(err.fields[0].field, "marketplace")) {
                cs_db_close(db);
                return cli_usage("publish", "'--marketplace': sàn không có hoặc chưa bật",
                                 "'--marketplace': no such marketplace, or not enabled");
            }
            cli_print_error("publish", &err);
            rc = 1;
            break;
        }
        queued += (long long)json_array_size(out);
        refused += (long long)json_array_size(ref);
        printf("lượt %d / batch %d: %zu đã xếp hàng / queued, %zu bị từ chối / refused\n", batch,
               batch, json_array_size(out), json_array_size(ref));
        for (size_t i = 0; i < json_array_size(ref); i++)
            print_refused(json_array_get(ref, i));
        json_decref(out);
        json_decref(ref);
        if (n < want) break;
    }
    cs_db_close(db);
    if (dry)
        printf("publish %s: %lld sản phẩm sẽ được đưa lên / %lld products would be put forward\n",
               mp, total, total);
    else
        printf("publish %s: %lld đã xếp hàng / queued, %lld bị từ chối / refused\n", mp, queued,
               refused);
    return rc ? rc : refused ? 1 : 0;
}
