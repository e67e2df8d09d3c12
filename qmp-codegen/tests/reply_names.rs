//! Bindings from saved `query-qmp-schema` replies (QEMU 5.2.0, 10.0.2 and
//! 11.1.3, `../shared/qemu/introspection/`) with the newest embedded
//! snapshot as reference: masked types get their real names by structure,
//! so the code has the default bindings' type names (the compile test is
//! qmp-types' `default_names`, see `.ci/reply-bindings`). Prints how many
//! types got real names and how many kept names derived from their use.

use std::path::{Path, PathBuf};

use qmp_codegen::Builder;

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

/// Type definitions of the generated code: `pub struct X` / `pub enum X`.
fn defines(code: &str, name: &str) -> bool {
    code.contains(&format!("pub struct {name} "))
        || code.contains(&format!("pub struct {name}("))
        || code.contains(&format!("pub enum {name} "))
}

#[test]
fn replies_get_the_default_names() {
    let Some(sh) = shared() else { return };
    let reference = root().join("qmp-types/schema/qemu-11.1.3-qmp.json");
    for rel in ["5.2.0", "10.0.2", "11.1.3"] {
        let reply = sh.join(format!("qemu/introspection/{rel}/qemu-system-x86_64.json"));
        let mut b = Builder::new();
        b.schema(&reply).cargo_directives(false).docs(true);
        let plain = b.generate_output().expect("generates without reference");
        assert!(plain.recovery.is_none());
        b.reference_schema(&reference);
        let out = b.generate_output().expect("generates with reference");
        let rec = out.recovery.expect("a reply with a reference is recovered");
        eprintln!(
            "QEMU {rel}: {} masked types: {} real names ({} by shape), {} argument/implicit, {} named by use",
            rec.masked(),
            rec.names.len(),
            rec.by_shape,
            rec.implicit.len(),
            rec.unmatched.len()
        );
        // What use-based naming got wrong, right now.
        for name in [
            "BlockdevOptions",
            "MirrorSyncMode",
            "SchemaInfo",
            "StatusInfo",
            "BlockdevRef",
            "RunState",
        ] {
            assert!(defines(&out.code, name), "{rel}: no type {name}");
        }
        // Without a reference: names by use.
        assert!(
            defines(&plain.code, "BlockdevAddArguments"),
            "{rel}: the old name"
        );
        assert!(!defines(&plain.code, "BlockdevOptions"), "{rel}");
        assert!(!defines(&plain.code, "MirrorSyncMode"), "{rel}");
        assert!(
            !defines(&out.code, "BlockdevAddArguments"),
            "{rel}: still use-based"
        );
        assert!(
            !defines(&out.code, "DriveBackupSync"),
            "{rel}: still use-based"
        );
        assert!(
            out.code.contains("Reference(String)"),
            "{rel}: BlockdevRef's branches keep their names"
        );
        assert!(
            out.inputs.contains(&reference),
            "{rel}: rerun when the reference changes"
        );
        // Most types are found: only what the reference lacks keeps a
        // use-based name.
        assert!(rec.names.len() > 4 * rec.unmatched.len(), "{rel}: {rec:?}");
    }
}
