//! Schema knowledge for the shell: what arguments a command takes, their
//! types and enum values, and checking a command's arguments before they
//! are sent.
//!
//! Works on any [`Model`]; the shell uses the one read from the connected
//! QEMU's `query-qmp-schema`, where type names are masked numbers, so types
//! are described by their JSON shape rather than by name.

use std::collections::BTreeSet;
use std::fmt;

use qmp_schema::Model;
use qmp_schema::model::{Entity, JsonType, Member, Origin};
use serde_json::{Map, Value};

use super::parse::Assignment;

/// A model plus the queries the shell needs.
#[derive(Debug)]
pub struct Schema {
    model: Model,
}

/// Why arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A key the type has no member for.
    Unknown {
        /// Dotted key.
        key: String,
        /// Known member names at that level.
        known: Vec<String>,
    },
    /// A required member is missing.
    Missing {
        /// Dotted key.
        key: String,
    },
    /// The value has the wrong JSON type.
    WrongType {
        /// Dotted key (empty for the arguments object itself).
        key: String,
        /// What the schema wants.
        expected: String,
        /// What was given.
        got: &'static str,
    },
    /// A string that is not a value of the enum.
    BadEnum {
        /// Dotted key.
        key: String,
        /// The value given.
        value: String,
        /// The values allowed.
        allowed: Vec<String>,
    },
    /// An integer outside the type's range.
    OutOfRange {
        /// Dotted key.
        key: String,
        /// The value given.
        value: String,
        /// Smallest allowed.
        min: i128,
        /// Largest allowed.
        max: i128,
    },
}

fn shown(key: &str) -> String {
    if key.is_empty() {
        "the arguments".to_owned()
    } else {
        format!("argument '{key}'")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unknown { key, known } if known.is_empty() => {
                write!(f, "unknown argument '{key}' (none are accepted here)")
            }
            Problem::Unknown { key, known } => {
                write!(
                    f,
                    "unknown argument '{key}' (expected one of: {})",
                    known.join(", ")
                )
            }
            Problem::Missing { key } => write!(f, "missing required argument '{key}'"),
            Problem::WrongType { key, expected, got } => {
                write!(f, "{}: expected {expected}, got {got}", shown(key))
            }
            Problem::BadEnum {
                key,
                value,
                allowed,
            } => write!(
                f,
                "{}: '{value}' is not one of: {}",
                shown(key),
                allowed.join(", ")
            ),
            Problem::OutOfRange {
                key,
                value,
                min,
                max,
            } => {
                write!(f, "{}: {value} is out of range {min}..={max}", shown(key))
            }
        }
    }
}

fn join(key: &str, name: &str) -> String {
    if key.is_empty() {
        name.to_owned()
    } else {
        format!("{key}.{name}")
    }
}

