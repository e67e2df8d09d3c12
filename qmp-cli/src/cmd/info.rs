//! `qmp info`: what an operator wants to know about a VM at a glance
//! (the successor of QEMU's `vm-info`). Each field comes from one query; a
//! query the QEMU does not have, or one that fails, shows the field as
//! unavailable instead of failing the whole report.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{Map, Value, json};

#[allow(deprecated)]
use qmp_types::{
    BlockDeviceInfo, BlockInfo, ChardevInfo, Command, CpuInfoFast, HumanMonitorCommand, KvmInfo,
    MemoryInfo, MigrationInfo, NameInfo, QemuTargetInfo, QomGet, QueryBlock, QueryChardev,
    QueryCpusFast, QueryKvm, QueryMemorySizeSummary, QueryMigrate, QueryName, QueryNamedBlockNodes,
    QueryRxFilter, QueryStatus, QueryTarget, QueryUuid, QueryVersion, RxFilterInfo, StatusInfo,
    UuidInfo, VersionInfo,
};

use crate::client::{CallError, Client};
use crate::target::Target;
use crate::term::{color_stdout, escape_controls, paint, write_stdout};

const EXAMPLES: &str = "\
Examples:
  qmp info /tmp/qmp.sock
  qmp info --json /tmp/qmp.sock | jq .status
  qmp info --launch -- -machine q35 -m 256 -S";

/// `qmp info` options.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct InfoArgs {
    #[command(flatten)]
    target: Target,
    /// Print one JSON object (fields, plus `unavailable` with the reason for
    /// each field that could not be read).
    #[arg(long)]
    json: bool,
}

/// One line of the report: a label and its value(s), or why it is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// JSON key.
    pub key: &'static str,
    /// Human label.
    pub label: &'static str,
    /// Lines to show, or the reason it is unavailable.
    pub text: Result<Vec<String>, String>,
    /// The value for `--json`.
    pub json: Value,
}

/// Human-readable byte size (binary units).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn unavailable(e: &CallError) -> String {
    if e.is_command_not_found() {
        "not supported by this QEMU".to_owned()
    } else {
        e.to_string()
    }
}

/// Runs the typed command `cmd` (the generated bindings: its reply decodes
/// as the command's return type), then renders the reply; a missing
/// command, an error reply or a reply that does not decode makes the field
/// unavailable.
fn field<C: Command>(
    c: &Client,
    key: &'static str,
    label: &'static str,
    cmd: C,
    render: impl FnOnce(C::Returns) -> (Vec<String>, Value),
) -> Field {
    match c.call(cmd) {
        Ok(v) => {
            let (text, json) = render(v);
            Field {
                key,
                label,
                text: Ok(text),
                json,
            }
        }
        Err(e) => Field {
            key,
            label,
            text: Err(unavailable(&e)),
            json: Value::Null,
        },
    }
}

/// `qom-get` of `property` at `path`, as a string.
fn qom_get(path: &str, property: &str) -> QomGet {
    QomGet::new(path, property)
}

fn or_none(mut lines: Vec<String>, none: &str) -> Vec<String> {
    if lines.is_empty() {
        lines.push(none.to_owned());
    }
    lines
}

