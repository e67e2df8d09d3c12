//! The bindings model: every Rust item the generator writes, decided once
//! and stored as plain data.
//!
//! Generation has three steps:
//!
//! 1. **naming** (`plan.rs`): which QAPI definitions become items and the
//!    Rust name of each (the one collision rule of the crate docs, "Names");
//! 2. **lowering** (`lower.rs`): QAPI model + plan → [`Bindings`]. Every
//!    decision is taken here: Rust names of fields and variants (with
//!    [`names::unique_snake`](crate::names::unique_snake) /
//!    [`unique_camel`](crate::names::unique_camel) per scope), types
//!    (`Box` for recursion, `Vec`, `Option`), carriers (a union's base, the
//!    `data` wrapper of a legacy simple-union branch, the empty object),
//!    derives, attributes, doc text, feature gates and metadata;
//! 3. **emission** (`emit.rs`): [`Bindings`] → tokens. The emitter only
//!    spells out what this model says; it reads neither the QAPI model nor
//!    the plan.
//!
//! In the style of typify's `TypeSpace` and prost-build's descriptors, the
//! model is plain data with `Debug`; [`Bindings`] writes itself as
//! readable text (its `Display`, pinned by a snapshot test).
//!
//! Names are Rust names as written, except field, method and setter names,
//! which are stored without the `r#` of a keyword (the emitter makes the
//! identifier raw where needed, see [`crate::names::ident`]).

use std::fmt::{self, Write as _};

/// Everything the generated file contains, in output order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bindings {
    /// The runtime path (`use <path> as rt;`).
    pub runtime_path: String,
    /// The JSON Schema document's file name (`include_str!`ed).
    pub schema_file: String,
    /// The definitions, in schema order.
    pub items: Vec<Item>,
    /// The variants of the `Event` enum, in schema order.
    pub events: Vec<EventVariant>,
    /// The variants of `Request`/`Response` and the client methods.
    pub requests: Vec<RequestVariant>,
    /// The rows of the `COMMANDS` table.
    pub command_table: Vec<CommandRow>,
    /// The rows of the `EVENTS` table.
    pub event_table: Vec<EventRow>,
}

/// A Rust type, already resolved: the emitter writes it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    /// A path: a primitive (`["u64"]`), a runtime type (`["rt", "Value"]`)
    /// or a generated type (`["BlockInfo"]`).
    Path(Vec<String>),
    /// `Vec<T>` (a QAPI array).
    Vec(Box<TypeRef>),
    /// `Box<T>` (a containment cycle).
    Box(Box<TypeRef>),
    /// `Option<T>` (an optional member).
    Option(Box<TypeRef>),
}

impl TypeRef {
    /// A one-segment path.
    pub fn named(name: &str) -> Self {
        Self::Path(vec![name.to_owned()])
    }

    /// A runtime type `rt::<name>`.
    pub fn rt(name: &str) -> Self {
        Self::Path(vec!["rt".to_owned(), name.to_owned()])
    }

    /// `Box<self>` when `boxed`.
    pub fn boxed_if(self, boxed: bool) -> Self {
        if boxed {
            Self::Box(Box::new(self))
        } else {
            self
        }
    }

    /// `Option<self>` when `optional`.
    pub fn optional_if(self, optional: bool) -> Self {
        if optional {
            Self::Option(Box::new(self))
        } else {
            self
        }
    }
}

/// The type as Rust writes it without spaces (`Vec<rt::Value>`).
impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.write_str(&p.join("::")),
            Self::Vec(t) => write!(f, "Vec<{t}>"),
            Self::Box(t) => write!(f, "Box<{t}>"),
            Self::Option(t) => write!(f, "Option<{t}>"),
        }
    }
}

/// `rt::impl_meta!` of an item: `SINCE`, `FEATURES`, `CONDITION` (and
/// `NAME` for events).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// The wire name, for events.
    pub name: Option<String>,
    /// `since` of the definition.
    pub since: Option<String>,
    /// Feature names.
    pub features: Vec<String>,
    /// The `if` condition, rendered (`all(A, not(B))`).
    pub condition: Option<String>,
    /// Spanned bindings: the first spanned release without the definition.
    pub removed_by: Option<String>,
}

