//! `qmp gen`: generate Rust bindings from a schema, and `qmp schema
//! json-schema`: print JSON Schemas of commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

/// Arguments of `qmp gen`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmp gen qemu/qapi/qapi-schema.json -o src/generated\n  qmp gen saved-query-qmp-schema.json --stem qmp --keep-module block"
)]
pub struct GenArgs {
    /// The schema: a QAPI `qapi-schema.json`, a saved `query-qmp-schema`
    /// reply or a facts-only snapshot.
    schema: PathBuf,
    /// Output directory (default: the current directory).
    #[arg(short = 'o', long = "out-dir", default_value = ".")]
    out_dir: PathBuf,
    /// Output file stem: writes `<STEM>.rs` and `<STEM>.schema.json`.
    #[arg(long, default_value = "qmp")]
    stem: String,
    /// Leave the schema's doc comments out of the rustdoc.
    #[arg(long)]
    no_docs: bool,
    /// Gate `unstable` definitions, optional members and enum values behind this cargo feature.
    #[arg(long, value_name = "FEATURE")]
    unstable_feature: Option<String>,
    /// Keep only these definitions (and what they need); repeatable.
    #[arg(long, value_name = "NAME")]
    keep: Vec<String>,
    /// Keep only definitions of these QAPI modules (and what they need).
    #[arg(long, value_name = "MODULE")]
    keep_module: Vec<String>,
    /// The runtime path used by the generated code.
    #[arg(long, default_value = "::qmp_types::runtime")]
    runtime_path: String,
    #[command(flatten)]
    level: super::schema::LevelArg,
}

/// Runs `qmp gen`.
pub fn run(args: GenArgs) -> ExitCode {
    let opts = match args.level.options() {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut b = qmp_codegen::Builder::new();
    b.schema(&args.schema)
        .qemu_version(opts.level)
        .out_dir(&args.out_dir)
        .file_stem(args.stem.clone())
        .docs(!args.no_docs)
        .runtime_path(args.runtime_path.clone())
        .unstable_feature(args.unstable_feature.as_deref())
        .cargo_directives(false);
    for k in &args.keep {
        b.keep(k.clone());
    }
    for m in &args.keep_module {
        b.keep_module(m.clone());
    }
    match b.generate() {
        Ok(out) => {
            eprintln!(
                "wrote {} ({} bytes) and {} ({} bytes)",
                args.out_dir.join(format!("{}.rs", args.stem)).display(),
                out.code.len(),
                args.out_dir
                    .join(format!("{}.schema.json", args.stem))
                    .display(),
                out.json_schema.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Arguments of `qmp schema json-schema`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmp schema json-schema query-status\n  qmp schema json-schema --schema qemu/qapi/qapi-schema.json blockdev-add"
)]
pub struct JsonSchemaArgs {
    /// The command; all commands when omitted.
    command: Option<String>,
    /// Read this schema instead of the one the bindings were built from.
    #[arg(long)]
    schema: Option<PathBuf>,
}

/// Runs `qmp schema json-schema`.
pub fn json_schema(args: JsonSchemaArgs) -> ExitCode {
    let text = match &args.schema {
        None => qmp_types::SCHEMA_JSON.to_owned(),
        Some(path) => {
            let mut b = qmp_codegen::Builder::new();
            b.schema(path).cargo_directives(false);
            match b.generate_output() {
                Ok(out) => out.json_schema,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: bad JSON Schema document: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = match select(&doc, args.command.as_deref()) {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    ExitCode::SUCCESS
}

/// The schema of one command (arguments and reply, with the definitions
/// they use), or of all commands.
fn select(doc: &Value, command: Option<&str>) -> Result<Value, String> {
    let commands = doc
        .get("commands")
        .and_then(Value::as_object)
        .ok_or("no commands")?;
    let defs = doc.get("$defs").cloned().unwrap_or(json!({}));
    match command {
        None => Ok(json!({
            "$schema": doc.get("$schema"),
            "commands": commands,
            "$defs": defs,
        })),
        Some(name) => {
            let c = commands
                .get(name)
                .ok_or_else(|| format!("no command `{name}` in the schema"))?;
            let mut used = serde_json::Map::new();
            let mut todo = Vec::new();
            collect_refs(c, &mut todo);
            while let Some(r) = todo.pop() {
                if used.contains_key(&r) {
                    continue;
                }
                if let Some(d) = defs.get(&r) {
                    collect_refs(d, &mut todo);
                    used.insert(r, d.clone());
                }
            }
            Ok(json!({
                "$schema": doc.get("$schema"),
                "title": name,
                "arguments": c.get("arguments"),
                "returns": c.get("returns"),
                "$defs": used,
            }))
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && let Some(n) = r.strip_prefix("#/$defs/")
            {
                out.push(n.to_owned());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}
