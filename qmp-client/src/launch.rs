//! Starting QEMU and connecting to it: the retry loop every user writes.
//!
//! [`Launcher`] starts a QEMU binary (any path, or a wrapper command such
//! as a script or `taskset -c 1 qemu-system-x86_64`, plus your arguments)
//! with a QMP socket in a fresh private directory, waits until the socket
//! accepts connections (with a timeout, noticing when QEMU exits early and
//! reporting what it wrote to stderr), and connects. The returned
//! [`QemuProcess`] kills QEMU on drop (its whole process group, so wrapper
//! scripts do not leave QEMU behind), reaps it (no zombie) and removes the
//! directory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), qmp_client::launch::LaunchError> {
//! use qmp_client::launch::Launcher;
//! let (qemu, qmp) = Launcher::new("qemu-system-x86_64")
//!     .args(["-machine", "none", "-nodefaults"])
//!     .launch()
//!     .await?;
//! let status = qmp.call_raw("query-status", None).await?;
//! println!("{status} (pid {})", qemu.pid());
//! # Ok(()) }
//! ```
//!
//! The blocking form, for `qemu-storage-daemon` (which gets
//! `--chardev socket,...` + `--monitor` instead of `-qmp`):
//!
//! ```no_run
//! # fn demo() -> Result<(), qmp_client::launch::LaunchError> {
//! use qmp_client::launch::Launcher;
//! let (_qsd, qmp) = Launcher::storage_daemon("qemu-storage-daemon").launch_blocking()?;
//! qmp.call_raw("query-named-block-nodes", None)?;
//! # Ok(()) }
//! ```
//!
//! When the program is missing, [`LaunchError::NotFound`] says which
//! package provides it (e.g. `apt-get install qemu-system-x86`).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Builder;
use crate::error::Error;

