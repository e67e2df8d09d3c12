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
    /// Run one command and print its reply as JSON.
    Call(cmd::call::CallArgs),
    /// Print events as JSON lines.
    Events(cmd::events::EventsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema(args) => cmd::schema::run(args),
        Command::Call(args) => cmd::call::run(args),
        Command::Events(args) => cmd::events::run(args),
    }
}
