//! The naming and layout plan: which definitions become which Rust items,
//! decided once before any code is emitted.

use std::collections::{HashMap, HashSet};

use qmp_schema::model::{Entity, IfCond, Model, Origin};

use crate::names::{self, Namer};

/// Type names the generated code itself uses unqualified, or generates.
pub const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Self",
    "Event",
    "Request",
    "Response",
    "ClientExt",
    "ClientBlockingExt",
];

/// Decides whether a definition (in a module) is kept.
pub type KeepFn<'a> = &'a dyn Fn(&Entity, &str) -> bool;

/// How a command's or event's payload type is represented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// No arguments/data: a unit struct.
    None,
    /// An implicit argument object: the command/event struct has its members.
    Inline(String),
    /// A named type (or boxed): a newtype around it.
    Named(String),
}

/// The plan.
#[derive(Debug, Default)]
pub struct Plan {
    /// QAPI type name → Rust type name, for every type that becomes an item.
    pub types: HashMap<String, String>,
    /// Command name → Rust type name.
    pub commands: HashMap<String, String>,
    /// Event name → Rust type name (the data struct) and `Event` variant.
    pub events: HashMap<String, (String, String)>,
    /// Command/event payloads.
    pub payloads: HashMap<String, Payload>,
    /// Object types emitted as a command's or event's own struct.
    pub owned_args: HashSet<String>,
    /// Entities (by name) kept.
    pub kept: HashSet<String>,
    /// (container QAPI type, member/branch type) pairs that need a `Box`.
    pub boxed: HashSet<(String, String)>,
    /// Named argument types that are their command's type themselves
    /// (QAPI type name → command name): a command whose name converts to
    /// the name of its own argument type (`blockdev-backup` with
    /// `BlockdevBackup`) has no type of its own; the argument type
    /// implements `Command`.
    pub arg_commands: HashMap<String, String>,
    /// The objects that are not items of their own.
    pub carriers: Carriers,
    /// QAPI type name → where it is used (in definition order), for the
    /// docs: which commands return or take it, which events carry it,
    /// which types hold it.
    pub used_by: HashMap<String, Vec<Use>>,
    /// Types a client sends: command arguments and everything they contain
    /// (these get builder-style setters; replies and events only `new`).
    pub inputs: HashSet<String>,
}

/// One use of a type, for its docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Use {
    /// A command's reply (command name).
    Returns(String),
    /// A command's arguments (command name).
    Arguments(String),
    /// An event's data (event name).
    Data(String),
    /// A member (container type, member wire name).
    Member(String, String),
    /// A union or alternate branch (container type, branch name).
    Branch(String, String),
}

/// An object that never becomes an item of its own, recognised once by
/// its place in the schema (not by its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carrier {
    /// The empty object (the type of union branches without members):
    /// `rt::Empty`, or a branch without data.
    Empty,
    /// A union's inline base: its members are the union's.
    Base,
    /// A legacy simple union's branch wrapper, whose one member `data` has
    /// this type: the branch holds the wrapped type.
    Wrapper(String),
}

/// The carriers of a model, by QAPI name.
#[derive(Debug, Default)]
pub struct Carriers(HashMap<String, Carrier>);

impl Carriers {
    /// Finds the carriers: the implicit object without members, the
    /// implicit base objects of unions, and the implicit branch objects
    /// of legacy simple unions (one member `data`).
    pub fn find(model: &Model) -> Self {
        let implicit = |name: &str| match model.get(name) {
            Some(Entity::Object(o)) if o.common.implicit => Some(o),
            _ => None,
        };
        let mut map = HashMap::new();
        for e in &model.entities {
            let Entity::Object(o) = e else { continue };
            if o.common.implicit
                && o.members.is_empty()
                && o.local_members.is_empty()
                && o.base.is_none()
                && o.variants.is_none()
            {
                map.insert(o.common.name.clone(), Carrier::Empty);
            }
            let Some(vs) = &o.variants else { continue };
            if let Some(b) = o.base.as_deref().filter(|b| implicit(b).is_some()) {
                map.insert(b.to_owned(), Carrier::Base);
            }
            if !o.simple_union {
                continue;
            }
            for v in &vs.variants {
                if let Some(w) = implicit(&v.ty)
                    && let [data] = w.members.as_slice()
                    && data.name == "data"
                {
                    map.insert(v.ty.clone(), Carrier::Wrapper(data.ty.clone()));
                }
            }
        }
        Carriers(map)
    }

