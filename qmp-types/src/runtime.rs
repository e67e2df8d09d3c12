//! The hand-written part of the bindings: the traits generated code
//! implements and transports implement.
//!
//! * [`Command`] is implemented by every generated command type: it knows
//!   its wire name and its reply type. [`OobCommand`] marks commands whose
//!   schema allows `exec-oob`, so out-of-band execution of any other command
//!   does not compile.
//! * [`Client`] (async) and [`ClientBlocking`] are the transport-agnostic
//!   client traits: one `execute` method each. The generated extension
//!   traits add one method per command on top of them, blanket-implemented
//!   for every client.
//! * [`FromJson`], [`ToJson`] and [`ObjectType`] are how generated types
//!   decode and encode; the macros [`impl_object!`], [`impl_enum!`],
//!   [`impl_json!`], [`impl_command!`], [`impl_meta!`], [`impl_requests!`]
//!   and [`impl_events!`] implement them (and `serde`, `schemars`) for
//!   generated types, one invocation per definition.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A QMP command: its arguments (the value itself, serialized as the
/// `arguments` object) and the type of its successful reply.
pub trait Command: Serialize + Send + Sync {
    /// The command's wire name, e.g. `"query-status"`.
    const NAME: &'static str;
    /// Whether the schema allows `exec-oob` for this command.
    const ALLOW_OOB: bool = false;
    /// Whether QEMU sends a reply on success (`success-response`); when
    /// false, a client must not wait for one.
    const SUCCESS_RESPONSE: bool = true;
    /// The type of the `return` value. Commands without a declared return
    /// type reply with an empty object: [`Empty`].
    type Returns: DeserializeOwned + Send + 'static;
}

/// A command the schema allows to run out-of-band (`allow-oob: true`).
pub trait OobCommand: Command {}

/// An event type: implemented by the generated event enum so transports
/// can decode events without knowing the schema.
pub trait EventKind: DeserializeOwned + Send + 'static {
    /// The wire name of this event (or of the unknown event it holds).
    fn name(&self) -> &str;
}

/// The reply of a command that declares no return type: `{}`. Members a
/// newer QEMU might add are ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Empty {}

/// An event's `timestamp`: seconds and microseconds since the Unix epoch;
/// both are -1 when QEMU could not read the host clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    /// Seconds since the epoch.
    pub seconds: i64,
    /// Microseconds within the second.
    pub microseconds: i64,
}

/// An error reply: `{"error": {"class": ..., "desc": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The error class, e.g. `GenericError`, `CommandNotFound`. Kept as a
    /// string: newer QEMUs may add classes.
    pub class: String,
    /// Human-readable description. Do not parse it.
    pub desc: String,
}

impl std::fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

impl std::error::Error for ErrorReply {}

/// An asynchronous QMP client, independent of the transport.
///
/// Implemented by `qmp-client`'s tokio client, and by anything else that
/// can send a command and await its reply (a mock in tests, a proxy).
pub trait Client: Send + Sync {
    /// The error type: transport, protocol, decode and QMP errors.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends a command and waits for its typed reply.
    fn execute<C: Command>(
        &self,
        command: C,
    ) -> impl Future<Output = Result<C::Returns, Self::Error>> + Send;
}

/// A blocking QMP client, independent of the transport.
pub trait ClientBlocking {
    /// The error type: transport, protocol, decode and QMP errors.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends a command and waits for its typed reply.
    fn execute<C: Command>(&self, command: C) -> Result<C::Returns, Self::Error>;
}

// ---------------------------------------------------------------------------
// Decoding support used by the generated code.
//
// Generated types decode through [`FromJson`]: the value is first read into a
// `serde_json::Value` and then taken apart by small, non-generic functions.
// This keeps the generated code compact (one short function per type instead
// of a derive expansion per type and deserializer), gives decode errors a JSON
// path, and makes forward-compatible decoding (unknown members, enum values and
// union branches) straightforward.

use serde::{Deserializer, Serializer};
pub use serde_json::Value;

