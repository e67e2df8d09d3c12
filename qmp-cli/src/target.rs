//! Which QEMU `shell` and `info` talk to: a socket, or a throwaway QEMU
//! started with `--launch` (killed when the command ends). Launching and
//! addresses are shared with `call`/`events` ([`crate::cmd::target`]).

use std::time::Duration;

use anyhow::{Result, anyhow};
use qmp_client::Builder;

use crate::cmd::target::{Address, Launched, launch};
use crate::monitor::{Connection, connection};

/// How long connecting, the greeting and negotiation may take. Commands
/// themselves have no timeout: the shell may run long ones.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// Arguments for the launched QEMU, after `--`.
    #[arg(last = true, value_name = "QEMU-ARGS", requires = "launch")]
    pub qemu_args: Vec<String>,
}

impl Target {
    /// Connects; the returned guard keeps a launched QEMU alive.
    pub fn connect(&self) -> Result<(Connection, Option<Launched>)> {
        let (addr, launched) = match &self.socket {
            Some(s) => (Address::parse(s), None),
            None => {
                let l = launch(&self.qemu_args, Duration::from_secs(20)).map_err(|e| anyhow!(e))?;
                (Address::Unix(l.sock.clone()), Some(l))
            }
        };
        // Out-of-band execution when the server offers it (raw
        // `{"exec-oob": ...}` lines in the shell).
        let b = Builder::new()
            .oob(true)
            .connect_timeout(Some(CONNECT_TIMEOUT))
            .handshake_timeout(Some(CONNECT_TIMEOUT));
        let shown = match &addr {
            Address::Unix(p) => p.display().to_string(),
            Address::Tcp(a) => a.clone(),
        };
        let qmp = match &addr {
            Address::Unix(p) => b.connect_unix_blocking(p),
            Address::Tcp(a) => b.connect_tcp_blocking(a.as_str()),
        }
        .map_err(|e| {
            let why = match e {
                qmp_client::Error::Io { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            anyhow!("cannot connect to {shown}: {why}")
        })?;
        Ok((connection(qmp), launched))
    }
}
