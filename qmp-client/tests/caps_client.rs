//! Live capabilities through the clients: fetched once per connection,
//! the opt-in refusal before sending (tokio and blocking), against a
//! scripted fake QEMU 5.2 and against real QEMU (5.2 through
//! `QMP_QEMU_5_2`, the system QEMU 10.0 and its storage daemon).

mod common;

use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::qemu;
use qmp_client::caps::Lacking;
use qmp_client::{Builder, Error, Qmp};
use qmp_types::{ImageFormat, QueryStatsSchemas, QueryStatus, Screendump};
use serde_json::{Value, json};

/// The part of a 5.2 schema the tests use: `screendump` has no `format`
/// yet, `query-stats-schemas` does not exist.
fn schema_5_2() -> Value {
    json!([
        {"name": "query-qmp-schema", "meta-type": "command", "arg-type": "0", "ret-type": "[2]"},
        {"name": "query-version", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
        {"name": "screendump", "meta-type": "command", "arg-type": "1", "ret-type": "0"},
        {"name": "0", "meta-type": "object", "members": []},
        {"name": "1", "meta-type": "object", "members": [
            {"name": "filename", "type": "str"},
            {"name": "device", "type": "str", "default": null},
            {"name": "head", "type": "int", "default": null}]},
        {"name": "[2]", "meta-type": "array", "element-type": "0"},
        {"name": "str", "meta-type": "builtin", "json-type": "string"},
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
    ])
}

fn version_5_2() -> Value {
    json!({"qemu": {"major": 5, "minor": 2, "micro": 0}, "package": "Debian"})
}

fn shot(format: Option<ImageFormat>) -> Screendump {
    let mut shot = Screendump::new("/tmp/x.ppm");
    shot.format = format;
    shot
}

fn checking() -> Builder {
    Builder::new()
        .handshake_timeout(Some(Duration::from_secs(5)))
        .command_timeout(Some(Duration::from_secs(20)))
        .check_capabilities(true)
}

fn assert_member_refused(e: &Error) {
    let u = e.unsupported().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(u.command, "screendump");
    assert_eq!(
        u.lacking,
        Lacking::Member {
            path: ".format".into()
        }
    );
    assert_eq!(u.qemu, "5.2.0");
    assert_eq!(u.since, None);
    assert_eq!(
        e.to_string(),
        "argument `.format` of `screendump` is not supported by QEMU 5.2.0"
    );
    assert!(e.is_unsupported() && !e.is_fatal());
}

fn assert_command_refused(e: &Error, command: &str, since: Option<&str>) {
    let u = e.unsupported().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(u.lacking, Lacking::Command);
    assert_eq!(u.command, command);
    assert_eq!(u.since.as_deref(), since);
}

/// What the fake server saw: the commands in order.
fn names(seen: &[Value]) -> Vec<&str> {
    seen.iter()
        .map(|c| c["execute"].as_str().unwrap_or("?"))
        .collect()
}

#[tokio::test]
async fn tokio_refuses_before_sending_and_fetches_once() {
    let (c, s) = tokio::io::duplex(1 << 16);
    let srv = tokio::spawn(async move {
        let mut s = common::tokio_server::Server::new(s);
        s.handshake().await;
        let mut seen = Vec::new();
        while let Some(cmd) = s.recv().await {
            let ret = match cmd["execute"].as_str() {
                Some("query-qmp-schema") => schema_5_2(),
                Some("query-version") => version_5_2(),
                _ => json!({}),
            };
            s.reply(&cmd, ret).await;
            seen.push(cmd);
        }
        seen
    });
    let qmp = checking().connect_stream(c).await.unwrap();
    assert!(qmp.cached_capabilities().is_none(), "fetched lazily");
    qmp.call(shot(None)).await.unwrap();
    let caps = qmp.cached_capabilities().expect("cached by the first call");
    assert_eq!(caps.version_string(), "5.2.0");
    assert_member_refused(&qmp.call(shot(Some(ImageFormat::Png))).await.unwrap_err());
    let e = qmp.call(QueryStatsSchemas::new()).await.unwrap_err();
    assert_command_refused(&e, "query-stats-schemas", Some("7.1"));
    assert_eq!(
        e.to_string(),
        "`query-stats-schemas` is not supported by QEMU 5.2.0 (added in QEMU 7.1)"
    );
    // Untyped calls are checked the same way.
    let e = qmp
        .call_raw("query-stats", Some(json!({"target": "vm"})))
        .await
        .unwrap_err();
    assert_command_refused(&e, "query-stats", Some("7.1"));
    let e = qmp
        .call_raw(
            "screendump",
            Some(json!({"filename": "/y", "format": "png"})),
        )
        .await
        .unwrap_err();
    assert_member_refused(&e);
    qmp.call_raw("screendump", Some(json!({"filename": "/y"})))
        .await
        .unwrap();
    // The connection stays usable; the capabilities are the same object.
    assert!(std::sync::Arc::ptr_eq(
        &caps,
        &qmp.capabilities().await.unwrap()
    ));
    // On request they are fetched anew.
    let fresh = qmp.refresh_capabilities().await.unwrap();
    assert!(!std::sync::Arc::ptr_eq(&caps, &fresh));
    assert!(std::sync::Arc::ptr_eq(
        &fresh,
        &qmp.cached_capabilities().unwrap()
    ));
    drop(fresh);
    qmp.close();
    drop((qmp, caps));
    let seen = tokio::time::timeout(Duration::from_secs(10), srv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        names(&seen),
        [
            "query-qmp-schema",
            "query-version",
            "screendump",
            "screendump",
            "query-qmp-schema",
            "query-version"
        ]
    );
    assert!(seen[2]["arguments"].get("format").is_none());
}

#[tokio::test]
async fn without_the_option_nothing_is_checked() {
    let (c, s) = tokio::io::duplex(1 << 16);
    let srv = tokio::spawn(async move {
        let mut s = common::tokio_server::Server::new(s);
        s.handshake().await;
        let mut seen = Vec::new();
        while let Some(cmd) = s.recv().await {
            s.error(
                &cmd,
                "CommandNotFound",
                "The command query-stats-schemas has not been found",
            )
            .await;
            seen.push(cmd);
        }
        seen
    });
    let qmp = Builder::new().connect_stream(c).await.unwrap();
    let e = qmp.call(QueryStatsSchemas::new()).await.unwrap_err();
    assert!(e.is_command_not_found(), "{e:?}");
    assert!(qmp.cached_capabilities().is_none());
    qmp.close();
    drop(qmp);
    let seen = tokio::time::timeout(Duration::from_secs(10), srv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(names(&seen), ["query-stats-schemas"]);
}

#[test]
fn blocking_refuses_before_sending() {
    let (c, s) = UnixStream::pair().unwrap();
    let srv = std::thread::spawn(move || {
        let mut s = common::std_server::Server::new(s);
        s.handshake();
        let mut seen = Vec::new();
        while let Some(cmd) = s.recv() {
            let ret = match cmd["execute"].as_str() {
                Some("query-qmp-schema") => schema_5_2(),
                Some("query-version") => version_5_2(),
                _ => json!({}),
            };
            s.reply(&cmd, ret);
            seen.push(cmd);
        }
        seen
    });
    let qmp = checking().connect_blocking(c).unwrap();
    assert_member_refused(&qmp.call(shot(Some(ImageFormat::Ppm))).unwrap_err());
    assert_command_refused(
        &qmp.call(QueryStatsSchemas::new()).unwrap_err(),
        "query-stats-schemas",
        Some("7.1"),
    );
    // Pipelined sends are checked too.
    let batch = qmp.call_many([QueryStatsSchemas::new()], 4);
    assert!(
        matches!(&batch[..], [Err(e)] if e.is_unsupported()),
        "{batch:?}"
    );
    qmp.call(shot(None)).unwrap();
    let caps = qmp.capabilities().unwrap();
    assert!(!caps.has_command("query-stats"));
    assert!(caps.has_argument("screendump", "head"));
    let fresh = qmp.refresh_capabilities().unwrap();
    assert!(!std::sync::Arc::ptr_eq(&caps, &fresh));
    qmp.close();
    drop(qmp);
    let seen = srv.join().unwrap();
    assert_eq!(
        names(&seen),
        [
            "query-qmp-schema",
            "query-version",
            "screendump",
            "query-qmp-schema",
            "query-version"
        ]
    );
}

#[test]
fn a_schema_fetch_failure_is_the_calls_error() {
    let (c, s) = UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        let mut s = common::std_server::Server::new(s);
        s.handshake();
        while let Some(cmd) = s.recv() {
            s.error(&cmd, "CommandNotFound", "no introspection here");
        }
    });
    let qmp = checking().connect_blocking(c).unwrap();
    let e = qmp.call(QueryStatus).unwrap_err();
    assert!(e.is_command_not_found(), "{e:?}");
    // A reply that is not a schema is a bad reply.
    let (c, s) = UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        let mut s = common::std_server::Server::new(s);
        s.handshake();
        while let Some(cmd) = s.recv() {
            s.reply(&cmd, json!({"not": "a schema"}));
        }
    });
    let qmp = checking().connect_blocking(c).unwrap();
    let e = qmp.call(QueryStatus).unwrap_err();
    assert!(
        matches!(&e, Error::BadReply { command, .. } if command == "query-qmp-schema"),
        "{e:?}"
    );
}

