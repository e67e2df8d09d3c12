//! Subcommands of `qmp`, one module each.

pub mod completions;
pub mod diff;
pub mod extract;
pub mod info;
pub mod schema;
pub mod shell;
