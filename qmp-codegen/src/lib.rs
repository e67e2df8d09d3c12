//! `qmp-codegen`: QAPI model → Rust bindings, for `build.rs`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use qmp_schema;
