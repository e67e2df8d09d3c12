//! `qmp record`: a recording proxy between a QMP client and QEMU, writing
//! the session as a transcript that `qmp_client::testing` replays.

use std::path::PathBuf;
use std::process::ExitCode;

use qmp_client::testing::record_proxy;

use super::target::Address;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The proxy listens on --listen (default: OUTPUT with `.sock` appended), \
forwards one client session to QEMU's socket unchanged, and writes every message as a JSON \
line: {\"ms\": time, \"client\"|\"server\": message}. It exits when the session ends.\n\n\
Examples:\n  qmp record /tmp/qmp.sock -o session.jsonl\n  \
qmp record /tmp/qmp.sock -o session.jsonl --listen /tmp/rec.sock & qmp call /tmp/rec.sock query-status"
)]
pub struct RecordArgs {
    /// QEMU's QMP socket (a path, or `unix:PATH`).
    #[arg(value_name = "SOCKET")]
    socket: String,
    /// Where to write the transcript (JSON lines).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The socket the client connects to instead of QEMU's.
    #[arg(long, value_name = "PATH")]
    listen: Option<PathBuf>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("qmp record: {msg}");
    ExitCode::from(2)
}

/// Runs `qmp record`.
pub fn run(args: RecordArgs) -> ExitCode {
    let upstream = match Address::parse(&args.socket) {
        Address::Unix(p) => p,
        Address::Tcp(_) => return fail("only Unix sockets can be recorded"),
    };
    let listen = args.listen.clone().unwrap_or_else(|| {
        let mut s = args.output.clone().into_os_string();
        s.push(".sock");
        PathBuf::from(s)
    });
    // Check QEMU's socket first, so a typo fails before anyone connects.
    if let Err(e) = std::os::unix::net::UnixStream::connect(&upstream) {
        return fail(format!("cannot connect to {}: {e}", upstream.display()));
    }
    let out = match std::fs::File::create(&args.output) {
        Ok(f) => std::io::BufWriter::new(f),
        Err(e) => return fail(format!("cannot create {}: {e}", args.output.display())),
    };
    let listener = match std::os::unix::net::UnixListener::bind(&listen) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", listen.display())),
    };
    eprintln!(
        "qmp record: connect your client to {} (recording to {})",
        listen.display(),
        args.output.display()
    );
    let r = record_proxy(&listener, &upstream, out);
    drop(listener);
    let _ = std::fs::remove_file(&listen);
    match r {
        Ok(()) => {
            eprintln!("qmp record: session recorded to {}", args.output.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("qmp record: {e}");
            ExitCode::FAILURE
        }
    }
}
