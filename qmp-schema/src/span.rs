//! Version-spanning models: one [`Model`] whose bindings decode the replies
//! of every QEMU release in a range.
//!
//! [`span`] takes the newest release's model and reconciles it with the
//! models of older releases:
//!
//! * **members** of object types are compared release by release, through
//!   types paired by structure (same definition name, or reached by the
//!   same path: a command's arguments and return, a member of a paired
//!   object, a branch of a paired union or alternate, the element of a
//!   paired array). A member that is absent or optional in any spanned
//!   release becomes optional. The rule is the same for both directions,
//!   with a different meaning:
//!   - *decoding* (returns, events): an optional member may be missing
//!     from a reply, so every release's replies decode;
//!   - *sending* (arguments): a member is required in the bindings only if
//!     every spanned release requires it. A member that a release requires
//!     but another lacks (or makes optional) is optional in the bindings,
//!     and its [`MemberSpan`] says which releases need it: leaving it out
//!     is then only valid for those that do not. The runtime capability
//!     check, not the type, is what refuses such a call.
//!
//!   A member whose type differs in a way the newest type cannot decode
//!   (another JSON type, an integer range the newest type does not cover)
//!   becomes `any`, and its [`MemberSpan::types`] records the type of each
//!   release. Types that only differ in name but not in JSON shape (an enum
//!   renamed, a string that became an enum) keep the newest type: enums
//!   decode values they do not know.
//!   A union's discriminator is never made optional (the union could not be
//!   decoded without it); that case is reported in [`Releases::kept_required`].
//!   Members that only older releases have are not added (replies that
//!   carry them still decode: unknown members are ignored).
//! * **enum values** are the union over the releases, in the newest order
//!   followed by values only older releases had; a union over such an enum
//!   gets the older branch too.
//! * **commands and events** are the union: ones that only older releases
//!   have are added with every type they need (from the newest release
//!   that has them).
//!
//! [`Model::spanned`] holds what differs: for every definition, member and
//! enum value that is not in every spanned release, the releases that have
//! it (hence its `since` and `removed_in` within the span).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use crate::model::{Entity, EnumMember, Model, Variant};

/// A QEMU release, `major.minor.micro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// Major version, e.g. `10`.
    pub major: u16,
    /// Minor version, e.g. `0`.
    pub minor: u16,
    /// Micro version, e.g. `2`.
    pub micro: u16,
}

impl Release {
    /// A release from its parts.
    pub const fn new(major: u16, minor: u16, micro: u16) -> Self {
        Self {
            major,
            minor,
            micro,
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// A release string that is not `X.Y` or `X.Y.Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid QEMU release `{0}`: expected X.Y or X.Y.Z")]
pub struct ReleaseParseError(pub String);

impl FromStr for Release {
    type Err = ReleaseParseError;

    /// Parses `10.0.2` or `9.0` (micro 0). A `QEMU ` prefix is accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ReleaseParseError(s.to_owned());
        let t = s.trim();
        let t = t.strip_prefix("QEMU ").unwrap_or(t).trim();
        let parts: Vec<&str> = t.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(err());
        }
        let num = |p: &str| p.parse::<u16>().map_err(|_| err());
        Ok(Self {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            micro: parts.get(2).map_or(Ok(0), |p| num(p))?,
        })
    }
}

/// What a spanned model records about its releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Releases {
    /// The spanned releases, oldest first; the last one is the newest.
    pub spanned: Vec<Release>,
    /// Definitions (commands, events, types) that not every spanned release
    /// has, by name.
    pub entities: BTreeMap<String, Presence>,
    /// Object members that not every release has, or has as optional or of
    /// another type: (object that declares it, member name) → facts.
    pub members: BTreeMap<(String, String), MemberSpan>,
    /// Enum values that not every release has: (enum, value) → releases.
    pub values: BTreeMap<(String, String), Presence>,
    /// Members that would have to become optional but are a union's
    /// discriminator: (object, member).
    pub kept_required: Vec<(String, String)>,
}

/// The spanned releases that have a definition, member or value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    /// The releases that have it, oldest first.
    pub releases: Vec<Release>,
}

impl Presence {
    /// The first spanned release that has it, when an older spanned release
    /// does not.
    pub fn since(&self, spanned: &[Release]) -> Option<Release> {
        let first = *self.releases.first()?;
        (spanned.first() != Some(&first)).then_some(first)
    }

    /// The first spanned release that no longer has it, after the last one
    /// that does (if it is not in the newest).
    pub fn removed_in(&self, spanned: &[Release]) -> Option<Release> {
        let last = *self.releases.last()?;
        spanned.iter().copied().find(|r| *r > last)
    }

