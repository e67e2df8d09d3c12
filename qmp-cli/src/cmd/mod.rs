//! Subcommands of `qmp`, one module each.

pub mod call;
pub mod completions;
pub mod diff;
pub mod events;
pub mod extract;
pub mod r#gen;
pub mod info;
pub mod record;
pub mod schema;
pub mod shell;
pub mod target;
