/* service/cli_token: `choso token create|list|revoke` — API tokens for staff and volunteers.
 * The token text is printed once and never stored (only its SHA-256); no HTTP here. */
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
    printf("usage: choso token create --role admin|monitor|volunteer [--commune CODE]... --name TEXT\n"
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

struct create_args {
    const char *role;
    const char *name;
    const char **communes;
    size_t ncommunes;
    long expires_days;
    unsigned char hash[32];
    int64_t id; /* out */
};

static int create_tx(cs_db *db, void *arg, cs_error *err)
{
    struct create_args *a = arg;
    for (size_t i = 0; i < a->ncommunes; i++) {
        int64_t n = 0;
        int rc = cs_db_scalar_i64(db, &n, "SELECT COUNT(*) FROM admin_units WHERE code = ?", "s",
                                  a->communes[i], err);
        if (rc < 0) return -1;
        if (n != 1) cs_error_field(err, "--commune", CS_F_COMMUNE, a->communes[i]);
    }
    if (err->nfields) return -1;
    int64_t n;
    if (a->expires_days > 0)
        n = cs_db_exec(db,
                       "INSERT INTO tokens (name, role, token_hash, created_at, expires_at)"
                       " VALUES (?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL ? DAY)",
                       "ssbi", a->name, a->role, a->hash, sizeof a->hash, (int64_t)a->expires_days, err);
    else
        n = cs_db_exec(db,
                       "INSERT INTO tokens (name, role, token_hash, created_at)"
                       " VALUES (?, ?, ?, UTC_TIMESTAMP())",
                       "ssb", a->name, a->role, a->hash, sizeof a->hash, err);
    if (n < 0) return -1;
    a->id = (int64_t)cs_db_insert_id(db);
    json_t *communes = json_array();
    for (size_t i = 0; i < a->ncommunes; i++) {
        if (cs_db_exec(db, "INSERT IGNORE INTO token_communes (token_id, commune_code) VALUES (?, ?)",
                       "is", a->id, a->communes[i], err) < 0) {
            json_decref(communes);
            return -1;
        }
        json_array_append_new(communes, json_string(a->communes[i]));
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    cs_actor actor = cli_actor();
    /* The name may be a person's: the audit row keeps the role and the scope only. */
    return cs_audit(db, &actor, "token.create", "token", id,
                    json_pack("{s:s, s:o, s:I}", "role", a->role, "communes", communes,
                              "expires_days", (json_int_t)a->expires_days),
                    err);
}

static int token_create(int argc, char **argv, const char *config)
{
    struct create_args a;
    memset(&a, 0, sizeof a);
    const char *communes[MAX_COMMUNES];
    a.communes = communes;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--role") && v) a.role = v, i++;
        else if (!strcmp(o, "--name") && v) a.name = v, i++;
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
    if (!a.name || !*a.name) return cli_usage_error("token", "--name TEXT is required (who holds the token)");
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
    rc = cs_db_tx(db, create_tx, &a, &err);
    cs_db_close(db);
    if (rc) {
        print_err("create", &err);
        memset(token, 0, sizeof token);
        return 1;
    }
    fprintf(stderr, "token %lld created (role %s%s%s); it is shown only now:\n", (long long)a.id,
            a.role, a.ncommunes ? ", communes " : "", a.ncommunes ? communes[0] : "");
    for (size_t i = 1; i < a.ncommunes; i++) fprintf(stderr, "  + commune %s\n", communes[i]);
    printf("%s\n", token);
    fflush(stdout);
    memset(token, 0, sizeof token);
    memset(raw, 0, sizeof raw);
    return 0;
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
    cs_rows *rows = NULL;
    rc = cs_db_query(db, &rows,
                     "SELECT t.id, t.role,"
                     " CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
                     "  WHEN t.expires_at IS NOT NULL AND t.expires_at <= UTC_TIMESTAMP() THEN 'expired'"
                     "  ELSE 'active' END,"
                     " DATE_FORMAT(t.created_at, '%Y-%m-%d %H:%i'),"
                     " IFNULL(DATE_FORMAT(t.expires_at, '%Y-%m-%d'), '-'),"
                     " IFNULL(DATE_FORMAT(t.last_used_at, '%Y-%m-%d %H:%i'), '-'),"
                     " IFNULL(GROUP_CONCAT(c.commune_code ORDER BY c.commune_code SEPARATOR ','), '-'),"
                     " t.name"
                     " FROM tokens t LEFT JOIN token_communes c ON c.token_id = t.id"
                     " GROUP BY t.id ORDER BY t.id",
                     "", &err);
    cs_db_close(db);
    if (rc) {
        print_err("list", &err);
        return 1;
    }
    printf("%-6s %-10s %-8s %-17s %-10s %-17s %-20s %s\n", "ID", "ROLE", "STATE", "CREATED (UTC)",
           "EXPIRES", "LAST USED (UTC)", "COMMUNES", "NAME");
    for (size_t i = 0; i < cs_rows_count(rows); i++)
        printf("%-6s %-10s %-8s %-17s %-10s %-17s %-20s %s\n", cs_rows_str(rows, i, 0),
               cs_rows_str(rows, i, 1), cs_rows_str(rows, i, 2), cs_rows_str(rows, i, 3),
               cs_rows_str(rows, i, 4), cs_rows_str(rows, i, 5), cs_rows_str(rows, i, 6),
               cs_rows_str(rows, i, 7));
    cs_rows_free(rows);
    return 0;
}

struct revoke_args {
    int64_t id;
    int outcome; /* 1 revoked now, 2 already revoked, 0 unknown */
};

static int revoke_tx(cs_db *db, void *arg, cs_error *err)
{
    struct revoke_args *a = arg;
    int64_t n = cs_db_exec(db, "UPDATE tokens SET revoked_at = UTC_TIMESTAMP() WHERE id = ? AND revoked_at IS NULL",
                           "i", a->id, err);
    if (n < 0) return -1;
    if (n == 0) {
        int64_t exists = 0;
        if (cs_db_scalar_i64(db, &exists, "SELECT COUNT(*) FROM tokens WHERE id = ?", "i", a->id, err) < 0)
            return -1;
        a->outcome = exists ? 2 : 0;
        return 0;
    }
    a->outcome = 1;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    cs_actor actor = cli_actor();
    return cs_audit(db, &actor, "token.revoke", "token", id, NULL, err);
}

static int token_revoke(const char *idtext, const char *config)
{
    char *end;
    errno = 0;
    long long id = strtoll(idtext, &end, 10);
    if (errno || *end || id < 1) return cli_usage_error("token", "revoke needs a token ID (see choso token list)");
    int rc = cli_setup(config, 0);
    if (rc) return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_db *db = cs_db_connect(&err);
    if (!db) {
        print_err("revoke", &err);
        return 1;
    }
    struct revoke_args a = {id, 0};
    rc = cs_db_tx(db, revoke_tx, &a, &err);
    cs_db_close(db);
    if (rc) {
        print_err("revoke", &err);
        return 1;
    }
    if (a.outcome == 0) {
        fprintf(stderr, "choso token revoke: no token %lld\n", id);
        return 1;
    }
    printf(a.outcome == 1 ? "token %lld revoked\n" : "token %lld was already revoked\n", id);
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
        if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9)) config = argv[i] + 9;
        else rest[n++] = argv[i];
    }
    int rc;
    if (n == 0 || !strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") || !strcmp(rest[0], "help")) {
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
