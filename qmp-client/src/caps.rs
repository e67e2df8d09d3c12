//! Live capabilities: what the QEMU at the other end of a connection
//! supports, answered from its own `query-qmp-schema` reply.
//!
//! The bindings in `qmp-types` describe one schema (by default the embedded
//! one); the QEMU you talk to may be older, newer or built without some
//! parts. [`Capabilities`] is built from the *raw* introspection reply
//! (plus `query-version`), so its answers are exactly what that QEMU says,
//! independent of the bindings:
//!
//! ```no_run
//! # async fn demo(qmp: qmp_client::Qmp) -> Result<(), qmp_client::Error> {
//! let caps = qmp.capabilities().await?; // fetched once, cached per connection
//! if caps.supports::<qmp_types::BlockdevAdd>() { /* ... */ }
//! caps.has_event(qmp_types::StopEvent::NAME);
//! caps.has_argument("screendump", "format");
//! caps.has_return_member("query-machines", "acpi");
//! caps.has_path("blockdev-add/arg-type/driver/^io_uring");
//! let batch = caps.has_path("blockdev-add/arg-type/+file/aio-max-batch");
//! println!("QEMU {}: aio-max-batch {batch}", caps.version_string());
//! # Ok(()) }
//! ```
//!
//! Type names in an introspection reply are masked (`"123"`), so questions
//! about types are asked through a command or event (`has_argument`,
//! `has_return_member`, `has_event_member`) or a [path](Capabilities::path),
//! or by the masked name (`has_member`, `has_enum_value`).
//!
//! With [`Builder::check_capabilities`](crate::Builder::check_capabilities)
//! a connection refuses, before sending, a call that uses what the live
//! QEMU lacks — the command, an argument member, or an enum value inside
//! the arguments — with [`Error::Unsupported`](crate::Error::Unsupported).
//! The schema is fetched on the first checked call; later calls cost one
//! walk over their serialized arguments and no round trip.
//!
//! # Paths
//!
//! [`Capabilities::path`] implements libvirt's query-path syntax
//! (`virQEMUQAPISchemaPathGet`): components separated by `/`, starting
//! with the name of a schema entry (a command or event; any entry name
//! works). Each further component moves through the schema:
//!
//! | component | at | means |
//! |---|---|---|
//! | `arg-type`, `ret-type` (any string member of the entry) | command, event | go to the type it names |
//! | `name` | object | go to the type of member `name` |
//! | `*name` | object | same, but only if the member is optional |
//! | `+case` | object (union) | go to the variant type of case `case` |
//! | `^value` | enum | true if the enum has `value` (terminal, except `^value/$feature`) |
//! | `!json-type` | builtin | true if its JSON type is `json-type` (`string`, `int`, `number`, `boolean`, `null`, `value`) (terminal) |
//! | `$feature` | object, command, event, enum value | true if it has the feature (terminal) |
//!
//! Arrays are entered transparently (the path continues at the element
//! type); at an alternate, each branch is tried in order and the first
//! that answers decides. A component starting with any other
//! non-alphabetic character has that character dropped (so a member name
//! that starts with a symbol is written with a leading space). A path that
//! ends on a type yields [`PathMatch::Type`] with its schema entry; one
//! that ends on a test that holds yields [`PathMatch::Holds`]; a path that
//! goes nowhere yields `None`. Errors: an empty path, a terminal component
//! with followers, or a schema entry that names an unknown type.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::proto::VersionInfo;

/// Commands a capability check never refuses: the ones needed to fetch
/// the capabilities themselves and the negotiation.
pub(crate) fn exempt(command: &str) -> bool {
    matches!(
        command,
        "query-qmp-schema" | "query-version" | "qmp_capabilities"
    )
}

/// An introspection reply that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The reply is not an array (nor `{"return": [...]}`).
    #[error("the schema reply is not a JSON array")]
    NotArray,
    /// An entry is not an object with string `name` and `meta-type`.
    #[error("schema entry #{index} is not an object with a `name` and a `meta-type`")]
    BadEntry {
        /// Position in the reply.
        index: usize,
    },
}

/// A path query that cannot be answered (see [Paths](self#paths)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The query is empty.
    #[error("empty schema path")]
    Empty,
    /// A terminal component (`^`, `!`, `$`) is followed by more.
    #[error("terminal component `{component}` of `{query}` must not have followers")]
    NotTerminal {
        /// The component.
        component: String,
        /// The whole query.
        query: String,
    },
    /// The schema is malformed where the query went (a type name that
    /// names nothing, an array without element type, ...), or the path
    /// loops.
    #[error("malformed schema when querying `{component}` of `{query}`")]
    BadSchema {
        /// The component being resolved.
        component: String,
        /// The whole query.
        query: String,
    },
}

/// Where a successful [`Capabilities::path`] query ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PathMatch<'a> {
    /// On a type (or command/event): its schema entry.
    Type(&'a Value),
    /// On a test (`^value`, `!json-type`, `$feature`) that holds.
    Holds,
}

/// What a refused call uses that the live QEMU lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lacking {
    /// The command itself.
    Command,
    /// An argument member; `path` is where it is in the arguments
    /// (`.options.aio-max-batch`, `.actions[0].data.bitmap`).
    Member {
        /// JSON path of the member.
        path: String,
    },
    /// An enum value at `path` in the arguments.
    Value {
        /// JSON path of the value.
        path: String,
        /// The value.
        value: String,
    },
}

