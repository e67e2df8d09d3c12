//! libvirt's recorded QMP transcripts (real QEMU 6.2, 8.2, 9.2, 10.0 on
//! x86_64 with KVM, 8.2 on aarch64; `../shared/libvirt-replies/`, see its
//! SOURCE.md) replayed through the typed path of this client.
//!
//! A scripted server greets with the recorded version and answers each
//! command with its recorded reply. The client side builds each command's
//! typed request from the recorded `execute` and `arguments` (decoding the
//! arguments into the command's argument type), sends the request as the
//! bindings encode it (the server checks that it equals the recording), and
//! decodes the reply typed:
//!
//! * every recorded `return` must decode into the command's return type,
//!   and encode back to the recorded value modulo members the bindings do
//!   not know (`common::typed_eq::equivalent`);
//! * every recorded `error` must arrive as the same typed QMP error.
//!
//! Each file prints a line `typed returns N/M, errors N/M` (`--nocapture`);
//! the test fails listing every command that does not pass.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::tokio_server::Server;
use common::typed_eq::{equivalent, known_members};
use qmp_client::{Builder, Error};
use qmp_types::runtime::ToJson;
use qmp_types::{FromJson, Request};
use serde_json::{Value, json};

/// `../shared/libvirt-replies` next to the workspace, or under `QMP_SHARED`.
fn replies_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("QMP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let dir = shared.join("libvirt-replies");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is required under CI (or set QMP_SHARED)",
        dir.display()
    );
    eprintln!("SKIPPED: {} not found (set QMP_SHARED)", dir.display());
    None
}

/// One recorded exchange.
struct Exchange {
    execute: String,
    arguments: Option<Value>,
    reply: Value,
}

