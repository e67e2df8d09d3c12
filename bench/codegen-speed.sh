#!/usr/bin/env bash
# Generation speed: qmp-codegen (release build of the `generate` example)
# vs QEMU's own Python generator, on QEMU 10.0.2's QMP schema. Both read,
# check and generate everything and write their files; best of RUNS runs.
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
ours=$("$target/release/examples/generate" "$schema" "$out/rust" "$runs" | awk '{print $4}')

best=""
for _ in $(seq "$runs"); do
    t0=$(date +%s.%N)
    python3 "$qemu/scripts/qapi-gen.py" -o "$out/python" "$schema" >/dev/null
    t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done

echo "qmp-codegen: ${ours}s (best of $runs)"
echo "qapi-gen.py: ${best}s (best of $runs)"
echo "speed-up: $(echo "scale=1; $best / $ours" | bc)x"
