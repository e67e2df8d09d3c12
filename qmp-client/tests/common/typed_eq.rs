//! "The typed outcome equals the raw one": how a reply decoded through the
//! bindings and encoded again is compared with the reply as received.
//! Shared by the live multi-release tests and the libvirt transcript replay.

use std::collections::BTreeSet;

use serde_json::Value;

/// The member names the bindings declare anywhere in the type of `command`'s
/// return value (following `$ref`s through the bindings' JSON Schema).
pub fn known_members(bindings_schema: &Value, command: &str) -> BTreeSet<String> {
    members_under(
        bindings_schema,
        &bindings_schema["commands"][command]["returns"],
    )
}

/// The member names the bindings declare anywhere in the type of `event`'s
/// data.
pub fn known_event_members(bindings_schema: &Value, event: &str) -> BTreeSet<String> {
    members_under(bindings_schema, &bindings_schema["events"][event]["data"])
}

/// The member names declared in the JSON Schema `root` and every
/// definition it reaches.
fn members_under(bindings_schema: &Value, root: &Value) -> BTreeSet<String> {
    fn walk<'a>(
        v: &'a Value,
        defs: &'a Value,
        seen: &mut BTreeSet<&'a str>,
        out: &mut BTreeSet<String>,
    ) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let name = r.rsplit('/').next().unwrap_or(r);
                    if seen.insert(name) {
                        walk(&defs[name], defs, seen, out);
                    }
                }
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                for (k, sub) in map {
                    if k != "$ref" && k != "const" && k != "enum" {
                        walk(sub, defs, seen, out);
                    }
                }
            }
            Value::Array(items) => {
                for i in items {
                    walk(i, defs, seen, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    let defs = &bindings_schema["$defs"];
    walk(root, defs, &mut BTreeSet::new(), &mut out);
    out
}

/// Whether the bindings' re-encoding `typed` of a reply is the raw `return`
/// value `raw`, modulo members the bindings do not know.
///
/// * objects: every member of `typed` is in `raw` and equivalent there (the
///   bindings add nothing, e.g. no invented defaults); a member of `raw`
///   missing from `typed` is allowed only when the bindings do not declare
///   that name anywhere in the command's return type (`known`): a newer
///   QEMU's addition, dropped by design (counted in `dropped`). A declared
///   member that vanishes is a defect.
/// * arrays: the same length, equivalent element by element (order kept).
/// * numbers: the same mathematical value (`0` and `0.0` are equal: QEMU
///   prints a `number` without a fraction when it has none).
/// * strings, booleans, null: identical.
///
/// Differences are appended to `issues` with their JSON path.
pub fn equivalent(
    raw: &Value,
    typed: &Value,
    known: &BTreeSet<String>,
    path: &str,
    issues: &mut Vec<String>,
    dropped: &mut BTreeSet<String>,
) {
    match (raw, typed) {
        (Value::Object(r), Value::Object(t)) => {
            for (k, tv) in t {
                match r.get(k) {
                    Some(rv) => equivalent(rv, tv, known, &format!("{path}.{k}"), issues, dropped),
                    None => issues.push(format!("{path}.{k}: added by the bindings ({tv})")),
                }
            }
            for k in r.keys().filter(|k| !t.contains_key(*k)) {
                if known.contains(k) {
                    issues.push(format!(
                        "{path}.{k}: a member the bindings know was dropped"
                    ));
                } else {
                    dropped.insert(k.clone());
                }
            }
        }
        (Value::Array(r), Value::Array(t)) => {
            if r.len() != t.len() {
                issues.push(format!(
                    "{path}: {} elements raw, {} typed",
                    r.len(),
                    t.len()
                ));
            } else {
                for (i, (rv, tv)) in r.iter().zip(t).enumerate() {
                    equivalent(rv, tv, known, &format!("{path}[{i}]"), issues, dropped);
                }
            }
        }
        (Value::Number(r), Value::Number(t)) => {
            let same = match (r.as_i64(), t.as_i64(), r.as_u64(), t.as_u64()) {
                (Some(a), Some(b), _, _) => a == b,
                (_, _, Some(a), Some(b)) => a == b,
                _ => r.as_f64() == t.as_f64(),
            };
            if !same {
                issues.push(format!("{path}: {r} raw, {t} typed"));
            }
        }
        (r, t) if r == t => {}
        (r, t) => issues.push(format!("{path}: {r} raw, {t} typed")),
    }
}
