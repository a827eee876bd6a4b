#!/usr/bin/env bash
# Sets everything up, then runs the demo: a progressive campaign on the sandbox Asterisk with
# simulated customers and operators, a live dashboard, a summary and an exported CSV.
# With --pbx simulated the sandbox Asterisk is neither needed nor prepared.
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
    case "$arg" in
        simulated | --pbx=simulated) export DIALER_SKIP_ASTERISK=1 ;;
    esac
done
bash scripts/setup.sh
exec .venv/bin/dialer demo "$@"