impl std::fmt::Display for Lacking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lacking::Command => f.write_str("the command"),
            Lacking::Member { path } => write!(f, "argument `{path}`"),
            Lacking::Value { path, value } => write!(f, "value `{value}` of argument `{path}`"),
        }
    }
}

/// What the live QEMU supports, from its `query-qmp-schema` reply (and
/// `query-version`). Cheap to share (`Arc`); answers every question from
/// memory.
#[derive(Debug, Clone)]
pub struct Capabilities {
    entries: HashMap<String, Value>,
    commands: BTreeSet<String>,
    events: BTreeSet<String>,
    version: Option<VersionInfo>,
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn array_of<'a>(v: &'a Value, key: &str) -> Option<&'a Vec<Value>> {
    v.get(key).and_then(Value::as_array)
}

fn has_feature(v: &Value, feature: &str) -> Result<bool, ()> {
    let Some(fs) = array_of(v, "features") else {
        return Ok(false);
    };
    for f in fs {
        match f.as_str() {
            Some(s) if s == feature => return Ok(true),
            Some(_) => {}
            None => return Err(()),
        }
    }
    Ok(false)
}

impl Capabilities {
    /// Builds the view from a `query-qmp-schema` reply: its `return` array,
    /// or the whole `{"return": [...]}` message. `version` is the
    /// `query-version` reply (or the greeting's version), if known.
    pub fn from_reply(reply: Value, version: Option<VersionInfo>) -> Result<Self, SchemaError> {
        let list = match reply {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("return") {
                Some(Value::Array(a)) => a,
                _ => return Err(SchemaError::NotArray),
            },
            _ => return Err(SchemaError::NotArray),
        };
        let mut entries = HashMap::with_capacity(list.len());
        let mut commands = BTreeSet::new();
        let mut events = BTreeSet::new();
        for (index, e) in list.into_iter().enumerate() {
            let (Some(name), Some(meta)) = (str_of(&e, "name"), str_of(&e, "meta-type")) else {
                return Err(SchemaError::BadEntry { index });
            };
            match meta {
                "command" => {
                    commands.insert(name.to_owned());
                }
                "event" => {
                    events.insert(name.to_owned());
                }
                _ => {}
            }
            entries.insert(name.to_owned(), e);
        }
        Ok(Capabilities {
            entries,
            commands,
            events,
            version,
        })
    }

    /// The live QEMU's version (from `query-version`), if known.
    pub fn version(&self) -> Option<&VersionInfo> {
        self.version.as_ref()
    }

    /// The version as `major.minor.micro`, or `of unknown version`.
    pub fn version_string(&self) -> String {
        match &self.version {
            Some(v) => format!("{}.{}.{}", v.qemu.major, v.qemu.minor, v.qemu.micro),
            None => "of unknown version".to_owned(),
        }
    }

    /// The schema entry named `name` (command, event, or a type by its
    /// masked name).
    pub fn entry(&self, name: &str) -> Option<&Value> {
        self.entries.get(name)
    }

