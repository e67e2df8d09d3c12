//! Two readers, one truth: compares a model read from a `query-qmp-schema`
//! reply with the model read from the QAPI source it was built from.
//!
//! Introspection masks type names, so the comparison is structural: starting
//! at every command and event of the reply, both type graphs are walked in
//! parallel. A memo of `(reply type, source type)` pairs already being
//! compared makes recursive types terminate, and a second map checks that
//! each masked name always stands for the same source type.
//!
//! What counts as equal, given what introspection hides:
//!
//! * built-in types compare by JSON type (QEMU reports `int8`…`uint64` and
//!   `size` as `int`);
//! * enums compare by values: every value of the reply must exist in the
//!   source, every unconditional source value must be in the reply, in the
//!   same relative order (conditional values may have been compiled out);
//! * objects compare by all members (including inherited ones): name,
//!   optionality and type; conditional source members may be missing;
//! * unions compare by tag and branches (branch name → branch type);
//! * alternates compare by their branches' types, in order;
//! * features compare by name, conditional source features may be missing;
//! * commands also compare `allow-oob`. An argument or return type that is
//!   an object without members or branches counts as none.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::model::{Entity, Feature, Member, Model, Object};
use crate::source::Span;

/// One difference between the reply and the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Where in the schema: `command 'x' > returns > member 'y'`.
    pub path: String,
    /// What differs.
    pub message: String,
    /// The reply element concerned, if known.
    pub span: Option<Span>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) => write!(f, "{}:{}: {}: {}", s.line, s.col, self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The result of [`compare_introspection`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Every mismatch found, in reply order; empty means the two agree.
    pub mismatches: Vec<Mismatch>,
    /// How many (reply type, source type) pairs were compared.
    pub type_pairs: usize,
    /// Masked reply type name → the source type it stands for.
    pub masked_names: HashMap<String, String>,
}

/// Compares `reply` (read with
/// [`from_introspection_json`](crate::from_introspection_json)) with
/// `source` (read from QAPI source, or a snapshot).
pub fn compare_introspection(reply: &Model, source: &Model) -> Comparison {
    let mut cx = Cx {
        r: reply,
        s: source,
        assumed: HashSet::new(),
        masked: HashMap::new(),
        out: Vec::new(),
        path: Vec::new(),
    };
    for e in &reply.entities {
        match e {
            Entity::Command(c) => {
                cx.path.push(format!("command '{}'", c.common.name));
                match source.get(&c.common.name) {
                    Some(Entity::Command(sc)) => {
                        cx.features(&c.common.features, &sc.common.features, c.common.span);
                        if c.allow_oob != sc.allow_oob {
                            cx.report(
                                c.common.span,
                                format!(
                                    "allow-oob is {} in the reply but {} in the source",
                                    c.allow_oob, sc.allow_oob
                                ),
                            );
                        }
                        cx.path.push("arguments".into());
                        cx.optional_type(
                            c.arg_type.as_deref(),
                            sc.arg_type.as_deref(),
                            c.common.span,
                        );
                        cx.path.pop();
                        cx.path.push("returns".into());
                        cx.optional_type(
                            c.ret_type.as_deref(),
                            sc.ret_type.as_deref(),
                            c.common.span,
                        );
                        cx.path.pop();
                    }
                    _ => cx.report(c.common.span, "no such command in the source".into()),
                }
                cx.path.pop();
            }
            Entity::Event(ev) => {
                cx.path.push(format!("event '{}'", ev.common.name));
                match source.get(&ev.common.name) {
                    Some(Entity::Event(se)) => {
                        cx.features(&ev.common.features, &se.common.features, ev.common.span);
                        cx.path.push("data".into());
                        cx.optional_type(
                            ev.arg_type.as_deref(),
                            se.arg_type.as_deref(),
                            ev.common.span,
                        );
                        cx.path.pop();
                    }
                    _ => cx.report(ev.common.span, "no such event in the source".into()),
                }
                cx.path.pop();
            }
            _ => {}
        }
    }
    // Unconditional commands and events of the source must all be there.
    for e in &source.entities {
        let (kind, c) = match e {
            Entity::Command(c) => ("command", &c.common),
            Entity::Event(ev) => ("event", &ev.common),
            _ => continue,
        };
        if c.cond.is_none() && reply.get(&c.name).is_none() {
            cx.out.push(Mismatch {
                path: format!("{kind} '{}'", c.name),
                message: "unconditional in the source but missing from the reply".into(),
                span: None,
            });
        }
    }
    Comparison {
        mismatches: cx.out,
        type_pairs: cx.assumed.len(),
        masked_names: cx.masked,
    }
}

struct Cx<'a> {
    r: &'a Model,
    s: &'a Model,
    assumed: HashSet<(String, String)>,
    masked: HashMap<String, String>,
    out: Vec<Mismatch>,
    path: Vec<String>,
}

