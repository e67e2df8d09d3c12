//! The embedded QEMU 11.1.3 snapshots (`qmp-types/schema/qemu-11.1.3-*.json`)
//! are reproducible: the 10.2.2 source tree extended with QEMU 11.1's
//! reference manuals (`../shared/qemu/introspection/11.1.3/reference/`) and
//! reconciled with its `query-qmp-schema` replies gives the committed bytes,
//! and the result agrees with the live replies structurally.
//!
//! The manuals are gzip'ed; the test decompresses them with `gzip -dc`
//! (skips visibly without gzip or the shared data, fails in CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use qmp_schema::extend::extract_extended;
use qmp_schema::{Model, ParseOptions, compare_introspection};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn skip(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("skipped: {why}");
}

fn shared() -> Option<PathBuf> {
    let p = match std::env::var_os("QMP_SHARED") {
        Some(s) => PathBuf::from(s),
        None => root().join("../shared"),
    };
    if p.is_dir() {
        Some(p)
    } else {
        skip(&format!("shared data not found at {}", p.display()));
        None
    }
}

fn manual(path: &Path) -> Option<String> {
    match Command::new("gzip").arg("-dc").arg(path).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8(o.stdout).expect("UTF-8 manual")),
        Ok(o) => panic!(
            "gzip -dc {}: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            skip(&format!("gzip not runnable: {e}"));
            None
        }
    }
}

fn reply(path: &Path) -> Model {
    let text = std::fs::read_to_string(path).expect("reply readable");
    qmp_schema::from_introspection_json(&path.to_string_lossy(), &text).expect("reply reads")
}

/// (snapshot flavour, schema in the 10.2.2 tree, manual, reply)
const FLAVOURS: [(&str, &str, &str, Option<&str>); 3] = [
    (
        "qmp",
        "qapi/qapi-schema.json",
        "qemu-qmp-ref.7.gz",
        Some("qemu-system-x86_64.json"),
    ),
    (
        "storage-daemon",
        "storage-daemon/qapi/qapi-schema.json",
        "qemu-storage-daemon-qmp-ref.7.gz",
        Some("qemu-storage-daemon.json"),
    ),
    ("qga", "qga/qapi-schema.json", "qemu-ga-ref.7.gz", None),
];

#[test]
fn snapshots_are_reproducible_and_match_the_replies() {
    let Some(sh) = shared() else { return };
    let intro = sh.join("qemu/introspection/11.1.3");
    let opts = ParseOptions {
        level: Some("11.1".parse().expect("level")),
        ..ParseOptions::default()
    };
    for (flavour, schema, man, rep) in FLAVOURS {
        let Some(man_text) = manual(&intro.join("reference").join(man)) else {
            return;
        };
        let live = rep.map(|r| reply(&intro.join(r)));
        let ext = extract_extended(
            &sh.join("qemu/10.2.2").join(schema),
            &opts,
            &man_text,
            live.as_ref(),
            Some("QEMU 11.1.3"),
        )
        .unwrap_or_else(|e| panic!("{flavour}: {e}"));
        let committed = root().join(format!("qmp-types/schema/qemu-11.1.3-{flavour}.json"));
        let want = std::fs::read_to_string(&committed).expect("committed snapshot");
        assert!(
            ext.text == want,
            "{flavour}: {} is not what `qmp schema extract --manual` writes; regenerate it (see qmp-types/schema/README.md)",
            committed.display()
        );
        if let Some(live) = &live {
            let cmp = compare_introspection(live, &ext.model);
            assert!(
                cmp.mismatches.is_empty(),
                "{flavour}: differs from the live reply: {:#?}",
                cmp.mismatches
            );
        }
        let r = &ext.report;
        eprintln!(
            "{flavour}: 11.1 adds {} commands, {} events, {} types, {} members/branches, {} enum values; \
             drops {} definitions, {} members/values; {} member types changed; {} new int members of unknown width",
            r.commands.len(),
            r.events.len(),
            r.types.len(),
            r.members.len(),
            r.values.len(),
            r.removed.len(),
            r.removed_members.len(),
            r.type_changed.len(),
            r.int_unknown.len()
        );
    }
}
