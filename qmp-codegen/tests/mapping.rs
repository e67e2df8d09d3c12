//! The mapping contract, pinned with insta snapshots of the generated code
//! for one small schema per construct (`tests/snapshots/`).

use std::path::PathBuf;

use qmp_codegen::Builder;
use qmp_codegen::qmp_schema::{Level, ParseOptions};

/// A fresh directory under the system temp dir holding `files` (paths
/// relative to it); the caller removes it.
fn temp_tree(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qmp-codegen-{tag}-{}", std::process::id()));
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    dir
}

/// A schema with one empty struct.
const ALPHA: &str = "{ 'pragma': { 'doc-required': false } }\n{ 'struct': 'Alpha', 'data': {} }\n";

fn generate_with(
    name: &str,
    schema: &str,
    opts: ParseOptions,
    setup: impl FnOnce(&mut Builder),
) -> String {
    let file = format!("{name}.json");
    let dir = temp_tree(&format!("mapping-{name}"), &[(&file, schema)]);
    let path = dir.join(&file);
    let mut b = Builder::new();
    b.schema(&path).parse_options(opts).cargo_directives(false);
    setup(&mut b);
    let out = b
        .generate_output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    std::fs::remove_dir_all(&dir).ok();
    // The header names the (temporary) schema path: drop it.
    out.code
        .split_once("\n\n")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or(out.code)
}

fn generate(name: &str, schema: &str) -> String {
    generate_with(name, schema, ParseOptions::default(), |_| {})
}

#[test]
fn struct_with_base_optional_array_any() {
    insta::assert_snapshot!(generate(
        "struct",
        r#"
##
# @Base:
#
# A base.
#
# @id: the identifier
#
# Since: 1.0
##
{ 'struct': 'Base', 'data': { 'id': 'str' } }

##
# @Thing:
#
# A thing with all kinds of members.
#
# @count: how many
#
# @tags: its tags
#
# @blob: anything
#
# @ratio: a float
#
# Since: 2.0
##
{ 'struct': 'Thing', 'base': 'Base',
  'data': { 'count': 'uint8', '*tags': ['str'], '*blob': 'any', 'ratio': 'number' } }
"#
    ));
}

#[test]
fn enum_with_fallback() {
    insta::assert_snapshot!(generate(
        "enum",
        r#"
##
# @Color:
#
# Colours.
#
# @red: red
#
# @light-blue: light blue
#
# @2d: a value starting with a digit
##
{ 'enum': 'Color', 'data': [ 'red', 'light-blue', '2d' ] }
"#
    ));
}

#[test]
fn flat_union_with_fallback_branch() {
    insta::assert_snapshot!(generate(
        "union",
        r#"
##
# @Kind:
#
# Kinds.
#
# @file: a file
#
# @null: nothing
##
{ 'enum': 'Kind', 'data': [ 'file', 'null' ] }

##
# @FileOpts:
#
# File options.
#
# @path: the path
##
{ 'struct': 'FileOpts', 'data': { 'path': 'str' } }

##
# @Opts:
#
# Options by kind.
#
# @driver: which kind
#
# @node-name: the node
##
{ 'union': 'Opts', 'base': { 'driver': 'Kind', '*node-name': 'str' },
  'discriminator': 'driver', 'data': { 'file': 'FileOpts' } }
"#
    ));
}

#[test]
fn legacy_simple_union() {
    insta::assert_snapshot!(generate_with(
        "simple-union",
        r#"
{ 'struct': 'Inner', 'data': { 'x': 'int' } }
{ 'union': 'Simple', 'data': { 'inner': 'Inner', 'text': 'str' } }
"#,
        ParseOptions::with_level(Level::new(5, 1)),
        |_| {}
    ));
}

#[test]
fn alternate_by_json_type() {
    insta::assert_snapshot!(generate(
        "alternate",
        r#"
##
# @Ref:
#
# A reference or a definition.
#
# @definition: the definition
#
# @reference: a name
#
# @none: no reference
##
{ 'alternate': 'Ref',
  'data': { 'definition': 'Def', 'reference': 'str', 'none': 'null' } }

##
# @Def:
#
# A definition.
#
# @size: its size
#
# @backing: its backing reference
##
{ 'struct': 'Def', 'data': { 'size': 'size', '*backing': 'Ref' } }
"#
    ));
}