    /// Every command the live QEMU has, sorted.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(String::as_str)
    }

    /// Every event the live QEMU has, sorted.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(String::as_str)
    }

    /// Whether the live QEMU has the command `name`.
    pub fn has_command(&self, name: &str) -> bool {
        self.commands.contains(name)
    }

    /// Whether the live QEMU has the command `C` (by its wire name):
    /// `caps.supports::<qmp_types::BlockdevAdd>()`.
    pub fn supports<C: qmp_types::Command>(&self) -> bool {
        self.has_command(C::NAME)
    }

    /// Whether the live QEMU has the event `name` (e.g.
    /// `qmp_types::StopEvent::NAME`).
    pub fn has_event(&self, name: &str) -> bool {
        self.events.contains(name)
    }

    /// The entry of the type a member of an entry names (`arg-type`,
    /// `ret-type`), with arrays replaced by their element type.
    fn type_of(&self, entry: &Value, key: &str) -> Option<&Value> {
        let mut t = self.entries.get(str_of(entry, key)?)?;
        // Arrays nest at most a few levels; the bound guards a cyclic
        // (malformed) reply.
        for _ in 0..16 {
            if str_of(t, "meta-type") != Some("array") {
                return Some(t);
            }
            t = self.entries.get(str_of(t, "element-type")?)?;
        }
        None
    }

    fn object_member<'a>(obj: &'a Value, member: &str) -> Option<&'a Value> {
        if str_of(obj, "meta-type") != Some("object") {
            return None;
        }
        array_of(obj, "members")?
            .iter()
            .find(|m| str_of(m, "name") == Some(member))
    }

    /// Whether command `command` takes an argument `member` (a member of
    /// its argument type, common members of a union included; members of
    /// union branches are reached with [`path`](Self::path) and `+case`).
    pub fn has_argument(&self, command: &str, member: &str) -> bool {
        self.command_entry(command)
            .and_then(|c| self.type_of(c, "arg-type"))
            .and_then(|t| Self::object_member(t, member))
            .is_some()
    }

    /// Whether command `command`'s return type (its element type if it
    /// returns an array) has a member `member`.
    pub fn has_return_member(&self, command: &str, member: &str) -> bool {
        self.command_entry(command)
            .and_then(|c| self.type_of(c, "ret-type"))
            .and_then(|t| Self::object_member(t, member))
            .is_some()
    }

    /// Whether event `event`'s data has a member `member`.
    pub fn has_event_member(&self, event: &str, member: &str) -> bool {
        self.events
            .get(event)
            .and_then(|e| self.entries.get(e))
            .and_then(|e| self.type_of(e, "arg-type"))
            .and_then(|t| Self::object_member(t, member))
            .is_some()
    }

    /// Whether the object type `ty` (its name in this reply, usually
    /// masked: `"123"`) has a member `member`.
    pub fn has_member(&self, ty: &str, member: &str) -> bool {
        self.entries
            .get(ty)
            .and_then(|t| Self::object_member(t, member))
            .is_some()
    }

    /// Whether the union type `ty` has a branch for `case`.
    pub fn has_variant(&self, ty: &str, case: &str) -> bool {
        self.entries
            .get(ty)
            .filter(|t| str_of(t, "meta-type") == Some("object"))
            .and_then(|t| array_of(t, "variants"))
            .is_some_and(|vs| vs.iter().any(|v| str_of(v, "case") == Some(case)))
    }

    /// The values of the enum type `ty` (by its name in this reply), in
    /// schema order; `None` if `ty` is not an enum.
    pub fn enum_values(&self, ty: &str) -> Option<Vec<&str>> {
        let t = self.entries.get(ty)?;
        Self::values_of(t)
    }

    fn values_of(t: &Value) -> Option<Vec<&str>> {
        if str_of(t, "meta-type") != Some("enum") {
            return None;
        }
        // QEMU 6.2 added `members` (with features); `values` is older.
        if let Some(ms) = array_of(t, "members") {
            return Some(ms.iter().filter_map(|m| str_of(m, "name")).collect());
        }
        Some(
            array_of(t, "values")?
                .iter()
                .filter_map(Value::as_str)
                .collect(),
        )
    }

    fn enum_has(t: &Value, value: &str) -> bool {
        Self::values_of(t).is_some_and(|vs| vs.contains(&value))
    }

    /// Whether the enum type `ty` (by its name in this reply) has `value`.
    pub fn has_enum_value(&self, ty: &str, value: &str) -> bool {
        self.entries
            .get(ty)
            .is_some_and(|t| Self::enum_has(t, value))
    }

    fn command_entry(&self, command: &str) -> Option<&Value> {
        self.commands.get(command).and_then(|c| self.entries.get(c))
    }

    /// The schema entry a path ends on, if it ends on a type (see
    /// [Paths](self#paths)): `caps.type_at("query-cpus-fast/ret-type")`.
    pub fn type_at(&self, query: &str) -> Option<&Value> {
        match self.path(query) {
            Ok(Some(PathMatch::Type(e))) => Some(e),
            _ => None,
        }
    }

    /// The values of the enum a path ends on, e.g.
    /// `caps.enum_values_at("blockdev-add/arg-type/driver")` (the drivers
    /// this QEMU was built with).
    pub fn enum_values_at(&self, query: &str) -> Option<Vec<&str>> {
        Self::values_of(self.type_at(query)?)
    }

    /// Whether a libvirt-style path holds (see [Paths](self#paths)): true
    /// when it ends on a type or on a test that holds; false when it goes
    /// nowhere or is malformed.
    pub fn has_path(&self, query: &str) -> bool {
        matches!(self.path(query), Ok(Some(_)))
    }

    /// Resolves a libvirt-style path (see [Paths](self#paths)).
    pub fn path(&self, query: &str) -> Result<Option<PathMatch<'_>>, PathError> {
        if query.is_empty() {
            return Err(PathError::Empty);
        }
        let parts: Vec<&str> = query.split('/').collect();
        if !self.entries.contains_key(parts[0]) {
            return Ok(None);
        }
        let mut cur = Cursor {
            parts: &parts,
            pos: 1,
            prev: parts[0],
            depth: 0,
        };
        match self.traverse(parts[0], &mut cur) {
            Step::Found(Some(e)) => Ok(Some(PathMatch::Type(e))),
            Step::Found(None) => Ok(Some(PathMatch::Holds)),
            Step::No => Ok(None),
            Step::BadSchema => Err(PathError::BadSchema {
                component: cur.prev.to_owned(),
                query: query.to_owned(),
            }),
            Step::NotTerminal => Err(PathError::NotTerminal {
                component: cur.prev.to_owned(),
                query: query.to_owned(),
            }),
        }
    }

    fn traverse<'a>(&'a self, name: &str, cur: &mut Cursor<'_>) -> Step<'a> {
        cur.depth += 1;
        if cur.depth > 1000 {
            return Step::BadSchema;
        }
        let Some(entry) = self.entries.get(name) else {
            return Step::BadSchema;
        };
        if !cur.has_next() {
            return Step::Found(Some(entry));
        }
        match str_of(entry, "meta-type") {
            Some("object") => self.traverse_object(entry, cur),
            Some("array") => match str_of(entry, "element-type") {
                Some(t) => self.traverse(t, cur),
                None => Step::BadSchema,
            },
            Some("command" | "event") => self.traverse_command(entry, cur),
            Some("enum") => Self::traverse_enum(entry, cur),
            Some("builtin") => Self::traverse_builtin(entry, cur),
            Some("alternate") => self.traverse_alternate(entry, cur),
            Some(_) => Step::No,
            None => Step::BadSchema,
        }
    }

    fn traverse_object<'a>(&'a self, entry: &'a Value, cur: &mut Cursor<'_>) -> Step<'a> {
        let (modifier, name) = split_modifier(cur.next());
        let sel = match modifier {
            Some('^' | '!') => return Step::No,
            Some('$') => return feature_step(entry, name, cur),
            Some('+') => array_of(entry, "variants")
                .and_then(|vs| vs.iter().find(|v| str_of(v, "case") == Some(name))),
            _ => {
                let m = array_of(entry, "members")
                    .and_then(|ms| ms.iter().find(|m| str_of(m, "name") == Some(name)));
                if modifier == Some('*') && m.is_none_or(|m| m.get("default").is_none()) {
                    return Step::No;
                }
                m
            }
        };
        match sel.and_then(|s| str_of(s, "type")) {
            Some(t) => self.traverse(t, cur),
            None => Step::No,
        }
    }

    fn traverse_command<'a>(&'a self, entry: &'a Value, cur: &mut Cursor<'_>) -> Step<'a> {
        let (modifier, name) = split_modifier(cur.next());
        match modifier {
            Some('^' | '!' | '+' | '*') => Step::No,
            Some('$') => feature_step(entry, name, cur),
            _ => match str_of(entry, name) {
                Some(t) => self.traverse(t, cur),
                None => Step::No,
            },
        }
    }

    fn traverse_enum<'a>(entry: &'a Value, cur: &mut Cursor<'_>) -> Step<'a> {
        let query = cur.next();
        let Some(value) = query.strip_prefix('^') else {
            return Step::No;
        };
        let mut feature = None;
        if cur.has_next() {
            let f = cur.next();
            match f.strip_prefix('$') {
                Some(f) if !cur.has_next() => feature = Some(f),
                _ => return Step::NotTerminal,
            }
        }
        if let Some(members) = array_of(entry, "members") {
            for m in members {
                let Some(n) = str_of(m, "name") else {
                    return Step::BadSchema;
                };
                if n == value {
                    return match feature {
                        Some(f) => match has_feature(m, f) {
                            Ok(true) => Step::Found(None),
                            Ok(false) => Step::No,
                            Err(()) => Step::BadSchema,
                        },
                        None => Step::Found(None),
                    };
                }
            }
            return Step::No;
        }
        // Values without features (before QEMU 6.2): a feature query fails.
        if feature.is_some() {
            return Step::No;
        }
        match array_of(entry, "values") {
            Some(vs) if vs.iter().any(|v| v.as_str() == Some(value)) => Step::Found(None),
            Some(_) => Step::No,
            None => Step::BadSchema,
        }
    }

    fn traverse_builtin<'a>(entry: &'a Value, cur: &mut Cursor<'_>) -> Step<'a> {
        let Some(want) = cur.next().strip_prefix('!') else {
            return Step::No;
        };
        if cur.has_next() {
            return Step::NotTerminal;
        }
        match str_of(entry, "json-type") {
            Some(t) if t == want => Step::Found(None),
            Some(_) => Step::No,
            None => Step::BadSchema,
        }
    }

    fn traverse_alternate<'a>(&'a self, entry: &'a Value, cur: &mut Cursor<'_>) -> Step<'a> {
        let Some(members) = array_of(entry, "members") else {
            return Step::BadSchema;
        };
        let saved = cur.clone();
        for m in members {
            let Some(t) = str_of(m, "type") else { continue };
            *cur = saved.clone();
            let r = self.traverse(t, cur);
            if !matches!(r, Step::No) {
                return r;
            }
        }
        Step::No
    }

    /// Checks a call against the live schema: `Err` names what the live
    /// QEMU lacks — the command, or (walking the serialized `args` against
    /// the live argument type, through nested objects, arrays, union
    /// branches and alternates) the first member it has no such member
    /// for, or an enum value it does not have. Values of the wrong JSON
    /// type are left for QEMU to report.
    pub fn check_call(&self, command: &str, args: Option<&Value>) -> Result<(), Lacking> {
        let Some(entry) = self.command_entry(command) else {
            return Err(Lacking::Command);
        };
        let Some(args) = args else { return Ok(()) };
        if args.as_object().is_some_and(Map::is_empty) || args.is_null() {
            return Ok(());
        }
        match str_of(entry, "arg-type") {
            Some(t) => {
                let mut path = String::new();
                self.check_value(t, args, &mut path, 0)
            }
            None => Ok(()),
        }
    }

    fn check_value(
        &self,
        ty: &str,
        v: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), Lacking> {
        // A malformed (cyclic) reply cannot make this loop forever.
        if depth > 256 {
            return Ok(());
        }
        let Some(t) = self.entries.get(ty) else {
            return Ok(());
        };
        match (str_of(t, "meta-type"), v) {
            (Some("object"), Value::Object(o)) => self.check_object(t, o, path, depth),
            (Some("array"), Value::Array(items)) => {
                let Some(el) = str_of(t, "element-type") else {
                    return Ok(());
                };
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    self.check_value(el, item, path, depth + 1)?;
                    path.truncate(len);
                }
                Ok(())
            }
            (Some("enum"), Value::String(s)) => {
                if Self::enum_has(t, s) {
                    Ok(())
                } else {
                    Err(Lacking::Value {
                        path: display_path(path),
                        value: s.clone(),
                    })
                }
            }
            (Some("alternate"), _) => {
                let mut first = None;
                for m in array_of(t, "members").into_iter().flatten() {
                    let Some(bt) = str_of(m, "type") else {
                        continue;
                    };
                    if !self.fits_kind(bt, v) {
                        continue;
                    }
                    match self.check_value(bt, v, path, depth + 1) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                first.map_or(Ok(()), Err)
            }
            _ => Ok(()),
        }
    }

    /// Whether `v` has the JSON kind of type `ty` (for alternates).
    fn fits_kind(&self, ty: &str, v: &Value) -> bool {
        let Some(t) = self.entries.get(ty) else {
            return false;
        };
        match str_of(t, "meta-type") {
            Some("object") => v.is_object(),
            Some("array") => v.is_array(),
            Some("enum") => v.is_string(),
            Some("alternate") => true,
            Some("builtin") => match str_of(t, "json-type") {
                Some("string") => v.is_string(),
                Some("int") => v.is_i64() || v.is_u64(),
                Some("number") => v.is_number(),
                Some("boolean") => v.is_boolean(),
                Some("null") => v.is_null(),
                _ => true,
            },
            _ => false,
        }
    }

    fn check_object(
        &self,
        t: &Value,
        o: &Map<String, Value>,
        path: &mut String,
        depth: usize,
    ) -> Result<(), Lacking> {
        for (k, v) in o {
            let member = self.find_member(t, o, k, 0);
            let len = path.len();
            path.push('.');
            path.push_str(k);
            match member.and_then(|m| str_of(m, "type")) {
                Some(mt) => self.check_value(mt, v, path, depth + 1)?,
                None => {
                    return Err(Lacking::Member {
                        path: display_path(path),
                    });
                }
            }
            path.truncate(len);
        }
        Ok(())
    }
}

