//! Differences between two schema models: what commands, events and types
//! were added, removed or changed between two QEMU releases (or two saved
//! `query-qmp-schema` replies).
//!
//! Definitions are matched by name. Inside a changed definition the diff
//! lists members added and removed, members whose optionality or type
//! changed, enum values, union branches, return types, command flags, and
//! the `deprecated`/`unstable` (and other) features added or removed.
//!
//! Types are compared by name for models read from QAPI source. In a model
//! read from a `query-qmp-schema` reply type names are masked numbers that
//! differ between releases, so there member types are compared by shape
//! (built-in name, `enum`, `object`, `[element]`...) and the named types
//! themselves are not listed (only commands and events).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::model::{Entity, Feature, JsonType, Member, Model, Origin};

/// The differences between two models.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// Commands, by name.
    pub commands: Vec<DefChange>,
    /// Events, by name.
    pub events: Vec<DefChange>,
    /// Named (non-implicit) types, by name; empty when either model came
    /// from introspection.
    pub types: Vec<DefChange>,
}

impl SchemaDiff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.events.is_empty() && self.types.is_empty()
    }
}

/// One definition that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefChange {
    /// The definition's name.
    pub name: String,
    /// Its kind (`command`, `event`, `struct`, `union`, `enum`,
    /// `alternate`); the new kind when it changed.
    pub kind: &'static str,
    /// What happened to it.
    #[serde(flatten)]
    pub change: Change,
}

/// What happened to a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// Only in the new model.
    Added {
        /// Its features in the new model.
        features: Vec<String>,
    },
    /// Only in the old model.
    Removed,
    /// In both, different.
    Changed {
        /// The differences.
        details: Vec<Detail>,
    },
}