/// A transcript's sessions: each starts with `qmp_capabilities`.
fn sessions(text: &str, file: &str) -> Vec<Vec<Exchange>> {
    let values: Vec<Value> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{file}: not a sequence of JSON values: {e}"));
    assert!(values.len() % 2 == 0, "{file}: a command without a reply");
    let mut out: Vec<Vec<Exchange>> = Vec::new();
    for pair in values.chunks(2) {
        let (cmd, reply) = (&pair[0], &pair[1]);
        let execute = cmd["execute"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: not a command: {cmd}"))
            .to_owned();
        assert!(
            reply.get("return").is_some() || reply.get("error").is_some(),
            "{file}: not a reply: {reply}"
        );
        if execute == "qmp_capabilities" {
            out.push(Vec::new());
        }
        out.last_mut()
            .unwrap_or_else(|| panic!("{file}: does not start with qmp_capabilities"))
            .push(Exchange {
                execute,
                arguments: cmd.get("arguments").cloned(),
                reply: reply.clone(),
            });
    }
    out
}

#[derive(Default)]
struct Tally {
    returns: usize,
    returns_ok: usize,
    errors: usize,
    errors_ok: usize,
    failures: Vec<String>,
    dropped: BTreeSet<String>,
}

/// The typed path for one exchange: `None` when it passes.
async fn replay_one(
    qmp: &qmp_client::Qmp,
    ex: &Exchange,
    schema: &Value,
    tally: &mut Tally,
) -> Option<String> {
    let mut msg = json!({ "execute": ex.execute });
    if let Some(a) = &ex.arguments {
        msg["arguments"] = a.clone();
    }
    let req = match Request::from_json(msg) {
        Ok(Request::Unknown { .. }) => Err("not in the bindings".to_owned()),
        Ok(r) => Ok(r),
        Err(e) => Err(format!("typed arguments: {e}")),
    };
    let req = match req {
        Ok(r) => r,
        Err(failure) => {
            // Sent as recorded, to keep the script in step.
            let _ = qmp
                .request_raw(&ex.execute, ex.arguments.clone())
                .send_reply()
                .await;
            return Some(failure);
        }
    };
    // Sent as the bindings encode it; the server compares with the recording.
    let sent = req.to_json();
    let reply = qmp
        .request_raw(&ex.execute, sent.get("arguments").cloned())
        .send_reply()
        .await;
    match (&ex.reply.get("return"), reply) {
        (Some(recorded), Ok(r)) => {
            let value = r.to_value().expect("a representable reply");
            assert_eq!(&value, *recorded, "the fake server's reply");
            match req.decode_return(value) {
                Err(e) => Some(format!("typed decode: {e}")),
                Ok(typed) => {
                    let known = known_members(schema, &ex.execute);
                    let mut issues = Vec::new();
                    equivalent(
                        recorded,
                        &typed.to_json(),
                        &known,
                        "",
                        &mut issues,
                        &mut tally.dropped,
                    );
                    (!issues.is_empty()).then(|| format!("typed != raw: {}", issues.join("; ")))
                }
            }
        }
        (None, Err(Error::Qmp(e))) => {
            let want = &ex.reply["error"];
            (want["class"].as_str() != Some(e.class.as_str()) || e.desc != want["desc"])
                .then(|| format!("error {e} arrived, recorded {want}"))
        }
        (_, other) => Some(format!("unexpected outcome {other:?}")),
    }
}

/// The scripted server of one session: greeting, then each recorded reply
/// to the command the client sends, checking the command against the
/// recording. Returns the mismatches.
async fn serve(mut server: Server, greeting: Value, session: Vec<Exchange>) -> Vec<String> {
    let mut mismatches = Vec::new();
    server.send(&(greeting.to_string() + "\r\n")).await;
    for ex in session {
        let Some(cmd) = server.recv().await else {
            mismatches.push(format!("{}: the client hung up", ex.execute));
            break;
        };
        if cmd["execute"] != ex.execute.as_str() {
            mismatches.push(format!("sent {cmd}, recorded {}", ex.execute));
        }
        let sent = cmd.get("arguments").filter(|a| *a != &json!({}));
        let recorded = ex.arguments.as_ref().filter(|a| *a != &json!({}));
        // qmp_capabilities is the client's own handshake.
        if ex.execute != "qmp_capabilities" && sent != recorded {
            mismatches.push(format!(
                "{}: the typed request re-encodes the arguments as {sent:?}, recorded {recorded:?}",
                ex.execute
            ));
        }
        let mut reply = ex.reply.clone();
        reply["id"] = cmd["id"].clone();
        server.send(&(reply.to_string() + "\r\n")).await;
    }
    mismatches
}

async fn replay_file(path: &std::path::Path, schema: &Value) -> (String, Tally) {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let sessions = sessions(&text, &file);
    let version = sessions
        .iter()
        .flatten()
        .find(|e| e.execute == "query-version")
        .map(|e| e.reply["return"].clone())
        .unwrap_or_else(|| panic!("{file}: no query-version"));
    let greeting = json!({"QMP": {"version": version, "capabilities": []}});
    let mut tally = Tally::default();
    for session in sessions {
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let script: Vec<Exchange> = session
            .iter()
            .map(|e| Exchange {
                execute: e.execute.clone(),
                arguments: e.arguments.clone(),
                reply: e.reply.clone(),
            })
            .collect();
        let server = tokio::spawn(serve(Server::new(server_io), greeting.clone(), script));
        let qmp = Builder::new()
            .connect_stream(client_io)
            .await
            .unwrap_or_else(|e| panic!("{file}: handshake: {e}"));
        for ex in session.iter().filter(|e| e.execute != "qmp_capabilities") {
            let is_return = ex.reply.get("return").is_some();
            let failure = replay_one(&qmp, ex, schema, &mut tally).await;
            let (n, ok) = if is_return {
                (&mut tally.returns, &mut tally.returns_ok)
            } else {
                (&mut tally.errors, &mut tally.errors_ok)
            };
            *n += 1;
            match failure {
                None => *ok += 1,
                Some(f) => {
                    let args = ex
                        .arguments
                        .as_ref()
                        .map(|a| format!(" {a}"))
                        .unwrap_or_default();
                    let args: String = args.chars().take(90).collect();
                    tally.failures.push(format!("{}{args}: {f}", ex.execute));
                }
            }
        }
        qmp.close();
        let mismatches = server.await.unwrap();
        tally.failures.extend(mismatches);
    }
    (file, tally)
}

#[tokio::test]
async fn every_recorded_reply_decodes_typed() {
    let Some(dir) = replies_dir() else { return };
    let schema: Value = serde_json::from_str(qmp_types::SCHEMA_JSON).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "replies"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut report = String::from("\nlibvirt transcripts, typed:\n");
    let mut failing = Vec::new();
    for path in &files {
        let (file, t) = replay_file(path, &schema).await;
        report += &format!(
            "{file}: typed returns {}/{}, errors {}/{}\n",
            t.returns_ok, t.returns, t.errors_ok, t.errors
        );
        for f in &t.failures {
            report += &format!("  FAIL {f}\n");
            failing.push(format!("{file}: {f}"));
        }
        if !t.dropped.is_empty() {
            report += &format!(
                "  unknown members dropped: {}\n",
                t.dropped.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    eprintln!("{report}");
    assert!(
        failing.is_empty(),
        "{} failures:\n{}",
        failing.len(),
        failing.join("\n")
    );
}

#[test]
fn transcripts_split_into_sessions() {
    let text = r#"{"execute": "qmp_capabilities", "id": "a-1"}

{"return": {}, "id": "a-1"}

{"execute": "query-kvm", "id": "a-2"}

{"return": {"enabled": true, "present": true}, "id": "a-2"}

{"execute": "qmp_capabilities", "id": "a-1"}

{"return": {}, "id": "a-1"}

{"execute": "device-list-properties", "arguments": {"typename": "x"}, "id": "a-2"}

{"error": {"class": "DeviceNotFound", "desc": "Device 'x' not found"}, "id": "a-2"}
"#;
    let s = sessions(text, "inline");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].len(), 2);
    assert_eq!(s[1][1].execute, "device-list-properties");
    assert_eq!(s[1][1].arguments, Some(json!({"typename": "x"})));
    assert_eq!(s[1][1].reply["error"]["class"], "DeviceNotFound");
}
