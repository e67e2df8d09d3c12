//! Against a real `qemu-system-x86_64` (skipped without QEMU, failing
//! under `CI`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::qemu;
use common::*;
use qmp_client::{Builder, Error, ErrorClass, Qmp, RawEvent};
use serde_json::{Value, json};

fn builder() -> Builder {
    Builder::new().command_timeout(Some(Duration::from_secs(20)))
}

/// The commands of the live schema that take no required argument and
/// only read state (`query-*`, `x-query-*`).
fn read_only_commands(schema: &Value) -> Vec<String> {
    let entries = schema.as_array().expect("schema is an array");
    let objects: BTreeMap<&str, &Value> = entries
        .iter()
        .filter(|e| e["meta-type"] == "object")
        .map(|e| (e["name"].as_str().unwrap(), e))
        .collect();
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e["meta-type"] == "command") {
        let name = e["name"].as_str().unwrap();
        if !(name.starts_with("query-") || name.starts_with("x-query-")) {
            continue;
        }
        let args = objects.get(e["arg-type"].as_str().unwrap());
        let required = args
            .and_then(|a| a["members"].as_array())
            .map(|ms| ms.iter().any(|m| m.get("default").is_none()))
            .unwrap_or(false);
        if !required {
            out.push(name.to_owned());
        }
    }
    out
}

/// Read-only commands expected to fail on this host and machine, with the
/// reason (each is an environment fact, not a client problem). Everything
/// else must succeed.
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
        "query-cpu-model-expansion" | "query-cpu-model-baseline" | "query-cpu-model-comparison" => {
            Some("needs arguments on x86 / not supported on this target")
        }
        _ => None,
    }
}

async fn run_all_queries(machine: &str, qmp: &Qmp) {
    let schema = qmp.call_raw("query-qmp-schema", None).await.unwrap();
    let cmds = read_only_commands(&schema);
    assert!(cmds.len() > 50, "only {} commands", cmds.len());
    let mut unexplained = Vec::new();
    let mut ok = 0;
    for name in &cmds {
        match qmp.call_raw(name, None).await {
            Ok(_) => ok += 1,
            Err(Error::Qmp(e)) => {
                eprintln!("  {name}: {e} [{:?}]", expected_failure(machine, name));
                if expected_failure(machine, name).is_none() {
                    unexplained.push(format!("{name}: {e}"));
                }
            }
            Err(e) => panic!("{name}: transport/protocol failure: {e}"),
        }
    }
    eprintln!(
        "{machine}: {ok}/{} read-only commands succeeded",
        cmds.len()
    );
    assert!(
        unexplained.is_empty(),
        "unexplained failures: {unexplained:#?}"
    );
}

