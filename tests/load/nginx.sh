#!/usr/bin/env bash
# patchfleet load against a real web server: Debian's nginx serving a seeded mirror on
# 127.0.0.1 with a per-connection rate limit and a connection cap.
#
# 1. seed a mirror directory with the mirror-stampede scenario's objects (sparse files);
# 2. start nginx on a free port: limit_rate RATE bytes/s per connection, limit_conn CONNS;
# 3. `patchfleet load --calibrate`, and check what it measured against that configuration;
# 4. put the calibrated [[repository]] (and the per-connection rate as the instances'
#    download_mbps) into a copy of mirror-stampede, replay the first MAX_REQUESTS downloads
#    of its saturday-night window at SPEEDUP, and check every download succeeded on
#    schedule and the measured latency is near the simulation's prediction.
#
# Run by .ci/run after cargo test; about a minute. Every failure is loud (exit non-zero);
# nothing is skipped. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

RATE=65536          # bytes per second per connection (nginx limit_rate)
CONNS=400           # connections at once (nginx limit_conn); mirror-stampede's cap
SPEEDUP=600         # model seconds per real second; objects are 1/600 of the patch's size
MAX_REQUESTS=800    # two rounds of 400 connections, about 9 s each

fail() {
    echo "nginx load test FAILED: $*" >&2
    exit 1
}

if ! command -v nginx >/dev/null 2>&1; then
    echo "== installing Debian's nginx"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
command -v nginx >/dev/null 2>&1 || fail "nginx is not installed and could not be installed"

work="$(mktemp -d)"
chmod 755 "$work"   # nginx's workers run as an unprivileged user
nginx_pid=""
cleanup() {
    if [[ -n "$nginx_pid" ]] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill "$nginx_pid"
        wait "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet
patchfleet="$PWD/target/debug/patchfleet"

echo "== seeding the mirror"
"$patchfleet" load seed "$work/mirror" scenarios/mirror-stampede.toml --size-scale "$SPEEDUP"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/temp"
cat >"$work/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 8192;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $work/temp;
    limit_conn_zone \$server_name zone=mirror:1m;
    server {
        listen 127.0.0.1:$port;
        server_name mirror;
        root $work/mirror;
        location / {
            limit_conn mirror $CONNS;
            limit_conn_status 503;
            limit_rate $RATE;
        }
    }
}
EOF
echo "== starting nginx on 127.0.0.1:$port (limit_rate $RATE, limit_conn $CONNS)"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log" &
nginx_pid=$!
for _ in $(seq 50); do
    if curl_ok="$(python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/calibrate.bin', timeout=1).read(1); print('up')" 2>/dev/null)"; then
        break
    fi
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$work/error.log" >&2; fail "nginx exited"; }
    sleep 0.1
done
[[ "${curl_ok:-}" == "up" ]] || { cat "$work/error.log" >&2; fail "nginx did not answer on port $port"; }
target="http://127.0.0.1:$port/"

echo "== patchfleet load --calibrate"
# Eight seconds per rate: a client that falls behind on a loaded machine catches up from
# its socket buffers (about a second of data per connection) within the measurement, which
# over three seconds read 18% high once.
"$patchfleet" load --calibrate --calibrate-seconds 8 --target "$target" scenarios/mirror-stampede.toml \
    | tee "$work/calibration.toml"
python3 - "$work/calibration.toml" "$RATE" "$CONNS" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
rate, conns = int(sys.argv[2]), int(sys.argv[3])
configured = rate * 8 / 1e6
single = float(re.search(r"download_mbps = ([0-9.]+)", text).group(1))
bandwidth = float(re.search(r"^bandwidth_mbps = ([0-9.]+)", text, re.M).group(1))
cap = int(re.search(r"^max_connections = ([0-9]+)", text, re.M).group(1))
problems = []
if abs(single - configured) > 0.1 * configured:
    problems.append(f"one connection measured {single} Mbit/s, nginx is configured for {configured:.3f}")
if cap != conns:
    problems.append(f"max_connections measured {cap}, nginx is configured for {conns}")
if abs(bandwidth - conns * configured) > 0.15 * conns * configured:
    problems.append(f"bandwidth measured {bandwidth} Mbit/s, {conns} x {configured:.3f} expected")
if problems:
    sys.exit("calibration does not match nginx: " + "; ".join(problems))
print(f"calibration matches nginx: {single} Mbit/s per connection (configured {configured:.3f}), "
      f"{cap} connections, {bandwidth} Mbit/s in all")
EOF

echo "== the calibrated scenario"
python3 - scenarios/mirror-stampede.toml "$work/calibration.toml" "$work/calibrated.toml" <<'EOF'
import re, sys
scenario, calibration, out = sys.argv[1:]
text = open(scenario).read()
measured = open(calibration).read()
single = re.search(r"download_mbps = ([0-9.]+)", measured).group(1)
bandwidth = re.search(r"^bandwidth_mbps = ([0-9.]+)", measured, re.M).group(1)
cap = re.search(r"^max_connections = ([0-9]+)", measured, re.M).group(1)
for key, value in [("download_mbps", single), ("bandwidth_mbps", bandwidth), ("max_connections", cap)]:
    text, n = re.subn(rf"^{key} = [0-9.]+", f"{key} = {value}", text, count=1, flags=re.M)
    if n != 1:
        sys.exit(f"{scenario} has no `{key} = ...` line to calibrate")
open(out, "w").write(text)
print(f"download_mbps = {single}, bandwidth_mbps = {bandwidth}, max_connections = {cap}")
EOF

echo "== patchfleet load: saturday-night at speedup $SPEEDUP, $MAX_REQUESTS downloads"
"$patchfleet" load --target "$target" "$work/calibrated.toml" --window saturday-night \
    --speedup "$SPEEDUP" --max-requests "$MAX_REQUESTS" --duration 50s --out "$work/results"
python3 - "$work/results/load.json" "$MAX_REQUESTS" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
problems = []
if s["stop"] != "completed" or s["succeeded"] != n or s["failed"] != 0:
    problems.append(f"stop {s['stop']}, {s['succeeded']} of {n} succeeded, {s['failed']} failed: {s['errors']}")
if s["dispatch_lag_s"]["max"] > 0.5:
    problems.append(f"downloads started up to {s['dispatch_lag_s']['max']} s late")
measured, predicted = s["latency_model_s"], s["predicted_s"]
for p in ["p50", "p90", "p99", "max"]:
    m, q = measured[p], predicted[p]
    print(f"{p}: measured {m:.0f} s, predicted {q:.0f} s (model time), ratio {m / q:.2f}")
    if not 0.75 <= m / q <= 1.25:
        problems.append(f"{p} measured {m:.0f} s against {q:.0f} s predicted")
if problems:
    sys.exit("replay against nginx: " + "; ".join(problems))
print("replay against nginx matches the calibrated model")
EOF
for file in load.json load.csv requests.csv report.html; do
    [[ -s "$work/results/$file" ]] || fail "$file was not written"
done
echo "== nginx load test ok"
