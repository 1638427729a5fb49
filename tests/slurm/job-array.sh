#!/usr/bin/env bash
# patchfleet experiment as a real Slurm job array: a single-node cluster (Debian's
# slurm-wlm and munge) on this machine, with deploy/slurm/experiment.sbatch as users submit it.
#
# 1. run tests/slurm/experiment.toml unsharded (9 runs of a 1,000-instance scenario);
# 2. start munged, slurmctld and slurmd on 127.0.0.1 (free ports, every file in a temp dir);
# 3. submit the experiment as `--array=0-3` with a merge job `--dependency=afterok:` it,
#    as the sbatch file's comments show, and compare the merged directory with the
#    unsharded one byte for byte (`diff -r`);
# 4. again as `--array=1-4` (patchfleet takes the shard index relative to the array's
#    first index), merged with `patchfleet experiment merge` outside Slurm, compared again;
# 5. a non-contiguous `--array=0-6:2`: every one of its tasks must fail, and the
#    merge job that depends on the array must be cancelled, not run;
# 6. the sbatch file submitted without --array must refuse (exit 2), not run everything.
#
# Run by .ci/run after the nginx load test; about half a minute once Slurm is installed.
# Every failure is loud (exit non-zero, with the daemons' logs and the jobs' output);
# nothing is skipped. Every daemon it starts is stopped on exit and its temp dir removed.
set -euo pipefail
cd "$(dirname "$0")/../.."

TIMEOUT=180                 # seconds any one sbatch --wait may take
EXPERIMENT=tests/slurm/experiment.toml
SBATCH_FILE=deploy/slurm/experiment.sbatch

fail() {
    echo "slurm job-array test FAILED: $*" >&2
    exit 1
}

