//! The QMP connection state machine.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use qmp_types::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::framer::{FrameError, Framer, Limits, SENTINEL};
use crate::error::{Error, ProtocolErrorKind};
use crate::error_class::{ErrorClass, ErrorReply};

/// Which protocol variant the peer speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// QMP (`qemu-system-*`, `qemu-storage-daemon`): greeting, then
    /// `qmp_capabilities`, then commands and events.
    #[default]
    Qmp,
    /// The guest agent (`qemu-ga`): same framing, no greeting, no
    /// negotiation, no events; a 0xFF byte from the agent resets the
    /// decoder (`guest-sync-delimited`).
    GuestAgent,
}

/// Settings of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProtoConfig {
    /// Protocol variant.
    pub mode: Mode,
    /// Message limits.
    pub limits: Limits,
    /// Enable the `oob` capability when the server offers it.
    pub oob: bool,
}

/// The QEMU version triple of the greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct QemuVersion {
    /// Major version.
    pub major: i64,
    /// Minor version.
    pub minor: i64,
    /// Micro version.
    pub micro: i64,
}

/// The greeting's `version` member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version numbers.
    pub qemu: QemuVersion,
    /// Downstream package string (often empty).
    pub package: String,
}

/// The server greeting: `{"QMP": {"version": ..., "capabilities": [...]}}`.
/// Unknown members and capabilities are kept out of the way (ignored).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Greeting {
    /// The server's version.
    pub version: VersionInfo,
    /// Capabilities the server offers (e.g. `oob`), unknown ones included.
    pub capabilities: Vec<String>,
}

impl Greeting {
    /// Whether the server offers the capability `name`.
    pub fn offers(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }
}

/// A successful reply, undecoded: the whole message text and where its
/// `return` value lies in it. Decoding it into the command's type happens
/// once, directly from that slice.
#[derive(Debug, Clone)]
pub struct RawReply {
    text: String,
    ret: Range<usize>,
}

impl RawReply {
    /// The JSON text of the `return` value.
    pub fn json(&self) -> &str {
        &self.text[self.ret.clone()]
    }

    /// The whole reply message as received.
    pub fn message(&self) -> &str {
        &self.text
    }

    /// The `return` value as a [`serde_json::Value`].
    ///
    /// Fails with [`Error::Unrepresentable`] (carrying the message
    /// verbatim, the JSON path and byte offset) when the value holds
    /// something `Value` cannot keep exactly: a lone surrogate escape or a
    /// number beyond the `f64` range. Nothing is ever replaced.
    pub fn to_value(&self) -> Result<serde_json::Value, Error> {
        exact_value(&self.text, self.ret.clone(), ".return", || {
            "reply".to_owned()
        })
    }

    /// Like [`to_value`](Self::to_value), naming `command` in the error.
    pub fn to_value_of(&self, command: &str) -> Result<serde_json::Value, Error> {
        exact_value(&self.text, self.ret.clone(), ".return", || {
            format!("reply of `{command}`")
        })
    }

    /// Decodes the `return` value as `T`; `command` names the command in
    /// the error. On failure the error carries the JSON path of the
    /// offending value.
    pub fn decode<T: DeserializeOwned>(&self, command: &str) -> Result<T, Error> {
        match serde_json::from_str(self.json()) {
            Ok(v) => Ok(v),
            Err(first) => {
                // Slow path, only on failure: decode again to learn where.
                let mut de = serde_json::Deserializer::from_str(self.json());
                let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                    Err(e) => (e.path().to_string(), e.into_inner().to_string()),
                    Ok(_) => (".".to_owned(), first.to_string()),
                };
                let path = normalize_path(path);
                Err(Error::Decode {
                    command: command.to_owned(),
                    path,
                    message,
                    reply: self.json().into(),
                })
            }
        }
    }
}

