//! Feeds arbitrary bytes through the parser and, when they parse, the
//! checker: both must return a result or a diagnostic, never panic.
//!
//! Shared by the `check_schema` fuzz target and the regression test
//! `qmp-schema/tests/fuzz_regressions.rs` (which replays every input kept
//! under `fuzz/regressions/check_schema/`).

use qmp_schema::{CheckOptions, Level, ParseOptions, check, parse_str};

/// Runs one fuzz input; panics on a defect.
pub fn check_input(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // Keep `include` inside the (empty) working directory.
    if text.contains('/') {
        return;
    }
    // Every known release (each has its own rules), and one newer.
    let levels = Level::RELEASES;
    let level = levels
        .get(usize::from(sel) % (levels.len() + 1))
        .copied()
        .unwrap_or(Level::new(99, 0));
    if let Ok(parsed) = parse_str("fuzz-input.json", text, &ParseOptions::with_level(level)) {
        match check(parsed, &CheckOptions { level: Some(level) }) {
            Ok(model) => {
                let _ = model.entities.len();
            }
            Err(e) => {
                let _ = e.render_rich(false);
            }
        }
    }
}
