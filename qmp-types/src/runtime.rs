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
//! * Generated types decode with `serde` visitors that read straight from
//!   the deserializer ([`ObjectType`] for objects, helpers below) and
//!   encode through [`ToJson`]; [`FromJson`] decodes a [`Value`] at hand.
//!   The macros [`impl_object!`], [`impl_enum!`],
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
// Generated types implement `serde::Deserialize` with visitors that read
// straight from the deserializer: an object's members are matched by wire
// name as they come (`Key` borrows the name from the input when it can),
// each value is read as its field's type, unknown members are skipped (or
// kept, by types with a map of further members), a missing mandatory member
// is `missing_field` and a repeated one `duplicate_field`, as with serde's
// derive. The per-type code is one short generic function
// ([`ObjectType::visit_members`], written by [`impl_object!`] or by the
// generator for unions); everything else lives here, once.
//
// A flat union's discriminator may come after other members (QEMU's
// `query-qmp-schema` sends `name` and `members` before `meta-type`). The
// members seen before it are recorded as the deserializer reads them, as
// tokens whose strings stay borrowed from the input ([`Buffered`]: the text
// is parsed once), and replayed, followed by the rest of the object read
// live, into the branch selected by the discriminator ([`UnionRest`]).
//
// Alternates decode through a `Value` ([`FromValue`]): their branch is
// chosen by the JSON type of the value, and they are rare.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
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

    /// The error of a serde decode, with the path `serde_path_to_error`
    /// tracked (written `.a.b[2]`).
    fn from_tracked(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        use serde_path_to_error::Segment;
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Enum { variant } => {
                    path.push('.');
                    path.push_str(variant);
                }
                Segment::Unknown => path.push_str(".?"),
            }
        }
        Self {
            path,
            message: e.into_inner().to_string(),
        }
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

/// Decoding from a [`Value`] already in memory, with the JSON path of the
/// offending value on failure: every type that implements `Deserialize`
/// (all generated types do) has it.
///
/// This is a convenience for values at hand; a transport decodes the text
/// with `serde` directly, without building a `Value` first.
pub trait FromJson: Sized {
    /// Decodes a value, ignoring object members it does not know.
    fn from_json(value: Value) -> Result<Self, DecodeError>;
}

impl<T: DeserializeOwned> FromJson for T {
    fn from_json(value: Value) -> Result<Self, DecodeError> {
        serde_path_to_error::deserialize(value).map_err(DecodeError::from_tracked)
    }
}

/// Decoding from a [`Value`] by hand: implemented by the types that decode
/// through a `Value` (alternates, whose branch is chosen by the JSON type
/// of the value); `impl_json!(custom ...)` gives them `Deserialize`
/// through it.
pub trait FromValue: Sized {
    /// Decodes a value.
    fn from_value(value: Value) -> Result<Self, DecodeError>;
}

/// Decodes through [`FromValue`] in a `Deserialize` impl.
pub fn deserialize_from_value<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromValue,
{
    let value = <Value as Deserialize>::deserialize(deserializer)?;
    T::from_value(value).map_err(de::Error::custom)
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
        struct NullVisitor;
        impl Visitor<'_> for NullVisitor {
            type Value = Null;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Null, E> {
                Ok(Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Null, E> {
                Ok(Null)
            }
        }
        deserializer.deserialize_unit(NullVisitor)
    }
}

/// An object member name as read: borrowed from the input when the
/// deserializer can lend it (serde_json reading a string or bytes, for
/// names without escapes), owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'de>(Cow<'de, str>);

impl<'de> Key<'de> {
    /// A name known in advance.
    pub fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// The name.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }

    /// Hands the name to a seed that reads a member name (replaying a
    /// buffered member into a branch).
    fn into_seed<S: DeserializeSeed<'de>, E: de::Error>(self, seed: S) -> Result<S::Value, E> {
        match self.0 {
            Cow::Borrowed(s) => seed.deserialize(de::value::BorrowedStrDeserializer::new(s)),
            Cow::Owned(s) => seed.deserialize(de::value::StringDeserializer::new(s)),
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implemented by generated object types (structs and unions): decoding
/// from the members of a JSON object as they come, and encoding into the
/// members of a JSON object (a union's branch shares its object with the
/// base).
pub trait ObjectType: Sized {
    /// Reads the members of an object. A union's branch is read from the
    /// members its base did not take (through a [`UnionRest`]).
    fn visit_members<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;

    /// Writes this type's members.
    fn to_members(&self, map: &mut Map<String, Value>);
}

/// `Deserialize` of an object type: a JSON object, read by
/// [`ObjectType::visit_members`].
#[inline]
pub fn deserialize_object<'de, D: Deserializer<'de>, T: ObjectType>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(PhantomData<T>);
    impl<'de, T: ObjectType> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            expecting_object(f, std::any::type_name::<T>())
        }
        #[inline]
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::visit_members(map)
        }
    }
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

fn expecting_object(f: &mut std::fmt::Formatter<'_>, type_name: &str) -> std::fmt::Result {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    write!(f, "an object ({short})")
}

/// `Deserialize` of a member-less object type: any JSON object, whose
/// members are ignored.
pub fn deserialize_unit_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    struct UnitVisitor;
    impl<'de> Visitor<'de> for UnitVisitor {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(())
        }
    }
    deserializer.deserialize_map(UnitVisitor)
}

/// `Deserialize` of a generated string enum: any string, through its
/// `FromStr` (which keeps unknown values in the fallback variant).
pub fn deserialize_enum<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = std::convert::Infallible>,
{
    struct EnumVisitor<T>(PhantomData<T>);
    impl<T: std::str::FromStr<Err = std::convert::Infallible>> Visitor<'_> for EnumVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            match v.parse() {
                Ok(v) => Ok(v),
                Err(never) => match never {},
            }
        }
    }
    deserializer.deserialize_str(EnumVisitor(PhantomData))
}

