//! Reconnecting after the connection drops (opt-in, promise P21).
//!
//! With a [`ReconnectPolicy`] on the [`Builder`](crate::Builder), a client
//! connected with `connect_unix*` or `connect_tcp*` survives the server
//! going away (QEMU killed and restarted on the same socket):
//!
//! * calls in flight when the connection drops fail with
//!   [`Error::Disconnected`] (whatever the transport said: EOF, `ECONNRESET`,
//!   `EPIPE`, a write timeout); the exact cause is in the notice below;
//! * calls made while the client is reconnecting **fail fast** with
//!   [`Error::Disconnected`] (nothing is queued for a server that may never
//!   come back, and a command is never run twice); retry after the
//!   [`ClientEvent::Reconnected`] notice or [`Qmp::wait_connected`](crate::Qmp::wait_connected);
//! * the client reconnects with exponential backoff (with jitter by
//!   default) and re-runs the greeting and the `qmp_capabilities`
//!   negotiation with the same capabilities as the first connection; if
//!   the capabilities were fetched ([`crate::Capabilities`]), they are
//!   fetched again from the new server;
//! * event consumers using [`ClientEvent`] see
//!   [`ClientEvent::Reconnected`] between the events of the old and the new
//!   connection; consumers of plain events see no marker (raw QEMU events
//!   are never altered or invented) and simply continue;
//! * once the policy gives up (`max_attempts` failed attempts in a row),
//!   the client is closed with the last attempt's error
//!   ([`closed`](crate::Qmp::closed)), like a client without a policy.
//!
//! A connection closed for a protocol violation (a message over the size
//! limit, malformed JSON) is unusable too and is replaced the same way; its
//! in-flight calls get that error rather than `Disconnected`.
//!
//! Ids stay monotonic across connections, so no reply of an old
//! connection can ever be taken for one of the new. Per-connection state
//! starts afresh: [`Stats`](crate::Stats) counters, the `oob` negotiation
//! (`oob_enabled()`); `greeting()` keeps the first connection's greeting.

use std::time::Duration;

use crate::error::Error;
use crate::events::{EventError, FromRawEvent};
use crate::proto::RawEvent;

/// When and how often to reconnect after the connection drops. Off unless
/// set with [`Builder::reconnect`](crate::Builder::reconnect).
///
/// ```
/// use std::time::Duration;
/// use qmp_client::ReconnectPolicy;
/// let p = ReconnectPolicy::exponential(Duration::from_millis(100), Duration::from_secs(5))
///     .max_attempts(10);
/// assert_eq!(p.base_delay(1), Duration::from_millis(100));
/// assert_eq!(p.base_delay(3), Duration::from_millis(400));
/// assert_eq!(p.base_delay(20), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    initial: Duration,
    max: Duration,
    max_attempts: Option<u32>,
    jitter: bool,
}

impl ReconnectPolicy {
    /// Waits `initial` before the first attempt, doubling after each
    /// failed attempt up to `max`; unlimited attempts, jitter on.
    pub fn exponential(initial: Duration, max: Duration) -> Self {
        ReconnectPolicy {
            initial,
            max: max.max(initial),
            max_attempts: None,
            jitter: true,
        }
    }

    /// Gives up after `n` failed attempts in a row (at least 1); the
    /// client is then closed with the last attempt's error.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }

    /// Randomises each delay to between half and all of its base value
    /// (on by default), so that many clients of one restarted server do
    /// not reconnect in lockstep.
    pub fn jitter(mut self, enable: bool) -> Self {
        self.jitter = enable;
        self
    }

