//! Fault suite for the tokio transport against a scripted fake server over
//! an in-memory duplex. Every test is bounded by a timeout: no hang, no
//! panic, the right value or a typed error.

mod common;

use std::future::Future;
use std::time::Duration;

use common::tokio_server::Server;
use common::*;
use qmp_client::{Builder, Error, ErrorClass, EventError, ProtocolErrorKind, Qmp, TimeoutKind};
use serde_json::{Value, json};

/// Runs a test body with a hard limit.
async fn bounded<F: Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("test hung");
}

/// Starts a fake server running `script` and connects a client with
/// `builder`.
async fn pair<F, Fut>(
    builder: Builder,
    script: F,
) -> (Result<Qmp, Error>, tokio::task::JoinHandle<()>)
where
    F: FnOnce(Server) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (c, s) = tokio::io::duplex(1 << 16);
    let srv = tokio::spawn(script(Server::new(s)));
    let client = builder.connect_stream(c).await;
    (client, srv)
}

/// Starts a blocking fake server running `script` in a thread on one end
/// of a real Unix socket pair (so it can shut one direction down) and
/// connects a client to the other end.
async fn unix_pair(
    script: impl FnOnce(common::std_server::Server) + Send + 'static,
) -> (Qmp, std::thread::JoinHandle<()>) {
    let (c, s) = std::os::unix::net::UnixStream::pair().unwrap();
    let srv = std::thread::spawn(move || script(common::std_server::Server::new(s)));
    c.set_nonblocking(true).unwrap();
    let c = tokio::net::UnixStream::from_std(c).unwrap();
    (quick().connect_unix_stream(c).await.unwrap(), srv)
}

fn quick() -> Builder {
    Builder::new().handshake_timeout(Some(Duration::from_secs(2)))
}

async fn connect_err<F, Fut>(builder: Builder, script: F) -> Error
where
    F: FnOnce(Server) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (r, _srv) = pair(builder, script).await;
    r.expect_err("handshake should fail")
}

// ---- greeting (P5) ----

#[tokio::test]
async fn greeting_garbage() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send("hello world\r\n").await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    })
    .await;
}

/// QEMU 5.2 started without `-S` can write its startup `RESUME` before the
/// greeting to a client that connects at once: the event is kept and the
/// handshake goes on.
#[tokio::test]
async fn an_event_before_the_greeting_is_kept() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.send(&event("RESUME", None)).await;
            s.handshake().await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let ev = c.events().next().await.unwrap().unwrap();
        assert_eq!(ev.name(), "RESUME");
    })
    .await;
}

