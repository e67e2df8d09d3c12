//! The checked, resolved schema model.
//!
//! Both readers produce a [`Model`]: the QAPI source reader (with docs,
//! spans into `.json` files and exact conditions) and the `query-qmp-schema`
//! reader (masked type names, spans into the reply). Its shape follows
//! QEMU's `QAPISchema` closely, so that the same facts QEMU's own test
//! output prints (`tests/qapi-schema/*.out`) can be printed from it:
//!
//! * entities are kept per module in definition order, including implicit
//!   types (command argument objects `q_obj_<cmd>-arg`, array types
//!   `<T>List`, union base objects, simple-union wrapper objects and kind
//!   enums) and the built-in types of module `./builtin`;
//! * every type reference is a name that resolves with [`Model::get`];
//! * object types list their local members and, after checking, all members
//!   including those inherited from the base.

use std::collections::HashMap;

use crate::ast::Doc;
use crate::source::{SourceMap, Span};

/// Index of an entity in [`Model::entities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EntityId(pub u32);

/// Index of a module in [`Model::modules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModuleId(pub u32);

/// A resolved QAPI schema.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The files read (for the introspection reader: the one JSON file).
    pub sources: SourceMap,
    /// Modules in the order QEMU visits them: `./builtin` first, then the
    /// main file and included files in order of first inclusion.
    pub modules: Vec<Module>,
    /// All entities, in definition order.
    pub entities: Vec<Entity>,
    /// Pragmas in effect.
    pub pragma: Pragma,
    /// Where the model came from.
    pub origin: Origin,
    /// Name → entity, for definitions (not for includes).
    pub index: HashMap<String, EntityId>,
    /// Every doc comment block in reading order: free-form blocks, and
    /// references to the definitions whose [`Common::doc`] holds their
    /// block (see [`Model::doc_blocks`]). After checking, undocumented
    /// members of definitions listed in the `documentation-exceptions`
    /// pragma have empty member sections, as QEMU adds them. Empty for the
    /// introspection reader.
    pub docs: Vec<DocBlock>,
    /// For a model that spans several QEMU releases ([`crate::span::span`]):
    /// what differs between them. `None` for a model of one release.
    pub spanned: Option<Box<crate::span::Releases>>,
}

/// A doc comment block of [`Model::docs`].
#[derive(Debug, Clone, PartialEq)]
pub enum DocBlock {
    /// A free-form block (not attached to a definition), such as a heading.
    Free(Doc),
    /// The block of a definition, kept in its [`Common::doc`].
    Definition(EntityId),
}

/// Where a model was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Origin {
    /// QAPI schema source files.
    #[default]
    Source,
    /// A `query-qmp-schema` reply: type names are masked, there are no docs,
    /// no conditions (already evaluated) and no implicit-type names.
    Introspection,
}

/// A module: one schema source file (or `./builtin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The module name as QEMU prints it: `./builtin`, or the file path
    /// relative to the directory of the main schema file.
    pub name: String,
    /// Entities defined in this module, in definition order.
    pub entities: Vec<EntityId>,
}

/// `pragma` settings (QEMU's `QAPISchemaPragma`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Pragma {
    /// `doc-required`: definitions must have doc comments.
    pub doc_required: bool,
    /// `command-name-exceptions`: commands whose names may use `_`.
    pub command_name_exceptions: Vec<String>,
    /// `command-returns-exceptions` (formerly `returns-whitelist`):
    /// commands that may return a non-object.
    pub command_returns_exceptions: Vec<String>,
    /// `documentation-exceptions`: definitions whose members may lack docs.
    pub documentation_exceptions: Vec<String>,
    /// `member-name-exceptions` (formerly `name-case-whitelist`): types whose
    /// member names may use uppercase or `_`.
    pub member_name_exceptions: Vec<String>,
}

/// A condition from an `if` key: a config symbol, or `all` / `any` / `not`
/// of conditions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum IfCond {
    /// A configuration symbol such as `CONFIG_KVM`.
    Name(String),
    /// True when all are true.
    All(Vec<IfCond>),
    /// True when any is true.
    Any(Vec<IfCond>),
    /// True when the inner condition is false.
    Not(Box<IfCond>),
}

/// A feature flag on a definition or member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// The feature name, e.g. `deprecated`, `unstable`.
    pub name: String,
    /// Where it is declared.
    pub span: Option<Span>,
    /// Its condition.
    pub cond: Option<IfCond>,
}

impl Feature {
    /// Whether this is the special `deprecated` feature.
    pub fn is_deprecated(&self) -> bool {
        self.name == "deprecated"
    }

    /// Whether this is the special `unstable` feature.
    pub fn is_unstable(&self) -> bool {
        self.name == "unstable"
    }
}