missing=()
for tool in munged mungekey slurmctld slurmd sbatch sinfo scontrol scancel; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if (( ${#missing[@]} > 0 )); then
    echo "== installing Debian's slurm-wlm and munge (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge >/dev/null
fi
for tool in munged mungekey slurmctld slurmd sbatch sinfo scontrol scancel; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed and could not be installed"
done

work="$(mktemp -d)"
chmod 711 "$work"   # munged wants every directory above its socket searchable
pids=()        # munged, slurmctld, slurmd, in start order
show_logs() {
    for log in "$work"/log/*; do
        [[ -f "$log" ]] || continue
        echo "---- tail of $(basename "$log")" >&2
        tail -n 40 "$log" >&2
    done
    for out in "$work"/jobs/*; do
        [[ -f "$out" ]] || continue
        echo "---- job output $(basename "$out")" >&2
        cat "$out" >&2
    done
}
stop_daemons() {
    if [[ -n "${SLURM_CONF:-}" ]] && (( ${#pids[@]} > 1 )); then
        scancel --quiet --user "$(id -un)" 2>/dev/null || true
    fi
    local i pid
    for (( i = ${#pids[@]} - 1; i >= 0; i-- )); do
        pid="${pids[i]}"
        kill -0 "$pid" 2>/dev/null || continue
        kill "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
    done
}
cleanup() {
    local status=$?
    (( status == 0 )) || show_logs
    stop_daemons
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# Run inside a Slurm job or a Kubernetes pod, these would make the unsharded run a shard.
unset SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
    SLURM_ARRAY_TASK_MAX SLURM_ARRAY_TASK_STEP JOB_COMPLETION_INDEX

cargo build --quiet
export PATCHFLEET="$PWD/target/debug/patchfleet"

echo "== unsharded: patchfleet experiment $EXPERIMENT"
"$PATCHFLEET" experiment "$EXPERIMENT" --quiet --out "$work/unsharded" >"$work/unsharded.txt"
[[ -s "$work/unsharded/runs.csv" ]] || fail "the unsharded experiment wrote no runs.csv"

echo "== starting munged, slurmctld and slurmd"
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
node="$(hostname -s)"
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/jobs"
chmod 711 "$work/munge"   # clients reach the socket; only root reads the key
mungekey --create --keyfile="$work/munge/munge.key"
munged --foreground --key-file="$work/munge/munge.key" \
    --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --seed-file="$work/munge/munged.seed" --log-file="$work/log/munged.log" \
    >"$work/log/munged.out" 2>&1 &
pids+=($!)
cat >"$work/slurm.conf" <<EOF
ClusterName=patchfleet-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
for _ in $(seq 50); do
    [[ -S "$work/munge/munge.socket" ]] && break
    sleep 0.1
done
[[ -S "$work/munge/munge.socket" ]] || fail "munged did not open its socket"
slurmctld -D -i >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$node" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 60); do
    state="$(sinfo --noheader --Node --format=%T 2>/dev/null || true)"
    [[ "$state" == idle ]] && break
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || fail "a daemon exited (pid $pid)"
    done
    sleep 0.5
done
[[ "$state" == idle ]] || fail "node $node is not idle after 30 s (sinfo: '${state}')"
echo "node $node idle"

# One CPU per task, so two tasks run at once on two cores; RealMemory is 1024 MB.
task_options=(--cpus-per-task=1 --mem=256M)

submit_array() { # ARRAY SHARDS_DIR: prints the job id
    sbatch --parsable "${task_options[@]}" --array="$1" --output="$work/jobs/%A_%a.out" \
        "$SBATCH_FILE" "$EXPERIMENT" "$2"
}
# The merge job after DEPENDENCY_JOB; prints its final JobState (COMPLETED, FAILED,
# CANCELLED, ...). Not sbatch --wait's status alone: for a job cancelled because its
# dependency can never be met, it exits 0.
merge_state() { # DEPENDENCY_JOB SHARDS_DIR RESULT_DIR
    local id status=0
    id="$(timeout "$TIMEOUT" sbatch --wait --parsable "${task_options[@]}" --dependency="afterok:$1" \
        --kill-on-invalid-dep=yes --output="$work/jobs/merge-%j.out" \
        "$SBATCH_FILE" merge "$2" "$3")" || status=$?
    (( status != 124 )) || fail "the merge job after job $1 did not end within $TIMEOUT s"
    [[ -n "$id" ]] || fail "the merge job after job $1 was not submitted"
    scontrol show job --oneliner "$id" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2
}
same_as_unsharded() { # RESULT_DIR LABEL
    [[ -s "$1/runs.csv" ]] || fail "$2: the merge wrote no runs.csv"
    diff -r "$work/unsharded" "$1" >&2 || fail "$2: merged shards differ from the unsharded run"
    echo "$2: merged shards are byte-identical to the unsharded run ($(find "$1" -type f | wc -l) files)"
}
shards_are() { # SHARDS_DIR EXPECTED_NAMES...
    local dir="$1"
    shift
    local got
    got="$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
    [[ "$got" == "$* " ]] || fail "shard directories in $dir are '$got', expected '$* '"
}

echo "== sbatch --array=0-3 $SBATCH_FILE, then the merge job (afterok)"
job="$(submit_array 0-3 "$work/shards-0")"
state="$(merge_state "$job" "$work/shards-0" "$work/merged-0")"
[[ "$state" == COMPLETED ]] || fail "the merge job after array $job ended $state"
shards_are "$work/shards-0" 0-of-4 1-of-4 2-of-4 3-of-4
same_as_unsharded "$work/merged-0" "--array=0-3"

echo "== sbatch --array=1-4 --wait, then patchfleet experiment merge"
status=0
timeout "$TIMEOUT" sbatch --wait --quiet "${task_options[@]}" --array=1-4 \
    --output="$work/jobs/%A_%a.out" "$SBATCH_FILE" "$EXPERIMENT" "$work/shards-1" || status=$?
(( status != 124 )) || fail "the --array=1-4 job did not end within $TIMEOUT s"
(( status == 0 )) || fail "the --array=1-4 job failed (sbatch --wait exit $status)"
shards_are "$work/shards-1" 0-of-4 1-of-4 2-of-4 3-of-4
"$PATCHFLEET" experiment merge --out "$work/merged-1" "$work/shards-1"/*
same_as_unsharded "$work/merged-1" "--array=1-4"

echo "== sbatch --array=0-6:2 (not contiguous): tasks fail, the merge never runs"
# Tasks 0 to 6 step 2 of a 4-task array: SLURM_ARRAY_TASK_COUNT=4 but MAX - MIN + 1 = 7,
# so every task must fail naming the contiguity rule and write no shard, and the merge
# job, afterok on the whole array, must never run.
job="$(submit_array 0-6:2 "$work/shards-2")"
state="$(merge_state "$job" "$work/shards-2" "$work/merged-2")"
[[ "$state" == CANCELLED ]] || fail "the merge job after a non-contiguous array ended $state, not CANCELLED"
[[ ! -e "$work/merged-2" ]] || fail "a merge of a non-contiguous array wrote $work/merged-2"
for task in 0 2 4 6; do
    out="$work/jobs/${job}_${task}.out"
    [[ -f "$out" ]] || fail "task $task of the non-contiguous array left no output"
    grep -q "must be contiguous" "$out" || fail "task $task of the non-contiguous array does not name the contiguity rule"
    [[ ! -e "$work/shards-2/${task}-of-4" ]] || fail "task $task of the non-contiguous array wrote a shard"
done
echo "--array=0-6:2: every task refused, the merge job was cancelled"

echo "== sbatch without --array: the task refuses to run the whole experiment"
status=0
timeout "$TIMEOUT" sbatch --wait --quiet "${task_options[@]}" --output="$work/jobs/no-array-%j.out" \
    "$SBATCH_FILE" "$EXPERIMENT" "$work/shards-3" || status=$?
(( status != 124 )) || fail "the job without --array did not end within $TIMEOUT s"
(( status == 2 )) || fail "the job without --array ended with status $status, not 2"
grep -q -- "--array" "$work"/jobs/no-array-*.out || fail "the job without --array does not say to use --array"
[[ ! -e "$work/shards-3" ]] || fail "the job without --array wrote $work/shards-3"
echo "without --array: refused (exit 2)"

echo "== slurm job-array test ok"
