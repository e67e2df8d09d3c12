//! The `qmp` command.
#![forbid(unsafe_code)]

mod cmd;

use clap::Parser;

/// QMP toolkit: shell, VM info, typed calls, events and QAPI schema tools.
#[derive(Debug, Parser)]
#[command(name = "qmp", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