#[tokio::test]
async fn only_events_and_no_greeting_time_out() {
    bounded(async {
        let b = Builder::new().handshake_timeout(Some(Duration::from_millis(300)));
        let e = connect_err(b, |mut s| async move {
            for _ in 0..5 {
                s.send(&event("STOP", None)).await;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        assert!(matches!(e, Error::Timeout(TimeoutKind::Handshake)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn greeting_missing_version() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send(r#"{"QMP": {"capabilities": []}}"#).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn greeting_wrong_types() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send(r#"{"QMP": {"version": {"qemu": {"major": "ten", "minor": 0, "micro": 0}, "package": ""}, "capabilities": "oob"}}"#).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn greeting_not_an_object() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send("[1, 2, 3]\r\n").await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn eof_before_greeting() {
    bounded(async {
        let e = connect_err(quick(), |s| async move { drop(s) }).await;
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn eof_mid_greeting() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send(&GREETING[..30]).await;
        })
        .await;
        assert!(matches!(e, Error::Greeting(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn greeting_never_sent_times_out() {
    bounded(async {
        let b = Builder::new().handshake_timeout(Some(Duration::from_millis(200)));
        let e = connect_err(b, |s| async move {
            let _s = s;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        assert!(matches!(e, Error::Timeout(TimeoutKind::Handshake)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn greeting_late_but_in_time() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"running": true, "status": "running"}))
                .await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        assert_eq!(c.call(QueryStatus).await.unwrap().status, "running");
    })
    .await;
}

#[tokio::test]
async fn greeting_unknown_capabilities_and_members_ignored() {
    bounded(async {
        let (c, _srv) = pair(quick().oob(true), |mut s| async move {
            s.send(r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 99}, "package": "x", "extra": 1}, "capabilities": ["future-cap", "oob"], "__com.example_x": true}}"#).await;
            let cmd = s.recv().await.unwrap();
            // Only the capability both sides know is enabled.
            assert_eq!(cmd["arguments"], json!({"enable": ["oob"]}));
            s.reply(&cmd, json!({})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let g = c.greeting().unwrap();
        assert_eq!(g.version.qemu.major, 99);
        assert!(g.offers("future-cap"));
        assert!(c.oob_enabled());
    })
    .await;
}

// ---- negotiation (P6) ----

#[tokio::test]
async fn negotiation_error_reply() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send(GREETING).await;
            let cmd = s.recv().await.unwrap();
            s.error(&cmd, "GenericError", "Invalid parameter 'enable'")
                .await;
            s.recv().await;
        })
        .await;
        assert!(
            matches!(&e, Error::Negotiation(m) if m.contains("Invalid parameter")),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn negotiation_eof() {
    bounded(async {
        let e = connect_err(quick(), |mut s| async move {
            s.send(GREETING).await;
            let _ = s.recv().await;
        })
        .await;
        assert!(matches!(e, Error::Negotiation(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn oob_not_requested_or_not_offered() {
    bounded(async {
        // Offered, not requested: plain qmp_capabilities.
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.send(GREETING).await;
            let cmd = s.recv().await.unwrap();
            assert!(cmd.get("arguments").is_none(), "{cmd}");
            s.reply(&cmd, json!({})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        assert!(!c.oob_enabled());
        assert!(matches!(
            c.request(Yank).oob().send().await,
            Err(Error::OobNotEnabled)
        ));
        // Requested, not offered.
        let (c, _srv) = pair(quick().oob(true), |mut s| async move {
            s.send(GREETING_NO_OOB).await;
            let cmd = s.recv().await.unwrap();
            assert!(cmd.get("arguments").is_none(), "{cmd}");
            s.reply(&cmd, json!({})).await;
            s.recv().await;
        })
        .await;
        assert!(!c.unwrap().oob_enabled());
    })
    .await;
}

#[tokio::test]
async fn oob_replies_overtake() {
    bounded(async {
        let (c, _srv) = pair(quick().oob(true), |mut s| async move {
            s.send(GREETING).await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({})).await;
            let slow = s.recv().await.unwrap();
            let fast = s.recv().await.unwrap();
            assert_eq!(fast["exec-oob"], "yank");
            s.reply(&fast, json!({})).await;
            s.reply(&slow, json!({"running": false, "status": "paused"}))
                .await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let c2 = c.clone();
        let slow = tokio::spawn(async move { c2.call(QueryStatus).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.request(Yank).oob().send().await.unwrap();
        assert_eq!(slow.await.unwrap().unwrap().status, "paused");
    })
    .await;
}

// ---- replies: routing, shapes, errors ----

#[tokio::test]
async fn malformed_json_reply_fails_pending_call() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let _cmd = s.recv().await.unwrap();
            s.send("{\"return\": , \"id\": 2}\r\n").await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Protocol {
                    kind: ProtocolErrorKind::Malformed(_),
                    ..
                }
            ),
            "{e:?}"
        );
        // Fails fast afterwards (P16).
        let e2 = c.call(QueryStatus).await.unwrap_err();
        assert!(e2.is_fatal());
    })
    .await;
}

#[tokio::test]
async fn eof_mid_reply_is_partial() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let _cmd = s.recv().await.unwrap();
            s.send("{\"return\": {\"running\": tr").await;
        })
        .await;
        let c = c.unwrap();
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(e, Error::Disconnected { partial: true }), "{e:?}");
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn eof_between_messages() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let _ = s.recv().await.unwrap();
        })
        .await;
        let c = c.unwrap();
        let mut events = c.events();
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(e, Error::Disconnected { partial: false }), "{e:?}");
        // Event waiters are woken with the error, then the stream ends.
        assert!(matches!(
            events.next().await,
            Some(Err(EventError::Closed(_)))
        ));
        assert!(events.next().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn unknown_and_duplicate_ids_dropped() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.send("{\"return\": {\"running\": false, \"status\": \"x\"}, \"id\": 999}\r\n")
                .await;
            s.send("{\"return\": 1, \"id\": \"not-ours\"}\r\n").await;
            s.send("{\"return\": 1, \"id\": {\"a\": [1]}}\r\n").await;
            s.send("{\"return\": 1, \"id\": 2.0}\r\n").await;
            s.reply(&cmd, json!({"running": true, "status": "running"}))
                .await;
            s.reply(&cmd, json!({"running": false, "status": "dup"}))
                .await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"running": true, "status": "second"}))
                .await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        assert_eq!(c.call(QueryStatus).await.unwrap().status, "running");
        assert_eq!(c.call(QueryStatus).await.unwrap().status, "second");
        assert_eq!(c.stats().unknown_replies, 5);
    })
    .await;
}

#[tokio::test]
async fn wrong_shape_reply_is_a_per_call_decode_error() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"running": "yes", "status": "running"})).await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"status": "running"})).await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!([1, 2])).await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"running": true, "status": "ok"})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(&e, Error::Decode { command, path, .. } if command == "query-status" && path == ".running"), "{e:?}");
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(&e, Error::Decode { message, .. } if message.contains("running")), "{e:?}");
        assert!(!e.is_fatal());
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        // The connection stays usable (P13).
        assert_eq!(c.call(QueryStatus).await.unwrap().status, "ok");
    })
    .await;
}

