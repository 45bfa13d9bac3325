#!/usr/bin/env bash
# tests/scripts/test_demo.sh: `make run`'s demo (scripts/run-demo) end to end, twice over the
# same data directory — in a temporary CHOSO_DEMO_VAR, never ./var, on free loopback ports — with
# CHOSO_DEMO_EXIT=1 so it stops after its summary. The first run must import the demo data set,
# open shops, publish and show progress; the second must find everything done: nothing created
# twice and the numbers the same or higher. Also checks that schemas/data/demo/generate still
# makes the committed CSV files. Exit 0 pass, 1 fail, 77 skip (no MariaDB server installed).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
fail() { echo "test_demo: FAIL: $*" >&2; exit 1; }

[ -x "$here/$BUILD/choso" ] || fail "$BUILD/choso is not built"
[ -x "$here/$BUILD/choso-sandbox" ] || fail "$BUILD/choso-sandbox is not built"
if ! command -v mariadbd >/dev/null && ! [ -x /usr/sbin/mariadbd ]; then
    echo "test_demo: no mariadbd here; skipped" >&2
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-demo-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# the demo data is what its generator makes (deterministic)
"$here/schemas/data/demo/generate" "$tmp/gen" || fail "schemas/data/demo/generate failed"
for f in households.csv products.csv onboarding.csv; do
    cmp -s "$tmp/gen/$f" "$here/schemas/data/demo/$f" ||
        fail "schemas/data/demo/$f is not what generate makes (run schemas/data/demo/generate)"
done

# five free ports in a row: the API, then Shopee, Lazada, TikTok and the postmart/voso pages.
# Below the kernel's ephemeral range (32768 and up on Linux), where outgoing connections would
# take them; a port with a listener or any socket on it (ss, when present) is in use.
in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    command -v ss >/dev/null && [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}
port=""
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    ok=1
    for k in 0 1 2 3 4; do in_use $((p + k)) && { ok=0; break; }; done
    [ "$ok" = 1 ] && { port=$p; break; }
done
[ -n "$port" ] || fail "no five free ports in a row"

run_demo() { # N: run number; output in $tmp/run.N
    local t0 t1 rc
    t0=$(date +%s%N)
    CHOSO_DEMO_VAR="$tmp/var" CHOSO_HTTP_PORT=$port CHOSO_DEMO_SANDBOX_PORT=$((port + 1)) \
        CHOSO_DEMO_EXIT=1 BUILD="$BUILD" timeout -k 10 300 "$here/scripts/run-demo" >"$tmp/run.$1" 2>&1
    rc=$?
    t1=$(date +%s%N)
    echo "test_demo: run $1 exited $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
    if [ "$rc" != 0 ]; then
        tail -n 40 "$tmp/run.$1" | sed 's/^/    /' >&2
        for l in serve worker sandbox; do
            [ -f "$tmp/var/log/$l.log" ] && { echo "    --- $l.log"; tail -n 10 "$tmp/var/log/$l.log" | sed 's/^/    /'; } >&2
        done
        fail "run-demo run $1 exited $rc"
    fi
}
# field RUN REGEX: the first capture of the extended regex in the run's output (sed -E)
field() { sed -nE "s#$2#\\1#p" "$tmp/run.$1" | head -n 1; }
check_run() { # N
    local f="$tmp/run.$1" year
    year=$(date -u -d '+7 hours' +%Y)
    grep -qE '^  admin token    choso_[A-Za-z0-9_-]{20,}$' "$f" || fail "run $1: no admin token"
    grep -qE '^  volunteer      choso_[A-Za-z0-9_-]{20,} ' "$f" || fail "run $1: no volunteer token"
    grep -qE '^  sample owner   TH-[0-9]{4}-[0-9]+   PIN [0-9]{6} ' "$f" || fail "run $1: no owner code and PIN"
    grep -qE "^  dashboard      http://127\.0\.0\.1:$port/dashboard\.html" "$f" || fail "run $1: no dashboard address"
    hh[$1]=$(field "$1" "^  targets $year   households onboarded ([0-9]+) / [0-9]+,.*")
    live[$1]=$(field "$1" "^  targets $year .*flagship products live ([0-9]+) / [0-9]+$")
    regd[$1]=$(field "$1" '^  households     ([0-9]+) registered.*')
    owner[$1]=$(field "$1" '^  sample owner .*\(([0-9]+) listings on sale.*')
    [ -n "${hh[$1]}" ] && [ -n "${live[$1]}" ] || fail "run $1: no progress line for $year"
    [ "${hh[$1]}" -gt 0 ] || fail "run $1: households onboarded is ${hh[$1]}"
    [ "${live[$1]}" -gt 0 ] || fail "run $1: flagship products live is ${live[$1]}"
    [ "${owner[$1]:-0}" -gt 0 ] || fail "run $1: the sample owner's page shows no listing on sale (PIN refused?)"
    sold[$1]=$(field "$1" "^  sold $year      flagship products sold ([0-9]+) / 50, .*")
    orders[$1]=$(field "$1" "^  sold $year .*, orders ([0-9]+), units .*")
    [ -n "${sold[$1]}" ] || fail "run $1: no 'flagship products sold N / 50' line"
    [ "${sold[$1]}" -gt 0 ] || fail "run $1: flagship products sold is ${sold[$1]}"
    # Sendo is configured as data (issue 16): the demo's household there is live on it
    [ "$(field "$1" '^  Sendo          ([0-9]+) listings live.*')" -gt 0 ] 2>/dev/null ||
        fail "run $1: no Sendo listing live"
    echo "test_demo: run $1: households onboarded ${hh[$1]}, flagship products live ${live[$1]}, households ${regd[$1]}, flagship products sold ${sold[$1]}, orders ${orders[$1]}"
}
declare -A hh live regd owner sold orders

