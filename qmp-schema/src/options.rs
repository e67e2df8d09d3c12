//! Options for reading QAPI schema source: the language level and limits.
//!
//! The QAPI language changed over QEMU releases (doc comment syntax, pragma
//! names, a `null` literal; see [`crate::rules`]). A [`Level`] names the
//! QEMU release whose rules apply. By default the level is read from the `VERSION` file of the QEMU
//! source tree the schema belongs to, so `qapi/qapi-schema.json` of a QEMU
//! 5.1 tree is read with 5.1's rules and that of a 10.0 tree with 10.0's.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A QEMU release (`major.minor`) whose QAPI language rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level {
    /// Major version, e.g. `10`.
    pub major: u16,
    /// Minor version, e.g. `0`.
    pub minor: u16,
}

impl Level {
    /// The newest language this crate knows (QEMU 10.2). A tree newer than
    /// this is read by the newest rules (see [`Level::status`]).
    pub const LATEST: Level = Level::new(10, 2);

    /// The oldest language this crate reads (QEMU 5.1).
    pub const OLDEST: Level = Level::new(5, 1);

    /// Every QEMU release from [`OLDEST`](Self::OLDEST) to
    /// [`LATEST`](Self::LATEST); the levels the rule history
    /// ([`crate::rules::RULES`]) is written in.
    pub const RELEASES: &'static [Level] = &[
        Level::new(5, 1),
        Level::new(5, 2),
        Level::new(6, 0),
        Level::new(6, 1),
        Level::new(6, 2),
        Level::new(7, 0),
        Level::new(7, 1),
        Level::new(7, 2),
        Level::new(8, 0),
        Level::new(8, 1),
        Level::new(8, 2),
        Level::new(9, 0),
        Level::new(9, 1),
        Level::new(9, 2),
        Level::new(10, 0),
        Level::new(10, 1),
        Level::new(10, 2),
    ];

    /// A level from its parts.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Whether `level` is one of [`RELEASES`](Self::RELEASES).
    pub fn is_release(level: Level) -> bool {
        Self::RELEASES.contains(&level)
    }

    /// The release after this one. Since QEMU 5.0 each year has releases
    /// `N.0`, `N.1` and `N.2`, so after `N.2` comes `N+1.0`.
    pub const fn next_release(self) -> Level {
        if self.minor >= 2 {
            Level::new(self.major + 1, 0)
        } else {
            Level::new(self.major, self.minor + 1)
        }
    }

    /// Parses a QEMU version string such as `10.0.2`, `5.1.0` or
    /// `9.2.90`, as found in a tree's `VERSION` file.
    ///
    /// A micro version of 50 or more is a development tree: QEMU's
    /// `master` is `X.Y.50` after release `X.Y`, and release candidates of
    /// the next release are `X.Y.90`, `X.Y.91`, .... Both are read as the
    /// next release (`9.2.50` and `9.2.90` are `10.0`): a development tree
    /// carries the next release's rules as they land, and its schema is
    /// written for them. Stable releases (`X.Y.1`, `X.Y.2`) are `X.Y`.
    pub fn from_version(text: &str) -> Option<Self> {
        let text = text.trim();
        let mut parts = text.split('.');
        let major = parts.next()?.trim().parse().ok()?;
        let minor = parts.next().map_or(Some(0), |m| m.trim().parse().ok())?;
        let micro: u32 = match parts.next() {
            Some(m) => m.trim().parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        let level = Self { major, minor };
        Some(if micro >= 50 {
            level.next_release()
        } else {
            level
        })
    }

    /// How this crate reads `self`: a known release, a release newer than
    /// the newest known one (read by the newest rules), one older than the
    /// oldest supported, or no QEMU release at all.
    pub fn status(self) -> LevelStatus {
        if Self::is_release(self) {
            LevelStatus::Known
        } else if self > Self::LATEST {
            LevelStatus::Newer
        } else if self < Self::OLDEST {
            LevelStatus::Older
        } else {
            LevelStatus::NotARelease
        }
    }

    /// Checks a level given by the user or read from a tree: a known
    /// release is fine, a newer one is read by the newest rules with a
    /// note (returned), anything else is an error.
    pub fn validate(self) -> Result<Option<String>, LevelError> {
        match self.status() {
            LevelStatus::Known => Ok(None),
            LevelStatus::Newer => Ok(Some(format!(
                "QEMU {self} is newer than the newest QAPI language known here ({}); \
                 reading it by {}'s rules",
                Self::LATEST,
                Self::LATEST
            ))),
            LevelStatus::Older | LevelStatus::NotARelease => Err(LevelError(self)),
        }
    }

    /// Finds the `VERSION` file of the QEMU tree a schema file belongs to:
    /// the schema's directory, then up to three parent directories
    /// (`qapi/qapi-schema.json` → `VERSION`,
    /// `storage-daemon/qapi/qapi-schema.json` → `../../VERSION`).
    /// Returns `None` when there is no readable, well-formed `VERSION` file.
    pub fn detect(schema: &Path) -> Option<Self> {
        let candidate = Self::version_file(schema)?;
        // A VERSION file is a single short line; refuse anything big.
        let meta = std::fs::metadata(&candidate).ok()?;
        if meta.len() > 256 {
            return None;
        }
        let text = std::fs::read_to_string(&candidate).ok()?;
        Self::from_version(&text)
    }

    /// The `VERSION` file [`detect`](Self::detect) reads for a schema file,
    /// if there is one (a build script tracks it for rebuilds).
    pub fn version_file(schema: &Path) -> Option<std::path::PathBuf> {
        let abs = std::path::absolute(schema).ok()?;
        let mut dir = abs.parent();
        for _ in 0..4 {
            let d = dir?;
            let candidate = d.join("VERSION");
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }
}

impl Default for Level {
    fn default() -> Self {
        Self::LATEST
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How a [`Level`] relates to the releases this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelStatus {
    /// One of [`Level::RELEASES`].
    Known,
    /// Newer than [`Level::LATEST`]: read by the newest rules.
    Newer,
    /// Older than [`Level::OLDEST`]: not supported.
    Older,
    /// Within the known range but not a QEMU release (e.g. `7.5`).
    NotARelease,
}

/// A level that is not a QEMU release this crate can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "QEMU {0} is not a release whose QAPI language is known here (known: {oldest} to {latest}, \
     and newer releases read by {latest}'s rules)",
    oldest = Level::OLDEST,
    latest = Level::LATEST
)]
pub struct LevelError(pub Level);

/// Error for [`Level::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid QAPI language level '{0}' (expected MAJOR.MINOR, e.g. 10.0)")]
pub struct LevelParseError(pub String);

impl FromStr for Level {
    type Err = LevelParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_version(s).ok_or_else(|| LevelParseError(s.to_owned()))
    }
}

