//! `qmp call`: run one command and print its reply as JSON.
//!
//! Before sending, the command and its arguments are checked against the
//! live QEMU's own schema (`query-qmp-schema`; the one validator the shell
//! uses too, [`crate::validate`]): a command this QEMU does not have is
//! reported as such ("`query-stats` is not supported by QEMU 5.2.0 (added
//! in QEMU 7.1)"), and arguments that do not fit its argument type are
//! refused with every problem named. A command that neither the bindings
//! nor the live QEMU know is still sent (QEMU's `CommandNotFound` answers
//! it). `--no-check` skips the check (one round trip less); a guest agent
//! (`--guest-agent`) has no schema to ask and checks arguments itself.
//!
//! The command is sent through the client's raw call path (the arguments
//! as given), and the reply kept as the server's text; where the bindings
//! know the command, the reply is also decoded with its return type, and
//! a reply that does not fit is reported.
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
use crate::client::{CallError, Client, Options};

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
    let opts = Options {
        timeout: Some(timeout),
        guest_agent: args.guest_agent,
        oob: false,
    };
    let qmp = match Client::connect(&addr, opts) {
        Ok(q) => q,
        Err(e) => {
            let why = target::explain_connect_error(&addr, &e, Some(timeout), args.guest_agent);
            return fail(format!("{addr}: {why}"));
        }
    };
    if !args.guest_agent && !args.no_check {
        match qmp.live_schema() {
            Ok(Some(live)) => {
                if let Err(r) = live.check(command, json_args.as_ref()) {
                    // A command unknown to both the live QEMU and the
                    // bindings is left to QEMU (`CommandNotFound`).
                    let unknown_to_all =
                        matches!(r, crate::validate::Refusal::UnknownCommand { .. })
                            && !r.known_elsewhere();
                    if !unknown_to_all {
                        qmp.close();
                        return fail(r);
                    }
                }
            }
            // A QEMU without introspection (older than 2.5), or a reply
            // that is not a schema: not checked.
            Ok(None) => {}
            Err(CallError::Client(e)) if e.is_fatal() => return fail(format!("{addr}: {e}")),
            Err(e @ CallError::Timeout { .. }) => return fail(e),
            Err(_) => {}
        }
    }
    // The bindings' type for the reply, where they know the command.
    let typed = Typed::of(command, json_args.as_ref(), args.guest_agent);
    if let Typed::Unknown = typed {
        eprintln!("qmp call: note: `{command}` is not in the bindings; running it untyped");
    }
    let reply = qmp.call_raw(command, json_args.as_ref());
    qmp.close();
    match reply {
        Ok(r) => {
            // The reply is printed from its text, never through a `Value`:
            // every value is kept exactly (even those a `Value` cannot
            // hold) and a huge reply costs little more than its size.
            let mut status = ExitCode::SUCCESS;
            let mut decode_error = None;
            if typed.known() {
                match r.to_value_of(command) {
                    Ok(v) => decode_error = typed.decode(v).err(),
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
        Err(CallError::Qmp(e)) => {
            eprintln!("{}: {}", e.class, target::one_line(&e.desc));
            ExitCode::from(1)
        }
        Err(e) => fail(e),
    }
}

/// What the bindings know about the command: its reply type (through
/// the typed request), for decoding the reply. Not an argument check: the
/// live schema is the judge of the arguments.
enum Typed {
    Qmp(Box<qmp_types::Request>),
    Qga(Box<qmp_types::qga::Request>),
    /// The bindings know the command, but not with these arguments (a
    /// QEMU newer than the bindings, or arguments the server will refuse):
    /// the reply is shown untyped.
    OtherArguments,
    /// The bindings do not know the command.
    Unknown,
}

impl Typed {
    fn of(command: &str, args: Option<&Value>, guest_agent: bool) -> Typed {
        use qmp_types::FromJson;
        let mut msg = serde_json::json!({ "execute": command });
        if let Some(a) = args {
            msg["arguments"] = a.clone();
        }
        if guest_agent {
            match qmp_types::qga::Request::from_json(msg) {
                Ok(qmp_types::qga::Request::Unknown { .. }) => Typed::Unknown,
                Ok(r) => Typed::Qga(Box::new(r)),
                Err(_) => Typed::OtherArguments,
            }
        } else {
            match qmp_types::Request::from_json(msg) {
                Ok(qmp_types::Request::Unknown { .. }) => Typed::Unknown,
                Ok(r) => Typed::Qmp(Box::new(r)),
                Err(_) => Typed::OtherArguments,
            }
        }
    }

    /// Whether the reply can be decoded with the bindings.
    fn known(&self) -> bool {
        matches!(self, Typed::Qmp(_) | Typed::Qga(_))
    }

    /// Decodes a reply's `return` value with the command's return type.
    fn decode(&self, value: Value) -> Result<(), qmp_types::DecodeError> {
        match self {
            Typed::Qmp(r) => r.decode_return(value).map(drop),
            Typed::Qga(r) => r.decode_return(value).map(drop),
            Typed::OtherArguments | Typed::Unknown => Ok(()),
        }
    }
}
