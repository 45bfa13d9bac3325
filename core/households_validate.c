/* core/households_validate: the field rules of a household — one declarative table (core/jspec)
 * read by API bodies and spreadsheet rows alike — and the normalised form they produce. Pure
 * apart from today's date and the configuration: no database, no I/O. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/households_int.h"
#include "core/jspec.h"
#include "core/mem.h"
#include <stdio.h>
#include <string.h>

/* The input keys in the order of their CS_HF_* bits. */
static const char *const hh_keys[] = {"owner_name",
                                      "cccd",
                                      "phone",
                                      "birth_date",
                                      "commune_code",
                                      "address",
                                      "business_name",
                                      "business_reg_no",
                                      "tax_code",
                                      "has_epayment",
                                      "consent",
                                      "consent_version",
                                      NULL};

/* What the checks fill while one input is checked (the table is shared; this is per call). */
typedef struct hh_ctx {
    cs_household_norm *n;
    int consent_seen; /* consent was given as a boolean (true or false) */
} hh_ctx;

void cs_household_norm_free(cs_household_norm *n)
{
    if (!n) return;
    cs_free(n->owner_name);
    cs_free(n->name_folded);
    if (n->address) cs_free_secret(n->address, strlen(n->address));
    cs_free(n->business_name);
    cs_free(n->business_reg_no);
    cs_free(n->tax_code);
    memset(n, 0, sizeof *n);
}

static int no_memory(const char *field, cs_error *err)
{
    cs_error_set(err, CS_E_NOMEM, NULL);
    return cs_error_field(err, field, CS_E_NOMEM, NULL);
}

/* *dst = a copy of the (already cleaned and length-checked) text. 0 or -1. */
static int keep(const char *field, const json_t *v, char **dst, cs_error *err)
{
    *dst = cs_strdup(json_string_value(v));
    return *dst ? 0 : no_memory(field, err);
}

static int all_chars(const char *s, const char *set)
{
    for (; *s; s++)
        if (!strchr(set, *s)) return 0;
    return 1;
}

static int check_owner_name(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    if (keep(field, v, &n->owner_name, err)) return -1;
    if (!(n->name_folded = vn_fold(n->owner_name))) return no_memory(field, err);
    vn_key_cap(n->name_folded, CS_HH_NAME_KEY_MAX);
    if (strpbrk(n->owner_name, "0123456789<>{}[]@#$%^*=\\|"))
        return cs_error_field(err, field, CS_F_FORMAT, "letters only");
    return 0;
}

/* Checked before the CCCD, whose digits 4–6 must agree with the birth year. */
static int check_birth_date(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    cs_code why;
    if (vn_date_parse(json_string_value(v), 1, &n->birth, &why)) {
        n->birth.y = 0;
        return cs_error_field(err, field, why, NULL);
    }
    vn_date today = vn_today();
    int age = vn_age_on(n->birth, today);
    n->owner_age = age;
    n->youth_led = age >= cs_cfg_int("youth.min_age") && age <= cs_cfg_int("youth.max_age");
    if (n->birth.y * 10000 + n->birth.m * 100 + n->birth.d >
        today.y * 10000 + today.m * 100 + today.d) {
        n->birth.y = 0;
        return cs_error_field(err, field, CS_F_DATE_FUTURE, NULL);
    }
    if (age < cs_cfg_int("owner.min_age") || age > 120) {
        char d[48];
        snprintf(d, sizeof d, "min %ld", cs_cfg_int("owner.min_age"));
        return cs_error_field(err, field, CS_F_AGE, d);
    }
    return 0;
}

static int check_cccd(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    cs_code why;
    if (vn_cccd_normalize(json_string_value(v), n->birth.y, n->cccd, &why))
        return cs_error_field(err, field, why, NULL);
    return 0;
}

static int check_phone(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    cs_code why;
    if (vn_phone_normalize(json_string_value(v), n->phone, &why))
        return cs_error_field(err, field, why, NULL);
    return 0;
}

/* Five digits; whether the commune exists is the database's to say. */
static int check_commune(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    const char *c = json_string_value(v);
    if (strlen(c) != 5 || !all_chars(c, "0123456789"))
        return cs_error_field(err, field, CS_F_COMMUNE, NULL);
    memcpy(n->commune_code, c, 6);
    return 0;
}

static int check_address(const char *field, const json_t *v, void *arg, cs_error *err)
{
    return keep(field, v, &((hh_ctx *)arg)->n->address, err);
}

