//! The tokio transport.
//!
//! Design: the sans-io [`Connection`](crate::proto::Connection) sits in a
//! mutex shared by the callers and two background tasks. The *reader* task
//! reads the socket, feeds the connection and routes replies to the
//! callers' oneshot channels and events to the bounded event buffer; it
//! never waits for a consumer, so a slow event consumer cannot stall
//! replies. The *writer* task owns the write half and writes whole messages
//! taken from a channel, so a caller that is cancelled (its future dropped)
//! can never leave half a command on the wire: a command is either queued
//! whole or not at all. A cancelled or timed-out call removes its waiter;
//! its late reply is dropped and counted (P7/P18).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use qmp_types::{Client, Command, EventKind, OobCommand};
use serde::Serialize;
use std::io::{Read, Write};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::config::{Builder, CallOpts};
use crate::error::{Error, IoOp, TimeoutKind};
use crate::events::{EventStream, FromRawEvent, TypedEvent};
use crate::fd;
use crate::proto::{
    Connection, ExecOptions, Greeting, Mode, ProtoConfig, RawEvent, RawReply, Stats, Transmit,
};
use crate::readbuf::ReadBuf;
use crate::reconnect::{ClientEvent, ReconnectPolicy, Target};
use crate::shared::sync_value;
use crate::shared::{Shared, Waiter};

/// An async QMP (or guest agent) client on tokio. Cheap to clone; all
/// clones share one connection, and any number of calls may be in flight
/// at once (pipelining). Must be created inside a tokio runtime.
///
/// ```no_run
/// # async fn demo() -> Result<(), qmp_client::Error> {
/// let qmp = qmp_client::Qmp::connect_unix("/tmp/qmp.sock").await?;
/// let status = qmp.call(qmp_types::QueryStatus).await?;
/// println!("{:?}", status.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Qmp {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    writer_state: Arc<Writer>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    greeting: Option<Greeting>,
    command_timeout: Option<Duration>,
    fd_passing: bool,
    /// The live capabilities, once fetched.
    caps: Arc<crate::caps::Cache>,
    /// With a reconnect policy: the task that reconnects, and how to
    /// signal it.
    supervisor: Option<(JoinHandle<()>, Arc<Link>)>,
    /// Refuse calls the live QEMU cannot run ([`Builder::check_capabilities`]).
    check_caps: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.close(Error::Closed);
        self.abort_tasks();
    }
}

impl Inner {
    fn abort_tasks(&self) {
        self.reader.abort();
        self.writer.abort();
        if let Some((s, _)) = &self.supervisor {
            s.abort();
        }
    }
}

impl std::fmt::Debug for Qmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qmp")
            .field("greeting", &self.inner.greeting)
            .field("fd_passing", &self.inner.fd_passing)
            .finish_non_exhaustive()
    }
}

enum Sink {
    Plain(Box<dyn AsyncWrite + Send + Unpin>),
    /// A non-blocking std Unix socket. It is registered with the reactor
    /// for writability only while a write is pending, so the common path
    /// (direct writes) gets no EPOLLOUT wake-ups.
    Unix(std::os::unix::net::UnixStream),
}

/// Registers an owned socket with the reactor for `interest`.
///
/// `AsyncFd::with_interest` is deprecated in favour of an `unsafe`
/// constructor because a *borrowed* raw fd could be closed while still
/// registered; here the `AsyncFd` owns the `UnixStream` (the fd lives
/// exactly as long as the registration), which is the sound case.
#[allow(deprecated)]
fn register(
    s: std::os::unix::net::UnixStream,
    interest: Interest,
) -> std::io::Result<AsyncFd<std::os::unix::net::UnixStream>> {
    AsyncFd::with_interest(s, interest)
}

/// The read side of a Unix socket: registered for readability only.
struct UnixReader(AsyncFd<std::os::unix::net::UnixStream>);

