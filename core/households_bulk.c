/* core/households_bulk: the import's bulk upsert of households — the same rows, columns, content
 * hash and outcomes as cs_household_upsert row by row, in a few statements per batch. Knows
 * nothing of spreadsheets or jobs; every personal value is sealed before it reaches SQL. */
#include "core/crypto.h"
#include "core/households_int.h"
#include "core/mem.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- bulk upsert (imports) ------------------------------------------------------------------
 * Same effect on every row as cs_household_upsert (same columns, same content hash, same
 * outcome), in a handful of round trips per batch instead of several per row:
 *   1. blind index + content hash of every row (in memory, spread over a few threads);
 *   2. the batch's citizen-ID indexes into a temporary table, joined with households FOR
 *      UPDATE: the existing rows of the whole batch in one query;
 *   3. codes for all new rows reserved in one statement (household_codes.last += k);
 *   4. new rows sealed (threads) and written with one array-bound INSERT;
 *   5. changed rows updated one by one through write_all (rare; it also re-files target counts).
 * Audit: one "household.create_bulk" row per batch naming the first and last code created and
 * how many (they are consecutive; codes are not personal), and one "household.update" row per
 * updated household as cs_household_upsert
 * writes; unchanged rows write nothing, as before. The same citizen ID twice in one batch is
 * handled as two upserts in order (the batch is split before the repeat). */
#define BULK_MAX_THREADS 4
#define BULK_MIN_PER_THREAD 128

typedef struct bulk_row {
    unsigned char bidx[32], hash[32];
    cs_hh_sealed s;
    int64_t found_id; /* existing household, 0 when new */
    char found_code[24];
    unsigned found_version;
    int same;      /* existing content hash equal */
    int bad;       /* crypto failed */
    int maybe;     /* may exist: look it up (all rows, unless a snapshot says it is new) */
    int skip_seal; /* prepare: probably exists, seal only if it turns out new */
} bulk_row;

struct bulk_part {
    cs_household_norm *const *rows;
    bulk_row *br;
    size_t from, to;
    int seal; /* 0: index + hash; 1: seal the new rows */
};

static void *bulk_crypto(void *arg)
{
    struct bulk_part *p = arg;
    for (size_t i = p->from; i < p->to; i++) {
        bulk_row *b = &p->br[i];
        if (!p->rows[i]) continue;
        if (!p->seal) {
            if (cs_blind_index("cccd", p->rows[i]->cccd, b->bidx) ||
                cs_household_content_hash(p->rows[i], b->hash))
                b->bad = 1;
        } else if (!b->found_id && !b->bad && !b->s.cccd && !b->skip_seal) {
            /* the citizen-ID index is known already: one HMAC a row saved */
            if (cs_hh_seal(p->rows[i], b->bidx, &b->s, NULL)) b->bad = 1;
        }
    }
    return NULL;
}

/* Run bulk_crypto over [0, n) on up to BULK_MAX_THREADS threads (the caller's included). */
static void bulk_crypto_all(cs_household_norm *const *rows, bulk_row *br, size_t n, int seal)
{
    static long ncpu;
    if (!ncpu) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        ncpu = c < 1 ? 1 : c > BULK_MAX_THREADS ? BULK_MAX_THREADS : c;
    }
    size_t t = n / BULK_MIN_PER_THREAD;
    if (t > (size_t)ncpu) t = (size_t)ncpu;
    if (t < 1) t = 1;
    struct bulk_part parts[BULK_MAX_THREADS];
    pthread_t th[BULK_MAX_THREADS];
    int started[BULK_MAX_THREADS] = {0};
    for (size_t k = 0; k < t; k++) {
        parts[k] = (struct bulk_part){rows, br, n * k / t, n * (k + 1) / t, seal};
        if (k > 0) started[k] = !pthread_create(&th[k], NULL, bulk_crypto, &parts[k]);
    }
    bulk_crypto(&parts[0]);
    for (size_t k = 1; k < t; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            bulk_crypto(&parts[k]); /* no thread: do it here */
    }
}

