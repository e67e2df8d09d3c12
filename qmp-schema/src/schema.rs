//! Schema-level checks and the resolved [`Model`] (the behaviour of QEMU's
//! `schema.py` and the doc-comment connection of its `parser.py`).
//!
//! The pass works in QEMU's order: all expressions are checked on their own
//! first ([`crate::expr`]); then every definition becomes one or more
//! entities (implicit types are defined before the definition that needs
//! them: member array types `<T>List`, argument objects `q_obj_<cmd>-arg`,
//! union bases `q_obj_<Union>-base`, and for legacy simple unions the
//! wrappers `q_obj_<T>-wrapper` and the kind enum `<Union>Kind`); then each
//! entity is checked in definition order and its doc comment connected;
//! finally, doc comments are checked for documented members that do not
//! exist.

use std::collections::HashMap;

use crate::ast::{Doc, DocSection, DocSectionKind, Item};
use crate::diag::{Diagnostic, DiagnosticKind};
use crate::expr::{
    Body, CName, Data, Def, ExprChecker, NFeature, NMember, Reporter, Rules, TypeRef, c_name,
};
use crate::model::{
    Alternate, Array, Builtin, Command, Common, DocBlock, Entity, EntityId, Enum, EnumMember,
    Event, Feature, IfCond, Include, JsonType, Member, Model, ModuleId, Object, Origin, Pragma,
    Variant, Variants,
};
use crate::source::{FileId, SourceMap, Span};

type R<T> = Result<T, Box<Diagnostic>>;

/// A fast hasher for the checker's name tables (FxHash-style), seeded per
/// table from the standard library's random state so that hostile schemas
/// cannot aim at collisions in advance.
#[derive(Clone, Copy)]
struct NameHasher(u64);

const NAME_HASH_K: u64 = 0x517c_c1b7_2722_0a95;

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(NAME_HASH_K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(NAME_HASH_K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(NAME_HASH_K);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`NameHasher`]s with a random seed.
#[derive(Clone, Copy)]
struct NameHash(u64);

impl Default for NameHash {
    fn default() -> Self {
        use std::hash::BuildHasher;
        Self(std::collections::hash_map::RandomState::new().hash_one(0x51u8))
    }
}

impl std::hash::BuildHasher for NameHash {
    type Hasher = NameHasher;
    fn build_hasher(&self) -> NameHasher {
        NameHasher(self.0)
    }
}

type NameMap<V> = HashMap<String, V, NameHash>;
type NameSet<'a> = std::collections::HashSet<CName<'a>, NameHash>;

/// A built-in type: name, JSON type, integer range.
type Predefined = (&'static str, JsonType, Option<(i128, i128)>);

/// Where an entity was defined, for error messages.
#[derive(Debug, Clone)]
struct Info {
    span: Span,
    meta: &'static str,
    /// Shared: every entity made for a definition carries its info.
    name: std::rc::Rc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unchecked,
    InProgress,
    Complete,
}

struct Ent {
    e: Entity,
    info: Option<Info>,
    state: State,
    /// For includes: the included module's name.
    include: Option<String>,
    /// Index of the definition's doc block in `Builder::docs`.
    doc: Option<usize>,
}

/// A member seen while checking for clashes.
#[derive(Debug, Clone)]
struct Seen {
    role: &'static str,
    name: String,
    defined_in: String,
}

/// Name → member, keyed by C name, in insertion order.
#[derive(Debug, Clone, Default)]
struct SeenMap {
    order: Vec<String>,
    map: HashMap<String, Seen>,
}

impl SeenMap {
    fn get(&self, key: &str) -> Option<&Seen> {
        self.map.get(key)
    }
    fn insert(&mut self, key: String, v: Seen) {
        if self.map.insert(key.clone(), v).is_none() {
            self.order.push(key);
        }
    }
}

/// A member or feature to connect to a doc block.
enum Conn<'a> {
    Member(&'static str, &'a str, Option<Span>),
    Feature(&'a Feature),
}

/// Per doc block: which documented members/features got connected.
#[derive(Debug, Clone, Default)]
struct DocState {
    /// Member sections (index into the doc's sections) and whether they
    /// were connected.
    args: Vec<(usize, bool)>,
    /// Feature sections, likewise.
    features: Vec<(usize, bool)>,
    /// Undocumented members accepted by a pragma exception; QEMU adds empty
    /// member sections for them, which [`Builder::finish_docs`] does.
    extra: Vec<String>,
}

pub(crate) struct Builder<'a> {
    rep: Reporter<'a>,
    rules: Rules,
    pragma: &'a Pragma,
    ents: Vec<Ent>,
    index: NameMap<usize>,
    docs: Vec<Doc>,
    doc_state: Vec<DocState>,
    feature_names: Vec<(String, Option<Span>)>,
    main_dir: String,
}

fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Lexical normalisation of a path (like Python's `os.path.normpath`).
fn normpath(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else {
                    out.push("..".into());
                }
            }
            c => out.push(c.into()),
        }
    }
    out
}

