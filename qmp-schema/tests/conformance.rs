//! Conformance with QEMU's own QAPI test suite (`tests/qapi-schema/`).
//!
//! For every `X.json` of the suite: the schema is accepted exactly when
//! `X.err` is empty; for rejected schemas our diagnostic names the same
//! `FILE:LINE` as QEMU's and its message says the same (compared after
//! normalising whitespace; deliberate wording differences are listed in
//! [`WORDING`]); for accepted schemas our test dump equals `X.out` byte for
//! byte. Cases we knowingly cannot match are listed with the reason; the
//! test fails on any unlisted mismatch and on any listed case that passes.
//!
//! QEMU's suite is read from `../shared` beside the workspace at run time
//! (or from `$QMP_SHARED`). Each release's suite is judged at that
//! release's level: 5.1.0, 5.2.0, 10.0.2 and 10.2.2.

use std::path::{Path, PathBuf};

use qmp_schema::{Level, ParseOptions, dump_qapi_test, dump_qapi_test_legacy};

fn shared() -> PathBuf {
    match std::env::var_os("QMP_SHARED") {
        Some(dir) => PathBuf::from(dir).join("qemu"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu"),
    }
}

/// Messages that deliberately differ from QEMU's: (case, reason). None do:
/// every message matches QEMU's after whitespace normalisation.
const WORDING: &[(&str, &str)] = &[];

/// QEMU 10.0.2 and 10.2.2 cases we cannot match: (case, reason).
const KNOWN_10: &[(&str, &str)] = &[(
    "event-args-if-unboxed",
    "QEMU's .err file is stale (the case is not in QEMU's test list): it names \
     `tests/qapi-schema/...` and an older wording; QEMU 10.0.2's code reports \
     \"conditional event arguments require 'boxed': true\" at line 1, as we do",
)];

/// QEMU 5.1.0 cases we cannot match: (case, reason). None: the 5.1 rules
/// and the 5.1 test output format (`dump_qapi_test_legacy`) match all.
const KNOWN_5_1: &[(&str, &str)] = &[];

struct Expected {
    file: String,
    line: u32,
    message: String,
}

/// The first `FILE:LINE[:COL]: message` line of a `.err` file.
fn first_error(err: &str) -> Option<Expected> {
    for l in err.lines() {
        if l.starts_with("In file included from ") {
            continue;
        }
        let mut parts = l.splitn(2, ": ");
        let loc = parts.next()?;
        let Some(msg) = parts.next() else { continue };
        let mut lp = loc.split(':');
        let file = lp.next()?;
        let Some(Ok(line)) = lp.next().map(str::parse::<u32>) else {
            continue;
        };
        return Some(Expected {
            file: file.to_owned(),
            line,
            message: msg.to_owned(),
        });
    }
    None
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run_case(dir: &Path, name: &str, level: Level, legacy_dump: bool) -> Result<(), String> {
    let json = dir.join(format!("{name}.json"));
    let err = std::fs::read_to_string(dir.join(format!("{name}.err"))).unwrap_or_default();
    let opts = ParseOptions {
        level: Some(level),
        ..ParseOptions::default()
    };
    let prefix = format!("{}/", dir.display());
    let result = qmp_schema::load(&json, &opts);
    match (result, err.trim().is_empty()) {
        (Ok(model), true) => {
            let out = std::fs::read_to_string(dir.join(format!("{name}.out"))).unwrap_or_default();
            let ours = if legacy_dump {
                dump_qapi_test_legacy(&model)
            } else {
                dump_qapi_test(&model)
            };
            if ours == out {
                Ok(())
            } else {
                let diff = ours
                    .lines()
                    .zip(out.lines())
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
                    .map(|(i, (a, b))| format!("line {}: ours {a:?} qemu {b:?}", i + 1))
                    .unwrap_or_else(|| {
                        format!(
                            "lengths differ: ours {} lines, qemu {}",
                            ours.lines().count(),
                            out.lines().count()
                        )
                    });
                Err(format!("dump differs: {diff}"))
            }
        }
        (Ok(_), false) => Err(format!(
            "accepted, QEMU rejects: {}",
            err.lines().last().unwrap_or("")
        )),
        (Err(e), true) => Err(format!("rejected, QEMU accepts: {}", e.diagnostic)),
        (Err(e), false) => {
            let Some(exp) = first_error(&err) else {
                return Err(format!("cannot read QEMU's error: {err}"));
            };
            let d = &e.diagnostic;
            let file = d.file.strip_prefix(&prefix).unwrap_or(&d.file);
            let ours_msg = d.message.lines().next().unwrap_or("").replace(&prefix, "");
            let ours_msg = ours_msg.as_str();
            if file != exp.file || d.line != exp.line {
                return Err(format!(
                    "location: ours {file}:{} qemu {}:{} (ours: {ours_msg}; qemu: {})",
                    d.line, exp.file, exp.line, exp.message
                ));
            }
            if norm(ours_msg) != norm(&exp.message) && !WORDING.iter().any(|(c, _)| *c == name) {
                return Err(format!("message: ours {ours_msg:?} qemu {:?}", exp.message));
            }
            Ok(())
        }
    }
}

fn run_suite(version: &str, level: Level, legacy_dump: bool, known: &[(&str, &str)]) {
    let dir = shared().join(version).join("tests/qapi-schema");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "QEMU test suite missing at {}",
            dir.display()
        );
        eprintln!("skipping: QEMU test suite missing at {}", dir.display());
        return;
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| {
            let p = e.ok()?.path();
            if p.extension()? != "json" {
                return None;
            }
            // Include-only files have no .out/.err of their own.
            if !p.with_extension("err").exists() && !p.with_extension("out").exists() {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut passed = 0;
    for name in &names {
        let res = run_case(&dir, name, level, legacy_dump);
        let listed = known.iter().any(|(c, _)| c == name);
        match (res, listed) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => {
                failures.push(format!("{name}: passes but is listed as a known failure"))
            }
            (Err(_), true) => {}
            (Err(e), false) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "QEMU {version} suite: {passed} of {} cases match, {} known failures",
        names.len(),
        known.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn qemu_10_0_2_suite() {
    run_suite("10.0.2", Level::new(10, 0), false, KNOWN_10);
}

#[test]
fn qemu_5_1_0_suite() {
    run_suite("5.1.0", Level::new(5, 1), true, KNOWN_5_1);
}

#[test]
fn qemu_5_2_0_suite() {
    run_suite("5.2.0", Level::new(5, 2), true, &[]);
}

#[test]
fn qemu_10_2_2_suite() {
    run_suite("10.2.2", Level::new(10, 2), false, KNOWN_10);
}