#[tokio::test]
async fn unknown_members_ignored() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!("{{\"__com.example_x\": 1, \"return\": {{\"new-member\": [{{}}], \"running\": true, \"status\": \"running\"}}, \"id\": {}, \"extra\": null}}\r\n", cmd["id"])).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        assert!(c.call(QueryStatus).await.unwrap().running);
    })
    .await;
}

#[tokio::test]
async fn error_replies_typed_unknown_class_kept() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.error(&cmd, "CommandNotFound", "The command x has not been found").await;
            let cmd = s.recv().await.unwrap();
            s.error(&cmd, "FutureClass", "something new").await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!("{{\"error\": {{\"desc\": \"no class\"}}, \"id\": {}}}\r\n", cmd["id"])).await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!("{{\"error\": {{\"class\": \"GenericError\", \"desc\": \"x\"}}, \"return\": {{}}, \"id\": {}}}\r\n", cmd["id"])).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(e.is_command_not_found(), "{e:?}");
        let e = c.call(QueryStatus).await.unwrap_err();
        assert_eq!(e.class(), Some(&ErrorClass::Other("FutureClass".into())));
        assert_eq!(e.qmp_error().unwrap().desc, "something new");
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(e, Error::BadReply { .. }), "{e:?}");
        let e = c.call(QueryStatus).await.unwrap_err();
        assert!(matches!(e, Error::BadReply { .. }), "{e:?}");
        assert!(c.closed().is_none());
    })
    .await;
}

#[tokio::test]
async fn idless_error_is_server_parse_and_fails_all() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let _a = s.recv().await.unwrap();
            let _b = s.recv().await.unwrap();
            s.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}\r\n").await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let (a, b) = tokio::join!(c.call(QueryStatus), c.call(Stop));
        assert!(matches!(a, Err(Error::ServerParse(_))), "{a:?}");
        assert!(matches!(b, Err(Error::ServerParse(_))), "{b:?}");
        assert!(matches!(c.closed(), Some(Error::ServerParse(_))));
    })
    .await;
}

#[tokio::test]
async fn duplicate_keys_rejected() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let _ = s.recv().await.unwrap();
            s.send("{\"return\": {}, \"return\": {}, \"id\": 2}\r\n").await;
            s.recv().await;
        })
        .await;
        let e = c.unwrap().call(Stop).await.unwrap_err();
        assert!(matches!(e, Error::Protocol { kind: ProtocolErrorKind::Malformed(ref m), .. } if m.contains("duplicate")), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn top_level_non_object_is_protocol_error() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let _ = s.recv().await.unwrap();
            s.send("\"just a string\"\r\n").await;
            s.recv().await;
        })
        .await;
        let e = c.unwrap().call(Stop).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Protocol {
                    kind: ProtocolErrorKind::UnexpectedByte(b'"'),
                    ..
                }
            ),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_messages_counted_and_ignored() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.send("{}\r\n{\"something\": \"else\"}\r\n{\"event\": 5}\r\n")
                .await;
            s.send(GREETING).await;
            s.reply(&cmd, json!({})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        c.call(Stop).await.unwrap();
        assert_eq!(c.stats().unknown_messages, 4);
    })
    .await;
}

// ---- framing (P4) and limits (P2, P3) ----

#[tokio::test]
async fn pretty_multiline_crlf_and_lf() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.send("{\n    \"QMP\": {\n        \"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"},\r\n        \"capabilities\": [\n        ]\n    }\n}\n").await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!("{{\r\n    \"return\": {{\r\n    }},\r\n    \"id\": {}\r\n}}\r\n", cmd["id"])).await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!("  \n\t{{\n  \"id\": {},\n  \"return\": {{\n    \"status\": \"running\",\n    \"running\": true\n  }}\n}}\n\n", cmd["id"])).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        assert!(c.call(QueryStatus).await.unwrap().running);
    })
    .await;
}