/// Reads the value of member `name` into its slot; a member seen twice is
/// an error.
#[inline]
pub fn set<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The value of a mandatory member, or the error that it is missing.
#[inline]
pub fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    match slot {
        Some(v) => Ok(v),
        None => Err(E::missing_field(name)),
    }
}

/// Notes the first mandatory member found missing (`absent`), so that a
/// visitor returns one error after looking at all its members.
#[inline]
pub fn note_missing(missing: &mut Option<&'static str>, absent: bool, name: &'static str) {
    if absent && missing.is_none() {
        *missing = Some(name);
    }
}

/// The value of a mandatory member that [`note_missing`] found present.
///
/// # Panics
///
/// If the member is absent: the visitor checks every mandatory member
/// before it takes any.
#[inline]
pub fn present<T>(slot: Option<T>) -> T {
    match slot {
        Some(v) => v,
        None => unreachable!("a mandatory member is taken only after the check that it is present"),
    }
}

/// Skips the value of a member nobody knows.
#[inline]
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// Keeps the value of a member the type does not describe in its map of
/// further members.
pub fn keep<'de, A: MapAccess<'de>>(
    rest: &mut Map<String, Value>,
    key: Key<'de>,
    map: &mut A,
) -> Result<(), A::Error> {
    let value = map.next_value()?;
    rest.insert(key.into_owned(), value);
    Ok(())
}

/// One token of a member value read aside ([`Buffered`]): what the
/// deserializer gave the visitor, in order. Strings stay borrowed from the
/// input when the deserializer lends them.
#[derive(Debug, Clone, PartialEq)]
enum Token<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'de, str>),
    /// An array of `len` elements; its tokens end (with its [`Token::End`])
    /// before index `end`.
    Seq {
        len: usize,
        end: usize,
    },
    /// An object of `len` members (key, value, key, value...).
    Map {
        len: usize,
        end: usize,
    },
    End,
}

/// The field name serde_json gives a number under its
/// `arbitrary_precision` feature (an object of this one member, the
/// number's text).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Records one value as [`Token`]s appended to the tape.
struct Record<'a, 'de>(&'a mut Vec<Token<'de>>);

impl<'de> DeserializeSeed<'de> for Record<'_, 'de> {
    type Value = ();

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push(Token::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.push(Token::I64(v));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.push(Token::U64(v));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.push(Token::F64(v));
        Ok(())
    }

    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.0.push(Token::Str(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push(Token::Str(Cow::Owned(v.to_owned())));
        Ok(())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.0.push(Token::Str(Cow::Owned(v)));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.push(Token::Null);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.push(Token::Null);
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.0.len();
        self.0.push(Token::Seq { len: 0, end: 0 });
        let mut len = 0;
        while seq.next_element_seed(Record(self.0))?.is_some() {
            len += 1;
        }
        self.0.push(Token::End);
        self.0[at] = Token::Seq {
            len,
            end: self.0.len(),
        };
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.0.len();
        self.0.push(Token::Map { len: 0, end: 0 });
        let mut len = 0;
        while map.next_key_seed(Record(self.0))?.is_some() {
            map.next_value_seed(Record(self.0))?;
            len += 1;
        }
        // serde_json's `arbitrary_precision` number: record the number.
        if len == 1
            && let [Token::Str(k), Token::Str(n)] = &self.0[at + 1..]
            && k == NUMBER_TOKEN
        {
            let number = if let Ok(v) = n.parse() {
                Token::U64(v)
            } else if let Ok(v) = n.parse() {
                Token::I64(v)
            } else {
                Token::F64(n.parse().map_err(de::Error::custom)?)
            };
            self.0.truncate(at);
            self.0.push(number);
            return Ok(());
        }
        self.0.push(Token::End);
        self.0[at] = Token::Map {
            len,
            end: self.0.len(),
        };
        Ok(())
    }
}

/// The index just past the value whose first token is at `at`.
#[inline]
fn skip_value(tokens: &[Token<'_>], at: usize) -> usize {
    match tokens.get(at) {
        Some(Token::Seq { end, .. } | Token::Map { end, .. }) => *end,
        Some(_) => at + 1,
        None => at,
    }
}

/// Replays recorded tokens into a visitor, as the deserializer that read
/// them would have.
struct Replay<'t, 'de> {
    tokens: &'t [Token<'de>],
    pos: usize,
}

impl<'de> Replay<'_, 'de> {
    fn next(&mut self) -> Result<&Token<'de>, serde_json::Error> {
        let t = self
            .tokens
            .get(self.pos)
            .ok_or_else(|| de::Error::custom("EOF while parsing a value"))?;
        self.pos += 1;
        Ok(t)
    }
}

