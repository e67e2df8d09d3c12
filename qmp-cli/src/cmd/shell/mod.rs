//! `qmp shell`: an interactive QMP shell (the successor of QEMU's
//! `qmp-shell`), with schema-aware completion and argument checks.
//!
//! Input syntax: see [`parse`]. Besides QMP commands the shell knows
//! `help [COMMAND [KEY=VALUE...]]` and `quit`/`exit` (or Ctrl-D). With
//! `-H`, lines are HMP commands sent through `human-monitor-command`.

pub mod complete;
pub mod help;
pub mod parse;
pub mod schema;

use std::borrow::Cow;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result};
use rustyline::completion::Completer;
use rustyline::config::Configurer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Editor, ExternalPrinter, Helper};
use serde_json::{Map, Value, json};

use crate::client::{CallError, Client, EventStream};
use crate::target::Target;
use crate::term::escape_controls;
use crate::validate::{LiveSchema, Refusal};
use parse::{Assignment, LineParser, Request, build_object};
use schema::Schema;

const EXAMPLES: &str = "\
Examples:
  qmp shell /tmp/qmp.sock
  qmp shell -p --launch -- -machine q35 -m 512
  qmp shell -H /tmp/qmp.sock                   # HMP: type `info status`

Input (qmp-shell's syntax):
  query-status                                 a command without arguments
  blockdev-add driver=null-co node-name=n0     KEY=VALUE arguments
  blockdev-add ... file.filename=a.img         dotted keys nest: {\"file\": {\"filename\": ...}}
  x n=12 b=true l=[1,2] o={\"k\": 1} s=\"a b\" t='c d'
                                               values are JSON when they parse as JSON,
                                               else strings; where the schema wants a
                                               string, an unquoted 123 is sent as \"123\"
  {\"execute\": \"query-name\"}                    raw JSON is sent as written (unchecked)
  transaction(                                 starts a transaction: one action per line
  block-dirty-bitmap-add node=n0 name=b0       (TYPE KEY=VALUE..., the keys form its data)
  )                                            sends it; `transaction( ACTION ... )` on one
                                               line works too; Ctrl-C drops it
  help [COMMAND [KEY=VALUE...]]                list commands / show a command's arguments
  quit                                         leave (or Ctrl-D)
Tab completes commands, argument names (nested with dots) and enum values; arguments
are checked against the connected QEMU's schema before sending (--no-check to skip).";

/// `qmp shell` options.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ShellArgs {
    #[command(flatten)]
    target: Target,
    /// HMP mode: send each line as a human monitor command.
    #[arg(short = 'H', long)]
    hmp: bool,
    /// Pretty-print replies and events.
    #[arg(short, long)]
    pretty: bool,
    /// Show the JSON sent for each command.
    #[arg(short, long)]
    verbose: bool,
    /// History file (default: `$XDG_STATE_HOME/qmp/history`, else
    /// `~/.local/state/qmp/history`).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Do not check arguments against the server's schema before sending.
    #[arg(long)]
    no_check: bool,
}

/// The rustyline helper: completion from the schema.
struct ShellHelper {
    schema: Option<Arc<Schema>>,
    in_transaction: Arc<AtomicBool>,
    hmp: bool,
    /// Colour is allowed (a terminal without `NO_COLOR`): show dimmed
    /// hints of the required arguments.
    color: bool,
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        match (&self.schema, self.hmp) {
            (Some(s), false) => {
                let c =
                    complete::complete(s, line, pos, self.in_transaction.load(Ordering::SeqCst));
                // Names come from the server: never put control characters
                // on the terminal (they could not be typed anyway).
                let clean = c
                    .candidates
                    .into_iter()
                    .filter(|w| !w.chars().any(char::is_control))
                    .collect();
                Ok((c.start, clean))
            }
            _ => Ok((pos, Vec::new())),
        }
    }
}

/// A hint that is only shown: the right arrow must not insert
/// `name=<type>` placeholders into the line.
struct ArgHint(String);

impl rustyline::hint::Hint for ArgHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Hinter for ShellHelper {
    type Hint = ArgHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> Option<ArgHint> {
        // Undimmed, a hint would look like typed text: hints need colour.
        let schema = self.schema.as_ref().filter(|_| !self.hmp && self.color)?;
        if pos != line.len() {
            return None;
        }
        let h = complete::required_hint(schema, line, self.in_transaction.load(Ordering::SeqCst))?;
        Some(ArgHint(escape_controls(&h)))
    }
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

/// The default history file.
fn default_history() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("qmp").join("history"))
}

/// Creates `path` if needed and makes it readable by its owner only.
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Formats a message for the terminal: JSON, compact or pretty, with
/// control characters escaped.
pub fn format_json(v: &Value, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    }
    .unwrap_or_else(|e| format!("<unprintable: {e}>"));
    escape_controls(&text)
}

