//! Generates the bindings from a QAPI schema with `qmp-codegen`.
//!
//! * `QMP_SCHEMA`: the schema for the main bindings — a QEMU tree's
//!   `qapi/qapi-schema.json` (full docs), a saved `query-qmp-schema` reply
//!   (bindings for exactly that binary) or a facts-only snapshot. Default:
//!   the embedded QEMU 10.0.2 snapshot `schema/qemu-10.0.2-qmp.json`.
//! * `QMP_QGA_SCHEMA` / `QMP_QSD_SCHEMA`: the same for the guest agent
//!   (feature `qga`) and the storage daemon (feature `storage-daemon`).
//!
//! A reply names its types by number; they get the names of the types they
//! match by structure in the newest embedded snapshot (QEMU 11.1.3), so
//! code written against the default bindings compiles against bindings of
//! a reply (types that match nothing are named after their use).
//! * `QMP_SCHEMA_VERSION`: the QEMU release (e.g. `9.0`) whose QAPI rules
//!   read those schemas, for schemas outside their tree (no `VERSION`
//!   file); default: the tree's `VERSION`, else the newest rules.
//!
//! Module features (`block`, `migration`, ...) select which QAPI modules
//! are generated; see `Cargo.toml`.

use std::path::{Path, PathBuf};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn schema_path(env: &str, default: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={env}");
    match std::env::var_os(env) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let manifest =
                PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
            manifest.join(default)
        }
    }
}

/// The QAPI modules of QEMU's QMP schema that each module feature selects
/// (definitions they need from other modules are always included).
const MODULE_FEATURES: &[(&str, &[&str])] = &[
    (
        "core",
        &[
            "qapi-schema",
            "pragma",
            "error",
            "common",
            "compat",
            "control",
            "introspect",
            "run-state",
            "misc",
            "misc-target",
            "machine",
            "machine-target",
            "machine-common",
            "qdev",
            "acpi",
            "pci",
            "sockets",
        ],
    ),
    (
        "block",
        &["block-core", "block", "block-export", "job", "transaction"],
    ),
    ("migration", &["migration", "dump", "replay", "yank"]),
    ("char", &["char"]),
    ("net", &["net", "rocker", "ebpf"]),
    ("ui", &["ui", "audio"]),
    ("qom", &["qom", "authz", "crypto", "cryptodev", "tpm"]),
    (
        "devices",
        &[
            "virtio", "cxl", "vfio", "uefi", "stats", "trace", "rdma", "numa",
        ],
    ),
];

/// The reference for name recovery when a schema is a saved
/// `query-qmp-schema` reply: the newest embedded snapshot.
const REFERENCE_QMP: &str = "schema/qemu-11.1.3-qmp.json";
const REFERENCE_QSD: &str = "schema/qemu-11.1.3-storage-daemon.json";

fn manifest_path(rel: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join(rel)
}

fn generate(
    schema: &Path,
    reference: Option<&str>,
    out: &Path,
    stem: &str,
    modules: Option<Vec<&str>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut b = qmp_codegen::Builder::new();
    b.schema(schema)
        .out_dir(out)
        .file_stem(stem)
        .unstable_feature(Some("unstable"));
    // A reply names its types by number: recover their real names by
    // structure, so code written against the default bindings compiles.
    if let Some(r) = reference {
        b.reference_schema(manifest_path(r));
    }
    println!("cargo:rerun-if-env-changed=QMP_SCHEMA_VERSION");
    if let Some(v) = std::env::var_os("QMP_SCHEMA_VERSION").filter(|v| !v.is_empty()) {
        let v = v.to_string_lossy();
        let level: qmp_codegen::qmp_schema::Level =
            v.parse().map_err(|e| format!("QMP_SCHEMA_VERSION: {e}"))?;
        if let Some(note) = level
            .validate()
            .map_err(|e| format!("QMP_SCHEMA_VERSION: {e}"))?
        {
            println!("cargo:warning={note}");
        }
        b.qemu_version(Some(level));
    }
    if let Some(mods) = modules {
        b.keep_nothing();
        for m in mods {
            b.keep_module(m);
        }
    }
    b.generate()?;
    Ok(())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let feature = |f: &str| {
        std::env::var_os(format!(
            "CARGO_FEATURE_{}",
            f.to_uppercase().replace('-', "_")
        ))
        .is_some()
    };

    // Main QMP bindings: every module with feature `full` or a custom
    // schema, otherwise the modules of the enabled module features.
    let qmp = schema_path("QMP_SCHEMA", "schema/qemu-10.0.2-qmp.json");
    let custom = std::env::var_os("QMP_SCHEMA").is_some_and(|s| !s.is_empty());
    let modules = if custom || feature("full") {
        None
    } else {
        let mut mods = Vec::new();
        for (f, ms) in MODULE_FEATURES {
            if feature(f) {
                mods.extend_from_slice(ms);
            }
        }
        Some(mods)
    };
    generate(&qmp, Some(REFERENCE_QMP), &out, "qmp", modules)?;
    if feature("qga") {
        let qga = schema_path("QMP_QGA_SCHEMA", "schema/qemu-10.0.2-qga.json");
        generate(&qga, None, &out, "qga", None)?;
    }
    if feature("storage-daemon") {
        let qsd = schema_path("QMP_QSD_SCHEMA", "schema/qemu-10.0.2-storage-daemon.json");
        generate(&qsd, Some(REFERENCE_QSD), &out, "storage_daemon", None)?;
    }
    Ok(())
}
