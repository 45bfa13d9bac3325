/* core/errors: registry look-ups and the cs_error helpers. */
#include "core/errors.h"
#include <stdarg.h>
#include <ctype.h>
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

/* English detail words → Vietnamese, whole detail or after a "max"/"min"/"expected" prefix. */
static const struct {
    const char *en, *vi;
} detail_words[] = {
    {"integer", "số nguyên"},
    {"string", "chuỗi chữ"},
    {"boolean", "có/không"},
    {"number", "số"},
    {"object", "đối tượng JSON"},
    {"array", "danh sách"},
    {"characters", "ký tự"},
    {"items", "mục"},
    {"letters only", "chỉ gồm chữ cái"},
    {"digits in a name", "tên có chữ số"},
    {"listed twice", "ghi hai lần"},
    {"disabled", "sàn đang tắt"},
    {"5 digits", "5 chữ số"},
    {"a job id", "mã công việc"},
    {"a JSON object", "một đối tượng JSON"},
    {"power of two", "lũy thừa của 2"},
    {"unknown setting", "thiết lập không tồn tại"},
    {"each image of the product exactly once", "mỗi ảnh của sản phẩm đúng một lần"},
    {"max 10 strings of 200", "tối đa 10 mục, mỗi mục 200 ký tự"},
    /* states, as they appear in details and messages */
    {"not_started", "chưa mở gian hàng"},
    {"awaiting_owner", "đang chờ chủ hộ"},
    {"authorized", "đã cho phép, đang kích hoạt"},
    {"active", "đang hoạt động"},
    {"rejected", "bị từ chối"},
    {"suspended", "bị tạm khoá"},
    {"token_expired", "hết hạn uỷ quyền"},
    {"pending_verification", "đang kiểm tra trên sàn"},
    {"verification_failed", "chưa kiểm tra được trên sàn"},
};

static const char *word_vi(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof detail_words / sizeof detail_words[0]; i++)
        if (strlen(detail_words[i].en) == n && !strncmp(detail_words[i].en, w, n))
            return detail_words[i].vi;
    return NULL;
}

const char *cs_detail_text(const char *detail, cs_lang lang, char *out, size_t outsz)
{
    if (!outsz) return out;
    snprintf(out, outsz, "%s", detail ? detail : "");
    if (lang != CS_LANG_VI || !detail || !*detail) return out;
    const char *vi = word_vi(detail, strlen(detail));
    if (vi) {
        snprintf(out, outsz, "%s", vi);
        return out;
    }
    /* "max N[ unit]", "min N[ unit]", "expected T[, got null]", "A..B", "…(state)" */
    static const struct {
        const char *en, *vi;
    } prefix[] = {{"max ", "tối đa "}, {"min ", "tối thiểu "}, {"expected ", "phải là "}};
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        size_t pl = strlen(prefix[i].en);
        if (strncmp(detail, prefix[i].en, pl)) continue;
        const char *rest = detail + pl;
        if (i < 2) { /* a number, then maybe a unit */
            size_t d = strspn(rest, "0123456789");
            if (!d) break;
            const char *unit = rest[d] == ' ' ? rest + d + 1 : rest + d;
            const char *uv = *unit ? word_vi(unit, strlen(unit)) : "";
            if (!uv) break;
            snprintf(out, outsz, "%s%.*s%s%s", prefix[i].vi, (int)d, rest, *uv ? " " : "", uv);
            return out;
        }
        size_t tl = strcspn(rest, ",");
        const char *tv = word_vi(rest, tl);
        if (!tv) break;
        snprintf(out, outsz, "%s%s%s", prefix[i].vi, tv, rest[tl] ? " (đang để trống)" : "");
        return out;
    }
    const char *dots = strstr(detail, "..");
    if (dots && dots > detail && strspn(detail, "-0123456789") == (size_t)(dots - detail) &&
        dots[2] && strspn(dots + 2, "-0123456789") == strlen(dots + 2)) {
        snprintf(out, outsz, "từ %.*s đến %s", (int)(dots - detail), detail, dots + 2);
        return out;
    }
    /* a state named inside a sentence: "(trạng thái: not_started)" */
    for (size_t i = 0; i < sizeof detail_words / sizeof detail_words[0]; i++) {
        const char *en = detail_words[i].en;
        if (!strchr(en, '_') && strcmp(en, "active") && strcmp(en, "rejected") &&
            strcmp(en, "suspended") && strcmp(en, "authorized"))
            continue;
        const char *at = strstr(detail, en);
        size_t el = strlen(en);
        if (!at || (at > detail && (isalnum((unsigned char)at[-1]) || at[-1] == '_')) ||
            isalnum((unsigned char)at[el]) || at[el] == '_')
            continue;
        snprintf(out, outsz, "%.*s%s%s", (int)(at - detail), detail, detail_words[i].vi, at + el);
        return out;
    }
    return out;
}
