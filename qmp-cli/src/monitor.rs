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
    /// This many events were dropped because they were not read in time.
    Lagged(u64),
    /// The connection ended.
    Closed(String),
}

/// A connected monitor.
pub trait Monitor: Send + Sync {
    /// Runs `name` with `args` (an object, or `None`) and returns the
    /// `return` value.
    fn execute(&self, name: &str, args: Option<Value>) -> Result<Value, MonitorError>;

    /// Runs `name` out of band (`exec-oob`).
    fn execute_oob(&self, name: &str, args: Option<Value>) -> Result<Value, MonitorError> {
        self.execute(name, args)
    }

    /// Whether the connection is finished (no further command can run).
    fn is_closed(&self) -> bool {
        false
    }
}

/// A monitor and its stream of unsolicited messages.
pub struct Connection {
    /// Runs commands.
    pub monitor: Box<dyn Monitor>,
    /// Events and diagnostics, in arrival order.
    pub notices: Receiver<Notice>,
    /// The server's version from its greeting (`10.0.2`), if it sent one.
    pub version: Option<String>,
}

fn monitor_error(e: qmp_client::Error) -> MonitorError {
    use qmp_client::Error as E;
    match e {
        E::Qmp(r) => MonitorError::Qmp {
            class: r.class.to_string(),
            desc: r.desc,
        },
        e @ (E::Disconnected { .. } | E::Closed | E::Io { .. }) => {
            MonitorError::Connection(e.to_string())
        }
        other => MonitorError::Protocol(other.to_string()),
    }
}

/// A connected client and its reply timeout.
pub struct Client {
    /// The connection.
    pub qmp: qmp_client::blocking::Qmp,
    /// The reply timeout it was built with (for messages).
    pub timeout: Option<std::time::Duration>,
}

impl Client {
    fn outcome(
        &self,
        name: &str,
        r: Result<Value, qmp_client::Error>,
    ) -> Result<Value, MonitorError> {
        match r {
            Err(e @ qmp_client::Error::Timeout(qmp_client::TimeoutKind::Reply)) => {
                // QMP answers in order: a monitor that does not answer one
                // command in time will not answer the next ones either.
                // Give up on it, so that no later command waits again.
                self.qmp.close();
                let secs = self.timeout.map_or(0.0, |t| t.as_secs_f64());
                Err(MonitorError::Connection(format!(
                    "{e} to `{name}` after {secs} s: the monitor stopped answering (--timeout sets the limit)"
                )))
            }
            r => r.map_err(monitor_error),
        }
    }
}

impl Monitor for Client {
    fn execute(&self, name: &str, args: Option<Value>) -> Result<Value, MonitorError> {
        self.outcome(name, self.qmp.call_raw(name, args))
    }

    fn execute_oob(&self, name: &str, args: Option<Value>) -> Result<Value, MonitorError> {
        self.outcome(name, self.qmp.request_raw(name, args).oob().send())
    }

    fn is_closed(&self) -> bool {
        self.qmp.closed().is_some()
    }
}

/// Wraps a connected client: forwards its events to
/// [`Connection::notices`].
pub fn connection(client: Client) -> Connection {
    let qmp = &client.qmp;
    let version = qmp.greeting().map(|g| {
        let q = &g.version.qemu;
        format!("{}.{}.{}", q.major, q.minor, q.micro)
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let events = qmp.events_as::<Value>();
    std::thread::spawn(move || {
        for item in events {
            let notice = match item {
                Ok(v) => Notice::Event(v),
                Err(qmp_client::EventError::Closed(e)) => Notice::Closed(e.to_string()),
                Err(qmp_client::EventError::Lagged(n)) => Notice::Lagged(n),
                Err(qmp_client::EventError::Decode { error, raw }) => Notice::Bad {
                    text: raw.message().chars().take(200).collect(),
                    reason: error.to_string(),
                },
            };
            if tx.send(notice).is_err() {
                return;
            }
        }
    });
    Connection {
        monitor: Box::new(client),
        notices: rx,
        version,
    }
}
