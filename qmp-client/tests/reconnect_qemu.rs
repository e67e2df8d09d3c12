//! Reconnect (P21) against a real `qemu-system-x86_64`: QEMU is frozen
//! with calls in flight, killed (`kill -9`) and started again on the same
//! socket. In-flight calls get `Disconnected`, later calls and events work,
//! and no task or file descriptor outlives the client. Skipped without
//! QEMU, failing under `CI`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::qemu;
use qmp_client::{ClientEvent, Error, EventError, EventStream, Qmp, ReconnectPolicy};
use qmp_types::ClientExt as _;

/// The QEMU under test, killed and reaped on drop.
struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &Path, sock: &Path) -> Vm {
    start_with(bin, sock, false)
}

/// `oob`: the monitor on its own chardev (it runs in the monitor I/O
/// thread, so QEMU offers the `oob` capability).
fn start_with(bin: &Path, sock: &Path, oob: bool) -> Vm {
    let mut cmd = Command::new(bin);
    cmd.args(["-machine", "none", "-nodefaults", "-display", "none"]);
    if oob {
        cmd.arg("-chardev")
            .arg(format!(
                "socket,id=mon0,path={},server=on,wait=off",
                sock.display()
            ))
            .args(["-mon", "chardev=mon0,mode=control"]);
    } else {
        cmd.arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", sock.display()));
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin:?}: {e}"));
    let mut vm = Vm(child);
    let end = Instant::now() + Duration::from_secs(20);
    while !qemu::listening(sock) {
        if let Ok(Some(st)) = vm.0.try_wait() {
            panic!("QEMU exited before listening: {st}");
        }
        assert!(Instant::now() < end, "QEMU never listened on {sock:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    vm
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

async fn next(s: &mut EventStream<ClientEvent>) -> Result<ClientEvent, EventError> {
    tokio::time::timeout(Duration::from_secs(20), s.next())
        .await
        .expect("no event within 20 s")
        .expect("event stream ended")
}

async fn expect_event(s: &mut EventStream<ClientEvent>, name: &str) {
    match next(s).await {
        Ok(ClientEvent::Event(e)) => assert_eq!(e.name(), name),
        other => panic!("expected {name}, got {other:?}"),
    }
}

/// The two tests count this process's descriptors: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn freeze(vm: &Vm) {
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&vm.0),
        rustix::process::Signal::STOP,
    )
    .unwrap();
}

#[test]
fn qemu_killed_and_restarted_on_the_same_socket() {
    let Some(bin) = qemu::find("qemu-system-x86_64") else {
        return;
    };
    // The lock before the runtime: its descriptors must not appear in the
    // middle of the other test's count.
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async_client(bin));
}