    /// The configured attempt limit (`None`: unlimited).
    pub fn attempts_limit(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The delay before attempt `attempt` (1-based) without jitter:
    /// `initial * 2^(attempt-1)`, capped at `max`.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The delay before attempt `attempt`, jittered if enabled.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let base = self.base_delay(attempt);
        if !self.jitter || base.is_zero() {
            return base;
        }
        // Uniform in [base/2, base]: a fresh pseudo-random value per call
        // (time, pid and a counter), good enough to spread clients apart.
        let r = (crate::shared::sync_value() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        let frac = r as f64 / (1u64 << 53) as f64;
        base.mul_f64(0.5 + 0.5 * frac)
    }

    /// Whether attempt `attempt` may be made.
    pub(crate) fn allows(&self, attempt: u32) -> bool {
        self.max_attempts.is_none_or(|m| attempt <= m)
    }
}

/// Where a reconnecting client connects again.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A Unix socket path.
    Unix(std::path::PathBuf),
    /// TCP addresses, resolved at the first connect.
    Tcp(Vec<std::net::SocketAddr>),
}

/// An item of an event stream that also reports the client's own
/// connection changes ([`crate::Qmp::client_events`],
/// [`crate::blocking::Qmp::client_events`], or `events_as::<ClientEvent<E>>()`).
/// QEMU's events are passed through unchanged as `Event`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientEvent<E = RawEvent> {
    /// An event from QEMU.
    Event(E),
    /// The connection dropped and the client connected again (greeting and
    /// negotiation done): events after this come from the new connection.
    Reconnected {
        /// Which attempt succeeded (1 for the first after the drop).
        attempt: u32,
        /// Why the previous connection ended.
        reason: Error,
    },
}

impl<E: FromRawEvent> FromRawEvent for ClientEvent<E> {
    fn from_raw(raw: RawEvent) -> Result<Self, EventError> {
        E::from_raw(raw).map(ClientEvent::Event)
    }

    fn from_notice(notice: &Notice) -> Option<Self> {
        match notice {
            Notice::Reconnected { attempt, reason } => Some(ClientEvent::Reconnected {
                attempt: *attempt,
                reason: reason.clone(),
            }),
        }
    }
}

/// A connection change, queued in order with the events (what
/// [`FromRawEvent::from_notice`] receives).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Notice {
    /// See [`ClientEvent::Reconnected`].
    Reconnected {
        /// Which attempt succeeded.
        attempt: u32,
        /// Why the previous connection ended.
        reason: Error,
    },
}

/// The error in-flight calls get when a reconnecting client loses its
/// connection: [`Error::Disconnected`] for every transport failure.
pub(crate) fn for_calls(e: &Error) -> Error {
    match e {
        Error::Disconnected { partial } => Error::Disconnected { partial: *partial },
        e if e.is_connection_lost() => Error::Disconnected { partial: false },
        e => e.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_within_half() {
        let p = ReconnectPolicy::exponential(Duration::from_millis(10), Duration::from_millis(70));
        let base: Vec<u64> = (1..=5)
            .map(|a| p.base_delay(a).as_millis() as u64)
            .collect();
        assert_eq!(base, [10, 20, 40, 70, 70]);
        assert_eq!(p.base_delay(u32::MAX), Duration::from_millis(70));
        for a in 1..=5 {
            for _ in 0..50 {
                let d = p.delay(a);
                assert!(d <= p.base_delay(a) && d >= p.base_delay(a) / 2, "{d:?}");
            }
        }
        let fixed = p.jitter(false);
        assert_eq!(fixed.delay(2), Duration::from_millis(20));
        assert!(p.allows(1_000_000));
        let limited = p.max_attempts(3);
        assert!(limited.allows(3) && !limited.allows(4));
        assert_eq!(
            ReconnectPolicy::exponential(Duration::ZERO, Duration::ZERO).delay(9),
            Duration::ZERO
        );
    }

    #[test]
    fn calls_get_disconnected_for_transport_failures_only() {
        let io = Error::io(
            crate::IoOp::Read,
            std::io::ErrorKind::ConnectionReset.into(),
        );
        assert!(matches!(
            for_calls(&io),
            Error::Disconnected { partial: false }
        ));
        assert!(matches!(
            for_calls(&Error::Disconnected { partial: true }),
            Error::Disconnected { partial: true }
        ));
        assert!(matches!(
            for_calls(&Error::MessageTooLarge { limit: 1 }),
            Error::MessageTooLarge { limit: 1 }
        ));
    }
}
