#!/usr/bin/env bash
# Creates benches/simpy/.venv with the pinned SimPy of requirements.txt (needs python3 with
# its venv module; on Debian `apt-get install -y python3-venv` provides it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Debian's python3 has the venv module but not ensurepip, which creating a venv needs.
if ! python3 -c "import ensurepip, venv" > /dev/null 2>&1; then
    apt-get update && apt-get install -y python3-venv
fi
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet --requirement "$here/requirements.txt"