impl<'de> Deserializer<'de> for &mut Replay<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.next()? {
            Token::Null => visitor.visit_unit(),
            Token::Bool(v) => visitor.visit_bool(*v),
            Token::U64(v) => visitor.visit_u64(*v),
            Token::I64(v) => visitor.visit_i64(*v),
            Token::F64(v) => visitor.visit_f64(*v),
            Token::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Token::Str(Cow::Owned(s)) => visitor.visit_str(s),
            &Token::Seq { len, end } => {
                let v = visitor.visit_seq(ReplaySeq {
                    de: &mut *self,
                    left: len,
                })?;
                self.finish(end)?;
                Ok(v)
            }
            &Token::Map { len, end } => {
                let v = visitor.visit_map(ReplayMap {
                    de: &mut *self,
                    left: len,
                })?;
                self.finish(end)?;
                Ok(v)
            }
            Token::End => Err(de::Error::custom("expected value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if let Some(Token::Null) = self.tokens.get(self.pos) {
            self.pos += 1;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.tokens.get(self.pos) {
            Some(Token::Str(_)) => visitor.visit_enum(ReplayEnum {
                de: self,
                end: None,
            }),
            Some(&Token::Map { len: 1, end }) => {
                self.pos += 1;
                visitor.visit_enum(ReplayEnum {
                    de: self,
                    end: Some(end),
                })
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.pos = skip_value(self.tokens, self.pos);
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

impl Replay<'_, '_> {
    /// After a visitor read an array or object: its end must be next (as
    /// serde_json, a visitor that leaves elements unread is an error).
    fn finish(&mut self, end: usize) -> Result<(), serde_json::Error> {
        if self.pos + 1 == end && matches!(self.tokens.get(self.pos), Some(Token::End)) {
            self.pos = end;
            Ok(())
        } else {
            Err(de::Error::custom("trailing characters"))
        }
    }
}

struct ReplaySeq<'r, 't, 'de> {
    de: &'r mut Replay<'t, 'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for ReplaySeq<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

struct ReplayMap<'r, 't, 'de> {
    de: &'r mut Replay<'t, 'de>,
    left: usize,
}

impl<'de> MapAccess<'de> for ReplayMap<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An enum value: a string (unit variant) or an object of one member
/// (`end`: the index past it).
struct ReplayEnum<'r, 't, 'de> {
    de: &'r mut Replay<'t, 'de>,
    end: Option<usize>,
}

impl<'de> de::EnumAccess<'de> for ReplayEnum<'_, '_, 'de> {
    type Error = serde_json::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), Self::Error> {
        let v = seed.deserialize(&mut *self.de)?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for ReplayEnum<'_, '_, 'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        match self.end {
            None => Ok(()),
            Some(end) => {
                de::IgnoredAny::deserialize(&mut *self.de)?;
                self.de.finish(end)
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        let Some(end) = self.end else {
            return Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"newtype variant",
            ));
        };
        let v = seed.deserialize(&mut *self.de)?;
        self.de.finish(end)?;
        Ok(v)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.newtype_variant_seed(VisitorSeed(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.newtype_variant_seed(VisitorSeed(visitor))
    }
}

/// A visitor as a seed (for the payload of tuple and struct variants).
struct VisitorSeed<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for VisitorSeed<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_any(self.0)
    }
}

/// The JSON path (`[2].b`) of the innermost value read when `upto` tokens
/// of `tokens` (one recorded value) were consumed: for decode errors in a
/// value read aside.
fn token_path(tokens: &[Token<'_>], upto: usize) -> String {
    enum Frame<'t> {
        Object {
            key: Option<&'t str>,
            want_key: bool,
        },
        Array(usize),
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    for token in &tokens[..upto.min(tokens.len())] {
        match stack.last_mut() {
            Some(Frame::Object { key, want_key }) if *want_key => {
                if let Token::Str(k) = token {
                    *key = Some(k);
                    *want_key = false;
                    continue;
                }
            }
            Some(Frame::Object { want_key, .. }) => *want_key = !matches!(token, Token::End),
            Some(Frame::Array(n)) if !matches!(token, Token::End) => *n += 1,
            _ => {}
        }
        match token {
            Token::Seq { .. } => stack.push(Frame::Array(0)),
            Token::Map { .. } => stack.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            Token::End => {
                stack.pop();
            }
            _ => {}
        }
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                path.push('.');
                path.push_str(k);
            }
            Frame::Object { key: None, .. } | Frame::Array(0) => {}
            Frame::Array(n) => path.push_str(&format!("[{}]", n - 1)),
        }
    }
    path
}

/// Replays the value recorded at `tokens[start..]` with `seed`; errors
/// name the member `name` and the path inside its value.
fn replay<'de, S: DeserializeSeed<'de>, E: de::Error>(
    tokens: &[Token<'de>],
    start: usize,
    seed: S,
    name: &str,
) -> Result<S::Value, E> {
    let mut de = Replay { tokens, pos: start };
    seed.deserialize(&mut de).map_err(|e| {
        let inner = token_path(&tokens[start..], de.pos - start);
        E::custom(format_args!("in member `{name}{inner}`: {e}"))
    })
}

/// A member value kept aside while the member that says how to read it
/// (a union's discriminator, an envelope's name) has not come yet: what the
/// deserializer read, replayed later into the right type. Strings stay
/// borrowed from the input when the deserializer lends them, so the text
/// is parsed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Buffered<'de> {
    tokens: Vec<Token<'de>>,
}

impl<'de> Buffered<'de> {
    /// Reads the kept value with `seed`; errors name the member.
    fn into_seed<S: DeserializeSeed<'de>, E: de::Error>(
        self,
        seed: S,
        name: &str,
    ) -> Result<S::Value, E> {
        replay(&self.tokens, 0, seed, name)
    }
}

/// Reads a [`Buffered`] value.
struct BufferSeed;

impl<'de> DeserializeSeed<'de> for BufferSeed {
    type Value = Buffered<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Buffered<'de>, D::Error> {
        let mut tokens = Vec::new();
        Record(&mut tokens).deserialize(deserializer)?;
        Ok(Buffered { tokens })
    }
}

/// Reads a flat union's object up to its discriminator: the members of the
/// base go to `base` (a closure that reads the member named by its first
/// argument into the union's fields and says whether it was one), the
/// others are kept aside (recorded, see [`Buffered`]). Returns the
/// discriminator value (`None` when the object has none) and the rest of
/// the object, to read the branch from.
#[allow(clippy::type_complexity)]
pub fn union_members<'a, 'de, A, F>(
    map: &'a mut A,
    tag: &'static str,
    base: &'a mut F,
) -> Result<(Option<Key<'de>>, UnionRest<'a, 'de, A, F>), A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    // The members kept aside: name (a string token), value tokens, name...
    let mut early = Vec::new();
    let mut value = None;
    while let Some(key) = map.next_key::<Key<'de>>()? {
        if key.as_str() == tag {
            value = Some(map.next_value::<Key<'de>>()?);
            break;
        }
        if !base(key.as_str(), map)? {
            if early.is_empty() {
                // Room for a typical member list without regrowing.
                early.reserve(32);
            }
            early.push(Token::Str(key.0));
            map.next_value_seed(Record(&mut early))?;
        }
    }
    Ok((
        value,
        UnionRest {
            map,
            early,
            pos: 0,
            pending: None,
            base,
            tag,
        },
    ))
}

