//! Property tests: the parser never panics, spans stay in bounds, and
//! printed values read back unchanged.

use proptest::prelude::*;

use qmp_schema::ast::{Dict, Item, Key, Value, ValueKind};
use qmp_schema::{Level, ParseOptions, Span, parse_str};

/// Every known release (each has its own rules) and one newer.
fn levels() -> impl Strategy<Value = ParseOptions> {
    (0..=Level::RELEASES.len()).prop_map(|i| {
        ParseOptions::with_level(Level::RELEASES.get(i).copied().unwrap_or(Level::new(99, 0)))
    })
}

/// Pieces of QAPI-ish text, valid and not.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("\t".to_owned()),
        Just("\r".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
        Just("##\n".to_owned()),
        Just("# @Foo:\n".to_owned()),
        Just("# @a: text\n".to_owned()),
        Just("#   indented\n".to_owned()),
        Just("# Features:\n".to_owned()),
        Just("# Returns: x\n".to_owned()),
        Just("# Note: x\n".to_owned()),
        Just("# = Head\n".to_owned()),
        Just("#\n".to_owned()),
        Just("# comment\n".to_owned()),
        Just("'include'".to_owned()),
        Just("'pragma'".to_owned()),
        Just("'doc-required'".to_owned()),
        Just("'\\\\'".to_owned()),
        Just("'\\x'".to_owned()),
        "'[a-z*-]{0,6}'",
        "[ -~]{1,3}",
        any::<char>().prop_map(String::from),
    ]
}

fn check_span(text: &str, span: &Span) {
    let (s, e) = (span.start as usize, span.end as usize);
    assert!(s <= e && e <= text.len(), "span {span:?} out of bounds");
    assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
    let line = text[..s].matches('\n').count() as u32 + 1;
    assert_eq!(span.line, line, "line of {span:?}");
    let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    assert_eq!(span.col as usize, text[line_start..s].chars().count() + 1);
}

fn check_value(text: &str, v: &Value) {
    check_span(text, &v.span);
    match &v.kind {
        ValueKind::Dict(d) => {
            for (k, v) in &d.entries {
                check_span(text, &k.span);
                check_value(text, v);
            }
        }
        ValueKind::List(l) => l.iter().for_each(|v| check_value(text, v)),
        ValueKind::Str(_) => assert!(text[v.span.start as usize..].starts_with('\'')),
        ValueKind::Bool(_) | ValueKind::Null => {}
    }
}

/// Parses `text`; checks the invariants of the result or of the error.
fn parse_and_check(text: &str, opts: &ParseOptions) {
    // Line ends are normalised before parsing; spans refer to that text.
    let norm = text.replace("\r\n", "\n").replace('\r', "\n");
    match parse_str("fuzz.json", text, opts) {
        Ok(parsed) => {
            for item in &parsed.items {
                match item {
                    Item::Expr(e) => {
                        check_span(&norm, &e.span);
                        for (k, v) in &e.dict.entries {
                            check_span(&norm, &k.span);
                            check_value(&norm, v);
                        }
                    }
                    Item::Directive(d) => check_span(&norm, &d.span),
                    Item::Doc(d) => check_span(&norm, &d.span.unwrap()),
                }
            }
        }
        Err(e) => {
            let d = &e.diagnostic;
            assert!(!d.message.is_empty());
            if let Some(span) = d.span {
                check_span(&norm, &span);
            }
            let _ = e.render_rich(true);
        }
    }
}

/// A value tree of the QAPI language.
fn value() -> impl Strategy<Value = ValueKind> {
    let leaf = prop_oneof![
        "[ -&(-\\[\\]-~]{0,8}".prop_map(ValueKind::Str),
        any::<bool>().prop_map(ValueKind::Bool),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| { ValueKind::List(items.into_iter().map(bare).collect()) }),
            prop::collection::btree_map("[a-z][a-z0-9-]{0,6}", inner, 0..6).prop_map(|m| {
                ValueKind::Dict(Dict {
                    entries: m
                        .into_iter()
                        .map(|(k, v)| {
                            (
                                Key {
                                    name: k,
                                    span: NO_SPAN,
                                },
                                bare(v),
                            )
                        })
                        .collect(),
                })
            }),
        ]
    })
}

const NO_SPAN: Span = Span {
    file: qmp_schema::FileId(0),
    start: 0,
    end: 0,
    line: 0,
    col: 0,
};

