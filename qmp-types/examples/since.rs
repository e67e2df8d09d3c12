//! Lists the commands and events of the bindings that a QEMU older than a
//! given release lacks, from the schema facts the bindings carry:
//! `cargo run -p qmp-types --example since -- 9.0`.
//!
//! A program does the same to decide what it may call: compare a type's
//! `SINCE` (or the `COMMANDS`/`EVENTS` tables) with what `query-version`
//! reports, or better, with the server's `query-qmp-schema`.

use qmp_types::{COMMANDS, EVENTS, QueryStatus, StatusInfo};

/// `MAJOR.MINOR` of a `since` value such as `2.9` or `7.2.0`.
fn release(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.trim().parse().ok())?;
    Some((major, minor))
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "9.0".to_owned());
    let Some(floor) = release(&arg) else {
        eprintln!("usage: since MAJOR.MINOR (e.g. 9.0)");
        std::process::exit(2);
    };
    let newer = |since: Option<&str>| since.and_then(release).is_some_and(|r| r > floor);
    println!("not in QEMU {arg}:");
    for c in COMMANDS.iter().filter(|c| newer(c.since)) {
        println!("  command {:40} since {}", c.name, c.since.unwrap_or("?"));
    }
    for e in EVENTS.iter().filter(|e| newer(e.since)) {
        println!("  event   {:40} since {}", e.name, e.since.unwrap_or("?"));
    }
    // The same facts on the types themselves.
    println!(
        "query-status: since {}; StatusInfo: since {}",
        QueryStatus::SINCE.unwrap_or("?"),
        StatusInfo::SINCE.unwrap_or("?")
    );
}