/// Decodes `text[range]` as a [`serde_json::Value`], or says exactly where
/// and why it cannot be represented (`prefix` is the JSON path of the
/// range inside the message). The framer and the envelope parser accept
/// such values (they are valid JSON text), so this is the one place where
/// they surface.
fn exact_value(
    text: &str,
    range: Range<usize>,
    prefix: &str,
    what: impl FnOnce() -> String,
) -> Result<serde_json::Value, Error> {
    let slice = &text[range.clone()];
    let mut de = serde_json::Deserializer::from_str(slice);
    // `range` is one complete JSON value (checked by the envelope parser),
    // so nothing can follow it.
    match serde_path_to_error::deserialize::<_, serde_json::Value>(&mut de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let offset = range.start + line_col_offset(slice, inner.line(), inner.column());
            let path = normalize_path(path);
            let path = match (prefix, path.as_str()) {
                ("", p) => p.to_owned(),
                (pre, ".") => pre.to_owned(),
                (pre, p) => format!("{pre}{p}"),
            };
            // serde_json appends " at line L column C" (relative to the
            // slice, so misleading here): the offset replaces it.
            let mut message = inner.to_string();
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
            if message.contains("surrogate") || message.contains("hex escape") {
                message = format!("a lone UTF-16 surrogate escape ({message})");
            }
            Err(Error::Unrepresentable {
                what: what(),
                path,
                offset,
                message,
                raw: Arc::from(text),
            })
        }
    }
}

/// The byte offset of serde_json's 1-based `line` / `column` in `text`
/// (the position of the last byte read when the error was found).
fn line_col_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Puts decode-error paths in one form, `.a.b[2]` (`.` for the value
/// itself): serde's paths (`a.b[2]`) get a leading dot. The generated
/// bindings decode with serde visitors, so their errors carry no path of
/// their own.
fn normalize_path(path: String) -> String {
    if path == "." || path.is_empty() {
        ".".to_owned()
    } else if path.starts_with('[') || path.starts_with('.') {
        path
    } else {
        format!(".{path}")
    }
}

/// An event as received: its name, timestamp and the whole message text.
#[derive(Debug, Clone)]
pub struct RawEvent {
    text: String,
    name: String,
    timestamp: Timestamp,
    data: Option<Range<usize>>,
}

impl RawEvent {
    /// The event name, e.g. `STOP`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event timestamp (`-1/-1` when QEMU could not read the clock).
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The JSON text of `data`, if present.
    pub fn data_json(&self) -> Option<&str> {
        self.data.as_ref().map(|r| &self.text[r.clone()])
    }

    /// The whole message `{"event": ..., "data": ..., "timestamp": ...}`.
    pub fn message(&self) -> &str {
        &self.text
    }

    /// The whole message as a [`serde_json::Value`]; fails with
    /// [`Error::Unrepresentable`] (message kept verbatim, path and byte
    /// offset named) when it holds a value `Value` cannot keep exactly.
    pub fn to_value(&self) -> Result<serde_json::Value, Error> {
        exact_value(&self.text, 0..self.text.len(), "", || {
            format!("event {}", self.name)
        })
    }

    /// Decodes the whole message (`event`, `data`, `timestamp` members) as
    /// `E`, e.g. the generated event enum. On failure the error carries the
    /// JSON path of the offending value in the message (`.data.reason`).
    pub fn decode<E: DeserializeOwned>(&self) -> Result<E, Error> {
        serde_json::from_str(&self.text).map_err(|first| {
            // Slow path, only on failure: decode again to learn where.
            let mut de = serde_json::Deserializer::from_str(&self.text);
            let (path, message) = match serde_path_to_error::deserialize::<_, E>(&mut de) {
                Err(e) => (
                    normalize_path(e.path().to_string()),
                    e.into_inner().to_string(),
                ),
                Ok(_) => (".".to_owned(), first.to_string()),
            };
            Error::Decode {
                command: format!("event {}", self.name),
                path,
                message,
                reply: self.text.as_str().into(),
            }
        })
    }
}

/// Bytes for the transport to write, with file descriptors to pass in the
/// same `sendmsg` as the first byte (Unix sockets only).
#[derive(Debug, Default)]
pub struct Transmit {
    /// The bytes: one complete message (possibly preceded by a 0xFF).
    pub data: Vec<u8>,
    /// File descriptors to attach (`SCM_RIGHTS`).
    pub fds: Vec<OwnedFd>,
}

/// What the state machine reports to its driver.
#[derive(Debug)]
pub enum Output {
    /// The handshake completed: commands can flow. Carries the greeting in
    /// QMP mode (the guest agent has none).
    Ready(Option<Greeting>),
    /// The outcome of the command with this id.
    Reply {
        /// The id returned by [`Connection::execute`].
        id: u64,
        /// The reply or a typed error.
        result: Result<RawReply, Error>,
    },
    /// An event.
    Event(RawEvent),
    /// The connection is finished; every pending command has received a
    /// [`Output::Reply`] with this error first.
    Closed(Error),
}

/// How to send one command.
#[derive(Debug, Default)]
pub struct ExecOptions {
    /// Use `exec-oob` (requires the `oob` capability).
    pub oob: bool,
    /// File descriptors to pass along with the command.
    pub fds: Vec<OwnedFd>,
    /// Whether a reply is expected; `false` for commands with
    /// `success-response: false` (nothing is registered for them).
    pub expect_reply: bool,
}

/// Counters of things dropped on purpose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Replies whose id was unknown or late (cancelled / timed out).
    pub unknown_replies: u64,
    /// Messages that are neither greeting, reply nor event.
    pub unknown_messages: u64,
    /// Messages received.
    pub messages: u64,
}