    /// Human text: "in QEMU 5.2.0 and 10.0.2 (not 11.1.3)"-style summary
    /// as "since", "removed in" or an explicit list.
    pub fn describe(&self, spanned: &[Release]) -> String {
        let list = |rs: &[Release]| {
            rs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let missing: Vec<Release> = spanned
            .iter()
            .copied()
            .filter(|r| !self.releases.contains(r))
            .collect();
        match (self.since(spanned), self.removed_in(spanned)) {
            (Some(s), None) if contiguous(spanned, &self.releases) => {
                format!("absent before QEMU {s} (of the releases spanned)")
            }
            (None, Some(r)) if contiguous(spanned, &self.releases) => {
                format!("removed in QEMU {r}")
            }
            _ => format!(
                "present in QEMU {}; absent in {}",
                list(&self.releases),
                list(&missing)
            ),
        }
    }
}

/// Whether `have` is a contiguous run of `all`.
fn contiguous(all: &[Release], have: &[Release]) -> bool {
    let idx: Vec<usize> = have
        .iter()
        .filter_map(|r| all.iter().position(|a| a == r))
        .collect();
    idx.windows(2).all(|w| w[1] == w[0] + 1)
}

/// How a member differs across the spanned releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberSpan {
    /// The releases whose containing type has the member (of those that
    /// have the type at all).
    pub present: Presence,
    /// The releases that have the member but optional.
    pub optional_in: Vec<Release>,
    /// The releases that have the containing type but not the member.
    pub absent_in: Vec<Release>,
    /// For a member whose type could not be reconciled: each release's type
    /// name (in that release's model), oldest first. The member's type is
    /// then `any`.
    pub types: Vec<(Release, String)>,
}

