//! The default `qmp` binary and its bindings against every supported QEMU
//! release (5.2, 10.0, 11.1: Debian's builds, found as described in
//! `qmp-client/tests/common/releases.rs`; skipped visibly when missing,
//! failing under `CI`).
//!
//! Per release:
//!
//! * **typed = raw** over every read-only query of the live schema, on
//!   `-machine none` and `-machine q35` (and the storage daemon): each
//!   command is sent raw over the socket, decoded through the bindings, and
//!   run again through `qmp call`. See `typed_eq::equivalent` for what
//!   "equal" means. A table per release is printed (`--nocapture` shows it).
//! * a block job (backup between two null nodes) driven by typed commands,
//!   with its events decoded typed;
//! * a reply that does not decode reaches the caller verbatim, with the
//!   decode error (library and `qmp call`);
//! * `qmp info` and the shell's Tab completion from the live schema;
//! * the storage daemon and the guest agent through their typed bindings.

mod common;

#[allow(dead_code)]
#[path = "../../qmp-client/tests/common/qemu.rs"]
mod qemu;
#[allow(dead_code)]
#[path = "../../qmp-client/tests/common/releases.rs"]
mod releases;
#[path = "../../qmp-client/tests/common/typed_eq.rs"]
mod typed_eq;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use qmp_client::Builder;
use qmp_client::blocking::Qmp;
use qmp_types::runtime::ToJson;
use qmp_types::{FromJson, Request};
use releases::Release;
use serde_json::{Value, json};
use typed_eq::{equivalent, known_event_members, known_members};

fn connect(sock: &Path) -> Qmp {
    Builder::new()
        .command_timeout(Some(Duration::from_secs(30)))
        .connect_unix_blocking(sock)
        .unwrap_or_else(|e| panic!("connect {}: {e}", sock.display()))
}

fn connect_ga(sock: &Path) -> Qmp {
    Builder::new()
        .command_timeout(Some(Duration::from_secs(30)))
        .guest_agent()
        .connect_unix_blocking(sock)
        .unwrap_or_else(|e| panic!("connect {}: {e}", sock.display()))
}

// ---------------------------------------------------------------------------
// Which commands: read-only, from the live schema.

/// The read-only commands of a live `query-qmp-schema` reply that take no
/// required argument, in schema order.
///
/// Read-only is QEMU's naming convention: `query-*`, `x-query-*` and
/// `x-debug-query-*` only report state. No command so named changes state,
/// so nothing is excluded (were one to appear, it would go in
/// [`CHANGES_STATE`]). A member without `default` in the argument type is
/// required; introspection gives optional members `"default": null`.
fn read_only_commands(schema: &Value) -> Vec<String> {
    let entries = schema
        .as_array()
        .expect("query-qmp-schema returns an array");
    let objects: BTreeMap<&str, &Value> = entries
        .iter()
        .filter(|e| e["meta-type"] == "object")
        .filter_map(|e| Some((e["name"].as_str()?, e)))
        .collect();
    entries
        .iter()
        .filter(|e| e["meta-type"] == "command")
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            let read_only = name.starts_with("query-")
                || name.starts_with("x-query-")
                || name.starts_with("x-debug-query-");
            if !read_only || CHANGES_STATE.contains(&name) {
                return None;
            }
            let required = objects
                .get(e["arg-type"].as_str()?)
                .and_then(|a| a["members"].as_array())
                .is_some_and(|ms| ms.iter().any(|m| m.get("default").is_none()));
            (!required).then(|| name.to_owned())
        })
        .collect()
}

/// Read-only by name but changing state: none in any release so far.
const CHANGES_STATE: &[&str] = &[];

/// Queries that crash a QEMU release (QEMU's defects, not ours): not sent
/// there, and listed in the table. `(release, monitor, command, what)`.
const QEMU_DEFECTS: &[(&str, &str, &str, &str)] = &[(
    "5.2",
    "storage daemon",
    "query-events",
    "qemu-storage-daemon 5.2 aborts in qapi_enum_lookup (fixed in 6.0)",
)];

fn qemu_defect(tag: &str, monitor: &str, command: &str) -> Option<&'static str> {
    QEMU_DEFECTS
        .iter()
        .find(|d| d.0 == tag && d.1 == monitor && d.2 == command)
        .map(|d| d.3)
}

// ---------------------------------------------------------------------------
// What "typed = raw" means.