fn is_masked(m: &Model, name: &str) -> bool {
    !matches!(
        m.get(name),
        Some(Entity::Builtin(_)) | Some(Entity::Array(_))
    )
}

/// All members of a source object: `members` when the checker filled it,
/// else the base chain's followed by the local ones.
fn all_members<'m>(m: &'m Model, o: &'m Object) -> Vec<&'m Member> {
    if o.members.len() >= o.local_members.len() && !(o.members.is_empty() && o.base.is_some()) {
        return o.members.iter().collect();
    }
    let mut chain = vec![o];
    let mut cur = o;
    while let Some(b) = cur.base.as_deref().and_then(|b| m.object(b)) {
        if chain.len() > 64 || chain.iter().any(|c| c.common.name == b.common.name) {
            break;
        }
        chain.push(b);
        cur = b;
    }
    chain
        .iter()
        .rev()
        .flat_map(|c| c.local_members.iter())
        .collect()
}

fn type_kind(e: Option<&Entity>) -> &'static str {
    match e {
        Some(Entity::Builtin(_)) => "built-in type",
        Some(Entity::Enum(_)) => "enum",
        Some(Entity::Array(_)) => "array",
        Some(Entity::Object(o)) if o.variants.is_some() => "union",
        Some(Entity::Object(_)) => "struct",
        Some(Entity::Alternate(_)) => "alternate",
        Some(Entity::Command(_)) => "command",
        Some(Entity::Event(_)) => "event",
        Some(Entity::Include(_)) => "include",
        None => "unknown type",
    }
}

