//! `qmp call`: run one command and print its reply as JSON.
//!
//! The command and its arguments are checked against the generated
//! bindings before anything is sent (the guest agent's with
//! `--guest-agent`), and the reply is decoded through them; a command the
//! bindings do not know still runs, untyped, with a note on stderr.
//!
//! Before sending, the command and its arguments are checked against the
//! live QEMU's own schema (`query-qmp-schema`, see `qmp_client::caps`): a
//! command, argument member or enum value that this QEMU does not have is
//! reported as such ("`query-stats` is not supported by QEMU 5.2.0 (added
//! in QEMU 7.1)"), before any complaint the bindings have about the
//! arguments. A command that neither the bindings nor the live QEMU know
//! is still sent (QEMU's `CommandNotFound` answers it); when the socket
//! cannot be reached, the bindings' complaint about the arguments is
//! reported. `--no-check` skips the check (one round trip less).
//!
//! Exit status: 0 with the `return` value on stdout; 1 when the server
//! answers with an error (`CLASS: description` on stderr); 2 on a usage,
//! validation, connection, protocol or decode error (one line on stderr).
//! A reply that does not decode with the bindings is still printed on
//! stdout exactly as received, with the decode error on stderr (exit 2).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::target::{self, Address};

/// Arguments of `qmp call`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  qmp call /tmp/qmp.sock query-status\n  qmp call tcp:localhost:4444 human-monitor-command '{\"command-line\": \"info version\"}'\n  qmp call --launch --pretty query-version\n  qmp call --launch query-machines -- -machine q35"
)]
pub struct CallArgs {
    /// `SOCKET COMMAND [JSON-ARGS]` (SOCKET: a path, `unix:PATH` or
    /// `tcp:HOST:PORT`); with `--launch`, `COMMAND [JSON-ARGS]`.
    #[arg(value_name = "SOCKET COMMAND [JSON-ARGS]", required = true, num_args = 1..=3)]
    positional: Vec<String>,
    /// Pretty-print the reply.
    #[arg(long)]
    pretty: bool,
    /// Print the `return` value exactly as the server sent it.
    #[arg(long, conflicts_with = "pretty")]
    raw: bool,
    /// Timeout in seconds for connecting, the handshake and the reply.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout: f64,
    /// Start a throwaway `qemu-system-x86_64 -machine none` (extra QEMU
    /// arguments after `--`), killed on exit.
    #[arg(long)]
    launch: bool,
    /// The socket is a guest agent's (`qemu-ga`).
    #[arg(long)]
    guest_agent: bool,
    /// Do not check the command against the live QEMU's schema before
    /// sending it.
    #[arg(long)]
    no_check: bool,
    /// Extra QEMU arguments for `--launch`.
    #[arg(last = true, value_name = "QEMU-ARGS")]
    qemu_args: Vec<String>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("qmp call: {}", target::one_line(&msg));
    ExitCode::from(2)
}

