//! `qmp info`: what an operator wants to know about a VM at a glance
//! (the successor of QEMU's `vm-info`). Each field comes from one query; a
//! query the QEMU does not have, or one that fails, shows the field as
//! unavailable instead of failing the whole report.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{Map, Value, json};

use crate::monitor::{Monitor, MonitorError};
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

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
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

fn unavailable(e: &MonitorError) -> String {
    if e.is_command_not_found() {
        "not supported by this QEMU".to_owned()
    } else {
        e.to_string()
    }
}

fn field(
    m: &dyn Monitor,
    key: &'static str,
    label: &'static str,
    cmd: &str,
    args: Option<Value>,
    render: impl FnOnce(&Value) -> (Vec<String>, Value),
) -> Field {
    match m.execute(cmd, args) {
        Ok(v) => {
            let (text, json) = render(&v);
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

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Gathers the report.
pub fn gather(m: &dyn Monitor) -> Vec<Field> {
    let mut out = Vec::new();
    out.push(field(m, "version", "QEMU", "query-version", None, |v| {
        let q = &v["qemu"];
        let ver = format!("{}.{}.{}", q["major"], q["minor"], q["micro"]);
        let pkg = s(v, "package");
        let text = if pkg.trim().is_empty() {
            ver.clone()
        } else {
            format!("{ver} ({})", pkg.trim())
        };
        (vec![text], json!({"version": ver, "package": pkg.trim()}))
    }));
    out.push(field(m, "name", "Name", "query-name", None, |v| {
        let n = s(v, "name");
        if n.is_empty() {
            (vec!["(none)".into()], Value::Null)
        } else {
            (vec![n.clone()], Value::String(n))
        }
    }));
    out.push(field(m, "uuid", "UUID", "query-uuid", None, |v| {
        (vec![s(v, "UUID")], Value::String(s(v, "UUID")))
    }));
    out.push(field(m, "status", "Status", "query-status", None, |v| {
        let st = s(v, "status");
        let running = v["running"].as_bool().unwrap_or(false);
        let text = if running || st == "running" {
            st.clone()
        } else {
            format!("{st} (not running)")
        };
        (vec![text], json!({"status": st, "running": running}))
    }));
    out.push(field(m, "kvm", "KVM", "query-kvm", None, |v| {
        let enabled = v["enabled"].as_bool().unwrap_or(false);
        let present = v["present"].as_bool().unwrap_or(false);
        let text = match (enabled, present) {
            (true, _) => "enabled",
            (false, true) => "present, not in use",
            (false, false) => "not present",
        };
        (
            vec![text.into()],
            json!({"enabled": enabled, "present": present}),
        )
    }));
    // The machine type is the QOM type of `/machine`, named `<type>-machine`.
    out.push(field(
        m,
        "machine",
        "Machine",
        "qom-get",
        Some(json!({"path": "/machine", "property": "type"})),
        |v| {
            let t = v.as_str().unwrap_or("");
            let name = t.strip_suffix("-machine").unwrap_or(t).to_owned();
            (vec![name.clone()], Value::String(name))
        },
    ));
    out.push(field(
        m,
        "arch",
        "Architecture",
        "query-target",
        None,
        |v| (vec![s(v, "arch")], Value::String(s(v, "arch"))),
    ));
    let mut cpus = field(m, "cpus", "CPUs", "query-cpus-fast", None, |v| {
        let cpus = list(v);
        let mut lines = vec![cpus.len().to_string()];
        let mut arr = Vec::new();
        for c in cpus {
            let idx = s(c, "cpu-index");
            let tid = s(c, "thread-id");
            lines.push(format!("#{idx}: thread {tid}, {}", s(c, "qom-path")));
            arr.push(
                json!({"index": c.get("cpu-index"), "thread-id": c.get("thread-id"),
                            "target": c.get("target"), "qom-path": c.get("qom-path")}),
            );
        }
        (lines, json!({"count": cpus.len(), "cpus": arr}))
    });
    // The CPU model is the QOM type of the first CPU.
    if let Value::Object(o) = &mut cpus.json
        && let Some(path) = o
            .get("cpus")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("qom-path"))
            .and_then(Value::as_str)
            .map(str::to_owned)
        && let Ok(Value::String(ty)) =
            m.execute("qom-get", Some(json!({"path": path, "property": "type"})))
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
        "query-memory-size-summary",
        None,
        |v| {
            let base = v["base-memory"].as_u64().unwrap_or(0);
            let mut text = human_size(base);
            if let Some(p) = v["plugged-memory"].as_u64().filter(|p| *p > 0) {
                let _ = write!(text, " + {} plugged", human_size(p));
            }
            (
                vec![text],
                json!({"base": base, "plugged": v.get("plugged-memory")}),
            )
        },
    ));
    out.push(field(
        m,
        "block",
        "Block devices",
        "query-block",
        None,
        |v| {
            let devs = list(v);
            let mut lines = Vec::new();
            for d in devs {
                let name = if s(d, "device").is_empty() {
                    s(d, "qdev")
                } else {
                    s(d, "device")
                };
                let text = match d.get("inserted") {
                    Some(ins) => {
                        let ro = if ins["ro"].as_bool() == Some(true) {
                            ", read-only"
                        } else {
                            ""
                        };
                        format!("{name}: {} ({}{ro})", s(ins, "file"), s(ins, "drv"))
                    }
                    None => format!("{name}: (empty)"),
                };
                lines.push(text);
            }
            if lines.is_empty() {
                lines.push("(none)".into());
            }
            (lines, v.clone())
        },
    ));
    out.push(field(
        m,
        "nodes",
        "Block nodes",
        "query-named-block-nodes",
        Some(json!({"flat": true})),
        |v| {
            let mut lines: Vec<String> = list(v)
                .iter()
                .map(|n| format!("{}: {} {}", s(n, "node-name"), s(n, "drv"), s(n, "file")))
                .collect();
            if lines.is_empty() {
                lines.push("(none)".into());
            }
            let slim: Vec<Value> = list(v)
                .iter()
                .map(|n| {
                    json!({"node-name": n.get("node-name"), "drv": n.get("drv"),
                                "file": n.get("file"), "ro": n.get("ro")})
                })
                .collect();
            (lines, Value::Array(slim))
        },
    ));
    out.push(field(
        m,
        "nics",
        "NIC filters",
        "query-rx-filter",
        None,
        |v| {
            let mut lines: Vec<String> = list(v)
                .iter()
                .map(|n| format!("{}: {}", s(n, "name"), s(n, "main-mac")))
                .collect();
            if lines.is_empty() {
                lines.push("(none; only some NIC models report one)".into());
            }
            let slim: Vec<Value> = list(v)
                .iter()
                .map(|n| json!({"name": n.get("name"), "mac": n.get("main-mac")}))
                .collect();
            (lines, Value::Array(slim))
        },
    ));
    out.push(field(
        m,
        "network",
        "Network",
        "human-monitor-command",
        Some(json!({"command-line": "info network"})),
        |v| {
            let text = v.as_str().unwrap_or("").replace("\r\n", "\n");
            let mut lines: Vec<String> = text
                .lines()
                .map(|l| l.trim_end().to_owned())
                .filter(|l| !l.is_empty())
                .collect();
            if lines.is_empty() {
                lines.push("(none)".into());
            }
            (lines, Value::String(text))
        },
    ));
    out.push(field(
        m,
        "chardevs",
        "Chardevs",
        "query-chardev",
        None,
        |v| {
            let mut lines: Vec<String> = list(v)
                .iter()
                .map(|c| format!("{}: {}", s(c, "label"), s(c, "filename")))
                .collect();
            lines.sort();
            if lines.is_empty() {
                lines.push("(none)".into());
            }
            (lines, v.clone())
        },
    ));
    out.push(field(
        m,
        "migration",
        "Migration",
        "query-migrate",
        None,
        |v| {
            let st = s(v, "status");
            let st = if st.is_empty() { "none".to_owned() } else { st };
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
    let fields = gather(conn.monitor.as_ref());
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

    /// Answers some queries, fails others the way old QEMUs do.
    struct Fake;

    impl Monitor for Fake {
        fn execute(&self, name: &str, _args: Option<Value>) -> Result<Value, MonitorError> {
            match name {
                "query-version" => {
                    Ok(json!({"qemu": {"major": 5, "minor": 1, "micro": 0}, "package": ""}))
                }
                "query-name" => Ok(json!({"name": "guest\x1b[2Jname"})),
                "query-status" => Ok(json!({"status": "paused", "running": false})),
                "query-memory-size-summary" => Ok(json!({"base-memory": 536870912u64})),
                "query-cpus-fast" => Ok(json!([{"cpu-index": 0, "thread-id": 42,
                    "qom-path": "/machine/unattached/device[0]", "target": "x86_64"}])),
                "qom-get" if _args.as_ref().is_some_and(|a| a["path"] == "/machine") => {
                    Ok(json!("pc-q35-5.1-machine"))
                }
                "qom-get" => Ok(json!("qemu64-x86_64-cpu")),
                "query-kvm" => Err(MonitorError::Qmp {
                    class: "GenericError".into(),
                    desc: "boom".into(),
                }),
                "query-migrate" => Ok(json!({})),
                _ => Err(MonitorError::Qmp {
                    class: "CommandNotFound".into(),
                    desc: "nope".into(),
                }),
            }
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(536870912), "512 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
    }

    #[test]
    fn report_survives_missing_queries() {
        let fields = gather(&Fake);
        let text = render_text(&fields, false);
        insta::assert_snapshot!(text);
        let j = render_json(&fields);
        assert_eq!(j["status"]["status"], "paused");
        assert_eq!(j["cpus"]["model"], "qemu64-x86_64-cpu");
        assert_eq!(j["unavailable"]["kvm"], "GenericError: boom");
        assert_eq!(j["unavailable"]["uuid"], "not supported by this QEMU");
        assert_eq!(j["migration"]["status"], "none");
    }
}
