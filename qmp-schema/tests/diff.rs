//! `qmp_schema::diff` on QEMU 5.1.0 → 10.0.2, against facts checked by
//! hand in the two schema sources.

use std::path::PathBuf;
use std::sync::OnceLock;

use qmp_schema::diff::{Change, DefChange, Detail, SchemaDiff, diff};
use qmp_schema::{Model, ParseOptions};

fn shared() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/qemu"))
}

fn load(version: &str) -> Option<Model> {
    let path = shared().join(version).join("qapi/qapi-schema.json");
    if !path.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            path.display()
        );
        eprintln!("SKIP: {} not found", path.display());
        return None;
    }
    Some(
        qmp_schema::load(&path, &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{version}: {e}")),
    )
}

fn the_diff() -> Option<&'static SchemaDiff> {
    static D: OnceLock<Option<SchemaDiff>> = OnceLock::new();
    D.get_or_init(|| Some(diff(&load("5.1.0")?, &load("10.0.2")?)))
        .as_ref()
}

fn find<'a>(list: &'a [DefChange], name: &str) -> Option<&'a DefChange> {
    list.iter().find(|d| d.name == name)
}

fn details<'a>(list: &'a [DefChange], name: &str) -> &'a [Detail] {
    match find(list, name).map(|d| &d.change) {
        Some(Change::Changed { details }) => details,
        other => panic!("{name}: not changed: {other:?}"),
    }
}

#[test]
fn removed_commands() {
    let Some(d) = the_diff() else { return };
    for name in [
        "cpu-add",
        "migrate_set_downtime",
        "migrate_set_speed",
        "change",
        "query-cpus",
        "query-events",
        "migrate-set-cache-size",
        "query-migrate-cache-size",
    ] {
        let c = find(&d.commands, name).unwrap_or_else(|| panic!("{name} not in diff"));
        assert_eq!(c.change, Change::Removed, "{name}");
        assert_eq!(c.kind, "command");
    }
}

#[test]
fn added_commands() {
    let Some(d) = the_diff() else { return };
    let c = find(&d.commands, "query-stats").expect("query-stats");
    assert!(matches!(c.change, Change::Added { .. }));
    // Present in both releases.
    assert!(
        find(&d.commands, "query-status").is_none()
            || !matches!(
                find(&d.commands, "query-status").unwrap().change,
                Change::Added { .. } | Change::Removed
            )
    );
}

#[test]
fn changed_flags_and_features() {
    let Some(d) = the_diff() else { return };
    assert!(
        details(&d.commands, "block_set_io_throttle").contains(&Detail::FlagChanged {
            flag: "allow-preconfig",
            value: true
        })
    );
    let x = details(&d.commands, "x-debug-query-block-graph");
    assert!(
        x.contains(&Detail::FeatureAdded {
            member: None,
            feature: "unstable".into()
        }),
        "{x:?}"
    );
}

#[test]
fn deprecations_of_members_and_values() {
    let Some(d) = the_diff() else { return };
    // char.json: `*reconnect` of ChardevSocket gained `deprecated` and
    // `*reconnect-ms` was added next to it.
    let sock = details(&d.types, "ChardevSocket");
    assert!(sock.contains(&Detail::FeatureAdded {
        member: Some("reconnect".into()),
        feature: "deprecated".into()
    }));
    assert!(sock.contains(&Detail::MemberAdded {
        member: "reconnect-ms".into(),
        ty: "int".into(),
        optional: true
    }));
    // migration.json: the enum value `zero-blocks` became deprecated.
    assert!(
        details(&d.types, "MigrationCapability").contains(&Detail::FeatureAdded {
            member: Some("zero-blocks".into()),
            feature: "deprecated".into()
        })
    );
}

#[test]
fn removed_member() {
    let Some(d) = the_diff() else { return };
    assert!(
        details(&d.types, "StatusInfo").contains(&Detail::MemberRemoved {
            member: "singlestep".into()
        })
    );
}

#[test]
fn same_schema_no_diff_and_text_output() {
    let Some(m) = load("10.0.2") else { return };
    assert!(diff(&m, &m).is_empty());
    let Some(d) = the_diff() else { return };
    let text = d.to_string();
    assert!(text.contains("  - command cpu-add\n"), "{text}");
    assert!(text.contains("  + command query-stats"), "{text}");
    let json = serde_json::to_value(d).unwrap();
    assert!(
        json["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "cpu-add" && c["change"] == "removed")
    );
}

/// Source against the `query-qmp-schema` reply of the same QEMU built for
/// x86_64 (committed corpus): types compare by shape, and the only
/// differences are definitions conditional on other targets or hosts.
#[test]
fn source_against_introspection_of_the_same_release() {
    let Some(source) = load("10.0.2") else { return };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../qmp-types/tests/corpus/qemu-system-q35.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("corpus reply");
    let reply = qmp_schema::from_introspection_json("q35", &text).expect("reply reads");
    let d = diff(&source, &reply);
    assert!(d.types.is_empty(), "types are masked in a reply");
    let changed: Vec<&DefChange> = d
        .commands
        .iter()
        .chain(&d.events)
        .filter(|c| !matches!(c.change, Change::Removed))
        .collect();
    assert!(changed.is_empty(), "{changed:#?}");
    for name in ["dump-skeys", "query-gic-capabilities", "get-win32-socket"] {
        assert_eq!(
            find(&d.commands, name).map(|c| &c.change),
            Some(&Change::Removed),
            "{name}"
        );
    }
    assert!(find(&d.commands, "query-status").is_none());
}

/// The guest agent schema: a member whose type changed.
#[test]
fn guest_agent_member_type_change() {
    let qga = |v: &str| {
        let path = shared().join(v).join("qga/qapi-schema.json");
        if !path.exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing",
                path.display()
            );
            eprintln!("SKIP: {} not found", path.display());
            return None;
        }
        Some(qmp_schema::load(&path, &ParseOptions::default()).expect("qga schema loads"))
    };
    let (Some(old), Some(new)) = (qga("5.1.0"), qga("10.0.2")) else {
        return;
    };
    let d = diff(&old, &new);
    assert!(
        details(&d.commands, "guest-exec").contains(&Detail::TypeChanged {
            member: "capture-output".into(),
            old: "bool".into(),
            new: "GuestExecCaptureOutput".into()
        })
    );
    assert!(matches!(
        find(&d.commands, "guest-ssh-add-authorized-keys").map(|c| &c.change),
        Some(Change::Added { .. })
    ));
}
