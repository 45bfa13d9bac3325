/* tests/unit/test_crypto: sealing round trips and tamper detection, key rotation, the blind
 * index, tokens, PINs and the key file rules. Key files live in a private temp directory. */
#include "core/config.h"
#include "core/crypto.h"
#include "core/mem.h"
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[256];
static char keyfile[300];

static void path_in_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/choso-crypto-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return -1;
    /* in a subdirectory that does not exist yet: create makes it */
    snprintf(keyfile, sizeof keyfile, "%s/keys/data.key", dir);
    cs_error err;
    cs_error_clear(&err);
    if (cs_config_set("crypto.pin_scrypt_n", "1024", &err)) return -1; /* fast PIN tests */
    if (cs_crypto_keyfile_create(keyfile, &err) != 1) return -1;
    return cs_crypto_init(keyfile, &err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    cs_crypto_shutdown();
    cs_config_free();
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Number of entries in dir whose name contains `part`. */
static int count_named(const char *part)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

/* Re-load the main key file (tests that switch keys put it back). */
static void reload(void)
{
    cs_error err;
    cs_error_clear(&err);
    if (cs_crypto_init(keyfile, &err)) fail_msg("reload: %s", err.detail);
}

static void test_keyfile_created_private(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(keyfile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char d[300];
    snprintf(d, sizeof d, "%s/keys", dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_create(keyfile, &err), 0); /* already there: kept */
    assert_int_equal(cs_crypto_active_key_id(), 1);
}

static void test_seal_round_trip(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 12, 16, 17, 100, 10000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *pt = cs_malloc(n + 1);
        assert_non_null(pt);
        for (size_t j = 0; j < n; j++)
            pt[j] = (unsigned char)(j * 7 + 3);
        unsigned char *sealed, *back;
        size_t slen, blen;
        assert_int_equal(cs_seal(pt, n, "households.cccd", &sealed, &slen), 0);
        assert_int_equal(slen, n + 30);
        assert_int_equal(sealed[0], 1);
        assert_int_equal(cs_sealed_key_id(sealed, slen), 1);
        if (n >= 16) assert_true(memcmp(sealed + 14, pt, 16) != 0); /* not plaintext */
        assert_int_equal(cs_unseal(sealed, slen, "households.cccd", &back, &blen), 0);
        assert_int_equal(blen, n);
        assert_memory_equal(back, pt, n);
        assert_int_equal(back[n], '\0');
        cs_free_secret(back, blen + 1);
        cs_free(sealed);
        cs_free(pt);
    }
    /* same plaintext twice: different nonces, different output */
    unsigned char *a, *b;
    size_t al, bl;
    assert_int_equal(cs_seal("0912345678", 10, "households.phone", &a, &al), 0);
    assert_int_equal(cs_seal("0912345678", 10, "households.phone", &b, &bl), 0);
    assert_int_equal(al, bl);
    assert_true(memcmp(a, b, al) != 0);
    cs_free(a);
    cs_free(b);
    /* NULL aad is the empty aad */
    unsigned char *s, *o;
    size_t sl, ol;
    assert_int_equal(cs_seal("x", 1, NULL, &s, &sl), 0);
    assert_int_equal(cs_unseal(s, sl, "", &o, &ol), 0);
    cs_free_secret(o, ol + 1);
    cs_free(s);
}

static void test_seal_tamper(void **state)
{
    (void)state;
    const char *pt = "038090012345 personal";
    unsigned char *s, *o;
    size_t sl, ol;
    assert_int_equal(cs_seal(pt, strlen(pt), "households.cccd", &s, &sl), 0);
    /* one flipped bit anywhere (version, key id, nonce, ciphertext, tag) must fail */
    for (size_t i = 0; i < sl; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            s[i] ^= (unsigned char)(1u << bit);
            o = (unsigned char *)"sentinel";
            if (cs_unseal(s, sl, "households.cccd", &o, &ol) != -1)
                fail_msg("byte %zu bit %d flipped and still opened", i, bit);
            assert_null(o);
            s[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* shortened, lengthened */
    assert_int_equal(cs_unseal(s, sl - 1, "households.cccd", &o, &ol), -1);
    assert_int_equal(cs_unseal(s, 29, "households.cccd", &o, &ol), -1);
    assert_int_equal(cs_unseal(s, 0, "households.cccd", &o, &ol), -1);
    assert_int_equal(cs_unseal(NULL, sl, "households.cccd", &o, &ol), -1);
    unsigned char *longer = cs_malloc(sl + 1);
    memcpy(longer, s, sl);
    longer[sl] = 0;
    assert_int_equal(cs_unseal(longer, sl + 1, "households.cccd", &o, &ol), -1);
    cs_free(longer);
    /* wrong aad: a value moved to another column does not open */
    assert_int_equal(cs_unseal(s, sl, "households.phone", &o, &ol), -1);
    assert_int_equal(cs_unseal(s, sl, "", &o, &ol), -1);
    assert_int_equal(cs_unseal(s, sl, "households.cccdx", &o, &ol), -1);
    /* the untouched value still opens */
    assert_int_equal(cs_unseal(s, sl, "households.cccd", &o, &ol), 0);
    assert_string_equal((char *)o, pt);
    cs_free_secret(o, ol + 1);
    /* malformed headers: no key id */
    assert_int_equal(cs_sealed_key_id(s, 29), 0);
    s[0] = 2;
    assert_int_equal(cs_sealed_key_id(s, sl), 0);
    cs_free(s);
}

static void test_wrong_key_and_unknown_id(void **state)
{
    (void)state;
    unsigned char *s, *o;
    size_t sl, ol;
    assert_int_equal(cs_seal("secret", 6, "t", &s, &sl), 0);
    /* another key file: also id 1, different key */
    char other[320];
    path_in_dir(other, sizeof other, "other.key");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_create(other, &err), 1);
    assert_int_equal(cs_crypto_init(other, &err), 0);
    assert_int_equal(cs_crypto_active_key_id(), 1);
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), -1);
    reload();
    /* an id no key has */
    s[1] = 9;
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), -1);
    s[1] = 1;
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), 0);
    cs_free_secret(o, ol + 1);
    cs_free(s);
    unlink(other);
}

