//! The JSON Schemas of the generated bindings agree with the wire: every
//! reply, event and command argument object of the corpus captured from real
//! QEMU 10.0.2 processes (`tests/corpus/*.json`) validates against the
//! schema the bindings publish for it, checked by an independent validator
//! (the `jsonschema` crate).
//!
//! Two views of the same schemas are checked:
//! * the document (`SCHEMA_JSON`, what `qmp schema json-schema` prints):
//!   `commands.<name>.arguments` / `.returns` and `events.<name>.data`;
//! * the `schemars::JsonSchema` impls of `Request` and `Event` (which build
//!   their schemas from the document's `$defs` at run time).
//!
//! Nothing is skipped silently: an entry either validates or is listed in
//! [`EXPECTED_ERRORS`] with the reason.

use qmp_types::runtime::schemars;
use serde_json::{Value, json};

fn corpus(name: &str) -> Value {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Corpus entries whose reply is an error (so there is no `return` value to
/// validate): the capture runs every argument-less query, and these queries
/// fail on the captured machine configuration. The test checks that exactly
/// these entries are errors, with this error class.
const EXPECTED_ERRORS: &[(&str, &str, &str)] = &[
    // `-machine none`: no ACPI, no CPU hotplug, no USB bus, no virtio
    // devices, no balloon, no vmgenid device; SEV/SGX/hv-balloon are not
    // available on the capture host or machine.
    (
        "qemu-system-none.json",
        "query-acpi-ospm-status",
        "GenericError",
    ),
    ("qemu-system-none.json", "query-balloon", "DeviceNotActive"),
    (
        "qemu-system-none.json",
        "query-hotpluggable-cpus",
        "GenericError",
    ),
    (
        "qemu-system-none.json",
        "query-hv-balloon-status-report",
        "GenericError",
    ),
    (
        "qemu-system-none.json",
        "query-sev-capabilities",
        "GenericError",
    ),
    (
        "qemu-system-none.json",
        "query-sev-launch-measure",
        "GenericError",
    ),
    ("qemu-system-none.json", "query-sgx", "GenericError"),
    (
        "qemu-system-none.json",
        "query-sgx-capabilities",
        "GenericError",
    ),
    (
        "qemu-system-none.json",
        "query-vm-generation-id",
        "GenericError",
    ),
    ("qemu-system-none.json", "x-query-usb", "GenericError"),
    ("qemu-system-none.json", "x-query-virtio", "GenericError"),
    // q35 without a balloon, hv-balloon or vmgenid device, and without
    // SEV/SGX support.
    ("qemu-system-q35.json", "query-balloon", "DeviceNotActive"),
    (
        "qemu-system-q35.json",
        "query-hv-balloon-status-report",
        "GenericError",
    ),
    (
        "qemu-system-q35.json",
        "query-sev-capabilities",
        "GenericError",
    ),
    (
        "qemu-system-q35.json",
        "query-sev-launch-measure",
        "GenericError",
    ),
    ("qemu-system-q35.json", "query-sgx", "GenericError"),
    (
        "qemu-system-q35.json",
        "query-sgx-capabilities",
        "GenericError",
    ),
    (
        "qemu-system-q35.json",
        "query-vm-generation-id",
        "GenericError",
    ),
    // The scripted session deletes the USB device a second time on purpose.
    ("events-q35.json", "device_del", "DeviceNotFound"),
];

/// A schema document of one set of bindings (`SCHEMA_JSON`).
struct Doc {
    doc: Value,
}

impl Doc {
    fn new(text: &str) -> Doc {
        Doc {
            doc: serde_json::from_str(text).expect("SCHEMA_JSON is JSON"),
        }
    }

    fn defs(&self) -> &serde_json::Map<String, Value> {
        self.doc["$defs"].as_object().expect("$defs")
    }

    /// A standalone validator for `schema`, a part of the document: a root
    /// schema with `schema`'s members plus the definitions it refers to.
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let defs = self.defs();
        let mut used = serde_json::Map::new();
        let mut todo = Vec::new();
        refs(schema, &mut todo);
        while let Some(r) = todo.pop() {
            if used.contains_key(&r) {
                continue;
            }
            let d = defs
                .get(&r)
                .unwrap_or_else(|| panic!("dangling reference to `{r}`"));
            refs(d, &mut todo);
            used.insert(r, d.clone());
        }
        let mut root = schema.as_object().cloned().expect("schema is an object");
        root.insert("$schema".into(), self.doc["$schema"].clone());
        root.insert("$defs".into(), Value::Object(used));
        jsonschema::draft202012::new(&Value::Object(root))
            .unwrap_or_else(|e| panic!("invalid schema {schema}: {e}"))
    }

    fn command(&self, name: &str) -> Option<&Value> {
        self.doc["commands"].get(name)
    }

    fn event(&self, name: &str) -> Option<&Value> {
        self.doc["events"].get(name)
    }
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                let n = r
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("unexpected reference {r}"));
                out.push(n.to_owned());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Validates `value`, panicking with every validation error.
fn check(v: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\nvalue: {value}",
        errors.join("\n")
    );
}

