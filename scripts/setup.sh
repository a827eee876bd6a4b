#!/usr/bin/env bash
# Sets up everything the product needs on a Debian/Ubuntu machine: a virtual environment with the
# package and its dev tools, and (unless DIALER_SKIP_ASTERISK=1) the sandbox Asterisk.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "error: python3 (3.11 or newer) is required: apt-get install python3 python3-venv" >&2
    exit 2
fi
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "error: Python 3.11 or newer is required, found $("$PY" --version 2>&1)" >&2
    exit 2
fi

if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$PY" -m venv .venv
        else
            echo "error: cannot create a virtual environment: apt-get install python3-venv" >&2
            exit 2
        fi
    fi
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'

# The console's browser tests drive Debian's chromium through Playwright (never `playwright install`).
if [ "${DIALER_SKIP_BROWSER:-0}" != 1 ] && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: /usr/bin/chromium is missing (apt-get install chromium): browser tests cannot run" >&2
    fi
fi

if [ "${DIALER_SKIP_ASTERISK:-0}" != 1 ]; then
    bash scripts/install-asterisk.sh
fi
