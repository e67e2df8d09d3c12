//! `qmp schema extract`: write the facts-only snapshot of a QAPI schema.
//!
//! The snapshot (format `qmp-rs-snapshot/1`, see `qmp_schema::snapshot`)
//! keeps every expression and the doc facts the checker needs (documented
//! member and feature names, `Since:`), but no documentation prose, so it
//! can be committed and embedded where QEMU's text may not.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use qmp_schema::{Level, ParseOptions, snapshot};

/// Arguments of `qmp schema extract`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmp schema extract qemu/qapi/qapi-schema.json -o qemu-qmp.json\n  qmp schema check qemu-qmp.json   # snapshots load like source"
)]
pub struct ExtractArgs {
    /// The main schema file (its includes are read too).
    pub file: PathBuf,
    /// Write the snapshot to this file instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// QAPI language level (e.g. 10.0); default: read from the QEMU tree's
    /// VERSION file, else the newest.
    #[arg(long, value_name = "X.Y")]
    pub level: Option<Level>,
}

/// Runs `qmp schema extract`.
pub fn run(args: ExtractArgs) -> ExitCode {
    let opts = ParseOptions {
        level: args.level,
        ..ParseOptions::default()
    };
    let text = match snapshot::extract(&args.file, &opts) {
        Ok(t) => t,
        Err(e) => {
            if std::io::stderr().is_terminal() {
                eprintln!("{}", e.render_rich(true));
            } else {
                eprintln!("{e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| format!("qmp: cannot write '{}': {e}", path.display())),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| format!("qmp: cannot write to standard output: {e}")),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
