//! The committed `query-qmp-schema` replies of the wire corpus
//! (`qmp-types/tests/corpus/*.schema.json`, captured from real QEMU 10.0.2
//! by `tools/capture-corpus.py`) read cleanly with the introspection reader.

use std::path::PathBuf;

use qmp_schema::model::{Entity, JsonType, Origin};

fn corpus(name: &str) -> (String, String) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../qmp-types/tests/corpus",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path.display().to_string(), text)
}

fn load(name: &str) -> qmp_schema::Model {
    let (path, text) = corpus(name);
    assert!(qmp_schema::looks_like_introspection(&text));
    match qmp_schema::from_introspection_json(&path, &text) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn qemu_system_q35_schema() {
    let m = load("qemu-system-q35.schema.json");
    assert_eq!(m.origin, Origin::Introspection);
    let commands: Vec<_> = m.commands().map(|c| c.common.name.as_str()).collect();
    for want in [
        "qmp_capabilities",
        "query-status",
        "blockdev-add",
        "device_add",
        "quit",
    ] {
        assert!(commands.contains(&want), "missing command {want}");
    }
    assert!(commands.len() > 200, "{} commands", commands.len());
    let events: Vec<_> = m.events().map(|e| e.common.name.as_str()).collect();
    for want in [
        "STOP",
        "RESUME",
        "RESET",
        "SHUTDOWN",
        "DEVICE_DELETED",
        "JOB_STATUS_CHANGE",
    ] {
        assert!(events.contains(&want), "missing event {want}");
    }
    // query-status returns an object with a 'status' member of enum type.
    let qs = m
        .commands()
        .find(|c| c.common.name == "query-status")
        .unwrap();
    assert_eq!(qs.arg_type, None);
    let ret = m.object(qs.ret_type.as_deref().unwrap()).unwrap();
    let status = ret.members.iter().find(|x| x.name == "status").unwrap();
    let en = m.enum_type(&status.ty).unwrap();
    assert!(en.members.iter().any(|v| v.name == "running"));
    // Integer types collapse to 'int'.
    let Some(Entity::Builtin(b)) = m.get("int") else {
        panic!("no builtin int")
    };
    assert_eq!(b.json_type, JsonType::Int);
    // blockdev-add takes a union (BlockdevOptions), boxed: its arg-type is
    // an object with a 'driver' tag.
    let ba = m
        .commands()
        .find(|c| c.common.name == "blockdev-add")
        .unwrap();
    let arg = m.object(ba.arg_type.as_deref().unwrap()).unwrap();
    assert_eq!(arg.variants.as_ref().unwrap().tag, "driver");
}

#[test]
fn storage_daemon_schema() {
    let m = load("storage-daemon.schema.json");
    let commands: Vec<_> = m.commands().map(|c| c.common.name.as_str()).collect();
    for want in [
        "block-export-add",
        "query-block-exports",
        "nbd-server-start",
        "quit",
    ] {
        assert!(commands.contains(&want), "missing command {want}");
    }
    assert!(!commands.contains(&"device_add"));
}

#[test]
fn load_detects_replies_by_content() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../qmp-types/tests/corpus/storage-daemon.schema.json",
    ]
    .iter()
    .collect();
    let m = qmp_schema::load(&path, &qmp_schema::ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.origin, Origin::Introspection);
    assert!(m.commands().count() > 50);

    // A broken reply is reported with file, line and column.
    let dir = std::env::temp_dir().join(format!("qmp-corpus-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        "{\"return\": [\n  {\"name\": \"x\", \"meta-type\": \"command\", \"arg-type\": \"7\", \"ret-type\": \"7\"}\n]}\n",
    )
    .expect("write");
    let e = qmp_schema::load(&bad, &qmp_schema::ParseOptions::default())
        .expect_err("unknown type must be rejected");
    let _ = std::fs::remove_dir_all(&dir);
    let text = e.to_string();
    assert!(
        text.ends_with("bad.json:2:53: 'arg-type' of 'x' uses unknown type '7'"),
        "{text}"
    );
}

/// The committed replies agree with the QAPI source they were built from
/// (the same check as `introspection_qemu.rs`, without needing QEMU).
#[test]
fn committed_replies_agree_with_source() {
    let shared: PathBuf = [env!("CARGO_MANIFEST_DIR"), "../../shared/qemu/10.0.2"]
        .iter()
        .collect();
    for (reply, source) in [
        ("qemu-system-q35.schema.json", "qapi/qapi-schema.json"),
        (
            "storage-daemon.schema.json",
            "storage-daemon/qapi/qapi-schema.json",
        ),
    ] {
        let r = load(reply);
        let s = qmp_schema::load(&shared.join(source), &qmp_schema::ParseOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let c = qmp_schema::compare_introspection(&r, &s);
        let list: Vec<String> = c.mismatches.iter().map(ToString::to_string).collect();
        assert!(list.is_empty(), "{reply}:\n{}", list.join("\n"));
        assert!(c.masked_names.len() > 300, "{reply}: too little compared");
    }
}
