//! Code written against the default bindings, by their type names. It must
//! compile unchanged against bindings generated from a saved
//! `query-qmp-schema` reply (`QMP_SCHEMA=reply.json`), whose types are
//! masked: the build script recovers their names by structure against the
//! newest embedded snapshot. `.ci/reply-bindings` builds this test against
//! the saved replies of QEMU 5.2.0, 10.0.2 and 11.1.3.
//!
//! Each name below is one that use-based naming got wrong: `BlockdevOptions`
//! (was `BlockdevAddArguments`), `MirrorSyncMode` (was `DriveBackupSync`),
//! the alternate branches of `BlockdevRef` (were named after their types).
#![cfg(feature = "block")]

use qmp_types::{
    BlockdevAdd, BlockdevOptions, BlockdevOptionsDriver, BlockdevRef, DriveBackup, FromJson,
    MirrorSyncMode, RunState, SchemaInfo, StatusInfo,
};
use serde_json::json;

/// The member types of commands, by their real names.
fn sync_of(backup: &DriveBackup) -> &MirrorSyncMode {
    &backup.sync
}

#[test]
fn blockdev_options_by_name() {
    let o = BlockdevOptions::from_json(json!({
        "driver": "file", "node-name": "disk0", "filename": "/dev/null", "read-only": true
    }))
    .unwrap();
    assert_eq!(o.node_name.as_deref(), Some("disk0"));
    assert_eq!(o.read_only, Some(true));
    match &o.driver {
        BlockdevOptionsDriver::File(f) => assert_eq!(f.filename, "/dev/null"),
        other => panic!("not the file driver: {other:?}"),
    }
    let add = BlockdevAdd(o);
    assert_eq!(add.0.node_name.as_deref(), Some("disk0"));
}

#[test]
fn enums_and_alternates_by_name() {
    assert_eq!("full".parse::<MirrorSyncMode>(), Ok(MirrorSyncMode::Full));
    let b = DriveBackup::from_json(json!({"device": "d", "target": "t", "sync": "top"})).unwrap();
    assert_eq!(sync_of(&b), &MirrorSyncMode::Top);
    match BlockdevRef::from_json(json!("disk0")).unwrap() {
        BlockdevRef::Reference(r) => assert_eq!(r, "disk0"),
        BlockdevRef::Definition(d) => panic!("not a reference: {d:?}"),
    }
}

#[test]
fn replies_by_name() {
    // `singlestep` is required before QEMU 8.1 and ignored after.
    let s =
        StatusInfo::from_json(json!({"running": true, "singlestep": false, "status": "running"}))
            .unwrap();
    assert!(s.running);
    assert_eq!(s.status, RunState::Running);
    let i = SchemaInfo::from_json(
        json!({"name": "str", "meta-type": "builtin", "json-type": "string"}),
    )
    .unwrap();
    assert_eq!(i.name, "str");
}
