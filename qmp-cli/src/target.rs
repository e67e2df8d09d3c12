//! Which QEMU `shell` and `info` talk to: a socket, or a throwaway QEMU
//! started with `--launch` (killed when the command ends). Launching and
//! addresses are shared with `call`/`events` ([`crate::cmd::target`]).

use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::client::{Client, Options};
use crate::cmd::target::{Address, Launched, launch};

/// How long a wait lasts before a note says what is being waited for.
pub const NOTE_DELAY: Duration = Duration::from_millis(500);

/// Connection options shared by `shell` and `info`.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The QMP socket of a running QEMU: a path (`unix:PATH` works too) or
    /// `tcp:HOST:PORT`.
    #[arg(value_name = "SOCKET", required_unless_present = "launch")]
    pub socket: Option<String>,
    /// Start a throwaway QEMU (`$QMP_QEMU`, default `qemu-system-x86_64`,
    /// with `-machine none` unless QEMU arguments choose a machine) and
    /// talk to it.
    #[arg(long, conflicts_with = "socket")]
    pub launch: bool,
    /// How long to wait, in seconds, for the connection, the greeting and
    /// negotiation, and for each reply (0: no limit). A monitor that does
    /// not answer a command in time is given up on.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Arguments for the launched QEMU, after `--`.
    #[arg(last = true, value_name = "QEMU-ARGS", requires = "launch")]
    pub qemu_args: Vec<String>,
}

impl Target {
    /// ` (up to N s; --timeout sets the limit)`, or nothing without limit.
    pub fn limit_text(&self) -> String {
        if self.timeout > 0.0 {
            format!(" (up to {} s; --timeout sets the limit)", self.timeout)
        } else {
            String::new()
        }
    }

    /// Connects; the returned guard keeps a launched QEMU alive.
    pub fn connect(&self) -> Result<(Client, Option<Launched>)> {
        let (addr, launched) = match &self.socket {
            Some(s) => (Address::parse(s), None),
            None => {
                let l = launch(&self.qemu_args, Duration::from_secs(20)).map_err(|e| anyhow!(e))?;
                (Address::Unix(l.sock.clone()), Some(l))
            }
        };
        let timeout = match Duration::try_from_secs_f64(self.timeout) {
            Ok(t) if t.is_zero() => None,
            Ok(t) => Some(t),
            Err(_) => anyhow::bail!("invalid --timeout {}", self.timeout),
        };
        // Out-of-band execution when the server offers it (raw
        // `{"exec-oob": ...}` lines in the shell).
        let opts = Options {
            timeout,
            guest_agent: false,
            oob: true,
        };
        let note = crate::term::WaitNote::after(
            NOTE_DELAY,
            format!(
                "still connecting to {addr}: waiting for the greeting and negotiation{}",
                self.limit_text()
            ),
        );
        let client = Client::connect(&addr, opts).map_err(|e| {
            let why = crate::cmd::target::explain_connect_error(&addr, &e, timeout, false);
            anyhow!("cannot connect to {addr}: {why}")
        })?;
        drop(note);
        Ok((client, launched))
    }
}
