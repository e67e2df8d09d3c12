//! Subcommands.

pub mod shell;
