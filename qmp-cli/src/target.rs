//! Which QEMU to talk to: a socket path, or a throwaway QEMU started with
//! `--launch` (killed when the command ends).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::monitor::Connection;

/// Connection options shared by `shell` and `info`.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The QMP Unix socket of a running QEMU (`-qmp unix:PATH,server=on,wait=off`).
    #[arg(value_name = "SOCKET", required_unless_present = "launch")]
    pub socket: Option<PathBuf>,
    /// Start a throwaway QEMU (`$QEMU`, default `qemu-system-x86_64`, with
    /// `-machine none` unless QEMU arguments are given) and talk to it.
    #[arg(long, conflicts_with = "socket")]
    pub launch: bool,
    /// Arguments for the launched QEMU, after `--`.
    #[arg(last = true, value_name = "QEMU-ARGS", requires = "launch")]
    pub qemu_args: Vec<String>,
}

/// A QEMU started by `--launch`; killed and reaped on drop.
pub struct Launched {
    child: Child,
    dir: PathBuf,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Target {
    /// Connects; the returned guard keeps a launched QEMU alive.
    pub fn connect(&self) -> Result<(Connection, Option<Launched>)> {
        if let Some(path) = &self.socket {
            let conn = crate::monitor::connect(path)
                .with_context(|| format!("cannot connect to {}", path.display()))?;
            return Ok((conn, None));
        }
        let qemu = std::env::var("QEMU").unwrap_or_else(|_| "qemu-system-x86_64".to_owned());
        let dir = std::env::temp_dir().join(format!("qmp-launch-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let sock = dir.join("qmp.sock");
        let mut cmd = Command::new(&qemu);
        cmd.args(["-nodefaults", "-display", "none", "-qmp"])
            .arg(format!("unix:{},server=on,wait=off", sock.display()));
        if self.qemu_args.is_empty() {
            cmd.args(["-machine", "none"]);
        }
        cmd.args(&self.qemu_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {qemu}"))?;
        let mut launched = Launched { child, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = launched.child.try_wait()? {
                bail!("{qemu} exited at start ({status})");
            }
            if sock.exists()
                && let Ok(conn) = crate::monitor::connect(&sock)
            {
                return Ok((conn, Some(launched)));
            }
            if Instant::now() > deadline {
                bail!("{qemu} did not open its QMP socket within 20 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