/// The discriminator value, or the error that it is missing.
#[inline]
pub fn union_tag<'de, E: de::Error>(
    value: Option<Key<'de>>,
    tag: &'static str,
) -> Result<Key<'de>, E> {
    value.ok_or_else(|| E::missing_field(tag))
}

/// The members of a flat union's object after its discriminator, for its
/// branch: those kept aside before the discriminator first, then the rest
/// of the object as it comes. Members of the base still go to the base; a
/// second discriminator is an error. A [`MapAccess`], so any object type
/// reads its members from it.
pub struct UnionRest<'a, 'de, A, F> {
    map: &'a mut A,
    /// The members kept aside (see [`union_members`]).
    early: Vec<Token<'de>>,
    /// The next member name in `early`.
    pos: usize,
    /// The index in `early` of the name of the member whose value is next.
    pending: Option<usize>,
    base: &'a mut F,
    tag: &'static str,
}

impl<'de, A, F> MapAccess<'de> for UnionRest<'_, 'de, A, F>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some(Token::Str(key)) = self.early.get(self.pos) {
            let at = self.pos;
            self.pending = Some(at);
            self.pos = skip_value(&self.early, at + 1);
            return match key {
                Cow::Borrowed(s) => seed.deserialize(de::value::BorrowedStrDeserializer::new(s)),
                Cow::Owned(s) => seed.deserialize(de::value::StrDeserializer::new(s)),
            }
            .map(Some);
        }
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            if key.as_str() == self.tag {
                return Err(de::Error::duplicate_field(self.tag));
            }
            if !(self.base)(key.as_str(), self.map)? {
                return key.into_seed(seed).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(at) => {
                let name = match &self.early[at] {
                    Token::Str(name) => name,
                    _ => "",
                };
                replay(&self.early, at + 1, seed, name)
            }
            None => self.map.next_value_seed(seed),
        }
    }
}

impl<'de, A, F> UnionRest<'_, 'de, A, F>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    /// Reads the branch: an object type (or a box of one) from the rest of
    /// the members.
    #[inline]
    pub fn branch<T: Deserialize<'de>>(self) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(self))
    }

    /// A branch without members: reads the rest, ignoring what the base does
    /// not take.
    pub fn no_branch(mut self) -> Result<(), A::Error> {
        while self.next_key::<IgnoredAny>()?.is_some() {
            self.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    /// A branch of a legacy simple union: the value of member `data`.
    pub fn data<T: Deserialize<'de>>(mut self) -> Result<T, A::Error> {
        let mut data = None;
        while let Some(key) = self.next_key::<Key<'de>>()? {
            if key.as_str() == "data" {
                set(&mut data, &mut self, "data")?;
            } else {
                self.next_value::<IgnoredAny>()?;
            }
        }
        required(data, "data")
    }

    /// A discriminator value the bindings do not know: the rest of the
    /// members, kept verbatim.
    pub fn into_rest(mut self) -> Result<Map<String, Value>, A::Error> {
        let mut rest = Map::new();
        while let Some(key) = self.next_key::<Key<'de>>()? {
            let value = self.next_value()?;
            rest.insert(key.into_owned(), value);
        }
        Ok(rest)
    }
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

impl<'de, E: Envelope> Deserialize<'de> for EventMessage<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (event, timestamp) = deserialize_envelope(deserializer, true)?;
        match timestamp {
            Some(timestamp) => Ok(Self { event, timestamp }),
            None => Err(de::Error::missing_field("timestamp")),
        }
    }
}

/// Implemented by the generated enums over a name and its payload: the
/// `Event` enums (`{"event": NAME, "data": {...}}`, by [`impl_events!`])
/// and the `Request` enums (`{"execute": NAME, "arguments": {...}}`, by
/// [`impl_requests!`]): decoding the payload once the name is known.
pub trait Envelope: Sized {
    /// The member that holds the name: `event`, `execute`.
    const NAME_MEMBER: &'static str;
    /// The member that holds the payload: `data`, `arguments`.
    const PAYLOAD_MEMBER: &'static str;

    /// Reads the payload of `name`.
    fn from_payload<'de, D: Deserializer<'de>>(name: &str, payload: D) -> Result<Self, D::Error>;

    /// `name` without a payload member.
    fn without_payload<E: de::Error>(name: &str) -> Result<Self, E>;
}

/// Reads the payload with the type the name says.
struct PayloadSeed<'n, E>(&'n str, PhantomData<E>);

impl<'de, E: Envelope> DeserializeSeed<'de> for PayloadSeed<'_, E> {
    type Value = E;
    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<E, D::Error> {
        E::from_payload(self.0, deserializer)
    }
}