run_demo 1
check_run 1
grep -qE '^import [0-9]+ done: 36 rows .*: 36 created, 0 updated, 0 unchanged, 0 rejected' "$tmp/run.1" ||
    fail "run 1: the households were not all created"
grep -qE '^import [0-9]+ done: 52 rows .*: 52 created, 0 updated, 0 unchanged, 0 rejected' "$tmp/run.1" ||
    fail "run 1: the products were not all created"
[ "${regd[1]}" = 36 ] || fail "run 1: ${regd[1]} households registered, expected 36"
# the youth rule: the five owners over 30 have shops but do not count
[ "${hh[1]}" -le 29 ] || fail "run 1: ${hh[1]} households onboarded counts more than the 29 youth-led ones with a shop"

run_demo 2
check_run 2
grep -qE '^import [0-9]+ done: 36 rows .*: 0 created, 0 updated, 36 unchanged, 0 rejected' "$tmp/run.2" ||
    fail "run 2: re-importing the households did not report them unchanged"
grep -qE '^import [0-9]+ done: 52 rows .*: 0 created, 0 updated, 52 unchanged, 0 rejected' "$tmp/run.2" ||
    fail "run 2: re-importing the products did not report them unchanged"
grep -qE '^[0-9]+ shops in the plan, 0 to open now$' "$tmp/run.2" || fail "run 2: shops were opened again"
grep -qE '^0 listings sent$' "$tmp/run.2" || fail "run 2: products were published again"
[ "${regd[2]}" = "${regd[1]}" ] || fail "run 2: ${regd[2]} households registered after ${regd[1]} (duplicates?)"
[ "${hh[2]}" -ge "${hh[1]}" ] || fail "run 2: households onboarded fell from ${hh[1]} to ${hh[2]}"
[ "${live[2]}" -ge "${live[1]}" ] || fail "run 2: flagship products live fell from ${live[1]} to ${live[2]}"
# re-running sells nothing already counted again (the restarted simulators have no items)
[ "${sold[2]}" = "${sold[1]}" ] || fail "run 2: flagship products sold moved from ${sold[1]} to ${sold[2]}"
[ "${orders[2]}" = "${orders[1]}" ] || fail "run 2: orders moved from ${orders[1]} to ${orders[2]} (counted twice?)"
echo "test_demo: ok"
exit 0
