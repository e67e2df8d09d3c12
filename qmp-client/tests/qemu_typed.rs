//! The generated bindings over this client against real QEMU: extension
//! traits (async and blocking), every read-only query decoded typed,
//! typed events, typed OOB and fd passing, the guest agent's bindings.
//! Skipped without QEMU, failing under `CI`.

mod common;

use std::time::Duration;

use common::qemu;
use qmp_client::{Builder, Error};
use qmp_types::{ClientBlockingExt, ClientExt, Event, FromJson, Request};
use serde_json::{Value, json};

fn builder() -> Builder {
    Builder::new().command_timeout(Some(Duration::from_secs(20)))
}

/// The read-only commands of the live schema without required arguments.
fn read_only_commands(schema: &Value) -> Vec<String> {
    let entries = schema.as_array().expect("schema is an array");
    let objects: std::collections::BTreeMap<&str, &Value> = entries
        .iter()
        .filter(|e| e["meta-type"] == "object")
        .map(|e| (e["name"].as_str().unwrap(), e))
        .collect();
    entries
        .iter()
        .filter(|e| e["meta-type"] == "command")
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            if !(name.starts_with("query-") || name.starts_with("x-query-")) {
                return None;
            }
            let required = objects
                .get(e["arg-type"].as_str()?)
                .and_then(|a| a["members"].as_array())
                .is_some_and(|ms| ms.iter().any(|m| m.get("default").is_none()));
            (!required).then(|| name.to_owned())
        })
        .collect()
}

/// Environment facts, not client problems: the commands that fail on this
/// host/machine, with why.
fn expected_failure(machine: &str, name: &str) -> Option<&'static str> {
    let none = machine == "none";
    match name {
        "query-vm-generation-id" => Some("no vmgenid device configured"),
        "query-balloon" => Some("no balloon device (DeviceNotActive)"),
        "query-hv-balloon-status-report" => Some("no hv-balloon device"),
        "query-sev-launch-measure" | "query-sev-capabilities" | "query-sev" => {
            Some("no AMD SEV (needs KVM on an SEV host)")
        }
        "query-sev-attestation-report" => Some("no AMD SEV"),
        "query-sgx" | "query-sgx-capabilities" => Some("no SGX (host device / PC machine)"),
        "query-hotpluggable-cpus" if none => Some("machine `none` has no CPU hotplug"),
        "x-query-usb" if none => Some("machine `none` has no USB"),
        "x-query-virtio" if none => Some("machine `none` has no virtio device"),
        "query-acpi-ospm-status" if none => Some("machine `none` has no ACPI device"),
        _ => None,
    }
}

async fn all_queries_typed(machine: &str, extra: &[&str]) {
    let Some(p) = qemu::system(machine, extra) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    // The schema itself, typed.
    let schema = qmp.query_qmp_schema().await.unwrap();
    assert!(schema.len() > 1000);
    let raw = qmp.call_raw("query-qmp-schema", None).await.unwrap();
    let mut typed = 0;
    let mut unexplained = Vec::new();
    for name in read_only_commands(&raw) {
        let req = Request::from_json(json!({ "execute": name }))
            .unwrap_or_else(|e| panic!("{name}: bindings reject the request: {e}"));
        assert!(
            !matches!(req, Request::Unknown { .. }),
            "{name}: not in the bindings"
        );
        match qmp.request_raw(&name, None).send_reply().await {
            Ok(reply) => {
                if let Err(e) = req.decode_return(reply.to_value().unwrap()) {
                    unexplained.push(format!("{name}: typed decode failed: {e}"));
                }
                typed += 1;
            }
            Err(Error::Qmp(e)) if expected_failure(machine, &name).is_some() => {
                let _ = e;
            }
            Err(e) => unexplained.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{machine}: {typed} read-only commands decoded typed");
    assert!(typed > 55, "{typed}");
    assert!(unexplained.is_empty(), "{unexplained:#?}");
}

#[tokio::test]
async fn read_only_queries_typed_machine_none() {
    all_queries_typed("none", &["-S"]).await;
}

#[tokio::test]
async fn read_only_queries_typed_q35() {
    all_queries_typed("q35", qemu::Q35_ARGS).await;
}

#[tokio::test]
async fn extension_traits_typed_events_oob_and_fds() {
    let Some(p) = qemu::system_oob() else { return };
    let qmp = builder().oob(true).connect_unix(&p.sock).await.unwrap();
    let mut events = qmp.typed_events::<Event>();
    assert_eq!(
        qmp.query_status().await.unwrap().status.as_str(),
        "prelaunch"
    );
    qmp.cont().await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(ev.event, Event::Resume(_)), "{:?}", ev.event);
    qmp.stop().await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(ev.event, Event::Stop(_)), "{:?}", ev.event);
    qmp.system_reset().await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match ev.event {
        Event::Reset(r) => {
            assert!(!r.guest);
            assert_eq!(r.reason.as_str(), "host-qmp-system-reset");
        }
        other => panic!("{other:?}"),
    }
    // Typed out-of-band.
    let yanks = qmp
        .request(qmp_types::QueryYank)
        .oob()
        .send()
        .await
        .unwrap();
    assert!(yanks.iter().all(|y| !format!("{y:?}").is_empty()));
    // Typed fd passing.
    let f = std::fs::File::open("/dev/null").unwrap();
    qmp.request(qmp_types::Getfd::new("t"))
        .fds(vec![f.into()])
        .send()
        .await
        .unwrap();
    qmp.closefd(qmp_types::Closefd::new("t")).await.unwrap();
    let f = std::fs::File::open("/dev/null").unwrap();
    let info = qmp
        .request(qmp_types::AddFd::new().with_fdset_id(7).with_opaque("x"))
        .fds(vec![f.into()])
        .send()
        .await
        .unwrap();
    assert_eq!(info.fdset_id, 7);
    // A typed QMP error.
    let e = qmp
        .device_del(qmp_types::DeviceDel::new("nothing"))
        .await
        .unwrap_err();
    assert!(e.is_device_not_found(), "{e:?}");
}