#[test]
fn commands_and_client_methods() {
    insta::assert_snapshot!(generate(
        "commands",
        r#"
##
# @Info:
#
# Information.
#
# @running: whether it runs
##
{ 'struct': 'Info', 'data': { 'running': 'bool' } }

##
# @query-info:
#
# Query information.
#
# Returns: the information
#
# Since: 0.14
#
# .. qmp-example::
#
#     -> { "execute": "query-info" }
#     <- { "return": { "running": true } }
##
{ 'command': 'query-info', 'returns': 'Info', 'allow-preconfig': true }

##
# @set-link:
#
# Set a link.
#
# @name: the link
#
# @up: whether it is up
##
{ 'command': 'set-link', 'data': { 'name': 'str', 'up': 'bool' } }

##
# @take-info:
#
# Takes a boxed argument.
##
{ 'command': 'take-info', 'data': 'Info', 'boxed': true, 'allow-oob': true }

##
# @BackupJob:
#
# A backup job's arguments.
#
# @device: the source
#
# @speed: bytes per second
##
{ 'struct': 'BackupJob', 'data': { 'device': 'str', '*speed': 'int' } }

##
# @backup-job:
#
# Starts a backup job: its argument type has the command's
# name, and is the command.
##
{ 'command': 'backup-job', 'data': 'BackupJob', 'boxed': true }
"#
    ));
}

#[test]
fn events() {
    insta::assert_snapshot!(generate(
        "events",
        r#"
##
# @STOP:
#
# Stopped.
##
{ 'event': 'STOP' }

##
# @BLOCK_DONE:
#
# A job is done.
#
# @device: the device
#
# @len: bytes done
##
{ 'event': 'BLOCK_DONE', 'data': { 'device': 'str', '*len': 'int' } }
"#
    ));
}

#[test]
fn names_keywords_clashes_and_downstream() {
    insta::assert_snapshot!(generate_with(
        "names",
        r#"
{ 'pragma': { 'member-name-exceptions': [ 'Keywords', 'Dashes' ], 'doc-required': false } }
{ 'struct': 'Keywords',
  'data': { 'a_b': 'int', 'type': 'str', 'match': 'bool', 'self': 'int', 'gen': 'int' } }
{ 'struct': 'Dashes', 'data': { 'a-b': 'int', 'nvme-io_uring': 'int' } }
{ 'enum': '__org.qemu_x-Enum', 'data': [ '__org.qemu_x-value', 'static', '144' ] }
{ 'struct': 'String', 'data': { 'str': 'str' } }
"#,
        ParseOptions::default(),
        |_| {}
    ));
}

#[test]
fn features_deprecated_unstable_and_conditions() {
    insta::assert_snapshot!(generate_with(
        "features",
        r#"
{ 'pragma': { 'doc-required': false } }
{ 'struct': 'Opts',
  'data': { 'old': { 'type': 'int', 'features': [ 'deprecated' ] },
            '*new': { 'type': 'int', 'features': [ 'unstable' ] } },
  'if': { 'all': [ 'CONFIG_A', { 'not': 'CONFIG_B' } ] } }
{ 'command': 'old-cmd', 'features': [ 'deprecated' ] }
{ 'command': 'x-new-cmd', 'data': 'Opts', 'features': [ 'unstable' ] }
{ 'enum': 'Cap', 'data': [ 'events', { 'name': 'x-colo', 'features': [ 'unstable' ] } ] }
{ 'struct': 'Needs', 'data': { 'x-must': { 'type': 'int', 'features': [ 'unstable' ] } } }
"#,
        ParseOptions::default(),
        |b| {
            b.unstable_feature(Some("unstable"))
                .type_attribute("Opts", "#[derive(Default)]");
        }
    ));
}

#[test]
fn introspection_reply_gets_readable_names() {
    // A tiny query-qmp-schema reply with masked type names.
    let reply = r#"{"return": [
        {"name": "query-thing", "meta-type": "command", "arg-type": "0", "ret-type": "1"},
        {"name": "0", "meta-type": "object", "members": []},
        {"name": "1", "meta-type": "object", "members": [
            {"name": "state", "type": "2"}, {"name": "sizes", "type": "[int]", "default": null}]},
        {"name": "2", "meta-type": "enum", "values": ["on", "off"], "members": [{"name": "on"}, {"name": "off"}]},
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
        {"name": "[int]", "meta-type": "array", "element-type": "int"},
        {"name": "THING_CHANGED", "meta-type": "event", "arg-type": "3"},
        {"name": "3", "meta-type": "object", "members": [{"name": "state", "type": "2"}]}
    ]}"#;
    insta::assert_snapshot!(generate("introspection", reply));
}

#[test]
fn keep_selects_definitions_and_their_dependencies() {
    let code = generate_with(
        "keep",
        r#"
{ 'pragma': { 'doc-required': false } }
{ 'struct': 'Alpha', 'data': { 'b': 'Beta' } }
{ 'struct': 'Beta', 'data': { 'x': 'int' } }
{ 'struct': 'Unused', 'data': { 'y': 'int' } }
{ 'command': 'use-a', 'data': { 'a': 'Alpha' } }
{ 'command': 'other' }
"#,
        ParseOptions::default(),
        |b| {
            b.keep("use-a");
        },
    );
    assert!(code.contains("pub struct UseA"));
    assert!(code.contains("pub struct Alpha"));
    assert!(code.contains("pub struct Beta"));
    assert!(!code.contains("pub struct Unused"));
    assert!(!code.contains("pub struct Other"));
}