/// The most events kept from before the handshake completed; one more
/// fails the handshake (QEMU sends at most a startup event or two).
const EARLY_EVENTS_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitGreeting,
    Negotiating { id: u64, greeting: Greeting },
    Ready,
    Closed,
}

/// The members of any server message, borrowed from the frame.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, rename = "QMP")]
    qmp: Option<&'a RawValue>,
    #[serde(borrow, rename = "return")]
    ret: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
}

/// The sans-io QMP state machine.
///
/// It owns no socket and reads no clock. Its driver:
///
/// 1. feeds every byte read with [`handle_input`](Self::handle_input), or
///    reports end of stream with [`handle_eof`](Self::handle_eof) or a
///    read failure with [`close`](Self::close);
/// 2. queues commands with [`execute`](Self::execute), getting their id;
/// 3. after each of those calls, writes everything
///    [`poll_transmit`](Self::poll_transmit) yields, then handles everything
///    [`poll_output`](Self::poll_output) yields (replies by id, events,
///    handshake completion, close).
///
/// Timeouts are the driver's business: when it gives up waiting for a
/// reply it calls [`cancel`](Self::cancel), and the late reply, if it ever
/// comes, is dropped and counted in [`stats`](Self::stats).
#[derive(Debug)]
pub struct Connection {
    framer: Framer,
    core: Core,
}

#[derive(Debug)]
struct Core {
    config: ProtoConfig,
    state: State,
    greeting: Option<Greeting>,
    oob_enabled: bool,
    next_id: u64,
    pending: IdMap<Cow<'static, str>>,
    transmit: VecDeque<Transmit>,
    /// Commands queued before the handshake completed (P6), with their id
    /// and whether they count against the in-band cap.
    held: VecDeque<(u64, bool, Transmit)>,
    /// With `oob` enabled: ids of in-band commands written and not yet
    /// answered (cancelled ones included: the server still holds them).
    inband_in_flight: std::collections::HashSet<u64>,
    /// With `oob` enabled: in-band commands waiting for a free slot.
    inband_queued: VecDeque<(u64, Transmit)>,
    output: VecDeque<Output>,
    /// Events that arrived before the handshake completed, delivered right
    /// after [`Output::Ready`] (at most [`EARLY_EVENTS_MAX`]).
    early_events: Vec<Output>,
    stats: Stats,
    /// Why the connection closed (returned to later callers, P16).
    closed_with: Option<Error>,
}

impl Connection {
    /// A new connection in its initial state (awaiting the greeting in QMP
    /// mode, ready at once in guest-agent mode).
    pub fn new(config: ProtoConfig) -> Self {
        Self::with_first_id(config, 1)
    }

    /// A new connection whose command ids start at `first_id` (a client
    /// reconnecting continues its previous connection's ids, so ids stay
    /// unique for the client's whole life, P21).
    pub fn with_first_id(config: ProtoConfig, first_id: u64) -> Self {
        let ga = config.mode == Mode::GuestAgent;
        let mut core = Core {
            config,
            state: if ga {
                State::Ready
            } else {
                State::AwaitGreeting
            },
            greeting: None,
            oob_enabled: false,
            next_id: first_id.max(1),
            pending: IdMap::default(),
            transmit: VecDeque::new(),
            held: VecDeque::new(),
            inband_in_flight: std::collections::HashSet::new(),
            inband_queued: VecDeque::new(),
            output: VecDeque::new(),
            early_events: Vec::new(),
            stats: Stats::default(),
            closed_with: None,
        };
        if ga {
            core.output.push_back(Output::Ready(None));
        }
        Connection {
            framer: Framer::new(config.limits, ga),
            core,
        }
    }

