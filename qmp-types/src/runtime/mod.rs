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
//! * Generated types decode with `serde` visitors that read straight from
//!   the deserializer ([`ObjectType`] for objects, helpers below) and
//!   serialize straight to the serializer (an object's members listed once
//!   for a [`Members`] writer); [`ToJson`] builds a [`Value`] from the
//!   same members and [`FromJson`] decodes a [`Value`] at hand.
//!   The macros [`impl_object!`], [`impl_enum!`],
//!   [`impl_json!`], [`impl_command!`], [`impl_meta!`], [`impl_requests!`]
//!   and [`impl_events!`] implement them (and `serde`, `schemars`) for
//!   generated types, one invocation per definition.
//!
//! Everything is used through this module (`qmp_types::runtime`, `rt` in
//! generated code); the files behind it, one concern each:
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the traits above, [`Empty`], [`Null`], [`Timestamp`], [`ErrorReply`], [`Call`] |
//! | `decode.rs` | decoding: [`DecodeError`], [`FromJson`], [`ObjectType`], member helpers |
//! | `buffer.rs` | [`Buffered`]: a member value recorded as tokens and replayed later |
//! | `union.rs` | flat unions whose discriminator comes late: [`union_members`], [`UnionRest`] |
//! | `ser.rs` | encoding: [`Members`] writers for `Serialize` and [`ToJson`] |
//! | `events.rs` | [`EventMessage`] and [`Envelope`]: `{"event", "data"}` and `{"execute", "arguments"}` |
//! | `meta.rs` | [`CommandInfo`], [`EventInfo`] and the JSON Schema helpers |
//! | `macros.rs` | the `impl_*!` macros the generated code invokes |

use std::future::Future;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod buffer;
mod decode;
mod events;
mod macros;
mod meta;
mod ser;
#[cfg(test)]
mod tests;
mod union;

pub use buffer::Buffered;
pub use decode::*;
pub use events::*;
pub use macros::*;
pub use meta::*;
pub use ser::*;
pub use union::*;

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

/// QAPI's built-in type `null`: only the JSON value `null`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Null;

impl Serialize for Null {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Null {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NullVisitor;
        impl Visitor<'_> for NullVisitor {
            type Value = Null;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Null, E> {
                Ok(Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Null, E> {
                Ok(Null)
            }
        }
        deserializer.deserialize_unit(NullVisitor)
    }
}

// ---------------------------------------------------------------------------
// Calling commands through the generated extension traits.

/// A command call on an asynchronous client, returned by the generated
/// `ClientExt` methods: `.await` it (it implements [`IntoFuture`]).
///
/// [`IntoFuture`]: std::future::IntoFuture
#[must_use = "a command call does nothing until awaited"]
#[derive(Debug)]
pub struct Call<'a, T: ?Sized, C> {
    client: &'a T,
    command: C,
}

impl<'a, T: Client + ?Sized, C: Command + 'a> Call<'a, T, C> {
    /// A call of `command` on `client`.
    pub fn new(client: &'a T, command: C) -> Self {
        Self { client, command }
    }

    /// The command that will be sent.
    pub fn command(&self) -> &C {
        &self.command
    }

    /// The command, without sending it.
    pub fn into_command(self) -> C {
        self.command
    }
}

impl<'a, T: Client + ?Sized, C: Command + 'a> std::future::IntoFuture for Call<'a, T, C> {
    type Output = Result<C::Returns, T::Error>;
    type IntoFuture = std::pin::Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.client.execute(self.command))
    }
}

// Re-exports for the generated code (so crates that include generated
// bindings need no direct dependency on these).
pub use schemars;
pub use serde;
pub use serde_json;
pub use serde_json::Map;
