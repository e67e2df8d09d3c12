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
fn stats() {
    let Some(sh) = shared() else { return };
    let r = reference("qemu-10.0.2-qmp.json");
    for rel in ["5.2.0", "10.0.2", "11.1.3"] {
        let mut m = reply(&sh, rel, "qemu-system-x86_64");
        let rec = recover_names(&mut m, &r);
        eprintln!(
            "{rel}: masked {} named {} (by shape {}) implicit {} unmatched {} branches {} ints {}",
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
        ] {
            eprintln!("  {n}: {}", type_named(&m, n).is_some());
        }
        let _ = is_masked("1");
    }
}

#[test]
fn agrees_with_compare() {
    let Some(sh) = shared() else { return };
    let r = reference("qemu-10.0.2-qmp.json");
    let m0 = reply(&sh, "10.0.2", "qemu-system-x86_64");
    let cmp = qmp_schema::compare_introspection(&m0, &r);
    let rec = qmp_schema::recover::recover(&m0, &r);
    let mut bad = 0;
    for (k, v) in &rec.names {
        if cmp.masked_names.get(k) != Some(v) {
            bad += 1;
            eprintln!("{k}: recovered {v}, compare {:?}", cmp.masked_names.get(k));
        }
    }
    eprintln!("bad {bad} of {}", rec.names.len());
}