#[tokio::test]
async fn one_byte_writes_and_many_per_write() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            for b in GREETING.as_bytes() {
                s.send_bytes(std::slice::from_ref(b)).await;
                tokio::task::yield_now().await;
            }
            let cmd = s.recv().await.unwrap();
            let reply = format!("{{\"return\": {{}}, \"id\": {}}}\r\n", cmd["id"]);
            for b in reply.as_bytes() {
                s.send_bytes(std::slice::from_ref(b)).await;
                tokio::task::yield_now().await;
            }
            let mut all = String::new();
            for _ in 0..3 {
                let cmd = s.recv().await.unwrap();
                all += &format!(
                    "{{\"return\": {}, \"id\": {}}}",
                    cmd["arguments"]["n"], cmd["id"]
                );
                all += &event("TICK", Some(json!({"n": 1})));
            }
            s.send(&all).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let (a, b, d) = tokio::join!(
            c.call(Echo { n: 1 }),
            c.call(Echo { n: 2 }),
            c.call(Echo { n: 3 })
        );
        assert_eq!((a.unwrap(), b.unwrap(), d.unwrap()), (1, 2, 3));
        let mut ev = c.events();
        for _ in 0..3 {
            assert_eq!(ev.next().await.unwrap().unwrap().name(), "TICK");
        }
    })
    .await;
}

#[tokio::test]
async fn message_over_size_limit() {
    bounded(async {
        let (c, _srv) = pair(quick().max_message_bytes(1024), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!("x".repeat(2000))).await;
            s.recv().await;
        })
        .await;
        let e = c
            .unwrap()
            .call(HumanMonitorCommand {
                command_line: "info".into(),
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::MessageTooLarge { limit: 1024 }), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn unterminated_message_over_size_limit_never_completing() {
    bounded(async {
        let (c, _srv) = pair(quick().max_message_bytes(4096), |mut s| async move {
            s.handshake().await;
            let _ = s.recv().await.unwrap();
            s.send("{\"return\": \"").await;
            for _ in 0..100 {
                s.send(&"a".repeat(100)).await;
            }
            s.recv().await;
        })
        .await;
        let e = c.unwrap().call(Stop).await.unwrap_err();
        assert!(matches!(e, Error::MessageTooLarge { .. }), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn nesting_over_limit_and_at_limit() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            // Depth 128 in total (the outer object counts): accepted.
            let cmd = s.recv().await.unwrap();
            let ok = format!(
                "{{\"id\": {}, \"return\": {}{}}}\r\n",
                cmd["id"],
                "[".repeat(127),
                "]".repeat(127)
            );
            s.send(&ok).await;
            let _cmd = s.recv().await.unwrap();
            s.send(&format!("{{\"return\": {}", "[".repeat(200))).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let v = c.call_raw("deep", None).await.unwrap();
        assert!(v.is_array());
        let e = c.call_raw("deeper", None).await.unwrap_err();
        assert!(matches!(e, Error::TooDeep { limit: 128 }), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn invalid_utf8() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            let mut m = format!("{{\"id\": {}, \"return\": \"", cmd["id"]).into_bytes();
            m.extend_from_slice(b"\xc3\x28\"}\r\n");
            s.send_bytes(&m).await;
            s.recv().await;
        })
        .await;
        let e = c.unwrap().call_raw("x", None).await.unwrap_err();
        assert!(matches!(e, Error::InvalidUtf8 { .. }), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn unicode_escapes_and_surrogates() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!(
                "{{\"id\": {}, \"return\": \"a\\u0000b\\uFFFD\\ud83d\\ude00\\u001b[31m\"}}\r\n",
                cmd["id"]
            ))
            .await;
            let cmd = s.recv().await.unwrap();
            s.send(&format!(
                "{{\"id\": {}, \"return\": \"lone \\udc00 surrogate\"}}\r\n",
                cmd["id"]
            ))
            .await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!("fine")).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let h = || HumanMonitorCommand {
            command_line: "x".into(),
        };
        assert_eq!(
            c.call(h()).await.unwrap(),
            "a\0b\u{FFFD}\u{1F600}\u{1b}[31m"
        );
        let e = c.call(h()).await.unwrap_err();
        assert!(
            matches!(e, Error::Decode { .. } | Error::Protocol { .. }),
            "{e:?}"
        );
        if !e.is_fatal() {
            assert_eq!(c.call(h()).await.unwrap(), "fine");
        }
    })
    .await;
}

// ---- events (P10, P11) ----

#[tokio::test]
async fn events_interleaved_with_pipelined_replies() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let mut cmds = Vec::new();
            for _ in 0..10 {
                cmds.push(s.recv().await.unwrap());
            }
            for (i, cmd) in cmds.iter().rev().enumerate() {
                s.send(&event("TICK", Some(json!({"n": i, "extra-member": "x"}))))
                    .await;
                s.reply(cmd, cmd["arguments"]["n"].clone()).await;
            }
            s.send(&event("SOMETHING_NEW", Some(json!({"a": 1})))).await;
            s.send(
                "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}\r\n",
            )
            .await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let mut events = c.typed_events::<TestEvent>();
        let handles: Vec<_> = (0..10)
            .map(|n| {
                let c = c.clone();
                tokio::spawn(async move { c.call(Echo { n }).await })
            })
            .collect();
        for (n, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap().unwrap(), n as u64);
        }
        for i in 0..10 {
            let ev = events.next().await.unwrap().unwrap();
            assert_eq!(
                ev.event,
                TestEvent::Tick {
                    data: TickData { n: i }
                }
            );
            assert_eq!(ev.timestamp.seconds, 1700000000);
        }
        let ev = events.next().await.unwrap().unwrap();
        assert!(matches!(ev.event, TestEvent::Unknown(_)));
        assert_eq!(ev.raw.name(), "SOMETHING_NEW");
        assert_eq!(ev.raw.data_json(), Some(r#"{"a":1}"#));
        let ev = events.next().await.unwrap().unwrap();
        assert_eq!(ev.event, TestEvent::Stop);
        assert_eq!(ev.timestamp.seconds, -1);
    })
    .await;
}