// clang-format off
static const char SQL_KEYS_TABLE[] =
    "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_household_bulk_keys ("
    "  pos INT NOT NULL, bidx BINARY(32) NOT NULL, KEY (bidx))"
    " ENGINE=MEMORY";
static const char SQL_KEYS_CLEAR[] =
    "DELETE FROM tmp_household_bulk_keys";
static const char SQL_KEYS_INSERT[] =
    "INSERT INTO tmp_household_bulk_keys (pos, bidx)"
    " VALUES (?, ?)";
/* the batch's existing households, by the row position they answer */
enum { EX_POS, EX_ID, EX_CODE, EX_VERSION, EX_HASH };
static const char SQL_EXISTING[] =
    "SELECT k.pos, h.id, h.code, h.version, h.content_hash"
    " FROM tmp_household_bulk_keys k"
    " JOIN households h ON h.cccd_bidx = k.bidx"
    " FOR UPDATE";
static const char SQL_CODES_RESERVE[] =
    "INSERT INTO household_codes (year, last)"
    " VALUES (?, ?)"
    " ON DUPLICATE KEY UPDATE last = last + VALUES(last)";
static const char SQL_CODES_LAST[] =
    "SELECT last"
    " FROM household_codes"
    " WHERE year = ?";
static const char SQL_BULK_INSERT[] =
    "INSERT INTO households (code, owner_name, name_folded, business_name, commune_code,"
    "  cccd_sealed, cccd_bidx, phone_sealed, phone_bidx, birth_date_sealed, address_sealed,"
    "  owner_age, youth_led, business_reg_no, tax_code, has_epayment, consent_at,"
    "  consent_version, consent_by, content_hash, registered_by, import_id)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,UTC_TIMESTAMP(),?,?,?,?,?)";
/* the ids of a range of codes of one width */
enum { NEW_CODE, NEW_ID };
static const char SQL_NEW_IDS[] =
    "SELECT code, id"
    " FROM households"
    " WHERE code BETWEEN ? AND ?"
    "  AND LENGTH(code) = ?";
enum { CM_CODE };
static const char SQL_COMMUNES[] =
    "SELECT code"
    " FROM admin_units"
    " ORDER BY code";
enum { KN_BIDX };
static const char SQL_KNOWN[] =
    "SELECT cccd_bidx"
    " FROM households"
    " WHERE cccd_bidx IS NOT NULL";
static const char SQL_KNOWN_UPTO[] =
    "SELECT cccd_bidx"
    " FROM households"
    " WHERE cccd_bidx IS NOT NULL"
    " LIMIT ?";
// clang-format on

static int bulk_find_existing(cs_db *db, bulk_row *br, size_t n, cs_error *err)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += br[i].maybe;
    if (!m) return 0; /* every row known to be new: no look-up at all */
    if (cs_db_exec_text(db, SQL_KEYS_TABLE, sizeof SQL_KEYS_TABLE - 1, err) < 0 ||
        cs_db_exec(db, SQL_KEYS_CLEAR, "", err) < 0)
        return -1;
    char(*pos)[12] = cs_malloc(m * sizeof *pos);
    const char **cells = cs_malloc(2 * m * sizeof *cells);
    size_t *lens = cs_malloc(2 * m * sizeof *lens);
    int rc = -1;
    cs_rows *rows = NULL;
    if (!pos || !cells || !lens) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!br[i].maybe) continue;
        snprintf(pos[k], sizeof pos[k], "%zu", i);
        cells[2 * k] = pos[k];
        lens[2 * k] = strlen(pos[k]);
        cells[2 * k + 1] = (const char *)br[i].bidx;
        lens[2 * k + 1] = 32;
        k++;
    }
    if (cs_db_bulk_insert(db, SQL_KEYS_INSERT, 2, "ib", cells, lens, m, err) < 0 ||
        cs_db_query(db, &rows, SQL_EXISTING, "", err))
        goto out;
    for (size_t r = 0; r < cs_rows_count(rows); r++) {
        int64_t p = cs_rows_i64(rows, r, EX_POS);
        if (p < 0 || (size_t)p >= n) continue;
        bulk_row *b = &br[p];
        b->found_id = cs_rows_i64(rows, r, EX_ID);
        snprintf(b->found_code, sizeof b->found_code, "%s", cs_rows_str(rows, r, EX_CODE));
        b->found_version = (unsigned)cs_rows_i64(rows, r, EX_VERSION);
        size_t hl;
        const void *old = cs_rows_blob(rows, r, EX_HASH, &hl);
        b->same = hl == 32 && !memcmp(old, b->hash, 32);
    }
    rc = 0;
