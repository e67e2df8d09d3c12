//! `qmp events`: print events as JSON lines.
//!
//! Events come from the client's event stream, decoded with the bindings
//! where they fit (`--event` selects events by name, checked against the
//! bindings and the live QEMU's schema); every event is printed from its
//! text as received, so one the bindings do not decode (a newer QEMU, a
//! value a `serde_json::Value` cannot hold) is kept exactly too.
//! Each event is printed on one line, re-encoded compactly (control
//! characters from the server are escaped, so guest-influenced strings
//! cannot drive the terminal). Ends after `--count` events, after
//! `--timeout` seconds, or when the server closes the connection. Exit 0
//! when the requested count was reached (or, without `--count`, on
//! timeout); 2 with a one-line reason otherwise, including when the server
//! closes the connection (QEMU quit or died) before that.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use qmp_client::{Error, EventError, TimeoutKind};

use super::target::{self, Address};
use crate::client::{Client, Options};

/// Arguments of `qmp events`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  qmp events /tmp/qmp.sock\n  qmp events --count 1 --timeout 10 /tmp/qmp.sock\n  qmp events --launch --timeout 2"
)]
pub struct EventsArgs {
    /// The socket: a path, `unix:PATH` or `tcp:HOST:PORT` (omit with
    /// `--launch`).
    socket: Option<String>,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Print only events named NAME (repeatable; e.g. `STOP`, `JOB_STATUS_CHANGE`).
    #[arg(long = "event", value_name = "NAME")]
    events: Vec<String>,
    /// Stop after this many seconds (default: no limit).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Start a throwaway `qemu-system-x86_64 -machine none` (extra QEMU
    /// arguments after `--`), killed on exit.
    #[arg(long)]
    launch: bool,
    /// Extra QEMU arguments for `--launch`.
    #[arg(last = true, value_name = "QEMU-ARGS")]
    qemu_args: Vec<String>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("qmp events: {}", target::one_line(&msg));
    ExitCode::from(2)
}

/// Runs `qmp events`.
pub fn run(args: EventsArgs) -> ExitCode {
    let total = match args.timeout.map(Duration::try_from_secs_f64) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return fail("invalid timeout"),
    };
    let connect_timeout = total.unwrap_or(Duration::from_secs(30));
    let _launched;
    let addr = match (&args.socket, args.launch) {
        (Some(_), true) => return fail("give either SOCKET or --launch"),
        (None, false) => return fail("missing SOCKET"),
        (Some(s), false) => {
            if !args.qemu_args.is_empty() {
                return fail("QEMU arguments after `--` need --launch");
            }
            Address::parse(s)
        }
        (None, true) => match target::launch(&args.qemu_args, connect_timeout) {
            Ok(l) => {
                let a = Address::Unix(l.sock.clone());
                _launched = l;
                a
            }
            Err(e) => return fail(e),
        },
    };
    let deadline = total.map(|t| Instant::now() + t);
    let opts = Options {
        timeout: Some(connect_timeout),
        guest_agent: false,
        oob: false,
    };
    let qmp = match Client::connect(&addr, opts) {
        Ok(q) => q,
        Err(e) => {
            let why = target::explain_connect_error(&addr, &e, Some(connect_timeout), false);
            return fail(format!("{addr}: {why}"));
        }
    };
    if !args.events.is_empty() {
        check_names(&qmp, &args.events);
    }
    let mut events = qmp.events();
    let mut seen = 0u64;
    let stdout = std::io::stdout();
    loop {
        if args.count.is_some_and(|c| seen >= c) {
            return ExitCode::SUCCESS;
        }
        let item = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                match events.next_timeout(left) {
                    Ok(i) => i,
                    Err(Error::Timeout(TimeoutKind::Event)) => {
                        return match args.count {
                            Some(c) => fail(format!("timed out after {seen} of {c} events")),
                            None => ExitCode::SUCCESS,
                        };
                    }
                    Err(e) => return fail(e),
                }
            }
            None => events.next(),
        };
        let raw = match item {
            // Typed where the bindings decode the event; one they do not
            // (a newer QEMU, a value a `serde_json::Value` cannot hold) is
            // kept as received all the same.
            Some(Ok(ev)) => ev.raw,
            Some(Err(EventError::Decode { raw, .. })) => *raw,
            Some(Err(EventError::Lagged(n))) => {
                eprintln!("qmp events: warning: {n} events were dropped (consumer too slow)");
                continue;
            }
            Some(Err(EventError::Closed(e))) => {
                // The server went away (QEMU quit or died): with or
                // without --count that is not the end the user asked for.
                let what = match e {
                    Error::Disconnected { .. } => "the server closed the connection".to_owned(),
                    e => format!("the connection failed: {e}"),
                };
                return fail(format!("{what} after {seen} events"));
            }
            None => return fail(format!("the event stream ended after {seen} events")),
        };
        if !args.events.is_empty() && !args.events.iter().any(|n| n == raw.name()) {
            continue;
        }
        // Printed from the text as received (compact, members in the
        // server's order): every value is kept exactly.
        let mut out = stdout.lock();
        if let Err(e) = crate::json_text::write_json(&mut out, raw.message(), false)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
        {
            return crate::term::stdout_failed(e);
        }
        seen += 1;
    }
}

/// Warns about `--event` names that neither the bindings nor the live QEMU
/// know (a typo waits forever otherwise).
fn check_names(qmp: &Client, names: &[String]) {
    let live = qmp.live_schema().ok().flatten();
    for n in names {
        let in_bindings = qmp_types::EVENTS.iter().any(|e| e.name == n);
        match &live {
            Some(l) if !l.schema().has_event(n) => {
                let since = qmp_types::EVENTS
                    .iter()
                    .find(|e| e.name == n)
                    .and_then(|e| e.since)
                    .map_or_else(String::new, |s| format!(" (added in QEMU {s})"));
                let qemu = qmp.version().unwrap_or_else(|| "of unknown version".into());
                eprintln!("qmp events: warning: QEMU {qemu} has no event `{n}`{since}");
            }
            None if !in_bindings => {
                eprintln!("qmp events: warning: no event `{n}` in the bindings");
            }
            _ => {}
        }
    }
}
