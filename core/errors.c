/* core/errors: registry look-ups and the cs_error helpers. */
#include "core/errors.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int status;
    const char *msg[2];
} registry[] = {
#define X(e, code, status, vi, en) {code, status, {vi, en}},
#include "core/errors.def"
#undef X
};

void cs_error_clear(cs_error *e)
{
    memset(e, 0, sizeof *e);
    e->code = CS_OK;
}

int cs_error_set(cs_error *e, cs_code code, const char *fmt, ...)
{
    if (!e) return -1;
    e->code = code;
    e->detail[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof e->detail, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int cs_error_field(cs_error *e, const char *field, cs_code code, const char *detail)
{
    if (!e) return -1;
    if (e->code == CS_OK) e->code = CS_E_VALIDATION;
    if (e->nfields >= CS_MAX_FIELD_ERRORS) return -1;
    cs_field_error *f = &e->fields[e->nfields++];
    snprintf(f->field, sizeof f->field, "%s", field ? field : "");
    f->code = code;
    snprintf(f->detail, sizeof f->detail, "%s", detail ? detail : "");
    return -1;
}

int cs_error_failed(const cs_error *e)
{
    return e && e->code != CS_OK;
}

const char *cs_code_name(cs_code c)
{
    return (unsigned)c < CS_CODE__COUNT ? registry[c].name : "internal";
}

int cs_code_status(cs_code c)
{
    return (unsigned)c < CS_CODE__COUNT ? registry[c].status : 500;
}

const char *cs_code_message(cs_code c, cs_lang lang)
{
    if ((unsigned)c >= CS_CODE__COUNT) c = CS_E_INTERNAL;
    return registry[c].msg[lang == CS_LANG_EN ? 1 : 0];
}

cs_code cs_code_from_name(const char *name)
{
    for (unsigned i = 0; name && i < CS_CODE__COUNT; i++)
        if (!strcmp(registry[i].name, name)) return (cs_code)i;
    return CS_CODE__COUNT;
}

cs_lang cs_lang_from_header(const char *al)
{
    if (!al) return CS_LANG_VI;
    while (*al == ' ' || *al == '\t')
        al++;
    /* The first listed language wins; q-values are not weighed (vi and en only). "en" must be
     * the whole primary tag: "en", "en-US", "en;q=0.8", not "eo" or "enm". */
    if (strncasecmp(al, "en", 2) != 0) return CS_LANG_VI;
    char next = al[2];
    return next == '\0' || next == '-' || next == '_' || next == ',' || next == ';' ||
                   next == ' ' || next == '\t'
               ? CS_LANG_EN
               : CS_LANG_VI;
}
