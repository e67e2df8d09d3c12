//! The second reader: a saved `query-qmp-schema` reply → [`Model`].
//!
//! QEMU describes its own schema at run time with a list of `SchemaInfo`
//! objects (see QEMU's `qapi/introspect.json`). This reader accepts either
//! the bare list or a whole reply object `{"return": [...]}` and builds the
//! same [`Model`] the source reader builds, with [`Origin::Introspection`].
//!
//! What introspection does not say, and how the model represents it:
//!
//! * Type names other than built-ins, commands and events are masked
//!   (numbers such as `"42"`); array types are named `[T]` after their
//!   element type. The model keeps these names as they are.
//! * There are no docs, no conditions (QEMU already evaluated them), no
//!   `since`, no `prefix`, no bases (object members arrive flattened, so
//!   `local_members == members` and `base` is `None`) and no names for
//!   alternate branches (each branch is named after its type).
//! * QEMU reports every integer type as `int` (and every integer array as
//!   `[int]`), so `int_range` of built-ins is `None`: the range is unknown.
//! * Commands always have an `arg-type` and a `ret-type`, and events an
//!   `arg-type`; QEMU points those without one at the empty object type.
//!   The model maps a reference to an object without members and branches
//!   back to `None`, as the source reader has it.
//! * Only `allow-oob` is reported of the command flags; the others take
//!   their defaults (`gen`, `success-response` true; `boxed`,
//!   `allow-preconfig`, `coroutine` false).
//!
//! Built-in types go to module `./builtin`, everything else to one module
//! named after the file. Every entity, member, branch, feature and enum
//! value carries a [`Span`] into the reply text. Unknown keys are ignored
//! (for forward compatibility); everything the reader relies on is checked,
//! and the first problem is reported as a [`Diagnostic`] with its location.

use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostic, DiagnosticKind};
use crate::json::{self, JsonKind, JsonValue, LineIndex};
use crate::model::{
    Alternate, Array, Builtin, Command, Common, Entity, Enum, EnumMember, Event, Feature, JsonType,
    Member, Model, ModuleId, Object, Origin, Variant, Variants,
};
use crate::source::{SourceFile, SourceMap, Span};

/// Whether `text` looks like a `query-qmp-schema` reply (rather than QAPI
/// source or a snapshot): a JSON array that is empty or starts with an
/// object with a `"`-quoted key, or a JSON object that has a `"return"` key
/// and is not a snapshot. QAPI source quotes with `'`, never `"`, so
/// (even malformed) source such as `['a'` is left to the source parser.
pub fn looks_like_introspection(text: &str) -> bool {
    const WS: [char; 5] = ['\u{feff}', ' ', '\t', '\r', '\n'];
    let t = text.trim_start_matches(WS);
    if let Some(rest) = t.strip_prefix('[') {
        let rest = rest.trim_start_matches(WS);
        return rest.starts_with(']')
            || rest
                .strip_prefix('{')
                .is_some_and(|r| r.trim_start_matches(WS).starts_with('"'));
    }
    match t.strip_prefix('{') {
        Some(rest) => {
            let rest = rest.trim_start();
            rest.starts_with("\"return\"")
                || (rest.starts_with('"')
                    && !crate::snapshot::looks_like_snapshot(t)
                    && t.contains("\"return\""))
        }
        None => false,
    }
}

/// Reads a `query-qmp-schema` reply (the text of file `name`) into a model.
pub fn from_introspection_json(name: &str, text: &str) -> Result<Model, crate::Error> {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile {
        name: name.to_owned(),
        path: name.into(),
        text: text.to_owned(),
        included_from: None,
    });
    let idx = LineIndex::new(text, file);
    let cx = Cx { idx, file: name };
    let result = cx.read(text);
    match result {
        Ok(mut model) => {
            model.sources = sources;
            Ok(model)
        }
        Err(diagnostic) => Err(crate::Error {
            diagnostic,
            sources,
        }),
    }
}

type R<T> = Result<T, Box<Diagnostic>>;

struct Cx<'a> {
    idx: LineIndex<'a>,
    file: &'a str,
}

