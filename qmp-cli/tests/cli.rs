//! `qmp` end to end: bad input never panics, errors name the problem and
//! exit non-zero; help texts carry examples; completions; `info`.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn qmp() -> Command {
    Command::new(common::qmp_bin())
}

fn no_panic(out: &std::process::Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn missing_socket_is_a_one_line_error() {
    for sub in ["shell", "info"] {
        let out = qmp().args([sub, "/nonexistent/qmp.sock"]).output().unwrap();
        no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "{sub}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim(),
            "qmp: error: cannot connect to /nonexistent/qmp.sock: No such file or directory (os error 2)"
        );
    }
}

#[test]
fn refused_connection_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead.sock");
    // A socket file nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let out = qmp().arg("info").arg(&path).output().unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Connection refused"));
}

#[test]
fn not_a_qmp_server_is_an_error() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.sock");
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let t = std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.write_all(b"\x1b[2Jthis is not QMP\n");
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    let out = qmp().arg("info").arg(&path).output().unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("qmp: error: cannot connect to"), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
    t.join().unwrap();
}

#[test]
fn garbage_arguments_are_usage_errors() {
    for args in [
        &["shell"][..],
        &["shell", "--bogus"],
        &["info", "a", "b"],
        &["info", "--launch", "sock"],
        &["completions", "tcsh"],
        &["nonsense"],
        &["schema", "diff", "only-one"],
    ] {
        let out = qmp().args(args).output().unwrap();
        no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error:"), "{args:?}: {err}");
    }
}

/// The subcommand names listed by `qmp [PREFIX...] --help`.
fn subcommands(prefix: &[&str]) -> Vec<String> {
    let out = qmp().args(prefix).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|n| n != "help")
        .collect()
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let top = subcommands(&[]);
    for must in ["shell", "info", "completions", "schema"] {
        assert!(top.iter().any(|t| t == must), "{must} missing from {top:?}");
    }
    let mut all: Vec<Vec<String>> = Vec::new();
    for t in &top {
        let subs = subcommands(&[t]);
        if subs.is_empty() {
            all.push(vec![t.clone()]);
        }
        for s in subs {
            all.push(vec![t.clone(), s]);
        }
    }
    assert!(all.iter().any(|a| a == &["schema", "diff"]), "{all:?}");
    for sub in &all {
        let out = qmp().args(sub).arg("--help").output().unwrap();
        assert!(out.status.success(), "{sub:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example"), "{sub:?} has no example: {text}");
        assert!(!text.contains('\x1b'), "help is coloured when piped");
    }
}

#[test]
fn completion_scripts() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef qmp"),
        ("fish", "complete -c qmp"),
    ] {
        let out = qmp().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}");
        assert!(text.contains("shell") && text.contains("info"), "{shell}");
    }
}

#[test]
fn schema_diff_cli() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu");
    let old = shared.join("5.1.0/qapi/qapi-schema.json");
    let new = shared.join("10.0.2/qapi/qapi-schema.json");
    if !old.exists() {
        assert!(std::env::var_os("CI").is_none(), "shared data missing");
        eprintln!("SKIP: shared QEMU schemas not found");
        return;
    }
    let out = qmp()
        .args(["schema", "diff"])
        .arg(&new)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no differences\n");
    let out = qmp()
        .args(["schema", "diff", "--json"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let removed: Vec<&str> = v["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "removed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        removed.contains(&"cpu-add") && removed.contains(&"migrate_set_speed"),
        "{removed:?}"
    );
    let out = qmp()
        .args(["schema", "diff"])
        .arg(&old)
        .arg("/nonexistent.json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.json"));
}

#[test]
fn info_on_a_real_qemu() {
    let Some(q) = common::Qemu::start(&[
        "-machine",
        "pc",
        "-S",
        "-m",
        "128",
        "-name",
        "info-test",
        "-uuid",
        "7e2b6c1a-0f4e-4d53-9c59-1f7a4bde0c11",
        "-blockdev",
        "null-co,node-name=null0",
        "-chardev",
        "null,id=ch0",
    ]) else {
        return;
    };
    let out = qmp().arg("info").arg(&q.sock).output().unwrap();
    no_panic(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let sock = q.sock.display().to_string();
    let sock2 = q.sock2.display().to_string();
    insta::with_settings!({filters => vec![
        (sock.as_str(), "[SOCK]"),
        (sock2.as_str(), "[SOCK2]"),
        (r"thread \d+", "thread [TID]"),
        (r"KVM: .*", "KVM: [HOST-DEPENDENT]"),
        (r"\(Debian [^)]*\)", "([PACKAGE])"),
        (r"pc-i440fx-\d+\.\d+", "pc-i440fx-[X.Y]"),
    ]}, {
        insta::assert_snapshot!(text);
    });
    let out = qmp()
        .args(["info", "--json"])
        .arg(&q.sock)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json parses");
    assert_eq!(v["name"], "info-test");
    assert_eq!(v["status"]["status"], "prelaunch");
    assert_eq!(v["memory"]["base"], 128 * 1024 * 1024);
    assert_eq!(v["cpus"]["count"], 1);
    assert_eq!(v["version"]["version"], "10.0.2");
    assert!(v["unavailable"].is_object());
}

#[test]
fn info_launch() {
    if common::qemu_binary().is_none() {
        return;
    }
    let out = qmp().args(["info", "--json", "--launch"]).output().unwrap();
    no_panic(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["machine"], "none");
}

/// A scripted QMP server on a Unix socket: sends the greeting, then for
/// each request line writes what `reply` returns (given the request),
/// with the request's `id` filled in.
fn fake_server(
    path: &std::path::Path,
    reply: impl Fn(&Value) -> Vec<String> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    use std::io::Write;
    let l = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let Ok((s, _)) = l.accept() else { return };
        let mut w = s.try_clone().unwrap();
        let greeting = r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#;
        let _ = write!(w, "{greeting}\r\n");
        // Requests are JSON values, not necessarily newline-terminated.
        for req in serde_json::Deserializer::from_reader(s).into_iter::<Value>() {
            let Ok(req) = req else { return };
            let id = req.get("id").cloned().unwrap_or(Value::Null).to_string();
            for out in reply(&req) {
                if out == "\u{0}CLOSE" {
                    let _ = w.shutdown(std::net::Shutdown::Both);
                    return;
                }
                let _ = write!(w, "{}\r\n", out.replace("ID", &id));
            }
        }
    })
}

