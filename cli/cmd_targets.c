/* cli/cmd_targets: `choso targets` — progress against the yearly targets as a table, JSON,
 * CSV or XLSX, and the counters' rebuild and check. The numbers come from core/targets only. */
#include "core/annual.h"
#include "core/config.h"
#include "core/db.h"
#include "core/evidence.h"
#include "core/instance.h"
#include "core/mem.h"
#include "core/targets.h"
#include "core/vn.h"
#include "cli/cli.h"
#include "service/h_targets.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* display width of UTF-8 text: one column per code point (Vietnamese has no wide letters) */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static void cell(FILE *o, const char *s, size_t w, int right)
{
    size_t n = width(s);
    if (right)
        for (size_t i = n; i < w; i++)
            fputc(' ', o);
    fputs(s, o);
    if (!right)
        for (size_t i = n; i < w; i++)
            fputc(' ', o);
    fputs("  ", o);
}

static void num_text(const json_t *v, char *out, size_t n)
{
    if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v))
        snprintf(out, n, "%.1f", json_number_value(v));
    else
        snprintf(out, n, "-");
}

static void print_table(FILE *o, const json_t *p)
{
    fprintf(o, "Chỉ tiêu năm %d — số liệu đến %s (Asia/Ho_Chi_Minh); đã qua %lld/%lld ngày\n\n",
            (int)json_integer_value(json_object_get(p, "year")),
            json_string_value(json_object_get(p, "as_of")),
            (long long)json_integer_value(json_object_get(p, "days_elapsed")),
            (long long)json_integer_value(json_object_get(p, "days_in_year")));
    if (json_is_true(json_object_get(p, "simulated")))
        fputs("DỮ LIỆU MÔ PHỎNG — bản trình diễn/tập huấn (instance.kind), không phải số liệu thật "
              "(simulated data: a demo/training instance)\n\n",
              o);
    static const char *const heads[] = {"chỉ tiêu", "mục tiêu",  "đạt",   "%",
                                        "cần/tuần", "cần/tháng", "dự báo"};
    static const char *const keys[] = {
        "label",     "goal", "achieved", "percent", "needed_per_week", "needed_per_month",
        "projection"};
    for (size_t k = 0; k < 7; k++)
        cell(o, heads[k], k ? 10 : 28, k != 0);
    fputc('\n', o);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(p, "metrics"), i, m)
    {
        for (size_t k = 0; k < 7; k++) {
            char b[32];
            if (!k)
                cell(o, json_string_value(json_object_get(m, keys[k])), 28, 0);
            else {
                num_text(json_object_get(m, keys[k]), b, sizeof b);
                cell(o, b, 10, 1);
            }
        }
        fputc('\n', o);
    }
    json_t *sales = json_object_get(p, "sales");
    if (sales)
        fprintf(o, "\nĐơn hàng đã giao: %lld đơn, %lld sản phẩm, doanh thu %lld đ\n",
                (long long)json_integer_value(json_object_get(sales, "orders")),
                (long long)json_integer_value(json_object_get(sales, "units")),
                (long long)json_integer_value(json_object_get(sales, "revenue_vnd")));
    json_t *rows = json_object_get(p, "breakdown");
    if (!rows) return;
    fputc('\n', o);
    const char *by = json_string_value(json_object_get(p, "by"));
    static const char *const by_vi[][2] = {{"commune", "xã/phường (huyện cũ)"},
                                           {"former_district", "huyện cũ (trước 01/7/2025)"},
                                           {"marketplace", "sàn"},
                                           {"month", "tháng"}};
    const char *head = by;
    for (size_t k = 0; k < sizeof by_vi / sizeof by_vi[0]; k++)
        if (by && !strcmp(by, by_vi[k][0])) head = by_vi[k][1];
    cell(o, head ? head : "", 52, 0);
    for (int k = 0; k < CS_M__COUNT; k++)
        cell(o, cs_metric_label_vi(k), 28, 1);
    fputc('\n', o);
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        char label[160];
        if (json_object_get(r, "commune_code"))
            snprintf(label, sizeof label, "%s %s (%s)",
                     json_string_value(json_object_get(r, "commune_code")),
                     json_string_value(json_object_get(r, "commune_name")),
                     json_string_value(json_object_get(r, "former_district_name")));
        else if (json_object_get(r, "former_district_code"))
            snprintf(label, sizeof label, "%s %s",
                     json_string_value(json_object_get(r, "former_district_code")),
                     json_string_value(json_object_get(r, "former_district_name")));
        else if (json_object_get(r, "marketplace_code"))
            snprintf(label, sizeof label, "%s",
                     json_string_value(json_object_get(r, "marketplace_name")));
        else if (json_object_get(r, "month"))
            snprintf(label, sizeof label, "tháng %lld",
                     (long long)json_integer_value(json_object_get(r, "month")));
        else
            snprintf(label, sizeof label, "%s", json_string_value(json_object_get(r, "key")));
        cell(o, label, 52, 0);
        for (int k = 0; k < CS_M__COUNT; k++) {
            char b[32];
            num_text(json_object_get(json_object_get(r, "counts"), cs_metric_name(k)), b, sizeof b);
            cell(o, b, 28, 1);
        }
        fputc('\n', o);
    }
}