impl AsyncRead for UnixReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            let mut guard = match self.0.poll_read_ready(cx) {
                Poll::Ready(Ok(g)) => g,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            let unfilled = buf.initialize_unfilled();
            let len = unfilled.len();
            match guard.try_io(|s| {
                let mut r: &std::os::unix::net::UnixStream = s.get_ref();
                r.read(unfilled)
            }) {
                Ok(Ok(n)) => {
                    // A short read drained the socket (edge-triggered: new
                    // data raises a new edge), so skip the EAGAIN read.
                    if n > 0 && n < len {
                        guard.clear_ready();
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

/// Writes all of `data` (fds with the first bytes) on a non-blocking Unix
/// socket, waiting for writability through a temporary registration.
async fn unix_write_all(
    s: &std::os::unix::net::UnixStream,
    mut data: &[u8],
    mut fds: &[OwnedFd],
) -> std::io::Result<()> {
    let mut afd: Option<AsyncFd<std::os::unix::net::UnixStream>> = None;
    while !data.is_empty() || !fds.is_empty() {
        let r = if fds.is_empty() {
            {
                let mut w: &std::os::unix::net::UnixStream = s;
                w.write(data)
            }
        } else {
            fd::send_with_fds(s, data, fds)
        };
        match r {
            Ok(0) if !data.is_empty() => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                fds = &[];
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if afd.is_none() {
                    afd = Some(register(s.try_clone()?, Interest::WRITABLE)?);
                }
                if let Some(a) = &afd {
                    a.writable().await?.clear_ready();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Sink {
    async fn write(&mut self, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => {
                w.write_all(data).await?;
                w.flush().await
            }
            Sink::Unix(s) => unix_write_all(s, data, fds).await,
        }
    }
}

impl Sink {
    /// One non-blocking write attempt (no await, so it cannot be cut short
    /// by cancellation): bytes written and whether they are flushed, or
    /// `WouldBlock`.
    fn try_write(&mut self, data: &[u8]) -> std::io::Result<(usize, bool)> {
        match self {
            Sink::Unix(s) => {
                let mut w: &std::os::unix::net::UnixStream = s;
                w.write(data)
            }
            .map(|n| (n, true)),
            Sink::Plain(w) => {
                let mut cx = Context::from_waker(Waker::noop());
                match Pin::new(&mut **w).poll_write(&mut cx, data) {
                    Poll::Ready(Ok(n)) => match Pin::new(&mut **w).poll_flush(&mut cx) {
                        Poll::Ready(Ok(())) => Ok((n, true)),
                        Poll::Ready(Err(e)) => Err(e),
                        Poll::Pending => Ok((n, false)),
                    },
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Pending => Err(std::io::ErrorKind::WouldBlock.into()),
                }
            }
        }
    }
}

/// The write side: the sink plus a queue of messages not yet written.
///
/// A caller first tries to write its message directly with one
/// non-blocking write (no task hand-off in the common case); whatever
/// cannot be written at once is queued whole and finished by the writer
/// task, which owns the sink while it writes. Messages are never
/// interleaved: a caller writes directly only when the queue is empty and
/// the writer task is idle.
struct Writer {
    state: std::sync::Mutex<WriterState>,
    notify: Notify,
}

struct WriterState {
    /// `None` while the writer task is writing with it.
    sink: Option<Sink>,
    queue: VecDeque<Transmit>,
    /// The connection the sink belongs to (see `State::epoch`).
    epoch: u64,
    /// Writing failed: nothing more is written to this sink.
    failed: bool,
}

impl Writer {
    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes or queues `ts` (produced by connection `epoch`), in order.
    /// Bytes of a connection that was replaced are dropped: they belong
    /// to no live server. A direct write that fails gives its error (for
    /// the caller whose message it was); one the writer task makes is
    /// seen in the state.
    fn submit(
        &self,
        ts: impl IntoIterator<Item = Transmit>,
        epoch: u64,
        shared: &Shared,
    ) -> Result<(), Error> {
        let mut ts = ts.into_iter().peekable();
        if ts.peek().is_none() {
            return Ok(());
        }
        let mut w = self.lock();
        if w.epoch != epoch || w.failed {
            return Ok(());
        }
        let mut wake = false;
        for t in ts {
            if w.queue.is_empty() && t.fds.is_empty() {
                if let Some(sink) = w.sink.as_mut() {
                    match sink.try_write(&t.data) {
                        Ok((n, true)) if n == t.data.len() => continue,
                        // Written but not flushed: the writer task flushes.
                        Ok((n, _)) => w.queue.push_back(Transmit {
                            data: t.data[n..].to_vec(),
                            fds: Vec::new(),
                        }),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            w.queue.push_back(t)
                        }
                        Err(e) => {
                            // The writer task closes the link if the input
                            // does not end soon.
                            w.failed = true;
                            w.queue.clear();
                            drop(w);
                            let e = Error::io(IoOp::Write, e);
                            shared.write_error(epoch, e.clone());
                            self.notify.notify_one();
                            return Err(e);
                        }
                    }
                    wake = true;
                    continue;
                }
            }
            w.queue.push_back(t);
            wake = true;
        }
        drop(w);
        if wake {
            self.notify.notify_one();
        }
        Ok(())
    }

    /// Closes the write side for good (the client is closed): a Unix
    /// socket is shut down at once, so the server sees the end even before
    /// the reader task is gone; any other sink is dropped.
    fn shut(&self) {
        let mut w = self.lock();
        if let Some(Sink::Unix(s)) = &w.sink {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        w.sink = None;
        w.queue.clear();
        w.failed = true;
    }

    /// Switches to connection `epoch`'s sink; stale queued bytes go.
    fn install(&self, epoch: u64, sink: Sink) {
        let mut w = self.lock();
        w.epoch = epoch;
        w.sink = Some(sink);
        w.queue.clear();
        w.failed = false;
    }
}

async fn write_loop(
    writer: Arc<Writer>,
    shared: Arc<Shared>,
    write_timeout: Option<Duration>,
    epoch: u64,
) {
    let mut batch = Vec::new();
    loop {
        writer.notify.notified().await;
        loop {
            let taken = {
                let mut w = writer.lock();
                if w.epoch != epoch {
                    return;
                }
                if w.failed {
                    None
                } else if w.queue.is_empty() {
                    break;
                } else {
                    let Some(sink) = w.sink.take() else { break };
                    Some((sink, std::mem::take(&mut w.queue)))
                }
            };
            let Some((mut sink, queue)) = taken else {
                return after_write_failure(&shared, epoch).await;
            };
            // Coalesce messages without descriptors into few writes.
            batch.clear();
            let mut r = Ok(());
            for t in queue {
                if !t.fds.is_empty() {
                    r = timed_write(&mut sink, &batch, &[], write_timeout).await;
                    batch.clear();
                    if r.is_ok() {
                        r = timed_write(&mut sink, &t.data, &t.fds, write_timeout).await;
                    }
                    if r.is_err() {
                        break;
                    }
                } else {
                    batch.extend_from_slice(&t.data);
                }
            }
            if r.is_ok() {
                r = timed_write(&mut sink, &batch, &[], write_timeout).await;
            }
            {
                let mut w = writer.lock();
                if w.epoch != epoch {
                    return;
                }
                w.sink = Some(sink);
                if r.is_err() {
                    w.failed = true;
                    w.queue.clear();
                }
            }
            if let Err(e) = r {
                shared.write_error(epoch, e);
                return after_write_failure(&shared, epoch).await;
            }
        }
    }
}

/// After a write failure on connection `epoch`: the reader task goes on
/// to the end of the input; if it does not get there within
/// [`WRITE_FAILURE_GRACE`](crate::shared::WRITE_FAILURE_GRACE), the link is closed with the write error.
async fn after_write_failure(shared: &Shared, epoch: u64) {
    loop {
        let left = {
            let mut st = shared.lock();
            if st.epoch != epoch {
                return;
            }
            match st.expire_write_failure() {
                Some(left) => left,
                None => return,
            }
        };
        tokio::time::sleep(left).await;
    }
}

async fn timed_write(
    sink: &mut Sink,
    data: &[u8],
    fds: &[OwnedFd],
    t: Option<Duration>,
) -> Result<(), Error> {
    let fut = sink.write(data, fds);
    let r = match t {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => return Err(Error::Timeout(TimeoutKind::Write)),
        },
        None => fut.await,
    };
    r.map_err(|e| Error::io(IoOp::Write, e))
}

async fn read_loop(
    r: Box<dyn AsyncRead + Send + Unpin>,
    shared: Arc<Shared>,
    writer: Arc<Writer>,
    epoch: u64,
) {
    let mut r = r;
    let mut buf = ReadBuf::new();
    loop {
        let res = r.read(buf.space()).await;
        let ts = {
            let mut st = shared.lock();
            if st.epoch != epoch {
                return;
            }
            match res {
                Ok(0) => st.conn.handle_eof(),
                Ok(n) => {
                    st.conn.handle_input(buf.data(n));
                    buf.adapt(n);
                }
                Err(e) => st.conn.close(Error::io(IoOp::Read, e)),
            }
            let ts = st.transmits();
            st.dispatch();
            if st.closed.is_some() || st.conn.is_closed() {
                return;
            }
            ts
        };
        // A write failure is in the state; reading goes on to the end.
        let _ = writer.submit(ts, epoch, &shared);
    }
}

/// Removes the waiter of a call whose future is dropped before its reply
/// arrived (cancellation or timeout).
struct CancelGuard<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        self.shared.lock().cancel(self.id);
    }
}

type Reader = Box<dyn AsyncRead + Send + Unpin>;

/// Splits a connected Unix stream into the reader and the sink.
fn unix_parts(s: tokio::net::UnixStream) -> Result<(Reader, Sink), Error> {
    let io = |e| Error::io(IoOp::Connect, e);
    let s = s.into_std().map_err(io)?;
    s.set_nonblocking(true).map_err(io)?;
    let w = s.try_clone().map_err(io)?;
    let r = register(s, Interest::READABLE).map_err(io)?;
    Ok((Box::new(UnixReader(r)), Sink::Unix(w)))
}

fn tcp_parts(s: tokio::net::TcpStream) -> (Reader, Sink) {
    let _ = s.set_nodelay(true);
    let (r, w) = s.into_split();
    (Box::new(r), Sink::Plain(Box::new(w)))
}

/// Connects to `target` (one attempt).
async fn connect_target(
    target: &Target,
    timeout: Option<Duration>,
) -> Result<(Reader, Sink), Error> {
    match target {
        Target::Unix(p) => {
            let fut = tokio::net::UnixStream::connect(p);
            let s = with_timeout(timeout, TimeoutKind::Connect, fut)
                .await?
                .map_err(|e| Error::io(IoOp::Connect, e))?;
            unix_parts(s)
        }
        Target::Tcp(addrs) => {
            let fut = tokio::net::TcpStream::connect(&addrs[..]);
            let s = with_timeout(timeout, TimeoutKind::Connect, fut)
                .await?
                .map_err(|e| Error::io(IoOp::Connect, e))?;
            Ok(tcp_parts(s))
        }
    }
}

impl Builder {
    /// Connects to a Unix socket and completes the handshake. File
    /// descriptor passing is available on such connections.
    pub async fn connect_unix(self, path: impl AsRef<Path>) -> Result<Qmp, Error> {
        let target = Target::Unix(path.as_ref().to_owned());
        let (r, sink) = connect_target(&target, self.connect_timeout).await?;
        self.start(r, sink, true, Some(target)).await
    }

    /// Connects to a TCP address and completes the handshake.
    pub async fn connect_tcp(self, addr: impl tokio::net::ToSocketAddrs) -> Result<Qmp, Error> {
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host(addr)
            .await
            .map_err(|e| Error::io(IoOp::Connect, e))?
            .collect();
        let target = Target::Tcp(addrs);
        let (r, sink) = connect_target(&target, self.connect_timeout).await?;
        self.start(r, sink, false, Some(target)).await
    }

    /// Completes the handshake on a stream already connected to the Unix
    /// socket `path` (reconnects, with a policy, go to `path`).
    pub(crate) async fn connect_unix_stream_at(
        self,
        s: std::os::unix::net::UnixStream,
        path: &Path,
    ) -> Result<Qmp, Error> {
        let io = |e| Error::io(IoOp::Connect, e);
        s.set_nonblocking(true).map_err(io)?;
        let s = tokio::net::UnixStream::from_std(s).map_err(io)?;
        let (r, sink) = unix_parts(s)?;
        self.start(r, sink, true, Some(Target::Unix(path.to_owned())))
            .await
    }

    /// Completes the handshake on a connected Unix stream (fd passing
    /// available). The client cannot reconnect (it does not know where
    /// the stream came from).
    pub async fn connect_unix_stream(self, s: tokio::net::UnixStream) -> Result<Qmp, Error> {
        let (r, sink) = unix_parts(s)?;
        self.start(r, sink, true, None).await
    }

    /// Completes the handshake on any byte stream (e.g. an in-memory
    /// `tokio::io::duplex`). No fd passing, no reconnecting.
    pub async fn connect_stream<S>(self, s: S) -> Result<Qmp, Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(s);
        self.start(Box::new(r), Sink::Plain(Box::new(w)), false, None)
            .await
    }

    async fn start(
        self,
        r: Reader,
        sink: Sink,
        fd_passing: bool,
        target: Option<Target>,
    ) -> Result<Qmp, Error> {
        let shared = Arc::new(Shared::new(
            Connection::new(self.proto),
            self.event_capacity,
        ));
        let writer_state = Arc::new(Writer {
            state: std::sync::Mutex::new(WriterState {
                sink: Some(sink),
                queue: VecDeque::new(),
                epoch: 0,
                failed: false,
            }),
            notify: Notify::new(),
        });
        let (htx, hrx) = oneshot::channel();
        let reconnect = self.reconnect.is_some() && target.is_some();
        {
            let mut st = shared.lock();
            // From the start, so that a drop right after the handshake is
            // an outage too (a failed handshake still fails the connect).
            st.reconnect = reconnect && self.proto.mode == Mode::Qmp;
            match st.handshake.take() {
                Some(r) => {
                    let _ = htx.send(r);
                }
                None => st.handshake_tx = Some(htx),
            }
        }
        let writer = tokio::spawn(write_loop(
            writer_state.clone(),
            shared.clone(),
            self.write_timeout,
            0,
        ));
        let reader = tokio::spawn(read_loop(r, shared.clone(), writer_state.clone(), 0));
        let mut inner = Inner {
            shared,
            writer_state,
            reader,
            writer,
            greeting: None,
            command_timeout: self.command_timeout,
            fd_passing,
            caps: Arc::default(),
            check_caps: self.check_capabilities && self.proto.mode != Mode::GuestAgent,
            supervisor: None,
        };
        let handshake = async {
            let greeting = hrx.await.unwrap_or(Err(Error::Closed))?;
            Ok::<_, Error>(greeting)
        };
        let greeting =
            match with_timeout(self.handshake_timeout, TimeoutKind::Handshake, handshake).await {
                Ok(Ok(g)) => g,
                Ok(Err(e)) | Err(e) => {
                    inner.shared.close(e.clone());
                    return Err(e);
                }
            };
        inner.greeting = greeting;
        if let (Some(policy), Some(target), Mode::Qmp) = (self.reconnect, target, self.proto.mode) {
            inner.supervisor = Some(Reconnector::spawn(&self, policy, target, &inner));
        }
        let qmp = Qmp {
            inner: Arc::new(inner),
        };
        if self.proto.mode == Mode::GuestAgent {
            let sync = qmp.guest_sync();
            match with_timeout(self.handshake_timeout, TimeoutKind::Handshake, sync).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) | Err(e) => {
                    qmp.inner.shared.close(e.clone());
                    return Err(e);
                }
            }
        }
        Ok(qmp)
    }
}

/// Aborts its tasks when dropped (the tasks of one connection).
struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Signals between a reconnecting client and its supervisor task.
struct Link {
    /// The link was lost or the client finished (one permit).
    lost: Notify,
    /// The link is up again or the client finished (all waiters).
    changed: Notify,
    /// Reconnect now, skipping the backoff wait.
    kick: Notify,
}

/// Reconnects a client after its connection is lost.
struct Reconnector {
    policy: ReconnectPolicy,
    target: Target,
    proto: ProtoConfig,
    connect_timeout: Option<Duration>,
    handshake_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    shared: Arc<Shared>,
    writer: Arc<Writer>,
    caps: Arc<crate::caps::Cache>,
    link: Arc<Link>,
}

impl Reconnector {
    fn spawn(
        b: &Builder,
        policy: ReconnectPolicy,
        target: Target,
        inner: &Inner,
    ) -> (JoinHandle<()>, Arc<Link>) {
        let link = Arc::new(Link {
            lost: Notify::new(),
            changed: Notify::new(),
            kick: Notify::new(),
        });
        {
            let mut st = inner.shared.lock();
            let l = link.clone();
            st.on_lost = Some(Box::new(move |_| {
                l.lost.notify_one();
                l.changed.notify_waiters();
            }));
            if st.lost.is_some() {
                // Lost between the handshake and now.
                link.lost.notify_one();
            }
        }
        let rc = Reconnector {
            policy,
            target,
            proto: b.proto,
            connect_timeout: b.connect_timeout,
            handshake_timeout: b.handshake_timeout,
            write_timeout: b.write_timeout,
            shared: inner.shared.clone(),
            writer: inner.writer_state.clone(),
            caps: inner.caps.clone(),
            link: link.clone(),
        };
        let first = AbortOnDrop(vec![
            inner.reader.abort_handle(),
            inner.writer.abort_handle(),
        ]);
        (tokio::spawn(rc.run(first)), link)
    }

