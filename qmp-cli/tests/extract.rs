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

/// `--manual` / `--reply`: QEMU 10.2.2's guest agent schema extended with
/// 11.1.3's guest agent manual gives the committed 11.1.3 snapshot; the
/// QMP schema with a reply reports its check against the reply.
#[test]
fn extract_with_manual_matches_committed_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared/qemu");
    let dir = tempfile::tempdir().expect("temp dir");
    let gz = shared.join("introspection/11.1.3/reference/qemu-ga-ref.7.gz");
    let man = dir.path().join("qemu-ga-ref.7");
    let Ok(unzipped) = Command::new("gzip").arg("-dc").arg(&gz).output() else {
        assert!(std::env::var_os("CI").is_none(), "gzip missing");
        eprintln!("skipped: gzip not runnable");
        return;
    };
    assert!(unzipped.status.success(), "gzip -dc {}", gz.display());
    std::fs::write(&man, &unzipped.stdout).expect("write manual");
    let o = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args([
            "schema",
            "extract",
            "--level",
            "11.1",
            "--source",
            "QEMU 11.1.3",
        ])
        .arg(shared.join("10.2.2/qga/qapi-schema.json"))
        .arg("--manual")
        .arg(&man)
        .output()
        .expect("run qmp");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let want = std::fs::read_to_string(root.join("qmp-types/schema/qemu-11.1.3-qga.json"))
        .expect("committed snapshot");
    assert!(
        String::from_utf8_lossy(&o.stdout) == want,
        "differs from the committed snapshot"
    );
    assert!(
        err.contains("conditions changed: 2") && err.contains("guest-network-get-route"),
        "{err}"
    );

    // A compressed manual is refused with a hint.
    let o = Command::new(env!("CARGO_BIN_EXE_qmp"))
        .args(["schema", "extract"])
        .arg(shared.join("10.2.2/qga/qapi-schema.json"))
        .arg("--manual")
        .arg(&gz)
        .output()
        .expect("run qmp");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("decompress it first"));
}