static void test_rotation(void **state)
{
    (void)state;
    char path[320];
    path_in_dir(path, sizeof path, "rot.key");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_create(path, &err), 1);
    assert_int_equal(cs_crypto_init(path, &err), 0);
    unsigned char idx1[32], idx2[32];
    assert_int_equal(cs_blind_index("cccd", "038090012345", idx1), 0);
    unsigned char *old, *o;
    size_t oldl, ol;
    assert_int_equal(cs_seal("old value", 9, "t", &old, &oldl), 0);
    assert_int_equal(cs_sealed_key_id(old, oldl), 1);

    assert_int_equal(cs_crypto_keyfile_rotate(path, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* nothing changes until the keys are reloaded */
    assert_int_equal(cs_crypto_active_key_id(), 1);
    assert_int_equal(cs_crypto_init(path, &err), 0);
    assert_int_equal(cs_crypto_active_key_id(), 2);

    unsigned char *nw;
    size_t nwl;
    assert_int_equal(cs_seal("new value", 9, "t", &nw, &nwl), 0);
    assert_int_equal(cs_sealed_key_id(nw, nwl), 2);
    assert_int_equal(cs_unseal(old, oldl, "t", &o, &ol), 0); /* old id still opens */
    assert_string_equal((char *)o, "old value");
    cs_free_secret(o, ol + 1);
    assert_int_equal(cs_unseal(nw, nwl, "t", &o, &ol), 0);
    assert_string_equal((char *)o, "new value");
    cs_free_secret(o, ol + 1);
    /* the index key does not rotate: look-ups keep working */
    assert_int_equal(cs_blind_index("cccd", "038090012345", idx2), 0);
    assert_memory_equal(idx1, idx2, 32);

    assert_int_equal(cs_crypto_keyfile_rotate(path, &err), 0);
    assert_int_equal(cs_crypto_init(path, &err), 0);
    assert_int_equal(cs_crypto_active_key_id(), 3);
    assert_int_equal(cs_unseal(old, oldl, "t", &o, &ol), 0);
    cs_free_secret(o, ol + 1);
    cs_free(old);
    cs_free(nw);
    /* no temp file left beside the key file */
    assert_int_equal(count_named(".tmp"), 0);
    assert_int_equal(count_named("rot.key"), 1);
    unlink(path);
    reload();
}

static void test_rotation_limits(void **state)
{
    (void)state;
    char path[320];
    path_in_dir(path, sizeof path, "full.key");
    const char *k = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char text[512];
    snprintf(text, sizeof text, "seal 255 %s\nindex %s", k, k); /* no final newline */
    write_file(path, text, 0600);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_rotate(path, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
    assert_non_null(strstr(err.detail, "255"));
    snprintf(text, sizeof text, "seal 7 %s\nindex %s", k, k);
    write_file(path, text, 0600);
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_rotate(path, &err), 0);
    assert_int_equal(cs_crypto_init(path, &err), 0);
    assert_int_equal(cs_crypto_active_key_id(), 8);
    /* rotation refuses a file others can read, like init */
    chmod(path, 0644);
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_rotate(path, &err), -1);
    assert_non_null(strstr(err.detail, "crypto.key_file"));
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_rotate("/nonexistent/choso.key", &err), -1);
    unlink(path);
    reload();
}