#[tokio::test]
async fn handshake_and_typed_query_status() {
    let Some(p) = qemu::system("none", &["-S"]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let g = qmp.greeting().unwrap();
    assert_eq!(g.version.qemu.major, 10);
    assert!(!qmp.oob_enabled(), "plain -qmp has no I/O thread, no oob");
    let st = qmp.call(QueryStatus).await.unwrap();
    assert_eq!(st.status, "prelaunch");
    let e = qmp.call_raw("no-such-command", None).await.unwrap_err();
    assert!(e.is_command_not_found(), "{e:?}");
}

#[tokio::test]
async fn all_read_only_queries_machine_none() {
    let Some(p) = qemu::system("none", &[]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    run_all_queries("none", &qmp).await;
}

#[tokio::test]
async fn all_read_only_queries_q35() {
    let Some(p) = qemu::system("q35", qemu::Q35_ARGS) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    run_all_queries("q35", &qmp).await;
}

async fn next_event(ev: &mut qmp_client::EventStream<RawEvent>, what: &str) -> RawEvent {
    tokio::time::timeout(Duration::from_secs(20), ev.next())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("stream ended")
        .expect("event error")
}

#[tokio::test]
async fn stop_cont_reset_hotplug_and_block_job_events() {
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
    let mut ev = qmp.events();

    // Started with -S (deterministic: QEMU may answer QMP before it would
    // auto-start the VM). cont / stop: each reply, then its event. The
    // rest runs paused, so no guest code (SeaBIOS poking the xHCI
    // controller) delays anything on a loaded host.
    qmp.call_raw("cont", None).await.unwrap();
    assert_eq!(next_event(&mut ev, "RESUME").await.name(), "RESUME");
    qmp.call(Stop).await.unwrap();
    assert_eq!(next_event(&mut ev, "STOP").await.name(), "STOP");
    assert_eq!(qmp.call(QueryStatus).await.unwrap().status, "paused");

    // system_reset (while paused).
    qmp.call_raw("system_reset", None).await.unwrap();
    let reset = match tokio::time::timeout(Duration::from_secs(20), ev.next()).await {
        Ok(e) => e.unwrap().unwrap(),
        Err(_) => panic!("no RESET event"),
    };
    assert_eq!(reset.name(), "RESET");
    assert_eq!(
        reset.to_value().unwrap()["data"]["reason"],
        "host-qmp-system-reset"
    );

    // blockdev-add + USB hot-plug/unplug (USB unplug needs no guest).
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
    qmp.call_raw("device_del", Some(json!({"id": "stor0"})))
        .await
        .unwrap();
    loop {
        let e = next_event(&mut ev, "DEVICE_DELETED").await;
        if e.name() == "DEVICE_DELETED" && e.to_value().unwrap()["data"]["device"] == "stor0" {
            break;
        }
    }
    qmp.call_raw("blockdev-del", Some(json!({"node-name": "n0"})))
        .await
        .unwrap();

    // A block job: backup between two null nodes.
    qemu::start_null_backup(&qmp).await;
    let mut statuses = Vec::new();
    loop {
        let e = next_event(&mut ev, "job events").await;
        match e.name() {
            "JOB_STATUS_CHANGE" => statuses.push(
                e.to_value().unwrap()["data"]["status"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            "BLOCK_JOB_COMPLETED" => {
                assert_eq!(e.to_value().unwrap()["data"]["device"], "job0");
                break;
            }
            _ => {}
        }
    }
    assert_eq!(statuses.first().map(String::as_str), Some("created"));
    assert!(statuses.iter().any(|s| s == "running"), "{statuses:?}");
    assert_eq!(qmp.stats().unknown_replies, 0);
}

#[tokio::test]
async fn typed_events_from_real_qemu() {
    let Some(p) = qemu::system("none", &["-S"]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let mut ev = qmp.typed_events::<TestEvent>();
    qmp.call_raw("cont", None).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), ev.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(e.event, TestEvent::Resume);
    // Pipelined: stop + query-status in flight together.
    let (a, b) = tokio::join!(qmp.call(Stop), qmp.call(QueryStatus));
    a.unwrap();
    b.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), ev.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(e.event, TestEvent::Stop);
    assert!(e.timestamp.seconds > 0);
}

#[tokio::test]
async fn pipelining_many_in_flight() {
    let Some(p) = qemu::system("none", &[]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200u32 {
        let q = qmp.clone();
        set.spawn(async move {
            let line = format!("echo {i}");
            let r = q
                .call_raw(
                    "human-monitor-command",
                    Some(json!({"command-line": "info version"})),
                )
                .await;
            (line, r)
        });
    }
    let mut n = 0;
    while let Some(r) = set.join_next().await {
        let (_, r) = r.unwrap();
        assert!(r.unwrap().as_str().unwrap().starts_with("10.0.2"));
        n += 1;
    }
    assert_eq!(n, 200);
}

#[tokio::test]
async fn exec_oob_with_io_thread_monitor() {
    let Some(p) = qemu::system_oob() else { return };
    let qmp = builder().oob(true).connect_unix(&p.sock).await.unwrap();
    assert!(qmp.greeting().unwrap().offers("oob"));
    assert!(qmp.oob_enabled());
    let v = qmp
        .request_raw("query-yank", None)
        .oob()
        .send()
        .await
        .unwrap();
    assert!(v.as_array().is_some(), "{v}");
    // A command that does not allow OOB is refused by QEMU, typed.
    let e = qmp
        .request_raw("query-status", None)
        .oob()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::GenericError), "{e:?}");
    // In-band still works on the same connection.
    qmp.call(QueryStatus).await.unwrap();
}

#[tokio::test]
async fn getfd_and_add_fd_pass_real_descriptors() {
    let Some(p) = qemu::system("none", &[]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let f = std::fs::File::open("/dev/null").unwrap();
    qmp.request_raw("getfd", Some(json!({"fdname": "fd0"})))
        .fds(vec![f.into()])
        .send()
        .await
        .unwrap();
    // closefd only succeeds if QEMU really received a descriptor by that name.
    qmp.call_raw("closefd", Some(json!({"fdname": "fd0"})))
        .await
        .unwrap();
    let e = qmp
        .call_raw("closefd", Some(json!({"fdname": "fd0"})))
        .await
        .unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::GenericError));
    // getfd without a descriptor fails on QEMU's side.
    let e = qmp
        .call_raw("getfd", Some(json!({"fdname": "none"})))
        .await
        .unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::GenericError));
    // add-fd into an fd set.
    let f = std::fs::File::open("/dev/null").unwrap();
    let r = qmp
        .request_raw("add-fd", Some(json!({"fdset-id": 3, "opaque": "hello"})))
        .fds(vec![f.into()])
        .send()
        .await
        .unwrap();
    assert_eq!(r["fdset-id"], 3);
    let sets = qmp.call_raw("query-fdsets", None).await.unwrap();
    assert_eq!(sets[0]["fds"][0]["opaque"], "hello");
}