/// What every definition has.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    /// The definition's name (for the introspection reader, the masked name
    /// of a type, or the real name of a command or event).
    pub name: String,
    /// Where it is defined; `None` for built-in types.
    pub span: Option<Span>,
    /// The module it belongs to.
    pub module: ModuleId,
    /// Its condition.
    pub cond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its doc comment block (source reader only). Implicit types have none.
    pub doc: Option<Doc>,
    /// The release it appeared in, from the doc block's `Since:` section.
    pub since: Option<String>,
    /// Whether this is an implicitly defined type (argument objects, array
    /// types, union bases, simple-union wrappers and kind enums).
    pub implicit: bool,
}

impl Common {
    /// Whether the definition carries the `deprecated` feature.
    pub fn is_deprecated(&self) -> bool {
        self.features.iter().any(Feature::is_deprecated)
    }

    /// Whether the definition carries the `unstable` feature.
    pub fn is_unstable(&self) -> bool {
        self.features.iter().any(Feature::is_unstable)
    }
}

/// An entity of the schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    /// `include` of another module (source reader only).
    Include(Include),
    /// A built-in type (`str`, `int`, ..., `any`, `null`, `QType`'s members).
    Builtin(Builtin),
    /// An enumeration.
    Enum(Enum),
    /// An array type `[T]`, named `<T>List`.
    Array(Array),
    /// A struct or (flat or legacy simple) union.
    Object(Object),
    /// An alternate.
    Alternate(Alternate),
    /// A command.
    Command(Command),
    /// An event.
    Event(Event),
}

impl Entity {
    /// The definition data, for everything but includes.
    pub fn common(&self) -> Option<&Common> {
        match self {
            Entity::Include(_) => None,
            Entity::Builtin(b) => Some(&b.common),
            Entity::Enum(e) => Some(&e.common),
            Entity::Array(a) => Some(&a.common),
            Entity::Object(o) => Some(&o.common),
            Entity::Alternate(a) => Some(&a.common),
            Entity::Command(c) => Some(&c.common),
            Entity::Event(e) => Some(&e.common),
        }
    }

    /// The name, for everything but includes.
    pub fn name(&self) -> Option<&str> {
        self.common().map(|c| c.name.as_str())
    }

    /// Whether this entity is a type (can be named as a member type).
    pub fn is_type(&self) -> bool {
        matches!(
            self,
            Entity::Builtin(_)
                | Entity::Enum(_)
                | Entity::Array(_)
                | Entity::Object(_)
                | Entity::Alternate(_)
        )
    }

    /// The JSON type values of this type have on the wire, if it is a type.
    pub fn json_type(&self) -> Option<JsonType> {
        match self {
            Entity::Builtin(b) => Some(b.json_type),
            Entity::Enum(_) => Some(JsonType::String),
            Entity::Array(_) => Some(JsonType::Array),
            Entity::Object(_) => Some(JsonType::Object),
            Entity::Alternate(_) => Some(JsonType::Value),
            _ => None,
        }
    }
}

/// An `include` directive.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// The included module.
    pub module: ModuleId,
    /// The module that includes it.
    pub in_module: ModuleId,
    /// Where the directive is.
    pub span: Option<Span>,
}

/// JSON types of values on the wire (introspection's `json-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum JsonType {
    /// A JSON string.
    String,
    /// A JSON number that is an integer.
    Int,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// Any JSON value (`any`, alternates).
    Value,
}

/// A built-in type.
#[derive(Debug, Clone, PartialEq)]
pub struct Builtin {
    /// Name (`str`, `int`, `int8`...`uint64`, `size`, `number`, `bool`,
    /// `null`, `any`), module `./builtin`.
    pub common: Common,
    /// Its JSON type.
    pub json_type: JsonType,
    /// For integer types: the range of values (`size` and `uint64` are
    /// `0..=u64::MAX`, `int` is the `i64` range).
    pub int_range: Option<(i128, i128)>,
}

/// An enumeration type.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Name, condition, features, docs.
    pub common: Common,
    /// Values in order.
    pub members: Vec<EnumMember>,
    /// The `prefix` key (a C naming hint, kept as a fact).
    pub prefix: Option<String>,
}

/// An enumeration value.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumMember {
    /// The wire name.
    pub name: String,
    /// Where it is declared.
    pub span: Option<Span>,
    /// Its condition.
    pub cond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Feature>,
}

/// An array type.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Name `<Element>List` (introspection: the masked `[elem]` name).
    pub common: Common,
    /// The element type's name.
    pub element: String,
}

/// A struct or union.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Name, condition, features, docs.
    pub common: Common,
    /// The base type's name, if any (for a flat union with an inline base,
    /// the implicit `q_obj_<Union>-base` object).
    pub base: Option<String>,
    /// Members declared by this type itself, in order.
    pub local_members: Vec<Member>,
    /// All members: the base's (recursively) followed by the local ones.
    pub members: Vec<Member>,
    /// For unions: the discriminator and branches.
    pub variants: Option<Variants>,
    /// Whether this object was written as a legacy simple union (QEMU ≤ 6.0:
    /// `'union'` without `'base'`/`'discriminator'`). It is modelled as QEMU
    /// did: a flat union over an implicit `<Name>Kind` enum whose branches
    /// are implicit `q_obj_<T>-wrapper` objects with a single member `data`,
    /// which gives exactly the wire form `{"type": ..., "data": ...}`.
    pub simple_union: bool,
}

