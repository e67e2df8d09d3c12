#!/usr/bin/env bash
# Fleet scale: N monitors (default 1000) from one process against the fake
# QEMU of qmp_client::testing (in its own process), each sending
# `query-status` once a second plus one event per command, for SECS seconds
# (default 20). Prints RSS per idle connection and CPU per command for
# qmp-client (tokio, one current-thread runtime) and Python qemu.qmp (one
# asyncio loop), side by side. Run by hand: bench/fleet.sh [N] [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
SECS=${2:-20}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p qmp-client --features testing --example fleet
BIN="$CARGO_TARGET_DIR/release/examples/fleet"

VENV=/tmp/qmp-bench-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import qemu.qmp' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q qemu.qmp
fi

DIR=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
# The server serves until its stdin (fd 3 here) closes.
mkfifo "$DIR/ctl"
"$BIN" serve $((SECS + 5)) < "$DIR/ctl" > "$DIR/sock" &
exec 3> "$DIR/ctl"
for _ in $(seq 200); do [ -s "$DIR/sock" ] && break; sleep 0.05; done
SOCK=$(cat "$DIR/sock")

ulimit -n "$(ulimit -Hn)"
"$BIN" client "$SOCK" "$N" "$SECS" > "$DIR/rust.json"
"$VENV/bin/python" bench/fleet_py.py "$SOCK" "$N" "$SECS" > "$DIR/py.json"

python3 - "$DIR/rust.json" "$DIR/py.json" <<'PY'
import json, sys
r, p = (json.load(open(f)) for f in sys.argv[1:3])
print(f"{'':28}{'qmp-client':>14}{'qemu.qmp':>14}")
for key, label, fmt in [
    ("monitors", "monitors", "{:.0f}"),
    ("commands", "commands", "{:.0f}"),
    ("events", "events consumed", "{:.0f}"),
    ("bytes_per_idle_connection", "RSS per idle conn (KiB)", "{:.1f}"),
    ("peak_rss_kb", "peak RSS (MiB)", "{:.1f}"),
    ("cpu_us_per_command", "CPU per command (us)", "{:.1f}"),
]:
    a, b = r[key], p[key]
    if key == "bytes_per_idle_connection":
        a, b = a / 1024, b / 1024
    if key == "peak_rss_kb":
        a, b = a / 1024, b / 1024
    print(f"{label:28}{fmt.format(a):>14}{fmt.format(b):>14}")
print(f"CPU ratio (qemu.qmp / qmp-client): {p['cpu_us_per_command'] / r['cpu_us_per_command']:.1f}x")
print(f"targets: <= 64 KiB per idle connection: {'yes' if r['bytes_per_idle_connection'] <= 65536 else 'NO'}; "
      f">= 5x less CPU: {'yes' if p['cpu_us_per_command'] >= 5 * r['cpu_us_per_command'] else 'NO'}")
PY
