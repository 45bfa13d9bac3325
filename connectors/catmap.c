/* connectors/catmap: parse and look up the category map. Reads a file only in cx_catmap_load. */
#include "connectors/catmap.h"
#include "connectors/cxutil.h"
#include "connectors/registry.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

#define CATMAP_MAX_ROWS 10000

static const char *const header[] = {"category", "marketplace_code", "external_category_id",
                                     "external_category_name", "attributes_json"};

static void row_free(cx_catmap_row *r)
{
    cs_free(r->category);
    cs_free(r->marketplace);
    cs_free((char *)r->cat.external_id);
    cs_free((char *)r->cat.external_name);
    cs_free((char *)r->cat.attributes_json);
}

void cx_catmap_free(cx_catmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        row_free(&m->rows[i]);
    cs_free(m->rows);
    memset(m, 0, sizeof *m);
}

int cx_catmap_parse(const char *text, size_t n, cx_catmap *out, cs_error *err)
{
    cx_csv c;
    memset(out, 0, sizeof *out);
    if (cx_csv_parse(text, n, CATMAP_MAX_ROWS, &c, err)) return -1;
    int rc = -1;
    if (!c.nrows || c.ncols[0] < 5) {
        cs_error_set(err, CS_E_CONFIG, "category map: header must be %s,%s,%s,%s,%s", header[0],
                     header[1], header[2], header[3], header[4]);
        goto out;
    }
    for (size_t i = 0; i < 5; i++)
        if (strcmp(c.cells[0][i], header[i])) {
            cs_error_set(err, CS_E_CONFIG, "category map: column %zu must be %s", i + 1, header[i]);
            goto out;
        }
    out->rows = cs_calloc(c.nrows, sizeof *out->rows);
    if (!out->rows) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t r = 1; r < c.nrows; r++) {
        char **v = c.cells[r];
        size_t line = r + 1;
        if (c.ncols[r] == 1 && !v[0][0]) continue; /* blank line */
        if (c.ncols[r] != 5) {
            cs_error_set(err, CS_E_CONFIG, "category map line %zu: %zu columns, want 5", line,
                         c.ncols[r]);
            goto out;
        }
        const char *mp = cx_canonical_code(v[1]);
        if (!v[0][0] || !mp || !v[2][0]) {
            cs_error_set(err, CS_E_CONFIG,
                         "category map line %zu: category, known marketplace and id required",
                         line);
            goto out;
        }
        if (cx_catmap_find(out, v[0], mp)) {
            cs_error_set(err, CS_E_CONFIG, "category map line %zu: %s/%s mapped twice", line, v[0],
                         mp);
            goto out;
        }
        if (v[4][0]) {
            json_error_t je;
            json_t *a = json_loads(v[4], JSON_REJECT_DUPLICATES, &je);
            int ok = json_is_object(a);
            json_decref(a);
            if (!ok) {
                cs_error_set(err, CS_E_CONFIG,
                             "category map line %zu: attributes_json is not a JSON object", line);
                goto out;
            }
        }
        cx_catmap_row *row = &out->rows[out->n];
        row->category = cs_strdup(v[0]);
        row->marketplace = cs_strdup(mp);
        row->cat.external_id = cs_strdup(v[2]);
        row->cat.external_name = cs_strdup(v[3]);
        row->cat.attributes_json = v[4][0] ? cs_strdup(v[4]) : NULL;
        out->n++;
        if (!row->category || !row->marketplace || !row->cat.external_id ||
            !row->cat.external_name || (v[4][0] && !row->cat.attributes_json)) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
    }
    rc = 0;
out:
    cx_csv_free(&c);
    if (rc) cx_catmap_free(out);
    return rc;
}

int cx_catmap_load(const char *path, cx_catmap *out, cs_error *err)
{
    cs_buf b;
    memset(out, 0, sizeof *out);
    if (cx_read_file(path, (size_t)4 << 20, &b, err)) return -1;
    int rc = cx_catmap_parse(b.data ? b.data : "", b.len, out, err);
    cs_buf_free(&b);
    return rc;
}

const cx_category *cx_catmap_find(const cx_catmap *m, const char *category, const char *marketplace)
{
    const char *mp = cx_canonical_code(marketplace);
    if (!m || !category || !mp) return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->rows[i].category, category) && !strcmp(m->rows[i].marketplace, mp))
            return &m->rows[i].cat;
    return NULL;
}

int cx_catmap_require(const cx_catmap *m, const char *category, const char *marketplace,
                      const cx_category **out, cs_error *err)
{
    *out = cx_catmap_find(m, category, marketplace);
    if (*out) return 0;
    char d[160];
    snprintf(d, sizeof d, "%s → %s", category ? category : "", marketplace ? marketplace : "");
    return cs_error_field(err, "category", CS_F_CATEGORY_UNMAPPED, d);
}