#[test]
fn blocking_client_against_qemu() {
    let Some(p) = qemu::system("none", &["-S"]) else {
        return;
    };
    let qmp = builder().connect_unix_blocking(&p.sock).unwrap();
    assert_eq!(qmp.call(QueryStatus).unwrap().status, "prelaunch");
    let mut ev = qmp.events();
    qmp.call_raw("cont", None).unwrap();
    let e = ev
        .next_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(e.name(), "RESUME");
    qmp.call(Stop).unwrap();
    let e = ev
        .next_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(e.name(), "STOP");
    let f = std::fs::File::open("/dev/null").unwrap();
    qmp.request_raw("getfd", Some(json!({"fdname": "b"})))
        .fds(vec![f.into()])
        .send()
        .unwrap();
    qmp.call_raw("closefd", Some(json!({"fdname": "b"})))
        .unwrap();
    // Threads sharing the connection.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(qmp.call(QueryStatus).unwrap().status, "paused");
                }
            });
        }
    });
}

#[tokio::test]
async fn quit_resolves_everything() {
    let Some(mut p) = qemu::system("none", &[]) else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let mut ev = qmp.events();
    qmp.call_raw("quit", None).await.unwrap();
    assert_eq!(next_event(&mut ev, "SHUTDOWN").await.name(), "SHUTDOWN");
    match tokio::time::timeout(Duration::from_secs(10), ev.next())
        .await
        .unwrap()
    {
        Some(Err(qmp_client::EventError::Closed(Error::Disconnected { .. }))) => {}
        other => panic!("{other:?}"),
    }
    let e = qmp.call(QueryStatus).await.unwrap_err();
    assert!(matches!(e, Error::Disconnected { .. }), "{e:?}");
    assert!(p.wait_exit(Duration::from_secs(10)));
}

#[tokio::test]
async fn pretty_printing_monitor_huge_reply_and_events() {
    let Some(p) = qemu::system_pretty() else {
        return;
    };
    let qmp = builder().connect_unix(&p.sock).await.unwrap();
    let mut ev = qmp.events();
    // The whole schema, pretty-printed (~1 MB over ~40k lines), default limits.
    let raw = qmp
        .request_raw("query-qmp-schema", None)
        .send_reply()
        .await
        .unwrap();
    assert!(raw.message().len() > 500_000, "{}", raw.message().len());
    assert!(raw.message().lines().count() > 10_000);
    assert!(raw.to_value().unwrap().as_array().unwrap().len() > 1000);
    qmp.call_raw("cont", None).await.unwrap();
    assert_eq!(next_event(&mut ev, "RESUME").await.name(), "RESUME");
    assert_eq!(qmp.call(QueryStatus).await.unwrap().status, "running");
}