#[test]
fn shell_survives_a_bad_server_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.sock");
    let server = fake_server(&path, |req| match req["execute"].as_str() {
        Some("qmp_capabilities") => vec![r#"{"return": {}, "id": ID}"#.into()],
        Some("query-qmp-schema") => {
            vec![r#"{"error": {"class": "CommandNotFound", "desc": "no"}, "id": ID}"#.into()]
        }
        Some("query-status") => vec![
            "this is not json \u{1b}[31m".into(),
            r#"{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}"#.into(),
            r#"{"return": {"status": "paused\u001b]0;x", "running": false}, "id": ID}"#.into(),
        ],
        _ => vec![r#"{"return": {}, "id": ID}"#.into()],
    });
    let out = qmp()
        .arg("shell")
        .arg("--history")
        .arg(dir.path().join("h"))
        .arg(&path)
        .write_stdin("query-status\nquery-name\n")
        .output()
        .unwrap();
    no_panic(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("completion and checks are off"), "{stderr}");
    // Either the session goes on (reply printed) or it ends cleanly with a
    // one-line reason; never a panic.
    if out.status.success() {
        assert!(
            stdout.contains(r#""status":"paused\u001b]0;x""#),
            "{stdout}"
        );
    } else {
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout.contains("protocol error"), "{stdout}");
        assert!(
            stderr
                .trim_end()
                .ends_with("qmp: error: the connection to QEMU is gone"),
            "{stderr}"
        );
    }
    drop(server);
}

#[test]
fn shell_reads_piped_input_and_keeps_history_under_xdg_state_home() {
    let Some(q) = common::Qemu::start(&[]) else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let out = qmp()
        .arg("shell")
        .arg("-p")
        .arg(&q.sock)
        .env("XDG_STATE_HOME", state.path())
        .write_stdin("query-status\nquery-status bogus=1\n{\"execute\": \"query-name\"}\n")
        .output()
        .unwrap();
    no_panic(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("{\n  \"return\": {\n    \"status\": \"running\",\n    \"running\": true\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error: unknown argument 'bogus'"),
        "{stdout}"
    );
    let path = state.path().join("qmp/history");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "history is private");
    let history = std::fs::read_to_string(&path).unwrap();
    assert!(history.contains("query-status bogus=1"), "{history}");
    assert!(
        history.contains("{\"execute\": \"query-name\"}"),
        "{history}"
    );
}

#[test]
fn info_fails_in_one_line_when_the_connection_drops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.sock");
    let server = fake_server(&path, |req| {
        match req["execute"].as_str() {
        Some("qmp_capabilities") => vec![r#"{"return": {}, "id": ID}"#.into()],
        Some("query-version") => vec![
            r#"{"return": {"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": ""}, "id": ID}"#.into(),
        ],
        // Then the server goes away mid-reply.
        _ => vec![r#"{"return": {"na"#.into(), "\u{0}CLOSE".into()],
    }
    });
    let out = qmp().arg("info").arg(&path).output().unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("qmp: error: the connection to QEMU was lost:"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    drop(server);
}

#[test]
fn shell_launch_runs_a_throwaway_qemu() {
    if common::qemu_binary().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = qmp()
        .args(["shell", "--history"])
        .arg(dir.path().join("h"))
        .args(["--launch", "--", "-machine", "none", "-name", "launched"])
        .write_stdin("query-name\n")
        .output()
        .unwrap();
    no_panic(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"return\":{\"name\":\"launched\"}}\n"
    );
}

#[test]
fn call_prints_a_reply_that_does_not_decode_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.sock");
    // An older or newer QEMU's shape: `running` is not a boolean here.
    let reply = r#"{"running":"yes","status":"paused","new-member":[1,2.5]}"#;
    let server = fake_server(&path, move |req| match req["execute"].as_str() {
        Some("qmp_capabilities") => vec![r#"{"return": {}, "id": ID}"#.into()],
        _ => vec![format!(r#"{{"return": {reply}, "id": ID}}"#)],
    });
    let out = qmp()
        .args(["call", "--pretty"])
        .arg(&path)
        .arg("query-status")
        .output()
        .unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2));
    // Verbatim, whatever the output flags: nothing is lost.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), reply);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot decode the reply of `query-status` (printed as received)")
            && stderr.contains("running"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    server.join().unwrap();
}
