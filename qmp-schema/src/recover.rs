//! Name recovery: gives the masked types of a `query-qmp-schema` reply
//! their real names, by structure, against a reference model.
//!
//! A reply names its commands and events, but its types only by number
//! (`"62"`). Bindings generated from it would have to invent type names
//! from their use (`BlockdevAddArguments` for what QEMU calls
//! `BlockdevOptions`), and code written against bindings of the QAPI source
//! would not compile against them. Given a reference model (the QAPI source
//! or a facts-only snapshot, ideally of the newest release), [`recover`]
//! maps each masked type to the reference type it stands for:
//!
//! 1. **By use.** Commands and events are paired by name, and from them the
//!    two type graphs are walked in parallel: argument and return types,
//!    members (by name, including inherited ones), union branches (by
//!    discriminator value), array elements and alternate branches (by kind
//!    of type). Two types are paired only when they are of the same kind
//!    (enum, object, alternate) and share something (an enum value, a
//!    member or a branch name), so types that were reshaped between the two
//!    releases are not mistaken for one another.
//! 2. **By shape.** A masked type not reached that way (for example the
//!    member type of a command the reference lacks) is paired with the one
//!    reference type, not yet paired, of the same kind and the same values
//!    or member and branch names; then step 1 continues from it.
//!
//! Each reference type stands for at most one masked type (first pairing
//! wins), so the recovered names stay unique. Masked types paired with
//! implicit reference types (argument objects `q_obj_<cmd>-arg`, union
//! bases, kind enums) keep their masked names, as do types that match
//! nothing: code generators name those by use, as before.
//!
//! [`apply`] then renames the model: types, every reference to them, array
//! types (`[62]` → `[BlockdevOptions]`), and alternate branches, which a
//! reply names after their types (`str`, `62`) and the reference by name
//! (`reference`, `definition`). Integer members, which a reply reports as
//! plain `int`, get the reference's integer type (`uint64`, `size`, ...)
//! when both agree that the member is an integer.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::model::{Entity, Model, Origin};

/// What [`recover`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Masked name → real name, for types paired with named reference types.
    pub names: BTreeMap<String, String>,
    /// Masked name → implicit reference type (argument objects, union
    /// bases, ...): paired, but not renamed.
    pub implicit: BTreeMap<String, String>,
    /// Masked types that match no reference type, in reply order.
    pub unmatched: Vec<String>,
    /// How many of [`names`](Self::names) were found by shape (step 2)
    /// rather than by use.
    pub by_shape: usize,
    /// Alternate branch renames: (masked alternate, branch name in the
    /// reply) → branch name in the reference.
    pub branches: BTreeMap<(String, String), String>,
    /// Integer member types: (masked object, member) → the reference's
    /// integer type.
    pub int_members: BTreeMap<(String, String), String>,
}

impl Recovery {
    /// How many masked types the reply has (named, implicit and unmatched).
    pub fn masked(&self) -> usize {
        self.names.len() + self.implicit.len() + self.unmatched.len()
    }
}

/// Whether an introspection type name is masked (QEMU numbers them).
pub fn is_masked(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

const INT_TYPES: [&str; 10] = [
    "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "size",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Builtin,
    Enum,
    Array,
    Object,
    Alternate,
}

fn kind(model: &Model, name: &str) -> Option<Kind> {
    Some(match model.get(name)? {
        Entity::Builtin(_) => Kind::Builtin,
        Entity::Enum(_) => Kind::Enum,
        Entity::Array(_) => Kind::Array,
        Entity::Object(_) => Kind::Object,
        Entity::Alternate(_) => Kind::Alternate,
        _ => return None,
    })
}

struct Matcher<'a> {
    intro: &'a Model,
    reference: &'a Model,
    /// masked → reference name (named and implicit alike).
    pairs: HashMap<String, String>,
    /// reference name → masked.
    taken: HashMap<String, String>,
    queue: VecDeque<(String, String)>,
    rec: Recovery,
}

