//! `help` inside the shell.

use std::fmt::Write;

use qmp_schema::model::{Entity, Feature};
use serde_json::{Map, Value};

use super::complete::BUILTINS;
use super::parse::{build_object, parse_assignment};
use super::schema::Schema;

/// The text for `help` with the words after it.
pub fn help(schema: Option<&Schema>, words: &[&str]) -> String {
    let Some(schema) = schema else {
        return "No schema from the server: commands cannot be listed. Lines are \
                `COMMAND key=value...` or raw JSON.\n"
            .to_owned();
    };
    match words.split_first() {
        None => list(schema),
        Some((cmd, rest)) => command(schema, cmd, rest),
    }
}

fn list(schema: &Schema) -> String {
    let names = schema.command_names();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0) + 2;
    let cols = (100 / width).max(1);
    let mut out = format!(
        "{} commands (`help COMMAND` for its arguments):\n",
        names.len()
    );
    for row in names.chunks(cols) {
        let line: String = row.iter().map(|n| format!("{n:width$}")).collect();
        let _ = writeln!(out, "  {}", line.trim_end());
    }
    let _ = writeln!(out, "Shell: {}", BUILTINS.join(" "));
    out
}

fn features(f: &[Feature]) -> String {
    if f.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        format!(" [{}]", names.join(", "))
    }
}

fn command(schema: &Schema, name: &str, rest: &[&str]) -> String {
    let Some(cmd) = schema.command(name) else {
        if let Some(Entity::Event(ev)) = schema.model().get(name) {
            return event(schema, ev);
        }
        return format!("unknown command '{name}' (`help` lists the commands)\n");
    };
    let mut out = format!("{name}{}\n", features(&cmd.common.features));
    // The server's schema has no docs; the bindings' metadata (from the
    // schema they were generated from) knows when a command appeared.
    let since = cmd.common.since.as_deref().or_else(|| {
        qmp_types::COMMANDS
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.since)
    });
    if let Some(since) = since {
        let _ = writeln!(out, "  since QEMU {since}");
    }
    if cmd.allow_oob {
        let _ = writeln!(out, "  may run out-of-band (exec-oob)");
    }
    let given: Map<String, Value> = rest
        .iter()
        .filter_map(|w| parse_assignment(w).ok())
        .collect::<Vec<_>>()
        .pipe(|a| build_object(&a).unwrap_or_default());
    match &cmd.arg_type {
        Some(ty) if !schema.members(ty, &given).is_empty() || is_union(schema, ty) => {
            let _ = writeln!(out, "arguments:");
            members(schema, ty, &given, "", 0, &mut out);
        }
        _ => {
            let _ = writeln!(out, "no arguments");
        }
    }
    if let Some(ret) = &cmd.ret_type {
        let _ = writeln!(out, "returns: {}", schema.describe(ret));
    }
    out
}

fn event(schema: &Schema, ev: &qmp_schema::model::Event) -> String {
    let name = &ev.common.name;
    let mut out = format!("event {name}{}\n", features(&ev.common.features));
    let since = ev.common.since.as_deref().or_else(|| {
        qmp_types::EVENTS
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.since)
    });
    if let Some(since) = since {
        let _ = writeln!(out, "  since QEMU {since}");
    }
    match &ev.arg_type {
        Some(ty) if !schema.members(ty, &Map::new()).is_empty() => {
            let _ = writeln!(out, "data:");
            members(schema, ty, &Map::new(), "", 0, &mut out);
        }
        _ => {
            let _ = writeln!(out, "no data");
        }
    }
    out
}

fn is_union(schema: &Schema, ty: &str) -> bool {
    matches!(schema.model().get(ty), Some(Entity::Object(o)) if o.variants.is_some())
}