/// One generated type (and its impls), or a command implemented by a type
/// generated elsewhere.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// The Rust name.
    pub rust_name: String,
    /// The QAPI name it comes from (a command's or event's name for their
    /// own types).
    pub wire_name: String,
    /// What it is.
    pub kind: ItemKind,
    /// The rustdoc text.
    pub docs: String,
    /// `#[derive(..)]`, in order.
    pub derives: Vec<&'static str>,
    /// `#[non_exhaustive]`.
    pub non_exhaustive: bool,
    /// `#[doc(alias = ..)]` wire names.
    pub aliases: Vec<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// The user's attributes (`Builder::type_attribute`), as token text.
    pub attrs: Vec<String>,
    /// `#[cfg(feature = ..)]` of an unstable definition.
    pub cfg: Option<String>,
    /// The metadata consts; `None` when another item carries them.
    pub meta: Option<Meta>,
}

/// The shape of an [`Item`].
#[derive(Debug, Clone)]
pub(crate) enum ItemKind {
    /// A struct with named fields.
    Struct(Struct),
    /// A string enum.
    Enum(Enum),
    /// A flat or legacy simple union.
    Union(Union),
    /// An alternate, decoded by JSON type.
    Alternate(Alternate),
    /// A command: its type (when it has one of its own) and `Command` impl.
    Command {
        /// The command's own type; `None` when its argument type is the
        /// command (the type is an item of its own).
        payload: Option<Payload>,
        /// The `rt::impl_command!` facts.
        command: CommandImpl,
    },
    /// An event's data type.
    Event {
        /// The type.
        payload: Payload,
    },
}

/// The type of a command or event.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// No arguments/data: a unit struct.
    Unit,
    /// A newtype around a named (or boxed) argument type.
    Newtype(TypeRef),
    /// The implicit argument object: a struct of its members.
    Struct(Struct),
}

/// `rt::impl_command!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandImpl {
    /// The command name on the wire.
    pub wire: String,
    /// The reply type.
    pub returns: TypeRef,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `success-response: false`.
    pub no_success_response: bool,
}

/// A struct.
#[derive(Debug, Clone)]
pub(crate) struct Struct {
    /// The members.
    pub fields: Vec<Field>,
    /// An `extra` map of members the schema does not describe (commands
    /// with `gen: false`).
    pub open: bool,
    /// `new(..)` and the setters.
    pub ctor: Ctor,
}

/// `impl Name { fn new(..); fn with_*(..) }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ctor {
    /// The doc of `new`.
    pub new_doc: String,
    /// `#[allow(clippy::too_many_arguments)]` on `new`.
    pub many_args: bool,
    /// `#[allow(deprecated)]` on the impl.
    pub allow_deprecated: bool,
    /// `#[allow(clippy::disallowed_names)]` on the impl.
    pub allow_placeholders: bool,
}

/// A member of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field name (snake case, without `r#`).
    pub rust_name: String,
    /// The member name on the wire.
    pub wire_name: String,
    /// The value type (without `Box` and `Option`).
    pub ty: TypeRef,
    /// Held in a `Box` (a containment cycle).
    pub boxed: bool,
    /// `Option<..>`: absent on the wire when `None`.
    pub optional: bool,
    /// A JSON string: `new` and the setter take `impl Into<String>`.
    pub string: bool,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// `#[cfg(feature = ..)]` of an unstable optional member.
    pub cfg: Option<String>,
    /// The member's feature names.
    pub features: Vec<String>,
    /// Spanned bindings: the first spanned release with the member, when an
    /// older spanned release lacks it. (There is no `removed_by`: members
    /// that only older releases have are not generated, see
    /// `qmp_schema::span`.)
    pub added_by: Option<String>,
    /// The rustdoc text.
    pub docs: String,
    /// `#[doc(alias = ..)]`.
    pub aliases: Vec<String>,
    /// The builder-style setter (optional members of types a client
    /// sends): its name and doc.
    pub setter: Option<(String, String)>,
}

impl Field {
    /// The declared type: `Option<Box<T>>` etc.
    pub fn decl_ty(&self) -> TypeRef {
        self.ty
            .clone()
            .boxed_if(self.boxed)
            .optional_if(self.optional)
    }
}

/// A string enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Enum {
    /// The values.
    pub variants: Vec<EnumVariant>,
    /// The fallback variant holding unknown values (`Unknown`, or
    /// `UnknownValue` when a value is called `unknown`).
    pub fallback: String,
    /// Its doc.
    pub fallback_doc: String,
}

/// A value of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnumVariant {
    /// The variant name.
    pub rust_name: String,
    /// The value on the wire.
    pub wire_name: String,
    /// The rustdoc text.
    pub docs: String,
    /// `#[doc(alias = ..)]`.
    pub aliases: Vec<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// `#[cfg(feature = ..)]` of an unstable value.
    pub cfg: Option<String>,
}

