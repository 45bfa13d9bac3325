/* service/cli_token: `choso token create|list|revoke` — API tokens for staff and volunteers.
 * The token text is printed once and never stored (only its SHA-256); no HTTP here. */
#include "core/access.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/mem.h"
#include "service/auth.h"
#include "service/cli.h"
#include "core/jspec.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tokens start with this tag so people and secret scanners recognise a leaked one. */
#define TOKEN_PREFIX "choso_"
#define MAX_COMMUNES 200

static void token_help(void)
{
    printf(
        "usage: choso token create --role admin|monitor|volunteer [--commune CODE]... --name TEXT\n"
        "                          [--expires-days N] [--config FILE]\n"
        "       choso token list [--config FILE]\n"
        "       choso token revoke ID [--config FILE]\n\n"
        "create prints the new token once on standard output (keep it: only its hash is stored).\n"
        "A volunteer token needs at least one --commune (5-digit code of a commune/ward of\n"
        "Thanh Hóa) and may only work there; admin and monitor tokens take no commune.\n"
        "list shows every token without secrets; revoke takes effect on the next request.\n");
}

static void print_err(const char *what, const cs_error *e)
{
    fprintf(stderr, "choso token %s: %s [%s]%s%s\n", what, cs_code_message(e->code, CS_LANG_EN),
            cs_code_name(e->code), e->detail[0] ? ": " : "", e->detail);
    for (size_t i = 0; i < e->nfields; i++)
        fprintf(stderr, "  %s: %s [%s]%s%s\n", e->fields[i].field,
                cs_code_message(e->fields[i].code, CS_LANG_EN), cs_code_name(e->fields[i].code),
                e->fields[i].detail[0] ? " " : "", e->fields[i].detail);
}

static cs_actor cli_actor(void)
{
    cs_actor a;
    memset(&a, 0, sizeof a);
    a.kind = CS_ACTOR_CLI;
    snprintf(a.id, sizeof a.id, "token");
    return a;
}

static int token_create(int argc, char **argv, const char *config)
{
    cs_token_new a;
    memset(&a, 0, sizeof a);
    const char *communes[MAX_COMMUNES];
    a.communes = communes;
    a.commune_field = "--commune";
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--role") && v)
            a.role = v, i++;
        else if (!strcmp(o, "--name") && v)
            a.name = v, i++;
        else if (!strcmp(o, "--commune") && v) {
            if (a.ncommunes == MAX_COMMUNES) return cli_usage_error("token", "too many --commune");
            communes[a.ncommunes++] = v;
            i++;
        } else if (!strcmp(o, "--expires-days") && v) {
            char *end;
            errno = 0;
            a.expires_days = strtol(v, &end, 10);
            if (errno || *end || a.expires_days < 1 || a.expires_days > 3650)
                return cli_usage_error("token", "--expires-days must be 1..3650");
            i++;
        } else {
            return cli_usage_error("token", "unknown or incomplete option '%s'", o);
        }
    }
    unsigned role = svc_role_from_name(a.role);
    if (!role) return cli_usage_error("token", "--role must be admin, monitor or volunteer");
    if (!a.name || !*a.name)
        return cli_usage_error("token", "--name TEXT is required (who holds the token)");
    if (!cs_utf8_valid(a.name, strlen(a.name)) || cs_utf8_len(a.name, strlen(a.name)) > 100)
        return cli_usage_error("token", "--name must be UTF-8 text of at most 100 characters");
    if (role == SVC_ROLE_VOLUNTEER && !a.ncommunes)
        return cli_usage_error("token", "a volunteer token needs at least one --commune CODE");
    if (role != SVC_ROLE_VOLUNTEER && a.ncommunes)
        return cli_usage_error("token", "only volunteer tokens are limited to communes");

    int rc = cli_setup(config, 0);
    if (rc) return rc;
    char raw[44], token[64];
    if (cs_random_token(raw)) {
        fprintf(stderr, "choso token create: no randomness available\n");
        return 1;
    }
    snprintf(token, sizeof token, TOKEN_PREFIX "%s", raw);
    cs_token_hash(token, a.hash);

    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        print_err("create", &err);
        return 1;
    }
    cs_actor actor = cli_actor();
    int64_t id = 0;
    rc = cs_token_create(db, &actor, &a, &id, &err);
    cs_db_close(db);
    if (rc) {
        print_err("create", &err);
        memset(token, 0, sizeof token);
        return 1;
    }
    fprintf(stderr, "token %lld created (role %s%s%s); it is shown only now:\n", (long long)id,
            a.role, a.ncommunes ? ", communes " : "", a.ncommunes ? communes[0] : "");
    for (size_t i = 1; i < a.ncommunes; i++)
        fprintf(stderr, "  + commune %s\n", communes[i]);
    printf("%s\n", token);
    fflush(stdout);
    memset(token, 0, sizeof token);
    memset(raw, 0, sizeof raw);
    return 0;
}

