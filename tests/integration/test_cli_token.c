/* Integration tests of `choso token create|list|revoke` (cli/cmd_token) against MariaDB:
 * the token is printed once and works, only its hash is stored, communes are checked, every
 * change is audited, a revoked token stops working. Skips (77) without CHOSO_DB_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/crypto.h"
#include "core/mem.h"
#include "service/auth.h"
#include "cli/cli.h"
#include "tests/support/tsup.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char out_path[512];
static char out[8192];
static char commune_a[8], commune_b[8];

/* Run `choso token ARGS…` in this process with standard output captured into `out`. */
static int run(const char *const *args)
{
    return tsup_run_cli(cmd_token, "token", args, out_path, out, sizeof out);
}

static int setup(void **state)
{
    (void)state;
    char *dir = tsup_tmpdir("cli_token");
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    cs_free(dir);
    cs_db *db = tsup_connect();
    cs_rows *rows = NULL;
    cs_error e;
    cs_error_clear(&e);
    if (cs_db_query(db, &rows, "SELECT code FROM admin_units ORDER BY code LIMIT 2", "", &e) ||
        cs_rows_count(rows) != 2)
        return -1;
    snprintf(commune_a, sizeof commune_a, "%s", cs_rows_str(rows, 0, 0));
    snprintf(commune_b, sizeof commune_b, "%s", cs_rows_str(rows, 1, 0));
    cs_rows_free(rows);
    cs_db_close(db);
    return 0;
}

/* The token printed by the last create: one line "choso_" + 43 base64url characters. */
static void last_token(char tok[64])
{
    assert_int_equal(strlen(out), 6 + 43 + 1);
    assert_memory_equal(out, "choso_", 6);
    assert_int_equal(out[49], '\n');
    memcpy(tok, out, 49);
    tok[49] = '\0';
}

static void test_create_admin_and_use_it(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    int64_t before = tsup_i64(db, "SELECT COUNT(*) FROM tokens", "");
    const char *args[] = {"create", "--role", "admin", "--name", "Nguyễn Văn Quản Trị", NULL};
    assert_int_equal(run(args), 0);
    char tok[64];
    last_token(tok);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM tokens", ""), before + 1);

    svc_actor a;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(svc_auth_load_token(db, tok, &a, &e), 1);
    assert_int_equal(a.role, SVC_ROLE_ADMIN);
    assert_int_equal(a.ncommunes, 0);
    /* only the hash is stored */
    unsigned char h[32];
    cs_token_hash(tok, h);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM tokens WHERE id = ? AND token_hash = ?",
                              "ib", a.token_id, h, sizeof h),
                     1);
    assert_int_equal(
        tsup_i64(
            db,
            "SELECT COUNT(*) FROM tokens WHERE LOCATE(?, name) > 0 OR LOCATE(?, token_hash) > 0",
            "ss", tok + 6, tok + 6),
        0);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a.token_id);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM audit_log WHERE action = 'token.create' AND entity = 'token'"
                 " AND entity_id = ? AND actor_kind = 'cli'",
                 "s", id),
        1);
    svc_actor_free(&a);
    cs_db_close(db);
}

static void test_volunteer_communes(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    const char *args[] = {"create",    "--role",         "volunteer", "--commune",
                          commune_b,   "--commune",      commune_a,   "--name",
                          "Đoàn viên", "--expires-days", "30",        NULL};
    assert_int_equal(run(args), 0);
    char tok[64];
    last_token(tok);
    svc_actor a;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(svc_auth_load_token(db, tok, &a, &e), 1);
    assert_int_equal(a.role, SVC_ROLE_VOLUNTEER);
    assert_int_equal(a.ncommunes, 2);
    assert_string_equal(a.communes[0], commune_a); /* sorted */
    assert_string_equal(a.communes[1], commune_b);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT expires_at > UTC_TIMESTAMP() + INTERVAL 29 DAY FROM tokens WHERE id = ?",
                 "i", a.token_id),
        1);
    svc_actor_free(&a);
    cs_db_close(db);
}

static void test_refusals(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    int64_t before = tsup_i64(db, "SELECT COUNT(*) FROM tokens", "");
    const char *unknown[] = {"create",    "--role", "volunteer", "--commune", commune_a,
                             "--commune", "99999",  "--name",    "x",         NULL};
    assert_int_equal(run(unknown), 1);
    assert_int_equal(out[0], '\0'); /* nothing printed: no token */
    const char *no_commune[] = {"create", "--role", "volunteer", "--name", "x", NULL};
    assert_int_equal(run(no_commune), CLI_EX_USAGE);
    const char *admin_commune[] = {"create",  "--role", "admin", "--commune",
                                   commune_a, "--name", "x",     NULL};
    assert_int_equal(run(admin_commune), CLI_EX_USAGE);
    const char *bad_role[] = {"create", "--role", "root", "--name", "x", NULL};
    assert_int_equal(run(bad_role), CLI_EX_USAGE);
    const char *no_name[] = {"create", "--role", "monitor", NULL};
    assert_int_equal(run(no_name), CLI_EX_USAGE);
    const char *what[] = {"frobnicate", NULL};
    assert_int_equal(run(what), CLI_EX_USAGE);
    assert_int_equal(tsup_i64(db, "SELECT COUNT(*) FROM tokens", ""), before); /* all or nothing */
    cs_db_close(db);
}

static void test_list_and_revoke(void **state)
{
    (void)state;
    cs_db *db = tsup_connect();
    const char *create[] = {"create", "--role", "monitor", "--name", "Tỉnh đoàn", NULL};
    assert_int_equal(run(create), 0);
    char tok[64];
    last_token(tok);
    svc_actor a;
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(svc_auth_load_token(db, tok, &a, &e), 1);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a.token_id);
    svc_actor_free(&a);

    const char *list[] = {"list", NULL};
    assert_int_equal(run(list), 0);
    assert_non_null(strstr(out, "Tỉnh đoàn"));
    assert_non_null(strstr(out, "monitor"));
    assert_null(strstr(out, tok + 6)); /* no secrets */

    const char *revoke[] = {"revoke", id, NULL};
    assert_int_equal(run(revoke), 0);
    assert_non_null(strstr(out, "revoked"));
    assert_int_equal(svc_auth_load_token(db, tok, &a, &e), 0);
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoke' AND entity_id = ?",
                 "s", id),
        1);
    assert_int_equal(run(revoke), 0); /* again: says so, changes nothing */
    assert_non_null(strstr(out, "already"));
    assert_int_equal(
        tsup_i64(db,
                 "SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoke' AND entity_id = ?",
                 "s", id),
        1);
    const char *nobody[] = {"revoke", "987654321", NULL};
    assert_int_equal(run(nobody), 1);
    const char *garbage[] = {"revoke", "12abc", NULL};
    assert_int_equal(run(garbage), CLI_EX_USAGE);
    assert_int_equal(run(list), 0);
    assert_non_null(strstr(out, "revoked"));
    cs_db_close(db);
}

int main(void)
{
    tsup_require_db();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_admin_and_use_it),
        cmocka_unit_test(test_volunteer_communes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_list_and_revoke),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
