//! `qmp completions`: shell completion scripts for `qmp` itself.

use anyhow::Result;
use clap_complete::Shell;

const EXAMPLES: &str = "\
Examples:
  qmp completions bash > ~/.local/share/bash-completion/completions/qmp
  qmp completions zsh > ~/.zfunc/_qmp
  qmp completions fish > ~/.config/fish/completions/qmp.fish";

/// `qmp completions` options.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the completion script for `cmd` to standard output.
pub fn run(args: CompletionsArgs, mut cmd: clap::Command) -> Result<()> {
    let name = cmd.get_name().to_owned();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut buf);
    crate::term::write_stdout(&String::from_utf8_lossy(&buf))?;
    Ok(())
}