/// Gathers the report.
pub fn gather(m: &Client) -> Vec<Field> {
    let mut out = Vec::new();
    out.push(field(
        m,
        "version",
        "QEMU",
        QueryVersion,
        |v: VersionInfo| {
            let q = &v.qemu;
            let ver = format!("{}.{}.{}", q.major, q.minor, q.micro);
            let pkg = v.package.trim().to_owned();
            let text = if pkg.is_empty() {
                ver.clone()
            } else {
                format!("{ver} ({pkg})")
            };
            (vec![text], json!({"version": ver, "package": pkg}))
        },
    ));
    out.push(field(m, "name", "Name", QueryName, |v: NameInfo| {
        match v.name {
            Some(n) if !n.is_empty() => (vec![n.clone()], Value::String(n)),
            _ => (vec!["(none)".into()], Value::Null),
        }
    }));
    out.push(field(m, "uuid", "UUID", QueryUuid, |v: UuidInfo| {
        (vec![v.uuid.clone()], Value::String(v.uuid))
    }));
    out.push(field(
        m,
        "status",
        "Status",
        QueryStatus,
        |v: StatusInfo| {
            let st = v.status.as_str().to_owned();
            let text = if v.running {
                st.clone()
            } else {
                format!("{st} (not running)")
            };
            (vec![text], json!({"status": st, "running": v.running}))
        },
    ));
    // Deprecated in the newest releases, but the one query every release
    // from 5.2 on answers.
    #[allow(deprecated)]
    let kvm = QueryKvm;
    out.push(field(m, "kvm", "KVM", kvm, |v: KvmInfo| {
        let text = match (v.enabled, v.present) {
            (true, _) => "enabled",
            (false, true) => "present, not in use",
            (false, false) => "not present",
        };
        (
            vec![text.into()],
            json!({"enabled": v.enabled, "present": v.present}),
        )
    }));
    // The machine type is the QOM type of `/machine`, named `<type>-machine`.
    out.push(field(
        m,
        "machine",
        "Machine",
        qom_get("/machine", "type"),
        |t: Value| {
            let t = match t {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let name = t.strip_suffix("-machine").unwrap_or(&t).to_owned();
            (vec![name.clone()], Value::String(name))
        },
    ));
    out.push(field(
        m,
        "arch",
        "Architecture",
        QueryTarget,
        |v: QemuTargetInfo| {
            let arch = v.arch.as_str().to_owned();
            (vec![arch.clone()], Value::String(arch))
        },
    ));
    let mut first_cpu = None;
    let mut cpus = field(
        m,
        "cpus",
        "CPUs",
        QueryCpusFast,
        |cpus: Vec<CpuInfoFast>| {
            let mut lines = vec![cpus.len().to_string()];
            let mut arr = Vec::new();
            first_cpu = cpus.first().map(|c| c.qom_path.clone());
            for c in &cpus {
                lines.push(format!(
                    "#{}: thread {}, {}",
                    c.cpu_index, c.thread_id, c.qom_path
                ));
                arr.push(json!({"index": c.cpu_index, "thread-id": c.thread_id,
                            "target": c.target.as_str(), "qom-path": c.qom_path}));
            }
            (lines, json!({"count": cpus.len(), "cpus": arr}))
        },
    );
    // The CPU model is the QOM type of the first CPU.
    if let (Some(path), Value::Object(o)) = (first_cpu, &mut cpus.json)
        && let Ok(Value::String(ty)) = m.call(qom_get(&path, "type"))
    {
        o.insert("model".into(), Value::String(ty.clone()));
        if let Ok(lines) = &mut cpus.text
            && let Some(first) = lines.first_mut()
        {
            *first = format!("{first} ({ty})");
        }
    }
    out.push(cpus);
    out.push(field(
        m,
        "memory",
        "Memory",
        QueryMemorySizeSummary,
        |v: MemoryInfo| {
            let mut text = human_size(v.base_memory);
            if let Some(p) = v.plugged_memory.filter(|p| *p > 0) {
                let _ = write!(text, " + {} plugged", human_size(p));
            }
            (
                vec![text],
                json!({"base": v.base_memory, "plugged": v.plugged_memory}),
            )
        },
    ));
    out.push(field(
        m,
        "block",
        "Block devices",
        QueryBlock::default(),
        |devs: Vec<BlockInfo>| {
            let mut lines = Vec::new();
            let mut arr = Vec::new();
            for d in &devs {
                let name = match (&d.qdev, d.device.is_empty()) {
                    (Some(q), true) => q.clone(),
                    _ => d.device.clone(),
                };
                lines.push(match &d.inserted {
                    Some(ins) => {
                        let ro = if ins.ro { ", read-only" } else { "" };
                        format!("{name}: {} ({}{ro})", ins.file, ins.drv)
                    }
                    None => format!("{name}: (empty)"),
                });
                arr.push(
                    json!({"device": name, "qdev": d.qdev, "removable": d.removable,
                "file": d.inserted.as_ref().map(|i| &i.file),
                "drv": d.inserted.as_ref().map(|i| &i.drv),
                "ro": d.inserted.as_ref().map(|i| i.ro)}),
                );
            }
            (or_none(lines, "(none)"), Value::Array(arr))
        },
    ));
    out.push(field(
        m,
        "nodes",
        "Block nodes",
        QueryNamedBlockNodes::new().with_flat(true),
        |nodes: Vec<BlockDeviceInfo>| {
            let lines = nodes
                .iter()
                .map(|n| {
                    let name = n.node_name.as_deref().unwrap_or("(unnamed)");
                    format!("{name}: {} {}", n.drv, n.file)
                })
                .collect();
            let arr: Vec<Value> = nodes
                .iter()
                .map(
                    |n| json!({"node-name": n.node_name, "drv": n.drv, "file": n.file, "ro": n.ro}),
                )
                .collect();
            (or_none(lines, "(none)"), Value::Array(arr))
        },
    ));
    out.push(field(
        m,
        "nics",
        "NIC filters",
        QueryRxFilter::default(),
        |nics: Vec<RxFilterInfo>| {
            let lines = nics
                .iter()
                .map(|n| format!("{}: {}", n.name, n.main_mac))
                .collect();
            let arr: Vec<Value> = nics
                .iter()
                .map(|n| json!({"name": n.name, "mac": n.main_mac}))
                .collect();
            (
                or_none(lines, "(none; only some NIC models report one)"),
                Value::Array(arr),
            )
        },
    ));
    out.push(field(
        m,
        "network",
        "Network",
        HumanMonitorCommand::new("info network"),
        |text: String| {
            let text = text.replace("\r\n", "\n");
            let lines = text
                .lines()
                .map(|l| l.trim_end().to_owned())
                .filter(|l| !l.is_empty())
                .collect();
            (or_none(lines, "(none)"), Value::String(text))
        },
    ));
    out.push(field(m, "chardevs", "Chardevs", QueryChardev, |devs: Vec<ChardevInfo>| {
        let mut lines: Vec<String> = devs.iter().map(|c| format!("{}: {}", c.label, c.filename)).collect();
        lines.sort();
        let arr: Vec<Value> = devs
            .iter()
            .map(|c| json!({"label": c.label, "filename": c.filename, "frontend-open": c.frontend_open}))
            .collect();
        (or_none(lines, "(none)"), Value::Array(arr))
    }));
    out.push(field(
        m,
        "migration",
        "Migration",
        QueryMigrate,
        |v: MigrationInfo| {
            let st = v.status.as_ref().map_or("none", |s| s.as_str()).to_owned();
            (vec![st.clone()], json!({"status": st}))
        },
    ));
    out
}

/// Renders the report for humans: labels aligned, continuation lines
/// indented, server text escaped.
pub fn render_text(fields: &[Field], color: bool) -> String {
    let width = fields.iter().map(|f| f.label.len()).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for f in fields {
        let label = format!("{:width$}", format!("{}:", f.label));
        match &f.text {
            Ok(lines) => {
                for (i, l) in lines.iter().enumerate() {
                    let head = if i == 0 {
                        paint(color, "1", &label)
                    } else {
                        " ".repeat(width)
                    };
                    let _ = writeln!(out, "{head} {}", escape_controls(l));
                }
            }
            Err(why) => {
                let _ = writeln!(
                    out,
                    "{} {}",
                    paint(color, "1", &label),
                    paint(
                        color,
                        "2",
                        &format!("unavailable ({})", escape_controls(why))
                    )
                );
            }
        }
    }
    out
}

/// Renders the report as one JSON object.
pub fn render_json(fields: &[Field]) -> Value {
    let mut obj = Map::new();
    let mut missing = Map::new();
    for f in fields {
        obj.insert(f.key.into(), f.json.clone());
        if let Err(why) = &f.text {
            missing.insert(f.key.into(), Value::String(why.clone()));
        }
    }
    obj.insert("unavailable".into(), Value::Object(missing));
    Value::Object(obj)
}

/// Runs `qmp info`.
pub fn run(args: InfoArgs) -> Result<()> {
    let (conn, _launched) = args.target.connect()?;
    let fields = gather(&conn);
    // A connection lost half-way is an error, not a report of
    // "unavailable" fields.
    if conn.is_closed() {
        let why = fields
            .iter()
            .find_map(|f| f.text.as_ref().err())
            .map_or_else(|| "closed".to_owned(), |w| escape_controls(w));
        anyhow::bail!("the connection to QEMU was lost: {why}");
    }
    if args.json {
        let text = serde_json::to_string_pretty(&render_json(&fields))?;
        write_stdout(&format!("{}\n", escape_controls(&text)))?;
    } else {
        write_stdout(&render_text(&fields, color_stdout()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Options;
    use crate::cmd::target::Address;
    use qmp_client::ErrorClass;
    use qmp_client::testing::{FakeQemu, Script};

    fn connect(fake: &FakeQemu) -> Client {
        let opts = Options {
            timeout: Some(std::time::Duration::from_secs(10)),
            ..Options::default()
        };
        Client::connect(&Address::Unix(fake.socket().to_owned()), opts).unwrap()
    }

    /// Answers some queries, fails others the way old QEMUs do.
    fn old_qemu() -> Script {
        let mut s = Script::new()
            .version(5, 1, 0)
            .stub(
                "query-version",
                json!({"qemu": {"major": 5, "minor": 1, "micro": 0}, "package": ""}),
            )
            .stub("query-name", json!({"name": "guest\x1b[2Jname"}))
            .stub(
                "query-status",
                json!({"status": "paused", "running": false}),
            )
            .stub(
                "query-memory-size-summary",
                json!({"base-memory": 536870912u64}),
            )
            .stub(
                "query-cpus-fast",
                json!([{"cpu-index": 0, "thread-id": 42,
                    "qom-path": "/machine/unattached/device[0]", "target": "x86_64"}]),
            )
            .stub_error("query-kvm", ErrorClass::GenericError, "boom")
            .stub("query-migrate", json!({}));
        for missing in [
            "query-uuid",
            "query-target",
            "query-block",
            "query-named-block-nodes",
            "query-rx-filter",
            "human-monitor-command",
            "query-chardev",
        ] {
            s = s.stub_error(missing, ErrorClass::CommandNotFound, "nope");
        }
        s.expect("qom-get")
            .args(json!({"path": "/machine", "property": "type"}))
            .reply(json!("pc-q35-5.1-machine"))
            .expect("qom-get")
            .args(json!({"path": "/machine/unattached/device[0]", "property": "type"}))
            .reply(json!("qemu64-x86_64-cpu"))
    }

    #[test]
    fn odd_replies_are_reported_not_fatal() {
        // Replies that do not match the schema of the bindings, then the
        // connection ends.
        let fake = FakeQemu::start(
            Script::new()
                .stub("query-uuid", json!({"UUID": 5}))
                .stub(
                    "query-status",
                    json!({"status": "some-new-state", "running": true}),
                )
                .expect("query-kvm")
                .eof(),
        )
        .unwrap();
        let c = connect(&fake);
        let fields = gather(&c);
        let uuid = fields.iter().find(|f| f.key == "uuid").unwrap();
        let why = uuid.text.as_ref().unwrap_err();
        assert!(why.starts_with("unexpected reply to query-uuid:"), "{why}");
        // An enum value newer than the bindings still decodes.
        let status = fields.iter().find(|f| f.key == "status").unwrap();
        assert_eq!(status.text, Ok(vec!["some-new-state".to_owned()]));
        let kvm = fields.iter().find(|f| f.key == "kvm").unwrap();
        let why = kvm.text.as_ref().unwrap_err();
        assert!(why.contains("disconnected"), "{why}");
        assert!(c.is_closed());
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(536870912), "512 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
    }

    #[test]
    fn report_survives_missing_queries() {
        let fake = FakeQemu::start(old_qemu()).unwrap();
        let fields = gather(&connect(&fake));
        let text = render_text(&fields, false);
        insta::assert_snapshot!(text);
        let j = render_json(&fields);
        assert_eq!(j["status"]["status"], "paused");
        assert_eq!(j["cpus"]["model"], "qemu64-x86_64-cpu");
        assert_eq!(j["unavailable"]["kvm"], "GenericError: boom");
        assert_eq!(j["unavailable"]["uuid"], "not supported by this QEMU");
        assert_eq!(j["migration"]["status"], "none");
        // Both qom-get calls came, with their arguments, and nothing
        // unexpected.
        fake.finish().unwrap();
    }
}
