#!/usr/bin/env bash
# tests/scripts/test_fault_clock.sh: the wall clock stepped forward and back under `choso serve`
# and `choso worker` (an LD_PRELOAD shim, tests/fault/fakeclock.c, shifts their CLOCK_REALTIME by
# the seconds in a file; the machine's clock is not touched). Checks:
#   - leases: a long import runs while the worker's clock jumps +1 h then -1 h; it is never
#     reaped or run twice (its job keeps attempts = 1, no job_reaped warning), because leases
#     are kept in the database's clock (NOW(3)), not the worker's;
#   - waits: after each step a newly uploaded import is taken up within 15 s — the worker's
#     idle and housekeeping waits run on the monotonic clock (before, a step forward made the
#     worker sleep for the length of the step);
#   - signature windows: tokens and web sessions expire in the database's clock, so a bearer
#     token and a session cookie keep working whichever way serve's clock jumped, and a
#     session cookie is still refused after sign-out.
# Exit 0 pass, 1 fail, 77 skip (no MariaDB server installed).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
fail() { echo "test_fault_clock: FAIL: $*" >&2; exit 1; }
say() { echo "test_fault_clock: $*"; }

choso="$here/$BUILD/choso"
gen="$here/$BUILD/tests/bench/bench_import"
shim="$here/$BUILD/tests/fault/libfakeclock.so"
for b in "$choso" "$gen" "$shim"; do [ -e "$b" ] || fail "$b is not built"; done
if ! command -v mariadbd >/dev/null && ! [ -x /usr/sbin/mariadbd ]; then
    echo "test_fault_clock: no mariadbd here; skipped" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-fault-clock.XXXXXX") || exit 1
serve_pid=""
worker_pid=""
cleanup() {
    [ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
    [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    "$here/scripts/devdb" stop "$tmp/db" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    in_use "$p" || { port=$p; break; }
done
[ -n "$port" ] || fail "no free port"
base="http://127.0.0.1:$port"

db_env=$("$here/scripts/devdb" start "$tmp/db" 2>"$tmp/devdb.log") || fail "devdb start: $(tail -3 "$tmp/devdb.log")"
while IFS= read -r line; do [ -n "$line" ] && export "${line?}"; done <<<"$db_env"
mkdir -p "$tmp/media" "$tmp/keys"
export CHOSO_CRYPTO_KEY_FILE="$tmp/keys/data.key" CHOSO_MEDIA_DIR="$tmp/media" \
    CHOSO_SCHEMA_DIR="$here/schemas" CHOSO_HTTP_PORT="$port"
unset CHOSO_CONFIG CHOSO_DB_HOST CHOSO_DB_PORT
sql() { mariadb --no-defaults --socket="$CHOSO_DB_SOCKET" -uroot -N -B "$CHOSO_DB_NAME" -e "$1"; }
"$choso" key create >/dev/null 2>&1 || fail "choso key create"
"$choso" migrate >"$tmp/migrate.log" 2>&1 || fail "choso migrate: $(tail -3 "$tmp/migrate.log")"
token=$("$choso" token create --role admin --name "clock test" 2>/dev/null) || fail "token create"
sql "SELECT code FROM admin_units ORDER BY code" >"$tmp/communes.txt"
"$gen" gen 20000 "$tmp/communes.txt" "$tmp/long.csv" 21 >/dev/null 2>&1 || fail "gen"
"$gen" gen 1000 "$tmp/communes.txt" "$tmp/a.csv" 22 >/dev/null 2>&1 || fail "gen"
"$gen" gen 1000 "$tmp/communes.txt" "$tmp/b.csv" 23 >/dev/null 2>&1 || fail "gen"

echo 0 >"$tmp/offset"
step() { echo "$1" >"$tmp/offset"; say "wall clock of serve and worker now $1 s off"; sleep 0.1; }
# the sanitizer runtimes want to be first; the shim has no instrumentation to check
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
CHOSO_FAKECLOCK_FILE="$tmp/offset" LD_PRELOAD="$shim" "$choso" serve --port "$port" >/dev/null 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
CHOSO_FAKECLOCK_FILE="$tmp/offset" LD_PRELOAD="$shim" "$choso" worker 2>"$tmp/worker.log" &
worker_pid=$!

auth=(-H "Authorization: Bearer $token")
upload() { # FILE → import id
    curl -sS -m 60 "${auth[@]}" -F kind=households -F "file=@$1;type=text/csv" "$base/v1/imports" |
        sed -n 's/.*"id" *: *\([0-9]*\).*/\1/p'
}
state() { sql "SELECT state FROM imports WHERE id = $1"; }
wait_done() { # ID SECONDS
    for _ in $(seq $(($2 * 5))); do
        s=$(state "$1")
        [ "$s" = done ] && return 0
        [ "$s" = failed ] && fail "import $1 failed: $(sql "SELECT error_message FROM imports WHERE id = $1")"
        sleep 0.2
    done
    fail "import $1 not done within $2 s (state $(state "$1"))"
}
session_ok() { # expected status of GET /v1/session with the cookie jar
    local st
    st=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -b "$tmp/jar" "$base/v1/session")
    [ "$st" = "$1" ] || fail "GET /v1/session answered $st (want $1) at clock offset $(cat "$tmp/offset")"
}

# a web session, opened at the true time
st=$(curl -s -m 10 -c "$tmp/jar" -o "$tmp/session.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"token\":\"$token\"}" "$base/v1/session")
[ "$st" = 200 ] || [ "$st" = 201 ] || fail "POST /v1/session answered $st: $(cat "$tmp/session.json")"
session_ok 200

long=$(upload "$tmp/long.csv")
[ -n "$long" ] || fail "long import not accepted"
for _ in $(seq 100); do [ "$(state "$long")" = running ] && break; sleep 0.1; done
step 3600
sleep 2
step -3600
sleep 2
step 0
wait_done "$long" 180
att=$(sql "SELECT MAX(attempts) FROM jobs WHERE kind = 'import.run'")
[ "$att" = 1 ] || fail "the long import ran $att times across the clock steps"
grep -q job_reaped "$tmp/worker.log" && fail "a lease was reaped across the clock steps"
say "long import done with its lease intact (attempts 1, nothing reaped)"

step 3600
curl -fsS -m 10 "${auth[@]}" "$base/v1/households?limit=1" >/dev/null || fail "token refused at +1 h"
session_ok 200
a=$(upload "$tmp/a.csv")
wait_done "$a" 15
step -3600
curl -fsS -m 10 "${auth[@]}" "$base/v1/households?limit=1" >/dev/null || fail "token refused at -1 h"
session_ok 200
b=$(upload "$tmp/b.csv")
wait_done "$b" 15
say "imports taken up within seconds after each step; token and session valid at +1 h and -1 h"
csrf=$(sed -n 's/.*"csrf[_a-z]*" *: *"\([^"]*\)".*/\1/p' "$tmp/session.json" | head -1)
curl -s -m 10 -o /dev/null -b "$tmp/jar" -H "X-CSRF-Token: $csrf" -X DELETE "$base/v1/session"
session_ok 401
if grep -l 'WARNING: ThreadSanitizer\|ERROR: AddressSanitizer\|runtime error:' "$tmp/worker.log" "$tmp/serve.log" 2>/dev/null; then
    fail "sanitizer report"
fi
say "survived: clock stepped +1 h and -1 h twice; leases, waits, tokens and sessions right"
echo "1 passed, 0 failed"