    async fn run(self, mut tasks: AbortOnDrop) {
        loop {
            self.link.lost.notified().await;
            let reason = {
                let st = self.shared.lock();
                if st.closed.is_some() {
                    return;
                }
                match &st.lost {
                    Some(e) => e.clone(),
                    None => continue,
                }
            };
            // The old connection's tasks (and with them its socket) go.
            drop(tasks);
            // The new server may differ: capabilities are fetched again
            // when next needed (calls fail fast until the link is up).
            self.caps.clear();
            let mut attempt = 0u32;
            let mut last = reason;
            tasks = loop {
                attempt = attempt.saturating_add(1);
                if !self.policy.allows(attempt) {
                    self.shared.lock().finish(last);
                    self.link.changed.notify_waiters();
                    return;
                }
                race(
                    tokio::time::sleep(self.policy.delay(attempt)),
                    self.link.kick.notified(),
                )
                .await;
                if self.shared.lock().closed.is_some() {
                    return;
                }
                match self.attempt(attempt).await {
                    Ok(t) => break t,
                    Err(e) => last = e,
                }
            };
            // The handshake queued the notice and opened the link.
            self.link.changed.notify_waiters();
        }
    }

    /// One attempt: connect, start the connection's tasks, handshake.
    async fn attempt(&self, attempt: u32) -> Result<AbortOnDrop, Error> {
        let (r, sink) = connect_target(&self.target, self.connect_timeout).await?;
        let (htx, hrx) = oneshot::channel();
        let epoch = {
            let mut st = self.shared.lock();
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            let epoch = st.renew(self.proto, attempt);
            match st.handshake.take() {
                Some(r) => {
                    let _ = htx.send(r);
                }
                None => st.handshake_tx = Some(htx),
            }
            epoch
        };
        self.writer.install(epoch, sink);
        let writer = tokio::spawn(write_loop(
            self.writer.clone(),
            self.shared.clone(),
            self.write_timeout,
            epoch,
        ));
        let reader = tokio::spawn(read_loop(
            r,
            self.shared.clone(),
            self.writer.clone(),
            epoch,
        ));
        let tasks = AbortOnDrop(vec![reader.abort_handle(), writer.abort_handle()]);
        let handshake = async { hrx.await.unwrap_or(Err(Error::Closed)) };
        match with_timeout(self.handshake_timeout, TimeoutKind::Handshake, handshake).await {
            Ok(Ok(_)) => Ok(tasks),
            Ok(Err(e)) | Err(e) => {
                self.shared.close_link(epoch, e.clone());
                Err(e)
            }
        }
    }
}

/// Runs `a` and `b` until either finishes.
async fn race<A: std::future::Future, B: std::future::Future>(a: A, b: B) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

async fn with_timeout<F: std::future::Future>(
    t: Option<Duration>,
    kind: TimeoutKind,
    fut: F,
) -> Result<F::Output, Error> {
    match t {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| Error::Timeout(kind)),
        None => Ok(fut.await),
    }
}

