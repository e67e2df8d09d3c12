//! Two readers, one truth: the schema a real QEMU 10.0.2 binary reports with
//! `query-qmp-schema` must agree, structurally, with the model read from the
//! QAPI source it was built from (`../shared/qemu/10.0.2`).
//!
//! Starts `qemu-system-x86_64 -machine none` and `qemu-storage-daemon`,
//! speaks just enough QMP to fetch the schema, saves the reply to a temp
//! dir, reads it with the introspection reader and compares it with
//! [`compare_introspection`]. Skips (visibly) when a binary is missing,
//! unless `CI` is set.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qmp_schema::model::Entity;
use qmp_schema::{Model, compare_introspection, from_introspection_json};

/// A private temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let p =
            std::env::temp_dir().join(format!("qmp-schema-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills the child on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary_present(bin: &str) -> bool {
    match Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some() {
                panic!("{bin} not found, and CI is set");
            }
            eprintln!("SKIPPED: {bin} not found (install QEMU 10.0.2 to run this test)");
            false
        }
        Err(e) => panic!("cannot run {bin}: {e}"),
    }
}

struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    fn connect(path: &Path, child: &mut Child) -> Self {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!("QEMU exited ({status}) before its QMP socket came up");
                    }
                    assert!(Instant::now() < deadline, "QMP socket never came up: {e}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut q = Qmp {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        };
        let greeting = q.read_line();
        let g: serde_json::Value = serde_json::from_str(&greeting).expect("greeting is JSON");
        assert!(g.get("QMP").is_some(), "not a QMP greeting: {greeting}");
        q.execute("qmp_capabilities");
        q
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read from QMP");
        assert!(n > 0, "QMP connection closed");
        line
    }

    /// Sends a command and returns the raw text of its reply (skipping
    /// events).
    fn execute(&mut self, command: &str) -> String {
        writeln!(self.writer, "{{\"execute\": \"{command}\"}}").expect("write to QMP");
        loop {
            let line = self.read_line();
            let v: serde_json::Value = serde_json::from_str(&line).expect("reply is JSON");
            if v.get("event").is_some() {
                continue;
            }
            assert!(
                v.get("return").is_some(),
                "{command} failed: {}",
                line.trim()
            );
            return line;
        }
    }
}

/// Runs `argv` (with `{SOCK}` replaced by a socket path), fetches
/// `query-qmp-schema`, quits, and returns the saved reply's path and text.
fn fetch_schema(dir: &TempDir, argv: &[&str]) -> (PathBuf, String) {
    let sock = dir.0.join("qmp.sock");
    let args: Vec<String> = argv[1..]
        .iter()
        .map(|a| a.replace("{SOCK}", &sock.display().to_string()))
        .collect();
    let child = Command::new(argv[0])
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", argv[0]));
    let mut guard = Guard(child);
    let mut qmp = Qmp::connect(&sock, &mut guard.0);
    let reply = qmp.execute("query-qmp-schema");
    let _ = writeln!(qmp.writer, "{{\"execute\": \"quit\"}}");
    let path = dir.0.join("query-qmp-schema.json");
    std::fs::write(&path, &reply).expect("save reply");
    let text = std::fs::read_to_string(&path).expect("read reply back");
    (path, text)
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu/10.0.2")
}

fn snapshot_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../qmp-types/schema")
        .join(name)
}

fn read_reply(path: &Path, text: &str) -> Model {
    match from_introspection_json(&path.display().to_string(), text) {
        Ok(m) => m,
        Err(e) => panic!("introspection reader failed:\n{e}"),
    }
}

fn source_model(main: &Path) -> Model {
    match qmp_schema::load(main, &qmp_schema::ParseOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!("source reader failed on {}:\n{e}", main.display()),
    }
}

/// Names of the types reachable from the reply's commands and events.
fn reachable_types(m: &Model) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    for e in &m.entities {
        match e {
            Entity::Command(c) => todo.extend(c.arg_type.iter().chain(&c.ret_type).cloned()),
            Entity::Event(ev) => todo.extend(ev.arg_type.iter().cloned()),
            _ => {}
        }
    }
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        match m.get(&n) {
            Some(Entity::Array(a)) => todo.push(a.element.clone()),
            Some(Entity::Object(o)) => {
                todo.extend(o.members.iter().map(|x| x.ty.clone()));
                if let Some(v) = &o.variants {
                    todo.extend(v.variants.iter().map(|x| x.ty.clone()));
                }
            }
            Some(Entity::Alternate(a)) => {
                todo.extend(a.variants.variants.iter().map(|x| x.ty.clone()));
            }
            _ => {}
        }
    }
    seen
}

