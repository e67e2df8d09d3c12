//! Prints what the parser reads from a schema as JSON, in the shape of
//! `bench/qapi_parse_dump.py` (which runs QEMU's own parser), so the two
//! can be compared with `diff`.
//!
//! `cargo run -p qmp-schema --example parse_dump -- SCHEMA.json [LEVEL]`

use std::path::PathBuf;
use std::process::ExitCode;

use qmp_schema::ast::{Doc, DocSectionKind, Item, Value, ValueKind};
use qmp_schema::{Level, ParseOptions, parse_file};
use serde_json::{Map, Value as Json, json};

fn value(v: &Value) -> Json {
    match &v.kind {
        ValueKind::Str(s) => Json::String(s.clone()),
        ValueKind::Bool(b) => Json::Bool(*b),
        ValueKind::Null => Json::Null,
        ValueKind::List(l) => Json::Array(l.iter().map(value).collect()),
        ValueKind::Dict(d) => Json::Object(
            d.entries
                .iter()
                .map(|(k, v)| (k.name.clone(), value(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

fn doc(d: &Doc) -> Json {
    let sections: Vec<Json> = d
        .sections
        .iter()
        .map(|s| {
            let kind = match s.kind {
                DocSectionKind::Plain => "Plain",
                DocSectionKind::Member => "Member",
                DocSectionKind::Feature => "Feature",
                DocSectionKind::Returns => "Returns",
                DocSectionKind::Errors => "Errors",
                DocSectionKind::Since => "Since",
                DocSectionKind::Todo => "Todo",
            };
            json!({
                "kind": kind,
                "name": s.name,
                "text": s.text,
                "line": s.span.map(|s| s.line),
            })
        })
        .collect();
    json!({
        "line": d.span.map(|s| s.line),
        "symbol": d.symbol,
        "sections": sections,
    })
}

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
    let parsed = match parse_file(&path, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", e.render_rich(false));
            return ExitCode::FAILURE;
        }
    };
    let mut definitions = Vec::new();
    let mut docs = Vec::new();
    for item in &parsed.items {
        match item {
            Item::Expr(e) => {
                let file = &parsed.sources.get(e.span.file).name;
                if let Some(d) = &e.doc {
                    docs.push(doc(d));
                }
                definitions.push(json!({
                    "file": file,
                    "line": e.span.line,
                    "expr": value(&Value { kind: ValueKind::Dict(e.dict.clone()), span: e.span }),
                    "doc": e.doc.as_ref().map(doc),
                }));
            }
            Item::Doc(d) => docs.push(doc(d)),
            Item::Directive(_) => {}
        }
    }
    let out = json!({ "definitions": definitions, "docs": docs });
    println!(
        "{}",
        serde_json::to_string_pretty(&sort(out)).unwrap_or_default()
    );
    ExitCode::SUCCESS
}

/// Sorts object keys, like Python's `sort_keys=True`.
fn sort(v: Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut entries: Vec<(String, Json)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
        }
        Json::Array(a) => Json::Array(a.into_iter().map(sort).collect()),
        other => other,
    }
}