#[test]
fn equivalence_is_strict_where_it_must_be() {
    let known: BTreeSet<String> = ["a", "b", "n"].iter().map(|s| s.to_string()).collect();
    let check = |raw: Value, typed: Value| {
        let mut issues = Vec::new();
        let mut dropped = BTreeSet::new();
        equivalent(&raw, &typed, &known, "", &mut issues, &mut dropped);
        (issues, dropped)
    };
    // Unknown members dropped: fine, and counted.
    let (i, d) = check(json!({"a": 1, "new": 2}), json!({"a": 1}));
    assert!(i.is_empty(), "{i:?}");
    assert_eq!(d.into_iter().collect::<Vec<_>>(), ["new"]);
    // A known member dropped, a member added, a changed value, an array
    // shortened: each is a difference, with its path.
    let (i, _) = check(json!({"a": 1, "b": 2}), json!({"a": 1}));
    assert_eq!(i, [".b: a member the bindings know was dropped"]);
    let (i, _) = check(json!({"a": 1}), json!({"a": 1, "b": false}));
    assert_eq!(i, [".b: added by the bindings (false)"]);
    let (i, _) = check(json!({"a": [{"n": "x"}]}), json!({"a": [{"n": "y"}]}));
    assert_eq!(i, [".a[0].n: \"x\" raw, \"y\" typed"]);
    let (i, _) = check(json!([1, 2]), json!([1]));
    assert_eq!(i, [": 2 elements raw, 1 typed"]);
    // Numbers compare by value.
    assert!(check(json!({"n": 0}), json!({"n": 0.0})).0.is_empty());
    assert!(!check(json!({"n": 1}), json!({"n": 1.5})).0.is_empty());
    assert!(check(json!(u64::MAX), json!(u64::MAX)).0.is_empty());
}

#[test]
fn known_members_follow_refs_and_union_branches() {
    let schema: Value = serde_json::from_str(qmp_types::SCHEMA_JSON).unwrap();
    let m = known_members(&schema, "query-machines");
    assert!(m.contains("name") && m.contains("cpu-max"), "{m:?}");
    // query-qmp-schema: the flat union's branches count too.
    let m = known_members(&schema, "query-qmp-schema");
    assert!(m.contains("meta-type") && m.contains("members") && m.contains("ret-type"));
    assert!(!m.contains("cpu-max"));
}

// ---------------------------------------------------------------------------
// The check itself.

/// Which bindings decode a monitor's replies.
#[derive(Clone, Copy, PartialEq)]
enum Bindings {
    /// `qmp_types` (what `qmp call` uses).
    System,
    /// `qmp_types::storage_daemon`.
    StorageDaemon,
    /// `qmp_types::qga`.
    GuestAgent,
}

enum Typed {
    /// Decoded and re-encoded.
    Value(Value),
    /// The bindings do not have the command (`Request::Unknown`).
    Unknown,
    /// The bindings refuse the request (no arguments) or the reply.
    Failed(String),
}