/// A union: a struct of the base members and the discriminator, whose
/// field holds the branch enum.
#[derive(Debug, Clone)]
pub(crate) struct Union {
    /// The base members (without the discriminator).
    pub fields: Vec<Field>,
    /// The constructor.
    pub ctor: Ctor,
    /// The discriminator field name (snake case).
    pub tag_field: String,
    /// The discriminator on the wire.
    pub tag_wire: String,
    /// The discriminator field's doc.
    pub tag_doc: String,
    /// The branch taken when the discriminator is absent (older spanned
    /// releases had this type as a plain struct).
    pub tag_default: Option<String>,
    /// The branch enum's name.
    pub branch_enum: String,
    /// Its doc.
    pub branch_doc: String,
    /// The branches, one per discriminator value.
    pub branches: Vec<UnionBranch>,
}

/// A union branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnionBranch {
    /// The variant name.
    pub rust_name: String,
    /// The discriminator value.
    pub wire_name: String,
    /// The rustdoc text.
    pub docs: String,
    /// `#[doc(alias = ..)]`.
    pub aliases: Vec<String>,
    /// What the branch holds.
    pub data: BranchData,
}

/// What a union branch holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BranchData {
    /// No members (no branch type, or the empty object).
    Empty,
    /// The members of an object type, inline on the wire.
    Members {
        /// The type (not boxed).
        ty: TypeRef,
        /// Held in a `Box`.
        boxed: bool,
    },
    /// A legacy simple union's branch: the `data` member of the wrapper.
    Data {
        /// The declared type (boxed when needed).
        ty: TypeRef,
    },
}

/// An alternate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alternate {
    /// The branches.
    pub branches: Vec<AlternateBranch>,
    /// The decode error's expectation (`one of: string, object`).
    pub expected: String,
}

/// A JSON type an alternate branch is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonKind {
    /// `null`.
    Null,
    /// `true`/`false`.
    Boolean,
    /// An integer.
    Int,
    /// A number.
    Number,
    /// A string.
    String,
    /// An object.
    Object,
    /// An array.
    Array,
    /// Anything (not decodable by JSON type).
    Value,
}

/// An alternate branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AlternateBranch {
    /// The variant name.
    pub rust_name: String,
    /// The rustdoc text.
    pub docs: String,
    /// The value type (not boxed).
    pub ty: TypeRef,
    /// Held in a `Box`.
    pub boxed: bool,
    /// The JSON type that selects it.
    pub json: JsonKind,
}

/// A variant of the `Event` enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventVariant {
    /// The variant name.
    pub rust_name: String,
    /// The data type.
    pub data_type: String,
    /// The rustdoc text.
    pub docs: String,
    /// `#[doc(alias = ..)]`.
    pub aliases: Vec<String>,
    /// `#[cfg(feature = ..)]`.
    pub cfg: Option<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// Whether the event has data.
    pub has_data: bool,
}

/// A command's `Request`/`Response` variants and client methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestVariant {
    /// The command type (and variant name).
    pub rust_name: String,
    /// The `Request` variant's doc.
    pub request_doc: String,
    /// The `Response` variant's doc.
    pub response_doc: String,
    /// `#[doc(alias = ..)]` of both variants.
    pub aliases: Vec<String>,
    /// `#[cfg(feature = ..)]`.
    pub cfg: Option<String>,
    /// `#[deprecated]`.
    pub deprecated: bool,
    /// The reply type.
    pub returns: TypeRef,
    /// Whether the command takes arguments.
    pub has_args: bool,
    /// The client methods.
    pub method: ClientMethod,
}

/// The client methods of one command (async and blocking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientMethod {
    /// The method name (snake case, without `r#`).
    pub name: String,
    /// The rustdoc text.
    pub docs: String,
    /// `#[doc(alias = ..)]`.
    pub aliases: Vec<String>,
    /// `#[allow(deprecated)]`.
    pub allow_deprecated: bool,
    /// The type of the `arguments` parameter, if any.
    pub arguments: Option<TypeRef>,
    /// How the command value is built from the parameters.
    pub build: Build,
}

/// How a client method builds its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Build {
    /// The unit command type itself.
    Unit,
    /// The `arguments` parameter is the command.
    Arguments,
    /// The command type wraps the `arguments` parameter.
    Wrap,
}

/// A row of `COMMANDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandRow {
    /// The wire name.
    pub name: String,
    /// Its metadata.
    pub meta: Meta,
    /// The command type, when it takes arguments.
    pub arguments: Option<String>,
    /// The reply type, when it has one.
    pub returns: Option<String>,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `success-response`.
    pub success_response: bool,
    /// `allow-preconfig`.
    pub allow_preconfig: bool,
}