/// A typed-decode error: what was wrong, and where in the JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The JSON path of the offending value, e.g. `.devices[2].type`
    /// (empty for the top-level value).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl DecodeError {
    /// An error at the current value.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            message: message.into(),
        }
    }

    /// An error about a value of the wrong JSON type.
    pub fn expected(what: &str, found: &Value) -> Self {
        Self::new(format!("expected {what}, found {}", json_type_name(found)))
    }

    /// Prefixes the path with an object member name.
    pub fn in_member(mut self, name: &str) -> Self {
        self.path.insert_str(0, &format!(".{name}"));
        self
    }

    /// Prefixes the path with an array index.
    pub fn in_index(mut self, index: usize) -> Self {
        self.path.insert_str(0, &format!("[{index}]"));
        self
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// The name of a JSON value's type, for error messages.
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decoding from a JSON value: implemented by every generated type and by
/// the types QAPI's built-in types map to.
pub trait FromJson: Sized {
    /// Decodes a value, ignoring object members it does not know.
    fn from_json(value: Value) -> Result<Self, DecodeError>;
}

/// Decodes through [`FromJson`] in a `Deserialize` impl.
pub fn deserialize_from_json<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromJson,
{
    let value = <Value as Deserialize>::deserialize(deserializer)?;
    T::from_json(value).map_err(serde::de::Error::custom)
}

macro_rules! from_json_int {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(value: Value) -> Result<Self, DecodeError> {
                let n = match &value {
                    Value::Number(n) => n,
                    other => return Err(DecodeError::expected("an integer", other)),
                };
                let v = if let Some(i) = n.as_i64() {
                    <$t>::try_from(i).ok()
                } else if let Some(u) = n.as_u64() {
                    <$t>::try_from(u).ok()
                } else {
                    return Err(DecodeError::expected("an integer", &value));
                };
                v.ok_or_else(|| {
                    DecodeError::new(format!(
                        "integer {n} out of range for {}",
                        stringify!($t)
                    ))
                })
            }
        }
    )*};
}
from_json_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromJson for f64 {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        match &value {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| DecodeError::expected("a number", &value)),
            other => Err(DecodeError::expected("a number", other)),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(DecodeError::expected("a boolean", &other)),
        }
    }
}

impl FromJson for String {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(DecodeError::expected("a string", &other)),
        }
    }
}

impl FromJson for Value {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_json(v).map_err(|e| e.in_index(i)))
                .collect(),
            other => Err(DecodeError::expected("an array", &other)),
        }
    }
}

impl<T: FromJson> FromJson for Box<T> {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        T::from_json(value).map(Box::new)
    }
}

impl FromJson for Empty {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Object(_) => Ok(Empty {}),
            other => Err(DecodeError::expected("an object", &other)),
        }
    }
}

/// QAPI's built-in type `null`: only the JSON value `null`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Null;

impl Serialize for Null {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Null {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_from_json(deserializer)
    }
}

impl FromJson for Null {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(Null),
            other => Err(DecodeError::expected("null", &other)),
        }
    }
}

/// The members of a JSON object being decoded. Generated code takes the
/// members it knows out one by one; whatever is left is ignored (or kept, by
/// union fallbacks).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members(Map<String, Value>);

impl Members {
    /// Takes a JSON object apart; anything else is an error.
    pub fn new(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            other => Err(DecodeError::expected("an object", &other)),
        }
    }

    /// Takes a mandatory member.
    pub fn required<T: FromJson>(&mut self, name: &str) -> Result<T, DecodeError> {
        match self.0.remove(name) {
            Some(v) => T::from_json(v).map_err(|e| e.in_member(name)),
            None => Err(DecodeError::new(format!("missing member `{name}`"))),
        }
    }

    /// Takes an optional member.
    pub fn optional<T: FromJson>(&mut self, name: &str) -> Result<Option<T>, DecodeError> {
        match self.0.remove(name) {
            Some(v) => T::from_json(v).map(Some).map_err(|e| e.in_member(name)),
            None => Ok(None),
        }
    }

    /// Takes a member as raw JSON, if present.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// The members not taken yet.
    pub fn into_rest(self) -> Map<String, Value> {
        self.0
    }
}

/// Implemented by generated object types (structs and unions): decoding
/// from, and encoding into, the members of a JSON object that may hold
/// other members too (a union's branch shares its object with the base).
pub trait ObjectType: Sized {
    /// Takes this type's members out of `members`.
    fn from_members(members: &mut Members) -> Result<Self, DecodeError>;

    /// Writes this type's members.
    fn to_members(&self, map: &mut Map<String, Value>);
}

/// Decodes an object type from a JSON object.
pub fn object_from_json<T: ObjectType>(value: Value) -> Result<T, DecodeError> {
    let mut members = Members::new(value)?;
    T::from_members(&mut members)
}

/// Encodes an object type as a JSON object.
pub fn object_to_json<T: ObjectType>(value: &T) -> Value {
    let mut map = Map::new();
    value.to_members(&mut map);
    Value::Object(map)
}

/// Encoding into a JSON value: implemented by every generated type and by
/// the types QAPI's built-in types map to. Encoding cannot fail.
pub trait ToJson {
    /// The JSON value.
    fn to_json(&self) -> Value;
}

/// Serializes through [`ToJson`] in a `Serialize` impl.
pub fn serialize_json<T: ToJson + ?Sized, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.to_json().serialize(serializer)
}