impl Bindings {
    fn schema(self) -> &'static Value {
        static SYSTEM: OnceLock<Value> = OnceLock::new();
        static QSD: OnceLock<Value> = OnceLock::new();
        static QGA: OnceLock<Value> = OnceLock::new();
        match self {
            Bindings::System => SYSTEM
                .get_or_init(|| serde_json::from_str(qmp_types::SCHEMA_JSON).expect("SCHEMA_JSON")),
            Bindings::StorageDaemon => QSD.get_or_init(|| {
                serde_json::from_str(qmp_types::storage_daemon::SCHEMA_JSON).expect("SCHEMA_JSON")
            }),
            Bindings::GuestAgent => QGA.get_or_init(|| {
                serde_json::from_str(qmp_types::qga::SCHEMA_JSON).expect("SCHEMA_JSON")
            }),
        }
    }

    /// Whether the bindings have `command` and accept it without
    /// arguments: `None` when they do.
    fn check_request(self, command: &str) -> Option<String> {
        let msg = json!({ "execute": command });
        let known = match self {
            Bindings::System => {
                Request::from_json(msg).map(|r| !matches!(r, Request::Unknown { .. }))
            }
            Bindings::StorageDaemon => {
                use qmp_types::storage_daemon::Request as QsdRequest;
                QsdRequest::from_json(msg).map(|r| !matches!(r, QsdRequest::Unknown { .. }))
            }
            Bindings::GuestAgent => {
                use qmp_types::qga::Request as QgaRequest;
                QgaRequest::from_json(msg).map(|r| !matches!(r, QgaRequest::Unknown { .. }))
            }
        };
        match known {
            Ok(true) => None,
            Ok(false) => Some("not in the bindings (untyped)".to_owned()),
            Err(e) => Some(format!(
                "the bindings refuse the request without arguments: {e}"
            )),
        }
    }

    /// Decodes `ret`, the `return` of `command` without arguments.
    fn decode(self, command: &str, ret: Value) -> Typed {
        let msg = json!({ "execute": command });
        let refused = |e: qmp_types::DecodeError| {
            Typed::Failed(format!(
                "the bindings refuse the request without arguments: {e}"
            ))
        };
        let failed = |e: qmp_types::DecodeError| Typed::Failed(format!("typed decode: {e}"));
        match self {
            Bindings::System => match Request::from_json(msg) {
                Err(e) => refused(e),
                Ok(Request::Unknown { .. }) => Typed::Unknown,
                Ok(req) => match req.decode_return(ret) {
                    Ok(r) => Typed::Value(r.to_json()),
                    Err(e) => failed(e),
                },
            },
            Bindings::StorageDaemon => {
                use qmp_types::storage_daemon::Request as QsdRequest;
                match QsdRequest::from_json(msg) {
                    Err(e) => refused(e),
                    Ok(QsdRequest::Unknown { .. }) => Typed::Unknown,
                    Ok(req) => match req.decode_return(ret) {
                        Ok(r) => Typed::Value(r.to_json()),
                        Err(e) => failed(e),
                    },
                }
            }
            Bindings::GuestAgent => {
                use qmp_types::qga::Request as QgaRequest;
                match QgaRequest::from_json(msg) {
                    Err(e) => refused(e),
                    Ok(QgaRequest::Unknown { .. }) => Typed::Unknown,
                    Ok(req) => match req.decode_return(ret) {
                        Ok(r) => Typed::Value(r.to_json()),
                        Err(e) => failed(e),
                    },
                }
            }
        }
    }
}

/// What the raw socket said.
enum Raw {
    Return,
    Error { class: String, desc: String },
}

struct Row {
    command: String,
    raw: Raw,
    /// `None`: typed = raw.
    failure: Option<String>,
}

struct Report {
    what: String,
    rows: Vec<Row>,
    /// Unknown members the bindings dropped, over all replies.
    dropped: BTreeSet<String>,
    /// Not sent: they crash this release ([`QEMU_DEFECTS`]).
    skipped: Vec<String>,
    /// Commands whose `return` `qmp call` did not print (a reply must reach
    /// the user even when it does not decode).
    lost: Vec<String>,
    took: Duration,
}

impl Report {
    fn failing(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| r.failure.is_some()).collect()
    }

    fn score(&self) -> String {
        format!(
            "{}/{}",
            self.rows.len() - self.failing().len(),
            self.rows.len()
        )
    }
}

/// Decodes `ret`, the raw `return` of `command`, with `bindings` and
/// compares the re-encoding with it: `None` when typed = raw.
fn typed_vs_raw(
    bindings: Bindings,
    command: &str,
    ret: &Value,
    dropped: &mut BTreeSet<String>,
) -> Option<String> {
    match bindings.decode(command, ret.clone()) {
        Typed::Value(typed) => {
            let known = known_members(bindings.schema(), command);
            let mut issues = Vec::new();
            equivalent(ret, &typed, &known, "", &mut issues, dropped);
            // The one member the spanned bindings add by design: `SevInfo`
            // became a union on `sev-type` after 5.2; a reply without the
            // discriminator decodes as its only possible branch, `sev`
            // (qmp_schema::span, documented on the field).
            issues.retain(|i| {
                !(command == "query-sev" && i == ".sev-type: added by the bindings (\"sev\")")
            });
            (!issues.is_empty()).then(|| format!("typed != raw: {}", issues.join("; ")))
        }
        Typed::Unknown => Some("not in the bindings (untyped)".to_owned()),
        Typed::Failed(e) => Some(e),
    }
}