/// A type reference to check once everything is read.
struct Ref {
    name: String,
    span: Span,
    /// The entity making the reference, for the message context.
    owner: String,
    what: &'static str,
    /// Must the referenced type be an object?
    object: bool,
}

impl<'a> Cx<'a> {
    fn diag(&self, kind: DiagnosticKind, span: Span, msg: impl Into<String>) -> Box<Diagnostic> {
        Box::new(Diagnostic::new(kind, msg, self.file, span))
    }

    fn bad(&self, v: &JsonValue, msg: impl Into<String>) -> Box<Diagnostic> {
        self.diag(DiagnosticKind::Semantic, self.idx.of(v), msg)
    }

    fn read(&self, text: &str) -> R<Model> {
        let root = json::parse(text).map_err(|e| {
            let end = e.offset.saturating_add(1).min(text.len() as u32);
            self.diag(
                DiagnosticKind::Syntax,
                self.idx.span(e.offset, end.max(e.offset)),
                e.message,
            )
        })?;
        let list = match &root.kind {
            JsonKind::Array(a) => a,
            JsonKind::Object(_) => match root.get("return") {
                Some(JsonValue {
                    kind: JsonKind::Array(a),
                    ..
                }) => a,
                Some(other) => {
                    return Err(self.bad(
                        other,
                        format!("'return' must be an array, not {}", other.type_name()),
                    ));
                }
                None => {
                    let msg = if root.get("error").is_some() {
                        "the reply is an error reply, not a schema"
                    } else {
                        "expected an array of SchemaInfo or a reply object with 'return'"
                    };
                    return Err(self.bad(&root, msg));
                }
            },
            _ => {
                return Err(self.bad(
                    &root,
                    format!(
                        "expected an array of SchemaInfo or a reply object, not {}",
                        root.type_name()
                    ),
                ));
            }
        };

        let mut model = Model {
            origin: Origin::Introspection,
            ..Model::default()
        };
        let builtin = model.add_module("./builtin");
        let main = model.add_module(self.file);
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut refs = Vec::new();
        for item in list {
            let entity = self.entity(item, builtin, main, &mut refs)?;
            let c = entity.common().expect("readers only build definitions");
            let span = c.span.unwrap_or_else(|| self.idx.of(item));
            if let Some(first) = seen.get(&c.name) {
                return Err(self.diag(
                    DiagnosticKind::Semantic,
                    span,
                    format!("'{}' is already defined (at line {})", c.name, first.line),
                ));
            }
            seen.insert(c.name.clone(), span);
            model.push(entity);
        }
        self.check_refs(&model, &refs)?;
        self.check_entities(&model)?;
        normalize_empty(&mut model);
        Ok(model)
    }

