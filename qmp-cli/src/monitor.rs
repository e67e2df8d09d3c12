//! What the interactive commands need from a QMP connection: run a command
//! by name with JSON arguments, and receive what the server sends on its
//! own (events, and lines that could not be understood).

use std::sync::mpsc::Receiver;

use serde_json::Value;
use thiserror::Error;

/// A failed command.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MonitorError {
    /// The server answered with an error reply.
    #[error("{class}: {desc}")]
    Qmp {
        /// Error class, e.g. `CommandNotFound`.
        class: String,
        /// Description.
        desc: String,
    },
    /// The connection failed or closed.
    #[error("{0}")]
    Connection(String),
    /// The server sent something that is not a valid reply.
    #[error("protocol: {0}")]
    Protocol(String),
}

impl MonitorError {
    /// Whether the command does not exist on this server.
    pub fn is_command_not_found(&self) -> bool {
        matches!(self, MonitorError::Qmp { class, .. } if class == "CommandNotFound")
    }
}

/// Something the server sent that is not a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// An event message, as received.
    Event(Value),
    /// A line that is not a valid QMP message: its text and why.
    Bad {
        /// The text received (possibly truncated).
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The connection ended.
    Closed(String),
}

/// A connected monitor.
pub trait Monitor: Send + Sync {
    /// Runs `name` with `args` (an object, or `None`) and returns the
    /// `return` value.
    fn execute(&self, name: &str, args: Option<Value>) -> Result<Value, MonitorError>;
}

/// A monitor and its stream of unsolicited messages.
pub struct Connection {
    /// Runs commands.
    pub monitor: Box<dyn Monitor>,
    /// Events and diagnostics, in arrival order.
    pub notices: Receiver<Notice>,
    /// The server's greeting, if it sent one.
    pub greeting: Option<Value>,
}