impl Qmp {
    /// Options for a new connection.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Connects to a QMP Unix socket with default options.
    pub async fn connect_unix(path: impl AsRef<Path>) -> Result<Qmp, Error> {
        Builder::new().connect_unix(path).await
    }

    /// Connects to a QMP TCP socket with default options.
    pub async fn connect_tcp(addr: impl tokio::net::ToSocketAddrs) -> Result<Qmp, Error> {
        Builder::new().connect_tcp(addr).await
    }

    /// The server greeting (`None` for a guest agent).
    pub fn greeting(&self) -> Option<&Greeting> {
        self.inner.greeting.as_ref()
    }

    /// Whether `oob` was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.inner.shared.lock().conn.oob_enabled()
    }

    /// Counters (unknown replies dropped, ...).
    pub fn stats(&self) -> Stats {
        self.inner.shared.lock().conn.stats()
    }

    /// Why the connection is finished, if it is.
    pub fn closed(&self) -> Option<Error> {
        self.inner.shared.lock().closed.clone()
    }

    /// Closes the connection (the server sees it end at once): pending
    /// calls fail with [`Error::Closed`]. Closing twice is harmless.
    pub fn close(&self) {
        self.inner.shared.close(Error::Closed);
        self.inner.abort_tasks();
        self.inner.writer_state.shut();
    }

    /// Whether the client is connected: not closed, and (with a reconnect
    /// policy) not reconnecting. A loss is known once the socket says so
    /// (EOF or an error on a read or write), not before.
    pub fn is_connected(&self) -> bool {
        self.inner.shared.lock().link_up()
    }

    /// Waits until the client is connected: at once if it is, after the
    /// reconnect if it is reconnecting; the close reason if it is closed
    /// (or the policy gave up). Bound it with `tokio::time::timeout`.
    pub async fn wait_connected(&self) -> Result<(), Error> {
        loop {
            let Some((_, link)) = &self.inner.supervisor else {
                return self.closed().map_or(Ok(()), Err);
            };
            let mut changed = std::pin::pin!(link.changed.notified());
            changed.as_mut().enable();
            {
                let st = self.inner.shared.lock();
                if let Some(e) = &st.closed {
                    return Err(e.clone());
                }
                if st.link_up() {
                    return Ok(());
                }
            }
            changed.await;
        }
    }

    /// Reconnects now, without waiting out the backoff, and waits until
    /// connected (P21). Only while the link is down: a connected client
    /// gives [`Error::AlreadyConnected`] (nothing is done), a closed one
    /// its close reason.
    pub async fn reconnect(&self) -> Result<(), Error> {
        {
            let st = self.inner.shared.lock();
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            if st.lost.is_none() {
                return Err(Error::AlreadyConnected);
            }
        }
        if let Some((_, link)) = &self.inner.supervisor {
            link.kick.notify_one();
        }
        self.wait_connected().await
    }

    /// Runs a typed command and returns its typed result, with the
    /// builder's default timeout ([`Builder::command_timeout`]). For
    /// per-call options (timeout, file descriptors, out-of-band) use
    /// [`request`](Self::request).
    ///
    /// ```no_run
    /// # async fn demo(qmp: qmp_client::Qmp) -> Result<(), qmp_client::Error> {
    /// let status = qmp.call(qmp_types::QueryStatus).await?;
    /// println!("running: {}", status.running);
    /// # Ok(()) }
    /// ```
    pub async fn call<C: Command>(&self, command: C) -> Result<C::Returns, Error> {
        let reply = self
            .start(
                Cow::Borrowed(C::NAME),
                &command,
                CallOpts::default(),
                C::SUCCESS_RESPONSE,
            )
            .await?;
        match reply {
            Some(p) => p.wait().await?.decode(C::NAME),
            None => decode_typed::<C>(None),
        }
    }

    /// A typed call with options, sent by [`Request::send`]:
    ///
    /// ```no_run
    /// # async fn demo(qmp: qmp_client::Qmp, fd: std::os::fd::OwnedFd) -> Result<(), qmp_client::Error> {
    /// use std::time::Duration;
    /// use qmp_types::{Getfd, QueryYank};
    /// // A timeout for this call only.
    /// let status = qmp
    ///     .request(qmp_types::QueryStatus)
    ///     .timeout(Duration::from_secs(2))
    ///     .send()
    ///     .await?;
    /// // File descriptors passed with the command (Unix sockets).
    /// qmp.request(Getfd::new("disk0")).fds([fd]).send().await?;
    /// // Out-of-band (needs `Builder::oob(true)` and a monitor that offers it).
    /// let instances = qmp.request(QueryYank).oob().send().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// Only commands whose schema says `allow-oob` implement
    /// [`OobCommand`], so asking for any other command out-of-band does
    /// not compile:
    ///
    /// ```compile_fail,E0599
    /// # async fn f(qmp: qmp_client::Qmp) {
    /// let _ = qmp.request(qmp_types::QueryStatus).oob(); // not allow-oob
    /// # }
    /// ```
    pub fn request<C: Command>(&self, command: C) -> Request<'_, C> {
        Request {
            qmp: self,
            command,
            opts: CallOpts::default(),
        }
    }

    /// Runs any command by name, untyped: `args` is the `arguments` object
    /// (or `None`), the result is the `return` value. For options, or the
    /// reply text exactly as received, use
    /// [`request_raw`](Self::request_raw).
    ///
    /// ```no_run
    /// # async fn demo(qmp: qmp_client::Qmp) -> Result<(), qmp_client::Error> {
    /// let r = qmp
    ///     .call_raw("qom-get", Some(serde_json::json!({"path": "/machine", "property": "type"})))
    ///     .await?;
    /// println!("{r}");
    /// # Ok(()) }
    /// ```
    pub async fn call_raw(
        &self,
        name: &str,
        args: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, Error> {
        self.request_raw(name, args).send().await
    }

    /// An untyped call with options, sent by [`RawRequest::send`] (the
    /// `return` value) or [`RawRequest::send_reply`] (the reply as
    /// received).
    pub fn request_raw<'a>(
        &'a self,
        name: &'a str,
        args: Option<serde_json::Value>,
    ) -> RawRequest<'a> {
        RawRequest {
            qmp: self,
            name,
            args,
            opts: CallOpts::default(),
        }
    }

    /// Runs many commands of one type, pipelined: at most `window` (at
    /// least 1) are in flight at once, each with the builder's default
    /// timeout; the results come back in the order of `commands`. A
    /// failure of one command does not stop the others (after the
    /// connection closes they all fail fast with its error).
    ///
    /// ```no_run
    /// # async fn demo(qmp: qmp_client::Qmp) -> Result<(), qmp_client::Error> {
    /// let ids = ["/machine/peripheral/a", "/machine/peripheral/b"];
    /// let cmds = ids.iter().map(|p| qmp_types::QomList::new(*p));
    /// for r in qmp.call_many(cmds, 16).await {
    ///     println!("{} properties", r?.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn call_many<C: Command>(
        &self,
        commands: impl IntoIterator<Item = C>,
        window: usize,
    ) -> Vec<Result<C::Returns, Error>> {
        let window = window.max(1);
        let commands = commands.into_iter();
        let mut out = Vec::with_capacity(commands.size_hint().0);
        let mut in_flight: VecDeque<Result<Option<Pending<'_>>, Error>> =
            VecDeque::with_capacity(window.min(1024));
        for c in commands {
            if in_flight.len() == window {
                if let Some(p) = in_flight.pop_front() {
                    out.push(finish_typed::<C>(p).await);
                }
            }
            let p = self
                .start(
                    Cow::Borrowed(C::NAME),
                    &c,
                    CallOpts::default(),
                    C::SUCCESS_RESPONSE,
                )
                .await;
            in_flight.push_back(p);
        }
        for p in in_flight {
            out.push(finish_typed::<C>(p).await);
        }
        out
    }

    /// Checks (capabilities, fd passing), registers and writes one
    /// command; the returned [`Pending`] waits for its reply (`None`: the
    /// command has no success response).
    async fn start<A: Serialize + ?Sized>(
        &self,
        name: Cow<'static, str>,
        args: &A,
        opts: CallOpts,
        expect_reply: bool,
    ) -> Result<Option<Pending<'_>>, Error> {
        if self.inner.check_caps && !crate::caps::exempt(&name) {
            let caps = self.capabilities().await?;
            caps.check_serialized(&name, args)?;
        }
        self.submit(name, args, opts, expect_reply)
    }

    /// Registers and writes one command (no capability check).
    fn submit<A: Serialize + ?Sized>(
        &self,
        name: Cow<'static, str>,
        args: &A,
        opts: CallOpts,
        expect_reply: bool,
    ) -> Result<Option<Pending<'_>>, Error> {
        if !opts.fds.is_empty() && !self.inner.fd_passing {
            return Err(Error::FdPassingUnsupported);
        }
        let timeout = opts.timeout_or(self.inner.command_timeout);
        let shared = &*self.inner.shared;
        let (id, rx, t, epoch) = {
            let mut st = shared.lock();
            st.check_link()?;
            let id = st.conn.execute(
                name,
                args,
                ExecOptions {
                    oob: opts.oob,
                    fds: opts.fds,
                    expect_reply,
                },
            )?;
            let rx = if expect_reply {
                let (tx, rx) = oneshot::channel();
                st.waiters.insert(id, Waiter::Async(tx));
                Some(rx)
            } else {
                None
            };
            (id, rx, st.transmits(), st.epoch)
        };
        if let Err(e) = self.inner.writer_state.submit(t, epoch, shared) {
            let mut st = shared.lock();
            if expect_reply {
                st.cancel(id);
            }
            return Err(st.for_call(e));
        }
        Ok(rx.map(|rx| Pending {
            shared,
            id,
            rx,
            deadline: timeout.map(|t| tokio::time::Instant::now() + t),
            armed: true,
        }))
    }

    /// The per-connection capabilities cache.
    pub(crate) fn caps_cache(&self) -> &crate::caps::Cache {
        &self.inner.caps
    }

    /// Runs an argument-less command untyped, without the capability
    /// check (used to fetch the capabilities).
    pub(crate) async fn raw_unchecked(
        &self,
        name: &'static str,
    ) -> Result<serde_json::Value, Error> {
        let p = self.submit(
            Cow::Borrowed(name),
            &None::<&serde_json::Value>,
            CallOpts::default(),
            true,
        )?;
        p.ok_or(Error::Closed)?.wait().await?.to_value_of(name)
    }

    /// Guest agent: resynchronises the stream with `guest-sync-delimited`
    /// (done once at connect; call again after a reply timeout).
    pub async fn guest_sync(&self) -> Result<(), Error> {
        let value = sync_value();
        let shared = &*self.inner.shared;
        let (id, rx, ts, epoch) = {
            let mut st = shared.lock();
            st.check_link()?;
            let id = st.conn.guest_sync(value)?;
            let (tx, rx) = oneshot::channel();
            st.waiters.insert(id, Waiter::Async(tx));
            (id, rx, st.transmits(), st.epoch)
        };
        let guard = CancelGuard { shared, id };
        self.inner.writer_state.submit(ts, epoch, shared)?;
        let r = rx.await.unwrap_or(Err(Error::Closed));
        drop(guard);
        let got: i64 = r?.decode("guest-sync-delimited")?;
        if got != value {
            return Err(Error::GuestSync(format!("expected {value}, got {got}")));
        }
        Ok(())
    }

    /// The event stream, raw (name, timestamp, JSON). All streams of a
    /// connection share one buffer.
    pub fn events(&self) -> EventStream<RawEvent> {
        EventStream::new(self.inner.shared.clone())
    }

    /// The event stream with the client's connection notices:
    /// QEMU's events as [`ClientEvent::Event`] and, with a reconnect
    /// policy, [`ClientEvent::Reconnected`] where the connection was
    /// replaced. Same as `events_as::<ClientEvent>()`.
    pub fn client_events(&self) -> EventStream<ClientEvent> {
        EventStream::new(self.inner.shared.clone())
    }

    /// The event stream decoded as `E` (any [`FromRawEvent`] type).
    pub fn events_as<E: FromRawEvent>(&self) -> EventStream<E> {
        EventStream::new(self.inner.shared.clone())
    }

    /// The event stream decoded as the event type `K` (e.g. the generated
    /// `Event` enum), with timestamps and raw JSON kept.
    pub fn typed_events<K: EventKind>(&self) -> EventStream<TypedEvent<K>> {
        EventStream::new(self.inner.shared.clone())
    }
}

