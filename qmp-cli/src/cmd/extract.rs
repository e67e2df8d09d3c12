//! `qmp schema extract`: write the facts-only snapshot of a QAPI schema.
//!
//! The snapshot (format `qmp-rs-snapshot/1`, see `qmp_schema::snapshot`)
//! keeps every expression and the doc facts the checker needs (documented
//! member and feature names, `Since:`), but no documentation prose, so it
//! can be committed and embedded where QEMU's text may not.
//!
//! With `--manual`, the schema (the nearest release available as source) is
//! first extended with a later release's reference manual (see
//! `qmp_schema::extend`), and with `--reply` reconciled with and checked
//! against that release's `query-qmp-schema` reply. What changed, and what
//! the manual cannot say, is printed to standard error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use qmp_schema::{Level, ParseOptions, snapshot};

/// Arguments of `qmp schema extract`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmp schema extract qemu/qapi/qapi-schema.json -o qemu-qmp.json\n  qmp schema check qemu-qmp.json   # snapshots load like source\n  qmp schema extract qemu-10.2/qapi/qapi-schema.json --level 11.1 --manual qemu-qmp-ref.7 \\\n      --reply qemu-11.1-reply.json -o qemu-11.1-qmp.json"
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
    /// Extend the schema with a later release's reference manual (man page
    /// source, e.g. `qemu-qmp-ref.7`, decompressed): definitions, members
    /// and enum values it adds, drops what it lacks (facts only).
    #[arg(long, value_name = "MANPAGE")]
    pub manual: Option<PathBuf>,
    /// The later release's saved `query-qmp-schema` reply: keeps the
    /// commands and events it has, supplies `allow-oob`, and the result is
    /// checked against it (differences are printed).
    #[arg(long, value_name = "REPLY", requires = "manual")]
    pub reply: Option<PathBuf>,
    /// The snapshot's `source` text (default: `QEMU <VERSION>` of the tree).
    #[arg(long, value_name = "TEXT")]
    pub source: Option<String>,
}

/// Runs `qmp schema extract`.
pub fn run(args: ExtractArgs) -> ExitCode {
    let opts = ParseOptions {
        level: args.level,
        ..ParseOptions::default()
    };
    let report_err = |e: &qmp_schema::Error| {
        if std::io::stderr().is_terminal() {
            eprintln!("{}", e.render_rich(true));
        } else {
            eprintln!("{e}");
        }
    };
    let text = match &args.manual {
        None => match snapshot::extract_parsed(&args.file, &opts) {
            Ok((parsed, mut meta)) => {
                if let Some(s) = &args.source {
                    meta.source = Some(s.clone());
                }
                snapshot::write_with(&parsed, &meta)
            }
            Err(e) => {
                report_err(&e);
                return ExitCode::FAILURE;
            }
        },
        Some(man) => {
            let manual = match read_manual(man) {
                Ok(t) => t,
                Err(msg) => {
                    eprintln!("{msg}");
                    return ExitCode::FAILURE;
                }
            };
            if qmp_schema::manual::parse(&manual).is_empty() {
                eprintln!(
                    "qmp: '{}' has no QAPI definitions (not a QEMU reference manual?)",
                    man.display()
                );
                return ExitCode::FAILURE;
            }
            let mut reply = None;
            if let Some(r) = &args.reply {
                match qmp_schema::load(r, &ParseOptions::default()) {
                    Ok(m) if m.origin == qmp_schema::model::Origin::Introspection => {
                        reply = Some(m);
                    }
                    Ok(_) => {
                        eprintln!(
                            "qmp: '{}' is not a saved query-qmp-schema reply",
                            r.display()
                        );
                        return ExitCode::FAILURE;
                    }
                    Err(e) => {
                        report_err(&e);
                        return ExitCode::FAILURE;
                    }
                }
            }
            let ext = match qmp_schema::extend::extract_extended(
                &args.file,
                &opts,
                &manual,
                reply.as_ref(),
                args.source.as_deref(),
            ) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("qmp: the extended schema does not check:");
                    report_err(&e);
                    return ExitCode::FAILURE;
                }
            };
            print_report(&ext.report);
            eprintln!("features from the reply: {}", ext.from_reply.len());
            for a in &ext.from_reply {
                eprintln!("  {a}");
            }
            if let Some(r) = &reply {
                let cmp = qmp_schema::compare_introspection(r, &ext.model);
                eprintln!(
                    "checked against the reply: {} type pairs, {} differences",
                    cmp.type_pairs,
                    cmp.mismatches.len()
                );
                for m in &cmp.mismatches {
                    eprintln!("  {m}");
                }
            }
            ext.text
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

fn read_manual(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("qmp: cannot read '{}': {e}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(format!(
            "qmp: '{}' is compressed; decompress it first (zcat)",
            path.display()
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("qmp: '{}' is not UTF-8 text", path.display()))
}

fn print_report(r: &qmp_schema::extend::Report) {
    let line = |what: &str, v: &[String]| {
        eprintln!("{what}: {}", v.len());
        for x in v {
            eprintln!("  {x}");
        }
    };
    line("new commands", &r.commands);
    line("new events", &r.events);
    line("new types", &r.types);
    line("new members and branches", &r.members);
    line("new enum values", &r.values);
    line("removed definitions", &r.removed);
    line("removed members and values", &r.removed_members);
    line("optionality changed", &r.optionality);
    line("member types changed", &r.type_changed);
    line("new integer members (width unknown, int)", &r.int_unknown);
    line("base or named arguments changed", &r.base_changed);
    line("features added", &r.features);
    line("features not placed", &r.features_unplaced);
    line("new conditional definitions", &r.conditional);
    line("conditions changed", &r.cond_changed);
    line("conditions not reconciled", &r.cond_unknown);
    line("since changed", &r.since_changed);
    line("manual definitions skipped", &r.skipped);
}