static int check_business_name(const char *field, const json_t *v, void *arg, cs_error *err)
{
    return keep(field, v, &((hh_ctx *)arg)->n->business_name, err);
}

/* Blank after cleaning: none given. */
static int check_reg_no(const char *field, const json_t *v, void *arg, cs_error *err)
{
    const char *c = json_string_value(v);
    if (!*c) return 0;
    if (strlen(c) > 32 ||
        !all_chars(c, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/-."))
        return cs_error_field(err, field, CS_F_FORMAT, NULL);
    return keep(field, v, &((hh_ctx *)arg)->n->business_reg_no, err);
}

/* 10 digits, 10-3 for a branch, or (since 2025) the 12-digit personal ID number. */
static int check_tax_code(const char *field, const json_t *v, void *arg, cs_error *err)
{
    const char *c = json_string_value(v);
    if (!*c) return 0;
    size_t l = strlen(c);
    int ok = (l == 10 || l == 12) ? all_chars(c, "0123456789")
             : l == 14            ? (c[10] == '-' && all_chars(c + 11, "0123456789") &&
                          strspn(c, "0123456789") == 10)
                                  : 0;
    if (!ok) return cs_error_field(err, field, CS_F_FORMAT, "0123456789 | 0123456789-001");
    return keep(field, v, &((hh_ctx *)arg)->n->tax_code, err);
}

static int check_epayment(const char *field, const json_t *v, void *arg, cs_error *err)
{
    (void)field, (void)err;
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    n->present |= CS_HF_EPAY;
    n->has_epayment = json_is_true(v);
    return 0;
}

/* Consent cannot be given as "no"; its absence is judged after the table (updates keep it). */
static int check_consent(const char *field, const json_t *v, void *arg, cs_error *err)
{
    hh_ctx *c = arg;
    c->consent_seen = 1;
    c->n->present |= CS_HF_CONSENT;
    if (!json_is_true(v)) return cs_error_field(err, field, CS_F_CONSENT, NULL);
    c->n->consent = 1;
    return 0;
}

static int check_consent_version(const char *field, const json_t *v, void *arg, cs_error *err)
{
    cs_household_norm *n = ((hh_ctx *)arg)->n;
    const char *s = json_string_value(v);
    if (!*s || strlen(s) > 20) return cs_error_field(err, field, CS_F_FORMAT, "max 20");
    snprintf(n->consent_version, sizeof n->consent_version, "%s", s);
    return 0;
}

/* The field rules. Cells of a spreadsheet arrive as text, numbers or nothing: an empty cell is
 * null (absent), a number is taken as its digits where digits are meant (commune, tax and
 * registration codes; a birth date given as a number goes to the date parser as its digits),
 * booleans as có/không/x/1/0. Lengths count the cleaned text (CS_JF_CLEAN).
 * check_arg is filled per call (hh_ctx); the order matters once: birth_date before cccd. */
enum { HH_F_COUNT = 12 };
#define HH_IN (CS_JF_NULL_ABSENT)
static const cs_jfield hh_spec[HH_F_COUNT + 1] = {
    {.name = "owner_name",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_REQUIRED | CS_JF_CLEAN,
     .min_len = 2,
     .max_len = 100,
     .check = check_owner_name},
    {.name = "birth_date",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_REQUIRED | CS_JF_INT_TEXT,
     .check = check_birth_date},
    {.name = "cccd", .type = CS_J_STRING, .flags = HH_IN | CS_JF_REQUIRED, .check = check_cccd},
    {.name = "phone", .type = CS_J_STRING, .flags = HH_IN | CS_JF_REQUIRED, .check = check_phone},
    {.name = "commune_code",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_REQUIRED | CS_JF_INT_TEXT | CS_JF_CLEAN,
     .check = check_commune},
    {.name = "address",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_EMPTY_ABSENT | CS_JF_CLEAN,
     .min_len = 1,
     .max_len = 300,
     .check = check_address},
    {.name = "business_name",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_EMPTY_ABSENT | CS_JF_CLEAN,
     .min_len = 1,
     .max_len = 200,
     .check = check_business_name},
    {.name = "business_reg_no",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_INT_TEXT | CS_JF_CLEAN,
     .check = check_reg_no},
    {.name = "tax_code",
     .type = CS_J_STRING,
     .flags = HH_IN | CS_JF_INT_TEXT | CS_JF_CLEAN,
     .check = check_tax_code},
    {.name = "has_epayment", .type = CS_J_BOOLISH, .flags = HH_IN, .check = check_epayment},
    {.name = "consent", .type = CS_J_BOOLISH, .flags = HH_IN, .check = check_consent},
    {.name = "consent_version",
     .type = CS_J_STRING,
     .flags = HH_IN,
     .check = check_consent_version},
    {.name = NULL},
};

static int has_field_error(const cs_error *err, size_t from, const char *field)
{
    for (size_t i = from; i < err->nfields; i++)
        if (!strcmp(err->fields[i].field, field)) return 1;
    return 0;
}

int cs_household_validate(json_t *in, int partial, cs_household_norm *n, cs_error *err)
{
    memset(n, 0, sizeof *n);
    if (!json_is_object(in)) return cs_error_set(err, CS_E_BAD_REQUEST, "expected a JSON object");
    size_t before = err->nfields;
    hh_ctx ctx = {n, 0};
    cs_jfield spec[HH_F_COUNT + 1];
    memcpy(spec, hh_spec, sizeof spec);
    for (size_t i = 0; i < HH_F_COUNT; i++)
        spec[i].check_arg = &ctx;
    cs_json_check(in, spec, err);
    if (!ctx.consent_seen && !partial && !has_field_error(err, before, "consent"))
        cs_error_field(err, "consent", CS_F_CONSENT, NULL);
    /* the keys given (the audit lists them); booleans count only when given as one */
    for (unsigned i = 0; hh_keys[i]; i++) {
        json_t *v = json_object_get(in, hh_keys[i]);
        if (v && !json_is_null(v) && (1u << i) != CS_HF_EPAY && (1u << i) != CS_HF_CONSENT)
            n->present |= 1u << i;
    }
    if (!n->consent_version[0])
        snprintf(n->consent_version, sizeof n->consent_version, "%s",
                 cs_cfg_str("consent.version"));
    if (err->nfields > before || err->code != CS_OK) {
        if (err->code == CS_OK) err->code = CS_E_VALIDATION;
        cs_household_norm_free(n);
        return -1;
    }
    return 0;
}

void cs_household_commune(const json_t *in, char out[6])
{
    out[0] = '\0';
    const json_t *v = json_is_object(in) ? json_object_get(in, "commune_code") : NULL;
    if (!v) return;
    cs_household_norm n;
    memset(&n, 0, sizeof n);
    hh_ctx ctx = {&n, 0};
    cs_jfield spec[2] = {{.name = NULL}, {.name = NULL}};
    for (const cs_jfield *f = hh_spec; f->name && !spec[0].name; f++)
        if (!strcmp(f->name, "commune_code")) spec[0] = *f;
    spec[0].check_arg = &ctx;
    json_t *one = json_pack("{s:O}", "commune_code", (json_t *)v);
    cs_error e;
    cs_error_clear(&e);
    if (one && !cs_json_check(one, spec, &e)) memcpy(out, n.commune_code, 6);
    json_decref(one);
}

int cs_hh_unknown_keys(const json_t *in, cs_error *err)
{
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)in, k, v)
    {
        int known = 0;
        for (const char *const *a = hh_keys; *a && !known; a++)
            known = !strcmp(*a, k);
        if (!known) rc = cs_error_field(err, k, CS_F_UNKNOWN, NULL);
    }
    return rc;
}

unsigned cs_hh_key_bits(const json_t *in)
{
    unsigned bits = 0;
    for (unsigned i = 0; hh_keys[i]; i++)
        if (json_object_get(in, hh_keys[i])) bits |= 1u << i;
    return bits;
}

json_t *cs_hh_field_names(unsigned present)
{
    json_t *a = json_array();
    for (unsigned i = 0; hh_keys[i]; i++)
        if (present & (1u << i)) json_array_append_new(a, json_string(hh_keys[i]));
    return a;
}

int cs_household_content_hash(const cs_household_norm *n, unsigned char out[32])
{
    char date[11];
    vn_date_iso(n->birth, date);
    size_t cap = 2048;
    char *s = cs_malloc(cap);
    if (!s) return -1;
    snprintf(s, cap, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%d",
             n->owner_name ? n->owner_name : "", n->cccd, n->phone, date, n->commune_code,
             n->address ? n->address : "", n->business_name ? n->business_name : "",
             n->business_reg_no ? n->business_reg_no : "", n->tax_code ? n->tax_code : "",
             n->has_epayment);
    int rc = cs_blind_index("household-content", s, out);
    cs_free_secret(s, cap);
    return rc;
}
