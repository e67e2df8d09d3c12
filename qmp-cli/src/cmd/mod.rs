//! Subcommands of `qmp`, one module each.

pub mod call;
pub mod events;
pub mod extract;
pub mod schema;
pub mod target;
