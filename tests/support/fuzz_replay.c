/* tests/support/fuzz_replay: corpus replay shared by the fuzz harnesses. */
#include "tests/support/fuzz_replay.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int replay_file(const char *name, const char *path, fuzz_one_fn one)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read %s\n", name, path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0, k;
    uint8_t *buf = malloc(cap);
    while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return -1;
    one(buf, len);
    free(buf);
    return 0;
}

static int replay(const char *name, const char *path, fuzz_one_fn one, long *count)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "%s: no such file %s\n", name, path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(name, path, one);
    }
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        if (replay(name, p, one, count)) rc = -1;
    }
    closedir(d);
    return rc;
}

int fuzz_replay_main(int argc, char **argv, const char *name, const char *default_corpus,
                     fuzz_one_fn one)
{
    long count = 0;
    int rc = 0;
    if (argc < 2)
        rc = replay(name, default_corpus, one, &count);
    else
        for (int i = 1; i < argc; i++)
            if (replay(name, argv[i], one, &count)) rc = -1;
    printf("%s: replayed %ld input(s)\n", name, count);
    return rc ? 1 : 0;
}
