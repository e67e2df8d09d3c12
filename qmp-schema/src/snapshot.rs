//! Facts-only schema snapshots.
//!
//! `qmp-types` embeds QEMU's schemas, but QEMU's documentation prose must not
//! be copied into this project. A snapshot keeps exactly the facts of a
//! parsed schema: every expression as parsed (names, types, members,
//! conditions, features, flags, `include` and `pragma` directives), and of
//! each definition's doc comment only which members and features it
//! documents and its `Since:` value. No other doc text is kept.
//!
//! # Format (`qmp-rs-snapshot/1`)
//!
//! One JSON object, written by [`write()`] with a fixed key order and layout
//! (byte-identical output for identical input):
//!
//! ```json
//! {
//!   "format": "qmp-rs-snapshot/1",
//!   "source": "QEMU 10.0.2",
//!   "level": "10.0",
//!   "pragma": {"doc_required": true, "command_name_exceptions": [...], ...},
//!   "modules": [
//!     {"name": "qapi-schema.json", "items": [
//!       {"pragma": {"doc-required": true}},
//!       {"include": "pragma.json"},
//!       ...
//!     ]},
//!     {"name": "pragma.json", "items": [...]},
//!     ...
//!   ],
//!   "docs": {
//!     "query-status": {"members": [], "features": [], "since": "0.14"},
//!     ...
//!   }
//! }
//! ```
//!
//! * `source` and `level` (the QAPI language level, `MAJOR.MINOR` of the
//!   QEMU release) are optional; they are omitted when unknown.
//! * `pragma` is the pragma state after reading everything (the pragma
//!   directives are also kept among the items).
//! * `modules` lists the files in the order they were first read; module
//!   names are paths relative to the main file's directory, the first module
//!   is the main file. Each module's `items` are its top-level expressions
//!   and directives in source order, each exactly as parsed: QAPI strings
//!   become JSON strings, booleans JSON booleans, lists arrays, dictionaries
//!   objects with their keys in source order.
//! * `docs` maps each definition that had a doc comment block, in
//!   definition order, to the names of the members (`@name:` sections) and
//!   features it documents and, when present, its `Since:` text. Free-form
//!   doc blocks (section headings) are not kept.
//!
//! [`read`] turns a snapshot back into an [`ast::Parsed`](crate::ast::Parsed):
//! items are flattened in reading order exactly as the source parser does
//! (an `include` directive is followed by the included module's items the
//! first time it is included), every value has a [`Span`] into the snapshot
//! text, and each documented definition gets a synthetic [`Doc`] holding
//! only the facts above: an empty body section, one empty member section per
//! documented member, one empty feature section per documented feature, and
//! the `Since` section. So the snapshot goes through the same checker as
//! QAPI source, with the same results (except doc text).
//!
//! Each module gets its own entry in the [`SourceMap`], named after the
//! module (so the checker assigns definitions to the right modules); all
//! of them hold the snapshot's text, which their spans point into, so a
//! diagnostic names the module but its line and column are in the snapshot
//! file. Each module's `included_from` is the `include` item that first
//! included it.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::ast::{
    Dict, Directive, Doc, DocSection, DocSectionKind, Expr, Item, Key, Parsed, Value, ValueKind,
};
use crate::diag::{Diagnostic, DiagnosticKind};
use crate::json::{self, JsonKind, JsonValue, LineIndex};
use crate::model::Pragma;
use crate::options::{Level, ParseOptions};
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// The `format` value this version writes and reads.
pub const FORMAT: &str = "qmp-rs-snapshot/1";

/// Where a snapshot came from (the optional `source` and `level` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// Free text naming the origin, e.g. `QEMU 10.0.2`.
    pub source: Option<String>,
    /// The QAPI language level, e.g. `10.0`.
    pub level: Option<String>,
}

/// Whether `text` looks like a snapshot: a JSON object whose first key is
/// `"format"` with a value starting with `qmp-rs-snapshot/`.
pub fn looks_like_snapshot(text: &str) -> bool {
    let t = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let Some(rest) = t.strip_prefix('{') else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix("\"format\"") else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix(':') else {
        return false;
    };
    rest.trim_start().starts_with("\"qmp-rs-snapshot/")
}

// ---------------------------------------------------------------------
// Paths (lexical, '/'-separated, like the module names QEMU prints)

