#!/usr/bin/env python3
"""Python `qemu.qmp` in the fleet benchmark: `fleet_py.py SOCK N SECS`.

The same work as `fleet client` of qmp-client/examples/fleet.rs, on one
asyncio loop: N monitors connected one after the other, RSS per idle
connection (VmRSS growth / N), then each sends `query-status` once a second
for SECS seconds and consumes its events; CPU per command is user+sys of
the active phase / commands
(CLOCK_PROCESS_CPUTIME_ID on both sides). Prints one JSON line."""
import asyncio
import json
import resource
import sys
import time

from qemu.qmp import QMPClient


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def cpu():
    # CLOCK_PROCESS_CPUTIME_ID, as the Rust side reads it.
    return time.process_time()


async def connect(sock):
    pause = 0.001
    while True:
        qmp = QMPClient("fleet")
        try:
            await qmp.connect(sock)
            return qmp
        except Exception:  # backlog full: retry
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)


async def main(sock, n, secs):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rss0 = status_kb("VmRSS:")
    clients = [await connect(sock) for _ in range(n)]
    await asyncio.sleep(1)
    rss_idle = status_kb("VmRSS:")

    async def run(i, qmp):
        await asyncio.sleep(i / n)
        start = time.monotonic()
        cmds = evs = 0
        for k in range(secs):
            await asyncio.sleep(max(0.0, start + k - time.monotonic()))
            r = await qmp.execute("query-status")
            assert r["running"]
            cmds += 1
            evs += len(qmp.events.clear())
        return cmds, evs

    cpu0 = cpu()
    t0 = time.perf_counter()
    results = await asyncio.gather(*(run(i, q) for i, q in enumerate(clients)))
    wall = time.perf_counter() - t0
    c = cpu() - cpu0
    cmds = sum(r[0] for r in results)
    evs = sum(r[1] for r in results)
    for q in clients:
        await q.disconnect()
    print(json.dumps({
        "client": "python-qemu.qmp", "monitors": n, "commands": cmds,
        "events": evs, "wall_secs": wall, "cpu_secs": c,
        "cpu_us_per_command": c * 1e6 / cmds,
        "rss_baseline_kb": rss0, "rss_idle_kb": rss_idle,
        "bytes_per_idle_connection": (rss_idle - rss0) * 1024 / n,
        "peak_rss_kb": status_kb("VmHWM:"),
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