    /// Whether `name` is a carrier.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Whether `name` is the empty object.
    pub fn is_empty_object(&self, name: &str) -> bool {
        self.0.get(name) == Some(&Carrier::Empty)
    }

    /// The type wrapped by a simple-union wrapper object (its `data` member).
    pub fn wrapped(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(Carrier::Wrapper(t)) => Some(t),
            _ => None,
        }
    }
}

/// Renders a condition for docs and metadata (`all(A, not(B))`).
pub fn render_cond(c: &IfCond) -> String {
    match c {
        IfCond::Name(n) => n.clone(),
        IfCond::All(v) => format!(
            "all({})",
            v.iter().map(render_cond).collect::<Vec<_>>().join(", ")
        ),
        IfCond::Any(v) => format!(
            "any({})",
            v.iter().map(render_cond).collect::<Vec<_>>().join(", ")
        ),
        IfCond::Not(b) => format!("not({})", render_cond(b)),
    }
}

/// Type names a type refers to (members, base, branches, elements).
pub fn refs(model: &Model, name: &str) -> Vec<String> {
    match model.get(name) {
        Some(Entity::Array(a)) => vec![a.element.clone()],
        Some(Entity::Object(o)) => {
            let mut v: Vec<String> = o.members.iter().map(|m| m.ty.clone()).collect();
            if let Some(b) = &o.base {
                v.push(b.clone());
            }
            if let Some(vs) = &o.variants {
                v.extend(vs.variants.iter().map(|x| x.ty.clone()));
            }
            v
        }
        Some(Entity::Alternate(a)) => a.variants.variants.iter().map(|x| x.ty.clone()).collect(),
        Some(Entity::Command(c)) => c.arg_type.iter().chain(&c.ret_type).cloned().collect(),
        Some(Entity::Event(e)) => e.arg_type.iter().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Type names a type contains inline (not behind a `Vec`): the edges that
/// can make a Rust type infinitely sized.
fn inline_refs(model: &Model, carriers: &Carriers, name: &str) -> Vec<String> {
    match model.get(name) {
        Some(Entity::Object(_)) | Some(Entity::Alternate(_)) => refs(model, name)
            .into_iter()
            .map(|t| match carriers.wrapped(&t) {
                Some(w) => w.to_owned(),
                None => t,
            })
            .filter(|t| !matches!(model.get(t), Some(Entity::Array(_))))
            .collect(),
        _ => Vec::new(),
    }
}

impl Plan {
    /// Builds the plan for a model and a keep-selection (`None`: keep all).
    pub fn new(model: &Model, keep: Option<KeepFn<'_>>) -> Plan {
        let mut plan = Plan {
            carriers: Carriers::find(model),
            ..Plan::default()
        };
        plan.select(model, keep);

        // Payloads of commands and events, and which implicit objects they own.
        let mut arg_users: HashMap<&str, usize> = HashMap::new();
        for e in &model.entities {
            if let Entity::Command(c) = e
                && let Some(a) = &c.arg_type
            {
                *arg_users.entry(a).or_default() += 1;
            }
            if let Entity::Event(ev) = e
                && let Some(a) = &ev.arg_type
            {
                *arg_users.entry(a).or_default() += 1;
            }
        }
        let ownable = |arg: &str| -> bool {
            let Some(Entity::Object(o)) = model.get(arg) else {
                return false;
            };
            let implicit =
                o.common.implicit || (model.origin == Origin::Introspection && is_masked(arg));
            implicit && o.variants.is_none() && arg_users.get(arg) == Some(&1)
        };

        let mut namer = Namer::with_reserved(RESERVED_TYPES);
        // Named types first, in definition order: they keep their names.
        let mut masked = Vec::new();
        for e in &model.entities {
            let Some(c) = e.common() else { continue };
            if !plan.kept.contains(&c.name) {
                continue;
            }
            let emitted = match e {
                Entity::Enum(_) | Entity::Alternate(_) => true,
                Entity::Object(_) => !plan.carriers.contains(&c.name) && !ownable(&c.name),
                _ => false,
            };
            if !emitted {
                continue;
            }
            if model.origin == Origin::Introspection && is_masked(&c.name) {
                masked.push(c.name.clone());
                continue;
            }
            let mut base = names::camel(&c.name);
            if RESERVED_TYPES.contains(&base.as_str()) {
                // `String`, `Event`, ...: names the generated code needs.
                base.insert_str(0, "Qapi");
            }
            let n = namer.unique(&base);
            plan.types.insert(c.name.clone(), n);
        }
        // Commands, then events.
        for c in model.commands() {
            if !plan.kept.contains(&c.common.name) {
                continue;
            }
            let mut base = names::camel(&c.common.name);
            // The argument type of the same name is the command itself.
            if let Some(a) = &c.arg_type
                && !ownable(a)
                && plan.types.get(a) == Some(&base)
                && !plan.arg_commands.contains_key(a)
                && matches!(model.get(a), Some(Entity::Object(o)) if o.variants.is_none())
            {
                plan.arg_commands.insert(a.clone(), c.common.name.clone());
                plan.commands.insert(c.common.name.clone(), base);
                plan.payloads
                    .insert(c.common.name.clone(), Payload::Named(a.clone()));
                continue;
            }
            if namer.is_taken(&base) {
                base.push_str("Command");
            }
            let n = namer.unique(&base);
            plan.commands.insert(c.common.name.clone(), n.clone());
            let payload = match &c.arg_type {
                None => Payload::None,
                Some(a) if ownable(a) && !c.boxed => {
                    plan.owned_args.insert(a.clone());
                    plan.types.insert(a.clone(), n);
                    Payload::Inline(a.clone())
                }
                Some(a) => Payload::Named(a.clone()),
            };
            plan.payloads.insert(c.common.name.clone(), payload);
        }
        let mut variants = Namer::with_reserved(&["Unknown"]);
        for ev in model.events() {
            if !plan.kept.contains(&ev.common.name) {
                continue;
            }
            let camel = names::camel(&ev.common.name);
            let n = namer.unique(&format!("{camel}Event"));
            let variant = variants.unique(&camel);
            plan.events
                .insert(ev.common.name.clone(), (n.clone(), variant));
            let payload = match &ev.arg_type {
                None => Payload::None,
                Some(a) if ownable(a) && !ev.boxed => {
                    plan.owned_args.insert(a.clone());
                    plan.types.insert(a.clone(), n);
                    Payload::Inline(a.clone())
                }
                Some(a) => Payload::Named(a.clone()),
            };
            plan.payloads.insert(ev.common.name.clone(), payload);
        }
        // Masked types (introspection): names derived from their first use.
        if !masked.is_empty() {
            plan.name_masked(model, &masked, &mut namer);
        }
        plan.find_cycles(model);
        plan.index_uses(model);
        plan.find_inputs(model);
        plan
    }

    /// Fills [`inputs`](Self::inputs): everything reachable from a
    /// command's arguments.
    fn find_inputs(&mut self, model: &Model) {
        let mut todo: Vec<String> = model
            .commands()
            .filter(|c| self.kept.contains(&c.common.name))
            .filter_map(|c| c.arg_type.clone())
            .collect();
        while let Some(t) = todo.pop() {
            if self.inputs.insert(t.clone()) {
                todo.extend(refs(model, &t));
                if let Some(w) = self.carriers.wrapped(&t) {
                    todo.push(w.to_owned());
                }
            }
        }
    }

    /// Fills [`used_by`](Self::used_by): arrays count as their element.
    fn index_uses(&mut self, model: &Model) {
        let element = |t: &str| -> String {
            let mut t = t;
            while let Some(Entity::Array(a)) = model.get(t) {
                t = &a.element;
            }
            self.carriers.wrapped(t).unwrap_or(t).to_owned()
        };
        let mut add = |t: &str, u: Use| {
            let list = self.used_by.entry(element(t)).or_default();
            if !list.contains(&u) {
                list.push(u);
            }
        };
        for e in &model.entities {
            let Some(c) = e.common() else { continue };
            if !self.kept.contains(&c.name) {
                continue;
            }
            match e {
                Entity::Command(cmd) => {
                    if let Some(r) = &cmd.ret_type {
                        add(r, Use::Returns(c.name.clone()));
                    }
                    if let Some(a) = &cmd.arg_type {
                        add(a, Use::Arguments(c.name.clone()));
                    }
                }
                Entity::Event(ev) => {
                    if let Some(a) = &ev.arg_type {
                        add(a, Use::Data(c.name.clone()));
                    }
                }
                Entity::Object(o) => {
                    for m in &o.members {
                        add(&m.ty, Use::Member(c.name.clone(), m.name.clone()));
                    }
                    for v in o.variants.iter().flat_map(|v| &v.variants) {
                        add(&v.ty, Use::Branch(c.name.clone(), v.name.clone()));
                    }
                }
                Entity::Alternate(a) => {
                    for v in &a.variants.variants {
                        add(&v.ty, Use::Branch(c.name.clone(), v.name.clone()));
                    }
                }
                _ => {}
            }
        }
    }

    fn select(&mut self, model: &Model, keep: Option<KeepFn<'_>>) {
        let mut todo: Vec<String> = Vec::new();
        for e in &model.entities {
            let Some(c) = e.common() else { continue };
            let module = model.module(c.module).name.as_str();
            if keep.is_none_or(|k| k(e, module)) {
                todo.push(c.name.clone());
            }
        }
        while let Some(n) = todo.pop() {
            if self.kept.insert(n.clone()) {
                for r in refs(model, &n) {
                    if !self.kept.contains(&r) {
                        todo.push(r);
                    }
                }
                if let Some(w) = self.carriers.wrapped(&n) {
                    todo.push(w.to_owned());
                }
            }
        }
    }

    /// Names masked types from the path they are first reached by:
    /// `<Command>Return`, `<Owner><Member>`, `<Owner><Branch>`, array
    /// elements as their array's use.
    fn name_masked(&mut self, model: &Model, masked: &[String], namer: &mut Namer) {
        let wanted: HashSet<&str> = masked.iter().map(String::as_str).collect();
        let mut queue: std::collections::VecDeque<(String, String)> = Default::default();
        for c in model.commands() {
            if let Some(n) = self.commands.get(&c.common.name) {
                if let Some(a) = &c.arg_type {
                    queue.push_back((a.clone(), format!("{n}Arguments")));
                }
                if let Some(r) = &c.ret_type {
                    queue.push_back((r.clone(), format!("{n}Return")));
                }
            }
        }
        for ev in model.events() {
            if let Some((n, _)) = self.events.get(&ev.common.name)
                && let Some(a) = &ev.arg_type
            {
                queue.push_back((a.clone(), format!("{n}Data")));
            }
        }
        // Each type's members are walked once: with names recovered (see
        // `qmp_schema::recover`), named types may be recursive.
        let mut walked: HashSet<String> = HashSet::new();
        while let Some((ty, hint)) = queue.pop_front() {
            if let Some(Entity::Array(a)) = model.get(&ty) {
                queue.push_front((a.element.clone(), hint));
                continue;
            }
            if !wanted.contains(ty.as_str()) && walked.contains(&ty) {
                continue;
            }
            let owner = if wanted.contains(ty.as_str()) {
                if self.types.contains_key(&ty) {
                    continue;
                }
                let n = namer.unique(&hint);
                self.types.insert(ty.clone(), n.clone());
                n
            } else if self.types.contains_key(&ty) && !self.owned_args.contains(&ty) {
                // Named types already have names; their masked members are
                // reached from them.
                self.types[&ty].clone()
            } else if let Some(n) = self.types.get(&ty) {
                n.clone()
            } else {
                continue;
            };
            if !walked.insert(ty.clone()) {
                continue;
            }
            match model.get(&ty) {
                Some(Entity::Object(o)) => {
                    for m in &o.members {
                        queue
                            .push_back((m.ty.clone(), format!("{owner}{}", names::camel(&m.name))));
                    }
                    if let Some(vs) = &o.variants {
                        for v in &vs.variants {
                            queue.push_back((
                                v.ty.clone(),
                                format!("{owner}{}", names::camel(&v.name)),
                            ));
                        }
                    }
                }
                Some(Entity::Alternate(a)) => {
                    for v in &a.variants.variants {
                        queue
                            .push_back((v.ty.clone(), format!("{owner}{}", names::camel(&v.name))));
                    }
                }
                _ => {}
            }
        }
        // Anything unreachable (should not happen) still gets a name.
        for m in masked {
            if !self.types.contains_key(m) {
                let n = namer.unique(&format!("Type{}", names::camel(m)));
                self.types.insert(m.clone(), n);
            }
        }
    }

    /// Marks containment edges inside strongly connected components (Tarjan)
    /// so those members are boxed.
    fn find_cycles(&mut self, model: &Model) {
        let nodes: Vec<&String> = {
            let mut v: Vec<&String> = self.types.keys().collect();
            v.sort();
            v
        };
        let index_of: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let edges: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                inline_refs(model, &self.carriers, n)
                    .iter()
                    .filter_map(|t| index_of.get(t.as_str()).copied())
                    .collect()
            })
            .collect();
        let comp = tarjan(&edges);
        for (i, out) in edges.iter().enumerate() {
            for &j in out {
                if comp[i] == comp[j] {
                    self.boxed.insert((nodes[i].clone(), nodes[j].clone()));
                }
            }
        }
    }

    /// Whether a command's type is its argument type itself (see
    /// [`arg_commands`](Self::arg_commands)).
    pub fn is_arg_command(&self, command: &str) -> bool {
        match self.payloads.get(command) {
            Some(Payload::Named(a)) => self.arg_commands.get(a).is_some_and(|c| c == command),
            _ => false,
        }
    }

    /// Whether a member of type `ty` inside `container` needs a `Box`.
    pub fn needs_box(&self, container: &str, ty: &str) -> bool {
        let ty = self.carriers.wrapped(ty).unwrap_or(ty);
        self.boxed.contains(&(container.to_owned(), ty.to_owned()))
    }
}

