//! Reading a real `query-qmp-schema` reply (the committed q35 corpus reply,
//! 1172 SchemaInfo entries), reading the committed facts-only snapshot, and
//! comparing the reply with the snapshot model.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use qmp_schema::{ParseOptions, compare_introspection, from_introspection_json, load, snapshot};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let reply_path = root.join("qmp-types/tests/corpus/qemu-system-q35.schema.json");
    let snap_path = root.join("qmp-types/schema/qemu-10.0.2-qmp.json");
    let reply = std::fs::read_to_string(&reply_path).expect("corpus reply");
    let snap = std::fs::read_to_string(&snap_path).expect("snapshot");
    c.bench_function("introspection reader (q35 reply)", |b| {
        b.iter(|| from_introspection_json("reply.json", &reply).expect("reads"))
    });
    c.bench_function("snapshot::read (qmp)", |b| {
        b.iter(|| snapshot::read("snap.json", &snap).expect("reads"))
    });
    let r = from_introspection_json("reply.json", &reply).expect("reads");
    let s = load(&snap_path, &ParseOptions::default()).expect("loads");
    c.bench_function("compare_introspection (q35 reply vs snapshot)", |b| {
        b.iter(|| compare_introspection(&r, &s))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
