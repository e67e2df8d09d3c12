//! Lowering: QAPI model + naming plan → [`Bindings`], in one pass.
//!
//! Every decision about the generated code is taken here (see
//! [`crate::model`]): field and variant names, `Box`/`Vec`/`Option`,
//! carriers, derives, attributes, doc text, feature gates and metadata.
//! Carriers never become items: a union's base (its members are the
//! union's), a legacy simple union's `data` wrapper (the branch holds the
//! wrapped type) and the empty object (`rt::Empty`, or an empty branch).

use std::collections::HashMap;

use qmp_schema::ast::{Doc, DocSectionKind};
use qmp_schema::model::{
    Alternate, Command, Common, Entity, Enum, Event, Feature, JsonType, Member, Model, Object,
};

use crate::Options;
use crate::docs::to_markdown;
use crate::model::{
    self as m, Bindings, BranchData, Build, ClientMethod, CommandImpl, CommandRow, Ctor,
    EnumVariant, EventRow, EventVariant, Field, Item, ItemKind, JsonKind, Meta, RequestVariant,
    Struct, TypeRef, UnionBranch,
};
use crate::names;
use crate::plan::{Payload, Plan, Use, is_masked, render_cond};

/// The lowering pass (and the JSON Schema document, see `jsonschema.rs`).
pub(crate) struct Lowerer<'m> {
    pub model: &'m Model,
    pub plan: &'m Plan,
    pub opts: &'m Options,
    /// Extra attributes per QAPI name ("." = every type), as token text.
    pub attrs: &'m HashMap<String, Vec<String>>,
}

/// The wire names that differ from the Rust name (rustdoc rejects an alias
/// equal to the name), each once.
fn aliases<'a>(wire: impl IntoIterator<Item = &'a str>, rust: &str) -> Vec<String> {
    let rust = rust.strip_prefix("r#").unwrap_or(rust);
    let mut seen: Vec<String> = Vec::new();
    for w in wire {
        if w != rust && !seen.iter().any(|s| s == w) {
            seen.push(w.to_owned());
        }
    }
    seen
}

fn json_kind(j: JsonType) -> JsonKind {
    match j {
        JsonType::String => JsonKind::String,
        JsonType::Int => JsonKind::Int,
        JsonType::Number => JsonKind::Number,
        JsonType::Boolean => JsonKind::Boolean,
        JsonType::Null => JsonKind::Null,
        JsonType::Object => JsonKind::Object,
        JsonType::Array => JsonKind::Array,
        JsonType::Value => JsonKind::Value,
    }
}

/// A JSON type in words.
pub(crate) fn json_word(j: JsonKind) -> &'static str {
    match j {
        JsonKind::String => "string",
        JsonKind::Int => "integer",
        JsonKind::Number => "number",
        JsonKind::Boolean => "boolean",
        JsonKind::Null => "null",
        JsonKind::Object => "object",
        JsonKind::Array => "array",
        JsonKind::Value => "value",
    }
}

fn deprecated(features: &[Feature]) -> bool {
    features.iter().any(Feature::is_deprecated)
}

impl<'m> Lowerer<'m> {
    /// Lowers the whole model.
    pub fn lower(&self, schema_file: String) -> Bindings {
        Bindings {
            runtime_path: self.opts.runtime_path.clone(),
            schema_file,
            items: self
                .item_entities()
                .into_iter()
                .filter_map(|e| self.item(e))
                .collect(),
            events: self.events(),
            requests: self.requests(),
            command_table: self.command_table(),
            event_table: self.event_table(),
        }
    }

    // ----------------------------------------------------------------------
    // Names and types.

    fn rust_name(&self, qapi: &str) -> String {
        match self.plan.types.get(qapi) {
            Some(n) => n.clone(),
            None => names::camel(qapi),
        }
    }

    /// The Rust type for a QAPI type name.
    pub fn ty(&self, name: &str) -> TypeRef {
        let prim = TypeRef::named;
        match self.model.get(name) {
            Some(Entity::Builtin(b)) => match b.common.name.as_str() {
                "str" => prim("String"),
                "int" => prim("i64"),
                "int8" => prim("i8"),
                "int16" => prim("i16"),
                "int32" => prim("i32"),
                "int64" => prim("i64"),
                "uint8" => prim("u8"),
                "uint16" => prim("u16"),
                "uint32" => prim("u32"),
                "uint64" | "size" => prim("u64"),
                "number" => prim("f64"),
                "bool" => prim("bool"),
                "null" => TypeRef::rt("Null"),
                _ => match b.json_type {
                    JsonType::String => prim("String"),
                    JsonType::Int => prim("i64"),
                    JsonType::Number => prim("f64"),
                    JsonType::Boolean => prim("bool"),
                    JsonType::Null => TypeRef::rt("Null"),
                    _ => TypeRef::rt("Value"),
                },
            },
            Some(Entity::Array(a)) => TypeRef::Vec(Box::new(self.ty(&a.element))),
            Some(Entity::Object(_)) if self.plan.carriers.is_empty_object(name) => {
                TypeRef::rt("Empty")
            }
            _ => TypeRef::named(&self.rust_name(name)),
        }
    }

    fn needs_box(&self, container: &str, ty: &str) -> bool {
        self.plan.needs_box(container, ty)
    }

