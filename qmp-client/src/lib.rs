//! `qmp-client`: the QMP protocol engine.
//!
//! * [`proto`]: the sans-io state machine (framing, greeting, negotiation,
//!   ids, reply routing, events, limits), usable with any I/O.
//! * [`Qmp`] (tokio) and [`blocking::Qmp`]: transports implementing the
//!   [`qmp_types::Client`] / [`qmp_types::ClientBlocking`] traits, so the
//!   generated extension traits work on both.
#![warn(missing_docs)]

pub mod blocking;
mod config;
mod error;
mod events;
mod fd;
pub mod proto;
mod shared;
mod tokio_client;

pub use config::Builder;
pub use error::{Error, IoOp, ProtocolErrorKind, Result, TimeoutKind};
pub use events::{EventError, EventStream, FromRawEvent, TypedEvent};
pub use proto::{Greeting, Limits, Mode, RawEvent, RawReply, Stats};
pub use qmp_types;
pub use tokio_client::Qmp;