fn normpath(p: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let abs = p.starts_with('/');
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else if !abs {
                    out.push("..".into());
                }
            }
            c => out.push(c.to_owned()),
        }
    }
    if abs {
        out.insert(0, String::new());
    }
    out
}

fn dirname(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() || file.starts_with('/') {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

fn relpath(path: &str, start: &str) -> String {
    let p = normpath(path);
    let s = normpath(start);
    let common = p.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".into(); s.len() - common];
    out.extend(p[common..].iter().cloned());
    out.join("/")
}

// ---------------------------------------------------------------------
// Writing

/// Writes the snapshot of `parsed` without `source` and `level`.
pub fn write(parsed: &Parsed) -> String {
    write_with(parsed, &Meta::default())
}

/// Writes the snapshot of `parsed`.
pub fn write_with(parsed: &Parsed, meta: &Meta) -> String {
    let main_name = parsed
        .items
        .first()
        .map(|i| item_span(i).file)
        .or_else(|| parsed.sources.files().next().map(|(id, _)| id))
        .map(|id| parsed.sources.get(id).name.clone())
        .unwrap_or_default();
    let main_dir = dirname(&main_name).to_owned();
    // Modules in order of first appearance.
    let mut order: Vec<FileId> = Vec::new();
    let mut items_of: HashMap<FileId, Vec<&Item>> = HashMap::new();
    if !parsed.items.is_empty() {
        for (id, _) in parsed.sources.files() {
            order.push(id);
        }
    }
    for item in &parsed.items {
        let file = item_span(item).file;
        if !order.contains(&file) {
            order.push(file);
        }
        items_of.entry(file).or_default().push(item);
    }

    let mut out = String::new();
    out.push_str("{\n");
    let _ = writeln!(out, "  \"format\": {},", jstr(FORMAT));
    if let Some(s) = &meta.source {
        let _ = writeln!(out, "  \"source\": {},", jstr(s));
    }
    if let Some(l) = &meta.level {
        let _ = writeln!(out, "  \"level\": {},", jstr(l));
    }
    let _ = writeln!(out, "  \"pragma\": {},", pragma_json(&parsed.pragma));
    out.push_str("  \"modules\": [");
    let mut first_module = true;
    for file in &order {
        let items = items_of.get(file).map(Vec::as_slice).unwrap_or(&[]);
        let kept: Vec<&&Item> = items
            .iter()
            .filter(|i| !matches!(i, Item::Doc(_)))
            .collect();
        out.push_str(if first_module { "\n" } else { ",\n" });
        first_module = false;
        let name = relpath(&parsed.sources.get(*file).name, &main_dir);
        let _ = write!(out, "    {{\"name\": {}, \"items\": [", jstr(&name));
        for (i, item) in kept.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let dict = match item {
                Item::Expr(e) => &e.dict,
                Item::Directive(d) => &d.dict,
                Item::Doc(_) => continue,
            };
            out.push_str("      ");
            write_dict(&mut out, dict, 6);
        }
        out.push_str(if kept.is_empty() { "]}" } else { "\n    ]}" });
    }
    out.push_str(if first_module { "],\n" } else { "\n  ],\n" });
    out.push_str("  \"docs\": {");
    let mut first = true;
    for item in &parsed.items {
        let Item::Expr(e) = item else { continue };
        let Some(doc) = &e.doc else { continue };
        let Some(name) = def_name(&e.dict) else {
            continue;
        };
        out.push_str(if first { "\n" } else { ",\n" });
        first = false;
        let names = |kind| {
            let v: Vec<String> = doc
                .sections
                .iter()
                .filter(|s| s.kind == kind)
                .filter_map(|s| s.name.as_deref().map(jstr))
                .collect();
            format!("[{}]", v.join(", "))
        };
        let _ = write!(
            out,
            "    {}: {{\"members\": {}, \"features\": {}",
            jstr(name),
            names(DocSectionKind::Member),
            names(DocSectionKind::Feature)
        );
        if let Some(since) = doc.since() {
            let _ = write!(out, ", \"since\": {}", jstr(since));
        }
        out.push('}');
    }
    out.push_str(if first { "}\n}\n" } else { "\n  }\n}\n" });
    out
}

const META_KEYS: [&str; 6] = ["enum", "struct", "union", "alternate", "command", "event"];

fn pragma_json(p: &Pragma) -> String {
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| jstr(s)).collect();
        format!("[{}]", items.join(", "))
    };
    format!(
        "{{\"doc_required\": {}, \"command_name_exceptions\": {}, \"command_returns_exceptions\": {}, \"documentation_exceptions\": {}, \"member_name_exceptions\": {}}}",
        p.doc_required,
        list(&p.command_name_exceptions),
        list(&p.command_returns_exceptions),
        list(&p.documentation_exceptions),
        list(&p.member_name_exceptions)
    )
}

