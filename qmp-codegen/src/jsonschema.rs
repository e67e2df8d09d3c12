//! The JSON Schema document emitted next to the code.
//!
//! One document: `$defs` holds a schema for every generated type (keyed by
//! its Rust name, so `schemars::JsonSchema::schema_name()` and the document
//! agree), `commands` maps each command's wire name to the schemas of its
//! arguments and reply, `events` each event's to its data. Generated
//! `JsonSchema` impls fetch their `$defs` entry from it, which costs far less
//! to compile than deriving the schemas.

use qmp_schema::model::{Entity, Member};
use serde_json::{Map, Value, json};

use crate::lower::Lowerer;
use crate::plan::Payload;

impl Lowerer<'_> {
    fn type_schema(&self, name: &str) -> Value {
        match self.model.get(name) {
            Some(Entity::Builtin(b)) => {
                let mut v = match b.json_type {
                    qmp_schema::model::JsonType::String => json!({"type": "string"}),
                    qmp_schema::model::JsonType::Int => json!({"type": "integer"}),
                    qmp_schema::model::JsonType::Number => json!({"type": "number"}),
                    qmp_schema::model::JsonType::Boolean => json!({"type": "boolean"}),
                    qmp_schema::model::JsonType::Null => json!({"type": "null"}),
                    _ => json!({}),
                };
                let range = b.int_range.or(match name {
                    "int8" => Some((i8::MIN as i128, i8::MAX as i128)),
                    "int16" => Some((i16::MIN as i128, i16::MAX as i128)),
                    "int32" => Some((i32::MIN as i128, i32::MAX as i128)),
                    "int" | "int64" => Some((i64::MIN as i128, i64::MAX as i128)),
                    "uint8" => Some((0, u8::MAX as i128)),
                    "uint16" => Some((0, u16::MAX as i128)),
                    "uint32" => Some((0, u32::MAX as i128)),
                    "uint64" | "size" => Some((0, u64::MAX as i128)),
                    _ => None,
                });
                if let (Some((lo, hi)), Value::Object(m)) = (range, &mut v) {
                    m.insert("minimum".into(), num(lo));
                    m.insert("maximum".into(), num(hi));
                }
                v
            }
            Some(Entity::Array(a)) => obj([
                ("type", "array".into()),
                ("items", self.type_schema(&a.element)),
            ]),
            _ => match self.plan.types.get(name) {
                Some(n) => reference(n),
                None => json!({"type": "object"}),
            },
        }
    }

    fn members_schema(&self, members: &[&Member]) -> (Map<String, Value>, Vec<Value>) {
        let mut props = Map::new();
        let mut req = Vec::new();
        for m in members {
            let mut s = self.type_schema(&m.ty);
            if let (Some(d), Value::Object(o)) = (m.doc.as_ref().filter(|_| self.opts.docs), &mut s)
            {
                if o.contains_key("$ref") {
                    s = obj([
                        ("allOf", Value::Array(vec![s])),
                        ("description", Value::String(d.clone())),
                    ]);
                } else {
                    o.insert("description".into(), Value::String(d.clone()));
                }
            }
            if m.features.iter().any(|f| f.is_deprecated())
                && let Value::Object(o) = &mut s
            {
                o.insert("deprecated".into(), Value::Bool(true));
            }
            props.insert(m.name.clone(), s);
            if !m.optional {
                req.push(Value::String(m.name.clone()));
            }
        }
        (props, req)
    }

    fn object_schema(&self, members: &[&Member]) -> Value {
        let (props, req) = self.members_schema(members);
        let mut o = Map::new();
        o.insert("type".into(), json!("object"));
        o.insert("properties".into(), Value::Object(props));
        if !req.is_empty() {
            o.insert("required".into(), Value::Array(req));
        }
        Value::Object(o)
    }

    fn def_schema(&self, name: &str) -> Option<Value> {
        let mut v = match self.model.get(name)? {
            Entity::Enum(e) => {
                let values = e.members.iter().map(|m| Value::String(m.name.clone()));
                obj([
                    ("type", "string".into()),
                    ("enum", Value::Array(values.collect())),
                ])
            }
            Entity::Alternate(a) => {
                let branches = a.variants.variants.iter().map(|v| self.type_schema(&v.ty));
                obj([("anyOf", Value::Array(branches.collect()))])
            }
            Entity::Object(o) => match &o.variants {
                None => self.object_schema(&o.members.iter().collect::<Vec<_>>()),
                Some(vs) => {
                    let base: Vec<&Member> = o.members.iter().collect();
                    let branches: Vec<Value> = vs
                        .variants
                        .iter()
                        .map(|v| {
                            let mut b = obj([
                                ("type", "object".into()),
                                (
                                    "properties",
                                    obj([(
                                        vs.tag.as_str(),
                                        obj([("const", Value::String(v.name.clone()))]),
                                    )]),
                                ),
                                ("required", Value::Array(vec![vs.tag.clone().into()])),
                            ]);
                            if let Some(w) = self.plan.carriers.wrapped(&v.ty) {
                                b["properties"]["data"] = self.type_schema(w);
                                b["required"] =
                                    Value::Array(vec![vs.tag.clone().into(), "data".into()]);
                            } else if !self.plan.carriers.contains(&v.ty) {
                                b["allOf"] = Value::Array(vec![self.type_schema(&v.ty)]);
                            }
                            b
                        })
                        .collect();
                    let mut s = self.object_schema(&base);
                    s["oneOf"] = Value::Array(branches);
                    s
                }
            },
            _ => return None,
        };
        let c = self.model.get(name)?.common()?;
        if let Value::Object(o) = &mut v {
            if let Some(body) = c
                .doc
                .as_ref()
                .filter(|_| self.opts.docs)
                .map(|d| d.body().trim())
            {
                if !body.is_empty() {
                    o.insert("description".into(), Value::String(body.to_owned()));
                }
            }
            if c.is_deprecated() {
                o.insert("deprecated".into(), Value::Bool(true));
            }
        }
        Some(v)
    }

    /// The whole document.
    pub fn json_schema_document(&self) -> Value {
        let mut defs = Map::new();
        let mut types: Vec<(&String, &String)> = self.plan.types.iter().collect();
        types.sort_by(|a, b| a.1.cmp(b.1));
        for (qapi, rust) in types {
            if let Some(s) = self.def_schema(qapi) {
                defs.insert(rust.clone(), s);
            }
        }
        let mut commands = Map::new();
        for c in self.model.commands() {
            let Some(tn) = self.plan.commands.get(&c.common.name) else {
                continue;
            };
            let args = match &self.plan.payloads[&c.common.name] {
                Payload::None => json!({"type": "object"}),
                Payload::Inline(a) => self.def_schema(a).unwrap_or(json!({"type": "object"})),
                Payload::Named(t) => self.type_schema(t),
            };
            if !defs.contains_key(tn) {
                defs.insert(tn.clone(), args.clone());
            }
            let ret = match &c.ret_type {
                Some(t) => self.type_schema(t),
                None => json!({"type": "object"}),
            };
            commands.insert(
                c.common.name.clone(),
                obj([("arguments", reference(tn)), ("returns", ret)]),
            );
        }
        let mut events = Map::new();
        let mut event_branches = Vec::new();
        for e in self.model.events() {
            let Some((tn, _)) = self.plan.events.get(&e.common.name) else {
                continue;
            };
            let data = match &self.plan.payloads[&e.common.name] {
                Payload::None => json!({"type": "object"}),
                Payload::Inline(a) => self.def_schema(a).unwrap_or(json!({"type": "object"})),
                Payload::Named(t) => self.type_schema(t),
            };
            if !defs.contains_key(tn) {
                defs.insert(tn.clone(), data);
            }
            events.insert(e.common.name.clone(), obj([("data", reference(tn))]));
            event_branches.push(obj([
                ("type", "object".into()),
                (
                    "properties",
                    obj([
                        ("event", obj([("const", e.common.name.clone().into())])),
                        ("data", reference(tn)),
                    ]),
                ),
                ("required", Value::Array(vec!["event".into()])),
            ]));
        }
        defs.insert("Event".into(), one_of(event_branches));
        let req: Vec<Value> = commands
            .iter()
            .map(|(n, c)| {
                obj([
                    ("type", "object".into()),
                    (
                        "properties",
                        obj([
                            ("execute", obj([("const", n.clone().into())])),
                            ("arguments", c["arguments"].clone()),
                        ]),
                    ),
                    ("required", Value::Array(vec!["execute".into()])),
                ])
            })
            .collect();
        defs.insert("Request".into(), one_of(req));
        obj([
            (
                "$schema",
                "https://json-schema.org/draft/2020-12/schema".into(),
            ),
            ("$defs", Value::Object(defs)),
            ("commands", Value::Object(commands)),
            ("events", Value::Object(events)),
        ])
    }
}

/// `oneOf` the branches; a schema without any (e.g. the guest agent's has
/// no events) matches nothing, since `oneOf` must not be empty.
fn one_of(branches: Vec<Value>) -> Value {
    if branches.is_empty() {
        json!({"not": {}})
    } else {
        obj([("oneOf", Value::Array(branches))])
    }
}

/// An object from its members, moving the values (`json!` would copy
/// every interpolated `Value` through serialization).
fn obj<K: Into<String>, const N: usize>(members: [(K, Value); N]) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// `{"$ref": "#/$defs/NAME"}`.
fn reference(name: &str) -> Value {
    obj([("$ref", Value::String(format!("#/$defs/{name}")))])
}

fn num(n: i128) -> Value {
    if let Ok(i) = i64::try_from(n) {
        json!(i)
    } else if let Ok(u) = u64::try_from(n) {
        json!(u)
    } else {
        json!(n as f64)
    }
}
