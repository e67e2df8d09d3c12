//! `qmp call` and `qmp events` against real QEMU (skipped without
//! `qemu-system-x86_64`, failing under `CI`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

fn have_qemu() -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("qemu-system-x86_64").is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("qemu-system-x86_64 is required under CI");
        }
        eprintln!("SKIPPED: qemu-system-x86_64 not found");
    }
    found
}

fn qmp() -> Command {
    Command::cargo_bin("qmp").unwrap()
}

struct Vm {
    child: Child,
    _dir: tempfile::TempDir,
    socks: Vec<PathBuf>,
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// QEMU (`-S`) with `n` QMP monitors.
fn vm(n: usize) -> Vm {
    let dir = tempfile::tempdir().unwrap();
    let socks: Vec<PathBuf> = (0..n)
        .map(|i| dir.path().join(format!("m{i}.sock")))
        .collect();
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-machine", "none", "-nodefaults", "-display", "none", "-S"]);
    for s in &socks {
        cmd.arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", s.display()));
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    for s in &socks {
        while std::os::unix::net::UnixStream::connect(s).is_err() {
            assert!(Instant::now() < end, "QEMU socket never opened");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Vm {
        child,
        _dir: dir,
        socks,
    }
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn call_success_pretty_raw() {
    if !have_qemu() {
        return;
    }
    let vm = vm(1);
    let s = vm.socks[0].to_str().unwrap();
    let (code, out, err) = run(qmp().args(["call", s, "query-status"]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "prelaunch");
    let (code, out, _) =
        run(qmp().args(["call", "--pretty", &format!("unix:{s}"), "query-version"]));
    assert_eq!(code, 0);
    assert!(out.lines().count() > 3, "{out}");
    let (code, out, _) = run(qmp().args([
        "call",
        "--raw",
        s,
        "human-monitor-command",
        r#"{"command-line": "info status"}"#,
    ]));
    assert_eq!(code, 0);
    assert!(out.starts_with("\"VM status: paused (prelaunch)"), "{out}");
}

#[test]
fn call_qmp_error_exit_1() {
    if !have_qemu() {
        return;
    }
    let vm = vm(1);
    let s = vm.socks[0].to_str().unwrap();
    let (code, out, err) = run(qmp().args(["call", s, "no-such-command"]));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err.lines().last(),
        Some("CommandNotFound: The command no-such-command has not been found")
    );
    let (code, _, err) = run(qmp().args(["call", s, "device_del", r#"{"id": "nothing"}"#]));
    assert_eq!(code, 1);
    assert!(err.starts_with("DeviceNotFound: "), "{err}");
}

#[test]
fn call_usage_and_connection_errors_exit_2() {
    let (code, _, err) = run(qmp().args(["call", "/nonexistent/sock", "query-status"]));
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("qmp call: "), "{err}");
    let (code, _, err) = run(qmp().args(["call", "/x", "query-status", "[1]"]));
    assert_eq!(code, 2);
    assert!(err.contains("JSON object"), "{err}");
    let (code, _, err) = run(qmp().args(["call", "/x", "query-status", "{bad"]));
    assert_eq!(code, 2);
    assert!(err.contains("not valid JSON"), "{err}");
}

#[test]
fn call_times_out_on_a_silent_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(s);
    });
    let start = Instant::now();
    let (code, _, err) = run(qmp().args([
        "call",
        "--timeout",
        "0.5",
        path.to_str().unwrap(),
        "query-status",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("timed out"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(3));
    t.join().unwrap();
}

#[test]
fn call_launch() {
    if !have_qemu() {
        return;
    }
    let (code, out, err) = run(qmp().args(["call", "--launch", "query-status", "--", "-S"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("prelaunch"), "{out}");
    let (code, out, _) = run(qmp().args(["call", "--launch", "query-machines"]));
    assert_eq!(code, 0);
    assert!(out.contains("q35"));
}

#[test]
fn launch_with_a_missing_qemu_says_how_to_install_it() {
    let (code, _, err) = run(qmp()
        .env("QMP_QEMU", "/nonexistent/qemu-system-x86_64")
        .args(["call", "--launch", "query-status"]));
    assert_ne!(code, 0);
    assert!(err.contains("apt-get install qemu-system-x86"), "{err}");
}

/// Runs `qmp events ARGS... SOCKET` on the VM's first monitor while
/// toggling the run state on its second (`cont`, `stop`, ...) until it
/// exits; its output.
fn events_while_toggling(vm: &Vm, args: &[&str]) -> std::process::Output {
    let mut child = qmp()
        .arg("events")
        .args(args)
        .arg(&vm.socks[0])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The events client may connect and negotiate at any point of this.
    let ctl = qmp_client::Builder::new()
        .connect_unix_blocking(&vm.socks[1])
        .unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let mut running = false;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "qmp events never finished");
        ctl.call_raw(if running { "stop" } else { "cont" }, None)
            .unwrap();
        running = !running;
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn events_count_and_order() {
    if !have_qemu() {
        return;
    }
    let vm = vm(2);
    let out = events_while_toggling(&vm, &["--count", "2", "--timeout", "30"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // Two consecutive run-state events: one of each, in alternation.
    let names: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert!(
        names == ["RESUME", "STOP"] || names == ["STOP", "RESUME"],
        "{names:?}"
    );
    let ts = |l: &serde_json::Value| {
        (
            l["timestamp"]["seconds"].as_i64().unwrap(),
            l["timestamp"]["microseconds"].as_i64().unwrap(),
        )
    };
    assert!(ts(&lines[0]) <= ts(&lines[1]));
    assert!(ts(&lines[1]).0 > 0);
}

#[test]
fn events_filter_by_name() {
    if !have_qemu() {
        return;
    }
    let vm = vm(2);
    let out = events_while_toggling(&vm, &["--event", "STOP", "--count", "2", "--timeout", "30"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].to_string())
        .collect();
    assert_eq!(names, ["\"STOP\"", "\"STOP\""]);
    // A name this QEMU does not have is warned about (it would wait
    // forever otherwise).
    let (code, out, err) = run(qmp().args([
        "events",
        "--event",
        "NO_SUCH_EVENT",
        "--timeout",
        "0.3",
        vm.socks[0].to_str().unwrap(),
    ]));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.starts_with("qmp events: warning: QEMU 10.")
            && err.contains("has no event `NO_SUCH_EVENT`"),
        "{err}"
    );
}

#[test]
fn events_timeout_and_launch() {
    if !have_qemu() {
        return;
    }
    let (code, out, err) = run(qmp().args(["events", "--launch", "--timeout", "0.5", "--", "-S"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let (code, _, err) = run(qmp().args([
        "events",
        "--launch",
        "--count",
        "1",
        "--timeout",
        "0.5",
        "--",
        "-S",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("timed out after 0 of 1"), "{err}");
}

#[test]
fn call_validates_arguments_against_the_live_schema() {
    // Nothing listens on this socket: there is no schema to check
    // against, and the connection error is what is wrong.
    let (code, _, err) =
        run(qmp().args(["call", "/nonexistent/sock", "device_del", r#"{"id": 5}"#]));
    assert_eq!(code, 2);
    assert!(err.starts_with("qmp call: /nonexistent/sock: "), "{err}");
    if !have_qemu() {
        return;
    }
    let vm = vm(1);
    let s = vm.socks[0].to_str().unwrap();
    // Refused before sending (exit 2, not QEMU's error reply: exit 1).
    let (code, _, err) = run(qmp().args(["call", s, "device_del", r#"{"id": 5}"#]));
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "qmp call: invalid arguments for `device_del`: argument 'id': expected a string, got an integer"
    );
    let (code, _, err) = run(qmp().args(["call", s, "device_del"]));
    assert_eq!(code, 2);
    assert!(err.contains("missing required argument 'id'"), "{err}");
    // Every problem at once.
    let (code, _, err) = run(qmp().args([
        "call",
        s,
        "set-action",
        r#"{"shutdown": "explode", "bogus": 1}"#,
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("'explode' is not one of: poweroff, pause")
            && err.contains("unknown argument 'bogus'"),
        "{err}"
    );
}

#[test]
fn call_unknown_command_runs_untyped_with_a_note() {
    if !have_qemu() {
        return;
    }
    let vm = vm(1);
    let s = vm.socks[0].to_str().unwrap();
    let (code, _, err) = run(qmp().args(["call", s, "no-such-thing"]));
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "qmp call: note: `no-such-thing` is not in the bindings; running it untyped"
    );
    assert!(lines[1].starts_with("CommandNotFound: "), "{err}");
}

#[test]
fn call_guest_agent_typed() {
    let ga = ["/usr/sbin/qemu-ga", "/usr/bin/qemu-ga"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file());
    let Some(ga) = ga else {
        if std::env::var_os("CI").is_some() {
            panic!("qemu-ga is required under CI");
        }
        eprintln!("SKIPPED: qemu-ga not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qga.sock");
    let child = Command::new(ga)
        .args(["--method", "unix-listen", "--path"])
        .arg(&sock)
        .arg("--pidfile")
        .arg(dir.path().join("pid"))
        .arg("--statedir")
        .arg(dir.path())
        .args([
            "--allow-rpcs",
            "guest-ping,guest-info,guest-get-time,guest-sync-delimited",
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut vm = Vm {
        child,
        _dir: dir,
        socks: vec![sock.clone()],
    };
    let end = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < end);
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = sock.to_str().unwrap();
    let (code, out, err) = run(qmp().args(["call", "--guest-agent", s, "guest-get-time"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().parse::<i64>().unwrap() > 0);
    assert!(err.is_empty(), "{err}");
    // A guest agent has no schema to ask: it checks the arguments itself.
    let (code, _, err) = run(qmp().args([
        "call",
        "--guest-agent",
        s,
        "guest-get-time",
        r#"{"id": "x"}"#,
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("GenericError: "), "{err}");
    let _ = vm.child.kill();
    let _ = vm.child.wait();
    vm.socks.clear();
}
