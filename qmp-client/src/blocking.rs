//! The blocking transport (std sockets, no runtime, no background thread).
//!
//! Design ("leader/follower"): [`Qmp`] is `Send + Sync`; any number of
//! threads may call it at once. A caller writes its command (under a write
//! lock, whole messages only), then waits for its reply. Whoever waits
//! first becomes the *reader*: it reads the socket and feeds the shared
//! sans-io connection, which files every reply under its id and every
//! event into the bounded event buffer, then wakes the others. When the
//! reader has its own reply it hands the role to the next waiter. So a
//! single-threaded caller pays no thread hand-off at all, and nothing is
//! lost while commands run: events read while waiting for replies are
//! buffered (bounded, drop-oldest + [`EventError::Lagged`]), events that
//! arrive while nobody waits stay in the socket until someone reads.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::marker::PhantomData;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use qmp_types::{ClientBlocking, Command, EventKind, OobCommand};
use serde::Serialize;

use crate::config::{Builder, CallOpts};
use crate::error::{Error, IoOp, TimeoutKind};
use crate::events::{EventError, FromRawEvent, Next, TypedEvent, next_item};
use crate::fd;
use crate::proto::{
    Connection, ExecOptions, Greeting, Mode, ProtoConfig, RawEvent, RawReply, Stats,
};
use crate::readbuf::ReadBuf;
use crate::reconnect::{ClientEvent, ReconnectPolicy, Target};
use crate::shared::sync_value;
use crate::shared::{Shared, State, Transmits, WRITE_FAILURE_GRACE, Waiter};

/// How long a caller whose write failed waits for the input the server
/// sent before it went (see `Inner::drain`).
const DRAIN_WAIT: Duration = Duration::from_millis(20);

/// A blocking byte stream the client can run on: std's `UnixStream` and
/// `TcpStream` (and anything like them).
pub trait Stream: Read + Write + Send + Sync + Sized + 'static {
    /// A second handle to the same socket (for reading while writing).
    fn try_clone(&self) -> std::io::Result<Self>;
    /// Sets the read timeout (`None`: block).
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
    /// Sets the write timeout (`None`: block).
    fn set_write_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
    /// Shuts both directions down (wakes a blocked reader).
    fn shutdown(&self) -> std::io::Result<()>;
    /// Writes a prefix of `data` with `fds` attached; unsupported by
    /// default.
    fn send_with_fds(&self, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<usize> {
        let _ = (data, fds);
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "fd passing needs a Unix socket",
        ))
    }
    /// Whether [`send_with_fds`](Self::send_with_fds) works.
    fn fd_passing(&self) -> bool {
        false
    }
}

impl Stream for UnixStream {
    fn try_clone(&self) -> std::io::Result<Self> {
        UnixStream::try_clone(self)
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        UnixStream::set_read_timeout(self, t)
    }
    fn set_write_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        UnixStream::set_write_timeout(self, t)
    }
    fn shutdown(&self) -> std::io::Result<()> {
        UnixStream::shutdown(self, std::net::Shutdown::Both)
    }
    fn send_with_fds(&self, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<usize> {
        fd::send_with_fds(self, data, fds)
    }
    fn fd_passing(&self) -> bool {
        true
    }
}

impl Stream for TcpStream {
    fn try_clone(&self) -> std::io::Result<Self> {
        TcpStream::try_clone(self)
    }
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        TcpStream::set_read_timeout(self, t)
    }
    fn set_write_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        TcpStream::set_write_timeout(self, t)
    }
    fn shutdown(&self) -> std::io::Result<()> {
        TcpStream::shutdown(self, std::net::Shutdown::Both)
    }
}

trait Io: Send + Sync {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    fn set_read_timeout(&mut self, t: Option<Duration>) -> std::io::Result<()>;
}

struct ReadSide<S> {
    s: S,
    timeout: Option<Duration>,
}

impl<S: Stream> Io for ReadSide<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.s.read(buf)
    }
    fn set_read_timeout(&mut self, t: Option<Duration>) -> std::io::Result<()> {
        if t != self.timeout {
            self.s.set_read_timeout(t)?;
            self.timeout = t;
        }
        Ok(())
    }
}