/// Formats the command about to be sent, `execute` first as on the wire.
pub fn format_request(name: &str, args: Option<&Value>, pretty: bool) -> String {
    let name = format_json(&Value::String(name.to_owned()), false);
    match (args, pretty) {
        (None, false) => format!("{{\"execute\":{name}}}"),
        (None, true) => format!("{{\n  \"execute\": {name}\n}}"),
        (Some(a), false) => format!(
            "{{\"execute\":{name},\"arguments\":{}}}",
            format_json(a, false)
        ),
        (Some(a), true) => {
            let body = format_json(a, true).replace('\n', "\n  ");
            format!("{{\n  \"execute\": {name},\n  \"arguments\": {body}\n}}")
        }
    }
}

/// Lays out JSON text received from the server, compact or pretty,
/// keeping every value exactly (see [`crate::json_text`]).
fn format_text(text: &str, pretty: bool) -> String {
    let mut out = Vec::with_capacity(text.len() + 16);
    // Writing to memory cannot fail.
    let _ = crate::json_text::write_json(&mut out, text, pretty);
    String::from_utf8_lossy(&out).into_owned()
}

/// What the event printer shows for one item of the event stream: the
/// event exactly as received (typed or not), or a warning.
fn format_event(
    item: &Result<qmp_client::TypedEvent<qmp_types::Event>, qmp_client::EventError>,
    pretty: bool,
) -> String {
    use qmp_client::EventError;
    match item {
        Ok(ev) => format_text(ev.raw.message(), pretty),
        // An event the bindings do not decode is still shown as received.
        Err(EventError::Decode { raw, .. }) => format_text(raw.message(), pretty),
        Err(EventError::Lagged(n)) => {
            format!("warning: {n} events were dropped (the event buffer was full)")
        }
        Err(EventError::Closed(why)) => {
            format!("connection closed: {}", escape_controls(&why.to_string()))
        }
    }
}

/// The session state (everything but the line editor).
pub struct Session {
    client: Client,
    live: Option<LiveSchema>,
    parser: LineParser,
    in_transaction: Arc<AtomicBool>,
    hmp: bool,
    pretty: bool,
    verbose: bool,
    check: bool,
}

/// What a line did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Keep reading.
    Continue,
    /// The user asked to leave.
    Quit,
    /// The connection is gone.
    Disconnected,
}

impl Session {
    /// Runs one input line, writing output to `out`.
    pub fn run_line(&mut self, line: &str, out: &mut dyn std::io::Write) -> Outcome {
        let r = self.run_line_inner(line, out);
        self.in_transaction
            .store(self.parser.in_transaction(), Ordering::SeqCst);
        r
    }

