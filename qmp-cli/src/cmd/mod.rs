//! Subcommands.

pub mod completions;
pub mod info;
pub mod shell;
