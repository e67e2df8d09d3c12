//! Recorded QMP sessions: the transcript format, its replay as a
//! [`Script`], and the recording proxy behind `qmp record`.

use std::io::{BufRead, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Script, Step};

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The client (commands).
    Client,
    /// The server (greeting, replies, events).
    Server,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Milliseconds since the session started.
    pub ms: f64,
    /// A message from the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Value>,
    /// A message from the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<Value>,
    /// Bytes from the client that were not JSON (lossy UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_raw: Option<String>,
    /// Bytes from the server that were not JSON (lossy UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_raw: Option<String>,
}

impl Entry {
    /// A message entry.
    pub fn message(ms: f64, dir: Direction, msg: Value) -> Entry {
        let mut e = Entry {
            ms,
            client: None,
            server: None,
            client_raw: None,
            server_raw: None,
        };
        match dir {
            Direction::Client => e.client = Some(msg),
            Direction::Server => e.server = Some(msg),
        }
        e
    }

    /// An entry for bytes that were not JSON.
    pub fn raw(ms: f64, dir: Direction, text: String) -> Entry {
        let mut e = Entry::message(ms, dir, Value::Null);
        e.client = None;
        e.server = None;
        match dir {
            Direction::Client => e.client_raw = Some(text),
            Direction::Server => e.server_raw = Some(text),
        }
        e
    }

    /// Who sent it.
    pub fn direction(&self) -> Direction {
        if self.client.is_some() || self.client_raw.is_some() {
            Direction::Client
        } else {
            Direction::Server
        }
    }
}

/// Why a transcript could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranscriptError {
    /// Reading the file failed.
    #[error("cannot read the transcript: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not a valid entry.
    #[error("transcript line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A recorded session.
///
/// A transcript is JSON lines, one message each, in the order they
/// crossed the socket, with the time since the session started:
///
/// ```text
/// {"ms":0.0,"server":{"QMP":{"version":{...},"capabilities":["oob"]}}}
/// {"ms":0.41,"client":{"execute":"qmp_capabilities","id":1}}
/// {"ms":0.52,"server":{"return":{},"id":1}}
/// {"ms":0.8,"client":{"execute":"stop","id":2}}
/// {"ms":1.1,"server":{"timestamp":{...},"event":"STOP"}}
/// {"ms":1.2,"server":{"return":{},"id":2}}
/// ```
///
/// `client` is what the client sent, `server` what QEMU sent (greeting,
/// replies, events); bytes that were not JSON are kept as text under
/// `client_raw` / `server_raw`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// The entries, in order.
    pub entries: Vec<Entry>,
}

impl Transcript {
    /// Parses JSON lines (empty lines are skipped).
    pub fn parse(text: &str) -> Result<Transcript, TranscriptError> {
        Self::read(text.as_bytes())
    }

    /// Reads JSON lines.
    pub fn read(r: impl BufRead) -> Result<Transcript, TranscriptError> {
        let mut entries = Vec::new();
        for (i, line) in r.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let e: Entry = serde_json::from_str(&line).map_err(|e| TranscriptError::Line {
                line: i + 1,
                message: e.to_string(),
            })?;
            let n = [
                e.client.is_some(),
                e.server.is_some(),
                e.client_raw.is_some(),
                e.server_raw.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if n != 1 {
                return Err(TranscriptError::Line {
                    line: i + 1,
                    message:
                        "an entry has exactly one of `client`, `server`, `client_raw`, `server_raw`"
                            .into(),
                });
            }
            entries.push(e);
        }
        Ok(Transcript { entries })
    }

    /// Loads a `.jsonl` file.
    pub fn load(path: impl AsRef<Path>) -> Result<Transcript, TranscriptError> {
        let f = std::fs::File::open(path)?;
        Self::read(std::io::BufReader::new(f))
    }

