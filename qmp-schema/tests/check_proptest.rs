//! The checker never panics, whatever well-formed QAPI it is given: random
//! expressions built from the language's keys and typical names are either
//! accepted (and then print) or rejected with a located diagnostic.

use proptest::prelude::*;
use qmp_schema::{CheckOptions, Level, ParseOptions, check, dump_json, dump_qapi_test, parse_str};

#[derive(Debug, Clone)]
enum V {
    Str(String),
    Bool(bool),
    List(Vec<V>),
    Dict(Vec<(String, V)>),
}

fn render(v: &V, out: &mut String) {
    match v {
        V::Str(s) => {
            out.push('\'');
            out.push_str(s);
            out.push('\'');
        }
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::List(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(it, out);
            }
            out.push(']');
        }
        V::Dict(entries) => {
            out.push('{');
            let mut seen = std::collections::HashSet::new();
            let mut first = true;
            for (k, v) in entries {
                // QAPI rejects duplicate keys in the parser; keep the
                // checker busy instead.
                if !seen.insert(k.clone()) {
                    continue;
                }
                if !first {
                    out.push_str(", ");
                }
                first = false;
                out.push('\'');
                out.push_str(k);
                out.push_str("': ");
                render(v, out);
            }
            out.push('}');
        }
    }
}

const WORDS: &[&str] = &[
    "enum",
    "struct",
    "union",
    "alternate",
    "command",
    "event",
    "data",
    "base",
    "discriminator",
    "returns",
    "boxed",
    "if",
    "features",
    "name",
    "type",
    "prefix",
    "gen",
    "success-response",
    "allow-oob",
    "allow-preconfig",
    "coroutine",
    "all",
    "any",
    "not",
    "Foo",
    "Bar",
    "FooList",
    "Base",
    "foo",
    "bar",
    "*opt",
    "a-b",
    "a_b",
    "int",
    "str",
    "bool",
    "any",
    "null",
    "number",
    "q_empty",
    "QType",
    "EVT",
    "deprecated",
    "unstable",
    "CONFIG_A",
    "on",
    "1x",
    "x-y",
    "u",
    "has-z",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![word().prop_map(V::Str), any::<bool>().prop_map(V::Bool)];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(V::List),
            prop::collection::vec((word(), inner), 0..4).prop_map(V::Dict),
        ]
    })
}

fn expr() -> impl Strategy<Value = V> {
    (
        prop::sample::select(&["enum", "struct", "union", "alternate", "command", "event"][..]),
        word(),
        prop::collection::vec((word(), value()), 0..4),
    )
        .prop_map(|(meta, name, mut rest)| {
            rest.insert(0, (meta.to_owned(), V::Str(name)));
            V::Dict(rest)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn checker_never_panics(exprs in prop::collection::vec(expr(), 1..6), legacy in any::<bool>()) {
        let mut text = String::new();
        for e in &exprs {
            render(e, &mut text);
            text.push('\n');
        }
        let level = if legacy { Level::new(5, 1) } else { Level::new(10, 0) };
        let opts = ParseOptions { level: Some(level), ..ParseOptions::default() };
        let Ok(parsed) = parse_str("p.json", &text, &opts) else {
            return Ok(());
        };
        match check(parsed, &CheckOptions::default()) {
            Ok(model) => {
                prop_assert!(dump_qapi_test(&model).starts_with("module ./builtin\n"));
                prop_assert!(dump_json(&model).is_object());
            }
            Err(e) => {
                prop_assert!(e.diagnostic.line > 0, "{}", e.diagnostic);
                prop_assert!(!e.render_rich(false).is_empty());
            }
        }
    }
}
