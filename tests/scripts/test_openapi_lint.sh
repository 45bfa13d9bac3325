#!/usr/bin/env bash
# tests/scripts/test_openapi_lint.sh: schemas/openapi.yaml through a standard OpenAPI 3.1 linter
# (Redocly CLI, pinned in tests/openapi/package-lock.json, installed by `scripts/bootstrap
# browser`), part of `make test`: 0 errors wanted, warnings shown. test_openapi checks the
# routes against the document; this checks the document against the OpenAPI rules, which our
# own YAML reader does not (a comma inside a flow mapping silently made a new property).
# First a known-bad document must fail, so a linter that checks nothing cannot pass.
# Ends with scripts/run-tests' kind of summary line. Without node or the linter the run is
# skipped (exit 77), except under CI, where bootstrap has installed them: there it fails.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
lint="$here/tests/openapi/node_modules/.bin/redocly"
# no usage report and no update check: the lint works offline and sends nothing
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

if ! command -v node >/dev/null || [ ! -x "$lint" ]; then
    echo "test_openapi_lint: no node or no $lint (scripts/bootstrap browser installs them)"
    if [ -n "${CI:-}" ] && [ "${CI:-}" != 0 ] && [ "${CI:-}" != false ]; then
        echo "0 passed, 1 failed"
        exit 1
    fi
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/choso-openapi-lint.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

run_lint() {
    "$lint" lint --config "$here/tests/openapi/redocly.yaml" --format=stylish "$1" 2>&1 |
        grep -v -e '^ *[║╔╚]' -e '^$'
    return "${PIPESTATUS[0]}"
}

# 1. The linter is alive: the mistake this test was written for is an error.
cat >"$tmp/bad.yaml" <<'EOF'
openapi: 3.1.0
info: {title: t, version: '1', license: {name: x, identifier: MIT}}
servers: [{url: 'http://localhost'}]
security: []
paths:
  /x:
    get:
      operationId: getX
      summary: x
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: string, description: one thing, then another}
        '400': {description: bad}
EOF
if run_lint "$tmp/bad.yaml" >"$tmp/bad.out"; then
    echo "FAIL: the linter accepted a flow mapping whose description a comma split:"
    sed 's/^/    /' "$tmp/bad.out"
    fail=$((fail + 1))
elif ! grep -q 'then another' "$tmp/bad.out"; then
    echo "FAIL: the linter refused the bad document for another reason:"
    sed 's/^/    /' "$tmp/bad.out"
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi

# 2. Our document: no error.
if run_lint "$here/schemas/openapi.yaml"; then
    pass=$((pass + 1))
else
    echo "FAIL: schemas/openapi.yaml has lint errors (above)"
    fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