    /// Feeds bytes read from the server.
    pub fn handle_input(&mut self, input: &[u8]) {
        if self.core.state == State::Closed {
            return;
        }
        let core = &mut self.core;
        let res = self.framer.push(input, &mut |frame, end| {
            core.handle_frame(frame, end - frame.len() as u64);
        });
        if let Err(e) = res {
            let err = match e {
                FrameError::TooLarge { limit } => Error::MessageTooLarge { limit },
                FrameError::TooDeep { limit } => Error::TooDeep { limit },
                FrameError::UnexpectedByte { byte, offset } => Error::Protocol {
                    kind: ProtocolErrorKind::UnexpectedByte(byte),
                    offset,
                },
            };
            self.core.fail(err);
        }
    }

    /// Reports the end of the stream.
    pub fn handle_eof(&mut self) {
        let partial = self.framer.in_message();
        let err = match self.core.state {
            State::AwaitGreeting => {
                Error::Greeting("connection closed before the greeting".to_owned())
            }
            State::Negotiating { .. } => {
                Error::Negotiation("connection closed during negotiation".to_owned())
            }
            _ => Error::Disconnected { partial },
        };
        self.core.fail(err);
    }

    /// Closes the connection with `error` (a read failure, a handshake
    /// timeout, the owner closing it): every pending command fails with it.
    pub fn close(&mut self, error: Error) {
        self.core.fail(error);
    }

    /// Queues a command and returns its id. `args` is serialized as the
    /// `arguments` member (omitted when it serializes to `null`).
    pub fn execute<A: Serialize + ?Sized>(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        args: &A,
        opts: ExecOptions,
    ) -> Result<u64, Error> {
        let name = name.into();
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        if opts.oob && !self.core.oob_enabled {
            return Err(Error::OobNotEnabled);
        }
        let id = self.core.next_id;
        let data = encode_command(&name, args, id, opts.oob).map_err(|e| Error::Encode {
            command: name.to_string(),
            message: e.to_string(),
        })?;
        self.core.next_id += 1;
        if opts.expect_reply {
            self.core.pending.insert(id, name);
        }
        let t = Transmit {
            data,
            fds: opts.fds,
        };
        // Only commands whose reply can be waited for can be counted.
        let capped = !opts.oob && opts.expect_reply;
        if self.core.state == State::Ready {
            self.core.submit(id, capped, t);
        } else {
            self.core.held.push_back((id, capped, t));
        }
        Ok(id)
    }

    /// Guest agent: queues `guest-sync-delimited` with `value`, preceded by
    /// a 0xFF byte that flushes the agent's parser, and discards everything
    /// received until the agent's 0xFF sentinel. Returns the command id;
    /// its reply must echo `value`.
    pub fn guest_sync(&mut self, value: i64) -> Result<u64, Error> {
        #[derive(Serialize)]
        struct Args {
            id: i64,
        }
        let id = self.execute(
            "guest-sync-delimited",
            &Args { id: value },
            ExecOptions {
                expect_reply: true,
                ..ExecOptions::default()
            },
        )?;
        if let Some(t) = self.core.transmit.back_mut() {
            t.data.insert(0, SENTINEL);
        }
        self.framer.discard_until_sentinel();
        Ok(id)
    }

    /// Stops waiting for the reply of `id` (timeout or cancellation). A
    /// late reply is dropped and counted. Returns whether it was pending.
    pub fn cancel(&mut self, id: u64) -> bool {
        // Not written yet (waiting for an in-band slot): never written.
        self.core.inband_queued.retain(|(q, _)| *q != id);
        self.core.held.retain(|(q, _, _)| *q != id);
        self.core.pending.remove(&id).is_some()
    }

    /// In-band commands waiting for a slot because [`MAX_INBAND_IN_FLIGHT`]
    /// are already in flight (only with `oob` enabled).
    pub fn queued(&self) -> usize {
        self.core.inband_queued.len()
    }

