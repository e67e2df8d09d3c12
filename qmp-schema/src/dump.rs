//! Printing a [`Model`]: QEMU's test-suite format and JSON.
//!
//! [`dump_qapi_test`] prints exactly what QEMU 10.0's QAPI test driver prints
//! for a schema (the `tests/qapi-schema/*.out` files): modules with their
//! entities, then every doc comment block. [`dump_qapi_test_legacy`] prints
//! the QEMU 5.1 variant of that format (`module None` for the built-in
//! module, conditions as lists). [`dump_json`] gives a structured view of
//! the whole model for other tools.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::ast::{Doc, DocSectionKind};
use crate::model::{Entity, Feature, IfCond, Member, Model, Variants};

/// Which release's test output format to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Current,
    Legacy,
}

/// The schema in the format of QEMU 10.0's `tests/qapi-schema/*.out`.
pub fn dump_qapi_test(model: &Model) -> String {
    dump(model, Flavor::Current)
}

/// The schema in the format of QEMU 5.1's `tests/qapi-schema/*.out`
/// (conditions printed as lists, `module None` for built-ins).
pub fn dump_qapi_test_legacy(model: &Model) -> String {
    dump(model, Flavor::Legacy)
}

fn py_str(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn py_cond(c: &IfCond) -> String {
    match c {
        IfCond::Name(n) => py_str(n),
        IfCond::All(v) => format!(
            "{{'all': [{}]}}",
            v.iter().map(py_cond).collect::<Vec<_>>().join(", ")
        ),
        IfCond::Any(v) => format!(
            "{{'any': [{}]}}",
            v.iter().map(py_cond).collect::<Vec<_>>().join(", ")
        ),
        IfCond::Not(v) => format!("{{'not': {}}}", py_cond(v)),
    }
}

fn cond_text(c: &IfCond, flavor: Flavor) -> String {
    match (flavor, c) {
        (Flavor::Current, IfCond::Name(n)) => n.clone(),
        (Flavor::Current, c) => py_cond(c),
        (Flavor::Legacy, IfCond::All(v)) if v.iter().all(|x| matches!(x, IfCond::Name(_))) => {
            format!("[{}]", v.iter().map(py_cond).collect::<Vec<_>>().join(", "))
        }
        (Flavor::Legacy, c) => format!("[{}]", py_cond(c)),
    }
}

struct Out {
    s: String,
    flavor: Flavor,
}

impl Out {
    fn line(&mut self, indent: usize, text: impl AsRef<str>) {
        for _ in 0..indent {
            self.s.push(' ');
        }
        self.s.push_str(text.as_ref());
        self.s.push('\n');
    }

    fn cond(&mut self, c: &Option<IfCond>, indent: usize) {
        if let Some(c) = c {
            let t = cond_text(c, self.flavor);
            self.line(indent, format!("if {t}"));
        }
    }

    fn features(&mut self, fs: &[Feature], indent: usize) {
        for f in fs {
            self.line(indent, format!("feature {}", f.name));
            self.cond(&f.cond, indent + 4);
        }
    }

    fn members(&mut self, ms: &[Member]) {
        for m in ms {
            let opt = if m.optional { "True" } else { "False" };
            self.line(4, format!("member {}: {} optional={opt}", m.name, m.ty));
            self.cond(&m.cond, 8);
            self.features(&m.features, 8);
        }
    }

    fn variants(&mut self, vs: &Option<Variants>) {
        if let Some(vs) = vs {
            self.line(4, format!("tag {}", vs.tag));
            for v in &vs.variants {
                self.line(4, format!("case {}: {}", v.name, v.ty));
                self.cond(&v.cond, 8);
            }
        }
    }

    fn doc(&mut self, d: &Doc) {
        match &d.symbol {
            Some(s) => self.line(0, format!("doc symbol={s}")),
            None => self.line(0, "doc freeform"),
        }
        self.line(4, "body=");
        self.line(0, d.body());
        for kind in [DocSectionKind::Member, DocSectionKind::Feature] {
            let tag = if kind == DocSectionKind::Member {
                "arg"
            } else {
                "feature"
            };
            for s in d.sections.iter().filter(|s| s.kind == kind) {
                self.line(
                    4,
                    format!("{tag}={}", s.name.as_deref().unwrap_or_default()),
                );
                self.line(0, &s.text);
            }
        }
        for s in d.sections.iter().skip(1) {
            let legacy_tag = match (&s.tag, self.flavor) {
                (Some(t), Flavor::Legacy) => Some(t.as_str()),
                _ => None,
            };
            let kind = match s.kind {
                _ if legacy_tag.is_some() => legacy_tag.unwrap_or_default(),
                DocSectionKind::Member | DocSectionKind::Feature => continue,
                DocSectionKind::Plain => {
                    if self.flavor == Flavor::Legacy {
                        "None"
                    } else {
                        "Plain"
                    }
                }
                DocSectionKind::Returns => "Returns",
                DocSectionKind::Errors => "Errors",
                DocSectionKind::Since => "Since",
                DocSectionKind::Todo => {
                    if self.flavor == Flavor::Legacy {
                        "TODO"
                    } else {
                        "Todo"
                    }
                }
            };
            self.line(4, format!("section={kind}"));
            self.line(0, &s.text);
        }
    }
}

fn dump(model: &Model, flavor: Flavor) -> String {
    let mut o = Out {
        s: String::new(),
        flavor,
    };
    for module in &model.modules {
        if flavor == Flavor::Legacy && module.name == "./builtin" {
            o.line(0, "module None");
        } else {
            o.line(0, format!("module {}", module.name));
        }
        for &id in &module.entities {
            match model.entity(id) {
                Entity::Include(inc) => {
                    o.line(0, format!("include {}", model.module(inc.module).name));
                }
                Entity::Builtin(_) => {}
                Entity::Enum(e) => {
                    o.line(0, format!("enum {}", e.common.name));
                    if let Some(p) = &e.prefix {
                        o.line(4, format!("prefix {p}"));
                    }
                    for m in &e.members {
                        o.line(4, format!("member {}", m.name));
                        o.cond(&m.cond, 8);
                        o.features(&m.features, 8);
                    }
                    o.cond(&e.common.cond, 4);
                    o.features(&e.common.features, 4);
                }
                Entity::Array(a) => {
                    if a.common.span.is_none() {
                        continue;
                    }
                    o.line(0, format!("array {} {}", a.common.name, a.element));
                    o.cond(&a.common.cond, 4);
                }
                Entity::Object(ob) => {
                    o.line(0, format!("object {}", ob.common.name));
                    if let Some(b) = &ob.base {
                        o.line(4, format!("base {b}"));
                    }
                    o.members(&ob.local_members);
                    o.variants(&ob.variants);
                    o.cond(&ob.common.cond, 4);
                    o.features(&ob.common.features, 4);
                }
                Entity::Alternate(a) => {
                    o.line(0, format!("alternate {}", a.common.name));
                    o.variants(&Some(a.variants.clone()));
                    o.cond(&a.common.cond, 4);
                    o.features(&a.common.features, 4);
                }
                Entity::Command(c) => {
                    o.line(
                        0,
                        format!(
                            "command {} {} -> {}",
                            c.common.name,
                            c.arg_type.as_deref().unwrap_or("None"),
                            c.ret_type.as_deref().unwrap_or("None")
                        ),
                    );
                    let b = |v: bool| if v { "True" } else { "False" };
                    o.line(
                        4,
                        format!(
                            "gen={} success_response={} boxed={} oob={} preconfig={}{}",
                            b(c.generate),
                            b(c.success_response),
                            b(c.boxed),
                            b(c.allow_oob),
                            b(c.allow_preconfig),
                            if c.coroutine { " coroutine=True" } else { "" }
                        ),
                    );
                    o.cond(&c.common.cond, 4);
                    o.features(&c.common.features, 4);
                }
                Entity::Event(e) => {
                    o.line(
                        0,
                        format!(
                            "event {} {}",
                            e.common.name,
                            e.arg_type.as_deref().unwrap_or("None")
                        ),
                    );
                    o.line(
                        4,
                        format!("boxed={}", if e.boxed { "True" } else { "False" }),
                    );
                    o.cond(&e.common.cond, 4);
                    o.features(&e.common.features, 4);
                }
            }
        }
    }
    for d in model.doc_blocks() {
        o.doc(d);
    }
    o.s
}

// ---------------------------------------------------------------------
// JSON

fn cond_json(c: &Option<IfCond>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => serde_json::to_value(c).unwrap_or(Value::Null),
    }
}