/// `Deserialize` of an [`Envelope`] (and, with `with_timestamp`, of an
/// event's `timestamp`); other members are ignored. The payload is read as
/// it comes when the name precedes it (as QEMU sends events), or read aside
/// until the name is known.
pub fn deserialize_envelope<'de, D: Deserializer<'de>, E: Envelope>(
    deserializer: D,
    with_timestamp: bool,
) -> Result<(E, Option<Timestamp>), D::Error> {
    struct EnvelopeVisitor<E>(bool, PhantomData<E>);
    impl<'de, E: Envelope> Visitor<'de> for EnvelopeVisitor<E> {
        type Value = (E, Option<Timestamp>);
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "an object with a member `{}`", E::NAME_MEMBER)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut name: Option<Key<'de>> = None;
            let mut value = None;
            let mut early = None;
            let mut timestamp = None;
            while let Some(key) = map.next_key::<Key<'de>>()? {
                let key = key.as_str();
                if key == E::NAME_MEMBER {
                    set(&mut name, &mut map, E::NAME_MEMBER)?;
                } else if key == E::PAYLOAD_MEMBER {
                    if value.is_some() || early.is_some() {
                        return Err(de::Error::duplicate_field(E::PAYLOAD_MEMBER));
                    }
                    match &name {
                        Some(n) => {
                            value =
                                Some(map.next_value_seed(PayloadSeed(n.as_str(), PhantomData))?);
                        }
                        None => early = Some(map.next_value_seed(BufferSeed)?),
                    }
                } else if self.0 && key == "timestamp" {
                    set(&mut timestamp, &mut map, "timestamp")?;
                } else {
                    skip(&mut map)?;
                }
            }
            let name = required(name, E::NAME_MEMBER)?;
            let value = match (value, early) {
                (Some(value), _) => value,
                (None, Some(payload)) => {
                    payload.into_seed(PayloadSeed(name.as_str(), PhantomData), E::PAYLOAD_MEMBER)?
                }
                (None, None) => E::without_payload(name.as_str())?,
            };
            Ok((value, timestamp))
        }
    }
    deserializer.deserialize_map(EnvelopeVisitor(with_timestamp, PhantomData))
}

