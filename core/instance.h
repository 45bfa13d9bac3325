/* core/instance: what kind of instance this is and which environment (production or sandbox)
 * each marketplace is used in (issue 12, "real and practice apart"). Reads settings only. */
#ifndef CS_INSTANCE_H
#define CS_INSTANCE_H

/* instance.kind: "production", "demo" or "training" (any other value reads as production, and
 * choso check-live names it). */
const char *cs_instance_kind(void);
/* 1 on a demo or training instance: practice (sandbox) shops and listings count toward the
 * targets, and every count is shown as "dữ liệu mô phỏng" (simulated data). */
int cs_instance_simulated(void);
/* "production" or "sandbox" for a marketplace, from `<code>.mode`: production or sandbox as set;
 * auto (postmart.vn, voso.vn by default) is sandbox when `<code>.base_url` is plain http to a
 * loopback or private address (the simulators), else production. Marketplaces without a mode
 * setting (assisted marketplaces added as data) are production: their addresses are checked
 * against the real sites' hosts. */
const char *cs_marketplace_env(const char *code);
/* 1 when rows recorded in env ("production", "sandbox", or NULL for rows made before issue 12
 * that no `choso migrate` classified: production) count toward the targets here. */
int cs_env_counts(const char *env);
#endif
