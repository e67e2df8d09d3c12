//! The `qmp` command.
#![forbid(unsafe_code)]

mod client;
mod cmd;
mod json_text;
mod target;
mod term;
mod validate;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// QMP toolkit: shell, VM info, typed calls, events and QAPI schema tools.
#[derive(Debug, Parser)]
#[command(name = "qmp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// QAPI schema tools: check, dump, stats, diff.
    Schema(cmd::schema::SchemaArgs),
    /// Run one command and print its reply as JSON.
    Call(cmd::call::CallArgs),
    /// Print events as JSON lines.
    Events(cmd::events::EventsArgs),
    /// Interactive QMP shell with completion, history and events.
    Shell(cmd::shell::ShellArgs),
    /// What a VM is and does, at a glance (version, state, CPUs, memory, devices).
    Info(cmd::info::InfoArgs),
    /// Record a QMP session through a proxy socket, as a transcript for qmp_client::testing.
    Record(cmd::record::RecordArgs),
    /// Print a completion script for bash, zsh, fish, elvish or PowerShell.
    Completions(cmd::completions::CompletionsArgs),
    /// Generate Rust bindings from a QAPI schema or a saved query-qmp-schema reply.
    Gen(cmd::r#gen::GenArgs),
}

fn main() -> ExitCode {
    term::install_broken_pipe_hook();
    term::run_guarded(run)
}

fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Schema(args) => return cmd::schema::run(args),
        Command::Call(args) => return cmd::call::run(args),
        Command::Events(args) => return cmd::events::run(args),
        Command::Gen(args) => return cmd::r#gen::run(args),
        Command::Record(args) => return cmd::record::run(args),
        Command::Shell(a) => cmd::shell::run(a),
        Command::Info(a) => cmd::info::run(a),
        Command::Completions(a) => cmd::completions::run(a, Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qmp: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
