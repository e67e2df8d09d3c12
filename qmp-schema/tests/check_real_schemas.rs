//! The real QEMU schemas under `../shared/qemu/*/` load and check clean at
//! their own language level (read from the tree's `VERSION` file), and the
//! resulting models have the expected shape.

use std::path::{Path, PathBuf};

use qmp_schema::model::{Entity, Model};
use qmp_schema::{ParseOptions, load};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu")
}

fn load_real(version: &str, rel: &str) -> Option<Model> {
    let path = shared().join(version).join(rel);
    if !path.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing in CI"
        );
        eprintln!("skipping: {} not found", path.display());
        return None;
    }
    match load(&path, &ParseOptions::default()) {
        Ok(m) => Some(m),
        Err(e) => panic!("{}:\n{}", path.display(), e.render_rich(false)),
    }
}

fn command_count(m: &Model) -> usize {
    m.commands().count()
}

#[test]
fn qemu_10_0_2_schemas_check_clean() {
    let Some(m) = load_real("10.0.2", "qapi/qapi-schema.json") else {
        return;
    };
    assert!(command_count(&m) > 200, "{} commands", command_count(&m));
    assert!(m.events().count() > 50);
    // Implicit argument object of a command, named as QEMU names it.
    let Some(Entity::Command(c)) = m.get("blockdev-add") else {
        panic!("no blockdev-add");
    };
    assert_eq!(c.arg_type.as_deref(), Some("BlockdevOptions"));
    assert!(c.boxed);
    let qs = m
        .get("query-status")
        .and_then(Entity::common)
        .expect("query-status");
    assert_eq!(qs.since.as_deref(), Some("0.14"));
    let Some(Entity::Command(sm)) = m.get("set_link") else {
        panic!("no set_link");
    };
    assert_eq!(sm.arg_type.as_deref(), Some("q_obj_set_link-arg"));
    let arg = m.object("q_obj_set_link-arg").expect("arg object");
    assert_eq!(arg.members.len(), 2);
    assert!(arg.members.iter().all(|mb| mb.doc.is_some()));
    // Inherited members come first.
    let bi = m
        .object("BlockdevOptionsFile")
        .expect("BlockdevOptionsFile");
    assert_eq!(bi.members[0].name, "filename");
    let union = m.object("BlockdevOptions").expect("BlockdevOptions");
    assert_eq!(union.base.as_deref(), Some("q_obj_BlockdevOptions-base"));
    assert_eq!(union.members[0].defined_in, "q_obj_BlockdevOptions-base");
    assert!(!union.simple_union);
    assert_eq!(m.modules[0].name, "./builtin");
    assert_eq!(m.modules[1].name, "qapi-schema.json");
    assert!(m.modules.iter().any(|md| md.name == "block-core.json"));
    for rel in [
        "qga/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
    ] {
        let m = load_real("10.0.2", rel).expect("present when the main schema is");
        assert!(command_count(&m) > 20, "{rel}");
    }
}

#[test]
fn qemu_5_1_0_schemas_check_clean() {
    let Some(m) = load_real("5.1.0", "qapi/qapi-schema.json") else {
        return;
    };
    assert!(command_count(&m) > 150);
    // A legacy simple union, modelled as QEMU 5.1 did.
    let u = m
        .object("SocketAddressLegacy")
        .expect("SocketAddressLegacy");
    assert!(u.simple_union);
    assert_eq!(u.local_members[0].name, "type");
    assert_eq!(u.local_members[0].ty, "SocketAddressLegacyKind");
    let vs = u.variants.as_ref().expect("branches");
    assert_eq!(vs.tag, "type");
    let inet = vs.variants.iter().find(|v| v.name == "inet").expect("inet");
    assert_eq!(inet.ty, "q_obj_InetSocketAddress-wrapper");
    let w = m
        .object("q_obj_InetSocketAddress-wrapper")
        .expect("wrapper");
    assert_eq!(w.members.len(), 1);
    assert_eq!(w.members[0].name, "data");
    assert!(m.enum_type("SocketAddressLegacyKind").is_some());
    for rel in [
        "qga/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
    ] {
        let m = load_real("5.1.0", rel).expect("present when the main schema is");
        assert!(command_count(&m) > 10, "{rel}");
    }
}

/// Every schema of every shared release (qapi, qga, storage-daemon) loads
/// and checks clean at the level read from its tree's `VERSION` file, and
/// that level is the release itself.
#[test]
fn every_shared_release_checks_clean_at_its_own_level() {
    use qmp_schema::Level;
    for (version, level) in [
        ("5.1.0", Level::new(5, 1)),
        ("5.2.0", Level::new(5, 2)),
        ("10.0.2", Level::new(10, 0)),
        ("10.2.2", Level::new(10, 2)),
    ] {
        for rel in [
            "qapi/qapi-schema.json",
            "qga/qapi-schema.json",
            "storage-daemon/qapi/qapi-schema.json",
        ] {
            let path = shared().join(version).join(rel);
            if !path.exists() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "shared data missing in CI"
                );
                eprintln!("skipping: {} not found", path.display());
                continue;
            }
            assert_eq!(Level::detect(&path), Some(level), "{}", path.display());
            let m = load_real(version, rel).expect("loaded");
            assert!(m.commands().count() > 10, "{version} {rel}");
        }
    }
}