/// Every read-only query of the monitor at `sock` of release `tag`: raw,
/// then decoded with `bindings`.
fn check_monitor(tag: &str, what: &str, sock: &Path, bindings: Bindings) -> Report {
    let t0 = Instant::now();
    let qmp = connect(sock);
    let schema = qmp
        .call_raw("query-qmp-schema", None)
        .expect("raw query-qmp-schema");
    let commands = read_only_commands(&schema);
    assert!(
        commands.len() > 10,
        "{what}: only {} read-only commands",
        commands.len()
    );
    let mut rows = Vec::new();
    let mut dropped = BTreeSet::new();
    let mut skipped = Vec::new();
    for command in commands {
        if let Some(why) = qemu_defect(tag, what, &command) {
            skipped.push(format!("{command} ({why})"));
            continue;
        }
        let (raw, failure) = match qmp.request_raw(&command, None).send_reply() {
            Ok(reply) => {
                let value = reply.to_value_of(&command).expect("a representable reply");
                let failure = typed_vs_raw(bindings, &command, &value, &mut dropped);
                (Raw::Return, failure)
            }
            Err(qmp_client::Error::Qmp(e)) => {
                // The error reaches a typed caller unchanged; the request must
                // still be one the bindings accept.
                let failure = bindings.check_request(&command);
                (
                    Raw::Error {
                        class: e.class.to_string(),
                        desc: e.desc,
                    },
                    failure,
                )
            }
            Err(e) => panic!("{what}: {command}: transport failure: {e}"),
        };
        rows.push(Row {
            command,
            raw,
            failure,
        });
    }
    qmp.close();
    Report {
        what: what.to_owned(),
        rows,
        dropped,
        skipped,
        lost: Vec::new(),
        took: t0.elapsed(),
    }
}

/// Runs every row's command again through `qmp call SOCK COMMAND`, the
/// default binary's typed path: a raw `return` must come out (exit 0, the
/// reply as JSON), a raw error as the same `CLASS: desc` (exit 1).
fn check_cli(sock: &Path, report: &mut Report) {
    let t0 = Instant::now();
    for row in &mut report.rows {
        let out = Command::new(common::qmp_bin())
            .arg("call")
            .arg(sock)
            .arg(&row.command)
            .output()
            .expect("run qmp call");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        let bad = match &row.raw {
            Raw::Return => match serde_json::from_slice::<Value>(&out.stdout) {
                Ok(_) if code == Some(0) => None,
                // Not decoded, but printed: nothing lost.
                Ok(_) => Some(format!("qmp call: exit {code:?}: {}", stderr.trim())),
                Err(_) => {
                    report.lost.push(row.command.clone());
                    Some(format!(
                        "qmp call lost the reply: exit {code:?}: {}",
                        stderr.trim()
                    ))
                }
            },
            Raw::Error { class, desc } => {
                let want = format!("{class}: {}", desc.replace(['\n', '\r'], " "));
                // The last line: an untyped command has a note before it.
                let last = stderr.trim_end().lines().last().unwrap_or_default();
                (code != Some(1) || last != want)
                    .then(|| format!("qmp call: exit {code:?}: {} (raw: {want})", stderr.trim()))
            }
        };
        if let Some(b) = bad {
            row.failure = Some(match row.failure.take() {
                Some(f) => format!("{f}; {b}"),
                None => b,
            });
        }
    }
    report.took += t0.elapsed();
}

/// The QEMU arguments of the two machines.
fn machine_args(machine: &str) -> Vec<&'static str> {
    match machine {
        "none" => vec!["-S"],
        "q35" => qemu::Q35_ARGS.to_vec(),
        other => panic!("no arguments for machine {other}"),
    }
}

fn system_report(rel: &Release, machine: &str) -> Report {
    let p = qemu::system_at(&rel.system, machine, &machine_args(machine));
    let mut r = check_monitor(
        &rel.tag,
        &format!("-machine {machine}"),
        &p.sock,
        Bindings::System,
    );
    check_cli(&p.sock, &mut r);
    r
}

