//! State shared by a transport's callers and its reader: the sans-io
//! connection, who waits for which reply, and the event buffer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::thread::Thread;

#[cfg(not(feature = "tokio"))]
use crate::no_tokio::oneshot;
#[cfg(feature = "tokio")]
use tokio::sync::oneshot;

use crate::error::Error;
use crate::proto::connection::IdMap;
use crate::proto::{Connection, Greeting, Output, RawEvent, RawReply, Transmit};

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
    buf: VecDeque<RawEvent>,
    cap: usize,
    lagged: u64,
    wakers: Vec<Waker>,
}

/// What an event consumer gets next.
pub(crate) enum EventPoll {
    Event(RawEvent),
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

    fn push(&mut self, ev: RawEvent) {
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
}

impl State {
    /// Routes everything the connection produced.
    pub(crate) fn dispatch(&mut self) {
        let mut events = false;
        while let Some(out) = self.conn.poll_output() {
            match out {
                Output::Ready(g) => self.finish_handshake(Ok(g)),
                Output::Reply { id, result } => self.complete(id, result),
                Output::Event(ev) => {
                    self.events.push(ev);
                    events = true;
                }
                Output::Closed(e) => {
                    self.finish_handshake(Err(e.clone()));
                    // Waiters registered without a pending entry (none in
                    // practice) must not hang either.
                    let ids: Vec<u64> = self
                        .waiters
                        .iter()
                        .filter(|(_, w)| matches!(w, Waiter::Async(_) | Waiter::Slot(None)))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        self.complete(id, Err(e.clone()));
                    }
                    self.closed = Some(e);
                    self.events.wake();
                    for t in self.followers.iter().chain(self.parked_replies.values()) {
                        t.unpark();
                    }
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
        if let Some(ev) = self.events.buf.pop_front() {
            return EventPoll::Event(ev);
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

    /// Closes the connection with `err` and wakes everyone.
    pub(crate) fn close(&self, err: Error) {
        let mut st = self.lock();
        st.conn.close(err);
        st.dispatch();
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