    /// Writes JSON lines.
    pub fn write(&self, mut w: impl Write) -> std::io::Result<()> {
        for e in &self.entries {
            serde_json::to_writer(&mut w, e)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The session as a script, without its timing: the recorded greeting;
    /// each command the client sent becomes an expected command (name and
    /// arguments must match; `qmp_capabilities` is left to the fake's
    /// automatic answer); the server's replies and events are sent in the
    /// recorded order, with reply ids rewritten to the live ones.
    pub fn to_script(&self) -> Script {
        self.script(false)
    }

    /// Like [`to_script`](Self::to_script), with the recorded delays
    /// before each server message that followed another server message or
    /// a command (so replies and events come as slowly as they did).
    pub fn to_script_timed(&self) -> Script {
        self.script(true)
    }

    fn script(&self, timed: bool) -> Script {
        let mut s = Script::new().greeting(Value::Null);
        let mut greeted = false;
        let mut caps_ids: Vec<Value> = Vec::new();
        let mut last_ms: Option<f64> = None;
        for e in &self.entries {
            if let Some(msg) = &e.client {
                let name = msg
                    .get("execute")
                    .or_else(|| msg.get("exec-oob"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                if name == "qmp_capabilities" {
                    caps_ids.push(id);
                } else {
                    let args = msg.get("arguments").cloned().unwrap_or(Value::Null);
                    s.expect_tagged(name.to_owned(), Some(args), id);
                }
                last_ms = Some(e.ms);
                continue;
            }
            if e.client_raw.is_some() {
                last_ms = Some(e.ms);
                continue;
            }
            if timed {
                if let Some(prev) = last_ms {
                    let gap = (e.ms - prev).max(0.0);
                    if gap > 0.0 {
                        s.steps
                            .push(Step::Delay(Duration::from_secs_f64(gap / 1000.0)));
                    }
                }
            }
            last_ms = Some(e.ms);
            if let Some(msg) = &e.server {
                if !greeted && msg.get("QMP").is_some() {
                    s.greeting = msg.clone();
                    greeted = true;
                    continue;
                }
                greeted = true;
                // The reply to qmp_capabilities is the fake's own.
                if let Some(id) = msg.get("id") {
                    if caps_ids.contains(id) && msg.get("event").is_none() {
                        continue;
                    }
                }
                s.steps.push(Step::Send(msg.clone()));
            } else if let Some(raw) = &e.server_raw {
                s.steps.push(Step::Raw(raw.clone().into_bytes()));
            }
        }
        s
    }
}

/// Splits complete JSON values off the front of `buf`; undecodable bytes
/// are returned as raw text (and the buffer cleared).
fn drain_messages(buf: &mut Vec<u8>) -> Vec<Result<Value, String>> {
    let mut out = Vec::new();
    let mut it = serde_json::Deserializer::from_slice(buf).into_iter::<Value>();
    let mut consumed = 0;
    loop {
        match it.next() {
            Some(Ok(v)) => {
                consumed = it.byte_offset();
                out.push(Ok(v));
            }
            Some(Err(e)) if e.is_eof() => break,
            Some(Err(_)) => {
                let rest = String::from_utf8_lossy(&buf[consumed..]).into_owned();
                out.push(Err(rest));
                consumed = buf.len();
                break;
            }
            None => {
                consumed = buf.len();
                break;
            }
        }
    }
    buf.drain(..consumed);
    out
}

/// Accepts one client on `listen`, connects it to the QMP server at
/// `upstream`, forwards bytes both ways unchanged and records every
/// message into `out` as transcript lines (flushed as they come), until
/// either side closes. This is `qmp record`. File descriptors passed with
/// a command are not forwarded.
pub fn record_proxy(
    listen: &UnixListener,
    upstream: impl AsRef<Path>,
    out: impl Write + Send + 'static,
) -> std::io::Result<()> {
    let (client, _) = listen.accept()?;
    let server = UnixStream::connect(upstream)?;
    let start = Instant::now();
    let out = Arc::new(Mutex::new(out));
    let pump = |from: UnixStream, to: UnixStream, dir: Direction| {
        let out = out.clone();
        move || -> std::io::Result<()> {
            let mut from = from;
            let mut to = to;
            let mut chunk = vec![0u8; 64 * 1024];
            let mut buf = Vec::new();
            let result = loop {
                let n = match from.read(&mut chunk) {
                    Ok(0) => break Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(e),
                };
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                buf.extend_from_slice(&chunk[..n]);
                // Record before forwarding: whatever the peer sends in
                // answer is then recorded after this.
                let recorded = (|| {
                    let mut w = out.lock().unwrap_or_else(|p| p.into_inner());
                    for m in drain_messages(&mut buf) {
                        // Millisecond times with microsecond precision.
                        let ms = (ms * 1000.0).round() / 1000.0;
                        let e = match m {
                            Ok(v) => Entry::message(ms, dir, v),
                            Err(raw) => Entry::raw(ms, dir, raw),
                        };
                        serde_json::to_writer(&mut *w, &e)?;
                        w.write_all(b"\n")?;
                    }
                    w.flush()
                })();
                if let Err(e) = recorded.and_then(|()| to.write_all(&chunk[..n])) {
                    break Err(e);
                }
            };
            // One side closed: close the other so the peer thread ends.
            let _ = to.shutdown(std::net::Shutdown::Both);
            let _ = from.shutdown(std::net::Shutdown::Both);
            result
        }
    };
    let up = std::thread::spawn(pump(
        client.try_clone()?,
        server.try_clone()?,
        Direction::Client,
    ));
    let down = pump(server, client, Direction::Server)();
    let up = up
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the proxy thread panicked")));
    // A reset from the side that closed second is normal at the end.
    down.and(up).or_else(|e| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ) {
            Ok(())
        } else {
            Err(e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_splits_messages_and_keeps_partial_ones() {
        let mut buf = b"{\"a\":1}\r\n{\"b\":".to_vec();
        let got = drain_messages(&mut buf);
        assert_eq!(got, vec![Ok(serde_json::json!({"a": 1}))]);
        assert_eq!(buf.trim_ascii_start(), b"{\"b\":");
        buf.extend_from_slice(b"2}\n");
        assert_eq!(
            drain_messages(&mut buf),
            vec![Ok(serde_json::json!({"b": 2}))]
        );
        assert!(buf.is_empty() || buf.iter().all(u8::is_ascii_whitespace));
        let mut buf = b"{\"c\":3} xx\x01".to_vec();
        let got = drain_messages(&mut buf);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Err(" xx\u{1}".to_owned()));
        assert!(buf.is_empty());
    }

    #[test]
    fn parse_rejects_bad_lines_with_their_number() {
        let e = Transcript::parse("{\"ms\":0,\"server\":{}}\n\n{\"ms\":1}\n").unwrap_err();
        assert!(e.to_string().starts_with("transcript line 3:"), "{e}");
        let e = Transcript::parse("{\"ms\":0,\"srv\":{}}\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = Transcript::parse("not json\n").unwrap_err();
        assert!(matches!(e, TranscriptError::Line { line: 1, .. }));
    }

    #[test]
    fn write_then_parse_round_trips() {
        let t = Transcript {
            entries: vec![
                Entry::message(0.0, Direction::Server, serde_json::json!({"QMP": {}})),
                Entry::message(1.5, Direction::Client, serde_json::json!({"execute": "x"})),
                Entry::raw(2.0, Direction::Server, "garbage".into()),
            ],
        };
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#"{"ms":2.0,"server_raw":"garbage"}"#),
            "{text}"
        );
        assert_eq!(Transcript::parse(&text).unwrap(), t);
        assert_eq!(t.entries[2].direction(), Direction::Server);
        assert_eq!(t.entries[1].direction(), Direction::Client);
    }
}