fn features_json(fs: &[Feature]) -> Value {
    fs.iter()
        .map(|f| json!({"name": f.name, "if": cond_json(&f.cond)}))
        .collect()
}

fn members_json(ms: &[Member]) -> Value {
    ms.iter()
        .map(|m| {
            json!({
                "name": m.name,
                "type": m.ty,
                "optional": m.optional,
                "if": cond_json(&m.cond),
                "features": features_json(&m.features),
                "defined-in": m.defined_in,
                "doc": m.doc,
            })
        })
        .collect()
}

fn variants_json(vs: &Variants) -> Value {
    json!({
        "tag": vs.tag,
        "variants": vs.variants.iter().map(|v| json!({
            "case": v.name,
            "type": v.ty,
            "if": cond_json(&v.cond),
        })).collect::<Vec<_>>(),
    })
}

/// The model as JSON: modules with their entities, each entity with its
/// meta-type, name, module, condition, features, `since` and its
/// meta-type's facts.
pub fn dump_json(model: &Model) -> Value {
    let mut entities = Vec::new();
    for e in &model.entities {
        let Some(c) = e.common() else { continue };
        let mut v = json!({
            "name": c.name,
            "module": model.module(c.module).name,
            "if": cond_json(&c.cond),
            "features": features_json(&c.features),
            "implicit": c.implicit,
            "since": c.since,
        });
        let extra = match e {
            Entity::Include(_) => continue,
            Entity::Builtin(b) => json!({"meta": "builtin", "json-type": b.json_type}),
            Entity::Enum(en) => json!({
                "meta": "enum",
                "prefix": en.prefix,
                "members": en.members.iter().map(|m| json!({
                    "name": m.name,
                    "if": cond_json(&m.cond),
                    "features": features_json(&m.features),
                })).collect::<Vec<_>>(),
            }),
            Entity::Array(a) => json!({"meta": "array", "element-type": a.element}),
            Entity::Object(o) => json!({
                "meta": if o.variants.is_some() { "union" } else { "struct" },
                "base": o.base,
                "local-members": members_json(&o.local_members),
                "members": members_json(&o.members),
                "variants": o.variants.as_ref().map(variants_json),
                "simple-union": o.simple_union,
            }),
            Entity::Alternate(a) => {
                json!({"meta": "alternate", "variants": variants_json(&a.variants)})
            }
            Entity::Command(cm) => json!({
                "meta": "command",
                "arg-type": cm.arg_type,
                "ret-type": cm.ret_type,
                "gen": cm.generate,
                "success-response": cm.success_response,
                "boxed": cm.boxed,
                "allow-oob": cm.allow_oob,
                "allow-preconfig": cm.allow_preconfig,
                "coroutine": cm.coroutine,
            }),
            Entity::Event(ev) => {
                json!({"meta": "event", "arg-type": ev.arg_type, "boxed": ev.boxed})
            }
        };
        if let (Value::Object(dst), Value::Object(src)) = (&mut v, extra) {
            dst.extend(src);
        }
        entities.push(v);
    }
    let mut s = String::new();
    let _ = write!(s, "{:?}", model.origin);
    json!({
        "origin": s.to_lowercase(),
        "modules": model.modules.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "pragma": model.pragma,
        "entities": entities,
    })
}
