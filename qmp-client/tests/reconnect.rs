//! Reconnect (P21) against the fake QEMU: the connection drops with a call
//! in flight, the client backs off while the socket is gone, reconnects
//! when it is back, renegotiates, and reports the reconnect in the event
//! stream; the policy giving up; the state machine's edge cases.
//!
//! The socket the client knows is a symlink the test points at a fake
//! QEMU's socket or removes, so "QEMU is gone" and "QEMU is back on the
//! same path" are under the test's control.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qmp_client::testing::{FakeQemu, Script};
use qmp_client::{ClientEvent, Error, EventError, Qmp, ReconnectPolicy};
use qmp_types::ClientExt as _;
use qmp_types::RunState;
use serde_json::{Value, json};

/// Every connection: negotiation, a `HELLO` event, then it waits for
/// `stop`, which it answers by closing the connection (no reply).
/// `query-status` is answered at any time.
fn script() -> Script {
    Script::new()
        .capabilities(["oob"])
        .stub(
            "query-status",
            json!({"status": "running", "running": true}),
        )
        .expect("qmp_capabilities")
        .reply(json!({}))
        .event("HELLO", json!({}))
        .expect("stop")
        .eof()
}

struct Link {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Link {
    fn new() -> Link {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        Link { _dir: dir, path }
    }
    fn point_to(&self, target: &Path) {
        let _ = std::fs::remove_file(&self.path);
        std::os::unix::fs::symlink(target, &self.path).unwrap();
    }
    fn remove(&self) {
        std::fs::remove_file(&self.path).unwrap();
    }
}

fn policy() -> ReconnectPolicy {
    ReconnectPolicy::exponential(Duration::from_millis(20), Duration::from_millis(80)).jitter(false)
}

async fn next_event(
    s: &mut qmp_client::EventStream<ClientEvent>,
) -> Result<ClientEvent, EventError> {
    tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("no event within 5 s")
        .expect("stream ended")
}

fn hello(ev: Result<ClientEvent, EventError>) {
    match ev {
        Ok(ClientEvent::Event(e)) => assert_eq!(e.name(), "HELLO"),
        other => panic!("expected HELLO, got {other:?}"),
    }
}

fn ids(received: &[Value], name: &str) -> Vec<u64> {
    received
        .iter()
        .filter(|c| c["execute"] == name)
        .filter_map(|c| c["id"].as_u64())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_backoff_reconnect_notice_and_resume() {
    let fake = FakeQemu::start(script()).unwrap();
    let link = Link::new();
    link.point_to(fake.socket());
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();

    let qmp = Qmp::builder()
        .oob(true)
        .reconnect(policy().max_attempts(100))
        .command_timeout(Some(Duration::from_secs(5)))
        .connect_unix(&link.path)
        .await
        .unwrap();
    assert!(qmp.oob_enabled());
    let mut events = qmp.client_events();
    hello(next_event(&mut events).await);
    assert_eq!(qmp.query_status().await.unwrap().status, RunState::Running);
    // P21: connecting while connected is a state error, nothing changes.
    assert!(matches!(
        qmp.reconnect().await,
        Err(Error::AlreadyConnected)
    ));
    assert!(qmp.is_connected());

    // QEMU goes away (the socket with it) while `stop` is in flight.
    link.remove();
    let e = qmp.stop().await.unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    let dropped = Instant::now();
    // While reconnecting: calls fail fast with `Disconnected`, the client
    // is not closed.
    let t = Instant::now();
    let e = qmp.query_status().await.unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    assert!(!qmp.is_connected());
    assert!(qmp.closed().is_none());

    // Attempts at 20, 20+40, 20+40+80 ms fail (no socket); then QEMU is
    // back on the same path.
    tokio::time::sleep(Duration::from_millis(150)).await;
    link.point_to(fake.socket());
    tokio::time::timeout(Duration::from_secs(5), qmp.wait_connected())
        .await
        .expect("reconnected within 5 s")
        .unwrap();
    let took = dropped.elapsed();
    assert!(
        took >= Duration::from_millis(140),
        "backoff skipped: {took:?}"
    );

    // The notice, then the new connection's events.
    match next_event(&mut events).await {
        Ok(ClientEvent::Reconnected { attempt, reason }) => {
            assert!(attempt >= 3, "attempt {attempt}");
            assert!(matches!(reason, Error::Disconnected { .. }), "{reason:?}");
        }
        other => panic!("expected the reconnect notice, got {other:?}"),
    }
    hello(next_event(&mut events).await);
    assert_eq!(qmp.query_status().await.unwrap().status, RunState::Running);
    assert!(qmp.oob_enabled(), "oob renegotiated");
    assert_eq!(fake.connections(), 2);

    // Same capabilities negotiated again; ids continue (no reuse).
    let received = fake.received();
    let caps: Vec<&Value> = received
        .iter()
        .filter(|c| c["execute"] == "qmp_capabilities")
        .collect();
    assert_eq!(caps.len(), 2);
    assert_eq!(caps[0]["arguments"], caps[1]["arguments"]);
    assert_eq!(caps[0]["arguments"]["enable"], json!(["oob"]));
    let mut all: Vec<u64> = received.iter().filter_map(|c| c["id"].as_u64()).collect();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "an id was reused: {received:?}");
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    // The call made while reconnecting failed fast: it was never sent.
    assert_eq!(ids(&received, "query-status").len(), 2);

    // Closing is final and idempotent; no task outlives the client.
    qmp.close();
    qmp.close();
    assert!(matches!(qmp.closed(), Some(Error::Closed)));
    assert!(matches!(qmp.reconnect().await, Err(Error::Closed)));
    match next_event(&mut events).await {
        Err(EventError::Closed(Error::Closed)) => {}
        other => panic!("expected the close, got {other:?}"),
    }
    drop(events);
    drop(qmp);
    let end = Instant::now() + Duration::from_secs(2);
    while metrics.num_alive_tasks() > tasks_before && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before, "tasks leaked");
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let fake = FakeQemu::start(script()).unwrap();
    let link = Link::new();
    link.point_to(fake.socket());
    let qmp = Qmp::builder()
        .reconnect(policy().max_attempts(3))
        .connect_unix(&link.path)
        .await
        .unwrap();
    // Plain event streams never see the notice, only QEMU's events.
    let mut events = qmp.events();
    link.remove();
    assert!(matches!(
        qmp.stop().await.unwrap_err(),
        Error::Disconnected { .. }
    ));
    let t = Instant::now();
    let e = tokio::time::timeout(Duration::from_secs(5), qmp.wait_connected())
        .await
        .expect("gave up within 5 s")
        .unwrap_err();
    // Three attempts: 20 + 40 + 80 ms of backoff.
    assert!(
        t.elapsed() >= Duration::from_millis(130),
        "{:?}",
        t.elapsed()
    );
    let last = qmp.closed().expect("closed after giving up");
    for e in [&e, &last] {
        assert!(
            matches!(
                e,
                Error::Io {
                    op: qmp_client::IoOp::Connect,
                    ..
                }
            ),
            "{e:?}"
        );
    }
    assert_eq!(fake.connections(), 1);
    match events.next().await {
        Some(Ok(ev)) => assert_eq!(ev.name(), "HELLO"),
        other => panic!("{other:?}"),
    }
    match events.next().await {
        Some(Err(EventError::Closed(Error::Io { .. }))) => {}
        other => panic!("expected the close, got {other:?}"),
    }
    assert!(events.next().await.is_none());
    // Calls fail with the close reason, at once.
    assert!(matches!(
        qmp.query_status().await.unwrap_err(),
        Error::Io { .. }
    ));
}