static void test_rotation_concurrent(void **state)
{
    (void)state;
    /* processes rotating the same file at once: every new key survives */
    char path[320];
    path_in_dir(path, sizeof path, "conc.key");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_create(path, &err), 1);
    fflush(NULL);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            int bad = 0;
            for (int j = 0; j < 5; j++) {
                cs_error e;
                cs_error_clear(&e);
                bad |= cs_crypto_keyfile_rotate(path, &e) != 0;
            }
            _exit(bad);
        }
    }
    for (int i = 0; i < 4; i++) {
        int st = 0;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(cs_crypto_init(path, &err), 0);
    assert_int_equal(cs_crypto_active_key_id(), 21);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int seals = 0;
    while (fgets(line, sizeof line, f))
        seals += strncmp(line, "seal ", 5) == 0;
    fclose(f);
    assert_int_equal(seals, 21);
    unlink(path);
    reload();
}

static void test_keyfile_permissions(void **state)
{
    (void)state;
    char path[320];
    path_in_dir(path, sizeof path, "perm.key");
    const char *k = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char text[512];
    snprintf(text, sizeof text, "seal 1 %s\nindex %s\n", k, k);
    mode_t bad[] = {0644, 0640, 0604, 0660, 0602, 0610};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, text, bad[i]);
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cs_crypto_init(path, &err), -1);
        assert_int_equal(err.code, CS_E_CONFIG);
        assert_non_null(strstr(err.detail, "crypto.key_file"));
        assert_non_null(strstr(err.detail, "chmod 600"));
        assert_int_equal(err.nfields, 1);
        assert_string_equal(err.fields[0].field, "crypto.key_file");
        /* the failed reload kept the loaded keys */
        assert_int_equal(cs_crypto_active_key_id(), 1);
    }
    write_file(path, text, 0400);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_init(path, &err), 0);
    unlink(path);
    /* missing file, a directory */
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_init(path, &err), -1);
    assert_non_null(strstr(err.detail, "crypto.key_file"));
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_init(dir, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_init(NULL, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
    reload();
}

static void test_keyfile_format(void **state)
{
    (void)state;
    char path[320];
    path_in_dir(path, sizeof path, "fmt.key");
    const char *k = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const char *k2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    static const char *bad[] = {
        "seal 1 %1$s\n",                          /* no index key */
        "index %1$s\n",                           /* no seal key */
        "seal 1 %1$s\nseal 1 %2$s\nindex %1$s\n", /* id twice */
        "seal 0 %1$s\nindex %1$s\n",              /* id out of range */
        "seal 256 %1$s\nindex %1$s\n",
        "seal x %1$s\nindex %1$s\n",
        "seal 1 %1$s\nindex %1$s\nindex %2$s\n", /* two index keys */
        "seal 1 00112233\nindex %1$s\n",         /* short key */
        "seal 1 %1$s00\nindex %1$s\n",           /* long key */
        "seal 1 %1$s\nindex %1$.63sg\n",         /* not hex */
        "seal 1 %1$s extra\nindex %1$s\n",
        "key %1$s\nseal 1 %1$s\nindex %1$s\n", /* unknown line */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[600];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof text, bad[i], k, k2);
#pragma GCC diagnostic pop
        write_file(path, text, 0600);
        cs_error err;
        cs_error_clear(&err);
        if (cs_crypto_init(path, &err) != -1) fail_msg("key file %zu accepted", i);
        assert_int_equal(err.code, CS_E_CONFIG);
        assert_non_null(strstr(err.detail, "crypto.key_file"));
        /* never key material in an error */
        assert_null(strstr(err.detail, "00112233"));
        assert_null(strstr(err.detail, "ffeeddcc"));
    }
    /* comments, blank lines, CRLF, tabs, upper-case hex; the last seal line is active */
    char text[800];
    snprintf(text, sizeof text, "# keys\r\n\r\n  seal\t3 %s\r\nseal 2 %s\nindex %s\n\n# end\n", k2,
             k, "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF");
    write_file(path, text, 0600);
    cs_error err;
    cs_error_clear(&err);
    if (cs_crypto_init(path, &err)) fail_msg("%s", err.detail);
    assert_int_equal(cs_crypto_active_key_id(), 2);
    unlink(path);
    reload();
}