    /// Whether a QAPI type is a JSON string in Rust (`String`).
    fn is_string(&self, name: &str) -> bool {
        matches!(self.model.get(name), Some(Entity::Builtin(b)) if b.json_type == JsonType::String)
    }

    /// The feature gating an unstable definition.
    fn cfg(&self, c: &Common) -> Option<String> {
        match &self.opts.unstable_feature {
            Some(f) if c.is_unstable() => Some(f.clone()),
            _ => None,
        }
    }

    /// The feature gating a member or enum value marked `unstable`.
    /// Required members stay: without them the type could not be sent.
    fn member_gate(&self, features: &[Feature], optional: bool) -> Option<String> {
        match &self.opts.unstable_feature {
            Some(f) if optional && features.iter().any(Feature::is_unstable) => Some(f.clone()),
            _ => None,
        }
    }

    fn user_attrs(&self, qapi: &str) -> Vec<String> {
        let all = self.attrs.get(".").into_iter().flatten();
        let own = self.attrs.get(qapi).into_iter().flatten();
        all.chain(own).cloned().collect()
    }

    fn meta(&self, c: &Common, name: Option<&str>) -> Meta {
        Meta {
            name: name.map(str::to_owned),
            since: c.since.clone(),
            features: c.features.iter().map(|f| f.name.clone()).collect(),
            condition: c.cond.as_ref().map(render_cond),
            removed_by: self.model.spanned.as_deref().and_then(|s| {
                let p = s.entities.get(&c.name)?;
                Some(p.removed_in(&s.spanned)?.to_string())
            }),
        }
    }

    /// The first spanned release that has member `m`, when an older one
    /// lacks it.
    fn member_added_by(&self, m: &Member) -> Option<String> {
        let s = self.model.spanned.as_deref()?;
        let span = s.members.get(&(m.defined_in.clone(), m.name.clone()))?;
        Some(span.present.since(&s.spanned)?.to_string())
    }

    // ----------------------------------------------------------------------
    // Doc text.

    /// The Rust name of a QAPI type that is a generated item, as an
    /// intra-doc link when the item always exists (not behind the unstable
    /// feature), else as code.
    fn type_ref(&self, name: &str) -> Option<String> {
        let rust = self.plan.types.get(name)?;
        // A command's or event's own argument struct has its gate.
        let owner = self
            .plan
            .owned_args
            .contains(name)
            .then(|| {
                self.model.entities.iter().find_map(|e| match e {
                    Entity::Command(c) if c.arg_type.as_deref() == Some(name) => Some(&c.common),
                    Entity::Event(v) if v.arg_type.as_deref() == Some(name) => Some(&v.common),
                    _ => None,
                })
            })
            .flatten();
        let item = match self.model.get(name) {
            _ if owner.is_some() => owner?,
            Some(Entity::Enum(e)) => &e.common,
            Some(Entity::Alternate(a)) => &a.common,
            Some(Entity::Object(o)) if !self.plan.carriers.contains(name) => &o.common,
            _ => return None,
        };
        Some(
            if self.opts.unstable_feature.is_some() && item.is_unstable() {
                format!("`{rust}`")
            } else {
                format!("[`{rust}`]")
            },
        )
    }

    /// A QAPI type in words, linking the generated types.
    fn type_words(&self, name: &str) -> String {
        if let Some(inner) = self.plan.carriers.wrapped(name) {
            return self.type_words(inner);
        }
        match self.model.get(name) {
            Some(Entity::Array(a)) => format!("a list of {}", self.type_words(&a.element)),
            Some(Entity::Builtin(b)) if b.common.name == "any" => "any JSON value".to_owned(),
            Some(Entity::Builtin(b)) => format!("`{}`", b.common.name),
            Some(Entity::Object(_)) if self.plan.carriers.is_empty_object(name) => {
                "an empty object ([`Empty`](rt::Empty))".to_owned()
            }
            _ => self.type_ref(name).unwrap_or_else(|| format!("`{name}`")),
        }
    }

    /// A link to a command's or event's item (code, when it is behind the
    /// unstable feature).
    fn entity_link(&self, c: &Common, rust: &str) -> String {
        if self.opts.unstable_feature.is_some() && c.is_unstable() {
            format!("`{rust}`")
        } else {
            format!("[`{rust}`]")
        }
    }

