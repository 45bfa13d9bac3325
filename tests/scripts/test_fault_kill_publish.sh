#!/usr/bin/env bash
# tests/scripts/test_fault_kill_publish.sh: `choso worker` and `choso serve` killed with SIGKILL
# in a loop during a publish run. A private database and the marketplace simulators (`choso
# sandbox`, auto-approving, on free loopback ports); one household with shops opened on Shopee
# and Lazada through the real authorisation links; PRODUCTS products with a photo each, all
# published to both while no worker runs; every simulator call takes 150 ms. Then rounds of: a
# worker started and killed with -9 after 0.3–1.2 s (serve too every other round), the killed
# worker's leases moved to "expired" (as if waited out).
# A last worker finishes. Checks: every listing ends live; the simulators hold exactly one item
# per listing (their own duplicate counter `duplicate_skus` = 0, items = listings).
# Exit 0 pass, 1 fail, 77 skip (no MariaDB server installed).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
PRODUCTS=${FAULT_KILL_PRODUCTS:-25}
ROUNDS=${FAULT_KILL_ROUNDS:-12}
fail() { echo "test_fault_kill_publish: FAIL: $*" >&2; exit 1; }
say() { echo "test_fault_kill_publish: $*"; }

choso="$here/$BUILD/choso"
[ -x "$choso" ] || fail "$BUILD/choso is not built"
[ -x "$here/$BUILD/choso-sandbox" ] || fail "$BUILD/choso-sandbox is not built"
if ! command -v mariadbd >/dev/null && ! [ -x /usr/sbin/mariadbd ]; then
    echo "test_fault_kill_publish: no mariadbd here; skipped" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-fault-pub.XXXXXX") || exit 1
