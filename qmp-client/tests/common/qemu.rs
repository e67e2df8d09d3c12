//! Spawning real QEMU processes for integration tests: skip visibly when
//! the binary is missing, fail under `CI`; always killed (Drop guard).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Finds `name` on PATH (plus /usr/sbin and /sbin). Returns `None` (after
/// printing why) when missing outside CI; panics when missing under CI.
pub fn find(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.push("/sbin".into());
    for d in dirs {
        let p = d.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("{name} is required under CI but was not found");
    }
    eprintln!("SKIPPED: {name} not found; install QEMU to run this test");
    None
}

/// A spawned process, killed and reaped on drop, with its temp dir.
pub struct Proc {
    child: Child,
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `t` for the process to exit by itself.
    pub fn wait_exit(&mut self, t: Duration) -> bool {
        let end = Instant::now() + t;
        while Instant::now() < end {
            if !self.alive() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

fn wait_for_socket(child: &mut Child, sock: &Path) {
    let end = Instant::now() + Duration::from_secs(20);
    // The socket file appears at bind(), before listen(): wait until it
    // listens. Not by connecting: QEMU's chardev can drop a client that
    // arrives while it is still tearing down such a probe connection.
    loop {
        if listening(sock) {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("process exited before listening on its socket: {st}");
        }
        assert!(Instant::now() < end, "socket {sock:?} never listened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether the Unix socket `sock` is listening, from Linux's socket table
/// (`/proc/net/unix`: the `__SO_ACCEPTCON` flag, 0x10000): checked
/// without connecting, so the server sees no probe connection (where there
/// is no such table, by connecting).
pub fn listening(sock: &Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/unix") else {
        return std::os::unix::net::UnixStream::connect(sock).is_ok();
    };
    let want = sock.to_string_lossy();
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        f.len() >= 8
            && f[7] == want
            && u32::from_str_radix(f[3], 16).is_ok_and(|flags| flags & 0x10000 != 0)
    })
}

fn spawn(bin: &Path, args: Vec<String>, dir: tempfile::TempDir, sock: PathBuf) -> Proc {
    let mut child = Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin:?}: {e}"));
    wait_for_socket(&mut child, &sock);
    Proc { child, dir, sock }
}

/// The extra arguments of the q35 machine the read-only query tests use:
/// paused, TCG, a NIC, a USB controller and a null-backed disk, so that
/// block, net and device queries have something to report.
#[allow(dead_code)]
pub const Q35_ARGS: &[&str] = &[
    "-accel",
    "tcg",
    "-S",
    "-m",
    "128",
    "-device",
    "virtio-net-pci,id=net0",
    "-device",
    "qemu-xhci,id=xhci",
    "-blockdev",
    "null-co,node-name=disk0,size=1048576",
    "-device",
    "virtio-blk-pci,drive=disk0,id=blk0",
];

/// `qemu-system-x86_64 -machine none` (or `machine`) with a plain `-qmp`
/// monitor, plus `extra` arguments.
pub fn system(machine: &str, extra: &[&str]) -> Option<Proc> {
    Some(system_at(&find("qemu-system-x86_64")?, machine, extra))
}

/// A QEMU release unpacked beside the system one: the env variable `var`
/// (e.g. `QMP_QEMU_5_2=/work/qemu/5.2/qemu-system-x86_64`), else the
/// release of that tag found by [`super::releases`] (`target/qemu/<tag>`).
/// `None` (after printing why) when missing outside CI; panics under CI.
pub fn release(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p) if p.is_file() => Some(p),
        Some(p) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var}={} does not exist",
                p.display()
            );
            eprintln!("SKIPPED: {var}={} does not exist", p.display());
            None
        }
        None => {
            let tag = var.trim_start_matches("QMP_QEMU_").replace('_', ".");
            super::releases::get(&tag).map(|r| r.system.clone())
        }
    }
}

/// [`system`] with the QEMU binary `bin` (e.g. another release's wrapper).
pub fn system_at(bin: &Path, machine: &str, extra: &[&str]) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let mut args: Vec<String> = vec![
        "-machine".into(),
        machine.into(),
        "-nodefaults".into(),
        "-display".into(),
        "none".into(),
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", sock.display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    spawn(bin, args, dir, sock)
}