fn check(reply: &Model, source: &Model, what: &str) {
    let c = compare_introspection(reply, source);
    let mismatches = c.mismatches;
    let commands = reply.commands().count();
    let events = reply.events().count();
    eprintln!(
        "{what}: {commands} commands, {events} events, {} type pairs, {} masked names compared, {} mismatches",
        c.type_pairs,
        c.masked_names.len(),
        mismatches.len()
    );
    assert!(
        commands > 10 && events > 0,
        "{what}: suspiciously small reply"
    );
    // Every masked type reachable from a command or event was matched to
    // a source type (QEMU also lists types only its compiled-out commands
    // use; those are not reachable).
    let reachable = reachable_types(reply);
    let unmatched: Vec<&String> = reachable
        .iter()
        .filter(|n| {
            matches!(
                reply.get(n),
                Some(Entity::Enum(_) | Entity::Object(_) | Entity::Alternate(_))
            )
        })
        .filter(|n| !c.masked_names.contains_key(*n))
        .filter(|n| {
            // The empty object stands for "no arguments" and is only
            // compared as such.
            !reply
                .object(n)
                .is_some_and(|o| o.members.is_empty() && o.variants.is_none())
        })
        .collect();
    assert!(
        unmatched.is_empty(),
        "{what}: reachable reply types never compared: {unmatched:?}"
    );
    if !mismatches.is_empty() {
        let list: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
        panic!(
            "{what}: the reply disagrees with the source in {} places:\n{}",
            list.len(),
            list.join("\n")
        );
    }
}

#[test]
fn qemu_system_agrees_with_source() {
    if !binary_present("qemu-system-x86_64") {
        return;
    }
    let dir = TempDir::new("qsys");
    let (path, text) = fetch_schema(
        &dir,
        &[
            "qemu-system-x86_64",
            "-machine",
            "none",
            "-nodefaults",
            "-display",
            "none",
            "-qmp",
            "unix:{SOCK},server=on,wait=off",
        ],
    );
    let reply = read_reply(&path, &text);
    let mut source = source_model(&shared().join("qapi/qapi-schema.json"));
    check(&reply, &source, "qemu-system-x86_64");
    // The facts-only snapshot qmp-types embeds agrees as well.
    let snapshot = source_model(&snapshot_file("qemu-10.0.2-qmp.json"));
    check(&reply, &snapshot, "qemu-system-x86_64 vs snapshot");

    // The comparison is not vacuous: a changed source is caught.
    let status = source
        .commands()
        .find(|c| c.common.name == "query-status")
        .and_then(|c| c.ret_type.clone())
        .expect("query-status returns a type");
    for e in &mut source.entities {
        if let Entity::Object(o) = e
            && o.common.name == status
        {
            for m in o.members.iter_mut().chain(o.local_members.iter_mut()) {
                if m.name == "running" {
                    m.optional = !m.optional;
                }
            }
        }
    }
    let found: Vec<String> = compare_introspection(&reply, &source)
        .mismatches
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        found.iter().any(|m| m
            .contains("command 'query-status' > returns > struct 'StatusInfo' > member 'running'")),
        "{found:#?}"
    );
}

#[test]
fn storage_daemon_agrees_with_source() {
    if !binary_present("qemu-storage-daemon") {
        return;
    }
    let dir = TempDir::new("qsd");
    let (path, text) = fetch_schema(
        &dir,
        &[
            "qemu-storage-daemon",
            "--chardev",
            "socket,path={SOCK},server=on,wait=off,id=m",
            "--monitor",
            "chardev=m",
        ],
    );
    let reply = read_reply(&path, &text);
    let source = source_model(&shared().join("storage-daemon/qapi/qapi-schema.json"));
    check(&reply, &source, "qemu-storage-daemon");
    let snapshot = source_model(&snapshot_file("qemu-10.0.2-storage-daemon.json"));
    check(&reply, &snapshot, "qemu-storage-daemon vs snapshot");
}
