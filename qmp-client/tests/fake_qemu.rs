//! The fake QEMU of `qmp_client::testing`, used the way a user's test
//! would use it: replaying a session recorded from real QEMU 10.0
//! (`tests/data/qemu-10.0-session.jsonl`, made by `record_from_real_qemu`
//! below), scripted sessions with faults, and a live record-and-replay
//! against the system QEMU.

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qmp_client::testing::{FakeQemu, Script, Transcript, record_proxy};
use qmp_client::{Error, ErrorClass, Qmp};
use qmp_types::ClientExt as _;
use qmp_types::{Event, RunState};
use serde_json::json;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The code under test: what a user's program does with a VM. Returns the
/// names of the events it saw, in order.
async fn user_session(sock: &Path) -> Result<Vec<String>, Error> {
    let client = Qmp::builder()
        .command_timeout(Some(Duration::from_secs(10)))
        .connect_unix(sock)
        .await?;
    let v = client.query_version().await?;
    assert_eq!((v.qemu.major, v.qemu.minor), (10, 0));
    assert_eq!(client.query_status().await?.status, RunState::Prelaunch);
    let mut events = client.typed_events::<Event>();
    client.cont().await?;
    assert!(client.query_status().await?.running);
    client.stop().await?;
    let e = client
        .device_del(qmp_types::DeviceDel::new("no-such-device"))
        .await
        .unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::DeviceNotFound), "{e}");
    let e = client
        .call_raw("x-no-such-command", None)
        .await
        .unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::CommandNotFound), "{e}");
    assert_eq!(client.query_status().await?.status, RunState::Paused);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let ev = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("event in time")
            .expect("stream open")
            .expect("typed event");
        seen.push(
            match ev.event {
                Event::Resume(_) => "RESUME",
                Event::Stop(_) => "STOP",
                other => panic!("unexpected event {other:?}"),
            }
            .to_owned(),
        );
    }
    client.close();
    Ok(seen)
}

#[tokio::test]
async fn replays_a_session_recorded_from_qemu_10() {
    let t = Transcript::load(data("qemu-10.0-session.jsonl")).unwrap();
    let fake = FakeQemu::replay(&t).unwrap();
    let seen = user_session(fake.socket()).await.unwrap();
    assert_eq!(seen, ["RESUME", "STOP"]);
    fake.finish().unwrap();
}

