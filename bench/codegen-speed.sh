#!/usr/bin/env bash
# Generation speed: qmp-codegen (release build of the `generate` example)
# vs QEMU's own Python generator, on QEMU 10.0.2's QMP schema. Both read,
# check and generate everything and write their files. Reports the best of
# 2 x RUNS fresh processes for each (what a build script costs), and for
# qmp-codegen also the best of RUNS runs inside one process (warm heap).
#
# Usage: bench/codegen-speed.sh [RUNS]   (default 5)
# Needs python3 and the QEMU tree beside the workspace (../shared/qemu/10.0.2
# or QEMU_TREE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
qemu=${QEMU_TREE:-$root/../shared/qemu/10.0.2}
schema=$qemu/qapi/qapi-schema.json
out=${TMPDIR:-/tmp}/qmp-codegen-speed
mkdir -p "$out/rust" "$out/python"

(cd "$root" && cargo build -q --release -p qmp-codegen --example generate)
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
gen=$target/release/examples/generate

# Best wall time of RUNS runs of a command, each a fresh process.
best_process() {
    local best="" t0 t1 t
    for _ in $(seq "$runs"); do
        t0=$(date +%s.%N)
        "$@" >/dev/null
        t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}

# Interleave the two so load on the machine hits both alike.
ours_process=$(best_process "$gen" "$schema" "$out/rust" 1)
python=$(best_process python3 "$qemu/scripts/qapi-gen.py" -o "$out/python" "$schema")
ours_in_process=$("$gen" "$schema" "$out/rust" "$runs" | awk '{print $4}')
ours_process2=$(best_process "$gen" "$schema" "$out/rust" 1)
python2=$(best_process python3 "$qemu/scripts/qapi-gen.py" -o "$out/python" "$schema")
min() { if [ "$(echo "$1 < $2" | bc)" = 1 ]; then echo "$1"; else echo "$2"; fi; }
ours_process=$(min "$ours_process" "$ours_process2")
python=$(min "$python" "$python2")

echo "qapi-gen.py (whole process):  ${python}s (best of $((2 * runs)))"
echo "qmp-codegen (whole process):  ${ours_process}s (best of $((2 * runs)))"
echo "qmp-codegen (in-process):     ${ours_in_process}s (best of $runs runs in one process)"
echo "speed-up, whole process: $(echo "scale=1; $python / $ours_process" | bc)x"
echo "speed-up, in-process:    $(echo "scale=1; $python / $ours_in_process" | bc)x"
