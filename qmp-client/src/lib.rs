//! `qmp-client`: the QMP protocol engine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use qmp_types;