fn def_name(d: &Dict) -> Option<&str> {
    d.entries
        .first()
        .filter(|(k, _)| META_KEYS.contains(&k.name.as_str()))
        .and_then(|(_, v)| v.as_str())
}

fn item_span(i: &Item) -> Span {
    match i {
        Item::Expr(e) => e.span,
        Item::Directive(d) => d.span,
        Item::Doc(d) => d.span.unwrap_or(Span {
            file: FileId(0),
            start: 0,
            end: 0,
            line: 0,
            col: 0,
        }),
    }
}

fn jstr(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn compact(out: &mut String, v: &Value) {
    match &v.kind {
        ValueKind::Str(s) => out.push_str(&jstr(s)),
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                compact(out, x);
            }
            out.push(']');
        }
        ValueKind::Dict(d) => compact_dict(out, d),
        ValueKind::Null => out.push_str("null"),
    }
}

fn compact_dict(out: &mut String, d: &Dict) {
    out.push('{');
    for (i, (k, v)) in d.entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&jstr(&k.name));
        out.push_str(": ");
        compact(out, v);
    }
    out.push('}');
}

/// Width up to which a value is written on one line.
const WIDTH: usize = 100;

fn write_value(out: &mut String, v: &Value, indent: usize) {
    let mut c = String::new();
    compact(&mut c, v);
    if indent + c.len() <= WIDTH {
        out.push_str(&c);
        return;
    }
    match &v.kind {
        ValueKind::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&" ".repeat(indent + 2));
                write_value(out, x, indent + 2);
            }
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        ValueKind::Dict(d) => write_dict(out, d, indent),
        _ => out.push_str(&c),
    }
}

fn write_dict(out: &mut String, d: &Dict, indent: usize) {
    let mut c = String::new();
    compact_dict(&mut c, d);
    if indent + c.len() <= WIDTH || d.entries.is_empty() {
        out.push_str(&c);
        return;
    }
    out.push('{');
    for (i, (k, v)) in d.entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&" ".repeat(indent + 2));
        out.push_str(&jstr(&k.name));
        out.push_str(": ");
        write_value(out, v, indent + 2);
    }
    out.push('\n');
    out.push_str(&" ".repeat(indent));
    out.push('}');
}

/// Parses the QAPI schema at `path` (with its includes) and writes its
/// snapshot. `source` is `QEMU <version>` and `level` the language level,
/// when the file belongs to a QEMU tree with a `VERSION` file (see
/// [`Level::detect`]); `opts.level` overrides the level.
pub fn extract(path: &Path, opts: &ParseOptions) -> Result<String, crate::Error> {
    let (parsed, meta) = extract_parsed(path, opts)?;
    Ok(write_with(&parsed, &meta))
}

/// Like [`extract`], but returns the parse tree and its [`Meta`] instead of
/// writing them (to edit the tree first, see [`crate::extend`]).
pub fn extract_parsed(path: &Path, opts: &ParseOptions) -> Result<(Parsed, Meta), crate::Error> {
    let parsed = crate::parse_file(path, opts)?;
    let version = qemu_version(path);
    let level = opts
        .level
        .or_else(|| version.as_deref().and_then(Level::from_version));
    let meta = Meta {
        source: version.map(|v| format!("QEMU {v}")),
        level: level.map(|l| l.to_string()),
    };
    Ok((parsed, meta))
}

/// The text of the `VERSION` file of the QEMU tree `schema` belongs to (its
/// directory or up to three parents), if there is a sane one.
fn qemu_version(schema: &Path) -> Option<String> {
    let abs = std::path::absolute(schema).ok()?;
    let mut dir = abs.parent();
    for _ in 0..4 {
        let d = dir?;
        let candidate = d.join("VERSION");
        if candidate.is_file() {
            if std::fs::metadata(&candidate).ok()?.len() > 256 {
                return None;
            }
            let text = std::fs::read_to_string(&candidate).ok()?;
            let v = text.trim();
            let sane = !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            return sane.then(|| v.to_owned());
        }
        dir = d.parent();
    }
    None
}