/// Writes a member.
pub fn put<T: ToJson + ?Sized>(map: &mut Map<String, Value>, name: &str, value: &T) {
    map.insert(name.to_owned(), value.to_json());
}

/// Writes an optional member when present.
pub fn put_opt<T: ToJson>(map: &mut Map<String, Value>, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        map.insert(name.to_owned(), v.to_json());
    }
}

/// Writes extra members (kept by a union's fallback branch).
pub fn put_rest(map: &mut Map<String, Value>, rest: &Map<String, Value>) {
    for (k, v) in rest {
        map.insert(k.clone(), v.clone());
    }
}

macro_rules! to_json_via_from {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}
to_json_via_from!(i8, i16, i32, i64, u8, u16, u32, u64, bool);

impl ToJson for f64 {
    fn to_json(&self) -> Value {
        // Non-finite numbers have no JSON form; QEMU never sends them.
        serde_json::Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
}

impl ToJson for str {
    fn to_json(&self) -> Value {
        Value::String(self.to_owned())
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

impl ToJson for Null {
    fn to_json(&self) -> Value {
        Value::Null
    }
}

impl ToJson for Empty {
    fn to_json(&self) -> Value {
        Value::Object(Map::new())
    }
}

// ---------------------------------------------------------------------------
// Calling commands through the generated extension traits.

/// A command call on an asynchronous client, returned by the generated
/// `ClientExt` methods: `.await` it (it implements [`IntoFuture`]).
///
/// [`IntoFuture`]: std::future::IntoFuture
#[must_use = "a command call does nothing until awaited"]
#[derive(Debug)]
pub struct Call<'a, T: ?Sized, C> {
    client: &'a T,
    command: C,
}

impl<'a, T: Client + ?Sized, C: Command + 'a> Call<'a, T, C> {
    /// A call of `command` on `client`.
    pub fn new(client: &'a T, command: C) -> Self {
        Self { client, command }
    }

    /// The command that will be sent.
    pub fn command(&self) -> &C {
        &self.command
    }

    /// The command, without sending it.
    pub fn into_command(self) -> C {
        self.command
    }
}

impl<'a, T: Client + ?Sized, C: Command + 'a> std::future::IntoFuture for Call<'a, T, C> {
    type Output = Result<C::Returns, T::Error>;
    type IntoFuture = std::pin::Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.client.execute(self.command))
    }
}

// ---------------------------------------------------------------------------
// Events.

/// An event as it comes off the wire: the event (name and data) and its
/// timestamp. `E` is usually the generated `Event` enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage<E> {
    /// The event.
    pub event: E,
    /// When QEMU emitted it.
    pub timestamp: Timestamp,
}

impl<E: Serialize> Serialize for EventMessage<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.event).map_err(serde::ser::Error::custom)?;
        if let Value::Object(map) = &mut value {
            let ts = serde_json::to_value(self.timestamp).map_err(serde::ser::Error::custom)?;
            map.insert("timestamp".to_owned(), ts);
        }
        value.serialize(serializer)
    }
}

impl<'de, E: FromJson> Deserialize<'de> for EventMessage<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_from_json(deserializer)
    }
}

impl<E: FromJson> FromJson for EventMessage<E> {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        let mut value = value;
        let timestamp = match &mut value {
            Value::Object(map) => match map.remove("timestamp") {
                Some(ts) => Timestamp::from_json(ts).map_err(|e| e.in_member("timestamp"))?,
                None => return Err(DecodeError::new("missing member `timestamp`")),
            },
            other => return Err(DecodeError::expected("an object", other)),
        };
        Ok(Self {
            event: E::from_json(value)?,
            timestamp,
        })
    }
}

impl FromJson for Timestamp {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        let mut m = Members::new(value)?;
        Ok(Timestamp {
            seconds: m.required("seconds")?,
            microseconds: m.required("microseconds")?,
        })
    }
}

// ---------------------------------------------------------------------------
// Metadata tables.

/// What the schema says about a command, for runtime introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// The wire name.
    pub name: &'static str,
    /// The release it appeared in (`Since:`), when known.
    pub since: Option<&'static str>,
    /// Its features (`deprecated`, `unstable`, ...).
    pub features: &'static [&'static str],
    /// Its `if` condition, rendered (`CONFIG_KVM`, `all(A, not(B))`).
    pub condition: Option<&'static str>,
    /// The Rust name of its argument type, if it takes arguments.
    pub arguments: Option<&'static str>,
    /// The Rust name of its return type, if it declares one.
    pub returns: Option<&'static str>,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `success-response`.
    pub success_response: bool,
    /// `allow-preconfig`.
    pub allow_preconfig: bool,
}

