//! The one place where the `qmp` subcommands talk to QEMU: a thin layer
//! over [`qmp_client::blocking::Qmp`] that adds what a command-line tool
//! needs on top of the library — one connect path for every subcommand
//! (Unix or TCP, QMP or guest agent, OOB when offered), a monitor that
//! stops answering is given up on (so no later command waits again), and
//! errors that say which command waited how long.
//!
//! Typed commands go through [`Client::call`] (the generated bindings,
//! typed replies); arbitrary commands through [`Client::call_raw`], whose
//! reply is kept as the server's text (nothing is re-encoded or replaced).
//! Every command the CLI sends to QEMU goes through this file (`qmp
//! record`'s proxy only forwards what its client sends).

use std::sync::Arc;
use std::time::Duration;

use qmp_client::blocking::{Events, Qmp};
use qmp_client::{Builder, Error, ErrorReply, RawReply, TimeoutKind, TypedEvent};
use qmp_types::Command;
use serde_json::Value;

use crate::cmd::shell::schema::Schema;
use crate::cmd::target::Address;
use crate::validate::LiveSchema;

/// How to connect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Limit for connecting, the greeting and negotiation, and each reply
    /// (`None`: no limit).
    pub timeout: Option<Duration>,
    /// The socket is a guest agent's (`qemu-ga`).
    pub guest_agent: bool,
    /// Negotiate out-of-band execution when the server offers it.
    pub oob: bool,
}

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// QEMU answered with an error reply.
    #[error("{0}")]
    Qmp(ErrorReply),
    /// No reply in time: the connection was given up (QMP answers in
    /// order, so the next commands would not be answered either).
    #[error(
        "timed out waiting for the reply to `{command}` after {secs} s: the monitor stopped answering (--timeout sets the limit)"
    )]
    Timeout {
        /// The command that was not answered.
        command: String,
        /// The limit, in seconds.
        secs: f64,
    },
    /// The reply does not fit the bindings' type for the command.
    #[error("unexpected reply to {command}: {source}")]
    Decode {
        /// The command.
        command: String,
        /// The client's error ([`Error::Decode`]).
        source: Box<Error>,
    },
    /// The connection failed or closed, or the server broke the protocol.
    #[error("{0}")]
    Client(Box<Error>),
}

impl CallError {
    /// Whether the server does not have the command.
    pub fn is_command_not_found(&self) -> bool {
        matches!(self, CallError::Qmp(r) if r.class == qmp_client::ErrorClass::CommandNotFound)
    }
}

/// A connection to a QEMU monitor (or guest agent).
pub struct Client {
    qmp: Qmp,
    timeout: Option<Duration>,
}

/// Events decoded with the bindings where they fit (the raw message is
/// kept in each item, and in the error of one that does not fit).
pub type EventStream = Events<TypedEvent<qmp_types::Event>>;

impl Client {
    /// Connects to `addr`.
    pub fn connect(addr: &Address, opts: Options) -> Result<Client, Error> {
        let mut b = Builder::new()
            .oob(opts.oob)
            .connect_timeout(opts.timeout)
            .handshake_timeout(opts.timeout)
            .command_timeout(opts.timeout);
        if opts.guest_agent {
            b = b.guest_agent();
        }
        let qmp = match addr {
            Address::Unix(p) => b.connect_unix_blocking(p),
            Address::Tcp(a) => b.connect_tcp_blocking(a.as_str()),
        }?;
        Ok(Client {
            qmp,
            timeout: opts.timeout,
        })
    }

    /// The server's version from its greeting (`10.0.2`), if it sent one.
    pub fn version(&self) -> Option<String> {
        self.qmp.greeting().map(|g| {
            let q = &g.version.qemu;
            format!("{}.{}.{}", q.major, q.minor, q.micro)
        })
    }

    /// Runs a typed command and decodes its reply with the bindings.
    pub fn call<C: Command>(&self, command: C) -> Result<C::Returns, CallError> {
        let r = self.qmp.call(command);
        self.outcome(C::NAME, r)
    }

    /// Runs any command by name; the reply is kept as received.
    pub fn call_raw(&self, name: &str, args: Option<&Value>) -> Result<RawReply, CallError> {
        let r = self.qmp.request_raw(name, args.cloned()).send_reply();
        self.outcome(name, r)
    }