impl Capabilities {
    /// Member `k` of object type `t` holding the JSON object `o`: a member
    /// of `t` itself, or of the union branch `o`'s tag value selects (and
    /// so on, for a branch that is itself a union).
    fn find_member<'a>(
        &'a self,
        t: &'a Value,
        o: &Map<String, Value>,
        k: &str,
        depth: usize,
    ) -> Option<&'a Value> {
        if let Some(m) = Self::object_member(t, k) {
            return Some(m);
        }
        if depth > 64 {
            return None;
        }
        let case = o.get(str_of(t, "tag")?)?.as_str()?;
        let branch = array_of(t, "variants")?
            .iter()
            .find(|v| str_of(v, "case") == Some(case))?;
        let bt = self.entries.get(str_of(branch, "type")?)?;
        self.find_member(bt, o, k, depth + 1)
    }

    /// [`check_call`](Self::check_call) with the client's error:
    /// [`Error::Unsupported`](crate::Error::Unsupported) naming the
    /// command or member, the live version and, for a command, the release
    /// that added it where the bindings know it. This is the check
    /// [`Builder::check_capabilities`](crate::Builder::check_capabilities)
    /// runs before each call.
    pub fn check(&self, command: &str, args: Option<&Value>) -> Result<(), crate::Error> {
        self.check_call(command, args)
            .map_err(|l| unsupported(self, command, l))
    }

    /// [`check_call`](Self::check_call) on arguments not yet serialized;
    /// the error is the client's `Unsupported`.
    pub(crate) fn check_serialized<A: serde::Serialize + ?Sized>(
        &self,
        command: &str,
        args: &A,
    ) -> Result<(), crate::Error> {
        let value = if self.has_command(command) {
            Some(
                serde_json::to_value(args).map_err(|e| crate::Error::Encode {
                    command: command.to_owned(),
                    message: e.to_string(),
                })?,
            )
        } else {
            None
        };
        self.check_call(command, value.as_ref())
            .map_err(|l| unsupported(self, command, l))
    }
}

