//! `qmp` against scripted fake servers that misbehave: nothing lost,
//! nothing hangs, every failure said clearly (issue #15).

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#;

fn qmp() -> Command {
    Command::new(common::qmp_bin())
}

fn no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the fake server does with one request: lines to send (with `ID`
/// replaced by the request's id), then possibly close or go silent.
enum Step {
    Send(String),
    Close,
    /// Stop answering (keep the connection open) for this long.
    Silence(Duration),
}

fn send(s: &str) -> Step {
    Step::Send(s.to_owned())
}

/// A scripted server on a Unix socket in a fresh temp dir: sends
/// `greeting` (if any) to the first client, then runs `script` on each
/// request.
struct Fake {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn fake(
    greeting: Option<&'static str>,
    script: impl Fn(&Value) -> Vec<Step> + Send + Sync + 'static,
) -> Fake {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let script = std::sync::Arc::new(script);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            let script = script.clone();
            std::thread::spawn(move || serve(s, greeting, &*script));
        }
    });
    Fake { _dir: dir, path }
}

fn negotiate(req: &Value) -> Option<Vec<Step>> {
    (req["execute"] == "qmp_capabilities").then(|| vec![send(r#"{"return": {}, "id": ID}"#)])
}

fn serve(
    s: std::os::unix::net::UnixStream,
    greeting: Option<&str>,
    script: &(dyn Fn(&Value) -> Vec<Step> + Send + Sync),
) {
    let mut w = s.try_clone().unwrap();
    if let Some(g) = greeting {
        let _ = write!(w, "{g}\r\n");
    }
    for req in serde_json::Deserializer::from_reader(s).into_iter::<Value>() {
        let Ok(req) = req else { return };
        let id = req.get("id").cloned().unwrap_or(Value::Null).to_string();
        for step in script(&req) {
            match step {
                Step::Send(out) => {
                    let _ = write!(w, "{}\r\n", out.replace("ID", &id));
                }
                Step::Close => {
                    let _ = w.shutdown(std::net::Shutdown::Both);
                    return;
                }
                Step::Silence(d) => std::thread::sleep(d),
            }
        }
    }
}

/// Runs `cmd` with a hard limit; a hang fails the test.
fn run_bounded(cmd: &mut Command, stdin: &[u8], limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    drop(input);
    let end = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "`qmp` hung for {limit:?}; stdout: {} stderr: {}",
                stdout(&out),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const LIMIT: Duration = Duration::from_secs(20);

// ---- data loss: values a serde_json::Value cannot hold ----

#[test]
fn call_keeps_lone_surrogates_and_huge_numbers_exactly() {
    let srv = fake(Some(GREETING), |req| {
        negotiate(req).unwrap_or_else(|| {
            vec![send(
                r#"{"return": {"name": "abc\ud800def", "n": 1e400, "list": [ ]}, "id": ID}"#,
            )]
        })
    });
    let out = run_bounded(
        qmp().args(["call"]).arg(&srv.path).arg("x-vendor-query"),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\"name\":\"abc\\ud800def\",\"n\":1e400,\"list\":[]}\n"
    );
}

#[test]
fn call_pretty_keeps_values_exactly() {
    let srv = fake(Some(GREETING), |req| {
        negotiate(req)
            .unwrap_or_else(|| vec![send(r#"{"return": {"n": 1e400, "s": "\udfff"}, "id": ID}"#)])
    });
    let out = run_bounded(
        qmp()
            .args(["call", "--pretty"])
            .arg(&srv.path)
            .arg("x-vendor-query"),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\n  \"n\": 1e400,\n  \"s\": \"\\udfff\"\n}\n"
    );
}

#[test]
fn typed_call_with_a_lone_surrogate_says_where_and_keeps_the_reply() {
    let srv = fake(Some(GREETING), |req| {
        negotiate(req)
            .unwrap_or_else(|| vec![send(r#"{"return": {"name": "vm\ud800"}, "id": ID}"#)])
    });
    let out = run_bounded(
        qmp().args(["call"]).arg(&srv.path).arg("query-name"),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`.return.name`"), "{err}");
    assert!(err.contains("surrogate"), "{err}");
    assert!(!stdout(&out).contains("null"));
    assert_eq!(stdout(&out), "{\"name\":\"vm\\ud800\"}\n");
}

#[test]
fn events_keep_unrepresentable_values_and_a_dead_server_is_an_error() {
    let srv = fake(Some(GREETING), |req| {
        negotiate(req).map_or_else(Vec::new, |mut v| {
            v.push(send(
                r#"{"event": "X", "data": {"s": "a\ud800", "n": -1e999}, "timestamp": {"seconds": 1, "microseconds": 2}}"#,
            ));
            v.push(Step::Silence(Duration::from_millis(200)));
            v.push(Step::Close);
            v
        })
    });
    let out = run_bounded(qmp().arg("events").arg(&srv.path), b"", LIMIT);
    no_panic(&out);
    assert_eq!(
        stdout(&out),
        "{\"event\":\"X\",\"data\":{\"s\":\"a\\ud800\",\"n\":-1e999},\"timestamp\":{\"seconds\":1,\"microseconds\":2}}\n"
    );
    // QEMU went away without --count: said, and not a success.
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("closed the connection after 1 events"),
        "{err}"
    );
}

// ---- a closed stdout ----

#[test]
fn closed_stdout_ends_quietly() {
    let big = format!(
        r#"{{"return": [{}], "id": ID}}"#,
        vec![r#"{"name": "x"}"#; 200_000].join(",")
    );
    let srv = fake(Some(GREETING), move |req| {
        negotiate(req).unwrap_or_else(|| vec![send(&big)])
    });
    for extra in [&["--raw"][..], &[][..], &["--pretty"][..]] {
        let mut child = qmp()
            .arg("call")
            .args(extra)
            .arg(&srv.path)
            .arg("x-big")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // stdout is now closed, as after `| head -c 10`.
        let out = child.wait_with_output().unwrap();
        no_panic(&out);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("pipe"),
            "{extra:?}: {}",
            stderr(&out)
        );
    }
}

/// Every subcommand is covered by one central handler (not per print):
/// here a `println!` of a large document into a closed pipe.
#[test]
fn closed_stdout_ends_quietly_everywhere() {
    let mut child = qmp()
        .args(["schema", "json-schema"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

// ---- nothing hangs: timeouts that say what they waited for ----

fn silent_after_negotiation() -> Fake {
    fake(Some(GREETING), |req| {
        negotiate(req).unwrap_or_else(|| vec![Step::Silence(Duration::from_secs(120))])
    })
}

#[test]
fn info_times_out_when_the_monitor_stops_answering() {
    let srv = silent_after_negotiation();
    let start = Instant::now();
    let out = run_bounded(
        qmp().args(["info", "--timeout", "1"]).arg(&srv.path),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("timed out waiting for the reply to `query-"),
        "{err}"
    );
    assert!(err.contains("after 1 s"), "{err}");
    // Given up after the first silent command, not once per field.
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn call_reply_timeout_says_what_it_waited_for() {
    let srv = silent_after_negotiation();
    // First the live schema (for the argument check), and the monitor is
    // given up on at once: one timeout, not two.
    let out = run_bounded(
        qmp()
            .args(["call", "--timeout", "0.5"])
            .arg(&srv.path)
            .arg("query-status"),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("timed out waiting for the reply to `query-qmp-schema` after 0.5 s"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let srv = silent_after_negotiation();
    let out = run_bounded(
        qmp()
            .args(["call", "--no-check", "--timeout", "0.5"])
            .arg(&srv.path)
            .arg("query-status"),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("timed out waiting for the reply to `query-status` after 0.5 s"),
        "{err}"
    );
}

#[test]
fn shell_says_what_it_waits_for_and_ends_at_eof() {
    let srv = silent_after_negotiation();
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        qmp()
            .args(["shell", "--timeout", "1", "--history"])
            .arg(dir.path().join("h"))
            .arg(&srv.path),
        b"",
        LIMIT,
    );
    no_panic(&out);
    let err = stderr(&out);
    assert!(
        err.contains("still waiting for the server's schema (query-qmp-schema) (up to 1 s"),
        "{err}"
    );
    assert!(err.contains("timed out waiting for the reply"), "{err}");
}

// ---- the shell never drops typed transaction actions ----

/// `qmp shell` on the fake server with `input` as its stdin (a history file
/// of its own); checked not to have panicked.
fn shell_input(srv: &Fake, input: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        qmp()
            .args(["shell", "--history"])
            .arg(dir.path().join("h"))
            .arg(&srv.path),
        input,
        LIMIT,
    );
    no_panic(&out);
    out
}

fn answering() -> Fake {
    fake(Some(GREETING), |req| {
        negotiate(req).unwrap_or_else(|| match req["execute"].as_str() {
            Some("query-qmp-schema") => vec![send(
                r#"{"error": {"class": "CommandNotFound", "desc": "no"}, "id": ID}"#,
            )],
            Some("transaction") => {
                let n = req["arguments"]["actions"].as_array().map_or(0, Vec::len);
                vec![send(&format!(
                    r#"{{"return": {{"sent-actions": {n}}}, "id": ID}}"#
                ))]
            }
            _ => vec![send(r#"{"return": {}, "id": ID}"#)],
        })
    })
}

#[test]
fn end_of_input_inside_a_transaction_is_an_error() {
    let srv = answering();
    let out = shell_input(&srv, b"transaction(\nabort\nabort\n");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("end of input inside an open transaction: its 2 action(s) were not sent"),
        "{err}"
    );
}

#[test]
fn nested_transaction_keeps_the_open_one() {
    let srv = answering();
    let out = shell_input(&srv, b"transaction(\nabort\ntransaction(\nabort\n)\n");
    let text = stdout(&out);
    assert!(text.contains("cannot contain another"), "{text}");
    assert!(text.contains(r#""sent-actions":2"#), "{text}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn nested_transaction_at_end_of_input_is_an_error() {
    let srv = answering();
    let out = shell_input(&srv, b"transaction(\nabort\ntransaction(\nabort\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("its 2 action(s) were not sent"));
}

// ---- wrong kind of socket: a hint, not just a timeout ----

#[test]
fn shell_and_info_say_what_they_wait_for_while_connecting() {
    // A server that accepts but never greets (a busy monitor).
    let srv = fake(None, |_| Vec::new());
    for sub in ["shell", "info"] {
        let out = run_bounded(
            qmp().args([sub, "--timeout", "1.5"]).arg(&srv.path),
            b"",
            LIMIT,
        );
        no_panic(&out);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("still connecting to") && err.contains("waiting for the greeting"),
            "{sub}: {err}"
        );
        assert!(err.contains("busy with another client"), "{err}");
    }
}

#[test]
fn qmp_client_at_a_guest_agent_socket_gets_a_hint() {
    // A guest agent sends nothing until asked.
    let srv = fake(None, |_| Vec::new());
    for args in [
        &["call", "--timeout", "0.5"][..],
        &["info", "--timeout", "0.5"][..],
    ] {
        let mut cmd = qmp();
        cmd.args(args).arg(&srv.path);
        if args[0] == "call" {
            cmd.arg("query-status");
        }
        let out = run_bounded(&mut cmd, b"", LIMIT);
        no_panic(&out);
        assert_ne!(out.status.code(), Some(0));
        let err = stderr(&out);
        assert!(err.contains("no greeting within 0.5 s"), "{err}");
        assert!(err.contains("guest-agent"), "{err}");
        assert!(err.contains("busy with another client"), "{err}");
    }
}

#[test]
fn guest_agent_client_at_a_qmp_socket_gets_a_hint() {
    // Like QEMU: the greeting, then errors for what it cannot parse (a
    // 0xFF byte, a command before negotiation), never a 0xFF back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qmp.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let _ = write!(s, "{GREETING}\r\n");
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                return;
            }
            let _ = write!(
                s,
                "{{\"error\": {{\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}}}\r\n"
            );
        }
    });
    let srv = Fake { _dir: dir, path };
    let out = run_bounded(
        qmp()
            .args(["call", "--guest-agent", "--timeout", "0.5"])
            .arg(&srv.path)
            .arg("guest-ping"),
        b"",
        LIMIT,
    );
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("drop --guest-agent"), "{err}");
}

#[test]
fn a_directory_is_not_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["call"][..],
        &["info"][..],
        &["events"][..],
        &["shell"][..],
    ] {
        let mut cmd = qmp();
        cmd.args(args).arg(dir.path());
        if args[0] == "call" {
            cmd.arg("query-status");
        }
        let out = run_bounded(&mut cmd, b"", LIMIT);
        no_panic(&out);
        assert_ne!(out.status.code(), Some(0));
        let err = stderr(&out);
        assert!(
            err.contains("is a directory, not a socket"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("refused"), "{err}");
    }
}
