#!/usr/bin/env bash
# Compares the speed of QEMU's Python QAPI front end with ours on the full
# QEMU 10.0.2 schema: parse + check, in-process (interpreter start-up
# excluded) and as a whole process. Run by hand from anywhere:
#
#   bench/schema-frontend.sh [RUNS]
#
# Needs python3 and the shared QEMU tree (../shared beside the workspace,
# or set SHARED=/path/to/shared). Uses CARGO_TARGET_DIR if set.
#
# Measured 2026-12-04 (branch lang), load ~12, 10 runs: whole process
# python 521 ms CPU vs qmp 15.8 ms CPU: 32.9x CPU, 46x min wall;
# in-process 35.4x CPU, 73x min wall.
#
# Earlier: measured 2026-11-26 on the shared 2-core development VM (load ~5, so
# wall times are noisy; CPU times are steadier), 20 runs:
#
#   in-process:    python 244.6 ms CPU (274 ms min wall),
#                  qmp-schema 7.65 ms CPU (6.78 ms min wall): 32x CPU, 40x min
#   whole process: python 365 ms CPU (507 ms min wall),
#                  qmp 14.5 ms CPU (12.6 ms min wall): 25x CPU, 40x min
#
# (`perf stat` counts 10.4 ms task-clock for `qmp schema check`, 59.8 M
# instructions; parse + check + free in-process is 67.6 M instructions.)
set -euo pipefail

runs=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
qemu=$shared/qemu/10.0.2
schema=$qemu/qapi/qapi-schema.json
target=${CARGO_TARGET_DIR:-$root/target}

[ -f "$schema" ] || { echo "missing $schema (set SHARED=...)" >&2; exit 1; }

echo "building release binaries..." >&2
# (two commands: `--example` would restrict a combined build to examples only)
(cd "$root" && cargo build --release -q -p qmp-cli --bin qmp &&
    cargo build --release -q -p qmp-schema --example time_frontend)
qmp=$target/release/qmp
inproc=$target/release/examples/time_frontend

# wall time and CPU time (user + system) of one run of a command, in ms
run_ms() {
    local t0 t1 cpu
    t0=$(date +%s%N)
    cpu=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 )
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000 ))" "$cpu" | awk '{printf "%.3f %.3f\n", $1 / 1000, ($2 + $3) * 1000}'
}

# min and median of column 1, mean of column 2
stats2() { sort -g | awk '{a[NR]=$1; c+=$2} END {printf "%.2f %.2f %.2f\n", a[1], a[int((NR+1)/2)], c/NR}'; }

echo "QEMU Python front end, in-process ($runs runs)..." >&2
read -r py_in_min py_in_med py_in_cpu < <(cd "$qemu/qapi" && python3 - "$runs" <<'PY'
import sys, time
sys.path.insert(0, '../scripts')
from qapi.schema import QAPISchema
runs = int(sys.argv[1])
ts = []
cpu0 = time.thread_time()
for _ in range(runs):
    t = time.perf_counter()
    QAPISchema('qapi-schema.json')
    ts.append((time.perf_counter() - t) * 1000)
cpu = (time.thread_time() - cpu0) * 1000 / runs
ts.sort()
print("%.2f %.2f %.2f" % (ts[0], ts[len(ts) // 2], cpu))
PY
)

echo "QEMU Python front end, whole process ($runs runs)..." >&2
read -r py_pr_min py_pr_med py_pr_cpu < <(cd "$qemu/qapi" && for _ in $(seq "$runs"); do
    run_ms python3 -c "import sys; sys.path.insert(0,'../scripts'); from qapi.schema import QAPISchema; QAPISchema('qapi-schema.json')"
done | stats2)

echo "qmp-schema, in-process ($((runs * 5)) runs)..." >&2
read -r rs_in_min rs_in_med rs_in_cpu < <("$inproc" "$schema" $((runs * 5)))

echo "qmp schema check, whole process ($runs runs)..." >&2
read -r rs_pr_min rs_pr_med rs_pr_cpu < <(for _ in $(seq "$runs"); do run_ms "$qmp" schema check "$schema"; done | stats2)

ratio() { echo "scale=1; $1 / $2" | bc; }
row() { printf '%-34s %10s %10s %10s\n' "$@"; }
echo
row "QEMU 10.0.2 qapi-schema.json" "min ms" "median ms" "cpu ms"
row "python (QAPISchema), in-process" "$py_in_min" "$py_in_med" "$py_in_cpu"
row "qmp-schema load, in-process" "$rs_in_min" "$rs_in_med" "$rs_in_cpu"
row "python, whole process" "$py_pr_min" "$py_pr_med" "$py_pr_cpu"
row "qmp schema check, whole process" "$rs_pr_min" "$rs_pr_med" "$rs_pr_cpu"
echo
row "speed-up" "min" "median" "cpu"
row "in-process" "$(ratio "$py_in_min" "$rs_in_min")x" "$(ratio "$py_in_med" "$rs_in_med")x" "$(ratio "$py_in_cpu" "$rs_in_cpu")x"
row "whole process" "$(ratio "$py_pr_min" "$rs_pr_min")x" "$(ratio "$py_pr_med" "$rs_pr_med")x" "$(ratio "$py_pr_cpu" "$rs_pr_cpu")x"