// ---- real QEMU ----

#[test]
fn real_qemu_5_2_refuses_what_it_lacks() {
    let Some(bin) = qemu::release("QMP_QEMU_5_2") else {
        return;
    };
    let p = qemu::system_at(&bin, "none", &[]);
    let qmp = checking().connect_unix_blocking(&p.sock).unwrap();
    let e = qmp.call(QueryStatsSchemas::new()).unwrap_err();
    assert_command_refused(&e, "query-stats-schemas", Some("7.1"));
    assert_eq!(
        e.to_string(),
        "`query-stats-schemas` is not supported by QEMU 5.2.0 (added in QEMU 7.1)"
    );
    let e = qmp
        .call_raw("query-stats", Some(json!({"target": "vm"})))
        .unwrap_err();
    assert_command_refused(&e, "query-stats", Some("7.1"));
    let caps = qmp.capabilities().unwrap();
    assert!(!caps.has_path("blockdev-add/arg-type/+file/aio-max-batch"));
    assert!(caps.has_path("blockdev-add/arg-type/+file/aio/^native"));
    assert!(!caps.has_argument("screendump", "format"));
    // What 5.2 has runs through the check.
    let st = qmp.call(QueryStatus).unwrap();
    assert_eq!(st.status.to_string(), "running");
    // Nothing was sent for the refused calls: QEMU's own error would be
    // CommandNotFound, and the connection is still fine.
    assert!(qmp.closed().is_none());
}