fn bare(kind: ValueKind) -> Value {
    Value {
        kind,
        span: NO_SPAN,
    }
}

/// Prints a value as QAPI source, with some layout variety.
fn print(v: &ValueKind, out: &mut String, newline: bool) {
    let sep = if newline { ",\n  " } else { ", " };
    match v {
        ValueKind::Str(s) => {
            out.push('\'');
            out.push_str(&s.replace('\\', "\\\\"));
            out.push('\'');
        }
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Null => out.push_str("null"),
        ValueKind::List(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                print(&v.kind, out, !newline);
            }
            out.push(']');
        }
        ValueKind::Dict(d) => {
            out.push_str("{ ");
            for (i, (k, v)) in d.entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                out.push('\'');
                out.push_str(&k.name);
                out.push_str("': ");
                print(&v.kind, out, !newline);
            }
            out.push_str(" }");
        }
    }
}

/// A value with spans erased, for comparison.
fn erase(v: &Value) -> ValueKind {
    match &v.kind {
        ValueKind::List(l) => ValueKind::List(l.iter().map(|v| bare(erase(v))).collect()),
        ValueKind::Dict(d) => ValueKind::Dict(Dict {
            entries: d
                .entries
                .iter()
                .map(|(k, v)| {
                    (
                        Key {
                            name: k.name.clone(),
                            span: NO_SPAN,
                        },
                        bare(erase(v)),
                    )
                })
                .collect(),
        }),
        other => other.clone(),
    }
}

fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(pos, op, b) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = pos % bytes.len();
        match op % 4 {
            0 => {
                bytes.remove(i);
            }
            1 => bytes.insert(i, b"{}[]:,'#\\ \nabtf@="[b as usize % 17]),
            2 => {
                let end = (i + b as usize % 40).min(bytes.len());
                let chunk = bytes[i..end].to_vec();
                bytes.splice(i..i, chunk);
            }
            _ => bytes[i] = b,
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

const SAMPLE: &str = "# A sample schema\n\
{ 'pragma': { 'doc-required': true } }\n\
\n\
##\n\
# = Section\n\
##\n\
\n\
##\n\
# @Foo:\n\
#\n\
# A struct.\n\
#\n\
# @a: first member,\n\
#     continued\n\
#\n\
# @b: second\n\
#\n\
# Features:\n\
# @deprecated: don't\n\
#\n\
# Since: 1.0\n\
##\n\
{ 'struct': 'Foo', 'data': { 'a': 'int', '*b': ['str'] },\n\
  'features': [ 'deprecated' ], 'if': { 'all': [ 'CONFIG_A', 'CONFIG_B' ] } }\n\
\n\
##\n\
# @cmd:\n\
#\n\
# Returns: nothing much\n\
#\n\
# Errors:\n\
#     - never\n\
##\n\
{ 'command': 'cmd', 'data': 'Foo', 'boxed': true, 'returns': 'Foo' }\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(pieces in prop::collection::vec(piece(), 0..60), opts in levels()) {
        parse_and_check(&pieces.concat(), &opts);
    }

    #[test]
    fn mutated_schema_never_panics(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
        opts in levels(),
    ) {
        parse_and_check(&mutate(SAMPLE, &edits), &opts);
    }

    #[test]
    fn printed_values_read_back(entries in prop::collection::btree_map("[a-z]{1,6}", value(), 1..5)) {
        let dict = ValueKind::Dict(Dict {
            entries: entries
                .into_iter()
                .map(|(k, v)| (Key { name: k, span: NO_SPAN }, bare(v)))
                .collect(),
        });
        let mut text = String::new();
        print(&dict, &mut text, true);
        text.push('\n');
        let parsed = parse_str("rt.json", &text, &ParseOptions::with_level(Level::LATEST))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(parsed.items.len(), 1);
        let Item::Expr(e) = &parsed.items[0] else { panic!("not a definition") };
        let got = erase(&Value { kind: ValueKind::Dict(e.dict.clone()), span: NO_SPAN });
        prop_assert_eq!(got, dict);
        check_value(&text, &Value { kind: ValueKind::Dict(e.dict.clone()), span: e.span });
    }
}

#[test]
fn sample_parses() {
    let p = parse_str(
        "sample.json",
        SAMPLE,
        &ParseOptions::with_level(Level::LATEST),
    )
    .unwrap();
    assert_eq!(p.items.len(), 4);
    assert!(p.pragma.doc_required);
}
