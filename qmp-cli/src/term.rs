//! Terminal output: escaping server-controlled text and colour choice.

use std::io::IsTerminal;

/// Escapes control characters (C0 but newline and tab, DEL, C1) as
/// `\uXXXX`, so text from the server (guest-controlled names, HMP output)
/// cannot move the cursor, change colours or retitle the terminal. The
/// escape is also valid inside JSON strings, so JSON text stays JSON.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Writes `s` to standard output. A closed pipe (`qmp info | head`) is
/// not an error.
pub fn write_stdout(s: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The end of a command whose standard output failed: a closed pipe
/// (`qmp call ... | head -c 10`) ends it quietly with success, like the
/// output had been read; anything else is an error (status 2).
pub fn stdout_failed(e: std::io::Error) -> std::process::ExitCode {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!("qmp: error: cannot write to standard output: {e}");
        std::process::ExitCode::from(2)
    }
}

/// Marks panics raised by `print!`/`println!` on a closed standard output
/// (Rust ignores SIGPIPE, so such a write panics): they are not reported,
/// and [`run_guarded`] turns them into a quiet, successful end. Every
/// command of the binary runs under it, so no print site needs care.
pub fn install_broken_pipe_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe_panic(info.payload()) {
            default(info);
        }
    }));
}

fn is_broken_pipe_panic(payload: &(dyn std::any::Any + Send)) -> bool {
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    msg.starts_with("failed printing to stdout")
        && (msg.contains("Broken pipe") || msg.contains("os error 32"))
}

/// Runs `f`; a panic from writing to a closed standard output unwinds
/// (dropping guards such as a launched QEMU) and ends with success.
/// Other panics continue as panics.
pub fn run_guarded(f: impl FnOnce() -> std::process::ExitCode) -> std::process::ExitCode {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(p) if is_broken_pipe_panic(&*p) => std::process::ExitCode::SUCCESS,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// A note printed on stderr if a wait lasts longer than a moment, so a
/// slow or stuck peer never leaves the user staring at nothing; dropping
/// the guard before then prints nothing.
pub struct WaitNote {
    done: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl WaitNote {
    /// Prints `text` after `delay` unless dropped first.
    pub fn after(delay: std::time::Duration, text: String) -> WaitNote {
        let done = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let d = done.clone();
        std::thread::spawn(move || {
            let (lock, cv) = &*d;
            let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
            let (guard, _) = cv
                .wait_timeout_while(guard, delay, |done| !*done)
                .unwrap_or_else(|p| p.into_inner());
            if !*guard {
                eprintln!("{text}");
            }
        });
        WaitNote { done }
    }
}

impl Drop for WaitNote {
    fn drop(&mut self) {
        let (lock, cv) = &*self.done;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }
}

/// Whether to colour standard output: only on a terminal, and not when
/// `NO_COLOR` is set to anything non-empty.
pub fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Wraps `s` in an SGR colour sequence when `on`.
pub fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped() {
        assert_eq!(escape_controls("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            escape_controls("a\x1b]0;pwned\x07b"),
            "a\\u001b]0;pwned\\u0007b"
        );
        assert_eq!(escape_controls("\u{7f}\u{9b}31m"), "\\u007f\\u009b31m");
        // Still valid JSON when applied to JSON text.
        let json = serde_json::to_string(&serde_json::json!({"n": "x\u{9b}y\u{7f}"})).unwrap();
        let v: serde_json::Value = serde_json::from_str(&escape_controls(&json)).unwrap();
        assert_eq!(v["n"], "x\u{9b}y\u{7f}");
    }
}