#[tokio::test]
async fn event_flood_is_bounded_and_reports_lag() {
    bounded(async {
        let (c, _srv) = pair(quick().event_capacity(16), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            let mut batch = String::new();
            for i in 0..5000 {
                batch += &event("TICK", Some(json!({"n": i})));
            }
            s.send(&batch).await;
            s.reply(&cmd, json!(7)).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        // The reply gets through although nobody consumes events.
        assert_eq!(c.call(Echo { n: 7 }).await.unwrap(), 7);
        let mut events = c.typed_events::<TestEvent>();
        assert_eq!(events.buffered(), 16);
        match events.next().await.unwrap() {
            Err(EventError::Lagged(n)) => assert_eq!(n, 5000 - 16),
            other => panic!("{other:?}"),
        }
        for i in 5000 - 16..5000 {
            let ev = events.next().await.unwrap().unwrap();
            assert_eq!(
                ev.event,
                TestEvent::Tick {
                    data: TickData { n: i }
                }
            );
        }
    })
    .await;
}

#[tokio::test]
async fn typed_event_decode_failure_keeps_raw() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            s.send(&event("TICK", Some(json!({"n": "not a number"}))))
                .await;
            s.recv().await;
        })
        .await;
        #[derive(Debug, serde::Deserialize)]
        struct Strict {
            #[allow(dead_code)]
            data: TickData,
        }
        impl qmp_types::EventKind for Strict {
            fn name(&self) -> &str {
                "TICK"
            }
        }
        let c = c.unwrap();
        let mut events = c.typed_events::<Strict>();
        match events.next().await.unwrap() {
            Err(EventError::Decode { raw, .. }) => assert_eq!(raw.name(), "TICK"),
            Ok(ev) => panic!("decoded: {:?}", ev.event),
            Err(e) => panic!("{e:?}"),
        }
    })
    .await;
}

// ---- timeouts, cancellation (P18), write side (P17) ----

#[tokio::test]
async fn server_never_answers_timeout_then_late_reply_dropped() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let first = s.recv().await.unwrap();
            let second = s.recv().await.unwrap();
            // Late reply to the timed-out call, then the real one.
            s.reply(&first, json!(111)).await;
            s.reply(&second, second["arguments"]["n"].clone()).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let e = c
            .request(Echo { n: 1 })
            .timeout(Duration::from_millis(100))
            .send()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Reply)), "{e:?}");
        assert!(!e.is_fatal());
        assert_eq!(c.call(Echo { n: 2 }).await.unwrap(), 2);
        assert_eq!(c.stats().unknown_replies, 1);
    })
    .await;
}

#[tokio::test]
async fn cancelled_call_does_not_steal_or_wedge() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let first = s.recv().await.unwrap();
            let second = s.recv().await.unwrap();
            s.reply(&first, json!(1)).await;
            s.reply(&second, json!(2)).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        {
            let f = c.call(Echo { n: 1 });
            tokio::pin!(f);
            // Poll once so the command is sent, then drop the future.
            assert!(futures_poll_once(f.as_mut()).await.is_none());
        }
        assert_eq!(c.call(Echo { n: 2 }).await.unwrap(), 2);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(c.stats().unknown_replies, 1);
    })
    .await;
}