trait WriteIo: Send + Sync {
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()>;
    fn send_with_fds(&mut self, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<usize>;
    fn shutdown(&self);
}

struct WriteSide<S>(S);

impl<S: Stream> WriteIo for WriteSide<S> {
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.0.write_all(data)?;
        self.0.flush()
    }
    fn send_with_fds(&mut self, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<usize> {
        self.0.send_with_fds(data, fds)
    }
    fn shutdown(&self) {
        let _ = self.0.shutdown();
    }
}

/// What a parked caller waits for (who to wake when).
#[derive(Clone, Copy)]
enum Role {
    Handshake,
    Reply(u64),
    Event,
    /// Reads what is already there after a write failure.
    Drain,
}

struct Inner {
    shared: Arc<Shared>,
    reader: Mutex<(Box<dyn Io>, ReadBuf)>,
    writer: Mutex<Box<dyn WriteIo>>,
    greeting: Option<Greeting>,
    command_timeout: Option<Duration>,
    fd_passing: bool,
    /// The live capabilities, once fetched.
    caps: crate::caps::Cache,
    /// Refuse calls the live QEMU cannot run ([`Builder::check_capabilities`]).
    check_caps: bool,
    /// With a reconnect policy: how to reconnect.
    reconnect: Option<Reconnector>,
    /// This client, for the thread that ends a link whose write side
    /// failed (set once the client is built).
    this: OnceLock<Weak<Inner>>,
}

/// How a blocking client reconnects. There is no background thread while
/// connected: when the link is lost, one thread is started that makes the
/// attempts (backoff, connect, handshake) and ends with the outage.
struct Reconnector {
    policy: ReconnectPolicy,
    target: Target,
    proto: ProtoConfig,
    connect_timeout: Option<Duration>,
    handshake_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Set by [`Qmp::reconnect`]: skip the backoff wait.
    kick: std::sync::atomic::AtomicBool,
    /// The reconnecting thread, while it runs (to wake it).
    thread: Mutex<Option<std::thread::Thread>>,
}

/// The two halves of a connection.
type Halves = (Box<dyn Io>, Box<dyn WriteIo>);

/// Connects to `target` (one attempt) and splits the stream.
fn connect_target(
    target: &Target,
    connect_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
) -> Result<Halves, Error> {
    fn parts<S: Stream>(s: S, wt: Option<Duration>) -> std::io::Result<Halves> {
        let r = s.try_clone()?;
        s.set_write_timeout(wt)?;
        Ok((
            Box::new(ReadSide {
                s: r,
                timeout: None,
            }),
            Box::new(WriteSide(s)),
        ))
    }
    let io = |e| Error::io(IoOp::Connect, e);
    match target {
        Target::Unix(p) => parts(UnixStream::connect(p).map_err(io)?, write_timeout).map_err(io),
        Target::Tcp(addrs) => {
            let mut last = None;
            for a in addrs {
                let r = match connect_timeout {
                    Some(t) => TcpStream::connect_timeout(a, t),
                    None => TcpStream::connect(a),
                };
                match r {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return parts(s, write_timeout).map_err(io);
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(io(last.unwrap_or_else(|| {
                std::io::Error::other("no address to connect to")
            })))
        }
    }
}

/// Starts the reconnecting thread unless one runs (called with the state
/// locked, when the link is lost or the client finished).
fn on_lost(weak: &Weak<Inner>, st: &mut State) {
    if st.reconnecting || st.closed.is_some() || st.lost.is_none() {
        return;
    }
    let weak = weak.clone();
    let spawned = std::thread::Builder::new()
        .name("qmp-reconnect".into())
        .spawn(move || reconnect_thread(weak));
    match spawned {
        Ok(_) => st.reconnecting = true,
        Err(e) => st.finish(Error::io(IoOp::Connect, e)),
    }
}

/// Makes attempts until connected, closed, given up or the client is
/// dropped.
fn reconnect_thread(weak: Weak<Inner>) {
    let mut attempt = 0u32;
    let mut last = None;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let Some(rc) = &inner.reconnect else { return };
        {
            let mut st = inner.shared.lock();
            if st.closed.is_some() || st.lost.is_none() {
                // Connected again, or closed: done. (A later outage starts
                // a new thread: the flag is cleared under the same lock.)
                st.reconnecting = false;
                *lock(&rc.thread) = None;
                return;
            }
            if attempt == 0 {
                last = st.lost.clone();
            }
        }
        *lock(&rc.thread) = Some(std::thread::current());
        attempt = attempt.saturating_add(1);
        if !rc.policy.allows(attempt) {
            let mut st = inner.shared.lock();
            st.finish(last.unwrap_or(Error::Disconnected { partial: false }));
            st.reconnecting = false;
            return;
        }
        // The backoff, cut short by `reconnect()` or the close; the client
        // is not kept alive meanwhile.
        let wake_at = Instant::now() + rc.policy.delay(attempt);
        drop(inner);
        loop {
            let Some(inner) = weak.upgrade() else { return };
            let Some(rc) = &inner.reconnect else { return };
            let now = Instant::now();
            if now >= wake_at
                || rc.kick.swap(false, std::sync::atomic::Ordering::SeqCst)
                || inner.shared.lock().closed.is_some()
            {
                break;
            }
            drop(inner);
            std::thread::park_timeout((wake_at - now).min(Duration::from_millis(200)));
        }
        let Some(inner) = weak.upgrade() else { return };
        match inner.reconnect_once(attempt) {
            Ok(()) => {
                attempt = 0;
                last = None;
            }
            Err(e) => last = Some(e),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.close(Error::Closed);
        lock(&self.writer).shutdown();
    }
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A blocking QMP (or guest agent) client: `Send + Sync`, cheap to clone,
/// pipelining across threads. See the module documentation.
#[derive(Clone)]
pub struct Qmp {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Qmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Qmp")
            .field("greeting", &self.inner.greeting)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Completes the handshake on a stream already connected to the Unix
    /// socket `path` (reconnects, with a policy, go to `path`).
    pub(crate) fn connect_unix_stream_at_blocking(
        self,
        s: UnixStream,
        path: &Path,
    ) -> Result<Qmp, Error> {
        self.connect_blocking_to(s, Some(Target::Unix(path.to_owned())))
    }

    /// Blocking: connects to a Unix socket and completes the handshake.
    pub fn connect_unix_blocking(self, path: impl AsRef<Path>) -> Result<Qmp, Error> {
        let s = UnixStream::connect(&path).map_err(|e| Error::io(IoOp::Connect, e))?;
        let target = Target::Unix(path.as_ref().to_owned());
        self.connect_blocking_to(s, Some(target))
    }

    /// Blocking: connects to a TCP address and completes the handshake.
    pub fn connect_tcp_blocking(self, addr: impl ToSocketAddrs) -> Result<Qmp, Error> {
        let mut last = None;
        let addrs: Vec<std::net::SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|e| Error::io(IoOp::Connect, e))?
            .collect();
        for a in &addrs {
            let r = match self.connect_timeout {
                Some(t) => TcpStream::connect_timeout(a, t),
                None => TcpStream::connect(a),
            };
            match r {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let target = Target::Tcp(addrs.clone());
                    return self.connect_blocking_to(s, Some(target));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Error::io(
            IoOp::Connect,
            last.unwrap_or_else(|| std::io::Error::other("no address to connect to")),
        ))
    }

    /// Blocking: completes the handshake on a connected stream (e.g. one
    /// end of `UnixStream::pair()`). The client cannot reconnect (it does
    /// not know where the stream came from).
    pub fn connect_blocking<S: Stream>(self, s: S) -> Result<Qmp, Error> {
        self.connect_blocking_to(s, None)
    }

    fn connect_blocking_to<S: Stream>(self, s: S, target: Option<Target>) -> Result<Qmp, Error> {
        let r = s.try_clone().map_err(|e| Error::io(IoOp::Connect, e))?;
        s.set_write_timeout(self.write_timeout)
            .map_err(|e| Error::io(IoOp::Connect, e))?;
        let fd_passing = s.fd_passing();
        let shared = Arc::new(Shared::new(
            Connection::new(self.proto),
            self.event_capacity,
        ));
        // From the start, so that a drop right after the handshake is an
        // outage too (a failed handshake still fails the connect).
        shared.lock().reconnect =
            self.reconnect.is_some() && target.is_some() && self.proto.mode == Mode::Qmp;
        let mut inner = Inner {
            shared,
            reader: Mutex::new((
                Box::new(ReadSide {
                    s: r,
                    timeout: None,
                }),
                ReadBuf::new(),
            )),
            writer: Mutex::new(Box::new(WriteSide(s))),
            greeting: None,
            command_timeout: self.command_timeout,
            fd_passing,
            caps: crate::caps::Cache::default(),
            check_caps: self.check_capabilities && self.proto.mode != Mode::GuestAgent,
            reconnect: None,
            this: OnceLock::new(),
        };
        let deadline = self.handshake_timeout.map(|t| Instant::now() + t);
        let hs = inner.wait(deadline, TimeoutKind::Handshake, Role::Handshake, |st| {
            st.handshake.clone()
        });
        match hs {
            Ok(Ok(g)) => inner.greeting = g,
            Ok(Err(e)) | Err(e) => {
                inner.shared.close(e.clone());
                return Err(e);
            }
        }
        if let (Some(policy), Some(target), Mode::Qmp) = (self.reconnect, target, self.proto.mode) {
            inner.reconnect = Some(Reconnector {
                policy,
                target,
                proto: self.proto,
                connect_timeout: self.connect_timeout,
                handshake_timeout: self.handshake_timeout,
                write_timeout: self.write_timeout,
                kick: Default::default(),
                thread: Mutex::new(None),
            });
        }
        let qmp = Qmp {
            inner: Arc::new(inner),
        };
        let _ = qmp.inner.this.set(Arc::downgrade(&qmp.inner));
        if qmp.inner.reconnect.is_some() {
            let weak = Arc::downgrade(&qmp.inner);
            let mut st = qmp.inner.shared.lock();
            st.on_lost = Some(Box::new(move |st| on_lost(&weak, st)));
            // Lost between the handshake and now.
            on_lost(&Arc::downgrade(&qmp.inner), &mut st);
        }
        if self.proto.mode == Mode::GuestAgent {
            if let Err(e) = qmp.guest_sync_until(deadline) {
                qmp.inner.shared.close(e.clone());
                return Err(e);
            }
        }
        Ok(qmp)
    }
}

impl Inner {
    /// One reconnect attempt: connect, install the new socket, handshake.
    fn reconnect_once(&self, attempt: u32) -> Result<(), Error> {
        let rc = self.reconnect.as_ref().ok_or(Error::Closed)?;
        // The new server may differ: capabilities are fetched again when
        // next needed (calls fail fast until the link is up).
        self.caps.clear();
        // Wake a reader still blocked on the old socket.
        lock(&self.writer).shutdown();
        let (r, w) = connect_target(&rc.target, rc.connect_timeout, rc.write_timeout)?;
        lock(&self.reader).0 = r;
        let epoch = {
            let mut wr = lock(&self.writer);
            let mut st = self.shared.lock();
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            *wr = w;
            st.renew(rc.proto, attempt)
        };
        let deadline = rc.handshake_timeout.map(|t| Instant::now() + t);
        let hs = self.wait(deadline, TimeoutKind::Handshake, Role::Handshake, |st| {
            st.handshake.clone()
        });
        match hs {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) | Err(e) => {
                self.shared.close_link(epoch, e.clone());
                Err(e)
            }
        }
    }

    /// Writes what connection `epoch` produced (nothing if it was
    /// replaced meanwhile: those bytes belong to no live server).
    fn write(&self, ts: Transmits, epoch: u64) -> Result<(), Error> {
        if ts.is_empty() {
            return Ok(());
        }
        let mut w = lock(&self.writer);
        if self.shared.lock().epoch != epoch {
            return Err(Error::Disconnected { partial: false });
        }
        for t in ts {
            let mut sent = 0;
            let r = (|| {
                if !t.fds.is_empty() {
                    sent = w.send_with_fds(&t.data, &t.fds)?;
                }
                w.write_all(&t.data[sent..])
            })();
            if let Err(e) = r {
                let err = if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) {
                    Error::Timeout(TimeoutKind::Write)
                } else {
                    Error::io(IoOp::Write, e)
                };
                drop(w);
                if self.shared.write_error(epoch, err.clone()) {
                    self.end_link_after_grace(epoch);
                }
                return Err(err);
            }
        }
        Ok(())
    }

    /// After a failed write to connection `epoch`, the link is read on to
    /// the end of its input; this starts a thread that closes it with the
    /// write error if the input has not ended after
    /// [`WRITE_FAILURE_GRACE`], and wakes a caller blocked reading it
    /// (whose read may have no timeout).
    fn end_link_after_grace(&self, epoch: u64) {
        let Some(this) = self.this.get().cloned() else {
            // Still connecting: the handshake's deadline bounds the wait.
            return;
        };
        // Without a thread, callers still close it at their next read.
        let _ = std::thread::Builder::new()
            .name("qmp-write-failed".to_owned())
            .spawn(move || {
                std::thread::sleep(WRITE_FAILURE_GRACE);
                let Some(inner) = this.upgrade() else { return };
                let w = lock(&inner.writer);
                let mut st = inner.shared.lock();
                if st.epoch != epoch || st.conn.is_closed() {
                    return;
                }
                st.expire_write_failure();
                drop(st);
                w.shutdown();
            });
    }

    /// After a failed write to connection `epoch`: reads what the server
    /// sent before it went, up to the end of the input, so the link closes
    /// (and, with a reconnect policy, reconnects) now rather than when
    /// someone next reads. Waits at most [`DRAIN_WAIT`] for input or for
    /// another caller that is reading.
    fn drain(&self, epoch: u64) {
        let _ = self.wait(
            Some(Instant::now() + DRAIN_WAIT),
            TimeoutKind::Reply,
            Role::Drain,
            |st| (st.epoch != epoch || st.conn.is_closed()).then_some(()),
        );
    }

    /// A call refused by `State::check_link` with `e`: after a write
    /// failure, first reads what is left, as the call whose write failed
    /// did (see [`drain`](Self::drain)).
    fn refuse(&self, st: MutexGuard<'_, State>, e: Error) -> Error {
        let epoch = st.write_failed.is_some().then_some(st.epoch);
        drop(st);
        if let Some(epoch) = epoch {
            self.drain(epoch);
        }
        e
    }

    /// Waits until `check` yields a value, reading the socket if nobody
    /// else is; otherwise parks until woken (its reply filed, an event for
    /// an event consumer, the reader role free, or the close). `deadline`
    /// bounds the wait.
    fn wait<T>(
        &self,
        deadline: Option<Instant>,
        kind: TimeoutKind,
        role: Role,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, Error> {
        let shared = &*self.shared;
        let mut st = shared.lock();
        let r = loop {
            // A link that cannot be written to is read for a while more.
            let grace = st.expire_write_failure();
            if let Some(v) = check(&mut st) {
                break Ok(v);
            }
            if st.closed.is_some() {
                // `check` saw everything there is; nothing more will come.
                break Err(st.closed.clone().unwrap_or(Error::Closed));
            }
            let remaining = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break Err(Error::Timeout(kind));
                    }
                    Some(d - now)
                }
                None => None,
            };
            let remaining = match (remaining, grace) {
                (Some(r), Some(g)) => Some(r.min(g)),
                (r, g) => r.or(g),
            };
            // While reconnecting, only the handshake reads (the new socket).
            let link_down = st.lost.is_some() && !matches!(role, Role::Handshake);
            if st.reading || link_down {
                let me = std::thread::current();
                let my_id = me.id();
                st.followers.push(me.clone());
                match role {
                    Role::Reply(id) => {
                        st.parked_replies.insert(id, me);
                    }
                    Role::Event => st.parked_events.push(me),
                    Role::Handshake | Role::Drain => {}
                }
                drop(st);
                match remaining {
                    Some(r) => std::thread::park_timeout(r),
                    None => std::thread::park(),
                }
                st = shared.lock();
                st.followers.retain(|t| t.id() != my_id);
                match role {
                    Role::Reply(id) => {
                        st.parked_replies.remove(&id);
                    }
                    Role::Event => st.parked_events.retain(|t| t.id() != my_id),
                    Role::Handshake | Role::Drain => {}
                }
                continue;
            }
            st.reading = true;
            let epoch = st.epoch;
            drop(st);
            let mut rd = lock(&self.reader);
            let (io, buf) = &mut *rd;
            let res = io
                .set_read_timeout(remaining)
                .and_then(|()| io.read(buf.space()));
            st = shared.lock();
            st.reading = false;
            if st.epoch != epoch {
                // Read from a replaced connection: ignore.
                drop(rd);
                continue;
            }
            match res {
                Ok(0) => st.conn.handle_eof(),
                Ok(n) => {
                    st.conn.handle_input(buf.data(n));
                    buf.adapt(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => st.conn.close(Error::io(IoOp::Read, e)),
            }
            drop(rd);
            let ts = st.transmits();
            st.dispatch();
            if !ts.is_empty() {
                drop(st);
                // A write failure is recorded in the state; the loop sees
                // the link close at the end of the input.
                let _ = self.write(ts, epoch);
                st = shared.lock();
            }
        };
        // Hand the reader role on if someone is parked waiting for it.
        if !st.reading {
            if let Some(t) = st.followers.first() {
                t.unpark();
            }
        }
        r
    }

    fn send<A: Serialize + ?Sized>(
        &self,
        name: Cow<'static, str>,
        args: &A,
        opts: CallOpts,
        expect_reply: bool,
    ) -> Result<Option<RawReply>, Error> {
        match self.submit(name, args, opts, expect_reply)? {
            Some(p) => p.wait().map(Some),
            None => Ok(None),
        }
    }

    /// Registers and writes a command; returns its [`Pending`] reply if
    /// one is expected (dropping it forgets the command).
    fn submit<A: Serialize + ?Sized>(
        &self,
        name: Cow<'static, str>,
        args: &A,
        opts: CallOpts,
        expect_reply: bool,
    ) -> Result<Option<Pending<'_>>, Error> {
        if !opts.fds.is_empty() && !self.fd_passing {
            return Err(Error::FdPassingUnsupported);
        }
        if self.check_caps && !crate::caps::exempt(&name) {
            self.capabilities()?.check_serialized(&name, args)?;
        }
        let deadline = opts
            .timeout_or(self.command_timeout)
            .map(|t| Instant::now() + t);
        let (id, ts, epoch) = {
            let mut st = self.shared.lock();
            if let Err(e) = st.check_link() {
                return Err(self.refuse(st, e));
            }
            let id = st.conn.execute(
                name,
                args,
                ExecOptions {
                    oob: opts.oob,
                    fds: opts.fds,
                    expect_reply,
                },
            )?;
            if expect_reply {
                st.waiters.insert(id, Waiter::Slot(None));
            }
            (id, st.transmits(), st.epoch)
        };
        if let Err(e) = self.write(ts, epoch) {
            let e = {
                let mut st = self.shared.lock();
                if expect_reply {
                    st.cancel(id);
                }
                st.for_call(e)
            };
            self.drain(epoch);
            return Err(e);
        }
        Ok(expect_reply.then_some(Pending {
            inner: self,
            id,
            deadline,
            armed: true,
        }))
    }

    /// The live capabilities: fetched once (the two queries are exempt
    /// from the check in `submit`), then cached.
    fn capabilities(&self) -> Result<Arc<crate::caps::Capabilities>, Error> {
        match self.caps.get() {
            Some(c) => Ok(c),
            None => self.fetch_capabilities(false),
        }
    }

    /// Fetches the capabilities; `refresh` replaces cached ones.
    fn fetch_capabilities(&self, refresh: bool) -> Result<Arc<crate::caps::Capabilities>, Error> {
        let raw = |name: &'static str| {
            self.send(
                Cow::Borrowed(name),
                &None::<&serde_json::Value>,
                CallOpts::default(),
                true,
            )?
            .ok_or(Error::Closed)?
            .to_value_of(name)
        };
        let schema = raw("query-qmp-schema")?;
        let version = raw("query-version").ok();
        let caps = crate::caps::build(schema, version)?;
        Ok(if refresh {
            self.caps.replace(caps)
        } else {
            self.caps.set(caps)
        })
    }