impl Matcher<'_> {
    /// Pairs reply type `m` with reference type `r` if they fit.
    fn pair(&mut self, m: &str, r: &str) {
        let (intro, reference) = (self.intro, self.reference);
        match (intro.get(m), reference.get(r)) {
            (Some(Entity::Array(a)), Some(Entity::Array(b))) => {
                let (ea, eb) = (a.element.clone(), b.element.clone());
                self.pair(&ea, &eb);
            }
            (Some(_), Some(_)) if is_masked(m) => {
                if self.pairs.contains_key(m) || self.taken.contains_key(r) {
                    return;
                }
                if kind(intro, m) != kind(reference, r) || !self.related(m, r) {
                    return;
                }
                self.pairs.insert(m.to_owned(), r.to_owned());
                self.taken.insert(r.to_owned(), m.to_owned());
                self.queue.push_back((m.to_owned(), r.to_owned()));
            }
            _ => {}
        }
    }

    /// Whether two types of the same kind share a value, member or branch.
    fn related(&self, m: &str, r: &str) -> bool {
        match (self.intro.get(m), self.reference.get(r)) {
            (Some(Entity::Enum(a)), Some(Entity::Enum(b))) => {
                (a.members.is_empty() && b.members.is_empty())
                    || a.members
                        .iter()
                        .any(|v| b.members.iter().any(|w| w.name == v.name))
            }
            (Some(Entity::Object(a)), Some(Entity::Object(b))) => {
                let empty = |o: &crate::model::Object| o.members.is_empty() && o.variants.is_none();
                if empty(a) || empty(b) {
                    return empty(a) && empty(b);
                }
                a.members
                    .iter()
                    .any(|x| b.members.iter().any(|y| y.name == x.name))
            }
            (Some(Entity::Alternate(_)), Some(Entity::Alternate(_))) => true,
            _ => false,
        }
    }

    /// Walks from a new pair to the types it uses.
    fn descend(&mut self, m: &str, r: &str) {
        let (intro, reference) = (self.intro, self.reference);
        match (intro.get(m), reference.get(r)) {
            (Some(Entity::Object(a)), Some(Entity::Object(b))) => {
                for x in &a.members {
                    let Some(y) = b.members.iter().find(|y| y.name == x.name) else {
                        continue;
                    };
                    if x.ty == "int" && INT_TYPES.contains(&y.ty.as_str()) && y.ty != "int" {
                        self.rec
                            .int_members
                            .insert((m.to_owned(), x.name.clone()), y.ty.clone());
                    }
                    self.pair(&x.ty, &y.ty);
                }
                if let (Some(va), Some(vb)) = (&a.variants, &b.variants) {
                    for x in &va.variants {
                        if let Some(y) = vb.variants.iter().find(|y| y.name == x.name) {
                            self.pair(&x.ty, &y.ty);
                        }
                    }
                }
            }
            (Some(Entity::Alternate(a)), Some(Entity::Alternate(b))) => {
                // Branches pair by kind of type: builtins by JSON type,
                // others when each side has exactly one of that kind.
                let class =
                    |model: &Model, ty: &str| -> Option<(Kind, Option<crate::model::JsonType>)> {
                        let k = kind(model, ty)?;
                        let jt = match model.get(ty)? {
                            Entity::Builtin(bi) => Some(bi.json_type),
                            _ => None,
                        };
                        Some((k, jt))
                    };
                for x in &a.variants.variants {
                    let Some(cx) = class(intro, &x.ty) else {
                        continue;
                    };
                    let same: Vec<_> = b
                        .variants
                        .variants
                        .iter()
                        .filter(|y| class(reference, &y.ty) == Some(cx))
                        .collect();
                    let own = a
                        .variants
                        .variants
                        .iter()
                        .filter(|z| class(intro, &z.ty) == Some(cx))
                        .count();
                    if let [y] = same.as_slice()
                        && own == 1
                    {
                        if x.name != y.name {
                            self.rec
                                .branches
                                .insert((m.to_owned(), x.name.clone()), y.name.clone());
                        }
                        self.pair(&x.ty, &y.ty);
                    }
                }
            }
            _ => {}
        }
    }

    fn drain(&mut self) {
        while let Some((m, r)) = self.queue.pop_front() {
            self.descend(&m, &r);
        }
    }
}

/// A type's shape: its kind, sorted member (or value) and branch names.
type Shape = (Kind, Vec<String>, Vec<String>);

/// A type's shape, for pairing by shape.
fn shape(model: &Model, name: &str) -> Option<Shape> {
    let mut names: Vec<String>;
    let mut branches: Vec<String> = Vec::new();
    let k = match model.get(name)? {
        Entity::Enum(e) => {
            names = e.members.iter().map(|v| v.name.clone()).collect();
            Kind::Enum
        }
        Entity::Object(o) => {
            names = o
                .members
                .iter()
                .map(|m| format!("{}{}", if m.optional { "*" } else { "" }, m.name))
                .collect();
            if let Some(vs) = &o.variants {
                branches = vs.variants.iter().map(|v| v.name.clone()).collect();
            }
            Kind::Object
        }
        _ => return None,
    };
    if names.is_empty() && branches.is_empty() {
        return None;
    }
    names.sort();
    branches.sort();
    Some((k, names, branches))
}

