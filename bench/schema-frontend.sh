#!/usr/bin/env bash
# Compares the speed of QEMU's Python QAPI front end with ours on the full
# QEMU 10.0.2 schema: parse + check, in-process (interpreter start-up
# excluded) and as a whole process. Run by hand from anywhere:
#
#   bench/schema-frontend.sh [RUNS]
#
# Needs python3 and the shared QEMU tree (../shared beside the workspace,
# or set SHARED=/path/to/shared). Uses CARGO_TARGET_DIR if set.
set -euo pipefail

runs=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
qemu=$shared/qemu/10.0.2
schema=$qemu/qapi/qapi-schema.json
target=${CARGO_TARGET_DIR:-$root/target}

[ -f "$schema" ] || { echo "missing $schema (set SHARED=...)" >&2; exit 1; }

echo "building release binaries..." >&2
(cd "$root" && cargo build --release -q -p qmp-cli -p qmp-schema --example time_frontend)
qmp=$target/release/qmp
inproc=$target/release/examples/time_frontend

# min and median (ms) of numbers on stdin
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[1], a[int((NR+1)/2)]}'; }

# wall time of one run of a command, in ms
wall_ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    echo "scale=3; ($t1 - $t0) / 1000000" | bc
}

echo "QEMU Python front end, in-process ($runs runs)..." >&2
read -r py_in_min py_in_med < <(cd "$qemu/qapi" && python3 - "$runs" <<'PY'
import sys, time
sys.path.insert(0, '../scripts')
from qapi.schema import QAPISchema
runs = int(sys.argv[1])
ts = []
for _ in range(runs):
    t = time.perf_counter()
    QAPISchema('qapi-schema.json')
    ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print("%.2f %.2f" % (ts[0], ts[len(ts) // 2]))
PY
)

echo "QEMU Python front end, whole process ($runs runs)..." >&2
read -r py_pr_min py_pr_med < <(cd "$qemu/qapi" && for _ in $(seq "$runs"); do
    wall_ms python3 -c "import sys; sys.path.insert(0,'../scripts'); from qapi.schema import QAPISchema; QAPISchema('qapi-schema.json')"
done | stats)

echo "qmp-schema, in-process ($((runs * 5)) runs)..." >&2
read -r rs_in_min rs_in_med < <("$inproc" "$schema" $((runs * 5)))

echo "qmp schema check, whole process ($runs runs)..." >&2
read -r rs_pr_min rs_pr_med < <(for _ in $(seq "$runs"); do wall_ms "$qmp" schema check "$schema"; done | stats)

ratio() { echo "scale=1; $1 / $2" | bc; }
printf '\n%-34s %10s %10s\n' "QEMU 10.0.2 qapi-schema.json" "min ms" "median ms"
printf '%-34s %10s %10s\n' "python (QAPISchema), in-process" "$py_in_min" "$py_in_med"
printf '%-34s %10s %10s\n' "qmp-schema load, in-process" "$rs_in_min" "$rs_in_med"
printf '%-34s %10s %10s\n' "python, whole process" "$py_pr_min" "$py_pr_med"
printf '%-34s %10s %10s\n' "qmp schema check, whole process" "$rs_pr_min" "$rs_pr_med"
printf '\nspeed-up in-process:   %sx (min)  %sx (median)\n' "$(ratio "$py_in_min" "$rs_in_min")" "$(ratio "$py_in_med" "$rs_in_med")"
printf 'speed-up whole process: %sx (min)  %sx (median)\n' "$(ratio "$py_pr_min" "$rs_pr_min")" "$(ratio "$py_pr_med" "$rs_pr_med")"
