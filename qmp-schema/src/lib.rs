//! `qmp-schema`: the QAPI front end of qmp-rs.
//!
//! Reads QEMU's QAPI schema language (the `qapi/*.json` files of a QEMU
//! source tree) or a saved `query-qmp-schema` reply, checks it by the same
//! rules as QEMU's own generator, and produces one resolved [`Model`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
pub mod diag;
pub mod introspect;
pub mod json;
pub mod model;
pub mod source;

pub use diag::{Diagnostic, DiagnosticKind};
pub use introspect::{IntrospectError, from_introspection_json, looks_like_introspection};
pub use model::Model;
pub use source::{FileId, SourceMap, Span};