impl Cx<'_> {
    fn report(&mut self, span: Option<Span>, message: String) {
        self.out.push(Mismatch {
            path: self.path.join(" > "),
            message,
            span,
        });
    }

    fn empty_source(&self, name: Option<&str>) -> bool {
        name.and_then(|n| self.s.object(n))
            .is_some_and(|o| all_members(self.s, o).is_empty() && o.variants.is_none())
    }

    fn optional_type(&mut self, r: Option<&str>, s: Option<&str>, span: Option<Span>) {
        let s = if self.empty_source(s) { None } else { s };
        match (r, s) {
            (None, None) => {}
            (Some(r), Some(s)) => self.ty(r, s, span),
            (Some(r), None) => {
                self.report(span, format!("type '{r}' in the reply, none in the source"))
            }
            (None, Some(s)) => self.report(span, format!("none in the reply, '{s}' in the source")),
        }
    }

    fn features(&mut self, r: &[Feature], s: &[Feature], span: Option<Span>) {
        for f in r {
            if !s.iter().any(|g| g.name == f.name) {
                self.report(
                    f.span.or(span),
                    format!("feature '{}' not in the source", f.name),
                );
            }
        }
        for g in s {
            if g.cond.is_none() && !r.iter().any(|f| f.name == g.name) {
                self.report(
                    span,
                    format!("unconditional feature '{}' missing from the reply", g.name),
                );
            }
        }
    }

    fn ty(&mut self, rn: &str, sn: &str, span: Option<Span>) {
        if !self.assumed.insert((rn.to_owned(), sn.to_owned())) {
            return;
        }
        if is_masked(self.r, rn) {
            match self.masked.get(rn) {
                Some(prev) if prev != sn => {
                    let prev = prev.clone();
                    self.report(
                        span,
                        format!("reply type '{rn}' stands for source type '{prev}' elsewhere, but for '{sn}' here"),
                    );
                    return;
                }
                Some(_) => {}
                None => {
                    self.masked.insert(rn.to_owned(), sn.to_owned());
                }
            }
        }
        let (r, s) = (self.r.get(rn), self.s.get(sn));
        match (r, s) {
            (Some(Entity::Builtin(rb)), Some(Entity::Builtin(sb))) => {
                if rb.json_type != sb.json_type {
                    self.report(
                        span,
                        format!(
                            "built-in '{rn}' is JSON {:?} but source '{sn}' is JSON {:?}",
                            rb.json_type, sb.json_type
                        ),
                    );
                }
            }
            (Some(Entity::Enum(re)), Some(Entity::Enum(se))) => {
                self.path.push(format!("enum '{sn}'"));
                let mut last = None;
                for v in &re.members {
                    match se.members.iter().position(|w| w.name == v.name) {
                        None => {
                            self.report(v.span, format!("value '{}' not in the source", v.name))
                        }
                        Some(i) => {
                            if last.is_some_and(|l| i < l) {
                                self.report(
                                    v.span,
                                    format!("value '{}' out of source order", v.name),
                                );
                            }
                            last = Some(i);
                            let sf = se.members[i].features.clone();
                            self.path.push(format!("value '{}'", v.name));
                            self.features(&v.features, &sf, v.span);
                            self.path.pop();
                        }
                    }
                }
                for w in &se.members {
                    if w.cond.is_none() && !re.members.iter().any(|v| v.name == w.name) {
                        self.report(
                            re.common.span,
                            format!("unconditional value '{}' missing from the reply", w.name),
                        );
                    }
                }
                self.features(&re.common.features, &se.common.features, re.common.span);
                self.path.pop();
            }
            (Some(Entity::Array(ra)), Some(Entity::Array(sa))) => {
                self.path.push("element".into());
                self.ty(&ra.element, &sa.element, span);
                self.path.pop();
            }
            (Some(Entity::Object(ro)), Some(Entity::Object(so))) => {
                self.path.push(format!("{} '{sn}'", type_kind(s)));
                self.object(ro, so);
                self.path.pop();
            }
            (Some(Entity::Alternate(ra)), Some(Entity::Alternate(sa))) => {
                self.path.push(format!("alternate '{sn}'"));
                self.features(&ra.common.features, &sa.common.features, ra.common.span);
                let rv = &ra.variants.variants;
                let sv: Vec<_> = if rv.len() == sa.variants.variants.len() {
                    sa.variants.variants.iter().collect()
                } else {
                    sa.variants
                        .variants
                        .iter()
                        .filter(|v| v.cond.is_none())
                        .collect()
                };
                if rv.len() != sv.len() {
                    self.report(
                        ra.common.span,
                        format!(
                            "{} alternatives in the reply, {} in the source",
                            rv.len(),
                            sv.len()
                        ),
                    );
                } else {
                    for (a, b) in rv.iter().zip(sv) {
                        self.path.push(format!("alternative '{}'", b.name));
                        self.ty(&a.ty, &b.ty, a.span);
                        self.path.pop();
                    }
                }
                self.path.pop();
            }
            _ => self.report(
                span,
                format!(
                    "reply type '{rn}' is a {} but source type '{sn}' is a {}",
                    type_kind(r),
                    type_kind(s)
                ),
            ),
        }
    }

    fn object(&mut self, ro: &Object, so: &Object) {
        self.features(&ro.common.features, &so.common.features, ro.common.span);
        let smembers = all_members(self.s, so);
        let mut last = None;
        for m in &ro.members {
            let Some(i) = smembers.iter().position(|x| x.name == m.name) else {
                self.report(m.span, format!("member '{}' not in the source", m.name));
                continue;
            };
            let sm = smembers[i];
            self.path.push(format!("member '{}'", m.name));
            if last.is_some_and(|l| i < l) {
                self.report(m.span, "out of source order".into());
            }
            last = Some(i);
            if m.optional != sm.optional {
                self.report(
                    m.span,
                    format!(
                        "{} in the reply but {} in the source",
                        if m.optional { "optional" } else { "required" },
                        if sm.optional { "optional" } else { "required" }
                    ),
                );
            }
            self.features(&m.features, &sm.features, m.span);
            self.ty(&m.ty, &sm.ty, m.span);
            self.path.pop();
        }
        for sm in &smembers {
            if sm.cond.is_none() && !ro.members.iter().any(|m| m.name == sm.name) {
                self.report(
                    ro.common.span,
                    format!("unconditional member '{}' missing from the reply", sm.name),
                );
            }
        }
        match (&ro.variants, &so.variants) {
            (None, None) => {}
            (Some(rv), Some(sv)) => {
                if rv.tag != sv.tag {
                    self.report(
                        ro.common.span,
                        format!("tag '{}' in the reply, '{}' in the source", rv.tag, sv.tag),
                    );
                }
                for v in &rv.variants {
                    match sv.variants.iter().find(|w| w.name == v.name) {
                        None => {
                            self.report(v.span, format!("branch '{}' not in the source", v.name))
                        }
                        Some(w) => {
                            self.path.push(format!("branch '{}'", v.name));
                            let empty_r = self
                                .r
                                .object(&v.ty)
                                .is_some_and(|o| o.members.is_empty() && o.variants.is_none());
                            if !(empty_r && self.empty_source(Some(&w.ty))) {
                                self.ty(&v.ty, &w.ty, v.span);
                            }
                            self.path.pop();
                        }
                    }
                }
                for w in &sv.variants {
                    let is_empty = self.empty_source(Some(&w.ty));
                    if w.cond.is_none()
                        && !is_empty
                        && !rv.variants.iter().any(|v| v.name == w.name)
                    {
                        self.report(
                            ro.common.span,
                            format!("unconditional branch '{}' missing from the reply", w.name),
                        );
                    }
                }
            }
            (Some(_), None) => self.report(
                ro.common.span,
                "a union in the reply, a struct in the source".into(),
            ),
            (None, Some(_)) => self.report(
                ro.common.span,
                "a struct in the reply, a union in the source".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_introspection_json;
    use crate::model::IfCond;
    use crate::model::{Builtin, Common, JsonType};

    const REPLY: &str = r#"[
  {"name": "query-foo", "meta-type": "command", "arg-type": "0", "ret-type": "1"},
  {"name": "FOO", "meta-type": "event", "arg-type": "2"},
  {"name": "0", "meta-type": "object", "members": []},
  {"name": "1", "meta-type": "object", "members": [
     {"name": "id", "type": "int"}, {"name": "next", "type": "1", "default": null},
     {"name": "kind", "type": "3"}]},
  {"name": "2", "meta-type": "object", "tag": "kind",
   "members": [{"name": "kind", "type": "3"}],
   "variants": [{"case": "a", "type": "1"}, {"case": "b", "type": "0"}]},
  {"name": "3", "meta-type": "enum", "values": ["a", "b"]},
  {"name": "int", "meta-type": "builtin", "json-type": "int"}
]"#;

    /// The same schema with source names, then patched like a source model.
    fn source() -> Model {
        let text = REPLY
            .replace("\"0\"", "\"q_empty\"")
            .replace("\"1\"", "\"Foo\"")
            .replace("\"2\"", "\"FooEvent\"")
            .replace("\"3\"", "\"FooKind\"");
        let mut m = from_introspection_json("src", &text).unwrap();
        // The source says 'uint8' where introspection says 'int'.
        let common = Common {
            name: "uint8".into(),
            span: None,
            module: crate::model::ModuleId(0),
            cond: None,
            features: vec![],
            doc: None,
            since: None,
            implicit: false,
        };
        m.push(Entity::Builtin(Builtin {
            common,
            json_type: JsonType::Int,
            int_range: Some((0, 255)),
        }));
        for e in &mut m.entities {
            if let Entity::Object(o) = e
                && o.common.name == "Foo"
            {
                o.members[0].ty = "uint8".into();
            }
        }
        m
    }

    fn reply() -> Model {
        from_introspection_json("reply", REPLY).unwrap()
    }

    #[test]
    fn agree() {
        let c = compare_introspection(&reply(), &source());
        assert!(c.mismatches.is_empty(), "{c:#?}");
        assert_eq!(c.masked_names.len(), 3);
        assert_eq!(c.masked_names["2"], "FooEvent");
    }

    #[test]
    fn reports_optionality_and_missing_members() {
        let mut s = source();
        for e in &mut s.entities {
            if let Entity::Object(o) = e
                && o.common.name == "Foo"
            {
                o.members[1].optional = false;
                o.members.push(Member {
                    name: "extra".into(),
                    ..o.members[0].clone()
                });
            }
        }
        let d = compare_introspection(&reply(), &s).mismatches;
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t
                .contains("command 'query-foo' > returns > struct 'Foo' > member 'next'")
                && t.contains("optional in the reply but required in the source")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("unconditional member 'extra' missing")),
            "{text:#?}"
        );
        // A conditional member may be compiled out.
        for e in &mut s.entities {
            if let Entity::Object(o) = e
                && o.common.name == "Foo"
            {
                o.members[1].optional = true;
                o.members[3].cond = Some(IfCond::Name("CONFIG_X".into()));
            }
        }
        assert!(compare_introspection(&reply(), &s).mismatches.is_empty());
    }

    #[test]
    fn reports_enum_and_type_kind_differences() {
        let mut s = source();
        for e in &mut s.entities {
            if let Entity::Enum(en) = e {
                en.members.swap(0, 1);
                let mut c = en.members[0].clone();
                c.name = "c".into();
                en.members.push(c);
            }
            if let Entity::Command(c) = e {
                c.allow_oob = true;
            }
        }
        let d = compare_introspection(&reply(), &s).mismatches;
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t.contains("out of source order")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("unconditional value 'c' missing")),
            "{text:#?}"
        );
        assert!(
            text.iter().any(|t| t.contains("allow-oob is false")),
            "{text:#?}"
        );
    }

    #[test]
    fn reports_missing_commands_and_wrong_types() {
        let mut s = source();
        for e in &mut s.entities {
            if let Entity::Event(ev) = e {
                ev.arg_type = Some("Foo".into());
            }
        }
        let r = from_introspection_json("reply", &REPLY.replace("\"query-foo\"", "\"query-bar\""))
            .unwrap();
        let d = compare_introspection(&r, &s).mismatches;
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("command 'query-bar': no such command")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("command 'query-foo': unconditional in the source")),
            "{text:#?}"
        );
        assert!(
            text.iter().any(
                |t| t.contains("a union in the reply, a struct in the source")
                    || t.contains("stands for source type")
            ),
            "{text:#?}"
        );
    }
}
