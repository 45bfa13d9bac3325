#!/usr/bin/env bash
# tests/scripts/test_fault_disk.sh: the disk of this node's media cache (media.dir) full. The
# image bytes live in the database (core/media, replicated on a cluster); media.dir is only a
# node-local cache, here a small tmpfs mounted for the test (root only: CI runs as root; elsewhere
# the test is skipped, saying so). An image is stored; the disk is then filled; the next upload
# must still be stored whole (201: the database holds it), nothing half-written in the cache (no
# temporary file left, no torn file in place), serve still answering, and /media/{sha} must serve
# the exact bytes from the database while the cache cannot take them; once room is made the
# cache fills again. Exit 0 pass, 1 fail, 77 skip.
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
say "upload on a full cache disk answered $st"
[ "$st" = 201 ] || fail "upload on a full cache disk answered $st: $(cat "$tmp/up.json")"
left=$(find "$tmp/media" -name '.up-*' | wc -l)
[ "$left" = 0 ] || fail "$left temporary file(s) left in media.dir"
b_sha=$(sha256sum "$tmp/b.png" | cut -d' ' -f1)
if [ -e "$tmp/media/${b_sha:0:2}/${b_sha:2}" ]; then
    cmp -s "$tmp/media/${b_sha:0:2}/${b_sha:2}" "$tmp/b.png" || fail "a half-written image file is in place"
fi
rows=$(sql "SELECT COUNT(*) FROM product_images")
[ "$rows" = 2 ] || fail "$rows image rows after the upload (want 2)"
blobs=$(sql "SELECT COUNT(*) FROM media_blobs WHERE sha256 = '$b_sha'")
[ "$blobs" = 1 ] || fail "the database does not hold the bytes ($blobs rows)"
curl -fsS "$base/healthz" >/dev/null || fail "serve not answering after the full disk"
st=$(curl -sS -m 30 -o "$tmp/got.png" -w '%{http_code}' "$base/media/$b_sha")
[ "$st" = 200 ] || fail "GET /media on a full cache disk answered $st"
cmp -s "$tmp/got.png" "$tmp/b.png" || fail "GET /media on a full cache disk served other bytes"

rm -f "$tmp/media/filler"
st=$(curl -sS -m 30 -o "$tmp/got2.png" -w '%{http_code}' "$base/media/$b_sha")
[ "$st" = 200 ] && cmp -s "$tmp/got2.png" "$tmp/b.png" || fail "GET /media after room was made: $st"
f="$tmp/media/${b_sha:0:2}/${b_sha:2}"
[ -f "$f" ] && cmp -s "$f" "$tmp/b.png" || fail "the cache did not fill again once room was made"
say "survived: a full cache disk refused nothing and tore nothing; bytes served from the database, cached again once room was made"
echo "1 passed, 0 failed"
