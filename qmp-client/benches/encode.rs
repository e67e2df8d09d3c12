//! Encoding a typed command's arguments to the bytes sent to QEMU: a
//! nested `blockdev-add` (qcow2 over file, with cache options) and
//! `query-status`'s envelope.
//!
//! * `serialize/blockdev-add`: `serde_json::to_writer` of the typed
//!   command (what the client does: `Serialize` writes straight to the
//!   buffer, members in schema order);
//! * `via_value/blockdev-add`: the same through a `Value` built first
//!   (`ToJson`, then `serde_json::to_writer`): how the bindings encoded
//!   before `Serialize` wrote straight to the serializer;
//! * `untyped/blockdev-add`: `serde_json::to_writer` of the same arguments
//!   held as a `Value` (an untyped client that already has one), for
//!   reference;
//! * `serialize/request`: the whole `{"execute", "arguments"}` envelope of
//!   a `Request`.

use criterion::{Criterion, criterion_group, criterion_main};
use qmp_types::runtime::{FromJson, ToJson};
use qmp_types::{BlockdevAdd, Request};
use serde_json::{Value, json};

fn bench(c: &mut Criterion) {
    let args = json!({
        "driver": "qcow2", "node-name": "top", "read-only": false,
        "discard": "unmap", "cache": {"direct": true, "no-flush": false},
        "file": {"driver": "file", "filename": "/tmp/x.qcow2", "aio": "io_uring"},
        "backing": null, "lazy-refcounts": true,
    });
    let cmd = BlockdevAdd::from_json(args.clone()).unwrap();
    // Both encodings say the same.
    assert_eq!(serde_json::to_value(&cmd).unwrap(), cmd.to_json());
    assert_eq!(cmd.to_json(), args);
    let mut out = Vec::with_capacity(1024);
    c.bench_function("serialize/blockdev-add", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, &cmd).unwrap();
            out.len()
        })
    });
    c.bench_function("via_value/blockdev-add", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, &cmd.to_json()).unwrap();
            out.len()
        })
    });
    c.bench_function("untyped/blockdev-add", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, &args).unwrap();
            out.len()
        })
    });
    let req = Request::from(cmd);
    c.bench_function("serialize/request", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, &req).unwrap();
            out.len()
        })
    });
    let _: Value = serde_json::from_slice(&out).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
