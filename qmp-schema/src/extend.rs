//! Extends a parsed schema of one release with what a later release's
//! reference manual says, for releases whose source tree is not at hand.
//!
//! [`extend`] takes the parse tree of the nearest release available as
//! source (say QEMU 10.2.2) and the definitions of the later release's
//! reference manual ([`crate::manual::parse`]), and edits the tree, facts only:
//!
//! * definitions the manual lacks are dropped (removed in the later
//!   release); definitions it adds are created with their members, values,
//!   branches, base, return type, features and `Since:`, placed after the
//!   manual's preceding definition (the manual keeps schema order, so they
//!   land in the right module);
//! * members, enum values and alternate/union branches the manual adds to
//!   an existing definition are appended, those it lacks are dropped, and
//!   optionality follows the manual;
//! * doc facts (documented members and features, `Since:`) follow.
//!
//! Optionally a `query-qmp-schema` reply of the later release supplies
//! `allow-oob` of new commands. What neither says is left at its default
//! and counted in the [`Report`]: conditions of new definitions (none),
//! the exact integer type of new members (`int`), other command flags.

use std::collections::{HashMap, HashSet};

use crate::ast::{
    Dict, Doc, DocSection, DocSectionKind, Expr, Item, Key, Parsed, Value, ValueKind,
};
use crate::manual::{Def, DefKind, Item as MItem, Type};
use crate::model::{Entity, Model};
use crate::source::Span;

/// What [`extend`] changed, and what it could not determine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// New commands.
    pub commands: Vec<String>,
    /// New events.
    pub events: Vec<String>,
    /// New types.
    pub types: Vec<String>,
    /// Members (and alternate branches, union branches) added to existing
    /// definitions: `Definition.member`.
    pub members: Vec<String>,
    /// Enum values added to existing enums: `Enum.value`.
    pub values: Vec<String>,
    /// Definitions dropped (absent from the manual).
    pub removed: Vec<String>,
    /// Members and values dropped from existing definitions.
    pub removed_members: Vec<String>,
    /// Members whose optionality changed.
    pub optionality: Vec<String>,
    /// Members of existing definitions whose type changed (integer widths
    /// aside: the source's width is kept).
    pub type_changed: Vec<String>,
    /// New members typed `int` (or `[int]`): the exact integer type is not
    /// in the manual.
    pub int_unknown: Vec<String>,
    /// Features added to existing commands and events (from the reply):
    /// `name: feature`.
    pub features: Vec<String>,
    /// Features the manual lists for an existing definition that could not
    /// be placed (a member's feature not in the source, on a type).
    pub features_unplaced: Vec<String>,
    /// Existing definitions whose condition changed: `name: condition`.
    pub cond_changed: Vec<String>,
    /// Conditions that could not be reconciled (nested, or present in the
    /// source but not in the manual: kept).
    pub cond_unknown: Vec<String>,
    /// Existing definitions whose `Since:` text changed.
    pub since_changed: Vec<String>,
    /// Definitions whose base (or named argument type) changed.
    pub base_changed: Vec<String>,
    /// New definitions with a condition (`Availability:`) the manual states.
    pub conditional: Vec<String>,
    /// Manual definitions that could not be turned into schema (unknown
    /// shape).
    pub skipped: Vec<String>,
}

const INTS: [&str; 10] = [
    "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "size",
];

fn def_name(d: &Dict) -> Option<(&str, &str)> {
    let (k, v) = d.entries.first()?;
    let meta = k.name.as_str();
    ["enum", "struct", "union", "alternate", "command", "event"]
        .contains(&meta)
        .then_some(())?;
    Some((meta, v.as_str()?))
}

struct Mk {
    span: Span,
}

impl Mk {
    fn v(&self, kind: ValueKind) -> Value {
        Value {
            kind,
            span: self.span,
        }
    }
    fn s(&self, s: &str) -> Value {
        self.v(ValueKind::Str(s.to_owned()))
    }
    fn key(&self, s: &str) -> Key {
        Key {
            name: s.to_owned(),
            span: self.span,
        }
    }
    fn ty(&self, t: &Type) -> Value {
        match t {
            Type::Name(n) => self.s(n),
            Type::List(inner) => self.v(ValueKind::List(vec![self.ty(inner)])),
        }
    }
    fn dict(&self, entries: Vec<(&str, Value)>) -> Dict {
        Dict {
            entries: entries.into_iter().map(|(k, v)| (self.key(k), v)).collect(),
        }
    }
    fn doc(&self, name: &str, members: &[String], features: &[String], since: Option<&str>) -> Doc {
        let sec = |kind, name: Option<&str>, text: &str| DocSection {
            kind,
            name: name.map(str::to_owned),
            text: text.to_owned(),
            span: Some(self.span),
            tag: None,
        };
        let mut sections = vec![sec(DocSectionKind::Plain, None, "")];
        sections.extend(
            members
                .iter()
                .map(|m| sec(DocSectionKind::Member, Some(m), "")),
        );
        sections.extend(
            features
                .iter()
                .map(|f| sec(DocSectionKind::Feature, Some(f), "")),
        );
        if let Some(s) = since {
            sections.push(sec(DocSectionKind::Since, None, s));
        }
        Doc {
            span: Some(self.span),
            symbol: Some(name.to_owned()),
            sections,
        }
    }
}

/// The type a member value names (`'T'`, `['T']`, `{'type': ..}`).
fn value_type(v: &Value) -> Option<Type> {
    match &v.kind {
        ValueKind::Str(s) => Some(Type::Name(s.clone())),
        ValueKind::List(l) => Some(Type::List(Box::new(value_type(l.first()?)?))),
        ValueKind::Dict(d) => value_type(d.get("type")?),
        _ => None,
    }
}

