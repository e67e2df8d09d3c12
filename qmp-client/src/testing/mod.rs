//! A fake QEMU for your tests (cargo feature `testing`).
//!
//! [`FakeQemu`] serves a [`Script`] over a real Unix socket, so the code
//! under test connects exactly as it would to QEMU: a greeting (version and
//! capabilities of your choice), replies matched to commands (by name, and
//! by arguments when you say so), events at chosen points, and faults (the
//! connection closing, garbage bytes, delays). A script is written by hand
//! or comes from a [`Transcript`]: a session recorded from a real QEMU by
//! `qmp record` (or [`record_proxy`]) and replayed deterministically.
//!
//! ```
//! use qmp_client::ErrorClass;
//! use qmp_client::testing::{FakeQemu, Script};
//! use serde_json::json;
//!
//! let script = Script::new()
//!     .version(9, 2, 0)
//!     .expect("query-status")
//!     .reply(json!({"status": "running", "running": true}))
//!     .expect("stop")
//!     .reply(json!({}))
//!     .event("STOP", json!({}))
//!     .expect("device_del")
//!     .args(json!({"id": "nic0"}))
//!     .error(ErrorClass::DeviceNotFound, "Device 'nic0' not found");
//! let fake = FakeQemu::start(script).unwrap();
//!
//! // The code under test:
//! let qmp = qmp_client::blocking::Qmp::connect_unix(fake.socket()).unwrap();
//! assert_eq!(qmp.greeting().unwrap().version.qemu.major, 9);
//! let status = qmp.call_raw("query-status", None).unwrap();
//! assert_eq!(status["status"], "running");
//! qmp.call_raw("stop", None).unwrap();
//! let e = qmp
//!     .call_raw("device_del", Some(json!({"id": "nic0"})))
//!     .unwrap_err();
//! assert!(e.is_device_not_found());
//! let ev = qmp.events().next().unwrap().unwrap();
//! assert_eq!(ev.name(), "STOP");
//!
//! // Every expected command came, in order, and nothing else.
//! fake.finish().unwrap();
//! ```
//!
//! # How a script runs
//!
//! Each connection runs the script from the start, one step at a time:
//! [`expect`](Script::expect) waits for the next command (commands that
//! match a [`stub`](Script::stub) are answered on the way), the reply and
//! [`event`](Script::event) steps send, [`delay`](Script::delay) sleeps,
//! [`raw`](Script::raw) sends bytes as they are and [`eof`](Script::eof)
//! closes the connection. `qmp_capabilities` is answered automatically.
//! A command that matches neither the expected one nor a stub gets a
//! `GenericError` reply naming what was expected, and
//! [`FakeQemu::finish`] reports it.

mod transcript;

pub use transcript::{Direction, Entry, Transcript, TranscriptError, record_proxy};

use std::io::{BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error_class::ErrorClass;

/// Which commands an [`expect`](Script::expect) step accepts.
#[derive(Debug, Clone, PartialEq)]
struct Matcher {
    name: String,
    /// `None`: any arguments. Absent arguments equal `{}`.
    args: Option<Value>,
}

impl Matcher {
    fn matches(&self, name: &str, args: &Value) -> bool {
        self.name == name && self.args.as_ref().is_none_or(|a| norm(a) == norm(args))
    }
}

fn norm(v: &Value) -> &Value {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    if v.is_null() {
        EMPTY.get_or_init(|| json!({}))
    } else {
        v
    }
}

/// One step of a script.
#[derive(Debug, Clone)]
enum Step {
    /// Wait for a command; remember its id under `tag`.
    Expect { matcher: Matcher, tag: Value },
    /// Send a message; an `id` member equal to a remembered tag is
    /// replaced by the live id of that command.
    Send(Value),
    /// Send an event now (timestamp: now).
    Event { name: String, data: Value },
    /// Send bytes as they are.
    Raw(Vec<u8>),
    /// Sleep.
    Delay(Duration),
    /// Close the connection.
    Eof,
}

/// What the fake QEMU does on each connection: a greeting, then steps in
/// order. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Script {
    greeting: Value,
    steps: Vec<Step>,
    stubs: Vec<(Matcher, Value)>,
    next_tag: u64,
}

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}

/// The builder of one [`expect`](Script::expect) step: say what the
/// command's arguments must be (optional), then how it is answered.
#[derive(Debug)]
#[must_use = "finish the step with reply, error, raw_reply or eof"]
pub struct Expect {
    script: Script,
    matcher: Matcher,
    delay: Option<Duration>,
}

impl Expect {
    /// The command must have exactly these arguments (`{}` or `null`: no
    /// arguments).
    pub fn args(mut self, args: Value) -> Self {
        self.matcher.args = Some(args);
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }

