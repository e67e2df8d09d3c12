//! `qmp schema`: check, dump and summarise QAPI schemas.
//!
//! Diagnostics go to stderr: with a source snippet when stderr is a
//! terminal, otherwise in QEMU's plain form (`FILE: In struct 'X':` context
//! lines, then `FILE:LINE:COL: message`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use qmp_schema::model::{Entity, Model};
use qmp_schema::{FLAT_UNIONS_ONLY, Level, ParseOptions};

/// Arguments of `qmp schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Write the facts-only snapshot of a schema (no documentation prose).
    Extract(super::extract::ExtractArgs),
    /// Check QAPI schema files by QEMU's rules; exit 1 on the first error
    /// of any file.
    #[command(
        after_help = "Example:\n  qmp schema check qemu/qapi/qapi-schema.json qemu/qga/qapi-schema.json\n  qmp schema check --qemu-version 5.1 old/qapi/qapi-schema.json"
    )]
    Check {
        /// Schema files (their includes are read too).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        level: LevelArg,
    },
    /// Print the checked schema.
    #[command(
        after_help = "Example:\n  qmp schema dump qemu/qapi/qapi-schema.json --format json | jq '.entities | length'\n  qmp schema dump tests/qapi-schema/qapi-schema-test.json --format qapi-test"
    )]
    Dump {
        /// Schema file.
        file: PathBuf,
        /// Output format: JSON, or the format of QEMU's QAPI test suite
        /// (`tests/qapi-schema/*.out`, in the flavour of the schema's level).
        #[arg(long, value_enum, default_value_t = DumpFormat::Json)]
        format: DumpFormat,
        #[command(flatten)]
        level: LevelArg,
    },
    /// Print the JSON Schema of a command's arguments and reply (all
    /// commands when none is named).
    JsonSchema(crate::cmd::r#gen::JsonSchemaArgs),
    /// Count the definitions of a schema.
    #[command(
        after_help = "Example:\n  qmp schema stats qemu/qapi/qapi-schema.json\n  qmp schema stats --json qemu/qga/qapi-schema.json"
    )]
    Stats {
        /// Schema file.
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        level: LevelArg,
    },
    /// Compare two schemas: commands, events and types added, removed or
    /// changed.
    Diff(super::diff::DiffArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LevelArg {
    /// Read the schema by this QEMU release's QAPI rules (e.g. 9.0 or 5.1);
    /// default: the QEMU tree's VERSION file, else the newest rules (10.2).
    #[arg(long = "qemu-version", visible_alias = "level", value_name = "X.Y")]
    level: Option<Level>,
}

impl LevelArg {
    /// The parse options; prints a note for a release newer than the
    /// newest known one, and refuses a level that is no known release.
    pub(crate) fn options(&self) -> Result<ParseOptions, ExitCode> {
        if let Some(level) = self.level {
            match level.validate() {
                Ok(Some(note)) => eprintln!("qmp: note: {note}"),
                Ok(None) => {}
                Err(e) => {
                    eprintln!("qmp: --qemu-version: {e}");
                    return Err(ExitCode::FAILURE);
                }
            }
        }
        Ok(ParseOptions {
            level: self.level,
            ..ParseOptions::default()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DumpFormat {
    Json,
    QapiTest,
}

/// Runs `qmp schema ...`.
pub fn run(args: SchemaArgs) -> ExitCode {
    match args.command {
        SchemaCommand::Diff(a) => super::diff::run(a),
        SchemaCommand::Extract(a) => super::extract::run(a),
        SchemaCommand::Check { files, level } => {
            let opts = match level.options() {
                Ok(o) => o,
                Err(code) => return code,
            };
            let mut ok = true;
            for f in &files {
                match load(f, &opts) {
                    // The process ends soon: leave freeing the model (a
                    // noticeable part of the run time for a big schema) to
                    // the operating system.
                    Some(model) => std::mem::forget(model),
                    None => ok = false,
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        SchemaCommand::Dump {
            file,
            format,
            level,
        } => {
            let opts = match level.options() {
                Ok(o) => o,
                Err(code) => return code,
            };
            let Some(model) = load(&file, &opts) else {
                return ExitCode::FAILURE;
            };
            let text = match format {
                DumpFormat::Json => {
                    let mut s = serde_json::to_string_pretty(&qmp_schema::dump_json(&model))
                        .unwrap_or_default();
                    s.push('\n');
                    s
                }
                DumpFormat::QapiTest => {
                    if opts.level_for(&file) < FLAT_UNIONS_ONLY {
                        qmp_schema::dump_qapi_test_legacy(&model)
                    } else {
                        qmp_schema::dump_qapi_test(&model)
                    }
                }
            };
            print_out(&text)
        }
        SchemaCommand::JsonSchema(args) => crate::cmd::r#gen::json_schema(args),
        SchemaCommand::Stats { file, json, level } => {
            let opts = match level.options() {
                Ok(o) => o,
                Err(code) => return code,
            };
            let Some(model) = load(&file, &opts) else {
                return ExitCode::FAILURE;
            };
            let stats = Stats::of(&model);
            let text = if json {
                let mut s = serde_json::to_string_pretty(&stats.to_json()).unwrap_or_default();
                s.push('\n');
                s
            } else {
                stats.table()
            };
            print_out(&text)
        }
    }
}

fn print_out(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qmp: cannot write output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads and checks a schema, printing the diagnostic on failure.
fn load(path: &Path, opts: &ParseOptions) -> Option<Model> {
    // A tree newer than the newest known release is read by the newest
    // rules: say so (an explicit level was noted when it was parsed).
    if opts.level.is_none()
        && let Some(level) = Level::detect(path)
        && let Ok(Some(note)) = level.validate()
    {
        eprintln!("qmp: note: {}: {note}", path.display());
    }
    match qmp_schema::load(path, opts) {
        Ok(m) => Some(m),
        Err(e) => {
            let stderr = std::io::stderr();
            let text = if stderr.is_terminal() {
                e.render_rich(std::env::var_os("NO_COLOR").is_none())
            } else {
                e.diagnostic.to_string()
            };
            let mut err = stderr.lock();
            let _ = writeln!(err, "{}", text.trim_end());
            None
        }
    }
}

/// Definition counts (explicit definitions only, not implicit types).
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    commands: usize,
    events: usize,
    structs: usize,
    unions: usize,
    alternates: usize,
    enums: usize,
    modules: usize,
}

impl Stats {
    fn of(model: &Model) -> Self {
        let mut s = Stats {
            modules: model
                .modules
                .iter()
                .filter(|m| m.name != "./builtin")
                .count(),
            ..Stats::default()
        };
        for e in &model.entities {
            // Built-in and implicit types (argument objects, arrays, union
            // bases, `q_empty`, `QType`) are not definitions of the schema.
            if matches!(e, Entity::Builtin(_)) || e.common().is_none_or(|c| c.implicit) {
                continue;
            }
            match e {
                Entity::Command(_) => s.commands += 1,
                Entity::Event(_) => s.events += 1,
                Entity::Object(o) if o.variants.is_some() => s.unions += 1,
                Entity::Object(_) => s.structs += 1,
                Entity::Alternate(_) => s.alternates += 1,
                Entity::Enum(_) => s.enums += 1,
                _ => {}
            }
        }
        s
    }

    fn rows(&self) -> [(&'static str, usize); 7] {
        [
            ("commands", self.commands),
            ("events", self.events),
            ("structs", self.structs),
            ("unions", self.unions),
            ("alternates", self.alternates),
            ("enums", self.enums),
            ("modules", self.modules),
        ]
    }

    fn table(&self) -> String {
        self.rows()
            .iter()
            .map(|(k, v)| format!("{k:<11}{v:>6}\n"))
            .collect()
    }

    fn to_json(&self) -> serde_json::Value {
        self.rows()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}
