#!/usr/bin/env bash
# Sets everything up, then runs the demo: a progressive campaign on the sandbox Asterisk with
# simulated customers and operators, a live dashboard, a summary and an exported CSV.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/dialer demo "$@"