static void test_scrypt_n_must_be_power_of_two(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_config_set("crypto.pin_scrypt_n", "3000", &err), 0);
    assert_int_equal(cs_crypto_init(keyfile, &err), -1);
    assert_int_equal(err.code, CS_E_CONFIG);
    assert_string_equal(err.fields[0].field, "crypto.pin_scrypt_n");
    char h[CS_PIN_HASH_MAX];
    assert_int_equal(cs_pin_hash("1234", h, sizeof h), -1);
    cs_error_clear(&err);
    assert_int_equal(cs_config_set("crypto.pin_scrypt_n", "1024", &err), 0);
    reload();
}

static void test_blind_index(void **state)
{
    (void)state;
    unsigned char a[32], b[32], c[32], d[32], e[32];
    assert_int_equal(cs_blind_index("cccd", "038090012345", a), 0);
    assert_int_equal(cs_blind_index("cccd", "038090012345", b), 0);
    assert_memory_equal(a, b, 32); /* stable */
    assert_int_equal(cs_blind_index("phone", "038090012345", c), 0);
    assert_memory_not_equal(a, c, 32); /* domain-separated */
    assert_int_equal(cs_blind_index("cccd", "038090012346", d), 0);
    assert_memory_not_equal(a, d, 32);
    /* the separator keeps domain and value apart */
    assert_int_equal(cs_blind_index("ab", "c", d), 0);
    assert_int_equal(cs_blind_index("a", "bc", e), 0);
    assert_memory_not_equal(d, e, 32);
    /* keyed: not a plain hash of the value */
    unsigned char h[32];
    cs_sha256("038090012345", 12, h);
    assert_memory_not_equal(a, h, 32);
    assert_int_equal(cs_blind_index("", "x", d), -1);
    assert_int_equal(cs_blind_index(NULL, "x", d), -1);
    assert_int_equal(cs_blind_index("cccd", NULL, d), -1);
    /* a different index key gives different indexes */
    char other[320];
    path_in_dir(other, sizeof other, "idx.key");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_create(other, &err), 1);
    assert_int_equal(cs_crypto_init(other, &err), 0);
    assert_int_equal(cs_blind_index("cccd", "038090012345", e), 0);
    assert_memory_not_equal(a, e, 32);
    unlink(other);
    reload();
    assert_int_equal(cs_blind_index("cccd", "038090012345", e), 0);
    assert_memory_equal(a, e, 32);
}

