#!/usr/bin/env bash
# tests/scripts/test_fault_disk.sh: the disk holding media (media.dir) full. media.dir is a small
# tmpfs mounted for the test (root only: CI runs as root; elsewhere the test is skipped, saying
# so). An image is stored; the disk is then filled; the next upload must answer 507
# storage_full (problem+json, nothing half-written: no temporary file left in media.dir, no image
# row, the product's list unchanged, serve still answering); once room is made the same upload
# is stored whole (its bytes read back identical). Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
fail() { echo "test_fault_disk: FAIL: $*" >&2; exit 1; }
say() { echo "test_fault_disk: $*"; }

choso="$here/$BUILD/choso"
[ -x "$choso" ] || fail "$BUILD/choso is not built"
if ! command -v mariadbd >/dev/null && ! [ -x /usr/sbin/mariadbd ]; then
    echo "test_fault_disk: no mariadbd here; skipped" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-fault-disk.XXXXXX") || exit 1
mkdir -p "$tmp/media" "$tmp/keys"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=256k,mode=0755 tmpfs "$tmp/media" 2>/dev/null; then
    rm -rf "$tmp"
    echo "test_fault_disk: cannot mount a small tmpfs for media.dir (needs root); skipped" >&2
    exit 77
fi
serve_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    umount "$tmp/media" 2>/dev/null
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
export CHOSO_CRYPTO_KEY_FILE="$tmp/keys/data.key" CHOSO_MEDIA_DIR="$tmp/media" \
    CHOSO_SCHEMA_DIR="$here/schemas" CHOSO_HTTP_PORT="$port"
unset CHOSO_CONFIG CHOSO_DB_HOST CHOSO_DB_PORT
sql() { mariadb --no-defaults --socket="$CHOSO_DB_SOCKET" -uroot -N -B "$CHOSO_DB_NAME" -e "$1"; }
"$choso" key create >/dev/null 2>&1 || fail "choso key create"
"$choso" migrate >"$tmp/migrate.log" 2>&1 || fail "choso migrate: $(tail -3 "$tmp/migrate.log")"
token=$("$choso" token create --role admin --name "fault test" 2>/dev/null) || fail "token create"
"$choso" serve --port "$port" >/dev/null 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 100); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $token")

hh=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' --data-binary \
    '{"owner_name":"Lê Thị Đĩa","cccd":"038200777001","phone":"0912777001","birth_date":"01/01/2000","commune_code":"14797","address":"Thôn 2","consent":true}' \
    "$base/v1/households" | sed -n 's/.*"code" *: *"\(TH-[^"]*\)".*/\1/p')
[ -n "$hh" ] || fail "household not created"
pid=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' --data-binary \
    '{"name":"Mật ong rừng","description":"Mật ong rừng Thường Xuân, chai 500 ml.","category":"food_dish","price_vnd":150000,"weight_g":700,"stock":5}' \
    "$base/v1/households/$hh/products" | sed -n 's/^{"id" *: *\([0-9]*\).*/\1/p; s/.*"id" *: *\([0-9]*\).*/\1/p' | head -1)
[ -n "$pid" ] || fail "product not created"

png() { # FILE KB: a PNG signature and IHDR (16×16), then random bytes
    { printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00'
      head -c $(($2 * 1024)) /dev/urandom; } >"$1"
}
upload() { # FILE → status; body in $tmp/up.json
    curl -sS -m 30 -o "$tmp/up.json" -w '%{http_code}' "${auth[@]}" \
        -F "image=@$1;type=image/png" "$base/v1/products/$pid/images"
}
png "$tmp/a.png" 40
png "$tmp/b.png" 60
st=$(upload "$tmp/a.png")
[ "$st" = 201 ] || fail "first upload answered $st: $(cat "$tmp/up.json")"

# fill the disk: what is left is less than the next image
dd if=/dev/zero of="$tmp/media/filler" bs=4k 2>/dev/null
say "media.dir full: $(df -k "$tmp/media" | awk 'NR == 2 { print $4 }') KiB free"
st=$(upload "$tmp/b.png")
say "upload on a full disk answered $st"
[ "$st" = 507 ] || fail "upload on a full disk answered $st: $(cat "$tmp/up.json")"
grep -q '"code" *: *"storage_full"' "$tmp/up.json" || fail "no storage_full problem: $(cat "$tmp/up.json")"
left=$(find "$tmp/media" -name '.up-*' | wc -l)
[ "$left" = 0 ] || fail "$left temporary file(s) left in media.dir"
b_sha=$(sha256sum "$tmp/b.png" | cut -d' ' -f1)
[ ! -e "$tmp/media/${b_sha:0:2}/${b_sha:2}" ] || fail "a half-written image file is in place"
rows=$(sql "SELECT COUNT(*) FROM product_images")
[ "$rows" = 1 ] || fail "$rows image rows after the refused upload (want 1)"
curl -fsS "$base/healthz" >/dev/null || fail "serve not answering after the full disk"

rm -f "$tmp/media/filler"
st=$(upload "$tmp/b.png")
[ "$st" = 201 ] || fail "upload after room was made answered $st: $(cat "$tmp/up.json")"
f=$(find "$tmp/media" -type f -size +50k | head -1)
[ -n "$f" ] && cmp -s "$f" "$tmp/b.png" || fail "the stored image is not the uploaded bytes"
say "survived: 507 storage_full on a full disk, nothing half-written, stored whole once room was made"
echo "1 passed, 0 failed"