impl Client for Qmp {
    type Error = Error;

    fn execute<C: Command>(
        &self,
        command: C,
    ) -> impl std::future::Future<Output = Result<C::Returns, Error>> + Send {
        Qmp::call(self, command)
    }
}

/// A command registered and written, whose reply is awaited. Dropped
/// before the reply arrived (timeout, cancellation), it forgets the
/// command: the late reply is dropped and counted.
struct Pending<'a> {
    shared: &'a Shared,
    id: u64,
    rx: oneshot::Receiver<Result<RawReply, Error>>,
    deadline: Option<tokio::time::Instant>,
    /// Whether dropping must cancel (false once the reply was routed: the
    /// reader already removed the waiter and the pending entry).
    armed: bool,
}

impl Pending<'_> {
    async fn wait(mut self) -> Result<RawReply, Error> {
        let r = match self.deadline {
            Some(d) => match tokio::time::timeout_at(d, &mut self.rx).await {
                Ok(r) => r,
                Err(_) => return Err(Error::Timeout(TimeoutKind::Reply)),
            },
            None => (&mut self.rx).await,
        };
        match r {
            Ok(r) => {
                self.armed = false;
                r
            }
            Err(_) => Err(Error::Closed),
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.lock().cancel(self.id);
        }
    }
}

