// Shared by the benchmark example binaries (included with `include!`):
// argument parsing and the measurement record.

#[allow(dead_code)]
struct Opts {
    mode: String,
    n: usize,
    sock: String,
}

#[allow(dead_code)]
fn opts() -> Opts {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 4 {
        eprintln!("usage: {} seq|pipe64 N SOCKET", a[0]);
        std::process::exit(2);
    }
    Opts {
        mode: a[1].clone(),
        n: a[2].parse().expect("N"),
        sock: a[3].clone(),
    }
}

/// CPU time (user + sys) of this process so far, in seconds.
fn cpu_secs() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// Peak resident set size in KiB (VmHWM).
fn maxrss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

#[allow(dead_code)]
fn report(client: &str, mode: &str, n: usize, start: std::time::Instant, cpu0: f64) {
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    println!(
        "{{\"client\": \"{client}\", \"mode\": \"{mode}\", \"calls\": {n}, \"secs\": {secs:.6}, \"cpu_secs\": {cpu:.6}, \"maxrss_kb\": {}}}",
        maxrss_kb()
    );
}