    fn run_line_inner(&mut self, line: &str, out: &mut dyn std::io::Write) -> Outcome {
        let trimmed = line.trim();
        if !self.parser.in_transaction() {
            match trimmed.split_whitespace().next() {
                Some("quit" | "exit") if trimmed.split_whitespace().count() == 1 => {
                    return Outcome::Quit;
                }
                Some("help" | "?") if !self.hmp => {
                    let rest: Vec<&str> = trimmed.split_whitespace().skip(1).collect();
                    let text = help::help(self.live.as_ref().map(|l| &**l.schema()), &rest);
                    let _ = write!(out, "{}", escape_controls(&text));
                    return Outcome::Continue;
                }
                _ => {}
            }
        }
        if self.hmp {
            if trimmed.is_empty() {
                return Outcome::Continue;
            }
            let cmd = qmp_types::HumanMonitorCommand::new(trimmed);
            if self.verbose {
                let args = json!({ "command-line": trimmed });
                let sent = format_request("human-monitor-command", Some(&args), self.pretty);
                let _ = writeln!(out, "{sent}");
            }
            return match self.client.call(cmd) {
                Ok(s) => {
                    let _ = write!(out, "{}", escape_controls(&s.replace("\r\n", "\n")));
                    Outcome::Continue
                }
                Err(e) => self.report_error(e, out),
            };
        }
        let request = match self.parser.parse_line(line) {
            Ok(Some(r)) => r,
            Ok(None) => return Outcome::Continue,
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
                return Outcome::Continue;
            }
        };
        let (name, args, oob) = match self.assemble(request) {
            Ok(x) => x,
            Err(msgs) => {
                for m in msgs {
                    let _ = writeln!(out, "error: {}", escape_controls(&m));
                }
                let _ = writeln!(out, "(not sent)");
                return Outcome::Continue;
            }
        };
        if self.verbose {
            let _ = writeln!(out, "{}", format_request(&name, args.as_ref(), self.pretty));
        }
        if oob {
            return match self.client.call_raw_oob(&name, args) {
                Ok(v) => {
                    let _ = writeln!(out, "{}", format_json(&json!({ "return": v }), self.pretty));
                    Outcome::Continue
                }
                Err(e) => self.report_error(e, out),
            };
        }
        match self.client.call_raw(&name, args.as_ref()) {
            Ok(r) => {
                // From the reply's text: every value is shown exactly as
                // the server sent it.
                let text = format!("{{\"return\":{}}}", r.json());
                let _ = writeln!(out, "{}", format_text(&text, self.pretty));
                Outcome::Continue
            }
            Err(e) => self.report_error(e, out),
        }
    }

    fn report_error(&self, e: CallError, out: &mut dyn std::io::Write) -> Outcome {
        match e {
            CallError::Qmp(r) => {
                let v = json!({"error": {"class": r.class.as_str(), "desc": r.desc}});
                let _ = writeln!(out, "{}", format_json(&v, self.pretty));
                Outcome::Continue
            }
            CallError::Decode { .. } => {
                let _ = writeln!(out, "error: {}", escape_controls(&e.to_string()));
                Outcome::Continue
            }
            CallError::Timeout { .. } => {
                let _ = writeln!(out, "error: {}", escape_controls(&e.to_string()));
                Outcome::Disconnected
            }
            CallError::Client(ref c) => {
                let _ = writeln!(out, "error: {}", escape_controls(&e.to_string()));
                if c.is_fatal() || self.client.is_closed() {
                    Outcome::Disconnected
                } else {
                    Outcome::Continue
                }
            }
        }
    }

    /// Turns a parsed request into a command name and arguments, checked
    /// against the schema. Errors are messages for the user.
    fn assemble(&self, request: Request) -> Result<(String, Option<Value>, bool), Vec<String>> {
        let live = self.live.as_ref().filter(|_| self.check);
        let schema = live.map(|l| &**l.schema());
        match request {
            Request::Raw {
                name,
                arguments,
                oob,
            } => Ok((name, arguments, oob)),
            Request::Command { name, mut args } => {
                if let Some(s) = schema
                    && let Some(ty) = s.command(&name).and_then(|c| c.arg_type.clone())
                {
                    let given = build_object(&args).unwrap_or_default();
                    s.coerce(&ty, &[], &mut args, &given);
                }
                let obj = build_object(&args).map_err(|e| vec![e.to_string()])?;
                let args = (!obj.is_empty()).then_some(Value::Object(obj));
                if let Some(l) = live {
                    l.check(&name, args.as_ref()).map_err(refused)?;
                }
                Ok((name, args, false))
            }
            Request::Transaction(actions) => {
                let action_ty = schema.and_then(|s| s.transaction_action_type().map(str::to_owned));
                let mut list = Vec::new();
                for a in actions {
                    let mut args: Vec<Assignment> = a.args;
                    let mut data = build_object(&args).map_err(|e| vec![e.to_string()])?;
                    if let (Some(s), Some(ty)) = (schema, &action_ty) {
                        let mut given = Map::new();
                        given.insert("type".into(), Value::String(a.kind.clone()));
                        given.insert("data".into(), Value::Object(data));
                        s.coerce(ty, &["data".to_owned()], &mut args, &given);
                        data = build_object(&args).map_err(|e| vec![e.to_string()])?;
                    }
                    list.push(json!({ "type": a.kind, "data": data }));
                }
                let args = json!({ "actions": list });
                if let Some(l) = live {
                    l.check("transaction", Some(&args)).map_err(refused)?;
                }
                Ok(("transaction".to_owned(), Some(args), false))
            }
        }
    }
}