fn print_table(rel: &Release, reports: &[Report]) {
    let mut t = format!(
        "\ntyped = raw, {} ({}):\n| monitor | typed = raw | took |\n|---|---|---|\n",
        rel.banner, rel.origin
    );
    for r in reports {
        t += &format!(
            "| {} | {} | {:.1} s |\n",
            r.what,
            r.score(),
            r.took.as_secs_f64()
        );
    }
    for r in reports {
        for row in r.failing() {
            t += &format!(
                "  FAIL {} {}: {}\n",
                r.what,
                row.command,
                row.failure.as_deref().unwrap_or_default()
            );
        }
        for s in &r.skipped {
            t += &format!("  {} not sent: {s}\n", r.what);
        }
        if !r.dropped.is_empty() {
            t += &format!(
                "  {}: unknown members dropped: {}\n",
                r.what,
                r.dropped.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    eprintln!("{t}");
}

fn typed_equals_raw(tag: &str) {
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let (none, q35) = std::thread::scope(|s| {
        let none = s.spawn(|| system_report(rel, "none"));
        let q35 = s.spawn(|| system_report(rel, "q35"));
        (none.join().unwrap(), q35.join().unwrap())
    });
    let mut reports = vec![none, q35];
    if let Some(qsd) = rel.tool(rel.storage_daemon.as_ref(), "qemu-storage-daemon") {
        let p = qemu::storage_daemon_at(&qsd);
        reports.push(check_monitor(
            &rel.tag,
            "storage daemon",
            &p.sock,
            Bindings::StorageDaemon,
        ));
    }
    print_table(rel, &reports);
    let lost: Vec<String> = reports
        .iter()
        .flat_map(|r| r.lost.iter().map(move |c| format!("{}: {c}", r.what)))
        .collect();
    assert!(
        lost.is_empty(),
        "QEMU {}: qmp call did not print these replies: {lost:#?}",
        rel.version
    );
    let failing: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.failing()
                .into_iter()
                .map(move |row| format!("{}: {}", r.what, row.command))
        })
        .collect();
    assert!(
        failing.is_empty(),
        "QEMU {}: typed != raw for {} read-only queries: {failing:#?}",
        rel.version,
        failing.len()
    );
}

// ---------------------------------------------------------------------------
// A block job, typed.

/// Runs a typed command built from its JSON arguments (so the argument
/// types are exercised too).
fn typed<C>(qmp: &Qmp, args: Value) -> C::Returns
where
    C: qmp_types::Command + FromJson,
{
    let cmd = C::from_json(args.clone())
        .unwrap_or_else(|e| panic!("{}: typed arguments {args}: {e}", C::NAME));
    qmp.call(cmd)
        .unwrap_or_else(|e| panic!("{}: typed call: {e}", C::NAME))
}

fn block_job_events(tag: &str) {
    use qmp_types::Event;
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let p = qemu::system_at(&rel.system, "none", &["-S"]);
    let qmp = connect(&p.sock);
    let mut events = qmp.typed_events::<Event>();
    // Every event decodes typed, and its data re-encodes to what QEMU sent.
    let mut event_issues = Vec::new();
    let mut next = || {
        let ev = events
            .next_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("QEMU {tag}: no event: {e}"))
            .expect("event stream ended")
            .unwrap_or_else(|e| panic!("QEMU {tag}: an event does not decode typed: {e}"));
        let name = ev.raw.name().to_owned();
        let known = known_event_members(Bindings::System.schema(), &name);
        let raw = ev.raw.to_value().expect("a representable event");
        let typed = ev.event.to_json();
        let mut issues = Vec::new();
        equivalent(
            &raw["data"],
            &typed["data"],
            &known,
            "",
            &mut issues,
            &mut BTreeSet::new(),
        );
        event_issues.extend(issues.into_iter().map(|i| format!("{name}: data{i}")));
        ev.event
    };
    // Run state, typed both ways.
    typed::<qmp_types::Cont>(&qmp, json!({}));
    assert!(matches!(next(), Event::Resume(_)));
    typed::<qmp_types::Stop>(&qmp, json!({}));
    assert!(matches!(next(), Event::Stop(_)));
    let st = typed::<qmp_types::QueryStatus>(&qmp, json!({}));
    assert_eq!(st.status.as_str(), "paused");
    typed::<qmp_types::SystemReset>(&qmp, json!({}));
    match next() {
        Event::Reset(r) => assert_eq!(r.reason.as_str(), "host-qmp-system-reset"),
        other => panic!("QEMU {tag}: {other:?}"),
    }
    for node in ["src", "dst"] {
        typed::<qmp_types::BlockdevAdd>(
            &qmp,
            json!({"driver": "null-co", "node-name": node, "size": 8388608}),
        );
    }
    typed::<qmp_types::BlockdevBackup>(
        &qmp,
        json!({"job-id": "job0", "device": "src", "target": "dst", "sync": "full",
               "auto-dismiss": false}),
    );
    let mut statuses = Vec::new();
    loop {
        match next() {
            Event::JobStatusChange(j) => {
                assert_eq!(j.id, "job0");
                statuses.push(j.status.as_str().to_owned());
            }
            Event::BlockJobCompleted(c) => {
                assert_eq!(c.device, "job0");
                assert_eq!(c.len, 8388608);
                assert_eq!(c.offset, 8388608);
                assert!(c.error.is_none(), "{:?}", c.error);
                break;
            }
            Event::BlockJobPending(_) => {}
            other => panic!("QEMU {tag}: unexpected event {other:?}"),
        }
    }
    assert_eq!(&statuses[..2], ["created", "running"], "{statuses:?}");
    let waiting = statuses.iter().position(|s| s == "waiting");
    let pending = statuses.iter().position(|s| s == "pending");
    assert!(
        waiting.is_some() && pending.is_some() && waiting < pending,
        "QEMU {tag}: {statuses:?}"
    );
    let jobs = typed::<qmp_types::QueryJobs>(&qmp, json!({}));
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].id, "job0");
    assert_eq!(jobs[0].status.as_str(), "concluded");
    assert!(
        event_issues.is_empty(),
        "QEMU {tag}: typed != raw: {event_issues:#?}"
    );
    typed::<qmp_types::JobDismiss>(&qmp, json!({"id": "job0"}));
    assert!(typed::<qmp_types::QueryBlockJobs>(&qmp, json!({})).is_empty());
    let nodes = typed::<qmp_types::QueryNamedBlockNodes>(&qmp, json!({}));
    let names: BTreeSet<&str> = nodes
        .iter()
        .filter_map(|n| n.node_name.as_deref())
        .collect();
    assert_eq!(names, BTreeSet::from(["dst", "src"]), "{nodes:?}");
    for node in ["dst", "src"] {
        typed::<qmp_types::BlockdevDel>(&qmp, json!({"node-name": node}));
    }
    assert_eq!(qmp.stats().unknown_replies, 0);
}

