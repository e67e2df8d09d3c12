//! Cost of live capabilities, from the saved `query-qmp-schema` replies
//! (`../shared/qemu/introspection`, or `$QMP_SHARED`; skipped without):
//!
//! * `build/<release>`: `Capabilities::from_reply` of a parsed reply (the
//!   one-time cost per connection, after the JSON is parsed);
//! * `check/blockdev-add`: the per-call refusal check of a `blockdev-add`
//!   with a union branch and nested members;
//! * `check/query-status`: the same for an argument-less command;
//! * `path`: one libvirt-style path query.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use qmp_client::Capabilities;
use serde_json::{Value, json};

fn dir() -> Option<PathBuf> {
    let mut c = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")];
    if let Some(s) = std::env::var_os("QMP_SHARED") {
        c.insert(0, PathBuf::from(s));
    }
    c.into_iter()
        .map(|d| d.join("qemu/introspection"))
        .find(|d| d.is_dir())
}

fn bench(c: &mut Criterion) {
    let Some(dir) = dir() else {
        eprintln!("SKIPPED: saved introspection replies not found (set QMP_SHARED)");
        return;
    };
    for r in ["5.2.0", "10.0.2"] {
        let text = std::fs::read_to_string(dir.join(r).join("qemu-system-x86_64.json")).unwrap();
        let raw: Value = serde_json::from_str(&text).unwrap();
        c.bench_function(&format!("build/{r}"), |b| {
            b.iter(|| Capabilities::from_reply(raw.clone(), None).unwrap())
        });
    }
    let text = std::fs::read_to_string(dir.join("10.0.2/qemu-system-x86_64.json")).unwrap();
    let caps = Capabilities::from_reply(serde_json::from_str(&text).unwrap(), None).unwrap();
    let args = json!({
        "driver": "qcow2", "node-name": "top", "read-only": false,
        "discard": "unmap", "cache": {"direct": true, "no-flush": false},
        "file": {"driver": "file", "filename": "/tmp/x.qcow2", "aio": "io_uring"},
        "backing": null, "lazy-refcounts": true,
    });
    assert_eq!(caps.check_call("blockdev-add", Some(&args)), Ok(()));
    c.bench_function("check/blockdev-add", |b| {
        b.iter(|| caps.check_call("blockdev-add", Some(&args)))
    });
    c.bench_function("check/query-status", |b| {
        b.iter(|| caps.check_call("query-status", None))
    });
    c.bench_function("path", |b| {
        b.iter(|| caps.has_path("blockdev-add/arg-type/+file/aio-max-batch"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
