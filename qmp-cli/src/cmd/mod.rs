//! Subcommands of `qmp`, one module each.

pub mod schema;