/// Maps the masked types of `intro` (a model read from a
/// `query-qmp-schema` reply) to the types of `reference`, by structure.
/// A model that is not from a reply yields an empty recovery.
pub fn recover(intro: &Model, reference: &Model) -> Recovery {
    let mut mt = Matcher {
        intro,
        reference,
        pairs: HashMap::new(),
        taken: HashMap::new(),
        queue: VecDeque::new(),
        rec: Recovery::default(),
    };
    if intro.origin != Origin::Introspection {
        return mt.rec;
    }
    // Step 1: by use, from commands and events of the same name.
    for e in &intro.entities {
        match e {
            Entity::Command(c) => {
                let Some(Entity::Command(rc)) = reference.get(&c.common.name) else {
                    continue;
                };
                if let (Some(a), Some(b)) = (&c.arg_type, &rc.arg_type) {
                    mt.pair(a, b);
                }
                if let (Some(a), Some(b)) = (&c.ret_type, &rc.ret_type) {
                    mt.pair(a, b);
                }
            }
            Entity::Event(ev) => {
                let Some(Entity::Event(re)) = reference.get(&ev.common.name) else {
                    continue;
                };
                if let (Some(a), Some(b)) = (&ev.arg_type, &re.arg_type) {
                    mt.pair(a, b);
                }
            }
            _ => continue,
        }
        mt.drain();
    }
    // Step 2: by shape, for what is left, until nothing changes.
    let mut by_shape = HashSet::new();
    loop {
        let mut index: HashMap<Shape, Vec<&str>> = HashMap::new();
        for e in &reference.entities {
            let Some(c) = e.common() else { continue };
            if c.implicit || mt.taken.contains_key(&c.name) {
                continue;
            }
            if let Some(s) = shape(reference, &c.name) {
                index.entry(s).or_default().push(&c.name);
            }
        }
        let mut progress = false;
        for e in &intro.entities {
            let Some(c) = e.common() else { continue };
            if !is_masked(&c.name) || mt.pairs.contains_key(&c.name) {
                continue;
            }
            let Some(s) = shape(intro, &c.name) else {
                continue;
            };
            if let Some([r]) = index.get(&s).map(Vec::as_slice)
                && !mt.taken.contains_key(*r)
            {
                mt.pair(&c.name, r);
                if mt.pairs.contains_key(&c.name) {
                    by_shape.insert(c.name.clone());
                    mt.drain();
                    progress = true;
                }
            }
        }
        if !progress {
            break;
        }
    }
    // Sort out what was found.
    let mut rec = std::mem::take(&mut mt.rec);
    for e in &intro.entities {
        let Some(c) = e.common() else { continue };
        if !is_masked(&c.name) {
            continue;
        }
        match mt.pairs.get(&c.name) {
            None => rec.unmatched.push(c.name.clone()),
            Some(r) => {
                let implicit = reference
                    .get(r)
                    .and_then(Entity::common)
                    .is_some_and(|rc| rc.implicit);
                // A name the reply already uses (a command, say) is not
                // taken over.
                if implicit || intro.get(r).is_some() {
                    rec.implicit.insert(c.name.clone(), r.clone());
                } else {
                    if by_shape.contains(&c.name) {
                        rec.by_shape += 1;
                    }
                    rec.names.insert(c.name.clone(), r.clone());
                }
            }
        }
    }
    // Renames and int types only for what keeps or gets a name.
    rec.branches.retain(|(m, _), _| mt.pairs.contains_key(m));
    rec.int_members.retain(|(m, _), _| mt.pairs.contains_key(m));
    rec
}

