//! `qmp call` checks commands and arguments against the live QEMU's
//! schema, and `qmp schema diff` takes a live socket on either side.
//! Real QEMU: the system one (10.0), and 5.2 through
//! `QMP_QEMU_5_2=/path/to/qemu-system-x86_64`; each test is skipped with a
//! note when its QEMU is missing, and fails under `CI`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

fn skip_or_fail(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is required under CI"
    );
    eprintln!("SKIPPED: {what} not found");
}

/// The system QEMU, from PATH.
fn system_qemu() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("qemu-system-x86_64"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skip_or_fail("qemu-system-x86_64");
    }
    found
}

/// QEMU 5.2, from `QMP_QEMU_5_2`.
fn qemu_5_2() -> Option<PathBuf> {
    let p = std::env::var_os("QMP_QEMU_5_2").map(PathBuf::from);
    match p {
        Some(p) if p.is_file() => Some(p),
        _ => {
            skip_or_fail("QEMU 5.2 (set QMP_QEMU_5_2 to its qemu-system-x86_64)");
            None
        }
    }
}

struct Vm {
    child: Child,
    _dir: tempfile::TempDir,
    sock: PathBuf,
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vm(bin: &Path) -> Vm {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let child = Command::new(bin)
        .args(["-machine", "none", "-nodefaults", "-display", "none", "-S"])
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", sock.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < end, "QEMU socket never opened");
        std::thread::sleep(Duration::from_millis(10));
    }
    Vm {
        child,
        _dir: dir,
        sock,
    }
}

fn qmp(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("qmp")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn call_on_5_2_reports_the_missing_command_not_the_arguments() {
    let Some(bin) = qemu_5_2() else { return };
    let v = vm(&bin);
    let sock = v.sock.to_str().unwrap();
    let want = "qmp call: `query-stats` is not supported by QEMU 5.2.0 (added in QEMU 7.1)\n";
    // Without arguments the bindings would say `missing member target`;
    // with valid ones QEMU would say CommandNotFound.
    for extra in [None, Some(r#"{"target": "vm"}"#)] {
        let mut args = vec!["call", sock, "query-stats"];
        args.extend(extra);
        let (code, out, err) = qmp(&args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (2, "", want),
            "{args:?}"
        );
    }
    // A member the command gained later.
    let (code, _, err) = qmp(&[
        "call",
        sock,
        "screendump",
        r#"{"filename": "/nonexistent/x", "format": "png"}"#,
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "qmp call: invalid arguments for `screendump`: unknown argument 'format' \
         (expected one of: filename, device, head)\n"
    );
    // What 5.2 has still runs.
    let (code, out, err) = qmp(&["call", sock, "query-status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"prelaunch\""), "{out}");
    // --no-check sends it anyway: QEMU's own answer.
    let (code, _, err) = qmp(&[
        "call",
        "--no-check",
        sock,
        "query-stats",
        r#"{"target": "vm"}"#,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("CommandNotFound: "), "{err}");
}

#[test]
fn call_on_the_system_qemu_reaches_the_argument_check() {
    let Some(bin) = system_qemu() else { return };
    let v = vm(&bin);
    let sock = v.sock.to_str().unwrap();
    let (code, _, err) = qmp(&["call", sock, "query-stats"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("qmp call: invalid arguments for `query-stats`: "),
        "{err}"
    );
    let (code, out, err) = qmp(&["call", sock, "query-stats", r#"{"target": "vm"}"#]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with('['), "{out}");
    // A member no QEMU has is refused by the live schema first.
    let (code, _, err) = qmp(&["call", sock, "query-status", r#"{"x-bogus": 1}"#]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(
            "qmp call: invalid arguments for `query-status`: unknown argument 'x-bogus' (none are accepted here)"
        ),
        "{err}"
    );
    // A command the bindings know from QEMU 5.2 that 10.0 no longer has.
    let (code, out, err) = qmp(&["call", sock, "query-cpus"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.starts_with("qmp call: `query-cpus` is not supported by QEMU 10.")
            && err.ends_with(" (added in QEMU 0.14.0, removed by QEMU 10.0.2)\n"),
        "{err}"
    );
}

#[test]
fn schema_diff_takes_live_sockets() {
    let Some(new) = system_qemu() else { return };
    let Some(old) = qemu_5_2() else { return };
    let (a, b) = (vm(&old), vm(&new));
    let (code, out, err) = qmp(&[
        "schema",
        "diff",
        "--json",
        a.sock.to_str().unwrap(),
        b.sock.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let added: Vec<&str> = d["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "added")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(added.contains(&"query-stats"), "{added:?}");
    // The same QEMU on both sides, one as `unix:PATH`: no differences.
    let unix = format!("unix:{}", b.sock.display());
    let (code, out, err) = qmp(&["schema", "diff", b.sock.to_str().unwrap(), &unix]);
    assert_eq!((code, out.as_str()), (0, "no differences\n"), "{err}");
    // A socket that nobody listens on is an error naming it.
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let (code, _, err) = qmp(&["schema", "diff", dead.to_str().unwrap(), &unix]);
    assert_eq!(code, 2);
    assert!(err.contains("dead.sock"), "{err}");
}
