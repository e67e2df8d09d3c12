//! Tab completion: command names, argument names (nested, as dotted keys),
//! enum and boolean values, transaction action types and their arguments.
//! Pure: works on a line, a cursor position and a [`Schema`].

use serde_json::{Map, Value};

use super::parse::{Assignment, build_object, parse_assignment, tokenize_lenient};
use super::schema::Schema;

/// Words the shell itself understands.
pub const BUILTINS: &[&str] = &["help", "quit", "exit", "transaction("];

/// A completion: the text to insert in place of `line[start..pos]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Byte offset where the replaced text starts.
    pub start: usize,
    /// Candidates, sorted, each a full replacement.
    pub candidates: Vec<String>,
}

/// Completes `line` at byte offset `pos`. `in_transaction` tells whether a
/// transaction is being typed on earlier lines.
pub fn complete(schema: &Schema, line: &str, pos: usize, in_transaction: bool) -> Completion {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let text = &line[..pos];
    let (mut tokens, _) = tokenize_lenient(text);
    let at_new_token = text.is_empty() || text.ends_with(char::is_whitespace);
    if at_new_token {
        tokens.push((pos, String::new()));
    }
    let mut trans = in_transaction;
    if !trans && tokens.len() > 1 && tokens[0].1 == "transaction(" {
        tokens.remove(0);
        trans = true;
    }
    let Some((start, current)) = tokens.last().cloned() else {
        return Completion {
            start: pos,
            candidates: Vec::new(),
        };
    };
    let none = Completion {
        start,
        candidates: Vec::new(),
    };
    if tokens.len() == 1 {
        let words: Vec<String> = if trans {
            let Some(action) = schema.transaction_action_type() else {
                return none;
            };
            let tag = schema
                .resolve(action, &["type".to_owned()], &Map::new())
                .map(|t| schema.value_candidates(t))
                .unwrap_or_default();
            tag.into_iter().chain([")".to_owned()]).collect()
        } else {
            schema
                .command_names()
                .into_iter()
                .map(str::to_owned)
                .chain(BUILTINS.iter().map(|s| (*s).to_owned()))
                .collect()
        };
        return Completion {
            start,
            candidates: filter(words, &current),
        };
    }
    let head = tokens[0].1.as_str();
    if !trans && (head == "help" || head == "?") {
        if tokens.len() != 2 {
            return none;
        }
        let words = schema
            .command_names()
            .into_iter()
            .map(str::to_owned)
            .chain(schema.model().events().map(|e| e.common.name.clone()))
            .collect();
        return Completion {
            start,
            candidates: filter(words, &current),
        };
    }
    // The root type and the key prefix under which arguments go.
    let (root, prefix, mut assignments): (&str, Vec<String>, Vec<Assignment>) = if trans {
        let Some(action) = schema.transaction_action_type() else {
            return none;
        };
        let kind = Assignment {
            path: vec!["type".into()],
            raw: head.to_owned(),
            value: Value::String(head.to_owned()),
            explicit: true,
        };
        (action, vec!["data".to_owned()], vec![kind])
    } else {
        let Some(ty) = schema.command(head).and_then(|c| c.arg_type.as_deref()) else {
            return none;
        };
        (ty, Vec::new(), Vec::new())
    };
    let earlier = &tokens[1..tokens.len() - 1];
    for (_, t) in earlier {
        if let Ok(mut a) = parse_assignment(t) {
            a.path = prefix.iter().cloned().chain(a.path).collect();
            assignments.push(a);
        }
    }
    let given = build_lenient(&assignments);
    if let Some((key, value)) = current.split_once('=') {
        let path: Vec<String> = prefix
            .iter()
            .cloned()
            .chain(key.split('.').map(str::to_owned))
            .collect();
        let Some(ty) = schema.resolve(root, &path, &given) else {
            return none;
        };
        return Completion {
            start: start + key.len() + 1,
            candidates: filter(schema.value_candidates(ty), value),
        };
    }
    // A key: complete its last dotted component.
    let (parent, partial) = match current.rsplit_once('.') {
        Some((p, last)) => (Some(p), last),
        None => (None, current.as_str()),
    };
    let parent_path: Vec<String> = prefix
        .iter()
        .cloned()
        .chain(
            parent
                .into_iter()
                .flat_map(|p| p.split('.').map(str::to_owned)),
        )
        .collect();
    let Some(ty) = schema.resolve(root, &parent_path, &given) else {
        return none;
    };
    let mut level = &given;
    for p in &parent_path {
        match level.get(p) {
            Some(Value::Object(o)) => level = o,
            _ => {
                level = &EMPTY;
                break;
            }
        }
    }
    let words = schema
        .members(ty, level)
        .into_iter()
        .filter(|m| !level.contains_key(&m.name) || schema.has_members(&m.ty))
        .flat_map(|m| {
            // Objects nest with `key.`; alternates with an object branch
            // take either; everything else takes `key=`.
            let suffixes: &[&str] = match (schema.is_object(&m.ty), schema.has_members(&m.ty)) {
                (true, _) => &["."],
                (false, true) => &[".", "="],
                (false, false) => &["="],
            };
            suffixes
                .iter()
                .map(|suffix| match parent {
                    Some(p) => format!("{p}.{}{suffix}", m.name),
                    None => format!("{}{suffix}", m.name),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let typed = match parent {
        Some(p) => format!("{p}.{partial}"),
        None => partial.to_owned(),
    };
    Completion {
        start,
        candidates: filter(words, &typed),
    }
}

/// A hint for a line ending in a space after a command (or transaction
/// action): its required arguments not given yet, as `name=<type>`.
pub fn required_hint(schema: &Schema, line: &str, in_transaction: bool) -> Option<String> {
    if !line.ends_with(char::is_whitespace) {
        return None;
    }
    let (mut tokens, open) = tokenize_lenient(line);
    if open {
        return None;
    }
    let mut trans = in_transaction;
    if !trans && tokens.first().is_some_and(|t| t.1 == "transaction(") {
        tokens.remove(0);
        trans = true;
    }
    let (_, head) = tokens.first()?;
    let (root, prefix, mut assignments): (&str, Vec<String>, Vec<Assignment>) = if trans {
        let action = schema.transaction_action_type()?;
        let kind = Assignment {
            path: vec!["type".into()],
            raw: head.clone(),
            value: Value::String(head.clone()),
            explicit: true,
        };
        (action, vec!["data".to_owned()], vec![kind])
    } else {
        (
            schema.command(head)?.arg_type.as_deref()?,
            Vec::new(),
            Vec::new(),
        )
    };
    for (_, t) in &tokens[1..] {
        let mut a = parse_assignment(t).ok()?;
        a.path = prefix.iter().cloned().chain(a.path).collect();
        assignments.push(a);
    }
    let given = build_lenient(&assignments);
    let ty = schema.resolve(root, &prefix, &given)?;
    let level = prefix
        .iter()
        .try_fold(&given, |m, p| m.get(p).and_then(Value::as_object))
        .unwrap_or(&EMPTY);
    // Of a union whose discriminator is not typed yet, only the common
    // members are known to be required.
    let members = match schema.model().get(ty) {
        Some(qmp_schema::model::Entity::Object(o))
            if o.variants
                .as_ref()
                .is_some_and(|v| !level.contains_key(&v.tag)) =>
        {
            o.members.iter().collect()
        }
        _ => schema.members(ty, level),
    };
    let missing: Vec<String> = members
        .into_iter()
        .filter(|m| !m.optional && !level.contains_key(&m.name))
        .map(|m| format!("{}=<{}>", m.name, schema.describe(&m.ty)))
        .collect();
    (!missing.is_empty()).then(|| missing.join(" "))
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// Builds the value typed so far, skipping assignments that conflict.
fn build_lenient(args: &[Assignment]) -> Map<String, Value> {
    let mut ok: Vec<Assignment> = Vec::new();
    for a in args {
        ok.push(a.clone());
        if build_object(&ok).is_err() {
            ok.pop();
        }
    }
    build_object(&ok).unwrap_or_default()
}

fn filter(words: Vec<String>, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = words
        .into_iter()
        .filter(|w| w.starts_with(prefix))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::shell::schema::testmodel;

    fn c(line: &str, trans: bool) -> (usize, Vec<String>) {
        let s = Schema::new(testmodel::model());
        let r = complete(&s, line, line.len(), trans);
        (r.start, r.candidates)
    }

    #[test]
    fn command_names() {
        assert_eq!(
            c("se", false),
            (0, vec!["set-id".into(), "set-speed".into()])
        );
        assert_eq!(c("  sto", false), (2, vec!["stop".into()]));
        assert!(c("", false).1.contains(&"help".to_owned()));
        assert_eq!(c("help bl", false), (5, vec!["blockdev-add".into()]));
    }

    #[test]
    fn argument_names() {
        assert_eq!(
            c("set-speed ", false),
            (10, vec!["unit=".into(), "value=".into()])
        );
        assert_eq!(c("set-speed value=1 ", false), (18, vec!["unit=".into()]));
        assert_eq!(c("set-speed v", false), (10, vec!["value=".into()]));
        assert_eq!(c("nope ", false).1, Vec::<String>::new());
        assert_eq!(c("stop ", false).1, Vec::<String>::new());
    }

    #[test]
    fn union_branches_follow_the_discriminator() {
        assert_eq!(
            c("blockdev-add driver=file ", false).1,
            ["filename=", "node-name="]
        );
        assert_eq!(
            c("blockdev-add driver=qcow2 f", false).1,
            ["file.", "file="]
        );
    }

    #[test]
    fn nested_dotted_keys() {
        assert_eq!(
            c("blockdev-add driver=qcow2 file.", false),
            (
                26,
                vec![
                    "file.driver=".into(),
                    "file.file.".into(),
                    "file.file=".into(),
                    "file.filename=".into(),
                    "file.node-name=".into()
                ]
            )
        );
        assert_eq!(
            c("blockdev-add driver=qcow2 file.driver=file file.f", false).1,
            ["file.filename="]
        );
    }

    #[test]
    fn enum_and_bool_values() {
        assert_eq!(
            c("set-speed unit=", false),
            (15, vec!["kb".into(), "mb".into()])
        );
        assert_eq!(c("set-speed unit=m", false), (15, vec!["mb".into()]));
        assert_eq!(c("set-id on=", false).1, ["false", "true"]);
        assert_eq!(
            c("blockdev-add driver=qcow2 file.driver=q", false).1,
            ["qcow2"]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in "\\PC{0,40}", pos in 0usize..50, trans: bool) {
            let s = Schema::new(testmodel::model());
            let r = complete(&s, &line, pos, trans);
            proptest::prop_assert!(r.start <= line.len());
        }

        #[test]
        fn never_panics_on_shell_like_lines(
            words in proptest::collection::vec("[a-z.=(){}\\[\\]\"' -]{0,8}", 0..5),
            trans: bool,
        ) {
            let s = Schema::new(testmodel::model());
            let line = format!("blockdev-add {}", words.join(" "));
            let r = complete(&s, &line, line.len(), trans);
            proptest::prop_assert!(r.start <= line.len());
        }
    }

    #[test]
    fn hints_list_missing_required_arguments() {
        let s = Schema::new(testmodel::model());
        let h = |line: &str, t: bool| required_hint(&s, line, t);
        assert_eq!(h("set-speed ", false).as_deref(), Some("value=<int>"));
        assert_eq!(h("set-speed value=1 ", false), None);
        assert_eq!(h("set-speed", false), None);
        assert_eq!(h("stop ", false), None);
        assert_eq!(h("blockdev-add ", false).as_deref(), Some("driver=<enum>"));
        assert_eq!(
            h("blockdev-add driver=file ", false).as_deref(),
            Some("filename=<str>")
        );
        assert_eq!(h("stop-it ", true).as_deref(), Some("name=<str>"));
        assert_eq!(h("transaction( stop-it name=x ", false), None);
        assert_eq!(h("nope ", false), None);
    }

    #[test]
    fn transactions() {
        assert_eq!(c("transaction( st", false).1, ["stop-it"]);
        assert_eq!(c("", true).1, [")", "stop-it"]);
        assert_eq!(c("stop-it ", true).1, ["name="]);
        assert_eq!(c("transaction( stop-it n", false).1, ["name="]);
    }
}

#[cfg(test)]
mod real_schema_tests {
    //! Against the `query-qmp-schema` reply of a real QEMU 10.0.2 (q35),
    //! kept in the repository by `tools/capture-corpus.py`.
    use super::*;
    use std::sync::OnceLock;

    fn schema() -> &'static Schema {
        static S: OnceLock<Schema> = OnceLock::new();
        S.get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../qmp-types/tests/corpus/qemu-system-q35.schema.json"
            );
            let text = std::fs::read_to_string(path).expect("corpus file");
            Schema::new(qmp_schema::from_introspection_json("q35", &text).expect("reply reads"))
        })
    }

    fn c(line: &str) -> Vec<String> {
        complete(schema(), line, line.len(), false).candidates
    }

    #[test]
    fn commands_arguments_and_values() {
        assert_eq!(
            c("query-stat"),
            ["query-stats", "query-stats-schemas", "query-status"]
        );
        assert!(c("blockdev-add ").contains(&"driver=".to_owned()));
        assert_eq!(c("blockdev-add driver=qcow"), ["qcow", "qcow2"]);
        // Branch members appear once the discriminator is typed.
        assert!(c("blockdev-add driver=qcow2 ").contains(&"file.".to_owned()));
        assert!(!c("blockdev-add driver=raw ").contains(&"backing.".to_owned()));
        // Nested: `file` is an alternate (node name or definition).
        assert!(c("blockdev-add driver=qcow2 file.dr").contains(&"file.driver=".to_owned()));
        assert_eq!(c("blockdev-add driver=qcow2 file.driver=fi"), ["file"]);
        assert_eq!(c("block-set-write-threshold node"), ["node-name="]);
        assert_eq!(
            c("migrate-set-capabilities capabilities="),
            Vec::<String>::new()
        );
        assert!(c("set-action shutdown=").contains(&"poweroff".to_owned()));
    }

    #[test]
    fn transaction_actions() {
        let actions = c("transaction( ");
        assert!(
            actions.contains(&"block-dirty-bitmap-add".to_owned()),
            "{actions:?}"
        );
        assert_eq!(c("transaction( block-dirty-bitmap-add na"), ["name="]);
    }

    #[test]
    fn checks() {
        let s = schema();
        let msg = |cmd: &str, v: serde_json::Value| -> Vec<String> {
            s.check_command(cmd, Some(&v))
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            msg("query-status", serde_json::json!({"verbose": true})),
            ["unknown argument 'verbose' (none are accepted here)"]
        );
        assert_eq!(
            msg("set-action", serde_json::json!({"shutdown": "explode"})),
            ["argument 'shutdown': 'explode' is not one of: poweroff, pause"]
        );
        assert!(
            msg(
                "blockdev-add",
                serde_json::json!({"driver": "null-co", "node-name": "n0"})
            )
            .is_empty()
        );
        assert_eq!(
            msg(
                "block-set-write-threshold",
                serde_json::json!({"node-name": "n0"})
            ),
            ["missing required argument 'write-threshold'"]
        );
    }
}
