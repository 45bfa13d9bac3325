#!/usr/bin/env bash
# tests/scripts/test_fault_kill.sh: `choso worker` and `choso serve` killed with SIGKILL in a loop
# while a household import uploaded through the API runs. A private database; the CSV is
# synthetic (tests/bench/bench_import gen: valid households). Each round starts a worker, kills
# it with -9 after a random 0.3–1.2 s, and every other round kills serve with -9 too and
# starts it again. A killed worker's lease would run out after the import kind's lease (2 min);
# the test moves that moment forward (lease_expires_at set to now, as if the time had passed)
# so that the next worker's reaper takes the job back at once. When the rounds are over a last
# worker finishes. Checks: the import ends 'done' having been taken up again (attempts > 1),
# every row created exactly once (households = rows, one per citizen ID, n_created = rows,
# n_rejected = 0), and serve answers the import's progress after every restart.
# Exit 0 pass, 1 fail, 77 skip (no MariaDB server installed).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
ROWS=${FAULT_KILL_ROWS:-20000}
ROUNDS=${FAULT_KILL_ROUNDS:-12}
fail() { echo "test_fault_kill: FAIL: $*" >&2; exit 1; }
say() { echo "test_fault_kill: $*"; }

choso="$here/$BUILD/choso"
gen="$here/$BUILD/tests/bench/bench_import"
[ -x "$choso" ] || fail "$BUILD/choso is not built"
[ -x "$gen" ] || fail "$BUILD/tests/bench/bench_import is not built"
if ! command -v mariadbd >/dev/null && ! [ -x /usr/sbin/mariadbd ]; then
    echo "test_fault_kill: no mariadbd here; skipped" >&2
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-fault-kill.XXXXXX") || exit 1
serve_pid=""
worker_pid=""
cleanup() {
    [ -n "$worker_pid" ] && kill -9 "$worker_pid" 2>/dev/null
    [ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null
    wait 2>/dev/null
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
token=$("$choso" token create --role admin --name "fault test" 2>/dev/null) || fail "token create"
sql "SELECT code FROM admin_units ORDER BY code" >"$tmp/communes.txt"
"$gen" gen "$ROWS" "$tmp/communes.txt" "$tmp/households.csv" 11 >/dev/null 2>&1 || fail "bench_import gen"

start_serve() {
    "$choso" serve --port "$port" >/dev/null 2>>"$tmp/serve.log" &
    serve_pid=$!
    for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
    fail "serve did not start: $(tail -5 "$tmp/serve.log")"
}
start_serve
out=$(curl -sS -m 60 -H "Authorization: Bearer $token" -F kind=households \
    -F "file=@$tmp/households.csv;type=text/csv" "$base/v1/imports") || fail "upload failed"
id=$(echo "$out" | sed -n 's/.*"id" *: *\([0-9]*\).*/\1/p')
[ -n "$id" ] || fail "upload answered: $out"
say "import $id of $ROWS rows queued; $ROUNDS kill rounds"

state() { sql "SELECT state FROM imports WHERE id = $id"; }
kills=0
for r in $(seq "$ROUNDS"); do
    [ "$(state)" = done ] && break
    "$choso" worker 2>>"$tmp/worker.log" &
    worker_pid=$!
    sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (s % 90) / 100 }')"
    kill -9 "$worker_pid" 2>/dev/null && kills=$((kills + 1))
    wait "$worker_pid" 2>/dev/null
    worker_pid=""
    if [ $((r % 2)) = 0 ]; then
        kill -9 "$serve_pid" 2>/dev/null && kills=$((kills + 1))
        wait "$serve_pid" 2>/dev/null
        start_serve
        st=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/v1/imports/$id")
        [ "$st" = 200 ] || fail "after a restart serve answered $st for the import's progress"
    fi
    # the killed worker's lease, run out (the time it would take, skipped)
    sql "UPDATE jobs SET lease_expires_at = NOW(3) - INTERVAL 1 SECOND WHERE state = 'running'"
done
say "$kills processes killed; import state $(state), rows done $(sql "SELECT rows_done FROM imports WHERE id = $id")"
"$choso" worker 2>>"$tmp/worker.log" &
worker_pid=$!
for _ in $(seq 600); do
    s=$(state)
    [ "$s" = done ] || [ "$s" = failed ] && break
    sleep 0.2
done
kill -TERM "$worker_pid" 2>/dev/null
wait "$worker_pid" 2>/dev/null
worker_pid=""
[ "$(state)" = done ] || fail "import ended '$(state)': $(sql "SELECT error_message FROM imports WHERE id = $id")"

read -r created rejected < <(sql "SELECT n_created, n_rejected FROM imports WHERE id = $id")
attempts=$(sql "SELECT MAX(attempts) FROM jobs WHERE kind = 'import.run'")
rows=$(sql "SELECT COUNT(*) FROM households")
distinct=$(sql "SELECT COUNT(DISTINCT cccd_bidx) FROM households")
say "attempts $attempts; created $created, rejected $rejected; households $rows ($distinct distinct citizen IDs)"
[ "${attempts:-0}" -gt 1 ] || fail "the import was never taken up again (attempts $attempts): no kill landed mid-run"
[ "$rows" = "$ROWS" ] || fail "$rows households for $ROWS rows"
[ "$distinct" = "$rows" ] || fail "duplicate households"
[ "$created" = "$ROWS" ] || fail "n_created $created for $ROWS rows"
[ "$rejected" = 0 ] || fail "n_rejected $rejected"
curl -s -m 10 -H "Authorization: Bearer $token" "$base/v1/imports/$id" | grep -q '"done"' ||
    fail "serve does not show the import done"
# a sanitizer build (make tsan, SANITIZE=…) reports into the logs: any report fails
if grep -l 'WARNING: ThreadSanitizer\|ERROR: AddressSanitizer\|runtime error:' "$tmp/worker.log" "$tmp/serve.log" 2>/dev/null; then
    grep -h -A12 'WARNING: ThreadSanitizer\|ERROR: AddressSanitizer\|runtime error:' "$tmp/worker.log" "$tmp/serve.log" | head -40 >&2
    fail "sanitizer report"
fi
say "survived: $kills kills, lost 0, duplicates 0"
echo "1 passed, 0 failed"