/// The system QEMU (10.0): typed calls run through the check, the libvirt
/// path of the issue holds, and every command of the raw schema is known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_qemu_system_typed_calls_pass_the_check() {
    let Some(p) = qemu::system("none", &[]) else {
        return;
    };
    // One client at a time on a `-qmp` monitor: the unchecked baseline
    // first.
    let plain = Builder::new().connect_unix(&p.sock).await.unwrap();
    let t2 = std::time::Instant::now();
    for _ in 0..100 {
        plain.call(QueryStatus).await.unwrap();
    }
    let unchecked = t2.elapsed() / 100;
    plain.close();
    drop(plain);
    let qmp: Qmp = checking().connect_unix(&p.sock).await.unwrap();
    let t0 = std::time::Instant::now();
    qmp.call(QueryStatus).await.unwrap();
    let first = t0.elapsed();
    let t1 = std::time::Instant::now();
    for _ in 0..100 {
        qmp.call(QueryStatus).await.unwrap();
    }
    let per_call = t1.elapsed() / 100;
    eprintln!(
        "first checked call (fetches schema + version): {first:?}; \
         later checked calls: {per_call:?} each; unchecked: {unchecked:?} each"
    );
    let caps = qmp.capabilities().await.unwrap();
    assert!(caps.supports::<qmp_types::BlockdevAdd>());
    assert!(caps.has_path("blockdev-add/arg-type/+file/aio-max-batch"));
    assert!(caps.has_event(qmp_types::StopEvent::NAME));
    let v = caps.version().unwrap();
    assert_eq!(Some(v), qmp.greeting().map(|g| &g.version));
    // A command the spanned bindings know from QEMU 5.2 that this QEMU no
    // longer has (gone in 6.0): the refusal says it was removed.
    let e = qmp.call_raw("query-cpus", None).await.unwrap_err();
    let u = e.unsupported().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(u.lacking, Lacking::Command);
    assert_eq!(u.removed_by.as_deref(), Some("10.0.2"));
    assert_eq!(
        e.to_string(),
        format!(
            "`query-cpus` is not supported by QEMU {} (added in QEMU 0.14.0, removed by QEMU 10.0.2)",
            caps.version_string()
        )
    );
    assert!(qmp.closed().is_none());
    // Against the raw schema, fetched separately.
    let raw = qmp.call_raw("query-qmp-schema", None).await.unwrap();
    for e in raw.as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        assert_eq!(
            caps.has_command(name),
            e["meta-type"] == "command",
            "{name}"
        );
        assert_eq!(caps.has_event(name), e["meta-type"] == "event", "{name}");
    }
}

