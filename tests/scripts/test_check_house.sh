#!/usr/bin/env bash
# tests/scripts/test_check_house.sh: scripts/check-house on small temporary trees — a clean one
# passes silently; one with every kind of violation fails naming exactly those file:line pairs,
# and nothing it must leave alone (comments, named columns, nested calls, tests/, core/db.c).
# Ends with scripts/run-tests' kind of summary line.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-check-house.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
    echo "FAIL: $*"
    fail=$((fail + 1))
}

# ---- a tree that keeps every rule -------------------------------------------------------------
clean="$tmp/clean"
mkdir -p "$clean/core" "$clean/service" "$clean/jobs" "$clean/connectors" "$clean/sandbox"
cat >"$clean/core/things.c" <<'EOF'
/* core/things: reads by name. An old note: cs_rows_i64(r, 0, 3) was how it was done. */
#include "core/db.h"
// #include "service/api.h" is what core must never do
enum { T_ID, T_CODE, T_NAME };
// clang-format off
static const char SQL_T[] =
    "SELECT id, code, name"
    " FROM things"
    " WHERE code = ?";
// clang-format on
int64_t f(cs_rows *r, size_t i)
{
    const char *s = "cs_rows_str(r, 0, 1) inside a string is no call";
    (void)s;
    if (cs_rows_isnull(r, i, T_NAME)) return cs_rows_i64(r, i, T_ID);
    return cs_rows_i64(r, cs_rows_count(r) - 1, T_ID) + (int64_t)cs_rows_count(r);
}
EOF
cat >"$clean/service/h_things.c" <<'EOF'
/* service/h_things: no SQL here; "Select a commune" is a message, not a statement. */
#include "core/things.h"
#include "jobs/job.h"
#include "connectors/connector.h"
static const char *msg = "Select the commune, then update the list";
EOF
printf '#include "core/db.h"\n#include "connectors/connector.h"\n' >"$clean/jobs/w.c"
printf '#include "core/db.h"\n' >"$clean/connectors/c.c"
printf '#include "core/db.h"\n#include "connectors/connector.h"\n' >"$clean/sandbox/s.c"
# outside the checked rooms, or exempt: never reported
mkdir -p "$clean/tests/unit"
printf '#include "service/api.h"\nint x = cs_rows_i64(r, 0, 3);\n' >"$clean/tests/unit/t.c"
printf 'int64_t g(cs_rows *r) { return cs_rows_i64(r, 0, 0); }\n' >"$clean/core/db.c"

out=$("$here/scripts/check-house" "$clean" 2>"$tmp/clean.err")
rc=$?
if [ "$rc" = 0 ] && [ -z "$out" ]; then ok; else bad "clean tree: exit $rc, output: $out $(cat "$tmp/clean.err")"; fi

# ---- a tree breaking each rule, with the lines expected ----------------------------------------
dirty="$tmp/dirty"
cp -r "$clean" "$dirty"
cat >"$dirty/service/h_sql.c" <<'EOF'
/* service/h_sql */
static const char Q1[] = "SELECT id FROM households WHERE code = ?";
static int f(void)
{
    return run("INSERT INTO audit_log (a) VALUES (?)") +
           run(" DELETE FROM sessions WHERE id = ?") +
           run("UPDATE households SET pin_hash = NULL");
}
EOF
cat >"$dirty/core/up.c" <<'EOF'
#include "core/db.h"
#include "service/api.h"
#  include "jobs/job.h"
#include "connectors/connector.h"
#include "sandbox/sim.h"
int64_t f(cs_rows *r, size_t i, size_t len)
{
    int64_t a = cs_rows_i64(r, 0, 3);
    const char *b = cs_rows_str(r,
                                i,
                                2);
    const void *c = cs_rows_blob(r, i, 1, &len);
    int d = cs_rows_isnull(r, i, 4u);
    double e = cs_rows_double(r, i, (unsigned)5);
    return a + (b != 0) + (c != 0) + d + (int64_t)e + cs_rows_i64(r, f2(1, 2), 7);
}
EOF
printf '#include "core/db.h"\n#include "service/cli.h"\n#include "sandbox/sim.h"\n' >"$dirty/jobs/w.c"
printf '#include "sandbox/sim.h"\n' >"$dirty/connectors/c.c"
printf '#include "service/api.h"\n' >"$dirty/sandbox/s.c"
printf '#include "sandbox/sim.h"\nint n(cs_rows *r) { return (int)cs_rows_strn(r, 0, 0)[0]; }\n' \
    >"$dirty/service/h_things.c"

expected=$(
    cat <<'EOF'
connectors/c.c:1: include-upward
core/up.c:12: bare-column
core/up.c:13: bare-column
core/up.c:14: bare-column
core/up.c:15: bare-column
core/up.c:2: include-upward
core/up.c:3: include-upward
core/up.c:4: include-upward
core/up.c:5: include-upward
core/up.c:8: bare-column
core/up.c:9: bare-column
jobs/w.c:2: include-upward
jobs/w.c:3: include-upward
sandbox/s.c:1: include-upward
service/h_sql.c:2: sql-in-service
service/h_sql.c:5: sql-in-service
service/h_sql.c:6: sql-in-service
service/h_sql.c:7: sql-in-service
service/h_things.c:1: include-upward
service/h_things.c:2: bare-column
EOF
)
out=$("$here/scripts/check-house" "$dirty" 2>"$tmp/dirty.err")
rc=$?
got=$(printf '%s\n' "$out" | sed -E 's/^([^:]+:[0-9]+: [a-z-]+):.*/\1/' | LC_ALL=C sort)
want=$(printf '%s\n' "$expected" | LC_ALL=C sort)
if [ "$rc" = 1 ]; then ok; else bad "dirty tree: exit $rc, want 1"; fi
if [ "$got" = "$want" ]; then
    ok
else
    bad "dirty tree: reported lines differ (- wanted, + reported):"
    diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
fi
if grep -q '20 violation' "$tmp/dirty.err"; then ok; else bad "no count on stderr: $(cat "$tmp/dirty.err")"; fi
# each line carries the offending text, so the reader need not open the file
if printf '%s\n' "$out" | grep -qx 'core/up.c:8: bare-column: int64_t a = cs_rows_i64(r, 0, 3);'; then
    ok
else
    bad "bare-column line without its text: $(printf '%s\n' "$out" | grep 'up.c:8')"
fi

# ---- usage -------------------------------------------------------------------------------------
"$here/scripts/check-house" "$tmp/nowhere" >/dev/null 2>&1
rc=$?
if [ "$rc" = 64 ]; then ok; else bad "missing directory: exit $rc, want 64"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
