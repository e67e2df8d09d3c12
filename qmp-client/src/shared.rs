//! State shared by a transport's callers and its reader: the sans-io
//! connection, who waits for which reply, and the event buffer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::thread::Thread;
use std::time::{Duration, Instant};

#[cfg(not(feature = "tokio"))]
use crate::no_tokio::oneshot;
#[cfg(feature = "tokio")]
use tokio::sync::oneshot;

use crate::error::Error;
use crate::proto::connection::IdMap;
use crate::proto::{Connection, Greeting, Output, RawEvent, RawReply, Transmit};
use crate::reconnect::Notice;

/// One entry of the event buffer: a QEMU event or a connection notice.
pub(crate) enum Item {
    Event(RawEvent),
    Notice(Notice),
}

/// Where the outcome of one command goes.
pub(crate) enum Waiter {
    /// An async caller awaits a oneshot.
    Async(oneshot::Sender<Result<RawReply, Error>>),
    /// A blocking caller polls its slot (woken by the condvar).
    Slot(Option<Result<RawReply, Error>>),
}

/// The bounded event buffer: drop-oldest, with a count of dropped events
/// reported before the next event (P10).
pub(crate) struct EventQueue {
    buf: VecDeque<Item>,
    cap: usize,
    lagged: u64,
    wakers: Vec<Waker>,
}

/// What an event consumer gets next.
pub(crate) enum EventPoll {
    Event(RawEvent),
    Notice(Notice),
    Lagged(u64),
    Closed(Error),
    Empty,
}

impl EventQueue {
    fn new(cap: usize) -> Self {
        EventQueue {
            buf: VecDeque::with_capacity(cap.min(64)),
            cap,
            lagged: 0,
            wakers: Vec::new(),
        }
    }

    fn push(&mut self, ev: Item) {
        if self.buf.len() >= self.cap {
            self.buf.pop_front();
            self.lagged += 1;
        }
        self.buf.push_back(ev);
        self.wake();
    }

    fn wake(&mut self) {
        for w in self.wakers.drain(..) {
            w.wake();
        }
    }

    pub(crate) fn register(&mut self, waker: &Waker) {
        if !self.wakers.iter().any(|w| w.will_wake(waker)) {
            self.wakers.push(waker.clone());
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }
}

/// How long a link whose write side failed stays open for reading: the
/// server usually hung up, and what it sent before (replies, events) is
/// read up to the end of the input; a server that only stopped reading
/// but keeps the link open gets this long to send the rest.
pub(crate) const WRITE_FAILURE_GRACE: Duration = Duration::from_secs(1);

/// See `State::on_lost`.
pub(crate) type OnLost = Box<dyn Fn(&mut State) + Send>;

pub(crate) struct State {
    pub(crate) conn: Connection,
    pub(crate) waiters: IdMap<Waiter>,
    pub(crate) events: EventQueue,
    /// The handshake outcome, once known (blocking waiters poll it).
    pub(crate) handshake: Option<Result<Option<Greeting>, Error>>,
    /// Async handshake waiter.
    pub(crate) handshake_tx: Option<oneshot::Sender<Result<Option<Greeting>, Error>>>,
    /// Set once the connection is finished.
    pub(crate) closed: Option<Error>,
    /// Blocking transport: a caller is currently reading the socket.
    pub(crate) reading: bool,
    /// Blocking transport: parked callers, woken one at a time when the
    /// reader role is free (no thundering herd).
    pub(crate) followers: Vec<Thread>,
    /// Blocking transport: the parked caller waiting for each reply.
    pub(crate) parked_replies: HashMap<u64, Thread>,
    /// Blocking transport: parked event consumers.
    pub(crate) parked_events: Vec<Thread>,
    /// A reconnect policy is active: a lost link is not the end.
    pub(crate) reconnect: bool,
    /// While reconnecting: why the link was lost.
    pub(crate) lost: Option<Error>,
    /// Which connection `conn` is (0 for the first); I/O of an older one
    /// is ignored.
    pub(crate) epoch: u64,
    /// The reconnect attempt `conn` belongs to (for the notice).
    pub(crate) attempt: u32,
    /// Called when the link is lost or the client finished (wakes the
    /// reconnecting driver).
    pub(crate) on_lost: Option<OnLost>,
    /// Blocking transport: a reconnecting thread is running.
    pub(crate) reconnecting: bool,
    /// The write side of the link failed (not by a timeout), and when:
    /// calls are refused from then on, but the link is read to the end of
    /// its input, so nothing the server sent before is lost. It closes
    /// there, or with this error after [`WRITE_FAILURE_GRACE`].
    pub(crate) write_failed: Option<(Error, Instant)>,
}

impl State {
    /// Routes everything the connection produced.
    pub(crate) fn dispatch(&mut self) {
        let mut events = false;
        while let Some(out) = self.conn.poll_output() {
            match out {
                Output::Ready(g) => {
                    self.finish_handshake(Ok(g));
                    if self.lost.is_some() && self.reconnect {
                        // Before any event of the new connection.
                        self.reconnected();
                        events = true;
                    }
                }
                Output::Reply { id, result } => {
                    // A reconnecting client's calls see every transport
                    // failure as `Disconnected`.
                    let result = match result {
                        Err(e) if self.reconnect => Err(crate::reconnect::for_calls(&e)),
                        r => r,
                    };
                    self.complete(id, result)
                }
                Output::Event(ev) => {
                    self.events.push(Item::Event(ev));
                    events = true;
                }
                Output::Closed(e) if self.reconnect && !matches!(e, Error::Closed) => {
                    // The link is lost; the driver reconnects. The client
                    // is not closed: event consumers keep waiting.
                    self.finish_handshake(Err(e.clone()));
                    let call_err = crate::reconnect::for_calls(&e);
                    self.fail_waiters(&call_err);
                    if self.lost.is_none() {
                        self.lost = Some(e);
                    }
                    self.call_on_lost();
                }
                Output::Closed(e) => {
                    self.finish(e);
                    events = true;
                }
            }
        }
        if events {
            for t in &self.parked_events {
                t.unpark();
            }
        }
    }

