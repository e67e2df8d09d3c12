//! Against `qemu-storage-daemon` and the guest agent `qemu-ga` (skipped
//! without them, failing under `CI`).

mod common;

use std::time::Duration;

use common::qemu;
use qmp_client::{Builder, Error};
use qmp_types::{Command, Empty};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Serialize)]
struct GuestPing;
impl Command for GuestPing {
    const NAME: &'static str = "guest-ping";
    type Returns = Empty;
}

#[derive(Serialize)]
struct GuestInfo;
#[derive(Debug, Deserialize)]
struct GuestAgentInfo {
    version: String,
    supported_commands: Vec<GuestCommand>,
}
#[derive(Debug, Deserialize)]
struct GuestCommand {
    name: String,
    enabled: bool,
}
impl Command for GuestInfo {
    const NAME: &'static str = "guest-info";
    type Returns = GuestAgentInfo;
}

#[derive(Serialize)]
struct GuestGetTime;
impl Command for GuestGetTime {
    const NAME: &'static str = "guest-get-time";
    type Returns = i64;
}

fn builder() -> Builder {
    Builder::new().command_timeout(Some(Duration::from_secs(20)))
}

#[tokio::test]
async fn storage_daemon_blockdev_roundtrip() {
    let Some(p) = qemu::storage_daemon() else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    assert_eq!(qmp.greeting().unwrap().version.qemu.major, 10);
    qmp.call_raw(
        "blockdev-add",
        Some(json!({"driver": "null-co", "node-name": "n0", "size": 4096})),
    )
    .await
    .unwrap();
    let nodes = qmp.call_raw("query-named-block-nodes", None).await.unwrap();
    assert!(
        nodes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["node-name"] == "n0"),
        "{nodes}"
    );
    // The storage daemon has no VM: machine commands do not exist there.
    let e = qmp.call_raw("query-status", None).await.unwrap_err();
    assert!(e.is_command_not_found(), "{e:?}");
    qmp.call_raw("blockdev-del", Some(json!({"node-name": "n0"})))
        .await
        .unwrap();
}

#[test]
fn storage_daemon_blocking() {
    let Some(p) = qemu::storage_daemon() else {
        return;
    };
    let qmp = builder().connect_unix_blocking(&p.sock).unwrap();
    let schema = qmp.call_raw("query-qmp-schema", None).unwrap();
    assert!(schema.as_array().unwrap().len() > 100);
}

#[tokio::test]
async fn guest_agent_typed_calls() {
    let Some(p) = qemu::guest_agent() else { return };
    let ga = builder().guest_agent().connect_unix(&p.sock).await.unwrap();
    assert!(ga.greeting().is_none());
    ga.call(GuestPing).await.unwrap();
    let info = ga.call(GuestInfo).await.unwrap();
    assert!(info.version.starts_with("10.0"), "{}", info.version);
    let ping = info
        .supported_commands
        .iter()
        .find(|c| c.name == "guest-ping")
        .unwrap();
    assert!(ping.enabled);
    let t = ga.call(GuestGetTime).await.unwrap();
    assert!(t > 1_600_000_000_000_000_000, "{t}");
    // Not in --allow-rpcs: a typed QMP error, connection intact.
    let e = ga.call_raw("guest-get-osinfo", None).await.unwrap_err();
    assert!(matches!(e, Error::Qmp(_)), "{e:?}");
    ga.call(GuestPing).await.unwrap();
    // Resync on demand.
    ga.guest_sync().await.unwrap();
    ga.call(GuestPing).await.unwrap();
}

#[test]
fn guest_agent_blocking_and_reconnect() {
    let Some(p) = qemu::guest_agent() else { return };
    {
        let ga = builder()
            .guest_agent()
            .connect_unix_blocking(&p.sock)
            .unwrap();
        ga.call(GuestPing).unwrap();
        // Leave a request unanswered-from-our-side: send and drop.
        ga.close();
    }
    // A new client resyncs past whatever the previous one left behind.
    let ga = builder()
        .guest_agent()
        .connect_unix_blocking(&p.sock)
        .unwrap();
    ga.call(GuestPing).unwrap();
    assert!(ga.call(GuestGetTime).unwrap() > 0);
}
