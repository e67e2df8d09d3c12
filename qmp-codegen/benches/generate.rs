//! Generation speed on QEMU 10.0.2's QMP schema (read from the QEMU tree
//! beside the workspace): loading + checking, generating from a loaded
//! model, and both.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

fn schema() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/qemu/10.0.2/qapi/qapi-schema.json");
    p.exists().then_some(p)
}

fn bench(c: &mut Criterion) {
    let Some(path) = schema() else {
        eprintln!("skipping: QEMU 10.0.2 schema not found beside the workspace");
        return;
    };
    let opts = qmp_codegen::qmp_schema::ParseOptions::default();
    let model = qmp_codegen::qmp_schema::load(&path, &opts).expect("schema loads");
    let mut g = c.benchmark_group("qemu-10.0.2-qmp");
    g.sample_size(10);
    g.bench_function("load", |b| {
        b.iter(|| qmp_codegen::qmp_schema::load(&path, &opts).expect("loads"))
    });
    g.bench_function("generate-from-model", |b| {
        b.iter(|| {
            qmp_codegen::Builder::new()
                .model(model.clone())
                .generate_output()
                .expect("generates")
        })
    });
    g.bench_function("load-and-generate", |b| {
        b.iter(|| {
            qmp_codegen::Builder::new()
                .schema(&path)
                .generate_output()
                .expect("generates")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