static void test_not_loaded(void **state)
{
    (void)state;
    cs_crypto_shutdown();
    assert_int_equal(cs_crypto_active_key_id(), 0);
    unsigned char *s = (unsigned char *)"x", idx[32];
    size_t sl = 1;
    assert_int_equal(cs_seal("x", 1, "t", &s, &sl), -1);
    assert_null(s);
    assert_int_equal(sl, 0);
    assert_int_equal(cs_blind_index("cccd", "x", idx), -1);
    reload();
    assert_int_equal(cs_seal("x", 1, "t", &s, &sl), 0);
    unsigned char *o;
    size_t ol;
    cs_crypto_shutdown();
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), -1);
    reload();
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), 0);
    cs_free_secret(o, ol + 1);
    cs_free(s);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    unsigned char *s, *o;
    size_t sl, ol;
    cs_mem_fail_at(1);
    assert_int_equal(cs_seal("x", 1, "t", &s, &sl), -1);
    cs_mem_fail_at(0);
    assert_int_equal(cs_seal("x", 1, "t", &s, &sl), 0);
    cs_mem_fail_at(1);
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), -1);
    cs_mem_fail_at(0);
    cs_free(s);
    /* loading the key file: fail each allocation in turn, the old keys stay; the loop ends
       on a run the failure never reached, which must succeed */
    int clean = 0;
    for (unsigned long n = 1; n < 10 && !clean; n++) {
        cs_error err;
        cs_error_clear(&err);
        cs_mem_fail_at(n);
        int rc = cs_crypto_init(keyfile, &err);
        unsigned long used = cs_mem_count();
        cs_mem_fail_at(0);
        clean = used < n;
        if (clean)
            assert_int_equal(rc, 0);
        else /* reached: reported, never swallowed (err is clear on success) */
            assert_int_equal(err.code, CS_E_NOMEM);
        assert_int_equal(cs_crypto_active_key_id(), 1);
    }
    assert_true(clean);
    assert_int_equal(cs_seal("x", 1, "t", &s, &sl), 0);
    assert_int_equal(cs_unseal(s, sl, "t", &o, &ol), 0);
    assert_int_equal(ol, 1);
    assert_memory_equal(o, "x", 1);
    cs_free_secret(o, ol + 1);
    cs_free(s);
    char path[320];
    path_in_dir(path, sizeof path, "oom.key");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_crypto_keyfile_create(path, &err), 1);
    clean = 0;
    for (unsigned long n = 1; n < 10 && !clean; n++) {
        cs_error_clear(&err);
        cs_mem_fail_at(n);
        int rc = cs_crypto_keyfile_rotate(path, &err);
        unsigned long used = cs_mem_count();
        cs_mem_fail_at(0);
        clean = used < n;
        if (clean)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(err.code, CS_E_NOMEM);
    }
    assert_true(clean);
    /* the rotated file loads, sealing with the new key; then back to the test's own keys */
    assert_int_equal(cs_crypto_init(path, &err), 0);
    assert_int_equal(cs_crypto_active_key_id(), 2);
    assert_int_equal(cs_crypto_init(keyfile, &err), 0);
    unlink(path);
}

