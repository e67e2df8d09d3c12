//! The real QEMU schemas under `../shared/qemu/*/` parse without error at
//! their own language level.

use std::path::{Path, PathBuf};

use qmp_schema::ast::Item;
use qmp_schema::{Level, ParseOptions, parse_file};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu")
}

fn check(version: &str, rel: &str, level: Level) {
    let path = shared().join(version).join(rel);
    if !path.exists() {
        eprintln!("skipping: {} not found", path.display());
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing in CI"
        );
        return;
    }
    // Auto-detected level.
    assert_eq!(ParseOptions::default().level_for(&path), level);
    let parsed = match parse_file(&path, &ParseOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("{}:\n{}", path.display(), e.render_rich(false)),
    };
    let exprs = parsed
        .items
        .iter()
        .filter(|i| matches!(i, Item::Expr(_)))
        .count();
    assert!(exprs > 10, "{rel}: only {exprs} definitions");
    assert!(!parsed.sources.is_empty());
}

#[test]
fn qemu_10_0_2() {
    for rel in [
        "qapi/qapi-schema.json",
        "qga/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
    ] {
        check("10.0.2", rel, Level::new(10, 0));
    }
}

#[test]
fn qemu_5_1_0() {
    for rel in [
        "qapi/qapi-schema.json",
        "qga/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
    ] {
        check("5.1.0", rel, Level::new(5, 1));
    }
}
