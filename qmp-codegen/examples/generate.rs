//! Generates bindings from a schema file and reports how long it took:
//! `cargo run --release -p qmp-codegen --example generate -- SCHEMA OUT_DIR [RUNS]
//! [RELEASE OLDER=SCHEMA...]`.
//!
//! With `RELEASE` (the schema's QEMU release) and older releases
//! (`5.2.0=path/to/schema`), the bindings span those releases.
//!
//! Each run reads, checks and generates everything from scratch and writes
//! the files (as a build script does). Prints the best and mean wall time.

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(schema), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: generate SCHEMA OUT_DIR [RUNS]");
        std::process::exit(2);
    };
    let runs: u32 = args
        .next()
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(1)
        .max(1);
    let newest: Option<qmp_codegen::Release> = args.next().map(|r| r.parse()).transpose()?;
    let mut older = Vec::new();
    for a in args {
        let (r, p) = a.split_once('=').ok_or("expected RELEASE=SCHEMA")?;
        older.push((r.parse::<qmp_codegen::Release>()?, p.to_owned()));
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut b = qmp_codegen::Builder::new();
        b.schema(&schema).out_dir(&out).cargo_directives(false);
        if let Some(n) = newest {
            b.schema_release(n);
        }
        for (r, p) in &older {
            b.span_release(*r, p);
        }
        b.generate()?;
        times.push(t.elapsed());
    }
    if std::env::var_os("QMP_CODEGEN_STAGES").is_some() {
        let t = Instant::now();
        let model = qmp_codegen::qmp_schema::load(schema.as_ref(), &Default::default())?;
        let load = t.elapsed();
        let t = Instant::now();
        qmp_codegen::Builder::new().model(model).generate_output()?;
        eprintln!(
            "load+check {:.4}s, generate {:.4}s",
            load.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );
    }
    let best = times.iter().min().copied().unwrap_or_default();
    let mean = times.iter().sum::<Duration>() / runs;
    println!(
        "runs {runs} best {:.4} mean {:.4}",
        best.as_secs_f64(),
        mean.as_secs_f64()
    );
    Ok(())
}