/// What the schema says about an event, for runtime introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventInfo {
    /// The wire name.
    pub name: &'static str,
    /// The release it appeared in (`Since:`), when known.
    pub since: Option<&'static str>,
    /// Its features.
    pub features: &'static [&'static str],
    /// Its `if` condition, rendered.
    pub condition: Option<&'static str>,
    /// The Rust name of its data type, if it carries data.
    pub data: Option<&'static str>,
}

// ---------------------------------------------------------------------------
// JSON Schema.

/// Builds a type's JSON Schema from a precomputed document of definitions
/// (`{"$defs": {...}}`, references written as `#/$defs/Name`), adding the
/// definitions it refers to to the generator.
pub fn json_schema_from_defs(
    defs: &Value,
    name: &str,
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    let all = defs.get("$defs").and_then(Value::as_object);
    let prefix = generator.settings().definitions_path.to_string();
    let prefix = format!("#{}/", prefix.trim_start_matches('#').trim_end_matches('/'));
    let Some(all) = all else {
        return schemars::Schema::default();
    };
    let mut todo = vec![name.to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    let mut own = None;
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        let Some(def) = all.get(&n) else { continue };
        let mut def = def.clone();
        rewrite_refs(&mut def, &prefix, &mut todo);
        if n == name {
            own = Some(def);
        } else if !generator.definitions().contains_key(&n) {
            generator.definitions_mut().insert(n, def);
        }
    }
    own.and_then(|v| schemars::Schema::try_from(v).ok())
        .unwrap_or_default()
}

fn rewrite_refs(v: &mut Value, prefix: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(n) = r.strip_prefix("#/$defs/")
            {
                found.push(n.to_owned());
                *r = format!("{prefix}{n}");
            }
            for (_, x) in map.iter_mut() {
                rewrite_refs(x, prefix, found);
            }
        }
        Value::Array(items) => {
            for x in items {
                rewrite_refs(x, prefix, found);
            }
        }
        _ => {}
    }
}