fn display_path(p: &str) -> String {
    if p.is_empty() {
        ".".to_owned()
    } else {
        p.to_owned()
    }
}

/// One step's outcome (libvirt's 1, 0, -2, -3).
enum Step<'a> {
    /// Found: on a type (`Some`) or a test that holds (`None`).
    Found(Option<&'a Value>),
    No,
    BadSchema,
    NotTerminal,
}

#[derive(Clone)]
struct Cursor<'q> {
    parts: &'q [&'q str],
    pos: usize,
    prev: &'q str,
    depth: usize,
}

impl<'q> Cursor<'q> {
    fn has_next(&self) -> bool {
        self.pos < self.parts.len()
    }

    fn next(&mut self) -> &'q str {
        let p = self.parts.get(self.pos).copied().unwrap_or("");
        self.pos += 1;
        self.prev = p;
        p
    }
}

/// A leading non-alphabetic character is a modifier and is dropped.
fn split_modifier(component: &str) -> (Option<char>, &str) {
    match component.chars().next() {
        Some(c) if !c.is_ascii_alphabetic() => (Some(c), &component[c.len_utf8()..]),
        _ => (None, component),
    }
}

fn feature_step<'a>(entry: &Value, feature: &str, cur: &Cursor<'_>) -> Step<'a> {
    if cur.has_next() {
        return Step::NotTerminal;
    }
    match has_feature(entry, feature) {
        Ok(true) => Step::Found(None),
        Ok(false) => Step::No,
        Err(()) => Step::BadSchema,
    }
}

