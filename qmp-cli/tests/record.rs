//! `qmp record` against a real QEMU (skipped without
//! `qemu-system-x86_64`, failing under `CI`): the transcript it writes
//! replays in `qmp_client::testing::FakeQemu`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use qmp_client::launch::{LaunchError, Launcher};
use qmp_client::testing::{FakeQemu, Transcript};

fn qmp() -> Command {
    Command::cargo_bin("qmp").unwrap()
}

fn call(sock: &std::path::Path) -> (bool, String) {
    let out = qmp()
        .args(["call", &sock.display().to_string(), "query-status"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn record_a_session_and_replay_it() {
    let qemu = match Launcher::new("qemu-system-x86_64")
        .args(["-machine", "none", "-nodefaults", "-S"])
        .spawn()
    {
        Ok(q) => q,
        Err(e @ LaunchError::NotFound { .. }) => {
            assert!(std::env::var_os("CI").is_none(), "{e}");
            eprintln!("SKIPPED: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let out = qemu.dir().join("session.jsonl");
    let listen = qemu.dir().join("rec.sock");
    let mut rec = qmp()
        .args(["record", &qemu.socket().display().to_string(), "-o"])
        .arg(&out)
        .arg("--listen")
        .arg(&listen)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    while !listen.exists() {
        assert!(Instant::now() < end, "qmp record did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (ok, live) = call(&listen);
    assert!(ok);
    assert!(live.contains("prelaunch"), "{live}");
    let st = rec.wait().unwrap();
    assert!(st.success());
    assert!(!listen.exists(), "the proxy socket is removed");

    let t = Transcript::load(&out).unwrap();
    let sent: Vec<_> = t.entries.iter().filter_map(|e| e.client.as_ref()).collect();
    // `qmp call` negotiates, asks the live schema (the argument check),
    // then sends the command.
    let names: Vec<_> = sent
        .iter()
        .map(|c| c["execute"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["qmp_capabilities", "query-qmp-schema", "query-status"]
    );
    let fake = FakeQemu::replay(&t).unwrap();
    let (ok, replayed) = call(fake.socket());
    assert!(ok);
    // The same reply; a transcript keeps values, not QEMU's member order.
    let value = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    assert_eq!(value(&replayed), value(&live));
    fake.finish().unwrap();
}

#[test]
fn record_needs_a_reachable_socket() {
    let dir = tempfile::tempdir().unwrap();
    let out = qmp()
        .args(["record", "/nonexistent/qmp.sock", "-o"])
        .arg(dir.path().join("x.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to /nonexistent/qmp.sock"),
        "{err}"
    );
}