#[tokio::test]
async fn reconnect_now_skips_the_backoff() {
    let fake = FakeQemu::start(script()).unwrap();
    let link = Link::new();
    link.point_to(fake.socket());
    let qmp = Qmp::builder()
        .reconnect(ReconnectPolicy::exponential(
            Duration::from_secs(60),
            Duration::from_secs(60),
        ))
        .connect_unix(&link.path)
        .await
        .unwrap();
    assert!(qmp.stop().await.is_err());
    let t = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), qmp.reconnect())
        .await
        .expect("reconnected at once")
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(qmp.is_connected());
    assert!(qmp.query_status().await.unwrap().running);
}

#[tokio::test]
async fn without_a_policy_a_drop_closes_the_client() {
    let fake = FakeQemu::start(script()).unwrap();
    let qmp = Qmp::connect_unix(fake.socket()).await.unwrap();
    let e = qmp.stop().await.unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(matches!(qmp.closed(), Some(Error::Disconnected { .. })));
    assert!(matches!(
        qmp.reconnect().await,
        Err(Error::Disconnected { .. })
    ));
    assert!(matches!(
        qmp.wait_connected().await,
        Err(Error::Disconnected { .. })
    ));
}

/// The blocking client: the same drop, backoff, reconnect and notice,
/// with the event iterator parked through the outage and resuming.
#[test]
fn blocking_drop_backoff_reconnect_notice_and_resume() {
    let _one = ONE_BLOCKING.lock().unwrap_or_else(|p| p.into_inner());
    use qmp_types::ClientBlockingExt as _;
    let fake = FakeQemu::start(script()).unwrap();
    let link = Link::new();
    link.point_to(fake.socket());
    let threads_before = threads();
    let qmp = qmp_client::blocking::Qmp::builder()
        .oob(true)
        .reconnect(policy().max_attempts(100))
        .command_timeout(Some(Duration::from_secs(5)))
        .connect_unix_blocking(&link.path)
        .unwrap();
    let mut events = qmp.client_events();
    let next = |events: &mut qmp_client::blocking::Events<ClientEvent>| {
        events
            .next_timeout(Duration::from_secs(5))
            .expect("an item within 5 s")
            .expect("stream not ended")
    };
    hello(next(&mut events));
    assert_eq!(qmp.query_status().unwrap().status, RunState::Running);
    assert!(matches!(
        qmp.reconnect(Some(Duration::from_secs(1))),
        Err(Error::AlreadyConnected)
    ));

    link.remove();
    let e = qmp.stop().unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    let dropped = Instant::now();
    let e = qmp.query_status().unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(!qmp.is_connected());
    assert!(qmp.closed().is_none());

    // An event consumer on another thread waits through the outage.
    let consumer = std::thread::spawn(move || {
        let a = next(&mut events);
        let b = next(&mut events);
        (a, b, events)
    });
    std::thread::sleep(Duration::from_millis(150));
    link.point_to(fake.socket());
    qmp.wait_connected(Some(Duration::from_secs(5))).unwrap();
    assert!(dropped.elapsed() >= Duration::from_millis(140));
    let (a, b, mut events) = consumer.join().unwrap();
    match a {
        Ok(ClientEvent::Reconnected { attempt, reason }) => {
            assert!(attempt >= 3, "attempt {attempt}");
            assert!(matches!(reason, Error::Disconnected { .. }), "{reason:?}");
        }
        other => panic!("expected the reconnect notice, got {other:?}"),
    }
    hello(b);
    assert_eq!(qmp.query_status().unwrap().status, RunState::Running);
    assert!(qmp.oob_enabled());
    assert_eq!(fake.connections(), 2);
    let received = fake.received();
    let mut all: Vec<u64> = received.iter().filter_map(|c| c["id"].as_u64()).collect();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "an id was reused: {received:?}");
    assert_eq!(ids(&received, "query-status").len(), 2);

    qmp.close();
    qmp.close();
    assert!(matches!(qmp.closed(), Some(Error::Closed)));
    assert!(matches!(qmp.reconnect(None), Err(Error::Closed)));
    assert!(matches!(
        events.next(),
        Some(Err(EventError::Closed(Error::Closed)))
    ));
    drop(events);
    drop(qmp);
    // The reconnecting thread ended with the outage.
    let end = Instant::now() + Duration::from_secs(2);
    while threads()
        .iter()
        .any(|t| !threads_before.contains(t) && t == "qmp-reconnect")
        && Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !threads().iter().any(|t| t == "qmp-reconnect"),
        "{:?}",
        threads()
    );
}

