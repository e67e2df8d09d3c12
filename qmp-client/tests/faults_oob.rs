//! The OOB in-flight cap: with `oob` negotiated, QEMU stops reading once
//! eight in-band commands are queued; the client keeps at most eight in
//! flight and queues the rest, and out-of-band commands still get through.

mod common;

use std::time::Duration;

use common::tokio_server::Server;
use common::*;
use qmp_client::Builder;
use serde_json::json;

#[tokio::test]
async fn twenty_in_band_calls_never_exceed_eight_in_flight() {
    let (c, s) = tokio::io::duplex(1 << 16);
    let srv = tokio::spawn(async move {
        let mut s = Server::new(s);
        s.handshake().await;
        let mut held = Vec::new();
        let mut max_held = 0;
        let mut answered = 0;
        let mut oob_seen_while_full = false;
        while answered < 20 {
            // Like QEMU with a full queue: take what arrives for a moment.
            let next = tokio::time::timeout(Duration::from_millis(150), s.recv()).await;
            match next {
                Ok(Some(cmd)) if cmd.get("exec-oob").is_some() => {
                    oob_seen_while_full |= held.len() == 8;
                    s.reply(&cmd, json!({})).await;
                }
                Ok(Some(cmd)) => {
                    held.push(cmd);
                    max_held = max_held.max(held.len());
                }
                Ok(None) => break,
                Err(_) => {
                    for cmd in held.drain(..) {
                        s.reply(&cmd, cmd["arguments"]["n"].clone()).await;
                        answered += 1;
                    }
                }
            }
        }
        (max_held, oob_seen_while_full)
    });
    let qmp = Builder::new()
        .oob(true)
        .command_timeout(Some(Duration::from_secs(10)))
        .connect_stream(c)
        .await
        .unwrap();
    assert!(qmp.oob_enabled());
    let calls: Vec<_> = (0..20u64)
        .map(|n| {
            let q = qmp.clone();
            tokio::spawn(async move { q.call(Echo { n }).await })
        })
        .collect();
    // While eight are held by the server, an out-of-band command passes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    qmp.request(Yank).oob().send().await.unwrap();
    for (n, c) in calls.into_iter().enumerate() {
        assert_eq!(c.await.unwrap().unwrap(), n as u64);
    }
    let (max_held, oob_passed) = srv.await.unwrap();
    assert_eq!(max_held, 8);
    assert!(oob_passed);
}