// ---------------------------------------------------------------------------
// Nothing is lost.

/// `query-status` with a reply type no QEMU release matches.
#[derive(serde::Serialize)]
struct QueryStatusStrict;

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct NoReleaseHasThis {
    member_no_release_has: bool,
}

impl qmp_types::Command for QueryStatusStrict {
    const NAME: &'static str = "query-status";
    type Returns = NoReleaseHasThis;
}

/// A reply that does not fit the caller's type reaches it anyway, verbatim,
/// with the decode error; the connection stays usable.
fn reply_not_lost(tag: &str) {
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let p = qemu::system_at(&rel.system, "none", &["-S"]);
    let qmp = connect(&p.sock);
    let raw = qmp
        .request_raw("query-status", None)
        .send_reply()
        .expect("raw query-status");
    let e = qmp.call(QueryStatusStrict).unwrap_err();
    match &e {
        qmp_client::Error::Decode {
            command,
            message,
            reply,
            ..
        } => {
            assert_eq!(command, "query-status");
            assert!(message.contains("member_no_release_has"), "{message}");
            assert_eq!(reply.as_str(), raw.json(), "QEMU {tag}: not verbatim");
        }
        other => panic!("QEMU {tag}: {other:?}"),
    }
    assert!(!e.is_fatal());
    let st = typed::<qmp_types::QueryStatus>(&qmp, json!({}));
    assert_eq!(st.status.as_str(), "prelaunch");
}

// ---------------------------------------------------------------------------
// `qmp info` and shell completion.

fn cli_info(tag: &str) {
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let p = qemu::system_at(
        &rel.system,
        "q35",
        &[
            "-accel",
            "tcg",
            "-S",
            "-m",
            "128",
            "-name",
            "rel-test",
            "-blockdev",
            "null-co,node-name=disk0,size=1048576",
            "-device",
            "virtio-blk-pci,drive=disk0,id=blk0",
        ],
    );
    let out = Command::new(common::qmp_bin())
        .args(["info", "--json"])
        .arg(&p.sock)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "QEMU {tag}: qmp info: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("qmp info --json parses");
    assert_eq!(v["version"]["version"], rel.version.as_str(), "{v}");
    assert_eq!(v["name"], "rel-test");
    assert_eq!(v["status"]["status"], "prelaunch");
    assert_eq!(v["memory"]["base"], 128 * 1024 * 1024);
    assert_eq!(v["cpus"]["count"], 1);
    assert!(
        v["machine"].as_str().is_some_and(|m| m.contains("q35")),
        "{v}"
    );
    // Whatever `info` could not ask is listed, never fatal; but a reply
    // the bindings cannot decode is a defect, not a missing feature.
    let undecoded: Vec<String> = v["unavailable"]
        .as_object()
        .expect("`unavailable` is an object")
        .iter()
        .filter(|(_, why)| {
            why.as_str()
                .is_some_and(|w| w.starts_with("unexpected reply"))
        })
        .map(|(field, why)| format!("{field}: {why}"))
        .collect();
    assert!(undecoded.is_empty(), "QEMU {tag}: qmp info: {undecoded:#?}");
    assert!(
        v["nodes"].to_string().contains("disk0"),
        "QEMU {tag}: the block node is missing: {v}"
    );
    let text = Command::new(common::qmp_bin())
        .arg("info")
        .arg(&p.sock)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(text.status.success());
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&rel.version),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
}

