//! Feeds arbitrary bytes through the parser and, when they parse, the
//! checker: both must return a result or a diagnostic, never panic.
//! The harness lives in `fuzz/harness/check_schema.rs` so the regression test
//! replays kept inputs through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/check_schema.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::check_input(data));
