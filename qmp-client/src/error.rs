//! The client's one error type.

use std::sync::Arc;

use crate::error_class::{ErrorClass, ErrorReply};

/// What went wrong at the protocol level (the peer broke the QMP framing
/// or message rules). Always fatal for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// A byte that cannot start a message appeared between messages.
    UnexpectedByte(u8),
    /// A message is not valid JSON (or not an object); the text is
    /// serde_json's description.
    Malformed(String),
    /// A message is valid JSON but not a valid QMP message (for example a
    /// reply carrying both `return` and `error`).
    InvalidMessage(String),
}

impl std::fmt::Display for ProtocolErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolErrorKind::UnexpectedByte(b) => {
                write!(f, "unexpected byte 0x{b:02x} between messages")
            }
            ProtocolErrorKind::Malformed(m) => write!(f, "malformed JSON: {m}"),
            ProtocolErrorKind::InvalidMessage(m) => write!(f, "invalid message: {m}"),
        }
    }
}

/// Which wait timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the socket connection.
    Connect,
    /// Waiting for the greeting and capability negotiation (or the guest
    /// agent's sync reply).
    Handshake,
    /// Waiting for a command's reply.
    Reply,
    /// Writing to the socket (the server stopped reading).
    Write,
    /// Waiting for an event.
    Event,
}

/// The I/O operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoOp {
    /// Connecting.
    Connect,
    /// Reading from the server.
    Read,
    /// Writing to the server (P17: EPIPE, ECONNRESET...).
    Write,
}

/// Every error this crate returns. Cheap to clone: one connection failure
/// is handed to every caller that was waiting.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered the command with an error reply.
    #[error("QMP error {}: {}", .0.class, .0.desc)]
    Qmp(ErrorReply),
    /// The reply arrived but does not match the command's declared return
    /// type. Only this call fails; the connection stays usable.
    #[error("cannot decode the reply of `{command}` at `{path}`: {message}")]
    Decode {
        /// The command's wire name.
        command: String,
        /// JSON path of the offending value inside `return`, e.g. `.status`.
        path: String,
        /// serde's description.
        message: String,
    },
    /// A reply for this command was malformed (e.g. an `error` member
    /// without a string `class`). Only this call fails.
    #[error("bad reply to `{command}`: {reason}")]
    BadReply {
        /// The command's wire name.
        command: String,
        /// What is wrong.
        reason: String,
    },
    /// The peer broke the protocol; the connection is closed.
    #[error("protocol error at byte {offset}: {kind}")]
    Protocol {
        /// What went wrong.
        kind: ProtocolErrorKind,
        /// Offset in the received stream (start of the offending message).
        offset: u64,
    },
    /// The server sent an error without `id` while commands were in
    /// flight: it could not parse our input. All in-flight commands fail
    /// with this error and the connection is closed (P9).
    #[error("the server could not parse a request: {0}")]
    ServerParse(ErrorReply),
    /// The connection ended. `partial` is true when it ended in the middle
    /// of a message (that message was discarded, never parsed as complete).
    #[error("disconnected{}", if *.partial { " in the middle of a message" } else { "" })]
    Disconnected {
        /// Whether a partial message was pending.
        partial: bool,
    },
    /// The client was closed by its owner.
    #[error("the client was closed")]
    Closed,
    /// A wait timed out. For [`TimeoutKind::Reply`] the connection stays
    /// usable and a late reply is discarded.
    #[error("timed out ({0:?})")]
    Timeout(TimeoutKind),
    /// A message exceeded the size limit; the connection is closed.
    #[error("message larger than {limit} bytes")]
    MessageTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A message nested deeper than the limit; the connection is closed.
    #[error("message nested deeper than {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A message is not valid UTF-8; the connection is closed.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset in the received stream.
        offset: u64,
    },
    /// The greeting was missing or invalid.
    #[error("bad greeting: {0}")]
    Greeting(String),
    /// Capability negotiation failed.
    #[error("capability negotiation failed: {0}")]
    Negotiation(String),
    /// The guest agent's `guest-sync-delimited` did not echo our value.
    #[error("guest agent sync failed: {0}")]
    GuestSync(String),
    /// `exec-oob` was requested but the `oob` capability is not enabled.
    #[error("out-of-band execution is not enabled on this connection")]
    OobNotEnabled,
    /// File descriptors can only be passed over Unix sockets.
    #[error("file descriptor passing needs a Unix socket transport")]
    FdPassingUnsupported,
    /// The command's arguments could not be serialized.
    #[error("cannot encode arguments of `{command}`: {message}")]
    Encode {
        /// The command's wire name.
        command: String,
        /// serde's description.
        message: String,
    },
    /// An I/O error.
    #[error("I/O error while {}: {source}", match .op { IoOp::Connect => "connecting", IoOp::Read => "reading", IoOp::Write => "writing", })]
    Io {
        /// The operation.
        op: IoOp,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },
}

impl Error {
    pub(crate) fn io(op: IoOp, e: std::io::Error) -> Self {
        Error::Io {
            op,
            source: Arc::new(e),
        }
    }

    /// The QMP error reply, if the server answered with one.
    pub fn qmp_error(&self) -> Option<&ErrorReply> {
        match self {
            Error::Qmp(e) => Some(e),
            _ => None,
        }
    }

    /// The QMP error class (`GenericError`, `CommandNotFound`, ...), if the
    /// server answered with an error.
    pub fn class(&self) -> Option<&ErrorClass> {
        self.qmp_error().map(|e| &e.class)
    }

    /// The server does not know the command (older QEMU, or a command not
    /// compiled in): class `CommandNotFound`.
    pub fn is_command_not_found(&self) -> bool {
        matches!(self.class(), Some(ErrorClass::CommandNotFound))
    }

    /// Class `GenericError`.
    pub fn is_generic_error(&self) -> bool {
        matches!(self.class(), Some(ErrorClass::GenericError))
    }

    /// Class `DeviceNotFound`.
    pub fn is_device_not_found(&self) -> bool {
        matches!(self.class(), Some(ErrorClass::DeviceNotFound))
    }

    /// Class `DeviceNotActive`.
    pub fn is_device_not_active(&self) -> bool {
        matches!(self.class(), Some(ErrorClass::DeviceNotActive))
    }

    /// Class `KVMMissingCap`.
    pub fn is_kvm_missing_cap(&self) -> bool {
        matches!(self.class(), Some(ErrorClass::KVMMissingCap))
    }

    /// A timeout of any kind.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// Whether the connection is unusable after this error (as opposed to
    /// errors that concern one call: QMP error replies, decode errors, bad
    /// replies, reply timeouts, encode errors).
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Error::Qmp(_)
                | Error::Decode { .. }
                | Error::BadReply { .. }
                | Error::Timeout(TimeoutKind::Reply | TimeoutKind::Event)
                | Error::Encode { .. }
                | Error::OobNotEnabled
                | Error::FdPassingUnsupported
        )
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
