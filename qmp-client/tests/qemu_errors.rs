//! Typed QMP error classes from a real `qemu-system-x86_64` (skipped
//! without QEMU, failing under `CI`), on both transports.

mod common;

use std::time::Duration;

use common::qemu;
use qmp_client::{Builder, Error, ErrorClass};
use serde_json::json;

fn builder() -> Builder {
    Builder::new().command_timeout(Some(Duration::from_secs(20)))
}

/// `(command, arguments, expected class)`: each provokes one class from
/// QEMU 10 on a `-machine none` VM without devices.
fn cases() -> Vec<(&'static str, serde_json::Value, ErrorClass)> {
    vec![
        ("no-such-command", json!({}), ErrorClass::CommandNotFound),
        (
            "device_del",
            json!({"id": "no-such-device"}),
            ErrorClass::DeviceNotFound,
        ),
        (
            "qom-get",
            json!({"path": "/no/such/path", "property": "type"}),
            ErrorClass::DeviceNotFound,
        ),
        ("balloon", json!({"value": 1}), ErrorClass::DeviceNotActive),
        (
            "blockdev-del",
            json!({"node-name": "no-such-node"}),
            ErrorClass::GenericError,
        ),
    ]
}

fn check(name: &str, e: &Error, want: &ErrorClass) {
    let Error::Qmp(reply) = e else {
        panic!("{name}: expected a QMP error, got {e:?}");
    };
    assert_eq!(&reply.class, want, "{name}: {reply}");
    assert_eq!(e.class(), Some(want));
    assert!(!reply.desc.is_empty());
    assert!(reply.id.is_some(), "{name}: the reply's id is kept");
    assert!(!e.is_fatal(), "{name}: a QMP error concerns one call");
    match want {
        ErrorClass::CommandNotFound => assert!(e.is_command_not_found()),
        ErrorClass::DeviceNotFound => assert!(e.is_device_not_found()),
        ErrorClass::DeviceNotActive => assert!(e.is_device_not_active()),
        ErrorClass::GenericError => assert!(e.is_generic_error()),
        _ => {}
    }
    // Display names the class as QEMU spells it.
    assert!(e.to_string().contains(want.as_str()), "{e}");
}

#[tokio::test]
async fn error_classes_are_typed_tokio() {
    let Some(p) = qemu::system("none", &[]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    for (name, args, want) in cases() {
        let e = qmp.call_raw(name, Some(args)).await.unwrap_err();
        check(name, &e, &want);
    }
    // The connection is still usable.
    qmp.call_raw("query-status", None).await.unwrap();
}

#[test]
fn error_classes_are_typed_blocking() {
    let Some(p) = qemu::system("none", &[]) else {
        return;
    };
    let qmp = builder().connect_unix_blocking(&p.sock).unwrap();
    for (name, args, want) in cases() {
        let e = qmp.call_raw(name, Some(args)).unwrap_err();
        check(name, &e, &want);
    }
    qmp.call_raw("query-status", None).unwrap();
}