out:
    cs_rows_free(rows);
    cs_free(pos);
    cs_free(cells);
    cs_free(lens);
    return rc;
}

#define BULK_COLS 21

static void bulk_put(const char **c, size_t *l, unsigned j, const void *p, size_t len)
{
    c[j] = p;
    l[j] = p ? len : 0;
}

static void bulk_puts(const char **c, size_t *l, unsigned j, const char *p)
{
    c[j] = p;
    l[j] = p ? strlen(p) : 0;
}

/* Insert the new rows of br[0..n) (found_id == 0, not skipped) with one array-bound INSERT. */
static int bulk_insert_new(cs_db *db, const cs_actor *a, cs_household_norm *const *rows,
                           bulk_row *br, const int *skip, size_t n, int presealed,
                           int64_t import_id, cs_household_result *res, json_t *codes,
                           cs_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += rows[i] && !skip[i] && !br[i].found_id;
    if (!k) return 0;
    int year = vn_today().y;
    int64_t last = 0;
    if (cs_db_exec(db, SQL_CODES_RESERVE, "ii", (int64_t)year, (int64_t)k, err) < 0 ||
        cs_db_scalar_i64(db, &last, SQL_CODES_LAST, "i", (int64_t)year, err))
        return cs_error_set(err, err->code == CS_OK ? CS_E_DB : err->code,
                            "household code sequence");
    (void)presealed; /* rows sealed in advance are skipped; the others are sealed now */
    for (size_t i = 0; i < n; i++)
        br[i].skip_seal = 0;
    bulk_crypto_all(rows, br, n, 1);
    for (size_t i = 0; i < n; i++)
        if (rows[i] && !skip[i] && !br[i].found_id && br[i].bad)
            return cs_error_set(err, CS_E_CRYPTO, "sealing failed");

    char by[48];
    cs_actor_tag(a, by, sizeof by);
    char imp[24];
    snprintf(imp, sizeof imp, "%lld", (long long)import_id);
    char(*nums)[3][8] = cs_malloc(k * sizeof *nums);
    const char **cells = cs_malloc(k * BULK_COLS * sizeof *cells);
    size_t *lens = cs_malloc(k * BULK_COLS * sizeof *lens);
    int rc = -1;
    if (!nums || !cells || !lens) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    int64_t next = last - (int64_t)k + 1;
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i] || skip[i] || br[i].found_id) continue;
        const cs_household_norm *h = rows[i];
        bulk_row *b = &br[i];
        memset(&res[i], 0, sizeof res[i]);
        snprintf(res[i].code, sizeof res[i].code, "TH-%04d-%05lld", year, (long long)next++);
        res[i].version = 1;
        res[i].outcome = CS_HH_CREATED;
        json_array_append_new(codes, json_string(res[i].code));
        snprintf(nums[r][0], sizeof nums[r][0], "%d", h->owner_age);
        snprintf(nums[r][1], sizeof nums[r][1], "%d", h->youth_led ? 1 : 0);
        snprintf(nums[r][2], sizeof nums[r][2], "%d", h->has_epayment ? 1 : 0);
        const char **c = &cells[r * BULK_COLS];
        size_t *l = &lens[r * BULK_COLS];