/// Whether an introspection type name is masked (a number).
pub fn is_masked(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

fn tarjan(edges: &[Vec<usize>]) -> Vec<usize> {
    struct St<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        comp: Vec<usize>,
        next: usize,
        ncomp: usize,
    }
    fn visit(s: &mut St<'_>, v: usize) {
        // Iterative DFS to avoid deep recursion on big schemas.
        let mut call: Vec<(usize, usize)> = vec![(v, 0)];
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        while let Some(&mut (u, ref mut ei)) = call.last_mut() {
            if *ei < s.edges[u].len() {
                let w = s.edges[u][*ei];
                *ei += 1;
                match s.index[w] {
                    None => {
                        s.index[w] = Some(s.next);
                        s.low[w] = s.next;
                        s.next += 1;
                        s.stack.push(w);
                        s.on[w] = true;
                        call.push((w, 0));
                    }
                    Some(iw) if s.on[w] => s.low[u] = s.low[u].min(iw),
                    Some(_) => {}
                }
            } else {
                call.pop();
                if let Some(&(p, _)) = call.last() {
                    s.low[p] = s.low[p].min(s.low[u]);
                }
                if Some(s.low[u]) == s.index[u] {
                    while let Some(w) = s.stack.pop() {
                        s.on[w] = false;
                        s.comp[w] = s.ncomp;
                        if w == u {
                            break;
                        }
                    }
                    s.ncomp += 1;
                }
            }
        }
    }
    let n = edges.len();
    let mut s = St {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        comp: vec![0; n],
        next: 0,
        ncomp: 0,
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.comp
}
