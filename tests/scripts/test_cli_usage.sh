#!/usr/bin/env bash
# Every subcommand of `choso` answers an unknown flag, a flag without its value and a stray
# argument the same way: exit 64 and one message naming the flag, in Vietnamese then English
# (core/opts). Needs no database: every refusal happens before any setting is read.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${BUILD:-build}/choso
[ -x "$bin" ] || { echo "test_cli_usage: $bin not built" >&2; exit 1; }
pass=0 fail=0
check() { # check DESCRIPTION EXPECTED_RC NEEDLE CMD...
    local what=$1 want=$2 needle=$3
    shift 3
    local err rc
    err=$("$bin" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$needle" <<<"$err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: choso $* ($what): exit $rc, wanted $want with '$needle'; said: $err" >&2
    fi
}
for cmd in serve worker migrate import targets token key config json sandbox publish; do
    check "unknown flag" 64 "không có tùy chọn '--frobnicate' (unknown option '--frobnicate')" "$cmd" --frobnicate
    check "unknown flag with =" 64 "unknown option '--frobnicate'" "$cmd" --frobnicate=1
    check "help" 0 "" "$cmd" --help
done
for pair in "serve --port" "worker --kinds" "migrate --config" "import --errors" "targets --year" \
    "token --name" "key --file" "config --config" "json --each" "publish --marketplace"; do
    set -- $pair
    check "missing value" 64 "'$2' cần một giá trị ('$2' needs a value)" "$1" "$2"
done
check "range" 64 "'--concurrency' must be a whole number from 1 to 256" worker --concurrency 0
check "range" 64 "'--year' must be a whole number from 2000 to 2100" targets --year 1999
check "flag with value" 64 "'--once' takes no value" worker --once=yes
check "stray argument" 64 "unexpected argument 'extra'" migrate extra
check "stray argument" 64 "unexpected argument 'extra'" config extra
check "range" 64 "'--limit' must be a whole number from 1 to 1000000" publish --marketplace lazada --limit 0
check "missing flag" 64 "'--marketplace CODE' is needed" publish --limit 5
check "bad choice" 64 "'--marketplace': no such marketplace" publish --marketplace nosuch
check "unknown command" 64 "unknown command 'frobnicate'" frobnicate
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