/// `qemu-system-x86_64 -machine none` with a monitor on its own chardev,
/// which runs in the monitor I/O thread and so offers `oob`; started
/// paused (`-S`).
pub fn system_oob() -> Option<Proc> {
    system_chardev_monitor("")
}

/// `qemu-system-x86_64 -machine none -S` whose monitor pretty-prints
/// every message over many lines (`pretty=on`).
pub fn system_pretty() -> Option<Proc> {
    system_chardev_monitor(",pretty=on")
}

/// `qemu-system-x86_64 -machine none -S` with a QMP monitor on a socket
/// chardev; `mon_opts` is appended to the `-mon` options.
fn system_chardev_monitor(mon_opts: &str) -> Option<Proc> {
    let bin = find("qemu-system-x86_64")?;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let args: Vec<String> = vec![
        "-machine".into(),
        "none".into(),
        "-nodefaults".into(),
        "-display".into(),
        "none".into(),
        "-S".into(),
        "-chardev".into(),
        format!("socket,id=mon0,path={},server=on,wait=off", sock.display()),
        "-mon".into(),
        format!("chardev=mon0,mode=control{mon_opts}"),
    ];
    Some(spawn(&bin, args, dir, sock))
}

/// `qemu-storage-daemon` with a QMP monitor.
pub fn storage_daemon() -> Option<Proc> {
    Some(storage_daemon_at(&find("qemu-storage-daemon")?))
}

/// [`storage_daemon`] with the binary `bin`.
pub fn storage_daemon_at(bin: &Path) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qsd.sock");
    let args: Vec<String> = vec![
        "--chardev".into(),
        format!("socket,id=c0,path={},server=on,wait=off", sock.display()),
        "--monitor".into(),
        "chardev=c0".into(),
    ];
    spawn(bin, args, dir, sock)
}

/// `qemu-ga` listening on a Unix socket with a few harmless RPCs allowed.
pub fn guest_agent() -> Option<Proc> {
    Some(guest_agent_at(&find("qemu-ga")?))
}

/// The RPCs a test guest agent allows (it runs on the host, so nothing
/// that changes the machine).
pub const GUEST_AGENT_RPCS: &[&str] = &[
    "guest-ping",
    "guest-info",
    "guest-get-time",
    "guest-sync-delimited",
];

/// [`guest_agent`] with the binary `bin`. Releases before `--allow-rpcs`
/// (QEMU 5.2) get the same set through `--blacklist` of every other RPC.
pub fn guest_agent_at(bin: &Path) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qga.sock");
    let mut args: Vec<String> = vec![
        "--method".into(),
        "unix-listen".into(),
        "--path".into(),
        sock.display().to_string(),
        "--pidfile".into(),
        dir.path().join("qga.pid").display().to_string(),
        "--statedir".into(),
        dir.path().display().to_string(),
    ];
    let help = Command::new(bin)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin:?}: {e}"));
    if String::from_utf8_lossy(&help.stdout).contains("--allow-rpcs") {
        args.push("--allow-rpcs".into());
        args.push(GUEST_AGENT_RPCS.join(","));
    } else {
        let list = Command::new(bin)
            .args(["--blacklist", "?"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {bin:?}: {e}"));
        let blocked: Vec<&str> = std::str::from_utf8(&list.stdout)
            .expect("RPC list is UTF-8")
            .split_whitespace()
            .filter(|rpc| !GUEST_AGENT_RPCS.contains(rpc))
            .collect();
        assert!(
            blocked.len() > 10,
            "{bin:?} --blacklist ? listed too few RPCs: {blocked:?}"
        );
        args.push("--blacklist".into());
        args.push(blocked.join(","));
    }
    spawn(bin, args, dir, sock)
}

/// Starts block job `job0`: a full backup between two null nodes `src` and
/// `dst` (8 MiB), for tests that watch its events.
pub async fn start_null_backup(qmp: &qmp_client::Qmp) {
    for n in ["src", "dst"] {
        qmp.call_raw(
            "blockdev-add",
            Some(serde_json::json!({"driver": "null-co", "node-name": n, "size": 8388608})),
        )
        .await
        .unwrap();
    }
    qmp.call_raw(
        "blockdev-backup",
        Some(
            serde_json::json!({"job-id": "job0", "device": "src", "target": "dst", "sync": "full"}),
        ),
    )
    .await
    .unwrap();
}
