/* cli/cmd_sandbox: `choso sandbox` — hands over to the sibling `choso-sandbox` binary (same
 * directory as this one) with the same arguments. The product carries no simulator code. */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The path of choso-sandbox beside /proc/self/exe, into out. 0 or -1. */
static int sibling(char *out, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    int w = snprintf(out, n, "%.*s/choso-sandbox", (int)(slash - self), self);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

int cmd_sandbox(int argc, char **argv)
{
    char path[PATH_MAX];
    if (sibling(path, sizeof path)) {
        fprintf(stderr,
                "choso sandbox: không tìm được thư mục của choso (cannot find the directory "
                "of this program through /proc/self/exe)\n");
        return 1;
    }
    /* argv[0] is "sandbox"; the rest is passed unchanged (argv ends with NULL). */
    static char name[] = "choso-sandbox";
    argv[0] = name;
    (void)argc;
    execv(path, argv);
    fprintf(stderr,
            "choso sandbox: không chạy được %s: %s (the simulators are a separate program; "
            "install choso-sandbox beside choso, e.g. make install)\n",
            path, strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
