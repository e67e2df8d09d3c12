//! The client decoder fuzz harness, shared by the `client_decoder` fuzz
//! target and the regression test `qmp-client/tests/fuzz_regressions.rs`
//! (which replays every input kept under `fuzz/regressions/client_decoder/`).
//!
//! Input layout: the first byte selects limits and the protocol mode, the
//! next bytes a chunk plan, the rest is the stream (optionally preceded by
//! a valid greeting so the reply/event paths are reached quickly).

use qmp_client::Limits;
use qmp_client::proto::{Connection, ExecOptions, Mode, Output, ProtoConfig};

const GREETING: &[u8] = br#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}{"return": {}, "id": 1}"#;

fn run(cfg: ProtoConfig, greet: bool, stream: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut c = Connection::new(cfg);
    if greet {
        // Greeting + negotiation (id 1) done, so the body reaches replies.
        c.handle_input(GREETING);
    }
    // A few commands in flight so replies with ids 2..=5 route somewhere.
    for _ in 0..4 {
        let _ = c.execute(
            "x",
            &(),
            ExecOptions {
                expect_reply: true,
                ..Default::default()
            },
        );
    }
    let mut out = Vec::new();
    let mut prev = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        let cut = cut.clamp(prev, stream.len());
        c.handle_input(&stream[prev..cut]);
        prev = cut;
        while let Some(o) = c.poll_output() {
            out.push(describe(o));
        }
    }
    c.handle_eof();
    while let Some(o) = c.poll_output() {
        out.push(describe(o));
    }
    while c.poll_transmit().is_some() {}
    out
}

fn describe(o: Output) -> String {
    match o {
        Output::Reply { id, result: Ok(r) } => {
            // Exercise the untyped decode of the return slice too.
            let _ = r.decode::<serde_json::Value>("x");
            format!("reply {id} {}", r.json())
        }
        other => format!("{other:?}"),
    }
}

/// Runs one fuzz input: panics when chunking changes the outcome.
pub fn check_input(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let ncuts = (mode >> 4) as usize;
    if rest.len() < ncuts {
        return;
    }
    let (plan, body) = rest.split_at(ncuts);
    let cfg = ProtoConfig {
        mode: if mode & 1 == 0 {
            Mode::Qmp
        } else {
            Mode::GuestAgent
        },
        limits: Limits {
            max_message_bytes: if mode & 2 == 0 { 16 << 20 } else { 512 },
            max_depth: if mode & 4 == 0 { 128 } else { 8 },
        },
        oob: mode & 8 != 0,
    };
    let greet = mode & 1 == 0 && body.first().is_some_and(|b| b & 1 == 0);
    let mut cuts: Vec<usize> = plan
        .iter()
        .map(|&b| b as usize * body.len() / 256)
        .collect();
    cuts.sort_unstable();
    let whole = run(cfg, greet, body, &[]);
    let chunked = run(cfg, greet, body, &cuts);
    assert_eq!(whole, chunked, "chunking changed the outcome");
}