    /// Runs any command by name, out of band (`exec-oob`).
    pub fn call_raw_oob(&self, name: &str, args: Option<Value>) -> Result<Value, CallError> {
        let r = self.qmp.request_raw(name, args).oob().send();
        self.outcome(name, r)
    }

    fn outcome<T>(&self, name: &str, r: Result<T, Error>) -> Result<T, CallError> {
        r.map_err(|e| match e {
            Error::Qmp(r) => CallError::Qmp(r),
            Error::Timeout(TimeoutKind::Reply) => {
                self.qmp.close();
                CallError::Timeout {
                    command: name.to_owned(),
                    secs: self.timeout.map_or(0.0, |t| t.as_secs_f64()),
                }
            }
            e @ Error::Decode { .. } => CallError::Decode {
                command: name.to_owned(),
                source: Box::new(e),
            },
            e => CallError::Client(Box::new(e)),
        })
    }

    /// The live QEMU's schema (`query-qmp-schema`), the one the CLI checks
    /// arguments against. `Ok(None)`: this QEMU cannot be asked (no
    /// introspection: older than 2.5).
    pub fn live_schema(&self) -> Result<Option<LiveSchema>, CallError> {
        let reply = match self.call_raw("query-qmp-schema", None) {
            Ok(r) => r,
            Err(e) if e.is_command_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let model =
            qmp_schema::from_introspection_json("query-qmp-schema", reply.json()).map_err(|e| {
                CallError::Client(Box::new(Error::BadReply {
                    command: "query-qmp-schema".to_owned(),
                    reason: e.to_string(),
                }))
            })?;
        Ok(Some(LiveSchema::new(
            Arc::new(Schema::new(model)),
            self.version(),
        )))
    }

    /// Events as they arrive, typed where the bindings decode them.
    pub fn events(&self) -> EventStream {
        self.qmp.typed_events::<qmp_types::Event>()
    }

    /// Closes the connection.
    pub fn close(&self) {
        self.qmp.close();
    }

    /// Whether the connection is finished (no further command can run).
    pub fn is_closed(&self) -> bool {
        self.qmp.closed().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmp_client::testing::{FakeQemu, Script};
    use serde_json::json;

    fn connect(fake: &FakeQemu, timeout: Duration) -> Client {
        let opts = Options {
            timeout: Some(timeout),
            ..Options::default()
        };
        Client::connect(&Address::Unix(fake.socket().to_owned()), opts).unwrap()
    }

    #[test]
    fn a_silent_monitor_is_given_up_after_one_timeout() {
        let fake = FakeQemu::start(Script::new().expect("query-status").no_reply()).unwrap();
        let c = connect(&fake, Duration::from_millis(200));
        let e = c.call(qmp_types::QueryStatus).unwrap_err();
        assert!(matches!(&e, CallError::Timeout { command, .. } if command == "query-status"));
        assert_eq!(
            e.to_string(),
            "timed out waiting for the reply to `query-status` after 0.2 s: the monitor stopped \
             answering (--timeout sets the limit)"
        );
        assert!(c.is_closed());
        // The next command fails at once instead of waiting again.
        let start = std::time::Instant::now();
        assert!(matches!(
            c.call_raw("query-name", None),
            Err(CallError::Client(_))
        ));
        assert!(start.elapsed() < Duration::from_millis(150));
    }

    #[test]
    fn undecodable_typed_replies_keep_the_connection() {
        let fake = FakeQemu::start(
            Script::new()
                .version(9, 2, 1)
                .stub("query-name", json!({"name": 5}))
                .stub("x-vendor", json!({"n": [1, "a"]})),
        )
        .unwrap();
        let c = connect(&fake, Duration::from_secs(10));
        assert_eq!(c.version().as_deref(), Some("9.2.1"));
        // A typed reply that does not fit the bindings: a decode error
        // naming the command; the connection stays usable.
        let e = c.call(qmp_types::QueryName).unwrap_err();
        assert!(matches!(e, CallError::Decode { .. }));
        assert!(
            e.to_string()
                .starts_with("unexpected reply to query-name: "),
            "{e}"
        );
        assert!(!c.is_closed());
        let r = c.call_raw("x-vendor", None).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(r.json()).unwrap(),
            json!({"n": [1, "a"]})
        );
    }
}
