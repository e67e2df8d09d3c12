//! The generator handles every schema the front end accepts: each file of
//! QEMU's own QAPI test suites (10.0.2 and 5.1.0, read from `../shared`)
//! that checks clean at its level is generated from, and the code must
//! parse as Rust. Those files are small and each exercises odd corners of
//! the language (empty schemas, includes, every union and alternate shape,
//! doc comments), so a construct the emitter mishandles shows up here
//! before it reaches a real schema.

use std::path::{Path, PathBuf};

use qmp_codegen::Builder;
use qmp_codegen::qmp_schema::{Level, ParseOptions};

fn suite(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/qemu")
        .join(version)
        .join("tests/qapi-schema")
}

/// Generates from every accepted case; returns how many there were.
fn generate_all(version: &str, level: Level) -> usize {
    let dir = suite(version);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "QEMU test suite missing at {}",
            dir.display()
        );
        eprintln!("skipping: QEMU test suite missing at {}", dir.display());
        return usize::MAX;
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let opts = ParseOptions::with_level(level);
    let mut accepted = 0;
    for path in files {
        let Ok(model) = qmp_codegen::qmp_schema::load(&path, &opts) else {
            continue;
        };
        accepted += 1;
        for docs in [true, false] {
            let out = Builder::new()
                .model(model.clone())
                .docs(docs)
                .unstable_feature(Some("unstable"))
                .cargo_directives(false)
                .generate_output()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Err(e) = syn::parse_file(&out.code) {
                panic!("{}: generated code does not parse: {e}", path.display());
            }
            serde_json::from_str::<serde_json::Value>(&out.json_schema).unwrap_or_else(|e| {
                panic!("{}: JSON Schema document is not JSON: {e}", path.display())
            });
        }
    }
    eprintln!("{version}: generated from {accepted} accepted test schemas");
    accepted
}

#[test]
fn every_accepted_qemu_10_0_2_test_schema_generates() {
    let n = generate_all("10.0.2", Level::new(10, 0));
    // 8 cases have an expected output and no error; a few include-only
    // files check clean too.
    assert!(n >= 8, "only {n} accepted cases");
}

#[test]
fn every_accepted_qemu_5_1_0_test_schema_generates() {
    let n = generate_all("5.1.0", Level::new(5, 1));
    assert!(n >= 8, "only {n} accepted cases");
}