async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut f).poll(cx) {
        std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

#[tokio::test]
async fn server_stops_reading_write_times_out() {
    bounded(async {
        let (c, s) = tokio::io::duplex(256);
        let srv = tokio::spawn(async move {
            let mut s = Server::new(s);
            s.handshake().await;
            // Never read again, keep the stream open.
            tokio::time::sleep(Duration::from_secs(8)).await;
            drop(s);
        });
        let c = quick()
            .write_timeout(Some(Duration::from_millis(200)))
            .connect_stream(c)
            .await
            .unwrap();
        let big = "x".repeat(10_000);
        let e = c
            .call(HumanMonitorCommand { command_line: big })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Write)), "{e:?}");
        srv.abort();
    })
    .await;
}

#[tokio::test]
async fn server_gone_write_fails_typed() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
        })
        .await;
        let c = c.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = c.call(Stop).await.unwrap_err();
        assert!(
            matches!(e, Error::Disconnected { .. } | Error::Io { .. }),
            "{e:?}"
        );
    })
    .await;
}

/// A failed write does not lose replies: the server stops reading (the
/// client's next write fails with EPIPE) but still answers the command it
/// already has, then hangs up. The caller whose write failed gets the
/// write error; the earlier caller gets its reply.
#[tokio::test]
async fn a_failed_write_keeps_replies_still_to_come() {
    bounded(async {
        let (shut_tx, shut_rx) = tokio::sync::oneshot::channel::<()>();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let (c, srv) = unix_pair(move |mut s| {
            s.handshake();
            let a = s.recv().unwrap();
            s.io.shutdown(std::net::Shutdown::Read).unwrap();
            shut_tx.send(()).unwrap();
            go_rx.blocking_recv().unwrap();
            s.reply(&a, json!(10));
        })
        .await;
        let first = tokio::spawn({
            let c = c.clone();
            async move { c.call(Echo { n: 1 }).await }
        });
        shut_rx.await.unwrap();
        let e = c.call(Echo { n: 2 }).await.unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        assert!(!c.is_connected());
        go_tx.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 10);
        assert!(c.call(Echo { n: 3 }).await.is_err());
        srv.join().unwrap();
    })
    .await;
}

/// A server that stops reading but neither answers nor hangs up: after a
/// write fails, the link is closed with the write error within the grace
/// period, so a call waiting without a timeout does not wait forever.
#[tokio::test]
async fn a_failed_write_closes_the_link_if_the_input_never_ends() {
    bounded(async {
        let (shut_tx, shut_rx) = tokio::sync::oneshot::channel::<()>();
        let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
        let (c, srv) = unix_pair(move |mut s| {
            s.handshake();
            s.recv().unwrap();
            s.io.shutdown(std::net::Shutdown::Read).unwrap();
            shut_tx.send(()).unwrap();
            let _ = end_rx.recv();
        })
        .await;
        let first = tokio::spawn({
            let c = c.clone();
            async move { c.request(Echo { n: 1 }).no_timeout().send().await }
        });
        shut_rx.await.unwrap();
        let e = c.call(Echo { n: 2 }).await.unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        let e = first.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
        assert!(matches!(c.closed(), Some(Error::Io { .. })));
        drop(end_tx);
        srv.join().unwrap();
    })
    .await;
}

// ---- misc ----

#[tokio::test]
async fn no_success_response_does_not_wait() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let cmd = s.recv().await.unwrap();
            assert_eq!(cmd["execute"], "guest-shutdown");
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        c.call(Shutdown).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn fd_passing_needs_unix_socket() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let f = std::fs::File::open("/dev/null").unwrap();
        let e = c
            .request(Stop)
            .fds(vec![f.into()])
            .send()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::FdPassingUnsupported), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn injection_safe_arguments() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            // The raw bytes must hold exactly one message.
            let cmd = s.recv().await.unwrap();
            assert_eq!(
                cmd["arguments"]["command-line"],
                "info\r\n{\"execute\": \"quit\"}\u{1b}"
            );
            s.reply(&cmd, json!("ok")).await;
            let next = s.recv().await.unwrap();
            assert_eq!(next["execute"], "stop");
            s.reply(&next, json!({})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let h = HumanMonitorCommand {
            command_line: "info\r\n{\"execute\": \"quit\"}\u{1b}".into(),
        };
        assert_eq!(c.call(h).await.unwrap(), "ok");
        c.call(Stop).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn close_fails_pending_and_is_idempotent() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            s.recv().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let c = c.unwrap();
        let c2 = c.clone();
        let pending = tokio::spawn(async move { c2.call(Stop).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.close();
        c.close();
        assert!(matches!(pending.await.unwrap(), Err(Error::Closed)));
        assert!(c.call(Stop).await.is_err());
    })
    .await;
}

