//! Every input the schema fuzzers found and that was kept under
//! `fuzz/regressions/<target>/` replays here, through the same harness the
//! fuzz target runs, so a fixed crash stays fixed without cargo-fuzz.

use std::path::Path;

#[path = "../../fuzz/harness/parse_schema.rs"]
mod parse_schema;

#[path = "../../fuzz/harness/check_schema.rs"]
mod check_schema;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} fails again", path.display());
        n += 1;
    }
    assert!(n > 0, "no regression inputs under {}", dir.display());
}

#[test]
fn parse_schema_regressions_replay() {
    replay("parse_schema", parse_schema::check_input);
}

#[test]
fn check_schema_regressions_replay() {
    replay("check_schema", check_schema::check_input);
}
