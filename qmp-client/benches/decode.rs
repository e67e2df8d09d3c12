//! Decode cost of a large reply: the full `query-qmp-schema` reply of the
//! local QEMU (captured at start; the bench is skipped without QEMU).
//!
//! The issue's target is the ratio `typed_from_str / value_from_str`
//! (both on the same bytes, the `return` member's text, extracted once
//! before the loop): typed decode of the generated `Vec<SchemaInfo>` at
//! most half the time of `serde_json::from_str::<Value>`. The client-path
//! entries add the framing and envelope scan that every reply pays.
//!
//! Take ratios from entries run one per process (a filter per run, e.g.
//! `-- typed_from_str`, then `-- value_from_str`): in one process glibc's
//! heap state left by an entry (its dynamic mmap and trim thresholds) can
//! double the time of the next one. `value_from_str` after
//! `typed_from_str` took 3.3 ms instead of 1.7 ms, with 70 times the page
//! faults (the heap top trimmed and faulted in again at every iteration):
//! that is why the client-path `value` once measured twice the plain parse.
//!
//! Same bytes, no framing (the `return` text only):
//!
//! * `typed_from_str`: `serde_json::from_str::<Vec<qmp_types::SchemaInfo>>`,
//!   the generated type (streamed by its serde visitors; members before
//!   the discriminator `meta-type` are recorded as tokens that borrow the
//!   input, then replayed into the branch).
//! * `value_from_str`: `serde_json::from_str::<Value>`: the baseline.
//! * `derive_from_str`: `serde_json::from_str` of the hand-written
//!   `SchemaInfo` below (serde derive, one flat struct, no union): what a
//!   single pass costs, for reference.
//! * `ignored_from_str`: `serde_json::from_str::<IgnoredAny>`: the parse
//!   alone, no allocation (the floor of any decode).
//! * `typed_tag_first` / `value_tag_first`: the same reply rewritten with
//!   each object's discriminator `meta-type` first (compact, other members
//!   sorted), typed and into a `Value`: what recording the members QEMU
//!   sends before the discriminator costs.
//!
//! Client path (`Connection` framing, envelope scan, then the decode of the
//! `return` slice, as `RawReply::decode` does):
//!
//! * `typed`: the hand-written derive type.
//! * `typed_generated`: the generated `qmp_types::SchemaInfo`.
//! * `value`: into a `serde_json::Value`.
//! * `framing_and_envelope_only`: framing and envelope, no decode.
//! * `serde_json_value_whole`: just `serde_json::from_str::<Value>` of the
//!   whole message (what a naive client does), for reference; compare it
//!   with `typed_generated`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qmp_client::proto::{Connection, ExecOptions, Output, ProtoConfig};
use serde::Deserialize;
use serde_json::Value;