    fn wait_reply(&self, id: u64, deadline: Option<Instant>) -> Result<RawReply, Error> {
        let r = self.wait(deadline, TimeoutKind::Reply, Role::Reply(id), |st| {
            match st.waiters.get(&id) {
                Some(Waiter::Slot(Some(_))) => match st.waiters.remove(&id) {
                    Some(Waiter::Slot(Some(r))) => Some(r),
                    _ => None,
                },
                Some(_) => None,
                // Not registered any more: the connection closed.
                None => Some(Err(st.closed.clone().unwrap_or(Error::Closed))),
            }
        });
        match r {
            Ok(r) => r,
            Err(e) => {
                self.shared.lock().cancel(id);
                Err(e)
            }
        }
    }
}

impl Qmp {
    /// Options for a new connection.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Connects to a QMP Unix socket with default options.
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Qmp, Error> {
        Builder::new().connect_unix_blocking(path)
    }

    /// Connects to a QMP TCP socket with default options.
    pub fn connect_tcp(addr: impl ToSocketAddrs) -> Result<Qmp, Error> {
        Builder::new().connect_tcp_blocking(addr)
    }

    /// The server greeting (`None` for a guest agent).
    pub fn greeting(&self) -> Option<&Greeting> {
        self.inner.greeting.as_ref()
    }