/// How long [`Launcher`] waits for the QMP socket by default.
pub const DEFAULT_SOCKET_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest Unix socket path (`sun_path` minus the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// How much of QEMU's stderr an error carries (the end of it).
const STDERR_TAIL: u64 = 4096;

/// Why launching failed. Every variant is matchable; the `Display` text is
/// meant for users (it includes QEMU's stderr when QEMU said something).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The program does not exist (not on `PATH`, or a wrong path).
    #[error("cannot start `{program}`: not found. {hint}")]
    NotFound {
        /// The program as given.
        program: String,
        /// How to install it, e.g. `apt-get install qemu-system-x86`.
        hint: String,
    },
    /// The program exists but could not be started (permissions...).
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        /// The program as given.
        program: String,
        /// The OS error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The private directory for the socket could not be created, or its
    /// path is too long for a Unix socket.
    #[error("cannot prepare the QMP socket directory: {0}")]
    SocketDir(Arc<std::io::Error>),
    /// QEMU exited before its QMP socket accepted a connection (bad
    /// arguments, usually; `stderr` says why).
    #[error("`{program}` exited ({status}) before opening its QMP socket{}", stderr_suffix(.stderr))]
    Exited {
        /// The program as given.
        program: String,
        /// How it ended.
        status: ExitStatus,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// The socket did not accept a connection in time (QEMU was killed).
    #[error("`{program}` did not open its QMP socket within {timeout:?}{}", stderr_suffix(.stderr))]
    Timeout {
        /// The program as given.
        program: String,
        /// The timeout.
        timeout: Duration,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// The socket accepted the connection but the QMP handshake failed.
    #[error("cannot connect to the launched QEMU: {0}")]
    Connect(#[from] Error),
}

fn stderr_suffix(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

/// The install hint for a program, by its file name.
fn install_hint(program: &str) -> String {
    let name = Path::new(program)
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or(program);
    let pkg = match name {
        "qemu-system-x86_64" | "qemu-system-i386" => {
            Some(("qemu-system-x86", "qemu-system-x86-core"))
        }
        "qemu-system-aarch64" | "qemu-system-arm" => {
            Some(("qemu-system-arm", "qemu-system-aarch64-core"))
        }
        "qemu-storage-daemon" => Some(("qemu-utils", "qemu-img")),
        n if n.starts_with("qemu-system-") => Some(("qemu-system", "qemu-system-core")),
        _ => None,
    };
    match pkg {
        Some((deb, rpm)) => format!(
            "Install QEMU (Debian/Ubuntu: `apt-get install {deb}`; Fedora: `dnf install {rpm}`) or give the binary's full path."
        ),
        None => "Check the path, or install the program.".to_owned(),
    }
}

/// What kind of program is started: decides how the QMP socket is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// `qemu-system-*`: `-qmp unix:PATH,server=on,wait=off`.
    System,
    /// `qemu-storage-daemon`: `--chardev socket,...` + `--monitor`.
    StorageDaemon,
}

/// Starts QEMU with a private QMP socket. See the [module docs](self).
///
/// The socket argument is appended after your arguments, so a wrapper
/// command works: `Launcher::new("taskset").args(["-c", "1",
/// "qemu-system-x86_64", ...])`. For the system emulator, `-display none`
/// is added too unless [`headless(false)`](Self::headless) or your
/// arguments choose a display (`-display`, `-nographic`, `-vnc`...).
/// QEMU's stdin and stdout are null; its stderr goes to a file in the
/// private directory ([`QemuProcess::stderr`]).
#[derive(Debug, Clone)]
pub struct Launcher {
    program: OsString,
    args: Vec<OsString>,
    flavour: Flavour,
    headless: bool,
    socket_timeout: Duration,
    client: Builder,
}

impl Launcher {
    /// A QEMU system emulator (`qemu-system-x86_64`, a path to one, or a
    /// wrapper command).
    pub fn new(program: impl Into<OsString>) -> Self {
        Launcher {
            program: program.into(),
            args: Vec::new(),
            flavour: Flavour::System,
            headless: true,
            socket_timeout: DEFAULT_SOCKET_TIMEOUT,
            client: Builder::new(),
        }
    }

    /// A `qemu-storage-daemon` (or a wrapper of one).
    pub fn storage_daemon(program: impl Into<OsString>) -> Self {
        Launcher {
            flavour: Flavour::StorageDaemon,
            ..Launcher::new(program)
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Whether to add `-display none` (system emulator only; default on).
    pub fn headless(mut self, on: bool) -> Self {
        self.headless = on;
        self
    }

    /// How long to wait for the socket (default 20 s). QEMU is killed
    /// when it passes.
    pub fn socket_timeout(mut self, t: Duration) -> Self {
        self.socket_timeout = t;
        self
    }

    /// Connection options for [`launch`](Self::launch) /
    /// [`launch_blocking`](Self::launch_blocking).
    pub fn client(mut self, builder: Builder) -> Self {
        self.client = builder;
        self
    }

    fn program_str(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }

    /// The full argument list for a socket at `sock`.
    fn command_args(&self, sock: &Path) -> Vec<OsString> {
        let mut args = self.args.clone();
        // QEMU's option syntax doubles a comma inside a value.
        let path = sock.to_string_lossy().replace(',', ",,");
        match self.flavour {
            Flavour::System => {
                let chooses_display = self.args.iter().any(|a| {
                    matches!(
                        a.to_str(),
                        Some("-display" | "-nographic" | "-vnc" | "-spice" | "-curses")
                    )
                });
                if self.headless && !chooses_display {
                    args.extend(["-display".into(), "none".into()]);
                }
                args.push("-qmp".into());
                args.push(format!("unix:{path},server=on,wait=off").into());
            }
            Flavour::StorageDaemon => {
                args.push("--chardev".into());
                args.push(format!("socket,id=qmp-launcher,path={path},server=on,wait=off").into());
                args.push("--monitor".into());
                args.push("chardev=qmp-launcher".into());
            }
        }
        args
    }

    /// Starts the process; does not wait.
    fn start(&self) -> Result<QemuProcess, LaunchError> {
        let dir = PrivateDir::new().map_err(|e| LaunchError::SocketDir(Arc::new(e)))?;
        let socket = dir.path.join("qmp.sock");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(LaunchError::SocketDir(Arc::new(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} is longer than a Unix socket path may be; set TMPDIR to a shorter directory",
                    socket.display()
                ),
            ))));
        }
        let stderr_path = dir.path.join("stderr.log");
        let stderr = File::create(&stderr_path).map_err(|e| LaunchError::SocketDir(Arc::new(e)))?;
        let child = Command::new(&self.program)
            .args(self.command_args(&socket))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            // Its own process group: drop kills a wrapper and the QEMU it
            // started together.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                let program = self.program_str();
                if e.kind() == std::io::ErrorKind::NotFound {
                    LaunchError::NotFound {
                        hint: install_hint(&program),
                        program,
                    }
                } else {
                    LaunchError::Spawn {
                        program,
                        source: Arc::new(e),
                    }
                }
            })?;
        Ok(QemuProcess {
            child: Some(child),
            socket,
            stderr_path,
            program: self.program_str(),
            dir,
        })
    }

    /// One readiness check: the connected stream when the socket accepts
    /// connections; an error when QEMU exited or the deadline passed.
    /// (The socket file appears at bind(), before listen(): only a
    /// connection tells that QEMU is ready.)
    fn check(
        &self,
        p: &mut QemuProcess,
        deadline: Instant,
    ) -> Result<Option<UnixStream>, LaunchError> {
        if let Ok(s) = UnixStream::connect(&p.socket) {
            return Ok(Some(s));
        }
        if let Ok(Some(status)) = p.try_wait() {
            return Err(LaunchError::Exited {
                program: p.program.clone(),
                status,
                stderr: p.stderr(),
            });
        }
        if Instant::now() >= deadline {
            let _ = p.kill();
            return Err(LaunchError::Timeout {
                program: p.program.clone(),
                timeout: self.socket_timeout,
                stderr: p.stderr(),
            });
        }
        Ok(None)
    }

    /// Starts QEMU and waits (blocking) for the first connection its QMP
    /// socket accepts.
    fn start_connected(&self) -> Result<(QemuProcess, UnixStream), LaunchError> {
        let mut p = self.start()?;
        let deadline = Instant::now() + self.socket_timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            if let Some(s) = self.check(&mut p, deadline)? {
                return Ok((p, s));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Starts QEMU and waits (blocking) until its QMP socket accepts
    /// connections; does not connect. Use it to connect yourself, or to
    /// hand [`QemuProcess::socket`] to something else.
    pub fn spawn(&self) -> Result<QemuProcess, LaunchError> {
        // The probe connection is closed at once; QEMU then serves the
        // next client.
        Ok(self.start_connected()?.0)
    }

    /// Starts QEMU, waits for its socket and connects a
    /// [`blocking::Qmp`](crate::blocking::Qmp) on the connection that
    /// found QEMU ready (no second connection racing the first one's
    /// close).
    #[cfg(feature = "blocking")]
    pub fn launch_blocking(&self) -> Result<(QemuProcess, crate::blocking::Qmp), LaunchError> {
        let (p, s) = self.start_connected()?;
        let qmp = self
            .client
            .clone()
            .connect_unix_stream_at_blocking(s, &p.socket)?;
        Ok((p, qmp))
    }

    /// Starts QEMU and waits (without blocking the runtime) until its
    /// socket accepts connections; does not connect.
    #[cfg(feature = "tokio")]
    pub async fn spawn_async(&self) -> Result<QemuProcess, LaunchError> {
        Ok(self.start_connected_async().await?.0)
    }

    #[cfg(feature = "tokio")]
    async fn start_connected_async(&self) -> Result<(QemuProcess, UnixStream), LaunchError> {
        let mut p = self.start()?;
        let deadline = Instant::now() + self.socket_timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            if let Some(s) = self.check(&mut p, deadline)? {
                return Ok((p, s));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Starts QEMU, waits for its socket and connects a tokio
    /// [`Qmp`](crate::Qmp) on the connection that found QEMU ready.
    #[cfg(feature = "tokio")]
    pub async fn launch(&self) -> Result<(QemuProcess, crate::Qmp), LaunchError> {
        let (p, s) = self.start_connected_async().await?;
        let qmp = self
            .client
            .clone()
            .connect_unix_stream_at(s, &p.socket)
            .await?;
        Ok((p, qmp))
    }
}

/// A private directory (mode 0700) removed on drop.
#[derive(Debug)]
struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    fn new() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        let mut last = None;
        for _ in 0..16 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = base.join(format!(
                "qmp-{}-{}-{nanos:x}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(PrivateDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("cannot create a temp dir")))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A QEMU started by [`Launcher`]. Dropping it kills QEMU (SIGKILL to its
/// process group), reaps it and removes its private directory. For a clean
/// shutdown, send `quit` on the monitor first, then
/// [`wait_timeout`](Self::wait_timeout).
#[derive(Debug)]
pub struct QemuProcess {
    child: Option<Child>,
    socket: PathBuf,
    stderr_path: PathBuf,
    program: String,
    // Declared last: removed after the process is gone.
    dir: PrivateDir,
}

impl QemuProcess {
    /// The QMP socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The private directory (removed on drop): a place for other sockets
    /// or images the VM needs.
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// The process id (of the program started, i.e. of the wrapper if
    /// one was used).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The end (last 4 KiB) of what the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        let Ok(mut f) = File::open(&self.stderr_path) else {
            return String::new();
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let skip = len.saturating_sub(STDERR_TAIL);
        let mut buf = Vec::new();
        if std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(skip)).is_err()
            || f.read_to_end(&mut buf).is_err()
        {
            return String::new();
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The exit status if the process has exited (reaps it).
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        match &mut self.child {
            Some(c) => c.try_wait(),
            None => Ok(None),
        }
    }

    /// Waits up to `t` for the process to exit by itself (after `quit`).
    pub fn wait_timeout(&mut self, t: Duration) -> std::io::Result<Option<ExitStatus>> {
        let end = Instant::now() + t;
        loop {
            if let Some(st) = self.try_wait()? {
                return Ok(Some(st));
            }
            if Instant::now() >= end {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills the process group and reaps the process.
    pub fn kill(&mut self) -> std::io::Result<ExitStatus> {
        let Some(child) = &mut self.child else {
            return Err(std::io::Error::other("already killed"));
        };
        if let Some(st) = child.try_wait()? {
            // Exited already; a wrapper's children may linger: kill them.
            kill_group(child);
            return Ok(st);
        }
        kill_group(child);
        let _ = child.kill();
        child.wait()
    }
}

fn kill_group(child: &Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

impl Drop for QemuProcess {
    fn drop(&mut self) {
        let _ = self.kill();
        self.child = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_hints_name_the_package() {
        assert!(install_hint("qemu-system-x86_64").contains("apt-get install qemu-system-x86`"));
        assert!(install_hint("/opt/q/bin/qemu-system-aarch64").contains("qemu-system-arm"));
        assert!(install_hint("qemu-storage-daemon").contains("apt-get install qemu-utils"));
        assert!(install_hint("my-wrapper").contains("Check the path"));
    }

    #[test]
    fn socket_arguments_per_flavour() {
        let sock = Path::new("/tmp/a,b/qmp.sock");
        let args = Launcher::new("q").arg("-S").command_args(sock);
        assert_eq!(
            args,
            [
                "-S",
                "-display",
                "none",
                "-qmp",
                "unix:/tmp/a,,b/qmp.sock,server=on,wait=off"
            ]
            .map(OsString::from)
        );
        let args = Launcher::new("q").arg("-nographic").command_args(sock);
        assert!(!args.iter().any(|a| a == "none"), "{args:?}");
        let args = Launcher::new("q").headless(false).command_args(sock);
        assert_eq!(args.len(), 2);
        let args = Launcher::storage_daemon("qsd").command_args(sock);
        assert_eq!(
            args,
            [
                "--chardev",
                "socket,id=qmp-launcher,path=/tmp/a,,b/qmp.sock,server=on,wait=off",
                "--monitor",
                "chardev=qmp-launcher"
            ]
            .map(OsString::from)
        );
    }

    #[test]
    fn missing_program_says_how_to_install() {
        let e = Launcher::new("/nonexistent/qemu-system-x86_64")
            .spawn()
            .unwrap_err();
        assert!(matches!(e, LaunchError::NotFound { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("apt-get install qemu-system-x86"), "{msg}");
    }

    #[test]
    fn early_exit_reports_stderr() {
        // A "QEMU" that complains and exits.
        let e = Launcher::new("sh")
            .args(["-c", "echo 'bad option -foo' >&2; exit 3", "sh"])
            .spawn()
            .unwrap_err();
        match &e {
            LaunchError::Exited { status, stderr, .. } => {
                assert_eq!(status.code(), Some(3));
                assert!(stderr.contains("bad option -foo"), "{stderr}");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("bad option -foo"));
    }

    #[test]
    fn timeout_kills_the_process_group_and_removes_the_dir() {
        // A wrapper that never opens the socket and has a child of its own.
        let start = Instant::now();
        let e = Launcher::new("sh")
            .args(["-c", "sleep 30 & echo \"started $!\" >&2; wait", "sh"])
            .socket_timeout(Duration::from_millis(300))
            .spawn()
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        let LaunchError::Timeout { stderr, .. } = &e else {
            panic!("{e:?}");
        };
        let pid: u32 = stderr
            .trim()
            .strip_prefix("started ")
            .unwrap()
            .parse()
            .unwrap();
        // The grandchild got SIGKILL too (gone, or a zombie until its new
        // parent reaps it).
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => break,
                Ok(st) if st.split_whitespace().nth(2) == Some("Z") => break,
                Ok(st) => assert!(Instant::now() < end, "still running: {st}"),
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
