#!/usr/bin/env bash
# Installs what the test suite needs beyond a Rust toolchain: Debian's `chromium`, which
# tests/it/report.rs uses to render report.html headless. Idempotent; needs root (or sudo)
# and Debian's package archive.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium: $(chromium --version 2>/dev/null || echo present)"
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium: $(chromium --version)"
