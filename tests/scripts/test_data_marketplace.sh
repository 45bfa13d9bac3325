#!/usr/bin/env bash
# tests/scripts/test_data_marketplace.sh: issue 16 point 5 with the built binaries — a marketplace
# without an API added at run time as data only: a copy of schemas/data in a temporary schema
# dir (CHOSO_SCHEMA_DIR points there; the migrations are the repository's) gains one row in
# assisted_marketplaces.csv, marketplaces.csv and category_map.csv plus its upload-sheet and
# registration-pack layouts. The binaries are the ones built (they do not contain its code);
# `choso migrate` loads the rows, `choso-sandbox` generates its pages from the same row, and a
# household is onboarded (its own pack), its shop verified, a product published (the sheet in
# its own layout), confirmed and found live by the link check.
# Exit 0 pass, 1 fail, 77 skip (no MariaDB server installed).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
fail() { echo "test_data_marketplace: FAIL: $*" >&2; exit 1; }
say() { echo "test_data_marketplace: $*"; }

choso="$here/$BUILD/choso"
[ -x "$choso" ] || fail "$BUILD/choso is not built"
[ -x "$here/$BUILD/choso-sandbox" ] || fail "$BUILD/choso-sandbox is not built"
if ! command -v mariadbd >/dev/null && ! [ -x /usr/sbin/mariadbd ]; then
    echo "test_data_marketplace: no mariadbd here; skipped" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-data-mp.XXXXXX") || exit 1
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
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
site="http://127.0.0.1:$((sb + 3))/htxnc" # the simulator's pages for the new marketplace

# ---- the new marketplace: data only ----------------------------------------------------------
mp=htxnc
grep -q "$mp" "$choso" "$here/$BUILD/choso-sandbox" && fail "the binaries already know $mp"
mkdir -p "$tmp/schemas"
ln -s "$here/schemas/sql" "$tmp/schemas/sql"
cp -r "$here/schemas/data" "$tmp/schemas/data"
d="$tmp/schemas/data"
printf '%s\n' "$mp,Chợ HTX Nông Cống,htxnongcong.example.vn,8,,Xã viên,$site,Đến văn phòng HTX Nông Cống với bảng dưới đây | Nhận tài khoản gian hàng và xác nhận trên Chợ Số,Hàng phải có tem truy xuất của HTX,Không có mặt hàng này" >>"$d/assisted_marketplaces.csv"
printf '%s\n' "$mp,Chợ HTX Nông Cống,file,htxnongcong.example.vn,8,5,4" >>"$d/marketplaces.csv"
printf '%s\n' "agricultural_produce,$mp,htx-nong-san,Nông sản,{}" >>"$d/category_map.csv"
printf '%s\n' "header,source,required,max_length,notes" "Mã hàng HTX,sku,yes,40," \
    "Tên mặt hàng,name,yes,200," "Giá bán cho xã viên (đ),price_vnd,yes,," "Ảnh,image_1,yes,500," \
    >"$d/upload_layout_$mp.csv"
printf '%s\n' "key,label,required,note" "owner_name,Họ tên xã viên,yes," "phone,Số điện thoại,yes," \
    "bank_account,Số tài khoản nhận tiền,no," >"$d/pack_layout_$mp.csv"

db_env=$("$here/scripts/devdb" start "$tmp/db" 2>"$tmp/devdb.log") || fail "devdb start: $(tail -3 "$tmp/devdb.log")"
while IFS= read -r line; do [ -n "$line" ] && export "${line?}"; done <<<"$db_env"
mkdir -p "$tmp/media" "$tmp/keys"
export CHOSO_CRYPTO_KEY_FILE="$tmp/keys/data.key" CHOSO_MEDIA_DIR="$tmp/media" \
    CHOSO_SCHEMA_DIR="$tmp/schemas" CHOSO_HTTP_PORT="$port" CHOSO_HTTP_PUBLIC_URL="$base" \
    CHOSO_FLOWS_STATUS_DELAY=1 CHOSO_FLOWS_POLL_PERIOD=2 CHOSO_FLOWS_LINKCHECK_PERIOD=2
unset CHOSO_CONFIG CHOSO_DB_HOST CHOSO_DB_PORT
sql() { mariadb --no-defaults --socket="$CHOSO_DB_SOCKET" -uroot -N -B "$CHOSO_DB_NAME" -e "$1"; }
"$choso" key create >/dev/null 2>&1 || fail "choso key create"
"$choso" migrate >"$tmp/migrate.log" 2>&1 || fail "choso migrate: $(tail -3 "$tmp/migrate.log")"
[ "$(sql "SELECT kind FROM marketplaces WHERE code = '$mp'")" = file ] || fail "migrate did not load the $mp row"
token=$("$choso" token create --role admin --name "data marketplace test" 2>/dev/null) || fail "token create"

"$choso" sandbox --auto-approve --review-delay-ms 300 \
    --shopee-port "$sb" --lazada-port $((sb + 1)) --tiktok-port $((sb + 2)) --assisted-port $((sb + 3)) \
    >"$tmp/sandbox.json" 2>"$tmp/sandbox.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/sandbox.json" ] && break; sleep 0.1; done