    /// Whether `oob` was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.inner.shared.lock().conn.oob_enabled()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.inner.shared.lock().conn.stats()
    }

    /// Why the connection is finished, if it is.
    pub fn closed(&self) -> Option<Error> {
        self.inner.shared.lock().closed.clone()
    }

    /// Closes the connection; pending calls fail with [`Error::Closed`].
    /// Closing twice is harmless; a reconnecting client stops trying.
    pub fn close(&self) {
        self.inner.shared.close(Error::Closed);
        lock(&self.inner.writer).shutdown();
        if let Some(rc) = &self.inner.reconnect {
            if let Some(t) = lock(&rc.thread).as_ref() {
                t.unpark();
            }
        }
    }

    /// Whether the client is connected: not closed, and (with a reconnect
    /// policy) not reconnecting. A loss is known once the socket says so
    /// (EOF or an error on a read or write), not before.
    pub fn is_connected(&self) -> bool {
        self.inner.shared.lock().link_up()
    }

    /// Waits at most `timeout` until the client is connected: at once if
    /// it is, after the reconnect if it is reconnecting; the close reason
    /// if it is closed (or the policy gave up);
    /// [`Error::Timeout`]`(`[`TimeoutKind::Connect`]`)` when the time is up.
    pub fn wait_connected(&self, timeout: Option<Duration>) -> Result<(), Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.inner
            .wait(deadline, TimeoutKind::Connect, Role::Event, |st| {
                st.link_up().then_some(())
            })
    }

    /// Reconnects now, without waiting out the backoff, and waits at most
    /// `timeout` until connected (P21). Only while the link is down: a
    /// connected client gives [`Error::AlreadyConnected`] (nothing is
    /// done), a closed one its close reason.
    pub fn reconnect(&self, timeout: Option<Duration>) -> Result<(), Error> {
        {
            let st = self.inner.shared.lock();
            if let Some(e) = &st.closed {
                return Err(e.clone());
            }
            if st.lost.is_none() {
                return Err(Error::AlreadyConnected);
            }
        }
        if let Some(rc) = &self.inner.reconnect {
            rc.kick.store(true, std::sync::atomic::Ordering::SeqCst);
            if let Some(t) = lock(&rc.thread).as_ref() {
                t.unpark();
            }
        }
        self.wait_connected(timeout)
    }

    /// Runs a typed command and returns its typed result, with the
    /// builder's default timeout ([`Builder::command_timeout`]). For
    /// per-call options (timeout, file descriptors, out-of-band) use
    /// [`request`](Self::request).
    ///
    /// ```no_run
    /// # fn demo(qmp: &qmp_client::blocking::Qmp) -> Result<(), qmp_client::Error> {
    /// let status = qmp.call(qmp_types::QueryStatus)?;
    /// println!("running: {}", status.running);
    /// # Ok(()) }
    /// ```
    pub fn call<C: Command>(&self, command: C) -> Result<C::Returns, Error> {
        let reply = self.inner.send(
            Cow::Borrowed(C::NAME),
            &command,
            CallOpts::default(),
            C::SUCCESS_RESPONSE,
        )?;
        decode_typed::<C>(reply)
    }

    /// A typed call with options, sent by [`Request::send`]:
    ///
    /// ```no_run
    /// # fn demo(qmp: &qmp_client::blocking::Qmp, fd: std::os::fd::OwnedFd) -> Result<(), qmp_client::Error> {
    /// use std::time::Duration;
    /// use qmp_types::{Getfd, QueryYank};
    /// // A timeout for this call only.
    /// let status = qmp
    ///     .request(qmp_types::QueryStatus)
    ///     .timeout(Duration::from_secs(2))
    ///     .send()?;
    /// // File descriptors passed with the command (Unix sockets).
    /// qmp.request(Getfd::new("disk0")).fds([fd]).send()?;
    /// // Out-of-band (needs `Builder::oob(true)` and a monitor that offers it).
    /// let instances = qmp.request(QueryYank).oob().send()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Only commands whose schema says `allow-oob` implement
    /// [`OobCommand`], so asking for any other command out-of-band does
    /// not compile:
    ///
    /// ```compile_fail,E0599
    /// # fn f(qmp: &qmp_client::blocking::Qmp) {
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
    pub fn call_raw(
        &self,
        name: &str,
        args: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, Error> {
        self.request_raw(name, args).send()
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

    /// Runs many commands of one type from this thread, pipelined: at
    /// most `window` (at least 1) in flight, each with the builder's
    /// default timeout; the results come back in the order of `commands`.
    /// A failure of one command does not stop the others (after the
    /// connection closes they all fail fast with its error). Other threads
    /// may call the client meanwhile (replies are routed by id).
    ///
    /// ```no_run
    /// # fn f(qmp: &qmp_client::blocking::Qmp) -> Result<(), qmp_client::Error> {
    /// use qmp_types::QueryStatus;
    /// for r in qmp.call_many((0..8).map(|_| QueryStatus), 8) {
    ///     println!("{:?}", r?.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn call_many<C: Command>(
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
                    out.push(finish_typed::<C>(p));
                }
            }
            in_flight.push_back(self.inner.submit(
                Cow::Borrowed(C::NAME),
                &c,
                CallOpts::default(),
                C::SUCCESS_RESPONSE,
            ));
        }
        for p in in_flight {
            out.push(finish_typed::<C>(p));
        }
        out
    }

    /// See [`capabilities`](Self::capabilities).
    pub(crate) fn fetch_capabilities(
        &self,
        refresh: bool,
    ) -> Result<Arc<crate::caps::Capabilities>, Error> {
        if refresh {
            self.inner.fetch_capabilities(true)
        } else {
            self.inner.capabilities()
        }
    }

    /// The per-connection capabilities cache.
    pub(crate) fn caps_cache(&self) -> &crate::caps::Cache {
        &self.inner.caps
    }

    /// Guest agent: resynchronises with `guest-sync-delimited`.
    pub fn guest_sync(&self) -> Result<(), Error> {
        self.guest_sync_until(self.inner.command_timeout.map(|t| Instant::now() + t))
    }

    fn guest_sync_until(&self, deadline: Option<Instant>) -> Result<(), Error> {
        let value = sync_value();
        let (id, ts, epoch) = {
            let mut st = self.inner.shared.lock();
            if let Err(e) = st.check_link() {
                return Err(self.inner.refuse(st, e));
            }
            let id = st.conn.guest_sync(value)?;
            st.waiters.insert(id, Waiter::Slot(None));
            (id, st.transmits(), st.epoch)
        };
        if let Err(e) = self.inner.write(ts, epoch) {
            self.inner.shared.lock().cancel(id);
            self.inner.drain(epoch);
            return Err(e);
        }
        let got: i64 = self
            .inner
            .wait_reply(id, deadline)?
            .decode("guest-sync-delimited")?;
        if got != value {
            return Err(Error::GuestSync(format!("expected {value}, got {got}")));
        }
        Ok(())
    }

    /// The events, raw. See [`Events`].
    pub fn events(&self) -> Events<RawEvent> {
        Events::new(self.clone())
    }

    /// The events with the client's connection notices: QEMU's events as
    /// [`ClientEvent::Event`] and, with a reconnect policy,
    /// [`ClientEvent::Reconnected`] where the connection was replaced.
    pub fn client_events(&self) -> Events<ClientEvent> {
        Events::new(self.clone())
    }

    /// The events decoded as `E`.
    pub fn events_as<E: FromRawEvent>(&self) -> Events<E> {
        Events::new(self.clone())
    }

    /// The events decoded as the event type `K` (e.g. the generated
    /// `Event` enum).
    pub fn typed_events<K: EventKind>(&self) -> Events<TypedEvent<K>> {
        Events::new(self.clone())
    }
}