#[test]
fn blocking_gives_up_with_the_last_error() {
    let _one = ONE_BLOCKING.lock().unwrap_or_else(|p| p.into_inner());
    use qmp_types::ClientBlockingExt as _;
    let fake = FakeQemu::start(script()).unwrap();
    let link = Link::new();
    link.point_to(fake.socket());
    let qmp = qmp_client::blocking::Qmp::builder()
        .reconnect(policy().max_attempts(2))
        .connect_unix_blocking(&link.path)
        .unwrap();
    link.remove();
    assert!(matches!(
        qmp.stop().unwrap_err(),
        Error::Disconnected { .. }
    ));
    let e = qmp
        .wait_connected(Some(Duration::from_secs(5)))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Io {
                op: qmp_client::IoOp::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(qmp.closed(), Some(Error::Io { .. })));
    let mut events = qmp.events();
    assert_eq!(events.next().unwrap().unwrap().name(), "HELLO");
    assert!(matches!(
        events.next(),
        Some(Err(EventError::Closed(Error::Io { .. })))
    ));
    assert!(events.next().is_none());
}

/// The blocking tests look for `qmp-reconnect` threads: one at a time.
static ONE_BLOCKING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The names of this process's threads.
fn threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_owned())
        .collect()
}

/// Capabilities fetched before the drop are not trusted after it: the
/// cache is emptied and the next use asks the new server.
#[tokio::test]
async fn capabilities_are_fetched_again_from_the_new_server() {
    let schema = json!([
        {"name": "query-status", "meta-type": "command", "arg-type": "0", "ret-type": "1"},
        {"name": "stop", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
        {"name": "0", "meta-type": "object", "members": []},
        {"name": "1", "meta-type": "object", "members": []}
    ]);
    let script = script().stub("query-qmp-schema", schema).stub(
        "query-version",
        json!({"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": ""}),
    );
    let fake = FakeQemu::start(script).unwrap();
    let link = Link::new();
    link.point_to(fake.socket());
    let qmp = Qmp::builder()
        .reconnect(policy())
        .check_capabilities(true)
        .connect_unix(&link.path)
        .await
        .unwrap();
    assert!(qmp.query_status().await.unwrap().running);
    assert!(qmp.cached_capabilities().is_some());
    assert!(matches!(
        qmp.stop().await.unwrap_err(),
        Error::Disconnected { .. }
    ));
    tokio::time::timeout(Duration::from_secs(5), qmp.wait_connected())
        .await
        .unwrap()
        .unwrap();
    assert!(
        qmp.cached_capabilities().is_none(),
        "stale capabilities kept"
    );
    assert!(qmp.query_status().await.unwrap().running);
    assert!(qmp.cached_capabilities().is_some());
    let schemas = ids(&fake.received(), "query-qmp-schema");
    assert_eq!(schemas.len(), 2, "fetched once per connection");
}

/// The policy is about replacing a lost connection: the first connect's
/// failure is returned as is, and nothing keeps trying.
#[tokio::test]
async fn a_failed_first_handshake_is_returned_not_retried() {
    let fake = FakeQemu::start(Script::new().eof()).unwrap();
    let e = Qmp::builder()
        .reconnect(policy())
        .connect_unix(fake.socket())
        .await
        .unwrap_err();
    // The server closes before negotiating: the reply never comes, or
    // writing `qmp_capabilities` already fails.
    let refused = |e: &Error| matches!(e, Error::Negotiation(_) | Error::Io { .. });
    assert!(refused(&e), "{e:?}");
    let e = qmp_client::blocking::Qmp::builder()
        .reconnect(policy())
        .connect_unix_blocking(fake.socket())
        .unwrap_err();
    assert!(refused(&e), "{e:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.connections(), 2);
}

/// An attempt whose handshake fails (the server closes before
/// negotiating) is one failed attempt: the next one succeeds elsewhere,
/// and nothing of the failed connection leaks into the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_handshake_during_reconnect_is_retried() {
    let good = FakeQemu::start(script()).unwrap();
    let bad = FakeQemu::start(Script::new().eof()).unwrap();
    let link = Link::new();
    link.point_to(good.socket());
    let qmp = Qmp::builder()
        .reconnect(policy())
        .connect_unix(&link.path)
        .await
        .unwrap();
    let mut events = qmp.client_events();
    hello(next_event(&mut events).await);
    link.point_to(bad.socket());
    assert!(matches!(
        qmp.stop().await.unwrap_err(),
        Error::Disconnected { .. }
    ));
    // Let at least two attempts reach the bad server (20 ms, 60 ms).
    let end = Instant::now() + Duration::from_secs(5);
    while bad.connections() < 2 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(bad.connections() >= 2);
    assert!(!qmp.is_connected() && qmp.closed().is_none());
    link.point_to(good.socket());
    tokio::time::timeout(Duration::from_secs(5), qmp.wait_connected())
        .await
        .unwrap()
        .unwrap();
    match next_event(&mut events).await {
        Ok(ClientEvent::Reconnected { attempt, reason }) => {
            assert!(
                attempt as usize > bad.connections() - 1,
                "attempt {attempt}"
            );
            // The reason is the drop, not a failed attempt's error.
            assert!(matches!(reason, Error::Disconnected { .. }), "{reason:?}");
        }
        other => panic!("expected the reconnect notice, got {other:?}"),
    }
    hello(next_event(&mut events).await);
    assert!(qmp.query_status().await.unwrap().running);
}

/// The same with the blocking client.
#[test]
fn blocking_a_failed_handshake_during_reconnect_is_retried() {
    let _one = ONE_BLOCKING.lock().unwrap_or_else(|p| p.into_inner());
    use qmp_types::ClientBlockingExt as _;
    let good = FakeQemu::start(script()).unwrap();
    let bad = FakeQemu::start(Script::new().eof()).unwrap();
    let link = Link::new();
    link.point_to(good.socket());
    let qmp = qmp_client::blocking::Qmp::builder()
        .reconnect(policy())
        .connect_unix_blocking(&link.path)
        .unwrap();
    let mut events = qmp.client_events();
    let mut next = || {
        events
            .next_timeout(Duration::from_secs(5))
            .expect("an item within 5 s")
            .expect("stream not ended")
    };
    hello(next());
    link.point_to(bad.socket());
    assert!(matches!(
        qmp.stop().unwrap_err(),
        Error::Disconnected { .. }
    ));
    let end = Instant::now() + Duration::from_secs(5);
    while bad.connections() < 2 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(bad.connections() >= 2);
    assert!(!qmp.is_connected() && qmp.closed().is_none());
    link.point_to(good.socket());
    qmp.wait_connected(Some(Duration::from_secs(5))).unwrap();
    match next() {
        Ok(ClientEvent::Reconnected { reason, .. }) => {
            assert!(matches!(reason, Error::Disconnected { .. }), "{reason:?}")
        }
        other => panic!("expected the reconnect notice, got {other:?}"),
    }
    hello(next());
    assert!(qmp.query_status().unwrap().running);
}

/// Closing during an outage stops the attempts at once: with a 60 s
/// backoff pending, the supervisor task (async) and the reconnecting
/// thread (blocking) are gone within moments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_during_an_outage_stops_reconnecting() {
    let slow = ReconnectPolicy::exponential(Duration::from_secs(60), Duration::from_secs(60));
    let fake = FakeQemu::start(script()).unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let qmp = Qmp::builder()
        .reconnect(slow)
        .connect_unix(fake.socket())
        .await
        .unwrap();
    assert!(qmp.stop().await.is_err());
    assert!(!qmp.is_connected());
    assert!(metrics.num_alive_tasks() > tasks_before);
    qmp.close();
    assert!(matches!(qmp.closed(), Some(Error::Closed)));
    assert!(matches!(qmp.wait_connected().await, Err(Error::Closed)));
    let end = Instant::now() + Duration::from_secs(2);
    while metrics.num_alive_tasks() > tasks_before && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before, "tasks leaked");

    let qmp = tokio::task::spawn_blocking(move || {
        let _one = ONE_BLOCKING.lock().unwrap_or_else(|p| p.into_inner());
        use qmp_types::ClientBlockingExt as _;
        let fake = FakeQemu::start(script()).unwrap();
        let qmp = qmp_client::blocking::Qmp::builder()
            .reconnect(slow)
            .connect_unix_blocking(fake.socket())
            .unwrap();
        assert!(qmp.stop().is_err());
        // (A new thread names itself once running.)
        let seen = Instant::now();
        while !threads().iter().any(|t| t == "qmp-reconnect")
            && seen.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(threads().iter().any(|t| t == "qmp-reconnect"));
        let t = Instant::now();
        qmp.close();
        while threads().iter().any(|t| t == "qmp-reconnect") && t.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            !threads().iter().any(|t| t == "qmp-reconnect"),
            "the reconnecting thread outlived close()"
        );
        qmp
    })
    .await
    .unwrap();
    assert!(matches!(qmp.closed(), Some(Error::Closed)));
}