/// The root schema a `schemars::JsonSchema` impl produces.
fn schemars_validator<T: schemars::JsonSchema>() -> jsonschema::Validator {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    jsonschema::draft202012::new(schema.as_value())
        .unwrap_or_else(|e| panic!("invalid schemars schema: {e}"))
}

#[derive(Default, Debug)]
struct Count {
    replies: usize,
    arguments: usize,
    events: usize,
    /// Indices of the [`EXPECTED_ERRORS`] entries seen.
    errors: Vec<usize>,
}

/// The validators of one set of bindings.
struct Bindings {
    doc: Doc,
    /// `schemars` schema of the bindings' `Request` enum.
    request: jsonschema::Validator,
    /// `schemars` schema of the bindings' `Event` enum.
    event: jsonschema::Validator,
}

/// Validates every entry (commands and events) of a corpus file.
fn check_entries(file: &str, entries: &[Value], b: &Bindings, count: &mut Count) {
    for e in entries {
        if let Some(ev) = e.get("event") {
            let name = ev["event"].as_str().expect("event name");
            let s = b
                .doc
                .event(name)
                .unwrap_or_else(|| panic!("{file}: event {name} not in the schema"));
            // Events without a payload carry no `data`: that must be what
            // their schema says (an object without required members).
            let data = ev.get("data").cloned().unwrap_or(json!({}));
            check(
                &b.doc.validator(&s["data"]),
                &data,
                &format!("{file}: {name} data"),
            );
            let wire = json!({"event": name, "data": data});
            check(&b.event, &wire, &format!("{file}: {name} (schemars Event)"));
            count.events += 1;
            continue;
        }
        let name = e["command"].as_str().expect("command or event");
        let s = b
            .doc
            .command(name)
            .unwrap_or_else(|| panic!("{file}: command {name} not in the schema"));
        let args = e.get("arguments").cloned().unwrap_or(json!({}));
        check(
            &b.doc.validator(&s["arguments"]),
            &args,
            &format!("{file}: {name} arguments"),
        );
        check(
            &b.request,
            &json!({"execute": name, "arguments": args}),
            &format!("{file}: {name} (schemars Request)"),
        );
        count.arguments += 1;
        let reply = &e["reply"];
        let expected = EXPECTED_ERRORS
            .iter()
            .position(|(f, c, _)| *f == file && *c == name);
        match (reply.get("error").and_then(|x| x.get("class")), expected) {
            (Some(class), Some(i)) => {
                assert_eq!(class, EXPECTED_ERRORS[i].2, "{file}: {name}: error class");
                count.errors.push(i);
            }
            (Some(class), None) => panic!("{file}: {name}: unexpected error reply {class}"),
            // A listed command may also succeed elsewhere in the log.
            (None, _) => {
                check(
                    &b.doc.validator(&s["returns"]),
                    reply,
                    &format!("{file}: {name} reply"),
                );
                count.replies += 1;
            }
        }
    }
}

fn qmp_bindings() -> Bindings {
    Bindings {
        doc: Doc::new(qmp_types::SCHEMA_JSON),
        request: schemars_validator::<qmp_types::Request>(),
        event: schemars_validator::<qmp_types::Event>(),
    }
}

