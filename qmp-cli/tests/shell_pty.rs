//! `qmp shell` driven through a pseudo-terminal against a real QEMU.

mod common;

use std::path::Path;
use std::process::Command;

use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

const TIMEOUT_MS: u64 = 15_000;

fn shell(sock: &Path, history: &Path, extra: &[&str]) -> PtySession {
    let mut cmd = Command::new(common::qmp_bin());
    cmd.arg("shell")
        .args(extra)
        .arg("--history")
        .arg(history)
        .arg(sock)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let opts = Options {
        timeout_ms: Some(TIMEOUT_MS),
        strip_ansi_escape_codes: false,
    };
    let mut p = spawn_with_options(cmd, opts).expect("spawn qmp shell");
    let prompt = if extra.contains(&"-H") {
        "(HMP) "
    } else {
        "(QEMU) "
    };
    p.exp_string(prompt).expect("prompt");
    p
}

/// Types `s` without Enter.
fn send(p: &mut PtySession, s: &str) {
    p.send(s).unwrap();
    p.flush().unwrap();
}

fn quit(mut p: PtySession) {
    p.send_control('d').unwrap();
    p.exp_eof().expect("shell exits on Ctrl-D");
}

#[test]
fn runs_commands_and_completes_commands_arguments_and_values() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let hist = q.dir.path().join("history");
    let mut p = shell(&q.sock, &hist, &["-v"]);
    // A command name completes...
    send(&mut p, "query-versi\t");
    p.exp_string("query-version").unwrap();
    p.send_line("").unwrap();
    p.exp_string("{\"execute\":\"query-version\"}").unwrap();
    // The reply as QEMU sent it (its member order).
    p.exp_string("\"qemu\":{\"micro\":").unwrap();
    p.exp_string("\"major\":10}").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    // ...so do an argument name and an enum value.
    send(&mut p, "set-action shut\t");
    p.exp_string("shutdown=").unwrap();
    send(&mut p, "powe\t");
    p.exp_string("poweroff").unwrap();
    p.send_line("").unwrap();
    p.exp_string("{\"execute\":\"set-action\",\"arguments\":{\"shutdown\":\"poweroff\"}}")
        .unwrap();
    p.exp_string("{\"return\":{}}").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
}

#[test]
fn unknown_argument_is_refused_before_sending() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let hist = q.dir.path().join("history");
    let mut p = shell(&q.sock, &hist, &["-v"]);
    p.send_line("query-status bogus=1").unwrap();
    let (before, _) = p
        .exp_regex("error: unknown argument 'bogus'[^\n]*\n[^\n]*\\(not sent\\)")
        .unwrap();
    assert!(!before.contains("\"execute\""), "sent anyway: {before}");
    p.exp_string("(QEMU) ").unwrap();
    p.send_line("set-action shutdown=explode").unwrap();
    p.exp_string("argument 'shutdown': 'explode' is not one of: poweroff, pause")
        .unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
}

#[test]
fn history_survives_a_restart() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let hist = q.dir.path().join("state/qmp/history");
    let mut p = shell(&q.sock, &hist, &["-v"]);
    p.send_line("query-name").unwrap();
    p.exp_string("{\"return\":{}}").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
    let mut p = shell(&q.sock, &hist, &["-v"]);
    send(&mut p, "\x1b[A"); // Up: the last line of the previous session.
    p.exp_string("query-name").unwrap();
    p.send_line("").unwrap();
    p.exp_string("{\"execute\":\"query-name\"}").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
}

#[test]
fn events_show_up_while_typing() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let hist = q.dir.path().join("history");
    let mut p = shell(&q.sock, &hist, &["-v"]);
    p.send_line("stop").unwrap();
    p.exp_string("\"event\":\"STOP\"").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    // An event arriving while a line is half typed is printed, and the
    // line survives.
    send(&mut p, "query-na");
    p.exp_string("query-na").unwrap();
    let side = q.side_channel(&[r#"{"execute":"cont"}"#]);
    assert!(side.contains("\"return\""), "{side}");
    p.exp_string("\"event\":\"RESUME\"").unwrap();
    p.send_line("me").unwrap();
    p.exp_string("{\"execute\":\"query-name\"}").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
}

#[test]
fn hmp_mode() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let hist = q.dir.path().join("history");
    let mut p = shell(&q.sock, &hist, &["-H"]);
    p.send_line("info status").unwrap();
    p.exp_string("VM status: running").unwrap();
    p.exp_string("(HMP) ").unwrap();
    quit(p);
}

#[test]
fn transaction_of_two_actions() {
    let Some(q) = common::Qemu::start(&["-machine", "none", "-blockdev", "null-co,node-name=n0"])
    else {
        return;
    };
    let hist = q.dir.path().join("history");
    let mut p = shell(&q.sock, &hist, &[]);
    p.send_line("transaction(").unwrap();
    p.exp_string("TRANS> ").unwrap();
    p.send_line("block-dirty-bitmap-add node=n0 name=b0")
        .unwrap();
    p.exp_string("TRANS> ").unwrap();
    p.send_line("block-dirty-bitmap-add node=n0 name=b1 persistent=false")
        .unwrap();
    p.exp_string("TRANS> ").unwrap();
    p.send_line(")").unwrap();
    p.exp_string("{\"return\":{}}").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
    let side =
        q.side_channel(&[r#"{"execute":"query-named-block-nodes","arguments":{"flat":true}}"#]);
    assert!(
        side.contains("\"name\": \"b0\"") || side.contains("\"name\":\"b0\""),
        "{side}"
    );
    assert!(side.contains("\"b1\""), "{side}");
}

#[test]
fn a_pasted_block_of_lines_runs_line_by_line() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let hist = q.dir.path().join("history");
    let mut p = shell(&q.sock, &hist, &["-v"]);
    // A bracketed paste of two lines, then Enter.
    send(&mut p, "\x1b[200~query-name\nquery-status\x1b[201~\r");
    p.exp_string("{\"execute\":\"query-name\"}").unwrap();
    p.exp_string("{\"return\":{}}").unwrap();
    p.exp_string("{\"execute\":\"query-status\"}").unwrap();
    p.exp_string("\"status\":\"running\"").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    quit(p);
}

/// `qmp info` colours its labels on a terminal, unless `NO_COLOR` is set.
#[test]
fn info_colours_only_on_a_terminal_without_no_color() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    for (no_color, want_color) in [(None, true), (Some("1"), false)] {
        let mut cmd = Command::new(common::qmp_bin());
        cmd.arg("info")
            .arg(&q.sock)
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let opts = Options {
            timeout_ms: Some(TIMEOUT_MS),
            strip_ansi_escape_codes: false,
        };
        let mut p = spawn_with_options(cmd, opts).expect("spawn qmp info");
        let out = p.exp_eof().expect("qmp info ends");
        assert!(out.contains("Migration:"), "{out:?}");
        assert_eq!(out.contains("\x1b[1mQEMU:"), want_color, "{out:?}");
        assert_eq!(out.contains('\x1b'), want_color, "{out:?}");
    }
}
