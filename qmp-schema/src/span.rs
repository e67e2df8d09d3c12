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
    /// Unions that older releases had as a plain struct without the
    /// discriminator: union name → the branch whose members that struct
    /// had, to decode those releases' replies with (see [`TagDefault`]).
    pub tag_defaults: BTreeMap<String, TagDefault>,
}

/// The branch a union decodes when its discriminator is missing, because
/// older releases had the type as a plain struct (e.g. `SevInfo` before
/// QEMU 9.1 had no `sev-type`: its members are those of branch `sev`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagDefault {
    /// The discriminator value whose branch the struct matches.
    pub value: String,
    /// The releases whose type had no discriminator.
    pub releases: Vec<Release>,
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

    /// Human text for docs, e.g. `not in QEMU 5.2.0; present from QEMU
    /// 10.0.2`, `removed after QEMU 5.2.0, by QEMU 10.0.2; present in QEMU
    /// 5.2.0`.
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
        let have = list(&self.releases);
        match (self.since(spanned), self.removed_in(spanned)) {
            (Some(s), None) if contiguous(spanned, &self.releases) => {
                format!("not in QEMU {}; present from QEMU {s}", list(&missing))
            }
            (None, Some(r)) if contiguous(spanned, &self.releases) => {
                let last = self
                    .releases
                    .last()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                format!("removed after QEMU {last}, by QEMU {r}; present in QEMU {have}")
            }
            _ => format!("present in QEMU {have}; not in QEMU {}", list(&missing)),
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
    /// For a member whose type differs between releases (other than a
    /// renamed type of the same shape): each release's type name (in that
    /// release's model), oldest first.
    pub types: Vec<(Release, String)>,
    /// Whether the newest type cannot decode an older release's values, so
    /// the member's type was made `any`.
    pub any: bool,
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
        if !self.optional_in.is_empty() && self.optional_in.len() < self.present.releases.len() {
            parts.push(format!("Optional in {}.", list(&self.optional_in)));
        }
        if !self.types.is_empty() {
            let t: Vec<String> = self
                .types
                .iter()
                .map(|(r, t)| format!("`{t}` in QEMU {r}"))
                .collect();
            parts.push(if self.any {
                format!(
                    "Its type differs between releases ({}), so it is decoded as any JSON value.",
                    t.join(", ")
                )
            } else {
                format!("Declared as {}.", t.join(", "))
            });
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
        // A type counts as present where a type of that release pairs with
        // it (by name or by structure: a renamed type is still there).
        let have: Vec<Release> = models
            .iter()
            .enumerate()
            .filter(|(ri, (_, m))| {
                pairs.contains_key(&(c.name.clone(), *ri))
                    || m.get(&c.name).is_some_and(|o| same_kind(o, e))
            })
            .map(|(_, (r, _))| *r)
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
            // Built-in types only pair with themselves: `int` and `str`
            // are different types, not one type renamed.
            if !same_kind(ea, eb) || (matches!(ea, Entity::Builtin(_)) && a != b) {
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
    // Which direction each object travels in: decoded (returns, events)
    // and/or sent (arguments).
    let decoded = reachable(
        out,
        out.entities.iter().flat_map(|e| match e {
            Entity::Command(c) => c.ret_type.clone(),
            Entity::Event(ev) => ev.arg_type.clone(),
            _ => None,
        }),
    );
    let sent = reachable(
        out,
        out.entities.iter().flat_map(|e| match e {
            Entity::Command(c) => c.arg_type.clone(),
            _ => None,
        }),
    );
    // Decisions per (declaring object, member).
    let mut decided: BTreeMap<(String, String), MemberSpan> = BTreeMap::new();
    for e in &out.entities {
        let Entity::Object(obj) = e else { continue };
        let name = &obj.common.name;
        for mem in &obj.members {
            let mut span = MemberSpan::default();
            let mut types: Vec<(Release, String)> = Vec::new();
            let mut mismatch = false;
            let mut differ = false;
            // Types only ever sent: the newest type is kept for integer
            // changes (QEMU checks the value it receives); types that are
            // decoded (or unused) must decode every release's values.
            let decode = decoded.contains(name) || !sent.contains(name);
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
                        let shape = decodes(out, &mem.ty, m, &x.ty, ri, pairs);
                        let ints = both_integers(out, &mem.ty, m, &x.ty);
                        if !shape || (ints && mem.ty != x.ty) {
                            differ = true;
                        }
                        if !shape && (decode || !ints) {
                            mismatch = true;
                        }
                    }
                }
            }
            if differ {
                span.types = types;
                span.any = mismatch;
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
    tag_defaults(out, models, pairs, facts);
    for e in &mut out.entities {
        let Entity::Object(obj) = e else { continue };
        for list in [&mut obj.local_members, &mut obj.members] {
            for mem in list.iter_mut() {
                let key = (mem.defined_in.clone(), mem.name.clone());
                let Some(d) = decided.get(&key) else { continue };
                if !tags.contains(&key) && (!d.absent_in.is_empty() || !d.optional_in.is_empty()) {
                    mem.optional = true;
                }
                if d.any {
                    mem.ty = "any".to_owned();
                }
            }
        }
    }
    facts.members = decided;
}

/// For each union whose paired type in an older release is a plain struct
/// without the discriminator: the branch all of whose required members
/// that struct has (the one matching most members).
fn tag_defaults(out: &Model, models: &[(Release, &Model)], pairs: &Pairs, facts: &mut Releases) {
    for e in &out.entities {
        let Entity::Object(u) = e else { continue };
        let Some(vs) = &u.variants else { continue };
        for (ri, (r, m)) in models.iter().enumerate() {
            let Some(olds) = pairs.get(&(u.common.name.clone(), ri)) else {
                continue;
            };
            let Some(old) = olds
                .iter()
                .filter_map(|o| m.object(o))
                .find(|o| o.variants.is_none() && !o.members.iter().any(|x| x.name == vs.tag))
            else {
                continue;
            };
            let has = |n: &str| old.members.iter().any(|x| x.name == n);
            let best = vs
                .variants
                .iter()
                .filter_map(|v| {
                    let members = out.object(&v.ty).map_or(&[][..], |b| &b.members[..]);
                    members
                        .iter()
                        .all(|x| x.optional || has(&x.name))
                        .then(|| (members.iter().filter(|x| has(&x.name)).count(), v))
                })
                .max_by_key(|(n, _)| *n);
            if let Some((n, v)) = best
                && n > 0
            {
                let d = facts
                    .tag_defaults
                    .entry(u.common.name.clone())
                    .or_insert_with(|| TagDefault {
                        value: v.name.clone(),
                        releases: Vec::new(),
                    });
                if d.value == v.name {
                    d.releases.push(*r);
                }
            }
        }
    }
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
    d.any |= s.any;
}

/// Whether both types are built-in integer types.
fn both_integers(out: &Model, new: &str, m: &Model, old: &str) -> bool {
    let int = |e: Option<&Entity>| matches!(e, Some(Entity::Builtin(b)) if b.int_range.is_some());
    int(out.get(new)) && int(m.get(old))
}

/// The object types reachable from `roots` (members, bases, branches,
/// array elements, alternate branches).
fn reachable(model: &Model, roots: impl Iterator<Item = String>) -> HashSet<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut todo: Vec<String> = roots.collect();
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(e) = model.get(&n) {
            todo.extend(references(e));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckOptions, Level, ParseOptions};

    fn model(text: &str) -> Model {
        let opts = ParseOptions::with_level(Level::LATEST);
        let head = "{ 'pragma': { 'doc-required': false } }\n";
        let parsed = crate::parse_str("t.json", &format!("{head}{text}"), &opts).unwrap();
        crate::check(parsed, &CheckOptions::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn r(s: &str) -> Release {
        s.parse().unwrap()
    }

    fn member<'a>(m: &'a Model, obj: &str, name: &str) -> &'a crate::model::Member {
        m.object(obj)
            .unwrap()
            .members
            .iter()
            .find(|x| x.name == name)
            .unwrap()
    }

    const NEW: &str = "
{ 'enum': 'Mode', 'data': [ 'fast', 'slow' ] }
{ 'struct': 'Info', 'data': { 'name': 'str', 'acpi': 'bool', 'mode': 'Mode',
  'size': 'int', 'was-opt': 'str', '*opt': 'int' } }
{ 'command': 'query-info', 'returns': 'Info' }
{ 'command': 'new-cmd', 'data': { 'x': 'int' } }
";
    const OLD: &str = "
{ 'enum': 'Mode', 'data': [ 'fast', 'medium' ] }
{ 'struct': 'Info', 'data': { 'name': 'str', 'mode': 'Mode', 'size': 'str',
  '*was-opt': 'str', '*opt': 'int' } }
{ 'struct': 'Gone', 'data': { 'g': 'int' } }
{ 'command': 'query-info', 'returns': 'Info' }
{ 'command': 'old-cmd', 'returns': 'Gone' }
";

    fn spanned() -> Model {
        span((r("10.0.2"), model(NEW)), &[(r("5.2.0"), model(OLD))])
    }

    #[test]
    fn releases_parse_and_order() {
        assert_eq!(r("9.0"), Release::new(9, 0, 0));
        assert_eq!(r("QEMU 10.0.2"), Release::new(10, 0, 2));
        assert!(r("5.2.0") < r("10.0.2"));
        assert!("10".parse::<Release>().is_err());
        assert!("a.b".parse::<Release>().is_err());
        assert_eq!(r("11.1.3").to_string(), "11.1.3");
    }

    #[test]
    fn absent_before_becomes_optional() {
        let m = spanned();
        assert!(member(&m, "Info", "acpi").optional);
        assert!(!member(&m, "Info", "name").optional);
        let f = m.spanned.as_deref().unwrap();
        let s = &f.members[&("Info".to_owned(), "acpi".to_owned())];
        assert_eq!(s.absent_in, vec![r("5.2.0")]);
        assert_eq!(s.describe(), "Absent in QEMU 5.2.0.");
        assert!(
            !f.members
                .contains_key(&("Info".to_owned(), "name".to_owned()))
        );
        // Always optional: nothing to record.
        assert!(
            !f.members
                .contains_key(&("Info".to_owned(), "opt".to_owned()))
        );
    }

    #[test]
    fn optional_before_becomes_optional() {
        let m = spanned();
        assert!(member(&m, "Info", "was-opt").optional);
        let f = m.spanned.as_deref().unwrap();
        let s = &f.members[&("Info".to_owned(), "was-opt".to_owned())];
        assert_eq!(s.optional_in, vec![r("5.2.0")]);
        assert!(s.absent_in.is_empty());
    }

    #[test]
    fn type_change_becomes_any() {
        let m = spanned();
        let size = member(&m, "Info", "size");
        assert_eq!(size.ty, "any");
        assert!(!size.optional);
        let f = m.spanned.as_deref().unwrap();
        let s = &f.members[&("Info".to_owned(), "size".to_owned())];
        assert_eq!(
            s.types,
            vec![
                (r("5.2.0"), "str".to_owned()),
                (r("10.0.2"), "int".to_owned())
            ]
        );
        // A changed enum stays: enums decode values they do not know.
        assert_eq!(member(&m, "Info", "mode").ty, "Mode");
    }

    #[test]
    fn integer_ranges_decide_compatibility() {
        let new = "{ 'struct': 'Sizes', 'data': { 'a': 'int', 'b': 'uint8', 'c': 'number' } }
                   { 'command': 'q', 'returns': 'Sizes' }
                   { 'command': 'set', 'data': { 'b': 'uint8' } }";
        let old = "{ 'struct': 'Sizes', 'data': { 'a': 'int32', 'b': 'int', 'c': 'int' } }
                   { 'command': 'q', 'returns': 'Sizes' }
                   { 'command': 'set', 'data': { 'b': 'int' } }";
        let m = span((r("10.0.0"), model(new)), &[(r("9.0.0"), model(old))]);
        // Decoded: the newest type must cover the older range.
        assert_eq!(member(&m, "Sizes", "a").ty, "int");
        assert_eq!(member(&m, "Sizes", "b").ty, "any");
        assert_eq!(member(&m, "Sizes", "c").ty, "number");
        // Sent only: the newest (narrower) integer type stays, documented.
        assert_eq!(member(&m, "q_obj_set-arg", "b").ty, "uint8");
        let f = m.spanned.as_deref().unwrap();
        let b = &f.members[&("q_obj_set-arg".to_owned(), "b".to_owned())];
        assert!(!b.any);
        assert_eq!(
            b.describe(),
            "Declared as `int` in QEMU 9.0.0, `uint8` in QEMU 10.0.0."
        );
        let a = &f.members[&("Sizes".to_owned(), "a".to_owned())];
        assert!(!a.any);
        assert!(f.members[&("Sizes".to_owned(), "b".to_owned())].any);
    }

    #[test]
    fn enum_values_are_the_union() {
        let m = spanned();
        let e = m.enum_type("Mode").unwrap();
        let names: Vec<&str> = e.members.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["fast", "slow", "medium"]);
        let f = m.spanned.as_deref().unwrap();
        let slow = &f.values[&("Mode".to_owned(), "slow".to_owned())];
        assert_eq!(slow.since(&f.spanned), Some(r("10.0.2")));
        let medium = &f.values[&("Mode".to_owned(), "medium".to_owned())];
        assert_eq!(medium.removed_in(&f.spanned), Some(r("10.0.2")));
        assert_eq!(
            medium.describe(&f.spanned),
            "removed after QEMU 5.2.0, by QEMU 10.0.2; present in QEMU 5.2.0"
        );
        assert!(
            !f.values
                .contains_key(&("Mode".to_owned(), "fast".to_owned()))
        );
    }

    #[test]
    fn removed_commands_come_back_with_their_types() {
        let m = spanned();
        assert!(matches!(m.get("old-cmd"), Some(Entity::Command(_))));
        assert_eq!(m.object("Gone").unwrap().members[0].name, "g");
        let f = m.spanned.as_deref().unwrap();
        assert_eq!(
            f.entities["old-cmd"].removed_in(&f.spanned),
            Some(r("10.0.2"))
        );
        assert_eq!(f.entities["new-cmd"].since(&f.spanned), Some(r("10.0.2")));
        assert_eq!(
            f.entities["new-cmd"].describe(&f.spanned),
            "not in QEMU 5.2.0; present from QEMU 10.0.2"
        );
        assert!(!f.entities.contains_key("query-info"));
    }

    #[test]
    fn types_pair_by_structure_not_only_by_name() {
        // The return type was renamed: still compared member by member.
        let new = "{ 'struct': 'NewInfo', 'data': { 'a': 'int', 'b': 'int' } }
                   { 'command': 'q', 'returns': 'NewInfo' }";
        let old = "{ 'struct': 'OldInfo', 'data': { 'a': 'int' } }
                   { 'command': 'q', 'returns': 'OldInfo' }";
        let m = span((r("10.0.0"), model(new)), &[(r("9.0.0"), model(old))]);
        assert!(!member(&m, "NewInfo", "a").optional);
        assert!(member(&m, "NewInfo", "b").optional);
        assert!(m.get("OldInfo").is_none());
        // Renamed, not new: no presence facts.
        let f = m.spanned.as_deref().unwrap();
        assert!(!f.entities.contains_key("NewInfo"), "{:?}", f.entities);
    }

    #[test]
    fn arguments_required_only_when_every_release_requires_them() {
        let new = "{ 'command': 'c', 'data': { 'a': 'int', 'b': 'int', '*d': 'int' } }";
        let old = "{ 'command': 'c', 'data': { 'a': 'int', 'd': 'int' } }";
        let m = span((r("10.0.0"), model(new)), &[(r("9.0.0"), model(old))]);
        let args = m.object("q_obj_c-arg").unwrap();
        let opt: Vec<(&str, bool)> = args
            .members
            .iter()
            .map(|x| (x.name.as_str(), x.optional))
            .collect();
        assert_eq!(opt, [("a", false), ("b", true), ("d", true)]);
        let f = m.spanned.as_deref().unwrap();
        // `d` was required by 9.0: the facts say so.
        let d = &f.members[&("q_obj_c-arg".to_owned(), "d".to_owned())];
        assert_eq!(d.optional_in, vec![r("10.0.0")]);
    }

    #[test]
    fn inherited_members_change_with_their_base() {
        let new = "{ 'struct': 'Base', 'data': { 'x': 'int' } }
                   { 'struct': 'Derived', 'base': 'Base', 'data': { 'y': 'int' } }
                   { 'command': 'q', 'returns': 'Derived' }";
        let old = "{ 'struct': 'Derived', 'data': { 'y': 'int' } }
                   { 'command': 'q', 'returns': 'Derived' }";
        let m = span((r("10.0.0"), model(new)), &[(r("9.0.0"), model(old))]);
        assert!(member(&m, "Derived", "x").optional);
        assert!(member(&m, "Base", "x").optional);
        assert!(m.object("Base").unwrap().local_members[0].optional);
    }

    #[test]
    fn nothing_older_leaves_the_model_alone() {
        let m = span((r("10.0.0"), model(NEW)), &[]);
        assert!(m.spanned.is_none());
        assert!(!member(&m, "Info", "acpi").optional);
        // A release not older than the newest is ignored.
        let m = span((r("10.0.0"), model(NEW)), &[(r("10.0.0"), model(OLD))]);
        assert!(m.spanned.is_none());
    }

    #[test]
    fn a_union_discriminator_stays_required() {
        let new = "{ 'enum': 'Kind', 'data': [ 'a' ] }
                   { 'union': 'Un', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
                     'data': { 'a': 'Info' } }
                   { 'struct': 'Info', 'data': { 'i': 'int' } }
                   { 'command': 'q', 'returns': 'Un' }";
        let old = "{ 'struct': 'Un', 'data': { 'i': 'int' } }
                   { 'command': 'q', 'returns': 'Un' }";
        let m = span((r("10.0.0"), model(new)), &[(r("9.0.0"), model(old))]);
        assert!(!member(&m, "Un", "kind").optional);
        let f = m.spanned.as_deref().unwrap();
        assert_eq!(
            f.kept_required,
            vec![("q_obj_Un-base".to_owned(), "kind".to_owned())]
        );
        // 9.0's struct had the members of branch `a`: it decodes as `a`.
        assert_eq!(
            f.tag_defaults["Un"],
            TagDefault {
                value: "a".to_owned(),
                releases: vec![r("9.0.0")]
            }
        );
    }
}