/// A typed `SchemaInfo` (QAPI `introspect.json`), written by hand for the
/// bench; the generated one can replace it.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
struct SchemaInfo {
    name: String,
    meta_type: MetaType,
    #[serde(default)]
    features: Vec<String>,
    // Branch members, by meta-type.
    json_type: Option<String>,
    members: Option<Vec<Member>>,
    values: Option<Vec<String>>,
    element_type: Option<String>,
    tag: Option<String>,
    variants: Option<Vec<Variant>>,
    arg_type: Option<String>,
    ret_type: Option<String>,
    allow_oob: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum MetaType {
    Builtin,
    Enum,
    Array,
    Object,
    Alternate,
    Command,
    Event,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Member {
    // Absent for alternate members.
    name: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    default: Option<Value>,
    #[serde(default)]
    features: Vec<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Variant {
    case: String,
    #[serde(rename = "type")]
    ty: String,
}

fn capture() -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let sock = dir.path().join("q.sock");
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-machine",
            "none",
            "-nodefaults",
            "-display",
            "none",
            "-S",
            "-qmp",
        ])
        .arg(format!("unix:{},server=on,wait=off", sock.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let mut s = None;
    for _ in 0..500 {
        if let Ok(c) = UnixStream::connect(&sock) {
            s = Some(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = s?;
    let mut w = s.try_clone().ok()?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    w.write_all(b"{\"execute\":\"qmp_capabilities\"}").ok()?;
    line.clear();
    r.read_line(&mut line).ok()?;
    w.write_all(b"{\"execute\":\"query-qmp-schema\",\"id\":2}")
        .ok()?;
    line.clear();
    r.read_line(&mut line).ok()?;
    let _ = child.kill();
    let _ = child.wait();
    Some(line)
}

fn ready_conn() -> (Connection, u64) {
    let mut c = Connection::new(ProtoConfig::default());
    c.handle_input(br#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#);
    let _ = c.poll_transmit();
    c.handle_input(b"{\"return\": {}, \"id\": 1}\r\n");
    let _ = c.poll_output();
    let id = c
        .execute(
            "query-qmp-schema",
            &(),
            ExecOptions {
                expect_reply: true,
                ..Default::default()
            },
        )
        .unwrap();
    let _ = c.poll_transmit();
    (c, id)
}

fn reply(msg: &str) -> qmp_client::RawReply {
    let (mut c, _) = ready_conn();
    c.handle_input(msg.as_bytes());
    match c.poll_output() {
        Some(Output::Reply { result: Ok(r), .. }) => r,
        other => panic!("{other:?}"),
    }
}

/// The reply's array with each object's `meta-type` member moved first
/// (the other members follow in sorted order; compact separators).
fn tag_first(ret: &str) -> String {
    let objects: Vec<serde_json::Map<String, Value>> = serde_json::from_str(ret).unwrap();
    let objects: Vec<String> = objects
        .iter()
        .map(|o| {
            let members: Vec<String> = o
                .iter()
                .filter(|(k, _)| *k == "meta-type")
                .chain(o.iter().filter(|(k, _)| *k != "meta-type"))
                .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
                .collect();
            format!("{{{}}}", members.join(","))
        })
        .collect();
    format!("[{}]", objects.join(","))
}

fn bench(c: &mut Criterion) {
    let Some(msg) = capture() else {
        eprintln!("SKIPPED: qemu-system-x86_64 not available to capture query-qmp-schema");
        return;
    };
    // The reply id must be 2 to match the connection's command.
    assert!(msg.contains("\"id\": 2"));
    let mut g = c.benchmark_group("query-qmp-schema");
    g.throughput(Throughput::Bytes(msg.len() as u64));
    // The `return` member's text, extracted once.
    let ret = reply(&msg).json().to_owned();
    let ret = ret.as_str();
    g.bench_function("typed_from_str", |b| {
        b.iter(|| {
            let v: Vec<qmp_types::SchemaInfo> = serde_json::from_str(ret).unwrap();
            v.len()
        })
    });
    g.bench_function("value_from_str", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(ret).unwrap();
            v.as_array().map(Vec::len)
        })
    });
    g.bench_function("derive_from_str", |b| {
        b.iter(|| {
            let v: Vec<SchemaInfo> = serde_json::from_str(ret).unwrap();
            v.len()
        })
    });
    g.bench_function("ignored_from_str", |b| {
        b.iter(|| serde_json::from_str::<serde::de::IgnoredAny>(ret).unwrap())
    });
    let tag_first = tag_first(ret);
    g.bench_function("typed_tag_first", |b| {
        b.iter(|| {
            let v: Vec<qmp_types::SchemaInfo> = serde_json::from_str(&tag_first).unwrap();
            v.len()
        })
    });
    g.bench_function("value_tag_first", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(&tag_first).unwrap();
            v.as_array().map(Vec::len)
        })
    });
    // The allocation floor: building (and dropping) the same trees without
    // parsing, by cloning a decoded one.
    let typed: Vec<qmp_types::SchemaInfo> = serde_json::from_str(ret).unwrap();
    g.bench_function("clone_typed", |b| b.iter(|| typed.clone().len()));
    let value: Value = serde_json::from_str(ret).unwrap();
    g.bench_function("clone_value", |b| {
        b.iter(|| value.clone().as_array().map(Vec::len))
    });
    g.bench_function("typed", |b| {
        b.iter(|| {
            let r = reply(&msg);
            let v: Vec<SchemaInfo> = r.decode("query-qmp-schema").unwrap();
            v.len()
        })
    });
    g.bench_function("typed_generated", |b| {
        b.iter(|| {
            let r = reply(&msg);
            let v: Vec<qmp_types::SchemaInfo> = r.decode("query-qmp-schema").unwrap();
            v.len()
        })
    });
    g.bench_function("value", |b| {
        b.iter(|| {
            let r = reply(&msg);
            let v: Value = r.decode("query-qmp-schema").unwrap();
            v.as_array().map(Vec::len)
        })
    });
    g.bench_function("serde_json_value_whole", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(&msg).unwrap();
            v["return"].as_array().map(Vec::len)
        })
    });
    g.bench_function("framing_and_envelope_only", |b| {
        b.iter(|| reply(&msg).json().len())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