    /// Fails every waiter still waiting (with `e`) and wakes the parked
    /// callers of the blocking transport.
    fn fail_waiters(&mut self, e: &Error) {
        let ids: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, w)| matches!(w, Waiter::Async(_) | Waiter::Slot(None)))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.complete(id, Err(e.clone()));
        }
        for t in self.followers.iter().chain(self.parked_replies.values()) {
            t.unpark();
        }
    }

    /// Finishes the client for good with `e`: everyone waiting gets it,
    /// event consumers see the close. Idempotent.
    pub(crate) fn finish(&mut self, e: Error) {
        if self.closed.is_some() {
            return;
        }
        self.reconnect = false;
        self.lost = None;
        self.finish_handshake(Err(e.clone()));
        self.fail_waiters(&e);
        self.closed = Some(e);
        self.events.wake();
        for t in &self.parked_events {
            t.unpark();
        }
        self.call_on_lost();
    }

    fn call_on_lost(&mut self) {
        if let Some(f) = self.on_lost.take() {
            f(self);
            if self.on_lost.is_none() {
                self.on_lost = Some(f);
            }
        }
    }

    /// Starts connection number `epoch` on a fresh sans-io connection that
    /// continues the id sequence; its handshake outcome goes to
    /// `handshake_tx` / `handshake`.
    pub(crate) fn renew(&mut self, config: crate::proto::ProtoConfig, attempt: u32) -> u64 {
        self.epoch += 1;
        self.attempt = attempt;
        let first = self.conn.next_id();
        self.conn = Connection::with_first_id(config, first);
        self.handshake = None;
        self.handshake_tx = None;
        self.write_failed = None;
        self.dispatch();
        self.epoch
    }

    /// The link is up again (handshake done): queues the notice and lets
    /// calls through.
    fn reconnected(&mut self) {
        let reason = self
            .lost
            .take()
            .unwrap_or(Error::Disconnected { partial: false });
        let attempt = self.attempt;
        self.events
            .push(Item::Notice(Notice::Reconnected { attempt, reason }));
        // Blocking transport: callers parked while the link was down.
        for t in self.followers.iter().chain(&self.parked_events) {
            t.unpark();
        }
    }

    /// Refuses a call while the link is down (reconnecting: fail fast
    /// with `Disconnected`), the client is finished (its close reason) or
    /// the link cannot be written to any more (the write error).
    pub(crate) fn check_link(&mut self) -> Result<(), Error> {
        self.expire_write_failure();
        match (&self.closed, &self.lost, &self.write_failed) {
            (Some(e), _, _) => Err(e.clone()),
            (None, Some(_), _) => Err(Error::Disconnected { partial: false }),
            (None, None, Some((e, _))) => Err(self.for_call(e.clone())),
            (None, None, None) => Ok(()),
        }
    }

    /// The error a call gets for transport failure `e`: as is, or with a
    /// reconnect policy, `Disconnected` (see `reconnect::for_calls`).
    pub(crate) fn for_call(&self, e: Error) -> Error {
        if self.reconnect {
            crate::reconnect::for_calls(&e)
        } else {
            e
        }
    }

    /// Whether the link is up: not closed, not lost, and its write side
    /// has not failed.
    pub(crate) fn link_up(&self) -> bool {
        self.closed.is_none() && self.lost.is_none() && self.write_failed.is_none()
    }

    /// The current link's write side failed with `err`. A write timeout
    /// closes the link at once: the server is not reading and a message
    /// may be half written. Any other failure (the server hung up or shut
    /// its reading side) only stops the writing; see `write_failed`.
    /// Returns whether that started now (the grace period runs).
    pub(crate) fn write_error(&mut self, err: Error) -> bool {
        if matches!(err, Error::Timeout(_)) {
            self.conn.close(err);
            self.dispatch();
            false
        } else if self.write_failed.is_none() && !self.conn.is_closed() {
            self.write_failed = Some((err, Instant::now()));
            true
        } else {
            false
        }
    }

    /// After a write failure: closes the link with the write error once
    /// [`WRITE_FAILURE_GRACE`] has passed without the end of the input;
    /// before that, returns the time left.
    pub(crate) fn expire_write_failure(&mut self) -> Option<Duration> {
        let (e, at) = self.write_failed.as_ref()?;
        if self.conn.is_closed() {
            return None;
        }
        let left = WRITE_FAILURE_GRACE.saturating_sub(at.elapsed());
        if left.is_zero() {
            let e = e.clone();
            self.conn.close(e);
            self.dispatch();
            return None;
        }
        Some(left)
    }

    fn finish_handshake(&mut self, r: Result<Option<Greeting>, Error>) {
        if self.handshake.is_some() {
            return;
        }
        if let Some(tx) = self.handshake_tx.take() {
            let _ = tx.send(r.clone());
        }
        self.handshake = Some(r);
    }

    fn complete(&mut self, id: u64, result: Result<RawReply, Error>) {
        match self.waiters.remove(&id) {
            Some(Waiter::Async(tx)) => {
                // The receiver may be gone (cancelled); nothing to do then.
                let _ = tx.send(result);
            }
            Some(Waiter::Slot(None)) => {
                self.waiters.insert(id, Waiter::Slot(Some(result)));
                if let Some(t) = self.parked_replies.get(&id) {
                    t.unpark();
                }
            }
            Some(w @ Waiter::Slot(Some(_))) => {
                self.waiters.insert(id, w);
            }
            None => {}
        }
    }

    /// Takes the next event-side item.
    pub(crate) fn poll_event(&mut self) -> EventPoll {
        if self.events.lagged > 0 {
            let n = std::mem::take(&mut self.events.lagged);
            return EventPoll::Lagged(n);
        }
        match self.events.buf.pop_front() {
            Some(Item::Event(ev)) => return EventPoll::Event(ev),
            Some(Item::Notice(n)) => return EventPoll::Notice(n),
            None => {}
        }
        match &self.closed {
            Some(e) => EventPoll::Closed(e.clone()),
            None => EventPoll::Empty,
        }
    }

    /// Removes a waiter and forgets its pending entry (timeout, cancel).
    pub(crate) fn cancel(&mut self, id: u64) {
        self.waiters.remove(&id);
        self.conn.cancel(id);
    }

    /// Drains the bytes to write (usually one message: no allocation
    /// for the list).
    pub(crate) fn transmits(&mut self) -> Transmits {
        let first = self.conn.poll_transmit();
        let mut rest = Vec::new();
        if first.is_some() {
            while let Some(t) = self.conn.poll_transmit() {
                rest.push(t);
            }
        }
        Transmits { first, rest }
    }
}

