//! `qmp schema ...` end to end.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu")
}

fn have_shared() -> bool {
    let ok = shared().join("10.0.2/qapi/qapi-schema.json").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing in CI"
        );
        eprintln!("skipping: shared QEMU data not found");
    }
    ok
}

fn qmp() -> Command {
    Command::cargo_bin("qmp").expect("qmp binary")
}

fn tmp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qmp-schema-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn check_valid_schemas_exits_zero() {
    if !have_shared() {
        return;
    }
    qmp()
        .args(["schema", "check"])
        .arg(shared().join("10.0.2/qapi/qapi-schema.json"))
        .arg(shared().join("5.1.0/qga/qapi-schema.json"))
        .assert()
        .success()
        .stderr("");
}

#[test]
fn check_invalid_schema_prints_plain_diagnostic() {
    let p = tmp_file(
        "bad.json",
        "{ 'struct': 'Foo',\n  'data': { 'a': 'Missing' } }\n",
    );
    let out = qmp()
        .args(["schema", "check"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let name = p.display().to_string();
    assert!(err.contains(&format!("{name}: In struct 'Foo':")), "{err}");
    assert!(
        err.contains(&format!(
            "{name}:1:1: member 'a' uses unknown type 'Missing'"
        )),
        "{err}"
    );
}

#[test]
fn level_override_changes_rules() {
    // A simple union: legacy (5.1) rules accept it, 10.0 rules do not.
    let p = tmp_file(
        "simple.json",
        "{ 'union': 'Un', 'data': { 'a': 'int', 'b': 'str' } }\n",
    );
    qmp()
        .args(["schema", "check", "--level", "5.1"])
        .arg(&p)
        .assert()
        .success();
    let out = qmp()
        .args(["schema", "check", "--level", "10.0"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("union misses keys 'base', 'discriminator'"),
        "{err}"
    );
    qmp()
        .args(["schema", "check", "--level", "banana"])
        .arg(&p)
        .assert()
        .failure();
}

#[test]
fn qemu_version_flag_names_the_accepting_release() {
    // A `Note:` section: QEMU 9.0's rules accept it, 9.1's do not. Without
    // a VERSION file the newest rules apply, and the error says which
    // release accepts the schema.
    let p = tmp_file(
        "note.json",
        "##\n# @foo:\n#\n# Note: old style\n##\n{ 'command': 'foo' }\n",
    );
    let out = qmp()
        .args(["schema", "check"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "note: this schema is accepted by QEMU ≤ 9.0's rules; pass --qemu-version 9.0"
        ),
        "{err}"
    );
    qmp()
        .args(["schema", "check", "--qemu-version", "9.0"])
        .arg(&p)
        .assert()
        .success()
        .stderr("");
    // `qmp gen` takes the flag too.
    let dir = p.with_file_name("gen-out");
    qmp()
        .args(["gen", "--qemu-version", "9.0", "-o"])
        .arg(&dir)
        .arg(&p)
        .assert()
        .success();
}

#[test]
fn unknown_qemu_versions_are_refused_or_noted() {
    let p = tmp_file("plain.json", "{ 'struct': 'Foo', 'data': {} }\n");
    for bad in ["4.2", "7.5"] {
        let out = qmp()
            .args(["schema", "check", "--qemu-version", bad])
            .arg(&p)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("QEMU {bad} is not a release")),
            "{err}"
        );
    }
    let out = qmp()
        .args(["schema", "check", "--qemu-version", "99.0"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("newer than the newest QAPI language known here"),
        "{err}"
    );
}

#[test]
fn dump_qapi_test_matches_qemu_output() {
    if !have_shared() {
        return;
    }
    let dir = shared().join("10.0.2/tests/qapi-schema");
    let expected = std::fs::read_to_string(dir.join("qapi-schema-test.out")).expect("out");
    let out = qmp()
        .current_dir(&dir)
        .args([
            "schema",
            "dump",
            "--format",
            "qapi-test",
            "qapi-schema-test.json",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn dump_json_is_json() {
    let p = tmp_file(
        "ok.json",
        "{ 'enum': 'Colour', 'data': [ 'red', 'green' ] }\n{ 'command': 'paint', 'data': { 'colour': 'Colour' } }\n",
    );
    let out = qmp()
        .args(["schema", "dump"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let ents = v["entities"].as_array().expect("entities");
    let cmd = ents.iter().find(|e| e["name"] == "paint").expect("paint");
    assert_eq!(cmd["meta"], "command");
    assert_eq!(cmd["arg-type"], "q_obj_paint-arg");
}

#[test]
fn stats_counts_definitions() {
    let p = tmp_file(
        "stats.json",
        "{ 'enum': 'Enm', 'data': [ 'a' ] }\n{ 'struct': 'Str', 'data': { 'e': 'Enm' } }\n{ 'command': 'c', 'data': { 's': ['Str'] }, 'returns': 'Str' }\n{ 'event': 'EV' }\n",
    );
    let out = qmp()
        .args(["schema", "stats", "--json"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["commands"], 1);
    assert_eq!(v["events"], 1);
    assert_eq!(v["structs"], 1);
    assert_eq!(v["enums"], 1);
    assert_eq!(v["unions"], 0);
    assert_eq!(v["modules"], 1);
    let table = qmp()
        .args(["schema", "stats"])
        .arg(&p)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&table.stdout).contains("commands"));
}

#[test]
fn every_subcommand_help_has_an_example() {
    for sub in ["check", "dump", "stats", "extract"] {
        let out = qmp().args(["schema", sub, "--help"]).output().expect("run");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example:"), "{sub}: {text}");
        assert!(text.contains(&format!("qmp schema {sub}")), "{sub}: {text}");
    }
}

#[test]
fn introspection_replies_are_read() {
    let good = tmp_file(
        "reply-good.json",
        "[ {\"name\": \"x\", \"meta-type\": \"command\", \"arg-type\": \"0\", \"ret-type\": \"0\"},\n  {\"name\": \"0\", \"meta-type\": \"object\", \"members\": []} ]\n",
    );
    let out = qmp()
        .args(["schema", "check"])
        .arg(&good)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = tmp_file(
        "reply-bad.json",
        "[ {\"name\": \"x\", \"meta-type\": \"command\"} ]\n",
    );
    let out = qmp()
        .args(["schema", "check"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reply-bad.json:1:3: 'x' lacks member 'arg-type'"),
        "{err}"
    );
}

#[test]
fn newer_tree_is_read_by_the_newest_rules_with_a_note() {
    // A development tree of QEMU 11.1: VERSION 11.0.50.
    let root = std::env::temp_dir().join(format!("qmp-schema-cli-{}-newer", std::process::id()));
    std::fs::create_dir_all(root.join("qapi")).expect("temp dir");
    let p = root.join("qapi/qapi-schema.json");
    std::fs::write(&p, "{ 'struct': 'Foo', 'data': {} }\n").expect("write");
    std::fs::write(root.join("VERSION"), "11.0.50\n").expect("write VERSION");
    let out = qmp()
        .args(["schema", "check"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("QEMU 11.1 is newer than the newest QAPI language known here (10.2)"),
        "{err}"
    );
    // An old tree is refused, with the reason.
    std::fs::write(root.join("VERSION"), "4.2.0\n").expect("write VERSION");
    let out = qmp()
        .args(["schema", "check"])
        .arg(&p)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("QEMU 4.2 is not a release"), "{err}");
}
