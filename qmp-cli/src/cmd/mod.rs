//! Subcommands of `qmp`, one module each.

pub mod extract;
pub mod schema;