    fn obj<'v>(&self, v: &'v JsonValue, what: &str) -> R<&'v [(json::JsonKey, JsonValue)]> {
        v.as_object().ok_or_else(|| {
            self.bad(
                v,
                format!("{what} must be an object, not {}", v.type_name()),
            )
        })
    }

    fn req<'v>(&self, o: &'v JsonValue, key: &str, ctx: &str) -> R<&'v JsonValue> {
        o.get(key)
            .ok_or_else(|| self.bad(o, format!("{ctx} lacks member '{key}'")))
    }

    fn string(&self, v: &JsonValue, what: &str) -> R<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.bad(v, format!("{what} must be a string, not {}", v.type_name())))
    }

    fn req_str(&self, o: &JsonValue, key: &str, ctx: &str) -> R<(String, Span)> {
        let v = self.req(o, key, ctx)?;
        Ok((
            self.string(v, &format!("'{key}' of {ctx}"))?,
            self.idx.of(v),
        ))
    }

    fn array<'v>(&self, v: &'v JsonValue, what: &str) -> R<&'v [JsonValue]> {
        v.as_array()
            .ok_or_else(|| self.bad(v, format!("{what} must be an array, not {}", v.type_name())))
    }

    fn features(&self, o: &JsonValue, ctx: &str) -> R<Vec<Feature>> {
        let Some(v) = o.get("features") else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Feature> = Vec::new();
        for f in self.array(v, &format!("'features' of {ctx}"))? {
            let name = self.string(f, &format!("feature of {ctx}"))?;
            if out.iter().any(|g| g.name == name) {
                return Err(self.bad(f, format!("duplicate feature '{name}' in {ctx}")));
            }
            out.push(Feature {
                name,
                span: Some(self.idx.of(f)),
                cond: None,
            });
        }
        Ok(out)
    }

    fn entity(
        &self,
        item: &JsonValue,
        builtin: ModuleId,
        main: ModuleId,
        refs: &mut Vec<Ref>,
    ) -> R<Entity> {
        self.obj(item, "a SchemaInfo")?;
        let (name, _) = self.req_str(item, "name", "SchemaInfo")?;
        let ctx = format!("'{name}'");
        let (meta, meta_span) = self.req_str(item, "meta-type", &ctx)?;
        let span = self.idx.of(item);
        let common = |module| -> R<Common> {
            Ok(Common {
                name: name.clone(),
                span: Some(span),
                module,
                cond: None,
                features: self.features(item, &ctx)?,
                doc: None,
                since: None,
                implicit: false,
            })
        };
        let mut reference = |v: &JsonValue, what: &'static str, object: bool| -> R<String> {
            let n = self.string(v, &format!("{what} of {ctx}"))?;
            refs.push(Ref {
                name: n.clone(),
                span: self.idx.of(v),
                owner: name.clone(),
                what,
                object,
            });
            Ok(n)
        };
        Ok(match meta.as_str() {
            "builtin" => {
                let (jt, jt_span) = self.req_str(item, "json-type", &ctx)?;
                let json_type = parse_json_type(&jt).ok_or_else(|| {
                    self.diag(
                        DiagnosticKind::Semantic,
                        jt_span,
                        format!("unknown json-type '{jt}' of {ctx}"),
                    )
                })?;
                Entity::Builtin(Builtin {
                    common: common(builtin)?,
                    json_type,
                    int_range: None,
                })
            }
            "enum" => Entity::Enum(Enum {
                common: common(main)?,
                members: self.enum_members(item, &ctx)?,
                prefix: None,
            }),
            "array" => {
                let el = self.req(item, "element-type", &ctx)?;
                let element = reference(el, "'element-type'", false)?;
                let expected = format!("[{element}]");
                if name != expected {
                    return Err(self.bad(
                        item,
                        format!("array type {ctx} should be named '{expected}'"),
                    ));
                }
                let mut common = common(main)?;
                common.implicit = true;
                Entity::Array(Array { common, element })
            }
            "object" => {
                let mv = self.req(item, "members", &ctx)?;
                let mut members: Vec<Member> = Vec::new();
                for m in self.array(mv, &format!("'members' of {ctx}"))? {
                    self.obj(m, &format!("a member of {ctx}"))?;
                    let (mname, _) = self.req_str(m, "name", &format!("a member of {ctx}"))?;
                    let mctx = format!("member '{mname}' of {ctx}");
                    if members.iter().any(|o| o.name == mname) {
                        return Err(self.bad(m, format!("duplicate {mctx}")));
                    }
                    let ty = reference(self.req(m, "type", &mctx)?, "a member type", false)?;
                    let optional = match m.get("default") {
                        None => false,
                        Some(JsonValue {
                            kind: JsonKind::Null,
                            ..
                        }) => true,
                        // QEMU has never sent a non-null default; a value
                        // would still mean the member may be absent.
                        Some(_) => true,
                    };
                    members.push(Member {
                        name: mname,
                        ty,
                        optional,
                        span: Some(self.idx.of(m)),
                        cond: None,
                        features: self.features(m, &mctx)?,
                        defined_in: name.clone(),
                        doc: None,
                    });
                }
                let variants = match (item.get("tag"), item.get("variants")) {
                    (None, None) => None,
                    (Some(t), Some(vs)) => {
                        let tag = self.string(t, &format!("'tag' of {ctx}"))?;
                        if !members.iter().any(|m| m.name == tag) {
                            return Err(self.bad(
                                t,
                                format!("'tag' '{tag}' of {ctx} is not one of its members"),
                            ));
                        }
                        let mut variants: Vec<Variant> = Vec::new();
                        for v in self.array(vs, &format!("'variants' of {ctx}"))? {
                            self.obj(v, &format!("a variant of {ctx}"))?;
                            let (case, _) =
                                self.req_str(v, "case", &format!("a variant of {ctx}"))?;
                            if variants.iter().any(|o| o.name == case) {
                                return Err(
                                    self.bad(v, format!("duplicate variant '{case}' of {ctx}"))
                                );
                            }
                            let vctx = format!("variant '{case}' of {ctx}");
                            let ty =
                                reference(self.req(v, "type", &vctx)?, "a variant type", true)?;
                            variants.push(Variant {
                                name: case,
                                ty,
                                span: Some(self.idx.of(v)),
                                cond: None,
                            });
                        }
                        Some(Variants { tag, variants })
                    }
                    (Some(_), None) => {
                        return Err(self.bad(item, format!("{ctx} has 'tag' but no 'variants'")));
                    }
                    (None, Some(_)) => {
                        return Err(self.bad(item, format!("{ctx} has 'variants' but no 'tag'")));
                    }
                };
                Entity::Object(Object {
                    common: common(main)?,
                    base: None,
                    local_members: members.clone(),
                    members,
                    variants,
                    simple_union: false,
                })
            }
            "alternate" => {
                let mv = self.req(item, "members", &ctx)?;
                let mut variants: Vec<Variant> = Vec::new();
                for m in self.array(mv, &format!("'members' of {ctx}"))? {
                    self.obj(m, &format!("a member of {ctx}"))?;
                    let ty = reference(
                        self.req(m, "type", &format!("a member of {ctx}"))?,
                        "an alternative",
                        false,
                    )?;
                    if variants.iter().any(|v| v.ty == ty) {
                        return Err(self.bad(m, format!("duplicate alternative '{ty}' of {ctx}")));
                    }
                    variants.push(Variant {
                        name: ty.clone(),
                        ty,
                        span: Some(self.idx.of(m)),
                        cond: None,
                    });
                }
                if variants.is_empty() {
                    return Err(self.bad(mv, format!("alternate {ctx} has no alternatives")));
                }
                Entity::Alternate(Alternate {
                    common: common(main)?,
                    variants: Variants {
                        tag: "type".into(),
                        variants,
                    },
                })
            }
            "command" => {
                let arg = reference(self.req(item, "arg-type", &ctx)?, "'arg-type'", true)?;
                let ret = reference(self.req(item, "ret-type", &ctx)?, "'ret-type'", false)?;
                let allow_oob = match item.get("allow-oob") {
                    None => false,
                    Some(v) => v.as_bool().ok_or_else(|| {
                        self.bad(v, format!("'allow-oob' of {ctx} must be a boolean"))
                    })?,
                };
                Entity::Command(Command {
                    common: common(main)?,
                    arg_type: Some(arg),
                    ret_type: Some(ret),
                    generate: true,
                    success_response: true,
                    boxed: false,
                    allow_oob,
                    allow_preconfig: false,
                    coroutine: false,
                })
            }
            "event" => {
                let arg = reference(self.req(item, "arg-type", &ctx)?, "'arg-type'", true)?;
                Entity::Event(Event {
                    common: common(main)?,
                    arg_type: Some(arg),
                    boxed: false,
                })
            }
            other => {
                return Err(self.diag(
                    DiagnosticKind::Semantic,
                    meta_span,
                    format!("unknown meta-type '{other}' of {ctx}"),
                ));
            }
        })
    }

    fn enum_members(&self, item: &JsonValue, ctx: &str) -> R<Vec<EnumMember>> {
        let mut out: Vec<EnumMember> = Vec::new();
        let from_members = item.get("members");
        if let Some(mv) = from_members {
            for m in self.array(mv, &format!("'members' of {ctx}"))? {
                self.obj(m, &format!("a member of {ctx}"))?;
                let (name, _) = self.req_str(m, "name", &format!("a member of {ctx}"))?;
                if out.iter().any(|o| o.name == name) {
                    return Err(self.bad(m, format!("duplicate value '{name}' of {ctx}")));
                }
                let features = self.features(m, &format!("value '{name}' of {ctx}"))?;
                out.push(EnumMember {
                    name,
                    span: Some(self.idx.of(m)),
                    cond: None,
                    features,
                });
            }
        }
        match item.get("values") {
            Some(vv) => {
                let values = self.array(vv, &format!("'values' of {ctx}"))?;
                if from_members.is_some() {
                    let names = values
                        .iter()
                        .map(|v| self.string(v, &format!("a value of {ctx}")))
                        .collect::<R<Vec<_>>>()?;
                    if names.len() != out.len() || names.iter().zip(&out).any(|(a, b)| *a != b.name)
                    {
                        return Err(
                            self.bad(vv, format!("'values' of {ctx} do not match its 'members'"))
                        );
                    }
                } else {
                    for v in values {
                        let name = self.string(v, &format!("a value of {ctx}"))?;
                        if out.iter().any(|o| o.name == name) {
                            return Err(self.bad(v, format!("duplicate value '{name}' of {ctx}")));
                        }
                        out.push(EnumMember {
                            name,
                            span: Some(self.idx.of(v)),
                            cond: None,
                            features: Vec::new(),
                        });
                    }
                }
            }
            None if from_members.is_none() => {
                return Err(self.bad(item, format!("{ctx} lacks member 'values'")));
            }
            None => {}
        }
        Ok(out)
    }

    fn check_refs(&self, model: &Model, refs: &[Ref]) -> R<()> {
        for r in refs {
            let ok = match model.get(&r.name) {
                None => {
                    return Err(self.diag(
                        DiagnosticKind::Semantic,
                        r.span,
                        format!("{} of '{}' uses unknown type '{}'", r.what, r.owner, r.name),
                    ));
                }
                Some(Entity::Object(_)) => true,
                Some(e) => e.is_type() && !r.object,
            };
            if !ok {
                let want = if r.object { "an object type" } else { "a type" };
                return Err(self.diag(
                    DiagnosticKind::Semantic,
                    r.span,
                    format!(
                        "{} of '{}' must be {want}, but '{}' is not",
                        r.what, r.owner, r.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks that need the referenced types: union tags are enum members
    /// and branch names are values of that enum.
    fn check_entities(&self, model: &Model) -> R<()> {
        for e in &model.entities {
            let Entity::Object(o) = e else { continue };
            let Some(vs) = &o.variants else { continue };
            let span = o.common.span.unwrap_or(Span {
                file: crate::source::FileId(0),
                start: 0,
                end: 0,
                line: 1,
                col: 1,
            });
            let tag = o.members.iter().find(|m| m.name == vs.tag);
            let Some(tag) = tag else { continue };
            let Some(en) = model.enum_type(&tag.ty) else {
                return Err(self.diag(
                    DiagnosticKind::Semantic,
                    tag.span.unwrap_or(span),
                    format!(
                        "discriminator '{}' of '{}' must be of enum type, not '{}'",
                        vs.tag, o.common.name, tag.ty
                    ),
                ));
            };
            let values: HashSet<&str> = en.members.iter().map(|m| m.name.as_str()).collect();
            for v in &vs.variants {
                if !values.contains(v.name.as_str()) {
                    return Err(self.diag(
                        DiagnosticKind::Semantic,
                        v.span.unwrap_or(span),
                        format!(
                            "branch '{}' of '{}' is not a value of its discriminator's type '{}'",
                            v.name, o.common.name, en.common.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn parse_json_type(s: &str) -> Option<JsonType> {
    Some(match s {
        "string" => JsonType::String,
        "int" => JsonType::Int,
        "number" => JsonType::Number,
        "boolean" => JsonType::Boolean,
        "null" => JsonType::Null,
        "object" => JsonType::Object,
        "array" => JsonType::Array,
        "value" => JsonType::Value,
        _ => return None,
    })
}

/// Whether `name` is an object type without members or branches (QEMU's
/// stand-in for "no arguments" / "no return value").
fn is_empty_object(model: &Model, name: &str) -> bool {
    model
        .object(name)
        .is_some_and(|o| o.members.is_empty() && o.variants.is_none())
}

fn normalize_empty(model: &mut Model) {
    let empties: HashSet<String> = model
        .entities
        .iter()
        .filter_map(|e| match e {
            Entity::Object(o) if is_empty_object(model, &o.common.name) => {
                Some(o.common.name.clone())
            }
            _ => None,
        })
        .collect();
    let clear = |t: &mut Option<String>| {
        if t.as_ref().is_some_and(|n| empties.contains(n)) {
            *t = None;
        }
    };
    for e in &mut model.entities {
        match e {
            Entity::Command(c) => {
                clear(&mut c.arg_type);
                clear(&mut c.ret_type);
            }
            Entity::Event(ev) => clear(&mut ev.arg_type),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{"return": [
  {"name": "query-foo", "meta-type": "command", "arg-type": "0", "ret-type": "1"},
  {"name": "do-bar", "meta-type": "command", "arg-type": "2", "ret-type": "0",
   "allow-oob": true, "features": ["unstable"]},
  {"name": "BAR_DONE", "meta-type": "event", "arg-type": "2"},
  {"name": "0", "meta-type": "object", "members": []},
  {"name": "1", "meta-type": "object", "members": [
     {"name": "id", "type": "str"},
     {"name": "sizes", "type": "[int]", "default": null, "features": ["deprecated"]}]},
  {"name": "2", "meta-type": "object", "tag": "kind",
   "members": [{"name": "kind", "type": "3"}, {"name": "v", "type": "4", "default": null}],
   "variants": [{"case": "a", "type": "1"}, {"case": "b", "type": "0"}]},
  {"name": "3", "meta-type": "enum", "members": [{"name": "a"}, {"name": "b", "features": ["x"]}],
   "values": ["a", "b"]},
  {"name": "4", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "null"}]},
  {"name": "str", "meta-type": "builtin", "json-type": "string"},
  {"name": "int", "meta-type": "builtin", "json-type": "int"},
  {"name": "null", "meta-type": "builtin", "json-type": "null"},
  {"name": "[int]", "meta-type": "array", "element-type": "int"}
]}"#;

    fn err(text: &str) -> Diagnostic {
        *from_introspection_json("reply.json", text)
            .expect_err("should be rejected")
            .diagnostic
    }

    #[test]
    fn reads_small_reply() {
        let m = from_introspection_json("reply.json", SMALL).unwrap();
        assert_eq!(m.origin, Origin::Introspection);
        assert_eq!(m.modules[0].name, "./builtin");
        assert_eq!(m.modules[0].entities.len(), 3);
        let cmds: Vec<_> = m.commands().collect();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].arg_type, None);
        assert_eq!(cmds[0].ret_type.as_deref(), Some("1"));
        assert_eq!(cmds[1].ret_type, None);
        assert!(cmds[1].allow_oob && cmds[1].common.is_unstable());
        let ev = m.events().next().unwrap();
        assert_eq!(ev.arg_type.as_deref(), Some("2"));
        let o = m.object("1").unwrap();
        assert_eq!(o.members[1].ty, "[int]");
        assert!(o.members[1].optional && !o.members[0].optional);
        assert_eq!(o.members[1].features[0].name, "deprecated");
        let sp = o.members[1].span.unwrap();
        assert_eq!((sp.line, sp.col), (9, 6));
        let u = m.object("2").unwrap();
        let vs = u.variants.as_ref().unwrap();
        assert_eq!(vs.tag, "kind");
        assert_eq!(vs.variants[1].ty, "0");
        let e = m.enum_type("3").unwrap();
        assert_eq!(e.members[1].features[0].name, "x");
        let Some(Entity::Alternate(a)) = m.get("4") else {
            panic!("not an alternate")
        };
        assert_eq!(a.variants.variants.len(), 2);
        let Some(Entity::Array(arr)) = m.get("[int]") else {
            panic!("not an array")
        };
        assert_eq!(arr.element, "int");
        assert_eq!(m.sources.get(crate::FileId(0)).name, "reply.json");
    }

    #[test]
    fn bare_array_and_values_only_enum() {
        let t = r#"[{"name": "e", "meta-type": "enum", "values": ["x", "y"]}]"#;
        let m = from_introspection_json("r", t).unwrap();
        assert_eq!(m.enum_type("e").unwrap().members.len(), 2);
    }

    #[test]
    fn unknown_type_is_located() {
        let t = "[\n {\"name\": \"c\", \"meta-type\": \"command\",\n  \"arg-type\": \"9\", \"ret-type\": \"9\"}]";
        let d = err(t);
        assert_eq!(d.message, "'arg-type' of 'c' uses unknown type '9'");
        assert_eq!((d.line, d.col), (3, 15));
        assert_eq!(
            d.to_string(),
            "reply.json:3:15: 'arg-type' of 'c' uses unknown type '9'"
        );
    }

    #[test]
    fn rejects_malformed() {
        let cases = [
            ("{\"error\": {}}", "error reply"),
            ("{\"return\": {}}", "must be an array"),
            ("[1]", "must be an object"),
            ("[{\"name\": \"x\"}]", "lacks member 'meta-type'"),
            (
                "[{\"name\": \"x\", \"meta-type\": \"blob\"}]",
                "unknown meta-type",
            ),
            (
                "[{\"name\": \"e\", \"meta-type\": \"enum\", \"values\": []}, {\"name\": \"e\", \"meta-type\": \"enum\", \"values\": []}]",
                "already defined",
            ),
            (
                "[{\"name\": \"e\", \"meta-type\": \"enum\", \"values\": [\"a\", \"a\"]}]",
                "duplicate value",
            ),
            (
                "[{\"name\": \"e\", \"meta-type\": \"enum\", \"members\": [{\"name\": \"a\"}], \"values\": [\"b\"]}]",
                "do not match",
            ),
            (
                "[{\"name\": \"[str]\", \"meta-type\": \"array\", \"element-type\": \"int\"}, {\"name\": \"int\", \"meta-type\": \"builtin\", \"json-type\": \"int\"}]",
                "should be named '[int]'",
            ),
            (
                "[{\"name\": \"o\", \"meta-type\": \"object\", \"members\": [], \"tag\": \"t\", \"variants\": []}]",
                "not one of its members",
            ),
            (
                "[{\"name\": \"c\", \"meta-type\": \"event\", \"arg-type\": \"int\"}, {\"name\": \"int\", \"meta-type\": \"builtin\", \"json-type\": \"int\"}]",
                "must be an object type",
            ),
            (
                "[{\"name\": \"b\", \"meta-type\": \"builtin\", \"json-type\": \"word\"}]",
                "unknown json-type",
            ),
            (
                "[{\"name\": \"a\", \"meta-type\": \"alternate\", \"members\": []}]",
                "no alternatives",
            ),
            (
                "[{\"name\": \"x\", \"meta-type\": \"enum\", \"values\": [], \"features\": [1]}]",
                "must be a string",
            ),
            ("[{]", "expected a string key"),
        ];
        for (text, want) in cases {
            let d = err(text);
            assert!(d.message.contains(want), "{text}: got {:?}", d.message);
            assert!(d.line >= 1, "{text}: no location");
        }
    }

    #[test]
    fn detection() {
        assert!(looks_like_introspection("  [ {\"name\""));
        assert!(looks_like_introspection("[]"));
        assert!(!looks_like_introspection("['a', 'b'"));
        assert!(!looks_like_introspection("[{'a': 'b'}]"));
        assert!(looks_like_introspection("\n{ \"return\": []}"));
        assert!(!looks_like_introspection(
            "# comment\n{ 'include': 'x.json' }"
        ));
        assert!(!looks_like_introspection("{ 'command': 'x' }"));
        assert!(!looks_like_introspection(
            "{\"format\": \"qmp-rs-snapshot/1\"}"
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_mutations(pos in 0usize..2000, len in 0usize..8, ins in "[\\[\\]{}\",:0-9a-z ]{0,6}") {
            let mut bytes = SMALL.as_bytes().to_vec();
            let p = pos.min(bytes.len());
            let e = (p + len).min(bytes.len());
            bytes.splice(p..e, ins.bytes());
            if let Ok(t) = String::from_utf8(bytes) {
                let _ = from_introspection_json("m.json", &t);
            }
        }
    }
}
