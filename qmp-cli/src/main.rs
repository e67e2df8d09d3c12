//! The `qmp` command.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// QMP toolkit: shell, VM info, typed calls, events and QAPI schema tools.
#[derive(Debug, Parser)]
#[command(name = "qmp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// QAPI schema tools: check, dump, stats.
    Schema(cmd::schema::SchemaArgs),
    /// Generate Rust bindings from a QAPI schema or a saved query-qmp-schema reply.
    Gen(cmd::r#gen::GenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema(args) => cmd::schema::run(args),
        Command::Gen(args) => cmd::r#gen::run(args),
    }
}
