//! `qmp schema diff OLD NEW`: what changed between two schemas.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use qmp_schema::{Level, Model, ParseOptions};

use crate::term::{escape_controls, write_stdout};

const EXAMPLES: &str = "\
Examples:
  qmp schema diff qemu-5.1/qapi/qapi-schema.json qemu-10.0/qapi/qapi-schema.json
  qmp schema diff --json old.json new.json | jq '.commands[] | select(.change == \"removed\") | .name'
  qmp schema diff saved-query-qmp-schema-9.2.json saved-query-qmp-schema-10.0.json

Each file is a QAPI schema (read at the language level of its QEMU tree's
VERSION file) or a saved `query-qmp-schema` reply. Exit status: 0 when the
schemas do not differ, 1 when they do, 2 on error.";

/// `qmp schema diff` options.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct DiffArgs {
    /// The old schema.
    old: PathBuf,
    /// The new schema.
    new: PathBuf,
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

/// Runs `qmp schema diff`.
pub fn run(args: DiffArgs) -> ExitCode {
    let models =
        read(&args.old, args.old_level).and_then(|o| Ok((o, read(&args.new, args.new_level)?)));
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
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("qmp: cannot encode the diff: {e}");
                return ExitCode::from(2);
            }
        }
    } else if d.is_empty() {
        "no differences\n".to_owned()
    } else {
        d.to_string()
    };
    if let Err(e) = write_stdout(&escape_controls(&text)) {
        eprintln!("qmp: cannot write output: {e}");
        return ExitCode::from(2);
    }
    if d.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
