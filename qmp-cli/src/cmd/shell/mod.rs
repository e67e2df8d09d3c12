//! `qmp shell`: an interactive QMP shell.

pub mod complete;
pub mod parse;
pub mod schema;
