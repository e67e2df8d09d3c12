//! Prints what the parser reads from a schema as JSON, in the shape of
//! `bench/qapi_parse_dump.py` (which runs QEMU's own parser), so the two
//! can be compared with `diff`.
//!
//! `cargo run -p qmp-schema --example parse_dump -- SCHEMA.json [LEVEL]`

use std::path::PathBuf;
use std::process::ExitCode;

use qmp_schema::{Level, ParseOptions, parse_file};

#[path = "../tests/support/parse_json.rs"]
mod parse_json;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: parse_dump SCHEMA.json [LEVEL]");
        return ExitCode::from(2);
    };
    let mut opts = ParseOptions::default();
    if let Some(level) = args.next() {
        match level.parse::<Level>() {
            Ok(l) => opts.level = Some(l),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    match parse_file(&path, &opts) {
        Ok(parsed) => {
            let out = parse_json::parsed_json(&parsed);
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.render_rich(false));
            ExitCode::FAILURE
        }
    }
}