    /// The next bytes to write.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.core.transmit.pop_front()
    }

    /// The next output for the driver.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.core.output.pop_front()
    }

    /// Whether the handshake has completed and the connection is open.
    pub fn is_ready(&self) -> bool {
        self.core.state == State::Ready
    }

    /// Whether the connection is finished.
    pub fn is_closed(&self) -> bool {
        self.core.state == State::Closed
    }

    /// The greeting, once received.
    pub fn greeting(&self) -> Option<&Greeting> {
        self.core.greeting.as_ref()
    }

    /// Whether `oob` was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.core.oob_enabled
    }

    /// The id the next command will get.
    pub fn next_id(&self) -> u64 {
        self.core.next_id
    }

    /// Number of commands awaiting a reply.
    pub fn pending(&self) -> usize {
        self.core.pending.len()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    fn closed_error(&self) -> Option<Error> {
        self.core.closed_with.clone()
    }
}

/// Serializes `{"execute": name, "arguments": args, "id": id}` (without
/// `arguments` when they are `null` or `{}`) in one
/// buffer; the serializer escapes every string, so no raw newline can
/// split the message (P22).
fn encode_command<A: Serialize + ?Sized>(
    name: &str,
    args: &A,
    id: u64,
    oob: bool,
) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + name.len());
    out.extend_from_slice(if oob {
        b"{\"exec-oob\":"
    } else {
        b"{\"execute\":"
    });
    serde_json::to_writer(&mut out, name)?;
    let mark = out.len();
    out.extend_from_slice(b",\"arguments\":");
    let args_at = out.len();
    serde_json::to_writer(&mut out, args)?;
    // No arguments and empty arguments mean the same to the server; the
    // shorter message is less for it to parse.
    if matches!(&out[args_at..], b"null" | b"{}") {
        out.truncate(mark);
    }
    out.extend_from_slice(b",\"id\":");
    push_decimal(&mut out, id);
    out.push(b'}');
    Ok(out)
}

/// Hashes the client's own command ids (sequential integers, never chosen
/// by the peer, so no flooding to resist): one multiply, spreading
/// consecutive ids over the table, instead of SipHash on every call.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by command id.
pub(crate) type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Appends `n` in decimal (no temporary string on the per-call path).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// With `oob` enabled, QEMU queues at most this many in-band commands per
/// monitor and stops reading the socket while its queue is full; the QMP
/// specification tells clients to keep at most eight in flight. The
/// connection holds further in-band commands back (in order) until a reply
/// frees a slot, so out-of-band commands, which bypass QEMU's queue, are
/// never stuck behind them on the wire.
pub const MAX_INBAND_IN_FLIGHT: usize = 8;

impl Core {
    /// Queues a command for writing, respecting the in-band cap.
    fn submit(&mut self, id: u64, capped: bool, t: Transmit) {
        if !(capped && self.oob_enabled) {
            self.transmit.push_back(t);
        } else if self.inband_in_flight.len() < MAX_INBAND_IN_FLIGHT
            && self.inband_queued.is_empty()
        {
            self.inband_in_flight.insert(id);
            self.transmit.push_back(t);
        } else {
            self.inband_queued.push_back((id, t));
        }
    }

    /// A reply to `id` arrived: frees its in-band slot, if it had one.
    fn release(&mut self, id: u64) {
        if self.inband_in_flight.remove(&id) {
            while self.inband_in_flight.len() < MAX_INBAND_IN_FLIGHT {
                let Some((qid, t)) = self.inband_queued.pop_front() else {
                    break;
                };
                self.inband_in_flight.insert(qid);
                self.transmit.push_back(t);
            }
        }
    }

    fn fail(&mut self, err: Error) {
        // Before the handshake completes, framing and protocol failures are
        // reported as greeting / negotiation failures (P5, P6).
        let framing = matches!(
            err,
            Error::Protocol { .. }
                | Error::InvalidUtf8 { .. }
                | Error::MessageTooLarge { .. }
                | Error::TooDeep { .. }
                | Error::Disconnected { .. }
        );
        let err = match self.state {
            State::Closed => return,
            State::AwaitGreeting if framing => Error::Greeting(err.to_string()),
            State::Negotiating { .. } if framing => Error::Negotiation(err.to_string()),
            _ => err,
        };
        self.state = State::Closed;
        self.closed_with = Some(err.clone());
        self.held.clear();
        self.early_events.clear();
        self.inband_queued.clear();
        self.inband_in_flight.clear();
        let mut ids: Vec<u64> = self.pending.drain().map(|(id, _)| id).collect();
        ids.sort_unstable();
        for id in ids {
            self.output.push_back(Output::Reply {
                id,
                result: Err(err.clone()),
            });
        }
        self.output.push_back(Output::Closed(err));
    }

