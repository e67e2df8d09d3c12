//! `REMOVED_BY` / `CommandInfo::removed_by` / `EventInfo::removed_by` of the
//! default (spanned) bindings, checked against the embedded release
//! snapshots they were generated from: a command or event said to be gone
//! by release R is not in R's snapshot but is in an older one; one without
//! `removed_by` is in the newest.

use std::collections::BTreeSet;
use std::path::Path;

use qmp_types::{COMMANDS, EVENTS};
use serde_json::Value;

/// The embedded releases, oldest first (as `build.rs` spans them).
const RELEASES: [&str; 3] = ["5.2.0", "10.0.2", "11.1.3"];

/// The commands and events a release's facts snapshot defines.
fn definitions(release: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(format!("qemu-{release}-qmp.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let snapshot: Value = serde_json::from_str(&text).unwrap();
    let (mut commands, mut events) = (BTreeSet::new(), BTreeSet::new());
    for module in snapshot["modules"].as_array().unwrap() {
        for item in module["items"].as_array().unwrap() {
            if let Some(c) = item.get("command").and_then(Value::as_str) {
                commands.insert(c.to_owned());
            }
            if let Some(e) = item.get("event").and_then(Value::as_str) {
                events.insert(e.to_owned());
            }
        }
    }
    (commands, events)
}

fn check(kind: &str, name: &str, removed_by: Option<&str>, has: &dyn Fn(&str) -> bool) {
    match removed_by {
        None => assert!(
            has(RELEASES[RELEASES.len() - 1]),
            "{kind} {name}: no removed_by, but the newest release lacks it"
        ),
        Some(r) => {
            let at = RELEASES.iter().position(|x| *x == r).unwrap_or_else(|| {
                panic!("{kind} {name}: removed_by {r} is not an embedded release")
            });
            assert!(!has(r), "{kind} {name}: removed by {r}, but {r} has it");
            assert!(
                RELEASES[..at].iter().any(|older| has(older)),
                "{kind} {name}: removed by {r}, but no older release has it"
            );
            // Gone for good within the span: no later release has it.
            assert!(
                RELEASES[at..].iter().all(|later| !has(later)),
                "{kind} {name}: removed by {r}, but a later release has it"
            );
        }
    }
}

#[test]
fn removed_by_matches_the_release_snapshots() {
    let defs: Vec<_> = RELEASES.iter().map(|r| (*r, definitions(r))).collect();
    let lookup = |r: &str| &defs.iter().find(|(x, _)| *x == r).unwrap().1;
    let mut removed = Vec::new();
    for c in COMMANDS {
        check("command", c.name, c.removed_by, &|r| {
            lookup(r).0.contains(c.name)
        });
        removed.extend(c.removed_by.map(|_| c.name));
    }
    for e in EVENTS {
        check("event", e.name, e.removed_by, &|r| {
            lookup(r).1.contains(e.name)
        });
        removed.extend(e.removed_by.map(|_| e.name));
    }
    // Known removals, so the check above cannot pass vacuously.
    for name in ["query-cpus", "change", "query-events", "MEM_UNPLUG_ERROR"] {
        assert!(
            removed.contains(&name),
            "{name} not marked removed: {removed:?}"
        );
    }
    // The inherent consts say the same as the tables.
    #[allow(deprecated)]
    let consts = [
        (qmp_types::QueryCpus::REMOVED_BY, "query-cpus"),
        (qmp_types::QueryStatus::REMOVED_BY, "query-status"),
    ];
    for (value, name) in consts {
        let row = COMMANDS.iter().find(|c| c.name == name).unwrap();
        assert_eq!(value, row.removed_by, "{name}");
    }
}