macro_rules! static_schema {
    ($t:ty, $name:literal, $schema:expr) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::Schema::try_from($schema).unwrap_or_default()
            }
        }
    };
}
static_schema!(Empty, "Empty", serde_json::json!({"type": "object"}));
static_schema!(Null, "Null", serde_json::json!({"type": "null"}));
static_schema!(
    Timestamp,
    "Timestamp",
    serde_json::json!({
        "type": "object",
        "properties": {
            "seconds": {"type": "integer"},
            "microseconds": {"type": "integer"}
        },
        "required": ["seconds", "microseconds"]
    })
);

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_json {
    (object $t:ident, $schema:path) => {
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::object_to_json(self)
            }
        }
        impl $crate::runtime::FromJson for $t {
            #[inline]
            fn from_json(
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                $crate::runtime::object_from_json(value)
            }
        }
        $crate::runtime::impl_json!(custom $t, $schema);
    };
    (enum $t:ident, $schema:path) => {
        impl ::core::fmt::Display for $t {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::Value::String(self.as_str().to_owned())
            }
        }
        impl $crate::runtime::FromJson for $t {
            #[inline]
            fn from_json(
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                let s = <::std::string::String as $crate::runtime::FromJson>::from_json(value)?;
                match s.parse::<Self>() {
                    ::core::result::Result::Ok(v) => ::core::result::Result::Ok(v),
                    ::core::result::Result::Err(never) => match never {},
                }
            }
        }
        $crate::runtime::impl_json!(custom $t, $schema);
    };
    (newtype $t:ident($inner:ty), $schema:path) => {
        impl ::core::convert::From<$inner> for $t {
            #[inline]
            fn from(value: $inner) -> Self {
                Self(value)
            }
        }
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::ToJson::to_json(&self.0)
            }
        }
        impl $crate::runtime::FromJson for $t {
            #[inline]
            fn from_json(
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                <$inner as $crate::runtime::FromJson>::from_json(value).map(Self)
            }
        }
        $crate::runtime::impl_json!(custom $t, $schema);
    };
    (unit $t:ident, $schema:path) => {
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::Value::Object($crate::runtime::Map::new())
            }
        }
        impl $crate::runtime::FromJson for $t {
            #[inline]
            fn from_json(
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                $crate::runtime::Members::new(value).map(|_| Self)
            }
        }
        $crate::runtime::impl_json!(custom $t, $schema);
    };
    (custom $t:ident, $schema:path) => {
        impl $crate::runtime::serde::Serialize for $t {
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serialize_json(self, serializer)
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_from_json(deserializer)
            }
        }
        impl $crate::runtime::schemars::JsonSchema for $t {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(::core::stringify!($t))
            }
            fn json_schema(
                generator: &mut $crate::runtime::schemars::SchemaGenerator,
            ) -> $crate::runtime::schemars::Schema {
                $crate::runtime::json_schema_from_defs(&$schema, ::core::stringify!($t), generator)
            }
        }
    };
}
/// Implements the wire traits of a generated type: [`ToJson`], [`FromJson`],
/// `serde`'s `Serialize`/`Deserialize` (through them) and `schemars`'
/// `JsonSchema` (from the precomputed definitions document `$schema`, a
/// `LazyLock<Value>` in the generated module).
///
/// Generated code calls it once per type, so the bindings carry one line
/// instead of six impls each. The first word says how the type encodes:
///
/// * `object T`: a struct implementing [`ObjectType`] (a JSON object);
/// * `enum T`: a string enum with `as_str()` and `FromStr` (also gets
///   `Display`);
/// * `newtype T(Inner)`: a wrapper encoded as its inner value;
/// * `unit T`: a unit struct encoded as `{}`;
/// * `custom T`: a type with hand-written [`ToJson`]/[`FromJson`].
#[doc(inline)]
pub use crate::__qmp_impl_json as impl_json;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_object {
    (
        $t:ident {
            $($(#[$attr:meta])* $kind:ident $field:ident = $wire:literal),*
            $(, ..$rest:ident)? $(,)?
        },
        $schema:path
    ) => {
        #[allow(deprecated, unused_variables)]
        impl $crate::runtime::ObjectType for $t {
            #[inline]
            fn from_members(
                members: &mut $crate::runtime::Members,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                ::core::result::Result::Ok(Self {
                    $($(#[$attr])* $field: members.$kind($wire)?,)*
                    $($rest: ::core::mem::take(members).into_rest(),)?
                })
            }
            #[inline]
            fn to_members(
                &self,
                map: &mut $crate::runtime::Map<::std::string::String, $crate::runtime::Value>,
            ) {
                $($(#[$attr])* $crate::runtime::impl_object!(@put $kind map $wire &self.$field);)*
                $($crate::runtime::put_rest(map, &self.$rest);)?
            }
        }
        $crate::runtime::impl_json!(object $t, $schema);
    };
    (@put required $map:ident $wire:literal $value:expr) => {
        $crate::runtime::put($map, $wire, $value)
    };
    (@put optional $map:ident $wire:literal $value:expr) => {
        $crate::runtime::put_opt($map, $wire, $value)
    };
}
/// Implements [`ObjectType`] (and, through [`impl_json!`], the wire traits)
/// for a generated struct, from its members: `required field = "wire-name"`
/// or `optional field = "wire-name"` (the field is an `Option`), each
/// possibly behind a `#[cfg(...)]` like its field, and optionally a last
/// `..extra` field that keeps the members the schema does not describe.
///
/// ```
/// # use qmp_types::runtime as rt;
/// # static SCHEMA: std::sync::LazyLock<rt::Value> = std::sync::LazyLock::new(|| rt::Value::Null);
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Snapshot {
///     pub node_name: String,
///     pub format: Option<String>,
/// }
/// rt::impl_object!(Snapshot { required node_name = "node-name", optional format = "format" }, SCHEMA);
///
/// let s: Snapshot = rt::FromJson::from_json(rt::serde_json::json!({"node-name": "n0"})).unwrap();
/// assert_eq!(s.node_name, "n0");
/// assert_eq!(rt::ToJson::to_json(&s), rt::serde_json::json!({"node-name": "n0"}));
///
/// // A member behind a feature that is off is ignored like an unknown one.
/// #[derive(Debug, Clone, PartialEq, Default)]
/// pub struct Throttle {
///     pub iops: Option<i64>,
///     #[cfg(any())]
///     pub x_iops_size: Option<i64>,
/// }
/// rt::impl_object!(
///     Throttle { optional iops = "iops", #[cfg(any())] optional x_iops_size = "x-iops-size" },
///     SCHEMA
/// );
/// let t: Throttle = rt::FromJson::from_json(rt::serde_json::json!({"iops": 5, "x-iops-size": 9})).unwrap();
/// assert_eq!(rt::ToJson::to_json(&t), rt::serde_json::json!({"iops": 5}));
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_object as impl_object;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_enum {
    (
        $t:ident($fallback:ident) { $($variant:ident = $wire:literal),* $(,)? }
        $(#[cfg($gate:meta)] { $($gated:ident = $gated_wire:literal),* $(,)? })?,
        $schema:path
    ) => {
        #[allow(deprecated)]
        impl $t {
            /// Every value these bindings know, in schema order (values
            /// behind a cargo feature last).
            #[cfg(all($($gate)?))]
            pub const ALL: &'static [Self] = &[$(Self::$variant,)* $($(Self::$gated,)*)?];
            $crate::runtime::impl_enum!(@all_without_gated [$($variant),*] $($gate)?);
            /// The wire name.
            #[inline]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    $($(#[cfg($gate)] Self::$gated => $gated_wire,)*)?
                    Self::$fallback(s) => s,
                }
            }
        }
        #[allow(deprecated)]
        impl ::core::str::FromStr for $t {
            type Err = ::core::convert::Infallible;
            #[inline]
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(match s {
                    $($wire => Self::$variant,)*
                    $($(#[cfg($gate)] $gated_wire => Self::$gated,)*)?
                    other => Self::$fallback(::std::borrow::ToOwned::to_owned(other)),
                })
            }
        }
        $crate::runtime::impl_json!(enum $t, $schema);
    };
    (@all_without_gated [$($variant:ident),*]) => {};
    (@all_without_gated [$($variant:ident),*] $gate:meta) => {
        /// Every value these bindings know, in schema order.
        #[cfg(not($gate))]
        pub const ALL: &'static [Self] = &[$(Self::$variant),*];
    };
}
/// Implements a generated string enum's behaviour from its values
/// (`Variant = "wire-name"`) and the name of the variant that keeps values
/// the bindings do not know: the `ALL` table and `as_str`, `FromStr`,
/// `Display` and (through [`impl_json!`]) the wire traits. Values behind a
/// cargo feature follow as a second group, `#[cfg(...)] { ... }`; without
/// the feature their wire names decode to the fallback variant.
///
/// ```
/// # use qmp_types::runtime as rt;
/// # static SCHEMA: std::sync::LazyLock<rt::Value> = std::sync::LazyLock::new(|| rt::Value::Null);
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// pub enum Mode {
///     Existing,
///     AbsolutePaths,
///     Unknown(String),
/// }
/// rt::impl_enum!(Mode(Unknown) { Existing = "existing", AbsolutePaths = "absolute-paths" }, SCHEMA);
///
/// assert_eq!(Mode::AbsolutePaths.as_str(), "absolute-paths");
/// assert_eq!("newer".parse::<Mode>(), Ok(Mode::Unknown("newer".to_owned())));
/// assert_eq!(Mode::ALL.len(), 2);
///
/// // A value behind a feature that is off decodes as unknown.
/// #[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// pub enum Capability {
///     Events,
///     #[cfg(any())]
///     XColo,
///     Unknown(String),
/// }
/// rt::impl_enum!(Capability(Unknown) { Events = "events" } #[cfg(any())] { XColo = "x-colo" }, SCHEMA);
/// assert_eq!("x-colo".parse::<Capability>(), Ok(Capability::Unknown("x-colo".to_owned())));
/// assert_eq!(Capability::ALL, &[Capability::Events]);
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_enum as impl_enum;

/// Decodes the value of an envelope member (`arguments` of a command,
/// `data` of an event); an absent member is an empty object.
pub fn decode_member<T: FromJson>(value: Option<Value>, member: &str) -> Result<T, DecodeError> {
    T::from_json(value.unwrap_or_else(|| Value::Object(Map::new())))
        .map_err(|e| e.in_member(member))
}

/// `From` each variant's payload type for an enum of one-field variants
/// (used by [`impl_requests!`] and [`impl_events!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_from {
    ($enum:ident { $($(#[$attr:meta])* $variant:ident($payload:ty),)* }) => {
        $(
            $(#[$attr])*
            #[allow(deprecated)]
            impl ::core::convert::From<$payload> for $enum {
                #[inline]
                fn from(payload: $payload) -> Self {
                    Self::$variant(payload)
                }
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_requests {
    (
        $req:ident, $resp:ident {
            args = [$($(#[$a:meta])* $v:ident),* $(,)?],
            no_args = [$($(#[$na:meta])* $nv:ident),* $(,)?] $(,)?
        },
        $schema:path
    ) => {
        #[allow(deprecated)]
        impl $req {
            /// The command's wire name.
            #[inline]
            pub fn name(&self) -> &str {
                match self {
                    $($(#[$a])* Self::$v(_) => <$v as $crate::runtime::Command>::NAME,)*
                    $($(#[$na])* Self::$nv(_) => <$nv as $crate::runtime::Command>::NAME,)*
                    Self::Unknown { execute, .. } => execute,
                }
            }
            /// Decodes the `return` value of a successful reply to this
            /// request.
            #[inline]
            pub fn decode_return(
                &self,
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<$resp, $crate::runtime::DecodeError> {
                ::core::result::Result::Ok(match self {
                    $($(#[$a])* Self::$v(_) => $resp::$v(
                        <<$v as $crate::runtime::Command>::Returns as $crate::runtime::FromJson>::from_json(value)?,
                    ),)*
                    $($(#[$na])* Self::$nv(_) => $resp::$nv(
                        <<$nv as $crate::runtime::Command>::Returns as $crate::runtime::FromJson>::from_json(value)?,
                    ),)*
                    Self::Unknown { .. } => $resp::Unknown(value),
                })
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::ToJson for $req {
            fn to_json(&self) -> $crate::runtime::Value {
                let mut map = $crate::runtime::Map::new();
                $crate::runtime::put(&mut map, "execute", self.name());
                match self {
                    $($(#[$a])* Self::$v(arguments) => $crate::runtime::put(&mut map, "arguments", arguments),)*
                    $($(#[$na])* Self::$nv(_) => {})*
                    Self::Unknown { arguments, .. } => $crate::runtime::put_opt(&mut map, "arguments", arguments),
                }
                $crate::runtime::Value::Object(map)
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::FromJson for $req {
            fn from_json(
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                let mut members = $crate::runtime::Members::new(value)?;
                let name: ::std::string::String = members.required("execute")?;
                let arguments = members.take("arguments");
                ::core::result::Result::Ok(match name.as_str() {
                    $($(#[$a])* <$v as $crate::runtime::Command>::NAME => {
                        Self::$v($crate::runtime::decode_member(arguments, "arguments")?)
                    })*
                    $($(#[$na])* <$nv as $crate::runtime::Command>::NAME => {
                        Self::$nv($crate::runtime::decode_member(arguments, "arguments")?)
                    })*
                    _ => Self::Unknown { execute: name, arguments },
                })
            }
        }
        $crate::runtime::impl_json!(custom $req, $schema);
        $crate::__qmp_impl_from!($req { $($(#[$a])* $v($v),)* $($(#[$na])* $nv($nv),)* });
        #[allow(deprecated)]
        impl $crate::runtime::ToJson for $resp {
            fn to_json(&self) -> $crate::runtime::Value {
                match self {
                    $($(#[$a])* Self::$v(v) => $crate::runtime::ToJson::to_json(v),)*
                    $($(#[$na])* Self::$nv(v) => $crate::runtime::ToJson::to_json(v),)*
                    Self::Unknown(v) => ::core::clone::Clone::clone(v),
                }
            }
        }
        impl $crate::runtime::serde::Serialize for $resp {
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serialize_json(self, serializer)
            }
        }
    };
}
/// Implements the behaviour of a generated `Request` enum and its
/// `Response` twin from the table of commands: `name`, `decode_return`,
/// [`ToJson`]/[`FromJson`] in the wire form `{"execute": NAME, "arguments":
/// {...}}`, `From` each command, and (through [`impl_json!`]) `serde` and
/// `JsonSchema`.
///
/// Each entry names a variant and its [`Command`] type (they share the name:
/// the wire name and return type come from the [`Command`] impl); entries
/// under `args` send their `arguments`, entries under `no_args` (commands
/// without arguments) don't.
/// Both enums end in an `Unknown` variant (`Unknown { execute, arguments }`
/// and `Unknown(Value)`).
#[doc(inline)]
pub use crate::__qmp_impl_requests as impl_requests;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_events {
    (
        $event:ident {
            data = [$($(#[$a:meta])* $v:ident($t:ident)),* $(,)?],
            no_data = [$($(#[$na:meta])* $nv:ident($nt:ident)),* $(,)?] $(,)?
        },
        $schema:path
    ) => {
        #[allow(deprecated)]
        impl $event {
            /// The event's wire name.
            #[inline]
            pub fn name(&self) -> &str {
                match self {
                    $($(#[$a])* Self::$v(_) => $t::NAME,)*
                    $($(#[$na])* Self::$nv(_) => $nt::NAME,)*
                    Self::Unknown { name, .. } => name,
                }
            }
        }
        impl $crate::runtime::EventKind for $event {
            #[inline]
            fn name(&self) -> &str {
                $event::name(self)
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::ToJson for $event {
            fn to_json(&self) -> $crate::runtime::Value {
                let mut map = $crate::runtime::Map::new();
                $crate::runtime::put(&mut map, "event", self.name());
                match self {
                    $($(#[$a])* Self::$v(data) => $crate::runtime::put(&mut map, "data", data),)*
                    $($(#[$na])* Self::$nv(_) => {})*
                    Self::Unknown { data, .. } => {
                        if !data.is_null() {
                            $crate::runtime::put(&mut map, "data", data);
                        }
                    }
                }
                $crate::runtime::Value::Object(map)
            }
        }
        #[allow(deprecated)]
        impl $crate::runtime::FromJson for $event {
            fn from_json(
                value: $crate::runtime::Value,
            ) -> ::core::result::Result<Self, $crate::runtime::DecodeError> {
                let mut members = $crate::runtime::Members::new(value)?;
                let name: ::std::string::String = members.required("event")?;
                let data = members.take("data");
                ::core::result::Result::Ok(match name.as_str() {
                    $($(#[$a])* $t::NAME => Self::$v($crate::runtime::decode_member(data, "data")?),)*
                    $($(#[$na])* $nt::NAME => Self::$nv($crate::runtime::decode_member(data, "data")?),)*
                    _ => Self::Unknown {
                        name,
                        data: data.unwrap_or($crate::runtime::Value::Null),
                    },
                })
            }
        }
        $crate::runtime::impl_json!(custom $event, $schema);
        $crate::__qmp_impl_from!($event { $($(#[$a])* $v($t),)* $($(#[$na])* $nv($nt),)* });
    };
}
/// Implements the behaviour of a generated `Event` enum from the table of
/// events: `name` (also as [`EventKind`]), [`ToJson`]/[`FromJson`] in the
/// wire form `{"event": NAME, "data": {...}}` (a `timestamp` is ignored),
/// `From` each event's data type, and (through [`impl_json!`]) `serde` and
/// `JsonSchema`.
///
/// Each entry is `Variant(DataType)`, where the data type has an inherent
/// `NAME` const (the wire name); entries under `data` carry a `data`
/// member, entries under `no_data` don't. The enum ends in
/// `Unknown { name, data }`.
#[doc(inline)]
pub use crate::__qmp_impl_events as impl_events;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_meta {
    ($t:ident {
        $(name = $name:literal,)?
        since = $since:expr,
        features = [$($feature:literal),* $(,)?],
        condition = $condition:expr $(,)?
    }) => {
        impl $t {
            $(
                /// The event's wire name.
                pub const NAME: &'static str = $name;
            )?
            /// The release this definition appeared in (`Since:`), when known.
            pub const SINCE: ::core::option::Option<&'static str> = $since;
            /// The definition's features (`deprecated`, `unstable`, ...).
            pub const FEATURES: &'static [&'static str] = &[$($feature),*];
            /// The definition's `if` condition, rendered, if it has one.
            pub const CONDITION: ::core::option::Option<&'static str> = $condition;
        }
    };
}
/// Adds the schema facts of a generated definition as inherent consts a
/// program can read: `SINCE`, `FEATURES`, `CONDITION`, and for events
/// `NAME`, the wire name (commands have it as [`Command::NAME`]).
///
/// ```
/// # use qmp_types::runtime as rt;
/// pub struct Stop;
/// rt::impl_meta!(Stop { name = "STOP", since = Some("0.13"), features = [], condition = None });
/// assert_eq!(Stop::NAME, "STOP");
/// assert_eq!(Stop::SINCE, Some("0.13"));
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_meta as impl_meta;

#[doc(hidden)]
#[macro_export]
macro_rules! __qmp_impl_command {
    ($t:ident = $name:literal -> $ret:ty $(, $flag:ident)* $(,)?) => {
        impl $crate::runtime::Command for $t {
            const NAME: &'static str = $name;
            const ALLOW_OOB: bool = $crate::runtime::impl_command!(@has allow_oob $($flag)*);
            const SUCCESS_RESPONSE: bool = !$crate::runtime::impl_command!(@has no_success_response $($flag)*);
            type Returns = $ret;
        }
        $($crate::runtime::impl_command!(@flag $t $flag);)*
    };
    (@flag $t:ident allow_oob) => {
        impl $crate::runtime::OobCommand for $t {}
    };
    (@flag $t:ident no_success_response) => {};
    (@has allow_oob allow_oob $($rest:ident)*) => { true };
    (@has no_success_response no_success_response $($rest:ident)*) => { true };
    (@has $want:ident $other:ident $($rest:ident)*) => {
        $crate::runtime::impl_command!(@has $want $($rest)*)
    };
    (@has $want:ident) => { false };
}
/// Implements [`Command`] for a generated command type: its wire name, its
/// return type and, as trailing words, `allow_oob` (also implements
/// [`OobCommand`]) and `no_success_response` when the schema says so.
///
/// ```
/// # use qmp_types::runtime as rt;
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
/// pub struct QueryStatus;
/// # static SCHEMA: std::sync::LazyLock<rt::Value> = std::sync::LazyLock::new(|| rt::Value::Null);
/// rt::impl_json!(unit QueryStatus, SCHEMA);
/// rt::impl_command!(QueryStatus = "query-status" -> rt::Value, allow_oob);
/// assert_eq!(<QueryStatus as rt::Command>::NAME, "query-status");
/// assert!(<QueryStatus as rt::Command>::ALLOW_OOB);
/// ```
#[doc(inline)]
pub use crate::__qmp_impl_command as impl_command;

// Re-exports for the generated code (so crates that include generated
// bindings need no direct dependency on these).
pub use schemars;
pub use serde;
pub use serde_json;
pub use serde_json::Map;