// ---------------------------------------------------------------------
// Reading

type R<T> = Result<T, Box<Diagnostic>>;

struct Reader<'a> {
    name: &'a str,
    idx: LineIndex<'a>,
}

impl Reader<'_> {
    fn bad(&self, v: &JsonValue, msg: impl Into<String>) -> Box<Diagnostic> {
        Box::new(Diagnostic::new(
            DiagnosticKind::Syntax,
            msg,
            self.name,
            self.idx.of(v),
        ))
    }

    fn span_in(&self, file: FileId, start: u32, end: u32) -> Span {
        Span {
            file,
            ..self.idx.span(start, end)
        }
    }

    fn value(&self, v: &JsonValue, file: FileId) -> R<Value> {
        let kind = match &v.kind {
            JsonKind::Str(s) => ValueKind::Str(s.clone()),
            JsonKind::Bool(b) => ValueKind::Bool(*b),
            JsonKind::Array(a) => ValueKind::List(
                a.iter()
                    .map(|x| self.value(x, file))
                    .collect::<R<Vec<_>>>()?,
            ),
            JsonKind::Object(_) => ValueKind::Dict(self.dict(v, file)?),
            JsonKind::Null => ValueKind::Null,
            JsonKind::Number(_) => {
                return Err(self.bad(
                    v,
                    format!(
                        "QAPI values are strings, booleans, null, lists or dictionaries, not {}",
                        v.type_name()
                    ),
                ));
            }
        };
        Ok(Value {
            kind,
            span: self.span_in(file, v.start, v.end),
        })
    }

    fn dict(&self, v: &JsonValue, file: FileId) -> R<Dict> {
        let entries = v
            .as_object()
            .ok_or_else(|| self.bad(v, "expected an object"))?;
        let mut d = Dict::default();
        for (k, x) in entries {
            d.entries.push((
                Key {
                    name: k.name.clone(),
                    span: self.span_in(file, k.start, k.end),
                },
                self.value(x, file)?,
            ));
        }
        Ok(d)
    }

    fn strings(&self, v: Option<&JsonValue>, what: &str) -> R<Vec<(String, Span)>> {
        let Some(v) = v else { return Ok(Vec::new()) };
        let a = v
            .as_array()
            .ok_or_else(|| self.bad(v, format!("'{what}' must be an array")))?;
        a.iter()
            .map(|x| {
                x.as_str()
                    .map(|s| (s.to_owned(), self.idx.of(x)))
                    .ok_or_else(|| self.bad(x, format!("'{what}' must hold strings")))
            })
            .collect()
    }
}

/// Reads a snapshot (the text of file `name`) back into a parse tree.
pub fn read(name: &str, text: &str) -> Result<Parsed, crate::Error> {
    read_with_level(name, text).map(|(p, _)| p)
}

/// Like [`read`], also returning the snapshot's `level`, if it has one.
pub fn read_with_level(name: &str, text: &str) -> Result<(Parsed, Option<Level>), crate::Error> {
    let mut sources = SourceMap::new();
    let snapshot_file = SourceFile {
        name: name.to_owned(),
        path: name.into(),
        text: text.to_owned(),
        included_from: None,
    };
    let r = Reader {
        name,
        idx: LineIndex::new(text, FileId(0)),
    };
    match read_inner(&r, text, &snapshot_file) {
        Ok(p) => Ok(p),
        Err(diagnostic) => {
            sources.add(snapshot_file);
            Err(crate::Error {
                diagnostic,
                sources,
            })
        }
    }
}

