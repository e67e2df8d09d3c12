//! TEMPORARY: a minimal blocking QMP connection used until `qmp-client`
//! provides `execute_raw` and its event iterator; delete when switching.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};

use serde_json::{Value, json};

use crate::monitor::{Connection, Monitor, MonitorError, Notice};

struct Adapter {
    inner: Mutex<(UnixStream, Receiver<Result<Value, MonitorError>>)>,
}

impl Monitor for Adapter {
    fn execute(&self, name: &str, args: Option<Value>) -> Result<Value, MonitorError> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| MonitorError::Connection("poisoned".into()))?;
        let (stream, replies) = &*guard;
        let mut msg = json!({ "execute": name });
        if let Some(a) = args {
            msg["arguments"] = a;
        }
        let mut text = msg.to_string();
        text.push('\n');
        (&*stream)
            .write_all(text.as_bytes())
            .map_err(|e| MonitorError::Connection(e.to_string()))?;
        replies
            .recv()
            .map_err(|_| MonitorError::Connection("connection closed".into()))?
    }
}

fn reader(
    stream: UnixStream,
    replies: Sender<Result<Value, MonitorError>>,
    notices: Sender<Notice>,
) {
    let mut lines = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => {
                let _ = notices.send(Notice::Closed("the server closed the connection".into()));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = notices.send(Notice::Closed(e.to_string()));
                return;
            }
        }
        let v: Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(e) => {
                let _ = notices.send(Notice::Bad {
                    text: line.trim().chars().take(200).collect(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if let Some(r) = v.get("return") {
            let _ = replies.send(Ok(r.clone()));
        } else if let Some(e) = v.get("error") {
            let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let _ = replies.send(Err(MonitorError::Qmp {
                class: field("class"),
                desc: field("desc"),
            }));
        } else if v.get("event").is_some() {
            let _ = notices.send(Notice::Event(v));
        } else {
            let _ = notices.send(Notice::Bad {
                text: line.trim().chars().take(200).collect(),
                reason: "not a reply or an event".into(),
            });
        }
    }
}

/// Connects to a QMP Unix socket and negotiates capabilities.
pub fn connect(path: &Path) -> Result<Connection, MonitorError> {
    let stream = UnixStream::connect(path)
        .map_err(|e| MonitorError::Connection(e.to_string()))?;
    let mut greeting_line = String::new();
    let mut br = BufReader::new(
        stream
            .try_clone()
            .map_err(|e| MonitorError::Connection(e.to_string()))?,
    );
    br.read_line(&mut greeting_line)
        .map_err(|e| MonitorError::Connection(e.to_string()))?;
    let greeting: Value = serde_json::from_str(greeting_line.trim())
        .map_err(|e| MonitorError::Protocol(format!("bad greeting: {e}")))?;
    if greeting.get("QMP").is_none() {
        return Err(MonitorError::Protocol(
            "the greeting has no \"QMP\" member".into(),
        ));
    }
    drop(br);
    let (rtx, rrx) = mpsc::channel();
    let (ntx, nrx) = mpsc::channel();
    let rd = stream
        .try_clone()
        .map_err(|e| MonitorError::Connection(e.to_string()))?;
    std::thread::spawn(move || reader(rd, rtx, ntx));
    let adapter = Adapter {
        inner: Mutex::new((stream, rrx)),
    };
    adapter.execute("qmp_capabilities", None)?;
    Ok(Connection {
        monitor: Box::new(adapter),
        notices: nrx,
        greeting: Some(greeting),
    })
}