/// Messages to write, in order.
pub(crate) struct Transmits {
    first: Option<Transmit>,
    rest: Vec<Transmit>,
}

impl Transmits {
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

impl IntoIterator for Transmits {
    type Item = Transmit;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Transmit>, std::vec::IntoIter<Transmit>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(conn: Connection, event_capacity: usize) -> Self {
        let mut st = State {
            conn,
            waiters: IdMap::default(),
            events: EventQueue::new(event_capacity),
            handshake: None,
            handshake_tx: None,
            closed: None,
            reading: false,
            followers: Vec::new(),
            parked_replies: HashMap::new(),
            parked_events: Vec::new(),
            reconnect: false,
            lost: None,
            epoch: 0,
            attempt: 0,
            on_lost: None,
            reconnecting: false,
            write_failed: None,
        };
        st.dispatch();
        Shared {
            state: Mutex::new(st),
        }
    }

    /// Locks the state. A poisoned lock (a panic elsewhere while holding
    /// it) is recovered: the state is always left consistent between
    /// statements that can panic.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the connection with `err` and wakes everyone. The client is
    /// finished even if it was reconnecting.
    pub(crate) fn close(&self, err: Error) {
        let mut st = self.lock();
        st.reconnect = false;
        st.conn.close(err.clone());
        st.dispatch();
        st.finish(err);
    }

    /// Closes connection number `epoch` with `err` (an I/O failure); nothing
    /// if a newer connection replaced it. With a reconnect policy the
    /// client then reconnects, otherwise it is finished.
    pub(crate) fn close_link(&self, epoch: u64, err: Error) {
        let mut st = self.lock();
        if st.epoch == epoch {
            st.conn.close(err);
            st.dispatch();
        }
    }

    /// Writing to connection number `epoch` failed with `err`; nothing if
    /// a newer connection replaced it. See [`State::write_error`].
    pub(crate) fn write_error(&self, epoch: u64, err: Error) -> bool {
        let mut st = self.lock();
        st.epoch == epoch && st.write_error(err)
    }
}

/// A guest-agent sync value: unique per call and process (the time, the
/// pid and a counter), non-negative.
pub(crate) fn sync_value() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static COUNTER: AtomicI64 = AtomicI64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    (nanos ^ (i64::from(std::process::id()) << 40) ^ COUNTER.fetch_add(1, Ordering::Relaxed))
        & i64::MAX
}
