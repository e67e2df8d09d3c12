//! `qmp schema extract` writes the same snapshot as the library (and the
//! committed one for QEMU 10.0.2's guest agent schema).

use std::path::Path;
use std::process::Command;

#[test]
fn extract_qga_matches_committed_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let schema = root.join("../shared/qemu/10.0.2/qga/qapi-schema.json");
    let out = std::env::temp_dir().join(format!("qmp-extract-{}.json", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args(["schema", "extract"])
        .arg(&schema)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run qmp");
    assert!(status.success());
    let got = std::fs::read_to_string(&out).expect("output written");
    let _ = std::fs::remove_file(&out);
    let want = std::fs::read_to_string(root.join("qmp-types/schema/qemu-10.0.2-qga.json"))
        .expect("committed snapshot");
    assert!(
        got == want,
        "qmp schema extract output differs from the committed snapshot"
    );

    // To stdout, and the snapshot loads with `qmp schema check`.
    let o = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args(["schema", "extract"])
        .arg(&schema)
        .output()
        .expect("run qmp");
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
    let check = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args(["schema", "check"])
        .arg(root.join("qmp-types/schema/qemu-10.0.2-qga.json"))
        .status()
        .expect("run qmp");
    assert!(check.success());
}

#[test]
fn extract_reports_errors() {
    let o = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args(["schema", "extract", "/nonexistent/schema.json"])
        .output()
        .expect("run qmp");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/schema.json"), "{err}");
}
