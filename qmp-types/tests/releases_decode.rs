//! The default bindings span every embedded QEMU release: each release's
//! saved `query-qmp-schema` reply decodes as `Vec<SchemaInfo>`, and every
//! reply recorded in libvirt's capability transcripts (real KVM hosts, QEMU
//! 6.2 to 10.0, x86_64 and aarch64) decodes typed.
//!
//! The data is in the shared reference directory (`../shared` next to the
//! workspace, or `$QMP_SHARED`); without it the tests say so and pass,
//! except under `CI`, where they fail.

#![cfg(all(feature = "full", feature = "storage-daemon"))]

use std::collections::HashMap;
use std::path::PathBuf;

use qmp_types::runtime::FromJson;
use serde_json::Value;

/// The shared reference directory, if present.
fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("QMP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{}: reference data missing (set QMP_SHARED)",
        dir.display()
    );
    eprintln!("SKIPPED: {} not found (set QMP_SHARED)", dir.display());
    None
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A saved reply file: the `return` value itself, or `{"return": ...}`.
fn return_value(v: Value) -> Value {
    match v {
        Value::Object(mut o) if o.contains_key("return") => o.remove("return").unwrap_or_default(),
        v => v,
    }
}

const RELEASES: &[&str] = &["5.2.0", "10.0.2", "11.1.3"];

#[test]
fn query_qmp_schema_of_every_release_decodes() {
    let Some(shared) = shared() else { return };
    for release in RELEASES {
        let dir = shared.join("qemu/introspection").join(release);
        let system = return_value(read_json(&dir.join("qemu-system-x86_64.json")));
        let n = system.as_array().map_or(0, Vec::len);
        let infos = Vec::<qmp_types::SchemaInfo>::from_json(system)
            .unwrap_or_else(|e| panic!("QEMU {release} query-qmp-schema: {e}"));
        assert_eq!(infos.len(), n);
        for i in &infos {
            assert!(
                !matches!(i.meta_type, qmp_types::SchemaInfoMetaType::Unknown { .. }),
                "QEMU {release}: {} has an unknown meta-type",
                i.name
            );
        }
        let qsd = return_value(read_json(&dir.join("qemu-storage-daemon.json")));
        Vec::<qmp_types::storage_daemon::SchemaInfo>::from_json(qsd)
            .unwrap_or_else(|e| panic!("QEMU {release} storage daemon query-qmp-schema: {e}"));
    }
}

/// The objects of a libvirt `.replies` transcript: pretty-printed JSON
/// objects separated by blank lines.
fn transcript(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// Decodes every `return` of a transcript through the command's typed
/// reply; returns (commands decoded, commands of that name, failures).
fn decode_transcript(msgs: &[Value]) -> (usize, HashMap<String, usize>, Vec<String>) {
    use qmp_types::{Request, Response};
    let mut requests: HashMap<String, Value> = HashMap::new();
    let mut decoded = 0;
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut failures = Vec::new();
    for m in msgs {
        let id = m.get("id").map(Value::to_string).unwrap_or_default();
        if m.get("execute").is_some() {
            requests.insert(id, m.clone());
            continue;
        }
        let Some(ret) = m.get("return") else { continue };
        let Some(req) = requests.get(&id) else {
            continue;
        };
        let name = req["execute"].as_str().unwrap_or_default().to_owned();
        let mut wire = serde_json::json!({"execute": name});
        if let Some(args) = req.get("arguments") {
            wire["arguments"] = args.clone();
        }
        let request = match Request::from_json(wire) {
            Ok(Request::Unknown { .. }) => {
                failures.push(format!("{name}: unknown command"));
                continue;
            }
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: arguments: {e}"));
                continue;
            }
        };
        match request.decode_return(ret.clone()) {
            Ok(Response::Unknown(_)) => failures.push(format!("{name}: no typed reply")),
            Ok(_) => {
                decoded += 1;
                *names.entry(name).or_default() += 1;
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    (decoded, names, failures)
}

#[test]
fn every_libvirt_recorded_reply_decodes() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("libvirt-replies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "replies"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "only {} transcripts", files.len());
    let mut all_failures = Vec::new();
    for f in &files {
        let (decoded, names, failures) = decode_transcript(&transcript(f));
        let file = f.file_name().unwrap().to_string_lossy();
        eprintln!(
            "{file}: {decoded} replies decoded typed, {} failed",
            failures.len()
        );
        // Every transcript expands the host CPU model: the reply that failed
        // on every target while `deprecated-props` (TARGET_S390X) was
        // required.
        assert!(
            names
                .get("query-cpu-model-expansion")
                .is_some_and(|n| *n > 0),
            "{file}: no query-cpu-model-expansion reply decoded"
        );
        all_failures.extend(failures.into_iter().map(|e| format!("{file}: {e}")));
    }
    assert!(all_failures.is_empty(), "{}", all_failures.join("\n"));
}
