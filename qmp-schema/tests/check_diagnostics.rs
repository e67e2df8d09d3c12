//! Checker diagnostics as users see them: QEMU's plain form (with our
//! column) and the rich form with a source snippet.

use qmp_schema::{CheckOptions, Level, ParseOptions, check, parse_str};

/// Parses and checks `text` (named `schema.json`) at QEMU 10.0's level and
/// returns the plain and rich renderings of the error.
fn diagnose(text: &str) -> String {
    let opts = ParseOptions {
        level: Some(Level::new(10, 0)),
        ..ParseOptions::default()
    };
    let parsed = parse_str("schema.json", text, &opts).expect("parses");
    let err = check(parsed, &CheckOptions::default()).expect_err("must be rejected");
    format!("{}\n---\n{}", err.diagnostic, err.render_rich(false))
}

#[test]
fn unknown_member_type() {
    insta::assert_snapshot!(diagnose(
        "{ 'struct': 'Point',\n  'data': { 'x': 'int', 'y': 'Coord' } }\n"
    ));
}

#[test]
fn member_clash_with_base() {
    insta::assert_snapshot!(diagnose(
        "{ 'struct': 'Base', 'data': { 'name': 'str' } }\n{ 'struct': 'Sub', 'base': 'Base',\n  'data': { 'name': 'int' } }\n"
    ));
}

#[test]
fn bad_key() {
    insta::assert_snapshot!(diagnose(
        "{ 'command': 'frobnicate', 'data': {}, 'retruns': 'int' }\n"
    ));
}

#[test]
fn alternate_ambiguity() {
    insta::assert_snapshot!(diagnose(
        "{ 'alternate': 'Alt', 'data': { 'a': 'str', 'b': 'bool' } }\n"
    ));
}

#[test]
fn redefinition() {
    insta::assert_snapshot!(diagnose(
        "{ 'enum': 'Colour', 'data': [ 'red' ] }\n{ 'struct': 'Colour', 'data': {} }\n"
    ));
}

#[test]
fn undocumented_member() {
    insta::assert_snapshot!(diagnose(
        "{ 'pragma': { 'doc-required': true } }\n##\n# @Obj:\n#\n# @a: documented\n##\n{ 'struct': 'Obj', 'data': { 'a': 'int', 'b': 'int' } }\n"
    ));
}

#[test]
fn documented_member_missing() {
    insta::assert_snapshot!(diagnose(
        "##\n# @cmd:\n#\n# @arg: an argument\n#\n# @gone: no such argument\n##\n{ 'command': 'cmd', 'data': { 'arg': 'int' } }\n"
    ));
}
