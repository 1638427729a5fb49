#!/usr/bin/env bash
# The small fleet (benches/scenarios/small-fleet.toml) in patchfleet and in SimPy, in one run:
# builds the release binary, installs SimPy into benches/simpy/.venv (setup.sh), then times
# each whole process (start, parse, simulate, write results) and prints the medians and
# their ratio. Usage: benches/simpy/compare.sh [PATCHFLEET_RUNS] [SIMPY_RUNS] (default 10, 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
cargo build --release --quiet
"$here/setup.sh"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$here/.venv/bin/python" - "$root" "$out" "${1:-10}" "${2:-3}" <<'PY'
import statistics, subprocess, sys, time

root, out, pf_runs, simpy_runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
scenario = f"{root}/benches/scenarios/small-fleet.toml"

def median_seconds(command, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)

patchfleet = median_seconds(
    [f"{root}/target/release/patchfleet", "run", scenario, "-q", "--force", "--out", f"{out}/patchfleet"], pf_runs)
simpy = median_seconds(
    [f"{root}/benches/simpy/.venv/bin/python", f"{root}/benches/simpy/small_fleet.py", scenario, f"{out}/simpy"],
    simpy_runs)
print(f"small fleet, whole process, median wall time")
print(f"  patchfleet run   {patchfleet * 1000:9.1f} ms  ({pf_runs} runs)")
print(f"  SimPy model      {simpy * 1000:9.1f} ms  ({simpy_runs} runs)")
print(f"  ratio            {simpy / patchfleet:9.1f} x")
PY