impl Schema {
    /// Wraps a model.
    pub fn new(model: Model) -> Self {
        Self { model }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Command names, sorted.
    pub fn command_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .model
            .commands()
            .map(|c| c.common.name.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// A command by name.
    pub fn command(&self, name: &str) -> Option<&qmp_schema::model::Command> {
        match self.model.get(name)? {
            Entity::Command(c) => Some(c),
            _ => None,
        }
    }

    /// Whether the schema has event `name`.
    pub fn has_event(&self, name: &str) -> bool {
        matches!(self.model.get(name), Some(Entity::Event(_)))
    }

    fn entity(&self, ty: &str) -> Option<&Entity> {
        self.model.get(ty)
    }

    /// The element type of the `actions` array of `transaction` (the
    /// `TransactionAction` union), if the server has `transaction`.
    pub fn transaction_action_type(&self) -> Option<&str> {
        let arg = self.command("transaction")?.arg_type.as_deref()?;
        let m = self
            .members(arg, &Map::new())
            .into_iter()
            .find(|m| m.name == "actions")?;
        match self.entity(&m.ty)? {
            Entity::Array(a) => Some(&a.element),
            _ => None,
        }
    }

    /// Members of an object type given the (partial) value typed so far:
    /// for a union, the base members plus the members of the branch the
    /// discriminator selects, or of all branches when it is not given yet;
    /// for an alternate, the members of its object branches.
    pub fn members(&self, ty: &str, given: &Map<String, Value>) -> Vec<&Member> {
        let mut out: Vec<&Member> = Vec::new();
        let mut seen = BTreeSet::new();
        self.collect_members(ty, given, &mut out, &mut seen, 0);
        out
    }

    fn collect_members<'a>(
        &'a self,
        ty: &str,
        given: &Map<String, Value>,
        out: &mut Vec<&'a Member>,
        seen: &mut BTreeSet<&'a str>,
        depth: usize,
    ) {
        if depth > 8 {
            return;
        }
        match self.entity(ty) {
            Some(Entity::Object(o)) => {
                for m in &o.members {
                    if seen.insert(m.name.as_str()) {
                        out.push(m);
                    }
                }
                if let Some(vs) = &o.variants {
                    let tag = given.get(&vs.tag).and_then(Value::as_str);
                    for v in &vs.variants {
                        if tag.is_none_or(|t| t == v.name) {
                            self.collect_members(&v.ty, given, out, seen, depth + 1);
                        }
                    }
                }
            }
            Some(Entity::Alternate(a)) => {
                for v in &a.variants.variants {
                    self.collect_members(&v.ty, given, out, seen, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// The type at a dotted path below `ty`, given the value typed so far
    /// (the whole object at `ty`'s level).
    pub fn resolve<'a>(
        &'a self,
        ty: &'a str,
        path: &[String],
        given: &Map<String, Value>,
    ) -> Option<&'a str> {
        let mut ty = ty;
        let mut given = given;
        let empty = Map::new();
        for part in path {
            let m = self
                .members(ty, given)
                .into_iter()
                .find(|m| &m.name == part)?;
            ty = &m.ty;
            given = match given.get(part) {
                Some(Value::Object(o)) => o,
                _ => &empty,
            };
        }
        Some(ty)
    }

    /// Whether values of `ty` are objects with members (for completion:
    /// offer `key.` rather than `key=`).
    pub fn is_object(&self, ty: &str) -> bool {
        matches!(self.entity(ty), Some(Entity::Object(_)))
    }

    /// Whether values of `ty` may be objects with members (objects, and
    /// alternates with an object branch).
    pub fn has_members(&self, ty: &str) -> bool {
        match self.entity(ty) {
            Some(Entity::Object(_)) => true,
            Some(Entity::Alternate(a)) => a.variants.variants.iter().any(|v| self.is_object(&v.ty)),
            _ => false,
        }
    }

    /// Values to offer for a value of type `ty`: enum values, `true`/`false`.
    pub fn value_candidates(&self, ty: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_values(ty, &mut out, 0);
        out
    }

    fn collect_values(&self, ty: &str, out: &mut Vec<String>, depth: usize) {
        if depth > 4 {
            return;
        }
        match self.entity(ty) {
            Some(Entity::Enum(e)) => out.extend(e.members.iter().map(|m| m.name.clone())),
            Some(Entity::Builtin(b)) if b.json_type == JsonType::Boolean => {
                out.extend(["true".to_owned(), "false".to_owned()])
            }
            Some(Entity::Alternate(a)) => {
                for v in &a.variants.variants {
                    self.collect_values(&v.ty, out, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Whether an unquoted value for `ty` must be a string: the type is a
    /// string or enum, or an alternate whose only scalar branches are.
    pub fn wants_string(&self, ty: &str) -> bool {
        match self.entity(ty) {
            Some(Entity::Enum(_)) => true,
            Some(Entity::Builtin(b)) => b.json_type == JsonType::String,
            Some(Entity::Alternate(a)) => {
                let kinds: Vec<Option<JsonType>> = a
                    .variants
                    .variants
                    .iter()
                    .map(|v| self.entity(&v.ty).and_then(Entity::json_type))
                    .collect();
                kinds.contains(&Some(JsonType::String))
                    && !kinds.iter().any(|k| {
                        matches!(
                            k,
                            Some(
                                JsonType::Int
                                    | JsonType::Number
                                    | JsonType::Boolean
                                    | JsonType::Null
                            )
                        )
                    })
            }
            _ => false,
        }
    }

    /// Turns unquoted scalars typed where the schema wants a string into
    /// that string (`id=123` gives `"123"` for a `str` member). `prefix` is
    /// prepended to each key (e.g. `data` for transaction actions) and
    /// `given` is the whole value typed so far.
    pub fn coerce(
        &self,
        ty: &str,
        prefix: &[String],
        args: &mut [Assignment],
        given: &Map<String, Value>,
    ) {
        for a in args.iter_mut() {
            if a.explicit || a.value.is_string() {
                continue;
            }
            let path: Vec<String> = prefix.iter().chain(&a.path).cloned().collect();
            if let Some(t) = self.resolve(ty, &path, given)
                && self.wants_string(t)
            {
                a.value = Value::String(a.raw.clone());
            }
        }
    }

    /// A short description of a type for humans.
    pub fn describe(&self, ty: &str) -> String {
        self.describe_depth(ty, 0)
    }

    fn describe_depth(&self, ty: &str, depth: usize) -> String {
        let masked = self.model.origin == Origin::Introspection;
        let Some(e) = self.entity(ty) else {
            return ty.to_owned();
        };
        if depth > 3 {
            return ty.to_owned();
        }
        match e {
            Entity::Builtin(_) => ty.to_owned(),
            Entity::Enum(_) if masked => "enum".to_owned(),
            Entity::Array(a) => format!("[{}]", self.describe_depth(&a.element, depth + 1)),
            Entity::Object(o) if masked => if o.variants.is_some() {
                "union"
            } else {
                "object"
            }
            .to_owned(),
            Entity::Alternate(a) if masked => {
                let parts: Vec<String> = a
                    .variants
                    .variants
                    .iter()
                    .map(|v| self.describe_depth(&v.ty, depth + 1))
                    .collect();
                parts.join(" | ")
            }
            _ => ty.to_owned(),
        }
    }

    fn expected(&self, ty: &str) -> String {
        match self.entity(ty) {
            Some(Entity::Builtin(b)) => match b.json_type {
                JsonType::String => "a string".into(),
                JsonType::Int => "an integer".into(),
                JsonType::Number => "a number".into(),
                JsonType::Boolean => "a boolean".into(),
                JsonType::Null => "null".into(),
                JsonType::Object => "an object".into(),
                JsonType::Array => "an array".into(),
                JsonType::Value => "any value".into(),
            },
            Some(Entity::Enum(_)) => "a string (enum)".into(),
            Some(Entity::Array(_)) => "an array".into(),
            Some(Entity::Object(_)) => "an object".into(),
            Some(Entity::Alternate(a)) => {
                let parts: BTreeSet<String> = a
                    .variants
                    .variants
                    .iter()
                    .map(|v| self.expected(&v.ty))
                    .collect();
                parts.into_iter().collect::<Vec<_>>().join(" or ")
            }
            _ => "a value".into(),
        }
    }

    /// Checks the arguments of command `name` (an object, or `None` for
    /// no arguments). Returns every problem found; empty means valid.
    /// Unknown commands are left to the server.
    pub fn check_command(&self, name: &str, args: Option<&Value>) -> Vec<Problem> {
        let Some(cmd) = self.command(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match (&cmd.arg_type, args) {
            (None, None) => {}
            (None, Some(Value::Object(m))) => {
                for k in m.keys() {
                    out.push(Problem::Unknown {
                        key: k.clone(),
                        known: Vec::new(),
                    });
                }
            }
            (None, Some(v)) => out.push(Problem::WrongType {
                key: String::new(),
                expected: "an object".into(),
                got: qmp_types::runtime::json_type_name(v),
            }),
            (Some(ty), Some(v)) => self.check(ty, v, "", &mut out, 0),
            (Some(ty), None) => self.check(ty, &Value::Object(Map::new()), "", &mut out, 0),
        }
        out
    }

    /// Checks `value` against type `ty`; `key` names it in messages.
    pub fn check(&self, ty: &str, value: &Value, key: &str, out: &mut Vec<Problem>, depth: usize) {
        if depth > 64 {
            return;
        }
        let wrong = |out: &mut Vec<Problem>| {
            out.push(Problem::WrongType {
                key: key.to_owned(),
                expected: self.expected(ty),
                got: qmp_types::runtime::json_type_name(value),
            })
        };
        let Some(e) = self.entity(ty) else {
            return;
        };
        match e {
            Entity::Builtin(b) => {
                let ok = match b.json_type {
                    JsonType::String => value.is_string(),
                    JsonType::Int => value.is_i64() || value.is_u64(),
                    JsonType::Number => value.is_number(),
                    JsonType::Boolean => value.is_boolean(),
                    JsonType::Null => value.is_null(),
                    JsonType::Object => value.is_object(),
                    JsonType::Array => value.is_array(),
                    JsonType::Value => true,
                };
                if !ok {
                    return wrong(out);
                }
                if let (Some((min, max)), Some(n)) = (b.int_range, int_of(value))
                    && (n < min || n > max)
                {
                    out.push(Problem::OutOfRange {
                        key: key.to_owned(),
                        value: n.to_string(),
                        min,
                        max,
                    });
                }
            }
            Entity::Enum(en) => {
                let Some(s) = value.as_str() else {
                    return wrong(out);
                };
                if !en.members.iter().any(|m| m.name == s) {
                    out.push(Problem::BadEnum {
                        key: key.to_owned(),
                        value: s.to_owned(),
                        allowed: en.members.iter().map(|m| m.name.clone()).collect(),
                    });
                }
            }
            Entity::Array(a) => {
                let Some(items) = value.as_array() else {
                    return wrong(out);
                };
                for (i, item) in items.iter().enumerate() {
                    self.check(&a.element, item, &format!("{key}[{i}]"), out, depth + 1);
                }
            }
            Entity::Object(o) => {
                let Some(obj) = value.as_object() else {
                    return wrong(out);
                };
                // The discriminator must be valid before branch members
                // can be known.
                if let Some(vs) = &o.variants
                    && let (Some(tag_member), Some(tag)) = (
                        o.members.iter().find(|m| m.name == vs.tag),
                        obj.get(&vs.tag),
                    )
                {
                    let before = out.len();
                    self.check(&tag_member.ty, tag, &join(key, &vs.tag), out, depth + 1);
                    if out.len() > before {
                        return;
                    }
                }
                let members = self.members(ty, obj);
                for (k, v) in obj {
                    match members.iter().find(|m| &m.name == k) {
                        Some(m) => self.check(&m.ty, v, &join(key, k), out, depth + 1),
                        None => out.push(Problem::Unknown {
                            key: join(key, k),
                            known: members.iter().map(|m| m.name.clone()).collect(),
                        }),
                    }
                }
                for m in &members {
                    if !m.optional && !obj.contains_key(&m.name) {
                        out.push(Problem::Missing {
                            key: join(key, &m.name),
                        });
                    }
                }
            }
            Entity::Alternate(a) => {
                let branch = a.variants.variants.iter().find(|v| {
                    self.entity(&v.ty)
                        .and_then(Entity::json_type)
                        .is_some_and(|jt| matches_json(jt, value))
                });
                match branch {
                    Some(b) => self.check(&b.ty, value, key, out, depth + 1),
                    None => wrong(out),
                }
            }
            Entity::Include(_) | Entity::Command(_) | Entity::Event(_) => {}
        }
    }
}

fn int_of(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
}

fn matches_json(jt: JsonType, v: &Value) -> bool {
    match jt {
        JsonType::String => v.is_string(),
        JsonType::Int => v.is_i64() || v.is_u64(),
        JsonType::Number => v.is_number(),
        JsonType::Boolean => v.is_boolean(),
        JsonType::Null => v.is_null(),
        JsonType::Object => v.is_object(),
        JsonType::Array => v.is_array(),
        JsonType::Value => true,
    }
}

#[cfg(test)]
pub(crate) mod testmodel {
    //! A small hand-made model shaped like an introspected one.
    use qmp_schema::Model;
    use qmp_schema::model::*;

    fn common(model: &mut Model, name: &str) -> Common {
        let module = if model.modules.is_empty() {
            model.add_module("x")
        } else {
            ModuleId(0)
        };
        Common {
            name: name.into(),
            span: None,
            module,
            cond: None,
            features: Vec::new(),
            doc: None,
            since: None,
            implicit: false,
        }
    }

    fn member(name: &str, ty: &str, optional: bool) -> Member {
        Member {
            name: name.into(),
            ty: ty.into(),
            optional,
            span: None,
            cond: None,
            features: Vec::new(),
            defined_in: String::new(),
            doc: None,
        }
    }

    fn object(model: &mut Model, name: &str, members: Vec<Member>, variants: Option<Variants>) {
        let common = common(model, name);
        model.push(Entity::Object(Object {
            common,
            base: None,
            local_members: members.clone(),
            members,
            variants,
            simple_union: false,
        }));
    }

    fn builtin(model: &mut Model, name: &str, jt: JsonType, range: Option<(i128, i128)>) {
        let common = common(model, name);
        model.push(Entity::Builtin(Builtin {
            common,
            json_type: jt,
            int_range: range,
        }));
    }

    fn enumeration(model: &mut Model, name: &str, values: &[&str]) {
        let common = common(model, name);
        model.push(Entity::Enum(Enum {
            common,
            members: values
                .iter()
                .map(|v| EnumMember {
                    name: (*v).into(),
                    span: None,
                    cond: None,
                    features: Vec::new(),
                })
                .collect(),
            prefix: None,
        }));
    }

    fn command(model: &mut Model, name: &str, arg: Option<&str>) {
        let common = common(model, name);
        model.push(Entity::Command(Command {
            common,
            arg_type: arg.map(Into::into),
            ret_type: None,
            generate: true,
            success_response: true,
            boxed: false,
            allow_oob: false,
            allow_preconfig: false,
            coroutine: false,
        }));
    }

    fn variant(name: &str, ty: &str) -> Variant {
        Variant {
            name: name.into(),
            ty: ty.into(),
            span: None,
            cond: None,
        }
    }

    /// Commands `stop` (no args), `set-speed` (`value: int`, `*unit:
    /// Unit`), `blockdev-add` (a union on `driver` with branches `file`
    /// {filename} and `qcow2` {file: alternate(ref str | options)}),
    /// `set-id` (`id: str`, `*count: uint8`, `*on: bool`), `transaction`
    /// (`actions: [Action]`, union on `type` with branch `stop-it`
    /// {data: {name: str}}).
    pub fn model() -> Model {
        let mut m = Model {
            origin: Origin::Introspection,
            ..Model::default()
        };
        builtin(&mut m, "str", JsonType::String, None);
        builtin(
            &mut m,
            "int",
            JsonType::Int,
            Some((i64::MIN.into(), i64::MAX.into())),
        );
        builtin(&mut m, "uint8", JsonType::Int, Some((0, 255)));
        builtin(&mut m, "bool", JsonType::Boolean, None);
        enumeration(&mut m, "1", &["kb", "mb"]);
        command(&mut m, "stop", None);
        object(
            &mut m,
            "2",
            vec![member("value", "int", false), member("unit", "1", true)],
            None,
        );
        command(&mut m, "set-speed", Some("2"));
        enumeration(&mut m, "3", &["file", "qcow2"]);
        object(&mut m, "4", vec![member("filename", "str", false)], None);
        let alt_common = common(&mut m, "5");
        object(
            &mut m,
            "6",
            vec![
                member("driver", "3", false),
                member("node-name", "str", true),
            ],
            Some(Variants {
                tag: "driver".into(),
                variants: vec![variant("file", "4"), variant("qcow2", "7")],
            }),
        );
        m.push(Entity::Alternate(Alternate {
            common: alt_common,
            variants: Variants {
                tag: "type".into(),
                variants: vec![variant("definition", "6"), variant("reference", "str")],
            },
        }));
        object(&mut m, "7", vec![member("file", "5", false)], None);
        command(&mut m, "blockdev-add", Some("6"));
        object(
            &mut m,
            "8",
            vec![
                member("id", "str", false),
                member("count", "uint8", true),
                member("on", "bool", true),
            ],
            None,
        );
        command(&mut m, "set-id", Some("8"));
        enumeration(&mut m, "9", &["stop-it"]);
        object(&mut m, "10", vec![member("name", "str", false)], None);
        object(&mut m, "11", vec![member("data", "10", false)], None);
        object(
            &mut m,
            "12",
            vec![member("type", "9", false)],
            Some(Variants {
                tag: "type".into(),
                variants: vec![variant("stop-it", "11")],
            }),
        );
        let arr = common(&mut m, "[12]");
        m.push(Entity::Array(Array {
            common: arr,
            element: "12".into(),
        }));
        object(&mut m, "13", vec![member("actions", "[12]", false)], None);
        command(&mut m, "transaction", Some("13"));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::shell::parse::{LineParser, Request, build_object};
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(testmodel::model())
    }

    fn msgs(s: &Schema, cmd: &str, args: Value) -> Vec<String> {
        s.check_command(cmd, Some(&args))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn valid_arguments_pass() {
        let s = schema();
        assert!(msgs(&s, "stop", json!({})).is_empty());
        assert!(msgs(&s, "set-speed", json!({"value": 5, "unit": "kb"})).is_empty());
        assert!(
            msgs(
                &s,
                "blockdev-add",
                json!({"driver": "file", "filename": "/x"})
            )
            .is_empty()
        );
        assert!(
            msgs(
                &s,
                "blockdev-add",
                json!({"driver": "qcow2", "file": "ref"})
            )
            .is_empty()
        );
        assert!(
            msgs(
                &s,
                "blockdev-add",
                json!({"driver": "qcow2", "file": {"driver": "file", "filename": "/x"}})
            )
            .is_empty()
        );
        assert!(msgs(&s, "not-in-schema", json!({"x": 1})).is_empty());
    }

    #[test]
    fn problems_name_the_key() {
        let s = schema();
        assert_eq!(
            msgs(&s, "stop", json!({"force": true})),
            ["unknown argument 'force' (none are accepted here)"]
        );
        assert_eq!(
            msgs(&s, "set-speed", json!({"value": 1, "bogus": 2})),
            ["unknown argument 'bogus' (expected one of: value, unit)"]
        );
        assert_eq!(
            msgs(&s, "set-speed", json!({})),
            ["missing required argument 'value'"]
        );
        assert_eq!(
            msgs(&s, "set-speed", json!({"value": "fast"})),
            ["argument 'value': expected an integer, got a string"]
        );
        assert_eq!(
            msgs(&s, "set-speed", json!({"value": 1, "unit": "gb"})),
            ["argument 'unit': 'gb' is not one of: kb, mb"]
        );
        assert_eq!(
            msgs(&s, "set-id", json!({"id": "a", "count": 300})),
            ["argument 'count': 300 is out of range 0..=255"]
        );
        assert_eq!(
            msgs(
                &s,
                "blockdev-add",
                json!({"driver": "qcow2", "file": {"driver": "file"}})
            ),
            ["missing required argument 'file.filename'"]
        );
        assert_eq!(
            msgs(&s, "blockdev-add", json!({"driver": "qcow2", "file": 5})),
            ["argument 'file': expected a string or an object, got an integer"]
        );
        assert_eq!(
            msgs(&s, "blockdev-add", json!({"driver": "nbd"})),
            ["argument 'driver': 'nbd' is not one of: file, qcow2"]
        );
        assert_eq!(
            msgs(
                &s,
                "transaction",
                json!({"actions": [{"type": "stop-it", "data": {"nme": "x"}}]})
            ),
            [
                "unknown argument 'actions[0].data.nme' (expected one of: name)",
                "missing required argument 'actions[0].data.name'"
            ]
        );
    }

    #[test]
    fn unquoted_numbers_become_strings_where_strings_are_wanted() {
        let s = schema();
        let Some(Request::Command { mut args, .. }) = LineParser::new()
            .parse_line("set-id id=123 count=7 on=true")
            .unwrap()
        else {
            panic!()
        };
        let given = build_object(&args).unwrap();
        s.coerce("8", &[], &mut args, &given);
        assert_eq!(
            Value::Object(build_object(&args).unwrap()),
            json!({"id": "123", "count": 7, "on": true})
        );
        // Quoted JSON stays as typed, so the checker can refuse it.
        let Some(Request::Command { mut args, .. }) = LineParser::new()
            .parse_line("set-id id=\"x\" count=\"7\"")
            .unwrap()
        else {
            panic!()
        };
        s.coerce("8", &[], &mut args, &Map::new());
        assert_eq!(
            Value::Object(build_object(&args).unwrap()),
            json!({"id": "x", "count": "7"})
        );
    }

    proptest::proptest! {
        /// Whatever is typed, assembling and checking it never panics.
        #[test]
        fn checking_never_panics(
            cmd in "(stop|set-speed|blockdev-add|set-id|transaction|other)",
            args in proptest::collection::vec(
                "[a-z.-]{1,10}=(-?[0-9]{1,3}|true|null|[a-z]{0,5}|\\[1,\"x\"\\]|\\{\"driver\":\"file\"\\})",
                0..5,
            ),
        ) {
            let s = schema();
            let line = format!("{cmd} {}", args.join(" "));
            if let Ok(Some(Request::Command { name, mut args })) = LineParser::new().parse_line(&line) {
                let given = build_object(&args).unwrap_or_default();
                if let Some(ty) = s.command(&name).and_then(|c| c.arg_type.clone()) {
                    s.coerce(&ty, &[], &mut args, &given);
                }
                if let Ok(obj) = build_object(&args) {
                    let _ = s.check_command(&name, Some(&Value::Object(obj)));
                }
            }
        }
    }

    #[test]
    fn members_and_values() {
        let s = schema();
        let names = |given: Value| -> Vec<String> {
            s.members("6", given.as_object().unwrap())
                .iter()
                .map(|m| m.name.clone())
                .collect()
        };
        assert_eq!(
            names(json!({})),
            ["driver", "node-name", "filename", "file"]
        );
        assert_eq!(
            names(json!({"driver": "file"})),
            ["driver", "node-name", "filename"]
        );
        assert_eq!(s.value_candidates("1"), ["kb", "mb"]);
        assert_eq!(s.value_candidates("bool"), ["true", "false"]);
        assert_eq!(s.transaction_action_type(), Some("12"));
        assert_eq!(
            s.resolve("6", &["file".into(), "driver".into()], &Map::new()),
            Some("3")
        );
        assert_eq!(s.describe("[12]"), "[union]");
        assert_eq!(s.describe("5"), "union | str");
        assert_eq!(
            s.command_names(),
            ["blockdev-add", "set-id", "set-speed", "stop", "transaction"]
        );
    }
}