fn decode_typed<C: Command>(reply: Option<RawReply>) -> Result<C::Returns, Error> {
    match reply {
        Some(r) => r.decode(C::NAME),
        None => serde_json::from_str("{}").map_err(|e| Error::Decode {
            command: C::NAME.to_owned(),
            path: ".".to_owned(),
            message: e.to_string(),
            reply: "{}".into(),
        }),
    }
}

fn finish_typed<C: Command>(p: Result<Option<Pending<'_>>, Error>) -> Result<C::Returns, Error> {
    match p? {
        Some(p) => p.wait()?.decode(C::NAME),
        None => decode_typed::<C>(None),
    }
}

/// A command registered and written, whose reply is still to be taken.
/// Dropped unread (or timed out), it forgets the command: the late reply
/// is dropped and counted.
struct Pending<'a> {
    inner: &'a Inner,
    id: u64,
    deadline: Option<Instant>,
    /// Whether dropping must cancel (false once the reply was taken).
    armed: bool,
}

impl Pending<'_> {
    /// Waits for the reply (reading the socket if no other thread is).
    fn wait(mut self) -> Result<RawReply, Error> {
        // `wait_reply` forgets the command itself when it fails.
        self.armed = false;
        self.inner.wait_reply(self.id, self.deadline)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.inner.shared.lock().cancel(self.id);
        }
    }
}

