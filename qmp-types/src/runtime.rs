//! The hand-written part of the bindings: the traits generated code
//! implements and transports implement.
//!
//! * [`Command`] is implemented by every generated command type: it knows
//!   its wire name and its reply type. [`OobCommand`] marks commands whose
//!   schema allows `exec-oob`, so out-of-band execution of any other command
//!   does not compile.
//! * [`Client`] (async) and [`ClientBlocking`] are the transport-agnostic
//!   client traits: one `execute` method each. The generated extension
//!   traits add one method per command on top of them, blanket-implemented
//!   for every client.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A QMP command: its arguments (the value itself, serialized as the
/// `arguments` object) and the type of its successful reply.
pub trait Command: Serialize + Send + Sync {
    /// The command's wire name, e.g. `"query-status"`.
    const NAME: &'static str;
    /// Whether the schema allows `exec-oob` for this command.
    const ALLOW_OOB: bool = false;
    /// Whether QEMU sends a reply on success (`success-response`); when
    /// false, a client must not wait for one.
    const SUCCESS_RESPONSE: bool = true;
    /// The type of the `return` value. Commands without a declared return
    /// type reply with an empty object: [`Empty`].
    type Returns: DeserializeOwned + Send + 'static;
}

/// A command the schema allows to run out-of-band (`allow-oob: true`).
pub trait OobCommand: Command {}

/// An event type: implemented by the generated event enum so transports
/// can decode events without knowing the schema.
pub trait EventKind: DeserializeOwned + Send + 'static {
    /// The wire name of this event (or of the unknown event it holds).
    fn name(&self) -> &str;
}

/// The reply of a command that declares no return type: `{}`. Members a
/// newer QEMU might add are ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Empty {}

/// An event's `timestamp`: seconds and microseconds since the Unix epoch;
/// both are -1 when QEMU could not read the host clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    /// Seconds since the epoch.
    pub seconds: i64,
    /// Microseconds within the second.
    pub microseconds: i64,
}

/// An error reply: `{"error": {"class": ..., "desc": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The error class, e.g. `GenericError`, `CommandNotFound`. Kept as a
    /// string: newer QEMUs may add classes.
    pub class: String,
    /// Human-readable description. Do not parse it.
    pub desc: String,
}

impl std::fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

impl std::error::Error for ErrorReply {}

/// An asynchronous QMP client, independent of the transport.
///
/// Implemented by `qmp-client`'s tokio client, and by anything else that
/// can send a command and await its reply (a mock in tests, a proxy).
pub trait Client: Send + Sync {
    /// The error type: transport, protocol, decode and QMP errors.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends a command and waits for its typed reply.
    fn execute<C: Command>(
        &self,
        command: C,
    ) -> impl Future<Output = Result<C::Returns, Self::Error>> + Send;
}

/// A blocking QMP client, independent of the transport.
pub trait ClientBlocking {
    /// The error type: transport, protocol, decode and QMP errors.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends a command and waits for its typed reply.
    fn execute<C: Command>(&self, command: C) -> Result<C::Returns, Self::Error>;
}
