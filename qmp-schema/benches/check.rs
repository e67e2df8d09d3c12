//! Parse + check of QEMU 10.0.2's full `qapi/qapi-schema.json` (read from
//! `../shared` beside the workspace); compare with QEMU's Python front end
//! using `bench/schema-frontend.sh`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use qmp_schema::{CheckOptions, Level, ParseOptions, check, parse_file};

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu/10.0.2/qapi/qapi-schema.json")
}

fn bench(c: &mut Criterion) {
    let path = schema();
    if !path.exists() {
        eprintln!("skipping: {} not found", path.display());
        return;
    }
    let opts = ParseOptions {
        level: Some(Level::new(10, 0)),
        ..ParseOptions::default()
    };
    let copts = CheckOptions {
        level: Some(Level::new(10, 0)),
    };
    c.bench_function("parse+check qemu-10.0.2 qapi-schema.json", |b| {
        b.iter(|| {
            let parsed = parse_file(&path, &opts).expect("parses");
            check(parsed, &copts).expect("checks")
        });
    });
    c.bench_function("parse only qemu-10.0.2 qapi-schema.json", |b| {
        b.iter(|| parse_file(&path, &opts).expect("parses"));
    });
    let parsed = parse_file(&path, &opts).expect("parses");
    c.bench_function("check only qemu-10.0.2 qapi-schema.json", |b| {
        b.iter_batched(
            || parsed.clone(),
            |p| check(p, &copts).expect("checks"),
            criterion::BatchSize::LargeInput,
        );
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
