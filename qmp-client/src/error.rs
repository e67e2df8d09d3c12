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

impl std::fmt::Display for TimeoutKind {
    /// What was being waited for: `timed out {kind}` reads as a sentence.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connecting to the socket",
            TimeoutKind::Handshake => {
                "waiting for the server's greeting and capability negotiation"
            }
            TimeoutKind::Reply => "waiting for the reply",
            TimeoutKind::Write => "writing a command (the server stopped reading)",
            TimeoutKind::Event => "waiting for an event",
        })
    }
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

/// The JSON text of a reply that did not decode, exactly as received
/// ([`Error::Decode`]). Cheap to clone; derefs to `str`. Its `Debug` form
/// shows at most the first 256 bytes (a reply can be megabytes).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Undecoded(Arc<str>);

impl Undecoded {
    /// The whole text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Undecoded {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Undecoded {
    fn from(s: &str) -> Self {
        Undecoded(s.into())
    }
}

impl std::fmt::Debug for Undecoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 256;
        if self.0.len() <= SHOWN {
            return std::fmt::Debug::fmt(&*self.0, f);
        }
        let end = (0..=SHOWN)
            .rev()
            .find(|&i| self.0.is_char_boundary(i))
            .unwrap_or(0);
        write!(f, "{:?}... ({} bytes)", &self.0[..end], self.0.len())
    }
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
    /// type. Only this call fails; the connection stays usable, and the
    /// reply is not lost: `reply` holds it as received.
    #[error("cannot decode the reply of `{command}` at `{path}`: {message}")]
    Decode {
        /// The command's wire name.
        command: String,
        /// JSON path of the offending value inside `return`, e.g. `.status`.
        path: String,
        /// serde's description.
        message: String,
        /// The JSON text that did not decode, exactly as received: the
        /// reply's `return` value (for an event, the whole message).
        reply: Undecoded,
    },
    /// A reply or event holds a JSON value that [`serde_json::Value`]
    /// cannot represent exactly: a lone UTF-16 surrogate escape
    /// (`"\ud800"`) or a number outside the `f64` range (`1e400`). The
    /// message is valid JSON text and is kept verbatim in `raw`; nothing
    /// is replaced (use the raw text, e.g. [`crate::RawReply::json`], to
    /// see it). Only this call or event is affected.
    #[error(
        "{what}: cannot represent the value at `{path}` (byte {offset} of the message): {message}"
    )]
    Unrepresentable {
        /// What held the value: ``reply of `query-foo` `` or `event FOO`.
        what: String,
        /// JSON path of the value inside the message (`.return.a[2]`,
        /// `.data.name`).
        path: String,
        /// Byte offset of the value in the message text.
        offset: usize,
        /// serde_json's description (`lone leading surrogate in hex
        /// escape`, `number out of range`).
        message: String,
        /// The whole message, verbatim.
        raw: Arc<str>,
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
    /// A connection was requested while the client is connected (P21):
    /// nothing was done, the connection is untouched.
    #[error("the client is already connected")]
    AlreadyConnected,
    /// A wait timed out. For [`TimeoutKind::Reply`] the connection stays
    /// usable and a late reply is discarded.
    #[error("timed out {0}")]
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
    /// The live QEMU lacks what the call uses (the command, an argument
    /// member or an enum value); the call was not sent. Only with
    /// [`Builder::check_capabilities`](crate::Builder::check_capabilities)
    /// (or [`Capabilities::check`](crate::Capabilities::check)).
    #[error("{0}")]
    Unsupported(Box<crate::caps::Unsupported>),
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

    /// The call was refused before sending because the live QEMU lacks
    /// what it uses ([`Error::Unsupported`]).
    pub fn unsupported(&self) -> Option<&crate::caps::Unsupported> {
        match self {
            Error::Unsupported(u) => Some(u),
            _ => None,
        }
    }

    /// Whether this is [`Error::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported(_))
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

    /// Whether the connection to the server was lost: the server closed
    /// it ([`Error::Disconnected`]), reading or writing failed, or a write
    /// timed out. A client with a
    /// [`ReconnectPolicy`](crate::ReconnectPolicy) reconnects after these.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Error::Disconnected { .. }
                | Error::Io {
                    op: IoOp::Read | IoOp::Write,
                    ..
                }
                | Error::Timeout(TimeoutKind::Write)
        )
    }

    /// A timeout of any kind.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// For [`Error::Decode`]: the JSON text that did not decode, exactly as
    /// received (see [`Error::Decode::reply`]).
    pub fn undecoded(&self) -> Option<&str> {
        match self {
            Error::Decode { reply, .. } => Some(reply.as_str()),
            _ => None,
        }
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
                | Error::Unrepresentable { .. }
                | Error::Timeout(TimeoutKind::Reply | TimeoutKind::Event)
                | Error::Encode { .. }
                | Error::Unsupported(_)
                | Error::OobNotEnabled
                | Error::FdPassingUnsupported
                | Error::AlreadyConnected
        )
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecoded_debug_is_bounded_and_display_omits_it() {
        let short = Undecoded::from(r#"{"a":1}"#);
        assert_eq!(format!("{short:?}"), r#""{\"a\":1}""#);
        let long = "é".repeat(1000); // 2000 bytes, 2-byte chars
        let u = Undecoded::from(long.as_str());
        let dbg = format!("{u:?}");
        assert!(dbg.ends_with("... (2000 bytes)"), "{dbg}");
        assert!(dbg.len() < 300, "{}", dbg.len());
        assert_eq!(u.as_str(), long);
        let e = Error::Decode {
            command: "query-x".into(),
            path: ".a".into(),
            message: "expected a boolean".into(),
            reply: u,
        };
        assert_eq!(e.undecoded(), Some(long.as_str()));
        assert!(!e.to_string().contains('é'), "{e}");
        assert!(format!("{e:?}").len() < 500);
        assert!(!e.is_fatal());
    }
}
