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
    // The socket file appears at bind(), before listen(): wait until a
    // connection is accepted (the probe is closed at once; the server then
    // takes the next client).
    while std::os::unix::net::UnixStream::connect(sock).is_err() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("process exited before listening on its socket: {st}");
        }
        assert!(
            Instant::now() < end,
            "socket {sock:?} never accepted a connection"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
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

/// `qemu-system-x86_64 -machine none` (or `machine`) with a plain `-qmp`
/// monitor, plus `extra` arguments.
pub fn system(machine: &str, extra: &[&str]) -> Option<Proc> {
    let bin = find("qemu-system-x86_64")?;
    Some(system_bin(&bin, machine, extra))
}

/// A QEMU release unpacked beside the system one, named by the env
/// variable `var` (e.g. `QMP_QEMU_5_2=/work/qemu/5.2/qemu-system-x86_64`).
/// `None` (after printing why) when unset or missing outside CI; panics
/// under CI.
pub fn release(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p) if p.is_file() => return Some(p),
        Some(p) => assert!(
            std::env::var_os("CI").is_none(),
            "{var}={} does not exist",
            p.display()
        ),
        None => assert!(
            std::env::var_os("CI").is_none(),
            "{var} is required under CI (a QEMU release's qemu-system-x86_64)"
        ),
    }
    eprintln!("SKIPPED: set {var} to a QEMU release's qemu-system-x86_64 to run this test");
    None
}

/// Like [`system`] with an explicit binary.
pub fn system_bin(bin: &Path, machine: &str, extra: &[&str]) -> Proc {
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
    let bin = find("qemu-storage-daemon")?;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qsd.sock");
    let args: Vec<String> = vec![
        "--chardev".into(),
        format!("socket,id=c0,path={},server=on,wait=off", sock.display()),
        "--monitor".into(),
        "chardev=c0".into(),
    ];
    Some(spawn(&bin, args, dir, sock))
}

/// `qemu-ga` listening on a Unix socket with a few harmless RPCs allowed.
pub fn guest_agent() -> Option<Proc> {
    let bin = find("qemu-ga")?;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qga.sock");
    let args: Vec<String> = vec![
        "--method".into(),
        "unix-listen".into(),
        "--path".into(),
        sock.display().to_string(),
        "--pidfile".into(),
        dir.path().join("qga.pid").display().to_string(),
        "--statedir".into(),
        dir.path().display().to_string(),
        "--allow-rpcs".into(),
        "guest-ping,guest-info,guest-get-time,guest-sync-delimited".into(),
    ];
    Some(spawn(&bin, args, dir, sock))
}

/// Starts block job `job0`: a full backup between two null nodes `src` and
/// `dst` (8 MiB), for tests that watch its events.
pub async fn start_null_backup(qmp: &qmp_client::Qmp) {
    for n in ["src", "dst"] {
        qmp.execute_raw(
            "blockdev-add",
            Some(serde_json::json!({"driver": "null-co", "node-name": n, "size": 8388608})),
        )
        .await
        .unwrap();
    }
    qmp.execute_raw(
        "blockdev-backup",
        Some(
            serde_json::json!({"job-id": "job0", "device": "src", "target": "dst", "sync": "full"}),
        ),
    )
    .await
    .unwrap();
}