/// A server whose first connection negotiates, then stops reading (the
/// client's next write fails with EPIPE) and keeps the socket open, so the
/// link ends by the write-failure grace period, not by an EOF; its second
/// connection answers `query-status`. Says on `shut` when it stopped
/// reading.
fn stops_reading_then_serves(
    path: &Path,
    shut: std::sync::mpsc::Sender<()>,
) -> std::thread::JoinHandle<()> {
    use common::std_server::Server;
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let mut first = Server::new(listener.accept().unwrap().0);
        first.handshake();
        first.io.shutdown(std::net::Shutdown::Read).unwrap();
        shut.send(()).unwrap();
        let mut second = Server::new(listener.accept().unwrap().0);
        second.handshake();
        while let Some(cmd) = second.recv() {
            second.reply(&cmd, json!({"status": "running", "running": true}));
        }
        drop(first);
    })
}

/// With a policy, a failed write loses the link like an EOF does: the
/// call fails with `Disconnected` (not the I/O error), the link closes
/// within the grace period although the server keeps its socket open, and
/// the client reconnects.
#[tokio::test]
async fn a_failed_write_is_a_lost_link() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qmp.sock");
    let (shut_tx, shut_rx) = std::sync::mpsc::channel();
    let server = stops_reading_then_serves(&path, shut_tx);
    let qmp = Qmp::builder()
        .reconnect(policy())
        .connect_unix(&path)
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || shut_rx.recv().unwrap())
        .await
        .unwrap();
    let e = qmp.query_status().await.unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(!qmp.is_connected());
    tokio::time::timeout(Duration::from_secs(5), qmp.wait_connected())
        .await
        .expect("reconnected within 5 s")
        .unwrap();
    assert_eq!(qmp.query_status().await.unwrap().status, RunState::Running);
    qmp.close();
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
}

/// The same with the blocking client, whose thread ends the link after the
/// grace period while nobody reads.
#[test]
fn blocking_a_failed_write_is_a_lost_link() {
    let _one = ONE_BLOCKING.lock().unwrap_or_else(|p| p.into_inner());
    use qmp_types::ClientBlockingExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qmp.sock");
    let (shut_tx, shut_rx) = std::sync::mpsc::channel();
    let server = stops_reading_then_serves(&path, shut_tx);
    let qmp = qmp_client::blocking::Qmp::builder()
        .reconnect(policy())
        .connect_unix_blocking(&path)
        .unwrap();
    shut_rx.recv().unwrap();
    let e = qmp.query_status().unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(!qmp.is_connected());
    // Nobody reads: the link is ended by the grace period's thread.
    let t = Instant::now();
    while !qmp.is_connected() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(qmp.is_connected(), "not reconnected within 5 s");
    assert_eq!(qmp.query_status().unwrap().status, RunState::Running);
    qmp.close();
    server.join().unwrap();
}
