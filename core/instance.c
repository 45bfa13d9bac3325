/* core/instance: the instance's kind and each marketplace's environment, from the settings.
 * No database, no I/O: callers record the answer on the rows they create. */
#include "core/instance.h"
#include "core/config.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *cs_instance_kind(void)
{
    const char *k = cs_cfg_str("instance.kind");
    if (k && (!strcmp(k, "demo") || !strcmp(k, "training"))) return k;
    return "production";
}

int cs_instance_simulated(void)
{
    return strcmp(cs_instance_kind(), "production") != 0;
}

/* plain http to 127/8, localhost, 10/8, 172.16/12, 192.168/16: where the simulators listen
 * (a LAN address when volunteers train on their own phones, `choso sandbox --address`) */
static int simulator_url(const char *url)
{
    if (!url || strncasecmp(url, "http://", 7)) return 0;
    const char *h = url + 7;
    unsigned a = 0, b = 0;
    if (!strncasecmp(h, "localhost", 9) && strchr(":/", h[9] ? h[9] : '/')) return 1;
    if (sscanf(h, "%3u.%3u.", &a, &b) != 2) return 0;
    return a == 127 || a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168);
}

const char *cs_marketplace_env(const char *code)
{
    static const char *const known[] = {"shopee", "lazada", "tiktok", "postmart", "voso"};
    for (size_t i = 0; code && i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(code, known[i])) continue;
        char key[40];
        snprintf(key, sizeof key, "%s.mode", code);
        const char *mode = cs_cfg_str(key);
        if (mode && !strcmp(mode, "sandbox")) return "sandbox";
        if (mode && !strcmp(mode, "auto")) {
            snprintf(key, sizeof key, "%s.base_url", code);
            return simulator_url(cs_cfg_str(key)) ? "sandbox" : "production";
        }
        return "production";
    }
    return "production";
}

int cs_env_counts(const char *env)
{
    return !env || strcmp(env, "sandbox") || cs_instance_simulated();
}