/// An empty object, for the payload of an [`Envelope`] that comes without
/// one.
pub fn no_payload<'de, E: de::Error>() -> impl Deserializer<'de, Error = E> {
    de::value::MapDeserializer::new(std::iter::empty::<(&'static str, ())>())
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
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_object(deserializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
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
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_enum(deserializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
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
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$inner as $crate::runtime::serde::Deserialize<'de>>::deserialize(deserializer)
                    .map(Self)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (unit $t:ident, $schema:path) => {
        impl $crate::runtime::ToJson for $t {
            #[inline]
            fn to_json(&self) -> $crate::runtime::Value {
                $crate::runtime::Value::Object($crate::runtime::Map::new())
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            #[inline]
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_unit_object(deserializer).map(|()| Self)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (custom $t:ident, $schema:path) => {
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_from_value(deserializer)
            }
        }
        $crate::runtime::impl_json!(@common $t, $schema);
    };
    (@common $t:ident, $schema:path) => {
        impl $crate::runtime::serde::Serialize for $t {
            fn serialize<S: $crate::runtime::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::runtime::serialize_json(self, serializer)
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
/// Implements the wire traits of a generated type: [`ToJson`], `serde`'s
/// `Serialize` (through it) and `Deserialize` (straight from the
/// deserializer; [`FromJson`] follows from it) and `schemars`'
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
/// * `custom T`: a type with hand-written [`ToJson`]/[`FromValue`]
///   (decoded through a [`Value`]).
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
        #[allow(deprecated, unused_variables, unused_mut, clippy::disallowed_names)]
        impl $crate::runtime::ObjectType for $t {
            #[inline]
            fn visit_members<'de, A: $crate::runtime::serde::de::MapAccess<'de>>(
                mut map: A,
            ) -> ::core::result::Result<Self, A::Error> {
                $($(#[$attr])* let mut $field = ::core::option::Option::None;)*
                $(let mut $rest = $crate::runtime::Map::new();)?
                while let ::core::option::Option::Some(key) =
                    map.next_key::<$crate::runtime::Key<'de>>()?
                {
                    match key.as_str() {
                        $($(#[$attr])* $wire => $crate::runtime::set(&mut $field, &mut map, $wire),)*
                        _ => $crate::runtime::impl_object!(@unknown [$($rest)?] key map),
                    }?;
                }
                let mut missing = ::core::option::Option::None;
                $($(#[$attr])* $crate::runtime::impl_object!(@check $kind missing $field $wire);)*
                if let ::core::option::Option::Some(name) = missing {
                    return ::core::result::Result::Err(
                        <A::Error as $crate::runtime::serde::de::Error>::missing_field(name),
                    );
                }
                ::core::result::Result::Ok(Self {
                    $($(#[$attr])* $field: $crate::runtime::impl_object!(@finish $kind $field),)*
                    $($rest,)?
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
    (@unknown [] $key:ident $map:ident) => {
        $crate::runtime::skip(&mut $map)
    };
    (@unknown [$rest:ident] $key:ident $map:ident) => {
        $crate::runtime::keep(&mut $rest, $key, &mut $map)
    };
    (@check required $missing:ident $field:ident $wire:literal) => {
        $crate::runtime::note_missing(&mut $missing, $field.is_none(), $wire)
    };
    (@check optional $missing:ident $field:ident $wire:literal) => {};
    (@finish required $field:ident) => {
        $crate::runtime::present($field)
    };
    (@finish optional $field:ident) => {
        $field
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
            ///
            /// # Errors
            ///
            /// When the value does not have the command's return type (the
            /// error names the JSON path of the offending value).
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
        impl $crate::runtime::Envelope for $req {
            const NAME_MEMBER: &'static str = "execute";
            const PAYLOAD_MEMBER: &'static str = "arguments";
            fn from_payload<'de, D: $crate::runtime::serde::Deserializer<'de>>(
                name: &str,
                arguments: D,
            ) -> ::core::result::Result<Self, D::Error> {
                ::core::result::Result::Ok(match name {
                    $($(#[$a])* <$v as $crate::runtime::Command>::NAME => Self::$v(
                        <$v as $crate::runtime::serde::Deserialize<'de>>::deserialize(arguments)?,
                    ),)*
                    $($(#[$na])* <$nv as $crate::runtime::Command>::NAME => Self::$nv(
                        <$nv as $crate::runtime::serde::Deserialize<'de>>::deserialize(arguments)?,
                    ),)*
                    _ => Self::Unknown {
                        execute: ::std::borrow::ToOwned::to_owned(name),
                        arguments: ::core::option::Option::Some(
                            <$crate::runtime::Value as $crate::runtime::serde::Deserialize<'de>>::deserialize(arguments)?,
                        ),
                    },
                })
            }
            #[allow(unreachable_patterns)]
            fn without_payload<E: $crate::runtime::serde::de::Error>(
                name: &str,
            ) -> ::core::result::Result<Self, E> {
                ::core::result::Result::Ok(
                    match <Self as $crate::runtime::Envelope>::from_payload(name, $crate::runtime::no_payload::<E>())? {
                        Self::Unknown { execute, .. } => Self::Unknown {
                            execute,
                            arguments: ::core::option::Option::None,
                        },
                        request => request,
                    },
                )
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $req {
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_envelope(deserializer, false).map(|(request, _)| request)
            }
        }
        $crate::runtime::impl_json!(@common $req, $schema);
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
/// [`ToJson`]/[`Envelope`] in the wire form `{"execute": NAME, "arguments":
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
        impl $crate::runtime::Envelope for $event {
            const NAME_MEMBER: &'static str = "event";
            const PAYLOAD_MEMBER: &'static str = "data";
            fn from_payload<'de, D: $crate::runtime::serde::Deserializer<'de>>(
                name: &str,
                data: D,
            ) -> ::core::result::Result<Self, D::Error> {
                ::core::result::Result::Ok(match name {
                    $($(#[$a])* $t::NAME => Self::$v(
                        <$t as $crate::runtime::serde::Deserialize<'de>>::deserialize(data)?,
                    ),)*
                    $($(#[$na])* $nt::NAME => Self::$nv(
                        <$nt as $crate::runtime::serde::Deserialize<'de>>::deserialize(data)?,
                    ),)*
                    _ => Self::Unknown {
                        name: ::std::borrow::ToOwned::to_owned(name),
                        data: <$crate::runtime::Value as $crate::runtime::serde::Deserialize<'de>>::deserialize(data)?,
                    },
                })
            }
            #[allow(unreachable_patterns)]
            fn without_payload<E: $crate::runtime::serde::de::Error>(
                name: &str,
            ) -> ::core::result::Result<Self, E> {
                ::core::result::Result::Ok(
                    match <Self as $crate::runtime::Envelope>::from_payload(name, $crate::runtime::no_payload::<E>())? {
                        Self::Unknown { name, .. } => Self::Unknown {
                            name,
                            data: $crate::runtime::Value::Null,
                        },
                        event => event,
                    },
                )
            }
        }
        impl<'de> $crate::runtime::serde::Deserialize<'de> for $event {
            fn deserialize<D: $crate::runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::runtime::deserialize_envelope(deserializer, false).map(|(event, _)| event)
            }
        }
        $crate::runtime::impl_json!(@common $event, $schema);
        $crate::__qmp_impl_from!($event { $($(#[$a])* $v($t),)* $($(#[$na])* $nv($nt),)* });
    };
}
/// Implements the behaviour of a generated `Event` enum from the table of
/// events: `name` (also as [`EventKind`]), [`ToJson`]/[`Envelope`] in the
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

#[cfg(test)]
mod tests {
    //! The decoding helpers on small hand-made types shaped like generated
    //! ones (the generated bindings are tested on real replies elsewhere).

    use super::*;
    use serde_json::json;

    static SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Null);

    #[derive(Debug, Clone, PartialEq)]
    pub struct Member {
        pub name: String,
        pub default: Option<Value>,
    }
    crate::runtime::impl_object!(Member { required name = "name", optional default = "default" }, SCHEMA);

    #[derive(Debug, Clone, PartialEq)]
    pub struct Open {
        pub driver: String,
        pub extra: Map<String, Value>,
    }
    crate::runtime::impl_object!(Open { required driver = "driver", ..extra }, SCHEMA);

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Meta {
        Object,
        Command,
        Builtin,
        Unknown(String),
    }
    crate::runtime::impl_enum!(Meta(Unknown) { Object = "object", Command = "command", Builtin = "builtin" }, SCHEMA);

    #[derive(Debug, Clone, PartialEq)]
    pub struct ObjectBranch {
        pub members: Vec<Member>,
        pub tag: Option<String>,
    }
    crate::runtime::impl_object!(ObjectBranch { required members = "members", optional tag = "tag" }, SCHEMA);

    #[derive(Debug, Clone, PartialEq)]
    pub struct CommandBranch {
        pub arg_type: String,
        pub ret_type: String,
    }
    crate::runtime::impl_object!(CommandBranch { required arg_type = "arg-type", required ret_type = "ret-type" }, SCHEMA);

    /// A flat union as the generator writes it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Info {
        pub name: String,
        pub features: Option<Vec<String>>,
        pub meta_type: InfoMetaType,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub enum InfoMetaType {
        Object(ObjectBranch),
        Command(Box<CommandBranch>),
        Builtin,
        Unknown {
            value: String,
            members: Map<String, Value>,
        },
    }

    impl ObjectType for Info {
        fn visit_members<'de, A: MapAccess<'de>>(mut __qmp_map: A) -> Result<Self, A::Error> {
            let mut name = None;
            let mut features = None;
            let mut __qmp_base = |__qmp_key: &str, __qmp_map: &mut A| -> Result<bool, A::Error> {
                Ok(match __qmp_key {
                    "name" => {
                        set(&mut name, __qmp_map, "name")?;
                        true
                    }
                    "features" => {
                        set(&mut features, __qmp_map, "features")?;
                        true
                    }
                    _ => false,
                })
            };
            let (__qmp_tag, __qmp_rest) =
                union_members(&mut __qmp_map, "meta-type", &mut __qmp_base)?;
            let __qmp_tag = union_tag(__qmp_tag, "meta-type")?;
            let __qmp_branch = match __qmp_tag.as_str() {
                "object" => InfoMetaType::Object(__qmp_rest.branch()?),
                "command" => InfoMetaType::Command(__qmp_rest.branch()?),
                "builtin" => {
                    __qmp_rest.no_branch()?;
                    InfoMetaType::Builtin
                }
                _ => InfoMetaType::Unknown {
                    members: __qmp_rest.into_rest()?,
                    value: __qmp_tag.into_owned(),
                },
            };
            Ok(Self {
                name: required(name, "name")?,
                features,
                meta_type: __qmp_branch,
            })
        }
        fn to_members(&self, _: &mut Map<String, Value>) {}
    }
    crate::runtime::impl_json!(object Info, SCHEMA);

    #[derive(Debug, Clone, PartialEq)]
    pub struct Shutdown {
        pub guest: bool,
    }
    crate::runtime::impl_object!(Shutdown { required guest = "guest" }, SCHEMA);
    impl Shutdown {
        pub const NAME: &'static str = "SHUTDOWN";
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Stop;
    crate::runtime::impl_json!(unit Stop, SCHEMA);
    impl Stop {
        pub const NAME: &'static str = "STOP";
    }

    #[derive(Debug, Clone, PartialEq)]
    pub enum Event {
        Shutdown(Shutdown),
        Stop(Stop),
        Unknown { name: String, data: Value },
    }
    crate::runtime::impl_events!(Event { data = [Shutdown(Shutdown)], no_data = [Stop(Stop)] }, SCHEMA);

    /// Decodes from text (as a transport does) and from a `Value`; both
    /// must agree.
    fn both<T: DeserializeOwned + std::fmt::Debug + PartialEq>(v: Value) -> Result<T, String> {
        let text = serde_json::to_string(&v).unwrap();
        let a = serde_json::from_str::<T>(&text).map_err(|e| e.to_string());
        let b = T::from_json(v).map_err(|e| e.to_string());
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b);
                Ok(a)
            }
            (Err(a), Err(_)) => Err(a),
            (a, b) => panic!("text and value decodes disagree: {a:?} / {b:?}"),
        }
    }

    #[test]
    fn unknown_members_are_ignored() {
        let m: Member = both(json!({"name": "a", "new": [1, {"x": 2}], "default": 3})).unwrap();
        assert_eq!(
            m,
            Member {
                name: "a".into(),
                default: Some(json!(3))
            }
        );
    }

    #[test]
    fn rest_map_keeps_unknown_members() {
        let o: Open = both(json!({"a": 1, "driver": "file", "b": {"c": [true]}})).unwrap();
        assert_eq!(o.driver, "file");
        assert_eq!(Value::Object(o.extra), json!({"a": 1, "b": {"c": [true]}}));
    }

    #[test]
    fn missing_and_duplicate_members_are_errors() {
        let e = both::<Member>(json!({"default": 1})).unwrap_err();
        assert!(e.contains("missing field `name`"), "{e}");
        let e = serde_json::from_str::<Member>(r#"{"name": "a", "name": "b"}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate field `name`"), "{e}");
        let e = both::<Member>(json!(["name"])).unwrap_err();
        assert!(e.contains("expected an object (Member)"), "{e}");
    }

    #[test]
    fn member_errors_have_a_path() {
        let e = Vec::<Member>::from_json(json!([{"name": "a"}, {"name": 5}])).unwrap_err();
        assert_eq!(e.path, "[1].name");
        assert!(e.message.contains("expected a string"), "{e}");
    }

    #[test]
    fn enums_keep_unknown_values() {
        assert_eq!(both::<Meta>(json!("command")), Ok(Meta::Command));
        assert_eq!(
            both::<Meta>(json!("newer")),
            Ok(Meta::Unknown("newer".into()))
        );
        assert!(both::<Meta>(json!(1)).is_err());
        assert_eq!(Meta::ALL.len(), 3);
    }

    #[test]
    fn union_with_the_discriminator_after_branch_members() {
        let v = json!({
            "name": "Foo",
            "members": [{"name": "a", "default": null}],
            "features": ["deprecated"],
            "meta-type": "object",
            "tag": "a",
            "unknown": {"x": 1}
        });
        let text = serde_json::to_string(&v).unwrap();
        // Keys in this order (`json!` sorts them): check the text does put
        // `members` first.
        assert!(text.find("members") < text.find("meta-type"));
        let i: Info = both(v).unwrap();
        assert_eq!(i.name, "Foo");
        assert_eq!(i.features, Some(vec!["deprecated".to_owned()]));
        assert_eq!(
            i.meta_type,
            InfoMetaType::Object(ObjectBranch {
                members: vec![Member {
                    name: "a".into(),
                    default: Some(Value::Null)
                }],
                tag: Some("a".into()),
            })
        );
        // Base members after the discriminator still go to the base.
        let i: Info = serde_json::from_str(
            r#"{"ret-type": "1", "meta-type": "command", "name": "q", "arg-type": "0"}"#,
        )
        .unwrap();
        assert_eq!(i.name, "q");
        assert_eq!(
            i.meta_type,
            InfoMetaType::Command(Box::new(CommandBranch {
                arg_type: "0".into(),
                ret_type: "1".into()
            }))
        );
        let i: Info =
            both(json!({"name": "int", "meta-type": "builtin", "json-type": "int"})).unwrap();
        assert_eq!(i.meta_type, InfoMetaType::Builtin);
    }

    #[test]
    fn union_errors() {
        let e = both::<Info>(json!({"name": "x"})).unwrap_err();
        assert!(e.contains("missing field `meta-type`"), "{e}");
        let e = both::<Info>(json!({"meta-type": "builtin"})).unwrap_err();
        assert!(e.contains("missing field `name`"), "{e}");
        // A member kept aside before the discriminator is named.
        let e = both::<Info>(
            json!({"name": "c", "arg-type": 1, "meta-type": "command", "ret-type": "r"}),
        )
        .unwrap_err();
        assert!(e.contains("arg-type"), "{e}");
        let e = serde_json::from_str::<Info>(
            r#"{"name": "c", "meta-type": "builtin", "meta-type": "object"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("duplicate field `meta-type`"), "{e}");
        // Read live after the discriminator: the path is known.
        let text = r#"{"meta-type": "object", "name": "o", "members": [{"name": 1}]}"#;
        let e = serde_path_to_error::deserialize::<_, Info>(
            &mut serde_json::Deserializer::from_str(text),
        )
        .unwrap_err();
        assert_eq!(e.path().to_string(), "members[0].name");
        // Kept aside before it: the path is the union's, the message names
        // the member.
        let text = r#"{"members": [{"name": 1}], "meta-type": "object", "name": "o"}"#;
        let e = serde_path_to_error::deserialize::<_, Info>(
            &mut serde_json::Deserializer::from_str(text),
        )
        .unwrap_err();
        assert_eq!(e.path().to_string(), ".");
        assert!(
            e.to_string()
                .contains("in member `members[0].name`: invalid type: integer `1`"),
            "{e}"
        );
    }

    #[test]
    fn union_with_an_unknown_discriminator_keeps_its_members() {
        let i: Info =
            both(json!({"name": "n", "extra": [1], "meta-type": "module", "file": "f"})).unwrap();
        assert_eq!(i.name, "n");
        match i.meta_type {
            InfoMetaType::Unknown { value, members } => {
                assert_eq!(value, "module");
                assert_eq!(Value::Object(members), json!({"extra": [1], "file": "f"}));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn events() {
        let e: Event = both(json!({"event": "SHUTDOWN", "data": {"guest": true}, "timestamp": {"seconds": 1, "microseconds": 2}})).unwrap();
        assert_eq!(e, Event::Shutdown(Shutdown { guest: true }));
        // `data` before `event`.
        let e: Event =
            serde_json::from_str(r#"{"data": {"guest": false}, "event": "SHUTDOWN"}"#).unwrap();
        assert_eq!(e, Event::Shutdown(Shutdown { guest: false }));
        let e: Event = both(json!({"event": "STOP"})).unwrap();
        assert_eq!(e, Event::Stop(Stop));
        let e: Event = both(json!({"event": "NEW"})).unwrap();
        assert_eq!(
            e,
            Event::Unknown {
                name: "NEW".into(),
                data: Value::Null
            }
        );
        let e: Event = both(json!({"event": "NEW", "data": {"a": 1}})).unwrap();
        assert_eq!(
            e,
            Event::Unknown {
                name: "NEW".into(),
                data: json!({"a": 1})
            }
        );
        let e = both::<Event>(json!({"event": "SHUTDOWN"})).unwrap_err();
        assert!(e.contains("missing field `guest`"), "{e}");
        let text = r#"{"event": "SHUTDOWN", "data": {"guest": 1}, "timestamp": {"seconds": 1, "microseconds": 2}}"#;
        let e = serde_path_to_error::deserialize::<_, EventMessage<Event>>(
            &mut serde_json::Deserializer::from_str(text),
        )
        .unwrap_err();
        assert_eq!(e.path().to_string(), "data.guest");
        let m: EventMessage<Event> =
            both(json!({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"})).unwrap();
        assert_eq!(
            m.timestamp,
            Timestamp {
                seconds: 1,
                microseconds: 2
            }
        );
        let e = both::<EventMessage<Event>>(json!({"event": "STOP"})).unwrap_err();
        assert!(e.contains("missing field `timestamp`"), "{e}");
    }

    #[test]
    fn token_paths() {
        let text = r#"[{"a": 1, "b": [true, {"c\"": "x,}"}]}, 3]"#;
        let b = BufferSeed
            .deserialize(&mut serde_json::Deserializer::from_str(text))
            .unwrap();
        let t = &b.tokens;
        let at = |want: &Token<'_>| token_path(t, t.iter().position(|x| x == want).unwrap() + 1);
        assert_eq!(at(&Token::U64(1)), "[0].a");
        assert_eq!(at(&Token::Bool(true)), "[0].b[0]");
        assert_eq!(at(&Token::Str("x,}".into())), r#"[0].b[1].c""#);
        assert_eq!(at(&Token::U64(3)), "[1]");
        // Just past the end of an object: the element it is.
        let end = t.iter().position(|x| x == &Token::End).unwrap();
        assert_eq!(token_path(t, end + 1), "[0].b[1]");
    }

    #[test]
    fn buffered_values_replay_as_read() {
        let v = json!({"a": [1, "x", -2, 1.5, null, {"b": false}], "c\"d": {}, "e": []});
        let text = serde_json::to_string(&v).unwrap();
        // From text: strings without escapes stay borrowed.
        let b = BufferSeed
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .unwrap();
        assert!(b.tokens.contains(&Token::Str(Cow::Borrowed("x"))));
        let back: Value = b
            .into_seed::<_, serde_json::Error>(PhantomData, "m")
            .unwrap();
        assert_eq!(back, v);
        // From a `Value`.
        let b = BufferSeed.deserialize(v.clone()).unwrap();
        let back: Value = b
            .into_seed::<_, serde_json::Error>(PhantomData, "m")
            .unwrap();
        assert_eq!(back, v);
        // Typed, with the path inside the member on failure.
        let b = BufferSeed
            .deserialize(json!([{"name": "a"}, {"name": 2}]))
            .unwrap();
        let e = b
            .into_seed::<_, serde_json::Error>(PhantomData::<Vec<Member>>, "m")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("in member `m[1].name`: invalid type: integer `2`"),
            "{e}"
        );
        // Enums and options.
        #[derive(Debug, PartialEq, Deserialize)]
        enum E {
            A,
            B(u8),
        }
        let b = BufferSeed
            .deserialize(json!(["A", {"B": 3}, null]))
            .unwrap();
        let back: (E, E, Option<u8>) = b
            .into_seed::<_, serde_json::Error>(PhantomData, "m")
            .unwrap();
        assert_eq!(back, (E::A, E::B(3), None));
    }
}