/// The `pragma` object of a snapshot, as [`pragma_json`] writes it (every
/// key optional; unknown keys are ignored).
fn read_pragma(r: &Reader<'_>, p: &JsonValue) -> R<Pragma> {
    let Some(members) = p.as_object() else {
        return Err(r.bad(p, "bad 'pragma': not an object"));
    };
    let mut pragma = Pragma::default();
    for (key, value) in members {
        let key = key.name.as_str();
        let list = |field: &mut Vec<String>| -> R<()> {
            let items = value
                .as_array()
                .ok_or_else(|| r.bad(value, format!("bad 'pragma': '{key}' must be a list")))?;
            *field = items
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| r.bad(s, format!("bad 'pragma': '{key}' must list strings")))
                })
                .collect::<R<_>>()?;
            Ok(())
        };
        match key {
            "doc_required" => {
                pragma.doc_required = value.as_bool().ok_or_else(|| {
                    r.bad(value, "bad 'pragma': 'doc_required' must be true or false")
                })?;
            }
            "command_name_exceptions" => list(&mut pragma.command_name_exceptions)?,
            "command_returns_exceptions" => list(&mut pragma.command_returns_exceptions)?,
            "documentation_exceptions" => list(&mut pragma.documentation_exceptions)?,
            "member_name_exceptions" => list(&mut pragma.member_name_exceptions)?,
            // A key of a newer snapshot format revision: not ours to judge.
            _ => {}
        }
    }
    Ok(pragma)
}

fn read_inner(r: &Reader<'_>, text: &str, file: &SourceFile) -> R<(Parsed, Option<Level>)> {
    let root = json::parse(text).map_err(|e| {
        Box::new(Diagnostic::new(
            DiagnosticKind::Syntax,
            e.message,
            r.name,
            r.idx.span(e.offset, e.offset),
        ))
    })?;
    if root.as_object().is_none() {
        return Err(r.bad(&root, "a snapshot must be a JSON object"));
    }
    let format = root
        .get("format")
        .and_then(JsonValue::as_str)
        .ok_or_else(|| r.bad(&root, "not a snapshot: no 'format'"))?;
    if format != FORMAT {
        return Err(r.bad(
            root.get("format").unwrap_or(&root),
            format!("unsupported snapshot format '{format}' (this version reads '{FORMAT}')"),
        ));
    }
    let level = match root.get("level") {
        None => None,
        Some(l) => Some(
            l.as_str()
                .and_then(Level::from_version)
                .ok_or_else(|| r.bad(l, "'level' must be a string like \"10.0\""))?,
        ),
    };
    let pragma = match root.get("pragma") {
        None => Pragma::default(),
        Some(p) => read_pragma(r, p)?,
    };
    let modules_v = root
        .get("modules")
        .ok_or_else(|| r.bad(&root, "snapshot lacks 'modules'"))?;
    let modules = modules_v
        .as_array()
        .ok_or_else(|| r.bad(modules_v, "'modules' must be an array"))?;
    if modules.is_empty() {
        return Err(r.bad(modules_v, "'modules' must not be empty"));
    }
    let mut files: Vec<SourceFile> = Vec::new();
    let mut by_name: HashMap<String, (FileId, &[JsonValue])> = HashMap::new();
    let mut main_name = String::new();
    for (i, m) in modules.iter().enumerate() {
        let name = m
            .get("name")
            .and_then(JsonValue::as_str)
            .ok_or_else(|| r.bad(m, "a module needs a string 'name'"))?;
        let items_v = m
            .get("items")
            .ok_or_else(|| r.bad(m, "a module needs 'items'"))?;
        let items = items_v
            .as_array()
            .ok_or_else(|| r.bad(items_v, "'items' must be an array"))?;
        let norm = normpath(name).join("/");
        if by_name.contains_key(&norm) {
            return Err(r.bad(m, format!("module '{name}' appears twice")));
        }
        if i == 0 {
            main_name = norm.clone();
        }
        let id = FileId(i as u32);
        files.push(SourceFile {
            name: name.to_owned(),
            path: file.path.clone(),
            text: file.text.clone(),
            included_from: None,
        });
        by_name.insert(norm, (id, items));
    }

    // Synthetic docs, by definition name.
    let mut docs: HashMap<String, &JsonValue> = HashMap::new();
    if let Some(dv) = root.get("docs") {
        let entries = dv
            .as_object()
            .ok_or_else(|| r.bad(dv, "'docs' must be an object"))?;
        for (k, v) in entries {
            docs.insert(k.name.clone(), v);
        }
    }

    let mut out = Parsed {
        sources: SourceMap::new(),
        items: Vec::new(),
        pragma,
        level: level.unwrap_or_default(),
    };
    let mut visited = HashSet::new();
    let mut used_docs = 0usize;
    let mut stack: Vec<(String, usize)> = vec![(main_name.clone(), 0)];
    visited.insert(main_name);
    // Depth-first over includes, iteratively (no recursion depth issues).
    while let Some((module, pos)) = stack.pop() {
        let (file, items) = by_name[&module];
        let Some(item) = items.get(pos) else { continue };
        stack.push((module.clone(), pos + 1));
        let dict = r.dict(item, file)?;
        let span = r.span_in(file, item.start, item.end);
        if let Some(inc) = dict.get("include") {
            let target = inc
                .as_str()
                .ok_or_else(|| r.bad(item, "'include' must be a string"))?;
            let full = normpath(&join(dirname(&module), target)).join("/");
            out.items.push(Item::Directive(Directive { dict, span }));
            if visited.insert(full.clone()) {
                if !by_name.contains_key(&full) {
                    return Err(r.bad(
                        item,
                        format!("included module '{full}' is not in the snapshot"),
                    ));
                }
                let (inc_file, _) = by_name[&full];
                files[inc_file.0 as usize].included_from = Some(span);
                stack.push((full, 0));
            }
            continue;
        }
        if dict.contains("pragma") {
            out.items.push(Item::Directive(Directive { dict, span }));
            continue;
        }
        let doc = match def_name(&dict).and_then(|n| docs.get(n).map(|d| (n, *d))) {
            Some((n, d)) => {
                used_docs += 1;
                Some(synthetic_doc(r, n, d, file)?)
            }
            None => None,
        };
        out.items.push(Item::Expr(Expr { dict, span, doc }));
    }
    if used_docs != docs.len() {
        let dv = root.get("docs").unwrap_or(&root);
        return Err(r.bad(
            dv,
            "'docs' has entries for definitions the snapshot does not have",
        ));
    }
    for f in files {
        out.sources.add(f);
    }
    Ok((out, level))
}

