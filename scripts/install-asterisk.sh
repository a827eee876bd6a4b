#!/bin/sh
# Find or build (once) the Asterisk that the sandbox, the tests and `dialer demo` run.
# Idempotent: an `asterisk` on PATH or a valid cached root is reused; otherwise a Debian
# unstable root is built with debootstrap (needs root) into ~/.cache/dialer/asterisk-sid
# or $DIALER_ASTERISK_ROOT.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" -m dialer.pbx.sandbox --prepare