/// A row of `EVENTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventRow {
    /// The wire name.
    pub name: String,
    /// Its metadata.
    pub meta: Meta,
    /// The data type, when it has data.
    pub data: Option<String>,
}

// --------------------------------------------------------------------------
// The readable rendering.

/// Writes `text` indented, one line each, as a quoted doc block.
fn doc_lines(out: &mut String, indent: &str, text: &str) {
    for l in text.lines() {
        if l.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {l}");
        }
    }
}

fn flags(list: &[(&str, bool)]) -> String {
    list.iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| format!(" {n}"))
        .collect()
}

fn cfg_text(cfg: &Option<String>) -> String {
    cfg.as_ref()
        .map(|f| format!(" cfg(feature = {f:?})"))
        .unwrap_or_default()
}

impl Meta {
    fn render(&self) -> String {
        let mut s = String::from("meta");
        if let Some(n) = &self.name {
            let _ = write!(s, " name={n:?}");
        }
        if let Some(v) = &self.since {
            let _ = write!(s, " since={v:?}");
        }
        if !self.features.is_empty() {
            let _ = write!(s, " features={:?}", self.features);
        }
        if let Some(c) = &self.condition {
            let _ = write!(s, " if={c:?}");
        }
        if let Some(r) = &self.removed_by {
            let _ = write!(s, " removed_by={r:?}");
        }
        s
    }
}

impl Field {
    fn render(&self, out: &mut String, docs: bool) {
        if docs {
            doc_lines(out, "    ", &self.docs);
        }
        let _ = writeln!(
            out,
            "    {}: {} = {:?}{}{}{}{}{}",
            self.rust_name,
            self.decl_ty(),
            self.wire_name,
            flags(&[("string", self.string), ("deprecated", self.deprecated)]),
            cfg_text(&self.cfg),
            if self.aliases.is_empty() {
                String::new()
            } else {
                format!(" alias={:?}", self.aliases)
            },
            self.setter
                .as_ref()
                .map(|(s, _)| format!(" setter={s}"))
                .unwrap_or_default(),
            self.facts(),
        );
    }

    /// Features and span facts, as ` features=[..] added_by=".."`.
    fn facts(&self) -> String {
        let mut s = String::new();
        if !self.features.is_empty() {
            let _ = write!(s, " features={:?}", self.features);
        }
        if let Some(r) = &self.added_by {
            let _ = write!(s, " added_by={r:?}");
        }
        s
    }
}

impl Struct {
    fn render(&self, out: &mut String, docs: bool) {
        for f in &self.fields {
            f.render(out, docs);
        }
        if self.open {
            out.push_str("    ..extra\n");
        }
        self.ctor.render(out);
    }
}

impl Ctor {
    fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "    new{}",
            flags(&[
                ("many_args", self.many_args),
                ("allow_deprecated", self.allow_deprecated),
                ("allow_placeholders", self.allow_placeholders),
            ])
        );
    }
}

impl Payload {
    fn render(&self, out: &mut String, docs: bool) {
        match self {
            Payload::Unit => out.push_str("  unit\n"),
            Payload::Newtype(t) => {
                let _ = writeln!(out, "  newtype({t})");
            }
            Payload::Struct(s) => {
                out.push_str("  struct\n");
                s.render(out, docs);
            }
        }
    }
}

/// The model as readable text: one block per item, then the `Event` and
/// `Request` enums and the tables; `{:#}` leaves out the doc text.
impl fmt::Display for Bindings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(!f.alternate()))
    }
}

impl Bindings {
    /// See the `Display` impl.
    fn render(&self, docs: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "use {} as rt; // schema {}",
            self.runtime_path, self.schema_file
        );
        for item in &self.items {
            out.push('\n');
            item.render(&mut out, docs);
        }
        out.push_str("\nenum Event\n");
        for e in &self.events {
            let _ = writeln!(
                out,
                "  {}({}){}{}{}",
                e.rust_name,
                e.data_type,
                flags(&[("no_data", !e.has_data), ("deprecated", e.deprecated)]),
                cfg_text(&e.cfg),
                if e.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" alias={:?}", e.aliases)
                },
            );
        }
        out.push_str("\nenum Request / Response / client methods\n");
        for r in &self.requests {
            let _ = writeln!(
                out,
                "  {}{} -> {}{}{}",
                r.rust_name,
                flags(&[("no_args", !r.has_args), ("deprecated", r.deprecated)]),
                r.returns,
                cfg_text(&r.cfg),
                if r.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" alias={:?}", r.aliases)
                },
            );
            let m = &r.method;
            let _ = writeln!(
                out,
                "    fn {}({}) build={:?}{}",
                m.name,
                m.arguments
                    .as_ref()
                    .map(|t| format!("arguments: {t}"))
                    .unwrap_or_default(),
                m.build,
                flags(&[("allow_deprecated", m.allow_deprecated)]),
            );
        }
        out.push_str("\nCOMMANDS\n");
        for c in &self.command_table {
            let _ = writeln!(
                out,
                "  {:?} args={:?} returns={:?}{} {}",
                c.name,
                c.arguments,
                c.returns,
                flags(&[
                    ("allow_oob", c.allow_oob),
                    ("no_success_response", !c.success_response),
                    ("allow_preconfig", c.allow_preconfig),
                ]),
                c.meta.render(),
            );
        }
        out.push_str("\nEVENTS\n");
        for e in &self.event_table {
            let _ = writeln!(out, "  {:?} data={:?} {}", e.name, e.data, e.meta.render());
        }
        out
    }
}

