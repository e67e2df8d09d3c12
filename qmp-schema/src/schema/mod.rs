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

mod docs;
mod entities;
mod members;
mod variants;

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