fn decode_typed<C: Command>(reply: Option<RawReply>) -> Result<C::Returns, Error> {
    match reply {
        Some(r) => r.decode(C::NAME),
        // No success response: the unit-like result.
        None => serde_json::from_str("{}").map_err(|e| Error::Decode {
            command: C::NAME.to_owned(),
            path: ".".to_owned(),
            message: e.to_string(),
            reply: "{}".into(),
        }),
    }
}

async fn finish_typed<C: Command>(
    p: Result<Option<Pending<'_>>, Error>,
) -> Result<C::Returns, Error> {
    match p? {
        Some(p) => p.wait().await?.decode(C::NAME),
        None => decode_typed::<C>(None),
    }
}

/// A typed call with per-call options, made by [`Qmp::request`]; nothing
/// is sent until [`send`](Self::send).
#[must_use = "nothing is sent until `send` is awaited"]
pub struct Request<'a, C> {
    qmp: &'a Qmp,
    command: C,
    opts: CallOpts,
}

impl<C: Command> std::fmt::Debug for Request<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("command", &C::NAME)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl<C: Command> Request<'_, C> {
    /// The reply timeout of this call (instead of the builder's
    /// [`Builder::command_timeout`]). On timeout the call fails with
    /// [`Error::Timeout`] and its late reply is dropped.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(Some(timeout));
        self
    }

    /// No reply timeout for this call, whatever the builder's default.
    pub fn no_timeout(mut self) -> Self {
        self.opts.timeout = Some(None);
        self
    }

    /// File descriptors to pass with the command (`SCM_RIGHTS`; `getfd`,
    /// `add-fd`). Unix socket connections only, else the call fails with
    /// [`Error::FdPassingUnsupported`].
    pub fn fds(mut self, fds: impl IntoIterator<Item = OwnedFd>) -> Self {
        self.opts.fds.extend(fds);
        self
    }

    /// Sends the command and waits for its typed result.
    pub async fn send(self) -> Result<C::Returns, Error> {
        let p = self
            .qmp
            .start(
                Cow::Borrowed(C::NAME),
                &self.command,
                self.opts,
                C::SUCCESS_RESPONSE,
            )
            .await;
        finish_typed::<C>(p).await
    }
}

