//! The QEMU releases the multi-release tests run against, side by side.
//!
//! Where a release comes from, first match wins:
//!
//! 1. `QMP_QEMU_RELEASES=DIR:DIR:...`: each DIR holds a
//!    `qemu-system-x86_64` (and optionally `qemu-storage-daemon`,
//!    `qemu-img`, `qemu-ga`), e.g. wrappers written by `.ci/get-qemu`;
//!    relative paths are relative to the workspace root. When set, only
//!    these directories are searched (and the system QEMU).
//! 2. Otherwise every `<workspace>/target/qemu/*/` with a
//!    `qemu-system-x86_64` (where `.ci/install-qemu-releases` puts them).
//! 3. The system QEMU (`qemu-system-x86_64` on `PATH`, tools also in
//!    `/usr/sbin`), for its own release.
//!
//! A directory's release is what its `qemu-system-x86_64 --version` says
//! (major.minor), not its name. A test asks for a release by tag with
//! [`get`]: when it is missing the test is skipped with a visible
//! `SKIPPED:` line, or fails when `CI` is set. Every release in [`REQUIRED`]
//! is required under CI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The releases the tests cover: the oldest the bindings span (Debian
/// bullseye), the system one (bookworm-backports), the newest
/// (trixie-backports).
pub const REQUIRED: &[&str] = &["5.2", "10.0", "11.1"];

/// One QEMU release's binaries.
#[derive(Debug, Clone)]
pub struct Release {
    /// `major.minor`, e.g. `5.2`.
    pub tag: String,
    /// The full version, e.g. `5.2.0`.
    pub version: String,
    /// The first line of `--version`, e.g. `QEMU emulator version 5.2.0
    /// (Debian 1:5.2+dfsg-11+deb11u5)`.
    pub banner: String,
    /// Where it was found (a directory, or `PATH`).
    pub origin: String,
    /// `qemu-system-x86_64`.
    pub system: PathBuf,
    /// `qemu-storage-daemon`, if the release has one.
    pub storage_daemon: Option<PathBuf>,
    /// `qemu-ga`, if the release has one.
    pub guest_agent: Option<PathBuf>,
    /// `qemu-img`, if the release has one.
    pub img: Option<PathBuf>,
}

impl Release {
    /// `(major, minor)`.
    pub fn major_minor(&self) -> (u64, u64) {
        let mut it = self.tag.split('.').map(|n| n.parse().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    }

    /// A tool of this release, or `None` after saying why (failing under
    /// `CI`, where every tool of every required release must be there).
    pub fn tool(&self, tool: Option<&PathBuf>, name: &str) -> Option<PathBuf> {
        if let Some(p) = tool {
            return Some(p.clone());
        }
        missing(&format!("{name} of QEMU {} ({})", self.tag, self.origin));
        None
    }
}

fn missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!(
            "{what} is required under CI but was not found: run `bash .ci/install-qemu-releases` \
             (or point QMP_QEMU_RELEASES at the release directories)"
        );
    }
    eprintln!(
        "SKIPPED: {what} not found (run `bash .ci/install-qemu-releases` or set QMP_QEMU_RELEASES)"
    );
}

/// The workspace root (both crates that use this live one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate dir has a parent")
        .to_path_buf()
}

/// Runs `bin --version` and reads `version X.Y.Z` from its first line.
fn probe(bin: &Path) -> Option<(String, String, String)> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let banner = text.lines().next()?.trim().to_owned();
    let version = banner
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)?
        .to_owned();
    let mut parts = version.split('.');
    let tag = format!("{}.{}", parts.next()?, parts.next()?);
    Some((tag, version, banner))
}

fn from_dir(dir: &Path) -> Option<Release> {
    let system = dir.join("qemu-system-x86_64");
    if !system.is_file() {
        return None;
    }
    let (tag, version, banner) = probe(&system).unwrap_or_else(|| {
        panic!(
            "{} --version does not run or says no version",
            system.display()
        )
    });
    let tool = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
    Some(Release {
        tag,
        version,
        banner,
        origin: dir.display().to_string(),
        system,
        storage_daemon: tool("qemu-storage-daemon"),
        guest_agent: tool("qemu-ga"),
        img: tool("qemu-img"),
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.push("/sbin".into());
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn system_release() -> Option<Release> {
    let system = on_path("qemu-system-x86_64")?;
    let (tag, version, banner) = probe(&system)?;
    Some(Release {
        tag,
        version,
        banner,
        origin: "PATH".to_owned(),
        system,
        storage_daemon: on_path("qemu-storage-daemon"),
        guest_agent: on_path("qemu-ga"),
        img: on_path("qemu-img"),
    })
}

/// Every release found (see the module docs), one per tag, oldest first.
pub fn all() -> &'static [Release] {
    static ALL: OnceLock<Vec<Release>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dirs: Vec<PathBuf> = match std::env::var_os("QMP_QEMU_RELEASES") {
            Some(list) => std::env::split_paths(&list)
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| workspace_root().join(d))
                .inspect(|d| {
                    assert!(
                        d.join("qemu-system-x86_64").is_file(),
                        "QMP_QEMU_RELEASES names {} which has no qemu-system-x86_64",
                        d.display()
                    )
                })
                .collect(),
            None => {
                let mut v: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("target/qemu"))
                    .map(|rd| rd.filter_map(|e| Some(e.ok()?.path())).collect())
                    .unwrap_or_default();
                v.sort();
                v
            }
        };
        let mut out: Vec<Release> = Vec::new();
        for r in dirs
            .iter()
            .filter_map(|d| from_dir(d))
            .chain(system_release())
        {
            if !out.iter().any(|o| o.tag == r.tag) {
                out.push(r);
            }
        }
        out.sort_by_key(Release::major_minor);
        out
    })
}

/// Release `tag` (`"5.2"`), or `None` after a visible skip message;
/// panics under `CI` when it is missing.
pub fn get(tag: &str) -> Option<&'static Release> {
    let found = all().iter().find(|r| r.tag == tag);
    if found.is_none() {
        missing(&format!("QEMU {tag}"));
    }
    found
}
