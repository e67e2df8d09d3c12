//! `qmp-schema`: the QAPI front end of qmp-rs.
//!
//! Reads QEMU's QAPI schema language (the `qapi/*.json` files of a QEMU
//! source tree) or a saved `query-qmp-schema` reply, checks it by the same
//! rules as QEMU's own generator, and produces one resolved [`Model`].
//!
//! # Reading and checking
//!
//! [`load`] parses a schema file with everything it includes and checks it;
//! [`check`] checks an already parsed schema. The checks are those of QEMU's
//! `expr.py` (each expression on its own) and `schema.py` (types resolve,
//! no clashes, union and alternate rules, docs match the definitions), with
//! QEMU's messages at QEMU's lines. The first error stops the check, as in
//! QEMU.
//!
//! # Language levels
//!
//! The QAPI language changed over QEMU releases. A schema is read by the
//! rules of its own release, the [`Level`]: the QEMU tree's `VERSION` file
//! (a development version `X.Y.50` or `X.Y.90` counts as the next
//! release), else the level given ([`ParseOptions::level`]), else the
//! newest rules ([`Level::LATEST`], QEMU 10.2). Levels are the releases
//! from 5.1 to 10.2; a newer one is read by 10.2's rules, an older one or
//! one that is no release is refused.
//!
//! Every rule that some release added, changed or dropped is one row of
//! [`rules::RULES`] (name, first release, release that dropped it,
//! evidence); the parser and the checker ask [`Level::has`]. The rows
//! include QEMU 5.2's rST doc comments, the pragma renames of 6.0, the end
//! of simple unions and the `all`/`any`/`not` conditions of 6.2, the doc
//! comment parser of 9.0 with required member documentation, and the
//! doc line format rules of 10.2. `docs/qapi-language-history.md` is the
//! same table with its evidence.
//!
//! When a schema fails only because of a release-gated rule, [`load`]
//! adds a note naming the releases whose rules accept it
//! ([`Diagnostic::notes`]).
//!
//! # Features
//!
//! * `tools`: the modules `compare`, `diff` and `dump`, tools built on the front
//!   end (used by the `qmp` CLI and the tests).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
#[cfg(feature = "tools")]
pub mod compare;
pub mod diag;
#[cfg(feature = "tools")]
pub mod diff;
mod doc;
#[cfg(feature = "tools")]
pub mod dump;
mod expr;
pub mod extend;
pub mod introspect;
pub mod json;
mod lexer;
pub mod manual;
pub mod model;
pub mod options;
pub mod parser;
pub mod recover;
pub mod rules;
mod schema;
pub mod snapshot;
pub mod source;
pub mod span;

use std::path::Path;

#[cfg(feature = "tools")]
pub use compare::{Comparison, Mismatch, compare_introspection};
pub use diag::{Diagnostic, DiagnosticKind};
#[cfg(feature = "tools")]
pub use dump::{dump_json, dump_qapi_test, dump_qapi_test_legacy};
pub use introspect::{from_introspection_json, looks_like_introspection};
pub use model::Model;
pub use options::{Level, LevelError, LevelStatus, Limits, ParseOptions};
pub use parser::{ParseError, parse_file, parse_str};
pub use rules::{RULES, Rule, RuleInfo};
pub use snapshot::looks_like_snapshot;
pub use source::{FileId, SourceMap, Span};

/// The first release without simple unions ([`Rule::SimpleUnions`]).
pub const FLAT_UNIONS_ONLY: Level = Level::new(6, 2);

/// Options for [`check`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// The language level whose rules apply; `None`: the level the schema
    /// was parsed at ([`Parsed::level`]).
    pub level: Option<Level>,
}

/// A schema that failed to load or check: the diagnostic and the files
/// read, so the diagnostic can be rendered with a source snippet.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{diagnostic}")]
pub struct Error {
    /// What went wrong, and where.
    pub diagnostic: Box<Diagnostic>,
    /// The files read.
    pub sources: SourceMap,
}

impl Error {
    /// The diagnostic rendered for a terminal, with a source snippet.
    ///
    /// The plain form names the line QEMU reports (for most semantic errors,
    /// the start of the definition); the snippet shows the offending text
    /// itself, such as the member that clashes, wherever it is.
    pub fn render_rich(&self, color: bool) -> String {
        let mut d = (*self.diagnostic).clone();
        if let Some(span) = d.span
            && self.sources.try_get(span.file).is_some()
        {
            d.line = span.line;
            d.col = span.col;
        }
        diag::render_rich(&d, &self.sources, color)
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Self {
            diagnostic: e.diagnostic,
            sources: e.sources,
        }
    }
}

