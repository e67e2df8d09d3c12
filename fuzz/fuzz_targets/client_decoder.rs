//! The client's sans-io decoder on arbitrary server bytes: never panics,
//! and the outcome does not depend on how the bytes are split into reads.
//! The harness lives in `fuzz/harness/client_decoder.rs` so the regression
//! test replays kept inputs through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/client_decoder.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::check_input(data));