#define PUT(j, p, len_) bulk_put(c, l, j, p, len_)
#define PUTS(j, p) bulk_puts(c, l, j, p)
        PUTS(0, res[i].code);
        PUTS(1, h->owner_name);
        PUTS(2, h->name_folded);
        PUTS(3, h->business_name);
        PUTS(4, h->commune_code);
        PUT(5, b->s.cccd, b->s.cccd_n);
        PUT(6, b->s.cccd_bidx, (size_t)32);
        PUT(7, b->s.phone, b->s.phone_n);
        PUT(8, b->s.phone_bidx, (size_t)32);
        PUT(9, b->s.birth, b->s.birth_n);
        PUT(10, b->s.address, b->s.address_n);
        PUTS(11, nums[r][0]);
        PUTS(12, nums[r][1]);
        PUTS(13, h->business_reg_no);
        PUTS(14, h->tax_code);
        PUTS(15, nums[r][2]);
        PUTS(16, h->consent_version);
        PUTS(17, by);
        PUT(18, b->hash, (size_t)32);
        PUTS(19, by);
        PUTS(20, import_id ? imp : NULL);
#undef PUT
#undef PUTS
        r++;
    }
    int64_t ins = cs_db_bulk_insert(db, SQL_BULK_INSERT, BULK_COLS, "sssssbbbbbbiississbsi", cells,
                                    lens, k, err);
    if (ins < 0) {
        if (err->code == CS_E_CONFLICT && strstr(err->detail, "cccd")) /* created meanwhile */
            cs_error_set(err, CS_E_DUPLICATE_HOUSEHOLD, "bulk insert");
        goto out;
    }
    /* the new ids: the batch's codes are the consecutive range reserved above (the row of
       household_codes stays locked until commit), read back by range scans of the code index —
       one per code width, since "TH-2026-100000" sorts inside a 5-digit range */
    int64_t first = last - (int64_t)k + 1;
    size_t *newpos = cs_malloc(k * sizeof *newpos);
    if (!newpos) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0, j = 0; i < n; i++)
        if (rows[i] && !skip[i] && !br[i].found_id) newpos[j++] = i;
    for (int64_t from = first; from <= last;) {
        char lo[24], hi[24];
        snprintf(lo, sizeof lo, "TH-%04d-%05lld", year, (long long)from);
        int64_t to = from;
        while (to < last) { /* the end of this width */
            char t[24];
            snprintf(t, sizeof t, "TH-%04d-%05lld", year, (long long)(to + 1));
            if (strlen(t) != strlen(lo)) break;
            to++;
        }
        snprintf(hi, sizeof hi, "TH-%04d-%05lld", year, (long long)to);
        cs_rows *ids = NULL;
        if (cs_db_query(db, &ids, SQL_NEW_IDS, "ssi", lo, hi, (int64_t)strlen(lo), err)) {
            cs_free(newpos);
            goto out;
        }
        for (size_t j = 0; j < cs_rows_count(ids); j++) {
            const char *dash = strrchr(cs_rows_str(ids, j, NEW_CODE), '-');
            long long v = dash ? strtoll(dash + 1, NULL, 10) : -1;
            if (v >= first && v <= last) res[newpos[v - first]].id = cs_rows_i64(ids, j, NEW_ID);
        }
        cs_rows_free(ids);
        from = to + 1;
    }
    cs_free(newpos);
    rc = 0;
out:
    cs_free(nums);
    cs_free(cells);
    cs_free(lens);
    return rc;
}

/* One batch without repeated citizen IDs. */
static int known_has(const cs_household_known *k, const unsigned char bidx[32]);

