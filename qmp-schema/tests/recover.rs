//! Name recovery by structure: the masked types of saved `query-qmp-schema`
//! replies (QEMU 5.2.0, 10.0.2, 11.1.3) get their real names from the
//! embedded snapshot used as reference.

use std::path::{Path, PathBuf};

use qmp_schema::model::Entity;
use qmp_schema::recover::{is_masked, recover_names};
use qmp_schema::{Model, ParseOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared() -> Option<PathBuf> {
    let p = match std::env::var_os("QMP_SHARED") {
        Some(s) => PathBuf::from(s),
        None => root().join("../shared"),
    };
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "shared data missing in CI"
    );
    eprintln!("skipped: shared data not found at {}", p.display());
    None
}

fn reference(which: &str) -> Model {
    let p = root().join(format!("qmp-types/schema/{which}"));
    qmp_schema::load(&p, &ParseOptions::default()).expect("reference snapshot loads")
}

fn reply(shared: &Path, release: &str, bin: &str) -> Model {
    let p = shared.join(format!("qemu/introspection/{release}/{bin}.json"));
    let text = std::fs::read_to_string(&p).expect("reply readable");
    qmp_schema::from_introspection_json(&p.to_string_lossy(), &text).expect("reply reads")
}

fn type_named<'m>(m: &'m Model, n: &str) -> Option<&'m Entity> {
    m.get(n).filter(|e| e.is_type())
}

#[test]
fn same_release_names_agree_with_compare() {
    let Some(sh) = shared() else { return };
    for (rel, snap) in [
        ("10.0.2", "qemu-10.0.2-qmp.json"),
        ("11.1.3", "qemu-11.1.3-qmp.json"),
    ] {
        let r = reference(snap);
        let m = reply(&sh, rel, "qemu-system-x86_64");
        // compare_introspection walks both graphs from every command and
        // event: its pairs are the truth for what commands reach.
        let truth = qmp_schema::compare_introspection(&m, &r);
        assert!(truth.mismatches.is_empty(), "{rel}: {:?}", truth.mismatches);
        let rec = qmp_schema::recover::recover(&m, &r);
        for (masked, name) in rec.names.iter().chain(&rec.implicit) {
            if let Some(t) = truth.masked_names.get(masked) {
                assert_eq!(t, name, "{rel}: masked type {masked}");
            }
        }
        for (masked, t) in &truth.masked_names {
            let got = rec.names.get(masked).or(rec.implicit.get(masked));
            assert_eq!(got, Some(t), "{rel}: masked type {masked} not recovered");
        }
        assert!(rec.unmatched.is_empty(), "{rel}: {:?}", rec.unmatched);
        eprintln!(
            "{rel} against its own snapshot: {} named, {} implicit, {} not reached from commands (found by shape)",
            rec.names.len(),
            rec.implicit.len(),
            rec.masked() - truth.masked_names.len()
        );
    }
}

#[test]
fn older_replies_get_the_newest_names() {
    let Some(sh) = shared() else { return };
    let r = reference("qemu-11.1.3-qmp.json");
    for rel in ["5.2.0", "10.0.2", "11.1.3"] {
        let mut m = reply(&sh, rel, "qemu-system-x86_64");
        let rec = recover_names(&mut m, &r);
        eprintln!(
            "QEMU {rel}: {} masked: {} real names ({} by shape), {} implicit, {} use-named; {} alternate branches, {} integer widths",
            rec.masked(),
            rec.names.len(),
            rec.by_shape,
            rec.implicit.len(),
            rec.unmatched.len(),
            rec.branches.len(),
            rec.int_members.len()
        );
        for n in [
            "BlockdevOptions",
            "MirrorSyncMode",
            "SchemaInfo",
            "StatusInfo",
            "BlockdevRef",
        ] {
            assert!(type_named(&m, n).is_some(), "{rel}: no {n}");
        }
        // Each real name stands for one masked type, and only masked
        // types without a counterpart keep a number.
        let mut seen = std::collections::HashSet::new();
        for n in rec.names.values() {
            assert!(seen.insert(n), "{rel}: {n} twice");
        }
        let left: Vec<&str> = m
            .entities
            .iter()
            .filter_map(Entity::name)
            .filter(|n| is_masked(n))
            .collect();
        assert_eq!(
            left.len(),
            rec.implicit.len() + rec.unmatched.len(),
            "{rel}"
        );
    }
}