/// Runs `qmp call`.
pub fn run(args: CallArgs) -> ExitCode {
    let timeout = match Duration::try_from_secs_f64(args.timeout) {
        Ok(t) => t,
        Err(_) => return fail(format!("invalid timeout {}", args.timeout)),
    };
    let mut pos = args.positional.iter();
    let socket = if args.launch { None } else { pos.next() };
    let Some(command) = pos.next() else {
        return fail("missing COMMAND");
    };
    let json_args = match pos.next() {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Some(v),
            Ok(_) => return fail("JSON-ARGS must be a JSON object"),
            Err(e) => return fail(format!("JSON-ARGS is not valid JSON: {e}")),
        },
    };
    if pos.next().is_some() {
        return fail("too many arguments");
    }
    // The bindings' verdict on the arguments is reported only after the
    // live QEMU has been asked whether it has the command at all.
    let typed = Typed::check(command, json_args.as_ref(), args.guest_agent);
    if !args.launch && !args.qemu_args.is_empty() {
        return fail("QEMU arguments after `--` need --launch");
    }
    let _launched;
    let addr = if args.launch {
        match target::launch(&args.qemu_args, timeout) {
            Ok(l) => {
                let a = Address::Unix(l.sock.clone());
                _launched = l;
                a
            }
            Err(e) => return fail(e),
        }
    } else {
        match socket {
            Some(s) => Address::parse(s),
            None => return fail("missing SOCKET"),
        }
    };
    let qmp = match target::connect(&addr, timeout, args.guest_agent) {
        Ok(q) => q,
        Err(e) => {
            // Without a live QEMU to ask, the bindings' verdict stands.
            if let Err(t) = typed {
                return fail(t);
            }
            let why = target::explain_connect_error(&addr, &e, Some(timeout), args.guest_agent);
            return fail(format!("{addr}: {why}"));
        }
    };
    if !args.guest_agent && !args.no_check {
        // A QEMU without introspection (older than 2.5) is not checked.
        match qmp.capabilities() {
            Ok(caps) => {
                let unknown_to_all = matches!(typed, Ok(None)) && !caps.has_command(command);
                if let Err(e) = caps.check(command, json_args.as_ref())
                    && !unknown_to_all
                {
                    qmp.close();
                    return fail(e);
                }
            }
            Err(e) if e.is_fatal() => return fail(format!("{addr}: {e}")),
            Err(_) => {}
        }
    }
    let typed = match typed {
        Ok(t) => t,
        Err(e) => {
            qmp.close();
            return fail(e);
        }
    };
    if typed.is_none() {
        eprintln!("qmp call: note: `{command}` is not in the bindings; running it untyped");
    }
    let reply = qmp.request_raw(command, json_args.clone()).send_reply();
    qmp.close();
    match reply {
        Ok(r) => {
            // The reply is printed from its text, never through a `Value`:
            // every value is kept exactly (even those a `Value` cannot
            // hold) and a huge reply costs little more than its size.
            let mut status = ExitCode::SUCCESS;
            let mut decode_error = None;
            if let Some(t) = &typed {
                match r.to_value_of(command) {
                    Ok(v) => decode_error = t.decode(v).err(),
                    Err(e) => {
                        // Nothing is lost: the reply is printed as
                        // received, and the status says it does not fit
                        // the bindings.
                        eprintln!("qmp call: {}", target::one_line(&e));
                        status = ExitCode::from(2);
                    }
                }
            }
            let mut out = std::io::stdout().lock();
            // A reply that does not fit the bindings is still printed, as
            // received, before the decode error: nothing is lost.
            let written = if args.raw || decode_error.is_some() {
                out.write_all(r.json().as_bytes())
            } else {
                crate::json_text::write_json(&mut out, r.json(), args.pretty)
            };
            if let Err(e) = written
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush())
            {
                return crate::term::stdout_failed(e);
            }
            if let Some(e) = decode_error {
                return fail(format!(
                    "cannot decode the reply of `{command}` (printed as received): {e}"
                ));
            }
            status
        }
        Err(qmp_client::Error::Qmp(e)) => {
            eprintln!("{}: {}", e.class, target::one_line(&e.desc));
            ExitCode::from(1)
        }
        Err(e @ qmp_client::Error::Timeout(_)) => fail(format!(
            "{e} to `{command}` after {} s (--timeout sets the limit)",
            timeout.as_secs_f64()
        )),
        Err(e) => fail(e),
    }
}

/// A request the bindings know, checked before sending.
enum Typed {
    Qmp(Box<qmp_types::Request>),
    Qga(Box<qmp_types::qga::Request>),
}

impl Typed {
    /// Checks `command` and its arguments against the bindings: `Ok(None)`
    /// when the bindings do not know the command, `Err` when they do and
    /// the arguments do not fit.
    fn check(
        command: &str,
        args: Option<&Value>,
        guest_agent: bool,
    ) -> Result<Option<Typed>, String> {
        use qmp_types::FromJson;
        let mut msg = serde_json::json!({ "execute": command });
        if let Some(a) = args {
            msg["arguments"] = a.clone();
        }
        let bad = |e: qmp_types::DecodeError| format!("invalid arguments for `{command}`: {e}");
        if guest_agent {
            match qmp_types::qga::Request::from_json(msg).map_err(bad)? {
                qmp_types::qga::Request::Unknown { .. } => Ok(None),
                r => Ok(Some(Typed::Qga(Box::new(r)))),
            }
        } else {
            match qmp_types::Request::from_json(msg).map_err(bad)? {
                qmp_types::Request::Unknown { .. } => Ok(None),
                r => Ok(Some(Typed::Qmp(Box::new(r)))),
            }
        }
    }

    /// Decodes a reply's `return` value with the command's return type.
    fn decode(&self, value: Value) -> Result<(), qmp_types::DecodeError> {
        match self {
            Typed::Qmp(r) => r.decode_return(value).map(drop),
            Typed::Qga(r) => r.decode_return(value).map(drop),
        }
    }
}