/// What the bindings know about `command`.
fn info_of(command: &str) -> Option<&'static qmp_types::runtime::CommandInfo> {
    qmp_types::COMMANDS.iter().find(|c| c.name == command)
}

/// A call refused because the live QEMU lacks what it uses
/// ([`Error::Unsupported`](crate::Error::Unsupported)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unsupported {
    /// The command's wire name.
    pub command: String,
    /// What the live QEMU lacks.
    pub lacking: Lacking,
    /// The live QEMU's version (`5.2.0`).
    pub qemu: String,
    /// The release that added the command, where the bindings know it.
    pub since: Option<String>,
    /// The first release the bindings span that no longer has the command
    /// (it went away in that release or earlier), where they know it.
    pub removed_by: Option<String>,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.lacking {
            Lacking::Command => write!(f, "`{}`", self.command)?,
            other => write!(f, "{other} of `{}`", self.command)?,
        }
        write!(f, " is not supported by QEMU {}", self.qemu)?;
        match (&self.since, &self.removed_by) {
            (Some(s), Some(r)) => write!(f, " (added in QEMU {s}, removed by QEMU {r})")?,
            (Some(s), None) => write!(f, " (added in QEMU {s})")?,
            (None, Some(r)) => write!(f, " (removed by QEMU {r})")?,
            (None, None) => {}
        }
        Ok(())
    }
}

impl std::error::Error for Unsupported {}

/// Builds the `Unsupported` error for a refused call.
pub(crate) fn unsupported(caps: &Capabilities, command: &str, lacking: Lacking) -> crate::Error {
    let info = match lacking {
        Lacking::Command => info_of(command),
        _ => None,
    };
    crate::Error::Unsupported(Box::new(Unsupported {
        command: command.to_owned(),
        lacking,
        qemu: caps.version_string(),
        since: info.and_then(|c| c.since).map(str::to_owned),
        removed_by: info.and_then(|c| c.removed_by).map(str::to_owned),
    }))
}

/// The per-connection cache of the capabilities.
#[derive(Debug, Default)]
pub(crate) struct Cache(Mutex<Option<Arc<Capabilities>>>);

impl Cache {
    pub(crate) fn get(&self) -> Option<Arc<Capabilities>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forgets the cached capabilities (the server was replaced); the
    /// next use fetches them again.
    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Replaces the cached capabilities (a refresh).
    pub(crate) fn replace(&self, caps: Capabilities) -> Arc<Capabilities> {
        let caps = Arc::new(caps);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(caps.clone());
        caps
    }

    /// Stores `caps` unless another caller stored first; returns the one
    /// kept.
    pub(crate) fn set(&self, caps: Capabilities) -> Arc<Capabilities> {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.get_or_insert_with(|| Arc::new(caps)).clone()
    }
}