#[test]
fn bad_user_attribute_is_reported() {
    let dir = temp_tree("attr", &[("s.json", ALPHA)]);
    let path = dir.join("s.json");
    let err = Builder::new()
        .schema(&path)
        .type_attribute("Alpha", "#[derive(Hash")
        .generate_output()
        .unwrap_err();
    assert!(matches!(err, qmp_codegen::Error::Attribute { .. }), "{err}");
    let err = Builder::new()
        .schema(&path)
        .type_attribute("Nonesuch", "#[derive(Hash)]")
        .generate_output()
        .unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    assert!(err.to_string().contains("no definition"), "{err}");
}

#[test]
fn schema_errors_carry_their_location() {
    let dir = temp_tree(
        "err",
        &[(
            "bad.json",
            "{ 'pragma': { 'doc-required': false } }\n{ 'struct': 'Alpha', 'data': { 'x': 'Nope' } }\n",
        )],
    );
    let path = dir.join("bad.json");
    let err = Builder::new().schema(&path).generate_output().unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    let text = err.to_string();
    assert!(matches!(err, qmp_codegen::Error::Schema(_)));
    assert!(text.contains("bad.json:2"), "{text}");
}

#[test]
fn writes_files_only_when_changed() {
    let dir = temp_tree("write", &[("s.json", ALPHA)]);
    let path = dir.join("s.json");
    let out = dir.join("out");
    let run = || {
        Builder::new()
            .schema(&path)
            .out_dir(&out)
            .cargo_directives(false)
            .generate()
            .unwrap();
        std::fs::metadata(out.join("qmp.rs"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let first = run();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = run();
    assert_eq!(first, second, "unchanged output must not be rewritten");
    assert!(
        std::fs::read_to_string(out.join("qmp.rs"))
            .unwrap()
            .starts_with("// @generated by qmp-codegen")
    );
    assert!(out.join("qmp.schema.json").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn json_schema_without_commands_or_events_stays_valid() {
    // `oneOf` must hold at least one schema: a schema without events (like
    // the guest agent's) gets an `Event` that matches nothing instead.
    let dir = temp_tree("nocmd", &[("s.json", ALPHA)]);
    let path = dir.join("s.json");
    let out = Builder::new()
        .schema(&path)
        .cargo_directives(false)
        .generate_output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let doc: serde_json::Value = serde_json::from_str(&out.json_schema).unwrap();
    assert_eq!(doc["$defs"]["Event"], serde_json::json!({"not": {}}));
    assert_eq!(doc["$defs"]["Request"], serde_json::json!({"not": {}}));
    assert_eq!(doc["$defs"]["Alpha"]["type"], "object");
}

#[test]
fn inputs_list_every_file_read_including_version() {
    let dir = temp_tree(
        "inputs",
        &[
            ("VERSION", "9.2.0\n"),
            (
                "qapi/qapi-schema.json",
                "{ 'pragma': { 'doc-required': false } }\n{ 'include': 'sub.json' }\n",
            ),
            ("qapi/sub.json", "{ 'struct': 'Alpha', 'data': {} }\n"),
        ],
    );
    let qapi = dir.join("qapi");
    let names = |b: &mut Builder| -> Vec<String> {
        let out = b.cargo_directives(false).generate_output().unwrap();
        let mut n: Vec<String> = out
            .inputs
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    // The level comes from VERSION, so a change to it must rerun the build.
    assert_eq!(
        names(Builder::new().schema(qapi.join("qapi-schema.json"))),
        ["VERSION", "qapi-schema.json", "sub.json"]
    );
    // With an explicit level, VERSION is not read.
    assert_eq!(
        names(
            Builder::new()
                .schema(qapi.join("qapi-schema.json"))
                .parse_options(ParseOptions::with_level(Level::LATEST))
        ),
        ["qapi-schema.json", "sub.json"]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A member only some targets have (`deprecated-props` is `TARGET_S390X`).
const CONDITIONAL: &str = "{ 'pragma': { 'doc-required': false } }
{ 'struct': 'CpuModelInfo',
  'data': { 'name': 'str',
            'deprecated-props': { 'type': ['str'], 'if': 'TARGET_S390X' },
            '*props': 'any' } }
{ 'enum': 'CpuArch', 'data': [ 'x86', { 'name': 's390', 'if': 'TARGET_S390X' } ] }
{ 'command': 'query-cpu-model', 'returns': 'CpuModelInfo' }
";

#[test]
fn conditional_members_are_optional_for_every_build() {
    insta::assert_snapshot!(generate("conditions", CONDITIONAL));
}

#[test]
fn conditional_members_keep_their_required_ness_on_request() {
    let code = generate_with(
        "conditions-keep",
        CONDITIONAL,
        ParseOptions::default(),
        |b| {
            b.target_conditions(qmp_codegen::Conditions::Keep);
        },
    );
    assert!(
        code.contains("pub deprecated_props: Vec<String>,"),
        "{code}"
    );
    assert!(!code.contains("Optional in these bindings"), "{code}");
}

const NEWER: &str = "{ 'pragma': { 'doc-required': false } }
{ 'enum': 'Mode', 'data': [ 'fast', 'slow' ] }
{ 'struct': 'Machine', 'data': { 'name': 'str', 'acpi': 'bool', 'mode': 'Mode' } }
{ 'command': 'query-machine', 'returns': 'Machine' }
{ 'command': 'query-new', 'returns': 'Machine' }
";
const OLDER: &str = "{ 'pragma': { 'doc-required': false } }
{ 'enum': 'Mode', 'data': [ 'fast', 'medium' ] }
{ 'struct': 'Machine', 'data': { 'name': 'str', 'mode': 'Mode' } }
{ 'command': 'query-machine', 'returns': 'Machine' }
{ 'command': 'query-old', 'returns': 'Machine' }
";

fn spanned(tag: &str, setup: impl FnOnce(&mut Builder)) -> Result<String, qmp_codegen::Error> {
    let dir = temp_tree(
        &format!("span-{tag}"),
        &[("new/schema.json", NEWER), ("old/schema.json", OLDER)],
    );
    let mut b = Builder::new();
    b.schema(dir.join("new/schema.json"))
        .parse_options(ParseOptions::with_level(Level::LATEST))
        .cargo_directives(false);
    setup(&mut b);
    let out = b.generate_output();
    std::fs::remove_dir_all(&dir).ok();
    let out = out?;
    assert!(out.inputs.iter().any(|p| p.ends_with("schema.json")));
    Ok(out
        .code
        .split_once("\n\n")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or(out.code))
}

#[test]
fn spanning_releases() {
    let code = spanned("both", |b| {
        b.schema_release("10.0.2".parse().unwrap())
            .span_release("5.2.0".parse().unwrap(), std::env::temp_dir().join("x"));
    });
    // The older schema path above does not exist: a clear error.
    assert!(code.is_err());
    let dir_code = {
        let dir = temp_tree(
            "span-ok",
            &[("new/schema.json", NEWER), ("old/schema.json", OLDER)],
        );
        let mut b = Builder::new();
        b.schema(dir.join("new/schema.json"))
            .parse_options(ParseOptions::with_level(Level::LATEST))
            .cargo_directives(false)
            .schema_release("10.0.2".parse().unwrap())
            .span_release("5.2.0".parse().unwrap(), dir.join("old/schema.json"));
        let out = b.generate_output().unwrap();
        std::fs::remove_dir_all(&dir).ok();
        out.code.split_once("\n\n").unwrap().1.to_owned()
    };
    insta::assert_snapshot!(dir_code);
}

#[test]
fn oldest_release_narrows_the_span() {
    let dir = temp_tree("span-narrow", &[("old/schema.json", OLDER)]);
    let old = dir.join("old/schema.json");
    let code = spanned("narrow", |b| {
        b.schema_release("10.0.2".parse().unwrap())
            .span_release("5.2.0".parse().unwrap(), &old)
            .oldest_release("9.0".parse().unwrap());
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(code.contains("pub acpi: bool,"), "{code}");
    assert!(!code.contains("QueryOld"), "{code}");
    // Without any older release: the schema as it is.
    let code = spanned("none", |_| {}).unwrap();
    assert!(code.contains("pub acpi: bool,"));
    let err = spanned("no-release", |b| {
        b.span_release("5.2.0".parse().unwrap(), "old/schema.json");
    })
    .unwrap_err();
    assert!(matches!(err, qmp_codegen::Error::NoSchemaRelease), "{err}");
}

#[test]
fn runtime_path_is_a_checked_rust_path() {
    let code = generate_with("runtime", ALPHA, ParseOptions::default(), |b| {
        b.runtime_path("crate::reexported::runtime");
    });
    assert!(
        code.starts_with("use crate::reexported::runtime as rt;"),
        "{}",
        &code[..80.min(code.len())]
    );
    let dir = temp_tree("runtime-bad", &[("a.json", ALPHA)]);
    let err = Builder::new()
        .schema(dir.join("a.json"))
        .runtime_path("not a path")
        .cargo_directives(false)
        .generate_output()
        .unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        matches!(&err, qmp_codegen::Error::RuntimePath { path, .. } if path == "not a path"),
        "{err}"
    );
}
