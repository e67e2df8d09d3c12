//! Subcommands.

pub mod info;
pub mod shell;
