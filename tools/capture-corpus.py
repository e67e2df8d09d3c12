#!/usr/bin/env python3
"""Capture a wire corpus from real QEMU binaries (Python 3 stdlib only).

Runs qemu-system-x86_64 (twice: `-machine none` and a q35 machine with a few
devices), qemu-storage-daemon and qemu-ga on the host, talks QMP (resp. the
guest agent protocol) over unix sockets in a private temporary directory, and
writes what was said, as pretty JSON in a deterministic order, to
qmp-types/tests/corpus/ (or the directory given with --out):

  qemu-system-none.json, qemu-system-q35.json, storage-daemon.json
      {"greeting": ..., "commands": [{"command", "arguments", "reply"}...]}
      where reply is the raw `return` or `error` object of the reply.
  events-q35.json
      {"greeting": ..., "log": [...]}: a scripted session on q35, every
      command with its reply and every event, in the order they arrived.
  qemu-ga.json
      {"commands": [...]} for the allowed guest-agent commands.
  qemu-system-q35.schema.json, storage-daemon.schema.json
      the raw `query-qmp-schema` replies ({"return": [...]}).

Which commands are run: every command of the binary's own schema that takes
no required argument and only reads state: names starting with `query-` or
`x-query-`, plus the read-only extras in READ_ONLY_EXTRAS. DENY lists
commands that are never sent although they would match (see the comments).
`query-qmp-schema` is saved to its own file instead of the command list.

The temporary directory's path is replaced by @TMPDIR@ in all output.
Values that change between runs (timestamps, timings, counters) are kept as
they are: the corpus records facts about the wire format, not fixed values.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# Non-query commands that take no required argument and only read state.
READ_ONLY_EXTRAS = {
    # Lists QOM type names; changes nothing.
    "qom-list-types",
}

# Matching commands that are never run.
DENY = {
    # Saved separately (it is large).
    "query-qmp-schema",
}

# For documentation: state-changing commands that the query filter could never
# select but that a "run everything without arguments" approach would. They
# are listed so that a later widening of the filter keeps excluding them.
NEVER = {
    "quit", "stop", "cont", "system_reset", "system_powerdown", "system_wakeup",
    "x-exit-preconfig", "migrate", "migrate_cancel", "migrate-continue",
    "migrate-start-postcopy", "migrate-pause", "migrate-recover", "migrate-incoming",
    "transaction", "inject-nmi", "trace-event-set-state", "dump-guest-memory",
    "memsave", "pmemsave", "screendump", "balloon", "block-job-complete",
    "job-finalize", "job-dismiss", "xen-save-devices-state", "xen-load-devices-state",
    "xen-set-global-dirty-log", "rtc-reset-reinjection", "x-blockdev-change",
}

QMP_TIMEOUT = 30.0


class Proto:
    """A QMP (or guest agent) connection that logs everything in order."""

    def __init__(self, path, greeting=True):
        deadline = time.monotonic() + QMP_TIMEOUT
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(QMP_TIMEOUT)
        self.buf = b""
        self.log = []
        self.greeting = self._read() if greeting else None

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        # guest-sync-delimited prefixes its reply with a 0xff byte.
        line = line.lstrip(b"\xff").strip()
        if not line:
            return self._read()
        return json.loads(line)

    def execute(self, command, arguments=None):
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            m = self._read()
            if "event" in m:
                self.log.append({"event": m})
                continue
            reply = m["return"] if "return" in m else {"error": m["error"]}
            entry = {"command": command, "arguments": arguments or {}, "reply": reply}
            self.log.append(entry)
            return m

    def wait_event(self, name, timeout=QMP_TIMEOUT, **data):
        """Waits until event `name` (with these data members) has been
        logged, reading more messages as needed."""
        def match(m):
            return m["event"] == name and all(
                m.get("data", {}).get(k) == v for k, v in data.items())
        for e in self.log:
            if "event" in e and match(e["event"]):
                return e["event"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self._read()
            if "event" in m:
                self.log.append({"event": m})
                if match(m):
                    return m
        raise TimeoutError(f"event {name} did not arrive")

    def close(self):
        self.sock.close()


class Process:
    def __init__(self, argv, tmp):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(tmp, os.path.basename(argv[0]) + ".log"), "ab"),
        )

    def stop(self):
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def schema_commands(schema):
    """Commands that take no required arguments, in schema order."""
    types = {t["name"]: t for t in schema}
    out = []
    for e in schema:
        if e["meta-type"] != "command":
            continue
        arg = types.get(e["arg-type"], {})
        required = [m for m in arg.get("members", []) if "default" not in m]
        if required or arg.get("variants"):
            continue
        out.append(e["name"])
    return out


def selected(name):
    if name in DENY or name in NEVER:
        return False
    return name.startswith(("query-", "x-query-")) or name in READ_ONLY_EXTRAS


def run_queries(qmp):
    schema_reply = qmp.execute("query-qmp-schema")
    schema = schema_reply["return"]
    qmp.log.clear()
    for name in sorted(c for c in schema_commands(schema) if selected(c)):
        qmp.execute(name)
    commands = [e for e in qmp.log if "command" in e]
    return schema_reply, commands


def qemu_system(tmp, name, extra):
    sock = os.path.join(tmp, name + ".qmp")
    argv = [
        "qemu-system-x86_64", "-nodefaults", "-display", "none",
        "-qmp", f"unix:{sock},server=on,wait=off",
    ] + extra
    return Process(argv, tmp), sock


Q35 = [
    "-machine", "q35", "-accel", "tcg", "-m", "256", "-smp", "2",
    "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,id=net0",
    "-blockdev", "null-co,node-name=disk0,size=67108864",
    "-device", "virtio-blk-pci,drive=disk0,id=blk0",
    "-device", "virtio-serial,id=vser0",
    "-chardev", "ringbuf,id=ch0",
    "-device", "virtserialport,chardev=ch0,name=org.example.port0,id=port0",
    "-device", "qemu-xhci,id=xhci",
]


def capture_system(tmp, name, extra):
    proc, sock = qemu_system(tmp, name, extra)
    try:
        qmp = Proto(sock)
        qmp.execute("qmp_capabilities")
        schema, commands = run_queries(qmp)
        qmp.execute("quit")
        qmp.close()
    finally:
        proc.stop()
    return {"greeting": qmp.greeting, "commands": commands}, schema


def capture_events(tmp):
    proc, sock = qemu_system(tmp, "events", Q35)
    try:
        qmp = Proto(sock)
        qmp.execute("qmp_capabilities")
        # STOP / RESUME
        qmp.execute("stop")
        qmp.wait_event("STOP")
        qmp.execute("query-status")
        qmp.execute("cont")
        qmp.wait_event("RESUME")
        # Hot-plug and unplug a USB storage device on a null-co node: USB
        # unplug needs no guest cooperation, so DEVICE_DELETED arrives.
        qmp.execute("blockdev-add", {"driver": "null-co", "node-name": "hp0",
                                     "size": 1048576})
        qmp.execute("device_add", {"driver": "usb-storage", "drive": "hp0",
                                   "id": "usbdisk0", "bus": "xhci.0"})
        qmp.execute("query-block")
        qmp.execute("device_del", {"id": "usbdisk0"})
        qmp.wait_event("DEVICE_DELETED")
        qmp.execute("blockdev-del", {"node-name": "hp0"})
        # A failing command: an error reply.
        qmp.execute("device_del", {"id": "no-such-device"})
        # Block jobs between null-co nodes: backup runs to completion,
        # mirror becomes ready and is completed by hand.
        for node in ("src0", "dst0", "dst1"):
            qmp.execute("blockdev-add", {"driver": "null-co", "node-name": node,
                                         "size": 16777216})
        qmp.execute("blockdev-backup", {"job-id": "backup0", "device": "src0",
                                        "target": "dst0", "sync": "full"})
        qmp.wait_event("BLOCK_JOB_COMPLETED", device="backup0")
        qmp.execute("blockdev-mirror", {"job-id": "mirror0", "device": "src0",
                                        "target": "dst1", "sync": "full"})
        qmp.wait_event("BLOCK_JOB_READY")
        qmp.execute("query-block-jobs")
        qmp.execute("query-jobs")
        qmp.execute("block-job-complete", {"device": "mirror0"})
        qmp.wait_event("BLOCK_JOB_COMPLETED", device="mirror0")
        # blockdev-create of a small raw file (auto-dismiss is off).
        img = os.path.join(tmp, "created.img")
        qmp.execute("blockdev-create", {"job-id": "create0", "options": {
            "driver": "file", "filename": img, "size": 1048576}})
        deadline = time.monotonic() + QMP_TIMEOUT
        while True:
            jobs = qmp.execute("query-jobs")["return"]
            if all(j["status"] == "concluded" for j in jobs if j["id"] == "create0"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("blockdev-create did not conclude")
            time.sleep(0.05)
        qmp.execute("job-dismiss", {"id": "create0"})
        # RESET
        qmp.execute("system_reset")
        qmp.wait_event("RESET")
        qmp.execute("quit")
        try:
            qmp.wait_event("SHUTDOWN", timeout=5)
        except (EOFError, TimeoutError, OSError):
            pass
        qmp.close()
    finally:
        proc.stop()
    return {"greeting": qmp.greeting, "log": qmp.log}


def capture_storage_daemon(tmp):
    sock = os.path.join(tmp, "qsd.qmp")
    nbd = os.path.join(tmp, "qsd.nbd")
    argv = [
        "qemu-storage-daemon",
        "--chardev", f"socket,path={sock},server=on,wait=off,id=m",
        "--monitor", "chardev=m",
        "--blockdev", "null-co,node-name=null0,size=67108864",
        "--nbd-server", f"addr.type=unix,addr.path={nbd}",
        "--export", "type=nbd,id=export0,node-name=null0,name=null0",
    ]
    proc = Process(argv, tmp)
    try:
        qmp = Proto(sock)
        qmp.execute("qmp_capabilities")
        schema, commands = run_queries(qmp)
        qmp.execute("quit")
        qmp.close()
    finally:
        proc.stop()
    return {"greeting": qmp.greeting, "commands": commands}, schema


GA_WANTED = ["guest-ping", "guest-info", "guest-get-time", "guest-sync-delimited",
             "guest-get-osinfo", "guest-get-timezone", "guest-get-host-name"]


def capture_ga(tmp, qga):
    sock = os.path.join(tmp, "qga.sock")
    help_out = subprocess.run([qga, "--allow-rpcs=help"], capture_output=True,
                              text=True, check=False)
    available = set((help_out.stdout + help_out.stderr).split())
    rpcs = [r for r in GA_WANTED if r in available]
    argv = [qga, "--method", "unix-listen", "--path", sock,
            "--pidfile", os.path.join(tmp, "qga.pid"), "--statedir", tmp,
            "--allow-rpcs", ",".join(rpcs)]
    proc = Process(argv, tmp)
    try:
        ga = Proto(sock, greeting=False)
        for r in rpcs:
            if r == "guest-sync-delimited":
                ga.execute(r, {"id": 1234567})
            else:
                ga.execute(r)
        ga.close()
    finally:
        proc.proc.terminate()
        proc.stop()
    return {"allowed": rpcs, "commands": ga.log}


def write(out_dir, name, data, tmp):
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    text = text.replace(tmp, "@TMPDIR@")
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {name} ({len(text)} bytes)")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "qmp-types", "tests", "corpus"))
    ap.add_argument("--qemu-ga", default=shutil.which("qemu-ga") or "/usr/sbin/qemu-ga")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="qmp-corpus-")
    try:
        none, _ = capture_system(tmp, "none", ["-machine", "none"])
        write(args.out, "qemu-system-none.json", none, tmp)
        q35, q35_schema = capture_system(tmp, "q35", Q35)
        write(args.out, "qemu-system-q35.json", q35, tmp)
        write(args.out, "qemu-system-q35.schema.json", q35_schema, tmp)
        write(args.out, "events-q35.json", capture_events(tmp), tmp)
        qsd, qsd_schema = capture_storage_daemon(tmp)
        write(args.out, "storage-daemon.json", qsd, tmp)
        write(args.out, "storage-daemon.schema.json", qsd_schema, tmp)
        write(args.out, "qemu-ga.json", capture_ga(tmp, args.qemu_ga), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
