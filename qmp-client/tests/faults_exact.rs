//! Nothing lost: values a `serde_json::Value` cannot hold (a lone
//! surrogate escape, a number beyond `f64`) in replies and events are a
//! typed error naming where they are, with the message kept verbatim —
//! never `null` (tokio and blocking transports, scripted fake servers).

mod common;

use std::time::Duration;

use common::*;
use qmp_client::{Builder, Error, EventError};
use serde_json::json;

const SURROGATE_REPLY: &str = r#"{"return": {"name": "abc\ud800def", "ok": 1}, "id": ID}"#;
const BIG_NUMBER_REPLY: &str = r#"{"return": [1, {"n": 1e400}], "id": ID}"#;
const SURROGATE_EVENT: &str = r#"{"event": "NAMED", "data": {"name": "x\udc00y"}, "timestamp": {"seconds": 1, "microseconds": 2}}"#;

fn quick() -> Builder {
    Builder::new()
        .handshake_timeout(Some(Duration::from_secs(5)))
        .command_timeout(Some(Duration::from_secs(5)))
}

fn with_id(template: &str, cmd: &serde_json::Value) -> String {
    template.replace("ID", &cmd["id"].to_string()) + "\r\n"
}

fn check_unrepresentable(e: &Error, want_path: &str, want_msg: &str, needle: &str) {
    match e {
        Error::Unrepresentable {
            path,
            offset,
            message,
            raw,
            ..
        } => {
            assert_eq!(path, want_path, "{e}");
            assert!(message.contains(want_msg), "{e}");
            // The message is kept verbatim, and the offset points into
            // the offending value.
            assert!(raw.contains(needle), "{raw}");
            let at = raw.find(needle).unwrap();
            assert!(
                *offset >= at && *offset <= at + needle.len(),
                "offset {offset} not in {needle:?} at {at} of {raw}"
            );
            assert!(!e.is_fatal());
        }
        other => panic!("expected Unrepresentable, got {other:?}"),
    }
}

#[tokio::test]
async fn tokio_reply_with_lone_surrogate_or_huge_number_is_an_error_not_null() {
    let (c, s) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let mut s = tokio_server::Server::new(s);
        s.handshake().await;
        for t in [SURROGATE_REPLY, BIG_NUMBER_REPLY, SURROGATE_REPLY] {
            let cmd = s.recv().await.unwrap();
            s.send(&with_id(t, &cmd)).await;
        }
        let cmd = s.recv().await.unwrap();
        s.reply(&cmd, json!({"fine": true})).await;
        s.recv().await;
    });
    let qmp = quick().connect_stream(c).await.unwrap();
    let e = qmp.call_raw("query-name", None).await.unwrap_err();
    check_unrepresentable(&e, ".return.name", "surrogate", r#""abc\ud800def""#);
    assert!(e.to_string().contains("query-name"), "{e}");
    let e = qmp.call_raw("query-n", None).await.unwrap_err();
    check_unrepresentable(&e, ".return[1].n", "out of range", "1e400");
    // The raw path keeps the reply exactly.
    let r = qmp
        .request_raw("query-name", None)
        .send_reply()
        .await
        .unwrap();
    assert_eq!(r.json(), r#"{"name": "abc\ud800def", "ok": 1}"#);
    assert!(matches!(r.to_value(), Err(Error::Unrepresentable { .. })));
    // The connection is still fine.
    assert_eq!(
        qmp.call_raw("x", None).await.unwrap(),
        json!({"fine": true})
    );
}

#[tokio::test]
async fn tokio_event_with_lone_surrogate_is_kept_raw_with_an_error() {
    let (c, s) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let mut s = tokio_server::Server::new(s);
        s.handshake().await;
        s.send(&format!("{SURROGATE_EVENT}\r\n")).await;
        s.send(&event("STOP", None)).await;
        s.recv().await;
    });
    let qmp = quick().connect_stream(c).await.unwrap();
    let mut events = qmp.events_as::<serde_json::Value>();
    match events.next().await.unwrap() {
        Err(EventError::Decode { error, raw }) => {
            assert_eq!(raw.message(), SURROGATE_EVENT);
            check_unrepresentable(&error, ".data.name", "surrogate", r#""x\udc00y""#);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let next = events.next().await.unwrap().unwrap();
    assert_eq!(next["event"], "STOP");
}

#[test]
fn blocking_reply_and_event_with_unrepresentable_values() {
    let (c, s) = std::os::unix::net::UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        let mut s = std_server::Server::new(s);
        s.handshake();
        s.send(&format!("{SURROGATE_EVENT}\r\n"));
        let cmd = s.recv().unwrap();
        s.send(&with_id(BIG_NUMBER_REPLY, &cmd));
        s.recv();
    });
    let qmp = quick().connect_blocking(c).unwrap();
    let e = qmp.call_raw("query-n", None).unwrap_err();
    check_unrepresentable(&e, ".return[1].n", "out of range", "1e400");
    let mut events = qmp.events_as::<serde_json::Value>();
    match events.next().unwrap() {
        Err(EventError::Decode { error, raw }) => {
            assert_eq!(raw.message(), SURROGATE_EVENT);
            check_unrepresentable(&error, ".data.name", "surrogate", r#""x\udc00y""#);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}