/// A member of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The wire name.
    pub name: String,
    /// The type's name.
    pub ty: String,
    /// Whether the member may be absent (`*name` in the source).
    pub optional: bool,
    /// Where it is declared.
    pub span: Option<Span>,
    /// Its condition.
    pub cond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// The object that declares it (differs from the containing object for
    /// inherited members).
    pub defined_in: String,
    /// Its documentation text (`@name:` section), if any.
    pub doc: Option<String>,
}

/// The branches of a union or an alternate.
#[derive(Debug, Clone, PartialEq)]
pub struct Variants {
    /// The discriminator member's name (for alternates, `type`, which is
    /// implicit).
    pub tag: String,
    /// The branches, in order.
    pub variants: Vec<Variant>,
}

/// A branch of a union (named after a discriminator enum value) or of an
/// alternate (named freely).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The discriminator value or alternate branch name.
    pub name: String,
    /// The branch's type (`q_empty` for union values without a branch).
    pub ty: String,
    /// Where it is declared.
    pub span: Option<Span>,
    /// Its condition.
    pub cond: Option<IfCond>,
}

/// An alternate: a value that may be one of several JSON types.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternate {
    /// Name, condition, features, docs.
    pub common: Common,
    /// The branches (tag `type`).
    pub variants: Variants,
}

/// A command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Name, condition, features, docs.
    pub common: Common,
    /// The argument type: an object (usually the implicit `q_obj_<cmd>-arg`),
    /// or with `boxed`, any object/union/alternate. `None` for no arguments.
    pub arg_type: Option<String>,
    /// The return type, `None` if the command declares no `returns`.
    pub ret_type: Option<String>,
    /// `gen`: false when QEMU hand-writes the marshaller (named `generate`
    /// here because `gen` is reserved in Rust 2024).
    pub generate: bool,
    /// `success-response`: false when no reply is sent on success.
    pub success_response: bool,
    /// `boxed`: arguments are passed as one value.
    pub boxed: bool,
    /// `allow-oob`: may be run with `exec-oob`.
    pub allow_oob: bool,
    /// `allow-preconfig`: may run before machine initialisation.
    pub allow_preconfig: bool,
    /// `coroutine`: runs in a coroutine.
    pub coroutine: bool,
}

/// An event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Name, condition, features, docs.
    pub common: Common,
    /// The data type, `None` when the event carries no data.
    pub arg_type: Option<String>,
    /// `boxed`.
    pub boxed: bool,
}

impl Model {
    /// The entity with this id.
    pub fn entity(&self, id: EntityId) -> &Entity {
        &self.entities[id.0 as usize]
    }

    /// Looks up a definition by name.
    pub fn get(&self, name: &str) -> Option<&Entity> {
        self.index.get(name).map(|id| self.entity(*id))
    }

    /// Looks up an object type by name.
    pub fn object(&self, name: &str) -> Option<&Object> {
        match self.get(name)? {
            Entity::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Looks up an enum type by name.
    pub fn enum_type(&self, name: &str) -> Option<&Enum> {
        match self.get(name)? {
            Entity::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// All commands, in definition order.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.entities.iter().filter_map(|e| match e {
            Entity::Command(c) => Some(c),
            _ => None,
        })
    }

    /// All events, in definition order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.entities.iter().filter_map(|e| match e {
            Entity::Event(ev) => Some(ev),
            _ => None,
        })
    }

    /// The module with this id.
    pub fn module(&self, id: ModuleId) -> &Module {
        &self.modules[id.0 as usize]
    }

    /// Adds an entity to the model (and to its module and the name index).
    /// Readers use this while building a model.
    pub fn push(&mut self, entity: Entity) -> EntityId {
        let id = EntityId(self.entities.len() as u32);
        if let Some(c) = entity.common() {
            self.index.insert(c.name.clone(), id);
            self.modules[c.module.0 as usize].entities.push(id);
        } else if let Entity::Include(inc) = &entity {
            self.modules[inc.in_module.0 as usize].entities.push(id);
        }
        self.entities.push(entity);
        id
    }

    /// Every doc comment block in reading order (free-form and definition
    /// blocks alike).
    pub fn doc_blocks(&self) -> impl Iterator<Item = &Doc> {
        self.docs.iter().filter_map(|b| match b {
            DocBlock::Free(d) => Some(d),
            DocBlock::Definition(id) => self.entity(*id).common()?.doc.as_ref(),
        })
    }

    /// Adds a module and returns its id.
    pub fn add_module(&mut self, name: impl Into<String>) -> ModuleId {
        let id = ModuleId(self.modules.len() as u32);
        self.modules.push(Module {
            name: name.into(),
            entities: Vec::new(),
        });
        id
    }
}