/// Builds the capabilities from the two replies.
pub(crate) fn build(schema: Value, version: Option<Value>) -> Result<Capabilities, crate::Error> {
    let version = version.and_then(|v| serde_json::from_value::<VersionInfo>(v).ok());
    Capabilities::from_reply(schema, version).map_err(|e| crate::Error::BadReply {
        command: "query-qmp-schema".to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(feature = "tokio")]
impl crate::Qmp {
    /// The live QEMU's capabilities: `query-qmp-schema` and
    /// `query-version`, fetched on the first call and cached for the
    /// connection's lifetime (concurrent first calls may both fetch; one
    /// result is kept).
    pub async fn capabilities(&self) -> Result<Arc<Capabilities>, crate::Error> {
        if let Some(c) = self.caps_cache().get() {
            return Ok(c);
        }
        let schema = self.raw_unchecked("query-qmp-schema").await?;
        let version = self.raw_unchecked("query-version").await.ok();
        Ok(self.caps_cache().set(build(schema, version)?))
    }

    /// Fetches the capabilities anew and replaces the cached ones (after
    /// the QEMU behind the socket may have changed, e.g. a reconnect).
    pub async fn refresh_capabilities(&self) -> Result<Arc<Capabilities>, crate::Error> {
        let schema = self.raw_unchecked("query-qmp-schema").await?;
        let version = self.raw_unchecked("query-version").await.ok();
        Ok(self.caps_cache().replace(build(schema, version)?))
    }

    /// The capabilities if already fetched (no I/O).
    pub fn cached_capabilities(&self) -> Option<Arc<Capabilities>> {
        self.caps_cache().get()
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Qmp {
    /// The live QEMU's capabilities: `query-qmp-schema` and
    /// `query-version`, fetched on the first call and cached for the
    /// connection's lifetime.
    pub fn capabilities(&self) -> Result<Arc<Capabilities>, crate::Error> {
        self.fetch_capabilities(false)
    }

    /// Fetches the capabilities anew and replaces the cached ones.
    pub fn refresh_capabilities(&self) -> Result<Arc<Capabilities>, crate::Error> {
        self.fetch_capabilities(true)
    }

    /// The capabilities if already fetched (no I/O).
    pub fn cached_capabilities(&self) -> Option<Arc<Capabilities>> {
        self.caps_cache().get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Capabilities {
        let reply = json!([
            {"name": "blockdev-add", "meta-type": "command", "arg-type": "1", "ret-type": "0",
             "features": ["x-feat"]},
            {"name": "query-things", "meta-type": "command", "arg-type": "0", "ret-type": "5"},
            {"name": "STOP", "meta-type": "event", "arg-type": "0"},
            {"name": "0", "meta-type": "object", "members": []},
            {"name": "1", "meta-type": "object", "tag": "driver",
             "members": [{"name": "driver", "type": "2"},
                         {"name": "node-name", "type": "str", "default": null}],
             "variants": [{"case": "file", "type": "3"}, {"case": "null-co", "type": "0"}],
             "features": ["obj-feat"]},
            {"name": "2", "meta-type": "enum", "values": ["file", "null-co"],
             "members": [{"name": "file"}, {"name": "null-co", "features": ["deprecated"]}]},
            {"name": "3", "meta-type": "object",
             "members": [{"name": "filename", "type": "str"},
                         {"name": "aio-max-batch", "type": "int", "default": null},
                         {"name": "list", "type": "[3]", "default": null},
                         {"name": "alt", "type": "4", "default": null}]},
            {"name": "[3]", "meta-type": "array", "element-type": "3"},
            {"name": "4", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "3"}]},
            {"name": "5", "meta-type": "array", "element-type": "3"},
            {"name": "6", "meta-type": "enum", "values": ["a", "b"]},
            {"name": "str", "meta-type": "builtin", "json-type": "string"},
            {"name": "int", "meta-type": "builtin", "json-type": "int"},
        ]);
        let v = json!({"qemu": {"major": 5, "minor": 2, "micro": 0}, "package": ""});
        Capabilities::from_reply(reply, serde_json::from_value(v).ok()).unwrap()
    }

    #[test]
    fn simple_questions() {
        let c = schema();
        assert!(c.has_command("blockdev-add") && !c.has_command("STOP"));
        assert!(c.has_event("STOP") && !c.has_event("blockdev-add"));
        assert!(c.has_argument("blockdev-add", "node-name"));
        assert!(!c.has_argument("blockdev-add", "filename"), "branch member");
        assert!(
            c.has_return_member("query-things", "filename"),
            "array flattened"
        );
        assert!(c.has_enum_value("2", "null-co") && !c.has_enum_value("2", "nbd"));
        assert!(c.has_enum_value("6", "b") && !c.has_enum_value("3", "b"));
        assert!(c.has_variant("1", "file") && !c.has_variant("1", "nbd"));
        assert_eq!(c.version_string(), "5.2.0");
    }

    #[test]
    fn paths_follow_libvirts_grammar() {
        let c = schema();
        let yes = [
            "blockdev-add",
            "blockdev-add/arg-type",
            "blockdev-add/arg-type/+file/aio-max-batch",
            "blockdev-add/arg-type/+file/*aio-max-batch",
            "blockdev-add/arg-type/+file/aio-max-batch/!int",
            "blockdev-add/arg-type/driver/^file",
            "blockdev-add/arg-type/driver/^null-co/$deprecated",
            "blockdev-add/arg-type/$obj-feat",
            "blockdev-add/$x-feat",
            "blockdev-add/arg-type/+file/list/filename",
            "blockdev-add/arg-type/+file/alt/filename",
            "blockdev-add/arg-type/+file/alt/!string",
            "blockdev-add/arg-type/ node-name",
            "query-things/ret-type/filename",
            "6/^a",
        ];
        for q in yes {
            assert!(c.has_path(q), "{q}");
        }
        let no = [
            "nope",
            "blockdev-add/nope",
            "blockdev-add/arg-type/+nbd",
            "blockdev-add/arg-type/+file/*filename",
            "blockdev-add/arg-type/+file/aio-max-batch/!string",
            "blockdev-add/arg-type/driver/^nbd",
            "blockdev-add/arg-type/driver/^file/$deprecated",
            "blockdev-add/arg-type/driver/file",
            "blockdev-add/arg-type/$nope",
            "blockdev-add/^x",
            "blockdev-add/+x",
            "blockdev-add/*arg-type",
            "blockdev-add/arg-type/^driver",
            "6/^a/$deprecated",
        ];
        for q in no {
            assert_eq!(c.path(q), Ok(None), "{q}");
        }
        assert!(matches!(
            c.path("blockdev-add/arg-type/+file"),
            Ok(Some(PathMatch::Type(e))) if e["name"] == "3"
        ));
        assert_eq!(c.path("blockdev-add/^x").ok(), Some(None));
        assert_eq!(c.path(""), Err(PathError::Empty));
        for q in [
            "blockdev-add/$x-feat/more",
            "blockdev-add/arg-type/driver/^file/more",
            "blockdev-add/arg-type/+file/filename/!string/more",
        ] {
            assert!(
                matches!(c.path(q), Err(PathError::NotTerminal { .. })),
                "{q}"
            );
        }
    }

    #[test]
    fn nested_union_branches_are_followed() {
        let c = Capabilities::from_reply(
            json!([
                {"name": "c", "meta-type": "command", "arg-type": "u", "ret-type": "e"},
                {"name": "e", "meta-type": "object", "members": []},
                {"name": "u", "meta-type": "object", "tag": "a",
                 "members": [{"name": "a", "type": "str"}],
                 "variants": [{"case": "x", "type": "v"}]},
                {"name": "v", "meta-type": "object", "tag": "b",
                 "members": [{"name": "b", "type": "str"}],
                 "variants": [{"case": "y", "type": "w"}]},
                {"name": "w", "meta-type": "object",
                 "members": [{"name": "deep", "type": "str"}]},
                {"name": "str", "meta-type": "builtin", "json-type": "string"},
            ]),
            None,
        )
        .unwrap();
        let ok = json!({"a": "x", "b": "y", "deep": "z"});
        assert_eq!(c.check_call("c", Some(&ok)), Ok(()));
        let other = json!({"a": "x", "b": "q", "deep": "z"});
        assert_eq!(
            c.check_call("c", Some(&other)),
            Err(Lacking::Member {
                path: ".deep".into()
            })
        );
    }

    #[test]
    fn type_and_enum_values_at_a_path() {
        let c = schema();
        assert_eq!(
            c.enum_values_at("blockdev-add/arg-type/driver"),
            Some(vec!["file", "null-co"])
        );
        assert_eq!(c.enum_values_at("blockdev-add/arg-type/node-name"), None);
        assert_eq!(
            c.type_at("query-things/ret-type").map(|e| &e["name"]),
            Some(&json!("5"))
        );
        assert_eq!(c.type_at("blockdev-add/arg-type/driver/^file"), None);
    }

    proptest::proptest! {
        /// Any path over the schema's own vocabulary (and noise) answers
        /// without panicking, `has_path` agrees with `path`, and errors
        /// are only the documented ones for the documented reasons.
        #[test]
        fn any_path_answers(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "blockdev-add", "query-things", "STOP", "6", "arg-type", "ret-type",
                "driver", "node-name", "*node-name", "+file", "+null-co", "+nbd",
                "filename", "aio-max-batch", "list", "alt", "^file", "^null-co",
                "^a", "$deprecated", "$obj-feat", "$x-feat", "!int", "!string",
                " filename", "", "x", "*", "+", "^", "$", "!",
            ]),
            0..7,
        )) {
            let c = schema();
            let q = parts.join("/");
            let r = c.path(&q);
            proptest::prop_assert_eq!(c.has_path(&q), matches!(r, Ok(Some(_))));
            match r {
                Err(PathError::Empty) => proptest::prop_assert!(q.is_empty()),
                Err(PathError::NotTerminal { component, .. }) => {
                    proptest::prop_assert!(
                        ["$", "^", "!"].iter().any(|m| q.contains(m)),
                        "{} {}", q, component
                    );
                }
                Err(PathError::BadSchema { .. }) => {
                    proptest::prop_assert!(false, "the test schema is well-formed: {}", q)
                }
                Ok(_) => {}
            }
        }
    }

    #[test]
    fn a_type_name_that_names_nothing_is_a_schema_error() {
        let c = Capabilities::from_reply(
            json!([{"name": "c", "meta-type": "command", "arg-type": "9", "ret-type": "9"}]),
            None,
        )
        .unwrap();
        assert!(matches!(
            c.path("c/arg-type"),
            Err(PathError::BadSchema { component, .. }) if component == "arg-type"
        ));
        assert!(!c.has_path("c/arg-type"));
        assert_eq!(c.version_string(), "of unknown version");
    }

    #[test]
    fn checks_walk_arguments() {
        let c = schema();
        let ok = json!({"driver": "file", "node-name": "n",
                        "filename": "/x", "aio-max-batch": 3,
                        "list": [{"filename": "a"}], "alt": {"filename": "b"}});
        assert_eq!(c.check_call("blockdev-add", Some(&ok)), Ok(()));
        assert_eq!(c.check_call("blockdev-add", None), Ok(()));
        assert_eq!(c.check_call("nope", None), Err(Lacking::Command));
        let cases = [
            (json!({"driver": "file", "bogus": 1}), ".bogus"),
            (json!({"driver": "null-co", "filename": "x"}), ".filename"),
            (
                json!({"driver": "file", "list": [{}, {"x": 1}]}),
                ".list[1].x",
            ),
            (json!({"driver": "file", "alt": {"y": 1}}), ".alt.y"),
        ];
        for (args, path) in cases {
            assert_eq!(
                c.check_call("blockdev-add", Some(&args)),
                Err(Lacking::Member { path: path.into() }),
                "{args}"
            );
        }
        assert_eq!(
            c.check_call("blockdev-add", Some(&json!({"driver": "nbd"}))),
            Err(Lacking::Value {
                path: ".driver".into(),
                value: "nbd".into()
            })
        );
        // A string for the alternate is fine; wrong JSON kinds are QEMU's.
        let s = json!({"driver": "file", "alt": "s", "aio-max-batch": "x"});
        assert_eq!(c.check_call("blockdev-add", Some(&s)), Ok(()));
        assert_eq!(c.check_call("query-things", Some(&json!({}))), Ok(()));
        assert_eq!(
            c.check_call("query-things", Some(&json!({"a": 1}))),
            Err(Lacking::Member { path: ".a".into() })
        );
    }

    #[test]
    fn bad_replies_are_refused() {
        assert_eq!(
            Capabilities::from_reply(json!({}), None).err(),
            Some(SchemaError::NotArray)
        );
        assert_eq!(
            Capabilities::from_reply(json!([{"name": "x"}]), None).err(),
            Some(SchemaError::BadEntry { index: 0 })
        );
        assert!(Capabilities::from_reply(json!({"return": []}), None).is_ok());
    }
}