    fn push(mut self, then: Option<Step>) -> Script {
        let tag = json!(format!("expect#{}", self.script.next_tag));
        self.script.next_tag += 1;
        self.script.steps.push(Step::Expect {
            matcher: self.matcher,
            tag,
        });
        if let Some(d) = self.delay {
            self.script.steps.push(Step::Delay(d));
        }
        if let Some(s) = then {
            self.script.steps.push(s);
        }
        self.script
    }

    fn tag(&self) -> Value {
        json!(format!("expect#{}", self.script.next_tag))
    }

    /// Answers with `{"return": value}`.
    pub fn reply(self, value: Value) -> Script {
        let tag = self.tag();
        self.push(Some(Step::Send(json!({"return": value, "id": tag}))))
    }

    /// Answers with an error reply.
    pub fn error(self, class: ErrorClass, desc: impl Into<String>) -> Script {
        let tag = self.tag();
        let desc = desc.into();
        self.push(Some(Step::Send(
            json!({"error": {"class": class.as_str(), "desc": desc}, "id": tag}),
        )))
    }

    /// Answers with these bytes instead of a reply (a malformed reply, a
    /// reply split over several writes with [`Script::delay`]...).
    pub fn raw_reply(self, bytes: impl Into<Vec<u8>>) -> Script {
        self.push(Some(Step::Raw(bytes.into())))
    }

    /// Closes the connection instead of answering.
    pub fn eof(self) -> Script {
        self.push(Some(Step::Eof))
    }

    /// Does not answer (yet): the steps that follow run first (e.g. an
    /// event before the reply, or a reply sent with [`Script::raw`]).
    pub fn no_reply(self) -> Script {
        self.push(None)
    }
}

impl Script {
    /// An empty script: the greeting of QEMU 10.0.0 with no capabilities,
    /// then nothing but `qmp_capabilities`.
    pub fn new() -> Self {
        Script {
            greeting: json!({"QMP": {
                "version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, "package": ""},
                "capabilities": []
            }}),
            steps: Vec::new(),
            stubs: Vec::new(),
            next_tag: 0,
        }
    }

    /// The QEMU version in the greeting.
    pub fn version(mut self, major: u64, minor: u64, micro: u64) -> Self {
        self.greeting["QMP"]["version"]["qemu"] =
            json!({"micro": micro, "minor": minor, "major": major});
        self
    }

    /// The package string in the greeting.
    pub fn package(mut self, package: impl Into<String>) -> Self {
        self.greeting["QMP"]["version"]["package"] = Value::String(package.into());
        self
    }

    /// The capabilities offered in the greeting (e.g. `["oob"]`).
    pub fn capabilities<I, S>(mut self, caps: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let caps: Vec<Value> = caps.into_iter().map(|c| Value::String(c.into())).collect();
        self.greeting["QMP"]["capabilities"] = Value::Array(caps);
        self
    }

    /// The whole greeting message, verbatim (`Value::Null`: send none,
    /// like a guest agent).
    pub fn greeting(mut self, greeting: Value) -> Self {
        self.greeting = greeting;
        self
    }

    /// Waits for the command `name` (with any arguments unless
    /// [`Expect::args`] says otherwise) and answers it as the returned
    /// builder says.
    pub fn expect(self, name: impl Into<String>) -> Expect {
        Expect {
            script: self,
            matcher: Matcher {
                name: name.into(),
                args: None,
            },
            delay: None,
        }
    }

    /// Sends an event (timestamped now).
    pub fn event(mut self, name: impl Into<String>, data: Value) -> Self {
        self.steps.push(Step::Event {
            name: name.into(),
            data,
        });
        self
    }

    /// Sends a message (an event with a fixed timestamp, a reply without
    /// id...) as it is.
    pub fn message(mut self, msg: Value) -> Self {
        self.steps.push(Step::Send(msg));
        self
    }

    /// Sends bytes as they are: garbage, half a message, a message split
    /// over writes.
    pub fn raw(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.steps.push(Step::Raw(bytes.into()));
        self
    }

    /// Sleeps before the next step.
    pub fn delay(mut self, d: Duration) -> Self {
        self.steps.push(Step::Delay(d));
        self
    }

    /// Closes the connection.
    pub fn eof(mut self) -> Self {
        self.steps.push(Step::Eof);
        self
    }

    /// Answers every `name` command, at any time and any number of times,
    /// with `{"return": value}` (when it is not the command the script
    /// expects next).
    pub fn stub(mut self, name: impl Into<String>, value: Value) -> Self {
        self.stubs.push((
            Matcher {
                name: name.into(),
                args: None,
            },
            json!({"return": value}),
        ));
        self
    }

