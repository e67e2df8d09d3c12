//! Feeds arbitrary bytes to the QAPI source parser at every language
//! level: it must return a parse tree or a diagnostic, never panic, and a
//! diagnostic must render.
//! The harness lives in `fuzz/harness/parse_schema.rs` so the regression test
//! replays kept inputs through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/parse_schema.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::check_input(data));
