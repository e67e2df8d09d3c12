//! Feeds arbitrary bytes to the QAPI source parser at every language
//! level: it must return a parse tree or a diagnostic, never panic, and a
//! diagnostic must render.
//!
//! Shared by the `parse_schema` fuzz target and the regression test
//! `qmp-schema/tests/fuzz_regressions.rs` (which replays every input kept
//! under `fuzz/regressions/parse_schema/`).

use qmp_schema::{Level, ParseOptions, parse_str};

/// Runs one fuzz input; panics on a defect.
pub fn check_input(data: &[u8]) {
    // The parser reads UTF-8 text (files that are not UTF-8 are rejected
    // before parsing); split the input's first byte off as the level.
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // Keep `include` inside the working directory (run the fuzzer in an
    // empty one): no absolute paths, no `..`, so no device files or FIFOs.
    if text.contains('/') {
        return;
    }
    // Every known release (each has its own rules), and one newer.
    let levels = Level::RELEASES;
    let level = levels
        .get(usize::from(sel) % (levels.len() + 1))
        .copied()
        .unwrap_or(Level::new(99, 0));
    // A name without a directory: includes resolve against the current
    // directory.
    match parse_str("fuzz-input.json", text, &ParseOptions::with_level(level)) {
        Ok(parsed) => {
            let _ = parsed.items.len();
        }
        Err(e) => {
            let _ = e.render_rich(true);
            let _ = e.to_string();
        }
    }
}
