//! `qmp-types`: typed QMP commands, replies and events.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod runtime;

pub use runtime::{
    Client, ClientBlocking, Command, Empty, ErrorReply, EventKind, OobCommand, Timestamp,
};
