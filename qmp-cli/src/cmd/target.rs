//! Where `qmp call` / `qmp events` connect: a socket address, or a
//! throwaway QEMU started with `--launch` (killed on exit).

use std::path::PathBuf;
use std::time::Duration;

use qmp_client::Error;
use qmp_client::launch::{Launcher, QemuProcess};

/// A socket address: `unix:PATH`, `tcp:HOST:PORT`, or a plain path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP `host:port`.
    Tcp(String),
}

impl Address {
    /// Parses a socket argument.
    pub fn parse(s: &str) -> Address {
        if let Some(p) = s.strip_prefix("unix:") {
            Address::Unix(p.into())
        } else if let Some(a) = s.strip_prefix("tcp:") {
            Address::Tcp(a.to_owned())
        } else {
            Address::Unix(s.into())
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "{}", p.display()),
            Address::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// A QEMU started for one command; killed and reaped on drop (by
/// [`QemuProcess`]).
pub struct Launched {
    _qemu: QemuProcess,
    /// Its QMP socket.
    pub sock: PathBuf,
}

/// Starts `qemu-system-x86_64 -machine none -nodefaults -display none` with
/// a QMP socket in a fresh temp dir, plus `extra` arguments (which may
/// override the machine), and waits until it accepts connections.
pub fn launch(extra: &[String], timeout: Duration) -> Result<Launched, String> {
    let qemu = std::env::var("QMP_QEMU").unwrap_or_else(|_| "qemu-system-x86_64".to_owned());
    let mut args: Vec<String> = Vec::new();
    if !extra.iter().any(|a| a == "-machine" || a == "-M") {
        args.extend(["-machine".into(), "none".into()]);
    }
    args.push("-nodefaults".into());
    args.extend(extra.iter().cloned());
    let qemu = Launcher::new(qemu)
        .args(args)
        .socket_timeout(timeout)
        .spawn()
        .map_err(|e| e.to_string())?;
    Ok(Launched {
        sock: qemu.socket().to_owned(),
        _qemu: qemu,
    })
}

/// Explains a failed connection in one line, with a hint where the error
/// alone does not say what is wrong: a directory or regular file given as
/// the socket, a guest agent's socket used as a QMP monitor (or the
/// reverse), a monitor already serving another client.
pub fn explain_connect_error(
    addr: &Address,
    e: &Error,
    timeout: Option<Duration>,
    guest_agent: bool,
) -> String {
    let secs = timeout.map_or_else(String::new, |t| format!(" within {} s", t.as_secs_f64()));
    match e {
        Error::Io { source, .. } => {
            if let Address::Unix(p) = addr
                && let Ok(meta) = std::fs::metadata(p)
            {
                use std::os::unix::fs::FileTypeExt;
                let ft = meta.file_type();
                if ft.is_dir() {
                    return format!("{} is a directory, not a socket", p.display());
                }
                if !ft.is_socket() {
                    return format!("{} is not a socket ({source})", p.display());
                }
            }
            source.to_string()
        }
        Error::Timeout(_) if guest_agent => format!(
            "timed out: no answer to guest-sync{secs}: is this a QMP monitor rather than a guest agent \
             (then drop --guest-agent)? Is qemu-ga running in the guest?"
        ),
        Error::Timeout(qmp_client::TimeoutKind::Handshake) => format!(
            "timed out: no greeting{secs}: is this a guest-agent socket (then use --guest-agent)? \
             Or the monitor may be busy with another client (a QMP monitor serves one \
             client at a time)"
        ),
        other => other.to_string(),
    }
}

/// One line describing an error, for stderr.
pub fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(Address::parse("/tmp/x"), Address::Unix("/tmp/x".into()));
        assert_eq!(
            Address::parse("unix:/tmp/x"),
            Address::Unix("/tmp/x".into())
        );
        assert_eq!(
            Address::parse("tcp:localhost:4444"),
            Address::Tcp("localhost:4444".into())
        );
    }
}