/// Same type, integer widths aside.
fn same_type(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::List(x), Type::List(y)) => same_type(x, y),
        (Type::Name(x), Type::Name(y)) => {
            x == y || (INTS.contains(&x.as_str()) && INTS.contains(&y.as_str()))
        }
        _ => false,
    }
}

fn member_items(def: &Def) -> impl Iterator<Item = (&str, &Type, bool)> {
    def.items.iter().filter_map(|i| match i {
        MItem::Member { name, ty, optional } => Some((name.as_str(), ty, *optional)),
        _ => None,
    })
}

/// Edits a members dictionary to the manual's members. Returns the member
/// names (for the docs).
fn sync_members(
    mk: &Mk,
    owner: &str,
    dict: &mut Dict,
    wanted: &[(&str, &Type, bool)],
    report: &mut Report,
) {
    let want: HashMap<&str, (&Type, bool)> =
        wanted.iter().map(|(n, t, o)| (*n, (*t, *o))).collect();
    dict.entries.retain(|(k, _)| {
        let n = k.name.trim_start_matches('*');
        let keep = want.contains_key(n);
        if !keep {
            report.removed_members.push(format!("{owner}.{n}"));
        }
        keep
    });
    for (k, v) in &mut dict.entries {
        let n = k.name.trim_start_matches('*').to_owned();
        let (t, opt) = want[n.as_str()];
        if k.name.starts_with('*') != opt {
            k.name = if opt { format!("*{n}") } else { n.clone() };
            report.optionality.push(format!("{owner}.{n}"));
        }
        if let Some(have) = value_type(v)
            && !same_type(&have, t)
        {
            match &mut v.kind {
                ValueKind::Dict(d) => {
                    if let Some((_, tv)) = d.entries.iter_mut().find(|(k, _)| k.name == "type") {
                        *tv = mk.ty(t);
                    }
                }
                _ => *v = mk.ty(t),
            }
            report.type_changed.push(format!("{owner}.{n}"));
        }
    }
    // New members go where the manual has them: after the member before.
    let mut at = 0;
    for (n, t, opt) in wanted {
        if let Some(p) = dict
            .entries
            .iter()
            .position(|(k, _)| k.name.trim_start_matches('*') == *n)
        {
            at = p + 1;
            continue;
        }
        let key = if *opt {
            format!("*{n}")
        } else {
            (*n).to_owned()
        };
        dict.entries.insert(at, (mk.key(&key), mk.ty(t)));
        at += 1;
        report.members.push(format!("{owner}.{n}"));
        if t.base_name() == "int" {
            report.int_unknown.push(format!("{owner}.{n}"));
        }
    }
}

fn dict_mut<'a>(d: &'a mut Dict, key: &str) -> Option<&'a mut Dict> {
    d.entries
        .iter_mut()
        .find(|(k, _)| k.name == key)
        .and_then(|(_, v)| match &mut v.kind {
            ValueKind::Dict(d) => Some(d),
            _ => None,
        })
}

fn set_doc_members(doc: &mut Doc, names: &[String], features: &[String]) {
    let keep: HashSet<&str> = names.iter().map(String::as_str).collect();
    let span = doc.span;
    let keep_f: HashSet<&str> = features.iter().map(String::as_str).collect();
    doc.sections.retain(|s| match s.kind {
        DocSectionKind::Member => s.name.as_deref().is_some_and(|n| keep.contains(n)),
        DocSectionKind::Feature => s.name.as_deref().is_some_and(|n| keep_f.contains(n)),
        _ => true,
    });
    let pos = doc
        .sections
        .iter()
        .rposition(|s| s.kind == DocSectionKind::Member)
        .map_or(1.min(doc.sections.len()), |p| p + 1);
    let mut add: Vec<DocSection> = Vec::new();
    for n in names {
        if doc.member(n).is_none() {
            add.push(DocSection {
                kind: DocSectionKind::Member,
                name: Some(n.clone()),
                text: String::new(),
                span,
                tag: None,
            });
        }
    }
    doc.sections.splice(pos..pos, add);
    for f in features {
        if doc.feature(f).is_none() {
            let at = doc
                .sections
                .iter()
                .position(|s| s.kind == DocSectionKind::Since)
                .unwrap_or(doc.sections.len());
            doc.sections.insert(
                at,
                DocSection {
                    kind: DocSectionKind::Feature,
                    name: Some(f.clone()),
                    text: String::new(),
                    span,
                    tag: None,
                },
            );
        }
    }
}

/// Names the docs must document for a definition built from `def`.
fn documented(def: &Def) -> Vec<String> {
    match def.kind {
        DefKind::Enum => def.values.clone(),
        _ => member_items(def).map(|(n, _, _)| n.to_owned()).collect(),
    }
}