serve_pid=""
worker_pid=""
sandbox_pid=""
cleanup() {
    [ -n "$worker_pid" ] && kill -9 "$worker_pid" 2>/dev/null
    [ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null
    [ -n "$sandbox_pid" ] && kill -TERM "$sandbox_pid" 2>/dev/null
    wait 2>/dev/null
    "$here/scripts/devdb" stop "$tmp/db" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

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
base="http://127.0.0.1:$port"
sb=$((port + 1))

db_env=$("$here/scripts/devdb" start "$tmp/db" 2>"$tmp/devdb.log") || fail "devdb start: $(tail -3 "$tmp/devdb.log")"
while IFS= read -r line; do [ -n "$line" ] && export "${line?}"; done <<<"$db_env"
mkdir -p "$tmp/media" "$tmp/keys"
export CHOSO_CRYPTO_KEY_FILE="$tmp/keys/data.key" CHOSO_MEDIA_DIR="$tmp/media" \
    CHOSO_SCHEMA_DIR="$here/schemas" CHOSO_HTTP_PORT="$port" CHOSO_HTTP_PUBLIC_URL="$base"
unset CHOSO_CONFIG CHOSO_DB_HOST CHOSO_DB_PORT
sql() { mariadb --no-defaults --socket="$CHOSO_DB_SOCKET" -uroot -N -B "$CHOSO_DB_NAME" -e "$1"; }
"$choso" key create >/dev/null 2>&1 || fail "choso key create"
"$choso" migrate >"$tmp/migrate.log" 2>&1 || fail "choso migrate: $(tail -3 "$tmp/migrate.log")"
token=$("$choso" token create --role admin --name "fault test" 2>/dev/null) || fail "token create"

"$choso" sandbox --auto-approve --review-delay-ms 300 --token-ttl 86400 --refresh-ttl 86400 \
    --shopee-port "$sb" --lazada-port $((sb + 1)) --tiktok-port $((sb + 2)) --assisted-port $((sb + 3)) \
    --shopee-push-url "$base/v1/webhooks/shopee" --lazada-push-url "$base/v1/webhooks/lazada" \
    >"$tmp/sandbox.json" 2>"$tmp/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$tmp/sandbox.json" ] && break; sleep 0.1; done
[ -s "$tmp/sandbox.json" ] || fail "simulators did not start: $(tail -3 "$tmp/sandbox.log")"
IFS=$'\t' read -r sb_shopee sb_lazada sb_admin shopee_id shopee_key lazada_key lazada_secret < <(
    "$choso" json shopee lazada admin credentials.shopee.partner_id credentials.shopee.partner_key \
        credentials.lazada.app_key credentials.lazada.app_secret <"$tmp/sandbox.json")
printf '%s' "$shopee_key" >"$tmp/keys/shopee" && printf '%s' "$lazada_secret" >"$tmp/keys/lazada"
chmod 600 "$tmp/keys/shopee" "$tmp/keys/lazada"
export CHOSO_SHOPEE_BASE_URL="$sb_shopee" CHOSO_SHOPEE_PARTNER_ID="$shopee_id" \
    CHOSO_SHOPEE_PARTNER_KEY_FILE="$tmp/keys/shopee" CHOSO_SHOPEE_LOGISTIC_ID=50011 \
    CHOSO_LAZADA_BASE_URL="$sb_lazada" CHOSO_LAZADA_AUTH_URL="$sb_lazada" \
    CHOSO_LAZADA_APP_KEY="$lazada_key" CHOSO_LAZADA_APP_SECRET_FILE="$tmp/keys/lazada" \
    CHOSO_FLOWS_STATUS_DELAY=1 CHOSO_FLOWS_POLL_PERIOD=2

start_serve() {
    "$choso" serve --port "$port" >/dev/null 2>>"$tmp/serve.log" &
    serve_pid=$!
    for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
    fail "serve did not start: $(tail -5 "$tmp/serve.log")"
}
start_worker() {
    "$choso" worker 2>>"$tmp/worker.log" &
    worker_pid=$!
}
api() { # METHOD PATH [JSON]
    curl -sS -m 30 -X "$1" -H "Authorization: Bearer $token" ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$base$2"
}
start_serve
start_worker

code=$(api POST /v1/households '{"owner_name":"Trần Văn Bán","cccd":"038200888001","phone":"0912888001","birth_date":"01/01/2000","commune_code":"14797","address":"Thôn 3","consent":true}' |
    "$choso" json code) || fail "household not created"
for mp in shopee lazada; do
    api POST "/v1/households/$code/accounts" "{\"marketplace\":\"$mp\"}" >/dev/null || fail "account $mp"
done
# the worker makes each authorisation link; the owner follows it (the simulator approves)
for _ in $(seq 150); do
    links=$(api GET "/v1/seller-accounts?state=awaiting_owner" | "$choso" json --each items auth_link | grep -c http)
    [ "$links" = 2 ] && break
    sleep 0.2
done
[ "$links" = 2 ] || fail "no authorisation links (got $links)"
api GET "/v1/seller-accounts?state=awaiting_owner" | "$choso" json --each items auth_link |
    while read -r link; do curl -sSL -o /dev/null "$link"; done
for _ in $(seq 150); do
    [ "$(sql "SELECT COUNT(*) FROM seller_accounts WHERE state = 'active'")" = 2 ] && break
    sleep 0.2
done
[ "$(sql "SELECT COUNT(*) FROM seller_accounts WHERE state = 'active'")" = 2 ] || fail "shops not active"

# publishing starts only under the kill loop: the onboarding worker stops here, and every
# marketplace call takes 150 ms so that kills land between a create and its answer
kill -TERM "$worker_pid" 2>/dev/null
wait "$worker_pid" 2>/dev/null
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    --data-binary '{"marketplace":"all","latency_ms":150}' "$sb_admin/__sandbox/faults" || fail "simulator faults"
img="$here/schemas/data/demo/images/agricultural_produce.png"
for i in $(seq "$PRODUCTS"); do
    pid=$(api POST "/v1/households/$code/products" "{\"name\":\"Gạo tám thơm số $i\",\"description\":\"Gạo tám thơm Thanh Hóa, túi 5 kg, vụ mùa năm nay.\",\"category\":\"agricultural_produce\",\"price_vnd\":$((120000 + i * 1000)),\"stock\":20,\"weight_g\":5000,\"length_mm\":400,\"width_mm\":250,\"height_mm\":100}" |
        "$choso" json id) || fail "product $i not created"
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" -F "image=@$img;type=image/png" \
        "$base/v1/products/$pid/images" || fail "image for product $i"
    api POST "/v1/products/$pid/listings" '{"marketplaces":["shopee","lazada"]}' >/dev/null || fail "publish $i"
done
want=$((PRODUCTS * 2))
say "$want listings sent; $ROUNDS kill rounds"

kills=0
for r in $(seq "$ROUNDS"); do
    start_worker
    sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (s % 90) / 100 }')"
    kill -9 "$worker_pid" 2>/dev/null && kills=$((kills + 1))
    wait "$worker_pid" 2>/dev/null
    if [ $((r % 2)) = 0 ]; then
        kill -9 "$serve_pid" 2>/dev/null && kills=$((kills + 1))
        wait "$serve_pid" 2>/dev/null
        start_serve
    fi
    sql "UPDATE jobs SET lease_expires_at = NOW(3) - INTERVAL 1 SECOND WHERE state = 'running'"
done
start_worker
say "$kills processes killed; listings: $(sql "SELECT GROUP_CONCAT(CONCAT(state, ' ', n)) FROM (SELECT state, COUNT(*) n FROM listings GROUP BY state) s")"
for _ in $(seq 600); do
    [ "$(sql "SELECT COUNT(*) FROM listings WHERE state = 'live'")" = "$want" ] && break
    sleep 0.2
done
live=$(sql "SELECT COUNT(*) FROM listings WHERE state = 'live'")
stats=$(curl -fsS "$sb_admin/__sandbox/stats") || fail "simulator stats"
dups=$(printf '%s' "$stats" | "$choso" json duplicate_skus)
items=$(( $(printf '%s' "$stats" | "$choso" json shopee.items_total) + $(printf '%s' "$stats" | "$choso" json lazada.items_total) ))
say "live $live of $want; marketplace items $items; duplicate SKUs $dups"
[ "$live" = "$want" ] || fail "$live of $want listings live: $(sql "SELECT marketplace_code, state, last_error_code, LEFT(last_error_message, 200), COUNT(*) FROM listings GROUP BY 1, 2, 3, 4" | tr '\n' ';')"
[ "$dups" = 0 ] || fail "$dups duplicate marketplace item(s)"
[ "$items" = "$want" ] || fail "$items marketplace items for $want listings"
if grep -l 'WARNING: ThreadSanitizer\|ERROR: AddressSanitizer\|runtime error:' "$tmp/worker.log" "$tmp/serve.log" 2>/dev/null; then
    fail "sanitizer report"
fi
say "survived: $kills kills during publishing, lost 0, duplicates 0"
echo "1 passed, 0 failed"