fn synthetic_doc(r: &Reader<'_>, name: &str, d: &JsonValue, file: FileId) -> R<Doc> {
    if d.as_object().is_none() {
        return Err(r.bad(d, format!("doc facts of '{name}' must be an object")));
    }
    let at = |s: Span| Span { file, ..s };
    let span = at(r.idx.of(d));
    let mut sections = vec![DocSection {
        kind: DocSectionKind::Plain,
        name: None,
        text: String::new(),
        span: Some(span),
        tag: None,
    }];
    for (n, s) in r.strings(d.get("members"), "members")? {
        sections.push(DocSection {
            kind: DocSectionKind::Member,
            name: Some(n),
            text: String::new(),
            span: Some(at(s)),
            tag: None,
        });
    }
    for (n, s) in r.strings(d.get("features"), "features")? {
        sections.push(DocSection {
            kind: DocSectionKind::Feature,
            name: Some(n),
            text: String::new(),
            span: Some(at(s)),
            tag: None,
        });
    }
    if let Some(s) = d.get("since") {
        let text = s
            .as_str()
            .ok_or_else(|| r.bad(s, "'since' must be a string"))?;
        sections.push(DocSection {
            kind: DocSectionKind::Since,
            name: None,
            text: text.to_owned(),
            span: Some(at(r.idx.of(s))),
            tag: None,
        });
    }
    Ok(Doc {
        span: Some(span),
        symbol: Some(name.to_owned()),
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAP: &str = r#"{
  "format": "qmp-rs-snapshot/1",
  "source": "test",
  "level": "10.0",
  "pragma": {"doc_required": true, "command_name_exceptions": [], "command_returns_exceptions": [], "documentation_exceptions": ["Foo"], "member_name_exceptions": []},
  "modules": [
    {"name": "main.json", "items": [
      {"pragma": {"doc-required": true}},
      {"include": "sub/a.json"},
      {"include": "sub/b.json"},
      {
        "command": "query-foo",
        "data": {"*x": "Foo"},
        "returns": "Foo",
        "if": {"all": ["CONFIG_A", "CONFIG_B"]}
      }
    ]},
    {"name": "sub/a.json", "items": [
      {"include": "b.json"},
      {"struct": "Foo", "data": {"a": "int", "*b": {"type": ["str"], "features": ["deprecated"]}}}
    ]},
    {"name": "sub/b.json", "items": [
      {"enum": "E", "data": ["x", {"name": "y", "if": "CONFIG_Y"}]}
    ]}
  ],
  "docs": {
    "E": {"members": ["x", "y"], "features": [], "since": "1.0"},
    "Foo": {"members": ["a"], "features": ["deprecated"]},
    "query-foo": {"members": ["x"], "features": [], "since": "2.0"}
  }
}
"#;

    fn parsed() -> Parsed {
        match read_with_level("snap.json", SNAP) {
            Ok((p, level)) => {
                assert_eq!(level, Some(Level::new(10, 0)));
                p
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn reads_in_reading_order() {
        let p = parsed();
        let kinds: Vec<String> = p
            .items
            .iter()
            .map(|i| match i {
                Item::Directive(d) => d.dict.keys().next().unwrap_or("").to_owned(),
                Item::Expr(e) => def_name(&e.dict).unwrap_or("").to_owned(),
                Item::Doc(_) => "doc".into(),
            })
            .collect();
        // main: pragma, include a -> (include b -> E), Foo; include b (again,
        // nothing follows); query-foo.
        assert_eq!(
            kinds,
            [
                "pragma",
                "include",
                "include",
                "E",
                "Foo",
                "include",
                "query-foo"
            ]
        );
        let files: Vec<&str> = p
            .items
            .iter()
            .map(|i| p.sources.get(item_span(i).file).name.as_str())
            .collect();
        assert_eq!(
            files,
            [
                "main.json",
                "main.json",
                "sub/a.json",
                "sub/b.json",
                "sub/a.json",
                "main.json",
                "main.json"
            ]
        );
        assert_eq!(p.pragma.documentation_exceptions, ["Foo"]);
        let included: Vec<Option<u32>> = p
            .sources
            .files()
            .map(|(_, f)| f.included_from.map(|s| s.line))
            .collect();
        assert_eq!(included, [None, Some(9), Some(19)]);
        assert!(p.pragma.doc_required);
    }

    #[test]
    fn synthetic_docs_carry_only_facts() {
        let p = parsed();
        let Item::Expr(e) = &p.items[6] else {
            panic!("not an expression")
        };
        let doc = e.doc.as_ref().unwrap();
        assert_eq!(doc.symbol.as_deref(), Some("query-foo"));
        assert_eq!(doc.since(), Some("2.0"));
        assert!(doc.member("x").is_some());
        assert!(
            doc.sections
                .iter()
                .all(|s| s.kind == DocSectionKind::Since || s.text.is_empty())
        );
        let Item::Expr(foo) = &p.items[4] else {
            panic!("not an expression")
        };
        let d = foo.doc.as_ref().unwrap();
        assert!(d.feature("deprecated").is_some());
        assert_eq!(d.since(), None);
        // Spans point into the snapshot, at the value.
        let x = foo.dict.get("data").unwrap();
        let sp = x.span;
        assert_eq!(&SNAP[sp.start as usize..sp.start as usize + 6], "{\"a\": ");
        assert_eq!(sp.line as usize, SNAP[..sp.start as usize].lines().count());
        assert_eq!(sp.line, 20);
    }

    #[test]
    fn write_read_round_trip_is_exact() {
        let p = parsed();
        let meta = Meta {
            source: Some("test".into()),
            level: Some("10.0".into()),
        };
        let again = write_with(&p, &meta);
        assert_eq!(again, SNAP);
        let p2 = read("again.json", &again).unwrap();
        assert_eq!(write_with(&p2, &meta), again);
    }

    #[test]
    fn prose_is_never_written() {
        let mut p = parsed();
        for item in &mut p.items {
            if let Item::Expr(e) = item
                && let Some(d) = &mut e.doc
            {
                for s in &mut d.sections {
                    if s.kind != DocSectionKind::Since {
                        s.text = "This secret sentence must not leak.".into();
                    }
                }
                d.sections.push(DocSection {
                    kind: DocSectionKind::Returns,
                    name: None,
                    text: "Another secret.".into(),
                    span: None,
                    tag: None,
                });
            }
        }
        p.items.push(Item::Doc(Doc {
            span: Some(item_span(&p.items[0])),
            symbol: None,
            sections: vec![DocSection {
                kind: DocSectionKind::Plain,
                name: None,
                text: "= Secret heading".into(),
                span: None,
                tag: None,
            }],
        }));
        let out = write(&p);
        assert!(!out.contains("secret") && !out.contains("Secret"), "{out}");
        assert!(looks_like_snapshot(&out));
    }

    #[test]
    fn rejects_bad_snapshots() {
        let cases = [
            (
                SNAP.replace("qmp-rs-snapshot/1", "qmp-rs-snapshot/9"),
                "unsupported snapshot format",
            ),
            (
                SNAP.replace("\"sub/b.json\", \"items\"", "\"sub/c.json\", \"items\""),
                "not in the snapshot",
            ),
            (SNAP.replace("\"CONFIG_Y\"", "7"), "not number"),
            (
                SNAP.replace("\"level\": \"10.0\"", "\"level\": \"x\""),
                "'level' must be",
            ),
            (
                SNAP.replace("\"query-foo\": {", "\"query-bar\": {"),
                "definitions the snapshot does not have",
            ),
            (
                SNAP.replace(
                    "\"E\": {\"members\": [\"x\", \"y\"]",
                    "\"E\": {\"members\": [1]",
                ),
                "must hold strings",
            ),
            (
                SNAP.replace("{\"doc_required\": true,", "{\"doc_required\": 1,"),
                "'doc_required' must be true or false",
            ),
            (
                SNAP.replace(
                    "\"documentation_exceptions\": [\"Foo\"]",
                    "\"documentation_exceptions\": \"Foo\"",
                ),
                "'documentation_exceptions' must be a list",
            ),
            (
                SNAP.replace(
                    "\"documentation_exceptions\": [\"Foo\"]",
                    "\"documentation_exceptions\": [1]",
                ),
                "'documentation_exceptions' must list strings",
            ),
            (
                SNAP.replace(
                    "\"pragma\": {\"doc_required\"",
                    "\"pragma\": [], \"x\": {\"doc_required\"",
                ),
                "bad 'pragma': not an object",
            ),
            ("[]".to_owned(), "must be a JSON object"),
            (
                "{\"format\": \"qmp-rs-snapshot/1\"}".to_owned(),
                "lacks 'modules'",
            ),
            ("{\"format\": ".to_owned(), "expected a value"),
        ];
        for (text, want) in cases {
            match read("s.json", &text) {
                Ok(_) => panic!("accepted: {want}"),
                Err(e) => {
                    assert!(
                        e.diagnostic.message.contains(want),
                        "{want}: {}",
                        e.diagnostic
                    );
                    assert!(e.diagnostic.line >= 1);
                }
            }
        }
    }

    #[test]
    fn checker_errors_point_into_the_snapshot() {
        let bad = SNAP
            .replace("\"a\": \"int\"", "\"a\": \"Nope\"")
            .replace("\"enum\": \"E\"", "\"enum\": \"Ee\"")
            .replace("\"E\": {\"members\"", "\"Ee\": {\"members\"");
        let parsed = read("snap.json", &bad).unwrap_or_else(|e| panic!("{e}"));
        let e = crate::check(parsed, &crate::CheckOptions::default())
            .expect_err("unknown type must be rejected");
        let text = e.to_string();
        assert!(
            text.contains("In file included from main.json:9:"),
            "{text}"
        );
        assert!(text.contains("sub/a.json:20"), "{text}");
        assert!(text.contains("'Nope'"), "{text}");
    }

    #[test]
    fn detection() {
        assert!(looks_like_snapshot(SNAP));
        assert!(looks_like_snapshot(
            "\n { \"format\" : \"qmp-rs-snapshot/2\""
        ));
        assert!(!looks_like_snapshot("{\"return\": []}"));
        assert!(!looks_like_snapshot("{ 'format': 'qmp-rs-snapshot/1' }"));
    }

    #[test]
    fn paths() {
        assert_eq!(relpath("a/b/c.json", "a"), "b/c.json");
        assert_eq!(relpath("../../qapi/x.json", ""), "../../qapi/x.json");
        assert_eq!(normpath(&join("sub", "../x.json")).join("/"), "x.json");
        assert_eq!(
            relpath("/r/q/qapi/a.json", "/r/q/sd/qapi"),
            "../../qapi/a.json"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_mutations(pos in 0usize..1400, len in 0usize..8, ins in "[\\[\\]{}\",:a-z./ ]{0,6}") {
            let mut bytes = SNAP.as_bytes().to_vec();
            let p = pos.min(bytes.len());
            let e = (p + len).min(bytes.len());
            bytes.splice(p..e, ins.bytes());
            if let Ok(t) = String::from_utf8(bytes) {
                if let Ok(parsed) = read("m.json", &t) {
                    let _ = write(&parsed);
                }
            }
        }
    }
}
