//! Shared helpers for the fault suites: hand-written commands (standing
//! in for generated bindings) and scripted fake servers.
#![allow(dead_code)]

use qmp_types::{Command, Empty};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "v10.0.2"}, "capabilities": ["oob"]}}"#;
pub const GREETING_NO_OOB: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#;

#[derive(Debug, Serialize)]
pub struct QueryStatus;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusInfo {
    pub running: bool,
    pub status: String,
}

impl Command for QueryStatus {
    const NAME: &'static str = "query-status";
    type Returns = StatusInfo;
}

#[derive(Debug, Serialize)]
pub struct Stop;
impl Command for Stop {
    const NAME: &'static str = "stop";
    type Returns = Empty;
}

#[derive(Debug, Serialize)]
pub struct Echo {
    pub n: u64,
}
impl Command for Echo {
    const NAME: &'static str = "echo";
    type Returns = u64;
}

#[derive(Debug, Serialize)]
pub struct Yank;
impl Command for Yank {
    const NAME: &'static str = "yank";
    const ALLOW_OOB: bool = true;
    type Returns = Empty;
}
impl qmp_types::OobCommand for Yank {}

#[derive(Debug, Serialize)]
pub struct Shutdown;
impl Command for Shutdown {
    const NAME: &'static str = "guest-shutdown";
    const SUCCESS_RESPONSE: bool = false;
    type Returns = Empty;
}

#[derive(Debug, Serialize)]
pub struct HumanMonitorCommand {
    #[serde(rename = "command-line")]
    pub command_line: String,
}
impl Command for HumanMonitorCommand {
    const NAME: &'static str = "human-monitor-command";
    type Returns = String;
}

/// A minimal typed event enum, as the generated one would look.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event")]
pub enum TestEvent {
    #[serde(rename = "STOP")]
    Stop,
    #[serde(rename = "RESUME")]
    Resume,
    #[serde(rename = "TICK")]
    Tick { data: TickData },
    #[serde(untagged)]
    Unknown(Value),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TickData {
    pub n: u64,
}

impl qmp_types::EventKind for TestEvent {
    fn name(&self) -> &str {
        match self {
            TestEvent::Stop => "STOP",
            TestEvent::Resume => "RESUME",
            TestEvent::Tick { .. } => "TICK",
            TestEvent::Unknown(v) => v.get("event").and_then(Value::as_str).unwrap_or("?"),
        }
    }
}

pub fn event(name: &str, data: Option<Value>) -> String {
    let mut v =
        serde_json::json!({"event": name, "timestamp": {"seconds": 1700000000, "microseconds": 5}});
    if let Some(d) = data {
        v["data"] = d;
    }
    v.to_string() + "\r\n"
}

/// Splits received bytes into JSON values (the fake server's parser).
#[derive(Default)]
pub struct Inbox {
    buf: Vec<u8>,
}

impl Inbox {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Value> {
        self.buf.extend_from_slice(bytes);
        // Strip a leading guest-agent sentinel.
        while self.buf.first() == Some(&0xFF) {
            self.buf.remove(0);
        }
        let mut out = Vec::new();
        let mut consumed = 0;
        {
            let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            while let Some(Ok(v)) = it.next() {
                out.push(v);
                consumed = it.byte_offset();
            }
        }
        self.buf.drain(..consumed);
        out
    }
}

pub mod tokio_server {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    pub struct Server {
        pub io: DuplexStream,
        inbox: Inbox,
        queue: std::collections::VecDeque<Value>,
    }

    impl Server {
        pub fn new(io: DuplexStream) -> Self {
            Server {
                io,
                inbox: Inbox::default(),
                queue: Default::default(),
            }
        }

        pub async fn send(&mut self, s: &str) {
            let _ = self.io.write_all(s.as_bytes()).await;
        }

        pub async fn send_bytes(&mut self, b: &[u8]) {
            let _ = self.io.write_all(b).await;
        }

        /// The next command the client sent (`None` on EOF).
        pub async fn recv(&mut self) -> Option<Value> {
            loop {
                if let Some(v) = self.queue.pop_front() {
                    return Some(v);
                }
                let mut buf = [0u8; 4096];
                let n = self.io.read(&mut buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                self.queue.extend(self.inbox.push(&buf[..n]));
            }
        }

        /// Greeting + negotiation.
        pub async fn handshake(&mut self) {
            self.send(GREETING).await;
            self.send("\r\n").await;
            let cmd = self.recv().await.expect("qmp_capabilities");
            assert_eq!(cmd["execute"], "qmp_capabilities");
            self.reply(&cmd, serde_json::json!({})).await;
        }

        pub async fn reply(&mut self, cmd: &Value, ret: Value) {
            let msg = serde_json::json!({"return": ret, "id": cmd["id"]});
            self.send(&(msg.to_string() + "\r\n")).await;
        }

        pub async fn error(&mut self, cmd: &Value, class: &str, desc: &str) {
            let msg = serde_json::json!({"error": {"class": class, "desc": desc}, "id": cmd["id"]});
            self.send(&(msg.to_string() + "\r\n")).await;
        }
    }
}

pub mod std_server {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    pub struct Server {
        pub io: UnixStream,
        inbox: Inbox,
        queue: std::collections::VecDeque<Value>,
    }

    impl Server {
        pub fn new(io: UnixStream) -> Self {
            Server {
                io,
                inbox: Inbox::default(),
                queue: Default::default(),
            }
        }

        pub fn send(&mut self, s: &str) {
            let _ = self.io.write_all(s.as_bytes());
        }

        pub fn send_bytes(&mut self, b: &[u8]) {
            let _ = self.io.write_all(b);
        }

        pub fn recv(&mut self) -> Option<Value> {
            loop {
                if let Some(v) = self.queue.pop_front() {
                    return Some(v);
                }
                let mut buf = [0u8; 4096];
                let n = self.io.read(&mut buf).ok()?;
                if n == 0 {
                    return None;
                }
                self.queue.extend(self.inbox.push(&buf[..n]));
            }
        }

        pub fn handshake(&mut self) {
            self.send(GREETING);
            self.send("\r\n");
            let cmd = self.recv().expect("qmp_capabilities");
            assert_eq!(cmd["execute"], "qmp_capabilities");
            self.reply(&cmd, serde_json::json!({}));
        }

        pub fn reply(&mut self, cmd: &Value, ret: Value) {
            let msg = serde_json::json!({"return": ret, "id": cmd["id"]});
            self.send(&(msg.to_string() + "\r\n"));
        }

        pub fn error(&mut self, cmd: &Value, class: &str, desc: &str) {
            let msg = serde_json::json!({"error": {"class": class, "desc": desc}, "id": cmd["id"]});
            self.send(&(msg.to_string() + "\r\n"));
        }
    }
}
pub mod qemu;
pub mod releases;
pub mod typed_eq;