static int bulk_segment(cs_db *db, const cs_actor *a, cs_household_norm *const *rows, bulk_row *br,
                        size_t n, int presealed, const cs_household_known *known, int64_t import_id,
                        cs_household_result *res, cs_code *row_err, const cs_rows *communes,
                        cs_error *err)
{
    int *skip = cs_calloc(n ? n : 1, sizeof *skip);
    json_t *codes = json_array();
    int rc = -1;
    if (!skip || !codes) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        br[i].found_id = 0, br[i].same = 0, br[i].found_code[0] = '\0';
        br[i].maybe = rows[i] && (!known || known_has(known, br[i].bidx));
        if (!rows[i]) continue;
        size_t lo = 0, hi = cs_rows_count(communes); /* ordered by code */
        int exists = 0;
        while (lo < hi && !exists) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(cs_rows_str(communes, mid, CM_CODE), rows[i]->commune_code);
            if (!c)
                exists = 1;
            else if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!exists) {
            skip[i] = 1;
            if (row_err) row_err[i] = CS_F_COMMUNE;
        }
    }
    if (bulk_find_existing(db, br, n, err) ||
        bulk_insert_new(db, a, rows, br, skip, n, presealed, import_id, res, codes, err))
        goto out;
    /* the codes of one batch are consecutive (reserved in one statement): first, last, count */
    size_t nc = json_array_size(codes);
    if (nc && cs_audit(db, a, "household.create_bulk", "household", NULL,
                       json_pack("{s:O,s:O,s:I,s:I}", "first", json_array_get(codes, 0), "last",
                                 json_array_get(codes, nc - 1), "count", (json_int_t)nc,
                                 "import_id", (json_int_t)import_id),
                       err))
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i] || skip[i] || !br[i].found_id) continue;
        memset(&res[i], 0, sizeof res[i]);
        res[i].id = br[i].found_id;
        snprintf(res[i].code, sizeof res[i].code, "%s", br[i].found_code);
        res[i].version = br[i].found_version;
        if (br[i].same) {
            res[i].outcome = CS_HH_UNCHANGED;
            continue;
        }
        if (cs_hh_write_all(db, res[i].id, rows[i], br[i].hash, 0, err)) goto out;
        res[i].version++;
        res[i].outcome = CS_HH_UPDATED;
        if (cs_audit(db, a, "household.update", "household", res[i].code,
                     json_pack("{s:o,s:I}", "fields", cs_hh_field_names(rows[i]->present),
                               "import_id", (json_int_t)import_id),
                     err))
            goto out;
    }
    rc = 0;
out:
    if (!presealed)
        for (size_t i = 0; i < n; i++)
            cs_hh_sealed_free(&br[i].s);
    json_decref(codes);
    cs_free(skip);
    return rc;
}

/* qsort has no context argument in C17: the rows being sorted, set just before the call.
 * Thread-local so concurrent imports on several worker threads do not share it. */
static _Thread_local const bulk_row *bulk_sort_rows;

static int bulk_cmp(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = memcmp(bulk_sort_rows[i].bidx, bulk_sort_rows[j].bidx, 32);
    return c ? c : (i > j) - (i < j);
}

struct cs_household_bulk {
    cs_household_norm *const *rows;
    size_t n;
    bulk_row *br;
    size_t *prev; /* last earlier row with the same citizen ID, SIZE_MAX when none */
    int sealed;   /* every row sealed in advance */
};

void cs_household_bulk_free(cs_household_bulk *b)
{
    if (!b) return;
    if (b->br) {
        for (size_t i = 0; i < b->n; i++)
            cs_hh_sealed_free(&b->br[i].s);
        explicit_bzero(b->br, b->n * sizeof *b->br);
    }
    cs_free(b->br);
    cs_free(b->prev);
    cs_free(b);
}

int cs_household_bulk_prepare(cs_household_norm *const *rows, size_t n, int seal,
                              const cs_household_known *known, cs_household_bulk **out,
                              cs_error *err)
{
    *out = NULL;
    cs_household_bulk *b = cs_calloc(1, sizeof *b);
    size_t *order = NULL;
    if (!b) return cs_error_set(err, CS_E_NOMEM, NULL);
    b->rows = rows, b->n = n, b->sealed = seal;
    b->br = cs_calloc(n ? n : 1, sizeof *b->br);
    b->prev = cs_malloc((n ? n : 1) * sizeof *b->prev);
    order = cs_malloc((n ? n : 1) * sizeof *order);
    if (!b->br || !b->prev || !order) {
        cs_free(order);
        cs_household_bulk_free(b);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    bulk_crypto_all(rows, b->br, n, 0);
    if (seal) {
        /* rows the snapshot knows are most likely unchanged or updated: not sealed now */
        for (size_t i = 0; i < n && known; i++)
            b->br[i].skip_seal = rows[i] && known_has(known, b->br[i].bidx);
        bulk_crypto_all(rows, b->br, n, 1);
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i] && b->br[i].bad) {
            cs_free(order);
            cs_household_bulk_free(b);
            return cs_error_set(err, CS_E_CRYPTO, "sealing failed");
        }
    /* repeated citizen IDs: sort positions by (index, position) */
    for (size_t i = 0; i < n; i++)
        order[i] = i, b->prev[i] = SIZE_MAX;
    bulk_sort_rows = b->br;
    qsort(order, n, sizeof *order, bulk_cmp);
    for (size_t k = 1; k < n; k++)
        if (rows[order[k]] && rows[order[k - 1]] &&
            !memcmp(b->br[order[k]].bidx, b->br[order[k - 1]].bidx, 32))
            b->prev[order[k]] = order[k - 1];
    cs_free(order);
    *out = b;
    return 0;
}