/// `qmp call` checks commands and arguments against the schema of the
/// QEMU it talks to: what one release lacks is named, with the release
/// that added it.
fn call_checks(tag: &str) {
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let p = qemu::system_at(&rel.system, "none", &["-S"]);
    let call = |args: &[&str]| {
        let out = Command::new(common::qmp_bin())
            .arg("call")
            .arg(&p.sock)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = call(&["query-status"]);
    assert_eq!(code, Some(0), "QEMU {tag}: {err}");
    assert!(out.contains("prelaunch"), "QEMU {tag}: {out}");
    let (code, _, err) = call(&["query-status", r#"{"x-bogus": 1}"#]);
    assert_eq!(code, Some(2), "QEMU {tag}: {err}");
    assert_eq!(
        err,
        "qmp call: invalid arguments for `query-status`: unknown argument 'x-bogus' (none are accepted here)\n",
        "QEMU {tag}"
    );
    // `set-action` is new in QEMU 6.0.
    let (code, _, err) = call(&["set-action", r#"{"shutdown": "explode"}"#]);
    assert_eq!(code, Some(2), "QEMU {tag}: {err}");
    if tag == "5.2" {
        assert_eq!(
            err,
            format!(
                "qmp call: `set-action` is not supported by QEMU {} (added in QEMU 6.0)\n",
                rel.version
            )
        );
    } else {
        assert!(
            err.starts_with("qmp call: invalid arguments for `set-action`: argument 'shutdown': 'explode' is not one of: poweroff, pause"),
            "QEMU {tag}: {err}"
        );
    }
}

fn shell_completion(tag: &str) {
    use rexpect::reader::Options;
    use rexpect::session::spawn_with_options;
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let p = qemu::system_at(&rel.system, "none", &["-S"]);
    let mut cmd = Command::new(common::qmp_bin());
    cmd.arg("shell")
        .arg("-v")
        .arg("--history")
        .arg(p.dir.path().join("history"))
        .arg(&p.sock)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let opts = Options {
        timeout_ms: Some(15_000),
        strip_ansi_escape_codes: false,
    };
    let mut s = spawn_with_options(cmd, opts).expect("spawn qmp shell");
    s.exp_string("(QEMU) ").expect("prompt");
    // A command name completes from the live schema...
    s.send("query-versi\t").unwrap();
    s.flush().unwrap();
    s.exp_string("query-version").unwrap();
    s.send_line("").unwrap();
    let (major, minor) = rel.major_minor();
    s.exp_string(&format!("\"major\":{major}")).unwrap();
    s.exp_string("(QEMU) ").unwrap();
    // ...an argument name and an enum value of a command every release has.
    s.send("watchdog-set-act\t").unwrap();
    s.flush().unwrap();
    s.exp_string("watchdog-set-action").unwrap();
    s.send(" acti\t").unwrap();
    s.flush().unwrap();
    s.exp_string("action=").unwrap();
    s.send("pau\t").unwrap();
    s.flush().unwrap();
    s.exp_string("pause").unwrap();
    s.send_line("").unwrap();
    s.exp_string(r#"{"execute":"watchdog-set-action","arguments":{"action":"pause"}}"#)
        .unwrap();
    s.exp_string(r#"{"return":{}}"#).unwrap();
    s.exp_string("(QEMU) ").unwrap();
    // Completion offers what this QEMU has, not what the bindings have:
    // 5.2's query-migrate-cache-size (gone since 6.0), 7.1's
    // query-stats-schemas.
    let only_here = if (major, minor) < (6, 0) {
        "query-migrate-cache-size"
    } else {
        "query-stats-schemas"
    };
    s.send(&format!("{}\t", &only_here[..only_here.len() - 3]))
        .unwrap();
    s.flush().unwrap();
    s.exp_string(only_here).unwrap();
    s.send_line("").unwrap();
    s.exp_string(r#"{"return":"#).unwrap();
    s.exp_string("(QEMU) ").unwrap();
    s.send_control('d').unwrap();
    s.exp_eof().expect("shell exits on Ctrl-D");
}

// ---------------------------------------------------------------------------
// Storage daemon and guest agent, typed.

fn storage_daemon(tag: &str) {
    use qmp_types::storage_daemon::{self as qsd, ClientBlockingExt as _};
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let Some(bin) = rel.tool(rel.storage_daemon.as_ref(), "qemu-storage-daemon") else {
        return;
    };
    let p = qemu::storage_daemon_at(&bin);
    let qmp = connect(&p.sock);
    let v = qmp.query_version().expect("typed query-version");
    assert_eq!(format!("{}.{}", v.qemu.major, v.qemu.minor), rel.tag);
    let add =
        qsd::BlockdevAdd::from_json(json!({"driver": "null-co", "node-name": "n0", "size": 4096}))
            .expect("typed blockdev-add arguments");
    qmp.call(add).expect("typed blockdev-add");
    let nodes = qmp
        .query_named_block_nodes(Default::default())
        .expect("typed query-named-block-nodes");
    assert!(
        nodes.iter().any(|n| n.node_name.as_deref() == Some("n0")),
        "{nodes:?}"
    );
    qmp.blockdev_del(qsd::BlockdevDel::new("n0"))
        .expect("typed blockdev-del");
    // No VM here: machine commands do not exist, as a typed QMP error.
    let e = qmp.call_raw("query-status", None).unwrap_err();
    assert!(e.is_command_not_found(), "{e:?}");
}

fn guest_agent(tag: &str) {
    use qmp_types::qga::ClientBlockingExt as _;
    let Some(rel) = releases::get(tag) else {
        return;
    };
    let Some(bin) = rel.tool(rel.guest_agent.as_ref(), "qemu-ga") else {
        return;
    };
    let p = qemu::guest_agent_at(&bin);
    let ga = connect_ga(&p.sock);
    ga.guest_ping().expect("typed guest-ping");
    let info = ga.guest_info().expect("typed guest-info");
    assert!(
        info.version.starts_with(&format!("{}.", rel.tag)),
        "{}",
        info.version
    );
    let enabled: BTreeSet<&str> = info
        .supported_commands
        .iter()
        .filter(|c| c.enabled)
        .map(|c| c.name.as_str())
        .collect();
    for rpc in qemu::GUEST_AGENT_RPCS {
        assert!(enabled.contains(rpc), "{rpc} not enabled: {enabled:?}");
    }
    assert!(!enabled.contains("guest-exec"), "{enabled:?}");
    assert!(ga.guest_get_time().expect("typed guest-get-time") > 1_600_000_000_000_000_000);
    // Typed = raw for the enabled RPCs that take no argument.
    let mut dropped = BTreeSet::new();
    for rpc in ["guest-ping", "guest-info", "guest-get-time"] {
        let raw = ga.call_raw(rpc, None).expect(rpc);
        if let Some(f) = typed_vs_raw(Bindings::GuestAgent, rpc, &raw, &mut dropped) {
            panic!("QEMU {tag}: {rpc}: {f}");
        }
    }
    // Disabled RPCs fail as a typed QMP error; the connection stays usable.
    let e = ga.call_raw("guest-get-osinfo", None).unwrap_err();
    assert!(matches!(e, qmp_client::Error::Qmp(_)), "{e:?}");
    ga.guest_ping().expect("typed guest-ping after an error");
}

macro_rules! per_release {
    ($($module:ident => $tag:literal),* $(,)?) => {$(
        mod $module {
            #[test]
            fn typed_equals_raw_on_every_read_only_query() {
                super::typed_equals_raw($tag);
            }
            #[test]
            fn block_job_with_typed_commands_and_events() {
                super::block_job_events($tag);
            }
            #[test]
            fn a_reply_that_does_not_decode_is_not_lost() {
                super::reply_not_lost($tag);
            }
            #[test]
            fn qmp_info() {
                super::cli_info($tag);
            }
            #[test]
            fn shell_completion() {
                super::shell_completion($tag);
            }
            #[test]
            fn call_checks_arguments_against_this_release() {
                super::call_checks($tag);
            }
            #[test]
            fn storage_daemon_typed() {
                super::storage_daemon($tag);
            }
            #[test]
            fn guest_agent_typed() {
                super::guest_agent($tag);
            }
        }
    )*
        /// The releases with tests above.
        const COVERED: &[&str] = &[$($tag),*];
    };
}

per_release!(qemu_5_2 => "5.2", qemu_10_0 => "10.0", qemu_11_1 => "11.1");

#[test]
fn every_required_release_is_covered() {
    assert_eq!(releases::REQUIRED, COVERED);
    for r in releases::all() {
        eprintln!("QEMU {}: {} ({})", r.tag, r.banner, r.origin);
    }
}