#[tokio::test]
async fn replay_is_deterministic() {
    let t = Transcript::load(data("qemu-10.0-session.jsonl")).unwrap();
    let mut runs = Vec::new();
    for _ in 0..20 {
        let fake = FakeQemu::replay(&t).unwrap();
        let seen = user_session(fake.socket()).await.unwrap();
        let received = fake.received();
        fake.finish().unwrap();
        runs.push((seen, received));
    }
    assert!(runs.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn replay_with_recorded_timing() {
    let t = Transcript::load(data("qemu-10.0-session.jsonl")).unwrap();
    let fake = FakeQemu::start(t.to_script_timed()).unwrap();
    user_session(fake.socket()).await.unwrap();
    fake.finish().unwrap();
}

// Multi-threaded: `finish` blocks while the runtime closes the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_diverging_client_is_reported() {
    let t = Transcript::load(data("qemu-10.0-session.jsonl")).unwrap();
    let fake = FakeQemu::replay(&t).unwrap();
    let client = Qmp::connect_unix(fake.socket()).await.unwrap();
    // The recording starts with query-version.
    let e = client.query_status().await.unwrap_err();
    assert!(e.to_string().contains("expected `query-version`"), "{e}");
    drop(client);
    let report = fake.finish().unwrap_err();
    assert!(
        report.problems[0].starts_with("unexpected command `query-status`"),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("left before sending `query-version`"),
        "{report}"
    );
}

#[test]
fn scripted_faults_eof_garbage_delay() {
    // EOF instead of a reply: the call fails, typed.
    let fake = FakeQemu::start(Script::new().expect("stop").eof()).unwrap();
    let qmp = qmp_client::blocking::Qmp::connect_unix(fake.socket()).unwrap();
    let e = qmp.call_raw("stop", None).unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    fake.finish().unwrap();

    // Garbage bytes: a protocol error that closes the connection.
    let fake =
        FakeQemu::start(Script::new().expect("stop").raw_reply(&b"\x01garbage"[..])).unwrap();
    let qmp = qmp_client::blocking::Qmp::connect_unix(fake.socket()).unwrap();
    let e = qmp.call_raw("stop", None).unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    assert!(qmp.closed().is_some());
    fake.finish().unwrap();

    // A slow reply: the client's timeout fires, the connection survives.
    let fake = FakeQemu::start(
        Script::new()
            .capabilities(["oob"])
            .expect("stop")
            .delay(Duration::from_millis(300))
            .reply(json!({}))
            .expect("query-status")
            .reply(json!({"status": "paused", "running": false})),
    )
    .unwrap();
    let qmp = Qmp::builder()
        .command_timeout(Some(Duration::from_millis(50)))
        .connect_unix_blocking(fake.socket())
        .unwrap();
    let start = Instant::now();
    let e = qmp.call_raw("stop", None).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(start.elapsed() < Duration::from_millis(250));
    std::thread::sleep(Duration::from_millis(300));
    let qmp2 = qmp.clone();
    let v = qmp2.call_raw("query-status", None).unwrap();
    assert_eq!(v["status"], "paused");
    fake.finish().unwrap();
}

#[test]
fn stubs_answer_any_number_of_times() {
    let fake = FakeQemu::start(
        Script::new()
            .stub(
                "query-status",
                json!({"status": "running", "running": true}),
            )
            .stub_error("query-balloon", ErrorClass::DeviceNotActive, "No balloon"),
    )
    .unwrap();
    let qmp = qmp_client::blocking::Qmp::connect_unix(fake.socket()).unwrap();
    for _ in 0..3 {
        assert_eq!(qmp.call_raw("query-status", None).unwrap()["running"], true);
    }
    let e = qmp.call_raw("query-balloon", None).unwrap_err();
    assert!(e.is_device_not_active());
    assert_eq!(fake.received().len(), 5); // qmp_capabilities + 4
    drop(qmp);
    fake.finish().unwrap();
}

/// Records `user_session` against a real QEMU 10 through the recording
/// proxy (what `qmp record` runs).
async fn record_from_real_qemu() -> Option<Transcript> {
    let bin = qmp_client::launch::Launcher::new("qemu-system-x86_64").args([
        "-machine",
        "none",
        "-nodefaults",
        "-S",
    ]);
    let qemu = match bin.spawn_async().await {
        Ok(q) => q,
        Err(e @ qmp_client::launch::LaunchError::NotFound { .. }) => {
            if std::env::var_os("CI").is_some() {
                panic!("{e}");
            }
            eprintln!("SKIPPED: {e}");
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    let listen_path = qemu.dir().join("record.sock");
    let listener = UnixListener::bind(&listen_path).unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let upstream = qemu.socket().to_owned();
    let sink = Sink(out.clone());
    let proxy = std::thread::spawn(move || record_proxy(&listener, upstream, sink));
    let seen = user_session(&listen_path).await.unwrap();
    assert_eq!(seen, ["RESUME", "STOP"]);
    // The client's socket closes on the runtime: wait off it.
    tokio::task::spawn_blocking(move || proxy.join())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    Some(Transcript::parse(&text).unwrap())
}

#[tokio::test]
async fn record_live_then_replay() {
    let Some(t) = record_from_real_qemu().await else {
        return;
    };
    let fake = FakeQemu::replay(&t).unwrap();
    assert_eq!(
        user_session(fake.socket()).await.unwrap(),
        ["RESUME", "STOP"]
    );
    fake.finish().unwrap();
}

/// Regenerates `tests/data/qemu-10.0-session.jsonl`:
/// `cargo test -p qmp-client --features testing --test fake_qemu -- --ignored`.
#[tokio::test]
#[ignore = "writes tests/data; run by hand against QEMU 10"]
async fn regenerate_recorded_session() {
    let t = record_from_real_qemu().await.expect("QEMU needed");
    let mut out = Vec::new();
    t.write(&mut out).unwrap();
    std::fs::write(data("qemu-10.0-session.jsonl"), out).unwrap();
}
