//! `qmp schema diff OLD NEW`: what changed between two schemas.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::Duration;

use qmp_schema::{Level, Model, ParseOptions};

use super::target::{self, Address};

use crate::term::{escape_controls, write_stdout};

const EXAMPLES: &str = "\
Examples:
  qmp schema diff qemu-5.1/qapi/qapi-schema.json qemu-10.0/qapi/qapi-schema.json
  qmp schema diff --json old.json new.json | jq '.commands[] | select(.change == \"removed\") | .name'
  qmp schema diff saved-query-qmp-schema-9.2.json saved-query-qmp-schema-10.0.json
  qmp schema diff qemu-10.0/qapi/qapi-schema.json /run/vm/qmp.sock

Each side is a QAPI schema (read at the language level of its QEMU tree's
VERSION file), a saved `query-qmp-schema` reply, or a running QEMU: a QMP
Unix socket (detected by file type, or written `unix:PATH`) or
`tcp:HOST:PORT`, whose live schema is fetched. Exit status: 0 when the
schemas do not differ, 1 when they do, 2 on error.";

/// `qmp schema diff` options.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct DiffArgs {
    /// The old schema (file, or a live QEMU's QMP socket).
    old: PathBuf,
    /// The new schema (file, or a live QEMU's QMP socket).
    new: PathBuf,
    /// Timeout in seconds for a live QEMU (connect, handshake, reply).
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// QAPI language level of OLD (QEMU release, e.g. 5.1); default: from
    /// its tree's VERSION file.
    #[arg(long, value_name = "X.Y")]
    old_level: Option<Level>,
    /// QAPI language level of NEW.
    #[arg(long, value_name = "X.Y")]
    new_level: Option<Level>,
}

/// The live QEMU a side names, if it names one: `unix:PATH`,
/// `tcp:HOST:PORT`, or a path whose file type is a socket.
fn live_address(path: &Path) -> Option<Address> {
    use std::os::unix::fs::FileTypeExt;
    let s = path.to_str()?;
    if s.starts_with("unix:") || s.starts_with("tcp:") {
        return Some(Address::parse(s));
    }
    let ft = std::fs::metadata(path).ok()?.file_type();
    ft.is_socket().then(|| Address::Unix(path.to_owned()))
}

/// Fetches a running QEMU's `query-qmp-schema` and reads it like a saved
/// reply (named after the address in diagnostics).
fn read_live(addr: &Address, timeout: Duration) -> Result<Model, String> {
    let fail = |e: &dyn std::fmt::Display| format!("qmp: {addr}: {}", target::one_line(e));
    let qmp = target::connect(addr, timeout, false).map_err(|e| fail(&e))?;
    let reply = qmp.request_raw("query-qmp-schema", None).send_reply();
    qmp.close();
    let reply = reply.map_err(|e| fail(&e))?;
    qmp_schema::from_introspection_json(&addr.to_string(), reply.json())
        .map_err(|e| e.diagnostic.to_string())
}

/// Reads one side: a live QEMU, or a file ([`read`]).
fn read_side(path: &Path, level: Option<Level>, timeout: Duration) -> Result<Model, String> {
    match live_address(path) {
        Some(addr) => read_live(&addr, timeout),
        None => read(path, level),
    }
}

/// Reads a schema: QAPI source, a facts-only snapshot or a saved
/// `query-qmp-schema` reply (`qmp_schema::load` tells them apart).
fn read(path: &Path, level: Option<Level>) -> Result<Model, String> {
    let opts = ParseOptions {
        level,
        ..ParseOptions::default()
    };
    qmp_schema::load(path, &opts).map_err(|e| {
        if std::io::stderr().is_terminal() {
            e.render_rich(std::env::var_os("NO_COLOR").is_none())
        } else {
            e.diagnostic.to_string()
        }
    })
}

/// Colours added (`+`), removed (`-`) and changed (`~`) lines, with the
/// control characters of the schema text already escaped.
fn colorize(text: &str, color: bool) -> String {
    if !color {
        return escape_controls(text);
    }
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.lines() {
        let escaped = escape_controls(line);
        let code = match line.trim_start().chars().next() {
            Some('+') => "32",
            Some('-') => "31",
            Some('~') => "33",
            _ => "1",
        };
        out.push_str(&crate::term::paint(true, code, &escaped));
        out.push('\n');
    }
    out
}

/// Runs `qmp schema diff`.
pub fn run(args: DiffArgs) -> ExitCode {
    let Ok(timeout) = Duration::try_from_secs_f64(args.timeout) else {
        eprintln!("qmp: invalid timeout {}", args.timeout);
        return ExitCode::from(2);
    };
    let models = read_side(&args.old, args.old_level, timeout)
        .and_then(|o| Ok((o, read_side(&args.new, args.new_level, timeout)?)));
    let (old, new) = match models {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}", e.trim_end());
            return ExitCode::from(2);
        }
    };
    let d = qmp_schema::diff::diff(&old, &new);
    let text = if args.json {
        match serde_json::to_string_pretty(&d) {
            Ok(s) => escape_controls(&s) + "\n",
            Err(e) => {
                eprintln!("qmp: cannot encode the diff: {e}");
                return ExitCode::from(2);
            }
        }
    } else if d.is_empty() {
        "no differences\n".to_owned()
    } else {
        // Escapes the schema's text, then colours.
        colorize(&d.to_string(), crate::term::color_stdout())
    };
    if let Err(e) = write_stdout(&text) {
        eprintln!("qmp: cannot write output: {e}");
        return ExitCode::from(2);
    }
    if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::colorize;

    #[test]
    fn colours_only_when_asked() {
        let text =
            "Commands: 1 added\n  + command a\n  - command b\n      ~ member 'x' type: \x1b t\n";
        assert_eq!(colorize(text, false), text.replace('\x1b', "\\u001b"));
        let c = colorize(text, true);
        assert!(c.contains("\x1b[32m  + command a\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[31m  - command b\x1b[0m"), "{c:?}");
        assert!(
            c.contains("\x1b[33m      ~ member 'x' type: \\u001b t\x1b[0m"),
            "{c:?}"
        );
    }
}