/// `os.path.relpath(path, start)`, lexically.
fn relpath(path: &str, start: &str) -> String {
    let p = normpath(path);
    let s = normpath(start);
    let common = p.iter().zip(&s).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".into(); s.len() - common];
    out.extend(p[common..].iter().cloned());
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() || file.starts_with('/') {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

fn describe_member(
    legacy: bool,
    role: &str,
    name: &str,
    defined_in: &str,
    info_name: &str,
) -> String {
    let mut role = role.to_owned();
    let mut meta = "type";
    let mut din = defined_in;
    if let Some(rest) = din.strip_prefix("q_obj_") {
        if let Some(r) = rest.strip_suffix("-arg") {
            role = "parameter".into();
            meta = "command";
            din = r;
        } else if let Some(r) = rest.strip_suffix("-base") {
            role = format!("base {role}");
            din = r;
        } else if let Some(r) = rest.strip_suffix("-wrapper") {
            din = r;
        }
    } else if legacy
        && role == "value"
        && let Some(r) = din.strip_suffix("Kind")
    {
        // The implicit enum of a simple union's branches.
        role = "branch".into();
        din = r;
    }
    if din != info_name {
        format!("{role} '{name}' of {meta} '{din}'")
    } else {
        format!("{role} '{name}'")
    }
}

fn features_of(fs: &[NFeature]) -> Vec<Feature> {
    fs.iter()
        .map(|f| Feature {
            name: f.name.clone(),
            span: Some(f.span),
            cond: f.cond.clone(),
        })
        .collect()
}

impl<'a> Builder<'a> {
    pub(crate) fn new(sources: &'a SourceMap, pragma: &'a Pragma, rules: Rules) -> Self {
        let main_dir = sources
            .files()
            .next()
            .map(|(_, f)| dirname(&f.name).to_owned())
            .unwrap_or_default();
        Self {
            rep: Reporter { sources },
            rules,
            pragma,
            ents: Vec::new(),
            index: NameMap::default(),
            docs: Vec::new(),
            doc_state: Vec::new(),
            feature_names: vec![("deprecated".into(), None), ("unstable".into(), None)],
            main_dir,
        }
    }

    fn err(
        &self,
        info: Option<&Info>,
        precise: Option<Span>,
        msg: impl Into<String>,
    ) -> Box<Diagnostic> {
        self.err_kind(DiagnosticKind::Semantic, info, precise, msg)
    }

    fn err_kind(
        &self,
        kind: DiagnosticKind,
        info: Option<&Info>,
        precise: Option<Span>,
        msg: impl Into<String>,
    ) -> Box<Diagnostic> {
        match info {
            Some(info) => Box::new(self.rep.diag(
                kind,
                info.span,
                precise.unwrap_or(info.span),
                Some((info.meta, &info.name)),
                msg,
            )),
            None => Box::new(Diagnostic::file(kind, msg, "<builtin>")),
        }
    }

    fn module_name_of_file(&self, file: FileId) -> String {
        relpath(&self.rep.sources.get(file).name, &self.main_dir)
    }

    fn common(
        &self,
        name: &str,
        info: Option<&Info>,
        cond: Option<IfCond>,
        features: Vec<Feature>,
    ) -> Common {
        Common {
            name: name.to_owned(),
            span: info.map(|i| i.span),
            module: ModuleId(0),
            cond,
            features,
            doc: None,
            since: None,
            implicit: false,
        }
    }

    // -----------------------------------------------------------------
    // Definition

    fn def_entity(&mut self, e: Entity, info: Option<Info>) -> R<usize> {
        let name = e.name().map(str::to_owned);
        if let Some(name) = &name
            && let Some(&other) = self.index.get(name)
        {
            let msg = match &self.ents[other].info {
                Some(oi) => {
                    let chain: String = self
                        .rep
                        .include_chain(oi.span)
                        .iter()
                        .map(|(f, l)| format!("In file included from {f}:{l}:\n"))
                        .collect();
                    let fname = &self.rep.sources.get(oi.span.file).name;
                    format!(
                        "'{name}' is already defined\n{chain}{fname}: In {} '{}':\n{fname}:{}: previous definition",
                        oi.meta, oi.name, oi.span.line
                    )
                }
                None => format!("{} is already defined", self.describe_type(other)),
            };
            let sp = info.as_ref().map(|i| i.span);
            return Err(self.err(info.as_ref(), sp, msg));
        }
        let i = self.ents.len();
        if let Some(name) = name {
            self.index.insert(name, i);
        }
        self.ents.push(Ent {
            e,
            info,
            state: State::Unchecked,
            include: None,
            doc: None,
        });
        Ok(i)
    }

    fn lookup_type(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .copied()
            .filter(|&i| self.ents[i].e.is_type())
    }

    fn make_array_type(&mut self, elem: &str, info: Option<&Info>) -> R<String> {
        let name = format!("{elem}List");
        if self.lookup_type(&name).is_none() {
            let mut common = self.common(&name, info, None, Vec::new());
            common.implicit = true;
            self.def_entity(
                Entity::Array(Array {
                    common,
                    element: elem.to_owned(),
                }),
                info.cloned(),
            )?;
        }
        Ok(name)
    }

    fn type_ref(&mut self, t: &TypeRef, info: &Info) -> R<String> {
        if t.array {
            self.make_array_type(&t.name, Some(info))
        } else {
            Ok(t.name.clone())
        }
    }

    /// Records feature names schema-wide (QEMU allows at most 64); `at` is
    /// the defining expression, where QEMU reports the excess.
    fn note_features(&mut self, fs: &[NFeature], at: Span) {
        for f in fs {
            if !self.feature_names.iter().any(|(n, _)| n == &f.name) {
                self.feature_names.push((f.name.clone(), Some(at)));
            }
        }
    }

    fn make_members(&mut self, ms: Vec<NMember>, info: &Info, defined_in: &str) -> R<Vec<Member>> {
        let mut out = Vec::with_capacity(ms.len());
        for m in ms {
            self.note_features(&m.features, info.span);
            let ty = if m.ty.array {
                self.make_array_type(&m.ty.name, Some(info))?
            } else {
                m.ty.name
            };
            out.push(Member {
                name: m.name,
                ty,
                optional: m.optional,
                span: Some(m.span),
                cond: m.cond,
                features: features_of(&m.features),
                defined_in: defined_in.to_owned(),
                doc: None,
            });
        }
        Ok(out)
    }

    fn make_implicit_object(
        &mut self,
        name: &str,
        info: &Info,
        cond: Option<IfCond>,
        role: &str,
        members: Vec<NMember>,
    ) -> R<Option<String>> {
        if members.is_empty() {
            return Ok(None);
        }
        let oname = format!("q_obj_{name}-{role}");
        let members = self.make_members(members, info, &oname)?;
        if !self.index.contains_key(&oname) {
            let mut common = self.common(&oname, Some(info), cond, Vec::new());
            common.implicit = true;
            self.def_entity(
                Entity::Object(Object {
                    common,
                    base: None,
                    local_members: members,
                    members: Vec::new(),
                    variants: None,
                    simple_union: false,
                }),
                Some(info.clone()),
            )?;
        }
        Ok(Some(oname))
    }

    fn def_predefineds(&mut self) -> R<()> {
        const I64: (i128, i128) = (i64::MIN as i128, i64::MAX as i128);
        let builtins: [Predefined; 15] = [
            ("str", JsonType::String, None),
            ("number", JsonType::Number, None),
            ("int", JsonType::Int, Some(I64)),
            (
                "int8",
                JsonType::Int,
                Some((i8::MIN.into(), i8::MAX.into())),
            ),
            (
                "int16",
                JsonType::Int,
                Some((i16::MIN.into(), i16::MAX.into())),
            ),
            (
                "int32",
                JsonType::Int,
                Some((i32::MIN.into(), i32::MAX.into())),
            ),
            ("int64", JsonType::Int, Some(I64)),
            ("uint8", JsonType::Int, Some((0, u8::MAX.into()))),
            ("uint16", JsonType::Int, Some((0, u16::MAX.into()))),
            ("uint32", JsonType::Int, Some((0, u32::MAX.into()))),
            ("uint64", JsonType::Int, Some((0, u64::MAX.into()))),
            ("size", JsonType::Int, Some((0, u64::MAX.into()))),
            ("bool", JsonType::Boolean, None),
            ("any", JsonType::Value, None),
            ("null", JsonType::Null, None),
        ];
        for (name, json_type, int_range) in builtins {
            let common = self.common(name, None, None, Vec::new());
            self.def_entity(
                Entity::Builtin(Builtin {
                    common,
                    json_type,
                    int_range,
                }),
                None,
            )?;
            self.make_array_type(name, None)?;
        }
        let mut common = self.common("q_empty", None, None, Vec::new());
        common.implicit = true;
        self.def_entity(
            Entity::Object(Object {
                common,
                base: None,
                local_members: Vec::new(),
                members: Vec::new(),
                variants: None,
                simple_union: false,
            }),
            None,
        )?;
        let mut common = self.common("QType", None, None, Vec::new());
        common.implicit = true;
        let members = [
            "none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool",
        ]
        .iter()
        .map(|n| EnumMember {
            name: (*n).to_owned(),
            span: None,
            cond: None,
            features: Vec::new(),
        })
        .collect();
        self.def_entity(
            Entity::Enum(Enum {
                common,
                members,
                prefix: self.rules.legacy.then(|| "QTYPE".to_owned()),
            }),
            None,
        )?;
        Ok(())
    }

    fn def_def(&mut self, d: Def) -> R<()> {
        let info = Info {
            span: d.span,
            meta: d.meta.as_str(),
            name: std::rc::Rc::from(d.name.as_str()),
        };
        self.note_features(&d.features, d.span);
        let features = features_of(&d.features);
        let cond = d.cond.clone();
        let common = self.common(&d.name, Some(&info), cond.clone(), features);
        let entity = match d.body {
            Body::Enum { values, prefix } => {
                for v in &values {
                    self.note_features(&v.features, d.span);
                }
                let members = values
                    .into_iter()
                    .map(|v| EnumMember {
                        features: features_of(&v.features),
                        name: v.name,
                        span: Some(v.span),
                        cond: v.cond,
                    })
                    .collect();
                Entity::Enum(Enum {
                    common,
                    members,
                    prefix,
                })
            }
            Body::Struct { base, members } => {
                let members = self.make_members(members, &info, &d.name)?;
                Entity::Object(Object {
                    common,
                    base: base.as_ref().map(|b| b.0.clone()),
                    local_members: members,
                    members: Vec::new(),
                    variants: None,
                    simple_union: false,
                })
            }
            Body::Union {
                base,
                discriminator,
                branches,
            } => {
                let base = match base {
                    Some(Data::Inline(ms)) => {
                        self.make_implicit_object(&d.name, &info, cond.clone(), "base", ms)?
                    }
                    Some(Data::Name(n, _)) => Some(n.clone()),
                    None => None,
                };
                let mut variants = Vec::new();
                let mut local_members = Vec::new();
                let simple = discriminator.is_none();
                for b in branches {
                    let mut ty = self.type_ref(&b.ty, &info)?;
                    if simple {
                        let wrapper_cond = self
                            .lookup_type(&ty)
                            .and_then(|i| self.ents[i].e.common().and_then(|c| c.cond.clone()));
                        let data = NMember {
                            name: "data".into(),
                            optional: false,
                            ty: TypeRef {
                                name: ty.clone(),
                                array: false,
                                span: b.ty.span,
                            },
                            cond: None,
                            features: Vec::new(),
                            span: b.ty.span,
                        };
                        ty = self
                            .make_implicit_object(&ty, &info, wrapper_cond, "wrapper", vec![data])?
                            .unwrap_or_default();
                    }
                    variants.push(Variant {
                        name: b.name.clone(),
                        ty,
                        span: Some(b.span),
                        cond: b.cond.clone(),
                    });
                }
                let tag = match discriminator {
                    Some(t) => t.clone(),
                    None => {
                        let kind = format!("{}Kind", d.name);
                        let mut kcommon = self.common(&kind, Some(&info), cond.clone(), Vec::new());
                        kcommon.implicit = true;
                        let members = variants
                            .iter()
                            .map(|v| EnumMember {
                                name: v.name.clone(),
                                span: v.span,
                                cond: v.cond.clone(),
                                features: Vec::new(),
                            })
                            .collect();
                        self.def_entity(
                            Entity::Enum(Enum {
                                common: kcommon,
                                members,
                                prefix: None,
                            }),
                            Some(info.clone()),
                        )?;
                        local_members.push(Member {
                            name: "type".into(),
                            ty: kind,
                            optional: false,
                            span: None,
                            cond: None,
                            features: Vec::new(),
                            defined_in: d.name.clone(),
                            doc: None,
                        });
                        "type".into()
                    }
                };
                Entity::Object(Object {
                    common,
                    base,
                    local_members,
                    members: Vec::new(),
                    variants: Some(Variants { tag, variants }),
                    simple_union: simple,
                })
            }
            Body::Alternate { branches } => {
                let mut variants = Vec::new();
                for b in branches {
                    let ty = self.type_ref(&b.ty, &info)?;
                    variants.push(Variant {
                        name: b.name.clone(),
                        ty,
                        span: Some(b.span),
                        cond: b.cond.clone(),
                    });
                }
                Entity::Alternate(Alternate {
                    common,
                    variants: Variants {
                        tag: "type".into(),
                        variants,
                    },
                })
            }
            Body::Command {
                data,
                returns,
                generate,
                success_response,
                boxed,
                allow_oob,
                allow_preconfig,
                coroutine,
            } => {
                let arg_type = match data {
                    Some(Data::Inline(ms)) => {
                        self.make_implicit_object(&d.name, &info, cond.clone(), "arg", ms)?
                    }
                    Some(Data::Name(n, _)) => Some(n.clone()),
                    None => None,
                };
                let ret_type = match returns {
                    Some(t) => Some(self.type_ref(&t, &info)?),
                    None => None,
                };
                Entity::Command(Command {
                    common,
                    arg_type,
                    ret_type,
                    generate,
                    success_response,
                    boxed,
                    allow_oob,
                    allow_preconfig,
                    coroutine,
                })
            }
            Body::Event { data, boxed } => {
                let arg_type = match data {
                    Some(Data::Inline(ms)) => {
                        self.make_implicit_object(&d.name, &info, cond.clone(), "arg", ms)?
                    }
                    Some(Data::Name(n, _)) => Some(n.clone()),
                    None => None,
                };
                Entity::Event(Event {
                    common,
                    arg_type,
                    boxed,
                })
            }
        };
        let i = self.def_entity(entity, Some(info))?;
        self.ents[i].doc = d.doc;
        Ok(())
    }

    // -----------------------------------------------------------------
    // Checking

    fn describe_type(&self, i: usize) -> String {
        match &self.ents[i].e {
            Entity::Builtin(b) => format!("built-in type '{}'", b.common.name),
            Entity::Enum(e) => format!("enum type '{}'", e.common.name),
            Entity::Array(a) => format!("array type ['{}']", a.element),
            Entity::Object(o) => {
                let meta = if o.variants.is_some() {
                    "union"
                } else {
                    "struct"
                };
                format!("{meta} type '{}'", o.common.name)
            }
            Entity::Alternate(a) => format!("alternate type '{}'", a.common.name),
            Entity::Command(c) => format!("command '{}'", c.common.name),
            Entity::Event(e) => format!("event '{}'", e.common.name),
            Entity::Include(_) => String::new(),
        }
    }

    fn resolve_type(
        &self,
        name: &str,
        info: Option<&Info>,
        precise: Option<Span>,
        what: impl AsRef<str>,
    ) -> R<usize> {
        self.lookup_type(name).ok_or_else(|| {
            let what = what.as_ref();
            self.err(info, precise, format!("{what} uses unknown type '{name}'"))
        })
    }

    /// Like [`Self::resolve_type`], describing the user lazily.
    fn resolve_type_with(
        &self,
        name: &str,
        info: Option<&Info>,
        precise: Option<Span>,
        what: impl FnOnce() -> String,
    ) -> R<usize> {
        match self.lookup_type(name) {
            Some(t) => Ok(t),
            None => self.resolve_type(name, info, precise, what()),
        }
    }

    fn clash(
        &self,
        info: Option<&Info>,
        precise: Option<Span>,
        seen: &mut SeenMap,
        m: Seen,
    ) -> R<()> {
        let key = c_name(&m.name, true).into_owned();
        if let Some(prev) = seen.get(&key) {
            let iname = info.map_or("", |i| &*i.name);
            return Err(self.err(
                info,
                precise,
                format!(
                    "{} collides with {}",
                    describe_member(self.rules.legacy, m.role, &m.name, &m.defined_in, iname),
                    describe_member(
                        self.rules.legacy,
                        prev.role,
                        &prev.name,
                        &prev.defined_in,
                        iname
                    )
                ),
            ));
        }
        seen.insert(key, m);
        Ok(())
    }

    fn check_feature_clash(
        &self,
        info: Option<&Info>,
        features: &[Feature],
        defined_in: &str,
    ) -> R<()> {
        let mut seen = SeenMap::default();
        for f in features {
            self.clash(
                info,
                f.span,
                &mut seen,
                Seen {
                    role: "feature",
                    name: f.name.clone(),
                    defined_in: defined_in.to_owned(),
                },
            )?;
        }
        Ok(())
    }

    fn check_definition(&self, i: usize) -> R<()> {
        let ent = &self.ents[i];
        let Some(c) = ent.e.common() else {
            return Ok(());
        };
        self.check_feature_clash(ent.info.as_ref(), &c.features, &c.name)?;
        if ent.e.is_type() {
            for f in &c.features {
                if f.is_deprecated() || (f.is_unstable() && !self.rules.legacy) {
                    return Err(self.err(
                        ent.info.as_ref(),
                        f.span,
                        format!("feature '{}' is not supported for types", f.name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn object(&self, i: usize) -> &Object {
        match &self.ents[i].e {
            Entity::Object(o) => o,
            _ => unreachable!("not an object"),
        }
    }

    fn object_mut(&mut self, i: usize) -> &mut Object {
        match &mut self.ents[i].e {
            Entity::Object(o) => o,
            _ => unreachable!("not an object"),
        }
    }

    fn check_member(&self, info: Option<&Info>, m: &Member, role: &'static str) -> R<usize> {
        let iname = info.map_or("", |i| &*i.name);
        let t = self.resolve_type_with(&m.ty, info, m.span, || {
            describe_member(self.rules.legacy, role, &m.name, &m.defined_in, iname)
        })?;
        self.check_feature_clash(info, &m.features, &m.name)?;
        Ok(t)
    }

    /// The clash check of an object's members (and branches) against `seen`.
    fn object_check_clash(
        &self,
        o: usize,
        info: Option<&Info>,
        precise: Option<Span>,
        seen: &mut SeenMap,
    ) -> R<()> {
        let obj = self.object(o);
        for m in &obj.members {
            self.clash(
                info,
                precise.or(m.span),
                seen,
                Seen {
                    role: "member",
                    name: m.name.clone(),
                    defined_in: m.defined_in.clone(),
                },
            )?;
        }
        if let Some(vs) = &obj.variants {
            for v in &vs.variants {
                if let Some(t) = self.lookup_type(&v.ty)
                    && matches!(self.ents[t].e, Entity::Object(_))
                {
                    let mut s = seen.clone();
                    self.object_check_clash(t, info, precise.or(v.span), &mut s)?;
                }
            }
        }
        Ok(())
    }

    fn check_object(&mut self, i: usize) -> R<()> {
        match self.ents[i].state {
            State::Complete => return Ok(()),
            State::InProgress => {
                let name = self.object(i).common.name.clone();
                return Err(self.err(
                    self.ents[i].info.as_ref(),
                    None,
                    format!("object {name} contains itself"),
                ));
            }
            State::Unchecked => {}
        }
        self.ents[i].state = State::InProgress;
        self.check_definition(i)?;
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        let mut base_idx = None;
        if let Some(base_name) = self.object(i).base.clone() {
            let b = self.resolve_type(&base_name, info, None, "'base'")?;
            let ok = matches!(&self.ents[b].e, Entity::Object(o) if o.variants.is_none());
            if !ok {
                return Err(self.err(
                    info,
                    None,
                    format!(
                        "'base' requires a struct type, {} isn't",
                        self.describe_type(b)
                    ),
                ));
            }
            self.check_object(b)?;
            base_idx = Some(b);
        }
        // Clashes are rare: look for one cheaply first, and only when there
        // is one, repeat the checks the slow way that names the culprits.
        let clean = {
            let mut set = NameSet::default();
            let base_members = base_idx.map(|b| self.object(b).members.as_slice());
            base_members
                .unwrap_or_default()
                .iter()
                .chain(&self.object(i).local_members)
                .all(|m| set.insert(CName::new(&m.name)))
        };
        let mut seen = SeenMap::default();
        if let Some(b) = base_idx
            && !clean
        {
            self.object_check_clash(b, info, None, &mut seen)?;
        }
        let mut members: Vec<Member> = Vec::new();
        if let Some(b) = base_idx {
            members.extend(self.object(b).members.iter().cloned());
        }
        for m in &self.object(i).local_members {
            self.check_member(info, m, "member")?;
            if !clean {
                self.clash(
                    info,
                    m.span,
                    &mut seen,
                    Seen {
                        role: "member",
                        name: m.name.clone(),
                        defined_in: m.defined_in.clone(),
                    },
                )?;
            }
            members.push(m.clone());
        }
        self.object_mut(i).members = members;
        if self.object(i).variants.is_some() {
            self.check_branches(i, info)?;
            let obj = self.object(i);
            let mut set = NameSet::default();
            for m in &obj.members {
                set.insert(CName::new(&m.name));
            }
            let clean = obj.variants.iter().flat_map(|vs| &vs.variants).all(|v| {
                self.lookup_type(&v.ty)
                    .is_none_or(|t| self.fast_clean(t, &mut set.clone()))
            });
            if !clean {
                self.union_branch_clash(i, info)?;
            }
        }
        self.ents[i].state = State::Complete;
        Ok(())
    }

    /// Whether an object's members (and its branches' members) can be
    /// added to `set` without a clash.
    fn fast_clean<'s>(&'s self, o: usize, set: &mut NameSet<'s>) -> bool {
        let Entity::Object(obj) = &self.ents[o].e else {
            return true;
        };
        if !obj.members.iter().all(|m| set.insert(CName::new(&m.name))) {
            return false;
        }
        obj.variants.iter().flat_map(|vs| &vs.variants).all(|v| {
            self.lookup_type(&v.ty)
                .is_none_or(|t| self.fast_clean(t, &mut set.clone()))
        })
    }

    /// The slow clash check of a union's branches, which reports the
    /// first clash.
    fn union_branch_clash(&self, i: usize, info: Option<&Info>) -> R<()> {
        let obj = self.object(i);
        let mut seen = SeenMap::default();
        for m in &obj.members {
            self.clash(
                info,
                m.span,
                &mut seen,
                Seen {
                    role: "member",
                    name: m.name.clone(),
                    defined_in: m.defined_in.clone(),
                },
            )?;
        }
        for v in obj.variants.iter().flat_map(|vs| &vs.variants) {
            if let Some(t) = self.lookup_type(&v.ty) {
                let mut s = seen.clone();
                self.object_check_clash(t, info, v.span, &mut s)?;
            }
        }
        Ok(())
    }

    fn check_branches(&mut self, i: usize, info: Option<&Info>) -> R<()> {
        let obj = self.object(i);
        let simple = obj.simple_union;
        let vs = obj.variants.as_ref().unwrap_or_else(|| unreachable!());
        let tag_name = vs.tag.clone();
        let mut variants = vs.variants.clone();
        let tag_key = CName::new(&tag_name);
        // Members do not clash here, so C names identify them.
        let tag = obj
            .members
            .iter()
            .find(|m| CName::new(&m.name) == tag_key)
            .filter(|m| m.name == tag_name)
            .cloned();
        let has_members = !obj.members.is_empty();
        let Some(tag) = tag else {
            return Err(self.err(
                info,
                None,
                format!("discriminator '{tag_name}' is not a member of 'base'"),
            ));
        };
        let enum_idx = self.lookup_type(&tag.ty);
        if !simple {
            let base_implicit = tag.defined_in.starts_with("q_");
            let base = if base_implicit {
                "'base'".to_owned()
            } else {
                format!("base type '{}'", tag.defined_in)
            };
            let is_enum = enum_idx.is_some_and(|e| matches!(self.ents[e].e, Entity::Enum(_)));
            if !is_enum {
                return Err(self.err(
                    info,
                    None,
                    format!("discriminator member '{tag_name}' of {base} must be of enum type"),
                ));
            }
            if tag.optional {
                return Err(self.err(
                    info,
                    None,
                    format!("discriminator member '{tag_name}' of {base} must not be optional"),
                ));
            }
            if tag.cond.is_some() {
                return Err(self.err(
                    info,
                    None,
                    format!("discriminator member '{tag_name}' of {base} must not be conditional"),
                ));
            }
        }
        let enum_members: &[EnumMember] = match enum_idx.map(|e| &self.ents[e].e) {
            Some(Entity::Enum(e)) => &e.members,
            _ => &[],
        };
        if !simple {
            for m in enum_members {
                if !variants.iter().any(|v| v.name == m.name) {
                    variants.push(Variant {
                        name: m.name.clone(),
                        ty: "q_empty".into(),
                        span: None,
                        cond: m.cond.clone(),
                    });
                }
            }
        }
        if variants.is_empty() {
            return Err(self.err(info, None, "union has no branches"));
        }
        let count = variants.len();
        if let Some(v) = self.object_mut(i).variants.as_mut() {
            v.variants = variants;
        }
        let iname = info.map_or("", |i| &*i.name);
        for k in 0..count {
            // Checks borrow the union; checking the branch type needs
            // `self` mutably, after them.
            let obj = self.object(i);
            let union_name = obj.common.name.as_str();
            let v = &obj
                .variants
                .as_ref()
                .unwrap_or_else(|| unreachable!())
                .variants[k];
            let what = || describe_member(self.rules.legacy, "branch", &v.name, union_name, iname);
            let t = self.resolve_type_with(&v.ty, info, v.span, what)?;
            if !has_members {
                continue;
            }
            let enum_members: &[EnumMember] = match enum_idx.map(|e| &self.ents[e].e) {
                Some(Entity::Enum(e)) => &e.members,
                _ => &[],
            };
            if !enum_members.iter().any(|m| m.name == v.name) {
                let ed = enum_idx.map(|e| self.describe_type(e)).unwrap_or_default();
                return Err(self.err(
                    info,
                    v.span,
                    format!("branch '{}' is not a value of {ed}", v.name),
                ));
            }
            let ok = match &self.ents[t].e {
                Entity::Object(o) => !(self.rules.legacy && o.variants.is_some()),
                _ => false,
            };
            if !ok {
                return Err(self.err(
                    info,
                    v.span,
                    format!("{} cannot use {}", what(), self.describe_type(t)),
                ));
            }
            self.check_object(t)?;
        }
        Ok(())
    }

    fn check_alternate(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        let Entity::Alternate(a) = &self.ents[i].e else {
            unreachable!()
        };
        let name = a.common.name.clone();
        let vs = a.variants.variants.clone();
        let iname = info.map_or("", |i| &*i.name);
        let mut types = Vec::new();
        for v in &vs {
            let what = describe_member(self.rules.legacy, "branch", &v.name, &name, iname);
            types.push(self.resolve_type(&v.ty, info, v.span, &what)?);
        }
        let mut seen = SeenMap::default();
        let mut types_seen: HashMap<&'static str, String> = HashMap::new();
        for (v, &t) in vs.iter().zip(&types) {
            self.clash(
                info,
                v.span,
                &mut seen,
                Seen {
                    role: "branch",
                    name: v.name.clone(),
                    defined_in: name.clone(),
                },
            )?;
            let what = describe_member(self.rules.legacy, "branch", &v.name, &name, iname);
            let qtype = match self.ents[t].e.json_type() {
                Some(JsonType::Null) => "QTYPE_QNULL",
                Some(JsonType::String) => "QTYPE_QSTRING",
                Some(JsonType::Number | JsonType::Int) => "QTYPE_QNUM",
                Some(JsonType::Boolean) => "QTYPE_QBOOL",
                Some(JsonType::Array) => "QTYPE_QLIST",
                Some(JsonType::Object) => "QTYPE_QDICT",
                _ => {
                    return Err(self.err(
                        info,
                        v.span,
                        format!("{what} cannot use {}", self.describe_type(t)),
                    ));
                }
            };
            let mut conflicting = vec![qtype];
            let push = |c: &mut Vec<&'static str>, q: &'static str| {
                if !c.contains(&q) {
                    c.push(q);
                }
            };
            if qtype == "QTYPE_QSTRING" {
                if let Entity::Enum(e) = &self.ents[t].e {
                    for m in &e.members {
                        if m.name == "on" || m.name == "off" {
                            push(&mut conflicting, "QTYPE_QBOOL");
                        }
                        if m.name.starts_with(|c: char| {
                            c == '-' || c == '+' || c == '.' || c.is_ascii_digit()
                        }) {
                            push(&mut conflicting, "QTYPE_QNUM");
                        }
                    }
                } else {
                    push(&mut conflicting, "QTYPE_QNUM");
                    push(&mut conflicting, "QTYPE_QBOOL");
                }
            }
            for qt in conflicting {
                if let Some(prev) = types_seen.get(qt) {
                    return Err(self.err(
                        info,
                        v.span,
                        format!("{what} can't be distinguished from '{prev}'"),
                    ));
                }
                types_seen.insert(qt, v.name.clone());
            }
        }
        Ok(())
    }

    fn check_enum(&self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let ent = &self.ents[i];
        let Entity::Enum(e) = &ent.e else {
            unreachable!()
        };
        // Clashes are rare: only when there is one, look for it the slow
        // way that names the culprits.
        let mut set = NameSet::default();
        if e.members.iter().all(|m| set.insert(CName::new(&m.name))) {
            return Ok(());
        }
        let mut seen = SeenMap::default();
        for m in &e.members {
            self.clash(
                ent.info.as_ref(),
                m.span,
                &mut seen,
                Seen {
                    role: "value",
                    name: m.name.clone(),
                    defined_in: e.common.name.clone(),
                },
            )?;
        }
        Ok(())
    }

    fn check_args(&mut self, i: usize, what: &str, arg: Option<String>, boxed: bool) -> R<()> {
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        let Some(arg) = arg else { return Ok(()) };
        let t = self.resolve_type(&arg, info, None, format!("{what}'s 'data'"))?;
        let Entity::Object(o) = &self.ents[t].e else {
            return Err(self.err(
                info,
                None,
                format!("{what}'s 'data' cannot take {}", self.describe_type(t)),
            ));
        };
        if o.variants.is_some() && !boxed {
            return Err(self.err(
                info,
                None,
                format!(
                    "{what}'s 'data' can take {} only with 'boxed': true",
                    self.describe_type(t)
                ),
            ));
        }
        self.check_object(t)?;
        if !self.rules.legacy && !boxed && self.object(t).members.iter().any(|m| m.cond.is_some()) {
            return Err(self.err(
                info,
                None,
                format!("conditional {what} arguments require 'boxed': true"),
            ));
        }
        Ok(())
    }

    fn check_command(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let Entity::Command(c) = &self.ents[i].e else {
            unreachable!()
        };
        let (arg, ret, boxed, name) = (
            c.arg_type.clone(),
            c.ret_type.clone(),
            c.boxed,
            c.common.name.clone(),
        );
        self.check_args(i, "command", arg, boxed)?;
        let info = self.ents[i].info.clone();
        let info = info.as_ref();
        if let Some(ret) = ret {
            let t = self.resolve_type(&ret, info, None, "command's 'returns'")?;
            if !self.pragma.command_returns_exceptions.contains(&name) {
                let mut typ = t;
                if let Entity::Array(a) = &self.ents[t].e
                    && let Some(e) = self.lookup_type(&a.element)
                {
                    typ = e;
                }
                if !matches!(self.ents[typ].e, Entity::Object(_)) {
                    return Err(self.err(
                        info,
                        None,
                        format!("command's 'returns' cannot take {}", self.describe_type(t)),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_event(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let Entity::Event(e) = &self.ents[i].e else {
            unreachable!()
        };
        let (arg, boxed) = (e.arg_type.clone(), e.boxed);
        self.check_args(i, "event", arg, boxed)
    }

    fn check_array(&mut self, i: usize) -> R<()> {
        self.check_definition(i)?;
        let info = self.ents[i].info.clone();
        let Entity::Array(a) = &self.ents[i].e else {
            unreachable!()
        };
        let what = info.as_ref().map_or("", |i| i.meta);
        let elem = self.resolve_type(&a.element.clone(), info.as_ref(), None, what)?;
        let cond = self.ents[elem].e.common().and_then(|c| c.cond.clone());
        if let Entity::Array(a) = &mut self.ents[i].e {
            a.common.cond = cond;
        }
        Ok(())
    }

    fn check_entity(&mut self, i: usize) -> R<()> {
        match &self.ents[i].e {
            Entity::Include(_) => Ok(()),
            Entity::Builtin(_) => self.check_definition(i),
            Entity::Enum(_) => self.check_enum(i),
            Entity::Array(_) => self.check_array(i),
            Entity::Object(_) => self.check_object(i),
            Entity::Alternate(_) => self.check_alternate(i),
            Entity::Command(_) => self.check_command(i),
            Entity::Event(_) => self.check_event(i),
        }
    }

    // -----------------------------------------------------------------
    // Docs

    fn doc_index_of(&self, i: usize) -> Option<usize> {
        self.ents[i].doc
    }

    /// Connects a member to doc block `doc`, whose state is `st` (taken
    /// out of `self.doc_state` meanwhile).
    fn connect_member(
        &self,
        doc: usize,
        st: &mut DocState,
        role: &'static str,
        name: &str,
        info: Option<&Info>,
        precise: Option<Span>,
    ) -> R<()> {
        let sections = &self.docs[doc].sections;
        if let Some(a) = st
            .args
            .iter_mut()
            .find(|a| sections[a.0].name.as_deref() == Some(name))
        {
            a.1 = true;
            return Ok(());
        }
        if st.extra.iter().any(|e| e == name) {
            return Ok(());
        }
        let symbol = self.docs[doc].symbol.as_deref().unwrap_or_default();
        if self.rules.member_docs
            && !self
                .pragma
                .documentation_exceptions
                .iter()
                .any(|e| e == symbol)
        {
            return Err(self.err_kind(
                DiagnosticKind::Doc,
                info,
                precise,
                format!("{role} '{name}' lacks documentation"),
            ));
        }
        st.extra.push(name.to_owned());
        Ok(())
    }

    /// Adds empty member sections for undocumented members (see
    /// [`DocState::extra`]) where QEMU adds them: after the leading run of
    /// member sections.
    fn finish_docs(&mut self) {
        for (d, st) in self.docs.iter_mut().zip(&mut self.doc_state) {
            for name in st.extra.drain(..) {
                let mut index = 1;
                while index < d.sections.len() && d.sections[index].kind == DocSectionKind::Member {
                    index += 1;
                }
                d.sections.insert(
                    index.min(d.sections.len()),
                    DocSection {
                        kind: DocSectionKind::Member,
                        name: Some(name),
                        text: String::new(),
                        span: None,
                        tag: None,
                    },
                );
            }
        }
    }

    fn connect_feature(
        &self,
        doc: usize,
        st: &mut DocState,
        f: &Feature,
        info: Option<&Info>,
    ) -> R<()> {
        let sections = &self.docs[doc].sections;
        match st
            .features
            .iter_mut()
            .find(|a| sections[a.0].name.as_deref() == Some(f.name.as_str()))
        {
            Some(a) => {
                a.1 = true;
                Ok(())
            }
            None => Err(self.err_kind(
                DiagnosticKind::Doc,
                info,
                f.span,
                format!("feature '{}' lacks documentation", f.name),
            )),
        }
    }

    /// What an object contributes to its doc: its implicit base's members,
    /// its local members and their features.
    fn collect_object_conns<'s>(&'s self, o: usize, out: &mut Vec<Conn<'s>>) {
        let obj = self.object(o);
        if let Some(b) = &obj.base
            && b.starts_with("q_")
            && let Some(&bi) = self.index.get(b)
        {
            self.collect_object_conns(bi, out);
        }
        for m in &obj.local_members {
            out.push(Conn::Member("member", &m.name, m.span));
            out.extend(m.features.iter().map(Conn::Feature));
        }
    }

    fn connect_doc(&mut self, i: usize) -> R<()> {
        let Some(doc) = self.doc_index_of(i) else {
            return Ok(());
        };
        // The block's state is out of `self` while members borrow from it.
        let mut st = std::mem::take(&mut self.doc_state[doc]);
        let mut conns = Vec::new();
        let ent = &self.ents[i];
        if let Some(c) = ent.e.common() {
            conns.extend(c.features.iter().map(Conn::Feature));
        }
        match &ent.e {
            Entity::Enum(e) => {
                for m in &e.members {
                    conns.push(Conn::Member("value", &m.name, m.span));
                    conns.extend(m.features.iter().map(Conn::Feature));
                }
            }
            Entity::Object(_) => self.collect_object_conns(i, &mut conns),
            Entity::Alternate(a) => {
                for v in &a.variants.variants {
                    conns.push(Conn::Member("branch", &v.name, v.span));
                }
            }
            Entity::Command(Command {
                arg_type: Some(a), ..
            })
            | Entity::Event(Event {
                arg_type: Some(a), ..
            }) => {
                if a.starts_with("q_")
                    && let Some(&ai) = self.index.get(a)
                {
                    self.collect_object_conns(ai, &mut conns);
                }
            }
            _ => {}
        }
        let info = self.ents[i].info.as_ref();
        for c in conns {
            match c {
                Conn::Member(role, name, span) => {
                    self.connect_member(doc, &mut st, role, name, info, span)?
                }
                Conn::Feature(f) => self.connect_feature(doc, &mut st, f, info)?,
            }
        }
        self.doc_state[doc] = st;
        Ok(())
    }

    fn check_docs(&self) -> R<()> {
        for (d, st) in self.docs.iter().zip(&self.doc_state) {
            for (list, what) in [(&st.args, "member"), (&st.features, "feature")] {
                let bogus: Vec<&crate::ast::DocSection> = list
                    .iter()
                    .filter(|a| !a.1)
                    .map(|a| &d.sections[a.0])
                    .collect();
                if let Some(first) = bogus.first() {
                    let names: Vec<&str> = bogus
                        .iter()
                        .map(|b| b.name.as_deref().unwrap_or_default())
                        .collect();
                    let many = bogus.len() > 1;
                    let what = if self.rules.legacy { "member" } else { what };
                    let msg = format!(
                        "documented {what}{} '{}' {} not exist",
                        if many { "s" } else { "" },
                        names.join("', '"),
                        if many { "do" } else { "does" }
                    );
                    let at = if self.rules.legacy {
                        d.span
                    } else {
                        first.span.or(d.span)
                    };
                    return Err(match at {
                        Some(at) => Box::new(self.rep.diag(DiagnosticKind::Doc, at, at, None, msg)),
                        None => Box::new(Diagnostic::file(DiagnosticKind::Doc, msg, "")),
                    });
                }
            }
        }
        Ok(())
    }

    fn add_doc(&mut self, doc: Doc) -> usize {
        let mut st = DocState::default();
        for (i, s) in doc.sections.iter().enumerate() {
            match s.kind {
                DocSectionKind::Member => st.args.push((i, false)),
                DocSectionKind::Feature => st.features.push((i, false)),
                _ => {}
            }
        }
        self.docs.push(doc);
        self.doc_state.push(st);
        self.docs.len() - 1
    }

    // -----------------------------------------------------------------
    // Driver

    pub(crate) fn run(mut self, items: Vec<Item>, pragma: Pragma) -> R<Model> {
        // Pass 1: expression checks (expr.py).
        let checker = ExprChecker {
            rep: Reporter {
                sources: self.rep.sources,
            },
            pragma: self.pragma,
            rules: self.rules,
        };
        enum Step {
            Def(Box<Def>),
            Include(String, Span),
        }
        // Most definitions make one entity, some make a few implicit ones.
        let mut steps = Vec::with_capacity(items.len());
        self.ents.reserve(items.len() * 2 + 64);
        self.docs.reserve(items.len());
        self.doc_state.reserve(items.len());
        for item in items {
            match item {
                Item::Doc(d) => {
                    self.add_doc(d);
                }
                Item::Expr(mut e) => {
                    let di = e.doc.take().map(|d| self.add_doc(d));
                    if let Some(di) = di {
                        e.doc = Some(std::mem::take(&mut self.docs[di]));
                    }
                    let def = checker.check_expr(&e, di);
                    if let (Some(di), Some(d)) = (di, e.doc.take()) {
                        self.docs[di] = d;
                    }
                    steps.push(Step::Def(Box::new(def?)));
                }
                Item::Directive(d) => {
                    if let Some(inc) = d.dict.get("include").and_then(|v| v.as_str()) {
                        let from = &self.rep.sources.get(d.span.file).name;
                        let path = join(dirname(from), inc);
                        steps.push(Step::Include(relpath(&path, &self.main_dir), d.span));
                    }
                }
            }
        }
        // Pass 2: definitions.
        self.def_predefineds()?;
        for step in steps {
            match step {
                Step::Def(d) => self.def_def(*d)?,
                Step::Include(module, d) => {
                    self.ents.push(Ent {
                        e: Entity::Include(Include {
                            module: ModuleId(0),
                            in_module: ModuleId(0),
                            span: Some(d),
                        }),
                        info: None,
                        state: State::Unchecked,
                        include: Some(module.clone()),
                        doc: None,
                    });
                }
            }
        }
        // Pass 3: checks.
        for i in 0..self.ents.len() {
            self.check_entity(i)?;
            self.connect_doc(i)?;
        }
        self.check_docs()?;
        self.finish_docs();
        if let Some((name, span)) = self.feature_names.get(64) {
            let msg = "Maximum of 64 schema features is permitted";
            let _ = name;
            return Err(match span {
                Some(sp) => Box::new(self.rep.diag(DiagnosticKind::Semantic, *sp, *sp, None, msg)),
                None => Box::new(Diagnostic::file(DiagnosticKind::Semantic, msg, "")),
            });
        }
        Ok(self.into_model(pragma))
    }

    fn into_model(mut self, pragma: Pragma) -> Model {
        let mut model = Model {
            sources: SourceMap::new(),
            modules: Vec::new(),
            entities: Vec::with_capacity(self.ents.len()),
            pragma,
            origin: Origin::Source,
            index: HashMap::with_capacity(self.ents.len()),
            docs: Vec::new(),
            spanned: None,
        };
        let mut module_ids: HashMap<String, ModuleId> = HashMap::new();
        let mut module = |model: &mut Model, name: &str| -> ModuleId {
            if let Some(id) = module_ids.get(name) {
                return *id;
            }
            let id = model.add_module(name);
            module_ids.insert(name.to_owned(), id);
            id
        };
        module(&mut model, "./builtin");
        let file_modules: Vec<String> = self
            .rep
            .sources
            .files()
            .map(|(id, _)| self.module_name_of_file(id))
            .collect();
        if let Some(main) = file_modules.first() {
            module(&mut model, main);
        }
        // Modules are made in the order of include directives.
        for ent in &self.ents {
            if let Some(m) = &ent.include {
                module(&mut model, m);
            }
        }
        let file_module = |span: Option<Span>| -> &str {
            match span {
                Some(sp) => &file_modules[sp.file.0 as usize],
                None => "./builtin",
            }
        };
        // Which doc documents the members defined in each object: its own,
        // or for implicit objects that of the definition that made them.
        let mut member_doc: Vec<Option<usize>> = vec![None; self.ents.len()];
        for (i, ent) in self.ents.iter().enumerate() {
            let Some(d) = ent.doc else { continue };
            member_doc[i] = Some(d);
            match &ent.e {
                Entity::Command(Command {
                    arg_type: Some(a), ..
                })
                | Entity::Event(Event {
                    arg_type: Some(a), ..
                })
                | Entity::Object(Object { base: Some(a), .. })
                    if a.starts_with("q_obj_") =>
                {
                    if let Some(&ai) = self.index.get(a) {
                        member_doc[ai] = Some(d);
                    }
                }
                _ => {}
            }
        }
        // Member sections are few per block: a linear search beats building
        // a map per block.
        let docs = &self.docs;
        let member_text = |m: &Member| -> Option<String> {
            let d = member_doc[*self.index.get(&m.defined_in)?]?;
            docs[d]
                .sections
                .iter()
                .find(|s| {
                    s.kind == DocSectionKind::Member && s.name.as_deref() == Some(m.name.as_str())
                })
                .map(|s| s.text.as_str())
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let module_names: Vec<&str> = self
            .ents
            .iter()
            .map(|ent| match &ent.e {
                Entity::Array(a) => {
                    let el = self.lookup_type(&a.element);
                    file_module(el.and_then(|x| self.ents[x].info.as_ref()).map(|i| i.span))
                }
                Entity::Include(_) => "./builtin",
                _ => file_module(ent.info.as_ref().map(|i| i.span)),
            })
            .collect();
        let mut entities = Vec::with_capacity(self.ents.len());
        let mut doc_of = Vec::with_capacity(self.ents.len());
        let ents = std::mem::take(&mut self.ents);
        for (ent, mname) in ents.into_iter().zip(module_names) {
            let mut e = ent.e;
            let mid = module(&mut model, mname);
            if let Entity::Include(inc) = &mut e {
                let in_name = inc.span.map(|s| file_module(Some(s))).unwrap_or_default();
                inc.in_module = module(&mut model, in_name);
                inc.module = module(&mut model, ent.include.as_deref().unwrap_or_default());
            }
            let since = ent
                .doc
                .and_then(|d| self.docs[d].since())
                .map(str::to_owned);
            let set_common = |c: &mut Common| {
                c.module = mid;
                c.since = since;
            };
            match &mut e {
                Entity::Include(_) => {}
                Entity::Builtin(b) => set_common(&mut b.common),
                Entity::Enum(x) => set_common(&mut x.common),
                Entity::Array(x) => set_common(&mut x.common),
                Entity::Alternate(x) => set_common(&mut x.common),
                Entity::Command(x) => set_common(&mut x.common),
                Entity::Event(x) => set_common(&mut x.common),
                Entity::Object(x) => {
                    set_common(&mut x.common);
                    for m in x.local_members.iter_mut().chain(x.members.iter_mut()) {
                        m.doc = member_text(m);
                    }
                }
            }
            doc_of.push(ent.doc);
            entities.push(e);
        }
        // Definition blocks move into their definitions; the model's list
        // of blocks refers to them there.
        let mut docs: Vec<Option<Doc>> = std::mem::take(&mut self.docs)
            .into_iter()
            .map(Some)
            .collect();
        let mut owner: Vec<Option<EntityId>> = vec![None; docs.len()];
        for (i, (e, d)) in entities.iter_mut().zip(&doc_of).enumerate() {
            let Some(d) = *d else { continue };
            let common = match e {
                Entity::Include(_) => None,
                Entity::Builtin(b) => Some(&mut b.common),
                Entity::Enum(x) => Some(&mut x.common),
                Entity::Array(x) => Some(&mut x.common),
                Entity::Alternate(x) => Some(&mut x.common),
                Entity::Command(x) => Some(&mut x.common),
                Entity::Event(x) => Some(&mut x.common),
                Entity::Object(x) => Some(&mut x.common),
            };
            if let Some(c) = common {
                c.doc = docs[d].take();
                owner[d] = Some(EntityId(i as u32));
            }
        }
        for e in entities {
            model.push(e);
        }
        model.docs = docs
            .into_iter()
            .zip(owner)
            .filter_map(|(d, o)| match (d, o) {
                (_, Some(id)) => Some(DocBlock::Definition(id)),
                (Some(d), None) => Some(DocBlock::Free(d)),
                (None, None) => None,
            })
            .collect();
        model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relpath_is_lexical_like_pythons() {
        assert_eq!(relpath("qapi-schema.json", ""), "qapi-schema.json");
        assert_eq!(relpath("include/../sub.json", ""), "sub.json");
        assert_eq!(relpath("/a/b/c.json", "/a/b"), "c.json");
        assert_eq!(relpath("/a/x/c.json", "/a/b"), "../x/c.json");
        assert_eq!(relpath("./a.json", "."), "a.json");
        assert_eq!(join("", "a.json"), "a.json");
        assert_eq!(join("dir", "a.json"), "dir/a.json");
        assert_eq!(dirname("dir/a.json"), "dir");
        assert_eq!(dirname("a.json"), "");
    }

    #[test]
    fn member_descriptions_follow_qemu() {
        assert_eq!(
            describe_member(false, "member", "a", "Foo", "Foo"),
            "member 'a'"
        );
        assert_eq!(
            describe_member(false, "member", "a", "Base", "Foo"),
            "member 'a' of type 'Base'"
        );
        assert_eq!(
            describe_member(false, "member", "a", "q_obj_cmd-arg", "cmd"),
            "parameter 'a'"
        );
        assert_eq!(
            describe_member(false, "member", "a", "q_obj_Union-base", "Other"),
            "base member 'a' of type 'Union'"
        );
        assert_eq!(
            describe_member(true, "value", "a", "UnionKind", "Union"),
            "branch 'a'"
        );
        assert_eq!(
            describe_member(false, "value", "a", "UnionKind", "Union"),
            "value 'a' of type 'UnionKind'"
        );
    }
}