#[test]
fn blocking_extension_traits() {
    let Some(p) = qemu::system("none", &["-S"]) else {
        return;
    };
    let qmp = builder().connect_unix_blocking(&p.sock).unwrap();
    assert_eq!(qmp.query_status().unwrap().status.as_str(), "prelaunch");
    let v = qmp.query_version().unwrap();
    assert_eq!(v.qemu.major, 10);
    let mut events = qmp.typed_events::<Event>();
    qmp.cont().unwrap();
    let ev = events
        .next_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(ev.event, Event::Resume(_)), "{:?}", ev.event);
}

#[tokio::test]
async fn guest_agent_typed() {
    use qmp_types::qga::ClientExt as _;
    let Some(p) = qemu::guest_agent() else { return };
    let ga = builder().guest_agent().connect_unix(&p.sock).await.unwrap();
    ga.guest_ping().await.unwrap();
    let info = ga.guest_info().await.unwrap();
    assert!(info.version.starts_with("10."), "{}", info.version);
    assert!(ga.guest_get_time().await.unwrap() > 0);
}

#[test]
fn guest_agent_typed_blocking() {
    use qmp_types::qga::ClientBlockingExt as _;
    let Some(p) = qemu::guest_agent() else { return };
    let ga = builder()
        .guest_agent()
        .connect_unix_blocking(&p.sock)
        .unwrap();
    ga.guest_ping().unwrap();
    assert!(ga.guest_get_time().unwrap() > 0);
}

#[tokio::test]
async fn storage_daemon_typed() {
    use qmp_types::storage_daemon::ClientExt as Qsd;
    let Some(p) = qemu::storage_daemon() else {
        return;
    };
    let qsd = builder().connect_unix(&p.sock).await.unwrap();
    let nodes = Qsd::query_named_block_nodes(&qsd, Default::default())
        .await
        .unwrap();
    assert!(nodes.is_empty());
    let v = Qsd::query_version(&qsd).await.unwrap();
    assert_eq!(v.qemu.major, 10);
}

async fn next_typed(
    ev: &mut qmp_client::EventStream<qmp_client::TypedEvent<Event>>,
    what: &str,
) -> Event {
    tokio::time::timeout(Duration::from_secs(20), ev.next())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("stream ended")
        .expect("event error")
        .event
}

#[tokio::test]
async fn lifecycle_hotplug_and_block_job_events_typed_in_order() {
    let Some(p) = qemu::system(
        "q35",
        &[
            "-accel",
            "tcg",
            "-S",
            "-m",
            "128",
            "-device",
            "qemu-xhci,id=xhci",
        ],
    ) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let mut ev = qmp.typed_events::<Event>();
    // Each reply, then its event (runs paused after `stop`: no guest code
    // delays anything on a loaded host).
    qmp.cont().await.unwrap();
    assert!(matches!(
        next_typed(&mut ev, "RESUME").await,
        Event::Resume(_)
    ));
    qmp.stop().await.unwrap();
    assert!(matches!(next_typed(&mut ev, "STOP").await, Event::Stop(_)));
    assert_eq!(qmp.query_status().await.unwrap().status.as_str(), "paused");
    qmp.system_reset().await.unwrap();
    match next_typed(&mut ev, "RESET").await {
        Event::Reset(r) => assert_eq!(r.reason.as_str(), "host-qmp-system-reset"),
        other => panic!("{other:?}"),
    }
    // Hot-plug and unplug a USB disk on a null-co node.
    qmp.call_raw(
        "blockdev-add",
        Some(json!({"driver": "null-co", "node-name": "n0", "size": 1048576})),
    )
    .await
    .unwrap();
    qmp.call_raw(
        "device_add",
        Some(json!({"driver": "usb-storage", "drive": "n0", "id": "stor0", "bus": "xhci.0"})),
    )
    .await
    .unwrap();
    qmp.device_del(qmp_types::DeviceDel::new("stor0"))
        .await
        .unwrap();
    loop {
        match next_typed(&mut ev, "DEVICE_DELETED").await {
            Event::DeviceDeleted(d) if d.device.as_deref() == Some("stor0") => break,
            Event::DeviceDeleted(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // A block job between two null nodes: its status changes in order,
    // then completion.
    qemu::start_null_backup(&qmp).await;
    let mut statuses = Vec::new();
    loop {
        match next_typed(&mut ev, "job events").await {
            Event::JobStatusChange(j) => {
                assert_eq!(j.id, "job0");
                statuses.push(j.status.as_str().to_owned());
            }
            Event::BlockJobCompleted(c) => {
                assert_eq!(c.device, "job0");
                assert_eq!(c.len, 8388608);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // created, running (possibly paused/resumed around drains), then
    // waiting and pending before the completion event.
    assert_eq!(&statuses[..2], ["created", "running"], "{statuses:?}");
    let waiting = statuses.iter().position(|s| s == "waiting");
    let pending = statuses.iter().position(|s| s == "pending");
    assert!(
        waiting.is_some() && pending.is_some() && waiting < pending,
        "{statuses:?}"
    );
    let jobs = qmp.query_jobs().await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.id != "job0" || j.status.as_str() == "concluded")
    );
    assert_eq!(qmp.stats().unknown_replies, 0);
}