#[test]
fn real_storage_daemon_capabilities() {
    let Some(p) = qemu::storage_daemon() else {
        return;
    };
    let qmp = checking().connect_unix_blocking(&p.sock).unwrap();
    let caps = qmp.capabilities().unwrap();
    assert!(caps.supports::<qmp_types::BlockdevAdd>());
    assert!(caps.has_command("block-export-add"));
    // The system emulator's commands that the daemon lacks are refused.
    let raw = qmp.call_raw("query-qmp-schema", None).unwrap();
    let has_cont = raw
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "cont" && e["meta-type"] == "command");
    let r = qmp.call_raw("cont", None);
    assert_eq!(
        r.as_ref().is_err_and(Error::is_unsupported),
        !has_cont,
        "{r:?}"
    );
}

/// Every answer of the live capabilities agrees with the live raw schema
/// (fetched separately on the same connection): commands, events, members
/// of every object type, union branches, enum values, argument paths.
fn live_answers_match_raw(qmp: &qmp_client::blocking::Qmp, want_version: &str) -> usize {
    let caps = qmp.capabilities().unwrap();
    assert_eq!(caps.version_string(), want_version);
    let raw = qmp.call_raw("query-qmp-schema", None).unwrap();
    let entries = raw.as_array().unwrap();
    let by_name = |n: &str| entries.iter().find(|e| e["name"] == n);
    let mut checked = 0;
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let meta = e["meta-type"].as_str().unwrap();
        assert_eq!(caps.has_command(name), meta == "command", "{name}");
        assert_eq!(caps.has_event(name), meta == "event", "{name}");
        checked += 2;
        match meta {
            "object" => {
                for m in e["members"].as_array().unwrap() {
                    assert!(caps.has_member(name, m["name"].as_str().unwrap()));
                    checked += 1;
                }
                for v in e["variants"].as_array().into_iter().flatten() {
                    assert!(caps.has_variant(name, v["case"].as_str().unwrap()));
                    checked += 1;
                }
                assert!(!caps.has_member(name, "x-no-such-member"));
            }
            "enum" => {
                for v in e["values"].as_array().unwrap() {
                    assert!(caps.has_enum_value(name, v.as_str().unwrap()));
                    checked += 1;
                }
                assert!(!caps.has_enum_value(name, "x-no-such-value"));
            }
            "command" => {
                let args = by_name(e["arg-type"].as_str().unwrap()).unwrap();
                for m in args["members"].as_array().into_iter().flatten() {
                    let n = m["name"].as_str().unwrap();
                    assert!(caps.has_argument(name, n), "{name} {n}");
                    assert!(caps.has_path(&format!("{name}/arg-type/{n}")));
                    checked += 2;
                }
            }
            _ => {}
        }
    }
    assert!(!caps.has_command("x-no-such-command"));
    checked
}

#[test]
fn real_releases_answer_like_their_raw_schema() {
    let mut releases = vec![];
    if let Some(p) = qemu::find("qemu-system-x86_64") {
        releases.push((p, "10.0.2"));
    }
    for (var, v) in [("QMP_QEMU_5_2", "5.2.0"), ("QMP_QEMU_11_1", "11.1.3")] {
        if let Some(p) = qemu::release(var) {
            releases.push((p, v));
        }
    }
    for (bin, version) in releases {
        let p = qemu::system_at(&bin, "none", &[]);
        let qmp = checking().connect_unix_blocking(&p.sock).unwrap();
        let n = live_answers_match_raw(&qmp, version);
        // A typed call through the check on every release.
        qmp.call(QueryStatus).unwrap();
        let batch = qmp
            .capabilities()
            .unwrap()
            .has_path("blockdev-add/arg-type/+file/aio-max-batch");
        assert_eq!(batch, version != "5.2.0", "{version}");
        eprintln!("QEMU {version}: {n} live answers checked");
    }
}