impl Item {
    fn render(&self, out: &mut String, docs: bool) {
        if docs {
            doc_lines(out, "", &self.docs);
        }
        let kind = match &self.kind {
            ItemKind::Struct(_) => "struct",
            ItemKind::Enum(_) => "enum",
            ItemKind::Union(_) => "union",
            ItemKind::Alternate(_) => "alternate",
            ItemKind::Command { .. } => "command",
            ItemKind::Event { .. } => "event",
        };
        let _ = writeln!(
            out,
            "{kind} {} (from {:?}){}{}",
            self.rust_name,
            self.wire_name,
            flags(&[
                ("non_exhaustive", self.non_exhaustive),
                ("deprecated", self.deprecated)
            ]),
            cfg_text(&self.cfg),
        );
        if !self.derives.is_empty() {
            let _ = writeln!(out, "  derive({})", self.derives.join(", "));
        }
        if !self.aliases.is_empty() {
            let _ = writeln!(out, "  alias {:?}", self.aliases);
        }
        for a in &self.attrs {
            let _ = writeln!(out, "  attr {a}");
        }
        if let Some(m) = &self.meta {
            let _ = writeln!(out, "  {}", m.render());
        }
        match &self.kind {
            ItemKind::Struct(s) => s.render(out, docs),
            ItemKind::Enum(e) => {
                for v in &e.variants {
                    if docs {
                        doc_lines(out, "    ", &v.docs);
                    }
                    let _ = writeln!(
                        out,
                        "    {} = {:?}{}{}",
                        v.rust_name,
                        v.wire_name,
                        flags(&[("deprecated", v.deprecated)]),
                        cfg_text(&v.cfg),
                    );
                }
                let _ = writeln!(out, "    {}(String)", e.fallback);
            }
            ItemKind::Union(u) => {
                for f in &u.fields {
                    f.render(out, docs);
                }
                if docs {
                    doc_lines(out, "    ", &u.tag_doc);
                }
                let _ = writeln!(
                    out,
                    "    {}: {} = {:?} (discriminator{})",
                    u.tag_field,
                    u.branch_enum,
                    u.tag_wire,
                    u.tag_default
                        .as_ref()
                        .map(|d| format!(", default {d:?}"))
                        .unwrap_or_default()
                );
                u.ctor.render(out);
                let _ = writeln!(out, "  enum {}", u.branch_enum);
                for b in &u.branches {
                    if docs {
                        doc_lines(out, "    ", &b.docs);
                    }
                    let data = match &b.data {
                        BranchData::Empty => String::new(),
                        BranchData::Members { ty, boxed } => {
                            format!("({}) members", ty.clone().boxed_if(*boxed))
                        }
                        BranchData::Data { ty } => format!("({ty}) data"),
                    };
                    let _ = writeln!(out, "    {}{data} = {:?}", b.rust_name, b.wire_name);
                }
                out.push_str("    Unknown { value, members }\n");
            }
            ItemKind::Alternate(a) => {
                for b in &a.branches {
                    if docs {
                        doc_lines(out, "    ", &b.docs);
                    }
                    let _ = writeln!(
                        out,
                        "    {}({}) by {:?}",
                        b.rust_name,
                        b.ty.clone().boxed_if(b.boxed),
                        b.json
                    );
                }
            }
            ItemKind::Command { payload, command } => {
                match payload {
                    Some(p) => p.render(out, docs),
                    None => out.push_str("  (the argument type is the command)\n"),
                }
                let _ = writeln!(
                    out,
                    "  impl Command = {:?} -> {}{}",
                    command.wire,
                    command.returns,
                    flags(&[
                        ("allow_oob", command.allow_oob),
                        ("no_success_response", command.no_success_response)
                    ])
                );
            }
            ItemKind::Event { payload } => payload.render(out, docs),
        }
    }
}
