#!/usr/bin/env bash
# Compile cost of the generated bindings, side by side with the crates.io
# crate `qapi-qmp` (QEMU 9.1 schema, serde derives): clean debug builds of
# each, alternating, ROUNDS times (default 2), reporting the best time of
# each, the size of the generated code, and the ratio qmp-types / qapi-qmp.
#
# Both are built the way a user's project builds them: as a dependency of a
# one-line crate in a workspace of its own, with cargo's default `dev`
# profile (so this repository's profile settings do not apply) and without
# incremental compilation, which cargo uses only for workspace members and
# path dependencies, never for a crate from crates.io. `qmp-types` is a path
# dependency here, hence CARGO_INCREMENTAL=0; it pins the dependency versions
# of this repository's Cargo.lock.
#
# Usage: bench/compile-cost.sh [ROUNDS]
# Env:   FEATURES   extra cargo features for qmp-types (default: none, i.e.
#                   the default features)
#        QMP_SCHEMA as for qmp-types' build script
# Needs network access to crates.io the first time (to fetch qapi-qmp).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-2}
work=${TMPDIR:-/tmp}/qmp-compile-cost
mkdir -p "$work/qapi/src" "$work/ours/src"
cat >"$work/qapi/Cargo.toml" <<'TOML'
[package]
name = "qapi-qmp-cost"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
qapi-qmp = "=0.15.0"
[workspace]
TOML
echo 'pub use qapi_qmp;' >"$work/qapi/src/lib.rs"
features=""
if [ -n "${FEATURES:-}" ]; then
    features=", features = [$(echo "$FEATURES" | tr ', ' '\n\n' | sed '/^$/d; s/.*/"&"/' | paste -sd, -)]"
fi
cat >"$work/ours/Cargo.toml" <<TOML
[package]
name = "qmp-types-cost"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
qmp-types = { path = "$root/qmp-types"$features }
[workspace]
TOML
echo 'pub use qmp_types;' >"$work/ours/src/lib.rs"
cp "$root/Cargo.lock" "$work/ours/Cargo.lock"
(cd "$work/qapi" && cargo fetch -q)
(cd "$work/ours" && cargo fetch -q)
export CARGO_INCREMENTAL=0

now() { date +%s.%N; }
best_qapi=""
best_ours=""
for i in $(seq "$rounds"); do
    rm -rf "$work/target-qapi" "$work/target-ours"
    t0=$(now)
    (cd "$work/qapi" && CARGO_TARGET_DIR="$work/target-qapi" cargo build -q --offline)
    t1=$(now)
    (cd "$work/ours" && CARGO_TARGET_DIR="$work/target-ours" cargo build -q --offline)
    t2=$(now)
    q=$(echo "$t1 - $t0" | bc)
    o=$(echo "$t2 - $t1" | bc)
    echo "round $i: qapi-qmp ${q}s, qmp-types ${o}s"
    if [ -z "$best_qapi" ] || [ "$(echo "$q < $best_qapi" | bc)" = 1 ]; then best_qapi=$q; fi
    if [ -z "$best_ours" ] || [ "$(echo "$o < $best_ours" | bc)" = 1 ]; then best_ours=$o; fi
done

size() { find "$@" -type f \( -name '*.rs' -o -name '*.json' \) -printf '%s %p\n' 2>/dev/null; }
echo
echo "generated code:"
qapi_out=$(find "$work/target-qapi/debug/build" -mindepth 2 -maxdepth 2 -path '*/qapi-qmp-*/out' -type d -print -quit)
ours_out=$(find "$work/target-ours/debug/build" -mindepth 2 -maxdepth 2 -path '*/qmp-types-*/out' -type d -print -quit)
if [ -n "$qapi_out" ]; then size "$qapi_out" | sed 's/^/  qapi-qmp  /'; fi
if [ -n "$ours_out" ]; then size "$ours_out" | sed 's/^/  qmp-types /'; fi
echo
echo "best clean debug build: qapi-qmp ${best_qapi}s, qmp-types ${best_ours}s"
echo "ratio qmp-types / qapi-qmp: $(echo "scale=2; $best_ours / $best_qapi" | bc)"