/// Updates an existing definition to the manual's.
fn update(
    mk: &Mk,
    e: &mut Expr,
    def: &Def,
    unions: &HashSet<String>,
    reply: Option<&Model>,
    report: &mut Report,
) {
    let Some((meta, _)) = def_name(&e.dict) else {
        return;
    };
    let meta = meta.to_owned();
    let name = def.name.clone();
    let members: Vec<(&str, &Type, bool)> = member_items(def).collect();
    match meta.as_str() {
        "enum" => {
            if let Some((_, v)) = e.dict.entries.iter_mut().find(|(k, _)| k.name == "data")
                && let ValueKind::List(list) = &mut v.kind
            {
                let val_name = |x: &Value| -> Option<String> {
                    match &x.kind {
                        ValueKind::Str(s) => Some(s.clone()),
                        ValueKind::Dict(d) => d.get("name")?.as_str().map(str::to_owned),
                        _ => None,
                    }
                };
                let want: HashSet<&str> = def.values.iter().map(String::as_str).collect();
                list.retain(|x| {
                    let n = val_name(x).unwrap_or_default();
                    let keep = want.contains(n.as_str());
                    if !keep {
                        report.removed_members.push(format!("{name}.{n}"));
                    }
                    keep
                });
                let mut at = 0;
                for v in &def.values {
                    if let Some(p) = list.iter().position(|x| val_name(x).as_deref() == Some(v)) {
                        at = p + 1;
                    } else {
                        list.insert(at, mk.s(v));
                        at += 1;
                        report.values.push(format!("{name}.{v}"));
                    }
                }
            }
        }
        "struct" | "command" | "event" => {
            let base = def.items.iter().find_map(|i| match i {
                MItem::MembersOf(b) => Some(b.as_str()),
                _ => None,
            });
            if meta == "struct" {
                let have = e
                    .dict
                    .get("base")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if have.as_deref() != base {
                    e.dict.entries.retain(|(k, _)| k.name != "base");
                    if let Some(b) = base {
                        let at = e
                            .dict
                            .entries
                            .iter()
                            .position(|(k, _)| k.name == "data")
                            .unwrap_or(1);
                        e.dict.entries.insert(at, (mk.key("base"), mk.s(b)));
                    }
                    report.base_changed.push(name.clone());
                }
            } else if let Some(b) = base
                && members.is_empty()
            {
                if e.dict.get("data").and_then(Value::as_str) != Some(b) {
                    e.dict
                        .entries
                        .retain(|(k, _)| k.name != "data" && k.name != "boxed");
                    e.dict.entries.insert(1, (mk.key("data"), mk.s(b)));
                    if unions.contains(b) {
                        e.dict
                            .entries
                            .insert(2, (mk.key("boxed"), mk.v(ValueKind::Bool(true))));
                    }
                    report.base_changed.push(name.clone());
                }
            } else if !members.is_empty() && dict_mut(&mut e.dict, "data").is_none() {
                // Named or no arguments before: now a members dictionary.
                e.dict
                    .entries
                    .retain(|(k, _)| k.name != "data" && k.name != "boxed");
                let mut d = Dict::default();
                sync_members(mk, &name, &mut d, &members, report);
                e.dict
                    .entries
                    .insert(1, (mk.key("data"), mk.v(ValueKind::Dict(d))));
            }
            if let Some(d) = dict_mut(&mut e.dict, "data") {
                sync_members(mk, &name, d, &members, report);
            }
            if meta == "command"
                && e.dict.get("returns").is_none()
                && let Some(r) = &def.returns
            {
                e.dict.entries.push((mk.key("returns"), mk.ty(r)));
            }
        }
        "union" => {
            if let Some(d) = dict_mut(&mut e.dict, "base") {
                sync_members(mk, &name, d, &members, report);
            }
            if let Some(d) = dict_mut(&mut e.dict, "data") {
                let want: HashSet<&str> = def
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        MItem::Branch { value, .. } => Some(value.as_str()),
                        _ => None,
                    })
                    .collect();
                d.entries.retain(|(k, _)| {
                    let keep = want.contains(k.name.as_str());
                    if !keep {
                        report.removed_members.push(format!("{name}.{}", k.name));
                    }
                    keep
                });
                for item in &def.items {
                    let MItem::Branch { value, ty, .. } = item else {
                        continue;
                    };
                    if let Some((_, v)) = d.entries.iter_mut().find(|(k, _)| k.name == *value) {
                        if value_type(v) != Some(Type::Name(ty.clone())) {
                            match &mut v.kind {
                                ValueKind::Dict(bd) => {
                                    if let Some((_, tv)) =
                                        bd.entries.iter_mut().find(|(k, _)| k.name == "type")
                                    {
                                        *tv = mk.s(ty);
                                    }
                                }
                                _ => *v = mk.s(ty),
                            }
                            report.type_changed.push(format!("{name}.{value}"));
                        }
                        continue;
                    }
                    {
                        d.entries.push((mk.key(value), mk.s(ty)));
                        report.members.push(format!("{name}.{value}"));
                    }
                }
            }
        }
        "alternate" => {
            if let Some(d) = dict_mut(&mut e.dict, "data") {
                sync_members(mk, &name, d, &members, report);
            }
        }
        _ => {}
    }
    // Condition and `Since:` of the definition follow the manual.
    let have_cond = e.dict.get("if").and_then(render_cond);
    match (&def.cond, &have_cond) {
        (Some(c), h) if h.as_deref() != Some(c.as_str()) => {
            if c.contains('(') {
                report.cond_unknown.push(format!("{name}: {c}"));
            } else {
                let v = cond_value(mk, c);
                match e.dict.entries.iter_mut().find(|(k, _)| k.name == "if") {
                    Some((_, old)) => *old = v,
                    None => e.dict.entries.push((mk.key("if"), v)),
                }
                report.cond_changed.push(format!("{name}: {c}"));
            }
        }
        (None, Some(h)) => report
            .cond_unknown
            .push(format!("{name}: {h} (not in the manual; kept)")),
        _ => {}
    }
    if let (Some(doc), Some(since)) = (&mut e.doc, &def.since)
        && doc.since() != Some(since.as_str())
    {
        let sec = DocSection {
            kind: DocSectionKind::Since,
            name: None,
            text: since.clone(),
            span: doc.span,
            tag: None,
        };
        match doc
            .sections
            .iter_mut()
            .find(|s| s.kind == DocSectionKind::Since)
        {
            Some(old) => *old = sec,
            None => doc.sections.push(sec),
        }
        report.since_changed.push(format!("{name}: {since}"));
    }
    // Features: the manual lists those of the definition and of its
    // members together; document those the source has, add to commands
    // and events what the reply shows, and report the rest.
    let mut have: HashSet<String> = HashSet::new();
    collect_features(&e.dict, &mut have);
    let live: HashSet<&str> = match reply.and_then(|m| m.get(&name)) {
        Some(Entity::Command(c)) => c.common.features.iter().map(|f| f.name.as_str()).collect(),
        Some(Entity::Event(ev)) => ev.common.features.iter().map(|f| f.name.as_str()).collect(),
        _ => HashSet::new(),
    };
    let mut features = Vec::new();
    for f in &def.features {
        if have.contains(f) {
            features.push(f.clone());
        } else if live.contains(f.as_str()) {
            match e
                .dict
                .entries
                .iter_mut()
                .find(|(k, _)| k.name == "features")
            {
                Some((_, v)) => {
                    if let ValueKind::List(l) = &mut v.kind {
                        l.push(mk.s(f));
                    }
                }
                None => e
                    .dict
                    .entries
                    .push((mk.key("features"), mk.v(ValueKind::List(vec![mk.s(f)])))),
            }
            report.features.push(format!("{name}: {f}"));
            features.push(f.clone());
        } else {
            report.features_unplaced.push(format!("{name}: {f}"));
        }
    }
    let docs = documented(def);
    if let Some(doc) = &mut e.doc {
        set_doc_members(doc, &docs, &features);
    }
}