/// Checks a parsed schema and resolves it into a [`Model`].
pub fn check(parsed: Parsed, opts: &CheckOptions) -> Result<Model, Error> {
    let Parsed {
        sources,
        items,
        pragma,
        level,
    } = parsed;
    let level = opts.level.unwrap_or(level);
    let rules = expr::Rules::at(level);
    let result = schema::Builder::new(&sources, &pragma, rules).run(items, pragma.clone());
    match result {
        Ok(mut model) => {
            model.sources = sources;
            Ok(model)
        }
        Err(diagnostic) => Err(Error {
            diagnostic,
            sources,
        }),
    }
}

/// Reads a schema and checks it. What the file holds is detected from its
/// content:
///
/// * a saved `query-qmp-schema` reply ([`looks_like_introspection`]) is
///   read with [`from_introspection_json`];
/// * a facts-only snapshot ([`looks_like_snapshot`]) is read with
///   [`snapshot::read`] and checked like source, at the snapshot's level
///   (unless `opts.level` is given);
/// * anything else is QAPI source: the file and its includes are parsed
///   and checked. The level is `opts.level`, or else the one of the QEMU
///   tree the file belongs to (see [`Level::detect`]).
pub fn load(path: &Path, opts: &ParseOptions) -> Result<Model, Error> {
    let level = opts.level_for(path);
    if let Err(e) = level.validate() {
        let name = path.to_string_lossy();
        return Err(Error {
            diagnostic: Box::new(Diagnostic::file(
                DiagnosticKind::Semantic,
                e.to_string(),
                name,
            )),
            sources: SourceMap::new(),
        });
    }
    let mut err = match load_at(path, opts) {
        Ok(model) => return Ok(model),
        Err(e) => e,
    };
    if err.diagnostic.kind != DiagnosticKind::Io
        && err.diagnostic.kind != DiagnosticKind::Limit
        && let Some(note) = accepting_releases(path, opts, level)
    {
        err.diagnostic.notes.push(note);
    }
    Err(err)
}

/// When a schema that fails at `level` is accepted at other known
/// releases, says which (the error is then only due to a release-gated
/// rule, see [`rules`]): the range of releases around the nearest
/// accepting one, and the `--qemu-version` to pass.
fn accepting_releases(path: &Path, opts: &ParseOptions, level: Level) -> Option<String> {
    let accepts = |r: Level| {
        let o = ParseOptions {
            level: Some(r),
            ..*opts
        };
        load_at(path, &o).is_ok()
    };
    let releases = Level::RELEASES;
    // The nearest accepting release below, else above, the level.
    let below = releases
        .iter()
        .rev()
        .copied()
        .find(|&r| r < level && accepts(r));
    let (lo, hi) = if let Some(hi) = below {
        let lo = releases
            .iter()
            .rev()
            .copied()
            .filter(|&r| r <= hi)
            .take_while(|&r| accepts(r))
            .last()
            .unwrap_or(hi);
        (lo, hi)
    } else {
        let lo = releases
            .iter()
            .copied()
            .find(|&r| r > level && accepts(r))?;
        let hi = releases
            .iter()
            .copied()
            .filter(|&r| r >= lo)
            .take_while(|&r| accepts(r))
            .last()
            .unwrap_or(lo);
        (lo, hi)
    };
    let range = if lo == hi {
        format!("QEMU {hi}'s rules")
    } else if lo == Level::OLDEST {
        format!("QEMU ≤ {hi}'s rules")
    } else if hi == Level::LATEST {
        format!("QEMU ≥ {lo}'s rules")
    } else {
        format!("the rules of QEMU {lo} to {hi}")
    };
    let pick = if hi < level { hi } else { lo };
    Some(format!(
        "this schema is accepted by {range}; pass --qemu-version {pick} if it is from that release"
    ))
}

/// [`load`] at the level of `opts` (or the tree's), without hints.
fn load_at(path: &Path, opts: &ParseOptions) -> Result<Model, Error> {
    // Peek at the content; files that cannot be read (or are too big, or
    // not UTF-8) are left to the source parser, which reports them.
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= opts.limits.max_file_size);
    if small && let Ok(text) = std::fs::read_to_string(path) {
        let name = path.to_string_lossy();
        if looks_like_introspection(&text) {
            return from_introspection_json(&name, &text);
        }
        if looks_like_snapshot(&text) {
            let (parsed, level) = snapshot::read_with_level(&name, &text)?;
            let level = opts.level.or(level).unwrap_or_default();
            return check(parsed, &CheckOptions { level: Some(level) });
        }
        // The file may have grown since the size check.
        if text.len() as u64 <= opts.limits.max_file_size.min(u64::from(u32::MAX)) {
            // Source: parse the text read, rather than reading it again.
            let parsed = parser::parse_file_text(path, text, opts)?;
            return check(parsed, &CheckOptions::default());
        }
    }
    let parsed = parse_file(path, opts)?;
    check(parsed, &CheckOptions::default())
}

pub use ast::Parsed;