/// Renames the masked types of `model` as `rec` says (see the module docs),
/// adding the built-in integer types it then needs from `reference`.
pub fn apply(model: &mut Model, rec: &Recovery, reference: &Model) {
    fn rename(map: &BTreeMap<String, String>, name: &str) -> String {
        if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            return format!("[{}]", rename(map, inner));
        }
        map.get(name).cloned().unwrap_or_else(|| name.to_owned())
    }
    let rn = |n: &str| rename(&rec.names, n);
    // Built-in integer types the reply lacks.
    let builtin_module = crate::model::ModuleId(0);
    let mut wanted: Vec<&str> = rec.int_members.values().map(String::as_str).collect();
    wanted.sort_unstable();
    wanted.dedup();
    for w in wanted {
        if model.get(w).is_none()
            && !model.modules.is_empty()
            && let Some(Entity::Builtin(b)) = reference.get(w)
        {
            let mut b = b.clone();
            b.common.module = builtin_module;
            b.common.span = None;
            model.push(Entity::Builtin(b));
        }
    }
    let has = |m: &Model, n: &str| m.get(n).is_some();
    let ints: BTreeMap<(String, String), String> = rec
        .int_members
        .iter()
        .filter(|(_, t)| has(model, t))
        .map(|((o, m), t)| ((o.clone(), m.clone()), t.clone()))
        .collect();
    for e in &mut model.entities {
        match e {
            Entity::Include(_) | Entity::Builtin(_) => {}
            Entity::Enum(x) => x.common.name = rn(&x.common.name),
            Entity::Array(x) => {
                x.common.name = rn(&x.common.name);
                x.element = rn(&x.element);
            }
            Entity::Object(o) => {
                let old = o.common.name.clone();
                o.common.name = rn(&old);
                o.base = o.base.as_deref().map(rn);
                for list in [&mut o.members, &mut o.local_members] {
                    for m in list.iter_mut() {
                        m.ty = match ints.get(&(old.clone(), m.name.clone())) {
                            Some(t) => t.clone(),
                            None => rn(&m.ty),
                        };
                        m.defined_in = rn(&m.defined_in);
                    }
                }
                if let Some(vs) = &mut o.variants {
                    for v in &mut vs.variants {
                        v.ty = rn(&v.ty);
                    }
                }
            }
            Entity::Alternate(a) => {
                let old = a.common.name.clone();
                a.common.name = rn(&old);
                for v in &mut a.variants.variants {
                    if let Some(n) = rec.branches.get(&(old.clone(), v.name.clone())) {
                        v.name = n.clone();
                    }
                    v.ty = rn(&v.ty);
                }
            }
            Entity::Command(c) => {
                c.arg_type = c.arg_type.as_deref().map(rn);
                c.ret_type = c.ret_type.as_deref().map(rn);
            }
            Entity::Event(ev) => ev.arg_type = ev.arg_type.as_deref().map(rn),
        }
    }
    model.index = model
        .entities
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((e.name()?.to_owned(), crate::model::EntityId(i as u32))))
        .collect();
}

