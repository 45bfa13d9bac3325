/* core/targets_sql: the counting rules of the targets (core/targets.c) that the evidence
 * (core/evidence.c) must apply word for word, as SQL fragments — one definition, so that the
 * counters and the evidence list cannot drift apart. Internal to core/.
 *
 * Real and practice apart (issue 12): on a production instance, shops and listings recorded in
 * the sandbox neither set a first date (core/states.c) nor count — a household or product whose
 * only activation is a practice one is left out (rows with no environment, made outside the
 * product, read as production). On a demo or training instance everything counts. E is `prod`
 * or `all`; each statement using these exists in both forms, [0] production and [1] simulated
 * (cs_instance_simulated). */
#ifndef CHOSO_CORE_TARGETS_SQL_H
#define CHOSO_CORE_TARGETS_SQL_H

// clang-format off
#define ENV_prod(t) " AND (" t ".env IS NULL OR " t ".env <> 'sandbox')"
#define ENV_all(t) ""
#define ONLY_PRACTICE_prod(tab, fk, id, col) \
    " AND (NOT EXISTS (SELECT 1 FROM " tab " ex WHERE ex." fk " = " id \
    "   AND ex." col " IS NOT NULL AND ex.env = 'sandbox')" \
    "  OR EXISTS (SELECT 1 FROM " tab " ex WHERE ex." fk " = " id \
    "   AND ex." col " IS NOT NULL" ENV_prod("ex") "))"
#define ONLY_PRACTICE_all(tab, fk, id, col) ""

/* The counted unit of the product metrics is a (household, list entry) pair of approved links
 * (core/targets.h): only the pair's earliest product by the date (then id) stands for it, so
 * three pack sizes of one product count once. On a production instance the earlier product
 * must itself count (not practice only). idx_products_pair keeps the look-up short. */
#define PAIR_FIRST(col, lcol, E) \
    " AND NOT EXISTS (SELECT 1" \
    "   FROM products q FORCE INDEX (idx_products_pair)" \
    "   WHERE q.household_id = p.household_id AND q.flagship_id = p.flagship_id" \
    "    AND q.flagship_status = 'approved' AND q." col " IS NOT NULL" \
    "    AND (q." col " < p." col " OR (q." col " = p." col " AND q.id < p.id))" \
    ONLY_PRACTICE_##E("listings", "product_id", "q.id", lcol) ")"
// clang-format on

#endif
