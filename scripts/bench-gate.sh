#!/usr/bin/env bash
# The benchmark gate's CI subset: callgrind instruction counts of the fixed suite, compared
# with results/baselines/bench.json. Exits 3 when a measure regressed beyond its tolerance.
# Installs valgrind (Debian package) when it is missing. Extra arguments go to the gate,
# e.g. `scripts/bench-gate.sh --filter scan_evaluation`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "== installing valgrind"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
valgrind --version

exec cargo bench --bench gate -- --instructions-only "$@"