/// One difference inside a definition. `member` is a member name, or for
/// enums a value, or `None` for the definition itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "kebab-case")]
pub enum Detail {
    /// The kind of definition changed (e.g. struct → union).
    KindChanged {
        /// Old kind.
        old: &'static str,
        /// New kind.
        new: &'static str,
    },
    /// A member was added.
    MemberAdded {
        /// Member name.
        member: String,
        /// Its type.
        ty: String,
        /// Whether it is optional.
        optional: bool,
    },
    /// A member was removed.
    MemberRemoved {
        /// Member name.
        member: String,
    },
    /// A member became optional or required.
    OptionalityChanged {
        /// Member name.
        member: String,
        /// Whether it is optional now.
        optional: bool,
    },
    /// A member's type changed.
    TypeChanged {
        /// Member name.
        member: String,
        /// Old type.
        old: String,
        /// New type.
        new: String,
    },
    /// An enum value was added.
    ValueAdded {
        /// The value.
        value: String,
    },
    /// An enum value was removed.
    ValueRemoved {
        /// The value.
        value: String,
    },
    /// A union or alternate branch was added.
    BranchAdded {
        /// Branch name.
        branch: String,
        /// Its type.
        ty: String,
    },
    /// A union or alternate branch was removed.
    BranchRemoved {
        /// Branch name.
        branch: String,
    },
    /// A branch's type changed.
    BranchTypeChanged {
        /// Branch name.
        branch: String,
        /// Old type.
        old: String,
        /// New type.
        new: String,
    },
    /// The base type changed.
    BaseChanged {
        /// Old base.
        old: Option<String>,
        /// New base.
        new: Option<String>,
    },
    /// A command's return type changed.
    ReturnsChanged {
        /// Old return type.
        old: Option<String>,
        /// New return type.
        new: Option<String>,
    },
    /// A named (non-implicit) argument type changed.
    ArgumentsChanged {
        /// Old argument type.
        old: Option<String>,
        /// New argument type.
        new: Option<String>,
    },
    /// A command flag (`allow-oob`, `allow-preconfig`, `coroutine`,
    /// `success-response`, `boxed`) changed.
    FlagChanged {
        /// The flag.
        flag: &'static str,
        /// Its new value.
        value: bool,
    },
    /// A feature was added (to the definition, or to a member or value).
    FeatureAdded {
        /// Member or enum value, `None` for the definition.
        member: Option<String>,
        /// Feature name.
        feature: String,
    },
    /// A feature was removed.
    FeatureRemoved {
        /// Member or enum value, `None` for the definition.
        member: Option<String>,
        /// Feature name.
        feature: String,
    },
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("(none)")
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::KindChanged { old, new } => write!(f, "kind changed: {old} -> {new}"),
            Detail::MemberAdded {
                member,
                ty,
                optional,
            } => {
                let o = if *optional { "optional" } else { "required" };
                write!(f, "+ member '{member}': {ty} ({o})")
            }
            Detail::MemberRemoved { member } => write!(f, "- member '{member}'"),
            Detail::OptionalityChanged { member, optional } => {
                let o = if *optional { "optional" } else { "required" };
                write!(f, "~ member '{member}' is now {o}")
            }
            Detail::TypeChanged { member, old, new } => {
                write!(f, "~ member '{member}' type: {old} -> {new}")
            }
            Detail::ValueAdded { value } => write!(f, "+ value '{value}'"),
            Detail::ValueRemoved { value } => write!(f, "- value '{value}'"),
            Detail::BranchAdded { branch, ty } => write!(f, "+ branch '{branch}': {ty}"),
            Detail::BranchRemoved { branch } => write!(f, "- branch '{branch}'"),
            Detail::BranchTypeChanged { branch, old, new } => {
                write!(f, "~ branch '{branch}' type: {old} -> {new}")
            }
            Detail::BaseChanged { old, new } => write!(f, "~ base: {} -> {}", opt(old), opt(new)),
            Detail::ReturnsChanged { old, new } => {
                write!(f, "~ returns: {} -> {}", opt(old), opt(new))
            }
            Detail::ArgumentsChanged { old, new } => {
                write!(f, "~ arguments: {} -> {}", opt(old), opt(new))
            }
            Detail::FlagChanged { flag, value } => write!(f, "~ {flag}: {value}"),
            Detail::FeatureAdded { member, feature } => match member {
                Some(m) => write!(f, "+ feature '{feature}' on '{m}'"),
                None => write!(f, "+ feature '{feature}'"),
            },
            Detail::FeatureRemoved { member, feature } => match member {
                Some(m) => write!(f, "- feature '{feature}' on '{m}'"),
                None => write!(f, "- feature '{feature}'"),
            },
        }
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (title, list) in [
            ("Commands", &self.commands),
            ("Events", &self.events),
            ("Types", &self.types),
        ] {
            if list.is_empty() {
                continue;
            }
            let added = list
                .iter()
                .filter(|d| matches!(d.change, Change::Added { .. }))
                .count();
            let removed = list.iter().filter(|d| d.change == Change::Removed).count();
            let changed = list.len() - added - removed;
            writeln!(
                f,
                "{title}: {added} added, {removed} removed, {changed} changed"
            )?;
            for d in list {
                match &d.change {
                    Change::Added { features } if features.is_empty() => {
                        writeln!(f, "  + {} {}", d.kind, d.name)?
                    }
                    Change::Added { features } => {
                        writeln!(f, "  + {} {} [{}]", d.kind, d.name, features.join(", "))?
                    }
                    Change::Removed => writeln!(f, "  - {} {}", d.kind, d.name)?,
                    Change::Changed { details } => {
                        writeln!(f, "  ~ {} {}", d.kind, d.name)?;
                        for x in details {
                            writeln!(f, "      {x}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Compares two models.
pub fn diff(old: &Model, new: &Model) -> SchemaDiff {
    let masked = old.origin == Origin::Introspection || new.origin == Origin::Introspection;
    let cx = Cx { old, new, masked };
    let mut out = SchemaDiff::default();
    let sel = |m: &Model, want: fn(&Entity) -> bool| -> BTreeMap<String, Entity> {
        m.entities
            .iter()
            .filter(|e| want(e))
            .filter_map(|e| Some((e.name()?.to_owned(), e.clone())))
            .collect()
    };
    let is_cmd: fn(&Entity) -> bool = |e| matches!(e, Entity::Command(_));
    let is_ev: fn(&Entity) -> bool = |e| matches!(e, Entity::Event(_));
    let is_ty: fn(&Entity) -> bool = |e| {
        matches!(
            e,
            Entity::Enum(_) | Entity::Object(_) | Entity::Alternate(_)
        ) && e.common().is_some_and(|c| !c.implicit)
    };
    out.commands = cx.compare(&sel(old, is_cmd), &sel(new, is_cmd));
    out.events = cx.compare(&sel(old, is_ev), &sel(new, is_ev));
    if !masked {
        out.types = cx.compare(&sel(old, is_ty), &sel(new, is_ty));
    }
    out
}

struct Cx<'a> {
    old: &'a Model,
    new: &'a Model,
    /// Either model has masked type names: compare types by shape.
    masked: bool,
}

fn kind(e: &Entity) -> &'static str {
    match e {
        Entity::Command(_) => "command",
        Entity::Event(_) => "event",
        Entity::Enum(_) => "enum",
        Entity::Object(o) if o.variants.is_some() => "union",
        Entity::Object(_) => "struct",
        Entity::Alternate(_) => "alternate",
        Entity::Array(_) => "array",
        Entity::Builtin(_) => "builtin",
        Entity::Include(_) => "include",
    }
}

fn feature_names(f: &[Feature]) -> BTreeSet<String> {
    f.iter().map(|f| f.name.clone()).collect()
}

fn features(out: &mut Vec<Detail>, member: Option<&str>, old: &[Feature], new: &[Feature]) {
    let (o, n) = (feature_names(old), feature_names(new));
    for f in n.difference(&o) {
        out.push(Detail::FeatureAdded {
            member: member.map(str::to_owned),
            feature: f.clone(),
        });
    }
    for f in o.difference(&n) {
        out.push(Detail::FeatureRemoved {
            member: member.map(str::to_owned),
            feature: f.clone(),
        });
    }
}

/// A type as compared: its name when both models come from source, its
/// shape when either was introspected.
fn shape(m: &Model, ty: &str, masked: bool, depth: usize) -> String {
    if !masked || depth > 4 {
        return ty.to_owned();
    }
    match m.get(ty) {
        // Introspection knows built-in types only by JSON type (`uint32`
        // is reported as `int`).
        Some(Entity::Builtin(b)) => match b.json_type {
            JsonType::String => "str",
            JsonType::Int => "int",
            JsonType::Number => "number",
            JsonType::Boolean => "bool",
            JsonType::Null => "null",
            JsonType::Object | JsonType::Array | JsonType::Value => "any",
        }
        .to_owned(),
        None => ty.to_owned(),
        Some(Entity::Enum(_)) => "enum".into(),
        Some(Entity::Array(a)) => format!("[{}]", shape(m, &a.element, masked, depth + 1)),
        Some(Entity::Object(o)) if o.variants.is_some() => "union".into(),
        Some(Entity::Object(_)) => "object".into(),
        Some(Entity::Alternate(_)) => "alternate".into(),
        Some(_) => ty.to_owned(),
    }
}

impl Cx<'_> {
    fn compare(
        &self,
        old: &BTreeMap<String, Entity>,
        new: &BTreeMap<String, Entity>,
    ) -> Vec<DefChange> {
        let mut out = Vec::new();
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            match (old.get(name), new.get(name)) {
                (None, Some(n)) => out.push(DefChange {
                    name: name.clone(),
                    kind: kind(n),
                    change: Change::Added {
                        features: n
                            .common()
                            .map(|c| c.features.iter().map(|f| f.name.clone()).collect())
                            .unwrap_or_default(),
                    },
                }),
                (Some(o), None) => out.push(DefChange {
                    name: name.clone(),
                    kind: kind(o),
                    change: Change::Removed,
                }),
                (Some(o), Some(n)) => {
                    let details = self.entity(o, n);
                    if !details.is_empty() {
                        out.push(DefChange {
                            name: name.clone(),
                            kind: kind(n),
                            change: Change::Changed { details },
                        });
                    }
                }
                (None, None) => {}
            }
        }
        out
    }

    fn implicit_members<'m>(&self, m: &'m Model, ty: Option<&str>) -> Option<&'m [Member]> {
        match ty {
            None => Some(&[]),
            Some(t) => match m.get(t) {
                Some(Entity::Object(o))
                    if (o.common.implicit || self.masked) && o.variants.is_none() =>
                {
                    Some(&o.members)
                }
                _ => None,
            },
        }
    }

    /// Compares argument (or event data) types: members inline when both
    /// are implicit (or introspected) plain objects, else by name/shape.
    fn args(&self, out: &mut Vec<Detail>, old: Option<&str>, new: Option<&str>) {
        match (
            self.implicit_members(self.old, old),
            self.implicit_members(self.new, new),
        ) {
            (Some(o), Some(n)) => self.members(out, o, n),
            _ => {
                let os = old.map(|t| shape(self.old, t, self.masked, 0));
                let ns = new.map(|t| shape(self.new, t, self.masked, 0));
                if os != ns {
                    out.push(Detail::ArgumentsChanged { old: os, new: ns });
                }
            }
        }
    }

    fn members(&self, out: &mut Vec<Detail>, old: &[Member], new: &[Member]) {
        for n in new {
            match old.iter().find(|o| o.name == n.name) {
                None => out.push(Detail::MemberAdded {
                    member: n.name.clone(),
                    ty: shape(self.new, &n.ty, self.masked, 0),
                    optional: n.optional,
                }),
                Some(o) => {
                    if o.optional != n.optional {
                        out.push(Detail::OptionalityChanged {
                            member: n.name.clone(),
                            optional: n.optional,
                        });
                    }
                    let (ot, nt) = (
                        shape(self.old, &o.ty, self.masked, 0),
                        shape(self.new, &n.ty, self.masked, 0),
                    );
                    if ot != nt {
                        out.push(Detail::TypeChanged {
                            member: n.name.clone(),
                            old: ot,
                            new: nt,
                        });
                    }
                    features(out, Some(&n.name), &o.features, &n.features);
                }
            }
        }
        for o in old {
            if !new.iter().any(|n| n.name == o.name) {
                out.push(Detail::MemberRemoved {
                    member: o.name.clone(),
                });
            }
        }
    }

    fn variants(
        &self,
        out: &mut Vec<Detail>,
        old: Option<&crate::model::Variants>,
        new: Option<&crate::model::Variants>,
    ) {
        let empty = Vec::new();
        let ov = old.map(|v| &v.variants).unwrap_or(&empty);
        let nv = new.map(|v| &v.variants).unwrap_or(&empty);
        for n in nv {
            match ov.iter().find(|o| o.name == n.name) {
                None => out.push(Detail::BranchAdded {
                    branch: n.name.clone(),
                    ty: shape(self.new, &n.ty, self.masked, 0),
                }),
                Some(o) => {
                    let (ot, nt) = (
                        shape(self.old, &o.ty, self.masked, 0),
                        shape(self.new, &n.ty, self.masked, 0),
                    );
                    if ot != nt {
                        out.push(Detail::BranchTypeChanged {
                            branch: n.name.clone(),
                            old: ot,
                            new: nt,
                        });
                    }
                }
            }
        }
        for o in ov {
            if !nv.iter().any(|n| n.name == o.name) {
                out.push(Detail::BranchRemoved {
                    branch: o.name.clone(),
                });
            }
        }
    }

    fn entity(&self, o: &Entity, n: &Entity) -> Vec<Detail> {
        let mut out = Vec::new();
        let (ok, nk) = (kind(o), kind(n));
        if ok != nk {
            out.push(Detail::KindChanged { old: ok, new: nk });
        }
        if let (Some(oc), Some(nc)) = (o.common(), n.common()) {
            features(&mut out, None, &oc.features, &nc.features);
        }
        match (o, n) {
            (Entity::Command(o), Entity::Command(n)) => {
                self.args(&mut out, o.arg_type.as_deref(), n.arg_type.as_deref());
                let os = o
                    .ret_type
                    .as_ref()
                    .map(|t| shape(self.old, t, self.masked, 0));
                let ns = n
                    .ret_type
                    .as_ref()
                    .map(|t| shape(self.new, t, self.masked, 0));
                if os != ns {
                    out.push(Detail::ReturnsChanged { old: os, new: ns });
                }
                // Introspection reports only `allow-oob`.
                for (flag, a, b) in [
                    ("allow-oob", o.allow_oob, n.allow_oob),
                    ("allow-preconfig", o.allow_preconfig, n.allow_preconfig),
                    ("coroutine", o.coroutine, n.coroutine),
                    ("success-response", o.success_response, n.success_response),
                    ("boxed", o.boxed, n.boxed),
                ] {
                    if a != b && (!self.masked || flag == "allow-oob") {
                        out.push(Detail::FlagChanged { flag, value: b });
                    }
                }
            }
            (Entity::Event(o), Entity::Event(n)) => {
                self.args(&mut out, o.arg_type.as_deref(), n.arg_type.as_deref());
            }
            (Entity::Enum(o), Entity::Enum(n)) => {
                for v in &n.members {
                    match o.members.iter().find(|x| x.name == v.name) {
                        None => out.push(Detail::ValueAdded {
                            value: v.name.clone(),
                        }),
                        Some(ov) => features(&mut out, Some(&v.name), &ov.features, &v.features),
                    }
                }
                for v in &o.members {
                    if !n.members.iter().any(|x| x.name == v.name) {
                        out.push(Detail::ValueRemoved {
                            value: v.name.clone(),
                        });
                    }
                }
            }
            (Entity::Object(o), Entity::Object(n)) => {
                // Inline bases are implicit: compare all members instead.
                let implicit_base = |m: &Model, b: &Option<String>| {
                    b.as_deref()
                        .and_then(|b| m.get(b))
                        .and_then(Entity::common)
                        .is_some_and(|c| c.implicit)
                };
                if o.base != n.base
                    && !(implicit_base(self.old, &o.base) && implicit_base(self.new, &n.base))
                {
                    out.push(Detail::BaseChanged {
                        old: o.base.clone(),
                        new: n.base.clone(),
                    });
                }
                self.members(&mut out, &o.members, &n.members);
                self.variants(&mut out, o.variants.as_ref(), n.variants.as_ref());
            }
            (Entity::Alternate(o), Entity::Alternate(n)) => {
                self.variants(&mut out, Some(&o.variants), Some(&n.variants));
            }
            _ => {}
        }
        out
    }
}
