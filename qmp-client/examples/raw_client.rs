//! The floor for the client benchmark: a minimal untyped QMP client (std
//! Unix socket, `BufReader::read_line`, `serde_json::Value`), no framing
//! robustness, no routing beyond counting. `raw_client seq|pipe64 N SOCK`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use serde_json::Value;

include!("common/bench.rs");

fn read_msg(r: &mut BufReader<UnixStream>, line: &mut String) -> Value {
    line.clear();
    r.read_line(line).expect("read");
    serde_json::from_str(line).expect("json")
}

/// Reads until a reply (skipping events).
fn read_reply(r: &mut BufReader<UnixStream>, line: &mut String) -> Value {
    loop {
        let v = read_msg(r, line);
        if v.get("return").is_some() || v.get("error").is_some() {
            return v;
        }
    }
}

fn main() {
    let o = opts();
    let s = UnixStream::connect(&o.sock).expect("connect");
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    let g = read_msg(&mut r, &mut line);
    assert!(g.get("QMP").is_some());
    w.write_all(b"{\"execute\":\"qmp_capabilities\"}").unwrap();
    read_reply(&mut r, &mut line);
    let start = Instant::now();
    let cpu0 = cpu_secs();
    let mut id = 0u64;
    let mut send = |w: &mut UnixStream| {
        id += 1;
        let msg = format!("{{\"execute\":\"query-status\",\"id\":{id}}}");
        w.write_all(msg.as_bytes()).unwrap();
    };
    match o.mode.as_str() {
        "seq" => {
            for _ in 0..o.n {
                send(&mut w);
                let v = read_reply(&mut r, &mut line);
                assert!(v["return"]["status"].is_string());
            }
        }
        _ => {
            let window = 64.min(o.n);
            for _ in 0..window {
                send(&mut w);
            }
            for i in 0..o.n {
                let v = read_reply(&mut r, &mut line);
                assert!(v["return"]["status"].is_string());
                if i + window < o.n {
                    send(&mut w);
                }
            }
        }
    }
    report("raw-serde_json", &o.mode, o.n, start, cpu0);
}