    /// Where a type is used, in words with links (at most six uses, by
    /// kind: returned by, arguments of, data of, member of, branch of).
    fn uses_words(&self, name: &str) -> Option<String> {
        let uses = self.plan.used_by.get(name)?;
        let common = |n: &str| self.model.get(n).and_then(Entity::common);
        let cmd = |c: &str| Some(self.entity_link(common(c)?, self.plan.commands.get(c)?));
        let ev = |e: &str| Some(self.entity_link(common(e)?, &self.plan.events.get(e)?.0));
        let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
        let mut shown = 0usize;
        let mut more = 0usize;
        for u in uses {
            let (kind, word) = match u {
                Use::Returns(c) => ("returned by", cmd(c)),
                Use::Arguments(c) if !self.plan.arg_commands.contains_key(name) => {
                    ("the arguments of", cmd(c))
                }
                Use::Arguments(_) => continue,
                Use::Data(e) => ("the data of", ev(e)),
                Use::Member(t, m) => (
                    "a member of",
                    self.type_ref(t).map(|l| format!("{l} (`{m}`)")),
                ),
                Use::Branch(t, b) => (
                    "a branch of",
                    self.type_ref(t).map(|l| format!("{l} (`{b}`)")),
                ),
            };
            let Some(word) = word else { continue };
            if shown == 6 {
                more += 1;
                continue;
            }
            shown += 1;
            match groups.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, list)) => list.push(word),
                None => groups.push((kind, vec![word])),
            }
        }
        if groups.is_empty() {
            return None;
        }
        let mut text = groups
            .iter()
            .map(|(k, list)| format!("{k} {}", list.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        Some(text)
    }

    /// Doc text for a definition.
    fn def_doc(&self, c: &Common, what: &str, extra: &[String]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let doc = if self.opts.docs { c.doc.as_ref() } else { None };
        let uses = self.uses_words(&c.name);
        match doc.map(Doc::body).filter(|b| !b.trim().is_empty()) {
            Some(body) => {
                parts.push(to_markdown(body));
                if let Some(u) = uses {
                    parts.push(format!("Used as: {u}."));
                }
            }
            // Facts only: what it is and where it is used.
            None if extra.is_empty() => parts.push(match uses {
                Some(u) => format!("The QAPI {what} `{}`: {u}.", c.name),
                None => format!(
                    "The QAPI {what} `{}` (no other definition refers to it).",
                    c.name
                ),
            }),
            None => {}
        }
        parts.extend(extra.iter().cloned());
        if let Some(doc) = doc {
            for s in &doc.sections {
                let head = match s.kind {
                    DocSectionKind::Returns => "# Returns",
                    DocSectionKind::Errors => "# Errors",
                    DocSectionKind::Plain if !std::ptr::eq(s, &doc.sections[0]) => "",
                    _ => continue,
                };
                let t = to_markdown(&s.text);
                if t.is_empty() {
                    continue;
                }
                if head.is_empty() {
                    parts.push(t);
                } else {
                    parts.push(format!("{head}\n\n{t}"));
                }
            }
        }
        let mut meta = Vec::new();
        if let Some(s) = &c.since {
            meta.push(format!("Since: {s}"));
        }
        if let Some(cond) = &c.cond {
            meta.push(format!("Only available if `{}`.", render_cond(cond)));
        }
        if let Some(s) = self.model.spanned.as_deref()
            && let Some(p) = s.entities.get(&c.name)
        {
            let mut text = p.describe(&s.spanned);
            if let Some(first) = text.get(..1) {
                text = first.to_uppercase() + &text[1..];
            }
            meta.push(format!("{text}."));
        }
        for f in &c.features {
            let fdoc = doc
                .and_then(|d| d.feature(&f.name))
                .map(|s| to_markdown(&s.text))
                .filter(|s| !s.is_empty());
            let label = if f.is_deprecated() {
                "**Deprecated**".to_owned()
            } else if f.is_unstable() {
                "**Unstable**".to_owned()
            } else {
                format!("Feature `{}`", f.name)
            };
            meta.push(match fdoc {
                Some(d) => format!("- {label}: {}", d.replace('\n', " ")),
                None => format!("- {label}"),
            });
        }
        if c.is_unstable()
            && let Some(f) = &self.opts.unstable_feature
        {
            meta.push(format!(
                "This definition is unstable: it is only available with the `{f}` cargo feature."
            ));
        }
        if !meta.is_empty() {
            parts.push(meta.join("\n\n"));
        }
        parts.join("\n\n")
    }

    fn member_doc(&self, m: &Member) -> String {
        let mut parts = Vec::new();
        if let Some(d) = m
            .doc
            .as_deref()
            .filter(|d| self.opts.docs && !d.trim().is_empty())
        {
            parts.push(to_markdown(d));
        }
        parts.push(format!(
            "Wire name `{}`; {}; {}.",
            m.name,
            if m.optional {
                "optional (`None`: absent on the wire, so QEMU's default applies)"
            } else {
                "required"
            },
            self.type_words(&m.ty)
        ));
        if let Some(cond) = &m.cond {
            parts.push(format!("Only available if `{}`.", render_cond(cond)));
            if self.opts.conditions == crate::Conditions::Optional {
                parts.push(
                    "Optional in these bindings: builds of QEMU where the condition is false do not have it."
                        .to_owned(),
                );
            }
        }
        if let Some(span) = self
            .model
            .spanned
            .as_deref()
            .and_then(|s| s.members.get(&(m.defined_in.clone(), m.name.clone())))
        {
            parts.push(span.describe());
        }
        for f in &m.features {
            parts.push(if f.is_deprecated() {
                "**Deprecated**".to_owned()
            } else if f.is_unstable() {
                "**Unstable**".to_owned()
            } else {
                format!("Feature `{}`.", f.name)
            });
        }
        parts.join("\n\n")
    }

    /// The lines a command's type documents besides the definition's own
    /// docs: its wire name, what it returns and its flags.
    fn command_doc_lines(&self, c: &Command) -> Vec<String> {
        let mut extra = Vec::new();
        let ret_doc = match &c.ret_type {
            Some(t) => format!("Returns {}.", self.type_words(t)),
            None => "Returns an empty object ([`Empty`](rt::Empty)).".to_owned(),
        };
        extra.push(format!("QMP command `{}`. {ret_doc}", c.common.name));
        let mut flags = Vec::new();
        if c.allow_oob {
            flags.push("may run out-of-band (`allow-oob`)");
        }
        if c.allow_preconfig {
            flags.push("is allowed before machine initialisation (`allow-preconfig`)");
        }
        if !c.success_response {
            flags.push("sends no reply on success (`success-response: false`)");
        }
        if !flags.is_empty() {
            extra.push(format!("This command {}.", flags.join("; ")));
        }
        extra
    }

    // ----------------------------------------------------------------------
    // Items.

    /// The entities that become items, in definition order.
    fn item_entities(&self) -> Vec<&'m Entity> {
        self.model
            .entities
            .iter()
            .filter(|e| {
                e.common().is_some_and(|c| {
                    self.plan.kept.contains(&c.name)
                        && match e {
                            Entity::Enum(_)
                            | Entity::Alternate(_)
                            | Entity::Command(_)
                            | Entity::Event(_) => true,
                            Entity::Object(_) => {
                                !self.plan.carriers.contains(&c.name)
                                    && !self.plan.owned_args.contains(&c.name)
                            }
                            _ => false,
                        }
                })
            })
            .collect()
    }

    /// The item of an entity from [`item_entities`](Self::item_entities).
    fn item(&self, e: &Entity) -> Option<Item> {
        Some(match e {
            Entity::Enum(en) => self.enum_item(en),
            Entity::Object(o) if o.variants.is_some() => self.union_item(o),
            Entity::Object(o) => self.object_item(o),
            Entity::Alternate(a) => self.alternate_item(a),
            Entity::Command(c) => self.command_item(c),
            Entity::Event(ev) => self.event_item(ev),
            _ => return None,
        })
    }

    fn enum_item(&self, e: &Enum) -> Item {
        let wire: Vec<&str> = e.members.iter().map(|m| m.name.as_str()).collect();
        let names = names::unique_camel(wire.iter().copied(), &[]);
        let fallback = if names.iter().any(|v| v == "Unknown") {
            "UnknownValue"
        } else {
            "Unknown"
        };
        let variants = e
            .members
            .iter()
            .zip(names)
            .map(|(m, v)| {
                let mut d = format!("`{}` on the wire", m.name);
                if let Some(c) = &m.cond {
                    d.push_str(&format!(" (only if `{}`)", render_cond(c)));
                }
                if let Some(p) = self.model.spanned.as_deref().and_then(|s| {
                    Some((s, s.values.get(&(e.common.name.clone(), m.name.clone()))?))
                }) {
                    d.push_str(&format!(" ({})", p.1.describe(&p.0.spanned)));
                }
                for f in &m.features {
                    d.push_str(&format!(" ({})", f.name));
                }
                if let Some(section) = e
                    .common
                    .doc
                    .as_ref()
                    .filter(|_| self.opts.docs)
                    .and_then(|doc| doc.member(&m.name))
                    .filter(|s| !s.text.trim().is_empty())
                {
                    d.push_str(": ");
                    d.push_str(&to_markdown(&section.text));
                }
                EnumVariant {
                    aliases: aliases([m.name.as_str()], &v),
                    rust_name: v,
                    wire_name: m.name.clone(),
                    docs: d,
                    deprecated: deprecated(&m.features),
                    cfg: self.member_gate(&m.features, true),
                }
            })
            .collect();
        Item {
            rust_name: self.rust_name(&e.common.name),
            wire_name: e.common.name.clone(),
            kind: ItemKind::Enum(m::Enum {
                variants,
                fallback: fallback.to_owned(),
                fallback_doc:
                    "A value these bindings do not know (from a newer QEMU), kept verbatim."
                        .to_owned(),
            }),
            docs: self.def_doc(&e.common, "enum", &[]),
            derives: vec!["Debug", "Clone", "PartialEq", "Eq", "Hash"],
            non_exhaustive: false,
            aliases: Vec::new(),
            deprecated: deprecated(&e.common.features),
            attrs: self.user_attrs(&e.common.name),
            cfg: self.cfg(&e.common),
            meta: Some(self.meta(&e.common, None)),
        }
    }

    /// The fields of some members of `container`.
    fn fields(
        &self,
        container: &str,
        members: &[&Member],
        reserved: &[&str],
        input: bool,
    ) -> Vec<Field> {
        let wire: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        let fnames = names::unique_snake(wire.iter().copied(), reserved);
        members
            .iter()
            .zip(fnames)
            .map(|(m, n)| Field {
                aliases: aliases([m.name.as_str()], &n),
                setter: (input && m.optional).then(|| {
                    (
                        format!("with_{n}"),
                        format!(" Sets `{}` (builder style).", m.name),
                    )
                }),
                rust_name: n,
                wire_name: m.name.clone(),
                ty: self.ty(&m.ty),
                boxed: self.needs_box(container, &m.ty),
                optional: m.optional,
                string: self.is_string(&m.ty),
                deprecated: deprecated(&m.features),
                cfg: self.member_gate(&m.features, m.optional),
                features: m.features.iter().map(|f| f.name.clone()).collect(),
                added_by: self.member_added_by(m),
                docs: self.member_doc(m),
            })
            .collect()
    }

    /// The constructor of a type with these fields (`branch`: a union's
    /// discriminator is one more parameter).
    fn ctor(name: &str, fields: &[Field], branch: bool, input: bool) -> Ctor {
        let any_optional = fields.iter().any(|f| f.optional);
        let new_doc = if !input && any_optional {
            format!(" Builds [`{name}`] from its required members; the optional ones\n are `None`.")
        } else if any_optional {
            format!(
                " Builds [`{name}`] from its required members; the optional ones\n are `None` (set them with the `with_*` methods)."
            )
        } else {
            format!(" Builds [`{name}`] from its members.")
        };
        let params = fields.iter().filter(|f| !f.optional).count() + usize::from(branch);
        Ctor {
            new_doc,
            many_args: params > 7,
            allow_deprecated: fields.iter().any(|f| f.deprecated),
            // Clippy's placeholder names (QEMU's test schema has them).
            allow_placeholders: fields
                .iter()
                .any(|f| ["foo", "baz", "quux"].contains(&f.rust_name.as_str())),
        }
    }

    /// A struct (also the struct of an inline command/event payload), the
    /// item's kind made by `kind`.
    fn lower_struct(
        &self,
        o: &Object,
        what: &str,
        doc_common: &Common,
        extra_doc: &[String],
        open: bool,
        kind: impl FnOnce(Struct) -> ItemKind,
    ) -> Item {
        let name = self.rust_name(&o.common.name);
        let members: Vec<&Member> = o.members.iter().collect();
        let input = self.plan.inputs.contains(&o.common.name);
        let fields = self.fields(
            &o.common.name,
            &members,
            if open { &["extra"] } else { &[] },
            input,
        );
        let all_optional = fields.iter().all(|f| f.optional);
        let mut wire = vec![doc_common.name.as_str(), o.common.name.as_str()];
        if let Some(cmd) = self.plan.arg_commands.get(&o.common.name) {
            wire.push(cmd.as_str());
        }
        if o.common.implicit || is_masked(&o.common.name) {
            wire.remove(1);
        }
        wire.retain(|w| !is_masked(w));
        let ctor = Self::ctor(&name, &fields, false, input);
        Item {
            aliases: aliases(wire, &name),
            wire_name: doc_common.name.clone(),
            kind: kind(Struct { fields, open, ctor }),
            docs: self.def_doc(doc_common, what, extra_doc),
            derives: if all_optional {
                vec!["Debug", "Clone", "PartialEq", "Default"]
            } else {
                vec!["Debug", "Clone", "PartialEq"]
            },
            non_exhaustive: true,
            deprecated: deprecated(&doc_common.features),
            attrs: self.user_attrs(&o.common.name),
            cfg: self.cfg(doc_common),
            meta: Some(self.meta(doc_common, None)),
            rust_name: name,
        }
    }

    fn object_item(&self, o: &Object) -> Item {
        let extra =
            match self
                .plan
                .arg_commands
                .get(&o.common.name)
                .and_then(|c| match self.model.get(c) {
                    Some(Entity::Command(c)) => Some(c),
                    _ => None,
                }) {
                Some(c) => {
                    let mut lines = self.command_doc_lines(c);
                    lines[0] = lines[0].replacen(
                        "QMP command",
                        "This type is also the QMP command whose arguments it holds,",
                        1,
                    );
                    let body = c
                        .common
                        .doc
                        .as_ref()
                        .filter(|_| self.opts.docs)
                        .map(|d| to_markdown(d.body()))
                        .filter(|b| !b.trim().is_empty());
                    lines.extend(body);
                    lines
                }
                None => Vec::new(),
            };
        self.lower_struct(o, "struct", &o.common, &extra, false, ItemKind::Struct)
    }

    /// The item of a command or event with its type, the item's kind
    /// made by `kind`.
    #[allow(clippy::too_many_arguments)]
    fn payload(
        &self,
        c: &Common,
        name: &str,
        payload: &Payload,
        what: &str,
        extra: &[String],
        open: bool,
        kind: impl FnOnce(m::Payload) -> ItemKind,
    ) -> Item {
        let (derives, p) = match payload {
            Payload::Inline(arg) => {
                if let Some(o) = self.model.object(arg) {
                    let mut item =
                        self.lower_struct(o, what, c, extra, open, |s| kind(m::Payload::Struct(s)));
                    item.rust_name = name.to_owned();
                    return item;
                }
                // Not reached: inline payloads are objects.
                (vec!["Debug", "Clone", "PartialEq"], m::Payload::Unit)
            }
            Payload::Named(t) => (
                vec!["Debug", "Clone", "PartialEq"],
                m::Payload::Newtype(self.ty(t)),
            ),
            Payload::None => (
                vec![
                    "Debug",
                    "Clone",
                    "Copy",
                    "PartialEq",
                    "Eq",
                    "Hash",
                    "Default",
                ],
                m::Payload::Unit,
            ),
        };
        Item {
            rust_name: name.to_owned(),
            wire_name: c.name.clone(),
            kind: kind(p),
            docs: self.def_doc(c, what, extra),
            derives,
            non_exhaustive: false,
            aliases: aliases([c.name.as_str()], name),
            deprecated: deprecated(&c.features),
            attrs: Vec::new(),
            cfg: self.cfg(c),
            meta: Some(self.meta(c, None)),
        }
    }

    fn returns(&self, c: &Command) -> TypeRef {
        match &c.ret_type {
            Some(t) => self.ty(t),
            None => TypeRef::rt("Empty"),
        }
    }

    fn command_item(&self, c: &Command) -> Item {
        let name = self.plan.commands[&c.common.name].clone();
        let command = CommandImpl {
            wire: c.common.name.clone(),
            returns: self.returns(c),
            allow_oob: c.allow_oob,
            no_success_response: !c.success_response,
        };
        if self.plan.is_arg_command(&c.common.name) {
            // The argument type is the command (documented with it).
            return Item {
                rust_name: name,
                wire_name: c.common.name.clone(),
                kind: ItemKind::Command {
                    payload: None,
                    command,
                },
                docs: String::new(),
                derives: Vec::new(),
                non_exhaustive: false,
                aliases: Vec::new(),
                deprecated: false,
                attrs: Vec::new(),
                cfg: self.cfg(&c.common),
                meta: None,
            };
        }
        let extra = self.command_doc_lines(c);
        let payload = &self.plan.payloads[&c.common.name];
        self.payload(
            &c.common,
            &name,
            payload,
            "command",
            &extra,
            !c.generate,
            |p| ItemKind::Command {
                payload: Some(p),
                command,
            },
        )
    }

    fn event_item(&self, e: &Event) -> Item {
        let name = self.plan.events[&e.common.name].0.clone();
        let payload = &self.plan.payloads[&e.common.name];
        let extra = vec![format!("The data of QMP event `{}`.", e.common.name)];
        let mut item = self.payload(&e.common, &name, payload, "event", &extra, false, |p| {
            ItemKind::Event { payload: p }
        });
        item.meta = Some(self.meta(&e.common, Some(&e.common.name)));
        item
    }

    /// A flat (or legacy simple) union: base members + branch enum.
    fn union_item(&self, o: &Object) -> Item {
        let name = self.rust_name(&o.common.name);
        let Some(variants) = o.variants.as_ref() else {
            return self.object_item(o);
        };
        let tag_member = o.members.iter().find(|m| m.name == variants.tag);
        let base: Vec<&Member> = o
            .members
            .iter()
            .filter(|m| m.name != variants.tag)
            .collect();
        let tag_snake = names::snake(&variants.tag);
        let input = self.plan.inputs.contains(&o.common.name);
        let fields = self.fields(&o.common.name, &base, &[tag_snake.as_str()], input);
        // Older spanned releases had this type as a plain struct without
        // the discriminator: their replies decode as the matching branch.
        let tag_default = self
            .model
            .spanned
            .as_deref()
            .and_then(|s| s.tag_defaults.get(&o.common.name));
        // The branch enum: one variant per discriminator value.
        let branch_enum = {
            let base = format!("{name}{}", names::camel(&variants.tag));
            if self.plan.types.values().any(|v| *v == base) {
                format!("{base}Branch")
            } else {
                base
            }
        };
        let tag_enum: Option<&Enum> = tag_member.and_then(|m| self.model.enum_type(&m.ty));
        let values: Vec<(String, Option<String>)> = match tag_enum {
            Some(en) => en
                .members
                .iter()
                .map(|m| {
                    let ty = variants
                        .variants
                        .iter()
                        .find(|v| v.name == m.name)
                        .map(|v| v.ty.clone())
                        .filter(|t| !self.plan.carriers.is_empty_object(t));
                    (m.name.clone(), ty)
                })
                .collect(),
            None => variants
                .variants
                .iter()
                .map(|v| {
                    (
                        v.name.clone(),
                        Some(v.ty.clone()).filter(|t| !self.plan.carriers.is_empty_object(t)),
                    )
                })
                .collect(),
        };
        let vnames = names::unique_camel(values.iter().map(|(w, _)| w.as_str()), &["Unknown"]);
        let branches = values
            .iter()
            .zip(vnames)
            .map(|((wire, ty), vn)| {
                let (what, data) = match ty {
                    None => ("no further members".to_owned(), BranchData::Empty),
                    Some(t) => match self.plan.carriers.wrapped(t) {
                        // Legacy simple union: {"type": ..., "data": ...}.
                        Some(inner) => (
                            format!("its `data`: {}", self.type_words(inner)),
                            BranchData::Data {
                                ty: self
                                    .ty(inner)
                                    .boxed_if(self.needs_box(&o.common.name, inner)),
                            },
                        ),
                        None => (
                            format!("the members of {}", self.type_words(t)),
                            BranchData::Members {
                                ty: self.ty(t),
                                boxed: self.needs_box(&o.common.name, t),
                            },
                        ),
                    },
                };
                UnionBranch {
                    docs: format!(
                        "Branch `{wire}`: the discriminator `{}` is `\"{wire}\"`; {what}.",
                        variants.tag
                    ),
                    aliases: aliases([wire.as_str()], &vn),
                    rust_name: vn,
                    wire_name: wire.clone(),
                    data,
                }
            })
            .collect();
        let mut tag_doc = format!(
            "The branch, selected by the discriminator `{}`.",
            variants.tag
        );
        if let Some(d) = tag_default {
            let rs: Vec<String> = d.releases.iter().map(|r| format!("QEMU {r}")).collect();
            tag_doc.push_str(&format!(
                " Absent in {}, whose replies have the members of branch `{}`: decoded as that branch.",
                rs.join(", "),
                d.value
            ));
        }
        let ctor = Self::ctor(&name, &fields, true, input);
        Item {
            aliases: if is_masked(&o.common.name) {
                Vec::new()
            } else {
                aliases([o.common.name.as_str()], &name)
            },
            wire_name: o.common.name.clone(),
            kind: ItemKind::Union(m::Union {
                fields,
                ctor,
                tag_field: tag_snake,
                tag_wire: variants.tag.clone(),
                tag_doc,
                tag_default: tag_default.map(|d| d.value.clone()),
                branch_doc: format!(
                    "The branches of [`{name}`], by the value of its discriminator `{}`.",
                    variants.tag
                ),
                branch_enum,
                branches,
            }),
            docs: self.def_doc(&o.common, "union", &[]),
            derives: vec!["Debug", "Clone", "PartialEq"],
            non_exhaustive: true,
            deprecated: deprecated(&o.common.features),
            attrs: self.user_attrs(&o.common.name),
            cfg: self.cfg(&o.common),
            meta: Some(self.meta(&o.common, None)),
            rust_name: name,
        }
    }

    fn alternate_item(&self, a: &Alternate) -> Item {
        let vs = &a.variants.variants;
        let vnames = names::unique_camel(vs.iter().map(|v| v.name.as_str()), &[]);
        let branches: Vec<m::AlternateBranch> = vs
            .iter()
            .zip(vnames)
            .map(|(v, vn)| {
                let json = json_kind(
                    self.model
                        .get(&v.ty)
                        .and_then(Entity::json_type)
                        .unwrap_or(JsonType::Value),
                );
                m::AlternateBranch {
                    rust_name: vn,
                    docs: format!("Branch `{}`, a JSON {}.", v.name, json_word(json)),
                    ty: self.ty(&v.ty),
                    boxed: self.needs_box(&a.common.name, &v.ty),
                    json,
                }
            })
            .collect();
        let expected: Vec<&str> = branches.iter().map(|b| json_word(b.json)).collect();
        Item {
            rust_name: self.rust_name(&a.common.name),
            wire_name: a.common.name.clone(),
            kind: ItemKind::Alternate(m::Alternate {
                expected: format!("one of: {}", expected.join(", ")),
                branches,
            }),
            docs: self.def_doc(&a.common, "alternate", &[]),
            derives: vec!["Debug", "Clone", "PartialEq"],
            non_exhaustive: false,
            aliases: Vec::new(),
            deprecated: deprecated(&a.common.features),
            attrs: self.user_attrs(&a.common.name),
            cfg: self.cfg(&a.common),
            meta: Some(self.meta(&a.common, None)),
        }
    }

    // ----------------------------------------------------------------------
    // The enums over every event and command, and the tables.

    fn events(&self) -> Vec<EventVariant> {
        self.model
            .events()
            .filter_map(|e| {
                let (tn, vn) = self.plan.events.get(&e.common.name)?;
                Some(EventVariant {
                    rust_name: vn.clone(),
                    data_type: tn.clone(),
                    docs: format!("Event `{}`: [`{tn}`].", e.common.name),
                    aliases: aliases([e.common.name.as_str()], vn),
                    cfg: self.cfg(&e.common),
                    deprecated: deprecated(&e.common.features),
                    has_data: self.plan.payloads[&e.common.name] != Payload::None,
                })
            })
            .collect()
    }

    fn requests(&self) -> Vec<RequestVariant> {
        let mut method_namer = names::Namer::with_reserved(&["execute"]);
        let mut out = Vec::new();
        for c in self.model.commands() {
            let Some(tn) = self.plan.commands.get(&c.common.name) else {
                continue;
            };
            let payload = &self.plan.payloads[&c.common.name];
            let method = method_namer.unique(&names::snake(&c.common.name));
            let (arguments, build) = match payload {
                Payload::None => (None, Build::Unit),
                Payload::Named(ty) if self.plan.is_arg_command(&c.common.name) => {
                    (Some(self.ty(ty)), Build::Arguments)
                }
                Payload::Named(ty) => (Some(self.ty(ty)), Build::Wrap),
                Payload::Inline(_) => (Some(TypeRef::named(tn)), Build::Arguments),
            };
            out.push(RequestVariant {
                rust_name: tn.clone(),
                request_doc: format!("Command `{}`: [`{tn}`].", c.common.name),
                response_doc: format!(
                    "The reply to `{}`: {}.",
                    c.common.name,
                    match &c.ret_type {
                        Some(r) => self.type_words(r),
                        None => "an empty object ([`Empty`](rt::Empty))".to_owned(),
                    }
                ),
                aliases: aliases([c.common.name.as_str()], tn),
                cfg: self.cfg(&c.common),
                deprecated: deprecated(&c.common.features),
                returns: self.returns(c),
                has_args: *payload != Payload::None,
                method: ClientMethod {
                    aliases: aliases([c.common.name.as_str()], &method),
                    docs: format!(
                        "Runs `{}`: see [`{tn}`].\n\n# Errors\n\nThe client's error: QEMU's error reply, or a transport or decoding failure.",
                        c.common.name
                    ),
                    allow_deprecated: c.common.is_deprecated(),
                    name: method,
                    arguments,
                    build,
                },
            });
        }
        out
    }

    fn command_table(&self) -> Vec<CommandRow> {
        self.model
            .commands()
            .filter(|c| self.plan.commands.contains_key(&c.common.name))
            .map(|c| CommandRow {
                name: c.common.name.clone(),
                meta: self.meta(&c.common, None),
                arguments: match &self.plan.payloads[&c.common.name] {
                    Payload::None => None,
                    _ => Some(self.plan.commands[&c.common.name].clone()),
                },
                returns: c.ret_type.as_ref().map(|t| self.ty(t).to_string()),
                allow_oob: c.allow_oob,
                success_response: c.success_response,
                allow_preconfig: c.allow_preconfig,
            })
            .collect()
    }

    fn event_table(&self) -> Vec<EventRow> {
        self.model
            .events()
            .filter(|e| self.plan.events.contains_key(&e.common.name))
            .map(|e| EventRow {
                name: e.common.name.clone(),
                meta: self.meta(&e.common, None),
                data: match &self.plan.payloads[&e.common.name] {
                    Payload::None => None,
                    _ => Some(self.plan.events[&e.common.name].0.clone()),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use qmp_schema::{Level, ParseOptions};

    /// The model of a schema (read from a temporary file), as text.
    fn model_text(tag: &str, schema: &str, opts: ParseOptions, attr_on: Option<&str>) -> String {
        let dir =
            std::env::temp_dir().join(format!("qmp-codegen-model-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{tag}.json"));
        std::fs::write(&path, schema).unwrap();
        let mut b = crate::Builder::new();
        b.schema(&path)
            .parse_options(opts)
            .unstable_feature(Some("unstable"));
        if let Some(t) = attr_on {
            b.type_attribute(t, "#[derive(Eq)]");
        }
        let (text, _, _) = b.lowered(|_, bindings| Ok(bindings.to_string())).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        text
    }

    /// Every kind of item: structs (with base, optional, array, any,
    /// recursion), an enum with an unstable value, a flat union, an
    /// alternate, commands (no arguments, inline, boxed, argument type that
    /// is the command, `gen: false`) and events.
    const SCHEMA: &str = r#"
{ 'pragma': { 'doc-required': false } }
{ 'enum': 'Kind', 'data': [ 'file', 'null', { 'name': 'exp', 'features': [ 'unstable' ] } ] }
{ 'struct': 'Base', 'data': { 'id': 'str' } }
{ 'struct': 'Info', 'base': 'Base',
  'data': { 'running': 'bool', '*tags': [ 'str' ], '*blob': 'any',
            '*old': { 'type': 'int', 'features': [ 'deprecated' ] } } }
{ 'struct': 'FileOpts', 'data': { 'path': 'str', '*next': 'Opts' } }
{ 'union': 'Opts', 'base': { 'driver': 'Kind', '*node-name': 'str' },
  'discriminator': 'driver', 'data': { 'file': 'FileOpts' } }
{ 'alternate': 'Ref', 'data': { 'definition': 'Info', 'reference': 'str', 'none': 'null' } }
{ 'command': 'query-info', 'returns': 'Info', 'allow-preconfig': true }
{ 'command': 'set-link', 'data': { 'name': 'str', '*up': 'bool', '*ref': 'Ref' } }
{ 'command': 'take-info', 'data': 'Info', 'boxed': true, 'allow-oob': true,
  'features': [ 'deprecated' ] }
{ 'struct': 'BackupJob', 'data': { 'device': 'str', '*speed': 'int' } }
{ 'command': 'backup-job', 'data': 'BackupJob', 'boxed': true }
{ 'command': 'device-add', 'data': { 'driver': 'str' }, 'gen': false,
  'features': [ 'unstable' ] }
{ 'command': 'set-opts', 'data': { 'opts': 'Opts' } }
{ 'event': 'STOP' }
{ 'event': 'BLOCK_DONE', 'data': { 'device': 'str', '*len': 'int' } }
"#;

    #[test]
    fn model_of_every_kind() {
        insta::assert_snapshot!(model_text(
            "kinds",
            SCHEMA,
            ParseOptions::default(),
            Some("Info")
        ));
    }

    /// Facts of a model spanning two releases: a member and a command only
    /// the newer one has, a command only the older one has.
    #[test]
    fn model_of_spanned_releases() {
        let dir =
            std::env::temp_dir().join(format!("qmp-codegen-model-span-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (new, old) = (dir.join("new.json"), dir.join("old.json"));
        std::fs::write(
            &new,
            "{ 'struct': 'Machine', 'data': { 'name': 'str', 'acpi': 'bool' } }\n\
             { 'command': 'query-machine', 'returns': 'Machine' }\n\
             { 'command': 'query-new', 'returns': 'Machine' }\n",
        )
        .unwrap();
        std::fs::write(
            &old,
            "{ 'struct': 'Machine', 'data': { 'name': 'str' } }\n\
             { 'command': 'query-machine', 'returns': 'Machine' }\n\
             { 'command': 'query-old', 'returns': 'Machine' }\n",
        )
        .unwrap();
        let mut b = crate::Builder::new();
        b.schema(&new)
            .parse_options(ParseOptions::with_level(Level::LATEST))
            .docs(false)
            .schema_release("10.0.2".parse().unwrap())
            .span_release("5.2.0".parse().unwrap(), &old);
        let (text, _, _) = b.lowered(|_, bindings| Ok(bindings.to_string())).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn model_of_a_legacy_simple_union() {
        insta::assert_snapshot!(model_text(
            "simple",
            "{ 'struct': 'Inner', 'data': { 'x': 'int' } }\n\
             { 'union': 'Simple', 'data': { 'inner': 'Inner', 'text': 'str' } }\n",
            ParseOptions::with_level(Level::new(5, 1)),
            None,
        ));
    }
}