    /// Answers every `name` command with an error, like [`stub`](Self::stub).
    pub fn stub_error(
        mut self,
        name: impl Into<String>,
        class: ErrorClass,
        desc: impl Into<String>,
    ) -> Self {
        let desc = desc.into();
        self.stubs.push((
            Matcher {
                name: name.into(),
                args: None,
            },
            json!({"error": {"class": class.as_str(), "desc": desc}}),
        ));
        self
    }

    fn expect_tagged(&mut self, name: String, args: Option<Value>, tag: Value) {
        self.steps.push(Step::Expect {
            matcher: Matcher { name, args },
            tag,
        });
    }

    /// How many `expect` steps the script has.
    pub fn expected_commands(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Expect { .. }))
            .count()
    }
}

/// What [`FakeQemu::finish`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the fake QEMU's script was not followed:\n  {}", .problems.join("\n  "))]
pub struct ScriptError {
    /// One line per problem: an unexpected command, an expected command
    /// that never came.
    pub problems: Vec<String>,
}

#[derive(Default)]
struct Log {
    /// Every command received, in order (all connections).
    received: Vec<Value>,
    problems: Vec<String>,
    /// Connections accepted.
    connections: usize,
    /// Connections still running their script steps.
    running: usize,
}

struct Shared {
    log: Mutex<Log>,
    changed: Condvar,
    stop: AtomicBool,
    streams: Mutex<Vec<UnixStream>>,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fake QEMU serving a [`Script`] on a Unix socket in a private temp
/// directory, on background threads; every connection runs the script
/// from the start. Dropping it stops it.
pub struct FakeQemu {
    socket: PathBuf,
    dir: PathBuf,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for FakeQemu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeQemu")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

impl FakeQemu {
    /// Starts serving `script`.
    pub fn start(script: Script) -> std::io::Result<FakeQemu> {
        let dir = private_dir()?;
        let socket = dir.join("qmp.sock");
        let listener = UnixListener::bind(&socket)?;
        let shared = Arc::new(Shared {
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            streams: Mutex::new(Vec::new()),
        });
        let workers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let script = Arc::new(script);
        let acceptor = {
            let shared = shared.clone();
            let workers = workers.clone();
            std::thread::Builder::new()
                .name("fake-qemu-accept".into())
                .spawn(move || {
                    for conn in listener.incoming() {
                        if shared.stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = conn else { continue };
                        if let Ok(c) = stream.try_clone() {
                            lock(&shared.streams).push(c);
                        }
                        {
                            let mut log = shared.log();
                            log.connections += 1;
                            log.running += 1;
                        }
                        let shared = shared.clone();
                        let script = script.clone();
                        let h = std::thread::Builder::new()
                            .name("fake-qemu-conn".into())
                            .stack_size(256 * 1024)
                            .spawn(move || serve(stream, &script, &shared));
                        if let Ok(h) = h {
                            lock(&workers).push(h);
                        }
                    }
                })?
        };
        Ok(FakeQemu {
            socket,
            dir,
            shared,
            acceptor: Some(acceptor),
            workers,
        })
    }

    /// Serves the script recorded in a transcript ([`Transcript::to_script`]).
    pub fn replay(t: &Transcript) -> std::io::Result<FakeQemu> {
        FakeQemu::start(t.to_script())
    }

    /// The socket to connect to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Every command received so far (all connections, in order), as sent.
    pub fn received(&self) -> Vec<Value> {
        self.shared.log().received.clone()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.shared.log().connections
    }