    fn handle_frame(&mut self, frame: &[u8], offset: u64) {
        if self.state == State::Closed {
            return;
        }
        self.stats.messages += 1;
        let text = match std::str::from_utf8(frame) {
            Ok(t) => t,
            Err(e) => {
                self.fail(Error::InvalidUtf8 {
                    offset: offset + e.valid_up_to() as u64,
                });
                return;
            }
        };
        let env: Envelope<'_> = match serde_json::from_str(text) {
            Ok(env) => env,
            Err(e) => {
                let err = if e.to_string().contains("recursion limit") {
                    Error::TooDeep {
                        limit: self.config.limits.max_depth,
                    }
                } else {
                    Error::Protocol {
                        kind: ProtocolErrorKind::Malformed(e.to_string()),
                        offset,
                    }
                };
                self.fail(err);
                return;
            }
        };
        if self.state == State::AwaitGreeting {
            match env.event {
                // A real server can send an event first: QEMU 5.2 started
                // without `-S` writes its startup `RESUME` to a client that
                // connects at once, before the greeting (seen in this
                // project's live tests). The event is kept for after the
                // handshake and the greeting is still awaited (the
                // handshake timeout bounds the wait).
                Some(ev) if env.qmp.is_none() => self.handle_event(text, ev, &env),
                _ => self.handle_greeting(&env),
            }
            return;
        }
        if env.ret.is_some() || env.error.is_some() {
            self.handle_reply(text, &env, offset);
        } else if let Some(ev) = env.event {
            self.handle_event(text, ev, &env);
        } else {
            self.stats.unknown_messages += 1;
        }
    }

    fn handle_greeting(&mut self, env: &Envelope<'_>) {
        let Some(qmp) = env.qmp else {
            let what = if env.ret.is_some() || env.error.is_some() {
                "a reply"
            } else {
                "an object without `QMP`"
            };
            self.fail(Error::Greeting(format!(
                "expected the greeting, got {what}"
            )));
            return;
        };
        let greeting: Greeting = match serde_json::from_str(qmp.get()) {
            Ok(g) => g,
            Err(e) => {
                self.fail(Error::Greeting(e.to_string()));
                return;
            }
        };
        let oob = self.config.oob && greeting.offers("oob");
        let id = self.next_id;
        self.next_id += 1;
        let data = if oob {
            format!(
                r#"{{"execute":"qmp_capabilities","arguments":{{"enable":["oob"]}},"id":{id}}}"#
            )
        } else {
            format!(r#"{{"execute":"qmp_capabilities","id":{id}}}"#)
        };
        self.transmit.push_back(Transmit {
            data: data.into_bytes(),
            fds: Vec::new(),
        });
        self.oob_enabled = oob;
        self.state = State::Negotiating { id, greeting };
    }

    fn handle_reply(&mut self, text: &str, env: &Envelope<'_>, offset: u64) {
        let Some(raw_id) = env.id else {
            if let Some(err) = env.error {
                let reply = serde_json::from_str::<ErrorReply>(err.get()).unwrap_or(ErrorReply {
                    class: ErrorClass::GenericError,
                    desc: err.get().to_owned(),
                    id: None,
                });
                if let State::Negotiating { .. } = self.state {
                    self.fail(Error::Negotiation(reply.to_string()));
                } else {
                    self.fail(Error::ServerParse(reply));
                }
            } else {
                self.stats.unknown_replies += 1;
            }
            return;
        };
        let Ok(id) = serde_json::from_str::<u64>(raw_id.get()) else {
            self.stats.unknown_replies += 1;
            return;
        };
        if let State::Negotiating { id: nid, .. } = &self.state {
            if *nid == id {
                self.finish_negotiation(env);
                return;
            }
        }
        self.release(id);
        let Some(name) = self.pending.remove(&id) else {
            self.stats.unknown_replies += 1;
            return;
        };
        let result = match (env.ret, env.error) {
            (Some(_), Some(_)) => Err(Error::BadReply {
                command: name.into_owned(),
                reason: "the reply has both `return` and `error`".to_owned(),
            }),
            (None, Some(err)) => match serde_json::from_str::<ErrorReply>(err.get()) {
                Ok(reply) => Err(Error::Qmp(ErrorReply {
                    id: Some(id),
                    ..reply
                })),
                Err(e) => Err(Error::BadReply {
                    command: name.into_owned(),
                    reason: format!("malformed `error` member: {e}"),
                }),
            },
            (Some(ret), None) => {
                let start = ret.get().as_ptr() as usize - text.as_ptr() as usize;
                Ok(RawReply {
                    text: text.to_owned(),
                    ret: start..start + ret.get().len(),
                })
            }
            (None, None) => {
                // Unreachable by construction (checked by the caller); be
                // total anyway.
                Err(Error::Protocol {
                    kind: ProtocolErrorKind::InvalidMessage("reply without result".to_owned()),
                    offset,
                })
            }
        };
        self.output.push_back(Output::Reply { id, result });
    }

    fn finish_negotiation(&mut self, env: &Envelope<'_>) {
        let State::Negotiating { greeting, .. } = std::mem::replace(&mut self.state, State::Ready)
        else {
            return;
        };
        if let Some(err) = env.error {
            let msg = match serde_json::from_str::<ErrorReply>(err.get()) {
                Ok(r) => r.to_string(),
                Err(_) => err.get().to_owned(),
            };
            self.state = State::Negotiating {
                id: 0,
                greeting: Greeting::default(),
            };
            self.fail(Error::Negotiation(msg));
            return;
        }
        self.greeting = Some(greeting.clone());
        for (id, capped, t) in std::mem::take(&mut self.held) {
            self.submit(id, capped, t);
        }
        self.output.push_back(Output::Ready(Some(greeting)));
        self.output.extend(self.early_events.drain(..));
    }

    fn handle_event(&mut self, text: &str, ev: &RawValue, env: &Envelope<'_>) {
        let Ok(name) = serde_json::from_str::<String>(ev.get()) else {
            self.stats.unknown_messages += 1;
            return;
        };
        let timestamp = env
            .timestamp
            .and_then(|t| serde_json::from_str::<Timestamp>(t.get()).ok())
            .unwrap_or(Timestamp {
                seconds: -1,
                microseconds: -1,
            });
        let data = env.data.map(|d| {
            let start = d.get().as_ptr() as usize - text.as_ptr() as usize;
            start..start + d.get().len()
        });
        let event = Output::Event(RawEvent {
            text: text.to_owned(),
            name,
            timestamp,
            data,
        });
        if self.state == State::Ready {
            self.output.push_back(event);
        } else if self.early_events.len() < EARLY_EVENTS_MAX {
            // Before the handshake completes: delivered after
            // `Output::Ready`, so a consumer sees it after the connection
            // (or reconnection) notice, as the spec's negotiation mode has
            // it.
            self.early_events.push(event);
        } else {
            let msg = format!("more than {EARLY_EVENTS_MAX} events before the handshake completed");
            self.fail(match self.state {
                State::AwaitGreeting => Error::Greeting(msg),
                _ => Error::Negotiation(msg),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ready(oob_offered: bool) -> Connection {
        let mut c = Connection::new(ProtoConfig {
            oob: true,
            ..ProtoConfig::default()
        });
        let caps = if oob_offered { r#"["oob"]"# } else { "[]" };
        c.handle_input(format!(r#"{{"QMP": {{"version": {{"qemu": {{"major": 10, "minor": 0, "micro": 2}}, "package": ""}}, "capabilities": {caps}}}}}"#).as_bytes());
        let _ = c.poll_transmit().unwrap();
        c.handle_input(b"{\"return\": {}, \"id\": 1}");
        assert!(c.is_ready());
        c
    }

    fn exec(c: &mut Connection, oob: bool) -> u64 {
        c.execute(
            if oob { "yank" } else { "q" },
            &(),
            ExecOptions {
                oob,
                expect_reply: true,
                ..ExecOptions::default()
            },
        )
        .unwrap()
    }

    fn sent_ids(c: &mut Connection) -> Vec<u64> {
        std::iter::from_fn(|| c.poll_transmit())
            .map(|t| {
                let v: serde_json::Value = serde_json::from_slice(&t.data).unwrap();
                v["id"].as_u64().unwrap()
            })
            .collect()
    }

    #[test]
    fn at_most_eight_in_band_commands_in_flight_with_oob() {
        let mut c = ready(true);
        assert!(c.oob_enabled());
        let ids: Vec<u64> = (0..12).map(|_| exec(&mut c, false)).collect();
        assert_eq!(sent_ids(&mut c), ids[..8]);
        assert_eq!(c.queued(), 4);
        // Out-of-band commands bypass the cap.
        let y = exec(&mut c, true);
        assert_eq!(sent_ids(&mut c), [y]);
        // A cancelled queued command is never written.
        assert!(c.cancel(ids[9]));
        // A cancelled written one keeps its slot until its reply arrives.
        assert!(c.cancel(ids[0]));
        c.handle_input(format!(r#"{{"return": {{}}, "id": {}}}"#, ids[1]).as_bytes());
        assert_eq!(sent_ids(&mut c), [ids[8]]);
        c.handle_input(format!(r#"{{"return": {{}}, "id": {}}}"#, ids[0]).as_bytes());
        assert_eq!(sent_ids(&mut c), [ids[10]]);
        assert_eq!(c.stats().unknown_replies, 1);
        for id in &ids[2..4] {
            c.handle_input(format!(r#"{{"return": {{}}, "id": {id}}}"#).as_bytes());
        }
        assert_eq!(sent_ids(&mut c), [ids[11]]);
        assert_eq!(c.queued(), 0);
    }

    #[test]
    fn events_before_the_handshake_are_delivered_after_it() {
        let mut c = Connection::new(ProtoConfig::default());
        c.handle_input(br#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}"#);
        assert!(
            c.poll_transmit().is_none(),
            "no negotiation before the greeting"
        );
        assert!(
            c.poll_output().is_none(),
            "held until the handshake completes"
        );
        c.handle_input(br#"{"QMP": {"version": {"qemu": {"major": 5, "minor": 2, "micro": 0}, "package": ""}, "capabilities": []}}"#);
        assert!(c.poll_transmit().is_some(), "qmp_capabilities sent");
        c.handle_input(br#"{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 3}}"#);
        c.handle_input(b"{\"return\": {}, \"id\": 1}");
        assert!(c.is_ready());
        // Ready first, then the early events in order.
        assert!(matches!(c.poll_output(), Some(Output::Ready(Some(_)))));
        for name in ["RESUME", "STOP"] {
            match c.poll_output() {
                Some(Output::Event(ev)) => assert_eq!(ev.name, name),
                other => panic!("{other:?}"),
            }
        }
        // A flood of events before the greeting fails the handshake.
        let mut c = Connection::new(ProtoConfig::default());
        for _ in 0..=EARLY_EVENTS_MAX {
            c.handle_input(br#"{"event": "STOP"}"#);
        }
        match c.poll_output() {
            Some(Output::Closed(Error::Greeting(m))) => assert!(m.contains("64 events"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A reply before the greeting is still a broken greeting.
        let mut c = Connection::new(ProtoConfig::default());
        c.handle_input(b"{\"return\": {}}");
        match c.poll_output() {
            Some(Output::Closed(Error::Greeting(m))) => assert!(m.contains("a reply"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_cap_without_oob() {
        let mut c = ready(false);
        let ids: Vec<u64> = (0..12).map(|_| exec(&mut c, false)).collect();
        assert_eq!(sent_ids(&mut c), ids);
    }

    #[test]
    fn decimal_ids() {
        for n in [0, 7, 10, 99, 12345, u64::MAX] {
            let mut v = b"x".to_vec();
            push_decimal(&mut v, n);
            assert_eq!(v, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn encode_omits_null_and_empty_arguments() {
        let enc = |args: &serde_json::Value, oob| {
            String::from_utf8(encode_command("q", args, 7, oob).unwrap()).unwrap()
        };
        assert_eq!(enc(&json!(null), false), r#"{"execute":"q","id":7}"#);
        assert_eq!(enc(&json!({}), false), r#"{"execute":"q","id":7}"#);
        assert_eq!(enc(&json!({}), true), r#"{"exec-oob":"q","id":7}"#);
        assert_eq!(
            enc(&json!({"a": {}}), false),
            r#"{"execute":"q","arguments":{"a":{}},"id":7}"#
        );
    }
}