/// [`recover`] and [`apply`] in one step.
pub fn recover_names(model: &mut Model, reference: &Model) -> Recovery {
    let rec = recover(model, reference);
    apply(model, &rec, reference);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckOptions, ParseOptions, check, from_introspection_json, parse_str};

    const SOURCE: &str = "
{ 'enum': 'Mode', 'data': ['top', 'full', 'none'] }
{ 'enum': 'Other', 'data': ['x', 'y'] }
{ 'struct': 'Opts', 'data': { 'id': 'str', '*size': 'uint64', 'mode': 'Mode' } }
{ 'struct': 'Info', 'data': { 'name': 'str' } }
{ 'alternate': 'Ref', 'data': { 'definition': 'Opts', 'reference': 'str' } }
{ 'command': 'add', 'data': 'Opts', 'boxed': true }
{ 'command': 'backup', 'data': { 'sync': 'Mode', 'target': 'Ref' } }
{ 'command': 'query-info', 'returns': ['Info'] }
{ 'struct': 'Lone', 'data': { 'a': 'str', 'b': 'Other' } }
";

    const REPLY: &str = r#"[
  {"name": "add", "meta-type": "command", "arg-type": "10", "ret-type": "0"},
  {"name": "backup", "meta-type": "command", "arg-type": "11", "ret-type": "0"},
  {"name": "query-info", "meta-type": "command", "arg-type": "0", "ret-type": "[14]"},
  {"name": "0", "meta-type": "object", "members": []},
  {"name": "10", "meta-type": "object", "members": [
     {"name": "id", "type": "str"}, {"name": "size", "type": "int", "default": null},
     {"name": "mode", "type": "12"}, {"name": "new-in-reply", "type": "17"}]},
  {"name": "11", "meta-type": "object", "members": [
     {"name": "sync", "type": "12"}, {"name": "target", "type": "13"}]},
  {"name": "12", "meta-type": "enum", "values": ["top", "full", "none", "bitmap"]},
  {"name": "13", "meta-type": "alternate", "members": [{"type": "10"}, {"type": "str"}]},
  {"name": "14", "meta-type": "object", "members": [{"name": "name", "type": "str"}]},
  {"name": "[14]", "meta-type": "array", "element-type": "14"},
  {"name": "15", "meta-type": "object", "members": [
     {"name": "a", "type": "str"}, {"name": "b", "type": "16"}]},
  {"name": "16", "meta-type": "enum", "values": ["x", "y"]},
  {"name": "17", "meta-type": "enum", "values": ["p", "q"]},
  {"name": "str", "meta-type": "builtin", "json-type": "string"},
  {"name": "int", "meta-type": "builtin", "json-type": "int"}
]"#;

    fn models() -> (Model, Model) {
        let parsed = parse_str("ref.json", SOURCE, &ParseOptions::default()).unwrap();
        let reference = check(parsed, &CheckOptions::default()).unwrap();
        let reply = from_introspection_json("reply.json", REPLY).unwrap();
        (reply, reference)
    }

    #[test]
    fn pairs_by_use_and_by_shape() {
        let (reply, reference) = models();
        let rec = recover(&reply, &reference);
        let named: Vec<(&str, &str)> = rec
            .names
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("10", "Opts"),
                ("12", "Mode"),
                ("13", "Ref"),
                ("14", "Info"),
                ("15", "Lone"),
                ("16", "Other")
            ]
        );
        assert_eq!(rec.by_shape, 1, "only Lone is reached by shape");
        assert_eq!(
            rec.implicit.get("11").map(String::as_str),
            Some("q_obj_backup-arg")
        );
        assert_eq!(rec.unmatched, ["0", "17"]);
        assert_eq!(rec.masked(), 9);
    }

    #[test]
    fn apply_renames_everything_that_refers() {
        let (mut reply, reference) = models();
        recover_names(&mut reply, &reference);
        let opts = reply.object("Opts").expect("renamed");
        assert_eq!(
            opts.members[1].ty, "uint64",
            "integer width from the reference"
        );
        assert_eq!(opts.members[2].ty, "Mode");
        assert_eq!(opts.members[3].ty, "17", "unmatched stays masked");
        assert!(matches!(reply.get("uint64"), Some(Entity::Builtin(_))));
        let Some(Entity::Alternate(r)) = reply.get("Ref") else {
            panic!("no alternate Ref")
        };
        let branches: Vec<(&str, &str)> = r
            .variants
            .variants
            .iter()
            .map(|v| (v.name.as_str(), v.ty.as_str()))
            .collect();
        assert_eq!(branches, [("definition", "Opts"), ("reference", "str")]);
        let q = reply
            .commands()
            .find(|c| c.common.name == "query-info")
            .unwrap();
        assert_eq!(q.ret_type.as_deref(), Some("[Info]"));
        assert!(matches!(reply.get("[Info]"), Some(Entity::Array(a)) if a.element == "Info"));
        assert!(reply.get("10").is_none() && reply.get("[14]").is_none());
        let add = reply.commands().find(|c| c.common.name == "add").unwrap();
        assert_eq!(add.arg_type.as_deref(), Some("Opts"));
    }

    #[test]
    fn unrelated_types_are_not_paired() {
        // The reference's 'sync' is an enum without common values, and its
        // struct shares no member: no pairing.
        let parsed = parse_str(
            "ref.json",
            "{ 'enum': 'Mode', 'data': ['a'] }
             { 'struct': 'Opts', 'data': { 'zzz': 'str' } }
             { 'command': 'backup', 'data': { 'sync': 'Mode', 'target': 'Opts' } }",
            &ParseOptions::default(),
        )
        .unwrap();
        let reference = check(parsed, &CheckOptions::default()).unwrap();
        let reply = from_introspection_json(
            "reply.json",
            r#"[{"name": "backup", "meta-type": "command", "arg-type": "1", "ret-type": "0"},
                {"name": "0", "meta-type": "object", "members": []},
                {"name": "1", "meta-type": "object", "members": [
                   {"name": "sync", "type": "2"}, {"name": "target", "type": "3"}]},
                {"name": "2", "meta-type": "enum", "values": ["b"]},
                {"name": "3", "meta-type": "object", "members": [{"name": "id", "type": "str"}]},
                {"name": "str", "meta-type": "builtin", "json-type": "string"}]"#,
        )
        .unwrap();
        let rec = recover(&reply, &reference);
        assert!(rec.names.is_empty(), "{:?}", rec.names);
        assert_eq!(rec.unmatched, ["0", "2", "3"]);
    }

    #[test]
    fn source_models_are_left_alone() {
        let (_, reference) = models();
        let rec = recover(&reference, &reference);
        assert_eq!(rec, Recovery::default());
    }
}
