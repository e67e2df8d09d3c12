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
//! rules of its own release (the [`Level`], read from the QEMU tree's
//! `VERSION` file unless given). The checker distinguishes:
//!
//! * **level ≥ 6.2** (QEMU 10's rules): unions must be flat (`base` and
//!   `discriminator` required); names follow strict case rules (types
//!   CamelCase, commands and members lower case without `_` unless a pragma
//!   exception allows it, events upper case); `if` is a config symbol or an
//!   `all`/`any`/`not` object; members and branches must be documented
//!   (pragma `documentation-exceptions` aside); `deprecated`/`unstable`
//!   features are not allowed on types; conditional arguments require
//!   `boxed`.
//! * **level < 6.2** (QEMU 5.1's rules): legacy *simple unions* (`union`
//!   without `discriminator`) are accepted and modelled as QEMU 5.1 did: an
//!   implicit enum `<Union>Kind` of the branch names, a local tag member
//!   `type` of that enum, and one implicit wrapper object
//!   `q_obj_<T>-wrapper` per branch type with the single member `data`
//!   ([`model::Object::simple_union`] is `true`), which is exactly the wire
//!   form `{"type": ..., "data": ...}`. `if` is a string or a list of
//!   strings (all must hold), names are only checked for validity and
//!   upper case, type names must not end in `Kind` or `List`, undocumented
//!   members are accepted.
//!
//! Between those two reference points the rules changed step by step; the
//! checker follows the steps it can verify: the `coroutine` command flag
//! from 5.2, and undocumented members, values and branches are errors only
//! from 9.0 (when QEMU introduced that rule with the
//! `documentation-exceptions` pragma). Releases 5.2 to 6.1 are otherwise
//! read by 5.1's rules and 6.2 to 8.2 by 10.0's (QEMU's test suites of
//! those releases are not at hand to check finer steps against).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod compare;
pub mod diag;
pub mod diff;
mod doc;
pub mod dump;
mod expr;
pub mod introspect;
pub mod json;
mod lexer;
pub mod model;
pub mod options;
pub mod parser;
mod schema;
pub mod snapshot;
pub mod source;
pub mod span;

use std::path::Path;

pub use compare::{Comparison, Mismatch, compare_introspection};
pub use diag::{Diagnostic, DiagnosticKind};
pub use dump::{dump_json, dump_qapi_test, dump_qapi_test_legacy};
pub use introspect::{from_introspection_json, looks_like_introspection};
pub use model::Model;
pub use options::{Level, Limits, ParseOptions};
pub use parser::{ParseError, parse_file, parse_str};
pub use snapshot::looks_like_snapshot;
pub use source::{FileId, SourceMap, Span};

/// The first level whose rules are QEMU 10's: simple unions and the older
/// naming and condition rules were dropped in QEMU 6.2.
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
    let rules = expr::Rules {
        legacy: level < FLAT_UNIONS_ONLY,
        coroutine: level >= Level::new(5, 2),
        member_docs: level >= Level::MODERN_DOC,
    };
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