/// The validator's messages, one per line in the shell.
fn refused(r: Refusal) -> Vec<String> {
    match r {
        Refusal::UnknownCommand { command, .. } if !crate::validate::in_bindings(&command) => {
            vec![format!(
                "unknown command '{command}' (`help` lists the commands)"
            )]
        }
        r @ Refusal::UnknownCommand { .. } => vec![r.to_string()],
        Refusal::Invalid { problems, .. } => problems.iter().map(ToString::to_string).collect(),
    }
}

/// Reads the server's schema; `None` (with a warning) when it cannot.
fn load_schema(client: &Client) -> Option<LiveSchema> {
    match client.live_schema() {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            eprintln!("warning: the server has no query-qmp-schema; completion and checks are off");
            None
        }
        Err(e) => {
            eprintln!("warning: no schema from the server ({e}); completion and checks are off");
            None
        }
    }
}

fn spawn_event_printer(
    events: EventStream,
    mut printer: Option<Box<dyn ExternalPrinter + Send>>,
    pretty: bool,
    closing: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        for item in events {
            if matches!(item, Err(qmp_client::EventError::Closed(_)))
                && closing.load(Ordering::SeqCst)
            {
                return;
            }
            let mut text = format_event(&item, pretty);
            text.push('\n');
            let printed = printer
                .as_mut()
                .is_some_and(|p| p.print(text.clone()).is_ok());
            if !printed {
                print!("{text}");
                use std::io::Write;
                let _ = std::io::stdout().flush();
            }
        }
    });
}

