#!/usr/bin/env bash
# tests/scripts/test_hostile.sh: the bad-input corpus and the connection limits against a running
# system, as part of `make test` (scripts/run-tests counts the closing "N passed, N failed" line
# of scripts/hostile-tests). Needs node (scripts/bootstrap browser, which `make test` runs).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
exec "$here/scripts/hostile-tests"
