//! Fleet scale: many monitors from one process (`bench/fleet.sh`).
//!
//! * `fleet serve ROUNDS`: a fake QEMU (`qmp_client::testing`) whose every
//!   connection answers `query-status` ROUNDS times, each reply followed by
//!   an `RTC_CHANGE` event; prints its socket path, serves until stdin
//!   closes. Runs in its own process so its memory is not counted.
//! * `fleet client SOCK N SECS`: connects N monitors (tokio, one
//!   current-thread runtime), measures RSS per idle connection, then has
//!   each send `query-status` once a second for SECS seconds and consume
//!   its events; prints one JSON line (CPU per command is user+sys time of
//!   the active phase divided by the commands).

use std::time::{Duration, Instant};

use qmp_client::Qmp;
use qmp_client::testing::{FakeQemu, Script};
use qmp_types::ClientExt as _;
use serde_json::json;

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    field("VmRSS:")
}

fn peak_rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User+sys CPU time of this process (`CLOCK_PROCESS_CPUTIME_ID`: exact,
/// not sampled in clock ticks; Python's `time.process_time()` reads the
/// same clock).
fn cpu_secs() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn raise_nofile() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut l = getrlimit(Resource::Nofile);
    l.current = l.maximum;
    let _ = setrlimit(Resource::Nofile, l);
}

fn serve(rounds: usize) {
    raise_nofile();
    let mut script = Script::new().version(10, 0, 2).stub(
        "query-status",
        json!({"status": "running", "running": true}),
    );
    for _ in 0..rounds {
        script = script
            .expect("query-status")
            .reply(json!({"status": "running", "running": true}))
            .event(
                "RTC_CHANGE",
                json!({"offset": 0, "qom-path": "/machine/unattached/device[0]"}),
            );
    }
    let fake = FakeQemu::start(script).expect("start the fake QEMU");
    println!("{}", fake.socket().display());
    // Serve until stdin closes.
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    drop(fake);
}

async fn connect(sock: &str) -> Qmp {
    let mut pause = Duration::from_millis(1);
    loop {
        match Qmp::connect_unix(sock).await {
            Ok(q) => return q,
            // The listen backlog is full: retry.
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
        }
    }
}

async fn client(sock: String, n: usize, secs: u64) {
    raise_nofile();
    let rss0 = rss_kb();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let q = connect(&sock).await;
        let events = q.events();
        clients.push((q, events));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kb();
    let per_idle = (rss_idle.saturating_sub(rss0)) as f64 * 1024.0 / n as f64;

    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (q, mut events)) in clients.into_iter().enumerate() {
        tasks.spawn(async move {
            // Spread the fleet over the second.
            let offset = Duration::from_micros(1_000_000 * i as u64 / n as u64);
            let start = tokio::time::Instant::now() + offset;
            let mut tick = tokio::time::interval_at(start, Duration::from_secs(1));
            let (mut cmds, mut evs) = (0u64, 0u64);
            for _ in 0..secs {
                tick.tick().await;
                let st = q.query_status().await.expect("query-status");
                assert!(st.running);
                cmds += 1;
                // Take what is buffered without waiting (like qemu.qmp's
                // `events.clear()`): a consumer that waits would register
                // its task to be woken by every later event.
                for _ in 0..events.buffered() {
                    if let Some(Ok(_)) = events.next().await {
                        evs += 1;
                    }
                }
            }
            (cmds, evs)
        });
    }
    let (mut cmds, mut evs) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (c, e) = r.expect("task");
        cmds += c;
        evs += e;
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    println!(
        "{}",
        json!({
            "client": "qmp-client-async",
            "monitors": n,
            "commands": cmds,
            "events": evs,
            "wall_secs": wall,
            "cpu_secs": cpu,
            "cpu_us_per_command": cpu * 1e6 / cmds as f64,
            "rss_baseline_kb": rss0,
            "rss_idle_kb": rss_idle,
            "bytes_per_idle_connection": per_idle,
            "peak_rss_kb": peak_rss_kb(),
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(args.get(1).and_then(|s| s.parse().ok()).unwrap_or(30)),
        Some("client") if args.len() == 4 => {
            let n = args[2].parse().expect("N");
            let secs = args[3].parse().expect("SECS");
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(client(args[1].clone(), n, secs));
        }
        _ => {
            eprintln!("usage: fleet serve ROUNDS | fleet client SOCK N SECS");
            std::process::exit(2);
        }
    }
}
