//! Every input the fuzzers found and that was kept under
//! `fuzz/regressions/<target>/` replays here, through the same harness the
//! fuzz target runs, so a fixed crash stays fixed without cargo-fuzz.

#[path = "../../fuzz/harness/client_decoder.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

#[test]
fn client_decoder_regressions_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/client_decoder");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/client_decoder") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| harness::check_input(&data));
        assert!(outcome.is_ok(), "{} fails again", path.display());
        n += 1;
    }
    assert!(n > 0, "no regression inputs under {}", dir.display());
}