    /// Waits (up to 5 s) for every connection to reach the end of the
    /// script, stops, and reports what went wrong: commands that were not
    /// expected, expected commands that never came, or no connection at
    /// all.
    ///
    /// It blocks: in a single-threaded async test, close the client and
    /// let its runtime run first (or call it via `spawn_blocking`), since
    /// a client whose socket is never closed looks like one that may still
    /// send the expected commands.
    pub fn finish(mut self) -> Result<(), ScriptError> {
        let end = Instant::now() + Duration::from_secs(5);
        {
            let mut log = self.shared.log();
            while log.running > 0 && Instant::now() < end {
                let left = end.saturating_duration_since(Instant::now());
                log = self
                    .shared
                    .changed
                    .wait_timeout(log, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        self.stop();
        let log = self.shared.log();
        let mut problems = log.problems.clone();
        if log.connections == 0 {
            problems.push("no client connected".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScriptError { problems })
        }
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor.
        let _ = UnixStream::connect(&self.socket);
        for s in lock(&self.shared.streams).iter() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
        for h in lock(&self.workers).drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for FakeQemu {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "qmp-fake-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

fn now_timestamp() -> Value {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    json!({"seconds": d.as_secs(), "microseconds": d.subsec_micros()})
}

/// One connection: greeting, steps, then stubs until the client leaves.
fn serve(stream: UnixStream, script: &Script, shared: &Shared) {
    let mut conn = Conn {
        out: match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        },
        commands: serde_json::Deserializer::from_reader(BufReader::new(stream)).into_iter(),
        ids: Vec::new(),
        script,
        shared,
    };
    let mut running = true;
    let done = |running: &mut bool| {
        if std::mem::take(running) {
            shared.log().running -= 1;
            shared.changed.notify_all();
        }
    };
    if !script.greeting.is_null() && conn.send(&script.greeting).is_err() {
        done(&mut running);
        return;
    }
    for (i, step) in script.steps.iter().enumerate() {
        let ok = match step {
            Step::Expect { matcher, tag } => match conn.wait_for(matcher) {
                Some(id) => {
                    conn.ids.push((tag.clone(), id));
                    true
                }
                None => {
                    let left = script.steps[i..]
                        .iter()
                        .filter_map(|s| match s {
                            Step::Expect { matcher, .. } => Some(format!("`{}`", matcher.name)),
                            _ => None,
                        })
                        .collect::<Vec<_>>();
                    shared.log().problems.push(format!(
                        "the client left before sending {}",
                        left.join(", ")
                    ));
                    false
                }
            },
            Step::Send(msg) => {
                let mut msg = msg.clone();
                if let Some(id) = msg.get("id").cloned() {
                    if let Some((_, live)) = conn.ids.iter().find(|(t, _)| *t == id) {
                        msg["id"] = live.clone();
                    }
                }
                conn.send(&msg).is_ok()
            }
            Step::Event { name, data } => {
                let mut ev = json!({"event": name, "timestamp": now_timestamp()});
                if !data.is_null() {
                    ev["data"] = data.clone();
                }
                conn.send(&ev).is_ok()
            }
            Step::Raw(bytes) => conn.out.write_all(bytes).is_ok(),
            Step::Delay(d) => {
                std::thread::sleep(*d);
                true
            }
            Step::Eof => {
                let _ = conn.out.shutdown(std::net::Shutdown::Both);
                false
            }
        };
        if !ok {
            done(&mut running);
            return;
        }
    }
    done(&mut running);
    // After the script: stubs (and complaints) until the client leaves.
    while conn
        .wait_for(&Matcher {
            name: String::new(),
            args: None,
        })
        .is_some()
    {}
}

struct Conn<'a> {
    out: UnixStream,
    commands: serde_json::StreamDeserializer<
        'static,
        serde_json::de::IoRead<BufReader<UnixStream>>,
        Value,
    >,
    /// (tag, live id) of the commands expected so far.
    ids: Vec<(Value, Value)>,
    script: &'a Script,
    shared: &'a Shared,
}

impl Conn<'_> {
    fn send(&mut self, msg: &Value) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
        line.extend_from_slice(b"\r\n");
        self.out.write_all(&line)
    }

    fn reply(&mut self, mut body: Value, id: &Value) -> std::io::Result<()> {
        if !id.is_null() {
            body["id"] = id.clone();
        }
        self.send(&body)
    }

    /// Reads commands until one matches `want` (returns its id, `null`
    /// when it had none); answers stubs and `qmp_capabilities` on the way
    /// and complains about the others. `None` when the client left.
    fn wait_for(&mut self, want: &Matcher) -> Option<Value> {
        loop {
            let cmd = match self.commands.next()? {
                Ok(v) => v,
                Err(_) => return None,
            };
            self.shared.log().received.push(cmd.clone());
            let name = cmd
                .get("execute")
                .or_else(|| cmd.get("exec-oob"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let args = cmd.get("arguments").cloned().unwrap_or(Value::Null);
            let id = cmd.get("id").cloned().unwrap_or(Value::Null);
            if !want.name.is_empty() && want.matches(&name, &args) {
                return Some(id);
            }
            if let Some((_, body)) = self
                .script
                .stubs
                .iter()
                .find(|(m, _)| m.matches(&name, &args))
            {
                let body = body.clone();
                self.reply(body, &id).ok()?;
                continue;
            }
            if name == "qmp_capabilities" {
                self.reply(json!({"return": {}}), &id).ok()?;
                continue;
            }
            let expected = if want.name.is_empty() {
                "nothing (the script has ended)".to_owned()
            } else {
                match &want.args {
                    Some(a) => format!("`{}` with arguments {a}", want.name),
                    None => format!("`{}`", want.name),
                }
            };
            let got = if args.is_null() {
                format!("`{name}`")
            } else {
                format!("`{name}` with arguments {args}")
            };
            let problem = format!("unexpected command {got}; expected {expected}");
            self.shared.log().problems.push(problem.clone());
            self.reply(
                json!({"error": {"class": "GenericError", "desc": format!("fake QEMU: {problem}")}}),
                &id,
            )
            .ok()?;
        }
    }
}