impl<C: OobCommand> Request<'_, C> {
    /// Runs the command out-of-band (`exec-oob`): it overtakes in-band
    /// commands still queued in QEMU. Only for commands whose schema says
    /// `allow-oob` (checked at compile time); needs the `oob` capability
    /// ([`Builder::oob`]), else the call fails with
    /// [`Error::OobNotEnabled`].
    pub fn oob(mut self) -> Self {
        self.opts.oob = true;
        self
    }
}

/// An untyped call with per-call options, made by [`Qmp::request_raw`];
/// nothing is sent until [`send`](Self::send) or
/// [`send_reply`](Self::send_reply).
#[must_use = "nothing is sent until `send` or `send_reply` is awaited"]
#[derive(Debug)]
pub struct RawRequest<'a> {
    qmp: &'a Qmp,
    name: &'a str,
    args: Option<serde_json::Value>,
    opts: CallOpts,
}

impl RawRequest<'_> {
    /// The reply timeout of this call (instead of the builder's default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(Some(timeout));
        self
    }

    /// No reply timeout for this call.
    pub fn no_timeout(mut self) -> Self {
        self.opts.timeout = Some(None);
        self
    }

    /// File descriptors to pass with the command (Unix sockets only).
    pub fn fds(mut self, fds: impl IntoIterator<Item = OwnedFd>) -> Self {
        self.opts.fds.extend(fds);
        self
    }

    /// Runs the command out-of-band. Untyped, so not checked at compile
    /// time: QEMU refuses commands that do not allow it.
    pub fn oob(mut self) -> Self {
        self.opts.oob = true;
        self
    }

    /// Sends the command and returns its `return` value.
    pub async fn send(self) -> Result<serde_json::Value, Error> {
        let name = self.name;
        self.send_reply().await?.to_value_of(name)
    }

    /// Sends the command and returns the reply undecoded: the message
    /// exactly as received ([`RawReply::message`]) and its `return` slice
    /// ([`RawReply::json`]), for callers that decode themselves.
    pub async fn send_reply(self) -> Result<RawReply, Error> {
        let p = self
            .qmp
            .start(
                Cow::Owned(self.name.to_owned()),
                &self.args,
                self.opts,
                true,
            )
            .await?;
        p.ok_or(Error::Closed)?.wait().await
    }
}
