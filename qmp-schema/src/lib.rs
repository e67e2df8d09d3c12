//! `qmp-schema`: the QAPI front end of qmp-rs.
//!
//! Reads QEMU's QAPI schema language (the `qapi/*.json` files of a QEMU
//! source tree) or a saved `query-qmp-schema` reply, checks it by the same
//! rules as QEMU's own generator, and produces one resolved [`Model`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod diag;
mod doc;
mod lexer;
pub mod model;
pub mod options;
pub mod parser;
pub mod source;

pub use diag::{Diagnostic, DiagnosticKind};
pub use model::Model;
pub use options::{Level, Limits, ParseOptions};
pub use parser::{ParseError, parse_file, parse_str};
pub use source::{FileId, SourceMap, Span};