static int write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "choso targets: cannot write %s\n", path);
        return 1;
    }
    int bad = fwrite(data, 1, len, f) != len;
    if (path)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    if (bad) fprintf(stderr, "choso targets: writing %s failed\n", path ? path : "standard output");
    return bad;
}

int cmd_targets(int argc, char **argv)
{
    const char *config = NULL, *by_s = NULL, *format = NULL, *output = NULL, *as_of = NULL;
    int64_t year = 0;
    int rebuild = 0, verify = 0, annual = 0, evidence = 0;
    const cs_opt opts[] = {
        {"--year", NULL, CS_OPT_INT, 2000, 2100, &year, "Y",
         "the year (default: this year in Asia/Ho_Chi_Minh)"},
        {"--by", NULL, CS_OPT_STR, 0, 0, &by_s, "commune|former_district|marketplace|month",
         "a breakdown; csv and xlsx are always by commune with every marketplace"},
        {"--format", NULL, CS_OPT_STR, 0, 0, &format, "table|csv|csv-vn|xlsx|pdf|json",
         "table (default), json, csv (UTF-8 with BOM), csv-vn (for Excel set to Vietnamese: ';', "
         "decimal comma), xlsx or pdf (both need --output; pdf is the annual report)"},
        {"--annual", NULL, CS_OPT_FLAG, 0, 0, &annual, NULL,
         "with --format xlsx: the annual report (summary, former districts, months, "
         "marketplaces, named lists, header and signatures) instead of the data annex by commune"},
        {"--output", NULL, CS_OPT_STR, 0, 0, &output, "FILE",
         "write to FILE instead of standard output"},
        {"--as-of", NULL, CS_OPT_STR, 0, 0, &as_of, "YYYY-MM-DD",
         "count the pace and the projection as on this date (default: today)"},
        {"--rebuild", NULL, CS_OPT_FLAG, 0, 0, &rebuild, NULL,
         "recompute the counters from the base tables in one transaction (run it when nothing else "
         "writes); alone it only rebuilds"},
        {"--verify", NULL, CS_OPT_FLAG, 0, 0, &verify, NULL,
         "compare the counters with a recomputation and check every counted item's evidence (a "
         "marketplace id or verified address; none counted twice); exit 1 on any finding"},
        {"--evidence", NULL, CS_OPT_FLAG, 0, 0, &evidence, NULL,
         "the evidence of every counted household and product of the year (--format csv, the "
         "default, or xlsx with --output): marketplace, id or verified address, date, who "
         "confirmed; nothing personal"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "targets", "[options]",
        "Progress against the yearly targets (definitions: core/targets.h and the README).", opts,
        argc, argv, NULL, 0, NULL);
    int want_report = by_s || format || output || as_of || year;
    if (evidence && (!format || !strcmp(format, "table"))) format = "csv";
    if (evidence && ((strcmp(format, "csv") && strcmp(format, "xlsx")) || by_s || annual))
        return cli_usage("targets", "'--evidence' chỉ đi với '--format csv' hoặc 'xlsx'",
                         "'--evidence' goes with '--format csv' or 'xlsx' only");
    if (!format) format = "table";
    int by = cs_targets_by_from_name(by_s);
    if (by < 0)
        return cli_usage("targets",
                         "'--by' phải là commune, former_district, marketplace hoặc month",
                         "'--by' must be commune, former_district, marketplace or month");
    int fmt_csv = !strcmp(format, "csv"), fmt_xlsx = !strcmp(format, "xlsx"),
        fmt_json = !strcmp(format, "json"), fmt_csv_vn = !strcmp(format, "csv-vn"),
        fmt_pdf = !strcmp(format, "pdf");
    if (!fmt_csv && !fmt_xlsx && !fmt_json && !fmt_csv_vn && !fmt_pdf && strcmp(format, "table"))
        return cli_usage("targets", "'--format' phải là table, json, csv, csv-vn, xlsx hoặc pdf",
                         "'--format' must be table, json, csv, csv-vn, xlsx or pdf");
    if ((fmt_xlsx || fmt_pdf) && !output)
        return cli_usage("targets", "'--format xlsx' và '--format pdf' cần '--output FILE'",
                         "'--format xlsx' and '--format pdf' need '--output FILE'");
    if (annual && !fmt_xlsx && !fmt_pdf)
        return cli_usage("targets", "'--annual' chỉ đi với '--format xlsx' hoặc 'pdf'",
                         "'--annual' goes with '--format xlsx' or 'pdf' only");
    if (fmt_csv_vn) fmt_csv = 1;
    if (fmt_csv || fmt_xlsx) by = CS_BY_COMMUNE;
    vn_date today = vn_today();
    if (as_of) {
        cs_code why;
        if (vn_date_parse(as_of, 0, &today, &why))
            return cli_usage("targets", "'--as-of' không phải một ngày (YYYY-MM-DD)",
                             "'--as-of' is not a date (YYYY-MM-DD)");
    }
    if (!year) year = today.y;

    int rc;
    cs_db *db = cli_connect("targets", config, 0, &rc);
    if (!db) return rc;
    cs_error err;
    cs_error_clear(&err);
    rc = 0;
    if (rebuild) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t rows = 0;
        if (cs_targets_rebuild(db, &rows, &err)) {
            cli_print_error("targets", &err);
            rc = 1;
            goto out;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "choso targets: rebuilt %lld counter rows in %.2f s\n", (long long)rows,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    if (verify) {
        int64_t diff = 0;
        if (cs_targets_verify(db, &diff, &err)) {
            cli_print_error("targets", &err);
            rc = 1;
            goto out;
        }
        fprintf(stderr, "choso targets: %lld counter cells differ from a recomputation\n",
                (long long)diff);
        if (diff) rc = 1;
        int64_t problems = 0;
        char *report = NULL;
        if (cs_evidence_check(db, &problems, &report, &err)) {
            cli_print_error("targets", &err);
            rc = 1;
            goto out;
        }
        if (report) fputs(report, stderr);
        cs_free(report);
        fprintf(stderr,
                "choso targets: %lld vấn đề về bằng chứng (%lld evidence problems: counted items "
                "without a marketplace id or verified address, or counted twice)\n",
                (long long)problems, (long long)problems);
        if (problems) rc = 1;
    }
    if (evidence) {
        cs_rows *ev = NULL;
        char *s = NULL;
        size_t n = 0;
        int sim = cs_instance_simulated();
        if (cs_evidence_list(db, (int)year, &ev, &err) ||
            (fmt_xlsx ? cs_evidence_xlsx(ev, sim, output, &err)
                      : cs_evidence_csv(ev, sim, &s, &n, &err))) {
            cli_print_error("targets", &err);
            rc = 1;
        } else if (!fmt_xlsx && write_bytes(output, s, n))
            rc = 1;
        cs_free(s);
        cs_rows_free(ev);
        goto out;
    }
    if ((rebuild || verify) && !want_report) goto out;
    if (fmt_pdf || (fmt_xlsx && annual)) {
        cs_annual an;
        if (cs_annual_build(db, (int)year, today, &an, &err) ||
            (fmt_pdf ? cs_annual_pdf(&an, output, &err) : cs_annual_xlsx(&an, output, &err))) {
            cli_print_error("targets", &err);
            rc = 1;
        }
        cs_annual_free(&an);
        goto out;
    }

    cs_progress tp;
    json_t *p = NULL;
    if (cs_targets_progress(db, (int)year, (cs_targets_by)by, today, NULL, 0, &tp, &err) ||
        ((fmt_json || (!fmt_csv && !fmt_xlsx)) && svc_targets_json(&tp, &p, &err))) {
        cs_targets_progress_free(&tp);
        cli_print_error("targets", &err);
        rc = 1;
        goto out;
    }
    if (fmt_json) {
        char *s = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        size_t n = s ? strlen(s) : 0;
        char *line = s ? cs_malloc(n + 2) : NULL;
        if (line) {
            memcpy(line, s, n);
            memcpy(line + n, "\n", 2);
        }
        rc = line ? write_bytes(output, line, n + 1) : 1;
        cs_free(line);
        free(s);
    } else if (fmt_csv) {
        char *s = NULL;
        size_t n = 0;
        if ((fmt_csv_vn ? cs_targets_csv_vn : cs_targets_csv)(&tp, &s, &n, &err)) {
            cli_print_error("targets", &err);
            rc = 1;
        } else
            rc = write_bytes(output, s, n);
        cs_free(s);
    } else if (fmt_xlsx) {
        if (cs_targets_xlsx(&tp, output, &err)) {
            cli_print_error("targets", &err);
            rc = 1;
        }
    } else {
        FILE *f = output ? fopen(output, "w") : stdout;
        if (!f) {
            fprintf(stderr, "choso targets: cannot write %s\n", output);
            rc = 1;
        } else {
            print_table(f, p);
            if (output && fclose(f)) rc = 1;
        }
    }
    json_decref(p);
    cs_targets_progress_free(&tp);
out:
    cs_db_close(db);
    return rc;
}