/// Every feature name in a definition (its own and its members').
fn collect_features(d: &Dict, out: &mut HashSet<String>) {
    for (k, v) in &d.entries {
        match &v.kind {
            ValueKind::List(l) if k.name == "features" => {
                for f in l {
                    match &f.kind {
                        ValueKind::Str(s) => {
                            out.insert(s.clone());
                        }
                        ValueKind::Dict(fd) => {
                            if let Some(n) = fd.get("name").and_then(Value::as_str) {
                                out.insert(n.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            ValueKind::Dict(inner) => collect_features(inner, out),
            ValueKind::List(l) => {
                for x in l {
                    if let ValueKind::Dict(inner) = &x.kind {
                        collect_features(inner, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A QAPI `if` value as the manual writes it (`A`, `A or B`, `A and B`,
/// `not A`, nested in parentheses).
fn render_cond(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::Str(s) => Some(s.clone()),
        ValueKind::Dict(d) => {
            let (k, inner) = d.entries.first()?;
            let sub = |x: &Value| {
                let r = render_cond(x)?;
                Some(if matches!(x.kind, ValueKind::Dict(_)) {
                    format!("({r})")
                } else {
                    r
                })
            };
            match k.name.as_str() {
                "not" => Some(format!("not {}", sub(inner)?)),
                op @ ("any" | "all") => {
                    let parts = inner
                        .as_list()?
                        .iter()
                        .map(sub)
                        .collect::<Option<Vec<_>>>()?;
                    Some(parts.join(if op == "any" { " or " } else { " and " }))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A condition as the manual writes it (`A`, `A or B`, `A and B`) as a
/// QAPI `if` value.
fn cond_value(mk: &Mk, c: &str) -> Value {
    let list = |sep: &str| -> Vec<Value> { c.split(sep).map(|x| mk.s(x.trim())).collect() };
    if c.contains(" or ") && !c.contains(" and ") {
        mk.v(ValueKind::Dict(
            mk.dict(vec![("any", mk.v(ValueKind::List(list(" or "))))]),
        ))
    } else if c.contains(" and ") && !c.contains(" or ") {
        mk.v(ValueKind::Dict(
            mk.dict(vec![("all", mk.v(ValueKind::List(list(" and "))))]),
        ))
    } else if let Some(x) = c.strip_prefix("not ") {
        mk.v(ValueKind::Dict(mk.dict(vec![("not", mk.s(x.trim()))])))
    } else {
        mk.s(c)
    }
}

/// Builds a new definition from the manual.
fn create(
    mk: &Mk,
    def: &Def,
    reply: Option<&Model>,
    unions: &HashSet<String>,
    carry: Option<&HashMap<String, Type>>,
    report: &mut Report,
) -> Option<Expr> {
    // Integer members: the width of the same member where the source had
    // it (arguments moved into this type, or a type renamed).
    let typed: Vec<(&str, Type, bool)> = member_items(def)
        .map(|(n, t, o)| {
            let known = carry
                .and_then(|c| c.get(n))
                .filter(|k| t.base_name() == "int" && same_type(k, t));
            (n, known.unwrap_or(t).clone(), o)
        })
        .collect();
    let members: Vec<(&str, &Type, bool)> = typed.iter().map(|(n, t, o)| (*n, t, *o)).collect();
    let mut plain = Dict::default();
    let scratch = &mut Report::default();
    sync_members(mk, &def.name, &mut plain, &members, scratch);
    scratch.int_unknown.retain(|m| {
        let n = m.rsplit_once('.').map_or("", |(_, n)| n);
        !carry.is_some_and(|c| c.contains_key(n))
    });
    report.int_unknown.append(&mut scratch.int_unknown);
    let base = def.items.iter().find_map(|i| match i {
        MItem::MembersOf(b) => Some(b.clone()),
        _ => None,
    });
    let branches: Vec<(&str, &str, &str)> = def
        .items
        .iter()
        .filter_map(|i| match i {
            MItem::Branch { tag, value, ty } => Some((tag.as_str(), value.as_str(), ty.as_str())),
            _ => None,
        })
        .collect();
    let dict_v = |d: Dict| mk.v(ValueKind::Dict(d));
    let mut entries: Vec<(&str, Value)> = Vec::new();
    match def.kind {
        DefKind::Enum => {
            entries.push(("enum", mk.s(&def.name)));
            entries.push((
                "data",
                mk.v(ValueKind::List(
                    def.values.iter().map(|v| mk.s(v)).collect(),
                )),
            ));
        }
        DefKind::Alternate => {
            entries.push(("alternate", mk.s(&def.name)));
            entries.push(("data", dict_v(plain)));
        }
        DefKind::Object if !branches.is_empty() => {
            entries.push(("union", mk.s(&def.name)));
            match base {
                Some(b) if plain.entries.is_empty() => entries.push(("base", mk.s(&b))),
                None => entries.push(("base", dict_v(plain))),
                Some(_) => return None,
            }
            entries.push(("discriminator", mk.s(branches[0].0)));
            let data = Dict {
                entries: branches
                    .iter()
                    .map(|(_, v, t)| (mk.key(v), mk.s(t)))
                    .collect(),
            };
            entries.push(("data", dict_v(data)));
        }
        DefKind::Object => {
            entries.push(("struct", mk.s(&def.name)));
            if let Some(b) = base {
                entries.push(("base", mk.s(&b)));
            }
            entries.push(("data", dict_v(plain)));
        }
        DefKind::Command | DefKind::Event => {
            let meta = if def.kind == DefKind::Command {
                "command"
            } else {
                "event"
            };
            entries.push((meta, mk.s(&def.name)));
            match base {
                Some(b) if plain.entries.is_empty() => {
                    entries.push(("data", mk.s(&b)));
                    if unions.contains(&b) {
                        entries.push(("boxed", mk.v(ValueKind::Bool(true))));
                    }
                }
                Some(_) => return None,
                None if !plain.entries.is_empty() => entries.push(("data", dict_v(plain))),
                None => {}
            }
            if let Some(r) = &def.returns {
                entries.push(("returns", mk.ty(r)));
            }
            if def.kind == DefKind::Command
                && let Some(Entity::Command(c)) = reply.and_then(|m| m.get(&def.name))
                && c.allow_oob
            {
                entries.push(("allow-oob", mk.v(ValueKind::Bool(true))));
            }
        }
    }
    if let Some(c) = &def.cond {
        entries.push(("if", cond_value(mk, c)));
        report.conditional.push(def.name.clone());
    }
    if !def.features.is_empty() {
        entries.push((
            "features",
            mk.v(ValueKind::List(
                def.features.iter().map(|f| mk.s(f)).collect(),
            )),
        ));
    }
    let doc = mk.doc(
        &def.name,
        &documented(def),
        &def.features,
        def.since.as_deref(),
    );
    Some(Expr {
        dict: mk.dict(entries),
        span: mk.span,
        doc: Some(doc),
    })
}

/// Member types the source has for definitions the manual adds: the
/// arguments of a command or event that now names a type for them (the
/// new type's members), and the members of a definition renamed in case
/// only (`NetDevPasstOptions` → `NetdevPasstOptions`).
fn carried_members(parsed: &Parsed, manual: &[Def]) -> HashMap<String, HashMap<String, Type>> {
    let mut source: HashMap<String, (String, HashMap<String, Type>)> = HashMap::new();
    for item in &parsed.items {
        let Item::Expr(e) = item else { continue };
        let Some((meta, name)) = def_name(&e.dict) else {
            continue;
        };
        let mut members = HashMap::new();
        for key in ["data", "base"] {
            if let Some(d) = e.dict.get(key).and_then(Value::as_dict) {
                for (k, v) in &d.entries {
                    if let Some(t) = value_type(v) {
                        members.insert(k.name.trim_start_matches('*').to_owned(), t);
                    }
                }
            }
        }
        source.insert(name.to_owned(), (meta.to_owned(), members));
    }
    let mut carry: HashMap<String, HashMap<String, Type>> = HashMap::new();
    for def in manual {
        // Arguments moved into a named type.
        if let [MItem::MembersOf(b)] = def.items.as_slice()
            && matches!(def.kind, DefKind::Command | DefKind::Event)
            && let Some((_, members)) = source.get(&def.name)
            && !members.is_empty()
            && !source.contains_key(b)
        {
            carry.entry(b.clone()).or_default().extend(members.clone());
        }
        // A member's type replaced by a new one (`MigrationStats` →
        // `MigrationRAMStats`).
        if let Some((_, members)) = source.get(&def.name) {
            for (n, t, _) in member_items(def) {
                if let (Some(Type::Name(old)), Type::Name(new)) = (members.get(n), t)
                    && old != new
                    && !source.contains_key(new)
                    && let Some((_, old_members)) = source.get(old)
                {
                    carry
                        .entry(new.clone())
                        .or_default()
                        .extend(old_members.clone());
                }
            }
        }
        // Renamed in case only.
        if !source.contains_key(&def.name)
            && let Some((_, (_, members))) = source
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&def.name))
        {
            carry
                .entry(def.name.clone())
                .or_default()
                .extend(members.clone());
        }
    }
    // What a new type inherits from a new base, the base has.
    for def in manual {
        let Some(known) = carry.get(&def.name).cloned() else {
            continue;
        };
        for item in &def.items {
            if let MItem::MembersOf(b) = item
                && !source.contains_key(b)
            {
                carry.entry(b.clone()).or_default().extend(known.clone());
            }
        }
    }
    carry
}

/// Extends `parsed` with the definitions of a later release's manual (see
/// the module docs). `reply`, when given, is that release's
/// `query-qmp-schema` reply: commands and events it has are never dropped,
/// and it supplies `allow-oob`.
pub fn extend(parsed: &mut Parsed, manual: &[Def], reply: Option<&Model>) -> Report {
    let mut report = Report::default();
    let in_manual: HashMap<&str, &Def> = manual.iter().map(|d| (d.name.as_str(), d)).collect();
    let carry = carried_members(parsed, manual);
    // Drop what the manual lacks.
    parsed.items.retain(|i| {
        let Item::Expr(e) = i else { return true };
        let Some((meta, name)) = def_name(&e.dict) else {
            return true;
        };
        if in_manual.contains_key(name) {
            return true;
        }
        let live =
            matches!(meta, "command" | "event") && reply.is_some_and(|m| m.get(name).is_some());
        if !live {
            report.removed.push(name.to_owned());
        }
        live
    });
    let unions: HashSet<String> = parsed
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Expr(e) => match def_name(&e.dict) {
                Some(("union", n)) => Some(n.to_owned()),
                _ => None,
            },
            _ => None,
        })
        .chain(
            manual
                .iter()
                .filter(|d| d.items.iter().any(|i| matches!(i, MItem::Branch { .. })))
                .map(|d| d.name.clone()),
        )
        .collect();
    // Update and add, in manual order.
    let mut last: Option<usize> = None;
    for def in manual {
        let pos = parsed.items.iter().position(|i| match i {
            Item::Expr(e) => def_name(&e.dict).is_some_and(|(_, n)| n == def.name),
            _ => false,
        });
        match pos {
            Some(p) => {
                let Item::Expr(e) = &mut parsed.items[p] else {
                    unreachable!()
                };
                let mk = Mk { span: e.span };
                update(&mk, e, def, &unions, reply, &mut report);
                last = Some(p);
            }
            None => {
                // After the preceding manual definition, else before the
                // first item of the main file's module.
                let at = last.map_or(0, |l| l + 1);
                let Some(anchor) = parsed.items.get(last.unwrap_or(0)) else {
                    report.skipped.push(def.name.clone());
                    continue;
                };
                let span = match anchor {
                    Item::Expr(e) => e.span,
                    Item::Directive(d) => d.span,
                    Item::Doc(d) => match d.span {
                        Some(s) => s,
                        None => {
                            report.skipped.push(def.name.clone());
                            continue;
                        }
                    },
                };
                let mk = Mk { span };
                let Some(expr) =
                    create(&mk, def, reply, &unions, carry.get(&def.name), &mut report)
                else {
                    report.skipped.push(def.name.clone());
                    continue;
                };
                parsed.items.insert(at, Item::Expr(expr));
                match def.kind {
                    DefKind::Command => report.commands.push(def.name.clone()),
                    DefKind::Event => report.events.push(def.name.clone()),
                    _ => report.types.push(def.name.clone()),
                }
                last = Some(at);
            }
        }
    }
    report
}

/// Adds the features a `query-qmp-schema` reply shows and the tree lacks:
/// on definitions, members and enum values (the manual lists member
/// features only in prose). `model` is the tree checked; reply types are
/// matched to it by structure ([`crate::recover`]). Returns what was
/// added, as `definition[.member]: feature`.
///
/// Also puts the members and values in `new` (`Definition.member`, as in
/// [`Report::members`] and [`Report::values`]) in the reply's order: the
/// manual lists members in documentation order, which may differ.
pub fn reconcile_with_reply(
    parsed: &mut Parsed,
    model: &Model,
    reply: &Model,
    new: &HashSet<String>,
) -> Vec<String> {
    let rec = crate::recover::recover(reply, model);
    let mut of_source: HashMap<&str, &str> = HashMap::new();
    for (m, r) in rec.names.iter().chain(rec.implicit.iter()) {
        of_source.insert(r.as_str(), m.as_str());
    }
    let mut added = Vec::new();
    for item in &mut parsed.items {
        let Item::Expr(e) = item else { continue };
        let Some((meta, name)) = def_name(&e.dict) else {
            continue;
        };
        let (meta, name) = (meta.to_owned(), name.to_owned());
        let mk = Mk { span: e.span };
        // The reply entity whose own features are the definition's, and
        // the one holding its members.
        let (own, holder) = match meta.as_str() {
            "command" | "event" => {
                let arg = of_source
                    .get(format!("q_obj_{name}-arg").as_str())
                    .and_then(|m| reply.get(m));
                (reply.get(&name), arg)
            }
            _ => {
                let r = of_source.get(name.as_str()).and_then(|m| reply.get(m));
                (r, r)
            }
        };
        let mut new_features: Vec<String> = Vec::new();
        if let Some(own) = own.and_then(Entity::common) {
            let mut have = HashSet::new();
            if let Some(v) = e.dict.get("features") {
                let mut d = Dict::default();
                d.entries.push((mk.key("features"), v.clone()));
                collect_features(&d, &mut have);
            }
            for f in &own.features {
                if !have.contains(&f.name) {
                    match e
                        .dict
                        .entries
                        .iter_mut()
                        .find(|(k, _)| k.name == "features")
                    {
                        Some((_, v)) => {
                            if let ValueKind::List(l) = &mut v.kind {
                                l.push(mk.s(&f.name));
                            }
                        }
                        None => e.dict.entries.push((
                            mk.key("features"),
                            mk.v(ValueKind::List(vec![mk.s(&f.name)])),
                        )),
                    }
                    added.push(format!("{name}: {}", f.name));
                    new_features.push(f.name.clone());
                }
            }
        }
        match holder {
            Some(Entity::Object(o)) => {
                let order: Vec<&str> = o.members.iter().map(|m| m.name.as_str()).collect();
                for key in ["data", "base"] {
                    let Some(d) = dict_mut(&mut e.dict, key) else {
                        continue;
                    };
                    reorder(
                        &mut d.entries,
                        |(k, _)| k.name.trim_start_matches('*').to_owned(),
                        &order,
                        |n| new.contains(&format!("{name}.{n}")),
                    );
                    for (k, v) in &mut d.entries {
                        let n = k.name.trim_start_matches('*');
                        let Some(rm) = o.members.iter().find(|m| m.name == n) else {
                            continue;
                        };
                        let mut have = HashSet::new();
                        if let ValueKind::Dict(vd) = &v.kind {
                            collect_features(vd, &mut have);
                        }
                        for f in &rm.features {
                            if have.contains(&f.name) {
                                continue;
                            }
                            add_feature(&mk, v, &f.name, "type");
                            added.push(format!("{name}.{n}: {}", f.name));
                            new_features.push(f.name.clone());
                        }
                    }
                }
            }
            Some(Entity::Enum(en)) => {
                if let Some((_, v)) = e.dict.entries.iter_mut().find(|(k, _)| k.name == "data")
                    && let ValueKind::List(list) = &mut v.kind
                {
                    let order: Vec<&str> = en.members.iter().map(|m| m.name.as_str()).collect();
                    let val_name = |x: &Value| match &x.kind {
                        ValueKind::Str(s) => s.clone(),
                        ValueKind::Dict(d) => d
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        _ => String::new(),
                    };
                    reorder(list, val_name, &order, |n| {
                        new.contains(&format!("{name}.{n}"))
                    });
                    for x in list.iter_mut() {
                        let n = match &x.kind {
                            ValueKind::Str(s) => s.clone(),
                            ValueKind::Dict(d) => d
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            _ => continue,
                        };
                        let Some(rv) = en.members.iter().find(|m| m.name == n) else {
                            continue;
                        };
                        let mut have = HashSet::new();
                        if let ValueKind::Dict(vd) = &x.kind {
                            collect_features(vd, &mut have);
                        }
                        for f in &rv.features {
                            if have.contains(&f.name) {
                                continue;
                            }
                            add_feature(&mk, x, &f.name, "name");
                            added.push(format!("{name}.{n}: {}", f.name));
                            new_features.push(f.name.clone());
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(doc) = &mut e.doc {
            for f in new_features {
                if doc.feature(&f).is_none() {
                    let at = doc
                        .sections
                        .iter()
                        .position(|s| s.kind == DocSectionKind::Since)
                        .unwrap_or(doc.sections.len());
                    doc.sections.insert(
                        at,
                        DocSection {
                            kind: DocSectionKind::Feature,
                            name: Some(f),
                            text: String::new(),
                            span: doc.span,
                            tag: None,
                        },
                    );
                }
            }
        }
    }
    added
}

/// Adds a feature to a member (`key` = `type`) or enum value (`key` =
/// `name`), turning the short form into a dictionary.
fn add_feature(mk: &Mk, v: &mut Value, feature: &str, key: &str) {
    if !matches!(v.kind, ValueKind::Dict(_)) {
        let short = v.clone();
        *v = mk.v(ValueKind::Dict(Dict {
            entries: vec![(mk.key(key), short)],
        }));
    }
    if let ValueKind::Dict(d) = &mut v.kind {
        match d.entries.iter_mut().find(|(k, _)| k.name == "features") {
            Some((_, fv)) => {
                if let ValueKind::List(l) = &mut fv.kind {
                    l.push(mk.s(feature));
                }
            }
            None => d.entries.push((
                mk.key("features"),
                mk.v(ValueKind::List(vec![mk.s(feature)])),
            )),
        }
    }
}

/// Moves the entries `is_new` says are new to just after the entry that
/// precedes them in `order` (or to the front).
fn reorder<T>(
    entries: &mut Vec<T>,
    name_of: impl Fn(&T) -> String,
    order: &[&str],
    is_new: impl Fn(&str) -> bool,
) {
    for (i, n) in order.iter().enumerate() {
        if !is_new(n) {
            continue;
        }
        let Some(from) = entries.iter().position(|e| name_of(e) == *n) else {
            continue;
        };
        let entry = entries.remove(from);
        let at = order[..i]
            .iter()
            .rev()
            .find_map(|p| entries.iter().position(|e| name_of(e) == *p))
            .map_or(0, |p| p + 1);
        entries.insert(at, entry);
    }
}

/// The result of [`extract_extended`].
#[derive(Debug, Clone)]
pub struct Extended {
    /// The snapshot text (`qmp-rs-snapshot/1`).
    pub text: String,
    /// The checked model of the snapshot.
    pub model: Model,
    /// What the manual changed.
    pub report: Report,
    /// Features taken from the reply ([`reconcile_with_reply`]).
    pub from_reply: Vec<String>,
}

/// The whole extraction: parses the schema at `path` (the nearest release
/// with source), [`extend`]s it with the later release's manual (troff
/// text), reconciles it with that release's reply if given, writes the
/// snapshot (with `source` as its source text, if given) and checks it.
/// Deterministic: the same inputs give the same bytes.
pub fn extract_extended(
    path: &std::path::Path,
    opts: &crate::ParseOptions,
    manual_text: &str,
    reply: Option<&Model>,
    source: Option<&str>,
) -> Result<Extended, crate::Error> {
    use crate::snapshot;
    let (mut parsed, mut meta) = snapshot::extract_parsed(path, opts)?;
    if let Some(s) = source {
        meta.source = Some(s.to_owned());
    }
    let defs = crate::manual::parse(manual_text);
    let report = extend(&mut parsed, &defs, reply);
    let load = |text: &str| -> Result<Model, crate::Error> {
        let (p, level) = snapshot::read_with_level("<snapshot>", text)?;
        let level = opts.level.or(level).unwrap_or_default();
        crate::check(p, &crate::CheckOptions { level: Some(level) })
    };
    let mut text = snapshot::write_with(&parsed, &meta);
    let mut from_reply = Vec::new();
    if let Some(r) = reply {
        let model = load(&text)?;
        let new: HashSet<String> = report
            .members
            .iter()
            .chain(&report.values)
            .cloned()
            .collect();
        from_reply = reconcile_with_reply(&mut parsed, &model, r, &new);
        text = snapshot::write_with(&parsed, &meta);
    }
    let model = load(&text)?;
    Ok(Extended {
        text,
        model,
        report,
        from_reply,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckOptions, ParseOptions, check, parse_str, snapshot};

    const SOURCE: &str = "
{ 'enum': 'Color', 'data': ['red', 'green'] }
{ 'struct': 'Shape', 'data': { 'id': 'str', '*old': 'int', 'n': 'uint8' } }
{ 'command': 'query-shape', 'returns': 'Shape' }
{ 'command': 'gone' }
";

    /// A manual in `rst2man`'s layout: Color gains `blue` and loses
    /// `green`, Shape gains `kind` and `size` and loses `old`, `gone` is
    /// gone, `query-size` and `Size` are new.
    const MANUAL: &str = r#".TH "X" "7"
.INDENT 0.0
.TP
.B Enum Color (Since: 1.0)
.INDENT 7.0
.TP
.B Values
.INDENT 7.0
.IP \(bu 2
\fBred\fP \-\- prose
.IP \(bu 2
\fBblue\fP \-\- prose
.UNINDENT
.UNINDENT
.UNINDENT
.INDENT 0.0
.TP
.B Object Shape (Since: 1.0)
.INDENT 7.0
.TP
.B Members
.INDENT 7.0
.IP \(bu 2
\fBid\fP (\fBstring\fP) \-\- prose
.IP \(bu 2
\fBkind\fP (\fI\%Color\fP) \-\- prose
.IP \(bu 2
\fBn\fP (\fBint\fP) \-\- prose
.IP \(bu 2
\fBsize\fP (\fBint\fP, \fIoptional\fP) \-\- prose
.UNINDENT
.UNINDENT
.UNINDENT
.INDENT 0.0
.TP
.B Command query\-shape (Since: 1.0)
.INDENT 7.0
.TP
.B Return
\fI\%Shape\fP
.UNINDENT
.UNINDENT
.INDENT 0.0
.TP
.B Enum Size (Since: 11.1)
.INDENT 7.0
.TP
.B Values
.INDENT 7.0
.IP \(bu 2
\fBsmall\fP \-\- prose
.UNINDENT
.UNINDENT
.UNINDENT
.INDENT 0.0
.TP
.B Command query\-size (Since: 11.1)
\fIAvailability\fP: \fBCONFIG_A or CONFIG_B\fP
.INDENT 7.0
.TP
.B Arguments
.INDENT 7.0
.IP \(bu 2
\fBsize\fP (\fI\%Size\fP, \fIoptional\fP) \-\- prose
.UNINDENT
.TP
.B Return
\fB[\fP\fI\%Shape\fP\fB]\fP \-\- prose
.UNINDENT
.UNINDENT
"#;

    #[test]
    fn extends_with_the_manual() {
        let mut parsed = parse_str("main.json", SOURCE, &ParseOptions::default()).unwrap();
        let defs = crate::manual::parse(MANUAL);
        let r = extend(&mut parsed, &defs, None);
        assert_eq!(r.values, ["Color.blue"]);
        assert_eq!(r.members, ["Shape.kind", "Shape.size"]);
        assert_eq!(r.removed_members, ["Color.green", "Shape.old"]);
        assert_eq!(r.removed, ["gone"]);
        assert_eq!(r.types, ["Size"]);
        assert_eq!(r.commands, ["query-size"]);
        assert_eq!(r.conditional, ["query-size"]);
        assert_eq!(r.int_unknown, ["Shape.size"]);
        assert!(r.type_changed.is_empty(), "uint8 vs int is no change");
        let text = snapshot::write(&parsed);
        let model = check(
            snapshot::read("s.json", &text).unwrap(),
            &CheckOptions::default(),
        )
        .expect("the extended schema checks");
        let shape = model.object("Shape").unwrap();
        let members: Vec<(&str, &str, bool)> = shape
            .members
            .iter()
            .map(|m| (m.name.as_str(), m.ty.as_str(), m.optional))
            .collect();
        assert_eq!(
            members,
            [
                ("id", "str", false),
                ("kind", "Color", false),
                ("n", "uint8", false),
                ("size", "int", true)
            ]
        );
        let Some(Entity::Command(c)) = model.get("query-size") else {
            panic!("no query-size")
        };
        assert_eq!(c.ret_type.as_deref(), Some("ShapeList"));
        assert_eq!(c.common.since.as_deref(), Some("11.1"));
        assert!(matches!(&c.common.cond, Some(crate::model::IfCond::Any(v)) if v.len() == 2));
        assert!(model.get("gone").is_none());
        let color = model.enum_type("Color").unwrap();
        let values: Vec<&str> = color.members.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(values, ["red", "blue"]);
    }
}