/// `close()` ends the connection for the server too, while the client
/// (and its clones) are still alive: over a stream ...
#[tokio::test]
async fn close_ends_the_connection_for_the_server() {
    bounded(async {
        let (c, srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            assert!(s.recv().await.is_none(), "a command after close");
        })
        .await;
        let c = c.unwrap();
        c.close();
        srv.await.unwrap();
        drop(c);
    })
    .await;
}

/// ... and over a Unix socket.
#[tokio::test]
async fn close_ends_the_unix_connection_for_the_server() {
    bounded(async {
        let (c, srv) = unix_pair(|mut s| {
            s.handshake();
            assert!(s.recv().is_none(), "a command after close");
        })
        .await;
        c.close();
        tokio::task::spawn_blocking(move || srv.join().unwrap())
            .await
            .unwrap();
        drop(c);
    })
    .await;
}

#[tokio::test]
async fn guest_agent_sync_skips_stale_data() {
    bounded(async {
        let (c, _srv) = pair(quick().guest_agent(), |mut s| async move {
            // Stale output of a previous client, half a message.
            s.send("{\"return\": 5, \"id\": 1}\r\n{\"return\": {\"par")
                .await;
            let sync = s.recv().await.unwrap();
            assert_eq!(sync["execute"], "guest-sync-delimited");
            s.send_bytes(b"\xff").await;
            s.reply(&sync, sync["arguments"]["id"].clone()).await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        assert!(c.greeting().is_none());
        c.call_raw("guest-ping", None).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn guest_agent_sync_mismatch() {
    bounded(async {
        let e = connect_err(quick().guest_agent(), |mut s| async move {
            let sync = s.recv().await.unwrap();
            s.send_bytes(b"\xff").await;
            s.reply(&sync, json!(12345)).await;
            s.recv().await;
        })
        .await;
        assert!(matches!(e, Error::GuestSync(_)), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn raw_and_typed_share_one_connection() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            loop {
                let Some(cmd) = s.recv().await else { return };
                let args = cmd.get("arguments").cloned().unwrap_or(Value::Null);
                s.reply(&cmd, json!({"echo": args, "name": cmd["execute"]}))
                    .await;
            }
        })
        .await;
        let c = c.unwrap();
        let v = c
            .call_raw("x-anything", Some(json!({"a": [1, 2]})))
            .await
            .unwrap();
        assert_eq!(v, json!({"echo": {"a": [1, 2]}, "name": "x-anything"}));
        let v = c.call_raw("no-args", None).await.unwrap();
        assert_eq!(v["echo"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn unix_socket_backpressure_large_write() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    bounded(async {
        let (c, mut s) = tokio::net::UnixStream::pair().unwrap();
        let srv = tokio::spawn(async move {
            s.write_all(GREETING.as_bytes()).await.unwrap();
            let mut inbox = Inbox::default();
            let mut buf = vec![0u8; 65536];
            let mut msgs = Vec::new();
            let mut slept = false;
            loop {
                while let Some(cmd) = msgs.pop() {
                    let cmd: Value = cmd;
                    let ret = match cmd["arguments"]["command-line"].as_str() {
                        Some(l) => json!(l.len().to_string()),
                        None => json!({}),
                    };
                    let msg = json!({"return": ret, "id": cmd["id"]}).to_string();
                    s.write_all(msg.as_bytes()).await.unwrap();
                }
                if !slept && msgs.is_empty() {
                    // Stop reading for a while so the client's send blocks.
                    slept = true;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                msgs = inbox.push(&buf[..n]);
                msgs.reverse();
            }
        });
        let qmp = quick().connect_unix_stream(c).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let big = "z".repeat(4 << 20);
        let h = HumanMonitorCommand { command_line: big };
        let (a, b) = tokio::join!(qmp.call(h), qmp.call_raw("after", None));
        assert_eq!(a.unwrap(), "4194304");
        assert_eq!(b.unwrap(), json!({}));
        qmp.close();
        srv.abort();
    })
    .await;
}

// ---- the generated bindings over the fake server ----

/// Asks the fake server (which answers `more` with two events) for more.
async fn s_more(c: &Qmp) {
    let mut ev = c.events_as::<qmp_types::EventMessage<qmp_types::Event>>();
    c.call_raw("more", None).await.unwrap();
    let m = ev.next().await.unwrap().unwrap();
    assert!(
        matches!(m.event, qmp_types::Event::Resume(_)),
        "{:?}",
        m.event
    );
    assert_eq!(m.timestamp.seconds, 1700000000);
}

#[tokio::test]
async fn generated_types_unknown_enum_values_members_and_decode_paths() {
    use qmp_types::ClientExt as _;
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            // A run state from a future QEMU, plus an unknown member.
            let cmd = s.recv().await.unwrap();
            s.reply(
                &cmd,
                json!({"running": false, "status": "hibernating", "x-new": [1]}),
            )
            .await;
            // Wrong type deep inside.
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"running": "no", "status": "paused"}))
                .await;
            let cmd = s.recv().await.unwrap();
            s.reply(&cmd, json!({"running": true, "status": "running"}))
                .await;
            s.send(&event("STOP", None)).await;
            s.send(&event("FUTURE_EVENT", Some(json!({"a": 1})))).await;
            let more = s.recv().await.unwrap();
            s.send(&event("RESUME", None)).await;
            s.reply(&more, json!({})).await;
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let st = c.query_status().await.unwrap();
        assert_eq!(st.status.as_str(), "hibernating");
        let e = c.query_status().await.unwrap_err();
        match &e {
            Error::Decode {
                command,
                path,
                message,
                reply,
            } => {
                assert_eq!(command, "query-status");
                assert_eq!(path, ".running", "{message}");
                assert!(message.contains("expected a boolean"), "{message}");
                // Nothing lost: the `return` value as received.
                assert_eq!(reply.as_str(), r#"{"running":"no","status":"paused"}"#);
                assert_eq!(e.undecoded(), Some(reply.as_str()));
            }
            other => panic!("{other:?}"),
        }
        assert!(c.query_status().await.unwrap().running);
        let mut ev = c.typed_events::<qmp_types::Event>();
        let stop = ev.next().await.unwrap().unwrap();
        assert!(matches!(stop.event, qmp_types::Event::Stop(_)));
        let fut = ev.next().await.unwrap().unwrap();
        assert_eq!(qmp_types::EventKind::name(&fut.event), "FUTURE_EVENT");
        drop(ev);
        // The same events as the runtime's EventMessage.
        s_more(&c).await;
    })
    .await;
}

/// `call_many` fills its window before waiting (the server answers only
/// once a full window arrived), returns the results in the order of the
/// commands whatever the reply order, and one failed command does not
/// stop the others.
#[tokio::test]
async fn call_many_pipelined_in_order_and_isolated() {
    bounded(async {
        let (c, _srv) = pair(quick(), |mut s| async move {
            s.handshake().await;
            let mut seen = 0u64;
            while seen < 10 {
                let batch = recv_n(&mut s, 4.min(10 - seen as usize)).await;
                seen += batch.len() as u64;
                // Replies back to front; command 5 fails.
                for cmd in batch.iter().rev() {
                    let n = cmd["arguments"]["n"].as_u64().unwrap();
                    if n == 5 {
                        s.error(cmd, "GenericError", "five").await;
                    } else {
                        s.reply(cmd, json!(n * 10)).await;
                    }
                }
            }
            s.recv().await;
        })
        .await;
        let c = c.unwrap();
        let results = c.call_many((0..10).map(|n| Echo { n }), 4).await;
        assert_eq!(results.len(), 10);
        for (n, r) in results.iter().enumerate() {
            if n == 5 {
                let e = r.as_ref().unwrap_err();
                assert_eq!(e.class(), Some(&ErrorClass::GenericError), "{e:?}");
            } else {
                assert_eq!(r.as_ref().unwrap(), &(n as u64 * 10));
            }
        }
        assert_eq!(c.stats().unknown_replies, 0);
    })
    .await;
}

/// Receives `n` commands (the server side of a window).
async fn recv_n(s: &mut Server, n: usize) -> Vec<Value> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(s.recv().await.unwrap());
    }
    v
}

/// A per-call `no_timeout` overrides the builder's command timeout.
#[tokio::test]
async fn per_call_no_timeout_overrides_the_default() {
    bounded(async {
        let (c, _srv) = pair(
            quick().command_timeout(Some(Duration::from_millis(50))),
            |mut s| async move {
                s.handshake().await;
                let a = s.recv().await.unwrap();
                let b = s.recv().await.unwrap();
                tokio::time::sleep(Duration::from_millis(200)).await;
                s.reply(&a, json!(1)).await;
                s.reply(&b, json!(2)).await;
                s.recv().await;
            },
        )
        .await;
        let c = c.unwrap();
        let (a, b) = tokio::join!(
            c.call(Echo { n: 1 }),
            c.request(Echo { n: 2 }).no_timeout().send()
        );
        let e = a.unwrap_err();
        assert!(matches!(e, Error::Timeout(TimeoutKind::Reply)), "{e:?}");
        assert_eq!(b.unwrap(), 2);
    })
    .await;
}
