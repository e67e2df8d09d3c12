//! The facts-only snapshots committed in `qmp-types/schema/` are current
//! (re-derived from `../shared/qemu/10.0.2` byte for byte), load into the
//! same model as the QAPI source (except doc text), and contain no prose.
//!
//! Set `QMP_UPDATE_SNAPSHOTS=1` to rewrite the committed files instead of
//! failing when they are out of date.

use std::path::{Path, PathBuf};

use qmp_schema::ast::{DocSectionKind, Item};
use qmp_schema::{Model, ParseOptions, dump_json, load, parse_file, snapshot};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared() -> PathBuf {
    root().join("../shared/qemu/10.0.2")
}

const SCHEMAS: [(&str, &str); 3] = [
    ("qapi/qapi-schema.json", "qemu-10.0.2-qmp.json"),
    ("qga/qapi-schema.json", "qemu-10.0.2-qga.json"),
    (
        "storage-daemon/qapi/qapi-schema.json",
        "qemu-10.0.2-storage-daemon.json",
    ),
];

fn committed(name: &str) -> PathBuf {
    root().join("qmp-types/schema").join(name)
}

fn or_panic<T>(r: Result<T, qmp_schema::Error>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn committed_snapshots_are_current() {
    let update = std::env::var_os("QMP_UPDATE_SNAPSHOTS").is_some();
    for (src, out) in SCHEMAS {
        let text = or_panic(snapshot::extract(
            &shared().join(src),
            &ParseOptions::default(),
        ));
        let path = committed(out);
        if update {
            std::fs::write(&path, &text).expect("write snapshot");
            continue;
        }
        let old =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            old == text,
            "{} is out of date with {src}; regenerate with QMP_UPDATE_SNAPSHOTS=1 cargo test -p qmp-schema --test snapshot (or `qmp schema extract`)",
            path.display()
        );
    }
}

/// The model as JSON, without doc text (which snapshots do not keep).
fn facts(m: &Model) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.remove("doc");
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = dump_json(m);
    strip(&mut v);
    v
}

#[test]
fn snapshot_loads_like_source() {
    for (src, out) in SCHEMAS {
        let from_source = or_panic(load(&shared().join(src), &ParseOptions::default()));
        let from_snapshot = or_panic(load(&committed(out), &ParseOptions::default()));
        let (a, b) = (facts(&from_source), facts(&from_snapshot));
        let (ea, eb) = (a["entities"].as_array(), b["entities"].as_array());
        let (ea, eb) = (ea.expect("entities"), eb.expect("entities"));
        assert_eq!(ea.len(), eb.len(), "{src}: entity count");
        for (x, y) in ea.iter().zip(eb) {
            assert_eq!(x, y, "{src}: entity differs");
        }
        assert_eq!(a, b, "{src}");
        let with_since = from_snapshot
            .entities
            .iter()
            .filter_map(|e| e.common())
            .filter(|c| c.since.is_some())
            .count();
        assert!(
            with_since > 50,
            "{src}: only {with_since} definitions with since"
        );
        let modules: Vec<&str> = from_snapshot
            .modules
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        let want: Vec<&str> = from_source
            .modules
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(modules, want, "{src}: modules");
    }
}

#[test]
fn no_doc_prose_leaks() {
    for (src, out) in SCHEMAS {
        let snap = std::fs::read_to_string(committed(out)).expect("snapshot");
        let parsed = parse_file(&shared().join(src), &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for item in &parsed.items {
            let doc = match item {
                Item::Expr(e) => e.doc.as_ref(),
                Item::Doc(d) => Some(d),
                Item::Directive(_) => None,
            };
            for s in doc.iter().flat_map(|d| &d.sections) {
                if s.kind == DocSectionKind::Since {
                    continue;
                }
                // Every line of real prose (not just a word or two).
                for line in s.text.lines().map(str::trim).filter(|l| l.len() >= 30) {
                    checked += 1;
                    let quoted = serde_json::to_string(line).expect("json");
                    let inner = &quoted[1..quoted.len() - 1];
                    assert!(!snap.contains(inner), "{out} contains doc text: {line}");
                }
            }
        }
        assert!(checked > 100, "{src}: only {checked} doc lines checked");
    }
}

/// Snapshots of the older language (QEMU 5.1: simple unions, `null`
/// values, legacy doc sections) load like their source too.
#[test]
fn older_language_round_trips() {
    let base = root().join("../shared/qemu/5.1.0");
    let dir = std::env::temp_dir().join(format!("qmp-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for src in ["qapi/qapi-schema.json", "qga/qapi-schema.json"] {
        let path = base.join(src);
        let text = or_panic(snapshot::extract(&path, &ParseOptions::default()));
        assert!(
            text.contains("\"level\": \"5.1\""),
            "{src}: level not recorded"
        );
        let out = dir.join("snap.json");
        std::fs::write(&out, &text).expect("write");
        let from_source = or_panic(load(&path, &ParseOptions::default()));
        let from_snapshot = or_panic(load(&out, &ParseOptions::default()));
        assert_eq!(facts(&from_source), facts(&from_snapshot), "{src}");
        let simple_unions = from_snapshot
            .entities
            .iter()
            .filter(|e| matches!(e, qmp_schema::model::Entity::Object(o) if o.simple_union))
            .count();
        if src.starts_with("qapi/") {
            assert!(simple_unions > 5, "{src}: simple unions lost");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
