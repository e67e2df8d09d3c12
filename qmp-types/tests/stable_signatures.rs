//! A consumer written against the QEMU 10.0.2 bindings compiles unchanged
//! against bindings of a schema where a command it calls gained an optional
//! member (the next release's usual change), and a struct literal of an
//! argument struct does not compile even against 10.0.2 (the structs are
//! `#[non_exhaustive]`: the optional members a literal would have to name
//! are what a newer QEMU adds).
//!
//! The test builds a small cargo workspace in the target dir: `bindings`
//! (a `build.rs` running `qmp-codegen` on the embedded 10.0.2 snapshot, or
//! on a copy with an optional member added to `blockdev-backup` and
//! `set_link`, keeping only the definitions the consumer uses) and
//! `consumer` (depends on `bindings`), and runs `cargo check` on it. Its
//! target dir is kept between runs, so only the first run compiles the
//! generator.

use std::path::{Path, PathBuf};
use std::process::Command;

const CONSUMER: &str = r#"
//! Written against the QEMU 10.0.2 bindings.
use bindings::{BlockdevBackup, MirrorSyncMode, SetLink};

/// Starts a backup job, blocking.
pub fn backup<C: qmp_types::ClientBlocking>(c: &C) -> Result<(), C::Error> {
    use bindings::ClientBlockingExt as _;
    let args = BlockdevBackup::new("drive0", MirrorSyncMode::Full, "target0")
        .with_job_id("job0")
        .with_speed(1 << 20)
        .with_auto_dismiss(false);
    c.blockdev_backup(args)?;
    c.set_link(SetLink::new("net0", false))?;
    Ok(())
}

/// The same, asynchronously.
pub async fn backup_async<C: qmp_types::Client>(c: &C) -> Result<(), C::Error> {
    use bindings::ClientExt as _;
    let mut args = BlockdevBackup::new(String::from("drive0"), MirrorSyncMode::Top, "t");
    args.speed = Some(5);
    c.blockdev_backup(args).await?;
    c.set_link(SetLink::new("net0", true)).await?;
    Ok(())
}

/// Reads members and matches with `..`.
pub fn describe(b: &BlockdevBackup) -> String {
    let BlockdevBackup { device, target, .. } = b;
    format!("{device} -> {target} at {:?}", b.speed)
}

/// The added member (only with the modified schema: proves it is there).
#[cfg(feature = "next")]
pub fn next() -> SetLink {
    SetLink::new("net0", true).with_x_added_in_next(true)
}

/// A struct literal: rejected (`#[non_exhaustive]`).
#[cfg(feature = "literal")]
pub fn literal() -> SetLink {
    SetLink { name: "net0".into(), up: true }
}
"#;

const BINDINGS_BUILD: &str = r#"
fn main() {
    println!("cargo:rerun-if-env-changed=COMPAT_SCHEMA");
    let schema = std::env::var_os("COMPAT_SCHEMA").expect("COMPAT_SCHEMA");
    println!("cargo:rerun-if-changed={}", std::path::Path::new(&schema).display());
    qmp_codegen::Builder::new()
        .schema(&schema)
        .keep("blockdev-backup")
        .keep("set_link")
        .cargo_directives(false)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
"#;

const BINDINGS_LIB: &str = r#"
#[allow(deprecated, missing_docs, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/qmp.rs"));
}
pub use generated::*;
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    // Unchanged files keep their time stamps (no needless rebuilds).
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("write");
    }
}

/// The 10.0.2 snapshot with an optional member added to the arguments of
/// `blockdev-backup` (struct `BlockdevBackup`) and `set_link` (inline).
fn with_added_member(snapshot: &str) -> String {
    let edits = [
        // The docs index lists each documented member.
        (
            r#""BlockdevBackup": {"members": ["target"]"#,
            r#""BlockdevBackup": {"members": ["target", "x-added-in-next"]"#,
        ),
        (
            r#""set_link": {"members": ["name", "up"]"#,
            r#""set_link": {"members": ["name", "up", "x-added-in-next"]"#,
        ),
        (
            r#"{"struct": "BlockdevBackup", "base": "BackupCommon", "data": {"target": "str"}}"#,
            r#"{"struct": "BlockdevBackup", "base": "BackupCommon", "data": {"target": "str", "*x-added-in-next": "bool"}}"#,
        ),
        (
            r#"{"command": "set_link", "data": {"name": "str", "up": "bool"}}"#,
            r#"{"command": "set_link", "data": {"name": "str", "up": "bool", "*x-added-in-next": "bool"}}"#,
        ),
    ];
    let mut text = snapshot.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replacen(from, to, 1);
    }
    text
}

fn cargo_check(root: &Path, schema: &Path, features: &[&str]) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stable-signatures-target");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["check", "--offline", "-q", "-p", "consumer"])
        .env("COMPAT_SCHEMA", schema)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    cmd.output().expect("cargo runs")
}

#[test]
fn a_consumer_of_10_0_2_compiles_when_an_optional_member_is_added() {
    let types = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let workspace = types.parent().expect("workspace");
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("stable-signatures");
    let dep = |p: &Path| p.display().to_string().replace('\\', "/");
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"bindings\", \"consumer\"]\nresolver = \"3\"\n",
    );
    // The workspace's lock file: the same dependency versions, offline.
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).expect("Cargo.lock");
    write(&root.join("Cargo.lock"), &lock);
    write(
        &root.join("bindings/Cargo.toml"),
        &format!(
            "[package]\nname = \"bindings\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nqmp-types = {{ path = \"{types}\", default-features = false }}\n\n\
             [build-dependencies]\nqmp-codegen = {{ path = \"{codegen}\" }}\n",
            types = dep(&types),
            codegen = dep(&workspace.join("qmp-codegen")),
        ),
    );
    write(&root.join("bindings/build.rs"), BINDINGS_BUILD);
    write(&root.join("bindings/src/lib.rs"), BINDINGS_LIB);
    write(
        &root.join("consumer/Cargo.toml"),
        &format!(
            "[package]\nname = \"consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nbindings = {{ path = \"../bindings\" }}\n\
             qmp-types = {{ path = \"{types}\", default-features = false }}\n\n\
             [features]\nliteral = []\nnext = []\n",
            types = dep(&types),
        ),
    );
    write(&root.join("consumer/src/lib.rs"), CONSUMER);

    let v1 = types.join("schema/qemu-10.0.2-qmp.json");
    let snapshot = std::fs::read_to_string(&v1).expect("10.0.2 snapshot");
    let v2 = root.join("qemu-10.0.2-plus-optional-member.json");
    write(&v2, &with_added_member(&snapshot));

    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let out = cargo_check(&root, &v1, &[]);
    assert!(out.status.success(), "against 10.0.2:\n{}", text(&out));
    let out = cargo_check(&root, &v2, &[]);
    assert!(
        out.status.success(),
        "against 10.0.2 with an optional member added:\n{}",
        text(&out)
    );
    let out = cargo_check(&root, &v2, &["next"]);
    assert!(out.status.success(), "the added member:\n{}", text(&out));
    let out = cargo_check(&root, &v1, &["literal"]);
    assert!(!out.status.success(), "a struct literal compiled");
    assert!(text(&out).contains("E0639"), "{}", text(&out));
}