static void test_random(void **state)
{
    (void)state;
    char t1[44], t2[44];
    assert_int_equal(cs_random_token(t1), 0);
    assert_int_equal(cs_random_token(t2), 0);
    assert_int_equal(strlen(t1), 43);
    assert_string_not_equal(t1, t2);
    for (int i = 0; i < 43; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", t1[i]));
    int count[10] = {0};
    for (int i = 0; i < 2000; i++) {
        char pin[7];
        memset(pin, 'x', sizeof pin);
        assert_int_equal(cs_random_pin(pin, 6), 0);
        assert_int_equal(strlen(pin), 6);
        for (int j = 0; j < 6; j++) {
            assert_true(pin[j] >= '0' && pin[j] <= '9');
            count[pin[j] - '0']++;
        }
    }
    /* 12000 digits, 1200 expected each, σ ≈ 33: ±300 is nine σ, never a false alarm */
    for (int i = 0; i < 10; i++)
        if (count[i] < 900 || count[i] > 1500) fail_msg("digit %d drawn %d times", i, count[i]);
    char one[2], big[CS_PIN_MAX_DIGITS + 1];
    assert_int_equal(cs_random_pin(one, 1), 0);
    assert_int_equal(strlen(one), 1);
    assert_int_equal(cs_random_pin(big, CS_PIN_MAX_DIGITS), 0);
    assert_int_equal(strlen(big), CS_PIN_MAX_DIGITS);
    assert_int_equal(cs_random_pin(big, 0), -1);
    assert_int_equal(cs_random_pin(big, -3), -1);
    assert_int_equal(cs_random_pin(big, CS_PIN_MAX_DIGITS + 1), -1);
    assert_int_equal(cs_random_pin(NULL, 6), -1);
    unsigned char r1[64] = {0}, r2[64] = {0};
    assert_int_equal(cs_random(r1, sizeof r1), 0);
    assert_int_equal(cs_random(r2, sizeof r2), 0);
    assert_memory_not_equal(r1, r2, sizeof r1);
}

static void test_hashes(void **state)
{
    (void)state;
    unsigned char h[32];
    char hex[65];
    cs_sha256("abc", 3, h);
    cs_hex(h, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cs_token_hash("abc", h);
    cs_hex(h, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cs_sha256("", 0, h);
    cs_hex(h, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cs_hex((const unsigned char *)"\x00\x0f\xf0\xff", 4, hex);
    assert_string_equal(hex, "000ff0ff");
    cs_hex(h, 0, hex);
    assert_string_equal(hex, "");
    assert_true(cs_ct_equal("abcd", "abcd", 4));
    assert_false(cs_ct_equal("abcd", "abce", 4));
    assert_true(cs_ct_equal("a", "b", 0));
}

static void test_pin_hash(void **state)
{
    (void)state;
    char h1[CS_PIN_HASH_MAX], h2[CS_PIN_HASH_MAX];
    assert_int_equal(cs_pin_hash("482913", h1, sizeof h1), 0);
    assert_int_equal(cs_pin_hash("482913", h2, sizeof h2), 0);
    assert_int_equal(strncmp(h1, "scrypt$1024$8$1$", 16), 0);
    assert_string_not_equal(h1, h2); /* salted */
    assert_null(strstr(h1, "482913"));
    assert_int_equal(cs_pin_verify("482913", h1), 1);
    assert_int_equal(cs_pin_verify("482913", h2), 1);
    assert_int_equal(cs_pin_verify("482914", h1), 0);
    assert_int_equal(cs_pin_verify("", h1), 0);
    assert_int_equal(cs_pin_verify("4829130", h1), 0);
    /* parameters come from the stored string, not the current setting */
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_config_set("crypto.pin_scrypt_n", "2048", &err), 0);
    assert_int_equal(cs_pin_verify("482913", h1), 1);
    assert_int_equal(cs_pin_hash("482913", h2, sizeof h2), 0);
    assert_int_equal(strncmp(h2, "scrypt$2048$8$1$", 16), 0);
    assert_int_equal(cs_pin_verify("482913", h2), 1);
    assert_int_equal(cs_config_set("crypto.pin_scrypt_n", "1024", &err), 0);
    /* too small an output buffer */
    char small[40];
    assert_int_equal(cs_pin_hash("482913", small, sizeof small), -1);

    /* malformed stored hashes */
    const char *salt = strchr(h1 + 16, '$'); /* "$hash" part */
    assert_non_null(salt);
    char m[256];
    const char *bad[] = {
        "",
        "scrypt",
        "scrypt$",
        "bcrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$x",
        "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1024$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1024$8$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$01024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$99999999999999999999999$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==",
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$",
        "scrypt$1024$8$1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1024$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* salt < 16 */
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",                     /* hash != 32 */
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A=",
        "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AA",
        "scrypt$-1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cs_pin_verify("482913", bad[i]) != -1) fail_msg("malformed hash %zu accepted", i);
    assert_int_equal(cs_pin_verify(NULL, h1), -1);
    assert_int_equal(cs_pin_verify("482913", NULL), -1);
    /* a well-formed hash of something else: no match, not malformed */
    assert_int_equal(cs_pin_verify("482913", "scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
                                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                     0);
    /* truncating a real hash breaks it */
    snprintf(m, sizeof m, "%.*s", (int)strlen(h1) - 4, h1);
    assert_int_equal(cs_pin_verify("482913", m), -1);
}

struct worker {
    int ok;
    int id;
};

static void *seal_worker(void *arg)
{
    struct worker *w = arg;
    w->ok = 1;
    for (int i = 0; i < 200; i++) {
        char pt[32];
        int n = snprintf(pt, sizeof pt, "worker %d value %d", w->id, i);
        unsigned char *s, *o, idx[32];
        size_t sl, ol;
        if (cs_seal(pt, (size_t)n, "t", &s, &sl) || cs_unseal(s, sl, "t", &o, &ol) ||
            ol != (size_t)n || memcmp(o, pt, ol) || cs_blind_index("cccd", pt, idx))
            w->ok = 0;
        cs_free(s);
        if (w->ok) cs_free_secret(o, ol + 1);
        if (!w->ok) break;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    struct worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, seal_worker, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_true(w[i].ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyfile_created_private),
        cmocka_unit_test(test_seal_round_trip),
        cmocka_unit_test(test_seal_tamper),
        cmocka_unit_test(test_wrong_key_and_unknown_id),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_rotation_limits),
        cmocka_unit_test(test_rotation_concurrent),
        cmocka_unit_test(test_keyfile_permissions),
        cmocka_unit_test(test_keyfile_format),
        cmocka_unit_test(test_scrypt_n_must_be_power_of_two),
        cmocka_unit_test(test_blind_index),
        cmocka_unit_test(test_not_loaded),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_pin_hash),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("crypto", tests, setup, teardown);
}