/// Lists the members of `ty` (dotted below `prefix`), descending into
/// objects; for a union whose discriminator is not given, lists the base
/// members and the discriminator values.
fn members(
    schema: &Schema,
    ty: &str,
    given: &Map<String, Value>,
    prefix: &str,
    depth: usize,
    out: &mut String,
) {
    let indent = "  ".repeat(depth + 1);
    let union = match schema.model().get(ty) {
        Some(Entity::Object(o)) => o.variants.as_ref(),
        _ => None,
    };
    let tag_given = union.is_some_and(|v| given.contains_key(&v.tag));
    let list = if union.is_some() && !tag_given {
        match schema.model().get(ty) {
            Some(Entity::Object(o)) => o.members.iter().collect(),
            _ => Vec::new(),
        }
    } else {
        schema.members(ty, given)
    };
    for m in list {
        let key = if prefix.is_empty() {
            m.name.clone()
        } else {
            format!("{prefix}.{}", m.name)
        };
        let opt = if m.optional { " (optional)" } else { "" };
        let mut line = format!(
            "{indent}{key}: {}{opt}{}",
            schema.describe(&m.ty),
            features(&m.features)
        );
        let values = schema.value_candidates(&m.ty);
        let values = if values == ["true", "false"] {
            Vec::new()
        } else {
            values
        };
        if !values.is_empty() && values.len() <= 24 {
            let _ = write!(line, " = {}", values.join(" | "));
        } else if !values.is_empty() {
            let _ = write!(line, " ({} values, Tab completes them)", values.len());
        }
        let _ = writeln!(out, "{line}");
        if let Some(doc) = &m.doc {
            let _ = writeln!(out, "{indent}    {}", doc.lines().next().unwrap_or(""));
        }
        if schema.is_object(&m.ty) && depth < 2 {
            let sub = match given.get(&m.name) {
                Some(Value::Object(o)) => o.clone(),
                _ => Map::new(),
            };
            members(schema, &m.ty, &sub, &key, depth + 1, out);
        }
    }
    if let Some(v) = union
        && !tag_given
    {
        let tag = if prefix.is_empty() {
            v.tag.clone()
        } else {
            format!("{prefix}.{}", v.tag)
        };
        let _ = writeln!(
            out,
            "{indent}(more arguments depend on '{tag}'; e.g. `help ... {tag}={}`)",
            v.variants
                .first()
                .map(|b| b.name.as_str())
                .unwrap_or("VALUE")
        );
    }
}

trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::shell::schema::testmodel;

    #[test]
    fn help_texts() {
        let s = Schema::new(testmodel::model());
        let all = help(Some(&s), &[]);
        assert!(all.starts_with("5 commands"), "{all}");
        assert!(all.contains("blockdev-add"));
        assert_eq!(
            help(Some(&s), &["set-speed"]),
            "set-speed\narguments:\n  value: int\n  unit: enum (optional) = kb | mb\n"
        );
        // `stop` is also a real command: its `since` comes from the bindings.
        assert_eq!(
            help(Some(&s), &["stop"]),
            "stop\n  since QEMU 0.14\nno arguments\n"
        );
        let b = help(Some(&s), &["blockdev-add"]);
        assert!(b.contains("driver: enum = file | qcow2"), "{b}");
        assert!(b.contains("more arguments depend on 'driver'"), "{b}");
        assert!(!b.contains("filename"), "{b}");
        let b = help(Some(&s), &["blockdev-add", "driver=file"]);
        assert!(b.contains("  filename: str\n"), "{b}");
        assert!(help(Some(&s), &["nope"]).starts_with("unknown command 'nope'"));
    }
}

#[cfg(test)]
mod real_schema_tests {
    use super::*;

    #[test]
    fn events_and_since_from_a_real_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../qmp-types/tests/corpus/qemu-system-q35.schema.json"
        );
        let text = std::fs::read_to_string(path).expect("corpus file");
        let s = Schema::new(qmp_schema::from_introspection_json("q35", &text).expect("reads"));
        let stop = help(Some(&s), &["STOP"]);
        assert!(stop.starts_with("event STOP\n"), "{stop}");
        assert!(stop.ends_with("no data\n"), "{stop}");
        let done = help(Some(&s), &["BLOCK_JOB_COMPLETED"]);
        assert!(done.contains("data:\n"), "{done}");
        assert!(done.contains("  device: str\n"), "{done}");
        assert!(done.contains("  error: str (optional)\n"), "{done}");
        let b = help(Some(&s), &["block-set-write-threshold"]);
        assert!(
            b.contains("  node-name: str\n  write-threshold: int\n"),
            "{b}"
        );
    }
}
