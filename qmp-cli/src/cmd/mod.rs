//! Subcommands of `qmp`, one module each.

pub mod r#gen;
pub mod schema;
