//! Times parse + check of a schema in-process, for `bench/schema-frontend.sh`.
//!
//! Usage: `time_frontend SCHEMA [RUNS]`; prints `min_ms median_ms cpu_ms`:
//! the minimum and median wall time of one run, and the mean CPU time of
//! one run (from Linux's `/proc/thread-self/schedstat`, `nan` elsewhere),
//! which is less disturbed by other load on the machine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: time_frontend SCHEMA [RUNS]");
        return ExitCode::FAILURE;
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(50);
    let opts = qmp_schema::ParseOptions::default();
    let cpu0 = cpu_ns();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        match qmp_schema::load(&path, &opts) {
            Ok(model) => drop(model),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu_ms = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e6 / times.len() as f64,
        _ => f64::NAN,
    };
    times.sort_by(f64::total_cmp);
    println!(
        "{:.3} {:.3} {:.3}",
        times[0],
        times[times.len() / 2],
        cpu_ms
    );
    ExitCode::SUCCESS
}

/// CPU time of this thread so far, in nanoseconds (Linux only).
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}