impl MemberSpan {
    /// Doc text for the member: absent / optional / type per release.
    pub fn describe(&self) -> String {
        let list = |rs: &[Release]| {
            rs.iter()
                .map(|r| format!("QEMU {r}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.absent_in.is_empty() {
            parts.push(format!("Absent in {}.", list(&self.absent_in)));
        }
        if !self.optional_in.is_empty() {
            parts.push(format!("Optional in {}.", list(&self.optional_in)));
        }
        if !self.types.is_empty() {
            let t: Vec<String> = self
                .types
                .iter()
                .map(|(r, t)| format!("`{t}` in QEMU {r}"))
                .collect();
            parts.push(format!(
                "Its type differs between releases ({}), so it is decoded as any JSON value.",
                t.join(", ")
            ));
        }
        parts.join(" ")
    }
}

/// Reconciles the newest release's model with older releases' models (see
/// the [module docs](self)). `older` may be in any order; releases not older
/// than `newest.0` are an error in the caller's table and are ignored.
pub fn span(newest: (Release, Model), older: &[(Release, Model)]) -> Model {
    let (newest_release, mut out) = newest;
    let mut olds: Vec<&(Release, Model)> =
        older.iter().filter(|(r, _)| *r < newest_release).collect();
    olds.sort_by_key(|(r, _)| *r);
    olds.dedup_by_key(|(r, _)| *r);
    if olds.is_empty() {
        return out;
    }
    let original = out.clone();
    // Every release's model, oldest first; the last is the newest.
    let mut models: Vec<(Release, &Model)> = olds.iter().map(|(r, m)| (*r, m)).collect();
    models.push((newest_release, &original));
    let spanned: Vec<Release> = models.iter().map(|(r, _)| *r).collect();
    let newest_ix = models.len() - 1;

    // 1. Commands and events only older releases have, newest first.
    for ri in (0..newest_ix).rev() {
        let m = models[ri].1;
        for e in &m.entities {
            if matches!(e, Entity::Command(_) | Entity::Event(_))
                && let Some(name) = e.name()
                && out.get(name).is_none()
            {
                import(&mut out, m, name);
            }
        }
    }

    // 2. Pair the output's types with each release's types.
    let pairs = pair_types(&out, &models);

    // 3. Enum values and union branches: the union.
    let mut facts = Releases {
        spanned: spanned.clone(),
        ..Releases::default()
    };
    union_enums(&mut out, &models, &pairs, &mut facts);

    // 4. Members.
    reconcile_members(&mut out, &models, &pairs, &mut facts);

    // 5. Presence of definitions.
    for e in &out.entities {
        let Some(c) = e.common() else { continue };
        if matches!(e, Entity::Builtin(_)) {
            continue;
        }
        let have: Vec<Release> = models
            .iter()
            .filter(|(_, m)| m.get(&c.name).is_some_and(|o| same_kind(o, e)))
            .map(|(r, _)| *r)
            .collect();
        if have.len() != spanned.len() {
            facts
                .entities
                .insert(c.name.clone(), Presence { releases: have });
        }
    }
    out.spanned = Some(Box::new(facts));
    out
}

fn same_kind(a: &Entity, b: &Entity) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Copies definition `name` from `from` into `out` with every type it
/// needs that `out` lacks (by name).
fn import(out: &mut Model, from: &Model, name: &str) {
    let mut todo = vec![name.to_owned()];
    while let Some(n) = todo.pop() {
        if out.get(&n).is_some() {
            continue;
        }
        let Some(e) = from.get(&n) else { continue };
        let Some(c) = e.common() else { continue };
        let module_name = &from.module(c.module).name;
        let module = match out.modules.iter().position(|m| &m.name == module_name) {
            Some(i) => crate::model::ModuleId(i as u32),
            None => out.add_module(module_name.clone()),
        };
        let mut e = e.clone();
        let refs = references(&e);
        set_module(&mut e, module);
        out.push(e);
        todo.extend(refs);
    }
}

fn set_module(e: &mut Entity, module: crate::model::ModuleId) {
    let c = match e {
        Entity::Include(_) => return,
        Entity::Builtin(b) => &mut b.common,
        Entity::Enum(x) => &mut x.common,
        Entity::Array(x) => &mut x.common,
        Entity::Object(x) => &mut x.common,
        Entity::Alternate(x) => &mut x.common,
        Entity::Command(x) => &mut x.common,
        Entity::Event(x) => &mut x.common,
    };
    c.module = module;
}

/// The type names a definition refers to.
fn references(e: &Entity) -> Vec<String> {
    let mut v = Vec::new();
    match e {
        Entity::Array(a) => v.push(a.element.clone()),
        Entity::Object(o) => {
            v.extend(o.base.clone());
            v.extend(o.members.iter().map(|m| m.ty.clone()));
            if let Some(vs) = &o.variants {
                v.extend(vs.variants.iter().map(|x| x.ty.clone()));
            }
        }
        Entity::Alternate(a) => v.extend(a.variants.variants.iter().map(|x| x.ty.clone())),
        Entity::Command(c) => {
            v.extend(c.arg_type.clone());
            v.extend(c.ret_type.clone());
        }
        Entity::Event(ev) => v.extend(ev.arg_type.clone()),
        _ => {}
    }
    v
}

/// (output type name, release index) → that release's paired type names.
type Pairs = HashMap<(String, usize), Vec<String>>;

/// Pairs every output type with the types of each release that play the
/// same role: same name and kind, or reached by the same path from paired
/// definitions.
fn pair_types(out: &Model, models: &[(Release, &Model)]) -> Pairs {
    let mut pairs: Pairs = HashMap::new();
    for (ri, (_, m)) in models.iter().enumerate() {
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut queue: VecDeque<(String, String)> = VecDeque::new();
        for e in &out.entities {
            if let Some(n) = e.name()
                && m.get(n).is_some_and(|o| same_kind(o, e))
            {
                queue.push_back((n.to_owned(), n.to_owned()));
            }
        }
        while let Some((a, b)) = queue.pop_front() {
            if !seen.insert((a.clone(), b.clone())) {
                continue;
            }
            let (Some(ea), Some(eb)) = (out.get(&a), m.get(&b)) else {
                continue;
            };
            if !same_kind(ea, eb) {
                continue;
            }
            pairs.entry((a.clone(), ri)).or_default().push(b.clone());
            let mut next = |x: &Option<String>, y: &Option<String>| {
                if let (Some(x), Some(y)) = (x, y) {
                    queue.push_back((x.clone(), y.clone()));
                }
            };
            match (ea, eb) {
                (Entity::Object(x), Entity::Object(y)) => {
                    next(&x.base, &y.base);
                    for mx in &x.members {
                        if let Some(my) = y.members.iter().find(|my| my.name == mx.name) {
                            queue.push_back((mx.ty.clone(), my.ty.clone()));
                        }
                    }
                    if let (Some(vx), Some(vy)) = (&x.variants, &y.variants) {
                        for bx in &vx.variants {
                            if let Some(by) = vy.variants.iter().find(|by| by.name == bx.name) {
                                queue.push_back((bx.ty.clone(), by.ty.clone()));
                            }
                        }
                    }
                }
                (Entity::Alternate(x), Entity::Alternate(y)) => {
                    for bx in &x.variants.variants {
                        if let Some(by) = y.variants.variants.iter().find(|by| by.name == bx.name) {
                            queue.push_back((bx.ty.clone(), by.ty.clone()));
                        }
                    }
                }
                (Entity::Array(x), Entity::Array(y)) => {
                    queue.push_back((x.element.clone(), y.element.clone()));
                }
                (Entity::Command(x), Entity::Command(y)) => {
                    next(&x.arg_type, &y.arg_type);
                    next(&x.ret_type, &y.ret_type);
                }
                (Entity::Event(x), Entity::Event(y)) => next(&x.arg_type, &y.arg_type),
                _ => {}
            }
        }
    }
    pairs
}

/// Whether a value of release `ri`'s type `old` decodes as the output's
/// type `new`.
fn decodes(out: &Model, new: &str, m: &Model, old: &str, ri: usize, pairs: &Pairs) -> bool {
    if new == "any" {
        return true;
    }
    if pairs
        .get(&(new.to_owned(), ri))
        .is_some_and(|v| v.iter().any(|o| o == old))
    {
        return true;
    }
    let (Some(n), Some(o)) = (out.get(new), m.get(old)) else {
        return false;
    };
    match (n, o) {
        (Entity::Builtin(a), Entity::Builtin(b)) => {
            use crate::model::JsonType as J;
            match (a.json_type, b.json_type) {
                (J::Number, J::Int | J::Number) => true,
                (J::Int, J::Int) => match (a.int_range, b.int_range) {
                    (Some((alo, ahi)), Some((blo, bhi))) => alo <= blo && bhi <= ahi,
                    _ => true,
                },
                (x, y) => x == y,
            }
        }
        (Entity::Enum(_), Entity::Enum(_)) => true,
        (Entity::Enum(_), Entity::Builtin(b)) | (Entity::Builtin(b), Entity::Enum(_)) => {
            b.json_type == crate::model::JsonType::String
        }
        (Entity::Array(a), Entity::Array(b)) => decodes(out, &a.element, m, &b.element, ri, pairs),
        (Entity::Alternate(a), _) => a
            .variants
            .variants
            .iter()
            .any(|v| decodes(out, &v.ty, m, old, ri, pairs)),
        _ => false,
    }
}

fn union_enums(out: &mut Model, models: &[(Release, &Model)], pairs: &Pairs, facts: &mut Releases) {
    let newest_ix = models.len() - 1;
    let names: Vec<String> = out
        .entities
        .iter()
        .filter(|e| matches!(e, Entity::Enum(_)))
        .filter_map(|e| e.name().map(str::to_owned))
        .collect();
    for name in names {
        // Per release that has the enum: its values.
        let mut per: Vec<(usize, Vec<EnumMember>)> = Vec::new();
        for (ri, (_, m)) in models.iter().enumerate() {
            let Some(olds) = pairs.get(&(name.clone(), ri)) else {
                continue;
            };
            let mut vals: Vec<EnumMember> = Vec::new();
            for o in olds {
                if let Some(e) = m.enum_type(o) {
                    for v in &e.members {
                        if !vals.iter().any(|x| x.name == v.name) {
                            vals.push(v.clone());
                        }
                    }
                }
            }
            per.push((ri, vals));
        }
        // Add values only older releases have (newest first).
        let mut added = Vec::new();
        for (ri, vals) in per.iter().rev() {
            if *ri == newest_ix {
                continue;
            }
            for v in vals {
                let Some(Entity::Enum(e)) =
                    out.index.get(&name).map(|id| &out.entities[id.0 as usize])
                else {
                    continue;
                };
                if !e.members.iter().any(|x| x.name == v.name) {
                    added.push((*ri, v.name.clone()));
                    let id = out.index[&name];
                    if let Entity::Enum(e) = &mut out.entities[id.0 as usize] {
                        e.members.push(v.clone());
                    }
                }
            }
        }
        let Some(e) = out.enum_type(&name) else {
            continue;
        };
        for v in &e.members {
            let have: Vec<Release> = per
                .iter()
                .filter(|(_, vals)| vals.iter().any(|x| x.name == v.name))
                .map(|(ri, _)| models[*ri].0)
                .collect();
            if have.len() != per.len() {
                facts
                    .values
                    .insert((name.clone(), v.name.clone()), Presence { releases: have });
            }
        }
        // Unions over this enum get the older releases' branches.
        for (ri, value) in added {
            let m = models[ri].1;
            let union_names: Vec<String> = out
                .entities
                .iter()
                .filter_map(|e| match e {
                    Entity::Object(o)
                        if o.variants.is_some()
                            && o.members.iter().any(|mm| {
                                o.variants.as_ref().is_some_and(|v| v.tag == mm.name)
                                    && mm.ty == name
                            }) =>
                    {
                        Some(o.common.name.clone())
                    }
                    _ => None,
                })
                .collect();
            for u in union_names {
                let Some(olds) = pairs.get(&(u.clone(), ri)) else {
                    continue;
                };
                let branch = olds.iter().find_map(|o| {
                    m.object(o)?
                        .variants
                        .as_ref()?
                        .variants
                        .iter()
                        .find(|v| v.name == value)
                        .cloned()
                });
                let Some(branch) = branch else { continue };
                import(out, m, &branch.ty);
                let id = out.index[&u];
                if let Entity::Object(o) = &mut out.entities[id.0 as usize]
                    && let Some(vs) = &mut o.variants
                    && !vs.variants.iter().any(|v| v.name == value)
                {
                    vs.variants.push(Variant {
                        span: None,
                        ..branch
                    });
                }
            }
        }
    }
}

fn reconcile_members(
    out: &mut Model,
    models: &[(Release, &Model)],
    pairs: &Pairs,
    facts: &mut Releases,
) {
    // Decisions per (declaring object, member).
    let mut decided: BTreeMap<(String, String), MemberSpan> = BTreeMap::new();
    for e in &out.entities {
        let Entity::Object(obj) = e else { continue };
        let name = &obj.common.name;
        for mem in &obj.members {
            let mut span = MemberSpan::default();
            let mut types: Vec<(Release, String)> = Vec::new();
            let mut mismatch = false;
            for (ri, (r, m)) in models.iter().enumerate() {
                let Some(olds) = pairs.get(&(name.clone(), ri)) else {
                    continue;
                };
                let found = olds
                    .iter()
                    .filter_map(|o| m.object(o))
                    .find_map(|o| o.members.iter().find(|x| x.name == mem.name));
                match found {
                    None => span.absent_in.push(*r),
                    Some(x) => {
                        span.present.releases.push(*r);
                        if x.optional {
                            span.optional_in.push(*r);
                        }
                        types.push((*r, x.ty.clone()));
                        if !decodes(out, &mem.ty, m, &x.ty, ri, pairs) {
                            mismatch = true;
                        }
                    }
                }
            }
            if mismatch {
                span.types = types;
            }
            // Optional in every release that has it and absent nowhere:
            // nothing to record.
            let all_optional = span.optional_in.len() == span.present.releases.len();
            let differs = !span.absent_in.is_empty()
                || !span.types.is_empty()
                || (!span.optional_in.is_empty() && !all_optional)
                || (!span.optional_in.is_empty() && !mem.optional);
            if !differs {
                continue;
            }
            let key = (mem.defined_in.clone(), mem.name.clone());
            let d = decided.entry(key).or_default();
            merge(d, span);
        }
    }
    // Apply.
    let tags: HashSet<(String, String)> = out
        .entities
        .iter()
        .filter_map(|e| match e {
            Entity::Object(o) => o.variants.as_ref().map(|v| {
                let def = o
                    .members
                    .iter()
                    .find(|m| m.name == v.tag)
                    .map_or_else(|| o.common.name.clone(), |m| m.defined_in.clone());
                (def, v.tag.clone())
            }),
            _ => None,
        })
        .collect();
    for (key, d) in &decided {
        if tags.contains(key) && (!d.absent_in.is_empty() || !d.optional_in.is_empty()) {
            facts.kept_required.push(key.clone());
        }
    }
    for e in &mut out.entities {
        let Entity::Object(obj) = e else { continue };
        for list in [&mut obj.local_members, &mut obj.members] {
            for mem in list.iter_mut() {
                let key = (mem.defined_in.clone(), mem.name.clone());
                let Some(d) = decided.get(&key) else { continue };
                if !tags.contains(&key) && (!d.absent_in.is_empty() || !d.optional_in.is_empty()) {
                    mem.optional = true;
                }
                if !d.types.is_empty() {
                    mem.ty = "any".to_owned();
                }
            }
        }
    }
    facts.members = decided;
}

fn merge(d: &mut MemberSpan, s: MemberSpan) {
    fn add(v: &mut Vec<Release>, rs: &[Release]) {
        for r in rs {
            if !v.contains(r) {
                v.push(*r);
            }
        }
        v.sort();
    }
    add(&mut d.present.releases, &s.present.releases);
    add(&mut d.optional_in, &s.optional_in);
    add(&mut d.absent_in, &s.absent_in);
    // A release that has it somewhere is not "absent" for the declaring
    // type as a whole only if every user agrees; keep what was seen.
    for t in s.types {
        if !d.types.contains(&t) {
            d.types.push(t);
        }
    }
    d.types.sort();
}
