//! This client in the benchmark: the generated `query-status` binding,
//! async (tokio current-thread) or blocking. `bench_client async|blocking|blocking-threads
//! seq|pipe64 N SOCK`. Blocking `pipe64` keeps a 64-deep window from one
//! thread (`call_many`); `blocking-threads` runs 64 threads instead.

use std::time::Instant;

use qmp_types::QueryStatus;

include!("common/bench.rs");

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 5 {
        eprintln!("usage: bench_client async|blocking|blocking-threads seq|pipe64 N SOCKET");
        std::process::exit(2);
    }
    let (flavour, mode, n, sock) = (
        a[1].as_str(),
        a[2].as_str(),
        a[3].parse::<usize>().unwrap(),
        a[4].as_str(),
    );
    match flavour {
        "async" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let qmp = qmp_client::Qmp::connect_unix(sock).await.unwrap();
                let start = Instant::now();
                let cpu0 = cpu_secs();
                if mode == "seq" {
                    for _ in 0..n {
                        let s = qmp.call(QueryStatus).await.unwrap();
                        assert!(!s.status.as_str().is_empty());
                    }
                } else {
                    let mut set = tokio::task::JoinSet::new();
                    for w in 0..64 {
                        let q = qmp.clone();
                        let per = n / 64 + usize::from(w < n % 64);
                        set.spawn(async move {
                            for _ in 0..per {
                                q.call(QueryStatus).await.unwrap();
                            }
                        });
                    }
                    while set.join_next().await.is_some() {}
                }
                report("qmp-client-async", mode, n, start, cpu0);
            });
        }
        _ => {
            let qmp = qmp_client::blocking::Qmp::connect_unix(sock).unwrap();
            let start = Instant::now();
            let cpu0 = cpu_secs();
            if mode == "seq" {
                for _ in 0..n {
                    let s = qmp.call(QueryStatus).unwrap();
                    assert!(!s.status.as_str().is_empty());
                }
            } else if flavour == "blocking" {
                for r in qmp.call_many((0..n).map(|_| QueryStatus), 64) {
                    assert!(!r.unwrap().status.as_str().is_empty());
                }
            } else {
                std::thread::scope(|s| {
                    for w in 0..64 {
                        let q = &qmp;
                        let per = n / 64 + usize::from(w < n % 64);
                        s.spawn(move || {
                            for _ in 0..per {
                                q.call(QueryStatus).unwrap();
                            }
                        });
                    }
                });
            }
            let name = if flavour == "blocking" {
                "qmp-client-blocking"
            } else {
                "qmp-client-blocking-threads"
            };
            report(name, mode, n, start, cpu0);
        }
    }
}
