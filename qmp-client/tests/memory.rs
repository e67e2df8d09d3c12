//! Memory stays flat over a long run: 100k commands (with events and
//! timed-out calls mixed in) through each transport against an in-process
//! fake server; resident memory after the run must not exceed the level
//! reached after warm-up by more than a small margin. (RSS is per process
//! and the two tests may run at once: the margin covers the other test's
//! steady state, a leak of even 100 bytes per call would be ~9 MB.)

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

const WARMUP: u64 = 10_000;
const TOTAL: u64 = 100_000;
/// Allowed growth after warm-up (allocator noise, not leaks: a leak of even
/// 100 bytes per call would be ~9 MB here).
const SLACK_KB: u64 = 2048;

#[tokio::test]
async fn async_client_memory_is_flat() {
    let (c, s) = tokio::io::duplex(1 << 16);
    let srv = tokio::spawn(async move {
        let mut s = common::tokio_server::Server::new(s);
        s.handshake().await;
        let mut k = 0u64;
        let mut held = None;
        while let Some(cmd) = s.recv().await {
            k += 1;
            if k % 100 == 0 {
                s.send(&event("TICK", Some(json!({"n": k})))).await;
            }
            if cmd["arguments"]["n"].as_u64().unwrap() % 1000 == 999 {
                // Answer only after the next command: the caller times out.
                held = Some(cmd);
                continue;
            }
            s.reply(&cmd, cmd["arguments"]["n"].clone()).await;
            if let Some(late) = held.take() {
                s.reply(&late, late["arguments"]["n"].clone()).await;
            }
        }
    });
    let qmp = qmp_client::Builder::new()
        .event_capacity(64)
        .connect_stream(c)
        .await
        .unwrap();
    let mut base = 0;
    for n in 0..TOTAL {
        if n == WARMUP {
            base = rss_kb();
        }
        if n % 1000 == 999 {
            // A call that times out: its late reply is dropped.
            let e = qmp
                .request(Echo { n })
                .timeout(Duration::from_millis(1))
                .send()
                .await
                .unwrap_err();
            assert!(e.is_timeout());
        } else {
            assert_eq!(qmp.call(Echo { n }).await.unwrap(), n);
        }
    }
    let after = rss_kb();
    eprintln!("async: RSS {base} KiB after warm-up, {after} KiB after {TOTAL} calls");
    assert!(
        after <= base + SLACK_KB,
        "RSS grew from {base} to {after} KiB"
    );
    // The last held reply never comes: no command follows it.
    assert_eq!(qmp.stats().unknown_replies, TOTAL / 1000 - 1);
    qmp.close();
    srv.abort();
}

#[test]
fn blocking_client_memory_is_flat() {
    let (c, s) = std::os::unix::net::UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        let mut s = common::std_server::Server::new(s);
        s.handshake();
        let mut k = 0u64;
        while let Some(cmd) = s.recv() {
            k += 1;
            if k % 100 == 0 {
                s.send(&event("TICK", Some(json!({"n": k}))));
            }
            s.reply(&cmd, cmd["arguments"]["n"].clone());
        }
    });
    let qmp = qmp_client::Builder::new()
        .event_capacity(64)
        .connect_blocking(c)
        .unwrap();
    let mut base = 0;
    for n in 0..TOTAL {
        if n == WARMUP {
            base = rss_kb();
        }
        assert_eq!(qmp.call(Echo { n }).unwrap(), n);
    }
    let after = rss_kb();
    eprintln!("blocking: RSS {base} KiB after warm-up, {after} KiB after {TOTAL} calls");
    assert!(
        after <= base + SLACK_KB,
        "RSS grew from {base} to {after} KiB"
    );
    qmp.close();
}