impl ClientBlocking for Qmp {
    type Error = Error;

    fn execute<C: Command>(&self, command: C) -> Result<C::Returns, Error> {
        Qmp::call(self, command)
    }
}

/// Blocking event iterator: `next()` blocks until an event, a
/// [`EventError::Lagged`] notice, or the close (reported once as
/// [`EventError::Closed`], then `None`). While it waits it reads the socket,
/// so replies of other threads keep flowing.
pub struct Events<E = RawEvent> {
    qmp: Qmp,
    ended: bool,
    _marker: PhantomData<fn() -> E>,
}

impl<E: FromRawEvent> Events<E> {
    fn new(qmp: Qmp) -> Self {
        Events {
            qmp,
            ended: false,
            _marker: PhantomData,
        }
    }

    /// Waits at most `timeout` for the next item; `Ok(None)` after the
    /// close was reported, `Err(Timeout(Event))` on timeout.
    pub fn next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Result<E, EventError>>, Error> {
        self.next_until(Some(Instant::now() + timeout))
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<Result<E, EventError>>, Error> {
        let ended = &mut self.ended;
        let r = self.qmp.inner.wait(
            deadline,
            TimeoutKind::Event,
            Role::Event,
            |st| match next_item::<E>(st, ended) {
                Next::Item(i) => Some(Some(i)),
                Next::End => Some(None),
                Next::Pending => None,
            },
        );
        match r {
            Ok(v) => Ok(v),
            Err(Error::Timeout(k)) => Err(Error::Timeout(k)),
            // Closed while waiting: report it once through the item.
            Err(e) => {
                if self.ended {
                    Ok(None)
                } else {
                    self.ended = true;
                    Ok(Some(Err(EventError::Closed(e))))
                }
            }
        }
    }
}

impl<E: FromRawEvent> Iterator for Events<E> {
    type Item = Result<E, EventError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None).unwrap_or(None)
    }
}

/// A typed call with per-call options, made by [`Qmp::request`]; nothing
/// is sent until [`send`](Self::send).
#[must_use = "nothing is sent until `send`"]
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
    pub fn send(self) -> Result<C::Returns, Error> {
        let reply = self.qmp.inner.send(
            Cow::Borrowed(C::NAME),
            &self.command,
            self.opts,
            C::SUCCESS_RESPONSE,
        )?;
        decode_typed::<C>(reply)
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
#[must_use = "nothing is sent until `send` or `send_reply`"]
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
    pub fn send(self) -> Result<serde_json::Value, Error> {
        let name = self.name;
        self.send_reply()?.to_value_of(name)
    }

    /// Sends the command and returns the reply undecoded: the message
    /// exactly as received ([`RawReply::message`]) and its `return` slice
    /// ([`RawReply::json`]), for callers that decode themselves.
    pub fn send_reply(self) -> Result<RawReply, Error> {
        let r = self.qmp.inner.send(
            Cow::Owned(self.name.to_owned()),
            &self.args,
            self.opts,
            true,
        )?;
        r.ok_or(Error::Closed)
    }
}
