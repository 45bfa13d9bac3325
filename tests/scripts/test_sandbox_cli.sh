#!/usr/bin/env bash
# tests/scripts/test_sandbox_cli.sh: the simulators are their own program. The product's `choso`
# and connector library carry no simulator code and `choso config` lists no simulator setting;
# `choso-sandbox` reads its settings from CHOSO_SANDBOX_* and flags (cs_opts refusals, exit 64;
# a bad variable, exit 78), lists them with `config`, serves and stops on SIGTERM; `choso
# sandbox` runs it with the same arguments. Exit 0 pass, 1 fail.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
choso="$here/$BUILD/choso"
sbx="$here/$BUILD/choso-sandbox"
fail() { echo "test_sandbox_cli: FAIL: $*" >&2; exit 1; }
[ -x "$choso" ] && [ -x "$sbx" ] || fail "$BUILD/choso and $BUILD/choso-sandbox must be built"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-sbx-cli.XXXXXX") || exit 1
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# no simulator in the product
env -u CHOSO_CONFIG "$choso" config >"$tmp/config" 2>&1 || fail "choso config failed: $(cat "$tmp/config")"
grep -q '^sandbox\.' "$tmp/config" && fail "choso config lists sandbox.* settings"
if command -v nm >/dev/null; then
    nm "$choso" | grep -q ' sbx_' && fail "choso carries simulator code (sbx_* symbols)"
    nm "$here/$BUILD/libchoso-cx.a" 2>/dev/null | grep -q ' sbx_' && fail "libchoso-cx.a carries simulator code"
fi

# settings: defaults, environment, flags (a flag wins), refusals
"$sbx" --help >"$tmp/help" || fail "choso-sandbox --help exited $?"
grep -q -- '--shopee-port N' "$tmp/help" && grep -q CHOSO_SANDBOX_SHOPEE_PORT "$tmp/help" ||
    fail "--help does not document --shopee-port / CHOSO_SANDBOX_SHOPEE_PORT"
CHOSO_SANDBOX_SEED=7 CHOSO_SANDBOX_TOKEN_TTL=5 "$sbx" config --token-ttl 9 --no-auto-approve >"$tmp/sbxconf" ||
    fail "choso-sandbox config exited $?"
grep -Eq '^seed += 7 .*\[CHOSO_SANDBOX_SEED, env\]' "$tmp/sbxconf" || fail "seed from the environment: $(grep ^seed "$tmp/sbxconf")"
grep -Eq '^token_ttl += 9 .*flag\]' "$tmp/sbxconf" || fail "--token-ttl must win over the variable"
grep -Eq '^auto_approve += 0 ' "$tmp/sbxconf" || fail "--no-auto-approve"
grep -Eq '^review_delay_ms += 2000 .*default\]' "$tmp/sbxconf" || fail "review_delay_ms default"
"$choso" sandbox --shopee-port 70000 2>"$tmp/err"; rc=$?
[ "$rc" = 64 ] && grep -q -- "--shopee-port" "$tmp/err" || fail "--shopee-port 70000: exit $rc, $(cat "$tmp/err")"
"$choso" sandbox --nope 2>"$tmp/err"; rc=$?
[ "$rc" = 64 ] && grep -q "unknown option '--nope'" "$tmp/err" || fail "--nope through choso sandbox: exit $rc"
"$sbx" --rate fast 2>"$tmp/err"; rc=$?
[ "$rc" = 64 ] && grep -q -- "--rate" "$tmp/err" || fail "--rate fast: exit $rc"
CHOSO_SANDBOX_REVIEW_DELAY_MS=-1 "$sbx" 2>"$tmp/err"; rc=$?
[ "$rc" = 78 ] && grep -q CHOSO_SANDBOX_REVIEW_DELAY_MS "$tmp/err" || fail "bad variable: exit $rc"

# `choso sandbox` serves (the process is choso-sandbox itself), prints its URLs, stops on SIGTERM
"$choso" sandbox --review-delay-ms 5 >"$tmp/urls" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/urls" ] && break; sleep 0.1; done
[ -s "$tmp/urls" ] || fail "choso sandbox printed nothing: $(cat "$tmp/log")"
[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$sbx")" ] || fail "choso sandbox did not run choso-sandbox in its place"
admin=$("$choso" json admin <"$tmp/urls") || fail "no admin URL in $(cat "$tmp/urls")"
curl -fsS "$admin/__sandbox/config" | grep -q '"review_delay_ms":5' || fail "the flag did not reach the simulators"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "choso-sandbox did not stop on SIGTERM"
wait "$pid"; rc=$?; pid=""
[ "$rc" = 0 ] || fail "choso-sandbox exited $rc after SIGTERM"
echo "test_sandbox_cli: ok"
