#!/usr/bin/env bash
# tests/scripts/test_browser.sh: the web pages in headless Chromium, as part of `make test`
# (scripts/run-tests counts the closing "N passed, N failed" line of scripts/browser-tests).
# Without Chromium or playwright-core the run is counted as skipped, except under CI, where
# scripts/bootstrap browser has installed them and their absence is a failure.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${CI:-}" ] && [ "${CI:-}" != 0 ] && [ "${CI:-}" != false ]; then
    export BROWSER_TESTS_REQUIRED=${BROWSER_TESTS_REQUIRED:-1}
fi
exec "$here/scripts/browser-tests"
