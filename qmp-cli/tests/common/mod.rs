//! Test helpers: a throwaway QEMU with a QMP socket in a unique temp dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The QEMU binary, or `None` (with a visible skip message) when it is
/// missing; under `CI` a missing QEMU fails the test.
pub fn qemu_binary() -> Option<PathBuf> {
    let name = std::env::var("QEMU").unwrap_or_else(|_| "qemu-system-x86_64".into());
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(&name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required under CI"
        );
        eprintln!("SKIP: {name} not found; QEMU tests skipped");
    }
    found
}

/// A running QEMU; killed and reaped on drop.
pub struct Qemu {
    child: Child,
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
    /// A second QMP monitor, for poking the VM from the side.
    pub sock2: PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Qemu {
    /// Starts QEMU with `-machine none` (or `extra` arguments) and two QMP
    /// monitors; `None` when QEMU is not installed.
    pub fn start(extra: &[&str]) -> Option<Qemu> {
        let bin = qemu_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("qmp-cli-test")
            .tempdir()
            .expect("temp dir");
        let sock = dir.path().join("qmp.sock");
        let sock2 = dir.path().join("qmp2.sock");
        let mut cmd = Command::new(bin);
        cmd.args(["-nodefaults", "-display", "none", "-qmp"])
            .arg(format!("unix:{},server=on,wait=off", sock.display()))
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", sock2.display()));
        if extra.is_empty() {
            cmd.args(["-machine", "none"]);
        }
        cmd.args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("spawn qemu");
        let q = Qemu {
            child,
            dir,
            sock,
            sock2,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(q.sock.exists() && q.sock2.exists()) {
            assert!(Instant::now() < deadline, "QEMU did not create its sockets");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(q)
    }

    /// Sends raw QMP lines on the second monitor and returns what came
    /// back (greeting included).
    pub fn side_channel(&self, lines: &[&str]) -> String {
        use std::io::{BufRead, BufReader, Write};
        let s = std::os::unix::net::UnixStream::connect(&self.sock2).expect("connect sock2");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut out = String::new();
        r.read_line(&mut out).unwrap();
        for l in std::iter::once(&r#"{"execute":"qmp_capabilities"}"#).chain(lines) {
            (&s).write_all(format!("{l}\n").as_bytes()).unwrap();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return out;
                }
                out.push_str(&line);
                if line.contains("\"return\"") || line.contains("\"error\"") {
                    break;
                }
            }
        }
        out
    }
}

/// Path of the built `qmp` binary.
pub fn qmp_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_qmp"))
}