async fn async_client(bin: PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock: PathBuf = dir.path().join("qmp.sock");
    let metrics = tokio::runtime::Handle::current().metrics();
    let fds_before = open_fds();
    let tasks_before = metrics.num_alive_tasks();

    let mut vm = start(&bin, &sock);
    let qmp = Qmp::builder()
        .reconnect(
            ReconnectPolicy::exponential(Duration::from_millis(50), Duration::from_millis(400))
                .max_attempts(200),
        )
        .command_timeout(Some(Duration::from_secs(20)))
        .connect_unix(&sock)
        .await
        .unwrap();
    let mut events = qmp.client_events();
    assert!(qmp.query_status().await.unwrap().running);

    // Freeze QEMU so that calls stay in flight, then kill it.
    freeze(&vm);
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let q = qmp.clone();
            tokio::spawn(async move { q.query_status().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(calls.iter().all(|c| !c.is_finished()), "QEMU is frozen");
    let killed = Instant::now();
    drop(vm);
    for c in calls {
        let r = tokio::time::timeout(Duration::from_secs(5), c)
            .await
            .expect("in-flight call resolved")
            .unwrap();
        assert!(matches!(r, Err(Error::Disconnected { .. })), "{r:?}");
    }
    let resolved = killed.elapsed();
    // While QEMU is gone: calls fail fast, the client is not closed.
    let e = qmp.query_status().await.unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(qmp.closed().is_none());

    // QEMU is back on the same socket.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restarted = Instant::now();
    vm = start(&bin, &sock);
    tokio::time::timeout(Duration::from_secs(20), qmp.wait_connected())
        .await
        .expect("reconnected within 20 s")
        .unwrap();
    let reconnect_took = restarted.elapsed();
    match next(&mut events).await {
        Ok(ClientEvent::Reconnected { attempt, reason }) => {
            assert!(attempt >= 1);
            assert!(reason.is_connection_lost(), "{reason:?}");
            eprintln!(
                "in-flight calls resolved {resolved:?} after kill -9; reconnected at \
                 attempt {attempt}, {reconnect_took:?} after QEMU was restarted (listening); \
                 reason: {reason}"
            );
        }
        other => panic!("expected the reconnect notice, got {other:?}"),
    }

    // Calls and events work on the new QEMU.
    assert!(qmp.query_status().await.unwrap().running);
    qmp.stop().await.unwrap();
    expect_event(&mut events, "STOP").await;
    assert!(!qmp.query_status().await.unwrap().running);
    qmp.cont().await.unwrap();
    expect_event(&mut events, "RESUME").await;

    // No leaks: once the client is gone, tasks and descriptors are back
    // to where they were before it existed.
    qmp.close();
    qmp.close();
    drop(events);
    drop(qmp);
    drop(vm);
    let end = Instant::now() + Duration::from_secs(5);
    while (metrics.num_alive_tasks() > tasks_before || open_fds() > fds_before)
        && Instant::now() < end
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metrics.num_alive_tasks(), tasks_before, "tasks leaked");
    assert_eq!(open_fds(), fds_before, "file descriptors leaked");
}

#[test]
fn blocking_qemu_killed_and_restarted_on_the_same_socket() {
    use qmp_client::blocking;
    use qmp_types::ClientBlockingExt as _;
    let Some(bin) = qemu::find("qemu-system-x86_64") else {
        return;
    };
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let sock: PathBuf = dir.path().join("qmp.sock");
    let fds_before = open_fds();

    let mut vm = start(&bin, &sock);
    let qmp = blocking::Qmp::builder()
        .reconnect(
            ReconnectPolicy::exponential(Duration::from_millis(50), Duration::from_millis(400))
                .max_attempts(200),
        )
        .command_timeout(Some(Duration::from_secs(20)))
        .connect_unix_blocking(&sock)
        .unwrap();
    let mut events = qmp.client_events();
    assert!(qmp.query_status().unwrap().running);

    freeze(&vm);
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let q = qmp.clone();
            std::thread::spawn(move || q.query_status())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    assert!(calls.iter().all(|c| !c.is_finished()), "QEMU is frozen");
    drop(vm);
    for c in calls {
        let r = c.join().unwrap();
        assert!(matches!(r, Err(Error::Disconnected { .. })), "{r:?}");
    }
    let e = qmp.query_status().unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");

    std::thread::sleep(Duration::from_millis(300));
    vm = start(&bin, &sock);
    qmp.wait_connected(Some(Duration::from_secs(20))).unwrap();
    let mut next = || {
        events
            .next_timeout(Duration::from_secs(20))
            .expect("an item within 20 s")
            .expect("stream not ended")
    };
    match next() {
        Ok(ClientEvent::Reconnected { reason, .. }) => {
            assert!(reason.is_connection_lost(), "{reason:?}")
        }
        other => panic!("expected the reconnect notice, got {other:?}"),
    }
    qmp.stop().unwrap();
    match next() {
        Ok(ClientEvent::Event(e)) => assert_eq!(e.name(), "STOP"),
        other => panic!("expected STOP, got {other:?}"),
    }
    qmp.cont().unwrap();
    match next() {
        Ok(ClientEvent::Event(e)) => assert_eq!(e.name(), "RESUME"),
        other => panic!("expected RESUME, got {other:?}"),
    }

    qmp.close();
    qmp.close();
    drop(events);
    drop(qmp);
    drop(vm);
    let end = Instant::now() + Duration::from_secs(5);
    while open_fds() > fds_before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(open_fds(), fds_before, "file descriptors leaked");
}

/// With `oob` negotiated on the first connection, the reconnect negotiates
/// it again, and out-of-band commands work on the new QEMU.
#[test]
fn oob_is_negotiated_again_after_a_restart() {
    let Some(bin) = qemu::find("qemu-system-x86_64") else {
        return;
    };
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let sock: PathBuf = dir.path().join("qmp.sock");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let vm = start_with(&bin, &sock, true);
            let qmp = Qmp::builder()
                .oob(true)
                .reconnect(ReconnectPolicy::exponential(
                    Duration::from_millis(20),
                    Duration::from_millis(200),
                ))
                .command_timeout(Some(Duration::from_secs(20)))
                .connect_unix(&sock)
                .await
                .unwrap();
            assert!(qmp.oob_enabled());
            drop(vm);
            // The client learns of the loss when it reads the socket.
            let end = Instant::now() + Duration::from_secs(5);
            while qmp.is_connected() && Instant::now() < end {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert!(!qmp.is_connected());
            let vm = start_with(&bin, &sock, true);
            tokio::time::timeout(Duration::from_secs(20), qmp.wait_connected())
                .await
                .expect("reconnected within 20 s")
                .unwrap();
            assert!(qmp.oob_enabled(), "oob negotiated again");
            let yank = qmp
                .request_raw("query-yank", None)
                .oob()
                .send()
                .await
                .unwrap();
            assert!(yank.is_array(), "{yank}");
            assert!(qmp.query_status().await.is_ok());
            qmp.close();
            drop(vm);
        });
}