/// Runs `qmp shell`.
pub fn run(args: ShellArgs) -> Result<()> {
    let (conn, _launched) = args.target.connect()?;
    let note = crate::term::WaitNote::after(
        crate::target::NOTE_DELAY,
        format!(
            "still waiting for the server's schema (query-qmp-schema){}",
            args.target.limit_text()
        ),
    );
    let live = load_schema(&conn);
    let schema = live.as_ref().map(|l| l.schema().clone());
    drop(note);
    let in_transaction = Arc::new(AtomicBool::new(false));
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ShellHelper, rustyline::history::FileHistory> =
        Editor::with_config(config).context("cannot set up the line editor")?;
    editor.set_helper(Some(ShellHelper {
        schema: schema.clone(),
        in_transaction: in_transaction.clone(),
        hmp: args.hmp,
        color: crate::term::color_stdout(),
    }));
    let _ = editor.set_max_history_size(10_000);
    let history = args.history.clone().or_else(default_history);
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if h.exists()
            && let Err(e) = editor.load_history(h)
        {
            eprintln!("warning: cannot read history {}: {e}", h.display());
        }
        // Commands may carry secrets (passwords of `object-add secret`):
        // the history is private to its owner.
        if let Err(e) = private_file(h) {
            eprintln!("warning: cannot create history {}: {e}", h.display());
        }
    }
    let printer: Option<Box<dyn ExternalPrinter + Send>> = if std::io::stdin().is_terminal() {
        editor
            .create_external_printer()
            .ok()
            .map(|p| Box::new(p) as Box<dyn ExternalPrinter + Send>)
    } else {
        None
    };
    let closing = Arc::new(AtomicBool::new(false));
    spawn_event_printer(conn.events(), printer, args.pretty, closing.clone());

    let interactive = std::io::stdin().is_terminal();
    if interactive {
        let version = conn.version().unwrap_or_else(|| "(unknown version)".into());
        println!(
            "Connected to QEMU {version}{}. Type `help` for commands, Tab to complete, Ctrl-D to quit.",
            if args.hmp { " (HMP mode)" } else { "" }
        );
    }
    let mut session = Session {
        client: conn,
        live,
        parser: LineParser::new(),
        in_transaction,
        hmp: args.hmp,
        pretty: args.pretty,
        verbose: args.verbose,
        check: !args.no_check,
    };
    loop {
        let prompt = match (session.hmp, session.parser.in_transaction()) {
            (true, _) => "(HMP) ",
            (false, true) => "TRANS> ",
            (false, false) => "(QEMU) ",
        };
        let line = match editor.readline(prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                if session.parser.in_transaction() {
                    session.parser.abort_transaction();
                    session.in_transaction.store(false, Ordering::SeqCst);
                    println!("transaction dropped");
                }
                continue;
            }
            Err(ReadlineError::Eof) => {
                if let Some(n) = session.parser.pending_actions() {
                    // Never drop typed actions silently.
                    closing.store(true, Ordering::SeqCst);
                    anyhow::bail!(
                        "end of input inside an open transaction: its {n} action(s) were not sent (end a transaction with ')')"
                    );
                }
                break;
            }
            Err(e) => return Err(e).context("cannot read input"),
        };
        // A paste of several lines arrives as one (bracketed paste): run
        // them one by one, as if typed.
        for line in line.split('\n') {
            if !line.trim().is_empty() {
                let _ = editor.add_history_entry(line);
                if let Some(h) = &history
                    && let Err(e) = editor.append_history(h)
                {
                    eprintln!("warning: cannot write history {}: {e}", h.display());
                }
            }
            // Not locked across the command: events may print meanwhile.
            let mut out = std::io::stdout();
            match session.run_line(line, &mut out) {
                Outcome::Continue => {}
                Outcome::Quit => {
                    closing.store(true, Ordering::SeqCst);
                    return Ok(());
                }
                Outcome::Disconnected => anyhow::bail!("the connection to QEMU is gone"),
            }
        }
    }
    closing.store(true, Ordering::SeqCst);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Options;
    use crate::cmd::target::Address;
    use qmp_client::ErrorClass;
    use qmp_client::testing::{FakeQemu, Script};

    /// A fake QEMU that records what is sent and answers from a script:
    /// an HMP command, an error with control characters, a command that
    /// ends the connection, and an echo of anything else.
    fn fake() -> FakeQemu {
        let script = Script::new()
            .stub(
                "human-monitor-command",
                json!("VM status: \u{1b}[31mrunning\r\n"),
            )
            .stub_error("fail", ErrorClass::GenericError, "bad \u{1b}[2J")
            .stub("set-id", json!({"echo": {"id": "123"}}))
            .stub("transaction", json!({}))
            .stub("x-odd", json!({"s": "a\u{7f}\u{85}"}))
            .expect("gone")
            .eof();
        FakeQemu::start(script).unwrap()
    }

    fn session(fake: &FakeQemu, hmp: bool) -> Session {
        let opts = Options {
            timeout: Some(std::time::Duration::from_secs(10)),
            ..Options::default()
        };
        let client = Client::connect(&Address::Unix(fake.socket().to_owned()), opts).unwrap();
        Session {
            client,
            live: Some(LiveSchema::new(
                Arc::new(Schema::new(schema::testmodel::model())),
                Some("10.0.0".into()),
            )),
            parser: LineParser::new(),
            in_transaction: Arc::new(AtomicBool::new(false)),
            hmp,
            pretty: false,
            verbose: false,
            check: true,
        }
    }

    /// The commands the fake received (after negotiation).
    fn sent(fake: &FakeQemu) -> Vec<Value> {
        fake.received()
            .into_iter()
            .filter(|m| m["execute"] != "qmp_capabilities")
            .map(|mut m| {
                m.as_object_mut().map(|o| o.remove("id"));
                m
            })
            .collect()
    }

    fn run(s: &mut Session, line: &str) -> (Outcome, String) {
        let mut out = Vec::new();
        let o = s.run_line(line, &mut out);
        (o, String::from_utf8(out).unwrap())
    }

    #[test]
    fn commands_are_checked_before_sending() {
        let fake = fake();
        let mut s = session(&fake, false);
        let (_, out) = run(&mut s, "set-speed value=1 bogus=2");
        assert_eq!(
            out,
            "error: unknown argument 'bogus' (expected one of: value, unit)\n(not sent)\n"
        );
        let (_, out) = run(&mut s, "no-such-thing");
        assert!(
            out.starts_with("error: unknown command 'no-such-thing'"),
            "{out}"
        );
        // A command of another QEMU release: said so, with its release.
        let (_, out) = run(&mut s, "query-stats");
        assert!(
            out.starts_with("error: `query-stats` is not supported by QEMU 10.0.0 (added in QEMU "),
            "{out}"
        );
        assert!(sent(&fake).is_empty());
        let (_, out) = run(&mut s, "set-id id=123");
        assert_eq!(out, "{\"return\":{\"echo\":{\"id\":\"123\"}}}\n");
        assert_eq!(
            sent(&fake),
            [json!({"execute": "set-id", "arguments": {"id": "123"}})]
        );
    }

    #[test]
    fn transactions_are_sent_whole() {
        let fake = fake();
        let mut s = session(&fake, false);
        assert_eq!(run(&mut s, "transaction(").1, "");
        assert!(s.in_transaction.load(Ordering::SeqCst));
        assert_eq!(run(&mut s, "stop-it name=7").1, "");
        let (_, out) = run(&mut s, ")");
        assert!(out.starts_with("{\"return\""), "{out}");
        assert_eq!(
            sent(&fake)[0]["arguments"],
            json!({"actions": [{"type": "stop-it", "data": {"name": "7"}}]})
        );
        let (_, out) = run(&mut s, "transaction( stop-it nam=1 )");
        assert!(
            out.contains("unknown argument 'actions[0].data.nam'"),
            "{out}"
        );
    }

    #[test]
    fn errors_and_server_text_are_escaped() {
        let fake = fake();
        let mut s = session(&fake, false);
        let (o, out) = run(&mut s, "{\"execute\": \"fail\"}");
        assert_eq!(o, Outcome::Continue);
        assert_eq!(
            out,
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"bad \\u001b[2J\"}}\n"
        );
        // Raw DEL and C1 characters in a reply are escaped, the value kept.
        let (_, out) = run(&mut s, "{\"execute\": \"x-odd\"}");
        assert_eq!(out, "{\"return\":{\"s\":\"a\\u007f\\u0085\"}}\n");
        assert_eq!(
            run(&mut s, "{\"execute\": \"gone\"}").0,
            Outcome::Disconnected
        );
        assert_eq!(run(&mut s, "quit").0, Outcome::Quit);
        let fake = self::fake();
        let mut h = session(&fake, true);
        let (_, out) = run(&mut h, "info status");
        assert_eq!(out, "VM status: \\u001b[31mrunning\n");
        assert_eq!(
            sent(&fake),
            [
                json!({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}})
            ]
        );
    }

    #[test]
    fn requests_print_execute_first() {
        assert_eq!(format_request("stop", None, false), r#"{"execute":"stop"}"#);
        let a = json!({"b": 1, "a": [2]});
        assert_eq!(
            format_request("x", Some(&a), false),
            r#"{"execute":"x","arguments":{"a":[2],"b":1}}"#
        );
        let pretty = format_request("x", Some(&a), true);
        assert_eq!(
            serde_json::from_str::<Value>(&pretty).unwrap(),
            json!({"execute": "x", "arguments": a})
        );
        assert!(
            pretty.starts_with("{\n  \"execute\": \"x\",\n  \"arguments\": {\n    \"a\""),
            "{pretty}"
        );
    }

    #[test]
    fn events_are_shown_as_received() {
        let fake = FakeQemu::start(
            Script::new()
                .expect("go")
                .reply(json!({}))
                .raw(&b"{\"event\": \"X\", \"data\": {\"s\": \"a\\ud800\"}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n"[..])
                .event("STOP", json!({}))
                .eof(),
        )
        .unwrap();
        let client =
            Client::connect(&Address::Unix(fake.socket().to_owned()), Options::default()).unwrap();
        let mut events = client.events();
        client.call_raw("go", None).unwrap();
        // Not representable as a `Value`, and unknown to the bindings:
        // shown exactly.
        let first = events.next().unwrap();
        assert_eq!(
            format_event(&first, false),
            "{\"event\":\"X\",\"data\":{\"s\":\"a\\ud800\"},\"timestamp\":{\"seconds\":1,\"microseconds\":2}}"
        );
        let stop = events.next().unwrap();
        assert!(matches!(&stop, Ok(e) if matches!(e.event, qmp_types::Event::Stop(_))));
        assert!(format_event(&stop, false).contains("\"event\":\"STOP\""));
        let closed = events.next().unwrap();
        assert!(format_event(&closed, false).starts_with("connection closed: "));
    }
}