struct cs_household_known {
    unsigned char (*bidx)[32]; /* sorted */
    size_t n;
};

static int bidx_cmp(const void *x, const void *y)
{
    return memcmp(x, y, 32);
}

static int known_has(const cs_household_known *k, const unsigned char bidx[32])
{
    return bsearch(bidx, k->bidx, k->n, sizeof *k->bidx, bidx_cmp) != NULL;
}

void cs_household_known_free(cs_household_known *k)
{
    if (!k) return;
    cs_free(k->bidx);
    cs_free(k);
}

static int known_load(cs_db *db, size_t max, cs_household_known **out, cs_error *err)
{
    *out = NULL;
    cs_rows *r = NULL;
    if (max ? cs_db_query(db, &r, SQL_KNOWN_UPTO, "i", (int64_t)max + 1, err)
            : cs_db_query(db, &r, SQL_KNOWN, "", err))
        return -1;
    size_t n = cs_rows_count(r);
    if (max && n > max) { /* too many to hold: no snapshot, every row is looked up */
        cs_rows_free(r);
        return 0;
    }
    cs_household_known *k = cs_calloc(1, sizeof *k);
    if (k) k->bidx = cs_malloc((n ? n : 1) * sizeof *k->bidx);
    if (!k || !k->bidx) {
        cs_rows_free(r);
        cs_household_known_free(k);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = 0;
        const void *p = cs_rows_blob(r, i, KN_BIDX, &l);
        if (l != 32) continue;
        memcpy(k->bidx[k->n++], p, 32);
    }
    cs_rows_free(r);
    qsort(k->bidx, k->n, sizeof *k->bidx, bidx_cmp);
    *out = k;
    return 0;
}

int cs_household_known_load(cs_db *db, cs_household_known **out, cs_error *err)
{
    return known_load(db, 0, out, err);
}

int cs_household_known_load_upto(cs_db *db, size_t max, cs_household_known **out, cs_error *err)
{
    return known_load(db, max, out, err);
}

int cs_household_bulk_write(cs_db *db, const cs_actor *a, cs_household_bulk *b,
                            const cs_household_known *known, int64_t import_id,
                            cs_household_result *res, cs_code *row_err, cs_error *err)
{
    size_t n = b->n;
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        if (row_err) row_err[i] = CS_OK;
    }
    if (!n) return 0;
    cs_rows *communes = NULL;
    if (cs_db_query(db, &communes, SQL_COMMUNES, "", err)) return -1;
    /* split before a citizen ID already seen in the current segment: cs_household_upsert on each
       row in order would update the first with the second */
    int rc = 0;
    size_t start = 0;
    while (start < n && !rc) {
        size_t end = start + 1;
        while (end < n && (b->prev[end] == SIZE_MAX || b->prev[end] < start))
            end++;
        rc = bulk_segment(db, a, b->rows + start, b->br + start, end - start, b->sealed, known,
                          import_id, res + start, row_err ? row_err + start : NULL, communes, err);
        start = end;
    }
    cs_rows_free(communes);
    return rc;
}

int cs_household_upsert_bulk(cs_db *db, const cs_actor *a, cs_household_norm *const *rows, size_t n,
                             int64_t import_id, cs_household_result *res, cs_code *row_err,
                             cs_error *err)
{
    cs_household_bulk *b = NULL;
    if (cs_household_bulk_prepare(rows, n, 0, NULL, &b, err)) return -1;
    int rc = cs_household_bulk_write(db, a, b, NULL, import_id, res, row_err, err);
    cs_household_bulk_free(b);
    return rc;
}
