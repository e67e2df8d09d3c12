//! Facts about the schema at run time: what each command and event is
//! ([`CommandInfo`], [`EventInfo`], tables written by the generator), and
//! the JSON Schema of generated types, built from definitions the
//! generator computed ([`json_schema_from_defs`]).

use serde_json::Value;

use super::{Empty, Null, Timestamp};

/// What the schema says about a command, for runtime introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// The wire name.
    pub name: &'static str,
    /// The release it appeared in (`Since:`), when known.
    pub since: Option<&'static str>,
    /// Its features (`deprecated`, `unstable`, ...).
    pub features: &'static [&'static str],
    /// Its `if` condition, rendered (`CONFIG_KVM`, `all(A, not(B))`).
    pub condition: Option<&'static str>,
    /// The Rust name of its argument type, if it takes arguments.
    pub arguments: Option<&'static str>,
    /// The Rust name of its return type, if it declares one.
    pub returns: Option<&'static str>,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `success-response`.
    pub success_response: bool,
    /// `allow-preconfig`.
    pub allow_preconfig: bool,
    /// For bindings that span several QEMU releases (the default ones do):
    /// the first spanned release that no longer has the command. It went
    /// away in that release or in one between it and the last spanned
    /// release that has it. `None` when the newest spanned release has it.
    pub removed_by: Option<&'static str>,
}

/// What the schema says about an event, for runtime introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventInfo {
    /// The wire name.
    pub name: &'static str,
    /// The release it appeared in (`Since:`), when known.
    pub since: Option<&'static str>,
    /// Its features.
    pub features: &'static [&'static str],
    /// Its `if` condition, rendered.
    pub condition: Option<&'static str>,
    /// The Rust name of its data type, if it carries data.
    pub data: Option<&'static str>,
    /// As [`CommandInfo::removed_by`]: the first spanned release that no
    /// longer has the event.
    pub removed_by: Option<&'static str>,
}

/// Builds a type's JSON Schema from a precomputed document of definitions
/// (`{"$defs": {...}}`, references written as `#/$defs/Name`), adding the
/// definitions it refers to to the generator.
pub fn json_schema_from_defs(
    defs: &Value,
    name: &str,
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    let all = defs.get("$defs").and_then(Value::as_object);
    let prefix = generator.settings().definitions_path.to_string();
    let prefix = format!("#{}/", prefix.trim_start_matches('#').trim_end_matches('/'));
    let Some(all) = all else {
        return schemars::Schema::default();
    };
    let mut todo = vec![name.to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    let mut own = None;
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        let Some(def) = all.get(&n) else { continue };
        let mut def = def.clone();
        rewrite_refs(&mut def, &prefix, &mut todo);
        if n == name {
            own = Some(def);
        } else if !generator.definitions().contains_key(&n) {
            generator.definitions_mut().insert(n, def);
        }
    }
    own.and_then(|v| schemars::Schema::try_from(v).ok())
        .unwrap_or_default()
}

fn rewrite_refs(v: &mut Value, prefix: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(n) = r.strip_prefix("#/$defs/")
            {
                found.push(n.to_owned());
                *r = format!("{prefix}{n}");
            }
            for (_, x) in map.iter_mut() {
                rewrite_refs(x, prefix, found);
            }
        }
        Value::Array(items) => {
            for x in items {
                rewrite_refs(x, prefix, found);
            }
        }
        _ => {}
    }
}

macro_rules! static_schema {
    ($t:ty, $name:literal, $schema:expr) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::Schema::try_from($schema).unwrap_or_default()
            }
        }
    };
}
static_schema!(Empty, "Empty", serde_json::json!({"type": "object"}));
static_schema!(Null, "Null", serde_json::json!({"type": "null"}));
static_schema!(
    Timestamp,
    "Timestamp",
    serde_json::json!({
        "type": "object",
        "properties": {
            "seconds": {"type": "integer"},
            "microseconds": {"type": "integer"}
        },
        "required": ["seconds", "microseconds"]
    })
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_schema_takes_the_definitions_it_refers_to_and_no_others() {
        let defs = json!({"$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "array", "items": {"$ref": "#/$defs/C"}},
            "C": {"type": "string"},
            "Unused": {"type": "null"},
        }});
        let mut generator = schemars::SchemaGenerator::default();
        let schema = json_schema_from_defs(&defs, "A", &mut generator);
        let prefix = generator
            .settings()
            .definitions_path
            .trim_start_matches('#')
            .to_owned();
        let b_ref = format!("#{}/B", prefix.trim_end_matches('/'));
        assert_eq!(schema.as_value()["properties"]["b"]["$ref"], json!(b_ref));
        let mut names: Vec<_> = generator.definitions().keys().cloned().collect();
        names.sort();
        assert_eq!(names, ["B", "C"]);
        assert!(
            generator.definitions()["B"]["items"]["$ref"]
                .as_str()
                .unwrap()
                .ends_with("/C")
        );
    }

    #[test]
    fn an_unknown_name_gives_the_empty_schema() {
        let mut generator = schemars::SchemaGenerator::default();
        let schema = json_schema_from_defs(&json!({"$defs": {}}), "Nope", &mut generator);
        assert_eq!(schema, schemars::Schema::default());
        let schema = json_schema_from_defs(&json!({}), "Nope", &mut generator);
        assert_eq!(schema, schemars::Schema::default());
        assert!(generator.definitions().is_empty());
    }
}
