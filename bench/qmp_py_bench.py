#!/usr/bin/env python3
"""Python `qemu.qmp` in the client benchmark: `qmp_py_bench.py seq|pipe64 N SOCK`.

Prints one JSON record like the Rust benchmark binaries (CPU time is
user+sys of this process via getrusage, peak RSS from ru_maxrss)."""
import asyncio
import json
import resource
import sys
import time

from qemu.qmp import QMPClient


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main(mode, n, sock):
    qmp = QMPClient("bench")
    await qmp.connect(sock)
    start = time.perf_counter()
    cpu0 = cpu()
    if mode == "seq":
        for _ in range(n):
            r = await qmp.execute("query-status")
            assert "status" in r
    else:
        async def worker(k):
            for _ in range(k):
                await qmp.execute("query-status")
        per = [n // 64 + (1 if w < n % 64 else 0) for w in range(64)]
        await asyncio.gather(*(worker(k) for k in per))
    secs = time.perf_counter() - start
    c = cpu() - cpu0
    await qmp.disconnect()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"client": "python-qemu.qmp", "mode": mode, "calls": n,
                      "secs": secs, "cpu_secs": c, "maxrss_kb": rss}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