static void print_header(void)
{
    printf("%-6s %-10s %-8s %-17s %-10s %-17s %-20s %s\n", "ID", "ROLE", "STATE", "CREATED (UTC)",
           "EXPIRES", "LAST USED (UTC)", "COMMUNES", "NAME");
}

/* One line per token; the header comes with the first (nothing reaches standard output when the
 * list cannot be read). */
static void print_token(void *arg, const cs_token_info *t)
{
    int *header_done = arg;
    if (!*header_done) print_header();
    *header_done = 1;
    printf("%-6s %-10s %-8s %-17s %-10s %-17s %-20s %s\n", t->id, t->role, t->state, t->created,
           t->expires, t->last_used, t->communes, t->name);
}

static int token_list(const char *config)
{
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        print_err("list", &err);
        return 1;
    }
    int header_done = 0;
    rc = cs_token_list_each(db, print_token, &header_done, &err);
    cs_db_close(db);
    if (rc) {
        print_err("list", &err);
        return 1;
    }
    if (!header_done) print_header();
    return 0;
}

static int token_revoke(const char *idtext, const char *config)
{
    char *end;
    errno = 0;
    long long id = strtoll(idtext, &end, 10);
    if (errno || *end || id < 1)
        return cli_usage_error("token", "revoke needs a token ID (see choso token list)");
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        print_err("revoke", &err);
        return 1;
    }
    cs_actor actor = cli_actor();
    int outcome = cs_token_revoke(db, &actor, id, &err);
    cs_db_close(db);
    if (outcome < 0) {
        print_err("revoke", &err);
        return 1;
    }
    if (outcome == CS_TOKEN_UNKNOWN) {
        fprintf(stderr, "choso token revoke: no token %lld\n", id);
        return 1;
    }
    printf(outcome == CS_TOKEN_REVOKED ? "token %lld revoked\n"
                                       : "token %lld was already revoked\n",
           id);
    return 0;
}

int cmd_token(int argc, char **argv)
{
    /* Pull --config out wherever it is; the rest belongs to the action. */
    const char *config = NULL;
    char **rest = cs_calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return 1;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            config = argv[i] + 9;
        else
            rest[n++] = argv[i];
    }
    int rc;
    if (n == 0 || !strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") ||
        !strcmp(rest[0], "help")) {
        token_help();
        rc = n == 0 ? CLI_EX_USAGE : 0;
    } else if (!strcmp(rest[0], "create")) {
        rc = token_create(n - 1, rest + 1, config);
    } else if (!strcmp(rest[0], "list") && n == 1) {
        rc = token_list(config);
    } else if (!strcmp(rest[0], "revoke") && n == 2) {
        rc = token_revoke(rest[1], config);
    } else {
        rc = cli_usage_error("token", "expected create, list or revoke ID");
    }
    cs_free(rest);
    return rc;
}