/// Limits that protect against hostile or broken input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest schema file accepted, in bytes (each file separately;
    /// never more than 4 GiB, as spans hold 32-bit offsets).
    pub max_file_size: u64,
    /// Deepest nesting of `{` / `[` accepted within one expression.
    pub max_depth: usize,
    /// Deepest chain of nested `include` directives accepted.
    pub max_include_depth: usize,
}

impl Limits {
    /// 16 MiB per file (the whole QEMU 10.0 schema is well under 2 MiB).
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
    /// 1000 levels of nesting.
    pub const DEFAULT_MAX_DEPTH: usize = 1000;
    /// 64 levels of nested includes.
    pub const DEFAULT_MAX_INCLUDE_DEPTH: usize = 64;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: Self::DEFAULT_MAX_FILE_SIZE,
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_include_depth: Self::DEFAULT_MAX_INCLUDE_DEPTH,
        }
    }
}

/// Options for [`parse_file`](crate::parser::parse_file) and
/// [`parse_str`](crate::parser::parse_str).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The language level; `None` reads it from the QEMU tree's `VERSION`
    /// file (see [`Level::detect`]) and falls back to [`Level::LATEST`].
    pub level: Option<Level>,
    /// Resource limits.
    pub limits: Limits,
}

impl ParseOptions {
    /// Options with an explicit language level.
    pub fn with_level(level: Level) -> Self {
        Self {
            level: Some(level),
            ..Self::default()
        }
    }

    /// The level to use for a schema whose main file is `path`.
    pub fn level_for(&self, path: &Path) -> Level {
        self.level
            .or_else(|| Level::detect(path))
            .unwrap_or(Level::LATEST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings() {
        assert_eq!(Level::from_version("10.0.2\n"), Some(Level::new(10, 0)));
        assert_eq!(Level::from_version("5.1.0"), Some(Level::new(5, 1)));
        assert_eq!(Level::from_version("9.2.90"), Some(Level::new(10, 0)));
        assert_eq!(Level::from_version("9.2.50"), Some(Level::new(10, 0)));
        assert_eq!(Level::from_version("10.1.91"), Some(Level::new(10, 2)));
        assert_eq!(Level::from_version("10.0.49"), Some(Level::new(10, 0)));
        assert_eq!(Level::from_version("1.2.3.4"), None);
        assert_eq!(Level::from_version("7"), Some(Level::new(7, 0)));
        assert_eq!(Level::from_version("x.1"), None);
        assert_eq!(Level::from_version(""), None);
        assert!("abc".parse::<Level>().is_err());
        assert_eq!("6.2".parse::<Level>(), Ok(Level::new(6, 2)));
    }

    #[test]
    fn ordering() {
        assert!(Level::new(10, 0) > Level::new(9, 2));
        assert_eq!(Level::LATEST.to_string(), "10.2");
        assert_eq!(Level::RELEASES.last(), Some(&Level::LATEST));
        assert!(
            Level::RELEASES
                .windows(2)
                .all(|w| w[0].next_release() == w[1])
        );
    }

    #[test]
    fn unknown_levels() {
        assert_eq!(Level::new(4, 2).status(), LevelStatus::Older);
        assert!(Level::new(4, 2).validate().is_err());
        assert_eq!(Level::new(7, 5).status(), LevelStatus::NotARelease);
        assert!(Level::new(7, 5).validate().is_err());
        assert_eq!(Level::new(99, 0).status(), LevelStatus::Newer);
        let note = Level::new(99, 0).validate().unwrap().unwrap();
        assert!(note.contains("99.0") && note.contains("10.2"), "{note}");
        assert_eq!(Level::new(9, 1).validate(), Ok(None));
        let e = Level::new(4, 2).validate().unwrap_err().to_string();
        assert!(e.contains("4.2") && e.contains("5.1"), "{e}");
    }

    #[test]
    fn detect_in_tree() {
        let dir = std::env::temp_dir().join(format!("qmp-schema-level-{}", std::process::id()));
        let sub = dir.join("storage-daemon").join("qapi");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.join("VERSION"), "8.2.1\n").unwrap();
        let found = Level::detect(&sub.join("qapi-schema.json"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, Some(Level::new(8, 2)));
    }
}
