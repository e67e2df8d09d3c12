#!/usr/bin/env python3
"""Peak RSS of `qmp call` receiving one huge reply.

Starts a fake QMP server on a Unix socket that answers any command with a
reply of N bytes of `[{},{},...]` (default 16.5 MB = 16 500 000 bytes, the case of issue #15; the default
message limit is 16 MiB),
runs `qmp call SOCK x-big` (untyped: the reply is printed as received) in
each output mode with stdout to /dev/null, and prints the child's peak RSS
(ru_maxrss) and its ratio to the reply size.

    bench/reply-rss.py [--qmp target/release/qmp] [--bytes 16500000]
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading


def serve(listener, reply_body):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=session, args=(conn, reply_body), daemon=True).start()


SCHEMA = json.dumps([
    {"name": "x-big", "meta-type": "command", "arg-type": "0", "ret-type": "1",
     "allow-oob": False},
    {"name": "0", "meta-type": "object", "members": []},
    {"name": "1", "meta-type": "array", "element-type": "0"},
]).encode()


def session(conn, reply_body):
    conn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, '
                 b'"package": ""}, "capabilities": []}}\r\n')
    dec = json.JSONDecoder()
    buf = ""
    while True:
        data = conn.recv(65536)
        if not data:
            conn.close()
            return
        buf += data.decode()
        while buf.strip():
            buf = buf.lstrip()
            try:
                req, end = dec.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            if req.get("execute") == "qmp_capabilities":
                out = b'{"return": {}, "id": %d}\r\n' % req["id"]
            elif req.get("execute") == "query-qmp-schema":
                # `qmp call` checks the command against the live schema
                # first: a small schema that has `x-big`, so the figure is
                # the reply's cost, not a 16.5 MB schema's.
                out = b'{"return": ' + SCHEMA + b', "id": %d}\r\n' % req["id"]
            else:
                out = b'{"return": ' + reply_body + b', "id": %d}\r\n' % req["id"]
            try:
                conn.sendall(out)
            except OSError:
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmp", default="target/release/qmp")
    ap.add_argument("--bytes", type=int, default=16_500_000)
    args = ap.parse_args()
    n = max(1, (args.bytes - 1) // 3)
    body = b"[" + b",".join([b"{}"] * n) + b"]"
    d = tempfile.mkdtemp()
    path = os.path.join(d, "big.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(8)
    threading.Thread(target=serve, args=(lst, body), daemon=True).start()
    size_kb = len(body) / 1024
    print(f"reply: {len(body)} bytes ({len(body) / 2**20:.1f} MiB) of [{{}},...], {n} elements")
    print(f"{'mode':10} {'peak RSS KiB':>12} {'x reply':>8} {'status':>6}")
    worst = 0.0
    for mode in ([], ["--pretty"], ["--raw"]):
        # A fresh child per mode: ru_maxrss of children is the maximum over
        # all waited-for children, so measure each in its own process.
        code = (
            "import resource,subprocess,sys;"
            "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, args.qmp, "call", *mode, "--timeout", "60", path, "x-big"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        rss, status = int(out[0]), int(out[1])
        ratio = rss / size_kb
        worst = max(worst, ratio)
        print(f"{(' '.join(mode) or 'compact'):10} {rss:>12} {ratio:>8.2f} {status:>6}")
    lst.close()
    print(f"worst: {worst:.2f}x the reply size")
    return 0 if worst <= 4.0 else 1


if __name__ == "__main__":
    sys.exit(main())
