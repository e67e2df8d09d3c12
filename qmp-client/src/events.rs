//! Event consumers: an async [`Stream`](futures_core::Stream) here, an
//! iterator in [`crate::blocking`].
//!
//! All consumers of one connection share its single bounded buffer (each
//! event goes to one consumer). The buffer exists from the first byte of
//! the connection, so nothing is lost between connecting and subscribing
//! unless more than `event_capacity` events arrive meanwhile; then the
//! oldest are dropped and the next consumer call reports
//! [`EventError::Lagged`] with how many.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use qmp_types::{EventKind, Timestamp};

use crate::error::Error;
use crate::proto::RawEvent;
use crate::shared::{EventPoll, Shared, State};

/// Why an event consumer got no event.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EventError {
    /// This many events were dropped (oldest first) because the buffer was
    /// full; the consumer is now behind by zero.
    #[error("{0} events were dropped because the event buffer was full")]
    Lagged(u64),
    /// The event could not be decoded as the requested type; it is kept
    /// raw.
    #[error("cannot decode event {}: {error}", .raw.name())]
    Decode {
        /// The decode error.
        error: Error,
        /// The event as received.
        raw: Box<RawEvent>,
    },
    /// The connection is finished; no further events.
    #[error("event stream closed: {0}")]
    Closed(Error),
}

/// A type an event stream can yield.
pub trait FromRawEvent: Sized {
    /// Converts (decodes) a received event.
    fn from_raw(raw: RawEvent) -> Result<Self, EventError>;

    /// Converts a connection notice (a reconnect, see
    /// [`ClientEvent`](crate::ClientEvent)); `None` (the default) skips it,
    /// so streams of QEMU events only never see one.
    fn from_notice(notice: &crate::reconnect::Notice) -> Option<Self> {
        let _ = notice;
        None
    }
}

impl FromRawEvent for RawEvent {
    fn from_raw(raw: RawEvent) -> Result<Self, EventError> {
        Ok(raw)
    }
}

impl FromRawEvent for serde_json::Value {
    fn from_raw(raw: RawEvent) -> Result<Self, EventError> {
        raw.to_value().map_err(|error| EventError::Decode {
            error,
            raw: Box::new(raw),
        })
    }
}

/// A typed event: `K` (e.g. the generated `Event` enum) decoded from the
/// whole message, with the timestamp and the raw message kept.
#[derive(Debug, Clone)]
pub struct TypedEvent<K> {
    /// The decoded event.
    pub event: K,
    /// When QEMU emitted it.
    pub timestamp: Timestamp,
    /// The message as received.
    pub raw: RawEvent,
}

impl<K: EventKind> FromRawEvent for TypedEvent<K> {
    fn from_raw(raw: RawEvent) -> Result<Self, EventError> {
        match raw.decode::<K>() {
            Ok(event) => Ok(TypedEvent {
                event,
                timestamp: raw.timestamp(),
                raw,
            }),
            Err(error) => Err(EventError::Decode {
                error,
                raw: Box::new(raw),
            }),
        }
    }
}

/// The runtime's `EventMessage<E>` (event + timestamp), decoded from the
/// whole message.
impl<K> FromRawEvent for qmp_types::EventMessage<K>
where
    qmp_types::EventMessage<K>: serde::de::DeserializeOwned,
{
    fn from_raw(raw: RawEvent) -> Result<Self, EventError> {
        raw.decode::<Self>().map_err(|error| EventError::Decode {
            error,
            raw: Box::new(raw),
        })
    }
}

pub(crate) enum Next<E> {
    Item(Result<E, EventError>),
    End,
    Pending,
}

/// Takes the next item for a consumer that has (`ended`) or has not yet
/// reported the close; notices the consumer's type does not take are
/// skipped.
pub(crate) fn next_item<E: FromRawEvent>(st: &mut State, ended: &mut bool) -> Next<E> {
    loop {
        let p = st.poll_event();
        if let EventPoll::Notice(n) = &p {
            match E::from_notice(n) {
                Some(item) => return Next::Item(Ok(item)),
                None => continue,
            }
        }
        return next_polled(p, ended);
    }
}

fn next_polled<E: FromRawEvent>(p: EventPoll, ended: &mut bool) -> Next<E> {
    match p {
        EventPoll::Notice(_) => Next::Pending,
        EventPoll::Event(ev) => Next::Item(E::from_raw(ev)),
        EventPoll::Lagged(n) => Next::Item(Err(EventError::Lagged(n))),
        EventPoll::Closed(e) => {
            if *ended {
                Next::End
            } else {
                *ended = true;
                Next::Item(Err(EventError::Closed(e)))
            }
        }
        EventPoll::Empty => Next::Pending,
    }
}

/// The async event stream of a [`crate::Qmp`] client. Yields
/// `Ok(event)`, `Err(Lagged(n))` after an overflow, and one
/// `Err(Closed(reason))` when the connection ends, then `None`.
pub struct EventStream<E = RawEvent> {
    shared: Arc<Shared>,
    ended: bool,
    _marker: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("ended", &self.ended)
            .finish()
    }
}

impl<E: FromRawEvent> EventStream<E> {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        EventStream {
            shared,
            ended: false,
            _marker: PhantomData,
        }
    }

    /// The next item (see the type documentation); `None` after the close
    /// was reported.
    pub async fn next(&mut self) -> Option<Result<E, EventError>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// Number of events buffered and not yet taken.
    pub fn buffered(&self) -> usize {
        self.shared.lock().events.len()
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<E, EventError>>> {
        let mut st = self.shared.lock();
        match next_item(&mut st, &mut self.ended) {
            Next::Item(i) => Poll::Ready(Some(i)),
            Next::End => Poll::Ready(None),
            Next::Pending => {
                st.events.register(cx.waker());
                Poll::Pending
            }
        }
    }
}

impl<E: FromRawEvent> futures_core::Stream for EventStream<E> {
    type Item = Result<E, EventError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}
