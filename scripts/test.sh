#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite: lint, types, and pytest against real SQLite,
# a throwaway PostgreSQL and the real sandbox Asterisk (tests that need them fail, never skip, here).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-postgres.sh
export DIALER_REQUIRE_ASTERISK=1
export DIALER_REQUIRE_POSTGRES=1
export DIALER_REQUIRE_BROWSER=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "pytest collected no tests"
    exit 0
fi
exit "$status"
