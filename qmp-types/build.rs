//! Generates the bindings from a QAPI schema with `qmp-codegen`.
//!
//! * `QMP_SCHEMA`: the schema for the main bindings — a QEMU tree's
//!   `qapi/qapi-schema.json` (full docs), a saved `query-qmp-schema` reply
//!   (bindings for exactly that binary) or a facts-only snapshot. Default:
//!   the embedded snapshots of the releases in `RELEASES`: the newest
//!   (`schema/qemu-11.1.3-qmp.json`) spanned with the older ones, so the
//!   bindings decode every embedded release's replies.
//! * `QMP_OLDEST_QEMU=X.Y[.Z]`: span only embedded releases from this one on
//!   (e.g. `9.0`: QEMU 5.2's differences no longer make members optional).
//! * `QMP_SPAN=X.Y.Z`: with a user schema, the release it belongs to; the
//!   embedded releases older than it are spanned. Without it, a user schema
//!   is used as it is.
//! * `QMP_QGA_SCHEMA` / `QMP_QSD_SCHEMA`: the same for the guest agent
//!   (feature `qga`) and the storage daemon (feature `storage-daemon`).
//! * `QMP_SCHEMA_VERSION`: the QEMU release (e.g. `9.0`) whose QAPI rules
//!   read those schemas, for schemas outside their tree (no `VERSION`
//!   file); default: the tree's `VERSION`, else the newest rules.
//!
//! A reply names its types by number; they get the names of the types they
//! match by structure in the newest embedded snapshot, so code written
//! against the default bindings compiles against bindings of a reply
//! (types that match nothing are named after their use).
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
            "misc-i386",
            "misc-arm",
            "machine",
            "machine-target",
            "machine-s390x",
            "accelerator",
            "machine-common",
            "qdev",
            "acpi",
            "acpi-hest",
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

/// The embedded QEMU releases, newest first: the release and its
/// facts-only snapshots of the QMP, storage daemon and guest agent schemas
/// (in `schema/`). The default bindings are generated from the first and
/// span every release down to `QMP_OLDEST_QEMU` (default: the last).
/// Adding a release is one line.
const RELEASES: &[Embedded] = &[
    Embedded::new("11.1.3", "qemu-11.1.3"),
    Embedded::new("10.0.2", "qemu-10.0.2"),
    Embedded::new("5.2.0", "qemu-5.2.0"),
];

struct Embedded {
    release: &'static str,
    stem: &'static str,
}

impl Embedded {
    const fn new(release: &'static str, stem: &'static str) -> Self {
        Self { release, stem }
    }

    /// `schema/<stem>-<kind>.json`.
    fn file(&self, kind: &str) -> String {
        format!("schema/{}-{kind}.json", self.stem)
    }
}

/// What the bindings of one schema are generated from.
struct Source {
    /// The main schema.
    schema: PathBuf,
    /// With the embedded default: its release and the older releases to
    /// span (release, schema).
    span: Option<(qmp_codegen::Release, Vec<(qmp_codegen::Release, PathBuf)>)>,
}

/// The schema for one kind (`qmp`, `storage-daemon`, `qga`): `$env` if set
/// (no spanning, unless `QMP_SPAN` is set: then `$env` is taken as the
/// newest release's schema), else the embedded releases.
fn source(env: &str, kind: &str) -> Result<Source, Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-env-changed={env}");
    println!("cargo:rerun-if-env-changed=QMP_OLDEST_QEMU");
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("no CARGO_MANIFEST_DIR")?);
    let oldest: Option<qmp_codegen::Release> = match std::env::var("QMP_OLDEST_QEMU") {
        Ok(v) if !v.trim().is_empty() => {
            Some(v.parse().map_err(|e| format!("QMP_OLDEST_QEMU: {e}"))?)
        }
        _ => None,
    };
    // The embedded releases that have a snapshot of this kind, newest first.
    let mut embedded = Vec::new();
    for e in RELEASES {
        let path = manifest.join(e.file(kind));
        if path.exists() {
            let r: qmp_codegen::Release = e.release.parse()?;
            embedded.push((r, path));
        }
    }
    let (newest_release, newest_path) = embedded
        .first()
        .cloned()
        .ok_or_else(|| format!("no embedded {kind} schema"))?;
    let older = |skip_newest: bool| -> Vec<(qmp_codegen::Release, PathBuf)> {
        embedded[usize::from(skip_newest)..]
            .iter()
            .filter(|(r, _)| oldest.is_none_or(|o| *r >= o))
            .cloned()
            .collect()
    };
    match std::env::var_os(env) {
        Some(p) if !p.is_empty() => {
            println!("cargo:rerun-if-env-changed=QMP_SPAN");
            // A user schema: spanning only when asked, with QMP_SPAN=X.Y.Z
            // naming the user schema's release.
            let span = match std::env::var("QMP_SPAN") {
                Ok(v) if !v.trim().is_empty() => {
                    let r: qmp_codegen::Release =
                        v.parse().map_err(|e| format!("QMP_SPAN: {e}"))?;
                    let mut o = older(false);
                    o.retain(|(x, _)| *x < r);
                    Some((r, o))
                }
                _ => None,
            };
            Ok(Source {
                schema: PathBuf::from(p),
                span,
            })
        }
        _ => Ok(Source {
            schema: newest_path,
            span: Some((newest_release, older(true))),
        }),
    }
}

/// A saved `query-qmp-schema` reply names its types by number: their real
/// names are recovered by structure against the newest embedded snapshot
/// of the same kind, so code written against the default bindings compiles.
fn reference(kind: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    RELEASES
        .iter()
        .map(|e| manifest.join(e.file(kind)))
        .find(|p| p.exists())
}

fn generate(
    src: &Source,
    reference: Option<PathBuf>,
    out: &Path,
    stem: &str,
    modules: Option<Vec<&str>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut b = qmp_codegen::Builder::new();
    b.schema(&src.schema)
        .out_dir(out)
        .file_stem(stem)
        .unstable_feature(Some("unstable"));
    if let Some(r) = reference {
        b.reference_schema(r);
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
    if let Some((newest, older)) = &src.span {
        b.schema_release(*newest);
        for (r, p) in older {
            b.span_release(*r, p);
        }
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
    let qmp = source("QMP_SCHEMA", "qmp")?;
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
    generate(&qmp, reference("qmp"), &out, "qmp", modules)?;
    if feature("qga") {
        generate(&source("QMP_QGA_SCHEMA", "qga")?, None, &out, "qga", None)?;
    }
    if feature("storage-daemon") {
        let qsd = source("QMP_QSD_SCHEMA", "storage-daemon")?;
        generate(
            &qsd,
            reference("storage-daemon"),
            &out,
            "storage_daemon",
            None,
        )?;
    }
    Ok(())
}
