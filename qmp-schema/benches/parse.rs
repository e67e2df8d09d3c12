//! Parsing (and parsing + checking) the full QEMU 10.0.2 schema (`qapi/qapi-schema.json` and its
//! includes) from `../shared`; skipped when the data is absent.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use qmp_schema::{Level, ParseOptions, load, parse_file};

fn parse(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/qemu/10.0.2/qapi/qapi-schema.json");
    if !path.exists() {
        eprintln!("skipping: {} not found", path.display());
        return;
    }
    let opts = ParseOptions::with_level(Level::new(10, 0));
    c.bench_function("parse qemu 10.0.2 qapi-schema.json", |b| {
        b.iter(|| parse_file(&path, &opts).expect("the schema parses"))
    });
    c.bench_function("parse+check qemu 10.0.2 qapi-schema.json", |b| {
        b.iter(|| load(&path, &opts).expect("the schema checks"))
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
