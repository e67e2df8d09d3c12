//! Decode → re-encode of a corpus captured from real QEMU 10.0.2 processes
//! (`tests/corpus/*.json`): every command's arguments decode into its typed
//! command, every reply into the command's `Returns` type, every event into
//! `Event`, and each re-encodes to the same JSON (modulo member order and
//! integer-valued floats), through `Serialize` and `ToJson` alike.

#![cfg(feature = "full")]

use qmp_types::runtime::FromJson;
use serde_json::Value;

fn corpus(name: &str) -> Value {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// JSON equality where numbers compare by value (`1` == `1.0`), since a
/// QAPI `number` decodes into an `f64`.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Decodes a command's arguments and reply and re-encodes both; `None`
/// when the bindings do not know the command.
type Decoder = dyn Fn(&str, Value, Value) -> Option<Result<(Value, Value), String>>;

struct Stats {
    commands: usize,
    skipped: Vec<String>,
}

/// Runs the corpus entries through `Request` (generic over the bindings'
/// request and response types via closures).
fn check_commands(entries: &[Value], decode: &Decoder) -> Stats {
    let mut stats = Stats {
        commands: 0,
        skipped: Vec::new(),
    };
    for e in entries {
        let Some(name) = e.get("command").and_then(Value::as_str) else {
            continue;
        };
        let args = e.get("arguments").cloned().unwrap_or(Value::Null);
        let reply = e["reply"].clone();
        if let Some(err) = reply.get("error").filter(|e| e.get("class").is_some()) {
            // Error replies decode as `ErrorReply`, not as the command's type.
            let _: qmp_types::ErrorReply = serde_json::from_value(err.clone())
                .unwrap_or_else(|e| panic!("{name}: error reply {err}: {e}"));
            continue;
        }
        match decode(name, args.clone(), reply.clone()) {
            None => stats.skipped.push(name.to_owned()),
            Some(Err(msg)) => panic!("{name}: {msg}"),
            Some(Ok((args2, reply2))) => {
                let args_in = if args.as_object().is_some_and(|o| o.is_empty()) {
                    Value::Null
                } else {
                    args
                };
                let args2 = if args2.as_object().is_some_and(|o| o.is_empty()) {
                    Value::Null
                } else {
                    args2
                };
                assert!(
                    same(&args_in, &args2),
                    "{name}: arguments {args_in} re-encode as {args2}"
                );
                assert!(
                    same(&reply, &reply2),
                    "{name}: reply {reply} re-encodes as {reply2}"
                );
                stats.commands += 1;
            }
        }
    }
    stats
}

macro_rules! decoder {
    ($($m:ident)::*) => {
        |name: &str, args: Value, reply: Value| -> Option<Result<(Value, Value), String>> {
            use $($m)::*::{Request, Response};
            let mut req = serde_json::json!({"execute": name});
            if !args.as_object().is_some_and(|o| o.is_empty()) {
                req["arguments"] = args;
            }
            let request = match Request::from_json(req) {
                Ok(Request::Unknown { .. }) => return None,
                Ok(r) => r,
                Err(e) => return Some(Err(format!("arguments: {e}"))),
            };
            let encoded = serde_json::to_value(&request).unwrap();
            let args2 = encoded.get("arguments").cloned().unwrap_or(Value::Null);
            let response = match request.decode_return(reply) {
                Ok(r) => r,
                Err(e) => return Some(Err(format!("reply: {e}"))),
            };
            if let Response::Unknown(_) = response {
                return None;
            }
            // Re-encode the typed return value through the variant's payload.
            let reply2 = qmp_types::runtime::ToJson::to_json(&response);
            // `Serialize` writes straight to the serializer: it must say
            // the same as `ToJson`, for arguments and replies alike.
            if serde_json::to_value(&response).ok().as_ref() != Some(&reply2) {
                return Some(Err(format!("Serialize and ToJson disagree on the reply {reply2}")));
            }
            if encoded != qmp_types::runtime::ToJson::to_json(&request) {
                return Some(Err(format!("Serialize and ToJson disagree on the request {encoded}")));
            }
            Some(Ok((args2, reply2)))
        }
    };
}

#[test]
fn q35_commands_round_trip() {
    let c = corpus("qemu-system-q35.json");
    let stats = check_commands(c["commands"].as_array().unwrap(), &decoder!(qmp_types));
    assert!(
        stats.commands >= 50,
        "only {} commands checked (skipped {:?})",
        stats.commands,
        stats.skipped
    );
    eprintln!(
        "q35: {} commands round-tripped, skipped {:?}",
        stats.commands, stats.skipped
    );
}

#[test]
fn machine_none_commands_round_trip() {
    let c = corpus("qemu-system-none.json");
    let stats = check_commands(c["commands"].as_array().unwrap(), &decoder!(qmp_types));
    assert!(
        stats.commands >= 50,
        "only {} commands checked",
        stats.commands
    );
}

#[test]
fn q35_events_round_trip() {
    use qmp_types::{Event, EventMessage};
    let c = corpus("events-q35.json");
    let mut n = 0;
    for e in c["log"].as_array().unwrap() {
        let Some(ev) = e.get("event") else { continue };
        let m = EventMessage::<Event>::from_json(ev.clone())
            .unwrap_or_else(|err| panic!("{ev}: {err}"));
        assert!(
            !matches!(m.event, Event::Unknown { .. }),
            "unknown event {ev}"
        );
        let back = serde_json::to_value(&m).unwrap();
        assert!(same(ev, &back), "{ev} re-encodes as {back}");
        n += 1;
    }
    assert!(n >= 5, "only {n} events");
    let stats = check_commands(c["log"].as_array().unwrap(), &decoder!(qmp_types));
    assert!(stats.commands > 0);
}

#[cfg(feature = "qga")]
#[test]
fn guest_agent_commands_round_trip() {
    let c = corpus("qemu-ga.json");
    let stats = check_commands(c["commands"].as_array().unwrap(), &decoder!(qmp_types::qga));
    assert!(
        stats.commands >= 5,
        "only {} commands checked",
        stats.commands
    );
}

#[cfg(feature = "storage-daemon")]
#[test]
fn storage_daemon_commands_round_trip() {
    let c = corpus("storage-daemon.json");
    let stats = check_commands(
        c["commands"].as_array().unwrap(),
        &decoder!(qmp_types::storage_daemon),
    );
    assert!(
        stats.commands >= 5,
        "only {} commands checked",
        stats.commands
    );
}
