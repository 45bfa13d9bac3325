/* cli/cmd_token: `choso token create|list|revoke` — API tokens for staff and volunteers.
 * The token text is printed once and never stored (only its SHA-256); no HTTP here. */
#include "core/access.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/mem.h"
#include "cli/cli.h"
#include "service/auth.h"
#include "core/jspec.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tokens start with this tag so people and secret scanners recognise a leaked one. */
#define TOKEN_PREFIX "choso_"
#define MAX_COMMUNES 200

static int token_create(const cs_token_new *args, const char *config)
{
    cs_token_new a = *args;
    const char *const *communes = a.communes;
    unsigned role = svc_role_from_name(a.role);
    if (!role)
        return cli_usage("token", "'--role' phải là admin, monitor hoặc volunteer",
                         "'--role' must be admin, monitor or volunteer");
    if (!a.name || !*a.name)
        return cli_usage("token", "cần '--name TEXT' (ai giữ mã này)",
                         "'--name TEXT' is required (who holds the token)");
    if (!cs_utf8_valid(a.name, strlen(a.name)) || cs_utf8_len(a.name, strlen(a.name)) > 100)
        return cli_usage("token", "'--name' phải là văn bản UTF-8 tối đa 100 ký tự",
                         "'--name' must be UTF-8 text of at most 100 characters");
    if (role == SVC_ROLE_VOLUNTEER && !a.ncommunes)
        return cli_usage("token", "mã của tình nguyện viên cần ít nhất một '--commune CODE'",
                         "a volunteer token needs at least one '--commune CODE'");
    if (role != SVC_ROLE_VOLUNTEER && a.ncommunes)
        return cli_usage("token", "chỉ mã của tình nguyện viên mới giới hạn theo xã",
                         "only volunteer tokens are limited to communes");

    char raw[44], token[64];
    if (cs_random_token(raw)) {
        fprintf(stderr, "choso token create: no randomness available\n");
        return 1;
    }
    snprintf(token, sizeof token, TOKEN_PREFIX "%s", raw);
    cs_token_hash(token, a.hash);

    int rc;
    cs_db *db = cli_connect("token create", config, 0, &rc);
    if (!db) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_actor actor = cs_actor_cli("token");
    int64_t id = 0;
    rc = cs_token_create(db, &actor, &a, &id, &err);
    cs_db_close(db);
    if (rc) {
        cli_print_error("token create", &err);
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
    int rc;
    cs_db *db = cli_connect("token list", config, 0, &rc);
    if (!db) return rc;
    cs_error err;
    cs_error_clear(&err);
    int header_done = 0;
    rc = cs_token_list_each(db, print_token, &header_done, &err);
    cs_db_close(db);
    if (rc) {
        cli_print_error("token list", &err);
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
        return cli_usage("token", "revoke cần số ID của mã (xem choso token list)",
                         "revoke needs a token ID (see choso token list)");
    int rc;
    cs_db *db = cli_connect("token revoke", config, 0, &rc);
    if (!db) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_actor actor = cs_actor_cli("token");
    int outcome = cs_token_revoke(db, &actor, id, &err);
    cs_db_close(db);
    if (outcome < 0) {
        cli_print_error("token revoke", &err);
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
    const char *config = NULL, *pos[2] = {NULL, NULL};
    const char *communes[MAX_COMMUNES];
    cs_opt_list cl = {communes, 0, MAX_COMMUNES};
    cs_token_new a;
    memset(&a, 0, sizeof a);
    int64_t days = 0;
    size_t npos = 0;
    const cs_opt opts[] = {
        {"--role", NULL, CS_OPT_STR, 0, 0, &a.role, "admin|monitor|volunteer",
         "create: the token's role"},
        {"--name", NULL, CS_OPT_STR, 0, 0, &a.name, "TEXT", "create: who holds the token"},
        {"--commune", NULL, CS_OPT_LIST, 0, 0, &cl, "CODE",
         "create: a commune/ward (5-digit code) a volunteer token works in; repeat for more"},
        {"--expires-days", NULL, CS_OPT_INT, 1, 3650, &days, "N",
         "create: the token stops working after N days"},
        {"--config", NULL, CS_OPT_STR, 0, 0, &config, "FILE",
         "settings file (default: CHOSO_CONFIG)"},
        {0},
    };
    CLI_PARSE_OR_RETURN(
        "token", "create|list|revoke [ID] [options]",
        "create prints the new token once on standard output (keep it: only its hash is stored).\n"
        "A volunteer token needs at least one --commune (5-digit code of a commune/ward of\n"
        "Thanh Hóa) and may only work there; admin and monitor tokens take no commune.\n"
        "list shows every token without secrets; revoke ID takes effect on the next request.",
        opts, argc, argv, pos, 2, &npos);
    a.communes = communes;
    a.ncommunes = cl.n;
    a.expires_days = days;
    a.commune_field = "--commune";
    const char *action = npos ? pos[0] : "";
    int create_opts = a.role || a.name || cl.n || days;
    if (!strcmp(action, "create") && npos == 1) return token_create(&a, config);
    if (create_opts && npos)
        return cli_usage("token",
                         "'--role', '--name', '--commune', '--expires-days' chỉ dùng với create",
                         "'--role', '--name', '--commune', '--expires-days' go with create only");
    if (!strcmp(action, "list") && npos == 1) return token_list(config);
    if (!strcmp(action, "revoke") && npos == 2) return token_revoke(pos[1], config);
    return cli_usage("token", "hãy ghi create, list hoặc revoke ID",
                     "expected create, list or revoke ID");
}
