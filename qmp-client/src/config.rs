//! Connection options.

use std::time::Duration;

use crate::proto::{Limits, Mode, ProtoConfig};

/// Options for a connection; finish with one of the `connect*` methods
/// (async ones in [`crate::Qmp`]'s module, `*_blocking` ones for
/// [`crate::blocking::Qmp`]).
///
/// Defaults: QMP mode, `oob` not requested, 16 MiB / depth 128 limits,
/// connect and handshake timeouts 10 s, no per-command timeout, write
/// timeout 30 s, event buffer 1024.
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) proto: ProtoConfig,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) handshake_timeout: Option<Duration>,
    pub(crate) command_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) event_capacity: usize,
    pub(crate) check_capabilities: bool,
    pub(crate) reconnect: Option<crate::ReconnectPolicy>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            proto: ProtoConfig::default(),
            connect_timeout: Some(Duration::from_secs(10)),
            handshake_timeout: Some(Duration::from_secs(10)),
            command_timeout: None,
            write_timeout: Some(Duration::from_secs(30)),
            event_capacity: 1024,
            check_capabilities: false,
            reconnect: None,
        }
    }
}

impl Builder {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Talk to a guest agent (`qemu-ga`): no greeting or negotiation; the
    /// handshake is a `guest-sync-delimited` exchange.
    pub fn guest_agent(mut self) -> Self {
        self.proto.mode = Mode::GuestAgent;
        self
    }

    /// The protocol variant.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.proto.mode = mode;
        self
    }

    /// Enable the `oob` capability if the server offers it (it does only
    /// on monitors with an I/O thread: `-chardev socket,...` +
    /// `-mon chardev=...,mode=control`).
    pub fn oob(mut self, enable: bool) -> Self {
        self.proto.oob = enable;
        self
    }

    /// Message limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.proto.limits = limits;
        self
    }

    /// Maximum size of one message.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.proto.limits.max_message_bytes = n;
        self
    }

    /// Maximum nesting depth of one message.
    pub fn max_depth(mut self, n: usize) -> Self {
        self.proto.limits.max_depth = n;
        self
    }

    /// Timeout for establishing the socket connection (`None`: wait
    /// forever).
    pub fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Timeout for the greeting + negotiation (or guest-agent sync).
    pub fn handshake_timeout(mut self, t: Option<Duration>) -> Self {
        self.handshake_timeout = t;
        self
    }

    /// Default timeout for each command's reply (`None`: wait forever).
    pub fn command_timeout(mut self, t: Option<Duration>) -> Self {
        self.command_timeout = t;
        self
    }

    /// Timeout for writing one message (a server that stops reading).
    /// When it fires the connection is closed.
    pub fn write_timeout(mut self, t: Option<Duration>) -> Self {
        self.write_timeout = t;
        self
    }

    /// Capacity of the event buffer; when full the oldest event is dropped
    /// and consumers see [`crate::EventError::Lagged`].
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n.max(1);
        self
    }

    /// Refuse calls that use what the live QEMU lacks, before sending
    /// them: the command, an argument member (at any depth, union branches
    /// and arrays included) or an enum value, with
    /// [`Error::Unsupported`](crate::Error::Unsupported). The live schema
    /// (`query-qmp-schema` + `query-version`) is fetched on the first
    /// checked call and cached; later calls cost no round trip. Off by
    /// default; ignored for a guest agent (it has no schema to ask).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), qmp_client::Error> {
    /// let qmp = qmp_client::Qmp::builder()
    ///     .check_capabilities(true)
    ///     .connect_unix("/run/vm/qmp.sock")
    ///     .await?;
    /// match qmp.call(qmp_types::QueryStatsSchemas::new()).await {
    ///     Err(e) if e.is_unsupported() => eprintln!("{e}"),
    ///     // "`query-stats-schemas` is not supported by QEMU 5.2.0 (added in QEMU 7.1)"
    ///     other => {
    ///         other?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn check_capabilities(mut self, enable: bool) -> Self {
        self.check_capabilities = enable;
        self
    }

    /// Reconnect after the connection is lost, per `policy` (off by
    /// default). Applies to clients connected with `connect_unix*` or
    /// `connect_tcp*` in QMP mode (the client knows where to connect
    /// again); the first connection's failure is still returned by
    /// `connect*`. In-flight calls fail with
    /// [`Error::Disconnected`](crate::Error::Disconnected), calls made
    /// while reconnecting fail fast with it, and
    /// [`ClientEvent::Reconnected`](crate::ClientEvent::Reconnected) marks
    /// the new connection in the event stream. See
    /// [`crate::reconnect`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), qmp_client::Error> {
    /// use std::time::Duration;
    /// use qmp_client::{ClientEvent, Qmp, ReconnectPolicy};
    /// let qmp = Qmp::builder()
    ///     .reconnect(
    ///         ReconnectPolicy::exponential(Duration::from_millis(100), Duration::from_secs(5))
    ///             .max_attempts(20),
    ///     )
    ///     .connect_unix("/run/vm/qmp.sock")
    ///     .await?;
    /// let mut events = qmp.client_events();
    /// while let Some(item) = events.next().await {
    ///     match item {
    ///         Ok(ClientEvent::Event(ev)) => println!("{}", ev.name()),
    ///         Ok(ClientEvent::Reconnected { attempt, reason }) => {
    ///             println!("reconnected (attempt {attempt}) after: {reason}")
    ///         }
    ///         Ok(_) => {}
    ///         Err(e) => eprintln!("{e}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn reconnect(mut self, policy: crate::ReconnectPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }
}

/// The options of one call, as set on a request builder
/// ([`crate::Request`], [`crate::blocking::Request`] and their raw
/// counterparts).
#[derive(Debug, Default)]
pub(crate) struct CallOpts {
    /// `None`: the builder's [`Builder::command_timeout`]; `Some(t)`: `t`
    /// (`Some(None)`: no timeout).
    pub(crate) timeout: Option<Option<Duration>>,
    pub(crate) fds: Vec<std::os::fd::OwnedFd>,
    pub(crate) oob: bool,
}

impl CallOpts {
    /// The reply timeout, given the connection's default.
    pub(crate) fn timeout_or(&self, default: Option<Duration>) -> Option<Duration> {
        self.timeout.unwrap_or(default)
    }
}
