//! Parse trees as JSON in the shape of `bench/qapi_parse_dump.py` (which
//! runs QEMU's own parser): definitions with their doc blocks, and all doc
//! blocks. Shared by the `parse_dump` example and the Python oracle test.

use qmp_schema::ast::{Doc, DocSectionKind, Item, Parsed, Value, ValueKind};
use serde_json::{Map, Value as Json, json};

/// The JSON form of a parse result, keys sorted.
pub fn parsed_json(parsed: &Parsed) -> Json {
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
    sort(json!({ "definitions": definitions, "docs": docs }))
}

/// A value as JSON.
pub fn value(v: &Value) -> Json {
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

/// A doc block as JSON.
pub fn doc(d: &Doc) -> Json {
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

/// Sorts object keys, like Python's `sort_keys=True`.
pub fn sort(v: Json) -> Json {
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