[ -s "$tmp/sandbox.json" ] || fail "simulators did not start: $(tail -3 "$tmp/sandbox.log")"
IFS=$'\t' read -r sb_site sb_admin < <("$choso" json "$mp" admin <"$tmp/sandbox.json")
[ "$sb_site" = "$site" ] || fail "the simulator serves $mp at '$sb_site', not $site"

"$choso" serve --port "$port" >/dev/null 2>>"$tmp/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
"$choso" worker 2>>"$tmp/worker.log" &
pids+=($!)
api() { # METHOD PATH [JSON]
    curl -sS -m 30 -X "$1" -H "Authorization: Bearer $token" ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$base$2"
}
until_sql() { # SQL EXPECTED SECONDS
    local i
    for i in $(seq $(($3 * 5))); do [ "$(sql "$1")" = "$2" ] && return 0; sleep 0.2; done
    return 1
}
page() { # KIND ID TITLE → the page's address on the simulated site
    curl -fsS -H 'Content-Type: application/json' --data-binary \
        "{\"marketplace\":\"$mp\",\"kind\":\"$1\",\"id\":\"$2\",\"title\":\"$3\"}" \
        "$sb_admin/__sandbox/pages" | "$choso" json url
}

api GET "/v1/targets" | grep -q "\"$mp\"" || fail "the marketplace list does not show $mp"
r=$(api POST /v1/households '{"owner_name":"Lê Thị Xã Viên","cccd":"038200777001","phone":"0912777001","birth_date":"01/01/2000","commune_code":"14797","address":"Thôn 5","consent":true}')
code=$(printf '%s' "$r" | "$choso" json pin code 2>/dev/null | cut -f2)
[ -n "$code" ] || fail "household not created: $r"
r=$(api POST "/v1/households/$code/accounts" "{\"marketplace\":\"$mp\"}")
case "$r" in *\"state\"*) ;; *) fail "account: $r" ;; esac
until_sql "SELECT COUNT(*) FROM seller_accounts WHERE marketplace_code = '$mp' AND state = 'not_started'" 0 30 ||
    fail "the worker made no registration pack"
api GET "/v1/households/$code/accounts/$mp/pack.html" >"$tmp/pack.html"
grep -q "Họ tên xã viên" "$tmp/pack.html" || fail "the pack does not follow pack_layout_$mp.csv: $(head -c 300 "$tmp/pack.html")"
grep -q "Đến văn phòng HTX Nông Cống" "$tmp/pack.html" || fail "the pack lacks the row's steps"
grep -q "Số căn cước" "$tmp/pack.html" && fail "the pack shows a field its layout does not name"
u=$(page shop "$code" "Gian hàng $code") || fail "shop page"
api POST "/v1/households/$code/accounts/$mp/confirm" "{\"shop_url\":\"$u\",\"shop_name\":\"Gian hàng $code\"}" >/dev/null
until_sql "SELECT state FROM seller_accounts WHERE marketplace_code = '$mp'" active 40 ||
    fail "shop not verified: $(sql "SELECT state, last_error_code FROM seller_accounts WHERE marketplace_code = '$mp'")"

pid=$(api POST "/v1/households/$code/products" '{"name":"Gạo nếp cái hoa vàng Nông Cống","description":"Gạo nếp cái hoa vàng, túi 2 kg, vụ mùa năm nay.","category":"agricultural_produce","price_vnd":95000,"stock":30,"weight_g":2000,"length_mm":300,"width_mm":200,"height_mm":80}' |
    "$choso" json id) || fail "product not created"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" \
    -F "image=@$here/schemas/data/demo/images/agricultural_produce.png;type=image/png" \
    "$base/v1/products/$pid/images" || fail "image"
api POST "/v1/products/$pid/listings" "{\"marketplaces\":[\"$mp\"]}" >/dev/null || fail "publish"
until_sql "SELECT state FROM listings WHERE product_id = $pid" submitted 30 ||
    fail "listing not submitted: $(sql "SELECT state, last_error_code, last_error_message FROM listings WHERE product_id = $pid")"
api GET "/v1/products/$pid/listings/$mp/sheet.csv" >"$tmp/sheet.csv"
head -c 300 "$tmp/sheet.csv" | grep -q "Giá bán cho xã viên (đ)" || fail "the sheet does not follow upload_layout_$mp.csv: $(head -c 200 "$tmp/sheet.csv")"
lid=$(sql "SELECT id FROM listings WHERE product_id = $pid")
u=$(page product "CS-$lid" "Gạo nếp cái hoa vàng Nông Cống") || fail "product page"
curl -fsS "$u" | grep -q "Chợ HTX Nông Cống" || fail "the generated page does not carry the row's name"
api POST "/v1/listings/$lid/confirm" "{\"listing_url\":\"$u\"}" >/dev/null
until_sql "SELECT state FROM listings WHERE id = $lid" live 40 ||
    fail "listing not live: $(sql "SELECT state, last_error_code, last_error_message FROM listings WHERE id = $lid")"
say "$mp added as data: pack, shop verified, sheet in its layout, listing live — no rebuild"
echo "1 passed, 0 failed"