#[test]
fn corpus_matches_the_json_schemas() {
    let qmp = qmp_bindings();
    let mut count = Count::default();
    for file in ["qemu-system-none.json", "qemu-system-q35.json"] {
        let c = corpus(file);
        check_entries(file, c["commands"].as_array().unwrap(), &qmp, &mut count);
    }
    let file = "events-q35.json";
    check_entries(
        file,
        corpus(file)["log"].as_array().unwrap(),
        &qmp,
        &mut count,
    );

    let qga = Bindings {
        doc: Doc::new(qmp_types::qga::SCHEMA_JSON),
        request: schemars_validator::<qmp_types::qga::Request>(),
        event: schemars_validator::<qmp_types::qga::Event>(),
    };
    let file = "qemu-ga.json";
    check_entries(
        file,
        corpus(file)["commands"].as_array().unwrap(),
        &qga,
        &mut count,
    );

    let qsd = Bindings {
        doc: Doc::new(qmp_types::storage_daemon::SCHEMA_JSON),
        request: schemars_validator::<qmp_types::storage_daemon::Request>(),
        event: schemars_validator::<qmp_types::storage_daemon::Event>(),
    };
    let file = "storage-daemon.json";
    check_entries(
        file,
        corpus(file)["commands"].as_array().unwrap(),
        &qsd,
        &mut count,
    );

    eprintln!(
        "validated {} replies, {} events, {} argument objects; {} error replies",
        count.replies,
        count.events,
        count.arguments,
        count.errors.len()
    );
    count.errors.sort_unstable();
    count.errors.dedup();
    assert_eq!(
        count.errors,
        (0..EXPECTED_ERRORS.len()).collect::<Vec<_>>(),
        "every allow-listed error reply is in the corpus"
    );
    assert!(count.replies >= 150, "only {} replies", count.replies);
    assert!(count.events >= 25, "only {} events", count.events);
    assert!(
        count.arguments >= 180,
        "only {} argument objects",
        count.arguments
    );
}

/// The validator bites: wrong member types, missing required members,
/// unknown enum values and wrong event payloads are rejected.
#[test]
fn mutated_wire_values_are_rejected() {
    let qmp = qmp_bindings();
    let status = qmp
        .doc
        .validator(&qmp.doc.command("query-status").unwrap()["returns"]);
    let good = json!({"running": true, "status": "running"});
    assert!(status.is_valid(&good));
    // A newer QEMU may add members: still valid.
    assert!(status.is_valid(&json!({"running": true, "status": "running", "new": 1})));
    for bad in [
        json!({"running": "yes", "status": "running"}),
        json!({"status": "running"}),
        json!({"running": true, "status": 3}),
        json!({"running": true, "status": "no-such-state"}),
        json!([]),
    ] {
        assert!(!status.is_valid(&bad), "{bad} passed");
    }

    // Nowhere do the schemas forbid unknown members (replies and events of a
    // newer QEMU may carry more than the schema knows).
    for text in [
        qmp_types::SCHEMA_JSON,
        qmp_types::qga::SCHEMA_JSON,
        qmp_types::storage_daemon::SCHEMA_JSON,
    ] {
        for key in ["additionalProperties", "unevaluatedProperties"] {
            assert!(!text.contains(key), "a schema uses `{key}`");
        }
    }

    // A captured reply, mutated: an integer member becomes a string.
    let c = corpus("qemu-system-q35.json");
    let cpus = c["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["command"] == "query-cpus-fast")
        .unwrap();
    let v = qmp
        .doc
        .validator(&qmp.doc.command("query-cpus-fast").unwrap()["returns"]);
    let mut reply = cpus["reply"].clone();
    assert!(v.is_valid(&reply));
    reply[0]["cpu-index"] = json!("0");
    assert!(!v.is_valid(&reply));
    reply[0]["cpu-index"] = json!(0.5);
    assert!(!v.is_valid(&reply), "a fraction is no `int`");
    reply[0].as_object_mut().unwrap().remove("cpu-index");
    assert!(!v.is_valid(&reply));

    // Arguments: a required member missing or of the wrong type.
    let args = qmp
        .doc
        .validator(&qmp.doc.command("device_del").unwrap()["arguments"]);
    assert!(args.is_valid(&json!({"id": "usb0"})));
    assert!(!args.is_valid(&json!({})));
    assert!(!args.is_valid(&json!({"id": 1})));
    assert!(
        !qmp.request
            .is_valid(&json!({"execute": "device_del", "arguments": {}}))
    );
    assert!(!qmp.request.is_valid(&json!({"execute": "no-such-command"})));

    // Events: a payload of the wrong shape.
    let deleted = qmp
        .doc
        .validator(&qmp.doc.event("DEVICE_DELETED").unwrap()["data"]);
    assert!(deleted.is_valid(&json!({"path": "/machine/peripheral/usb0"})));
    assert!(!deleted.is_valid(&json!({"device": "usb0"})));
    assert!(
        !qmp.event
            .is_valid(&json!({"event": "DEVICE_DELETED", "data": {"path": 7}}))
    );
}
