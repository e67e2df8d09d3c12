//! Snapshots of parser diagnostics, plain and rich.

use qmp_schema::{Level, ParseOptions, parse_str};

fn both(text: &str) -> String {
    let e = parse_str("demo.json", text, &ParseOptions::with_level(Level::LATEST))
        .expect_err("the input is invalid");
    format!("{}\n---\n{}", e, e.render_rich(false))
}

#[test]
fn missing_colon() {
    insta::assert_snapshot!(both("{ 'enum' 'Foo', 'data': [] }\n"));
}

#[test]
fn stray_word() {
    insta::assert_snapshot!(both("{ 'command': 'foo',\n  'data': { 'a': int } }\n"));
}

#[test]
fn tab_and_unicode_before_error() {
    insta::assert_snapshot!(both("\t{ 'enum': 'Été' }\n"));
}

#[test]
fn doc_de_indent() {
    insta::assert_snapshot!(both(
        "##\n# @foo:\n# @a: line one\n#   line two\n# line three\n##\n{ 'command': 'foo' }\n"
    ));
}

#[test]
fn unexpected_end() {
    insta::assert_snapshot!(both("{ 'struct': 'Foo',\n  'data': { 'a': 'int'\n"));
}

#[test]
fn directive_error_spans_expression() {
    insta::assert_snapshot!(both("{ 'pragma': { 'doc-required': 'yes' } }\n"));
}

#[test]
fn colored() {
    let e = parse_str("demo.json", "{ 'a': 'b' 'c' }", &ParseOptions::default()).unwrap_err();
    insta::assert_snapshot!(e.render_rich(true));
}
